//! Entities made by forms: a form whose XLSForm has an entities sheet makes one entity with
//! each submission — its id and label from the instance's `meta/entity`, its properties from
//! the answers of the questions marked `save_to` — in the same transaction as the submission.
//! The list and its properties come into being when the office approves the form (ODK Central
//! makes them when a form is published). A list that requires approval gets a submission's
//! entity only once the project's staff approve the submission (its review state).

use tongban_xform::{Answer, Form, Instance};

use super::content::{Content, MAX_PROPERTIES, MAX_TEXT, check_uuid, invalid, seal};
use super::store::{self, Dataset, EntityRow};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Makes the list a form saves to, and the properties it saves, where missing.
pub async fn declare(state: &AppState, project_id: i64, form: &Form, by: &str) -> AppResult<()> {
    let Some(entity) = &form.entity else {
        return Ok(());
    };
    let now = state.now();
    if store::dataset(state.pool(), project_id, &entity.dataset)
        .await?
        .is_none()
    {
        let dataset = Dataset {
            project_id,
            name: entity.dataset.clone(),
            approval_required: 0,
            created_by: by.to_owned(),
            created_at: now,
        };
        // Not added: another approval made it meanwhile (fine), or a list whose name differs
        // only in capitals is there.
        if !store::add_dataset(state.pool(), &dataset).await?
            && store::dataset(state.pool(), project_id, &entity.dataset)
                .await?
                .is_none()
        {
            return Err(AppError::Conflict(format!(
                "the project has a list whose name differs from {} only in capitals",
                entity.dataset
            )));
        }
    }
    let have = store::properties(state.pool(), project_id, &entity.dataset).await?;
    let wanted: Vec<&str> = form
        .nodes()
        .into_iter()
        .filter_map(|(_, node)| node.save_to.as_deref())
        .filter(|p| !have.iter().any(|(name, _)| name == p))
        .collect();
    if have.len() + wanted.len() > MAX_PROPERTIES {
        return Err(invalid(
            "save_to",
            format!(
                "the list {} would have more than {} properties",
                entity.dataset, MAX_PROPERTIES
            ),
        ));
    }
    for property in wanted {
        store::add_property(state.pool(), project_id, &entity.dataset, property, now).await?;
    }
    Ok(())
}

/// Who made a submission and where: what an entity made from it records.
pub struct Source<'a> {
    pub project_id: i64,
    pub submitter_id: i64,
    pub region_code: Option<&'a str>,
    pub instance_id: &'a str,
    pub at: i64,
}

/// The entity a submission makes (`None` when the form makes none, the instance asks for none
/// or the list waits for approval and `approved` is false). An instance whose entity is for
/// another list, has no valid id or no label is refused.
pub async fn from_submission(
    state: &AppState,
    form: &Form,
    xml: &str,
    answers: &[Answer],
    source: &Source<'_>,
    approved: bool,
) -> AppResult<Option<EntityRow>> {
    let Some(declared) = &form.entity else {
        return Ok(None);
    };
    let field = "xml_submission_file";
    let doc = Instance::parse(xml).map_err(|e| invalid(field, e.to_string()))?;
    let element = doc
        .children_named(Instance::ROOT, "meta")
        .next()
        .and_then(|meta| doc.children_named(meta, "entity").next());
    let Some(element) = element else {
        return Ok(None);
    };
    if !matches!(doc.attribute(element, "create"), Some("1" | "true")) {
        return Ok(None);
    }
    if doc.attribute(element, "dataset") != Some(declared.dataset.as_str()) {
        return Err(invalid(
            field,
            format!("meta/entity names another list than {}", declared.dataset),
        ));
    }
    let uuid = check_uuid(doc.attribute(element, "id").unwrap_or_default())
        .map_err(|_| invalid(field, "meta/entity has no valid id (a UUID)"))?;
    let mut label = doc
        .children_named(element, "label")
        .next()
        .map(|l| doc.text(l).trim().to_owned())
        .unwrap_or_default();
    if label.is_empty() {
        // A client that does not work the label out (the phone page) leaves it to the server.
        let expr = tongban_xform::xpath::parse(&declared.label)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("entity label: {e}")))?;
        let env = tongban_xform::xpath::Env {
            today: state.today(),
        };
        label = tongban_xform::xpath::eval(&expr, &doc, Instance::ROOT, &env)
            .text(&doc)
            .trim()
            .to_owned();
    }
    if label.is_empty() || label.chars().count() > MAX_TEXT {
        return Err(invalid(
            field,
            "meta/entity/label: an entity needs a label of 1 to 10,000 characters",
        ));
    }
    let dataset = store::dataset(state.pool(), source.project_id, &declared.dataset)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "the list {} does not exist; it is made when the form is approved",
                declared.dataset
            ))
        })?;
    if dataset.approval_required != 0 && !approved {
        return Ok(None);
    }
    let mut data = serde_json::Map::new();
    for (path, node) in form.nodes() {
        let Some(property) = &node.save_to else {
            continue;
        };
        if let Some(answer) = answers.iter().find(|a| a.field == path) {
            data.insert(property.clone(), answer.value.clone().into());
        }
    }
    let mut row = EntityRow {
        project_id: source.project_id,
        dataset: dataset.name,
        uuid,
        body_sealed: Vec::new(),
        version: 1,
        creator_id: source.submitter_id,
        created_at: source.at,
        updated_at: None,
        deleted_at: None,
        region_code: source.region_code.map(str::to_owned),
        source_instance: Some(source.instance_id.to_owned()),
    };
    seal(state, &mut row, &Content { label, data })?;
    Ok(Some(row))
}
