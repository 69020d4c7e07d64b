//! The module's SQL: projects, forms, collectors, submissions and their files.

use sqlx::AnyPool;

use crate::error::{AppError, AppResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub department_id: String,
    pub created_by: String,
    pub created_at: i64,
    /// The region of the project's department.
    pub region_code: String,
}

const PROJECT_SELECT: &str = "SELECT collect_projects.id, collect_projects.name, \
     collect_projects.department_id, collect_projects.created_by, collect_projects.created_at, \
     departments.region_code FROM collect_projects \
     JOIN departments ON departments.id = collect_projects.department_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormRow {
    pub project_id: i64,
    pub xml_form_id: String,
    pub version: String,
    pub title: String,
    pub definition: String,
    pub xform: String,
    pub hash: String,
    pub state: String,
    pub due_day: Option<String>,
    /// The grassroots units the form is sent to (a JSON array of region codes); none: every
    /// unit of the project's region.
    pub target_regions: Option<String>,
    /// The first day of collection; none: from approval.
    pub opens_day: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Collector {
    pub id: i64,
    pub project_id: i64,
    pub kind: String,
    pub display_name: String,
    pub account_id: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// The grassroots unit an app user collects for.
    pub region_code: Option<String>,
    /// The staff account that carries an app user's device.
    pub holder_id: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionRow {
    pub project_id: i64,
    pub xml_form_id: String,
    pub instance_id: String,
    pub submitter_id: i64,
    pub device_id: Option<String>,
    pub version: String,
    pub xml_hash: String,
    pub xml_sealed: Vec<u8>,
    pub created_at: i64,
    /// The grassroots unit it was collected for (its app user's, when sent).
    pub region_code: Option<String>,
    /// ODK's review state: none (received), `approved`, `hasIssues` or `rejected`.
    pub review_state: Option<String>,
}

const FORM_COLUMNS: &str = "project_id, xml_form_id, version, title, definition, xform, hash, \
     state, due_day, target_regions, opens_day, created_by, created_at, decided_by, decided_at, \
     decision_note";

const SUBMISSION_COLUMNS: &str = "project_id, xml_form_id, instance_id, submitter_id, device_id, \
     version, xml_hash, xml_sealed, created_at, region_code, review_state";

const COLLECTOR_COLUMNS: &str = "id, project_id, kind, display_name, account_id, created_at, revoked_at, region_code, \
     holder_id";

pub async fn projects(db: &AnyPool) -> AppResult<Vec<Project>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PROJECT_SELECT} ORDER BY collect_projects.id"
    )))
    .fetch_all(db)
    .await?)
}

pub async fn project(db: &AnyPool, id: i64) -> AppResult<Option<Project>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PROJECT_SELECT} WHERE collect_projects.id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Whether an insert lost to another with the same key.
fn is_duplicate(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Adds a project with the next free id.
pub async fn add_project(
    db: &AnyPool,
    name: &str,
    department_id: &str,
    by: &str,
    at: i64,
) -> AppResult<i64> {
    for _ in 0..3 {
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM collect_projects")
            .fetch_one(db)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO collect_projects (id, name, department_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(next)
        .bind(name.to_owned())
        .bind(department_id.to_owned())
        .bind(by.to_owned())
        .bind(at)
        .execute(db)
        .await;
        match inserted {
            Ok(_) => return Ok(next),
            Err(e) if is_duplicate(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Contention)
}

pub async fn forms(db: &AnyPool, project_id: i64) -> AppResult<Vec<FormRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FORM_COLUMNS} FROM collect_forms WHERE project_id = $1 ORDER BY created_at, xml_form_id"
    )))
    .bind(project_id)
    .fetch_all(db)
    .await?)
}

