//! Signed status lists per issuing department and certificate type (docs/certificate-format.md):
//! made on request from the stored statuses, so a revocation is in the next list fetched, and
//! signed with the department's certificate key. Verifiers cache a list until its
//! `valid_until` and check certificates offline against it.

use tongban_certs::status::{self, SignedStatusList, StatusList};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long a verifier may rely on a list (seconds).
pub const LIST_SECONDS: i64 = 600;

/// The current list of the department with this USCC for the type.
pub async fn current(
    state: &AppState,
    issuer_uscc: &str,
    type_code: &str,
) -> AppResult<SignedStatusList> {
    let department = crate::admin::directory::department_by_uscc(state, issuer_uscc)
        .await?
        .ok_or(AppError::NotFound)?;
    if !super::store::may_issue(state.pool(), type_code, &department.id).await? {
        return Err(AppError::NotFound);
    }
    let (reserved, bits) = super::store::status_bits(state, &department.id, type_code).await?;
    let size = status::list_bits(u64::try_from(reserved).unwrap_or(0));
    let listed = |wanted: &'static str| {
        bits.iter()
            .filter(move |(_, s)| s == wanted)
            .filter_map(|(index, _)| u64::try_from(*index).ok())
    };
    let now = state.now() / 1000;
    let list = StatusList {
        id: format!("{issuer_uscc}/{type_code}"),
        issuer: tongban_certs::Authority {
            name: department.name.clone(),
            code: issuer_uscc.to_owned(),
        },
        type_code: type_code.to_owned(),
        issued_at: now,
        valid_until: now + LIST_SECONDS,
        revocation: status::encode(size, listed("revoked")),
        suspension: status::encode(size, listed("suspended")),
    };
    let signer =
        crate::keys::service::cached_signer(state, &department.id, super::CERT_KEY).await?;
    Ok(status::sign(list, signer.as_ref()))
}
