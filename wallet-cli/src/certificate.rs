//! The certificate as a person reads it, for `show`, `list` and `import`: the one reader
//! of every BEM screen (`bem_core::certificate`), in English, plus the workload in words.
//! Texts are returned as found; escaping for the terminal is the caller's job.

pub use bem_core::certificate::{CertificateView, Workload};
use serde_json::Value;

/// Reads the view of `credential`.
pub fn view(credential: &Value) -> CertificateView {
    CertificateView::read(credential, "en")
}

/// `2 ECTS credits · 60 hours`.
pub fn workload_words(workload: &[Workload]) -> String {
    let words: Vec<String> = workload
        .iter()
        .map(|w| match w {
            Workload::Hours { hours: 1 } => "1 hour".to_owned(),
            Workload::Hours { hours } => format!("{hours} hours"),
            Workload::Credits { amount, system } if system == "ECTS" => format!("{amount} ECTS credits"),
            Workload::Credits { amount, system } if system == "ECVET" => format!("{amount} ECVET points"),
            Workload::Credits { amount, system } => format!("{amount} {system}"),
            Workload::Text { text } => format!("workload {text}"),
        })
        .collect();
    words.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_reads_as_words() {
        let w = [
            Workload::Credits { amount: "2".into(), system: "ECTS".into() },
            Workload::Hours { hours: 60 },
            Workload::Hours { hours: 1 },
        ];
        assert_eq!(workload_words(&w), "2 ECTS credits · 60 hours · 1 hour");
    }
}
