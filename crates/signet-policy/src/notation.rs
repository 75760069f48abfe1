//! Notation's `trustpolicy.json`, read as-is, as a policy file: for each image the statement
//! whose `registryScopes` names its repository (else the global `*` one) decides. `skip`
//! allows without reading signatures; other levels need one Notary Project signature that
//! passes every validation the level enforces (failures it only logs become warnings).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::StreamExt;
use signet_core::reference::ImageReference;
use signet_notation::policy::{SignatureVerification, StoreRef, TrustedIdentities};
use signet_notation::{TrustPolicyDocument, TrustStore};
use signet_oci::OciClient;

use signet_verify::notation::{
    NotationAuthority, NotationConfigError, NotationEvidence, gather_notation_signatures,
    judge_notation, load_trust_policy, load_trust_store,
};

use crate::report::{Decision, Evidence, ImageVerdict, Mode, PolicyResult, RequirementResult};

const CONCURRENT_IMAGES: usize = 16;

/// A validated Notation trust policy with the certificates of the trust stores it names.
#[derive(Debug, Clone)]
pub struct NotationTrustPolicy {
    document: TrustPolicyDocument,
    trust_store: Arc<TrustStore>,
}

impl NotationTrustPolicy {
    /// Reads `policy_path` and, from `trust_store_dir` (default: `truststore` beside the
    /// policy, notation's configuration layout), the named stores its statements use.
    pub fn load(
        policy_path: &Path,
        trust_store_dir: Option<&Path>,
    ) -> Result<Self, NotationConfigError> {
        let document = load_trust_policy(policy_path)?;
        let default_dir;
        let dir = match trust_store_dir {
            Some(dir) => dir,
            None => {
                default_dir = policy_path
                    .parent()
                    .unwrap_or_else(|| Path::new("."))
                    .join("truststore");
                &default_dir
            }
        };
        let refs: Vec<StoreRef> = document
            .statements()
            .iter()
            .flat_map(|s| s.trust_stores().iter().cloned())
            .collect();
        Ok(Self::new(document, load_trust_store(dir, &refs)))
    }

    /// A policy from a parsed document and loaded trust stores.
    pub fn new(document: TrustPolicyDocument, trust_store: TrustStore) -> Self {
        Self {
            document,
            trust_store: Arc::new(trust_store),
        }
    }

    /// The document.
    pub fn document(&self) -> &TrustPolicyDocument {
        &self.document
    }

    /// Evaluates each image (concurrently; results in order) at time `now`.
    pub async fn evaluate(
        &self,
        client: &OciClient,
        images: &[ImageReference],
        now: SystemTime,
    ) -> Vec<ImageVerdict> {
        futures_util::stream::iter(
            images
                .iter()
                .map(|image| self.evaluate_image(client, image, now)),
        )
        .buffered(CONCURRENT_IMAGES)
        .collect()
        .await
    }

    /// Evaluates one image at `now`: what [`Self::evaluate`] does for each. A caller that
    /// already resolved the image to a digest (an admission server) passes the pinned
    /// reference.
    pub async fn evaluate_image(
        &self,
        client: &OciClient,
        image: &ImageReference,
        now: SystemTime,
    ) -> ImageVerdict {
        let repository = image.repository_name();
        let skips = self
            .document
            .statement_for(&repository)
            .is_none_or(|s| matches!(s.verification(), SignatureVerification::Skip));
        if skips {
            return self.judge(image, None, now);
        }
        match gather_notation_signatures(client, image, None).await {
            Ok(evidence) => self.judge(image, Some(&evidence), now),
            Err(error) => ImageVerdict {
                image: image.to_string(),
                digest: None,
                decision: Decision::Undecided,
                matched_policies: Vec::new(),
                note: Some(format!(
                    "could not read the Notary Project signatures: {}",
                    signet_core::error_text::error_chain(&error)
                )),
            },
        }
    }

    /// Decides `image` from its gathered signatures (none needed when the statement skips or
    /// no statement applies). Pure: no I/O.
    pub fn judge(
        &self,
        image: &ImageReference,
        evidence: Option<&NotationEvidence>,
        now: SystemTime,
    ) -> ImageVerdict {
        let repository = image.repository_name();
        let digest = evidence.map(|e| e.digest.to_string());
        let Some(statement) = self.document.statement_for(&repository) else {
            return ImageVerdict {
                image: image.to_string(),
                digest,
                decision: Decision::Deny,
                matched_policies: Vec::new(),
                note: Some(format!(
                    "no trust policy statement's registryScopes covers {repository}: untrusted"
                )),
            };
        };
        let level = match statement.verification() {
            SignatureVerification::Skip => {
                return ImageVerdict {
                    image: image.to_string(),
                    digest,
                    decision: Decision::Allow,
                    matched_policies: vec![PolicyResult {
                        name: statement.name().to_owned(),
                        mode: Mode::Enforce,
                        passed: true,
                        requirements: vec![RequirementResult {
                            requirement: "signatureVerification: skip".to_owned(),
                            passed: true,
                            reason: "the statement skips signature verification".to_owned(),
                            evidence: Vec::new(),
                        }],
                    }],
                    note: None,
                };
            }
            SignatureVerification::Verify(level) => level,
        };
        let requirement = format!(
            "notation signature ({}) from [{}] by {}",
            level.name(),
            statement
                .trust_stores()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            describe_identities(statement.identities())
        );
        let Some(evidence) = evidence else {
            return ImageVerdict {
                image: image.to_string(),
                digest,
                decision: Decision::Undecided,
                matched_policies: Vec::new(),
                note: Some("the signatures were not gathered".to_owned()),
            };
        };
        let authority =
            NotationAuthority::new(statement.clone(), Arc::clone(&self.trust_store)).at(now);
        let report = judge_notation(evidence, &authority, &BTreeMap::new(), now);
        let (passed, reason, found) = notation_requirement(&report, statement.name());
        let warned = report
            .verified()
            .first()
            .is_some_and(|v| !v.signature().logged().is_empty());
        ImageVerdict {
            image: image.to_string(),
            digest,
            decision: match (passed, warned) {
                (false, _) => Decision::Deny,
                (true, true) => Decision::Warn,
                (true, false) => Decision::Allow,
            },
            matched_policies: vec![PolicyResult {
                name: statement.name().to_owned(),
                mode: Mode::Enforce,
                passed,
                requirements: vec![RequirementResult {
                    requirement,
                    passed,
                    reason,
                    evidence: found,
                }],
            }],
            note: None,
        }
    }
}

