//! The office's tables.

use crate::db::Exec;
use crate::error::AppResult;
use crate::gongwen::draft::{Draft, Urgency};
use crate::gongwen::flow::Step;
use crate::gongwen::number::Number;

/// A document as stored.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: String,
    pub department_id: String,
    /// The code (机关代字) it is numbered under.
    pub code: String,
    pub draft: Draft,
    pub state: String,
    pub number: Option<Number>,
    /// The drafter.
    pub created_by: String,
    pub created_at: i64,
    pub modified_at: i64,
    /// Raised by every act on it.
    pub version: i64,
}

impl Document {
    /// A new draft of `department`'s, to be numbered under `code`.
    pub fn new(
        id: String,
        department_id: &str,
        code: &str,
        draft: Draft,
        by: &str,
        now: i64,
    ) -> Document {
        Document {
            id,
            department_id: department_id.to_owned(),
            code: code.to_owned(),
            draft,
            state: Step::Drafting.as_str().to_owned(),
            number: None,
            created_by: by.to_owned(),
            created_at: now,
            modified_at: now,
            version: 0,
        }
    }
}

/// How urgent a draft is, for sorting (特急 first).
pub fn urgency_rank(draft: &Draft) -> i64 {
    match draft.urgency {
        Some(Urgency::Immediate) => 2,
        Some(Urgency::Urgent) => 1,
        None => 0,
    }
}

fn draft_json(draft: &Draft) -> AppResult<String> {
    serde_json::to_string(draft).map_err(|e| crate::error::AppError::Internal(e.into()))
}

pub async fn insert_document<'e>(db: impl Exec<'e>, document: &Document) -> AppResult<()> {
    let draft = draft_json(&document.draft)?;
    sqlx::query(
        "INSERT INTO office_documents (id, department_id, kind, title, draft, state, number_code, \
         number_year, number_seq, created_by, created_at, modified_at, code, urgency, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(document.id.clone())
    .bind(document.department_id.clone())
    .bind(document.draft.kind.zh())
    .bind(document.draft.title.clone())
    .bind(draft)
    .bind(document.state.clone())
    .bind(document.number.as_ref().map(|n| n.code.clone()))
    .bind(document.number.as_ref().map(|n| i64::from(n.year)))
    .bind(document.number.as_ref().map(|n| i64::from(n.seq)))
    .bind(document.created_by.clone())
    .bind(document.created_at)
    .bind(document.modified_at)
    .bind(document.code.clone())
    .bind(urgency_rank(&document.draft))
    .bind(document.version)
    .execute(db)
    .await?;
    Ok(())
}

/// The numbers issued for a code and year, in order.
pub async fn numbers_of<'e>(db: impl Exec<'e>, code: &str, year: i32) -> AppResult<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT number_seq FROM office_documents WHERE number_code = $1 AND number_year = $2 \
         ORDER BY number_seq",
    )
    .bind(code.to_owned())
    .bind(i64::from(year))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

/// Raises the counter of a code and year by one (from 1) and returns it; the row stays locked
/// (on PostgreSQL) until the caller's transaction ends.
pub async fn next_number<'e>(db: impl Exec<'e>, code: &str, year: i32) -> AppResult<i64> {
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO office_numbers (code, year, last) VALUES ($1, $2, 1) \
         ON CONFLICT (code, year) DO UPDATE SET last = office_numbers.last + 1 RETURNING last",
    )
    .bind(code.to_owned())
    .bind(i64::from(year))
    .fetch_one(db)
    .await?;
    Ok(seq)
}

const DOCUMENT: &str = "SELECT d.id, d.department_id, d.code, d.draft, d.state, d.number_code, \
     d.number_year, d.number_seq, d.created_by, d.created_at, d.modified_at, d.version \
     FROM office_documents d";

type DocumentRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    String,
    i64,
    i64,
    i64,
);

fn document_of(row: DocumentRow) -> AppResult<Document> {
    let (
        id,
        department_id,
        code,
        draft,
        state,
        n_code,
        n_year,
        n_seq,
        created_by,
        created_at,
        modified_at,
        version,
    ) = row;
    let draft: Draft =
        serde_json::from_str(&draft).map_err(|e| crate::error::AppError::Internal(e.into()))?;
    let number = match (n_code, n_year, n_seq) {
        (Some(code), Some(year), Some(seq)) => Number::new(
            &code,
            i32::try_from(year).unwrap_or_default(),
            u32::try_from(seq).unwrap_or_default(),
        )
        .ok(),
        _ => None,
    };
    Ok(Document {
        id,
        department_id,
        code,
        draft,
        state,
        number,
        created_by,
        created_at,
        modified_at,
        version,
    })
}

pub async fn document<'e>(db: impl Exec<'e>, id: &str) -> AppResult<Option<Document>> {
    let row: Option<DocumentRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{DOCUMENT} WHERE d.id = $1")))
            .bind(id.to_owned())
            .fetch_optional(db)
            .await?;
    row.map(document_of).transpose()
}

/// Replaces a draft's text, if it is still at `version` and in drafting.
pub async fn update_draft<'e>(
    db: impl Exec<'e>,
    id: &str,
    version: i64,
    draft: &Draft,
    now: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE office_documents SET draft = $1, kind = $2, title = $3, urgency = $4, \
         modified_at = $5, version = version + 1 WHERE id = $6 AND version = $7 AND state = $8",
    )
    .bind(draft_json(draft)?)
    .bind(draft.kind.zh())
    .bind(draft.title.clone())
    .bind(urgency_rank(draft))
    .bind(now)
    .bind(id.to_owned())
    .bind(version)
    .bind(Step::Drafting.as_str())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the urgency a document is listed with, after its draft changed.
pub async fn set_waiting_urgency<'e>(db: impl Exec<'e>, id: &str, urgency: i64) -> AppResult<()> {
    sqlx::query("UPDATE office_waiting SET urgency = $1 WHERE document_id = $2")
        .bind(urgency)
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Moves a document to `state`, if it is still at `version`; false when someone acted on it
/// first. Its draft is written back only when the act changed it (the sign-off's request
/// writes the 签发人 on it).
pub async fn advance<'e>(
    db: impl Exec<'e>,
    document: &Document,
    state: Step,
    now: i64,
    draft_changed: bool,
) -> AppResult<bool> {
    let query = if draft_changed {
        sqlx::query(
            "UPDATE office_documents SET state = $1, modified_at = $2, version = version + 1, \
             draft = $3 WHERE id = $4 AND version = $5",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(draft_json(&document.draft)?)
    } else {
        sqlx::query(
            "UPDATE office_documents SET state = $1, modified_at = $2, version = version + 1 \
             WHERE id = $3 AND version = $4",
        )
        .bind(state.as_str())
        .bind(now)
    };
    let query = query.bind(document.id.clone()).bind(document.version);
    Ok(query.execute(db).await?.rows_affected() == 1)
}

/// The documents of a department, newest first.
pub async fn documents_of<'e>(
    db: impl Exec<'e>,
    department: &str,
    limit: i64,
) -> AppResult<Vec<Document>> {
    let rows: Vec<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{DOCUMENT} WHERE d.department_id = $1 ORDER BY d.modified_at DESC, d.id LIMIT $2"
    )))
    .bind(department.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(document_of).collect()
}

/// Who a document waits for: an account, or a department's secretariat less the leader
/// who signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub holder: String,
    pub excluded: String,
}

