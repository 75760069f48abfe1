//! Content digests (`sha256:<hex>`, `sha384:`, `sha512:`) from strings and from JSON (as they
//! arrive in manifests and payloads). A digest that parses prints as exactly its input.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use signet_core::digest::Digest;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(digest) = Digest::from_str(text)
    {
        assert_eq!(digest.to_string(), text);
        assert_eq!(digest.bytes().len() * 2, digest.hex().len());
        let json = serde_json::to_string(&digest).expect("a digest serialises");
        let back: Digest = serde_json::from_str(&json).expect("a serialised digest reads back");
        assert_eq!(back, digest);
    }
    // The serde path (manifests, descriptors): a JSON string, escapes and all.
    if let Ok(digest) = serde_json::from_slice::<Digest>(data) {
        assert_eq!(Digest::from_str(&digest.to_string()).ok(), Some(digest));
    }
});
