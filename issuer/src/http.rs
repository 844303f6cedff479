//! The HTTP interface: routes of the contract, content negotiation, and the mapping of
//! each request to one call of the issuing service.
//!
//! Handlers extract, call [`Issuer`] (on the blocking pool: SQLite and signing block),
//! and map the result; they hold no credential logic. Admin routes take [`Admin`] as
//! their first extractor, so a request without the token is refused before its body is
//! read.
//!
//! Routes that answer in more than one form (HTML or JSON by `Accept`) choose by
//! q-value ([`negotiate`]) and send `Vary: Accept` on every answer, so no cache hands
//! one client's form to another.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::certificate::{Learner, Profile};
use crate::issuance::{BulkStart, IssueError, Issuer};
use crate::problem::{body_bytes, Admin, ApiError, StrictJson};
use crate::status_lists::Purpose;
use crate::store::StatusChange;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub issuer: Arc<Issuer>,
    pub admin_token: Arc<str>,
    /// Failed admin-token attempts by client (429 beyond the limit).
    pub failed_auth: Arc<crate::auth_limit::FailedAuth>,
    pub issuer_name: Arc<str>,
    /// The JAdES seal, when configured (`GET /credentials/{id}/sealed`).
    pub seal: Option<Arc<crate::seal::Seal>>,
}

/// The service's routes.
pub fn router(state: AppState, max_body_bytes: usize, max_csv_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi))
        .route("/.well-known/did.json", get(did_document))
        .route("/did.json", get(did_document))
        .route("/micro-credentials", get(catalogue).layer(map_response(vary_accept)).post(put_definition))
        .route("/micro-credentials/{id}", get(definition).layer(map_response(vary_accept)))
        .route("/micro-credentials/{id}/certificates", post(award))
        .route(
            "/micro-credentials/{id}/certificates/bulk",
            post(award_bulk).layer(DefaultBodyLimit::max(max_csv_bytes)),
        )
        .route("/credentials/issue", post(issue))
        .route("/credentials/status", post(update_status))
        .route("/credentials/bulk", get(bulk_jobs))
        .route("/credentials/bulk/{job}", get(bulk_job))
        .route("/credentials/{id}", get(credential).layer(map_response(vary_accept)))
        .route("/credentials/{id}/sealed", get(crate::seal::sealed))
        .route("/credentials/{id}/qr.png", get(qr_png))
        .route("/credentials/{id}/qr.svg", get(qr_svg))
        .route("/status-lists/{id}", get(status_list))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this resource does not accept that method",
    )
}

/// Runs blocking work (SQLite, signing) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

pub(crate) fn path(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s).map_err(|e| ApiError::not_found(e.body_text()))
}

/// Adds `Vary: Accept` to an answer of a negotiated route (errors included).
async fn vary_accept(mut response: Response) -> Response {
    response.headers_mut().append(axum::http::header::VARY, HeaderValue::from_static("accept"));
    response
}

/// The media type of `offers` (server preference first) that the request's `Accept`
/// prefers (RFC 9110 §12.5.1): each offer takes the q-value of the most specific range
/// that matches it (`type/sub` over `type/*` over `*/*`); the highest q above 0 wins,
/// ties going to the earlier offer. With no `Accept`, or nothing acceptable, the first
/// offer (a 406 would help no client here).
fn negotiate(headers: &HeaderMap, offers: &[&'static str]) -> &'static str {
    let ranges: Vec<(String, u8, f32)> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let specificity = match media.as_str() {
                "*/*" => 1,
                m if m.ends_with("/*") => 2,
                m if m.contains('/') => 3,
                _ => return None,
            };
            let mut q = 1.0_f32;
            for param in parts {
                if let Some((name, value)) = param.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        q = value.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))?;
                    }
                }
            }
            Some((media, specificity, q))
        })
        .collect();
    let Some(first) = offers.first().copied() else { return "application/json" };
    if ranges.is_empty() {
        return first;
    }
    let quality = |offer: &str| -> f32 {
        let kind = offer.split('/').next().unwrap_or_default();
        ranges
            .iter()
            .filter(|(media, specificity, _)| match specificity {
                1 => true,
                2 => media.strip_suffix("/*") == Some(kind),
                _ => media == offer,
            })
            .max_by_key(|(_, specificity, _)| *specificity)
            .map_or(0.0, |(_, _, q)| *q)
    };
    let mut best = (first, 0.0_f32);
    for offer in offers {
        let q = quality(offer);
        if q > best.1 {
            best = (offer, q);
        }
    }
    best.0
}

