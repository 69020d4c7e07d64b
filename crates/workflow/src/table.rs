//! The declarative workflow of a service item, in the style of eGov DIGIT's workflow
//! configuration: a table of states, each with its time limit and the actions allowed in it,
//! each action gated by role and leading to one next state. An item's workflow is made from
//! its steps (accept, review, …, decide, deliver), so administrators describe a process by
//! naming its steps; the table is what the engine checks every transition against.

use serde::Serialize;

/// Who may take an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Applicant,
    Clerk,
}

/// One action of a state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Action {
    pub name: String,
    pub by: Actor,
    pub next: String,
    /// Whether the action must give a reason (rejecting, denying, sending back).
    pub needs_reason: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct State {
    pub name: String,
    /// Working days the state may last (the item's promised limit as a whole also applies).
    pub sla_days: Option<u32>,
    pub actions: Vec<Action>,
}

impl State {
    pub fn is_final(&self) -> bool {
        self.actions.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workflow {
    pub states: Vec<State>,
}

/// The state an application starts in.
pub const START: &str = "submitted";
/// Where sending back for correction leads, and the final states.
pub const CORRECTION: &str = "correction";
pub const DELIVERED: &str = "delivered";
/// Every state an application ends in.
pub const FINAL: [&str; 4] = [DELIVERED, "rejected", "denied", "withdrawn"];
/// The action that approves; the result is issued when it is taken.
pub const APPROVE: &str = "approve";

fn action(name: &str, by: Actor, next: &str, needs_reason: bool) -> Action {
    Action {
        name: name.to_owned(),
        by,
        next: next.to_owned(),
        needs_reason,
    }
}

impl Workflow {
    /// The workflow of an item with these steps. `accept` opens it (受理, within one working
    /// day); each middle step is passed on or sent back for correction (补正); `decide`
    /// approves or denies; `deliver` (送达) ends it. The applicant may resubmit after a
    /// correction, or withdraw before a decision.
    /// The states after acceptance, in order, ending with the decision.
    fn middle(steps: &[String]) -> Vec<&str> {
        let mut middle: Vec<&str> = steps
            .iter()
            .map(String::as_str)
            .filter(|s| !matches!(*s, "accept" | "decide" | "deliver"))
            .collect();
        if steps.iter().any(|s| s == "decide") || middle.is_empty() {
            middle.push("decide");
        }
        middle
    }

    /// The steps in the order an application passes them: acceptance, the item's own steps,
    /// the decision, and the delivery where the item has one (for a process chart).
    pub fn stages(steps: &[String]) -> Vec<&str> {
        let mut stages = vec!["accept"];
        stages.extend(Self::middle(steps));
        if steps.iter().any(|s| s == "deliver") {
            stages.push("deliver");
        }
        stages
    }

    pub fn from_steps(steps: &[String]) -> Workflow {
        let has = |name: &str| steps.iter().any(|s| s == name);
        let middle = Self::middle(steps);
        let deliver = if has("deliver") { "deliver" } else { DELIVERED };
        let withdraw = action("withdraw", Actor::Applicant, "withdrawn", false);
        let send_back = action("request_correction", Actor::Clerk, CORRECTION, true);
        let mut states = vec![State {
            name: START.into(),
            sla_days: Some(1),
            actions: vec![
                action("accept", Actor::Clerk, middle[0], false),
                action("reject", Actor::Clerk, "rejected", true),
                send_back.clone(),
                withdraw.clone(),
            ],
        }];
        states.push(State {
            name: CORRECTION.into(),
            sla_days: None,
            actions: vec![
                action("resubmit", Actor::Applicant, START, false),
                withdraw.clone(),
            ],
        });
        for (i, step) in middle.iter().enumerate() {
            let actions = if *step == "decide" {
                vec![
                    action(APPROVE, Actor::Clerk, deliver, false),
                    action("deny", Actor::Clerk, "denied", true),
                    withdraw.clone(),
                ]
            } else {
                vec![
                    action("pass", Actor::Clerk, middle[i + 1], false),
                    send_back.clone(),
                    withdraw.clone(),
                ]
            };
            states.push(State {
                name: (*step).to_owned(),
                sla_days: None,
                actions,
            });
        }
        if deliver == "deliver" {
            states.push(State {
                name: "deliver".into(),
                sla_days: Some(1),
                actions: vec![action("deliver", Actor::Clerk, DELIVERED, false)],
            });
        }
        for end in FINAL {
            states.push(State {
                name: end.into(),
                sla_days: None,
                actions: Vec::new(),
            });
        }
        Workflow { states }
    }

    pub fn state(&self, name: &str) -> Option<&State> {
        self.states.iter().find(|s| s.name == name)
    }

    /// The action named, if the state allows it to `by`.
    pub fn allowed(&self, state: &str, name: &str, by: Actor) -> Option<&Action> {
        self.state(state)?
            .actions
            .iter()
            .find(|a| a.name == name && a.by == by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_licence_runs_accept_review_decide_deliver() {
        let w = Workflow::from_steps(&steps(&["accept", "review", "decide", "deliver"]));
        let mut state = START.to_owned();
        for (action, by) in [
            ("accept", Actor::Clerk),
            ("pass", Actor::Clerk),
            (APPROVE, Actor::Clerk),
            ("deliver", Actor::Clerk),
        ] {
            state = w
                .allowed(&state, action, by)
                .unwrap_or_else(|| panic!("{action} in {state}"))
                .next
                .clone();
        }
        assert_eq!(state, DELIVERED);
        assert!(w.state(DELIVERED).is_some_and(State::is_final));
    }

    #[test]
    fn roles_and_states_gate_every_action() {
        let w = Workflow::from_steps(&steps(&["accept", "review", "decide", "deliver"]));
        assert!(w.allowed(START, "accept", Actor::Applicant).is_none());
        assert!(w.allowed(START, APPROVE, Actor::Clerk).is_none());
        assert!(w.allowed("review", "resubmit", Actor::Applicant).is_none());
        assert!(
            w.allowed(CORRECTION, "resubmit", Actor::Applicant)
                .is_some()
        );
        assert!(w.allowed(DELIVERED, "withdraw", Actor::Applicant).is_none());
        assert!(w.allowed("deliver", "withdraw", Actor::Applicant).is_none());
        assert!(
            w.allowed(START, "reject", Actor::Clerk)
                .is_some_and(|a| a.needs_reason)
        );
    }

    #[test]
    fn extra_steps_run_in_order_and_a_short_item_still_decides() {
        let w = Workflow::from_steps(&steps(&[
            "accept", "review", "inspect", "decide", "deliver",
        ]));
        assert_eq!(
            w.allowed("review", "pass", Actor::Clerk)
                .map(|a| a.next.as_str()),
            Some("inspect")
        );
        assert_eq!(
            w.allowed("inspect", "pass", Actor::Clerk)
                .map(|a| a.next.as_str()),
            Some("decide")
        );
        let short = Workflow::from_steps(&steps(&["accept", "decide", "deliver"]));
        assert_eq!(
            short
                .allowed(START, "accept", Actor::Clerk)
                .map(|a| a.next.as_str()),
            Some("decide")
        );
        let no_delivery = Workflow::from_steps(&steps(&["accept", "decide"]));
        assert_eq!(
            no_delivery
                .allowed("decide", APPROVE, Actor::Clerk)
                .map(|a| a.next.as_str()),
            Some(DELIVERED)
        );
    }
}
