//! The two envelope formats, parsed into one shape: the signed attributes, the unsigned
//! ones, the payload, the signature and the exact bytes it covers.

mod cose;
mod jws;

use crate::check::{NotationCheck, Outcome, fail};
use crate::crypto::{Hash, KeySpec, Scheme};

pub(crate) use cose::{
    encode_sign1, protected_and_to_be_signed as cose_protected_and_to_be_signed,
};
pub(crate) use jws::encode_flattened;

/// The media type of a JWS envelope (the layer of a signature manifest).
pub const JWS_MEDIA_TYPE: &str = "application/jose+json";
/// The media type of a COSE_Sign1 envelope.
pub const COSE_MEDIA_TYPE: &str = "application/cose";
/// The only payload content type the specification defines.
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

pub(crate) const HEADER_SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
pub(crate) const HEADER_SIGNING_TIME: &str = "io.cncf.notary.signingTime";
pub(crate) const HEADER_AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
pub(crate) const HEADER_EXPIRY: &str = "io.cncf.notary.expiry";
pub(crate) const HEADER_TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";
pub(crate) const HEADER_SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";

/// The envelope format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeFormat {
    /// JWS JSON serialization, flattened (`application/jose+json`).
    Jws,
    /// COSE_Sign1_Tagged (`application/cose`).
    Cose,
}

impl EnvelopeFormat {
    /// The format a signature manifest layer's media type names.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            JWS_MEDIA_TYPE => Some(Self::Jws),
            COSE_MEDIA_TYPE => Some(Self::Cose),
            _ => None,
        }
    }

    /// The layer media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Jws => JWS_MEDIA_TYPE,
            Self::Cose => COSE_MEDIA_TYPE,
        }
    }
}

/// The signing scheme, which decides the trust store type and how signing time is proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningScheme {
    /// `notary.x509`: a CA-issued certificate; signing time from an RFC 3161 countersignature
    /// (trust store types `ca` and `tsa`).
    X509,
    /// `notary.x509.signingAuthority`: a signing authority's certificate and its authentic
    /// signing time (trust store type `signingAuthority`).
    X509SigningAuthority,
}

impl SigningScheme {
    /// The value of `io.cncf.notary.signingScheme`.
    pub fn name(self) -> &'static str {
        match self {
            Self::X509 => "notary.x509",
            Self::X509SigningAuthority => "notary.x509.signingAuthority",
        }
    }

    fn parse(value: &str) -> Outcome<Self> {
        match value {
            "notary.x509" => Ok(Self::X509),
            "notary.x509.signingAuthority" => Ok(Self::X509SigningAuthority),
            other => fail(
                NotationCheck::SigningScheme,
                format!("unsupported signing scheme {other:?}"),
            ),
        }
    }
}

/// A signature algorithm the specification allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS with SHA-256 (RSA 2048).
    Ps256,
    /// RSASSA-PSS with SHA-384 (RSA 3072).
    Ps384,
    /// RSASSA-PSS with SHA-512 (RSA 4096).
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
}

impl SignatureAlgorithm {
    /// The algorithm a signing certificate's key requires.
    pub fn for_key(spec: KeySpec) -> Option<Self> {
        Some(match spec {
            KeySpec::Rsa(2048) => Self::Ps256,
            KeySpec::Rsa(3072) => Self::Ps384,
            KeySpec::Rsa(4096) => Self::Ps512,
            KeySpec::Ec(256) => Self::Es256,
            KeySpec::Ec(384) => Self::Es384,
            KeySpec::Ec(521) => Self::Es512,
            _ => return None,
        })
    }

