//! What a dataset and a resource are, and the vocabularies they draw on: themes (CKAN's
//! groups, each mapped to the EU data theme DCAT-AP names), licences and update frequencies.

use serde::{Deserialize, Serialize};

use crate::gate::{Finding, Treatment};
use crate::table::{ColumnType, Field};

/// A theme (主题): CKAN's group, with the EU data-theme code it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub name: &'static str,
    pub title: &'static str,
    pub title_en: &'static str,
    /// The code in the EU data-theme vocabulary (`http://publications.europa.eu/resource/authority/data-theme/…`).
    pub eu: &'static str,
}

const fn theme(
    name: &'static str,
    title: &'static str,
    title_en: &'static str,
    eu: &'static str,
) -> Theme {
    Theme {
        name,
        title,
        title_en,
        eu,
    }
}

/// The themes of the catalogue, as Chinese open-data portals group them.
pub const THEMES: [Theme; 14] = [
    theme("economy", "经济建设", "Economy", "ECON"),
    theme("finance", "财税金融", "Finance and taxation", "ECON"),
    theme("credit", "信用服务", "Credit", "ECON"),
    theme(
        "environment",
        "资源环境",
        "Resources and environment",
        "ENVI",
    ),
    theme("transport", "道路交通", "Transport", "TRAN"),
    theme("education", "教育科技", "Education and science", "EDUC"),
    theme("culture", "文化休闲", "Culture and leisure", "EDUC"),
    theme("health", "卫生健康", "Health", "HEAL"),
    theme("society", "社会民生", "Society and welfare", "SOCI"),
    theme("safety", "公共安全", "Public safety", "JUST"),
    theme(
        "housing",
        "城建住房",
        "Urban development and housing",
        "REGI",
    ),
    theme(
        "agriculture",
        "农业农村",
        "Agriculture and rural affairs",
        "AGRI",
    ),
    theme(
        "government",
        "机构团体",
        "Government and organisations",
        "GOVE",
    ),
    theme("energy", "能源", "Energy", "ENER"),
];

pub fn theme_named(name: &str) -> Option<&'static Theme> {
    THEMES.iter().find(|t| t.name == name)
}

/// A licence a dataset may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Licence {
    pub id: &'static str,
    pub title: &'static str,
    pub url: &'static str,
}

pub const LICENCES: [Licence; 5] = [
    Licence {
        id: "cc-by-4.0",
        title: "Creative Commons Attribution 4.0",
        url: "https://creativecommons.org/licenses/by/4.0/",
    },
    Licence {
        id: "cc0-1.0",
        title: "Creative Commons CC0 1.0",
        url: "https://creativecommons.org/publicdomain/zero/1.0/",
    },
    Licence {
        id: "odc-by",
        title: "Open Data Commons Attribution License",
        url: "https://opendatacommons.org/licenses/by/1-0/",
    },
    Licence {
        id: "odc-odbl",
        title: "Open Data Commons Open Database License (ODbL)",
        url: "https://opendatacommons.org/licenses/odbl/1-0/",
    },
    // What a harvested dataset carries when its source names no licence known here.
    Licence {
        id: "notspecified",
        title: "License not specified",
        url: "http://www.opendefinition.org/licenses/not-specified",
    },
];

pub fn licence(id: &str) -> Option<&'static Licence> {
    LICENCES.iter().find(|l| l.id == id)
}

/// Update frequencies, by the EU frequency vocabulary's codes: (code, 中文, English).
pub const FREQUENCIES: [(&str, &str, &str); 8] = [
    ("CONT", "实时", "continuously"),
    ("DAILY", "每日", "daily"),
    ("WEEKLY", "每周", "weekly"),
    ("MONTHLY", "每月", "monthly"),
    ("QUARTERLY", "每季度", "quarterly"),
    ("ANNUAL", "每年", "annually"),
    ("IRREG", "不定期", "irregularly"),
    ("NEVER", "不再更新", "never"),
];

