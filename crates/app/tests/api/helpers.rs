//! `spawn_app()`: a tongban node on port 0 with the demo seeded, a manual clock and a client.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::header::{COOKIE, HeaderMap, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tongban_app::demo::{self, DemoAccount, DemoCredentials};
use tongban_app::identity::totp;
use tongban_app::{AppState, Application, Config, Db};
use tongban_core::{Clock, ManualClock};

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub client: reqwest::Client,
    pub demo: DemoCredentials,
    pub database_url: String,
    pub dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh, empty database URL: a new SQLite file, or a new PostgreSQL database when
/// TONGBAN_TEST_DATABASE_URL names a server.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match test_server() {
        Some(admin_url) => {
            let name = format!("tb_test_{}", uuid::Uuid::new_v4().simple());
            create_database(&admin_url, &name, None).await;
            database_url(&admin_url, &name)
        }
        None => format!("sqlite://{}?mode=rwc", dir.join("tongban.db").display()),
    }
}

/// A fresh database with every migration applied, as `tongban migrate` leaves it. On
/// PostgreSQL a copy of a template migrated once per test process (a copy costs a fraction
/// of running the migrations again); SQLite's node migrates its new file when it opens it.
pub async fn fresh_migrated_database(dir: &std::path::Path) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let Some(admin_url) = test_server() else {
        return fresh_database(dir).await;
    };
    let template = TEMPLATE
        .get_or_init(|| async {
            let name = format!("tb_test_template_{}", uuid::Uuid::new_v4().simple());
            create_database(&admin_url, &name, None).await;
            migrate_if_postgres(&database_url(&admin_url, &name)).await;
            name
        })
        .await;
    let name = format!("tb_test_{}", uuid::Uuid::new_v4().simple());
    create_database(&admin_url, &name, Some(template)).await;
    database_url(&admin_url, &name)
}

