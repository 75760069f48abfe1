//! End-to-end tests: the `signet` binary against a real docker-registry, skopeo 1.18
//! (containers/image) and openssl, and on OCI layouts. See `util` for the harness.

#[path = "util/mod.rs"]
mod util;

#[path = "e2e/admission.rs"]
mod admission;
#[path = "e2e/attest.rs"]
mod attest;
#[path = "e2e/auth.rs"]
mod auth;
#[path = "e2e/blobs.rs"]
mod blobs;
#[path = "e2e/bundles_oci.rs"]
mod bundles_oci;
#[path = "e2e/cli_install.rs"]
mod cli_install;
#[path = "e2e/common.rs"]
mod common;
#[path = "e2e/concurrency.rs"]
mod concurrency;
#[path = "e2e/conformance.rs"]
mod conformance;
#[path = "e2e/faults.rs"]
mod faults;
#[path = "e2e/image_rules.rs"]
mod image_rules;
#[path = "e2e/key_services.rs"]
mod key_services;
#[path = "e2e/keyless.rs"]
mod keyless;
#[path = "e2e/keyless_images.rs"]
mod keyless_images;
#[path = "e2e/keys.rs"]
mod keys;
#[path = "e2e/layout.rs"]
mod layout;
#[path = "e2e/notation.rs"]
mod notation;
#[path = "e2e/platforms.rs"]
mod platforms;
#[path = "e2e/policy.rs"]
mod policy;
#[path = "e2e/policy_json.rs"]
mod policy_json;
#[path = "e2e/realworld.rs"]
mod realworld;
#[path = "e2e/registry.rs"]
mod registry;
#[path = "e2e/release.rs"]
mod release;
#[path = "e2e/release_files.rs"]
mod release_files;
#[path = "e2e/skopeo.rs"]
mod skopeo;
#[path = "e2e/snapshots.rs"]
mod snapshots;
#[path = "e2e/transport.rs"]
mod transport;
#[path = "e2e/tuf.rs"]
mod tuf;
#[path = "e2e/usage.rs"]
mod usage;
#[path = "e2e/vsa.rs"]
mod vsa;
