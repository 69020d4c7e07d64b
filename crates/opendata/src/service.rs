//! The use-cases of the open-data portal: organizations, datasets, resources through the
//! personal-data gate to publication by a second person, the catalogue as everyone sees it,
//! downloads and the datastore.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use sha2::Digest as _;

use crate::authz::{self, Action, Resource as On};
use crate::error::{AppError, AppResult};
use crate::gate::{self, Finding, Treatment};
use crate::identity::model::Actor;
use crate::model::{self, Dataset, Organization, Resource, ResourceState};
use crate::state::AppState;
use crate::store::{self, FileKind};
use crate::table::{self, Field, Format, Table};

/// The scope of the catalogue in the nodes' caches: published on every change of an
/// organization, a dataset or a resource.
pub const CATALOGUE: &str = "open-data";
/// The largest upload taken, in bytes.
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;
/// Rows a preview shows.
pub const PREVIEW_ROWS: usize = 20;

/// A dataset with what the portal shows beside it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dataset: Dataset,
    pub organization: Organization,
    pub resources: Vec<Resource>,
}

impl Entry {
    /// Whether the actor may see it: a public dataset, or a private one of their department.
    pub fn visible_to(&self, actor: Option<&Actor>) -> bool {
        !self.dataset.private || can_prepare(actor, &self.dataset.department_id)
    }

    /// The formats of its resources, upper-cased, once each.
    pub fn formats(&self) -> Vec<String> {
        let mut formats: Vec<String> = self
            .resources
            .iter()
            .map(|r| r.format.to_uppercase())
            .filter(|f| !f.is_empty())
            .collect();
        formats.sort();
        formats.dedup();
        formats
    }
}

impl tongban_search::Searchable for Entry {
    fn title(&self) -> &str {
        &self.dataset.title
    }

    fn keywords(&self) -> &[String] {
        &self.dataset.tags
    }

    fn body(&self) -> &str {
        &self.dataset.notes
    }
}

/// Every active dataset with its organization and resources, as one node holds it.
#[derive(Debug, Default)]
pub struct Catalogue {
    pub entries: Vec<Entry>,
    pub organizations: Vec<Organization>,
    /// The entries indexed for search, by their position in `entries`.
    pub index: tongban_search::Index,
    /// For each facet field (as [`FACETS`] names them), the values of each entry.
    pub facets: Vec<FacetColumn>,
}

/// The fields `package_search` facets on and `fq` filters by.
pub const FACETS: [&str; 5] = ["organization", "groups", "tags", "res_format", "license_id"];

/// The values an entry carries for a facet field, each once (formats upper-cased).
pub fn facet_values<'e>(entry: &'e Entry, field: &str) -> Vec<Cow<'e, str>> {
    let borrowed =
        |values: &'e [String]| values.iter().map(|v| Cow::Borrowed(v.as_str())).collect();
    let mut values: Vec<Cow<'e, str>> = match field {
        "organization" => vec![Cow::Borrowed(entry.organization.name.as_str())],
        "groups" => borrowed(&entry.dataset.themes),
        "tags" => borrowed(&entry.dataset.tags),
        "res_format" => entry
            .resources
            .iter()
            .map(|r| r.format.as_str())
            .filter(|f| !f.is_empty())
            .map(|f| {
                if f.bytes().any(|b| b.is_ascii_lowercase()) || !f.is_ascii() {
                    Cow::Owned(f.to_uppercase())
                } else {
                    Cow::Borrowed(f)
                }
            })
            .collect(),
        "license_id" => vec![Cow::Borrowed(entry.dataset.license_id.as_str())],
        _ => Vec::new(),
    };
    // Values are few: keep the first of each.
    let mut at = 1;
    while at < values.len() {
        if values[..at].contains(&values[at]) {
            values.remove(at);
        } else {
            at += 1;
        }
    }
    values
}

/// The values of one facet field for every entry of a catalogue, numbered and laid out in one
/// array (entry `i`'s are `items[offsets[i]..offsets[i + 1]]`), so that counting the values
/// of thousands of found entries reads two arrays instead of every entry.
#[derive(Debug, Default)]
pub struct FacetColumn {
    pub field: &'static str,
    values: Vec<String>,
    ids: HashMap<String, u32>,
    offsets: Vec<u32>,
    items: Vec<u32>,
}

impl FacetColumn {
    fn new(field: &'static str, entries: &[Entry]) -> FacetColumn {
        let mut column = FacetColumn {
            field,
            offsets: Vec::with_capacity(entries.len() + 1),
            ..FacetColumn::default()
        };
        column.offsets.push(0);
        for entry in entries {
            for value in facet_values(entry, field) {
                let next = column.values.len() as u32;
                let id = *column.ids.entry(value.to_string()).or_insert(next);
                if id == next {
                    column.values.push(value.into_owned());
                }
                column.items.push(id);
            }
            column.offsets.push(column.items.len() as u32);
        }
        column
    }

    /// The value numbers of the entry at `position`.
    pub fn of(&self, position: usize) -> &[u32] {
        match (self.offsets.get(position), self.offsets.get(position + 1)) {
            (Some(&from), Some(&to)) => &self.items[from as usize..to as usize],
            _ => &[],
        }
    }

    pub fn id(&self, value: &str) -> Option<u32> {
        self.ids.get(value).copied()
    }

    pub fn value(&self, id: u32) -> &str {
        self.values.get(id as usize).map_or("", String::as_str)
    }

    /// How many of the entries at `positions` carry each value, most first, then by value.
    pub fn counts(&self, positions: &[usize]) -> Vec<(String, usize)> {
        let mut counts = vec![0usize; self.values.len()];
        for &at in positions {
            for &id in self.of(at) {
                counts[id as usize] += 1;
            }
        }
        let mut counted: Vec<(String, usize)> = counts
            .into_iter()
            .enumerate()
            .filter(|(_, n)| *n > 0)
            .map(|(id, n)| (self.value(id as u32).to_owned(), n))
            .collect();
        counted.sort_by(|(a, x), (b, y)| y.cmp(x).then_with(|| a.cmp(b)));
        counted
    }
}

impl Catalogue {
    pub fn new(entries: Vec<Entry>, organizations: Vec<Organization>) -> Catalogue {
        Catalogue {
            index: tongban_search::Index::new(&entries),
            facets: FACETS
                .iter()
                .map(|field| FacetColumn::new(field, &entries))
                .collect(),
            entries,
            organizations,
        }
    }

