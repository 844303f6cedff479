//! The embedded fonts of the printable certificate: DejaVu Sans and DejaVu Sans Bold
//! (`issuer/fonts/`, Bitstream Vera licence), measured with `ttf-parser` and written as
//! CID fonts (Type0 / CIDFontType2, `Identity-H`) subset to the glyphs a page uses.
//!
//! Text is mapped character by character to the font's glyphs (no shaping, no kerning):
//! right for the Latin, Greek, Cyrillic, Armenian and Georgian scripts DejaVu covers; a
//! character it lacks is its `.notdef` box. As glyphs are used they get new, consecutive
//! glyph ids (`subsetter::GlyphRemapper`); the subset font keeps those ids and the PDF
//! addresses each glyph by that id (CID = GID), two bytes a glyph. The ToUnicode map
//! gives every used glyph back its character, so the text can be copied and searched.

use std::collections::BTreeMap;

use anyhow::{anyhow, Context};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

/// DejaVu Sans 2.37 (`issuer/fonts/README.md`).
const REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold 2.37.
const BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// The character collection of an `Identity-H` CID font.
const IDENTITY: SystemInfo<'static> =
    SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

/// One embedded font: its face for measuring, and the glyphs a page has used so far.
pub struct Font {
    face: Face<'static>,
    data: &'static [u8],
    /// The font's PostScript name, e.g. `DejaVuSans-Bold`.
    name: &'static str,
    /// The dominant vertical stem width (the font descriptor's `StemV`).
    stem_v: f32,
    /// Old glyph id → new glyph id (= CID), in the order glyphs were first used.
    glyphs: GlyphRemapper,
    /// New glyph id → the character it was first used for (ToUnicode).
    chars: BTreeMap<u16, char>,
}

impl Font {
    /// DejaVu Sans.
    pub fn regular() -> anyhow::Result<Font> {
        Font::new(REGULAR, "DejaVuSans", 80.0)
    }

    /// DejaVu Sans Bold.
    pub fn bold() -> anyhow::Result<Font> {
        Font::new(BOLD, "DejaVuSans-Bold", 140.0)
    }

    fn new(data: &'static [u8], name: &'static str, stem_v: f32) -> anyhow::Result<Font> {
        let face = Face::parse(data, 0).map_err(|e| anyhow!("the font {name} cannot be read: {e}"))?;
        Ok(Font { face, data, name, stem_v, glyphs: GlyphRemapper::new(), chars: BTreeMap::new() })
    }

    /// The glyph of `c` (`.notdef`, glyph 0, when the font lacks it).
    fn glyph(&self, c: char) -> GlyphId {
        self.face.glyph_index(c).unwrap_or(GlyphId(0))
    }

    /// Font units per em, as a float (DejaVu: 2048).
    fn units_per_em(&self) -> f32 {
        f32::from(self.face.units_per_em())
    }

    /// The advance of glyph `g` in thousandths of an em (the PDF's glyph space).
    fn advance(&self, g: GlyphId) -> f32 {
        f32::from(self.face.glyph_hor_advance(g).unwrap_or(0)) * 1000.0 / self.units_per_em()
    }

    /// The width of `text` set at `size` points, in points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(self.glyph(c))).sum::<f32>() * size / 1000.0
    }

    /// `text` as the two-byte CIDs a content stream shows, recording its glyphs for the
    /// subset and the ToUnicode map.
    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let cid = self.glyphs.remap(self.glyph(c).0);
            self.chars.entry(cid).or_insert(c);
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }

    /// The PDF name of the subset: a six-letter tag from the glyphs it holds, `+`, the
    /// font's name (ISO 32000-1 §9.6.4), so different subsets have different names.
    fn subset_name(&self) -> String {
        let mut hash = Sha256::new();
        for g in self.glyphs.remapped_gids() {
            hash.update(g.to_be_bytes());
        }
        let tag: String = hash.finalize().iter().take(6).map(|b| char::from(b'A' + b % 26)).collect();
        format!("{tag}+{}", self.name)
    }

    /// Writes the font as the Type0 font `id` and its parts, with `next` handing out
    /// fresh object ids: the CID font, its descriptor, the subset font file (deflated)
    /// and the ToUnicode map.
    pub fn write(&self, pdf: &mut Pdf, id: Ref, next: &mut impl FnMut() -> Ref) -> anyhow::Result<()> {
        let (cid_id, descriptor_id, file_id, cmap_id) = (next(), next(), next(), next());
        let base = self.subset_name();
        let base = Name(base.as_bytes());

        pdf.type0_font(id)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);

        let widths: Vec<f32> = self.glyphs.remapped_gids().map(|g| self.advance(GlyphId(g))).collect();
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(IDENTITY)
            .font_descriptor(descriptor_id)
            .default_width(0.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let scale = |v: i16| f32::from(v) * 1000.0 / self.units_per_em();
        let bbox = self.face.global_bounding_box();
        pdf.font_descriptor(descriptor_id)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(scale(bbox.x_min), scale(bbox.y_min), scale(bbox.x_max), scale(bbox.y_max)))
            .italic_angle(0.0)
            .ascent(scale(self.face.ascender()))
            .descent(scale(self.face.descender()))
            .cap_height(scale(self.face.capital_height().unwrap_or_else(|| self.face.ascender())))
            .stem_v(self.stem_v)
            .font_file2(file_id);

        let subset = subsetter::subset(self.data, 0, &self.glyphs)
            .map_err(|e| anyhow!("subsetting the font {}: {e}", self.name))?;
        let packed = super::deflate(&subset)?;
        let length = i32::try_from(subset.len()).context("the subset font is too large")?;
        pdf.stream(file_id, &packed).filter(Filter::FlateDecode).pair(Name(b"Length1"), length);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), IDENTITY);
        for (cid, c) in &self.chars {
            // `.notdef` stands for every character the font lacks: it maps to none.
            if *cid != 0 {
                cmap.pair(*cid, *c);
            }
        }
        let cmap = super::deflate(cmap.finish().as_slice())?;
        pdf.stream(cmap_id, &cmap).filter(Filter::FlateDecode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every glyph the fonts map a character to survives subsetting (the subsetter is
    /// given all of them at once), and the scripts learners' names come in are covered.
    #[test]
    fn fonts_cover_the_names_and_subset_whole() {
        for mut font in [Font::regular().unwrap(), Font::bold().unwrap()] {
            for name in ["Олена Коваленко", "Łukasz Żółć", "ანა ბერიძე", "Ελένη", "Jovan Petrović"]
            {
                assert!(name.chars().all(|c| c == ' ' || font.glyph(c).0 != 0), "{}: {name}", font.name);
            }
            let mut all = String::new();
            if let Some(table) = font.face.tables().cmap {
                for sub in table.subtables.into_iter().filter(|s| s.is_unicode()) {
                    sub.codepoints(|cp| all.extend(char::from_u32(cp)));
                }
            }
            assert!(all.chars().count() > 3000, "{}", all.chars().count());
            font.encode(&all);
            let subset = subsetter::subset(font.data, 0, &font.glyphs).unwrap();
            assert!(Face::parse(&subset, 0).is_ok());
            assert!(font.width("Олена", 10.0) > 20.0);
        }
    }
}