impl Waiting {
    pub fn account(id: &str) -> Waiting {
        Waiting {
            holder: format!("account:{id}"),
            excluded: String::new(),
        }
    }

    pub fn secretariat(department: &str, leader: &str) -> Waiting {
        Waiting {
            holder: format!("department:{department}"),
            excluded: leader.to_owned(),
        }
    }
}

/// Replaces whom a document waits for.
pub async fn replace_waiting(
    tx: &mut crate::db::Tx<'_>,
    document: &str,
    urgency: i64,
    since: i64,
    rows: &[Waiting],
) -> AppResult<()> {
    sqlx::query("DELETE FROM office_waiting WHERE document_id = $1")
        .bind(document.to_owned())
        .execute(&mut **tx)
        .await?;
    for row in rows {
        sqlx::query(
            "INSERT INTO office_waiting (holder, document_id, excluded, urgency, since) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (holder, document_id) DO NOTHING",
        )
        .bind(row.holder.clone())
        .bind(document.to_owned())
        .bind(row.excluded.clone())
        .bind(urgency)
        .bind(since)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What waits for the account `$1` and, as secretariat, for the department `$2` (less what
/// `$1` signed): drafts it wrote (new or sent back), documents it was sent for review (not
/// yet agreed) or sign-off, and the department's signed documents to check, seal, register
/// and send. Found through the waiting index, not by scanning the documents.
const WAITING: &str = "FROM office_waiting w WHERE w.holder = $1 \
     OR (w.holder = $2 AND w.excluded <> $3)";

/// The first `$4` documents waiting for an account (`$1`, as `account:{id}`) or for its
/// department's secretariat (`$2`) less those its leader signed (`$3`): each holder's first
/// items read in the index's order, then merged — about `$4` rows of the index whatever the
/// number waiting (`d` the documents).
const TOP_WAITING: &str = "JOIN (\
       SELECT document_id, urgency, since FROM (SELECT w.document_id, w.urgency, w.since \
         FROM office_waiting w WHERE w.holder = $1 \
         ORDER BY w.urgency DESC, w.since LIMIT $4) mine \
       UNION ALL \
       SELECT document_id, urgency, since FROM (SELECT w.document_id, w.urgency, w.since \
         FROM office_waiting w WHERE w.holder = $2 AND w.excluded <> $3 \
         ORDER BY w.urgency DESC, w.since LIMIT $4) secretariat \
     ) top ON top.document_id = d.id ORDER BY top.urgency DESC, top.since, d.id LIMIT $4";

/// What waits for an account, most urgent first, then the longest waiting.
pub async fn waiting_for<'e>(
    db: impl Exec<'e>,
    account: &str,
    secretariat_of: Option<&str>,
    limit: i64,
) -> AppResult<Vec<Document>> {
    let rows: Vec<DocumentRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{DOCUMENT} {TOP_WAITING}")))
            .bind(format!("account:{account}"))
            .bind(secretariat_holder(secretariat_of))
            .bind(account.to_owned())
            .bind(limit)
            .fetch_all(db)
            .await?;
    rows.into_iter().map(document_of).collect()
}

/// A line of the to-do list: a document waiting for an account.
#[derive(Debug, Clone)]
pub struct WaitingLine {
    pub id: String,
    pub title: String,
    pub state: String,
    pub urgency: i64,
    pub modified_at: i64,
}

/// The first `limit` lines of what waits for an account (as [`waiting_for`] orders them) and
/// how many wait, in one statement that reads neither a draft nor more than `limit` rows of
/// documents.
pub async fn waiting_lines<'e>(
    db: impl Exec<'e> + Copy,
    account: &str,
    secretariat_of: Option<&str>,
    limit: i64,
) -> AppResult<(Vec<WaitingLine>, i64)> {
    if limit <= 0 {
        return Ok((
            Vec::new(),
            waiting_count(db, account, secretariat_of).await?,
        ));
    }
    let rows: Vec<(String, String, String, i64, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT d.id, d.title, d.state, top.urgency, d.modified_at, \
               (SELECT COUNT(*) {WAITING}) \
             FROM office_documents d {TOP_WAITING}"
        )))
        .bind(format!("account:{account}"))
        .bind(secretariat_holder(secretariat_of))
        .bind(account.to_owned())
        .bind(limit)
        .fetch_all(db)
        .await?;
    let total = rows.first().map_or(0, |row| row.5);
    let lines = rows
        .into_iter()
        .map(|(id, title, state, urgency, modified_at, _)| WaitingLine {
            id,
            title,
            state,
            urgency,
            modified_at,
        })
        .collect();
    Ok((lines, total))
}

/// The secretariat's holder, or one no row has.
fn secretariat_holder(department: Option<&str>) -> String {
    department.map_or_else(String::new, |d| format!("department:{d}"))
}

/// How many documents wait for an account (as [`waiting_for`] lists them).
pub async fn waiting_count<'e>(
    db: impl Exec<'e>,
    account: &str,
    secretariat_of: Option<&str>,
) -> AppResult<i64> {
    Ok(
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {WAITING}")))
            .bind(format!("account:{account}"))
            .bind(secretariat_holder(secretariat_of))
            .bind(account.to_owned())
            .fetch_one(db)
            .await?,
    )
}

/// Claims a code for a department; false when the code is already an organ's.
pub async fn insert_code<'e>(
    db: impl Exec<'e>,
    code: &str,
    department: &str,
    by: &str,
    now: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "INSERT INTO office_codes (code, department_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING",
    )
    .bind(code.to_owned())
    .bind(department.to_owned())
    .bind(by.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The department a code is, if any.
pub async fn code_owner<'e>(db: impl Exec<'e>, code: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT department_id FROM office_codes WHERE code = $1")
            .bind(code.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

pub async fn codes_of<'e>(db: impl Exec<'e>, department: &str) -> AppResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT code FROM office_codes WHERE department_id = $1 ORDER BY code")
            .bind(department.to_owned())
            .fetch_all(db)
            .await?,
    )
}

/// A reviewer or the leader of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyRow {
    pub account_id: String,
    pub party: String,
    pub agreed_at: Option<i64>,
}

/// Names a document's reviewers (in order) and leader, replacing any named before.
pub async fn name_parties(
    tx: &mut crate::db::Tx<'_>,
    document: &str,
    reviewers: &[String],
    leader: &str,
) -> AppResult<()> {
    sqlx::query("DELETE FROM office_parties WHERE document_id = $1")
        .bind(document.to_owned())
        .execute(&mut **tx)
        .await?;
    let named = reviewers
        .iter()
        .map(|r| (r.as_str(), "reviewer"))
        .chain([(leader, "leader")]);
    for (position, (account, party)) in named.enumerate() {
        sqlx::query(
            "INSERT INTO office_parties (document_id, account_id, party, position, agreed_at) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(document.to_owned())
        .bind(account.to_owned())
        .bind(party)
        .bind(i64::try_from(position).unwrap_or_default())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn parties<'e>(db: impl Exec<'e>, document: &str) -> AppResult<Vec<PartyRow>> {
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT account_id, party, agreed_at FROM office_parties WHERE document_id = $1 \
         ORDER BY position",
    )
    .bind(document.to_owned())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(account_id, party, agreed_at)| PartyRow {
            account_id,
            party,
            agreed_at,
        })
        .collect())
}

