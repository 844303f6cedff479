//! The employer's verification page, `GET /verify` and `POST /verify`: server-rendered
//! HTML that works without JavaScript.
//!
//! Four ways in, all without JavaScript: paste the JSON (form-urlencoded), upload the
//! file (multipart), open a link (`/verify?credential=URL`, fetched by bem-fetch under
//! the fetch policy), or upload a photo or screenshot of the QR code (multipart field
//! `qr`, read here by [`qr_image`]; a link in it is opened exactly like `?credential=`,
//! a credential in it is verified like a pasted one). The compact signed QR text
//! (`BEM2:…`, `docs/qr-compact.md`) is accepted wherever a credential is, bare or as a
//! verifier link. With JavaScript, a camera scanner ([`scanner`]) is offered as well, and
//! a `/verify#BEM2:…` link (what a phone's camera opens) is submitted by the script; the
//! fragment never reaches the server. The result page leads with one large verdict (valid,
//! unknown issuer, revoked, suspended, expired, not genuine…), then the certificate's
//! details — only when its signature verified — then every check with its result.
//!
//! Invariants: every text that comes from a credential, a URL or a check message is
//! HTML-escaped (AC-30); the page loads nothing from elsewhere: its
//! Content-Security-Policy allows only the verifier's own script file (no inline script)
//! and requests to itself; the verdict comes only from the core's `Report::verdict`.

pub mod qr_image;
pub mod scanner;

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bem_core::verify::{Report, Status, Verdict};
use serde::Deserialize;
use serde_json::Value;

use self::qr_image::QrContent;
use crate::api::read_body;
use crate::certificate_view::CertificateView;
use crate::i18n::{self, Lang, Texts};
use crate::metrics::Kind;
use crate::problem::ApiError;
use crate::server::AppState;
use crate::verification::MAX_DOCUMENT_BYTES;

/// Largest pasted form body (a pasted credential is URL-encoded, so up to three times
/// larger).
pub const MAX_PASTE_BYTES: usize = 4 * MAX_DOCUMENT_BYTES;
/// Largest body of `/verify`: an uploaded QR code photo and the form around it.
pub const MAX_FORM_BYTES: usize = qr_image::MAX_IMAGE_BYTES + 64 * 1024;

/// The query of `GET /verify`.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    credential: Option<String>,
    lang: Option<String>,
}

/// Escapes text for HTML element content and quoted attribute values.
pub use bem_core::text::escape_html as esc;

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

/// `GET /verify`: the form, or the result for `?credential=URL`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let lang = Lang::choose(query.lang.as_deref(), accept_language(&headers));
    let Some(url) = query.credential.filter(|u| !u.trim().is_empty()) else {
        return form_page(StatusCode::OK, lang, None);
    };
    verify_link(&state, lang, url.trim().to_owned()).await
}