    /// The values of a facet field, when it is one.
    pub fn facet(&self, field: &str) -> Option<&FacetColumn> {
        self.facets.iter().find(|f| f.field == field)
    }

    /// The entries the actor may see: public ones, and the private ones of their department.
    pub fn visible<'a>(&'a self, actor: Option<&'a Actor>) -> impl Iterator<Item = &'a Entry> {
        self.entries.iter().filter(move |e| e.visible_to(actor))
    }

    pub fn entry(&self, id_or_name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.dataset.id == id_or_name || e.dataset.name == id_or_name)
    }

    pub fn organization(&self, id_or_name: &str) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|o| o.department_id == id_or_name || o.name == id_or_name)
    }
}

type CatalogueCache = Arc<crate::cache::Coherent<Arc<Catalogue>>>;

/// The catalogue, from this node's cache while no change was published.
pub async fn catalogue(state: &AppState) -> AppResult<Arc<Catalogue>> {
    let Some(cache) = state.try_module::<CatalogueCache>() else {
        return Ok(Arc::new(read_catalogue(state).await?));
    };
    let entry = cache
        .get_or_load(state.now(), "all", || async {
            Ok(Some(Arc::new(read_catalogue(state).await?)))
        })
        .await?;
    match entry {
        Some(entry) => Ok(entry.value.clone()),
        None => Ok(Arc::new(read_catalogue(state).await?)),
    }
}

async fn read_catalogue(state: &AppState) -> AppResult<Catalogue> {
    let organizations = store::organizations(state.pool()).await?;
    let datasets = store::active_datasets(state.pool()).await?;
    let mut resources: HashMap<String, Vec<Resource>> = HashMap::new();
    for resource in store::active_resources(state.pool()).await? {
        resources
            .entry(resource.dataset_id.clone())
            .or_default()
            .push(resource);
    }
    let entries = datasets
        .into_iter()
        .filter_map(|dataset| {
            let organization = organizations
                .iter()
                .find(|o| o.department_id == dataset.department_id)?
                .clone();
            Some(Entry {
                resources: resources.remove(&dataset.id).unwrap_or_default(),
                organization,
                dataset,
            })
        })
        .collect();
    Ok(Catalogue::new(entries, organizations))
}

async fn changed(state: &AppState) {
    crate::cache::changed(state, CATALOGUE, crate::cache::ALL).await;
}

fn can_prepare(actor: Option<&Actor>, department_id: &str) -> bool {
    actor.is_some_and(|a| {
        authz::can(
            a,
            Action::PrepareOpenData,
            On::Department { id: department_id },
        )
    })
}

/// Whether the actor prepares open data for the department (and so sees what is under review).
pub fn may_prepare(actor: &Actor, department_id: &str) -> bool {
    can_prepare(Some(actor), department_id)
}

/// Whether the actor publishes for the department.
pub fn may_publish(actor: &Actor, department_id: &str) -> bool {
    can_publish(actor, department_id)
}

fn can_publish(actor: &Actor, department_id: &str) -> bool {
    authz::can(
        actor,
        Action::PublishOpenData,
        On::Department { id: department_id },
    )
}

fn require(allowed: bool) -> AppResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

// ---- organizations

/// An organization by its department id or URL name (read from the database: a write must
/// not rebuild the whole catalogue).
pub async fn organization(state: &AppState, id_or_name: &str) -> AppResult<Option<Organization>> {
    Ok(store::organizations(state.pool())
        .await?
        .into_iter()
        .find(|o| o.department_id == id_or_name || o.name == id_or_name))
}

/// A department joins the portal as a publishing organization, under a URL name (its own
/// administrators).
pub async fn create_organization(
    state: &AppState,
    actor: &Actor,
    name: &str,
    title: Option<String>,
    description: String,
) -> AppResult<Organization> {
    let department_id = actor
        .account
        .department_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    require(can_publish(actor, &department_id))?;
    check_name(name)?;
    if organization(state, &department_id).await?.is_some() {
        return Err(AppError::invalid(
            "name",
            "the department already publishes as an organization",
        ));
    }
    if organization(state, name).await?.is_some() {
        return Err(AppError::invalid("name", "that name is already in use"));
    }
    let department = crate::admin::store::department(state.pool(), &department_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let organization = Organization {
        department_id,
        name: name.to_owned(),
        title: title
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(department.name),
        title_en: department.name_en,
        description,
        created_at: state.now(),
    };
    store::insert_organization(state.pool(), &organization, actor.id()).await?;
    changed(state).await;
    Ok(organization)
}

// ---- datasets

/// What a publisher says of a dataset.
#[derive(Debug, Clone, Default)]
pub struct DatasetInput {
    /// Kept when given on creation (a dataset moved between portals keeps its id).
    pub id: Option<String>,
    pub name: String,
    /// The organization's name or department id.
    pub owner_org: String,
    pub title: String,
    pub title_en: String,
    pub notes: String,
    pub notes_en: String,
    pub themes: Vec<String>,
    pub tags: Vec<String>,
    pub license_id: String,
    pub frequency: String,
    pub temporal_start: Option<String>,
    pub temporal_end: Option<String>,
    pub spatial: String,
    pub contact_name: String,
    pub contact_email: String,
    pub source: Option<String>,
    pub private: bool,
}

/// CKAN's rule for URL names: 2 to 100 of a–z, 0–9, `-` and `_`.
fn check_name(name: &str) -> AppResult<()> {
    let ok = (2..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "name",
            "must be 2 to 100 characters of lower-case letters, digits, - and _",
        ))
    }
}

fn check_date(field: &'static str, value: &Option<String>) -> AppResult<()> {
    match value {
        Some(day) if day.is_empty() || !table::ColumnType::Date.admits(day) => {
            Err(AppError::invalid(field, "must be a date as YYYY-MM-DD"))
        }
        _ => Ok(()),
    }
}

