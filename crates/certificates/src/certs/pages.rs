//! The wallet page (证照夹): a citizen's or enterprise's certificates, one opened, the
//! departments' requests to use them and the usage record; and the clerk's pages to issue
//! certificates, change their status, and use a holder's certificate for a service item.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::store::CertType;
use super::usage::{AuthorisationView, UseView};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::document::{self, DocumentCard};
use crate::web::extract::{PageForm, PageQuery, RequestId};
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/wallet", get(wallet))
        .route("/wallet/{id}", get(certificate))
        .route("/wallet/{id}/show", axum::routing::post(show))
        .route(
            "/wallet/authorisations/{id}",
            axum::routing::post(decide_authorisation),
        )
        .route("/certs/issue", get(issue_form).post(issue))
        .route("/certs/{id}/status", axum::routing::post(change_status))
        .route("/certs/use", get(use_form).post(use_certificate))
        .route("/admin/consent-free", get(consent_free))
        .route(
            "/admin/consent-free/{action}",
            axum::routing::post(decide_consent_free),
        )
}

#[derive(Template)]
#[template(path = "consent_free.html")]
struct ConsentFreePage {
    base: PageBase,
    uses: Vec<super::consent_free::ConsentFreeUse>,
    bases: Vec<(&'static str, &'static str, &'static str)>,
    english: bool,
}

/// The security administrator's list of consent-free uses: approve with a basis, or withdraw.
async fn consent_free(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let uses = super::consent_free::list(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&ConsentFreePage {
        base: ctx.base("consent_free.title"),
        uses,
        bases: super::consent_free::LEGAL_BASES.to_vec(),
        english: ctx.t.lang() == "en",
    }))
}

#[derive(serde::Deserialize)]
struct ConsentFreeForm {
    csrf: String,
    service_code: String,
    type_code: String,
    #[serde(default)]
    basis: String,
}

async fn decide_consent_free(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(action): Path<String>,
    PageForm(form): PageForm<ConsentFreeForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let done = match action.as_str() {
        "approve" => {
            let approval = super::consent_free::Approval {
                service_code: form.service_code,
                type_code: form.type_code,
                basis: form.basis,
            };
            super::consent_free::approve(&state, actor, &approval).await
        }
        "withdraw" => {
            super::consent_free::withdraw(&state, actor, &form.service_code, &form.type_code).await
        }
        _ => Err(AppError::NotFound),
    };
    done.map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/admin/consent-free"))
}

#[derive(Template)]
#[template(path = "wallet.html")]
struct WalletPage {
    base: PageBase,
    /// The holder's certificates, drawn as their documents.
    cards: Vec<DocumentCard>,
    /// Departments' requests waiting for the holder, and the holder's standing grants.
    requests: Vec<AuthorisationView>,
    grants: Vec<AuthorisationView>,
    uses: Vec<UseView>,
    today: String,
}

/// The day on which a grant ending at the instant `end` (RFC 3339) last applies, in the
/// region's zone.
fn last_day(state: &AppState, end: &str) -> String {
    match time::OffsetDateTime::parse(end, &time::format_description::well_known::Rfc3339) {
        Ok(end) => {
            let millis = (end.unix_timestamp_nanos() / 1_000_000) as i64;
            tongban_core::zone::ymd(state.zone().date_of(millis - 1))
        }
        Err(_) => end.to_owned(),
    }
}

