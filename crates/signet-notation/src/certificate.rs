//! X.509 certificates as the Notary Project uses them: parsed, checked against the
//! specification's certificate requirements, and chained in the order the envelope gives.
//!
//! The rules follow notation-core-go's `x509` package (`ValidateCodeSigningCertChain`,
//! `ValidateTimestampingCertChain`): a chain is an ordered list from the signing certificate
//! to a self-signed root, each certificate issued (subject name and signature) by the next.

use std::collections::BTreeMap;

use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::oid::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use crate::check::{NotationCheck, NotationFailure, Outcome};
use crate::crypto::{Hash, KeySpec, PublicKey, Scheme, SignatureError};

const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const EXTENDED_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// `id-kp-*` extended key usages the code-signing rules name.
pub(crate) const EKU_SERVER_AUTH: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
const EKU_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
const EKU_EMAIL_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
pub(crate) const EKU_TIME_STAMPING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const EKU_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
pub(crate) const EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

/// Authority information access and CRL distribution points: where revocation is checked.
const AUTHORITY_INFO_ACCESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
const CRL_DISTRIBUTION_POINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");

/// Bounds on certificate chains, so hostile envelopes cost little.
pub(crate) const MAX_CHAIN_LENGTH: usize = 10;

/// A parsed certificate with what the checks read from it.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    key: PublicKey,
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
}

impl Certificate {
    /// Parses a DER certificate. Duplicate extensions are refused, as Go refuses them.
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, CertificateError> {
        let parsed = x509_cert::Certificate::from_der(der)?;
        if let Some(extensions) = &parsed.tbs_certificate.extensions {
            let mut seen = std::collections::BTreeSet::new();
            for e in extensions {
                if !seen.insert(e.extn_id) {
                    return Err(CertificateError::DuplicateExtension(e.extn_id));
                }
            }
        }
        let key = PublicKey::from_spki(&parsed.tbs_certificate.subject_public_key_info);
        let subject_der = parsed.tbs_certificate.subject.to_der()?;
        let issuer_der = parsed.tbs_certificate.issuer.to_der()?;
        Ok(Self {
            der: der.to_vec(),
            parsed,
            key,
            subject_der,
            issuer_der,
        })
    }

    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The SubjectPublicKeyInfo, DER.
    pub(crate) fn spki_der(&self) -> Vec<u8> {
        self.parsed
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap_or_default()
    }

    /// The subject in the form Go prints it (`CN=…,O=…,C=…`), for messages.
    pub(crate) fn subject(&self) -> String {
        self.parsed.tbs_certificate.subject.to_string()
    }

    /// Seconds since the Unix epoch of notBefore and notAfter.
    pub(crate) fn validity(&self) -> (i64, i64) {
        let v = &self.parsed.tbs_certificate.validity;
        let secs = |t: &x509_cert::time::Time| {
            i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
        };
        (secs(&v.not_before), secs(&v.not_after))
    }

    /// Whether the certificate is valid at `time` (inclusive at both ends, as Go checks).
    pub(crate) fn valid_at(&self, time: i64) -> bool {
        let (not_before, not_after) = self.validity();
        not_before <= time && time <= not_after
    }

