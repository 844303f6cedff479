//! The micro-credential catalogue: the JSON Schema every definition must pass, the
//! checks the schema cannot express, and the demo catalogue shipped in `schemas/`.
//!
//! A definition is kept as the JSON the provider wrote (language maps and all); it is
//! valid when [`Catalogue::check`] finds no problem. The schema and the demo catalogue
//! are compiled in, so the binary needs no file besides its data directory.

use serde::Serialize;
use serde_json::Value;

use crate::vocabulary;

/// The JSON Schema of a definition (`schemas/micro-credential.schema.json`).
pub const SCHEMA: &str = include_str!("../../schemas/micro-credential.schema.json");
/// The demo catalogue (`schemas/demo-catalogue.json`): a JSON array of definitions.
pub const DEMO: &str = include_str!("../../schemas/demo-catalogue.json");

/// The single-valued fields that name a concept, each with the scheme it must come from.
const CONCEPT_FIELDS: [(&str, &str); 6] = [
    ("/sector/iscedF", "http://data.europa.eu/snb/isced-f/25831c2"),
    ("/awardingBody/country/uri", "http://publications.europa.eu/resource/authority/country"),
    ("/assessment/type", "http://data.europa.eu/snb/assessment/25831c2"),
    ("/participation/mode", "http://data.europa.eu/snb/learning-assessment/25831c2"),
    ("/learningSetting", "http://data.europa.eu/snb/learning-setting/25831c2"),
    ("/nqfLevel", vocabulary::QDR_SCHEME),
];
/// Largest definition, in bytes of its JSON text. A certificate carries the definition's
/// texts about twice (an ELM certificate: the achievement and its specification; a
/// 1.1 MB definition gave a 2.3 MB certificate), so 192 KiB keeps every certificate
/// under `bem_core::json::MAX_CREDENTIAL_BYTES` (512 KiB, what verifiers and wallets
/// read) with room for the learner, the issuer and the proof. The schema bounds every
/// array and map; this bounds their product.
pub const MAX_DEFINITION_BYTES: usize = 192 * 1024;

/// The scheme of `targetGroupConcepts[]`.
const TARGET_GROUP_SCHEME: &str = "http://data.europa.eu/snb/target-group/25831c2";

/// Why a definition with an EQF level needs an NQF level (the schema's `dependentRequired`,
/// whose own message only says that the property is missing).
const NQF_REQUIRED: &str = "nqfLevel is required with eqfLevel: the Europass course directory (LOQ) \
    wants the national qualifications framework's level on every qualification. Give the level's URI \
    from the QDR list (http://data.europa.eu/snb/qdr/c_...) or, when the country's framework is not \
    in the QDR, {\"framework\": \"<its official name>\", \"level\": \"<the level>\"}";

/// A schema violation as a problem, in words a provider can act on.
fn schema_problem(error: &jsonschema::ValidationError<'_>) -> Problem {
    let pointer = error.instance_path.as_str().to_owned();
    let message = match &error.kind {
        jsonschema::error::ValidationErrorKind::Required { property }
            if pointer.is_empty() && property.as_str() == Some("nqfLevel") =>
        {
            NQF_REQUIRED.to_owned()
        }
        _ => shortened(&error.to_string()),
    };
    Problem { pointer, message }
}

/// Most characters of a schema message kept: the validator quotes the whole offending
/// value, which may be a large map.
const MAX_MESSAGE_CHARS: usize = 300;