/// Dates a reviewer's agreement.
pub async fn agree<'e>(
    db: impl Exec<'e>,
    document: &str,
    account: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE office_parties SET agreed_at = $1 WHERE document_id = $2 AND account_id = $3 \
         AND party = 'reviewer' AND agreed_at IS NULL",
    )
    .bind(now)
    .bind(document.to_owned())
    .bind(account.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// An act in a document's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub document_id: String,
    pub seq: i64,
    pub step: String,
    pub act: String,
    pub actor_id: String,
    pub actor_name: String,
    pub opinion: String,
    pub opinion_digest: String,
    pub content_digest: String,
    pub log_index: Option<i64>,
    pub at: i64,
}

type HistoryTuple = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
);

fn history_of(row: HistoryTuple) -> HistoryRow {
    let (
        document_id,
        seq,
        step,
        act,
        actor_id,
        actor_name,
        opinion,
        opinion_digest,
        content_digest,
        log_index,
        at,
    ) = row;
    HistoryRow {
        document_id,
        seq,
        step,
        act,
        actor_id,
        actor_name,
        opinion,
        opinion_digest,
        content_digest,
        log_index,
        at,
    }
}

const HISTORY: &str = "SELECT document_id, seq, step, act, actor_id, actor_name, opinion, \
     opinion_digest, content_digest, log_index, at FROM office_history";

pub async fn history<'e>(db: impl Exec<'e>, document: &str) -> AppResult<Vec<HistoryRow>> {
    let rows: Vec<HistoryTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{HISTORY} WHERE document_id = $1 ORDER BY seq"
    )))
    .bind(document.to_owned())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(history_of).collect())
}

/// Acts taken before `before` that the transparency log does not witness yet, oldest first.
pub async fn unlogged<'e>(
    db: impl Exec<'e>,
    before: i64,
    limit: i64,
) -> AppResult<Vec<HistoryRow>> {
    let rows: Vec<HistoryTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{HISTORY} WHERE log_index IS NULL AND at < $1 ORDER BY at, document_id, seq LIMIT $2"
    )))
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(history_of).collect())
}

/// What an account handled (已办): (document, its title, the act, when), newest first.
pub async fn handled_by<'e>(
    db: impl Exec<'e>,
    account: &str,
    limit: i64,
) -> AppResult<Vec<(String, String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT h.document_id, d.title, h.act, h.at FROM office_history h \
         JOIN office_documents d ON d.id = h.document_id WHERE h.actor_id = $1 \
         ORDER BY h.at DESC, h.document_id, h.seq DESC LIMIT $2",
    )
    .bind(account.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The staff of a department who may take part in its documents: (account, name, whether an
/// administrator — who may sign off), by name.
pub async fn staff_of<'e>(
    db: impl Exec<'e>,
    department: &str,
) -> AppResult<Vec<(String, String, bool)>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT a.id, a.display_name, MAX(CASE WHEN g.role = 'dept_admin' THEN 1 ELSE 0 END) \
         FROM accounts a JOIN role_grants g ON g.account_id = a.id \
         WHERE a.department_id = $1 AND a.disabled = 0 AND g.role IN ('clerk', 'dept_admin') \
         AND g.scope_kind <> 'own' GROUP BY a.id, a.display_name ORDER BY a.display_name, a.id",
    )
    .bind(department.to_owned())
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, admin)| (id, name, admin == 1))
        .collect())
}

/// The certificate issued for a signing key, DER.
pub async fn certificate_der(db: impl Exec<'_>, kid: &str) -> AppResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT der FROM office_certificates WHERE kid = $1")
            .bind(kid.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// Keeps a key's certificate; a certificate already kept for the key stays.
pub async fn insert_certificate(
    db: impl Exec<'_>,
    kid: &str,
    owner: &str,
    der: &[u8],
    subject: &str,
    not_after: i64,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_certificates (kid, owner, der, subject, not_after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kid) DO NOTHING",
    )
    .bind(kid.to_owned())
    .bind(owner.to_owned())
    .bind(der.to_vec())
    .bind(subject.to_owned())
    .bind(not_after)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A sealed document's signed file.
pub async fn file_pdf(db: impl Exec<'_>, document_id: &str) -> AppResult<Option<Vec<u8>>> {
    Ok(
        sqlx::query_scalar("SELECT pdf FROM office_files WHERE document_id = $1")
            .bind(document_id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// Keeps a document's signed file; false when one was kept first (it stays).
pub async fn insert_file(
    db: impl Exec<'_>,
    document_id: &str,
    pdf: &[u8],
    digest: &str,
    kid: &str,
    now: i64,
) -> AppResult<bool> {
    Ok(sqlx::query(
        "INSERT INTO office_files (document_id, pdf, digest, kid, made_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (document_id) DO NOTHING",
    )
    .bind(document_id.to_owned())
    .bind(pdf.to_vec())
    .bind(digest.to_owned())
    .bind(kid.to_owned())
    .bind(now)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Notes the transparency log's entry of a document's file.
pub async fn set_file_log_index(db: impl Exec<'_>, document_id: &str, index: i64) -> AppResult<()> {
    sqlx::query("UPDATE office_files SET log_index = $1 WHERE document_id = $2")
        .bind(index)
        .bind(document_id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

// ---- The directory (通讯录) ----

/// A unit below an organ (an internal department, 处室, or a sub-unit), as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnitRow {
    pub id: String,
    pub department_id: String,
    pub parent_id: Option<String>,
    pub level: i64,
    pub name: String,
    pub sort: i64,
}

/// A post a person holds in an organ or one of its units, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: String,
    pub department_id: String,
    pub unit_id: Option<String>,
    pub account_id: String,
    pub title: String,
    pub leader: i64,
}

/// `text` for a LIKE pattern, its wildcards taken literally (with `ESCAPE '\'`).
pub fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

const UNIT_COLUMNS: &str = "id, department_id, parent_id, level, name, sort";

pub async fn units_of<'e>(db: impl Exec<'e>, department: &str) -> AppResult<Vec<UnitRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM office_units WHERE department_id = $1 ORDER BY level, sort, name"
    )))
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}

pub async fn unit<'e>(db: impl Exec<'e>, id: &str) -> AppResult<Option<UnitRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM office_units WHERE id = $1"
    )))
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The units whose name holds `like` or whose initials do, at most `limit`.
pub async fn search_units<'e>(
    db: impl Exec<'e>,
    like: &str,
    limit: i64,
) -> AppResult<Vec<UnitRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM office_units
         WHERE name LIKE $1 ESCAPE '\\' OR initials LIKE $1 ESCAPE '\\'
         ORDER BY department_id, level, sort LIMIT $2"
    )))
    .bind(like.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Adds a unit, the last among its siblings.
pub async fn insert_unit<'e>(
    db: impl Exec<'e>,
    unit: &UnitRow,
    initials: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_units (id, department_id, parent_id, level, name, initials, sort, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(unit.id.clone())
    .bind(unit.department_id.clone())
    .bind(unit.parent_id.clone())
    .bind(unit.level)
    .bind(unit.name.clone())
    .bind(initials.to_owned())
    .bind(unit.sort)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Renames or moves a unit.
pub async fn update_unit<'e>(
    db: impl Exec<'e>,
    id: &str,
    parent: Option<&str>,
    level: i64,
    name: &str,
    initials: &str,
    sort: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE office_units SET parent_id = $1, level = $2, name = $3, initials = $4, sort = $5 \
         WHERE id = $6",
    )
    .bind(parent.map(str::to_owned))
    .bind(level)
    .bind(name.to_owned())
    .bind(initials.to_owned())
    .bind(sort)
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// Moves units up or down by `by` levels (the units under one that moved).
pub async fn shift_unit_levels<'e>(db: impl Exec<'e>, ids: &[String], by: i64) -> AppResult<()> {
    if ids.is_empty() || by == 0 {
        return Ok(());
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE office_units SET level = level + $1 WHERE id IN ({})",
        (2..ids.len() + 2)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(by);
    for id in ids {
        query = query.bind(id.clone());
    }
    query.execute(db).await?;
    Ok(())
}

const POST_COLUMNS: &str = "id, department_id, unit_id, account_id, title, leader";

pub async fn posts_of_department<'e>(
    db: impl Exec<'e>,
    department: &str,
) -> AppResult<Vec<PostRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM office_posts WHERE department_id = $1 ORDER BY sort, id"
    )))
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}

