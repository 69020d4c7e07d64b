//! The intake behind the gateway (provider `cross-region` of resource KS-TB-001): what another
//! region's intake department sends — packages and updates — and the catalogue of this
//! region's 跨省通办 items it reads. The gateway has checked the other region's signature and
//! the grant before a call gets here, and signs and logs the answer; the caller is the other
//! region's department, `peer/{region}/{uscc}`.

use std::future::Future;
use std::pin::Pin;

use axum::http::Method;
use serde_json::json;
use tongban_exchange::gateway::calls::{Answer, Call, json_answer, problem};

use crate::cases::Refused;
use crate::error::AppResult;
use crate::state::AppState;

/// The provider the exchange calls.
pub struct Intake;

/// The data items of the intake resource (what its answers may hold).
pub const ITEMS: [(&str, &str, &str); 12] = [
    ("case", "办件编号", "string"),
    ("state", "办件状态", "code"),
    ("due_day", "承诺办结日", "date"),
    ("duplicate", "重复送达", "boolean"),
    ("code", "事项编码", "code"),
    ("name", "事项名称", "string"),
    ("department_uscc", "实施部门统一社会信用代码", "code"),
    ("department_name", "实施部门", "string"),
    ("modes", "跨省通办模式", "code"),
    ("promised_days", "承诺办结时限（工作日）", "integer"),
    ("materials", "申请材料", "string"),
    ("joint_next", "联办下一环节事项编码", "code"),
];

impl tongban_exchange::gateway::providers::Provider for Intake {
    fn endpoints(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("GET", "/items"),
            ("POST", "/packages"),
            ("POST", "/updates"),
        ]
    }

    fn call<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> Pin<Box<dyn Future<Output = AppResult<Answer>> + Send + 'a>> {
        Box::pin(answer(call))
    }
}

fn refused(why: Refused) -> Answer {
    match why {
        Refused::Malformed(why) => problem(400, "Bad Request", &why),
        Refused::Forbidden(why) => problem(403, "Forbidden", &why),
        Refused::Conflict(why) => problem(409, "Conflict", &why),
        Refused::Unprocessable(why) => problem(422, "Unprocessable Content", &why),
    }
}

async fn answer(call: &Call<'_>) -> AppResult<Answer> {
    let state = call.state;
    match (call.method.clone(), call.path) {
        (Method::GET, "/items") => catalogue(state).await,
        (Method::POST, "/packages" | "/updates") => {
            let Some((region, uscc)) = call.peer() else {
                // Only another region's intake sends packages and updates.
                return Ok(problem(
                    403,
                    "Forbidden",
                    "packages and updates come from another region's intake",
                ));
            };
            if call.path == "/packages" {
                Ok(
                    match crate::cases::receive(state, (region, uscc), call.body).await? {
                        Ok(taken) => json_answer(
                            if taken.duplicate { 200 } else { 201 },
                            &json!({"case": taken.case, "state": taken.state,
                                "due_day": taken.due_day, "duplicate": taken.duplicate}),
                        ),
                        Err(why) => refused(why),
                    },
                )
            } else {
                Ok(
                    match crate::cases::take_update(
                        state,
                        (region, uscc),
                        call.message_id,
                        call.body,
                    )
                    .await?
                    {
                        Ok((case_state, duplicate)) => {
                            json_answer(200, &json!({"state": case_state, "duplicate": duplicate}))
                        }
                        Err(why) => refused(why),
                    },
                )
            }
        }
        (_, "/items" | "/packages" | "/updates") => Ok(problem(
            405,
            "Method Not Allowed",
            "GET /items; POST /packages and /updates",
        )),
        _ => Ok(problem(
            404,
            "Not Found",
            "the intake answers /items, /packages and /updates",
        )),
    }
}

