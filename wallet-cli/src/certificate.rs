//! The certificate as a person reads it: learner, micro-credential, outcomes, workload,
//! EQF level, issuer and validity, read leniently from a stored credential.
//!
//! Two shapes are read: the ELM/EDC VC 1.1 envelope
//! (`credentialSubject.hasClaim[].specifiedBy{title, learningOutcome, creditPoint,
//! volumeOfLearning, eqfLevel}`) and plain VC 2.0 credentials (`name`, `description`,
//! `credentialSubject.name`, Open Badges' `achievement`). Missing or oddly typed fields
//! are left out, never an error: the view is for display only and decides nothing.
//! Texts are returned as found; escaping for the terminal is the caller's job.

use serde::Serialize;
use serde_json::Value;

/// What `show` and `list` display of a credential.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateView {
    pub title: Option<String>,
    pub description: Option<String>,
    pub learner: Option<String>,
    pub outcomes: Vec<String>,
    pub workload: Vec<String>,
    pub eqf_level: Option<String>,
    pub awarding_body: Option<String>,
    pub issuer_name: Option<String>,
    pub issuer_id: Option<String>,
    pub issued: Option<String>,
    pub valid_from: Option<String>,
    pub valid_until: Option<String>,
    pub grade: Option<String>,
}

/// Reads the view of `credential`.
pub fn view(credential: &Value) -> CertificateView {
    let subject = first(credential.get("credentialSubject"));
    let claim = subject.and_then(|s| first(s.get("hasClaim")));
    let spec = claim.and_then(|c| first(c.get("specifiedBy")));
    let achievement = subject.and_then(|s| first(s.get("achievement")));

    let title = [
        claim.and_then(|c| text(c.get("title"))),
        spec.and_then(|s| text(s.get("title"))),
        achievement.and_then(|a| text(a.get("name"))),
        text(credential.get("name")),
    ]
    .into_iter()
    .flatten()
    .next();
    let description = [
        spec.and_then(|s| text(s.get("description"))),
        achievement.and_then(|a| text(a.get("description"))),
        text(credential.get("description")),
    ]
    .into_iter()
    .flatten()
    .next();

    let learner = subject.and_then(|s| {
        text(s.get("fullName"))
            .or_else(|| text(s.get("name")))
            .or_else(|| {
                let given = text(s.get("givenName"));
                let family = text(s.get("familyName"));
                match (given, family) {
                    (None, None) => None,
                    (g, f) => Some([g, f].into_iter().flatten().collect::<Vec<_>>().join(" ")),
                }
            })
            .or_else(|| text(s.get("id")))
    });

    let outcome_source = spec.or(achievement);
    let outcomes = outcome_source
        .map(|s| {
            many(s.get("learningOutcome"))
                .filter_map(|o| text(o.get("title")).or_else(|| text(Some(o))))
                .collect()
        })
        .unwrap_or_default();

    let mut workload = Vec::new();
    if let Some(spec) = spec {
        for point in many(spec.get("creditPoint")) {
            let amount = text(point.get("point"));
            let framework =
                point.get("framework").and_then(|f| text(f.get("prefLabel")).or_else(|| text(f.get("id"))));
            match (amount, framework) {
                (Some(a), Some(f)) => workload.push(format!("{a} {}", credit_label(&f))),
                (Some(a), None) => workload.push(format!("{a} credits")),
                _ => {}
            }
        }
        if let Some(volume) = text(spec.get("volumeOfLearning")) {
            workload.push(duration_words(&volume));
        }
    }

    let eqf_level = spec.and_then(|s| s.get("eqfLevel")).and_then(|level| {
        text(level.get("prefLabel")).or_else(|| {
            let id = text(level.get("id")).or_else(|| text(Some(level)))?;
            id.rsplit('/').next().map(|n| format!("Level {n}"))
        })
    });
    let awarding_body = claim
        .and_then(|c| first(c.get("awardedBy")))
        .and_then(|a| first(a.get("awardingBody")))
        .and_then(|b| text(b.get("legalName")).or_else(|| text(b.get("name"))));
    let grade = claim
        .and_then(|c| first(c.get("provenBy")))
        .and_then(|p| p.get("grade"))
        .and_then(|g| text(g.get("noteLiteral")).or_else(|| text(Some(g))));

    let issuer = credential.get("issuer");
    let issuer_id = match issuer {
        Some(Value::String(id)) => Some(id.clone()),
        Some(other) => text(other.get("id")),
        None => None,
    };
    let issuer_name = issuer
        .filter(|i| i.is_object())
        .and_then(|i| text(i.get("legalName")).or_else(|| text(i.get("name"))));

    let date = |names: &[&str]| names.iter().find_map(|n| text(credential.get(*n)));
    CertificateView {
        title,
        description,
        learner,
        outcomes,
        workload,
        eqf_level,
        awarding_body,
        issuer_name,
        issuer_id,
        issued: date(&["issued", "issuanceDate", "validFrom"]),
        valid_from: date(&["validFrom", "issuanceDate"]),
        valid_until: date(&["validUntil", "expirationDate"]),
        grade,
    }
}

