//! The providers behind the gateway: the platform's own registries, served in process, and a
//! department's external HTTP service, named by its base address in the catalogue. A provider
//! answers a status, a content type and a body; the gateway filters and signs what comes back.

use std::time::Duration;

use axum::http::Method;
use serde_json::{Value, json};

pub use super::calls::{Answer, Call, Failure, MAX_ANSWER_BYTES};
use super::calls::{json_answer, problem};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The registries the platform serves itself, by the name a resource's `service` gives.
pub const REGISTRIES: [&str; 5] = [
    "enterprise-registry",
    "population-registry",
    "digital-registry",
    "certificate-library",
    "application-registry",
];

/// The endpoints of a registry, for `listMethods` and its OpenAPI description.
pub fn registry_endpoints(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "enterprise-registry" => &[
            ("GET", "/enterprises"),
            ("GET", "/enterprises.csv"),
            ("GET", "/enterprises/*"),
        ],
        "population-registry" => &[("GET", "/persons/*")],
        "certificate-library" => &[("POST", "/certificates/use")],
        "application-registry" => &[("GET", "/applications/*")],
        "digital-registry" => &[
            ("GET", "/data/*/*"),
            ("POST", "/data/*/*/read"),
            ("POST", "/data/*/*/exists"),
        ],
        _ => &[],
    }
}

/// Whether `service` names a provider the gateway can call: a registry, a provider another
/// module registered, or an `http(s)://` base address.
pub fn valid_service(state: &AppState, service: &str) -> bool {
    REGISTRIES.contains(&service)
        || state.module::<InProcess>().get(service).is_some()
        || external_base(service).is_some()
}

/// The endpoints of a provider the platform serves itself (a registry or a registered
/// provider), or `None` for an external system.
pub fn own_endpoints(
    state: &AppState,
    name: &str,
) -> Option<&'static [(&'static str, &'static str)]> {
    if REGISTRIES.contains(&name) {
        return Some(registry_endpoints(name));
    }
    state.module::<InProcess>().get(name).map(|p| p.endpoints())
}

/// The names a resource's `service` may give for a provider the platform serves.
pub fn own_names(state: &AppState) -> Vec<&'static str> {
    let mut names = REGISTRIES.to_vec();
    names.extend(state.module::<InProcess>().names());
    names
}

/// A provider another module serves in process behind the gateway (跨省通办's intake): the
/// gateway calls it as it calls its own registries — after checking the grant, and filtering
/// and signing what it answers.
pub trait Provider: Send + Sync + 'static {
    /// The endpoints it answers (method, path with `*` for one segment).
    fn endpoints(&self) -> &'static [(&'static str, &'static str)];
    fn call<'a>(
        &'a self,
        call: &'a Call<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = AppResult<Answer>> + Send + 'a>>;
}

/// The providers modules registered, by name. The exchange module makes the list when the
/// node starts; a module listed after it registers its own in its `init`.
#[derive(Default)]
pub struct InProcess(std::sync::RwLock<Vec<(&'static str, std::sync::Arc<dyn Provider>)>>);

impl InProcess {
    /// Registers `provider` under `name` (a later registration of a name replaces it).
    pub fn register(&self, name: &'static str, provider: std::sync::Arc<dyn Provider>) {
        if let Ok(mut list) = self.0.write() {
            list.retain(|(known, _)| *known != name);
            list.push((name, provider));
        }
    }

    pub fn get(&self, name: &str) -> Option<std::sync::Arc<dyn Provider>> {
        self.0
            .read()
            .ok()?
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, provider)| provider.clone())
    }

    fn names(&self) -> Vec<&'static str> {
        self.0
            .read()
            .map(|list| list.iter().map(|(name, _)| *name).collect())
            .unwrap_or_default()
    }
}

fn external_base(service: &str) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(service).ok()?;
    (matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && service.len() <= 300)
        .then_some(url)
}

