//! The `tongban bench` and `tongban conformance` commands: their arguments, and running them.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Subcommand;
use tongban_app::{Config, Db};
use tongban_core::SystemClock;

#[derive(Subcommand)]
pub enum ConformanceCommand {
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
pub enum BenchCommand {
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
        /// Drive this address instead of the credentials' base_url (a load balancer in front
        /// of several nodes).
        #[arg(long)]
        base_url: Option<String>,
    },
    /// The pass path past its capacity: the capacity measured (closed loop), then requests
    /// sent at FACTOR times it, open loop, while a login flood and a search flood run; the
    /// latency of those admitted, the 503s (at once, with Retry-After), any other answer.
    Overload {
        #[arg(long, default_value = "data/demo-credentials.json")]
        credentials: PathBuf,
        #[arg(long)]
        base_url: Option<String>,
        #[arg(long, default_value = "20s")]
        duration: String,
        #[arg(long, default_value_t = 2.0)]
        factor: f64,
        /// Connections of each flood.
        #[arg(long, default_value_t = 32)]
        flood_connections: usize,
    },
    /// The door of a recording venue scans holders' codes on a running server (through a
    /// balancer in front of several nodes), each holder once so that every scan is a check-in
    /// to store; check-ins per second and latency percentiles.
    CheckinsHttp {
        /// The demo's credentials file (with load holders: `tongban demo --load-holders N`).
        #[arg(long, default_value = "data/demo-credentials.json")]
        credentials: PathBuf,
        /// Drive this address instead of the credentials' base_url.
        #[arg(long)]
        base_url: Option<String>,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// The first holder scanned (runs within a minute of each other take different
        /// holders, or their scans fold as repeats).
        #[arg(long, default_value_t = 0)]
        from: usize,
        /// How many holders are scanned; default all from --from on.
        #[arg(long)]
        count: Option<usize>,
    },
    /// Several nodes on one database behind a load balancer: holders at the gate through the
    /// balancer, a colour changed on the first node timed until every other node shows it,
    /// and each run-once job checked to have run on one node only (from the nodes' metrics).
    /// Exits 1 when a check fails.
    Cluster {
        /// The credentials file written by the node that seeded the demo (with load holders).
        #[arg(long)]
        credentials: PathBuf,
        /// The balancer's address.
        #[arg(long)]
        through: String,
        /// Each node's own address, comma-separated (colours are changed on the first).
        #[arg(long, value_delimiter = ',')]
        nodes: Vec<String>,
        #[arg(long, default_value = "20s")]
        duration: String,
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Colour changes timed across the nodes.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// The accounting of a database failover (run by crates/harness/scripts/failover.sh, which
    /// kills the primary meanwhile): holders at the gate through the balancer, each once; every
    /// acknowledged check-in must be stored, and the seconds without a gate are reported.
    Failover {
        #[arg(long)]
        credentials: PathBuf,
        #[arg(long)]
        through: String,
        #[arg(long, value_delimiter = ',')]
        nodes: Vec<String>,
        /// The database, reached as the nodes reach it, to count the stored check-ins.
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value = "40s")]
        duration: String,
        #[arg(long, default_value_t = 16)]
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
    /// Exchanges through the data-sharing gateway (authenticated, granted, filtered, signed
    /// on both sides, logged) against a provider on this machine, beside direct calls to it.
    Exchange {
        /// Calls per path in the concurrent phase.
        #[arg(long, default_value_t = 50_000)]
        count: usize,
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Calls per path one at a time, for the added latency.
        #[arg(long, default_value_t = 2000)]
        sequential: usize,
        /// A PostgreSQL database to measure on (it gets migrated and seeded); default a fresh
        /// SQLite file.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// 跨省通办 applications transferred and acknowledged between two nodes of two regions on
    /// this machine (signed packages through both gateways, one case each), beside the same
    /// bodies over plain HTTP.
    CrossRegion {
        #[arg(long, default_value_t = 5_000)]
        count: usize,
        /// The material each application carries, in KiB.
        #[arg(long, default_value_t = 100)]
        material_kib: usize,
    },
    /// The open-data portal: the personal-data gate, loading a table through upload and
    /// publication, datastore_search with a filter, package_search with facets over many
    /// datasets (through the CKAN Action API on this machine).
    Opendata {
        #[arg(long, default_value_t = 100_000)]
        datasets: usize,
        /// Rows of the table loaded into the datastore.
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        /// Calls timed one at a time for each latency.
        #[arg(long, default_value_t = 300)]
        searches: usize,
        /// Then upload and publish a second table of this many rows, as one CSV file, and time
        /// datastore_search on it; 0 skips it.
        #[arg(long, default_value_t = 0)]
        big_rows: usize,
    },
    /// 协同办公: document numbers issued by many issuers at once — the bare counter, then the
    /// office's recheck acts that number documents — checked to run from 1 without a gap or a
    /// repeat; and the to-do list of a leader with many documents waiting.
    Office {
        #[arg(long, default_value_t = 20_000)]
        documents: usize,
        #[arg(long, default_value_t = 32)]
        issuers: usize,
        /// Documents waiting for one leader when the to-do list is timed.
        #[arg(long, default_value_t = 10_000)]
        pending: usize,
        /// A PostgreSQL URL; SQLite in a scratch folder when absent.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// 一表通: a submission checked against its form alone; durable submissions through a
    /// node, as ODK clients send them; the office's overlap report against many forms.
    Forms {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Approved forms registered for the overlap report.
        #[arg(long, default_value_t = 1_000)]
        forms: usize,
    },
    /// Durable events published through publish/subscribe and pushed to subscribers on this
    /// machine (each receives every event, signed; in order with --fifo).
    Pubsub {
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        #[arg(long, default_value_t = 4)]
        subscribers: usize,
        #[arg(long, default_value_t = 512)]
        publishers: usize,
        /// Subscribe with FIFO (one event at a time, in order) rather than the specification's
        /// default (events side by side).
        #[arg(long)]
        fifo: bool,
    },
    /// The operations view: a city's view for a day, a week and a month over a history of
    /// hourly figures (p50, p99), and what counting costs the workflow's steps and the
    /// check-ins (rounds with counting on and off in turn).
    Ops {
        /// Days of hourly history behind the view.
        #[arg(long, default_value_t = 400)]
        days: i64,
        /// Applications received that the history sums to.
        #[arg(long, default_value_t = 10_000_000)]
        applications: u64,
        /// Check-ins that the history sums to.
        #[arg(long, default_value_t = 100_000_000)]
        checkins: u64,
        /// Times each view is asked.
        #[arg(long, default_value_t = 200)]
        asks: usize,
        /// Rounds of each write path with counting on, and as many with it off.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Applications run through the workflow in each round.
        #[arg(long, default_value_t = 200)]
        workflow_applications: usize,
        /// Check-ins made in each round.
        #[arg(long, default_value_t = 20_000)]
        checkins_per_round: u64,
        /// A PostgreSQL database to measure on (it gets migrated and seeded); default a fresh
        /// SQLite file.
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

/// Runs a benchmark and prints its result as JSON.
pub async fn bench(command: BenchCommand) -> anyhow::Result<()> {
    let result = match command {
        BenchCommand::Crypto { millis_per_case } => {
            crate::bench::crypto(std::time::Duration::from_millis(millis_per_case))
        }
        BenchCommand::PassHttp {
            credentials,
            duration,
            connections,
            base_url,
        } => {
            crate::load::pass_http(&credentials, &duration, connections, base_url.as_deref())
                .await?
        }
        BenchCommand::Overload {
            credentials,
            base_url,
            duration,
            factor,
            flood_connections,
        } => {
            crate::overload::overload(
                &credentials,
                base_url.as_deref(),
                &duration,
                factor,
                flood_connections,
            )
            .await?
        }
        BenchCommand::CheckinsHttp {
            credentials,
            base_url,
            connections,
            from,
            count,
        } => {
            crate::load::checkins_http(&credentials, base_url.as_deref(), connections, from, count)
                .await?
        }
        BenchCommand::Failover {
            credentials,
            through,
            nodes,
            database_url,
            duration,
            connections,
        } => {
            crate::cluster::failover(crate::cluster::FailoverRun {
                credentials,
                through,
                nodes,
                database_url,
                seconds: crate::load::seconds(&duration)?,
                connections,
            })
            .await?
        }
        BenchCommand::Cluster {
            credentials,
            through,
            nodes,
            duration,
            connections,
            rounds,
        } => {
            crate::cluster::cluster(crate::cluster::ClusterRun {
                credentials,
                through,
                nodes,
                seconds: crate::load::seconds(&duration)?,
                connections,
                rounds,
            })
            .await?
        }
        BenchCommand::DccVerify {
            dir,
            schemas,
            millis_per_case,
            export,
        } => {
            let dir = match dir {
                Some(dir) => dir,
                None => crate::conformance::vectors_dir()
                    .map(|v| v.join("dcc/testdata"))
                    .context("no DCC test data: give DIR or set TONGBAN_CONFORMANCE_DIR")?,
            };
            let schemas = schemas.unwrap_or_else(|| dir.join("../schema"));
            crate::bench::dcc_verify(
                &dir,
                &schemas,
                std::time::Duration::from_millis(millis_per_case),
                export.as_deref(),
            )?
        }
        BenchCommand::PassVerify { millis_per_case } => {
            crate::bench::pass_verify(std::time::Duration::from_millis(millis_per_case))
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
            tongban_app::demo::seed(&state, "http://127.0.0.1:1")
                .await
                .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
            let result = crate::bench::certs_issue(&state, count).await?;
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
            let (state, credentials) = seeded_city(&scratch, database_url).await?;
            let result =
                crate::bench::workflow(&state, &credentials, applications, concurrency).await?;
            state.db.close().await;
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
        BenchCommand::Ops {
            days,
            applications,
            checkins,
            asks,
            rounds,
            workflow_applications,
            checkins_per_round,
            database_url,
        } => {
            let scratch =
                std::env::temp_dir().join(format!("tongban-bench-ops-{}", std::process::id()));
            std::fs::create_dir_all(&scratch)?;
            let (state, credentials) = seeded_city(&scratch, database_url).await?;
            let result = crate::ops_bench::ops(
                &state,
                &credentials,
                crate::ops_bench::OpsBench {
                    days,
                    applications,
                    checkins,
                    asks,
                    rounds,
                    workflow_applications,
                    checkins_per_round,
                },
            )
            .await?;
            state.db.close().await;
            let _ = std::fs::remove_dir_all(&scratch);
            result
        }
        BenchCommand::Exchange {
            count,
            connections,
            sequential,
            database_url,
        } => crate::exchange_bench::exchange(count, connections, sequential, database_url).await?,
        BenchCommand::CrossRegion {
            count,
            material_kib,
        } => crate::cross_region_bench::cross_region(count, material_kib).await?,
        BenchCommand::Opendata {
            datasets,
            rows,
            searches,
            big_rows,
        } => crate::opendata_bench::opendata(datasets, rows, searches, big_rows).await?,
        BenchCommand::Forms {
            count,
            connections,
            forms,
        } => crate::forms_bench::forms(count, connections, forms).await?,
        BenchCommand::Office {
            documents,
            issuers,
            pending,
            database_url,
        } => crate::office_bench::office(documents, issuers, pending, database_url).await?,
        BenchCommand::Pubsub {
            count,
            subscribers,
            publishers,
            fifo,
        } => crate::pubsub_bench::pubsub(count, subscribers, publishers, fifo).await?,
        BenchCommand::Contacts {
            checkins,
            days,
            cases,
            database_url,
        } => {
            let (db, scratch) = bench_database(database_url).await?;
            let result = crate::bench::contacts(db.clone(), checkins, days, cases).await?;
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
            let result = crate::bench::checkins(db.clone(), count, concurrency, print_acks).await?;
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
            let result = crate::bench::ledger(db.clone(), algorithm, count, concurrency).await?;
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
    tongban_app::migrate(&db).await?;
    Ok((db, scratch))
}

/// Runs a conformance suite, prints its summary as JSON, and exits 1 when a case failed or
/// none ran.
pub fn conformance(command: ConformanceCommand) -> anyhow::Result<()> {
    let summary = match command {
        ConformanceCommand::Certlogic { dir } => crate::conformance::certlogic(&dir)?,
        ConformanceCommand::Rules { dir } => crate::conformance::rules(&dir)?,
        ConformanceCommand::Dcc { dir, schemas } => {
            let schemas = schemas.unwrap_or_else(|| dir.join("../schema"));
            let report = crate::conformance::dcc::run(&dir, &schemas)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report["failed"] != 0 || report["cases"] == 0 {
                std::process::exit(1);
            }
            return Ok(());
        }
        ConformanceCommand::Shc { dir } => {
            let report = crate::conformance::shc(&dir, unix_now())?;
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

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Subcommand)]
pub enum ChaosCommand {
    /// Kills a node under mixed load with SIGKILL at a random moment, round after round, and
    /// checks after each kill that every acknowledged write is there, nothing unacknowledged is
    /// half there, the database is intact and the log verifies and extends what it published;
    /// one round also backs up under the load and verifies the restored copy. Prints JSON,
    /// exits 1 when a check fails.
    Crash {
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// The node's data folder (made if missing; the demo city is seeded there once).
        #[arg(long)]
        data_dir: PathBuf,
        /// A PostgreSQL database instead of the SQLite file in the data folder.
        #[arg(long)]
        database_url: Option<String>,
        /// Holders seeded for the door; each is scanned once over the whole run.
        #[arg(long, default_value_t = 3000)]
        holders: usize,
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// The seed of the load's choices and the moments of the kills.
        #[arg(long)]
        seed: Option<u64>,
        /// A shell command that restarts the database (`pg_ctlcluster 15 main restart`), run
        /// under the load in every other round: the node answers 503 meanwhile and takes writes
        /// again without a restart of its own.
        #[arg(long)]
        restart_database: Option<String>,
    },
    /// One node under steady mixed load for a long time (pass reads and door scans,
    /// applications with uploads, certificates issued, checkpoints), its resident memory read
    /// every ten seconds: every answer must be a success and the node ready at the end. Prints
    /// JSON with the memory over time, exits 1 when a check fails.
    Soak {
        /// Minutes of load.
        #[arg(long, default_value_t = 30)]
        minutes: u64,
        /// The node's data folder (made if missing; the demo city is seeded there once).
        #[arg(long)]
        data_dir: PathBuf,
        /// A PostgreSQL database instead of the SQLite file in the data folder.
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 3000)]
        holders: usize,
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Milliseconds each connection waits after each answer: a steady load, not the most
        /// the machine can take.
        #[arg(long, default_value_t = 5)]
        pause_ms: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Puts a node's data on a small tmpfs (mounted here: needs root) and fills it: writes
    /// must be refused with 503 and change nothing, reads go on, nothing answers 500, and once
    /// space is freed writes are taken again without a restart; then the database is checked
    /// as after a crash. Prints JSON, exits 1 when a check fails.
    FullDisk {
        #[arg(long, default_value_t = 64)]
        size_mib: u64,
        #[arg(long, default_value_t = 1500)]
        holders: usize,
    },
}

/// Runs a chaos harness against this binary and prints its report as JSON.
pub async fn chaos(command: ChaosCommand) -> anyhow::Result<()> {
    let binary = std::env::current_exe().context("finding this binary")?;
    let report = match command {
        ChaosCommand::Crash {
            rounds,
            data_dir,
            database_url,
            holders,
            connections,
            seed,
            restart_database,
        } => {
            let seed = seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
            crate::chaos::crash(crate::chaos::CrashRun {
                binary,
                log: data_dir.join("chaos-node.log"),
                data_dir,
                database_url,
                rounds,
                holders,
                connections,
                seed,
                restart_database,
            })
            .await?
        }
        ChaosCommand::Soak {
            minutes,
            data_dir,
            database_url,
            holders,
            connections,
            pause_ms,
            seed,
        } => {
            crate::soak::soak(crate::soak::SoakRun {
                node: crate::chaos::CrashRun {
                    binary,
                    log: data_dir.join("soak-node.log"),
                    data_dir,
                    database_url,
                    rounds: 1,
                    holders,
                    connections,
                    seed,
                    restart_database: None,
                },
                duration: std::time::Duration::from_secs(minutes * 60),
                pause: std::time::Duration::from_millis(pause_ms),
            })
            .await?
        }
        ChaosCommand::FullDisk { size_mib, holders } => {
            crate::chaos::full_disk(crate::chaos::FullDiskRun {
                binary,
                size_mib,
                holders,
            })
            .await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// A demo city for a benchmark: on `database_url`, or on a fresh SQLite file in `scratch`.
async fn seeded_city(
    scratch: &std::path::Path,
    database_url: Option<String>,
) -> anyhow::Result<(
    tongban_app::state::AppState,
    tongban_app::demo::DemoCredentials,
)> {
    let config = Config {
        data_dir: scratch.to_path_buf(),
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
    let credentials = tongban_app::demo::seed(&state, "http://127.0.0.1:1")
        .await
        .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
    Ok((state, credentials))
}
