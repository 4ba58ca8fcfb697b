//! `GET /call` and `GET /call-fallback`: the article's route, and its best-practice variant,
//! and the call to B both make, which runs to its end whoever hangs up.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tracing::debug;

use crate::error::AppError;
use crate::forwarded::ForwardedQuery;
use crate::state::AppState;
use crate::upstream::{BulkheadFull, CallError};

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
    ForwardedQuery(query): ForwardedQuery<CallQuery>,
) -> Result<Json<CallReply>, AppError> {
    let data = state.call_service_b(query.fail.as_deref()).await?;
    Ok(Json(CallReply::success(data)))
}

/// `GET /call-fallback?fail=<v>`: B's answer, or the last good one (`cached_data` before any),
/// marked `degraded`. Only a malformed request is an error.
pub(crate) async fn call_fallback(
    State(state): State<AppState>,
    ForwardedQuery(query): ForwardedQuery<CallQuery>,
) -> Json<CallReply> {
    match state.call_service_b(query.fail.as_deref()).await {
        Ok(data) => Json(CallReply::success(data)),
        Err(failure) => {
            debug!(reason = %failure, "serving the fallback");
            Json(CallReply::degraded(state.last_good().get_or_default()))
        }
    }
}

impl AppState {
    /// Calls B's `/api` with `fail` through the client stack, and remembers a good answer for
    /// the fallback.
    ///
    /// The call runs in a task of its own, so it runs to its end, bounded by the per-attempt
    /// timeout and the deadline, even if the client hangs up and the handler is dropped: its
    /// outcome is recorded by the breaker, a good answer still reaches the cache, and a
    /// half-open probe keeps its slot until B has answered, so no more than
    /// `half_open_max_calls` calls reach B per half-open episode whatever the clients do. At
    /// most `--max-connections` such calls run at once; beyond, a call is refused at once, as a
    /// full bulkhead is.
    ///
    /// # Errors
    ///
    /// A [`CallError`]: a refusal by the breaker or a bulkhead without touching B, B's
    /// failure, or the deadline.
    pub async fn call_service_b(&self, fail: Option<&str>) -> Result<String, CallError> {
        let (places, most) = self.calls_in_flight();
        let Ok(place) = Arc::clone(places).try_acquire_owned() else {
            return Err(CallError::BulkheadFull(BulkheadFull::new(
                most,
                Duration::ZERO,
            )));
        };
        let url = self.service_b().url(fail);
        let state = self.clone();
        let call = tokio::spawn(async move {
            let _place = place;
            let result = state.service_b().call(url).await;
            if let Ok(body) = &result {
                // Within --max-response-bytes: a bigger body is a failure, never an answer.
                state.last_good().store(body);
            }
            result
        });
        call.await.unwrap_or_else(|err| {
            // Only a panic in the stack ends the task early; the runtime is not shutting down
            // while a handler awaits it.
            Err(CallError::Other {
                url: self.service_b().url(fail),
                reason: format!("the call to service B ended abnormally: {err}"),
            })
        })
    }
}
