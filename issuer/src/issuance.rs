//! Issuance: awarding micro-credentials (one learner or a CSV of them), signing
//! caller-supplied credentials for the VC API, status changes, and the signed status
//! list credentials.
//!
//! Invariants:
//! - A certificate is signed before it is stored, and stored (with its status entries,
//!   in one transaction) before anyone is told it exists; a failure at any step gives
//!   back its reserved status indexes and stores nothing.
//! - Each bulk row is all-or-nothing (its own savepoint inside its chunk's transaction): a
//!   bad row is reported and skipped, and never touches the others; a chunk is one fsync. Signing, the slow part, runs on all cores (rayon).
//! - Everything is signed by the current key as exactly the issuer's DID; the VC API
//!   refuses a credential naming another issuer.
//! - Signing happens without the database lock held.
//! - Nothing is stored that our own readers refuse: every signed credential is written
//!   out once, re-read by the strict JSON parser and verified by the core pipeline
//!   ([`Issuer::last_gate`], on the thread that signed it), and is at most
//!   `bem_core::json::MAX_CREDENTIAL_BYTES` long, or it is not issued.
//! - A bulk award is a job ([`crate::store`]'s `bulk_jobs`): each chunk's certificates
//!   and their rows' outcomes are stored in one transaction, so the results outlive the
//!   request; a repeat with the same `Idempotency-Key` issues nothing, and a row whose
//!   learner identifier already holds this micro-credential gets the earlier
//!   certificate.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::Context as _;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use bem_core::contexts::ContextPolicy;
use bem_core::data_integrity::{add_proof, Cryptosuite, ProofOptions, ProofPurpose};
use bem_core::json::{JsonLimits, MAX_CREDENTIAL_BYTES};
use bem_core::resolver::{Fetched, Resolver};
use bem_core::{Error as CoreError, ProblemCode};

use crate::catalogue::Catalogue;
use crate::certificate::{self, Learner, Profile};
use crate::clock;
use crate::config::IssuerProfile;
use crate::identity::Identity;
use crate::status_lists::{self, Purpose, Reservation};
use crate::store::{BulkJob, BulkOutcome, BulkRow, Db, NewCredential, StatusChange};

/// Rows signed together in a bulk run (then stored one transaction each).
const BULK_CHUNK: usize = 256;

/// Why an issuance or status change was refused.
#[derive(Debug)]
pub enum IssueError {
    /// No such micro-credential, credential or list.
    NotFound(String),
    /// The request is wrong; every problem is listed.
    Invalid { code: ProblemCode, problems: Vec<String> },
    /// An option the VC API does not know.
    UnknownOption(String),
    /// The credential names another issuer.
    ForeignIssuer(String),
    /// The request conflicts with the state (e.g. undoing a revocation).
    Conflict(String),
    /// The request was valid but what it would sign is not: too large for verifiers, or
    /// refused by our own strict reading and verification. Nothing was issued.
    NotIssued { code: ProblemCode, problem: String },
    /// Our fault.
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for IssueError {
    fn from(e: anyhow::Error) -> Self {
        IssueError::Internal(e)
    }
}

impl IssueError {
    fn invalid(code: ProblemCode, problem: impl Into<String>) -> Self {
        IssueError::Invalid { code, problems: vec![problem.into()] }
    }

    /// The error in one line, for a bulk row's problem (internal detail stays in the log).
    fn row_problem(&self) -> String {
        match self {
            IssueError::Invalid { problems, .. } => problems.join("; "),
            IssueError::NotIssued { problem, .. } => problem.clone(),
            IssueError::NotFound(m)
            | IssueError::UnknownOption(m)
            | IssueError::ForeignIssuer(m)
            | IssueError::Conflict(m) => m.clone(),
            IssueError::Internal(e) => {
                eprintln!("bem-issuer: internal error in a bulk row: {e:#}");
                "not issued: internal error".to_owned()
            }
        }
    }
}

/// The outcome of a bulk request with an idempotency key, before any signing.
#[derive(Debug)]
pub enum BulkStart {
    /// A new job (or one whose process stopped before it finished): award its rows.
    Run(String),
    /// The job of this key is finished: its results, nothing issued again.
    Finished(String),
    /// The job of this key is being awarded by another request now.
    Running(String),
}

/// Removes a job from the running set when its award ends, however it ends.
struct RunningJob<'a> {
    running: &'a Mutex<HashSet<String>>,
    job: String,
}

impl Drop for RunningJob<'_> {
    fn drop(&mut self) {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.job);
    }
}

/// The resolver of the last gate: this issuer's own DID document (its current key), and
/// no status list (the status check is reported as not done).
struct OwnDocument<'a>(&'a Identity);

impl Resolver for OwnDocument<'_> {
    fn controller_document(&self, identifier: &str) -> Fetched {
        if identifier == self.0.did() {
            Fetched::Document(self.0.document(&[]))
        } else {
            Fetched::Offline
        }
    }
    fn status_list_credential(&self, _url: &str) -> Fetched {
        Fetched::Offline
    }
}

/// A signed certificate that passed the last gate: its id, document and stored text.
struct Made {
    credential_id: String,
    signed: Value,
    text: String,
}

/// The links of an awarded certificate.
#[derive(Debug, Clone, Serialize)]
pub struct Links {
    pub credential: String,
    pub verify: String,
    pub qr: String,
    /// The printable certificate as PDF, the signed credential attached.
    pub pdf: String,
}

/// An awarded certificate.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Awarded {
    pub verifiable_credential: Value,
    pub links: Links,
}

