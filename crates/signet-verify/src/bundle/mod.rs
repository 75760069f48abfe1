//! Sigstore bundles (v0.1, v0.2, v0.3), verified offline against a trusted root.
//!
//! A bundle carries a signature (over a file, or a DSSE envelope whose in-toto subject names
//! the file) with what makes it checkable without a network: a Fulcio certificate or a key
//! hint, Rekor log entries with their signed entry timestamps, inclusion proofs and
//! checkpoints, and RFC 3161 timestamps. [`BundleVerifier`] checks all of it against a Sigstore
//! `trusted_root.json` (Fulcio CAs, Rekor logs, CT logs and timestamp authorities, each with
//! its validity window) and a [`BundlePolicy`]: an exact certificate identity and OIDC issuer,
//! or a public key.
//!
//! The cryptography and the Sigstore rules are sigstore-rust's `sigstore-verify` crate (on
//! aws-lc-rs, signet's one crypto backend), which passes all 70 cases of the
//! sigstore-conformance suite here; this module keeps its types out of signet's API, bounds
//! the input before parsing, adds two checks it lacks (a root certificate shipped inside the
//! bundle, the bundle's material matching the kind of policy) and reports which check failed
//! as a [`BundleCheck`]. A passing bundle yields a [`VerifiedBundle`], which only this module
//! can construct.
//!
//! The clock is not an argument yet: the certificate is checked at the signing time (the
//! log's integrated time or a timestamp, never "now"), but sigstore-verify reads the system
//! clock to reject integrated times in the future.
//!
//! ```no_run
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use signet_verify::bundle::{Artifact, BundleLimits, BundlePolicy, BundleVerifier};
//!
//! let verifier = BundleVerifier::new(&std::fs::read("trusted_root.json")?, BundleLimits::default())?;
//! let policy = BundlePolicy::identity("thomas@python.org", "https://accounts.google.com");
//! let file = std::fs::read("Python-3.13.9.tgz")?;
//! let verified = verifier.verify(
//!     &std::fs::read("Python-3.13.9.tgz.sigstore.json")?,
//!     Artifact::Bytes(&file),
//!     &policy,
//! )?;
//! assert_eq!(verified.identity(), Some("thomas@python.org"));
//! # Ok(()) }
//! ```

mod documents;
mod failure;
mod identity;
mod legacy;

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::str::FromStr;
use std::time::SystemTime;

use signet_core::digest::{Digest, DigestAlgorithm, Hasher};
use signet_core::keys::PublicKey;

use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{
    ArtifactDigest, Bundle, DerPublicKey, DigestBytes, HashAlgorithm, MediaType, SignatureContent,
    VerificationMaterialContent,
};
use sigstore_verify::{Policy, PublicKeyVerificationPolicy, VerificationPolicy, Verifier};
use x509_cert::der::Decode;

pub use documents::{DocumentBundle, read_document};
pub use failure::{BundleCheck, BundleFailure, FailureHint};
pub use identity::{
    CertificateIdentity, CertificateSource, ClaimMatcher, GithubWorkflow, IdentityRegex,
};
pub(crate) use legacy::{LegacyMaterial, has_rekor_bundle};

/// The DSSE payload type of an in-toto statement, the only one a bundle is verified for.
const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Whether the signing certificate must carry a signed certificate timestamp (SCT) that
/// verifies against a CT log of the trusted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SctPolicy {
    /// The certificate's embedded SCT must verify, as Cosign and every Sigstore client
    /// require by default.
    #[default]
    Require,
    /// Do not check the SCT (Cosign's `--insecure-ignore-sct`): for certificate authorities
    /// that log no certificates, such as GitHub's artifact-attestation instance, or Fulcio
    /// certificates issued before Fulcio embedded SCTs (2021). Nothing then shows that the
    /// certificate was published.
    InsecureIgnore,
}

/// The trusted-root media types signet reads.
const TRUSTED_ROOT_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    "application/vnd.dev.sigstore.trustedroot.v0.2+json",
];

/// Bounds on the untrusted input, checked before anything is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleLimits {
    /// Largest bundle accepted, in bytes (default 1 MiB; real bundles are 5–15 KiB).
    pub max_bundle_bytes: u64,
    /// Largest trusted root accepted, in bytes (default 1 MiB; the production root is
    /// about 10 KiB).
    pub max_trusted_root_bytes: u64,
    /// Largest file of bundles accepted ([`read_document`]: JSON Lines, npm's attestation
    /// listing, PyPI provenance), in bytes (default 4 MiB).
    pub max_document_bytes: u64,
    /// Most bundles read from one file (default 32; npm lists 2, PyPI one a publisher).
    pub max_document_bundles: usize,
}

impl Default for BundleLimits {
    fn default() -> Self {
        Self {
            max_bundle_bytes: 1024 * 1024,
            max_trusted_root_bytes: 1024 * 1024,
            max_document_bytes: 4 * 1024 * 1024,
            max_document_bundles: 32,
        }
    }
}

/// An artifact's digests: SHA-256, SHA-384 and SHA-512 computed in one pass over it, or the
/// one digest the caller has. A bundle is matched by whichever algorithm its in-toto subjects
/// use (npm and GitHub name npm packages by SHA-512).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactDigests {
    digests: Vec<Digest>,
}

