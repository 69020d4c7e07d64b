//! Password hashing with Argon2id (PHC string format), run off the async threads.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::error::{AppError, AppResult};

/// Shortest password accepted for a new account or a reset.
pub const MIN_PASSWORD_CHARS: usize = 10;

pub fn check_strength(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "password",
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.chars().count() > 256 {
        return Err(AppError::invalid(
            "password",
            "must have at most 256 characters",
        ));
    }
    Ok(())
}

/// Password hashes computed at once on this node, one per core. Each takes 19 MiB and a core
/// for tens of milliseconds: a crowd of logins waits its turn instead of taking every core and
/// gigabytes of memory, and past [`HASHING_WAIT`] it is answered 503.
fn hashing() -> &'static tokio::sync::Semaphore {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// The longest a password check waits for a free core.
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs Argon2 work on a blocking thread once a hashing permit is free.
async fn with_permit<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _permit = tokio::time::timeout(HASHING_WAIT, hashing().acquire())
        .await
        .map_err(|_| AppError::Unavailable)?
        .map_err(|_| AppError::Unavailable)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| AppError::Internal(error.into()))
}

/// New hashes use the lightest parameters Argon2id allows (8 KiB, one pass) rather than
/// OWASP's 19 MiB and two passes, which `Argon2::default` gives. For test suites alone, which
/// hash every demo account's password for each of hundreds of nodes they start: set only by a
/// test harness, before the first hash, and never by configuration. Checking a password reads
/// its parameters from the stored hash, so both kinds verify.
static LIGHT_HASHES_FOR_TESTS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Makes this process hash new passwords with the lightest parameters (see
/// [`LIGHT_HASHES_FOR_TESTS`]). For test harnesses only.
pub fn use_light_hashes_for_tests() {
    LIGHT_HASHES_FOR_TESTS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The hasher for new passwords: Argon2id, v1.3, OWASP's parameters.
fn hasher() -> Argon2<'static> {
    if LIGHT_HASHES_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed)
        && let Ok(light) = argon2::Params::new(argon2::Params::MIN_M_COST, 1, 1, None)
    {
        return Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, light);
    }
    Argon2::default()
}

pub async fn hash(password: String) -> AppResult<String> {
    with_permit(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| AppError::Internal(anyhow::anyhow!("argon2: {error}")))
    })
    .await?
}

/// Verifies a password against a stored PHC string. A malformed stored hash verifies nothing.
pub async fn verify(password: String, stored: String) -> AppResult<bool> {
    with_permit(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
}

/// A hash that no password matches, to spend the same time on unknown usernames.
pub const UNUSABLE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$5zWmDYDgQnKSTlgpE1fsPM3rYmZu0ShM+3P4GNM5Yc0";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_no_other() {
        let stored = hash("correct horse battery".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("correct horse battery".into(), stored.clone())
                .await
                .expect("verify")
        );
        assert!(
            !verify("correct horse battery!".into(), stored)
                .await
                .expect("verify")
        );
        assert!(
            !verify("anything".into(), "not a hash".into())
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn new_hashes_use_owasps_parameters_and_light_ones_still_verify() {
        let stored = hash("correct horse battery".to_owned())
            .await
            .expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(
            verify("correct horse battery".to_owned(), stored.clone())
                .await
                .expect("verify")
        );
        assert!(
            !verify("wrong horse battery".to_owned(), stored)
                .await
                .expect("verify")
        );
        let light = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(argon2::Params::MIN_M_COST, 1, 1, None).expect("params"),
        )
        .hash_password(b"correct horse battery")
        .expect("hash")
        .to_string();
        assert!(light.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{light}");
        assert!(
            verify("correct horse battery".to_owned(), light)
                .await
                .expect("verify")
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough password").is_ok());
    }
}
