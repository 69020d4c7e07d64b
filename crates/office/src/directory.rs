//! 通讯录: the directory of the organs the platform knows (its departments, each the first
//! level), their internal departments (处室) and sub-units down to the sixth level, the posts
//! people hold in them — one person may hold several, and leaders are marked — and their work
//! phones. Every staff member may look colleagues up, by name, the initials of its pinyin, a
//! post or a phone number; a phone is opened only through the audited accessor. An organ's
//! administrators keep its part. Signing documents off (签发) is for the leaders an organ's
//! directory marks, once it marks any.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::authz::{self, Action, Resource};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::identity::personal;
use crate::state::AppState;
use crate::store::{self, PostRow, StaffRow, UnitRow};

/// The organ is the first level; units go down to the sixth.
pub const MAX_LEVEL: i64 = 6;
/// At most this many people and units in one answer.
const MAX_FOUND: i64 = 50;

/// An organ (机关): one of the platform's departments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Organ {
    pub id: String,
    pub name: String,
    pub region_code: String,
}

/// A unit below an organ.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unit {
    pub id: String,
    /// The organ it belongs to.
    pub department_id: String,
    /// The unit above it; none when it is directly under the organ.
    pub parent_id: Option<String>,
    /// 2 directly under the organ, down to 6.
    pub level: i64,
    pub name: String,
    /// The organ's name and the units down to this one, joined with ` / `.
    pub path: String,
}

/// A post a person holds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Post {
    pub id: String,
    pub department_id: String,
    pub unit_id: Option<String>,
    /// Where the post is: the organ's name and its units, joined with ` / `.
    pub place: String,
    /// 职务, such as 局长 or 科员.
    pub title: String,
    /// A leader of the organ (领导): may sign its documents off.
    pub leader: bool,
}

/// A staff member as the directory shows them: no phone, only whether one can be read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Person {
    pub account_id: String,
    pub name: String,
    pub department_id: String,
    pub posts: Vec<Post>,
    pub has_phone: bool,
}

/// What the directory answers: the organs (all of them, or those found), and the units and
/// people of the organ asked for, or those found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Directory {
    pub organs: Vec<Organ>,
    pub units: Vec<Unit>,
    pub people: Vec<Person>,
}

/// A unit to add under the caller's organ, or under one of its units.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    pub parent: Option<String>,
    pub name: String,
}

/// A post to give a staff member of the caller's organ.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPost {
    pub account: String,
    /// The unit; none for a post of the organ itself (局长).
    pub unit: Option<String>,
    pub title: String,
    #[serde(default)]
    pub leader: bool,
}

/// A work phone to keep for a staff member.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPhone {
    pub phone: String,
}

/// A work phone, opened for the reader (the read is on record).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Phone {
    pub account_id: String,
    pub phone: String,
}

