//! Regions and departments as every module reads them: the one way a module learns which
//! department an id, a USCC or a region is. Modules never read the administration's tables.

use super::store;
pub use super::store::{Department, Region};
use crate::error::AppResult;
use crate::state::AppState;

/// The department of this id.
pub async fn department(state: &AppState, id: &str) -> AppResult<Option<Department>> {
    store::department(state.pool(), id).await
}

/// The department with this unified social credit code.
pub async fn department_by_uscc(state: &AppState, uscc: &str) -> AppResult<Option<Department>> {
    store::department_by_uscc(state.pool(), uscc).await
}

/// Every department, by region and name.
pub async fn departments(state: &AppState) -> AppResult<Vec<Department>> {
    store::departments(state.pool()).await
}

/// The region of this code.
pub async fn region(state: &AppState, code: &str) -> AppResult<Option<Region>> {
    store::region(state.pool(), code).await
}

/// Every region, in code order.
pub async fn regions(state: &AppState) -> AppResult<Vec<Region>> {
    store::regions(state.pool()).await
}
