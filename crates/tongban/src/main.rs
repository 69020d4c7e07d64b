//! `tongban`: the platform in one binary. Subcommands start it, seed the demo, migrate the
//! database and administer accounts; everything else lives in the library crates.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use tongban_app::admin::service::{self as admin, By, NewAccountRequest};
use tongban_app::identity::model::Role;
use tongban_app::identity::service as identity;
use tongban_app::identity::store as identity_store;
use tongban_app::{AppState, Application, Config, Db, demo};
use tongban_core::SystemClock;

#[derive(Parser)]
#[command(
    name = "tongban",
    version,
    about = "tongban (通办): one-stop digital-government platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the platform.
    Serve(Common),
    /// Create (or reuse) the demo city, write its credentials, and serve it.
    Demo {
        #[command(flatten)]
        common: Common,
        /// Also make this many synthetic citizens with tokens, for `tongban bench pass-http`.
        #[arg(long, default_value_t = 0)]
        load_holders: usize,
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
    /// Run a public conformance suite from a directory; prints a JSON summary, exits 1 on failure.
    Conformance {
        #[command(subcommand)]
        command: ConformanceCommand,
    },
    /// Measure; prints JSON.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
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
enum AuditCommand {
    /// Recompute the whole log offline, check every checkpoint's root, signature and
    /// consistency; exit 1 with the first bad index if anything was altered.
    Verify,
}

#[derive(Subcommand)]
enum PassCommand {
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
enum TrustCommand {
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
enum DccCommand {
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
enum CertsCommand {
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

#[derive(Subcommand)]
enum ConformanceCommand {
    /// The CertLogic evaluator and validation suites (a directory with testSuite/ and validation-testSuite/).
    Certlogic { dir: PathBuf },
    /// The tests of the EU DCC business rules (a directory of <country>/<rule>/rule.json and tests/).
    Rules { dir: PathBuf },
    /// SMART Health Cards: the dev-tools test data verified with the spec's example issuer
    /// (a directory with dev-tools/testdata and spec/generate-examples/issuer); lists each
    /// file's outcome and reason.
    Shc { dir: PathBuf },
    /// EU Digital COVID Certificates: every case under DIR (dgc-testdata: any depth, any
    /// folder casing), step by step per its EXPECTEDRESULTS flags, honouring known_issues.csv.
    Dcc {
        dir: PathBuf,
        /// The DCC schema directory (release/<version>/…); by default `schema` beside DIR.
        #[arg(long)]
        schemas: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Sign and verify per second for each suite; hashing and sealing throughput.
    Crypto {
        #[arg(long, default_value_t = 1000)]
        millis_per_case: u64,
    },
    /// Drives GET /api/v1/pass/me on a running server with the demo citizens' tokens and reports
    /// requests per second and latency percentiles.
    PassHttp {
        /// The demo's credentials file (its base_url and citizen tokens are used).
        #[arg(long, default_value = "data/demo-credentials.json")]
        credentials: PathBuf,
        #[arg(long, default_value = "20s")]
        duration: String,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Offline pass verifications per second beside the raw signature-verify rate.
    PassVerify {
        #[arg(long, default_value_t = 1000)]
        millis_per_case: u64,
    },
    /// Durable appends per second with group commit, and the raw hash rate beside it.
    /// Business licences issued in bulk (signed, sealed, stored, logged) per second.
    CertsIssue {
        #[arg(long, default_value_t = 100_000)]
        count: usize,
    },
    /// Applications run through a ten-step workflow by the full service path; steps per second
    /// per core.
    Workflow {
        #[arg(long, default_value_t = 1000)]
        applications: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// A PostgreSQL database to measure on (it gets migrated and seeded); default a fresh
        /// SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// EU DCC verifications per second, in process, over the good codes of the DCC test data.
    DccVerify {
        /// A dgc-testdata directory; by default the conformance vectors' dcc/testdata.
        dir: Option<PathBuf>,
        /// The DCC schema directory; by default `schema` beside DIR.
        #[arg(long)]
        schemas: Option<PathBuf>,
        #[arg(long, default_value_t = 3000)]
        millis_per_case: u64,
        /// Write the codes and signer certificates timed, for bench/dcc-compare.
        #[arg(long)]
        export: Option<PathBuf>,
    },
    /// Contact matching over a synthetic city's check-ins.
    Contacts {
        #[arg(long, default_value_t = 100_000_000)]
        checkins: u64,
        #[arg(long, default_value_t = 28)]
        days: i64,
        #[arg(long, default_value_t = 50)]
        cases: usize,
        /// A PostgreSQL database to measure on (it gets migrated); default a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Durable check-ins per second through the group-committing writer.
    Checkins {
        #[arg(long, default_value_t = 500_000)]
        count: u64,
        /// Print each check-in as it is acknowledged (for the durability test).
        #[arg(long, hide = true)]
        print_acks: bool,
        #[arg(long, default_value_t = 4096)]
        concurrency: usize,
        /// A PostgreSQL database to measure on (it gets migrated); default a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    Ledger {
        #[arg(long, default_value_t = 200_000)]
        count: u64,
        #[arg(long, default_value_t = 4096)]
        concurrency: usize,
        /// A PostgreSQL database to measure on (it gets migrated); default a fresh SQLite file.
        #[arg(long)]
        database_url: Option<String>,
        /// sha256 or sm3.
        #[arg(long, default_value = "sha256")]
        hash: String,
    },
}

#[derive(Args, Clone)]
struct Common {
    /// Folder for the embedded database and generated files.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, global = true)]
    bind: Option<SocketAddr>,
    /// sqlite://… or postgres://…
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// A TOML configuration file.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AdminCommand {
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
    fn config(&self) -> anyhow::Result<Config> {
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

/// Many small allocations per request (headers, JSON, CBOR) from many threads: mimalloc's
/// per-thread pages cost a fraction of the system allocator's locking.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Log lines are written by a thread of their own, so a request never waits on the terminal
    // or the log file; the guard flushes what is queued when the process ends. They go to
    // stderr, so a command's result on stdout can be piped on its own.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TONGBAN_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(common) => serve(common.config()?, None).await,
        Command::Demo {
            common,
            load_holders,
        } => serve(common.config()?, Some(load_holders)).await,
        Command::Migrate(common) => {
            let config = common.config()?;
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            println!("migrated {} database", db.engine().as_str());
            Ok(())
        }
        Command::Admin { common, command } => administer(common.config()?, command).await,
        Command::Keys { common, command } => manage_keys(common.config()?, command).await,
        Command::Audit {
            common,
            command: AuditCommand::Verify,
        } => audit_verify(common.config()?).await,
        Command::Bench { command } => bench(command).await,
        Command::Conformance { command } => conformance(command),
        Command::Pass {
            command:
                PassCommand::Verify {
                    trust_list,
                    root_key,
                    code,
                },
        } => pass_verify(&trust_list, root_key.as_deref(), &code),
        Command::Trust { common, command } => trust(common.config()?, command).await,
        Command::Dcc { common, command } => dcc(common.config()?, command).await,
        Command::Certs {
            command:
                CertsCommand::Verify {
                    trust_list,
                    root_key,
                    status_list,
                    at,
                    file,
                },
        } => certs_verify(
            &trust_list,
            root_key.as_deref(),
            status_list.as_deref(),
            at.unwrap_or_else(unix_now),
            &file,
        ),
        Command::Certs {
            command:
                CertsCommand::Import {
                    common,
                    type_code,
                    issuer,
                    file,
                },
        } => certs_import(common.config()?, &type_code, &issuer, &file).await,
    }
}

/// Serves; with `demo = Some(n)`, first seeds the demo city and `n` synthetic load holders.
async fn serve(config: Config, demo: Option<usize>) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    if demo.is_some() {
        tongban_app::keys::master::load_or_generate_for_demo(&config)?;
    }
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let app = Application::build(state.clone())
        .await
        .context("binding the listen address")?;
    let base_url = state.config.public_url.clone().unwrap_or_else(|| {
        format!(
            "http://{}",
            app.local_addr().map(|a| a.to_string()).unwrap_or_default()
        )
    });
    if let Some(load_holders) = demo {
        let mut credentials = demo::seed(&state, &base_url)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
        if load_holders > 0 {
            println!("making {load_holders} synthetic holders for load tests …");
            credentials.load_tokens = demo::seed_load_holders(&state, load_holders)
                .await
                .map_err(|e| anyhow::anyhow!("seeding load holders: {e}"))?;
        }
        let path = demo::write_credentials(&data_dir, &credentials)?;
        println!("tongban demo city 临江市 is at {base_url}");
        println!(
            "demo accounts (passwords, TOTP secrets and API tokens) are in {}",
            path.display()
        );
        for account in &credentials.accounts {
            println!(
                "  {:<20} {:<22} {}",
                account.role, account.username, account.password
            );
        }
    } else {
        println!("tongban is serving at {base_url}");
    }
    tracing::info!(%base_url, engine = state.db.engine().as_str(), "serving");
    app.run_until(shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

async fn administer(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    if let AdminCommand::ListRoles = command {
        for role in Role::ALL {
            println!(
                "{:<20} staff={:<5} administrator={}",
                role.as_str(),
                role.is_staff(),
                role.is_trio()
            );
        }
        return Ok(());
    }
    let state: AppState = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let result = match command {
        AdminCommand::CreateUser {
            username,
            display_name,
            role,
            region,
            department,
        } => {
            let role: Role = role
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown role; see `tongban admin list-roles`"))?;
            let region_code = region
                .map(|r| r.parse())
                .transpose()
                .map_err(|e| anyhow::anyhow!("region: {e}"))?;
            let request = NewAccountRequest {
                username,
                display_name,
                role,
                department_id: department,
                region_code,
                person_id: None,
                enterprise_id: None,
                password: None,
            };
            admin::create_account(&state, By::Operator, request)
                .await
                .map(|created| {
                    println!("created {} ({role})", created.account.username);
                    println!("password: {}", created.password);
                    if let Some(secret) = created.totp_secret {
                        println!("totp secret (base32, add to an authenticator app): {secret}");
                    }
                })
        }
        AdminCommand::ResetPassword { username } => {
            let account = identity_store::account_by_username(state.pool(), &username)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("no such account")?;
            admin::reset_password(&state, By::Operator, &account.id, None)
                .await
                .map(|password| println!("new password for {username}: {password}"))
        }
        AdminCommand::CreateToken { username, label } => {
            let account = identity_store::account_by_username(state.pool(), &username)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("no such account")?;
            identity::issue_token(&state, &account.id, &label, None)
                .await
                .map(|token| println!("{token}"))
        }
        AdminCommand::CreateRegion {
            code,
            name,
            name_en,
        } => {
            let code = code.parse().map_err(|e| anyhow::anyhow!("code: {e}"))?;
            admin::create_region(
                &state,
                By::Operator,
                admin::NewRegion {
                    code,
                    name,
                    name_en,
                },
            )
            .await
            .map(|region| println!("created region {}", region.code))
        }
        AdminCommand::ListRoles => Ok(()),
    };
    state.db.close().await;
    result.map_err(|e| anyhow::anyhow!("{e}"))
}

async fn manage_keys(config: Config, command: KeysCommand) -> anyhow::Result<()> {
    use tongban_app::keys::{master, service as keys, store as key_store};
    if let KeysCommand::GenerateMaster = command {
        println!("{}", master::generate_text().as_str());
        return Ok(());
    }
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let failed = |e: tongban_app::error::AppError| anyhow::anyhow!("{e}");
    match command {
        KeysCommand::RootKey => {
            use base64::Engine as _;
            use tongban_crypto::Signer as _;
            let region = state.config.region_code.clone();
            let root = tongban_app::keys::service::signer(
                &state,
                &region,
                tongban_app::keys::service::ROOT,
            )
            .await
            .map_err(failed)?;
            println!(
                "{} {} {}",
                region,
                root.algorithm().as_str(),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(root.public_key().bytes)
            );
        }
        KeysCommand::List => {
            for key in key_store::signing_keys(state.pool())
                .await
                .map_err(failed)?
            {
                let until = key
                    .not_after
                    .map(tongban_app::time_fmt::rfc3339)
                    .unwrap_or_else(|| "(signing)".into());
                println!(
                    "{:<22} {:<8} {:<8} {:<8} from {} until {}",
                    key.kid,
                    key.owner,
                    key.purpose,
                    key.algorithm,
                    tongban_app::time_fmt::rfc3339(key.not_before),
                    until
                );
            }
        }
        KeysCommand::Rotate {
            purpose,
            owner,
            overlap_days,
        } => {
            if ![keys::ROOT, keys::LEDGER].contains(&purpose.as_str()) {
                anyhow::bail!("purpose must be `root` or `ledger`");
            }
            let owner = owner.unwrap_or_else(|| state.config.region_code.clone());
            let kid = keys::rotate(&state, &owner, &purpose, overlap_days)
                .await
                .map_err(failed)?;
            println!(
                "{kid} now signs for {owner}/{purpose}; earlier keys verify for {overlap_days} more days"
            );
        }
        KeysCommand::ExportTrustList { out } => {
            let list = keys::trust_list(&state).await.map_err(failed)?;
            let text = serde_json::to_string_pretty(&list)?;
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => println!("{text}"),
            }
        }
        KeysCommand::GenerateMaster => {}
    }
    state.db.close().await;
    Ok(())
}

async fn audit_verify(config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config.database_url(), 2).await?;
    let origin = format!("tongban.{}/audit", config.region_code);
    let report =
        tongban_app::ledger::service::verify_all(db.pool(), config.profile.hash(), &origin)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    db.close().await;
    if let Some(index) = report.first_bad_index {
        eprintln!("the log is NOT intact: first bad index {index}");
        std::process::exit(1);
    }
    Ok(())
}

async fn bench(command: BenchCommand) -> anyhow::Result<()> {
    let result = match command {
        BenchCommand::Crypto { millis_per_case } => {
            tongban_app::bench::crypto(std::time::Duration::from_millis(millis_per_case))
        }
        BenchCommand::PassHttp {
            credentials,
            duration,
            connections,
        } => pass_http(&credentials, &duration, connections).await?,
        BenchCommand::DccVerify {
            dir,
            schemas,
            millis_per_case,
            export,
        } => {
            let dir = match dir {
                Some(dir) => dir,
                None => tongban_app::conformance::vectors_dir()
                    .map(|v| v.join("dcc/testdata"))
                    .context("no DCC test data: give DIR or set TONGBAN_CONFORMANCE_DIR")?,
            };
            let schemas = schemas.unwrap_or_else(|| dir.join("../schema"));
            tongban_app::bench::dcc_verify(
                &dir,
                &schemas,
                std::time::Duration::from_millis(millis_per_case),
                export.as_deref(),
            )?
        }
        BenchCommand::PassVerify { millis_per_case } => {
            tongban_app::bench::pass_verify(std::time::Duration::from_millis(millis_per_case))
        }
        BenchCommand::CertsIssue { count } => {
            let scratch =
                std::env::temp_dir().join(format!("tongban-bench-certs-{}", std::process::id()));
            std::fs::create_dir_all(&scratch)?;
            let config = Config {
                data_dir: scratch.clone(),
                database_url: Some(format!(
                    "sqlite://{}?mode=rwc",
                    scratch.join("bench.db").display()
                )),
                master_key: Some(tongban_app::config::SecretText(
                    tongban_app::keys::master::generate_text().to_string(),
                )),
                ..Config::default()
            };
            let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
            demo::seed(&state, "http://127.0.0.1:1")
                .await
                .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
            let result = tongban_app::bench::certs_issue(&state, count).await?;
            state.db.close().await;
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
        BenchCommand::Workflow {
            applications,
            concurrency,
            database_url,
        } => {
            let scratch =
                std::env::temp_dir().join(format!("tongban-bench-workflow-{}", std::process::id()));
            std::fs::create_dir_all(&scratch)?;
            let config = Config {
                data_dir: scratch.clone(),
                database_url: Some(database_url.unwrap_or_else(|| {
                    format!("sqlite://{}?mode=rwc", scratch.join("bench.db").display())
                })),
                master_key: Some(tongban_app::config::SecretText(
                    tongban_app::keys::master::generate_text().to_string(),
                )),
                region_code: "339900".into(),
                ..Config::default()
            };
            let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
            let credentials = demo::seed(&state, "http://127.0.0.1:1")
                .await
                .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
            let result =
                tongban_app::bench::workflow(&state, &credentials, applications, concurrency)
                    .await?;
            state.db.close().await;
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
        BenchCommand::Contacts {
            checkins,
            days,
            cases,
            database_url,
        } => {
            let (db, scratch) = bench_database(database_url).await?;
            let result = tongban_app::bench::contacts(db.clone(), checkins, days, cases).await?;
            db.close().await;
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
        BenchCommand::Checkins {
            count,
            print_acks,
            concurrency,
            database_url,
        } => {
            let (db, scratch) = bench_database(database_url).await?;
            let result =
                tongban_app::bench::checkins(db.clone(), count, concurrency, print_acks).await?;
            db.close().await;
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
        BenchCommand::Ledger {
            count,
            concurrency,
            database_url,
            hash,
        } => {
            let algorithm = match hash.as_str() {
                "sha256" => tongban_crypto::HashAlgorithm::Sha256,
                "sm3" => tongban_crypto::HashAlgorithm::Sm3,
                _ => anyhow::bail!("--hash is sha256 or sm3"),
            };
            let (db, scratch) = bench_database(database_url).await?;
            let result =
                tongban_app::bench::ledger(db.clone(), algorithm, count, concurrency).await?;
            db.close().await;
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
    };
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}

/// The database a benchmark writes to: the given PostgreSQL, or a fresh SQLite file in a
/// scratch folder (returned, for removal), migrated either way.
async fn bench_database(url: Option<String>) -> anyhow::Result<(Db, PathBuf)> {
    let scratch = std::env::temp_dir().join(format!("tongban-bench-{}", std::process::id()));
    let url = match url {
        Some(url) => url,
        None => {
            std::fs::create_dir_all(&scratch)?;
            format!("sqlite://{}?mode=rwc", scratch.join("bench.db").display())
        }
    };
    let db = Db::connect(&url, 4).await?;
    db.migrate().await?;
    Ok((db, scratch))
}

fn conformance(command: ConformanceCommand) -> anyhow::Result<()> {
    let summary = match command {
        ConformanceCommand::Certlogic { dir } => tongban_app::conformance::certlogic(&dir)?,
        ConformanceCommand::Rules { dir } => tongban_app::conformance::rules(&dir)?,
        ConformanceCommand::Dcc { dir, schemas } => {
            let schemas = schemas.unwrap_or_else(|| dir.join("../schema"));
            let report = tongban_app::conformance::dcc::run(&dir, &schemas)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report["failed"] != 0 || report["cases"] == 0 {
                std::process::exit(1);
            }
            return Ok(());
        }
        ConformanceCommand::Shc { dir } => {
            let report = tongban_app::conformance::shc(&dir, unix_now())?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report["failed"] != 0 || report["cases"] == 0 {
                std::process::exit(1);
            }
            return Ok(());
        }
    };
    println!("{}", serde_json::to_string_pretty(&summary)?);
    if summary.failed > 0 || summary.cases == 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// Reads a trust list file and the pinned root key, if given.
fn trust_list_and_root(
    trust_list: &std::path::Path,
    root_key: Option<&str>,
) -> anyhow::Result<(String, Option<tongban_crypto::PublicKey>)> {
    use base64::Engine as _;
    let text = std::fs::read_to_string(trust_list)
        .with_context(|| format!("reading {}", trust_list.display()))?;
    let list: tongban_app::keys::service::SignedTrustList =
        serde_json::from_str(&text).context("the trust list is not well formed")?;
    let root = match root_key {
        Some(encoded) => {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(encoded.trim())
                .context("--root-key is not base64url")?;
            let algorithm = list
                .alg
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown algorithm {}", list.alg))?;
            Some(
                tongban_crypto::PublicKey::new(algorithm, bytes)
                    .map_err(|_| anyhow::anyhow!("--root-key is not a valid key"))?,
            )
        }
        None => {
            eprintln!(
                "note: no --root-key given; the trust list is checked only against the root key it carries"
            );
            None
        }
    };
    Ok((text, root))
}

/// An RFC 3339 instant as Unix seconds.
fn parse_instant(text: &str) -> Result<i64, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(time::OffsetDateTime::unix_timestamp)
        .map_err(|_| "an RFC 3339 instant with its offset, e.g. 2026-12-04T00:30:00+08:00".into())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn dcc(config: Config, command: DccCommand) -> anyhow::Result<()> {
    use tongban_app::error::AppError;
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let outcome = match command {
        DccCommand::ImportSigners { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            tongban_app::pass::dcc::import_signers(&state, &text, "operator")
                .await
                .map(|added| serde_json::json!({"added": added}))
        }
        DccCommand::Signers => tongban_app::pass::dcc::list_signers(&state)
            .await
            .and_then(|list| serde_json::to_value(list).map_err(|e| AppError::Internal(e.into()))),
        DccCommand::RemoveSigner { kid } => {
            tongban_app::pass::dcc::remove_signer(&state, &kid, "operator")
                .await
                .map(|removed| serde_json::json!({"kid": kid, "removed": removed}))
        }
        DccCommand::ImportSchemas { dir } => {
            tongban_app::pass::dcc::import_schema_dir(&state, &dir, "operator")
                .await
                .map(|releases| serde_json::json!({"releases": releases}))
        }
    };
    state.db.close().await;
    let value = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

async fn trust(config: Config, command: TrustCommand) -> anyhow::Result<()> {
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let outcome = match command {
        TrustCommand::Import { source, root_key } => {
            let text = if source.starts_with("http://") || source.starts_with("https://") {
                reqwest::get(&source)
                    .await
                    .with_context(|| format!("fetching {source}"))?
                    .error_for_status()?
                    .text()
                    .await?
            } else {
                std::fs::read_to_string(&source).with_context(|| format!("reading {source}"))?
            };
            let root = tongban_app::keys::trusted::root_key(&text, &root_key)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tongban_app::keys::trusted::import(&state, &text, &root, "operator")
                .await
                .map(|payload| {
                    serde_json::json!({"region": payload.region, "issued_at": payload.issued_at, "keys": payload.keys.len()})
                })
        }
        TrustCommand::List => tongban_app::keys::trusted::list(&state)
            .await
            .and_then(|list| {
                serde_json::to_value(list)
                    .map_err(|e| tongban_app::error::AppError::Internal(e.into()))
            }),
        TrustCommand::Remove { region } => {
            tongban_app::keys::trusted::remove(&state, &region, "operator")
                .await
                .map(|removed| serde_json::json!({"region": region, "removed": removed}))
        }
    };
    state.db.close().await;
    let value = outcome.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

async fn certs_import(
    config: Config,
    type_code: &str,
    issuer: &str,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let state = tongban_app::open_state(config, Arc::new(SystemClock)).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} certificates ({per_sec})",
        )?
        .progress_chars("=> "),
    );
    let report = tongban_app::certs::import::import_csv(
        &state,
        issuer,
        type_code,
        std::io::BufReader::new(input),
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .await;
    bar.finish();
    state.db.close().await;
    let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
    for (line, reason) in &report.failed {
        eprintln!("line {line}: {reason}");
    }
    println!(
        "{}",
        serde_json::json!({"issued": report.issued, "failed": report.failed.len()})
    );
    if !report.failed.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}

fn certs_verify(
    trust_list: &std::path::Path,
    root_key: Option<&str>,
    status_list: Option<&std::path::Path>,
    at: i64,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let (text, root) = trust_list_and_root(trust_list, root_key)?;
    let document =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let status_list = status_list
        .map(|path| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        })
        .transpose()?;
    match tongban_app::certs::verify_offline(
        &text,
        root.as_ref(),
        &document,
        status_list.as_deref(),
        at,
    ) {
        Ok((signed, status)) => {
            let c = &signed.certificate;
            let valid = status.as_deref().is_none_or(|s| s == "valid");
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "valid": valid, "id": c.id, "type": c.type_name, "issuer": c.issuer.name,
                    "valid_until": c.valid_until,
                    "status": status.as_deref().unwrap_or("not checked: give --status-list, or verify online"),
                }))?
            );
            if !valid {
                std::process::exit(1);
            }
            Ok(())
        }
        Err(refusal) => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"valid": false, "reason": refusal.reason, "message": refusal.message})
                )?
            );
            std::process::exit(1);
        }
    }
}

fn pass_verify(
    trust_list: &std::path::Path,
    root_key: Option<&str>,
    code: &str,
) -> anyhow::Result<()> {
    let (text, root) = trust_list_and_root(trust_list, root_key)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    match tongban_app::pass::offline::verify_with_trust_list(&text, root.as_ref(), code, now) {
        Ok(claims) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"valid": true, "pass": claims}))?
            );
            Ok(())
        }
        Err(refusal) => {
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"valid": false, "reason": refusal.reason, "message": refusal.message})
                )?
            );
            std::process::exit(1);
        }
    }
}

