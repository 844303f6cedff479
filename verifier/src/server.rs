//! The HTTP service: shared state, the router, the load limit, metrics and logs.
//!
//! Invariants: verification (CPU-bound, and the fetcher blocks) runs on the blocking
//! pool, at most [`AppState::max_in_flight`] at a time; a request that cannot get a slot
//! within [`QUEUE_WAIT`] is answered 503 problem+json at once, so the server keeps
//! answering under abuse. Logs name the route, status and time, never a credential,
//! a challenge or a query string.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;

use crate::challenge::Challenges;
use crate::metrics::{Kind, Metrics};
use crate::problem::ApiError;
use crate::verification::Verifier;
use crate::{api, page};

/// How long a request waits for a verification slot before it is turned away.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Most requests handled at once (bodies being read included); more are answered 503
/// at once, so slow or huge uploads cannot exhaust memory.
pub const MAX_REQUESTS: usize = 512;

/// Everything the handlers share. Holds no data about past requests but caches.
pub struct AppState {
    pub verifier: Verifier,
    pub challenges: Challenges,
    pub metrics: Metrics,
    slots: Arc<Semaphore>,
    max_in_flight: usize,
    requests: Arc<Semaphore>,
}

impl AppState {
    pub fn new(verifier: Verifier) -> Self {
        let cpus = std::thread::available_parallelism().map(std::num::NonZero::get).unwrap_or(2);
        let max_in_flight = (cpus * 4).max(4);
        Self {
            verifier,
            challenges: Challenges::new(),
            metrics: Metrics::default(),
            slots: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            requests: Arc::new(Semaphore::new(MAX_REQUESTS)),
        }
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// Runs `job` on the blocking pool once a verification slot is free.
    pub async fn verify<T: Send + 'static>(
        self: Arc<Self>,
        kind: Kind,
        job: impl FnOnce(&Verifier) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        self.verify_quick_or_pooled(kind, false, job).await
    }

    /// Runs `job` once a verification slot is free: in place when `quick` (no network,
    /// tens of microseconds: the hand-over to a blocking thread would cost more), else on
    /// the blocking pool.
    pub async fn verify_quick_or_pooled<T: Send + 'static>(
        self: Arc<Self>,
        kind: Kind,
        quick: bool,
        job: impl FnOnce(&Verifier) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = match tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => {
                self.metrics.turned_away();
                return Err(ApiError::overloaded());
            }
        };
        if quick {
            let _permit = permit;
            self.metrics.started();
            let start = Instant::now();
            let out = job(&self.verifier);
            self.metrics.verification(kind, start.elapsed());
            self.metrics.finished();
            return Ok(out);
        }
        let state = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            state.metrics.started();
            let start = Instant::now();
            let out = job(&state.verifier);
            state.metrics.verification(kind, start.elapsed());
            state.metrics.finished();
            out
        })
        .await;
        result.map_err(|e| ApiError::internal(&format!("verification task failed: {e}")))
    }
}

/// The whole router.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/credentials/verify", post(api::verify_credential))
        .route("/presentations/verify", post(api::verify_presentation))
        .route("/challenges", post(api::challenges))
        .route(
            "/verify",
            get(page::show).post(page::submit).layer(DefaultBodyLimit::max(page::MAX_FORM_BYTES)),
        )
        .route("/verify/scan.js", get(page::scanner::script))
        .route("/verify/qr", post(page::scanner::decode))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// This service's OpenAPI 3.1 document (`verifier/openapi.json`; its paths are the routes
/// above, checked by `tests/verifier.rs` `openapi`).
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn healthz() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], r#"{"status":"ok"}"#)
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route")
}

/// Counts and logs every request by route template and status; sheds load beyond
/// [`MAX_REQUESTS`].
async fn track(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = request.method().clone();
    let start = Instant::now();
    let response = match state.requests.clone().try_acquire_owned() {
        Ok(_permit) => next.run(request).await,
        Err(_) => {
            state.metrics.turned_away();
            ApiError::overloaded().into_response()
        }
    };
    let status = response.status().as_u16();
    state.metrics.request(&route, status);
    tracing::info!(%method, route, status, ms = start.elapsed().as_millis() as u64, "request");
    response
}

/// Serves until `shutdown` completes, over TLS when `tls` is given; prints the bound
/// address first (port 0 is allowed), as `https://` with TLS.
pub async fn serve(
    listen: SocketAddr,
    state: Arc<AppState>,
    tls: Option<bem_serve::Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("bem-verifier listening on {scheme}://{bound}");
    tracing::info!(%bound, scheme, max_in_flight = state.max_in_flight(), "listening");
    bem_serve::serve(listener, app(state), tls, shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bem_core::trust::TrustList;

    #[tokio::test]
    async fn a_full_verifier_turns_requests_away_with_503() {
        let state = Arc::new(AppState::new(Verifier::new(TrustList::default(), None, false)));
        let held = state
            .slots
            .clone()
            .acquire_many_owned(u32::try_from(state.max_in_flight()).unwrap())
            .await
            .unwrap();
        let e = state.clone().verify(Kind::Credential, |_| ()).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(state.metrics.render().contains("bem_verifier_overloaded_total 1"));
        drop(held);
        assert!(state.clone().verify(Kind::Credential, |_| 7).await.is_ok());
    }
}
