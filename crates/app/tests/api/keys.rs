//! Field encryption at rest, the master key, and the signed trust list.

use serde_json::Value;
use tongban_app::keys::service::{self, verify_trust_list};
use tongban_app::keys::store;
use tongban_crypto::PublicKey;

use crate::helpers::spawn_app;

/// Whether `needle` occurs anywhere in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn a_raw_dump_of_the_database_holds_no_citizen_id_number_name_or_phone() {
    let app = spawn_app().await;
    let citizens: Vec<_> = app
        .demo
        .accounts
        .iter()
        .filter(|a| a.role == "citizen")
        .collect();
    assert_eq!(citizens.len(), 4);
    // Read each person once so the access path has run too.
    for citizen in &citizens {
        assert_eq!(
            app.get_as(&citizen.api_token, "/api/v1/me/access-log")
                .await
                .status(),
            200
        );
    }
    let mut dump = Vec::new();
    if app.database_url.starts_with("sqlite") {
        sqlx::query("PRAGMA wal_checkpoint(FULL)")
            .execute(app.state.pool())
            .await
            .expect("checkpoint");
        for file in ["tongban.db", "tongban.db-wal"] {
            dump.extend(std::fs::read(app.dir.join(file)).unwrap_or_default());
        }
        assert!(dump.len() > 10_000, "the database file was read");
    } else {
        // On PostgreSQL, every row of every table as text.
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(app.state.pool())
        .await
        .expect("tables");
        for table in tables {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT t::text FROM {table} t"
            )))
            .fetch_all(app.state.pool())
            .await
            .expect("rows");
            for row in rows {
                dump.extend(row.into_bytes());
            }
        }
    }
    for citizen in citizens {
        let id = citizen.resident_id.as_deref().expect("id");
        let name = citizen.name.as_deref().expect("name");
        assert!(
            !contains(&dump, id.as_bytes()),
            "the ID number of {} is stored in clear",
            citizen.username
        );
        assert!(
            !contains(&dump, name.as_bytes()),
            "the name of {} is stored in clear",
            citizen.username
        );
        let phone: Value = app
            .get_as(
                &citizen.api_token,
                &format!(
                    "/api/v1/persons/{}?purpose=self_service",
                    app.person_id_of(&citizen.username).await
                ),
            )
            .await
            .json()
            .await
            .expect("json");
        let phone = phone["phone"].as_str().expect("phone");
        assert!(
            !contains(&dump, phone.as_bytes()),
            "the phone of {} is stored in clear",
            citizen.username
        );
    }
}

#[tokio::test]
async fn a_sealed_field_copied_to_another_person_does_not_open() {
    let app = spawn_app().await;
    let zhang = app.person_id_of("citizen.zhangwei").await;
    let li = app.person_id_of("citizen.lina").await;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT name_sealed FROM persons WHERE id = $1")
        .bind(zhang)
        .fetch_one(app.state.pool())
        .await
        .expect("row");
    sqlx::query("UPDATE persons SET name_sealed = $1 WHERE id = $2")
        .bind(sealed)
        .bind(li.clone())
        .execute(app.state.pool())
        .await
        .expect("update");
    let response = app
        .get_as(
            &app.account("citizen.lina").api_token,
            &format!("/api/v1/persons/{li}?purpose=self_service"),
        )
        .await;
    assert_eq!(
        response.status(),
        500,
        "a moved ciphertext is an integrity failure, never another person's name"
    );
    assert!(!response.text().await.expect("text").contains("张伟"));
}

#[tokio::test]
async fn the_data_does_not_open_under_another_master_key() {
    let app = spawn_app().await;
    let mut config = (*app.state.config).clone();
    config.master_key = Some(tongban_app::config::SecretText(
        tongban_app::keys::master::generate_text().to_string(),
    ));
    let error = tongban_app::open_state(config, app.clock.clone())
        .await
        .err()
        .expect("a wrong master key is refused");
    assert!(format!("{error:#}").contains("master key"), "{error:#}");
}

