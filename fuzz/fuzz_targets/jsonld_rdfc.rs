//! JSON-LD expansion to RDF (the pinned contexts, no network) and RDFC-1.0
//! canonicalization under its work limits; and the N-Quads reader feeding RDFC directly.
//! The first byte picks JSON-LD (even) or N-Quads (odd) and the context policy.
#![no_main]

use bem_core::contexts::{self, ContextPolicy};
use bem_core::json::{self, JsonLimits};
use bem_core::{rdf, rdfc};
use libfuzzer_sys::fuzz_target;

#[path = "common/known_panic.rs"]
mod known_panic;
use known_panic::allow_the_known_json_ld_panic;

fuzz_target!(|data: &[u8]| {
    allow_the_known_json_ld_panic();
    let Some((&mode, body)) = data.split_first() else { return };
    let limits = rdfc::Limits::default();
    if mode & 1 == 0 {
        let Ok(document) = json::parse(body, &JsonLimits::default()) else { return };
        let policy = if mode & 2 == 2 { ContextPolicy::CONFORMANCE } else { ContextPolicy::STRICT };
        let _ = contexts::check_terms(&document, policy);
        if let Ok(quads) = contexts::to_rdf(&document, policy) {
            let _ = rdfc::canonicalize(&quads, &limits);
        }
    } else if let Ok(text) = std::str::from_utf8(body) {
        if let Ok(quads) = rdf::parse_nquads(text) {
            if let Ok(canonical) = rdfc::canonicalize(&quads, &limits) {
                // Canonical output read back is already canonical.
                let again = rdf::parse_nquads(&canonical).expect("canonical N-Quads parse");
                let twice = rdfc::canonicalize(&again, &limits).expect("canonical input canonicalizes");
                assert_eq!(canonical, twice, "RDFC-1.0 is not idempotent");
            }
        }
    }
});

