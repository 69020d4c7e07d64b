//! The catalogue in DCAT-AP 3.0 — Turtle, JSON-LD and RDF/XML, the whole catalogue paged and
//! each dataset alone — as the European data portal and other harvesters read it. Every node
//! a shape constrains is typed and labelled as DCAT-AP asks (publishers as `foaf:Agent`,
//! themes as concepts of the EU data-theme vocabulary, formats, frequencies and licences by
//! their authority IRIs), so the exports validate against the DCAT-AP SHACL shapes.

use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use oxrdfio::{JsonLdProfileSet, RdfFormat, RdfSerializer};

use crate::model::{self, ResourceState};
use crate::service::{Catalogue, Entry};

/// Datasets on one page of the catalogue.
pub const PAGE_SIZE: usize = 100;

const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const FOAF: &str = "http://xmlns.com/foaf/0.1/";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
const SPDX: &str = "http://spdx.org/rdf/terms#";
const XSD: &str = "http://www.w3.org/2001/XMLSchema#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";
const EU: &str = "http://publications.europa.eu/resource/authority/";

/// The three syntaxes, by the extension asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Turtle,
    JsonLd,
    RdfXml,
}

impl Syntax {
    pub fn from_extension(ext: &str) -> Option<Syntax> {
        match ext {
            "ttl" => Some(Syntax::Turtle),
            "jsonld" => Some(Syntax::JsonLd),
            "rdf" | "xml" => Some(Syntax::RdfXml),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Syntax::Turtle => "text/turtle; charset=utf-8",
            Syntax::JsonLd => "application/ld+json",
            Syntax::RdfXml => "application/rdf+xml",
        }
    }

    fn format(self) -> RdfFormat {
        match self {
            Syntax::Turtle => RdfFormat::Turtle,
            Syntax::JsonLd => RdfFormat::JsonLd {
                profile: JsonLdProfileSet::empty(),
            },
            Syntax::RdfXml => RdfFormat::RdfXml,
        }
    }
}

/// The EU data theme's label, for the concept DCAT-AP asks to be labelled.
fn eu_theme_label(code: &str) -> &'static str {
    match code {
        "AGRI" => "Agriculture, fisheries, forestry and food",
        "ECON" => "Economy and finance",
        "EDUC" => "Education, culture and sport",
        "ENER" => "Energy",
        "ENVI" => "Environment",
        "GOVE" => "Government and public sector",
        "HEAL" => "Health",
        "JUST" => "Justice, legal system and public safety",
        "REGI" => "Regions and cities",
        "SOCI" => "Population and society",
        "TECH" => "Science and technology",
        "TRAN" => "Transport",
        _ => "International issues",
    }
}

/// Triples, with helpers that keep the building short.
#[derive(Default)]
struct Graph {
    triples: Vec<Triple>,
}

fn iri(text: &str) -> NamedNode {
    NamedNode::new_unchecked(text)
}

fn term(prefix: &str, local: &str) -> NamedNode {
    iri(&format!("{prefix}{local}"))
}

impl Graph {
    fn add(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNode, o: impl Into<Term>) {
        self.triples.push(Triple::new(s, p, o));
    }

    fn typed(&mut self, s: impl Into<NamedOrBlankNode>, class: NamedNode) {
        self.add(s, iri(RDF_TYPE), class);
    }

    fn text(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNode, value: &str, lang: &str) {
        if !value.trim().is_empty() {
            self.add(
                s,
                p,
                Literal::new_language_tagged_literal_unchecked(value, lang),
            );
        }
    }

    fn value(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNode, value: &str, datatype: &str) {
        self.add(s, p, Literal::new_typed_literal(value, term(XSD, datatype)));
    }

    fn time(&mut self, s: impl Into<NamedOrBlankNode>, p: NamedNode, millis: i64) {
        self.value(s, p, &crate::time_fmt::rfc3339(millis), "dateTime");
    }

    /// A node of a vocabulary, typed (and the object of `p`).
    fn link(
        &mut self,
        s: impl Into<NamedOrBlankNode>,
        p: NamedNode,
        target: &str,
        class: NamedNode,
    ) {
        self.add(s, p, iri(target));
        self.typed(iri(target), class);
    }