pub async fn posts_of_accounts<'e>(
    db: impl Exec<'e>,
    accounts: &[String],
) -> AppResult<Vec<PostRow>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=accounts.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {POST_COLUMNS} FROM office_posts WHERE account_id IN ({}) ORDER BY sort, id",
        marks.join(", ")
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
    for account in accounts {
        query = query.bind(account.clone());
    }
    Ok(query.fetch_all(db).await?)
}

pub async fn post<'e>(db: impl Exec<'e>, id: &str) -> AppResult<Option<PostRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM office_posts WHERE id = $1"
    )))
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

/// The accounts the organ's directory marks as its leaders.
pub async fn leaders_of<'e>(db: impl Exec<'e>, department: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM office_posts WHERE department_id = $1 AND leader = 1",
    )
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}

pub async fn insert_post<'e>(db: impl Exec<'e>, post: &PostRow, now: i64) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_posts (id, department_id, unit_id, account_id, title, leader, sort, created_at)
         VALUES ($1, $2, $3, $4, $5, $6,
                 (SELECT COUNT(*) FROM office_posts WHERE department_id = $2), $7)",
    )
    .bind(post.id.clone())
    .bind(post.department_id.clone())
    .bind(post.unit_id.clone())
    .bind(post.account_id.clone())
    .bind(post.title.clone())
    .bind(post.leader)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete_post<'e>(db: impl Exec<'e>, id: &str) -> AppResult<()> {
    sqlx::query("DELETE FROM office_posts WHERE id = $1")
        .bind(id.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// Keeps what the directory knows of a person: the initials of their name, and their work
/// phone (sealed, with its blind index) when one is given.
pub async fn upsert_person<'e>(
    db: impl Exec<'e>,
    account: &str,
    initials: &str,
    phone: Option<(&[u8], &str)>,
    now: i64,
) -> AppResult<()> {
    let (sealed, index) = phone.map_or((None, None), |(s, i)| (Some(s.to_vec()), Some(i)));
    sqlx::query(
        "INSERT INTO office_people (account_id, initials, phone_sealed, phone_index, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id) DO UPDATE SET initials = excluded.initials,
           phone_sealed = COALESCE(excluded.phone_sealed, office_people.phone_sealed),
           phone_index = COALESCE(excluded.phone_index, office_people.phone_index),
           updated_at = excluded.updated_at",
    )
    .bind(account.to_owned())
    .bind(initials.to_owned())
    .bind(sealed)
    .bind(index.map(str::to_owned))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A person's sealed work phone, when the directory has one.
pub async fn phone_of<'e>(db: impl Exec<'e>, account: &str) -> AppResult<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar::<_, Option<Vec<u8>>>(
        "SELECT phone_sealed FROM office_people WHERE account_id = $1",
    )
    .bind(account.to_owned())
    .fetch_optional(db)
    .await?
    .flatten())
}

/// The accounts of the directory that have a work phone, among `accounts`.
pub async fn with_phone<'e>(db: impl Exec<'e>, accounts: &[String]) -> AppResult<Vec<String>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=accounts.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT account_id FROM office_people WHERE phone_sealed IS NOT NULL AND account_id IN ({})",
        marks.join(", ")
    );
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
    for account in accounts {
        query = query.bind(account.clone());
    }
    Ok(query.fetch_all(db).await?)
}

/// A staff member as the directory lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub id: String,
    pub display_name: String,
    pub department_id: String,
}

/// The staff of an organ (not disabled), by name.
pub async fn staff_of_department<'e>(
    db: impl Exec<'e>,
    department: &str,
) -> AppResult<Vec<StaffRow>> {
    Ok(sqlx::query_as(
        "SELECT id, display_name, department_id FROM accounts
         WHERE department_id = $1 AND disabled = 0 ORDER BY display_name, id",
    )
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}

/// Staff whose name holds `like`, whose name's initials or one of whose posts' titles do, or
/// whose work phone's blind index is `phone_index`; at most `limit`, by name.
pub async fn search_staff<'e>(
    db: impl Exec<'e>,
    like: &str,
    phone_index: Option<&str>,
    limit: i64,
) -> AppResult<Vec<StaffRow>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.display_name, a.department_id FROM accounts a
         LEFT JOIN office_people p ON p.account_id = a.id
         WHERE a.department_id IS NOT NULL AND a.disabled = 0 AND (
           a.display_name LIKE $1 ESCAPE '\\' OR p.initials LIKE $1 ESCAPE '\\'
           OR p.phone_index = $2
           OR EXISTS (SELECT 1 FROM office_posts o WHERE o.account_id = a.id AND o.title LIKE $1 ESCAPE '\\'))
         ORDER BY a.display_name, a.id LIMIT $3",
    )
    .bind(like.to_owned())
    .bind(phone_index.map(str::to_owned))
    .bind(limit)
    .fetch_all(db)
    .await?)
}

// ---- Notices (通知公告) ----

/// A notice as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeRow {
    pub id: String,
    pub department_id: String,
    pub title: String,
    pub body: String,
    pub sent_by: String,
    pub sent_at: i64,
    pub read_by: Option<i64>,
    pub reminded_at: Option<i64>,
}

/// A notice in a list: id, title, sent, read by, and the reader's reading (or, unread, the
/// reminder).
pub type NoticeLineRow = (String, String, i64, Option<i64>, Option<i64>);

/// A notice sent, in a list: id, title, sent, read by, receipts read, receipts.
pub type SentNoticeRow = (String, String, i64, Option<i64>, i64, i64);

pub async fn notice<'e>(db: impl Exec<'e>, id: &str) -> AppResult<Option<NoticeRow>> {
    Ok(sqlx::query_as(
        "SELECT id, department_id, title, body, sent_by, sent_at, read_by, reminded_at \
         FROM office_notices WHERE id = $1",
    )
    .bind(id.to_owned())
    .fetch_optional(db)
    .await?)
}

