//! The demo city's office: the codes its government-services administration and its market
//! regulator number documents under, and documents at every step — a notice sent, a 请示
//! waiting for the leader's sign-off, an urgent notice waiting for the secretariat, a 函 still
//! in draft, and the regulator's 通报 in review — each moved by the accounts whose step it is.

use crate::directory::{self, NewPost, NewUnit};
use crate::documents::{self, ActOnDocument, NewDocument};
use crate::error::AppResult;
use crate::gongwen::draft::{Draft, Recipient, Relation, Urgency};
use crate::gongwen::flow::Act;
use crate::gongwen::kind::{Direction, Kind};
use crate::identity::model::Actor;
use crate::incoming::{ActOnIncoming, InAct};
use crate::state::AppState;
use tongban_platform::demo::DemoCity;

fn organ(name: &str, relation: Relation) -> Recipient {
    Recipient {
        name: name.into(),
        relation,
    }
}

fn draft(kind: Kind, direction: Direction, title: &str, body: &str) -> Draft {
    Draft {
        kind,
        direction,
        title: title.into(),
        main_recipients: Vec::new(),
        copied_to: Vec::new(),
        signer: None,
        secrecy: None,
        copies: None,
        urgency: None,
        body: body.into(),
        requests: Vec::new(),
        attachments: Vec::new(),
        answers: None,
    }
}

async fn actor(state: &AppState, city: &DemoCity, username: &str) -> AppResult<Option<Actor>> {
    if !city.accounts.iter().any(|a| a.username == username) {
        return Ok(None);
    }
    crate::identity::service::actor_of_username(state, username).await
}

/// Moves a document by the acts given, each by its account.
async fn run(
    state: &AppState,
    id: &str,
    steps: &[(&Actor, Act, &str)],
    reviewers: &[String],
    leader: &str,
) -> AppResult<()> {
    for (by, act, opinion) in steps {
        documents::act(
            state,
            by,
            id,
            ActOnDocument {
                act: *act,
                opinion: (*opinion).into(),
                reviewers: if *act == Act::Submit {
                    reviewers.to_vec()
                } else {
                    Vec::new()
                },
                leader: (*act == Act::Submit).then(|| leader.to_owned()),
            },
        )
        .await?;
    }
    Ok(())
}

/// The directory of the city's government-services administration and market regulator:
/// their internal departments (one with a section under it), the posts of their staff —
/// the heads marked as leaders — and work phones. Done once.
async fn seed_directory(
    state: &AppState,
    city: &DemoCity,
    organ_head: &Actor,
    organ: &[(&str, Option<&str>, &str, bool, &str)],
    units: &[(&str, Option<&str>)],
) -> AppResult<()> {
    let Some(department) = organ_head.account.department_id.clone() else {
        return Ok(());
    };
    if !crate::store::units_of(state.pool(), &department)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let mut made: Vec<(String, String)> = Vec::new();
    for (name, parent) in units {
        let parent =
            parent.and_then(|p| made.iter().find(|(n, _)| n == p).map(|(_, id)| id.clone()));
        let unit = directory::add_unit(
            state,
            organ_head,
            NewUnit {
                parent,
                name: (*name).into(),
            },
        )
        .await?;
        made.push(((*name).to_owned(), unit.id));
    }
    for (username, unit, title, leader, phone) in organ {
        let Some(account) = city.accounts.iter().find(|a| a.username == *username) else {
            continue;
        };
        let Some(found) =
            crate::identity::store::account_by_username(state.pool(), &account.username).await?
        else {
            continue;
        };
        let unit = unit.and_then(|u| made.iter().find(|(n, _)| n == u).map(|(_, id)| id.clone()));
        directory::add_post(
            state,
            organ_head,
            NewPost {
                account: found.id.clone(),
                unit,
                title: (*title).into(),
                leader: *leader,
            },
        )
        .await?;
        directory::set_phone(state, organ_head, &found.id, phone).await?;
    }
    Ok(())
}

