//! containers/image `policy.json`: `ContainersPolicy::parse` (strict JSON, scopes, requirement
//! types, key data, `signedIdentity` rules; key files named by path are read relative to the
//! current directory, as containers/image reads them), then `evaluate` for a few images. The
//! registries.d directory is empty, so no image's signatures are read (no network): scope
//! selection and the judgement run on every policy that parses. Every image gets a verdict.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use signet_core::reference::ImageReference;
use signet_oci::{ClientOptions, OciClient};
use signet_policy::containers::ContainersPolicy;

struct Setup {
    registries_d: PathBuf,
    images: Vec<ImageReference>,
    client: OciClient,
    runtime: tokio::runtime::Runtime,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let registries_d =
        std::env::temp_dir().join(format!("signet-fuzz-registries.d-{}", std::process::id()));
    std::fs::create_dir_all(&registries_d).unwrap_or_else(|e| panic!("{e}"));
    let d = "sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec";
    let images = [
        "quay.io/app:v1".to_owned(),
        format!("registry.example.com:5000/team/app@{d}"),
        "ubuntu".to_owned(),
        "a.b.example.com/x/y/z:latest".to_owned(),
        format!("oci:{}:latest", registries_d.display()),
    ]
    .iter()
    .map(|r| r.parse().unwrap_or_else(|e| panic!("{r}: {e}")))
    .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    Setup {
        registries_d,
        images,
        client: OciClient::new(ClientOptions::default()),
        runtime,
    }
});

fuzz_target!(|data: &[u8]| {
    let setup = &*SETUP;
    let Ok(policy) = ContainersPolicy::parse(data, Some(&setup.registries_d)) else {
        return;
    };
    let verdicts = setup
        .runtime
        .block_on(policy.evaluate(&setup.client, &setup.images));
    assert_eq!(verdicts.len(), setup.images.len());
});
