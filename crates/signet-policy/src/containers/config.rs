//! Parsing `policy.json` into validated requirements, as strictly as containers/image parses
//! it: unknown or duplicate keys, wrong types, empty requirement lists and invalid scopes are
//! errors, each naming where it is.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use signet_core::digest::DigestAlgorithm;
use signet_core::keys::{KeyKind, PublicKey};

use super::json::{Json, JsonPath, truncate};
use super::reference::{DockerRef, IdentityRule, is_remap_prefix};
use super::{ContainersPolicyError, PolicyProblem, Unsupported, read_bounded};
use signet_verify::KeyVerifier;

/// A key file larger than this is refused.
pub(crate) const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

const REQUIREMENT_TYPES: &[&str] = &[
    "insecureAcceptAnything",
    "reject",
    "signedBy",
    "sigstoreSigned",
    "signedBaseLayer",
];
const IDENTITY_TYPES: &[&str] = &[
    "matchExact",
    "matchRepoDigestOrExact",
    "matchRepository",
    "exactReference",
    "exactRepository",
    "remapIdentity",
];
const SIGSTORE_FIELDS: &[&str] = &[
    "type",
    "keyPath",
    "keyPaths",
    "keyData",
    "keyDatas",
    "fulcio",
    "rekorPublicKeyPath",
    "rekorPublicKeyPaths",
    "rekorPublicKeyData",
    "rekorPublicKeyDatas",
    "signedIdentity",
];

/// The whole policy: the default requirements and the per-transport scopes.
#[derive(Debug)]
pub(crate) struct PolicyConfig {
    pub(crate) default: Vec<Requirement>,
    /// transport → scope → requirements.
    pub(crate) transports: BTreeMap<String, BTreeMap<String, Vec<Requirement>>>,
}

/// One requirement; a scope's requirements must all pass.
#[derive(Debug)]
pub(crate) enum Requirement {
    InsecureAcceptAnything,
    Reject,
    /// Never implemented by containers/image: it always denies.
    SignedBaseLayer,
    SigstoreSigned(SigstoreSigned),
}

impl Requirement {
    /// A short description for reports.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::InsecureAcceptAnything => "insecureAcceptAnything".to_owned(),
            Self::Reject => "reject".to_owned(),
            Self::SignedBaseLayer => "signedBaseLayer".to_owned(),
            Self::SigstoreSigned(s) => format!(
                "sigstoreSigned ({}; signedIdentity {})",
                s.key_source,
                s.identity.describe()
            ),
        }
    }
}

/// A `sigstoreSigned` requirement with public keys.
#[derive(Debug)]
pub(crate) struct SigstoreSigned {
    /// The keys, each with the name reports give it (the path, or `keyData`).
    pub(crate) keys: Vec<(String, KeyVerifier)>,
    /// `keyPath /etc/pki/a.pub`, `keyPaths [a, b]`, `keyData`, `keyDatas (2)`.
    pub(crate) key_source: String,
    pub(crate) identity: IdentityRule,
    /// With `rekorPublicKey*`: a trusted root holding only those Rekor keys, against which
    /// every signature's `dev.sigstore.cosign/bundle` must verify.
    pub(crate) rekor: Option<std::sync::Arc<signet_verify::bundle::BundleVerifier>>,
}

type Result<T> = std::result::Result<T, ContainersPolicyError>;

fn invalid(at: &JsonPath, problem: PolicyProblem) -> ContainersPolicyError {
    ContainersPolicyError::Invalid {
        at: at.to_string(),
        problem,
    }
}

fn object<'a>(value: &'a Json, at: &JsonPath) -> Result<&'a [(String, Json)]> {
    value.as_object().ok_or_else(|| {
        invalid(
            at,
            PolicyProblem::WrongType {
                expected: "an object",
                found: value.kind(),
            },
        )
    })
}

/// The object's members, after checking each key is one of `allowed`.
fn fields<'a>(
    value: &'a Json,
    at: &JsonPath,
    allowed: &'static [&'static str],
) -> Result<&'a [(String, Json)]> {
    let members = object(value, at)?;
    if let Some((unknown, _)) = members.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(invalid(
            &at.key(unknown),
            PolicyProblem::UnknownField {
                field: truncate(unknown),
                expected: allowed,
            },
        ));
    }
    Ok(members)
}

fn string<'a>(value: &'a Json, at: &JsonPath) -> Result<&'a str> {
    value.as_str().ok_or_else(|| {
        invalid(
            at,
            PolicyProblem::WrongType {
                expected: "a string",
                found: value.kind(),
            },
        )
    })
}

fn required<'a>(value: &'a Json, at: &JsonPath, field: &'static str) -> Result<&'a Json> {
    value
        .get(field)
        .ok_or_else(|| invalid(at, PolicyProblem::MissingField { field }))
}

