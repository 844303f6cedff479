//! The certificate a learner receives: a micro-credential definition and a learner,
//! mapped to European Learning Model (ELM 3) data in the VC 1.1 envelope that ELM/EDC
//! uses, ready to be signed.
//!
//! The ELM certificate profile (`docs/elm-profile.md`: the Council Recommendation's
//! mandatory elements → ELM paths): `@context` is the VC 1.1 base context, the ELM
//! `edc-ap` context (3.2-LTS), Data Integrity v2 (for the proof) and Bitstring Status List
//! v1 (for the status entries); `credentialSchema` names `edc-generic-full`, and
//! `shacl_tests` validates every demo certificate against the 3.2-LTS shapes with pyshacl.
//! Invariants:
//! - every term used is defined by those contexts, so the JSON-LD processor signs all of
//!   it (a test awards every demo micro-credential and verifies the result);
//! - the certificate carries `id`, `issuanceDate`, `issued`, `validFrom`, the learner's
//!   name and the status entries it is given (an ELM certificate is given one, revocation:
//!   EDC allows one `credentialStatus`, [`Profile::status_purposes`]); nothing here
//!   decides status indexes or keys;
//! - the definition's controlled-vocabulary concepts are written with their scheme and
//!   English label;
//! - the learner's e-mail address is never written, only [`SaltedEmail`] (ELM and Open
//!   Badges alike).
//!
//! The same specification is also published on its own, in the LOQ form the Europass
//! course directory takes ([`definition_document`]): a `LearningOpportunity` provided by
//! the awarding body, validated against `LOQ-constraints.ttl` by `shacl_tests`.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::config::IssuerProfile;
use crate::status_lists::Purpose;
use crate::vocabulary;

/// The `@context` of a certificate.
pub const CONTEXT: [&str; 4] = [
    bem_core::contexts::CREDENTIALS_V1,
    bem_core::contexts::ELM_EDC_AP,
    bem_core::contexts::DATA_INTEGRITY_V2,
    bem_core::contexts::STATUS_V1,
];

const ECTS: &str = "http://data.europa.eu/snb/education-credit/6fcec5c5af";
const ECVET: &str = "http://data.europa.eu/snb/education-credit/60b314e826";
const GENERIC_PROFILE: &str = "http://data.europa.eu/snb/credential/e34929035b";
const CREDENTIAL_SCHEME: &str = "http://data.europa.eu/snb/credential/25831c2";
/// The SHACL profile every certificate conforms to (3.2-LTS shapes, tested with pyshacl).
const EDC_GENERIC_FULL: &str = "http://data.europa.eu/snb/model/ap/edc-generic-full";
const LANGUAGE_SCHEME: &str = "http://publications.europa.eu/resource/authority/language";

pub use crate::learner::Learner;

/// Everything a certificate is made of.
pub struct Input<'a> {
    pub definition: &'a Value,
    pub learner: &'a Learner,
    pub issuer_did: &'a str,
    pub issuer: &'a IssuerProfile,
    pub public_url: &'a str,
    /// The credential's `id` (`urn:uuid:…`).
    pub credential_id: &'a str,
    /// Date of issuing, `YYYY-MM-DDThh:mm:ssZ`.
    pub issued: &'a str,
    /// The `BitstringStatusListEntry` objects.
    pub status: &'a [Value],
}

/// The form a certificate is issued in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// European Learning Model data (this module): the default.
    #[default]
    Elm,
    /// Open Badges 3.0 `OpenBadgeCredential` ([`crate::badge`]).
    OpenBadges,
}

impl Profile {
    /// `elm` or `openbadges` (also `ob3`), as the award routes' `?profile=` names them.
    pub fn parse(name: &str) -> Option<Profile> {
        match name {
            "elm" => Some(Profile::Elm),
            "openbadges" | "ob3" => Some(Profile::OpenBadges),
            _ => None,
        }
    }

    /// The status entries a certificate of this form carries. EDC's shapes allow one
    /// `credentialStatus` (`maxCount 1`), so an ELM certificate has a revocation entry
    /// only; an Open Badges certificate can also be suspended.
    pub fn status_purposes(self) -> &'static [Purpose] {
        match self {
            Profile::Elm => &[Purpose::Revocation],
            Profile::OpenBadges => &[Purpose::Revocation, Purpose::Suspension],
        }
    }

    /// The unsigned certificate in this form.
    pub fn build(self, input: &Input<'_>) -> Value {
        match self {
            Profile::Elm => build(input),
            Profile::OpenBadges => crate::badge::build(input),
        }
    }
}

/// The unsigned certificate (ELM form).
pub fn build(input: &Input<'_>) -> Value {
    let def = input.definition;
    let mut ids = NodeIds::default();
    let mut doc = Map::new();
    doc.insert("@context".into(), json!(CONTEXT));
    doc.insert("id".into(), input.credential_id.into());
    doc.insert("type".into(), json!(["VerifiableCredential", "EuropeanDigitalCredential"]));
    doc.insert(
        "credentialProfiles".into(),
        json!({
            "id": GENERIC_PROFILE,
            "type": "Concept",
            "inScheme": {"id": CREDENTIAL_SCHEME, "type": "ConceptScheme"},
            "prefLabel": {"en": "Generic"},
        }),
    );
    if let Some(display) = display_parameter(input, &mut ids) {
        doc.insert("displayParameter".into(), display);
    }
    doc.insert("issuer".into(), issuer_node(input.issuer_did, input.issuer, &mut ids));
    doc.insert("issuanceDate".into(), input.issued.into());
    doc.insert("issued".into(), input.issued.into());
    doc.insert("validFrom".into(), input.issued.into());
    if let Some(months) = def.pointer("/validity/months").and_then(Value::as_u64) {
        if let Some(until) =
            u32::try_from(months).ok().and_then(|m| crate::clock::add_months(input.issued, m))
        {
            doc.insert("expirationDate".into(), until.clone().into());
            doc.insert("validUntil".into(), until.into());
        }
    }
    doc.insert("credentialSubject".into(), subject(input, &mut ids));
    doc.insert("credentialSchema".into(), json!([{"id": EDC_GENERIC_FULL, "type": "ShaclValidator2017"}]));
    if let Some(status) = credential_status(input.status) {
        doc.insert("credentialStatus".into(), status);
    }
    Value::Object(doc)
}

