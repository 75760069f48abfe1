//! `signet policy lint`: warnings about a loaded policy that parsing alone cannot reject.

use crate::image_rules::ImageRules;
use crate::model::{Policy, TrustPolicy};

/// A lint finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Stable diagnostic code (`W001`…).
    pub code: &'static str,
    /// Where (`policy "prod" (line 12)`).
    pub location: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// What parsing cannot reject in an `image:` block: a platform, label, allowed variable or port
/// listed twice
/// (W006), a base rule that allows no base (W004, as for requirements that can never pass),
/// and image rules without any signature or attestation requirement (W007): they say what the
/// image is, not who built it.
fn lint_image_rules(
    rules: &ImageRules,
    policy: &Policy,
    location: &str,
    warnings: &mut Vec<Warning>,
) {
    let mut seen = std::collections::BTreeSet::new();
    for platform in rules.platforms() {
        if !seen.insert(platform.to_string()) {
            warnings.push(Warning {
                code: "W006",
                location: location.to_owned(),
                message: format!("image.platforms lists {platform} twice"),
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for label in rules.labels() {
        if !seen.insert(label) {
            warnings.push(Warning {
                code: "W006",
                location: location.to_owned(),
                message: format!("image.labels lists {label} twice"),
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for name in rules.env_allow() {
        if !seen.insert(name) {
            warnings.push(Warning {
                code: "W006",
                location: location.to_owned(),
                message: format!("image.env.allow lists {name} twice"),
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for port in rules.exposed_ports() {
        if !seen.insert(port) {
            warnings.push(Warning {
                code: "W006",
                location: location.to_owned(),
                message: format!("image.exposedPorts lists {port} twice"),
            });
        }
    }
    if rules.base_allows_nothing() {
        warnings.push(Warning {
            code: "W004",
            location: location.to_owned(),
            message: "image.base can never pass: its allowed list is empty (leave it out to allow any base)".to_owned(),
        });
    }
    if policy.signatures().is_none() && policy.attestations().is_empty() {
        warnings.push(Warning {
            code: "W007",
            location: location.to_owned(),
            message: "the image rules check what an image is, not who built it: add a signatures or attestations requirement, or another policy covering these images that has one".to_owned(),
        });
    }
}

/// Rules that can never pass, excludes that exclude nothing, authorities nobody uses.
pub fn lint(policy: &TrustPolicy) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for p in policy.policies() {
        let location = format!("policy {:?} (line {})", p.name(), p.line());
        for exclude in p.exclude() {
            let overlaps = p
                .images()
                .iter()
                .any(|g| g.matches(&exclude.example()) || exclude.matches(&g.example()));
            if !overlaps {
                warnings.push(Warning {
                    code: "W001",
                    location: location.clone(),
                    message: format!(
                        "exclude {exclude} matches none of the images this policy covers"
                    ),
                });
            }
        }
        let mut authority_lists: Vec<(String, &[String], usize)> = Vec::new();
        if let Some(s) = p.signatures() {
            authority_lists.push(("signatures".to_owned(), s.authorities(), s.threshold()));
        }
        for a in p.attestations() {
            authority_lists.push((format!("attestation {}", a.name()), a.authorities(), 1));
            if a.conditions().vsa.is_some()
                && a.predicate_type().uri() != crate::vsa::VSA_PREDICATE_TYPE
            {
                warnings.push(Warning {
                    code: "W004",
                    location: location.clone(),
                    message: format!(
                        "attestation {} can never pass: its vsa condition needs predicateType {}, not {}",
                        a.name(),
                        crate::vsa::VSA_PREDICATE_TYPE,
                        a.predicate_type().uri()
                    ),
                });
            }
        }
        for (what, names, needed) in authority_lists {
            let mut usable = 0;
            for name in names {
                used.insert(name.clone());
                if policy.authorities().contains_key(name) {
                    usable += 1;
                }
            }
            if usable < needed {
                warnings.push(Warning {
                    code: "W004",
                    location: location.clone(),
                    message: format!("{what} can never pass: it needs {needed} authorities and only {usable} can count"),
                });
            }
        }
        if let Some(rules) = p.image_rules() {
            lint_image_rules(rules, p, &location, &mut warnings);
        }
    }
    for name in policy.authorities().keys() {
        if !used.contains(name) {
            warnings.push(Warning {
                code: "W005",
                location: format!("authority {name:?}"),
                message: "no policy uses this authority".to_owned(),
            });
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<TrustPolicy, crate::model::PolicyError> {
        let text = format!("apiVersion: signet.dev/v1\nkind: TrustPolicy\n{body}");
        TrustPolicy::parse(&text, &|_| Err(std::io::Error::other("no key files")))
    }

    #[test]
    fn a_vsa_condition_on_another_predicate_type_can_never_pass() {
        let text = "apiVersion: signet.dev/v1\nkind: TrustPolicy\nauthorities:\n  v: { key: { path: v.pub }, transparencyLog: ignore }\npolicies:\n  - name: gate\n    images: [\"r.example/**\"]\n    attestations:\n      - { name: summary, predicateType: slsaprovenance1, authorities: [v], vsa: { verifierId: https://v.example } }\n";
        let key = signet_core::keys::PrivateKey::generate_p256()
            .and_then(|k| k.public_key())
            .unwrap_or_else(|e| panic!("{e}"))
            .to_pem();
        let policy = TrustPolicy::parse(text, &|_| Ok(key.clone().into_bytes()))
            .unwrap_or_else(|e| panic!("{e}"));
        let warnings: Vec<(&str, String)> = lint(&policy)
            .into_iter()
            .map(|w| (w.code, w.message))
            .collect();
        assert_eq!(
            warnings,
            [(
                "W004",
                "attestation summary can never pass: its vsa condition needs predicateType https://slsa.dev/verification_summary/v1, not https://slsa.dev/provenance/v1".to_owned()
            )]
        );
    }

    #[test]
    fn image_rules_are_linted_and_unknown_ones_refused_at_their_line() {
        let policy = parse(
            "policies:\n  - name: runtime\n    images: [\"r.example/**\"]\n    image:\n      platforms: [linux/amd64, linux/amd64]\n      labels: [a, b, a]\n      exposedPorts: [\"8080\", 8080/tcp]\n      base: { allowed: [] }\n      env: { allow: [GPG_KEY, GPG_KEY] }\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let codes: Vec<(&str, String)> = lint(&policy)
            .into_iter()
            .map(|w| (w.code, w.message))
            .collect();
        assert_eq!(
            codes,
            [
                ("W006", "image.platforms lists linux/amd64 twice".to_owned()),
                ("W006", "image.labels lists a twice".to_owned()),
                ("W006", "image.env.allow lists GPG_KEY twice".to_owned()),
                ("W006", "image.exposedPorts lists 8080/tcp twice".to_owned()),
                ("W004", "image.base can never pass: its allowed list is empty (leave it out to allow any base)".to_owned()),
                ("W007", "the image rules check what an image is, not who built it: add a signatures or attestations requirement, or another policy covering these images that has one".to_owned()),
            ]
        );
        let error = match parse(
            "policies:\n  - name: runtime\n    images: [\"r.example/**\"]\n    image:\n      runAsRoot: false\n",
        ) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("an unknown image rule loaded"),
        };
        assert!(
            error.contains("unknown field `runAsRoot`") && error.contains("line 7"),
            "{error}"
        );
    }
}
