//! Pages of identity: log in and out, and the home page (a citizen's or enterprise's own page,
//! or the staff workbench).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::model::{AccountKind, Actor};
use super::personal::{self, Purpose};
use super::service::{self, LoginAttempt};
use crate::authz::{Action, Resource, can};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::extract::{PageForm, PageQuery, PeerAddress, RequestId};
use crate::web::pages::{PageBase, PageCtx, PageError, role_name};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_form).post(login))
        .route("/activate", get(activate_form).post(activate_begin))
        .route("/activate/complete", post(activate_complete))
        .route("/recover", get(recover_form).post(recover))
        .route("/register", get(register_form).post(register))
        .route("/logout", post(logout))
        .route("/home", get(home))
        .route("/me/accesses/{index}", get(access_page))
}

/// A signed-in person goes to their home; a visitor sees what the platform offers.
async fn index(ctx: PageCtx) -> Response {
    if ctx.actor.is_some() {
        return ctx.redirect("/home");
    }
    ctx.render(&LandingPage {
        base: ctx.base("landing.title"),
        offers: LANDING_OFFERS,
    })
}

/// What the landing page offers a visitor: (link, title key, text key).
const LANDING_OFFERS: &[(&str, &str, &str)] = &[
    ("/services", "landing.services", "landing.services_text"),
    ("/login?next=/pass", "landing.pass", "landing.pass_text"),
    (
        "/login?next=/wallet",
        "landing.wallet",
        "landing.wallet_text",
    ),
    ("/opendata", "landing.opendata", "landing.opendata_text"),
    (
        "/api/openapi.json",
        "landing.developers",
        "landing.developers_text",
    ),
];

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage {
    base: PageBase,
    offers: &'static [(&'static str, &'static str, &'static str)],
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    base: PageBase,
    message: Option<String>,
    username: String,
    /// Where to go after logging in (a path of this site).
    next: String,
}

