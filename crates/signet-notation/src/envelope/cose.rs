//! The COSE envelope: a COSE_Sign1_Tagged message (RFC 9052) with the Notary Project's
//! protected header parameters and `x5chain` (label 33), `io.cncf.notary.timestampSignature`
//! and `io.cncf.notary.signingAgent` unprotected.
//!
//! Decoding is strict where go-cose (through fxamacker/cbor) is: definite lengths only, no
//! duplicate map keys, the tag 18 required, times as tag 1 over a number.

use minicbor::Decoder;
use minicbor::data::{Tag, Type};

use super::{
    HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_AGENT, HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME, HEADER_TIMESTAMP_SIGNATURE, ProtectedHeader, SignatureAlgorithm,
};
use crate::check::{NotationCheck, NotationFailure, Outcome, fail};
use crate::envelope::Envelope;

const COSE_SIGN1_TAG: u64 = 18;
const LABEL_ALG: i64 = 1;
const LABEL_CRIT: i64 = 2;
const LABEL_CONTENT_TYPE: i64 = 3;
const LABEL_X5CHAIN: i64 = 33;
/// Most header parameters a protected or unprotected map may have: far more than any real
/// envelope, few enough that a hostile one costs nothing.
const MAX_HEADER_ENTRIES: u64 = 64;

/// CBOR that does not decode, kept as the cause.
fn malformed(error: minicbor::decode::Error) -> NotationFailure {
    NotationFailure::caused(NotationCheck::Parse, "malformed COSE_Sign1", error)
}

/// CBOR that decodes but is not a COSE_Sign1 message signet reads.
fn not_cose(detail: impl std::fmt::Display) -> NotationFailure {
    NotationFailure::new(
        NotationCheck::Parse,
        format!("malformed COSE_Sign1: {detail}"),
    )
}

/// A header label: an integer or a text string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Label<'b> {
    Int(i64),
    Text(&'b str),
}

impl Label<'_> {
    fn to_text(&self) -> String {
        match self {
            Self::Int(i) => i.to_string(),
            Self::Text(t) => (*t).to_owned(),
        }
    }
}

fn label<'b>(d: &mut Decoder<'b>) -> Outcome<Label<'b>> {
    match d.datatype().map_err(malformed)? {
        Type::String => Ok(Label::Text(d.str().map_err(malformed)?)),
        Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::Int => Ok(Label::Int(d.i64().map_err(malformed)?)),
        other => Err(not_cose(format!("a header label of type {other}"))),
    }
}

fn map_len(d: &mut Decoder<'_>, what: &str) -> Outcome<u64> {
    let len = d
        .map()
        .map_err(malformed)?
        .ok_or_else(|| not_cose(format!("the {what} has an indefinite length")))?;
    if len > MAX_HEADER_ENTRIES {
        return Err(not_cose(format!("the {what} has {len} entries")));
    }
    Ok(len)
}

/// A tag-1 epoch time over an integer or a float, in whole seconds.
fn epoch_time(d: &mut Decoder<'_>, name: &str) -> Outcome<i64> {
    let wrong = || {
        NotationFailure::new(
            NotationCheck::Parse,
            format!("{name} is not a tag-1 epoch date/time"),
        )
    };
    if d.datatype().map_err(malformed)? != Type::Tag || d.tag().map_err(malformed)? != Tag::new(1) {
        return Err(wrong());
    }
    match d.datatype().map_err(malformed)? {
        Type::F16 | Type::F32 | Type::F64 => {
            let f = d.f64().map_err(malformed)?;
            if !f.is_finite() || f.abs() > 1e15 {
                return Err(wrong());
            }
            #[allow(clippy::cast_possible_truncation)]
            Ok(f.trunc() as i64)
        }
        _ => d.i64().map_err(|_| wrong()),
    }
}

fn text_value(d: &mut Decoder<'_>, name: &str) -> Outcome<String> {
    if d.datatype().map_err(malformed)? != Type::String {
        return fail(NotationCheck::Parse, format!("{name} is not a text string"));
    }
    Ok(d.str().map_err(malformed)?.to_owned())
}

