//! Signing keys of each authority: creation, rotation (the new key signs, old keys keep
//! verifying until their end), and the signed trust list that publishes the public halves.

use serde::{Deserialize, Serialize};
use tongban_crypto::{PublicKey, SignatureAlgorithm, Signer, SoftwareSigner};

use super::store::{self, SigningKeyRow};
use crate::error::{AppError, AppResult};
use crate::random;
use crate::state::AppState;
use crate::time_fmt::rfc3339;

/// Signs the trust list.
pub const ROOT: &str = "root";
/// Signs the checkpoints of the transparency log.
pub const LEDGER: &str = "ledger";
/// Signs the region's pass codes.
pub const PASS: &str = "pass";

const DAY_MS: i64 = 24 * 3600 * 1000;

fn aad(kid: &str) -> Vec<u8> {
    format!("signing_keys/{kid}").into_bytes()
}

fn algorithm(row: &SigningKeyRow) -> AppResult<SignatureAlgorithm> {
    row.algorithm
        .parse()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("unknown algorithm of key {}", row.kid)))
}

fn unseal(state: &AppState, row: &SigningKeyRow) -> AppResult<SoftwareSigner> {
    SoftwareSigner::unseal(
        state.vault.kek(),
        &aad(&row.kid),
        &row.sealed_secret,
        algorithm(row)?,
        row.kid.clone(),
    )
    .map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "signing key {} does not open under this master key",
            row.kid
        ))
    })
}

fn is_signing(row: &SigningKeyRow, now: i64) -> bool {
    row.not_before <= now && row.not_after.is_none()
}

/// Creates a new key for `owner` and `purpose` under the deployment's profile.
async fn create(
    state: &AppState,
    owner: &str,
    purpose: &str,
    algorithm: SignatureAlgorithm,
) -> AppResult<SigningKeyRow> {
    let kid = format!(
        "{purpose}-{}",
        &random::hex_encode(&tongban_crypto::random_bytes(6))
    );
    let signer = SoftwareSigner::generate(algorithm, kid.clone());
    let row = SigningKeyRow {
        kid: kid.clone(),
        owner: owner.to_owned(),
        purpose: purpose.to_owned(),
        algorithm: algorithm.as_str().to_owned(),
        public_key: signer.public_key().bytes,
        sealed_secret: signer.seal(state.vault.kek(), &aad(&kid)),
        not_before: state.now(),
        not_after: None,
    };
    store::insert_signing_key(state.pool(), &row, state.now()).await?;
    crate::cache::changed(state, crate::cache::KEYS, crate::cache::ALL).await;
    Ok(row)
}

/// The key that signs for `owner` and `purpose` now, created on first use.
pub async fn signer(state: &AppState, owner: &str, purpose: &str) -> AppResult<SoftwareSigner> {
    signer_with(state, owner, purpose, state.config.profile.signature()).await
}

/// Like [`signer`], for a purpose whose readers expect another algorithm than the profile's
/// (PDF signatures: ECDSA P-256 where the profile signs with Ed25519, which PDF readers do
/// not take).
pub async fn signer_with(
    state: &AppState,
    owner: &str,
    purpose: &str,
    algorithm: SignatureAlgorithm,
) -> AppResult<SoftwareSigner> {
    let current = || async {
        let now = state.now();
        AppResult::Ok(
            store::signing_keys_of(state.pool(), owner, purpose)
                .await?
                .into_iter()
                .find(|row| is_signing(row, now) && row.algorithm == algorithm.as_str()),
        )
    };
    let row = match current().await? {
        Some(row) => row,
        None => {
            let made = create(state, owner, purpose, algorithm).await?;
            // Two nodes may have made one at once: both take the one the next read finds.
            current().await?.unwrap_or(made)
        }
    };
    unseal(state, &row)
}

/// Like [`signer`], from the cache (see [`super::signers`]): an old signer is used while one
/// request reads the key again in the background.
pub async fn cached_signer(
    state: &AppState,
    owner: &str,
    purpose: &str,
) -> AppResult<std::sync::Arc<SoftwareSigner>> {
    let reading = {
        let (state, owner, purpose) = (state.clone(), owner.to_owned(), purpose.to_owned());
        move || async move { Ok(std::sync::Arc::new(signer(&state, &owner, &purpose).await?)) }
    };
    state
        .signers
        .get(&super::signers::key(owner, purpose), state.now(), reading)
        .await
}

/// Makes a new key the signing key; the previous ones keep verifying for `overlap_days`.
pub async fn rotate(
    state: &AppState,
    owner: &str,
    purpose: &str,
    overlap_days: i64,
) -> AppResult<String> {
    let now = state.now();
    let previous = store::signing_keys_of(state.pool(), owner, purpose).await?;
    let new = create(state, owner, purpose, state.config.profile.signature()).await?;
    for row in previous.iter().filter(|row| row.not_after.is_none()) {
        store::retire_signing_key(state.pool(), &row.kid, now + overlap_days.max(0) * DAY_MS)
            .await?;
    }
    crate::cache::changed(state, crate::cache::KEYS, crate::cache::ALL).await;
    Ok(new.kid)
}

