//! The audited accessor for personal information (个人信息): names, ID numbers and phones of
//! natural persons. It is the only code that writes or reads the personal columns; every read
//! is recorded before the data is returned, with who, whose, why and when.

use std::fmt;

use serde::Serialize;
use tongban_core::{RegionCode, ResidentId, Uscc};
use zeroize::Zeroizing;

use super::model::Actor;
use super::store::parse_stored_region;
use crate::authz::{Action, Resource, can};
use crate::error::{AppError, AppResult};
use crate::random;
use crate::state::AppState;

/// Text that is personal data: redacted in `Debug`, wiped from memory on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalText(Zeroizing<String>);

impl PersonalText {
    pub fn new(text: impl Into<String>) -> PersonalText {
        PersonalText(Zeroizing::new(text.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonalText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalText(<redacted>)")
    }
}

impl Serialize for PersonalText {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

/// A name as shown where the full name is not needed: the first character, then `*`, then the
/// last character for names of three or more (张*, 欧阳*华).
pub fn masked_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 | 2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

/// The masked form of a person's registered name (张*, 欧阳*锋), for their own pass: the only
/// form that leaves, and only to the person themself, so it is not recorded as an access. It
/// comes from the sealed name, never from an editable display name.
pub async fn masked_name_of(state: &AppState, person_id: &str) -> AppResult<String> {
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT name_sealed FROM persons WHERE id = $1")
        .bind(person_id.to_owned())
        .fetch_optional(state.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(masked_name(
        open_person_field(state, "name", person_id, &sealed)?.expose(),
    ))
}

/// [`masked_name_of`] for many people in one statement; a person not found is absent.
pub async fn masked_names_of(
    state: &AppState,
    person_ids: &[String],
) -> AppResult<std::collections::HashMap<String, String>> {
    if person_ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT id, name_sealed FROM persons WHERE id IN ({})",
        crate::db::in_list(1, person_ids.len())
    );
    let mut query = sqlx::query_as::<_, (String, Vec<u8>)>(sqlx::AssertSqlSafe(sql));
    for id in person_ids {
        query = query.bind(id.clone());
    }
    query
        .fetch_all(state.pool())
        .await?
        .into_iter()
        .map(|(id, sealed)| {
            let name = masked_name(open_person_field(state, "name", &id, &sealed)?.expose());
            Ok((id, name))
        })
        .collect()
}

/// The personal fields of a natural person.
#[derive(Debug, Clone)]
pub struct PersonalFields {
    pub name: PersonalText,
    pub resident_id: ResidentId,
    pub phone: Option<PersonalText>,
    /// Where the person lives (a street address within the region of residence).
    pub address: Option<PersonalText>,
}

/// Why personal data is read; recorded with every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The person looks at their own data.
    SelfService,
    /// A clerk handles an application of the person.
    ServiceHandling,
    /// Staff confirm who someone is (at a window or checkpoint).
    IdentityVerification,
    /// Public-health work by an authorised health officer.
    HealthManagement,
    /// A venue or checkpoint checks a pass (the holder's current colour).
    PassCheck,
    /// Another department reads items it was granted, through the data-sharing gateway.
    DataSharing,
    /// A collector's device fills in an approved form of its department (一表通) with what the
    /// platform already holds, so that the person is not asked again.
    FormPrefill,
    /// A colleague reads a staff member's work phone in the directory (通讯录).
    StaffContact,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SelfService => "self_service",
            Purpose::ServiceHandling => "service_handling",
            Purpose::IdentityVerification => "identity_verification",
            Purpose::HealthManagement => "health_management",
            Purpose::PassCheck => "pass_check",
            Purpose::DataSharing => "data_sharing",
            Purpose::FormPrefill => "form_prefill",
            Purpose::StaffContact => "staff_contact",
        }
    }

    /// The legal basis the log records with each read for this purpose (PIPL articles).
    pub fn legal_basis(self) -> &'static str {
        match self {
            Purpose::SelfService => "PIPL art. 45 (the individual consults their own data)",
            Purpose::ServiceHandling
            | Purpose::IdentityVerification
            | Purpose::DataSharing
            | Purpose::FormPrefill => {
                "PIPL art. 13(1)(3) and art. 34 (statutory duties of a state organ)"
            }
            Purpose::HealthManagement | Purpose::PassCheck => {
                "PIPL art. 13(1)(4) (public-health emergency)"
            }
            Purpose::StaffContact => {
                "PIPL art. 13(1)(2) (human-resources management under the organ's rules)"
            }
        }
    }
}

/// Seals a personal field for `persons.<column>` of row `id` under the vault's field key.
fn seal(state: &AppState, column: &str, id: &str, plain: &str) -> Vec<u8> {
    state
        .vault
        .seal_field(&format!("persons.{column}/{id}"), plain.as_bytes())
}

