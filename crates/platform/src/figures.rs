//! The operations view's figures (一网统管): how many of each thing happened, per region and
//! hour. A module declares its figures ([`Figure`], through `Module::figures`) and counts an
//! event where it happens with [`count`]: an addition to this node's tally in memory, nothing
//! more on the request's path. Every few seconds the node adds its tally to `ops_counts` (one
//! row per figure, region and hour, summed by the database), so the view reads a few hundred
//! rows however many events lie behind them, and never the tables the events live in.
//!
//! What a node has counted and not yet added is lost if the process dies (at most one
//! [`FLUSH_PERIOD`]); a database that refuses the addition gets it again at the next turn.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::error::AppResult;
use crate::state::AppState;

/// One hour, in milliseconds: the finest period the figures keep.
pub const HOUR_MS: i64 = 3_600_000;

/// How often a node adds its tally to the database.
pub const FLUSH_PERIOD: std::time::Duration = std::time::Duration::from_secs(5);

/// How long hourly figures are kept.
pub const KEEP_DAYS: i64 = 400;

pub use crate::module::{Distribution, Figure, Measured, PartKind, PartName, Rate};

/// How often the modules' levels are measured (on one node at a time).
pub const MEASURE_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

type Cell = (&'static str, String, i64);

/// A figure's counts in one hour, by region.
type ByRegion = HashMap<Box<str>, i64>;

/// The counts by figure and hour, then by region.
type Counts = HashMap<(&'static str, i64), ByRegion>;

/// A figure's counts in one hour, by region and part (a department, a resource).
type ByPart = HashMap<(Box<str>, Box<str>), i64>;

/// This node's counts not yet in the database: by figure and hour, then by region (so that
/// counting an event allocates nothing once its cell exists).
#[derive(Default)]
pub struct Tally {
    counts: Mutex<Counts>,
    /// The counts kept by part as well, beside the region's.
    parts: Mutex<HashMap<(&'static str, i64), ByPart>>,
    /// Counting switched off (`tongban bench ops` measures what counting costs the write paths).
    off: std::sync::atomic::AtomicBool,
}

impl Tally {
    /// Switches counting on or off on this node.
    pub fn set_counting(&self, on: bool) {
        self.off.store(!on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Adds `n` to a figure of a region in the hour of `at` (Unix milliseconds).
    pub fn add(&self, figure: &'static str, region: &str, at: i64, n: i64) {
        if !self.off.load(std::sync::atomic::Ordering::Relaxed) {
            self.put(figure, region, at, n);
        }
    }

    /// Adds one to each of `figures` of a region in the hour of `at`, under one lock (the
    /// pass path counts two or three figures a request).
    pub fn add_each(&self, figures: &[&'static str], region: &str, at: i64) {
        if !self.off.load(std::sync::atomic::Ordering::Relaxed) {
            let hour = at.div_euclid(HOUR_MS) * HOUR_MS;
            let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            for figure in figures {
                Self::put_in(&mut counts, figure, region, hour, 1);
            }
        }
    }

    fn put(&self, figure: &'static str, region: &str, at: i64, n: i64) {
        let hour = at.div_euclid(HOUR_MS) * HOUR_MS;
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        Self::put_in(&mut counts, figure, region, hour, n);
    }

    fn put_in(counts: &mut Counts, figure: &'static str, region: &str, hour: i64, n: i64) {
        let regions = counts.entry((figure, hour)).or_default();
        match regions.get_mut(region) {
            Some(count) => *count += n,
            None => {
                regions.insert(region.into(), n);
            }
        }
    }

    /// Adds `n` to a figure of a part (a department, a resource) of a region in the hour of
    /// `at`. Only the part's count: the region's is counted with [`Tally::add`].
    pub fn add_part(&self, figure: &'static str, region: &str, part: &str, at: i64, n: i64) {
        if self.off.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let hour = at.div_euclid(HOUR_MS) * HOUR_MS;
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        *parts
            .entry((figure, hour))
            .or_default()
            .entry((region.into(), part.into()))
            .or_insert(0) += n;
    }

    fn take_parts(&self) -> HashMap<(&'static str, i64), ByPart> {
        std::mem::take(&mut *self.parts.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn restore_parts(&self, taken: HashMap<(&'static str, i64), ByPart>) {
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        for (key, cells) in taken {
            let now = parts.entry(key).or_default();
            for (cell, n) in cells {
                *now.entry(cell).or_insert(0) += n;
            }
        }
    }

    fn take(&self) -> HashMap<Cell, i64> {
        let taken = std::mem::take(&mut *self.counts.lock().unwrap_or_else(|p| p.into_inner()));
        taken
            .into_iter()
            .flat_map(|((figure, hour), regions)| {
                regions
                    .into_iter()
                    .map(move |(region, n)| ((figure, region.into_string(), hour), n))
            })
            .collect()
    }

    /// Puts back counts that could not be added, to go with the next turn.
    fn restore(&self, taken: HashMap<Cell, i64>) {
        for ((figure, region, hour), n) in taken {
            self.put(figure, &region, hour, n);
        }
    }

    /// How many cells wait (for the metrics and tests).
    pub fn pending(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(HashMap::len)
            .sum()
    }
}

/// Counts one event of `figure` in `region`, now.
pub fn count(state: &AppState, figure: &'static str, region: &str) {
    count_n(state, figure, region, 1);
}

/// Counts one event of each of `figures` in `region`, now, under one lock.
pub fn count_each(state: &AppState, figures: &[&'static str], region: &str) {
    if let Some(tally) = state.try_module::<Tally>() {
        tally.add_each(figures, region, state.now());
    }
}

/// Counts `n` events of `figure` in `region`, now.
pub fn count_n(state: &AppState, figure: &'static str, region: &str, n: i64) {
    if n != 0
        && let Some(tally) = state.try_module::<Tally>()
    {
        tally.add(figure, region, state.now(), n);
    }
}

/// Counts one event of `figure` for a part of `region` — the department that did the work,
/// the resource called — now. The part's count only, kept beside the region's: count the
/// region with [`count`] too. A part is an id the module holds (a department's, a resource's
/// code), never what a caller sent unchecked: each part is a row a day.
pub fn count_part(state: &AppState, figure: &'static str, region: &str, part: &str) {
    if let Some(tally) = state.try_module::<Tally>() {
        tally.add_part(figure, region, part, state.now(), 1);
    }
}

/// Cells one statement adds (four parameters each).
const CELLS_PER_STATEMENT: usize = 64;

/// Adds this node's tally to the database, in one transaction; on an error the counts are
/// kept for the next turn.
pub async fn flush(state: &AppState) -> AppResult<()> {
    let Some(tally) = state.try_module::<Tally>() else {
        return Ok(());
    };
    let taken = tally.take();
    let parts = tally.take_parts();
    if taken.is_empty() && parts.is_empty() {
        return Ok(());
    }
    match add_all(state, &taken, &parts).await {
        Ok(()) => Ok(()),
        Err(error) => {
            tally.restore(taken);
            tally.restore_parts(parts);
            Err(error)
        }
    }
}

async fn add_all(
    state: &AppState,
    cells: &HashMap<Cell, i64>,
    parts: &HashMap<(&'static str, i64), ByPart>,
) -> AppResult<()> {
    // The same counts by the deployment's local day, for weeks and months.
    let zone = state.zone();
    let mut days: HashMap<(&'static str, &str, i64), i64> = HashMap::new();
    for ((figure, region, hour), n) in cells {
        let day = zone.start_of(zone.at(*hour).date());
        *days.entry((figure, region.as_str(), day)).or_insert(0) += n;
    }
    let hourly: Vec<(&str, &str, i64, i64)> = cells
        .iter()
        .map(|((figure, region, hour), n)| (*figure, region.as_str(), *hour, *n))
        .collect();
    let daily: Vec<(&str, &str, i64, i64)> = days
        .iter()
        .map(|((figure, region, day), n)| (*figure, *region, *day, *n))
        .collect();
    // In one order on every node, so that two nodes adding the same cells at once wait for
    // each other rather than deadlock (PostgreSQL locks each row as it is updated).
    let (mut hourly, mut daily) = (hourly, daily);
    hourly.sort_unstable();
    daily.sort_unstable();
    // Parts by the local day only: a part's figures are read over days (a day, a week, a
    // month), and a department's hours would multiply the rows by 24 for no question asked.
    let mut by_part: BTreeMap<(&str, &str, &str, i64), i64> = BTreeMap::new();
    for ((figure, hour), cells) in parts {
        let day = zone.start_of(zone.at(*hour).date());
        for ((region, part), n) in cells {
            *by_part.entry((figure, region, part, day)).or_insert(0) += n;
        }
    }
    let mut tx = state.pool().begin().await?;
    upsert(&mut tx, "ops_counts", "hour", &hourly).await?;
    upsert(&mut tx, "ops_daily", "day", &daily).await?;
    insert_parts(&mut tx, by_part).await?;
    tx.commit().await?;
    Ok(())
}

/// The names of every part the modules keep figures by.
pub async fn part_names(state: &AppState) -> AppResult<Vec<PartName>> {
    let mut names = Vec::new();
    for module in crate::module::modules(state).iter() {
        names.extend(module.part_names(state).await?);
    }
    Ok(names)
}

/// A part's sum of a figure in a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartCount {
    pub figure: String,
    pub region: String,
    pub part: String,
    pub count: i64,
}

/// Sums of some figures by region and part over some regions within `[from, to)` (local
/// days, Unix milliseconds): figures × parts long.
pub async fn part_sums(
    state: &AppState,
    figures: &[&str],
    regions: &[String],
    from: i64,
    to: i64,
) -> AppResult<Vec<PartCount>> {
    if figures.is_empty() || regions.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT figure, region_code, part, CAST(SUM(count) AS BIGINT) FROM ops_parts WHERE {} \
         GROUP BY figure, region_code, part",
        question("day", figures.len(), regions.len())
    );
    let mut query = sqlx::query_as::<_, (String, String, String, i64)>(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(to);
    for figure in figures {
        query = query.bind((*figure).to_owned());
    }
    for region in regions {
        query = query.bind(region.clone());
    }
    Ok(query
        .fetch_all(state.pool())
        .await?
        .into_iter()
        .map(|(figure, region, part, count)| PartCount {
            figure,
            region,
            part,
            count,
        })
        .collect())
}

/// Adds counts to one of the two tables, summing with what is there.
async fn upsert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    table: &str,
    period: &str,
    rows: &[(&str, &str, i64, i64)],
) -> AppResult<()> {
    for chunk in rows.chunks(CELLS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let at = r * 4;
                format!("(${}, ${}, ${}, ${})", at + 1, at + 2, at + 3, at + 4)
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} (figure, region_code, {period}, count) VALUES {} \
             ON CONFLICT (figure, region_code, {period}) DO UPDATE SET count = {table}.count + excluded.count",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (figure, region, at, n) in chunk {
            query = query
                .bind((*figure).to_owned())
                .bind((*region).to_owned())
                .bind(*at)
                .bind(*n);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// How the counts of a question are read: by the hour (a day) or by the day (a week, a month).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grain {
    Hour,
    Day,
}

impl Grain {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Grain::Hour => ("ops_counts", "hour"),
            Grain::Day => ("ops_daily", "day"),
        }
    }
}

/// The `WHERE` of a question, its parameters from `$3` on (`$1`, `$2`: the span).
fn question(column: &str, figures: usize, regions: usize) -> String {
    format!(
        "{column} >= $1 AND {column} < $2 AND figure IN ({}) AND region_code IN ({})",
        marks(3, figures),
        marks(3 + figures, regions)
    )
}

/// `n` statement parameters from `$from` on, comma-separated.
fn marks(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|at| format!("${at}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sums of some figures over some regions within `[from, to)` (Unix milliseconds, whole hours
/// or local days): by figure and `group` — the period's bucket (`hour` or `day`, its start) or
/// the `region_code`. The database adds the rows up; the answer is figures × buckets (or
/// regions) long, however many rows lie behind it.
pub async fn sums(
    state: &AppState,
    grain: Grain,
    by_region: bool,
    figures: &[&str],
    regions: &[String],
    from: i64,
    to: i64,
) -> AppResult<Vec<Counted>> {
    if figures.is_empty() || regions.is_empty() {
        return Ok(Vec::new());
    }
    let (table, column) = grain.table();
    let group = if by_region { "region_code" } else { column };
    let sql = format!(
        "SELECT figure, CAST({group} AS TEXT), CAST(SUM(count) AS BIGINT) FROM {table} WHERE {} GROUP BY figure, {group}",
        question(column, figures.len(), regions.len())
    );
    let mut query = sqlx::query_as::<_, (String, String, i64)>(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(to);
    for figure in figures {
        query = query.bind((*figure).to_owned());
    }
    for region in regions {
        query = query.bind(region.clone());
    }
    let rows = query.fetch_all(state.pool()).await?;
    Ok(rows
        .into_iter()
        .map(|(figure, group, count)| Counted {
            figure,
            region: if by_region {
                group.clone()
            } else {
                String::new()
            },
            hour: if by_region {
                0
            } else {
                group.parse().unwrap_or(0)
            },
            count,
        })
        .collect())
}

/// One sum: a figure's count in a region (`hour` 0), or in a bucket starting at `hour`
/// (`region` empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub figure: String,
    pub region: String,
    pub hour: i64,
    pub count: i64,
}

/// Deletes counts older than [`KEEP_DAYS`].
pub async fn purge(state: &AppState) -> AppResult<()> {
    let before = state.now() - KEEP_DAYS * 24 * HOUR_MS;
    for sql in [
        "DELETE FROM ops_counts WHERE hour < $1",
        "DELETE FROM ops_daily WHERE day < $1",
        "DELETE FROM ops_parts WHERE day < $1",
    ] {
        sqlx::query(sql).bind(before).execute(state.pool()).await?;
    }
    Ok(())
}

/// Every figure the registered modules keep, counts and levels, in the modules' order.
pub fn declared(state: &AppState) -> Vec<Figure> {
    crate::module::modules(state)
        .iter()
        .flat_map(|module| module.figures().iter().chain(module.levels()).copied())
        .collect()
}

/// The region of the rows that mark a bucket in which a level was measured.
const MEASURED_REGION: &str = "*";

/// The buckets within `[from, to)` in which each of `figures` (levels) was measured: (figure,
/// the bucket's start).
pub async fn measured_buckets(
    state: &AppState,
    grain: Grain,
    figures: &[&str],
    from: i64,
    to: i64,
) -> AppResult<Vec<(String, i64)>> {
    if figures.is_empty() {
        return Ok(Vec::new());
    }
    let (table, column) = grain.table();
    let sql = format!(
        "SELECT figure, {column} FROM {table} WHERE {}",
        question(column, figures.len(), 1)
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
    for figure in figures {
        query = query.bind((*figure).to_owned());
    }
    Ok(query
        .bind(MEASURED_REGION.to_owned())
        .fetch_all(state.pool())
        .await?)
}

/// Whether a figure is a level (how many there are, measured) rather than a count of events.
pub fn is_level(state: &AppState, key: &str) -> bool {
    crate::module::modules(state)
        .iter()
        .any(|module| module.levels().iter().any(|f| f.key == key))
}

/// The base that shown counts of persons are rounded to for the disclosure threshold `k`
/// (`statistics_k`): half of `k`, rounded up. Every page that shows such counts rounds them
/// the same way (the operations view, the check-in statistics), so that no page gives the
/// exact number another rounds.
pub fn base(k: i64) -> i64 {
    (k.max(1) + 1) / 2
}

/// A count of persons as it may be shown (one that is not hidden): rounded to the nearest
/// multiple of [`base`], halves up. Zero stays zero, and a count of at least `k` stays at
/// least `k`.
pub fn rounded(v: i64, k: i64) -> i64 {
    let b = base(k);
    (v.max(0) + b / 2) / b * b
}

/// Every distribution the registered modules declare.
pub fn distributions(state: &AppState) -> Vec<Distribution> {
    crate::module::modules(state)
        .iter()
        .flat_map(|module| module.distributions().iter().copied())
        .collect()
}

/// Every rate the registered modules declare.
pub fn rates(state: &AppState) -> Vec<Rate> {
    crate::module::modules(state)
        .iter()
        .flat_map(|module| module.rates().iter().copied())
        .collect()
}

/// Measures every module's levels and stores them as this hour's and this local day's value
/// (replacing the earlier measure of the hour and the day: a level's hour holds its last
/// measure). A region no longer measured drops out of the hour, which the view reads as 0.
pub async fn measure(state: &AppState) -> AppResult<()> {
    let mut keys: Vec<&'static str> = Vec::new();
    let mut values: HashMap<(&'static str, String, Option<String>), i64> = HashMap::new();
    for module in crate::module::modules(state).iter() {
        if module.levels().is_empty() {
            continue;
        }
        keys.extend(module.levels().iter().map(|f| f.key));
        for m in module.measure(state).await? {
            *values.entry((m.figure, m.region, m.part)).or_insert(0) += m.value;
        }
    }
    if keys.is_empty() {
        return Ok(());
    }
    let values: Vec<Measured> = values
        .into_iter()
        .map(|((figure, region, part), value)| Measured {
            figure,
            region,
            part,
            value,
        })
        .collect();
    store_levels(state, &keys, &[(state.now(), values)]).await
}

/// Stores levels measured at the instants given, each as the value of its hour and its local
/// day, replacing what was measured before in those hours and days for the figures `keys` (a
/// figure of `keys` with no value at an instant is 0 there). Where several instants fall in
/// one hour or one day, the latest is that bucket's value. One transaction for them all: the
/// demo seeds five weeks of history through this at once.
pub async fn store_levels(
    state: &AppState,
    keys: &[&'static str],
    measures: &[(i64, Vec<Measured>)],
) -> AppResult<()> {
    if keys.is_empty() || measures.is_empty() {
        return Ok(());
    }
    let zone = state.zone();
    let mut by_hour: BTreeMap<i64, (i64, &[Measured])> = BTreeMap::new();
    let mut by_day: BTreeMap<i64, (i64, &[Measured])> = BTreeMap::new();
    for (at, values) in measures {
        let hour = at.div_euclid(HOUR_MS) * HOUR_MS;
        let day = zone.start_of(zone.at(*at).date());
        for (bucket, kept) in [(hour, &mut by_hour), (day, &mut by_day)] {
            let entry = kept.entry(bucket).or_insert((*at, values));
            if *at >= entry.0 {
                *entry = (*at, values);
            }
        }
    }
    let hourly = level_rows(keys, &by_hour);
    let daily = level_rows(keys, &by_day);
    let mut tx = state.pool().begin().await?;
    // What was measured before in these hours and days goes: the region's values, and the
    // parts' (a department's applications in progress), kept by the day.
    for (table, column, kept) in [
        ("ops_counts", "hour", &by_hour),
        ("ops_daily", "day", &by_day),
        ("ops_parts", "day", &by_day),
    ] {
        let buckets: Vec<i64> = kept.keys().copied().collect();
        for chunk in buckets.chunks(CELLS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM {table} WHERE {column} IN ({}) AND figure IN ({})",
                marks(1, chunk.len()),
                marks(1 + chunk.len(), keys.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for bucket in chunk {
                query = query.bind(*bucket);
            }
            for key in keys {
                query = query.bind((*key).to_owned());
            }
            query.execute(&mut *tx).await?;
        }
    }
    upsert(&mut tx, "ops_counts", "hour", &hourly).await?;
    upsert(&mut tx, "ops_daily", "day", &daily).await?;
    let mut parts: BTreeMap<(&str, &str, &str, i64), i64> = BTreeMap::new();
    for (day, (_, values)) in &by_day {
        for m in values.iter().filter(|m| m.value != 0) {
            if let Some(part) = &m.part {
                *parts
                    .entry((m.figure, m.region.as_str(), part.as_str(), *day))
                    .or_insert(0) += m.value;
            }
        }
    }
    insert_parts(&mut tx, parts).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds counts by part to `ops_parts`, summing with what is there.
async fn insert_parts(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    parts: BTreeMap<(&str, &str, &str, i64), i64>,
) -> AppResult<()> {
    let rows: Vec<_> = parts.into_iter().collect();
    for chunk in rows.chunks(CELLS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| format!("({})", marks(r * 5 + 1, 5)))
            .collect();
        let sql = format!(
            "INSERT INTO ops_parts (figure, region_code, part, day, count) VALUES {} \
             ON CONFLICT (figure, region_code, part, day) DO UPDATE SET count = ops_parts.count + excluded.count",
            values.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((figure, region, part, day), n) in chunk {
            query = query
                .bind((*figure).to_owned())
                .bind((*region).to_owned())
                .bind((*part).to_owned())
                .bind(*day)
                .bind(*n);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The rows of levels kept by bucket, and each level's mark that it was measured in the
/// bucket (a row of the region `*`, which no view asks for): a bucket without it is unknown
/// (before the first measure, the hours to come), not zero.
fn level_rows<'a>(
    keys: &[&'static str],
    kept: &BTreeMap<i64, (i64, &'a [Measured])>,
) -> Vec<(&'a str, &'a str, i64, i64)> {
    let mut rows = Vec::new();
    for (bucket, (_, values)) in kept {
        let start = rows.len();
        rows.extend(
            values
                .iter()
                .filter(|m| m.value != 0 && m.part.is_none())
                .map(|m| (m.figure, m.region.as_str(), *bucket, m.value)),
        );
        rows.extend(keys.iter().map(|key| (*key, MEASURED_REGION, *bucket, 1)));
        rows[start..].sort_unstable();
    }
    rows
}

/// The kernel's part of the figures: each node adds its tally every few seconds, and one node
/// a day deletes what is past keeping.
pub struct FiguresModule;

/// Requests answered, and answered with a server error (5xx), by the deployment's region.
pub const REQUESTS: &str = "platform.requests";
pub const ERRORS: &str = "platform.errors";
/// Entries made durable in the permanent log (the transparency log).
pub const LOG_APPENDS: &str = "platform.log_appends";

/// The pass path's requests (the codes shown and checked at gates), by the deployment's
/// region: offered to the node, shed at once (503 with `Retry-After`) and answered within
/// 100 ms.
pub const PASS_OFFERED: &str = "pass.offered";
pub const PASS_SHED: &str = "pass.shed";
pub const PASS_FAST: &str = "pass.fast";

/// The pass path's answer times (of the requests admitted), in bands: each band counts the
/// answers slower than the band before and within its bound.
pub const PASS_LATENCY: Distribution = Distribution {
    key: "pass.latency",
    group: "pass",
    zh: "亮码验码应答时间",
    en: "Pass-path answer time",
    unit: "ms",
    bands: &[
        ("pass.latency_1ms", Some(1)),
        ("pass.latency_2ms", Some(2)),
        ("pass.latency_5ms", Some(5)),
        ("pass.latency_10ms", Some(10)),
        ("pass.latency_25ms", Some(25)),
        ("pass.latency_50ms", Some(50)),
        ("pass.latency_100ms", Some(100)),
        ("pass.latency_250ms", Some(250)),
        ("pass.latency_1000ms", Some(1000)),
        ("pass.latency_slower", None),
    ],
};

/// The band of [`PASS_LATENCY`] an answer time falls in: its figure key.
pub fn pass_latency_band(elapsed: std::time::Duration) -> &'static str {
    let micros = i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX);
    PASS_LATENCY
        .bands
        .iter()
        .find(|(_, bound)| bound.is_none_or(|ms| micros <= ms * 1000))
        .map_or("pass.latency_slower", |(key, _)| key)
}

const fn latency_band(key: &'static str, zh: &'static str, en: &'static str) -> Figure {
    Figure {
        key,
        group: "pass",
        zh,
        en,
        about_persons: false,
        by: None,
    }
}

/// The platform's rates.
pub const RATES: &[Rate] = &[
    Rate {
        key: "platform.error_rate",
        group: "platform",
        zh: "服务端错误率",
        en: "Server error rate",
        of: ERRORS,
        per: REQUESTS,
    },
    Rate {
        key: "pass.fast_rate",
        group: "pass",
        zh: "亮码验码100毫秒内应答率",
        en: "Pass requests answered within 100 ms",
        of: PASS_FAST,
        per: PASS_OFFERED,
    },
    Rate {
        key: "pass.shed_rate",
        group: "pass",
        zh: "亮码验码过载拒绝率",
        en: "Pass requests shed under load",
        of: PASS_SHED,
        per: PASS_OFFERED,
    },
];

/// The platform's own figures.
pub const FIGURES: &[Figure] = &[
    Figure {
        key: PASS_OFFERED,
        group: "pass",
        zh: "亮码验码请求",
        en: "Pass-path requests",
        about_persons: false,
        by: None,
    },
    Figure {
        key: PASS_SHED,
        group: "pass",
        zh: "过载拒绝（503）",
        en: "Shed under load (503)",
        about_persons: false,
        by: None,
    },
    Figure {
        key: PASS_FAST,
        group: "pass",
        zh: "100毫秒内应答",
        en: "Answered within 100 ms",
        about_persons: false,
        by: None,
    },
    latency_band("pass.latency_1ms", "应答≤1毫秒", "Answered in ≤ 1 ms"),
    latency_band("pass.latency_2ms", "应答1–2毫秒", "Answered in 1–2 ms"),
    latency_band("pass.latency_5ms", "应答2–5毫秒", "Answered in 2–5 ms"),
    latency_band("pass.latency_10ms", "应答5–10毫秒", "Answered in 5–10 ms"),
    latency_band("pass.latency_25ms", "应答10–25毫秒", "Answered in 10–25 ms"),
    latency_band("pass.latency_50ms", "应答25–50毫秒", "Answered in 25–50 ms"),
    latency_band(
        "pass.latency_100ms",
        "应答50–100毫秒",
        "Answered in 50–100 ms",
    ),
    latency_band(
        "pass.latency_250ms",
        "应答100–250毫秒",
        "Answered in 100–250 ms",
    ),
    latency_band(
        "pass.latency_1000ms",
        "应答250毫秒–1秒",
        "Answered in 250 ms–1 s",
    ),
    latency_band("pass.latency_slower", "应答超过1秒", "Answered in over 1 s"),
    Figure {
        key: REQUESTS,
        group: "platform",
        zh: "接口请求",
        en: "API requests",
        about_persons: false,
        by: None,
    },
    Figure {
        key: ERRORS,
        group: "platform",
        zh: "服务端错误（5xx）",
        en: "Server errors (5xx)",
        about_persons: false,
        by: None,
    },
    Figure {
        key: LOG_APPENDS,
        group: "platform",
        zh: "日志存证条目",
        en: "Entries appended to the permanent log",
        about_persons: false,
        by: None,
    },
];

/// The database's size in bytes (a level, measured each minute).
pub const DB_BYTES: &str = "platform.db_bytes";

/// The nodes serving (each renews its presence with every flush of its tally).
pub const NODES: &str = "platform.nodes";

/// How long a node's presence lasts without a renewal.
const PRESENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// The platform's levels.
pub const LEVELS: &[Figure] = &[
    Figure {
        key: NODES,
        group: "platform",
        zh: "在线节点",
        en: "Nodes serving",
        about_persons: false,
        by: None,
    },
    Figure {
        key: DB_BYTES,
        group: "platform",
        zh: "数据库大小（字节）",
        en: "Database size (bytes)",
        about_persons: false,
        by: None,
    },
];

/// Marks this node present for [`PRESENCE`]: a lease of its own (`node/<id>`), which a node
/// that stops gives up with its others and a node that dies loses when it expires.
async fn present(state: &AppState) -> AppResult<()> {
    crate::lease::take(state, &format!("node/{}", state.node), PRESENCE).await?;
    Ok(())
}

/// The database's size, in the deployment's region.
async fn measure_platform(state: &AppState) -> AppResult<Vec<Measured>> {
    let sql = match state.db.engine() {
        crate::db::Engine::Sqlite => {
            "SELECT CAST(page_count * page_size AS BIGINT) FROM pragma_page_count(), pragma_page_size()"
        }
        crate::db::Engine::Postgres => {
            "SELECT CAST(pg_database_size(current_database()) AS BIGINT)"
        }
    };
    let bytes: i64 = sqlx::query_scalar(sql).fetch_one(state.pool()).await?;
    let nodes = crate::lease::held_under(state, "node/").await?;
    let region = state.config.region_code.clone();
    Ok(vec![
        Measured {
            figure: DB_BYTES,
            region: region.clone(),
            part: None,
            value: bytes,
        },
        Measured {
            figure: NODES,
            region,
            part: None,
            value: nodes,
        },
    ])
}

impl crate::module::Module for FiguresModule {
    fn levels(&self) -> &'static [Figure] {
        LEVELS
    }

    /// The departments, which the figures of applications are kept by.
    fn part_names<'a>(&'a self, state: &'a AppState) -> crate::module::PartNaming<'a> {
        Box::pin(async move {
            Ok(crate::admin::directory::departments(state)
                .await?
                .into_iter()
                .map(|d| PartName {
                    kind: PartKind::Department,
                    id: d.id,
                    zh: d.name,
                    en: d.name_en,
                })
                .collect())
        })
    }

    fn measure<'a>(&'a self, state: &'a AppState) -> crate::module::Measuring<'a> {
        Box::pin(measure_platform(state))
    }

    fn rates(&self) -> &'static [Rate] {
        RATES
    }

    fn distributions(&self) -> &'static [Distribution] {
        &[PASS_LATENCY]
    }

    fn name(&self) -> &'static str {
        "figures"
    }

    fn init(
        &self,
        _context: &crate::module::InitContext<'_>,
        extensions: &mut crate::extensions::Extensions,
    ) {
        extensions.insert(Tally::default());
    }

    fn figures(&self) -> &'static [Figure] {
        FIGURES
    }

    fn jobs(&self, state: &AppState) -> Vec<crate::module::Job> {
        let flushing = state.clone();
        let purging = state.clone();
        let measuring = state.clone();
        vec![
            crate::module::Job::once_every(
                state.clone(),
                "measure the modules' levels",
                MEASURE_PERIOD,
                move || {
                    let state = measuring.clone();
                    async move { measure(&state).await }
                },
            ),
            crate::module::Job::every("add this node's figures", FLUSH_PERIOD, move || {
                let state = flushing.clone();
                async move {
                    flush(&state).await?;
                    present(&state).await
                }
            }),
            crate::module::Job::once_every(
                state.clone(),
                "delete figures past keeping",
                std::time::Duration::from_secs(24 * 3600),
                move || {
                    let state = purging.clone();
                    async move { purge(&state).await }
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_time_falls_in_one_declared_band() {
        use std::time::Duration;
        let band = |micros: u64| pass_latency_band(Duration::from_micros(micros));
        assert_eq!(band(0), "pass.latency_1ms");
        assert_eq!(band(1_000), "pass.latency_1ms");
        assert_eq!(band(1_001), "pass.latency_2ms");
        assert_eq!(band(4_200), "pass.latency_5ms");
        assert_eq!(band(100_000), "pass.latency_100ms");
        assert_eq!(band(1_000_001), "pass.latency_slower");
        assert_eq!(band(u64::MAX), "pass.latency_slower");
        for (key, _) in PASS_LATENCY.bands {
            assert!(
                FIGURES.iter().any(|f| f.key == *key && !f.about_persons),
                "{key} is a declared figure"
            );
        }
        let bounds: Vec<i64> = PASS_LATENCY.bands.iter().filter_map(|(_, b)| *b).collect();
        assert!(bounds.windows(2).all(|w| w[0] < w[1]), "bands rise");
        assert_eq!(PASS_LATENCY.bands.last().map(|(_, b)| *b), Some(None));
    }

    #[test]
    fn a_tally_sums_by_figure_region_and_hour_and_takes_back_what_was_not_stored() {
        let tally = Tally::default();
        tally.add("a", "339900", HOUR_MS * 5 + 10, 1);
        tally.add("a", "339900", HOUR_MS * 5 + 3_599_999, 2);
        tally.add("a", "339900", HOUR_MS * 6, 1);
        tally.add("a", "339901", HOUR_MS * 5, 1);
        tally.add("b", "339900", HOUR_MS * 5, 4);
        let taken = tally.take();
        assert_eq!(taken.len(), 4);
        assert_eq!(taken[&("a", "339900".to_owned(), HOUR_MS * 5)], 3);
        assert_eq!(tally.pending(), 0);
        tally.add("a", "339900", HOUR_MS * 5, 1);
        tally.restore(taken);
        assert_eq!(tally.take()[&("a", "339900".to_owned(), HOUR_MS * 5)], 4);
    }

    #[test]
    fn an_instant_before_1970_falls_in_its_own_hour() {
        let tally = Tally::default();
        tally.add("a", "x", -1, 1);
        assert!(tally.take().contains_key(&("a", "x".to_owned(), -HOUR_MS)));
    }
}