fn describe_identities(identities: &TrustedIdentities) -> String {
    match identities {
        TrustedIdentities::Subjects { subjects, .. } => format!(
            "[{}]",
            subjects
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        _ => "any identity".to_owned(),
    }
}

/// Whether a report satisfies a Notation requirement, why, and the evidence, for policy
/// reports (also used by the YAML policy's Notation authorities).
pub(crate) fn notation_requirement(
    report: &signet_verify::notation::NotationReport,
    signer: &str,
) -> (bool, String, Vec<Evidence>) {
    if let Some(v) = report.verified().first() {
        let logged: Vec<String> = v
            .signature()
            .logged()
            .iter()
            .map(|f| format!("{f}: {}", f.detail()))
            .collect();
        let reason = if logged.is_empty() {
            format!(
                "signed by {} ({} {})",
                v.signature().signer(),
                v.signature().scheme().name(),
                match v.signature().format() {
                    signet_notation::EnvelopeFormat::Jws => "JWS",
                    _ => "COSE",
                }
            )
        } else {
            format!(
                "signed by {}; logged, not enforced: {}",
                v.signature().signer(),
                logged.join("; ")
            )
        };
        let evidence = vec![Evidence {
            kind: "notation-signature",
            signer: Some(signer.to_owned()),
            layer: Some(v.manifest().to_string()),
            predicate_type: None,
            log_index: None,
            failed_check: None,
        }];
        return (true, reason, evidence);
    }
    let evidence = report
        .rejected()
        .iter()
        .map(|r| Evidence {
            kind: "notation-signature",
            signer: Some(signer.to_owned()),
            layer: Some(r.manifest.to_string()),
            predicate_type: None,
            log_index: None,
            failed_check: Some(r.to_string()),
        })
        .collect();
    let reason = match report.most_specific() {
        Some(r) => r.to_string(),
        None => format!("no Notary Project signatures found at {}", report.source()),
    };
    (false, reason, evidence)
}

#[cfg(test)]
mod tests {
    use crate::file::{PolicyFormat, detect_format};
    use crate::model::{AuthorityKind, PolicyError, TrustPolicy};

    fn parse(yaml: &str) -> Result<TrustPolicy, PolicyError> {
        TrustPolicy::parse(yaml, &|_| {
            Err(std::io::Error::other("no files in this test"))
        })
    }

    const AUTHORITY: &str = r#"apiVersion: signet.dev/v1
kind: TrustPolicy
authorities:
  release:
    notation:
      trustStore: truststore
      trustStores: ["ca:acme", "tsa:globalsign"]
      trustedIdentities: ["x509.subject: C=US, ST=WA, O=acme"]
      LEVEL
policies:
  - name: prod
    images: ["registry.example/**"]
    REQUIREMENT
"#;

    fn policy(level: &str, requirement: &str) -> String {
        AUTHORITY
            .replace("LEVEL", level)
            .replace("REQUIREMENT", requirement)
    }

    #[test]
    fn a_notation_authority_is_a_validated_statement_for_signatures_only() {
        let ok = parse(&policy(
            "override: { revocation: skip }",
            "signatures: { authorities: [release] }",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        let Some(AuthorityKind::Notation(n)) = ok.authorities().get("release").map(|a| a.kind())
        else {
            panic!("not a Notation authority");
        };
        assert_eq!(n.authority.statement().trust_stores().len(), 2);
        assert!(!ok.wants_default_trusted_root());

        for (level, requirement, expected) in [
            (
                "level: skip",
                "signatures: { authorities: [release] }",
                "cannot skip",
            ),
            (
                "override: { integrity: log }",
                "signatures: { authorities: [release] }",
                "integrity",
            ),
            (
                "level: strict",
                "attestations: [{ predicateType: slsaprovenance, authorities: [release] }]",
                "not attestations",
            ),
        ] {
            let error = parse(&policy(level, requirement))
                .map(|_| ())
                .expect_err(expected);
            let text = signet_core::error_text::error_chain(&error);
            assert!(text.contains(expected), "{expected}: {text}");
        }
        // An identity without C, ST and O is refused as notation refuses it.
        let bad = policy("level: strict", "signatures: { authorities: [release] }")
            .replace("C=US, ST=WA, O=acme", "CN=acme");
        assert!(parse(&bad).is_err());
    }

    #[test]
    fn the_policy_language_is_told_by_the_files_content() {
        assert_eq!(
            detect_format(b"apiVersion: signet.dev/v1"),
            PolicyFormat::Signet
        );
        assert_eq!(
            detect_format(br#"{"default": [{"type": "reject"}]}"#),
            PolicyFormat::Containers
        );
        assert_eq!(
            detect_format(br#" {"version": "1.0", "trustPolicies": []}"#),
            PolicyFormat::NotationTrustPolicy
        );
    }
}
