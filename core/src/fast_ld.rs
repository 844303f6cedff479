//! The fast JSON-LD path: compacted JSON-LD straight to RDF quads over the pinned
//! contexts, for the credentials this system signs and meets every day.
//!
//! The general processor (`bem-jsonld`, ssi's JSON-LD 1.1 stack) processes every scoped
//! context again on each call, clones active contexts and builds an expanded document
//! before any quad exists; on a 2 KB credential that is most of the verification time.
//! Here the pinned contexts are processed once into term tables, and every context a
//! document can reach from them (type-scoped and property-scoped contexts applied to an
//! active context) is processed once and kept (`CACHE`); a document is then walked once,
//! emitting quads as it goes (JSON-LD 1.1 Expansion §13 and Deserialize JSON-LD to RDF
//! §8, without the intermediate expanded form or node map: an RDF dataset is a set, and
//! `rdfc` reads it as one).
//!
//! Invariant: this path never decides a verdict on its own. It answers with quads only
//! for what it fully supports, and [`Unsupported`] for everything else: any inline
//! context, a context feature the pinned contexts do not use (`@reverse`, `@index`,
//! `@nest`, default languages...), value objects, `@json` literals, non-integral numbers,
//! anything that would be an error or dropped data (undefined terms, relative or
//! suspicious IRIs, protected-term redefinitions). The caller then runs the general
//! processor, which gives the answer (quads or the error). The differential tests
//! (`tests` below, `core/tests/fast_path.rs`, the `fast_ld` fuzz target) hold both
//! paths to byte-identical canonical N-Quads.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use serde_json::{Map, Value};

use crate::contexts::{ContextPolicy, PINNED};
use crate::json::items;
use crate::rdf::{Literal, Quad, Term, XSD_STRING};

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const RDF_FIRST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first";
const RDF_REST: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest";
const RDF_NIL: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil";
const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
const XSD_BOOLEAN: &str = "http://www.w3.org/2001/XMLSchema#boolean";
const XSD_INTEGER: &str = "http://www.w3.org/2001/XMLSchema#integer";
const XSD_DOUBLE: &str = "http://www.w3.org/2001/XMLSchema#double";

/// Most entries in `@context` the fast path takes (more goes to the general processor).
const MAX_TOP_CONTEXTS: usize = 8;
/// Most nesting of objects and arrays walked (the strict JSON parser allows 64).
const MAX_DEPTH: usize = 64;
/// Most processed contexts kept; beyond that the cache starts again.
const CACHE_CAPACITY: usize = 1024;

/// The fast path does not handle this document; the general processor must.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub &'static str);

type Fast<T> = std::result::Result<T, Unsupported>;

fn no<T>(why: &'static str) -> Fast<T> {
    Err(Unsupported(why))
}

/// Which JSON-LD processor produced a document's RDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// This module.
    Fast,
    /// The general JSON-LD 1.1 processor (`bem-jsonld`).
    General,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Fast => "fast",
            Path::General => "general",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TypeMapping {
    None,
    Id,
    Vocab,
    Json,
    Other,
    Datatype(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Container {
    set: bool,
    list: bool,
    graph: bool,
    language: bool,
    /// `@index`, `@id` or `@type` maps: not supported here.
    other: bool,
}

/// A scoped context (the `@context` of a term definition), with an identity for the cache.
#[derive(Debug)]
struct Scoped {
    id: u64,
    value: Value,
    /// The pinned context document it came from: its base URL.
    base: Option<usize>,
}

#[derive(Debug)]
struct TermDef {
    /// The IRI mapping (or keyword); `None` when the term is mapped to null.
    iri: Option<Box<str>>,
    prefix: bool,
    protected: bool,
    type_mapping: TypeMapping,
    container: Container,
    context: Option<Arc<Scoped>>,
}

impl TermDef {
    fn base(&self) -> Option<usize> {
        self.context.as_ref().and_then(|c| c.base)
    }

    /// Equal other than `protected` (JSON-LD 1.1 Create Term Definition step 27).
    fn same_as(&self, other: &TermDef) -> bool {
        self.iri == other.iri
            && self.prefix == other.prefix
            && self.type_mapping == other.type_mapping
            && self.container == other.container
            // A scoped context's base URL counts (json-ld-core compares it, so the same
            // definition in two context documents is a redefinition there).
            && self.base() == other.base()
            && match (&self.context, &other.context) {
                (None, None) => true,
                (Some(a), Some(b)) => a.value == b.value,
                _ => false,
            }
    }
}

/// A processed (active) context.
#[derive(Debug)]
struct Ctx {
    id: u64,
    terms: Terms,
    vocab: Option<Box<str>>,
    /// Set by a type-scoped context: what a new node object reverts to.
    previous: Option<Arc<Ctx>>,
}

/// Term definitions by term. The table's keys come only from the pinned contexts, so a
/// simple multiplicative hash (FxHash's) is safe here: a document's keys only look up.
type Terms = HashMap<Box<str>, Arc<TermDef>, BuildHasherDefault<TermHasher>>;

#[derive(Default)]
struct TermHasher(u64);

impl Hasher for TermHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl Ctx {
    fn empty() -> Arc<Ctx> {
        Arc::new(Ctx { id: next_id(), terms: Terms::default(), vocab: None, previous: None })
    }
}

/// What a cached context was derived with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Local {
    /// What the Data Integrity v2 context adds after the VC 2.0 context at the top level
    /// (`contexts::data_integrity_v2_additions`, as the general path reads it).
    DataIntegrityAdditions,
    /// A pinned context by its index in `PINNED`.
    Url(usize),
    /// A scoped context by its id.
    Scoped(u64),
}

type CacheKey = (u64, Local, bool, bool);

struct Cache {
    empty: Arc<Ctx>,
    /// The `@context` of each pinned context document, parsed once.
    documents: Vec<Option<Value>>,
    derived: RwLock<HashMap<CacheKey, Arc<Ctx>>>,
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Cache {
        empty: Ctx::empty(),
        documents: PINNED
            .iter()
            .map(|c| {
                serde_json::from_str::<Value>(c.text)
                    .ok()
                    .and_then(|mut v| v.get_mut("@context").map(Value::take))
            })
            .collect(),
        derived: RwLock::new(HashMap::new()),
    })
}

