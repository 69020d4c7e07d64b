//! SQL of applications, their events, materials, uploads and notices, and of the calendar.

use sqlx::FromRow;

use crate::error::AppResult;
use crate::state::AppState;
use tongban_platform::db::Exec;

/// Ids that sort in the order they were made (UUIDv7), so events of the same millisecond keep
/// their order.
fn ordered_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[derive(sqlx::FromRow, Debug, Clone)]
pub struct ApplicationRow {
    pub id: String,
    pub item_code: String,
    pub department_id: String,
    pub applicant_kind: String,
    pub applicant_id: String,
    pub applicant_account: String,
    pub state: String,
    pub version: i64,
    pub form_sealed: Vec<u8>,
    pub submitted_at: i64,
    /// `YYYY-MM-DD`: the promised limit's last working day.
    pub due_day: String,
    pub state_since: i64,
    pub result_certificate: Option<String>,
    /// The bundle application (一件事) this is part of.
    pub bundle_id: Option<String>,
}

const COLUMNS: &str = "id, item_code, department_id, applicant_kind, applicant_id, applicant_account, state, version, form_sealed, submitted_at, due_day, state_since, result_certificate, bundle_id";

fn row(r: &sqlx::any::AnyRow) -> AppResult<ApplicationRow> {
    Ok(ApplicationRow::from_row(r)?)
}

/// A material ready to store: name, source (`certificate` or `upload`), content type, the
/// sealed bytes and their size in clear.
pub struct NewMaterial {
    pub name: String,
    pub source: String,
    pub content_type: Option<String>,
    pub size: i64,
    pub data_sealed: Vec<u8>,
}

/// Stores a new application with its materials and first event, in one transaction, and
/// deletes the uploads it took over.
pub async fn insert(
    state: &AppState,
    app: &ApplicationRow,
    materials: Vec<NewMaterial>,
    used_uploads: &[String],
    notice: &str,
    key: Option<&RequestKey>,
) -> AppResult<()> {
    let mut tx = state.pool().begin().await?;
    if let Some(key) = key {
        // First: a second request with the same key waits here for the first to end, then
        // fails on the key rather than storing a second application.
        sqlx::query("INSERT INTO application_requests (account_id, idempotency_key, fingerprint, application_id, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(app.applicant_account.clone())
            .bind(key.key.clone())
            .bind(key.fingerprint.clone())
            .bind(app.id.clone())
            .bind(app.submitted_at)
            .execute(&mut *tx)
            .await?;
    }
    insert_notice(
        &mut *tx,
        &app.applicant_account,
        &app.id,
        notice,
        app.submitted_at,
    )
    .await?;
    sqlx::query("INSERT INTO applications (id, item_code, department_id, applicant_kind, applicant_id, applicant_account, state, version, form_sealed, submitted_at, due_day, state_since, updated_at, bundle_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)")
        .bind(app.id.clone())
        .bind(app.item_code.clone())
        .bind(app.department_id.clone())
        .bind(app.applicant_kind.clone())
        .bind(app.applicant_id.clone())
        .bind(app.applicant_account.clone())
        .bind(app.state.clone())
        .bind(app.version)
        .bind(app.form_sealed.clone())
        .bind(app.submitted_at)
        .bind(app.due_day.clone())
        .bind(app.state_since)
        .bind(app.bundle_id.clone())
        .execute(&mut *tx)
        .await?;
    for m in materials {
        insert_material(&mut tx, &app.id, m, app.submitted_at).await?;
    }
    sqlx::query("INSERT INTO application_events (id, application_id, at, actor_id, action, from_state, to_state) VALUES ($1, $2, $3, $4, 'submit', '', $5)")
        .bind(ordered_id())
        .bind(app.id.clone())
        .bind(app.submitted_at)
        .bind(app.applicant_account.clone())
        .bind(app.state.clone())
        .execute(&mut *tx)
        .await?;
    for id in used_uploads {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id.clone())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// An applicant's Idempotency-Key and the fingerprint of the request it came with.
pub struct RequestKey {
    pub key: String,
    pub fingerprint: String,
}

/// The fingerprint and the application of an applicant's key, if the key was used.
pub async fn request_of(
    db: impl Exec<'_>,
    account_id: &str,
    key: &str,
) -> AppResult<Option<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT fingerprint, application_id FROM application_requests WHERE account_id = $1 AND idempotency_key = $2",
    )
    .bind(account_id.to_owned())
    .bind(key.to_owned())
    .fetch_optional(db)
    .await?)
}

