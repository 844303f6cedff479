//! The HTML pages: the public catalogue and the printable certificate.
//!
//! Invariant: every text that comes from a definition, a learner or the configuration
//! goes through [`escape`]; nothing else is interpolated into markup. Pages load no
//! script and nothing from other origins.

use serde_json::Value;

use crate::catalogue::text_en;

/// Escapes text for HTML element content and quoted attribute values.
pub use bem_core::text::escape_html as escape;

/// The certificate page on paper: one A4 page whatever the certificate holds. The page
/// is a column as high as the printable area; the notice, texts, QR code and ids keep
/// their height, and the learning outcomes get what is left, clipped if there are more
/// than fit (the PDF, `crate::pdf`, is the printable form that cuts them visibly). The
/// links to the JSON, PNG and PDF are not printed.
const PRINT: &str = "@page{size:A4;margin:12mm}\
@media print{.noprint{display:none}html,body{margin:0;padding:0;max-width:none}\
body{display:flex;flex-direction:column;height:272mm;overflow:hidden;font-size:10.5pt}\
.status{flex:none;margin:0 0 3mm;print-color-adjust:exact;-webkit-print-color-adjust:exact}\
.cert{flex:1 1 auto;min-height:0;display:flex;flex-direction:column;overflow:hidden;box-sizing:border-box;padding:8mm 10mm;margin:0}\
.cert>*{flex:none;margin:1.5mm 0}.cert h2{font-size:19pt}\
.cert ul.outcomes{flex:0 1 auto;min-height:0;overflow:hidden;font-size:9.5pt;margin:3mm 0}\
.qr img{width:40mm;height:40mm}}";

const STYLE: &str =
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}\
h1{font-size:1.6rem}article{border:1px solid #ccc;border-radius:.5rem;padding:1rem;margin:1rem 0}\
.meta{color:#555}.status{padding:.5rem 1rem;border-radius:.3rem;background:#fde;border:1px solid #c66}\
.cert{border:6px double #335;padding:2rem;text-align:center}.cert h2{font-size:2rem;margin:.5rem 0}\
.qr img{width:12rem;height:12rem}ul.outcomes{text-align:left}";

/// The `Content-Security-Policy` of every page: nothing loads but the page's own style
/// (by its hash) and images from this origin (the QR code); no script, no plugin, no
/// form, no framing (`frame-ancestors 'none'`), no `<base>`.
pub fn content_security_policy() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{STYLE}{PRINT}").as_bytes());
    let hash = base64::engine::general_purpose::STANDARD.encode(digest);
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'none'"
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}{PRINT}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or_default()
}

fn workload(def: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(n) = def.pointer("/workload/ectsCredits") {
        parts.push(format!("{n} ECTS"));
    }
    if let Some(n) = def.pointer("/workload/ecvetPoints") {
        parts.push(format!("{n} ECVET points"));
    }
    if let Some(n) = def.pointer("/workload/hours") {
        parts.push(format!("{n} hours"));
    }
    parts.join(", ")
}

/// The catalogue page.
pub fn catalogue(definitions: &[Value], issuer_name: &str) -> String {
    let mut body = format!("<h1>Micro-credentials of {}</h1>", escape(issuer_name));
    for def in definitions {
        let id = str_at(def, "/id");
        let mut eqf = def.get("eqfLevel").map(|l| format!(" · EQF level {l}")).unwrap_or_default();
        if let Some(nqf) = def.get("nqfLevel").and_then(crate::certificate::nqf_label) {
            eqf.push_str(&format!(" · NQF: {nqf}"));
        }
        body.push_str(&format!(
            "<article><h2>{title}</h2><p class=\"meta\">{body_name} ({country}) · {work}{eqf}</p><p>{summary}</p>\
             <p><a href=\"{course}\">Course page</a> · <a href=\"/micro-credentials/{id_attr}\">Definition (JSON)</a></p></article>",
            title = escape(&text_en(def.get("title"))),
            body_name = escape(&text_en(def.pointer("/awardingBody/name"))),
            country = escape(str_at(def, "/awardingBody/country/code")),
            work = escape(&workload(def)),
            eqf = escape(&eqf),
            summary = escape(&text_en(def.get("summary"))),
            course = escape(str_at(def, "/courseUrl")),
            id_attr = escape(id),
        ));
    }
    page("Micro-credential catalogue", &body)
}

/// What a printed certificate says, the same on the HTML page and in the PDF
/// (`crate::pdf`): the facts `bem_core::certificate` reads, plus the two ELM facts its
/// common view leaves out (mode and assessment). Texts are unescaped: each output
/// escapes or encodes them itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    /// Who awards it: the awarding body, else the issuer's name.
    pub awarding: String,
    /// The issuer's own name, if the credential gives one (the PDF's author).
    pub issuer_name: Option<String>,
    pub learner: String,
    /// The micro-credential's title (a generic one when the credential has none).
    pub title: String,
    /// `YYYY-MM-DD` of the award (or issuance).
    pub date: String,
    /// Each part of the workload, e.g. `40 hours`, `2 ECTS`.
    pub workload: Vec<String>,
    pub eqf_level: Option<String>,
    /// The national framework's level as labelled (`NQFS Level 3`).
    pub nqf_level: Option<String>,
    /// The ELM mode of learning and assessment (`Online`, `Blended`…).
    pub mode: Option<String>,
    /// The ELM assessment type (`Written test`…).
    pub assessment: Option<String>,
    pub grade: Option<String>,
    pub outcomes: Vec<String>,
    /// The issuer's identifier (a DID).
    pub issuer_id: String,
    /// The credential's `id`.
    pub credential_id: String,
}