/// The certificate's `credentialStatus`: EDC's shapes want one IRI node of class
/// `elm:CredentialStatus`, so each Bitstring Status List entry (with its `id`) is also
/// typed `CredentialStatus`, and a single entry is written as an object, not an array.
/// The entry keeps its `BitstringStatusListEntry` type, which gives its properties their
/// meaning and which status checkers look for.
fn credential_status(entries: &[Value]) -> Option<Value> {
    let typed: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            if let Some(obj) = entry.as_object_mut() {
                obj.insert("type".into(), json!([bem_core::status_list::ENTRY_TYPE, "CredentialStatus"]));
            }
            entry
        })
        .collect();
    match <[Value; 1]>::try_from(typed) {
        Ok([one]) => Some(one),
        Err(typed) if typed.is_empty() => None,
        Err(typed) => Some(Value::Array(typed)),
    }
}

/// The `@context` of a definition's LOQ form (no proof, no status: nothing else is used).
pub const LOQ_CONTEXT: [&str; 2] = [bem_core::contexts::CREDENTIALS_V1, bem_core::contexts::ELM_EDC_AP];

/// `elm:defaultLanguage`, which LOQ requires on a learning opportunity but the ELM
/// `edc-ap` context defines no term for: written as a compact IRI on the context's `elm`
/// prefix, so the strict JSON-LD processing still finds no undefined term.
const DEFAULT_LANGUAGE: &str = "elm:defaultLanguage";

/// The definition in its LOQ form (the profile the Europass course directory takes, shapes
/// `LOQ-constraints.ttl`), as a JSON-LD document of its own: a `LearningOpportunity`
/// provided by the awarding body whose `learningAchievementSpecification` is the
/// certificate's specification (`docs/elm-profile.md`, "LOQ form").
pub fn definition_document(definition: &Value, public_url: &str) -> Value {
    let mut ids = NodeIds::default();
    let mut doc = Map::new();
    doc.insert("@context".into(), json!(LOQ_CONTEXT));
    if let Value::Object(opportunity) = learning_opportunity(definition, public_url, &mut ids) {
        doc.extend(opportunity);
    }
    Value::Object(doc)
}

/// The `LearningOpportunity` of a definition: its id is the definition's page with the
/// fragment `#learning-opportunity` (the page itself names the specification, as in
/// every certificate's `specifiedBy`).
fn learning_opportunity(def: &Value, public_url: &str, ids: &mut NodeIds) -> Value {
    let mut spec = specification(def, public_url, ids);
    if let Some(obj) = spec.as_object_mut() {
        // LOQ shapes want a parent (`isPartOf`) described in full (NQF and EQF level,
        // outcomes, ...), which only its own publication has; the stackability note keeps
        // the text.
        obj.remove("isPartOf");
        // LOQ wants an NQF level on every Qualification, from the QDR list only where the
        // framework is in it ("recommended"); a framework the QDR does not list is named
        // here. The certificate never carries that form: EDC takes QDR levels only.
        if def.get("eqfLevel").is_some() {
            if let Some(level) = def.get("nqfLevel").and_then(national_level) {
                obj.insert("nqfLevel".into(), level);
            }
        }
    }
    let page = spec.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut lo = Map::new();
    lo.insert("id".into(), format!("{page}#learning-opportunity").into());
    lo.insert("type".into(), "LearningOpportunity".into());
    lo.insert("title".into(), def.get("title").cloned().unwrap_or_else(|| json!({})));
    if let Some(summary) = def.get("summary") {
        lo.insert("description".into(), summary.clone());
    }
    if let Some(url) = def.get("courseUrl").and_then(Value::as_str) {
        lo.insert("homepage".into(), web_resource(url, ids));
    }
    lo.insert("providedBy".into(), awarding_body(def, ids));
    lo.insert(DEFAULT_LANGUAGE.into(), default_language(def));
    if let Some(mode) = def.pointer("/participation/mode").and_then(Value::as_str) {
        lo.insert("mode".into(), concept(mode));
    }
    if let Some(schedule) = def.pointer("/participation/description") {
        lo.insert("scheduleInformation".into(), note(schedule, ids));
    }
    lo.insert("learningAchievementSpecification".into(), spec);
    Value::Object(lo)
}

