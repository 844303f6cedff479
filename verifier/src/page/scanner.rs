//! The page's camera scanner, a progressive enhancement: its script (`GET /verify/scan.js`)
//! and the frame reader the script falls back on (`POST /verify/qr`), plus the one way
//! both the scanner and the page's photo upload read a QR code image.
//!
//! The script is ours (`scan.js`, next to this file), served from this binary: no outside
//! library, no CDN, no inline script (the page's CSP allows scripts from 'self' only).
//! Without JavaScript the camera button never shows, and the page's photo upload does
//! the same job.
//!
//! Invariants: a frame body is at most [`MAX_FRAME_BYTES`]; at most [`MAX_DECODES`]
//! images are read at once (each may hold tens of MiB while decoding), and each read
//! also takes a verification slot of the blocking pool (`AppState::verify`); the limits
//! of the image itself are `qr_image`'s.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::Semaphore;

use super::qr_image::{self, QrContent, QrError};
use crate::api::read_body;
use crate::metrics::Kind;
use crate::problem::ApiError;
use crate::server::{AppState, QUEUE_WAIT};

/// The scanner script.
const SCRIPT: &str = include_str!("scan.js");
/// Largest camera frame accepted by `POST /verify/qr` (the script sends JPEGs of at most
/// 1024 pixels a side, a few hundred KiB at most).
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;
/// Most QR code images read at the same time.
pub const MAX_DECODES: usize = 4;

static DECODES: Semaphore = Semaphore::const_new(MAX_DECODES);

/// The path the page loads the script from; the version in the query lets it be cached
/// for a day and still change with each release.
pub fn script_path() -> String {
    format!("/verify/scan.js?v={}", env!("CARGO_PKG_VERSION"))
}

/// `GET /verify/scan.js`: the scanner script.
pub async fn script() -> Response {
    let mut response = (StatusCode::OK, SCRIPT).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// `POST /verify/qr`: the body is one image (a camera frame); the answer is
/// `{"kind": "link" | "credential", "text": …}`, or problem+json: 413 too large, 400 not
/// a readable PNG or JPEG, 422 no usable QR code in it, 503 busy.
pub async fn decode(State(state): State<Arc<AppState>>, request: Request) -> Result<Response, ApiError> {
    let bytes = read_body(request, MAX_FRAME_BYTES).await?;
    let content = read(&state, bytes).await?.map_err(problem)?;
    let (kind, text) = match content {
        QrContent::Link(link) => ("link", link),
        QrContent::Credential(json) => ("credential", json),
    };
    let body = json!({"kind": kind, "text": text}).to_string();
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Reads the QR code of an image, at most [`MAX_DECODES`] at a time, in a verification
/// slot. `Err` only when the verifier is too busy (or the task failed).
pub async fn read(state: &Arc<AppState>, bytes: Vec<u8>) -> Result<Result<QrContent, QrError>, ApiError> {
    let Ok(Ok(_permit)) = tokio::time::timeout(QUEUE_WAIT, DECODES.acquire()).await else {
        state.metrics.turned_away();
        return Err(ApiError::overloaded());
    };
    state.clone().verify(Kind::QrImage, move |_| qr_image::read(&bytes)).await
}

fn problem(e: QrError) -> ApiError {
    let unprocessable = |code, detail| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail);
    match e {
        QrError::TooLarge => ApiError::too_large(qr_image::MAX_IMAGE_BYTES),
        QrError::TooManyPixels => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RESOURCE_LIMIT_EXCEEDED",
            format!("the image is too large to read: {}", qr_image::size_rule()),
        ),
        QrError::NotAnImage => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "PARSING_ERROR",
            "the body is not a PNG or JPEG image",
        ),
        QrError::Damaged => ApiError::bad_request("PARSING_ERROR", "the image could not be decoded"),
        QrError::NoCode => unprocessable("QR_CODE_NOT_FOUND", "no QR code was found in the image"),
        QrError::Unreadable => {
            unprocessable("QR_CODE_UNREADABLE", "a QR code was found but could not be read")
        }
        QrError::TooComplex => {
            unprocessable("RESOURCE_LIMIT_EXCEEDED", "the image is too busy to search for a QR code")
        }
        QrError::NotCertificate => {
            unprocessable("QR_CODE_NOT_A_CERTIFICATE", "the QR code holds neither a link nor a credential")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verification::Verifier;
    use axum::body::Body;
    use bem_core::trust::TrustList;
    use http_body_util::BodyExt;
    use image::{ImageEncoder, Luma};

    fn state() -> Arc<AppState> {
        Arc::new(AppState::new(Verifier::new(TrustList::default(), None, false)))
    }

    fn png_of(image: &image::GrayImage) -> Vec<u8> {
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(image.as_raw(), image.width(), image.height(), image::ExtendedColorType::L8)
            .unwrap();
        out
    }

    async fn post(body: Vec<u8>) -> (StatusCode, serde_json::Value) {
        let request = Request::builder().method("POST").body(Body::from(body)).unwrap();
        let response = match decode(State(state()), request).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn frames_answer_json_or_problems() {
        let link = "https://issuer.example/credentials/42";
        let code = qrcode::QrCode::new(link).unwrap().render::<Luma<u8>>().min_dimensions(200, 200).build();
        let (status, body) = post(png_of(&code)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({"kind": "link", "text": link}));

        let (status, body) = post(png_of(&image::GrayImage::from_pixel(64, 64, Luma([255])))).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("QR_CODE_NOT_FOUND"))
        );
        let (status, _) = post(b"not an image".to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let (status, body) = post(vec![0; MAX_FRAME_BYTES + 1]).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("RESOURCE_LIMIT_EXCEEDED"))
        );
    }

    #[tokio::test]
    async fn the_script_is_served_as_javascript_and_cached() {
        let response = script().await;
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert!(response.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = std::str::from_utf8(&body).unwrap();
        assert!(text.contains("getUserMedia") && text.contains("/verify/qr"));
        assert!(script_path().starts_with("/verify/scan.js?v="));
    }
}
