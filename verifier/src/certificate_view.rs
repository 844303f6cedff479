//! What the employer page shows of a certificate: learner, title, issuer, date, EQF
//! level, workload and learning outcomes, read leniently from a credential.
//!
//! Both shapes are read: VC 2.0 / Open Badges style (`credentialSubject.name`,
//! `achievement`, top-level `name`) and the ELM 1.1 shape of EDC credentials
//! (`credentialSubject.fullName`, `hasClaim[].specifiedBy{title, learningOutcome,
//! creditPoint, volumeOfLearning, eqfLevel}`, language maps such as `{"en": "…"}`).
//! This is display only: it decides nothing, and the page shows it only for a
//! credential whose signature verified (AC-31). Every value returned is plain text,
//! bounded in length; the page escapes it (AC-30).

use serde_json::Value;

/// Longest text shown for one field, in characters.
const MAX_TEXT: usize = 500;
/// Most learning outcomes shown.
const MAX_OUTCOMES: usize = 40;

/// The fields of a certificate that people read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateView {
    pub learner: Option<String>,
    pub title: Option<String>,
    pub issuer: Option<String>,
    pub date: Option<String>,
    pub valid_until: Option<String>,
    pub eqf_level: Option<String>,
    pub workload: Vec<String>,
    pub outcomes: Vec<String>,
}

fn bounded(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let mut out: String = t.chars().take(MAX_TEXT).collect();
    if t.chars().count() > MAX_TEXT {
        out.push('…');
    }
    Some(out)
}

/// A text from a string, a language map (`{"en": "…"}`), a JSON-LD value object or a
/// list of those; the page language first, then English, then any.
fn text(v: Option<&Value>, lang: &str) -> Option<String> {
    match v? {
        Value::String(s) => bounded(s),
        Value::Array(items) => items
            .iter()
            .find(|i| i.get("@language").and_then(Value::as_str) == Some(lang))
            .or_else(|| items.first())
            .and_then(|i| text(Some(i), lang)),
        Value::Object(map) => {
            if let Some(value) = map.get("@value") {
                return text(Some(value), lang);
            }
            for key in [lang, "en"] {
                if let Some(t) = text(map.get(key), lang) {
                    return Some(t);
                }
            }
            map.values().find_map(|v| v.as_str().and_then(bounded))
        }
        Value::Number(n) => bounded(&n.to_string()),
        _ => None,
    }
}

/// The first object of a value that is an object or a list of objects.
fn first(v: Option<&Value>) -> Option<&Value> {
    match v? {
        Value::Array(items) => items.iter().find(|i| i.is_object()),
        other @ Value::Object(_) => Some(other),
        _ => None,
    }
}

fn list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}

/// `PT40H` → 40, `P2DT4H` → 52; anything else is shown as written.
fn iso_hours(duration: &str) -> Option<u64> {
    let rest = duration.strip_prefix('P')?;
    let (days, time) = rest.split_once('T').unwrap_or((rest, ""));
    let days: u64 = match days.strip_suffix('D') {
        Some(d) => d.parse().ok()?,
        None if days.is_empty() => 0,
        None => return None,
    };
    let hours: u64 = match time.strip_suffix('H') {
        Some(h) => h.parse().ok()?,
        None if time.is_empty() => 0,
        None => return None,
    };
    days.checked_mul(24)?.checked_add(hours)
}

