//! The harvester: a department's administrator registers another portal's DCAT-AP catalogue
//! (Turtle, JSON-LD or RDF/XML; paged with hydra's `nextPage` as this portal pages its own),
//! and its datasets are published here under the department, as links to the data held there.
//! Every run keeps them in step: new datasets are added, changed ones rewritten, those gone
//! from the source deleted. Registering a source is the publishing decision; the hourly job
//! acts on it.
//!
//! The fetch speaks HTTP and HTTPS (the platform's outbound client: the system's authorities
//! and the deployment's own, `http_ca_file`) and follows at most [`MAX_PAGES`] pages of at most
//! [`MAX_PAGE_BYTES`] each; a source is reached only as its administrator named it.

use std::collections::{HashMap, HashSet};

use oxrdf::{NamedOrBlankNode, Term};
use oxrdfio::{JsonLdProfileSet, RdfFormat, RdfParser};
use serde::Serialize;
use sha2::Digest as _;

use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
pub use crate::model::HarvestSource as Source;
use crate::model::{self, Dataset, Resource};
use crate::state::AppState;
use crate::store;

/// Pages followed in one run.
pub const MAX_PAGES: usize = 100;
/// The largest page read.
pub const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;
/// How often every source is harvested.
pub const PERIOD: std::time::Duration = std::time::Duration::from_secs(3600);

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const HYDRA_NEXT: &str = "http://www.w3.org/ns/hydra/core#nextPage";

/// The client the harvester fetches with (the module's state).
pub struct Client(pub reqwest::Client);

impl Client {
    /// HTTPS as the platform speaks it ([`tongban_platform::outbound`]), a minute per page,
    /// at most three redirects.
    pub fn new(config: &tongban_platform::config::Config) -> Client {
        Client(
            tongban_platform::outbound::builder(config)
                .timeout(std::time::Duration::from_secs(60))
                .connect_timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
                .expect("a client of the platform's TLS settings builds"),
        )
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub pages: usize,
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
}

/// Registers a catalogue to harvest (an administrator of a publishing department).
pub async fn add_source(state: &AppState, actor: &Actor, url: &str) -> AppResult<Source> {
    let department_id = actor
        .account
        .department_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    if !crate::service::may_publish(actor, &department_id) {
        return Err(AppError::Forbidden);
    }
    let url = url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.len() > 2000
        || reqwest::Url::parse(url).is_err()
    {
        return Err(AppError::invalid("url", "an http:// or https:// address"));
    }
    let catalogue = crate::service::catalogue(state).await?;
    if catalogue.organization(&department_id).is_none() {
        return Err(AppError::invalid(
            "url",
            "the department publishes on the portal first (organization_create)",
        ));
    }
    let source = Source {
        id: crate::random::new_id(),
        department_id,
        url: url.to_owned(),
        created_by: actor.id().to_owned(),
        created_at: state.now(),
        last_run_at: None,
        last_status: "new".into(),
    };
    store::insert_harvest_source(state.pool(), &source).await?;
    Ok(source)
}

/// The sources of the actor's department.
pub async fn sources(state: &AppState, actor: &Actor) -> AppResult<Vec<Source>> {
    let department_id = actor
        .account
        .department_id
        .clone()
        .ok_or(AppError::Forbidden)?;
    if !crate::service::may_prepare(actor, &department_id) {
        return Err(AppError::Forbidden);
    }
    Ok(store::harvest_sources(state.pool())
        .await?
        .into_iter()
        .filter(|s| s.department_id == department_id)
        .collect())
}

/// Runs one source now (an administrator of its department).
pub async fn run_now(state: &AppState, actor: &Actor, id: &str) -> AppResult<Report> {
    let source = store::harvest_sources(state.pool())
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(AppError::NotFound)?;
    if !crate::service::may_publish(actor, &source.department_id) {
        return Err(AppError::NotFound);
    }
    run(state, &source).await
}

/// Runs every source (the hourly job); one failing source does not stop the others.
pub async fn run_all(state: &AppState) -> AppResult<()> {
    for source in store::harvest_sources(state.pool()).await? {
        if let Err(error) = run(state, &source).await {
            tracing::warn!(%error, source = %source.id, "a harvest failed");
        }
    }
    Ok(())
}

/// Harvests a source and records how it went.
pub async fn run(state: &AppState, source: &Source) -> AppResult<Report> {
    let result = harvest(state, source).await;
    let status = match &result {
        Ok(r) => format!(
            "ok: {} created, {} updated, {} deleted from {} page(s)",
            r.created, r.updated, r.deleted, r.pages
        ),
        Err(e) => format!("failed: {e}"),
    };
    store::record_harvest(state.pool(), &source.id, state.now(), &status).await?;
    result
}

fn syntax_of(content_type: &str, url: &str) -> Option<RdfFormat> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match media {
        "text/turtle" | "application/x-turtle" => Some(RdfFormat::Turtle),
        "application/ld+json" => Some(RdfFormat::JsonLd {
            profile: JsonLdProfileSet::empty(),
        }),
        "application/rdf+xml" => Some(RdfFormat::RdfXml),
        _ => {
            let path = url.split(['?', '#']).next().unwrap_or_default();
            match path.rsplit('.').next() {
                Some("ttl") => Some(RdfFormat::Turtle),
                Some("jsonld") => Some(RdfFormat::JsonLd {
                    profile: JsonLdProfileSet::empty(),
                }),
                Some("rdf") | Some("xml") => Some(RdfFormat::RdfXml),
                _ => None,
            }
        }
    }
}