/// Fetches the credential at `url` (under the fetch policy) and shows its result.
async fn verify_link(state: &Arc<AppState>, lang: Lang, url: String) -> Response {
    let outcome = state
        .clone()
        .verify(Kind::Credential, move |v| {
            let Some(fetcher) = v.fetcher() else {
                return Err("this verifier works offline and opens no links".to_owned());
            };
            match fetcher.fetch_json(&url) {
                Ok(doc) => Ok((v.credential(&doc), Value::clone(&doc))),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
    match outcome {
        Ok(Ok((report, doc))) => html(StatusCode::OK, lang, &result(lang, &report, Some(&doc))),
        Ok(Err(reason)) => html(StatusCode::BAD_REQUEST, lang, &failure(lang, &reason)),
        Err(e) => page_error(lang, &e),
    }
}

/// `POST /verify`: a pasted (form-urlencoded) or uploaded (multipart) credential, or an
/// uploaded image of its QR code (multipart).
pub async fn submit(State(state): State<Arc<AppState>>, headers: HeaderMap, request: Request) -> Response {
    let header_lang = accept_language(&headers).map(str::to_owned);
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"));
    let fields =
        if is_multipart { multipart_fields(request).await } else { urlencoded_fields(request).await };
    let fields = match fields {
        Ok(f) => f,
        Err(e) => {
            let lang = Lang::choose(None, header_lang.as_deref());
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                return form_page(e.status(), lang, Some(lang.texts().upload_too_large));
            }
            return page_error(lang, &e);
        }
    };
    let lang = Lang::choose(fields.lang.as_deref(), header_lang.as_deref());
    let t = lang.texts();
    if let Some(image) = fields.qr_image {
        return match scanner::read(&state, image).await {
            Ok(Ok(QrContent::Link(url))) => verify_link(&state, lang, url).await,
            Ok(Ok(QrContent::Credential(json))) => verify_bytes(&state, lang, json.into_bytes()).await,
            Ok(Err(e)) => {
                let status = match e {
                    qr_image::QrError::TooLarge | qr_image::QrError::TooManyPixels => {
                        StatusCode::PAYLOAD_TOO_LARGE
                    }
                    qr_image::QrError::NotAnImage | qr_image::QrError::Damaged => StatusCode::BAD_REQUEST,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                form_page(status, lang, Some(i18n::qr_error(lang, e)))
            }
            Err(e) => page_error(lang, &e),
        };
    }
    if fields.qr_form && fields.credential.is_none() {
        return form_page(StatusCode::BAD_REQUEST, lang, Some(t.qr_choose));
    }
    let bytes = fields.credential.unwrap_or_default();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return form_page(StatusCode::BAD_REQUEST, lang, Some(t.paste_hint));
    }
    verify_bytes(&state, lang, bytes).await
}

/// Verifies a credential given as bytes (pasted, uploaded, or read from a QR code).
async fn verify_bytes(state: &Arc<AppState>, lang: Lang, bytes: Vec<u8>) -> Response {
    let outcome = state
        .clone()
        .verify(Kind::Credential, move |v| {
            // A certificate's compact QR text (`BEM2:…`, or a link carrying it): what the
            // page's script sends from a `#BEM2:…` fragment, a scan or a paste.
            if let Some(text) = std::str::from_utf8(&bytes).ok().and_then(bem_core::compact::find) {
                let report = v.compact(&text);
                let doc = report.payload.clone();
                return (report, doc);
            }
            let doc = bem_core::json::parse(&bytes, &crate::verification::Verifier::json_limits()).ok();
            // A presentation is checked as one (its holder binding included); the page shows
            // its first credential.
            if let Some(vp) = doc.as_ref().filter(|d| bem_core::model::has_type(d, "VerifiablePresentation"))
            {
                let report = v.presentation(vp, None, None);
                let first = report.credentials.first().and_then(|c| c.payload.clone()).or_else(|| {
                    vp.get("verifiableCredential").map(bem_core::json::items).and_then(|c| c.first()).cloned()
                });
                return (report, first);
            }
            let report = v.credential_bytes(&bytes);
            (report, doc)
        })
        .await;
    match outcome {
        Ok((report, doc)) => html(StatusCode::OK, lang, &result(lang, &report, doc.as_ref())),
        Err(e) => page_error(lang, &e),
    }
}

/// What a form sent.
#[derive(Default)]
struct Fields {
    /// The credential: the uploaded file, else the pasted text.
    credential: Option<Vec<u8>>,
    /// An image of the credential's QR code (it wins over `credential`).
    qr_image: Option<Vec<u8>>,
    /// Whether the form was the QR code photo's (with or without a photo chosen).
    qr_form: bool,
    lang: Option<String>,
}

async fn urlencoded_fields(request: Request) -> Result<Fields, ApiError> {
    let body = read_body(request, MAX_PASTE_BYTES).await?;
    let mut fields = Fields::default();
    for (name, value) in url::form_urlencoded::parse(&body) {
        match name.as_ref() {
            "credential" => fields.credential = Some(value.into_owned().into_bytes()),
            "lang" => fields.lang = Some(value.into_owned()),
            _ => {}
        }
    }
    Ok(fields)
}

async fn multipart_fields(request: Request) -> Result<Fields, ApiError> {
    let bad =
        |e: String| ApiError::bad_request("PARSING_ERROR", format!("the upload could not be read: {e}"));
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| bad(e.body_text()))?;
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(MAX_FORM_BYTES)
        } else {
            bad(e.body_text())
        }
    };
    let mut file: Option<Vec<u8>> = None;
    let mut pasted: Option<Vec<u8>> = None;
    let mut fields = Fields::default();
    while let Some(field) = multipart.next_field().await.map_err(failed)? {
        let name = field.name().unwrap_or_default().to_owned();
        let data = field.bytes().await.map_err(failed)?;
        match name.as_str() {
            "file" if !data.is_empty() => file = Some(data.to_vec()),
            "credential" if !data.is_empty() => pasted = Some(data.to_vec()),
            "qr" => {
                fields.qr_form = true;
                if !data.is_empty() {
                    fields.qr_image = Some(data.to_vec());
                }
            }
            "lang" => fields.lang = Some(String::from_utf8_lossy(&data).into_owned()),
            _ => {}
        }
    }
    fields.credential = file.or(pasted);
    Ok(fields)
}