/// The `type` member, which every requirement and identity rule has.
fn type_of<'a>(value: &'a Json, at: &JsonPath) -> Result<&'a str> {
    object(value, at)?;
    string(required(value, at, "type")?, &at.key("type"))
}

impl PolicyConfig {
    /// Validates the parsed document. Key files are read relative to the current directory,
    /// as containers/image reads them.
    pub(crate) fn from_json(document: &Json) -> Result<PolicyConfig> {
        let root = JsonPath::root();
        let members = fields(document, &root, &["default", "transports"])?;
        let mut default = None;
        let mut transports = BTreeMap::new();
        for (key, value) in members {
            let at = root.key(key);
            match key.as_str() {
                "default" => default = Some(requirements(value, &at)?),
                _ => transports = parse_transports(value, &at)?,
            }
        }
        let default = default.ok_or_else(|| invalid(&root, PolicyProblem::MissingDefault))?;
        Ok(PolicyConfig {
            default,
            transports,
        })
    }
}

fn parse_transports(
    value: &Json,
    at: &JsonPath,
) -> Result<BTreeMap<String, BTreeMap<String, Vec<Requirement>>>> {
    let mut transports = BTreeMap::new();
    for (transport, scopes_value) in object(value, at)? {
        let transport_at = at.key(transport);
        let mut scopes = BTreeMap::new();
        for (scope, reqs) in object(scopes_value, &transport_at)? {
            let scope_at = transport_at.key(scope);
            if !scope.is_empty() {
                validate_scope(transport, scope).map_err(|reason| {
                    invalid(
                        &scope_at,
                        PolicyProblem::InvalidScope {
                            transport: truncate(transport),
                            reason,
                        },
                    )
                })?;
            }
            scopes.insert(scope.clone(), requirements(reqs, &scope_at)?);
        }
        transports.insert(transport.clone(), scopes);
    }
    Ok(transports)
}

/// `ValidatePolicyConfigurationScope` of the transports signet evaluates or that share the
/// path rule; scopes of other transports are accepted as they are.
fn validate_scope(transport: &str, scope: &str) -> std::result::Result<(), &'static str> {
    match transport {
        "oci" | "dir" => {
            if !scope.starts_with('/') {
                return Err("must be an absolute path");
            }
            if scope == "/" {
                return Err("\"/\" is not a scope: use the transport's default scope \"\"");
            }
            let clean = scope[1..]
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
            if clean {
                Ok(())
            } else {
                Err("the path is not in canonical form (no trailing /, //, . or ..)")
            }
        }
        // containers/image accepts any docker scope; one that is not a reference simply
        // never matches.
        _ => Ok(()),
    }
}

fn requirements(value: &Json, at: &JsonPath) -> Result<Vec<Requirement>> {
    let Json::Array(items) = value else {
        return Err(invalid(
            at,
            PolicyProblem::WrongType {
                expected: "an array of requirements",
                found: value.kind(),
            },
        ));
    };
    if items.is_empty() {
        return Err(invalid(at, PolicyProblem::EmptyRequirements));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| requirement(item, &at.index(i)))
        .collect()
}

fn requirement(value: &Json, at: &JsonPath) -> Result<Requirement> {
    let kind = type_of(value, at)?;
    match kind {
        "insecureAcceptAnything" => {
            fields(value, at, &["type"])?;
            Ok(Requirement::InsecureAcceptAnything)
        }
        "reject" => {
            fields(value, at, &["type"])?;
            Ok(Requirement::Reject)
        }
        "signedBaseLayer" => {
            fields(value, at, &["type", "baseLayerIdentity"])?;
            identity_rule(
                required(value, at, "baseLayerIdentity")?,
                &at.key("baseLayerIdentity"),
            )?;
            Ok(Requirement::SignedBaseLayer)
        }
        "signedBy" => Err(ContainersPolicyError::Unsupported {
            at: at.to_string(),
            feature: Unsupported::SignedBy,
        }),
        "sigstoreSigned" => sigstore_signed(value, at).map(Requirement::SigstoreSigned),
        other => Err(invalid(
            &at.key("type"),
            PolicyProblem::UnknownType {
                found: truncate(other),
                expected: REQUIREMENT_TYPES,
            },
        )),
    }
}

