//! SHACL conformance of what the issuer publishes in ELM form, checked by pyshacl.
//!
//! Every certificate the issuer can build (every demo micro-credential, for a learner with
//! only a name and for one with every optional field) is turned into RDF by the core's
//! own JSON-LD processor, unsigned (as EDC runs SHACL), and validated against the
//! 3.2-LTS shapes `EDC-generic-full.ttl` + `EDC-generic-no-cv.ttl`; every catalogue
//! entry's LOQ form (a `LearningOpportunity`, [`certificate::definition_document`]) against
//! `LOQ-constraints.ttl`. The shapes and the ELM ontology (for `rdfs:subClassOf`, e.g.
//! Qualification ⊂ LearningAchievementSpecification) are in `testdata/elm/shacl/`. The
//! certificates carry the status entries the issuer gives an ELM certificate
//! (`Profile::status_purposes`, written by `status_lists::entry`). Every certificate and
//! every LOQ form conforms fully: no result is accepted, and any fails the test with
//! pyshacl's report. pyshacl comes from `scripts/install-pyshacl.sh`
//! (`target/pyshacl-venv`); without it the test prints a notice and passes, unless
//! `BEM_REQUIRE_SHACL=1` (as `scripts/test` sets).

use std::path::{Path, PathBuf};
use std::process::Command;

use bem_core::contexts::ContextPolicy;
use serde_json::Value;

use crate::certificate;
use crate::config::IssuerProfile;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn pyshacl_python() -> Option<PathBuf> {
    let python = root().join("target/pyshacl-venv/bin/python");
    let ok = python.exists()
        && Command::new(&python).args(["-c", "import pyshacl"]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var("BEM_REQUIRE_SHACL").as_deref() != Ok("1"),
        "pyshacl is required (BEM_REQUIRE_SHACL=1): run scripts/install-pyshacl.sh"
    );
    eprintln!("notice: pyshacl not installed (scripts/install-pyshacl.sh); SHACL test skipped");
    None
}

fn nquads(doc: &Value) -> String {
    let quads = bem_core::contexts::to_rdf(doc, ContextPolicy::STRICT).unwrap();
    bem_core::rdf::to_nquads(&quads)
}

fn validate(python: &Path, shapes: &[&str], ontology: bool, files: &[PathBuf]) {
    let (conforms, report, stderr) = run_shacl(python, shapes, ontology, files);
    assert!(conforms, "SHACL violations:\n{report}\n{stderr}");
    eprintln!("{}", report.lines().last().unwrap_or_default());
}

/// Whether every file conforms, pyshacl's report and its standard error.
fn run_shacl(python: &Path, shapes: &[&str], ontology: bool, files: &[PathBuf]) -> (bool, String, String) {
    let dir = root().join("testdata/elm/shacl");
    let mut cmd = Command::new(python);
    cmd.arg(root().join("scripts/shacl-validate.py"));
    for s in shapes {
        cmd.arg("--shapes").arg(dir.join(s));
    }
    if ontology {
        cmd.arg("--ontology").arg(dir.join("ELM.ttl"));
    }
    cmd.args(files);
    let out = cmd.output().unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

fn profile(full: bool) -> IssuerProfile {
    IssuerProfile {
        name: "Test issuer".into(),
        country_uri: "http://publications.europa.eu/resource/authority/country/DEU".into(),
        legal_identifier: full.then(|| "HRB 1".into()),
        homepage: full.then(|| "https://issuer.example/".into()),
    }
}

#[test]
fn every_certificate_and_catalogue_entry_conforms_to_the_elm_shapes() {
    let Some(python) = pyshacl_python() else { return };
    let out = std::env::temp_dir().join(format!("bem-shacl-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    use crate::learner::samples;
    let (minimal, full) = (samples::minimal(), samples::full());
    let status = samples::status_entries(crate::certificate::Profile::Elm);
    let mut certificates = Vec::new();
    // LOQ forms, which must all conform fully.
    let (mut catalogue, mut level_with_id) = (Vec::new(), false);
    for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
        let id = def["id"].as_str().unwrap().to_owned();
        for (name, learner, full_profile, status) in
            [("minimal", &minimal, false, &[][..]), ("full", &full, true, &status[..])]
        {
            let doc = certificate::build(&samples::input(&def, learner, &profile(full_profile), status));
            let path = out.join(format!("{id}-{name}.nq"));
            std::fs::write(&path, nquads(&doc)).unwrap();
            certificates.push(path);
        }
        let loq = certificate::definition_document(&def, "http://127.0.0.1:8080");
        let path = out.join(format!("{id}-loq.nq"));
        std::fs::write(&path, nquads(&loq)).unwrap();
        catalogue.push(path);
        // Once, a national framework's level with its own id (no demo definition has one).
        if def["nqfLevel"].is_object() && !level_with_id {
            level_with_id = true;
            let mut def = def.clone();
            def["nqfLevel"]["id"] = "https://nqf.example.org/levels/3".into();
            let loq = certificate::definition_document(&def, "http://127.0.0.1:8080");
            let path = out.join(format!("{id}-loq-with-level-id.nq"));
            std::fs::write(&path, nquads(&loq)).unwrap();
            catalogue.push(path);
        }
    }
    validate(&python, &["EDC-generic-full.ttl", "EDC-generic-no-cv.ttl"], true, &certificates);
    // The control: the shapes do see `credentialStatus`. Two entries of the single type
    // `BitstringStatusListEntry` (an Open Badges certificate's) break EDC's shape twice:
    // not an `elm:CredentialStatus`, and more than one.
    let def = &crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap()[0];
    let mut doc = certificate::build(&samples::input(def, &full, &profile(true), &[]));
    doc["credentialStatus"] = samples::status_entries(crate::certificate::Profile::OpenBadges).into();
    let path = out.join("control-status.nq");
    std::fs::write(&path, nquads(&doc)).unwrap();
    let shapes = ["EDC-generic-full.ttl", "EDC-generic-no-cv.ttl"];
    let (conforms, report, _) = run_shacl(&python, &shapes, true, &[path]);
    assert!(!conforms, "{report}");
    assert!(report.contains("EuropeanDigitalCredential-cred_credentialStatus"), "{report}");
    assert!(
        report.contains("MaxCountConstraintComponent") && report.contains("ClassConstraintComponent"),
        "{report}"
    );
    // LOQ's shapes are closed per class and do not treat Qualification as a subclass of
    // LearningAchievementSpecification, so no ontology here.
    validate(&python, &["LOQ-constraints.ttl"], false, &catalogue);
    std::fs::remove_dir_all(&out).ok();
}
