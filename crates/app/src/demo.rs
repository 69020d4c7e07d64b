//! The demo: a fictional prefecture city, 临江市 (Linjiang), with two districts, five
//! departments in the city and in each district, staff in every role, citizens and two
//! enterprises. Seeding reuses what exists and hands out fresh credentials each time.

use std::path::Path;

use serde::Serialize;
use tongban_core::{RegionCode, ResidentId, Uscc};

use crate::admin::service::{self as admin, By, NewAccountRequest, NewDepartment, NewRegion};
use crate::admin::store as admin_store;
use crate::error::{AppError, AppResult};
use crate::identity::model::Role;
use crate::identity::{password, personal, service as identity, store as identity_store, totp};
use crate::random;
use crate::state::AppState;

pub use tongban_platform::demo::{CITY, DemoAccount, DemoCity, JIANGBEI, JIANGNAN};

const REGIONS: [(&str, &str, &str); 10] = [
    ("000000", "中华人民共和国", "People's Republic of China"),
    ("330000", "浙江省", "Zhejiang Province"),
    (CITY, "临江市", "Linjiang City"),
    (JIANGBEI, "江北区", "Jiangbei District"),
    (JIANGNAN, "江南区", "Jiangnan District"),
    // Grassroots units, where forms are filled in: subdistricts (街道) and their communities
    // and villages.
    ("339901001", "城东街道", "Chengdong Subdistrict"),
    ("339901001001", "城东社区", "Chengdong Community"),
    ("339901001002", "桥头村", "Qiaotou Village"),
    ("339902001", "滨江街道", "Binjiang Subdistrict"),
    ("339902001001", "滨江社区", "Binjiang Community"),
];

/// (kind, 中文 suffix, English suffix)
const DEPARTMENTS: [(&str, &str, &str); 8] = [
    (
        "government_services",
        "政务服务管理局",
        "Government Services Administration",
    ),
    ("health", "卫生健康委员会", "Health Commission"),
    ("public_security", "公安局", "Public Security Bureau"),
    (
        "market_regulation",
        "市场监督管理局",
        "Administration for Market Regulation",
    ),
    (
        "human_resources",
        "人力资源和社会保障局",
        "Human Resources and Social Security Bureau",
    ),
    ("civil_affairs", "民政局", "Civil Affairs Bureau"),
    ("taxation", "税务局", "Taxation Bureau"),
    (
        "disease_control",
        "疾病预防控制中心",
        "Center for Disease Control and Prevention",
    ),
];

