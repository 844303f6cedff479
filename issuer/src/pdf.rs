//! The printable certificate as a PDF (`GET /credentials/{id}.pdf`): one A4 page with
//! what the certificate page shows ([`Printed`]) and its QR code, and the signed
//! credential itself attached as `credential.json`, so that the file carries the
//! verifiable original and not only a picture of it.
//!
//! Pure: the stored credential, its JSON text as served, its link and the QR code's
//! modules in; PDF bytes out. No browser and no I/O: the PDF is written object by object
//! with `pdf-writer` (typst's low-level writer), text in DejaVu Sans embedded as CID fonts
//! subset to the glyphs used ([`font`]), the QR code as vector squares.
//!
//! Invariants: always exactly one page (texts are wrapped by measuring the font's
//! advances, and cut with `…` where they would not fit: a long name or title, more
//! learning outcomes than the page holds); the attachment is the JSON text byte for
//! byte; the same input gives the same bytes (no clock; the file identifier is a hash
//! of the credential); certificate text is only ever shown as text.

mod font;

use std::io::Write;

use anyhow::Context;
use pdf_writer::types::{ActionType, AnnotationType, AssociationKind};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::pages::Printed;
use crate::qr::Modules;
use font::Font;

/// What the PDF of a certificate is made of.
pub struct Input<'a> {
    /// The stored, signed credential.
    pub credential: &'a Value,
    /// Its JSON text exactly as `GET /credentials/{id}` serves it: the attachment.
    pub json: &'a str,
    /// The certificate's link (printed and clickable).
    pub link: &'a str,
    /// The QR code the certificate page shows (`crate::qr::printed`): the signed compact
    /// form when `qr_signed`, else `link`.
    pub qr: &'a Modules,
    /// Whether the QR code carries the signed certificate itself.
    pub qr_signed: bool,
    /// Why the link is printed where the signed form would be (`crate::qr::Printed::note`).
    pub qr_note: Option<&'a str>,
    /// A status notice (revoked, suspended, a message), as on the page.
    pub notice: Option<&'a str>,
}

/// The name the attachment has in PDF readers.
pub const ATTACHMENT: &str = "credential.json";

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
/// Left and right edges of the text.
const LEFT: f32 = 64.0;
const RIGHT: f32 = PAGE_WIDTH - 64.0;
/// Top of the text, below the frame.
const TOP: f32 = PAGE_HEIGHT - 64.0;
/// The QR code: its side (about 4.4 cm) and its bottom edge.
const QR_SIZE: f32 = 124.0;
const QR_BOTTOM: f32 = 60.0;
/// Nothing above the verification block (QR code and links) goes below this.
const BLOCK_TOP: f32 = QR_BOTTOM + QR_SIZE + 22.0;

/// The sizes and line counts the learner's name is tried at ([`Sheet::fitted`]): one line
/// from 26 pt down to 20, two lines down to 14, then smaller (a name of 200 characters,
/// the most an award takes, fits).
const NAME_SIZES: &[(f32, usize)] = &[
    (26.0, 1),
    (25.0, 1),
    (24.0, 1),
    (23.0, 1),
    (22.0, 1),
    (21.0, 1),
    (20.0, 1),
    (20.0, 2),
    (19.0, 2),
    (18.0, 2),
    (17.0, 2),
    (16.0, 2),
    (15.0, 2),
    (14.0, 2),
    (14.0, 3),
    (13.0, 3),
    (12.0, 4),
    (11.0, 5),
];
/// The same for the certificate's link: on one line if it can be.
const LINK_SIZES: &[(f32, usize)] = &[(8.5, 1), (8.0, 1), (7.5, 1), (7.0, 1), (6.5, 1), (7.0, 2), (7.0, 3)];
/// The same for the micro-credential's title.
const TITLE_SIZES: &[(f32, usize)] =
    &[(17.0, 2), (16.0, 2), (15.0, 2), (15.0, 3), (14.0, 3), (13.0, 3), (12.0, 4), (11.0, 5)];

/// The sum of the weights of the stretchable gaps between the sections ([`Sheet::gap`]).
const GAP_WEIGHTS: f32 = 6.0;
/// The most a gap of weight 1 grows, in points.
const MAX_STRETCH: f32 = 18.0;

/// Colours (RGB 0..1).
type Rgb = (f32, f32, f32);
const INK: Rgb = (0.13, 0.13, 0.13);
const ACCENT: Rgb = (0.2, 0.2, 0.33);
const MUTED: Rgb = (0.36, 0.36, 0.36);
const LINK: Rgb = (0.08, 0.25, 0.6);
const ALERT: Rgb = (0.6, 0.08, 0.08);

