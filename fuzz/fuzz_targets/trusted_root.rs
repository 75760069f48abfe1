//! Sigstore trusted roots: `BundleVerifier::new` on arbitrary bytes (media type, Fulcio CAs,
//! Rekor and CT log keys, timestamp authorities, validity windows). A root that loads is then
//! used: the conformance bundle v0.3 is verified with it, and if it passes, it passes with the
//! identity required.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_fuzz::sigstore::{ARTIFACT, BUNDLE_V0_3, check_passed, identity_policy};
use signet_verify::bundle::{Artifact, BundleLimits, BundleVerifier};

fuzz_target!(|data: &[u8]| {
    let Ok(verifier) = BundleVerifier::new(data, BundleLimits::default()) else {
        return;
    };
    let policy = identity_policy();
    if let Ok(verified) = verifier.verify(BUNDLE_V0_3, Artifact::Bytes(ARTIFACT), &policy) {
        check_passed(&verified, &policy);
    }
});
