//! 好差评: after delivery the applicant rates the service on the five national grades, per
//! indicator if they like, with a comment. A poor rating opens a rectification task for the
//! department, due within 15 working days and closed only with a reply to the applicant.
//! Department statistics: satisfaction, on-time rate, processing times.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::store;
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;

/// The five national grades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 非常满意.
    VerySatisfied,
    /// 满意.
    Satisfied,
    /// 基本满意.
    Fair,
    /// 不满意.
    Dissatisfied,
    /// 非常不满意.
    VeryDissatisfied,
}

impl Grade {
    pub fn points(self) -> i64 {
        match self {
            Grade::VerySatisfied => 5,
            Grade::Satisfied => 4,
            Grade::Fair => 3,
            Grade::Dissatisfied => 2,
            Grade::VeryDissatisfied => 1,
        }
    }

    /// 差评: the two lowest grades.
    pub fn is_poor(self) -> bool {
        self.points() <= 2
    }
}

/// The indicators a rating may grade one by one.
pub const INDICATORS: [&str; 4] = ["handling", "attitude", "efficiency", "environment"];

/// Working days a department has to answer a poor rating.
const RECTIFY_DAYS: u32 = 15;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rating {
    pub grade: Grade,
    /// Indicator (handling, attitude, efficiency, environment) → grade.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub indicators: BTreeMap<String, Grade>,
    pub comment: Option<String>,
}

fn comment_context(id: &str) -> String {
    format!("evaluations.comment/{id}")
}

fn reply_context(id: &str) -> String {
    format!("rectifications.reply/{id}")
}

/// The applicant rates a delivered application, once.
pub async fn rate(state: &AppState, actor: &Actor, id: &str, rating: &Rating) -> AppResult<()> {
    let app = store::by_id(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if app.applicant_account != actor.id() {
        return Err(AppError::NotFound);
    }
    if app.state != tongban_workflow::table::DELIVERED {
        return Err(AppError::Conflict(
            "only a delivered application can be rated".into(),
        ));
    }
    if store::evaluation_of(state.pool(), id).await?.is_some() {
        return Err(AppError::Conflict("this application has been rated".into()));
    }
    for key in rating.indicators.keys() {
        if !INDICATORS.contains(&key.as_str()) {
            return Err(AppError::invalid(
                "indicators",
                format!("{key} is not an indicator: {}", INDICATORS.join(", ")),
            ));
        }
    }
    let comment = rating
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 500) {
        return Err(AppError::invalid("comment", "at most 500 characters"));
    }
    let indicators: BTreeMap<&str, i64> = rating
        .indicators
        .iter()
        .map(|(k, g)| (k.as_str(), g.points()))
        .collect();
    let department = crate::admin::directory::department(state, &app.department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let due = if rating.grade.is_poor() {
        let calendar = super::calendar_of(state, department.region_code.as_str()).await?;
        Some(tongban_core::zone::ymd(
            calendar.add_working_days(state.today(), RECTIFY_DAYS),
        ))
    } else {
        None
    };
    let entry = serde_json::json!({
        "kind": "service_evaluated",
        "at": crate::time_fmt::rfc3339(state.now()),
        "application": app.id,
        "department": app.department_id,
        "item": app.item_code,
        "grade": rating.grade.points(),
        "rectification": due.is_some(),
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    store::insert_evaluation(
        state,
        &app,
        rating.grade.points(),
        &serde_json::to_string(&indicators).unwrap_or_default(),
        comment.map(|c| {
            state
                .vault
                .seal_field(&comment_context(&app.id), c.as_bytes())
        }),
        due,
    )
    .await?;
    super::count(state, super::RATED, &department);
    if rating.grade.points() >= Grade::Satisfied.points() {
        super::count(state, super::RATED_GOOD, &department);
    }
    if rating.grade.is_poor() {
        super::count(state, super::RATED_POOR, &department);
    }
    Ok(())
}

/// An application's rating and the department's reply, as its applicant or clerks see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvaluationView {
    pub grade: i64,
    #[schema(value_type = Object)]
    pub indicators: BTreeMap<String, i64>,
    pub comment: Option<String>,
    /// open or closed, when the rating opened a rectification.
    pub rectification: Option<String>,
    pub reply: Option<String>,
}

pub async fn evaluation(
    state: &AppState,
    application_id: &str,
) -> AppResult<Option<EvaluationView>> {
    let Some((grade, indicators, comment)) =
        store::evaluation_of(state.pool(), application_id).await?
    else {
        return Ok(None);
    };
    let comment = comment
        .map(|c| state.vault.open_field(&comment_context(application_id), &c))
        .transpose()?
        .map(|c| String::from_utf8_lossy(&c).into_owned());
    let rectification = store::rectification_of_application(state.pool(), application_id).await?;
    let reply = match rectification
        .as_ref()
        .and_then(|r| r.reply_sealed.as_ref().map(|s| (r, s)))
    {
        Some((r, sealed)) => Some(
            String::from_utf8_lossy(&state.vault.open_field(&reply_context(&r.id), sealed)?)
                .into_owned(),
        ),
        None => None,
    };
    Ok(Some(EvaluationView {
        grade,
        indicators: serde_json::from_str(&indicators).unwrap_or_default(),
        comment,
        rectification: rectification.map(|r| r.state),
        reply,
    }))
}

/// A rectification task of the clerk's department.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RectificationView {
    pub id: String,
    pub application: String,
    pub item_name: String,
    pub grade: i64,
    pub comment: Option<String>,
    pub state: String,
    pub due_day: String,
    pub overdue: bool,
}

fn clerk_department(actor: &Actor) -> AppResult<String> {
    actor
        .clerk_department()
        .map(str::to_owned)
        .ok_or(AppError::Forbidden)
}

/// The clerk's department's rectifications, open ones first.
pub async fn rectifications(state: &AppState, actor: &Actor) -> AppResult<Vec<RectificationView>> {
    let department = clerk_department(actor)?;
    let today = tongban_core::zone::ymd(state.today());
    let mut views = Vec::new();
    for r in store::rectifications_of(state.pool(), &department).await? {
        let Some(app) = store::by_id(state.pool(), &r.application_id).await? else {
            continue;
        };
        let item_name = crate::services::item_by_code(state, &app.item_code)
            .await?
            .map(|i| i.definition.name)
            .unwrap_or_default();
        let rated = evaluation(state, &r.application_id).await?;
        views.push(RectificationView {
            overdue: r.state == "open" && r.due_day < today,
            id: r.id,
            application: r.application_id,
            item_name,
            grade: rated.as_ref().map_or(0, |e| e.grade),
            comment: rated.and_then(|e| e.comment),
            state: r.state,
            due_day: r.due_day,
        });
    }
    Ok(views)
}

/// A clerk of the department answers a poor rating, which closes the rectification; the
/// applicant is told.
pub async fn reply(state: &AppState, actor: &Actor, id: &str, text: &str) -> AppResult<()> {
    let department = clerk_department(actor)?;
    let r = store::rectification_by_id(state.pool(), id)
        .await?
        .filter(|r| r.department_id == department)
        .ok_or(AppError::NotFound)?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 1000 {
        return Err(AppError::invalid(
            "reply",
            "write the reply to the applicant (1–1000 characters)",
        ));
    }
    let entry = serde_json::json!({
        "kind": "rectification_closed",
        "at": crate::time_fmt::rfc3339(state.now()),
        "actor": actor.id(),
        "rectification": r.id,
        "application": r.application_id,
        "department": department,
    });
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|_| AppError::Unavailable)?;
    if !store::close_rectification(
        state,
        id,
        state.vault.seal_field(&reply_context(id), text.as_bytes()),
        actor.id(),
    )
    .await?
    {
        return Err(AppError::Conflict(
            "this rectification has been answered".into(),
        ));
    }
    if let Some(app) = store::by_id(state.pool(), &r.application_id).await? {
        let item_name = crate::services::item_by_code(state, &app.item_code)
            .await?
            .map(|i| i.definition.name)
            .unwrap_or_default();
        store::insert_notice(
            state.pool(),
            &app.applicant_account,
            &app.id,
            &format!("{item_name}|rectified"),
            state.now(),
        )
        .await?;
    }
    Ok(())
}

