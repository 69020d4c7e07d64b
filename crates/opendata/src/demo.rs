//! The demo city's open data: each city department publishes as an organization; datasets
//! with tables a visitor can preview, query and download — statistics by month and district,
//! registers of institutions — one link to data held elsewhere, and one upload still under
//! review whose names and ID numbers the gate stopped.

use crate::error::AppResult;
use crate::gate::Treatment;
use crate::model::{Dataset, Organization, Resource, ResourceState};
use crate::state::AppState;
use crate::store::{self, FileKind};
use crate::table::Format;

/// (department kind, URL name)
const ORGANIZATIONS: [(&str, &str); 8] = [
    ("government_services", "linjiang-zwfw"),
    ("health", "linjiang-wjw"),
    ("public_security", "linjiang-gaj"),
    ("market_regulation", "linjiang-scjg"),
    ("human_resources", "linjiang-rsj"),
    ("civil_affairs", "linjiang-mzj"),
    ("taxation", "linjiang-swj"),
    ("disease_control", "linjiang-cdc"),
];

/// A small deterministic generator, so the demo's figures are the same on every start.
struct Figures(u64);

impl Figures {
    fn next(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        low + (self.0 >> 33) % (high - low + 1)
    }
}

const DISTRICTS: [&str; 2] = ["江北区", "江南区"];

fn months() -> Vec<String> {
    (1..=11).map(|m| format!("2026-{m:02}")).collect()
}

fn csv(header: &str, rows: Vec<String>) -> Vec<u8> {
    let mut text = String::from(header);
    text.push('\n');
    for row in rows {
        text.push_str(&row);
        text.push('\n');
    }
    text.into_bytes()
}

/// A file of a demo dataset: resource name, file name, bytes, treatments, published.
type DemoFile = (
    &'static str,
    &'static str,
    Vec<u8>,
    Vec<(String, Treatment)>,
    bool,
);

struct DemoDataset {
    org: &'static str,
    name: &'static str,
    title: &'static str,
    title_en: &'static str,
    notes: &'static str,
    themes: &'static [&'static str],
    tags: &'static [&'static str],
    frequency: &'static str,
    source: Option<&'static str>,
    private: bool,
    files: Vec<DemoFile>,
    link: Option<(&'static str, &'static str)>,
}

