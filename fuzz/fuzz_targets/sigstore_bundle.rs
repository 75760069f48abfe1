//! Sigstore bundles: `BundleVerifier::verify` on arbitrary bytes against the production trusted
//! root (loaded once), for the conformance artifact given as bytes and as a digest, under an
//! exact identity, any identity (the GitHub-claims path) and a key. Whatever passes has the
//! identity required, or none when a key was required.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_fuzz::sigstore::{ARTIFACT, ARTIFACT_DIGEST, POLICIES, PRODUCTION, check_passed};
use signet_verify::bundle::Artifact;

fuzz_target!(|data: &[u8]| {
    for policy in POLICIES.iter() {
        if let Ok(verified) = PRODUCTION.verify(data, Artifact::Bytes(ARTIFACT), policy) {
            check_passed(&verified, policy);
        }
        if let Ok(verified) = PRODUCTION.verify(data, Artifact::Digest(&ARTIFACT_DIGEST), policy) {
            check_passed(&verified, policy);
        }
    }
});
