//! The vault: the data keys, unsealed in memory, that encrypt personal fields and compute
//! blind indexes. The key-encryption key is derived from the master key; the data keys are
//! stored only wrapped under it.

use std::collections::HashMap;

use sqlx::AnyPool;
use tongban_crypto::{AeadAlgorithm, Profile, SealingKey};
use zeroize::Zeroizing;

use super::store;
use crate::error::{AppError, AppResult};
use crate::random::hex_encode;

/// Format byte of a sealed field: `0x01 ‖ len(key id) ‖ key id ‖ AEAD output`.
const FIELD_V1: u8 = 0x01;

pub struct Vault {
    profile: Profile,
    kek: SealingKey,
    field_keys: HashMap<String, SealingKey>,
    active_field_key: String,
    index_key: SealingKey,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Vault({}, <keys redacted>)", self.profile.as_str())
    }
}

fn aead_from_name(name: &str) -> AppResult<AeadAlgorithm> {
    match name {
        "A256GCM" => Ok(AeadAlgorithm::Aes256Gcm),
        "SM4-GCM" => Ok(AeadAlgorithm::Sm4Gcm),
        other => Err(AppError::Internal(anyhow::anyhow!(
            "unknown data key algorithm {other}"
        ))),
    }
}

/// The data keys of one purpose, creating the first when there is none.
async fn data_keys(
    pool: &AnyPool,
    kek: &SealingKey,
    profile: Profile,
    purpose: &str,
    now: i64,
) -> AppResult<Vec<(String, SealingKey)>> {
    let mut rows = store::data_keys(pool, purpose).await?;
    if rows.is_empty() {
        let id = format!("{purpose}-1");
        let key = SealingKey::generate(profile.aead());
        let wrapped = kek.wrap(&key, format!("data_keys/{id}").as_bytes());
        store::insert_data_key(pool, &id, purpose, profile.aead().as_str(), &wrapped, now).await?;
        rows = store::data_keys(pool, purpose).await?;
    }
    rows.into_iter()
        .map(|row| {
            aead_from_name(&row.algorithm)?;
            let key = kek.unwrap_key(&row.wrapped, format!("data_keys/{}", row.id).as_bytes()).map_err(|_| {
                AppError::Internal(anyhow::anyhow!("data key {} does not open under this master key (wrong TONGBAN_MASTER_KEY?)", row.id))
            })?;
            Ok((row.id, key))
        })
        .collect()
}

impl Vault {
    /// Derives the key-encryption key and opens (or creates) the data keys.
    pub async fn open(
        pool: &AnyPool,
        profile: Profile,
        master: &[u8],
        now: i64,
    ) -> AppResult<Vault> {
        let kek = SealingKey::derive(profile.aead(), profile.hash(), master, "tongban/kek/v1")
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the master key is too short")))?;
        let fields = data_keys(pool, &kek, profile, "fields", now).await?;
        let active_field_key = fields.last().map(|(id, _)| id.clone()).unwrap_or_default();
        let mut index = data_keys(pool, &kek, profile, "index", now).await?;
        let (_, index_key) = index.remove(0);
        Ok(Vault {
            profile,
            kek,
            field_keys: fields.into_iter().collect(),
            active_field_key,
            index_key,
        })
    }

    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The key-encryption key, for sealing private signing keys.
    pub fn kek(&self) -> &SealingKey {
        &self.kek
    }

    /// Seals a personal field. `context` names where it is stored (`persons.name/<id>`), so a
    /// sealed value copied to another row or column does not open there.
    pub fn seal_field(&self, context: &str, plain: &[u8]) -> Vec<u8> {
        let key = &self.field_keys[&self.active_field_key];
        let id = self.active_field_key.as_bytes();
        let mut out = vec![FIELD_V1, id.len() as u8];
        out.extend_from_slice(id);
        out.extend(key.seal(context.as_bytes(), plain));
        out
    }

    pub fn open_field(&self, context: &str, sealed: &[u8]) -> AppResult<Zeroizing<Vec<u8>>> {
        let broken = || {
            AppError::Internal(anyhow::anyhow!(
                "a stored personal field does not open ({context})"
            ))
        };
        let [FIELD_V1, len, rest @ ..] = sealed else {
            return Err(broken());
        };
        let (id, body) = rest
            .split_at_checked(usize::from(*len))
            .ok_or_else(broken)?;
        let id = std::str::from_utf8(id).map_err(|_| broken())?;
        let key = self.field_keys.get(id).ok_or_else(broken)?;
        key.open(context.as_bytes(), body).map_err(|_| broken())
    }

    /// A keyed lookup value (HMAC under the index key): equal inputs give equal values, and
    /// without the key nobody can test a guess against the database.
    pub fn blind_index(&self, kind: &str, value: &str) -> String {
        let input = [kind.as_bytes(), &[0], value.as_bytes()].concat();
        hex_encode(&self.index_key.keyed_digest(self.profile.hash(), &input))
    }

    /// How a transparency-log entry names the person it is about: a fresh random nonce and a
    /// keyed digest of nonce and person, different in every entry, so nobody without the key
    /// can tell that two entries are about the same person (or which person); with the key
    /// and a person's id, [`Vault::commitment_names`] tells whether an entry is theirs.
    pub fn subject_commitment(&self, person_id: &str) -> String {
        let mut nonce = [0u8; 16];
        crate::random::fill(&mut nonce);
        let nonce = hex_encode(&nonce);
        format!("{nonce}.{}", self.commitment_digest(&nonce, person_id))
    }

    /// Whether a subject commitment names this person.
    pub fn commitment_names(&self, commitment: &str, person_id: &str) -> bool {
        commitment
            .split_once('.')
            .is_some_and(|(nonce, digest)| self.commitment_digest(nonce, person_id) == digest)
    }

    fn commitment_digest(&self, nonce: &str, person_id: &str) -> String {
        let input = [
            b"subject-commitment".as_slice(),
            &[0],
            nonce.as_bytes(),
            &[0],
            person_id.as_bytes(),
        ]
        .concat();
        hex_encode(&self.index_key.keyed_digest(self.profile.hash(), &input)[..16])
    }

    /// A compact pseudonym (the first 16 bytes of the keyed digest), for tables with very many
    /// rows such as check-ins: 2^64 work to find any collision, far beyond a city's people.
    pub fn pseudonym(&self, kind: &str, value: &str) -> [u8; 16] {
        let input = [kind.as_bytes(), &[0], value.as_bytes()].concat();
        let digest = self.index_key.keyed_digest(self.profile.hash(), &input);
        let mut out = [0; 16];
        out.copy_from_slice(&digest[..16]);
        out
    }
}
