//! 通知公告: a department's notices to units and people, with read receipts. The recipients
//! are fixed when a notice is sent — the staff of the units named and the people named — and
//! each has a receipt, dated when they open the notice. The sending department sees who has
//! read it and who has not, and may remind those who have not: the notice then stands out in
//! their to-do lists (as urgent) until they read it.

use serde::{Deserialize, Serialize};

use crate::authz::{self, Action, Resource};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;
use crate::store;

/// The most recipients a notice reaches.
const MAX_RECIPIENTS: usize = 5_000;
const MAX_TITLE: usize = 100;
const MAX_BODY: usize = 20_000;

/// A notice to send.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotice {
    pub title: String,
    pub body: String,
    /// Units (departments) whose staff receive it.
    #[serde(default)]
    pub departments: Vec<String>,
    /// People (staff accounts) who receive it.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// To be read by (RFC 3339), if it has a limit.
    #[serde(default)]
    pub read_by: Option<String>,
}

/// A recipient's receipt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReadReceipt {
    pub account_id: String,
    pub name: String,
    /// When they opened it; none while unread.
    pub read_at: Option<String>,
}

/// A notice as its reader sees it; the sender's department also sees the receipts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: String,
    pub department_id: String,
    pub title: String,
    pub body: String,
    pub sent_by: String,
    pub sent_at: String,
    pub read_by: Option<String>,
    pub reminded_at: Option<String>,
    pub recipients: usize,
    pub read: usize,
    /// The receipts, for the sending department's staff only.
    pub receipts: Option<Vec<ReadReceipt>>,
}

fn sender_department(actor: &Actor) -> AppResult<&str> {
    crate::own_department(actor, Action::HandleDocuments)
}

