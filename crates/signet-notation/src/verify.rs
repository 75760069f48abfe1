//! Verifying one envelope under one trust policy statement, in the specification's order:
//! integrity, authenticity, expiry, authentic timestamp, revocation; then the signed
//! descriptor against the artifact. Each validation's failure is enforced or logged as the
//! statement's level says.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::certificate::{self, Certificate, Purpose};
use crate::check::{NotationCheck, NotationFailure, Outcome, Validation, fail};
use crate::envelope::{
    self, EnvelopeFormat, PAYLOAD_CONTENT_TYPE, SignatureAlgorithm, SigningScheme,
};
use crate::payload::{self, SignedDescriptor, TargetArtifact};
use crate::policy::{
    Action, SignatureVerification, Statement, StoreType, TrustedIdentities, VerificationLevel,
    VerifyTimestamp,
};
use crate::timestamp::{self, OutsideValidity, Stamp};
use crate::trust_store::TrustStore;

/// Bounds on untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest envelope accepted, in bytes (default 1 MiB; real envelopes are 2 to 15 KiB).
    pub max_envelope_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_envelope_bytes: 1 << 20,
        }
    }
}

/// What to verify an envelope against.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions<'a> {
    /// The trust policy statement that applies (its level, trust stores and identities).
    pub statement: &'a Statement,
    /// The certificates of the trust stores.
    pub trust_store: &'a TrustStore,
    /// The artifact the signature must be about.
    pub target: &'a TargetArtifact,
    /// Annotations the signed payload must carry (`notation verify --user-metadata`).
    pub required_annotations: &'a BTreeMap<String, String>,
    /// The time of verification (expiry, and certificate validity without a timestamp).
    pub now: SystemTime,
    /// Bounds on the envelope.
    pub limits: Limits,
}

/// A signature that passed every enforced validation. Only [`verify_envelope`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    format: EnvelopeFormat,
    scheme: SigningScheme,
    algorithm: SignatureAlgorithm,
    signer: String,
    chain_sha256: Vec<String>,
    signing_time: SystemTime,
    timestamp: Option<SystemTime>,
    expiry: Option<SystemTime>,
    descriptor: SignedDescriptor,
    level: String,
    signing_agent: Option<String>,
    logged: Vec<NotationFailure>,
}

impl VerifiedSignature {
    /// JWS or COSE.
    pub fn format(&self) -> EnvelopeFormat {
        self.format
    }

    /// The signing scheme.
    pub fn scheme(&self) -> SigningScheme {
        self.scheme
    }

    /// The signature algorithm.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }

    /// The signing certificate's subject, e.g. `CN=e2e,O=Notary,L=Seattle,ST=WA,C=US`.
    pub fn signer(&self) -> &str {
        &self.signer
    }

    /// SHA-256 fingerprints of the certificate chain, signing certificate first.
    pub fn chain_sha256(&self) -> &[String] {
        &self.chain_sha256
    }

    /// The signing time the envelope claims (`notary.x509`: unauthenticated) or the
    /// authentic signing time (`notary.x509.signingAuthority`).
    pub fn signing_time(&self) -> SystemTime {
        self.signing_time
    }

    /// The verified RFC 3161 timestamp, if one was verified.
    pub fn timestamp(&self) -> Option<SystemTime> {
        self.timestamp
    }

    /// The signer's expiry, if any.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.expiry
    }

    /// The signed descriptor (equal to the artifact's) and its annotations.
    pub fn descriptor(&self) -> &SignedDescriptor {
        &self.descriptor
    }

    /// The verification level's name (`strict`, `permissive`, `audit`, `custom`).
    pub fn level(&self) -> &str {
        &self.level
    }

    /// The unsigned signing agent (`notation-go/1.3.0`), for diagnostics only.
    pub fn signing_agent(&self) -> Option<&str> {
        self.signing_agent.as_deref()
    }

    /// Failures of validations the level only logs: the signature is accepted with these
    /// warnings.
    pub fn logged(&self) -> &[NotationFailure] {
        &self.logged
    }
}

fn unix(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn system_time(unix_seconds: i64) -> SystemTime {
    if unix_seconds >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix_seconds.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(unix_seconds.unsigned_abs())
    }
}