fn check_input(input: &DatasetInput) -> AppResult<()> {
    check_name(&input.name)?;
    if input.title.trim().is_empty() || input.title.chars().count() > 200 {
        return Err(AppError::invalid("title", "must be 1 to 200 characters"));
    }
    if input.notes.len() > 20_000 || input.notes_en.len() > 20_000 {
        return Err(AppError::invalid("notes", "is over 20,000 bytes"));
    }
    if let Some(unknown) = input
        .themes
        .iter()
        .find(|t| model::theme_named(t).is_none())
    {
        return Err(AppError::invalid(
            "groups",
            format!("no theme is named {unknown}"),
        ));
    }
    if input.tags.len() > 50
        || input
            .tags
            .iter()
            .any(|t| t.trim().is_empty() || t.chars().count() > 100 || t.contains(','))
    {
        return Err(AppError::invalid(
            "tags",
            "at most 50 tags of 1 to 100 characters, without commas",
        ));
    }
    if model::licence(&input.license_id).is_none() {
        return Err(AppError::invalid(
            "license_id",
            format!(
                "must be one of {}",
                model::LICENCES.map(|l| l.id).join(", ")
            ),
        ));
    }
    if !model::FREQUENCIES.iter().any(|f| f.0 == input.frequency) {
        return Err(AppError::invalid(
            "frequency",
            format!(
                "must be one of {}",
                model::FREQUENCIES.map(|f| f.0).join(", ")
            ),
        ));
    }
    check_date("temporal_start", &input.temporal_start)?;
    check_date("temporal_end", &input.temporal_end)?;
    if let (Some(start), Some(end)) = (&input.temporal_start, &input.temporal_end)
        && end < start
    {
        return Err(AppError::invalid(
            "temporal_end",
            "is before temporal_start",
        ));
    }
    if !input.contact_email.is_empty() && !input.contact_email.contains('@') {
        return Err(AppError::invalid(
            "contact_email",
            "is not an e-mail address",
        ));
    }
    Ok(())
}

/// A dataset opened from the data-sharing catalogue names a resource of its own department
/// whose open type (开放类型) allows opening.
async fn check_source(
    state: &AppState,
    actor: &Actor,
    department_id: &str,
    source: &Option<String>,
) -> AppResult<()> {
    let Some(code) = source else {
        return Ok(());
    };
    let resource = match tongban_exchange::catalogue::service::resource(state, actor, code).await {
        Err(AppError::NotFound) => {
            return Err(AppError::invalid(
                "source",
                "no resource of the data catalogue has this code",
            ));
        }
        other => other?,
    };
    if resource.department_id != department_id {
        return Err(AppError::invalid(
            "source",
            "the catalogue resource belongs to another department",
        ));
    }
    if resource.open_type == tongban_exchange::catalogue::model::OpenType::None {
        return Err(AppError::invalid(
            "source",
            "the catalogue says this resource is not to be opened (不予开放)",
        ));
    }
    Ok(())
}

/// The department's catalogue resources whose open type allows opening: (code, name).
pub async fn openable_sources(
    state: &AppState,
    actor: &Actor,
    department_id: &str,
) -> AppResult<Vec<(String, String)>> {
    Ok(
        tongban_exchange::catalogue::service::resources(state, actor)
            .await?
            .into_iter()
            .filter(|r| {
                r.department_id == department_id
                    && r.open_type != tongban_exchange::catalogue::model::OpenType::None
            })
            .map(|r| (r.code, r.name))
            .collect(),
    )
}

/// Who may do what to a dataset of `department_id` that will be `private` or public: anyone
/// preparing for the department keeps it private; making it public is publishing.
fn check_rights(actor: &Actor, department_id: &str, public: bool) -> AppResult<()> {
    require(can_prepare(Some(actor), department_id))?;
    if public {
        require(can_publish(actor, department_id))?;
    }
    Ok(())
}

pub async fn create_dataset(
    state: &AppState,
    actor: &Actor,
    input: DatasetInput,
) -> AppResult<Dataset> {
    check_input(&input)?;
    let organization = organization(state, &input.owner_org)
        .await?
        .ok_or_else(|| AppError::invalid("owner_org", "no organization is named so"))?;
    check_rights(actor, &organization.department_id, !input.private)?;
    check_source(state, actor, &organization.department_id, &input.source).await?;
    if store::dataset(state.pool(), &input.name).await?.is_some() {
        return Err(AppError::invalid("name", "that URL is already in use"));
    }
    let id = match input.id.clone() {
        Some(id) => {
            let parsed = uuid::Uuid::parse_str(&id)
                .map_err(|_| AppError::invalid("id", "must be a UUID"))?;
            if store::dataset(state.pool(), &id).await?.is_some() {
                return Err(AppError::invalid("id", "that id is already in use"));
            }
            parsed.hyphenated().to_string()
        }
        None => crate::random::new_id(),
    };
    let now = state.now();
    let dataset = Dataset {
        id,
        department_id: organization.department_id.clone(),
        created_by: actor.id().to_owned(),
        created_at: now,
        modified_at: now,
        state: "active".into(),
        ..apply(None, input)
    };
    store::insert_dataset(state.pool(), &dataset).await?;
    changed(state).await;
    Ok(dataset)
}

/// A dataset with what the input says; identity and creation from `existing`.
fn apply(existing: Option<&Dataset>, input: DatasetInput) -> Dataset {
    Dataset {
        id: existing.map(|d| d.id.clone()).unwrap_or_default(),
        name: input.name,
        department_id: existing
            .map(|d| d.department_id.clone())
            .unwrap_or_default(),
        title: input.title.trim().to_owned(),
        title_en: input.title_en.trim().to_owned(),
        notes: input.notes,
        notes_en: input.notes_en,
        themes: input.themes,
        tags: input
            .tags
            .into_iter()
            .map(|t| t.trim().to_owned())
            .collect(),
        license_id: input.license_id,
        frequency: input.frequency,
        temporal_start: input.temporal_start,
        temporal_end: input.temporal_end,
        spatial: input.spatial,
        contact_name: input.contact_name,
        contact_email: input.contact_email,
        source: input.source,
        private: input.private,
        state: existing.map(|d| d.state.clone()).unwrap_or_default(),
        created_by: existing.map(|d| d.created_by.clone()).unwrap_or_default(),
        created_at: existing.map_or(0, |d| d.created_at),
        modified_at: existing.map_or(0, |d| d.modified_at),
    }
}

/// The input that leaves a dataset as it is (for patches).
pub fn input_of(dataset: &Dataset, organization: &Organization) -> DatasetInput {
    DatasetInput {
        id: Some(dataset.id.clone()),
        name: dataset.name.clone(),
        owner_org: organization.name.clone(),
        title: dataset.title.clone(),
        title_en: dataset.title_en.clone(),
        notes: dataset.notes.clone(),
        notes_en: dataset.notes_en.clone(),
        themes: dataset.themes.clone(),
        tags: dataset.tags.clone(),
        license_id: dataset.license_id.clone(),
        frequency: dataset.frequency.clone(),
        temporal_start: dataset.temporal_start.clone(),
        temporal_end: dataset.temporal_end.clone(),
        spatial: dataset.spatial.clone(),
        contact_name: dataset.contact_name.clone(),
        contact_email: dataset.contact_email.clone(),
        source: dataset.source.clone(),
        private: dataset.private,
    }
}

