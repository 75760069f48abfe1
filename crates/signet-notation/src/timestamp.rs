//! RFC 3161 timestamp countersignatures, verified as notation-go (through tspclient-go) does:
//! the token's TSTInfo must stamp a hash of this signature; the CMS signer must be an
//! embedded certificate named by the `signing-certificate-v2` attribute; its chain, built
//! from the embedded certificates, must lead to a root of the policy's `tsa` trust stores at
//! the stamped time and meet the timestamping certificate requirements.
//!
//! sigstore-rs's RFC 3161 verifier cannot be reused: it pins the timestamp authority's leaf
//! certificate (Sigstore's trusted-root model) and verifies ECDSA signers only, where Notation
//! trusts TSA roots and real TSAs (GlobalSign, DigiCert) sign with RSA.

use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Int, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Tag, Tagged};

use crate::certificate::{
    self, Certificate, CertificateError, ChainError, Purpose, SignatureAlgorithmError,
};
use crate::crypto::{Hash, Scheme, SignatureError};

const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// ETSI's baseline time-stamp policy: without an explicit accuracy it means one second.
const BASELINE_TIMESTAMP_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");

/// A verified timestamp: the stamped time and its accuracy, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// genTime, milliseconds since the Unix epoch.
    pub(crate) time_ms: i64,
    /// The accuracy, in milliseconds.
    pub(crate) accuracy_ms: i64,
    /// Whether a certificate of the TSA chain names an OCSP responder or CRL.
    pub(crate) revocable: bool,
}

impl Stamp {
    /// Whether the whole interval [time - accuracy, time + accuracy] lies within
    /// [not_before, not_after] (seconds).
    pub(crate) fn within(&self, not_before: i64, not_after: i64) -> Result<(), OutsideValidity> {
        let lower = self.time_ms - self.accuracy_ms;
        let upper = self.time_ms + self.accuracy_ms;
        if lower < not_before.saturating_mul(1000) {
            return Err(OutsideValidity::Before);
        }
        if upper > not_after.saturating_mul(1000) {
            return Err(OutsideValidity::After);
        }
        Ok(())
    }
}

/// Which end of a certificate's validity a timestamp (with its accuracy) can fall outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum OutsideValidity {
    #[error("the timestamp can be before the certificate's validity")]
    Before,
    #[error("the timestamp can be after the certificate's validity")]
    After,
}

