//! The catalogue's editor for administrators: an item as a form — its fields, its lists of
//! materials, fees, form fields and places as rows (with empty rows to add more) — checked by
//! the same rules as the API, every broken rule shown beside its part of the form at once.
//! The definition as JSON stays available for those who exchange items as files.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::item::{
    CrossMode, English, Fee, FormField, Material, Place, ResultSpec, ServiceDefinition, Source,
    TimeLimit,
};
use crate::authz::{Action, Resource, can};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::{PageForm, PageQuery};
use crate::web::pages::{PageBase, PageCtx, PageError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console/services/new", get(new_form).post(create))
        .route("/console/services/{code}", get(edit_form).post(save))
}

/// Empty rows a list shows below its entries, to add to it.
const SPARE_ROWS: usize = 2;

#[derive(Debug, Clone, Default)]
struct MaterialRow {
    name: String,
    name_en: String,
    form: String,
    required: bool,
    source: String,
    certificate_type: String,
}

#[derive(Debug, Clone, Default)]
struct FeeRow {
    name: String,
    standard: String,
    basis: String,
}

#[derive(Debug, Clone, Default)]
struct FieldRow {
    code: String,
    label: String,
    label_en: String,
    kind: String,
    required: bool,
    prefill: String,
}

#[derive(Debug, Clone, Default)]
struct PlaceRow {
    name: String,
    name_en: String,
    address: String,
    hours: String,
    hours_en: String,
    phone: String,
}

/// An item as the form holds it: text as typed, so a refused save comes back unchanged.
#[derive(Debug, Clone, Default)]
struct EditModel {
    code: String,
    basic_code: String,
    handling_code: String,
    name: String,
    item_type: String,
    handling_kind: String,
    exercise_level: String,
    department: String,
    legal_basis: String,
    /// Working days; 0 is 即办.
    statutory_days: String,
    promised_days: String,
    conditions: String,
    online_depth: String,
    visits: String,
    visits_reason: String,
    scope: String,
    cross_modes: Vec<String>,
    joint_next: String,
    /// The workflow's steps, separated by commas.
    steps: String,
    result_kind: String,
    result_name: String,
    result_type: String,
    theme: String,
    life_events: String,
    keywords: String,
    guide: String,
    consent_free: Vec<String>,
    consultation_phone: String,
    complaint_phone: String,
    en_name: String,
    en_guide: String,
    en_conditions: String,
    en_result: String,
    en_visits_reason: String,
    materials: Vec<MaterialRow>,
    fees: Vec<FeeRow>,
    fields: Vec<FieldRow>,
    places: Vec<PlaceRow>,
}

/// An enum's value as the API writes it (`administrative_licence`).
fn word<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// An enum from its API word; None for anything else.
fn from_word<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_owned())).ok()
}

fn days(limit: TimeLimit) -> String {
    match limit {
        TimeLimit::Immediate => "0".into(),
        TimeLimit::WorkingDays { days } => days.to_string(),
    }
}

