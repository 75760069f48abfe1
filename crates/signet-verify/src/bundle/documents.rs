//! The files Sigstore bundles are published in, each read into the bundles it holds.
//!
//! Producers rarely publish a bare bundle. npm's registry and GitHub's attestations API serve
//! `{"attestations": [{"predicateType": …, "bundle": {…}}]}` (npm: the SLSA provenance and
//! the registry's publish attestation); `gh attestation download` and slsa-github-generator
//! write JSON Lines, one bundle a line; PyPI serves PEP 740 attestations (`{"version": 1,
//! "verification_material": …, "envelope": …}`) and provenance objects that group them by
//! publisher (`{"version": 1, "attestation_bundles": [{"attestations": […]}]}`). A PEP 740
//! attestation is the Sigstore bundle v0.3 it was made from, with the envelope's payload
//! type implied (in-toto) and its fields renamed; [`read_document`] rebuilds that bundle, as
//! pypi-attestations' `to_bundle` does, so that one verifier checks every form.
//!
//! Only the layout is read here; nothing is trusted until the bundle verifies.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{BundleCheck, BundleFailure, BundleLimits};

/// The bundle v0.3 media type, for PEP 740 attestations rebuilt as bundles.
const BUNDLE_V0_3: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The payload type PEP 740 envelopes imply.
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// One bundle found in a document.
#[derive(Debug, Clone)]
pub struct DocumentBundle {
    label: String,
    json: Vec<u8>,
}

impl DocumentBundle {
    /// Where in the document the bundle is, for messages: `bundle`, `line 2`,
    /// `attestations[1]`, `attestation_bundles[0].attestations[0]`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The bundle's JSON (rebuilt for a PEP 740 attestation).
    pub fn json(&self) -> &[u8] {
        &self.json
    }
}

/// Reads the bundles in `document`: a Sigstore bundle, JSON Lines of bundles, an npm or
/// GitHub `{"attestations": […]}` listing, a PEP 740 attestation or a PyPI provenance object.
/// A document larger than `limits.max_document_bytes`, holding more than
/// `limits.max_document_bundles` bundles, or none, fails ([`BundleCheck::TooLarge`],
/// [`BundleCheck::Parse`], [`BundleCheck::Material`]).
pub fn read_document(
    document: &[u8],
    limits: &BundleLimits,
) -> Result<Vec<DocumentBundle>, BundleFailure> {
    if u64::try_from(document.len()).map_or(true, |len| len > limits.max_document_bytes) {
        return Err(BundleFailure::new(
            BundleCheck::TooLarge,
            format!(
                "the file is {} bytes, more than the limit of {} for a file of bundles",
                document.len(),
                limits.max_document_bytes
            ),
        ));
    }
    let text = std::str::from_utf8(document)
        .map_err(|e| BundleFailure::new(BundleCheck::Parse, format!("not UTF-8: {e}")))?;
    let bundles = match serde_json::from_str::<&RawValue>(text) {
        Ok(whole) => from_value(whole, "bundle")?,
        // Not one JSON value: JSON Lines (blank lines ignored).
        Err(whole_error) => {
            let mut bundles = Vec::new();
            let mut lines = 0usize;
            for (number, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                lines += 1;
                let value: &RawValue = serde_json::from_str(line).map_err(|e| {
                    if lines == 1 {
                        BundleFailure::new(BundleCheck::Parse, whole_error.to_string())
                    } else {
                        BundleFailure::new(
                            BundleCheck::Parse,
                            format!("line {} is not JSON: {e}", number + 1),
                        )
                    }
                })?;
                bundles.extend(from_value(value, &format!("line {}", number + 1))?);
                check_count(bundles.len(), limits)?;
            }
            bundles
        }
    };
    check_count(bundles.len(), limits)?;
    if bundles.is_empty() {
        return Err(BundleFailure::new(
            BundleCheck::Material,
            "the file holds no Sigstore bundle",
        ));
    }
    Ok(bundles)
}

fn check_count(count: usize, limits: &BundleLimits) -> Result<(), BundleFailure> {
    if count > limits.max_document_bundles {
        return Err(BundleFailure::new(
            BundleCheck::TooLarge,
            format!(
                "the file holds more than {} bundles",
                limits.max_document_bundles
            ),
        ));
    }
    Ok(())
}

/// What a top-level JSON value can be; only the members that tell the forms apart are read.
#[derive(Deserialize)]
struct Shape<'a> {
    #[serde(rename = "mediaType", default)]
    media_type: Option<&'a str>,
    #[serde(borrow, default)]
    attestations: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    attestation_bundles: Option<Vec<PublisherBundle<'a>>>,
    #[serde(borrow, default)]
    verification_material: Option<&'a RawValue>,
    #[serde(rename = "payloadType", default)]
    payload_type: Option<&'a str>,
}

