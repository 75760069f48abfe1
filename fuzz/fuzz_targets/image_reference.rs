//! Image references (`ImageReference`, `RegistryReference`, `Repository`) from any string,
//! and their `Display` round trip: what signet prints for a reference it accepted (in logs,
//! payloads and `verify` output) must parse back to the same image.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use signet_core::digest::Digest;
use signet_core::reference::{ImageReference, RegistryReference, Repository};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(image) = ImageReference::from_str(text) {
        let shown = image.to_string();
        let again = ImageReference::from_str(&shown).unwrap_or_else(|e| {
            panic!("{text:?} is printed as {shown:?}, which does not parse: {e}")
        });
        assert_eq!(again.to_string(), shown);
        assert_eq!(again.repository_name(), image.repository_name());
        assert_eq!(again.digest(), image.digest());

        // What `sign` and `verify` do after resolving a tag: pin, print, parse.
        let pinned = image.pinned(Digest::sha256_of(data));
        let shown = pinned.to_string();
        let again = ImageReference::from_str(&shown).unwrap_or_else(|e| {
            panic!("{text:?} pinned is printed as {shown:?}, which does not parse: {e}")
        });
        assert_eq!(again, pinned);
    }

    if let Ok(reference) = RegistryReference::from_str(text) {
        let shown = reference.to_string();
        let again = RegistryReference::from_str(&shown).unwrap_or_else(|e| {
            panic!("{text:?} is printed as {shown:?}, which does not parse: {e}")
        });
        assert_eq!(again.repository(), reference.repository());
        assert_eq!(again.digest(), reference.digest());
        assert_eq!(again.to_string(), shown);
        let _ = reference.manifest_reference();
        let _ = reference.repository().is_loopback();
        // Cosign's tag scheme: `sha256-<hex>.sig` must be a valid tag in the same repository.
        if let Some(digest) = reference.digest() {
            let tag = format!("{}-{}.sig", digest.algorithm().name(), digest.hex());
            RegistryReference::with_tag(reference.repository().clone(), &tag)
                .unwrap_or_else(|e| panic!("signature tag {tag:?} refused: {e}"));
        }
    }

    if let Ok(repository) = Repository::from_str(text) {
        let shown = repository.to_string();
        let again = Repository::from_str(&shown).unwrap_or_else(|e| {
            panic!("{text:?} is printed as {shown:?}, which does not parse: {e}")
        });
        assert_eq!(again, repository);
        assert_eq!(repository.name(), shown);
    }
});
