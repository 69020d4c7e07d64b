//! The demo city's catalogue: resources of the market regulator, the government-services
//! administration and the public security bureau, one request granted at once and one waiting
//! for the market regulator's administrator.

use super::model::{DataItem, OpenType, Resource, ResourceDraft, ShareType};
use super::{service, store};
use crate::error::AppResult;
use crate::state::AppState;

fn item(code: &str, name: &str, kind: &str, personal: Option<&str>) -> DataItem {
    DataItem {
        code: code.into(),
        name: name.into(),
        kind: kind.into(),
        length: None,
        personal: personal.map(str::to_owned),
    }
}

struct DemoResource {
    code: &'static str,
    department_kind: &'static str,
    draft: ResourceDraft,
}

fn resources() -> Vec<DemoResource> {
    vec![
        DemoResource {
            code: "SJ-QYDJ-001",
            department_kind: "market_regulation",
            draft: ResourceDraft {
                name: "企业登记基本信息".into(),
                description: "本市登记注册的企业的统一社会信用代码、名称、住所所在行政区划与登记日期。".into(),
                share_type: ShareType::Unconditional,
                share_conditions: None,
                legal_basis: None,
                open_type: OpenType::Unconditional,
                update_cycle: "daily".into(),
                format: "api".into(),
                service: Some("enterprise-registry".into()),
                items: vec![
                    item("uscc", "统一社会信用代码", "code", None),
                    item("name", "企业名称", "string", None),
                    item("region_code", "住所所在行政区划", "code", None),
                    item("registered_on", "登记日期", "date", None),
                ],
            },
        },
        DemoResource {
            code: "SJ-GTH-002",
            department_kind: "market_regulation",
            draft: ResourceDraft {
                name: "个体工商户经营者信息".into(),
                description: "个体工商户的字号、经营场所，以及经营者的姓名、身份证号与联系电话。".into(),
                share_type: ShareType::Conditional,
                share_conditions: Some("仅限办理相关政务服务事项时核验经营者身份，按最少必要原则申请信息项。".into()),
                legal_basis: None,
                open_type: OpenType::None,
                update_cycle: "daily".into(),
                format: "api".into(),
                service: None,
                items: vec![
                    item("uscc", "统一社会信用代码", "code", None),
                    item("business_name", "字号名称", "string", None),
                    item("place", "经营场所", "string", None),
                    item("operator_name", "经营者姓名", "string", Some("name")),
                    item("operator_id", "经营者身份证号", "string", Some("id_number")),
                    item("operator_phone", "联系电话", "string", Some("phone")),
                ],
            },
        },
        DemoResource {
            code: "ZW-BJ-001",
            department_kind: "government_services",
            draft: ResourceDraft {
                name: "政务服务办件信息".into(),
                description: "一网通办受理的办件：办件编号、事项、状态、受理时间、承诺办结日与结果证照编号；不含申请人与表单内容。".into(),
                share_type: ShareType::Conditional,
                share_conditions: Some("用于联办事项的进度核查与统计，不得用于其他用途。".into()),
                legal_basis: None,
                open_type: OpenType::None,
                update_cycle: "realtime".into(),
                format: "api".into(),
                service: Some("application-registry".into()),
                items: vec![
                    item("id", "办件编号", "string", None),
                    item("item_code", "事项编码", "code", None),
                    item("state", "办件状态", "code", None),
                    item("submitted_at", "受理时间", "datetime", None),
                    item("state_since", "进入当前状态时间", "datetime", None),
                    item("due_day", "承诺办结日", "date", None),
                    item("result_certificate", "结果证照编号", "string", None),
                ],
            },
        },
        DemoResource {
            code: "ZW-DZZZ-001",
            department_kind: "government_services",
            draft: ResourceDraft {
                name: "电子证照库（授权用证）".into(),
                description: "持证人的电子证照加注件：经持证人授权或依事项的法定依据，按次出具并记入持证人的用证记录。".into(),
                share_type: ShareType::Conditional,
                share_conditions: Some("仅在持证人授权或办理事项具有法定依据时用证，用于所述事项，不得留存或转提供。".into()),
                legal_basis: None,
                open_type: OpenType::None,
                update_cycle: "realtime".into(),
                format: "api".into(),
                service: Some("certificate-library".into()),
                items: vec![
                    item("copy", "证照加注件", "string", Some("other")),
                    item("alg", "签名算法", "code", None),
                    item("kid", "签名密钥", "code", None),
                    item("signature", "签名", "string", None),
                ],
            },
        },
        DemoResource {
            code: "GA-RK-001",
            department_kind: "public_security",
            draft: ResourceDraft {
                name: "人口基础信息".into(),
                description: "常住人口的姓名、公民身份号码、联系电话与户籍所在行政区划，经审批按信息项共享。".into(),
                share_type: ShareType::Conditional,
                share_conditions: Some("仅限依法办理政务服务事项时核验申请人身份，按最少必要原则申请信息项，不得留存或转提供。".into()),
                legal_basis: None,
                open_type: OpenType::None,
                update_cycle: "realtime".into(),
                format: "api".into(),
                service: Some("population-registry".into()),
                items: vec![
                    item("resident_id", "公民身份号码", "string", Some("id_number")),
                    item("name", "姓名", "string", Some("name")),
                    item("phone", "联系电话", "string", Some("phone")),
                    item("region_code", "户籍所在行政区划", "code", Some("address")),
                ],
            },
        },
        DemoResource {
            code: "RS-JYDJ-001",
            department_kind: "human_resources",
            draft: ResourceDraft {
                name: "就业失业登记信息".into(),
                description: "劳动者的就业创业证编号、就业状态、登记日期与所在区县，以及持证人的姓名与公民身份号码；以数字登记簿（employment/1.0）维护。".into(),
                share_type: ShareType::Conditional,
                share_conditions: Some("用于办理就业补贴、社会保险等事项时核验就业状态；身份信息仅限经审批的事项。".into()),
                legal_basis: None,
                open_type: OpenType::None,
                update_cycle: "realtime".into(),
                format: "api".into(),
                service: Some("digital-registry".into()),
                items: vec![
                    item("cert_no", "就业创业证编号", "string", None),
                    item("status", "就业状态", "code", None),
                    item("registered_on", "登记日期", "date", None),
                    item("district", "所在区县", "code", None),
                    item("name", "姓名", "string", Some("name")),
                    item("resident_id", "公民身份号码", "string", Some("id_number")),
                ],
            },
        },
        DemoResource {
            code: "GA-AJ-001",
            department_kind: "public_security",
            draft: ResourceDraft {
                name: "刑事案件侦查信息".into(),
                description: "刑事案件的立案、侦查与移送信息。".into(),
                share_type: ShareType::None,
                share_conditions: None,
                legal_basis: Some("《中华人民共和国刑事诉讼法》关于侦查秘密的规定".into()),
                open_type: OpenType::None,
                update_cycle: "realtime".into(),
                format: "api".into(),
                service: None,
                items: vec![
                    item("case_id", "案件编号", "string", None),
                    item("filed_on", "立案日期", "date", None),
                    item("stage", "办理阶段", "code", None),
                ],
            },
        },
    ]
}