pub(crate) fn open_person_field(
    state: &AppState,
    column: &str,
    id: &str,
    sealed: &[u8],
) -> AppResult<PersonalText> {
    let plain = state
        .vault
        .open_field(&format!("persons.{column}/{id}"), sealed)?;
    String::from_utf8(plain.to_vec())
        .map(PersonalText::new)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored personal field is not UTF-8")))
}

/// The lookup value of an ID number (a keyed blind index), so a person can be found without
/// the number being stored in clear.
fn resident_id_index(state: &AppState, id: &ResidentId) -> String {
    state.vault.blind_index("resident_id", id.expose())
}

fn valid_name(name: &str) -> AppResult<PersonalText> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "must have 1–64 characters"));
    }
    Ok(PersonalText::new(name))
}

fn valid_phone(phone: &str) -> AppResult<PersonalText> {
    let phone = phone.trim();
    let digits = phone.strip_prefix('+').unwrap_or(phone);
    if !(5..=20).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    {
        return Err(AppError::invalid(
            "phone",
            "must be digits, optionally with a leading + and dashes",
        ));
    }
    Ok(PersonalText::new(phone))
}

fn valid_address(address: &str) -> AppResult<PersonalText> {
    let address = address.trim();
    if address.chars().count() > 200 || address.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "address",
            "must have at most 200 characters",
        ));
    }
    Ok(PersonalText::new(address))
}

/// A staff member's work phone as the directory keeps it: sealed under the vault's field key
/// for that account, and its keyed blind index, so that a number typed in the search finds
/// its holder without numbers being stored in clear. Refuses what is not a phone number.
pub fn seal_staff_phone(
    state: &AppState,
    account_id: &str,
    phone: &str,
) -> AppResult<(Vec<u8>, String)> {
    let phone = valid_phone(phone)?;
    let sealed = state.vault.seal_field(
        &format!("office_people.phone/{account_id}"),
        phone.expose().as_bytes(),
    );
    Ok((sealed, staff_phone_index(state, phone.expose())))
}

/// The blind index a typed phone number is looked up by (dashes and spaces ignored).
pub fn staff_phone_index(state: &AppState, phone: &str) -> String {
    let digits: String = phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    state.vault.blind_index("staff_phone", &digits)
}

/// Opens a staff member's work phone for a colleague: the read counts against the reader's
/// hourly limit of record reads and is recorded (purpose `staff_contact`, the phone's
/// holder as subject) before the phone is opened.
pub async fn read_staff_phone(
    state: &AppState,
    actor: &Actor,
    account_id: &str,
    sealed: &[u8],
    request_id: Option<&str>,
) -> AppResult<PersonalText> {
    if actor.id() != account_id {
        count_record_read(state, actor).await?;
        record_access(
            state,
            actor,
            account_id,
            "read",
            "phone",
            Purpose::StaffContact,
            request_id,
        )
        .await?;
    }
    let plain = state
        .vault
        .open_field(&format!("office_people.phone/{account_id}"), sealed)?;
    String::from_utf8(plain.to_vec())
        .map(PersonalText::new)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored phone is not UTF-8")))
}

/// Parses the personal fields as typed at the edge.
pub fn parse_fields(
    name: &str,
    resident_id: &str,
    phone: Option<&str>,
    address: Option<&str>,
) -> AppResult<PersonalFields> {
    Ok(PersonalFields {
        name: valid_name(name)?,
        resident_id: resident_id
            .trim()
            .parse()
            .map_err(|error| AppError::invalid("resident_id", error))?,
        phone: phone
            .filter(|p| !p.trim().is_empty())
            .map(valid_phone)
            .transpose()?,
        address: address
            .filter(|a| !a.trim().is_empty())
            .map(valid_address)
            .transpose()?,
    })
}

