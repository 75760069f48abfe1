//! Credentials from the Docker config (`DOCKER_CONFIG` or `~/.docker/config.json`), with
//! credential helpers, as Cosign and the Docker CLI find them; then, for a registry that config
//! says nothing about, from fallback Docker config files (a node's kubelet `config.json`
//! mounted into an admission server), whose `auths` entries are read directly.

use std::path::Path;

use base64::Engine;
use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use crate::Error;

/// The largest fallback Docker config read.
const MAX_DOCKER_CONFIG_BYTES: u64 = 1 << 20;

/// Host names Docker Hub credentials are stored under.
const DOCKER_HUB_HOSTS: [&str; 4] = [
    "index.docker.io",
    "docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];

/// Docker config keys Docker Hub credentials are stored under.
const DOCKER_HUB_CONFIG_KEYS: [&str; 3] = [
    "https://index.docker.io/v1/",
    "index.docker.io",
    "docker.io",
];

/// The credentials for `registry`: from the Docker config, else from the first of
/// `fallbacks` that has some; anonymous when none does.
pub(crate) fn credentials_for(
    registry: &str,
    fallbacks: &[std::path::PathBuf],
) -> Result<RegistryAuth, Error> {
    match docker_config_credentials(registry)? {
        RegistryAuth::Anonymous => {}
        found => return Ok(found),
    }
    for file in fallbacks {
        if let Some(found) = file_credentials(file, registry)? {
            return Ok(found);
        }
    }
    Ok(RegistryAuth::Anonymous)
}

/// The credentials for `registry` in the user's Docker config, anonymous when none.
fn docker_config_credentials(registry: &str) -> Result<RegistryAuth, Error> {
    let keys: Vec<&str> = if registry == signet_core::reference::DOCKER_HUB_REGISTRY {
        DOCKER_HUB_CONFIG_KEYS.to_vec()
    } else {
        vec![registry]
    };
    for key in keys {
        match docker_credential::get_credential(key) {
            Ok(DockerCredential::UsernamePassword(user, password)) => {
                return Ok(RegistryAuth::Basic(user, password));
            }
            Ok(DockerCredential::IdentityToken(token)) => {
                return Ok(RegistryAuth::Bearer(token));
            }
            Err(
                CredentialRetrievalError::NoCredentialConfigured
                | CredentialRetrievalError::ConfigNotFound
                | CredentialRetrievalError::ConfigReadError,
            ) => {}
            // The helper's own output may hold a secret: report only that it failed.
            Err(CredentialRetrievalError::HelperFailure { helper, .. }) => {
                return Err(Error::Credentials {
                    registry: registry.to_owned(),
                    reason: format!("credential helper docker-credential-{helper} failed"),
                });
            }
            Err(other) => {
                return Err(Error::Credentials {
                    registry: registry.to_owned(),
                    reason: match other {
                        CredentialRetrievalError::HelperCommunicationError => {
                            "the credential helper could not be run".to_owned()
                        }
                        CredentialRetrievalError::MalformedHelperResponse => {
                            "the credential helper's answer is malformed".to_owned()
                        }
                        _ => "the Docker config's auth entry cannot be decoded".to_owned(),
                    },
                });
            }
        }
    }
    Ok(RegistryAuth::Anonymous)
}

#[derive(Deserialize)]
struct DockerConfigFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The credentials for `registry` in the `auths` of the Docker config file `path`; `None` when
/// it has no entry for it. The file's content never appears in an error.
fn file_credentials(path: &Path, registry: &str) -> Result<Option<RegistryAuth>, Error> {
    use std::io::Read;
    let unusable = |what: &str| Error::Credentials {
        registry: registry.to_owned(),
        reason: format!("the Docker config {} {what}", path.display()),
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_DOCKER_CONFIG_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|_| unusable("cannot be read"))?;
    if bytes.len() as u64 > MAX_DOCKER_CONFIG_BYTES {
        return Err(unusable(&format!(
            "is larger than {MAX_DOCKER_CONFIG_BYTES} bytes"
        )));
    }
    let config: DockerConfigFile =
        serde_json::from_slice(&bytes).map_err(|_| unusable("is not a Docker config"))?;
    let Some(entry) = config
        .auths
        .iter()
        .find(|(key, _)| key_names_registry(key, registry))
        .map(|(_, entry)| entry)
    else {
        return Ok(None);
    };
    if let Some(token) = &entry.identitytoken
        && !token.is_empty()
    {
        return Ok(Some(RegistryAuth::Bearer(token.clone())));
    }
    if let (Some(user), Some(password)) = (&entry.username, &entry.password) {
        return Ok(Some(RegistryAuth::Basic(user.clone(), password.clone())));
    }
    let decoded = entry
        .auth
        .as_deref()
        .and_then(|auth| base64::engine::general_purpose::STANDARD.decode(auth).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| unusable("has an auth entry that cannot be decoded"))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| unusable("has an auth entry that is not user:password"))?;
    Ok(Some(RegistryAuth::Basic(
        user.to_owned(),
        password.to_owned(),
    )))
}

