//! Which check a Notary Project signature failed, and which of the specification's five
//! validations that check belongs to.

use std::fmt;
use std::sync::Arc;

/// The five validations of the Notary Project trust policy. A verification level says, for
/// each, whether a failure is enforced, logged or (revocation only) skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Validation {
    /// The envelope parses, its signature verifies and it is about this artifact. Always
    /// enforced.
    Integrity,
    /// The certificate chain leads to a trust store the policy names, and the signing
    /// certificate's subject is a trusted identity.
    Authenticity,
    /// The signature was made while its certificates were valid: at an RFC 3161 timestamp, at
    /// the signing authority's authentic signing time, or (without either) now.
    AuthenticTimestamp,
    /// The signer's "best by" time has not passed.
    Expiry,
    /// No certificate of the chain is revoked.
    Revocation,
}

impl Validation {
    /// The name trustpolicy.json uses (`authenticTimestamp`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Integrity => "integrity",
            Self::Authenticity => "authenticity",
            Self::AuthenticTimestamp => "authenticTimestamp",
            Self::Expiry => "expiry",
            Self::Revocation => "revocation",
        }
    }

    /// All five, in the order the specification evaluates them.
    pub const ALL: [Self; 5] = [
        Self::Integrity,
        Self::Authenticity,
        Self::AuthenticTimestamp,
        Self::Expiry,
        Self::Revocation,
    ];
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The check a signature failed: a stable, matchable category.
///
/// [`NotationCheck::code`] gives each a short, stable name for scripts and tests;
/// [`NotationCheck::validation`] the trust-policy validation it belongs to, which decides
/// whether the failure is enforced or only logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotationCheck {
    /// The envelope is larger than the limit.
    TooLarge,
    /// The envelope's media type is neither `application/jose+json` nor `application/cose`.
    UnsupportedFormat,
    /// The envelope is not well-formed JWS JSON or COSE_Sign1, or a header has the wrong type.
    Parse,
    /// The signed content type is not `application/vnd.cncf.notary.payload.v1+json`.
    ContentType,
    /// The signing scheme is missing or unknown, or a signing time header does not fit it.
    SigningScheme,
    /// `crit` is missing, omits a header that must be critical, names an absent header, or
    /// names a header signet cannot process (a verification plugin, an extension).
    CriticalHeaders,
    /// The signature algorithm is not one the specification allows, or does not match the
    /// signing certificate's key.
    Algorithm,
    /// The certificate chain is empty, malformed, out of order, does not end in a self-signed
    /// root, or a certificate is not issued by the next one.
    CertificateChain,
    /// A certificate breaks the specification's requirements: key usage, basic constraints,
    /// extended key usage, path length, key size, SHA-1 signatures.
    CertificateRequirements,
    /// The signature does not verify with the signing certificate's key.
    Signature,
    /// The payload is not a Notary Project payload (`targetArtifact`).
    Payload,
    /// The signed descriptor is not the artifact's: digest, media type or size differ.
    TargetArtifact,
    /// No certificate of the chain is in the trust stores the policy names.
    TrustStore,
    /// The signing certificate's subject is not one of the trusted identities.
    TrustedIdentity,
    /// The signature's expiry time has passed.
    Expiry,
    /// A certificate of the chain was not valid when the signature was made (or, without a
    /// timestamp, is not valid now).
    CertificateValidity,
    /// The RFC 3161 timestamp countersignature is missing, malformed, not over this
    /// signature, or not from a trusted timestamp authority.
    Timestamp,
    /// The revocation status of a certificate could not be checked: OCSP and CRL need the
    /// network, which verification does not use.
    Revocation,
    /// The payload lacks an annotation the caller requires.
    Annotations,
}

impl NotationCheck {
    /// A short, stable name for the check, e.g. `trusted-identity`.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLarge => "too-large",
            Self::UnsupportedFormat => "unsupported-format",
            Self::Parse => "parse",
            Self::ContentType => "content-type",
            Self::SigningScheme => "signing-scheme",
            Self::CriticalHeaders => "critical-headers",
            Self::Algorithm => "algorithm",
            Self::CertificateChain => "certificate-chain",
            Self::CertificateRequirements => "certificate-requirements",
            Self::Signature => "signature",
            Self::Payload => "payload",
            Self::TargetArtifact => "target-artifact",
            Self::TrustStore => "trust-store",
            Self::TrustedIdentity => "trusted-identity",
            Self::Expiry => "expiry",
            Self::CertificateValidity => "certificate-validity",
            Self::Timestamp => "timestamp",
            Self::Revocation => "revocation",
            Self::Annotations => "annotations",
        }
    }

    /// The trust-policy validation this check is part of.
    pub fn validation(self) -> Validation {
        match self {
            Self::TrustStore | Self::TrustedIdentity => Validation::Authenticity,
            Self::Expiry => Validation::Expiry,
            Self::CertificateValidity | Self::Timestamp => Validation::AuthenticTimestamp,
            Self::Revocation => Validation::Revocation,
            _ => Validation::Integrity,
        }
    }
}