/// Registers a natural person. `actor` is `None` only for the operator and the demo seeder.
pub async fn register_person(
    state: &AppState,
    actor: Option<&Actor>,
    region: &RegionCode,
    fields: &PersonalFields,
) -> AppResult<String> {
    if let Some(actor) = actor
        && !can(actor, Action::RegisterPerson, Resource::Region(region))
    {
        return Err(AppError::Forbidden);
    }
    let id = random::new_id();
    // The person and their match keys together: a person is never left without them.
    let mut tx = state.pool().begin().await?;
    sqlx::query(
        "INSERT INTO persons (id, region_code, resident_id_index, resident_id_sealed, name_sealed, phone_sealed, created_at, address_sealed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.clone())
    .bind(region.as_str().to_owned())
    .bind(resident_id_index(state, &fields.resident_id))
    .bind(seal(state, "resident_id", &id, fields.resident_id.expose()))
    .bind(seal(state, "name", &id, fields.name.expose()))
    .bind(fields.phone.as_ref().map(|phone| seal(state, "phone", &id, phone.expose())))
    .bind(state.now())
    .bind(
        fields
            .address
            .as_ref()
            .map(|address| seal(state, "address", &id, address.expose())),
    )
    .execute(&mut *tx)
    .await?;
    index_person(
        state,
        &mut tx,
        &id,
        fields.name.expose(),
        &fields.resident_id,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The region of a person, which is not personal on its own and decides who may read them.
pub async fn person_region(state: &AppState, person_id: &str) -> AppResult<Option<RegionCode>> {
    let code: Option<String> = sqlx::query_scalar("SELECT region_code FROM persons WHERE id = $1")
        .bind(person_id.to_owned())
        .fetch_optional(state.pool())
        .await?;
    code.map(|code| parse_stored_region(&code)).transpose()
}

/// A person's record as returned to an allowed reader.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRecord {
    pub id: String,
    pub region_code: String,
    pub name: PersonalText,
    pub resident_id: String,
    pub phone: Option<PersonalText>,
    pub address: Option<PersonalText>,
}

/// Whole records one official may read in an hour (a clerk's day of cases fits; a bulk
/// extraction does not).
pub const RECORD_READS_PER_HOUR: i64 = 60;

/// Whether the purpose is one the actor's role serves: clerks handle services and confirm
/// identities, health officers do public-health work; a person reads their own record as
/// themself. No one reads a whole record "to check a pass".
fn purpose_fits(actor: &Actor, person_id: &str, purpose: Purpose) -> bool {
    use crate::identity::model::Role;
    if actor.account.person_id.as_deref() == Some(person_id) {
        return purpose == Purpose::SelfService;
    }
    match purpose {
        Purpose::ServiceHandling | Purpose::IdentityVerification => actor.has_role(Role::Clerk),
        Purpose::HealthManagement => actor.has_role(Role::HealthOfficer),
        Purpose::SelfService
        | Purpose::PassCheck
        | Purpose::DataSharing
        | Purpose::FormPrefill
        | Purpose::StaffContact => false,
    }
}

/// Counts a whole-record read by staff against the hour's limit, before anything is read.
async fn count_record_read(state: &AppState, actor: &Actor) -> AppResult<()> {
    count_reads(state, actor.id()).await
}

/// Counts a whole-record read by a reader (an account or a collector's device) against the
/// hour's limit.
async fn count_reads(state: &AppState, reader_id: &str) -> AppResult<()> {
    let now = state.now();
    let hour = now.div_euclid(3_600_000);
    let reads: i64 = sqlx::query_scalar(
        "INSERT INTO record_reads (actor_id, hour, reads) VALUES ($1, $2, 1)
         ON CONFLICT (actor_id, hour) DO UPDATE SET reads = record_reads.reads + 1
         RETURNING reads",
    )
    .bind(reader_id.to_owned())
    .bind(hour)
    .fetch_one(state.pool())
    .await?;
    if reads > RECORD_READS_PER_HOUR {
        return Err(AppError::LockedOut {
            retry_after_seconds: ((hour + 1) * 3_600_000 - now + 999) / 1000,
        });
    }
    Ok(())
}

/// How long the rows of a person's "who accessed my data" list are kept (the transparency
/// log keeps its entries).
pub const ACCESS_RETENTION_DAYS: i64 = 3 * 365;

/// Deletes access rows older than their retention; returns how many. A pass check says where
/// the person was (the checker's venue), so its row goes with the check-ins, after
/// `checkin_retention_days`.
pub async fn purge_old_access_rows(state: &AppState) -> AppResult<u64> {
    let now = state.now();
    let before = now - ACCESS_RETENTION_DAYS * 86_400_000;
    let checks_before = now - state.config.checkin_retention_days.max(1) * 86_400_000;
    let old = sqlx::query("DELETE FROM personal_data_access WHERE at < $1")
        .bind(before)
        .execute(state.pool())
        .await?
        .rows_affected();
    let checks = sqlx::query(
        "DELETE FROM personal_data_access WHERE categories = 'health_status' AND at < $1",
    )
    .bind(checks_before)
    .execute(state.pool())
    .await?
    .rows_affected();
    Ok(old + checks)
}

/// Forgets the counts of hours before the last.
pub async fn forget_record_reads(state: &AppState) -> AppResult<u64> {
    let hour = state.now().div_euclid(3_600_000);
    Ok(sqlx::query("DELETE FROM record_reads WHERE hour < $1")
        .bind(hour - 1)
        .execute(state.pool())
        .await?
        .rows_affected())
}

/// Reads a person's personal fields: asks the policy, checks that the purpose is one the
/// actor's role serves, counts the read against the official's hourly limit, records the
/// access, and only then opens the fields. An unknown person and a forbidden one look the same
/// to the caller.
pub async fn read_person(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    purpose: Purpose,
    request_id: Option<&str>,
) -> AppResult<PersonRecord> {
    let region = person_region(state, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can(
        actor,
        Action::ReadPersonalData,
        Resource::Person {
            id: person_id,
            region: &region,
        },
    ) {
        return Err(AppError::NotFound);
    }
    if !purpose_fits(actor, person_id, purpose) {
        return Err(AppError::invalid(
            "purpose",
            "not a purpose of your role: clerks read for service_handling or identity_verification, health officers for health_management, a person for self_service",
        ));
    }
    if actor.account.person_id.as_deref() != Some(person_id) {
        count_record_read(state, actor).await?;
    }
    record_access(
        state,
        actor,
        person_id,
        "read",
        "name,resident_id,phone,address",
        purpose,
        request_id,
    )
    .await?;
    type Sealed = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);
    let (resident_id_sealed, name_sealed, phone, address): Sealed = sqlx::query_as(
        "SELECT resident_id_sealed, name_sealed, phone_sealed, address_sealed FROM persons WHERE id = $1",
    )
    .bind(person_id.to_owned())
    .fetch_one(state.pool())
    .await?;
    let resident_id = open_person_field(state, "resident_id", person_id, &resident_id_sealed)?;
    Ok(PersonRecord {
        id: person_id.to_owned(),
        region_code: region.as_str().to_owned(),
        name: open_person_field(state, "name", person_id, &name_sealed)?,
        resident_id: resident_id.expose().to_owned(),
        phone: phone
            .as_deref()
            .map(|p| open_person_field(state, "phone", person_id, p))
            .transpose()?,
        address: address
            .as_deref()
            .map(|a| open_person_field(state, "address", person_id, a))
            .transpose()?,
    })
}

/// The fields of a person another department may be granted through the data-sharing
/// gateway, by their item code: `name`, `resident_id`, `phone`, `region_code` (the region
/// of residence).
pub const SHARED_PERSON_FIELDS: [&str; 4] = ["name", "resident_id", "phone", "region_code"];

/// Reads the granted fields of a person for another department, through the data-sharing
/// gateway: the gateway has checked the grant and that the actor acts for the consumer
/// department. Counts against the official's hourly limit, records the access (purpose
/// `data_sharing`, the categories read, the message id) in the log and the person's access
/// view, and only then opens exactly those fields. Other fields are never opened.
pub async fn read_person_shared(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    fields: &[&str],
    message_id: &str,
) -> AppResult<Vec<(&'static str, PersonalText)>> {
    if actor.account.department_id.is_none() {
        return Err(AppError::Forbidden);
    }
    let fields: Vec<&'static str> = SHARED_PERSON_FIELDS
        .into_iter()
        .filter(|f| fields.contains(f))
        .collect();
    if fields.is_empty() {
        return Ok(Vec::new());
    }
    count_record_read(state, actor).await?;
    record_access(
        state,
        actor,
        person_id,
        "read_shared",
        &fields.join(","),
        Purpose::DataSharing,
        Some(message_id),
    )
    .await?;
    type Sealed = (Vec<u8>, Vec<u8>, Option<Vec<u8>>, String);
    let row: Option<Sealed> = sqlx::query_as(
        "SELECT resident_id_sealed, name_sealed, phone_sealed, region_code FROM persons WHERE id = $1",
    )
    .bind(person_id.to_owned())
    .fetch_optional(state.pool())
    .await?;
    let (resident_id, name, phone, region) = row.ok_or(AppError::NotFound)?;
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        let sealed = match field {
            "region_code" => {
                out.push((field, PersonalText::new(region.clone())));
                continue;
            }
            "name" => Some(name.as_slice()),
            "resident_id" => Some(resident_id.as_slice()),
            _ => phone.as_deref(),
        };
        if let Some(sealed) = sealed {
            out.push((field, open_person_field(state, field, person_id, sealed)?));
        }
    }
    Ok(out)
}

/// Records that another department read items of a person's record kept outside the persons
/// table (a department's digital registry), through the data-sharing gateway: counted against
/// the official's hourly limit and recorded (purpose `data_sharing`, the categories, the
/// message id) before anything is released, so the person sees it in their access view.
pub async fn record_shared_read(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    categories: &str,
    message_id: &str,
) -> AppResult<()> {
    if actor.account.department_id.is_none() {
        return Err(AppError::Forbidden);
    }
    count_record_read(state, actor).await?;
    record_access(
        state,
        actor,
        person_id,
        "read_shared",
        categories,
        Purpose::DataSharing,
        Some(message_id),
    )
    .await
}

/// The internal id of the person with this ID number, for use-cases that act on a person
/// without reading their fields (recording a fact). Releases nothing personal.
pub async fn person_id_by_resident_id(
    state: &AppState,
    resident_id: &ResidentId,
) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM persons WHERE resident_id_index = $1")
            .bind(resident_id_index(state, resident_id))
            .fetch_optional(state.pool())
            .await?,
    )
}

