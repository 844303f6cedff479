//! Human output on the terminal: the certificate page, the credential table, the checks
//! of a verification, all made safe to print.
//!
//! Invariant: every text that comes from a credential or a report passes through
//! [`safe`] before it is printed, so a hostile credential cannot move the cursor, clear
//! the screen, retitle the window or reverse text with bidi controls (attack case AC-30).

use std::fmt::Write as _;

use crate::certificate::CertificateView;
use crate::store::{Record, Verification};
use crate::verification::verdict_words;

/// `text` with control and bidi/invisible format characters replaced by visible
/// `\u{..}` escapes (newlines and tabs become spaces).
pub fn safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' | '\r' => out.push(' '),
            c if is_dangerous(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// [`safe`] for messages of several lines: newlines are kept, each line made safe.
pub fn safe_multiline(text: &str) -> String {
    text.split('\n').map(safe).collect::<Vec<_>>().join("\n")
}

fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// [`safe`], cut to `width` characters with an ellipsis.
fn cell(text: &str, width: usize) -> String {
    let clean = safe(text);
    if clean.chars().count() <= width {
        return clean;
    }
    let mut cut: String = clean.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The date part of an RFC 3339 timestamp.
fn day(stamp: &str) -> &str {
    stamp.get(..10).unwrap_or(stamp)
}

/// One line of the `list` table.
pub struct Row<'a> {
    pub short_id: &'a str,
    pub view: &'a CertificateView,
    pub record: &'a Record,
}

pub fn table(rows: &[Row<'_>]) -> String {
    let mut out = format!("{:<8}  {:<36}  {:<28}  {:<10}  {}\n", "ID", "TITLE", "ISSUER", "DATE", "STATUS");
    for row in rows {
        let v = row.view;
        let issuer = v.issuer_name.as_deref().or(v.issuer_id.as_deref()).unwrap_or("?");
        let _ = writeln!(
            out,
            "{:<8}  {:<36}  {:<28}  {:<10}  {}",
            row.short_id,
            cell(v.title.as_deref().unwrap_or("(untitled)"), 36),
            cell(issuer, 28),
            cell(day(v.issued.as_deref().unwrap_or("")), 10),
            status_word(row.record)
        );
    }
    out
}

/// The status column: the last verdict, and whether it was forced in.
pub fn status_word(record: &Record) -> String {
    let verdict = safe(&record.last_verification.verdict);
    if record.forced && !record.last_verification.verified {
        format!("{verdict} (stored with --force)")
    } else {
        verdict
    }
}

/// The certificate as a person reads it.
pub fn certificate(short_id: &str, view: &CertificateView, record: &Record) -> String {
    let mut out = String::new();
    if !record.last_verification.verified {
        let _ = writeln!(
            out,
            "WARNING: this credential did NOT verify when last checked ({}); do not rely on what it says.\n",
            verdict_words(&record.last_verification.verdict)
        );
    }
    let line = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<18}{}", safe(value));
    };
    let _ = writeln!(out, "{}", safe(view.title.as_deref().unwrap_or("(untitled credential)")));
    let _ = writeln!(
        out,
        "{}",
        "=".repeat(view.title.as_deref().map_or(21, |t| safe(t).chars().count().clamp(1, 78)))
    );
    if let Some(learner) = &view.learner {
        line(&mut out, "Awarded to", learner);
    }
    if let Some(description) = &view.description {
        line(&mut out, "About", description);
    }
    if !view.outcomes.is_empty() {
        let _ = writeln!(out, "  Learning outcomes");
        for outcome in &view.outcomes {
            let _ = writeln!(out, "    - {}", safe(outcome));
        }
    }
    if !view.workload.is_empty() {
        line(&mut out, "Workload", &crate::certificate::workload_words(&view.workload));
    }
    if let Some(level) = &view.eqf_level {
        let numbered = level.chars().all(|c| c.is_ascii_digit());
        line(&mut out, "EQF level", &if numbered { format!("Level {level}") } else { level.clone() });
    }
    if let Some(level) = &view.nqf_level {
        line(&mut out, "National level", level);
    }
    if let Some(grade) = &view.grade {
        line(&mut out, "Grade", grade);
    }
    if let Some(body) = &view.awarding_body {
        line(&mut out, "Awarded by", body);
    }
    match (&view.issuer_name, &view.issuer_id) {
        (Some(name), Some(id)) => line(&mut out, "Issuer", &format!("{name} ({id})")),
        (None, Some(id)) => line(&mut out, "Issuer", id),
        (Some(name), None) => line(&mut out, "Issuer", name),
        (None, None) => {}
    }
    if let Some(issued) = &view.issued {
        line(&mut out, "Issued", day(issued));
    }
    let validity = match (&view.valid_from, &view.valid_until) {
        (Some(from), Some(until)) => Some(format!("from {} until {}", day(from), day(until))),
        (Some(from), None) => Some(format!("from {}, no end date", day(from))),
        (None, Some(until)) => Some(format!("until {}", day(until))),
        (None, None) => None,
    };
    if let Some(validity) = validity {
        line(&mut out, "Valid", &validity);
    }
    // A compact certificate is stored as its envelope (`data:…`): show its own id.
    line(
        &mut out,
        "Credential id",
        view.id.as_deref().filter(|_| record.key.starts_with("data:")).unwrap_or(&record.key),
    );
    if let Some(link) = &record.link {
        line(&mut out, "Link", link);
    }
    line(&mut out, "Local id", short_id);
    let _ = writeln!(out);
    out.push_str(&verification(&record.last_verification));
    if record.forced {
        let _ = writeln!(out, "  (stored with --force although it did not verify at import)");
    }
    out
}

/// A verification result: the verdict, then each check.
pub fn verification(v: &Verification) -> String {
    let mut out = format!("Last verified {}: {}\n", safe(&v.at), verdict_words(&v.verdict));
    for check in &v.checks {
        let mark = match check.status.as_str() {
            "ok" => "ok  ",
            "failed" => "FAIL",
            "warning" => "warn",
            _ => "skip",
        };
        let code = check.code.as_deref().map(|c| format!(" [{}]", safe(c))).unwrap_or_default();
        let _ = writeln!(out, "  {mark} {:<10} {}{code}", safe(&check.name), safe(&check.message));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_and_bidi() {
        assert_eq!(safe("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(safe("x\u{202e}y\u{9b}z"), "x\\u{202e}y\\u{9b}z");
        assert_eq!(safe("line\nnext"), "line next");
        assert_eq!(safe("Ελληνικά ✓"), "Ελληνικά ✓");
        assert_eq!(cell("abcdef", 4), "abc…");
    }
}
