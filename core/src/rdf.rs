//! RDF terms and quads, and the canonical N-Quads form they are hashed in.
//!
//! The serialization is the canonical N-Quads of RDF 1.2 / RDFC-1.0: IRIs written as
//! they are; in literals `\b \t \n \f \r \" \\` as escapes, the other control characters
//! (U+0000-U+001F, U+007F) as `\uXXXX` with upper-case hex, everything else as itself;
//! `xsd:string` datatypes omitted. Every quad line ends with `\n`.
//!
//! The N-Quads parser reads what the W3C test suites contain (escapes, language tags,
//! datatypes, blank nodes, graph names). It is for tests and tools: credentials never
//! arrive as N-Quads.

use std::fmt::Write as _;

use crate::{Error, Result};

pub const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
pub const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

/// A literal: lexical value, datatype IRI, and a language tag for `rdf:langString`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Literal {
    pub value: String,
    pub datatype: String,
    pub language: Option<String>,
}

/// An RDF term. Blank node labels are stored without `_:`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Term {
    Iri(String),
    Blank(String),
    Literal(Literal),
}

impl Term {
    pub fn as_blank(&self) -> Option<&str> {
        match self {
            Term::Blank(label) => Some(label),
            _ => None,
        }
    }
}

/// A quad; `graph` is `None` in the default graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quad {
    pub subject: Term,
    pub predicate: Term,
    pub object: Term,
    pub graph: Option<Term>,
}

impl From<bem_jsonld::Term> for Term {
    fn from(t: bem_jsonld::Term) -> Self {
        match t {
            bem_jsonld::Term::Iri(i) => Term::Iri(i),
            bem_jsonld::Term::Blank(b) => Term::Blank(b),
            bem_jsonld::Term::Literal { value, datatype, language } => {
                Term::Literal(Literal { value, datatype, language })
            }
        }
    }
}

impl From<bem_jsonld::Quad> for Quad {
    fn from(q: bem_jsonld::Quad) -> Self {
        Quad {
            subject: q.subject.into(),
            predicate: q.predicate.into(),
            object: q.object.into(),
            graph: q.graph.map(Into::into),
        }
    }
}

/// Appends `term` in canonical N-Quads form; blank nodes are written through `label`.
pub fn write_term<'l>(out: &mut String, term: &Term, label: &dyn Fn(&str) -> Option<&'l str>) {
    match term {
        Term::Iri(iri) => {
            out.push('<');
            out.push_str(iri);
            out.push('>');
        }
        Term::Blank(b) => {
            out.push_str("_:");
            out.push_str(label(b).unwrap_or(b));
        }
        Term::Literal(lit) => {
            out.push('"');
            escape_literal(out, &lit.value);
            out.push('"');
            if let Some(lang) = &lit.language {
                out.push('@');
                out.push_str(lang);
            } else if lit.datatype != XSD_STRING {
                out.push_str("^^<");
                out.push_str(&lit.datatype);
                out.push('>');
            }
        }
    }
}

fn escape_literal(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c <= '\u{1f}' || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// Appends one quad line (ending in `\n`), blank nodes written through `label`.
pub fn write_quad<'l>(out: &mut String, quad: &Quad, label: &dyn Fn(&str) -> Option<&'l str>) {
    write_term(out, &quad.subject, label);
    out.push(' ');
    write_term(out, &quad.predicate, label);
    out.push(' ');
    write_term(out, &quad.object, label);
    if let Some(g) = &quad.graph {
        out.push(' ');
        write_term(out, g, label);
    }
    out.push_str(" .\n");
}

/// Serializes quads as N-Quads in the given order, blank labels as they are.
pub fn to_nquads(quads: &[Quad]) -> String {
    let mut out = String::new();
    for q in quads {
        write_quad(&mut out, q, &|_| None);
    }
    out
}

