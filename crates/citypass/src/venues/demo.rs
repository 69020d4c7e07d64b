//! The demo city's venues: a library and a metro station, and the citizens' entitlements.

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use tongban_platform::demo::{DemoCity, JIANGBEI, JIANGNAN};

/// Two venue kinds working end to end: a library (needs a library card on the pass) and a
/// metro station (needs the transit entitlement). Every citizen may ride; two hold library cards.
pub(crate) async fn seed_venues(state: &AppState, city: &DemoCity) -> AppResult<()> {
    let account_id = |username: &str| {
        let username = username.to_owned();
        async move {
            crate::identity::service::account_by_username(state, &username)
                .await?
                .ok_or(AppError::NotFound)
        }
    };
    let library = account_id("demo.venue").await?.id;
    crate::venues::ensure_venue(state, "江北区图书馆", "library", JIANGBEI, &library, false)
        .await?;
    let metro = account_id("demo.venue.metro").await?.id;
    // The metro station records check-ins (admissions); the library does not.
    crate::venues::ensure_venue(
        state,
        "临江地铁1号线江南站",
        "transit",
        JIANGNAN,
        &metro,
        true,
    )
    .await?;
    for citizen in city.with_role("citizen") {
        let Some(person) = account_id(&citizen.username).await?.person_id else {
            continue;
        };
        crate::venues::service::grant_entitlement(state, &person, "transit").await?;
        if matches!(
            citizen.username.as_str(),
            "citizen.zhangwei" | "citizen.wangfang"
        ) {
            crate::venues::service::grant_entitlement(state, &person, "library").await?;
        }
    }
    Ok(())
}
