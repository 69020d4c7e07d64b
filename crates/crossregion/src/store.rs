//! The module's SQL: partners, their catalogues, cases on both sides, their events, and the
//! outbox.

use sqlx::AnyPool;

use crate::error::AppResult;

/// A region this one handles applications with.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Partner {
    pub region: String,
    /// The USCC of the other region's intake department.
    pub intake_uscc: String,
    pub name: String,
    pub added_by: String,
    pub added_at: i64,
}

/// A partner's 跨省通办 item as its catalogue answered.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct CrossItem {
    pub region: String,
    pub code: String,
    pub name: String,
    pub department_uscc: String,
    pub department_name: String,
    /// `online`, `proxy`, `joint`, comma-separated.
    pub modes: String,
    pub promised_days: i64,
    /// The materials' names, JSON.
    pub materials: String,
    pub fetched_at: i64,
    /// The exchange that brought it (its receipt proves the copy).
    pub message_id: String,
    /// For a joint item: the item code of the part that follows, in a region the applicant
    /// names.
    pub joint_next: Option<String>,
}

/// A case's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseRow {
    pub id: String,
    pub side: String,
    pub mode: String,
    pub item_code: String,
    pub item_name: String,
    pub home_region: String,
    pub competent_region: String,
    pub competent_uscc: String,
    pub peer_uscc: String,
    pub applicant_account: Option<String>,
    pub received_by: Option<String>,
    pub state: String,
    pub seq: i64,
    /// The sequence number of the last update applied from the other region.
    pub peer_seq: i64,
    pub package_sealed: Vec<u8>,
    pub package_hash: String,
    pub due_day: Option<String>,
    /// A note written before notes were sealed (migration 0039).
    pub note: Option<String>,
    /// The last step's note, sealed.
    pub note_sealed: Option<Vec<u8>>,
    pub result_sealed: Option<Vec<u8>>,
    pub rating: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The part of a joint case's route it is at.
    pub leg: i64,
}

const CASE_COLUMNS: &str = "id, side, mode, item_code, item_name, home_region, competent_region, \
     competent_uscc, peer_uscc, applicant_account, received_by, state, seq, peer_seq, \
     package_hash, due_day, note, result_sealed, rating, created_at, updated_at, leg, note_sealed";

/// Cases with their packages (kept apart: see migration 0038).
const CASES: &str =
    "cross_cases JOIN cross_case_packages ON cross_case_packages.case_id = cross_cases.id";

/// One step of a case.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct Event {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub state: String,
    /// The note, opened (or as written before notes were sealed).
    pub note: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub note_sealed: Option<Vec<u8>>,
}

/// An outbox entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    pub id: String,
    pub case_id: String,
    pub kind: String,
    pub to_uscc: String,
    pub attempts: i64,
    pub next_at: i64,
}

pub async fn partners(db: &AnyPool) -> AppResult<Vec<Partner>> {
    Ok(sqlx::query_as(
        "SELECT region, intake_uscc, name, added_by, added_at FROM cross_partners ORDER BY region",
    )
    .fetch_all(db)
    .await?)
}

pub async fn partner(db: &AnyPool, region: &str) -> AppResult<Option<Partner>> {
    Ok(sqlx::query_as(
        "SELECT region, intake_uscc, name, added_by, added_at FROM cross_partners WHERE region = $1",
    )
    .bind(region.to_owned())
    .fetch_optional(db)
    .await?)
}

pub async fn save_partner(db: &AnyPool, partner: &Partner) -> AppResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM cross_partners WHERE region = $1")
        .bind(partner.region.clone())
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO cross_partners (region, intake_uscc, name, added_by, added_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(partner.region.clone())
    .bind(partner.intake_uscc.clone())
    .bind(partner.name.clone())
    .bind(partner.added_by.clone())
    .bind(partner.added_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces a partner's catalogue copy with what it answered.
pub async fn replace_items(db: &AnyPool, region: &str, items: &[CrossItem]) -> AppResult<()> {
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM cross_items WHERE region = $1")
        .bind(region.to_owned())
        .execute(&mut *tx)
        .await?;
    for item in items {
        sqlx::query(
            "INSERT INTO cross_items (region, code, name, department_uscc, department_name, \
             modes, promised_days, materials, fetched_at, message_id, joint_next) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(region.to_owned())
        .bind(item.code.clone())
        .bind(item.name.clone())
        .bind(item.department_uscc.clone())
        .bind(item.department_name.clone())
        .bind(item.modes.clone())
        .bind(item.promised_days)
        .bind(item.materials.clone())
        .bind(item.fetched_at)
        .bind(item.message_id.clone())
        .bind(item.joint_next.clone())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

const ITEM_COLUMNS: &str = "region, code, name, department_uscc, department_name, modes, \
     promised_days, materials, fetched_at, message_id, joint_next";

pub async fn items(db: &AnyPool) -> AppResult<Vec<CrossItem>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ITEM_COLUMNS} FROM cross_items ORDER BY region, code"
    )))
    .fetch_all(db)
    .await?)
}