impl ArtifactDigests {
    /// Reads `reader` to its end once, hashing with the three algorithms as it goes
    /// (constant memory).
    pub fn of_reader(mut reader: impl Read) -> std::io::Result<Self> {
        let mut hashers = [
            Hasher::new(DigestAlgorithm::Sha256),
            Hasher::new(DigestAlgorithm::Sha384),
            Hasher::new(DigestAlgorithm::Sha512),
        ];
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let read = match reader.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let chunk = buffer.get(..read).unwrap_or_default();
            for hasher in &mut hashers {
                hasher.update(chunk);
            }
        }
        Ok(Self {
            digests: hashers.into_iter().map(Hasher::finish).collect(),
        })
    }

    /// The digest with `algorithm`, if known.
    pub fn get(&self, algorithm: DigestAlgorithm) -> Option<&Digest> {
        self.digests.iter().find(|d| d.algorithm() == algorithm)
    }

    fn first(&self) -> Option<&Digest> {
        self.digests.first()
    }

    /// Whether the bundle `bundle_json` can be about this artifact: `false` only when it plainly
    /// names other digests — its message digest, or every subject of its in-toto statement in
    /// an algorithm known here. A cheap look before verifying, for a file of bundles about many
    /// artifacts (a release's JSON Lines); a bundle that cannot be read this way may be about
    /// it, and verifying it says why not.
    pub fn may_be_named_by(&self, bundle_json: &[u8]) -> bool {
        self.may_be_among(claimed_subjects(bundle_json).as_deref())
    }

    /// [`Self::may_be_named_by`] for what [`claimed_subjects`] read of a bundle, for a caller
    /// that looks at one bundle for many artifacts and reads it once.
    pub fn may_be_among(&self, claimed: Option<&[Digest]>) -> bool {
        let Some(claimed) = claimed else {
            return true;
        };
        let mut comparable = claimed
            .iter()
            .filter(|c| self.get(c.algorithm()).is_some())
            .peekable();
        comparable.peek().is_none() || comparable.any(|c| self.digests.contains(c))
    }
}

/// The digests a bundle says it is about, read without verifying anything: a message
/// signature's `messageDigest`, or the subjects of a DSSE envelope's in-toto statement.
/// `None` when the bundle cannot be read this way.
pub fn claimed_subjects(bundle_json: &[u8]) -> Option<Vec<Digest>> {
    use base64::Engine;
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Peek {
        message_signature: Option<MessageSignature>,
        dsse_envelope: Option<Envelope>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct MessageSignature {
        message_digest: Option<MessageDigest>,
    }
    #[derive(serde::Deserialize)]
    struct MessageDigest {
        algorithm: String,
        digest: String,
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        payload: String,
    }
    #[derive(serde::Deserialize)]
    struct Statement {
        subject: Vec<Subject>,
    }
    #[derive(serde::Deserialize)]
    struct Subject {
        digest: std::collections::BTreeMap<String, String>,
    }
    let base64 = base64::engine::general_purpose::STANDARD;
    let peek: Peek = serde_json::from_slice(bundle_json).ok()?;
    if let Some(message) = peek.message_signature {
        let digest = message.message_digest?;
        let algorithm = match digest.algorithm.as_str() {
            "SHA2_256" => DigestAlgorithm::Sha256,
            "SHA2_384" => DigestAlgorithm::Sha384,
            "SHA2_512" => DigestAlgorithm::Sha512,
            _ => return None,
        };
        let bytes = base64.decode(digest.digest).ok()?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        return Some(vec![format!("{}:{hex}", algorithm.name()).parse().ok()?]);
    }
    let payload = base64.decode(peek.dsse_envelope?.payload).ok()?;
    let statement: Statement = serde_json::from_slice(&payload).ok()?;
    Some(
        statement
            .subject
            .iter()
            .flat_map(|s| s.digest.iter())
            .filter_map(|(algorithm, hex)| format!("{algorithm}:{hex}").parse().ok())
            .collect(),
    )
}

impl From<Digest> for ArtifactDigests {
    /// Only this digest is known.
    fn from(digest: Digest) -> Self {
        Self {
            digests: vec![digest],
        }
    }
}

/// What the bundle must have been signed over.
#[non_exhaustive]
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// The artifact, read to its end and hashed as a stream (constant memory). Ed25519
    /// signatures, which cover the whole message, cannot be checked this way.
    Reader(&'a mut dyn Read),
    /// The artifact's digest (`sha256:<hex>`, `sha384:…` or `sha512:…`), when the bytes are
    /// not at hand. A DSSE bundle's in-toto subject must carry that digest.
    Digest(&'a Digest),
    /// The artifact's digests by every algorithm signet computes: a DSSE bundle's in-toto
    /// subject may carry any of them; a message signature is checked with the digest of its
    /// `messageDigest` algorithm.
    Digests(&'a ArtifactDigests),
}

impl fmt::Debug for Artifact<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes(bytes) => write!(f, "Artifact::Bytes({} bytes)", bytes.len()),
            Self::Reader(_) => f.write_str("Artifact::Reader"),
            Self::Digest(digest) => write!(f, "Artifact::Digest({digest})"),
            Self::Digests(digests) => write!(f, "Artifact::Digests({:?})", digests.digests),
        }
    }
}

/// Whom the bundle must be signed by.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BundlePolicy {
    /// A Fulcio certificate whose identity (SAN: email or URI) and OIDC issuer equal these,
    /// exactly.
    Identity {
        /// The certificate identity, e.g. `thomas@python.org` or a workflow URI.
        identity: String,
        /// The OIDC issuer, e.g. `https://token.actions.githubusercontent.com`.
        issuer: String,
    },
    /// A bundle made with this key (its `verificationMaterial` is a key hint, not a
    /// certificate).
    Key(PublicKey),
    /// A Fulcio certificate whose identity and OIDC issuer match, exactly or by anchored
    /// regex, and which carries the GitHub workflow claims required. The certificate chain,
    /// SCT, log and timestamps are checked as for [`Self::Identity`]; the claims are checked
    /// on the verified certificate afterwards.
    Certificate(CertificateIdentity),
}