/// A path of this site to return to after login; anything else (another site) is dropped.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && path.len() <= 512
                && path.chars().all(|c| c.is_ascii_graphic()) =>
        {
            path.to_owned()
        }
        _ => "/home".to_owned(),
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_form(ctx: PageCtx, PageQuery(query): PageQuery<LoginQuery>) -> Response {
    let next = local_path(query.next.as_deref());
    if ctx.actor.is_some() {
        return ctx.redirect(&next);
    }
    ctx.render(&LoginPage {
        base: ctx.base("login.title"),
        message: None,
        username: String::new(),
        next,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    #[serde(default)]
    totp: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    mut ctx: PageCtx,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let totp = Some(form.totp.trim().to_owned()).filter(|code| !code.is_empty());
    let attempt = LoginAttempt {
        username: form.username.clone(),
        password: form.password,
        totp,
        from,
    };
    match service::authenticate(&state, attempt).await {
        Ok(account) => {
            // A new session id at every login: a planted cookie cannot be carried into it.
            if let Some(old) = &ctx.raw_session {
                service::end_session(&state, old)
                    .await
                    .map_err(|e| ctx.error(e))?;
            }
            let session = service::start_session(&state, &account.id)
                .await
                .map_err(|e| ctx.error(e))?;
            ctx.add_cookie(cookies::set(cookies::SESSION, &session.raw_id, true, None));
            ctx.add_cookie(cookies::clear(cookies::ANON_CSRF));
            Ok(ctx.redirect(&local_path(form.next.as_deref())))
        }
        Err(error @ (AppError::InvalidCredentials | AppError::LockedOut { .. })) => {
            let status = error.status();
            let message = Some(ctx.t.get(&format!("problem.{}", error.slug())).to_owned());
            let page = LoginPage {
                base: ctx.base("login.title"),
                message,
                username: form.username,
                next: local_path(form.next.as_deref()),
            };
            Ok((status, ctx.render(&page)).into_response())
        }
        Err(other) => Err(ctx.error(other)),
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    mut ctx: PageCtx,
    PageForm(form): PageForm<CsrfOnly>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    if let Some(raw) = ctx.raw_session.clone() {
        service::end_session(&state, &raw)
            .await
            .map_err(|e| ctx.error(e))?;
    }
    ctx.add_cookie(cookies::clear(cookies::SESSION));
    Ok(ctx.redirect("/login"))
}

struct PersonView {
    name: String,
    resident_id_masked: String,
    phone_masked: Option<String>,
    region: String,
}

/// One occasion on which someone read the person's data: reads by the same party for the same
/// purpose with no more than [`OCCASION_GAP_MILLIS`] between them (a clerk handling an
/// application opens it, its materials and the record several times), told in plain words.
struct AccessView {
    /// When: one time, or the first and last of the occasion.
    when: String,
    who: String,
    purpose: String,
    /// What was read, in words, each kind once.
    categories: String,
    /// How many reads the occasion holds.
    reads: usize,
    /// Each read's place in the log and its entry (base64), for the browser to check.
    records: Vec<(i64, String)>,
}

/// Reads further apart than this are separate occasions.
const OCCASION_GAP_MILLIS: i64 = 30 * 60 * 1000;

/// The accesses (newest first) as occasions, leaving out the person's own views.
fn occasions(
    state: &AppState,
    ctx: &PageCtx,
    records: Vec<personal::AccessRecord>,
) -> Vec<AccessView> {
    let t = ctx.t;
    let word = |key: String, other: &str| {
        let text = t.get(&key);
        if text == key {
            t.get(other).to_owned()
        } else {
            text.to_owned()
        }
    };
    let separator = if t.0 == super::model::Language::Zh {
        "、"
    } else {
        ", "
    };
    /// An occasion as it is gathered: newest first, so `earliest` moves back.
    struct Gathering {
        latest: i64,
        earliest: i64,
        who: String,
        purpose: String,
        categories: Vec<String>,
        records: Vec<(i64, String)>,
        reads: usize,
    }
    let mut gathered: Vec<Gathering> = Vec::new();
    for access in records {
        if access.own && access.purpose == Purpose::SelfService.as_str() {
            continue;
        }
        let who = if access.own {
            t.get("access.you_for_application").to_owned()
        } else {
            let role = word(format!("role.{}", access.actor_role), "access.someone");
            match &access.department {
                Some(department) => format!("{department} · {role}"),
                None => role,
            }
        };
        let purpose = word(
            format!("purpose.{}", access.purpose),
            "access.other_purpose",
        );
        let same_occasion = gathered.last().is_some_and(|g| {
            g.who == who && g.purpose == purpose && g.earliest - access.at <= OCCASION_GAP_MILLIS
        });
        if !same_occasion {
            gathered.push(Gathering {
                latest: access.at,
                earliest: access.at,
                who,
                purpose,
                categories: Vec::new(),
                records: Vec::new(),
                reads: 0,
            });
        }
        let Some(occasion) = gathered.last_mut() else {
            continue;
        };
        occasion.earliest = access.at;
        occasion.reads += 1;
        for category in access.categories.split(',') {
            let kind = word(format!("category.{category}"), "category.other");
            if !occasion.categories.contains(&kind) {
                occasion.categories.push(kind);
            }
        }
        if let Some(index) = access.ledger_index {
            occasion
                .records
                .push((index, access.entry.clone().unwrap_or_default()));
        }
    }
    let zone = state.zone();
    gathered
        .into_iter()
        .map(|g| AccessView {
            when: if zone.display(g.earliest) == zone.display(g.latest) {
                zone.display(g.latest)
            } else {
                format!("{} – {}", zone.display(g.earliest), zone.display(g.latest))
            },
            who: g.who,
            purpose: g.purpose,
            categories: g.categories.join(separator),
            reads: g.reads,
            records: g.records,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "citizen_home.html")]
struct CitizenHome {
    base: PageBase,
    display_name: String,
    person: Option<PersonView>,
    accesses: Vec<AccessView>,
    enterprise: Option<personal::Enterprise>,
    enterprise_region: String,
    /// The verdict texts for verify.js, as JSON.
    verify_text: String,
    /// What the modules keep for this holder, rendered.
    sections: Vec<String>,
    /// The tiles at the top: (href, text, the glyph of its icon).
    tiles: Vec<(&'static str, &'static str, String)>,
}

/// The tiles of a holder's home: the tab bar's places and every module's links (the pass,
/// scanning, cross-region services …), each with a letter of its name as its icon.
/// Large-text mode keeps the first six.
fn home_tiles(base: &PageBase, large_text: bool) -> Vec<(&'static str, &'static str, String)> {
    let own = [
        ("/applications", "applications.title"),
        ("/wallet", "wallet.title"),
        ("/messages", "messages.title"),
    ];
    let mut links: Vec<(&'static str, &'static str)> = base
        .nav
        .iter()
        .copied()
        .filter(|(href, _)| *href != "/security")
        .collect();
    links.extend(own);
    if large_text {
        links.truncate(6);
    }
    links
        .into_iter()
        .map(|(href, key)| {
            // "我的通行码" → 通, "My pass" → P: the word that tells the tiles apart.
            let text = base.t.get(key);
            let glyph = text
                .strip_prefix("我的")
                .or_else(|| text.strip_prefix("My "))
                .unwrap_or(text)
                .chars()
                .find(|c| c.is_alphanumeric())
                .map(String::from)
                .unwrap_or_default();
            (href, key, glyph)
        })
        .collect()
}

#[derive(Template)]
#[template(path = "workbench.html")]
struct Workbench {
    base: PageBase,
    display_name: String,
    department: Option<String>,
    roles: Vec<String>,
    /// What awaits the actor in each module, rendered.
    sections: Vec<String>,
    /// The first items of the actor's to-do list (kind, title, link, urgency) and how many
    /// wait in all.
    todo: Vec<(String, String, String, u8)>,
    todo_total: usize,
    /// Clerks issue and use certificates.
    is_clerk: bool,
    /// Department administrators edit their department's service items.
    is_dept_admin: bool,
}

fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let (head, tail) = (&chars[..3], &chars[chars.len() - 4..]);
    format!(
        "{}****{}",
        head.iter().collect::<String>(),
        tail.iter().collect::<String>()
    )
}

async fn home(
    State(state): State<AppState>,
    ctx: PageCtx,
    RequestId(request_id): RequestId,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    match actor.account.kind {
        AccountKind::Staff => workbench(&state, &ctx, actor).await,
        AccountKind::Citizen | AccountKind::Enterprise => {
            citizen_home(&state, &ctx, actor, request_id.as_deref()).await
        }
    }
}

async fn citizen_home(
    state: &AppState,
    ctx: &PageCtx,
    actor: &Actor,
    request_id: Option<&str>,
) -> Result<Response, PageError> {
    let mut person = None;
    let mut accesses = Vec::new();
    if let Some(person_id) = &actor.account.person_id {
        let record =
            personal::read_person(state, actor, person_id, Purpose::SelfService, request_id)
                .await
                .map_err(|e| ctx.error(e))?;
        let masked = record
            .resident_id
            .parse::<tongban_core::ResidentId>()
            .map(|id| id.masked())
            .unwrap_or_default();
        person = Some(PersonView {
            name: record.name.expose().to_owned(),
            resident_id_masked: masked,
            phone_masked: record.phone.as_ref().map(|p| mask_phone(p.expose())),
            region: region_name(state, ctx, &record.region_code).await,
        });
        let records = personal::my_access_records(state, actor, 100)
            .await
            .map_err(|e| ctx.error(e))?;
        accesses = occasions(state, ctx, records);
    }
    let enterprise = match &actor.account.enterprise_id {
        Some(id) => personal::read_enterprise(state, actor, id).await.ok(),
        None => None,
    };
    // The enterprise's region by its name, as the person's is.
    let enterprise_region = match &enterprise {
        Some(enterprise) => region_name(state, ctx, enterprise.region_code.as_str()).await,
        None => String::new(),
    };
    // Greet with the name read through the accessor (already recorded), else the account's.
    let display_name = match &person {
        Some(person) => person.name.clone(),
        None => actor.account.display_name.clone(),
    };
    let verify_text = verify_text(ctx);
    let mut base = ctx.base("nav.home");
    base.ledger_hash = Some(state.config.profile.hash().as_str());
    let sections = crate::module::home_sections(crate::module::Home::Holder, state, &ctx.home()?)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&CitizenHome {
        tiles: home_tiles(&base, ctx.large_text),
        base,
        verify_text,
        display_name,
        person,
        accesses,
        enterprise,
        enterprise_region,
        sections,
    }))
}

/// The name of a region in the page's language, or its code when it has none.
async fn region_name(state: &AppState, ctx: &PageCtx, code: &str) -> String {
    match crate::admin::store::region(state.pool(), code).await {
        Ok(Some(region)) => match ctx.t.0 {
            super::model::Language::Zh => region.name,
            super::model::Language::En => region.name_en,
        },
        _ => code.to_owned(),
    }
}

async fn workbench(state: &AppState, ctx: &PageCtx, actor: &Actor) -> Result<Response, PageError> {
    let department = match &actor.account.department_id {
        Some(id) => crate::admin::store::department(state.pool(), id)
            .await
            .map_err(|e| ctx.error(e))?
            .map(|d| match ctx.t.0 {
                super::model::Language::Zh => d.name,
                super::model::Language::En => d.name_en,
            }),
        None => None,
    };
    let mut roles = Vec::new();
    for grant in &actor.grants {
        roles.push(match grant.scope.region() {
            Some(region) => format!(
                "{} ({})",
                role_name(&ctx.t, grant.role),
                region_name(state, ctx, region.as_str()).await
            ),
            None => role_name(&ctx.t, grant.role),
        });
    }
    let sections =
        crate::module::home_sections(crate::module::Home::Workbench, state, &ctx.home()?)
            .await
            .map_err(|e| ctx.error(e))?;
    let todo = crate::module::todo_list(state, actor, ctx.t, 5)
        .await
        .map_err(|e| ctx.error(e))?;
    Ok(ctx.render(&Workbench {
        base: ctx.base("workbench.title"),
        display_name: actor.account.display_name.clone(),
        department,
        roles,
        sections,
        todo_total: todo.total,
        todo: todo
            .items
            .into_iter()
            .map(|item| (item.kind, item.title, item.link, item.urgency))
            .collect(),
        is_clerk: actor.account.department_id.as_deref().is_some_and(|id| {
            can(
                actor,
                Action::HandleApplications,
                Resource::Department { id },
            )
        }),
        is_dept_admin: can(actor, Action::OpenServiceCatalogue, Resource::Platform),
    }))
}

#[derive(Template)]
#[template(path = "access.html")]
struct AccessPage {
    base: PageBase,
    index: i64,
    /// The log entry (base64), which the page's script hashes and checks.
    entry: String,
    /// (label key, value) of the entry, in words.
    facts: Vec<(&'static str, String)>,
    verify_text: String,
}

/// One read of the person's data as the log holds it, in words, with the check of its place in
/// the log done in the browser. Only the person the read is about sees it (404 otherwise).
async fn access_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    axum::extract::Path(index): axum::extract::Path<i64>,
) -> Result<Response, PageError> {
    let actor = ctx.actor()?;
    let record = personal::my_access_records(&state, actor, 500)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .find(|r| r.ledger_index == Some(index))
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let entry = record.entry.clone().unwrap_or_default();
    let logged: serde_json::Value = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(&entry)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    };
    let text = |key: &str| logged[key].as_str().unwrap_or_default().to_owned();
    // The legal basis in the page's language (the log keeps it as the statute's citation).
    let basis_key = format!("legal_basis.{}", record.purpose);
    let legal_basis = match ctx.t.get(&basis_key) {
        words if words == basis_key => text("legal_basis"),
        words => words.to_owned(),
    };
    let view = occasions(&state, &ctx, vec![record])
        .into_iter()
        .next()
        .ok_or_else(|| ctx.error(AppError::NotFound))?;
    let facts = vec![
        ("access.when", view.when),
        ("access.who", view.who),
        ("access.purpose", view.purpose),
        ("access.data", view.categories),
        ("access.legal_basis", legal_basis),
        ("access.request", text("request_id")),
    ];
    let mut base = ctx.base("access.one");
    base.ledger_hash = Some(state.config.profile.hash().as_str());
    Ok(ctx.render(&AccessPage {
        base,
        index,
        entry,
        facts,
        verify_text: verify_text(&ctx),
    }))
}

