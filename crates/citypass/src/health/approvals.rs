//! The health officer's inbox of second signatures: what others proposed that needs this
//! officer's approval before it changes anyone's colour or the city's controls — facts entered
//! by hand or lifting a recent positive, contact designations, manual colours, status
//! policies, switches of the emergency mode and contact-match requests. Each is offered only
//! to officers whose scope covers it, and never to its proposer.

use serde::Serialize;

use super::service::{self, Control, OVERRIDE_REASONS};
use super::store;
use crate::authz::{Action, Resource, can};
use crate::error::AppResult;
use crate::identity::model::Actor;
use crate::identity::personal;
use crate::state::AppState;
use crate::time_fmt::rfc3339;

/// One item awaiting the officer's approval.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pending {
    /// `health_fact`, `override`, `policy`, `emergency`, `health_source` or `contact_match`.
    pub kind: &'static str,
    pub id: String,
    /// What approving it does, in Chinese and in English.
    pub summary_zh: String,
    pub summary_en: String,
    /// The proposer's display name.
    pub proposed_by: String,
    /// RFC 3339.
    pub proposed_at: String,
    /// The same, as pages show it (in the deployment's zone).
    #[serde(skip)]
    pub shown_at: String,
    /// The API path that approves it (POST).
    pub approve: String,
}

/// Whether the actor is a health officer at all (the inbox is theirs).
pub fn is_health_officer(actor: &Actor) -> bool {
    can(actor, Action::ManageHealthPolicy, Resource::Platform)
}

async fn name_of(state: &AppState, account_id: &str) -> AppResult<String> {
    Ok(crate::identity::store::account(state.pool(), account_id)
        .await?
        .map(|account| account.display_name)
        .unwrap_or_else(|| account_id.to_owned()))
}

fn fact_kind_zh(kind: &str) -> &'static str {
    match kind {
        "test_result" => "检测结果",
        "vaccination" => "疫苗接种",
        "recovery" => "康复",
        "quarantine_order" => "隔离措施",
        "contact_designation" => "密接判定",
        "risk_area" => "风险地区",
        _ => "健康信息",
    }
}

/// A fact's value in Chinese (a region code stays as it is).
fn value_zh(value: &str) -> &str {
    match value {
        "positive" => "阳性",
        "negative" => "阴性",
        "dose_1" => "第一剂",
        "dose_2" => "第二剂",
        "dose_3" => "第三剂",
        "booster" => "加强针",
        "recovered" => "已康复",
        "home" => "居家",
        "centralised" => "集中",
        "close_contact" => "密切接触者",
        "secondary_contact" => "次密切接触者",
        other => other,
    }
}

/// How many items await the actor, without opening any of them (for the workbench).
pub async fn count(state: &AppState, actor: &Actor) -> AppResult<usize> {
    if !is_health_officer(actor) {
        return Ok(0);
    }
    let now = state.now();
    let mut count = 0;
    for fact in store::pending_facts(state.pool(), now).await? {
        if fact.recorded_by != actor.id()
            && service::in_health_reach(state, actor, &fact.person_id).await?
        {
            count += 1;
        }
    }
    for row in store::pending_overrides(state.pool(), &state.vault, now).await? {
        if row.requested_by != actor.id()
            && service::in_health_reach(state, actor, &row.person_id).await?
        {
            count += 1;
        }
    }
    if service::ensure_health_authority(state, actor).is_ok() {
        count += store::pending_policies(state.pool())
            .await?
            .iter()
            .filter(|row| row.proposed_by != actor.id())
            .count();
    }
    count += service::pending_controls(state, actor)
        .await?
        .iter()
        .filter(|(row, _)| row.proposed_by != actor.id())
        .count();
    count += crate::checkins::contacts::open_requests(state, actor)
        .await?
        .len();
    Ok(count)
}

/// The approvals waiting for the actor, as one item of the to-do list: the list shows no
/// health data (the approvals page does, each read recorded), only how many wait.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
) -> AppResult<crate::module::TodoPart> {
    let waiting = count(state, actor).await?;
    if waiting == 0 {
        return Ok(crate::module::TodoPart::default());
    }
    Ok(crate::module::TodoPart {
        items: vec![crate::module::TodoItem {
            module: "health",
            kind: t.get("health.todo_kind").to_owned(),
            title: format!("{} ({waiting})", t.get("health.todo_title")),
            link: "/health/approvals".to_owned(),
            due: None,
            // A person's status waits on it.
            urgency: 1,
            at: state.now(),
        }],
        total: waiting,
    })
}