impl BundlePolicy {
    /// Requires this exact certificate identity and OIDC issuer.
    pub fn identity(identity: impl Into<String>, issuer: impl Into<String>) -> Self {
        Self::Identity {
            identity: identity.into(),
            issuer: issuer.into(),
        }
    }
}

/// The bundle format version, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleVersion {
    /// `application/vnd.dev.sigstore.bundle+json;version=0.1`
    V0_1,
    /// `application/vnd.dev.sigstore.bundle+json;version=0.2`
    V0_2,
    /// `application/vnd.dev.sigstore.bundle.v0.3+json` (or `…bundle+json;version=0.3`)
    V0_3,
}

/// A bundle that passed every check. Only [`BundleVerifier::verify`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    version: BundleVersion,
    identity: Option<String>,
    issuer: Option<String>,
    signing_times: Vec<SystemTime>,
    integrated_time: Option<SystemTime>,
    dsse: Option<(String, Vec<u8>)>,
    github: GithubWorkflow,
    source: CertificateSource,
}

impl VerifiedBundle {
    /// The bundle's format version.
    pub fn version(&self) -> BundleVersion {
        self.version
    }

    /// The verified certificate identity (SAN); `None` for a key-signed bundle.
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The verified certificate's OIDC issuer; `None` for a key-signed bundle.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Every verified signing time (log integrated times, RFC 3161 timestamps) the
    /// certificate was checked at.
    pub fn signing_times(&self) -> &[SystemTime] {
        &self.signing_times
    }

    /// The earliest Rekor v1 integrated time, if the bundle had one with a verified SET.
    pub fn integrated_time(&self) -> Option<SystemTime> {
        self.integrated_time
    }

    /// The verified certificate's GitHub workflow claims (Fulcio extensions `.1.2` to `.1.6`);
    /// all `None` for a key-signed bundle or a certificate not issued to a GitHub workflow.
    pub fn github_workflow(&self) -> &GithubWorkflow {
        &self.github
    }

    /// What the verified certificate says about the source the signed thing was built from;
    /// all `None` for a key-signed bundle.
    pub fn certificate_source(&self) -> &CertificateSource {
        &self.source
    }

    /// For a DSSE bundle, the payload type and the payload (an in-toto statement) whose
    /// signature and subject were verified; `None` for a message signature.
    pub fn dsse_payload(&self) -> Option<(&str, &[u8])> {
        self.dsse
            .as_ref()
            .map(|(kind, payload)| (kind.as_str(), payload.as_slice()))
    }
}

/// A file whose signature a bundle holds: its bytes as a stream, or only its digest.
#[non_exhaustive]
pub enum FileInput<'a> {
    /// The file's content, read once.
    Reader(&'a mut dyn Read),
    /// The file's digest (the file itself is not at hand).
    Digest(&'a Digest),
}

impl fmt::Debug for FileInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reader(_) => f.write_str("FileInput::Reader"),
            Self::Digest(digest) => write!(f, "FileInput::Digest({digest})"),
        }
    }
}

/// Verifies Sigstore bundles against one trusted root. Building it parses and checks the trust
/// material once; [`Self::verify`] then takes any number of bundles.
pub struct BundleVerifier {
    verifier: Verifier,
    limits: BundleLimits,
    /// The DER certificates of the trusted root's certificate authorities: a bundle may end
    /// its chain with one of these (byte for byte), never with another root.
    authority_certificates: Vec<Vec<u8>>,
    sct: SctPolicy,
    tlog: TlogPolicy,
}

impl fmt::Debug for BundleVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BundleVerifier")
            .field("limits", &self.limits)
            .field("sct", &self.sct)
            .field("tlog", &self.tlog)
            .finish_non_exhaustive()
    }
}

impl BundleVerifier {
    /// Reads a Sigstore `trusted_root.json`. A root that is too large, malformed, of an unknown
    /// media type, or whose keys, certificates or validity windows are unusable fails with
    /// [`BundleCheck::TrustedRoot`].
    pub fn new(trusted_root_json: &[u8], limits: BundleLimits) -> Result<Self, BundleFailure> {
        let too_large = |size: usize| {
            BundleFailure::new(
                BundleCheck::TrustedRoot,
                format!(
                    "the trusted root is {size} bytes, more than the limit of {}",
                    limits.max_trusted_root_bytes
                ),
            )
        };
        if exceeds(trusted_root_json.len(), limits.max_trusted_root_bytes) {
            return Err(too_large(trusted_root_json.len()));
        }
        let text = std::str::from_utf8(trusted_root_json).map_err(BundleFailure::trusted_root)?;
        match peek_media_type(text) {
            Some(media_type) if TRUSTED_ROOT_MEDIA_TYPES.contains(&media_type.as_ref()) => {}
            other => {
                return Err(BundleFailure::new(
                    BundleCheck::TrustedRoot,
                    format!(
                        "unknown trusted root media type {:?}",
                        other.as_deref().unwrap_or("(none)")
                    ),
                ));
            }
        }
        let root = TrustedRoot::from_json(text).map_err(BundleFailure::trusted_root)?;
        let verifier = Verifier::new(&root).map_err(BundleFailure::trusted_root)?;
        let authority_certificates = root
            .certificate_authorities
            .iter()
            .flat_map(|authority| &authority.cert_chain.certificates)
            .map(|certificate| certificate.raw_bytes.as_bytes().to_vec())
            .collect();
        Ok(Self {
            verifier,
            limits,
            authority_certificates,
            sct: SctPolicy::Require,
            tlog: TlogPolicy::Require,
        })
    }

    /// Whether certificates must carry a verifying SCT (by default they must).
    pub fn with_sct(mut self, sct: SctPolicy) -> Self {
        self.sct = sct;
        self
    }