/// The outcome of one CSV row: `issued`, `existing` (the learner identifier already
/// holds this micro-credential: the earlier certificate) or `failed`.
#[derive(Debug, Clone, Serialize)]
pub struct RowResult {
    pub line: u64,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// A bulk job and its rows' outcomes so far.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub job: String,
    pub micro_credential: String,
    /// `running`, `finished`, or `interrupted` (its process stopped; a repeat with its
    /// `Idempotency-Key` awards the rows not done).
    pub status: &'static str,
    pub created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    pub issued: usize,
    pub existing: usize,
    pub failed: usize,
    pub results: Vec<RowResult>,
}

/// A signed status list credential and its entity tag.
#[derive(Debug, Clone)]
pub struct SignedList {
    pub body: String,
    pub etag: String,
}

/// The issuing service: the database, the identity and what certificates say about it.
pub struct Issuer {
    db: Mutex<Db>,
    identity: Identity,
    profile: IssuerProfile,
    public_url: String,
    catalogue: Catalogue,
    verifier_url: Option<String>,
    conformance_contexts: bool,
    retired_keys: std::path::PathBuf,
    publish_learner_details: bool,
    /// Bulk jobs being awarded by this process.
    running: Mutex<HashSet<String>>,
}

/// What the service is configured with besides its database, key and schema.
pub struct Settings {
    pub profile: IssuerProfile,
    /// Base URL of links, status lists and the did:web identity (no trailing `/`).
    pub public_url: String,
    pub verifier_url: Option<String>,
    /// Accept the W3C example and embedded contexts on `/credentials/issue`.
    pub conformance_contexts: bool,
    /// Where retired signing keys are kept (to re-sign their status lists).
    pub retired_keys: std::path::PathBuf,
    /// Write the learner's date of birth and learner number into certificates.
    pub publish_learner_details: bool,
}

/// Options of `/credentials/issue` that the service understands.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    pub suite: Cryptosuite,
    pub status: Vec<Purpose>,
}

impl Issuer {
    pub fn new(db: Db, identity: Identity, catalogue: Catalogue, settings: Settings) -> Issuer {
        let Settings {
            profile,
            public_url,
            verifier_url,
            conformance_contexts,
            retired_keys,
            publish_learner_details,
        } = settings;
        Issuer {
            db: Mutex::new(db),
            identity,
            profile,
            public_url,
            catalogue,
            verifier_url,
            conformance_contexts,
            retired_keys,
            publish_learner_details,
            running: Mutex::new(HashSet::new()),
        }
    }

    /// The identity of key `key_id`: the current one, or a retired key from its file.
    fn identity_of(&self, db: &Db, key_id: Option<i64>) -> anyhow::Result<Option<Identity>> {
        let Some(key_id) = key_id.filter(|id| *id != self.identity.key_id()) else { return Ok(None) };
        let row = db
            .keys()?
            .into_iter()
            .find(|k| k.id == key_id)
            .context("the key of a status list is not in the keys table")?;
        let path = self.retired_keys.join(format!("{}.key", row.public_multibase));
        let key = crate::keys::read_signing_key(&path).with_context(|| {
            format!("status list of retired key {} cannot be re-signed", row.public_multibase)
        })?;
        Ok(Some(Identity::new(&self.public_url, key, key_id)))
    }