    fn extension(&self, oid: ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
        self.parsed
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)
    }

    fn key_usage(&self) -> Result<Option<(bool, KeyUsage)>, ExtensionError> {
        self.extension(KEY_USAGE)
            .map(|e| {
                KeyUsage::from_der(e.extn_value.as_bytes())
                    .map(|ku| (e.critical, ku))
                    .map_err(|source| ExtensionError {
                        extension: "key usage",
                        source,
                    })
            })
            .transpose()
    }

    fn basic_constraints(&self) -> Result<Option<BasicConstraints>, ExtensionError> {
        self.extension(BASIC_CONSTRAINTS)
            .map(|e| {
                BasicConstraints::from_der(e.extn_value.as_bytes()).map_err(|source| {
                    ExtensionError {
                        extension: "basic constraints",
                        source,
                    }
                })
            })
            .transpose()
    }

    fn extended_key_usage(&self) -> Result<Option<(bool, Vec<ObjectIdentifier>)>, ExtensionError> {
        self.extension(EXTENDED_KEY_USAGE)
            .map(|e| {
                ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                    .map(|eku| (e.critical, eku.0))
                    .map_err(|source| ExtensionError {
                        extension: "extended key usage",
                        source,
                    })
            })
            .transpose()
    }

    /// Whether the certificate names an OCSP responder or a CRL distribution point, i.e.
    /// whether it can be revoked.
    pub(crate) fn names_revocation_service(&self) -> bool {
        let ocsp = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
        let has_ocsp = self.extension(AUTHORITY_INFO_ACCESS).is_some_and(|e| {
            x509_cert::ext::pkix::AuthorityInfoAccessSyntax::from_der(e.extn_value.as_bytes())
                .map(|aia| aia.0.iter().any(|d| d.access_method == ocsp))
                .unwrap_or(true)
        });
        has_ocsp || self.extension(CRL_DISTRIBUTION_POINTS).is_some()
    }

    /// Checks that `self` is issued by `issuer`: the names match byte for byte and the
    /// signature verifies with the issuer's key. SHA-1 signatures are refused.
    pub(crate) fn check_issued_by(&self, issuer: &Certificate) -> Result<(), IssuanceError> {
        if self.issuer_der != issuer.subject_der {
            return Err(IssuanceError::IssuerName(issuer.subject()));
        }
        let scheme = signature_scheme(&self.parsed.signature_algorithm)?;
        let tbs = self
            .parsed
            .tbs_certificate
            .to_der()
            .map_err(IssuanceError::Encoding)?;
        let signature = self
            .parsed
            .signature
            .as_bytes()
            .ok_or(IssuanceError::UnusedBits)?;
        Ok(issuer.key.verify(scheme, &tbs, signature)?)
    }

    /// Self-signed: issued by itself, by name and signature.
    pub(crate) fn is_self_signed(&self) -> bool {
        self.check_issued_by(self).is_ok()
    }

    /// Whether the signature verifies with the certificate's own key, names aside (Go's
    /// `cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, …)`).
    pub(crate) fn signed_by_own_key(&self) -> bool {
        let Ok(scheme) = signature_scheme(&self.parsed.signature_algorithm) else {
            return false;
        };
        let (Ok(tbs), Some(signature)) = (
            self.parsed.tbs_certificate.to_der(),
            self.parsed.signature.as_bytes(),
        ) else {
            return false;
        };
        self.key.verify(scheme, &tbs, signature).is_ok()
    }

    /// Whether basic constraints say this is a CA.
    pub(crate) fn is_ca(&self) -> bool {
        matches!(self.basic_constraints(), Ok(Some(bc)) if bc.ca)
    }

    /// The SHA-256 fingerprint, lower-case hex (as notation's thumbprint annotation).
    pub(crate) fn sha256_hex(&self) -> String {
        Hash::Sha256
            .digest(&self.der)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The subject's attributes by the names Go gives them, as notation-go compares trusted
    /// identities: each attribute once, in a single-valued RDN, of a type Go names.
    pub(crate) fn subject_attributes(&self) -> Result<BTreeMap<String, String>, SubjectError> {
        let mut attributes = BTreeMap::new();
        for rdn in self.parsed.tbs_certificate.subject.0.iter() {
            if rdn.0.len() > 1 {
                return Err(SubjectError::MultiValuedRdn);
            }
            for atv in rdn.0.iter() {
                let name =
                    attribute_name(&atv.oid).ok_or(SubjectError::UnknownAttribute(atv.oid))?;
                let value = directory_string(&atv.value).ok_or(SubjectError::NotAString(name))?;
                if attributes.insert(name.to_owned(), value).is_some() {
                    return Err(SubjectError::Repeated(name));
                }
            }
        }
        Ok(attributes)
    }
}

/// Go's short names for the attribute types `pkix.Name.String` prints without hex.
fn attribute_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    Some(match oid.to_string().as_str() {
        "2.5.4.6" => "C",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.3" => "CN",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.17" => "POSTALCODE",
        _ => return None,
    })
}

