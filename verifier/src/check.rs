//! `bem-verifier check`: verify one credential or presentation file without a server.
//!
//! The same pipeline as `serve` (through [`Verifier`]); the JSON output is the VC API
//! answer body. Exit codes: 0 verified, 1 not verified (the report says why), 2 the input
//! could not be read or is not JSON at all (usage errors are 2 as well, from clap).
//! `--offline` makes no network request: status lists and did:web documents are
//! reported "not checked (offline)".
//!
//! The input may also be a certificate's compact QR text (`BEM2:…`, or a verifier link
//! carrying it in its fragment, `docs/qr-compact.md`), recognised by its prefix, or a
//! photo or scan of the QR code (`--image FILE`, PNG or JPEG, read under the page's
//! limits by `page::qr_image`). A QR code holding a link to a credential is not fetched
//! here: `check` names the link.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use bem_core::verify::{Report, Status};
use serde_json::Value;

use crate::api::{response_body, RequestOptions};
use crate::config::{allowed_origins, TrustFile};
use crate::i18n::{self, Lang};
use crate::verification::{Verifier, MAX_DOCUMENT_BYTES};

/// The arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The credential or presentation file, or a compact QR text (`BEM2:…` or a link
    /// carrying it); `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// Read the certificate from a QR code in this PNG or JPEG image (a photo or scan).
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    pub image: Option<PathBuf>,
    /// Trust file (TOML) naming the trusted issuers.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// Print the VC API answer as JSON instead of the human report.
    #[arg(long)]
    pub json: bool,
    /// Make no network request at all.
    #[arg(long)]
    pub offline: bool,
    /// Allow fetching from this origin (URL prefix), even http or loopback. Repeatable.
    #[arg(long = "fetch-allow", value_name = "ORIGIN")]
    pub fetch_allow: Vec<String>,
    /// Also trust the TLS roots in this PEM file when fetching (a test CA; or BEM_FETCH_CA).
    #[arg(long = "fetch-ca", value_name = "FILE", env = "BEM_FETCH_CA")]
    pub fetch_ca: Option<PathBuf>,
    /// Resolve HOST:PORT to ADDRESS:PORT instead of asking DNS (like curl's --resolve;
    /// closed networks and tests). Repeatable.
    #[arg(long = "fetch-resolve", value_name = "HOST:PORT=ADDRESS:PORT")]
    pub fetch_resolve: Vec<String>,
}

/// The outcome of reading the input: usage-level problems exit 2.
pub struct Unreadable(pub anyhow::Error);

fn read_input(file: Option<&PathBuf>) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_DOCUMENT_BYTES).unwrap_or(u64::MAX) + 1;
    match file {
        Some(path) if path.as_os_str() != "-" => {
            std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?
                .take(limit)
                .read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        _ => {
            std::io::stdin().take(limit).read_to_end(&mut bytes).context("cannot read standard input")?;
        }
    }
    anyhow::ensure!(bytes.len() <= MAX_DOCUMENT_BYTES, "the input is larger than {MAX_DOCUMENT_BYTES} bytes");
    Ok(bytes)
}