/// Every form in a state (the approving office's queue), oldest first.
pub async fn forms_in_state(db: &AnyPool, state: &str, limit: i64) -> AppResult<Vec<FormRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FORM_COLUMNS} FROM collect_forms WHERE state = $1 ORDER BY created_at LIMIT $2"
    )))
    .bind(state.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The approved forms of every project, for the overlap report.
pub async fn approved_definitions(
    db: &AnyPool,
    limit: i64,
) -> AppResult<Vec<(i64, String, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT project_id, xml_form_id, title, definition FROM collect_forms \
         WHERE state = 'approved' ORDER BY project_id, xml_form_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn form(db: &AnyPool, project_id: i64, xml_form_id: &str) -> AppResult<Option<FormRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FORM_COLUMNS} FROM collect_forms WHERE project_id = $1 AND xml_form_id = $2"
    )))
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// A form's state, XForm hash and target units, without its (large) definition.
pub async fn form_head(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
) -> AppResult<Option<(String, String, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT state, hash, target_regions FROM collect_forms WHERE project_id = $1 AND xml_form_id = $2",
    )
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// A form's definition (JSON).
pub async fn form_definition(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT definition FROM collect_forms WHERE project_id = $1 AND xml_form_id = $2",
    )
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Saves a form: a new one, or a new version of one not yet approved (a returned or pending
/// form replaced by its designer). An approved or closed form is never replaced.
pub async fn save_form(db: &AnyPool, form: &FormRow) -> AppResult<()> {
    crate::error::retrying(|| save_form_once(db, form)).await
}

async fn save_form_once(db: &AnyPool, form: &FormRow) -> AppResult<()> {
    let mut tx = db.begin().await?;
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT state FROM collect_forms WHERE project_id = $1 AND xml_form_id = $2",
    )
    .bind(form.project_id)
    .bind(form.xml_form_id.clone())
    .fetch_optional(&mut *tx)
    .await?;
    match existing.as_deref() {
        Some("approved" | "closed") => {
            return Err(AppError::Conflict(format!(
                "the form {} is already approved; give the new form another form_id",
                form.xml_form_id
            )));
        }
        Some(_) => {
            sqlx::query("DELETE FROM collect_forms WHERE project_id = $1 AND xml_form_id = $2")
                .bind(form.project_id)
                .bind(form.xml_form_id.clone())
                .execute(&mut *tx)
                .await?;
        }
        None => {}
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO collect_forms ({FORM_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
    )))
    .bind(form.project_id)
    .bind(form.xml_form_id.clone())
    .bind(form.version.clone())
    .bind(form.title.clone())
    .bind(form.definition.clone())
    .bind(form.xform.clone())
    .bind(form.hash.clone())
    .bind(form.state.clone())
    .bind(form.due_day.clone())
    .bind(form.target_regions.clone())
    .bind(form.opens_day.clone())
    .bind(form.created_by.clone())
    .bind(form.created_at)
    .bind(form.decided_by.clone())
    .bind(form.decided_at)
    .bind(form.decision_note.clone())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records the office's decision on a pending form; false when it is no longer pending.
pub async fn decide(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
    state: &str,
    by: &str,
    at: i64,
    note: &str,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE collect_forms SET state = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
         WHERE project_id = $5 AND xml_form_id = $6 AND state = 'pending'",
    )
    .bind(state.to_owned())
    .bind(by.to_owned())
    .bind(at)
    .bind(note.to_owned())
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets where and until when a form is collected.
pub async fn set_plan(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
    target_regions: Option<&str>,
    opens_day: Option<&str>,
    due_day: Option<&str>,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE collect_forms SET target_regions = $1, opens_day = $2, due_day = $3 \
         WHERE project_id = $4 AND xml_form_id = $5",
    )
    .bind(target_regions.map(str::to_owned))
    .bind(opens_day.map(str::to_owned))
    .bind(due_day.map(str::to_owned))
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A form's submissions counted by the unit they were collected for.
pub async fn counts_by_unit(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
) -> AppResult<Vec<(Option<String>, i64)>> {
    Ok(sqlx::query_as(
        "SELECT region_code, COUNT(*) FROM collect_submissions \
         WHERE project_id = $1 AND xml_form_id = $2 GROUP BY region_code ORDER BY region_code",
    )
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .fetch_all(db)
    .await?)
}

/// Every region's name by its code.
pub async fn region_names(db: &AnyPool) -> AppResult<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT code, name FROM regions ORDER BY code")
            .fetch_all(db)
            .await?,
    )
}