    /// The database, locked. A panic elsewhere while holding it cannot leave a half
    /// transaction behind (rusqlite rolls back on drop), so a poisoned lock is usable.
    pub fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The database id of the current signing key.
    pub fn key_id(&self) -> i64 {
        self.identity.key_id()
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The issuer's DID document.
    pub fn did_document(&self) -> anyhow::Result<Value> {
        let keys = self.db().keys()?;
        Ok(self.identity.document(&keys))
    }

    /// Signs `document` with the current key.
    pub fn sign(
        &self,
        document: &Value,
        suite: Cryptosuite,
        policy: ContextPolicy,
    ) -> Result<Value, CoreError> {
        sign_as(&self.identity, document, suite, policy)
    }

    /// Signs a compact certificate (`bem_core::compact::summary`) with the current key
    /// as the issuer's own DID; returns its `BEM2:` text.
    pub fn sign_compact(&self, summary: &Value) -> anyhow::Result<String> {
        if bem_core::model::issuer_id(summary).ok() != Some(self.identity.did()) {
            anyhow::bail!("the compact certificate's issuer is not this issuer's DID");
        }
        bem_core::compact::sign(summary, &self.identity.verification_method(), self.identity.signing_key())
            .map_err(|e| anyhow::anyhow!("{}", e.message))
    }

    /// The `bem-verifier` base URL the certificates' `verify` links point to, if set.
    pub fn verifier_url(&self) -> Option<&str> {
        self.verifier_url.as_deref()
    }

    pub fn list_url(&self, list_id: i64) -> String {
        format!("{}/status-lists/{list_id}", self.public_url)
    }

    pub fn links(&self, token: &str) -> Links {
        let credential = format!("{}/credentials/{token}", self.public_url);
        let verify = match &self.verifier_url {
            Some(v) => format!("{v}/verify?credential={}", percent_encode(&credential)),
            None => credential.clone(),
        };
        Links { qr: format!("{credential}/qr.png"), pdf: format!("{credential}.pdf"), verify, credential }
    }

    // --- catalogue ------------------------------------------------------------------

    /// Validates and stores a definition; returns its id and whether it is new.
    pub fn put_definition(&self, definition: &Value) -> Result<(String, bool), IssueError> {
        let id = self
            .catalogue
            .validate(definition)
            .map_err(|problems| IssueError::Invalid {
                code: ProblemCode::SchemaValidationError,
                problems: problems
                    .into_iter()
                    .map(|p| format!("{}: {}", display_pointer(&p.pointer), p.message))
                    .collect(),
            })?
            .to_owned();
        let created = self.db().upsert_definition(&id, definition, &clock::now())?;
        Ok((id, created))
    }

    // --- awarding -------------------------------------------------------------------

    fn definition(&self, mc_id: &str) -> Result<Value, IssueError> {
        self.db()
            .definition(mc_id)?
            .ok_or_else(|| IssueError::NotFound(format!("no micro-credential {mc_id:?} in the catalogue")))
    }

    /// Reserves the status entries a certificate of `profile` carries; none if one fails.
    fn reserve_entries(&self, db: &mut Db, profile: Profile, now: &str) -> anyhow::Result<Vec<Reservation>> {
        let mut reserved = Vec::with_capacity(2);
        for &purpose in profile.status_purposes() {
            match db.reserve(purpose, now) {
                Ok(r) => reserved.push(r),
                Err(e) => {
                    db.release(&reserved);
                    return Err(e);
                }
            }
        }
        Ok(reserved)
    }

    /// The last gate before storing: `signed` written out as it will be served, within
    /// [`MAX_CREDENTIAL_BYTES`], re-read by the strict parser and verified by the core
    /// pipeline as this issuer's (its own DID document, no status lists, `policy`'s
    /// contexts). Only the validity period may fail (a credential may be issued for
    /// later). Returns the text to store.
    fn last_gate(&self, signed: &Value, policy: ContextPolicy) -> Result<String, IssueError> {
        let text = serde_json::to_string(signed).map_err(anyhow::Error::from)?;
        if text.len() > MAX_CREDENTIAL_BYTES {
            return Err(IssueError::NotIssued {
                code: ProblemCode::ResourceLimitExceeded,
                problem: format!(
                    "not issued: the signed credential is {} bytes, more than the {MAX_CREDENTIAL_BYTES} bytes \
                     verifiers and wallets accept (make the definition's texts shorter or fewer)",
                    text.len()
                ),
            });
        }
        let now = bem_core::datetime::parse_datetime_stamp(&clock::now())
            .map_err(|e| anyhow::anyhow!("the clock: {}", e.message))?;
        let trust = bem_core::trust::TrustList::default();
        let resolver = OwnDocument(&self.identity);
        let mut options = bem_core::verify::VerifyOptions::new(now, &trust, &resolver);
        options.policy = policy;
        options.json_limits = JsonLimits { max_bytes: MAX_CREDENTIAL_BYTES, ..JsonLimits::default() };
        let report = bem_core::verify::verify_credential_bytes(text.as_bytes(), &options);
        let proof_ok =
            report.checks.iter().any(|c| c.name == "proof" && c.status == bem_core::verify::Status::Ok);
        let failure = report.failures().find(|c| c.name != "validity");
        match (failure, proof_ok) {
            (None, true) => Ok(text),
            (failure, _) => Err(IssueError::NotIssued {
                code: ProblemCode::MalformedValueError,
                problem: format!(
                    "not issued: the signed credential does not pass this issuer's own verification ({})",
                    failure.map_or("no proof verified".to_owned(), |c| format!(
                        "{}: {}",
                        c.name,
                        crate::learner::quoted(&c.message)
                    ))
                ),
            }),
        }
    }

    /// Builds and signs one certificate and passes it through the last gate (no lock
    /// held).
    fn make_certificate(
        &self,
        definition: &Value,
        learner: &Learner,
        profile: Profile,
        entries: &[Reservation],
        now: &str,
    ) -> Result<Made, IssueError> {
        let credential_id = clock::urn_uuid();
        // The date of birth and the provider's learner number are written only when the
        // provider turned that on (docs/privacy.md).
        let private_left_out;
        let learner = if self.publish_learner_details {
            learner
        } else {
            private_left_out = Learner { date_of_birth: None, identifier: None, ..learner.clone() };
            &private_left_out
        };
        let status: Vec<Value> =
            entries.iter().map(|r| status_lists::entry(r, &self.list_url(r.list_id))).collect();
        let unsigned = profile.build(&certificate::Input {
            definition,
            learner,
            issuer_did: self.identity.did(),
            issuer: &self.profile,
            public_url: &self.public_url,
            credential_id: &credential_id,
            issued: now,
            status: &status,
        });
        let signed = self
            .sign(&unsigned, Cryptosuite::EddsaRdfc2022, ContextPolicy::STRICT)
            .map_err(|e| anyhow::anyhow!("the certificate could not be signed: {e}"))?;
        let text = self.last_gate(&signed, ContextPolicy::STRICT)?;
        Ok(Made { credential_id, signed, text })
    }

    /// The row of a new credential, with a fresh link token.
    fn new_credential(
        &self,
        credential_id: Option<String>,
        mc_id: Option<&str>,
        learner: Option<&Learner>,
        now: &str,
        document: String,
        entries: Vec<Reservation>,
    ) -> NewCredential {
        NewCredential {
            token: clock::token(),
            credential_id,
            micro_credential: mc_id.map(str::to_owned),
            learner_name: learner.map(|l| l.name.clone()),
            learner_identifier: learner.and_then(|l| l.identifier.clone()),
            issued: now.to_owned(),
            key_id: self.identity.key_id(),
            document,
            entries,
        }
    }

    /// Awards micro-credential `mc_id` to one learner.
    pub fn award(&self, mc_id: &str, learner: &Learner, profile: Profile) -> Result<Awarded, IssueError> {
        let learner = learner
            .normalized()
            .map_err(|problems| IssueError::Invalid { code: ProblemCode::MalformedValueError, problems })?;
        let definition = self.definition(mc_id)?;
        let now = clock::now();
        let entries = {
            let mut db = self.db();
            self.reserve_entries(&mut db, profile, &now)?
        };
        let result = self.make_certificate(&definition, &learner, profile, &entries, &now).and_then(|made| {
            let new = self.new_credential(
                Some(made.credential_id),
                Some(mc_id),
                Some(&learner),
                &now,
                made.text,
                entries.clone(),
            );
            self.db().insert_issued(&new)?;
            Ok(Awarded { verifiable_credential: made.signed, links: self.links(&new.token) })
        });
        if result.is_err() {
            self.db().release(&entries);
        }
        result
    }

    /// Finds or records the bulk job of a request: with `key` (its `Idempotency-Key`),
    /// an earlier job of the same key and request is found (a key used for another
    /// request is a conflict); without, a new job. Nothing is signed here.
    pub fn start_bulk(
        &self,
        mc_id: &str,
        profile: Profile,
        key: Option<&str>,
        body_sha256: &str,
        rows: usize,
    ) -> Result<BulkStart, IssueError> {
        self.definition(mc_id)?;
        let profile = profile_name(profile);
        let db = self.db();
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = key {
            if let Some(job) = db.bulk_job_by_key(key)? {
                if job.micro_credential != mc_id || job.profile != profile || job.body_sha256 != body_sha256 {
                    return Err(IssueError::Conflict(format!(
                        "Idempotency-Key {} was used for another request (job {}); use a new key",
                        crate::learner::quoted(key),
                        job.id
                    )));
                }
                if job.finished.is_some() {
                    return Ok(BulkStart::Finished(job.id));
                }
                if running.contains(&job.id) {
                    return Ok(BulkStart::Running(job.id));
                }
                running.insert(job.id.clone());
                return Ok(BulkStart::Run(job.id));
            }
        }
        let job = clock::token();
        db.insert_bulk_job(&BulkJob {
            id: job.clone(),
            idempotency_key: key.map(str::to_owned),
            micro_credential: mc_id.to_owned(),
            profile: profile.to_owned(),
            body_sha256: body_sha256.to_owned(),
            rows,
            created: clock::now(),
            finished: None,
        })?;
        running.insert(job.clone());
        Ok(BulkStart::Run(job))
    }

    /// Awards the rows of job `job` (from [`Issuer::start_bulk`]) that it has not done
    /// yet: each chunk's certificates and outcomes in one transaction, then the job is
    /// marked finished. The outcomes are read back with [`Issuer::bulk_job`].
    pub fn award_bulk(
        &self,
        job: &str,
        mc_id: &str,
        rows: Vec<(u64, Result<Learner, Vec<String>>)>,
        profile: Profile,
    ) -> Result<(), IssueError> {
        let _running = RunningJob { running: &self.running, job: job.to_owned() };
        let definition = self.definition(mc_id)?;
        let done = self.db().bulk_lines(job)?;
        let rows: Vec<(u64, Result<Learner, Vec<String>>)> =
            rows.into_iter().filter(|(line, _)| !done.contains(line)).collect();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(BULK_CHUNK).collect();
            let now = clock::now();
            // Each row: its outcome when known without signing, else the learner to sign.
            let mut outcomes: Vec<(u64, Option<BulkOutcome>, Option<Learner>)> =
                Vec::with_capacity(chunk.len());
            {
                let db = self.db();
                for (line, row) in chunk {
                    match row.and_then(|l| l.normalized()) {
                        Err(problems) => outcomes.push((line, Some(BulkOutcome::Failed(problems)), None)),
                        Ok(learner) => {
                            let earlier = match &learner.identifier {
                                Some(id) => db.credential_of_learner(mc_id, id)?,
                                None => None,
                            };
                            match earlier {
                                Some(token) => {
                                    outcomes.push((line, Some(BulkOutcome::Existing(token)), None))
                                }
                                None => outcomes.push((line, None, Some(learner))),
                            }
                        }
                    }
                }
            }
            let reserved: Vec<Option<anyhow::Result<Vec<Reservation>>>> = {
                let mut db = self.db();
                outcomes
                    .iter()
                    .map(|(_, _, learner)| {
                        learner.as_ref().map(|_| self.reserve_entries(&mut db, profile, &now))
                    })
                    .collect()
            };
            let signed: Vec<Option<BulkOutcome>> = outcomes
                .par_iter()
                .zip(reserved)
                .map(|((_, _, learner), entries)| {
                    let (learner, entries) = (learner.as_ref()?, entries?);
                    let outcome = entries.map_err(IssueError::from).and_then(|entries| {
                        match self.make_certificate(&definition, learner, profile, &entries, &now) {
                            Ok(made) => Ok(BulkOutcome::Issued(self.new_credential(
                                Some(made.credential_id),
                                Some(mc_id),
                                Some(learner),
                                &now,
                                made.text,
                                entries,
                            ))),
                            Err(e) => {
                                self.db().release(&entries);
                                Err(e)
                            }
                        }
                    });
                    Some(outcome.unwrap_or_else(|e| BulkOutcome::Failed(vec![e.row_problem()])))
                })
                .collect();
            let rows: Vec<BulkRow> = outcomes
                .into_iter()
                .zip(signed)
                .filter_map(|((line, known, _), signed)| {
                    known.or(signed).map(|outcome| BulkRow { line, outcome })
                })
                .collect();
            self.db().store_bulk_chunk(job, rows)?;
        }
        self.db().finish_bulk_job(job, &clock::now())?;
        Ok(())
    }