pub async fn item(db: &AnyPool, region: &str, code: &str) -> AppResult<Option<CrossItem>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ITEM_COLUMNS} FROM cross_items WHERE region = $1 AND code = $2"
    )))
    .bind(region.to_owned())
    .bind(code.to_owned())
    .fetch_optional(db)
    .await?)
}

pub async fn case(db: &AnyPool, id: &str) -> AppResult<Option<CaseRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CASE_COLUMNS}, package_sealed FROM {CASES} WHERE id = $1"
    )))
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The names of the materials added to a case after correction requests, in order.
pub async fn supplement_names(db: &AnyPool, case_id: &str) -> AppResult<Vec<String>> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT names FROM cross_supplements WHERE case_id = $1 ORDER BY seq")
            .bind(case_id.to_owned())
            .fetch_all(db)
            .await?;
    Ok(rows
        .iter()
        .flat_map(|names| names.split('\n').map(str::to_owned))
        .filter(|name| !name.is_empty())
        .collect())
}

/// What steps need of a case, without its sealed package.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseHead {
    pub id: String,
    pub side: String,
    pub home_region: String,
    pub competent_region: String,
    pub peer_uscc: String,
    pub state: String,
    pub seq: i64,
    pub peer_seq: i64,
    pub package_hash: String,
    pub due_day: Option<String>,
}

pub async fn head(db: &AnyPool, id: &str) -> AppResult<Option<CaseHead>> {
    Ok(sqlx::query_as(
        "SELECT id, side, home_region, competent_region, peer_uscc, state, seq, peer_seq, \
         package_hash, due_day FROM cross_cases WHERE id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The cases of one side in the given states, oldest first (a queue).
pub async fn queue(db: &AnyPool, side: &str, states: &[&str]) -> AppResult<Vec<CaseRow>> {
    let placeholders: Vec<String> = (0..states.len()).map(|n| format!("${}", n + 2)).collect();
    let sql = format!(
        "SELECT {CASE_COLUMNS}, package_sealed FROM {CASES} WHERE side = $1 AND state IN ({}) \
         ORDER BY created_at LIMIT 500",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(side.to_owned());
    for state in states {
        query = query.bind((*state).to_owned());
    }
    Ok(query.fetch_all(db).await?)
}

/// An applicant's cases, newest first.
pub async fn of_applicant(db: &AnyPool, account: &str) -> AppResult<Vec<CaseRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CASE_COLUMNS}, package_sealed FROM {CASES} WHERE applicant_account = $1 \
         ORDER BY created_at DESC LIMIT 200"
    )))
    .bind(account.to_owned())
    .fetch_all(db)
    .await?)
}

pub async fn events(db: &AnyPool, case_id: &str) -> AppResult<Vec<Event>> {
    Ok(sqlx::query_as(
        "SELECT seq, at, actor, state, note, note_sealed FROM cross_case_events WHERE case_id = $1 \
         ORDER BY seq",
    )
    .bind(case_id.to_owned())
    .fetch_all(db)
    .await?)
}

/// What one step writes: the case's new state, its event, and what must reach the other
/// region (if anything), in one transaction.
pub struct Step<'a> {
    pub case_id: &'a str,
    pub state: &'a str,
    pub seq: i64,
    pub actor: &'a str,
    /// The step's note, sealed (see `cases::seal_note`).
    pub note: Option<Vec<u8>>,
    pub result_sealed: Option<Vec<u8>>,
    pub rating: Option<i64>,
    pub due_day: Option<&'a str>,
    /// For a step an update of the other region made: its sequence number there.
    pub peer_seq: Option<i64>,
    /// Materials the step adds (补正材料): their names, and the materials sealed.
    pub supplement: Option<(String, Vec<u8>)>,
    pub send: Option<Send<'a>>,
    pub at: i64,
}

