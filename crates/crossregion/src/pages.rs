//! `/cross-region`: 跨省通办 as people use it. Everyone signed in sees the partner regions'
//! items, each labelled with the region and department that handle it; a citizen applies
//! online and follows each application to its result, then rates it; a window clerk receives
//! an application for another region, checks the materials and forwards it (代收), and sees
//! what the other region refused; a clerk of a competent department works the 跨省 inbox.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;

use crate::cases::{self, ActRequest, ApplyRequest, CaseView};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::CrossItem;
use crate::web::extract::PageForm;
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cross-region", get(page))
        .route("/cross-region/apply", post(apply))
        .route("/cross-region/cases/{id}/forward", post(forward))
        .route("/cross-region/cases/{id}/act", post(act))
        .route("/cross-region/cases/{id}/rating", post(rate))
        .route("/cross-region/cases/{id}/supplement", post(supplement))
}

/// A case as a row shows it: the view, and its times in the region's zone.
pub struct Row {
    pub case: CaseView,
    pub result: String,
    /// An electronic certificate issued as the result: its type, identifier and issuer.
    pub certificate: Option<(String, String, String)>,
    /// A joint case's parts: region, item, progress, and what a done part issued.
    pub parts: Vec<(String, String, String, String)>,
    /// For an approved case whose result is a person's certificate: its type's name and data
    /// items (code, name, kind, required), which the clerk fills in to issue it.
    pub certificate_form: Option<(String, Vec<CertificateField>)>,
}

/// A certificate data item to fill in: code, name, kind, required.
pub type CertificateField = (String, String, String, bool);

/// A result as one line of text (its text fields).
fn result_text(result: &serde_json::Value) -> String {
    match result {
        serde_json::Value::Object(map) => map
            .values()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" · "),
        other => other.to_string(),
    }
}

#[derive(Template)]
#[template(path = "cross_region.html")]
struct CrossRegionPage {
    base: PageBase,
    notice: Option<String>,
    items: Vec<CrossItem>,
    /// The partner regions (where a joint case's later part may go).
    regions: Vec<String>,
    citizen: bool,
    window: bool,
    mine: Vec<Row>,
    queue: Vec<Row>,
    inbox: Vec<Row>,
    consent: &'static str,
}

