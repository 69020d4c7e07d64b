//! One `Config` for the whole platform, layered: defaults → TOML file → `TONGBAN_*` variables →
//! command-line flags (applied by the binary).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use tongban_crypto::Profile;

/// Every setting of a tongban node. Each field is documented with its default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Folder for the embedded database and generated files. Default `./data`.
    pub data_dir: PathBuf,
    /// Address to listen on. Default `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// `sqlite://…` or `postgres://…`. Default: SQLite at `<data_dir>/tongban.db`. A
    /// PostgreSQL URL takes libpq's TLS parameters: `sslmode` (`disable`, `prefer` — the
    /// default —, `require`, `verify-ca`, `verify-full`) and `sslrootcert` (the PEM file of the
    /// authority that issued the server's certificate), e.g.
    /// `postgres://tongban@db.example:5432/tongban?sslmode=verify-full&sslrootcert=/etc/tongban/db-ca.pem`.
    pub database_url: Option<String>,
    /// The public base URL, as people reach the node. Default `http://<bind>`. When set, the
    /// region's trust list names it as the region's data-sharing gateway, where recognised
    /// regions' gateways send their departments' calls.
    pub public_url: Option<String>,
    /// Largest connection pool per node. Default 16.
    pub max_db_connections: u32,
    /// Minutes of inactivity after which a page session ends. Default 30.
    pub session_idle_minutes: i64,
    /// Hours after which a page session ends however active. Default 12.
    pub session_absolute_hours: i64,
    /// Hours a token from `POST /api/v1/auth/login` stays valid. Default 12.
    pub login_token_hours: i64,
    /// Failed logins in a row before the account is locked. Default 5.
    pub lockout_threshold: i64,
    /// Minutes of the first lock; each further failure doubles it, up to a day. Default 15.
    pub lockout_minutes: i64,
    /// Largest request body in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Largest file an applicant may upload for a material, in bytes. Default 8 MiB.
    pub max_upload_bytes: usize,
    /// Seconds a request may take before it is answered 503. Default 30.
    pub request_timeout_seconds: u64,
    /// Seconds the requests modules declare long may take (a large upload and its scan, the
    /// publication of a table of millions of rows): see `Module::long_requests`. Default 1800.
    pub long_request_seconds: u64,
    /// Seconds a client has to send a request's line and headers (and an idle keep-alive
    /// connection waits for the next request) before its connection is closed: a client that
    /// trickles its headers cannot hold a connection open. Default 30.
    pub header_read_timeout_seconds: u64,
    /// (`TONGBAN_LOG` sets the log filter, e.g. `info,sqlx=warn`; it is not part of this struct.)
    /// Requests handled at once by this node before new ones are shed with 503. Default 1024.
    pub max_concurrent_requests: usize,
    /// The separate, larger budget of the pass and check paths, which are shed last.
    /// Default 4096.
    pub max_concurrent_pass_requests: usize,
    /// The longest a pass request should wait behind those admitted before it, in ms: the pass
    /// path admits no more in flight than it answers in that time at its measured rate (never
    /// fewer than 256). 0 leaves only `max_concurrent_pass_requests`. Default 50.
    pub pass_wait_ms: u64,
    /// How many holders (and as many bearer tokens) this node keeps in its pass cache; 0
    /// switches the cache off. Default 500,000 (a few hundred MiB at most).
    pub holder_cache_entries: usize,
    /// Days check-ins are kept before they are deleted. Default 28.
    pub checkin_retention_days: i64,
    /// Days a field key seals before a new one takes over (AES-GCM and SM4-GCM with random
    /// nonces stay far below their per-key limit of 2^32 seals). Default 90.
    pub data_key_rotation_days: i64,
    /// The threshold of statistical disclosure control: counts of persons below it are not
    /// shown, and the others are rounded to half of it (the operations view; a district-hour
    /// cell of check-ins is shown only when at least this many people checked in there).
    /// Default 10; below 6 rounding no longer hides a small count (tests use 1 for exact
    /// figures).
    pub statistics_k: i64,
    /// A GeoJSON file of the regions' boundaries (a FeatureCollection, each feature's region
    /// code in `properties.code` or `properties.adcode`): the operations view colours its
    /// districts on this map. None: no map, the bar charts alone. The demo writes one.
    pub ops_boundaries: Option<PathBuf>,
    /// The cryptographic profile: `international` (Ed25519, SHA-256, AES-256-GCM) or `gm`
    /// (SM2-SM3, SM3, SM4-GCM). Chosen once per deployment. Default `international`.
    pub profile: Profile,
    /// The master key, base64 of 32 bytes (usually from `TONGBAN_MASTER_KEY`). It seals the
    /// data keys and the private signing keys. Never stored in the database.
    pub master_key: Option<SecretText>,
    /// A file holding the master key (base64), when not given directly.
    /// Default: `<data_dir>/master.key` if it exists (the demo writes one).
    pub master_key_file: Option<PathBuf>,
    /// The region this deployment serves, as its identity in trust lists and log origins.
    /// Default `000000`. (Read as text even when written as a number, as
    /// `TONGBAN_REGION_CODE=440300` is.)
    #[serde(deserialize_with = "text_or_number")]
    pub region_code: String,
    /// Seconds between signed checkpoints of the transparency log. Default 60.
    pub checkpoint_interval_seconds: u64,
    /// Seconds a pass code stays valid. Default 300.
    pub pass_lifetime_seconds: i64,
    /// Seconds within which a node serves a holder the code it just signed again, when
    /// nothing the code shows has changed; at most 60. Default 0: a fresh code per request
    /// (see docs/pass-format.md, "Fresh codes").
    pub pass_reuse_seconds: i64,
    /// The region's time zone as an offset from UTC, in which calendar days are counted:
    /// certificates' validity (and certificates carry it), working-day due dates, statistics
    /// by day, the times pages show. Never the machine's zone. Default `+08:00` (北京时间).
    pub time_zone: tongban_core::Zone,
    /// The bearer token a Prometheus scraper sends for `/metrics`. Unset: `/metrics` answers
    /// callers on this machine (loopback) only.
    pub metrics_token: Option<SecretText>,
    /// The instance identifier of the data-exchange federation this deployment belongs to, the
    /// first part of an `Information-Mediator-Client` (`INSTANCE/CLASS/MEMBER/SUBSYSTEM`).
    /// Default `CN`.
    pub xroad_instance: String,
    /// How long the data-sharing gateway waits for a provider before it answers 504.
    /// Default 10 000 ms.
    pub exchange_timeout_ms: u64,
    /// A PEM file of certificate authorities trusted for outbound HTTPS besides the system's
    /// store (harvested catalogues, providers, other regions' gateways): a government
    /// network's own CA. A node does not start when the file cannot be read. Default none.
    pub http_ca_file: Option<PathBuf>,
    /// Where the faces of official documents' PDF files are: `uming.ttc` (AR PL UMing, the
    /// 宋体-style face standing in for 仿宋 and 小标宋) and `ukai.ttc` (AR PL UKai, for 楷体),
    /// as Debian's fonts-arphic-uming and fonts-arphic-ukai install them. Default that
    /// directory.
    pub office_fonts_dir: PathBuf,
    /// Whether the demo city starts with five weeks of drawn hourly figures behind the
    /// operations view, so that its charts have a past on the first start. Default on; the
    /// test suite's nodes start without them and count from zero.
    pub demo_ops_history: bool,
}

