//! Where and until when a form is collected, and what each collector has to do.
//!
//! A form's designers say which grassroots units (townships, villages and communities) it is
//! sent to, the day collection opens and the day it is due; the office sees that plan with
//! the overlap report. An app user collects for one unit: its to-do list holds the approved,
//! open forms sent to that unit (or to the township above it, or to one of its villages), with
//! the due date and how many it has sent. After the due day a form still takes submissions —
//! a late answer is better than none — and is shown as overdue.

use time::Date;
use tongban_core::{RegionCode, RegionLevel};

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::service::{self, APPROVED, DRAFT, RETURNED};
use crate::state::AppState;
use crate::store::{self, Collector, FormRow, Project};

/// The most units one form is sent to by name (a county has a few hundred villages).
pub const MAX_TARGETS: usize = 1000;

/// A plan as its designers give it.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Township or village codes; empty: every unit of the project's region.
    #[serde(default)]
    pub target: Vec<String>,
    /// `YYYY-MM-DD`; none: from approval.
    #[serde(default)]
    pub opens: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub due: Option<String>,
}

/// The units a form is sent to (none: every unit).
pub fn targets(form: &FormRow) -> Vec<String> {
    parse_targets(form.target_regions.as_deref())
}

/// The units of a stored target list (none: every unit).
pub fn parse_targets(stored: Option<&str>) -> Vec<String> {
    stored
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

fn related(a: &str, b: &str) -> bool {
    match (a.parse::<RegionCode>(), b.parse::<RegionCode>()) {
        (Ok(a), Ok(b)) => a.contains(&b) || b.contains(&a),
        _ => false,
    }
}

/// Whether a form sent to `targets` reaches a collector of `unit`: every form reaches a
/// device with no unit, a form with no target reaches every unit, and a unit is reached by a
/// target at, above or below it.
pub fn reaches(targets: &[String], unit: Option<&str>) -> bool {
    match unit {
        None => true,
        Some(unit) => targets.is_empty() || targets.iter().any(|t| related(t, unit)),
    }
}

fn day(field: &'static str, text: Option<&str>) -> AppResult<Option<Date>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    Date::parse(text, &time::format_description::well_known::Iso8601::DATE)
        .map(Some)
        .map_err(|_| AppError::Invalid {
            field,
            reason: format!("{text:?} is not a day as YYYY-MM-DD"),
        })
}

fn parse_day(text: Option<&str>) -> Option<Date> {
    day("day", text).ok().flatten()
}

/// Whether an approved form is open on `today` (its first day reached).
pub fn is_open(form: &FormRow, today: Date) -> bool {
    form.state == APPROVED && parse_day(form.opens_day.as_deref()).is_none_or(|d| d <= today)
}

/// Whether a form's due day has passed.
pub fn is_overdue(form: &FormRow, today: Date) -> bool {
    parse_day(form.due_day.as_deref()).is_some_and(|d| d < today)
}

/// A grassroots unit of the project's region that the platform knows, else invalid.
async fn unit_of(state: &AppState, project: &Project, code: &str) -> AppResult<RegionCode> {
    let invalid = |reason: String| AppError::Invalid {
        field: "target",
        reason,
    };
    let region: RegionCode = code
        .trim()
        .parse()
        .map_err(|e| invalid(format!("{code:?} is not a region code: {e}")))?;
    if !matches!(region.level(), RegionLevel::Township | RegionLevel::Village) {
        return Err(invalid(format!(
            "{code} is not a township or a village: forms go to grassroots units"
        )));
    }
    let within = project
        .region_code
        .parse::<RegionCode>()
        .is_ok_and(|mine| mine.contains(&region));
    let known = store::grassroots_units(state.pool())
        .await?
        .iter()
        .any(|(c, _)| c == region.as_str());
    if !within || !known {
        return Err(invalid(format!(
            "{code} is not a unit of the project's region"
        )));
    }
    Ok(region)
}

/// The unit an app user collects for, checked as a target is.
pub async fn collector_unit(
    state: &AppState,
    project: &Project,
    code: Option<&str>,
) -> AppResult<Option<String>> {
    match code.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(code) => Ok(Some(
            unit_of(state, project, code).await?.as_str().to_owned(),
        )),
    }
}