/// A department's service record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Statistics {
    pub department: String,
    pub ratings: usize,
    /// Share of ratings 满意 or 非常满意 (0–1); none without ratings.
    pub satisfaction: Option<f64>,
    pub average_grade: Option<f64>,
    pub poor_ratings: usize,
    pub delivered: usize,
    /// Share of delivered applications delivered by their due day.
    pub on_time_rate: Option<f64>,
    /// Working days from submission to delivery: median and mean.
    pub median_working_days: Option<i64>,
    pub mean_working_days: Option<f64>,
    pub open_rectifications: usize,
    pub overdue_rectifications: usize,
}

/// Any logged-in account may read a department's record (好差评 results are public).
pub async fn statistics(state: &AppState, department_id: &str) -> AppResult<Statistics> {
    let department = crate::admin::directory::department(state, department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let grades = store::grades_of(state.pool(), department_id).await?;
    let ratings = grades.len();
    let ratio = |n: usize, d: usize| (d > 0).then(|| n as f64 / d as f64);
    let calendar = super::calendar_of(state, department.region_code.as_str()).await?;
    let delivered = store::delivered_of(state.pool(), department_id).await?;
    let mut on_time = 0;
    let mut days: Vec<i64> = Vec::new();
    for (submitted, done, due) in &delivered {
        let done_day = state.zone().date_of(*done);
        if tongban_core::zone::ymd(done_day) <= *due {
            on_time += 1;
        }
        days.push(calendar.working_days_left(state.zone().date_of(*submitted), done_day));
    }
    days.sort_unstable();
    let today = tongban_core::zone::ymd(state.today());
    let rectifications = store::rectifications_of(state.pool(), department_id).await?;
    let open: Vec<_> = rectifications
        .iter()
        .filter(|r| r.state == "open")
        .collect();
    Ok(Statistics {
        department: department.name,
        ratings,
        satisfaction: ratio(grades.iter().filter(|g| **g >= 4).count(), ratings),
        average_grade: ratio(grades.iter().sum::<i64>() as usize, ratings),
        poor_ratings: grades.iter().filter(|g| **g <= 2).count(),
        delivered: delivered.len(),
        on_time_rate: ratio(on_time, delivered.len()),
        median_working_days: days.get(days.len() / 2).copied(),
        mean_working_days: ratio(days.iter().sum::<i64>().max(0) as usize, days.len()),
        open_rectifications: open.len(),
        overdue_rectifications: open.iter().filter(|r| r.due_day < today).count(),
    })
}