/// The words the in-browser log check shows, as JSON for its script.
fn verify_text(ctx: &PageCtx) -> String {
    serde_json::json!({
        "verified": ctx.t.get("access.verified"),
        "failed": ctx.t.get("access.failed"),
        "unsupported": ctx.t.get("access.unsupported"),
    })
    .to_string()
    .replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::mask_phone;

    #[test]
    fn phones_are_masked_in_the_middle() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("12345"), "*****");
    }
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    base: PageBase,
    message: Option<String>,
    username: String,
    /// Carried to the second step.
    code: String,
    /// The TOTP secret to enrol, in the second step.
    secret: Option<String>,
    /// Staff must enrol it; a citizen may leave it.
    totp_required: bool,
    qr_svg: String,
}

fn activate_page(ctx: &PageCtx, message: Option<String>, username: String) -> ActivatePage {
    ActivatePage {
        base: ctx.base("activate.title"),
        message,
        username,
        code: String::new(),
        secret: None,
        totp_required: true,
        qr_svg: String::new(),
    }
}

async fn activate_form(ctx: PageCtx) -> Response {
    ctx.render(&activate_page(&ctx, None, String::new()))
}

#[derive(Deserialize)]
struct ActivateBeginForm {
    csrf: String,
    username: String,
    code: String,
}