fn directory_string(value: &der::Any) -> Option<String> {
    if let Ok(s) = value.decode_as::<Utf8StringRef<'_>>() {
        return Some(s.as_str().to_owned());
    }
    if let Ok(s) = value.decode_as::<PrintableStringRef<'_>>() {
        return Some(s.as_str().to_owned());
    }
    if let Ok(s) = value.decode_as::<Ia5StringRef<'_>>() {
        return Some(s.as_str().to_owned());
    }
    if let Ok(s) = value.decode_as::<TeletexStringRef<'_>>() {
        return Some(s.as_str().to_owned());
    }
    None
}

/// The scheme of a certificate or CMS signature algorithm identifier.
pub(crate) fn signature_scheme(
    algorithm: &x509_cert::spki::AlgorithmIdentifierOwned,
) -> Result<Scheme, SignatureAlgorithmError> {
    let scheme = match algorithm.oid.to_string().as_str() {
        "1.2.840.113549.1.1.11" => Scheme::Pkcs1(Hash::Sha256),
        "1.2.840.113549.1.1.12" => Scheme::Pkcs1(Hash::Sha384),
        "1.2.840.113549.1.1.13" => Scheme::Pkcs1(Hash::Sha512),
        "1.2.840.10045.4.3.2" => Scheme::EcdsaDer(Hash::Sha256),
        "1.2.840.10045.4.3.3" => Scheme::EcdsaDer(Hash::Sha384),
        "1.2.840.10045.4.3.4" => Scheme::EcdsaDer(Hash::Sha512),
        "1.2.840.113549.1.1.10" => Scheme::Pss(pss_hash(algorithm)?),
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => {
            return Err(SignatureAlgorithmError::Sha1);
        }
        _ => return Err(SignatureAlgorithmError::Unsupported(algorithm.oid)),
    };
    Ok(scheme)
}

/// The hash of RSASSA-PSS parameters, requiring MGF1 with the same hash and a salt as long
/// as the hash (the only form aws-lc-rs verifies, and what Go and OpenSSL write).
fn pss_hash(
    algorithm: &x509_cert::spki::AlgorithmIdentifierOwned,
) -> Result<Hash, SignatureAlgorithmError> {
    #[derive(der::Sequence)]
    struct PssParams {
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        hash: Option<x509_cert::spki::AlgorithmIdentifierOwned>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        mask_gen: Option<x509_cert::spki::AlgorithmIdentifierOwned>,
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
        salt_length: Option<u32>,
        #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
        trailer: Option<u32>,
    }
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or(SignatureAlgorithmError::PssWithoutParameters)?
        .decode_as::<PssParams>()
        .map_err(SignatureAlgorithmError::PssMalformed)?;
    let hash = params
        .hash
        .as_ref()
        .and_then(|h| Hash::from_oid(&h.oid))
        .ok_or(SignatureAlgorithmError::PssHash)?;
    let salt = params.salt_length.unwrap_or(20);
    let expected = match hash {
        Hash::Sha256 => 32,
        Hash::Sha384 => 48,
        Hash::Sha512 => 64,
    };
    if salt != expected || params.trailer.unwrap_or(1) != 1 || params.mask_gen.is_none() {
        return Err(SignatureAlgorithmError::PssParameters);
    }
    Ok(hash)
}

/// What the chain is for: the rules differ slightly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    CodeSigning,
    Timestamping,
}

/// Checks an ordered chain as notation-core-go does: one self-signed certificate that meets
/// the leaf rules, or a leaf, intermediates and a self-signed root, each issued by the next,
/// meeting the leaf and CA rules. Validity times are checked elsewhere.
pub(crate) fn check_chain(chain: &[Certificate], purpose: Purpose) -> Outcome<()> {
    chain_problem(chain, purpose).map_err(|problem| {
        let check = match problem {
            ChainError::Requirements(_) => NotationCheck::CertificateRequirements,
            _ => NotationCheck::CertificateChain,
        };
        NotationFailure::because(check, problem)
    })
}

