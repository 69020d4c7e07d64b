//! The civil-affairs bureau's visits to older people living alone (独居老人关爱走访): a form
//! whose name, phone and address arrive prefilled from the population register once the collector types
//! the ID number, sent to 城东街道 with a due day, collected by a community's and a village's
//! grid workers. Each first visit keeps the person in the list 关爱对象 (an entity list), from
//! which the monthly follow-up is chosen and prefilled.

use tongban_core::ResidentId;
use tongban_tables::xlsx::write::workbook_of;
use tongban_xform::xlsform;

use super::{account_id, rows};
use crate::error::{AppError, AppResult};
use crate::service::{self, Incoming};
use crate::state::AppState;
use crate::store;
use tongban_xform::escape;

/// The subdistrict the visits are sent to, and its two units.
const CHENGDONG: &str = "339901001";
const UNITS: [(&str, &str); 2] = [
    ("城东社区 网格员", "339901001001"),
    ("桥头村 网格员", "339901001002"),
];

/// The visit form, as the bureau's designer wrote it: the ID number is the key, the name,
/// phone and district of residence are prefilled from it.
pub fn elderly_visit() -> Vec<u8> {
    let survey = rows(&[
        &[
            "type",
            "name",
            "label",
            "hint",
            "required",
            "constraint",
            "constraint_message",
            "relevant",
            "prefill",
            "save_to",
        ],
        &[
            "text",
            "elder_id",
            "老人身份证号",
            "输入后点“查找并填入”",
            "yes",
            "string-length(.) = 18",
            "请填写18位身份证号",
            "",
            "person.resident_id",
            "",
        ],
        &[
            "text",
            "elder_name",
            "老人姓名",
            "",
            "yes",
            "",
            "",
            "",
            "person.name",
            "elder_name",
        ],
        &[
            "text",
            "elder_phone",
            "老人联系电话",
            "",
            "",
            "",
            "",
            "",
            "person.phone",
            "elder_phone",
        ],
        &[
            "text",
            "elder_district",
            "户籍所在区",
            "",
            "",
            "",
            "",
            "",
            "person.region",
            "district",
        ],
        &[
            "text",
            "elder_address",
            "居住地址",
            "",
            "",
            "",
            "",
            "",
            "person.address",
            "address",
        ],
        &[
            "select_one living",
            "living",
            "居住情况",
            "",
            "yes",
            "",
            "",
            "",
            "",
            "living",
        ],
        &[
            "select_one health",
            "health",
            "健康状况",
            "",
            "yes",
            "",
            "",
            "",
            "",
            "health",
        ],
        &[
            "select_multiple needs",
            "needs",
            "需要的帮助",
            "可多选",
            "",
            "",
            "",
            "${living} = 'alone'",
            "",
            "",
        ],
        &[
            "integer",
            "visits",
            "本月走访次数",
            "",
            "yes",
            ". >= 1 and . <= 31",
            "1至31次",
            "",
            "",
            "",
        ],
        &[
            "date",
            "visit_day",
            "走访日期",
            "",
            "yes",
            ". <= today()",
            "不能晚于今天",
            "",
            "",
            "last_visit",
        ],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["living", "alone", "独居"],
        &["living", "spouse", "与配偶同住"],
        &["living", "children", "与子女同住"],
        &["health", "good", "良好"],
        &["health", "chronic", "有慢性病"],
        &["health", "disabled", "失能或半失能"],
        &["needs", "meals", "助餐"],
        &["needs", "cleaning", "助洁"],
        &["needs", "medical", "助医"],
        &["needs", "company", "陪伴"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["独居老人关爱走访", "elderly_visit", "2026120101"],
    ]);
    // Each visit keeps the older person in the list 关爱对象 (elders), for the monthly
    // follow-ups.
    let entities = rows(&[
        &["list_name", "label"],
        &[
            "elders",
            "concat(${elder_name}, '（', ${elder_district}, '）')",
        ],
    ]);
    workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("settings", &settings),
        ("entities", &entities),
    ])
}

/// The monthly follow-up: the grid worker chooses the older person from the list the visits
/// made, and their name, phone and living situation arrive from it.
pub fn elderly_followup() -> Vec<u8> {
    let survey = rows(&[
        &[
            "type", "name", "label", "hint", "required", "relevant", "prefill",
        ],
        &[
            "select_one_from_file elders.csv",
            "elder",
            "回访对象",
            "从本社区（村）的关爱对象中选择，再点“查找并填入”",
            "yes",
            "",
            "",
        ],
        &[
            "text",
            "elder_name",
            "老人姓名",
            "",
            "yes",
            "",
            "entity.elders.elder_name",
        ],
        &[
            "text",
            "elder_phone",
            "联系电话",
            "",
            "",
            "",
            "entity.elders.elder_phone",
        ],
        &[
            "select_one yn",
            "met",
            "本次是否见到本人",
            "",
            "yes",
            "",
            "",
        ],
        &[
            "select_one living",
            "living",
            "现居住情况",
            "按上次记录预选，有变化请改",
            "yes",
            "${met} = 'yes'",
            "entity.elders.living",
        ],
        &["text", "notes", "情况说明", "", "", "", ""],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["yn", "yes", "是"],
        &["yn", "no", "否"],
        &["living", "alone", "独居"],
        &["living", "spouse", "与配偶同住"],
        &["living", "children", "与子女同住"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["独居老人月度回访", "elderly_followup", "2026120301"],
    ]);
    workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("settings", &settings),
    ])
}