fn datasets() -> Vec<DemoDataset> {
    let mut f = Figures(20_261_204);
    let mut registrations = Vec::new();
    for month in months() {
        for district in DISTRICTS {
            registrations.push(format!(
                "{month},{district},{},{},{}",
                f.next(180, 420),
                f.next(300, 900),
                f.next(40, 160)
            ));
        }
    }
    let mut handled = Vec::new();
    for month in months() {
        for (department, low) in [
            ("市场监督管理局", 2000),
            ("公安局", 3000),
            ("人力资源和社会保障局", 1500),
            ("民政局", 600),
        ] {
            let received = f.next(low, low * 2);
            let done = received - f.next(10, 120);
            handled.push(format!(
                "{month},{department},{received},{done},{:.1}",
                95.0 + f.next(0, 49) as f64 / 10.0
            ));
        }
    }
    let mut employment = Vec::new();
    for month in months() {
        for district in DISTRICTS {
            employment.push(format!(
                "{month},{district},{},{}",
                f.next(900, 2100),
                f.next(150, 480)
            ));
        }
    }
    let hospitals = [
        (
            "临江市第一人民医院",
            "综合医院",
            "江北区",
            "江北区滨江大道100号",
            1200,
        ),
        (
            "临江市中医院",
            "中医医院",
            "江北区",
            "江北区人民路58号",
            650,
        ),
        (
            "临江市妇幼保健院",
            "妇幼保健院",
            "江南区",
            "江南区江南大道201号",
            400,
        ),
        (
            "江南区人民医院",
            "综合医院",
            "江南区",
            "江南区解放路12号",
            520,
        ),
        (
            "江北区社区卫生服务中心",
            "社区卫生服务中心",
            "江北区",
            "江北区文化路3号",
            60,
        ),
        (
            "临江市第二人民医院",
            "综合医院",
            "江南区",
            "江南区新华路88号",
            900,
        ),
        (
            "临江市口腔医院",
            "专科医院",
            "江北区",
            "江北区建设路17号",
            80,
        ),
        (
            "江南区社区卫生服务中心",
            "社区卫生服务中心",
            "江南区",
            "江南区东湖路5号",
            45,
        ),
    ]
    .iter()
    .map(|(name, kind, district, address, beds)| {
        format!("{name},{kind},{district},{address},{beds}")
    })
    .collect();
    let population = [("2022", 0), ("2023", 1), ("2024", 2), ("2025", 3)]
        .iter()
        .flat_map(|(year, n)| {
            DISTRICTS.iter().enumerate().map(move |(i, district)| {
                let people = 612_000 + i as u64 * 187_000 + n * 4_100;
                format!("{year},{district},{people},{}", people * 10 / 27)
            })
        })
        .collect();
    let mut taxes = Vec::new();
    for quarter in ["2026Q1", "2026Q2", "2026Q3"] {
        for kind in ["增值税", "企业所得税", "个人所得税", "城市维护建设税"] {
            taxes.push(format!("{quarter},{kind},{}", f.next(8_000, 90_000)));
        }
    }
    let mut diseases = Vec::new();
    for month in months() {
        for disease in ["流行性感冒", "手足口病", "其他感染性腹泻病"] {
            diseases.push(format!("{month},{disease},{},0", f.next(40, 900)));
        }
    }
    // A list a department must never publish as it is: the gate stops it.
    let operators = csv(
        "经营者姓名,身份证号码,联系电话,所在区,行业,登记月份",
        vec![
            "王建国,11010519491231002X,13800138000,江北区,餐饮,2026-03".into(),
            "李秀英,330102196507153025,13900139001,江南区,零售,2026-05".into(),
            "张伟,330102198002284512,13700137002,江北区,零售,2026-07".into(),
        ],
    );
    vec![
        DemoDataset {
            org: "linjiang-scjg",
            name: "market-entities-monthly",
            title: "市场主体登记统计（月度）",
            title_en: "Business registrations by month",
            notes: "本市各区每月新设企业、新设个体工商户与注销企业的户数，来自企业登记基本信息（SJ-QYDJ-001）的汇总。",
            themes: &["economy", "credit"],
            tags: &["企业", "个体工商户", "营商环境"],
            frequency: "MONTHLY",
            source: Some("SJ-QYDJ-001"),
            private: false,
            files: vec![(
                "2026年市场主体登记统计",
                "market-entities-2026.csv",
                csv("月份,区县,新设企业,新设个体工商户,注销企业", registrations),
                Vec::new(),
                true,
            )],
            link: None,
        },
        DemoDataset {
            org: "linjiang-zwfw",
            name: "service-volumes-monthly",
            title: "政务服务办件量统计",
            title_en: "Government service applications handled, by month",
            notes: "各部门每月受理、办结的政务服务事项办件量与按时办结率。",
            themes: &["government"],
            tags: &["政务服务", "一网通办", "办件量"],
            frequency: "MONTHLY",
            source: None,
            private: false,
            files: vec![(
                "2026年办件量",
                "service-volumes-2026.csv",
                csv("月份,部门,受理量,办结量,按时办结率", handled),
                Vec::new(),
                true,
            )],
            link: None,
        },
        DemoDataset {
            org: "linjiang-rsj",
            name: "urban-employment",
            title: "城镇新增就业人数",
            title_en: "New urban employment",
            notes: "各区每月城镇新增就业人数与失业人员再就业人数。",
            themes: &["society", "economy"],
            tags: &["就业", "社会保障"],
            frequency: "MONTHLY",
            source: None,
            private: false,
            files: vec![(
                "2026年城镇新增就业",
                "employment-2026.csv",
                csv("月份,区县,新增就业人数,失业人员再就业人数", employment),
                Vec::new(),
                true,
            )],
            link: None,
        },
        DemoDataset {
            org: "linjiang-wjw",
            name: "medical-institutions",
            title: "医疗机构名录",
            title_en: "Medical institutions",
            notes: "本市医疗机构的名称、类别、所在区、地址与核定床位数。地址为机构地址。",
            themes: &["health"],
            tags: &["医院", "医疗机构", "床位"],
            frequency: "QUARTERLY",
            source: None,
            private: false,
            files: vec![(
                "医疗机构名录",
                "medical-institutions.csv",
                csv("机构名称,机构类别,所在区,地址,核定床位数", hospitals),
                vec![(
                    "地址".into(),
                    Treatment::Declare {
                        reason: "医疗机构的办公地址，不是个人住址".into(),
                    },
                )],
                true,
            )],
            link: None,
        },
        DemoDataset {
            org: "linjiang-gaj",
            name: "registered-population",
            title: "户籍人口统计（年度）",
            title_en: "Registered population by year",
            notes: "各区年末户籍人口与户数。",
            themes: &["society"],
            tags: &["人口", "户籍"],
            frequency: "ANNUAL",
            source: None,
            private: false,
            files: vec![(
                "户籍人口（2022—2025）",
                "population.csv",
                csv("年份,区县,户籍人口,户数", population),
                Vec::new(),
                true,
            )],
            link: None,
        },
        DemoDataset {
            org: "linjiang-swj",
            name: "tax-revenue-quarterly",
            title: "税收收入统计（季度）",
            title_en: "Tax revenue by quarter",
            notes: "分税种的季度税收收入（万元）。",
            themes: &["finance"],
            tags: &["税收", "财政"],
            frequency: "QUARTERLY",
            source: None,
            private: false,
            files: vec![(
                "2026年税收收入",
                "tax-revenue-2026.csv",
                csv("季度,税种,收入（万元）", taxes),
                Vec::new(),
                true,
            )],
            link: None,
        },
        DemoDataset {
            org: "linjiang-cdc",
            name: "notifiable-diseases-monthly",
            title: "法定传染病疫情概况（月度）",
            title_en: "Notifiable infectious diseases by month",
            notes: "全市每月法定报告传染病的发病数与死亡数（病种汇总，不含个案信息）。",
            themes: &["health"],
            tags: &["传染病", "疾控", "公共卫生"],
            frequency: "MONTHLY",
            source: None,
            private: false,
            files: vec![(
                "2026年疫情概况",
                "diseases-2026.csv",
                csv("月份,病种,发病数,死亡数", diseases),
                Vec::new(),
                true,
            )],
            link: None,
        },
        DemoDataset {
            org: "linjiang-zwfw",
            name: "information-disclosure",
            title: "政府信息公开目录",
            title_en: "Government information disclosure catalogue",
            notes: "市政府信息公开目录，由市政府门户网站发布。",
            themes: &["government"],
            tags: &["政务公开"],
            frequency: "IRREG",
            source: None,
            private: false,
            files: Vec::new(),
            link: Some((
                "政府信息公开目录（门户网站）",
                "https://www.gov.cn/zhengce/xxgk/",
            )),
        },
        DemoDataset {
            org: "linjiang-scjg",
            name: "individual-businesses",
            title: "新登记个体工商户（待审）",
            title_en: "Newly registered individual businesses (in review)",
            notes: "拟公开的新登记个体工商户：经营者姓名、身份证号码和电话须去除后方可公开。",
            themes: &["economy"],
            tags: &["个体工商户"],
            frequency: "MONTHLY",
            source: None,
            private: true,
            files: vec![(
                "新登记个体工商户名单",
                "individual-businesses.csv",
                operators,
                Vec::new(),
                false,
            )],
            link: None,
        },
    ]
}

