//! The learner a certificate is awarded to, and the checks every learner passes (one
//! award, a bulk CSV row or a VC API request alike). Its own module so that the CSV
//! fuzz target (`fuzz/fuzz_targets/csv_bulk.rs`) compiles it with `bulk.rs` alone.
//!
//! Learner text has one rule, [`text_problem`], on every path: no control characters,
//! no Unicode noncharacters (the strict JSON parser's rule, `bem_core::json`, so nothing
//! is signed that a reader refuses), no bidirectional controls, and no invisible
//! characters except the joiners and variation selectors that scripts need between
//! visible characters. A name must hold a letter. Problem messages quote at most
//! [`QUOTE_CHARS`] characters of a value ([`quoted`]).

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

/// Most characters of a value a problem message quotes.
pub const QUOTE_CHARS: usize = 40;

/// `value` as a problem message quotes it: its first [`QUOTE_CHARS`] characters, with
/// control and invisible characters escaped (`bem_core::text::terminal_safe`), and `…`
/// when it is longer.
pub fn quoted(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(QUOTE_CHARS).collect();
    let more = if chars.next().is_some() { "…" } else { "" };
    format!("\"{}{more}\"", bem_core::text::terminal_safe(&head))
}

/// Whether `c` may stand between two visible characters only: the zero-width non-joiner
/// and joiner (Persian, Indic scripts) and the variation selectors (CJK name variants).
fn is_attaching(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_visible(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !bem_core::text::is_invisible(c)
}

/// What is wrong with `value` as learner text in `field`, if anything: the one rule for
/// every learner string the issuer signs (see the module documentation).
pub fn text_problem(field: &str, value: &str) -> Option<String> {
    let chars: Vec<char> = value.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let code = u32::from(c);
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            return Some(format!("{field} contains the control character U+{code:04X} (line breaks, tabs and escapes are not allowed)"));
        }
        if bem_core::json::is_noncharacter(c) {
            return Some(format!(
                "{field} contains the Unicode noncharacter U+{code:04X}, which JSON readers refuse"
            ));
        }
        if bem_core::text::is_bidi_control(c) {
            return Some(format!(
                "{field} contains the bidirectional control character U+{code:04X}, which makes text show in another order than it is written"
            ));
        }
        if bem_core::text::is_invisible(c) {
            let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
            let after = chars.get(i + 1).copied();
            let joins = is_attaching(c)
                && before.is_some_and(is_visible)
                && (!matches!(c, '\u{200C}' | '\u{200D}') || after.is_some_and(is_visible));
            if !joins {
                return Some(format!("{field} contains the invisible character U+{code:04X}"));
            }
        }
    }
    None
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
            problems.extend(text_problem(field, &v));
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
        for (field, value) in
            [("name", Some(&name)), ("givenName", given_name.as_ref()), ("familyName", family_name.as_ref())]
        {
            if value.is_some_and(|v| !v.is_empty() && !v.chars().any(char::is_alphabetic)) {
                problems.push(format!("{field} has no letter"));
            }
        }
        if let Some(d) = &date_of_birth {
            if !is_plausible_birth_date(d) {
                problems.push(format!(
                    "dateOfBirth {} is not a date YYYY-MM-DD between 1900 and today",
                    quoted(d)
                ));
            }
        }
        if let Some(e) = &email {
            let ok =
                e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
            if !ok || e.contains(char::is_whitespace) {
                problems.push(format!("email {} is not an e-mail address", quoted(e)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(name: &str) -> Vec<String> {
        Learner { name: name.into(), ..Learner::default() }.normalized().err().unwrap_or_default()
    }

    #[test]
    fn one_rule_for_learner_text() {
        for bad in [
            "Ann\u{FFFE}a",
            "Ann\u{FDD0}",
            "Ann\u{10FFFF}",
            "Ann\u{202E}anoJ",
            "A\u{2066}b",
            "Ann\u{200B}a",
            "\u{2060}Anna",
            "\u{3164}",
            "\u{200B}\u{2060}",
            "An\u{1b}[2Jna",
            "Anna\u{2028}Bob",
            "\u{200D}Anna",
        ] {
            assert!(!problems(bad).is_empty(), "{bad:?} passed");
        }
        // Joiners between letters (Persian, Malayalam) and CJK variation selectors pass.
        for good in ["می\u{200C}خواهم", "കാര്\u{200D}ത്തിക്", "葛\u{E0100}西", "Олена Ковальчук", "O'Brien-Smith"]
        {
            assert_eq!(problems(good), Vec::<String>::new(), "{good:?}");
        }
        assert!(problems("1234").iter().any(|p| p.contains("no letter")));
        assert!(problems("\u{3164}").iter().any(|p| p.contains("U+3164")));
    }

    #[test]
    fn problems_quote_a_short_prefix() {
        let long = "x".repeat(100_000);
        let learner = Learner { name: "Ana".into(), email: Some(long.clone()), ..Learner::default() };
        let problems = learner.normalized().unwrap_err();
        assert!(problems.iter().all(|p| p.len() < 200), "{problems:?}");
        assert_eq!(quoted("a\u{1b}b"), "\"a\\u{001B}b\"");
        assert!(quoted(&long).ends_with("…\""));
    }
}