pub(crate) fn chain_problem(chain: &[Certificate], purpose: Purpose) -> Result<(), ChainError> {
    let Some(leaf) = chain.first() else {
        return Err(ChainError::Empty);
    };
    if chain.len() > MAX_CHAIN_LENGTH {
        return Err(ChainError::TooLong(chain.len()));
    }
    if chain.len() == 1 {
        leaf.check_issued_by(leaf)
            .map_err(|source| ChainError::OnlyNotSelfSigned {
                subject: leaf.subject(),
                source,
            })?;
        return Ok(leaf_requirements(leaf, purpose)?);
    }
    for (i, cert) in chain.iter().enumerate() {
        if i == chain.len() - 1 {
            cert.check_issued_by(cert)
                .map_err(|source| ChainError::RootNotSelfSigned {
                    subject: cert.subject(),
                    source,
                })?;
        } else {
            if cert.is_self_signed() {
                return Err(ChainError::SelfSignedInside {
                    role: if i == 0 { "signing" } else { "intermediate" },
                    subject: cert.subject(),
                });
            }
            let parent = &chain[i + 1];
            cert.check_issued_by(parent)
                .map_err(|source| ChainError::NotIssuedByNext {
                    subject: cert.subject(),
                    issuer: parent.subject(),
                    source,
                })?;
        }
        if i == 0 {
            leaf_requirements(cert, purpose)?;
        } else {
            ca_requirements(cert, i - 1, purpose)?;
        }
    }
    Ok(())
}

fn leaf_requirements(cert: &Certificate, purpose: Purpose) -> Result<(), RequirementError> {
    use RequirementError as E;
    let subject = cert.subject();
    if let Some(bc) = cert.basic_constraints()?
        && bc.ca
    {
        return Err(E::SigningCertificateIsCa { subject });
    }
    let Some((critical, usage)) = cert.key_usage()? else {
        return Err(E::NoKeyUsage {
            role: "certificate",
            subject,
        });
    };
    if purpose == Purpose::CodeSigning && !critical {
        return Err(E::KeyUsageNotCritical {
            role: "certificate",
            subject,
        });
    }
    if !usage.0.contains(KeyUsages::DigitalSignature) {
        return Err(E::NoDigitalSignature { subject });
    }
    let forbidden = [
        (KeyUsages::KeyEncipherment, "keyEncipherment"),
        (KeyUsages::DataEncipherment, "dataEncipherment"),
        (KeyUsages::KeyAgreement, "keyAgreement"),
        (KeyUsages::KeyCertSign, "keyCertSign"),
        (KeyUsages::CRLSign, "cRLSign"),
        (KeyUsages::EncipherOnly, "encipherOnly"),
        (KeyUsages::DecipherOnly, "decipherOnly"),
    ];
    let found: Vec<&'static str> = forbidden
        .iter()
        .filter(|(bit, _)| usage.0.contains(*bit))
        .map(|(_, name)| *name)
        .collect();
    if !found.is_empty() {
        return Err(E::KeyUsageBeyondDigitalSignature {
            subject,
            usages: found,
        });
    }
    let eku = cert.extended_key_usage()?;
    match purpose {
        Purpose::CodeSigning => {
            if let Some((_, usages)) = eku {
                let refused = [
                    (EKU_SERVER_AUTH, "serverAuth"),
                    (EKU_CLIENT_AUTH, "clientAuth"),
                    (EKU_EMAIL_PROTECTION, "emailProtection"),
                    (EKU_TIME_STAMPING, "timeStamping"),
                    (EKU_OCSP_SIGNING, "OCSPSigning"),
                    (EKU_ANY, "anyExtendedKeyUsage"),
                ];
                if let Some((_, name)) = refused.iter().find(|(oid, _)| usages.contains(oid)) {
                    return Err(E::RefusedExtendedKeyUsage {
                        subject,
                        usage: name,
                    });
                }
            }
        }
        Purpose::Timestamping => match eku {
            Some((true, usages)) if usages == [EKU_TIME_STAMPING] => {}
            Some((false, usages)) if usages == [EKU_TIME_STAMPING] => {
                return Err(E::TimestampingUsageNotCritical { subject });
            }
            _ => return Err(E::NotOnlyTimestamping { subject }),
        },
    }
    match cert.key().spec() {
        Some(KeySpec::Rsa(2048 | 3072 | 4096)) | Some(KeySpec::Ec(256 | 384 | 521)) => Ok(()),
        _ => Err(E::Key {
            subject,
            key: cert.key().describe(),
        }),
    }
}