    /// Bulk job `job` and its rows' outcomes so far, in line order; `None` if unknown.
    pub fn bulk_job(&self, job: &str) -> Result<Option<JobView>, IssueError> {
        let (stored, rows) = {
            let db = self.db();
            let Some(stored) = db.bulk_job(job)? else { return Ok(None) };
            let rows = db.bulk_rows(job)?;
            (stored, rows)
        };
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner).contains(job);
        let status = match (&stored.finished, running) {
            (Some(_), _) => "finished",
            (None, true) => "running",
            (None, false) => "interrupted",
        };
        let mut view = JobView {
            job: stored.id,
            micro_credential: stored.micro_credential,
            status,
            created: stored.created,
            finished: stored.finished,
            issued: 0,
            existing: 0,
            failed: 0,
            results: Vec::with_capacity(rows.len()),
        };
        for row in rows {
            let result = match (row.status.as_str(), row.token) {
                (status @ ("issued" | "existing"), Some(token)) => {
                    if status == "issued" {
                        view.issued += 1;
                    } else {
                        view.existing += 1;
                    }
                    RowResult {
                        line: row.line,
                        status: if status == "issued" { "issued" } else { "existing" },
                        id: row.credential_id,
                        links: Some(self.links(&token)),
                        problems: Vec::new(),
                    }
                }
                _ => {
                    view.failed += 1;
                    RowResult {
                        line: row.line,
                        status: "failed",
                        id: None,
                        links: None,
                        problems: row.problems,
                    }
                }
            };
            view.results.push(result);
        }
        Ok(Some(view))
    }

    /// The newest bulk jobs (at most `limit`), without their rows.
    pub fn bulk_jobs(&self, limit: usize) -> Result<Vec<Value>, IssueError> {
        let jobs = self.db().bulk_jobs(limit)?;
        let running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(jobs
            .into_iter()
            .map(|(job, done)| {
                let status = match (&job.finished, running.contains(&job.id)) {
                    (Some(_), _) => "finished",
                    (None, true) => "running",
                    (None, false) => "interrupted",
                };
                serde_json::json!({
                    "job": job.id,
                    "idempotencyKey": job.idempotency_key,
                    "microCredential": job.micro_credential,
                    "status": status,
                    "created": job.created,
                    "finished": job.finished,
                    "rows": job.rows,
                    "done": done,
                })
            })
            .collect())
    }

    // --- VC API -----------------------------------------------------------------------

    /// Parses the `options` of `/credentials/issue`.
    pub fn issue_options(options: Option<&Value>) -> Result<IssueOptions, IssueError> {
        let mut parsed = IssueOptions { suite: Cryptosuite::EddsaRdfc2022, status: Vec::new() };
        let Some(options) = options else { return Ok(parsed) };
        let Some(options) = options.as_object() else {
            return Err(IssueError::invalid(ProblemCode::MalformedValueError, "options must be an object"));
        };
        for (name, value) in options {
            match name.as_str() {
                "cryptosuite" => {
                    let name = value.as_str().ok_or_else(|| {
                        IssueError::invalid(
                            ProblemCode::MalformedValueError,
                            "options.cryptosuite must be a string",
                        )
                    })?;
                    parsed.suite =
                        Cryptosuite::parse(name).map_err(|e| IssueError::invalid(e.code, e.message))?;
                }
                "credentialStatus" => {
                    let items: Vec<&Value> = match value {
                        Value::Array(items) => items.iter().collect(),
                        one => vec![one],
                    };
                    for item in items {
                        parsed.status.push(status_option(item)?);
                    }
                }
                other => return Err(IssueError::UnknownOption(other.to_owned())),
            }
        }
        Ok(parsed)
    }

    /// Signs a caller's credential as this issuer (VC API `/credentials/issue`).
    ///
    /// Refused before anything is signed or stored: a `credentialStatus` of the caller's
    /// (status entries are allocated here, `options.credentialStatus`, so that no two
    /// credentials share a status bit), and an `id` another credential of this issuer has.
    pub fn issue(&self, credential: Value, options: &IssueOptions) -> Result<Value, IssueError> {
        if credential.get("credentialStatus").is_some() {
            return Err(IssueError::invalid(
                ProblemCode::MalformedValueError,
                "credential.credentialStatus is allocated by the issuer: leave it out and ask for \
                 entries with options.credentialStatus [{\"type\": \"BitstringStatusListEntry\", \
                 \"statusPurpose\": \"revocation\"}]",
            ));
        }
        let wanted_id = credential.get("id").and_then(Value::as_str).map(str::to_owned);
        if let Some(id) = &wanted_id {
            if self.db().credential_id_taken(id)? {
                return Err(duplicate_id(id));
            }
        }
        let mut document =
            bem_core::data_integrity::with_suite_context(with_issuer(credential, self.identity.did())?);
        let mut problems: Vec<String> =
            bem_core::model::check_credential(&document).iter().map(|e| e.message.clone()).collect();
        if let Some(subject) = document.get("credentialSubject") {
            subject_text_problems(subject, "credentialSubject", &mut problems);
        }
        if !problems.is_empty() {
            return Err(IssueError::Invalid { code: ProblemCode::MalformedValueError, problems });
        }
        let now = clock::now();
        let mut entries = Vec::new();
        if !options.status.is_empty() {
            let mut db = self.db();
            for purpose in &options.status {
                match db.reserve(*purpose, &now) {
                    Ok(r) => entries.push(r),
                    Err(e) => {
                        db.release(&entries);
                        return Err(e.into());
                    }
                }
            }
            drop(db);
            add_status_entries(&mut document, &entries, |id| self.list_url(id));
        }
        let policy =
            if self.conformance_contexts { ContextPolicy::CONFORMANCE } else { ContextPolicy::STRICT };
        let result = self
            .sign(&document, options.suite, policy)
            .map_err(|e| IssueError::invalid(e.code, e.message))
            .and_then(|signed| {
                let text = self.last_gate(&signed, policy)?;
                let credential_id = signed.get("id").and_then(Value::as_str).map(str::to_owned);
                let new = self.new_credential(credential_id.clone(), None, None, &now, text, entries.clone());
                // Checked again under the same lock as the insert: two requests with one id
                // at once cannot both be stored.
                let mut db = self.db();
                if let Some(id) = &credential_id {
                    if db.credential_id_taken(id)? {
                        return Err(duplicate_id(id));
                    }
                }
                db.insert_issued(&new)?;
                Ok(signed)
            });
        if result.is_err() {
            self.db().release(&entries);
        }
        result
    }

    /// VC API `/credentials/status`: sets the `purpose` status of a credential to `value`
    /// (1 or 0 for revocation and suspension; a [`status_lists::MESSAGES`] index).
    pub fn set_status(
        &self,
        credential_id: &str,
        purpose: Purpose,
        value: u8,
    ) -> Result<StatusChange, IssueError> {
        let change = self.db().set_status(credential_id, purpose, value, &clock::now())?;
        match change {
            StatusChange::UnknownCredential => {
                Err(IssueError::NotFound(format!("no credential {credential_id:?} was issued here")))
            }
            StatusChange::NoEntry => Err(IssueError::invalid(
                ProblemCode::MalformedValueError,
                match purpose {
                    Purpose::Suspension => format!(
                        "credential {credential_id:?} has no suspension status entry: a certificate \
                         in the ELM (EDC) form carries one status entry, revocation, as EDC allows \
                         only one; Open Badges certificates (?profile=openbadges) can be suspended"
                    ),
                    _ => format!("credential {credential_id:?} has no {} status entry", purpose.as_str()),
                },
            )),
            StatusChange::Irreversible => Err(IssueError::Conflict(format!(
                "credential {credential_id:?} is revoked; revocation cannot be undone"
            ))),
            applied @ StatusChange::Applied { .. } => Ok(applied),
        }
    }

    /// The signed status list credential `id`, re-signed when its entries changed.
    pub fn status_list(&self, id: i64) -> Result<Option<SignedList>, IssueError> {
        let mut db = self.db();
        let Some(row) = db.list(id)? else { return Ok(None) };
        let url = self.list_url(id);
        if let (Some(body), Some(etag)) = (&row.signed, &row.etag) {
            let same_url = serde_json::from_str::<Value>(body)
                .ok()
                .is_some_and(|v| v.get("id").and_then(Value::as_str) == Some(&url));
            if same_url {
                return Ok(Some(SignedList { body: body.clone(), etag: etag.clone() }));
            }
        }
        let set = db.set_indexes(id)?;
        // A list is signed by the key (and so the DID) that issued its credentials.
        let retired = self.identity_of(&db, row.key_id)?;
        let signer = retired.as_ref().unwrap_or(&self.identity);
        let unsigned =
            status_lists::list_credential(&url, signer.did(), row.purpose, row.size, &set, &clock::now())?;
        let signed = sign_as(signer, &unsigned, Cryptosuite::EddsaRdfc2022, ContextPolicy::STRICT)
            .map_err(|e| anyhow::anyhow!("the status list could not be signed: {e}"))?;
        let body = serde_json::to_string(&signed).map_err(anyhow::Error::from)?;
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!("\"{}\"", digest.iter().take(16).map(|b| format!("{b:02x}")).collect::<String>());
        db.store_signed_list(id, &body, &etag)?;
        Ok(Some(SignedList { body, etag }))
    }
}

