//! The one verification pipeline: every credential and presentation, wherever it comes
//! from, is checked here and nowhere else.
//!
//! Credential: parse (strict) → data model → proof(s) → verification method and the
//! issuer as its controller → context validation → validity period → status (Bitstring
//! Status List) → schema → issuer trust.
//! Presentation: parse → data model → holder's `authentication` proof with challenge and
//! domain → every credential inside through the whole credential pipeline.
//! Sealed credential (EDC's JAdES e-seal, [`crate::jades`]): parse the JWS → `seal` (the
//! signature over header and payload) → `certificate` (key usage; every certificate valid
//! at the signing time, a note when expired since) → `chain` (to the trust list's X.509
//! anchors) → the payload's model, context, validity, status and schema → trust (an
//! anchor, never the payload's `issuer`).
//!
//! The result is a [`Report`]: one [`Check`] per step with its status, problem code and
//! a message for people. Invariants:
//! - a check that could not run because an earlier one failed is `Skipped`, never `Ok`;
//! - `verified` is true only when no check failed and at least one proof (or the seal)
//!   verified;
//! - issuer trust is reported apart from `verified`: an unknown issuer is a warning and
//!   the [`Verdict`] says "unknown issuer", never plainly "valid";
//! - every decision is made from the document whose proof verified (attack case AC-31).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::contexts::{self, ContextPolicy};
use crate::data_integrity::{self, ProofPurpose, ProofView};
use crate::datetime::Timestamp;
use crate::fast_ld::Path;
use crate::jades::{self, ChainOutcome, Seal};
use crate::json::JsonLimits;
use crate::resolver::{Fetched, Resolver};
use crate::status_list::{self, Bitstring, StatusListIndex};
use crate::trust::{Trust, TrustList};
use crate::verification_method::{self, ResolvedMethod};
use crate::{model, Error, ProblemCode};

/// Most proofs one document may carry (attack case AC-05: the cost of verifying grows
/// with every proof, valid or not).
pub const MAX_PROOFS: usize = 8;
/// Most credentials one presentation may carry.
pub const MAX_CREDENTIALS: usize = 32;
/// Most `credentialStatus` entries of one credential: Bitstring Status List defines four
/// purposes (revocation, suspension, refresh, message), and each entry costs a fetch and
/// a list verification; more is refused before anything is fetched.
pub const MAX_STATUS_ENTRIES: usize = 8;
/// Most `credentialSchema` entries of one credential (each a fetch and a validation).
pub const MAX_SCHEMAS: usize = 4;

/// What the caller supplies to a verification.
#[derive(Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The time to check validity periods and proof expiry against.
    pub now: Timestamp,
    pub policy: ContextPolicy,
    pub trust: &'a TrustList,
    pub resolver: &'a dyn Resolver,
    /// Expected challenge of a presentation's proof.
    pub challenge: Option<&'a str>,
    /// Expected domain of a presentation's proof.
    pub domain: Option<&'a str>,
    /// Check `credentialStatus` (off only for status list credentials themselves).
    pub check_status: bool,
    /// Refuse presentations that carry no holder proof.
    pub require_holder_proof: bool,
    pub json_limits: JsonLimits,
    /// Tolerance for clocks that run behind the issuer's: a credential (or status list)
    /// whose `validFrom` is at most this far in the future is accepted.
    pub clock_skew_seconds: i64,
    /// Fetch the status lists and schemas a credential names even when its issuer is not
    /// trusted. Off, they are fetched only once a verified proof shows that a trusted
    /// issuer signed the credential (or its seal chains to a trusted anchor): what an
    /// unknown party names is never fetched (a service's setting; AC-20).
    pub fetch_for_unknown_issuers: bool,
}

impl<'a> VerifyOptions<'a> {
    pub fn new(now: Timestamp, trust: &'a TrustList, resolver: &'a dyn Resolver) -> Self {
        Self {
            now,
            policy: ContextPolicy::STRICT,
            trust,
            resolver,
            challenge: None,
            domain: None,
            check_status: true,
            require_holder_proof: true,
            json_limits: JsonLimits::default(),
            clock_skew_seconds: 60,
            fetch_for_unknown_issuers: true,
        }
    }

    /// The resolver for verification methods: the caller's, with the trust list's pinned
    /// issuer keys when a controller document cannot be fetched.
    fn key_resolver(&self) -> crate::trust::PinnedKeys<'_> {
        crate::trust::PinnedKeys { trust: self.trust, inner: self.resolver }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    Skipped,
    Warning,
}

/// One step of the pipeline and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable name: `parse`, `model`, `proof`, `issuer`, `context`, `validity`, `status`,
    /// `schema`, `trust`, `holder`, `credential`, `presenter` (holder binding, one per
    /// credential of a presentation); for sealed credentials `seal`, `certificate`,
    /// `chain`, and `issuer` (the issuer's eIDAS identifier against the seal certificate's).
    pub name: &'static str,
    pub status: Status,
    /// The specification's problem code when the check failed or warns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    pub message: String,
    /// The verdict this check decides, when it decides one (revoked, suspended, expired,
    /// not yet valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

impl Check {
    pub(crate) fn ok(name: &'static str, message: impl Into<String>) -> Self {
        Self { name, status: Status::Ok, code: None, message: message.into(), verdict: None }
    }
    pub(crate) fn failed(name: &'static str, error: &Error) -> Self {
        Self {
            name,
            status: Status::Failed,
            code: Some(error.code.as_str()),
            message: error.message.clone(),
            verdict: None,
        }
    }
    fn skipped(name: &'static str, message: impl Into<String>) -> Self {
        Self { name, status: Status::Skipped, code: None, message: message.into(), verdict: None }
    }
    fn warning(name: &'static str, code: ProblemCode, message: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Warning,
            code: Some(code.as_str()),
            message: message.into(),
            verdict: None,
        }
    }
    fn deciding(mut self, verdict: Verdict) -> Self {
        self.verdict = Some(verdict);
        self
    }
}

/// The verdict a person reads first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Genuine, current, not revoked, from a trusted issuer.
    Valid,
    /// Genuine and current, but the issuer is not on the trust list.
    UnknownIssuer,
    Revoked,
    Suspended,
    Expired,
    NotYetValid,
    /// The status could not be checked (list unavailable or offline).
    StatusUnknown,
    /// A genuine credential presented by someone other than its subject (holder binding).
    WrongHolder,
    /// A presentation holding no credential: nothing to rely on.
    NoCredential,
    /// Forged, tampered, malformed or signed by someone other than the issuer.
    NotGenuine,
}