    fn serialize(self, syntax: Syntax) -> Vec<u8> {
        let mut serializer = RdfSerializer::from_format(syntax.format());
        for (prefix, namespace) in [
            ("dcat", DCAT),
            ("dct", DCT),
            ("foaf", FOAF),
            ("vcard", VCARD),
            ("skos", SKOS),
            ("spdx", SPDX),
            ("xsd", XSD),
            ("hydra", HYDRA),
        ] {
            serializer = match serializer.clone().with_prefix(prefix, namespace) {
                Ok(with) => with,
                Err(_) => serializer,
            };
        }
        // Grouped by subject (in the order first met), so Turtle writes each node once.
        let mut order: std::collections::HashMap<&NamedOrBlankNode, usize> =
            std::collections::HashMap::new();
        let mut seen: std::collections::HashSet<&Triple> = std::collections::HashSet::new();
        let mut triples: Vec<&Triple> = Vec::with_capacity(self.triples.len());
        for triple in &self.triples {
            let next = order.len();
            order.entry(&triple.subject).or_insert(next);
            if seen.insert(triple) {
                triples.push(triple);
            }
        }
        triples.sort_by_key(|t| order.get(&t.subject).copied().unwrap_or(usize::MAX));
        let mut writer = serializer.for_writer(Vec::new());
        for triple in triples {
            // Writing to memory fails only on a triple the syntax cannot hold; none is built.
            let _ = writer.serialize_triple(triple);
        }
        writer.finish().unwrap_or_default()
    }
}

/// Where things are, under the portal's address.
struct Site<'a>(&'a str);

impl Site<'_> {
    fn catalog(&self) -> String {
        format!("{}/catalog", self.0)
    }
    fn dataset(&self, id: &str) -> String {
        format!("{}/dataset/{id}", self.0)
    }
    fn organization(&self, name: &str) -> String {
        format!("{}/organization/{name}", self.0)
    }
}