impl CertificateView {
    /// Reads the view from `credential`; `trusted_name` (from the trust list) wins over
    /// the name the credential gives its issuer.
    pub fn read(credential: &Value, trusted_name: Option<&str>, lang: &str, hours_word: &str) -> Self {
        let subject = first(credential.get("credentialSubject"));
        let subject_field = |k: &str| subject.and_then(|s| s.get(k));
        let claim = first(subject_field("hasClaim")).or_else(|| first(subject_field("achievement")));
        let spec = claim.and_then(|c| first(c.get("specifiedBy"))).or(claim);
        let spec_field = |k: &str| spec.and_then(|s| s.get(k));

        let learner = text(subject_field("name"), lang)
            .or_else(|| text(subject_field("fullName"), lang))
            .or_else(|| {
                let given = text(subject_field("givenName"), lang)?;
                Some(match text(subject_field("familyName"), lang) {
                    Some(family) => format!("{given} {family}"),
                    None => given,
                })
            });
        let title = claim
            .and_then(|c| text(c.get("title"), lang).or_else(|| text(c.get("name"), lang)))
            .or_else(|| text(spec_field("title"), lang))
            .or_else(|| text(credential.get("name"), lang))
            .or_else(|| text(credential.get("title"), lang));
        let issuer_node = credential.get("issuer");
        let issuer = trusted_name.and_then(bounded).or_else(|| {
            let node = issuer_node?;
            text(node.get("name"), lang)
                .or_else(|| text(node.get("legalName"), lang))
                .or_else(|| node.as_str().and_then(bounded))
                .or_else(|| text(node.get("id"), lang))
        });
        let date = claim
            .and_then(|c| {
                text(
                    c.get("awardedBy").and_then(|a| first(Some(a))).and_then(|a| a.get("awardingDate")),
                    lang,
                )
            })
            .or_else(|| text(credential.get("validFrom"), lang))
            .or_else(|| text(credential.get("issuanceDate"), lang))
            .or_else(|| text(credential.get("issued"), lang))
            .map(|d| d.split('T').next().unwrap_or(&d).to_owned());
        let valid_until = text(credential.get("validUntil"), lang)
            .or_else(|| text(credential.get("expirationDate"), lang))
            .map(|d| d.split('T').next().unwrap_or(&d).to_owned());
        let eqf_level = spec_field("eqfLevel").and_then(|e| match e {
            Value::Object(_) => text(e.get("prefLabel"), lang).or_else(|| {
                e.get("id").and_then(Value::as_str).and_then(|id| id.rsplit('/').next()).and_then(bounded)
            }),
            other => text(Some(other), lang),
        });

        let mut workload = Vec::new();
        if let Some(v) = spec_field("volumeOfLearning").and_then(Value::as_str) {
            match iso_hours(v) {
                Some(h) => workload.push(format!("{h} {hours_word}")),
                None => workload.extend(bounded(v)),
            }
        }
        for credit in list(spec_field("creditPoint")) {
            let Some(point) = text(credit.get("point"), lang) else { continue };
            let framework = credit.get("framework").and_then(|f| {
                text(f.get("prefLabel"), lang).or_else(|| {
                    let id = f.get("id").and_then(Value::as_str)?.to_ascii_lowercase();
                    Some(if id.contains("ects") {
                        "ECTS".to_owned()
                    } else if id.contains("ecvet") {
                        "ECVET".to_owned()
                    } else {
                        return None;
                    })
                })
            });
            workload.push(match framework {
                Some(f) => format!("{point} {f}"),
                None => point,
            });
        }

        let outcomes = list(spec_field("learningOutcome"))
            .into_iter()
            .chain(list(spec_field("learningOutcomes")))
            .filter_map(|o| match o {
                Value::Object(_) => text(o.get("title"), lang).or_else(|| text(o.get("name"), lang)),
                other => text(Some(other), lang),
            })
            .take(MAX_OUTCOMES)
            .collect();

        Self { learner, title, issuer, date, valid_until, eqf_level, workload, outcomes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elm_credentials_are_read() {
        let vc = json!({
            "issuer": {"id": "did:web:x.example", "legalName": {"en": "BEM Academy", "uk": "Академія BEM"}},
            "validFrom": "2026-03-01T09:00:00Z",
            "credentialSubject": {
                "fullName": {"en": "Olena Kovalenko"},
                "hasClaim": {
                    "title": {"en": "Digital skills"},
                    "awardedBy": {"awardingDate": "2026-02-28T00:00:00Z"},
                    "specifiedBy": {
                        "title": {"en": "Digital skills (spec)"},
                        "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/5", "type": "Concept"},
                        "volumeOfLearning": "PT40H",
                        "creditPoint": [{"point": "2", "framework": {"id": "http://data.europa.eu/snb/education-credit/6fcec5c5af"}}],
                        "learningOutcome": [{"title": {"en": "Build a spreadsheet"}}, {"title": "Write a <script>"}]
                    }
                }
            }
        });
        let v = CertificateView::read(&vc, None, "uk", "hours");
        assert_eq!(v.learner.as_deref(), Some("Olena Kovalenko"));
        assert_eq!(v.title.as_deref(), Some("Digital skills"));
        assert_eq!(v.issuer.as_deref(), Some("Академія BEM"));
        assert_eq!(v.date.as_deref(), Some("2026-02-28"));
        assert_eq!(v.eqf_level.as_deref(), Some("5"));
        assert_eq!(v.workload, vec!["40 hours".to_owned(), "2".to_owned()]);
        assert_eq!(v.outcomes, vec!["Build a spreadsheet".to_owned(), "Write a <script>".to_owned()]);
    }

    #[test]
    fn vc2_credentials_and_junk_are_read_leniently() {
        let vc = json!({"name": "Course", "issuer": "did:key:z6Mk", "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"name": "A. Learner", "achievement": {"name": "Open badge", "learningOutcomes": ["x"]}}});
        let v = CertificateView::read(&vc, Some("Trusted Name"), "en", "hours");
        assert_eq!(v.title.as_deref(), Some("Open badge"));
        assert_eq!(v.issuer.as_deref(), Some("Trusted Name"));
        assert_eq!(v.outcomes, vec!["x".to_owned()]);
        assert_eq!(CertificateView::read(&json!([1, 2]), None, "en", "h"), CertificateView::default());
        assert_eq!(
            CertificateView::read(&json!({"credentialSubject": 5, "issuer": [null]}), None, "en", "h"),
            CertificateView::default()
        );
        let long = "x".repeat(10_000);
        let v = CertificateView::read(&json!({"name": long}), None, "en", "h");
        assert!(v.title.unwrap().chars().count() <= MAX_TEXT + 1);
        assert_eq!(iso_hours("P1DT2H"), Some(26));
        assert_eq!(iso_hours("40 hours"), None);
    }
}
