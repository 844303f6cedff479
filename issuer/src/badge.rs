//! The Open Badges 3.0 form of a certificate: the same micro-credential definition and
//! learner as [`crate::certificate`], written as an `OpenBadgeCredential` (VC 2.0,
//! `achievementType` `MicroCredential`), signed `eddsa-rdfc-2022` like the ELM form.
//!
//! The mapping from the definition (and its ELM form) is in `schemas/README.md`
//! ("Open Badges 3.0"). Invariants:
//! - every term is defined by the VC 2.0 and OB 3.0.3 contexts (a test awards every demo
//!   micro-credential in this form and verifies it; the e2e tests have Digital Bazaar's
//!   library verify it too);
//! - Open Badges texts are plain strings: each text is the definition's English one, else
//!   its first language (the ELM form keeps every language);
//! - the learner's e-mail is only written as a salted SHA-256 hash (OB `IdentityObject`,
//!   the one rule of `crate::certificate::SaltedEmail`).

use serde_json::{json, Map, Value};

use crate::catalogue::text_en;
use crate::certificate::Input;
use crate::vocabulary;
use bem_core::certificate::{OB_EQF_FRAMEWORK, OB_OUTCOME_TYPE};

/// The `@context` of an Open Badge.
pub const CONTEXT: [&str; 2] = [bem_core::contexts::CREDENTIALS_V2, bem_core::contexts::OPEN_BADGES_V3];

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// The unsigned Open Badge.
pub fn build(input: &Input<'_>) -> Value {
    let def = input.definition;
    let title = text_en(def.get("title"));
    let mut doc = Map::new();
    doc.insert("@context".into(), json!(CONTEXT));
    doc.insert("id".into(), input.credential_id.into());
    doc.insert("type".into(), json!(["VerifiableCredential", "OpenBadgeCredential"]));
    doc.insert("name".into(), title.clone().into());
    if let Some(summary) = non_empty(text_en(def.get("summary"))) {
        doc.insert("description".into(), summary.into());
    }
    let mut issuer = json!({"id": input.issuer_did, "type": ["Profile"], "name": input.issuer.name});
    if let (Some(home), Some(obj)) = (&input.issuer.homepage, issuer.as_object_mut()) {
        obj.insert("url".into(), home.as_str().into());
    }
    doc.insert("issuer".into(), issuer);
    doc.insert("validFrom".into(), input.issued.into());
    doc.insert("awardedDate".into(), input.issued.into());
    if let Some(months) = def.pointer("/validity/months").and_then(Value::as_u64) {
        if let Some(until) =
            u32::try_from(months).ok().and_then(|m| crate::clock::add_months(input.issued, m))
        {
            doc.insert("validUntil".into(), until.into());
        }
    }
    doc.insert("credentialSubject".into(), subject(input, &title));
    if !input.status.is_empty() {
        doc.insert("credentialStatus".into(), json!(input.status));
    }
    Value::Object(doc)
}

fn subject(input: &Input<'_>, title: &str) -> Value {
    let learner = input.learner;
    let mut identifiers = vec![
        json!({"type": "IdentityObject", "identityType": "name", "hashed": false, "identityHash": learner.name}),
    ];
    if let Some(email) = &learner.email {
        let hashed = crate::certificate::SaltedEmail::new(email);
        identifiers.push(json!({"type": "IdentityObject", "identityType": "emailAddress", "hashed": true, "identityHash": format!("sha256${}", hashed.hash), "salt": hashed.salt}));
    }
    if let Some(id) = &learner.identifier {
        identifiers.push(
            json!({"type": "IdentityObject", "identityType": "studentId", "hashed": false, "identityHash": id}),
        );
    }
    let mut subject = json!({
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "achievement": achievement(input, title),
    });
    if let Some(obj) = subject.as_object_mut() {
        if let Some(grade) = &learner.grade {
            obj.insert("result".into(), json!([{"type": ["Result"], "value": grade}]));
        }
        if let Some(ects) = input.definition.pointer("/workload/ectsCredits").filter(|n| n.is_number()) {
            obj.insert("creditsEarned".into(), ects.clone());
        }
    }
    subject
}

