//! A document's elements (公文格式各要素, GB/T 9704-2012 chapter 7) as the drafter fills them,
//! and the rules a draft must keep before it goes to review (行文规则, articles 13–17 of the
//! 2012 regulations, and the format standard). Every breach is named, so a drafter reads which
//! rule and where; [`check`] returns them all at once.

use serde::{Deserialize, Serialize};

use crate::kind::{Direction, Kind};
use crate::number::Number;

/// How a recipient stands to the issuing organ, as the directory knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = RecipientRelation))]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// An organ above the issuer in its line (上级机关), or the people's congress of its level
    /// for a 议案.
    Superior,
    /// An organ below it (下级机关).
    Subordinate,
    /// An organ outside its line (不相隶属机关).
    Unrelated,
}

/// An organ a document is sent or copied to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentRecipient))]
pub struct Recipient {
    pub name: String,
    pub relation: Relation,
}

/// 密级 (GB/T 9704-2012, 7.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentSecrecy))]
#[serde(rename_all = "snake_case")]
pub enum Secrecy {
    /// 秘密
    Secret,
    /// 机密
    Confidential,
    /// 绝密
    TopSecret,
}

/// 紧急程度 (7.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentUrgency))]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// 加急
    Urgent,
    /// 特急
    Immediate,
}

/// The 请示 a 批复 answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = AnsweredRequest))]
pub struct Answered {
    pub kind: Kind,
    pub number: Number,
    /// The organ that sent it: the 批复 goes back to it.
    pub issuer: String,
}

/// A draft: what the drafter writes. The number, the date and the seal come later, from the
/// office (numbering, 成文日期 at sign-off, 印章 at sealing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Draft {
    pub kind: Kind,
    pub direction: Direction,
    /// 标题: organ, subject and kind (`临江区人民政府关于……的通知`).
    pub title: String,
    /// 主送机关.
    pub main_recipients: Vec<Recipient>,
    /// 抄送机关.
    pub copied_to: Vec<Recipient>,
    /// 签发人: the leader who signs the document off (named on an upward document).
    pub signer: Option<String>,
    /// 密级 and 保密期限 (years); `None` for an open document.
    pub secrecy: Option<(Secrecy, Option<u32>)>,
    /// How many copies are made; a classified document numbers each (份号).
    pub copies: Option<u32>,
    pub urgency: Option<Urgency>,
    /// 正文.
    pub body: String,
    /// The matters asked for approval (请示事项): a 请示 asks exactly one, a 报告 none.
    pub requests: Vec<String>,
    /// 附件说明: the attachments' names, in order.
    pub attachments: Vec<String>,
    /// For a 批复, the 请示 it answers.
    pub answers: Option<Answered>,
}

/// A rule a draft breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentRule))]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The kind does not travel this way (a 请示 goes up, a 批复 down, a 函 across).
    Direction,
    /// A main recipient does not stand to the issuer as the direction says.
    RecipientRelation,
    /// A document published to all has no main recipient; any other names one.
    MainRecipients,
    /// 请示: one main recipient.
    RequestOneRecipient,
    /// 请示: one matter (一文一事).
    RequestOneMatter,
    /// 请示: never copied to a subordinate organ.
    RequestCopiedDown,
    /// 报告: no request inside a report (不得夹带请示事项).
    ReportCarriesRequest,
    /// An upward document names its 签发人.
    UpwardSigner,
    /// 批复: answers a 请示, and goes back to the organ that sent it.
    ReplyAnswers,
    /// The title names the kind at its end (`……的通知`), within 100 characters.
    Title,
    /// A document has a body.
    Body,
    /// A classified document numbers its copies (份号), and its period is 1–30 years.
    Classified,
    /// An attachment's name is empty or repeated.
    Attachments,
}