/// Adds one resource of another module's demo (its code, owner and description) unless the
/// catalogue holds it, through the catalogue's checks.
pub async fn seed_resource(
    state: &AppState,
    code: &str,
    department_id: &str,
    draft: ResourceDraft,
) -> AppResult<()> {
    if store::resource(state.pool(), code).await?.is_some() {
        return Ok(());
    }
    service::check_draft(state, &draft)?;
    let resource = Resource {
        code: code.into(),
        name: draft.name,
        department_id: department_id.into(),
        department_name: String::new(),
        description: draft.description,
        share_type: draft.share_type,
        share_conditions: draft.share_conditions,
        legal_basis: draft.legal_basis,
        open_type: draft.open_type,
        update_cycle: draft.update_cycle,
        format: draft.format,
        service: draft.service,
        version: 0,
        items: draft.items,
    };
    store::save_resource(state.pool(), &resource, "demo", state.now()).await
}

/// Adds the demo resources that are missing, and the two demo requests when none exist.
pub async fn seed(state: &AppState, city: &tongban_platform::demo::DemoCity) -> AppResult<()> {
    let department_of = |kind: &str| {
        city.departments
            .iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == tongban_platform::demo::CITY)
            .map(|d| d.id.clone())
    };
    for demo in resources() {
        let Some(department) = department_of(demo.department_kind) else {
            continue;
        };
        seed_resource(state, demo.code, &department, demo.draft).await?;
    }
    seed_employment_registry(state, city).await?;
    seed_department_grants(state, &department_of).await?;
    // The government-services administration asks the market regulator for enterprises'
    // registration (granted at once) and for sole proprietors' operators (waiting).
    let Some(consumer) = department_of("government_services") else {
        return Ok(());
    };
    if store::requests_of(state.pool(), &consumer)
        .await?
        .iter()
        .any(|r| r.consumer_department_id == consumer)
    {
        return Ok(());
    }
    let Some(admin) =
        crate::identity::store::account_by_username(state.pool(), "demo.deptadmin").await?
    else {
        return Ok(());
    };
    let until = tongban_core::zone::ymd(
        state
            .today()
            .checked_add(time::Duration::days(180))
            .unwrap_or(state.today()),
    );
    for (id, resource, items, purpose, service_item, granted) in [
        (
            tongban_platform::random::new_id(),
            "SJ-QYDJ-001",
            r#"["name","region_code","uscc"]"#,
            "企业开办一件事：核验企业登记状态，免于申请人提交营业执照复印件",
            "企业开办",
            true,
        ),
        (
            tongban_platform::random::new_id(),
            "GA-RK-001",
            r#"["name","resident_id"]"#,
            "政务服务窗口受理时核验申请人身份（姓名与公民身份号码一致性）",
            "企业开办",
            true,
        ),
        (
            tongban_platform::random::new_id(),
            "RS-JYDJ-001",
            r#"["cert_no","district","registered_on","status"]"#,
            "就业补贴申领：核验申请人的就业失业登记状态",
            "就业补贴申领",
            true,
        ),
        (
            tongban_platform::random::new_id(),
            "SJ-GTH-002",
            r#"["business_name","operator_id","operator_name","place"]"#,
            "个体工商户注销登记：核验经营者身份",
            "个体工商户注销登记",
            false,
        ),
    ] {
        store::insert_request(
            state.pool(),
            &store::NewRequest {
                id: &id,
                resource,
                consumer: &consumer,
                items,
                purpose,
                legal_basis: "《优化营商环境条例》第三十五条",
                service_item: Some(service_item),
                until: &until,
                by: &admin.id,
                now: state.now(),
            },
        )
        .await?;
        if granted {
            let conditional = resource != "SJ-QYDJ-001";
            store::decide(
                state.pool(),
                &id,
                &store::Decision {
                    from: "pending",
                    to: "granted",
                    by: if conditional { "demo" } else { "catalogue" },
                    now: state.now(),
                    note: Some(if resource == "GA-RK-001" {
                        "同意，仅限姓名与公民身份号码 / granted: name and ID number only"
                    } else if conditional {
                        "同意，不含持证人身份信息 / granted without the holder's identity"
                    } else {
                        "无条件共享 / shared unconditionally"
                    }),
                    granted: Some(items),
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// The tax bureau uses certificates from the library (by authorised use) and the market
/// regulator follows the applications of 企业开办 through the gateway.
async fn seed_department_grants(
    state: &AppState,
    department_of: &impl Fn(&str) -> Option<String>,
) -> AppResult<()> {
    let until = tongban_core::zone::ymd(
        state
            .today()
            .checked_add(time::Duration::days(180))
            .unwrap_or(state.today()),
    );
    for (consumer, resource, items, purpose, service_item) in [
        (
            "taxation",
            "ZW-DZZZ-001",
            r#"["alg","copy","kid","signature"]"#,
            "新办纳税人套餐式服务：经纳税人授权调用营业执照，免于提交复印件",
            "新办纳税人套餐式服务",
        ),
        (
            "market_regulation",
            "ZW-BJ-001",
            r#"["due_day","id","item_code","state"]"#,
            "企业开办一件事：跟踪联办办件的进度",
            "企业开办",
        ),
    ] {
        let Some(consumer) = department_of(consumer) else {
            continue;
        };
        if store::requests_of(state.pool(), &consumer)
            .await?
            .iter()
            .any(|r| r.resource_code == resource)
        {
            continue;
        }
        let id = tongban_platform::random::new_id();
        store::insert_request(
            state.pool(),
            &store::NewRequest {
                id: &id,
                resource,
                consumer: &consumer,
                items,
                purpose,
                legal_basis: "《优化营商环境条例》第三十五条",
                service_item: Some(service_item),
                until: &until,
                by: "demo",
                now: state.now(),
            },
        )
        .await?;
        store::decide(
            state.pool(),
            &id,
            &store::Decision {
                from: "pending",
                to: "granted",
                by: "demo",
                now: state.now(),
                note: Some("同意 / granted"),
                granted: Some(items),
            },
        )
        .await?;
    }
    Ok(())
}

/// The human-resources bureau's employment register as a digital registry, with the demo
/// citizens and a few hundred more workers.
async fn seed_employment_registry(
    state: &AppState,
    city: &tongban_platform::demo::DemoCity,
) -> AppResult<()> {
    use crate::registries::service::{self as registries, RegistryDraft};
    let Some(registry) = registries::define_for_demo(
        state,
        "employment",
        "1.0",
        RegistryDraft {
            resource: "RS-JYDJ-001".into(),
            id_item: "cert_no".into(),
        },
    )
    .await?
    else {
        return Ok(());
    };
    let districts = ["339901", "339902"];
    let mut records = Vec::new();
    for (n, citizen) in city.with_role("citizen").enumerate() {
        let (Some(name), Some(resident_id)) = (&citizen.name, &citizen.resident_id) else {
            continue;
        };
        records.push(serde_json::json!({
            "cert_no": format!("3399{:08}", n + 1),
            "status": if n % 2 == 0 { "employed" } else { "unemployed" },
            "registered_on": format!("2025-{:02}-{:02}", 3 + n % 9, 1 + n % 27),
            "district": districts[n % 2],
            "name": name,
            "resident_id": resident_id,
        }));
    }
    for n in 0..300usize {
        let status = ["employed", "unemployed", "self_employed"][n % 3];
        records.push(serde_json::json!({
            "cert_no": format!("3399{:08}", 1000 + n),
            "status": status,
            "registered_on": format!("2024-{:02}-{:02}", 1 + n % 12, 1 + n % 28),
            "district": districts[n % 2],
        }));
    }
    let records = records
        .into_iter()
        .filter_map(|v| v.as_object().cloned())
        .collect();
    registries::load(state, &registry, records).await?;
    Ok(())
}
