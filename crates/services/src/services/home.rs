//! The catalogue's part of a holder's home: the services most applied for (常用服务), the life
//! events to browse by, and the 一件事 bundles.

use std::sync::Mutex;

use askama::Template;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How many tiles the home shows (half in large-text mode).
const TILES: usize = 8;
/// The window of demand, and how long a node keeps its reading of it.
const WINDOW_MS: i64 = 30 * 24 * 3_600_000;
const KEEP_MS: i64 = 3_600_000;

/// The node's reading of which items are most applied for: refreshed at most hourly, so a
/// home page never counts applications itself.
#[derive(Default)]
pub struct Popular(Mutex<Option<(i64, Vec<String>)>>);

/// The codes of the most applied-for items of the last thirty days, then (to fill the row)
/// fully online items in catalogue order.
async fn popular_codes(state: &AppState) -> AppResult<Vec<String>> {
    let now = state.now();
    let cached = state.try_module::<Popular>().and_then(|p| {
        p.0.lock()
            .ok()
            .and_then(|kept| kept.clone())
            .filter(|(at, _)| now - at < KEEP_MS)
    });
    if let Some((_, codes)) = cached {
        return Ok(codes);
    }
    let mut codes: Vec<String> =
        crate::applications::store::demand(state.pool(), now - WINDOW_MS, TILES as i64)
            .await?
            .into_iter()
            .map(|(code, _)| code)
            .collect();
    for item in super::store::all(state.pool()).await? {
        if codes.len() >= TILES {
            break;
        }
        if item.definition.online_depth == 4 && !codes.contains(&item.definition.code) {
            codes.push(item.definition.code);
        }
    }
    if let Some(popular) = state.try_module::<Popular>()
        && let Ok(mut kept) = popular.0.lock()
    {
        *kept = Some((now, codes.clone()));
    }
    Ok(codes)
}

/// A tile: the item's code, its name and department in the page's language, and the
/// attribute marking a name in Chinese on an English page.
struct Tile {
    code: String,
    name: String,
    department: String,
    zh: &'static str,
}

#[derive(Template)]
#[template(path = "services_home.html")]
struct Section {
    t: crate::web::i18n::Tr,
    tiles: Vec<Tile>,
    life_events: Vec<String>,
    bundles: Vec<crate::applications::bundle::BundleView>,
    zh_only: &'static str,
}

pub async fn holder_sections(
    home: crate::module::Home,
    state: &AppState,
    ctx: &crate::module::HomeCtx<'_>,
) -> AppResult<Vec<String>> {
    if home != crate::module::Home::Holder {
        return Ok(Vec::new());
    }
    let english = ctx.t.english();
    let zh_only = if english { " lang=\"zh-CN\"" } else { "" };
    let departments = crate::admin::directory::departments(state).await?;
    let mut codes = popular_codes(state).await?;
    if ctx.large_text {
        codes.truncate(TILES / 2);
    }
    let mut tiles = Vec::with_capacity(codes.len());
    for code in codes {
        let Some(stored) = super::item_by_code(state, &code).await? else {
            continue;
        };
        let item = stored.definition;
        let department = departments
            .iter()
            .find(|d| d.id == stored.department_id)
            .map(|d| if english { &d.name_en } else { &d.name })
            .cloned()
            .unwrap_or_default();
        let (name, zh) = match (&item.en, english) {
            (Some(en), true) => (en.name.clone(), ""),
            _ => (item.name.clone(), zh_only),
        };
        tiles.push(Tile {
            code,
            name,
            department,
            zh,
        });
    }
    let (_, mut life_events) = super::facets(state).await?;
    let mut bundles = crate::applications::bundle::list(state).await?;
    if ctx.large_text {
        life_events.truncate(6);
        bundles.truncate(2);
    }
    let section = Section {
        t: ctx.t,
        tiles,
        life_events,
        bundles,
        zh_only,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(vec![section])
}
