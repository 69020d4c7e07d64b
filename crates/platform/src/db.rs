//! The database: one pool that is SQLite (embedded, the default) or PostgreSQL (scale-out),
//! chosen by URL. Queries are written once with `$n` placeholders and run on both engines.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn from_url(url: &str) -> Result<Engine, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Engine::Postgres)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("the database URL must start with sqlite: or postgres:")]
    UnsupportedUrl,
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A pool of connections to one database, and which engine it is.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
}

impl Db {
    /// Opens a pool. SQLite gets WAL, foreign keys and a busy timeout on every connection.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbError> {
        install_default_drivers();
        let engine = Engine::from_url(url)?;
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        // FULL: a committed transaction (a log entry above all) survives power loss.
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        // 64 MiB of page cache per connection (the default is 2 MiB): the
                        // check-in tables take writes all over their indexes.
                        conn.execute("PRAGMA cache_size = -65536").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db { pool, engine })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Applies every pending migration of this engine's dialect.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// True when every migration of this engine has been applied.
    pub async fn is_migrated(&self) -> Result<bool, DbError> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        let latest = migrator.iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await
                .ok()
                .flatten();
        Ok(applied == Some(latest))
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Connections open and idle, for the metrics page.
    pub fn pool_state(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// True for errors that a retry of the whole transaction may cure: serialization failures and
/// deadlocks on PostgreSQL-compatible engines, a busy or locked database on SQLite.
pub fn is_retryable(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = error else {
        return false;
    };
    matches!(
        db.code().as_deref(),
        Some("40001" | "40P01" | "5" | "6" | "517" | "261")
    )
}

/// The names of the migration files of each dialect, to keep the two lists in step.
pub fn migration_names() -> (Vec<String>, Vec<String>) {
    let names = |m: &Migrator| {
        m.iter()
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect()
    };
    (names(&SQLITE_MIGRATIONS), names(&POSTGRES_MIGRATIONS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_have_the_same_migrations() {
        let (sqlite, postgres) = migration_names();
        assert!(!sqlite.is_empty());
        assert_eq!(
            sqlite, postgres,
            "migrations/sqlite and migrations/postgres must list the same migrations"
        );
    }

    /// A migration's statements with what may differ between the dialects taken out:
    /// comments, spacing (also inside parentheses) and case, `BYTEA` for `BLOB`, SQLite's
    /// `WITHOUT ROWID`.
    fn dialect_free_statements(sql: &str) -> Vec<String> {
        let text: String = sql
            .lines()
            .map(|line| line.split("--").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(" ");
        let text = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase()
            .replace("BYTEA", "BLOB")
            .replace(" WITHOUT ROWID", "")
            .replace("( ", "(")
            .replace(" )", ")")
            .replace(" ,", ",");
        text.split(';')
            .map(str::trim)
            .filter(|statement| !statement.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn both_dialects_make_the_same_tables_columns_and_indexes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let (names, _) = migration_names();
        let mut compared = 0;
        for entry in std::fs::read_dir(root.join("sqlite")).expect("migrations") {
            let path = entry.expect("entry").path();
            let file = path.file_name().expect("name").to_owned();
            let sqlite = std::fs::read_to_string(&path).expect("sqlite");
            let postgres =
                std::fs::read_to_string(root.join("postgres").join(&file)).expect("postgres");
            let (sqlite, postgres) = (
                dialect_free_statements(&sqlite),
                dialect_free_statements(&postgres),
            );
            assert_eq!(sqlite.len(), postgres.len(), "{file:?}: statement count");
            for (a, b) in sqlite.iter().zip(&postgres) {
                assert_eq!(a, b, "{file:?}");
            }
            compared += sqlite.len();
        }
        assert!(compared > names.len(), "every migration was compared");
    }

    #[test]
    fn a_changed_column_is_caught() {
        let sqlite = "CREATE TABLE t (id TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID; -- x";
        let postgres = "create table t (\n  id TEXT PRIMARY KEY,\n  data BYTEA NOT NULL\n);";
        assert_eq!(
            dialect_free_statements(sqlite),
            dialect_free_statements(postgres)
        );
        let other = "CREATE TABLE t (id TEXT PRIMARY KEY, data BYTEA);";
        assert_ne!(
            dialect_free_statements(sqlite),
            dialect_free_statements(other)
        );
    }

    #[test]
    fn unknown_url_schemes_are_refused() {
        assert!(matches!(
            Engine::from_url("mysql://x"),
            Err(DbError::UnsupportedUrl)
        ));
        assert_eq!(
            Engine::from_url("postgresql://x").ok(),
            Some(Engine::Postgres)
        );
    }
}