fn shortened(message: &str) -> String {
    let mut chars = message.chars();
    let head: String = chars.by_ref().take(MAX_MESSAGE_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

/// What is wrong with the `id` of `nqfLevel`'s object form (a framework the QDR does not
/// list): a concept of the EU vocabularies there is a QDR level (or an EQF level) in the
/// wrong form.
fn national_level_problem(definition: &Value) -> Option<Problem> {
    let id = definition.pointer("/nqfLevel/id").and_then(Value::as_str)?;
    let rest = id.split_once("://").map_or(id, |(_, rest)| rest);
    rest.to_ascii_lowercase().starts_with("data.europa.eu/snb/").then(|| Problem {
        pointer: "/nqfLevel/id".into(),
        message: format!(
            "{id} is a concept of the EU vocabularies: a level of the QDR list is given as nqfLevel \
             itself (its URI); the object form is for a framework the QDR does not list"
        ),
    })
}

/// What is wrong with `uri` at `pointer`, which must be a concept of `scheme`: unknown
/// to the embedded vocabularies, or of another scheme (an EQF level given as an NQF
/// level, say).
fn concept_problem(pointer: &str, uri: &str, scheme: &str) -> Option<Problem> {
    let message = match vocabulary::concept(uri) {
        None => format!("{uri} is not a concept of the EU controlled vocabularies this issuer knows"),
        Some(c) if c.scheme != scheme => {
            format!("{uri} is a concept of {}, not of {scheme}", c.scheme)
        }
        Some(_) => return None,
    };
    Some(Problem { pointer: pointer.to_owned(), message })
}

/// One thing wrong with a definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// JSON Pointer into the definition (`""` for the whole).
    pub pointer: String,
    pub message: String,
}

/// The compiled schema.
pub struct Catalogue {
    validator: jsonschema::Validator,
}

impl Catalogue {
    pub fn new() -> anyhow::Result<Catalogue> {
        let schema: Value = serde_json::from_str(SCHEMA)?;
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| anyhow::anyhow!("the embedded micro-credential schema does not compile: {e}"))?;
        Ok(Catalogue { validator })
    }

    /// Every problem of `definition`: schema violations, then vocabulary checks.
    pub fn check(&self, definition: &Value) -> Vec<Problem> {
        let size = serde_json::to_string(definition).map_or(usize::MAX, |t| t.len());
        if size > MAX_DEFINITION_BYTES {
            return vec![Problem {
                pointer: String::new(),
                message: format!(
                    "the definition is {size} bytes, more than the {MAX_DEFINITION_BYTES} allowed: its certificates \
                     would be too large for verifiers and wallets (shorten or drop texts and translations)"
                ),
            }];
        }
        let mut problems: Vec<Problem> =
            self.validator.iter_errors(definition).map(|e| schema_problem(&e)).collect();
        problems.extend(national_level_problem(definition));
        let mut concept = |pointer: &str, scheme: &str| {
            if let Some(uri) = definition.pointer(pointer).and_then(Value::as_str) {
                if let Some(problem) = concept_problem(pointer, uri, scheme) {
                    problems.push(problem);
                }
            }
        };
        for (pointer, scheme) in CONCEPT_FIELDS {
            concept(pointer, scheme);
        }
        if let Some(groups) = definition.get("targetGroupConcepts").and_then(Value::as_array) {
            for i in 0..groups.len() {
                concept(&format!("/targetGroupConcepts/{i}"), TARGET_GROUP_SCHEME);
            }
        }
        problems
    }

    /// The id of a valid definition, or its problems.
    pub fn validate<'a>(&self, definition: &'a Value) -> Result<&'a str, Vec<Problem>> {
        let problems = self.check(definition);
        if !problems.is_empty() {
            return Err(problems);
        }
        definition
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| vec![Problem { pointer: "/id".into(), message: "id is missing".into() }])
    }
}

/// The definitions of a catalogue file: a JSON array of definitions, or one definition.
pub fn parse_file(text: &str) -> anyhow::Result<Vec<Value>> {
    let value = bem_core::json::parse_str(
        text,
        &bem_core::json::JsonLimits { max_bytes: 64 * 1024 * 1024, max_depth: 64 },
    )
    .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(match value {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => anyhow::bail!("a catalogue file holds a JSON array of definitions, or one definition object"),
    })
}

