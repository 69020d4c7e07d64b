//! One exchange as the message log keeps it: who called which service, the hash of the
//! request and of the answer as delivered, each signed by its side's department key, and when.
//! The record is an entry of the transparency log; a party proves an exchange offline with a
//! [`Receipt`]: the entry, its inclusion proof and a signed checkpoint that covers it.
//!
//! Hashes follow X-Road's `X-Road-Request-Hash`: base64 of SHA-512(SHA-512(head) ‖
//! SHA-512(body)), or SHA-512(head) without a body. The head of a request is
//! `METHOD path?query` and the headers that travel (`x-road-client`, `content-type`, `accept`),
//! one per line; of an answer, the status and its content type.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use tongban_crypto::{PublicKey, Signer};

use crate::keys::offline::{Refusal, refuse, trusted_keys};
use crate::keys::service::TrustedKey;

/// The purpose of a department's key that signs its side of exchanges.
pub const EXCHANGE_KEY: &str = "exchange";
/// The kind of document an exchange key signs, as its scope in the trust list names it.
pub const EXCHANGE_KIND: &str = "data_exchange";

/// SHA-512 as X-Road's request hash combines it. The body, which may weigh megabytes, is
/// hashed with ring's assembly SHA-512 (about a sixth faster than the portable one on the
/// machine of docs/BENCHMARKS.md; both sides of every exchange hash it).
pub fn message_hash(head: &str, body: &[u8]) -> String {
    let head = Sha512::digest(head.as_bytes());
    let digest = if body.is_empty() {
        Sha512::digest(head)
    } else {
        let mut outer = Sha512::new();
        outer.update(head);
        outer.update(ring::digest::digest(&ring::digest::SHA512, body));
        outer.finalize()
    };
    STANDARD.encode(digest)
}

/// The head of a request: method and target, then the headers that travel.
pub fn request_head(method: &str, target: &str, headers: &[(&str, &str)]) -> String {
    let mut head = format!("{method} {target}\n");
    for (name, value) in headers {
        head.push_str(name);
        head.push_str(": ");
        head.push_str(value);
        head.push('\n');
    }
    head
}

/// The head of an answer.
pub fn response_head(status: u16, content_type: Option<&str>) -> String {
    format!("{status}\ncontent-type: {}\n", content_type.unwrap_or(""))
}

/// An exchange, as written to the transparency log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeRecord {
    /// `data_exchange`.
    pub kind: String,
    /// The message id (`X-Road-Id`).
    pub id: String,
    pub client: String,
    pub service: String,
    pub request_hash: String,
    /// RFC 3339 with milliseconds.
    pub requested_at: String,
    pub request_kid: String,
    /// base64url, by the consumer department's exchange key.
    pub request_signature: String,
    pub status: u16,
    /// The X-Road error type when the gateway answered itself (`Client.…`, `Server.…`).
    pub error: Option<String>,
    pub response_hash: String,
    pub responded_at: String,
    pub response_kid: String,
    /// base64url, by the provider department's exchange key.
    pub response_signature: String,
}

/// What the consumer's side signs.
pub fn request_bytes(id: &str, client: &str, service: &str, hash: &str, at: &str) -> Vec<u8> {
    format!("tongban-exchange-request/1\n{id}\n{client}\n{service}\n{hash}\n{at}\n").into_bytes()
}

/// What the provider's side signs: bound to the request by its hash.
pub fn response_bytes(
    id: &str,
    request_hash: &str,
    status: u16,
    error: Option<&str>,
    hash: &str,
    at: &str,
) -> Vec<u8> {
    format!(
        "tongban-exchange-response/1\n{id}\n{request_hash}\n{status}\n{}\n{hash}\n{at}\n",
        error.unwrap_or("")
    )
    .into_bytes()
}

/// Signs `bytes`, returning the key id and the base64url signature.
pub fn sign(signer: &dyn Signer, bytes: &[u8]) -> (String, String) {
    (
        signer.kid().to_owned(),
        URL_SAFE_NO_PAD.encode(signer.sign(bytes)),
    )
}

/// What a party keeps to prove an exchange without the platform.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    /// `tongban-exchange-receipt/1`.
    pub format: String,
    /// The log entry, exactly as hashed into the log.
    pub entry: String,
    pub index: u64,
    pub tree_size: u64,
    /// The audit path, base64 hashes.
    pub inclusion: Vec<String>,
    /// The signed checkpoint (a signed note) of the tree of `tree_size` entries.
    pub checkpoint: String,
}

