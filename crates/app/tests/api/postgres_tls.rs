//! TLS to PostgreSQL, against the local cluster serving a certificate from an authority the CI
//! script makes (`TONGBAN_TEST_DATABASE_CA`): `verify-full` connects and the session is
//! encrypted; a server whose certificate another authority issued is refused; without TLS
//! the same session is in clear (so the check above can fail).

use tongban_app::db::Db;

async fn encrypted(url: &str) -> Result<bool, String> {
    let db = Db::connect(url, 1).await.map_err(|e| e.to_string())?;
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(db.pool())
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    Ok(ssl)
}

fn with(url: &str, parameters: &str) -> String {
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}{parameters}")
}

#[tokio::test]
async fn postgres_is_reached_over_verified_tls_and_another_authoritys_server_is_refused() {
    let url = match std::env::var("TONGBAN_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => {
            eprintln!("note: TLS to PostgreSQL is tested when TONGBAN_TEST_DATABASE_URL is set");
            return;
        }
    };
    let Ok(ca) = std::env::var("TONGBAN_TEST_DATABASE_CA") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "under CI the PostgreSQL pass names the cluster's authority in TONGBAN_TEST_DATABASE_CA"
        );
        eprintln!("note: TONGBAN_TEST_DATABASE_CA is not set: TLS to PostgreSQL not tested");
        return;
    };

    for mode in ["verify-full", "verify-ca"] {
        assert_eq!(
            encrypted(&with(&url, &format!("sslmode={mode}&sslrootcert={ca}"))).await,
            Ok(true),
            "{mode}"
        );
    }
    assert_eq!(encrypted(&with(&url, "sslmode=require")).await, Ok(true));
    assert_eq!(encrypted(&with(&url, "sslmode=disable")).await, Ok(false));

    // An authority that did not issue the server's certificate: refused before any query.
    let other = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let other = params.self_signed(&other).expect("another authority");
    let path = std::env::temp_dir().join(format!(
        "tongban-other-ca-{}.pem",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, other.pem()).expect("write");
    let refused = encrypted(&with(
        &url,
        &format!("sslmode=verify-full&sslrootcert={}", path.display()),
    ))
    .await;
    let _ = std::fs::remove_file(&path);
    assert!(refused.is_err(), "{refused:?}");
}

/// A server that cannot take a write now — a standby before its promotion, as in a failover —
/// is "unavailable" (503, try again), not an internal error (500).
#[tokio::test]
async fn a_write_refused_by_a_read_only_server_is_unavailable() {
    let url = match std::env::var("TONGBAN_TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => {
            eprintln!("note: read-only refusals are tested when TONGBAN_TEST_DATABASE_URL is set");
            return;
        }
    };
    let db = Db::connect(&url, 1).await.expect("connect");
    let mut tx = db.pool().begin().await.expect("begin");
    sqlx::query("SET TRANSACTION READ ONLY")
        .execute(&mut *tx)
        .await
        .expect("read only");
    let refused = sqlx::query("CREATE TABLE tb_read_only_probe (x BIGINT)")
        .execute(&mut *tx)
        .await
        .expect_err("a read-only transaction refuses a write");
    assert!(tongban_app::db::is_unavailable(&refused), "{refused}");
    assert!(matches!(
        tongban_app::error::AppError::from(refused),
        tongban_app::error::AppError::Unavailable
    ));
    // A query that is wrong stays an internal error.
    drop(tx);
    let wrong = sqlx::query("SELECT no_such_column FROM pg_class")
        .execute(db.pool())
        .await
        .expect_err("no such column");
    assert!(!tongban_app::db::is_unavailable(&wrong));
    db.close().await;
}