/// Forgets the keys used before `before`.
pub async fn delete_requests_before(db: impl Exec<'_>, before: i64) -> AppResult<u64> {
    Ok(
        sqlx::query("DELETE FROM application_requests WHERE at < $1")
            .bind(before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

pub async fn by_id(db: impl Exec<'_>, id: &str) -> AppResult<Option<ApplicationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    let r = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?;
    r.as_ref().map(row).transpose()
}

pub async fn of_account(db: impl Exec<'_>, account_id: &str) -> AppResult<Vec<ApplicationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE applicant_account = $1 ORDER BY submitted_at DESC LIMIT 200"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(row).collect()
}

/// A department's applications in none of the `finished` states, soonest due first.
pub async fn queue(
    db: impl Exec<'_>,
    department_id: &str,
    finished: &[&str],
) -> AppResult<Vec<ApplicationRow>> {
    let marks: Vec<String> = (0..finished.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE department_id = $1 AND state NOT IN ({}) ORDER BY due_day, submitted_at LIMIT 500",
        marks.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(department_id.to_owned());
    for s in finished {
        query = query.bind((*s).to_owned());
    }
    let rows = query.fetch_all(db).await?;
    rows.iter().map(row).collect()
}

/// The items most applied for since `since` (Unix milliseconds), most first, with their
/// counts.
pub async fn demand(db: impl Exec<'_>, since: i64, limit: i64) -> AppResult<Vec<(String, i64)>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT item_code, COUNT(*) AS n FROM applications WHERE submitted_at >= $1 GROUP BY item_code ORDER BY n DESC, item_code LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("item_code")?, row.try_get("n")?)))
        .collect()
}

/// How many of a department's applications wait for it (in none of the `not_waiting` states),
/// and how many of those are past their due day (`today`, `YYYY-MM-DD`).
pub async fn queue_counts(
    db: impl Exec<'_>,
    department_id: &str,
    not_waiting: &[&str],
    today: &str,
) -> AppResult<(i64, i64)> {
    let marks: Vec<String> = (0..not_waiting.len())
        .map(|i| format!("${}", i + 3))
        .collect();
    let sql = format!(
        "SELECT COUNT(*) AS waiting, COUNT(*) FILTER (WHERE due_day < $2) AS overdue FROM applications WHERE department_id = $1 AND state NOT IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(department_id.to_owned())
        .bind(today.to_owned());
    for s in not_waiting {
        query = query.bind((*s).to_owned());
    }
    let row = query.fetch_one(db).await?;
    use sqlx::Row;
    Ok((row.try_get("waiting")?, row.try_get("overdue")?))
}

/// The finished states, as SQL literals: the partial index `applications_open` holds the rows
/// in none of them, and a query names them literally so that the database uses it.
fn finished_sql() -> String {
    tongban_workflow::table::FINAL
        .iter()
        .map(|s| {
            debug_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            format!("'{s}'")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// By department: how many applications are not finished, and how many of those the
/// department holds past their due day (`today`, `YYYY-MM-DD`; not those back with the
/// applicant for a correction). Reads the partial index of open applications only.
pub async fn open_by_department(
    db: impl Exec<'_>,
    today: &str,
) -> AppResult<Vec<(String, i64, i64)>> {
    let sql = format!(
        "SELECT department_id, COUNT(*), COUNT(*) FILTER (WHERE due_day < $1 AND state <> $2) FROM applications WHERE state NOT IN ({}) GROUP BY department_id",
        finished_sql()
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(today.to_owned())
        .bind(tongban_workflow::table::CORRECTION.to_owned())
        .fetch_all(db)
        .await?)
}

/// By department: how many rectifications wait for the department's reply.
pub async fn open_rectifications_by_department(db: impl Exec<'_>) -> AppResult<Vec<(String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT department_id, COUNT(*) FROM rectifications WHERE state = 'open' GROUP BY department_id",
    )
    .fetch_all(db)
    .await?)
}

/// Moves an application from `version` to `to` (and, for a resubmission, a new form and due
/// day), recording the event, in one transaction; false when another action came first.
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    state: &AppState,
    app: &ApplicationRow,
    version: i64,
    action: &str,
    actor_id: &str,
    to: &str,
    reason_sealed: Option<Vec<u8>>,
    change: Option<FormChange>,
    notice: &str,
    pending: Option<PendingResult>,
) -> AppResult<bool> {
    let now = state.now();
    let mut tx = state.pool().begin().await?;
    let (form, due, materials, used_uploads) = match change {
        Some(r) => (r.form_sealed, r.due_day, r.materials, r.used_uploads),
        None => (
            app.form_sealed.clone(),
            app.due_day.clone(),
            Vec::new(),
            Vec::new(),
        ),
    };
    let changed = sqlx::query("UPDATE applications SET state = $3, version = version + 1, state_since = $4, updated_at = $4, form_sealed = $5, due_day = $6 WHERE id = $1 AND version = $2")
        .bind(app.id.clone())
        .bind(version)
        .bind(to.to_owned())
        .bind(now)
        .bind(form)
        .bind(due)
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !changed {
        return Ok(false);
    }
    sqlx::query("INSERT INTO application_events (id, application_id, at, actor_id, action, from_state, to_state, reason_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(ordered_id())
        .bind(app.id.clone())
        .bind(now)
        .bind(actor_id.to_owned())
        .bind(action.to_owned())
        .bind(app.state.clone())
        .bind(to.to_owned())
        .bind(reason_sealed)
        .execute(&mut *tx)
        .await?;
    for m in materials {
        insert_material(&mut tx, &app.id, m, now).await?;
    }
    insert_notice(&mut *tx, &app.applicant_account, &app.id, notice, now).await?;
    if let Some(p) = pending {
        sqlx::query("INSERT INTO application_pending_results (application_id, type_code, department_id, issued_by, draft_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(app.id.clone())
            .bind(p.type_code)
            .bind(p.department_id)
            .bind(actor_id.to_owned())
            .bind(p.draft_sealed)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    for id in used_uploads {
        sqlx::query("DELETE FROM uploads WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The certificate an approval is to issue, stored with the approval (see
/// `application_pending_results`).
pub struct PendingResult {
    pub type_code: String,
    pub department_id: String,
    /// The holder and the items, as JSON, sealed.
    pub draft_sealed: Vec<u8>,
}

/// A pending result as stored.
#[derive(sqlx::FromRow)]
pub struct PendingResultRow {
    pub application_id: String,
    pub type_code: String,
    pub department_id: String,
    pub issued_by: String,
    pub draft_sealed: Vec<u8>,
}

/// Results pending since before `before`: issuances that were cut off.
pub async fn pending_results(db: impl Exec<'_>, before: i64) -> AppResult<Vec<PendingResultRow>> {
    Ok(sqlx::query_as(
        "SELECT application_id, type_code, department_id, issued_by, draft_sealed \
         FROM application_pending_results WHERE created_at < $1 ORDER BY created_at LIMIT 100",
    )
    .bind(before)
    .fetch_all(db)
    .await?)
}

/// Records the certificate as the application's result and ends its pending row, together.
pub async fn settle_result(state: &AppState, id: &str, certificate: &str) -> AppResult<()> {
    let mut tx = state.pool().begin().await?;
    sqlx::query("UPDATE applications SET result_certificate = $2 WHERE id = $1")
        .bind(id.to_owned())
        .bind(certificate.to_owned())
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM application_pending_results WHERE application_id = $1")
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// What a new form changes besides the state — a resubmission's (补正) or an operator's
/// amendment: the form, the due day, the materials it adds (the earlier ones stay, for the
/// record) and the uploads it took.
pub struct FormChange {
    pub form_sealed: Vec<u8>,
    pub due_day: String,
    pub materials: Vec<NewMaterial>,
    pub used_uploads: Vec<String>,
}

async fn insert_material(
    tx: &mut tongban_platform::db::Tx<'_>,
    application_id: &str,
    m: NewMaterial,
    at: i64,
) -> AppResult<()> {
    sqlx::query("INSERT INTO application_materials (id, application_id, name, source, content_type, size, data_sealed, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(crate::random::new_id())
        .bind(application_id.to_owned())
        .bind(m.name)
        .bind(m.source)
        .bind(m.content_type)
        .bind(m.size)
        .bind(m.data_sealed)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
pub struct EventRow {
    pub at: i64,
    pub actor_id: String,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub reason_sealed: Option<Vec<u8>>,
}

pub async fn events_of(db: impl Exec<'_>, application_id: &str) -> AppResult<Vec<EventRow>> {
    let rows = sqlx::query("SELECT at, actor_id, action, from_state, to_state, reason_sealed FROM application_events WHERE application_id = $1 ORDER BY at, id")
        .bind(application_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| Ok(EventRow::from_row(r)?)).collect()
}

#[derive(sqlx::FromRow)]
pub struct MaterialRow {
    pub id: String,
    pub name: String,
    pub source: String,
    pub content_type: Option<String>,
    pub size: i64,
    pub data_sealed: Vec<u8>,
    pub added_at: i64,
}

pub async fn materials_of(db: impl Exec<'_>, application_id: &str) -> AppResult<Vec<MaterialRow>> {
    let rows = sqlx::query("SELECT id, name, source, content_type, size, data_sealed, added_at FROM application_materials WHERE application_id = $1 ORDER BY added_at, name")
        .bind(application_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| Ok(MaterialRow::from_row(r)?)).collect()
}

#[derive(sqlx::FromRow)]
pub struct UploadRow {
    pub id: String,
    pub account_id: String,
    pub content_type: String,
    pub size: i64,
    pub data_sealed: Vec<u8>,
}

pub async fn insert_upload(state: &AppState, upload: &UploadRow) -> AppResult<()> {
    sqlx::query("INSERT INTO uploads (id, account_id, content_type, size, data_sealed, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(upload.id.clone())
        .bind(upload.account_id.clone())
        .bind(upload.content_type.clone())
        .bind(upload.size)
        .bind(upload.data_sealed.clone())
        .bind(state.now())
        .execute(state.pool())
        .await?;
    Ok(())
}

pub async fn upload(db: impl Exec<'_>, id: &str, account_id: &str) -> AppResult<Option<UploadRow>> {
    let r = sqlx::query("SELECT id, account_id, content_type, size, data_sealed FROM uploads WHERE id = $1 AND account_id = $2")
        .bind(id.to_owned())
        .bind(account_id.to_owned())
        .fetch_optional(db)
        .await?;
    r.map(|r| Ok(UploadRow::from_row(&r)?)).transpose()
}

/// Deletes uploads no application took within their day (those kept with a saved draft stay
/// as long as the draft).
pub async fn delete_uploads_before(db: impl Exec<'_>, before: i64) -> AppResult<u64> {
    Ok(sqlx::query(
        "DELETE FROM uploads WHERE at < $1 AND id NOT IN (SELECT upload_id FROM application_draft_uploads)",
    )
        .bind(before)
        .execute(db)
        .await?
        .rows_affected())
}

/// The applicant's notice of a step. A step writes it in its own transaction: a step is never
/// stored without its notice, nor answered as refused once stored.
pub async fn insert_notice(
    db: impl Exec<'_>,
    account_id: &str,
    application_id: &str,
    text: &str,
    at: i64,
) -> AppResult<()> {
    sqlx::query("INSERT INTO application_notices (id, account_id, at, application_id, text) VALUES ($1, $2, $3, $4, $5)")
        .bind(ordered_id())
        .bind(account_id.to_owned())
        .bind(at)
        .bind(application_id.to_owned())
        .bind(text.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// (at, application id, text), newest first.
pub async fn notices_of(
    db: impl Exec<'_>,
    account_id: &str,
) -> AppResult<Vec<(i64, Option<String>, String)>> {
    Ok(sqlx::query_as("SELECT at, application_id, text FROM application_notices WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT 100")
        .bind(account_id.to_owned())
        .fetch_all(db)
        .await?)
}

/// The calendar exceptions of a region: (day, `holiday` or `workday`).
pub async fn calendar_days(db: impl Exec<'_>, region: &str) -> AppResult<Vec<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT day, kind FROM calendar_days WHERE region_code = $1")
            .bind(region.to_owned())
            .fetch_all(db)
            .await?,
    )
}

pub async fn ensure_calendar_day(
    db: impl Exec<'_>,
    region: &str,
    day: &str,
    kind: &str,
    name: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO calendar_days (region_code, day, kind, name) VALUES ($1, $2, $3, $4) ON CONFLICT (region_code, day) DO NOTHING")
        .bind(region.to_owned())
        .bind(day.to_owned())
        .bind(kind.to_owned())
        .bind(name.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Stores a rating, and the rectification a poor one opens, in one transaction.
pub async fn insert_evaluation(
    state: &AppState,
    app: &ApplicationRow,
    grade: i64,
    indicators: &str,
    comment_sealed: Option<Vec<u8>>,
    rectification_due: Option<String>,
) -> AppResult<()> {
    let now = state.now();
    let mut tx = state.pool().begin().await?;
    sqlx::query("INSERT INTO evaluations (application_id, department_id, item_code, grade, indicators, comment_sealed, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(app.id.clone())
        .bind(app.department_id.clone())
        .bind(app.item_code.clone())
        .bind(grade)
        .bind(indicators.to_owned())
        .bind(comment_sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if let Some(due) = rectification_due {
        sqlx::query("INSERT INTO rectifications (id, application_id, department_id, opened_at, due_day, state) VALUES ($1, $2, $3, $4, $5, 'open')")
            .bind(ordered_id())
            .bind(app.id.clone())
            .bind(app.department_id.clone())
            .bind(now)
            .bind(due)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// (grade, indicators JSON, sealed comment) of an application's rating.
pub async fn evaluation_of(
    db: impl Exec<'_>,
    application_id: &str,
) -> AppResult<Option<(i64, String, Option<Vec<u8>>)>> {
    Ok(sqlx::query_as(
        "SELECT grade, indicators, comment_sealed FROM evaluations WHERE application_id = $1",
    )
    .bind(application_id.to_owned())
    .fetch_optional(db)
    .await?)
}

#[derive(sqlx::FromRow)]
pub struct RectificationRow {
    pub id: String,
    pub application_id: String,
    pub department_id: String,
    pub due_day: String,
    pub state: String,
    pub reply_sealed: Option<Vec<u8>>,
}

fn rectification(r: &sqlx::any::AnyRow) -> AppResult<RectificationRow> {
    Ok(RectificationRow::from_row(r)?)
}

pub async fn rectifications_of(
    db: impl Exec<'_>,
    department_id: &str,
) -> AppResult<Vec<RectificationRow>> {
    let rows = sqlx::query("SELECT id, application_id, department_id, due_day, state, reply_sealed FROM rectifications WHERE department_id = $1 ORDER BY state DESC, due_day LIMIT 200")
        .bind(department_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(rectification).collect()
}

pub async fn rectification_of_application(
    db: impl Exec<'_>,
    application_id: &str,
) -> AppResult<Option<RectificationRow>> {
    let r = sqlx::query("SELECT id, application_id, department_id, due_day, state, reply_sealed FROM rectifications WHERE application_id = $1")
        .bind(application_id.to_owned())
        .fetch_optional(db)
        .await?;
    r.as_ref().map(rectification).transpose()
}

pub async fn rectification_by_id(
    db: impl Exec<'_>,
    id: &str,
) -> AppResult<Option<RectificationRow>> {
    let r = sqlx::query("SELECT id, application_id, department_id, due_day, state, reply_sealed FROM rectifications WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?;
    r.as_ref().map(rectification).transpose()
}

/// Closes an open rectification with its reply; false when it was closed already.
pub async fn close_rectification(
    state: &AppState,
    id: &str,
    reply_sealed: Vec<u8>,
    actor_id: &str,
) -> AppResult<bool> {
    Ok(sqlx::query("UPDATE rectifications SET state = 'closed', reply_sealed = $2, closed_at = $3, closed_by = $4 WHERE id = $1 AND state = 'open'")
        .bind(id.to_owned())
        .bind(reply_sealed)
        .bind(state.now())
        .bind(actor_id.to_owned())
        .execute(state.pool())
        .await?
        .rows_affected()
        == 1)
}

/// A department's grades.
pub async fn grades_of(db: impl Exec<'_>, department_id: &str) -> AppResult<Vec<i64>> {
    Ok(
        sqlx::query_scalar("SELECT grade FROM evaluations WHERE department_id = $1")
            .bind(department_id.to_owned())
            .fetch_all(db)
            .await?,
    )
}

/// A department's delivered applications: (submitted at, delivered at, due day).
pub async fn delivered_of(
    db: impl Exec<'_>,
    department_id: &str,
) -> AppResult<Vec<(i64, i64, String)>> {
    Ok(sqlx::query_as("SELECT submitted_at, state_since, due_day FROM applications WHERE department_id = $1 AND state = 'delivered'")
        .bind(department_id.to_owned())
        .fetch_all(db)
        .await?)
}

/// A bundle (一件事): its items' codes in order.
pub struct BundleRow {
    pub code: String,
    pub name: String,
    pub items: Vec<String>,
    pub life_event: Option<String>,
    pub guide: String,
}

/// A bundle's row: its items as JSON text.
#[derive(FromRow)]
struct StoredBundle {
    code: String,
    name: String,
    items: String,
    life_event: Option<String>,
    guide: String,
}

fn bundle(r: &sqlx::any::AnyRow) -> AppResult<BundleRow> {
    let b = StoredBundle::from_row(r)?;
    Ok(BundleRow {
        items: serde_json::from_str(&b.items)
            .map_err(|e| crate::error::AppError::Internal(e.into()))?,
        code: b.code,
        name: b.name,
        life_event: b.life_event,
        guide: b.guide,
    })
}

pub async fn bundles(db: impl Exec<'_>) -> AppResult<Vec<BundleRow>> {
    let rows =
        sqlx::query("SELECT code, name, items, life_event, guide FROM bundles ORDER BY code")
            .fetch_all(db)
            .await?;
    rows.iter().map(bundle).collect()
}

pub async fn bundle_by_code(db: impl Exec<'_>, code: &str) -> AppResult<Option<BundleRow>> {
    let r = sqlx::query("SELECT code, name, items, life_event, guide FROM bundles WHERE code = $1")
        .bind(code.to_owned())
        .fetch_optional(db)
        .await?;
    r.as_ref().map(bundle).transpose()
}

pub async fn ensure_bundle(state: &AppState, b: &BundleRow) -> AppResult<()> {
    sqlx::query("INSERT INTO bundles (code, name, items, life_event, guide, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING")
        .bind(b.code.clone())
        .bind(b.name.clone())
        .bind(serde_json::to_string(&b.items).unwrap_or_default())
        .bind(b.life_event.clone())
        .bind(b.guide.clone())
        .bind(state.now())
        .execute(state.pool())
        .await?;
    Ok(())
}

pub async fn insert_bundle_application(
    state: &AppState,
    id: &str,
    bundle_code: &str,
    account_id: &str,
) -> AppResult<()> {
    sqlx::query("INSERT INTO bundle_applications (id, bundle_code, applicant_account, submitted_at) VALUES ($1, $2, $3, $4)")
        .bind(id.to_owned())
        .bind(bundle_code.to_owned())
        .bind(account_id.to_owned())
        .bind(state.now())
        .execute(state.pool())
        .await?;
    Ok(())
}

/// (bundle code, applicant account, submitted at) of a bundle application.
pub async fn bundle_application(
    db: impl Exec<'_>,
    id: &str,
) -> AppResult<Option<(String, String, i64)>> {
    Ok(sqlx::query_as("SELECT bundle_code, applicant_account, submitted_at FROM bundle_applications WHERE id = $1")
        .bind(id.to_owned())
        .fetch_optional(db)
        .await?)
}

pub async fn of_bundle(db: impl Exec<'_>, bundle_id: &str) -> AppResult<Vec<ApplicationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE bundle_id = $1 ORDER BY item_code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(bundle_id.to_owned())
        .fetch_all(db)
        .await?;
    rows.iter().map(row).collect()
}

pub async fn delete_upload(db: impl Exec<'_>, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM uploads WHERE id = $1")
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// How many times each action was taken on a department's applications.
/// The account of an operator of the department, by display name (for statistics filters).
pub async fn department_operator(
    db: impl Exec<'_>,
    department_id: &str,
    display_name: &str,
) -> AppResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE department_id = $1 AND display_name = $2 ORDER BY id LIMIT 1",
    )
    .bind(department_id.to_owned())
    .bind(display_name.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The department's handling actions (moment, action), optionally of one item, by one
/// operator, within `[from, until)` (Unix milliseconds); at most 100,000, newest first.
pub async fn handling_events(
    db: impl Exec<'_>,
    department_id: &str,
    item_code: Option<&str>,
    operator: Option<&str>,
    from: Option<i64>,
    until: Option<i64>,
) -> AppResult<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "SELECT e.at, e.action FROM application_events e JOIN applications a ON a.id = e.application_id
         WHERE a.department_id = $1
           AND ($2 IS NULL OR a.item_code = $2)
           AND ($3 IS NULL OR e.actor_id = $3)
           AND ($4 IS NULL OR e.at >= $4)
           AND ($5 IS NULL OR e.at < $5)
         ORDER BY e.at DESC LIMIT 100000",
    )
    .bind(department_id.to_owned())
    .bind(item_code.map(str::to_owned))
    .bind(operator.map(str::to_owned))
    .bind(from)
    .bind(until)
    .fetch_all(db)
    .await?)
}
