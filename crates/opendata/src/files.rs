//! A resource's files, kept in parts of at most [`PART`] bytes, so that a file of any size is
//! written as it arrives and read back in bounded memory. A raw upload (which may hold personal
//! data until it is treated) is sealed part by part, each part under a context naming the file
//! and the part; reading a file to its end checks it against the SHA-256 the resource records,
//! so a part dropped, swapped or cut is found. A served file is public and kept in clear.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store;

/// The most bytes of a file one part holds.
pub const PART: usize = 4 * 1024 * 1024;

/// What a part is sealed under: the first part's context is the one files kept whole were
/// sealed under, so they open as one-part files.
fn context(file_id: &str, seq: i64) -> String {
    if seq == 0 {
        format!("open_files/{file_id}")
    } else {
        format!("open_files/{file_id}/{seq}")
    }
}

/// A file stored: its id, size and SHA-256 (lower-case hex).
#[derive(Debug, Clone)]
pub struct Spooled {
    pub file_id: String,
    pub size: u64,
    pub sha256: String,
}

/// A file being written as it arrives: every full part is stored at once.
pub struct Spool {
    state: AppState,
    file_id: String,
    sealed: bool,
    limit: u64,
    seq: i64,
    buffer: Vec<u8>,
    size: u64,
    hasher: Sha256,
}

impl Spool {
    /// A new file, sealed or not, refused once it passes `limit` bytes.
    pub fn new(state: &AppState, sealed: bool, limit: u64) -> Spool {
        let kind = if sealed { "raw" } else { "served" };
        Spool {
            state: state.clone(),
            file_id: format!("{kind}/{}", uuid::Uuid::new_v4()),
            sealed,
            limit,
            seq: 0,
            buffer: Vec::with_capacity(PART),
            size: 0,
            hasher: Sha256::new(),
        }
    }

    /// Adds bytes at the end; a failure removes what was stored.
    pub async fn write(&mut self, bytes: &[u8]) -> AppResult<()> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            self.forget().await;
            return Err(AppError::PayloadTooLarge);
        }
        self.hasher.update(bytes);
        let mut rest = bytes;
        while !rest.is_empty() {
            let room = PART - self.buffer.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.buffer.extend_from_slice(now);
            rest = later;
            if self.buffer.len() == PART
                && let Err(error) = self.store_part().await
            {
                self.forget().await;
                return Err(error);
            }
        }
        Ok(())
    }

    async fn store_part(&mut self) -> AppResult<()> {
        let plain = std::mem::replace(&mut self.buffer, Vec::with_capacity(PART));
        let content = if self.sealed {
            self.state
                .vault
                .seal_field(&context(&self.file_id, self.seq), &plain)
        } else {
            plain
        };
        store::put_part(
            self.state.pool(),
            &self.file_id,
            self.seq,
            content,
            self.state.now(),
        )
        .await?;
        self.seq += 1;
        Ok(())
    }

    /// Stores the last part: the file is complete (an empty file is one empty part).
    pub async fn finish(mut self) -> AppResult<Spooled> {
        if (!self.buffer.is_empty() || self.seq == 0)
            && let Err(error) = self.store_part().await
        {
            self.forget().await;
            return Err(error);
        }
        Ok(Spooled {
            file_id: self.file_id,
            size: self.size,
            sha256: data_encoding::HEXLOWER.encode(&self.hasher.finalize()),
        })
    }

    /// Removes what was stored of the file.
    pub async fn abandon(mut self) {
        self.forget().await;
    }

    async fn forget(&mut self) {
        discard(&self.state, &self.file_id).await;
        self.seq = 0;
    }
}

/// Removes a stored file's parts (best effort: what is left is swept after a day).
pub async fn discard(state: &AppState, file_id: &str) {
    if let Err(error) = store::drop_parts(state.pool(), file_id).await {
        tracing::warn!(%error, "removing the parts of a file not kept");
    }
}