#[derive(Deserialize)]
struct PublisherBundle<'a> {
    #[serde(borrow, default)]
    attestations: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct ListedBundle<'a> {
    #[serde(borrow)]
    bundle: &'a RawValue,
}

fn from_value(value: &RawValue, label: &str) -> Result<Vec<DocumentBundle>, BundleFailure> {
    let shape: Shape<'_> = serde_json::from_str(value.get()).map_err(|e| {
        BundleFailure::new(
            BundleCheck::Parse,
            format!("{label} is not a JSON object: {e}"),
        )
    })?;
    let bundle = |label: String, json: &RawValue| DocumentBundle {
        label,
        json: json.get().as_bytes().to_vec(),
    };
    if let Some(listed) = shape.attestations {
        // npm's registry and GitHub's API: each entry holds a `bundle`.
        return listed
            .into_iter()
            .enumerate()
            .map(|(index, entry)| {
                let entry: ListedBundle<'_> = serde_json::from_str(entry.get()).map_err(|e| {
                    BundleFailure::new(
                        BundleCheck::Parse,
                        format!("{label}: attestations[{index}] has no bundle: {e}"),
                    )
                })?;
                Ok(bundle(format!("attestations[{index}]"), entry.bundle))
            })
            .collect();
    }
    if let Some(groups) = shape.attestation_bundles {
        // A PyPI provenance object: PEP 740 attestations grouped by publisher.
        let mut bundles = Vec::new();
        for (group, publisher) in groups.into_iter().enumerate() {
            for (index, attestation) in publisher.attestations.into_iter().enumerate() {
                let label = format!("attestation_bundles[{group}].attestations[{index}]");
                bundles.push(DocumentBundle {
                    json: pep740_bundle(attestation, &label)?,
                    label,
                });
            }
        }
        return Ok(bundles);
    }
    if shape.media_type.is_some() {
        return Ok(vec![bundle(label.to_owned(), value)]);
    }
    if shape.verification_material.is_some() {
        // Sigstore bundles spell it verificationMaterial; PEP 740 attestations use snake case.
        return Ok(vec![DocumentBundle {
            json: pep740_bundle(value, label)?,
            label: label.to_owned(),
        }]);
    }
    if shape.payload_type.is_some() {
        return Err(BundleFailure::new(
            BundleCheck::Material,
            format!(
                "{label} is a bare DSSE envelope, without the Sigstore verification material \
                 (certificate, log entry) a bundle carries; slsa-github-generator before v2.1 \
                 wrote provenance this way, and its log entry can only be looked up online"
            ),
        ));
    }
    Err(BundleFailure::new(
        BundleCheck::Parse,
        format!("{label} is neither a Sigstore bundle nor a known file of bundles"),
    ))
}

/// A PEP 740 attestation (<https://peps.python.org/pep-0740/>).
#[derive(Deserialize)]
struct Pep740 {
    version: u64,
    verification_material: Pep740Material,
    envelope: Pep740Envelope,
}

