//! What the employer page shows of a certificate: learner, title, issuer, date, EQF
//! level, workload and learning outcomes — the one reader every BEM screen uses
//! (`bem_core::certificate`: ELM, Open Badges 3.0, plain VC), in the page's language,
//! with the trust list's name for the issuer and the workload in the page's words.
//! Display only: the page shows it only for a credential whose signature verified
//! (AC-31); every value is plain text, bounded in length; the page escapes it (AC-30).

use bem_core::certificate::CertificateView as Read;
use serde_json::Value;

/// The fields of a certificate that people read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateView {
    pub learner: Option<String>,
    pub title: Option<String>,
    pub issuer: Option<String>,
    pub date: Option<String>,
    pub valid_until: Option<String>,
    pub eqf_level: Option<String>,
    pub nqf_level: Option<String>,
    pub workload: Vec<String>,
    pub outcomes: Vec<String>,
}

/// `2026-02-28T00:00:00Z` → `2026-02-28`.
fn day(stamp: String) -> String {
    stamp.split('T').next().map(str::to_owned).unwrap_or(stamp)
}

impl CertificateView {
    /// Reads the view from `credential`; `trusted_name` (from the trust list) wins over
    /// the name the credential gives its issuer.
    pub fn read(credential: &Value, trusted_name: Option<&str>, lang: &str, hours_word: &str) -> Self {
        let v = Read::read(credential, lang);
        let trusted = trusted_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(bem_core::certificate::MAX_TEXT).collect::<String>());
        let workload = v.workload.iter().map(|w| w.phrase(hours_word)).collect();
        Self {
            learner: v.learner,
            title: v.title,
            issuer: trusted.or(v.issuer_name).or(v.issuer_id),
            date: v.issued.map(day),
            valid_until: v.valid_until.map(day),
            eqf_level: v.eqf_level,
            nqf_level: v.nqf_level,
            workload,
            outcomes: v.outcomes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn elm_credentials_are_read() {
        let vc = json!({
            "issuer": {"id": "did:web:x.example", "legalName": {"en": "BEM Academy", "uk": "Академія BEM"}},
            "validFrom": "2026-03-01T09:00:00Z",
            "credentialSubject": {
                "fullName": {"en": "Olena Kovalenko"},
                "hasClaim": {
                    "title": {"en": "Digital skills"},
                    "awardedBy": {"awardingDate": "2026-02-28T00:00:00Z"},
                    "specifiedBy": {
                        "title": {"en": "Digital skills (spec)"},
                        "eqfLevel": {"id": "http://data.europa.eu/snb/eqf/5", "type": "Concept"},
                        "volumeOfLearning": "PT40H",
                        "creditPoint": [{"point": "2", "framework": {"id": "http://data.europa.eu/snb/education-credit/6fcec5c5af"}}],
                        "learningOutcome": [{"title": {"en": "Build a spreadsheet"}}, {"title": "Write a <script>"}]
                    }
                }
            }
        });
        let v = CertificateView::read(&vc, None, "uk", "hours");
        assert_eq!(v.learner.as_deref(), Some("Olena Kovalenko"));
        assert_eq!(v.title.as_deref(), Some("Digital skills"));
        assert_eq!(v.issuer.as_deref(), Some("Академія BEM"));
        assert_eq!(v.date.as_deref(), Some("2026-02-28"));
        assert_eq!(v.eqf_level.as_deref(), Some("5"));
        assert_eq!(v.workload, vec!["2 ECTS".to_owned(), "40 hours".to_owned()]);
        assert_eq!(v.outcomes, vec!["Build a spreadsheet".to_owned(), "Write a <script>".to_owned()]);
    }

    #[test]
    fn vc2_credentials_and_junk_are_read_leniently() {
        let vc = json!({"name": "Course", "issuer": "did:key:z6Mk", "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"name": "A. Learner", "achievement": {"name": "Open badge", "learningOutcomes": ["x"]}}});
        let v = CertificateView::read(&vc, Some("Trusted Name"), "en", "hours");
        assert_eq!(v.title.as_deref(), Some("Open badge"));
        assert_eq!(v.issuer.as_deref(), Some("Trusted Name"));
        assert_eq!(v.outcomes, vec!["x".to_owned()]);
        assert_eq!(CertificateView::read(&json!([1, 2]), None, "en", "h"), CertificateView::default());
        assert_eq!(
            CertificateView::read(&json!({"credentialSubject": 5, "issuer": [null]}), None, "en", "h"),
            CertificateView::default()
        );
        let long = "x".repeat(10_000);
        let v = CertificateView::read(&json!({"name": long}), None, "en", "h");
        assert!(v.title.unwrap().chars().count() <= bem_core::certificate::MAX_TEXT + 1);
    }
}