/// Sends a notice from the actor's department.
pub async fn send(state: &AppState, actor: &Actor, new: NewNotice) -> AppResult<NoticeView> {
    let department = sender_department(actor)?;
    let title = new.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(AppError::invalid(
            "title",
            format!("1 to {MAX_TITLE} characters"),
        ));
    }
    if new.body.trim().is_empty() || new.body.chars().count() > MAX_BODY {
        return Err(AppError::invalid(
            "body",
            format!("1 to {MAX_BODY} characters"),
        ));
    }
    let now = state.now();
    let read_by = match new.read_by.as_deref() {
        None => None,
        Some(text) => Some(
            crate::time_fmt::parse_millis(text)
                .filter(|at| *at > now)
                .ok_or_else(|| AppError::invalid("read_by", "an RFC 3339 time in the future"))?,
        ),
    };
    if new.departments.len() + new.accounts.len() > MAX_RECIPIENTS {
        return Err(AppError::invalid("departments", "too many recipients"));
    }
    // The recipients: the staff of the units named, and the people named — every one a
    // staff account that exists and is not disabled.
    let mut recipients = std::collections::BTreeSet::new();
    for unit in &new.departments {
        let staff = store::staff_ids_of(state.pool(), unit).await?;
        if staff.is_empty() {
            return Err(AppError::invalid(
                "departments",
                format!("no staff in the unit {unit}"),
            ));
        }
        recipients.extend(staff);
    }
    for account in &new.accounts {
        let found = crate::identity::store::account(state.pool(), account).await?;
        match found {
            Some(a) if !a.disabled && a.department_id.is_some() => {
                recipients.insert(a.id);
            }
            _ => {
                return Err(AppError::invalid(
                    "accounts",
                    format!("no staff account {account}"),
                ));
            }
        }
    }
    recipients.remove(actor.id());
    if recipients.is_empty() {
        return Err(AppError::invalid(
            "departments",
            "name the units or people it is for",
        ));
    }
    if recipients.len() > MAX_RECIPIENTS {
        return Err(AppError::invalid("departments", "too many recipients"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = state.pool().begin().await?;
    store::insert_notice(
        &mut *tx,
        &store::NoticeRow {
            id: id.clone(),
            department_id: department.to_owned(),
            title: title.to_owned(),
            body: new.body.clone(),
            sent_by: actor.id().to_owned(),
            sent_at: now,
            read_by,
            reminded_at: None,
        },
    )
    .await?;
    for account in &recipients {
        store::insert_receipt(&mut *tx, &id, account).await?;
    }
    tx.commit().await?;
    view(state, actor, &id).await
}

/// A notice, for its recipients (whose receipt is dated by reading it) and the sending
/// department's staff (who see the receipts); anyone else is told it does not exist.
pub async fn view(state: &AppState, actor: &Actor, id: &str) -> AppResult<NoticeView> {
    let store::NoticeRow {
        id,
        department_id,
        title,
        body,
        sent_by,
        sent_at,
        read_by,
        reminded_at,
    } = store::notice(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let sender = authz::can(
        actor,
        Action::HandleDocuments,
        Resource::Department { id: &department_id },
    );
    let now = state.now();
    let received = store::mark_read(state.pool(), &id, actor.id(), now).await?;
    let is_recipient = received || store::is_recipient(state.pool(), &id, actor.id()).await?;
    if !sender && !is_recipient {
        return Err(AppError::NotFound);
    }
    let rows = store::receipts(state.pool(), &id).await?;
    let read = rows.iter().filter(|(_, _, at)| at.is_some()).count();
    let sent_by = crate::identity::store::account(state.pool(), &sent_by)
        .await?
        .map(|a| a.display_name)
        .unwrap_or_default();
    Ok(NoticeView {
        id,
        department_id,
        title,
        body,
        sent_by,
        sent_at: crate::time_fmt::rfc3339(sent_at),
        read_by: read_by.map(crate::time_fmt::rfc3339),
        reminded_at: reminded_at.map(crate::time_fmt::rfc3339),
        recipients: rows.len(),
        read,
        receipts: sender.then(|| {
            rows.into_iter()
                .map(|(account_id, name, read_at)| ReadReceipt {
                    account_id,
                    name,
                    read_at: read_at.map(crate::time_fmt::rfc3339),
                })
                .collect()
        }),
    })
}

/// Reminds those who have not read a notice (the sending department's staff): the notice
/// stands out in their to-do lists until they read it. Returns how many were reminded.
pub async fn remind(state: &AppState, actor: &Actor, id: &str) -> AppResult<usize> {
    let department = sender_department(actor)?;
    let row = store::notice(state.pool(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.department_id != department {
        return Err(AppError::NotFound);
    }
    store::set_reminded(state.pool(), id, state.now()).await?;
    let unread = store::unread_count(state.pool(), id).await?;
    Ok(usize::try_from(unread).unwrap_or(0))
}

/// A notice in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NoticeLine {
    pub id: String,
    pub title: String,
    pub sent_at: String,
    pub read_by: Option<String>,
    /// For a notice received: whether the reader has opened it.
    pub read: Option<bool>,
    /// For a notice sent: how many have read it, of how many.
    pub receipts: Option<(usize, usize)>,
}

/// The notices to the actor, newest first, and those their department sent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notices {
    pub received: Vec<NoticeLine>,
    pub sent: Vec<NoticeLine>,
}

pub async fn list(state: &AppState, actor: &Actor) -> AppResult<Notices> {
    let received = store::received_notices(state.pool(), actor.id(), 200).await?;
    let sent = match sender_department(actor) {
        Ok(department) => store::sent_notices(state.pool(), department, 200).await?,
        Err(_) => Vec::new(),
    };
    Ok(Notices {
        received: received
            .into_iter()
            .map(|(id, title, sent_at, read_by, read_at)| NoticeLine {
                id,
                title,
                sent_at: crate::time_fmt::rfc3339(sent_at),
                read_by: read_by.map(crate::time_fmt::rfc3339),
                read: Some(read_at.is_some()),
                receipts: None,
            })
            .collect(),
        sent: sent
            .into_iter()
            .map(|(id, title, sent_at, read_by, read, all)| NoticeLine {
                id,
                title,
                sent_at: crate::time_fmt::rfc3339(sent_at),
                read_by: read_by.map(crate::time_fmt::rfc3339),
                read: None,
                receipts: Some((
                    usize::try_from(read).unwrap_or(0),
                    usize::try_from(all).unwrap_or(0),
                )),
            })
            .collect(),
    })
}

/// The notices the actor has not read, as items of the to-do list: a reminded notice is
/// urgent; a notice with a limit is due then.
pub async fn todo_part(
    state: &AppState,
    actor: &Actor,
    t: crate::web::i18n::Tr,
    limit: usize,
) -> AppResult<crate::module::TodoPart> {
    let unread = store::unread_notices(state.pool(), actor.id()).await?;
    let total = unread.len();
    let items = unread
        .into_iter()
        .take(limit)
        .map(
            |(id, title, sent_at, read_by, reminded_at)| crate::module::TodoItem {
                module: "office",
                kind: t.get("office.notice_to_read").to_owned(),
                title,
                link: format!("/office/notices/{id}"),
                due: read_by,
                urgency: u8::from(reminded_at.is_some()),
                at: sent_at,
            },
        )
        .collect();
    Ok(crate::module::TodoPart { items, total })
}