#[derive(Deserialize)]
struct Pep740Material {
    certificate: String,
    transparency_entries: Vec<Value>,
    #[serde(default)]
    timestamps: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Pep740Envelope {
    statement: String,
    signature: String,
}

/// The Sigstore bundle v0.3 a PEP 740 attestation was made from: the certificate, the log
/// entries and timestamps as they are, the statement as an in-toto DSSE payload.
fn pep740_bundle(attestation: &RawValue, label: &str) -> Result<Vec<u8>, BundleFailure> {
    let parsed: Pep740 = serde_json::from_str(attestation.get()).map_err(|e| {
        BundleFailure::new(
            BundleCheck::Parse,
            format!("{label} is not a PEP 740 attestation: {e}"),
        )
    })?;
    if parsed.version != 1 {
        return Err(BundleFailure::new(
            BundleCheck::UnknownVersion,
            format!(
                "{label} is a PEP 740 attestation of version {}, not 1",
                parsed.version
            ),
        ));
    }
    for (field, text) in [
        (
            "verification_material.certificate",
            &parsed.verification_material.certificate,
        ),
        ("envelope.statement", &parsed.envelope.statement),
        ("envelope.signature", &parsed.envelope.signature),
    ] {
        STANDARD.decode(text).map_err(|e| {
            BundleFailure::new(
                BundleCheck::Parse,
                format!("{label}: {field} is not base64: {e}"),
            )
        })?;
    }
    let timestamps: Vec<Value> = parsed
        .verification_material
        .timestamps
        .unwrap_or_default()
        .into_iter()
        .map(|signed| json!({ "signedTimestamp": signed }))
        .collect();
    let bundle = json!({
        "mediaType": BUNDLE_V0_3,
        "verificationMaterial": {
            "certificate": { "rawBytes": parsed.verification_material.certificate },
            "tlogEntries": parsed.verification_material.transparency_entries,
            "timestampVerificationData": { "rfc3161Timestamps": timestamps },
        },
        "dsseEnvelope": {
            "payload": parsed.envelope.statement,
            "payloadType": IN_TOTO,
            "signatures": [{ "sig": parsed.envelope.signature, "keyid": "" }],
        },
    });
    serde_json::to_vec(&bundle).map_err(|e| {
        BundleFailure::new(
            BundleCheck::Parse,
            format!("{label}: rebuilding the bundle: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(document: &str) -> Result<Vec<String>, BundleCheck> {
        read_document(document.as_bytes(), &BundleLimits::default())
            .map(|bundles| bundles.iter().map(|b| b.label().to_owned()).collect())
            .map_err(|e| e.check())
    }

    const BUNDLE: &str = r#"{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}"#;

    #[test]
    fn a_bundle_json_lines_and_attestation_listings_are_told_apart() {
        assert_eq!(labels(BUNDLE), Ok(vec!["bundle".to_owned()]));
        assert_eq!(
            labels(&format!("{BUNDLE}\n\n{BUNDLE}\n")),
            Ok(vec!["line 1".to_owned(), "line 3".to_owned()])
        );
        let listing = format!(
            r#"{{"attestations": [{{"predicateType": "p", "bundle": {BUNDLE}}}, {{"bundle": {BUNDLE}}}]}}"#
        );
        assert_eq!(
            labels(&listing),
            Ok(vec![
                "attestations[0]".to_owned(),
                "attestations[1]".to_owned()
            ])
        );
    }

    #[test]
    fn a_pep740_attestation_becomes_a_v0_3_dsse_bundle() {
        let attestation = r#"{"version": 1, "verification_material": {"certificate": "AAEC",
            "transparency_entries": [{"logIndex": "1"}], "timestamps": ["AwQ="]},
            "envelope": {"statement": "e30=", "signature": "BQY="}}"#;
        let bundles = read_document(attestation.as_bytes(), &BundleLimits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let bundle: Value = serde_json::from_slice(bundles[0].json()).unwrap_or_default();
        assert_eq!(bundle["mediaType"], BUNDLE_V0_3);
        assert_eq!(bundle["dsseEnvelope"]["payloadType"], IN_TOTO);
        assert_eq!(bundle["dsseEnvelope"]["payload"], "e30=");
        assert_eq!(bundle["dsseEnvelope"]["signatures"][0]["sig"], "BQY=");
        let material = &bundle["verificationMaterial"];
        assert_eq!(material["certificate"]["rawBytes"], "AAEC");
        assert_eq!(material["tlogEntries"][0]["logIndex"], "1");
        assert_eq!(
            material["timestampVerificationData"]["rfc3161Timestamps"][0]["signedTimestamp"],
            "AwQ="
        );
        let provenance = format!(
            r#"{{"version": 1, "attestation_bundles": [{{"publisher": {{}}, "attestations": [{attestation}]}}]}}"#
        );
        assert_eq!(
            labels(&provenance),
            Ok(vec!["attestation_bundles[0].attestations[0]".to_owned()])
        );
    }

    #[test]
    fn envelopes_without_material_empty_listings_and_oversized_files_are_refused() {
        assert_eq!(
            labels(
                r#"{"payloadType": "application/vnd.in-toto+json", "payload": "", "signatures": []}"#
            ),
            Err(BundleCheck::Material)
        );
        assert_eq!(
            labels(r#"{"attestations": []}"#),
            Err(BundleCheck::Material)
        );
        assert_eq!(labels("{\"x\": 1}\nnot json"), Err(BundleCheck::Parse));
        assert_eq!(
            labels(
                r#"{"version": 2, "verification_material": {"certificate": "", "transparency_entries": []}, "envelope": {"statement": "", "signature": ""}}"#
            ),
            Err(BundleCheck::UnknownVersion)
        );
        let limits = BundleLimits {
            max_document_bundles: 1,
            ..BundleLimits::default()
        };
        let two = format!("{BUNDLE}\n{BUNDLE}");
        assert_eq!(
            read_document(two.as_bytes(), &limits)
                .map(|_| ())
                .map_err(|e| e.check()),
            Err(BundleCheck::TooLarge)
        );
    }
}