pub const RECEIPT_FORMAT: &str = "tongban-exchange-receipt/1";

/// The member code of an identifier (`INSTANCE/CLASS/MEMBER/…`).
fn member(id: &str) -> Option<&str> {
    id.split('/').nth(2)
}

fn check_signature(
    keys: &[TrustedKey],
    kid: &str,
    member: &str,
    bytes: &[u8],
    signature: &str,
    side: &'static str,
) -> Result<(), Refusal> {
    let key = keys
        .iter()
        .find(|k| k.kid == kid && k.purpose == EXCHANGE_KEY)
        .ok_or_else(|| {
            refuse(
                "unknown_key",
                format!("the {side} key {kid} is not in the trust list"),
            )
        })?;
    if !key.may_sign(member, EXCHANGE_KIND) {
        return Err(refuse(
            "key_not_permitted",
            format!("the {side} key {kid} does not sign for {member}"),
        ));
    }
    let public = key
        .public_key()
        .ok_or_else(|| refuse("bad_trust_list", format!("key {kid} does not parse")))?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| {
        refuse(
            "bad_signature",
            format!("the {side} signature is not base64url"),
        )
    })?;
    tongban_crypto::verify(&public, bytes, &signature).map_err(|_| {
        refuse(
            "bad_signature",
            format!("the {side} signature does not verify"),
        )
    })
}

/// Seconds since the epoch of an RFC 3339 time.
fn unix_seconds(text: &str) -> Option<i64> {
    crate::time_fmt::parse_millis(text).map(|ms| ms.div_euclid(1000))
}

/// Checks a receipt offline against a trust list (and its pinned root key): both signatures
/// by keys the list binds to the two members, and the entry's inclusion in a checkpoint the
/// region's ledger key signed. Returns the record.
pub fn verify_receipt(
    trust_list: &str,
    root: Option<&PublicKey>,
    receipt: &str,
) -> Result<ExchangeRecord, Refusal> {
    verify_receipt_across(&[(trust_list, root)], receipt)
}