/// `local` applied to `active`, from the cache or processed now.
fn derive(
    active: &Arc<Ctx>,
    local: Local,
    propagate: bool,
    override_protected: bool,
    depth: usize,
) -> Fast<Arc<Ctx>> {
    let cache = cache();
    let key: CacheKey = (active.id, local.clone(), propagate, override_protected);
    if let Some(hit) = cache.derived.read().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(hit);
    }
    if depth > 8 {
        return no("contexts nested too deeply");
    }
    let processed = match &local {
        Local::Url(index) => {
            let Some(Some(value)) = cache.documents.get(*index) else {
                return no("pinned context without @context");
            };
            process(active, value, propagate, override_protected, Some(*index), depth + 1)?
        }
        Local::DataIntegrityAdditions => {
            let Some(value) = crate::contexts::data_integrity_v2_additions() else {
                return no("data integrity additions unavailable");
            };
            let base = pinned_index(crate::contexts::DATA_INTEGRITY_V2);
            process(active, value, propagate, override_protected, base, depth + 1)?
        }
        Local::Scoped(_) => return no("scoped context not registered"),
    };
    let processed = Arc::new(processed);
    store(key, &processed);
    Ok(processed)
}

fn derive_scoped(
    active: &Arc<Ctx>,
    scoped: &Arc<Scoped>,
    propagate: bool,
    override_protected: bool,
) -> Fast<Arc<Ctx>> {
    let cache = cache();
    let key: CacheKey = (active.id, Local::Scoped(scoped.id), propagate, override_protected);
    if let Some(hit) = cache.derived.read().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(hit);
    }
    let processed = Arc::new(process(active, &scoped.value, propagate, override_protected, scoped.base, 1)?);
    store(key, &processed);
    Ok(processed)
}

fn store(key: CacheKey, ctx: &Arc<Ctx>) {
    if let Ok(mut m) = cache().derived.write() {
        if m.len() >= CACHE_CAPACITY {
            m.clear();
        }
        m.insert(key, ctx.clone());
    }
}

fn pinned_index(url: &str) -> Option<usize> {
    PINNED.iter().position(|c| c.url == url)
}

/// JSON-LD 1.1 Context Processing (§4.1) for what the pinned contexts use.
fn process(
    active: &Arc<Ctx>,
    local: &Value,
    propagate: bool,
    override_protected: bool,
    base: Option<usize>,
    depth: usize,
) -> Fast<Ctx> {
    let propagate = match local.get("@propagate") {
        Some(Value::Bool(b)) => *b,
        Some(_) => return no("@propagate is not a boolean"),
        None => propagate,
    };
    let mut result = Ctx {
        id: next_id(),
        terms: active.terms.clone(),
        vocab: active.vocab.clone(),
        previous: active.previous.clone(),
    };
    if !propagate && result.previous.is_none() {
        result.previous = Some(active.clone());
    }
    let entries = items(local);
    for entry in entries {
        match entry {
            Value::String(url) => {
                let Some(index) = pinned_index(url) else { return no("context URL not pinned") };
                // A remote context is processed with the defaults (propagate, no override).
                let current = Arc::new(result);
                let derived = derive(&current, Local::Url(index), true, false, depth + 1)?;
                result = Ctx {
                    id: next_id(),
                    terms: derived.terms.clone(),
                    vocab: derived.vocab.clone(),
                    previous: derived.previous.clone(),
                };
            }
            Value::Object(map) => define_all(&mut result, map, override_protected, base)?,
            // §4.1.2 step 5.1: null clears the context (allowed over protected terms
            // only where protection is overridden: a property-scoped context).
            Value::Null => {
                if !override_protected && result.terms.values().any(|d| d.protected) {
                    return no("null context over protected terms");
                }
                let previous = if propagate { None } else { Some(Arc::new(result)) };
                result = Ctx { id: next_id(), terms: Terms::default(), vocab: None, previous };
            }
            _ => return no("context entry is neither a URL nor an object"),
        }
    }
    Ok(result)
}

