//! The command line: every subcommand and its arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tongban_app::Config;

#[derive(Parser)]
#[command(
    name = "tongban",
    version,
    about = "tongban (通办): one-stop digital-government platform"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Start the platform.
    Serve(Common),
    /// Create (or reuse) the demo city, write its credentials, and serve it.
    Demo {
        #[command(flatten)]
        common: Common,
        /// Also make this many synthetic citizens with tokens, for `tongban bench pass-http`.
        #[arg(long, default_value_t = 0)]
        load_holders: usize,
        /// Also run a second demo region with this code (440300, say) in the same process, at
        /// the next port, with its data in `DATA_DIR/partner-REGION`; the two recognise each
        /// other and agree on 跨省通办 as their administrators would.
        #[arg(long, value_name = "REGION")]
        partner: Option<String>,
    },
    /// Apply database migrations (the only way PostgreSQL is migrated).
    Migrate(Common),
    /// Administer accounts from the command line.
    Admin {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Signing keys and the trust list.
    Keys {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Check the transparency log.
    Audit {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// EU Digital COVID Certificates at the door: the signer certificates and schemas trusted.
    Dcc {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        command: DccCommand,
    },
    /// 互认: the regions whose passes this region recognises.
    Trust {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        command: TrustCommand,
    },
    /// Issue electronic certificates in bulk, and check them.
    Certs {
        #[command(subcommand)]
        command: CertsCommand,
    },
    /// Check pass codes.
    Pass {
        #[command(subcommand)]
        command: PassCommand,
    },
    /// Check receipts of data exchanges.
    Exchange {
        #[command(subcommand)]
        command: ExchangeCommand,
    },
    /// 协同办公: official documents' signed files.
    Office {
        #[command(subcommand)]
        command: OfficeCommand,
    },
    /// 一表通: XLSForm workbooks as ODK XForms, and submissions checked against them.
    Forms {
        #[command(subcommand)]
        command: FormsCommand,
    },
    /// Run a public conformance suite from a directory; prints a JSON summary, exits 1 on failure.
    Conformance {
        #[command(subcommand)]
        command: tongban_harness::ConformanceCommand,
    },
    /// An online copy of the database: SQLite's `VACUUM INTO`, consistent while the node
    /// serves. (PostgreSQL is copied with its own tools: docs/deployment.md.)
    Backup {
        #[command(flatten)]
        common: Common,
        /// The file to write; it must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Bring back a copy made by `tongban backup` as this node's SQLite database, with the
    /// node stopped; the copy is checked first. Refuses to overwrite a database unless told.
    Restore {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        from: PathBuf,
        /// Replace the database that is there (it is kept beside, as `.replaced`).
        #[arg(long)]
        replace: bool,
    },
    /// Break the platform on purpose and check that it loses nothing; prints JSON.
    Chaos {
        #[command(subcommand)]
        command: tongban_harness::ChaosCommand,
    },
    /// Measure; prints JSON.
    Bench {
        #[command(subcommand)]
        command: tongban_harness::BenchCommand,
    },
}

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// List every signing key with its validity.
    List,
    /// Make a new key sign for a purpose; older keys keep verifying for the overlap.
    Rotate {
        /// root (signs the trust list) or ledger (signs checkpoints).
        #[arg(long)]
        purpose: String,
        /// Whose key; defaults to the configured region.
        #[arg(long)]
        owner: Option<String>,
        #[arg(long, default_value_t = 30)]
        overlap_days: i64,
    },
    /// Start a new field key now (it seals personal fields ten minutes later; the nodes rotate
    /// on their own every `data_key_rotation_days`).
    RotateDataKey,
    /// Write the signed trust list (as GET /api/v1/trust-list serves it).
    ExportTrustList {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a new random master key (base64) for TONGBAN_MASTER_KEY.
    GenerateMaster,
    /// Print this region's root public key (base64url), to hand to the regions that will
    /// recognise this one (`tongban trust import … --root-key`).
    RootKey,
}

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Recompute the whole log offline, check every checkpoint's root, signature and
    /// consistency; exit 1 with the first bad index if anything was altered.
    Verify,
}

#[derive(Subcommand)]
pub(crate) enum PassCommand {
    /// Verify a code offline against a trust list file (no network); exit 1 when refused.
    Verify {
        #[arg(long)]
        trust_list: PathBuf,
        /// The region's root key (base64url), obtained out of band; without it the list is
        /// only checked against the root key it carries itself.
        // A base64url key may begin with "-".
        #[arg(long, allow_hyphen_values = true)]
        root_key: Option<String>,
        code: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum TrustCommand {
    /// Import (or refresh) another region's signed trust list, from a file or an http:// URL
    /// (its GET /api/v1/trust-list), checked against its root key, which you pin.
    Import {
        source: String,
        /// The region's root key (base64url), obtained out of band.
        // A base64url key may begin with "-".
        #[arg(long, allow_hyphen_values = true)]
        root_key: String,
    },
    /// The regions recognised, with their pinned root keys and key counts.
    List,
    /// Stop recognising a region, at once.
    Remove { region: String },
}

#[derive(Subcommand)]
pub(crate) enum DccCommand {
    /// Trust the DCC signer certificates (DSC) of a list: PEM certificates, or the EU
    /// gateway's trust-list JSON (array of {kid, country, certificateType, rawData}).
    ImportSigners { file: PathBuf },
    /// The signer certificates trusted.
    Signers,
    /// Stop trusting the signers with a key id (base64), at once.
    RemoveSigner { kid: String },
    /// Import the DCC schema releases of a schema directory (release/<version>/ with the
    /// combined schema; the top-level combined schema becomes the current one).
    ImportSchemas { dir: PathBuf },
}

#[derive(Subcommand)]
pub(crate) enum FormsCommand {
    /// Read an XLSForm (.xlsx) and print its ODK XForm; every mistake is printed with its
    /// sheet, row and column, and the exit status is 1.
    Xform {
        /// The workbook; its name without `.xlsx` is the form id when the settings sheet has none.
        file: PathBuf,
    },
    /// Write the example XLSForm (one question of each kind, skip logic, a group, a repeat,
    /// prefill, an entity list, and a sheet explaining each column) to start a form from.
    Starter {
        /// Where to write it (`.xlsx`).
        file: PathBuf,
    },
    /// Check a submitted instance (XML) against an XLSForm; prints the answers as JSON, or
    /// each problem with the question's path, and exits 1.
    Check {
        file: PathBuf,
        submission: PathBuf,
        /// The day `today()` stands for (YYYY-MM-DD); today in UTC+8 when not given.
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum ExchangeCommand {
    /// Verify a receipt of an exchange (JSON, from /api/v1/exchange/messages/{id}/receipt)
    /// offline against trust lists: both departments' signatures, by keys a list binds to
    /// them, and the record's inclusion in a checkpoint of the region's log. For an exchange
    /// between regions give both regions' lists. Exit 1 when refused.
    Verify {
        /// A trust list file; repeat it for an exchange between regions.
        #[arg(long, required = true)]
        trust_list: Vec<PathBuf>,
        /// Each list's root key (base64url), obtained out of band, in the order of the lists.
        #[arg(long, allow_hyphen_values = true)]
        root_key: Vec<String>,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum OfficeCommand {
    /// Verify a sealed document's PDF offline: its signature covers the whole file, the file
    /// is the one signed, the signature verifies under the organ's certificate and the
    /// certificates chain to a root — the one given with --root (PEM, as
    /// /api/v1/office/root-certificate serves it) when given. Prints what it found as JSON;
    /// exit 1 when refused.
    Verify {
        #[arg(long)]
        root: Option<PathBuf>,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum CertsCommand {
    /// Verify a signed certificate (JSON file) offline against a trust list file; exit 1 when
    /// refused. With the issuer's status list (as fetched from
    /// /api/v1/certs/status-lists/…), suspension and revocation are checked too.
    Verify {
        #[arg(long)]
        trust_list: PathBuf,
        /// The region's root key (base64url), obtained out of band.
        // A base64url key may begin with "-".
        #[arg(long, allow_hyphen_values = true)]
        root_key: Option<String>,
        /// The signed status list of the certificate's issuer and type.
        #[arg(long)]
        status_list: Option<PathBuf>,
        /// Verify as of this moment (RFC 3339, e.g. `2026-12-04T00:30:00+08:00`): whether the
        /// certificate was valid when it was relied on. Default: now. The day is taken in the
        /// certificate's own time zone, never this machine's.
        #[arg(long, value_parser = parse_instant)]
        at: Option<i64>,
        file: PathBuf,
    },
    /// Issue certificates of a type from a CSV file (holder_code, holder_name, then one column
    /// per item; list entries separated by `|`) as the issuing department with USCC --issuer.
    /// Every row is issued or reported with its line; exit 1 when any row was refused.
    Import {
        #[command(flatten)]
        common: Common,
        #[arg(long = "type")]
        type_code: String,
        #[arg(long)]
        issuer: String,
        file: PathBuf,
    },
}

#[derive(Args, Clone)]
pub(crate) struct Common {
    /// Folder for the embedded database and generated files.
    #[arg(long, global = true)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, global = true)]
    pub(crate) bind: Option<SocketAddr>,
    /// sqlite://… or postgres://…
    #[arg(long, global = true)]
    pub(crate) database_url: Option<String>,
    /// A TOML configuration file.
    #[arg(long, global = true)]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Create a staff account with one role, scoped to a region or a department.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        #[arg(long)]
        role: String,
        /// Region code for a region-scoped role.
        #[arg(long)]
        region: Option<String>,
        /// Department id for a department-scoped role.
        #[arg(long)]
        department: Option<String>,
    },
    /// Set a new generated password and end the account's sessions.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Issue an API token for an account.
    CreateToken {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// List the roles of the platform.
    ListRoles,
    /// Hand over the messages waiting for delivery to account holders (activation codes of
    /// accounts administrators created or reset), removing them: for a deployment whose
    /// delivery gateway is the operator printing sealed letters, not an SMS or mail service.
    Deliveries,
    /// Add a region (the national root `000000` first, then each level below).
    CreateRegion {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        name_en: String,
    },
}

impl Common {
    pub(crate) fn config(&self) -> anyhow::Result<Config> {
        let mut config =
            Config::load(self.config.as_deref()).context("reading the configuration")?;
        if let Some(dir) = &self.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(bind) = self.bind {
            config.bind = bind;
        }
        if let Some(url) = &self.database_url {
            config.database_url = Some(url.clone());
        }
        Ok(config)
    }
}

/// An RFC 3339 instant as Unix seconds.
fn parse_instant(text: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .map_err(|_| "an RFC 3339 instant with its offset, e.g. 2026-12-04T00:30:00+08:00".into())
}