/// What the graph says of its subjects: subject → (predicate, object).
#[derive(Default)]
struct Index {
    by_subject: HashMap<NamedOrBlankNode, Vec<(String, Term)>>,
}

impl Index {
    fn objects<'a>(
        &'a self,
        subject: &NamedOrBlankNode,
        predicate: &'a str,
    ) -> impl Iterator<Item = &'a Term> {
        self.by_subject
            .get(subject)
            .into_iter()
            .flatten()
            .filter(move |(p, _)| p == predicate)
            .map(|(_, o)| o)
    }

    fn node(&self, subject: &NamedOrBlankNode, predicate: &str) -> Option<NamedOrBlankNode> {
        self.objects(subject, predicate).find_map(|o| match o {
            Term::NamedNode(n) => Some(NamedOrBlankNode::NamedNode(n.clone())),
            Term::BlankNode(b) => Some(NamedOrBlankNode::BlankNode(b.clone())),
            _ => None,
        })
    }

    fn iri(&self, subject: &NamedOrBlankNode, predicate: &str) -> Option<String> {
        self.objects(subject, predicate).find_map(|o| match o {
            Term::NamedNode(n) => Some(n.as_str().to_owned()),
            _ => None,
        })
    }

    /// A text in the language wanted (`zh…`), else one without a language, else any.
    fn text(&self, subject: &NamedOrBlankNode, predicate: &str, lang: &str) -> Option<String> {
        let literals: Vec<&oxrdf::Literal> = self
            .objects(subject, predicate)
            .filter_map(|o| match o {
                Term::Literal(l) => Some(l),
                _ => None,
            })
            .collect();
        literals
            .iter()
            .find(|l| l.language().is_some_and(|l| l.starts_with(lang)))
            .or_else(|| literals.iter().find(|l| l.language().is_none()))
            .or_else(|| if lang == "zh" { literals.first() } else { None })
            .map(|l| l.value().trim().to_owned())
    }

    fn texts(&self, subject: &NamedOrBlankNode, predicate: &str) -> Vec<String> {
        self.objects(subject, predicate)
            .filter_map(|o| match o {
                Term::Literal(l) => Some(l.value().trim().to_owned()),
                _ => None,
            })
            .collect()
    }
}