/// What a verification found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `credential` or `presentation`.
    pub kind: &'static str,
    pub checks: Vec<Check>,
    /// The issuer (credentials) or holder (presentations), when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_of_trust: Option<String>,
    /// The trusted issuer's name from the trust list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_name: Option<String>,
    /// Reports of the credentials inside a presentation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<Report>,
    /// Which JSON-LD processor produced the RDF of the `eddsa-rdfc-2022` proofs: `fast`
    /// (`fast_ld`), `general` (`bem-jsonld`, if any proof needed it), or `none` (no RDF was
    /// needed: `eddsa-jcs-2022`, VC-JOSE, JAdES, or no proof verified).
    pub path: &'static str,
    /// The credential inside a seal or a `vc+jwt` envelope, once its signature verified:
    /// what screens and holder binding read (the envelope itself has nothing to show). Not
    /// part of the serialized report.
    #[serde(skip)]
    pub payload: Option<Value>,
}

impl Report {
    pub(crate) fn new(kind: &'static str) -> Self {
        Self {
            kind,
            checks: Vec::new(),
            subject_of_trust: None,
            trusted_name: None,
            credentials: Vec::new(),
            path: "none",
            payload: None,
        }
    }

    /// No check failed and at least one proof (or the seal) verified (or, for a
    /// presentation that may be unsigned, every credential inside verified).
    pub fn verified(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Failed)
            && (self.checks.iter().any(|c| matches!(c.name, "proof" | "seal") && c.status == Status::Ok)
                || (self.kind == "presentation" && !self.credentials.is_empty()))
    }

    /// Whether the issuer is on the trust list (and allowed to issue this type); for a
    /// presentation, whether every credential in it is (the holder is no issuer).
    pub fn trusted(&self) -> bool {
        if self.kind == "presentation" {
            return !self.credentials.is_empty() && self.credentials.iter().all(Report::trusted);
        }
        self.checks.iter().any(|c| c.name == "trust" && c.status == Status::Ok)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Failed)
    }

    /// The one-word verdict, most serious first. A presentation whose own proof and form
    /// hold takes the most serious verdict of its credentials (a presentation of a revoked
    /// certificate reads "revoked", not "not genuine").
    pub fn verdict(&self) -> Verdict {
        let failed = |name: &str| self.checks.iter().any(|c| c.name == name && c.status == Status::Failed);
        if self.kind == "presentation" {
            let own = ["parse", "model", "proof", "holder", "context"];
            if own.iter().any(|n| failed(n)) || self.credentials.is_empty() && !self.verified() {
                return Verdict::NotGenuine;
            }
            if self.credentials.is_empty() {
                return Verdict::NoCredential;
            }
            let wrong_holder = failed("presenter").then_some(Verdict::WrongHolder);
            return self
                .credentials
                .iter()
                .map(Report::verdict)
                .chain(wrong_holder)
                .max_by_key(|v| v.severity())
                .unwrap_or(Verdict::NotGenuine);
        }
        let decided =
            |v: Verdict| self.checks.iter().any(|c| c.status == Status::Failed && c.verdict == Some(v));
        let genuine_steps = [
            "parse",
            "model",
            "proof",
            "issuer",
            "context",
            "holder",
            "credential",
            "schema",
            "seal",
            "certificate",
            "chain",
        ];
        if genuine_steps.iter().any(|n| failed(n))
            || !self.verified() && !failed("status") && !failed("validity")
        {
            return Verdict::NotGenuine;
        }
        for v in [Verdict::Revoked, Verdict::Suspended, Verdict::NotYetValid, Verdict::Expired] {
            if decided(v) {
                return v;
            }
        }
        if failed("validity") {
            return Verdict::Expired;
        }
        if !self.trusted() {
            return Verdict::UnknownIssuer;
        }
        if failed("status") || self.checks.iter().any(|c| c.name == "status" && c.status == Status::Skipped) {
            return Verdict::StatusUnknown;
        }
        Verdict::Valid
    }
}

impl Verdict {
    /// How serious the verdict is: the worst of several wins.
    fn severity(self) -> u8 {
        match self {
            Verdict::Valid => 0,
            Verdict::UnknownIssuer => 1,
            Verdict::StatusUnknown => 2,
            Verdict::NotYetValid => 3,
            Verdict::Expired => 4,
            Verdict::Suspended => 5,
            Verdict::Revoked => 6,
            Verdict::NoCredential => 7,
            Verdict::WrongHolder => 8,
            Verdict::NotGenuine => 9,
        }
    }

    /// The verdict as the reports spell it (`valid`, `unknown-issuer`, `revoked`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::UnknownIssuer => "unknown-issuer",
            Verdict::Revoked => "revoked",
            Verdict::Suspended => "suspended",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not-yet-valid",
            Verdict::StatusUnknown => "status-unknown",
            Verdict::WrongHolder => "wrong-holder",
            Verdict::NoCredential => "no-credential",
            Verdict::NotGenuine => "not-genuine",
        }
    }
}

/// Parses `bytes` strictly, then verifies the credential.
pub fn verify_credential_bytes(bytes: &[u8], options: &VerifyOptions<'_>) -> Report {
    match crate::json::parse(bytes, &options.json_limits) {
        Ok(doc) => verify_credential(&doc, options),
        Err(e) => {
            let mut report = Report::new("credential");
            report.checks.push(Check::failed("parse", &e));
            report
        }
    }
}

/// Parses `bytes` strictly, then verifies the presentation.
pub fn verify_presentation_bytes(bytes: &[u8], options: &VerifyOptions<'_>) -> Report {
    match crate::json::parse(bytes, &options.json_limits) {
        Ok(doc) => verify_presentation(&doc, options),
        Err(e) => {
            let mut report = Report::new("presentation");
            report.checks.push(Check::failed("parse", &e));
            report
        }
    }
}

