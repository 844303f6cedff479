//! The one wall around SpruceID ssi: general JSON-LD 1.1 expansion to RDF.
//!
//! Everything from ssi's JSON-LD stack (`ssi-json-ld`, `json-ld`, `linked-data`,
//! `rdf-types`) stays behind this crate. Its signatures use only plain types defined
//! here, so that `bem-core` never names an ssi type and rebuilds without
//! re-instantiating ssi's generics.
//!
//! Invariants:
//! - No network: every context comes from the [`PinnedLoader`] the caller built;
//!   an unknown URL is [`Error::UnknownContext`].
//! - Strict expansion: a term that no context defines (data that JSON-LD would drop
//!   and so leave unsigned) is [`Error::UndefinedTerm`], never silently dropped.
//! - The base IRI is null, so relative IRIs are never resolved against anything.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};

use iref::{Iri, IriBuf};
use json_ld::expansion::{Action, Policy};
use json_ld::{Expand, LoadError, Loader, RemoteDocument};
use json_syntax::Parse;

/// An RDF term as produced by JSON-LD to-RDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    Iri(String),
    Blank(String),
    Literal { value: String, datatype: String, language: Option<String> },
}

/// One RDF quad; `graph` is `None` for the default graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quad {
    pub subject: Term,
    pub predicate: Term,
    pub object: Term,
    pub graph: Option<Term>,
}

/// Why a document could not be turned into RDF.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A context URL that is not in the pinned set (never fetched).
    #[error("unknown JSON-LD context {0} (only pinned contexts are loaded, never fetched)")]
    UnknownContext(String),
    /// A term or type that no context defines: it would be dropped from the signed data.
    #[error("term `{0}` is not defined by any context (it would be dropped from the signed data)")]
    UndefinedTerm(String),
    /// A `type` value that no context defines (or that is not an IRI).
    #[error("a `type` value is not defined by any context (it would be dropped from the signed data)")]
    UndefinedType,
    /// A protected term was redefined.
    #[error("JSON-LD protected term redefinition")]
    ProtectedTermRedefinition,
    /// Any other JSON-LD error: invalid context, invalid @id, invalid value...
    #[error("JSON-LD processing failed: {0}")]
    Invalid(String),
    /// The document is not valid JSON for the JSON-LD processor.
    #[error("not a JSON-LD document: {0}")]
    NotJson(String),
}

type ActiveContext = json_ld::Context<IriBuf, rdf_types::BlankIdBuf>;

/// The pinned context documents, keyed by URL, parsed once; and the top-level `@context`
/// values already processed, so that a cohort of documents with the same `@context`
/// (every certificate of an issuer) pays for context processing once.
pub struct PinnedLoader {
    documents: HashMap<String, RemoteDocument<IriBuf>>,
    processed: std::sync::Mutex<HashMap<String, std::sync::Arc<ActiveContext>>>,
}

/// Most distinct top-level `@context` values kept processed.
const PROCESSED_CAPACITY: usize = 256;

impl PinnedLoader {
    /// Builds the loader from `(url, json text)` pairs. The caller is responsible for
    /// having checked each text against its pinned digest.
    pub fn new<'a>(contexts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, Error> {
        let mut documents = HashMap::new();
        for (url, text) in contexts {
            let iri = IriBuf::new(url.to_owned())
                .map_err(|_| Error::Invalid(format!("context URL {url} is not an IRI")))?;
            let (value, _) = json_syntax::Value::parse_str(text)
                .map_err(|e| Error::NotJson(format!("context {url}: {e}")))?;
            documents.insert(url.to_owned(), RemoteDocument::new(Some(iri), None, value));
        }
        Ok(Self { documents, processed: std::sync::Mutex::new(HashMap::new()) })
    }
}

impl Loader for PinnedLoader {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument<IriBuf>, LoadError> {
        match self.documents.get(url.as_str()) {
            Some(doc) => Ok(doc.clone()),
            None => Err(LoadError::new(url.to_owned(), UnknownContextMarker)),
        }
    }
}

#[derive(Debug)]
struct UnknownContextMarker;
impl std::fmt::Display for UnknownContextMarker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("context is not pinned")
    }
}
impl std::error::Error for UnknownContextMarker {}

/// Expands `document` (a compacted JSON-LD document) and returns its RDF quads.
///
/// Blank node labels are arbitrary; canonicalize before comparing or hashing.
///
/// A panic inside the JSON-LD stack is an [`Error::Invalid`], never a crash: the fuzzer
/// found that an IRI with a percent-encoding of invalid UTF-8 (`#%ed`) makes `pct-str`
/// panic when json-ld hashes the node. Nothing shared is left half-changed by such a
/// panic: the processed-context cache only takes finished contexts.
pub fn to_rdf(document: &serde_json::Value, loader: &PinnedLoader) -> Result<Vec<Quad>, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| to_rdf_unguarded(document, loader)))
        .unwrap_or_else(|_| {
            Err(Error::Invalid(
                "an IRI in the document is malformed (a percent-encoding that is not UTF-8?)".into(),
            ))
        })
}