async fn root_key(app: &crate::helpers::TestApp) -> PublicKey {
    let region = app.state.config.region_code.clone();
    let row = store::signing_keys_of(app.state.pool(), &region, service::ROOT)
        .await
        .expect("keys")
        .into_iter()
        .next()
        .expect("a root key");
    PublicKey::new(row.algorithm.parse().expect("alg"), row.public_key).expect("key")
}

#[tokio::test]
async fn the_trust_list_is_signed_by_the_root_key_and_lists_rotated_keys_until_their_end() {
    let app = spawn_app().await;
    let text = app
        .client
        .get(app.url("/api/v1/trust-list"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let root = root_key(&app).await;
    let payload = verify_trust_list(&text, &root).expect("verifies");
    assert_eq!(payload.format, "tongban-trust-list/1");
    let purposes: Vec<&str> = payload.keys.iter().map(|k| k.purpose.as_str()).collect();
    assert!(
        purposes.contains(&"root") && purposes.contains(&"ledger"),
        "{purposes:?}"
    );
    assert!(
        payload.keys.iter().all(|k| k.public_key().is_some()),
        "every listed key parses"
    );

    let tampered = text.replacen("ledger", "ledgex", 1);
    assert!(verify_trust_list(&tampered, &root).is_err());
    let stranger = tongban_crypto::SoftwareSigner::generate(root.algorithm, "x");
    assert!(verify_trust_list(&text, &tongban_crypto::Signer::public_key(&stranger)).is_err());

    let region = app.state.config.region_code.clone();
    let old = store::signing_keys_of(app.state.pool(), &region, service::LEDGER)
        .await
        .expect("keys")[0]
        .kid
        .clone();
    let new = service::rotate(&app.state, &region, service::LEDGER, 30)
        .await
        .expect("rotates");
    let text = app
        .client
        .get(app.url("/api/v1/trust-list"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let payload = verify_trust_list(&text, &root).expect("verifies");
    let old_entry = payload
        .keys
        .iter()
        .find(|k| k.kid == old)
        .expect("the old key still verifies");
    assert!(old_entry.not_after.is_some());
    assert!(
        payload
            .keys
            .iter()
            .any(|k| k.kid == new && k.not_after.is_none())
    );
    let signer = service::signer(&app.state, &region, service::LEDGER)
        .await
        .expect("signer");
    assert_eq!(
        tongban_crypto::Signer::kid(&signer),
        new,
        "the new key signs"
    );
    app.clock.advance(time::Duration::days(31));
    let text = app
        .client
        .get(app.url("/api/v1/trust-list"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(
        !verify_trust_list(&text, &root)
            .expect("verifies")
            .keys
            .iter()
            .any(|k| k.kid == old),
        "ended keys leave the list"
    );
}

/// Every door reads the verification keys from its node's cache; a key made on another node
/// reaches it with the cache feed, and on the node that made it at once.
#[tokio::test]
async fn a_rotated_key_verifies_on_every_node_once_the_feed_is_read() {
    let app = spawn_app().await;
    // A second node's state, not serving: it reads the feed only when told here.
    let other = tongban_app::open_state((*app.state.config).clone(), app.clock.clone())
        .await
        .expect("second node");
    let region = app.state.config.region_code.clone();
    let kids = |keys: Vec<service::TrustedKey>| -> Vec<String> {
        keys.into_iter().map(|k| k.kid).collect()
    };
    // Both nodes hold the keys in their caches.
    let before = kids(service::verification_keys(&other).await.expect("keys"));
    assert_eq!(
        kids(service::verification_keys(&app.state).await.expect("keys")),
        before
    );
    let new = service::rotate(&app.state, &region, service::PASS, 1)
        .await
        .expect("rotates");
    assert!(
        kids(service::verification_keys(&app.state).await.expect("keys")).contains(&new),
        "the node that rotated sees its new key at once"
    );
    assert!(
        !kids(service::verification_keys(&other).await.expect("keys")).contains(&new),
        "the other node still answers from its cache"
    );
    tongban_app::cache::read_feed(&other).await.expect("feed");
    assert!(
        kids(service::verification_keys(&other).await.expect("keys")).contains(&new),
        "after reading the feed, the other node verifies the new key"
    );
}
