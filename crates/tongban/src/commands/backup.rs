//! `tongban backup` and `tongban restore`: an online copy of the embedded database and bringing
//! it back. PostgreSQL is copied with its own tools (`pg_dump`, base backups), as
//! docs/deployment.md describes.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use tongban_app::{Config, Db};

/// The SQLite file a configuration serves from; an error for PostgreSQL.
fn sqlite_file(config: &Config) -> anyhow::Result<PathBuf> {
    let url = config.database_url();
    let Some(rest) = url.strip_prefix("sqlite://") else {
        anyhow::bail!(
            "the database is PostgreSQL: copy it with pg_dump or a base backup (docs/deployment.md)"
        );
    };
    let path = rest.split('?').next().unwrap_or(rest);
    anyhow::ensure!(!path.is_empty(), "no SQLite file in {url}");
    Ok(PathBuf::from(path))
}

/// An SQL string literal.
fn quoted(path: &Path) -> anyhow::Result<String> {
    let text = path.to_str().context("the path is not UTF-8")?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

/// Checks that a file is an intact tongban database; the count of its migrations.
async fn check_copy(file: &Path) -> anyhow::Result<i64> {
    use sqlx::Connection as _;
    // Read-only and as it is: nothing is written into the copy, not even a journal mode.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(file)
        .read_only(true);
    let mut db = sqlx::SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", file.display()))?;
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut db)
        .await
        .with_context(|| format!("{} is not an SQLite database", file.display()))?;
    let migrations: Result<i64, _> = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut db)
        .await;
    let _ = db.close().await;
    anyhow::ensure!(
        integrity == ["ok"],
        "{} is damaged: {}",
        file.display(),
        integrity.join("; ")
    );
    match migrations {
        Ok(n) if n > 0 => Ok(n),
        _ => anyhow::bail!("{} is not a tongban database", file.display()),
    }
}

/// `VACUUM INTO`: a consistent copy as of one moment, taken while the node serves (readers
/// and writers go on; the copy is one read transaction).
pub(crate) async fn backup(config: Config, out: &Path) -> anyhow::Result<()> {
    let source = sqlite_file(&config)?;
    anyhow::ensure!(source.exists(), "no database at {}", source.display());
    anyhow::ensure!(!out.exists(), "{} exists: choose a new file", out.display());
    let started = Instant::now();
    let db = Db::connect(&config.database_url(), 1).await?;
    let copied = sqlx::query(sqlx::AssertSqlSafe(format!("VACUUM INTO {}", quoted(out)?)))
        .execute(db.pool())
        .await;
    db.close().await;
    copied.with_context(|| format!("copying into {}", out.display()))?;
    let migrations = check_copy(out).await?;
    println!(
        "{}",
        serde_json::json!({
            "backup": out.display().to_string(),
            "bytes": std::fs::metadata(out)?.len(),
            "migrations": migrations,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}

/// Brings a copy back as this node's database. The node must be stopped. The copy is checked
/// before anything is touched; a database already there is kept as `<file>.replaced` (with its
/// write-ahead log) when `replace` is given, else the restore is refused.
pub(crate) async fn restore(config: Config, from: &Path, replace: bool) -> anyhow::Result<()> {
    let target = sqlite_file(&config)?;
    check_copy(from).await?;
    let with_suffix = |path: &Path, suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    if target.exists() {
        anyhow::ensure!(
            replace,
            "{} exists: stop the node and pass --replace to put the copy in its place",
            target.display()
        );
        let kept = with_suffix(&target, ".replaced");
        for suffix in ["", "-wal", "-shm"] {
            let file = with_suffix(&target, suffix);
            if file.exists() {
                std::fs::rename(&file, with_suffix(&kept, suffix))
                    .with_context(|| format!("moving {} aside", file.display()))?;
            }
        }
    }
    if let Some(folder) = target.parent() {
        std::fs::create_dir_all(folder)?;
    }
    // Copied beside, made durable, then renamed: a crash leaves the old state or the new.
    let partial = with_suffix(&target, ".restoring");
    std::fs::copy(from, &partial).with_context(|| format!("copying {}", from.display()))?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, &target)?;
    if let Some(folder) = target.parent() {
        std::fs::File::open(folder)?.sync_all()?;
    }
    println!(
        "{}",
        serde_json::json!({"restored": target.display().to_string(), "from": from.display().to_string()})
    );
    Ok(())
}