pub async fn insert_notice<'e>(db: impl Exec<'e>, notice: &NoticeRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_notices (id, department_id, title, body, sent_by, sent_at, read_by, \
         reminded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(notice.id.clone())
    .bind(notice.department_id.clone())
    .bind(notice.title.clone())
    .bind(notice.body.clone())
    .bind(notice.sent_by.clone())
    .bind(notice.sent_at)
    .bind(notice.read_by)
    .bind(notice.reminded_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A recipient's receipt, unread.
pub async fn insert_receipt<'e>(db: impl Exec<'e>, notice: &str, account: &str) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_notice_receipts (notice_id, account_id, read_at) VALUES ($1, $2, NULL)",
    )
    .bind(notice.to_owned())
    .bind(account.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// The staff accounts of a department that are not disabled.
pub async fn staff_ids_of<'e>(db: impl Exec<'e>, department: &str) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE department_id = $1 AND disabled = 0 ORDER BY id",
    )
    .bind(department.to_owned())
    .fetch_all(db)
    .await?)
}

/// Dates the reader's receipt when it is unread; whether it was.
pub async fn mark_read<'e>(
    db: impl Exec<'e>,
    notice: &str,
    account: &str,
    now: i64,
) -> AppResult<bool> {
    Ok(sqlx::query(
        "UPDATE office_notice_receipts SET read_at = $1 WHERE notice_id = $2 \
         AND account_id = $3 AND read_at IS NULL",
    )
    .bind(now)
    .bind(notice.to_owned())
    .bind(account.to_owned())
    .execute(db)
    .await?
    .rows_affected()
        > 0)
}

pub async fn is_recipient<'e>(db: impl Exec<'e>, notice: &str, account: &str) -> AppResult<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM office_notice_receipts WHERE notice_id = $1 AND account_id = $2",
    )
    .bind(notice.to_owned())
    .bind(account.to_owned())
    .fetch_one(db)
    .await?
        > 0)
}

/// Every receipt of a notice — account, name, read at — the unread first.
pub async fn receipts<'e>(
    db: impl Exec<'e>,
    notice: &str,
) -> AppResult<Vec<(String, String, Option<i64>)>> {
    Ok(sqlx::query_as(
        "SELECT r.account_id, COALESCE(a.display_name, ''), r.read_at \
         FROM office_notice_receipts r LEFT JOIN accounts a ON a.id = r.account_id \
         WHERE r.notice_id = $1 ORDER BY r.read_at IS NOT NULL, a.display_name, r.account_id",
    )
    .bind(notice.to_owned())
    .fetch_all(db)
    .await?)
}

pub async fn set_reminded<'e>(db: impl Exec<'e>, notice: &str, now: i64) -> AppResult<()> {
    sqlx::query("UPDATE office_notices SET reminded_at = $1 WHERE id = $2")
        .bind(now)
        .bind(notice.to_owned())
        .execute(db)
        .await?;
    Ok(())
}

/// How many recipients have not read a notice.
pub async fn unread_count<'e>(db: impl Exec<'e>, notice: &str) -> AppResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM office_notice_receipts WHERE notice_id = $1 AND read_at IS NULL",
    )
    .bind(notice.to_owned())
    .fetch_one(db)
    .await?)
}

/// The notices to `account`, newest first, each with when they read it.
pub async fn received_notices<'e>(
    db: impl Exec<'e>,
    account: &str,
    limit: i64,
) -> AppResult<Vec<NoticeLineRow>> {
    Ok(sqlx::query_as(
        "SELECT n.id, n.title, n.sent_at, n.read_by, r.read_at FROM office_notice_receipts r \
         JOIN office_notices n ON n.id = r.notice_id WHERE r.account_id = $1 \
         ORDER BY n.sent_at DESC, n.id LIMIT $2",
    )
    .bind(account.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The notices `department` sent, newest first, with how many of their receipts are read.
pub async fn sent_notices<'e>(
    db: impl Exec<'e>,
    department: &str,
    limit: i64,
) -> AppResult<Vec<SentNoticeRow>> {
    Ok(sqlx::query_as(
        "SELECT n.id, n.title, n.sent_at, n.read_by, \
         (SELECT COUNT(*) FROM office_notice_receipts r WHERE r.notice_id = n.id \
          AND r.read_at IS NOT NULL), \
         (SELECT COUNT(*) FROM office_notice_receipts r WHERE r.notice_id = n.id) \
         FROM office_notices n WHERE n.department_id = $1 \
         ORDER BY n.sent_at DESC, n.id LIMIT $2",
    )
    .bind(department.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The notices `account` has not read, oldest first, each with its reminder.
pub async fn unread_notices<'e>(db: impl Exec<'e>, account: &str) -> AppResult<Vec<NoticeLineRow>> {
    Ok(sqlx::query_as(
        "SELECT n.id, n.title, n.sent_at, n.read_by, n.reminded_at FROM office_notice_receipts r \
         JOIN office_notices n ON n.id = r.notice_id \
         WHERE r.account_id = $1 AND r.read_at IS NULL ORDER BY n.sent_at, n.id",
    )
    .bind(account.to_owned())
    .fetch_all(db)
    .await?)
}

/// A received document (收文) as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncomingRow {
    pub id: String,
    /// The organ that received it.
    pub department_id: String,
    pub source_document_id: String,
    pub sender_department_id: String,
    pub sender_name: String,
    /// 1 when copied to the organ (抄送), 0 when addressed to it (主送).
    pub copied: i64,
    pub title: String,
    pub number: String,
    /// The document's elements, as sent (JSON).
    pub draft: String,
    /// 成文日期, as written on it.
    pub dated: String,
    pub urgency: i64,
    pub state: String,
    pub register_year: Option<i64>,
    pub register_seq: Option<i64>,
    pub handler_id: Option<String>,
    pub due_day: Option<String>,
    pub reminded_at: Option<i64>,
    pub reply: Option<String>,
    pub version: i64,
    pub received_at: i64,
    pub modified_at: i64,
}

/// The columns of a received document, as [`IncomingRow`] reads them.
macro_rules! incoming_columns {
    () => {
        "id, department_id, source_document_id, sender_department_id, sender_name, copied, \
         title, number, draft, dated, urgency, state, register_year, register_seq, handler_id, \
         due_day, reminded_at, reply, version, received_at, modified_at"
    };
}

const INCOMING: &str = concat!("SELECT ", incoming_columns!(), " FROM office_incoming");

pub async fn insert_incoming<'e>(db: impl Exec<'e>, row: &IncomingRow) -> AppResult<()> {
    write_incoming(db, row, "").await.map(|_| ())
}

/// Writes a received copy unless its organ has one of the same document; whether it wrote.
pub async fn insert_incoming_once<'e>(db: impl Exec<'e>, row: &IncomingRow) -> AppResult<bool> {
    write_incoming(
        db,
        row,
        " ON CONFLICT (source_document_id, department_id) DO NOTHING",
    )
    .await
}

async fn write_incoming<'e>(db: impl Exec<'e>, row: &IncomingRow, tail: &str) -> AppResult<bool> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO office_incoming (id, department_id, source_document_id, \
         sender_department_id, sender_name, copied, title, number, draft, dated, urgency, state, \
         register_year, register_seq, handler_id, due_day, reminded_at, reply, version, \
         received_at, modified_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14, $15, $16, $17, $18, $19, $20, $21){tail}"
    )))
    .bind(row.id.clone())
    .bind(row.department_id.clone())
    .bind(row.source_document_id.clone())
    .bind(row.sender_department_id.clone())
    .bind(row.sender_name.clone())
    .bind(row.copied)
    .bind(row.title.clone())
    .bind(row.number.clone())
    .bind(row.draft.clone())
    .bind(row.dated.clone())
    .bind(row.urgency)
    .bind(row.state.clone())
    .bind(row.register_year)
    .bind(row.register_seq)
    .bind(row.handler_id.clone())
    .bind(row.due_day.clone())
    .bind(row.reminded_at)
    .bind(row.reply.clone())
    .bind(row.version)
    .bind(row.received_at)
    .bind(row.modified_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn incoming<'e>(db: impl Exec<'e>, id: &str) -> AppResult<Option<IncomingRow>> {
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{INCOMING} WHERE id = $1")))
            .bind(id.to_owned())
            .fetch_optional(db)
            .await?,
    )
}