/// An outbox entry to write.
pub struct Send<'a> {
    pub kind: &'a str,
    pub to_uscc: &'a str,
    pub body_sealed: Vec<u8>,
}

/// Inserts a new case with its first event and outbox entry. `false`: the id is taken (a
/// package delivered again), nothing was written.
pub async fn insert_case(db: &AnyPool, row: &CaseRow, first: Step<'_>) -> AppResult<bool> {
    let mut tx = db.begin().await?;
    let inserted = insert_case_in(&mut tx, row, &first).await?;
    tx.commit().await?;
    Ok(inserted)
}

/// [`insert_case`] inside a transaction of many (the intake's group commit).
pub async fn insert_case_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    row: &CaseRow,
    first: &Step<'_>,
) -> AppResult<bool> {
    Ok(insert_cases_in(tx, &[(row, first)]).await?[0])
}

/// `items` in runs of 64, 16, 4 and 1: statements over many rows take a few shapes only, so
/// each connection prepares each once.
fn in_shapes<T>(items: &[T]) -> Vec<&[T]> {
    let mut runs = Vec::new();
    let mut rest = items;
    while !rest.is_empty() {
        let n = [64, 16, 4, 1]
            .into_iter()
            .find(|&n| n <= rest.len())
            .unwrap_or(1);
        let (run, after) = rest.split_at(n);
        runs.push(run);
        rest = after;
    }
    runs
}

/// `$first, …` for `n` parameters.
fn params(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of a multi-row `VALUES`: `($1, $2), ($3, $4)` for two rows of two columns.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let numbers: Vec<String> = (1..=columns)
                .map(|column| format!("${}", row * columns + column))
                .collect();
            format!("({})", numbers.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts new cases, each with its package, its first event and what that event sends, a few
/// statements for many (the intake's group commit writes hundreds at once). For each case,
/// whether it was inserted: `false` when a case of its id exists or comes earlier in `cases`,
/// and then nothing of it was written.
pub async fn insert_cases_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    cases: &[(&CaseRow, &Step<'_>)],
) -> AppResult<Vec<bool>> {
    const CASE_FIELDS: usize = 23;
    let mut inserted = vec![false; cases.len()];
    let mut ids = std::collections::HashSet::new();
    let fresh: Vec<usize> = (0..cases.len())
        .filter(|&i| ids.insert(cases[i].0.id.as_str()))
        .collect();
    for chunk in in_shapes(&fresh) {
        let n = chunk.len();
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO cross_cases ({CASE_COLUMNS}) VALUES {} ON CONFLICT (id) DO NOTHING \
             RETURNING id",
            values(n, CASE_FIELDS)
        )));
        for &i in chunk {
            let row = cases[i].0;
            query = query
                .bind(row.id.clone())
                .bind(row.side.clone())
                .bind(row.mode.clone())
                .bind(row.item_code.clone())
                .bind(row.item_name.clone())
                .bind(row.home_region.clone())
                .bind(row.competent_region.clone())
                .bind(row.competent_uscc.clone())
                .bind(row.peer_uscc.clone())
                .bind(row.applicant_account.clone())
                .bind(row.received_by.clone())
                .bind(row.state.clone())
                .bind(row.seq)
                .bind(row.peer_seq)
                .bind(row.package_hash.clone())
                .bind(row.due_day.clone())
                .bind(row.note.clone())
                .bind(row.result_sealed.clone())
                .bind(row.rating)
                .bind(row.created_at)
                .bind(row.updated_at)
                .bind(row.leg)
                .bind(row.note_sealed.clone());
        }
        let taken: std::collections::HashSet<String> = query
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|row| sqlx::Row::try_get::<String, _>(row, 0))
            .collect::<Result<_, _>>()?;
        let written: Vec<usize> = chunk
            .iter()
            .copied()
            .filter(|&i| taken.contains(&cases[i].0.id))
            .collect();
        if written.is_empty() {
            continue;
        }
        let mut packages = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO cross_case_packages (case_id, package_sealed) VALUES {}",
            values(written.len(), 2)
        )));
        for &i in &written {
            packages = packages
                .bind(cases[i].0.id.clone())
                .bind(cases[i].0.package_sealed.as_slice());
        }
        packages.execute(&mut **tx).await?;
        let steps: Vec<&Step<'_>> = written.iter().map(|&i| cases[i].1).collect();
        write_events(tx, &steps).await?;
        for i in written {
            inserted[i] = true;
        }
    }
    Ok(inserted)
}