fn define_all(
    result: &mut Ctx,
    map: &Map<String, Value>,
    override_protected: bool,
    base: Option<usize>,
) -> Fast<()> {
    for (key, value) in map {
        match key.as_str() {
            "@version" if value.as_f64() != Some(1.1) => return no("@version other than 1.1"),
            "@protected" | "@propagate" if !value.is_boolean() => return no("@protected is not a boolean"),
            "@version" | "@protected" | "@propagate" => {}
            "@vocab" => match value {
                Value::String(v) => {
                    let mut defined = HashMap::new();
                    let iri =
                        expand_in_context(result, map, v, true, &mut defined, override_protected, base)?;
                    match iri {
                        Some(iri) if is_absolute_iri(&iri) => result.vocab = Some(iri.into()),
                        _ => return no("@vocab is not an absolute IRI"),
                    }
                }
                Value::Null => result.vocab = None,
                _ => return no("@vocab is not a string"),
            },
            k if k.starts_with('@') => return no("context keyword not supported by the fast path"),
            _ => {}
        }
    }
    let mut defined: HashMap<String, bool> = HashMap::new();
    for key in map.keys() {
        if !key.starts_with('@') {
            define(result, map, key, &mut defined, override_protected, base)?;
        }
    }
    Ok(())
}

/// JSON-LD 1.1 Create Term Definition (§4.2.2), subset.
fn define(
    result: &mut Ctx,
    local: &Map<String, Value>,
    term: &str,
    defined: &mut HashMap<String, bool>,
    override_protected: bool,
    base: Option<usize>,
) -> Fast<()> {
    match defined.get(term) {
        Some(true) => return Ok(()),
        Some(false) => return no("cyclic IRI mapping"),
        None => {}
    }
    defined.insert(term.to_owned(), false);
    let Some(value) = local.get(term) else { return no("term not in local context") };
    if term.is_empty() || term.starts_with('@') {
        return no("keyword-like term");
    }
    let default_protected = match local.get("@protected") {
        Some(Value::Bool(b)) => *b,
        _ => false,
    };
    let previous = result.terms.remove(term);
    let (def_map, simple): (Map<String, Value>, bool) = match value {
        Value::Null => {
            let mut m = Map::new();
            m.insert("@id".into(), Value::Null);
            (m, false)
        }
        Value::String(s) => {
            let mut m = Map::new();
            m.insert("@id".into(), Value::String(s.clone()));
            (m, true)
        }
        Value::Object(m) => (m.clone(), false),
        _ => return no("term definition is neither a string nor an object"),
    };
    for k in def_map.keys() {
        if !matches!(k.as_str(), "@id" | "@type" | "@container" | "@context" | "@protected") {
            return no("term definition keyword not supported by the fast path");
        }
    }
    let protected = match def_map.get("@protected") {
        Some(Value::Bool(b)) => *b,
        Some(_) => return no("@protected is not a boolean"),
        None => default_protected,
    };
    let type_mapping = match def_map.get("@type") {
        None => TypeMapping::None,
        Some(Value::String(t)) => {
            match expand_in_context(result, local, t, true, defined, override_protected, base)?.as_deref() {
                Some("@id") => TypeMapping::Id,
                Some("@vocab") => TypeMapping::Vocab,
                Some("@json") => TypeMapping::Json,
                Some("@none") => TypeMapping::Other,
                Some(iri) if is_absolute_iri(iri) => TypeMapping::Datatype(iri.into()),
                _ => return no("invalid type mapping"),
            }
        }
        Some(_) => return no("invalid type mapping"),
    };
    let mut prefix = false;
    let iri: Option<Box<str>> = match def_map.get("@id") {
        Some(Value::Null) => None,
        Some(Value::String(id)) if id != term => {
            if !id.starts_with('@') || is_keyword(id) {
                let iri = match expand_in_context(result, local, id, true, defined, override_protected, base)?
                {
                    Some(iri) => iri,
                    None => return no("term @id expands to null"),
                };
                if iri == "@context" || !(is_keyword(&iri) || is_absolute_iri(&iri)) {
                    return no("term @id is not an absolute IRI or keyword");
                }
                if term.contains(':') || term.contains('/') {
                    let mut d2 = defined.clone();
                    d2.insert(term.to_owned(), true);
                    if expand_in_context(result, local, term, true, &mut d2, override_protected, base)?
                        .as_deref()
                        != Some(iri.as_str())
                    {
                        return no("term that looks like an IRI maps elsewhere");
                    }
                }
                if !term.contains(':')
                    && !term.contains('/')
                    && simple
                    && iri.ends_with([':', '/', '?', '#', '[', ']', '@'])
                {
                    prefix = true;
                }
                Some(iri.into())
            } else {
                return no("keyword-like @id");
            }
        }
        Some(Value::String(_)) | None => {
            if let Some((p, suffix)) = term.split_once(':').filter(|(p, _)| !p.is_empty()) {
                if local.contains_key(p) {
                    define(result, local, p, defined, override_protected, base)?;
                }
                match result.terms.get(p).and_then(|d| d.iri.as_deref()) {
                    Some(base) => Some(concat(base, suffix).into()),
                    None if is_absolute_iri(term) => Some(term.into()),
                    None => return no("compact IRI term with an unknown prefix"),
                }
            } else if term.contains('/') {
                return no("relative IRI term");
            } else if term == "@type" {
                Some("@type".into())
            } else {
                match &result.vocab {
                    Some(v) => Some(concat(v, term).into()),
                    None => return no("term without an IRI mapping"),
                }
            }
        }
        Some(_) => return no("@id is not a string"),
    };
    let mut container = Container::default();
    if let Some(c) = def_map.get("@container") {
        for item in items(c) {
            match item.as_str() {
                Some("@set") => container.set = true,
                Some("@list") => container.list = true,
                Some("@graph") => container.graph = true,
                Some("@language") => container.language = true,
                Some("@index" | "@id" | "@type") => container.other = true,
                _ => return no("invalid container mapping"),
            }
        }
    }
    let context = def_map.get("@context").map(|v| Arc::new(Scoped { id: next_id(), value: v.clone(), base }));
    let def = TermDef { iri, prefix, protected, type_mapping, container, context };
    let def = match previous {
        Some(prev) if prev.protected && !override_protected => {
            if !def.same_as(&prev) {
                return no("protected term redefinition");
            }
            prev
        }
        _ => Arc::new(def),
    };
    result.terms.insert(term.into(), def);
    defined.insert(term.to_owned(), true);
    Ok(())
}