/// Every grassroots unit (township and village) the platform knows: (code, name).
pub async fn grassroots_units(db: &AnyPool) -> AppResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT code, name FROM regions WHERE level IN ('township', 'village') ORDER BY code",
    )
    .fetch_all(db)
    .await?)
}

/// A collector to add.
pub struct NewCollector<'a> {
    pub project_id: i64,
    /// `app_user` or `account`.
    pub kind: &'a str,
    pub display_name: &'a str,
    pub account_id: Option<&'a str>,
    pub token_hash: Option<&'a str>,
    pub region_code: Option<&'a str>,
    /// The staff account that carries the device.
    pub holder_id: Option<&'a str>,
    pub by: &'a str,
    pub at: i64,
}

/// Adds a collector with the next free id; for an account, the one it already has.
pub async fn add_collector(db: &AnyPool, new: &NewCollector<'_>) -> AppResult<i64> {
    let NewCollector {
        project_id,
        kind,
        display_name,
        account_id,
        token_hash,
        region_code,
        holder_id,
        by,
        at,
    } = *new;
    for _ in 0..3 {
        if let Some(account) = account_id
            && let Some(id) = sqlx::query_scalar::<_, i64>(
                "SELECT id FROM collect_actors WHERE project_id = $1 AND account_id = $2",
            )
            .bind(project_id)
            .bind(account.to_owned())
            .fetch_optional(db)
            .await?
        {
            return Ok(id);
        }
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM collect_actors")
            .fetch_one(db)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO collect_actors (id, project_id, kind, display_name, account_id, token_hash, created_by, created_at, region_code, holder_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(next)
        .bind(project_id)
        .bind(kind.to_owned())
        .bind(display_name.to_owned())
        .bind(account_id.map(str::to_owned))
        .bind(token_hash.map(str::to_owned))
        .bind(by.to_owned())
        .bind(at)
        .bind(region_code.map(str::to_owned))
        .bind(holder_id.map(str::to_owned))
        .execute(db)
        .await;
        match inserted {
            Ok(_) => return Ok(next),
            Err(e) if is_duplicate(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(AppError::Contention)
}

/// Withdraws an app user: its token stops working at once. False when there is no such app
/// user in the project, or it was withdrawn already.
pub async fn revoke_app_user(db: &AnyPool, project_id: i64, id: i64, at: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE collect_actors SET revoked_at = $1 \
         WHERE id = $2 AND project_id = $3 AND kind = 'app_user' AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(id)
    .bind(project_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The app user a token's digest belongs to, unless revoked.
pub async fn app_user_by_token(db: &AnyPool, token_hash: &str) -> AppResult<Option<Collector>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLLECTOR_COLUMNS} FROM collect_actors \
         WHERE token_hash = $1 AND kind = 'app_user' AND revoked_at IS NULL"
    )))
    .bind(token_hash.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The devices a staff account carries, in use.
pub async fn held_by(db: &AnyPool, account: &str) -> AppResult<Vec<Collector>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLLECTOR_COLUMNS} FROM collect_actors \
         WHERE holder_id = $1 AND kind = 'app_user' AND revoked_at IS NULL ORDER BY id"
    )))
    .bind(account.to_owned())
    .fetch_all(db)
    .await?)
}

pub async fn app_users(db: &AnyPool, project_id: i64) -> AppResult<Vec<Collector>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLLECTOR_COLUMNS} FROM collect_actors \
         WHERE project_id = $1 AND kind = 'app_user' ORDER BY id"
    )))
    .bind(project_id)
    .fetch_all(db)
    .await?)
}

pub async fn collector_names(db: &AnyPool, ids: &[i64]) -> AppResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, display_name FROM collect_actors WHERE id IN ({})",
        crate::db::in_list(1, ids.len())
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    Ok(query.fetch_all(db).await?)
}

