//! Cosign's simple-signing payload: `SimpleSigning::parse` on what a signature layer holds.
//! When the payload names a valid digest, the payload signet itself would write for the same
//! claims parses back to them (identity, digest, string annotations), byte for byte stable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::digest::Digest;
use signet_core::payload::{COSIGN_SIGNATURE_TYPE, SimpleSigning, simple_signing_payload};

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = SimpleSigning::parse(data) else {
        return;
    };
    let annotations = payload.string_annotations();
    let Ok(digest) = payload
        .critical
        .image
        .docker_manifest_digest
        .parse::<Digest>()
    else {
        return;
    };
    let reference = &payload.critical.identity.docker_reference;
    let written = simple_signing_payload(reference, &digest, &annotations);
    let back = SimpleSigning::parse(&written).expect("the payload signet writes parses");
    assert_eq!(back.critical.identity, payload.critical.identity);
    assert_eq!(
        back.critical.image.docker_manifest_digest,
        digest.to_string()
    );
    assert_eq!(back.critical.kind, COSIGN_SIGNATURE_TYPE);
    assert_eq!(back.string_annotations(), annotations);
    assert_eq!(
        simple_signing_payload(
            &back.critical.identity.docker_reference,
            &digest,
            &back.string_annotations()
        ),
        written
    );
});
