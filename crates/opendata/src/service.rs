//! The use-cases of the open-data portal: organizations, datasets, resources through the
//! personal-data gate to publication by a second person, the catalogue as everyone sees it,
//! downloads and the datastore.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use sha2::Digest as _;

use crate::authz::{self, Action, Resource as On};
use crate::error::{AppError, AppResult, retrying};
use crate::files::{self, Spool, Spooled};
use crate::gate::{self, Treatment};
use crate::identity::model::Actor;
use crate::model::{self, Dataset, Organization, Resource, ResourceState};
use crate::prepare::{self, Plan, Stored};
use crate::state::AppState;
use crate::store::{self, FileKind};
use crate::table::{self, Field, Format, Table};

/// The scope of the catalogue in the nodes' caches: published on every change of an
/// organization, a dataset or a resource.
pub const CATALOGUE: &str = "open-data";
/// The largest upload taken, in bytes: a CSV file is read as a stream and stored in parts,
/// so this bounds the disk a publisher may fill, not memory (about 35 million rows of a
/// typical statistical table).
pub const MAX_UPLOAD: usize = 2 * 1024 * 1024 * 1024;
/// The largest JSON or XLSX upload: their formats are read whole.
pub const MAX_WHOLE_UPLOAD: u64 = 64 * 1024 * 1024;
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
///
/// Read whole when the node first needs it; after that a change of one dataset patches it
/// ([`Catalogue::patched`]): the entry, its place by name, its posting lists and facet values
/// change, everything else is shared with the catalogue before. Positions stay put — a removed
/// dataset's position is left empty — so that search results and facet columns agree.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// By position; `None` where a dataset was removed since the catalogue was read whole.
    entries: Vec<Option<Arc<Entry>>>,
    /// The positions held, by dataset name.
    order: Vec<u32>,
    pub organizations: Vec<Organization>,
    /// The entries indexed for search, by their position.
    pub index: tongban_search::Index,
    /// For each facet field (as [`FACETS`] names them), the values of each entry.
    pub facets: Vec<FacetColumn>,
    /// Datasets patched in since the catalogue was read whole.
    pub patched: usize,
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
/// array (entry `i`'s are `items[spans[i].0..spans[i].1]`), so that counting the values of
/// thousands of found entries reads two arrays instead of every entry. A patched entry's
/// values are appended and its span moved; the value names are shared between clones.
#[derive(Debug, Clone, Default)]
pub struct FacetColumn {
    pub field: &'static str,
    names: Arc<FacetNames>,
    spans: Vec<(u32, u32)>,
    items: Vec<u32>,
}

#[derive(Debug, Clone, Default)]
struct FacetNames {
    values: Vec<String>,
    ids: HashMap<String, u32>,
}

impl FacetColumn {
    fn new(field: &'static str, entries: &[Arc<Entry>]) -> FacetColumn {
        let mut column = FacetColumn {
            field,
            spans: Vec::with_capacity(entries.len()),
            ..FacetColumn::default()
        };
        for entry in entries {
            column.push_values(entry);
        }
        column
    }

    /// Appends the values of `entry` and returns their span.
    fn append(&mut self, entry: Option<&Entry>) -> (u32, u32) {
        let from = self.items.len() as u32;
        for value in entry
            .map(|e| facet_values(e, self.field))
            .unwrap_or_default()
        {
            let id = match self.names.ids.get(value.as_ref()) {
                Some(&id) => id,
                None => {
                    let names = Arc::make_mut(&mut self.names);
                    let id = names.values.len() as u32;
                    names.ids.insert(value.to_string(), id);
                    names.values.push(value.into_owned());
                    id
                }
            };
            self.items.push(id);
        }
        (from, self.items.len() as u32)
    }

    fn push_values(&mut self, entry: &Entry) {
        let span = self.append(Some(entry));
        self.spans.push(span);
    }

    /// Sets the values of the entry at `position` (one past the last appends).
    fn set(&mut self, position: usize, entry: Option<&Entry>) {
        let span = self.append(entry);
        match self.spans.get_mut(position) {
            Some(at) => *at = span,
            None => self.spans.push(span),
        }
    }

    /// The value numbers of the entry at `position`.
    pub fn of(&self, position: usize) -> &[u32] {
        match self.spans.get(position) {
            Some(&(from, to)) => &self.items[from as usize..to as usize],
            None => &[],
        }
    }

    pub fn id(&self, value: &str) -> Option<u32> {
        self.names.ids.get(value).copied()
    }

    pub fn value(&self, id: u32) -> &str {
        self.names
            .values
            .get(id as usize)
            .map_or("", String::as_str)
    }