    /// The JWS `alg` name.
    pub fn jws_name(self) -> &'static str {
        match self {
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Es512 => "ES512",
        }
    }

    fn from_jws_name(name: &str) -> Option<Self> {
        [
            Self::Ps256,
            Self::Ps384,
            Self::Ps512,
            Self::Es256,
            Self::Es384,
            Self::Es512,
        ]
        .into_iter()
        .find(|a| a.jws_name() == name)
    }

    /// The COSE `alg` label.
    pub fn cose_label(self) -> i64 {
        match self {
            Self::Ps256 => -37,
            Self::Ps384 => -38,
            Self::Ps512 => -39,
            Self::Es256 => -7,
            Self::Es384 => -35,
            Self::Es512 => -36,
        }
    }

    fn from_cose_label(label: i64) -> Option<Self> {
        [
            Self::Ps256,
            Self::Ps384,
            Self::Ps512,
            Self::Es256,
            Self::Es384,
            Self::Es512,
        ]
        .into_iter()
        .find(|a| a.cose_label() == label)
    }

    /// The hash the algorithm uses (also the timestamp's and the blob digest's).
    pub fn hash(self) -> Hash {
        match self {
            Self::Ps256 | Self::Es256 => Hash::Sha256,
            Self::Ps384 | Self::Es384 => Hash::Sha384,
            Self::Ps512 | Self::Es512 => Hash::Sha512,
        }
    }

    pub(crate) fn scheme(self) -> Scheme {
        match self {
            Self::Ps256 | Self::Ps384 | Self::Ps512 => Scheme::Pss(self.hash()),
            Self::Es256 | Self::Es384 | Self::Es512 => Scheme::EcdsaFixed(self.hash()),
        }
    }
}

/// A parsed envelope. Nothing in it is trusted until [`crate::verify`] has checked it.
#[derive(Debug, Clone)]
pub(crate) struct Envelope {
    pub(crate) algorithm: SignatureAlgorithm,
    pub(crate) content_type: String,
    pub(crate) scheme: SigningScheme,
    /// `signingTime` (notary.x509) or `authenticSigningTime` (signingAuthority), Unix seconds.
    pub(crate) signing_time: i64,
    pub(crate) expiry: Option<i64>,
    /// Critical headers other than the ones the specification defines.
    pub(crate) unknown_critical: Vec<String>,
    /// DER certificates, signing certificate first.
    pub(crate) certificates: Vec<Vec<u8>>,
    pub(crate) timestamp_token: Option<Vec<u8>>,
    pub(crate) signing_agent: Option<String>,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    /// The bytes the signature is over: the JWS signing input or the COSE Sig_structure.
    pub(crate) signed_bytes: Vec<u8>,
}

/// Parses an envelope of `format`.
pub(crate) fn parse(format: EnvelopeFormat, bytes: &[u8]) -> Outcome<Envelope> {
    let envelope = match format {
        EnvelopeFormat::Jws => jws::parse(bytes)?,
        EnvelopeFormat::Cose => cose::parse(bytes)?,
    };
    if envelope.payload.is_empty() {
        return fail(NotationCheck::Payload, "the payload is empty");
    }
    if envelope.signature.is_empty() {
        return fail(NotationCheck::Parse, "the signature is empty");
    }
    if envelope.certificates.is_empty() {
        return fail(
            NotationCheck::CertificateChain,
            "the envelope carries no certificate chain",
        );
    }
    if let Some(expiry) = envelope.expiry
        && expiry <= envelope.signing_time
    {
        return fail(
            NotationCheck::SigningScheme,
            "the expiry is not after the signing time",
        );
    }
    Ok(envelope)
}

/// The signed attributes both formats share, gathered while reading the protected header.
#[derive(Debug, Default)]
struct ProtectedHeader {
    algorithm: Option<SignatureAlgorithm>,
    content_type: Option<String>,
    critical: Option<Vec<String>>,
    scheme: Option<String>,
    signing_time: Option<i64>,
    authentic_signing_time: Option<i64>,
    expiry: Option<i64>,
    /// Labels of headers the specification does not define.
    extended: Vec<String>,
}

/// Header names (and, for COSE, the integer labels 1 to 3 as text) the specification
/// defines in the protected header.
fn is_defined_header(name: &str) -> bool {
    matches!(
        name,
        HEADER_SIGNING_SCHEME | HEADER_SIGNING_TIME | HEADER_AUTHENTIC_SIGNING_TIME | HEADER_EXPIRY
    )
}

