//! Key references as Cosign writes them: a file path, `pkcs11:…`, `awskms://…`, and the
//! services signet refuses for now (`gcpkms://`, `azurekms://`, `hashivault://`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::awskms::AwsKmsReference;
use crate::error::Error;
use crate::pkcs11::Pkcs11Uri;
use crate::text::truncate;

/// The longest key reference signet reads: references are typed or configured, never large.
pub const MAX_REFERENCE_LEN: usize = 4096;

/// Where a key lives.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyReference {
    /// A key file: a Cosign encrypted private key, or a public key for verifying.
    File(PathBuf),
    /// A key on a PKCS#11 token.
    Pkcs11(Pkcs11Uri),
    /// A key in AWS KMS.
    AwsKms(AwsKmsReference),
    /// A Google Cloud KMS key (`gcpkms://…`): parsed, not supported yet.
    GcpKms(String),
    /// An Azure Key Vault key (`azurekms://…`): parsed, not supported yet.
    AzureKms(String),
    /// A HashiCorp Vault transit key (`hashivault://…`): parsed, not supported yet.
    HashiVault(String),
}

impl KeyReference {
    /// Reads a key reference as Cosign does: a known scheme prefix selects the service, any
    /// other text without `://` is a file path.
    pub fn parse(text: &str) -> Result<Self, Error> {
        if text.len() > MAX_REFERENCE_LEN {
            return Err(Error::InvalidReference {
                reference: format!("{}…", truncate(text, 40)),
                reason: format!("longer than {MAX_REFERENCE_LEN} bytes"),
            });
        }
        if text.starts_with(crate::pkcs11::SCHEME) {
            return Pkcs11Uri::parse(text).map(Self::Pkcs11);
        }
        if text.starts_with(crate::awskms::SCHEME) {
            return AwsKmsReference::parse(text).map(Self::AwsKms);
        }
        if let Some(rest) = text.strip_prefix("gcpkms://") {
            return Ok(Self::GcpKms(rest.to_owned()));
        }
        if let Some(rest) = text.strip_prefix("azurekms://") {
            return Ok(Self::AzureKms(rest.to_owned()));
        }
        if let Some(rest) = text.strip_prefix("hashivault://") {
            return Ok(Self::HashiVault(rest.to_owned()));
        }
        if let Some((scheme, _)) = text.split_once("://")
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(Error::UnknownScheme {
                scheme: truncate(scheme, 40).to_owned(),
            });
        }
        Ok(Self::File(PathBuf::from(text)))
    }

    /// A reference to a file, whatever its name looks like.
    pub fn file(path: impl AsRef<Path>) -> Self {
        Self::File(path.as_ref().to_path_buf())
    }

    /// The error for a service signet parses but does not support yet; `None` for the
    /// supported ones.
    pub fn not_supported_yet(&self) -> Option<Error> {
        let (provider, scheme) = match self {
            Self::GcpKms(_) => ("Google Cloud KMS", "gcpkms://"),
            Self::AzureKms(_) => ("Azure Key Vault", "azurekms://"),
            Self::HashiVault(_) => ("HashiCorp Vault", "hashivault://"),
            Self::File(_) | Self::Pkcs11(_) | Self::AwsKms(_) => return None,
        };
        Some(Error::NotSupportedYet { provider, scheme })
    }
}

impl FromStr for KeyReference {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for KeyReference {
    /// The reference as written, with a PKCS#11 PIN redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Pkcs11(uri) => write!(f, "{uri}"),
            Self::AwsKms(reference) => write!(f, "{reference}"),
            Self::GcpKms(rest) => write!(f, "gcpkms://{rest}"),
            Self::AzureKms(rest) => write!(f, "azurekms://{rest}"),
            Self::HashiVault(rest) => write!(f, "hashivault://{rest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> KeyReference {
        KeyReference::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn plain_paths_are_files() {
        assert!(
            matches!(parse("cosign.key"), KeyReference::File(p) if p == Path::new("cosign.key"))
        );
        assert!(matches!(parse("/keys/a:b.key"), KeyReference::File(_)));
    }

    #[test]
    fn refused_services_say_not_supported_yet() {
        for (text, provider) in [
            (
                "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k",
                "Google Cloud KMS",
            ),
            ("azurekms://vault.vault.azure.net/key", "Azure Key Vault"),
            ("hashivault://transit-key", "HashiCorp Vault"),
        ] {
            let error = parse(text).not_supported_yet().map(|e| e.to_string());
            let message = error.unwrap_or_default();
            assert!(message.contains(provider), "{message}");
            assert!(message.contains("not supported yet"), "{message}");
        }
    }

    #[test]
    fn unknown_schemes_are_not_file_paths() {
        let error = KeyReference::parse("k8s://ns/secret").map(|_| ());
        assert!(
            matches!(&error, Err(Error::UnknownScheme { scheme }) if scheme == "k8s"),
            "{error:?}"
        );
    }

    #[test]
    fn overlong_references_are_refused() {
        let long = "a".repeat(MAX_REFERENCE_LEN + 1);
        assert!(matches!(
            KeyReference::parse(&long),
            Err(Error::InvalidReference { .. })
        ));
    }
}