    /// How many of the entries at `positions` carry each value, most first, then by value.
    pub fn counts(&self, positions: &[usize]) -> Vec<(String, usize)> {
        let mut counts = vec![0usize; self.names.values.len()];
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
    /// A catalogue of `entries`, which come by dataset name.
    pub fn new(entries: Vec<Entry>, organizations: Vec<Organization>) -> Catalogue {
        let entries: Vec<Arc<Entry>> = entries.into_iter().map(Arc::new).collect();
        Catalogue {
            index: tongban_search::Index::new(entries.iter().map(|e| e.as_ref())),
            facets: FACETS
                .iter()
                .map(|field| FacetColumn::new(field, &entries))
                .collect(),
            order: (0..entries.len() as u32).collect(),
            entries: entries.into_iter().map(Some).collect(),
            organizations,
            patched: 0,
        }
    }

    /// This catalogue with the datasets of `changes` as they now stand (`None`: no longer
    /// active), and the organizations as they now are.
    pub fn patched(
        &self,
        organizations: Vec<Organization>,
        changes: Vec<(String, Option<Entry>)>,
    ) -> Catalogue {
        let mut next = Catalogue {
            organizations,
            patched: self.patched + changes.len(),
            ..self.clone()
        };
        // Where each changed dataset is held, in one pass.
        let mut held_at: HashMap<&str, usize> = changes
            .iter()
            .map(|(id, _)| (id.as_str(), usize::MAX))
            .collect();
        for (position, entry) in self.entries.iter().enumerate() {
            if let Some(entry) = entry
                && let Some(at) = held_at.get_mut(entry.dataset.id.as_str())
            {
                *at = position;
            }
        }
        let held_at: HashMap<String, usize> = held_at
            .into_iter()
            .filter(|(_, at)| *at != usize::MAX)
            .map(|(id, at)| (id.to_owned(), at))
            .collect();
        for (id, entry) in changes {
            let held = held_at.get(&id).copied();
            if held.is_none() && entry.is_none() {
                continue;
            }
            let position = held.unwrap_or(next.entries.len());
            next.index.set(position, entry.as_ref());
            for column in &mut next.facets {
                column.set(position, entry.as_ref());
            }
            let at = position as u32;
            if let Some(i) = next.order.iter().position(|&p| p == at) {
                next.order.remove(i);
            }
            let entry = entry.map(Arc::new);
            if let Some(entry) = &entry {
                let name = entry.dataset.name.as_str();
                let i = next.order.partition_point(|&p| {
                    next.entries[p as usize]
                        .as_ref()
                        .is_some_and(|e| e.dataset.name.as_str() < name)
                });
                next.order.insert(i, at);
            }
            if position == next.entries.len() {
                next.entries.push(entry);
            } else {
                next.entries[position] = entry;
            }
        }
        next
    }

    /// The entries, by dataset name.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &Entry> + Clone + '_ {
        self.order.iter().map(|&at| {
            self.entries[at as usize]
                .as_deref()
                .expect("the order holds positions with entries")
        })
    }

    /// How many datasets it holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The entry at a position search returned.
    pub fn at(&self, position: usize) -> Option<&Entry> {
        self.entries.get(position)?.as_deref()
    }

    /// The values of a facet field, when it is one.
    pub fn facet(&self, field: &str) -> Option<&FacetColumn> {
        self.facets.iter().find(|f| f.field == field)
    }

    /// The entries the actor may see: public ones, and the private ones of their department.
    pub fn visible<'a>(&'a self, actor: Option<&'a Actor>) -> impl Iterator<Item = &'a Entry> {
        self.entries().filter(move |e| e.visible_to(actor))
    }

    pub fn entry(&self, id_or_name: &str) -> Option<&Entry> {
        self.entries()
            .find(|e| e.dataset.id == id_or_name || e.dataset.name == id_or_name)
    }

    pub fn organization(&self, id_or_name: &str) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|o| o.department_id == id_or_name || o.name == id_or_name)
    }
}

/// The node's catalogue, kept in step with the changes published under [`CATALOGUE`]: a
/// change of one dataset (the key is its id) patches the catalogue on the next read; a change
/// of everything (an organization, a harvest) reads it whole again. A catalogue older than
/// the caches' longest age is read again in the background while the one held is served.
#[derive(Default)]
pub struct CatalogueCache {
    held: std::sync::RwLock<Option<Held>>,
    stale: std::sync::Mutex<Stale>,
    /// One reader at a time reads or patches: the others wait for its answer.
    loading: tokio::sync::Mutex<()>,
    refreshing: std::sync::atomic::AtomicBool,
}

#[derive(Clone)]
struct Held {
    catalogue: Arc<Catalogue>,
    read_at: i64,
}

