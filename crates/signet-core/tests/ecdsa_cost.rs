//! The raw cost of one ECDSA verification with the crypto library signet links (aws-lc-rs):
//! the reference benches/bundles-compare.sh sets a Sigstore bundle's verification time against.

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};

/// Verifications per second of one signature over a 200-byte message, public key parsed from
/// its bytes on every call (as a verifier given a certificate or a trusted-root key does).
fn verifies_per_second(
    signing: &'static signature::EcdsaSigningAlgorithm,
    verifying: &'static signature::EcdsaVerificationAlgorithm,
    budget: Duration,
) -> f64 {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).expect("key generation");
    let key = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref()).expect("key parsing");
    let message = [0x5a_u8; 200];
    let sig = key.sign(&rng, &message).expect("signing");
    let public = key.public_key().as_ref().to_vec();
    let verify = || {
        UnparsedPublicKey::new(verifying, &public)
            .verify(&message, sig.as_ref())
            .expect("the signature verifies");
    };
    for _ in 0..50 {
        verify();
    }
    let start = Instant::now();
    let mut count = 0_u64;
    while start.elapsed() < budget {
        for _ in 0..50 {
            verify();
        }
        count += 50;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

#[test]
#[ignore = "timing; run by benches/bundles-compare.sh with --release"]
// A benchmark harness, not library code: its time budget comes from the bench script.
#[allow(clippy::disallowed_methods)]
fn ecdsa_verify_cost() {
    let budget = Duration::from_secs(
        std::env::var("BENCH_ECDSA_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
    );
    let p256 = verifies_per_second(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &signature::ECDSA_P256_SHA256_ASN1,
        budget,
    );
    let p384 = verifies_per_second(
        &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        &signature::ECDSA_P384_SHA384_ASN1,
        budget,
    );
    println!(
        "ecdsa: aws-lc-rs P-256 {p256:.0} verifies/s ({:.1} µs each), P-384 {p384:.0} verifies/s ({:.1} µs each)",
        1e6 / p256,
        1e6 / p384
    );
}