pub async fn submission(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
    instance_id: &str,
) -> AppResult<Option<SubmissionRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUBMISSION_COLUMNS} FROM collect_submissions \
         WHERE project_id = $1 AND xml_form_id = $2 AND instance_id = $3"
    )))
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .bind(instance_id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// A submission to write, with its sealed files (name, content type, sealed bytes) and what
/// its answers add to the form's tallies.
pub struct NewSubmission {
    pub row: SubmissionRow,
    pub files: Vec<(String, String, Vec<u8>)>,
    pub tallies: Vec<Tally>,
    /// The entity it makes, written with it.
    pub entity: Option<crate::entities::store::EntityRow>,
}

/// What one submission adds to a form's tallies: one to a choice's count (`value` the
/// choice), or one answer and its number to a number question's count and sum (`value`
/// empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub field: String,
    pub value: String,
    pub count: i64,
    pub total: f64,
}

/// A form's tallies: (unit, field, value, count, sum), the unit empty for devices without one.
pub async fn tallies(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
) -> AppResult<Vec<(String, String, String, i64, f64)>> {
    Ok(sqlx::query_as(
        "SELECT region_code, field, value, count, total FROM collect_tallies \
         WHERE project_id = $1 AND xml_form_id = $2 ORDER BY region_code, field, value",
    )
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .fetch_all(db)
    .await?)
}

/// A tally's key: project, form, unit, field, value.
type TallyKey = (i64, String, String, String, String);

