//! The certificate as a person reads it: learner, micro-credential, outcomes, workload,
//! EQF level, awarding body, issuer, dates and grade, read leniently from a credential.
//! One reader for every screen: the issuer's certificate page, the verifier's result
//! page and the wallet's `show`/`list`.
//!
//! Three shapes are read:
//! - ELM/EDC (VC 1.1 envelope): `credentialSubject{fullName, hasClaim[]{title,
//!   awardedBy{awardingBody, awardingDate}, provenBy{grade}, specifiedBy{title,
//!   learningOutcome[], creditPoint[], volumeOfLearning, eqfLevel}}}`, texts as language
//!   maps (`{"en": "…", "uk": "…"}`);
//! - Open Badges 3.0: `credentialSubject{identifier[]{identityType "name"}, achievement{name,
//!   description, creditsAvailable, alignment[] (EQF, learning outcomes), creator},
//!   result[]{value}}`;
//! - plain VC 2.0: `name`, `description`, `credentialSubject.name`.
//!
//! Invariants: display only, it decides nothing (a page shows it only for a credential
//! whose proof verified, AC-31); never fails, whatever the input; every text is trimmed,
//! non-empty and at most [`MAX_TEXT`] characters, and at most [`MAX_OUTCOMES`] outcomes
//! are read; texts are returned unescaped (escaping is the screen's job, AC-30).

use serde::Serialize;
use serde_json::Value;

/// Longest text kept for one field, in characters (longer ones end in `…`).
pub const MAX_TEXT: usize = 500;
/// Most learning outcomes read.
pub const MAX_OUTCOMES: usize = 40;

/// The alignment `targetFramework` that marks an EQF level in an Open Badge.
pub const OB_EQF_FRAMEWORK: &str = "European Qualifications Framework";
/// The alignment `targetType` of a learning outcome in an Open Badge made here.
pub const OB_OUTCOME_TYPE: &str = "ext:LearningOutcome";

/// One part of the workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Workload {
    /// Notional learning hours.
    Hours { hours: u64 },
    /// Credit points in a system (`ECTS`, `ECVET`, or the system's own name).
    Credits { amount: String, system: String },
    /// A workload as written, when it is neither.
    Text { text: String },
}

impl Workload {
    /// The workload as a short phrase: `<n> <hours_word>` (the screen's word for hours),
    /// `<amount> <system>`, or the text as written.
    pub fn phrase(&self, hours_word: &str) -> String {
        match self {
            Workload::Hours { hours } => format!("{hours} {hours_word}"),
            Workload::Credits { amount, system } => format!("{amount} {system}"),
            Workload::Text { text } => text.clone(),
        }
    }
}

/// What people read of a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateView {
    /// The credential's `id` (for a sealed or enveloped credential, its payload's).
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub learner: Option<String>,
    pub outcomes: Vec<String>,
    pub workload: Vec<Workload>,
    /// The EQF level as a number `1`..`8` when known, else as labelled.
    pub eqf_level: Option<String>,
    /// The national framework's level as labelled (`NQFS Level 3`), where the credential
    /// gives one (ELM `nqfLevel`).
    pub nqf_level: Option<String>,
    pub awarding_body: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_id: Option<String>,
    /// When it was awarded or issued (as written, a date-time).
    pub issued: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub grade: Option<String>,
}