/// IRI Expansion (§5.2) while a local context is being processed.
fn expand_in_context(
    result: &mut Ctx,
    local: &Map<String, Value>,
    value: &str,
    vocab: bool,
    defined: &mut HashMap<String, bool>,
    override_protected: bool,
    base: Option<usize>,
) -> Fast<Option<String>> {
    if is_keyword(value) {
        return Ok(Some(value.to_owned()));
    }
    if value.starts_with('@') {
        return no("keyword-like value");
    }
    if local.contains_key(value) && defined.get(value) != Some(&true) {
        define(result, local, value, defined, override_protected, base)?;
    }
    if let Some(def) = result.terms.get(value) {
        if def.iri.as_deref().is_some_and(is_keyword) {
            return Ok(def.iri.as_deref().map(str::to_owned));
        }
        if vocab {
            return Ok(def.iri.as_deref().map(str::to_owned));
        }
    }
    if let Some((p, suffix)) = value.split_once(':').filter(|(p, _)| !p.is_empty()) {
        if p == "_" || suffix.starts_with("//") {
            return Ok(Some(value.to_owned()));
        }
        if local.contains_key(p) && defined.get(p) != Some(&true) {
            define(result, local, p, defined, override_protected, base)?;
        }
        if let Some(def) = result.terms.get(p) {
            if def.prefix {
                if let Some(base) = &def.iri {
                    return Ok(Some(concat(base, suffix)));
                }
            }
        }
        if is_absolute_iri(value) {
            return Ok(Some(value.to_owned()));
        }
    }
    if vocab {
        if let Some(v) = &result.vocab {
            return Ok(Some(concat(v, value)));
        }
    }
    no("relative IRI")
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "@base"
            | "@container"
            | "@context"
            | "@direction"
            | "@graph"
            | "@id"
            | "@import"
            | "@included"
            | "@index"
            | "@json"
            | "@language"
            | "@list"
            | "@nest"
            | "@none"
            | "@prefix"
            | "@propagate"
            | "@protected"
            | "@reverse"
            | "@set"
            | "@type"
            | "@value"
            | "@version"
            | "@vocab"
    )
}

/// An absolute IRI the general processor reads exactly as written: a scheme, and only
/// characters every IRI parser accepts (no percent-encodings, brackets, spaces, controls
/// or a second `#`). Anything else goes to the general processor.
fn is_absolute_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else { return false };
    let mut bytes = scheme.bytes();
    if !bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        || !bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return false;
    }
    if rest.bytes().filter(|&b| b == b'#').count() > 1 {
        return false;
    }
    if rest.is_ascii() {
        return rest.bytes().all(|b| IRI_ASCII.get(usize::from(b)).copied().unwrap_or(false));
    }
    rest.chars().all(|c| match u8::try_from(c) {
        Ok(b) if b.is_ascii() => IRI_ASCII.get(usize::from(b)).copied().unwrap_or(false),
        _ => !c.is_control() && !c.is_whitespace() && c != '\u{FEFF}' && !is_noncharacter(c),
    })
}

