//! `attest --type NAME --predicate FILE`: `PredicateType::from_name` and `shape_predicate`,
//! then `build_statement`. Input: the type name, a newline, the predicate file. Whatever
//! `attest` accepts must make a statement that `verify-attestation` reads back, with the same
//! predicate type and a matching subject. Also `rfc3339` on any time (the first 8 bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::digest::Digest;
use signet_core::intoto::{PredicateType, Statement, SubjectMatch, build_statement, rfc3339};

const NOW: i64 = 1_750_000_000;

fuzz_target!(|data: &[u8]| {
    if let Some(first) = data.first_chunk::<8>() {
        let time = rfc3339(i64::from_le_bytes(*first));
        assert!(time.ends_with('Z') && time.len() >= 20, "{time}");
    }
    let Some(newline) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let (name, file) = (&data[..newline], &data[newline + 1..]);
    let Ok(name) = std::str::from_utf8(name) else {
        return;
    };
    let Ok(predicate_type) = PredicateType::from_name(name) else {
        return;
    };
    let Ok(predicate) = predicate_type.shape_predicate(file.to_vec(), NOW) else {
        return;
    };
    let digest = Digest::sha256_of(file);
    let statement = build_statement(name, digest.hex(), predicate_type.uri(), &predicate);
    let parsed = Statement::parse(&statement).unwrap_or_else(|e| {
        panic!("--type {name:?}: the statement signet built does not parse: {e}")
    });
    assert_eq!(parsed.predicate_type, predicate_type.uri());
    assert_eq!(parsed.match_sha256(digest.hex()), SubjectMatch::Matches);
    assert!(parsed.predicate.is_some());
});