/// Whether a phone is on the person's record (nothing is opened).
pub async fn has_phone(state: &AppState, person_id: &str) -> AppResult<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM persons WHERE id = $1 AND phone_sealed IS NOT NULL")
            .bind(person_id.to_owned())
            .fetch_optional(state.pool())
            .await?;
    Ok(found.is_some())
}

/// Finds a person by ID number; the lookup itself is recorded as an access.
pub async fn find_person(
    state: &AppState,
    actor: &Actor,
    resident_id: &ResidentId,
    purpose: Purpose,
    request_id: Option<&str>,
) -> AppResult<PersonRecord> {
    let id: String = sqlx::query_scalar("SELECT id FROM persons WHERE resident_id_index = $1")
        .bind(resident_id_index(state, resident_id))
        .fetch_optional(state.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    read_person(state, actor, &id, purpose, request_id).await
}

/// Logs a read of a person's health facts by the platform itself, to compute their status
/// (for their pass, or for a check, which is logged in addition as the checker's access). It
/// goes to the transparency log only: the person's "who accessed my data" list shows people,
/// and this read is made by no one. Made each time the facts are read from storage (a node then
/// keeps them until they change), not each time the kept status is used.
pub async fn record_status_computation(state: &AppState, person_id: &str) -> AppResult<()> {
    let entry = AccessEntry {
        kind: "personal_data_access",
        at: crate::time_fmt::rfc3339(state.now()),
        actor: "system",
        role: "system",
        department: None,
        action: "compute_status",
        categories: "health_facts",
        subject: state.vault.subject_commitment(person_id),
        purpose: Purpose::SelfService.as_str(),
        legal_basis: Purpose::SelfService.legal_basis(),
        request_id: None,
    };
    crate::ledger::service::append(state, &entry)
        .await
        .map_err(|error| {
            tracing::error!(%error, "the read could not be logged; no status is computed");
            AppError::Unavailable
        })?;
    Ok(())
}

/// How an access row names the person whose data was read: a keyed index of their id, so
/// that the table alone does not say whose data an official read.
pub fn access_subject_key(state: &AppState, person_id: &str) -> String {
    state.vault.blind_index("access-subject", person_id)
}

/// Rewrites access rows an earlier version stored with the person's id in clear (an id has
/// dashes, a keyed index is hex). Runs when the node starts; each row is rewritten once, and
/// a row another node rewrote first is left alone.
pub async fn key_access_subjects(state: &AppState) -> AppResult<u64> {
    let mut rewritten = 0;
    loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, subject_key FROM personal_data_access WHERE subject_key LIKE '%-%' LIMIT 500",
        )
        .fetch_all(state.pool())
        .await?;
        if rows.is_empty() {
            return Ok(rewritten);
        }
        for (id, person_id) in rows {
            rewritten += sqlx::query(
                "UPDATE personal_data_access SET subject_key = $2 WHERE id = $1 AND subject_key = $3",
            )
            .bind(id)
            .bind(access_subject_key(state, &person_id))
            .bind(person_id)
            .execute(state.pool())
            .await?
            .rows_affected();
        }
    }
}