/// What changed since the catalogue held was read or patched.
#[derive(Default)]
struct Stale {
    all: bool,
    ids: std::collections::HashSet<String>,
}

impl Stale {
    fn is_clean(&self) -> bool {
        !self.all && self.ids.is_empty()
    }
}

/// A patched catalogue is read whole again once this many datasets were patched in.
const MAX_PATCHED: usize = 10_000;
/// More datasets changed at once than this are read whole rather than patched in.
const MAX_PATCH: usize = 1_000;

impl crate::cache::Evict for CatalogueCache {
    fn scope(&self) -> &'static str {
        CATALOGUE
    }

    fn evict(&self, key: &str) {
        let mut stale = self.stale.lock().unwrap_or_else(|e| e.into_inner());
        if key == crate::cache::ALL || key.is_empty() {
            stale.all = true;
            stale.ids.clear();
        } else if !stale.all {
            stale.ids.insert(key.to_owned());
            if stale.ids.len() > MAX_PATCH {
                stale.all = true;
                stale.ids.clear();
            }
        }
    }
}

impl CatalogueCache {
    fn held(&self) -> Option<Held> {
        self.held.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn is_clean(&self) -> bool {
        self.stale
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_clean()
    }

    /// The catalogue as it now stands: the one held, patched or read again as changes require.
    async fn get(self: &Arc<Self>, state: &AppState) -> AppResult<Arc<Catalogue>> {
        if let Some(held) = self.held()
            && self.is_clean()
        {
            if state.now() - held.read_at >= crate::cache::MAX_AGE_MS {
                self.refresh_later(state);
            }
            return Ok(held.catalogue);
        }
        let _loading = self.loading.lock().await;
        self.bring_up_to_date(state, false).await
    }

    /// Under the loading lock: applies what changed, or reads the whole catalogue.
    async fn bring_up_to_date(&self, state: &AppState, whole: bool) -> AppResult<Arc<Catalogue>> {
        let stale = std::mem::take(&mut *self.stale.lock().unwrap_or_else(|e| e.into_inner()));
        let held = self.held();
        let result = match held {
            Some(held) if !whole && !stale.all && held.catalogue.patched < MAX_PATCHED => {
                if stale.ids.is_empty() {
                    return Ok(held.catalogue);
                }
                patch(state, &held.catalogue, stale.ids.iter())
                    .await
                    .map(|catalogue| Held {
                        catalogue: Arc::new(catalogue),
                        read_at: held.read_at,
                    })
            }
            _ => read_catalogue(state).await.map(|catalogue| Held {
                catalogue: Arc::new(catalogue),
                read_at: state.now(),
            }),
        };
        match result {
            Ok(held) => {
                *self.held.write().unwrap_or_else(|e| e.into_inner()) = Some(held.clone());
                Ok(held.catalogue)
            }
            Err(error) => {
                // Nothing was applied: what was stale still is.
                let mut now = self.stale.lock().unwrap_or_else(|e| e.into_inner());
                now.all |= stale.all;
                if !now.all {
                    now.ids.extend(stale.ids);
                }
                Err(error)
            }
        }
    }

    /// Reads the whole catalogue again in the background (once at a time).
    fn refresh_later(self: &Arc<Self>, state: &AppState) {
        use std::sync::atomic::Ordering;
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (cache, state) = (self.clone(), state.clone());
        tokio::spawn(async move {
            {
                let _loading = cache.loading.lock().await;
                if let Err(error) = cache.bring_up_to_date(&state, true).await {
                    tracing::warn!(%error, "reading the open-data catalogue again failed");
                }
            }
            cache.refreshing.store(false, Ordering::Release);
        });
    }
}

/// The catalogue, from this node's cache: patched with the datasets changed since.
pub async fn catalogue(state: &AppState) -> AppResult<Arc<Catalogue>> {
    match state.try_module::<Arc<CatalogueCache>>() {
        Some(cache) => cache.get(state).await,
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
            let resources = resources.remove(&dataset.id).unwrap_or_default();
            entry_of(&organizations, dataset, resources)
        })
        .collect();
    Ok(Catalogue::new(entries, organizations))
}

fn entry_of(
    organizations: &[Organization],
    dataset: Dataset,
    resources: Vec<Resource>,
) -> Option<Entry> {
    let organization = organizations
        .iter()
        .find(|o| o.department_id == dataset.department_id)?
        .clone();
    Some(Entry {
        resources,
        organization,
        dataset,
    })
}

