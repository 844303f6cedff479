//! BEM credential core: the credential model, proofs, status lists and the one
//! verification pipeline that the issuer, the verifier and the wallet all share.
//!
//! Pure logic only: no file, network or clock access happens here. Whatever needs the
//! outside (the time, status-list fetching, did:web resolution, the trust list) is passed
//! in by the caller. Nothing here panics on bad input; every failure is an [`Error`]
//! carrying a stable [`ProblemCode`].
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod certificate;
pub mod compact;
pub mod contexts;
pub mod data_integrity;
pub mod datetime;
pub mod did_key;
pub mod did_web;
pub mod error;
pub mod fast_ld;
pub mod jades;
pub mod jades_seal;
pub mod jcs;
pub mod jose;
pub mod json;
pub mod model;
pub mod multibase;
pub mod multikey;
pub mod rdf;
pub mod rdfc;
pub mod resolver;
pub mod status_list;
pub mod text;
pub mod trust;
pub mod verification_method;
pub mod verify;
pub mod x509;

pub use error::{Error, ProblemCode, Result};

#[cfg(test)]
pub(crate) mod testdata {
    //! Paths to the test vectors copied into `testdata/` (origins in testdata/SOURCES.md).
    use std::path::PathBuf;
    pub fn path(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata").join(rel)
    }
    pub fn read(rel: &str) -> String {
        std::fs::read_to_string(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}