/// (username, display name, role, region of the department, department kind or "" for a region scope)
const STAFF: [(&str, &str, Role, &str, &str); 23] = [
    ("demo.sysadmin", "周系统", Role::SystemAdmin, CITY, ""),
    ("demo.secadmin", "吴安全", Role::SecurityAdmin, CITY, ""),
    // The second security administrator: grants over personal data and every change that
    // trusts more take two.
    ("demo.secadmin2", "王安全", Role::SecurityAdmin, CITY, ""),
    ("demo.auditadmin", "郑审计", Role::AuditAdmin, CITY, ""),
    (
        "demo.deptadmin",
        "冯部门",
        Role::DeptAdmin,
        CITY,
        "government_services",
    ),
    (
        "demo.clerk",
        "陈窗口",
        Role::Clerk,
        JIANGBEI,
        "government_services",
    ),
    (
        "demo.clerk.jiangnan",
        "褚窗口",
        Role::Clerk,
        JIANGNAN,
        "government_services",
    ),
    ("demo.health", "卫健康", Role::HealthOfficer, CITY, "health"),
    // The second officer of the city's health authority: nothing that changes a colour or a
    // city-wide control is done by one officer alone.
    (
        "demo.health2",
        "卫复核",
        Role::HealthOfficer,
        CITY,
        "health",
    ),
    // The district's laboratory (a designated health source): its results with a sample
    // number take effect at once.
    (
        "demo.lab",
        "柏检测",
        Role::HealthOfficer,
        JIANGBEI,
        "disease_control",
    ),
    (
        "demo.clerk.market",
        "秦市监",
        Role::Clerk,
        CITY,
        "market_regulation",
    ),
    ("demo.clerk.tax", "尤税务", Role::Clerk, CITY, "taxation"),
    (
        "demo.deptadmin.market",
        "施市监",
        Role::DeptAdmin,
        CITY,
        "market_regulation",
    ),
    // The data administrator of public security: it decides who reads the population register.
    (
        "demo.deptadmin.police",
        "钱公安",
        Role::DeptAdmin,
        CITY,
        "public_security",
    ),
    ("demo.venue", "蒋场所", Role::VenueOperator, JIANGBEI, ""),
    (
        "demo.venue.metro",
        "韩地铁",
        Role::VenueOperator,
        JIANGNAN,
        "",
    ),
    (
        "demo.checkpoint",
        "沈卡口",
        Role::CheckpointOfficer,
        CITY,
        "public_security",
    ),
    // The operations centre's duty officer: the city's view and its alerts, nothing else.
    ("demo.duty", "罗值班", Role::DutyOfficer, CITY, ""),
    // A clerk in every city department that owns service items, so that no application waits
    // in a queue nobody works.
    (
        "demo.clerk.police",
        "钟户政",
        Role::Clerk,
        CITY,
        "public_security",
    ),
    (
        "demo.clerk.civil",
        "金民政",
        Role::Clerk,
        CITY,
        "civil_affairs",
    ),
    ("demo.clerk.health", "范卫健", Role::Clerk, CITY, "health"),
    (
        "demo.clerk.hr",
        "马人社",
        Role::Clerk,
        CITY,
        "human_resources",
    ),
    (
        "demo.clerk.city",
        "杨大厅",
        Role::Clerk,
        CITY,
        "government_services",
    ),
];

/// (username, name, district, birth date, sequence, phone)
const CITIZENS: [(&str, &str, &str, &str, &str, &str); 4] = [
    (
        "citizen.zhangwei",
        "张伟",
        JIANGBEI,
        "19850312",
        "011",
        "13800001001",
    ),
    (
        "citizen.lina",
        "李娜",
        JIANGBEI,
        "19920704",
        "022",
        "13800001002",
    ),
    (
        "citizen.wangfang",
        "王芳",
        JIANGNAN,
        "19781120",
        "046",
        "13800001003",
    ),
    (
        "citizen.chenming",
        "陈明",
        JIANGNAN,
        "20010205",
        "135",
        "13800001004",
    ),
];

/// (username, name, region, organisation code body (8 characters before its own check))
/// Demo enterprises: account, name, region, the body of their USCC, and the citizen account of
/// their legal representative.
const ENTERPRISES: [(&str, &str, &str, &str, &str); 2] = [
    (
        "enterprise.qingyuan",
        "临江市清源食品有限公司",
        JIANGBEI,
        "MA2QY001",
        "citizen.lina",
    ),
    (
        "enterprise.yunqi",
        "临江云启科技有限公司",
        CITY,
        "MA2YQ002",
        "citizen.zhangwei",
    ),
];

/// Residents on the register with a phone but no account yet, to try registration (`/register`):
/// (name, district, birth date, sequence, phone).
/// Where a demo resident lives: a street address in their district's subdistrict.
fn demo_address(district: &str, sequence: &str) -> personal::PersonalText {
    let street = if district == JIANGBEI {
        "城东街道桥头村"
    } else {
        "滨江街道滨江社区"
    };
    let number = sequence.trim_start_matches('0');
    personal::PersonalText::new(format!("{street}{number}号"))
}

const UNREGISTERED: [(&str, &str, &str, &str, &str); 1] =
    [("赵敏", JIANGNAN, "19950618", "208", "13800001005")];

/// A resident who may register: the code of `/register` reaches them as a queued message,
/// which `tongban admin deliveries` prints in the demo (an SMS gateway sends it in production).
#[derive(Debug, Clone, Serialize)]
pub struct DemoResident {
    pub name: String,
    pub resident_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoCredentials {
    pub base_url: String,
    pub accounts: Vec<DemoAccount>,
    /// Residents without an account, who can register themselves.
    pub unregistered: Vec<DemoResident>,
    /// API tokens of the synthetic holders made by `tongban demo --load-holders N`, for the
    /// load generator of `tongban bench pass-http`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub load_tokens: Vec<String>,
}

fn code(text: &str) -> AppResult<RegionCode> {
    text.parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("demo region {text}: {e}")))
}

