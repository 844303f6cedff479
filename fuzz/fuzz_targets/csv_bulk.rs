//! The bulk award's learners CSV (`issuer/src/bulk.rs`, compiled here with the learner
//! checks it uses): any bytes give rows or a list of problems, never a panic; every row
//! that passed is a learner whose checks pass again unchanged, and its line number is
//! past the header.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../issuer/src/clock.rs"]
mod clock;
#[path = "../../issuer/src/learner.rs"]
mod learner;
#[path = "../../issuer/src/bulk.rs"]
mod bulk;

fuzz_target!(|data: &[u8]| {
    match bulk::parse(data) {
        Ok(rows) => {
            for (line, row) in rows {
                assert!(line >= 2, "a row on line {line}");
                if let Ok(learner) = row {
                    assert_eq!(learner.normalized().as_ref(), Ok(&learner), "checks are not idempotent");
                }
            }
        }
        Err(problems) => assert!(!problems.is_empty(), "refused without a reason"),
    }
});