/// Runs the credential pipeline over a parsed document.
pub fn verify_credential(document: &Value, options: &VerifyOptions<'_>) -> Report {
    let mut report = Report::new("credential");
    let Some(doc) = document.as_object() else {
        report.checks.push(Check::failed("parse", &Error::parsing("the credential is not a JSON object")));
        return report;
    };
    if is_enveloped(doc) {
        return verify_enveloped_credential(doc, options);
    }
    if jades::is_envelope(doc) {
        return verify_sealed_credential(document, options);
    }

    let model_errors = model::check_credential(document);
    if model_errors.is_empty() {
        report.checks.push(Check::ok("model", "the credential has every required property, well formed"));
    } else {
        report.checks.extend(model_errors.iter().map(|e| Check::failed("model", e)));
    }
    let issuer = model::issuer_id(document).ok().map(str::to_owned);
    report.subject_of_trust.clone_from(&issuer);

    let controllers = check_proofs(doc, ProofPurpose::AssertionMethod, options, &mut report);
    let proof_ok = !controllers.is_empty();
    match (&issuer, proof_ok) {
        (Some(issuer), true) => {
            if controllers.iter().any(|c| c == issuer) {
                report
                    .checks
                    .push(Check::ok("issuer", format!("the issuer {issuer} controls the signing key")));
            } else {
                report.checks.push(Check::failed(
                    "issuer",
                    &Error::new(
                        ProblemCode::InvalidVerificationMethod,
                        format!(
                            "the credential names {issuer} as issuer, but it was signed by {}",
                            controllers.join(", ")
                        ),
                    ),
                ));
            }
        }
        _ => report.checks.push(Check::skipped("issuer", "no verified proof to compare the issuer with")),
    }

    finish_document_checks(doc, proof_ok, options, &mut report);
    if proof_ok {
        check_validity(document, options, &mut report);
        check_status(doc, issuer.as_deref(), options, &mut report);
        check_schema(doc, issuer.as_deref(), options, &mut report);
    }
    check_trust(issuer.as_deref(), document, options, &mut report);
    report
}

/// Runs the presentation pipeline over a parsed document.
pub fn verify_presentation(document: &Value, options: &VerifyOptions<'_>) -> Report {
    let mut report = Report::new("presentation");
    let Some(doc) = document.as_object() else {
        report.checks.push(Check::failed("parse", &Error::parsing("the presentation is not a JSON object")));
        return report;
    };
    let model_errors = model::check_presentation(document);
    if model_errors.is_empty() {
        report.checks.push(Check::ok("model", "the presentation is well formed"));
    } else {
        report.checks.extend(model_errors.iter().map(|e| Check::failed("model", e)));
    }
    let holder = match doc.get("holder") {
        Some(Value::String(h)) => Some(h.clone()),
        Some(Value::Object(h)) => h.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    report.subject_of_trust.clone_from(&holder);

    let has_proof = doc.contains_key("proof");
    let mut presenters: Vec<String> = Vec::new();
    if has_proof {
        let controllers = check_proofs(doc, ProofPurpose::Authentication, options, &mut report);
        presenters.clone_from(&controllers);
        if !controllers.is_empty() {
            match &holder {
                Some(h) if controllers.iter().any(|c| c == h) => {
                    report
                        .checks
                        .push(Check::ok("holder", format!("the holder {h} signed the presentation")));
                }
                Some(h) => report.checks.push(Check::failed(
                    "holder",
                    &Error::new(
                        ProblemCode::InvalidVerificationMethod,
                        format!(
                            "the presentation names {h} as holder, but was signed by {}",
                            controllers.join(", ")
                        ),
                    ),
                )),
                None => report.checks.push(Check::warning(
                    "holder",
                    ProblemCode::MalformedValueError,
                    format!("no holder named; signed by {}", controllers.join(", ")),
                )),
            }
        }
        finish_document_checks(doc, !controllers.is_empty(), options, &mut report);
    } else if options.require_holder_proof || options.challenge.is_some() && !options.policy.allow_inline {
        report.checks.push(Check::failed(
            "proof",
            &Error::new(ProblemCode::ProofVerificationError, "the presentation is not signed by its holder"),
        ));
    } else {
        report.checks.push(Check::warning(
            "proof",
            ProblemCode::ProofVerificationError,
            "the presentation is not signed: nothing binds it to a holder, challenge or domain",
        ));
        if let Some(ctx) = doc.get("@context") {
            match contexts::validate(ctx, options.policy)
                .and_then(|()| contexts::to_rdf(document, options.policy))
            {
                Ok(_) => {
                    report.checks.push(Check::ok("context", "every context is known and every term defined"))
                }
                Err(e) => report.checks.push(Check::failed("context", &e)),
            }
        }
    }

    let inner_options = VerifyOptions { challenge: None, domain: None, ..*options };
    let credentials = doc.get("verifiableCredential").map_or(&[][..], crate::json::items);
    if credentials.len() > MAX_CREDENTIALS {
        report.checks.push(Check::failed(
            "credential",
            &Error::new(
                ProblemCode::ResourceLimitExceeded,
                format!(
                    "{} credentials is more than the {MAX_CREDENTIALS} a presentation may carry",
                    credentials.len()
                ),
            ),
        ));
        return report;
    }
    for (i, credential) in credentials.iter().enumerate() {
        let inner = verify_credential(credential, &inner_options);
        if inner.verified() {
            report.checks.push(Check::ok("credential", format!("credential {i} verified")));
        } else {
            let reasons: Vec<&str> = inner.failures().map(|c| c.message.as_str()).collect();
            report.checks.push(Check::failed(
                "credential",
                &Error::new(
                    ProblemCode::ProofVerificationError,
                    format!("credential {i} does not verify: {}", reasons.join("; ")),
                ),
            ));
        }
        if inner.verified() {
            let shown = inner.payload.as_ref().unwrap_or(credential);
            report.checks.push(presenter_check(i, shown, &presenters, has_proof));
        }
        report.credentials.push(inner);
    }
    report
}

/// Holder binding: whether the presenter is shown to be the credential's subject. A
/// subject identified by a DID must be the DID that signed the presentation (else the
/// check fails); a subject without a DID, or an unsigned presentation, leaves it unshown
/// (a warning, so nobody reads the verdict as "presented by the learner").
fn presenter_check(index: usize, credential: &Value, presenters: &[String], signed: bool) -> Check {
    let subjects: Vec<&str> = credential
        .get("credentialSubject")
        .map(crate::json::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.get("id").and_then(Value::as_str))
        .filter(|id| id.starts_with("did:"))
        .collect();
    let shown = |ids: &[&str]| {
        ids.iter().map(|id| id.chars().take(120).collect::<String>()).collect::<Vec<_>>().join(", ")
    };
    if subjects.is_empty() {
        return Check::warning(
            "presenter",
            ProblemCode::InvalidVerificationMethod,
            format!("credential {index}: its subject has no DID, so nothing shows that the presenter is the learner it names"),
        );
    }
    if !signed || presenters.is_empty() {
        return Check::warning(
            "presenter",
            ProblemCode::InvalidVerificationMethod,
            format!(
                "credential {index} is about {}, but no signature on the presentation shows that its subject presented it",
                shown(&subjects)
            ),
        );
    }
    match subjects.iter().find(|s| presenters.iter().any(|p| p == *s)) {
        Some(subject) => Check::ok("presenter", format!("credential {index}: the presenter {subject} is its subject")),
        None => Check::failed(
            "presenter",
            &Error::new(
                ProblemCode::InvalidVerificationMethod,
                format!(
                    "credential {index} is about {}, but the presentation was signed by {}: the presenter is not the credential's subject",
                    shown(&subjects),
                    presenters.join(", ")
                ),
            ),
        ),
    }
}

/// Verifies every proof of `doc` for `purpose`; returns the controllers of the verified
/// proofs (empty when none verified). Pushes one `proof` check per proof.
fn check_proofs(
    doc: &Map<String, Value>,
    purpose: ProofPurpose,
    options: &VerifyOptions<'_>,
    report: &mut Report,
) -> Vec<String> {
    let all = match data_integrity::proofs_of(doc) {
        Ok(all) if all.is_empty() => {
            report.checks.push(Check::failed(
                "proof",
                &Error::new(ProblemCode::ProofVerificationError, "the document has no proof"),
            ));
            return Vec::new();
        }
        Ok(all) if all.len() > MAX_PROOFS => {
            report.checks.push(Check::failed(
                "proof",
                &Error::new(
                    ProblemCode::ResourceLimitExceeded,
                    format!("{} proofs is more than the {MAX_PROOFS} a document may carry", all.len()),
                ),
            ));
            return Vec::new();
        }
        Ok(all) => all,
        Err(e) => {
            report.checks.push(Check::failed("proof", &e));
            return Vec::new();
        }
    };
    let mut controllers = Vec::new();
    let mut all_ok = true;
    for (i, proof) in all.iter().enumerate() {
        match verify_one_proof(doc, i, proof, &all, purpose, options) {
            Ok((view, method, path)) => {
                match path {
                    Some(Path::General) => report.path = Path::General.as_str(),
                    Some(Path::Fast) if report.path != Path::General.as_str() => {
                        report.path = Path::Fast.as_str()
                    }
                    _ => {}
                }
                report.checks.push(Check::ok(
                    "proof",
                    format!("{} proof by {} verified", view.cryptosuite.as_str(), method.id),
                ));
                if let Some(revoked) = method.revoked.filter(|at| *at <= options.now) {
                    report.checks.push(Check::warning(
                        "proof",
                        ProblemCode::InvalidVerificationMethod,
                        format!(
                            "the key {} was revoked at {}; the proof says it was made earlier, which only the issuer's own records can confirm (whoever holds a revoked key can write an earlier date)",
                            method.id,
                            revoked.to_rfc3339()
                        ),
                    ));
                }
                controllers.push(method.controller);
            }
            Err(e) => {
                all_ok = false;
                report.checks.push(Check::failed("proof", &e));
            }
        }
    }
    if all_ok {
        controllers
    } else {
        Vec::new()
    }
}

fn verify_one_proof<'a>(
    doc: &Map<String, Value>,
    index: usize,
    proof: &'a Map<String, Value>,
    all: &[&Map<String, Value>],
    purpose: ProofPurpose,
    options: &VerifyOptions<'_>,
) -> Result<(ProofView<'a>, ResolvedMethod, Option<Path>), Error> {
    let view = data_integrity::parse_proof(index, proof)?;
    if view.proof_purpose != purpose.as_str() {
        return Err(Error::new(
            ProblemCode::ProofVerificationError,
            format!("proof purpose is {:?}, expected {:?}", view.proof_purpose, purpose.as_str()),
        ));
    }
    if let Some(expires) = view.expires {
        if expires <= options.now {
            return Err(Error::new(
                ProblemCode::ProofVerificationError,
                format!("the proof expired at {}", expires.to_rfc3339()),
            ));
        }
    }
    if let Some(expected) = options.challenge {
        if view.challenge() != Some(expected) {
            return Err(Error::new(
                ProblemCode::InvalidChallengeError,
                "the proof's challenge does not match the challenge of this verification",
            ));
        }
    }
    if let Some(expected) = options.domain {
        if !view.domains().contains(&expected) {
            return Err(Error::new(
                ProblemCode::InvalidDomainError,
                "the proof's domain does not match the domain of this verification",
            ));
        }
    }
    let at = view.created.unwrap_or(options.now);
    let method =
        verification_method::resolve(view.verification_method, purpose, at, &options.key_resolver())?;
    let path = data_integrity::verify_proof(doc, &view, all, &method.key, options.policy)?;
    Ok((view, method, path))
}

