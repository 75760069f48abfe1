//! Checkpoints (signed notes) inside bundles' inclusion proofs: two real bundles that verify,
//! one on a Rekor v1 log (production root) and one on a Rekor v2 log (its conformance root),
//! with `inclusionProof.checkpoint.envelope` replaced by the input, then verified. A
//! checkpoint that passes commits to the proof's tree size and root hash (its second and
//! third lines).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use signet_fuzz::sigstore::{
    ARTIFACT, BUNDLE_REKOR2, BUNDLE_V0_3, PRODUCTION_ROOT, REKOR2_ROOT, check_passed,
    identity_policy, verifier,
};
use signet_verify::bundle::{Artifact, BundleVerifier};

struct Case {
    verifier: BundleVerifier,
    bundle: Value,
    tree_size: String,
    root_hash: String,
}

fn case(root: &[u8], bundle: &[u8]) -> Case {
    let verifier = verifier(root);
    let policy = identity_policy();
    if let Err(e) = verifier.verify(bundle, Artifact::Bytes(ARTIFACT), &policy) {
        panic!("the fixture bundle does not verify: {e}");
    }
    let bundle: Value = serde_json::from_slice(bundle).unwrap_or_else(|e| panic!("{e}"));
    let proof = &bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"];
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{v}"))
    };
    Case {
        tree_size: text(&proof["treeSize"]),
        root_hash: text(&proof["rootHash"]),
        verifier,
        bundle,
    }
}

static CASES: LazyLock<[Case; 2]> = LazyLock::new(|| {
    [
        case(PRODUCTION_ROOT, BUNDLE_V0_3),
        case(REKOR2_ROOT, BUNDLE_REKOR2),
    ]
});

fuzz_target!(|data: &[u8]| {
    let envelope = String::from_utf8_lossy(data);
    let policy = identity_policy();
    for case in CASES.iter() {
        let mut bundle = case.bundle.clone();
        bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
            Value::String(envelope.clone().into_owned());
        let Ok(bytes) = serde_json::to_vec(&bundle) else {
            return;
        };
        if let Ok(verified) = case
            .verifier
            .verify(&bytes, Artifact::Bytes(ARTIFACT), &policy)
        {
            check_passed(&verified, &policy);
            let mut lines = envelope.lines().skip(1);
            assert_eq!(lines.next(), Some(case.tree_size.as_str()), "tree size");
            assert_eq!(lines.next(), Some(case.root_hash.as_str()), "root hash");
        }
    }
});