/// `held` with the datasets `ids` read again.
async fn patch(
    state: &AppState,
    held: &Catalogue,
    ids: impl Iterator<Item = &String>,
) -> AppResult<Catalogue> {
    let organizations = store::organizations(state.pool()).await?;
    let mut changes = Vec::new();
    for id in ids {
        let entry = match store::dataset(state.pool(), id).await? {
            Some(dataset) if dataset.state == "active" && dataset.id == *id => {
                let resources = store::resources_of(state.pool(), id).await?;
                entry_of(&organizations, dataset, resources)
            }
            _ => None,
        };
        changes.push((id.clone(), entry));
    }
    Ok(held.patched(organizations, changes))
}

/// Call after a change of the dataset `id` (or of its resources) has been committed.
async fn changed(state: &AppState, dataset_id: &str) {
    crate::cache::changed(state, CATALOGUE, dataset_id).await;
}

/// Call after changes of many datasets have been committed (a harvest): each is patched in,
/// or the catalogue is read whole when they are too many for patching to be the shorter way.
pub(crate) async fn datasets_changed(state: &AppState, ids: &[String]) {
    if ids.len() > 1_000 {
        changed_all(state).await;
    } else {
        for id in ids {
            changed(state, id).await;
        }
    }
}

/// Call after a change that touches more than datasets (an organization) has been committed.
pub(crate) async fn changed_all(state: &AppState) {
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
    changed_all(state).await;
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
    retrying(|| store::insert_dataset(state.pool(), &dataset)).await?;
    changed(state, &dataset.id).await;
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
    retrying(|| store::update_dataset(state.pool(), &dataset)).await?;
    changed(state, &dataset.id).await;
    Ok(dataset)
}

/// Deletes a dataset (its administrators): it leaves the catalogue, its datastore tables and
/// files are dropped; the name stays taken.
pub async fn delete_dataset(state: &AppState, actor: &Actor, id_or_name: &str) -> AppResult<()> {
    let mut dataset = dataset_for(state, Some(actor), id_or_name).await?;
    require(can_publish(actor, &dataset.department_id))?;
    for resource in store::resources_of(state.pool(), &dataset.id).await? {
        let mut tx = state.pool().begin().await?;
        store::drop_datastore(&mut tx, &resource.id).await?;
        store::delete_files(&mut tx, &resource.id, None).await?;
        tx.commit().await?;
    }
    dataset.state = "deleted".into();
    dataset.modified_at = state.now();
    retrying(|| store::update_dataset(state.pool(), &dataset)).await?;
    changed(state, &dataset.id).await;
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

/// An uploaded file, stored (sealed) as it arrived and not yet any resource's.
pub struct Upload {
    pub file_name: String,
    pub file: Spooled,
}

/// Stores an upload's bytes as they arrive (sealed: it may hold personal data until it is
/// treated), up to [`MAX_UPLOAD`].
pub async fn spool<E>(
    state: &AppState,
    file_name: String,
    mut chunks: impl futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    unreadable: impl Fn(E) -> AppError,
) -> AppResult<Upload> {
    use futures_util::StreamExt as _;
    let mut spool = Spool::new(state, true, MAX_UPLOAD as u64);
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(bytes) => spool.write(&bytes).await?,
            Err(error) => {
                spool.abandon().await;
                return Err(unreadable(error));
            }
        }
    }
    Ok(Upload {
        file_name,
        file: spool.finish().await?,
    })
}

/// The bytes of a form field that is not a file, refused past `limit` before more is read.
pub async fn field_bytes<E>(
    mut chunks: impl futures_util::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    limit: usize,
    unreadable: impl Fn(E) -> AppError,
) -> AppResult<Vec<u8>> {
    use futures_util::StreamExt as _;
    let mut bytes = Vec::new();
    while let Some(chunk) = chunks.next().await {
        bytes.extend_from_slice(&chunk.map_err(&unreadable)?);
        if bytes.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
    }
    Ok(bytes)
}

