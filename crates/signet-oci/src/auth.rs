//! Credentials from the Docker config (`DOCKER_CONFIG` or `~/.docker/config.json`), with
//! credential helpers, as Cosign and the Docker CLI find them.

use docker_credential::{CredentialRetrievalError, DockerCredential};
use oci_client::secrets::RegistryAuth;

use crate::Error;

/// Docker config keys Docker Hub credentials are stored under.
const DOCKER_HUB_CONFIG_KEYS: [&str; 3] = [
    "https://index.docker.io/v1/",
    "index.docker.io",
    "docker.io",
];

/// The credentials for `registry`, anonymous when none are configured.
pub(crate) fn credentials_for(registry: &str) -> Result<RegistryAuth, Error> {
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