/// Signs `document` with the identity's current key, as its verification method.
pub fn sign_as(
    identity: &Identity,
    document: &Value,
    suite: Cryptosuite,
    policy: ContextPolicy,
) -> Result<Value, CoreError> {
    let mut options = ProofOptions::new(suite, identity.verification_method(), ProofPurpose::AssertionMethod);
    options.created = Some(clock::now());
    add_proof(document, &options, identity.signing_key(), policy)
}

/// The credential with `issuer` set to `did` when absent; refused when it names another.
pub fn with_issuer(credential: Value, did: &str) -> Result<Value, IssueError> {
    let Value::Object(mut credential) = credential else {
        return Err(IssueError::invalid(ProblemCode::ParsingError, "credential must be a JSON object"));
    };
    match credential.get_mut("issuer") {
        None => {
            credential.insert("issuer".into(), did.into());
        }
        Some(Value::String(s)) if s == did => {}
        Some(Value::Object(o)) => match o.get("id") {
            None => {
                o.insert("id".into(), did.into());
            }
            Some(Value::String(s)) if s == did => {}
            Some(other) => {
                return Err(IssueError::ForeignIssuer(format!("issuer.id {other} is not this issuer, {did}")))
            }
        },
        Some(other) => {
            return Err(IssueError::ForeignIssuer(format!("issuer {other} is not this issuer, {did}")))
        }
    }
    Ok(Value::Object(credential))
}

