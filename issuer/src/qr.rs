//! QR codes of certificates, as PNG and SVG: the certificate's link, or its compact
//! signed form (`BEM2:`, `bem_core::compact`, `docs/qr-compact.md`), which a verifier
//! checks with no network. With a verifier URL configured, the compact form is a link to
//! its page carrying the text in the fragment (`…/verify#BEM2:…`), so that a phone's
//! camera opens the result and the text never reaches a server log.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde_json::Value;

use crate::issuance::Issuer;

/// What a certificate's QR code holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The link to the certificate (`?form=link`, the default).
    Link,
    /// The compact signed certificate (`?form=compact`).
    Compact,
}

impl Form {
    /// `?form=link|compact`; nothing is [`Form::Link`]; any other query is an error.
    pub fn parse(query: Option<&str>) -> Result<Form, String> {
        match query.filter(|q| !q.is_empty()) {
            None | Some("form=link") => Ok(Form::Link),
            Some("form=compact") => Ok(Form::Compact),
            Some(other) => {
                Err(format!("unknown query {other:?}: use `form=link` (the default) or `form=compact`"))
            }
        }
    }
}

/// How long a compact text stays valid: 12 calendar months from the start of the (UTC)
/// day it is made. A compact text verified with no network cannot learn that the
/// certificate was revoked or suspended after it was made, so it must stop verifying on
/// its own; a year covers the life of a printed copy in a job search, and the full
/// certificate at its link (and the page's code, made again) never expires this way.
/// Starting from the day, not the second, makes every compact text of one certificate
/// and status on one day the same bytes (cacheable, `crate::render_cache`).
pub const COMPACT_VALID_MONTHS: u32 = 12;

/// The largest QR version drawn for a compact form: at the page's and the PDF's 40 mm a
/// version 25 code (117 modules) has modules of 0.34 mm, about what a phone camera and
/// an office printer still resolve. A larger compact form falls back to the link.
pub const MAX_COMPACT_VERSION: i16 = 25;

/// The `validUntil` of a compact text made on `day` (`YYYY-MM-DD`).
pub fn compact_expiry(day: &str) -> Option<String> {
    crate::clock::add_months(&format!("{day}T00:00:00Z"), COMPACT_VALID_MONTHS)
}

/// Why a certificate has no compact form: said to the reader, never a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoCompact(pub String);

/// The compact form of the stored certificate `full` (served at the link of `token`),
/// signed with the issuer's current key, expiring [`compact_expiry`] of `day`; a link to
/// the verifier's page when one is configured. A certificate whose compact form cannot
/// be made (no title, too large for a QR code of [`MAX_COMPACT_VERSION`]) gives the reason.
pub fn compact_text(issuer: &Issuer, full: &Value, token: &str, day: &str) -> Result<String, NoCompact> {
    let link = issuer.links(token).credential;
    let expires = compact_expiry(day).ok_or_else(|| NoCompact(format!("no expiry for the day {day:?}")))?;
    let summary = bem_core::compact::summary(full, &link, Some(&expires))
        .map_err(|e| NoCompact(format!("its signed compact form cannot be made: {}", e.message)))?;
    let text = issuer.sign_compact(&summary).map_err(|e| NoCompact(format!("{e:#}")))?;
    let text = match issuer.verifier_url() {
        Some(verifier) => bem_core::compact::link(&format!("{verifier}/verify"), &text),
        None => text,
    };
    match code(&text).map(|c| c.version()) {
        Ok(qrcode::Version::Normal(v) | qrcode::Version::Micro(v)) if v <= MAX_COMPACT_VERSION => Ok(text),
        _ => Err(NoCompact(format!(
            "its signed compact form ({} characters) is too large for a QR code that can be printed \
             and scanned (version {MAX_COMPACT_VERSION} at most)",
            text.chars().count()
        ))),
    }
}

/// What a certificate's printed QR code (its page and its PDF) holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub text: String,
    /// Whether `text` is the signed certificate itself (the compact form).
    pub signed: bool,
    /// Why the link is printed where the signed form would be, said on the page and PDF.
    pub note: Option<String>,
}

/// What the QR code printed on a certificate holds: with a verifier configured, the
/// compact signed form as a link to its page (checked without the issuer's server:
/// issue 7); else the certificate's link, which any phone can open. `withheld` is why no
/// compact form may be made (a revoked or suspended certificate: a verifier with no
/// network could not see that); then, or when the compact form cannot be made, the link
/// is printed with a note saying why.
pub fn printed(issuer: &Issuer, full: &Value, token: &str, withheld: Option<&str>, day: &str) -> Printed {
    let link = || issuer.links(token).credential;
    if issuer.verifier_url().is_none() {
        return Printed { text: link(), signed: false, note: None };
    }
    let reason = match withheld {
        Some(reason) => reason.to_owned(),
        None => match compact_text(issuer, full, token, day) {
            Ok(text) => return Printed { text, signed: true, note: None },
            Err(NoCompact(reason)) => reason,
        },
    };
    Printed {
        text: link(),
        signed: false,
        note: Some(format!(
            "The QR code holds this certificate's link, where its current status is shown, not the \
             signed certificate: {reason}."
        )),
    }
}