/// What one phase of the load generator saw.
#[derive(Default)]
struct Phase {
    latencies_us: Vec<u64>,
    errors: u64,
    shed: u64,
    seconds: f64,
}

impl Phase {
    fn summary(mut self) -> serde_json::Value {
        self.latencies_us.sort_unstable();
        let latencies = &self.latencies_us;
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map(|us| *us as f64 / 1000.0)
        };
        serde_json::json!({
            "seconds": self.seconds,
            "requests_ok": latencies.len(),
            "requests_shed": self.shed,
            "errors": self.errors,
            "requests_per_second": latencies.len() as f64 / self.seconds.max(1e-9),
            "latency_ms": {"p50": percentile(0.50), "p90": percentile(0.90), "p99": percentile(0.99), "max": latencies.last().map(|us| *us as f64 / 1000.0)},
        })
    }
}

/// Sends GET `url` on `connections` connections, each request with the next of `tokens` (if
/// any), until `until` passes or, with `once`, until every token was used once.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    tokens: &Arc<Vec<String>>,
    connections: usize,
    until: std::time::Instant,
    once: bool,
) -> anyhow::Result<Phase> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = std::time::Instant::now();
    let mut workers = Vec::new();
    for _ in 0..connections.max(1) {
        let (client, url, tokens, next) =
            (client.clone(), url.to_owned(), tokens.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut phase = Phase::default();
            while std::time::Instant::now() < until {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if once && n >= tokens.len() {
                    break;
                }
                let mut request = client.get(&url);
                if !tokens.is_empty() {
                    request = request.bearer_auth(&tokens[n % tokens.len()]);
                }
                let sent = std::time::Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        phase.latencies_us.push(sent.elapsed().as_micros() as u64);
                    }
                    Ok(response) if response.status() == 503 => phase.shed += 1,
                    _ => phase.errors += 1,
                }
            }
            phase
        }));
    }
    let mut all = Phase::default();
    for worker in workers {
        let phase = worker.await?;
        all.latencies_us.extend(phase.latencies_us);
        all.errors += phase.errors;
        all.shed += phase.shed;
    }
    all.seconds = started.elapsed().as_secs_f64();
    Ok(all)
}