impl CertificateView {
    /// Reads `credential`, preferring texts in `lang`, then English, then any.
    pub fn read(credential: &Value, lang: &str) -> Self {
        // A JAdES-sealed EDC credential (JWS JSON serialization): read its payload.
        if let Some(payload) = sealed_payload(credential).or_else(|| enveloped_payload(credential)) {
            return Self::read(&payload, lang);
        }
        let r = Reader { lang };
        let subject = first(credential.get("credentialSubject"));
        let claim = first(field(subject, "hasClaim"));
        let spec = first(field(claim, "specifiedBy"));
        let badge = first(field(subject, "achievement"));

        let title = [
            r.text(field(claim, "title")),
            r.text(field(spec, "title")),
            r.text(field(badge, "name")),
            r.text(credential.get("name")),
            r.text(credential.get("title")),
        ]
        .into_iter()
        .flatten()
        .next();
        let description = [
            r.text(field(spec, "description")),
            r.text(field(badge, "description")),
            r.text(credential.get("description")),
        ]
        .into_iter()
        .flatten()
        .next();

        let learner = r
            .text(field(subject, "fullName"))
            .or_else(|| r.text(field(subject, "name")))
            .or_else(|| {
                let given = r.text(field(subject, "givenName"));
                let family = r.text(field(subject, "familyName"));
                match (given, family) {
                    (None, None) => None,
                    (g, f) => Some([g, f].into_iter().flatten().collect::<Vec<_>>().join(" ")),
                }
            })
            .or_else(|| {
                many(field(subject, "identifier"))
                    .find(|i| {
                        i.get("identityType").and_then(Value::as_str) == Some("name")
                            && i.get("hashed") != Some(&Value::Bool(true))
                    })
                    .and_then(|i| r.text(i.get("identityHash")))
            });

        let outcome_source = spec.or(badge);
        let outcomes: Vec<String> = many(field(outcome_source, "learningOutcome"))
            .chain(many(field(outcome_source, "learningOutcomes")))
            .filter_map(|o| {
                r.text(o.get("title")).or_else(|| r.text(o.get("name"))).or_else(|| r.text(Some(o)))
            })
            .chain(
                many(field(badge, "alignment"))
                    .filter(|a| a.get("targetType").and_then(Value::as_str) == Some(OB_OUTCOME_TYPE))
                    .filter_map(|a| r.text(a.get("targetName"))),
            )
            .take(MAX_OUTCOMES)
            .collect();

        let mut workload = Vec::new();
        for point in many(field(spec, "creditPoint")) {
            let Some(amount) = r.text(point.get("point")) else { continue };
            let system = point
                .get("framework")
                .and_then(|f| {
                    let id = f.get("id").and_then(Value::as_str).unwrap_or_default();
                    credit_system(id).map(str::to_owned).or_else(|| r.text(f.get("prefLabel")))
                })
                .unwrap_or_else(|| "credits".to_owned());
            workload.push(Workload::Credits { amount, system });
        }
        if let Some(amount) = r.text(field(badge, "creditsAvailable")) {
            workload.push(Workload::Credits { amount, system: "ECTS".to_owned() });
        }
        if let Some(volume) = r.text(field(spec, "volumeOfLearning")) {
            workload.push(match iso_hours(&volume) {
                Some(hours) => Workload::Hours { hours },
                None => Workload::Text { text: volume },
            });
        }

        let eqf_level = field(spec, "eqfLevel")
            .and_then(|level| {
                let id = level.get("id").and_then(Value::as_str).or_else(|| level.as_str());
                id.and_then(eqf_number).or_else(|| r.text(level.get("prefLabel")))
            })
            .or_else(|| {
                many(field(badge, "alignment"))
                    .find(|a| a.get("targetFramework").and_then(Value::as_str) == Some(OB_EQF_FRAMEWORK))
                    .and_then(|a| {
                        a.get("targetUrl")
                            .and_then(Value::as_str)
                            .and_then(eqf_number)
                            .or_else(|| r.text(a.get("targetCode")))
                    })
            });

        let nqf_level = first(field(spec, "nqfLevel")).and_then(|level| r.text(level.get("prefLabel")));

        let awarding = first(field(claim, "awardedBy"));
        let awarding_body = first(field(awarding, "awardingBody"))
            .or_else(|| first(field(badge, "creator")))
            .and_then(|b| r.text(b.get("legalName")).or_else(|| r.text(b.get("name"))));
        let grade = first(field(claim, "provenBy"))
            .and_then(|p| p.get("grade"))
            .and_then(|g| r.text(g.get("noteLiteral")).or_else(|| r.text(Some(g))))
            .or_else(|| many(field(subject, "result")).find_map(|res| r.text(res.get("value"))));

        let issuer = credential.get("issuer");
        let issuer_id = match issuer {
            Some(Value::String(id)) => bounded(id),
            Some(other) => r.text(other.get("id")),
            None => None,
        };
        let issuer_name = issuer
            .filter(|i| i.is_object())
            .and_then(|i| r.text(i.get("legalName")).or_else(|| r.text(i.get("name"))));
        let date = |names: &[&str]| names.iter().find_map(|n| r.text(credential.get(*n)));
        let issued = r
            .text(field(awarding, "awardingDate"))
            .or_else(|| r.text(field(subject, "awardedDate")))
            .or_else(|| r.text(credential.get("awardedDate")))
            .or_else(|| date(&["issued", "issuanceDate", "validFrom"]));

        Self {
            id: r.text(credential.get("id")),
            title,
            description,
            learner,
            outcomes,
            workload,
            eqf_level,
            nqf_level,
            awarding_body,
            issuer_name,
            issuer_id,
            issued,
            valid_from: date(&["validFrom", "issuanceDate"]),
            valid_until: date(&["validUntil", "expirationDate"]),
            grade,
        }
    }
}

