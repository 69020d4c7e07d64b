//! The database: one pool that is SQLite (embedded, the default) or PostgreSQL (scale-out),
//! chosen by URL. Queries are written once with `$n` placeholders and run on both engines.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// What a store function runs its query on: the pool, or a connection or transaction that a
/// use-case holds (`&mut *tx`), so that one transaction can span several stores' writes.
pub trait Exec<'e>: sqlx::Executor<'e, Database = sqlx::Any> {}

impl<'e, T: sqlx::Executor<'e, Database = sqlx::Any>> Exec<'e> for T {}

/// A transaction on either engine.
pub type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

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
            // A pooled PostgreSQL connection may have died with its server or a proxy: test it
            // before use. An SQLite connection is a file handle in this process; the test
            // would only cost a round trip through its worker thread on every query.
            .test_before_acquire(engine != Engine::Sqlite)
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
                        // Process-wide, not per connection: past 128 MiB of SQLite's memory
                        // the page caches reuse their least recently used pages instead of
                        // growing, so a node's memory does not grow with its database.
                        conn.execute("PRAGMA soft_heap_limit = 134217728").await?;
                    }
                    Ok(())
                })
            })
            // A statement that fails with a full disk or an I/O error can leave SQLite inside
            // a transaction the driver believes ended; such a connection would hold the write
            // lock for ever (every other writer busy, even after space is freed), and the next
            // request's statements would run inside that transaction and be acknowledged
            // without ever being committed. A connection coming back to the pool is asked to
            // roll back: SQLite refuses when no transaction is open (the usual case), and a
            // connection that had one is rolled back and closed.
            .after_release(move |conn, _meta| {
                Box::pin(async move {
                    if engine != Engine::Sqlite {
                        return Ok(true);
                    }
                    match conn.execute("ROLLBACK").await {
                        Ok(_) => {
                            tracing::warn!(
                                "a database connection came back inside a transaction: rolled back and closed"
                            );
                            Ok(false)
                        }
                        Err(_) => Ok(true),
                    }
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

/// True for errors that say the database cannot serve now rather than that the request is
/// wrong: the connection or its TLS failed, the server is shutting down, starting or in
/// recovery, a standby refuses a write (a failover under way), or it has no connection or
/// resource left. Such a request is answered 503, to be tried again.
/// `$first, $first+1, …` for `count` parameters: the list of an `IN (…)`.
pub fn in_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's SQLSTATE codes have five characters (SQLite's are numbers of fewer).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            if code.len() == 5 {
                is_unavailable_state(&code)
            } else {
                is_unavailable_sqlite(&code)
            }
        }),
        _ => false,
    }
}

/// A PostgreSQL SQLSTATE that says the server cannot serve now: 08 connection exception;
/// 57P01–57P03 shut down by the administrator or a crash, or not accepting connections yet;
/// 25006 a read-only (standby) server; 53 out of connections, memory or disk.
fn is_unavailable_state(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(code, "57P01" | "57P02" | "57P03" | "25006")
}

/// An SQLite result code that says the disk cannot take the write now: SQLITE_FULL (13), or
/// SQLITE_IOERR (10) with any of its extended codes (a write or fsync refused). The
/// transaction is rolled back; once space is freed, the next one succeeds.
fn is_unavailable_sqlite(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|code| matches!(code & 0xff, 10 | 13))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_connection_is_unavailable_and_a_bad_query_is_not() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_unavailable(&io));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }

    /// A connection left inside a transaction (as a statement failing on a full disk can
    /// leave one) does not hold the write lock once it is back in the pool.
    #[tokio::test]
    async fn a_connection_returned_inside_a_transaction_is_rolled_back_and_closed() {
        let dir = std::env::temp_dir().join(format!("tongban-db-release-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let db = Db::connect(&url, 2).await.expect("connect");
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(db.pool())
            .await
            .expect("create");
        {
            let mut conn = db.pool().acquire().await.expect("acquire");
            // A write transaction the driver does not know of.
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut *conn)
                .await
                .expect("begin");
            sqlx::query("INSERT INTO t VALUES (1)")
                .execute(&mut *conn)
                .await
                .expect("insert");
        }
        // Another connection writes at once, without waiting out the busy timeout, and the
        // row of the abandoned transaction is not there.
        let started = std::time::Instant::now();
        let mut other = db.pool().acquire().await.expect("acquire");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *other)
            .await
            .expect("the write lock was let go");
        sqlx::query("ROLLBACK")
            .execute(&mut *other)
            .await
            .expect("rollback");
        drop(other);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(db.pool())
            .await
            .expect("count");
        assert_eq!(rows, 0);
        db.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_or_failing_disk_is_unavailable_and_a_broken_constraint_is_not() {
        // SQLITE_FULL, SQLITE_IOERR_WRITE (778), SQLITE_IOERR_FSYNC (1034).
        for code in ["13", "10", "778", "1034"] {
            assert!(is_unavailable_sqlite(code), "{code}");
        }
        // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_BUSY (5), SQLITE_CORRUPT (11).
        for code in ["2067", "5", "11", "x"] {
            assert!(!is_unavailable_sqlite(code), "{code}");
        }
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