    /// Whether bundles must carry a transparency-log entry whose inclusion verifies (by
    /// default they must). With [`TlogPolicy::InsecureIgnore`], entries that are present are
    /// still checked against the bundle and their signed entry timestamps verified, but
    /// inclusion is not required: for trust domains without a public log, such as GitHub's
    /// artifact attestations of private repositories, whose only signing time is an RFC 3161
    /// timestamp.
    pub fn with_tlog(mut self, tlog: TlogPolicy) -> Self {
        self.tlog = tlog;
        self
    }

    /// Verifies `bundle_json` for `artifact` under `policy`.
    pub fn verify(
        &self,
        bundle_json: &[u8],
        artifact: Artifact<'_>,
        policy: &BundlePolicy,
    ) -> Result<VerifiedBundle, BundleFailure> {
        if exceeds(bundle_json.len(), self.limits.max_bundle_bytes) {
            return Err(BundleFailure::new(
                BundleCheck::TooLarge,
                format!(
                    "the bundle is {} bytes, more than the limit of {}",
                    bundle_json.len(),
                    self.limits.max_bundle_bytes
                ),
            ));
        }
        let mut bundle = parse_bundle(bundle_json)?;
        check_material(&mut bundle, policy, &self.authority_certificates)?;
        check_payload_type(&bundle)?;

        let key_policy;
        let identity_policy;
        let sigstore_policy: &dyn Policy = match policy {
            BundlePolicy::Identity { identity, issuer } => {
                identity_policy =
                    self.relax(VerificationPolicy::new(identity.as_str(), issuer.as_str()));
                &identity_policy
            }
            // The chain, SCT, log and timestamps are checked here; the claims below.
            BundlePolicy::Certificate(_) => {
                identity_policy = self.relax(VerificationPolicy::any_identity());
                &identity_policy
            }
            BundlePolicy::Key(key) => {
                let policy =
                    PublicKeyVerificationPolicy::new(DerPublicKey::new(key.spki_der().to_vec()));
                key_policy = match self.tlog {
                    TlogPolicy::Require => policy,
                    TlogPolicy::InsecureIgnore => policy.skip_tlog_unsafe(),
                };
                &key_policy
            }
        };
        let result = match artifact {
            Artifact::Bytes(bytes) => self.verifier.verify(bytes, &bundle, sigstore_policy),
            Artifact::Reader(reader) => {
                self.verifier
                    .verify_reader(reader, &bundle, sigstore_policy)
            }
            Artifact::Digest(digest) => {
                let digest = artifact_digest(digest)?;
                self.verifier.verify(digest, &bundle, sigstore_policy)
            }
            Artifact::Digests(digests) => {
                let chosen = digest_for(&bundle, digests).ok_or_else(|| {
                    BundleFailure::new(BundleCheck::ArtifactRead, "no digest of the artifact")
                })?;
                self.verifier
                    .verify(artifact_digest(chosen)?, &bundle, sigstore_policy)
            }
        }?;
        let github = result
            .certificate()
            .map(|certificate| {
                let claims = &certificate.ci_claims.deprecated_github;
                GithubWorkflow {
                    trigger: claims.workflow_trigger.clone(),
                    sha: claims.workflow_sha.clone(),
                    name: claims.workflow_name.clone(),
                    repository: claims.workflow_repository.clone(),
                    git_ref: claims.workflow_ref.clone(),
                }
            })
            .unwrap_or_default();
        let source = result
            .certificate()
            .map(|certificate| {
                let claims = &certificate.ci_claims;
                let github = &claims.deprecated_github;
                CertificateSource {
                    repository: claims.source_repository_uri.clone().or_else(|| {
                        github
                            .workflow_repository
                            .as_ref()
                            .map(|r| format!("github.com/{r}"))
                    }),
                    git_ref: claims
                        .source_repository_ref
                        .clone()
                        .or_else(|| github.workflow_ref.clone()),
                    build_signer: claims.build_signer_uri.clone(),
                }
            })
            .unwrap_or_default();
        if let BundlePolicy::Certificate(required) = policy {
            if !result.certificate_verified() {
                return Err(BundleFailure::new(
                    BundleCheck::CertificateChain,
                    "the signing certificate was not verified",
                ));
            }
            required.check(
                result.identity().map(|san| san.as_str()),
                result.issuer(),
                &github,
            )?;
        }

        Ok(VerifiedBundle {
            version: match bundle.media_type {
                MediaType::Bundle0_1 => BundleVersion::V0_1,
                MediaType::Bundle0_2 => BundleVersion::V0_2,
                _ => BundleVersion::V0_3,
            },
            identity: result.identity().map(|san| san.as_str().to_owned()),
            issuer: result.issuer().map(str::to_owned),
            signing_times: result
                .verified_timestamps()
                .iter()
                .map(|&t| SystemTime::from(t))
                .collect(),
            integrated_time: result.integrated_time().map(SystemTime::from),
            dsse: match &bundle.content {
                SignatureContent::DsseEnvelope(envelope) => Some((
                    envelope.payload_type.clone(),
                    envelope.payload.as_bytes().to_vec(),
                )),
                _ => None,
            },
            github,
            source,
        })
    }

