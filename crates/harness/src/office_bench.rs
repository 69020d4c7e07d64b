//! `tongban bench office`: 协同办公 on this machine, on SQLite or on the PostgreSQL of
//! `--database-url`. First the bare counter: document numbers (发文字号) issued by `--issuers`
//! at once, each in a transaction that writes its document. Then the office itself: documents
//! signed off and waiting for the secretariat are rechecked — the act that numbers them — by
//! `--issuers` clerks at once through the office's use-case (read, authorization, numbering,
//! history, the transparency log's entry; not the document's view the API answers with after
//! it), documents a second; both checked to run
//! from 1 without a gap or a repeat. Last, the to-do list of a leader with `--pending` items
//! waiting: the office's part and the whole list of every module, p50 and p99.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::{Value, json};
use tongban_app::AppState;
use tongban_app::config::Config;
use tongban_app::error::retrying;
use tongban_app::identity::model::Actor;
use tongban_app::office::documents::{self, ActOnDocument};
use tongban_app::office::gongwen::flow::Act;
use tongban_app::office::{numbering, store};
use tongban_core::SystemClock;

pub async fn office(
    documents: usize,
    issuers: usize,
    pending: usize,
    database_url: Option<String>,
) -> anyhow::Result<Value> {
    let scratch = std::env::temp_dir().join(format!("tongban-bench-office-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let engine = if database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let config = Config {
        data_dir: scratch.clone(),
        bind: "127.0.0.1:0".parse()?,
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
    let issuers = issuers.max(1);
    // Codes of this run's own, so that a PostgreSQL used before starts from 1 too.
    let run: String = (std::process::id() % 1000)
        .to_string()
        .chars()
        .map(|d| {
            "〇一二三四五六七八九"
                .chars()
                .nth(d as usize - '0' as usize)
                .unwrap_or('〇')
        })
        .collect();
    let bare_code = format!("临基准{run}发");
    let office_code = format!("临办基准{run}发");
    let bare = bare_counter(&state, &bare_code, documents, issuers).await?;

    // The office itself, on the demo city's government-services administration.
    let app = tongban_app::Application::build(state.clone()).await?;
    let base = format!("http://{}", app.local_addr()?);
    let credentials = tongban_app::demo::seed(&state, &base)
        .await
        .map_err(|e| anyhow::anyhow!("seeding: {e}"))?;
    drop(app);
    anyhow::ensure!(
        !credentials.accounts.is_empty(),
        "the demo city has accounts"
    );
    let actor = |username: &'static str| {
        let state = state.clone();
        async move {
            tongban_app::identity::service::actor_of_username(&state, username)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context("the account's actor")
        }
    };
    let (clerk, leader) = (
        actor("demo.clerk.city").await?,
        actor("demo.deptadmin").await?,
    );
    documents::add_code(&state, &leader, &office_code)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let department = clerk
        .account
        .department_id
        .clone()
        .context("a department")?;
    let signed = insert_waiting(
        &state,
        &department,
        &office_code,
        documents,
        "rechecking",
        &clerk,
        &leader,
    )
    .await?;
    let started = Instant::now();
    let mut work = tokio::task::JoinSet::new();
    let clerk = Arc::new(clerk);
    for issuer in 0..issuers {
        let (state, clerk) = (state.clone(), clerk.clone());
        let mine: Vec<String> = signed
            .iter()
            .skip(issuer)
            .step_by(issuers)
            .cloned()
            .collect();
        work.spawn(async move {
            for id in mine {
                documents::take(
                    &state,
                    &clerk,
                    &id,
                    ActOnDocument {
                        act: Act::Recheck,
                        opinion: String::new(),
                        reviewers: Vec::new(),
                        leader: None,
                    },
                )
                .await?;
            }
            Ok::<(), tongban_app::error::AppError>(())
        });
    }
    while let Some(done) = work.join_next().await {
        done??;
    }
    let recheck_seconds = started.elapsed().as_secs_f64();
    let year = state.today().year();
    ensure_run(&state, &office_code, year, documents).await?;

    // The to-do list of a leader with `pending` documents waiting for the sign-off.
    insert_waiting(
        &state,
        &department,
        &office_code,
        pending,
        "signing",
        &clerk,
        &leader,
    )
    .await?;
    let t = tongban_app::web::i18n::Tr(tongban_app::identity::model::Language::Zh);
    let mut office_ms = Vec::new();
    let mut whole_ms = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let part = documents::todo_part(&state, &leader, t, 200)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        office_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(part.total >= pending, "{} of {pending} waiting", part.total);
        let started = Instant::now();
        let list = tongban_app::module::todo_list(&state, &leader, t, 200)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        whole_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(list.items.len() == 200.min(list.total));
    }
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(json!({
        "bench": "office",
        "engine": engine,
        "documents": documents,
        "issuers": issuers,
        "bare_counter": bare,
        "recheck": {
            "seconds": round2(recheck_seconds),
            "documents_per_second": (documents as f64 / recheck_seconds).round(),
            "numbers_without_gap_or_repeat": true,
        },
        "todo": {
            "pending": pending,
            "office_p50_ms": round2(quantile(&mut office_ms, 0.5)),
            "office_p99_ms": round2(quantile(&mut office_ms, 0.99)),
            "all_modules_p50_ms": round2(quantile(&mut whole_ms, 0.5)),
            "all_modules_p99_ms": round2(quantile(&mut whole_ms, 0.99)),
        },
    }))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * q).round() as usize;
    values.get(index).copied().unwrap_or_default()
}