/// The ASCII characters [`is_absolute_iri`] lets through after the scheme.
#[allow(clippy::indexing_slicing)] // a constant: an index out of range fails the build
static IRI_ASCII: [bool; 128] = {
    let mut table = [false; 128];
    let allowed = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/?#";
    let mut i = 0;
    while i < allowed.len() {
        table[allowed[i] as usize] = true;
        i += 1;
    }
    table
};

fn is_noncharacter(c: char) -> bool {
    let u = c as u32;
    (0xFDD0..=0xFDEF).contains(&u) || (u & 0xFFFE) == 0xFFFE || (0xE000..=0xF8FF).contains(&u) || u >= 0xF0000
}

/// The active context for a document's top-level `@context` (pinned URLs only).
fn top_context(context: &Value, policy: ContextPolicy) -> Fast<Arc<Ctx>> {
    apply_urls(&cache().empty, context, policy)
}

/// `context` (pinned URLs only, as the policy allows) applied to `active`. Data Integrity
/// v2 after VC 2.0 in the same array adds only what is new, at the top level and in
/// embedded contexts alike, as in the general path (`contexts::without_repeated_definitions`).
fn apply_urls(active: &Arc<Ctx>, context: &Value, policy: ContextPolicy) -> Fast<Arc<Ctx>> {
    let entries = items(context);
    if entries.is_empty() || entries.len() > MAX_TOP_CONTEXTS {
        return no("@context empty or too long");
    }
    let mut ctx = active.clone();
    let mut after_v2 = false;
    for entry in entries {
        let Value::String(url) = entry else { return no("embedded context") };
        let Some(index) = pinned_index(url) else { return no("context URL not pinned") };
        if PINNED.get(index).is_some_and(|c| c.example_only) && !policy.allow_examples {
            return no("examples context under the strict policy");
        }
        let local = if after_v2 && url == crate::contexts::DATA_INTEGRITY_V2 {
            Local::DataIntegrityAdditions
        } else {
            Local::Url(index)
        };
        after_v2 |= url == crate::contexts::CREDENTIALS_V2;
        ctx = derive(&ctx, local, true, false, 0)?;
    }
    Ok(ctx)
}

static ENABLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Switches the fast path off (every document then goes to the general processor) or on
/// again: for benchmarks that compare both, and for an operator who suspects the fast
/// path. On by default.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Expands `document` to RDF quads, or says why the general processor must.
pub fn to_rdf(document: &Value, policy: ContextPolicy) -> Fast<Vec<Quad>> {
    let Value::Object(map) = document else { return no("document is not an object") };
    walk(map, policy, false)
}

/// [`to_rdf`] of `document` without its top-level `proof` entry (the unsecured document
/// of Data Integrity), without copying the document to remove it.
pub fn to_rdf_without_proof(document: &Map<String, Value>, policy: ContextPolicy) -> Fast<Vec<Quad>> {
    walk(document, policy, true)
}

fn walk(map: &Map<String, Value>, policy: ContextPolicy, skip_proof: bool) -> Fast<Vec<Quad>> {
    if !ENABLED.load(Ordering::Relaxed) {
        return no("fast path switched off");
    }
    let Some(context) = map.get("@context") else { return no("document without @context") };
    let ctx = top_context(context, policy)?;
    let mut w =
        Writer { quads: Vec::with_capacity(64), blank: 0, labels: HashMap::new(), policy, skip_proof };
    w.node(&ctx, None, map, None, 0, true)?;
    Ok(w.quads)
}

struct Writer {
    quads: Vec<Quad>,
    blank: usize,
    labels: HashMap<String, String>,
    policy: ContextPolicy,
    /// The top-level node's `proof` entry is not part of the document (Data Integrity's
    /// unsecured document).
    skip_proof: bool,
}

impl Writer {
    fn fresh(&mut self) -> Term {
        self.blank += 1;
        Term::Blank(format!("f{}", self.blank))
    }

    fn emit(&mut self, s: &Term, p: &str, o: Term, g: Option<&Term>) {
        self.quads.push(Quad {
            subject: s.clone(),
            predicate: Term::Iri(p.to_owned()),
            object: o,
            graph: g.cloned(),
        });
    }

