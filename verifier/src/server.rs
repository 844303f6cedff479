//! The HTTP service: shared state, the router, the load limit, metrics and logs.
//!
//! Invariants: at most [`AppState::max_in_flight`] verifications on the blocking pool at a
//! time; a request that cannot get a slot within [`QUEUE_WAIT`] is answered 503
//! problem+json at once, so the server keeps answering under abuse. An async worker never waits on I/O: a fetch
//! happens only on the blocking pool (a "quick" verification runs in place without
//! network, and again on the pool if it needed any), and stops when the request is
//! dropped. `/healthz` is outside the request limit and the queue. Logs name the route,
//! status and time, never a credential, a challenge or a query string.

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
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::challenge::Challenges;
use crate::metrics::{Kind, Metrics};
use crate::problem::ApiError;
use crate::verification::{NoNetwork, Scope, Verifier};
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

    /// Runs `job` on the blocking pool once a verification slot is free. When the request
    /// is dropped (its client went away), the job's scope stops fetching.
    pub async fn verify<T: Send + 'static>(
        self: Arc<Self>,
        kind: Kind,
        job: impl FnOnce(&Scope<'_>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.slot().await?;
        self.pooled(kind, permit, job).await
    }

    /// Runs `job` in place without network when `quick` (tens of microseconds: the
    /// hand-over to a blocking thread would cost more; in-place work is bounded by the
    /// async worker threads themselves, so it takes no slot), and on the blocking pool once
    /// a slot is free when it is not quick or turned out to need a fetch.
    pub async fn verify_quick_or_pooled<T: Send + 'static>(
        self: Arc<Self>,
        kind: Kind,
        quick: bool,
        job: impl Fn(&Scope<'_>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        if quick {
            let refusals = NoNetwork::default();
            self.metrics.started();
            let start = Instant::now();
            let out = job(&self.verifier.without_network(&refusals));
            self.metrics.finished();
            if !refusals.asked() {
                self.metrics.verification(kind, start.elapsed());
                return Ok(out);
            }
        }
        let permit = self.slot().await?;
        self.pooled(kind, permit, job).await
    }

    async fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_)) | Err(_) => {
                self.metrics.turned_away();
                Err(ApiError::overloaded())
            }
        }
    }

    async fn pooled<T: Send + 'static>(
        self: Arc<Self>,
        kind: Kind,
        permit: OwnedSemaphorePermit,
        job: impl FnOnce(&Scope<'_>) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let cancelled = Arc::new(AtomicBool::new(false));
        let _cancel_when_dropped = CancelOnDrop(cancelled.clone());
        let state = self.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            state.metrics.started();
            let start = Instant::now();
            let out = job(&state.verifier.scope(Some(&cancelled)));
            state.metrics.verification(kind, start.elapsed());
            state.metrics.finished();
            out
        })
        .await;
        result.map_err(|e| ApiError::internal(&format!("verification task failed: {e}")))
    }
}

/// Sets its flag when dropped: held by a request's future, so that the flag is set when
/// the request ends, answered or abandoned.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
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
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        // Outside the request limit and the verification queue: it answers while they are full.
        .route("/healthz", get(healthz).fallback(method_not_allowed))
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

async fn method_not_allowed(method: axum::http::Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not allowed on this route"),
    )
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
    limits: bem_serve::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let bound = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("bem-verifier listening on {scheme}://{bound}");
    tracing::info!(%bound, scheme, max_in_flight = state.max_in_flight(), "listening");
    bem_serve::serve_with(listener, app(state), tls, limits, shutdown).await;
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