/// Whether an `auths` key names the whole registry `registry`: `host[:port]`, with or without
/// `http(s)://`, a trailing `/` or Docker Hub's `/v1/`; or `*.domain` for a host one label
/// below it (the kubelet's wildcard). Keys with a repository path are not matched: they are
/// meant for part of a registry, and credentials here are per registry.
fn key_names_registry(key: &str, registry: &str) -> bool {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let (host, path) = key.split_once('/').unwrap_or((key, ""));
    if !matches!(path.trim_end_matches('/'), "" | "v1" | "v2") {
        return false;
    }
    let host = host.to_ascii_lowercase();
    let registry = registry.to_ascii_lowercase();
    let same = |h: &str| {
        h == registry
            || (registry == signet_core::reference::DOCKER_HUB_REGISTRY
                && DOCKER_HUB_HOSTS.contains(&h))
    };
    if same(&host) {
        return true;
    }
    match host.strip_prefix("*.") {
        Some(domain) => registry
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == domain),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_keys_that_name_a_whole_registry() {
        for key in [
            "registry.example:5000",
            "https://registry.example:5000",
            "https://registry.example:5000/",
            "http://registry.example:5000/v2/",
            "REGISTRY.example:5000",
        ] {
            assert!(key_names_registry(key, "registry.example:5000"), "{key}");
        }
        assert!(key_names_registry(
            "https://index.docker.io/v1/",
            "index.docker.io"
        ));
        assert!(key_names_registry("docker.io", "index.docker.io"));
        assert!(key_names_registry("*.gcr.io", "eu.gcr.io"));
        // Not this registry, or only part of it.
        assert!(!key_names_registry("*.gcr.io", "gcr.io"));
        assert!(!key_names_registry("*.gcr.io", "a.b.gcr.io"));
        assert!(!key_names_registry(
            "registry.example",
            "registry.example:5000"
        ));
        assert!(!key_names_registry(
            "registry.example:5000/team",
            "registry.example:5000"
        ));
        assert!(!key_names_registry("docker.io", "ghcr.io"));
    }

    #[test]
    fn fallback_files_give_credentials_and_never_echo_them() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("config.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("node:s3cret");
        std::fs::write(
            &path,
            format!(r#"{{"auths":{{"https://r.example/v1/":{{"auth":"{auth}"}},"bad.example":{{"auth":"!!s3cret"}}}}}}"#),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            file_credentials(&path, "r.example"),
            Ok(Some(RegistryAuth::Basic(user, password))) if user == "node" && password == "s3cret"
        ));
        assert!(matches!(file_credentials(&path, "other.example"), Ok(None)));
        let error = file_credentials(&path, "bad.example")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("cannot be decoded"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        std::fs::write(&path, b"{ not json s3cret").unwrap_or_else(|e| panic!("{e}"));
        let error = file_credentials(&path, "r.example")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("is not a Docker config"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }
}