/// Writes a received document's new state, if it is still at `version` (raising it).
pub async fn advance_incoming<'e>(
    db: impl Exec<'e>,
    row: &IncomingRow,
    version: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE office_incoming SET state = $1, register_year = $2, register_seq = $3, \
         handler_id = $4, due_day = $5, reminded_at = $6, reply = $7, modified_at = $8, \
         version = version + 1 WHERE id = $9 AND version = $10",
    )
    .bind(row.state.clone())
    .bind(row.register_year)
    .bind(row.register_seq)
    .bind(row.handler_id.clone())
    .bind(row.due_day.clone())
    .bind(row.reminded_at)
    .bind(row.reply.clone())
    .bind(row.modified_at)
    .bind(row.id.clone())
    .bind(version)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The organ's received documents (when `department` is given) and those handled by or
/// circulated to `account`, newest first.
pub async fn incoming_of<'e>(
    db: impl Exec<'e>,
    department: Option<&str>,
    account: &str,
    limit: i64,
) -> AppResult<Vec<IncomingRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{INCOMING} WHERE department_id = $1 OR handler_id = $2 OR id IN \
         (SELECT incoming_id FROM office_incoming_readers WHERE account_id = $2) \
         ORDER BY received_at DESC, id LIMIT $3"
    )))
    .bind(department.unwrap_or_default().to_owned())
    .bind(account.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// What waits for `account` among received documents (with whether it waits to be read), the
/// most urgent and the oldest first, and how many in all: the organ's documents to sign for,
/// register and screen (when `department` is the organ whose secretariat it is part of), those
/// it handles, and those circulated to it unread.
pub async fn incoming_waiting<'e>(
    db: impl Exec<'e>,
    department: Option<&str>,
    account: &str,
    limit: i64,
) -> AppResult<(Vec<(IncomingRow, bool)>, i64)> {
    #[derive(sqlx::FromRow)]
    struct Line {
        #[sqlx(flatten)]
        row: IncomingRow,
        reading: i64,
        total: i64,
    }
    // The secretariat's steps, the handler's, and the copies given to read, in one statement
    // with their number.
    let lines: Vec<Line> = sqlx::query_as(concat!(
        "WITH waiting (incoming_id, reading) AS (\
           SELECT id, CAST(0 AS BIGINT) FROM office_incoming \
             WHERE (department_id = $1 AND state IN ('receiving', 'registering', 'screening')) \
                OR (handler_id = $2 AND state = 'handling') \
           UNION ALL \
           SELECT incoming_id, CAST(1 AS BIGINT) FROM office_incoming_readers \
             WHERE account_id = $2 AND read_at IS NULL) \
         SELECT ",
        incoming_columns!(),
        ", w.reading, (SELECT COUNT(*) FROM waiting) AS total \
         FROM waiting w JOIN office_incoming ON id = w.incoming_id \
         ORDER BY urgency DESC, modified_at, id LIMIT $3"
    ))
    .bind(department.unwrap_or_default().to_owned())
    .bind(account.to_owned())
    .bind(limit.max(1))
    .fetch_all(db)
    .await?;
    let total = lines.first().map_or(0, |line| line.total);
    let rows = lines
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(0))
        .map(|line| (line.row, line.reading == 1))
        .collect();
    Ok((rows, total))
}

/// Received documents with a handler, not reminded since given, whose limit ends on or
/// before `horizon` (YYYY-MM-DD).
pub async fn unreminded_due<'e>(
    db: impl Exec<'e>,
    horizon: &str,
    limit: i64,
) -> AppResult<Vec<IncomingRow>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{INCOMING} WHERE state = 'handling' AND reminded_at IS NULL AND due_day <= $1 \
         ORDER BY due_day, id LIMIT $2"
    )))
    .bind(horizon.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Whether a sent document has been delivered.
pub async fn delivered<'e>(db: impl Exec<'e>, document: &str) -> AppResult<bool> {
    let at: Option<Option<i64>> =
        sqlx::query_scalar("SELECT delivered_at FROM office_documents WHERE id = $1")
            .bind(document.to_owned())
            .fetch_optional(db)
            .await?;
    Ok(at.flatten().is_some())
}

/// Dates a sent document's delivery, unless it is dated; whether it was not.
pub async fn mark_delivered<'e>(db: impl Exec<'e>, document: &str, now: i64) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE office_documents SET delivered_at = $1 WHERE id = $2 AND delivered_at IS NULL \
         AND state = 'sent'",
    )
    .bind(now)
    .bind(document.to_owned())
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sent documents not yet delivered, oldest first.
pub async fn undelivered<'e>(db: impl Exec<'e>, limit: i64) -> AppResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM office_documents WHERE state = 'sent' AND delivered_at IS NULL \
         ORDER BY modified_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// A recipient of a sent document, as its delivery records it.
pub struct NewDelivery<'a> {
    pub document: &'a str,
    pub position: i64,
    pub recipient: &'a str,
    pub copied: bool,
    /// The received copy, for an organ of this deployment.
    pub incoming: Option<&'a str>,
    /// The other region, for an organ reached through the exchange.
    pub region: Option<&'a str>,
    pub at: i64,
}

pub async fn insert_delivery<'e>(db: impl Exec<'e>, delivery: &NewDelivery<'_>) -> AppResult<()> {
    let NewDelivery {
        document,
        position,
        recipient,
        copied,
        incoming,
        region,
        at: now,
    } = *delivery;
    sqlx::query(
        "INSERT INTO office_deliveries (document_id, position, recipient, copied, incoming_id, \
         region, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(document.to_owned())
    .bind(position)
    .bind(recipient.to_owned())
    .bind(i64::from(copied))
    .bind(incoming.map(str::to_owned))
    .bind(region.map(str::to_owned))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// A recipient of a sent document, as its sender sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub recipient: String,
    pub copied: i64,
    /// The received copy's step, for an organ of this deployment.
    pub state: Option<String>,
    pub reply: Option<String>,
    /// The other region, for an organ reached through the exchange.
    pub region: Option<String>,
    /// What became of the package to that region (`delivered`, `refused`; none while sent).
    pub outcome: Option<String>,
    pub answer: Option<String>,
}

/// Where a sent document went, in the order named.
pub async fn deliveries<'e>(db: impl Exec<'e>, document: &str) -> AppResult<Vec<DeliveryRow>> {
    Ok(sqlx::query_as(
        "SELECT x.recipient, x.copied, i.state, i.reply, x.region, o.outcome, o.answer \
         FROM office_deliveries x \
         LEFT JOIN office_incoming i ON i.id = x.incoming_id \
         LEFT JOIN office_exchange_out o ON o.document_id = x.document_id AND o.region = x.region \
         WHERE x.document_id = $1 ORDER BY x.position",
    )
    .bind(document.to_owned())
    .fetch_all(db)
    .await?)
}