fn duplicate_id(id: &str) -> IssueError {
    IssueError::invalid(
        ProblemCode::MalformedValueError,
        format!("credential.id {id:?} is already the id of a credential issued here: give a new id, or none"),
    )
}

fn status_option(item: &Value) -> Result<Purpose, IssueError> {
    let bad = |m: &str| {
        IssueError::invalid(ProblemCode::MalformedValueError, format!("options.credentialStatus: {m}"))
    };
    let obj = item.as_object().ok_or_else(|| bad("each entry must be an object"))?;
    for key in obj.keys() {
        if key != "type" && key != "statusPurpose" {
            return Err(IssueError::UnknownOption(format!("credentialStatus.{key}")));
        }
    }
    if obj.get("type").and_then(Value::as_str) != Some("BitstringStatusListEntry") {
        return Err(bad("type must be \"BitstringStatusListEntry\""));
    }
    obj.get("statusPurpose")
        .and_then(Value::as_str)
        .and_then(Purpose::parse)
        .ok_or_else(|| bad("statusPurpose must be \"revocation\", \"suspension\" or \"message\""))
}

/// Appends the status entries to `credentialStatus`, adding the status context to a
/// VC 1.1 credential that lacks it (VC 2.0 defines the terms itself).
fn add_status_entries(document: &mut Value, entries: &[Reservation], list_url: impl Fn(i64) -> String) {
    let Some(obj) = document.as_object_mut() else { return };
    let new: Vec<Value> = entries.iter().map(|r| status_lists::entry(r, &list_url(r.list_id))).collect();
    let status = match obj.remove("credentialStatus") {
        None => Value::Array(new),
        Some(Value::Array(mut existing)) => {
            existing.extend(new);
            Value::Array(existing)
        }
        Some(one) => {
            let mut all = vec![one];
            all.extend(new);
            Value::Array(all)
        }
    };
    let status = match status {
        Value::Array(mut items) if items.len() == 1 => items.pop().unwrap_or(Value::Null),
        other => other,
    };
    obj.insert("credentialStatus".into(), status);
    if let Some(Value::Array(context)) = obj.get_mut("@context") {
        let is_v1 = context.first().and_then(Value::as_str) == Some(bem_core::contexts::CREDENTIALS_V1);
        if is_v1 && !context.iter().any(|c| c.as_str() == Some(bem_core::contexts::STATUS_V1)) {
            context.push(bem_core::contexts::STATUS_V1.into());
        }
    }
}

