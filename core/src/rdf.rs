//! RDF terms and quads, and the canonical N-Quads form they are hashed in.
//!
//! The serialization is the canonical N-Quads of RDF 1.2 / RDFC-1.0: IRIs written as
//! they are; in literals `\b \t \n \f \r \" \\` as escapes, the other control characters
//! (U+0000-U+001F, U+007F) as `\uXXXX` with upper-case hex, everything else as itself;
//! `xsd:string` datatypes omitted. Every quad line ends with `\n`.
//!
//! The N-Quads parser reads what the W3C test suites contain (escapes, language tags,
//! datatypes, blank nodes, graph names) and refuses what the N-Quads grammar forbids
//! (bad escapes, characters not allowed in IRIs, malformed language tags, literals as
//! subjects or graph names) with a parsing error naming the line. It is for tests and
//! tools: credentials never arrive as N-Quads.

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
pub fn write_term<'l>(out: &mut String, term: &Term, label: &impl Fn(&str) -> Option<&'l str>) {
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
    // Runs of characters that need no escape are copied whole: every character escaped
    // is ASCII, so each cut falls on a character boundary.
    let mut start = 0;
    for (i, b) in value.bytes().enumerate() {
        let escape = match b {
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b if b <= 0x1f || b == 0x7f => "",
            _ => continue,
        };
        out.push_str(value.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04X}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(value.get(start..).unwrap_or_default());
}

/// Appends one quad line (ending in `\n`), blank nodes written through `label`.
pub fn write_quad<'l>(out: &mut String, quad: &Quad, label: &impl Fn(&str) -> Option<&'l str>) {
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

/// Parses an N-Quads document: one statement a line; blank lines and `#` comments are
/// skipped. Malformed input is a parsing error naming the line.
pub fn parse_nquads(text: &str) -> Result<Vec<Quad>> {
    let mut quads = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut parser = Parser { rest: line.trim_start_matches([' ', '\t']) };
        if parser.at_end_of_statement() {
            continue;
        }
        let quad = parser.quad().map_err(|m| Error::parsing(format!("N-Quads line {}: {m}", n + 1)))?;
        quads.push(quad);
    }
    Ok(quads)
}

/// A cursor over one line of N-Quads; errors are plain messages, given a line number by
/// [`parse_nquads`].
struct Parser<'a> {
    rest: &'a str,
}

