//! 一件事一次办: a bundle of items (opening a restaurant, a birth) applied for with one merged
//! form and one set of materials. Every item's application is checked before any is made;
//! then one application per item goes to its department, all in parallel, and the bundle's
//! status is the aggregate of theirs.

use serde::Serialize;

use super::{ApplicationView, ApplyRequest, FieldView, store};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::services::StoredItem;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BundleView {
    pub code: String,
    pub name: String,
    pub life_event: Option<String>,
    pub guide: String,
    /// (item code, item name).
    pub items: Vec<(String, String)>,
}

async fn items_of(state: &AppState, codes: &[String]) -> AppResult<Vec<StoredItem>> {
    let mut items = Vec::with_capacity(codes.len());
    for code in codes {
        items.push(
            crate::services::item_by_code(state, code)
                .await?
                .ok_or_else(|| AppError::Conflict(format!("the bundle's item {code} is gone")))?,
        );
    }
    Ok(items)
}

/// Every bundle of the catalogue (public).
pub async fn list(state: &AppState) -> AppResult<Vec<BundleView>> {
    let mut views = Vec::new();
    for b in store::bundles(state.pool()).await? {
        let items = items_of(state, &b.items).await?;
        views.push(BundleView {
            items: items
                .into_iter()
                .map(|i| (i.definition.code, i.definition.name))
                .collect(),
            code: b.code,
            name: b.name,
            life_event: b.life_event,
            guide: b.guide,
        });
    }
    Ok(views)
}

/// The merged form of a bundle: each field once (the first item's wording), in item order;
/// and the items themselves.
pub async fn merged(
    state: &AppState,
    actor: &Actor,
    code: &str,
) -> AppResult<(store::BundleRow, Vec<StoredItem>, Vec<FieldView>)> {
    let bundle = store::bundle_by_code(state.pool(), code)
        .await?
        .ok_or(AppError::NotFound)?;
    let items = items_of(state, &bundle.items).await?;
    let mut fields: Vec<FieldView> = Vec::new();
    for item in &items {
        for view in super::form_for(state, actor, &item.definition).await? {
            if !fields.iter().any(|f| f.field.code == view.field.code) {
                fields.push(view);
            }
        }
    }
    Ok((bundle, items, fields))
}

/// A bundle application and its parts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BundleApplicationView {
    pub id: String,
    pub bundle_code: String,
    pub name: String,
    /// in_progress (some part still being handled), completed (every part delivered), or
    /// finished (every part ended, some not delivered).
    pub status: String,
    pub applications: Vec<ApplicationView>,
}

fn aggregate(parts: &[ApplicationView]) -> &'static str {
    let finished = |a: &ApplicationView| tongban_workflow::table::FINAL.contains(&a.state.as_str());
    if !parts.iter().all(finished) {
        "in_progress"
    } else if parts
        .iter()
        .all(|a| a.state == tongban_workflow::table::DELIVERED)
    {
        "completed"
    } else {
        "finished"
    }
}

/// Applies for every item of a bundle with one merged form and one set of materials. Nothing
/// is made unless every part passes its checks.
pub async fn apply(
    state: &AppState,
    actor: &Actor,
    code: &str,
    request: ApplyRequest,
) -> AppResult<BundleApplicationView> {
    let (bundle, items, fields) = merged(state, actor, code).await?;
    for key in request.form.keys() {
        if !fields.iter().any(|f| &f.field.code == key) {
            return Err(AppError::invalid(
                "form",
                format!("{key} is not a field of this form"),
            ));
        }
    }
    for name in request.uploads.keys() {
        if !items
            .iter()
            .any(|i| i.definition.materials.iter().any(|m| &m.name == name))
        {
            return Err(AppError::invalid(
                "uploads",
                format!("{name} is not a material of this bundle"),
            ));
        }
    }
    let mut plans = Vec::with_capacity(items.len());
    for item in items {
        let part = ApplyRequest {
            form: request
                .form
                .iter()
                .filter(|(k, _)| item.definition.form.iter().any(|f| &f.code == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            uploads: request
                .uploads
                .iter()
                .filter(|(k, _)| item.definition.materials.iter().any(|m| &m.name == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            use_certificates: request.use_certificates,
        };
        plans.push(super::plan(state, actor, item, &part).await?);
    }
    let id = crate::random::new_id();
    store::insert_bundle_application(state, &id, &bundle.code, actor.id()).await?;
    let mut applications = Vec::with_capacity(plans.len());
    for plan in plans {
        applications.push(super::execute(state, actor, plan, Some(&id), false, None).await?);
    }
    for upload in request.uploads.values() {
        store::delete_upload(state.pool(), upload).await?;
    }
    Ok(BundleApplicationView {
        status: aggregate(&applications).to_owned(),
        id,
        bundle_code: bundle.code,
        name: bundle.name,
        applications,
    })
}

/// A bundle application as its applicant sees it.
pub async fn status(state: &AppState, actor: &Actor, id: &str) -> AppResult<BundleApplicationView> {
    let (code, _, _) = store::bundle_application(state.pool(), id)
        .await?
        .filter(|(_, account, _)| account == actor.id())
        .ok_or(AppError::NotFound)?;
    let bundle = store::bundle_by_code(state.pool(), &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let applications = super::views(state, store::of_bundle(state.pool(), id).await?).await?;
    Ok(BundleApplicationView {
        status: aggregate(&applications).to_owned(),
        id: id.to_owned(),
        bundle_code: code,
        name: bundle.name,
        applications,
    })
}