/// A dataset as the source describes it.
struct Remote {
    iri: String,
    dataset: Dataset,
    /// (title, address, format)
    links: Vec<(String, String, String)>,
}

fn last_segment(iri: &str) -> &str {
    iri.trim_end_matches('/')
        .rsplit(['/', '#'])
        .next()
        .unwrap_or_default()
}

/// A URL name for a harvested dataset: its own name where the source shows one, with a
/// short digest of its IRI, so two sources never claim the same name.
fn local_name(iri: &str, landing: Option<&str>) -> String {
    let digest = data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(iri.as_bytes()));
    let base: String = last_segment(landing.unwrap_or(iri))
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(80)
        .collect();
    if base.len() < 2 {
        format!("h-{}", &digest[..12])
    } else {
        format!("{base}-{}", &digest[..8])
    }
}

fn read_dataset(
    index: &Index,
    subject: &NamedOrBlankNode,
    source: &Source,
    now: i64,
) -> Option<Remote> {
    let NamedOrBlankNode::NamedNode(node) = subject else {
        return None;
    };
    let iri = node.as_str().to_owned();
    let title = index.text(subject, &format!("{DCT}title"), "zh")?;
    let landing = index.iri(subject, &format!("{DCAT}landingPage"));
    let themes: Vec<String> = index
        .objects(subject, &format!("{DCAT}theme"))
        .filter_map(|o| match o {
            Term::NamedNode(n) => model::THEMES
                .iter()
                .find(|t| t.eu == last_segment(n.as_str()))
                .map(|t| t.name.to_owned()),
            _ => None,
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut tags: Vec<String> = index
        .texts(subject, &format!("{DCAT}keyword"))
        .into_iter()
        .map(|t| t.replace(',', " ").chars().take(100).collect::<String>())
        .filter(|t| !t.trim().is_empty())
        .collect();
    tags.sort();
    tags.dedup();
    tags.truncate(50);
    let frequency = index
        .iri(subject, &format!("{DCT}accrualPeriodicity"))
        .map(|f| last_segment(&f).to_owned())
        .filter(|f| model::FREQUENCIES.iter().any(|(code, _, _)| code == f))
        .unwrap_or_else(|| "IRREG".into());
    let date = |text: Option<String>| {
        text.map(|t| t.chars().take(10).collect::<String>())
            .filter(|d| crate::table::ColumnType::Date.admits(d) && !d.is_empty())
    };
    let period = index.node(subject, &format!("{DCT}temporal"));
    let (temporal_start, temporal_end) = match &period {
        Some(p) => (
            date(index.text(p, &format!("{DCAT}startDate"), "")),
            date(index.text(p, &format!("{DCAT}endDate"), "")),
        ),
        None => (None, None),
    };
    let contact = index.node(subject, &format!("{DCAT}contactPoint"));
    let (contact_name, contact_email) = match &contact {
        Some(c) => (
            index
                .text(c, &format!("{VCARD}fn"), "zh")
                .unwrap_or_default(),
            index
                .iri(c, &format!("{VCARD}hasEmail"))
                .map(|m| m.trim_start_matches("mailto:").to_owned())
                .unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    };
    let mut links = Vec::new();
    let mut licence = index.iri(subject, &format!("{DCT}license"));
    for dist in index
        .objects(subject, &format!("{DCAT}distribution"))
        .filter_map(|o| match o {
            Term::NamedNode(n) => Some(NamedOrBlankNode::NamedNode(n.clone())),
            Term::BlankNode(b) => Some(NamedOrBlankNode::BlankNode(b.clone())),
            _ => None,
        })
    {
        let Some(url) = index
            .iri(&dist, &format!("{DCAT}downloadURL"))
            .or_else(|| index.iri(&dist, &format!("{DCAT}accessURL")))
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        else {
            continue;
        };
        let title = index
            .text(&dist, &format!("{DCT}title"), "zh")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| last_segment(&url).to_owned());
        let format = index
            .iri(&dist, &format!("{DCT}format"))
            .map(|f| last_segment(&f).to_uppercase())
            .unwrap_or_default();
        if licence.is_none() {
            licence = index.iri(&dist, &format!("{DCT}license"));
        }
        links.push((title, url, format));
    }
    let license_id = licence
        .and_then(|url| {
            model::LICENCES
                .iter()
                .find(|l| l.url.trim_end_matches('/') == url.trim_end_matches('/'))
        })
        .map_or("notspecified", |l| l.id)
        .to_owned();
    Some(Remote {
        dataset: Dataset {
            id: String::new(),
            name: local_name(&iri, landing.as_deref()),
            department_id: source.department_id.clone(),
            title: title.chars().take(200).collect(),
            title_en: index
                .text(subject, &format!("{DCT}title"), "en")
                .filter(|t| *t != title)
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect(),
            notes: index
                .text(subject, &format!("{DCT}description"), "zh")
                .unwrap_or_default()
                .chars()
                .take(5000)
                .collect(),
            notes_en: index
                .text(subject, &format!("{DCT}description"), "en")
                .unwrap_or_default()
                .chars()
                .take(5000)
                .collect(),
            themes,
            tags,
            license_id,
            frequency,
            temporal_start,
            temporal_end,
            spatial: String::new(),
            contact_name,
            contact_email,
            source: None,
            private: false,
            state: "active".into(),
            created_by: format!("harvest:{}", source.id),
            created_at: now,
            modified_at: now,
        },
        iri,
        links,
    })
}

async fn fetch_page(state: &AppState, url: &str) -> AppResult<Index> {
    let client = state
        .try_module::<Client>()
        .map(|c| c.0.clone())
        .unwrap_or_else(|| Client::new(&state.config).0);
    let fail = |why: String| AppError::Conflict(format!("{url}: {why}"));
    let mut response = client
        .get(url)
        .header(
            reqwest::header::ACCEPT,
            "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8",
        )
        .send()
        .await
        .map_err(|e| fail(causes(&e)))?;
    if !response.status().is_success() {
        return Err(fail(format!("answered {}", response.status())));
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let format = syntax_of(&content_type, url)
        .ok_or_else(|| fail(format!("{content_type} is not Turtle, JSON-LD or RDF/XML")))?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(causes(&e)))? {
        if body.len() + chunk.len() > MAX_PAGE_BYTES {
            return Err(fail("the page is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    tokio::task::spawn_blocking(move || {
        let mut index = Index::default();
        for quad in RdfParser::from_format(format).for_slice(&body) {
            let quad = quad.map_err(|e| e.to_string())?;
            index
                .by_subject
                .entry(quad.subject)
                .or_default()
                .push((quad.predicate.as_str().to_owned(), quad.object));
        }
        Ok::<Index, String>(index)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(fail)
}

/// An error with what caused it ("… : invalid peer certificate: UnknownIssuer"), which is
/// what the administrator needs to see in the source's status.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

async fn harvest(state: &AppState, source: &Source) -> AppResult<Report> {
    let mut report = Report::default();
    let mut touched: Vec<String> = Vec::new();
    let mut remote: Vec<Remote> = Vec::new();
    let mut next = Some(source.url.clone());
    let mut visited: HashSet<String> = HashSet::new();
    let now = state.now();
    while let Some(url) = next.take() {
        if report.pages == MAX_PAGES || !visited.insert(url.clone()) {
            break;
        }
        let index = fetch_page(state, &url).await?;
        report.pages += 1;
        let dataset_type = format!("{DCAT}Dataset");
        for (subject, pairs) in &index.by_subject {
            let is_dataset = pairs.iter().any(|(p, o)| {
                p == RDF_TYPE && matches!(o, Term::NamedNode(n) if n.as_str() == dataset_type)
            });
            if is_dataset
                && let Some(found) = read_dataset(&index, subject, source, now)
                && !remote.iter().any(|r| r.iri == found.iri)
            {
                remote.push(found);
            }
        }
        next = index
            .by_subject
            .values()
            .flatten()
            .find_map(|(p, o)| match o {
                Term::NamedNode(n) if p == HYDRA_NEXT => Some(n.as_str().to_owned()),
                _ => None,
            });
    }
    let known: HashMap<String, String> = store::harvested(state.pool(), &source.id)
        .await?
        .into_iter()
        .collect();
    let mut tx = state.pool().begin().await?;
    for found in &remote {
        let mut dataset = found.dataset.clone();
        match known.get(&found.iri) {
            Some(id) => {
                let Some(existing) = store::dataset(&mut *tx, id).await? else {
                    continue;
                };
                dataset.id = existing.id.clone();
                dataset.created_at = existing.created_at;
                dataset.created_by = existing.created_by.clone();
                store::update_dataset(&mut *tx, &dataset).await?;
                for old in store::resources_of(&mut *tx, &dataset.id).await? {
                    store::delete_resource(&mut *tx, &old.id).await?;
                }
                report.updated += 1;
                touched.push(dataset.id.clone());
            }
            None => {
                if store::dataset(&mut *tx, &dataset.name).await?.is_some() {
                    continue; // a local dataset of that name: never overwritten
                }
                dataset.id = crate::random::new_id();
                store::insert_dataset(&mut *tx, &dataset).await?;
                store::insert_harvested(&mut *tx, &source.id, &found.iri, &dataset.id).await?;
                report.created += 1;
                touched.push(dataset.id.clone());
            }
        }
        for (position, (title, url, format)) in found.links.iter().enumerate() {
            store::insert_resource(
                &mut *tx,
                &link(&dataset, position as i64, title, url, format, now),
            )
            .await?;
        }
    }
    for (iri, id) in &known {
        if remote.iter().any(|r| r.iri == *iri) {
            continue;
        }
        touched.push(id.clone());
        if let Some(mut gone) = store::dataset(&mut *tx, id).await? {
            gone.state = "deleted".into();
            gone.modified_at = now;
            store::update_dataset(&mut *tx, &gone).await?;
        }
        store::delete_harvested(&mut *tx, &source.id, iri).await?;
        report.deleted += 1;
    }
    tx.commit().await?;
    crate::service::datasets_changed(state, &touched).await;
    Ok(report)
}

fn link(
    dataset: &Dataset,
    position: i64,
    title: &str,
    url: &str,
    format: &str,
    now: i64,
) -> Resource {
    Resource {
        name: title.chars().take(200).collect(),
        format: format.chars().take(20).collect(),
        url: url.to_owned(),
        ..Resource::blank(&dataset.id, position, &dataset.created_by, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harvested_names_are_stable_and_safe() {
        let a = local_name(
            "http://a.example/dataset/1",
            Some("http://a.example/opendata/dataset/Air-Quality"),
        );
        assert!(a.starts_with("air-quality-") && a.len() == "air-quality-".len() + 8);
        assert_eq!(
            a,
            local_name(
                "http://a.example/dataset/1",
                Some("http://a.example/opendata/dataset/Air-Quality")
            )
        );
        assert_ne!(
            a,
            local_name(
                "http://b.example/dataset/1",
                Some("http://a.example/opendata/dataset/Air-Quality")
            )
        );
        assert!(local_name("http://a.example/数据/", None).starts_with("h-"));
    }

    #[test]
    fn the_syntax_comes_from_the_media_type_then_the_extension() {
        assert_eq!(
            syntax_of("text/turtle; charset=utf-8", "x"),
            Some(RdfFormat::Turtle)
        );
        assert_eq!(
            syntax_of("application/octet-stream", "http://a/catalog.rdf?page=2"),
            Some(RdfFormat::RdfXml)
        );
        assert_eq!(syntax_of("text/html", "http://a/catalog"), None);
    }
}