impl Printed {
    /// Reads a signed certificate (ELM or Open Badges); never fails.
    pub fn read(doc: &Value) -> Printed {
        use bem_core::certificate::CertificateView;
        let view = CertificateView::read(doc, "en");
        let issued = view.issued.as_deref().unwrap_or_default();
        let workload = view.workload.iter().map(|w| w.phrase("hours")).collect();
        // ELM extras the common view leaves out.
        let spec = doc.pointer("/credentialSubject/hasClaim/specifiedBy").unwrap_or(&Value::Null);
        let assessment = doc.pointer("/credentialSubject/hasClaim/provenBy/specifiedBy/dcType/prefLabel/en");
        Printed {
            awarding: view.awarding_body.clone().or_else(|| view.issuer_name.clone()).unwrap_or_default(),
            issuer_name: view.issuer_name,
            learner: view.learner.unwrap_or_default(),
            title: view.title.unwrap_or_else(|| "Verifiable credential".to_owned()),
            date: issued.get(..10).unwrap_or(issued).to_owned(),
            workload,
            eqf_level: view.eqf_level,
            nqf_level: view.nqf_level,
            mode: spec.pointer("/mode/prefLabel/en").and_then(Value::as_str).map(str::to_owned),
            assessment: assessment.and_then(Value::as_str).map(str::to_owned),
            grade: view.grade,
            outcomes: view.outcomes,
            issuer_id: bem_core::model::issuer_id(doc).unwrap_or_default().to_owned(),
            credential_id: doc.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
        }
    }
}

