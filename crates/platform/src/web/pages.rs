//! The page shell: language, large text, the logged-in user, CSRF tokens, and error pages.
//! Pages are server-rendered and work without JavaScript.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::cookies;
use super::cookies::tokens_match;
use super::i18n::Tr;
use crate::error::AppError;
use crate::identity::model::{Actor, Credential, Language, Role};
use crate::identity::{service, store};
use crate::random;
use crate::state::AppState;

const YEAR_SECONDS: i64 = 365 * 24 * 3600;

/// What every page template receives.
pub struct PageBase {
    pub t: Tr,
    pub large_text: bool,
    pub csrf: String,
    pub user_name: Option<String>,
    /// The navigation the modules give this actor: (href, text key), in rank order.
    pub nav: Vec<(&'static str, &'static str)>,
    pub title: String,
    /// The path of this page, for the language and text-size links.
    pub path: String,
    /// The page's own query (without the shell's switches), kept by those links.
    pub query: Option<String>,
    /// The log's hash algorithm, for pages that check inclusion proofs in the browser.
    pub ledger_hash: Option<&'static str>,
    /// The region's time zone, in which every time on the page is shown (`UTC+08:00`).
    pub zone_label: String,
    /// For a citizen or an enterprise: the tab bar a phone shows at the bottom.
    pub holder: bool,
}

/// The page context of a request: who is logged in (if anyone), the interface preferences
/// (from `?lang=`/`?large=`, then the account, then cookies), and the CSRF token.
pub struct PageCtx {
    pub actor: Option<Actor>,
    pub raw_session: Option<String>,
    pub t: Tr,
    pub large_text: bool,
    pub csrf: String,
    /// The region's time zone, in which the page shows times.
    pub zone: tongban_core::Zone,
    /// The links of the navigation for this actor, from every module.
    nav: Vec<(&'static str, &'static str)>,
    path: String,
    query: Option<String>,
    /// For a page read (GET), where to come back to after signing in.
    return_to: Option<String>,
    set_cookies: Vec<HeaderValue>,
}

/// The page-shell parameters every page accepts besides its own: the language and text-size
/// switches.
pub const SHELL_PARAMETERS: [&str; 2] = ["lang", "large"];

/// The query string without the shell's parameters (`None` when nothing else is left).
pub fn own_query(query: Option<&str>) -> Option<String> {
    let kept: Vec<&str> = query?
        .split('&')
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name);
            !pair.is_empty() && !SHELL_PARAMETERS.contains(&name)
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

fn query_value<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let raw_session = cookies::get(&parts.headers, cookies::SESSION);
        let actor = match &raw_session {
            Some(raw) => service::actor_from_session(state, raw)
                .await
                .map_err(PageError::new)?,
            None => None,
        };
        let query = parts.uri.query();
        let asked_language = query_value(query, "lang").and_then(Language::parse);
        let asked_large = query_value(query, "large").map(|v| v == "1");
        let mut set_cookies = Vec::new();
        let (language, large_text) = match &actor {
            Some(actor) => {
                let language = asked_language.unwrap_or(actor.account.language);
                let large = asked_large.unwrap_or(actor.account.large_text);
                if asked_language.is_some() || asked_large.is_some() {
                    store::set_preferences(state.pool(), actor.id(), language, large)
                        .await
                        .map_err(PageError::new)?;
                    crate::cache::account_changed(state, actor.id()).await;
                }
                (language, large)
            }
            None => {
                let language = asked_language
                    .or_else(|| {
                        cookies::get(&parts.headers, cookies::LANGUAGE)
                            .and_then(|v| Language::parse(&v))
                    })
                    .unwrap_or_default();
                let large = asked_large.unwrap_or_else(|| {
                    cookies::get(&parts.headers, cookies::LARGE_TEXT).as_deref() == Some("1")
                });
                if asked_language.is_some() {
                    set_cookies.push(cookies::set(
                        cookies::LANGUAGE,
                        language.as_str(),
                        false,
                        Some(YEAR_SECONDS),
                    ));
                }
                if asked_large.is_some() {
                    set_cookies.push(cookies::set(
                        cookies::LARGE_TEXT,
                        if large { "1" } else { "0" },
                        false,
                        Some(YEAR_SECONDS),
                    ));
                }
                (language, large)
            }
        };
        let csrf = match actor.as_ref().map(|a| &a.credential) {
            Some(Credential::Session { csrf_token }) => csrf_token.clone(),
            _ => match cookies::get(&parts.headers, cookies::ANON_CSRF) {
                Some(token) => token,
                None => {
                    let token = random::secret_token();
                    set_cookies.push(cookies::set(cookies::ANON_CSRF, &token, true, None));
                    token
                }
            },
        };
        let nav = navigation(state, actor.as_ref());
        Ok(PageCtx {
            actor,
            raw_session,
            t: Tr(language),
            large_text,
            csrf,
            zone: state.zone(),
            nav,
            path: parts.uri.path().to_owned(),
            query: own_query(parts.uri.query()),
            return_to: (parts.method == axum::http::Method::GET).then(|| {
                parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned())
            }),
            set_cookies,
        })
    }
}

/// Every module's links for the actor (for a visitor, the public ones), in rank order.
fn navigation(state: &AppState, actor: Option<&Actor>) -> Vec<(&'static str, &'static str)> {
    let mut links: Vec<_> = crate::module::modules(state)
        .iter()
        .flat_map(|module| match actor {
            Some(actor) => module.nav(actor),
            None => module.public_nav(),
        })
        .collect();
    links.sort_by_key(|link| link.rank);
    links
        .into_iter()
        .map(|link| (link.href, link.text))
        .collect()
}

