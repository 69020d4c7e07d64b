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
    Demo(Common),
    /// Apply database migrations (the only way PostgreSQL is migrated).
    Migrate(Common),
    /// Administer accounts from the command line.
    Admin {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        command: AdminCommand,
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TONGBAN_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(common) => serve(common.config()?, false).await,
        Command::Demo(common) => serve(common.config()?, true).await,
        Command::Migrate(common) => {
            let config = common.config()?;
            let db = Db::connect(&config.database_url(), 2).await?;
            db.migrate().await?;
            println!("migrated {} database", db.engine().as_str());
            Ok(())
        }
        Command::Admin { common, command } => administer(common.config()?, command).await,
    }
}

async fn serve(config: Config, with_demo: bool) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    if with_demo {
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
    if with_demo {
        let credentials = demo::seed(&state, &base_url)
            .await
            .map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
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
