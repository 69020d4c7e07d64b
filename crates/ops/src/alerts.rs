//! Alerts of the operations view: a viewer sets a threshold on a figure of a region, per hour
//! or per day (`ops_alert_rules`); a job on one node at a time compares each rule with the
//! current hour's or day's count every minute and raises an alert once for the period in which
//! the figure reaches it. Open alerts are on the workbench of every viewer whose scope reaches
//! the region, with a link to the chart, until one of them acknowledges it.
//!
//! A threshold on a figure of persons starts at the view's `k`: an alert at 3 red codes in a
//! district would say what the view hides. And a count of persons is compared and raised
//! rounded, as the view shows it (`suppress::rounded`); a rate of persons is worked out from
//! the rounded counts.

use serde::{Deserialize, Serialize};
use tongban_core::RegionCode;
use tongban_platform::figures::{self, Grain, HOUR_MS};

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;
use crate::store;
use crate::suppress;
use crate::view::may_view;

/// A rule as it is asked for.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    /// The region's code (the viewer's scope must reach it).
    pub region: String,
    /// A figure's or a rate's key (`GET /api/v1/ops/figures`).
    pub figure: String,
    /// `hour` or `day` (the deployment's local day).
    pub per: String,
    /// Raised when the period's count reaches this (at least k for a figure of persons); for
    /// a level, its value; for a rate, a percentage (1–100), raised only where both of the
    /// rate's counts are at least k.
    pub threshold: i64,
}

/// A rule as it is stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rule {
    pub id: String,
    pub region: String,
    pub figure: String,
    pub per: String,
    pub threshold: i64,
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
}

/// An alert: a rule's figure reached its threshold in one period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: String,
    pub rule: Rule,
    /// The figure's name, in Chinese.
    pub figure_name: String,
    /// The period's start, RFC 3339.
    pub period_start: String,
    /// The count when the alert was raised.
    pub value: i64,
    /// RFC 3339.
    pub raised_at: String,
    /// Where the chart is: the region's view of the day.
    pub link: String,
}

fn rule_of(row: store::RuleRow) -> Rule {
    let (id, region, figure, per, threshold, created_by, created_at) = row;
    Rule {
        id,
        region,
        figure,
        per,
        threshold,
        created_by,
        created_at: crate::time_fmt::rfc3339(created_at),
    }
}

async fn all_rules(state: &AppState) -> AppResult<Vec<Rule>> {
    Ok(store::rules(state.pool())
        .await?
        .into_iter()
        .map(rule_of)
        .collect())
}

fn reaches(actor: &Actor, region: &str) -> bool {
    region
        .parse::<RegionCode>()
        .is_ok_and(|code| may_view(actor, &code))
}

/// Sets a rule (a viewer of the region).
pub async fn add_rule(state: &AppState, actor: &Actor, new: NewRule) -> AppResult<Rule> {
    if crate::view::home_region(actor).is_none() {
        return Err(AppError::Forbidden);
    }
    let code: RegionCode = new
        .region
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("region", "a region code of six to twelve digits"))?;
    if crate::admin::directory::region(state, code.as_str())
        .await?
        .is_none()
    {
        return Err(AppError::invalid("region", "no such region"));
    }
    if !may_view(actor, &code) {
        return Err(AppError::Forbidden);
    }
    let key = new.figure.trim();
    let rate = figures::rates(state).into_iter().find(|r| r.key == key);
    let figure = figures::declared(state)
        .into_iter()
        .find(|f| f.key == key || rate.is_some_and(|r| r.per == f.key))
        .ok_or_else(|| AppError::invalid("figure", "no such figure or rate"))?;
    let per = match new.per.trim() {
        "hour" => "hour",
        "day" => "day",
        _ => return Err(AppError::invalid("per", "hour or day")),
    };
    let k = state.config.statistics_k.max(1);
    if new.threshold < 1 || new.threshold > 1_000_000_000_000 {
        return Err(AppError::invalid("threshold", "from 1 up"));
    }
    if rate.is_some() && new.threshold > 100 {
        return Err(AppError::invalid(
            "threshold",
            "a rate's threshold is a percentage, from 1 to 100",
        ));
    }
    if rate.is_none() && figure.about_persons && new.threshold < k {
        return Err(AppError::invalid(
            "threshold",
            format!(
                "a threshold on a count of persons starts at {k}, below which counts are not shown"
            ),
        ));
    }
    let row: store::RuleRow = (
        crate::random::new_id(),
        code.as_str().to_owned(),
        rate.map_or(figure.key, |r| r.key).to_owned(),
        per.to_owned(),
        new.threshold,
        actor.id().to_owned(),
        state.now(),
    );
    store::insert_rule(state.pool(), &row).await?;
    Ok(rule_of(row))
}

/// The rules of the regions the actor views.
pub async fn rules(state: &AppState, actor: &Actor) -> AppResult<Vec<Rule>> {
    if crate::view::home_region(actor).is_none() {
        return Err(AppError::Forbidden);
    }
    Ok(all_rules(state)
        .await?
        .into_iter()
        .filter(|r| reaches(actor, &r.region))
        .collect())
}