/// The QR version (1..=40) of `text` at error correction M, as `png` and `svg` draw it.
#[cfg(test)]
pub fn version(text: &str) -> anyhow::Result<i16> {
    match code(text)?.version() {
        qrcode::Version::Normal(v) => Ok(v),
        qrcode::Version::Micro(v) => Ok(v),
    }
}

fn code(text: &str) -> anyhow::Result<QrCode> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow::anyhow!("no QR code for {} bytes: {e}", text.len()))
}

/// The modules of a QR code, without its quiet zone: what the PDF draws as vector
/// squares (`crate::pdf`), the same code as [`png`] and [`svg`] draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modules {
    /// Modules per side.
    pub width: usize,
    /// `width × width` modules, row by row from the top; `true` is dark.
    pub dark: Vec<bool>,
}

impl Modules {
    /// Whether the module at column `x`, row `y` (from the top left) is dark; outside
    /// the code is light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y.checked_mul(self.width).and_then(|row| self.dark.get(row + x)) == Some(&true)
    }
}

/// The modules of the QR code of `text`.
pub fn modules(text: &str) -> anyhow::Result<Modules> {
    let code = code(text)?;
    let dark = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    Ok(Modules { width: code.width(), dark })
}

/// A PNG of the QR code of `text`.
pub fn png(text: &str) -> anyhow::Result<Vec<u8>> {
    let image = code(text)?.render::<image::Luma<u8>>().min_dimensions(320, 320).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// An SVG document of the QR code of `text`.
pub fn svg(text: &str) -> anyhow::Result<String> {
    Ok(code(text)?.render::<svg::Color<'_>>().min_dimensions(320, 320).build())
}

#[cfg(test)]
mod tests {
    use bem_core::resolver::{Fetched, Resolver};
    use bem_core::trust::{TrustList, TrustedIssuer};
    use bem_core::verify::{Verdict, VerifyOptions};
    use serde_json::Value;

    use crate::catalogue::Catalogue;
    use crate::certificate::{Learner, Profile};
    use crate::identity::Identity;
    use crate::issuance::{Issuer, Settings};

    const URL: &str = "https://academy.bem.example";
    const VERIFIER: &str = "https://verify.bem.example";

    fn issuer(dir: &std::path::Path) -> Issuer {
        let mut db = crate::store::open(&dir.join("db.sqlite3"), crate::status_lists::LIST_SIZE).unwrap();
        let key = crate::keys::generate_signing_key();
        let key_id = db
            .use_key(&bem_core::multikey::encode_public(&key.verifying_key()), "2025-01-01T00:00:00Z")
            .unwrap();
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            db.upsert_definition(def["id"].as_str().unwrap(), &def, "2025-01-01T00:00:00Z").unwrap();
        }
        let profile = crate::config::IssuerProfile {
            name: "Kyiv Digital Skills Academy".into(),
            country_uri: "http://publications.europa.eu/resource/authority/country/UKR".into(),
            legal_identifier: None,
            homepage: None,
        };
        let settings = Settings {
            profile,
            public_url: URL.into(),
            verifier_url: Some(VERIFIER.into()),
            conformance_contexts: false,
            retired_keys: dir.join("retired-keys"),
            publish_learner_details: false,
        };
        Issuer::new(db, Identity::new(URL, key, key_id), Catalogue::new().unwrap(), settings)
    }

    /// The issuer's did.json and status lists, straight from the service.
    struct Online<'a>(&'a Issuer);

    impl Resolver for Online<'_> {
        fn controller_document(&self, _identifier: &str) -> Fetched {
            Fetched::Document(self.0.did_document().unwrap())
        }
        fn status_list_credential(&self, url: &str) -> Fetched {
            let id = url.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap();
            Fetched::Document(serde_json::from_str(&self.0.status_list(id).unwrap().unwrap().body).unwrap())
        }
    }

    /// Issue 7's size goal over the demo catalogue: every certificate's compact text is at
    /// most 700 characters and its QR code version 15 or less at EC level M; the verifier
    /// link of most is version 16 or less (17 at most); each verifies,
    /// and its status is checked when online. Run with `--nocapture` for the distribution.
    /// With a verifier configured, the code printed on the page and the PDF is the signed
    /// compact form as a link to the verifier's page, and it verifies.
    #[test]
    fn the_printed_code_carries_the_signed_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer(dir.path());
        let learner = Learner { name: "Olena Kovalenko".into(), ..Learner::default() };
        let def = crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap().remove(0);
        let awarded = issuer.award(def["id"].as_str().unwrap(), &learner, Profile::Elm).unwrap();
        let token = awarded.links.credential.rsplit('/').next().unwrap().to_owned();
        let day = &crate::clock::now()[..10];
        let super::Printed { text, signed, note } =
            super::printed(&issuer, &awarded.verifiable_credential, &token, None, day);
        assert!(signed && note.is_none());
        assert!(text.starts_with("HTTPS://VERIFY.BEM.EXAMPLE/verify#BEM2:"), "{text}");
        let trust = TrustList::default();
        let now = bem_core::datetime::parse_datetime_stamp(&crate::clock::now()).unwrap();
        let report = bem_core::compact::verify(&text, &VerifyOptions::new(now, &trust, &Online(&issuer)));
        assert!(report.verified(), "{:#?}", report.checks);
    }

    #[test]
    fn compact_form_of_every_demo_certificate_fits_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer(dir.path());
        let trust = TrustList {
            issuers: vec![TrustedIssuer {
                id: issuer.identity().did().into(),
                name: None,
                credential_types: vec![],
                keys: vec![],
            }],
            anchors: vec![],
        };
        let now = bem_core::datetime::parse_datetime_stamp(&crate::clock::now()).unwrap();
        let mut rows = Vec::new();
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            for (profile, name) in [
                (Profile::Elm, "Olena Kovalenko"),
                (Profile::Elm, "Олена Коваленко"),
                (Profile::OpenBadges, "Olena Kovalenko"),
            ] {
                let learner = Learner { name: name.into(), ..Learner::default() };
                let awarded = issuer.award(def["id"].as_str().unwrap(), &learner, profile).unwrap();
                let link = &awarded.links.credential;
                let token = link.rsplit('/').next().unwrap();
                let full: Value = awarded.verifiable_credential.clone();
                let url_form =
                    super::compact_text(&issuer, &full, token, &crate::clock::now()[..10]).unwrap();
                let text = bem_core::compact::find(&url_form).unwrap();
                let report =
                    bem_core::compact::verify(&url_form, &VerifyOptions::new(now, &trust, &Online(&issuer)));
                assert_eq!(report.verdict(), Verdict::Valid, "{:#?}", report.checks);
                let payload = report.payload.unwrap();
                assert_eq!(payload["id"], link.as_str());
                let entries = match &payload["credentialStatus"] {
                    Value::Array(all) => all.clone(),
                    one => vec![one.clone()],
                };
                assert_eq!(entries.len(), profile.status_purposes().len(), "{payload:#}");
                assert!(entries.iter().all(|e| e["statusListIndex"].is_string()), "{payload:#}");
                assert!(payload["validUntil"].is_string(), "{payload:#}");
                rows.push((
                    profile,
                    name,
                    text.len(),
                    super::version(&text).unwrap(),
                    url_form.len(),
                    super::version(&url_form).unwrap(),
                ));
            }
        }
        let mut report = String::new();
        for latin_elm in [true, false] {
            let mut sel: Vec<_> =
                rows.iter().filter(|r| (r.0 == Profile::Elm && r.1.is_ascii()) == latin_elm).collect();
            sel.sort_by_key(|r| r.2);
            let (min, med, max) = (sel[0], sel[sel.len() / 2], sel[sel.len() - 1]);
            report.push_str(&format!(
                "{}: {} certificates; text chars min/median/max {}/{}/{} (QR v{}/v{}/v{}); verifier link {}/{}/{} (QR v{}/v{}/v{})\n",
                if latin_elm { "ELM, Latin name" } else { "ELM Cyrillic name, or Open Badges" },
                sel.len(), min.2, med.2, max.2, min.3, med.3, max.3, min.4, med.4, max.4, min.5, med.5, max.5
            ));
        }
        eprint!("{report}");
        for (profile, name, chars, version, url_chars, url_version) in &rows {
            assert!(*chars <= 700, "{profile:?} {name}: {chars} characters");
            assert!(*version <= 15, "{profile:?} {name}: v{version}");
            // The link form adds the verifier's address (here 34 characters, partly in
            // byte mode): a typical certificate's still fits version 15, the largest 16, or
            // 17 in about one run of six (the random key, signature and status index
            // deflate to a few characters more or less; 606 characters is version 17).
            assert!(
                *url_chars <= 700 && *url_version <= 17,
                "{profile:?} {name}: link {url_chars} chars v{url_version}"
            );
        }
        let over = rows.iter().filter(|r| r.5 > 15).count();
        eprintln!("verifier links above version 15: {over} of {}", rows.len());
        // Since every status entry and an expiry are carried (issue 17: about 20 more
        // characters for an ELM certificate, 30 for a badge), a typical link (the median)
        // needs version 16; most ELM links with a Latin name still fit version 15.
        let over_16 = rows.iter().filter(|r| r.5 > 16).count();
        assert!(
            over_16 * 2 < rows.len(),
            "{over_16} of {} links need a QR code above version 16",
            rows.len()
        );
    }

    #[test]
    fn png_and_svg() {
        let png = super::png("http://127.0.0.1:8080/credentials/0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(super::svg("x").unwrap().contains("<svg"));
    }
}