/// A list typed in one box: split on commas and 、, trimmed, empty parts dropped.
fn list(text: &str) -> Vec<String> {
    text.split([',', '，', '、'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

impl EditModel {
    fn from_definition(item: &ServiceDefinition) -> EditModel {
        let en = item.en.clone().unwrap_or_default();
        EditModel {
            code: item.code.clone(),
            basic_code: item.basic_code.clone(),
            handling_code: item.handling_code.clone().unwrap_or_default(),
            name: item.name.clone(),
            item_type: word(item.item_type),
            handling_kind: word(item.handling_kind),
            exercise_level: word(item.exercise_level),
            department: item.department.clone(),
            legal_basis: item.legal_basis.clone(),
            statutory_days: days(item.statutory_limit),
            promised_days: days(item.promised_limit),
            conditions: item.acceptance_conditions.clone(),
            online_depth: item.online_depth.to_string(),
            visits: item.visits.to_string(),
            visits_reason: item.visits_reason.clone().unwrap_or_default(),
            scope: word(item.scope),
            cross_modes: item.cross_modes.iter().map(|m| word(*m)).collect(),
            joint_next: item.joint_next.clone().unwrap_or_default(),
            steps: item.steps.join(", "),
            result_kind: word(item.result.kind),
            result_name: item.result.name.clone(),
            result_type: item.result.certificate_type.clone().unwrap_or_default(),
            theme: item.theme.clone().unwrap_or_default(),
            life_events: item.life_events.join("、"),
            keywords: item.keywords.join("、"),
            guide: item.guide.clone(),
            consent_free: item.consent_free_types.clone(),
            consultation_phone: item.consultation_phone.clone().unwrap_or_default(),
            complaint_phone: item.complaint_phone.clone().unwrap_or_default(),
            en_name: en.name.clone(),
            en_guide: en.guide.clone(),
            en_conditions: en.acceptance_conditions.clone().unwrap_or_default(),
            en_result: en.result.clone().unwrap_or_default(),
            en_visits_reason: en.visits_reason.clone().unwrap_or_default(),
            materials: item
                .materials
                .iter()
                .map(|m| MaterialRow {
                    name: m.name.clone(),
                    name_en: en.materials.get(&m.name).cloned().unwrap_or_default(),
                    form: word(m.form),
                    required: m.required,
                    source: word(m.source),
                    certificate_type: m.certificate_type.clone().unwrap_or_default(),
                })
                .collect(),
            fees: item
                .fees
                .iter()
                .map(|f| FeeRow {
                    name: f.name.clone(),
                    standard: f.standard.clone(),
                    basis: f.basis.clone(),
                })
                .collect(),
            fields: item
                .form
                .iter()
                .map(|f| FieldRow {
                    code: f.code.clone(),
                    label: f.label.clone(),
                    label_en: en.form.get(&f.code).cloned().unwrap_or_default(),
                    kind: word(f.kind),
                    required: f.required,
                    prefill: f.prefill.map(word).unwrap_or_default(),
                })
                .collect(),
            places: item
                .places
                .iter()
                .map(|p| PlaceRow {
                    name: p.name.clone(),
                    name_en: p.name_en.clone().unwrap_or_default(),
                    address: p.address.clone(),
                    hours: p.hours.clone(),
                    hours_en: p.hours_en.clone().unwrap_or_default(),
                    phone: p.phone.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// A new item's defaults: a promised item of the county, fully online, with the licence
    /// workflow's steps.
    fn blank() -> EditModel {
        EditModel {
            item_type: "public_service".into(),
            handling_kind: "promised".into(),
            exercise_level: "county".into(),
            statutory_days: "20".into(),
            promised_days: "5".into(),
            online_depth: "4".into(),
            visits: "0".into(),
            scope: "city".into(),
            steps: "accept, review, decide, deliver".into(),
            result_kind: "other".into(),
            ..EditModel::default()
        }
    }

    /// What the form sent: one value per name (`material.3.name`, …); a checkbox is there
    /// only when ticked.
    fn from_form(form: &HashMap<String, String>) -> EditModel {
        let text = |name: &str| form.get(name).cloned().unwrap_or_default();
        let ticked = |name: &str| form.contains_key(name);
        let rows = |prefix: &str| -> usize {
            form.keys()
                .filter_map(|key| key.strip_prefix(prefix)?.split('.').next()?.parse().ok())
                .map(|index: usize| index + 1)
                .max()
                .unwrap_or(0)
                .min(200)
        };
        let materials = (0..rows("material."))
            .map(|i| MaterialRow {
                name: text(&format!("material.{i}.name")),
                name_en: text(&format!("material.{i}.name_en")),
                form: text(&format!("material.{i}.form")),
                required: ticked(&format!("material.{i}.required")),
                source: text(&format!("material.{i}.source")),
                certificate_type: text(&format!("material.{i}.certificate_type")),
            })
            .filter(|row| !row.name.trim().is_empty())
            .collect();
        let fees = (0..rows("fee."))
            .map(|i| FeeRow {
                name: text(&format!("fee.{i}.name")),
                standard: text(&format!("fee.{i}.standard")),
                basis: text(&format!("fee.{i}.basis")),
            })
            .filter(|row| !row.name.trim().is_empty())
            .collect();
        let fields = (0..rows("field."))
            .map(|i| FieldRow {
                code: text(&format!("field.{i}.code")),
                label: text(&format!("field.{i}.label")),
                label_en: text(&format!("field.{i}.label_en")),
                kind: text(&format!("field.{i}.kind")),
                required: ticked(&format!("field.{i}.required")),
                prefill: text(&format!("field.{i}.prefill")),
            })
            .filter(|row| !row.code.trim().is_empty() || !row.label.trim().is_empty())
            .collect();
        let places = (0..rows("place."))
            .map(|i| PlaceRow {
                name: text(&format!("place.{i}.name")),
                name_en: text(&format!("place.{i}.name_en")),
                address: text(&format!("place.{i}.address")),
                hours: text(&format!("place.{i}.hours")),
                hours_en: text(&format!("place.{i}.hours_en")),
                phone: text(&format!("place.{i}.phone")),
            })
            .filter(|row| !row.name.trim().is_empty() || !row.address.trim().is_empty())
            .collect();
        let chosen = |prefix: &str| -> Vec<String> {
            let mut values: Vec<String> = form
                .keys()
                .filter_map(|key| key.strip_prefix(prefix))
                .map(str::to_owned)
                .collect();
            values.sort();
            values
        };
        EditModel {
            code: text("code"),
            basic_code: text("basic_code"),
            handling_code: text("handling_code"),
            name: text("name"),
            item_type: text("item_type"),
            handling_kind: text("handling_kind"),
            exercise_level: text("exercise_level"),
            department: text("department"),
            legal_basis: text("legal_basis"),
            statutory_days: text("statutory_days"),
            promised_days: text("promised_days"),
            conditions: text("conditions"),
            online_depth: text("online_depth"),
            visits: text("visits"),
            visits_reason: text("visits_reason"),
            scope: text("scope"),
            cross_modes: chosen("cross."),
            joint_next: text("joint_next"),
            steps: text("steps"),
            result_kind: text("result_kind"),
            result_name: text("result_name"),
            result_type: text("result_type"),
            theme: text("theme"),
            life_events: text("life_events"),
            keywords: text("keywords"),
            guide: text("guide"),
            consent_free: chosen("free."),
            consultation_phone: text("consultation_phone"),
            complaint_phone: text("complaint_phone"),
            en_name: text("en_name"),
            en_guide: text("en_guide"),
            en_conditions: text("en_conditions"),
            en_result: text("en_result"),
            en_visits_reason: text("en_visits_reason"),
            materials,
            fees,
            fields,
            places,
        }
    }

    /// The definition the form describes, or what cannot be read (by field), before the
    /// catalogue's rules are checked.
    fn definition(&self) -> Result<ServiceDefinition, Vec<Problem>> {
        let mut problems: Vec<Problem> = Vec::new();
        let mut pick = |field: &'static str, text: &str| -> Option<String> {
            let value = text.trim().to_owned();
            if value.is_empty() {
                problems.push(Problem::new(field, "rule.choose", field));
            }
            Some(value)
        };
        let item_type = pick("item_type", &self.item_type).and_then(|t| from_word(&t));
        let handling_kind = pick("handling_kind", &self.handling_kind).and_then(|t| from_word(&t));
        let exercise_level =
            pick("exercise_level", &self.exercise_level).and_then(|t| from_word(&t));
        let scope = pick("scope", &self.scope).and_then(|t| from_word(&t));
        let result_kind = pick("result_kind", &self.result_kind).and_then(|t| from_word(&t));
        let number = |problems: &mut Vec<Problem>, field: &'static str, text: &str| {
            text.trim().parse::<u32>().ok().or_else(|| {
                problems.push(Problem::new(field, "rule.number", ""));
                None
            })
        };
        let limit = |d: u32| {
            if d == 0 {
                TimeLimit::Immediate
            } else {
                TimeLimit::WorkingDays { days: d }
            }
        };
        let statutory = number(&mut problems, "statutory_limit", &self.statutory_days).map(limit);
        let promised = number(&mut problems, "promised_limit", &self.promised_days).map(limit);
        let depth = number(&mut problems, "online_depth", &self.online_depth)
            .and_then(|d| u8::try_from(d).ok());
        let visits =
            number(&mut problems, "visits", &self.visits).and_then(|v| u8::try_from(v).ok());
        let cross_modes: Vec<CrossMode> = self
            .cross_modes
            .iter()
            .filter_map(|m| from_word(m))
            .collect();
        let mut materials = Vec::new();
        for row in &self.materials {
            match (from_word(&row.form), from_word::<Source>(&row.source)) {
                (Some(form), Some(source)) => materials.push(Material {
                    name: row.name.trim().to_owned(),
                    form,
                    required: row.required,
                    source,
                    certificate_type: optional(&row.certificate_type),
                }),
                _ => problems.push(Problem::new(
                    "materials",
                    "rule.material_choices",
                    row.name.trim(),
                )),
            }
        }
        let mut form = Vec::new();
        for row in &self.fields {
            match from_word(&row.kind) {
                Some(kind) => form.push(FormField {
                    code: row.code.trim().to_owned(),
                    label: row.label.trim().to_owned(),
                    kind,
                    required: row.required,
                    prefill: from_word(&row.prefill),
                }),
                None => problems.push(Problem::new("form", "rule.field_kind", row.code.trim())),
            }
        }
        let translated = !self.en_name.trim().is_empty() || !self.en_guide.trim().is_empty();
        let en = translated.then(|| English {
            name: self.en_name.trim().to_owned(),
            guide: self.en_guide.trim().to_owned(),
            acceptance_conditions: optional(&self.en_conditions),
            result: optional(&self.en_result),
            visits_reason: optional(&self.en_visits_reason),
            materials: self
                .materials
                .iter()
                .filter(|row| !row.name_en.trim().is_empty())
                .map(|row| (row.name.trim().to_owned(), row.name_en.trim().to_owned()))
                .collect(),
            form: self
                .fields
                .iter()
                .filter(|row| !row.label_en.trim().is_empty())
                .map(|row| (row.code.trim().to_owned(), row.label_en.trim().to_owned()))
                .collect(),
        });
        let (
            Some(item_type),
            Some(handling_kind),
            Some(exercise_level),
            Some(scope),
            Some(result_kind),
            Some(statutory),
            Some(promised),
            Some(online_depth),
            Some(visits),
        ) = (
            item_type,
            handling_kind,
            exercise_level,
            scope,
            result_kind,
            statutory,
            promised,
            depth,
            visits,
        )
        else {
            return Err(problems);
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(ServiceDefinition {
            code: self.code.trim().to_owned(),
            basic_code: self.basic_code.trim().to_owned(),
            handling_code: optional(&self.handling_code),
            name: self.name.trim().to_owned(),
            item_type,
            handling_kind,
            legal_basis: self.legal_basis.trim().to_owned(),
            exercise_level,
            department: self.department.trim().to_owned(),
            statutory_limit: statutory,
            promised_limit: promised,
            acceptance_conditions: self.conditions.trim().to_owned(),
            materials,
            fees: self
                .fees
                .iter()
                .map(|f| Fee {
                    name: f.name.trim().to_owned(),
                    standard: f.standard.trim().to_owned(),
                    basis: f.basis.trim().to_owned(),
                })
                .collect(),
            online_depth,
            visits,
            visits_reason: optional(&self.visits_reason),
            scope,
            cross_modes,
            joint_next: optional(&self.joint_next),
            result: ResultSpec {
                kind: result_kind,
                name: self.result_name.trim().to_owned(),
                certificate_type: optional(&self.result_type),
            },
            steps: list(&self.steps),
            theme: optional(&self.theme),
            life_events: list(&self.life_events),
            keywords: list(&self.keywords),
            guide: self.guide.trim().to_owned(),
            places: self
                .places
                .iter()
                .map(|p| Place {
                    name: p.name.trim().to_owned(),
                    address: p.address.trim().to_owned(),
                    hours: p.hours.trim().to_owned(),
                    phone: optional(&p.phone),
                    name_en: optional(&p.name_en),
                    hours_en: optional(&p.hours_en),
                })
                .collect(),
            consultation_phone: optional(&self.consultation_phone),
            complaint_phone: optional(&self.complaint_phone),
            en,
            form,
            consent_free_types: self.consent_free.clone(),
        })
    }

    /// The lists with their spare rows, for the form.
    fn with_spare_rows(mut self) -> EditModel {
        self.materials
            .extend(std::iter::repeat_n(MaterialRow::default(), SPARE_ROWS));
        self.fees.extend(std::iter::repeat_n(FeeRow::default(), 1));
        self.fields
            .extend(std::iter::repeat_n(FieldRow::default(), SPARE_ROWS));
        self.places
            .extend(std::iter::repeat_n(PlaceRow::default(), 1));
        self
    }
}

/// A problem of the form: the part of the item, the rule's text key, and its subject (a
/// material's name, a field's code) or a message of the service's own.
#[derive(Debug, Clone)]
struct Problem {
    field: String,
    rule: Option<&'static str>,
    subject: String,
}

impl Problem {
    fn new(field: &str, rule: &'static str, subject: &str) -> Problem {
        Problem {
            field: field.to_owned(),
            rule: Some(rule),
            subject: subject.to_owned(),
        }
    }

    /// A refusal the service gave in its own words.
    fn said(field: &str, message: String) -> Problem {
        Problem {
            field: field.to_owned(),
            rule: None,
            subject: message,
        }
    }

    /// The problem in the page's language: (the part of the form, the words).
    fn words(&self, ctx: &PageCtx) -> (String, String) {
        let words = match self.rule {
            Some(rule) => ctx.t.get(rule).replace("{}", &self.subject),
            None => self.subject.clone(),
        };
        (self.field.clone(), words)
    }
}

/// The choices of a select: (value, words).
type Choices = Vec<(String, String)>;

fn choices(ctx: &PageCtx, prefix: &str, values: &[&str]) -> Choices {
    values
        .iter()
        .map(|v| {
            (
                (*v).to_owned(),
                ctx.t.get(&format!("{prefix}.{v}")).to_owned(),
            )
        })
        .collect()
}

#[derive(Template)]
#[template(path = "service_form.html")]
struct FormPage {
    base: PageBase,
    /// None for a new item.
    version: Option<i64>,
    model: EditModel,
    /// Broken rules by the form's part: (part, message).
    problems: Vec<(String, String)>,
    saved: bool,
    departments: Choices,
    cert_types: Choices,
    item_types: Choices,
    handling_kinds: Choices,
    levels: Choices,
    scopes: Choices,
    cross_modes: Choices,
    result_kinds: Choices,
    material_forms: Choices,
    sources: Choices,
    field_kinds: Choices,
    prefills: Choices,
}

impl FormPage {
    /// The problems of one part of the form.
    fn problems_of(&self, parts: &[&str]) -> Vec<&str> {
        self.problems
            .iter()
            .filter(|(part, _)| parts.contains(&part.as_str()))
            .map(|(_, message)| message.as_str())
            .collect()
    }
}

async fn page(
    state: &AppState,
    ctx: &PageCtx,
    version: Option<i64>,
    model: EditModel,
    problems: Vec<(String, String)>,
    saved: bool,
) -> Result<FormPage, PageError> {
    let departments = crate::admin::directory::departments(state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .filter_map(|d| d.uscc.map(|uscc| (uscc, d.name)))
        .collect();
    let cert_types = crate::certs::cert_types(state)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|t| (t.code, t.name))
        .collect();
    Ok(FormPage {
        base: ctx.base("services.console"),
        version,
        model: model.with_spare_rows(),
        problems,
        saved,
        departments,
        cert_types,
        item_types: choices(
            ctx,
            "item.type",
            &[
                "administrative_licence",
                "administrative_payment",
                "administrative_confirmation",
                "administrative_levy",
                "other_power",
                "public_service",
            ],
        ),
        handling_kinds: choices(ctx, "item.handling", &["immediate", "promised"]),
        levels: choices(
            ctx,
            "item.level",
            &["national", "provincial", "city", "county", "township"],
        ),
        scopes: choices(ctx, "item.scope", &["city", "province", "cross_province"]),
        cross_modes: choices(ctx, "item.cross", &["online", "proxy", "joint"]),
        result_kinds: choices(ctx, "item.result", &["certificate", "approval", "other"]),
        material_forms: choices(ctx, "services.form", &["original", "copy", "electronic"]),
        sources: choices(
            ctx,
            "item.source",
            &["applicant", "certificate_library", "department"],
        ),
        field_kinds: choices(ctx, "item.field", &["text", "date", "number", "list"]),
        prefills: choices(
            ctx,
            "item.prefill",
            &["name", "resident_id", "phone", "uscc"],
        ),
    })
}

/// The administrator may open the catalogue's console.
fn editor(ctx: &PageCtx) -> Result<&crate::identity::model::Actor, PageError> {
    let actor = ctx.actor()?;
    if !can(actor, Action::OpenServiceCatalogue, Resource::Platform) {
        return Err(ctx.error(AppError::Forbidden));
    }
    Ok(actor)
}

async fn new_form(State(state): State<AppState>, ctx: PageCtx) -> Result<Response, PageError> {
    editor(&ctx)?;
    let form = page(&state, &ctx, None, EditModel::blank(), Vec::new(), false).await?;
    Ok(ctx.render(&form))
}

/// After a save, the editor shows the item with word that it was saved.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EditQuery {
    #[serde(default)]
    saved: Option<u8>,
}

async fn edit_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageQuery(query): PageQuery<EditQuery>,
) -> Result<Response, PageError> {
    editor(&ctx)?;
    let detail = super::detail(&state, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let model = EditModel::from_definition(&detail.item);
    let saved = query.saved.is_some();
    let form = page(&state, &ctx, Some(detail.version), model, Vec::new(), saved).await?;
    Ok(ctx.render(&form))
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    PageForm(form): PageForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    submit(&state, &ctx, None, form).await
}

async fn save(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(code): Path<String>,
    PageForm(form): PageForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    submit(&state, &ctx, Some(code), form).await
}

/// Saves the form: every rule it breaks comes back beside its part, with the form as typed;
/// a saved item goes to its page in the editor.
async fn submit(
    state: &AppState,
    ctx: &PageCtx,
    code: Option<String>,
    form: HashMap<String, String>,
) -> Result<Response, PageError> {
    let actor = editor(ctx)?;
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let version = match (&code, form.get("version")) {
        (None, _) => None,
        (Some(_), Some(v)) => Some(
            v.parse::<i64>()
                .map_err(|_| ctx.error(AppError::BadRequest("the form has no version".into())))?,
        ),
        (Some(_), None) => {
            return Err(ctx.error(AppError::BadRequest("the form has no version".into())));
        }
    };
    let mut model = EditModel::from_form(&form);
    if let Some(code) = &code {
        // An item's code is its key: it does not change here.
        model.code = code.clone();
    }
    let refuse = |problems: Vec<(String, String)>, status: StatusCode, model: EditModel| async move {
        let page = page(state, ctx, version, model, problems, false).await?;
        Ok::<Response, PageError>((status, ctx.render(&page)).into_response())
    };
    let words = |problems: Vec<Problem>| problems.iter().map(|p| p.words(ctx)).collect();
    let definition = match model.definition() {
        Ok(definition) => definition,
        Err(problems) => {
            return refuse(words(problems), StatusCode::UNPROCESSABLE_ENTITY, model).await;
        }
    };
    let broken: Vec<Problem> = definition
        .violations()
        .into_iter()
        .map(|v| Problem::new(v.field, v.rule, &v.subject))
        .collect();
    if !broken.is_empty() {
        return refuse(words(broken), StatusCode::UNPROCESSABLE_ENTITY, model).await;
    }
    let request = super::SaveRequest {
        item: definition,
        version,
    };
    match super::save(state, actor, request).await {
        Ok(saved) => Ok(ctx.redirect(&format!("/console/services/{}?saved=1", saved.code))),
        Err(AppError::Invalid { field, reason }) => {
            let said = vec![Problem::said(field, reason)];
            refuse(words(said), StatusCode::UNPROCESSABLE_ENTITY, model).await
        }
        Err(AppError::Conflict(_)) => {
            let stale = vec![Problem::new("save", "services.stale", "")];
            refuse(words(stale), StatusCode::CONFLICT, model).await
        }
        Err(other) => Err(ctx.error(other)),
    }
}