fn protected_header(bytes: &[u8]) -> Outcome<ProtectedHeader> {
    let mut header = ProtectedHeader::default();
    if bytes.is_empty() {
        return Ok(header);
    }
    let mut d = Decoder::new(bytes);
    let len = map_len(&mut d, "protected header")?;
    let mut seen = Vec::new();
    for _ in 0..len {
        let key = label(&mut d)?;
        if seen.contains(&key) {
            return Err(not_cose(format!(
                "the protected header repeats {}",
                key.to_text()
            )));
        }
        seen.push(key.clone());
        match key {
            Label::Int(LABEL_ALG) => {
                let alg = d.i64().map_err(|_| {
                    NotationFailure::new(NotationCheck::Algorithm, "alg is not an integer")
                })?;
                header.algorithm =
                    Some(SignatureAlgorithm::from_cose_label(alg).ok_or_else(|| {
                        NotationFailure::new(
                            NotationCheck::Algorithm,
                            format!("the signature algorithm {alg} is not allowed"),
                        )
                    })?);
            }
            Label::Int(LABEL_CRIT) => {
                let n = d
                    .array()
                    .map_err(malformed)?
                    .ok_or_else(|| not_cose("crit has an indefinite length"))?;
                if n > MAX_HEADER_ENTRIES {
                    return Err(not_cose("crit is too long"));
                }
                let mut critical = Vec::new();
                for _ in 0..n {
                    critical.push(label(&mut d)?.to_text());
                }
                header.critical = Some(critical);
            }
            Label::Int(LABEL_CONTENT_TYPE) => {
                header.content_type = Some(text_value(&mut d, "the content type")?);
            }
            Label::Text(HEADER_SIGNING_SCHEME) => {
                header.scheme = Some(text_value(&mut d, HEADER_SIGNING_SCHEME)?);
            }
            Label::Text(HEADER_SIGNING_TIME) => {
                header.signing_time = Some(epoch_time(&mut d, HEADER_SIGNING_TIME)?);
            }
            Label::Text(HEADER_AUTHENTIC_SIGNING_TIME) => {
                header.authentic_signing_time =
                    Some(epoch_time(&mut d, HEADER_AUTHENTIC_SIGNING_TIME)?);
            }
            Label::Text(HEADER_EXPIRY) => {
                header.expiry = Some(epoch_time(&mut d, HEADER_EXPIRY)?);
            }
            other => {
                header.extended.push(other.to_text());
                d.skip().map_err(malformed)?;
            }
        }
    }
    if d.position() != bytes.len() {
        return Err(not_cose("bytes after the protected header map"));
    }
    if header.algorithm.is_none() {
        return fail(NotationCheck::Algorithm, "the protected header has no alg");
    }
    Ok(header)
}

pub(super) fn parse(bytes: &[u8]) -> Outcome<Envelope> {
    let mut d = Decoder::new(bytes);
    if d.datatype().map_err(malformed)? != Type::Tag
        || d.tag().map_err(malformed)? != Tag::new(COSE_SIGN1_TAG)
    {
        return Err(not_cose("not a COSE_Sign1_Tagged message (tag 18)"));
    }
    if d.array().map_err(malformed)? != Some(4) {
        return Err(not_cose("not an array of four"));
    }
    let protected_bytes = d.bytes().map_err(malformed)?;
    let header = protected_header(protected_bytes)?.validate()?;

    let mut certificates = Vec::new();
    let mut timestamp_token = None;
    let mut signing_agent = None;
    let mut seen = Vec::new();
    for _ in 0..map_len(&mut d, "unprotected header")? {
        let key = label(&mut d)?;
        if seen.contains(&key) {
            return Err(not_cose(format!(
                "the unprotected header repeats {}",
                key.to_text()
            )));
        }
        seen.push(key.clone());
        match key {
            Label::Int(LABEL_X5CHAIN) => {
                if d.datatype().map_err(malformed)? != Type::Array {
                    return fail(
                        NotationCheck::CertificateChain,
                        "x5chain is not an array of certificates",
                    );
                }
                let n = d.array().map_err(malformed)?.unwrap_or(0);
                if n > crate::certificate::MAX_CHAIN_LENGTH as u64 {
                    return fail(
                        NotationCheck::CertificateChain,
                        format!("x5chain has {n} certificates"),
                    );
                }
                for _ in 0..n {
                    certificates.push(d.bytes().map_err(malformed)?.to_vec());
                }
            }
            Label::Text(HEADER_TIMESTAMP_SIGNATURE) => {
                timestamp_token = Some(d.bytes().map_err(malformed)?.to_vec());
            }
            Label::Text(HEADER_SIGNING_AGENT) => {
                signing_agent = Some(text_value(&mut d, HEADER_SIGNING_AGENT)?);
            }
            _ => d.skip().map_err(malformed)?,
        }
    }
    let payload = match d.datatype().map_err(malformed)? {
        Type::Null => return fail(NotationCheck::Payload, "the payload is detached"),
        _ => d.bytes().map_err(malformed)?.to_vec(),
    };
    let signature = d.bytes().map_err(malformed)?.to_vec();
    if d.position() != bytes.len() {
        return Err(not_cose("bytes after the message"));
    }
    Ok(Envelope {
        algorithm: header.algorithm,
        content_type: header.content_type,
        scheme: header.scheme,
        signing_time: header.signing_time,
        expiry: header.expiry,
        unknown_critical: header.unknown_critical,
        certificates,
        timestamp_token,
        signing_agent,
        signed_bytes: sig_structure(protected_bytes, &payload),
        payload,
        signature,
    })
}