async fn wallet(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let entries = super::wallet(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?;
    let (requests, grants) = super::usage::authorisations(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|mut a| {
            a.created_at = state.zone().display_rfc3339(&a.created_at);
            // A standing grant ends as its last day ends: show that day.
            a.valid_until = a.valid_until.as_deref().map(|t| last_day(&state, t));
            a
        })
        .filter(|a| a.state == "requested" || a.state == "granted")
        .partition(|a| a.state == "requested");
    let uses = super::usage::uses(&state, actor)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|mut u| {
            u.at = state.zone().display_rfc3339(&u.at);
            u.copy_expires_at = u
                .copy_expires_at
                .as_deref()
                .map(|t| state.zone().display_rfc3339(t));
            u
        })
        .collect();
    // In English, a type of this catalogue by its English name (the certificate itself, as
    // signed, names it in Chinese).
    let english: std::collections::HashMap<String, String> = if ctx.t.english() {
        super::cert_types(&state)
            .await
            .map_err(|e| ctx.error(e))?
            .into_iter()
            .filter(|t| !t.name_en.is_empty())
            .map(|t| (t.code, t.name_en))
            .collect()
    } else {
        Default::default()
    };
    let cards = entries
        .into_iter()
        .map(|entry| {
            let status_label = ctx
                .t
                .get(&format!("wallet.status.{}", entry.status))
                .to_owned();
            let elsewhere = entry.region.map(|region| {
                (
                    ctx.t.get("wallet.held_from").to_owned(),
                    format!("{region} · {}", ctx.t.get("wallet.held_checked")),
                )
            });
            DocumentCard {
                key: entry.id.clone(),
                link: Some(format!("/wallet/{}", entry.id)),
                tone: document::tone(&entry.type_code),
                title: english
                    .get(&entry.type_code)
                    .cloned()
                    .unwrap_or(entry.type_name),
                number: entry.number,
                holder: None,
                issuer: entry.issuer,
                issued_on: entry.issued_on,
                valid_until: entry
                    .valid_until
                    .unwrap_or_else(|| ctx.t.get("wallet.no_end").to_owned()),
                items: elsewhere.into_iter().collect(),
                status_label,
                status: entry.status,
            }
        })
        .collect();
    Ok(ctx.render(&WalletPage {
        base: ctx.base("wallet.title"),
        cards,
        requests,
        grants,
        uses,
        today: tongban_core::zone::ymd(state.today()),
    }))
}

#[derive(serde::Deserialize)]
struct DecisionForm {
    csrf: String,
    decision: super::usage::Decision,
    #[serde(default)]
    until: String,
}

/// The holder decides on a department's request, or withdraws a grant.
async fn decide_authorisation(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<DecisionForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let request = super::usage::DecisionRequest {
        decision: form.decision,
        until: (form.decision == super::usage::Decision::Until).then_some(form.until),
    };
    super::usage::decide(&state, actor, &id, &request)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.redirect("/wallet#authorisations"))
}

/// The clerk's department, or 403.
async fn clerk_department(
    state: &AppState,
    ctx: &PageCtx,
) -> Result<crate::admin::directory::Department, PageError> {
    let actor = ctx.actor()?;
    let id = actor
        .clerk_department()
        .ok_or_else(|| ctx.error(AppError::Forbidden))?
        .to_owned();
    crate::admin::directory::department(state, &id)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or_else(|| ctx.error(AppError::Forbidden))
}

#[derive(Template)]
#[template(path = "cert_issue.html")]
struct IssuePage {
    base: PageBase,
    department: String,
    /// The types the department issues: (code, name).
    types: Vec<(String, String)>,
    /// The chosen type, its holder kind and items.
    chosen: Option<CertType>,
    /// After issuing: the new certificate's identifier.
    issued: Option<String>,
    /// The holder looked up, and the department's certificates of that holder: (id, type name,
    /// status, issued at).
    holder: String,
    found: Vec<(String, String, String, String)>,
}

#[derive(serde::Deserialize)]
struct IssueQuery {
    #[serde(rename = "type")]
    type_code: Option<String>,
    /// A holder's ID number or USCC, to find the certificates the department issued them.
    holder: Option<String>,
}