/// The language a learning opportunity's texts are authoritative in: the first language
/// of instruction (`languages`) the title is written in, else English (every title has
/// it), since the texts of a record must exist in its default language.
fn default_language(def: &Value) -> Value {
    let title = def.get("title").and_then(Value::as_object);
    let code = def
        .get("languages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|code| title.is_some_and(|t| t.contains_key(*code)) && vocabulary::language(code).is_some())
        .unwrap_or("en");
    language_concept(code)
        .unwrap_or_else(|| json!({"id": format!("{LANGUAGE_SCHEME}/ENG"), "type": "Concept"}))
}

/// Local node ids, `urn:epass:<class>:<n>`, as EDC writes them.
#[derive(Default)]
struct NodeIds(u32);

impl NodeIds {
    fn next(&mut self, class: &str) -> String {
        self.0 += 1;
        format!("urn:epass:{class}:{}", self.0)
    }
}

fn concept(uri: &str) -> Value {
    match vocabulary::concept(uri) {
        Some(c) => json!({
            "id": uri,
            "type": "Concept",
            "inScheme": {"id": c.scheme, "type": "ConceptScheme"},
            "prefLabel": {"en": c.label},
        }),
        None => json!({"id": uri, "type": "Concept"}),
    }
}

/// The English name of a definition's `nqfLevel`: the QDR level's label ("NQFS Level 3"),
/// or "<framework>, level <level>" for a framework the QDR does not list.
pub fn nqf_label(nqf: &Value) -> Option<String> {
    match nqf {
        Value::String(uri) => vocabulary::concept(uri).map(|c| c.label.to_owned()),
        _ => {
            let framework = nqf.get("framework").and_then(Value::as_str)?;
            let level = nqf.get("level").and_then(Value::as_str)?;
            Some(format!("{framework}, level {level}"))
        }
    }
}

/// `nqfLevel`'s object form (a level of a framework the QDR does not list) as a SKOS
/// concept: labelled "<framework>, level <level>", the level as its notation, in a concept
/// scheme named by the framework; `id` only where the definition gives the level's own.
/// `None` for the string form (a QDR concept, which [`concept`] writes).
fn national_level(nqf: &Value) -> Option<Value> {
    let framework = nqf.get("framework").and_then(Value::as_str)?;
    let level = nqf.get("level").and_then(Value::as_str)?;
    let mut node = Map::new();
    if let Some(id) = nqf.get("id").and_then(Value::as_str) {
        node.insert("id".into(), id.into());
    }
    node.insert("type".into(), "Concept".into());
    node.insert("prefLabel".into(), json!({"en": nqf_label(nqf)?}));
    node.insert("notation".into(), level.into());
    node.insert("inScheme".into(), json!({"type": "ConceptScheme", "prefLabel": {"en": framework}}));
    Some(Value::Object(node))
}

fn language_concept(code: &str) -> Option<Value> {
    vocabulary::language(code).map(|(code, name)| {
        json!({
            "id": format!("{LANGUAGE_SCHEME}/{code}"),
            "type": "Concept",
            "inScheme": {"id": LANGUAGE_SCHEME, "type": "ConceptScheme"},
            "prefLabel": {"en": name},
        })
    })
}

/// The display parameters: one individual display per language of the definition's
/// title (English first when there is one), each an image: a small QR code of the
/// micro-credential's page (2 px a module, so bulk awards stay fast). `None` only if no language is known or the QR code cannot be drawn.
fn display_parameter(input: &Input<'_>, ids: &mut NodeIds) -> Option<Value> {
    let title = input.definition.get("title").cloned().unwrap_or_else(|| json!({}));
    let mut codes: Vec<&str> =
        title.as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
    codes.sort_by_key(|c| *c != "en");
    let languages: Vec<Value> = codes.iter().filter_map(|c| language_concept(c)).collect();
    let primary = languages.first()?.clone();
    let mc_id = input.definition.get("id").and_then(Value::as_str).unwrap_or_default();
    let png = small_qr_png(&format!("{}/micro-credentials/{mc_id}", input.public_url))?;
    use base64::Engine as _;
    let content = base64::engine::general_purpose::STANDARD.encode(png);
    let image = json!({
        "id": ids.next("mediaObject"),
        "type": "MediaObject",
        "content": content,
        "contentEncoding": {
            "id": "http://data.europa.eu/snb/encoding/6146cde7dd",
            "type": "Concept",
            "inScheme": {"id": "http://data.europa.eu/snb/encoding/25831c2", "type": "ConceptScheme"},
            "prefLabel": {"en": "base64"},
        },
        "contentType": {
            "id": "http://publications.europa.eu/resource/authority/file-type/PNG",
            "type": "Concept",
            "inScheme": {"id": "http://publications.europa.eu/resource/authority/file-type", "type": "ConceptScheme"},
            "prefLabel": {"en": "PNG"},
        },
    });
    let image_id = image.get("id").cloned().unwrap_or(Value::Null);
    let displays: Vec<Value> = languages
        .iter()
        .enumerate()
        .map(|(n, language)| {
            // The same image node in every language: written whole once, then by its id.
            let image = if n == 0 { image.clone() } else { json!({"id": image_id}) };
            json!({
                "id": ids.next("individualDisplay"),
                "type": "IndividualDisplay",
                "language": language,
                "displayDetail": {"id": ids.next("displayDetail"), "type": "DisplayDetail", "image": image, "page": 1},
            })
        })
        .collect();
    Some(json!({
        "id": ids.next("displayParameter"),
        "type": "DisplayParameter",
        "title": title,
        "description": input.definition.get("summary").cloned().unwrap_or_else(|| json!({"en": "Micro-credential"})),
        "language": languages,
        "primaryLanguage": primary,
        "individualDisplay": displays,
    }))
}

fn small_qr_png(text: &str) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).ok()?;
    let image = code.render::<image::Luma<u8>>().module_dimensions(2, 2).build();
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).ok()?;
    Some(out.into_inner())
}

fn note(text: &Value, ids: &mut NodeIds) -> Value {
    json!({"id": ids.next("note"), "type": "Note", "noteLiteral": text})
}

/// A Note whose subject says what it is about (quality assurance, sector, ...).
fn labelled_note(subject: &str, label: &str, text: &Value, ids: &mut NodeIds) -> Value {
    json!({
        "id": ids.next("note"),
        "type": "Note",
        "subject": {"id": format!("urn:bem:note-subject:{subject}"), "type": "Concept", "prefLabel": {"en": label}},
        "noteLiteral": text,
    })
}

fn web_resource(url: &str, ids: &mut NodeIds) -> Value {
    json!({"id": ids.next("webResource"), "type": "WebResource", "contentURL": url})
}

fn issuer_node(did: &str, profile: &IssuerProfile, ids: &mut NodeIds) -> Value {
    let mut org = Map::new();
    org.insert("id".into(), did.into());
    org.insert("type".into(), "Organisation".into());
    org.insert("legalName".into(), json!({"en": profile.name}));
    org.insert(
        "location".into(),
        json!({
            "id": ids.next("location"),
            "type": "Location",
            "address": {"id": ids.next("address"), "type": "Address", "countryCode": concept(&profile.country_uri)},
        }),
    );
    // EDC's IssuerNodeShape wants exactly one legal identifier: the configured one, else
    // the issuer's DID (the identifier its proofs are bound to).
    let (notation, scheme) = match &profile.legal_identifier {
        Some(reg) => (reg.as_str(), "Legal identifier of the issuer"),
        None => (did, "Decentralized identifier (DID) of the issuer"),
    };
    org.insert(
        "eIDASIdentifier".into(),
        json!({"id": ids.next("legalIdentifier"), "type": "LegalIdentifier", "notation": notation, "schemeName": scheme, "spatial": concept(&profile.country_uri)}),
    );
    if let Some(home) = &profile.homepage {
        org.insert("homepage".into(), web_resource(home, ids));
    }
    Value::Object(org)
}

