//! `tongban`: the platform in one binary. This file parses the command line and hands each
//! subcommand to its function (`commands/`); everything else lives in the library crates.

mod cli;
mod commands;

use clap::Parser;
use tongban_app::Db;

use cli::*;
use commands::{admin, backup, certs, forms, keys, office, pass, serve, trust, unix_now};

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
        Command::Serve(common) => serve::serve(common.config()?, None).await,
        Command::Demo {
            common,
            load_holders,
            partner,
        } => serve::demo(common.config()?, load_holders, partner).await,
        Command::Migrate(common) => {
            let config = common.config()?;
            let db = Db::connect(&config.database_url(), 2).await?;
            tongban_app::migrate(&db).await?;
            println!("migrated {} database", db.engine().as_str());
            Ok(())
        }
        Command::Admin { common, command } => admin::administer(common.config()?, command).await,
        Command::Keys { common, command } => keys::manage_keys(common.config()?, command).await,
        Command::Audit {
            common,
            command: AuditCommand::Verify,
        } => keys::audit_verify(common.config()?).await,
        Command::Backup { common, out } => backup::backup(common.config()?, &out).await,
        Command::Restore {
            common,
            from,
            replace,
        } => backup::restore(common.config()?, &from, replace).await,
        Command::Chaos { command } => tongban_harness::cli::chaos(command).await,
        Command::Bench { command } => tongban_harness::cli::bench(command).await,
        Command::Conformance { command } => tongban_harness::cli::conformance(command),
        Command::Forms { command } => forms::forms(command),
        Command::Office {
            command: OfficeCommand::Verify { root, file },
        } => office::verify(root.as_deref(), &file),
        Command::Pass {
            command:
                PassCommand::Verify {
                    trust_list,
                    root_key,
                    code,
                },
        } => pass::pass_verify(&trust_list, root_key.as_deref(), &code),
        Command::Exchange {
            command:
                ExchangeCommand::Verify {
                    trust_list,
                    root_key,
                    file,
                },
        } => pass::exchange_verify(&trust_list, &root_key, &file),
        Command::Trust { common, command } => trust::trust(common.config()?, command).await,
        Command::Dcc { common, command } => trust::dcc(common.config()?, command).await,
        Command::Certs {
            command:
                CertsCommand::Verify {
                    trust_list,
                    root_key,
                    status_list,
                    at,
                    file,
                },
        } => certs::certs_verify(
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
        } => certs::certs_import(common.config()?, &type_code, &issuer, &file).await,
    }
}
