//! Kubernetes manifests for `signet verify -f`: multi-document YAML or JSON, List kinds.
//! Properties: no panic, no hang (serde-saphyr's budget bounds aliases and nesting); every
//! object returned has at least one image, and each image site's path names a list and index.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_admission::manifests::read_manifests;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(manifests) = read_manifests("fuzz", text) else {
        return;
    };
    for manifest in &manifests {
        assert!(!manifest.sites().is_empty());
        for site in manifest.sites() {
            assert!(site.path().ends_with(".image") || site.path().ends_with(".image.reference"));
            assert!(site.pointer().starts_with('/'));
        }
    }
});
