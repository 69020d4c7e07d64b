//! Results rolled up village → township → county (汇总): for each choice question how many
//! chose each choice, for each number question its sum and mean, per unit at the level asked
//! and in total.
//!
//! The figures come from tallies kept as submissions are stored ([`tallies_of`]), never from
//! the sealed instances. Counts of persons shown above the unit that collected them respect
//! the deployment's threshold `k` (`statistics_k`), as the operations view does: a count below
//! `k` is hidden, with enough others beside it that it cannot be worked out from the line's
//! total, and the counts shown are rounded ([`crate::suppress`]); a sum or a mean over fewer
//! than `k` answers is hidden. The village level — the units that collected — is shown exactly,
//! and only to the project's own staff, who may read the submissions themselves.

use std::collections::BTreeMap;

use tongban_xform::{Form, Kind};

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::service;
use crate::state::AppState;
use crate::store;
use crate::suppress;

/// The levels a roll-up is shown at, by the digits of their region codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    County,
    Township,
    Village,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "county" => Some(Level::County),
            "township" => Some(Level::Township),
            "village" => Some(Level::Village),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }

    /// The unit at this level that a collecting unit lies in (itself when it is above it).
    fn unit_of(self, code: &str) -> String {
        let digits = match self {
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        };
        code.get(..digits).unwrap_or(code).to_owned()
    }
}

/// A column of a roll-up.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RollColumn {
    /// The question's path.
    pub field: String,
    pub label: String,
    /// For a choice question, the choice counted.
    pub choice: Option<String>,
    pub choice_label: Option<String>,
    /// `count` (of a choice), `sum` or `mean` (of a number question).
    pub measure: String,
}

/// A row: a unit (or the total), its submissions and its cells in the columns' order; `null`
/// is a figure hidden.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RollRow {
    /// The unit's region code; empty for devices without a unit, `total` for the total.
    pub code: String,
    pub name: String,
    pub submissions: Option<i64>,
    pub cells: Vec<Option<f64>>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Rollup {
    pub form: String,
    pub title: String,
    /// `county`, `township` or `village`.
    pub level: String,
    /// The threshold below which counts of persons are hidden.
    pub k: i64,
    /// Whether the figures are exact (the village level, for the project's staff) or hidden
    /// and rounded.
    pub exact: bool,
    pub columns: Vec<RollColumn>,
    pub rows: Vec<RollRow>,
    pub total: RollRow,
}

/// The sums kept for one unit: by (field, value), the count and the total.
type Sums = BTreeMap<(String, String), (i64, f64)>;

/// Who may see a roll-up: the project's staff at every level, the office over the project's
/// region above the village level.
pub async fn rollup(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    xml_form_id: &str,
    level: Level,
) -> AppResult<Rollup> {
    let project = service::project_for(state, actor, project_id).await?;
    if level == Level::Village && !service::runs(actor, &project) {
        return Err(AppError::NotAuthorised(
            "the village level is shown to the project's own staff: above it, small counts are hidden"
                .into(),
        ));
    }
    let row = store::form(state.pool(), project.id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form: Form =
        serde_json::from_str(&row.definition).map_err(|e| AppError::Internal(e.into()))?;
    let exact = level == Level::Village;
    let k = if exact {
        1
    } else {
        state.config.statistics_k.max(1)
    };
    let columns = columns(&form);

    let mut units: BTreeMap<String, Sums> = BTreeMap::new();
    let mut all = Sums::new();
    for (unit, field, value, count, total) in
        store::tallies(state.pool(), project.id, xml_form_id).await?
    {
        let key = (field, value);
        let here = units
            .entry(level.unit_of(&unit))
            .or_default()
            .entry(key.clone())
            .or_insert((0, 0.0));
        here.0 += count;
        here.1 += total;
        let sum = all.entry(key).or_insert((0, 0.0));
        sum.0 += count;
        sum.1 += total;
    }
    let mut submitted: BTreeMap<String, i64> = BTreeMap::new();
    for (unit, n) in store::counts_by_unit(state.pool(), project.id, xml_form_id).await? {
        *submitted
            .entry(level.unit_of(unit.as_deref().unwrap_or_default()))
            .or_default() += n;
        units
            .entry(level.unit_of(unit.as_deref().unwrap_or_default()))
            .or_default();
    }
    let names: BTreeMap<String, String> = store::region_names(state.pool())
        .await?
        .into_iter()
        .collect();

    // The submissions of the units, as a line with its total.
    let codes: Vec<String> = units.keys().cloned().collect();
    let counts: Vec<i64> = codes
        .iter()
        .map(|c| submitted.get(c).copied().unwrap_or(0))
        .collect();
    let line = suppress::line(&counts, k);
    let rows = codes
        .iter()
        .zip(&line.cells)
        .map(|(code, shown)| RollRow {
            code: code.clone(),
            name: names.get(code).cloned().unwrap_or_default(),
            submissions: shown.value(),
            cells: cells(&columns, &units[code], k),
        })
        .collect();
    let total = RollRow {
        code: "total".into(),
        name: String::new(),
        submissions: line.total.value(),
        cells: cells(&columns, &all, k),
    };
    Ok(Rollup {
        form: row.xml_form_id,
        title: row.title,
        level: level.as_str().into(),
        k,
        exact,
        columns,
        rows,
        total,
    })
}

/// The columns of a form's roll-up: a count per choice of each choice question, the sum and
/// the mean of each number question, in the form's order.
fn columns(form: &Form) -> Vec<RollColumn> {
    let mut out = Vec::new();
    for (path, node) in form.nodes() {
        let column = |choice: Option<(&str, &str)>, measure: &str| RollColumn {
            field: path.clone(),
            label: node.label.clone(),
            choice: choice.map(|c| c.0.to_owned()),
            choice_label: choice.map(|c| c.1.to_owned()),
            measure: measure.into(),
        };
        match &node.kind {
            Kind::SelectOne(list) | Kind::SelectMultiple(list) => {
                for choice in form.list(list).map_or(&[][..], |l| l.choices.as_slice()) {
                    out.push(column(Some((&choice.name, &choice.label)), "count"));
                }
            }
            Kind::Integer | Kind::Decimal => {
                out.push(column(None, "sum"));
                out.push(column(None, "mean"));
            }
            _ => {}
        }
    }
    out
}

/// One unit's cells: each choice question's counts published as a line, each number
/// question's sum and mean hidden when fewer than `k` answered.
fn cells(columns: &[RollColumn], sums: &Sums, k: i64) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(columns.len());
    let mut i = 0;
    while i < columns.len() {
        let field = &columns[i].field;
        let group: Vec<&RollColumn> = columns[i..]
            .iter()
            .take_while(|c| &c.field == field)
            .collect();
        if columns[i].measure == "count" {
            let counts: Vec<i64> = group
                .iter()
                .map(|c| {
                    let key = (field.clone(), c.choice.clone().unwrap_or_default());
                    sums.get(&key).map_or(0, |s| s.0)
                })
                .collect();
            let line = suppress::line(&counts, k);
            out.extend(line.cells.iter().map(|s| s.value().map(|v| v as f64)));
        } else {
            let (n, total) = sums
                .get(&(field.clone(), String::new()))
                .copied()
                .unwrap_or((0, 0.0));
            let shown = n >= k || n == 0;
            for column in &group {
                out.push(match (column.measure.as_str(), shown) {
                    (_, false) => None,
                    ("mean", true) if n > 0 => Some(total / n as f64),
                    ("mean", true) => None,
                    _ => Some(total),
                });
            }
        }
        i += group.len();
    }
    out
}

