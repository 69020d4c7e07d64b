//! The status policy on the health desk (`/health/policy`): the rules in force in words, each
//! with its colour and its logic, and a form to propose the next version — colours and
//! descriptions as fields, each rule's condition in JSON Logic (the language the rules are
//! kept and checked in). A proposal takes effect when a second officer approves it in the
//! inbox.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::policy::StatusRule;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new().route("/health/policy", get(show).post(propose))
}

/// A rule as the form holds it: text as typed.
#[derive(Debug, Clone, Default)]
struct RuleRow {
    id: String,
    colour: String,
    description_zh: String,
    description_en: String,
    logic: String,
}

#[derive(Template)]
#[template(path = "health_policy.html")]
struct PolicyPage {
    base: PageBase,
    /// The version in force and its hold days, if any policy is.
    version: Option<i64>,
    hold_days: String,
    rules: Vec<RuleRow>,
    /// Why the proposal was refused.
    problem: Option<String>,
}

fn rows(rules: &[StatusRule]) -> Vec<RuleRow> {
    rules
        .iter()
        .map(|r| RuleRow {
            id: r.id.clone(),
            colour: r.colour.clone(),
            description_zh: r.description_zh.clone(),
            description_en: r.description_en.clone(),
            logic: serde_json::to_string_pretty(&r.logic).unwrap_or_default(),
        })
        .collect()
}

async fn show(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    if !super::approvals::is_health_officer(actor) {
        return Err(ctx.error(AppError::Forbidden));
    }
    let policy = super::store::active_policy(state.pool())
        .await
        .map_err(|e| ctx.error(e))?;
    let (version, hold_days, mut rules) = match policy {
        Some(p) => {
            let rules: Vec<StatusRule> = serde_json::from_str(&p.rules)
                .map_err(|e| ctx.error(AppError::Internal(e.into())))?;
            (
                Some(p.version),
                p.positive_hold_days.to_string(),
                rows(&rules),
            )
        }
        None => (
            None,
            super::service::DEFAULT_POSITIVE_HOLD_DAYS.to_string(),
            Vec::new(),
        ),
    };
    rules.push(RuleRow::default());
    Ok(ctx.render(&PolicyPage {
        base: ctx.base("policy.title"),
        version,
        hold_days,
        rules,
        problem: None,
    }))
}

/// Proposes the rules as typed (a rule whose condition is left empty is dropped). A refusal
/// comes back on the page with the rules as typed.
async fn propose(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let text = |name: String| form.get(&name).cloned().unwrap_or_default();
    let count = form
        .keys()
        .filter_map(|key| {
            key.strip_prefix("rule.")?
                .split('.')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .max()
        .map_or(0, |n| n + 1)
        .min(60);
    let typed: Vec<RuleRow> = (0..count)
        .map(|i| RuleRow {
            id: text(format!("rule.{i}.id")).trim().to_owned(),
            colour: text(format!("rule.{i}.colour")),
            description_zh: text(format!("rule.{i}.description_zh")),
            description_en: text(format!("rule.{i}.description_en")),
            logic: text(format!("rule.{i}.logic")),
        })
        .filter(|row| !row.logic.trim().is_empty())
        .collect();
    let hold_days = text("hold_days".into());
    let parsed = (|| {
        let rules = typed
            .iter()
            .map(|row| {
                let logic = serde_json::from_str(&row.logic)
                    .map_err(|e| AppError::invalid("rules", format!("{}: {e}", row.id)))?;
                Ok(StatusRule {
                    id: row.id.clone(),
                    colour: row.colour.clone(),
                    description_zh: row.description_zh.trim().to_owned(),
                    description_en: row.description_en.trim().to_owned(),
                    logic,
                })
            })
            .collect::<Result<Vec<_>, AppError>>()?;
        let days = hold_days
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::invalid("positive_hold_days", "a whole number of days"))?;
        Ok::<_, AppError>((rules, days))
    })();
    let proposed = match parsed {
        Ok((rules, days)) => super::service::propose_policy(&state, actor, rules, Some(days)).await,
        Err(error) => Err(error),
    };
    match proposed {
        Ok(_) => Ok(ctx.redirect("/health?done=policy")),
        Err(AppError::Invalid { field, reason }) => {
            let mut rules = typed;
            rules.push(RuleRow::default());
            let version = super::store::active_policy(state.pool())
                .await
                .map_err(|e| ctx.error(e))?
                .map(|p| p.version);
            let page = PolicyPage {
                base: ctx.base("policy.title"),
                version,
                hold_days,
                rules,
                problem: Some(format!("{} {field}: {reason}", ctx.t.get("policy.refused"))),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, ctx.render(&page)).into_response())
        }
        Err(other) => Err(ctx.error(other)),
    }
}