/// A refused code or password shows the form again with the reason; other errors are errors.
fn activation_refused(
    ctx: &PageCtx,
    error: AppError,
    username: String,
) -> Result<Response, PageError> {
    match error {
        AppError::Invalid { .. } | AppError::LockedOut { .. } => {
            let status = error.status();
            let message = match &error {
                AppError::Invalid { reason, .. } => reason.clone(),
                _ => ctx.t.get(&format!("problem.{}", error.slug())).to_owned(),
            };
            let page = activate_page(ctx, Some(message), username);
            Ok((status, ctx.render(&page)).into_response())
        }
        other => Err(ctx.error(other)),
    }
}

/// The first step: a right code shows the second factor to enrol.
async fn activate_begin(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ctx: PageCtx,
    PageForm(form): PageForm<ActivateBeginForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    match super::activation::begin(&state, &form.username, &form.code, from).await {
        Ok(factor) => {
            let qr_svg = crate::web::qr::inline_qr_svg(&factor.uri).map_err(|e| ctx.error(e))?;
            Ok(ctx.render(&ActivatePage {
                base: ctx.base("activate.title"),
                message: None,
                username: form.username.trim().to_owned(),
                code: form.code.trim().to_owned(),
                secret: Some(factor.secret),
                totp_required: factor.required,
                qr_svg,
            }))
        }
        Err(error) => activation_refused(&ctx, error, form.username),
    }
}