/// Context validation (VC-DI §4.6), after the proof verified.
fn finish_document_checks(
    doc: &Map<String, Value>,
    proof_ok: bool,
    options: &VerifyOptions<'_>,
    report: &mut Report,
) {
    if !proof_ok {
        report.checks.push(Check::skipped("context", "not checked: no proof verified"));
        return;
    }
    match doc.get("@context").map(|c| contexts::validate(c, options.policy)) {
        Some(Ok(())) => report.checks.push(Check::ok("context", "every context is a known, pinned context")),
        Some(Err(e)) => report.checks.push(Check::failed("context", &e)),
        None => report
            .checks
            .push(Check::failed("context", &Error::new(ProblemCode::InvalidContextError, "no `@context`"))),
    }
}

fn check_validity(document: &Value, options: &VerifyOptions<'_>, report: &mut Report) {
    let period = match model::validity_period(document) {
        Ok(p) => p,
        Err(e) => return report.checks.push(Check::failed("validity", &e)),
    };
    let now = options.now;
    let skewed = Timestamp::from_unix(now.unix_seconds().saturating_add(options.clock_skew_seconds));
    let error = |m: String| Error::new(ProblemCode::ValidityPeriodError, m);
    if let Some(from) = period.valid_from.filter(|f| skewed < *f) {
        report.checks.push(
            Check::failed("validity", &error(format!("not valid before {}", from.to_rfc3339())))
                .deciding(Verdict::NotYetValid),
        );
    } else if let Some(until) = period.valid_until.filter(|u| now > *u) {
        report.checks.push(
            Check::failed("validity", &error(format!("expired on {}", until.to_rfc3339())))
                .deciding(Verdict::Expired),
        );
    } else {
        let until = period.valid_until.map(|u| format!(" until {}", u.to_rfc3339())).unwrap_or_default();
        report.checks.push(Check::ok("validity", format!("valid now{until}")));
    }
}