fn add_dataset(g: &mut Graph, site: &Site<'_>, entry: &Entry) {
    let d = &entry.dataset;
    let me = iri(&site.dataset(&d.id));
    g.typed(me.clone(), term(DCAT, "Dataset"));
    g.text(me.clone(), term(DCT, "title"), &d.title, "zh");
    g.text(me.clone(), term(DCT, "title"), &d.title_en, "en");
    let description = if d.notes.trim().is_empty() {
        &d.title
    } else {
        &d.notes
    };
    g.text(me.clone(), term(DCT, "description"), description, "zh");
    g.text(me.clone(), term(DCT, "description"), &d.notes_en, "en");
    g.add(
        me.clone(),
        term(DCT, "identifier"),
        Literal::new_simple_literal(&d.id),
    );
    g.time(me.clone(), term(DCT, "issued"), d.created_at);
    g.time(me.clone(), term(DCT, "modified"), d.modified_at);
    for tag in &d.tags {
        g.text(me.clone(), term(DCAT, "keyword"), tag, "zh");
    }
    for theme in d.themes.iter().filter_map(|t| model::theme_named(t)) {
        let concept = format!("{EU}data-theme/{}", theme.eu);
        g.link(
            me.clone(),
            term(DCAT, "theme"),
            &concept,
            term(SKOS, "Concept"),
        );
        g.text(
            iri(&concept),
            term(SKOS, "prefLabel"),
            eu_theme_label(theme.eu),
            "en",
        );
    }
    let publisher = site.organization(&entry.organization.name);
    g.link(
        me.clone(),
        term(DCT, "publisher"),
        &publisher,
        term(FOAF, "Agent"),
    );
    g.text(
        iri(&publisher),
        term(FOAF, "name"),
        &entry.organization.title,
        "zh",
    );
    g.text(
        iri(&publisher),
        term(FOAF, "name"),
        &entry.organization.title_en,
        "en",
    );
    if model::FREQUENCIES.iter().any(|f| f.0 == d.frequency) {
        g.link(
            me.clone(),
            term(DCT, "accrualPeriodicity"),
            &format!("{EU}frequency/{}", d.frequency),
            term(DCT, "Frequency"),
        );
    }
    if d.temporal_start.is_some() || d.temporal_end.is_some() {
        let period = BlankNode::default();
        g.add(me.clone(), term(DCT, "temporal"), period.clone());
        g.typed(period.clone(), term(DCT, "PeriodOfTime"));
        if let Some(start) = &d.temporal_start {
            g.value(period.clone(), term(DCAT, "startDate"), start, "date");
        }
        if let Some(end) = &d.temporal_end {
            g.value(period, term(DCAT, "endDate"), end, "date");
        }
    }
    if !d.spatial.is_empty() {
        g.link(
            me.clone(),
            term(DCT, "spatial"),
            &format!("{}/region/{}", site.0, d.spatial),
            term(DCT, "Location"),
        );
    }
    if !d.contact_name.is_empty() || !d.contact_email.is_empty() {
        let contact = BlankNode::default();
        g.add(me.clone(), term(DCAT, "contactPoint"), contact.clone());
        g.typed(contact.clone(), term(VCARD, "Kind"));
        g.text(contact.clone(), term(VCARD, "fn"), &d.contact_name, "zh");
        if !d.contact_email.is_empty() {
            g.add(
                contact,
                term(VCARD, "hasEmail"),
                iri(&format!("mailto:{}", d.contact_email)),
            );
        }
    }
    g.link(
        me.clone(),
        term(DCAT, "landingPage"),
        &format!("{}/opendata/dataset/{}", site.0, d.name),
        term(FOAF, "Document"),
    );
    let licence = model::licence(&d.license_id);
    for resource in entry
        .resources
        .iter()
        .filter(|r| r.state != ResourceState::Review)
    {
        let dist = iri(&format!("{}/resource/{}", site.dataset(&d.id), resource.id));
        g.add(me.clone(), term(DCAT, "distribution"), dist.clone());
        g.typed(dist.clone(), term(DCAT, "Distribution"));
        g.text(dist.clone(), term(DCT, "title"), &resource.name, "zh");
        g.text(
            dist.clone(),
            term(DCT, "description"),
            &resource.description,
            "zh",
        );
        g.time(dist.clone(), term(DCT, "modified"), resource.modified_at);
        let access = if resource.is_upload() {
            format!("{}{}", site.0, crate::ckan::download_path(resource))
        } else {
            resource.url.clone()
        };
        if oxiri_ok(&access) {
            g.add(dist.clone(), term(DCAT, "accessURL"), iri(&access));
            if resource.is_upload() {
                g.add(dist.clone(), term(DCAT, "downloadURL"), iri(&access));
            }
        }
        let format = resource.format.to_uppercase();
        if !format.is_empty()
            && format
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            g.link(
                dist.clone(),
                term(DCT, "format"),
                &format!("{EU}file-type/{format}"),
                term(DCT, "MediaTypeOrExtent"),
            );
        }
        if let Some(licence) = licence {
            g.link(
                dist.clone(),
                term(DCT, "license"),
                licence.url,
                term(DCT, "LicenseDocument"),
            );
        }
        if resource.state == ResourceState::Published {
            let media = resource
                .media_type
                .split(';')
                .next()
                .unwrap_or_default()
                .trim();
            if !media.is_empty() {
                g.link(
                    dist.clone(),
                    term(DCAT, "mediaType"),
                    &format!("https://www.iana.org/assignments/media-types/{media}"),
                    term(DCT, "MediaType"),
                );
            }
            g.value(
                dist.clone(),
                term(DCAT, "byteSize"),
                &resource.size.to_string(),
                "nonNegativeInteger",
            );
            let checksum = BlankNode::default();
            g.add(dist, term(SPDX, "checksum"), checksum.clone());
            g.typed(checksum.clone(), term(SPDX, "Checksum"));
            g.add(
                checksum.clone(),
                term(SPDX, "algorithm"),
                term(SPDX, "checksumAlgorithm_sha256"),
            );
            g.typed(
                term(SPDX, "checksumAlgorithm_sha256"),
                term(SPDX, "ChecksumAlgorithm"),
            );
            g.value(
                checksum,
                term(SPDX, "checksumValue"),
                &resource.sha256,
                "hexBinary",
            );
        }
    }
}

