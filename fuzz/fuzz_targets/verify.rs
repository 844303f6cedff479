//! The whole verification pipeline on arbitrary bytes: credentials, presentations and
//! VC-JOSE compact JWS, under both context policies. The first byte picks the mode.
//! Any panic, hang or out-of-memory is a finding; every input must give a report.
#![no_main]

use bem_core::contexts::ContextPolicy;
use bem_core::datetime::parse_datetime_stamp;
use bem_core::resolver::Offline;
use bem_core::trust::TrustList;
use bem_core::verify::{self, VerifyOptions};
use libfuzzer_sys::fuzz_target;

#[path = "common/known_panic.rs"]
mod known_panic;
use known_panic::allow_the_known_json_ld_panic;

fuzz_target!(|data: &[u8]| {
    allow_the_known_json_ld_panic();
    let Some((&mode, body)) = data.split_first() else { return };
    let trust = TrustList::default();
    let Ok(now) = parse_datetime_stamp("2026-06-01T00:00:00Z") else { return };
    let mut options = VerifyOptions::new(now, &trust, &Offline);
    if mode & 1 == 1 {
        options.policy = ContextPolicy::CONFORMANCE;
    }
    if mode & 2 == 2 {
        options.challenge = Some("challenge-from-the-verifier");
        options.domain = Some("employer.example");
        let _ = verify::verify_presentation_bytes(body, &options);
    } else {
        let _ = verify::verify_credential_bytes(body, &options);
    }
    if mode & 4 == 4 {
        if let Ok(text) = std::str::from_utf8(body) {
            let _ = verify::verify_jwt_credential(text.trim(), &options);
        }
    }
});

