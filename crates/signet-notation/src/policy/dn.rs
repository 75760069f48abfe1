//! X.509 distinguished names as trustpolicy.json writes trusted identities
//! (`x509.subject: C=US, ST=WA, O=acme-rockets.io`), parsed as RFC 4514 strings the way
//! notation-go does (through go-ldap): each attribute once, single-valued RDNs, `S` an alias
//! of `ST`, and C, ST and O required.

use std::collections::BTreeMap;
use std::fmt;

/// A parsed distinguished name: attribute type → value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    attributes: BTreeMap<String, String>,
    text: String,
}

impl DistinguishedName {
    /// Parses an RFC 4514 string with notation's restrictions.
    pub fn parse(text: &str) -> Result<Self, super::PolicyError> {
        Ok(Self::parse_text(text)?)
    }

    pub(super) fn parse_text(text: &str) -> Result<Self, DistinguishedNameError> {
        use DistinguishedNameError as E;
        if text.contains("=#") {
            return Err(E::HexValue(text.to_owned()));
        }
        let mut attributes = BTreeMap::new();
        for rdn in split_unescaped(text, &[',', ';'])? {
            if split_unescaped(&rdn, &['+'])?.len() > 1 {
                return Err(E::MultiValuedRdn(text.to_owned()));
            }
            let (kind, value) =
                split_once_unescaped(&rdn, '=').ok_or_else(|| E::NotTypeAndValue {
                    name: text.to_owned(),
                    rdn: rdn.clone(),
                })?;
            let mut kind = kind.trim().to_owned();
            if kind.is_empty()
                || !kind
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            {
                return Err(E::AttributeType {
                    name: text.to_owned(),
                    kind,
                });
            }
            if kind == "S" {
                kind = "ST".to_owned();
            }
            let value = unescape(value)?;
            if attributes.contains_key(&kind) {
                return Err(E::Repeated {
                    name: text.to_owned(),
                    kind,
                });
            }
            attributes.insert(kind, value);
        }
        for required in ["C", "ST", "O"] {
            if attributes.get(required).is_none_or(String::is_empty) {
                return Err(E::Missing {
                    name: text.to_owned(),
                    attribute: required,
                });
            }
        }
        Ok(Self {
            attributes,
            text: text.trim().to_owned(),
        })
    }

    /// Whether every attribute of `self` has the same value in `other` (notation-go's
    /// `IsSubsetDN`).
    pub fn is_subset_of(&self, other: &BTreeMap<String, String>) -> bool {
        self.attributes
            .iter()
            .all(|(k, v)| other.get(k).is_some_and(|o| o == v))
    }

    pub(crate) fn overlaps(&self, other: &Self) -> bool {
        self.is_subset_of(&other.attributes)
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Splits at separators not escaped by a backslash.
fn split_unescaped(text: &str, separators: &[char]) -> Result<Vec<String>, DistinguishedNameError> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            current.push(
                chars
                    .next()
                    .ok_or(DistinguishedNameError::TrailingBackslash)?,
            );
        } else if separators.contains(&c) {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    Ok(parts)
}

fn split_once_unescaped(text: &str, separator: char) -> Option<(&str, &str)> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            return Some((&text[..i], &text[i + 1..]));
        }
    }
    None
}

/// Removes RFC 4514 escapes (`\,`, `\\`, `\ `, hex pairs) and unescaped surrounding spaces.
fn unescape(value: &str) -> Result<String, DistinguishedNameError> {
    let trimmed = value.trim_start_matches(' ');
    let mut out: Vec<u8> = Vec::new();
    let mut trailing_escaped_len = 0;
    let bytes = trimmed.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let next = *bytes
                .get(i + 1)
                .ok_or(DistinguishedNameError::TrailingBackslash)?;
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) if next.is_ascii_hexdigit() => {
                    out.push(byte);
                    i += 3;
                }
                _ => {
                    out.push(next);
                    i += 2;
                }
            }
            trailing_escaped_len = out.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    // Unescaped trailing spaces are not part of the value.
    while out.len() > trailing_escaped_len && out.last() == Some(&b' ') {
        out.pop();
    }
    String::from_utf8(out).map_err(|e| DistinguishedNameError::NotUtf8(e.utf8_error()))
}

/// An `x509.subject` trusted identity notation would refuse.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DistinguishedNameError {
    /// A hex-encoded (`=#`) value, which notation does not support.
    #[error("{0:?}: notation does not support x509.subject identities containing \"=#\"")]
    HexValue(String),
    /// An RDN of several attributes (`C=US+ST=WA`).
    #[error("{0:?} has a multi-valued RDN, which is not supported")]
    MultiValuedRdn(String),
    /// An RDN without `=`.
    #[error("{name:?}: {rdn:?} is not TYPE=value")]
    NotTypeAndValue {
        /// The name as written.
        name: String,
        /// The RDN.
        rdn: String,
    },
    /// An attribute type that is not a name or an OID.
    #[error("{name:?}: {kind:?} is not an attribute type")]
    AttributeType {
        /// The name as written.
        name: String,
        /// The attribute type.
        kind: String,
    },
    /// An attribute given twice.
    #[error("{name:?} has more than one {kind}; each attribute may appear once")]
    Repeated {
        /// The name as written.
        name: String,
        /// The attribute type.
        kind: String,
    },
    /// C, ST or O missing.
    #[error(
        "{name:?} has no {attribute}; a trusted identity must contain C, ST (or S) and O at a minimum"
    )]
    Missing {
        /// The name as written.
        name: String,
        /// The missing attribute.
        attribute: &'static str,
    },
    /// A backslash that escapes nothing.
    #[error("a trailing backslash")]
    TrailingBackslash,
    /// Escaped bytes that are not UTF-8.
    #[error("an escaped value that is not UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_partial_subject_matches_a_certificate_with_more_attributes() {
        let dn = DistinguishedName::parse("C=US, ST=WA, O=wabbit-network.io")
            .unwrap_or_else(|e| panic!("{e}"));
        let cert = attrs(&[
            ("C", "US"),
            ("ST", "WA"),
            ("O", "wabbit-network.io"),
            ("CN", "x"),
        ]);
        assert!(dn.is_subset_of(&cert));
        let other = attrs(&[("C", "US"), ("ST", "WA"), ("O", "acme")]);
        assert!(!dn.is_subset_of(&other));
    }

    #[test]
    fn escapes_s_alias_and_the_required_attributes_follow_notation() {
        let dn = DistinguishedName::parse(r"CN=a\,b\\c, S=WA, O=x\ , C=US")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(dn.is_subset_of(&attrs(&[
            ("CN", r"a,b\c"),
            ("ST", "WA"),
            ("O", "x "),
            ("C", "US")
        ])));
        for bad in [
            "C=US, O=x",
            "C=US, ST=WA, O=x, O=y",
            "C=US+ST=WA, O=x",
            "C=US, ST=WA, O=#0403",
            "C=US, ST=WA, O",
        ] {
            assert!(DistinguishedName::parse(bad).is_err(), "{bad} parsed");
        }
    }
}