fn test_server() -> Option<String> {
    std::env::var("TONGBAN_TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

async fn create_database(admin_url: &str, name: &str, template: Option<&str>) {
    let admin = Db::connect(admin_url, 1)
        .await
        .expect("connect to the PostgreSQL server for tests");
    let sql = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(admin.pool())
        .await
        .expect("create a test database");
    admin.close().await;
}

/// The URL of database `name` on the server `admin_url` names, its parameters kept.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map(|(b, q)| (b, Some(q)))
        .unwrap_or((admin_url, None));
    let prefix = base
        .rsplit_once('/')
        .map(|(prefix, _)| prefix)
        .unwrap_or(base);
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// The PostgreSQL migration step a deployment runs before starting nodes (`tongban migrate`).
pub async fn migrate_if_postgres(url: &str) {
    if url.starts_with("postgres") {
        let db = Db::connect(url, 1).await.expect("connect");
        tongban_app::migrate(&db).await.expect("migrate");
        db.close().await;
    }
}

/// A node of the demo city as [`spawn_app_with`] makes it with the default configuration,
/// started from a copy of a city seeded once per test process and hour (the seeding costs
/// far more than the copy). The copy is the seeded node's database and data directory, its
/// master key and the credentials the seeding handed out: a restart of that node, as a
/// deployment restarts, with a clock of its own set to now.
pub async fn spawn_app() -> TestApp {
    let seeded = seeded_city();
    let dir = new_data_dir();
    let database_url = match &seeded.database {
        Some(template) => {
            let admin_url = test_server().expect("the seeded city is on the test server");
            let name = format!("tb_test_{}", uuid::Uuid::new_v4().simple());
            create_database(&admin_url, &name, Some(template)).await;
            database_url(&admin_url, &name)
        }
        None => {
            copy_dir(&seeded.dir, &dir);
            format!("sqlite://{}?mode=rwc", dir.join("tongban.db").display())
        }
    };
    let config = test_config(&dir, &database_url, &seeded.master_key);
    let (app, address, state, clock) = open_node(config).await;
    let demo = DemoCredentials {
        base_url: address.clone(),
        ..seeded.demo.clone()
    };
    serve(app, address, state, clock, demo, database_url, dir)
}

/// A node of the demo city with its configuration adjusted, seeded from the start.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let dir = new_data_dir();
    let database_url = fresh_migrated_database(&dir).await;
    let master_key = tongban_app::keys::master::generate_text().to_string();
    let mut config = test_config(&dir, &database_url, &master_key);
    adjust(&mut config);
    let (app, address, state, clock) = open_node(config).await;
    let demo = demo::seed(&state, &address).await.expect("seed demo");
    serve(app, address, state, clock, demo, database_url, dir)
}

fn new_data_dir() -> PathBuf {
    // Every node seeds the demo's accounts, each password hashed: at Argon2's lightest (the
    // suite's own setting; deployments and the demo keep OWASP's).
    tongban_app::identity::password::use_light_hashes_for_tests();
    let dir = std::env::temp_dir().join(format!("tongban-test-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn test_config(dir: &std::path::Path, database_url: &str, master_key: &str) -> Config {
    Config {
        master_key: Some(tongban_app::config::SecretText(master_key.to_owned())),
        data_dir: dir.to_path_buf(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        database_url: Some(database_url.to_owned()),
        max_db_connections: 5,
        // The demo city's deployment: its health authority is the city's.
        region_code: tongban_app::demo::CITY.into(),
        // Five weeks of drawn figures would add to what the tests count.
        demo_ops_history: false,
        ..Config::default()
    }
}

async fn open_node(config: Config) -> (Application, String, AppState, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let state = tongban_app::open_state(config, clock.clone())
        .await
        .expect("open state");
    let app = Application::build(state.clone()).await.expect("bind");
    let address = format!("http://{}", app.local_addr().expect("addr"));
    (app, address, state, clock)
}

fn serve(
    app: Application,
    address: String,
    state: AppState,
    clock: Arc<ManualClock>,
    demo: DemoCredentials,
    database_url: String,
    dir: PathBuf,
) -> TestApp {
    let (shutdown, stop) = tokio::sync::oneshot::channel();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stop.await;
    }));
    let client = tongban_app::outbound::plain()
        .redirect(Policy::none())
        .build()
        .expect("client");
    TestApp {
        address,
        state,
        clock,
        client,
        demo,
        database_url,
        dir,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

/// The demo city seeded once: its node's data directory (with the SQLite database) or its
/// PostgreSQL database (a template to copy), the master key its secrets are sealed under,
/// and the credentials the seeding handed out.
struct SeededCity {
    hour: i64,
    dir: PathBuf,
    database: Option<String>,
    master_key: String,
    demo: DemoCredentials,
}

static SEEDED: std::sync::Mutex<Option<Arc<SeededCity>>> = std::sync::Mutex::new(None);

/// The city seeded in this hour, seeding it when there is none: within the hour a test's
/// node starts on the day and in the hour its data was made in, as a fresh seeding would.
fn seeded_city() -> Arc<SeededCity> {
    let hour = OffsetDateTime::now_utc().unix_timestamp().div_euclid(3600);
    let mut kept = SEEDED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(seeded) = kept.as_ref().filter(|seeded| seeded.hour == hour) {
        return seeded.clone();
    }
    // In a runtime of its own, so that nothing of the seeding node outlives it.
    let seeded = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(seed_city(hour))
    })
    .join()
    .expect("seed the demo city");
    if let Some(old) = kept.take()
        && Arc::strong_count(&old) == 1
        && old.database.is_none()
    {
        let _ = std::fs::remove_dir_all(&old.dir);
    }
    let seeded = Arc::new(seeded);
    *kept = Some(seeded.clone());
    seeded
}

async fn seed_city(hour: i64) -> SeededCity {
    let dir = new_data_dir();
    let database_url = fresh_migrated_database(&dir).await;
    let master_key = tongban_app::keys::master::generate_text().to_string();
    let config = test_config(&dir, &database_url, &master_key);
    let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
    let state = tongban_app::open_state(config, clock)
        .await
        .expect("open state");
    let demo = demo::seed(&state, "http://seeded.invalid")
        .await
        .expect("seed demo");
    // What the seeding counted, stored as a stopping node stores it.
    tongban_app::figures::flush(&state).await.expect("figures");
    state.pool().close().await;
    let database = database_url
        .starts_with("postgres")
        .then(|| database_url.rsplit('/').next().unwrap_or_default())
        .map(|name| name.split('?').next().unwrap_or_default().to_owned());
    SeededCity {
        hour,
        dir,
        database,
        master_key,
        demo,
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).expect("read the seeded directory") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("dir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy the seeded file");
        }
    }
}

