//! Benchmarks behind `tongban bench`: what was measured, on this machine, in this run, as JSON.
//! Each result comes with a baseline measured in the same run so it reads as a ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};
use tongban_crypto::{
    HashAlgorithm, Profile, SealingKey, SignatureAlgorithm, Signer, SoftwareSigner, digest, verify,
};
use tongban_ledger::leaf_hash;

use tongban_app::db::Db;
use tongban_app::ledger::appender::Appender;

/// Runs `work` repeatedly for about `budget` and returns operations per second.
fn rate(budget: Duration, mut work: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < budget {
        for _ in 0..16 {
            work();
        }
        count += 16;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

#[derive(Serialize)]
struct SuiteResult {
    algorithm: &'static str,
    sign_per_second: f64,
    verify_per_second: f64,
}

/// Signing and verification per second for each suite, hashing and sealing throughput.
pub fn crypto(budget: Duration) -> Value {
    let message = [7u8; 256];
    let suites: Vec<SuiteResult> = SignatureAlgorithm::ALL
        .into_iter()
        .map(|algorithm| {
            let signer = SoftwareSigner::generate(algorithm, "bench");
            let public = signer.public_key();
            let signature = signer.sign(&message);
            SuiteResult {
                algorithm: algorithm.as_str(),
                sign_per_second: rate(budget, || {
                    std::hint::black_box(signer.sign(std::hint::black_box(&message)));
                }),
                verify_per_second: rate(budget, || {
                    let _ = std::hint::black_box(verify(&public, &message, &signature));
                }),
            }
        })
        .collect();
    let block = vec![1u8; 64 * 1024];
    let hashes: Vec<Value> = [HashAlgorithm::Sha256, HashAlgorithm::Sm3]
        .into_iter()
        .map(|algorithm| {
            let per_second = rate(budget, || {
                std::hint::black_box(digest(algorithm, &block));
            });
            json!({"algorithm": algorithm.as_str(), "mib_per_second": per_second * 64.0 / 1024.0})
        })
        .collect();
    let aeads: Vec<Value> = [Profile::International, Profile::Gm]
        .into_iter()
        .map(|profile| {
            let key = SealingKey::generate(profile.aead());
            let field = [3u8; 64];
            let per_second = rate(budget, || {
                std::hint::black_box(key.seal(b"persons.name/1", &field));
            });
            json!({"algorithm": profile.aead().as_str(), "seal_64_bytes_per_second": per_second})
        })
        .collect();
    json!({"benchmark": "crypto", "signatures": suites, "sm2": sm2_against_reference(budget, &message), "hashes": hashes, "sealing": aeads, "machine": machine()})
}

/// tongban's SM2 (tongban-sm2) beside RustCrypto's `sm2` crate, which the platform used
/// before and still tests against, in the same run: signing, verifying under a key parsed
/// once, and verifying under a key with its precomputed table (what a pass verifier's few
/// keys get).
fn sm2_against_reference(budget: Duration, message: &[u8]) -> Value {
    use sm2::dsa::signature::{Signer as _, Verifier as _};
    let secret = loop {
        let candidate = tongban_crypto::random_bytes(32);
        if tongban_sm2::SigningKey::from_bytes(&candidate, tongban_sm2::DEFAULT_ID).is_ok() {
            break candidate;
        }
    };
    let ours = tongban_sm2::SigningKey::from_bytes(&secret, tongban_sm2::DEFAULT_ID)
        .expect("a key checked above");
    let theirs = sm2::dsa::SigningKey::from_slice("1234567812345678", &secret)
        .expect("the same key for the reference");
    let signature = ours.sign(message);
    let their_signature: sm2::dsa::Signature = theirs.sign(message);
    assert_eq!(
        signature,
        their_signature.to_bytes().as_slice(),
        "the two implementations sign alike"
    );
    let their_key = theirs.verifying_key().clone();
    let our_key = ours.verifying_key().clone();
    let prepared = our_key.clone().with_table();

    let reference_sign = rate(budget, || {
        let s: sm2::dsa::Signature = theirs.sign(std::hint::black_box(message));
        std::hint::black_box(s);
    });
    let reference_verify = rate(budget, || {
        let _ = std::hint::black_box(their_key.verify(message, &their_signature));
    });
    let sign = rate(budget, || {
        std::hint::black_box(ours.sign(std::hint::black_box(message)));
    });
    let verify_plain = rate(budget, || {
        let _ = std::hint::black_box(our_key.verify(message, &signature));
    });
    let verify_prepared = rate(budget, || {
        let _ = std::hint::black_box(prepared.verify(message, &signature));
    });
    let table_started = Instant::now();
    std::hint::black_box(our_key.clone().with_table());
    json!({
        "reference": "RustCrypto sm2 0.14 (precomputed-tables)",
        "reference_sign_per_second": reference_sign,
        "reference_verify_per_second": reference_verify,
        "sign_per_second": sign,
        "verify_per_second": verify_plain,
        "verify_prepared_key_per_second": verify_prepared,
        "prepare_key_milliseconds": table_started.elapsed().as_secs_f64() * 1000.0,
        "sign_ratio": sign / reference_sign,
        "verify_ratio": verify_plain / reference_verify,
        "verify_prepared_key_ratio": verify_prepared / reference_verify,
    })
}

/// Durable appends per second through the group-committing appender, with `concurrency`
/// appends in flight, and the same machine's raw leaf-hash rate for entries of the same size.
pub async fn ledger(
    db: Db,
    algorithm: HashAlgorithm,
    count: u64,
    concurrency: usize,
) -> anyhow::Result<Value> {
    let appender = Appender::start(db.clone(), algorithm);
    let entry = |n: u64| {
        format!(
            r#"{{"kind":"personal_data_access","at":"2026-11-26T00:00:00Z","actor":"01a21617-d824-709c-954a-cf43db803e40","role":"clerk","department":"01a21617-d824-709c-954a-cf43db803e41","action":"read","categories":"name,resident_id,phone","subject":"{n:064x}","purpose":"service_handling","request_id":null}}"#
        )
        .into_bytes()
    };
    let entry_bytes = entry(0).len();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let appender = appender.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                appender
                    .append(entry(n))
                    .await
                    .map_err(|e| anyhow::anyhow!("append failed: {e}"))?;
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sample = entry(1);
    let hash_rate = rate(Duration::from_millis(500), || {
        std::hint::black_box(leaf_hash(algorithm, &sample));
    });
    let appends_per_second = count as f64 / elapsed;
    Ok(json!({
        "benchmark": "ledger",
        "engine": db.engine().as_str(),
        "hash": algorithm.as_str(),
        "entries": count,
        "entry_bytes": entry_bytes,
        "concurrency": concurrency,
        "seconds": elapsed,
        "durable_appends_per_second": appends_per_second,
        "raw_leaf_hashes_per_second": hash_rate,
        "appends_to_hashes_ratio": appends_per_second / hash_rate,
        "machine": machine(),
    }))
}

/// Offline pass verifications per second (decode, inflate, COSE, signature, claims) beside
/// the raw signature-verification rate of the same suite, in the same run.
pub fn pass_verify(budget: Duration) -> Value {
    let results: Vec<Value> = SignatureAlgorithm::ALL
        .into_iter()
        .map(|algorithm| {
            let signer = SoftwareSigner::generate(algorithm, "pass-bench");
            let now = 1_790_000_000;
            let claims = tongban_codes::PassClaims {
                issuer: "tongban.339900".into(),
                subject: "bench-reference-0123456789abcdef".into(),
                colour: tongban_codes::Colour::Green,
                initials: "Z*".into(),
                entitlements: vec!["transit".into(), "library".into()],
                issued_at: now,
                expires_at: now + 300,
            };
            let code = tongban_codes::issue_pass(&claims, &signer);
            let mut ring = tongban_crypto::KeyRing::new();
            ring.insert("pass-bench", signer.public_key());
            let issuers = vec!["tongban.339900".to_owned()];
            let pipeline = rate(budget, || {
                let _ = std::hint::black_box(tongban_codes::verify_pass(
                    &code,
                    &ring,
                    now + 1,
                    &issuers,
                ));
            });
            let sealed = tongban_codes::decode(tongban_codes::PASS_PREFIX, &code).map(|s| s.sign1);
            let (tbs, signature) = match &sealed {
                Ok(sign1) => (
                    tongban_codes::sign1_to_be_signed(sign1),
                    sign1.signature.clone(),
                ),
                Err(_) => (Vec::new(), Vec::new()),
            };
            let public = signer.public_key();
            let raw = rate(budget, || {
                let _ = std::hint::black_box(verify(&public, &tbs, &signature));
            });
            json!({
                "algorithm": algorithm.as_str(),
                "code_characters": code.len(),
                "pipeline_verifications_per_second": pipeline,
                "raw_signature_verifications_per_second": raw,
                "pipeline_to_raw_ratio": pipeline / raw,
            })
        })
        .collect();
    json!({"benchmark": "pass-verify", "suites": results, "machine": machine()})
}

/// What machine the numbers come from.
pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

/// Durable check-ins per second through the group-committing writer, with `concurrency`
/// check-ins in flight, then the rate at which the log is compacted into the indexed table. Each check-in is made as a request makes it: a keyed pseudonym and
/// the person id sealed (AES-256-GCM), for one of `count / 3` people at one of 10,000 venues,
/// a few milliseconds apart. Beside it, the rate of making those values alone.
///
/// With `print_acks`, each acknowledged check-in is printed (pseudonym in hex, venue, time) as
/// it is acknowledged, so that a test can kill the process and look for every one of them.
pub async fn checkins(
    db: Db,
    count: u64,
    concurrency: usize,
    print_acks: bool,
) -> anyhow::Result<Value> {
    use tongban_app::checkins::{CheckinWriter, NewCheckin};
    let writer = CheckinWriter::start(db.clone(), Arc::new(tongban_core::SystemClock));
    let key = Arc::new(SealingKey::generate(
        tongban_crypto::AeadAlgorithm::Aes256Gcm,
    ));
    let people = (count / 3).max(1);
    let start_at = 1_790_000_000_000i64;
    let make = move |key: &SealingKey, n: u64| {
        // A cheap, well-spread choice of person and venue for check-in n.
        let spread = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let person = format!("01a21617-d824-709c-954a-{:012x}", spread % people);
        let pseudonym = key.keyed_digest(
            HashAlgorithm::Sha256,
            format!("checkin\0{person}").as_bytes(),
        );
        let mut subject = [0u8; 16];
        subject.copy_from_slice(&pseudonym[..16]);
        NewCheckin {
            venue_no: ((spread >> 20) % 10_000) as i64,
            at: start_at + (n as i64) * 3,
            person_sealed: key.seal(b"checkin_subjects.person", person.as_bytes()),
            subject,
            method: 1,
        }
    };
    let made_per_second = {
        let key = key.clone();
        let mut n = 0;
        rate(Duration::from_millis(500), move || {
            std::hint::black_box(make(&key, n));
            n += 1;
        })
    };
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let recorded = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (writer, next, recorded, key) =
            (writer.clone(), next.clone(), recorded.clone(), key.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(());
                }
                let checkin = make(&key, n);
                let (subject, venue_no, at) = (checkin.subject, checkin.venue_no, checkin.at);
                let new = writer
                    .record(checkin)
                    .await
                    .map_err(|e| anyhow::anyhow!("check-in failed: {e}"))?;
                if print_acks && new {
                    println!(
                        "ack {} {venue_no} {at}",
                        tongban_app::random::hex_encode(&subject)
                    );
                }
                if new {
                    recorded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    // Then the background work: moving the log into the indexed table, all of it at once.
    let compaction = Instant::now();
    tongban_app::checkins::writer::compact(&db, i64::MAX)
        .await
        .map_err(|e| anyhow::anyhow!("compaction failed: {e}"))?;
    let compaction = compaction.elapsed().as_secs_f64();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM checkins")
        .fetch_one(db.pool())
        .await?;
    let per_second = count as f64 / elapsed;
    Ok(json!({
        "benchmark": "checkins",
        "engine": db.engine().as_str(),
        "checkins": count,
        "recorded_as_new_visits": recorded.load(std::sync::atomic::Ordering::Relaxed),
        "rows_stored": stored,
        "people": people,
        "venues": 10_000,
        "concurrency": concurrency,
        "seconds": elapsed,
        "durable_checkins_per_second": per_second,
        "compaction_seconds": compaction,
        "compacted_per_second": stored as f64 / compaction.max(1e-9),
        "checkins_made_per_second_without_storing": made_per_second,
        "ratio": per_second / made_per_second,
        "machine": machine(),
    }))
}

/// A small deterministic generator (SplitMix64), so that a synthetic city (or a chaos run) is
/// the same in every run with its seed.
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// In [0, n) (n at least 1).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The pseudonym of synthetic person `p` (random-looking, like a keyed digest).
fn synthetic_subject(p: u64) -> [u8; 16] {
    let mut g = SplitMix(p ^ 0x5eed);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&g.next().to_be_bytes());
    out[8..].copy_from_slice(&g.next().to_be_bytes());
    out
}

/// Share of a day's check-ins in each hour: quiet nights, the two commutes, lunch, evenings.
const HOURLY_SHARE: [f64; 24] = [
    0.3, 0.2, 0.1, 0.1, 0.2, 0.6, 2.5, 7.5, 9.0, 5.5, 4.5, 5.5, 6.5, 5.0, 4.5, 4.5, 5.5, 8.0, 8.5,
    6.0, 4.5, 3.5, 2.0, 1.0,
];

/// `tongban bench contacts`: builds a synthetic city of `checkins` check-ins over `days` days
/// (people checking in about twice a day; venue popularity following a power law, so a few
/// stations and malls take a large share; times following the daily pattern above), then
/// times contact matches of random cases over their last 14 days with a 30-minute dwell.
pub async fn contacts(db: Db, checkins: u64, days: i64, cases: usize) -> anyhow::Result<Value> {
    use tongban_app::checkins::DAY_MS;
    use tongban_app::checkins::contacts::overlaps;
    let people = (checkins / (days.max(1) as u64 * 2)).max(10);
    let venues = (checkins / 100).max(100);
    let first_day = 20_600i64; // 2026-05-26
    let mut g = SplitMix(2026);
    let cumulative: Vec<f64> = HOURLY_SHARE
        .iter()
        .scan(0.0, |sum, share| {
            *sum += share;
            Some(*sum)
        })
        .collect();
    let total_share = cumulative[23];
    let loading = Instant::now();
    // Bulk load, then build the subject index once, as a restore would.
    sqlx::query("DROP INDEX checkins_subject")
        .execute(db.pool())
        .await?;
    let per_day = checkins / days.max(1) as u64;
    for day in 0..days {
        let mut rows: Vec<(i64, i64, [u8; 16])> = (0..per_day)
            .map(|_| {
                let venue = (venues as f64 * g.unit().powi(3)) as i64;
                let share = g.unit() * total_share;
                let hour = cumulative.iter().position(|c| share < *c).unwrap_or(23) as i64;
                let at =
                    (first_day + day) * DAY_MS + hour * 3_600_000 + (g.unit() * 3_600_000.0) as i64;
                (venue, at, synthetic_subject(g.next() % people))
            })
            .collect();
        rows.sort_unstable();
        let mut tx = db.pool().begin().await?;
        for chunk in rows.chunks(80) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    format!(
                        "(${}, ${}, ${}, ${}, 1)",
                        r * 4 + 1,
                        r * 4 + 2,
                        r * 4 + 3,
                        r * 4 + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO checkins (day, venue_no, at, subject, method) VALUES {} ON CONFLICT DO NOTHING",
                values.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (venue, at, subject) in chunk {
                query = query
                    .bind(first_day + day)
                    .bind(*venue)
                    .bind(*at)
                    .bind(subject.to_vec());
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let load_seconds = loading.elapsed().as_secs_f64();
    let indexing = Instant::now();
    sqlx::query("CREATE INDEX checkins_subject ON checkins (day, subject, at)")
        .execute(db.pool())
        .await?;
    let index_seconds = indexing.elapsed().as_secs_f64();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM checkins")
        .fetch_one(db.pool())
        .await?;
    // Cases: people drawn at random; each matched over the last 14 days.
    let to = (first_day + days) * DAY_MS;
    let from = to - 14 * DAY_MS;
    let mut timings = Vec::with_capacity(cases);
    let (mut visits_total, mut found_total) = (0usize, 0usize);
    for _ in 0..cases {
        let case = synthetic_subject(g.next() % people);
        let started = Instant::now();
        let found = overlaps(db.pool(), &case, from, to, 30 * 60_000)
            .await
            .map_err(|e| anyhow::anyhow!("match failed: {e}"))?;
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        visits_total += tongban_app::checkins::visits_of(db.pool(), &case, from, to)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .len();
        found_total += found.len();
    }
    timings.sort_by(f64::total_cmp);
    let at = |p: f64| timings[((timings.len() as f64 * p) as usize).min(timings.len() - 1)];
    Ok(json!({
        "benchmark": "contacts",
        "engine": db.engine().as_str(),
        "checkins": stored,
        "people": people,
        "venues": venues,
        "days": days,
        "load_seconds": load_seconds,
        "subject_index_seconds": index_seconds,
        "cases": cases,
        "case_period_days": 14,
        "dwell_minutes": 30,
        "mean_case_visits": visits_total as f64 / cases.max(1) as f64,
        "mean_contacts_found": found_total as f64 / cases.max(1) as f64,
        "match_ms": {"p50": at(0.5), "p90": at(0.9), "max": timings.last()},
        "machine": machine(),
    }))
}

/// `tongban bench certs-issue`: business licences issued in bulk by the demo market regulator
/// to `count` synthetic enterprises — items checked, signed over canonical JSON (on every
/// core), sealed, stored and logged — beside the raw signing rate of the same key over the same
/// bytes on one core, in the same run.
pub async fn certs_issue(
    state: &tongban_app::state::AppState,
    count: usize,
) -> anyhow::Result<Value> {
    use tongban_app::certs::{self, BulkRow, HolderInfo};
    let departments = tongban_app::admin::store::departments(state.pool()).await?;
    let department = departments
        .iter()
        .find(|d| d.kind == "market_regulation" && d.region_code.as_str() == "339900")
        .context_free("the demo market regulator")?;
    let licence = certs::cert_types(state)
        .await?
        .into_iter()
        .find(|t| t.name == "营业执照")
        .context_free("the demo business licence type")?;
    let rows: Vec<BulkRow> = (0..count)
        .map(|n| BulkRow {
            holder: HolderInfo {
                kind: "enterprise",
                id: format!("bench-enterprise-{n}"),
                name: format!("临江测试商贸有限公司{n}"),
                code: "91339901MA2AAAAA1X".into(),
            },
            items: serde_json::from_value(json!({
                "name": format!("临江测试商贸有限公司{n}"),
                "legal_representative": "王五",
                "registered_capital": "100万元人民币",
                "established_on": "2024-03-01",
                "business_scope": ["日用百货销售", "食品销售"],
            }))
            .unwrap_or_default(),
        })
        .collect();
    let started = Instant::now();
    let outcome =
        tongban_app::certs::issue_many(state, department, &licence, rows, "operator", &|_| {})
            .await
            .map_err(|e| anyhow::anyhow!("issuance failed: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let signer =
        tongban_app::keys::service::signer(state, &department.id, tongban_app::certs::CERT_KEY)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let sample = certs::of_holder(state, "enterprise", "bench-enterprise-0")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bytes = sample.first().map_or(0, |r| r.document_sealed.len());
    let message = vec![0x5a; bytes.max(64)];
    let raw = rate(Duration::from_millis(500), || {
        std::hint::black_box(signer.sign(&message));
    });
    let per_second = outcome.issued.len() as f64 / seconds;
    Ok(json!({
        "benchmark": "certs-issue",
        "engine": state.db.engine().as_str(),
        "algorithm": signer.algorithm().as_str(),
        "certificates": outcome.issued.len(),
        "failed": outcome.failed.len(),
        "seconds": seconds,
        "issued_per_second": per_second,
        "sealed_document_bytes": bytes,
        "raw_signatures_per_second_one_core": raw,
        "ratio_to_raw_one_core": per_second / raw,
        "machine": machine(),
    }))
}

/// `Option::ok_or` with a message, for the benchmarks' set-up.
trait ContextFree<T> {
    fn context_free(self, what: &str) -> anyhow::Result<T>;
}

impl<T> ContextFree<T> for Option<T> {
    fn context_free(self, what: &str) -> anyhow::Result<T> {
        self.ok_or_else(|| anyhow::anyhow!("missing: {what}"))
    }
}

/// Applications run through a ten-step workflow (accept, review, six checks, approve,
/// deliver) by the full service path — role and version checks, the transparency log, the
/// transition and its event in one transaction, the applicant's notice — with `concurrency`
/// clerks at once. Reports completed steps per second, and per core.
pub async fn workflow(
    state: &tongban_app::state::AppState,
    credentials: &tongban_app::demo::DemoCredentials,
    applications: usize,
    concurrency: usize,
) -> anyhow::Result<Value> {
    let bench = WorkflowBench::new(state, credentials).await?;
    let ids = bench.apply(state, applications).await?;
    let (steps, seconds) = bench.run(state, ids, concurrency).await?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_second = steps as f64 / seconds;
    Ok(json!({
        "benchmark": "workflow",
        "engine": state.db.engine().as_str(),
        "applications": applications,
        "steps_per_application": WORKFLOW_ACTIONS.len(),
        "steps": steps,
        "concurrency": concurrency,
        "seconds": seconds,
        "steps_per_second": per_second,
        "steps_per_second_per_core": per_second / cores as f64,
        "cores": cores,
        "machine": machine(),
    }))
}

/// The ten actions of the workflow bench's item, in order.
const WORKFLOW_ACTIONS: [&str; 10] = [
    "accept", "pass", "pass", "pass", "pass", "pass", "pass", "pass", "approve", "deliver",
];

/// The workflow bench's item (ten steps, saved through the catalogue's checks), its applicant
/// and its clerk.
pub struct WorkflowBench {
    citizen: tongban_app::identity::model::Actor,
    clerk: std::sync::Arc<tongban_app::identity::model::Actor>,
    item: String,
}

impl WorkflowBench {
    /// `count` applications for the item, as the citizen.
    pub async fn apply(
        &self,
        state: &tongban_app::state::AppState,
        count: usize,
    ) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            let view = tongban_app::applications::apply(
                state,
                &self.citizen,
                &self.item,
                Default::default(),
                None,
            )
            .await
            .map_err(|e| anyhow::anyhow!("applying: {e}"))?;
            ids.push(view.id);
        }
        Ok(ids)
    }

    /// Runs every application through the ten steps with `concurrency` clerks at once: the
    /// steps taken and the seconds they took.
    pub async fn run(
        &self,
        state: &tongban_app::state::AppState,
        ids: Vec<String>,
        concurrency: usize,
    ) -> anyhow::Result<(u64, f64)> {
        let queue = std::sync::Arc::new(std::sync::Mutex::new(ids));
        let started = Instant::now();
        let mut workers = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (state, clerk, queue) = (state.clone(), self.clerk.clone(), queue.clone());
            workers.push(tokio::spawn(async move {
                let mut steps = 0u64;
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(id) = next else {
                        return Ok::<u64, anyhow::Error>(steps);
                    };
                    for (n, action) in WORKFLOW_ACTIONS.iter().enumerate() {
                        let request = tongban_app::applications::ActionRequest {
                            action: (*action).to_owned(),
                            version: n as i64 + 1,
                            reason: None,
                            form: None,
                            uploads: Default::default(),
                        };
                        tongban_app::applications::act(&state, &clerk, &id, request)
                            .await
                            .map_err(|e| anyhow::anyhow!("{action} on {id}: {e}"))?;
                        steps += 1;
                    }
                }
            }));
        }
        let mut steps = 0;
        for worker in workers {
            steps += worker.await??;
        }
        Ok((steps, started.elapsed().as_secs_f64()))
    }

    /// Saves the item (as the market regulator's catalogue administrator) and reads the
    /// demo's citizen and market clerk.
    pub async fn new(
        state: &tongban_app::state::AppState,
        credentials: &tongban_app::demo::DemoCredentials,
    ) -> anyhow::Result<WorkflowBench> {
        use tongban_app::services::item::ServiceDefinition;
        let token_of = |username: &str| {
            credentials
                .accounts
                .iter()
                .find(|a| a.username == username)
                .map(|a| a.api_token.clone())
                .context_free("a demo account")
        };
        let actor = |token: String| async move {
            tongban_app::identity::service::actor_from_token(state, &token)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .context_free("the demo account's token")
        };
        let citizen = actor(token_of("citizen.zhangwei")?).await?;
        let clerk = std::sync::Arc::new(actor(token_of("demo.clerk.market")?).await?);
        // A ten-step item of the market regulator, made from one of the demo's.
        let template = tongban_app::services::item_by_code(state, "339900-SJ-0004")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .context_free("the demo's name declaration item")?;
        let mut steps = vec!["accept".to_owned(), "review".to_owned()];
        steps.extend((1..=6).map(|n| format!("check_{n}")));
        steps.extend(["decide".to_owned(), "deliver".to_owned()]);
        let item = ServiceDefinition {
            code: "339900-SJ-BENCH".into(),
            name: "十步流程测试事项".into(),
            handling_kind: tongban_app::services::item::HandlingKind::Promised,
            promised_limit: tongban_app::services::item::TimeLimit::WorkingDays { days: 5 },
            statutory_limit: tongban_app::services::item::TimeLimit::WorkingDays { days: 20 },
            materials: Vec::new(),
            form: Vec::new(),
            en: None,
            steps,
            ..template.definition
        };
        // Saved by the market regulator's catalogue administrator, through the catalogue's checks.
        let editor = actor(token_of("demo.deptadmin.market")?).await?;
        let save = tongban_app::services::SaveRequest {
            item: item.clone(),
            version: None,
        };
        tongban_app::services::save(state, &editor, save)
            .await
            .map_err(|e| anyhow::anyhow!("the bench item: {e}"))?;
        Ok(WorkflowBench {
            citizen,
            clerk,
            item: item.code,
        })
    }
}

/// EU DCC verifications per second, in process, over the good codes of the DCC test data
/// (`dir`: a dgc-testdata checkout), every signer trusted at once as a door would. Measured
/// twice: the chain a DCC verifier runs (HC1, Base45, zlib, COSE, kid lookup, ES256/PS256,
/// claims, validity, key usage) on one core and on all; and the same with schema validation.
/// `export` writes the codes and their signers for the comparison scripts in `bench/`.
pub fn dcc_verify(
    dir: &std::path::Path,
    schema_dir: &std::path::Path,
    budget: Duration,
    export: Option<&std::path::Path>,
) -> anyhow::Result<Value> {
    use tongban_codes::dcc::{self, TrustList};
    let codes = crate::conformance::dcc::verifiable_codes(dir)?;
    anyhow::ensure!(
        !codes.is_empty(),
        "no verifiable DCC codes under {}",
        dir.display()
    );
    let schemas = crate::conformance::dcc::load_schemas(schema_dir)?;
    let mut trust = TrustList::new();
    for (_, dsc, _) in &codes {
        trust.insert(dsc.clone());
    }
    // Only codes that pass every step end to end are timed, so that each timed call does the
    // whole work rather than stopping early.
    let good: Vec<(&str, i64, &'static str)> = codes
        .iter()
        .filter(|(code, _, now)| dcc::verify(code, &trust, *now, Some(&schemas)).is_ok())
        .map(|(code, dsc, now)| (code.as_str(), *now, dsc.algorithm()))
        .collect();
    anyhow::ensure!(!good.is_empty(), "no DCC code verifies end to end");
    if let Some(path) = export {
        let cases: Vec<Value> = codes
            .iter()
            .filter(|(code, _, _)| good.iter().any(|(g, _, _)| g == code))
            .map(|(code, dsc, now)| {
                json!({"hc1": code, "kid": base64_standard(dsc.kid()), "now": now})
            })
            .collect();
        let certificates: Vec<Value> = codes
            .iter()
            .filter(|(code, _, _)| good.iter().any(|(g, _, _)| g == code))
            .map(|(_, dsc, _)| json!({"kid": base64_standard(dsc.kid()), "der": dsc.der_base64()}))
            .collect();
        std::fs::write(
            path,
            serde_json::to_vec(&json!({"codes": cases, "certificates": certificates}))?,
        )?;
    }
    let one_core = |with_schema: bool| {
        let mut i = 0;
        rate(budget, || {
            let (code, now, _) = good[i % good.len()];
            i += 1;
            let schemas = with_schema.then_some(&schemas);
            let outcome = dcc::verify(code, &trust, now, schemas);
            debug_assert!(outcome.is_ok());
            let _ = std::hint::black_box(outcome);
        })
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let all_cores = |with_schema: bool| -> f64 {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..cores)
                .map(|t| {
                    let (good, trust, schemas) = (&good, &trust, &schemas);
                    scope.spawn(move || {
                        let mut i = t * 7;
                        rate(budget, || {
                            let (code, now, _) = good[i % good.len()];
                            i += 1;
                            let schemas = with_schema.then_some(schemas);
                            let _ = std::hint::black_box(dcc::verify(code, trust, now, schemas));
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
        })
    };
    let es256 = good.iter().filter(|(_, _, a)| *a == "ES256").count();
    Ok(json!({
        "benchmark": "dcc-verify",
        "codes": good.len(),
        "codes_es256": es256,
        "codes_ps256": good.len() - es256,
        "signers_trusted": trust.len(),
        "verifications_per_second_one_core": one_core(false),
        "verifications_per_second_all_cores": all_cores(false),
        "with_schema_one_core": one_core(true),
        "with_schema_all_cores": all_cores(true),
        "machine": machine(),
    }))
}

fn base64_standard(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
