//! `GET /call` and `GET /call-fallback`: the article's route, and its best-practice variant.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::error::AppError;
use crate::state::AppState;
use service_kit::strict_query::StrictQuery;

/// The query of both routes. Other parameters are ignored, as in the article; `fail` given
/// twice is refused.
#[derive(Debug, Deserialize)]
pub(crate) struct CallQuery {
    fail: Option<String>,
}

/// A good answer: `{"status":"success","data":"Service B: Success"}`, or, from the fallback,
/// `{"status":"degraded","data":"cached_data"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallReply {
    /// `success`, or `degraded` when the data is the fallback's.
    pub status: String,
    /// B's body, or the fallback's data.
    pub data: String,
}

impl CallReply {
    fn success(data: String) -> Self {
        Self {
            status: "success".to_owned(),
            data,
        }
    }

    fn degraded(data: String) -> Self {
        Self {
            status: "degraded".to_owned(),
            data,
        }
    }
}

/// `GET /call?fail=<v>`: B's answer, or a 500 saying why not.
pub(crate) async fn call(
    State(state): State<AppState>,
    StrictQuery(query): StrictQuery<CallQuery>,
) -> Result<Json<CallReply>, AppError> {
    let data = state.call_service_b(query.fail.as_deref()).await?;
    Ok(Json(CallReply::success(data)))
}

/// `GET /call-fallback?fail=<v>`: B's answer, or the last good one (`cached_data` before any),
/// marked `degraded`. Only a malformed request is an error.
pub(crate) async fn call_fallback(
    State(state): State<AppState>,
    StrictQuery(query): StrictQuery<CallQuery>,
) -> Json<CallReply> {
    match state.call_service_b(query.fail.as_deref()).await {
        Ok(data) => Json(CallReply::success(data)),
        Err(failure) => {
            debug!(reason = %failure, "serving the fallback");
            Json(CallReply::degraded(state.last_good().get_or_default()))
        }
    }
}
