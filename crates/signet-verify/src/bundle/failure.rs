//! Which check a Sigstore bundle failed, mapped from sigstore-verify's errors.

use std::fmt;

/// The check a bundle failed: a stable, matchable category.
///
/// [`BundleCheck::code`] gives each a short, stable name (`tlog-checkpoint`, `identity`, …)
/// for scripts and tests; `Display` gives a sentence for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BundleCheck {
    /// The bundle is larger than [`BundleLimits::max_bundle_bytes`](super::BundleLimits).
    TooLarge,
    /// The bundle is not well-formed JSON, or a field does not decode.
    Parse,
    /// The bundle's `mediaType` is not Sigstore bundle v0.1, v0.2 or v0.3.
    UnknownVersion,
    /// The bundle lacks material the policy needs, or holds the wrong kind: no signing
    /// certificate, a key where a certificate is expected (or the reverse), no log entry.
    Material,
    /// The trusted root cannot be read or used. An operational failure, not a verdict.
    TrustedRoot,
    /// The signing certificate is malformed, its chain does not lead to a Fulcio CA of the
    /// trusted root, or the bundle ships a root certificate of its own.
    CertificateChain,
    /// The signing certificate was not valid at the signing time (expired or not yet valid).
    CertificateValidity,
    /// The certificate's embedded signed certificate timestamp does not verify against a CT
    /// log of the trusted root.
    Sct,
    /// The certificate's identity (SAN) is not the one required.
    Identity,
    /// The certificate's OIDC issuer is not the one required.
    Issuer,
    /// A Fulcio certificate extension (a GitHub workflow claim) is not the one required.
    CertificateExtension,
    /// The policy itself cannot be used (an identity regex that does not compile). An
    /// operational failure, not a verdict.
    Policy,
    /// The log entry names a transparency log that is not in the trusted root.
    TlogUnknownLog,
    /// The log entry is malformed, or records another signature, key, certificate or artifact
    /// than the bundle's.
    TlogEntry,
    /// The signed entry timestamp (inclusion promise) is missing or does not verify.
    TlogSet,
    /// The inclusion proof is missing or does not lead to the checkpoint's root hash.
    TlogInclusionProof,
    /// The checkpoint (signed tree head) is missing, malformed, not signed by the log's key,
    /// or for another tree.
    TlogCheckpoint,
    /// The log's integrated time is in the future or outside the certificate's validity.
    TlogIntegratedTime,
    /// An RFC 3161 timestamp does not verify against a timestamp authority of the trusted
    /// root, or lies outside that authority's validity.
    Timestamp,
    /// No verified signing time: neither a log integrated time nor an RFC 3161 timestamp.
    NoSigningTime,
    /// The signature does not verify over the artifact (or the DSSE envelope's PAE).
    Signature,
    /// The artifact is not the one the bundle describes (message digest or in-toto subject).
    ArtifactDigest,
    /// The DSSE envelope's payload is not an in-toto statement, so it names no artifact.
    PayloadType,
    /// No bundle of the file is an attestation of the predicate type required.
    PredicateType,
    /// The bundle or artifact uses a form this version does not verify (an entry kind, a key
    /// type, an Ed25519 signature over a digest).
    Unsupported,
    /// The artifact could not be read. An operational failure, not a verdict.
    ArtifactRead,
}

impl BundleCheck {
    /// A short, stable name for the check, e.g. `tlog-checkpoint`.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLarge => "too-large",
            Self::Parse => "parse",
            Self::UnknownVersion => "unknown-version",
            Self::Material => "material",
            Self::TrustedRoot => "trusted-root",
            Self::CertificateChain => "certificate-chain",
            Self::CertificateValidity => "certificate-validity",
            Self::Sct => "sct",
            Self::Identity => "identity",
            Self::Issuer => "issuer",
            Self::CertificateExtension => "certificate-extension",
            Self::Policy => "policy",
            Self::TlogUnknownLog => "tlog-unknown-log",
            Self::TlogEntry => "tlog-entry",
            Self::TlogSet => "tlog-set",
            Self::TlogInclusionProof => "tlog-inclusion-proof",
            Self::TlogCheckpoint => "tlog-checkpoint",
            Self::TlogIntegratedTime => "tlog-integrated-time",
            Self::Timestamp => "timestamp",
            Self::NoSigningTime => "no-signing-time",
            Self::Signature => "signature",
            Self::ArtifactDigest => "artifact-digest",
            Self::PayloadType => "payload-type",
            Self::PredicateType => "predicate-type",
            Self::Unsupported => "unsupported",
            Self::ArtifactRead => "artifact-read",
        }
    }

    /// Whether this is "could not find out" (the trusted root or the artifact could not be
    /// read) rather than a verdict on the bundle.
    pub fn is_operational(self) -> bool {
        matches!(self, Self::TrustedRoot | Self::ArtifactRead | Self::Policy)
    }
}