    /// A document's blank node label, renamed apart from the generated ones.
    fn blank_label(&mut self, label: &str) -> Fast<Term> {
        if label.is_empty() || !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return no("unusual blank node label");
        }
        if let Some(l) = self.labels.get(label) {
            return Ok(Term::Blank(l.clone()));
        }
        let renamed = format!("d{}", self.labels.len());
        self.labels.insert(label.to_owned(), renamed.clone());
        Ok(Term::Blank(renamed))
    }

    /// An IRI-valued string (`@id`, `@type: @id`, `@type: @vocab`) as a term.
    fn reference(&mut self, ctx: &Ctx, value: &str, vocab: bool) -> Fast<Term> {
        let iri = expand(ctx, value, vocab)?;
        if let Some(label) = iri.strip_prefix("_:") {
            return self.blank_label(label);
        }
        if is_keyword(&iri) || !is_absolute_iri(&iri) {
            return no("not an absolute IRI");
        }
        Ok(Term::Iri(iri.into_owned()))
    }

    /// Steps 7-13 of the Expansion Algorithm for a node object, emitting its quads;
    /// returns the node's subject.
    fn node(
        &mut self,
        ctx_in: &Arc<Ctx>,
        property: Option<&Arc<TermDef>>,
        map: &Map<String, Value>,
        graph: Option<&Term>,
        depth: usize,
        top: bool,
    ) -> Fast<Term> {
        if depth > MAX_DEPTH {
            return no("too deep");
        }
        let mut ctx = ctx_in.clone();
        // Step 7: a type-scoped context does not reach into a new node object (unless
        // the object is only a reference).
        if ctx.previous.is_some() {
            let only_id =
                map.len() == 1 && map.keys().all(|k| expand(&ctx, k, true).is_ok_and(|e| e == "@id"));
            if !only_id {
                if let Some(prev) = ctx.previous.clone() {
                    ctx = prev;
                }
            }
        }
        // Step 8: the property-scoped context.
        if let Some(scoped) = property.and_then(|d| d.context.as_ref()) {
            ctx = derive_scoped(&ctx, scoped, true, true)?;
        }
        // Step 9: an embedded document's own `@context` (pinned URLs only); the
        // top-level one was processed by the caller.
        if let Some(context) = map.get("@context").filter(|_| !top) {
            ctx = apply_urls(&ctx, context, self.policy)?;
        }
        if map.contains_key("@value") {
            return no("value object");
        }
        // Steps 10-11: type-scoped contexts, types in lexicographic order.
        let type_scoped = ctx.clone();
        let mut type_key: Option<&Value> = None;
        let mut id_value: Option<&Value> = None;
        for (k, v) in map {
            let slot = match expand(&type_scoped, k, true).as_deref() {
                Ok("@type") => &mut type_key,
                Ok("@id") => &mut id_value,
                _ => continue,
            };
            if slot.replace(v).is_some() {
                return no("two keys for @id or @type");
            }
        }
        let mut types: Vec<&str> = Vec::new();
        if let Some(t) = type_key {
            match t {
                Value::String(s) => types.push(s),
                Value::Array(items) => {
                    for item in items {
                        let Value::String(s) = item else { return no("non-string type") };
                        types.push(s);
                    }
                }
                _ => return no("non-string type"),
            }
            let mut sorted = types.clone();
            sorted.sort_unstable();
            for t in sorted {
                if let Some(scoped) = type_scoped.terms.get(t).and_then(|d| d.context.as_ref()) {
                    ctx = derive_scoped(&ctx, scoped, false, false)?;
                }
            }
        }
        let subject = match id_value {
            Some(Value::String(id)) => self.reference(&ctx, id, false)?,
            Some(_) => return no("@id is not a string"),
            None => self.fresh(),
        };
        for t in &types {
            let object = self.reference(&type_scoped, t, true)?;
            if matches!(object, Term::Blank(_)) {
                return no("blank node type");
            }
            self.emit(&subject, RDF_TYPE, object, graph);
        }
        // Step 13: every other entry.
        for (k, v) in map {
            if top && self.skip_proof && k == "proof" {
                continue;
            }
            let predicate = expand(&ctx, k, true)?;
            if predicate.starts_with('@') {
                match &*predicate {
                    "@id" | "@type" | "@context" => continue,
                    _ => return no("keyword entry"),
                }
            }
            if !is_absolute_iri(&predicate) {
                return no("key does not expand to an absolute IRI");
            }
            if v.is_null() {
                continue;
            }
            let def = ctx.terms.get(k.as_str());
            self.property(&ctx, k, &predicate, def, v, &subject, graph, depth)?;
        }
        Ok(subject)
    }

    #[allow(clippy::too_many_arguments)]
    fn property(
        &mut self,
        ctx: &Arc<Ctx>,
        key: &str,
        predicate: &str,
        def: Option<&Arc<TermDef>>,
        value: &Value,
        subject: &Term,
        graph: Option<&Term>,
        depth: usize,
    ) -> Fast<()> {
        let container = def.map(|d| d.container).unwrap_or_default();
        if container.other {
            return no("index, id or type map");
        }
        if def.is_some_and(|d| d.type_mapping == TypeMapping::Json) {
            return no("@json literal");
        }
        // Scalars are expanded in the property-scoped context (step 4.2).
        let scalar_ctx = match def.and_then(|d| d.context.as_ref()) {
            Some(scoped) if has_scalar(value) => Some(derive_scoped(ctx, scoped, true, true)?),
            _ => None,
        };
        let scalar_ctx = scalar_ctx.as_ref().unwrap_or(ctx);
        let scalar_def = match def.and_then(|d| d.context.as_ref()) {
            Some(_) => scalar_ctx.terms.get(key),
            None => def,
        };
        if container.language && value.is_object() {
            let Value::Object(langs) = value else { return no("language map") };
            for (lang, texts) in langs {
                if !is_plain_language_tag(lang) {
                    return no("language tag");
                }
                for text in items(texts) {
                    match text {
                        Value::Null => {}
                        Value::String(s) => {
                            let object = Term::Literal(Literal {
                                value: s.clone(),
                                datatype: RDF_LANG_STRING.to_owned(),
                                language: Some(lang.clone()),
                            });
                            self.emit(subject, predicate, object, graph);
                        }
                        _ => return no("language map value is not a string"),
                    }
                }
            }
            return Ok(());
        }
        let values = items(value);
        if container.list {
            let mut objects = Vec::with_capacity(values.len());
            for item in values {
                if item.is_array() {
                    return no("list of lists");
                }
                if let Some(o) = self.object(ctx, scalar_ctx, def, scalar_def, item, graph, depth)? {
                    objects.push(o);
                }
            }
            let head = self.list(objects, graph);
            self.emit(subject, predicate, head, graph);
            return Ok(());
        }
        for item in values {
            match item {
                Value::Null => continue,
                Value::Array(_) => return no("nested array"),
                Value::Object(m) if container.graph => {
                    let name = self.fresh();
                    self.node(ctx, def, m, Some(&name), depth + 1, false)?;
                    self.emit(subject, predicate, name, graph);
                }
                _ if container.graph => return no("value in a graph container"),
                _ => {
                    if let Some(o) = self.object(ctx, scalar_ctx, def, scalar_def, item, graph, depth)? {
                        self.emit(subject, predicate, o, graph);
                    }
                }
            }
        }
        Ok(())
    }

    fn list(&mut self, objects: Vec<Term>, graph: Option<&Term>) -> Term {
        if objects.is_empty() {
            return Term::Iri(RDF_NIL.to_owned());
        }
        let nodes: Vec<Term> = objects.iter().map(|_| self.fresh()).collect();
        for (i, (node, object)) in nodes.iter().zip(objects).enumerate() {
            self.emit(node, RDF_FIRST, object, graph);
            let rest = nodes.get(i + 1).cloned().unwrap_or_else(|| Term::Iri(RDF_NIL.to_owned()));
            self.emit(node, RDF_REST, rest, graph);
        }
        nodes.into_iter().next().unwrap_or_else(|| Term::Iri(RDF_NIL.to_owned()))
    }

    /// One value of a property: a node (its quads emitted) or a literal/IRI.
    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        ctx: &Arc<Ctx>,
        scalar_ctx: &Arc<Ctx>,
        def: Option<&Arc<TermDef>>,
        scalar_def: Option<&Arc<TermDef>>,
        item: &Value,
        graph: Option<&Term>,
        depth: usize,
    ) -> Fast<Option<Term>> {
        let type_mapping = scalar_def.map(|d| &d.type_mapping).unwrap_or(&TypeMapping::None);
        Ok(Some(match item {
            Value::Null => return Ok(None),
            Value::Object(m) if m.contains_key("@value") => value_object(scalar_ctx, m)?,
            Value::Object(m) => {
                if m.keys().any(|k| k.starts_with('@') && k != "@id" && k != "@type") {
                    return no("keyword object");
                }
                self.node(ctx, def, m, graph, depth + 1, false)?
            }
            Value::Array(_) => return no("nested array"),
            Value::String(s) => match type_mapping {
                TypeMapping::Id => self.reference(scalar_ctx, s, false)?,
                TypeMapping::Vocab => self.reference(scalar_ctx, s, true)?,
                TypeMapping::Datatype(dt) => literal(s.clone(), dt),
                TypeMapping::None => literal(s.clone(), XSD_STRING),
                TypeMapping::Json | TypeMapping::Other => return no("type mapping"),
            },
            Value::Bool(b) => {
                let dt = match type_mapping {
                    TypeMapping::Datatype(dt) => dt,
                    TypeMapping::None | TypeMapping::Id | TypeMapping::Vocab => XSD_BOOLEAN,
                    _ => return no("type mapping"),
                };
                literal(if *b { "true" } else { "false" }.to_owned(), dt)
            }
            Value::Number(n) => {
                let given = match type_mapping {
                    TypeMapping::Datatype(dt) if &**dt != XSD_DOUBLE => Some(&**dt),
                    TypeMapping::None | TypeMapping::Id | TypeMapping::Vocab => None,
                    _ => return no("number type"),
                };
                // §8.6 step 10: an integer as xsd:integer, a number with a fraction as a
                // canonical xsd:double. Only where every processor reads the number the
                // same way: integers within ±2^53, doubles whose 16 significant digits
                // read back exactly.
                const SAFE: i64 = 1 << 53;
                if let Some(i) = n.as_i64().filter(|i| (-SAFE..=SAFE).contains(i)) {
                    literal(i.to_string(), given.unwrap_or(XSD_INTEGER))
                } else if let Some(text) = n.as_f64().filter(|_| n.is_f64()).and_then(canonical_double) {
                    literal(text, given.unwrap_or(XSD_DOUBLE))
                } else {
                    return no("number outside the fast path");
                }
            }
        }))
    }
}