impl Rule {
    /// The rule, in words a drafter reads.
    pub fn zh(self) -> &'static str {
        match self {
            Rule::Direction => "该文种不能按所选行文方向行文",
            Rule::RecipientRelation => "主送机关与发文机关的隶属关系与行文方向不符",
            Rule::MainRecipients => "普发公文不写主送机关，其他公文须写主送机关",
            Rule::RequestOneRecipient => "请示应当只主送一个上级机关",
            Rule::RequestOneMatter => "请示应当一文一事",
            Rule::RequestCopiedDown => "请示不得抄送下级机关",
            Rule::ReportCarriesRequest => "报告中不得夹带请示事项",
            Rule::UpwardSigner => "上行文应当标注签发人",
            Rule::ReplyAnswers => "批复应当针对下级机关的请示，并主送该请示机关",
            Rule::Title => "标题应当以文种结尾，且不超过一百字",
            Rule::Body => "正文不能为空",
            Rule::Classified => "涉密公文应当标注份号，保密期限为一至三十年",
            Rule::Attachments => "附件名称不能为空或重复",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Rule::Direction => "this kind of document does not travel in this direction",
            Rule::RecipientRelation => {
                "a main recipient does not stand to the issuer as the direction says"
            }
            Rule::MainRecipients => {
                "a document published to all has no main recipient; any other names one"
            }
            Rule::RequestOneRecipient => "a request for instructions has one main recipient",
            Rule::RequestOneMatter => "a request for instructions asks one matter",
            Rule::RequestCopiedDown => {
                "a request for instructions is never copied to a subordinate organ"
            }
            Rule::ReportCarriesRequest => "a report carries no request for approval",
            Rule::UpwardSigner => "an upward document names the leader who signed it off",
            Rule::ReplyAnswers => {
                "a reply answers a request for instructions and goes back to its sender"
            }
            Rule::Title => "the title ends with the kind of document, within 100 characters",
            Rule::Body => "the body is empty",
            Rule::Classified => {
                "a classified document numbers its copies; its period is 1 to 30 years"
            }
            Rule::Attachments => "an attachment's name is empty or repeated",
        }
    }
}

