//! The vault: the data keys, unsealed in memory, that encrypt personal fields and compute
//! blind indexes. The key-encryption key is derived from the master key; the data keys are
//! stored only wrapped under it.

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
    /// The field keys by id, with the moment each starts sealing; the newest started one
    /// seals, every one opens. Rotation adds keys while the node serves.
    field_keys: std::sync::RwLock<Vec<FieldKey>>,
    index_key: SealingKey,
    /// The node's clock, which decides when a rotated key starts sealing.
    clock: std::sync::Arc<dyn tongban_core::Clock>,
}

struct FieldKey {
    id: String,
    seals_from: i64,
    /// The stored start (for the first key, when it was made): its age counts from here.
    since: i64,
    key: std::sync::Arc<SealingKey>,
}

/// How long after a rotation the new field key starts sealing: every node loads it first (they
/// look for new keys every minute), so no node meets a field it cannot open.
pub const ROTATION_LEAD_MS: i64 = 10 * 60_000;

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

/// The data keys of one purpose with the moment each starts sealing, creating the first when
/// there is none.
async fn data_keys(
    pool: &AnyPool,
    kek: &SealingKey,
    profile: Profile,
    purpose: &str,
    now: i64,
) -> AppResult<Vec<(String, i64, SealingKey)>> {
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
            Ok((row.id, row.created_at, key))
        })
        .collect()
}

impl Vault {
    /// Derives the key-encryption key and opens (or creates) the data keys.
    pub async fn open(
        pool: &AnyPool,
        profile: Profile,
        master: &[u8],
        clock: std::sync::Arc<dyn tongban_core::Clock>,
    ) -> AppResult<Vault> {
        let now = clock.now_millis();
        let kek = SealingKey::derive(profile.aead(), profile.hash(), master, "tongban/kek/v1")
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the master key is too short")))?;
        let fields = data_keys(pool, &kek, profile, "fields", now).await?;
        let mut index = data_keys(pool, &kek, profile, "index", now).await?;
        let (_, _, index_key) = index.remove(0);
        Ok(Vault {
            profile,
            kek,
            field_keys: std::sync::RwLock::new(
                fields
                    .into_iter()
                    .enumerate()
                    .map(|(n, (id, since, key))| FieldKey {
                        id,
                        // The first field key seals from the start, whatever the clock says.
                        seals_from: if n == 0 { i64::MIN } else { since },
                        since,
                        key: std::sync::Arc::new(key),
                    })
                    .collect(),
            ),
            index_key,
            clock,
        })
    }

    /// Loads field keys added since the node started (a rotation on any node). Returns how
    /// many were new.
    pub async fn refresh_field_keys(&self, pool: &AnyPool) -> AppResult<usize> {
        let rows = store::data_keys(pool, "fields").await?;
        let known: Vec<String> = self
            .field_keys
            .read()
            .map(|keys| keys.iter().map(|k| k.id.clone()).collect())
            .unwrap_or_default();
        let mut added = 0;
        for row in rows.into_iter().filter(|row| !known.contains(&row.id)) {
            aead_from_name(&row.algorithm)?;
            let key = self
                .kek
                .unwrap_key(&row.wrapped, format!("data_keys/{}", row.id).as_bytes())
                .map_err(|_| {
                    AppError::Internal(anyhow::anyhow!("data key {} does not open", row.id))
                })?;
            if let Ok(mut keys) = self.field_keys.write() {
                keys.push(FieldKey {
                    id: row.id,
                    seals_from: row.created_at,
                    since: row.created_at,
                    key: std::sync::Arc::new(key),
                });
                keys.sort_by_key(|k| k.seals_from);
                added += 1;
            }
        }
        Ok(added)
    }

    /// Adds a new field key that starts sealing [`ROTATION_LEAD_MS`] from `now` (after every
    /// node has loaded it). Fields sealed before stay under their key and still open. Returns
    /// the new key's id.
    pub async fn rotate_field_key(&self, pool: &AnyPool, now: i64) -> AppResult<String> {
        self.refresh_field_keys(pool).await?;
        let count = self.field_keys.read().map(|keys| keys.len()).unwrap_or(0);
        let id = format!("fields-{}", count + 1);
        let key = SealingKey::generate(self.profile.aead());
        let wrapped = self.kek.wrap(&key, format!("data_keys/{id}").as_bytes());
        store::insert_data_key(
            pool,
            &id,
            "fields",
            self.profile.aead().as_str(),
            &wrapped,
            now + ROTATION_LEAD_MS,
        )
        .await?;
        self.refresh_field_keys(pool).await?;
        Ok(id)
    }

    /// The field key sealing at `now` and since when (the newest started one).
    pub fn sealing_key_at(&self, now: i64) -> Option<(String, i64)> {
        let keys = self.field_keys.read().ok()?;
        keys.iter()
            .rev()
            .find(|k| k.seals_from <= now)
            .or_else(|| keys.first())
            .map(|k| (k.id.clone(), k.since))
    }

    /// Whether a key other than the sealing one is waiting to start (a rotation under way).
    pub fn rotation_pending(&self, now: i64) -> bool {
        self.field_keys
            .read()
            .map(|keys| keys.iter().any(|k| k.seals_from > now))
            .unwrap_or(false)
    }

    fn sealing_key(&self) -> (String, std::sync::Arc<SealingKey>) {
        let now = self.clock.now_millis();
        let keys = self
            .field_keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let chosen = keys
            .iter()
            .rev()
            .find(|k| k.seals_from <= now)
            .or_else(|| keys.first())
            .expect("the vault always holds a field key");
        (chosen.id.clone(), chosen.key.clone())
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
        let (id, key) = self.sealing_key();
        let id = id.as_bytes();
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
        let key = self
            .field_keys
            .read()
            .map_err(|_| broken())?
            .iter()
            .find(|k| k.id == id)
            .map(|k| k.key.clone())
            .ok_or_else(broken)?;
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
