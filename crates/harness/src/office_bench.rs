//! `tongban bench office`: 协同办公 on this machine, on SQLite or on the PostgreSQL of
//! `--database-url`. First the bare counter: document numbers (发文字号) issued by `--issuers`
//! at once, each in a transaction that writes its document. Then the office itself: documents
//! signed off and waiting for the secretariat are rechecked — the act that numbers them — by
//! `--issuers` clerks at once through the office's use-case (read, authorization, numbering,
//! history, the transparency log's entry; not the document's view the API answers with after
//! it), documents a second; both checked to run
//! from 1 without a gap or a repeat. Last, the to-do list of a leader with `--pending` items
//! waiting: the office's part and the whole list of every module, p50 and p99. And the final
//! file: a ten-page notice laid out as GB/T 9704 lays it out (subsets of the faces embedded,
//! streams compressed), then signed (PAdES, ECDSA P-256 under a two-certificate chain), p50
//! and p99 of each.

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
    let pdf = pdf_bench(&state.config.office_fonts_dir)?;
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
        "pdf": pdf,
    }))
}

/// A notice of `paragraphs` paragraphs of four lines each, sealed.
fn long_notice(paragraphs: usize) -> tongban_app::office::gongwen::pdf::Sheet {
    tongban_app::office::gongwen::pdf::Sheet {
        urgency: Some("特急".into()),
        mark: "临江市政务服务管理局文件".into(),
        number: Some("临政服发〔2026〕7号".into()),
        title: "临江市政务服务管理局关于做好2027年元旦期间政务服务窗口值班工作的通知".into(),
        recipients: Some("各区政务服务管理局，市直各部门".into()),
        body: (1..=paragraphs)
            .map(|i| {
                format!(
                    "（{i}）为保障元旦期间群众和企业办事不受影响，各窗口单位应当安排工作人员轮流值班，\
                     值班表于12月25日前报市政务服务管理局。遇有紧急情况，值班人员应当立即报告并做好记录。"
                )
            })
            .collect(),
        attachments: vec!["值班安排表".into(), "值班人员联系方式".into()],
        organ: "临江市政务服务管理局".into(),
        date: "2026年12月7日".into(),
        seal: Some("临江市政务服务管理局".into()),
        copied_to: Some("市委办公室，市人大常委会办公室，市政协办公室".into()),
        printed_by: "临江市政务服务管理局办公室".into(),
        printed_on: "2026年12月7日".into(),
        ..Default::default()
    }
}

fn pages(pdf: &[u8]) -> usize {
    let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
    count(b"/Type /Page") - count(b"/Type /Pages")
}

/// The ten-page file: laid out, then signed; the faces read once before.
fn pdf_bench(fonts: &std::path::Path) -> anyhow::Result<Value> {
    use tongban_app::office::gongwen::pdf::{self, Face, Faces, SignatureSlot};
    use tongban_crypto::{SignatureAlgorithm, Signer as _, SoftwareSigner};
    use tongban_pades::cert::{self, Issuer, Request};
    let started = Instant::now();
    let song = std::fs::read(fonts.join("uming.ttc")).context("the faces (fonts-arphic-uming)")?;
    let kai = std::fs::read(fonts.join("ukai.ttc")).context("the faces (fonts-arphic-ukai)")?;
    let faces = Faces {
        song: Face {
            index: pdf::face_index(&song, "CN"),
            data: &song,
        },
        kai: Face {
            index: pdf::face_index(&kai, "CN"),
            data: &kai,
        },
    };
    let fonts_ms = started.elapsed().as_secs_f64() * 1000.0;
    let slot = SignatureSlot {
        name: "临江市政务服务管理局".into(),
        time: "D:20261207101500+08'00'".into(),
        contents_len: tongban_pades::CONTENTS_LEN,
    };
    // As many paragraphs as fill ten pages.
    let mut paragraphs = 40;
    let render =
        |n| pdf::render(&long_notice(n), &faces, Some(&slot)).map_err(|e| anyhow::anyhow!("{e}"));
    while pages(&render(paragraphs)?) < 10 {
        paragraphs += 1;
    }
    anyhow::ensure!(pages(&render(paragraphs)?) == 10, "ten pages");
    let root_key = SoftwareSigner::generate(SignatureAlgorithm::Es256, "root");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let root = cert::issue(
        &Request {
            subject: "CN=bench root,C=CN",
            public_key: &root_key.public_key(),
            serial: [5; 16],
            not_before: now - 86_400,
            not_after: now + 86_400,
            ca: true,
        },
        &Issuer {
            signer: &root_key,
            certificate: None,
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = SoftwareSigner::generate(SignatureAlgorithm::Es256, "organ");
    let organ = cert::issue(
        &Request {
            subject: "CN=临江市政务服务管理局,C=CN",
            public_key: &key.public_key(),
            serial: [6; 16],
            not_before: now - 86_400,
            not_after: now + 86_400,
            ca: false,
        },
        &Issuer {
            signer: &root_key,
            certificate: Some(&root),
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let chain = vec![organ, root];
    let (mut render_ms, mut sign_ms) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for _ in 0..30 {
        let started = Instant::now();
        let laid = render(paragraphs)?;
        render_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let signed = tongban_pades::sign(laid, &key, &chain).map_err(|e| anyhow::anyhow!("{e}"))?;
        sign_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        tongban_pades::verify(&signed).map_err(|e| anyhow::anyhow!("{e}"))?;
        bytes = signed.len();
    }
    let mut total: Vec<f64> = render_ms.iter().zip(&sign_ms).map(|(a, b)| a + b).collect();
    Ok(json!({
        "pages": 10,
        "paragraphs": paragraphs,
        "bytes": bytes,
        "fonts_read_once_ms": round2(fonts_ms),
        "render_p50_ms": round2(quantile(&mut render_ms, 0.5)),
        "render_p99_ms": round2(quantile(&mut render_ms, 0.99)),
        "sign_p50_ms": round2(quantile(&mut sign_ms, 0.5)),
        "total_p50_ms": round2(quantile(&mut total, 0.5)),
        "total_p99_ms": round2(quantile(&mut total, 0.99)),
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