/// `credentialSchema` (VCDM 2.0 §4.11): `JsonSchema` entries are fetched through the
/// resolver and the credential validated against them; EDC's `ShaclValidator2017`
/// profiles are validated at issuance, not here.
fn check_schema(
    doc: &Map<String, Value>,
    issuer: Option<&str>,
    options: &VerifyOptions<'_>,
    report: &mut Report,
) {
    let Some(entries) = doc.get("credentialSchema").map(crate::json::items) else { return };
    if entries.len() > MAX_SCHEMAS {
        report.checks.push(too_many("schema", entries.len(), "schemas", MAX_SCHEMAS));
        return;
    }
    if entries.iter().any(|e| e.get("type").and_then(Value::as_str) == Some("JsonSchema"))
        && !may_fetch(doc, issuer, options, report)
    {
        report.checks.push(Check::skipped("schema", NOT_FETCHED));
        return;
    }
    let credential = Value::Object(doc.clone());
    for entry in entries {
        let id = entry.get("id").and_then(Value::as_str).unwrap_or_default();
        let kind = entry.get("type").and_then(Value::as_str).unwrap_or_default();
        let check = match kind {
            "JsonSchema" => match options.resolver.credential_schema(id) {
                Fetched::Document(schema) => validate_against_schema(&credential, &schema, id),
                Fetched::Offline => {
                    Check::skipped("schema", format!("schema {id} not checked (not available offline)"))
                }
                Fetched::Failed(e) => Check::failed(
                    "schema",
                    &Error::new(
                        ProblemCode::SchemaValidationError,
                        format!("schema {id} could not be retrieved: {}", e.message),
                    ),
                ),
            },
            "ShaclValidator2017" => Check::skipped(
                "schema",
                format!("SHACL profile {id} is checked when the credential is issued, not at verification"),
            ),
            other => Check::warning(
                "schema",
                ProblemCode::SchemaValidationError,
                format!("credentialSchema of type {other:?} is not supported; {id} not checked"),
            ),
        };
        report.checks.push(check);
    }
}

fn validate_against_schema(credential: &Value, schema: &Value, id: &str) -> Check {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => {
            return Check::failed(
                "schema",
                &Error::new(
                    ProblemCode::SchemaValidationError,
                    format!("schema {id} is not a valid JSON Schema: {e}"),
                ),
            )
        }
    };
    let problems: Vec<String> =
        validator.iter_errors(credential).take(5).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    if problems.is_empty() {
        Check::ok("schema", format!("conforms to {id}"))
    } else {
        Check::failed(
            "schema",
            &Error::new(
                ProblemCode::SchemaValidationError,
                format!("does not conform to {id}: {}", problems.join("; ")),
            ),
        )
    }
}

/// Whether the trust list names the issuer. Only a credential shown to come from its
/// issuer (a verified proof by a key the issuer controls) is checked: a forgery naming a
/// trusted issuer must not read "trusted".
fn check_trust(issuer: Option<&str>, document: &Value, options: &VerifyOptions<'_>, report: &mut Report) {
    let Some(issuer) = issuer else { return };
    let from_issuer = report.checks.iter().any(|c| c.name == "issuer" && c.status == Status::Ok)
        && !report.checks.iter().any(|c| matches!(c.name, "proof" | "issuer") && c.status == Status::Failed);
    if !from_issuer {
        report
            .checks
            .push(Check::skipped("trust", format!("not checked: nothing shows that {issuer} signed it")));
        return;
    }
    let types = model::types(document);
    match options.trust.evaluate(issuer, &types) {
        Trust::Trusted { name } => {
            let who = name.clone().unwrap_or_else(|| issuer.to_owned());
            report.trusted_name = name;
            report.checks.push(Check::ok("trust", format!("{who} is a trusted issuer")));
        }
        Trust::NotAllowed { name, credential_type } => report.checks.push(Check::warning(
            "trust",
            ProblemCode::UntrustedIssuer,
            format!(
                "{} is trusted, but not to issue {credential_type}",
                name.unwrap_or_else(|| issuer.to_owned())
            ),
        )),
        Trust::Unknown => report.checks.push(Check::warning(
            "trust",
            ProblemCode::UntrustedIssuer,
            format!("{issuer} is not on the trust list: the signature is valid, but nobody vouches for this issuer"),
        )),
    }
}

/// Why a status or schema check was skipped under [`may_fetch`].
const NOT_FETCHED: &str = "not checked: nothing shows that a trusted issuer signed it, and this verifier fetches nothing an unknown party names";

/// The failed `name` check of a credential carrying `count` `what`, over `max`: refused
/// before anything is fetched.
fn too_many(name: &'static str, count: usize, what: &str, max: usize) -> Check {
    Check::failed(
        name,
        &Error::new(
            ProblemCode::ResourceLimitExceeded,
            format!("the credential has {count} {what}; at most {max} are checked, so none was"),
        ),
    )
}

/// Whether the status lists and schemas `doc` names may be fetched (see
/// [`VerifyOptions::fetch_for_unknown_issuers`]): a verified proof by its issuer, who is
/// trusted for the credential's types, or a seal chained to a trusted anchor.
fn may_fetch(
    doc: &Map<String, Value>,
    issuer: Option<&str>,
    options: &VerifyOptions<'_>,
    report: &Report,
) -> bool {
    if options.fetch_for_unknown_issuers {
        return true;
    }
    let passed = |name: &str| report.checks.iter().any(|c| c.name == name && c.status == Status::Ok);
    let not_genuine = report.checks.iter().any(|c| {
        c.status == Status::Failed
            && matches!(
                c.name,
                "parse" | "model" | "proof" | "issuer" | "context" | "seal" | "certificate" | "chain"
            )
    });
    if not_genuine {
        return false;
    }
    if passed("seal") && passed("chain") {
        return true;
    }
    let types: Vec<&str> = doc
        .get("type")
        .map(crate::json::items)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    passed("issuer")
        && issuer.is_some_and(|i| matches!(options.trust.evaluate(i, &types), Trust::Trusted { .. }))
}

/// Bitstring Status List validation (BSL §3.2) for each `BitstringStatusListEntry`.
fn check_status(
    doc: &Map<String, Value>,
    issuer: Option<&str>,
    options: &VerifyOptions<'_>,
    report: &mut Report,
) {
    if !options.check_status {
        return;
    }
    let Some(entries) = doc.get("credentialStatus").map(crate::json::items) else { return };
    if entries.len() > MAX_STATUS_ENTRIES {
        report.checks.push(too_many("status", entries.len(), "status entries", MAX_STATUS_ENTRIES));
        return;
    }
    if !may_fetch(doc, issuer, options, report) {
        report.checks.push(Check::skipped("status", NOT_FETCHED));
        return;
    }
    for entry in entries {
        let check = match status_of_entry(entry, issuer, options) {
            Ok(check) => check,
            Err(e) => Check::failed("status", &e),
        };
        report.checks.push(check);
    }
}