impl fmt::Display for BundleCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "the bundle is larger than the limit",
            Self::Parse => "the bundle is not a well-formed Sigstore bundle",
            Self::UnknownVersion => {
                "the bundle's media type is not a Sigstore bundle version signet reads (v0.1, v0.2, v0.3)"
            }
            Self::Material => "the bundle lacks the verification material the policy needs",
            Self::TrustedRoot => "the trusted root cannot be used",
            Self::CertificateChain => {
                "the signing certificate does not chain to a Fulcio CA of the trusted root"
            }
            Self::CertificateValidity => {
                "the signing certificate was not valid at the signing time"
            }
            Self::Sct => "the certificate's signed certificate timestamp (SCT) does not verify",
            Self::Identity => "the certificate identity is not the one required",
            Self::Issuer => "the certificate's OIDC issuer is not the one required",
            Self::CertificateExtension => {
                "a certificate extension (GitHub workflow claim) is not the one required"
            }
            Self::Policy => "the verification policy cannot be used",
            Self::TlogUnknownLog => "the log entry is from a log the trusted root does not know",
            Self::TlogEntry => "the transparency-log entry does not match the bundle",
            Self::TlogSet => "the log's signed entry timestamp (SET) does not verify",
            Self::TlogInclusionProof => "the log inclusion proof does not verify",
            Self::TlogCheckpoint => "the log checkpoint does not verify",
            Self::TlogIntegratedTime => {
                "the log's integrated time is outside the signing certificate's validity"
            }
            Self::Timestamp => "an RFC 3161 timestamp does not verify",
            Self::NoSigningTime => "there is no verified signing time",
            Self::Signature => "the signature does not verify",
            Self::ArtifactDigest => "the artifact is not the one the bundle was signed over",
            Self::PayloadType => "the DSSE payload is not an in-toto statement",
            Self::PredicateType => {
                "no attestation of the predicate type required"
            }
            Self::Unsupported => "the bundle uses a form signet cannot verify",
            Self::ArtifactRead => "the artifact could not be read",
        })
    }
}

/// What a reader of a failure should know beyond the check that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureHint {
    /// An identity or issuer regex did not match the whole claim but matches part of it.
    /// signet anchors these regexes; Cosign (Go's `regexp.MatchString`) does not, so a regex
    /// written for Cosign may mean a substring.
    SubstringOnly,
}

impl fmt::Display for FailureHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SubstringOnly => f.write_str(
                "matches only as a substring; signet anchors identity regexes (unlike Cosign): \
                 write `.*` where you mean a substring",
            ),
        }
    }
}

/// Why a Sigstore bundle was rejected: the [`BundleCheck`] that failed, and the detail as
/// the error's source.
///
/// `Display` names the check; the source says what exactly was wrong (often the verifier's
/// own message), so `{:#}`-style printing of the chain reads "check: detail".
#[derive(Debug, thiserror::Error)]
#[error("{check} [{}]", check.code())]
pub struct BundleFailure {
    check: BundleCheck,
    hint: Option<FailureHint>,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl BundleFailure {
    /// The check that failed.
    pub fn check(&self) -> BundleCheck {
        self.check
    }

    /// What else the reader should know, if anything (the detail already says it in words).
    pub fn hint(&self) -> Option<FailureHint> {
        self.hint
    }

    pub(super) fn new(check: BundleCheck, detail: impl Into<String>) -> Self {
        Self {
            check,
            hint: None,
            source: Box::new(Detail(detail.into())),
        }
    }

    pub(super) fn with_hint(mut self, hint: FailureHint) -> Self {
        self.hint = Some(hint);
        self
    }

    /// The same failure, located: its source becomes "in LABEL", whose own source is the
    /// detail, so that printing the chain reads "check: in attestations[1]: detail".
    pub(super) fn in_bundle(self, label: &str) -> Self {
        Self {
            check: self.check,
            hint: self.hint,
            source: Box::new(Located {
                label: label.to_owned(),
                source: self.source,
            }),
        }
    }

    fn wrap(check: BundleCheck, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            check,
            hint: None,
            source: Box::new(source),
        }
    }

    /// A trusted root that does not parse or cannot be used.
    pub(super) fn trusted_root(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::wrap(BundleCheck::TrustedRoot, source)
    }

    /// A bundle that `sigstore_types::Bundle::from_json` rejected. Some checks happen while
    /// parsing there (checkpoint text, log index sign), so the message picks the category.
    pub(super) fn parse(error: sigstore_verify::types::Error) -> Self {
        let text = error.to_string();
        let check = if text.contains("Invalid checkpoint format") {
            BundleCheck::TlogCheckpoint
        } else if text.contains("negative log index") {
            BundleCheck::TlogEntry
        } else {
            BundleCheck::Parse
        };
        Self::wrap(check, error)
    }
}

/// A detail message used as the source of failures signet finds itself.
#[derive(Debug)]
struct Detail(String);

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Detail {}