pub async fn seed(state: &AppState, city: &tongban_platform::demo::DemoCity) -> AppResult<()> {
    if !store::organizations(state.pool()).await?.is_empty() {
        return Ok(());
    }
    let now = state.now();
    for (kind, name) in ORGANIZATIONS {
        let Some(department) = city
            .departments
            .iter()
            .find(|d| d.kind == kind && d.region_code.as_str() == tongban_platform::demo::CITY)
        else {
            continue;
        };
        let org = Organization {
            department_id: department.id.clone(),
            name: name.into(),
            title: department.name.clone(),
            title_en: department.name_en.clone(),
            description: format!("{}发布的开放数据。", department.name),
            created_at: now,
        };
        store::insert_organization(state.pool(), &org, "demo").await?;
    }
    let organizations = store::organizations(state.pool()).await?;
    for demo in datasets() {
        let Some(org) = organizations.iter().find(|o| o.name == demo.org) else {
            continue;
        };
        let dataset = Dataset {
            id: crate::random::new_id(),
            name: demo.name.into(),
            department_id: org.department_id.clone(),
            title: demo.title.into(),
            title_en: demo.title_en.into(),
            notes: demo.notes.into(),
            notes_en: String::new(),
            themes: demo.themes.iter().map(|t| (*t).to_owned()).collect(),
            tags: demo.tags.iter().map(|t| (*t).to_owned()).collect(),
            license_id: "cc-by-4.0".into(),
            frequency: demo.frequency.into(),
            temporal_start: Some("2026-01-01".into()),
            temporal_end: None,
            spatial: tongban_platform::demo::CITY.into(),
            contact_name: format!("{}数据管理科", org.title),
            contact_email: format!(
                "data@{}.linjiang.gov.cn",
                demo.org.trim_start_matches("linjiang-")
            ),
            source: demo.source.map(str::to_owned),
            private: demo.private,
            state: "active".into(),
            created_by: "demo".into(),
            created_at: now,
            modified_at: now,
        };
        store::insert_dataset(state.pool(), &dataset).await?;
        let mut position = 0;
        if let Some((name, url)) = demo.link {
            let mut resource = blank(&dataset, position, now);
            resource.name = name.into();
            resource.url = url.into();
            resource.format = "HTML".into();
            store::insert_resource(state.pool(), &resource).await?;
            position += 1;
        }
        for (name, file_name, bytes, treatments, published) in demo.files {
            seed_file(
                state, &dataset, position, name, file_name, bytes, treatments, published,
            )
            .await?;
            position += 1;
        }
    }
    Ok(())
}