/// A verification key as the trust list publishes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustedKey {
    pub kid: String,
    pub alg: String,
    pub purpose: String,
    pub owner: String,
    /// The raw public key, base64url: 32 bytes for Ed25519, a SEC1 point for ES256 and SM2.
    pub public_key: String,
    pub not_before: String,
    pub not_after: Option<String>,
    /// For whom and what the key may sign, where its module binds it (a department's
    /// certificate key: the department's code and the certificate types it issues). A
    /// verifier refuses a document whose issuer or kind lies outside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<KeyScope>,
}

pub use super::scope::{KeyScope, OwnerScope};

impl TrustedKey {
    /// Whether this key may sign a document naming `code` as its issuer, of `kind`.
    pub fn may_sign(&self, code: &str, kind: &str) -> bool {
        self.scope
            .as_ref()
            .is_some_and(|scope| scope.code == code && scope.kinds.iter().any(|k| k == kind))
    }

    pub fn public_key(&self) -> Option<PublicKey> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&self.public_key)
            .ok()?;
        PublicKey::new(self.alg.parse().ok()?, bytes).ok()
    }
}

/// Every key that still verifies (current and overlapping old ones), and the time now. Read
/// at every door, so from the node's cache: a key made or retired on any node evicts it
/// (through the cache feed on the others, within about a second).
pub async fn verification_keys(state: &AppState) -> AppResult<Vec<TrustedKey>> {
    use base64::Engine as _;
    let now = state.now();
    let rows = state
        .cache
        .keys
        .get_or_load(now, crate::cache::ALL, || async {
            Ok(Some(store::signing_keys(state.pool()).await?))
        })
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the signing keys always load")))?;
    Ok(rows
        .iter()
        .filter(|row| row.not_before <= now && row.not_after.is_none_or(|end| end > now))
        .map(|row| TrustedKey {
            public_key: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&row.public_key),
            not_before: rfc3339(row.not_before),
            not_after: row.not_after.map(rfc3339),
            kid: row.kid.clone(),
            alg: row.algorithm.clone(),
            purpose: row.purpose.clone(),
            owner: row.owner.clone(),
            scope: None,
        })
        .collect())
}

/// The trust list's content.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TrustListPayload {
    /// `tongban-trust-list/1`.
    pub format: String,
    pub region: String,
    pub profile: String,
    pub issued_at: String,
    pub keys: Vec<TrustedKey>,
    /// Where the region's data-sharing gateway answers other regions' gateways (its public
    /// address), when it publishes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
}

/// A trust list: the payload as an exact JSON text, and the root key's signature over its
/// UTF-8 bytes (so no canonicalisation is needed to check it).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedTrustList {
    pub payload: String,
    pub kid: String,
    pub alg: String,
    /// base64url.
    pub signature: String,
}

pub async fn trust_list(state: &AppState) -> AppResult<SignedTrustList> {
    use base64::Engine as _;
    let region = state.config.region_code.clone();
    let root = signer(state, &region, ROOT).await?;
    // The ledger and pass keys exist from their first use on; list them from the start.
    signer(state, &region, LEDGER).await?;
    signer(state, &region, PASS).await?;
    let mut scopes = Vec::new();
    for module in crate::module::modules(state) {
        scopes.extend(module.key_scopes(state).await?);
    }
    // A key a module binds is listed before its first use, so that other regions know it.
    for scope in &scopes {
        signer(state, &scope.owner, &scope.purpose).await?;
    }
    let mut keys = verification_keys(state).await?;
    for key in &mut keys {
        key.scope = scopes
            .iter()
            .find(|s| s.owner == key.owner && s.purpose == key.purpose)
            .map(|s| s.scope.clone());
    }
    let payload = TrustListPayload {
        format: "tongban-trust-list/1".into(),
        region,
        profile: state.config.profile.as_str().into(),
        issued_at: rfc3339(state.now()),
        keys,
        gateway: state.config.public_url.clone(),
    };
    let payload = serde_json::to_string(&payload).map_err(|e| AppError::Internal(e.into()))?;
    let signature = root.sign(payload.as_bytes());
    Ok(SignedTrustList {
        kid: root.kid().to_owned(),
        alg: root.algorithm().as_str().to_owned(),
        signature: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature),
        payload,
    })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrustListError {
    #[error("the trust list is not well formed")]
    Malformed,
    #[error("the trust list is not signed by the given root key")]
    BadSignature,
}

/// Checks a trust list against a root key obtained out of band, and returns its payload.
pub fn verify_trust_list(text: &str, root: &PublicKey) -> Result<TrustListPayload, TrustListError> {
    use base64::Engine as _;
    let list: SignedTrustList =
        serde_json::from_str(text).map_err(|_| TrustListError::Malformed)?;
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&list.signature)
        .map_err(|_| TrustListError::Malformed)?;
    if list.alg != root.algorithm.as_str() {
        return Err(TrustListError::BadSignature);
    }
    tongban_crypto::verify(root, list.payload.as_bytes(), &signature)
        .map_err(|_| TrustListError::BadSignature)?;
    serde_json::from_str(&list.payload).map_err(|_| TrustListError::Malformed)
}
