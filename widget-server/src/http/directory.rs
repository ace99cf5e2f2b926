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

fn paginate<T>(all: Vec<T>, page: u32, per_page: u32) -> Page<T> {
    let total = all.len() as i64;
    let items = all
        .into_iter()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
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