/// Why an RFC 3161 timestamp token does not verify.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum TimestampError {
    #[error("the token is not CMS (DER)")]
    NotCms(#[source] der::Error),
    #[error("the token is {0} content, not SignedData")]
    NotSignedData(ObjectIdentifier),
    #[error("malformed SignedData")]
    MalformedSignedData(#[source] der::Error),
    #[error("unexpected content type {0}; a timestamp token holds id-ct-TSTInfo")]
    NotTstInfo(ObjectIdentifier),
    #[error("the token holds no TSTInfo")]
    NoTstInfo,
    #[error("the TSTInfo is not an OCTET STRING")]
    TstInfoNotOctetString(#[source] der::Error),
    #[error("malformed TSTInfo")]
    MalformedTstInfo(#[source] der::Error),
    #[error("the TSTInfo version is not 1")]
    TstInfoVersion,
    #[error("the message imprint uses hash {0}, not SHA-256/384/512")]
    ImprintHash(ObjectIdentifier),
    #[error("the timestamp is over another signature (message imprint mismatch)")]
    ImprintMismatch,
    #[error(transparent)]
    GenTime(#[from] GenTimeError),
    #[error("an embedded certificate does not parse")]
    EmbeddedCertificate(#[source] CertificateError),
    #[error("the token has no signer")]
    NoSigner,
    #[error("signing certificate not found in the timestamp token")]
    SignerNotFound,
    #[error("the signer has no signed attributes")]
    NoSignedAttributes,
    #[error("the signed attributes have no content type")]
    NoContentType,
    #[error("the signed content type is {0}, not id-ct-TSTInfo")]
    ContentType(ObjectIdentifier),
    #[error("unsupported digest algorithm {0}")]
    DigestAlgorithm(ObjectIdentifier),
    #[error("the signed attributes have no message digest")]
    NoMessageDigest,
    #[error("the message digest does not match the TSTInfo")]
    MessageDigest,
    #[error("the signed attributes have no signing-certificate-v2")]
    NoSigningCertificate,
    #[error(transparent)]
    SigningCertificate(#[from] SigningCertificateError),
    #[error("the signing certificate's hash does not match signing-certificate-v2")]
    SigningCertificateHash,
    #[error("re-encoding the signed attributes")]
    SignedAttributes(#[source] der::Error),
    #[error(transparent)]
    Algorithm(#[from] SignatureAlgorithmError),
    #[error("the timestamp signature")]
    Signature(#[source] SignatureError),
    #[error(transparent)]
    Chain(#[from] TsaChainError),
    #[error("the timestamping certificate chain")]
    Requirements(#[source] ChainError),
}

/// Why a TSTInfo's genTime is not a time.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum GenTimeError {
    #[error("genTime is not a GeneralizedTime")]
    NotGeneralizedTime,
    #[error("genTime is not ASCII")]
    NotAscii,
    #[error("genTime is not in UTC (no Z)")]
    NotUtc,
    #[error("genTime {0:?} is malformed")]
    Malformed(String),
    #[error("genTime {text:?}")]
    OutOfRange {
        text: String,
        #[source]
        source: jiff::Error,
    },
}

/// Why a signing-certificate-v2 attribute cannot be read.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum SigningCertificateError {
    #[error("malformed signing-certificate-v2")]
    Malformed(#[source] der::Error),
    #[error("empty signing-certificate-v2")]
    Empty,
    #[error("signing-certificate-v2 names no certificate")]
    NoCertificate,
    #[error("empty ESSCertIDv2")]
    EmptyCertId,
    #[error("ESSCertIDv2 without certHash")]
    NoCertHash,
    #[error("unsupported certificate hash algorithm {0}")]
    HashAlgorithm(ObjectIdentifier),
}

/// Why the timestamp authority's certificates lead to no trusted root.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum TsaChainError {
    #[error("no trusted timestamp authority root in the tsa trust stores")]
    NoRoot,
    #[error("empty chain")]
    Empty,
    #[error("certificate {0:?} was not valid at the timestamp")]
    NotValid(String),
    #[error("the timestamp's certificate chain is too long")]
    TooLong,
    #[error("root {0:?} was not valid at the timestamp")]
    RootNotValid(String),
    #[error("certificate {0:?} does not chain to a trusted timestamp authority root")]
    Untrusted(String),
}

#[derive(der::Sequence)]
struct MessageImprint {
    hash_algorithm: x509_cert::spki::AlgorithmIdentifierOwned,
    hashed_message: der::asn1::OctetString,
}

#[derive(der::Sequence)]
struct Accuracy {
    #[asn1(optional = "true")]
    seconds: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    millis: Option<Int>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    micros: Option<Int>,
}

#[derive(der::Sequence)]
struct TstInfo {
    version: Int,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    // Decoded by hand: DER GeneralizedTime may carry fractions, which `der` refuses.
    gen_time: der::Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(optional = "true")]
    ordering: Option<bool>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<der::Any>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// A small non-negative INTEGER (accuracy fields).
fn small(int: &Option<Int>) -> i64 {
    int.as_ref()
        .and_then(|i| {
            let bytes = i.as_bytes();
            if bytes.len() > 4 || bytes.first().is_some_and(|b| b & 0x80 != 0) {
                return None;
            }
            Some(bytes.iter().fold(0_i64, |acc, b| acc * 256 + i64::from(*b)))
        })
        .unwrap_or(0)
}

/// Parses `YYYYMMDDHHMMSS[.fff…]Z` into milliseconds since the epoch.
fn generalized_time_ms(any: &der::Any) -> Result<i64, GenTimeError> {
    if any.tag() != Tag::GeneralizedTime {
        return Err(GenTimeError::NotGeneralizedTime);
    }
    let text = std::str::from_utf8(any.value()).map_err(|_| GenTimeError::NotAscii)?;
    let body = text.strip_suffix('Z').ok_or(GenTimeError::NotUtc)?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GenTimeError::Malformed(text.to_owned()));
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(GenTimeError::Malformed(text.to_owned()));
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &whole[0..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14]
    );
    let seconds = rfc3339
        .parse::<jiff::Timestamp>()
        .map_err(|source| GenTimeError::OutOfRange {
            text: text.to_owned(),
            source,
        })?
        .as_second();
    let millis: i64 = format!("{fraction:0<3}")[..3].parse().unwrap_or(0);
    Ok(seconds * 1000 + millis)
}

/// Verifies `token` as a timestamp over `signature` by an authority rooted in `roots`.
pub(crate) fn verify(
    token: &[u8],
    signature: &[u8],
    roots: &[&Certificate],
) -> Result<Stamp, TimestampError> {
    use TimestampError as E;
    let content_info = ContentInfo::from_der(token).map_err(E::NotCms)?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(E::NotSignedData(content_info.content_type));
    }
    let signed: SignedData = content_info
        .content
        .decode_as()
        .map_err(E::MalformedSignedData)?;
    if signed.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(E::NotTstInfo(signed.encap_content_info.econtent_type));
    }
    let tst_der = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or(E::NoTstInfo)?
        .decode_as::<OctetStringRef<'_>>()
        .map_err(E::TstInfoNotOctetString)?
        .as_bytes()
        .to_vec();
    let tst = TstInfo::from_der(&tst_der).map_err(E::MalformedTstInfo)?;
    if tst.version.as_bytes() != [1] {
        return Err(E::TstInfoVersion);
    }
    let imprint_hash = Hash::from_oid(&tst.message_imprint.hash_algorithm.oid)
        .ok_or(E::ImprintHash(tst.message_imprint.hash_algorithm.oid))?;
    if imprint_hash.digest(signature) != tst.message_imprint.hashed_message.as_bytes() {
        return Err(E::ImprintMismatch);
    }
    let time_ms = generalized_time_ms(&tst.gen_time)?;
    let accuracy_ms = match &tst.accuracy {
        Some(a) => small(&a.seconds) * 1000 + small(&a.millis) + (small(&a.micros) + 999) / 1000,
        None if tst.policy == BASELINE_TIMESTAMP_POLICY => 1000,
        None => 0,
    };

    let embedded: Vec<Certificate> = match &signed.certificates {
        Some(set) => set
            .0
            .iter()
            .filter_map(|c| match c {
                cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
                cms::cert::CertificateChoices::Other(_) => None,
            })
            .map(|der| Certificate::from_der(&der))
            .collect::<Result<_, _>>()
            .map_err(E::EmbeddedCertificate)?,
        None => Vec::new(),
    };
    let signer_info = signed.signer_infos.0.iter().next().ok_or(E::NoSigner)?;
    let signer = find_signer(signer_info, &embedded).ok_or(E::SignerNotFound)?;
    check_signed_attributes(signer_info, &tst_der, signer)?;
    let chain = build_chain(signer, &embedded, roots, time_ms / 1000)?;
    certificate::chain_problem(&chain, Purpose::Timestamping).map_err(E::Requirements)?;
    Ok(Stamp {
        time_ms,
        accuracy_ms,
        revocable: chain.iter().any(Certificate::names_revocation_service),
    })
}

fn find_signer<'c>(info: &SignerInfo, embedded: &'c [Certificate]) -> Option<&'c Certificate> {
    embedded.iter().find(|c| {
        let Ok(parsed) = x509_cert::Certificate::from_der(c.der()) else {
            return false;
        };
        match &info.sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                parsed.tbs_certificate.issuer == ias.issuer
                    && parsed.tbs_certificate.serial_number == ias.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => parsed
                .tbs_certificate
                .get::<x509_cert::ext::pkix::SubjectKeyIdentifier>()
                .ok()
                .flatten()
                .is_some_and(|(_, own)| own == *ski),
        }
    })
}

/// The signed attributes: content type, message digest of the TSTInfo, the
/// signing-certificate-v2 hash of the signer, and the signature over them.
fn check_signed_attributes(
    info: &SignerInfo,
    tst_der: &[u8],
    signer: &Certificate,
) -> Result<(), TimestampError> {
    use TimestampError as E;
    let attrs = info.signed_attrs.as_ref().ok_or(E::NoSignedAttributes)?;
    let value = |oid: ObjectIdentifier| {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let content_type = value(ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
        .ok_or(E::NoContentType)?;
    if content_type != ID_CT_TST_INFO {
        return Err(E::ContentType(content_type));
    }
    let digest_hash =
        Hash::from_oid(&info.digest_alg.oid).ok_or(E::DigestAlgorithm(info.digest_alg.oid))?;
    let message_digest = value(ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetStringRef<'_>>().ok())
        .ok_or(E::NoMessageDigest)?;
    if message_digest.as_bytes() != digest_hash.digest(tst_der) {
        return Err(E::MessageDigest);
    }
    let signing_certificate = value(ID_SIGNING_CERTIFICATE_V2).ok_or(E::NoSigningCertificate)?;
    let (cert_hash_alg, cert_hash) = first_ess_cert_id_v2(signing_certificate)?;
    if cert_hash_alg.digest(signer.der()) != cert_hash {
        return Err(E::SigningCertificateHash);
    }
    let to_verify = attrs.to_der().map_err(E::SignedAttributes)?;
    let scheme = match info.signature_algorithm.oid {
        oid if oid == crate::crypto::RSA_ENCRYPTION => Scheme::Pkcs1(digest_hash),
        _ => certificate::signature_scheme(&info.signature_algorithm)?,
    };
    signer
        .key()
        .verify(scheme, &to_verify, info.signature.as_bytes())
        .map_err(E::Signature)
}

/// The hash algorithm (default SHA-256) and certHash of the first ESSCertIDv2.
fn first_ess_cert_id_v2(attribute: &der::Any) -> Result<(Hash, Vec<u8>), SigningCertificateError> {
    use SigningCertificateError as E;
    let malformed = E::Malformed;
    let outer: Vec<der::Any> = attribute.decode_as().map_err(malformed)?;
    let certs: Vec<der::Any> = outer
        .first()
        .ok_or(E::Empty)?
        .decode_as()
        .map_err(malformed)?;
    let first: Vec<der::Any> = certs
        .first()
        .ok_or(E::NoCertificate)?
        .decode_as()
        .map_err(malformed)?;
    let mut fields = first.iter();
    let mut field = fields.next().ok_or(E::EmptyCertId)?;
    let hash = if field.tag() == Tag::Sequence {
        let alg: x509_cert::spki::AlgorithmIdentifierOwned =
            field.decode_as().map_err(malformed)?;
        field = fields.next().ok_or(E::NoCertHash)?;
        Hash::from_oid(&alg.oid).ok_or(E::HashAlgorithm(alg.oid))?
    } else {
        Hash::Sha256
    };
    let cert_hash = field
        .decode_as::<OctetStringRef<'_>>()
        .map_err(malformed)?
        .as_bytes()
        .to_vec();
    Ok((hash, cert_hash))
}

/// The chain from `signer` to a root of `roots`, through the embedded certificates, every
/// certificate valid at `time` (seconds).
fn build_chain(
    signer: &Certificate,
    embedded: &[Certificate],
    roots: &[&Certificate],
    time: i64,
) -> Result<Vec<Certificate>, TsaChainError> {
    if roots.is_empty() {
        return Err(TsaChainError::NoRoot);
    }
    let mut chain = vec![signer.clone()];
    loop {
        let Some(current) = chain.last() else {
            return Err(TsaChainError::Empty);
        };
        if !current.valid_at(time) {
            return Err(TsaChainError::NotValid(current.subject()));
        }
        if roots.iter().any(|r| r.der() == current.der()) {
            return Ok(chain);
        }
        if chain.len() >= certificate::MAX_CHAIN_LENGTH {
            return Err(TsaChainError::TooLong);
        }
        if let Some(root) = roots.iter().find(|r| current.check_issued_by(r).is_ok()) {
            let root = (*root).clone();
            if !root.valid_at(time) {
                return Err(TsaChainError::RootNotValid(root.subject()));
            }
            chain.push(root);
            return Ok(chain);
        }
        let next = embedded.iter().find(|c| {
            c.der() != current.der()
                && !chain.iter().any(|x| x.der() == c.der())
                && current.check_issued_by(c).is_ok()
        });
        match next {
            Some(parent) => chain.push(parent.clone()),
            None => return Err(TsaChainError::Untrusted(current.subject())),
        }
    }
}