fn json_with(content_type: &'static str, body: String) -> Response {
    ([(CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response()
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// This service's OpenAPI 3.1 document (`issuer/openapi.json`; its paths are the routes
/// above, checked by `tests/e2e.rs` `openapi`).
pub const OPENAPI: &str = include_str!("../openapi.json");

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn did_document(State(state): State<AppState>) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let doc = blocking(move || issuer.did_document().map_err(ApiError::internal)).await?;
    Ok(json_with("application/did+json", doc.to_string()))
}

async fn catalogue(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let definitions = blocking(move || issuer.db().definitions().map_err(ApiError::internal)).await?;
    if negotiate(&headers, &["application/json", "text/html"]) == "text/html" {
        return Ok(Html(crate::pages::catalogue(&definitions, &state.issuer_name)).into_response());
    }
    Ok(Json(json!({"microCredentials": definitions})).into_response())
}

async fn definition(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let id = path(id)?;
    let issuer = state.issuer.clone();
    let lookup = id.clone();
    let def = blocking(move || issuer.db().definition(&lookup).map_err(ApiError::internal))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no micro-credential {id:?} in the catalogue")))?;
    if negotiate(&headers, &["application/json", "application/ld+json"]) == "application/ld+json" {
        let elm = crate::certificate::definition_document(&def, state.issuer.public_url());
        return Ok(json_with("application/ld+json", elm.to_string()));
    }
    Ok(Json(def).into_response())
}

async fn put_definition(
    State(state): State<AppState>,
    _admin: Admin,
    StrictJson(def): StrictJson<Value>,
) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let stored = def.clone();
    let (id, created) = blocking(move || issuer.put_definition(&stored).map_err(ApiError::from)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    let location = format!("{}/micro-credentials/{id}", state.issuer.public_url());
    Ok(with_location((status, Json(def)).into_response(), &location))
}

/// `response` with a `Location` header naming `url`.
fn with_location(mut response: Response, url: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(url) {
        response.headers_mut().insert(LOCATION, v);
    }
    response
}

/// The certificate form an award asks for: `?profile=elm` (the default) or
/// `?profile=openbadges`; any other query is a 400.
fn profile(query: Option<String>) -> Result<Profile, ApiError> {
    let Some(query) = query.filter(|q| !q.is_empty()) else { return Ok(Profile::default()) };
    let bad = |detail: String| ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_VALUE_ERROR", detail);
    let mut chosen = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("profile", name)) if chosen.is_none() => {
                chosen = Some(Profile::parse(name).ok_or_else(|| {
                    bad(format!("unknown profile {name:?}: use `elm` (the default) or `openbadges`"))
                })?);
            }
            _ => return Err(bad(format!("unknown query {pair:?}: the only parameter is `profile`"))),
        }
    }
    Ok(chosen.unwrap_or_default())
}

async fn award(
    State(state): State<AppState>,
    _admin: Admin,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    StrictJson(learner): StrictJson<Learner>,
) -> Result<Response, ApiError> {
    let id = path(id)?;
    let profile = profile(query)?;
    let issuer = state.issuer.clone();
    let awarded = blocking(move || issuer.award(&id, &learner, profile).map_err(ApiError::from)).await?;
    Ok(with_location((StatusCode::CREATED, Json(&awarded)).into_response(), &awarded.links.credential))
}

