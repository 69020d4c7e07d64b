//! Group commit for the acts on documents: the acts of every request of this node gather in a
//! queue and are written in one transaction, each in a savepoint of its own — so an act that
//! lost its race (the document moved first) is undone alone and told, while the others stand.
//! A recheck takes its number inside its savepoint: undone, it gives the number back, and the
//! numbers of a code and year still run without a gap. The log's entries that witness the acts
//! are noted on their history rows by the same writer, in its next transaction.
//!
//! One commit for many acts is what lets a secretariat number thousands of documents a second
//! on one disk; on PostgreSQL the counter's row is locked once per batch rather than once per
//! document, so several nodes queue on it batch by batch.

use tokio::sync::{mpsc, oneshot};
use tongban_crypto::HashAlgorithm;

use crate::error::{AppError, AppResult, retrying};
use crate::gongwen::flow::Step;
use crate::store::{self, Document, HistoryRow};

const MAX_BATCH: usize = 512;

/// What an act changes beside the document's step and text.
#[derive(Debug, Clone)]
pub enum Effect {
    None,
    /// Sent for review: the reviewers, in order, and the leader.
    NameParties {
        reviewers: Vec<String>,
        leader: String,
    },
    /// A reviewer's agreement.
    Agree {
        account: String,
    },
    /// Rechecked: the document takes the next number of its code in `year`.
    Number {
        year: i32,
    },
}

/// An act to write: the document as read (its version) with its text as the act leaves it,
/// the step it moves to, the act's other effect, and its history row (whose content digest
/// the writer fills in, once the number is known).
#[derive(Debug, Clone)]
pub struct Job {
    pub document: Document,
    pub next: Step,
    pub effect: Effect,
    pub history: HistoryRow,
    /// Whom the document waits for after the act.
    pub waiting: Vec<store::Waiting>,
    /// Whether the act changed the document's text (it is written back only then).
    pub draft_changed: bool,
}

enum Op {
    Act(Box<Job>, oneshot::Sender<AppResult<HistoryRow>>),
    Witnessed {
        document: String,
        seq: i64,
        index: i64,
        done: oneshot::Sender<AppResult<()>>,
    },
}

/// The handle through which this node writes acts on documents.
#[derive(Clone)]
pub struct Desk {
    queue: mpsc::Sender<Op>,
}

impl Desk {
    /// Starts the writer on the current runtime.
    pub fn start(pool: sqlx::AnyPool, hash: HashAlgorithm) -> Desk {
        let (queue, receiver) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(pool, hash, receiver));
        Desk { queue }
    }

    /// Writes an act; its history row as written, or why it was not (a conflict: someone
    /// acted on the document first).
    pub async fn act(&self, job: Job) -> AppResult<HistoryRow> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Op::Act(Box::new(job), done))
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }

    /// Notes the log's entry that witnesses an act on its history row.
    pub async fn witnessed(&self, document: &str, seq: i64, index: i64) -> AppResult<()> {
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Op::Witnessed {
                document: document.to_owned(),
                seq,
                index,
                done,
            })
            .await
            .map_err(|_| AppError::Unavailable)?;
        outcome.await.map_err(|_| AppError::Unavailable)?
    }
}

async fn write_batches(pool: sqlx::AnyPool, hash: HashAlgorithm, mut receiver: mpsc::Receiver<Op>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match retrying(|| write(&pool, hash, &batch)).await {
            Ok(outcomes) => {
                for (op, outcome) in batch.drain(..).zip(outcomes) {
                    match (op, outcome) {
                        (Op::Act(_, done), outcome) => {
                            let _ = done.send(outcome.and_then(|row| {
                                row.ok_or_else(|| {
                                    AppError::Internal(anyhow::anyhow!("an act without its row"))
                                })
                            }));
                        }
                        (Op::Witnessed { done, .. }, outcome) => {
                            let _ = done.send(outcome.map(|_| ()));
                        }
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, count = batch.len(), "acts on documents could not be written");
                for op in batch.drain(..) {
                    match op {
                        Op::Act(_, done) => {
                            let _ = done.send(Err(AppError::Unavailable));
                        }
                        Op::Witnessed { done, .. } => {
                            let _ = done.send(Err(AppError::Unavailable));
                        }
                    }
                }
            }
        }
    }
}

/// One transaction for the batch; each op's outcome in order (an act's history row; nothing
/// for a witness note).
async fn write(
    pool: &sqlx::AnyPool,
    hash: HashAlgorithm,
    batch: &[Op],
) -> AppResult<Vec<AppResult<Option<HistoryRow>>>> {
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for op in batch {
        match op {
            Op::Witnessed {
                document,
                seq,
                index,
                ..
            } => {
                store::set_log_index(&mut *tx, document, *seq, *index).await?;
                outcomes.push(Ok(None));
            }
            Op::Act(job, _) => {
                let mut savepoint = sqlx::Acquire::begin(&mut tx).await?;
                match apply(&mut savepoint, hash, job).await {
                    Ok(row) => {
                        savepoint.commit().await?;
                        outcomes.push(Ok(Some(row)));
                    }
                    // The act's own refusal: undone alone.
                    Err(refused @ (AppError::Conflict(_) | AppError::Invalid { .. })) => {
                        savepoint.rollback().await?;
                        outcomes.push(Err(refused));
                    }
                    // The database's trouble: the whole batch is tried again or refused.
                    Err(error) => return Err(error),
                }
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Lower-case hex, as the history shows digests.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of what a document says: its text as JSON, then its number.
pub fn content_digest(hash: HashAlgorithm, document: &Document) -> AppResult<String> {
    let mut content =
        serde_json::to_vec(&document.draft).map_err(|e| AppError::Internal(e.into()))?;
    if let Some(number) = &document.number {
        content.extend_from_slice(number.to_string().as_bytes());
    }
    Ok(hex(&tongban_crypto::digest(hash, &content)))
}

async fn apply(
    tx: &mut crate::db::Tx<'_>,
    hash: HashAlgorithm,
    job: &Job,
) -> AppResult<HistoryRow> {
    let mut document = job.document.clone();
    let now = job.history.at;
    // A recheck takes its number first: if the document moved meanwhile, the savepoint's
    // rollback gives the number back with the rest.
    let moved = match &job.effect {
        Effect::Number { year } => {
            let number = crate::numbering::issue(tx, &document.code, *year).await?;
            let moved =
                store::advance_numbered(&mut **tx, &document, job.next, &number, now).await?;
            document.number = Some(number);
            moved
        }
        _ => store::advance(&mut **tx, &document, job.next, now, job.draft_changed).await?,
    };
    if !moved {
        return Err(AppError::Conflict(
            "someone acted on the document first; read it again".into(),
        ));
    }
    store::replace_waiting(
        tx,
        &document.id,
        store::urgency_rank(&document.draft),
        now,
        &job.waiting,
    )
    .await?;
    match &job.effect {
        Effect::NameParties { reviewers, leader } => {
            store::name_parties(tx, &document.id, reviewers, leader).await?;
        }
        Effect::Agree { account } => store::agree(&mut **tx, &document.id, account, now).await?,
        Effect::None | Effect::Number { .. } => {}
    }
    let mut row = job.history.clone();
    row.seq = document.version + 1;
    row.content_digest = content_digest(hash, &document)?;
    store::insert_history(&mut **tx, &row).await?;
    Ok(row)
}