/// Parses an N-Quads document.
pub fn parse_nquads(text: &str) -> Result<Vec<Quad>> {
    let mut quads = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut p = Parser { s: trimmed, pos: 0 };
        let quad = p.quad().map_err(|m| Error::parsing(format!("N-Quads line {}: {m}", n + 1)))?;
        quads.push(quad);
    }
    Ok(quads)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.rest().chars().next() {
            if c == ' ' || c == '\t' {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn next_char(&mut self) -> std::result::Result<char, String> {
        let c = self.rest().chars().next().ok_or("unexpected end of line")?;
        self.pos += c.len_utf8();
        Ok(c)
    }

    fn expect(&mut self, want: char) -> std::result::Result<(), String> {
        let c = self.next_char()?;
        if c == want {
            Ok(())
        } else {
            Err(format!("expected {want:?}, found {c:?}"))
        }
    }

    fn quad(&mut self) -> std::result::Result<Quad, String> {
        let subject = self.term()?;
        let predicate = self.term()?;
        let object = self.term()?;
        self.skip_ws();
        let graph = if self.rest().starts_with('.') { None } else { Some(self.term()?) };
        self.skip_ws();
        self.expect('.')?;
        self.skip_ws();
        if !self.rest().is_empty() && !self.rest().starts_with('#') {
            return Err(format!("unexpected {:?} after the quad", self.rest()));
        }
        if matches!(subject, Term::Literal(_)) || !matches!(predicate, Term::Iri(_)) {
            return Err("a literal subject or a non-IRI predicate".into());
        }
        Ok(Quad { subject, predicate, object, graph })
    }

    fn term(&mut self) -> std::result::Result<Term, String> {
        self.skip_ws();
        match self.rest().chars().next() {
            Some('<') => Ok(Term::Iri(self.iri()?)),
            Some('_') => {
                self.expect('_')?;
                self.expect(':')?;
                let start = self.pos;
                while let Some(c) = self.rest().chars().next() {
                    if c.is_whitespace() || (c == '.' && self.rest().len() == 1) {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                let label = self.s.get(start..self.pos).unwrap_or("").trim_end_matches('.');
                self.pos = start + label.len();
                if label.is_empty() {
                    return Err("empty blank node label".into());
                }
                Ok(Term::Blank(label.to_owned()))
            }
            Some('"') => self.literal(),
            other => Err(format!("unexpected {other:?} where a term should start")),
        }
    }

    fn iri(&mut self) -> std::result::Result<String, String> {
        self.expect('<')?;
        let mut iri = String::new();
        loop {
            match self.next_char()? {
                '>' => return Ok(iri),
                '\\' => iri.push(self.uchar()?),
                c => iri.push(c),
            }
        }
    }

    fn uchar(&mut self) -> std::result::Result<char, String> {
        let width = match self.next_char()? {
            'u' => 4,
            'U' => 8,
            c => return Err(format!("bad escape \\{c}")),
        };
        let hex: String = self.rest().chars().take(width).collect();
        if hex.len() != width {
            return Err("short \\u escape".into());
        }
        let code = u32::from_str_radix(&hex, 16).map_err(|_| format!("bad hex {hex:?}"))?;
        self.pos += width;
        char::from_u32(code).ok_or_else(|| format!("\\u{hex} is not a character"))
    }

    fn literal(&mut self) -> std::result::Result<Term, String> {
        self.expect('"')?;
        let mut value = String::new();
        loop {
            match self.next_char()? {
                '"' => break,
                '\\' => {
                    let c = match self.rest().chars().next().ok_or("dangling backslash")? {
                        'u' | 'U' => {
                            value.push(self.uchar()?);
                            continue;
                        }
                        't' => '\t',
                        'b' => '\u{8}',
                        'n' => '\n',
                        'r' => '\r',
                        'f' => '\u{c}',
                        '"' => '"',
                        '\'' => '\'',
                        '\\' => '\\',
                        c => return Err(format!("bad escape \\{c}")),
                    };
                    self.pos += 1;
                    value.push(c);
                }
                c => value.push(c),
            }
        }
        if self.rest().starts_with('@') {
            self.pos += 1;
            let start = self.pos;
            while let Some(c) = self.rest().chars().next() {
                if c.is_ascii_alphanumeric() || c == '-' {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            let lang = self.s.get(start..self.pos).unwrap_or("").to_owned();
            return Ok(Term::Literal(Literal { value, datatype: RDF_LANG_STRING.into(), language: Some(lang) }));
        }
        if self.rest().starts_with("^^") {
            self.pos += 2;
            let datatype = self.iri()?;
            return Ok(Term::Literal(Literal { value, datatype, language: None }));
        }
        Ok(Term::Literal(Literal { value, datatype: XSD_STRING.into(), language: None }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_the_escape_test() {
        let input = crate::testdata::read("rdf-canon/tests/rdfc10/test060-in.nq");
        let expected = crate::testdata::read("rdf-canon/tests/rdfc10/test060-rdfc10.nq");
        let quads = parse_nquads(&input).unwrap();
        let mut lines: Vec<String> = quads.iter().map(|q| to_nquads(std::slice::from_ref(q))).collect();
        lines.sort();
        assert_eq!(lines.concat(), expected);
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in ["<a> <b> .", "<a> <b> \"x .", "\"lit\" <b> <c> .", "<a> <b> <c> <d> <e> .", "<a> <b> \"\\q\" ."] {
            assert!(parse_nquads(bad).is_err(), "{bad}");
        }
    }
}
