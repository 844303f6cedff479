//! The OpenAPI documents (`issuer/openapi.json`, `verifier/openapi.json`, served at
//! `/openapi.json`) against the real routes:
//! - each document is well formed: OpenAPI 3.1, every `$ref` resolves, every operation
//!   has responses;
//! - its operations are exactly the routes the router declares (read from the router's
//!   source, `issuer/src/http.rs` and `verifier/src/server.rs`: a route added without
//!   documenting it, or documented without existing, fails here);
//! - every operation, called on the running service with a real request, answers a status
//!   the document lists for it, with a documented content type, and a JSON body that
//!   validates against the documented schema.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;

/// A request body: content type and bytes.
type Body = (&'static str, Vec<u8>);

/// An issuer call: documented path, method, path called, body, and the admin token it
/// sends (if any).
type IssuerCase<'a> = (&'a str, &'a str, String, Option<Body>, Option<&'a str>);

use bem_e2e::{Issuer, Verifier};
use serde_json::{json, Value};

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// (path, method) of every `.route("path", get(..).post(..))` in a router's source.
fn routes_in_source(source: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (at, _) in source.match_indices(".route(") {
        let rest = &source[at + ".route(".len()..];
        let Some(start) = rest.find('"') else { continue };
        let Some(len) = rest[start + 1..].find('"') else { continue };
        let path = &rest[start + 1..start + 1 + len];
        // The handler expression runs to the closing parenthesis of `.route(`.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let handlers = &rest[start + 2 + len..end];
        for method in METHODS {
            let direct = handlers.trim_start_matches([',', ' ', '\n']).starts_with(&format!("{method}("));
            if direct || handlers.contains(&format!(".{method}(")) {
                routes.insert((path.to_owned(), method.to_owned()));
            }
        }
    }
    routes
}

/// Paths the issuer serves inside the handler of another route, because axum's router
/// matches whole path segments (`/credentials/{id}.pdf` is the segment `{id}` ending in
/// `.pdf`): (documented path, the route whose handler serves it). The route must be in
/// the source; the documented path then counts as a route of its own, and is called
/// below like every other operation.
const ISSUER_SEGMENT_SUFFIXES: [(&str, &str); 1] = [("/credentials/{id}.pdf", "/credentials/{id}")];

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((path.clone(), method.to_owned()));
            }
        }
    }
    ops
}

/// What is structurally wrong with `doc`.
fn structure_problems(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1.")) {
        problems.push("openapi is not 3.1.x".into());
    }
    if !doc["info"]["title"].is_string() || !doc["info"]["version"].is_string() {
        problems.push("info.title/version missing".into());
    }
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    out.push(r);
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(doc, &mut all);
    for r in all {
        if doc.pointer(r.trim_start_matches('#')).is_none() {
            problems.push(format!("$ref {r} does not resolve"));
        }
    }
    for (path, method) in operations(doc) {
        let op = &doc["paths"][&path][&method];
        if op["responses"].as_object().is_none_or(|r| r.is_empty()) {
            problems.push(format!("{method} {path} has no responses"));
        }
        for name in path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            let declared = op["parameters"].as_array().is_some_and(|ps| {
                ps.iter().any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true)
            });
            if !declared {
                problems.push(format!("{method} {path}: path parameter {name} not declared"));
            }
        }
    }
    problems
}

/// Calls `method path` with an optional body; (status, content type, body text).
fn call(
    base: &str,
    method: &str,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
    token: Option<&str>,
) -> (u16, String, String) {
    let mut request = ureq::request(&method.to_uppercase(), &format!("{base}{path}"));
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some((content_type, bytes)) => request.set("Content-Type", content_type).send_bytes(&bytes),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = response.status();
    let content_type = response.content_type().to_owned();
    (status, content_type, response.into_string().unwrap_or_default())
}

/// Checks one answer against the operation `method template` of `doc`.
fn conforms(doc: &Value, template: &str, method: &str, answer: &(u16, String, String)) {
    let (status, content_type, text) = answer;
    let what = format!("{method} {template} → {status} {content_type}");
    let response = &doc["paths"][template][method]["responses"][status.to_string()];
    assert!(response.is_object(), "{what}: status not documented: {}", &text[..text.len().min(300)]);
    let Some(content) = response.get("content").and_then(Value::as_object) else { return };
    let media =
        content.get(content_type.as_str()).unwrap_or_else(|| panic!("{what}: content type not documented"));
    if content_type.contains("json") {
        let body: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
        let mut schema = media["schema"].clone();
        // `$ref`s point into the document's components: give the schema those.
        schema.as_object_mut().unwrap().insert("components".into(), doc["components"].clone());
        let validator =
            jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{what}: bad schema: {e}"));
        if let Err(e) = validator.validate(&body) {
            panic!("{what}: body does not match the schema: {e}\n{}", &text[..text.len().min(500)]);
        }
    }
}