impl TestApp {
    /// A second node serving the same database with the same configuration and clock (a
    /// process of its own would hold nothing else in common): its state and its address.
    /// It serves until the test ends.
    pub async fn second_node(&self) -> (AppState, String) {
        let state = tongban_app::open_state((*self.state.config).clone(), self.clock.clone())
            .await
            .expect("second node");
        let app = Application::build(state.clone()).await.expect("bind");
        let address = format!("http://{}", app.local_addr().expect("addr"));
        tokio::spawn(app.run_until(std::future::pending()));
        (state, address)
    }

    /// Stops the node: it finishes the requests in flight and closes its address.
    pub async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), server).await;
        }
    }

    /// Stops the node and waits however long it takes.
    pub async fn stop_and_wait(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Starts the stopped node again on the same address over the same database, as a new
    /// process would: nothing of its memory is kept.
    pub async fn start(&mut self) {
        let mut config = (*self.state.config).clone();
        config.bind = self
            .address
            .trim_start_matches("http://")
            .parse()
            .expect("address");
        let state = tongban_app::open_state(config, self.clock.clone())
            .await
            .expect("open state");
        let app = Application::build(state.clone()).await.expect("bind");
        let (shutdown, stop) = tokio::sync::oneshot::channel();
        self.server = Some(tokio::spawn(app.run_until(async move {
            let _ = stop.await;
        })));
        self.shutdown = Some(shutdown);
        self.state = state;
    }

    pub fn account(&self, username: &str) -> &DemoAccount {
        self.demo
            .accounts
            .iter()
            .find(|a| a.username == username)
            .unwrap_or_else(|| panic!("no demo account {username}"))
    }

    pub fn first_with_role(&self, role: &str) -> &DemoAccount {
        self.demo
            .accounts
            .iter()
            .find(|a| a.role == role)
            .unwrap_or_else(|| panic!("no demo account with role {role}"))
    }

    /// The app's clock in Unix seconds, as offline verifiers take the time.
    pub fn now_seconds(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// The current one-time code of an account, by the app's clock.
    pub fn totp_now(&self, account: &DemoAccount) -> String {
        let secret = account
            .totp_secret
            .as_deref()
            .expect("account has a TOTP secret");
        totp::current_code(secret, self.clock.now().unix_timestamp()).expect("code")
    }

    pub async fn api_login(
        &self,
        username: &str,
        password: &str,
        totp: Option<&str>,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password, "totp": totp}))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// The second step of a trust change: a proposal (202) is approved by the second security
    /// administrator, and the approval's status returned; any other answer's status as it is.
    pub async fn approve_trust(&self, response: reqwest::Response) -> u16 {
        if response.status() != 202 {
            return response.status().as_u16();
        }
        let body: Value = response.json().await.expect("json");
        let id = body["proposal"].as_str().expect("a proposal");
        self.post_as(
            &self.account("demo.secadmin2").api_token,
            &format!("/api/v1/admin/trust-proposals/{id}/approve"),
            &json!({}),
        )
        .await
        .status()
        .as_u16()
    }

    /// Trusts EU DCC signers (gateway JSON entries) as a national backend would hand them
    /// over: a list signer's key is trusted first (two security administrators), then the
    /// signers come in a list that key signed (two again). Returns the list signer.
    pub async fn trust_dcc_signers(&self, entries: &Value) -> tongban_crypto::SoftwareSigner {
        use base64::Engine as _;
        use tongban_crypto::Signer as _;
        let signer = tongban_crypto::SoftwareSigner::generate(
            tongban_crypto::SignatureAlgorithm::Es256,
            "list-signer",
        );
        let admin = self.account("demo.secadmin").api_token.clone();
        let key = base64::engine::general_purpose::STANDARD.encode(signer.public_key().bytes);
        let anchor = self
            .post_as(
                &admin,
                "/api/v1/admin/dcc-signers",
                &json!([{"certificateType": "LIST_SIGNER", "rawData": key}]),
            )
            .await;
        assert_eq!(self.approve_trust(anchor).await, 204, "the list signer");
        let signed = tongban_app::trust::dcc::sign_signer_list(&entries.to_string(), &signer);
        let list = self
            .post_as(
                &admin,
                "/api/v1/admin/dcc-signers",
                &json!({"signed": signed}),
            )
            .await;
        assert_eq!(self.approve_trust(list).await, 204, "the signed list");
        signer
    }

    /// An `Information-Mediator-Client` this deployment knows: a portal of the city's
    /// government-services department (`CN/GOV/<its USCC>/portal`).
    pub async fn govstack_client(&self) -> String {
        let departments = tongban_app::admin::store::departments(self.state.pool())
            .await
            .expect("departments");
        let uscc = departments
            .iter()
            .find_map(|d| d.uscc.clone())
            .expect("a department with a USCC");
        format!("CN/GOV/{uscc}/portal")
    }

    /// The id of the person behind a demo citizen account.
    pub async fn person_id_of(&self, username: &str) -> String {
        let me: Value = self
            .get_as(&self.account(username).api_token, "/api/v1/me")
            .await
            .json()
            .await
            .expect("json");
        me["person_id"].as_str().expect("person id").to_owned()
    }

    pub async fn account_id_of(&self, username: &str) -> String {
        let me: Value = self
            .get_as(&self.account(username).api_token, "/api/v1/me")
            .await
            .json()
            .await
            .expect("json");
        me["account_id"].as_str().expect("account id").to_owned()
    }

    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(self.state.pool())
            .await
            .expect("count")
    }

    /// Check-ins stored: those in the log and those already compacted.
    pub async fn checkins_stored(&self) -> i64 {
        self.count("checkin_log").await + self.count("checkins").await
    }

    /// Logs in through the login page and returns a browser-like session.
    pub async fn page_login(&self, account: &DemoAccount) -> Browser {
        let mut browser = Browser::default();
        let form = browser
            .get(self, "/login")
            .await
            .text()
            .await
            .expect("html");
        let csrf = hidden_csrf(&form);
        let totp = account
            .totp_secret
            .as_ref()
            .map(|_| self.totp_now(account))
            .unwrap_or_default();
        let response = browser
            .post_form(
                self,
                "/login",
                &[
                    ("csrf", csrf.as_str()),
                    ("username", &account.username),
                    ("password", &account.password),
                    ("totp", &totp),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            303,
            "page login of {} should redirect",
            account.username
        );
        assert!(
            browser
                .cookies
                .iter()
                .any(|(name, _)| name == "__Host-tongban-session")
        );
        browser
    }

    /// Logs in as a checker and scans a code on the scanner page; the page's HTML.
    pub async fn scan_on_page(&self, checker: &str, code: &str) -> String {
        let mut browser = self.page_login(self.account(checker)).await;
        let page = browser.get(self, "/scan").await.text().await.expect("html");
        let csrf = hidden_csrf(&page);
        browser
            .post_form(self, "/scan", &[("csrf", csrf.as_str()), ("code", code)])
            .await
            .text()
            .await
            .expect("html")
    }
}