/// Whether the actor prepares open data for some department (and so may send a file).
pub fn may_upload(actor: Option<&Actor>) -> bool {
    actor.is_some_and(|a| {
        a.account
            .department_id
            .as_deref()
            .is_some_and(|department| can_prepare(Some(a), department))
    })
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
    let raw = match upload {
        Some(upload) => Some(take_upload(state, &mut resource, &input, upload).await?),
        None => {
            take_link(&mut resource, &input, actor, &dataset)?;
            None
        }
    };
    let stored = retrying(|| async {
        let mut tx = state.pool().begin().await?;
        store::insert_resource(&mut *tx, &resource).await?;
        if let Some(raw) = &raw {
            store::attach_file(&mut *tx, &resource.id, FileKind::Raw, raw).await?;
        }
        tx.commit().await?;
        Ok(())
    })
    .await;
    if let (Err(_), Some(raw)) = (&stored, &raw) {
        files::discard(state, raw).await;
    }
    stored?;
    changed(state, &resource.dataset_id).await;
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

/// Reads an upload into the resource (scanned, untreated); returns its file, to attach. A file
/// that is refused is removed.
async fn take_upload(
    state: &AppState,
    resource: &mut Resource,
    input: &ResourceInput,
    upload: Upload,
) -> AppResult<String> {
    let taken = read_upload(state, resource, input, &upload).await;
    if taken.is_err() {
        files::discard(state, &upload.file.file_id).await;
    }
    taken.map(|()| upload.file.file_id)
}

async fn read_upload(
    state: &AppState,
    resource: &mut Resource,
    input: &ResourceInput,
    upload: &Upload,
) -> AppResult<()> {
    let format = upload_format(input, upload)?;
    if format != Format::Csv && upload.file.size > MAX_WHOLE_UPLOAD {
        return Err(AppError::invalid(
            "upload",
            "a JSON or XLSX file is at most 64 MiB; send a larger table as CSV",
        ));
    }
    let file = Stored {
        file_id: upload.file.file_id.clone(),
        sealed: true,
        sha256: upload.file.sha256.clone(),
        format,
    };
    let plan = Plan {
        quasi: resource.quasi.clone(),
        k: resource.k as u64,
        ..Plan::default()
    };
    let summary = prepare::summarize(state, &file, plan).await?;
    if let Some(missing) = resource.quasi.iter().find(|q| !summary.columns.contains(q)) {
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
    resource.size = upload.file.size as i64;
    resource.sha256 = upload.file.sha256.clone();
    resource.fields = summary.fields;
    resource.row_count = summary.rows as i64;
    resource.findings = summary.findings;
    resource.treatments = Vec::new();
    resource.column_types = Vec::new();
    resource.state = ResourceState::Review;
    resource.published_by = None;
    Ok(())
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
    let stored = retrying(|| async {
        let mut tx = state.pool().begin().await?;
        if let Some(raw) = &replaced {
            store::drop_datastore(&mut tx, &resource.id).await?;
            store::delete_files(&mut tx, &resource.id, None).await?;
            if let Some(raw) = raw {
                store::attach_file(&mut *tx, &resource.id, FileKind::Raw, raw).await?;
            }
        }
        store::update_resource(&mut *tx, &resource).await?;
        tx.commit().await?;
        Ok(())
    })
    .await;
    if let (Err(_), Some(Some(raw))) = (&stored, &replaced) {
        files::discard(state, raw).await;
    }
    stored?;
    changed(state, &resource.dataset_id).await;
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
    retrying(|| async {
        let mut tx = state.pool().begin().await?;
        store::drop_datastore(&mut tx, &resource.id).await?;
        store::delete_files(&mut tx, &resource.id, None).await?;
        store::delete_resource(&mut *tx, &resource.id).await?;
        tx.commit().await?;
        Ok(())
    })
    .await?;
    changed(state, &resource.dataset_id).await;
    Ok(())
}

/// A resource's stored file of a kind, to read.
async fn stored_file(state: &AppState, resource: &Resource, kind: FileKind) -> AppResult<Stored> {
    let file_id = store::file_id(state.pool(), &resource.id, kind)
        .await?
        .ok_or(AppError::NotFound)?;
    let format = Format::from_name(&resource.format)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a stored file's format")))?;
    Ok(Stored {
        file_id,
        sealed: kind.sealed(),
        sha256: resource.sha256.clone(),
        format,
    })
}

/// The raw upload of a resource under review.
async fn raw_file(state: &AppState, resource: &Resource) -> AppResult<Stored> {
    if resource.state != ResourceState::Review {
        return Err(AppError::Conflict(
            "only an upload under review is treated; upload the file again to change a published one"
                .into(),
        ));
    }
    stored_file(state, resource, FileKind::Raw).await
}

/// How a resource under review is prepared: its treatments, quasi-identifiers and types.
fn plan_of(resource: &Resource) -> Plan {
    Plan {
        treatments: resource.treatments.clone(),
        quasi: resource.quasi.clone(),
        k: resource.k as u64,
        chosen: resource.column_types.clone(),
    }
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
            let served = stored_file(state, &resource, FileKind::Served).await?;
            let plan = Plan {
                chosen: chosen.clone(),
                k: resource.k as u64,
                ..Plan::default()
            };
            // The first pass types the columns; the second loads them so.
            let fields = prepare::summarize(state, &served, plan.clone())
                .await?
                .fields;
            prepare::load(state, &resource.id, &served, plan, &fields, None).await?;
            resource.column_types = chosen;
            resource.fields = fields;
            resource.modified_at = state.now();
            let swapped = retrying(|| async {
                let mut tx = state.pool().begin().await?;
                store::swap_loading(&mut tx, &resource.id).await?;
                store::update_resource(&mut *tx, &resource).await?;
                tx.commit().await?;
                Ok(())
            })
            .await;
            if swapped.is_err() {
                prepare::drop_loading(state, &resource.id).await;
            }
            swapped?;
            // The change is told before the indexes are built: on SQLite their writes would
            // hold the change's record (and this answer) back.
            changed(state, &resource.dataset_id).await;
            index_later(state, &resource.id, &resource.fields);
            Ok(resource)
        }
    }
}

