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

const CITY: &str = "339900";
const JIANGBEI: &str = "339901";
const JIANGNAN: &str = "339902";

const REGIONS: [(&str, &str, &str); 5] = [
    ("000000", "中华人民共和国", "People's Republic of China"),
    ("330000", "浙江省", "Zhejiang Province"),
    (CITY, "临江市", "Linjiang City"),
    (JIANGBEI, "江北区", "Jiangbei District"),
    (JIANGNAN, "江南区", "Jiangnan District"),
];

/// (kind, 中文 suffix, English suffix)
const DEPARTMENTS: [(&str, &str, &str); 7] = [
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
];

/// (username, display name, role, region of the department, department kind or "" for a region scope)
const STAFF: [(&str, &str, Role, &str, &str); 12] = [
    ("demo.sysadmin", "周系统", Role::SystemAdmin, CITY, ""),
    ("demo.secadmin", "吴安全", Role::SecurityAdmin, CITY, ""),
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
    (
        "demo.clerk.market",
        "秦市监",
        Role::Clerk,
        CITY,
        "market_regulation",
    ),
    ("demo.clerk.tax", "尤税务", Role::Clerk, CITY, "taxation"),
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
const ENTERPRISES: [(&str, &str, &str, &str); 2] = [
    (
        "enterprise.qingyuan",
        "临江市清源食品有限公司",
        JIANGBEI,
        "MA2QY001",
    ),
    ("enterprise.yunqi", "临江云启科技有限公司", CITY, "MA2YQ002"),
];

/// One demo account's credentials, as written to `demo-credentials.json`.
#[derive(Debug, Clone, Serialize)]
pub struct DemoAccount {
    pub role: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    pub api_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DemoCredentials {
    pub base_url: String,
    pub accounts: Vec<DemoAccount>,
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
            let uscc = demo_uscc("11", region, &format!("MB{serial:06}"))?;
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
    identity_store::set_totp_secret(state.pool(), &account.id, totp_secret.as_deref()).await?;
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
    // The demo runs in emergency mode with the default status policy, so passes show colours.
    crate::health::service::seed_defaults(state, true).await?;
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

    for (username, name, region, body) in ENTERPRISES {
        let uscc = demo_uscc("91", region, body)?;
        let enterprise_id =
            match identity_store::account_by_username(state.pool(), username).await? {
                Some(account) => account.enterprise_id,
                None => Some(
                    personal::register_enterprise(state, None, &uscc, name, &code(region)?)
                        .await?
                        .id,
                ),
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
    seed_venues(state).await?;
    seed_certificates(state, &departments, &accounts).await?;
    seed_service_items(state, &departments).await?;
    seed_calendar(state).await?;
    seed_bundles(state).await?;
    Ok(DemoCredentials {
        base_url: base_url.to_owned(),
        accounts,
        load_tokens: Vec::new(),
    })
}

/// Makes (or reuses) `count` synthetic citizens of 江北区 for load tests, each with a person
/// record (sealed like any other), the transit entitlement, a negative test result two days
/// old, and a fresh API token, which are returned. Their passwords are random and discarded.
pub async fn seed_load_holders(state: &AppState, count: usize) -> AppResult<Vec<String>> {
    use crate::health::service::{DAY_MS, FACT_RETENTION_DAYS};
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
                crate::venues::grant_entitlement(state, &person, "transit").await?;
                let fact = random::new_id();
                let observed_at = now - 2 * DAY_MS;
                crate::health::store::insert_fact(
                    state.pool(),
                    &crate::health::store::FactRow {
                        value_sealed: state
                            .vault
                            .seal_field(&format!("health_facts.value/{fact}"), b"negative"),
                        id: fact,
                        person_id: person,
                        kind: "test_result".into(),
                        observed_at,
                        legal_basis: "load test".into(),
                        department_id: None,
                        recorded_by: "operator".into(),
                        recorded_at: now,
                        expires_at: observed_at + FACT_RETENTION_DAYS * DAY_MS,
                    },
                )
                .await?;
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

/// An item of a certificate type: (code, name, kind, personal).
type Item = (&'static str, &'static str, &'static str, bool);

/// A demo certificate type: (department kind defining it, number, name, English name, holder
/// kind, validity in years, items).
type DemoType = (
    &'static str,
    u16,
    &'static str,
    &'static str,
    &'static str,
    Option<i64>,
    &'static [Item],
);

const CERT_TYPES: [DemoType; 7] = [
    (
        "public_security",
        1,
        "居民身份证",
        "Resident identity card record",
        "person",
        Some(20),
        &[
            ("name", "姓名", "text", true),
            ("sex", "性别", "text", true),
            ("birth_date", "出生日期", "date", true),
            ("address", "住址", "text", true),
        ],
    ),
    (
        "public_security",
        2,
        "户口簿",
        "Household register",
        "person",
        None,
        &[
            ("householder", "户主姓名", "text", true),
            ("relation", "与户主关系", "text", true),
            ("address", "住址", "text", true),
        ],
    ),
    (
        "civil_affairs",
        1,
        "结婚证",
        "Marriage certificate",
        "person",
        None,
        &[
            ("spouse_name", "配偶姓名", "text", true),
            ("registered_on", "登记日期", "date", true),
        ],
    ),
    (
        "market_regulation",
        1,
        "营业执照",
        "Business licence",
        "enterprise",
        None,
        &[
            ("name", "名称", "text", false),
            ("legal_representative", "法定代表人", "text", true),
            ("registered_capital", "注册资本", "text", false),
            ("established_on", "成立日期", "date", false),
            ("business_scope", "经营范围", "list", false),
        ],
    ),
    (
        "market_regulation",
        3,
        "个体工商户营业执照",
        "Business licence of a sole proprietorship",
        "person",
        None,
        &[
            ("name", "名称", "text", false),
            ("operator", "经营者", "text", true),
            ("place", "经营场所", "text", false),
            ("business_scope", "经营范围", "list", false),
            ("registered_on", "注册日期", "date", false),
        ],
    ),
    (
        "market_regulation",
        2,
        "食品经营许可证",
        "Food business licence",
        "enterprise",
        Some(5),
        &[
            ("operator", "经营者名称", "text", false),
            ("main_format", "主体业态", "text", false),
            ("scope", "经营项目", "list", false),
        ],
    ),
    (
        "taxation",
        1,
        "完税证明",
        "Tax clearance certificate",
        "enterprise",
        Some(1),
        &[
            ("taxpayer", "纳税人名称", "text", false),
            ("period", "所属时期", "text", false),
            ("amount", "实缴金额", "text", false),
        ],
    ),
];

/// The certificate catalogue, its issuers (the departments of the defining kind in the city
/// and both districts), and two certificates for every demo citizen and enterprise.
async fn seed_certificates(
    state: &AppState,
    departments: &[admin_store::Department],
    accounts: &[DemoAccount],
) -> AppResult<()> {
    use crate::certs::{HolderInfo, store as certs_store};
    use serde_json::json;
    let mut types = Vec::new();
    for (kind, number, name, name_en, holder_kind, years, items) in CERT_TYPES {
        let authority = departments
            .iter()
            .find(|d| d.region_code.as_str() == CITY && d.kind == kind)
            .and_then(|d| d.uscc.clone())
            .ok_or(AppError::NotFound)?;
        let t = certs_store::CertType {
            code: format!("{authority}{number:03}"),
            name: name.into(),
            name_en: name_en.into(),
            holder_kind: holder_kind.into(),
            items: items
                .iter()
                .map(|(code, name, kind, personal)| certs_store::ItemSpec {
                    code: (*code).into(),
                    name: (*name).into(),
                    kind: (*kind).into(),
                    required: true,
                    personal: *personal,
                })
                .collect(),
            validity_years: years,
        };
        certs_store::ensure_type(state, &t).await?;
        for department in departments.iter().filter(|d| d.kind == kind) {
            certs_store::allow_issuer(state, &t.code, &department.id).await?;
        }
        types.push((kind, t));
    }
    let issuer_of = |kind: &str| {
        departments
            .iter()
            .find(|d| d.region_code.as_str() == CITY && d.kind == kind)
            .ok_or(AppError::NotFound)
    };
    let type_of = |name: &str| {
        types
            .iter()
            .find(|(_, t)| t.name == name)
            .map(|(_, t)| t)
            .ok_or(AppError::NotFound)
    };
    for account in accounts {
        let Some(row) =
            identity_store::account_by_username(state.pool(), &account.username).await?
        else {
            continue;
        };
        let (Some(name), holder) = (account.name.clone(), &row) else {
            continue;
        };
        let plans: Vec<(&str, &str, serde_json::Value)> = match (
            &holder.person_id,
            &holder.enterprise_id,
        ) {
            (Some(_), _) => {
                let id = account.resident_id.clone().unwrap_or_default();
                let birth = format!("{}-{}-{}", &id[6..10], &id[10..12], &id[12..14]);
                let sex = if id.as_bytes().get(16).is_some_and(|d| d % 2 == 1) {
                    "男"
                } else {
                    "女"
                };
                vec![
                    (
                        "public_security",
                        "居民身份证",
                        json!({"name": name, "sex": sex, "birth_date": birth, "address": "临江市人民路88号"}),
                    ),
                    (
                        "public_security",
                        "户口簿",
                        json!({"householder": name, "relation": "户主", "address": "临江市人民路88号"}),
                    ),
                ]
            }
            (None, Some(_)) => vec![
                (
                    "market_regulation",
                    "营业执照",
                    json!({"name": name, "legal_representative": "张伟", "registered_capital": "500万元人民币", "established_on": "2020-06-01", "business_scope": ["食品销售", "餐饮服务"]}),
                ),
                (
                    "taxation",
                    "完税证明",
                    json!({"taxpayer": name, "period": "2026年1月至10月", "amount": "128,560.00元"}),
                ),
            ],
            _ => continue,
        };
        let holder_info = match (&holder.person_id, &holder.enterprise_id) {
            (Some(person), _) => HolderInfo {
                kind: "person",
                id: person.clone(),
                name: name.clone(),
                code: account.resident_id.clone().unwrap_or_default(),
            },
            (None, Some(enterprise)) => HolderInfo {
                kind: "enterprise",
                id: enterprise.clone(),
                name: name.clone(),
                code: account.uscc.clone().unwrap_or_default(),
            },
            _ => continue,
        };
        for (kind, type_name, items) in plans {
            let t = type_of(type_name)?;
            if certs_store::count_of(state, &t.code, &holder_info.id).await? > 0 {
                continue;
            }
            let items = serde_json::from_value(items).map_err(|e| AppError::Internal(e.into()))?;
            crate::certs::issue_from(state, issuer_of(kind)?, t, &holder_info, items, "operator")
                .await?;
        }
    }
    Ok(())
}

/// The demo catalogue: 21 items across the city's departments, each naming its department
/// by kind and certificate types by name (replaced by the USCC and type codes when seeded).
const SERVICE_ITEMS: &str = include_str!("../seed/service_items.json");

async fn seed_service_items(
    state: &AppState,
    departments: &[admin_store::Department],
) -> AppResult<()> {
    use serde_json::Value;
    let types = crate::certs::store::types(state).await?;
    let type_code = |name: &Value| -> AppResult<Value> {
        let name = name.as_str().unwrap_or_default();
        types
            .iter()
            .find(|t| t.name == name)
            .map(|t| Value::String(t.code.clone()))
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no demo type {name}")))
    };
    let items: Vec<Value> =
        serde_json::from_str(SERVICE_ITEMS).map_err(|e| AppError::Internal(e.into()))?;
    for mut item in items {
        let kind = item["department"].as_str().unwrap_or_default().to_owned();
        item["department"] = departments
            .iter()
            .find(|d| d.region_code.as_str() == CITY && d.kind == kind)
            .and_then(|d| d.uscc.clone())
            .map(Value::String)
            .ok_or(AppError::NotFound)?;
        if let Some(materials) = item["materials"].as_array_mut() {
            for material in materials {
                if !material["certificate_type"].is_null() {
                    material["certificate_type"] = type_code(&material["certificate_type"])?;
                }
            }
        }
        if !item["result"]["certificate_type"].is_null() {
            item["result"]["certificate_type"] = type_code(&item["result"]["certificate_type"])?;
        }
        if let Some(free) = item["consent_free_types"].as_array_mut() {
            for name in free {
                *name = type_code(name)?;
            }
        }
        let definition: crate::services::item::ServiceDefinition =
            serde_json::from_value(item).map_err(|e| AppError::Internal(e.into()))?;
        if crate::services::store::by_code(state, &definition.code)
            .await?
            .is_some()
        {
            continue;
        }
        let department_id = crate::services::validate(state, &definition).await?;
        crate::services::store::insert(state, &definition, &department_id).await?;
    }
    Ok(())
}

/// The demo's bundles (一件事).
const BUNDLES: &str = include_str!("../seed/bundles.json");

async fn seed_bundles(state: &AppState) -> AppResult<()> {
    #[derive(serde::Deserialize)]
    struct Seed {
        code: String,
        name: String,
        life_event: Option<String>,
        items: Vec<String>,
        guide: String,
    }
    let bundles: Vec<Seed> =
        serde_json::from_str(BUNDLES).map_err(|e| AppError::Internal(e.into()))?;
    for b in bundles {
        crate::applications::store::ensure_bundle(
            state,
            &crate::applications::store::BundleRow {
                code: b.code,
                name: b.name,
                items: b.items,
                life_event: b.life_event,
                guide: b.guide,
            },
        )
        .await?;
    }
    Ok(())
}

/// The demo's working-day calendar: the public holidays of 2026 and the weekend days worked
/// in exchange (as the State Council published them), the same in every demo region.
/// Administrators keep a real region's calendar in `calendar_days`.
const HOLIDAYS_2026: &[(&str, &str, &str)] = &[
    ("2026-01-01", "2026-01-03", "元旦"),
    ("2026-02-15", "2026-02-23", "春节"),
    ("2026-04-04", "2026-04-06", "清明节"),
    ("2026-05-01", "2026-05-05", "劳动节"),
    ("2026-06-19", "2026-06-21", "端午节"),
    ("2026-09-25", "2026-09-27", "中秋节"),
    ("2026-10-01", "2026-10-07", "国庆节"),
];
const WORKDAYS_2026: &[(&str, &str)] = &[
    ("2026-01-04", "元旦调休"),
    ("2026-02-14", "春节调休"),
    ("2026-02-28", "春节调休"),
    ("2026-05-09", "劳动节调休"),
    ("2026-09-20", "国庆节调休"),
    ("2026-10-10", "国庆节调休"),
];

async fn seed_calendar(state: &AppState) -> AppResult<()> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    for region in [CITY, JIANGBEI, JIANGNAN] {
        for (first, last, name) in HOLIDAYS_2026 {
            let (Ok(mut day), Ok(last)) = (
                time::Date::parse(first, format),
                time::Date::parse(last, format),
            ) else {
                continue;
            };
            while day <= last {
                crate::applications::store::ensure_calendar_day(
                    state,
                    region,
                    &tongban_core::zone::ymd(day),
                    "holiday",
                    name,
                )
                .await?;
                let Some(next) = day.next_day() else { break };
                day = next;
            }
        }
        for (day, name) in WORKDAYS_2026 {
            crate::applications::store::ensure_calendar_day(state, region, day, "workday", name)
                .await?;
        }
    }
    Ok(())
}

/// Two venue kinds working end to end: a library (needs a library card on the pass) and a
/// metro station (needs the transit entitlement). Every citizen may ride; two hold library cards.
async fn seed_venues(state: &AppState) -> AppResult<()> {
    let account_id = |username: &'static str| async move {
        identity_store::account_by_username(state.pool(), username)
            .await?
            .ok_or(AppError::NotFound)
    };
    let library = account_id("demo.venue").await?.id;
    crate::venues::ensure_venue(state, "江北区图书馆", "library", JIANGBEI, &library, false)
        .await?;
    let metro = account_id("demo.venue.metro").await?.id;
    // The metro station records check-ins (admissions); the library does not.
    crate::venues::ensure_venue(
        state,
        "临江地铁1号线江南站",
        "transit",
        JIANGNAN,
        &metro,
        true,
    )
    .await?;
    for (username, _, _, _, _, _) in CITIZENS {
        let Some(person) = account_id(username).await?.person_id else {
            continue;
        };
        crate::venues::grant_entitlement(state, &person, "transit").await?;
        if matches!(username, "citizen.zhangwei" | "citizen.wangfang") {
            crate::venues::grant_entitlement(state, &person, "library").await?;
        }
    }
    Ok(())
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
