//! `/departments` and `/agents`: who is on the team and how loaded they are.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use shared::limits::validate_page;
use shared::model::{Agent, Department, Page};

use super::AuthAgent;
use crate::AppState;
use crate::error::{ApiQuery, ApiResult};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/departments", get(departments))
        .route("/agents", get(agents))
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<u32>,
    per_page: Option<u32>,
}

/// One page of an in-memory list; a page past the end is empty. The offset is
/// computed without overflow whatever `page` is (validation bounds it too).
fn paginate<T>(all: Vec<T>, page: u32, per_page: u32) -> Page<T> {
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let offset = u64::from(page.saturating_sub(1)) * u64::from(per_page);
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let items = all
        .into_iter()
        .skip(skip)
        .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        .collect();
    Page {
        items,
        total,
        page,
        per_page,
    }
}

async fn departments(
    State(state): State<AppState>,
    _auth: AuthAgent,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Department>>> {
    let (page, per_page) = validate_page(q.page, q.per_page)?;
    Ok(Json(paginate(
        state.store.departments().await?,
        page,
        per_page,
    )))
}

async fn agents(
    State(state): State<AppState>,
    _auth: AuthAgent,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<Json<Page<Agent>>> {
    let (page, per_page) = validate_page(q.page, q.per_page)?;
    Ok(Json(paginate(state.store.agents().await?, page, per_page)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_past_the_end_are_empty_and_never_overflow() {
        let p = paginate(vec![1, 2, 3], 2, 2);
        assert_eq!((p.items, p.total), (vec![3], 3));
        assert!(paginate(vec![1, 2, 3], u32::MAX, u32::MAX).items.is_empty());
        assert!(paginate(vec![1], 50_000_000, 100).items.is_empty());
    }
}