    /// Verifies the bundle over a file: streamed and hashed, except for a key that signs
    /// whole messages (Ed25519), for which the file is read into memory up to
    /// `max_unhashed_bytes` (a larger file fails the `artifact-read` check).
    pub fn verify_file(
        &self,
        bundle: &[u8],
        input: FileInput<'_>,
        policy: &BundlePolicy,
        max_unhashed_bytes: u64,
    ) -> Result<VerifiedBundle, BundleFailure> {
        match input {
            FileInput::Digest(digest) => self.verify(bundle, Artifact::Digest(digest), policy),
            FileInput::Reader(reader) if matches!(policy, BundlePolicy::Key(k) if k.kind() == signet_core::keys::KeyKind::Ed25519) =>
            {
                let mut bytes = Vec::new();
                reader
                    .take(max_unhashed_bytes.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(|e| BundleFailure::new(BundleCheck::ArtifactRead, e.to_string()))?;
                if bytes.len() as u64 > max_unhashed_bytes {
                    return Err(BundleFailure::new(
                        BundleCheck::ArtifactRead,
                        format!(
                            "the file is larger than {max_unhashed_bytes} bytes, the limit for Ed25519 keys, which sign whole messages"
                        ),
                    ));
                }
                self.verify(bundle, Artifact::Bytes(&bytes), policy)
            }
            FileInput::Reader(reader) => self.verify(bundle, Artifact::Reader(reader), policy),
        }
    }
}

impl BundleVerifier {
    /// Verifies a legacy Cosign signature (`signature`, raw bytes, over `payload`) through the
    /// Sigstore material in its layer `annotations` (`dev.sigstore.cosign/certificate`,
    /// `…/chain`, `…/bundle`, `…/rfc3161timestamp`), as the bundle v0.1 they amount to. With a
    /// [`BundlePolicy::Key`], the Rekor entry must record that key; otherwise the certificate
    /// must chain to the trusted root and carry the identity required. Self-issued
    /// certificates in the chain annotation are ignored: roots come from the trusted root.
    pub fn verify_legacy(
        &self,
        annotations: &std::collections::BTreeMap<String, String>,
        signature: &[u8],
        payload: &[u8],
        policy: &BundlePolicy,
    ) -> Result<VerifiedBundle, BundleFailure> {
        let material = match policy {
            BundlePolicy::Key(_) => LegacyMaterial::Key,
            _ => LegacyMaterial::Certificate,
        };
        let content = legacy::LegacyContent::Message { signature, payload };
        let bundle = legacy::bundle_from_annotations(annotations, content, material)?;
        self.verify(&bundle, Artifact::Bytes(payload), policy)
    }

    /// Verifies a legacy Cosign attestation (an `.att` layer, `layer` its bytes: a DSSE
    /// envelope) through the Sigstore material in its layer `annotations`, for the image
    /// `digest` (the statement must name it as a subject), as the bundle v0.1 they amount
    /// to. An `intoto` 0.0.1 entry's envelope hash is checked against `layer`.
    pub fn verify_legacy_attestation(
        &self,
        annotations: &std::collections::BTreeMap<String, String>,
        layer: &[u8],
        digest: &Digest,
        policy: &BundlePolicy,
    ) -> Result<VerifiedBundle, BundleFailure> {
        let material = match policy {
            BundlePolicy::Key(_) => LegacyMaterial::Key,
            _ => LegacyMaterial::Certificate,
        };
        let envelope = signet_core::dsse::Envelope::parse(layer).map_err(|e| {
            BundleFailure::new(
                BundleCheck::Parse,
                format!("the layer is not a DSSE envelope: {e}"),
            )
        })?;
        let content = legacy::LegacyContent::Dsse {
            envelope: &envelope,
            layer,
        };
        let bundle = legacy::bundle_from_annotations(annotations, content, material)?;
        self.verify(&bundle, Artifact::Digest(digest), policy)
    }
}

/// Verifies one bundle: [`BundleVerifier::new`] with the default limits, then
/// [`BundleVerifier::verify`]. To verify several bundles against the same root, build the
/// verifier once.
pub fn verify_bundle(
    bundle_json: &[u8],
    artifact: Artifact<'_>,
    policy: &BundlePolicy,
    trusted_root_json: &[u8],
) -> Result<VerifiedBundle, BundleFailure> {
    BundleVerifier::new(trusted_root_json, BundleLimits::default())?.verify(
        bundle_json,
        artifact,
        policy,
    )
}

/// The bundle of a file of bundles that verified ([`BundleVerifier::verify_document`]).
#[derive(Debug, Clone)]
pub struct VerifiedDocumentBundle {
    label: String,
    bundle: VerifiedBundle,
}

impl VerifiedDocumentBundle {
    /// Where in the file the bundle is (see [`DocumentBundle::label`]).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The verified bundle.
    pub fn bundle(&self) -> &VerifiedBundle {
        &self.bundle
    }
}

impl BundleVerifier {
    /// Verifies a file of bundles ([`read_document`]: a bundle, JSON Lines, npm's or GitHub's
    /// attestation listing, a PEP 740 attestation or PyPI provenance) for `artifact`: the
    /// first bundle that verifies wins. With `predicate_type`, only DSSE bundles whose
    /// statement has that predicate type are tried (npm lists its provenance and its publish
    /// attestation together); none is [`BundleCheck::PredicateType`]. Otherwise the failure
    /// of the first bundle tried is reported, naming where it is in the file — the first
    /// about this artifact when there is one: in a file of bundles about several artifacts
    /// (a release's JSON Lines), that one bundle's failure says why, where the others only
    /// say they are about something else. Several
    /// `predicate_types` accept any of them (SLSA provenance v0.2 or v1); none accepts any.
    pub fn verify_document(
        &self,
        document: &[u8],
        artifact: &ArtifactDigests,
        policy: &BundlePolicy,
        predicate_types: &[&str],
    ) -> Result<VerifiedDocumentBundle, BundleFailure> {
        let bundles = read_document(document, &self.limits)?;
        let several = bundles.len() > 1;
        let mut first_failure = None;
        let mut first_about_artifact = None;
        let mut seen_types = Vec::new();
        for candidate in &bundles {
            // Only in-toto attestations of another predicate type are passed over: anything
            // else is verified, so that it fails for its own reason (a payload that is not an
            // in-toto statement, a message signature, a malformed bundle).
            if let Some(found) = peek_predicate_type(candidate.json())
                && !predicate_types.is_empty()
                && !predicate_types.contains(&found.as_str())
            {
                seen_types.push(found);
                continue;
            }
            match self.verify(candidate.json(), Artifact::Digests(artifact), policy) {
                Ok(bundle) => {
                    return Ok(VerifiedDocumentBundle {
                        label: candidate.label().to_owned(),
                        bundle,
                    });
                }
                Err(failure) => {
                    let about_other_artifact = failure.check() == BundleCheck::ArtifactDigest;
                    let slot = if about_other_artifact {
                        &mut first_failure
                    } else {
                        &mut first_about_artifact
                    };
                    if slot.is_none() {
                        *slot = Some(if several {
                            failure.in_bundle(candidate.label())
                        } else {
                            failure
                        });
                    }
                }
            }
        }
        Err(first_about_artifact.or(first_failure).unwrap_or_else(|| {
            BundleFailure::new(
                BundleCheck::PredicateType,
                format!(
                    "no bundle in the file is an attestation of predicate type {}; found {}",
                    predicate_types.join(" or "),
                    seen_types.join(", ")
                ),
            )
        }))
    }