impl fmt::Display for NotationCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "the signature envelope is larger than the limit",
            Self::UnsupportedFormat => "the signature envelope format is not JWS or COSE",
            Self::Parse => "the signature envelope is malformed",
            Self::ContentType => "the signed content type is not a Notary Project payload",
            Self::SigningScheme => "the signing scheme is missing, unknown or inconsistent",
            Self::CriticalHeaders => "the critical headers are wrong or cannot be processed",
            Self::Algorithm => "the signature algorithm is not allowed or does not match the key",
            Self::CertificateChain => "the certificate chain is malformed or out of order",
            Self::CertificateRequirements => {
                "a certificate does not meet the Notary Project certificate requirements"
            }
            Self::Signature => "the signature does not verify",
            Self::Payload => "the signed payload is not a Notary Project payload",
            Self::TargetArtifact => "the signature is for another artifact",
            Self::TrustStore => {
                "the certificate chain contains no certificate of the trust stores named"
            }
            Self::TrustedIdentity => "the signing certificate is not a trusted identity",
            Self::Expiry => "the signature has expired",
            Self::CertificateValidity => "a certificate was not valid when the signature was made",
            Self::Timestamp => "the timestamp countersignature does not verify",
            Self::Revocation => "the revocation status cannot be checked offline",
            Self::Annotations => "the signature lacks a required annotation",
        })
    }
}

/// Why a Notary Project signature was rejected (or, for a logged validation, what was
/// wrong): the [`NotationCheck`] that failed and the detail as the error's source.
///
/// The detail keeps its typed cause (a DER, JSON or signature error, a certificate
/// requirement) as its own source, so printing the chain reads "check: detail: cause".
#[derive(Debug, Clone, thiserror::Error)]
#[error("{check} [{}]", check.code())]
pub struct NotationFailure {
    check: NotationCheck,
    #[source]
    detail: Detail,
}

impl NotationFailure {
    /// A failure whose detail is a message of signet's own.
    pub(crate) fn new(check: NotationCheck, detail: impl Into<String>) -> Self {
        Self::because(
            check,
            Message {
                text: detail.into(),
                cause: None,
            },
        )
    }

    /// A failure whose detail is a typed error (which keeps its own sources).
    pub(crate) fn because(
        check: NotationCheck,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            check,
            detail: Detail(Arc::new(cause)),
        }
    }

    /// A failure whose detail is `text`, caused by `cause`: the chain reads "text: cause".
    pub(crate) fn caused(
        check: NotationCheck,
        text: impl Into<String>,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self::because(
            check,
            Message {
                text: text.into(),
                cause: Some(cause.into()),
            },
        )
    }

    /// The check that failed.
    pub fn check(&self) -> NotationCheck {
        self.check
    }

    /// What exactly was wrong: the detail and its causes, joined by ": ". A cause that its
    /// error already printed (some libraries repeat their source in their message) is not
    /// repeated.
    pub fn detail(&self) -> String {
        let mut text = self.detail.to_string();
        let mut next = std::error::Error::source(&self.detail);
        while let Some(cause) = next {
            let cause_text = cause.to_string();
            if !text.ends_with(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
            next = cause.source();
        }
        text
    }
}

/// The detail of a [`NotationFailure`], kept as its source so printers show "check: detail";
/// shared, so failures stay cheap to clone whatever their cause.
#[derive(Debug, Clone)]
struct Detail(Arc<dyn std::error::Error + Send + Sync>);

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Detail {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A detail signet words itself, with the typed error that caused it, if any.
#[derive(Debug)]
struct Message {
    text: String,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Message {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

pub(crate) type Outcome<T> = Result<T, NotationFailure>;

/// Shorthand for a failure of `check`.
pub(crate) fn fail<T>(check: NotationCheck, detail: impl Into<String>) -> Outcome<T> {
    Err(NotationFailure::new(check, detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_belongs_to_the_validation_the_specification_puts_it_in() {
        assert_eq!(NotationCheck::Signature.validation(), Validation::Integrity);
        assert_eq!(
            NotationCheck::TrustedIdentity.validation(),
            Validation::Authenticity
        );
        assert_eq!(
            NotationCheck::Timestamp.validation(),
            Validation::AuthenticTimestamp
        );
        assert_eq!(NotationCheck::Expiry.validation(), Validation::Expiry);
        assert_eq!(
            NotationCheck::Revocation.validation(),
            Validation::Revocation
        );
    }

    #[test]
    fn display_names_the_check_and_keeps_the_detail_as_source() {
        let failure = NotationFailure::new(NotationCheck::Expiry, "expired on 2022-07-29");
        assert_eq!(failure.to_string(), "the signature has expired [expiry]");
        let source = std::error::Error::source(&failure).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("expired on 2022-07-29"));
    }

    #[test]
    fn a_typed_cause_stays_in_the_chain_and_in_the_detail() {
        let cause = der::Error::from(der::ErrorKind::Failed);
        let failure = NotationFailure::caused(
            NotationCheck::CertificateChain,
            "certificate 0 of the chain does not parse",
            cause,
        );
        let detail = std::error::Error::source(&failure).unwrap_or_else(|| panic!("no detail"));
        assert_eq!(
            detail.to_string(),
            "certificate 0 of the chain does not parse"
        );
        let typed = detail
            .source()
            .and_then(|c| c.downcast_ref::<der::Error>())
            .unwrap_or_else(|| panic!("the DER error is not the detail's source"));
        assert_eq!(typed, &cause);
        assert_eq!(
            failure.detail(),
            format!("certificate 0 of the chain does not parse: {cause}")
        );
    }
}
