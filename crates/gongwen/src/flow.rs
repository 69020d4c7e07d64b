//! How an outgoing document (发文) travels through its organ, as article 24 of the 2012
//! regulations orders it: 拟稿 (drafted) → 审核 (reviewed by one or more people, each giving an
//! opinion) → 签发 (the leader signs it off) → 复核 (the secretariat checks it again and gives
//! it its number) → 用印 (sealed) → 登记 (entered in the register) → 分发 (sent to its
//! recipients). A table of steps, each with the acts allowed in it, who may take each act and
//! where it leads — the shape of the workflow engine's tables, with the office's own parties.
//! No IO: the office module keeps who holds each party on a document.

use serde::{Deserialize, Serialize};

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentStep))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// 拟稿: the drafter writes and may change it.
    Drafting,
    /// 审核: the reviewers read it, each agreeing or sending it back with an opinion.
    Reviewing,
    /// 签发: the leader signs it off (or sends it back).
    Signing,
    /// 复核: the secretariat checks the signed document again; passing gives it its number.
    Rechecking,
    /// 用印: numbered, waiting for the seal.
    Sealing,
    /// 登记: sealed, waiting to be entered in the register of outgoing documents.
    Registering,
    /// 分发: registered, waiting to be sent.
    Distributing,
    /// 已分发: sent; nothing about it changes any more.
    Sent,
    /// 已撤回: the drafter withdrew it before it was signed.
    Withdrawn,
}

/// A party to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentParty))]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// 拟稿人: who wrote it.
    Drafter,
    /// 审核人: one of the people it was sent to for review.
    Reviewer,
    /// 签发人: the leader it was sent to for sign-off.
    Leader,
    /// 文书: the organ's secretariat (its clerks), other than the leader who signed it.
    Secretary,
}

/// An act on a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = DocumentAct))]
#[serde(rename_all = "snake_case")]
pub enum Act {
    /// 送审: the drafter sends the draft for review (naming the reviewers and the leader).
    Submit,
    /// 同意: a reviewer agrees (with an opinion, which may be short).
    Agree,
    /// 退回: sent back to the drafter, with the reason as the opinion.
    Return,
    /// 签发: the leader signs it off, with an opinion (such as 同意印发).
    Sign,
    /// 复核: the secretariat finds it in order; it is given its number.
    Recheck,
    /// 用印: the organ's seal is put on it.
    Seal,
    /// 登记: entered in the register of outgoing documents.
    Register,
    /// 分发: sent to its main and copied recipients.
    Distribute,
    /// 撤回: the drafter withdraws it.
    Withdraw,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Drafting,
        Step::Reviewing,
        Step::Signing,
        Step::Rechecking,
        Step::Sealing,
        Step::Registering,
        Step::Distributing,
        Step::Sent,
        Step::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Drafting => "drafting",
            Step::Reviewing => "reviewing",
            Step::Signing => "signing",
            Step::Rechecking => "rechecking",
            Step::Sealing => "sealing",
            Step::Registering => "registering",
            Step::Distributing => "distributing",
            Step::Sent => "sent",
            Step::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|step| step.as_str() == text)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Step::Drafting => "拟稿",
            Step::Reviewing => "审核",
            Step::Signing => "签发",
            Step::Rechecking => "复核",
            Step::Sealing => "用印",
            Step::Registering => "登记",
            Step::Distributing => "分发",
            Step::Sent => "已分发",
            Step::Withdrawn => "已撤回",
        }
    }

    /// Whether nothing more happens to a document here.
    pub fn is_final(self) -> bool {
        matches!(self, Step::Sent | Step::Withdrawn)
    }

    /// Whether the leader has signed the document off and its text is fixed: the opinions and
    /// the sign-off on it stand, and only the secretariat's acts remain.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Step::Rechecking | Step::Sealing | Step::Registering | Step::Distributing | Step::Sent
        )
    }

    /// Whether the seal is on it: from here nothing is sent back.
    pub fn is_sealed(self) -> bool {
        matches!(self, Step::Registering | Step::Distributing | Step::Sent)
    }
}

impl Act {
    pub const ALL: [Act; 9] = [
        Act::Submit,
        Act::Agree,
        Act::Return,
        Act::Sign,
        Act::Recheck,
        Act::Seal,
        Act::Register,
        Act::Distribute,
        Act::Withdraw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Act::Submit => "submit",
            Act::Agree => "agree",
            Act::Return => "return",
            Act::Sign => "sign",
            Act::Recheck => "recheck",
            Act::Seal => "seal",
            Act::Register => "register",
            Act::Distribute => "distribute",
            Act::Withdraw => "withdraw",
        }
    }

    pub fn parse(text: &str) -> Option<Act> {
        Act::ALL.into_iter().find(|act| act.as_str() == text)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Act::Submit => "送审",
            Act::Agree => "同意",
            Act::Return => "退回",
            Act::Sign => "签发",
            Act::Recheck => "复核",
            Act::Seal => "用印",
            Act::Register => "登记",
            Act::Distribute => "分发",
            Act::Withdraw => "撤回",
        }
    }

    /// Whether the act must carry an opinion (a return says why; a sign-off says what).
    pub fn needs_opinion(self) -> bool {
        matches!(self, Act::Return | Act::Sign)
    }
}