/// The PDF of a certificate.
pub fn render(input: &Input<'_>) -> anyhow::Result<Vec<u8>> {
    let printed = Printed::read(input.credential);
    // A first layout measures the room the text leaves above the verification block;
    // the page is then laid out with that room shared out between the sections, so a
    // short certificate is not all at the top.
    let mut probe = Sheet::new(0.0)?;
    probe.body(&printed, input.notice);
    let spare = (probe.y - BLOCK_TOP - 1.0).max(0.0);
    let mut sheet = Sheet::new((spare / GAP_WEIGHTS).min(MAX_STRETCH))?;
    sheet.frame();
    sheet.body(&printed, input.notice);
    let link_lines = sheet.verification(&printed, input.link, input.qr, input.qr_signed, input.qr_note);
    write_document(sheet, &printed, input, link_lines)
}

/// The page being laid out: its content stream, its two fonts and the cursor.
struct Sheet {
    content: Content,
    regular: Font,
    bold: Font,
    /// The top of the next line, in points from the bottom of the page.
    y: f32,
    /// How much a gap of weight 1 grows ([`Sheet::gap`]).
    stretch: f32,
}

/// How a run of text is set.
#[derive(Clone, Copy)]
struct Style {
    bold: bool,
    size: f32,
    color: Rgb,
}

impl Style {
    const fn new(bold: bool, size: f32, color: Rgb) -> Style {
        Style { bold, size, color }
    }

    /// The distance from one baseline to the next.
    fn leading(self) -> f32 {
        self.size * 1.3
    }
}

/// Where a line sits in its box.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

/// A horizontal box: left edge and width.
#[derive(Clone, Copy)]
struct Span {
    x: f32,
    width: f32,
}

const FULL: Span = Span { x: LEFT, width: RIGHT - LEFT };

impl Sheet {
    fn new(stretch: f32) -> anyhow::Result<Sheet> {
        Ok(Sheet { content: Content::new(), regular: Font::regular()?, bold: Font::bold()?, y: TOP, stretch })
    }

    fn font(&self, style: Style) -> &Font {
        if style.bold {
            &self.bold
        } else {
            &self.regular
        }
    }

    fn width(&self, style: Style, text: &str) -> f32 {
        self.font(style).width(text, style.size)
    }

    /// A double rule around the page, like the certificate page's border.
    fn frame(&mut self) {
        let (r, g, b) = ACCENT;
        self.content.save_state().set_stroke_rgb(r, g, b);
        for (inset, width) in [(26.0, 2.2), (32.0, 0.8)] {
            self.content.set_line_width(width);
            self.content.rect(inset, inset, PAGE_WIDTH - 2.0 * inset, PAGE_HEIGHT - 2.0 * inset).stroke();
        }
        self.content.restore_state();
    }

    /// Shows one line with its baseline at `baseline`.
    fn show(&mut self, style: Style, text: &str, span: Span, align: Align, baseline: f32) {
        let width = self.width(style, text);
        let x = match align {
            Align::Left => span.x,
            Align::Center => span.x + (span.width - width) / 2.0,
            Align::Right => span.x + span.width - width,
        };
        let (name, font) =
            if style.bold { (Name(b"F2"), &mut self.bold) } else { (Name(b"F1"), &mut self.regular) };
        let encoded = font.encode(text);
        let (r, g, b) = style.color;
        self.content.begin_text().set_fill_rgb(r, g, b).set_font(name, style.size);
        self.content.next_line(x, baseline).show(Str(&encoded)).end_text();
    }

    /// Shows `lines` top down from the cursor and moves it below them.
    fn lines(&mut self, style: Style, lines: &[String], span: Span, align: Align) {
        for line in lines {
            // The baseline sits one ascent (about 0.93 em in DejaVu) below the line's top.
            let baseline = self.y - style.size * 0.93;
            self.show(style, line, span, align, baseline);
            self.y -= style.leading();
        }
    }

    /// `text` wrapped to `span`, at most `max_lines` lines (the last cut with `…`),
    /// shown from the cursor.
    fn paragraph(&mut self, style: Style, text: &str, span: Span, align: Align, max_lines: usize) {
        let lines = self.wrap(style, text, span.width, max_lines);
        self.lines(style, &lines, span, align);
    }

    /// Moves the cursor down by `gap` points.
    fn skip(&mut self, gap: f32) {
        self.y -= gap;
    }

    /// Moves the cursor down by `gap` points and `weight` shares of the stretch: the
    /// gaps between sections, which share the room a short certificate leaves.
    fn gap(&mut self, gap: f32, weight: f32) {
        self.y -= gap + weight * self.stretch;
    }