/// Sets a form's plan. A draft's or a returned form's plan may change as a whole; a pending
/// form's not (the office is reading it); an approved form's due day may only move later.
pub async fn set_plan(
    state: &AppState,
    actor: &Actor,
    project_id: i64,
    xml_form_id: &str,
    request: &PlanRequest,
) -> AppResult<FormRow> {
    let project = service::project_run_by(state, actor, project_id).await?;
    let form = store::form(state.pool(), project_id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if request.target.len() > MAX_TARGETS {
        return Err(AppError::Invalid {
            field: "target",
            reason: format!("at most {MAX_TARGETS} units"),
        });
    }
    let mut target = Vec::new();
    for code in &request.target {
        let unit = unit_of(state, &project, code).await?;
        if !target.contains(&unit) {
            target.push(unit);
        }
    }
    target.sort();
    let opens = day("opens", request.opens.as_deref())?;
    let due = day("due", request.due.as_deref())?;
    let today = state.today();
    if let Some(due) = due {
        if due < today {
            return Err(AppError::Invalid {
                field: "due",
                reason: format!("the due day {due} has passed"),
            });
        }
        if opens.is_some_and(|opens| opens > due) {
            return Err(AppError::Invalid {
                field: "opens",
                reason: "collection opens after it is due".into(),
            });
        }
    }
    let codes: Vec<&str> = target.iter().map(RegionCode::as_str).collect();
    let target_json = (!codes.is_empty())
        .then(|| serde_json::to_string(&codes))
        .transpose()
        .map_err(|e| AppError::Internal(e.into()))?;
    let (opens_text, due_text) = (opens.map(|d| d.to_string()), due.map(|d| d.to_string()));
    match form.state.as_str() {
        DRAFT | RETURNED => {}
        APPROVED => {
            let earlier = parse_day(form.due_day.as_deref());
            let same_reach = target_json == form.target_regions && opens_text == form.opens_day;
            let later = match (earlier, due) {
                (Some(before), Some(after)) => after >= before,
                (None, None) => true,
                _ => false,
            };
            if !same_reach || !later {
                return Err(AppError::Conflict(
                    "the form is approved: only its due day may move, and only later".into(),
                ));
            }
        }
        other => {
            return Err(AppError::Conflict(format!(
                "the form is {other}; its plan waits for the office's decision"
            )));
        }
    }
    store::set_plan(
        state.pool(),
        project_id,
        xml_form_id,
        target_json.as_deref(),
        opens_text.as_deref(),
        due_text.as_deref(),
    )
    .await?;
    service::log(
        state,
        actor,
        "collect.form_planned",
        serde_json::json!({
            "project": project_id,
            "form": xml_form_id,
            "target": codes,
            "opens": opens_text,
            "due": due_text,
        }),
    )
    .await?;
    store::form(state.pool(), project_id, xml_form_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A form in a collector's to-do list.
pub struct Todo {
    pub form: FormRow,
    /// Sent for this collector's unit so far (by any of its devices).
    pub sent: i64,
    pub overdue: bool,
}

/// The forms an app user has to fill in: approved, open and sent to its unit, the soonest due
/// first (forms without a due day last).
pub async fn todo(state: &AppState, user: &Collector) -> AppResult<Vec<Todo>> {
    let today = state.today();
    let mut out = Vec::new();
    for form in store::forms(state.pool(), user.project_id).await? {
        if !is_open(&form, today) || !reaches(&targets(&form), user.region_code.as_deref()) {
            continue;
        }
        let sent = store::counts_by_unit(state.pool(), user.project_id, &form.xml_form_id)
            .await?
            .into_iter()
            .filter(|(unit, _)| *unit == user.region_code)
            .map(|(_, n)| n)
            .sum();
        let overdue = is_overdue(&form, today);
        out.push(Todo {
            form,
            sent,
            overdue,
        });
    }
    out.sort_by(|a, b| {
        let key = |t: &Todo| (t.form.due_day.is_none(), t.form.due_day.clone());
        key(a).cmp(&key(b))
    });
    Ok(out)
}

/// What one unit has sent for a form.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct UnitProgress {
    pub code: String,
    pub name: String,
    /// Submissions collected for this unit and the units below it.
    pub submissions: i64,
}

/// A form's submissions by target unit (each target counts what its villages sent too); for
/// a form with no target, by every township of the project's region. Submissions from
/// devices without a unit are counted under an empty code.
pub async fn progress(
    state: &AppState,
    project: &Project,
    form: &FormRow,
) -> AppResult<Vec<UnitProgress>> {
    let units = store::grassroots_units(state.pool()).await?;
    let name_of = |code: &str| {
        units
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let mut rows: Vec<String> = targets(form);
    if rows.is_empty() {
        let region = project.region_code.parse::<RegionCode>().ok();
        rows = units
            .iter()
            .filter_map(|(code, _)| code.parse::<RegionCode>().ok())
            .filter(|c| c.level() == RegionLevel::Township)
            .filter(|c| region.as_ref().is_some_and(|r| r.contains(c)))
            .map(|c| c.as_str().to_owned())
            .collect();
    }
    let counts = store::counts_by_unit(state.pool(), project.id, &form.xml_form_id).await?;
    let mut out: Vec<UnitProgress> = rows
        .iter()
        .map(|code| UnitProgress {
            code: code.clone(),
            name: name_of(code),
            submissions: counts
                .iter()
                .filter(|(unit, _)| {
                    unit.as_deref().is_some_and(|u| {
                        code.parse::<RegionCode>()
                            .ok()
                            .zip(u.parse::<RegionCode>().ok())
                            .is_some_and(|(t, u)| t.contains(&u))
                    })
                })
                .map(|(_, n)| n)
                .sum(),
        })
        .collect();
    let without: i64 = counts
        .iter()
        .filter(|(unit, _)| unit.is_none())
        .map(|(_, n)| n)
        .sum();
    if without > 0 {
        out.push(UnitProgress {
            code: String::new(),
            name: String::new(),
            submissions: without,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_reaches_the_units_at_above_and_below_its_targets() {
        let township = vec!["339901001".to_owned()];
        assert!(reaches(&township, Some("339901001")));
        assert!(reaches(&township, Some("339901001002")), "a village of it");
        assert!(!reaches(&township, Some("339901002")), "another township");
        assert!(!reaches(&township, Some("339901002001")));
        let village = vec!["339901001002".to_owned()];
        assert!(
            reaches(&village, Some("339901001")),
            "its township's collector"
        );
        assert!(
            !reaches(&village, Some("339901001003")),
            "a neighbouring village"
        );
        assert!(reaches(&[], Some("339902001")), "no target: every unit");
        assert!(reaches(&township, None), "a device without a unit");
    }
}
