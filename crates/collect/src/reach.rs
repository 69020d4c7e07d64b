//! Whom a form reaches and when: the grassroots units it is sent to, the unit a device
//! collects for, and the days a form opens and is due. Rules the plan, the service and the
//! pages share; this module depends on none of them.

use time::Date;
use tongban_core::{RegionCode, RegionLevel};

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{self, FormRow, Project};

/// A form's state once the office has approved it.
const APPROVED: &str = "approved";

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

pub(crate) fn day(field: &'static str, text: Option<&str>) -> AppResult<Option<Date>> {
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

pub(crate) fn parse_day(text: Option<&str>) -> Option<Date> {
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
pub(crate) async fn unit_of(
    state: &AppState,
    project: &Project,
    code: &str,
) -> AppResult<RegionCode> {
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