pub async fn seed(state: &AppState, city: &DemoCity) -> AppResult<()> {
    seed_exchange(state, city).await?;
    let (Some(clerk), Some(head), Some(market_clerk), Some(market_head)) = (
        actor(state, city, "demo.clerk.city").await?,
        actor(state, city, "demo.deptadmin").await?,
        actor(state, city, "demo.clerk.market").await?,
        actor(state, city, "demo.deptadmin.market").await?,
    ) else {
        return Ok(());
    };
    seed_directory(
        state,
        city,
        &head,
        &[
            ("demo.deptadmin", None, "局长", true, "13905710001"),
            (
                "demo.clerk.city",
                Some("办公室"),
                "文书",
                false,
                "13905710012",
            ),
            (
                "demo.clerk.city",
                Some("综合窗口科"),
                "科员",
                false,
                "13905710012",
            ),
        ],
        &[
            ("办公室", None),
            ("政务服务处", None),
            ("综合窗口科", Some("政务服务处")),
            ("审批管理处", None),
            ("电子政务处", None),
        ],
    )
    .await?;
    seed_directory(
        state,
        city,
        &market_head,
        &[
            ("demo.deptadmin.market", None, "局长", true, "13905710101"),
            (
                "demo.clerk.market",
                Some("登记注册处"),
                "副处长",
                false,
                "13905710115",
            ),
        ],
        &[("办公室", None), ("登记注册处", None), ("信用监管处", None)],
    )
    .await?;
    // Done once: a city that has the codes has its documents.
    if !documents::codes(state, &head).await?.is_empty() {
        return Ok(());
    }
    documents::add_code(state, &head, "临政服发").await?;
    documents::add_code(state, &head, "临政服函").await?;
    documents::add_code(state, &market_head, "临市监发").await?;
    let head_id = head.id().to_owned();
    let new = |code: &str, draft: Draft| NewDocument {
        code: code.into(),
        draft,
    };

    // A notice to the districts, sent.
    let mut notice = draft(
        Kind::Notice,
        Direction::Downward,
        "临江市政务服务管理局关于推行“一件事一次办”集成服务的通知",
        "为深化“一网通办”改革，减少群众办事跑动次数，现就推行“一件事一次办”集成服务有关事项通知如下。\n一、自2027年1月1日起，新生儿出生、企业开办、不动产登记等12个“一件事”在市、区政务服务大厅设立综合窗口，实行一次告知、一表申请、一窗受理。\n二、各区应于12月20日前完成窗口人员培训，并将联络人名单报市局。\n三、办理中遇到的问题，请及时与市局政务服务处联系。",
    );
    notice.main_recipients = vec![
        organ("江北区政务服务管理局", Relation::Subordinate),
        organ("江南区政务服务管理局", Relation::Subordinate),
    ];
    notice.copied_to = vec![organ("临江市人民政府办公室", Relation::Unrelated)];
    notice.attachments = vec!["“一件事一次办”事项清单".into()];
    let sent = documents::create(state, &clerk, new("临政服发", notice)).await?;
    run(
        state,
        &sent.id,
        &[
            (&clerk, Act::Submit, "请审核"),
            (&head, Act::Agree, "文字已核，可以签发"),
            (&head, Act::Sign, "同意印发"),
            (&clerk, Act::Recheck, ""),
            (&clerk, Act::Seal, ""),
            (&clerk, Act::Register, ""),
            (&clerk, Act::Distribute, ""),
        ],
        std::slice::from_ref(&head_id),
        &head_id,
    )
    .await?;

    // The notice in the districts' inboxes: Jiangbei's clerk has signed for it, registered it
    // and taken it on, with five working days; Jiangnan's has yet to sign for it.
    if let Some(district) = actor(state, city, "demo.clerk").await? {
        let received = crate::incoming::list(state, &district, 20).await?;
        if let Some(line) = received.iter().find(|l| l.title == sent.draft.title) {
            for (act, handler, days) in [
                (InAct::Receive, None, None),
                (InAct::Register, None, None),
                (InAct::Assign, Some(district.id().to_owned()), Some(5)),
            ] {
                crate::incoming::act(
                    state,
                    &district,
                    &line.id,
                    ActOnIncoming {
                        act: Some(act),
                        opinion: if act == InAct::Assign {
                            "请按通知要求于12月20日前完成窗口人员培训".into()
                        } else {
                            String::new()
                        },
                        handler,
                        days,
                        readers: Vec::new(),
                    },
                )
                .await?;
            }
        }
    }

    // A 请示 to the city government, waiting for the leader's sign-off.
    let mut request = draft(
        Kind::Request,
        Direction::Upward,
        "临江市政务服务管理局关于增设政务服务大厅夜间延时服务窗口的请示",
        "为方便上班族办事，拟在市政务服务大厅增设夜间延时服务窗口，每周二、周四延时至晚8时，所需人员由现有编制内调剂解决。\n妥否，请批示。",
    );
    request.main_recipients = vec![organ("临江市人民政府", Relation::Superior)];
    request.signer = Some(head.account.display_name.clone());
    request.requests = vec!["增设夜间延时服务窗口".into()];
    let waiting = documents::create(state, &clerk, new("临政服发", request)).await?;
    run(
        state,
        &waiting.id,
        &[
            (&clerk, Act::Submit, ""),
            (&head, Act::Agree, "同意报市政府"),
        ],
        std::slice::from_ref(&head_id),
        &head_id,
    )
    .await?;

    // An urgent notice signed off, waiting for the secretariat to check and number it.
    let mut urgent = draft(
        Kind::Notice,
        Direction::Downward,
        "临江市政务服务管理局关于做好寒潮天气期间政务服务保障工作的通知",
        "受强寒潮影响，本周后期我市将出现大风降温和雨雪天气。请各区做好大厅供暖、无障碍通道防滑和“不见面”办理引导，确保服务不断档。",
    );
    urgent.main_recipients = vec![
        organ("江北区政务服务管理局", Relation::Subordinate),
        organ("江南区政务服务管理局", Relation::Subordinate),
    ];
    urgent.urgency = Some(Urgency::Urgent);
    let signed = documents::create(state, &clerk, new("临政服发", urgent)).await?;
    run(
        state,
        &signed.id,
        &[
            (&clerk, Act::Submit, ""),
            (&head, Act::Agree, "已核"),
            (&head, Act::Sign, "同意，急发"),
        ],
        std::slice::from_ref(&head_id),
        &head_id,
    )
    .await?;

    // A 函 to the market regulator, still a draft.
    let mut letter = draft(
        Kind::Letter,
        Direction::Parallel,
        "临江市政务服务管理局关于商请共享企业登记信息的函",
        "为实现企业开办“一件事”材料免提交，商请贵局通过数据共享交换平台提供企业登记基本信息接口，具体数据项见附件。\n特此函商，请予支持。",
    );
    letter.main_recipients = vec![organ("临江市市场监督管理局", Relation::Unrelated)];
    letter.attachments = vec!["拟共享数据项清单".into()];
    documents::create(state, &clerk, new("临政服函", letter)).await?;

    // The regulator's 通报, in review with its administrator.
    let mut bulletin = draft(
        Kind::Bulletin,
        Direction::Downward,
        "临江市市场监督管理局关于2026年第三季度食品安全抽检情况的通报",
        "2026年第三季度，全市共抽检食品1268批次，合格1251批次，合格率98.7%。不合格产品已全部依法处置。请各区加强对农贸市场和校园周边的日常监管。",
    );
    bulletin.main_recipients = vec![organ("各区市场监督管理局", Relation::Subordinate)];
    let in_review = documents::create(state, &market_clerk, new("临市监发", bulletin)).await?;
    let market_head_id = market_head.id().to_owned();
    run(
        state,
        &in_review.id,
        &[(&market_clerk, Act::Submit, "请审核")],
        std::slice::from_ref(&market_head_id),
        &market_head_id,
    )
    .await?;
    Ok(())
}