fn ensure_viewer(actor: &Actor) -> AppResult<()> {
    if authz::can(actor, Action::ViewDirectory, Resource::Platform) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The caller's organ, when they keep its part of the directory.
fn kept_organ(actor: &Actor) -> AppResult<&str> {
    crate::own_department(actor, Action::KeepDirectory)
}

fn valid_label(field: &'static str, text: &str, max: usize) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            format!("must have 1–{max} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// The directory: with `query`, the organs, units and people it finds (name, pinyin
/// initials, post, or a whole phone number); with `organ`, that organ's units and people;
/// with neither, the organs.
pub async fn look_up(
    state: &AppState,
    actor: &Actor,
    query: Option<&str>,
    organ: Option<&str>,
) -> AppResult<Directory> {
    ensure_viewer(actor)?;
    let departments = crate::admin::store::departments(state.pool()).await?;
    let organs_by_id: HashMap<&str, &crate::admin::store::Department> =
        departments.iter().map(|d| (d.id.as_str(), d)).collect();
    let organ_of = |d: &crate::admin::store::Department| Organ {
        id: d.id.clone(),
        name: d.name.clone(),
        region_code: d.region_code.as_str().to_owned(),
    };
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    if let Some(query) = query {
        if query.chars().count() > 50 || query.chars().any(char::is_control) {
            return Err(AppError::invalid("q", "must have 1–50 characters"));
        }
        let lowered = query.to_lowercase();
        let like = format!("%{}%", store::like_escaped(&lowered));
        let digits = query.chars().filter(char::is_ascii_digit).count();
        let phone_index = (digits >= 7
            && query
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ')))
        .then(|| personal::staff_phone_index(state, query));
        let units = store::search_units(state.pool(), &like, MAX_FOUND).await?;
        let staff =
            store::search_staff(state.pool(), &like, phone_index.as_deref(), MAX_FOUND).await?;
        let organs = departments
            .iter()
            .filter(|d| {
                d.name.contains(query) || tongban_core::names::initials(&d.name).contains(&lowered)
            })
            .map(organ_of)
            .collect();
        let mut involved: Vec<&str> = units.iter().map(|u| u.department_id.as_str()).collect();
        involved.extend(staff.iter().map(|s| s.department_id.as_str()));
        let paths = Paths::of(state, &organs_by_id, &involved).await?;
        let units = units.iter().map(|u| paths.unit(u)).collect();
        let people = people(state, &paths, staff).await?;
        return Ok(Directory {
            organs,
            units,
            people,
        });
    }
    if let Some(organ) = organ {
        let Some(department) = organs_by_id.get(organ) else {
            return Err(AppError::NotFound);
        };
        let paths = Paths::of(state, &organs_by_id, &[organ]).await?;
        let units = paths
            .units
            .get(organ)
            .map(|units| units.iter().map(|u| paths.unit(u)).collect())
            .unwrap_or_default();
        let staff = store::staff_of_department(state.pool(), organ).await?;
        let mut people = people(state, &paths, staff).await?;
        // Leaders first, then by the first post's order, then by name.
        people.sort_by_key(|p| !p.posts.iter().any(|post| post.leader));
        return Ok(Directory {
            organs: vec![organ_of(department)],
            units,
            people,
        });
    }
    Ok(Directory {
        organs: departments.iter().map(organ_of).collect(),
        units: Vec::new(),
        people: Vec::new(),
    })
}

/// The units of some organs, to name where a unit or a post is.
struct Paths<'a> {
    organs: &'a HashMap<&'a str, &'a crate::admin::store::Department>,
    units: HashMap<String, Vec<UnitRow>>,
}

impl<'a> Paths<'a> {
    async fn of(
        state: &AppState,
        organs: &'a HashMap<&'a str, &'a crate::admin::store::Department>,
        departments: &[&str],
    ) -> AppResult<Paths<'a>> {
        let mut units = HashMap::new();
        for department in departments {
            if !units.contains_key(*department) {
                units.insert(
                    (*department).to_owned(),
                    store::units_of(state.pool(), department).await?,
                );
            }
        }
        Ok(Paths { organs, units })
    }

    /// The organ's name and the units down to `unit`.
    fn place(&self, department: &str, unit: Option<&str>) -> String {
        let mut names = Vec::new();
        let units = self.units.get(department);
        let mut next = unit.map(str::to_owned);
        while let Some(id) = next.take() {
            let Some(found) = units.and_then(|units| units.iter().find(|u| u.id == id)) else {
                break;
            };
            names.push(found.name.clone());
            if names.len() as i64 >= MAX_LEVEL {
                break;
            }
            next = found.parent_id.clone();
        }
        if let Some(organ) = self.organs.get(department) {
            names.push(organ.name.clone());
        }
        names.reverse();
        names.join(" / ")
    }

    fn unit(&self, unit: &UnitRow) -> Unit {
        Unit {
            id: unit.id.clone(),
            department_id: unit.department_id.clone(),
            parent_id: unit.parent_id.clone(),
            level: unit.level,
            name: unit.name.clone(),
            path: self.place(&unit.department_id, Some(&unit.id)),
        }
    }

    fn post(&self, post: &PostRow) -> Post {
        Post {
            id: post.id.clone(),
            department_id: post.department_id.clone(),
            unit_id: post.unit_id.clone(),
            place: self.place(&post.department_id, post.unit_id.as_deref()),
            title: post.title.clone(),
            leader: post.leader != 0,
        }
    }
}

async fn people(
    state: &AppState,
    paths: &Paths<'_>,
    staff: Vec<StaffRow>,
) -> AppResult<Vec<Person>> {
    let ids: Vec<String> = staff.iter().map(|s| s.id.clone()).collect();
    let posts = store::posts_of_accounts(state.pool(), &ids).await?;
    let phones = store::with_phone(state.pool(), &ids).await?;
    Ok(staff
        .into_iter()
        .map(|s| Person {
            posts: posts
                .iter()
                .filter(|p| p.account_id == s.id)
                .map(|p| paths.post(p))
                .collect(),
            has_phone: phones.contains(&s.id),
            account_id: s.id,
            name: s.display_name,
            department_id: s.department_id,
        })
        .collect())
}

/// Adds a unit under the caller's organ or one of its units (its administrators), down to
/// the sixth level; a name is used once among its siblings.
pub async fn add_unit(state: &AppState, actor: &Actor, new: NewUnit) -> AppResult<Unit> {
    let department = kept_organ(actor)?;
    let name = valid_label("name", &new.name, 50)?;
    let siblings = store::units_of(state.pool(), department).await?;
    let level = match new.parent.as_deref() {
        None => 2,
        Some(parent) => {
            let Some(parent) = siblings.iter().find(|u| u.id == parent) else {
                return Err(AppError::invalid("parent", "not a unit of your organ"));
            };
            parent.level + 1
        }
    };
    if level > MAX_LEVEL {
        return Err(AppError::invalid(
            "parent",
            format!("units go down to the {MAX_LEVEL}th level, the organ being the first"),
        ));
    }
    let beside: Vec<&UnitRow> = siblings
        .iter()
        .filter(|u| u.parent_id == new.parent)
        .collect();
    if beside.iter().any(|u| u.name == name) {
        return Err(AppError::Conflict(format!(
            "{name} is already a unit there"
        )));
    }
    let row = UnitRow {
        id: crate::random::new_id(),
        department_id: department.to_owned(),
        parent_id: new.parent,
        level,
        name: name.clone(),
        sort: beside.len() as i64,
    };
    store::insert_unit(
        state.pool(),
        &row,
        &tongban_core::names::initials(&name),
        state.now(),
    )
    .await?;
    let departments = crate::admin::store::departments(state.pool()).await?;
    let organs = departments.iter().map(|d| (d.id.as_str(), d)).collect();
    let paths = Paths::of(state, &organs, &[department]).await?;
    Ok(paths.unit(&row))
}

/// Renames a unit of the caller's organ or moves it, with the units under it, under another
/// of its units or directly under the organ (its administrators): the body is the unit as it
/// is to be (`{parent, name}`). Nothing goes under itself or below the sixth level, and a name
/// is used once among its new siblings; the posts in the units stay where they are.
pub async fn change_unit(
    state: &AppState,
    actor: &Actor,
    id: &str,
    change: NewUnit,
) -> AppResult<Unit> {
    let department = kept_organ(actor)?;
    let name = valid_label("name", &change.name, 50)?;
    let units = store::units_of(state.pool(), department).await?;
    let Some(unit) = units.iter().find(|u| u.id == id).cloned() else {
        return Err(AppError::NotFound);
    };
    // The unit and every unit under it.
    let mut moving = vec![unit.id.clone()];
    let mut at = 0;
    while at < moving.len() {
        let above = moving[at].clone();
        moving.extend(
            units
                .iter()
                .filter(|u| u.parent_id.as_deref() == Some(above.as_str()))
                .map(|u| u.id.clone()),
        );
        at += 1;
    }
    let level = match change.parent.as_deref() {
        None => 2,
        Some(parent) => {
            if moving.iter().any(|m| m == parent) {
                return Err(AppError::invalid(
                    "parent",
                    "a unit does not go under itself or a unit below it",
                ));
            }
            let Some(parent) = units.iter().find(|u| u.id == parent) else {
                return Err(AppError::invalid("parent", "not a unit of your organ"));
            };
            parent.level + 1
        }
    };
    let deepest = units
        .iter()
        .filter(|u| moving.contains(&u.id))
        .map(|u| u.level)
        .max()
        .unwrap_or(unit.level);
    if level + (deepest - unit.level) > MAX_LEVEL {
        return Err(AppError::invalid(
            "parent",
            format!("units go down to the {MAX_LEVEL}th level, the organ being the first"),
        ));
    }
    let siblings: Vec<&UnitRow> = units
        .iter()
        .filter(|u| u.parent_id == change.parent && u.id != unit.id)
        .collect();
    if siblings.iter().any(|u| u.name == name) {
        return Err(AppError::Conflict(format!(
            "{name} is already a unit there"
        )));
    }
    let sort = if change.parent == unit.parent_id {
        unit.sort
    } else {
        siblings.len() as i64
    };
    let mut tx = state.pool().begin().await?;
    store::update_unit(
        &mut *tx,
        &unit.id,
        change.parent.as_deref(),
        level,
        &name,
        &tongban_core::names::initials(&name),
        sort,
    )
    .await?;
    let below: Vec<String> = moving.into_iter().skip(1).collect();
    store::shift_unit_levels(&mut *tx, &below, level - unit.level).await?;
    tx.commit().await?;
    let row = UnitRow {
        parent_id: change.parent,
        level,
        name,
        sort,
        ..unit
    };
    let departments = crate::admin::store::departments(state.pool()).await?;
    let organs = departments.iter().map(|d| (d.id.as_str(), d)).collect();
    let paths = Paths::of(state, &organs, &[department]).await?;
    Ok(paths.unit(&row))
}

/// A change of who holds a post, in the transparency log: marking a leader gives the power
/// to sign an organ's documents off.
#[derive(Serialize)]
struct PostEntry<'a> {
    kind: &'static str,
    act: &'static str,
    post: &'a str,
    department: &'a str,
    account: &'a str,
    title: &'a str,
    leader: bool,
    by: &'a str,
    at: i64,
}

