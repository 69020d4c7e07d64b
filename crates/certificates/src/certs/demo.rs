//! The demo city's certificate catalogue, its issuers, and two certificates for every demo
//! citizen and enterprise.

use crate::admin::directory::Department;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use tongban_platform::demo::{CITY, DemoAccount};

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
pub(crate) async fn seed_certificates(
    state: &AppState,
    departments: &[Department],
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
            certs_store::allow_issuer(state.pool(), &t.code, &department.id).await?;
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
            crate::identity::service::account_by_username(state, &account.username).await?
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
            if certs_store::count_of(state.pool(), &t.code, &holder_info.id).await? > 0 {
                continue;
            }
            let items = serde_json::from_value(items).map_err(|e| AppError::Internal(e.into()))?;
            crate::certs::issue_from(
                state,
                issuer_of(kind)?,
                t,
                &holder_info,
                items,
                "operator",
                None,
            )
            .await?;
        }
    }
    Ok(())
}
