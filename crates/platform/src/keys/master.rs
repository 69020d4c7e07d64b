//! Where the master key comes from: the configuration (`TONGBAN_MASTER_KEY`), a key file, or —
//! for the demo only — a new key written beside the data.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use tongban_crypto::random_bytes;
use zeroize::Zeroizing;

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "no master key: set TONGBAN_MASTER_KEY (base64 of 32 random bytes) or master_key_file; `tongban demo` generates one for a demo"
    )]
    Missing,
    #[error("the master key must be base64 of 32 bytes")]
    Malformed,
    #[error("reading the master key file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

fn decode(text: &str) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim().as_bytes())
            .map_err(|_| MasterKeyError::Malformed)?,
    );
    if bytes.len() != 32 {
        return Err(MasterKeyError::Malformed);
    }
    Ok(bytes)
}

fn default_file(config: &Config) -> PathBuf {
    config.data_dir.join("master.key")
}

fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| MasterKeyError::Io(path.to_owned(), e))?,
    );
    decode(&text)
}

/// The master key bytes from the configuration, the configured file, or the data folder.
pub fn load(config: &Config) -> Result<Zeroizing<Vec<u8>>, MasterKeyError> {
    if let Some(secret) = &config.master_key {
        return decode(&secret.0);
    }
    if let Some(path) = &config.master_key_file {
        return read_file(path);
    }
    let path = default_file(config);
    if path.exists() {
        tracing::warn!(path = %path.display(), "using the master key stored beside the data; keep it elsewhere in production");
        return read_file(&path);
    }
    Err(MasterKeyError::Missing)
}

/// For the demo: the existing key, or a new one written to `<data_dir>/master.key` (0600).
pub fn load_or_generate_for_demo(config: &Config) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    match load(config) {
        Err(MasterKeyError::Missing) => {
            let path = default_file(config);
            std::fs::create_dir_all(&config.data_dir)?;
            let key = random_bytes(32);
            std::fs::write(&path, STANDARD.encode(&key[..]))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
            eprintln!(
                "!!! DEMO MASTER KEY generated at {} — it protects every personal field and private key.",
                path.display()
            );
            eprintln!(
                "!!! For real use, generate one, keep it away from the data, and pass it as TONGBAN_MASTER_KEY."
            );
            Ok(key)
        }
        other => Ok(other?),
    }
}

/// A new master key in its text form, for `tongban keys generate-master`.
pub fn generate_text() -> Zeroizing<String> {
    Zeroizing::new(STANDARD.encode(&random_bytes(32)[..]))
}
