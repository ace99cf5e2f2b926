//! The REST error type: an `ApiError` that renders as `{"error":{code,message}}` with
//! the matching HTTP status, and extractors whose rejections speak the same language.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use shared::{ApiError, ErrorBody, ErrorCode};

#[derive(Debug)]
pub struct AppError(pub ApiError);

impl From<ApiError> for AppError {
    fn from(e: ApiError) -> Self {
        AppError(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        crate::metrics::error(self.0.code, "rest");
        let status = StatusCode::from_u16(self.0.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(ErrorBody { error: self.0 })).into_response()
    }
}

pub type ApiResult<T> = Result<T, AppError>;

/// `Json<T>` whose rejections are our error body (422 invalid / 413 too_large).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Parse to a value first: serde would accept an array for a struct.
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(rej) => return Err(AppError(json_rejection(rej))),
        };
        if !value.is_object() {
            return Err(AppError(ApiError::invalid(
                "the body must be a JSON object",
            )));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| AppError(ApiError::invalid(format!("wrong JSON shape: {e}"))))
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    match rej {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::invalid("send the body as JSON with Content-Type: application/json")
        }
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::invalid(format!("malformed JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            ApiError::invalid(format!("wrong JSON shape: {}", e.body_text()))
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                ErrorCode::TooLarge,
                "request body is too large (limit 64 KiB)",
            )
        }
        other => ApiError::invalid(other.body_text()),
    }
}

/// `Query<T>` whose rejections are our error body.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(AppError(
                ApiError::invalid(format!("bad query string: {}", e.body_text())),
            )),
            Err(e) => Err(AppError(ApiError::invalid(e.body_text()))),
        }
    }
}