/// This region's 跨省通办 items, as other regions list them.
async fn catalogue(state: &AppState) -> AppResult<Answer> {
    let departments = tongban_platform::admin::directory::departments(state).await?;
    let mut records = Vec::new();
    for item in tongban_services::services::all_items(state).await? {
        let definition = &item.definition;
        if definition.cross_modes.is_empty() {
            continue;
        }
        let department = departments.iter().find(|d| d.id == item.department_id);
        let modes: Vec<&str> = definition
            .cross_modes
            .iter()
            .map(|m| match m {
                tongban_services::services::item::CrossMode::Online => "online",
                tongban_services::services::item::CrossMode::Proxy => "proxy",
                tongban_services::services::item::CrossMode::Joint => "joint",
            })
            .collect();
        let days = match definition.promised_limit {
            tongban_services::services::item::TimeLimit::Immediate => 0,
            tongban_services::services::item::TimeLimit::WorkingDays { days } => days,
        };
        let materials: Vec<&str> = definition
            .materials
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        let Some(department_uscc) = department.and_then(|d| d.uscc.clone()) else {
            continue;
        };
        records.push(json!({
            "code": definition.code,
            "name": definition.name,
            "department_uscc": department_uscc,
            "department_name": department.map(|d| d.name.clone()).unwrap_or_default(),
            "modes": modes.join(","),
            "promised_days": days,
            "materials": materials.join("、"),
            "joint_next": definition.joint_next,
        }));
    }
    let total = records.len();
    Ok(json_answer(
        200,
        &json!({"records": records, "total": total}),
    ))
}

/// Reads a partner's catalogue through the gateway and keeps the copy, with the id of the
/// signed, logged exchange that brought it. Returns how many items it lists.
pub async fn refresh(state: &AppState, partner: &crate::store::Partner) -> AppResult<usize> {
    use crate::error::AppError;
    let intake = crate::cases::intake_department(state)
        .await?
        .ok_or_else(|| AppError::Conflict("this region has no intake resource".into()))?;
    let out = tongban_exchange::gateway::peers::send(
        state,
        &intake,
        crate::SUBSYSTEM,
        &partner.intake_uscc,
        crate::INTAKE_RESOURCE,
        Method::GET,
        "/items",
        Vec::new(),
        None,
    )
    .await
    .map_err(|failure| AppError::Conflict(format!("{}: {}", failure.kind, failure.message)))?;
    if out.status != 200 {
        let detail = serde_json::from_slice::<serde_json::Value>(&out.body)
            .ok()
            .and_then(|v| v["detail"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(AppError::Conflict(format!(
            "region {} answered {}: {detail}",
            partner.region, out.status
        )));
    }
    let message_id = out
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("x-road-id"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let answer: serde_json::Value =
        serde_json::from_slice(&out.body).map_err(|e| AppError::Internal(e.into()))?;
    let now = state.now();
    let text = |v: &serde_json::Value, key: &str, max: usize| -> Option<String> {
        let s = v[key].as_str()?;
        (!s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control))
            .then(|| s.to_owned())
    };
    let items: Vec<crate::store::CrossItem> = answer["records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .take(2_000)
        .filter_map(|record| {
            Some(crate::store::CrossItem {
                region: partner.region.clone(),
                code: text(record, "code", 40)?,
                name: text(record, "name", 200)?,
                department_uscc: text(record, "department_uscc", 18)?,
                department_name: text(record, "department_name", 200).unwrap_or_default(),
                modes: text(record, "modes", 40)?,
                promised_days: record["promised_days"].as_i64().unwrap_or(0).clamp(0, 3650),
                materials: text(record, "materials", 2_000).unwrap_or_default(),
                fetched_at: now,
                message_id: message_id.clone(),
                joint_next: text(record, "joint_next", 36),
            })
        })
        .collect();
    crate::store::replace_items(state.pool(), &partner.region, &items).await?;
    Ok(items.len())
}

/// Refreshes every partner's catalogue (a failing partner keeps its last copy).
pub async fn refresh_all(state: &AppState) -> AppResult<()> {
    for partner in crate::store::partners(state.pool()).await? {
        if let Err(error) = refresh(state, &partner).await {
            tracing::warn!(%error, region = %partner.region, "a partner's 跨省通办 catalogue could not be read");
        }
    }
    Ok(())
}