    /// `text` broken into lines no wider than `width`, at spaces where it can be and
    /// inside a word only when one word is wider than the line; at most `max_lines`, the
    /// last cut with `…` if text is left over.
    fn wrap(&self, style: Style, text: &str, width: f32, max_lines: usize) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() { word.to_owned() } else { format!("{line} {word}") };
            if self.width(style, &candidate) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than the line is broken between characters.
            for c in word.chars() {
                line.push(c);
                if self.width(style, &line) > width && line.chars().count() > 1 {
                    line.pop();
                    lines.push(std::mem::replace(&mut line, c.to_string()));
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        if lines.len() > max_lines {
            lines.truncate(max_lines);
            if let Some(last) = lines.last_mut() {
                *last = self.ellipsis(style, last, width);
            }
        }
        lines
    }

    /// `line` with `…` appended, shortened until it fits `width`.
    fn ellipsis(&self, style: Style, line: &str, width: f32) -> String {
        let mut kept: Vec<char> = line.chars().collect();
        loop {
            let text: String = kept.iter().collect::<String>().trim_end().to_owned() + "…";
            if kept.is_empty() || self.width(style, &text) <= width {
                return text;
            }
            kept.pop();
        }
    }

    /// The upper part: notice, awarding body, "Certificate", learner, title, facts and
    /// as many learning outcomes as fit above the verification block.
    fn body(&mut self, p: &Printed, notice: Option<&str>) {
        if let Some(notice) = notice {
            self.notice(notice);
        }
        self.gap(0.0, 1.0);
        self.paragraph(Style::new(false, 12.0, MUTED), &p.awarding, FULL, Align::Center, 2);
        self.gap(10.0, 1.0);
        self.paragraph(Style::new(true, 34.0, ACCENT), "Certificate", FULL, Align::Center, 1);
        self.gap(6.0, 0.5);
        self.paragraph(Style::new(false, 11.0, MUTED), "certifies that", FULL, Align::Center, 1);
        self.skip(4.0);
        self.fitted(true, INK, &p.learner, NAME_SIZES);
        self.skip(4.0);
        let awarded = "has been awarded the micro-credential";
        self.paragraph(Style::new(false, 11.0, MUTED), awarded, FULL, Align::Center, 1);
        self.skip(4.0);
        self.fitted(true, INK, &p.title, TITLE_SIZES);
        self.gap(12.0, 1.5);
        self.facts(p);
        self.gap(14.0, 1.5);
        self.outcomes(&p.outcomes);
    }

    /// The status notice in a red box across the top.
    fn notice(&mut self, text: &str) {
        let style = Style::new(true, 11.0, ALERT);
        let lines = self.wrap(style, text, FULL.width - 16.0, 3);
        let height = lines.len() as f32 * style.leading() + 10.0;
        let (r, g, b) = ALERT;
        self.content.save_state().set_fill_rgb(1.0, 0.93, 0.95).set_stroke_rgb(r, g, b).set_line_width(1.0);
        self.content.rect(LEFT, self.y - height, FULL.width, height).fill_nonzero_and_stroke();
        self.content.restore_state();
        self.skip(5.0);
        self.lines(style, &lines, FULL, Align::Center);
        self.skip(5.0 + 14.0);
    }

    /// `text` centred at the first (size, lines) of `sizes` at which it fits in that
    /// many lines, else at the last one, cut with `…`: a long name or title is made
    /// smaller before it takes more lines, and is cut only beyond any real one.
    fn fitted(&mut self, bold: bool, color: Rgb, text: &str, sizes: &[(f32, usize)]) {
        let (style, lines) = self.fit(Style::new(bold, 0.0, color), text, FULL.width, sizes);
        self.lines(style, &lines, FULL, Align::Center);
    }

    /// `text` in `style` wrapped to `width` at the first (size, lines) of `sizes` at
    /// which it fits in that many lines, else at the last one, cut with `…`.
    fn fit(&self, style: Style, text: &str, width: f32, sizes: &[(f32, usize)]) -> (Style, Vec<String>) {
        let mut chosen = (style, Vec::new());
        for &(size, max_lines) in sizes {
            let sized = Style { size, ..style };
            let lines = self.wrap(sized, text, width, usize::MAX);
            if lines.len() <= max_lines {
                return (sized, lines);
            }
            chosen = (sized, self.wrap(sized, text, width, max_lines));
        }
        chosen
    }

    /// Award date, EQF level, workload, mode, assessment and grade as labelled rows,
    /// labels right-aligned left of the middle, values left-aligned right of it.
    fn facts(&mut self, p: &Printed) {
        let mut rows: Vec<(&str, String)> = vec![("Awarded", p.date.clone())];
        rows.extend(p.eqf_level.iter().map(|l| ("EQF level", l.clone())));
        rows.extend(p.nqf_level.iter().map(|l| ("National level", l.clone())));
        if !p.workload.is_empty() {
            rows.push(("Workload", p.workload.join(" · ")));
        }
        rows.extend(p.mode.iter().map(|m| ("Mode", m.clone())));
        rows.extend(p.assessment.iter().map(|a| ("Assessment", a.clone())));
        rows.extend(p.grade.iter().map(|g| ("Grade", g.clone())));
        let label = Style::new(false, 10.5, MUTED);
        let value = Style::new(true, 10.5, INK);
        let middle = PAGE_WIDTH / 2.0 - 40.0;
        let labels = Span { x: LEFT, width: middle - 6.0 - LEFT };
        let values = Span { x: middle + 6.0, width: RIGHT - middle - 6.0 };
        for (name, text) in rows {
            let top = self.y;
            self.lines(label, &[name.to_owned()], labels, Align::Right);
            self.y = top;
            self.paragraph(value, &text, values, Align::Left, 2);
        }
    }

    /// The learning outcomes, as many as fit above the verification block; when some do
    /// not, the last shown ends in `…` and a line says how many more the credential has.
    fn outcomes(&mut self, outcomes: &[String]) {
        if outcomes.is_empty() {
            return;
        }
        let heading = Style::new(true, 11.0, ACCENT);
        self.paragraph(heading, "Learning outcomes", FULL, Align::Left, 1);
        self.skip(3.0);
        let indent = 14.0;
        let text_span = Span { x: LEFT + indent, width: FULL.width - indent };
        // The largest of three sizes at which every outcome fits, else the smallest.
        let mut layout = None;
        for size in [10.5, 9.5, 8.5] {
            let item = Style::new(false, size, INK);
            let room = ((self.y - BLOCK_TOP) / item.leading()).floor().max(0.0) as usize;
            let wrapped: Vec<Vec<String>> =
                outcomes.iter().map(|o| self.wrap(item, o, text_span.width, usize::MAX)).collect();
            let total: usize = wrapped.iter().map(Vec::len).sum();
            let fits = total <= room;
            layout = Some((item, room, wrapped, total));
            if fits {
                break;
            }
        }
        let Some((item, room, wrapped, total)) = layout else { return };
        // Everything fits, or one line is kept for saying what was left out.
        let budget = if total <= room { room } else { room.saturating_sub(1) };
        let mut used = 0;
        let mut shown = 0;
        for lines in &wrapped {
            if used >= budget {
                break;
            }
            let mut lines = lines.clone();
            if used + lines.len() > budget {
                lines.truncate(budget - used);
                if let Some(last) = lines.last_mut() {
                    *last = self.ellipsis(item, last, text_span.width);
                }
            }
            let baseline = self.y - item.size * 0.93;
            self.show(item, "•", Span { x: LEFT + 3.0, width: indent }, Align::Left, baseline);
            used += lines.len();
            shown += 1;
            self.lines(item, &lines, text_span, Align::Left);
        }
        if shown < outcomes.len() && room > 0 {
            let more = outcomes.len() - shown;
            let note = format!(
                "… {more} more learning outcome{} in the attached credential",
                if more == 1 { "" } else { "s" }
            );
            self.paragraph(Style::new(false, 9.0, MUTED), &note, text_span, Align::Left, 1);
        }
    }

    /// The bottom block: the QR code, what to do with it, the link, the issuer and
    /// credential ids and a word on the attachment. Returns where the link's lines are
    /// (for the link annotation).
    fn verification(
        &mut self,
        p: &Printed,
        link: &str,
        qr: &Modules,
        signed: bool,
        note: Option<&str>,
    ) -> Vec<Rect> {
        let (r, g, b) = ACCENT;
        let rule = BLOCK_TOP - 8.0;
        self.content.save_state().set_stroke_rgb(r, g, b).set_line_width(0.5);
        self.content.move_to(LEFT, rule).line_to(RIGHT, rule).stroke();
        self.content.restore_state();
        self.qr(qr, LEFT, QR_BOTTOM, QR_SIZE);

        let column = Span { x: LEFT + QR_SIZE + 22.0, width: RIGHT - (LEFT + QR_SIZE + 22.0) };
        self.y = QR_BOTTOM + QR_SIZE + 2.0;
        let caption = "Scan the QR code to verify this certificate";
        self.paragraph(Style::new(true, 11.5, ACCENT), caption, column, Align::Left, 2);
        self.skip(2.0);
        let hint = if signed {
            "It carries this certificate, signed by its issuer: a verifier checks it even when \
             the issuer's site cannot be reached. The full certificate:"
        } else {
            "It opens this certificate at its issuer, with its current status. Or open:"
        };
        let hint = match note {
            Some(note) => format!("{note} {hint}"),
            None => hint.to_owned(),
        };
        self.paragraph(Style::new(false, 8.5, MUTED), &hint, column, Align::Left, 4);
        let (link_style, link_lines) = self.fit(Style::new(false, 0.0, LINK), link, column.width, LINK_SIZES);
        let mut rects = Vec::new();
        for line in &link_lines {
            let width = self.width(link_style, line);
            rects.push(Rect::new(column.x, self.y - link_style.leading(), column.x + width, self.y));
        }
        self.lines(link_style, &link_lines, column, Align::Left);
        self.skip(6.0);
        let small = Style::new(false, 7.5, MUTED);
        self.paragraph(small, &format!("Issuer: {}", p.issuer_id), column, Align::Left, 2);
        self.paragraph(small, &format!("Credential: {}", p.credential_id), column, Align::Left, 2);
        self.skip(4.0);
        let attached = format!(
            "The signed credential is attached to this PDF as {ATTACHMENT}: that file is the \
             verifiable original, which a verifier or wallet can check; this page is a copy for reading."
        );
        self.paragraph(small, &attached, column, Align::Left, 3);
        rects
    }

    /// The QR code as black squares, `size` points wide, its bottom left corner at
    /// (`x`, `y`); each row's runs of dark modules are one rectangle.
    fn qr(&mut self, qr: &Modules, x: f32, y: f32, size: f32) {
        if qr.width == 0 {
            return;
        }
        let module = size / qr.width as f32;
        self.content.save_state().set_fill_rgb(0.0, 0.0, 0.0);
        for row in 0..qr.width {
            let mut col = 0;
            while col < qr.width {
                if !qr.is_dark(col, row) {
                    col += 1;
                    continue;
                }
                let start = col;
                while col < qr.width && qr.is_dark(col, row) {
                    col += 1;
                }
                let top = y + size - row as f32 * module;
                // A hair wider and taller so neighbouring squares leave no seam.
                self.content.rect(
                    x + start as f32 * module,
                    top - module - 0.02,
                    (col - start) as f32 * module + 0.02,
                    module + 0.02,
                );
            }
        }
        self.content.fill_nonzero().restore_state();
    }
}

/// The whole document around the laid-out page: catalogue with the attachment, page,
/// fonts, link annotation, document information.
fn write_document(
    sheet: Sheet,
    p: &Printed,
    input: &Input<'_>,
    link_rects: Vec<Rect>,
) -> anyhow::Result<Vec<u8>> {
    let mut next_id = 0;
    let mut next = || {
        next_id += 1;
        Ref::new(next_id)
    };
    let (catalog_id, pages_id, page_id, content_id, info_id) = (next(), next(), next(), next(), next());
    let (regular_id, bold_id, file_id, spec_id) = (next(), next(), next(), next());
    let annotation_ids: Vec<Ref> = link_rects.iter().map(|_| next()).collect();

    let mut pdf = Pdf::new();
    let digest = Sha256::digest(input.json.as_bytes());
    let file_key = digest.get(..16).unwrap_or_default().to_vec();
    pdf.set_file_id((file_key.clone(), file_key));

    let mut catalog = pdf.catalog(catalog_id);
    catalog.pages(pages_id).lang(TextStr("en"));
    catalog.names().embedded_files().names().insert(Str(ATTACHMENT.as_bytes()), spec_id);
    catalog.insert(Name(b"AF")).array().item(spec_id);
    catalog.finish();
    pdf.pages(pages_id).kids([page_id]).count(1);

    let mut page = pdf.page(page_id);
    page.parent(pages_id).media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT)).contents(content_id);
    page.annotations(annotation_ids.iter().copied());
    page.resources().fonts().pair(Name(b"F1"), regular_id).pair(Name(b"F2"), bold_id);
    page.finish();

    let content = deflate(&sheet.content.finish().into_vec())?;
    pdf.stream(content_id, &content).filter(Filter::FlateDecode);

    for (id, rect) in annotation_ids.iter().zip(link_rects) {
        let mut annotation = pdf.annotation(*id);
        annotation.subtype(AnnotationType::Link).rect(rect).border(0.0, 0.0, 0.0, None);
        annotation.action().action_type(ActionType::Uri).uri(Str(input.link.as_bytes()));
    }

    sheet.regular.write(&mut pdf, regular_id, &mut next)?;
    sheet.bold.write(&mut pdf, bold_id, &mut next)?;

    attach(&mut pdf, input.json, file_id, spec_id)?;

    let author = p.issuer_name.as_deref().unwrap_or(&p.awarding);
    let title = format!("Certificate: {} — {}", p.title, p.learner);
    pdf.document_info(info_id)
        .title(TextStr(&title))
        .author(TextStr(author))
        .subject(TextStr(&p.title))
        .creator(TextStr("BEM Credentials"))
        .producer(TextStr("bem-issuer (pdf-writer)"));
    Ok(pdf.finish())
}

