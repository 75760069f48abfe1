//! Trust policies: signet's YAML policy and containers/image's `policy.json`, evaluated into
//! one [`report::PolicyReport`].

pub mod conditions;
pub mod containers;
pub mod evaluate;
pub mod glob;
pub mod lint;
pub mod model;
pub mod notation;
pub mod report;

pub(crate) use evaluate::error_chain;

/// The policy languages a policy file can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyFormat {
    /// signet's YAML policy (`apiVersion: signet.dev/v1`).
    Signet,
    /// containers/image's `policy.json` (`{"default": …, "transports": …}`).
    Containers,
    /// Notation's `trustpolicy.json` (`{"version": "1.0", "trustPolicies": …}`).
    NotationTrustPolicy,
}

/// Which language a policy file is in: a JSON object with `trustPolicies` is Notation's, any
/// other JSON object containers/image's, anything else signet's YAML.
pub fn detect_format(bytes: &[u8]) -> PolicyFormat {
    if !bytes.trim_ascii_start().starts_with(b"{") {
        return PolicyFormat::Signet;
    }
    #[derive(serde::Deserialize)]
    struct Peek {
        #[serde(rename = "trustPolicies")]
        trust_policies: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Peek>(bytes) {
        Ok(Peek {
            trust_policies: Some(_),
        }) => PolicyFormat::NotationTrustPolicy,
        _ => PolicyFormat::Containers,
    }
}
