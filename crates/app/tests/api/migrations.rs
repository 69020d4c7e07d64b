//! Migrations kept by each crate beside its code, run as one history.

use std::collections::BTreeSet;

use sqlx::migrate::Migrator;
use tongban_app::Db;
use tongban_app::db::Engine;
use tongban_app::migrations::{KERNEL, Migrations};

use crate::helpers::fresh_database;

fn every_set() -> Vec<&'static Migrations> {
    let mut sets = vec![&KERNEL];
    sets.extend(tongban_app::module::migrations(&tongban_app::modules()));
    sets
}

async fn fresh_db() -> (Db, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tongban-mig-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = fresh_database(&dir).await;
    (Db::connect(&url, 2).await.expect("connect"), dir)
}

async fn history(db: &Db) -> Vec<i64> {
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
        .fetch_all(db.pool())
        .await
        .expect("history")
}

#[test]
fn every_version_belongs_to_one_crate_and_both_dialects_list_it() {
    let sets = every_set();
    assert_eq!(
        sets.iter().map(|set| set.owner).collect::<Vec<_>>(),
        [
            "platform",
            "citypass",
            "trust",
            "certificates",
            "services",
            "exchange",
            "crossregion",
            "opendata",
            "collect",
            "ops",
            "office"
        ],
        "the kernel first, then each module crate once, in the module list's order"
    );
    let mut seen = BTreeSet::new();
    for set in &sets {
        assert_eq!(
            set.names(Engine::Sqlite),
            set.names(Engine::Postgres),
            "{}",
            set.owner
        );
        for version in set.versions() {
            assert!(
                seen.insert(version),
                "version {version} of {} is taken",
                set.owner
            );
        }
    }
    assert_eq!(seen.len(), 71);
}

#[tokio::test]
async fn a_fresh_database_gets_every_crates_tables_once() {
    let (db, dir) = fresh_db().await;
    assert!(!tongban_app::is_migrated(&db).await.expect("checked"));
    tongban_app::migrate(&db).await.expect("migrated");
    assert!(tongban_app::is_migrated(&db).await.expect("checked"));
    let all: Vec<i64> = every_set().iter().flat_map(|set| set.versions()).collect();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(history(&db).await, expected);
    // Again: nothing to do, nothing changes.
    tongban_app::migrate(&db).await.expect("migrated again");
    assert_eq!(history(&db).await, expected);
    // A table of each module crate is there.
    for table in [
        "accounts",
        "venues",
        "trusted_regions",
        "certificates",
        "applications",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(db.pool())
            .await
            .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
    db.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_database_migrated_as_one_history_before_the_split_is_recognised() {
    let (db, dir) = fresh_db().await;
    // What one migrator of every file in version order left behind, as deployments did.
    let engine = db.engine();
    let all = every_set()
        .iter()
        .flat_map(|set| match engine {
            Engine::Sqlite => set.sqlite.iter(),
            Engine::Postgres => set.postgres.iter(),
        })
        .cloned()
        .collect();
    Migrator::with_migrations(all)
        .run(db.pool())
        .await
        .expect("the old single history");
    let before = history(&db).await;
    assert!(tongban_app::is_migrated(&db).await.expect("checked"));
    tongban_app::migrate(&db)
        .await
        .expect("the split sets accept it");
    assert_eq!(history(&db).await, before);
    db.close().await;
    let _ = std::fs::remove_dir_all(dir);
}
