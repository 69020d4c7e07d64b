//! Keys: the master key, the data keys it seals (field encryption, blind indexes), and the
//! signing keys of each authority with rotation and the signed trust list.

pub mod api;
pub mod master;
pub mod offline;
pub mod scope;
pub mod service;
pub mod signers;
pub mod store;
pub mod vault;

/// The purpose of the issuing departments' keys that sign electronic certificates.
pub const CERT_KEY: &str = "cert";

/// The keys module, as the platform registers it.
pub struct KeysModule;

impl crate::module::Module for KeysModule {
    fn name(&self) -> &'static str {
        "keys"
    }

    fn api(&self) -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
        api::routes()
    }

    fn jobs(&self, state: &crate::state::AppState) -> Vec<crate::module::Job> {
        let (loading, rotating) = (state.clone(), state.clone());
        vec![
            // Every node keeps the field keys in its own memory …
            crate::module::Job::every(
                "load field keys other nodes added",
                std::time::Duration::from_secs(60),
                move || {
                    let state = loading.clone();
                    async move {
                        state
                            .vault
                            .refresh_field_keys(state.pool())
                            .await
                            .map(|_| ())
                    }
                },
            ),
            // … and one of them starts a rotation when it is due.
            crate::module::Job::once_every(
                state.clone(),
                "rotate field keys",
                std::time::Duration::from_secs(60),
                move || {
                    let state = rotating.clone();
                    async move { rotate_field_key_when_due(&state).await.map(|_| ()) }
                },
            ),
        ]
    }
}

/// Loads field keys other nodes added, and starts a rotation when the sealing key is older
/// than `data_key_rotation_days` and none is under way. Returns the new key's id, if any.
pub async fn rotate_field_key_when_due(
    state: &crate::state::AppState,
) -> crate::error::AppResult<Option<String>> {
    state.vault.refresh_field_keys(state.pool()).await?;
    let now = state.now();
    let due = state.config.data_key_rotation_days.max(1) * 86_400_000;
    let aged = state
        .vault
        .sealing_key_at(now)
        .is_some_and(|(_, since)| now - since >= due);
    if !aged || state.vault.rotation_pending(now) {
        return Ok(None);
    }
    let id = state.vault.rotate_field_key(state.pool(), now).await?;
    tracing::info!(key = %id, "a new field key will seal from {} minutes on", vault::ROTATION_LEAD_MS / 60_000);
    Ok(Some(id))
}