/// The holder with this ID number or USCC: (kind, record id); `None` when nobody is registered.
async fn holder_by_code(
    state: &AppState,
    code: &str,
) -> crate::error::AppResult<Option<(&'static str, String)>> {
    if let Ok(resident_id) = code.parse::<tongban_core::ResidentId>() {
        return Ok(
            crate::identity::personal::person_id_by_resident_id(state, &resident_id)
                .await?
                .map(|id| ("person", id)),
        );
    }
    match code.parse::<tongban_core::Uscc>() {
        Ok(uscc) => Ok(
            crate::identity::personal::enterprise_id_by_uscc(state, &uscc)
                .await?
                .map(|id| ("enterprise", id)),
        ),
        Err(_) => Err(AppError::invalid(
            "holder",
            "give a resident ID number or a unified social credit code",
        )),
    }
}

async fn issue_page(
    state: &AppState,
    ctx: &PageCtx,
    type_code: Option<&str>,
    issued: Option<String>,
    holder: Option<&str>,
) -> Result<Response, PageError> {
    let department = clerk_department(state, ctx).await?;
    let all = super::store::types(state.pool())
        .await
        .map_err(|e| ctx.error(e))?;
    let mut types = Vec::new();
    for t in all {
        if super::store::may_issue(state.pool(), &t.code, &department.id)
            .await
            .map_err(|e| ctx.error(e))?
        {
            types.push(t);
        }
    }
    let chosen = type_code.and_then(|code| types.iter().find(|t| t.code == code).cloned());
    let names: std::collections::HashMap<String, String> = types
        .iter()
        .map(|t| (t.code.clone(), t.name.clone()))
        .collect();
    let holder = holder.map(str::trim).unwrap_or_default();
    let rows = match holder {
        "" => Vec::new(),
        code => match holder_by_code(state, code)
            .await
            .map_err(|e| ctx.error(e))?
        {
            Some((kind, id)) => super::store::of_holder(state.pool(), kind, &id)
                .await
                .map_err(|e| ctx.error(e))?,
            None => Vec::new(),
        },
    };
    let found = rows
        .into_iter()
        .filter(|row| row.issuer_department == department.id)
        .map(|row| {
            let status = super::status_now(state, &row);
            (
                row.id,
                names.get(&row.type_code).cloned().unwrap_or(row.type_code),
                status,
                state.zone().display(row.issued_at),
            )
        })
        .collect();
    Ok(ctx.render(&IssuePage {
        base: ctx.base("issue.title"),
        department: department.name,
        types: types.into_iter().map(|t| (t.code, t.name)).collect(),
        chosen,
        issued,
        holder: holder.to_owned(),
        found,
    }))
}

async fn issue_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageQuery(query): PageQuery<IssueQuery>,
) -> Result<Response, PageError> {
    issue_page(
        &state,
        &ctx,
        query.type_code.as_deref(),
        None,
        query.holder.as_deref(),
    )
    .await
}

/// The form: `csrf`, `type_code`, `holder_code`, and one `item.<code>` field per item (a list
/// item one entry per line).
async fn issue(
    State(state): State<AppState>,
    ctx: PageCtx,
    RequestId(request_id): RequestId,
    PageForm(form): PageForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let type_code = form.get("type_code").cloned().unwrap_or_default();
    let t = super::store::cert_type_by_code(state.pool(), &type_code)
        .await
        .map_err(|e| ctx.error(e))?
        .ok_or_else(|| ctx.error(AppError::invalid("type_code", "no such certificate type")))?;
    let mut items = std::collections::BTreeMap::new();
    for spec in &t.items {
        let Some(text) = form
            .get(&format!("item.{}", spec.code))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        else {
            continue;
        };
        let value = if spec.kind == "list" {
            serde_json::Value::Array(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::Value::String(l.to_owned()))
                    .collect(),
            )
        } else {
            serde_json::Value::String(text.to_owned())
        };
        items.insert(spec.code.clone(), value);
    }
    let holder = form
        .get("holder_code")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let (resident_id, uscc) = if t.holder_kind == "person" {
        (Some(holder.clone()), None)
    } else {
        (None, Some(holder.clone()))
    };
    let request = super::IssueRequest {
        type_code: type_code.clone(),
        resident_id,
        uscc,
        items,
    };
    let signed = super::issue(&state, actor, request, request_id.as_deref())
        .await
        .map_err(|e| ctx.error(e))?;
    issue_page(
        &state,
        &ctx,
        Some(&type_code),
        Some(signed.certificate.id),
        Some(&holder),
    )
    .await
}