fn sigstore_signed(value: &Json, at: &JsonPath) -> Result<SigstoreSigned> {
    let members = fields(value, at, SIGSTORE_FIELDS)?;
    if members.iter().any(|(key, _)| key == "fulcio") {
        return Err(ContainersPolicyError::Unsupported {
            at: at.key("fulcio").to_string(),
            feature: Unsupported::Fulcio,
        });
    }
    let rekor = rekor_keys(value, at)?;
    let key_fields: Vec<&str> = ["keyPath", "keyPaths", "keyData", "keyDatas"]
        .into_iter()
        .filter(|f| value.get(f).is_some())
        .collect();
    let [key_field] = key_fields.as_slice() else {
        return Err(invalid(at, PolicyProblem::KeySources));
    };
    let key_at = at.key(key_field);
    let key_value = required(value, at, key_field)?;
    let (keys, key_source) = match *key_field {
        "keyPath" => {
            let path = string(key_value, &key_at)?;
            if path.is_empty() {
                return Err(invalid(at, PolicyProblem::KeySources));
            }
            let key = key_from_file(path, &key_at)?;
            (vec![(path.to_owned(), key)], format!("keyPath {path}"))
        }
        "keyPaths" => {
            let paths = string_list(key_value, &key_at)?;
            let keys = paths
                .iter()
                .enumerate()
                .map(|(i, path)| Ok(((*path).to_owned(), key_from_file(path, &key_at.index(i))?)))
                .collect::<Result<Vec<_>>>()?;
            (keys, format!("keyPaths [{}]", paths.join(", ")))
        }
        "keyData" => {
            let data = string(key_value, &key_at)?;
            (
                vec![("keyData".to_owned(), key_from_base64(data, &key_at)?)],
                "keyData".to_owned(),
            )
        }
        _ => {
            let datas = string_list(key_value, &key_at)?;
            let keys = datas
                .iter()
                .enumerate()
                .map(|(i, data)| {
                    let key = key_from_base64(data, &key_at.index(i))?;
                    Ok((format!("keyDatas[{i}]"), key))
                })
                .collect::<Result<Vec<_>>>()?;
            (keys, format!("keyDatas ({} keys)", datas.len()))
        }
    };
    let identity = match value.get("signedIdentity") {
        None => IdentityRule::MatchRepoDigestOrExact,
        Some(rule) => identity_rule(rule, &at.key("signedIdentity"))?,
    };
    Ok(SigstoreSigned {
        keys,
        key_source,
        identity,
        rekor,
    })
}

/// `rekorPublicKeyPath`, `…Paths`, `…Data` or `…Datas` (at most one of them): the Rekor keys,
/// as a Sigstore trusted root with only those logs, valid since the epoch (containers/image
/// puts no validity window on them).
fn rekor_keys(
    value: &Json,
    at: &JsonPath,
) -> Result<Option<std::sync::Arc<signet_verify::bundle::BundleVerifier>>> {
    let present: Vec<&str> = [
        "rekorPublicKeyPath",
        "rekorPublicKeyPaths",
        "rekorPublicKeyData",
        "rekorPublicKeyDatas",
    ]
    .into_iter()
    .filter(|f| value.get(f).is_some())
    .collect();
    let field = match present.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => return Err(invalid(at, PolicyProblem::RekorKeySources)),
    };
    let field_at = at.key(field);
    let field_value = required(value, at, field)?;
    let keys: Vec<PublicKey> = match field {
        "rekorPublicKeyPath" => vec![key_from_file(string(field_value, &field_at)?, &field_at)?],
        "rekorPublicKeyData" => vec![key_from_base64(string(field_value, &field_at)?, &field_at)?],
        "rekorPublicKeyPaths" => string_list(field_value, &field_at)?
            .iter()
            .enumerate()
            .map(|(i, path)| key_from_file(path, &field_at.index(i)))
            .collect::<Result<Vec<_>>>()?,
        _ => string_list(field_value, &field_at)?
            .iter()
            .enumerate()
            .map(|(i, data)| key_from_base64(data, &field_at.index(i)))
            .collect::<Result<Vec<_>>>()?,
    }
    .into_iter()
    .map(|verifier| verifier.key().clone())
    .collect();
    let mut tlogs = Vec::new();
    for key in &keys {
        let key_details = match key.kind() {
            KeyKind::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
            KeyKind::EcdsaP384 => "PKIX_ECDSA_P384_SHA_384",
            KeyKind::EcdsaP521 => "PKIX_ECDSA_P521_SHA_512",
            KeyKind::Ed25519 => "PKIX_ED25519",
            _ => return Err(invalid(&field_at, PolicyProblem::RekorKeyType)),
        };
        let log_id =
            signet_core::digest::MessageDigest::of(DigestAlgorithm::Sha256, key.spki_der());
        tlogs.push(serde_json::json!({
            "baseUrl": "",
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": STANDARD.encode(key.spki_der()),
                "keyDetails": key_details,
                "validFor": {"start": "1970-01-01T00:00:00Z"},
            },
            "logId": {"keyId": STANDARD.encode(log_id.as_bytes())},
        }));
    }
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": tlogs,
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": [],
    });
    let verifier = signet_verify::bundle::BundleVerifier::new(
        root.to_string().as_bytes(),
        signet_verify::bundle::BundleLimits::default(),
    )
    .map_err(|_| invalid(&field_at, PolicyProblem::RekorKeyType))?;
    Ok(Some(std::sync::Arc::new(verifier)))
}