fn rows(views: Vec<CaseView>) -> Vec<Row> {
    views
        .into_iter()
        .map(|case| Row {
            certificate: case
                .result
                .as_ref()
                .and_then(|r| r.get("certificate"))
                .map(|c| {
                    let text = |key: &str| {
                        c["certificate"][key]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned()
                    };
                    (
                        text("type_name"),
                        text("id"),
                        c["certificate"]["issuer"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    )
                }),
            result: case.result.as_ref().map(result_text).unwrap_or_default(),
            parts: case
                .parts
                .iter()
                .map(|p| {
                    (
                        p.region.clone(),
                        p.item_code.clone(),
                        p.progress.clone(),
                        p.result.as_ref().map(result_text).unwrap_or_default(),
                    )
                })
                .collect(),
            certificate_form: None,
            case,
        })
        .collect()
}

async fn render(
    state: &AppState,
    ctx: &PageCtx,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let items = crate::store::items(state.pool())
        .await
        .map_err(|e| ctx.error(e))?;
    let citizen = actor.account.person_id.is_some();
    let mine = if citizen {
        cases::mine(state, actor).await.map_err(|e| ctx.error(e))?
    } else {
        Vec::new()
    };
    let (queue, inbox) = cases::work(state, actor).await.map_err(|e| ctx.error(e))?;
    let window = cases::is_window_clerk(state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    let mut inbox = rows(inbox);
    for row in inbox.iter_mut().filter(|r| r.case.state == "approved") {
        row.certificate_form = cases::person_certificate(state, &row.case.item_code)
            .await
            .map_err(|e| ctx.error(e))?
            .map(|t| {
                let items = t
                    .items
                    .into_iter()
                    .map(|i| (i.code, i.name, i.kind, i.required))
                    .collect();
                (t.name, items)
            });
    }
    let mut regions: Vec<String> = items.iter().map(|i| i.region.clone()).collect();
    regions.dedup();
    Ok(ctx.render(&CrossRegionPage {
        base: ctx.base("cross.title"),
        notice,
        items,
        regions,
        citizen,
        window,
        mine: rows(mine),
        queue: rows(queue),
        inbox,
        consent: cases::CONSENT_TEXT,
    }))
}

async fn page(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    render(&state, &ctx, None).await
}

type Fields = BTreeMap<String, String>;

fn field(fields: &Fields, name: &str) -> String {
    fields.get(name).cloned().unwrap_or_default()
}

/// What the applicant typed, as a text material named `name` (none when nothing was typed).
fn statement_material(name: &str, statement: &str) -> Vec<cases::MaterialIn> {
    let statement = statement.trim();
    if statement.is_empty() {
        return Vec::new();
    }
    vec![cases::MaterialIn {
        name: name.into(),
        media_type: "text/plain; charset=utf-8".into(),
        content: base64::engine::general_purpose::STANDARD.encode(statement),
    }]
}

/// Applies from the page: online for a citizen, at the window for a clerk. The statement
/// typed in becomes a text material.
async fn apply(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let (region, item_code) = field(&fields, "item")
        .split_once('|')
        .map(|(r, c)| (r.to_owned(), c.to_owned()))
        .ok_or_else(|| ctx.error(AppError::invalid("item", "choose an item")))?;
    let materials = statement_material("申请说明", &field(&fields, "statement"));
    // The mode follows from who applies and the item (a window receives for 代收, a joint
    // item is handled jointly).
    let window = field(&fields, "mode") == "proxy";
    let joint_regions: Vec<String> = field(&fields, "joint_region")
        .split([',', '，', ' '])
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let request = ApplyRequest {
        region,
        item_code,
        mode: None,
        joint_regions,
        applicant: window.then(|| cases::ApplicantIn {
            resident_id: field(&fields, "resident_id"),
            name: field(&fields, "name"),
        }),
        form: serde_json::json!({}),
        materials,
        consent: field(&fields, "consent") == "yes",
    };
    let case = cases::apply(&state, actor, request)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(moved(&ctx, "cross.applied", &case))).await
}

/// What a step leaves to say: the item and the case's state now, after `lead`'s text if any.
fn moved(ctx: &PageCtx, lead: &str, case: &CaseView) -> String {
    let key = format!("cross.state.{}", case.state);
    let state = ctx.t.get(&key);
    if lead.is_empty() {
        format!("{} · {state}", case.item_name)
    } else {
        format!("{} {} · {state}", ctx.t.get(lead), case.item_name)
    }
}

/// A certificate's data items as the clerk filled them in: `item.<code>` fields, a list
/// item's entries split at 、 or a comma (its kind in `kind.<code>`).
fn certificate_items(fields: &Fields) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .filter_map(|(key, value)| Some((key.strip_prefix("item.")?, value.trim())))
        .filter(|(_, value)| !value.is_empty())
        .map(|(code, value)| {
            let list = fields.get(&format!("kind.{code}")).map(String::as_str) == Some("list");
            let value = if list {
                serde_json::Value::from(
                    value
                        .split(['、', ',', '，'])
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .collect::<Vec<_>>(),
                )
            } else {
                serde_json::Value::from(value)
            };
            (code.to_owned(), value)
        })
        .collect()
}

async fn forward(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let case = cases::forward(&state, actor, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let notice = format!("{} {}", ctx.t.get("cross.forwarded"), case.item_name);
    render(&state, &ctx, Some(notice)).await
}

async fn act(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let action = field(&fields, "action");
    let note = Some(field(&fields, "note")).filter(|n| !n.trim().is_empty());
    let items = certificate_items(&fields);
    let result = (action == "issue").then(|| {
        let mut result = serde_json::json!({"document": field(&fields, "result"), "issued_by": actor.account.display_name});
        if !items.is_empty() {
            result["items"] = serde_json::Value::Object(items);
        }
        result
    });
    let case = cases::act(
        &state,
        actor,
        &id,
        ActRequest {
            action,
            note,
            result,
        },
    )
    .await
    .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(moved(&ctx, "", &case))).await
}

async fn rate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let grade = field(&fields, "grade")
        .parse()
        .map_err(|_| ctx.error(AppError::invalid("grade", "a grade from 1 to 5")))?;
    cases::rate(&state, actor, &id, grade)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(ctx.t.get("cross.rated").to_owned())).await
}

/// The applicant sends what the competent region asked for, typed as a statement.
async fn supplement(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&field(&fields, "csrf"))?;
    let materials = statement_material("补正说明", &field(&fields, "statement"));
    let case = cases::supplement(&state, actor, &id, &materials)
        .await
        .map_err(|e| ctx.error(e))?;
    render(&state, &ctx, Some(moved(&ctx, "", &case))).await
}
