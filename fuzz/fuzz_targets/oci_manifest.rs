//! OCI image manifests and indexes (signature manifests read before appending, layout
//! `index.json`): `ImageManifest::parse` and `ImageIndex::parse`. signet rewrites manifests
//! it appends to, so one that parses must serialise and parse back unchanged, unknown
//! fields included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::manifest::{ImageIndex, ImageManifest};

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = ImageManifest::parse(data) {
        let bytes = manifest.to_bytes();
        let again = ImageManifest::parse(&bytes).unwrap_or_else(|e| {
            panic!(
                "the manifest signet wrote does not parse: {e}: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(again, manifest);
    }
    if let Ok(index) = ImageIndex::parse(data) {
        let bytes = serde_json::to_vec(&index).expect("an index serialises");
        let again = ImageIndex::parse(&bytes).unwrap_or_else(|e| {
            panic!(
                "the index signet wrote does not parse: {e}: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(again, index);
    }
});