fn status_of_entry(entry: &Value, issuer: Option<&str>, options: &VerifyOptions<'_>) -> Result<Check, Error> {
    let entry =
        entry.as_object().ok_or_else(|| Error::malformed("a credentialStatus entry is not an object"))?;
    if !crate::status_list::is_bitstring_entry(entry) {
        let kind = entry.get("type").map(Value::to_string).unwrap_or_else(|| "(none)".into());
        return Ok(Check::warning(
            "status",
            ProblemCode::StatusVerificationError,
            format!("status entry of type {kind} is not checked (only BitstringStatusListEntry)"),
        ));
    }
    let purpose = entry
        .get("statusPurpose")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("status entry has no statusPurpose"))?;
    let url = entry
        .get("statusListCredential")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("status entry has no statusListCredential URL"))?;
    let index = StatusListIndex::parse(entry.get("statusListIndex").unwrap_or(&Value::Null))?;
    let status_size = match entry.get("statusSize") {
        None => 1,
        Some(v) => v
            .as_u64()
            .filter(|s| (1..=8).contains(s))
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| Error::malformed("statusSize is not an integer from 1 to 8"))?,
    };
    let list = match options.resolver.status_list_credential(url) {
        Fetched::Document(list) => list,
        Fetched::Offline => {
            return Ok(Check::skipped("status", format!("{purpose} status not checked (offline)")));
        }
        Fetched::Failed(e) => {
            return Err(Error::new(
                ProblemCode::StatusRetrievalError,
                format!("status list {url} could not be retrieved: {}", e.message),
            ))
        }
    };
    check_list_identity(&list, url)?;
    // The status list credential goes through the whole pipeline (bar status itself).
    let list_options = VerifyOptions { check_status: false, challenge: None, domain: None, ..*options };
    let list_report = verify_credential(&list, &list_options);
    if !list_report.verified() {
        let reasons: Vec<&str> = list_report.failures().map(|c| c.message.as_str()).collect();
        return Err(Error::new(
            ProblemCode::StatusVerificationError,
            format!("status list {url} does not verify: {}", reasons.join("; ")),
        ));
    }
    let list_issuer = model::issuer_id(&list).unwrap_or_default();
    if Some(list_issuer) != issuer && !list_report.trusted() {
        return Err(Error::new(
            ProblemCode::StatusVerificationError,
            format!("status list {url} is issued by {list_issuer}, who is neither the credential's issuer nor trusted"),
        ));
    }
    let subject = list.get("credentialSubject").and_then(Value::as_object).ok_or_else(|| {
        Error::new(ProblemCode::StatusVerificationError, "status list has no credentialSubject")
    })?;
    if subject.get("type").and_then(Value::as_str) != Some("BitstringStatusList") {
        return Err(Error::new(
            ProblemCode::StatusVerificationError,
            "status list subject is not a BitstringStatusList",
        ));
    }
    let list_purposes: Vec<&str> = match subject.get("statusPurpose") {
        Some(Value::String(p)) => vec![p.as_str()],
        Some(Value::Array(ps)) => ps.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !list_purposes.contains(&purpose) {
        return Err(Error::new(
            ProblemCode::StatusVerificationError,
            format!("status list {url} is not a {purpose} list (it is {list_purposes:?})"),
        ));
    }
    let encoded = subject
        .get("encodedList")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed("status list has no encodedList"))?;
    let bits = Bitstring::decode(encoded, &status_list::DecodeLimits::default())?;
    status_list::check_length(&bits, status_size)?;
    index.check_range(&bits, status_size)?;
    let value = bits.get_status(index.value(), status_size)?;
    if purpose == "message" {
        let text = status_message(entry, status_size, value)?;
        return Ok(if value == 0 {
            Check::ok("status", format!("message from the issuer: {text}"))
        } else {
            Check::warning("status", ProblemCode::StatusError, format!("message from the issuer: {text}"))
        });
    }
    Ok(match (purpose, value) {
        (_, 0) => Check::ok("status", format!("not {}", past_tense(purpose))),
        ("revocation", _) => Check::failed(
            "status",
            &Error::new(ProblemCode::StatusError, "the credential has been revoked by its issuer"),
        )
        .deciding(Verdict::Revoked),
        ("suspension", _) => Check::failed(
            "status",
            &Error::new(ProblemCode::StatusError, "the credential is suspended by its issuer"),
        )
        .deciding(Verdict::Suspended),
        (other, v) => Check::warning("status", ProblemCode::StatusError, format!("{other} status is {v}")),
    })
}

/// A status list credential is the one the entry names: its `type` includes
/// `BitstringStatusListCredential` (BSL §2.2) and its `id` is the URL it was fetched from,
/// fragments dropped on both sides (a list served at one URL cannot stand in for another's).
fn check_list_identity(list: &Value, url: &str) -> Result<(), Error> {
    let refuse = |m: String| Err(Error::new(ProblemCode::StatusVerificationError, m));
    if !model::has_type(list, "BitstringStatusListCredential") {
        return refuse(format!(
            "status list {url} is not a BitstringStatusListCredential (its type lacks it)"
        ));
    }
    let without_fragment = |u: &str| u.split('#').next().unwrap_or_default().to_owned();
    match list.get("id").and_then(Value::as_str) {
        Some(id) if without_fragment(id) == without_fragment(url) => Ok(()),
        Some(id) => {
            let shown: String = id.chars().take(200).collect();
            refuse(format!(
                "status list {url} has the id {shown:?}: a list's id must be the URL it is fetched from"
            ))
        }
        None => {
            refuse(format!("status list {url} has no id: a list's id must be the URL it is fetched from"))
        }
    }
}

