//! Interoperability with containers/image (skopeo 1.18 with sigstore support): each side
//! accepts the other's signatures, and rejects them under the wrong key.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::{PASSWORD, cosign_testdata, stderr};
use crate::util::{Setup, Skopeo, accept_anything_policy, sigstore_policy};

/// containers/image's refusal of a signature that does not verify under the policy's key.
const SKOPEO_WRONG_KEY: &str =
    "Source image rejected: cryptographic signature verification failed: invalid signature";
/// containers/image's refusal of an image without signatures.
const SKOPEO_UNSIGNED: &str =
    "Source image rejected: A signature was required, but no signature exists";

/// Cosign's payloads name the repository without a tag, which containers/image's default
/// `matchRepoDigestOrExact` refuses by design; `matchRepository` is what podman's docs give for
/// Cosign signatures (see docs/compatibility.md).
fn digest_policy(scope: &str, key: &Path) -> serde_json::Value {
    sigstore_policy(scope, &[key], json!({"type": "matchRepository"}))
}

/// skopeo copies `image` (by digest) out of the registry under a policy requiring `key`.
pub(crate) fn skopeo_accepts(
    skopeo: &Skopeo,
    host: &str,
    image: &str,
    key: &Path,
) -> std::process::Output {
    skopeo.set_policy(&digest_policy(host, key));
    let dest = format!(
        "dir:{}",
        skopeo
            .dir()
            .join(format!("out-{}", rand_suffix()))
            .display()
    );
    skopeo.copy(&[&format!("docker://{image}"), &dest])
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

/// skopeo signs `image` (by digest) with a Cosign-format private key, appending to the
/// signature manifest in the registry.
fn skopeo_signs(skopeo: &Skopeo, image: &str, tag_ref: &str, key: &Path, password: &str) {
    skopeo.set_policy(&accept_anything_policy());
    let pass_file = skopeo.dir().join("passphrase");
    std::fs::write(&pass_file, password).unwrap_or_else(|e| panic!("{e}"));
    let out = skopeo.copy(&[
        "--sign-by-sigstore-private-key",
        key.to_str().expect("a UTF-8 key path"),
        "--sign-passphrase-file",
        pass_file.to_str().expect("a UTF-8 passphrase path"),
        &format!("docker://{image}"),
        &format!("docker://{tag_ref}"),
    ]);
    assert!(
        out.status.success(),
        "skopeo failed to sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shared fixture and a skopeo whose registries.d points at its registry.
fn setup() -> (Setup, Skopeo) {
    let t = Setup::new();
    let skopeo = Skopeo::new(&t.registry.host(), accept_anything_policy());
    (t, skopeo)
}

#[test]
fn skopeo_accepts_signets_signatures_and_rejects_the_wrong_key() {
    let (t, skopeo) = setup();
    let image = t.image("app", "v1").0;
    let (key, public) = t.s.key_pair("signer");
    let (_, stranger) = t.s.key_pair("stranger");
    t.s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_success();
    let out = skopeo_accepts(&skopeo, &t.registry.host(), &image, &public);
    assert!(
        out.status.success(),
        "skopeo rejected signet's signature: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = skopeo_accepts(&skopeo, &t.registry.host(), &image, &stranger);
    let err = stderr(&out);
    assert!(
        !out.status.success() && err.contains(SKOPEO_WRONG_KEY),
        "skopeo must refuse a signature under the wrong key with {SKOPEO_WRONG_KEY:?}: {err}"
    );
}

#[test]
fn skopeo_rejects_an_unsigned_image_under_the_same_policy() {
    let (t, skopeo) = setup();
    let image = t.image("app", "v1").0;
    let (_, public) = t.s.key_pair("signer");
    let out = skopeo_accepts(&skopeo, &t.registry.host(), &image, &public);
    let err = stderr(&out);
    assert!(
        !out.status.success() && err.contains(SKOPEO_UNSIGNED),
        "skopeo must refuse an unsigned image with {SKOPEO_UNSIGNED:?} (else the policy test \
         proves nothing): {err}"
    );
}

#[test]
fn signet_verifies_skopeo_signatures_made_with_a_signet_key() {
    let (t, skopeo) = setup();
    let image = t.image("app", "v1").0;
    let (key, public) = t.s.key_pair("signer");
    let (_, stranger) = t.s.key_pair("stranger");
    skopeo_signs(
        &skopeo,
        &image,
        &format!("{}/app:signed", t.registry.host()),
        &key,
        PASSWORD,
    );
    t.verify(&public, &image, 0);
    let out = t.verify(&stranger, &image, 1);
    assert!(
        stderr(&out).contains("invalid signature"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn signet_verifies_skopeo_signatures_made_with_cosigns_test_keys() {
    let (t, skopeo) = setup();
    for (i, name) in ["pemsigstorekey.pem", "pemcosignkey.pem"]
        .iter()
        .enumerate()
    {
        let image = t.image(&format!("app{i}"), "v1").0;
        let key: PathBuf = cosign_testdata(&format!("extracted/pkg/cosign/keys_test/{name}"));
        let public = t.s.path(&format!("{name}.pub"));
        t.s.signet()
            .env("COSIGN_PASSWORD", "hello")
            .args(["public-key", "--key"])
            .arg(&key)
            .arg("--outfile")
            .arg(&public)
            .assert_success();
        skopeo_signs(
            &skopeo,
            &image,
            &format!("{}/app{i}:signed", t.registry.host()),
            &key,
            "hello",
        );
        t.verify(&public, &image, 0);
        // And signet signs with the same Cosign key; skopeo accepts it.
        let fresh = t.image(&format!("fresh{i}"), "v1").0;
        t.s.signet()
            .env("COSIGN_PASSWORD", "hello")
            .args(["sign", "--tlog-upload=false", "--key"])
            .arg(&key)
            .arg(&fresh)
            .assert_success();
        let out = skopeo_accepts(&skopeo, &t.registry.host(), &fresh, &public);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn after_signers_take_turns_both_tools_accept_every_key() {
    let (t, skopeo) = setup();
    let image = t.image("app", "v1").0;
    let (first, first_pub) = t.s.key_pair("first");
    let (second, second_pub) = t.s.key_pair("second");
    let (third, third_pub) = t.s.key_pair("third");
    // signet, then skopeo appending to signet's manifest, then signet appending to skopeo's.
    t.s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&first)
        .arg(&image)
        .assert_success();
    skopeo_signs(
        &skopeo,
        &image,
        &format!("{}/app:signed", t.registry.host()),
        &second,
        PASSWORD,
    );
    t.s.signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&third)
        .arg(&image)
        .assert_success();
    for public in [&first_pub, &second_pub, &third_pub] {
        let out = skopeo_accepts(&skopeo, &t.registry.host(), &image, public);
        assert!(
            out.status.success(),
            "skopeo rejected {}: {}",
            public.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        t.verify(public, &image, 0);
    }
}