async fn award_bulk(
    State(state): State<AppState>,
    _admin: Admin,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    request: Request,
) -> Result<Response, ApiError> {
    let id = path(id)?;
    let profile = profile(query)?;
    let is_csv = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or_default().trim().eq_ignore_ascii_case("text/csv"));
    if !is_csv {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "the body must be text/csv",
        ));
    }
    let key = idempotency_key(request.headers())?;
    let body: Bytes = body_bytes(request, &()).await?;
    let issuer = state.issuer.clone();
    let started = std::time::Instant::now();
    let (status, view) = blocking(move || {
        let rows = crate::bulk::parse(&body).map_err(|problems| {
            ApiError::new(StatusCode::BAD_REQUEST, "INVALID_CSV", "the CSV file cannot be used")
                .with_problems(problems.into_iter().map(Value::String).collect())
        })?;
        let digest: String = Sha256::digest(&body).iter().map(|b| format!("{b:02x}")).collect();
        let (status, job) = match issuer.start_bulk(&id, profile, key.as_deref(), &digest, rows.len())? {
            BulkStart::Run(job) => {
                issuer.award_bulk(&job, &id, rows, profile)?;
                (StatusCode::OK, job)
            }
            BulkStart::Finished(job) => (StatusCode::OK, job),
            BulkStart::Running(job) => (StatusCode::ACCEPTED, job),
        };
        let view = issuer.bulk_job(&job)?.ok_or_else(|| ApiError::internal("a bulk job vanished"))?;
        Ok((status, view))
    })
    .await?;
    let location = format!("{}/credentials/bulk/{}", state.issuer.public_url(), view.job);
    let mut body = serde_json::to_value(&view).map_err(ApiError::internal)?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("seconds".into(), json!(started.elapsed().as_secs_f64()));
    }
    Ok(with_location((status, Json(body)).into_response(), &location))
}

/// The `Idempotency-Key` of a bulk request: 1 to 255 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    match key {
        Some(k) => Ok(Some(k.to_owned())),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MALFORMED_VALUE_ERROR",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// `GET /credentials/bulk`: the newest bulk jobs (a client that left without its job's
/// address finds it here).
async fn bulk_jobs(State(state): State<AppState>, _admin: Admin) -> Result<Response, ApiError> {
    let issuer = state.issuer.clone();
    let jobs = blocking(move || issuer.bulk_jobs(100).map_err(ApiError::from)).await?;
    Ok(Json(json!({"jobs": jobs})).into_response())
}

