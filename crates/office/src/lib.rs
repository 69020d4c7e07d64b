//! tongban-office: 协同办公 — official documents from draft to sealed and sent, as a module: the
//! outgoing flow (拟稿 → 审核 → 签发 → 复核 → 用印 → 登记 → 分发, [`documents`]) with every
//! opinion in the document's history and the transparency log, numbers (发文字号) issued
//! without gaps ([`numbering`]), the final document as a signed PDF ([`seal`]), and the to-do list of each official. The elements, rules and
//! steps of a document are `tongban-gongwen`'s.
#![forbid(unsafe_code)]

mod demo;
mod modules;
mod texts;

pub mod api;
pub mod desk;
pub mod directory;
pub mod directory_page;
pub mod documents;
pub mod examples;
pub mod exchange;
pub mod incoming;
pub mod incoming_page;

pub mod layout;
pub mod notices;
pub mod numbering;
pub mod pages;
pub mod parcel;
pub mod people;
pub mod seal;
pub mod store;

pub use modules::OfficeModule;
pub use tongban_gongwen as gongwen;
pub(crate) use tongban_platform::{
    admin, authz, db, error, identity, keys, ledger, module, random, state, time_fmt, web,
};

/// The caller's own department (organ), when `action` is theirs over it.
pub(crate) fn own_department(
    actor: &identity::model::Actor,
    action: authz::Action,
) -> error::AppResult<&str> {
    let department = actor
        .account
        .department_id
        .as_deref()
        .ok_or(error::AppError::Forbidden)?;
    if authz::can(
        actor,
        action,
        authz::Resource::Department { id: department },
    ) {
        Ok(department)
    } else {
        Err(error::AppError::Forbidden)
    }
}

/// The tables of this crate's module.
pub static MIGRATIONS: tongban_platform::migrations::Migrations =
    tongban_platform::migrations::Migrations {
        owner: "office",
        sqlite: &sqlx::migrate!("migrations/sqlite"),
        postgres: &sqlx::migrate!("migrations/postgres"),
    };

#[cfg(test)]
mod migration_tests {
    #[test]
    fn both_dialects_make_the_same_tables_columns_and_indexes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        tongban_platform::migrations::check_dialects(&root).expect("the dialects agree");
    }
}