#[derive(serde::Deserialize)]
struct StatusForm {
    csrf: String,
    action: super::StatusAction,
    reason: String,
    /// The holder whose certificates the clerk was looking at, to return to them.
    #[serde(default)]
    holder: String,
}

async fn change_status(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let change = super::StatusChange {
        action: form.action,
        reason: form.reason,
    };
    super::change_status(&state, actor, &id, &change)
        .await
        .map_err(|e| ctx.error(e))?;
    let back: String = form
        .holder
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    Ok(ctx.redirect(&format!("/certs/issue?holder={back}#found")))
}

#[derive(Template)]
#[template(path = "cert_use.html")]
struct UsePage {
    base: PageBase,
    department: String,
    types: Vec<(String, String)>,
    /// The department's service items: (code, name).
    items: Vec<(String, String)>,
    /// After a use: the annotated copy, its items as (name, value).
    copy: Option<tongban_certs::copy::SignedCopy>,
    copy_items: Vec<(String, String)>,
    copy_expires: String,
}

async fn use_page(
    state: &AppState,
    ctx: &PageCtx,
    copy: Option<tongban_certs::copy::SignedCopy>,
) -> Result<Response, PageError> {
    let department = clerk_department(state, ctx).await?;
    let types = super::store::types(state.pool())
        .await
        .map_err(|e| ctx.error(e))?;
    let items = super::store::service_items_of(state.pool(), &department.id)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|i| (i.code, i.name))
        .collect();
    let (copy_items, copy_expires) = match &copy {
        Some(copy) => {
            let c = &copy.copy.certificate.certificate;
            let specs = types
                .iter()
                .find(|t| t.code == c.type_code)
                .map(|t| t.items.clone())
                .unwrap_or_default();
            let rows = c
                .items
                .iter()
                .map(|(code, value)| {
                    let name = specs
                        .iter()
                        .find(|s| &s.code == code)
                        .map_or_else(|| code.clone(), |s| s.name.clone());
                    (name, super::item_text(value))
                })
                .collect();
            (
                rows,
                state
                    .zone()
                    .display_rfc3339(&copy.copy.annotation.expires_at),
            )
        }
        None => (Vec::new(), String::new()),
    };
    Ok(ctx.render(&UsePage {
        base: ctx.base("use.title"),
        department: department.name,
        types: types.into_iter().map(|t| (t.code, t.name)).collect(),
        items,
        copy,
        copy_items,
        copy_expires,
    }))
}

async fn use_form(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    use_page(&state, &ctx, None).await
}

#[derive(serde::Deserialize)]
struct UseForm {
    csrf: String,
    holder_code: String,
    type_code: String,
    service_code: String,
    cause: String,
}

async fn use_certificate(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<UseForm>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(&form.csrf)?;
    let code = form.holder_code.trim().to_owned();
    // A USCC has letters in its body or is 18 characters with a letter check; an ID number is
    // digits with an optional X. Let the parsers decide: try the ID number first.
    let holder = if code.parse::<tongban_core::ResidentId>().is_ok() {
        super::usage::HolderRef {
            resident_id: Some(code),
            uscc: None,
        }
    } else {
        super::usage::HolderRef {
            resident_id: None,
            uscc: Some(code),
        }
    };
    let request = super::usage::UseRequest {
        holder,
        type_code: form.type_code,
        service_code: form.service_code,
        cause: form.cause,
        copy_days: None,
    };
    let copy = super::usage::obtain(&state, actor, &request)
        .await
        .map_err(|e| ctx.error(e))?;
    use_page(&state, &ctx, Some(copy)).await
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    base: PageBase,
    /// The certificate drawn as its document.
    doc: DocumentCard,
    id: String,
    /// (item code, item name, value as text): what 亮证 may reveal.
    items: Vec<(String, String, String)>,
    /// After 亮证: the QR (SVG) of the shown code, and until when it scans.
    shown_qr: Option<String>,
    shown_until: String,
    /// Why nothing was shown (no item chosen).
    show_problem: Option<String>,
}

