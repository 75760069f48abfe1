//! The `admission` section of a YAML trust policy: what a deploy gate does besides deciding
//! each image — which namespaces it enforces, and whether it pins tags to digests.
//!
//! ```yaml
//! admission:
//!   namespaces:
//!     exclude: [kube-system, monitoring]   # not enforced; every other namespace is
//!   pinDigests: all                        # all (default) | pods | none
//! ```
//!
//! Nothing is exempt unless listed here, except the admission server's own namespace (which
//! the server knows; a policy cannot name it away). A `policy.json` has no such section:
//! under it, every namespace but the server's own is enforced and every workload is pinned.

use serde::Deserialize;

/// Where and how the deploy gate applies the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdmissionSettings {
    #[serde(default)]
    namespaces: NamespaceRules,
    #[serde(default)]
    pin_digests: PinDigests,
}

impl AdmissionSettings {
    /// Whether the policy leaves `namespace` unenforced.
    pub fn excludes(&self, namespace: &str) -> bool {
        self.namespaces.exclude.iter().any(|n| n.0 == namespace)
    }

    /// The namespaces the policy leaves unenforced.
    pub fn excluded_namespaces(&self) -> impl Iterator<Item = &str> {
        self.namespaces.exclude.iter().map(|n| n.0.as_str())
    }

    /// Which objects get their tags pinned to the verified digests.
    pub fn pin_digests(&self) -> PinDigests {
        self.pin_digests
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
struct NamespaceRules {
    #[serde(default)]
    exclude: Vec<NamespaceName>,
}

/// A namespace name: an RFC 1123 label, as Kubernetes requires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
struct NamespaceName(String);

impl TryFrom<String> for NamespaceName {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        let ok = !name.is_empty()
            && name.len() <= 63
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-')
            && !name.ends_with('-');
        if ok {
            Ok(Self(name))
        } else {
            Err(format!(
                "{name:?} is not a namespace name (1 to 63 of a-z, 0-9 and -, not starting or ending with -)"
            ))
        }
    }
}

/// Which admitted objects the mutating webhook rewrites, tag to `tag@digest`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinDigests {
    /// Pods and the pod templates of workloads.
    #[default]
    All,
    /// Pods only: controllers keep their templates as written (GitOps tools that compare the
    /// live object with the repository would otherwise see a difference forever); the Pods
    /// they create are pinned.
    Pods,
    /// Nothing is rewritten; the validating answer is the same.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_enforce_everywhere_and_pin_everything() {
        let settings = AdmissionSettings::default();
        assert!(!settings.excludes("kube-system"));
        assert_eq!(settings.pin_digests(), PinDigests::All);
    }

    #[test]
    fn parses_and_validates_names() {
        let settings: AdmissionSettings = serde_saphyr::from_str(
            "namespaces:\n  exclude: [kube-system, team-a]\npinDigests: pods\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(settings.excludes("team-a"));
        assert!(!settings.excludes("team-b"));
        assert_eq!(settings.pin_digests(), PinDigests::Pods);
        let bad =
            serde_saphyr::from_str::<AdmissionSettings>("namespaces:\n  exclude: [Kube_System]\n")
                .map(|_| ())
                .map_err(|e| e.to_string());
        assert!(
            bad.as_ref()
                .is_err_and(|e| e.contains("is not a namespace name")),
            "{bad:?}"
        );
        let unknown = serde_saphyr::from_str::<AdmissionSettings>("namespace: {}\n");
        assert!(unknown.is_err(), "an unknown field is an error");
    }
}