/// One access to personal data as the transparency log records it. The subject is a keyed
/// tag of the person, never a name or ID number.
#[derive(Serialize)]
struct AccessEntry<'a> {
    kind: &'static str,
    at: String,
    actor: &'a str,
    role: &'a str,
    department: Option<&'a str>,
    action: &'a str,
    categories: &'a str,
    subject: String,
    purpose: &'a str,
    legal_basis: &'a str,
    request_id: Option<&'a str>,
}

/// Records an access to a person's data: first durably in the transparency log, then in the
/// per-person index the citizen's page reads. The caller releases data only after this
/// returns Ok; when either write fails the answer is 503 and nothing personal leaves.
async fn record_access(
    state: &AppState,
    actor: &Actor,
    subject_id: &str,
    action: &str,
    categories: &str,
    purpose: Purpose,
    request_id: Option<&str>,
) -> AppResult<()> {
    let reader = Reader {
        id: actor.id(),
        role: actor.primary_role().as_str(),
        department: actor.account.department_id.as_deref(),
    };
    record_access_by(
        state, reader, subject_id, action, categories, purpose, request_id,
    )
    .await
}

/// Who reads: an account, or a collector's device acting for its department.
#[derive(Clone, Copy)]
struct Reader<'a> {
    id: &'a str,
    role: &'a str,
    department: Option<&'a str>,
}