/// Removes a stored file unless a resource names it: an upload whose request failed.
pub async fn discard_unless_kept(state: &AppState, file_id: &str) {
    match store::is_attached(state.pool(), file_id).await {
        Ok(false) => discard(state, file_id).await,
        Ok(true) => {}
        Err(error) => tracing::warn!(%error, "checking an upload's file"),
    }
}

/// Stores a whole file in one go, as a resource's file of a kind (the demo's small files).
pub async fn put_whole(
    tx: &mut crate::db::Tx<'_>,
    state: &AppState,
    resource_id: &str,
    kind: store::FileKind,
    plain: &[u8],
) -> AppResult<String> {
    let sealed = kind.sealed();
    let file_id = format!(
        "{}/{}",
        if sealed { "raw" } else { "served" },
        uuid::Uuid::new_v4()
    );
    let mut parts: Vec<&[u8]> = plain.chunks(PART).collect();
    if parts.is_empty() {
        parts.push(&[]);
    }
    for (seq, part) in parts.into_iter().enumerate() {
        let seq = seq as i64;
        let content = if sealed {
            state.vault.seal_field(&context(&file_id, seq), part)
        } else {
            part.to_vec()
        };
        store::put_part(&mut **tx, &file_id, seq, content, state.now()).await?;
    }
    store::attach_file(&mut **tx, resource_id, kind, &file_id).await?;
    Ok(file_id)
}

/// A stored file read from a blocking thread: the parts are fetched (and opened) by a task
/// a part or two ahead of the reader. At the end the bytes read are checked against the
/// SHA-256 expected; a mismatch, or a part that does not open, is an error of the read.
pub struct Reader {
    parts: tokio::sync::mpsc::Receiver<Result<Vec<u8>, String>>,
    current: Vec<u8>,
    at: usize,
    hasher: Sha256,
    expected: String,
    done: bool,
}

/// Opens a stored file for reading (call from the runtime; read from a blocking thread).
pub fn open(state: &AppState, file_id: &str, sealed: bool, sha256: &str) -> Reader {
    let (sender, parts) = tokio::sync::mpsc::channel(2);
    let state = state.clone();
    let file_id = file_id.to_owned();
    tokio::spawn(async move {
        for seq in 0.. {
            let next = match store::part(state.pool(), &file_id, seq).await {
                Ok(None) => return,
                Ok(Some(content)) if sealed => state
                    .vault
                    .open_field(&context(&file_id, seq), &content)
                    .map(|plain| plain.to_vec())
                    .map_err(|e| e.to_string()),
                Ok(Some(content)) => Ok(content),
                Err(error) => Err(error.to_string()),
            };
            let failed = next.is_err();
            if sender.send(next).await.is_err() || failed {
                return;
            }
        }
    });
    Reader {
        parts,
        current: Vec::new(),
        at: 0,
        hasher: Sha256::new(),
        expected: sha256.to_owned(),
        done: false,
    }
}

impl Read for Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.parts.blocking_recv() {
                Some(Ok(part)) => {
                    self.hasher.update(&part);
                    self.current = part;
                    self.at = 0;
                }
                Some(Err(why)) => return Err(io::Error::other(why)),
                None => {
                    self.done = true;
                    let seen = data_encoding::HEXLOWER.encode(&self.hasher.clone().finalize());
                    if seen != self.expected {
                        return Err(io::Error::other(
                            "the stored file does not match its SHA-256",
                        ));
                    }
                }
            }
        }
        let n = (self.current.len() - self.at).min(out.len());
        out[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A stored file as a response body, a part at a time.
pub fn body(state: &AppState, file_id: &str) -> axum::body::Body {
    let state = state.clone();
    let file_id = file_id.to_owned();
    let parts = futures_util::stream::try_unfold(0i64, move |seq| {
        let state = state.clone();
        let file_id = file_id.clone();
        async move {
            match store::part(state.pool(), &file_id, seq).await {
                Ok(Some(content)) => Ok(Some((axum::body::Bytes::from(content), seq + 1))),
                Ok(None) => Ok(None),
                Err(error) => Err(io::Error::other(error.to_string())),
            }
        }
    });
    axum::body::Body::from_stream(parts)
}