/// `GET /credentials/bulk/{job}`: a bulk job and its rows' outcomes so far.
async fn bulk_job(
    State(state): State<AppState>,
    _admin: Admin,
    job: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let job = path(job)?;
    let issuer = state.issuer.clone();
    let lookup = job.clone();
    let view = blocking(move || issuer.bulk_job(&lookup).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no bulk job {}", crate::learner::quoted(&job))))?;
    Ok(Json(view).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRequest {
    credential: Value,
    #[serde(default)]
    options: Option<Value>,
}

async fn issue(
    State(state): State<AppState>,
    _admin: Admin,
    StrictJson(request): StrictJson<IssueRequest>,
) -> Result<Response, ApiError> {
    let options = Issuer::issue_options(request.options.as_ref())?;
    let issuer = state.issuer.clone();
    let signed = blocking(move || issuer.issue(request.credential, &options).map_err(ApiError::from)).await?;
    Ok((StatusCode::CREATED, Json(json!({"verifiableCredential": signed}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StatusRequest {
    credential_id: String,
    credential_status: StatusSelector,
    status: StatusValue,
}

/// The status to set: `true`/`false` for revocation and suspension; for messages a
/// status value as `statusMessage` writes it (`"0x0"` .. `"0x3"`), or `false` for 0.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum StatusValue {
    Flag(bool),
    Value(String),
}

impl StatusValue {
    fn for_purpose(&self, purpose: Purpose) -> Option<u8> {
        let value = match self {
            StatusValue::Flag(on) => u8::from(*on),
            StatusValue::Value(text) => u8::from_str_radix(text.strip_prefix("0x")?, 16).ok()?,
        };
        let fits = u32::from(value) < 1 << purpose.status_size();
        let flag_for_message = purpose == Purpose::Message && matches!(self, StatusValue::Flag(true));
        (fits && !flag_for_message).then_some(value)
    }

    fn to_json(&self) -> Value {
        match self {
            StatusValue::Flag(on) => Value::Bool(*on),
            StatusValue::Value(text) => Value::String(text.clone()),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StatusSelector {
    #[serde(rename = "type")]
    kind: String,
    status_purpose: String,
}

async fn update_status(
    State(state): State<AppState>,
    _admin: Admin,
    StrictJson(request): StrictJson<StatusRequest>,
) -> Result<Response, ApiError> {
    if request.credential_status.kind != "BitstringStatusListEntry" {
        return Err(IssueError::Invalid {
            code: bem_core::ProblemCode::MalformedValueError,
            problems: vec![format!(
                "credentialStatus.type {:?} is not BitstringStatusListEntry",
                request.credential_status.kind
            )],
        }
        .into());
    }
    let purpose = Purpose::parse(&request.credential_status.status_purpose).ok_or_else(|| {
        ApiError::from(IssueError::Invalid {
            code: bem_core::ProblemCode::MalformedValueError,
            problems: vec![format!(
                "statusPurpose {:?} is not revocation, suspension or message",
                request.credential_status.status_purpose
            )],
        })
    })?;
    let value = request.status.for_purpose(purpose).ok_or_else(|| {
        ApiError::from(IssueError::Invalid {
            code: bem_core::ProblemCode::MalformedValueError,
            problems: vec![match purpose {
                Purpose::Message => {
                    "status must be one of \"0x0\", \"0x1\", \"0x2\", \"0x3\" for a message".to_owned()
                }
                _ => format!("status must be true or false for {}", purpose.as_str()),
            }],
        })
    })?;
    let issuer = state.issuer.clone();
    let id = request.credential_id.clone();
    let change = blocking(move || issuer.set_status(&id, purpose, value).map_err(ApiError::from)).await?;
    let changed = matches!(change, StatusChange::Applied { changed: true, .. });
    Ok(Json(json!({
        "credentialId": request.credential_id,
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": purpose.as_str()},
        "status": request.status.to_json(),
        "changed": changed,
    }))
    .into_response())
}

async fn status_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let raw = path(id)?;
    let id: i64 = raw
        .parse()
        .ok()
        .filter(|n| *n > 0 && raw.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ApiError::not_found(format!("no status list {raw:?}")))?;
    let issuer = state.issuer.clone();
    let list = blocking(move || issuer.status_list(id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no status list {id}")))?;
    let etag = HeaderValue::from_str(&list.etag).map_err(ApiError::internal)?;
    let cache = HeaderValue::from_static("public, max-age=60, must-revalidate");
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == list.etag || t.trim() == "*"));
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, etag), (CACHE_CONTROL, cache)]).into_response());
    }
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/vc+ld+json")),
            (ETAG, etag),
            (CACHE_CONTROL, cache),
        ],
        list.body,
    )
        .into_response())
}

/// The stored credential of a link token, and its status notice.
pub(crate) async fn stored(state: &AppState, token: String) -> Result<(Value, Option<String>), ApiError> {
    if !crate::clock::is_token(&token) {
        return Err(ApiError::not_found("no such credential"));
    }
    let issuer = state.issuer.clone();
    blocking(move || {
        let db = issuer.db();
        let row = db
            .credential_by_token(&token)
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::not_found("no such credential"))?;
        let statuses = db.statuses(&token).map_err(ApiError::internal)?;
        let set = |purpose: Purpose| statuses.iter().find(|(p, v)| *p == purpose && *v != 0).map(|(_, v)| *v);
        let notice = if set(Purpose::Revocation).is_some() {
            Some("This certificate has been revoked by its issuer.".to_owned())
        } else if set(Purpose::Suspension).is_some() {
            Some("This certificate is currently suspended by its issuer.".to_owned())
        } else {
            set(Purpose::Message)
                .and_then(|v| crate::status_lists::MESSAGES.get(usize::from(v)))
                .map(|(_, message)| format!("Notice from the issuer: {message}."))
        };
        Ok((row.document, notice))
    })
    .await
}