fn awarding_body(def: &Value, ids: &mut NodeIds) -> Value {
    let body = def.get("awardingBody").cloned().unwrap_or(Value::Null);
    let country = body.pointer("/country/uri").and_then(Value::as_str).unwrap_or_default();
    let mut org = Map::new();
    org.insert("id".into(), ids.next("organisation").into());
    org.insert("type".into(), "Organisation".into());
    org.insert("legalName".into(), body.get("name").cloned().unwrap_or_else(|| json!({})));
    let mut address = json!({"id": ids.next("address"), "type": "Address", "countryCode": concept(country)});
    if let (Some(region), Some(a)) = (body.get("region").and_then(Value::as_str), address.as_object_mut()) {
        a.insert("fullAddress".into(), note(&json!({"en": region}), ids));
    }
    org.insert(
        "location".into(),
        json!({"id": ids.next("location"), "type": "Location", "address": address}),
    );
    if let Some(reg) = body.get("legalIdentifier") {
        let mut id = json!({
            "id": ids.next("legalIdentifier"),
            "type": "LegalIdentifier",
            "notation": reg.get("notation").cloned().unwrap_or(Value::Null),
            "spatial": concept(country),
        });
        if let (Some(scheme), Some(obj)) = (reg.get("schemeName"), id.as_object_mut()) {
            obj.insert("schemeName".into(), scheme.clone());
        }
        org.insert("registration".into(), id);
    }
    if let Some(home) = body.get("homepage").and_then(Value::as_str) {
        org.insert("homepage".into(), web_resource(home, ids));
    }
    Value::Object(org)
}

