//! Every HTTP client of tongban that calls out — harvested catalogues, the providers behind the
//! data-sharing gateway, other regions' gateways and status lists — starts from [`builder`].
//!
//! HTTPS is rustls over ring (the crypto the rest of tongban already links; no C toolchain),
//! verifying the server against the system's certificate store, and against the authorities
//! in [`Config::http_ca_file`](crate::config::Config::http_ca_file) when a deployment has its
//! own (a government network's internal CA). Plain `reqwest::Client::new()` is refused by the
//! workspace's clippy configuration: without an installed provider it would panic at its
//! first TLS connection, and without this module it would not trust a deployment's CA.

use std::path::Path;
use std::sync::Once;

use crate::config::Config;

/// A client builder with TLS ready and no extra authorities: for callers with no
/// configuration at hand (tools, benches and tests against local servers).
#[allow(clippy::disallowed_methods)]
pub fn plain() -> reqwest::ClientBuilder {
    install_provider();
    reqwest::Client::builder()
}

/// A client builder that also trusts the deployment's own authorities. The file was checked
/// when the node started ([`check`]); one that has since become unreadable is logged and
/// left out rather than stopping the caller.
pub fn builder(config: &Config) -> reqwest::ClientBuilder {
    let builder = plain();
    let Some(path) = &config.http_ca_file else {
        return builder;
    };
    match authorities(path) {
        Ok(certificates) => builder.tls_certs_merge(certificates),
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "http_ca_file left out");
            builder
        }
    }
}

/// Fails when the configured authorities cannot be read, so that a node does not start with
/// a setting it would silently ignore.
pub fn check(config: &Config) -> anyhow::Result<()> {
    if let Some(path) = &config.http_ca_file {
        authorities(path)?;
    }
    Ok(())
}

/// The certificates of a PEM file: at least one.
fn authorities(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("http_ca_file {}: {e}", path.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| anyhow::anyhow!("http_ca_file {}: {e}", path.display()))?;
    if certificates.is_empty() {
        anyhow::bail!("http_ca_file {} holds no certificate", path.display());
    }
    Ok(certificates)
}

/// ring as the process's TLS provider, once. (Another caller may have installed one first;
/// then that one is used.) rustls marks ring's provider deprecated because it lacks the
/// post-quantum key exchange; aws-lc-rs has it but needs a C build on every machine that
/// builds tongban. Harvests and provider calls carry public or already-shared data, so
/// classical X25519/P-256 is kept until ring or a pure-Rust provider offers ML-KEM.
#[allow(deprecated)]
fn install_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_authority_file_stops_the_node() {
        let dir = std::env::temp_dir().join(format!("tongban-outbound-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        for path in [dir.join("missing.pem"), empty] {
            let config = Config {
                http_ca_file: Some(path.clone()),
                ..Config::default()
            };
            assert!(check(&config).is_err(), "{}", path.display());
        }
        assert!(check(&Config::default()).is_ok());
        plain().build().expect("a client with TLS builds");
    }
}
