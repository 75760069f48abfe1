//! Unencrypted PEM private keys as `import-key-pair` reads them: `PrivateKey::
//! from_unencrypted_pem` (`RSA PRIVATE KEY`, `EC PRIVATE KEY`, `PRIVATE KEY`). A key that is
//! accepted must re-encode, read back, and verify its own signature.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_core::keys::PrivateKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = PrivateKey::from_unencrypted_pem(data) {
        signet_fuzz::check_private_key(&key);
    }
});