impl ProtectedHeader {
    /// The checks both formats make on the protected header, in notation-core-go's order:
    /// the scheme and its time headers, then `crit`.
    fn validate(self) -> Outcome<ValidatedHeader> {
        let scheme = match self.scheme.as_deref() {
            Some(scheme) => SigningScheme::parse(scheme)?,
            None => {
                return fail(
                    NotationCheck::SigningScheme,
                    format!("the {HEADER_SIGNING_SCHEME} header is missing"),
                );
            }
        };
        let signing_time = match scheme {
            SigningScheme::X509 => {
                if self.authentic_signing_time.is_some() {
                    return fail(
                        NotationCheck::SigningScheme,
                        format!(
                            "{HEADER_AUTHENTIC_SIGNING_TIME} must not be present for notary.x509"
                        ),
                    );
                }
                self.signing_time.ok_or_else(|| {
                    crate::check::NotationFailure::new(
                        NotationCheck::SigningScheme,
                        format!("{HEADER_SIGNING_TIME} must be present for notary.x509"),
                    )
                })?
            }
            SigningScheme::X509SigningAuthority => {
                if self.signing_time.is_some() {
                    return fail(
                        NotationCheck::SigningScheme,
                        format!(
                            "{HEADER_SIGNING_TIME} must not be present for notary.x509.signingAuthority"
                        ),
                    );
                }
                self.authentic_signing_time.ok_or_else(|| {
                    crate::check::NotationFailure::new(
                        NotationCheck::SigningScheme,
                        format!(
                            "{HEADER_AUTHENTIC_SIGNING_TIME} must be present for notary.x509.signingAuthority"
                        ),
                    )
                })?
            }
        };
        let critical = match self.critical {
            Some(c) if !c.is_empty() => c,
            _ => return fail(NotationCheck::CriticalHeaders, "the crit header is missing"),
        };
        let mut must_be_critical = vec![HEADER_SIGNING_SCHEME];
        if scheme == SigningScheme::X509SigningAuthority {
            must_be_critical.push(HEADER_AUTHENTIC_SIGNING_TIME);
        }
        if self.expiry.is_some() {
            must_be_critical.push(HEADER_EXPIRY);
        }
        let missing: Vec<&str> = must_be_critical
            .into_iter()
            .filter(|h| !critical.iter().any(|c| c == h))
            .collect();
        if !missing.is_empty() {
            return fail(
                NotationCheck::CriticalHeaders,
                format!(
                    "these headers must be marked critical: {}",
                    missing.join(", ")
                ),
            );
        }
        let mut unknown_critical = Vec::new();
        for name in &critical {
            if is_defined_header(name) {
                continue;
            }
            if !self.extended.contains(name) {
                return fail(
                    NotationCheck::CriticalHeaders,
                    format!("{name:?} is marked critical but not present"),
                );
            }
            unknown_critical.push(name.clone());
        }
        let algorithm = self.algorithm.ok_or_else(|| {
            crate::check::NotationFailure::new(NotationCheck::Algorithm, "no alg")
        })?;
        Ok(ValidatedHeader {
            algorithm,
            content_type: self.content_type.unwrap_or_default(),
            scheme,
            signing_time,
            expiry: self.expiry,
            unknown_critical,
        })
    }
}

struct ValidatedHeader {
    algorithm: SignatureAlgorithm,
    content_type: String,
    scheme: SigningScheme,
    signing_time: i64,
    expiry: Option<i64>,
    unknown_critical: Vec<String>,
}

