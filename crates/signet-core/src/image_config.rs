//! The image configuration (OCI `application/vnd.oci.image.config.v1+json`, and Docker's
//! `application/vnd.docker.container.image.v1+json`, which has the same shape): what an image
//! is rather than who signed it — the user it runs as, its environment, labels, exposed ports,
//! platform and creation time.
//!
//! Only the fields policies read are modelled; everything else (history, rootfs, entrypoint)
//! is skipped while parsing. The caller bounds the size of the bytes.
//!
//! ```
//! use signet_core::image_config::ImageConfig;
//! let config = ImageConfig::parse(br#"{"architecture": "amd64", "os": "linux",
//!     "config": {"User": "65532:65532", "Env": ["PATH=/usr/bin"], "ExposedPorts": {"8080/tcp": {}}}}"#)?;
//! assert_eq!(config.user(), Some("65532:65532"));
//! assert_eq!(config.env().next(), Some(("PATH", "/usr/bin")));
//! assert_eq!(config.platform().to_string(), "linux/amd64");
//! # Ok::<(), signet_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::Error;

/// An image's configuration, as far as policies read it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<RunConfig>,
}

/// The `config` object: how a container of the image runs. Docker writes its keys
/// capitalised, as the OCI spec does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct RunConfig {
    #[serde(rename = "User", default)]
    user: Option<String>,
    #[serde(rename = "Env", default)]
    env: Option<Environment>,
    #[serde(rename = "ExposedPorts", default)]
    exposed_ports: Option<Keys>,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

/// A `T` that must be written as a JSON object (serde's derived structs also accept an array
/// of their fields in order, which no image configuration is).
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// The `Env` list (`NAME=value` strings). Values may be secrets, so neither its `Debug` nor a
/// parse error ever shows one: serde's own messages quote the string they did not expect
/// (`invalid type: string "AWS_SECRET_ACCESS_KEY=…"`).
#[derive(Clone, Default, PartialEq, Eq)]
struct Environment(Vec<String>);

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|entry| {
                let name = entry.split_once('=').map_or(entry.as_str(), |(n, _)| n);
                format!("{name}=<redacted>")
            }))
            .finish()
    }
}

/// One `Env` entry: a string, or an error that does not repeat what was there instead.
struct EnvEntry(String);

impl<'de> Deserialize<'de> for EnvEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntryVisitor;

        impl serde::de::Visitor<'_> for EntryVisitor {
            type Value = EnvEntry;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NAME=value string")
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EnvEntry, E> {
                Ok(EnvEntry(v.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<EnvEntry, E> {
                Ok(EnvEntry(v))
            }
        }

        deserializer.deserialize_string(EntryVisitor)
    }
}

impl<'de> Deserialize<'de> for Environment {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> serde::de::Visitor<'de> for ListVisitor {
            type Value = Environment;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of NAME=value strings")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Environment, A::Error> {
                let mut entries = Vec::new();
                while let Some(EnvEntry(entry)) = seq.next_element()? {
                    entries.push(entry);
                }
                Ok(Environment(entries))
            }

            // A string where the list belongs is refused without quoting it.
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Environment, E> {
                Err(E::invalid_type(
                    serde::de::Unexpected::Other("a string"),
                    &self,
                ))
            }
        }

        // `deserialize_any`, because serde_json answers `deserialize_seq` on a string with
        // its own error, quoting the string.
        deserializer.deserialize_any(ListVisitor)
    }
}

/// The keys of a JSON object whose values are never read (`ExposedPorts` maps each port to
/// `{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;

        impl<'de> serde::de::Visitor<'de> for KeysVisitor {
            type Value = Keys;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }

        deserializer.deserialize_map(KeysVisitor)
    }
}