/// A dataset, if the actor may see it (a private or deleted one only by its department).
pub async fn dataset_for(
    state: &AppState,
    actor: Option<&Actor>,
    id_or_name: &str,
) -> AppResult<Dataset> {
    let dataset = store::dataset(state.pool(), id_or_name)
        .await?
        .ok_or(AppError::NotFound)?;
    let hidden = dataset.private || dataset.state != "active";
    if hidden && !can_prepare(actor, &dataset.department_id) {
        return Err(AppError::NotFound);
    }
    Ok(dataset)
}

pub async fn update_dataset(
    state: &AppState,
    actor: &Actor,
    id_or_name: &str,
    input: DatasetInput,
) -> AppResult<Dataset> {
    let existing = dataset_for(state, Some(actor), id_or_name).await?;
    check_input(&input)?;
    // Public before or after: a change to what the public reads is publishing.
    check_rights(
        actor,
        &existing.department_id,
        !existing.private || !input.private,
    )?;
    check_source(state, actor, &existing.department_id, &input.source).await?;
    if input.name != existing.name && store::dataset(state.pool(), &input.name).await?.is_some() {
        return Err(AppError::invalid("name", "that URL is already in use"));
    }
    if let Some(org) = organization(state, &input.owner_org).await?
        && org.department_id != existing.department_id
    {
        return Err(AppError::invalid(
            "owner_org",
            "a dataset stays with the department that made it",
        ));
    }
    let mut dataset = apply(Some(&existing), input);
    dataset.state = "active".into();
    dataset.modified_at = state.now();
    store::update_dataset(state.pool(), &dataset).await?;
    changed(state).await;
    Ok(dataset)
}

/// Deletes a dataset (its administrators): it leaves the catalogue, its datastore tables and
/// files are dropped; the name stays taken.
pub async fn delete_dataset(state: &AppState, actor: &Actor, id_or_name: &str) -> AppResult<()> {
    let mut dataset = dataset_for(state, Some(actor), id_or_name).await?;
    require(can_publish(actor, &dataset.department_id))?;
    for resource in store::resources_of(state.pool(), &dataset.id).await? {
        store::drop_datastore(state.pool(), &resource.id).await?;
        store::delete_files(state.pool(), &resource.id, None).await?;
    }
    dataset.state = "deleted".into();
    dataset.modified_at = state.now();
    store::update_dataset(state.pool(), &dataset).await?;
    changed(state).await;
    Ok(())
}

// ---- resources

/// What a publisher says of a resource.
#[derive(Debug, Clone, Default)]
pub struct ResourceInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub format: Option<String>,
    /// A link to data held elsewhere (none for an upload).
    pub url: Option<String>,
    /// The columns to check for k-anonymity, and k.
    pub quasi: Option<Vec<String>>,
    pub k: Option<i64>,
}

/// An uploaded file.
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// A table prepared for the gate: parsed, treated, typed and scanned.
pub struct Prepared {
    pub table: Table,
    pub fields: Vec<Field>,
    pub findings: Vec<Finding>,
}

/// Parses a file and applies the treatments: dropped columns go, masked ones are starred;
/// then every cell is scanned.
pub fn prepare(
    bytes: &[u8],
    format: Format,
    treatments: &[(String, Treatment)],
    quasi: &[String],
    k: u64,
) -> Result<Prepared, table::TableError> {
    let mut table = table::parse(bytes, format)?;
    let keep: Vec<usize> = (0..table.columns.len())
        .filter(|&i| {
            !treatments
                .iter()
                .any(|(c, t)| *c == table.columns[i] && matches!(t, Treatment::Drop))
        })
        .collect();
    let masked: Vec<(usize, Option<gate::Kind>)> = keep
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            treatments
                .iter()
                .any(|(c, t)| *c == table.columns[**i] && matches!(t, Treatment::Mask))
        })
        .map(|(new, i)| (new, gate::column_kind(&table.columns[*i])))
        .collect();
    if keep.len() != table.columns.len() {
        table.columns = keep.iter().map(|&i| table.columns[i].clone()).collect();
        for row in &mut table.rows {
            *row = keep.iter().map(|&i| std::mem::take(&mut row[i])).collect();
        }
    }
    for row in &mut table.rows {
        for (column, by_name) in &masked {
            row[*column] = gate::mask_cell(&row[*column], *by_name);
        }
    }
    let fields = table::infer(&table);
    let findings = gate::scan(
        &table.columns,
        table.rows.iter().map(Vec::as_slice),
        quasi,
        k,
    );
    Ok(Prepared {
        table,
        fields,
        findings,
    })
}

pub(crate) fn raw_context(resource_id: &str) -> String {
    format!("open_files/raw/{resource_id}")
}

fn table_error(error: table::TableError) -> AppError {
    AppError::invalid("upload", error)
}

/// The format of an upload: as named, else by its file name.
fn upload_format(input: &ResourceInput, upload: &Upload) -> AppResult<Format> {
    input
        .format
        .as_deref()
        .filter(|f| !f.is_empty())
        .and_then(Format::from_name)
        .or_else(|| Format::from_name(&upload.file_name))
        .ok_or_else(|| AppError::invalid("format", "uploads are CSV, JSON or XLSX files"))
}

fn check_quasi(quasi: &[String], k: i64) -> AppResult<()> {
    if !(2..=1000).contains(&k) {
        return Err(AppError::invalid("k", "must be between 2 and 1000"));
    }
    if quasi.len() > 16 {
        return Err(AppError::invalid("quasi_identifiers", "at most 16 columns"));
    }
    Ok(())
}

/// Adds a resource to a dataset: a link, or an upload the gate scans at once; an upload is
/// stored sealed and waits for treatment and a second person.
pub async fn add_resource(
    state: &AppState,
    actor: &Actor,
    dataset_id: &str,
    input: ResourceInput,
    upload: Option<Upload>,
) -> AppResult<Resource> {
    let dataset = dataset_for(state, Some(actor), dataset_id).await?;
    require(can_prepare(Some(actor), &dataset.department_id))?;
    let position = store::resources_of(state.pool(), &dataset.id).await?.len() as i64;
    let now = state.now();
    let mut resource = Resource {
        description: input.description.clone().unwrap_or_default(),
        quasi: input.quasi.clone().unwrap_or_default(),
        k: input.k.unwrap_or(gate::DEFAULT_K as i64),
        ..Resource::blank(&dataset.id, position, actor.id(), now)
    };
    check_quasi(&resource.quasi, resource.k)?;
    let sealed = match upload {
        Some(upload) => Some(take_upload(state, &mut resource, &input, upload).await?),
        None => {
            take_link(&mut resource, &input, actor, &dataset)?;
            None
        }
    };
    let mut tx = state.pool().begin().await?;
    store::insert_resource(&mut *tx, &resource).await?;
    if let Some(sealed) = sealed {
        store::put_file(&mut *tx, &resource.id, FileKind::Raw, sealed).await?;
    }
    tx.commit().await?;
    changed(state).await;
    Ok(resource)
}