/// The page's Content-Security-Policy: nothing from elsewhere, scripts only from the
/// verifier's own files (no inline script), requests only to itself.
pub const CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The form, with a message above it (an error, in `lang`) and the camera scanner's script.
fn form_page(status: StatusCode, lang: Lang, message: Option<&str>) -> Response {
    let script = format!(r#"<script src="{}" defer></script>"#, esc(&scanner::script_path()));
    document(status, lang, &form(lang, message), &script)
}

fn html(status: StatusCode, lang: Lang, main: &str) -> Response {
    document(status, lang, main, "")
}

fn document(status: StatusCode, lang: Lang, main: &str, head: &str) -> Response {
    let t = lang.texts();
    let page = format!(
        r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{STYLE}</style>
{head}
</head>
<body>
<header><nav aria-label="{language}"><a href="/verify?lang=en" lang="en" hreflang="en">English</a> · <a href="/verify?lang=uk" lang="uk" hreflang="uk">Українська</a></nav></header>
<main>
{main}
</main>
</body>
</html>
"#,
        code = lang.code(),
        title = esc(t.page_title),
        language = esc(t.language),
    );
    let mut response = (status, page).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn page_error(lang: Lang, e: &ApiError) -> Response {
    html(e.status(), lang, &failure(lang, e.detail()))
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.5;color:#1a1a1a;background:#fff;margin:0}
header{padding:.5rem 1rem;text-align:right}
main{max-width:46rem;margin:0 auto;padding:0 1rem 3rem}
h1{font-size:1.6rem}
a{color:#0b4f9c}
a:focus,button:focus,input:focus,textarea:focus{outline:3px solid #f0b400;outline-offset:2px}
label{display:block;font-weight:600;margin-top:1.2rem}
.hint{margin:.1rem 0 .3rem;color:#444;font-size:.95rem}
textarea,input[type=url],input[type=file]{width:100%;box-sizing:border-box;font-size:1rem;padding:.5rem;border:2px solid #555;border-radius:4px}
textarea{font-family:ui-monospace,monospace}
button{margin-top:.8rem;font-size:1.05rem;padding:.6rem 1.4rem;background:#0b4f9c;color:#fff;border:0;border-radius:4px;cursor:pointer}
[hidden]{display:none!important}
.scan{margin:-.7rem 0 1.5rem}
.scan video{display:block;width:100%;max-width:30rem;margin-top:.8rem;background:#000;border-radius:4px}
.scan .secondary{background:#444}
form{margin-bottom:1.5rem}
.verdict{border-radius:8px;padding:1rem 1.2rem;margin:1rem 0;color:#fff}
.verdict-word{font-size:2.2rem;font-weight:700;margin:0}
.verdict p{margin:.3rem 0 0}
.good{background:#0b6b2e}.warn{background:#7a4a00}.bad{background:#a4161a}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.3rem 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.checks{list-style:none;padding:0}
.checks li{border-left:6px solid #999;padding:.3rem .7rem;margin:.4rem 0;background:#f5f5f5;overflow-wrap:anywhere}
.checks .ok{border-color:#0b6b2e}.checks .failed{border-color:#a4161a}.checks .warning{border-color:#b36b00}
@media (max-width:30rem){dl{grid-template-columns:1fr}dt{margin-top:.5rem}}
";

fn form(lang: Lang, message: Option<&str>) -> String {
    let t = lang.texts();
    let code = lang.code();
    let mut out = format!("<h1>{}</h1>\n<p>{}</p>\n", esc(t.page_title), esc(t.intro));
    if let Some(m) = message {
        let _ = writeln!(out, r#"<p role="alert"><strong>{}</strong></p>"#, esc(m));
    }
    let _ = write!(
        out,
        r#"<form method="post" action="/verify" id="form-paste">
<input type="hidden" name="lang" value="{code}">
<label for="credential">{paste}</label>
<p class="hint" id="credential-hint">{paste_hint}</p>
<textarea id="credential" name="credential" rows="10" aria-describedby="credential-hint" spellcheck="false"></textarea>
<button type="submit">{verify}</button>
</form>
<form method="post" action="/verify" enctype="multipart/form-data" id="form-file">
<input type="hidden" name="lang" value="{code}">
<label for="file">{upload}</label>
<input type="file" id="file" name="file" accept=".json,.jsonld,application/json,application/ld+json">
<button type="submit">{verify}</button>
</form>
<form method="post" action="/verify" enctype="multipart/form-data" id="form-qr">
<input type="hidden" name="lang" value="{code}">
<label for="qr">{qr}</label>
<p class="hint" id="qr-hint">{qr_hint}</p>
<input type="file" id="qr" name="qr" accept="image/*" capture="environment" aria-describedby="qr-hint">
<button type="submit">{verify}</button>
</form>
<div id="scan" class="scan" hidden data-lang="{code}" data-starting="{starting}" data-looking="{looking}" data-found="{found}" data-denied="{denied}" data-not-certificate="{not_certificate}" data-stopped="{stopped}">
<button type="button" id="scan-start">{scan}</button>
<div id="scan-view" hidden>
<video id="scan-video" muted playsinline aria-label="{camera_view}"></video>
<button type="button" id="scan-stop" class="secondary">{stop}</button>
</div>
<p id="scan-status" role="status" aria-live="polite"></p>
</div>
<form method="get" action="/verify" id="form-link">
<input type="hidden" name="lang" value="{code}">
<label for="link">{link}</label>
<p class="hint" id="link-hint">{link_hint}</p>
<input type="url" id="link" name="credential" inputmode="url" aria-describedby="link-hint" placeholder="https://">
<button type="submit">{open}</button>
</form>
"#,
        paste = esc(t.paste_label),
        paste_hint = esc(t.paste_hint),
        verify = esc(t.verify_button),
        upload = esc(t.upload_label),
        qr = esc(t.qr_label),
        qr_hint = esc(t.qr_hint),
        starting = esc(t.scan_starting),
        looking = esc(t.scan_looking),
        found = esc(t.scan_found),
        denied = esc(t.scan_denied),
        not_certificate = esc(t.scan_not_certificate),
        stopped = esc(t.scan_stopped),
        scan = esc(t.scan_button),
        camera_view = esc(t.camera_view),
        stop = esc(t.scan_stop),
        link = esc(t.link_label),
        link_hint = esc(t.link_hint),
        open = esc(t.open_button),
    );
    out
}

fn failure(lang: Lang, reason: &str) -> String {
    let t = lang.texts();
    format!(
        r#"<section class="verdict warn" role="status" data-verdict="not-checked"><p class="verdict-word">{}</p><p>{}</p></section>
<p><a href="/verify?lang={}">{}</a></p>
"#,
        esc(t.could_not_check),
        esc(reason),
        lang.code(),
        esc(t.another)
    )
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "good",
        Verdict::UnknownIssuer | Verdict::StatusUnknown | Verdict::NotYetValid | Verdict::NoCredential => {
            "warn"
        }
        Verdict::Revoked
        | Verdict::Suspended
        | Verdict::Expired
        | Verdict::NotGenuine
        | Verdict::WrongHolder => "bad",
    }
}

fn result(lang: Lang, report: &Report, doc: Option<&Value>) -> String {
    let t: &Texts = lang.texts();
    let verdict = report.verdict();
    let (word, explanation) = i18n::verdict(lang, verdict);
    let class = verdict_class(verdict);
    let symbol = match class {
        "good" => "✓",
        "warn" => "!",
        _ => "✗",
    };
    let slug =
        serde_json::to_value(verdict).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let mut out = format!(
        r#"<h1>{title}</h1>
<section class="verdict {class}" role="status" aria-labelledby="verdict" data-verdict="{slug}">
<p class="verdict-word" id="verdict"><span aria-hidden="true">{symbol}</span> {word}</p>
<p>{explanation}</p>
</section>
"#,
        title = esc(t.page_title),
        slug = esc(&slug),
        word = esc(word),
        explanation = esc(explanation),
    );
    // A sealed credential's details are in its payload, not in the envelope around it.
    // A presentation shows its first credential, under that credential's issuer.
    let shown = if report.kind == "presentation" { report.credentials.first() } else { Some(report) };
    match (report.payload.as_ref().or(doc), shown) {
        (Some(doc), Some(shown)) if verdict != Verdict::NotGenuine => {
            let mut view = CertificateView::read(doc, shown.trusted_name.as_deref(), lang.code(), t.hours);
            if !shown.trusted() {
                // A name the credential gives itself is not vouched for: say so, with the DID.
                let id = shown.subject_of_trust.as_deref().unwrap_or_default();
                view.issuer = Some(match view.issuer.take() {
                    Some(name) if name != id => format!("{name} — {id} ({})", t.issuer_unlisted),
                    _ => format!("{id} ({})", t.issuer_unlisted),
                });
            }
            out.push_str(&details(t, &view));
            // Who handed the certificate over is shown only by a presentation bound to it.
            let bound = report.checks.iter().any(|c| c.name == "presenter" && c.status == Status::Ok);
            if !bound {
                let _ = writeln!(
                    out,
                    "<p class=\"note\" data-holder=\"not-shown\">{}</p>",
                    esc(t.holder_not_shown)
                );
            }
        }
        _ => {
            let _ = writeln!(out, "<p>{}</p>", esc(t.unconfirmed));
        }
    }
    let _ = writeln!(out, "<h2>{}</h2>\n<ul class=\"checks\">", esc(t.checks));
    for check in &report.checks {
        let status_class = match check.status {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Warning => "warning",
        };
        let _ = writeln!(
            out,
            r#"<li class="{status_class}"><strong>{}</strong>: {} — {}</li>"#,
            esc(&i18n::check_name(lang, check.name)),
            esc(i18n::status_word(lang, check.status)),
            esc(&check.message),
        );
    }
    let _ = writeln!(out, "</ul>\n<p><a href=\"/verify?lang={}\">{}</a></p>", lang.code(), esc(t.another));
    out
}

fn details(t: &Texts, view: &CertificateView) -> String {
    let mut out = String::from("<dl>\n");
    let mut row = |label: &str, value: &Option<String>| {
        if let Some(v) = value {
            let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", esc(label), esc(v));
        }
    };
    row(t.learner, &view.learner);
    row(t.title, &view.title);
    row(t.issuer, &view.issuer);
    row(t.date, &view.date);
    row(t.valid_until, &view.valid_until);
    row(t.eqf, &view.eqf_level);
    row(t.nqf, &view.nqf_level);
    if !view.workload.is_empty() {
        row(t.workload, &Some(view.workload.join(", ")));
    }
    out.push_str("</dl>\n");
    if !view.outcomes.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>\n<ul>", esc(t.outcomes));
        for o in &view.outcomes {
            let _ = writeln!(out, "<li>{}</li>", esc(o));
        }
        out.push_str("</ul>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_in_the_texts_are_the_limits_in_force() {
        assert_eq!(qr_image::MAX_IMAGE_BYTES, 4 * 1024 * 1024, "texts say 4 MB");
        assert_eq!(qr_image::MAX_SIDE, 4096, "texts say 4096 × 4096");
        for lang in [Lang::En, Lang::Uk] {
            assert!(lang.texts().qr_hint.contains('4'));
            assert!(i18n::qr_error(lang, qr_image::QrError::TooManyPixels).contains("4096"));
        }
        const { assert!(MAX_FORM_BYTES > qr_image::MAX_IMAGE_BYTES && MAX_FORM_BYTES > MAX_PASTE_BYTES) };
    }

    #[test]
    fn the_form_offers_the_camera_only_to_scripts() {
        let page = form(Lang::Uk, None);
        assert!(page.contains(r#"<div id="scan" class="scan" hidden"#), "{page}");
        assert!(page.contains(r#"name="qr" accept="image/*" capture="environment""#));
        assert!(page.contains(r#"<label for="qr">"#) && page.contains("Сканувати QR-код камерою"));
        assert!(!page.contains("<script"), "no inline script");
    }

    #[test]
    fn escaping_covers_text_and_attributes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