/// Where in a file of bundles a failure happened; the failure's detail is its source.
#[derive(Debug)]
struct Located {
    label: String,
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "in {}", self.label)
    }
}

impl std::error::Error for Located {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

impl From<sigstore_verify::Error> for BundleFailure {
    fn from(error: sigstore_verify::Error) -> Self {
        let check = classify(&error);
        Self::wrap(check, error)
    }
}

/// Maps sigstore-verify's error to the check it reports. Its nested enums carry the category;
/// two of its messages are read where a variant covers two of our checks (a webpki validity
/// error inside `ChainInvalid`, a log entry's artifact hash inside `ArtifactMismatch`). The
/// conformance tests pin each of these mappings.
fn classify(error: &sigstore_verify::Error) -> BundleCheck {
    use sigstore_verify::bundle::Error as Structure;
    use sigstore_verify::{CertificateError, Error, TimestampError, TransparencyLogError};
    match error {
        Error::IdentityMismatch { .. } => BundleCheck::Identity,
        Error::IssuerMismatch { .. } => BundleCheck::Issuer,
        Error::SignatureInvalid(_) => BundleCheck::Signature,
        Error::ArtifactMismatch(detail) if detail.contains("hashedrekord entry") => {
            BundleCheck::TlogEntry
        }
        Error::ArtifactMismatch(_) => BundleCheck::ArtifactDigest,
        Error::UnsupportedArtifact(_) | Error::UnsupportedBundle(_) | Error::Crypto(_) => {
            BundleCheck::Unsupported
        }
        Error::Certificate(certificate) => match certificate {
            CertificateError::Expired { .. } | CertificateError::NotYetValid { .. } => {
                BundleCheck::CertificateValidity
            }
            CertificateError::ChainInvalid(detail)
                if detail.contains("CertExpired") || detail.contains("CertNotValidYet") =>
            {
                BundleCheck::CertificateValidity
            }
            CertificateError::Sct(_) => BundleCheck::Sct,
            _ => BundleCheck::CertificateChain,
        },
        Error::TransparencyLog(tlog) => match tlog {
            TransparencyLogError::UnknownLog { .. } => BundleCheck::TlogUnknownLog,
            TransparencyLogError::InclusionProof(_) => BundleCheck::TlogInclusionProof,
            TransparencyLogError::Checkpoint(_) => BundleCheck::TlogCheckpoint,
            TransparencyLogError::InclusionPromise(_) => BundleCheck::TlogSet,
            TransparencyLogError::IntegratedTime(_) => BundleCheck::TlogIntegratedTime,
            _ => BundleCheck::TlogEntry,
        },
        Error::Timestamp(TimestampError::NoVerifiedTimestamp(_)) => BundleCheck::NoSigningTime,
        Error::Timestamp(_) => BundleCheck::Timestamp,
        Error::Bundle(structure) => match structure {
            Structure::UnsupportedMediaType(_) => BundleCheck::UnknownVersion,
            Structure::MissingInclusionPromise(_) => BundleCheck::TlogSet,
            Structure::MissingInclusionProof(_) | Structure::LogIndexOutOfRange { .. } => {
                BundleCheck::TlogInclusionProof
            }
            Structure::MissingCheckpoint | Structure::CheckpointRootMismatch => {
                BundleCheck::TlogCheckpoint
            }
            Structure::MissingSigningTimeEvidence | Structure::MissingTimestamp => {
                BundleCheck::NoSigningTime
            }
            _ => BundleCheck::Material,
        },
        Error::InvalidBundle(_) => BundleCheck::Material,
        Error::Types(_) => BundleCheck::Parse,
        Error::InvalidTrustRoot(_) | Error::TrustRoot(_) | Error::TrustedCertificate(_) => {
            BundleCheck::TrustedRoot
        }
        Error::ArtifactRead(_) => BundleCheck::ArtifactRead,
        _ => BundleCheck::Unsupported,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_check_and_its_code_and_keeps_the_detail_as_source() {
        let failure = BundleFailure::new(BundleCheck::TooLarge, "2000000 bytes");
        assert_eq!(
            failure.to_string(),
            "the bundle is larger than the limit [too-large]"
        );
        let source = std::error::Error::source(&failure).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some("2000000 bytes"));
    }

    #[test]
    fn webpki_validity_errors_are_certificate_validity_not_chain() {
        let expired =
            sigstore_verify::Error::Certificate(sigstore_verify::CertificateError::ChainInvalid(
                "certificate chain validation failed: CertExpired { .. }".into(),
            ));
        assert_eq!(classify(&expired), BundleCheck::CertificateValidity);
        let unknown = sigstore_verify::Error::Certificate(
            sigstore_verify::CertificateError::ChainInvalid("UnknownIssuer".into()),
        );
        assert_eq!(classify(&unknown), BundleCheck::CertificateChain);
    }
}