/// Every rule the draft breaks, in the order of the list above; empty when it may go on.
pub fn check(draft: &Draft) -> Vec<Rule> {
    let mut broken = Vec::new();
    let mut breach = |rule: Rule, broke: bool| {
        if broke && !broken.contains(&rule) {
            broken.push(rule);
        }
    };
    breach(
        Rule::Direction,
        !draft.kind.directions().contains(&draft.direction),
    );
    let expected = match draft.direction {
        Direction::Upward => Some(Relation::Superior),
        Direction::Downward => Some(Relation::Subordinate),
        Direction::Parallel => Some(Relation::Unrelated),
        Direction::Public => None,
    };
    breach(
        Rule::RecipientRelation,
        expected.is_some_and(|r| draft.main_recipients.iter().any(|m| m.relation != r)),
    );
    breach(
        Rule::MainRecipients,
        (draft.direction == Direction::Public) != draft.main_recipients.is_empty(),
    );
    if draft.kind == Kind::Request {
        breach(Rule::RequestOneRecipient, draft.main_recipients.len() != 1);
        breach(Rule::RequestOneMatter, draft.requests.len() != 1);
        breach(
            Rule::RequestCopiedDown,
            draft
                .copied_to
                .iter()
                .any(|c| c.relation == Relation::Subordinate),
        );
    }
    breach(
        Rule::ReportCarriesRequest,
        draft.kind == Kind::Report && !draft.requests.is_empty(),
    );
    breach(
        Rule::UpwardSigner,
        draft.direction == Direction::Upward
            && draft.signer.as_deref().is_none_or(|s| s.trim().is_empty()),
    );
    if draft.kind == Kind::Reply {
        breach(
            Rule::ReplyAnswers,
            draft.answers.as_ref().is_none_or(|answered| {
                answered.kind != Kind::Request
                    || !draft
                        .main_recipients
                        .iter()
                        .any(|m| m.name == answered.issuer)
            }),
        );
    }
    let title = draft.title.trim();
    let kind_at_end = match draft.kind {
        Kind::Order => title.ends_with('令'),
        kind => title.ends_with(kind.zh()),
    };
    breach(Rule::Title, !kind_at_end || title.chars().count() > 100);
    breach(Rule::Body, draft.body.trim().is_empty());
    if let Some((_, period)) = draft.secrecy {
        breach(
            Rule::Classified,
            draft.copies.is_none_or(|n| n == 0) || period.is_some_and(|y| !(1..=30).contains(&y)),
        );
    }
    let mut names = std::collections::HashSet::new();
    breach(
        Rule::Attachments,
        draft
            .attachments
            .iter()
            .any(|a| a.trim().is_empty() || !names.insert(a.trim())),
    );
    broken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organ(name: &str, relation: Relation) -> Recipient {
        Recipient {
            name: name.into(),
            relation,
        }
    }

    /// A well-formed 请示 of a district bureau to the district government.
    fn request() -> Draft {
        Draft {
            kind: Kind::Request,
            direction: Direction::Upward,
            title: "临江区市场监督管理局关于增设城东街道食品快检点的请示".into(),
            main_recipients: vec![organ("临江区人民政府", Relation::Superior)],
            copied_to: vec![organ("临江区财政局", Relation::Unrelated)],
            signer: Some("王建国".into()),
            secrecy: None,
            copies: None,
            urgency: None,
            body: "为加强城东街道农贸市场食品安全监管……妥否，请批示。".into(),
            requests: vec!["增设城东街道食品快检点一处".into()],
            attachments: vec!["快检点建设预算表".into()],
            answers: None,
        }
    }

    #[test]
    fn a_well_formed_request_keeps_every_rule() {
        assert_eq!(check(&request()), Vec::<Rule>::new());
    }

    #[test]
    fn a_request_with_two_main_recipients_two_matters_or_copied_down_is_refused() {
        let mut two = request();
        two.main_recipients
            .push(organ("临江区委办公室", Relation::Superior));
        assert_eq!(check(&two), [Rule::RequestOneRecipient]);
        let mut matters = request();
        matters.requests.push("追加快检经费".into());
        assert_eq!(check(&matters), [Rule::RequestOneMatter]);
        let mut down = request();
        down.copied_to
            .push(organ("城东街道办事处", Relation::Subordinate));
        assert_eq!(check(&down), [Rule::RequestCopiedDown]);
    }

    #[test]
    fn an_upward_document_without_its_signer_is_refused() {
        let mut unsigned = request();
        unsigned.signer = Some("  ".into());
        assert_eq!(check(&unsigned), [Rule::UpwardSigner]);
        let mut report = request();
        report.kind = Kind::Report;
        report.title = "临江区市场监督管理局关于一季度食品抽检情况的报告".into();
        report.signer = None;
        assert_eq!(
            check(&report),
            [Rule::ReportCarriesRequest, Rule::UpwardSigner]
        );
    }

    #[test]
    fn a_reply_answers_a_request_and_goes_back_to_its_sender() {
        let answered = Answered {
            kind: Kind::Request,
            number: "临市监〔2026〕7号".parse().expect("number"),
            issuer: "临江区市场监督管理局".into(),
        };
        let mut reply = Draft {
            kind: Kind::Reply,
            direction: Direction::Downward,
            title: "临江区人民政府关于同意增设城东街道食品快检点的批复".into(),
            main_recipients: vec![organ("临江区市场监督管理局", Relation::Subordinate)],
            copied_to: Vec::new(),
            signer: None,
            secrecy: None,
            copies: None,
            urgency: None,
            body: "你局《关于增设城东街道食品快检点的请示》收悉。经研究，同意……".into(),
            requests: Vec::new(),
            attachments: Vec::new(),
            answers: Some(answered.clone()),
        };
        assert_eq!(check(&reply), Vec::<Rule>::new());
        reply.answers = None;
        assert_eq!(check(&reply), [Rule::ReplyAnswers]);
        reply.answers = Some(Answered {
            kind: Kind::Report,
            ..answered.clone()
        });
        assert_eq!(check(&reply), [Rule::ReplyAnswers]);
        reply.answers = Some(Answered {
            issuer: "临江区财政局".into(),
            ..answered
        });
        assert_eq!(check(&reply), [Rule::ReplyAnswers]);
    }

    #[test]
    fn directions_titles_and_classification_are_checked() {
        let mut sideways = request();
        sideways.direction = Direction::Parallel;
        sideways.main_recipients = vec![organ("临江区财政局", Relation::Unrelated)];
        assert_eq!(check(&sideways), [Rule::Direction]);
        let mut wrong = request();
        wrong.main_recipients = vec![organ("城东街道办事处", Relation::Subordinate)];
        assert_eq!(check(&wrong), [Rule::RecipientRelation]);
        let mut announcement = request();
        announcement.kind = Kind::Announcement;
        announcement.direction = Direction::Public;
        announcement.title = "临江区人民政府关于城区禁放烟花爆竹的公告".into();
        announcement.requests.clear();
        assert_eq!(check(&announcement), [Rule::MainRecipients]);
        announcement.main_recipients.clear();
        assert_eq!(check(&announcement), Vec::<Rule>::new());
        let mut title = request();
        title.title = "关于增设快检点的请示报告".into();
        assert_eq!(check(&title), [Rule::Title]);
        let mut secret = request();
        secret.secrecy = Some((Secrecy::Secret, Some(10)));
        assert_eq!(check(&secret), [Rule::Classified]);
        secret.copies = Some(20);
        assert_eq!(check(&secret), Vec::<Rule>::new());
        secret.secrecy = Some((Secrecy::Confidential, Some(50)));
        assert_eq!(check(&secret), [Rule::Classified]);
        let mut attachments = request();
        attachments.attachments.push("快检点建设预算表".into());
        assert_eq!(check(&attachments), [Rule::Attachments]);
    }
}