/// The credential's JSON as the embedded file `credential.json` (deflated), and its file
/// specification: readers list it as an attachment (`/Names /EmbeddedFiles`), and the
/// catalogue's associated files name it as the document's source (PDF 2.0 `/AF`).
fn attach(pdf: &mut Pdf, json: &str, file_id: Ref, spec_id: Ref) -> anyhow::Result<()> {
    let packed = deflate(json.as_bytes())?;
    let size = i32::try_from(json.len()).context("the credential is too large to attach")?;
    let mut file = pdf.embedded_file(file_id, &packed);
    file.subtype(Name(b"application/json")).filter(Filter::FlateDecode);
    file.params().size(size);
    file.finish();
    pdf.file_spec(spec_id)
        .path(Str(ATTACHMENT.as_bytes()))
        .unic_file(TextStr(ATTACHMENT))
        .description(TextStr("The signed verifiable credential (W3C VC) this certificate shows"))
        .association_kind(AssociationKind::Source)
        .embedded_file_with_unicode(file_id);
    Ok(())
}

/// `data` compressed for a `FlateDecode` stream (zlib).
fn deflate(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use lopdf::{Document, Object};
    use serde_json::Value;

    use super::*;
    use crate::certificate::{Learner, Profile};
    use crate::learner::samples;

    const LINK: &str = "https://academy.bem.example/credentials/0123456789abcdef0123456789abcdef";

    /// A signed certificate of the demo micro-credential `id`, as the issuer makes it.
    fn certificate(id: &str, learner: &Learner, profile: Profile) -> Value {
        use bem_core::contexts::ContextPolicy;
        use bem_core::data_integrity::{add_proof, Cryptosuite, ProofOptions, ProofPurpose};
        let def = crate::catalogue::parse_file(crate::catalogue::DEMO)
            .unwrap()
            .into_iter()
            .find(|d| d["id"] == id)
            .unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let did = bem_core::did_key::DidKey::from_public_key(&key.verifying_key());
        let issuer = crate::config::IssuerProfile {
            name: "Kyiv Digital Skills Academy".into(),
            country_uri: "http://publications.europa.eu/resource/authority/country/UKR".into(),
            legal_identifier: None,
            homepage: None,
        };
        let doc = profile.build(&crate::certificate::Input {
            definition: &def,
            learner,
            issuer_did: did.did(),
            issuer: &issuer,
            public_url: "https://academy.bem.example",
            credential_id: "urn:uuid:00000000-0000-4000-8000-000000000000",
            issued: "2025-06-01T12:00:00Z",
            status: &samples::status_entries(profile),
        });
        let options = ProofOptions::new(
            Cryptosuite::EddsaRdfc2022,
            did.verification_method_id(),
            ProofPurpose::AssertionMethod,
        );
        add_proof(&doc, &options, &key, ContextPolicy::STRICT).unwrap()
    }

    fn pdf_of(credential: &Value, notice: Option<&str>) -> (Vec<u8>, String) {
        let json = credential.to_string();
        let qr = crate::qr::modules(LINK).unwrap();
        let bytes = render(&Input {
            credential,
            json: &json,
            link: LINK,
            qr: &qr,
            qr_signed: false,
            qr_note: None,
            notice,
        })
        .unwrap();
        (bytes, json)
    }

    /// The bytes of the file attached as `name`, found as a reader finds it: the
    /// catalogue's `/Names /EmbeddedFiles` tree → file specification → `/EF /F` stream.
    fn attachment(doc: &Document, name: &str) -> (Vec<u8>, Vec<u8>) {
        let names = doc.catalog().unwrap().get_deref(b"Names", doc).unwrap().as_dict().unwrap();
        let tree = names.get_deref(b"EmbeddedFiles", doc).unwrap().as_dict().unwrap();
        let pairs = tree.get(b"Names").unwrap().as_array().unwrap();
        let at = pairs.iter().position(|o| o.as_str().ok() == Some(name.as_bytes())).unwrap();
        let spec = doc.dereference(&pairs[at + 1]).unwrap().1.as_dict().unwrap();
        assert_eq!(spec.get(b"UF").unwrap().as_str().unwrap(), name.as_bytes());
        let ef = spec.get_deref(b"EF", doc).unwrap().as_dict().unwrap();
        let stream = ef.get_deref(b"F", doc).unwrap().as_stream().unwrap();
        let subtype = stream.dict.get(b"Subtype").unwrap().as_name().unwrap().to_vec();
        (stream.decompressed_content().unwrap(), subtype)
    }

    fn info(doc: &Document, key: &[u8]) -> String {
        let info = doc.trailer.get_deref(b"Info", doc).unwrap().as_dict().unwrap();
        let raw = info.get(key).unwrap().as_str().unwrap();
        // Text strings: UTF-16BE with a byte order mark, or PDFDocEncoding (ASCII here).
        match raw.strip_prefix(&[0xfe, 0xff]) {
            Some(utf16) => String::from_utf16(
                &utf16.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect::<Vec<_>>(),
            )
            .unwrap(),
            None => String::from_utf8(raw.to_vec()).unwrap(),
        }
    }

    /// The page's text as a reader extracts it (through the fonts' ToUnicode maps),
    /// with the line breaks of the layout turned into spaces.
    fn text(doc: &Document) -> String {
        doc.extract_text(&[1]).unwrap().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_certificate_is_one_page_with_its_text_and_the_signed_credential_attached() {
        let vc = certificate("jo-solar-pv-installation", &samples::minimal(), Profile::Elm);
        let (bytes, json) = pdf_of(&vc, None);
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() < 80_000, "{} bytes", bytes.len());
        let doc = Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 1);

        let (attached, subtype) = attachment(&doc, ATTACHMENT);
        assert_eq!(attached, json.as_bytes(), "the attachment is the served JSON, byte for byte");
        assert_eq!(subtype, b"application/json");
        let from_pdf: Value = serde_json::from_slice(&attached).unwrap();
        assert_eq!(from_pdf, vc);

        let text = text(&doc);
        for expected in [
            "Олена Ковальчук",
            "Certificate",
            "Solar PV system installation",
            "EQF level 4",
            "Awarded 2025-06-01",
            "Assess a roof for a PV installation",
            "Scan the QR code to verify this certificate",
            LINK,
            "urn:uuid:00000000-0000-4000-8000-000000000000",
        ] {
            assert!(text.contains(expected), "{expected:?} not in {text}");
        }
        assert!(!text.contains('…'), "nothing of a demo certificate is cut: {text}");

        assert_eq!(info(&doc, b"Creator"), "BEM Credentials");
        assert_eq!(info(&doc, b"Author"), "Kyiv Digital Skills Academy");
        assert_eq!(info(&doc, b"Title"), "Certificate: Solar PV system installation — Олена Ковальчук");
    }

    /// The fonts are Type0 / CIDFontType2 with Identity-H, a ToUnicode map and an
    /// embedded subset (far smaller than DejaVu's 700 KB).
    #[test]
    fn fonts_are_embedded_cid_subsets_with_to_unicode() {
        let vc = certificate("md-digital-tools-small-business", &samples::full(), Profile::OpenBadges);
        let (bytes, _) = pdf_of(&vc, None);
        let doc = Document::load_mem(&bytes).unwrap();
        let page = *doc.get_pages().values().next().unwrap();
        let fonts = doc.get_page_fonts(page).unwrap();
        assert_eq!(fonts.len(), 2);
        for font in fonts.values() {
            assert_eq!(font.get(b"Subtype").unwrap().as_name().unwrap(), b"Type0");
            assert_eq!(font.get(b"Encoding").unwrap().as_name().unwrap(), b"Identity-H");
            assert!(font.get_deref(b"ToUnicode", &doc).unwrap().as_stream().is_ok());
            let cid = doc
                .dereference(&font.get(b"DescendantFonts").unwrap().as_array().unwrap()[0])
                .unwrap()
                .1
                .as_dict()
                .unwrap();
            assert_eq!(cid.get(b"Subtype").unwrap().as_name().unwrap(), b"CIDFontType2");
            let name = cid.get(b"BaseFont").unwrap().as_name().unwrap();
            assert_eq!(name.get(6), Some(&b'+'), "{}", String::from_utf8_lossy(name));
            let descriptor = cid.get_deref(b"FontDescriptor", &doc).unwrap().as_dict().unwrap();
            let file = descriptor.get_deref(b"FontFile2", &doc).unwrap().as_stream().unwrap();
            let font_bytes = file.decompressed_content().unwrap();
            assert!(font_bytes.len() < 60_000, "{} bytes", font_bytes.len());
        }
        assert!(text(&doc).contains("Ana Beridze"));
        assert!(text(&doc).contains("Grade Very \"good\""), "{}", text(&doc));
    }

    /// The QR code is drawn as vector squares that are exactly the dark modules of the
    /// code `crate::qr` makes (the page's code), at least 3 cm wide.
    #[test]
    fn the_qr_code_is_the_pages_code_in_vector_squares() {
        const { assert!(QR_SIZE >= 85.0) };
        let vc = certificate("md-digital-tools-small-business", &samples::minimal(), Profile::Elm);
        let (bytes, _) = pdf_of(&vc, None);
        let doc = Document::load_mem(&bytes).unwrap();
        let page = *doc.get_pages().values().next().unwrap();
        let content = lopdf::content::Content::decode(&doc.get_page_content(page).unwrap()).unwrap();
        let qr = crate::qr::modules(LINK).unwrap();
        let module = QR_SIZE / qr.width as f32;
        let number = |o: &Object| o.as_float().unwrap();
        let mut drawn = vec![false; qr.width * qr.width];
        for op in content.operations.iter().filter(|op| op.operator == "re") {
            let [x, y, w, h] = [0, 1, 2, 3].map(|i| number(&op.operands[i]));
            // Only the squares inside the QR code's box.
            if !(LEFT - 0.1..=LEFT + QR_SIZE).contains(&x)
                || !(QR_BOTTOM - 0.1..=QR_BOTTOM + QR_SIZE).contains(&y)
            {
                continue;
            }
            let row = ((QR_BOTTOM + QR_SIZE - (y + h)) / module).round() as usize;
            let first = ((x - LEFT) / module).round() as usize;
            let count = (w / module).round() as usize;
            assert!((h - module).abs() < 0.05, "one module high: {h}");
            for col in first..first + count {
                drawn[row * qr.width + col] = true;
            }
        }
        assert_eq!(drawn, qr.dark);
    }

    /// More than the page holds (a 200-character name, a long title, 40 long
    /// outcomes) is made smaller, then cut with `…`, and says what was left out:
    /// never a second page, never text over the QR code's block.
    #[test]
    fn overflow_is_cut_on_the_one_page() {
        let mut vc = certificate("jo-solar-pv-installation", &samples::minimal(), Profile::Elm);
        let name: String =
            "Łukasz Żółć-Wolfeschlegelsteinhausenbergerdorff ".repeat(5).chars().take(200).collect();
        vc["credentialSubject"]["fullName"]["en"] = name.trim().into();
        let outcome =
            "Size a grid-connected PV system of up to 10 kW, choosing modules, inverter, cables and \
                       protection devices, and document every choice for the customer's file.";
        let spec = &mut vc["credentialSubject"]["hasClaim"]["specifiedBy"];
        spec["learningOutcome"] =
            (0..40).map(|i| serde_json::json!({"title": {"en": format!("{i}: {outcome}")}})).collect();
        vc["credentialSubject"]["hasClaim"]["title"]["en"] =
            "A very long title of a micro-credential ".repeat(6).into();

        let printed = Printed::read(&vc);
        assert_eq!(printed.outcomes.len(), 40);
        let mut sheet = Sheet::new(0.0).unwrap();
        sheet.body(&printed, Some("This certificate has been revoked by its issuer."));
        assert!(sheet.y >= BLOCK_TOP - 0.01, "the text reaches {} (block at {BLOCK_TOP})", sheet.y);

        let (bytes, _) = pdf_of(&vc, Some("This certificate has been revoked by its issuer."));
        let doc = Document::load_mem(&bytes).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let text = text(&doc);
        assert!(text.contains(name.trim()), "the whole name: {text}");
        assert!(text.contains("This certificate has been revoked by its issuer."));
        assert!(text.contains("more learning outcomes in the attached credential"), "{text}");
        assert!(text.contains('…'));
        assert!(text.contains("Scan the QR code to verify this certificate"));
    }

    /// Every demo certificate, both forms, with a Latin, a Cyrillic, a Polish and a
    /// Georgian name: one page, nothing cut, the name recoverable as text; a script
    /// DejaVu lacks (CJK) is drawn as empty boxes, not an error.
    #[test]
    fn every_demo_certificate_fits_whole() {
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            let id = def["id"].as_str().unwrap();
            for (profile, name) in [
                (Profile::Elm, "Olena Kovalenko"),
                (Profile::Elm, "Олена Коваленко"),
                (Profile::OpenBadges, "Łukasz Żółć"),
                (Profile::Elm, "ანა ბერიძე"),
            ] {
                let learner =
                    Learner { name: name.into(), grade: Some("Very good".into()), ..Learner::default() };
                let vc = certificate(id, &learner, profile);
                let (bytes, _) = pdf_of(&vc, None);
                let doc = Document::load_mem(&bytes).unwrap();
                assert_eq!(doc.get_pages().len(), 1, "{id}");
                let text = text(&doc);
                assert!(text.contains(name), "{id} {profile:?}: {text}");
                assert!(!text.contains('…'), "{id} {profile:?}: {text}");
            }
        }
        let vc = certificate(
            "md-digital-tools-small-business",
            &Learner { name: "王小明".into(), ..Learner::default() },
            Profile::Elm,
        );
        let (bytes, _) = pdf_of(&vc, None);
        assert_eq!(Document::load_mem(&bytes).unwrap().get_pages().len(), 1);
    }

    /// The same certificate gives the same bytes (no clock in the file).
    #[test]
    fn the_pdf_is_deterministic() {
        let vc = certificate("me-community-first-aid", &samples::full(), Profile::Elm);
        assert_eq!(pdf_of(&vc, None).0, pdf_of(&vc, None).0);
    }
}
