//! Group commit for the acts on documents: the acts of every request of this node gather in a
//! queue and are written in one transaction, while each act stands or falls alone. An act that lost its race (the document moved first) writes nothing and is told; the
//! rechecks of the batch that stand take their numbers together, one counter statement per
//! code and year, so the numbers of a code and year still run without a gap. The log's entries
//! that witness the acts are noted on their history rows by the same writer, in its next
//! transaction, without the act waiting for it.
//!
//! One commit for many acts is what lets a secretariat number thousands of documents a second
//! on one disk; on PostgreSQL the counter's row is locked once per batch rather than once per
//! document, so several nodes queue on it batch by batch.

use tokio::sync::{mpsc, oneshot};
use tongban_crypto::HashAlgorithm;

use crate::error::{AppError, AppResult, retrying};
use crate::gongwen::flow::Step;
use crate::gongwen::number::Number;
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

    /// Notes the log's entry that witnesses an act on its history row, in the writer's next
    /// transaction; the caller does not wait for it (a note lost to a crash is made again by
    /// the office's witness job, which appends an entry for every row without one).
    pub async fn witnessed(&self, document: &str, seq: i64, index: i64) -> AppResult<()> {
        let (done, _outcome) = oneshot::channel();
        self.queue
            .send(Op::Witnessed {
                document: document.to_owned(),
                seq,
                index,
                done,
            })
            .await
            .map_err(|_| AppError::Unavailable)
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
/// for a witness note). The acts are written in three passes, so that most of their
/// statements are one per batch rather than one per act:
///
/// 1. each act moves its document from the version it read (one conditional statement; an
///    act that finds the document moved is refused alone, having written nothing);
/// 2. the rechecks that moved take their numbers: one statement per code and year raises its
///    counter by their count, and each document is given its number in the batch's order —
///    so the numbers of the batch are exactly those the counter gave, without a gap;
/// 3. the acts' other effects, then the waiting index and the history rows of the whole
///    batch, and the witness notes.
async fn write(
    pool: &sqlx::AnyPool,
    hash: HashAlgorithm,
    batch: &[Op],
) -> AppResult<Vec<AppResult<Option<HistoryRow>>>> {
    let mut tx = pool.begin().await?;
    let mut outcomes: Vec<AppResult<Option<HistoryRow>>> = Vec::with_capacity(batch.len());
    // Pass 1: the moves. A document is moved once per batch: of the acts on it, the one that
    // read the latest version may stand (the others read a version already gone); the acts that
    // change its text are written alone, those that keep it together.
    let mut candidates: Vec<usize> = Vec::new();
    for (i, op) in batch.iter().enumerate() {
        outcomes.push(Ok(None));
        let Op::Act(job, _) = op else { continue };
        if let Effect::Number { year } = &job.effect {
            // A code that cannot make a number is refused before anything is written.
            if let Err(e) = Number::new(&job.document.code, *year, 1) {
                outcomes[i] = Err(AppError::invalid("code", e.to_string()));
                continue;
            }
        }
        let rival = candidates.iter().position(
            |&c| matches!(&batch[c], Op::Act(other, _) if other.document.id == job.document.id),
        );
        match rival {
            Some(at) => {
                let Op::Act(other, _) = &batch[candidates[at]] else {
                    continue;
                };
                if job.document.version > other.document.version {
                    outcomes[candidates[at]] = Err(lost());
                    candidates[at] = i;
                } else {
                    outcomes[i] = Err(lost());
                }
            }
            None => candidates.push(i),
        }
    }
    let mut moves = Vec::new();
    let mut moved_ids = std::collections::HashSet::new();
    for &i in &candidates {
        let Op::Act(job, _) = &batch[i] else { continue };
        if job.draft_changed {
            if store::advance(&mut *tx, &job.document, job.next, job.history.at, true).await? {
                moved_ids.insert(job.document.id.clone());
            }
        } else {
            moves.push(store::Move {
                id: &job.document.id,
                version: job.document.version,
                next: job.next.as_str(),
                at: job.history.at,
            });
        }
    }
    moved_ids.extend(store::advance_many(&mut tx, &moves).await?);
    let mut moved: Vec<(usize, Document)> = Vec::with_capacity(candidates.len());
    for i in candidates {
        let Op::Act(job, _) = &batch[i] else { continue };
        if moved_ids.contains(&job.document.id) {
            let mut document = job.document.clone();
            document.version += 1;
            moved.push((i, document));
        } else {
            outcomes[i] = Err(lost());
        }
    }
    // Pass 2: the numbers, per code and year in the batch's order.
    let mut counts: Vec<((String, i32), u32)> = Vec::new();
    for (i, document) in &moved {
        if let Op::Act(job, _) = &batch[*i]
            && let Effect::Number { year } = &job.effect
        {
            let key = (document.code.clone(), *year);
            match counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => *n += 1,
                None => counts.push((key, 1)),
            }
        }
    }
    let mut next_seq: Vec<((String, i32), u32)> = Vec::with_capacity(counts.len());
    for ((code, year), n) in counts {
        let last = store::take_numbers(&mut *tx, &code, year, i64::from(n)).await?;
        let first = u32::try_from(last - i64::from(n) + 1).unwrap_or(u32::MAX);
        next_seq.push(((code, year), first));
    }
    for (i, document) in &mut moved {
        if let Op::Act(job, _) = &batch[*i]
            && let Effect::Number { year } = &job.effect
        {
            let key = (document.code.clone(), *year);
            let Some((_, seq)) = next_seq.iter_mut().find(|(k, _)| *k == key) else {
                continue;
            };
            let number = Number::new(&document.code, *year, *seq)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            *seq += 1;
            document.number = Some(number);
        }
    }
    let numbered: Vec<(&str, &Number)> = moved
        .iter()
        .filter(|(i, _)| matches!(&batch[*i], Op::Act(job, _) if matches!(job.effect, Effect::Number { .. })))
        .filter_map(|(_, document)| Some((document.id.as_str(), document.number.as_ref()?)))
        .collect();
    store::set_numbers(&mut tx, &numbered).await?;
    // Pass 3: the effects, the waiting index and the history.
    let mut waiting = Vec::with_capacity(moved.len());
    let mut rows = Vec::with_capacity(moved.len());
    for (i, document) in &moved {
        let Op::Act(job, _) = &batch[*i] else {
            continue;
        };
        let now = job.history.at;
        match &job.effect {
            Effect::NameParties { reviewers, leader } => {
                store::name_parties(&mut tx, &document.id, reviewers, leader).await?;
            }
            Effect::Agree { account } => store::agree(&mut *tx, &document.id, account, now).await?,
            Effect::None | Effect::Number { .. } => {}
        }
        waiting.push((
            document.id.as_str(),
            store::urgency_rank(&document.draft),
            now,
            job.waiting.as_slice(),
        ));
        let mut row = job.history.clone();
        row.seq = document.version;
        row.content_digest = content_digest(hash, document)?;
        rows.push((*i, row));
    }
    store::replace_waiting_many(&mut tx, &waiting).await?;
    store::insert_histories(&mut tx, rows.iter().map(|(_, row)| row)).await?;
    for (i, row) in rows {
        outcomes[i] = Ok(Some(row));
    }
    let notes: Vec<(&str, i64, i64)> = batch
        .iter()
        .filter_map(|op| match op {
            Op::Witnessed {
                document,
                seq,
                index,
                ..
            } => Some((document.as_str(), *seq, *index)),
            Op::Act(..) => None,
        })
        .collect();
    store::set_log_indexes(&mut tx, &notes).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Why an act that lost its race wrote nothing.
fn lost() -> AppError {
    AppError::Conflict("someone acted on the document first; read it again".into())
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