/// A value object of a string with a language or a datatype (names and descriptions
/// in several languages, VCDM 2.0 §11.1); anything else goes to the general processor.
fn value_object(ctx: &Ctx, m: &Map<String, Value>) -> Fast<Term> {
    if m.keys().any(|k| !matches!(k.as_str(), "@value" | "@language" | "@type")) {
        return no("value object entry");
    }
    let Some(Value::String(text)) = m.get("@value") else { return no("value object of a non-string") };
    match (m.get("@language"), m.get("@type")) {
        (Some(Value::String(lang)), None) if is_plain_language_tag(lang) => Ok(Term::Literal(Literal {
            value: text.clone(),
            datatype: RDF_LANG_STRING.to_owned(),
            language: Some(lang.clone()),
        })),
        (None, Some(Value::String(t))) => {
            let dt = expand(ctx, t, true)?;
            if is_keyword(&dt) || !is_absolute_iri(&dt) {
                return no("value object type");
            }
            Ok(literal(text.clone(), &dt))
        }
        (None, None) => Ok(literal(text.clone(), XSD_STRING)),
        _ => no("value object language or type"),
    }
}

/// The canonical xsd:double form JSON-LD writes (`1.5E0`, `2.5E-1`: JavaScript's
/// `toExponential(15)` with the mantissa's trailing zeros dropped), for a finite number
/// with a fraction whose form reads back exactly; `None` otherwise.
fn canonical_double(v: f64) -> Option<String> {
    if !v.is_finite() || v.fract() == 0.0 || v.abs() >= 1e21 {
        return None;
    }
    let text = format!("{v:.15e}");
    let (mantissa, exponent) = text.split_once('e')?;
    if text.parse::<f64>().ok()? != v {
        return None;
    }
    let mantissa = mantissa.trim_end_matches('0');
    let mantissa = if mantissa.ends_with('.') { format!("{mantissa}0") } else { mantissa.to_owned() };
    Some(format!("{mantissa}E{exponent}"))
}

