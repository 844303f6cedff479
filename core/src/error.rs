//! The crate's one error type and the stable problem codes it maps to.
//!
//! Every failure the core can report carries a [`ProblemCode`] from the W3C specs
//! (VC Data Model, VC Data Integrity, Bitstring Status List, CID) and a human message.
//! The services turn an [`Error`] into RFC 9457 problem details whose `type` is
//! [`ProblemCode::type_uri`]; the CLIs print the message. Nothing in this crate panics on
//! bad input: every parse or check returns an `Error`.

use std::fmt;

/// Stable problem codes, named as the specifications name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProblemCode {
    /// The input is not well-formed JSON (or is not the JSON shape required).
    ParsingError,
    /// A property is missing, has the wrong type, or a value is malformed (VCDM).
    MalformedValueError,
    /// A proof could not be created.
    ProofGenerationError,
    /// A proof is malformed or does not verify (VC-DI).
    ProofVerificationError,
    /// The document could not be transformed for hashing (unknown cryptosuite, ...).
    ProofTransformationError,
    /// The signature does not match the data (tampering or the wrong key).
    CryptographicSecurityError,
    /// The proof's domain does not match the expected domain.
    InvalidDomainError,
    /// The proof's challenge does not match the expected challenge.
    InvalidChallengeError,
    /// Some data would be dropped by JSON-LD processing and so not be signed.
    DataLossDetectionError,
    /// A JSON-LD context is not in the known, pinned set, or is misplaced.
    InvalidContextError,
    /// The verification method is not usable (malformed key, wrong fragment, expired...).
    InvalidVerificationMethod,
    /// The verification method is not authorised for the proof purpose (CID §3.3).
    InvalidRelationshipForVerificationMethod,
    /// The controller document's `id` is not the identifier that was resolved (CID §3.3).
    InvalidControlledIdentifierDocumentId,
    /// The controller document or DID could not be resolved or is malformed.
    InvalidControlledIdentifierDocument,
    /// The credential is not within its validity period.
    ValidityPeriodError,
    /// The status list could not be retrieved.
    StatusRetrievalError,
    /// The status list credential does not verify or does not match the entry.
    StatusVerificationError,
    /// The status list is shorter than the minimum length.
    StatusListLengthError,
    /// The status index is out of range.
    RangeError,
    /// The credential's status bit says revoked or suspended.
    StatusError,
    /// The credential does not conform to its `credentialSchema`.
    SchemaValidationError,
    /// The issuer is not in the caller's trust list.
    UntrustedIssuer,
    /// An input exceeds a resource bound (size, depth, canonicalization work).
    ResourceLimitExceeded,
    /// An option in a request is not known.
    UnknownOptionProvided,
}

impl ProblemCode {
    /// The code as the specifications spell it, e.g. `PROOF_VERIFICATION_ERROR`.
    pub fn as_str(self) -> &'static str {
        use ProblemCode::*;
        match self {
            ParsingError => "PARSING_ERROR",
            MalformedValueError => "MALFORMED_VALUE_ERROR",
            ProofGenerationError => "PROOF_GENERATION_ERROR",
            ProofVerificationError => "PROOF_VERIFICATION_ERROR",
            ProofTransformationError => "PROOF_TRANSFORMATION_ERROR",
            CryptographicSecurityError => "CRYPTOGRAPHIC_SECURITY_ERROR",
            InvalidDomainError => "INVALID_DOMAIN_ERROR",
            InvalidChallengeError => "INVALID_CHALLENGE_ERROR",
            DataLossDetectionError => "DATA_LOSS_DETECTION_ERROR",
            InvalidContextError => "INVALID_CONTEXT_ERROR",
            InvalidVerificationMethod => "INVALID_VERIFICATION_METHOD",
            InvalidRelationshipForVerificationMethod => "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD",
            InvalidControlledIdentifierDocumentId => "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID",
            InvalidControlledIdentifierDocument => "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT",
            ValidityPeriodError => "VALIDITY_PERIOD_ERROR",
            StatusRetrievalError => "STATUS_RETRIEVAL_ERROR",
            StatusVerificationError => "STATUS_VERIFICATION_ERROR",
            StatusListLengthError => "STATUS_LIST_LENGTH_ERROR",
            RangeError => "RANGE_ERROR",
            StatusError => "STATUS_ERROR",
            SchemaValidationError => "SCHEMA_VALIDATION_ERROR",
            UntrustedIssuer => "UNTRUSTED_ISSUER",
            ResourceLimitExceeded => "RESOURCE_LIMIT_EXCEEDED",
            UnknownOptionProvided => "UNKNOWN_OPTION_PROVIDED",
        }
    }

    /// The RFC 9457 `type` URI: the security vocabulary's for the VC-DI codes, ours otherwise.
    pub fn type_uri(self) -> String {
        format!("https://w3id.org/security#{}", self.as_str())
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from the credential core: a stable code and a message naming the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ProblemCode,
    pub message: String,
}

impl Error {
    pub fn new(code: ProblemCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
    pub fn parsing(message: impl Into<String>) -> Self {
        Self::new(ProblemCode::ParsingError, message)
    }
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(ProblemCode::MalformedValueError, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