async fn log_post(
    state: &AppState,
    actor: &Actor,
    act: &'static str,
    post: &PostRow,
) -> AppResult<()> {
    crate::ledger::service::append(
        state,
        &PostEntry {
            kind: "office_post",
            act,
            post: &post.id,
            department: &post.department_id,
            account: &post.account_id,
            title: &post.title,
            leader: post.leader != 0,
            by: actor.id(),
            at: state.now(),
        },
    )
    .await?;
    Ok(())
}

/// Gives a staff member of the caller's organ a post there (its administrators); the same
/// post twice is refused. The change is in the transparency log.
pub async fn add_post(state: &AppState, actor: &Actor, new: NewPost) -> AppResult<Post> {
    let department = kept_organ(actor)?;
    let title = valid_label("title", &new.title, 30)?;
    let Some(account) = crate::identity::store::account(state.pool(), &new.account).await? else {
        return Err(AppError::invalid(
            "account",
            "not a staff member of your organ",
        ));
    };
    if account.disabled || account.department_id.as_deref() != Some(department) {
        return Err(AppError::invalid(
            "account",
            "not a staff member of your organ",
        ));
    }
    if let Some(unit) = new.unit.as_deref()
        && store::unit(state.pool(), unit)
            .await?
            .is_none_or(|u| u.department_id != department)
    {
        return Err(AppError::invalid("unit", "not a unit of your organ"));
    }
    let held = store::posts_of_accounts(state.pool(), std::slice::from_ref(&account.id)).await?;
    if held
        .iter()
        .any(|p| p.department_id == department && p.unit_id == new.unit && p.title == title)
    {
        return Err(AppError::Conflict(format!(
            "{} already holds that post",
            account.display_name
        )));
    }
    let row = PostRow {
        id: crate::random::new_id(),
        department_id: department.to_owned(),
        unit_id: new.unit,
        account_id: account.id.clone(),
        title,
        leader: i64::from(new.leader),
    };
    let now = state.now();
    let mut tx = state.pool().begin().await?;
    store::insert_post(&mut *tx, &row, now).await?;
    store::upsert_person(
        &mut *tx,
        &account.id,
        &tongban_core::names::initials(&account.display_name),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    log_post(state, actor, "add", &row).await?;
    let departments = crate::admin::store::departments(state.pool()).await?;
    let organs = departments.iter().map(|d| (d.id.as_str(), d)).collect();
    let paths = Paths::of(state, &organs, &[department]).await?;
    Ok(paths.post(&row))
}

/// Takes a post away (the organ's administrators); in the transparency log.
pub async fn remove_post(state: &AppState, actor: &Actor, id: &str) -> AppResult<()> {
    let department = kept_organ(actor)?;
    let Some(row) = store::post(state.pool(), id).await? else {
        return Err(AppError::NotFound);
    };
    if row.department_id != department {
        return Err(AppError::NotFound);
    }
    store::delete_post(state.pool(), id).await?;
    log_post(state, actor, "remove", &row).await
}

/// Keeps a staff member's work phone, sealed: their organ's administrators, or the person.
pub async fn set_phone(
    state: &AppState,
    actor: &Actor,
    account_id: &str,
    phone: &str,
) -> AppResult<()> {
    ensure_viewer(actor)?;
    let Some(account) = crate::identity::store::account(state.pool(), account_id).await? else {
        return Err(AppError::NotFound);
    };
    let Some(department) = account.department_id.as_deref() else {
        return Err(AppError::NotFound);
    };
    let keeps = authz::can(
        actor,
        Action::KeepDirectory,
        Resource::Department { id: department },
    );
    if actor.id() != account.id && !keeps {
        return Err(AppError::Forbidden);
    }
    let (sealed, index) = personal::seal_staff_phone(state, &account.id, phone)?;
    store::upsert_person(
        state.pool(),
        &account.id,
        &tongban_core::names::initials(&account.display_name),
        Some((&sealed, &index)),
        state.now(),
    )
    .await
}

/// Opens a staff member's work phone for a colleague, through the audited accessor.
pub async fn phone(
    state: &AppState,
    actor: &Actor,
    account_id: &str,
    request_id: Option<&str>,
) -> AppResult<Phone> {
    ensure_viewer(actor)?;
    let Some(sealed) = store::phone_of(state.pool(), account_id).await? else {
        return Err(AppError::NotFound);
    };
    let phone = personal::read_staff_phone(state, actor, account_id, &sealed, request_id).await?;
    Ok(Phone {
        account_id: account_id.to_owned(),
        phone: phone.expose().to_owned(),
    })
}

/// Whether `account` may sign the organ's documents off as its leader: one the organ's
/// directory marks as a leader, once it marks any.
pub async fn may_sign_off(state: &AppState, department: &str, account: &str) -> AppResult<bool> {
    let leaders = store::leaders_of(state.pool(), department).await?;
    Ok(leaders.is_empty() || leaders.iter().any(|l| l == account))
}
