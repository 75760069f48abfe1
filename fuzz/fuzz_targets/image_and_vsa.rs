//! What issue 14 parses from untrusted bytes: image configurations (`ImageConfig::parse`),
//! the base images a provenance lists (`image_rules::BuiltFrom::from_statement`), and SLSA
//! verification summaries (`vsa::check_spec`, `vsa::check_statement`, and a DSSE envelope
//! around the input through `vsa::verify_envelope` with a fixed key).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use signet_core::image_config::ImageConfig;
use signet_core::keys::{PrivateKey, PublicKey};
use signet_policy::image_rules::BuiltFrom;
use signet_policy::vsa;

static KEY: LazyLock<PublicKey> = LazyLock::new(|| {
    PrivateKey::generate_p256()
        .and_then(|k| k.public_key())
        .unwrap_or_else(|e| panic!("{e}"))
});

fuzz_target!(|data: &[u8]| {
    if let Ok(config) = ImageConfig::parse(data) {
        // An accepted configuration's Debug never shows an Env value.
        let debug = format!("{config:?}");
        for (name, value) in config.env() {
            if value.len() > 8 && !name.contains(value) && !value.contains("redacted") {
                assert!(!debug.contains(&format!("{name}={value}")), "{debug}");
            }
        }
    }
    if let Ok(built) = BuiltFrom::from_statement(data) {
        for image in built.images() {
            assert!(image.purl().to_ascii_lowercase().starts_with("pkg:docker/"));
        }
    }
    let _ = vsa::check_spec(data);
    let expect = vsa::VsaExpectations::new("https://v.example", vec!["sha256:ab".to_owned()])
        .with_resource_uri("docker://r.example/app@sha256:ab")
        .with_verified_levels(vec!["SLSA_BUILD_LEVEL_1".to_owned(), "X".to_owned()]);
    let _ = vsa::check_statement(data, &expect);
    // An arbitrary envelope is never verified by a key that signed nothing.
    assert!(vsa::verify_envelope(data, &KEY, None, &expect).is_err());
});