fn ca_requirements(
    cert: &Certificate,
    below: usize,
    purpose: Purpose,
) -> Result<(), RequirementError> {
    use RequirementError as E;
    let subject = cert.subject();
    let bc = cert.basic_constraints()?;
    let Some(bc) = bc.filter(|bc| bc.ca) else {
        return Err(E::NotCa { subject });
    };
    if let Some(max) = bc.path_len_constraint
        && usize::from(max) < below
    {
        return Err(E::PathLength {
            subject,
            max,
            below,
        });
    }
    let Some((critical, usage)) = cert.key_usage()? else {
        return Err(E::NoKeyUsage {
            role: "CA certificate",
            subject,
        });
    };
    if purpose == Purpose::CodeSigning && !critical {
        return Err(E::KeyUsageNotCritical {
            role: "CA certificate",
            subject,
        });
    }
    if !usage.0.contains(KeyUsages::KeyCertSign) {
        return Err(E::NoKeyCertSign { subject });
    }
    Ok(())
}

/// Parses a trust store file: one or more certificates, PEM or DER.
pub(crate) fn parse_certificate_file(
    bytes: &[u8],
) -> Result<Vec<Certificate>, CertificateFileError> {
    use CertificateFileError as E;
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"-----BEGIN") {
        let blocks = pem::parse_many(bytes).map_err(E::Pem)?;
        let certificates: Vec<Certificate> = blocks
            .iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(|b| Certificate::from_der(b.contents()))
            .collect::<Result<_, _>>()?;
        if certificates.is_empty() {
            return Err(E::NoCertificateBlock);
        }
        return Ok(certificates);
    }
    // DER: one or more certificates back to back.
    let mut certificates = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let mut reader = der::SliceReader::new(rest).map_err(E::Length)?;
        let header = der::Header::decode(&mut reader).map_err(E::NotDer)?;
        let total =
            (header.encoded_len().map_err(E::Length)? + header.length).map_err(E::Length)?;
        let len = usize::try_from(total).map_err(E::Length)?;
        let (one, tail) = rest.split_at_checked(len).ok_or(E::Truncated)?;
        certificates.push(Certificate::from_der(one)?);
        rest = tail;
    }
    if certificates.is_empty() {
        return Err(E::Empty);
    }
    Ok(certificates)
}

/// Why bytes are not a certificate signet can use.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum CertificateError {
    /// Not a DER X.509 certificate (or a name that does not re-encode).
    #[error(transparent)]
    Der(#[from] der::Error),
    /// An extension appears twice, which Go refuses.
    #[error("duplicate extension {0}")]
    DuplicateExtension(ObjectIdentifier),
}

/// A certificate extension that does not decode.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the {extension} extension is malformed")]
pub(crate) struct ExtensionError {
    extension: &'static str,
    #[source]
    source: der::Error,
}

/// A signature algorithm identifier (of a certificate or a CMS signer) signet does not accept.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum SignatureAlgorithmError {
    /// SHA-1 with RSA or ECDSA.
    #[error("it is signed with SHA-1, which the specification forbids")]
    Sha1,
    /// Another algorithm.
    #[error("unsupported signature algorithm {0}")]
    Unsupported(ObjectIdentifier),
    /// RSASSA-PSS whose parameters are absent.
    #[error("RSASSA-PSS without parameters")]
    PssWithoutParameters,
    /// RSASSA-PSS whose parameters do not decode.
    #[error("malformed RSASSA-PSS parameters")]
    PssMalformed(#[source] der::Error),
    /// RSASSA-PSS with SHA-1 or an unknown hash.
    #[error("RSASSA-PSS with a hash other than SHA-256/384/512")]
    PssHash,
    /// RSASSA-PSS with another mask generation, salt length or trailer.
    #[error("RSASSA-PSS parameters other than MGF1 and a salt the size of the hash")]
    PssParameters,
}

