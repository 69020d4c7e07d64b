//! The fifteen kinds of official documents (article 8 of the 2012 regulations) and the
//! directions a document travels: up to a superior organ (上行文), down to subordinate ones
//! (下行文), across to organs outside one's line (平行文), or published to all (普发).

use serde::{Deserialize, Serialize};

/// A kind of official document (公文种类).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentKind))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 决议: a major decision a meeting discussed and adopted.
    Resolution,
    /// 决定: decisions and arrangements on important matters, rewards and penalties, changing
    /// or revoking a subordinate organ's improper decisions.
    Decision,
    /// 命令(令): promulgating regulations and rules, major compulsory measures, ranks, honours.
    Order,
    /// 公报: publishing important decisions or major matters.
    Communique,
    /// 公告: announcing important or statutory matters at home and abroad.
    Announcement,
    /// 通告: making known, within a scope, what is to be observed or known.
    PublicNotice,
    /// 意见: views on important questions and ways of handling them (any direction).
    Opinion,
    /// 通知: what subordinate organs are to carry out and others to know; forwarding documents.
    Notice,
    /// 通报: commending, criticising, passing on important guidance or situations.
    Bulletin,
    /// 报告: reporting work or situations to a superior organ, answering its enquiries.
    Report,
    /// 请示: asking a superior organ for instructions or approval.
    Request,
    /// 批复: answering a subordinate organ's 请示.
    Reply,
    /// 议案: a government submitting a matter to the people's congress of its level.
    Motion,
    /// 函: between organs outside one line: consulting, asking and answering, approvals.
    Letter,
    /// 纪要: the main proceedings and agreed matters of a meeting.
    Minutes,
}

/// Which way a document travels (行文方向).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentDirection))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// 上行文: to a superior organ (or, for a 议案, to the people's congress).
    Upward,
    /// 下行文: to subordinate organs.
    Downward,
    /// 平行文: to organs outside one's line.
    Parallel,
    /// 普发: published to all, with no main recipient.
    Public,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Resolution,
        Kind::Decision,
        Kind::Order,
        Kind::Communique,
        Kind::Announcement,
        Kind::PublicNotice,
        Kind::Opinion,
        Kind::Notice,
        Kind::Bulletin,
        Kind::Report,
        Kind::Request,
        Kind::Reply,
        Kind::Motion,
        Kind::Letter,
        Kind::Minutes,
    ];

    /// The kind's name as the regulations write it.
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Resolution => "决议",
            Kind::Decision => "决定",
            Kind::Order => "命令",
            Kind::Communique => "公报",
            Kind::Announcement => "公告",
            Kind::PublicNotice => "通告",
            Kind::Opinion => "意见",
            Kind::Notice => "通知",
            Kind::Bulletin => "通报",
            Kind::Report => "报告",
            Kind::Request => "请示",
            Kind::Reply => "批复",
            Kind::Motion => "议案",
            Kind::Letter => "函",
            Kind::Minutes => "纪要",
        }
    }

    /// The kind named in Chinese (`令` for an order too).
    pub fn from_zh(name: &str) -> Option<Kind> {
        match name {
            "令" | "命令(令)" | "命令（令）" => Some(Kind::Order),
            _ => Kind::ALL.into_iter().find(|k| k.zh() == name),
        }
    }

    /// The directions a document of this kind may travel.
    pub fn directions(self) -> &'static [Direction] {
        use Direction::*;
        match self {
            Kind::Request | Kind::Report | Kind::Motion => &[Upward],
            Kind::Reply | Kind::Bulletin | Kind::Resolution | Kind::Decision => &[Downward],
            Kind::Order => &[Downward, Public],
            Kind::Communique | Kind::Announcement | Kind::PublicNotice => &[Public],
            Kind::Notice => &[Downward, Parallel],
            Kind::Letter => &[Parallel],
            Kind::Opinion => &[Upward, Downward, Parallel],
            Kind::Minutes => &[Downward, Parallel, Upward],
        }
    }

    /// Whether a document of this kind carries the issuing organ's seal (印章): minutes are
    /// issued without one (GB/T 9704-2012, 10.3); an order carries the signature of the
    /// leader who issues it (签名章) in its place.
    pub fn sealed(self) -> bool {
        !matches!(self, Kind::Minutes | Kind::Order)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.zh())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name_and_has_a_direction() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_zh(kind.zh()), Some(kind));
            assert!(!kind.directions().is_empty(), "{kind}");
        }
        assert_eq!(Kind::from_zh("令"), Some(Kind::Order));
        assert_eq!(Kind::from_zh("公函"), None);
        let names: std::collections::HashSet<&str> = Kind::ALL.iter().map(|k| k.zh()).collect();
        assert_eq!(names.len(), 15);
    }

    #[test]
    fn a_request_goes_up_and_a_reply_comes_down() {
        assert_eq!(Kind::Request.directions(), [Direction::Upward]);
        assert_eq!(Kind::Reply.directions(), [Direction::Downward]);
        assert_eq!(Kind::Letter.directions(), [Direction::Parallel]);
        assert!(!Kind::Minutes.sealed());
        assert!(Kind::Notice.sealed());
    }
}