/// The printable certificate page of a signed certificate (ELM or Open Badges, read by
/// [`Printed`]); `notice` says if it is revoked or suspended.
///
/// `signed_qr`: the QR code holds the signed certificate itself (`qr.svg?form=compact`,
/// a verifier link when one is configured: `crate::qr::printed`), else its link;
/// `qr_note` says why the link is there instead of the signed form.
pub fn certificate(
    doc: &Value,
    token: &str,
    notice: Option<&str>,
    signed_qr: bool,
    qr_note: Option<&str>,
) -> String {
    let p = Printed::read(doc);
    let outcomes: String = p.outcomes.iter().map(|o| format!("<li>{}</li>", escape(o))).collect();
    let mut facts = Vec::new();
    if !p.workload.is_empty() {
        facts.push(format!("workload {}", p.workload.join(", ")));
    }
    if let Some(level) = &p.eqf_level {
        facts.push(format!("EQF level {level}"));
    }
    facts.extend(p.nqf_level.iter().cloned());
    facts.extend(p.mode.iter().cloned());
    facts.extend(p.assessment.iter().map(|a| format!("assessment: {a}")));
    let grade = p.grade.as_deref().map(|g| format!("Grade: {} · ", escape(g))).unwrap_or_default();
    let notice = notice.map(|n| format!("<p class=\"status\">{}</p>", escape(n))).unwrap_or_default();
    let body = format!(
        "{notice}<div class=\"cert\"><p>{awarding}</p><p>certifies that</p><h2>{learner}</h2>\
         <p>has been awarded the micro-credential</p><h2>{title}</h2><p class=\"meta\">{facts}</p>\
         <p>{grade}Issued {date}</p><ul class=\"outcomes\">{outcomes}</ul>\
         <p class=\"qr\"><img src=\"/credentials/{token}/qr.svg{qr_query}\" alt=\"{qr_alt}\"></p>{qr_note}\
         <p class=\"meta\">Issuer {issuer} · Credential {id}</p></div>\
         <p class=\"noprint\"><a href=\"/credentials/{token}\" type=\"application/json\">Download the signed credential (JSON)</a> · \
         <a href=\"/credentials/{token}/qr.png\">QR code (PNG)</a> · \
         <a href=\"/credentials/{token}.pdf\" type=\"application/pdf\">Download PDF</a></p>",
        qr_query = if signed_qr { "?form=compact" } else { "" },
        qr_note = qr_note.map(|n| format!("<p class=\"meta qrnote\">{}</p>", escape(n))).unwrap_or_default(),
        qr_alt = if signed_qr { "QR code carrying this signed certificate" } else { "QR code of this certificate's link" },
        awarding = escape(&p.awarding),
        learner = escape(&p.learner),
        title = escape(&p.title),
        facts = escape(&facts.join(" · ")),
        date = escape(&p.date),
        outcomes = outcomes,
        token = escape(token),
        issuer = escape(&p.issuer_id),
        id = escape(&p.credential_id),
    );
    page(&format!("{} — {}", p.title, p.learner), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The certificate page prints on one A4 page: A4 `@page`, a column of the printable
    /// area's height whose outcomes give way, no links on paper; on screen it links to
    /// the PDF. (The rendering itself was checked in headless Chromium: one page for the
    /// demo certificates, a revoked one, and one with 30 long outcomes.)
    #[test]
    fn certificate_page_prints_on_one_a4_page_and_links_to_the_pdf() {
        let doc =
            serde_json::json!({"id": "urn:uuid:1", "name": "Course", "credentialSubject": {"name": "Ана"}});
        let html = certificate(&doc, "0123456789abcdef0123456789abcdef", None, false, None);
        for part in [
            "@page{size:A4;",
            ".noprint{display:none}",
            "height:272mm;overflow:hidden",
            ".cert ul.outcomes{flex:0 1 auto;min-height:0;overflow:hidden",
        ] {
            assert!(html.contains(part), "{part} not in {html}");
        }
        assert!(html.contains("<p class=\"noprint\">"));
        assert!(html.contains("href=\"/credentials/0123456789abcdef0123456789abcdef.pdf\" type=\"application/pdf\">Download PDF</a>"));
        assert!(html.contains("/credentials/0123456789abcdef0123456789abcdef/qr.svg\""));
        // With a verifier configured, the printed code carries the signed certificate.
        let signed = certificate(&doc, "0123456789abcdef0123456789abcdef", None, true, None);
        assert!(signed.contains("/credentials/0123456789abcdef0123456789abcdef/qr.svg?form=compact\""));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        let mut def = crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap().remove(0);
        def["title"]["en"] = "<img src=x onerror=alert(1)>".into();
        let html = catalogue(&[def], "Issuer <b>");
        assert!(!html.contains("<img src=x"));
        assert!(html.contains("Issuer &lt;b&gt;"));
    }

    /// The catalogue names each qualification's levels: EQF, and the national framework's
    /// (a QDR level by its label, another framework's by name).
    #[test]
    fn the_catalogue_shows_eqf_and_national_levels() {
        let demo = crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap();
        let html = catalogue(&demo, "Issuer");
        assert!(html.contains("EQF level 3 · NQF: NQFS Level 3"), "{html}");
        assert!(
            html.contains("EQF level 4 · NQF: National Qualifications Framework of Ukraine, level 4"),
            "{html}"
        );
        let mut def = demo[0].clone();
        def["nqfLevel"] = serde_json::json!({"framework": "<b>F</b>", "level": "4"});
        assert!(catalogue(&[def], "Issuer").contains("NQF: &lt;b&gt;F&lt;/b&gt;, level 4"));
    }
}