#[test]
fn the_issuers_openapi_document_is_its_routes() {
    let issuer = Issuer::start();
    let (status, content_type, text) = call(&issuer.base, "get", "/openapi.json", None, None);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(structure_problems(&doc), Vec::<String>::new());
    let source = include_str!("../../issuer/src/http.rs");
    let mut routes = routes_in_source(source);
    for (documented, served_by) in ISSUER_SEGMENT_SUFFIXES {
        assert!(routes.contains(&(served_by.to_owned(), "get".to_owned())), "no route {served_by}");
        routes.insert((documented.to_owned(), "get".to_owned()));
    }
    assert_eq!(operations(&doc), routes, "documented operations ≠ routes in issuer/src/http.rs");

    // Every operation with a real request.
    let token = Some(issuer.token.as_str());
    let mc = "md-digital-tools-small-business";
    let awarded = issuer.award(mc, "Olena Kovalenko");
    let link = awarded["links"]["credential"].as_str().unwrap();
    let credential_path = &link[link.find("/credentials/").unwrap()..];
    let vc = &awarded["verifiableCredential"];
    // An ELM certificate: one status entry (revocation), as EDC allows.
    let list = vc["credentialStatus"]["statusListCredential"].as_str().unwrap();
    let list_path = &list[list.find("/status-lists/").unwrap()..];
    let definition = call(&issuer.base, "get", &format!("/micro-credentials/{mc}"), None, None);
    let bulk_path = format!("/micro-credentials/{mc}/certificates/bulk");
    let bulk =
        call(&issuer.base, "post", &bulk_path, Some(("text/csv", b"name\nBulk Learner\n".to_vec())), token);
    let job = serde_json::from_str::<Value>(&bulk.2).unwrap()["job"].as_str().unwrap().to_owned();
    let json_body = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    let cases: Vec<IssuerCase<'_>> = vec![
        ("/healthz", "get", "/healthz".into(), None, None),
        ("/openapi.json", "get", "/openapi.json".into(), None, None),
        ("/.well-known/did.json", "get", "/.well-known/did.json".into(), None, None),
        ("/did.json", "get", "/did.json".into(), None, None),
        ("/micro-credentials", "get", "/micro-credentials".into(), None, None),
        (
            "/micro-credentials",
            "post",
            "/micro-credentials".into(),
            json_body(serde_json::from_str(&definition.2).unwrap()),
            token,
        ),
        ("/micro-credentials", "post", "/micro-credentials".into(), json_body(json!({"id": "x"})), token),
        ("/micro-credentials/{id}", "get", format!("/micro-credentials/{mc}"), None, None),
        ("/micro-credentials/{id}", "get", "/micro-credentials/no-such-course".into(), None, None),
        (
            "/micro-credentials/{id}/certificates",
            "post",
            format!("/micro-credentials/{mc}/certificates"),
            json_body(json!({"name": "Ana Beridze"})),
            token,
        ),
        (
            "/micro-credentials/{id}/certificates",
            "post",
            format!("/micro-credentials/{mc}/certificates"),
            json_body(json!({"name": "X"})),
            Some("wrong"),
        ),
        (
            "/micro-credentials/{id}/certificates/bulk",
            "post",
            format!("/micro-credentials/{mc}/certificates/bulk"),
            Some(("text/csv", b"name\nA B\n,\n".to_vec())),
            token,
        ),
        (
            "/micro-credentials/{id}/certificates/bulk",
            "post",
            format!("/micro-credentials/{mc}/certificates/bulk"),
            Some(("text/plain", b"name\n".to_vec())),
            token,
        ),
        (
            "/credentials/issue",
            "post",
            "/credentials/issue".into(),
            json_body(
                json!({"credential": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:x"}}}),
            ),
            token,
        ),
        (
            "/credentials/issue",
            "post",
            "/credentials/issue".into(),
            json_body(json!({"credential": {"type": "nothing"}})),
            token,
        ),
        (
            "/credentials/status",
            "post",
            "/credentials/status".into(),
            json_body(
                json!({"credentialId": vc["id"], "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true}),
            ),
            token,
        ),
        (
            "/credentials/status",
            "post",
            "/credentials/status".into(),
            json_body(
                json!({"credentialId": "urn:uuid:none", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}, "status": true}),
            ),
            token,
        ),
        ("/credentials/bulk", "get", "/credentials/bulk".into(), None, token),
        ("/credentials/bulk/{job}", "get", format!("/credentials/bulk/{job}"), None, token),
        ("/credentials/bulk/{job}", "get", "/credentials/bulk/none".into(), None, token),
        ("/credentials/{id}", "get", credential_path.into(), None, None),
        ("/credentials/{id}", "get", "/credentials/0000".into(), None, None),
        ("/credentials/{id}.pdf", "get", format!("{credential_path}.pdf"), None, None),
        ("/credentials/{id}.pdf", "get", "/credentials/0000.pdf".into(), None, None),
        ("/credentials/{id}/sealed", "get", format!("{credential_path}/sealed"), None, None),
        ("/credentials/{id}/qr.png", "get", format!("{credential_path}/qr.png"), None, None),
        ("/credentials/{id}/qr.svg", "get", format!("{credential_path}/qr.svg"), None, None),
        ("/status-lists/{id}", "get", list_path.into(), None, None),
        ("/status-lists/{id}", "get", "/status-lists/999".into(), None, None),
    ];
    let mut seen = BTreeSet::new();
    for (template, method, path, body, token) in cases {
        let answer = call(&issuer.base, method, &path, body, token);
        conforms(&doc, template, method, &answer);
        seen.insert((template.to_owned(), method.to_owned()));
    }
    assert_eq!(seen, operations(&doc), "every documented operation is exercised");
}

#[test]
fn the_verifiers_openapi_document_is_its_routes() {
    let issuer = Issuer::start();
    let verifier = Verifier::start(&[], &[&issuer.origin()]);
    let (status, content_type, text) = call(&verifier.base, "get", "/openapi.json", None, None);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(structure_problems(&doc), Vec::<String>::new());
    let source = include_str!("../../verifier/src/server.rs");
    assert_eq!(
        operations(&doc),
        routes_in_source(source),
        "documented operations ≠ routes in verifier/src/server.rs"
    );

    let vc =
        issuer.award("md-digital-tools-small-business", "Olena Kovalenko")["verifiableCredential"].clone();
    let mut forged = vc.clone();
    forged["credentialSubject"]["name"] = "Mallory".into();
    let challenge = verifier.challenge();
    let json_body = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    let png = std::fs::read(bem_e2e::root().join("verifier/src/page/testdata/qr-link.png")).ok();
    let mut cases: Vec<(&str, &str, String, Option<Body>)> = vec![
        (
            "/credentials/verify",
            "post",
            "/credentials/verify".into(),
            json_body(json!({"verifiableCredential": vc})),
        ),
        (
            "/credentials/verify",
            "post",
            "/credentials/verify".into(),
            json_body(json!({"verifiableCredential": forged})),
        ),
        (
            "/credentials/verify",
            "post",
            "/credentials/verify".into(),
            json_body(json!({"verifiableCredential": vc, "options": {"nonsense": 1}})),
        ),
        (
            "/presentations/verify",
            "post",
            "/presentations/verify".into(),
            json_body(
                json!({"verifiablePresentation": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"]}, "options": {"challenge": challenge}}),
            ),
        ),
        ("/challenges", "post", "/challenges".into(), json_body(json!({}))),
        ("/verify", "get", "/verify".into(), None),
        (
            "/verify",
            "post",
            "/verify".into(),
            Some(("application/x-www-form-urlencoded", b"credential=not+json".to_vec())),
        ),
        ("/verify/scan.js", "get", "/verify/scan.js".into(), None),
        ("/verify/qr", "post", "/verify/qr".into(), Some(("image/png", b"not an image".to_vec()))),
        ("/healthz", "get", "/healthz".into(), None),
        ("/metrics", "get", "/metrics".into(), None),
        ("/openapi.json", "get", "/openapi.json".into(), None),
    ];
    if let Some(png) = png {
        cases.push(("/verify/qr", "post", "/verify/qr".into(), Some(("image/png", png))));
    }
    let mut seen = BTreeSet::new();
    for (template, method, path, body) in cases {
        let answer = call(&verifier.base, method, &path, body, None);
        // Content types with parameters (charset) are documented without them.
        let answer = (answer.0, answer.1.split(';').next().unwrap_or_default().trim().to_owned(), answer.2);
        conforms(&doc, template, method, &answer);
        seen.insert((template.to_owned(), method.to_owned()));
    }
    assert_eq!(seen, operations(&doc), "every documented operation is exercised");
}