async fn record_access_by(
    state: &AppState,
    reader: Reader<'_>,
    subject_id: &str,
    action: &str,
    categories: &str,
    purpose: Purpose,
    request_id: Option<&str>,
) -> AppResult<()> {
    let now = state.now();
    let entry = AccessEntry {
        kind: "personal_data_access",
        at: crate::time_fmt::rfc3339(now),
        actor: reader.id,
        role: reader.role,
        department: reader.department,
        action,
        categories,
        subject: state.vault.subject_commitment(subject_id),
        purpose: purpose.as_str(),
        legal_basis: purpose.legal_basis(),
        request_id,
    };
    // The access row is written with its log entry, in the log's group-committed
    // transaction: durable together, and many doors' checks share one commit.
    use crate::ledger::appender::{IndexRow, IndexValue};
    let row = IndexRow {
        table: "personal_data_access",
        columns: &[
            "id",
            "at",
            "actor_id",
            "actor_role",
            "action",
            "categories",
            "subject_key",
            "purpose",
            "department_id",
            "request_id",
        ],
        values: vec![
            IndexValue::Text(random::new_id()),
            IndexValue::Int(now),
            IndexValue::Text(reader.id.to_owned()),
            IndexValue::Text(reader.role.to_owned()),
            IndexValue::Text(action.to_owned()),
            IndexValue::Text(categories.to_owned()),
            IndexValue::Text(access_subject_key(state, subject_id)),
            IndexValue::Text(purpose.as_str().to_owned()),
            IndexValue::OptionalText(reader.department.map(str::to_owned)),
            IndexValue::OptionalText(request_id.map(str::to_owned)),
        ],
    };
    crate::ledger::service::append_indexed(state, &entry, row)
        .await
        .map_err(|error| {
            tracing::error!(%error, "personal data access could not be recorded; nothing is released");
            AppError::Unavailable
        })?;
    Ok(())
}

/// The fields of a person a form may prefill, by their item code: `name`, `phone`,
/// `region_code` (the region of residence). The ID number is the collector's to type: it is
/// the key, never released.
pub const PREFILL_PERSON_FIELDS: [&str; 4] = ["name", "phone", "address", "region_code"];

/// A collector's device of a department's project (一表通), reading for its department.
pub struct Collector<'a> {
    /// The device's id as the log names it (`collect-device:{id}`).
    pub id: &'a str,
    pub department_id: &'a str,
    /// The department's region: only its residents are prefilled.
    pub region: &'a RegionCode,
}

/// Counts a prefill from something other than the population register (an entity list of a
/// project, which may name persons) against the device's hourly limit of reads, before it is
/// opened: the same limit as persons' prefills, so that the phone page cannot be used to copy
/// a list out.
pub async fn count_collector_read(state: &AppState, collector_id: &str) -> AppResult<()> {
    count_reads(state, collector_id).await
}

/// Reads the fields of a person that an approved form prefills, for a collector's device of
/// the department that runs the form. A person outside the department's region answers as an
/// unknown one (`None`). The read is counted against the device's hourly limit and recorded —
/// purpose `form_prefill`, the categories read, the form as the reference — in the log and the
/// person's access view before the fields are opened; other fields are never opened.
pub async fn read_person_for_form(
    state: &AppState,
    collector: Collector<'_>,
    resident_id: &ResidentId,
    fields: &[&str],
    form_ref: &str,
) -> AppResult<Option<Vec<(&'static str, PersonalText)>>> {
    let fields: Vec<&'static str> = PREFILL_PERSON_FIELDS
        .into_iter()
        .filter(|f| fields.contains(f))
        .collect();
    let Some(person_id) = person_id_by_resident_id(state, resident_id).await? else {
        return Ok(None);
    };
    let region = person_region(state, &person_id).await?;
    if !region.is_some_and(|r| collector.region.contains(&r)) || fields.is_empty() {
        return Ok(None);
    }
    count_reads(state, collector.id).await?;
    let reader = Reader {
        id: collector.id,
        role: "collector",
        department: Some(collector.department_id),
    };
    record_access_by(
        state,
        reader,
        &person_id,
        "prefill",
        &fields.join(","),
        Purpose::FormPrefill,
        Some(form_ref),
    )
    .await?;
    type Sealed = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>, String);
    let (name, phone, address, region): Sealed = sqlx::query_as(
        "SELECT name_sealed, phone_sealed, address_sealed, region_code FROM persons WHERE id = $1",
    )
    .bind(person_id.clone())
    .fetch_one(state.pool())
    .await?;
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        match field {
            "region_code" => out.push((field, PersonalText::new(region.clone()))),
            "name" => out.push((field, open_person_field(state, "name", &person_id, &name)?)),
            "address" => {
                if let Some(address) = &address {
                    out.push((
                        field,
                        open_person_field(state, "address", &person_id, address)?,
                    ));
                }
            }
            _ => {
                if let Some(phone) = &phone {
                    out.push((field, open_person_field(state, "phone", &person_id, phone)?));
                }
            }
        }
    }
    Ok(Some(out))
}

/// Records that a person's certificates are opened: by the person (`Purpose::SelfService`),
/// or by a department using one (`Purpose::ServiceHandling`). Called before anything is
/// released, so the access shows in the person's list of who accessed their data.
pub async fn record_certificate_access(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    action: &str,
    purpose: Purpose,
    request_id: Option<&str>,
) -> AppResult<()> {
    record_access(
        state,
        actor,
        person_id,
        action,
        "certificates",
        purpose,
        request_id,
    )
    .await
}

/// Records that staff opened a person's application (its form and materials) to handle it,
/// before anything is shown.
pub async fn record_application_access(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    request_id: Option<&str>,
) -> AppResult<()> {
    record_access(
        state,
        actor,
        person_id,
        "read_application",
        "application",
        Purpose::ServiceHandling,
        request_id,
    )
    .await
}

