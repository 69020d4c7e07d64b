//! Migrations: the kernel's and each module's, in both dialects, kept in one history table.
//!
//! Every crate that owns tables keeps their migrations beside its code (`migrations/sqlite`
//! and `migrations/postgres`, the same files in each dialect) and offers them as one
//! [`Migrations`] value; a module returns it from `Module::migrations`. The kernel's run first,
//! then each module's in the order of the module list, so a module's tables may refer to the
//! kernel's and to those of the modules before it. Versions are unique across the platform (a
//! test of `tongban-app` checks it): a new migration takes the next free number.

use std::collections::HashSet;
use std::path::Path;

use sqlx::migrate::Migrator;

use crate::db::{Db, DbError, Engine};

/// One crate's migrations, in both dialects.
pub struct Migrations {
    /// The crate (or module) that owns the tables, for messages.
    pub owner: &'static str,
    pub sqlite: &'static Migrator,
    pub postgres: &'static Migrator,
}

/// The kernel's own tables: regions, departments, accounts and their credentials, personal
/// data and its access log, keys, the transparency log, the cache feed.
pub static KERNEL: Migrations = Migrations {
    owner: "platform",
    sqlite: &sqlx::migrate!("migrations/sqlite"),
    postgres: &sqlx::migrate!("migrations/postgres"),
};

impl Migrations {
    fn of(&self, engine: Engine) -> &'static Migrator {
        match engine {
            Engine::Sqlite => self.sqlite,
            Engine::Postgres => self.postgres,
        }
    }

    /// `version_description` of each migration of one dialect, in order.
    pub fn names(&self, engine: Engine) -> Vec<String> {
        self.of(engine)
            .iter()
            .map(|m| format!("{}_{}", m.version, m.description))
            .collect()
    }

    /// The versions of this set (both dialects have the same).
    pub fn versions(&self) -> Vec<i64> {
        self.sqlite.iter().map(|m| m.version).collect()
    }
}

/// Applies every pending migration of the kernel and then of `modules`, in order.
pub async fn run(db: &Db, modules: &[&'static Migrations]) -> Result<(), DbError> {
    for set in std::iter::once(&KERNEL).chain(modules.iter().copied()) {
        // The history table is shared: the others' versions are not this set's to miss.
        let mut migrator = Migrator::with_migrations(set.of(db.engine()).iter().cloned().collect());
        migrator.set_ignore_missing(true);
        migrator.run(db.pool()).await?;
    }
    Ok(())
}

/// True when every migration of the kernel and of `modules` has been applied.
pub async fn applied(db: &Db, modules: &[&'static Migrations]) -> Result<bool, DbError> {
    let done: Vec<i64> =
        match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(db.pool())
            .await
        {
            Ok(versions) => versions,
            // No history table yet: nothing has been applied.
            Err(_) => return Ok(false),
        };
    let done: HashSet<i64> = done.into_iter().collect();
    Ok(std::iter::once(&KERNEL)
        .chain(modules.iter().copied())
        .flat_map(Migrations::versions)
        .all(|version| done.contains(&version)))
}

/// Checks a crate's `migrations` folder: both dialects list the same files, and each file
/// makes the same tables, columns and indexes in both (statement by statement, see
/// [`dialect_free_statements`]). Returns how many statements were compared.
pub fn check_dialects(root: &Path) -> Result<usize, String> {
    let list = |dialect: &str| -> Result<Vec<String>, String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(dialect))
            .map_err(|e| format!("{}/{dialect}: {e}", root.display()))?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        names.sort();
        Ok(names)
    };
    let (sqlite, postgres) = (list("sqlite")?, list("postgres")?);
    if sqlite != postgres {
        return Err(format!(
            "migrations/sqlite and migrations/postgres must list the same files: {sqlite:?} ≠ {postgres:?}"
        ));
    }
    let mut compared = 0;
    for file in &sqlite {
        let read = |dialect: &str| {
            std::fs::read_to_string(root.join(dialect).join(file))
                .map(|sql| dialect_free_statements(&sql))
                .map_err(|e| format!("{dialect}/{file}: {e}"))
        };
        let (a, b) = (read("sqlite")?, read("postgres")?);
        if a.len() != b.len() {
            return Err(format!(
                "{file}: {} statements against {}",
                a.len(),
                b.len()
            ));
        }
        if let Some((a, b)) = a.iter().zip(&b).find(|(a, b)| a != b) {
            return Err(format!("{file}: the dialects differ:\n  {a}\n  {b}"));
        }
        compared += a.len();
    }
    if compared == 0 {
        return Err(format!("{}: no statements", root.display()));
    }
    Ok(compared)
}

/// A migration's statements with what may differ between the dialects taken out: comments,
/// spacing (also inside parentheses) and case, `BYTEA` for `BLOB`, SQLite's `WITHOUT ROWID`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_dialects_make_the_same_tables_columns_and_indexes() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let compared = check_dialects(&root).expect("the dialects agree");
        assert!(compared > KERNEL.versions().len());
        assert_eq!(KERNEL.names(Engine::Sqlite), KERNEL.names(Engine::Postgres));
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
    fn a_folder_whose_dialects_differ_is_refused() {
        let root = std::env::temp_dir().join(format!("tongban-migrations-{}", std::process::id()));
        for (dialect, sql) in [
            ("sqlite", "CREATE TABLE t (id TEXT PRIMARY KEY);"),
            (
                "postgres",
                "CREATE TABLE t (id TEXT PRIMARY KEY, extra TEXT);",
            ),
        ] {
            std::fs::create_dir_all(root.join(dialect)).expect("folder");
            std::fs::write(root.join(dialect).join("0001_t.sql"), sql).expect("file");
        }
        let checked = check_dialects(&root);
        let _ = std::fs::remove_dir_all(&root);
        assert!(checked.expect_err("refused").contains("0001_t.sql"));
    }
}