    /// The certificate policy with the checks the caller switched off.
    fn relax(&self, policy: VerificationPolicy) -> VerificationPolicy {
        let policy = match self.sct {
            SctPolicy::Require => policy,
            SctPolicy::InsecureIgnore => policy.skip_sct(),
        };
        match self.tlog {
            TlogPolicy::Require => policy,
            TlogPolicy::InsecureIgnore => policy.skip_tlog_unsafe(),
        }
    }
}

fn exceeds(len: usize, limit: u64) -> bool {
    u64::try_from(len).map_or(true, |len| len > limit)
}

/// The top-level `mediaType` of a JSON document, if it has one (only that field is decoded).
fn peek_media_type(text: &str) -> Option<Cow<'_, str>> {
    #[derive(serde::Deserialize)]
    struct Peek<'a> {
        #[serde(rename = "mediaType", borrow)]
        media_type: Option<Cow<'a, str>>,
    }
    serde_json::from_str::<Peek<'_>>(text)
        .ok()
        .and_then(|peek| peek.media_type)
}

fn parse_bundle(bundle_json: &[u8]) -> Result<Bundle, BundleFailure> {
    let text = std::str::from_utf8(bundle_json)
        .map_err(|e| BundleFailure::new(BundleCheck::Parse, format!("not UTF-8: {e}")))?;
    Bundle::from_json(text).map_err(|error| match peek_media_type(text) {
        Some(media_type) if MediaType::from_str(&media_type).is_err() => BundleFailure::new(
            BundleCheck::UnknownVersion,
            format!("media type {media_type:?}"),
        ),
        _ => BundleFailure::parse(error),
    })
}