/// Records that a health officer opened something of a person's health file (a request's
/// text, a pending fact), before it is shown.
pub async fn record_health_access(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    action: &str,
) -> AppResult<()> {
    record_access(
        state,
        actor,
        person_id,
        action,
        "health_file",
        Purpose::HealthManagement,
        None,
    )
    .await
}

/// Records that a checker saw a person's current health status (a pass check), before the
/// colour is returned.
pub async fn record_status_check(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    request_id: Option<&str>,
) -> AppResult<()> {
    record_access(
        state,
        actor,
        person_id,
        "check",
        "health_status",
        Purpose::PassCheck,
        request_id,
    )
    .await
}

/// 一证通行: a checkpoint officer checks a person without a phone by ID number. The access is
/// recorded first; only the masked name leaves (never the full name, a photo or a fact).
pub async fn identity_check(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    request_id: Option<&str>,
) -> AppResult<String> {
    record_access(
        state,
        actor,
        person_id,
        "id_check",
        "name,health_status",
        Purpose::PassCheck,
        request_id,
    )
    .await?;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT name_sealed FROM persons WHERE id = $1")
        .bind(person_id.to_owned())
        .fetch_one(state.pool())
        .await?;
    Ok(masked_name(
        open_person_field(state, "name", person_id, &sealed)?.expose(),
    ))
}

/// Whether `name` is the registered name of a person, for a citizen registering a family member
/// as a companion. Only the yes or no leaves; the comparison is recorded as the citizen's access
/// to that person's name, so it appears in the family member's own access list.
pub async fn name_matches(
    state: &AppState,
    actor: &Actor,
    person_id: &str,
    name: &str,
) -> AppResult<bool> {
    record_access(
        state,
        actor,
        person_id,
        "verify_name",
        "name",
        Purpose::IdentityVerification,
        None,
    )
    .await?;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT name_sealed FROM persons WHERE id = $1")
        .bind(person_id.to_owned())
        .fetch_one(state.pool())
        .await?;
    let stored = open_person_field(state, "name", person_id, &sealed)?;
    Ok(crate::web::cookies::tokens_match(
        stored.expose(),
        name.trim(),
    ))
}

/// One access to a person's data, as the person sees it (谁查看了我的数据).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessRecord {
    pub at: i64,
    /// The index of the access in the transparency log, to check with an inclusion proof.
    pub ledger_index: Option<i64>,
    /// The log entry itself (base64), which only the person it is about (and the audit
    /// administrator) may read: its leaf hash, HASH(0x00 ‖ these bytes), is what the public
    /// log shows at `ledger_index`.
    pub entry: Option<String>,
    pub actor_role: String,
    pub department: Option<String>,
    pub categories: String,
    pub purpose: String,
    /// Whether the person's own account made it (their own view, or their application
    /// obtaining their certificates with their consent).
    pub own: bool,
}