/// The LearningAchievementSpecification (a Qualification when it has an EQF level).
fn specification(def: &Value, public_url: &str, ids: &mut NodeIds) -> Value {
    let mc_id = def.get("id").and_then(Value::as_str).unwrap_or_default();
    let mut spec = Map::new();
    spec.insert("id".into(), format!("{public_url}/micro-credentials/{mc_id}").into());
    let eqf = def.get("eqfLevel").and_then(Value::as_u64);
    spec.insert(
        "type".into(),
        if eqf.is_some() { "Qualification" } else { "LearningAchievementSpecification" }.into(),
    );
    spec.insert("title".into(), def.get("title").cloned().unwrap_or_else(|| json!({})));
    if let Some(summary) = def.get("summary") {
        spec.insert("description".into(), summary.clone());
    }
    let outcomes: Vec<Value> = def
        .get("learningOutcomes")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|o| {
                    let mut lo = json!({"id": ids.next("learningOutcome"), "type": "LearningOutcome", "title": o.get("title").cloned().unwrap_or(Value::Null)});
                    if let (Some(skills), Some(obj)) = (o.get("escoSkills").and_then(Value::as_array), lo.as_object_mut()) {
                        let skills: Vec<Value> = skills
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|uri| json!({"id": uri, "type": "Concept", "inScheme": {"id": "http://data.europa.eu/esco/concept-scheme/skills", "type": "ConceptScheme"}}))
                            .collect();
                        obj.insert("relatedESCOSkill".into(), skills.into());
                    }
                    lo
                })
                .collect()
        })
        .unwrap_or_default();
    spec.insert("learningOutcome".into(), outcomes.into());
    let mut credits = Vec::new();
    for (field, framework) in [("ectsCredits", ECTS), ("ecvetPoints", ECVET)] {
        if let Some(n) = def.pointer(&format!("/workload/{field}")).and_then(Value::as_number) {
            credits.push(json!({"id": ids.next("creditPoint"), "type": "CreditPoint", "framework": concept(framework), "point": n.to_string()}));
        }
    }
    if !credits.is_empty() {
        spec.insert("creditPoint".into(), credits.into());
    }
    if let Some(hours) = def.pointer("/workload/hours").and_then(Value::as_u64) {
        spec.insert("volumeOfLearning".into(), format!("PT{hours}H").into());
    }
    if let Some(level) = eqf {
        spec.insert("eqfLevel".into(), concept(&format!("http://data.europa.eu/snb/eqf/{level}")));
        // Only a Qualification has an NQF level (the schema wants `eqfLevel` with it), and
        // here only a QDR level (EDC's `NQFLevelRestriction`); a national framework's level
        // the QDR does not list goes to the LOQ form only (`learning_opportunity`).
        if let Some(nqf) = def.get("nqfLevel").and_then(Value::as_str) {
            spec.insert("nqfLevel".into(), concept(nqf));
        }
    }
    if let Some(isced) = def.pointer("/sector/iscedF").and_then(Value::as_str) {
        spec.insert("thematicArea".into(), concept(isced));
    }
    if let Some(mode) = def.pointer("/participation/mode").and_then(Value::as_str) {
        spec.insert("mode".into(), concept(mode));
    }
    if let Some(setting) = def.get("learningSetting").and_then(Value::as_str) {
        spec.insert("learningSetting".into(), concept(setting));
    }
    let languages: Vec<Value> = def
        .get("languages")
        .and_then(Value::as_array)
        .map(|codes| {
            codes
                .iter()
                .filter_map(Value::as_str)
                .filter_map(vocabulary::language)
                .map(|(code, name)| {
                    json!({
                        "id": format!("http://publications.europa.eu/resource/authority/language/{code}"),
                        "type": "Concept",
                        "inScheme": {"id": "http://publications.europa.eu/resource/authority/language", "type": "ConceptScheme"},
                        "prefLabel": {"en": name},
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    if !languages.is_empty() {
        spec.insert("language".into(), languages.into());
    }
    if let Some(pre) = def.get("prerequisites") {
        spec.insert("entryRequirement".into(), note(pre, ids));
    }
    if let Some(groups) = def.get("targetGroupConcepts").and_then(Value::as_array) {
        let groups: Vec<Value> = groups.iter().filter_map(Value::as_str).map(concept).collect();
        spec.insert("targetGroup".into(), groups.into());
    }
    if let Some(url) = def.get("courseUrl").and_then(Value::as_str) {
        spec.insert("homepage".into(), web_resource(url, ids));
    }
    let mut notes = Vec::new();
    let texts: [(&str, &str, Option<&Value>); 5] = [
        ("quality-assurance", "Type of quality assurance", def.get("qualityAssurance")),
        ("sector", "Sector", def.pointer("/sector/description")),
        ("participation", "Form of participation", def.pointer("/participation/description")),
        ("stackability", "Integration and stackability options", def.pointer("/stackability/description")),
        ("further-information", "Further information", def.get("furtherInformation")),
    ];
    for (subject, label, text) in texts {
        if let Some(text) = text {
            notes.push(labelled_note(subject, label, text, ids));
        }
    }
    if let Some(groups) = def.get("targetGroups").and_then(Value::as_array) {
        for g in groups {
            notes.push(labelled_note("target-group", "Target group", g, ids));
        }
    }
    if let Some(validity) = def.pointer("/validity/note") {
        notes.push(labelled_note("validity", "Validity", validity, ids));
    }
    if !notes.is_empty() {
        spec.insert("additionalNote".into(), notes.into());
    }
    if let Some(parts) = def.pointer("/stackability/partOf").and_then(Value::as_array) {
        let parts: Vec<Value> = parts
            .iter()
            .map(|p| {
                let id = match (
                    p.get("catalogueId").and_then(Value::as_str),
                    p.get("url").and_then(Value::as_str),
                ) {
                    (Some(cid), _) => format!("{public_url}/micro-credentials/{cid}"),
                    (None, Some(url)) => url.to_owned(),
                    (None, None) => ids.next("learningAchievementSpecification"),
                };
                // A Qualification may only be part of a Qualification (3.2-LTS shapes).
                let kind = if eqf.is_some() { "Qualification" } else { "LearningAchievementSpecification" };
                json!({"id": id, "type": kind, "title": p.get("title").cloned().unwrap_or(Value::Null)})
            })
            .collect();
        spec.insert("isPartOf".into(), parts.into());
    }
    Value::Object(spec)
}

fn assessment(def: &Value, learner: &Learner, awarded_by: &Value, ids: &mut NodeIds) -> Value {
    let title = json!({"en": "Assessment"});
    let mut spec = json!({
        "id": ids.next("learningAssessmentSpec"),
        "type": "LearningAssessmentSpecification",
        "title": title,
    });
    if let Some(obj) = spec.as_object_mut() {
        if let Some(d) = def.pointer("/assessment/description") {
            obj.insert("description".into(), d.clone());
        }
        if let Some(t) = def.pointer("/assessment/type").and_then(Value::as_str) {
            obj.insert("dcType".into(), concept(t));
        }
        if let Some(g) = def.get("grading") {
            obj.insert(
                "gradingScheme".into(),
                json!({"id": ids.next("gradingScheme"), "type": "GradingScheme", "title": {"en": "Grading"}, "description": g}),
            );
        }
    }
    let grade = learner.grade.clone().unwrap_or_else(|| "Passed".to_owned());
    let mut assessment = json!({
        "id": ids.next("learningAssessment"),
        "type": "LearningAssessment",
        "title": title,
        "grade": note(&json!({"en": grade}), ids),
        "awardedBy": awarded_by,
        "specifiedBy": spec,
    });
    if let (Some(sv), Some(obj)) = (def.get("supervisionAndIdentityVerification"), assessment.as_object_mut())
    {
        if sv.get("type").and_then(Value::as_str) == Some(vocabulary::UNSUPERVISED_NO_ID) {
            obj.insert(
                "idVerification".into(),
                json!({
                    "id": vocabulary::UNSUPERVISED_NO_ID,
                    "type": "Concept",
                    "inScheme": {"id": "http://data.europa.eu/snb/supervision-verification/25831c2", "type": "ConceptScheme"},
                    "prefLabel": {"en": "Unsupervised without ID Verification"},
                }),
            );
        }
        let category = sv.get("category").and_then(Value::as_str).unwrap_or_default();
        let mut text = json!({"en": supervision_label(category)});
        if let (Some(Value::Object(desc)), Some(t)) = (sv.get("description"), text.as_object_mut()) {
            for (lang, v) in desc {
                let label =
                    t.get(lang).and_then(Value::as_str).unwrap_or(supervision_label(category)).to_owned();
                let joined = if lang == "en" {
                    format!("{label}. {}", v.as_str().unwrap_or_default())
                } else {
                    v.as_str().unwrap_or_default().to_owned()
                };
                t.insert(lang.clone(), joined.into());
            }
        }
        obj.insert(
            "additionalNote".into(),
            json!([labelled_note("supervision", "Supervision and identity verification", &text, ids)]),
        );
    }
    assessment
}

fn supervision_label(category: &str) -> &'static str {
    match category {
        "unsupervised-no-identity-verification" => "Unsupervised, identity not verified",
        "supervised-no-identity-verification" => "Supervised, identity not verified",
        "supervised-online-identity-verification" => "Supervised online, identity verified",
        "supervised-onsite-identity-verification" => "Supervised on site, identity verified",
        _ => "Supervision",
    }
}

fn subject(input: &Input<'_>, ids: &mut NodeIds) -> Value {
    let def = input.definition;
    let learner = input.learner;
    let mut person = Map::new();
    person.insert("id".into(), crate::clock::urn_uuid().into());
    person.insert("type".into(), "Person".into());
    person.insert("fullName".into(), json!({"en": learner.name}));
    if let Some(g) = &learner.given_name {
        person.insert("givenName".into(), json!({"en": g}));
    }
    if let Some(f) = &learner.family_name {
        person.insert("familyName".into(), json!({"en": f}));
    }
    if let Some(d) = &learner.date_of_birth {
        person.insert("dateOfBirth".into(), format!("{d}T00:00:00Z").into());
    }
    let mut identifiers = Vec::new();
    if let Some(i) = &learner.identifier {
        identifiers.push(json!({"id": ids.next("identifier"), "type": "Identifier", "notation": i, "schemeName": "Learner identifier of the awarding body"}));
    }
    if let Some(e) = &learner.email {
        let hashed = SaltedEmail::new(e);
        identifiers.push(json!({"id": ids.next("identifier"), "type": "Identifier", "notation": hashed.notation(), "schemeName": SaltedEmail::SCHEME}));
    }
    if !identifiers.is_empty() {
        person.insert("identifier".into(), identifiers.into());
    }
    let spec = specification(def, input.public_url, ids);
    // One awarding process for the achievement and its assessment (3.2-LTS wants
    // `awardedBy` on both); the same id, so written whole once and then by reference.
    let awarded_by = json!({
        "id": ids.next("awardingProcess"),
        "type": "AwardingProcess",
        "awardingBody": awarding_body(def, ids),
        "awardingDate": input.issued,
    });
    let awarded_by_ref = json!({"id": awarded_by.get("id").cloned().unwrap_or(Value::Null)});
    let achievement = json!({
        "id": ids.next("learningAchievement"),
        "type": "LearningAchievement",
        "title": def.get("title").cloned().unwrap_or_else(|| json!({})),
        "awardedBy": awarded_by,
        "provenBy": assessment(def, learner, &awarded_by_ref, ids),
        "specifiedBy": spec,
    });
    person.insert("hasClaim".into(), achievement);
    Value::Object(person)
}

/// The one rule for a learner's e-mail address in every certificate form: never the
/// address, only SHA-256 over the trimmed, lower-cased address followed by a fresh
/// random salt of 16 bytes (as 32 hex digits), the salt published beside the hash (Open
/// Badges' `IdentityObject`). Whoever knows the address can confirm it; a dictionary of
/// addresses must be hashed again for every certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaltedEmail {
    /// 32 hex digits.
    pub salt: String,
    /// 64 hex digits: SHA-256(address ‖ salt).
    pub hash: String,
}

impl SaltedEmail {
    /// The ELM identifier's `schemeName`, which says how to read its `notation`.
    pub const SCHEME: &'static str =
        "Salted SHA-256 of the learner's e-mail address: salted-sha256$SALT$HEX(SHA-256(lower-cased address followed by SALT))";

    pub fn new(email: &str) -> SaltedEmail {
        use rand_core::{OsRng, RngCore};
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        SaltedEmail::with_salt(email, &hex(&salt))
    }

    fn with_salt(email: &str, salt: &str) -> SaltedEmail {
        let hash = hex(&Sha256::digest(format!("{}{salt}", email.trim().to_lowercase())));
        SaltedEmail { salt: salt.to_owned(), hash }
    }

    /// The ELM identifier's notation: `salted-sha256$SALT$HASH`.
    pub fn notation(&self) -> String {
        format!("salted-sha256${}${}", self.salt, self.hash)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> IssuerProfile {
        IssuerProfile {
            name: "Test issuer".into(),
            country_uri: "http://publications.europa.eu/resource/authority/country/DEU".into(),
            legal_identifier: Some("HRB 1".into()),
            homepage: Some("https://issuer.example/".into()),
        }
    }

    /// Issue 10: every certificate this issuer can produce (each demo definition, both
    /// profiles, a learner with only a name and one with every field, with and without a
    /// status entry), signed, is canonicalized by the core's fast JSON-LD path, never
    /// the general one, and both give byte-identical canonical N-Quads.
    #[test]
    fn every_certificate_the_issuer_makes_takes_the_fast_path_and_matches_the_general_processor() {
        use bem_core::contexts::{to_rdf_general, ContextPolicy};
        use bem_core::data_integrity::{add_proof, Cryptosuite, ProofOptions, ProofPurpose};
        use bem_core::{fast_ld, rdfc};
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let did = bem_core::did_key::DidKey::from_public_key(&key.verifying_key());
        use crate::learner::samples;
        let (minimal, full) = (samples::minimal(), samples::full());
        let canonical =
            |quads: &[bem_core::rdf::Quad]| rdfc::canonicalize(quads, &rdfc::Limits::default()).unwrap();
        let mut checked = 0;
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            for form in [Profile::Elm, Profile::OpenBadges] {
                let status = samples::status_entries(form);
                for (learner, status) in [(&minimal, &[][..]), (&full, &status[..])] {
                    let doc = form.build(&Input {
                        definition: &def,
                        learner,
                        issuer_did: did.did(),
                        issuer: &profile(),
                        public_url: "http://127.0.0.1:8080",
                        credential_id: "urn:uuid:00000000-0000-4000-8000-000000000000",
                        issued: "2025-06-01T12:00:00Z",
                        status,
                    });
                    let mut options = ProofOptions::new(
                        Cryptosuite::EddsaRdfc2022,
                        did.verification_method_id(),
                        ProofPurpose::AssertionMethod,
                    );
                    options.created = Some("2025-06-01T12:00:00Z".into());
                    let signed = add_proof(&doc, &options, &key, ContextPolicy::STRICT).unwrap();
                    let mut config = signed["proof"].as_object().unwrap().clone();
                    config.remove("proofValue");
                    config.insert("@context".into(), signed["@context"].clone());
                    for part in [doc.clone(), Value::Object(config)] {
                        let fast = fast_ld::to_rdf(&part, ContextPolicy::STRICT)
                            .unwrap_or_else(|e| panic!("{} {form:?}: fast path declined: {e:?}", def["id"]));
                        let general = to_rdf_general(&part, ContextPolicy::STRICT).unwrap();
                        assert_eq!(canonical(&fast), canonical(&general), "{} {form:?}", def["id"]);
                        // Far from the RDFC work bound: no N-degree work at all.
                        let (_, work) =
                            rdfc::canonicalize_measured(&fast, &rdfc::Limits::CREDENTIALS).unwrap();
                        assert_eq!(work, 0, "{} {form:?}", def["id"]);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked >= 14 * 2 * 2 * 2, "{checked}");
    }

    #[test]
    fn learners_are_checked_and_trimmed() {
        let ok = Learner {
            name: "  Олена Ковальчук ".into(), email: Some(" ".into()), ..Learner::default()
        };
        let n = ok.normalized().unwrap();
        assert_eq!(n.name, "Олена Ковальчук");
        assert_eq!(n.email, None);
        let bad = Learner {
            name: " ".into(),
            date_of_birth: Some("2001-02-30".into()),
            email: Some("nobody".into()),
            ..Learner::default()
        };
        assert_eq!(bad.normalized().unwrap_err().len(), 3);
    }

    /// The LOQ form of every demo definition, element by element: each definition field
    /// at its ELM path (`docs/elm-profile.md`, "LOQ form"), and the whole through the
    /// core's strict JSON-LD processing.
    #[test]
    fn the_loq_form_puts_every_definition_field_at_its_elm_path() {
        const URL: &str = "http://127.0.0.1:8080";
        let text = |v: &Value| v["noteLiteral"].clone();
        let ids =
            |v: &Value| -> Vec<Value> { v.as_array().unwrap().iter().map(|c| c["id"].clone()).collect() };
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            let id = def["id"].as_str().unwrap();
            let lo = definition_document(&def, URL);
            let page = format!("{URL}/micro-credentials/{id}");
            assert_eq!(lo["@context"], json!(LOQ_CONTEXT));
            assert_eq!(lo["type"], "LearningOpportunity", "{id}");
            assert_eq!(lo["id"], format!("{page}#learning-opportunity"));
            assert_eq!(lo["title"], def["title"]);
            assert_eq!(lo.get("description"), def.get("summary"));
            assert_eq!(lo["homepage"]["contentURL"], def["courseUrl"]);
            // awardingBody → providedBy (an Organisation).
            let (org, body) = (&lo["providedBy"], &def["awardingBody"]);
            assert_eq!(org["type"], "Organisation");
            assert_eq!(org["legalName"], body["name"]);
            assert_eq!(org["location"]["address"]["countryCode"]["id"], body["country"]["uri"]);
            assert_eq!(org["location"]["address"]["fullAddress"]["noteLiteral"]["en"], body["region"]);
            assert_eq!(org.pointer("/registration/notation"), body.pointer("/legalIdentifier/notation"));
            assert_eq!(org.pointer("/homepage/contentURL"), body.get("homepage"));
            // participation → mode and scheduleInformation.
            assert_eq!(lo["mode"]["id"], def["participation"]["mode"]);
            assert_eq!(lo["scheduleInformation"]["noteLiteral"], def["participation"]["description"]);
            // The specification: the certificate's, without `isPartOf`.
            let spec = &lo["learningAchievementSpecification"];
            assert_eq!(spec["id"], page);
            let eqf = def.get("eqfLevel");
            assert_eq!(
                spec["type"],
                if eqf.is_some() { "Qualification" } else { "LearningAchievementSpecification" }
            );
            assert_eq!(spec["title"], def["title"]);
            assert_eq!(spec.get("description"), def.get("summary"));
            assert_eq!(
                spec["learningOutcome"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["title"].clone())
                    .collect::<Vec<_>>(),
                def["learningOutcomes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["title"].clone())
                    .collect::<Vec<_>>()
            );
            assert_eq!(
                spec.pointer("/eqfLevel/id").and_then(Value::as_str),
                eqf.map(|l| format!("http://data.europa.eu/snb/eqf/{l}")).as_deref()
            );
            // nqfLevel: a QDR concept, or the national framework's level; on every
            // Qualification (LOQ wants one), never elsewhere.
            assert_eq!(spec.get("nqfLevel").is_some(), eqf.is_some(), "{id}");
            match def.get("nqfLevel") {
                Some(Value::String(uri)) => {
                    assert_eq!(spec["nqfLevel"]["id"], *uri);
                    assert_eq!(spec["nqfLevel"]["inScheme"]["id"], vocabulary::QDR_SCHEME);
                    assert!(spec["nqfLevel"]["prefLabel"]["en"].as_str().unwrap().contains("Level"));
                }
                Some(national) => {
                    let (framework, level) = (&national["framework"], &national["level"]);
                    let label = format!("{}, level {}", framework.as_str().unwrap(), level.as_str().unwrap());
                    assert_eq!(
                        spec["nqfLevel"],
                        json!({
                            "type": "Concept",
                            "prefLabel": {"en": label},
                            "notation": level,
                            "inScheme": {"type": "ConceptScheme", "prefLabel": {"en": framework}},
                        }),
                        "{id}"
                    );
                }
                None => {}
            }
            assert_eq!(spec["thematicArea"]["id"], def["sector"]["iscedF"]);
            assert_eq!(spec["mode"]["id"], def["participation"]["mode"]);
            assert_eq!(spec["learningSetting"]["id"], def["learningSetting"]);
            assert_eq!(spec["homepage"]["contentURL"], def["courseUrl"]);
            assert_eq!(
                spec["language"].as_array().unwrap().len(),
                def["languages"].as_array().unwrap().len()
            );
            assert_eq!(
                spec.pointer("/volumeOfLearning").and_then(Value::as_str),
                def.pointer("/workload/hours").map(|h| format!("PT{h}H")).as_deref()
            );
            assert_eq!(spec.get("entryRequirement").map(text), def.get("prerequisites").cloned());
            assert_eq!(
                spec.get("targetGroup").map(ids),
                def.get("targetGroupConcepts").map(|g| g.as_array().unwrap().clone())
            );
            assert!(spec.get("isPartOf").is_none(), "{id}");
            // qualityAssurance → a note of the specification, subject quality-assurance.
            let qa: Vec<&Value> = spec["additionalNote"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["subject"]["id"] == "urn:bem:note-subject:quality-assurance")
                .collect();
            assert_eq!(qa.len(), 1, "{id}");
            assert_eq!(qa[0]["noteLiteral"], def["qualityAssurance"]);
            // Strict JSON-LD: no undefined term; the compact IRI expands to elm:defaultLanguage.
            let quads = bem_core::contexts::to_rdf(&lo, bem_core::contexts::ContextPolicy::STRICT).unwrap();
            let nquads = bem_core::rdf::to_nquads(&quads);
            assert!(nquads.contains("<http://data.europa.eu/snb/model/elm/defaultLanguage>"), "{id}");
            assert!(nquads.contains("<http://data.europa.eu/snb/model/elm/learningAchievementSpecification>"));
        }
    }

    /// A national framework's level (the object form) is a SKOS concept of the LOQ form, with
    /// the level's own id where the definition gives one, through the strict JSON-LD
    /// processing; the certificate leaves it out (EDC takes QDR levels only).
    #[test]
    fn a_national_level_is_a_concept_of_the_loq_form_only() {
        let demo = crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap();
        let without_id = demo.into_iter().find(|d| d["id"] == "ua-drywall-interior-finishing").unwrap();
        let mut def = without_id.clone();
        def["nqfLevel"] = json!({
            "framework": "National Qualifications Framework of Ukraine",
            "level": "3",
            "id": "https://nqf.example.org/levels/3",
        });
        let lo = definition_document(&def, "http://127.0.0.1:8080");
        let level = &lo["learningAchievementSpecification"]["nqfLevel"];
        assert_eq!(level["id"], "https://nqf.example.org/levels/3");
        assert_eq!(level["prefLabel"]["en"], "National Qualifications Framework of Ukraine, level 3");
        let quads = bem_core::contexts::to_rdf(&lo, bem_core::contexts::ContextPolicy::STRICT).unwrap();
        let nquads = bem_core::rdf::to_nquads(&quads);
        let skos = "http://www.w3.org/2004/02/skos/core#";
        for expected in [
            "<http://data.europa.eu/snb/model/elm/NQFLevel> <https://nqf.example.org/levels/3>".to_owned(),
            format!("<https://nqf.example.org/levels/3> <{skos}notation> \"3\""),
            format!("<https://nqf.example.org/levels/3> <{skos}prefLabel> \"National Qualifications Framework of Ukraine, level 3\"@en"),
            format!("<{skos}prefLabel> \"National Qualifications Framework of Ukraine\"@en"),
            format!("<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{skos}ConceptScheme>"),
        ] {
            assert!(nquads.contains(&expected), "{expected}\n{nquads}");
        }
        // The fast JSON-LD path reads it (a blank node scheme, and without an id a blank node
        // concept too) as the general processor does.
        for lo in [lo.clone(), definition_document(&without_id, "http://127.0.0.1:8080")] {
            use bem_core::contexts::{to_rdf_general, ContextPolicy};
            let canonical = |quads: &[bem_core::rdf::Quad]| {
                bem_core::rdfc::canonicalize(quads, &bem_core::rdfc::Limits::default()).unwrap()
            };
            let fast = bem_core::fast_ld::to_rdf(&lo, ContextPolicy::STRICT).unwrap();
            let general = to_rdf_general(&lo, ContextPolicy::STRICT).unwrap();
            assert_eq!(canonical(&fast), canonical(&general));
        }
        let learner = Learner { name: "Test".into(), ..Learner::default() };
        let doc = build(&crate::learner::samples::input(&def, &learner, &profile(), &[]));
        let spec = &doc["credentialSubject"]["hasClaim"]["specifiedBy"];
        assert_eq!(spec["type"], "Qualification");
        assert!(spec.get("nqfLevel").is_none(), "{spec}");
        assert!(!doc.to_string().contains("nqf.example.org"));
    }

    /// `defaultLanguage`: the first language of instruction the title is written in, else
    /// English.
    #[test]
    fn the_default_language_is_a_language_of_instruction_with_a_title() {
        let demo = crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap();
        let default = |id: &str| {
            let def = demo.iter().find(|d| d["id"] == id).unwrap();
            definition_document(def, "http://127.0.0.1:8080")[DEFAULT_LANGUAGE]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let eu = |code: &str| format!("{LANGUAGE_SCHEME}/{code}");
        // languages ["ro"], title en + ro.
        assert_eq!(default("md-digital-tools-small-business"), eu("RON"));
        // languages ["ro", "uk"], title en + uk: no Romanian title.
        assert_eq!(default("md-romanian-for-work-a2"), eu("UKR"));
        // languages ["ar", "en"], title en + ar.
        assert_eq!(default("jo-solar-pv-installation"), eu("ARA"));
        // languages ["sr"], title in English only.
        assert_eq!(default("rs-workplace-waste-separation"), eu("ENG"));
    }

    #[test]
    fn every_demo_certificate_is_built_with_its_parts() {
        let learner =
            Learner {
                name: "ანა ბერიძე".into(), grade: Some("Very good".into()), ..Learner::default()
            };
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            let doc = build(&crate::learner::samples::input(&def, &learner, &profile(), &[]));
            let claim = &doc["credentialSubject"]["hasClaim"];
            assert_eq!(claim["title"], def["title"]);
            assert_eq!(
                claim["specifiedBy"]["learningOutcome"].as_array().unwrap().len(),
                def["learningOutcomes"].as_array().unwrap().len()
            );
            // The certificate's NQF level: a QDR concept only (EDC), never a national one.
            assert_eq!(
                claim["specifiedBy"].pointer("/nqfLevel/id"),
                def.get("nqfLevel").filter(|l| l.is_string())
            );
            assert_eq!(doc["credentialSubject"]["fullName"]["en"], "ანა ბერიძე");
            assert!(
                bem_core::model::check_credential(&doc).is_empty(),
                "{}: {:?}",
                def["id"],
                bem_core::model::check_credential(&doc)
            );
        }
    }
}
