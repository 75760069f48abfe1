//! The JWS envelope: JSON serialization, flattened, with the Notary Project's protected
//! headers and `x5c`, `io.cncf.notary.timestampSignature` and `io.cncf.notary.signingAgent`
//! unprotected.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

use super::{
    HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY, HEADER_SIGNING_AGENT, HEADER_SIGNING_SCHEME,
    HEADER_SIGNING_TIME, HEADER_TIMESTAMP_SIGNATURE, ProtectedHeader, SignatureAlgorithm,
    parse_rfc3339,
};
use crate::check::{NotationCheck, NotationFailure, Outcome, fail};
use crate::envelope::Envelope;

#[derive(Deserialize)]
struct Flattened {
    payload: String,
    protected: String,
    #[serde(default)]
    header: Unprotected,
    signature: String,
}

#[derive(Deserialize, Default)]
struct Unprotected {
    #[serde(default)]
    x5c: Vec<String>,
    #[serde(default, rename = "io.cncf.notary.timestampSignature")]
    timestamp_signature: Option<String>,
    #[serde(default, rename = "io.cncf.notary.signingAgent")]
    signing_agent: Option<String>,
}

pub(super) fn parse(bytes: &[u8]) -> Outcome<Envelope> {
    let parse_error = |what: String, cause: Box<dyn std::error::Error + Send + Sync>| {
        Err::<Envelope, _>(NotationFailure::caused(NotationCheck::Parse, what, cause))
    };
    let envelope: Flattened = match serde_json::from_slice(bytes) {
        Ok(e) => e,
        Err(e) => {
            return parse_error(
                "not a flattened JWS JSON serialization".to_owned(),
                e.into(),
            );
        }
    };
    let protected_json = match URL_SAFE_NO_PAD.decode(&envelope.protected) {
        Ok(p) => p,
        Err(e) => return parse_error("the protected header is not base64url".to_owned(), e.into()),
    };
    let protected: serde_json::Map<String, serde_json::Value> =
        match serde_json::from_slice(&protected_json) {
            Ok(p) => p,
            Err(e) => {
                return parse_error(
                    "the protected header is not a JSON object".to_owned(),
                    e.into(),
                );
            }
        };
    let header = protected_header(&protected)?.validate()?;
    let payload = match URL_SAFE_NO_PAD.decode(&envelope.payload) {
        Ok(p) => p,
        Err(e) => return parse_error("the payload is not base64url".to_owned(), e.into()),
    };
    let signature = match URL_SAFE_NO_PAD.decode(&envelope.signature) {
        Ok(s) => s,
        Err(e) => return parse_error("the signature is not base64url".to_owned(), e.into()),
    };
    if envelope.header.x5c.len() > crate::certificate::MAX_CHAIN_LENGTH {
        return fail(
            NotationCheck::CertificateChain,
            format!("x5c has {} certificates", envelope.header.x5c.len()),
        );
    }
    let mut certificates = Vec::with_capacity(envelope.header.x5c.len());
    for (i, c) in envelope.header.x5c.iter().enumerate() {
        match STANDARD.decode(c) {
            Ok(der) => certificates.push(der),
            Err(e) => return parse_error(format!("x5c[{i}] is not base64"), e.into()),
        }
    }
    let timestamp_token = match &envelope.header.timestamp_signature {
        Some(t) => match STANDARD.decode(t) {
            Ok(token) => Some(token),
            Err(e) => {
                return parse_error(
                    format!("{HEADER_TIMESTAMP_SIGNATURE} is not base64"),
                    e.into(),
                );
            }
        },
        None => None,
    };
    let mut signed_bytes = envelope.protected.clone().into_bytes();
    signed_bytes.push(b'.');
    signed_bytes.extend_from_slice(envelope.payload.as_bytes());
    Ok(Envelope {
        algorithm: header.algorithm,
        content_type: header.content_type,
        scheme: header.scheme,
        signing_time: header.signing_time,
        expiry: header.expiry,
        unknown_critical: header.unknown_critical,
        certificates,
        timestamp_token,
        signing_agent: envelope.header.signing_agent,
        payload,
        signature,
        signed_bytes,
    })
}

fn protected_header(map: &serde_json::Map<String, serde_json::Value>) -> Outcome<ProtectedHeader> {
    let text = |name: &str| -> Outcome<Option<String>> {
        match map.get(name) {
            None => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => fail(
                NotationCheck::Parse,
                format!("the protected header {name} is not a string"),
            ),
        }
    };
    let time = |name: &str| -> Outcome<Option<i64>> {
        match text(name)? {
            None => Ok(None),
            Some(t) => match parse_rfc3339(&t) {
                Some(secs) => Ok(Some(secs)),
                None => fail(
                    NotationCheck::Parse,
                    format!("the protected header {name} is not an RFC 3339 time: {t:?}"),
                ),
            },
        }
    };
    let algorithm = match text("alg")? {
        Some(name) => match SignatureAlgorithm::from_jws_name(&name) {
            Some(a) => Some(a),
            None => {
                return fail(
                    NotationCheck::Algorithm,
                    format!("the signature algorithm {name:?} is not allowed"),
                );
            }
        },
        None => {
            return fail(NotationCheck::Algorithm, "the protected header has no alg");
        }
    };
    let critical = match map.get("crit") {
        None => None,
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| {
                    NotationFailure::new(NotationCheck::Parse, "crit is not an array of strings")
                })?,
        ),
        Some(_) => return fail(NotationCheck::Parse, "crit is not an array"),
    };
    let registered = ["alg", "cty", "crit"];
    let extended = map
        .keys()
        .filter(|k| !registered.contains(&k.as_str()) && !super::is_defined_header(k))
        .cloned()
        .collect();
    Ok(ProtectedHeader {
        algorithm,
        content_type: text("cty")?,
        critical,
        scheme: text(HEADER_SIGNING_SCHEME)?,
        signing_time: time(HEADER_SIGNING_TIME)?,
        authentic_signing_time: time(HEADER_AUTHENTIC_SIGNING_TIME)?,
        expiry: time(HEADER_EXPIRY)?,
        extended,
    })
}

/// Builds a flattened JWS envelope from its protected header JSON, payload, signature and
/// unprotected parts, in the layout notation writes.
pub(crate) fn encode_flattened(
    protected_b64: &str,
    payload_b64: &str,
    signature: &[u8],
    certificates: &[Vec<u8>],
    signing_agent: &str,
) -> Vec<u8> {
    let x5c: Vec<String> = certificates.iter().map(|c| STANDARD.encode(c)).collect();
    let mut header = serde_json::Map::new();
    header.insert("x5c".into(), x5c.into());
    header.insert(HEADER_SIGNING_AGENT.into(), signing_agent.into());
    let envelope = serde_json::json!({
        "payload": payload_b64,
        "protected": protected_b64,
        "header": header,
        "signature": URL_SAFE_NO_PAD.encode(signature),
    });
    envelope.to_string().into_bytes()
}