/// Applies the level's action to a validation's outcome: an enforced failure stops, a
/// logged one is kept.
struct Judge<'a> {
    level: &'a VerificationLevel,
    logged: Vec<NotationFailure>,
}

impl Judge<'_> {
    fn apply(&mut self, result: Outcome<()>) -> Outcome<()> {
        match result {
            Ok(()) => Ok(()),
            Err(failure) => match self.level.action(failure.check().validation()) {
                Action::Enforce => Err(failure),
                Action::Log => {
                    self.logged.push(failure);
                    Ok(())
                }
                Action::Skip => Ok(()),
            },
        }
    }
}

/// Verifies the envelope of a signature manifest's layer: the layer's media type names the
/// format; any other media type fails [`NotationCheck::UnsupportedFormat`].
pub fn verify_signature_layer(
    media_type: &str,
    bytes: &[u8],
    options: &VerifyOptions<'_>,
) -> Result<VerifiedSignature, NotationFailure> {
    match EnvelopeFormat::from_media_type(media_type) {
        Some(format) => verify_envelope(format, bytes, options),
        None => fail(
            NotationCheck::UnsupportedFormat,
            format!(
                "the signature layer's media type is {media_type:?}, not application/jose+json or application/cose"
            ),
        ),
    }
}

/// Verifies an envelope (`format`, bytes) for `options.target` under `options.statement`.
///
/// A statement that skips verification is the caller's to handle (no signature is read
/// under it); given one, this fails [`NotationCheck::TrustStore`], saying so.
pub fn verify_envelope(
    format: EnvelopeFormat,
    bytes: &[u8],
    options: &VerifyOptions<'_>,
) -> Result<VerifiedSignature, NotationFailure> {
    let level = match options.statement.verification() {
        SignatureVerification::Verify(level) => level,
        SignatureVerification::Skip => {
            return fail(
                NotationCheck::TrustStore,
                format!(
                    "statement {:?} skips verification; no signature is checked under it",
                    options.statement.name()
                ),
            );
        }
    };
    if bytes.len() > options.limits.max_envelope_bytes {
        return fail(
            NotationCheck::TooLarge,
            format!(
                "{} bytes, more than the limit of {}",
                bytes.len(),
                options.limits.max_envelope_bytes
            ),
        );
    }
    let now = unix(options.now);

    // Integrity: always enforced.
    let envelope = envelope::parse(format, bytes)?;
    let chain: Vec<Certificate> = envelope
        .certificates
        .iter()
        .enumerate()
        .map(|(i, der)| {
            Certificate::from_der(der).map_err(|e| {
                NotationFailure::caused(
                    NotationCheck::CertificateChain,
                    format!("certificate {i} of the chain does not parse"),
                    e,
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let leaf = chain.first().ok_or_else(|| {
        NotationFailure::new(NotationCheck::CertificateChain, "the chain is empty")
    })?;
    let expected = leaf
        .key()
        .spec()
        .and_then(SignatureAlgorithm::for_key)
        .ok_or_else(|| {
            NotationFailure::new(
                NotationCheck::Algorithm,
                format!(
                    "the signing certificate has {}, which no allowed algorithm uses",
                    leaf.key().describe()
                ),
            )
        })?;
    if expected != envelope.algorithm {
        return fail(
            NotationCheck::Algorithm,
            format!(
                "the envelope says {}, but the signing certificate's key requires {}",
                envelope.algorithm.jws_name(),
                expected.jws_name()
            ),
        );
    }
    if let Err(why) = leaf.key().verify(
        envelope.algorithm.scheme(),
        &envelope.signed_bytes,
        &envelope.signature,
    ) {
        return Err(NotationFailure::because(NotationCheck::Signature, why));
    }
    certificate::check_chain(&chain, Purpose::CodeSigning)?;
    if envelope.content_type != PAYLOAD_CONTENT_TYPE {
        return fail(
            NotationCheck::ContentType,
            format!(
                "payload content type {:?} is not supported",
                envelope.content_type
            ),
        );
    }
    let descriptor = payload::parse(&envelope.payload)?;
    if let Some(name) = envelope.unknown_critical.first() {
        return fail(
            NotationCheck::CriticalHeaders,
            format!(
                "the critical header {name:?} must be processed, and signet does not know it{}",
                if name.starts_with("io.cncf.notary.verificationPlugin") {
                    " (it names a verification plugin; signet runs no plugins)"
                } else {
                    ""
                }
            ),
        );
    }

    let mut judge = Judge {
        level,
        logged: Vec::new(),
    };

    // Authenticity: the chain leads to a trust store of the scheme's type, and the signer
    // is a trusted identity.
    let store_type = match envelope.scheme {
        SigningScheme::X509 => StoreType::Ca,
        SigningScheme::X509SigningAuthority => StoreType::SigningAuthority,
    };
    let stores = options.statement.trust_stores();
    let trusted = match options.trust_store.certificates(stores, store_type) {
        Err(why) => Err(NotationFailure::because(NotationCheck::TrustStore, why)),
        Ok(certs) if certs.is_empty() => fail(
            NotationCheck::TrustStore,
            format!(
                "statement {:?} names no trust store of type {} for a {} signature",
                options.statement.name(),
                store_type.name(),
                envelope.scheme.name()
            ),
        ),
        Ok(certs) => {
            if chain
                .iter()
                .any(|c| certs.iter().any(|t| t.der() == c.der()))
            {
                Ok(())
            } else {
                fail(
                    NotationCheck::TrustStore,
                    "the signature's certificate chain does not contain any trusted certificate",
                )
            }
        }
    };
    judge.apply(trusted)?;
    judge.apply(check_identity(options.statement, leaf))?;

    // Expiry.
    if let Some(expiry) = envelope.expiry
        && now >= expiry
    {
        judge.apply(fail(
            NotationCheck::Expiry,
            format!(
                "the signature expired at {}",
                envelope::format_rfc3339(expiry)
            ),
        ))?;
    }

    // Authentic timestamp.
    let (stamp, timestamp_result) = authentic_timestamp(&envelope, &chain, options, level, now);
    judge.apply(timestamp_result)?;

    // Revocation: OCSP and CRL need the network.
    if level.action(Validation::Revocation) != Action::Skip {
        let revocable: Vec<String> = chain
            .iter()
            .filter(|c| c.names_revocation_service())
            .map(Certificate::subject)
            .collect();
        let tsa_revocable = stamp.is_some_and(|s| s.revocable);
        if !revocable.is_empty() || tsa_revocable {
            let mut what = revocable
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            if tsa_revocable {
                if !what.is_empty() {
                    what.push_str(" and ");
                }
                what.push_str("the timestamp authority's chain");
            }
            judge.apply(fail(
                NotationCheck::Revocation,
                format!(
                    "{what} name an OCSP responder or CRL, which cannot be checked without the network; the revocation status is unknown"
                ),
            ))?;
        }
    }

    // The signed descriptor must be the artifact's, whatever the level.
    let target = options.target;
    if descriptor.digest != target.digest
        || descriptor.media_type != target.media_type
        || descriptor.size != target.size
    {
        return fail(
            NotationCheck::TargetArtifact,
            format!(
                "the signature is for {} ({}, {} bytes), not {} ({}, {} bytes)",
                descriptor.digest,
                descriptor.media_type,
                descriptor.size,
                target.digest,
                target.media_type,
                target.size
            ),
        );
    }
    for (key, value) in options.required_annotations {
        if descriptor.annotations.get(key) != Some(value) {
            return fail(
                NotationCheck::Annotations,
                format!("the signed payload lacks the annotation {key}={value}"),
            );
        }
    }

    Ok(VerifiedSignature {
        format,
        scheme: envelope.scheme,
        algorithm: envelope.algorithm,
        signer: leaf.subject(),
        chain_sha256: chain.iter().map(Certificate::sha256_hex).collect(),
        signing_time: system_time(envelope.signing_time),
        timestamp: stamp.map(|s| system_time(s.time_ms.div_euclid(1000))),
        expiry: envelope.expiry.map(system_time),
        descriptor,
        level: level.name().to_owned(),
        signing_agent: envelope.signing_agent,
        logged: judge.logged,
    })
}

fn check_identity(statement: &Statement, leaf: &Certificate) -> Outcome<()> {
    let subjects = match statement.identities() {
        TrustedIdentities::Any => return Ok(()),
        TrustedIdentities::Subjects { subjects, .. } if subjects.is_empty() => {
            return fail(
                NotationCheck::TrustedIdentity,
                format!(
                    "statement {:?} has no x509.subject trusted identity",
                    statement.name()
                ),
            );
        }
        TrustedIdentities::Subjects { subjects, .. } => subjects,
    };
    let attributes = leaf.subject_attributes().map_err(|why| {
        NotationFailure::caused(
            NotationCheck::TrustedIdentity,
            "the signing certificate's subject cannot be compared",
            why,
        )
    })?;
    if subjects.iter().any(|s| s.is_subset_of(&attributes)) {
        return Ok(());
    }
    fail(
        NotationCheck::TrustedIdentity,
        format!(
            "the signing certificate {:?} matches none of the trusted identities [{}] of statement {:?}",
            leaf.subject(),
            subjects
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            statement.name()
        ),
    )
}

/// The authentic timestamp validation; the verified stamp (for the revocation step) and the
/// outcome.
fn authentic_timestamp(
    envelope: &envelope::Envelope,
    chain: &[Certificate],
    options: &VerifyOptions<'_>,
    level: &VerificationLevel,
    now: i64,
) -> (Option<Stamp>, Outcome<()>) {
    let within_at = |time: i64, what: &str| -> Outcome<()> {
        for c in chain {
            if !c.valid_at(time) {
                let (nb, na) = c.validity();
                return fail(
                    NotationCheck::CertificateValidity,
                    format!(
                        "certificate {:?} (valid {} to {}) was not valid at {what} {}",
                        c.subject(),
                        envelope::format_rfc3339(nb),
                        envelope::format_rfc3339(na),
                        envelope::format_rfc3339(time)
                    ),
                );
            }
        }
        Ok(())
    };
    if envelope.scheme == SigningScheme::X509SigningAuthority {
        return (
            None,
            within_at(envelope.signing_time, "the authentic signing time"),
        );
    }
    let stores = options.statement.trust_stores();
    let tsa_configured = stores.iter().any(|s| s.kind == StoreType::Tsa);
    let chain_expired = chain.iter().any(|c| c.validity().1 < now);
    let verify_timestamp =
        tsa_configured && (level.verify_timestamp() == VerifyTimestamp::Always || chain_expired);
    if !verify_timestamp {
        return (None, within_at(now, "verification time"));
    }
    let Some(token) = &envelope.timestamp_token else {
        return (
            None,
            fail(
                NotationCheck::Timestamp,
                "no timestamp countersignature was found in the signature envelope",
            ),
        );
    };
    let roots = match options.trust_store.certificates(stores, StoreType::Tsa) {
        Ok(roots) => roots,
        Err(why) => {
            return (
                None,
                Err(NotationFailure::because(NotationCheck::Timestamp, why)),
            );
        }
    };
    let stamp = match timestamp::verify(token, &envelope.signature, &roots) {
        Ok(stamp) => stamp,
        Err(why) => {
            return (
                None,
                Err(NotationFailure::because(NotationCheck::Timestamp, why)),
            );
        }
    };
    for c in chain {
        let (nb, na) = c.validity();
        if let Err(side) = stamp.within(nb, na) {
            let outside = StampOutsideValidity {
                side,
                subject: c.subject(),
                not_before: envelope::format_rfc3339(nb),
                not_after: envelope::format_rfc3339(na),
                time: envelope::format_rfc3339(stamp.time_ms.div_euclid(1000)),
                accuracy_ms: stamp.accuracy_ms,
            };
            return (
                Some(stamp),
                Err(NotationFailure::because(
                    NotationCheck::CertificateValidity,
                    outside,
                )),
            );
        }
    }
    (Some(stamp), Ok(()))
}

/// A certificate of the signing chain that the verified timestamp (with its accuracy) can
/// fall outside of.
#[derive(Debug, thiserror::Error)]
#[error(
    "{side}: certificate {subject:?} is valid {not_before} to {not_after}, the timestamp is {time} ± {accuracy_ms} ms"
)]
struct StampOutsideValidity {
    side: OutsideValidity,
    subject: String,
    not_before: String,
    not_after: String,
    time: String,
    accuracy_ms: i64,
}