/// The CSRF token in a page's first form.
pub fn hidden_csrf(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned()
}

/// A minimal cookie jar that, like a browser on localhost, keeps `Secure` cookies.
#[derive(Default)]
pub struct Browser {
    pub cookies: Vec<(String, String)>,
}

impl Browser {
    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            let pair = text.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() && !text.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> reqwest::Response {
        let response = app
            .client
            .get(app.url(path))
            .header(COOKIE, self.header())
            .send()
            .await
            .expect("request");
        self.absorb(response.headers());
        response
    }

    pub async fn post_multipart(
        &mut self,
        app: &TestApp,
        path: &str,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        let response = app
            .client
            .post(app.url(path))
            .header(COOKIE, self.header())
            .multipart(form)
            .send()
            .await
            .expect("request");
        self.absorb(response.headers());
        response
    }

    pub async fn post_form(
        &mut self,
        app: &TestApp,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let response = app
            .client
            .post(app.url(path))
            .header(COOKIE, self.header())
            .form(form)
            .send()
            .await
            .expect("request");
        self.absorb(response.headers());
        response
    }
}

pub async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        content_type, "application/problem+json",
        "status {status} should be described as problem+json"
    );
    (status, response.json().await.expect("problem json"))
}

/// A GET with a fresh client of the platform's TLS settings (where a test's own client is
/// not at hand).
pub async fn get_url(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    tongban_app::outbound::plain()
        .build()?
        .get(url)
        .send()
        .await
}