type Parsed<T> = std::result::Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Parsed<char> {
        let mut chars = self.rest.chars();
        let c = chars.next().ok_or("unexpected end of line")?;
        self.rest = chars.as_str();
        Ok(c)
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn expect(&mut self, want: char) -> Parsed<()> {
        match self.bump()? {
            c if c == want => Ok(()),
            c => Err(format!("expected {want:?}, found {c:?}")),
        }
    }

    fn skip_ws(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t']);
    }

    fn at_end_of_statement(&self) -> bool {
        self.rest.is_empty() || self.rest.starts_with('#')
    }

    fn quad(&mut self) -> Parsed<Quad> {
        let subject = self.term()?;
        let predicate = self.term()?;
        let object = self.term()?;
        self.skip_ws();
        let graph = if self.peek() == Some('.') { None } else { Some(self.term()?) };
        self.skip_ws();
        self.expect('.')?;
        self.skip_ws();
        if !self.at_end_of_statement() {
            return Err(format!("unexpected {:?} after the quad", self.rest));
        }
        if matches!(subject, Term::Literal(_)) {
            return Err("the subject is a literal".into());
        }
        if !matches!(predicate, Term::Iri(_)) {
            return Err("the predicate is not an IRI".into());
        }
        if matches!(graph, Some(Term::Literal(_))) {
            return Err("the graph name is a literal".into());
        }
        Ok(Quad { subject, predicate, object, graph })
    }

    fn term(&mut self) -> Parsed<Term> {
        self.skip_ws();
        match self.peek() {
            Some('<') => Ok(Term::Iri(self.iri()?)),
            Some('_') => self.blank(),
            Some('"') => self.literal(),
            Some(c) => Err(format!("unexpected {c:?} where a term should start")),
            None => Err("unexpected end of line where a term should start".into()),
        }
    }

    /// `_:label`: PN_CHARS_U or a digit, then PN_CHARS or dots, not ending in a dot.
    fn blank(&mut self) -> Parsed<Term> {
        if !self.eat("_:") {
            return Err("a blank node must start with \"_:\"".into());
        }
        let end = self.rest.find(|c: char| !is_label_char(c)).unwrap_or(self.rest.len());
        let (label, _) = self.rest.split_at_checked(end).ok_or("bad blank node label")?;
        let label = label.trim_end_matches('.');
        self.rest = self.rest.get(label.len()..).unwrap_or_default();
        match label.chars().next() {
            Some(c) if c != '-' && c != '.' && c != '\u{b7}' => Ok(Term::Blank(label.to_owned())),
            Some(c) => Err(format!("a blank node label cannot start with {c:?}")),
            None => Err("empty blank node label".into()),
        }
    }

    /// `<...>` with `\u`/`\U` escapes; the characters N-Quads forbids in IRIs are errors.
    fn iri(&mut self) -> Parsed<String> {
        self.expect('<')?;
        let mut iri = String::new();
        loop {
            match self.bump()? {
                '>' => return Ok(iri),
                '\\' => iri.push(self.uchar()?),
                c @ ('\u{0}'..='\u{20}' | '<' | '"' | '{' | '}' | '|' | '^' | '`') => {
                    return Err(format!("{c:?} is not allowed in an IRI"));
                }
                c => iri.push(c),
            }
        }
    }

    /// The hex part of `\uXXXX` or `\UXXXXXXXX` (the backslash already read).
    fn uchar(&mut self) -> Parsed<char> {
        let width = match self.bump()? {
            'u' => 4,
            'U' => 8,
            c => return Err(format!("bad escape \\{c}")),
        };
        let hex = self.rest.get(..width).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let hex =
            hex.ok_or_else(|| format!("\\{} needs {width} hex digits", if width == 4 { 'u' } else { 'U' }))?;
        let code = u32::from_str_radix(hex, 16).map_err(|_| format!("bad hex {hex:?}"))?;
        self.rest = self.rest.get(width..).unwrap_or_default();
        char::from_u32(code).ok_or_else(|| format!("\\u{hex} is not a Unicode scalar value"))
    }

    /// A quoted literal with its escapes, then `@lang`, `^^<datatype>` or nothing (`xsd:string`).
    fn literal(&mut self) -> Parsed<Term> {
        self.expect('"')?;
        let mut value = String::new();
        loop {
            match self.bump()? {
                '"' => break,
                '\\' => {
                    let escaped = match self.peek().ok_or("dangling backslash")? {
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
                    self.bump()?;
                    value.push(escaped);
                }
                c => value.push(c),
            }
        }
        if self.eat("@") {
            let end =
                self.rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(self.rest.len());
            let lang = self.rest.get(..end).unwrap_or_default();
            let mut subtags = lang.split('-');
            let well_formed =
                subtags.next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphabetic()))
                    && subtags.all(|s| !s.is_empty());
            if !well_formed {
                return Err(format!("bad language tag {lang:?}"));
            }
            self.rest = self.rest.get(end..).unwrap_or_default();
            let language = Some(lang.to_owned());
            return Ok(Term::Literal(Literal { value, datatype: RDF_LANG_STRING.into(), language }));
        }
        if self.eat("^^") {
            let datatype = self.iri()?;
            return Ok(Term::Literal(Literal { value, datatype, language: None }));
        }
        Ok(Term::Literal(Literal { value, datatype: XSD_STRING.into(), language: None }))
    }
}