/// Whether a text is an absolute IRI a serializer will take.
fn oxiri_ok(text: &str) -> bool {
    NamedNode::new(text).is_ok()
}

fn add_catalog_head(
    g: &mut Graph,
    site: &Site<'_>,
    catalogue: &Catalogue,
    region: &str,
    modified: i64,
) {
    let me = iri(&site.catalog());
    g.typed(me.clone(), term(DCAT, "Catalog"));
    g.text(
        me.clone(),
        term(DCT, "title"),
        &format!("数据开放目录 · {region}"),
        "zh",
    );
    g.text(
        me.clone(),
        term(DCT, "title"),
        &format!("Open data catalogue · {region}"),
        "en",
    );
    g.text(
        me.clone(),
        term(DCT, "description"),
        "本地区各部门依法开放的数据集；发布前逐格检查个人信息。",
        "zh",
    );
    g.text(
        me.clone(),
        term(DCT, "description"),
        "Datasets the region's departments open by law, every cell checked for personal data before publication.",
        "en",
    );
    let publisher = site.organization("portal");
    g.link(
        me.clone(),
        term(DCT, "publisher"),
        &publisher,
        term(FOAF, "Agent"),
    );
    g.text(
        iri(&publisher),
        term(FOAF, "name"),
        &format!("{region} 数据开放平台"),
        "zh",
    );
    g.link(
        me.clone(),
        term(FOAF, "homepage"),
        &format!("{}/opendata", site.0),
        term(FOAF, "Document"),
    );
    g.link(
        me.clone(),
        term(DCT, "language"),
        &format!("{EU}language/ZHO"),
        term(DCT, "LinguisticSystem"),
    );
    g.time(me, term(DCT, "modified"), modified);
    let _ = catalogue;
}

/// One page (from 1) of the catalogue with its datasets, and hydra's paging links.
pub fn catalogue_page(
    site: &str,
    catalogue: &Catalogue,
    region: &str,
    page: usize,
    syntax: Syntax,
    extension: &str,
) -> Option<Vec<u8>> {
    let public: Vec<&Entry> = catalogue.entries().filter(|e| !e.dataset.private).collect();
    let pages = public.len().div_ceil(PAGE_SIZE).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let site = Site(site.trim_end_matches('/'));
    let mut g = Graph::default();
    let modified = public
        .iter()
        .map(|e| e.dataset.modified_at)
        .max()
        .unwrap_or(0);
    add_catalog_head(&mut g, &site, catalogue, region, modified);
    for entry in public.iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE) {
        g.add(
            iri(&site.catalog()),
            term(DCAT, "dataset"),
            iri(&site.dataset(&entry.dataset.id)),
        );
        add_dataset(&mut g, &site, entry);
    }
    let here = |n: usize| format!("{}/catalog.{extension}?page={n}", site.0);
    let collection = iri(&here(page));
    g.typed(collection.clone(), term(HYDRA, "PagedCollection"));
    g.value(
        collection.clone(),
        term(HYDRA, "totalItems"),
        &public.len().to_string(),
        "integer",
    );
    g.value(
        collection.clone(),
        term(HYDRA, "itemsPerPage"),
        &PAGE_SIZE.to_string(),
        "integer",
    );
    g.add(collection.clone(), term(HYDRA, "firstPage"), iri(&here(1)));
    g.add(
        collection.clone(),
        term(HYDRA, "lastPage"),
        iri(&here(pages)),
    );
    if page < pages {
        g.add(
            collection.clone(),
            term(HYDRA, "nextPage"),
            iri(&here(page + 1)),
        );
    }
    if page > 1 {
        g.add(
            collection,
            term(HYDRA, "previousPage"),
            iri(&here(page - 1)),
        );
    }
    Some(g.serialize(syntax))
}

/// One dataset alone.
pub fn dataset(site: &str, entry: &Entry, syntax: Syntax) -> Vec<u8> {
    let site = Site(site.trim_end_matches('/'));
    let mut g = Graph::default();
    add_dataset(&mut g, &site, entry);
    g.serialize(syntax)
}