pub fn run(args: &CheckArgs) -> Result<ExitCode, Unreadable> {
    let trust = match &args.trust {
        Some(path) => TrustFile::load(path).map_err(Unreadable)?,
        None => TrustFile::default(),
    };
    let fetcher = if args.offline {
        None
    } else {
        let origins = allowed_origins(&args.fetch_allow).map_err(Unreadable)?;
        let config =
            crate::config::fetch_config(trust.fetch_policy(origins, false), args.fetch_ca.as_deref())
                .map_err(Unreadable)?;
        Some(Arc::new(crate::config::fetcher(config, &args.fetch_resolve).map_err(Unreadable)?))
    };
    let verifier = Verifier::new(trust.trust_list(), fetcher, false);
    let bytes = match &args.image {
        Some(path) => image_text(path).map_err(Unreadable)?.into_bytes(),
        None => read_input(args.file.as_ref()).map_err(Unreadable)?,
    };
    let compact = std::str::from_utf8(&bytes).ok().and_then(bem_core::compact::find);
    let (report, document) = if let Some(text) = compact {
        let report = verifier.compact(&text);
        let document = report.payload.clone().unwrap_or(Value::Null);
        (report, document)
    } else {
        let document = bem_core::json::parse(&bytes, &Verifier::json_limits()).map_err(|e| {
            let hint = if args.image.is_some() {
                "the QR code holds neither a BEM2:/BEM1: text nor JSON"
            } else {
                "the input is neither a BEM2:/BEM1: QR text nor strict JSON"
            };
            Unreadable(anyhow::anyhow!("{hint}: {}", e.message))
        })?;
        let is_presentation = bem_core::model::has_type(&document, "VerifiablePresentation");
        let report = if is_presentation {
            verifier.presentation(&document, None, None)
        } else {
            verifier.credential(&document)
        };
        (report, document)
    };

    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let body = response_body(&report, &RequestOptions::default(), None);
        writeln!(out, "{}", serde_json::to_string_pretty(&body).unwrap_or_default())
    } else {
        out.write_all(human(&report, &document).as_bytes())
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        return Err(Unreadable(anyhow::anyhow!("cannot write the report: {e}")));
    }
    Ok(if report.verified() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The text of the QR code in an image file. A link to a credential is named, not
/// fetched (open it with the page, or save the credential and check the file).
fn image_text(path: &PathBuf) -> anyhow::Result<String> {
    use crate::page::qr_image::{self, QrError};
    let mut bytes = Vec::new();
    let limit = u64::try_from(qr_image::MAX_IMAGE_BYTES).unwrap_or(u64::MAX) + 1;
    std::fs::File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .take(limit)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let text = qr_image::decode_text(&bytes).map_err(|e| {
        let why = match e {
            QrError::TooLarge => format!("larger than {} bytes", qr_image::MAX_IMAGE_BYTES),
            QrError::TooManyPixels => format!("too large to read: {}", qr_image::size_rule()),
            QrError::NotAnImage => "neither PNG nor JPEG".to_owned(),
            QrError::Damaged => "a damaged image".to_owned(),
            QrError::NoCode => "no QR code found".to_owned(),
            QrError::Unreadable => "a QR code was found but could not be read".to_owned(),
            QrError::TooComplex => "the image is too complex to search".to_owned(),
            QrError::NotCertificate => "the QR code holds no certificate".to_owned(),
        };
        anyhow::anyhow!("{}: {why}", path.display())
    })?;
    if bem_core::compact::find(&text).is_none() && !text.trim_start().starts_with('{') {
        anyhow::bail!("{}: the QR code holds {:?}, not a certificate's compact text (open a link with the verification page)", path.display(), printable(&text));
    }
    Ok(text)
}

fn human(report: &Report, document: &Value) -> String {
    let lang = Lang::En;
    let (word, explanation) = i18n::verdict(lang, report.verdict());
    let mut out =
        format!("{}: {word}\n{explanation}\n", if report.verified() { "VERIFIED" } else { "NOT VERIFIED" });
    if let Some(issuer) = report.trusted_name.as_deref().or(report.subject_of_trust.as_deref()) {
        let role = if report.kind == "presentation" { "holder" } else { "issuer" };
        out.push_str(&format!("{role}: {}\n", printable(issuer)));
    }
    if report.kind == "credential" {
        // A sealed credential's details are in its payload, not in the envelope around it.
        let view = crate::certificate_view::CertificateView::read(
            report.payload.as_ref().unwrap_or(document),
            report.trusted_name.as_deref(),
            "en",
            "hours",
        );
        let signed =
            report.checks.iter().any(|c| matches!(c.name, "proof" | "seal") && c.status == Status::Ok);
        if let (Some(title), true) = (&view.title, signed) {
            out.push_str(&format!("title: {}\n", printable(title)));
        }
    }
    out.push('\n');
    write_checks(&mut out, report, "");
    out
}

fn write_checks(out: &mut String, report: &Report, indent: &str) {
    for c in &report.checks {
        let mark = match c.status {
            Status::Ok => "ok     ",
            Status::Failed => "FAILED ",
            Status::Skipped => "skipped",
            Status::Warning => "warning",
        };
        let code = c.code.map(|code| format!(" [{code}]")).unwrap_or_default();
        out.push_str(&format!("{indent}{mark} {:<10} {}{code}\n", c.name, printable(&c.message)));
    }
    for (i, inner) in report.credentials.iter().enumerate() {
        out.push_str(&format!("{indent}credential {i}: {:?}\n", inner.verdict()));
        write_checks(out, inner, &format!("{indent}    "));
    }
}

/// Credential text on a terminal: control characters (escape sequences) are replaced.
fn printable(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect()
}