/// A valid citizen ID number for the demo.
pub fn demo_resident_id(region: &str, birth: &str, sequence: &str) -> AppResult<ResidentId> {
    let first17 = format!("{region}{birth}{sequence}");
    let check = ResidentId::check_character(&first17)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo id")))?;
    format!("{first17}{check}")
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("demo id: {e}")))
}

/// A valid USCC for the demo: registration authority and kind, region, an 8-character body and
/// the body's GB 11714 check character, then the GB 32100 check character.
pub fn demo_uscc(prefix: &str, region: &str, body: &str) -> AppResult<Uscc> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut sum = 0;
    for (c, w) in body.chars().zip(WEIGHTS) {
        let value = c
            .to_digit(36)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo org code")))?;
        sum += value * w;
    }
    let org_check = match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('0'),
    };
    let first17 = format!("{prefix}{region}{body}{org_check}");
    let check = Uscc::check_character(&first17)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo uscc {first17}")))?;
    format!("{first17}{check}")
        .parse()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("demo uscc: {e}")))
}

async fn ensure_regions(state: &AppState) -> AppResult<()> {
    for (text, name, name_en) in REGIONS {
        if admin_store::region(state.pool(), text).await?.is_none() {
            admin::create_region(
                state,
                By::Operator,
                NewRegion {
                    code: code(text)?,
                    name: name.into(),
                    name_en: name_en.into(),
                },
            )
            .await?;
        }
    }
    Ok(())
}

async fn ensure_departments(state: &AppState) -> AppResult<Vec<admin_store::Department>> {
    let existing = admin_store::departments(state.pool()).await?;
    let mut serial = 0;
    for region in [CITY, JIANGBEI, JIANGNAN] {
        let region_name = REGIONS
            .iter()
            .find(|r| r.0 == region)
            .map(|r| (r.1, r.2))
            .unwrap_or_default();
        for (kind, suffix, suffix_en) in DEPARTMENTS {
            serial += 1;
            if existing
                .iter()
                .any(|d| d.region_code.as_str() == region && d.kind == kind)
            {
                continue;
            }
            // A demo city run as another region's deployment numbers its departments under
            // that region's code, so that two demo regions recognising each other never claim
            // the same member code.
            let numbered_in = if state.config.region_code == CITY {
                region
            } else {
                state.config.region_code.as_str()
            };
            let uscc = demo_uscc("11", numbered_in, &format!("MB{serial:06}"))?;
            let new = NewDepartment {
                region_code: code(region)?,
                name: format!("{}{suffix}", region_name.0),
                name_en: format!("{} {suffix_en}", region_name.1),
                kind: kind.into(),
                uscc: Some(uscc),
            };
            admin::create_department(state, By::Operator, new).await?;
        }
    }
    admin_store::departments(state.pool()).await
}

/// Creates the account if missing, then gives it a fresh password, TOTP secret (staff) and
/// API token, and returns them.
async fn ensure_account(
    state: &AppState,
    mut request: NewAccountRequest,
) -> AppResult<(String, String, Option<String>, String)> {
    let is_staff = request.role.is_staff();
    let password = random::readable_password();
    let account = match identity_store::account_by_username(state.pool(), &request.username).await?
    {
        Some(account) => {
            identity_store::set_password(
                state.pool(),
                &account.id,
                &password::hash(password.clone()).await?,
            )
            .await?;
            account
        }
        None => {
            request.password = Some(password.clone());
            admin::create_account(state, By::Operator, request)
                .await?
                .account
        }
    };
    let totp_secret = is_staff.then(totp::new_secret);
    let sealed = totp_secret
        .as_deref()
        .map(|secret| totp::seal(&state.vault, &account.id, secret));
    identity_store::set_totp_secret(state.pool(), &account.id, sealed.as_deref()).await?;
    identity_store::revoke_tokens_labelled(state.pool(), &account.id, "demo", state.now()).await?;
    crate::cache::identity_changed(state).await;
    let expires = state.now() + 30 * 24 * 3600 * 1000;
    let token = identity::issue_token(state, &account.id, "demo", Some(expires)).await?;
    Ok((account.display_name, password, totp_secret, token))
}