/// The `Sig_structure` of COSE_Sign1 (RFC 9052 section 4.4), with no external data.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 24);
    let mut e = minicbor::Encoder::new(&mut out);
    // Writing to a Vec cannot fail.
    let _ = e
        .array(4)
        .and_then(|e| e.str("Signature1"))
        .and_then(|e| e.bytes(protected))
        .and_then(|e| e.bytes(&[]))
        .and_then(|e| e.bytes(payload));
    out
}

/// The protected header notation writes, and the Sig_structure over it and `payload`.
pub(crate) fn protected_and_to_be_signed(
    algorithm: SignatureAlgorithm,
    signing_time: i64,
    expiry: Option<i64>,
    payload: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let mut protected = Vec::new();
    let mut e = minicbor::Encoder::new(&mut protected);
    let entries = if expiry.is_some() { 6 } else { 5 };
    let mut critical: Vec<&str> = vec![HEADER_SIGNING_SCHEME];
    if expiry.is_some() {
        critical.push(HEADER_EXPIRY);
    }
    let _ = e
        .map(entries)
        .and_then(|e| e.i64(LABEL_ALG))
        .and_then(|e| e.i64(algorithm.cose_label()))
        .and_then(|e| e.i64(LABEL_CRIT))
        .and_then(|e| e.array(critical.len() as u64));
    for c in &critical {
        let _ = e.str(c);
    }
    let _ = e
        .i64(LABEL_CONTENT_TYPE)
        .and_then(|e| e.str(super::PAYLOAD_CONTENT_TYPE))
        .and_then(|e| e.str(HEADER_SIGNING_SCHEME))
        .and_then(|e| e.str("notary.x509"))
        .and_then(|e| e.str(HEADER_SIGNING_TIME))
        .and_then(|e| e.tag(Tag::new(1)))
        .and_then(|e| e.i64(signing_time));
    if let Some(expiry) = expiry {
        let _ = e
            .str(HEADER_EXPIRY)
            .and_then(|e| e.tag(Tag::new(1)))
            .and_then(|e| e.i64(expiry));
    }
    let to_be_signed = sig_structure(&protected, payload);
    (protected, to_be_signed)
}

/// A COSE_Sign1_Tagged message.
pub(crate) fn encode_sign1(
    protected: &[u8],
    certificates: &[Vec<u8>],
    signing_agent: &str,
    payload: &[u8],
    signature: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = minicbor::Encoder::new(&mut out);
    let _ = e
        .tag(Tag::new(COSE_SIGN1_TAG))
        .and_then(|e| e.array(4))
        .and_then(|e| e.bytes(protected))
        .and_then(|e| e.map(2))
        .and_then(|e| e.i64(LABEL_X5CHAIN))
        .and_then(|e| e.array(certificates.len() as u64));
    for c in certificates {
        let _ = e.bytes(c);
    }
    let _ = e
        .str(HEADER_SIGNING_AGENT)
        .and_then(|e| e.str(signing_agent))
        .and_then(|e| e.bytes(payload))
        .and_then(|e| e.bytes(signature));
    out
}