impl PageBase {
    /// This page's address with one shell switch set (`lang=en`, `large=1`), keeping the page's
    /// own query: a switch never loses the search a person typed.
    pub fn switch(&self, name: &str, value: &str) -> String {
        match &self.query {
            Some(query) => format!("{}?{query}&{name}={value}", self.path),
            None => format!("{}?{name}={value}", self.path),
        }
    }
}

impl PageCtx {
    pub fn base(&self, title_key: &str) -> PageBase {
        PageBase {
            t: self.t,
            large_text: self.large_text,
            csrf: self.csrf.clone(),
            user_name: self.actor.as_ref().map(|a| a.account.display_name.clone()),
            nav: self.nav.clone(),
            title: self.t.get(title_key).to_owned(),
            path: self.path.clone(),
            query: self.query.clone(),
            ledger_hash: None,
            zone_label: self.zone.label(),
            holder: self.actor.as_ref().is_some_and(|a| {
                matches!(
                    a.account.kind,
                    crate::identity::model::AccountKind::Citizen
                        | crate::identity::model::AccountKind::Enterprise
                )
            }),
        }
    }

    /// The logged-in actor, or a redirect to the login page.
    pub fn actor(&self) -> Result<&Actor, PageError> {
        self.actor
            .as_ref()
            .ok_or_else(|| self.error(AppError::Unauthenticated))
    }

    /// What the modules' home sections are rendered for: the logged-in actor (or a redirect
    /// to the login page), the language and the CSRF token.
    pub fn home(&self) -> Result<crate::module::HomeCtx<'_>, PageError> {
        Ok(crate::module::HomeCtx {
            actor: self.actor()?,
            t: self.t,
            csrf: &self.csrf,
            large_text: self.large_text,
        })
    }

    /// Checks a submitted form's CSRF token against the session's (or the visitor's) token.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if tokens_match(sent, &self.csrf) {
            Ok(())
        } else {
            Err(self.error(AppError::Csrf))
        }
    }

    pub fn error(&self, error: AppError) -> PageError {
        PageError {
            error,
            language: Some(self.t.0),
            large_text: self.large_text,
            return_to: self.return_to.clone(),
        }
    }

    pub fn add_cookie(&mut self, cookie: HeaderValue) {
        self.set_cookies.push(cookie);
    }

    /// Renders a template into a response that carries any cookies the context set.
    pub fn render(&self, template: &impl Template) -> Response {
        match template.render() {
            Ok(html) => self.finish(Html(html).into_response()),
            Err(error) => self.error(AppError::Internal(error.into())).into_response(),
        }
    }

    pub fn redirect(&self, to: &str) -> Response {
        self.finish(Redirect::to(to).into_response())
    }

    fn finish(&self, mut response: Response) -> Response {
        for cookie in &self.set_cookies {
            response
                .headers_mut()
                .append(header::SET_COOKIE, cookie.clone());
        }
        response
    }
}

/// The localized name of a role.
pub fn role_name(t: &Tr, role: Role) -> String {
    t.get(&format!("role.{}", role.as_str())).to_owned()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    base: PageBase,
    message: String,
    detail: Option<String>,
    bilingual: Option<String>,
}

/// An error shown as a page, in the user's language (in both when it is not known yet).
#[derive(Debug)]
pub struct PageError {
    pub error: AppError,
    language: Option<Language>,
    large_text: bool,
    /// The page a visitor who must sign in comes back to afterwards.
    return_to: Option<String>,
}

impl PageError {
    pub fn new(error: AppError) -> PageError {
        PageError {
            error,
            language: None,
            large_text: false,
            return_to: None,
        }
    }
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        PageError::new(error)
    }
}

/// Renders an error page for a status and problem slug.
pub fn error_page(
    status: StatusCode,
    slug: &str,
    detail: Option<String>,
    language: Option<Language>,
    large_text: bool,
) -> Response {
    let t = Tr(language.unwrap_or_default());
    let key = format!("problem.{slug}");
    let page = ErrorPage {
        base: PageBase {
            t,
            large_text,
            csrf: String::new(),
            user_name: None,
            nav: Vec::new(),
            title: t.get("error.title").to_owned(),
            path: "/".into(),
            query: None,
            ledger_hash: None,
            zone_label: String::new(),
            holder: false,
        },
        message: t.get(&key).to_owned(),
        detail,
        bilingual: language
            .is_none()
            .then(|| Tr(Language::En).get(&key).to_owned()),
    };
    let html = page.render().unwrap_or_else(|_| "error".to_owned());
    (status, Html(html)).into_response()
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self.error {
            AppError::Unauthenticated => match self.return_to {
                Some(path) => Redirect::to(&format!(
                    "/login?{}",
                    serde_urlencoded::to_string([("next", path)]).unwrap_or_default()
                ))
                .into_response(),
                None => Redirect::to("/login").into_response(),
            },
            error => {
                if let AppError::Internal(source) = &error {
                    tracing::error!(error = %source, "internal error on a page");
                }
                let detail = match &error {
                    AppError::Invalid { field, reason } => Some(format!("{field}: {reason}")),
                    AppError::Conflict(text)
                    | AppError::BadRequest(text)
                    | AppError::NotAuthorised(text) => Some(text.clone()),
                    _ => None,
                };
                let mut response = error_page(
                    error.status(),
                    error.slug(),
                    detail,
                    self.language,
                    self.large_text,
                );
                if let AppError::LockedOut {
                    retry_after_seconds,
                } = error
                    && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string())
                {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
        }
    }
}