/// A hidden count as the tables show it.
pub fn hidden(k: i64) -> String {
    format!("< {k}")
}

/// A cell as text: whole numbers without decimals, others to two places.
pub fn text(value: Option<f64>, k: i64) -> String {
    match value {
        None => hidden(k),
        Some(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{}", v as i64),
        Some(v) => format!("{v:.2}"),
    }
}

/// The roll-up as rows of text (a header first), for CSV and XLSX; `words` are the headers of
/// the fixed columns and of the measures: (code, unit, submissions, total row, sum, mean,
/// no unit).
pub fn table(rollup: &Rollup, words: [&str; 7]) -> Vec<Vec<String>> {
    let [code, unit, submissions, total, sum, mean, no_unit] = words;
    let mut header = vec![code.to_owned(), unit.to_owned(), submissions.to_owned()];
    for column in &rollup.columns {
        header.push(match (column.measure.as_str(), &column.choice_label) {
            ("count", Some(choice)) => format!("{}: {choice}", column.label),
            ("sum", _) => format!("{} ({sum})", column.label),
            _ => format!("{} ({mean})", column.label),
        });
    }
    let line = |row: &RollRow, name: &str| {
        let mut out = vec![
            if row.code == "total" {
                String::new()
            } else {
                row.code.clone()
            },
            name.to_owned(),
            text(row.submissions.map(|n| n as f64), rollup.k),
        ];
        out.extend(row.cells.iter().map(|c| text(*c, rollup.k)));
        out
    };
    let mut rows = vec![header];
    for row in &rollup.rows {
        let name = if row.code.is_empty() {
            no_unit
        } else {
            row.name.as_str()
        };
        rows.push(line(row, name));
    }
    rows.push(line(&rollup.total, total));
    rows
}

/// CSV for spreadsheets (UTF-8 with a byte-order mark, so that Excel reads Chinese), written by
/// the tables crate's writer; a cell a spreadsheet would run as a formula is written as text.
pub fn csv(rows: &[Vec<String>]) -> String {
    let safe: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| {
                    let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
                        || (cell.starts_with('-') && cell.parse::<f64>().is_err());
                    if formula {
                        format!("'{cell}")
                    } else {
                        cell.clone()
                    }
                })
                .collect()
        })
        .collect();
    let body = tongban_tables::table::csv_rows(safe.iter().map(Vec::as_slice));
    format!("\u{feff}{}", String::from_utf8_lossy(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(cells: &[i64], k: i64) -> Vec<Option<i64>> {
        suppress::line(cells, k)
            .cells
            .iter()
            .map(|s| s.value())
            .collect()
    }

    #[test]
    fn units_roll_up_to_their_level() {
        assert_eq!(Level::County.unit_of("339901001002"), "339901");
        assert_eq!(Level::Township.unit_of("339901001002"), "339901001");
        assert_eq!(Level::Township.unit_of("339901"), "339901");
        assert_eq!(Level::Village.unit_of(""), "");
    }

    #[test]
    fn a_small_count_is_hidden_with_another_beside_it() {
        // 3 below k 10 is hidden; alone it would be the total less the rest, so the next
        // smallest is hidden too.
        let seen = shown(&[3, 12, 40], 10);
        assert_eq!(seen[0], None);
        assert_eq!(seen[1], None);
        assert!(seen[2].is_some());
    }

    #[test]
    fn a_formula_is_never_run_by_a_spreadsheet() {
        let out = csv(&[vec![
            "=1+1".into(),
            "a,b".into(),
            "-2.5".into(),
            "-x".into(),
        ]]);
        assert_eq!(out, "\u{feff}'=1+1,\"a,b\",-2.5,'-x\n");
    }
}
