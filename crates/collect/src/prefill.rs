//! Collect once (一次采集): questions bound to what the platform already holds arrive filled
//! in. A form marks a key question — a person's ID number (`person.resident_id`) or an
//! enterprise's USCC (`enterprise.uscc`) — and the questions it fills (`person.name`,
//! `person.phone`, `person.address`, `person.region`, `enterprise.name`, `enterprise.region`); the collector types
//! the key, the platform fills the others, and the collector confirms or corrects them with
//! the person.
//!
//! A person's fields are read through the kernel's audited accessor
//! ([`crate::identity::personal::read_person_for_form`]): only for a device of the department
//! that runs the form, only residents of the department's region, counted against the device's
//! hourly limit, and recorded — purpose `form_prefill`, the form as the reference — before
//! anything is opened, so that the person sees it among who read their data. An enterprise's
//! registration is not personal data.

use tongban_core::{RegionCode, ResidentId, Uscc};
use tongban_xform::{Form, Kind};

use crate::error::{AppError, AppResult};
use crate::identity::personal;
use crate::state::AppState;
use crate::store::{self, Collector, FormRow, Project};

/// What a lookup filled: (question path, value), and whether the key was found.
pub struct Filled {
    pub values: Vec<(String, String)>,
    pub found: bool,
}

/// The question paths a form prefills from a key, with what each takes.
fn bound<'a>(form: &'a Form, prefix: &str) -> Vec<(String, &'a str)> {
    form.nodes()
        .into_iter()
        .filter_map(|(path, node)| {
            node.prefill
                .as_deref()
                .filter(|p| p.starts_with(prefix) && !tongban_xform::PREFILL_KEYS.contains(p))
                .map(|p| (path, p))
        })
        .collect()
}

async fn region_name(state: &AppState, code: &str) -> AppResult<String> {
    Ok(store::region_names(state.pool())
        .await?
        .into_iter()
        .find(|(c, _)| c == code)
        .map_or_else(|| code.to_owned(), |(_, name)| name))
}

/// Fills the questions bound to an entity list (`entity.{list}.{property}`) from the entity
/// chosen: one the device's unit sees, counted against the device's hourly reads and recorded
/// in the transparency log (the entity's id, the form, the device) before it is opened.
async fn from_entity(
    state: &AppState,
    user: &Collector,
    project: &Project,
    row: &FormRow,
    form: &Form,
    list: &str,
    key: &str,
) -> AppResult<Filled> {
    let not_found = Filled {
        values: Vec::new(),
        found: false,
    };
    let uuid = crate::entities::content::check_uuid(key).map_err(|_| AppError::Invalid {
        field: "key",
        reason: "choose one of the list".into(),
    })?;
    let Some(entity) =
        crate::entities::store::entity(state.pool(), project.id, list, &uuid).await?
    else {
        return Ok(not_found);
    };
    let seen = match (&user.region_code, &entity.region_code) {
        (_, None) | (None, _) => true,
        (Some(unit), Some(made_in)) => made_in.starts_with(unit.as_str()),
    };
    if entity.deleted_at.is_some() || !seen {
        return Ok(not_found);
    }
    let reader = format!("collect-device:{}", user.id);
    personal::count_collector_read(state, &reader).await?;
    crate::service::log_as(
        state,
        &reader,
        "collect.entity_prefilled",
        serde_json::json!({
            "project": project.id,
            "form": row.xml_form_id,
            "list": list,
            "entity": uuid,
        }),
    )
    .await?;
    let content = crate::entities::content::open(state, &entity)?;
    let values = form
        .nodes()
        .into_iter()
        .filter_map(|(path, node)| {
            let (from, property) = tongban_xform::entity_prefill(node.prefill.as_deref()?)?;
            if from != list {
                return None;
            }
            let value = if property == "label" {
                Some(content.label.clone())
            } else {
                content
                    .data
                    .get(property)
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            }?;
            Some((path, value))
        })
        .collect();
    Ok(Filled {
        values,
        found: true,
    })
}

/// Looks up the key typed in the question `key_path` of an open form and fills the questions
/// bound to it.
pub async fn lookup(
    state: &AppState,
    user: &Collector,
    project: &Project,
    row: &FormRow,
    form: &Form,
    key_path: &str,
    key: &str,
) -> AppResult<Filled> {
    let Some((_, node)) = form.nodes().into_iter().find(|(p, _)| p == key_path) else {
        return Err(AppError::NotFound);
    };
    let invalid = |reason: &str| AppError::Invalid {
        field: "key",
        reason: reason.to_owned(),
    };
    let key = key.trim();
    if let Kind::SelectOneFromFile(file) = &node.kind {
        let list = tongban_xform::file_list(file).ok_or(AppError::NotFound)?;
        return from_entity(state, user, project, row, form, list, key).await;
    }
    match node.prefill.as_deref() {
        Some("person.resident_id") => {
            let resident: ResidentId = key.parse().map_err(|_| {
                invalid("not a valid resident ID number (18 characters, with its check digit)")
            })?;
            let targets = bound(form, "person.");
            let wanted: Vec<&str> = targets
                .iter()
                .map(|(_, what)| match *what {
                    "person.name" => "name",
                    "person.phone" => "phone",
                    "person.address" => "address",
                    _ => "region_code",
                })
                .collect();
            let region: RegionCode = project
                .region_code
                .parse()
                .map_err(|e: tongban_core::IdError| AppError::Internal(e.into()))?;
            let reader = format!("collect-device:{}", user.id);
            let read = personal::read_person_for_form(
                state,
                personal::Collector {
                    id: &reader,
                    department_id: &project.department_id,
                    region: &region,
                },
                &resident,
                &wanted,
                &format!("collect:{}/{}", project.id, row.xml_form_id),
            )
            .await?;
            let Some(fields) = read else {
                return Ok(Filled {
                    values: Vec::new(),
                    found: false,
                });
            };
            let mut values = Vec::new();
            for (path, what) in targets {
                let item = match what {
                    "person.name" => "name",
                    "person.phone" => "phone",
                    "person.address" => "address",
                    _ => "region_code",
                };
                if let Some((_, text)) = fields.iter().find(|(f, _)| *f == item) {
                    let value = if item == "region_code" {
                        region_name(state, text.expose()).await?
                    } else {
                        text.expose().to_owned()
                    };
                    values.push((path, value));
                }
            }
            Ok(Filled {
                values,
                found: true,
            })
        }
        Some("enterprise.uscc") => {
            let uscc: Uscc = key
                .parse()
                .map_err(|_| invalid("not a valid unified social credit code (18 characters, with its check character)"))?;
            let Some(id) = personal::enterprise_id_by_uscc(state, &uscc).await? else {
                return Ok(Filled {
                    values: Vec::new(),
                    found: false,
                });
            };
            let Some(enterprise) = personal::enterprise(state, &id).await? else {
                return Ok(Filled {
                    values: Vec::new(),
                    found: false,
                });
            };
            let mut values = Vec::new();
            for (path, what) in bound(form, "enterprise.") {
                let value = if what == "enterprise.name" {
                    enterprise.name.clone()
                } else {
                    region_name(state, enterprise.region_code.as_str()).await?
                };
                values.push((path, value));
            }
            Ok(Filled {
                values,
                found: true,
            })
        }
        _ => Err(invalid("this question is not a key the platform looks up")),
    }
}