fn resident_id(n: u64) -> AppResult<String> {
    let first17 = format!(
        "339901{}{:02}{:02}{:03}",
        1940 + n % 15,
        1 + n % 12,
        1 + n % 28,
        100 + n
    );
    let check = ResidentId::check_character(&first17)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("demo id {first17}")))?;
    Ok(format!("{first17}{check}"))
}

pub async fn seed(state: &AppState, city: &tongban_platform::demo::DemoCity) -> AppResult<()> {
    let Some(civil) = city.departments.iter().find(|d| {
        d.kind == "civil_affairs" && d.region_code.as_str() == tongban_platform::demo::CITY
    }) else {
        return Ok(());
    };
    let (Some(designer), Some(approver)) = (
        account_id(state, "demo.clerk.civil").await?,
        account_id(state, "demo.deptadmin").await?,
    ) else {
        return Ok(());
    };
    let now = state.now();
    let project_id =
        store::add_project(state.pool(), "独居老人关爱走访", &civil.id, &designer, now).await?;
    let project = store::project(state.pool(), project_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = xlsform::read(&elderly_visit(), "elderly_visit").map_err(|e| {
        AppError::Internal(anyhow::anyhow!("the demo form does not read: {}", e[0]))
    })?;
    let mut row = service::form_row(
        &project,
        &form,
        &designer,
        now - 12 * 86_400_000,
        service::APPROVED,
    );
    row.decided_by = Some(approver);
    row.decided_at = Some(now - 11 * 86_400_000);
    row.decision_note =
        Some("姓名、电话由身份证号从人口库预填，不再重复询问；同意下发城东街道。".into());
    row.target_regions = Some(format!(r#"["{CHENGDONG}"]"#));
    row.due_day = Some((state.today() + time::Duration::days(10)).to_string());
    store::save_form(state.pool(), &row).await?;
    crate::entities::made::declare(state, project_id, &form, &designer).await?;
    let followup = xlsform::read(&elderly_followup(), "elderly_followup").map_err(|e| {
        AppError::Internal(anyhow::anyhow!(
            "the demo follow-up does not read: {}",
            e[0]
        ))
    })?;
    let mut next = service::form_row(
        &project,
        &followup,
        &designer,
        now - 3 * 86_400_000,
        service::APPROVED,
    );
    next.decided_by = row.decided_by.clone();
    next.decided_at = Some(now - 2 * 86_400_000);
    next.decision_note = Some("回访对象从走访名册中选择，姓名电话不再重复填写；同意。".into());
    next.target_regions = row.target_regions.clone();
    next.due_day = Some((state.today() + time::Duration::days(25)).to_string());
    store::save_form(state.pool(), &next).await?;

    // 城东社区's device is carried by 江北区's clerk: the visits wait on that person's to-do
    // list, and the person fills them in signed in, without the device's token.
    let carrier = account_id(state, "demo.clerk").await?;
    let mut devices = Vec::new();
    for (i, (name, unit)) in UNITS.into_iter().enumerate() {
        let holder = carrier.as_deref().filter(|_| i == 0);
        let id = super::demo_device(state, project_id, name, unit, holder, &designer).await?;
        devices.push((id, unit));
    }
    const NAMES: [&str; 9] = [
        "周桂兰",
        "吴秀珍",
        "郑福全",
        "王淑芬",
        "冯德胜",
        "陈玉梅",
        "褚金花",
        "卫长林",
        "蒋素英",
    ];
    const LIVING: [&str; 3] = ["alone", "spouse", "children"];
    const HEALTH: [&str; 3] = ["good", "chronic", "disabled"];
    const NEEDS: [&str; 4] = ["meals", "cleaning", "medical", "company"];
    for i in 0..27u64 {
        let living = LIVING[(i % 5).min(2) as usize];
        let needs = if living == "alone" {
            format!(
                "{} {}",
                NEEDS[(i % 4) as usize],
                NEEDS[((i + 1) % 4) as usize]
            )
        } else {
            String::new()
        };
        let visit = state.today() - time::Duration::days((i % 10) as i64);
        let body = format!(
            "<elder_id>{}</elder_id><elder_name>{}</elder_name><elder_phone>139{:08}</elder_phone><elder_district>江北区</elder_district><elder_address>{}</elder_address><living>{living}</living><health>{}</health><needs>{needs}</needs><visits>{}</visits><visit_day>{visit}</visit_day>",
            resident_id(i)?,
            escape(NAMES[(i % 9) as usize]),
            10_000_000 + i * 7_919,
            if i % 3 == 2 {
                format!("城东街道桥头村{}号", 20 + i)
            } else {
                format!("城东街道城东社区{}幢{}室", 1 + i % 6, 101 + i)
            },
            HEALTH[(i % 7 % 3) as usize],
            1 + i % 4,
        );
        // The first visit to each of the nine keeps them in the list of those cared for.
        let entity = if i < 9 {
            format!(
                r#"<entity dataset="elders" create="1" id="00000000-0000-4000-8000-{i:012}"><label/></entity>"#
            )
        } else {
            String::new()
        };
        let xml = format!(
            r#"<data xmlns:jr="http://openrosa.org/javarosa" id="elderly_visit" version="2026120101">{body}<meta>{entity}<instanceID>uuid:demo-elderly-{i:04}</instanceID></meta></data>"#
        );
        let (device, unit) = devices[usize::from(i % 3 == 2)];
        service::submit(
            state,
            &project,
            device,
            "elderly_visit",
            Incoming {
                xml,
                files: Vec::new(),
                device_id: Some(format!("collect:elderly{device}")),
                unit: Some(unit.to_owned()),
            },
        )
        .await?;
    }
    Ok(())
}