/// 个体工商户注册登记 applied for through the API by the holder of `token`, with the one
/// upload it needs; the application's id.
pub async fn apply_through_the_api(app: &TestApp, token: &str) -> String {
    let upload: serde_json::Value = app
        .client
        .post(app.url("/api/v1/uploads"))
        .bearer_auth(token)
        .body(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec())
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let applied = app
        .post_as(
            token,
            "/api/v1/services/339900-SJ-0001/applications",
            &serde_json::json!({
                "form": {"name": "清源小吃", "place": "临江市江南区河东路 8 号", "business_scope": "小吃"},
                "uploads": {"经营场所使用证明": upload["id"]},
                "use_certificates": true
            }),
        )
        .await;
    assert_eq!(applied.status(), 201);
    let applied: serde_json::Value = applied.json().await.expect("json");
    applied["id"].as_str().expect("id").to_owned()
}

/// The values a browser would send from the first form of a page that posts to `action`:
/// inputs (checkboxes only when ticked), the chosen option of each select, textareas.
pub fn form_values(html: &str, action: &str) -> Vec<(String, String)> {
    let unescape = |text: &str| {
        text.replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#38;", "&")
            .replace("&amp;", "&")
    };
    let attribute = |tag: &str, name: &str| {
        tag.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(unescape)
    };
    let start = html
        .find(&format!("action=\"{action}\""))
        .expect("the form");
    let form = &html[start..start + html[start..].find("</form>").expect("its end")];
    let mut values = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let end = rest.find('>').expect("a tag's end");
        let tag = &rest[..end];
        let name = attribute(tag, "name");
        if let Some(name) = name {
            if tag.starts_with("<input") {
                let checkbox = attribute(tag, "type").as_deref() == Some("checkbox");
                if !checkbox || tag.contains(" checked") {
                    values.push((name, attribute(tag, "value").unwrap_or_default()));
                }
            } else if tag.starts_with("<select") {
                let body = &rest[end..rest.find("</select>").expect("select end")];
                let options: Vec<&str> = body.split("<option").skip(1).collect();
                let chosen = options
                    .iter()
                    .find(|o| {
                        o.split('>')
                            .next()
                            .unwrap_or_default()
                            .contains(" selected")
                    })
                    .or(options.first())
                    .and_then(|o| attribute(o, "value"))
                    .unwrap_or_default();
                values.push((name, chosen));
            } else if tag.starts_with("<textarea") {
                let body = &rest[end + 1..rest.find("</textarea>").expect("textarea end")];
                values.push((name, unescape(body)));
            }
        }
        rest = &rest[end..];
    }
    values
}