/// The first item of a value that may be one object or an array of them.
fn first(value: Option<&Value>) -> Option<&Value> {
    match value {
        Some(Value::Array(items)) => items.first(),
        other => other,
    }
}

fn many(value: Option<&Value>) -> Box<dyn Iterator<Item = &Value> + '_> {
    match value {
        Some(Value::Array(items)) => Box::new(items.iter()),
        Some(one) => Box::new(std::iter::once(one)),
        None => Box::new(std::iter::empty()),
    }
}

/// A text from a string, a language map (English first), a JSON-LD value object, or
/// the first of an array of those.
pub fn text(value: Option<&Value>) -> Option<String> {
    let found = match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => items.iter().find_map(|i| text(Some(i))),
        Value::Object(map) => map
            .get("@value")
            .or_else(|| map.get("en"))
            .and_then(|v| text(Some(v)))
            .or_else(|| map.values().find_map(|v| v.as_str().map(str::to_owned))),
        Value::Bool(_) | Value::Null => None,
    };
    found.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn credit_label(framework: &str) -> String {
    match framework {
        "European Credit Transfer System" | "http://data.europa.eu/snb/education-credit/6fcec5c5af" => {
            "ECTS credits".into()
        }
        "European Credit system for Vocational Education and Training"
        | "http://data.europa.eu/snb/education-credit/60b314e826" => "ECVET points".into(),
        other => other.to_owned(),
    }
}

/// `PT60H` → `60 hours`; other durations as written.
fn duration_words(iso: &str) -> String {
    let hours = iso.strip_prefix("PT").and_then(|h| h.strip_suffix('H')).filter(|h| h.parse::<f64>().is_ok());
    match hours {
        Some("1") => "1 hour".into(),
        Some(h) => format!("{h} hours"),
        None => format!("workload {iso}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_elm_shape() {
        let vc = json!({
            "issuer": {"id": "did:key:z6Mk", "legalName": {"en": "Academy"}},
            "issuanceDate": "2026-01-15T09:00:00Z",
            "credentialSubject": {"fullName": {"en": "Ana Andromeda"}, "hasClaim": [{
                "title": {"en": "Digital skills"},
                "specifiedBy": {
                    "learningOutcome": [{"title": {"en": "One"}}, {"title": {"es": "Dos"}}],
                    "creditPoint": {"point": "2", "framework": {"prefLabel": {"en": "European Credit Transfer System"}}},
                    "volumeOfLearning": "PT60H",
                    "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/6"}
                }
            }]}
        });
        let v = view(&vc);
        assert_eq!(v.title.as_deref(), Some("Digital skills"));
        assert_eq!(v.learner.as_deref(), Some("Ana Andromeda"));
        assert_eq!(v.outcomes, vec!["One", "Dos"]);
        assert_eq!(v.workload, vec!["2 ECTS credits", "60 hours"]);
        assert_eq!(v.eqf_level.as_deref(), Some("Level 6"));
        assert_eq!(v.issuer_name.as_deref(), Some("Academy"));
        assert_eq!(v.issued.as_deref(), Some("2026-01-15T09:00:00Z"));
    }

    #[test]
    fn is_lenient_with_odd_shapes() {
        let v = view(
            &json!({"credentialSubject": [{"hasClaim": 5}], "name": ["", {"@value": "X"}], "issuer": 7}),
        );
        assert_eq!(v.title.as_deref(), Some("X"));
        assert!(v.learner.is_none() && v.issuer_id.is_none());
        let v = view(&json!("not an object"));
        assert!(v.title.is_none());
    }
}