/// The client that calls external providers: no redirects followed (PR-REST 4.4), no proxy
/// from the environment, a connection pool per node.
pub struct HttpProviders {
    pub(super) client: reqwest::Client,
}

impl HttpProviders {
    pub fn new(config: &tongban_platform::config::Config) -> HttpProviders {
        let client = tongban_platform::outbound::builder(config)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()
            .expect("a client of the platform's TLS settings builds");
        HttpProviders { client }
    }
}

impl HttpProviders {
    /// Posts `body` to `url` (a subscriber's push address): the status, or why there is none.
    pub async fn post(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
        headers: &[(&str, String)],
    ) -> Result<u16, String> {
        let mut request = self.client.post(url).timeout(timeout).body(body);
        for (name, value) in headers {
            request = request.header(*name, value.as_str());
        }
        match request.send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(error) if error.is_timeout() => Err("no answer in time".into()),
            Err(_) => Err("the address could not be reached".into()),
        }
    }
}

/// Calls the provider `service` names.
pub async fn call(service: &str, call: &Call<'_>, timeout: Duration) -> Result<Answer, Failure> {
    match service {
        "enterprise-registry" => enterprises(call).await.map_err(Failure::Platform),
        "population-registry" => persons(call).await.map_err(Failure::Platform),
        "digital-registry" => registry(call).await.map_err(Failure::Platform),
        "certificate-library" => super::held::certificates(call)
            .await
            .map_err(Failure::Platform),
        "application-registry" => super::held::applications(call)
            .await
            .map_err(Failure::Platform),
        _ => {
            if let Some(provider) = call.state.module::<InProcess>().get(service) {
                return provider.call(call).await.map_err(Failure::Platform);
            }
            match external_base(service) {
                Some(base) => external(&base, call, timeout).await,
                None => Err(Failure::Unreachable(
                    "the resource names no provider".into(),
                )),
            }
        }
    }
}

/// Headers the gateway never passes on (hop-by-hop ones, those naming the origin host, and
/// its own credentials), PR-REST 4.3.
pub fn filtered_header(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-authenticate"
            | "proxy-authorization"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "user-agent"
            | "server"
            | "authorization"
            | "cookie"
            | "set-cookie"
            | "x-csrf-token"
            | "content-length"
            | "expect"
    ) || name.starts_with("x-road-")
        || name.starts_with("x-tongban-")
}

async fn external(
    base: &reqwest::Url,
    call: &Call<'_>,
    timeout: Duration,
) -> Result<Answer, Failure> {
    let mut target = base.as_str().trim_end_matches('/').to_owned();
    target.push_str(call.path);
    if let Some(query) = call.query {
        target.push('?');
        target.push_str(query);
    }
    let url = reqwest::Url::parse(&target)
        .map_err(|_| Failure::Unreachable("the provider address is not valid".into()))?;
    // The path cannot move the call to another host: the origin stays the registered one.
    if url.origin() != base.origin() {
        return Err(Failure::Unreachable(
            "the provider address is not valid".into(),
        ));
    }
    let mut request = call
        .state
        .module::<HttpProviders>()
        .client
        .request(call.method.clone(), url)
        .timeout(timeout)
        .body(call.body.to_vec());
    for (name, value) in &call.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.map_err(|error| {
        if error.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Unreachable(if error.is_connect() {
                "the provider could not be reached".into()
            } else {
                "the provider broke off".into()
            })
        }
    })?;
    read_answer(response).await
}

