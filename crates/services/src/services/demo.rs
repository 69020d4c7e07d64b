//! The demo city's service catalogue (23 items across its departments), its bundles, and the
//! 2026 working-day calendar of its regions.

use crate::admin::directory::Department;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use tongban_platform::demo::{CITY, JIANGBEI, JIANGNAN};

/// The demo catalogue: 23 items across the city's departments, each naming its department
/// by kind and certificate types by name (replaced by the USCC and type codes when seeded).
const SERVICE_ITEMS: &str = include_str!("../../seed/service_items.json");

pub(crate) async fn seed_service_items(
    state: &AppState,
    departments: &[Department],
) -> AppResult<()> {
    use serde_json::Value;
    let types = crate::certs::cert_types(state).await?;
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
    let english: Value = serde_json::from_str(ENGLISH).map_err(|e| AppError::Internal(e.into()))?;
    for mut item in items {
        let kind = item["department"].as_str().unwrap_or_default().to_owned();
        add_guide_details(&mut item, &kind, &english)?;
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
        if crate::services::store::by_code(state.pool(), &definition.code)
            .await?
            .is_some()
        {
            continue;
        }
        let department_id = crate::services::validate(state, &definition).await?;
        crate::services::store::insert(state, &definition, &department_id).await?;
        // The demo's consent-free uses rest on the duties of state organs, approved by the
        // operator as the security administrator would.
        for type_code in &definition.consent_free_types {
            crate::certs::consent_free::approve_as_operator(
                state,
                &definition.code,
                type_code,
                "pipl_13_1_3",
            )
            .await?;
        }
    }
    Ok(())
}

/// The catalogue in English, and where each department's items are handled in person.
const ENGLISH: &str = include_str!("../../seed/service_items_en.json");

/// Adds to a demo item its English text (every material and form label translated: a
/// missing one stops the seed), its place at the service centre and the telephone lines.
fn add_guide_details(
    item: &mut serde_json::Value,
    kind: &str,
    english: &serde_json::Value,
) -> AppResult<()> {
    use serde_json::{Map, Value, json};
    let missing = |what: &str| AppError::Internal(anyhow::anyhow!("no English for {what}"));
    let code = item["code"].as_str().unwrap_or_default().to_owned();
    let mut en = english["items"]
        .get(&code)
        .cloned()
        .ok_or_else(|| missing(&code))?;
    let mut materials = Map::new();
    for material in item["materials"].as_array().into_iter().flatten() {
        let name = material["name"].as_str().unwrap_or_default();
        let translated = english["materials"]
            .get(name)
            .ok_or_else(|| missing(name))?;
        materials.insert(name.to_owned(), translated.clone());
    }
    let mut labels = Map::new();
    for field in item["form"].as_array().into_iter().flatten() {
        let label = field["label"].as_str().unwrap_or_default();
        let translated = english["labels"].get(label).ok_or_else(|| missing(label))?;
        labels.insert(
            field["code"].as_str().unwrap_or_default().to_owned(),
            translated.clone(),
        );
    }
    en["materials"] = Value::Object(materials);
    en["form"] = Value::Object(labels);
    item["en"] = en;
    let place = english["places"].get(kind).ok_or_else(|| missing(kind))?;
    item["places"] = json!([{
        "name": place["name"],
        "name_en": place["name_en"],
        "address": english["address"],
        "hours": english["hours"],
        "hours_en": english["hours_en"],
        "phone": place["phone"],
    }]);
    item["consultation_phone"] = json!("12345");
    item["complaint_phone"] = json!("12345");
    Ok(())
}

/// The demo's bundles (一件事).
const BUNDLES: &str = include_str!("../../seed/bundles.json");

pub(crate) async fn seed_bundles(state: &AppState) -> AppResult<()> {
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

pub(crate) async fn seed_calendar(state: &AppState) -> AppResult<()> {
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
                    state.pool(),
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
            crate::applications::store::ensure_calendar_day(
                state.pool(),
                region,
                day,
                "workday",
                name,
            )
            .await?;
        }
    }
    crate::cache::changed(state, crate::applications::CALENDARS, crate::cache::ALL).await;
    Ok(())
}