fn achievement(input: &Input<'_>, title: &str) -> Value {
    let def = input.definition;
    let mc_id = def.get("id").and_then(Value::as_str).unwrap_or_default();
    let spec_url = format!("{}/micro-credentials/{mc_id}", input.public_url);
    let description = non_empty(text_en(def.get("summary"))).unwrap_or_else(|| title.to_owned());

    let outcomes: Vec<String> = def
        .get("learningOutcomes")
        .and_then(Value::as_array)
        .map(|items| items.iter().map(|o| text_en(o.get("title"))).filter(|t| !t.is_empty()).collect())
        .unwrap_or_default();
    let mut narrative = String::from("The learner has shown, in an assessment, that they can:\n");
    for o in &outcomes {
        narrative.push_str(&format!("- {o}\n"));
    }
    if let Some(assessment) = non_empty(text_en(def.pointer("/assessment/description"))) {
        narrative.push_str(&format!("\nAssessment: {assessment}\n"));
    }
    let mut criteria = json!({"narrative": narrative.trim_end()});
    if let (Some(url), Some(obj)) = (def.get("courseUrl").and_then(Value::as_str), criteria.as_object_mut()) {
        obj.insert("id".into(), url.into());
    }

    let mut alignment = Vec::new();
    if let Some(level) = def.get("eqfLevel").and_then(Value::as_u64) {
        alignment.push(json!({
            "type": ["Alignment"],
            "targetName": format!("EQF level {level}"),
            "targetFramework": OB_EQF_FRAMEWORK,
            "targetCode": level.to_string(),
            "targetUrl": format!("http://data.europa.eu/snb/eqf/{level}"),
        }));
    }
    for (n, o) in outcomes.iter().enumerate() {
        alignment.push(json!({
            "type": ["Alignment"],
            "targetName": o,
            "targetType": OB_OUTCOME_TYPE,
            "targetUrl": format!("{spec_url}#learning-outcome-{}", n + 1),
        }));
    }
    let esco = def.get("learningOutcomes").and_then(Value::as_array).into_iter().flatten().flat_map(|o| {
        o.get("escoSkills").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
    });
    for skill in esco {
        alignment.push(json!({
            "type": ["Alignment"],
            "targetName": skill.rsplit('/').next().unwrap_or(skill),
            "targetFramework": "ESCO",
            "targetType": "ceasn:Competency",
            "targetUrl": skill,
        }));
    }

    let mut a = Map::new();
    a.insert("id".into(), spec_url.into());
    a.insert("type".into(), json!(["Achievement"]));
    a.insert("achievementType".into(), "MicroCredential".into());
    a.insert("name".into(), title.into());
    a.insert("description".into(), description.into());
    a.insert("criteria".into(), criteria);
    a.insert("humanCode".into(), mc_id.into());
    let body = def.get("awardingBody").unwrap_or(&Value::Null);
    let body_name = text_en(body.get("name"));
    if !body_name.is_empty() {
        let id = body
            .get("homepage")
            .and_then(Value::as_str)
            .map_or_else(|| format!("{}#awarding-body", input.public_url), str::to_owned);
        a.insert("creator".into(), json!({"id": id, "type": ["Profile"], "name": body_name}));
    }
    if let Some(ects) = def.pointer("/workload/ectsCredits").filter(|n| n.is_number()) {
        a.insert("creditsAvailable".into(), ects.clone());
    }
    if let Some(field) = def.pointer("/sector/iscedF").and_then(Value::as_str).and_then(vocabulary::concept) {
        a.insert("fieldOfStudy".into(), field.label.into());
    }
    let mut tags = vec![Value::from("micro-credential")];
    tags.extend(non_empty(text_en(def.pointer("/sector/description"))).map(Value::from));
    a.insert("tag".into(), tags.into());
    if let Some(lang) = def.pointer("/languages/0").and_then(Value::as_str) {
        a.insert("inLanguage".into(), lang.into());
    }
    if !alignment.is_empty() {
        a.insert("alignment".into(), alignment.into());
    }
    Value::Object(a)
}