/// Reads an answer whole (up to [`MAX_ANSWER_BYTES`]), keeping its content type and the
/// headers that may pass on.
pub async fn read_answer(mut response: reqwest::Response) -> Result<Answer, Failure> {
    let status = response.status().as_u16();
    let mut content_type = None;
    let mut headers = Vec::new();
    for (name, value) in response.headers() {
        let Ok(value) = value.to_str() else { continue };
        if name == reqwest::header::CONTENT_TYPE {
            content_type = Some(value.to_owned());
        } else if !filtered_header(name.as_str()) {
            headers.push((name.as_str().to_owned(), value.to_owned()));
        }
    }
    let mut body = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|error| {
            if error.is_timeout() {
                Failure::Timeout
            } else {
                Failure::Unreachable("the provider broke off".into())
            }
        })?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(Failure::Unreachable(format!(
                "the provider's answer is larger than {} MiB",
                MAX_ANSWER_BYTES >> 20
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        content_type,
        body,
        headers,
    })
}

fn query_value<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The enterprise register (企业登记): one enterprise by USCC, a district's list, or all of
/// them as CSV. Nothing in it is personal.
async fn enterprises(call: &Call<'_>) -> AppResult<Answer> {
    if call.method != Method::GET {
        return Ok(problem(
            405,
            "Method Not Allowed",
            "the register is read with GET",
        ));
    }
    let zone = call.state.config.time_zone;
    let row = |(uscc, name, region, created): (String, String, String, i64)| {
        json!({
            "uscc": uscc,
            "name": name,
            "region_code": region,
            "registered_on": tongban_core::zone::ymd(zone.date_of(created)),
        })
    };
    const COLUMNS: &str = "SELECT uscc, name, region_code, created_at FROM enterprises";
    if let Some(uscc) = call.path.strip_prefix("/enterprises/") {
        let found: Option<(String, String, String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE uscc = $1")))
                .bind(uscc.to_owned())
                .fetch_optional(call.state.pool())
                .await?;
        return Ok(match found {
            Some(found) => json_answer(200, &row(found)),
            None => problem(404, "Not Found", "no enterprise of this USCC is registered"),
        });
    }
    let csv = call.path == "/enterprises.csv";
    if call.path != "/enterprises" && !csv {
        return Ok(problem(
            404,
            "Not Found",
            "no such path in the enterprise register",
        ));
    }
    let region = query_value(call.query, "region").unwrap_or("");
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{COLUMNS} WHERE ($1 = '' OR region_code = $1) ORDER BY uscc LIMIT 10000"
    )))
    .bind(region.to_owned())
    .fetch_all(call.state.pool())
    .await?;
    if csv {
        let mut writer = ::csv::Writer::from_writer(Vec::new());
        let header = writer.write_record(["uscc", "name", "region_code", "registered_on"]);
        for (uscc, name, region, created) in rows {
            let day = tongban_core::zone::ymd(zone.date_of(created));
            writer
                .write_record([uscc.as_str(), &name, &region, &day])
                .map_err(|e| AppError::Internal(e.into()))?;
        }
        header.map_err(|e| AppError::Internal(e.into()))?;
        let body = writer
            .into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
        return Ok(Answer {
            status: 200,
            content_type: Some("text/csv; charset=utf-8".into()),
            body,
            headers: Vec::new(),
        });
    }
    let records: Vec<Value> = rows.into_iter().map(row).collect();
    Ok(json_answer(
        200,
        &json!({"total": records.len(), "records": records}),
    ))
}

/// The population register (人口基础信息): one person by ID number, read through the audited
/// accessor, which opens only the granted fields and records the read in the person's view.
async fn persons(call: &Call<'_>) -> AppResult<Answer> {
    if call.method != Method::GET {
        return Ok(problem(
            405,
            "Method Not Allowed",
            "the register is read with GET",
        ));
    }
    let Some(number) = call.path.strip_prefix("/persons/") else {
        return Ok(problem(
            404,
            "Not Found",
            "no such path in the population register",
        ));
    };
    let Ok(resident_id) = number.parse::<tongban_core::ResidentId>() else {
        return Ok(problem(
            400,
            "Bad Request",
            "not a valid resident ID number",
        ));
    };
    let not_found = || {
        problem(
            404,
            "Not Found",
            "no person of this ID number is registered",
        )
    };
    let Some(person_id) =
        crate::identity::personal::person_id_by_resident_id(call.state, &resident_id).await?
    else {
        return Ok(not_found());
    };
    let fields: Vec<&str> = call.granted.iter().map(String::as_str).collect();
    let mut record = serde_json::Map::new();
    for (field, value) in crate::identity::personal::read_person_shared(
        call.state,
        call.actor,
        &person_id,
        &fields,
        call.message_id,
    )
    .await?
    {
        record.insert(field.to_owned(), Value::String(value.expose().to_owned()));
    }
    Ok(json_answer(200, &Value::Object(record)))
}