fn string_list<'a>(value: &'a Json, at: &JsonPath) -> Result<Vec<&'a str>> {
    let Json::Array(items) = value else {
        return Err(invalid(
            at,
            PolicyProblem::WrongType {
                expected: "an array of strings",
                found: value.kind(),
            },
        ));
    };
    if items.is_empty() {
        return Err(invalid(at, PolicyProblem::EmptyKeyList));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &at.index(i)))
        .collect()
}

/// Reads a PEM public key file (relative paths from the current directory, as
/// containers/image's `os.ReadFile` resolves them).
fn key_from_file(path: &str, at: &JsonPath) -> Result<KeyVerifier> {
    let file = PathBuf::from(path);
    let bytes = read_bounded(&file, MAX_KEY_FILE_BYTES).map_err(|e| match e {
        ContainersPolicyError::Read { path, source } => ContainersPolicyError::KeyFile {
            at: at.to_string(),
            path,
            source,
        },
        other => other,
    })?;
    key_from_pem(&bytes, path, at)
}

fn key_from_base64(data: &str, at: &JsonPath) -> Result<KeyVerifier> {
    let bytes = STANDARD
        .decode(data)
        .map_err(|_| invalid(at, PolicyProblem::NotBase64))?;
    key_from_pem(&bytes, "keyData", at)
}

/// containers/image takes only PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`) and verifies with
/// SHA-256 only, whatever the curve.
fn key_from_pem(bytes: &[u8], name: &str, at: &JsonPath) -> Result<KeyVerifier> {
    let key_error = |source| ContainersPolicyError::Key {
        at: at.to_string(),
        key: truncate(name),
        source,
    };
    if !bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Err(key_error(signet_core::Error::UnsupportedKey(
            "containers/image reads public keys in PEM only".to_owned(),
        )));
    }
    let key = PublicKey::from_pem(bytes.trim_ascii_start()).map_err(key_error)?;
    Ok(KeyVerifier::with_hash(key, DigestAlgorithm::Sha256))
}

fn identity_rule(value: &Json, at: &JsonPath) -> Result<IdentityRule> {
    let kind = type_of(value, at)?;
    let exact_fields = |names: &'static [&'static str]| -> Result<()> {
        fields(value, at, names)?;
        for &name in names {
            required(value, at, name)?;
        }
        Ok(())
    };
    let reference = |field: &'static str| -> Result<(String, DockerRef)> {
        let field_at = at.key(field);
        let text = string(required(value, at, field)?, &field_at)?;
        let parsed = DockerRef::parse_normalized(text).map_err(|reason| {
            invalid(
                &field_at,
                PolicyProblem::InvalidReference {
                    value: truncate(text),
                    reason,
                },
            )
        })?;
        Ok((text.to_owned(), parsed))
    };
    match kind {
        "matchExact" => exact_fields(&["type"]).map(|()| IdentityRule::MatchExact),
        "matchRepoDigestOrExact" => {
            exact_fields(&["type"]).map(|()| IdentityRule::MatchRepoDigestOrExact)
        }
        "matchRepository" => exact_fields(&["type"]).map(|()| IdentityRule::MatchRepository),
        "exactReference" => {
            exact_fields(&["type", "dockerReference"])?;
            let (text, parsed) = reference("dockerReference")?;
            if parsed.is_name_only() {
                return Err(invalid(
                    &at.key("dockerReference"),
                    PolicyProblem::NameOnlyReference {
                        value: truncate(&text),
                    },
                ));
            }
            Ok(IdentityRule::ExactReference(parsed))
        }
        "exactRepository" => {
            exact_fields(&["type", "dockerRepository"])?;
            let (_, parsed) = reference("dockerRepository")?;
            Ok(IdentityRule::ExactRepository(parsed))
        }
        "remapIdentity" => {
            exact_fields(&["type", "prefix", "signedPrefix"])?;
            let mut prefixes = Vec::with_capacity(2);
            for field in ["prefix", "signedPrefix"] {
                let field_at = at.key(field);
                let text = string(required(value, at, field)?, &field_at)?;
                if !is_remap_prefix(text) {
                    return Err(invalid(
                        &field_at,
                        PolicyProblem::InvalidPrefix {
                            value: truncate(text),
                        },
                    ));
                }
                prefixes.push(text.to_owned());
            }
            let signed_prefix = prefixes.pop().unwrap_or_default();
            let prefix = prefixes.pop().unwrap_or_default();
            Ok(IdentityRule::RemapIdentity {
                prefix,
                signed_prefix,
            })
        }
        other => Err(invalid(
            &at.key("type"),
            PolicyProblem::UnknownType {
                found: truncate(other),
                expected: IDENTITY_TYPES,
            },
        )),
    }
}