/// Why a certificate is not issued by another.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum IssuanceError {
    /// The issuer name is not the other's subject, byte for byte.
    #[error("its issuer name is not the subject of {0:?}")]
    IssuerName(String),
    /// The certificate's signature algorithm is not accepted.
    #[error(transparent)]
    Algorithm(#[from] SignatureAlgorithmError),
    /// The to-be-signed part does not re-encode.
    #[error(transparent)]
    Encoding(der::Error),
    /// The signature BIT STRING has unused bits.
    #[error("the signature has unused bits")]
    UnusedBits,
    /// The signature does not verify with the issuer's key.
    #[error(transparent)]
    Signature(#[from] SignatureError),
}

/// Why a signing certificate's subject cannot be compared with trusted identities.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum SubjectError {
    #[error("the subject has a multi-valued RDN")]
    MultiValuedRdn,
    #[error("the subject has an attribute of type {0}, which notation-go cannot compare")]
    UnknownAttribute(ObjectIdentifier),
    #[error("the subject's {0} is not a string")]
    NotAString(&'static str),
    #[error("the subject has more than one {0}")]
    Repeated(&'static str),
}

/// Why a certificate chain is refused: its shape ([`NotationCheck::CertificateChain`]) or a
/// certificate's requirements ([`NotationCheck::CertificateRequirements`]).
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum ChainError {
    #[error("the certificate chain is empty")]
    Empty,
    #[error("the certificate chain has {0} certificates, more than {MAX_CHAIN_LENGTH}")]
    TooLong(usize),
    #[error("the only certificate, {subject:?}, is not self-signed")]
    OnlyNotSelfSigned {
        subject: String,
        #[source]
        source: IssuanceError,
    },
    #[error("the chain must end with a self-signed root, but {subject:?} is not self-signed")]
    RootNotSelfSigned {
        subject: String,
        #[source]
        source: IssuanceError,
    },
    #[error("the {role} certificate {subject:?} is self-signed, but is not the last of the chain")]
    SelfSignedInside { role: &'static str, subject: String },
    #[error("certificate {subject:?} is not issued by the next one, {issuer:?}")]
    NotIssuedByNext {
        subject: String,
        issuer: String,
        #[source]
        source: IssuanceError,
    },
    #[error(transparent)]
    Requirements(#[from] RequirementError),
}

/// A Notary Project certificate requirement a certificate breaks.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RequirementError {
    #[error(transparent)]
    Extension(#[from] ExtensionError),
    #[error("the signing certificate {subject:?} is a CA (basic constraints cA is true)")]
    SigningCertificateIsCa { subject: String },
    /// `role` is "certificate" or "CA certificate".
    #[error("{role} {subject:?} has no key usage extension")]
    NoKeyUsage { role: &'static str, subject: String },
    #[error("{role} {subject:?}: the key usage extension must be critical")]
    KeyUsageNotCritical { role: &'static str, subject: String },
    #[error("certificate {subject:?}: the key usage must include digitalSignature")]
    NoDigitalSignature { subject: String },
    #[error(
        "certificate {subject:?}: the key usage must be digitalSignature only, but has {}",
        .usages.join(", ")
    )]
    KeyUsageBeyondDigitalSignature {
        subject: String,
        usages: Vec<&'static str>,
    },
    #[error("certificate {subject:?}: the extended key usage must not contain {usage}")]
    RefusedExtendedKeyUsage {
        subject: String,
        usage: &'static str,
    },
    #[error(
        "timestamping certificate {subject:?}: the extended key usage extension must be critical"
    )]
    TimestampingUsageNotCritical { subject: String },
    #[error(
        "timestamping certificate {subject:?} must have timeStamping, and only it, as extended key usage"
    )]
    NotOnlyTimestamping { subject: String },
    #[error(
        "certificate {subject:?} has {key}; the specification allows RSA 2048, 3072 or 4096 and EC P-256, P-384 or P-521"
    )]
    Key { subject: String, key: String },
    #[error("CA certificate {subject:?}: basic constraints must be present with cA true")]
    NotCa { subject: String },
    #[error(
        "CA certificate {subject:?}: its path length constraint is {max}, but {below} CA certificate(s) follow below it"
    )]
    PathLength {
        subject: String,
        max: u8,
        below: usize,
    },
    #[error("CA certificate {subject:?}: the key usage must include keyCertSign")]
    NoKeyCertSign { subject: String },
}

/// Why a trust store file is not certificates.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CertificateFileError {
    #[error("malformed PEM")]
    Pem(#[source] pem::PemError),
    #[error("no CERTIFICATE block")]
    NoCertificateBlock,
    #[error("not DER")]
    NotDer(#[source] der::Error),
    /// A DER length that overflows.
    #[error(transparent)]
    Length(der::Error),
    #[error("truncated DER")]
    Truncated,
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error("the file is empty")]
    Empty,
}
