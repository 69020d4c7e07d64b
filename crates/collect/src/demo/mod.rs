//! The demo city's 一表通: the market-regulation bureau's survey of self-employed businesses
//! (个体工商户经营情况摸底), designed as an XLSForm, approved by the government-services
//! administration (the burden-reduction office), collected by two communities' devices; and a
//! second form that repeats most of its questions, waiting for the office with its overlap
//! report. And the civil-affairs bureau's visits to older people living alone, whose names and
//! phones arrive prefilled from the population register ([`elderly`]).

mod elderly;

use tongban_tables::xlsx::write::workbook_of;
use tongban_xform::xlsform;

use crate::error::{AppError, AppResult};
use crate::service::{self, Incoming};
use crate::state::AppState;
use crate::store;
use tongban_xform::escape;

/// The two subdistricts the survey is sent to.
const CHENGDONG: &str = "339901001";
const BINJIANG: &str = "339902001";

use crate::starter::rows;

const HEADER: &[&str] = &[
    "type",
    "name",
    "label",
    "hint",
    "required",
    "constraint",
    "constraint_message",
    "relevant",
];

/// The survey's workbook, as a designer at the bureau would write it.
pub fn business_survey() -> Vec<u8> {
    let survey = rows(&[
        HEADER,
        &["text", "shop_name", "店铺名称", "", "yes", "", "", ""],
        &[
            "text",
            "operator_name",
            "经营者姓名",
            "",
            "yes",
            "string-length(.) <= 20",
            "不超过20字",
            "",
        ],
        &[
            "text",
            "operator_phone",
            "联系电话",
            "11位手机号",
            "yes",
            "regex(., '^1[3-9][0-9]{9}$')",
            "请填写11位手机号",
            "",
        ],
        &[
            "select_one industry",
            "industry",
            "行业",
            "",
            "yes",
            "",
            "",
            "",
        ],
        &[
            "integer",
            "staff",
            "从业人数",
            "",
            "yes",
            ". >= 1 and . <= 500",
            "1至500人",
            "",
        ],
        &[
            "decimal",
            "monthly_sales",
            "月营业额（万元）",
            "",
            "",
            ". >= 0",
            "",
            "",
        ],
        &[
            "select_one yn",
            "affected",
            "近三个月经营是否受影响",
            "",
            "yes",
            "",
            "",
            "",
        ],
        &[
            "select_multiple impacts",
            "impacts",
            "受影响的方面",
            "可多选",
            "yes",
            "",
            "",
            "${affected} = 'yes'",
        ],
        &[
            "text",
            "needs",
            "希望得到的帮扶",
            "",
            "",
            "",
            "",
            "${affected} = 'yes'",
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
        ],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["industry", "catering", "餐饮"],
        &["industry", "retail", "零售"],
        &["industry", "services", "居民服务"],
        &["industry", "repair", "维修"],
        &["yn", "yes", "是"],
        &["yn", "no", "否"],
        &["impacts", "customers", "客流减少"],
        &["impacts", "rent", "房租压力"],
        &["impacts", "supply", "进货困难"],
        &["impacts", "staffing", "用工困难"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["个体工商户经营情况摸底", "business_survey", "2026110101"],
    ]);
    workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("settings", &settings),
    ])
}

/// A second bureau's sheet asking the same shops much the same.
fn shop_recheck() -> Vec<u8> {
    let survey = rows(&[
        HEADER,
        &["text", "shop_name", "店铺名称", "", "yes", "", "", ""],
        &["text", "operator_name", "经营者姓名", "", "yes", "", "", ""],
        &["text", "operator_phone", "联系电话", "", "yes", "", "", ""],
        &[
            "text",
            "operator_id",
            "经营者身份证号",
            "",
            "yes",
            "",
            "",
            "",
        ],
        &["integer", "staff", "从业人数", "", "", "", "", ""],
        &[
            "select_one yn",
            "fire_check",
            "是否完成消防自查",
            "",
            "yes",
            "",
            "",
            "",
        ],
    ]);
    let choices = rows(&[
        &["list_name", "name", "label"],
        &["yn", "yes", "是"],
        &["yn", "no", "否"],
    ]);
    let settings = rows(&[
        &["form_title", "form_id", "version"],
        &["门店安全与经营复查", "shop_recheck", "2026120101"],
    ]);
    workbook_of(&[
        ("survey", &survey),
        ("choices", &choices),
        ("settings", &settings),
    ])
}

async fn account_id(state: &AppState, username: &str) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(username.to_owned())
            .fetch_optional(state.pool())
            .await?,
    )
}

/// A collector's device for a unit; its token is discarded (the demo's own devices only
/// submit while the city is seeded).
async fn demo_device(
    state: &AppState,
    project_id: i64,
    name: &str,
    unit: &str,
    holder: Option<&str>,
    by: &str,
) -> AppResult<i64> {
    let token = crate::random::secret_token();
    store::add_collector(
        state.pool(),
        &store::NewCollector {
            project_id,
            kind: "app_user",
            display_name: name,
            account_id: None,
            token_hash: Some(&crate::random::secret_digest(&token)),
            region_code: Some(unit),
            holder_id: holder,
            by,
            at: state.now(),
        },
    )
    .await
}