/// The load generator of `tongban bench pass-http`: the HTTP floor of the same server
/// (`/healthz`), then every holder's first pass (read from the database), then the steady
/// state for `duration`, each request for the next holder in turn.
async fn pass_http(
    credentials: &std::path::Path,
    duration: &str,
    connections: usize,
) -> anyhow::Result<serde_json::Value> {
    let seconds: u64 = duration
        .trim_end_matches('s')
        .parse()
        .context("--duration is a number of seconds, like 20s")?;
    let text = std::fs::read_to_string(credentials)
        .with_context(|| format!("reading {}", credentials.display()))?;
    let demo: serde_json::Value = serde_json::from_str(&text)?;
    let base_url = demo["base_url"]
        .as_str()
        .context("no base_url in the credentials")?
        .to_owned();
    let mut tokens: Vec<String> = demo["load_tokens"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    if tokens.is_empty() {
        tokens = demo["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["role"] == "citizen")
            .filter_map(|a| a["api_token"].as_str().map(str::to_owned))
            .collect();
    }
    anyhow::ensure!(!tokens.is_empty(), "no citizen tokens in the credentials");
    let holders = tokens.len();
    let tokens = Arc::new(tokens);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let seconds_from_now = |s: u64| std::time::Instant::now() + std::time::Duration::from_secs(s);
    let floor = drive(
        &client,
        &format!("{base_url}/healthz"),
        &Arc::new(Vec::new()),
        connections,
        seconds_from_now(5),
        false,
    )
    .await?;
    let pass_url = format!("{base_url}/api/v1/pass/me");
    let first = drive(
        &client,
        &pass_url,
        &tokens,
        connections,
        seconds_from_now(600),
        true,
    )
    .await?;
    let steady = drive(
        &client,
        &pass_url,
        &tokens,
        connections,
        seconds_from_now(seconds),
        false,
    )
    .await?;
    let (floor, first, steady) = (floor.summary(), first.summary(), steady.summary());
    let ratio = steady["requests_per_second"].as_f64().unwrap_or(0.0)
        / floor["requests_per_second"]
            .as_f64()
            .unwrap_or(1.0)
            .max(1e-9);
    Ok(serde_json::json!({
        "benchmark": "pass-http",
        "base_url": base_url,
        "connections": connections,
        "holders": holders,
        "http_floor_healthz": floor,
        "first_pass_per_holder": first,
        "steady": steady,
        "steady_to_floor_ratio": ratio,
        "machine": tongban_app::bench::machine(),
    }))
}