/// Replaces a partner region's organs (USCC, name).
pub async fn replace_remote_organs(
    db: &sqlx::AnyPool,
    region: &str,
    organs: impl Iterator<Item = (&str, &str)>,
    message_id: &str,
    now: i64,
) -> AppResult<()> {
    let organs: Vec<(&str, &str)> = organs.collect();
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM office_remote_organs WHERE region = $1")
        .bind(region.to_owned())
        .execute(&mut *tx)
        .await?;
    for chunk in organs.chunks(ROWS_PER_STATEMENT) {
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO office_remote_organs (region, uscc, name, message_id, refreshed_at) \
             VALUES {} ON CONFLICT (region, uscc) DO NOTHING",
            placeholders(chunk.len(), 5)
        )));
        for (uscc, name) in chunk {
            insert = insert
                .bind(region.to_owned())
                .bind((*uscc).to_owned())
                .bind((*name).to_owned())
                .bind(message_id.to_owned())
                .bind(now);
        }
        insert.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The partner region and USCC of the organ of that full name (the first, by region, when two
/// regions have one).
pub async fn remote_organ_named<'e>(
    db: impl Exec<'e>,
    name: &str,
) -> AppResult<Option<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT region, uscc FROM office_remote_organs WHERE name = $1 ORDER BY region, uscc \
         LIMIT 1",
    )
    .bind(name.trim().to_owned())
    .fetch_optional(db)
    .await?)
}

/// A package waiting to go to another region.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExchangeEntry {
    pub id: String,
    pub to_uscc: String,
    pub body: String,
    pub attempts: i64,
    pub next_at: i64,
}

/// Writes a package for another region (once per document and region).
pub async fn insert_exchange<'e>(
    db: impl Exec<'e>,
    document: &str,
    region: &str,
    to_uscc: &str,
    body: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_exchange_out (id, document_id, region, to_uscc, body, attempts, \
         next_at) VALUES ($1, $2, $3, $4, $5, 0, $6) \
         ON CONFLICT (document_id, region) DO NOTHING",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(document.to_owned())
    .bind(region.to_owned())
    .bind(to_uscc.to_owned())
    .bind(body.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The packages due to be sent, the longest waiting first.
pub async fn exchange_due(
    db: &sqlx::AnyPool,
    now: i64,
    limit: i64,
) -> AppResult<Vec<ExchangeEntry>> {
    Ok(sqlx::query_as(
        "SELECT id, to_uscc, body, attempts, next_at FROM office_exchange_out \
         WHERE outcome IS NULL AND next_at <= $1 ORDER BY next_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Holds a due package until `until`, unless another node took it since it was read.
pub async fn claim_exchange(
    db: &sqlx::AnyPool,
    id: &str,
    seen_next_at: i64,
    until: i64,
) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE office_exchange_out SET next_at = $1 WHERE id = $2 AND next_at = $3 \
         AND outcome IS NULL",
    )
    .bind(until)
    .bind(id.to_owned())
    .bind(seen_next_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records what became of a package for good (`delivered` or `refused`, and the answer).
pub async fn exchange_done(
    db: &sqlx::AnyPool,
    id: &str,
    outcome: &str,
    answer: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE office_exchange_out SET outcome = $1, answer = $2, done_at = $3, \
         attempts = attempts + 1 WHERE id = $4",
    )
    .bind(outcome.to_owned())
    .bind(answer.to_owned())
    .bind(now)
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// Tries a package again at `next_at`, noting why it could not go now.
pub async fn exchange_later(
    db: &sqlx::AnyPool,
    id: &str,
    next_at: i64,
    why: &str,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE office_exchange_out SET next_at = $1, answer = $2, attempts = attempts + 1 \
         WHERE id = $3",
    )
    .bind(next_at)
    .bind(why.chars().take(2_000).collect::<String>())
    .bind(id.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// Circulates a received document to a colleague (once; circulating again leaves the
/// receipt as it is).
pub async fn insert_reader<'e>(
    db: impl Exec<'e>,
    incoming: &str,
    account: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_incoming_readers (incoming_id, account_id, sent_at, read_at) \
         VALUES ($1, $2, $3, NULL) ON CONFLICT (incoming_id, account_id) DO NOTHING",
    )
    .bind(incoming.to_owned())
    .bind(account.to_owned())
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_reader_read<'e>(
    db: impl Exec<'e>,
    incoming: &str,
    account: &str,
    now: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE office_incoming_readers SET read_at = $1 WHERE incoming_id = $2 \
         AND account_id = $3 AND read_at IS NULL",
    )
    .bind(now)
    .bind(incoming.to_owned())
    .bind(account.to_owned())
    .execute(db)
    .await?;
    Ok(())
}

/// Whether a received document was circulated to `account` (read or not).
pub async fn is_reader<'e>(db: impl Exec<'e>, incoming: &str, account: &str) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM office_incoming_readers WHERE incoming_id = $1 AND account_id = $2",
    )
    .bind(incoming.to_owned())
    .bind(account.to_owned())
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Whether a received document was circulated to `account` and waits to be read by them.
pub async fn reader_unread<'e>(
    db: impl Exec<'e>,
    incoming: &str,
    account: &str,
) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM office_incoming_readers WHERE incoming_id = $1 AND account_id = $2 \
         AND read_at IS NULL",
    )
    .bind(incoming.to_owned())
    .bind(account.to_owned())
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Those a received document was circulated to, with when each read it.
pub async fn readers<'e>(
    db: impl Exec<'e>,
    incoming: &str,
) -> AppResult<Vec<(String, Option<i64>)>> {
    Ok(sqlx::query_as(
        "SELECT account_id, read_at FROM office_incoming_readers WHERE incoming_id = $1 \
         ORDER BY sent_at, account_id",
    )
    .bind(incoming.to_owned())
    .fetch_all(db)
    .await?)
}

const INCOMING_HISTORY: &str = "SELECT incoming_id, seq, step, act, actor_id, actor_name, \
     opinion, opinion_digest, content_digest, log_index, at FROM office_incoming_history";

/// An act on a received document (its id in `document_id`).
pub async fn insert_incoming_history<'e>(db: impl Exec<'e>, row: &HistoryRow) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO office_incoming_history (incoming_id, seq, step, act, actor_id, \
         actor_name, opinion, opinion_digest, content_digest, log_index, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(row.document_id.clone())
    .bind(row.seq)
    .bind(row.step.clone())
    .bind(row.act.clone())
    .bind(row.actor_id.clone())
    .bind(row.actor_name.clone())
    .bind(row.opinion.clone())
    .bind(row.opinion_digest.clone())
    .bind(row.content_digest.clone())
    .bind(row.log_index)
    .bind(row.at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn incoming_history<'e>(db: impl Exec<'e>, incoming: &str) -> AppResult<Vec<HistoryRow>> {
    let rows: Vec<HistoryTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{INCOMING_HISTORY} WHERE incoming_id = $1 ORDER BY seq"
    )))
    .bind(incoming.to_owned())
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(history_of).collect())
}

pub async fn unlogged_incoming<'e>(db: impl Exec<'e>, limit: i64) -> AppResult<Vec<HistoryRow>> {
    let rows: Vec<HistoryTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{INCOMING_HISTORY} WHERE log_index IS NULL ORDER BY at, incoming_id, seq LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(history_of).collect())
}

