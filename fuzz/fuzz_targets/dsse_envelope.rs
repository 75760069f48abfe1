//! DSSE envelopes (attestation layers, `verify-blob-attestation` files): `Envelope::parse`,
//! then `to_json` and parse again, which must give the same envelope and the same bytes; and
//! the incremental PAE hash equals the hash of the whole PAE.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::dsse::{Envelope, pae, pae_digest};

fuzz_target!(|data: &[u8]| {
    let Ok(envelope) = Envelope::parse(data) else {
        return;
    };
    let json = envelope.to_json();
    let again = Envelope::parse(&json).unwrap_or_else(|e| {
        panic!(
            "the envelope signet wrote does not parse: {e}: {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(again, envelope);
    assert_eq!(again.to_json(), json);

    let whole = pae(&envelope.payload_type, &envelope.payload);
    let incremental = pae_digest(
        DigestAlgorithm::Sha256,
        &envelope.payload_type,
        &envelope.payload,
    );
    assert_eq!(
        incremental.as_bytes(),
        MessageDigest::of(DigestAlgorithm::Sha256, &whole).as_bytes()
    );
});
