//! The learner a certificate is awarded to, and the checks every learner passes (one
//! award, a bulk CSV row or a VC API request alike). Its own module so that the CSV
//! fuzz target (`fuzz/fuzz_targets/csv_bulk.rs`) compiles it with `bulk.rs` alone.

use serde::Deserialize;

/// The learner a certificate is awarded to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Learner {
    /// Full name, in any script.
    pub name: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub date_of_birth: Option<String>,
    /// The provider's own identifier of the learner.
    #[serde(default)]
    pub identifier: Option<String>,
    /// Only its SHA-256 hash goes into the certificate.
    #[serde(default)]
    pub email: Option<String>,
    /// The grade achieved, as text.
    #[serde(default)]
    pub grade: Option<String>,
}

impl Learner {
    /// Trims every field, drops empty optional ones, and lists every problem.
    pub fn normalized(&self) -> Result<Learner, Vec<String>> {
        let mut problems = Vec::new();
        let clean = |field: &str, value: &str, max: usize, problems: &mut Vec<String>| -> String {
            let v = value.trim().to_owned();
            if v.chars().count() > max {
                problems.push(format!("{field} is longer than {max} characters"));
            }
            if v.chars().any(char::is_control) {
                problems.push(format!("{field} contains control characters"));
            }
            v
        };
        let name = clean("name", &self.name, 200, &mut problems);
        if name.is_empty() {
            problems.push("name is missing".into());
        }
        let mut optional = |field: &str, value: &Option<String>, max: usize| -> Option<String> {
            value.as_deref().map(|v| clean(field, v, max, &mut problems)).filter(|v| !v.is_empty())
        };
        let given_name = optional("givenName", &self.given_name, 200);
        let family_name = optional("familyName", &self.family_name, 200);
        let date_of_birth = optional("dateOfBirth", &self.date_of_birth, 10);
        let identifier = optional("identifier", &self.identifier, 100);
        let email = optional("email", &self.email, 254);
        let grade = optional("grade", &self.grade, 200);
        if let Some(d) = &date_of_birth {
            if !is_plausible_birth_date(d) {
                problems.push(format!("dateOfBirth {d:?} is not a date YYYY-MM-DD between 1900 and today"));
            }
        }
        if let Some(e) = &email {
            let ok =
                e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
            if !ok || e.contains(char::is_whitespace) {
                problems.push(format!("email {e:?} is not an e-mail address"));
            }
        }
        if problems.is_empty() {
            Ok(Learner { name, given_name, family_name, date_of_birth, identifier, email, grade })
        } else {
            Err(problems)
        }
    }
}

fn is_plausible_birth_date(d: &str) -> bool {
    let stamp = format!("{d}T00:00:00Z");
    d.len() == 10
        && bem_core::datetime::parse_datetime_stamp(&stamp).is_ok()
        && d.get(0..4).and_then(|y| y.parse::<u32>().ok()).is_some_and(|y| y >= 1900)
        && stamp.as_str() <= crate::clock::now().as_str()
}

/// The learners and status entries the certificate tests build with: one with only a
/// name (Cyrillic), one with every field (a grade with quotes and a line break).
#[cfg(test)]
pub(crate) mod samples {
    use super::Learner;

    pub fn minimal() -> Learner {
        Learner { name: "Олена Ковальчук".into(), ..Learner::default() }
    }

    pub fn full() -> Learner {
        Learner {
            name: "Ana Beridze".into(),
            given_name: Some("Ana".into()),
            family_name: Some("Beridze".into()),
            date_of_birth: Some("1990-04-01".into()),
            identifier: Some("S-123".into()),
            email: Some("ana@example.org".into()),
            grade: Some("Very \"good\"\n".into()),
        }
    }

    /// A certificate's input with the tests' fixed issuer DID, address, id and date.
    pub fn input<'a>(
        definition: &'a serde_json::Value,
        learner: &'a Learner,
        issuer: &'a crate::config::IssuerProfile,
        status: &'a [serde_json::Value],
    ) -> crate::certificate::Input<'a> {
        crate::certificate::Input {
            definition,
            learner,
            issuer_did: "did:key:z6MkTest",
            issuer,
            public_url: "http://127.0.0.1:8080",
            credential_id: "urn:uuid:00000000-0000-4000-8000-000000000000",
            issued: "2025-06-01T12:00:00Z",
            status,
        }
    }

    /// The status entries a certificate of `profile` is issued with, as the issuer writes
    /// them (`status_lists::entry`, one list per purpose).
    pub fn status_entries(profile: crate::certificate::Profile) -> Vec<serde_json::Value> {
        use crate::status_lists::{entry, Reservation};
        (1..)
            .zip(profile.status_purposes())
            .map(|(list_id, &purpose)| {
                let r = Reservation { purpose, list_id, index: 17 };
                entry(&r, &format!("http://127.0.0.1:8080/status/{list_id}"))
            })
            .collect()
    }
}
