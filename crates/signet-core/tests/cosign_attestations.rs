//! Cosign's DSSE vectors (`../shared/testdata/cosign/extracted`), with the outcomes its README
//! states: signatures over the PAE, subject matching, predicate types, legacy string predicates.

// Tests read the vectors from disk; the no-I/O rule is for the library.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;

use signet_core::digest::{Digest, DigestAlgorithm};
use signet_core::dsse::{Envelope, EnvelopeError, IN_TOTO_PAYLOAD_TYPE, pae};
use signet_core::intoto::{SLSA_PROVENANCE_V02, SPDX, Statement, SubjectMatch};
use signet_core::keys::PublicKey;

fn vector(rel: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/cosign/extracted")
        .join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const BLOB_DIR: &str = "cmd/cosign/cli/verify/verify_blob_attestation_test";

fn blob_vector(name: &str) -> Envelope {
    Envelope::parse(&vector(&format!("{BLOB_DIR}/{name}")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Digest::sha256_of(bytes).hex().to_owned()
}

#[test]
fn blob_attestation_signatures_verify_over_the_pae() {
    let key = PublicKey::parse(&vector(&format!("{BLOB_DIR}/pubkey.pem")))
        .unwrap_or_else(|e| panic!("{e}"));
    for name in [
        "blobSLSAProvenanceSignature.dsse.json",
        "dssePredicateEmptySubject.dsse.json",
        "dssePredicateMissingSha256.dsse.json",
        "dssePredicateMultipleSubjects.dsse.json",
        "dssePredicateMultipleSubjectsInvalid.dsse.json",
    ] {
        let envelope = blob_vector(name);
        assert_eq!(envelope.payload_type, IN_TOTO_PAYLOAD_TYPE);
        let message = pae(&envelope.payload_type, &envelope.payload);
        key.verify(
            &message,
            &envelope.signatures[0].sig,
            DigestAlgorithm::Sha256,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The signature is over the PAE, not the payload alone.
        assert!(
            key.verify(
                &envelope.payload,
                &envelope.signatures[0].sig,
                DigestAlgorithm::Sha256
            )
            .is_err()
        );
    }
}

#[test]
fn blob_attestation_subjects_give_cosigns_outcomes() {
    let some_payload = sha256_hex(&vector(&format!("{BLOB_DIR}/blob-some-payload.txt")));
    let another_blob = sha256_hex(&vector(&format!("{BLOB_DIR}/blob-another-blob.txt")));
    assert_eq!(
        some_payload,
        "658781cd4ed9bca60dacd09f7bb914bb51502e8b5d619f57f39a1d652596cc24"
    );
    let cases = [
        (
            "blobSLSAProvenanceSignature.dsse.json",
            &some_payload,
            SubjectMatch::Matches,
        ),
        (
            "blobSLSAProvenanceSignature.dsse.json",
            &another_blob,
            SubjectMatch::NoneMatch,
        ),
        (
            "dssePredicateEmptySubject.dsse.json",
            &some_payload,
            SubjectMatch::Empty,
        ),
        (
            "dssePredicateMissingSha256.dsse.json",
            &some_payload,
            SubjectMatch::NoSha256,
        ),
        (
            "dssePredicateMultipleSubjects.dsse.json",
            &some_payload,
            SubjectMatch::Matches,
        ),
        (
            "dssePredicateMultipleSubjectsInvalid.dsse.json",
            &some_payload,
            SubjectMatch::NoneMatch,
        ),
    ];
    for (name, digest, expected) in cases {
        let envelope = blob_vector(name);
        let statement =
            Statement::parse(&envelope.payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(statement.predicate_type, SLSA_PROVENANCE_V02, "{name}");
        assert_eq!(statement.match_sha256(digest), expected, "{name}");
    }
}

#[test]
fn claim_vectors_give_cosigns_outcomes() {
    let digests: serde_json::Value =
        serde_json::from_slice(&vector("pkg/cosign/verifiers_test/digests.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    let hex = |key: &str| {
        digests[key]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("sha256:")
            .to_owned()
    };
    let load = |name: &str| Envelope::parse(&vector(&format!("pkg/cosign/verifiers_test/{name}")));

    let valid = load("validIntotoStatement.dsse.json").unwrap_or_else(|e| panic!("{e}"));
    let statement = Statement::parse(&valid.payload).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        statement.match_sha256(&hex("validDigest")),
        SubjectMatch::Matches
    );
    assert_eq!(
        statement.match_sha256(&hex("invalidDigest")),
        SubjectMatch::NoneMatch
    );
    // Its predicate type lacks the scheme: `--type custom` must not match it.
    assert_eq!(
        statement.predicate_type,
        "cosign.sigstore.dev/attestation/v1"
    );

    let missing =
        load("validIntotoStatementMissingSubject.dsse.json").unwrap_or_else(|e| panic!("{e}"));
    let statement = Statement::parse(&missing.payload).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        statement.match_sha256(&hex("validDigest")),
        SubjectMatch::NoSha256
    );

    let string_predicate =
        load("validIntotoStatementStringPredicate.dsse.json").unwrap_or_else(|e| panic!("{e}"));
    let statement = Statement::parse(&string_predicate.payload).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(statement.predicate_type, SPDX);
    assert!(
        statement
            .predicate
            .is_some_and(|p| p.get().starts_with('"'))
    );
    assert_eq!(
        statement.match_sha256(&hex("validDigestStringPredicate")),
        SubjectMatch::Matches
    );

    let null = load("intotoStatementNullSubject.dsse.json").unwrap_or_else(|e| panic!("{e}"));
    let statement = Statement::parse(&null.payload).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        statement.match_sha256(&hex("validDigest")),
        SubjectMatch::NullSubject
    );

    assert_eq!(
        load("invalidIntotoStatementBadEncoding.dsse.json").err(),
        Some(EnvelopeError::PayloadEncoding)
    );
}