/// An act a step allows: who takes it and where it leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub act: Act,
    pub by: Party,
    pub next: Step,
}

const fn to(act: Act, by: Party, next: Step) -> Move {
    Move { act, by, next }
}

/// The acts a step allows. An agreement in review leads to the sign-off only when it is the
/// last reviewer's ([`after`] decides); a document is sent back from any step before its
/// seal, and a return after the sign-off voids it (the leader signs the changed text again).
pub fn moves(step: Step) -> &'static [Move] {
    use Act::*;
    use Party::*;
    const DRAFTING: [Move; 2] = [
        to(Submit, Drafter, Step::Reviewing),
        to(Withdraw, Drafter, Step::Withdrawn),
    ];
    const REVIEWING: [Move; 2] = [
        to(Agree, Reviewer, Step::Signing),
        to(Return, Reviewer, Step::Drafting),
    ];
    const SIGNING: [Move; 2] = [
        to(Sign, Leader, Step::Rechecking),
        to(Return, Leader, Step::Drafting),
    ];
    const RECHECKING: [Move; 2] = [
        to(Recheck, Secretary, Step::Sealing),
        to(Return, Secretary, Step::Drafting),
    ];
    const SEALING: [Move; 1] = [to(Seal, Secretary, Step::Registering)];
    const REGISTERING: [Move; 1] = [to(Register, Secretary, Step::Distributing)];
    const DISTRIBUTING: [Move; 1] = [to(Distribute, Secretary, Step::Sent)];
    match step {
        Step::Drafting => &DRAFTING,
        Step::Reviewing => &REVIEWING,
        Step::Signing => &SIGNING,
        Step::Rechecking => &RECHECKING,
        Step::Sealing => &SEALING,
        Step::Registering => &REGISTERING,
        Step::Distributing => &DISTRIBUTING,
        Step::Sent | Step::Withdrawn => &[],
    }
}

/// The move of `act` in `step` for one of `parties`, if the step allows it.
pub fn allowed(step: Step, act: Act, parties: &[Party]) -> Option<Move> {
    moves(step)
        .iter()
        .find(|m| m.act == act && parties.contains(&m.by))
        .copied()
}

/// Where `act` leads from `step`, given how many reviewers have yet to agree after it (an
/// agreement that leaves others to agree keeps the document in review).
pub fn after(step: Step, act: Act, reviewers_left: usize) -> Option<Step> {
    let next = moves(step).iter().find(|m| m.act == act)?.next;
    Some(if act == Act::Agree && reviewers_left > 0 {
        Step::Reviewing
    } else {
        next
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_runs_from_draft_to_sent_in_the_regulations_order() {
        let path = [
            (Act::Submit, Party::Drafter),
            (Act::Agree, Party::Reviewer),
            (Act::Sign, Party::Leader),
            (Act::Recheck, Party::Secretary),
            (Act::Seal, Party::Secretary),
            (Act::Register, Party::Secretary),
            (Act::Distribute, Party::Secretary),
        ];
        let mut step = Step::Drafting;
        let mut seen = vec![step];
        for (act, party) in path {
            let m = allowed(step, act, &[party]).unwrap_or_else(|| panic!("{act:?} in {step:?}"));
            step = after(step, m.act, 0).unwrap_or(step);
            seen.push(step);
        }
        assert_eq!(seen, {
            let mut all = Step::ALL.to_vec();
            all.pop();
            all
        });
        assert!(step.is_final() && moves(step).is_empty());
    }

    #[test]
    fn nobody_acts_on_a_step_that_is_not_theirs() {
        assert!(allowed(Step::Signing, Act::Sign, &[Party::Reviewer, Party::Drafter]).is_none());
        assert!(allowed(Step::Reviewing, Act::Agree, &[Party::Leader]).is_none());
        assert!(allowed(Step::Sealing, Act::Seal, &[Party::Leader]).is_none());
        assert!(allowed(Step::Drafting, Act::Sign, &[Party::Leader]).is_none());
        assert!(allowed(Step::Rechecking, Act::Sign, &[Party::Leader]).is_none());
    }

    #[test]
    fn review_waits_for_every_reviewer_and_nothing_is_sent_back_once_sealed() {
        assert_eq!(after(Step::Reviewing, Act::Agree, 1), Some(Step::Reviewing));
        assert_eq!(after(Step::Reviewing, Act::Agree, 0), Some(Step::Signing));
        for step in Step::ALL.into_iter().filter(|s| s.is_sealed()) {
            assert!(moves(step).iter().all(|m| m.act != Act::Return), "{step:?}");
        }
        for step in Step::ALL.into_iter().filter(|s| s.is_signed()) {
            assert!(moves(step).iter().all(|m| m.act != Act::Sign), "{step:?}");
        }
    }

    #[test]
    fn steps_and_acts_read_back_from_their_names() {
        for step in Step::ALL {
            assert_eq!(Step::parse(step.as_str()), Some(step));
        }
        for act in Act::ALL {
            assert_eq!(Act::parse(act.as_str()), Some(act));
        }
        assert_eq!(Act::parse("approve"), None);
    }
}
