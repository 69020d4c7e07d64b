//! The deployment's map of its regions (`ops_boundaries`, GeoJSON), read once when the node
//! starts: the view colours the regions below the one viewed on it. A file that cannot be
//! read leaves the view without a map (said in the log), never the node without a view.

use tongban_tables::map::Boundaries;

use crate::state::AppState;

/// The boundaries this node read, if any.
pub struct RegionMap(pub Option<Boundaries>);

/// The demo city's districts: 江北区 north of the river, 江南区 south of it (drawn for the
/// demo; the city is fictional).
pub const DEMO: &str = include_str!("demo_boundaries.geojson");

/// Reads the configured file.
pub fn load(path: Option<&std::path::Path>) -> RegionMap {
    let Some(path) = path else {
        return RegionMap(None);
    };
    let read = std::fs::read(path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| Boundaries::parse(&bytes));
    match read {
        Ok(map) => {
            tracing::info!(regions = map.len(), "the operations view's map is read");
            RegionMap(Some(map))
        }
        Err(error) => {
            tracing::warn!(%error, path = %path.display(), "the region boundaries could not be read; the operations view has no map");
            RegionMap(None)
        }
    }
}

/// Writes the demo city's boundaries into the data directory, for a demo not given others.
pub fn write_demo(data_dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let path = data_dir.join("demo-boundaries.geojson");
    std::fs::write(&path, DEMO)?;
    Ok(path)
}

/// This node's map.
pub fn of(state: &AppState) -> Option<&Boundaries> {
    state
        .try_module::<RegionMap>()
        .and_then(|map| map.0.as_ref())
}