/// Writes steps' events in one statement, then what each adds or sends.
async fn write_events(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    steps: &[&Step<'_>],
) -> AppResult<()> {
    if steps.is_empty() {
        return Ok(());
    }
    let mut events = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO cross_case_events (id, case_id, seq, at, actor, state, note_sealed) \
         VALUES {}",
        values(steps.len(), 7)
    )));
    for step in steps {
        events = events
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(step.case_id.to_owned())
            .bind(step.seq)
            .bind(step.at)
            .bind(step.actor.to_owned())
            .bind(step.state.to_owned())
            .bind(step.note.clone());
    }
    events.execute(&mut **tx).await?;
    for step in steps {
        write_extras(tx, step).await?;
    }
    Ok(())
}

/// What a step adds (补正材料) and sends (an outbox entry), beside its event.
async fn write_extras(tx: &mut sqlx::Transaction<'_, sqlx::Any>, step: &Step<'_>) -> AppResult<()> {
    if let Some((names, sealed)) = &step.supplement {
        sqlx::query(
            "INSERT INTO cross_supplements (id, case_id, seq, names, materials_sealed, added_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(step.case_id.to_owned())
        .bind(step.seq)
        .bind(names.clone())
        .bind(sealed.clone())
        .bind(step.at)
        .execute(&mut **tx)
        .await?;
    }
    if let Some(send) = &step.send {
        let id = format!("{}/{:08}", step.case_id, step.seq);
        sqlx::query(
            "INSERT INTO cross_outbox (id, case_id, kind, to_uscc, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $5)",
        )
        .bind(id.clone())
        .bind(step.case_id.to_owned())
        .bind(send.kind.to_owned())
        .bind(send.to_uscc.to_owned())
        .bind(step.at)
        .execute(&mut **tx)
        .await?;
        sqlx::query("INSERT INTO cross_outbox_bodies (id, body_sealed) VALUES ($1, $2)")
            .bind(id)
            .bind(send.body_sealed.clone())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Moves a case from `from` (its state and sequence number when read) to the step's state.
/// `false`: someone moved it first; nothing was written.
pub async fn advance(db: &AnyPool, from: (&str, i64), step: Step<'_>) -> AppResult<bool> {
    let mut tx = db.begin().await?;
    let moved = advance_in(&mut tx, from, &step).await?;
    if moved {
        tx.commit().await?;
    }
    Ok(moved)
}

/// [`advance`] inside a transaction of many.
pub async fn advance_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    from: (&str, i64),
    step: &Step<'_>,
) -> AppResult<bool> {
    Ok(advance_all_in(tx, &[(from, step)]).await?[0])
}

/// [`advance_in`] for many cases, their events written together; for each, whether it moved.
pub async fn advance_all_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    moves: &[((&str, i64), &Step<'_>)],
) -> AppResult<Vec<bool>> {
    let mut moved = vec![false; moves.len()];
    // Plain steps (no note, result, rating, update or outbox entry) that share where they
    // come from and what they set — a round's delivered packages — move in one statement.
    let mut alike: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, &(from, step)) in moves.iter().enumerate() {
        let plain = step.note.is_none()
            && step.result_sealed.is_none()
            && step.rating.is_none()
            && step.peer_seq.is_none()
            && step.supplement.is_none()
            && step.send.is_none();
        if !plain {
            moved[i] = update_case(tx, from, step).await?;
            continue;
        }
        let same = |&(first, _): &(usize, Vec<usize>)| {
            let (their_from, theirs) = moves[first];
            their_from == from
                && (theirs.state, theirs.seq, theirs.due_day, theirs.at)
                    == (step.state, step.seq, step.due_day, step.at)
        };
        match alike.iter_mut().find(|group| same(group)) {
            Some((_, members)) => members.push(i),
            None => alike.push((i, vec![i])),
        }
    }
    for (first, members) in &alike {
        let (from, step) = moves[*first];
        for run in in_shapes(members) {
            let sql = format!(
                "UPDATE cross_cases SET state = $1, seq = $2, note = NULL, note_sealed = NULL, \
                 due_day = COALESCE($3, due_day), updated_at = $4 \
                 WHERE state = $5 AND seq = $6 AND id IN ({}) RETURNING id",
                params(7, run.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(step.state.to_owned())
                .bind(step.seq)
                .bind(step.due_day.map(str::to_owned))
                .bind(step.at)
                .bind(from.0.to_owned())
                .bind(from.1);
            for &i in run {
                query = query.bind(moves[i].1.case_id.to_owned());
            }
            let ids: std::collections::HashSet<String> = query
                .fetch_all(&mut **tx)
                .await?
                .iter()
                .map(|row| sqlx::Row::try_get::<String, _>(row, 0))
                .collect::<Result<_, _>>()?;
            for &i in run {
                moved[i] = ids.contains(moves[i].1.case_id);
            }
        }
    }
    let events: Vec<&Step<'_>> = moves
        .iter()
        .zip(&moved)
        .filter(|(_, did)| **did)
        .map(|(&(_, step), _)| step)
        .collect();
    write_events(tx, &events).await?;
    Ok(moved)
}

async fn update_case(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    from: (&str, i64),
    step: &Step<'_>,
) -> AppResult<bool> {
    let moved = sqlx::query(
        "UPDATE cross_cases SET state = $1, seq = $2, note = NULL, note_sealed = $3, \
         result_sealed = COALESCE($4, result_sealed), rating = COALESCE($5, rating), \
         due_day = COALESCE($6, due_day), updated_at = $7, peer_seq = COALESCE($8, peer_seq) \
         WHERE id = $9 AND state = $10 AND seq = $11",
    )
    .bind(step.state.to_owned())
    .bind(step.seq)
    .bind(step.note.clone())
    .bind(step.result_sealed.clone())
    .bind(step.rating)
    .bind(step.due_day.map(str::to_owned))
    .bind(step.at)
    .bind(step.peer_seq)
    .bind(step.case_id.to_owned())
    .bind(from.0.to_owned())
    .bind(from.1)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(moved > 0)
}

/// Where a joint case goes next: the part's region, item and departments, and the package
/// for it.
pub struct NextLeg<'a> {
    pub leg: i64,
    pub region: &'a str,
    pub item_code: &'a str,
    pub item_name: &'a str,
    pub competent_uscc: &'a str,
    pub peer_uscc: &'a str,
    pub package_sealed: Vec<u8>,
    pub package_hash: String,
}

/// Moves a joint case on to its next part: the case now speaks with that part's region (from
/// whose updates nothing was applied yet), and the step sends it the package. `false`:
/// someone moved the case first; nothing was written.
pub async fn hand_over(
    db: &AnyPool,
    from: (&str, i64),
    next: NextLeg<'_>,
    step: Step<'_>,
) -> AppResult<bool> {
    let mut tx = db.begin().await?;
    let moved = sqlx::query(
        "UPDATE cross_cases SET leg = $1, competent_region = $2, item_code = $3, item_name = $4, \
         competent_uscc = $5, peer_uscc = $6, package_hash = $7, \
         peer_seq = 0, due_day = NULL WHERE id = $8 AND state = $9 AND seq = $10",
    )
    .bind(next.leg)
    .bind(next.region.to_owned())
    .bind(next.item_code.to_owned())
    .bind(next.item_name.to_owned())
    .bind(next.competent_uscc.to_owned())
    .bind(next.peer_uscc.to_owned())
    .bind(next.package_hash)
    .bind(step.case_id.to_owned())
    .bind(from.0.to_owned())
    .bind(from.1)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 0 || !advance_in(&mut tx, from, &step).await? {
        return Ok(false);
    }
    sqlx::query("UPDATE cross_case_packages SET package_sealed = $1 WHERE case_id = $2")
        .bind(next.package_sealed)
        .bind(step.case_id.to_owned())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

/// Records an update of the other region that brings no new state (its due day).
pub async fn heard(db: &AnyPool, id: &str, peer_seq: i64, due_day: Option<&str>) -> AppResult<()> {
    sqlx::query(
        "UPDATE cross_cases SET peer_seq = $1, due_day = COALESCE($2, due_day) \
         WHERE id = $3 AND peer_seq < $1",
    )
    .bind(peer_seq)
    .bind(due_day.map(str::to_owned))
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// Outbox entries due at `now`, oldest first (without what they send: entries another node
/// takes first are never read in full here).
pub async fn due(db: &AnyPool, now: i64, limit: i64) -> AppResult<Vec<Outgoing>> {
    Ok(sqlx::query_as(
        "SELECT id, case_id, kind, to_uscc, attempts, next_at FROM cross_outbox o \
         WHERE done_at IS NULL AND next_at <= $1 AND NOT EXISTS (SELECT 1 FROM cross_outbox e \
         WHERE e.case_id = o.case_id AND e.done_at IS NULL AND e.id < o.id) \
         ORDER BY next_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// What an outbox entry sends (sealed).
pub async fn body(db: &AnyPool, id: &str) -> AppResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT body_sealed FROM cross_outbox_bodies WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// Takes entries for one attempt each: moves their next attempt to `until`. Returns the ids
/// this node took (another node may have taken some first).
pub async fn claim(db: &AnyPool, entries: &[(&str, i64)], until: i64) -> AppResult<Vec<String>> {
    let mut tx = db.begin().await?;
    let mut taken = Vec::with_capacity(entries.len());
    for (id, seen_next_at) in entries {
        let claimed = sqlx::query(
            "UPDATE cross_outbox SET next_at = $1 WHERE id = $2 AND next_at = $3 \
             AND done_at IS NULL",
        )
        .bind(until)
        .bind((*id).to_owned())
        .bind(*seen_next_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 1 {
            taken.push((*id).to_owned());
        }
    }
    tx.commit().await?;
    Ok(taken)
}

/// Records a failed attempt and when to try again.
pub async fn retry_later_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    next_at: i64,
    why: &str,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE cross_outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 \
         WHERE id = $3",
    )
    .bind(next_at)
    .bind(why.to_owned())
    .bind(id.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that an entry is done: taken (`delivered`) or refused for good (`refused`).
pub async fn done_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    at: i64,
    outcome: &str,
    why: Option<&str>,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE cross_outbox SET attempts = attempts + 1, done_at = $1, outcome = $2, \
         last_error = COALESCE($3, last_error) WHERE id = $4",
    )
    .bind(at)
    .bind(outcome.to_owned())
    .bind(why.map(str::to_owned))
    .bind(id.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The heads of cases inside a transaction, by id (those that exist).
pub async fn heads_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ids: &[&str],
) -> AppResult<std::collections::HashMap<String, CaseHead>> {
    let mut heads = std::collections::HashMap::with_capacity(ids.len());
    for run in in_shapes(ids) {
        let sql = format!(
            "SELECT id, side, home_region, competent_region, peer_uscc, state, seq, peer_seq, \
             package_hash, due_day FROM cross_cases WHERE id IN ({})",
            params(1, run.len())
        );
        let mut query = sqlx::query_as::<_, CaseHead>(sqlx::AssertSqlSafe(sql));
        for id in run {
            query = query.bind((*id).to_owned());
        }
        for head in query.fetch_all(&mut **tx).await? {
            heads.insert(head.id.clone(), head);
        }
    }
    Ok(heads)
}

/// [`done_in`] for many entries of one outcome.
pub async fn done_all_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ids: &[&str],
    at: i64,
    outcome: &str,
) -> AppResult<()> {
    for run in in_shapes(ids) {
        let sql = format!(
            "UPDATE cross_outbox SET attempts = attempts + 1, done_at = $1, outcome = $2 \
             WHERE id IN ({})",
            params(3, run.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(at)
            .bind(outcome.to_owned());
        for id in run {
            query = query.bind((*id).to_owned());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// How many entries wait to be delivered.
pub async fn waiting(db: &AnyPool) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM cross_outbox WHERE done_at IS NULL")
            .fetch_one(db)
            .await?,
    )
}

/// The outbox entries of a case: (kind, attempts, outcome, last error).
pub async fn deliveries(
    db: &AnyPool,
    case_id: &str,
) -> AppResult<Vec<(String, i64, Option<String>, Option<String>)>> {
    Ok(sqlx::query_as(
        "SELECT kind, attempts, outcome, last_error FROM cross_outbox WHERE case_id = $1 \
         ORDER BY created_at",
    )
    .bind(case_id.to_owned())
    .fetch_all(db)
    .await?)
}