fn has_scalar(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|i| !i.is_object() && !i.is_null()),
        Value::Object(_) | Value::Null => false,
        _ => true,
    }
}

fn literal(value: String, datatype: &str) -> Term {
    Term::Literal(Literal { value, datatype: datatype.to_owned(), language: None })
}

/// Lower-case BCP 47 tags that are well-formed in the simplest way (`en`, `uk`, `pt-br`,
/// `sr-latn`): a 2-3 letter language, then subtags of 2-8 letters or digits (no singleton
/// extensions or private use). Both processors write these the same way; the general
/// processor drops a literal with a tag that is not well-formed (`x`), so anything else
/// goes to it.
fn is_plain_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(language) = parts.next() else { return false };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|part| {
            (2..=8).contains(&part.len())
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `a` followed by `b`, allocated once (no formatting machinery on the hot path).
fn concat(a: &str, b: &str) -> String {
    let mut out = String::with_capacity(a.len() + b.len());
    out.push_str(a);
    out.push_str(b);
    out
}

/// IRI Expansion (§5.2) at expansion time, no base IRI: `vocab` for keys, types and
/// `@vocab`-typed values. Borrows where it can (a defined term, an absolute IRI).
fn expand<'a>(ctx: &'a Ctx, value: &'a str, vocab: bool) -> Fast<Cow<'a, str>> {
    if value.starts_with('@') {
        return if is_keyword(value) { Ok(Cow::Borrowed(value)) } else { no("keyword-like value") };
    }
    if let Some(def) = ctx.terms.get(value) {
        match def.iri.as_deref() {
            Some(iri) if is_keyword(iri) => return Ok(Cow::Borrowed(iri)),
            Some(iri) if vocab => return Ok(Cow::Borrowed(iri)),
            None if vocab => return no("term mapped to null"),
            _ => {}
        }
    }
    if let Some((p, suffix)) = value.split_once(':') {
        if p == "_" || suffix.starts_with("//") {
            return Ok(Cow::Borrowed(value));
        }
        if let Some(def) = ctx.terms.get(p) {
            if def.prefix {
                if let Some(base) = &def.iri {
                    return Ok(Cow::Owned(concat(base, suffix)));
                }
            }
        }
        if is_absolute_iri(value) {
            return Ok(Cow::Borrowed(value));
        }
        return no("not an IRI");
    }
    if vocab {
        if let Some(v) = &ctx.vocab {
            return Ok(Cow::Owned(concat(v, value)));
        }
    }
    no("relative IRI")
}