fn to_rdf_unguarded(document: &serde_json::Value, loader: &PinnedLoader) -> Result<Vec<Quad>, Error> {
    let unknown = std::cell::RefCell::new(None::<String>);
    let tracking = TrackingLoader { inner: loader, unknown: &unknown };
    let options = json_ld::expansion::Options {
        policy: Policy { invalid: Action::Reject, allow_undefined: false, ..Default::default() },
        ..Default::default()
    };
    // The top-level `@context` is processed against the empty active context exactly as
    // expansion would do it (JSON-LD 1.1 Expansion step 9), so processing it once and
    // expanding the rest of the document from the result gives the same expansion.
    let (initial, value) = match document.as_object().and_then(|o| o.get("@context").map(|c| (o, c))) {
        Some((object, context)) => {
            let active = processed_context(context, loader, &tracking)
                .map_err(|e| classify(e, unknown.borrow_mut().take()))?;
            let mut rest = object.clone();
            rest.remove("@context");
            (
                ActiveContext::clone(&active),
                json_syntax::Value::from_serde_json(serde_json::Value::Object(rest)),
            )
        }
        None => (ActiveContext::default(), json_syntax::Value::from_serde_json(document.clone())),
    };
    let mut expanded = block_on(value.expand_full(&mut (), initial, None, &tracking, options, ()))
        .map_err(|e| classify(e, unknown.borrow_mut().take()))?;
    // JSON-LD 1.1 "Deserialize JSON-LD to RDF" as json-ld-core implements it. Not
    // `linked_data::to_lexical_quads`, which ssi uses: it drops the datatype a context
    // gives a boolean (`"false"^^xsd:boolean` for a term typed
    // `https://www.w3.org/2001/XMLSchema#boolean`) and writes a non-integral typed number
    // as `1.5` instead of the canonical double `1.5E0` (§8.6 step 10). Open Badges 3.0
    // uses both (`hashed`, `creditsAvailable`), and other implementations follow the
    // specification there (the interoperability tests in `tests/` hold us to them).
    let mut generator = rdf_types::generator::Blank::new();
    expanded.identify_all(&mut generator);
    use json_ld::rdf::RdfQuads;
    Ok(expanded.rdf_quads(&mut generator, None).map(convert_quad).collect())
}

/// The processed form of a top-level `@context` value, from the cache or processed now.
fn processed_context(
    context: &serde_json::Value,
    loader: &PinnedLoader,
    tracking: &TrackingLoader<'_>,
) -> Result<std::sync::Arc<ActiveContext>, json_ld::expansion::Error> {
    use json_ld::context_processing::Process;
    use json_ld::syntax::TryFromJson;
    let key = context.to_string();
    if let Some(hit) = loader.processed.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(hit);
    }
    let syntax = json_ld::syntax::context::Context::try_from_json(json_syntax::Value::from_serde_json(
        context.clone(),
    ))?;
    // Warnings are dropped, not printed (`process_with` would print them to stderr: an
    // attacker's inline context must not write to the service's log).
    let processed = block_on(syntax.process_full(
        &mut (),
        &ActiveContext::default(),
        tracking,
        None,
        json_ld::expansion::Options::default().into(),
        (),
    ))
    .map_err(json_ld::expansion::Error::ContextProcessing)?
    .into_processed();
    let processed = std::sync::Arc::new(processed);
    if let Ok(mut m) = loader.processed.lock() {
        if m.len() >= PROCESSED_CAPACITY {
            m.clear();
        }
        m.insert(key, processed.clone());
    }
    Ok(processed)
}

struct TrackingLoader<'a> {
    inner: &'a PinnedLoader,
    unknown: &'a std::cell::RefCell<Option<String>>,
}

impl Loader for TrackingLoader<'_> {
    async fn load(&self, url: &Iri) -> Result<RemoteDocument<IriBuf>, LoadError> {
        let result = self.inner.load(url).await;
        if result.is_err() {
            *self.unknown.borrow_mut() = Some(url.as_str().to_owned());
        }
        result
    }
}

fn classify(error: json_ld::expansion::Error, unknown: Option<String>) -> Error {
    use json_ld::expansion::Error as E;
    if let Some(url) = unknown {
        return Error::UnknownContext(url);
    }
    match error {
        E::KeyExpansionFailed(key) => Error::UndefinedTerm(key),
        // With undefined terms refused, an `@type` value that no context maps to an IRI
        // is an undefined term too.
        E::InvalidTypeValue => Error::UndefinedType,
        E::ContextProcessing(json_ld::context_processing::Error::ProtectedTermRedefinition) => {
            Error::ProtectedTermRedefinition
        }
        other => Error::Invalid(other.to_string()),
    }
}

fn convert_id(id: rdf_types::Id) -> Term {
    match id {
        rdf_types::Id::Iri(iri) => Term::Iri(iri.into_string()),
        rdf_types::Id::Blank(b) => Term::Blank(b.suffix().to_owned()),
    }
}

fn convert_quad(q: json_ld::rdf::QuadRef<'_, IriBuf, rdf_types::BlankIdBuf, rdf_types::Literal>) -> Quad {
    let rdf_types::Quad(s, p, o, g) = q;
    let (s, p, g) = (s.into_owned(), p.into_owned(), g.cloned());
    let object = match o {
        rdf_types::Term::Id(id) => convert_id(id),
        rdf_types::Term::Literal(lit) => match lit.type_ {
            rdf_types::LiteralType::Any(dt) => {
                Term::Literal { value: lit.value, datatype: dt.into_string(), language: None }
            }
            rdf_types::LiteralType::LangString(tag) => Term::Literal {
                value: lit.value,
                datatype: "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString".to_owned(),
                language: Some(tag.as_str().to_owned()),
            },
        },
    };
    Quad { subject: convert_id(s), predicate: convert_id(p), object, graph: g.map(convert_id) }
}

/// Drives a future that never waits: every context comes from memory, so the JSON-LD
/// processor's futures are ready on the first poll.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = TaskContext::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