/// `GET /credentials/{id}`: the stored credential as JSON, or its printable page for a
/// browser; `GET /credentials/{id}.pdf` (the same path segment: axum matches whole
/// segments) its PDF.
async fn credential(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let segment = path(id)?;
    if let Some(token) = segment.strip_suffix(".pdf") {
        return certificate_pdf(&state, token.to_owned()).await;
    }
    let token = segment;
    let (doc, notice) = stored(&state, token.clone()).await?;
    if negotiate(&headers, &["application/json", "text/html"]) == "text/html" {
        let signed_qr = state.issuer.verifier_url().is_some();
        return Ok(
            Html(crate::pages::certificate(&doc, &token, notice.as_deref(), signed_qr)).into_response()
        );
    }
    Ok(json_with("application/json", served_json(&doc)))
}

/// The JSON text of a stored credential as `GET /credentials/{id}` serves it, and as the
/// PDF carries it.
fn served_json(doc: &Value) -> String {
    doc.to_string()
}

/// The printable certificate as PDF (`crate::pdf`): the page's text, its QR code and the
/// served JSON attached; the same status notice as the page.
async fn certificate_pdf(state: &AppState, token: String) -> Result<Response, ApiError> {
    let (doc, notice) = stored(state, token.clone()).await?;
    let link = state.issuer.links(&token).credential;
    let (issuer, printed_token) = (state.issuer.clone(), token.clone());
    let bytes = blocking(move || {
        let (qr_text, qr_signed) =
            crate::qr::printed(&issuer, &doc, &printed_token).map_err(ApiError::internal)?;
        let qr = crate::qr::modules(&qr_text).map_err(ApiError::internal)?;
        let json = served_json(&doc);
        let input = crate::pdf::Input {
            credential: &doc,
            json: &json,
            link: &link,
            qr: &qr,
            qr_signed,
            notice: notice.as_deref(),
        };
        crate::pdf::render(&input).map_err(ApiError::internal)
    })
    .await?;
    // The token is 32 hex digits (checked by `stored`): safe in a header.
    let short = token.get(..8).unwrap_or(&token);
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"certificate-{short}.pdf\""))
        .map_err(ApiError::internal)?;
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("application/pdf")), (CONTENT_DISPOSITION, disposition)],
        bytes,
    )
        .into_response())
}

async fn qr_png(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    qr(&state, id, query, "image/png", crate::qr::png).await
}

async fn qr_svg(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    qr(&state, id, query, "image/svg+xml", |text| crate::qr::svg(text).map(String::into_bytes)).await
}

/// The QR code of a stored certificate, rendered by `render` as `content_type`: its link
/// (`?form=link`, the default) or its compact signed form (`?form=compact`, `crate::qr`).
async fn qr<E: std::fmt::Display>(
    state: &AppState,
    id: Result<Path<String>, PathRejection>,
    query: Option<String>,
    content_type: &'static str,
    render: impl Fn(&str) -> Result<Vec<u8>, E>,
) -> Result<Response, ApiError> {
    let token = path(id)?;
    let form = crate::qr::Form::parse(query.as_deref())
        .map_err(|detail| ApiError::new(StatusCode::BAD_REQUEST, "MALFORMED_VALUE_ERROR", detail))?;
    let (doc, _) = stored(state, token.clone()).await?;
    let text = match form {
        crate::qr::Form::Link => state.issuer.links(&token).credential,
        crate::qr::Form::Compact => {
            crate::qr::compact_text(&state.issuer, &doc, &token).map_err(ApiError::internal)?
        }
    };
    let body = render(&text).map_err(ApiError::internal)?;
    Ok(([(CONTENT_TYPE, HeaderValue::from_static(content_type))], body).into_response())
}