/// The city's document exchange: its government-services administration takes other regions'
/// documents for the city's organs and lists them, through the gateway.
async fn seed_exchange(state: &AppState, city: &DemoCity) -> AppResult<()> {
    use tongban_exchange::catalogue::model::{DataItem, OpenType, ResourceDraft, ShareType};
    let Some(owner) = city.departments.iter().find(|d| {
        d.kind == "government_services" && d.region_code.as_str() == tongban_platform::demo::CITY
    }) else {
        return Ok(());
    };
    let draft = ResourceDraft {
        name: "跨地区公文交换".into(),
        description: "其他地区机关发来的公文（送达本市各机关的收文），以及本市收文机关名录。"
            .into(),
        share_type: ShareType::Conditional,
        share_conditions: Some("仅向建立合作的地区授权，用于公文送达与机关名录。".into()),
        legal_basis: Some("《党政机关公文处理工作条例》".into()),
        open_type: OpenType::None,
        update_cycle: "realtime".into(),
        format: "api".into(),
        service: Some(crate::exchange::PROVIDER.into()),
        items: crate::exchange::ITEMS
            .iter()
            .map(|(code, name, kind)| DataItem {
                code: (*code).into(),
                name: (*name).into(),
                kind: (*kind).into(),
                length: None,
                personal: None,
            })
            .collect(),
    };
    tongban_exchange::catalogue::demo::seed_resource(
        state,
        crate::exchange::RESOURCE,
        &owner.id,
        draft,
    )
    .await
}