impl ImageConfig {
    /// Parses an image configuration (a JSON object). The caller has bounded its size.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice::<Object<Self>>(bytes)
            .map(|o| o.0)
            .map_err(|source| Error::MalformedJson {
                what: "image configuration",
                source,
            })
    }

    /// The platform the image is built for.
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.os.clone().unwrap_or_default(),
            architecture: self.architecture.clone().unwrap_or_default(),
            variant: self.variant.clone(),
        }
    }

    /// The `created` time as written (RFC 3339 by the spec), if any.
    pub fn created(&self) -> Option<&str> {
        self.created.as_deref()
    }

    /// The user the container runs as (`name`, `uid`, `uid:gid`, `name:group`); `None` or
    /// empty means the runtime's default, root.
    pub fn user(&self) -> Option<&str> {
        self.config.as_ref().and_then(|c| c.user.as_deref())
    }

    /// The environment, as `(name, value)` pairs in order (an entry without `=` has an empty
    /// value, as Docker reads it).
    pub fn env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.config
            .iter()
            .flat_map(|c| c.env.iter().flat_map(|e| e.0.iter()))
            .map(|entry| entry.split_once('=').unwrap_or((entry.as_str(), "")))
    }

    /// The exposed ports as written (`8080/tcp`, `53/udp`, or a bare port).
    pub fn exposed_ports(&self) -> impl Iterator<Item = &str> {
        self.config
            .iter()
            .flat_map(|c| c.exposed_ports.iter().flat_map(|k| k.0.iter()))
            .map(String::as_str)
    }

    /// The labels.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        self.config
            .iter()
            .flat_map(|c| c.labels.iter().flatten())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// One label's value.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|labels| labels.get(name))
            .map(String::as_str)
    }
}

/// An OS and architecture (and variant), as an index's `platform` or a config names them.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
pub struct Platform {
    /// `linux`, `windows`.
    #[serde(default)]
    pub os: String,
    /// `amd64`, `arm64`.
    #[serde(default)]
    pub architecture: String,
    /// `v7`, `v8`.
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/architecture[/variant]`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('/');
        let os = parts.next().filter(|s| !s.is_empty())?;
        let architecture = parts.next().filter(|s| !s.is_empty())?;
        let variant = match parts.next() {
            Some(v) if !v.is_empty() => Some(v.to_owned()),
            Some(_) => return None,
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant,
        })
    }

    /// Whether `self`, as a requirement, is met by `other`: os and architecture equal, and the
    /// variant equal when the requirement names one.
    pub fn is_met_by(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && self
                .variant
                .as_ref()
                .is_none_or(|v| other.variant.as_ref() == Some(v))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_configs_read_their_capitalised_keys_and_tolerate_nulls() {
        let config = ImageConfig::parse(
            br#"{"architecture":"arm64","variant":"v8","os":"linux","created":"2024-01-02T03:04:05Z",
            "config":{"User":"","Env":["A=1","B","C=x=y"],"ExposedPorts":null,"Labels":null},
            "rootfs":{"type":"layers","diff_ids":[]},"history":[{"created_by":"x"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.platform().to_string(), "linux/arm64/v8");
        assert_eq!(config.user(), Some(""));
        assert_eq!(
            config.env().collect::<Vec<_>>(),
            [("A", "1"), ("B", ""), ("C", "x=y")]
        );
        assert_eq!(config.exposed_ports().count(), 0);
        assert_eq!(config.created(), Some("2024-01-02T03:04:05Z"));
        let bare = ImageConfig::parse(b"{}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bare.user(), None);
        assert!(ImageConfig::parse(b"[]").is_err());
    }

    #[test]
    fn an_environment_value_is_never_in_a_parse_error_or_debug_output() {
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        for config in [
            format!(r#"{{"config":{{"Env":"AWS_SECRET_ACCESS_KEY={secret}"}}}}"#),
            format!(r#"{{"config":{{"Env":{{"AWS_SECRET_ACCESS_KEY":"{secret}"}}}}}}"#),
            format!(r#"{{"config":{{"Env":["A=1", 7, "B={secret}"]}}}}"#),
        ] {
            let error = ImageConfig::parse(config.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{config} parsed"));
            let chain = format!("{error} {:?}", std::error::Error::source(&error));
            assert!(
                !chain.contains(secret) && chain.contains("NAME=value"),
                "{chain}"
            );
        }
        let config = ImageConfig::parse(
            format!(r#"{{"config":{{"Env":["AWS_SECRET_ACCESS_KEY={secret}","PATH"]}}}}"#)
                .as_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let debug = format!("{config:?}");
        assert!(
            !debug.contains(secret) && debug.contains("AWS_SECRET_ACCESS_KEY=<redacted>"),
            "{debug}"
        );
        assert_eq!(config.env().next(), Some(("AWS_SECRET_ACCESS_KEY", secret)));
    }

    #[test]
    fn platforms_parse_and_match_with_optional_variants() {
        let want = Platform::parse("linux/arm64").unwrap_or_default();
        let v8 = Platform::parse("linux/arm64/v8").unwrap_or_default();
        assert!(want.is_met_by(&v8));
        assert!(!v8.is_met_by(&want));
        for bad in ["linux", "linux/", "/amd64", "linux/arm/v7/x", "linux/arm/"] {
            assert_eq!(Platform::parse(bad), None, "{bad}");
        }
    }
}