/// Checks made before sigstore-verify's, so that they are the ones reported: the material
/// fits the policy, the certificate chain is not empty and ships no root of its own.
///
/// A chain may end with a certificate that is byte for byte one of the trusted root's
/// certificate authorities: npm and slsa-github-generator wrote Sigstore's root there in
/// 2023, and sigstore-js and sigstore-go accept it. That copy is dropped before the chain is
/// built, so trust still comes from the trusted root alone; any other self-issued
/// certificate is refused.
fn check_material(
    bundle: &mut Bundle,
    policy: &BundlePolicy,
    authority_certificates: &[Vec<u8>],
) -> Result<(), BundleFailure> {
    let material = &bundle.verification_material.content;
    match (policy, material) {
        (
            BundlePolicy::Identity { .. } | BundlePolicy::Certificate(_),
            VerificationMaterialContent::PublicKey(_),
        ) => {
            return Err(BundleFailure::new(
                BundleCheck::Material,
                "the bundle was signed with a key, not a certificate: verify it with the key",
            ));
        }
        (BundlePolicy::Key(_), VerificationMaterialContent::PublicKey(_)) => return Ok(()),
        (BundlePolicy::Key(_), _) => {
            return Err(BundleFailure::new(
                BundleCheck::Material,
                "the bundle holds a certificate, not a key hint: verify it with an identity and issuer",
            ));
        }
        _ => {}
    }
    if bundle.signing_certificate().is_none() {
        return Err(BundleFailure::new(
            BundleCheck::Material,
            "the bundle's certificate chain is empty: there is no signing certificate",
        ));
    }
    if let VerificationMaterialContent::X509CertificateChain { certificates } =
        &mut bundle.verification_material.content
    {
        let trailing_authority = certificates.len() > 1
            && certificates.last().is_some_and(|last| {
                authority_certificates
                    .iter()
                    .any(|known| known.as_slice() == last.raw_bytes.as_bytes())
            });
        if trailing_authority {
            certificates.pop();
        }
        for (position, certificate) in certificates.iter().enumerate().skip(1) {
            let parsed = x509_cert::Certificate::from_der(certificate.raw_bytes.as_bytes())
                .map_err(|e| {
                    BundleFailure::new(
                        BundleCheck::CertificateChain,
                        format!("certificate {position} of the bundle's chain does not parse: {e}"),
                    )
                })?;
            if parsed.tbs_certificate.subject == parsed.tbs_certificate.issuer {
                return Err(BundleFailure::new(
                    BundleCheck::CertificateChain,
                    format!(
                        "certificate {position} of the bundle's chain is self-issued, a root: roots come from the trusted root only"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The predicate type an in-toto DSSE bundle's statement claims, read only to choose which
/// bundles of a file to verify; `None` for anything else.
fn peek_predicate_type(bundle_json: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Bundle {
        #[serde(rename = "dsseEnvelope")]
        dsse_envelope: Envelope,
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        payload: String,
        #[serde(rename = "payloadType")]
        payload_type: String,
    }
    #[derive(serde::Deserialize)]
    struct Statement {
        #[serde(rename = "predicateType")]
        predicate_type: String,
    }
    use base64::Engine;
    let bundle: Bundle = serde_json::from_slice(bundle_json).ok()?;
    if bundle.dsse_envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return None;
    }
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle.dsse_envelope.payload)
        .ok()?;
    serde_json::from_slice::<Statement>(&payload)
        .ok()
        .map(|s| s.predicate_type)
}

/// A DSSE bundle is verified for an artifact through its in-toto statement's subjects; any
/// other payload type cannot name the artifact.
fn check_payload_type(bundle: &Bundle) -> Result<(), BundleFailure> {
    match &bundle.content {
        SignatureContent::DsseEnvelope(envelope)
            if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE =>
        {
            let shown: String = envelope.payload_type.chars().take(100).collect();
            Err(BundleFailure::new(
                BundleCheck::PayloadType,
                format!(
                    "payload type {shown:?} is not an in-toto statement ({IN_TOTO_PAYLOAD_TYPE})"
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// Which of the artifact's digests to check the bundle with: for a message signature, the one
/// of its `messageDigest` algorithm (else SHA-256); for a DSSE bundle, one by which a subject
/// names this artifact, else one of an algorithm the subjects use. The statement is read
/// here only to choose; the bundle's verification then binds the artifact to it.
fn digest_for<'a>(bundle: &Bundle, digests: &'a ArtifactDigests) -> Option<&'a Digest> {
    #[derive(serde::Deserialize)]
    struct Statement {
        #[serde(default)]
        subject: Vec<Subject>,
    }
    #[derive(serde::Deserialize)]
    struct Subject {
        #[serde(default)]
        digest: std::collections::BTreeMap<String, serde_json::Value>,
    }
    match &bundle.content {
        SignatureContent::DsseEnvelope(envelope) => {
            let subjects = serde_json::from_slice::<Statement>(envelope.payload.as_bytes())
                .map(|s| s.subject)
                .unwrap_or_default();
            let carried = |digest: &Digest| {
                subjects
                    .iter()
                    .filter_map(|s| s.digest.get(digest.algorithm().name())?.as_str())
                    .map(|hex| hex.eq_ignore_ascii_case(digest.hex()))
                    .collect::<Vec<bool>>()
            };
            digests
                .digests
                .iter()
                .find(|d| carried(d).contains(&true))
                .or_else(|| digests.digests.iter().find(|d| !carried(d).is_empty()))
                .or_else(|| digests.first())
        }
        SignatureContent::MessageSignature(signature) => {
            let algorithm = match signature.message_digest.as_ref().map(|d| d.algorithm) {
                Some(HashAlgorithm::Sha2384) => DigestAlgorithm::Sha384,
                Some(HashAlgorithm::Sha2512) => DigestAlgorithm::Sha512,
                _ => DigestAlgorithm::Sha256,
            };
            digests.get(algorithm).or_else(|| digests.first())
        }
        _ => digests.first(),
    }
}

fn artifact_digest(digest: &Digest) -> Result<ArtifactDigest, BundleFailure> {
    let algorithm = match digest.algorithm() {
        DigestAlgorithm::Sha256 => HashAlgorithm::Sha2256,
        DigestAlgorithm::Sha384 => HashAlgorithm::Sha2384,
        DigestAlgorithm::Sha512 => HashAlgorithm::Sha2512,
    };
    ArtifactDigest::new(algorithm, DigestBytes::new(digest.bytes()))
        .map_err(|e| BundleFailure::new(BundleCheck::Unsupported, e.to_string()))
}

/// Whether signatures must be in a transparency log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlogPolicy {
    /// Every accepted signature needs a verified transparency-log entry (its
    /// `dev.sigstore.cosign/bundle` annotation, checked against a trusted root), as Cosign
    /// requires by default.
    #[default]
    Require,
    /// Accept signatures without a log entry (`--insecure-ignore-tlog=true`): nothing then
    /// shows when the signature was made or that it was made publicly.
    InsecureIgnore,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_naming_other_digests_is_not_about_the_artifact() {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let artifact =
            ArtifactDigests::of_reader(&b"the artifact"[..]).unwrap_or_else(|e| panic!("{e}"));
        let other = Digest::sha256_of(b"another file");
        let ours = artifact
            .get(DigestAlgorithm::Sha256)
            .cloned()
            .unwrap_or_else(|| panic!("no sha256"));
        let message = |digest: &Digest| {
            format!(
                r#"{{"messageSignature":{{"messageDigest":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":""}}}}"#,
                b64(&digest.bytes())
            )
        };
        assert!(artifact.may_be_named_by(message(&ours).as_bytes()));
        assert!(!artifact.may_be_named_by(message(&other).as_bytes()));
        let dsse = |subjects: &str| {
            let statement = format!(
                r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{subjects}],"predicateType":"x","predicate":{{}}}}"#
            );
            format!(
                r#"{{"dsseEnvelope":{{"payload":"{}","payloadType":"application/vnd.in-toto+json","signatures":[]}}}}"#,
                b64(statement.as_bytes())
            )
        };
        let subject = |d: &Digest| format!(r#"{{"name":"f","digest":{{"sha256":"{}"}}}}"#, d.hex());
        assert!(
            artifact.may_be_named_by(
                dsse(&format!("{},{}", subject(&other), subject(&ours))).as_bytes()
            )
        );
        assert!(!artifact.may_be_named_by(dsse(&subject(&other)).as_bytes()));
        // Subjects only in an algorithm not known here, or a bundle not readable this way:
        // verifying decides.
        assert!(
            artifact
                .may_be_named_by(dsse(r#"{"name":"f","digest":{"gitCommit":"abc"}}"#).as_bytes())
        );
        assert!(
            ArtifactDigests::from(other.clone()).may_be_named_by(
                dsse(&format!(
                    r#"{{"name":"f","digest":{{"sha512":"{}"}}}}"#,
                    "ab".repeat(64)
                ))
                .as_bytes()
            )
        );
        assert!(artifact.may_be_named_by(b"not json"));
    }

    /// A trusted root with no authorities: enough to reach the bundle checks.
    const EMPTY_ROOT: &str = r#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [], "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}"#;

    fn check_of(result: Result<VerifiedBundle, BundleFailure>) -> BundleCheck {
        match result {
            Ok(_) => panic!("verified"),
            Err(failure) => failure.check(),
        }
    }

    fn verifier(limits: BundleLimits) -> BundleVerifier {
        BundleVerifier::new(EMPTY_ROOT.as_bytes(), limits)
            .unwrap_or_else(|e| panic!("empty root: {e}"))
    }

    #[test]
    fn a_bundle_over_the_limit_is_refused_before_parsing() {
        let limits = BundleLimits {
            max_bundle_bytes: 10,
            ..BundleLimits::default()
        };
        let policy = BundlePolicy::identity("a", "b");
        let result =
            verifier(limits).verify(b"not json, and 11+ bytes", Artifact::Bytes(b""), &policy);
        assert_eq!(check_of(result), BundleCheck::TooLarge);
    }

    #[test]
    fn an_unknown_media_type_is_unknown_version_and_broken_json_is_parse() {
        let policy = BundlePolicy::identity("a", "b");
        let verifier = verifier(BundleLimits::default());
        let unknown = br#"{"mediaType": "application/vnd.dev.sigstore.bundle+json;version=99.9"}"#;
        assert_eq!(
            check_of(verifier.verify(unknown, Artifact::Bytes(b""), &policy)),
            BundleCheck::UnknownVersion
        );
        assert_eq!(
            check_of(verifier.verify(b"{\"mediaType\": ", Artifact::Bytes(b""), &policy)),
            BundleCheck::Parse
        );
    }

    /// A DSSE bundle whose statement has `subjects` (JSON), enough for `digest_for`.
    fn dsse_bundle(subjects: &str) -> Bundle {
        use base64::Engine;
        let statement = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":{subjects},"predicateType":"p","predicate":{{}}}}"#
        );
        let payload = base64::engine::general_purpose::STANDARD.encode(statement);
        let json = format!(
            r#"{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial":{{"publicKey":{{"hint":""}},"tlogEntries":[]}},
            "dsseEnvelope":{{"payload":"{payload}","payloadType":"application/vnd.in-toto+json",
            "signatures":[{{"sig":"AA==","keyid":""}}]}}}}"#
        );
        Bundle::from_json(&json).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_digest_a_subject_names_the_artifact_by_is_chosen() {
        let digests = ArtifactDigests::of_reader(&b"hello"[..]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            digests
                .get(DigestAlgorithm::Sha256)
                .map(ToString::to_string)
                .as_deref(),
            Some("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        let sha384 = digests
            .get(DigestAlgorithm::Sha384)
            .map(|d| d.hex().to_owned())
            .unwrap_or_default();
        let sha512 = digests
            .get(DigestAlgorithm::Sha512)
            .map(|d| d.hex().to_owned())
            .unwrap_or_default();
        let chosen =
            |subjects: &str| digest_for(&dsse_bundle(subjects), &digests).map(|d| d.algorithm());
        // npm names packages by sha512 only.
        assert_eq!(
            chosen(&format!(
                r#"[{{"name":"pkg","digest":{{"sha512":"{sha512}"}}}}]"#
            )),
            Some(DigestAlgorithm::Sha512)
        );
        assert_eq!(
            chosen(&format!(
                r#"[{{"name":"other","digest":{{"sha256":"00"}}}},{{"name":"it","digest":{{"sha384":"{sha384}"}}}}]"#
            )),
            Some(DigestAlgorithm::Sha384)
        );
        // No subject names it: an algorithm the subjects use, so that the binding fails.
        assert_eq!(
            chosen(r#"[{"name":"other","digest":{"sha512":"00"}}]"#),
            Some(DigestAlgorithm::Sha512)
        );
        let only = ArtifactDigests::from(
            digests
                .get(DigestAlgorithm::Sha256)
                .cloned()
                .unwrap_or_else(|| panic!("sha256")),
        );
        assert_eq!(
            digest_for(
                &dsse_bundle(r#"[{"name":"x","digest":{"sha512":"00"}}]"#),
                &only
            )
            .map(|d| d.algorithm()),
            Some(DigestAlgorithm::Sha256)
        );
    }

    #[test]
    fn trusted_roots_of_another_media_type_or_too_large_are_refused() {
        let other = EMPTY_ROOT.replace("trustedroot+json;version=0.1", "something-else");
        let failure = BundleVerifier::new(other.as_bytes(), BundleLimits::default())
            .map(|_| ())
            .map_err(|e| e.check());
        assert_eq!(failure, Err(BundleCheck::TrustedRoot));
        let limits = BundleLimits {
            max_trusted_root_bytes: 16,
            ..BundleLimits::default()
        };
        let failure = BundleVerifier::new(EMPTY_ROOT.as_bytes(), limits)
            .map(|_| ())
            .map_err(|e| e.check());
        assert_eq!(failure, Err(BundleCheck::TrustedRoot));
        assert!(BundleCheck::TrustedRoot.is_operational());
        assert!(!BundleCheck::TooLarge.is_operational());
    }
}