/// A resource's datastore made afresh from a table held whole (the demo's small ones):
/// created and loaded.
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

/// Removes what a crash or a lost connection left behind: parts of uploads no resource names
/// after a day (an upload still arriving is younger).
pub async fn sweep_uploads(state: &AppState) -> AppResult<()> {
    let swept = store::sweep_parts(state.pool(), state.now() - 24 * 3600 * 1000).await?;
    if swept > 0 {
        tracing::info!(parts = swept, "removed the parts of uploads never kept");
    }
    Ok(())
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
    let raw = raw_file(state, resource).await?;
    let summary = prepare::summarize(state, &raw, plan_of(resource)).await?;
    resource.fields = summary.fields;
    resource.row_count = summary.rows as i64;
    resource.findings = summary.findings;
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
    let known = upload_columns(state, &resource).await?;
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
    changed(state, &resource.dataset_id).await;
    Ok(())
}

/// The columns of an upload before any treatment.
pub async fn upload_columns(state: &AppState, resource: &Resource) -> AppResult<Vec<String>> {
    let raw = raw_file(state, resource).await?;
    prepare::columns(state, &raw).await
}

/// Publishes an upload: only when nothing blocks it, and only by an administrator of the
/// department who is not the person who last uploaded or treated it. The treated table is
/// served and loaded into the datastore, read from the sealed upload in one pass that scans
/// every cell again; the raw upload is deleted.
pub async fn publish_resource(state: &AppState, actor: &Actor, id: &str) -> AppResult<Resource> {
    let (dataset, mut resource) = resource_for(state, Some(actor), id).await?;
    require(can_publish(actor, &dataset.department_id))?;
    if resource.changed_by == actor.id() {
        return Err(AppError::NotAuthorised(
            "a second person publishes: someone other than whoever last uploaded or treated this file"
                .into(),
        ));
    }
    let raw = raw_file(state, &resource).await?;
    // What the last scan found stops it at once; the scan of this pass is checked again below.
    gate_open(&resource)?;
    let format = served_format(raw.format);
    let loaded = prepare::load(
        state,
        &resource.id,
        &raw,
        plan_of(&resource),
        &resource.fields,
        Some(format),
    )
    .await?;
    resource.findings = loaded.summary.findings;
    let served = loaded
        .served
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a publication without its file")))?;
    if let Err(blocked) = gate_open(&resource) {
        files::discard(state, &served.file_id).await;
        prepare::drop_loading(state, &resource.id).await;
        return Err(blocked);
    }
    if resource.format != format.label() {
        resource.file_name = safe_file_name(&resource.file_name, format);
        resource.format = format.label().into();
        resource.media_type = format.media_type().into();
    }
    resource.sha256 = served.sha256.clone();
    resource.size = served.size as i64;
    resource.row_count = loaded.summary.rows as i64;
    resource.state = ResourceState::Published;
    resource.published_by = Some(actor.id().to_owned());
    resource.modified_at = state.now();
    let swapped = retrying(|| async {
        let mut tx = state.pool().begin().await?;
        store::swap_loading(&mut tx, &resource.id).await?;
        store::delete_files(&mut tx, &resource.id, None).await?;
        store::attach_file(&mut *tx, &resource.id, FileKind::Served, &served.file_id).await?;
        store::update_resource(&mut *tx, &resource).await?;
        tx.commit().await?;
        Ok(())
    })
    .await;
    if swapped.is_err() {
        files::discard(state, &served.file_id).await;
        prepare::drop_loading(state, &resource.id).await;
    }
    swapped?;
    // The change is told before the indexes are built: on SQLite their writes would
    // hold the change's record (and this answer) back.
    changed(state, &resource.dataset_id).await;
    index_later(state, &resource.id, &resource.fields);
    Ok(resource)
}