type AccessRow = (
    i64,
    Option<i64>,
    Option<Vec<u8>>,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

/// How the access view names a department: its name, or for a department of another region
/// that read through the data-sharing gateways (`peer/{region}/{USCC}`), its region and code.
fn department_text(name: Option<String>, id: Option<&str>) -> Option<String> {
    name.or_else(|| {
        let (region, uscc) = id?.strip_prefix("peer/")?.split_once('/')?;
        Some(format!("{region} 地区的部门（统一社会信用代码 {uscc}）"))
    })
}

/// The accesses to the actor's own person record, newest first, each with its log entry.
pub async fn my_access_records(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> AppResult<Vec<AccessRecord>> {
    use base64::Engine as _;
    let Some(person_id) = &actor.account.person_id else {
        return Ok(Vec::new());
    };
    let rows: Vec<AccessRow> = sqlx::query_as(
        "SELECT a.at, a.ledger_index, l.data, a.actor_role, d.name, a.department_id, a.categories, a.purpose, a.actor_id FROM personal_data_access a
         LEFT JOIN departments d ON d.id = a.department_id
         LEFT JOIN ledger_entries l ON l.idx = a.ledger_index
         WHERE a.subject_key = $1 ORDER BY a.at DESC LIMIT $2",
    )
    .bind(access_subject_key(state, person_id))
    .bind(limit.clamp(1, 500))
    .fetch_all(state.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                at,
                ledger_index,
                data,
                actor_role,
                department,
                department_id,
                categories,
                purpose,
                actor_id,
            )| AccessRecord {
                own: actor_id == actor.id(),
                at,
                ledger_index,
                entry: data.map(|data| base64::engine::general_purpose::STANDARD.encode(data)),
                actor_role,
                department: department_text(department, department_id.as_deref()),
                categories,
                purpose,
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::masked_name;

    #[test]
    fn names_are_masked_keeping_the_first_and_last_character() {
        assert_eq!(masked_name("张伟"), "张*");
        assert_eq!(masked_name("欧阳娜娜"), "欧**娜");
        assert_eq!(masked_name("Li"), "L*");
        assert_eq!(masked_name(""), "");
    }
}

/// A legal person (法人): an enterprise or organisation, by its USCC. Not personal data.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Enterprise {
    pub id: String,
    #[schema(value_type = String)]
    #[sqlx(try_from = "String")]
    pub uscc: Uscc,
    pub name: String,
    #[schema(value_type = String)]
    #[sqlx(try_from = "String")]
    pub region_code: RegionCode,
}

/// Registers an enterprise; `representative` is the person id of its legal representative
/// (法定代表人), through whose phone its account recovers.
pub async fn register_enterprise(
    state: &AppState,
    actor: Option<&Actor>,
    uscc: &Uscc,
    name: &str,
    region: &RegionCode,
    representative: Option<&str>,
) -> AppResult<Enterprise> {
    if let Some(actor) = actor
        && !can(actor, Action::RegisterEnterprise, Resource::Region(region))
    {
        return Err(AppError::Forbidden);
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "must have 1–128 characters"));
    }
    let enterprise = Enterprise {
        id: random::new_id(),
        uscc: uscc.clone(),
        name: name.to_owned(),
        region_code: region.clone(),
    };
    sqlx::query("INSERT INTO enterprises (id, uscc, name, region_code, created_at, representative_id) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(enterprise.id.clone())
        .bind(uscc.as_str().to_owned())
        .bind(enterprise.name.clone())
        .bind(region.as_str().to_owned())
        .bind(state.now())
        .bind(representative.map(str::to_owned))
        .execute(state.pool())
        .await?;
    Ok(enterprise)
}

/// Whether this enterprise has this USCC and the person is its legal representative with a
/// phone on record: the facts its account recovers on.
pub async fn represents_with_phone(
    state: &AppState,
    enterprise_id: &str,
    uscc: &Uscc,
    person_id: &str,
) -> AppResult<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM enterprises WHERE id = $1 AND uscc = $2 AND representative_id = $3",
    )
    .bind(enterprise_id.to_owned())
    .bind(uscc.as_str().to_owned())
    .bind(person_id.to_owned())
    .fetch_optional(state.pool())
    .await?;
    Ok(found.is_some() && has_phone(state, person_id).await?)
}

pub async fn enterprise(state: &AppState, id: &str) -> AppResult<Option<Enterprise>> {
    Ok(
        sqlx::query_as("SELECT id, uscc, name, region_code FROM enterprises WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(state.pool())
            .await?,
    )
}

/// Reads an enterprise the actor may see (its own account, or a clerk of its region).
/// The enterprise with this USCC, if registered (not personal data).
pub async fn enterprise_id_by_uscc(state: &AppState, uscc: &Uscc) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM enterprises WHERE uscc = $1")
            .bind(uscc.as_str().to_owned())
            .fetch_optional(state.pool())
            .await?,
    )
}

pub async fn read_enterprise(state: &AppState, actor: &Actor, id: &str) -> AppResult<Enterprise> {
    let enterprise = enterprise(state, id).await?.ok_or(AppError::NotFound)?;
    if !can(
        actor,
        Action::ReadEnterprise,
        Resource::Enterprise {
            id,
            region: &enterprise.region_code,
        },
    ) {
        return Err(AppError::NotFound);
    }
    Ok(enterprise)
}

/// How a person's match key is made: a keyed index of a spelling of their name with their birth
/// date (see `identity::matching`, which finds residents by them).
pub(crate) fn match_key(state: &AppState, spelling: &str, birth: time::Date) -> String {
    let date = format!(
        "{:04}-{:02}-{:02}",
        birth.year(),
        u8::from(birth.month()),
        birth.day()
    );
    state
        .vault
        .blind_index("holder-match", &format!("{spelling}|{date}"))
}

/// Writes a person's match keys (replacing any), and marks the person indexed.
pub(crate) async fn index_person(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    person_id: &str,
    name: &str,
    resident_id: &ResidentId,
) -> AppResult<()> {
    sqlx::query("DELETE FROM person_match_keys WHERE person_id = $1")
        .bind(person_id.to_owned())
        .execute(&mut *conn)
        .await?;
    for spelling in tongban_core::names::registered_spellings(name) {
        sqlx::query("INSERT INTO person_match_keys (match_key, person_id) VALUES ($1, $2)")
            .bind(match_key(state, &spelling, resident_id.birth_date()))
            .bind(person_id.to_owned())
            .execute(&mut *conn)
            .await?;
    }
    mark_indexed(state, conn, person_id).await
}

pub(crate) async fn mark_indexed(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    person_id: &str,
) -> AppResult<()> {
    sqlx::query("UPDATE persons SET match_keyed = $2 WHERE id = $1")
        .bind(person_id.to_owned())
        .bind(state.now())
        .execute(&mut *conn)
        .await?;
    Ok(())
}