fn take_link(
    resource: &mut Resource,
    input: &ResourceInput,
    actor: &Actor,
    dataset: &Dataset,
) -> AppResult<()> {
    let url = input.url.clone().unwrap_or_default();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
        return Err(AppError::invalid(
            "url",
            "a resource is an upload, or a link starting with http:// or https://",
        ));
    }
    // A link on a public dataset is public at once: that is publishing.
    if !dataset.private {
        require(can_publish(actor, &dataset.department_id))?;
    }
    resource.url = url.clone();
    resource.name = input
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| url.rsplit('/').next().unwrap_or(&url).to_owned());
    resource.format = input.format.clone().unwrap_or_default().to_uppercase();
    resource.state = ResourceState::Link;
    Ok(())
}

/// Reads an upload into the resource (scanned, untreated) and returns it sealed, to store.
async fn take_upload(
    state: &AppState,
    resource: &mut Resource,
    input: &ResourceInput,
    upload: Upload,
) -> AppResult<Vec<u8>> {
    if upload.bytes.len() > MAX_UPLOAD {
        return Err(AppError::PayloadTooLarge);
    }
    let format = upload_format(input, &upload)?;
    let k = resource.k as u64;
    let quasi = resource.quasi.clone();
    let bytes = upload.bytes;
    let (prepared, bytes) = tokio::task::spawn_blocking(move || {
        let prepared = prepare(&bytes, format, &[], &quasi, k);
        (prepared, bytes)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    let prepared = prepared.map_err(table_error)?;
    if let Some(missing) = resource
        .quasi
        .iter()
        .find(|q| !prepared.table.columns.contains(q))
    {
        return Err(AppError::invalid(
            "quasi_identifiers",
            format!("the file has no column {missing}"),
        ));
    }
    resource.name = input
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| upload.file_name.clone());
    resource.format = format.label().into();
    resource.media_type = format.media_type().into();
    resource.file_name = safe_file_name(&upload.file_name, format);
    resource.url = String::new();
    resource.size = bytes.len() as i64;
    resource.sha256 = sha256_hex(&bytes);
    resource.fields = prepared.fields;
    resource.row_count = prepared.table.rows.len() as i64;
    resource.findings = prepared.findings;
    resource.treatments = Vec::new();
    resource.state = ResourceState::Review;
    resource.published_by = None;
    Ok(state.vault.seal_field(&raw_context(&resource.id), &bytes))
}

/// SHA-256 of a file, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(bytes))
}

/// A file name safe in a URL path: letters, digits, `.`, `-`, `_` (others become `_`),
/// ending in the format's extension.
fn safe_file_name(name: &str, format: Format) -> String {
    let base: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let ext = match format {
        Format::Csv => ".csv",
        Format::Json => ".json",
        Format::Xlsx => ".xlsx",
    };
    let stem = base.trim_matches('.');
    // The extension of any table format goes: a workbook served as CSV is `name.csv`.
    let stem = [".csv", ".json", ".xlsx"]
        .iter()
        .find_map(|known| {
            let cut = stem.len().checked_sub(known.len())?;
            (stem.is_char_boundary(cut) && stem[cut..].eq_ignore_ascii_case(known))
                .then(|| &stem[..cut])
        })
        .unwrap_or(stem);
    if stem.is_empty() {
        format!("data{ext}")
    } else {
        format!("{stem}{ext}")
    }
}