/// Checks that the numbers of a code and year run from 1 to `count`.
async fn ensure_run(state: &AppState, code: &str, year: i32, count: usize) -> anyhow::Result<()> {
    let numbers = store::numbers_of(state.pool(), code, year).await?;
    let expected: Vec<i64> = (1..=count as i64).collect();
    anyhow::ensure!(
        numbers == expected,
        "the numbers have a gap or a repeat: {count} issued, {} distinct up to {:?}",
        numbers.len(),
        numbers.last()
    );
    Ok(())
}

/// Writes `count` documents drafted by `clerk`, sent to `leader` for review and sign-off and
/// standing in `step` (set-up, not timed), in transactions of a thousand; returns their ids.
async fn insert_waiting(
    state: &AppState,
    department: &str,
    code: &str,
    count: usize,
    step: &str,
    clerk: &Actor,
    leader: &Actor,
) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(count);
    let now = state.now();
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let mut tx = state.pool().begin().await?;
        for n in chunk {
            let id = uuid::Uuid::new_v4().to_string();
            let mut document = store::Document::new(
                id.clone(),
                department,
                code,
                tongban_app::office::examples::notice(*n),
                clerk.id(),
                now,
            );
            document.state = step.into();
            store::insert_document(&mut *tx, &document).await?;
            store::name_parties(&mut tx, &id, &[leader.id().to_owned()], leader.id()).await?;
            let waiting = if step == "signing" {
                store::Waiting::account(leader.id())
            } else {
                store::Waiting::secretariat(department, leader.id())
            };
            store::replace_waiting(&mut tx, &id, 0, now, &[waiting]).await?;
            ids.push(id);
        }
        tx.commit().await?;
    }
    Ok(ids)
}

/// The bare counter: numbers taken by `issuers` at once, each in a transaction that writes a
/// document with it.
async fn bare_counter(
    state: &AppState,
    code: &str,
    documents: usize,
    issuers: usize,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    let mut work = tokio::task::JoinSet::new();
    for issuer in 0..issuers {
        let state = state.clone();
        let code = code.to_owned();
        work.spawn(async move {
            for n in (issuer..documents).step_by(issuers) {
                retrying(|| {
                    let (state, code) = (state.clone(), code.clone());
                    async move {
                        let mut tx = state.pool().begin().await?;
                        let number = numbering::issue(&mut tx, &code, 2026).await?;
                        let mut document = store::Document::new(
                            format!("bench-{}-{n}", std::process::id()),
                            "linjiang-zwfw",
                            &code,
                            tongban_app::office::examples::notice(n),
                            "bench",
                            0,
                        );
                        document.state = "sealing".into();
                        document.number = Some(number);
                        store::insert_document(&mut *tx, &document).await?;
                        tx.commit().await?;
                        Ok(())
                    }
                })
                .await?;
            }
            Ok::<(), tongban_app::error::AppError>(())
        });
    }
    while let Some(done) = work.join_next().await {
        done??;
    }
    let seconds = started.elapsed().as_secs_f64();
    ensure_run(state, code, 2026, documents).await?;
    Ok(json!({
        "seconds": round2(seconds),
        "documents_per_second": (documents as f64 / seconds).round(),
        "numbers_without_gap_or_repeat": true,
    }))
}
