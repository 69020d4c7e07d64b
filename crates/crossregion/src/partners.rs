//! The regions this one handles applications with (跨省通办 agreements). An administrator of
//! the intake department records a partner: its region and its intake department, which a
//! recognised region's trust list must bind to an exchange key. Packages go only to partners,
//! and their catalogues are read through the gateway.

use serde::Deserialize;

use crate::authz::{Action, Resource as On, can};
use crate::error::{AppError, AppResult};
use crate::identity::model::Actor;
use crate::state::AppState;
use crate::store::{self, Partner};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerDraft {
    pub region: String,
    pub intake_uscc: String,
    pub name: String,
}

/// Records (or changes) a partner, then reads its catalogue once.
pub async fn add(state: &AppState, actor: &Actor, draft: PartnerDraft) -> AppResult<Partner> {
    let intake = crate::cases::intake_department(state)
        .await?
        .ok_or(AppError::Forbidden)?;
    if !can(
        actor,
        Action::DecideDataRequest,
        On::Department { id: &intake.id },
    ) {
        return Err(AppError::Forbidden);
    }
    let name = draft.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "1–100 characters"));
    }
    let uscc = draft.intake_uscc.trim();
    if uscc.len() > 18 || uscc.is_empty() {
        return Err(AppError::invalid("intake_uscc", "a USCC"));
    }
    let member = tongban_exchange::gateway::members::remote_member(state, uscc)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "intake_uscc",
                "no recognised region's trust list binds an exchange key to this USCC",
            )
        })?;
    if member.region != draft.region.trim() {
        return Err(AppError::invalid(
            "region",
            format!(
                "the trust list that binds this USCC is region {}'s",
                member.region
            ),
        ));
    }
    let partner = Partner {
        region: member.region.clone(),
        intake_uscc: uscc.to_owned(),
        name: name.to_owned(),
        added_by: actor.id().to_owned(),
        added_at: state.now(),
    };
    store::save_partner(state.pool(), &partner).await?;
    tracing::info!(region = %partner.region, by = %actor.id(), "a 跨省通办 partner was recorded");
    if let Err(error) = crate::intake::refresh(state, &partner).await {
        tracing::warn!(%error, region = %partner.region, "the partner's catalogue could not be read yet");
    }
    Ok(partner)
}

pub async fn list(state: &AppState) -> AppResult<Vec<Partner>> {
    store::partners(state.pool()).await
}
