//! `signet policy lint`: warnings about a loaded policy that parsing alone cannot reject.

use crate::model::TrustPolicy;

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