#[derive(Deserialize)]
struct ActivateCompleteForm {
    csrf: String,
    username: String,
    code: String,
    password: String,
    totp: String,
}

/// The second step: the holder's own password and a code from the enrolled factor; then the
/// login page.
async fn activate_complete(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ctx: PageCtx,
    PageForm(form): PageForm<ActivateCompleteForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let done = super::activation::complete(
        &state,
        &form.username,
        &form.code,
        form.password,
        &form.totp,
        from,
    )
    .await;
    match done {
        Ok(()) => Ok(ctx.render(&LoginPage {
            base: ctx.base("login.title"),
            message: Some(ctx.t.get("activate.done").to_owned()),
            username: form.username.trim().to_owned(),
            next: "/home".to_owned(),
        })),
        Err(error) => activation_refused(&ctx, error, form.username),
    }
}

#[derive(Template)]
#[template(path = "recover.html")]
struct RecoverPage {
    base: PageBase,
    message: Option<String>,
    sent: bool,
}

async fn recover_form(ctx: PageCtx) -> Response {
    ctx.render(&RecoverPage {
        base: ctx.base("recover.title"),
        message: None,
        sent: false,
    })
}

#[derive(Deserialize)]
struct RecoverForm {
    csrf: String,
    username: String,
    resident_id: String,
    #[serde(default)]
    uscc: String,
}