/// A resource and its dataset, if the actor may see them; a resource under review only by
/// its department.
pub async fn resource_for(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
) -> AppResult<(Dataset, Resource)> {
    let resource = store::resource(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let dataset = dataset_for(state, actor, &resource.dataset_id).await?;
    if resource.state == ResourceState::Review && !can_prepare(actor, &dataset.department_id) {
        return Err(AppError::NotFound);
    }
    Ok((dataset, resource))
}

/// Changes a resource: its texts, a new upload (back to review) or a new link.
pub async fn patch_resource(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: ResourceInput,
    upload: Option<Upload>,
) -> AppResult<Resource> {
    let (dataset, mut resource) = resource_for(state, Some(actor), id).await?;
    require(can_prepare(Some(actor), &dataset.department_id))?;
    if let Some(quasi) = &input.quasi {
        resource.quasi = quasi.clone();
    }
    if let Some(k) = input.k {
        resource.k = k;
    }
    check_quasi(&resource.quasi, resource.k)?;
    if let Some(description) = &input.description {
        resource.description = description.clone();
    }
    let public_text_change = resource.state != ResourceState::Review && !dataset.private;
    // A new file or link replaces what was there, in one transaction with the new row.
    let mut replaced = None;
    match upload {
        Some(upload) => {
            replaced = Some(Some(
                take_upload(state, &mut resource, &input, upload).await?,
            ));
        }
        None if input.url.is_some() => {
            take_link(&mut resource, &input, actor, &dataset)?;
            replaced = Some(None);
        }
        None => {
            if public_text_change && (input.name.is_some() || input.description.is_some()) {
                require(can_publish(actor, &dataset.department_id))?;
            }
            if let Some(name) = input.name.filter(|n| !n.trim().is_empty()) {
                resource.name = name;
            }
            if input.quasi.is_some() || input.k.is_some() {
                rescan(state, &mut resource).await?;
            }
        }
    }
    resource.changed_by = actor.id().to_owned();
    resource.modified_at = state.now();
    let mut tx = state.pool().begin().await?;
    if let Some(sealed) = replaced {
        store::drop_datastore(&mut *tx, &resource.id).await?;
        store::delete_files(&mut *tx, &resource.id, None).await?;
        if let Some(sealed) = sealed {
            store::put_file(&mut *tx, &resource.id, FileKind::Raw, sealed).await?;
        }
    }
    store::update_resource(&mut *tx, &resource).await?;
    tx.commit().await?;
    changed(state).await;
    Ok(resource)
}

/// The resources of a dataset, by position.
pub async fn resources_of(state: &AppState, dataset_id: &str) -> AppResult<Vec<Resource>> {
    store::resources_of(state.pool(), dataset_id).await
}

/// Removes a resource: its datastore table and files go with it. What the public reads is
/// removed by an administrator only.
pub async fn remove_resource(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let (dataset, resource) = resource_for(state, Some(actor), id).await?;
    require(can_prepare(Some(actor), &dataset.department_id))?;
    if resource.state != ResourceState::Review && !dataset.private {
        require(can_publish(actor, &dataset.department_id))?;
    }
    let mut tx = state.pool().begin().await?;
    store::drop_datastore(&mut *tx, &resource.id).await?;
    store::delete_files(&mut *tx, &resource.id, None).await?;
    store::delete_resource(&mut *tx, &resource.id).await?;
    tx.commit().await?;
    changed(state).await;
    Ok(())
}

/// The raw upload of a resource under review, opened, with its table prepared afresh.
async fn reprepare(state: &AppState, resource: &Resource) -> AppResult<Prepared> {
    if resource.state != ResourceState::Review {
        return Err(AppError::Conflict(
            "only an upload under review is treated; upload the file again to change a published one"
                .into(),
        ));
    }
    let sealed = store::file(state.pool(), &resource.id, FileKind::Raw)
        .await?
        .ok_or(AppError::NotFound)?;
    let raw = state
        .vault
        .open_field(&raw_context(&resource.id), &sealed)?;
    let format = Format::from_name(&resource.format)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a stored upload's format")))?;
    let treatments = resource.treatments.clone();
    let quasi = resource.quasi.clone();
    let k = resource.k as u64;
    let raw: Vec<u8> = raw.to_vec();
    let mut prepared =
        tokio::task::spawn_blocking(move || prepare(&raw, format, &treatments, &quasi, k))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(table_error)?;
    apply_types(
        &mut prepared.fields,
        &prepared.table,
        &resource.column_types,
    )?;
    Ok(prepared)
}

/// Sets the types a publisher chose over the inferred ones; each must admit every cell of
/// its column (the error names the first row that does not fit, never its value).
fn apply_types(
    fields: &mut [Field],
    table: &Table,
    chosen: &[(String, table::ColumnType)],
) -> AppResult<()> {
    for (column, kind) in chosen {
        let Some(at) = fields.iter().position(|f| f.id == *column) else {
            return Err(AppError::invalid(
                "fields",
                format!("the table has no column {column}"),
            ));
        };
        if let Some(row) = table
            .rows
            .iter()
            .position(|row| !row.get(at).is_none_or(|cell| kind.admits(cell)))
        {
            return Err(AppError::invalid(
                "fields",
                format!(
                    "row {} of column {column} is not of type {}",
                    row + 1,
                    kind.as_str()
                ),
            ));
        }
        fields[at].kind = *kind;
    }
    Ok(())
}

/// Chooses column types over the inferred ones (the others stay inferred). Under review
/// this is part of preparing the file; on a published resource it is an administrator's,
/// and the datastore is loaded again from the served file.
pub async fn set_column_types(
    state: &AppState,
    actor: &Actor,
    id: &str,
    chosen: Vec<(String, table::ColumnType)>,
) -> AppResult<Resource> {
    let (dataset, mut resource) = resource_for(state, Some(actor), id).await?;
    if chosen.len() > table::MAX_COLUMNS {
        return Err(AppError::invalid("fields", "too many columns"));
    }
    match resource.state {
        ResourceState::Link => Err(AppError::Conflict(
            "a link has no table: only uploads have column types".into(),
        )),
        ResourceState::Review => {
            require(can_prepare(Some(actor), &dataset.department_id))?;
            resource.column_types = chosen;
            prepared_by(state, actor, &mut resource).await?;
            Ok(resource)
        }
        ResourceState::Published => {
            require(can_publish(actor, &dataset.department_id))?;
            let served = store::file(state.pool(), &resource.id, FileKind::Served)
                .await?
                .ok_or(AppError::NotFound)?;
            let format = Format::from_name(&resource.format).unwrap_or(Format::Csv);
            let (table, mut fields) = tokio::task::spawn_blocking(move || {
                table::parse(&served, format).map(|t| {
                    let fields = table::infer(&t);
                    (t, fields)
                })
            })
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(table_error)?;
            apply_types(&mut fields, &table, &chosen)?;
            resource.column_types = chosen;
            resource.fields = fields;
            resource.modified_at = state.now();
            let mut tx = state.pool().begin().await?;
            load_table(
                &mut tx,
                state.db.engine(),
                &resource.id,
                &resource.fields,
                &table,
            )
            .await?;
            store::update_resource(&mut *tx, &resource).await?;
            tx.commit().await?;
            index_later(state, &resource.id, &resource.fields);
            changed(state).await;
            Ok(resource)
        }
    }
}

/// A resource's datastore made afresh from a table: created, loaded, indexed.
pub(crate) async fn load_table(
    tx: &mut crate::db::Tx<'_>,
    engine: crate::db::Engine,
    resource_id: &str,
    fields: &[Field],
    table: &Table,
) -> AppResult<()> {
    store::create_datastore(tx, engine, resource_id, fields).await?;
    store::load_datastore(tx, engine, resource_id, fields, &table.rows, 1).await
}

/// Builds a loaded datastore table's indexes after its transaction committed, each in a
/// transaction of its own: the rows answer queries at once (by reading the table), other
/// writers wait for one index at a time rather than for all of them, and the publisher does
/// not wait at all. A crash in between leaves indexes out; [`index_datastores`] builds them.
pub(crate) fn index_later(state: &AppState, resource_id: &str, fields: &[Field]) {
    let state = state.clone();
    let resource_id = resource_id.to_owned();
    let fields = fields.to_vec();
    tokio::spawn(async move {
        if let Err(error) = store::index_datastore(state.pool(), &resource_id, &fields).await {
            tracing::warn!(%error, resource = %resource_id, "indexing a datastore table");
        }
    });
}

/// Builds any index a published datastore table lacks (after a crash between a load and its
/// indexing); a table with all of them costs one statement per column.
pub async fn index_datastores(state: &AppState) -> AppResult<()> {
    for resource in store::active_resources(state.pool()).await? {
        if resource.state == ResourceState::Published && !resource.fields.is_empty() {
            store::index_datastore(state.pool(), &resource.id, &resource.fields).await?;
        }
    }
    Ok(())
}

async fn rescan(state: &AppState, resource: &mut Resource) -> AppResult<()> {
    let prepared = reprepare(state, resource).await?;
    resource.fields = prepared.fields;
    resource.row_count = prepared.table.rows.len() as i64;
    resource.findings = prepared.findings;
    Ok(())
}

/// Sets what is done to each column of an upload under review (replacing what was set
/// before) and scans the result again.
pub async fn treat(
    state: &AppState,
    actor: &Actor,
    id: &str,
    treatments: Vec<(String, Treatment)>,
) -> AppResult<Resource> {
    let (dataset, mut resource) = resource_for(state, Some(actor), id).await?;
    require(can_prepare(Some(actor), &dataset.department_id))?;
    for (column, treatment) in &treatments {
        if let Treatment::Declare { reason } = treatment
            && reason.trim().chars().count() < 4
        {
            return Err(AppError::invalid(
                "treatments",
                format!("a declaration for {column} needs its reason"),
            ));
        }
    }
    resource.treatments = treatments;
    let known = reprepare_columns(state, &resource).await?;
    if let Some((column, _)) = resource.treatments.iter().find(|(c, _)| !known.contains(c)) {
        return Err(AppError::invalid(
            "treatments",
            format!("the file has no column {column}"),
        ));
    }
    prepared_by(state, actor, &mut resource).await?;
    Ok(resource)
}

/// Scans an upload under review again after a change of its preparation, and records who made
/// it: someone else publishes it.
async fn prepared_by(state: &AppState, actor: &Actor, resource: &mut Resource) -> AppResult<()> {
    rescan(state, resource).await?;
    resource.changed_by = actor.id().to_owned();
    resource.published_by = None;
    resource.modified_at = state.now();
    store::update_resource(state.pool(), resource).await?;
    changed(state).await;
    Ok(())
}

/// The columns of an upload before any treatment.
pub async fn upload_columns(state: &AppState, resource: &Resource) -> AppResult<Vec<String>> {
    reprepare_columns(state, resource).await
}

async fn reprepare_columns(state: &AppState, resource: &Resource) -> AppResult<Vec<String>> {
    let untreated = Resource {
        treatments: Vec::new(),
        quasi: Vec::new(),
        ..resource.clone()
    };
    Ok(reprepare(state, &untreated).await?.table.columns)
}

/// Publishes an upload: only when nothing blocks it, and only by an administrator of the
/// department who is not the person who last uploaded or treated it. The treated table is
/// served and loaded into the datastore; the raw upload is deleted.
pub async fn publish_resource(state: &AppState, actor: &Actor, id: &str) -> AppResult<Resource> {
    let (dataset, mut resource) = resource_for(state, Some(actor), id).await?;
    require(can_publish(actor, &dataset.department_id))?;
    if resource.changed_by == actor.id() {
        return Err(AppError::NotAuthorised(
            "a second person publishes: someone other than whoever last uploaded or treated this file"
                .into(),
        ));
    }
    let prepared = reprepare(state, &resource).await?;
    resource.findings = prepared.findings.clone();
    let blocking = resource.blocking();
    if !blocking.is_empty() {
        return Err(AppError::Conflict(format!(
            "the personal-data gate found {} finding(s) to treat first: {}",
            blocking.len(),
            blocking
                .iter()
                .map(|f| format!("{} ({})", f.column, f.kind.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let format = served_format(Format::from_name(&resource.format).unwrap_or(Format::Csv));
    let served = serve_bytes(&prepared.table, format);
    if resource.format != format.label() {
        resource.file_name = safe_file_name(&resource.file_name, format);
        resource.format = format.label().into();
        resource.media_type = format.media_type().into();
    }
    resource.sha256 = sha256_hex(&served);
    resource.size = served.len() as i64;
    resource.fields = prepared.fields.clone();
    resource.row_count = prepared.table.rows.len() as i64;
    resource.state = ResourceState::Published;
    resource.published_by = Some(actor.id().to_owned());
    resource.modified_at = state.now();
    let mut tx = state.pool().begin().await?;
    load_table(
        &mut tx,
        state.db.engine(),
        &resource.id,
        &prepared.fields,
        &prepared.table,
    )
    .await?;
    store::put_file(&mut *tx, &resource.id, FileKind::Served, served).await?;
    store::delete_files(&mut *tx, &resource.id, Some(FileKind::Raw)).await?;
    store::update_resource(&mut *tx, &resource).await?;
    tx.commit().await?;
    index_later(state, &resource.id, &resource.fields);
    changed(state).await;
    Ok(resource)
}

/// How a published table is served: as uploaded, except a workbook, which is served as CSV —
/// the treated table, without the formatting, formulas and hidden sheets a workbook can carry.
fn served_format(uploaded: Format) -> Format {
    match uploaded {
        Format::Json => Format::Json,
        Format::Csv | Format::Xlsx => Format::Csv,
    }
}

/// The file served for a table: CSV, or JSON records for a JSON upload.
fn serve_bytes(table: &Table, format: Format) -> Vec<u8> {
    match format {
        Format::Csv | Format::Xlsx => {
            table::to_csv(&table.columns, table.rows.iter().map(Vec::as_slice))
        }
        Format::Json => {
            let records: Vec<serde_json::Map<String, serde_json::Value>> = table
                .rows
                .iter()
                .map(|row| {
                    table
                        .columns
                        .iter()
                        .cloned()
                        .zip(row.iter().cloned().map(serde_json::Value::String))
                        .collect()
                })
                .collect();
            serde_json::to_vec(&records).unwrap_or_default()
        }
    }
}

/// The first rows of a resource: of a published one from its datastore, of one under review
/// prepared afresh from the sealed upload with anything personal starred (its department
/// only).
pub async fn preview(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
    limit: usize,
) -> AppResult<(Vec<String>, Vec<Vec<String>>)> {
    let (_, resource) = resource_for(state, actor, id).await?;
    match resource.state {
        ResourceState::Link => Ok((Vec::new(), Vec::new())),
        ResourceState::Review => {
            // Whatever is still personal in the treated table is starred here too: the
            // reviewer sees the shape of the data, never a person's values.
            let prepared = reprepare(state, &resource).await?;
            let kinds: Vec<Option<gate::Kind>> = prepared
                .table
                .columns
                .iter()
                .map(|c| gate::column_kind(c))
                .collect();
            let rows = prepared
                .table
                .rows
                .into_iter()
                .take(limit)
                .map(|row| {
                    row.iter()
                        .zip(&kinds)
                        .map(|(cell, kind)| gate::mask_cell(cell, *kind))
                        .collect()
                })
                .collect();
            Ok((prepared.table.columns, rows))
        }
        ResourceState::Published => {
            let query = store::DatastoreQuery {
                fields: (0..resource.fields.len()).collect(),
                limit: limit as i64,
                ..Default::default()
            };
            let (_, records) =
                store::search_datastore(state.pool(), &resource.id, &resource.fields, &query)
                    .await?;
            let columns: Vec<String> = resource.fields.iter().map(|f| f.id.clone()).collect();
            let rows = records
                .iter()
                .map(|record| {
                    columns
                        .iter()
                        .map(|c| store::cell_text(record.get(c)))
                        .collect()
                })
                .collect();
            Ok((columns, rows))
        }
    }
}

/// A published file to download: (file name, media type, bytes); counted.
pub async fn download(state: &AppState, id: &str) -> AppResult<(String, String, Vec<u8>)> {
    let (_, resource) = resource_for(state, None, id).await?;
    if resource.state != ResourceState::Published {
        return Err(AppError::NotFound);
    }
    let bytes = store::file(state.pool(), &resource.id, FileKind::Served)
        .await?
        .ok_or(AppError::NotFound)?;
    store::count_download(state.pool(), &resource.id).await?;
    Ok((resource.file_name, resource.media_type, bytes))
}

/// The most distinct values a column's counts are kept for.
const MAX_COUNTED_VALUES: usize = 10_000;
/// The most columns whose value counts one node keeps.
const MAX_COUNTED_COLUMNS: usize = 256;

/// The rows holding each value of a column (`None`: too many values to keep).
type Counts = Arc<Option<HashMap<String, i64>>>;

/// Value counts of datastore columns, kept by each node: a datastore table does not change
/// once loaded (publication, a new upload or a retyping makes it again, and changes the
/// resource's `modified_at`, file or types, which are part of the key), so the count of rows with a value is
/// read once per column, and a filter on one column is counted without a scan.
#[derive(Default)]
pub struct ValueCounts {
    columns: std::sync::Mutex<HashMap<(String, usize), Counts>>,
}

impl ValueCounts {
    fn get(&self, key: &(String, usize)) -> Option<Counts> {
        self.columns.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: (String, usize), counts: Counts) {
        if let Ok(mut columns) = self.columns.lock() {
            if columns.len() >= MAX_COUNTED_COLUMNS {
                columns.clear();
            }
            columns.insert(key, counts);
        }
    }
}

/// The total of a query with one equality filter and nothing else, from the column's value
/// counts; `None` where the counts do not answer it.
async fn counted_total(
    state: &AppState,
    resource: &Resource,
    query: &store::DatastoreQuery,
) -> AppResult<Option<i64>> {
    let ([(column, values)], None, None) = (query.filters.as_slice(), &query.q, query.after) else {
        return Ok(None);
    };
    let Some(cache) = state.try_module::<ValueCounts>() else {
        return Ok(None);
    };
    // The table as loaded: which resource, when, from which file, with which types.
    let kinds: String = resource.fields.iter().map(|f| f.kind.as_str()).collect();
    let table = format!(
        "{}/{}/{}/{kinds}",
        resource.id, resource.modified_at, resource.sha256
    );
    let key = (table, *column);
    let counts = match cache.get(&key) {
        Some(counts) => counts,
        None => {
            let counts = Arc::new(
                store::value_counts(
                    state.pool(),
                    &resource.id,
                    &resource.fields,
                    *column,
                    MAX_COUNTED_VALUES,
                )
                .await?,
            );
            cache.put(key, counts.clone());
            counts
        }
    };
    let Some(counts) = counts.as_ref() else {
        return Ok(None);
    };
    let mut keys: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let Some(key) = store::value_key(value) else {
            return Ok(None);
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(Some(
        keys.iter()
            .map(|k| counts.get(k).copied().unwrap_or(0))
            .sum(),
    ))
}

/// The datastore of a published resource: (fields, total, records).
pub async fn datastore_search(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
    query: store::DatastoreQuery,
) -> AppResult<(
    Vec<Field>,
    Option<i64>,
    Vec<serde_json::Map<String, serde_json::Value>>,
)> {
    let (_, resource) = resource_for(state, actor, id).await?;
    if resource.state != ResourceState::Published {
        return Err(AppError::NotFound);
    }
    let mut query = query;
    let counted = if query.include_total {
        counted_total(state, &resource, &query).await?
    } else {
        None
    };
    if counted.is_some() {
        query.include_total = false;
    }
    let (total, records) =
        store::search_datastore(state.pool(), &resource.id, &resource.fields, &query).await?;
    Ok((resource.fields, counted.or(total), records))
}

/// A published resource's fields, to check a datastore query against.
pub async fn datastore_fields(
    state: &AppState,
    actor: Option<&Actor>,
    id: &str,
) -> AppResult<Vec<Field>> {
    let (_, resource) = resource_for(state, actor, id).await?;
    if resource.state != ResourceState::Published {
        return Err(AppError::NotFound);
    }
    Ok(resource.fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treatments_drop_and_mask_before_the_scan() {
        let csv = "姓名,手机,区县\n王小明,13800138000,江北区\n李小红,13900139000,江北区\n";
        let raw = prepare(csv.as_bytes(), Format::Csv, &[], &[], 5).expect("csv");
        let kinds: Vec<gate::Kind> = raw.findings.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![gate::Kind::NameColumn, gate::Kind::Mobile]);
        let treated = prepare(
            csv.as_bytes(),
            Format::Csv,
            &[
                ("姓名".into(), Treatment::Mask),
                ("手机".into(), Treatment::Drop),
            ],
            &[],
            5,
        )
        .expect("csv");
        assert_eq!(treated.table.columns, vec!["姓名", "区县"]);
        assert_eq!(treated.table.rows[0], vec!["王**", "江北区"]);
        let left = gate::blocking(&treated.findings, &[("姓名".into(), Treatment::Mask)]);
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn file_names_are_safe_in_a_path() {
        assert_eq!(
            safe_file_name("../../公交 线路.csv", Format::Csv),
            "_____.csv"
        );
        assert_eq!(safe_file_name("stops.CSV", Format::Csv), "stops.csv");
        assert_eq!(safe_file_name("", Format::Json), "data.json");
        assert_eq!(safe_file_name("air.json", Format::Json), "air.json");
        assert_eq!(safe_file_name("统计.xlsx", Format::Csv), "__.csv");
    }
}