/// A department that publishes on the portal (CKAN's organization).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Organization {
    pub department_id: String,
    /// The URL name (`linjiang-market`).
    pub name: String,
    pub title: String,
    pub title_en: String,
    pub description: String,
    pub created_at: i64,
}

/// A dataset as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    pub id: String,
    pub name: String,
    pub department_id: String,
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
    /// The region the data covers (a region code).
    pub spatial: String,
    pub contact_name: String,
    pub contact_email: String,
    /// The catalogue resource it opens (数据目录的资源代码), if it comes from the catalogue.
    pub source: Option<String>,
    pub private: bool,
    /// `active` or `deleted`.
    pub state: String,
    pub created_by: String,
    pub created_at: i64,
    pub modified_at: i64,
}

/// Where a resource stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceState {
    /// A link to data held elsewhere: nothing is hosted, published with its dataset.
    Link,
    /// An upload the gate has scanned; waiting for treatment or a second person.
    Review,
    /// Published: served, loaded into the datastore, the raw upload deleted.
    Published,
}

impl ResourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceState::Link => "link",
            ResourceState::Review => "review",
            ResourceState::Published => "published",
        }
    }

    pub fn parse(text: &str) -> Option<ResourceState> {
        match text {
            "link" => Some(ResourceState::Link),
            "review" => Some(ResourceState::Review),
            "published" => Some(ResourceState::Published),
            _ => None,
        }
    }
}

/// A resource as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    pub dataset_id: String,
    pub position: i64,
    pub name: String,
    pub description: String,
    /// `CSV`, `JSON`, `XLSX` (served as CSV once published), or what a link names.
    pub format: String,
    /// A link's address; empty for an upload (its address is the portal's).
    pub url: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    /// SHA-256 of the served file, hex.
    pub sha256: String,
    pub fields: Vec<Field>,
    pub row_count: i64,
    pub state: ResourceState,
    /// What the gate found in the treated table, all of it.
    pub findings: Vec<Finding>,
    pub treatments: Vec<(String, Treatment)>,
    /// The columns checked for k-anonymity, and k.
    pub quasi: Vec<String>,
    pub k: i64,
    /// The types the publisher chose for columns, over the inferred ones.
    pub column_types: Vec<(String, ColumnType)>,
    /// Who last uploaded or treated it (a second person publishes it).
    pub changed_by: String,
    pub published_by: Option<String>,
    pub downloads: i64,
    pub created_at: i64,
    pub modified_at: i64,
}

impl Resource {
    /// A new resource of a dataset, empty, as a link with nothing found yet and the default k:
    /// what an upload, a link or a harvested distribution fills in.
    pub fn blank(dataset_id: &str, position: i64, changed_by: &str, now: i64) -> Resource {
        Resource {
            id: crate::random::new_id(),
            dataset_id: dataset_id.to_owned(),
            position,
            name: String::new(),
            description: String::new(),
            format: String::new(),
            url: String::new(),
            file_name: String::new(),
            media_type: String::new(),
            size: 0,
            sha256: String::new(),
            fields: Vec::new(),
            row_count: 0,
            state: ResourceState::Link,
            findings: Vec::new(),
            treatments: Vec::new(),
            quasi: Vec::new(),
            k: crate::gate::DEFAULT_K as i64,
            column_types: Vec::new(),
            changed_by: changed_by.to_owned(),
            published_by: None,
            downloads: 0,
            created_at: now,
            modified_at: now,
        }
    }

    /// The findings that stop publication now.
    pub fn blocking(&self) -> Vec<Finding> {
        crate::gate::blocking(&self.findings, &self.treatments)
    }

    pub fn is_upload(&self) -> bool {
        self.state != ResourceState::Link
    }
}

/// A catalogue harvested into a department's datasets.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct HarvestSource {
    pub id: String,
    pub department_id: String,
    pub url: String,
    pub created_by: String,
    pub created_at: i64,
    pub last_run_at: Option<i64>,
    /// `new`, `ok: …` with the counts, or `failed: …` with why.
    pub last_status: String,
}