/// Most problems [`subject_text_problems`] lists.
const MAX_TEXT_PROBLEMS: usize = 20;

/// The learner-text rule ([`crate::learner::text_problem`]) over every string of a VC API
/// credential's subject: member names and values, at `path`.
fn subject_text_problems(value: &Value, path: &str, problems: &mut Vec<String>) {
    if problems.len() >= MAX_TEXT_PROBLEMS {
        return;
    }
    match value {
        Value::String(s) => problems.extend(crate::learner::text_problem(path, s)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                subject_text_problems(item, &format!("{path}[{i}]"), problems);
            }
        }
        Value::Object(members) => {
            for (name, item) in members {
                let at = format!("{path}.{}", bem_core::text::terminal_safe(name));
                problems.extend(crate::learner::text_problem(&at, name));
                subject_text_problems(item, &at, problems);
            }
        }
        _ => {}
    }
}

/// A profile's name as bulk jobs store it.
fn profile_name(profile: Profile) -> &'static str {
    match profile {
        Profile::Elm => "elm",
        Profile::OpenBadges => "openbadges",
    }
}

fn display_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "(definition)".to_owned()
    } else {
        pointer.to_owned()
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bem_core::resolver::{Fetched, Resolver};
    use bem_core::trust::TrustList;
    use bem_core::verify::{verify_credential, VerifyOptions};
    use serde_json::json;

    const URL: &str = "http://127.0.0.1:9";

    fn issuer(dir: &std::path::Path) -> Issuer {
        let mut db = crate::store::open(&dir.join("db.sqlite3"), status_lists::LIST_SIZE).unwrap();
        let key = crate::keys::generate_signing_key();
        let key_id = db
            .use_key(&bem_core::multikey::encode_public(&key.verifying_key()), "2025-01-01T00:00:00Z")
            .unwrap();
        let catalogue = Catalogue::new().unwrap();
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            db.upsert_definition(def["id"].as_str().unwrap(), &def, "2025-01-01T00:00:00Z").unwrap();
        }
        let profile = IssuerProfile {
            name: "Test issuer".into(),
            country_uri: "http://publications.europa.eu/resource/authority/country/DEU".into(),
            legal_identifier: Some("HRB 0000".into()),
            homepage: Some("https://issuer.example/".into()),
        };
        let settings = Settings {
            profile,
            public_url: URL.into(),
            verifier_url: None,
            conformance_contexts: false,
            retired_keys: dir.join("retired-keys"),
            publish_learner_details: true,
        };
        Issuer::new(db, Identity::new(URL, key, key_id), catalogue, settings)
    }

    /// Serves the issuer's status lists straight from the service.
    struct Lists<'a>(&'a Issuer);

    impl Resolver for Lists<'_> {
        fn controller_document(&self, _identifier: &str) -> Fetched {
            Fetched::Offline
        }
        fn status_list_credential(&self, url: &str) -> Fetched {
            let id = url.rsplit('/').next().and_then(|s| s.parse().ok()).unwrap();
            let list = self.0.status_list(id).unwrap().unwrap();
            Fetched::Document(serde_json::from_str(&list.body).unwrap())
        }
    }

    fn now() -> bem_core::datetime::Timestamp {
        bem_core::datetime::parse_datetime_stamp(&clock::now()).unwrap()
    }

    fn check(issuer: &Issuer, doc: &Value) -> bem_core::verify::Report {
        let trust = TrustList::default();
        let resolver = Lists(issuer);
        verify_credential(doc, &VerifyOptions::new(now(), &trust, &resolver))
    }

    #[test]
    fn every_demo_micro_credential_awards_a_certificate_that_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer(dir.path());
        let learner = Learner {
            name: "Олена Коваленко".into(),
            date_of_birth: Some("1990-04-01".into()),
            identifier: Some("L-1".into()),
            email: Some("olena@example.org".into()),
            grade: Some("Excellent".into()),
            ..Learner::default()
        };
        for def in crate::catalogue::parse_file(crate::catalogue::DEMO).unwrap() {
            let id = def["id"].as_str().unwrap();
            for profile in [Profile::Elm, Profile::OpenBadges] {
                let awarded = issuer.award(id, &learner, profile).unwrap();
                let report = check(&issuer, &awarded.verifiable_credential);
                assert!(report.verified(), "{id} {profile:?}: {:#?}", report.checks);
                let statuses = report
                    .checks
                    .iter()
                    .filter(|c| c.name == "status" && c.status == bem_core::verify::Status::Ok)
                    .count();
                assert_eq!(
                    statuses,
                    profile.status_purposes().len(),
                    "{id} {profile:?}: {:#?}",
                    report.checks
                );
                // The one reader of every screen finds what a person looks for.
                let view = bem_core::certificate::CertificateView::read(&awarded.verifiable_credential, "en");
                assert_eq!(view.learner.as_deref(), Some("Олена Коваленко"), "{id} {profile:?}");
                assert_eq!(view.title.as_deref(), def["title"]["en"].as_str(), "{id} {profile:?}");
                assert!(!view.outcomes.is_empty() && view.grade.as_deref() == Some("Excellent"), "{view:?}");
                let eqf = def.get("eqfLevel").map(|l| l.to_string());
                assert_eq!(view.eqf_level, eqf, "{id} {profile:?}");
                // A certificate carries a QDR level only (EDC); Open Badges none.
                let nqf = match (profile, def.get("nqfLevel")) {
                    (Profile::Elm, Some(uri @ Value::String(_))) => crate::certificate::nqf_label(uri),
                    _ => None,
                };
                assert_eq!(view.nqf_level, nqf, "{id} {profile:?}");
            }
            let badge = issuer.award(id, &learner, Profile::OpenBadges).unwrap().verifiable_credential;
            assert_eq!(badge["type"], json!(["VerifiableCredential", "OpenBadgeCredential"]));
            assert_eq!(badge["credentialSubject"]["achievement"]["achievementType"], "MicroCredential");
            assert!(!badge.to_string().contains("olena@example.org"), "the e-mail is only hashed");
        }
    }

    #[test]
    fn revocation_shows_in_verification_and_vc_api_credentials_verify() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = issuer(dir.path());
        let ana = Learner { name: "Ana".into(), ..Learner::default() };
        // An ELM certificate has one status entry (EDC allows one): revocation.
        let elm = issuer.award("md-digital-tools-small-business", &ana, Profile::Elm).unwrap();
        let elm_id = elm.verifiable_credential["id"].as_str().unwrap();
        let refused = issuer.set_status(elm_id, Purpose::Suspension, 1);
        assert!(
            matches!(&refused, Err(IssueError::Invalid { problems, .. }) if problems[0].contains("Open Badges")),
            "{refused:?}"
        );
        assert!(check(&issuer, &elm.verifiable_credential).verified());
        issuer.set_status(elm_id, Purpose::Revocation, 1).unwrap();
        assert_eq!(check(&issuer, &elm.verifiable_credential).verdict(), bem_core::verify::Verdict::Revoked);

        let awarded = issuer.award("md-digital-tools-small-business", &ana, Profile::OpenBadges).unwrap();
        let id = awarded.verifiable_credential["id"].as_str().unwrap().to_owned();
        issuer.set_status(&id, Purpose::Suspension, 1).unwrap();
        assert_eq!(
            check(&issuer, &awarded.verifiable_credential).verdict(),
            bem_core::verify::Verdict::Suspended
        );
        issuer.set_status(&id, Purpose::Suspension, 0).unwrap();
        assert!(check(&issuer, &awarded.verifiable_credential).verified());
        issuer.set_status(&id, Purpose::Revocation, 1).unwrap();
        assert_eq!(
            check(&issuer, &awarded.verifiable_credential).verdict(),
            bem_core::verify::Verdict::Revoked
        );
        assert!(matches!(issuer.set_status(&id, Purpose::Revocation, 0), Err(IssueError::Conflict(_))));

        let credential = serde_json::json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "type": ["VerifiableCredential"],
            "credentialSubject": {"id": "did:example:learner"},
        });
        for suite in ["eddsa-rdfc-2022", "eddsa-jcs-2022"] {
            let options = Issuer::issue_options(Some(&serde_json::json!({
                "cryptosuite": suite,
                "credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}]
            })))
            .unwrap();
            let signed = issuer.issue(credential.clone(), &options).unwrap();
            assert_eq!(signed["issuer"], issuer.identity().did());
            let report = check(&issuer, &signed);
            assert!(report.verified(), "{suite}: {:#?}", report.checks);
        }

        // A message entry (two bits, the issuer's four notices), in a VC 1.1 credential too.
        for (n, context) in
            [bem_core::contexts::CREDENTIALS_V2, bem_core::contexts::CREDENTIALS_V1].into_iter().enumerate()
        {
            let mut credential = credential.clone();
            credential["@context"] = serde_json::json!([context]);
            credential["id"] = format!("urn:uuid:0b7e3c52-9d1a-4f7e-8a65-3c2d1e0f9a8{n}").into();
            if context == bem_core::contexts::CREDENTIALS_V1 {
                credential["issuanceDate"] = "2026-01-01T00:00:00Z".into();
            }
            let options = Issuer::issue_options(Some(&serde_json::json!({
                "credentialStatus": [{"type": "BitstringStatusListEntry", "statusPurpose": "message"}]
            })))
            .unwrap();
            let signed = issuer.issue(credential, &options).unwrap();
            let entry = &signed["credentialStatus"];
            assert_eq!(entry["statusPurpose"], "message", "{context}");
            assert_eq!(entry["statusSize"], 2);
            assert_eq!(entry["statusMessage"].as_array().unwrap().len(), 4);
            assert_eq!(entry["statusReference"], entry["statusListCredential"]);
            let status = |report: &bem_core::verify::Report| {
                report.checks.iter().find(|c| c.name == "status").unwrap().message.clone()
            };
            let report = check(&issuer, &signed);
            assert!(report.verified(), "{context}: {:#?}", report.checks);
            assert!(status(&report).contains("no notice from the issuer"), "{}", status(&report));
            let id = signed["id"].as_str().unwrap();
            issuer.set_status(id, Purpose::Message, 2).unwrap();
            let report = check(&issuer, &signed);
            assert!(report.verified(), "a notice is not a failure: {:#?}", report.checks);
            assert!(status(&report).contains("replacement"), "{}", status(&report));
            assert!(issuer.set_status(id, Purpose::Message, 4).is_err());
        }
        let foreign = serde_json::json!({"issuer": "did:example:other", "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "credentialSubject": {}});
        assert!(matches!(
            issuer.issue(foreign, &Issuer::issue_options(None).unwrap()),
            Err(IssueError::ForeignIssuer(_))
        ));
        assert!(matches!(
            Issuer::issue_options(Some(&serde_json::json!({"mandatoryPointers": []}))),
            Err(IssueError::UnknownOption(_))
        ));
    }
}
