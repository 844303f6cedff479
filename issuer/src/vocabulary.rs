//! Labels of the EU controlled vocabularies a micro-credential definition uses (EQF,
//! ISCED-F, learning modes, assessment types, credit systems, learning settings, target
//! groups, countries, the QDR's national qualifications framework levels), embedded from
//! `issuer/data/vocabulary.json`.
//!
//! That file is derived from `shared/reference/elm/cv/controlled-vocabularies.json`
//! (English labels only). A concept missing from it is unknown: definitions naming one
//! are refused, so every concept a certificate carries has a scheme and a label.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

const DATA: &str = include_str!("../data/vocabulary.json");

#[derive(Deserialize)]
struct File {
    concepts: HashMap<String, (String, String)>,
}

/// A concept's scheme URI and English label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concept<'a> {
    pub scheme: &'a str,
    pub label: &'a str,
}

fn table() -> &'static HashMap<String, (String, String)> {
    static TABLE: OnceLock<HashMap<String, (String, String)>> = OnceLock::new();
    TABLE.get_or_init(|| serde_json::from_str::<File>(DATA).map(|f| f.concepts).unwrap_or_default())
}

/// The concept `uri`, if the embedded vocabularies know it.
pub fn concept(uri: &str) -> Option<Concept<'static>> {
    table().get(uri).map(|(scheme, label)| Concept { scheme, label })
}

/// The QDR scheme of national qualifications frameworks and their levels; the embedded
/// table holds its levels only (an NQF level must name a level, not a framework).
pub const QDR_SCHEME: &str = "http://data.europa.eu/snb/qdr/25831c2";

/// The supervision-verification concept the schema allows (not in the CV file).
pub const UNSUPERVISED_NO_ID: &str = "http://data.europa.eu/snb/supervision-verification/c598449d64";

/// EU language authority code and English name of an ISO 639-1 language code.
pub fn language(code: &str) -> Option<(&'static str, &'static str)> {
    let primary = code.split('-').next().unwrap_or(code);
    Some(match primary {
        "en" => ("ENG", "English"),
        "de" => ("DEU", "German"),
        "fr" => ("FRA", "French"),
        "ro" => ("RON", "Romanian"),
        "uk" => ("UKR", "Ukrainian"),
        "ru" => ("RUS", "Russian"),
        "ka" => ("KAT", "Georgian"),
        "hy" => ("HYE", "Armenian"),
        "sq" => ("SQI", "Albanian"),
        "mk" => ("MKD", "Macedonian"),
        "sr" => ("SRP", "Serbian"),
        "bs" => ("BOS", "Bosnian"),
        "hr" => ("HRV", "Croatian"),
        "cnr" => ("CNR", "Montenegrin"),
        "no" | "nb" => ("NOR", "Norwegian"),
        "it" => ("ITA", "Italian"),
        "es" => ("SPA", "Spanish"),
        "pt" => ("POR", "Portuguese"),
        "pl" => ("POL", "Polish"),
        "tr" => ("TUR", "Turkish"),
        "el" => ("ELL", "Greek"),
        "bg" => ("BUL", "Bulgarian"),
        "ar" => ("ARA", "Arabic"),
        "az" => ("AZE", "Azerbaijani"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_table_loads() {
        let eqf4 = concept("http://data.europa.eu/snb/eqf/4").unwrap();
        assert_eq!(eqf4.scheme, "http://data.europa.eu/snb/eqf/25831c2");
        assert_eq!(eqf4.label, "Level 4");
        assert!(concept("http://publications.europa.eu/resource/authority/country/MDA").is_some());
        assert!(concept("http://example.org/nothing").is_none());
        let nqfs3 = concept("http://data.europa.eu/snb/qdr/c_8a1ce05d").unwrap();
        assert_eq!((nqfs3.scheme, nqfs3.label), (QDR_SCHEME, "NQFS Level 3"));
        // A framework is not a level: "Serbian Qualifications Framework" is left out.
        assert!(concept("http://data.europa.eu/snb/qdr/c_69e1fd15").is_none());
    }
}
