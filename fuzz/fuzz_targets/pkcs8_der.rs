//! PKCS#8 DER private keys: `PrivateKey::from_pkcs8_der`, what an encrypted key file holds
//! once decrypted. A key that is accepted must re-encode, read back, and verify its own
//! signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::keys::PrivateKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PrivateKey::from_pkcs8_der(data) {
        signet_fuzz::check_private_key(&key);
    }
});