fn blank(dataset: &Dataset, position: i64, now: i64) -> Resource {
    Resource::blank(&dataset.id, position, "demo", now)
}

#[allow(clippy::too_many_arguments)]
async fn seed_file(
    state: &AppState,
    dataset: &Dataset,
    position: i64,
    name: &str,
    file_name: &str,
    bytes: Vec<u8>,
    treatments: Vec<(String, Treatment)>,
    published: bool,
) -> AppResult<()> {
    let now = state.now();
    let plan = crate::prepare::Plan {
        treatments: treatments.clone(),
        k: crate::gate::DEFAULT_K,
        ..Default::default()
    };
    let prepared = crate::prepare::prepare(&bytes, Format::Csv, &plan).map_err(|e| {
        crate::error::AppError::Internal(anyhow::anyhow!("demo file {file_name}: {e:?}"))
    })?;
    let mut resource = blank(dataset, position, now);
    resource.name = name.into();
    resource.format = "CSV".into();
    resource.media_type = "text/csv".into();
    resource.file_name = file_name.into();
    resource.fields = prepared.fields.clone();
    resource.row_count = prepared.table.rows.len() as i64;
    resource.findings = prepared.findings.clone();
    resource.treatments = treatments;
    let blocking = resource.blocking();
    if published && blocking.is_empty() {
        let served = crate::table::to_csv(
            &prepared.table.columns,
            prepared.table.rows.iter().map(Vec::as_slice),
        );
        resource.sha256 = crate::service::sha256_hex(&served);
        resource.size = served.len() as i64;
        resource.state = ResourceState::Published;
        resource.published_by = Some("demo".into());
        let mut tx = state.pool().begin().await?;
        store::insert_resource(&mut *tx, &resource).await?;
        crate::service::load_table(
            &mut tx,
            state.db.engine(),
            &resource.id,
            &prepared.fields,
            &prepared.table,
        )
        .await?;
        crate::files::put_whole(&mut tx, state, &resource.id, FileKind::Served, &served).await?;
        tx.commit().await?;
        store::index_datastore(state.pool(), &resource.id, &resource.fields).await?;
    } else {
        resource.sha256 = crate::service::sha256_hex(&bytes);
        resource.size = bytes.len() as i64;
        resource.state = ResourceState::Review;
        let mut tx = state.pool().begin().await?;
        store::insert_resource(&mut *tx, &resource).await?;
        crate::files::put_whole(&mut tx, state, &resource.id, FileKind::Raw, &bytes).await?;
        tx.commit().await?;
    }
    Ok(())
}