async fn certificate(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    render_certificate(&state, &ctx, &id, None, None).await
}

/// The form: `csrf`, and one `item.<code>` field per item to reveal.
async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(id): Path<String>,
    PageForm(form): PageForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let request = super::ShowRequest {
        items: form
            .keys()
            .filter_map(|key| key.strip_prefix("item."))
            .map(str::to_owned)
            .collect(),
    };
    // On the page, nothing ticked is a slip, not a wish to prove the type alone (which the
    // API allows): the page asks for a choice instead of making a code.
    if request.items.is_empty() {
        let problem = ctx.t.get("wallet.show_none").to_owned();
        let page = render_certificate(&state, &ctx, &id, None, Some(problem)).await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let shown = super::show(&state, actor, &id, &request)
        .await
        .map_err(|e| ctx.error(e))?;
    render_certificate(&state, &ctx, &id, Some(shown), None).await
}

async fn render_certificate(
    state: &AppState,
    ctx: &PageCtx,
    id: &str,
    shown: Option<super::Shown>,
    show_problem: Option<String>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let item = super::wallet_item(state, actor, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let (shown_qr, shown_until) = match shown {
        Some(shown) => {
            let svg = crate::web::qr::inline_qr_svg(&shown.code).map_err(|e| ctx.error(e))?;
            (Some(svg), state.zone().display_rfc3339(&shown.expires_at))
        }
        None => (None, String::new()),
    };
    let c = item.signed.certificate;
    // Item names from the catalogue (the code when the type is gone).
    let cert_type = super::store::cert_type_by_code(state.pool(), &c.type_code)
        .await
        .map_err(|e| ctx.error(e))?;
    let english_name = cert_type
        .as_ref()
        .map(|t| t.name_en.clone())
        .filter(|name| ctx.t.english() && !name.is_empty());
    let specs = cert_type.map(|t| t.items).unwrap_or_default();
    let name_of = |code: &str| {
        specs
            .iter()
            .find(|s| s.code == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let items: Vec<(String, String, String)> = c
        .items
        .iter()
        .map(|(code, value)| (code.clone(), name_of(code), super::item_text(value)))
        .collect();
    let status_label = ctx
        .t
        .get(&format!("wallet.status.{}", item.status))
        .to_owned();
    let mut shown_items: Vec<(String, String)> = items
        .iter()
        .map(|(_, name, value)| (name.clone(), value.clone()))
        .collect();
    if let Some(region) = item.region {
        shown_items.push((
            ctx.t.get("wallet.held_from").to_owned(),
            format!("{region} · {}", ctx.t.get("wallet.held_checked")),
        ));
    }
    let doc = DocumentCard {
        key: c.id.clone(),
        tone: document::tone(&c.type_code),
        title: english_name.unwrap_or(c.type_name),
        number: c.number,
        holder: Some(c.holder.name),
        issuer: c.issuer.name,
        issued_on: c.issued_on,
        valid_until: c
            .valid_until
            .unwrap_or_else(|| ctx.t.get("wallet.no_end").to_owned()),
        items: shown_items,
        status: item.status,
        status_label,
        link: None,
    };
    Ok(ctx.render(&CertificatePage {
        base: ctx.base("wallet.title"),
        doc,
        id: c.id,
        items,
        shown_qr,
        shown_until,
        show_problem,
    }))
}