/// Seeds (or reuses) the demo city and returns fresh credentials for every demo account.
pub async fn seed(state: &AppState, base_url: &str) -> AppResult<DemoCredentials> {
    ensure_regions(state).await?;
    let departments = ensure_departments(state).await?;
    let mut accounts = Vec::new();

    for (username, name, role, region, kind) in STAFF {
        let department = departments
            .iter()
            .find(|d| d.region_code.as_str() == region && d.kind == kind);
        let request = NewAccountRequest {
            username: username.into(),
            display_name: name.into(),
            role,
            department_id: department.map(|d| d.id.clone()),
            region_code: if kind.is_empty() {
                Some(code(region)?)
            } else {
                None
            },
            person_id: None,
            enterprise_id: None,
            password: None,
        };
        let (display_name, password, totp_secret, api_token) =
            ensure_account(state, request).await?;
        accounts.push(DemoAccount {
            role: role.as_str().into(),
            username: username.into(),
            display_name,
            password,
            totp_secret,
            api_token,
            resident_id: None,
            name: None,
            uscc: None,
        });
    }

    for (username, name, district, birth, sequence, phone) in CITIZENS {
        let resident_id = demo_resident_id(district, birth, sequence)?;
        let person_id = match identity_store::account_by_username(state.pool(), username).await? {
            Some(account) => account.person_id,
            None => {
                let fields = personal::PersonalFields {
                    name: personal::PersonalText::new(name),
                    resident_id: resident_id.clone(),
                    phone: Some(personal::PersonalText::new(phone)),
                    address: Some(demo_address(district, sequence)),
                };
                Some(personal::register_person(state, None, &code(district)?, &fields).await?)
            }
        };
        // The account shows a masked name; the full name lives only behind the accessor.
        let request = NewAccountRequest {
            username: username.into(),
            display_name: personal::masked_name(name),
            role: Role::Citizen,
            department_id: None,
            region_code: None,
            person_id,
            enterprise_id: None,
            password: None,
        };
        let (display_name, password, _, api_token) = ensure_account(state, request).await?;
        accounts.push(DemoAccount {
            role: Role::Citizen.as_str().into(),
            username: username.into(),
            display_name,
            password,
            totp_secret: None,
            api_token,
            resident_id: Some(resident_id.expose().to_owned()),
            name: Some(name.into()),
            uscc: None,
        });
    }

    for (username, name, region, body, representative) in ENTERPRISES {
        let uscc = demo_uscc("91", region, body)?;
        let enterprise_id =
            match identity_store::account_by_username(state.pool(), username).await? {
                Some(account) => account.enterprise_id,
                None => {
                    let representative =
                        identity_store::account_by_username(state.pool(), representative)
                            .await?
                            .and_then(|account| account.person_id);
                    Some(
                        personal::register_enterprise(
                            state,
                            None,
                            &uscc,
                            name,
                            &code(region)?,
                            representative.as_deref(),
                        )
                        .await?
                        .id,
                    )
                }
            };
        let request = NewAccountRequest {
            username: username.into(),
            display_name: name.into(),
            role: Role::Enterprise,
            department_id: None,
            region_code: None,
            person_id: None,
            enterprise_id,
            password: None,
        };
        let (display_name, password, _, api_token) = ensure_account(state, request).await?;
        accounts.push(DemoAccount {
            role: Role::Enterprise.as_str().into(),
            username: username.into(),
            display_name,
            password,
            totp_secret: None,
            api_token,
            resident_id: None,
            name: Some(name.into()),
            uscc: Some(uscc.as_str().to_owned()),
        });
    }
    let mut unregistered = Vec::new();
    for (name, district, birth, sequence, phone) in UNREGISTERED {
        let resident_id = demo_resident_id(district, birth, sequence)?;
        if personal::person_id_by_resident_id(state, &resident_id)
            .await?
            .is_none()
        {
            let fields = personal::PersonalFields {
                name: personal::PersonalText::new(name),
                resident_id: resident_id.clone(),
                phone: Some(personal::PersonalText::new(phone)),
                address: Some(demo_address(district, sequence)),
            };
            personal::register_person(state, None, &code(district)?, &fields).await?;
        }
        unregistered.push(DemoResident {
            name: name.into(),
            resident_id: resident_id.expose().to_owned(),
        });
    }
    // Each module adds its part of the city, in the modules' order.
    let city = DemoCity {
        departments,
        accounts,
    };
    for module in crate::module::modules(state) {
        module.demo(state, &city).await?;
    }
    Ok(DemoCredentials {
        base_url: base_url.to_owned(),
        accounts: city.accounts,
        unregistered,
        load_tokens: Vec::new(),
    })
}