/// [`verify_receipt`] for an exchange between regions: the trust lists of both (each with its
/// pinned root key, if given). Each member's signature is checked with the keys a list binds
/// to it; the checkpoint must be signed by the ledger key of one of the regions (the one whose
/// log the receipt comes from). An error the consumer's gateway answered itself
/// (`Server.ClientProxy.…`) is signed by the consumer's key, as the provider never spoke.
pub fn verify_receipt_across(
    lists: &[(&str, Option<&PublicKey>)],
    receipt: &str,
) -> Result<ExchangeRecord, Refusal> {
    let receipt: Receipt = serde_json::from_str(receipt)
        .map_err(|_| refuse("malformed", "the receipt is not well formed"))?;
    if receipt.format != RECEIPT_FORMAT {
        return Err(refuse("malformed", "not a tongban exchange receipt"));
    }
    let record: ExchangeRecord = serde_json::from_str(&receipt.entry)
        .map_err(|_| refuse("malformed", "the entry is not an exchange record"))?;
    if record.kind != "data_exchange" {
        return Err(refuse("malformed", "the entry is not an exchange record"));
    }
    let at = unix_seconds(&record.requested_at)
        .ok_or_else(|| refuse("malformed", "requested_at is not an RFC 3339 time"))?;
    if lists.is_empty() {
        return Err(refuse("bad_trust_list", "give at least one trust list"));
    }
    // The keys current when the exchange took place.
    let mut payloads = Vec::with_capacity(lists.len());
    for (list, root) in lists {
        payloads.push(trusted_keys(list, *root, crate::keys::service::LEDGER, at)?.0);
    }
    let when = crate::time_fmt::rfc3339(at * 1000);
    let current: Vec<TrustedKey> = payloads
        .iter()
        .flat_map(|payload| payload.keys.iter())
        .filter(|k| {
            k.not_before <= when && k.not_after.as_deref().is_none_or(|end| when.as_str() < end)
        })
        .cloned()
        .collect();
    let client_member = member(&record.client)
        .ok_or_else(|| refuse("malformed", "the client is not an X-Road identifier"))?;
    let provider_member = member(&record.service)
        .ok_or_else(|| refuse("malformed", "the service is not an X-Road identifier"))?;
    check_signature(
        &current,
        &record.request_kid,
        client_member,
        &request_bytes(
            &record.id,
            &record.client,
            &record.service,
            &record.request_hash,
            &record.requested_at,
        ),
        &record.request_signature,
        "request",
    )?;
    let answered_by = if record
        .error
        .as_deref()
        .is_some_and(|kind| kind.starts_with("Server.ClientProxy."))
    {
        client_member
    } else {
        provider_member
    };
    check_signature(
        &current,
        &record.response_kid,
        answered_by,
        &response_bytes(
            &record.id,
            &record.request_hash,
            record.status,
            record.error.as_deref(),
            &record.response_hash,
            &record.responded_at,
        ),
        &record.response_signature,
        "response",
    )?;
    // The entry is in one region's log, signed by the ledger key of the day the receipt was
    // made.
    let (payload, checkpoint) = payloads
        .iter()
        .find_map(|payload| {
            let origin = format!("tongban.{}/audit", payload.region);
            payload
                .keys
                .iter()
                .filter(|k| k.purpose == crate::keys::service::LEDGER)
                .filter_map(TrustedKey::public_key)
                .find_map(|key| {
                    tongban_ledger::SignedCheckpoint::verify(&receipt.checkpoint, &origin, &key)
                        .ok()
                })
                .map(|checkpoint| (payload, checkpoint))
        })
        .ok_or_else(|| {
            refuse(
                "bad_checkpoint",
                "the checkpoint is not signed by a region's ledger key",
            )
        })?;
    if checkpoint.checkpoint.size != receipt.tree_size {
        return Err(refuse(
            "bad_proof",
            "the checkpoint is of another tree size",
        ));
    }
    let algorithm = if payload.profile == "gm" {
        tongban_crypto::HashAlgorithm::Sm3
    } else {
        tongban_crypto::HashAlgorithm::Sha256
    };
    let mut path = Vec::with_capacity(receipt.inclusion.len());
    for hash in &receipt.inclusion {
        let bytes = STANDARD
            .decode(hash)
            .map_err(|_| refuse("malformed", "an inclusion hash is not base64"))?;
        path.push(
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| refuse("malformed", "an inclusion hash is not 32 bytes"))?,
        );
    }
    let leaf = tongban_ledger::leaf_hash(algorithm, receipt.entry.as_bytes());
    tongban_ledger::verify_inclusion(
        algorithm,
        &leaf,
        receipt.index,
        receipt.tree_size,
        &path,
        &checkpoint.checkpoint.root,
    )
    .map_err(|_| refuse("bad_proof", "the entry is not in the checkpointed log"))?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_hash_is_xroads_double_sha512() {
        let head = request_head("GET", "/x", &[("accept", "application/json")]);
        let expected = {
            let h = Sha512::digest(head.as_bytes());
            STANDARD.encode(Sha512::digest(h))
        };
        assert_eq!(message_hash(&head, b""), expected);
        // With a body: SHA-512(SHA-512(head) ‖ SHA-512(body)), whichever SHA-512 hashes it.
        let body = vec![7u8; 300_000];
        let with_body = {
            let mut outer = Sha512::new();
            outer.update(Sha512::digest(head.as_bytes()));
            outer.update(Sha512::digest(&body));
            STANDARD.encode(outer.finalize())
        };
        assert_eq!(message_hash(&head, &body), with_body);
        assert_ne!(message_hash(&head, b"a"), message_hash(&head, b"b"));
        assert_eq!(
            STANDARD.decode(message_hash(&head, b"a")).map(|b| b.len()),
            Ok(64)
        );
    }

    #[test]
    fn signed_texts_bind_every_field() {
        let a = response_bytes("id", "rh", 200, None, "h", "t");
        assert_ne!(a, response_bytes("id", "rh", 201, None, "h", "t"));
        assert_ne!(
            a,
            response_bytes("id", "rh", 200, Some("Client.X"), "h", "t")
        );
        assert_ne!(a, response_bytes("id", "rx", 200, None, "h", "t"));
        let r = request_bytes("id", "c", "s", "h", "t");
        assert_ne!(r, request_bytes("id", "c", "s2", "h", "t"));
    }
}