/// A citizen asks for a code to the phone on their record (an enterprise's account, to its
/// legal representative's); the answer is the same whatever matched.
async fn recover(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ctx: PageCtx,
    PageForm(form): PageForm<RecoverForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let refused = |error: AppError| {
        let status = error.status();
        let message = match &error {
            AppError::Invalid { reason, .. } => reason.clone(),
            _ => ctx.t.get(&format!("problem.{}", error.slug())).to_owned(),
        };
        let page = RecoverPage {
            base: ctx.base("recover.title"),
            message: Some(message),
            sent: false,
        };
        Ok((status, ctx.render(&page)).into_response())
    };
    let resident_id = match form.resident_id.trim().parse::<tongban_core::ResidentId>() {
        Ok(id) => id,
        Err(e) => return refused(AppError::invalid("resident_id", e)),
    };
    let uscc = match form.uscc.trim() {
        "" => None,
        text => match text.parse::<tongban_core::Uscc>() {
            Ok(uscc) => Some(uscc),
            Err(e) => return refused(AppError::invalid("uscc", e)),
        },
    };
    match super::activation::recover(&state, &form.username, &resident_id, uscc.as_ref(), from)
        .await
    {
        Ok(()) => Ok(ctx.render(&RecoverPage {
            base: ctx.base("recover.title"),
            message: None,
            sent: true,
        })),
        Err(error @ AppError::LockedOut { .. }) => refused(error),
        Err(other) => Err(ctx.error(other)),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    base: PageBase,
    /// The refusal, beside the field it concerns: (field, message).
    problem: Option<(&'static str, String)>,
    username: String,
    sent: bool,
}

async fn register_form(ctx: PageCtx) -> Response {
    ctx.render(&RegisterPage {
        base: ctx.base("register.title"),
        problem: None,
        username: String::new(),
        sent: false,
    })
}

#[derive(Deserialize)]
struct RegisterForm {
    csrf: String,
    username: String,
    resident_id: String,
}

/// A citizen registers with a username and their ID number; the code goes to the phone on
/// their record, and the answer is the same whatever the register holds.
async fn register(
    State(state): State<AppState>,
    PeerAddress(from): PeerAddress,
    ctx: PageCtx,
    PageForm(form): PageForm<RegisterForm>,
) -> Result<Response, PageError> {
    ctx.check_csrf(&form.csrf)?;
    let outcome = match form.resident_id.trim().parse::<tongban_core::ResidentId>() {
        Ok(resident_id) => {
            super::registration::register(&state, &form.username, &resident_id, from).await
        }
        Err(e) => Err(AppError::invalid("resident_id", e)),
    };
    let problem = match outcome {
        Ok(()) => {
            return Ok(ctx.render(&RegisterPage {
                base: ctx.base("register.title"),
                problem: None,
                username: form.username.trim().to_owned(),
                sent: true,
            }));
        }
        Err(AppError::Invalid { field, reason }) => {
            let (field, key) = match (field, reason.contains("taken")) {
                ("username", true) => ("username", "register.problem.taken"),
                ("username", false) => ("username", "register.problem.username"),
                _ => ("resident_id", "register.problem.resident_id"),
            };
            (
                field,
                ctx.t.get(key).to_owned(),
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(error @ AppError::LockedOut { .. }) => (
            "username",
            ctx.t.get(&format!("problem.{}", error.slug())).to_owned(),
            error.status(),
        ),
        Err(other) => return Err(ctx.error(other)),
    };
    let (field, message, status) = problem;
    let page = RegisterPage {
        base: ctx.base("register.title"),
        problem: Some((field, message)),
        username: form.username,
        sent: false,
    };
    Ok((status, ctx.render(&page)).into_response())
}