/// Refuses while the gate's findings block publication.
fn gate_open(resource: &Resource) -> AppResult<()> {
    let blocking = resource.blocking();
    if blocking.is_empty() {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "the personal-data gate found {} finding(s) to treat first: {}",
        blocking.len(),
        blocking
            .iter()
            .map(|f| format!("{} ({})", f.column, f.kind.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// How a published table is served: as uploaded, except a workbook, which is served as CSV —
/// the treated table, without the formatting, formulas and hidden sheets a workbook can carry.
fn served_format(uploaded: Format) -> Format {
    match uploaded {
        Format::Json => Format::Json,
        Format::Csv | Format::Xlsx => Format::Csv,
    }
}

/// The first rows of a resource: of a published one from its datastore, of one under review
/// read from the sealed upload with its treatments and anything personal starred (its
/// department only).
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
            let raw = raw_file(state, &resource).await?;
            let plan = Plan {
                chosen: Vec::new(),
                ..plan_of(&resource)
            };
            let (columns, rows) = prepare::first_rows(state, &raw, plan, limit).await?;
            let kinds: Vec<Option<gate::Kind>> =
                columns.iter().map(|c| gate::column_kind(c)).collect();
            let rows = rows
                .into_iter()
                .map(|row| {
                    row.iter()
                        .zip(&kinds)
                        .map(|(cell, kind)| gate::mask_cell(cell, *kind))
                        .collect()
                })
                .collect();
            Ok((columns, rows))
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

/// Open data's figures for the operations view (by the deployment's region).
const DOWNLOADS: &str = "opendata.downloads";
pub(crate) const API_CALLS: &str = "opendata.api_calls";

/// The figures of open data, as the module declares them.
pub const FIGURES: &[tongban_platform::figures::Figure] = &[
    tongban_platform::figures::Figure {
        key: DOWNLOADS,
        group: "opendata",
        zh: "开放数据下载",
        en: "Open-data downloads",
        about_persons: false,
        by: None,
    },
    tongban_platform::figures::Figure {
        key: API_CALLS,
        group: "opendata",
        zh: "开放数据接口调用",
        en: "Open-data API calls",
        about_persons: false,
        by: None,
    },
];

/// A published file to download, read from its parts as it is sent; counted.
pub struct Download {
    pub file_name: String,
    pub media_type: String,
    pub size: u64,
    pub body: axum::body::Body,
}

pub async fn download(state: &AppState, id: &str) -> AppResult<Download> {
    let (_, resource) = resource_for(state, None, id).await?;
    if resource.state != ResourceState::Published {
        return Err(AppError::NotFound);
    }
    tongban_platform::figures::count(state, DOWNLOADS, &state.config.region_code);
    let file_id = store::file_id(state.pool(), &resource.id, FileKind::Served)
        .await?
        .ok_or(AppError::NotFound)?;
    store::count_download(state.pool(), &resource.id).await?;
    Ok(Download {
        file_name: resource.file_name,
        media_type: resource.media_type,
        size: resource.size as u64,
        body: files::body(state, &file_id),
    })
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

#[cfg(test)]
mod catalogue_tests {
    use super::*;

    fn organization(n: usize) -> Organization {
        Organization {
            department_id: format!("dept-{n}"),
            name: format!("org-{n}"),
            title: format!("部门{n}"),
            title_en: String::new(),
            description: String::new(),
            created_at: 0,
        }
    }

    fn entry(id: &str, name: &str, title: &str, org: usize, tags: &[&str]) -> Entry {
        Entry {
            dataset: Dataset {
                id: id.to_owned(),
                name: name.to_owned(),
                department_id: format!("dept-{org}"),
                title: title.to_owned(),
                title_en: String::new(),
                notes: format!("{title}的说明"),
                notes_en: String::new(),
                themes: vec![if org == 0 { "economy" } else { "health" }.to_owned()],
                tags: tags.iter().map(|t| (*t).to_owned()).collect(),
                license_id: "cc-by-4.0".into(),
                frequency: String::new(),
                temporal_start: None,
                temporal_end: None,
                spatial: String::new(),
                contact_name: String::new(),
                contact_email: String::new(),
                source: None,
                private: false,
                state: "active".into(),
                created_by: String::new(),
                created_at: 0,
                modified_at: 0,
            },
            organization: organization(org),
            resources: Vec::new(),
        }
    }

    /// What a reader sees of a catalogue: its datasets in order, what searches find (by
    /// name) and every facet's counts over them.
    fn seen(catalogue: &Catalogue) -> Vec<String> {
        let mut seen: Vec<String> = catalogue
            .entries()
            .map(|e| format!("{}:{}", e.dataset.name, e.dataset.title))
            .collect();
        for q in ["", "空气", "空气质量", "公交线路", "学校", "说明", "质"] {
            let found = crate::ckan::search(catalogue, None, q, &[], &[("score", true)], false);
            let names: Vec<&str> = found
                .iter()
                .filter_map(|&at| catalogue.at(at))
                .map(|e| e.dataset.name.as_str())
                .collect();
            seen.push(format!("{q}: {names:?}"));
            for field in FACETS {
                seen.push(format!(
                    "{q} {field}: {:?}",
                    catalogue.facet(field).map(|c| c.counts(&found))
                ));
            }
        }
        let terms = [crate::ckan::Term::new("tags", "新", false)];
        let found = crate::ckan::search(catalogue, None, "", &terms, &[], false);
        seen.push(format!("tags:新 {}", found.len()));
        seen
    }

    #[test]
    fn a_patched_catalogue_reads_as_one_read_whole() {
        let organizations = vec![organization(0), organization(1)];
        let first = vec![
            entry("a", "air-quality", "空气质量日报", 0, &["空气"]),
            entry("b", "bus-lines", "公交线路", 1, &["交通"]),
            entry("c", "clinics", "医疗机构名录", 1, &["医疗"]),
            entry("d", "schools", "学校名录", 0, &["教育"]),
        ];
        let catalogue = Catalogue::new(first.clone(), organizations.clone());
        let before = seen(&catalogue);
        let patched = catalogue.patched(
            organizations.clone(),
            vec![
                // A new title and a new tag; a new URL name that moves it in the order.
                (
                    "a".into(),
                    Some(entry("a", "z-air", "空气质量小时报", 0, &["空气", "新"])),
                ),
                // Gone.
                ("c".into(), None),
                // New, between others by name.
                (
                    "e".into(),
                    Some(entry(
                        "e",
                        "buses-night",
                        "夜间公交线路",
                        1,
                        &["交通", "新"],
                    )),
                ),
                // Unknown and gone: nothing happens.
                ("x".into(), None),
            ],
        );
        let whole = Catalogue::new(
            vec![
                entry("b", "bus-lines", "公交线路", 1, &["交通"]),
                entry("e", "buses-night", "夜间公交线路", 1, &["交通", "新"]),
                entry("d", "schools", "学校名录", 0, &["教育"]),
                entry("a", "z-air", "空气质量小时报", 0, &["空气", "新"]),
            ],
            organizations.clone(),
        );
        assert_eq!(seen(&patched), seen(&whole));
        assert_eq!(patched.len(), 4);
        assert_eq!(patched.patched, 4);
        assert_eq!(
            seen(&catalogue),
            before,
            "the catalogue patched from is unchanged"
        );
        // A dataset patched twice, and one that comes back.
        let again = patched.patched(
            organizations.clone(),
            vec![
                (
                    "a".into(),
                    Some(entry("a", "air", "空气质量", 0, &["空气"])),
                ),
                (
                    "c".into(),
                    Some(entry("c", "clinics", "医疗机构名录", 1, &["医疗"])),
                ),
            ],
        );
        let whole = Catalogue::new(
            vec![
                entry("a", "air", "空气质量", 0, &["空气"]),
                entry("b", "bus-lines", "公交线路", 1, &["交通"]),
                entry("e", "buses-night", "夜间公交线路", 1, &["交通", "新"]),
                entry("c", "clinics", "医疗机构名录", 1, &["医疗"]),
                entry("d", "schools", "学校名录", 0, &["教育"]),
            ],
            organizations,
        );
        assert_eq!(seen(&again), seen(&whole));
    }
}

/// The uploads of the administrator's department waiting for them to publish — those someone
/// else uploaded or treated last, since publishing takes a second person — as their part of
/// the to-do list, the longest waiting first.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<tongban_platform::module::TodoPart> {
    let Some(department) = actor.account.department_id.as_deref() else {
        return Ok(tongban_platform::module::TodoPart::default());
    };
    if !can_publish(actor, department) {
        return Ok(tongban_platform::module::TodoPart::default());
    }
    let waiting: Vec<store::WaitingUpload> = store::uploads_in_review(state.pool(), department)
        .await?
        .into_iter()
        .filter(|upload| upload.4 != actor.id())
        .collect();
    let total = waiting.len();
    let items = waiting
        .into_iter()
        .take(limit)
        .map(
            |(_, resource, _, dataset, _, at)| tongban_platform::module::TodoItem {
                module: "open-data",
                kind: t.get("opendata.todo_kind").to_owned(),
                title: format!("{dataset} · {resource}"),
                link: "/opendata/console".to_owned(),
                due: None,
                urgency: 0,
                at,
            },
        )
        .collect();
    Ok(tongban_platform::module::TodoPart { items, total })
}
