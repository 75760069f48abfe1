//! Fixtures and checks shared by the Sigstore targets (`sigstore_bundle`, `trusted_root`,
//! `checkpoint`, `cosign_legacy_annotations`).
//!
//! The fixtures (`fuzz/fixtures/`, copied from sigstore-conformance's assets in
//! `shared/testdata/conformance`) are real: the production trusted root, the artifact `a.txt`
//! the conformance bundles sign, bundles that verify against that root, and the managed key of
//! the conformance case `managed-key-happy-path`.

use std::sync::LazyLock;

use signet_core::digest::Digest;
use signet_core::keys::PublicKey;
use signet_verify::bundle::{
    BundleLimits, BundlePolicy, BundleVerifier, CertificateIdentity, ClaimMatcher, VerifiedBundle,
};

/// Sigstore's production `trusted_root.json`.
pub const PRODUCTION_ROOT: &[u8] = include_bytes!("../fixtures/trusted_root.production.json");
/// The staging-based root of the conformance case `rekor2-happy-path` (a Rekor v2 log).
pub const REKOR2_ROOT: &[u8] = include_bytes!("../fixtures/trusted_root.rekor2-happy-path.json");
/// The artifact every fixture bundle signs.
pub const ARTIFACT: &[u8] = include_bytes!("../fixtures/a.txt");
/// A bundle v0.1 (certificate, Rekor v1 entry with SET and inclusion proof) over [`ARTIFACT`].
pub const BUNDLE_V0_1: &[u8] = include_bytes!("../fixtures/happy-path-v0.1.sigstore.json");
/// A bundle v0.3 with a Rekor v1 checkpoint over [`ARTIFACT`], against [`PRODUCTION_ROOT`].
pub const BUNDLE_V0_3: &[u8] = include_bytes!("../fixtures/happy-path-v0.3.sigstore.json");
/// A bundle v0.3 with a Rekor v2 entry and checkpoint over [`ARTIFACT`], against
/// [`REKOR2_ROOT`].
pub const BUNDLE_REKOR2: &[u8] = include_bytes!("../fixtures/rekor2-happy-path.sigstore.json");
/// The key of `managed-key-happy-path`, whose bundle verifies against [`PRODUCTION_ROOT`].
pub const MANAGED_KEY: &[u8] = include_bytes!("../fixtures/managed-key.pub");

/// The certificate identity of the conformance bundles.
pub const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
/// Their OIDC issuer.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// A verifier for a fixture root (a fixture that does not load is a broken fuzz setup).
pub fn verifier(root: &[u8]) -> BundleVerifier {
    BundleVerifier::new(root, BundleLimits::default())
        .unwrap_or_else(|e| panic!("fixture trusted root: {e}"))
}

/// The verifier for [`PRODUCTION_ROOT`], built once.
pub static PRODUCTION: LazyLock<BundleVerifier> = LazyLock::new(|| verifier(PRODUCTION_ROOT));

/// `sha256:` of [`ARTIFACT`].
pub static ARTIFACT_DIGEST: LazyLock<Digest> = LazyLock::new(|| Digest::sha256_of(ARTIFACT));

/// The exact identity and issuer of the conformance bundles.
pub fn identity_policy() -> BundlePolicy {
    BundlePolicy::identity(IDENTITY, ISSUER)
}

/// The three kinds of policy: exact identity, any identity by regex (the GitHub claims path),
/// and the managed key.
pub static POLICIES: LazyLock<Vec<BundlePolicy>> = LazyLock::new(|| {
    let any = |what| ClaimMatcher::regex(".*").unwrap_or_else(|e| panic!("{what}: {e}"));
    let key = PublicKey::parse(MANAGED_KEY).unwrap_or_else(|e| panic!("managed key: {e}"));
    vec![
        identity_policy(),
        BundlePolicy::Certificate(CertificateIdentity::new(any("identity"), any("issuer"))),
        BundlePolicy::Key(key),
    ]
});

/// What every bundle that passed under `policy` must show: a certificate identity and issuer
/// (the ones required, for an exact policy) when a certificate was required, none when a key
/// was.
pub fn check_passed(verified: &VerifiedBundle, policy: &BundlePolicy) {
    match policy {
        BundlePolicy::Identity { identity, issuer } => {
            assert_eq!(verified.identity(), Some(identity.as_str()));
            assert_eq!(verified.issuer(), Some(issuer.as_str()));
        }
        BundlePolicy::Key(_) => {
            assert_eq!(
                verified.identity(),
                None,
                "a key-signed bundle has no identity"
            );
            assert_eq!(verified.issuer(), None, "a key-signed bundle has no issuer");
        }
        _ => {
            assert!(
                verified.identity().is_some(),
                "a certificate without identity passed"
            );
            assert!(
                verified.issuer().is_some(),
                "a certificate without issuer passed"
            );
        }
    }
}
