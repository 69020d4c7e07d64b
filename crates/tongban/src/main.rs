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
        command: tongban_harness::ConformanceCommand,
    },
    /// Measure; prints JSON.
    Bench {
        #[command(subcommand)]
        command: tongban_harness::BenchCommand,
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
        Command::Bench { command } => tongban_harness::cli::bench(command).await,
        Command::Conformance { command } => tongban_harness::cli::conformance(command),
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
            tongban_app::trust::dcc::import_signers(&state, &text, "operator")
                .await
                .map(|added| serde_json::json!({"added": added}))
        }
        DccCommand::Signers => tongban_app::trust::dcc::list_signers(&state)
            .await
            .and_then(|list| serde_json::to_value(list).map_err(|e| AppError::Internal(e.into()))),
        DccCommand::RemoveSigner { kid } => {
            tongban_app::trust::dcc::remove_signer(&state, &kid, "operator")
                .await
                .map(|removed| serde_json::json!({"kid": kid, "removed": removed}))
        }
        DccCommand::ImportSchemas { dir } => {
            tongban_app::trust::dcc::import_schema_dir(&state, &dir, "operator")
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
            let root = tongban_app::trust::regions::root_key(&text, &root_key)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tongban_app::trust::regions::import(&state, &text, &root, "operator")
                .await
                .map(|payload| {
                    serde_json::json!({"region": payload.region, "issued_at": payload.issued_at, "keys": payload.keys.len()})
                })
        }
        TrustCommand::List => tongban_app::trust::regions::list(&state)
            .await
            .and_then(|list| {
                serde_json::to_value(list)
                    .map_err(|e| tongban_app::error::AppError::Internal(e.into()))
            }),
        TrustCommand::Remove { region } => {
            tongban_app::trust::regions::remove(&state, &region, "operator")
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