/// The start of the period a rule counts over, at `now`.
fn period_start(state: &AppState, per: &str, now: i64) -> (i64, i64, Grain) {
    if per == "day" {
        let zone = state.zone();
        let (from, to) = zone.day_span(zone.at(now).date());
        (from, to, Grain::Day)
    } else {
        let from = now.div_euclid(HOUR_MS) * HOUR_MS;
        (from, from + HOUR_MS, Grain::Hour)
    }
}

/// Compares every rule with its current period and raises the alerts due (each once).
/// Returns how many were raised.
pub async fn check(state: &AppState) -> AppResult<usize> {
    let rules = all_rules(state).await?;
    if rules.is_empty() {
        return Ok(0);
    }
    let regions = crate::admin::directory::regions(state).await?;
    let rates = figures::rates(state);
    let declared = figures::declared(state);
    let k = state.config.statistics_k.max(1);
    let now = state.now();
    let mut raised = 0;
    for rule in rules {
        let Ok(code) = rule.region.parse::<RegionCode>() else {
            continue;
        };
        let within = crate::view::within_of(&regions, &code);
        let (from, to, grain) = period_start(state, &rule.per, now);
        let value = match rates.iter().find(|r| r.key == rule.figure) {
            Some(rate) => {
                let sums =
                    figures::sums(state, grain, false, &[rate.of, rate.per], &within, from, to)
                        .await?;
                let sum = |key: &str| -> i64 {
                    sums.iter()
                        .filter(|s| s.figure == key)
                        .map(|s| s.count)
                        .sum()
                };
                let (of, per) = (sum(rate.of), sum(rate.per));
                // A rate of persons alerts only where the view would show it: both counts
                // at least k (a rate over 3 applications says what the view hides).
                let persons = declared
                    .iter()
                    .any(|f| (f.key == rate.of || f.key == rate.per) && f.about_persons);
                if per == 0 || (persons && (of < k || per < k)) {
                    continue;
                }
                // Worked out from the counts as the view shows them, rounded.
                if persons {
                    suppress::rounded(of, k) * 100 / suppress::rounded(per, k)
                } else {
                    of * 100 / per
                }
            }
            // A count's sum over the period; a level's last measure in it (its one row) —
            // of persons, rounded as the view shows it, so the alert says what the view would.
            None => {
                let persons = declared
                    .iter()
                    .any(|f| f.key == rule.figure && f.about_persons);
                let value = figures::sums(
                    state,
                    grain,
                    false,
                    &[rule.figure.as_str()],
                    &within,
                    from,
                    to,
                )
                .await?
                .iter()
                .map(|s| s.count)
                .sum();
                match persons {
                    // Below k the view hides it: nothing to raise.
                    true if value < k => continue,
                    true => suppress::rounded(value, k),
                    false => value,
                }
            }
        };
        if value < rule.threshold {
            continue;
        }
        if store::raise(state.pool(), &rule.id, from, value, now).await? {
            raised += 1;
        }
    }
    Ok(raised)
}

/// How many open alerts a viewer is shown at most, newest first.
const OPEN_ALERTS_SHOWN: i64 = 200;

/// The open alerts of the regions the actor views, newest first.
pub async fn open_alerts(state: &AppState, actor: &Actor) -> AppResult<Vec<Alert>> {
    if crate::view::home_region(actor).is_none() {
        return Ok(Vec::new());
    }
    // The rules of the regions the actor reaches first, then their newest open alerts: a
    // district's officer sees the district's alerts however many other districts raised.
    let rules: Vec<Rule> = all_rules(state)
        .await?
        .into_iter()
        .filter(|rule| reaches(actor, &rule.region))
        .collect();
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    let rows = store::open_alerts(state.pool(), &ids, OPEN_ALERTS_SHOWN).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let declared = figures::declared(state);
    let rates = figures::rates(state);
    let zone = state.zone();
    Ok(rows
        .into_iter()
        .filter_map(|(id, rule_id, period_start, value, raised_at)| {
            let rule = rules.iter().find(|r| r.id == rule_id)?.clone();
            let figure_name = declared
                .iter()
                .find(|f| f.key == rule.figure)
                .map(|f| f.zh.to_owned())
                .or_else(|| {
                    rates
                        .iter()
                        .find(|r| r.key == rule.figure)
                        .map(|r| format!("{} (%)", r.zh))
                })
                .unwrap_or_else(|| rule.figure.clone());
            let day = tongban_core::zone::ymd(zone.at(period_start).date());
            Some(Alert {
                id,
                link: format!("/ops?region={}&period=day&date={day}", rule.region),
                figure_name,
                rule,
                period_start: crate::time_fmt::rfc3339(period_start),
                value,
                raised_at: crate::time_fmt::rfc3339(raised_at),
            })
        })
        .collect())
}

/// A viewer of the alert's region acknowledges it; it leaves every viewer's workbench.
pub async fn acknowledge(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let Some(region) = store::alert_region(state.pool(), id).await? else {
        return Err(AppError::NotFound);
    };
    if !reaches(actor, &region) {
        return Err(AppError::NotFound);
    }
    if !store::acknowledge(state.pool(), id, actor.id(), state.now()).await? {
        return Err(AppError::Conflict(
            "the alert was acknowledged already".into(),
        ));
    }
    Ok(())
}