/// The credential inside a JAdES envelope (`{payload, signatures}` or the flattened
/// `{payload, protected, signature}`), when its payload is strict JSON (unencoded, as
/// EDC seals with `b64:false`). Display only: whether the seal holds is the pipeline's.
fn sealed_payload(envelope: &Value) -> Option<Value> {
    let obj = envelope.as_object()?;
    let payload = obj.get("payload")?.as_str()?;
    if !(obj.contains_key("signatures") || obj.contains_key("signature")) {
        return None;
    }
    crate::json::parse_str(payload, &crate::json::JsonLimits::default()).ok().filter(Value::is_object)
}

/// The payload of an `EnvelopedVerifiableCredential` whose `id` is
/// `data:application/vc+jwt,<JWS>` (a compact QR certificate as a wallet stores it),
/// decoded for display only: whoever shows it also shows whether its signature verified.
fn enveloped_payload(envelope: &Value) -> Option<Value> {
    let jws = envelope.get("id")?.as_str()?.strip_prefix("data:application/vc+jwt,")?;
    let decoded = crate::jose::decode_compact(jws).ok()?;
    crate::jose::secured_document(&decoded).ok().map(|secured| secured.document).filter(Value::is_object)
}

fn field<'v>(node: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    node.and_then(|n| n.get(key))
}

struct Reader<'a> {
    lang: &'a str,
}

impl Reader<'_> {
    /// A text from a string, number, language map, JSON-LD value object or a list of
    /// those: the reader's language first, then English, then any.
    fn text(&self, value: Option<&Value>) -> Option<String> {
        match value? {
            Value::String(s) => bounded(s),
            Value::Number(n) => bounded(&n.to_string()),
            Value::Array(items) => items
                .iter()
                .find(|i| i.get("@language").and_then(Value::as_str) == Some(self.lang))
                .and_then(|i| self.text(Some(i)))
                .or_else(|| items.iter().find_map(|i| self.text(Some(i)))),
            Value::Object(map) => {
                if let Some(value) = map.get("@value") {
                    return self.text(Some(value));
                }
                [self.lang, "en"]
                    .iter()
                    .find_map(|key| self.text(map.get(*key)))
                    .or_else(|| map.values().find_map(|v| v.as_str().and_then(bounded)))
            }
            Value::Bool(_) | Value::Null => None,
        }
    }
}

fn bounded(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let mut out: String = t.chars().take(MAX_TEXT).collect();
    if t.chars().nth(MAX_TEXT).is_some() {
        out.push('…');
    }
    Some(out)
}

/// The first object of a value that is an object or a list of them.
fn first(value: Option<&Value>) -> Option<&Value> {
    match value? {
        Value::Array(items) => items.iter().find(|i| i.is_object()),
        other @ Value::Object(_) => Some(other),
        _ => None,
    }
}

