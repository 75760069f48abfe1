//! What opening a key needs besides its reference.

use std::fmt;

use crate::awskms::AwsSettings;

/// The environment variable Cosign reads the PKCS#11 module path from when the URI names none.
pub const MODULE_PATH_ENV: &str = "COSIGN_PKCS11_MODULE_PATH";
/// The environment variable Cosign reads the PKCS#11 PIN from when the URI carries none.
pub const PIN_ENV: &str = "COSIGN_PKCS11_PIN";

/// A PKCS#11 user PIN. Never printed; wiped on drop.
pub struct Pin(zeroize::Zeroizing<String>);

impl Pin {
    /// Wraps a PIN.
    pub fn new(pin: String) -> Self {
        Self(zeroize::Zeroizing::new(pin))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Asks for a PIN (a terminal prompt), given the token's label.
pub type PinPrompt<'a> = &'a (dyn Fn(&str) -> std::io::Result<Pin> + Sync);

/// What opening a key needs besides its reference: the settings Cosign reads from the
/// environment, resolved by the caller.
#[derive(Default)]
pub struct KeyOptions<'a> {
    /// The PKCS#11 module when the URI names none (`COSIGN_PKCS11_MODULE_PATH`).
    pub pkcs11_module_path: Option<std::path::PathBuf>,
    /// The PIN when the URI carries none (`COSIGN_PKCS11_PIN`).
    pub pkcs11_pin: Option<Pin>,
    /// Asked for the PIN when there is none and the token needs one. Without it, such a
    /// token is an error.
    pub pin_prompt: Option<PinPrompt<'a>>,
    /// Credentials, region and endpoint for AWS KMS.
    pub aws: AwsSettings,
}

impl fmt::Debug for KeyOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyOptions")
            .field("pkcs11_module_path", &self.pkcs11_module_path)
            .field("pkcs11_pin", &self.pkcs11_pin)
            .field("pin_prompt", &self.pin_prompt.is_some())
            .field("aws", &self.aws)
            .finish()
    }
}

impl KeyOptions<'static> {
    /// Options from the environment Cosign reads: `COSIGN_PKCS11_MODULE_PATH`,
    /// `COSIGN_PKCS11_PIN`, and AWS's variables and files (see [`AwsSettings::from_env`]).
    /// No PIN prompt.
    pub fn from_env() -> Self {
        Self {
            pkcs11_module_path: std::env::var_os(MODULE_PATH_ENV).map(Into::into),
            pkcs11_pin: std::env::var(PIN_ENV).ok().map(Pin::new),
            pin_prompt: None,
            aws: AwsSettings::from_env(),
        }
    }
}