/// Unix seconds of an RFC 3339 time (offsets and fractions accepted, as Go's `time.Time`).
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// RFC 3339 in UTC without fractions, as notation writes times.
pub(crate) fn format_rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| unix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// notation-core-go's JWS conformance vector: signed by a key generated at test time
    /// (no x5c), so only its headers can be checked here.
    #[test]
    fn the_notation_core_go_jws_conformance_headers_parse() {
        let bytes =
            include_bytes!("../../../../tests/data/notation/notation-core-go/jws-conformance.json");
        let envelope = jws::parse(bytes).unwrap_or_else(|e| panic!("{e}: {}", e.detail()));
        assert_eq!(envelope.algorithm, SignatureAlgorithm::Es256);
        assert_eq!(envelope.scheme, SigningScheme::X509);
        assert_eq!(
            envelope.signing_time,
            parse_rfc3339("2022-08-29T13:50:00Z").unwrap_or(0)
        );
        assert_eq!(envelope.expiry, parse_rfc3339("2099-08-30T13:50:00Z"));
        assert_eq!(envelope.unknown_critical, ["signedCritKey1"]);
        assert_eq!(envelope.content_type, PAYLOAD_CONTENT_TYPE);
        assert_eq!(envelope.payload, br#"{"key":"hello JWS"}"#);
        assert!(envelope.certificates.is_empty());
        let refused = parse(EnvelopeFormat::Jws, bytes)
            .map(|_| ())
            .map_err(|e| e.check());
        assert_eq!(refused, Err(NotationCheck::CertificateChain));
    }

    /// notation-core-go's COSE conformance vector (expected output of its signer).
    #[test]
    fn the_notation_core_go_cose_conformance_message_parses() {
        let vector: serde_json::Value = serde_json::from_slice(include_bytes!(
            "../../../../tests/data/notation/notation-core-go/cose-conformance.json"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let hex = vector["expectedOutput"]["cborHex"]
            .as_str()
            .unwrap_or_default();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_default())
            .collect();
        let envelope = cose::parse(&bytes).unwrap_or_else(|e| panic!("{e}: {}", e.detail()));
        assert_eq!(envelope.algorithm, SignatureAlgorithm::Ps384);
        assert_eq!(envelope.signing_time, 1_661_321_924);
        assert_eq!(envelope.expiry, Some(1_661_408_324));
        assert_eq!(envelope.unknown_critical, ["signedCritKey1"]);
        assert_eq!(
            envelope.signing_agent.as_deref(),
            Some("NotationConformanceTest/1.0.0")
        );
        assert_eq!(envelope.payload, b"hello COSE");
        assert_eq!(envelope.signature.len(), 384);
        // Truncated, untagged or trailing-garbage messages are malformed.
        let check = |b: &[u8]| cose::parse(b).map(|_| ()).map_err(|e| e.check());
        assert_eq!(check(&bytes[..bytes.len() - 1]), Err(NotationCheck::Parse));
        assert_eq!(check(&bytes[1..]), Err(NotationCheck::Parse));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(check(&longer), Err(NotationCheck::Parse));
    }

    #[test]
    fn critical_header_rules_follow_notation_core_go() {
        use base64::Engine;
        let jws = |header: serde_json::Value| {
            let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
            let envelope = serde_json::json!({
                "payload": b64(b"{}"), "protected": b64(header.to_string().as_bytes()),
                "header": {}, "signature": b64(b"x")});
            jws::parse(envelope.to_string().as_bytes())
                .map(|_| ())
                .map_err(|e| e.check())
        };
        let base = || {
            serde_json::json!({"alg": "ES256", "cty": PAYLOAD_CONTENT_TYPE,
            "io.cncf.notary.signingScheme": "notary.x509",
            "io.cncf.notary.signingTime": "2024-01-01T00:00:00Z",
            "crit": ["io.cncf.notary.signingScheme"]})
        };
        assert_eq!(jws(base()), Ok(()));
        let mut no_crit = base();
        no_crit["crit"] = serde_json::json!([]);
        assert_eq!(jws(no_crit), Err(NotationCheck::CriticalHeaders));
        let mut expiry_not_critical = base();
        expiry_not_critical["io.cncf.notary.expiry"] = "2025-01-01T00:00:00Z".into();
        assert_eq!(
            jws(expiry_not_critical),
            Err(NotationCheck::CriticalHeaders)
        );
        let mut absent = base();
        absent["crit"] = serde_json::json!(["io.cncf.notary.signingScheme", "ghost"]);
        assert_eq!(jws(absent), Err(NotationCheck::CriticalHeaders));
        let mut sa_with_signing_time = base();
        sa_with_signing_time["io.cncf.notary.signingScheme"] =
            "notary.x509.signingAuthority".into();
        assert_eq!(jws(sa_with_signing_time), Err(NotationCheck::SigningScheme));
        let mut unknown_scheme = base();
        unknown_scheme["io.cncf.notary.signingScheme"] = "notary.tuf".into();
        assert_eq!(jws(unknown_scheme), Err(NotationCheck::SigningScheme));
        let mut hmac = base();
        hmac["alg"] = "HS256".into();
        assert_eq!(jws(hmac), Err(NotationCheck::Algorithm));
    }
}