/// Makes (or reuses) `count` synthetic citizens of 江北区 for load tests, each with a person
/// record (sealed like any other), the transit entitlement, a negative test result two days
/// old, and a fresh API token, which are returned. Their passwords are random and discarded.
pub async fn seed_load_holders(state: &AppState, count: usize) -> AppResult<Vec<String>> {
    use crate::health::service::DAY_MS;
    let district = code("339901")?;
    let unusable = password::hash(random::readable_password()).await?;
    let mut tokens = Vec::with_capacity(count);
    for i in 0..count {
        let username = format!("load.holder.{i:06}");
        let account = match identity_store::account_by_username(state.pool(), &username).await? {
            Some(account) => account,
            None => {
                // 900 ID numbers per birth date, dates from 1960 on.
                let birth = time::Date::from_calendar_date(1960, time::Month::January, 1)
                    .map_err(|e| AppError::Internal(e.into()))?
                    + time::Duration::days((i / 900) as i64);
                let birth = format!(
                    "{:04}{:02}{:02}",
                    birth.year(),
                    u8::from(birth.month()),
                    birth.day()
                );
                let sequence = format!("{:03}", 100 + i % 900);
                let fields = personal::PersonalFields {
                    name: personal::PersonalText::new(format!("测试居民{i}")),
                    resident_id: demo_resident_id("339901", &birth, &sequence)?,
                    phone: None,
                    address: None,
                };
                let person = personal::register_person(state, None, &district, &fields).await?;
                let id = random::new_id();
                let new = identity_store::NewAccount {
                    username: username.clone(),
                    display_name: personal::masked_name(&format!("测试居民{i}")),
                    kind: crate::identity::model::AccountKind::Citizen,
                    home_region: district.clone(),
                    password_hash: unusable.clone(),
                    totp_secret: None,
                    department_id: None,
                    person_id: Some(person.clone()),
                    enterprise_id: None,
                };
                let now = state.now();
                let mut tx = state.pool().begin().await?;
                identity_store::insert_account(&mut *tx, &id, &new, now).await?;
                let own = crate::identity::model::Scope::Own;
                identity_store::insert_grant(&mut *tx, &id, Role::Citizen, &own, None, now).await?;
                tx.commit().await?;
                crate::venues::service::grant_entitlement(state, &person, "transit").await?;
                crate::health::service::seed_load_test_result(state, &person).await?;
                identity_store::account(state.pool(), &id)
                    .await?
                    .ok_or(AppError::NotFound)?
            }
        };
        identity_store::revoke_tokens_labelled(state.pool(), &account.id, "load", state.now())
            .await?;
        let expires = state.now() + 7 * DAY_MS;
        tokens.push(identity::issue_token(state, &account.id, "load", Some(expires)).await?);
    }
    crate::cache::identity_changed(state).await;
    Ok(tokens)
}

/// Writes the credentials where the demo's users (and the browser tests) find them, readable
/// by the owner only.
pub fn write_credentials(
    data_dir: &Path,
    credentials: &DemoCredentials,
) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join("demo-credentials.json");
    std::fs::write(&path, serde_json::to_vec_pretty(credentials)?)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(path)
}