/// The `statusMessage` text for `value` (BSL §2.1: present when `statusSize` > 1, one
/// `{status, message}` per possible value, `status` in hexadecimal as `0x…`); without
/// messages, the value itself.
fn status_message(entry: &Map<String, Value>, status_size: u32, value: u32) -> Result<String, Error> {
    let Some(messages) = entry.get("statusMessage") else {
        if status_size > 1 {
            return Err(Error::malformed("statusMessage must be present when statusSize is greater than 1"));
        }
        return Ok(format!("{value:#x}"));
    };
    let messages = messages.as_array().ok_or_else(|| Error::malformed("statusMessage is not an array"))?;
    if messages.len() != 1usize << status_size {
        return Err(Error::malformed(format!(
            "statusMessage has {} messages; statusSize {status_size} needs {}",
            messages.len(),
            1usize << status_size
        )));
    }
    let mut found = None;
    for message in messages {
        let (Some(status), Some(text)) =
            (message.get("status").and_then(Value::as_str), message.get("message").and_then(Value::as_str))
        else {
            return Err(Error::malformed("each statusMessage needs a `status` and a `message` string"));
        };
        let parsed =
            status.strip_prefix("0x").and_then(|hex| u32::from_str_radix(hex, 16).ok()).ok_or_else(|| {
                Error::malformed(format!("statusMessage status {status:?} is not hexadecimal 0x…"))
            })?;
        if parsed == value {
            found = Some(text.to_owned());
        }
    }
    found.ok_or_else(|| Error::malformed(format!("statusMessage has no message for status {value:#x}")))
}

fn past_tense(purpose: &str) -> &str {
    match purpose {
        "revocation" => "revoked",
        "suspension" => "suspended",
        other => other,
    }
}

fn is_enveloped(doc: &Map<String, Value>) -> bool {
    let has_type = |t: &str| match doc.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(t)),
        _ => false,
    };
    has_type("EnvelopedVerifiableCredential")
}

/// An `EnvelopedVerifiableCredential` whose `id` is a `data:application/vc+jwt,` URL.
fn verify_enveloped_credential(doc: &Map<String, Value>, options: &VerifyOptions<'_>) -> Report {
    let id = doc.get("id").and_then(Value::as_str).unwrap_or_default();
    match id.strip_prefix("data:application/vc+jwt,") {
        Some(jws) => verify_jwt_credential(jws, options),
        None => {
            let mut report = Report::new("credential");
            report.checks.push(Check::failed(
                "parse",
                &Error::malformed("enveloped credential id is not a data:application/vc+jwt URL"),
            ));
            report
        }
    }
}

/// Verifies a VC-JOSE credential (`application/vc+jwt`, compact JWS, EdDSA/Ed25519).
pub fn verify_jwt_credential(jws: &str, options: &VerifyOptions<'_>) -> Report {
    let mut report = Report::new("credential");
    let decoded = match crate::jose::decode_compact(jws) {
        Ok(d) => d,
        Err(e) => {
            report.checks.push(Check::failed("parse", &e));
            return report;
        }
    };
    // The payload is read only to find the issuer's key; nothing is decided from it
    // until the signature has verified (AC-31).
    let secured = match crate::jose::secured_document(&decoded) {
        Ok(s) => s,
        Err(e) => {
            report.checks.push(Check::failed("parse", &e));
            return report;
        }
    };
    let payload = &secured.document;
    let model_errors = model::check_credential(payload);
    if model_errors.is_empty() {
        report.checks.push(Check::ok("model", "the credential has every required property, well formed"));
    } else {
        report.checks.extend(model_errors.iter().map(|e| Check::failed("model", e)));
    }
    let issuer = model::issuer_id(payload).ok().map(str::to_owned);
    report.subject_of_trust.clone_from(&issuer);

    let verified = (|| -> Result<ResolvedMethod, Error> {
        let kid =
            decoded.header().kid.as_deref().ok_or_else(|| {
                Error::new(ProblemCode::ProofVerificationError, "the JWS header has no `kid`")
            })?;
        let kid = if kid.starts_with('#') {
            format!("{}{kid}", issuer.as_deref().unwrap_or_default())
        } else {
            kid.to_owned()
        };
        let method = verification_method::resolve(
            &kid,
            ProofPurpose::AssertionMethod,
            options.now,
            &options.key_resolver(),
        )?;
        crate::jose::verify_compact(&decoded, &method.key)?;
        crate::jose::check_time_claims(payload, options.now.unix_seconds())?;
        Ok(method)
    })();
    let proof_ok = match verified {
        Ok(method) => {
            report.checks.push(Check::ok("proof", format!("vc+jwt signature by {} verified", method.id)));
            match &issuer {
                Some(i) if *i == method.controller => report
                    .checks
                    .push(Check::ok("issuer", format!("the issuer {i} controls the signing key"))),
                _ => report.checks.push(Check::failed(
                    "issuer",
                    &Error::new(
                        ProblemCode::InvalidVerificationMethod,
                        format!("the credential was signed by {}, not by its issuer", method.controller),
                    ),
                )),
            }
            true
        }
        Err(e) => {
            report.checks.push(Check::failed("proof", &e));
            false
        }
    };
    if let Some(doc) = payload.as_object() {
        if proof_ok {
            match doc.get("@context").map(|c| {
                contexts::validate(c, options.policy)
                    .and_then(|()| contexts::check_terms(payload, options.policy))
            }) {
                Some(Ok(())) => {
                    report.checks.push(Check::ok("context", "every context is known and every term defined"))
                }
                Some(Err(e)) => report.checks.push(Check::failed("context", &e)),
                None => report.checks.push(Check::failed(
                    "context",
                    &Error::new(ProblemCode::InvalidContextError, "no `@context`"),
                )),
            }
            check_validity(payload, options, &mut report);
            check_status(doc, issuer.as_deref(), options, &mut report);
            check_schema(doc, issuer.as_deref(), options, &mut report);
            report.payload = Some(payload.clone());
        }
    }
    check_trust(issuer.as_deref(), payload, options, &mut report);
    report
}