/// Adds the batch's tallies, summed per key and written in the keys' order (two nodes adding
/// to the same rows lock them in the same order).
async fn add_tallies(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sums: &std::collections::BTreeMap<TallyKey, (i64, f64)>,
) -> AppResult<()> {
    for ((project_id, form, unit, field, value), (count, total)) in sums {
        sqlx::query(
            "INSERT INTO collect_tallies (project_id, xml_form_id, region_code, field, value, count, total) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (project_id, xml_form_id, region_code, field, value) DO UPDATE \
             SET count = collect_tallies.count + excluded.count, \
                 total = collect_tallies.total + excluded.total",
        )
        .bind(*project_id)
        .bind(form.clone())
        .bind(unit.clone())
        .bind(field.clone())
        .bind(value.clone())
        .bind(*count)
        .bind(*total)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Stores submissions and their files in one transaction (the writer's group commit); for
/// each, whether it was stored (false: its form and instanceID were there already, or earlier
/// in the same batch).
pub async fn insert_submissions(db: &AnyPool, batch: &[&NewSubmission]) -> AppResult<Vec<bool>> {
    let mut tx = db.begin().await?;
    let mut inserted = Vec::with_capacity(batch.len());
    let mut sums: std::collections::BTreeMap<TallyKey, (i64, f64)> = Default::default();
    for new in batch {
        let row = &new.row;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO collect_submissions ({SUBMISSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (project_id, xml_form_id, instance_id) DO NOTHING"
        )))
        .bind(row.project_id)
        .bind(row.xml_form_id.clone())
        .bind(row.instance_id.clone())
        .bind(row.submitter_id)
        .bind(row.device_id.clone())
        .bind(row.version.clone())
        .bind(row.xml_hash.clone())
        .bind(row.xml_sealed.clone())
        .bind(row.created_at)
        .bind(row.region_code.clone())
        .bind(row.review_state.clone())
        .execute(&mut *tx)
        .await?;
        let stored = done.rows_affected() == 1;
        if stored {
            add_files(&mut tx, row, &new.files).await?;
            if let Some(entity) = &new.entity {
                crate::entities::store::add_entity_in(&mut tx, entity).await?;
            }
            for tally in &new.tallies {
                let key = (
                    row.project_id,
                    row.xml_form_id.clone(),
                    row.region_code.clone().unwrap_or_default(),
                    tally.field.clone(),
                    tally.value.clone(),
                );
                let sum = sums.entry(key).or_insert((0, 0.0));
                sum.0 += tally.count;
                sum.1 += tally.total;
            }
        }
        inserted.push(stored);
    }
    add_tallies(&mut tx, &sums).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// Writes a submission's review state, and the entity its approval makes (if the list has no
/// entity of that id yet), in one transaction.
pub async fn set_review(
    db: &AnyPool,
    row: &SubmissionRow,
    entity: Option<&crate::entities::store::EntityRow>,
) -> AppResult<()> {
    crate::error::retrying(|| async {
        let mut tx = db.begin().await?;
        sqlx::query(
            "UPDATE collect_submissions SET review_state = $1 \
             WHERE project_id = $2 AND xml_form_id = $3 AND instance_id = $4",
        )
        .bind(row.review_state.clone())
        .bind(row.project_id)
        .bind(row.xml_form_id.clone())
        .bind(row.instance_id.clone())
        .execute(&mut *tx)
        .await?;
        if let Some(entity) = entity {
            crate::entities::store::add_entity_in(&mut tx, entity).await?;
        }
        tx.commit().await?;
        Ok(())
    })
    .await
}

/// Adds files to a stored submission (ODK Collect sends large ones in later requests); a
/// file already there is kept as it was.
pub async fn add_more_files(
    db: &AnyPool,
    row: &SubmissionRow,
    files: &[(String, String, Vec<u8>)],
) -> AppResult<()> {
    if files.is_empty() {
        return Ok(());
    }
    crate::error::retrying(|| add_more_files_once(db, row, files)).await
}

async fn add_more_files_once(
    db: &AnyPool,
    row: &SubmissionRow,
    files: &[(String, String, Vec<u8>)],
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    add_files(&mut tx, row, files).await?;
    tx.commit().await?;
    Ok(())
}

async fn add_files(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    row: &SubmissionRow,
    files: &[(String, String, Vec<u8>)],
) -> AppResult<()> {
    for (name, content_type, sealed) in files {
        let present: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM collect_attachments WHERE project_id = $1 AND xml_form_id = $2 \
             AND instance_id = $3 AND name = $4",
        )
        .bind(row.project_id)
        .bind(row.xml_form_id.clone())
        .bind(row.instance_id.clone())
        .bind(name.clone())
        .fetch_optional(&mut **tx)
        .await?;
        if present.is_some() {
            continue;
        }
        sqlx::query(
            "INSERT INTO collect_attachments (project_id, xml_form_id, instance_id, name, content_type, body_sealed, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.project_id)
        .bind(row.xml_form_id.clone())
        .bind(row.instance_id.clone())
        .bind(name.clone())
        .bind(content_type.clone())
        .bind(sealed.clone())
        .bind(row.created_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The names of the files stored for a submission.
pub async fn attachment_names(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
    instance_id: &str,
) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT name FROM collect_attachments WHERE project_id = $1 AND xml_form_id = $2 \
         AND instance_id = $3 ORDER BY name",
    )
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .bind(instance_id.to_owned())
    .fetch_all(db)
    .await?)
}

/// The files stored for a submission, sealed: (name, sealed body).
pub async fn attachment_bodies(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
    instance_id: &str,
) -> AppResult<Vec<(String, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT name, body_sealed FROM collect_attachments WHERE project_id = $1 \
         AND xml_form_id = $2 AND instance_id = $3 ORDER BY name",
    )
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .bind(instance_id.to_owned())
    .fetch_all(db)
    .await?)
}

/// A page of a form's submissions, oldest first.
pub async fn submissions(
    db: &AnyPool,
    project_id: i64,
    xml_form_id: &str,
    skip: i64,
    top: i64,
) -> AppResult<Vec<SubmissionRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUBMISSION_COLUMNS} FROM collect_submissions \
         WHERE project_id = $1 AND xml_form_id = $2 ORDER BY created_at, instance_id LIMIT $3 OFFSET $4"
    )))
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .bind(top)
    .bind(skip)
    .fetch_all(db)
    .await?)
}

pub async fn submission_count(db: &AnyPool, project_id: i64, xml_form_id: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM collect_submissions WHERE project_id = $1 AND xml_form_id = $2",
    )
    .bind(project_id)
    .bind(xml_form_id.to_owned())
    .fetch_one(db)
    .await?)
}

/// The kind of a department (`market_regulation`, `government_services` …).
pub async fn department_kind(db: &AnyPool, department_id: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT kind FROM departments WHERE id = $1")
            .bind(department_id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// The name of a department.
pub async fn department_name(db: &AnyPool, department_id: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM departments WHERE id = $1")
            .bind(department_id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}