fn many(value: Option<&Value>) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Some(Value::Array(items)) => Box::new(items.iter()),
        Some(Value::Null) | None => Box::new(std::iter::empty()),
        Some(one) => Box::new(std::iter::once(one)),
    }
}

/// `http://data.europa.eu/snb/eqf/4` → `4`.
fn eqf_number(id: &str) -> Option<String> {
    let n = id.strip_prefix("http://data.europa.eu/snb/eqf/")?;
    matches!(n, "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8").then(|| n.to_owned())
}

fn credit_system(framework_id: &str) -> Option<&'static str> {
    match framework_id {
        "http://data.europa.eu/snb/education-credit/6fcec5c5af" => Some("ECTS"),
        "http://data.europa.eu/snb/education-credit/60b314e826" => Some("ECVET"),
        _ => None,
    }
}

/// `PT40H` → 40, `P2DT4H` → 52; `None` for anything else.
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
    days.checked_mul(24)?.checked_add(hours).filter(|h| *h > 0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_compact_certificate_inside_its_envelope() {
        let vectors: Value = serde_json::from_str(&crate::testdata::read("qr/compact-vectors.json")).unwrap();
        let jws = vectors["jws"].as_str().unwrap();
        let envelope = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": format!("data:application/vc+jwt,{jws}"),
            "type": "EnvelopedVerifiableCredential"
        });
        let v = CertificateView::read(&envelope, "en");
        assert_eq!(v.learner.as_deref(), Some("Olena Kovalenko"));
        assert_eq!(v.title.as_deref(), Some("Cloud fundamentals for SMEs"));
        assert_eq!(v.id.as_deref(), vectors["credential"]["id"].as_str());
        assert_eq!(v.eqf_level.as_deref(), Some("5"));
        // A damaged envelope reads as an empty view, never a panic.
        let broken = json!({"id": "data:application/vc+jwt,not-a-jws"});
        assert_eq!(CertificateView::read(&broken, "en").title, None);
    }

    #[test]
    fn reads_the_elm_shape_in_the_readers_language() {
        let vc = json!({
            "issuer": {"id": "did:web:x.example", "legalName": {"en": "BEM Academy", "uk": "Академія BEM"}},
            "issuanceDate": "2026-01-15T09:00:00Z",
            "credentialSubject": {"fullName": {"en": "Olena Kovalenko"}, "hasClaim": [{
                "title": {"en": "Digital skills", "uk": "Цифрові навички"},
                "awardedBy": {"awardingDate": "2026-01-14T00:00:00Z", "awardingBody": {"legalName": {"en": "Centre"}}},
                "provenBy": {"grade": {"noteLiteral": {"en": "Pass"}}},
                "specifiedBy": {
                    "learningOutcome": [{"title": {"en": "One"}}, {"title": {"es": "Dos"}}],
                    "creditPoint": [{"point": "2", "framework": {"id": "http://data.europa.eu/snb/education-credit/6fcec5c5af"}}],
                    "volumeOfLearning": "PT60H",
                    "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/6", "prefLabel": {"en": "Level 6"}},
                    "nqfLevel": {"id": "http://data.europa.eu/snb/qdr/c_8a1ce05d", "prefLabel": {"en": "NQFS Level 3"}}
                }
            }]}
        });
        let v = CertificateView::read(&vc, "uk");
        assert_eq!(v.nqf_level.as_deref(), Some("NQFS Level 3"));
        assert_eq!(v.title.as_deref(), Some("Цифрові навички"));
        assert_eq!(v.learner.as_deref(), Some("Olena Kovalenko"));
        assert_eq!(v.outcomes, vec!["One", "Dos"]);
        assert_eq!(
            v.workload,
            vec![
                Workload::Credits { amount: "2".into(), system: "ECTS".into() },
                Workload::Hours { hours: 60 }
            ]
        );
        assert_eq!(v.eqf_level.as_deref(), Some("6"));
        assert_eq!(v.issuer_name.as_deref(), Some("Академія BEM"));
        assert_eq!(v.awarding_body.as_deref(), Some("Centre"));
        assert_eq!(v.grade.as_deref(), Some("Pass"));
        assert_eq!(v.issued.as_deref(), Some("2026-01-14T00:00:00Z"));
        assert_eq!(CertificateView::read(&vc, "en").title.as_deref(), Some("Digital skills"));
    }

    #[test]
    fn reads_open_badges() {
        let vc = json!({
            "name": "Badge", "issuer": {"id": "did:key:z6Mk", "type": ["Profile"], "name": "Academy"},
            "validFrom": "2026-02-01T00:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "identifier": [{"type": "IdentityObject", "identityType": "emailAddress", "hashed": true, "identityHash": "sha256$00"},
                               {"type": "IdentityObject", "identityType": "name", "hashed": false, "identityHash": "Amina Haddad"}],
                "result": [{"type": ["Result"], "value": "Pass"}],
                "achievement": {"name": "Green construction", "description": "About", "creditsAvailable": 2,
                    "creator": {"id": "https://c.example", "type": ["Profile"], "name": "Centre"},
                    "alignment": [
                        {"type": ["Alignment"], "targetName": "Level 4", "targetFramework": OB_EQF_FRAMEWORK, "targetUrl": "http://data.europa.eu/snb/eqf/4"},
                        {"type": ["Alignment"], "targetName": "Insulate a wall", "targetType": OB_OUTCOME_TYPE, "targetUrl": "https://x.example/lo/1"}
                    ]}
            }
        });
        let v = CertificateView::read(&vc, "en");
        assert_eq!(v.title.as_deref(), Some("Green construction"));
        assert_eq!(v.learner.as_deref(), Some("Amina Haddad"));
        assert_eq!(v.eqf_level.as_deref(), Some("4"));
        assert_eq!(v.outcomes, vec!["Insulate a wall"]);
        assert_eq!(v.workload, vec![Workload::Credits { amount: "2".into(), system: "ECTS".into() }]);
        assert_eq!(v.awarding_body.as_deref(), Some("Centre"));
        assert_eq!(v.issuer_name.as_deref(), Some("Academy"));
        assert_eq!(v.grade.as_deref(), Some("Pass"));
    }

    #[test]
    fn reads_the_credential_inside_an_edc_seal() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/elm/Sample-MC-Annex1-signed.jsonld");
        let sealed: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let v = CertificateView::read(&sealed, "en");
        assert!(v.title.is_some() && v.learner.is_some(), "{v:?}");
    }

    #[test]
    fn is_lenient_and_bounded() {
        let v = CertificateView::read(
            &json!({"credentialSubject": [{"hasClaim": 5}], "name": ["", {"@value": "X"}], "issuer": 7}),
            "en",
        );
        assert_eq!(v.title.as_deref(), Some("X"));
        assert!(v.learner.is_none() && v.issuer_id.is_none());
        assert_eq!(CertificateView::read(&json!("not an object"), "en"), CertificateView::default());
        assert_eq!(
            CertificateView::read(&json!({"credentialSubject": 5, "issuer": [null]}), "en"),
            CertificateView::default()
        );
        let v = CertificateView::read(&json!({"name": "x".repeat(10_000)}), "en");
        assert_eq!(v.title.unwrap().chars().count(), MAX_TEXT + 1);
        let outcomes: Vec<Value> = (0..100).map(|i| json!(format!("o{i}"))).collect();
        let v = CertificateView::read(
            &json!({"credentialSubject": {"hasClaim": {"specifiedBy": {"learningOutcome": outcomes}}}}),
            "en",
        );
        assert_eq!(v.outcomes.len(), MAX_OUTCOMES);
        assert_eq!(iso_hours("P1DT2H"), Some(26));
        assert_eq!(iso_hours("40 hours"), None);
        assert_eq!(eqf_number("http://data.europa.eu/snb/eqf/9"), None);
    }
}