/// PN_CHARS of N-Quads plus the dot: the characters after the first of a blank node label.
fn is_label_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '_' | '-' | '.' | '\u{b7}' | '\u{300}'..='\u{36f}' | '\u{203f}'..='\u{2040}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite_dir() -> std::path::PathBuf {
        crate::testdata::path("rdf-canon/tests/rdfc10")
    }

    #[test]
    fn parses_and_writes_the_escape_test() {
        let input = crate::testdata::read("rdf-canon/tests/rdfc10/test060-in.nq");
        let expected = crate::testdata::read("rdf-canon/tests/rdfc10/test060-rdfc10.nq");
        let quads = parse_nquads(&input).unwrap();
        assert_eq!(quads.len(), expected.lines().count());
        let mut lines: Vec<String> = quads.iter().map(|q| to_nquads(std::slice::from_ref(q))).collect();
        lines.sort();
        assert_eq!(lines.concat(), expected);
    }

    /// Every input and output file of the suite parses, and every output (canonical
    /// N-Quads) is written back byte for byte.
    #[test]
    fn reads_every_file_of_the_rdf_canon_suite() {
        let mut inputs = 0;
        let mut outputs = 0;
        for entry in std::fs::read_dir(suite_dir()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".nq") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let quads = parse_nquads(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            if name.ends_with("-in.nq") {
                inputs += 1;
            } else {
                outputs += 1;
                assert_eq!(to_nquads(&quads), text, "{name}");
            }
        }
        assert_eq!(inputs, 65);
        assert_eq!(outputs, 64);
    }

    #[test]
    fn parses_terms_of_every_kind() {
        let quads = parse_nquads(
            "# a comment\n\n_:b0 <urn:ex:p> \"chat\"@fr-CA <urn:ex:g> . # trailing\n\
             <urn:ex:s>\t<urn:ex:p> \"1\"^^<http://www.w3.org/2001/XMLSchema#integer> _:g.\n\
             _:b.x <urn:ex:p> \"\\U0001F303\" .\n",
        )
        .unwrap();
        assert_eq!(
            quads,
            [
                Quad {
                    subject: Term::Blank("b0".into()),
                    predicate: Term::Iri("urn:ex:p".into()),
                    object: Term::Literal(Literal {
                        value: "chat".into(),
                        datatype: RDF_LANG_STRING.into(),
                        language: Some("fr-CA".into())
                    }),
                    graph: Some(Term::Iri("urn:ex:g".into())),
                },
                Quad {
                    subject: Term::Iri("urn:ex:s".into()),
                    predicate: Term::Iri("urn:ex:p".into()),
                    object: Term::Literal(Literal {
                        value: "1".into(),
                        datatype: "http://www.w3.org/2001/XMLSchema#integer".into(),
                        language: None
                    }),
                    graph: Some(Term::Blank("g".into())),
                },
                Quad {
                    subject: Term::Blank("b.x".into()),
                    predicate: Term::Iri("urn:ex:p".into()),
                    object: Term::Literal(Literal {
                        value: "🌃".into(),
                        datatype: XSD_STRING.into(),
                        language: None
                    }),
                    graph: None,
                },
            ]
        );
        assert_eq!(
            to_nquads(&quads),
            "_:b0 <urn:ex:p> \"chat\"@fr-CA <urn:ex:g> .\n\
             <urn:ex:s> <urn:ex:p> \"1\"^^<http://www.w3.org/2001/XMLSchema#integer> _:g .\n\
             _:b.x <urn:ex:p> \"🌃\" .\n"
        );
    }

    #[test]
    fn malformed_lines_are_errors() {
        for bad in [
            "<a> <b> .",
            "<a> <b> \"x .",
            "\"lit\" <b> <c> .",
            "<a> _:p <c> .",
            "<a> <b> <c> \"g\" .",
            "<a> <b> <c> <d> <e> .",
            "<a> <b> <c>",
            "<a> <b> <c> . <d>",
            "<a> <b> \"\\q\" .",
            "<a> <b> \"\\u00\" .",
            "<a> <b> \"\\u+041\" .",
            "<a> <b> \"\\uD800\" .",
            "<a> <b> \"\\U0011FFFF\" .",
            "<a> <b> \"x\"@ .",
            "<a> <b> \"x\"@en- .",
            "<a> <b> \"x\"@1en .",
            "<a> <b> \"x\"^^ .",
            "<a b> <b> <c> .",
            "<a> <b> _: .",
            "<a> <b> _:-x .",
            "<a> <b> \"x\\",
            "<é",
        ] {
            let err = parse_nquads(bad).unwrap_err();
            assert_eq!(err.code, crate::ProblemCode::ParsingError, "{bad}");
            assert!(err.message.starts_with("N-Quads line 1: "), "{bad}: {}", err.message);
        }
        let err = parse_nquads("<a> <b> <c> .\n<a> <b> .\n").unwrap_err();
        assert!(err.message.starts_with("N-Quads line 2: "), "{}", err.message);
    }

    #[test]
    fn converts_quads_from_json_ld() {
        let quad = bem_jsonld::Quad {
            subject: bem_jsonld::Term::Blank("b0".into()),
            predicate: bem_jsonld::Term::Iri("urn:ex:p".into()),
            object: bem_jsonld::Term::Literal {
                value: "x".into(),
                datatype: RDF_LANG_STRING.into(),
                language: Some("en".into()),
            },
            graph: Some(bem_jsonld::Term::Iri("urn:ex:g".into())),
        };
        assert_eq!(to_nquads(&[Quad::from(quad)]), "_:b0 <urn:ex:p> \"x\"@en <urn:ex:g> .\n");
    }
}
