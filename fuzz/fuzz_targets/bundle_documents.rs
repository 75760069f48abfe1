//! Files of bundles as they are published: `bundle::read_document` (a bundle, JSON Lines, npm's
//! and GitHub's attestation listings, PEP 740 attestations and PyPI provenance) on arbitrary
//! bytes. Every bundle it returns is a JSON object (a PEP 740 attestation rebuilt as one), and
//! no more bundles than the limit allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_verify::bundle::{BundleLimits, read_document};

fuzz_target!(|data: &[u8]| {
    let limits = BundleLimits::default();
    if let Ok(bundles) = read_document(data, &limits) {
        assert!(!bundles.is_empty() && bundles.len() <= limits.max_document_bundles);
        for bundle in &bundles {
            let value: serde_json::Value =
                serde_json::from_slice(bundle.json()).expect("a bundle read is JSON");
            assert!(value.is_object(), "{}: not an object", bundle.label());
        }
    }
});
