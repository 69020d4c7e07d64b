//! Where and until when a form is collected, and what each collector has to do.
//!
//! A form's designers say which grassroots units (townships, villages and communities) it is
//! sent to, the day collection opens and the day it is due; the office sees that plan with
//! the overlap report. An app user collects for one unit: its to-do list holds the approved,
//! open forms sent to that unit (or to the township above it, or to one of its villages), with
//! the due date and how many it has sent. After the due day a form still takes submissions —
//! a late answer is better than none — and is shown as overdue.

use tongban_core::{RegionCode, RegionLevel};

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
pub use crate::reach::{collector_unit, is_open, is_overdue, parse_targets, reaches, targets};
use crate::reach::{day, parse_day, unit_of};
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

/// The forms to fill in on the devices the actor carries (待填报), as their part of the to-do
/// list: each until its due day, and after it, overdue and urgent, while the unit has sent
/// nothing.
pub async fn fill_todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<tongban_platform::module::TodoPart> {
    let mut part = tongban_platform::module::TodoPart::default();
    let zone = state.zone();
    for device in store::held_by(state.pool(), actor.id()).await? {
        for todo in todo(state, &device).await? {
            if todo.overdue && todo.sent > 0 {
                continue;
            }
            part.total += 1;
            if part.items.len() >= limit {
                continue;
            }
            let due = parse_day(todo.form.due_day.as_deref())
                .and_then(|day| day.next_day())
                .map(|next| zone.start_of(next) - 1);
            part.items.push(tongban_platform::module::TodoItem {
                module: "collect",
                kind: t.get("collect.todo_fill").to_owned(),
                title: format!("{} · {}", todo.form.title, device.display_name),
                link: format!("/collect/device/held/{}", device.id),
                due,
                urgency: u8::from(todo.overdue),
                at: todo.form.decided_at.unwrap_or(todo.form.created_at),
            });
        }
    }
    Ok(part)
}