/// A credential sealed with JAdES (EDC's eIDAS e-seal): the seal, its certificate and
/// chain, then the payload's own checks. Trust comes from the X.509 anchors only.
fn verify_sealed_credential(document: &Value, options: &VerifyOptions<'_>) -> Report {
    let mut report = Report::new("credential");
    let anchors = options.trust.x509_anchors();
    let seal = match jades::verify(document, &anchors, options.now, &options.json_limits) {
        Ok(seal) => seal,
        Err(e) => {
            report.checks.push(Check::failed("parse", &e));
            return report;
        }
    };
    let sealer = seal.sealer.holder.clone();
    report.subject_of_trust = Some(sealer.clone());
    let sealed_at = seal.signing_time.to_rfc3339();
    report.checks.push(match &seal.signature {
        Ok(()) => Check::ok(
            "seal",
            format!(
                "JAdES seal ({}) by {sealer} verified over the credential and its header, sealed {sealed_at}",
                seal.algorithm.as_str()
            ),
        ),
        Err(e) => Check::failed("seal", e),
    });
    report.checks.push(certificate_check(&seal));
    report.checks.push(match &seal.chain {
        ChainOutcome::Anchored { anchor, path } => Check::ok(
            "chain",
            format!("the seal certificate chains to the trust anchor {anchor:?} ({})", path.join(" ← ")),
        ),
        ChainOutcome::NoAnchor { last_issuer } => Check::warning(
            "chain",
            ProblemCode::UntrustedIssuer,
            format!("the seal certificate chains to no X.509 anchor of the trust list (it goes up to {last_issuer}, which is not one)"),
        ),
        ChainOutcome::Broken(e) => Check::failed("chain", e),
    });

    match (&seal.signature, &seal.payload) {
        (Ok(()), Ok(payload)) => {
            check_sealed_payload(payload, options, &mut report);
            report.payload = Some(payload.clone());
        }
        (Ok(()), Err(e)) => report.checks.push(Check::failed("model", e)),
        (Err(_), _) => report.checks.push(Check::skipped("model", "not read: the seal is broken")),
    }

    let binding = match (&seal.signature, &seal.payload) {
        (Ok(()), Ok(payload)) => Some(seal_binding(&seal, payload)),
        _ => None,
    };
    let differs = matches!(binding, Some(SealBinding::Differs { .. }));
    if let Some(binding) = &binding {
        report.checks.push(binding.check(&sealer));
    }
    let seal_holds = seal.signature.is_ok() && seal.certificate.is_ok();
    report.checks.push(match (&seal.anchored(), seal_holds, &seal.chain) {
        (Some(anchor), _, _) if differs => Check::warning(
            "trust",
            ProblemCode::UntrustedIssuer,
            format!("the trusted {anchor:?} vouches for the sealer {sealer}, not for the issuer the credential names: they differ"),
        ),
        (Some(anchor), _, _) => {
            // Shown as the issuer: who sealed it (the certificate's subject), not the CA.
            report.trusted_name = Some(sealer.clone());
            Check::ok(
                "trust",
                format!("sealed by {sealer}, whose certificate chains to the trusted {anchor:?}"),
            )
        }
        (None, true, ChainOutcome::NoAnchor { .. }) => Check::warning(
            "trust",
            ProblemCode::UntrustedIssuer,
            format!("seal valid, issuer not trusted: no trust anchor vouches for {sealer}"),
        ),
        _ => Check::skipped("trust", "not checked: the seal, its certificate or its chain did not hold"),
    });
    report
}

/// How the sealed credential's issuer relates to the seal certificate's subject: the
/// issuer's `eIDASIdentifier` notation against the certificate's organizationIdentifier
/// (ETSI EN 319 412-1), the binding EDC checks.
enum SealBinding {
    Bound(String),
    Differs { certificate: String, issuer: Vec<String> },
    Unknown(&'static str),
}

fn seal_binding(seal: &Seal, payload: &Value) -> SealBinding {
    let identifiers: Vec<String> = payload
        .get("issuer")
        .and_then(|i| i.get("eIDASIdentifier"))
        .map(crate::json::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.get("notation").and_then(Value::as_str))
        .map(|n| n.chars().take(200).collect())
        .collect();
    match (&seal.sealer.organization_identifier, identifiers.is_empty()) {
        (None, _) => SealBinding::Unknown("the seal certificate carries no organizationIdentifier"),
        (Some(_), true) => SealBinding::Unknown("the credential's issuer gives no eIDASIdentifier"),
        (Some(id), false) if identifiers.iter().any(|i| i == id) => SealBinding::Bound(id.clone()),
        (Some(id), false) => SealBinding::Differs { certificate: id.clone(), issuer: identifiers },
    }
}

impl SealBinding {
    fn check(&self, sealer: &str) -> Check {
        match self {
            SealBinding::Bound(id) => Check::ok(
                "issuer",
                format!("the credential's issuer is the sealer {sealer}: both are identified as {id}"),
            ),
            SealBinding::Differs { certificate, issuer } => Check::warning(
                "issuer",
                ProblemCode::UntrustedIssuer,
                format!(
                    "the credential's issuer ({}) is not the sealer {sealer} ({certificate}): they differ",
                    issuer.join(", ")
                ),
            ),
            SealBinding::Unknown(why) => Check::warning(
                "issuer",
                ProblemCode::UntrustedIssuer,
                format!("nothing binds the credential's issuer to the sealer {sealer}: {why}"),
            ),
        }
    }
}

/// The seal certificate: fit for sealing and valid at the signing time; a warning when it
/// has expired since.
fn certificate_check(seal: &Seal) -> Check {
    let sealed_at = seal.signing_time.to_rfc3339();
    match (&seal.certificate, &seal.expired_since) {
        (Err(e), _) => Check::failed("certificate", e),
        (Ok(()), Some((who, when))) => Check::warning(
            "certificate",
            ProblemCode::ValidityPeriodError,
            format!(
                "the seal certificate of {who} has expired since {}; it was valid when sealed ({sealed_at})",
                when.to_rfc3339()
            ),
        ),
        (Ok(()), None) => Check::ok(
            "certificate",
            format!(
                "the seal certificate may seal and was valid when sealed ({sealed_at}); valid until {}",
                seal.sealer.not_after.to_rfc3339()
            ),
        ),
    }
}

/// The sealed credential's own checks: VC model (1.1 envelope or 2.0), contexts,
/// validity period, status and schema. No proof is required inside: the seal is it.
fn check_sealed_payload(payload: &Value, options: &VerifyOptions<'_>, report: &mut Report) {
    let model_errors = model::check_credential(payload);
    if model_errors.is_empty() {
        report
            .checks
            .push(Check::ok("model", "the sealed credential has every required property, well formed"));
    } else {
        report.checks.extend(model_errors.iter().map(|e| Check::failed("model", e)));
    }
    let Some(doc) = payload.as_object() else { return };
    match doc.get("@context").map(|c| {
        contexts::validate(c, options.policy).and_then(|()| contexts::check_terms(payload, options.policy))
    }) {
        Some(Ok(())) => {
            report.checks.push(Check::ok("context", "every context is known and every term defined"))
        }
        Some(Err(e)) => report.checks.push(Check::failed("context", &e)),
        None => report
            .checks
            .push(Check::failed("context", &Error::new(ProblemCode::InvalidContextError, "no `@context`"))),
    }
    let issuer = model::issuer_id(payload).ok();
    check_validity(payload, options, report);
    check_status(doc, issuer, options, report);
    check_schema(doc, issuer, options, report);
}
