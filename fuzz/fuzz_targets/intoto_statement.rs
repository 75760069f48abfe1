//! in-toto statements (v0.1 and v1): `Statement::parse` and `match_sha256`, on a bare statement
//! and on the payload of a DSSE envelope (how attestations arrive). A subject's own sha256
//! always matches.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::dsse::Envelope;
use signet_core::intoto::{Statement, SubjectMatch};

const SOME_DIGEST: &str = "658781cd4ed9bca60dacd09f7bb914bb51502e8b5d619f57f39a1d652596cc24";

fn check(bytes: &[u8]) {
    let Ok(statement) = Statement::parse(bytes) else {
        return;
    };
    let _ = statement.match_sha256(SOME_DIGEST);
    let _ = statement.match_sha256("");
    for subject in statement.subject.iter().flatten() {
        if let Some(hex) = subject.digest.get("sha256") {
            let found = statement.match_sha256(hex);
            assert!(
                matches!(found, SubjectMatch::Matches | SubjectMatch::NullSubject),
                "subject sha256 {hex:?} gives {found:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Ok(envelope) = Envelope::parse(data) {
        check(&envelope.payload);
    }
});