/// The English (or else first) text of a language map.
pub fn text_en(map: Option<&Value>) -> String {
    let Some(Value::Object(m)) = map else { return String::new() };
    m.get("en").or_else(|| m.values().next()).and_then(Value::as_str).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_catalogue_is_valid() {
        let catalogue = Catalogue::new().unwrap();
        let demo = parse_file(DEMO).unwrap();
        assert!(demo.len() >= 10, "{} demo definitions", demo.len());
        for def in &demo {
            let problems = catalogue.check(def);
            assert!(problems.is_empty(), "{}: {problems:?}", def["id"]);
        }
    }

    /// `nqfLevel`: a level of the QDR list, never an EQF level, a framework or an unknown
    /// URI, and only beside an EQF level.
    #[test]
    fn nqf_levels_are_checked() {
        let catalogue = Catalogue::new().unwrap();
        let demo = parse_file(DEMO).unwrap();
        let mut def = demo.into_iter().find(|d| d["id"] == "rs-workplace-waste-separation").unwrap();
        assert!(catalogue.check(&def).is_empty());
        let pointers =
            |def: &Value| -> Vec<String> { catalogue.check(def).into_iter().map(|p| p.pointer).collect() };
        for wrong in [
            // Serbian Qualifications Framework: a framework, not a level.
            "http://data.europa.eu/snb/qdr/c_69e1fd15",
            "http://data.europa.eu/snb/qdr/c_00000000",
        ] {
            def["nqfLevel"] = wrong.into();
            assert_eq!(pointers(&def), ["/nqfLevel"]);
        }
        // An EQF level: not of the QDR form (schema), nor of its scheme (vocabulary).
        def["nqfLevel"] = "http://data.europa.eu/snb/eqf/3".into();
        assert_eq!(pointers(&def), ["/nqfLevel", "/nqfLevel"]);
        def["nqfLevel"] = "http://data.europa.eu/snb/qdr/c_8a1ce05d".into();
        def.as_object_mut().unwrap().remove("eqfLevel");
        let problems = catalogue.check(&def);
        assert!(problems.len() == 1 && problems[0].message.contains("eqfLevel"), "{problems:?}");
    }

    /// `nqfLevel`'s object form, for a framework the QDR does not list: a framework and a
    /// level (plain names on one line, bounded), an optional web address, nothing else, and
    /// never an EU concept as its id.
    #[test]
    fn national_levels_are_a_framework_and_a_level() {
        let catalogue = Catalogue::new().unwrap();
        let demo = parse_file(DEMO).unwrap();
        let mut def = demo.into_iter().find(|d| d["id"] == "ua-cyber-hygiene-ngos").unwrap();
        def["nqfLevel"] =
            serde_json::json!({"framework": "National Qualifications Framework of Ukraine", "level": "4"});
        assert!(catalogue.check(&def).is_empty(), "{:?}", catalogue.check(&def));
        let pointers =
            |def: &Value| -> Vec<String> { catalogue.check(def).into_iter().map(|p| p.pointer).collect() };
        let framework = "National Qualifications Framework of Ukraine";
        for good in [
            serde_json::json!({"framework": framework, "level": "4", "id": "https://nqf.example.org/levels/4"}),
            serde_json::json!({"framework": "Тест рамка", "level": "5 B"}),
            serde_json::json!({"framework": "F".repeat(200), "level": "L".repeat(20)}),
        ] {
            def["nqfLevel"] = good;
            assert!(catalogue.check(&def).is_empty(), "{}: {:?}", def["nqfLevel"], catalogue.check(&def));
        }
        for (wrong, at) in [
            (serde_json::json!({"framework": framework}), "/nqfLevel"),
            (serde_json::json!({"level": "4"}), "/nqfLevel"),
            (serde_json::json!({"framework": framework, "level": "4", "scheme": "x"}), "/nqfLevel"),
            (serde_json::json!({"framework": framework, "level": 4}), "/nqfLevel/level"),
            (serde_json::json!({"framework": "", "level": "4"}), "/nqfLevel/framework"),
            (serde_json::json!({"framework": " Framework", "level": "4"}), "/nqfLevel/framework"),
            (serde_json::json!({"framework": "F".repeat(201), "level": "4"}), "/nqfLevel/framework"),
            (serde_json::json!({"framework": framework, "level": "L".repeat(21)}), "/nqfLevel/level"),
            (serde_json::json!({"framework": framework, "level": "4\n"}), "/nqfLevel/level"),
            (serde_json::json!({"framework": "A\tB", "level": "4"}), "/nqfLevel/framework"),
            (serde_json::json!({"framework": "A\u{85}B", "level": "4"}), "/nqfLevel/framework"),
            (serde_json::json!({"framework": framework, "level": "4", "id": "urn:x:4"}), "/nqfLevel/id"),
            (serde_json::json!({"framework": framework, "level": "4", "id": "https://a b"}), "/nqfLevel/id"),
        ] {
            def["nqfLevel"] = wrong;
            let found = pointers(&def);
            assert!(!found.is_empty() && found.iter().all(|p| p == at), "{}: {found:?}", def["nqfLevel"]);
        }
        // A QDR level (or any EU concept) is given as the string form, never as an id.
        for eu in [
            "http://data.europa.eu/snb/qdr/c_8a1ce05d",
            "https://data.europa.eu/snb/qdr/c_8a1ce05d",
            "http://data.europa.eu/snb/eqf/4",
        ] {
            def["nqfLevel"] = serde_json::json!({"framework": framework, "level": "4", "id": eu});
            let problems = catalogue.check(&def);
            assert_eq!(problems.len(), 1, "{eu}: {problems:?}");
            assert_eq!(problems[0].pointer, "/nqfLevel/id");
            assert!(problems[0].message.contains("given as nqfLevel itself"), "{problems:?}");
        }
        // Neither a string nor an object.
        def["nqfLevel"] = 4.into();
        assert!(pointers(&def).iter().all(|p| p == "/nqfLevel"), "{:?}", pointers(&def));
    }

    /// A definition with an EQF level is a Qualification, and LOQ wants its national level:
    /// one problem that says so and what to give; without an EQF level neither is needed.
    #[test]
    fn an_eqf_level_needs_an_nqf_level() {
        let catalogue = Catalogue::new().unwrap();
        let demo = parse_file(DEMO).unwrap();
        for mut def in demo {
            match def.as_object_mut().unwrap().remove("nqfLevel") {
                Some(_) => {
                    let problems = catalogue.check(&def);
                    assert_eq!(problems.len(), 1, "{}: {problems:?}", def["id"]);
                    assert_eq!(problems[0].pointer, "");
                    assert_eq!(problems[0].message, NQF_REQUIRED);
                    for words in ["nqfLevel is required with eqfLevel", "Europass", "QDR", "\"framework\""] {
                        assert!(problems[0].message.contains(words), "{words}");
                    }
                }
                None => {
                    assert!(def.get("eqfLevel").is_none(), "{}", def["id"]);
                    assert!(catalogue.check(&def).is_empty(), "{}", def["id"]);
                }
            }
        }
    }

    #[test]
    fn every_problem_is_listed() {
        let catalogue = Catalogue::new().unwrap();
        let mut def = parse_file(DEMO).unwrap().remove(0);
        def["id"] = "Not A Slug".into();
        def.as_object_mut().unwrap().remove("title");
        def["workload"] = serde_json::json!({"ectsCredits": -1});
        def["sector"]["iscedF"] = "http://data.europa.eu/snb/isced-f/1234".into();
        def["colour"] = "blue".into();
        let problems = catalogue.check(&def);
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert!(pointers.contains(&"/id"), "{problems:?}");
        assert!(pointers.contains(&"/workload/ectsCredits"), "{problems:?}");
        assert!(pointers.contains(&"/sector/iscedF"), "{problems:?}");
        assert!(problems.iter().any(|p| p.message.contains("title")), "{problems:?}");
        assert!(problems.iter().any(|p| p.message.contains("colour")), "{problems:?}");
    }
}