/// Everything awaiting the actor's approval, oldest first within each kind. A pending fact's
/// value is health data: each one shown is recorded as a read of the person's health file.
pub async fn pending(state: &AppState, actor: &Actor) -> AppResult<Vec<Pending>> {
    if !is_health_officer(actor) {
        return Err(crate::error::AppError::Forbidden);
    }
    let now = state.now();
    let zone = state.zone();
    let mut items = Vec::new();
    for fact in store::pending_facts(state.pool(), now).await? {
        if fact.recorded_by == actor.id()
            || !service::in_health_reach(state, actor, &fact.person_id).await?
        {
            continue;
        }
        personal::record_health_access(state, actor, &fact.person_id, "review_pending_fact")
            .await?;
        let value = state.vault.open_field(
            &format!("health_facts.value/{}", fact.id),
            &fact.value_sealed,
        )?;
        let value = String::from_utf8_lossy(&value).into_owned();
        let name = personal::masked_name_of(state, &fact.person_id).await?;
        let evidence = fact.evidence_ref.as_deref().unwrap_or("—");
        let observed = zone.display(fact.observed_at);
        items.push(Pending {
            kind: "health_fact",
            summary_zh: format!(
                "{name}：{}「{}」，{observed}，依据：{}，凭证：{evidence}",
                fact_kind_zh(&fact.kind),
                value_zh(&value),
                fact.legal_basis
            ),
            summary_en: format!(
                "{name}: {} \"{value}\", {observed}, under {}, evidence {evidence}",
                fact.kind, fact.legal_basis
            ),
            proposed_by: name_of(state, &fact.recorded_by).await?,
            proposed_at: rfc3339(fact.recorded_at),
            shown_at: zone.display(fact.recorded_at),
            approve: format!("/api/v1/health/facts/{}/confirm", fact.id),
            id: fact.id,
        });
    }
    for row in store::pending_overrides(state.pool(), &state.vault, now).await? {
        if row.requested_by == actor.id()
            || !service::in_health_reach(state, actor, &row.person_id).await?
        {
            continue;
        }
        personal::record_health_access(state, actor, &row.person_id, "review_pending_override")
            .await?;
        let name = personal::masked_name_of(state, &row.person_id).await?;
        let (_, zh, en) = OVERRIDE_REASONS
            .iter()
            .find(|(code, _, _)| *code == row.reason_code)
            .copied()
            .unwrap_or(("", "", ""));
        let until = zone.display(row.expires_at);
        items.push(Pending {
            kind: "override",
            summary_zh: format!(
                "{name}：人工调整为{}，原因：{zh}，至 {until}",
                match row.colour.as_str() {
                    "green" => "绿码",
                    "yellow" => "黄码",
                    _ => "红码",
                }
            ),
            summary_en: format!(
                "{name}: set to {} by hand — {en}, until {until}",
                row.colour
            ),
            proposed_by: name_of(state, &row.requested_by).await?,
            proposed_at: rfc3339(row.requested_at),
            shown_at: zone.display(row.requested_at),
            approve: format!("/api/v1/health/overrides/{}/approve", row.id),
            id: row.id,
        });
    }
    if service::ensure_health_authority(state, actor).is_ok() {
        for row in store::pending_policies(state.pool()).await? {
            if row.proposed_by == actor.id() {
                continue;
            }
            let rules = serde_json::from_str::<Vec<super::policy::StatusRule>>(&row.rules)
                .map(|rules| rules.len())
                .unwrap_or(0);
            items.push(Pending {
                kind: "policy",
                summary_zh: format!(
                    "健康码规则第 {} 版（{rules} 条规则，阳性后 {} 天内转阴需复核）",
                    row.version, row.positive_hold_days
                ),
                summary_en: format!(
                    "Status policy version {} ({rules} rules; {} days' hold after a positive)",
                    row.version, row.positive_hold_days
                ),
                proposed_by: name_of(state, &row.proposed_by).await?,
                proposed_at: rfc3339(row.proposed_at),
                shown_at: zone.display(row.proposed_at),
                approve: format!("/api/v1/health/policies/{}/approve", row.version),
                id: row.version.to_string(),
            });
        }
    }
    for (row, control) in service::pending_controls(state, actor).await? {
        if row.proposed_by == actor.id() {
            continue;
        }
        let (summary_zh, summary_en) = match &control {
            Control::Emergency(true) => (
                "启动公共卫生应急模式（健康码显示颜色）".to_owned(),
                "Switch the public-health emergency mode on (passes show colours)".to_owned(),
            ),
            Control::Emergency(false) => (
                "结束公共卫生应急模式（通行码不再显示颜色）".to_owned(),
                "Switch the public-health emergency mode off (passes show no colour)".to_owned(),
            ),
            Control::Source {
                department_id,
                kind,
            } => {
                let name = crate::admin::directory::department(state, department_id)
                    .await?
                    .map(|d| d.name)
                    .unwrap_or_else(|| department_id.clone());
                match kind {
                    Some(kind) => (
                        format!("认定「{name}」为健康数据来源（{kind}）：其结果凭凭证号即时生效"),
                        format!(
                            "Designate {name} a health source ({kind}): its results with evidence take effect at once"
                        ),
                    ),
                    None => (
                        format!("取消「{name}」的健康数据来源资格"),
                        format!("Withdraw {name}'s designation as a health source"),
                    ),
                }
            }
        };
        items.push(Pending {
            kind: match control {
                Control::Emergency(_) => "emergency",
                Control::Source { .. } => "health_source",
            },
            summary_zh,
            summary_en,
            proposed_by: name_of(state, &row.proposed_by).await?,
            proposed_at: rfc3339(row.proposed_at),
            shown_at: zone.display(row.proposed_at),
            approve: format!("/api/v1/health/controls/{}/approve", row.id),
            id: row.id,
        });
    }
    for request in crate::checkins::contacts::open_requests(state, actor).await? {
        let (from, to) = (
            zone.display(request.period.0),
            zone.display(request.period.1),
        );
        items.push(Pending {
            kind: "contact_match",
            summary_zh: format!(
                "对一名确诊病例做时空伴随排查：{from} 至 {to}，停留 {} 分钟；目的：{}",
                request.dwell_minutes, request.purpose
            ),
            summary_en: format!(
                "Contact match for a confirmed case, {from} to {to}, {} minutes' presence; purpose: {}",
                request.dwell_minutes, request.purpose
            ),
            proposed_by: name_of(state, &request.requested_by).await?,
            proposed_at: rfc3339(request.requested_at),
            shown_at: zone.display(request.requested_at),
            approve: format!("/api/v1/health/contacts/requests/{}/approve", request.id),
            id: request.id,
        });
    }
    Ok(items)
}
