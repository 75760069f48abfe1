//! `vsa:` — the attestation is a SLSA Verification Summary from a named verifier, `PASSED`,
//! for a named policy digest and at least the named levels, not older than a given age: a
//! deploy gate relying on a verification done once, at release time.
//!
//! The statement's subject is the image digest (checked when the attestation was verified)
//! and its signer one of the requirement's authorities: together they are the "(signer,
//! verifier) pair" the specification says consumers must accept explicitly.

use std::fmt;

use serde::Deserialize;
use serde_json::value::RawValue;
use signet_core::digest::Digest;

use super::{MaxAge, quote};
use crate::vsa::{PredicateDoc, VSA_PREDICATE_TYPE, VsaCheck, VsaFailure, check_levels};

/// What a VSA must say (YAML `vsa:` on an attestation requirement).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VsaCondition {
    verifier_id: String,
    #[serde(default)]
    policy_digest: Option<PolicyDigest>,
    #[serde(default)]
    resource_uri: Option<String>,
    #[serde(default)]
    verified_levels: Vec<String>,
    #[serde(default)]
    max_age: Option<MaxAge>,
}

/// `sha256:<hex>` in `vsa.policyDigest`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct PolicyDigest(Digest);

impl TryFrom<String> for PolicyDigest {
    type Error = signet_core::Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse().map(Self)
    }
}

impl fmt::Display for VsaCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a PASSED VSA by {}", quote(&self.verifier_id))
    }
}

impl VsaCondition {
    /// Checks the statement's predicate, in this order: a VSA; `verifier.id`; `PASSED`;
    /// `resourceUri`; the policy digest; the levels; `timeVerified`'s age.
    pub(super) fn check(
        &self,
        predicate_type: &str,
        predicate: Option<&RawValue>,
        now_unix: i64,
    ) -> Result<(), VsaFailure> {
        if predicate_type != VSA_PREDICATE_TYPE {
            return Err(VsaFailure::new(
                VsaCheck::InvalidPayload,
                format!(
                    "the statement's predicate type is {}, not {VSA_PREDICATE_TYPE}",
                    quote(predicate_type)
                ),
            ));
        }
        let p: PredicateDoc = predicate
            .map(|raw| serde_json::from_str(raw.get()))
            .transpose()
            .map_err(|e| {
                VsaFailure::new(
                    VsaCheck::InvalidPayload,
                    format!("the VSA predicate cannot be read: {e}"),
                )
            })?
            .unwrap_or_default();
        let verifier = p.verifier.and_then(|v| v.id).unwrap_or_default();
        if verifier != self.verifier_id {
            return Err(VsaFailure::new(
                VsaCheck::MismatchVerifierId,
                format!(
                    "the VSA's verifier.id is {}, not {}",
                    quote(&verifier),
                    quote(&self.verifier_id)
                ),
            ));
        }
        let result = p.verification_result.unwrap_or_default();
        if result != "PASSED" {
            return Err(VsaFailure::new(
                VsaCheck::VerificationResult,
                format!("the VSA's verificationResult is {}", quote(&result)),
            ));
        }
        if let Some(want) = &self.resource_uri {
            let got = p.resource_uri.unwrap_or_default();
            if &got != want {
                return Err(VsaFailure::new(
                    VsaCheck::MismatchResourceUri,
                    format!(
                        "the VSA's resourceUri is {}, not {}",
                        quote(&got),
                        quote(want)
                    ),
                ));
            }
        }
        if let Some(PolicyDigest(want)) = &self.policy_digest {
            let got = p
                .policy
                .and_then(|policy| policy.digest)
                .and_then(|set| set.get(want.algorithm().name()).cloned());
            if got.as_deref() != Some(want.hex()) {
                return Err(VsaFailure::new(
                    VsaCheck::MismatchPolicyDigest,
                    match got {
                        Some(got) => format!(
                            "the VSA's policy digest is {}:{got}, not {want}",
                            want.algorithm().name()
                        ),
                        None => format!(
                            "the VSA's policy has no {} digest; {want} is required",
                            want.algorithm().name()
                        ),
                    },
                ));
            }
        }
        check_levels(
            &p.verified_levels.unwrap_or_default(),
            &self.verified_levels,
        )?;
        if let Some(max) = &self.max_age {
            let at = p
                .time_verified
                .ok_or_else(|| VsaFailure::new(VsaCheck::TooOld, "the VSA has no timeVerified"))?;
            max.check("the VSA's timeVerified", &at, now_unix)
                .map_err(|e| VsaFailure::new(VsaCheck::TooOld, e.to_string()))?;
        }
        Ok(())
    }
}