/// A configuration value that must not be printed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            public_url: None,
            max_db_connections: 16,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            login_token_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 8 * 1024 * 1024,
            request_timeout_seconds: 30,
            long_request_seconds: 1800,
            header_read_timeout_seconds: 30,
            max_concurrent_requests: 1024,
            max_concurrent_pass_requests: 4096,
            pass_wait_ms: 50,
            holder_cache_entries: 500_000,
            checkin_retention_days: 28,
            data_key_rotation_days: 90,
            statistics_k: 10,
            ops_boundaries: None,
            profile: Profile::International,
            master_key: None,
            master_key_file: None,
            region_code: "000000".into(),
            checkpoint_interval_seconds: 60,
            pass_lifetime_seconds: 300,
            pass_reuse_seconds: 0,
            time_zone: tongban_core::Zone::CHINA,
            metrics_token: None,
            xroad_instance: "CN".into(),
            exchange_timeout_ms: 10_000,
            http_ca_file: None,
            office_fonts_dir: PathBuf::from("/usr/share/fonts/truetype/arphic"),
            demo_ops_history: true,
        }
    }
}

impl Config {
    /// Defaults, then the TOML file when given, then `TONGBAN_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                let missing = format!("config file {} does not exist", file.display());
                return Err(Box::new(figment::Error::from(missing)));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment
            .merge(Env::prefixed("TONGBAN_").ignore(&[
                "TEST_DATABASE_URL",
                "TEST_DATABASE_CA",
                "CONFORMANCE_DIR",
                "LOG",
                "BIN",
            ]))
            .extract()
            .map_err(Box::new)
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tongban.db").display()
            )
        })
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }
}

/// A setting that is text even when it looks like a number: environment variables and TOML
/// give `440300` as an integer.
fn text_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(u64),
    }
    Ok(match TextOrNumber::deserialize(deserializer)? {
        TextOrNumber::Text(text) => text,
        TextOrNumber::Number(n) => format!("{n:06}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let config = Config::default();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert!(
            config
                .database_url()
                .starts_with("sqlite://data/tongban.db")
        );
    }

    #[test]
    fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("tongban-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "bind = \"0.0.0.0:9000\"\nsession_idle_minutes = 10\n",
        )
        .expect("write");
        let config = Config::load(Some(&good)).expect("loads");
        assert_eq!(config.bind.port(), 9000);
        assert_eq!(config.session_idle_minutes, 10);
        let numeric = dir.join("numeric.toml");
        std::fs::write(&numeric, "region_code = 440300\n").expect("write");
        assert_eq!(
            Config::load(Some(&numeric)).expect("loads").region_code,
            "440300",
            "a region code written as a number is still its six digits"
        );
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "bnid = \"0.0.0.0:9000\"\n").expect("write");
        assert!(Config::load(Some(&bad)).is_err());
    }
}