/// A department's digital registry of the resource, read by another department under its
/// grant: `GET /data/{registry}/{version}` (list), `POST …/read`, `POST …/exists`. Writing is
/// the owner's, through the Data API itself.
async fn registry(call: &Call<'_>) -> AppResult<Answer> {
    use crate::registries::{api as data, service};
    let parts: Vec<&str> = call.path.trim_start_matches('/').split('/').collect();
    let (name, version, operation) = match parts.as_slice() {
        ["data", name, version] => (*name, *version, ""),
        ["data", name, version, op] => (*name, *version, *op),
        _ => {
            return Ok(problem(
                404,
                "Not Found",
                "the registry is read at /data/{registry}/{version}",
            ));
        }
    };
    let registry = match service::open(call.state, name, version).await {
        Ok(registry) if registry.resource.code == call.resource => registry,
        Ok(_) | Err(AppError::NotFound) => {
            return Ok(problem(
                404,
                "Not Found",
                "no such registry of this resource",
            ));
        }
        Err(other) => return Err(other),
    };
    let granted = Some(service::SharedRead {
        granted: call.granted,
        message_id: call.message_id,
    });
    let body = || -> AppResult<serde_json::Map<String, Value>> {
        let value: Value = serde_json::from_slice(call.body)
            .map_err(|_| AppError::invalid("query", "the body is not JSON"))?;
        match value.get("query").and_then(|q| q.get("content")) {
            Some(Value::Object(map)) => Ok(map.clone()),
            _ => Err(AppError::invalid(
                "query",
                "query.content must be an object",
            )),
        }
    };
    let outcome = match (call.method.as_str(), operation) {
        ("GET", "") => {
            let uri: axum::http::Uri = format!("/?{}", call.query.unwrap_or(""))
                .parse()
                .map_err(|_| AppError::invalid("query", "not a query string"))?;
            let params =
                axum::extract::Query::<std::collections::HashMap<String, String>>::try_from_uri(
                    &uri,
                )
                .map_err(|_| AppError::invalid("query", "not a query string"))?
                .0;
            match data::list_query(&params) {
                Ok(query) => service::list(call.state, call.actor, &registry, &query, granted)
                    .await
                    .map(|v| json_answer(200, &v)),
                Err(e) => Err(e),
            }
        }
        ("POST", "read") => match body() {
            Ok(query) => service::read(call.state, call.actor, &registry, &query, granted)
                .await
                .map(|found| match found {
                    Some(content) => json_answer(200, &json!({"content": content})),
                    None => json_answer(404, &json!({"detail": "no record found"})),
                }),
            Err(e) => Err(e),
        },
        ("POST", "exists") => match body() {
            Ok(query) => service::exists(call.state, call.actor, &registry, &query)
                .await
                .map(|found| json_answer(200, &data::exists_answer(found))),
            Err(e) => Err(e),
        },
        _ => {
            return Ok(problem(
                405,
                "Method Not Allowed",
                "another department reads a registry: list, read, exists",
            ));
        }
    };
    match outcome {
        Ok(answer) => Ok(answer),
        Err(AppError::Invalid { field, reason }) => Ok(problem(
            422,
            "Unprocessable Entity",
            &format!("{field}: {reason}"),
        )),
        Err(other) => Err(other),
    }
}