pub async fn set_incoming_log_index<'e>(
    db: impl Exec<'e>,
    incoming: &str,
    seq: i64,
    index: i64,
) -> AppResult<()> {
    sqlx::query(
        "UPDATE office_incoming_history SET log_index = $1 WHERE incoming_id = $2 AND seq = $3 \
         AND log_index IS NULL",
    )
    .bind(index)
    .bind(incoming.to_owned())
    .bind(seq)
    .execute(db)
    .await?;
    Ok(())
}

/// What an account did to received documents (已办): (document, its title, the act, when),
/// newest first.
pub async fn handled_incoming_by<'e>(
    db: impl Exec<'e>,
    account: &str,
    limit: i64,
) -> AppResult<Vec<(String, String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT h.incoming_id, i.title, h.act, h.at FROM office_incoming_history h \
         JOIN office_incoming i ON i.id = h.incoming_id WHERE h.actor_id = $1 \
         ORDER BY h.at DESC, h.incoming_id, h.seq DESC LIMIT $2",
    )
    .bind(account.to_owned())
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Raises the counter of a code and year by `n` (from 0) and returns its new last number: the
/// caller gives out `last - n + 1 ..= last`. The row stays locked (on PostgreSQL) until the
/// caller's transaction ends.
pub async fn take_numbers<'e>(db: impl Exec<'e>, code: &str, year: i32, n: i64) -> AppResult<i64> {
    let (last,): (i64,) = sqlx::query_as(
        "INSERT INTO office_numbers (code, year, last) VALUES ($1, $2, $3) \
         ON CONFLICT (code, year) DO UPDATE SET last = office_numbers.last + $3 RETURNING last",
    )
    .bind(code.to_owned())
    .bind(i64::from(year))
    .bind(n)
    .fetch_one(db)
    .await?;
    Ok(last)
}

/// Rows of a multi-row statement, so that the binds stay well inside both engines' limits.
const ROWS_PER_STATEMENT: usize = 200;

/// `($1, …, $k), ($k+1, …)`: the placeholders of `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    let mut text = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for column in 0..columns {
            if column > 0 {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&(row * columns + column + 1).to_string());
        }
        text.push(')');
    }
    text
}

/// Replaces whom each document waits for (document, urgency, since, holders), for many
/// documents in a few statements.
pub async fn replace_waiting_many(
    tx: &mut crate::db::Tx<'_>,
    documents: &[(&str, i64, i64, &[Waiting])],
) -> AppResult<()> {
    for chunk in documents.chunks(ROWS_PER_STATEMENT) {
        let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM office_waiting WHERE document_id IN ({})",
            (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
        for (document, ..) in chunk {
            delete = delete.bind((*document).to_owned());
        }
        delete.execute(&mut **tx).await?;
    }
    let rows: Vec<(&str, i64, i64, &Waiting)> = documents
        .iter()
        .flat_map(|(document, urgency, since, holders)| {
            holders
                .iter()
                .map(move |w| (*document, *urgency, *since, w))
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO office_waiting (holder, document_id, excluded, urgency, since) \
             VALUES {} ON CONFLICT (holder, document_id) DO NOTHING",
            placeholders(chunk.len(), 5)
        )));
        for (document, urgency, since, waiting) in chunk {
            insert = insert
                .bind(waiting.holder.clone())
                .bind((*document).to_owned())
                .bind(waiting.excluded.clone())
                .bind(*urgency)
                .bind(*since);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Writes many acts' history rows in a few statements.
pub async fn insert_histories<'r>(
    tx: &mut crate::db::Tx<'_>,
    rows: impl Iterator<Item = &'r HistoryRow>,
) -> AppResult<()> {
    let rows: Vec<&HistoryRow> = rows.collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO office_history (document_id, seq, step, act, actor_id, actor_name, \
             opinion, opinion_digest, content_digest, log_index, at) VALUES {}",
            placeholders(chunk.len(), 11)
        )));
        for row in chunk {
            insert = insert
                .bind(row.document_id.clone())
                .bind(row.seq)
                .bind(row.step.clone())
                .bind(row.act.clone())
                .bind(row.actor_id.clone())
                .bind(row.actor_name.clone())
                .bind(row.opinion.clone())
                .bind(row.opinion_digest.clone())
                .bind(row.content_digest.clone())
                .bind(row.log_index)
                .bind(row.at);
        }
        insert.execute(&mut **tx).await?;
    }
    Ok(())
}

/// A move of a document that keeps its text: from the version read to `next`.
pub struct Move<'a> {
    pub id: &'a str,
    pub version: i64,
    pub next: &'a str,
    pub at: i64,
}

/// Moves many documents, each only from the version its act read, in a few statements; the
/// ids of those that moved (a document named twice must not be: the caller keeps one).
pub async fn advance_many(
    tx: &mut crate::db::Tx<'_>,
    moves: &[Move<'_>],
) -> AppResult<std::collections::HashSet<String>> {
    let mut moved = std::collections::HashSet::with_capacity(moves.len());
    for chunk in moves.chunks(ROWS_PER_STATEMENT) {
        let mut update = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "WITH v (id, version, next, at) AS (VALUES {}) \
             UPDATE office_documents SET state = v.next, modified_at = v.at, \
               version = office_documents.version + 1 \
             FROM v WHERE office_documents.id = v.id AND office_documents.version = v.version \
             RETURNING office_documents.id",
            placeholders(chunk.len(), 4)
        )));
        for m in chunk {
            update = update
                .bind(m.id.to_owned())
                .bind(m.version)
                .bind(m.next.to_owned())
                .bind(m.at);
        }
        let ids: Vec<String> = update.fetch_all(&mut **tx).await?;
        moved.extend(ids);
    }
    Ok(moved)
}

/// Writes many documents' numbers (document, number) in a few statements.
pub async fn set_numbers(tx: &mut crate::db::Tx<'_>, numbers: &[(&str, &Number)]) -> AppResult<()> {
    for chunk in numbers.chunks(ROWS_PER_STATEMENT) {
        let mut update = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH v (id, code, year, seq) AS (VALUES {}) \
             UPDATE office_documents SET number_code = v.code, number_year = v.year, \
               number_seq = v.seq FROM v WHERE office_documents.id = v.id",
            placeholders(chunk.len(), 4)
        )));
        for (id, number) in chunk {
            update = update
                .bind((*id).to_owned())
                .bind(number.code.clone())
                .bind(i64::from(number.year))
                .bind(i64::from(number.seq));
        }
        update.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Notes many log entries on their history rows (document, seq, index), in a few
/// statements; a row already noted keeps its entry.
pub async fn set_log_indexes(
    tx: &mut crate::db::Tx<'_>,
    notes: &[(&str, i64, i64)],
) -> AppResult<()> {
    for chunk in notes.chunks(ROWS_PER_STATEMENT) {
        let mut update = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH v (document_id, seq, log_index) AS (VALUES {}) \
             UPDATE office_history SET log_index = v.log_index FROM v \
             WHERE office_history.document_id = v.document_id AND office_history.seq = v.seq \
               AND office_history.log_index IS NULL",
            placeholders(chunk.len(), 3)
        )));
        for (document, seq, index) in chunk {
            update = update.bind((*document).to_owned()).bind(*seq).bind(*index);
        }
        update.execute(&mut **tx).await?;
    }
    Ok(())
}