pub async fn seed(state: &AppState, city: &tongban_platform::demo::DemoCity) -> AppResult<()> {
    let Some(market) = city.departments.iter().find(|d| {
        d.kind == "market_regulation" && d.region_code.as_str() == tongban_platform::demo::CITY
    }) else {
        return Ok(());
    };
    let (Some(designer), Some(approver)) = (
        account_id(state, "demo.deptadmin.market").await?,
        account_id(state, "demo.deptadmin").await?,
    ) else {
        return Ok(());
    };
    if !store::projects(state.pool()).await?.is_empty() {
        return Ok(());
    }
    let now = state.now();
    let project_id =
        store::add_project(state.pool(), "个体工商户走访", &market.id, &designer, now).await?;
    let project = store::project(state.pool(), project_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = xlsform::read(&business_survey(), "business_survey").map_err(|e| {
        AppError::Internal(anyhow::anyhow!("the demo form does not read: {}", e[0]))
    })?;
    let mut row = service::form_row(
        &project,
        &form,
        &designer,
        now - 30 * 86_400_000,
        service::APPROVED,
    );
    row.decided_by = Some(approver.clone());
    row.decided_at = Some(now - 29 * 86_400_000);
    row.decision_note = Some("与现有表单无重复采集，同意下发至江北区、江南区各社区。".into());
    row.due_day = Some((state.today() + time::Duration::days(14)).to_string());
    row.target_regions = Some(format!(r#"["{CHENGDONG}","{BINJIANG}"]"#));
    store::save_form(state.pool(), &row).await?;
    let recheck = xlsform::read(&shop_recheck(), "shop_recheck").map_err(|e| {
        AppError::Internal(anyhow::anyhow!("the demo form does not read: {}", e[0]))
    })?;
    let pending = service::form_row(
        &project,
        &recheck,
        &designer,
        now - 86_400_000,
        service::PENDING,
    );
    store::save_form(state.pool(), &pending).await?;

    let mut collectors = Vec::new();
    for (name, unit) in [
        ("江北区城东社区 走访组", "339901001001"),
        ("江南区滨江社区 走访组", "339902001001"),
    ] {
        let id = demo_device(state, project_id, name, unit, None, &designer).await?;
        collectors.push((id, unit));
    }
    const SHOPS: [&str; 12] = [
        "老王面馆",
        "惠民便利店",
        "顺发五金",
        "鑫鑫理发",
        "张记早餐",
        "明亮眼镜",
        "家家乐超市",
        "快修家电",
        "小李水果",
        "福满楼饭庄",
        "宏达手机维修",
        "百姓药房",
    ];
    const SURNAMES: [&str; 10] = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    const GIVEN: [&str; 10] = [
        "建国", "秀英", "伟", "芳", "军", "敏", "强", "丽", "磊", "静",
    ];
    const INDUSTRIES: [&str; 4] = ["catering", "retail", "services", "repair"];
    const IMPACTS: [&str; 4] = ["customers", "rent", "supply", "staffing"];
    let mut seed: u64 = 20_261_101;
    let mut next = |bound: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % bound
    };
    for i in 0..48u64 {
        let shop = format!(
            "{}{}",
            SHOPS[(i % 12) as usize],
            if i >= 12 {
                format!("（{}店）", i / 12 + 1)
            } else {
                String::new()
            }
        );
        let name = format!(
            "{}{}",
            SURNAMES[next(10) as usize],
            GIVEN[next(10) as usize]
        );
        let phone = format!("13{}{:08}", 5 + next(5), next(100_000_000));
        let industry = INDUSTRIES[next(4) as usize];
        let staff = 1 + next(12);
        let sales = (5 + next(60)) as f64 / 2.0;
        let affected = next(3) > 0;
        let visit = state.today() - time::Duration::days((28 - (i * 28 / 48)) as i64);
        let mut body = format!(
            "<shop_name>{}</shop_name><operator_name>{}</operator_name><operator_phone>{phone}</operator_phone><industry>{industry}</industry><staff>{staff}</staff><monthly_sales>{sales}</monthly_sales><affected>{}</affected>",
            escape(&shop),
            escape(&name),
            if affected { "yes" } else { "no" }
        );
        if affected {
            let first = IMPACTS[next(4) as usize];
            let second = IMPACTS[next(4) as usize];
            let impacts = if first == second {
                first.to_owned()
            } else {
                format!("{first} {second}")
            };
            body.push_str(&format!(
                "<impacts>{impacts}</impacts><needs>希望减免部分房租，协调稳岗补贴</needs>"
            ));
        } else {
            body.push_str("<impacts/><needs/>");
        }
        body.push_str(&format!("<visit_day>{visit}</visit_day>"));
        let xml = format!(
            r#"<data xmlns:jr="http://openrosa.org/javarosa" id="business_survey" version="2026110101">{body}<meta><instanceID>uuid:demo-business-{i:04}</instanceID></meta></data>"#
        );
        let (collector, unit) = collectors[(i % 2) as usize];
        service::submit(
            state,
            &project,
            collector,
            "business_survey",
            Incoming {
                xml,
                files: Vec::new(),
                device_id: Some(format!("collect:demo{}", i % 2)),
                unit: Some(unit.to_owned()),
            },
        )
        .await?;
    }
    elderly::seed(state, city).await?;
    Ok(())
}
