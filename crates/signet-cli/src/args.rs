//! Command-line flags, named as Cosign names them.

#[cfg(test)]
mod docs;

use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{ArgAction, ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "signet",
    version,
    about = "Sign container images and files, and verify them; wire-compatible with Cosign",
    after_help = "Every verification takes one authority: a public key (--key), a keyless identity \
(--certificate-identity with --certificate-oidc-issuer, checked against a Sigstore trusted \
root), or a trust policy (verify --policy for images, verify-blob --policy for files). `signet COMMAND --help` shows each \
way with an example. Exit codes: 0 verified, 1 denied, 2 could not find out or bad usage."
)]
pub(crate) struct Cli {
    /// Show no progress (progress is only ever drawn when stderr is a terminal).
    #[arg(long, short = 'q', global = true)]
    pub(crate) quiet: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Parses the command line, exiting with a usage error (exit 2) as clap does when it is
/// wrong, including a verification without an authority to verify against.
pub(crate) fn parse() -> Cli {
    let cli = Cli::parse();
    if let Some((name, flags)) = cli.command.missing_authority() {
        let mut command = Cli::command();
        command.build();
        let message = format!("no authority to verify against: pass {flags}");
        match command.find_subcommand_mut(name) {
            Some(subcommand) => subcommand.error(ErrorKind::MissingRequiredArgument, message),
            None => command.error(ErrorKind::MissingRequiredArgument, message),
        }
        .exit();
    }
    cli
}

/// The flags that name an authority for an image verification.
const IMAGE_AUTHORITIES: &str =
    "--key, --certificate-identity with --certificate-oidc-issuer, or --policy";
/// The flags that name an authority for a file verification.
const FILE_AUTHORITIES: &str =
    "--key, --certificate-identity with --certificate-oidc-issuer, or --policy";
/// The flags that name an authority for the other verifications.
const AUTHORITIES: &str = "--key, or --certificate-identity with --certificate-oidc-issuer";

impl Command {
    /// For a verification given no authority: the command's name and the flags that would do.
    fn missing_authority(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Verify(a)
                if a.key.is_none() && a.policy.is_none() && !a.certificate.has_identity() =>
            {
                Some(("verify", IMAGE_AUTHORITIES))
            }
            Self::VerifyAttestation(a) if a.key.is_none() && !a.certificate.has_identity() => {
                Some(("verify-attestation", AUTHORITIES))
            }
            Self::VerifyBlob(a)
                if a.key.is_none() && a.certificate_identity.is_none() && a.policy.is_none() =>
            {
                Some(("verify-blob", FILE_AUTHORITIES))
            }
            Self::VerifyBlobAttestation(a)
                if a.key.is_none() && !a.certificate.has_identity() && a.builder_id.is_none() =>
            {
                Some((
                    "verify-blob-attestation",
                    "--key, --certificate-identity with --certificate-oidc-issuer, or --builder-id",
                ))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an encrypted ECDSA P-256 key pair (P.key, P.pub) as Cosign does.
    GenerateKeyPair(GenerateKeyPairArgs),
    /// Import a PEM private key (RSA, ECDSA, Ed25519) into Cosign's encrypted key format.
    ImportKeyPair(ImportKeyPairArgs),
    /// Print the public key of a private key file.
    PublicKey(PublicKeyArgs),
    /// Sign images with a key or keylessly (an OIDC identity token); signatures go to the
    /// image's sha256-<hex>.sig manifest, or as Cosign v3 bundles to OCI referrers.
    Sign(SignArgs),
    /// Verify the signatures of images: by public key, by keyless identity, or by trust
    /// policy; legacy .sig signatures and Cosign v3 bundles.
    Verify(VerifyArgs),
    /// Sign a file with a key or keylessly; prints the signature, writes a Sigstore bundle.
    SignBlob(SignBlobArgs),
    /// Verify a file: a signature by public key, or a Sigstore bundle by public key or by
    /// keyless identity.
    VerifyBlob(VerifyBlobArgs),
    /// Attest images with a key or keylessly: an in-toto statement in a DSSE envelope, in
    /// sha256-<hex>.att or as a Cosign v3 bundle.
    Attest(AttestArgs),
    /// Attest a file with a key (a DSSE envelope) or keylessly (a Sigstore bundle).
    AttestBlob(AttestBlobArgs),
    /// Verify the attestations of images: by public key or by keyless identity; legacy .att
    /// attestations and Cosign v3 bundles.
    VerifyAttestation(VerifyAttestationArgs),
    /// Verify a file's attestation (a DSSE envelope, or a Sigstore bundle): by public key or
    /// by keyless identity.
    VerifyBlobAttestation(VerifyBlobAttestationArgs),
    /// Verify a SLSA verification summary (VSA) file by its verifier's public key, as
    /// slsa-verifier's verify-vsa does.
    VerifyVsa(VerifyVsaArgs),
    /// Attach artifacts to an image (Cosign's legacy attachments).
    #[command(subcommand)]
    Attach(AttachCommand),
    /// Print what is attached to an image, exactly as stored.
    #[command(subcommand)]
    Download(DownloadCommand),
    /// Show everything attached to an image: signatures, attestations by type, SBOMs, and for
    /// an image index each platform's.
    Tree(TreeArgs),
    /// Copy an image with its signatures, attestations, SBOMs and referrers, by digest, to
    /// another registry repository or an OCI layout (oci:DIR[:TAG]).
    Copy(CopyArgs),
    /// Save an image with its signatures, attestations and referrers into an OCI layout
    /// directory, in `cosign save`'s format.
    Save(SaveArgs),
    /// Push an image saved by `save` (or `cosign save`), with its signatures, attestations and
    /// referrers, to a registry.
    Load(LoadArgs),
    /// Work with trust policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The sigstore-conformance client protocol (verify-bundle), run by its test suite.
    #[command(subcommand)]
    Conformance(ConformanceCommand),
    /// Fetch and verify the Sigstore trusted root and signing config through TUF into the
    /// local cache; commands without --trusted-root then use them.
    Initialize(InitializeArgs),
    /// Print signet's version, git commit, build date, rustc and target.
    Version(VersionArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completion(CompletionArgs),
    /// Write man pages for signet and every subcommand into a directory.
    Manpages(ManpagesArgs),
    /// The deploy gate: a Kubernetes admission webhook and Gatekeeper provider over HTTPS,
    /// or one recorded AdmissionReview decided offline.
    #[command(subcommand)]
    Admission(AdmissionCommand),
}

#[derive(Debug, Args)]
pub(crate) struct VersionArgs {
    /// Print one JSON object: version, gitCommit, buildDate, rustc, target.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub(crate) shell: CompletionShell,
}

#[derive(Debug, Args)]
pub(crate) struct ManpagesArgs {
    /// Where to write signet.1 and signet-<command>.1 (created if missing).
    #[arg(value_name = "DIR")]
    pub(crate) out_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AdmissionCommand {
    /// Serve the validating and mutating webhooks, the Gatekeeper provider, /healthz,
    /// /readyz and /metrics over HTTPS, enforcing a trust policy.
    Serve(Box<AdmissionServeArgs>),
    /// Run one recorded AdmissionReview request through the decision path and print the
    /// response the server would send.
    Review(AdmissionReviewArgs),
}

/// The policy a deploy gate enforces, and what it does when it cannot verify.
#[derive(Debug, Args)]
pub(crate) struct AdmissionPolicyArgs {
    /// The trust policy: signet's YAML policy, or a containers/image policy.json. Reloaded
    /// when it (or a file it names) changes.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: PathBuf,
    /// With a policy.json: the registries.d directory (use-sigstore-attachments).
    #[arg(long = "registries.d", value_name = "DIR")]
    pub(crate) registries_d: Option<PathBuf>,
    /// The Sigstore trusted_root.json for authorities that name none (default for review:
    /// the TUF cache of `signet initialize`).
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// What an image that could not be verified (registry down or slow) gets: closed denies
    /// it, open admits it with a warning.
    #[arg(long, value_enum, default_value_t = FailureModeArg::Closed)]
    pub(crate) failure_mode: FailureModeArg,
    /// The server's own namespace, never enforced (default: $POD_NAMESPACE).
    #[arg(long, value_name = "NAMESPACE", env = "POD_NAMESPACE")]
    pub(crate) namespace: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailureModeArg {
    /// Deny, saying the image could not be verified.
    Closed,
    /// Admit, with a warning saying the image could not be verified.
    Open,
}

#[derive(Debug, Args)]
#[command(after_help = ADMISSION_SERVE)]
pub(crate) struct AdmissionServeArgs {
    #[command(flatten)]
    pub(crate) policy: AdmissionPolicyArgs,
    /// Where to listen.
    #[arg(long, default_value = "0.0.0.0:8443", value_name = "ADDRESS")]
    pub(crate) listen: std::net::SocketAddr,
    /// The server certificate chain (PEM), reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_cert: PathBuf,
    /// The server's private key (PEM), reloaded when it changes.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_key: PathBuf,
    /// Verify client certificates against this CA (PEM; Gatekeeper's): /gatekeeper then
    /// answers only clients presenting one; an untrusted certificate is refused.
    #[arg(long, value_name = "FILE")]
    pub(crate) client_ca: Option<PathBuf>,
    /// Most verdicts kept in the cache.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub(crate) cache_size: usize,
    /// How long an allowed verdict is kept.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub(crate) cache_ttl: String,
    /// How long a denied verdict is kept (a newly signed image is admitted after it).
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub(crate) deny_cache_ttl: String,
    /// The deadline of a webhook request whose URL names no timeout.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub(crate) default_timeout: String,
    /// The deadline of a Gatekeeper request (its Provider's timeout).
    #[arg(long, default_value = "3s", value_name = "DURATION")]
    pub(crate) provider_timeout: String,
    /// The longest one verification runs on after the requests that wanted it gave up.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub(crate) verify_timeout: String,
    /// How often the policy and TLS files are looked at for changes.
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub(crate) reload_interval: String,
    /// After SIGTERM: how long to keep answering, reporting not ready, before no longer
    /// accepting connections (while the Service's endpoints drop this replica).
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub(crate) shutdown_delay: String,
    /// How long requests in flight may take to finish after that.
    #[arg(long, default_value = "20s", value_name = "DURATION")]
    pub(crate) drain_timeout: String,
    /// Skip TLS certificate verification for registries (and allow plain HTTP).
    #[arg(long, help_heading = REGISTRY_OPTIONS)]
    pub(crate) allow_insecure_registry: bool,
    /// Use plain HTTP for every registry (loopback registries always use it).
    #[arg(long, help_heading = REGISTRY_OPTIONS)]
    pub(crate) allow_http_registry: bool,
    /// A node's Docker config (the kubelet's config.json, mounted): its `auths` are used for
    /// registries $DOCKER_CONFIG has no credentials for. Repeatable; read in order.
    #[arg(long, value_name = "FILE", help_heading = REGISTRY_OPTIONS)]
    pub(crate) node_docker_config: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum WebhookArg {
    /// The validating webhook's answer.
    Validating,
    /// The mutating webhook's answer (with the digest-pinning patch).
    Mutating,
}

#[derive(Debug, Args)]
#[command(after_help = ADMISSION_REVIEW)]
pub(crate) struct AdmissionReviewArgs {
    #[command(flatten)]
    pub(crate) policy: AdmissionPolicyArgs,
    /// Which webhook answers.
    #[arg(long, value_enum, default_value_t = WebhookArg::Mutating)]
    pub(crate) webhook: WebhookArg,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The AdmissionReview request (JSON), or - for standard input.
    #[arg(value_name = "REQUEST")]
    pub(crate) request: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_help = INITIALIZE)]
pub(crate) struct InitializeArgs {
    #[command(flatten)]
    pub(crate) deadline: DeadlineArgs,
    /// The TUF repository (default: Sigstore's, https://tuf-repo-cdn.sigstore.dev).
    #[arg(long, value_name = "URL")]
    pub(crate) mirror: Option<String>,
    /// The TUF root.json trust starts from (default: Sigstore's, embedded in signet).
    #[arg(long, value_name = "FILE")]
    pub(crate) root: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyCommand {
    /// Check a policy file: errors with line and column, warnings for rules that cannot pass.
    Lint(PolicyLintArgs),
    /// Show which policies match an image and each requirement's result, and why.
    Explain(PolicyExplainArgs),
}

/// slsa-verifier's `verify-vsa` flags, spelled as it spells them; a keyless VSA's signer is
/// named by Cosign's certificate flags.
#[derive(Debug, Args)]
#[command(after_help = VERIFY_VSA)]
#[command(group(ArgGroup::new("vsa_verifier").required(true).args(["public_key_path", "certificate_identity", "certificate_identity_regexp"])))]
pub(crate) struct VerifyVsaArgs {
    /// The VSA: DSSE envelopes or Sigstore bundles, one per line (as verify --vsa-out writes
    /// them with --vsa-key or --vsa-keyless).
    #[arg(long, value_name = "FILE")]
    pub(crate) attestation_path: PathBuf,
    /// A digest the VSA's subject must carry, TYPE:VALUE (e.g. sha256:…); repeatable.
    #[arg(long, value_name = "TYPE:VALUE", required = true)]
    pub(crate) subject_digest: Vec<String>,
    /// The verifier.id the VSA must name.
    #[arg(long, value_name = "ID")]
    pub(crate) verifier_id: String,
    /// The resourceUri the VSA must name.
    #[arg(long, value_name = "URI")]
    pub(crate) resource_uri: String,
    /// Levels the VSA must verify, comma-separated (a SLSA level is met by a higher one).
    #[arg(long, value_name = "LEVELS", value_delimiter = ',')]
    pub(crate) verified_levels: Vec<String>,
    /// The verifier's public key (PEM or DER), for summaries signed with a key.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate_identity", "certificate_identity_regexp"])]
    pub(crate) public_key_path: Option<PathBuf>,
    /// The key id: a signature naming another key id is not tried.
    #[arg(long, value_name = "ID")]
    pub(crate) public_key_id: Option<String>,
    /// Print the verified statement on stdout.
    #[arg(long)]
    pub(crate) print_attestation: bool,
    /// For keyless summaries (Sigstore bundles): the verifier's certificate identity and the
    /// trust material to check the bundles with.
    #[command(flatten, next_help_heading = "Keyless summaries")]
    pub(crate) certificate: CertificateArgs,
}

#[derive(Debug, Args)]
#[command(after_help = POLICY_LINT)]
pub(crate) struct PolicyLintArgs {
    /// The policy file.
    #[arg(value_name = "FILE")]
    pub(crate) policy: PathBuf,
}

#[derive(Debug, Args)]
#[command(after_help = POLICY_EXPLAIN)]
pub(crate) struct PolicyExplainArgs {
    /// The policy file.
    #[arg(value_name = "FILE")]
    pub(crate) policy: PathBuf,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttachCommand {
    /// Attach an SBOM as the image's sha256-<hex>.sbom (replacing an earlier one).
    Sbom(AttachSbomArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum DownloadCommand {
    /// The attached SBOM's bytes.
    Sbom(DownloadArgs),
    /// One JSON line per signature, as `cosign download signature`.
    Signature(DownloadArgs),
    /// One DSSE envelope per line, as stored.
    Attestation(DownloadAttestationArgs),
}

#[derive(Debug, Args)]
#[command(after_help = GENERATE_KEY_PAIR)]
pub(crate) struct GenerateKeyPairArgs {
    /// Write PREFIX.key and PREFIX.pub (with --kms, PREFIX.pub only).
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    pub(crate) output_key_prefix: String,
    /// Overwrite existing key files.
    #[arg(long, short = 'f')]
    pub(crate) force: bool,
    /// Create the key in a key service instead of a file: a PKCS#11 token
    /// (pkcs11:token=…;object=…) or AWS KMS (awskms://[ENDPOINT]/alias/NAME).
    #[arg(long, value_name = "KEY-REFERENCE")]
    pub(crate) kms: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = IMPORT_KEY_PAIR)]
pub(crate) struct ImportKeyPairArgs {
    /// The PEM private key to import.
    #[arg(long, short = 'k', value_name = "FILE")]
    pub(crate) key: PathBuf,
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(
        long,
        short = 'o',
        default_value = "import-cosign",
        value_name = "PREFIX"
    )]
    pub(crate) output_key_prefix: String,
    /// Overwrite existing key files.
    #[arg(long, short = 'f')]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
#[command(after_help = PUBLIC_KEY)]
pub(crate) struct PublicKeyArgs {
    /// The private key: an encrypted key file, pkcs11:… or awskms://….
    #[arg(long, value_name = "KEY")]
    pub(crate) key: PathBuf,
    /// Write the public key here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) outfile: Option<PathBuf>,
}

/// The help heading of the registry flags; docs/cli.md describes them once, under it.
pub(crate) const REGISTRY_OPTIONS: &str = "Registry options";

// Each flag names its heading: `next_help_heading` on the struct would leak into the
// arguments that follow the flattened struct (the IMAGE positional).
#[derive(Debug, Args)]
pub(crate) struct RegistryArgs {
    /// Give up after this long (e.g. 30s, 3m); a verification that times out could not
    /// decide (exit 2).
    #[arg(long, default_value = "3m", value_name = "DURATION", help_heading = REGISTRY_OPTIONS)]
    pub(crate) timeout: String,
    /// Skip TLS certificate verification for registries (and allow plain HTTP).
    #[arg(long, help_heading = REGISTRY_OPTIONS)]
    pub(crate) allow_insecure_registry: bool,
    /// Use plain HTTP for every registry (loopback registries always use it).
    #[arg(long, help_heading = REGISTRY_OPTIONS)]
    pub(crate) allow_http_registry: bool,
}

#[derive(Debug, Args)]
#[command(after_help = SIGN)]
pub(crate) struct SignArgs {
    /// The private key: an encrypted key file, pkcs11:… or awskms://…. Without it, signet
    /// signs keylessly with --identity-token (or SIGSTORE_ID_TOKEN).
    #[arg(long, value_name = "KEY", conflicts_with = "identity_token")]
    pub(crate) key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) keyless: KeylessArgs,
    /// Annotation for the payload's optional section (key=value), repeatable.
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub(crate) annotations: Vec<String>,
    /// Record each signature in the transparency log (Rekor v1 at --rekor-url, checked
    /// against --trusted-root) and store the log's proof with it. With --key, pass
    /// --tlog-upload=false to sign without a log entry.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) tlog_upload: bool,
    /// Keyless: store the signature as Cosign v3 does, a Sigstore bundle in an OCI 1.1
    /// referrer of the image (DSSE statement of type https://sigstore.dev/cosign/sign/v1),
    /// instead of a layer of the sha256-<hex>.sig manifest.
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) new_bundle_format: bool,
    /// If an image is an image index (a multi-platform image), also sign every manifest it
    /// lists, nested indexes included, each by its own digest.
    #[arg(long, short = 'r')]
    pub(crate) recursive: bool,
    /// Skip confirmation prompts (accepted for Cosign compatibility; signet does not prompt).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    /// The signature format: Cosign's, or a Notary Project signature as `notation sign`
    /// writes it (with --key an unencrypted PKCS#8 EC key and --certificate-chain).
    #[arg(long, value_enum, default_value_t = SignatureFormat::Cosign)]
    pub(crate) format: SignatureFormat,
    /// With --format notation: the envelope, JWS or COSE.
    #[arg(long, value_enum, default_value_t = EnvelopeName::Jws)]
    pub(crate) signature_format: EnvelopeName,
    /// With --format notation: the certificate chain (PEM), signing certificate first, root
    /// last.
    #[arg(long, value_name = "FILE")]
    pub(crate) certificate_chain: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// Images to sign: REGISTRY/REPO[:TAG][@DIGEST] or oci:PATH[:TAG|@DIGEST].
    #[arg(required = true, value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SignatureFormat {
    /// Cosign's (`sha256-<hex>.sig`, or referrer bundles with --new-bundle-format).
    Cosign,
    /// A Notary Project signature referring to the image.
    Notation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvelopeName {
    /// JWS JSON serialization (application/jose+json).
    Jws,
    /// COSE_Sign1 (application/cose).
    Cose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Cosign's JSON: an array of the verified payloads.
    Json,
    /// One line per verified signature.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HashName {
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Debug, Args)]
#[command(override_usage = VERIFY_USAGE)]
#[command(after_help = VERIFY)]
pub(crate) struct VerifyArgs {
    /// The public key: a PEM or DER file, or the public half of pkcs11:… or awskms://….
    #[arg(
        long,
        value_name = "KEY",
        conflicts_with_all = ["policy", "certificate_identity", "certificate_identity_regexp"]
    )]
    pub(crate) key: Option<PathBuf>,
    /// Decide from a trust policy instead of one key: signet's YAML policy, or a
    /// containers/image policy.json.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: Option<PathBuf>,
    /// With a policy.json: the registries.d directory (use-sigstore-attachments).
    #[arg(long = "registries.d", value_name = "DIR", requires = "policy")]
    pub(crate) registries_d: Option<PathBuf>,
    /// With --policy: print the number of registry requests per image on stderr.
    #[arg(long, requires = "policy")]
    pub(crate) stats: bool,
    /// With --policy: verify every image of these Kubernetes manifests (multi-document YAML
    /// or JSON, List kinds, helm template / kustomize build output; - for standard input)
    /// instead of IMAGE arguments. Repeatable.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        requires = "policy",
        conflicts_with_all = ["images", "vsa_key", "vsa_keyless"]
    )]
    pub(crate) manifests: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) vsa: VsaArgs,
    /// With --vsa-key or --vsa-keyless: also attach each summary to its image, as an
    /// attestation of predicate type https://slsa.dev/verification_summary/v1: a keyless
    /// summary in the format the image's signatures use (a Cosign v3 referrer bundle, else
    /// Cosign's legacy .att), a key-signed one in the legacy format, without a log entry.
    #[arg(long, requires = "vsa_signer")]
    pub(crate) vsa_attach: bool,
    /// Annotation every accepted signature must carry (key=value), repeatable.
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub(crate) annotations: Vec<String>,
    /// Accept signatures without a transparency-log entry.
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) insecure_ignore_tlog: bool,
    /// Output format for the verified payloads on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Json)]
    pub(crate) output: OutputFormat,
    /// Accept only this signature hash (default: sha256, or the key's curve hash).
    #[arg(long, value_enum)]
    pub(crate) signature_digest_algorithm: Option<HashName>,
    /// For an image that is not signed itself (a platform manifest), also accept a valid
    /// signature on an image index that lists its digest: the index IMAGE's own tag names
    /// (REPO:TAG@sha256:…), or INDEX (a tag or digest in the same repository). The index is
    /// read from the registry and must list the digest. Off by default, as in Cosign.
    #[arg(long, value_name = "INDEX", num_args = 0..=1, require_equals = true, default_missing_value = "", conflicts_with = "policy")]
    pub(crate) accept_index_signature: Option<String>,
    #[command(flatten)]
    pub(crate) certificate: CertificateArgs,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// Images to verify.
    #[arg(required_unless_present = "manifests", value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
}

/// Who must have signed a Cosign v3 Sigstore bundle (OCI 1.1 referrers), and the trust
/// material to check it with; shared by verify and verify-attestation.
#[derive(Debug, Args)]
pub(crate) struct CertificateArgs {
    /// The certificate identity (SAN) required, exactly.
    #[arg(
        long,
        value_name = "IDENTITY",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub(crate) certificate_identity: Option<String>,
    /// A regex the whole certificate identity must match: anchored, unlike Cosign: write `.*`
    /// where you mean a substring (e.g. 'https://github\.com/acme/.*').
    #[arg(long, value_name = "REGEX")]
    pub(crate) certificate_identity_regexp: Option<String>,
    /// The OIDC issuer required, exactly.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub(crate) certificate_oidc_issuer: Option<String>,
    /// A regex the whole OIDC issuer must match: anchored, unlike Cosign: write `.*` where you
    /// mean a substring.
    #[arg(long, value_name = "REGEX")]
    pub(crate) certificate_oidc_issuer_regexp: Option<String>,
    /// The GitHub workflow repository (owner/repo) the certificate must name (OID .1.5).
    #[arg(long, value_name = "REPO")]
    pub(crate) certificate_github_workflow_repository: Option<String>,
    /// The GitHub workflow ref the certificate must name (OID .1.6).
    #[arg(long, value_name = "REF")]
    pub(crate) certificate_github_workflow_ref: Option<String>,
    /// The GitHub workflow trigger the certificate must name (OID .1.2).
    #[arg(long, value_name = "EVENT")]
    pub(crate) certificate_github_workflow_trigger: Option<String>,
    /// The GitHub workflow commit the certificate must name (OID .1.3).
    #[arg(long, value_name = "SHA")]
    pub(crate) certificate_github_workflow_sha: Option<String>,
    /// The GitHub workflow name the certificate must name (OID .1.4).
    #[arg(long, value_name = "NAME")]
    pub(crate) certificate_github_workflow_name: Option<String>,
    /// The Sigstore trusted_root.json bundles are verified against (default: the one
    /// `signet initialize` fetched through TUF). With --key and no --trusted-root, only the
    /// legacy format is read.
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// Accept a certificate without a verifying embedded SCT (GitHub's private-repository
    /// instance, Fulcio certificates of 2021): nothing then shows it was published.
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) insecure_ignore_sct: bool,
}

#[derive(Debug, Args)]
#[command(after_help = SIGN_BLOB)]
pub(crate) struct SignBlobArgs {
    #[command(flatten)]
    pub(crate) deadline: DeadlineArgs,
    /// The private key: an encrypted key file, pkcs11:… or awskms://…. Without it, signet
    /// signs keylessly with --identity-token (or SIGSTORE_ID_TOKEN).
    #[arg(long, value_name = "KEY", conflicts_with = "identity_token")]
    pub(crate) key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) keyless: KeylessArgs,
    /// Write the Sigstore bundle (v0.3: certificate or key hint, signature, Rekor entry,
    /// timestamp) to this file.
    #[arg(long, value_name = "FILE")]
    pub(crate) bundle: Option<PathBuf>,
    /// Write the signature to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) output_signature: Option<PathBuf>,
    /// Base64-encode the signature (Cosign's default).
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) b64: bool,
    /// Record the signature in the transparency log (Rekor v1 at --rekor-url, checked against
    /// the trusted root) and write the proof with --bundle; --tlog-upload=false signs without.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) tlog_upload: bool,
    /// Skip confirmation prompts (accepted for Cosign compatibility).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    /// The file to sign (- for stdin).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

#[derive(Debug, Args)]
#[command(override_usage = VERIFY_BLOB_USAGE)]
#[command(after_help = VERIFY_BLOB)]
#[command(group(ArgGroup::new("evidence").required(true).args(["signature", "bundle"])))]
pub(crate) struct VerifyBlobArgs {
    #[command(flatten)]
    pub(crate) deadline: DeadlineArgs,
    /// The public key: a PEM or DER file, or the public half of pkcs11:… or awskms://….
    #[arg(long, value_name = "KEY")]
    pub(crate) key: Option<PathBuf>,
    /// The signature: a file holding it (base64 or raw), or the base64 itself.
    #[arg(long, value_name = "FILE|BASE64")]
    pub(crate) signature: Option<String>,
    /// A Sigstore bundle (v0.1-v0.3) with the signature and its log and timestamp evidence,
    /// verified offline against --trusted-root. With --policy: a file of bundles (a bundle,
    /// JSON Lines, a published listing) with the files' signatures and attestations;
    /// repeatable.
    #[arg(long, value_name = "FILE")]
    pub(crate) bundle: Vec<PathBuf>,
    /// Decide each FILE by the `files:` policies of this YAML trust policy, from the bundles
    /// given with --bundle (signatures, attestations and their conditions), instead of one
    /// key or identity.
    #[arg(long, value_name = "FILE", requires = "bundle", conflicts_with_all = ["key", "signature", "certificate_identity", "signature_digest_algorithm"])]
    pub(crate) policy: Option<PathBuf>,
    /// With --policy: the report's format on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Json, requires = "policy")]
    pub(crate) output: OutputFormat,
    #[command(flatten)]
    pub(crate) vsa: VsaArgs,
    /// With --bundle: the certificate identity (SAN) required, exactly.
    #[arg(long, value_name = "IDENTITY", requires = "certificate_oidc_issuer", conflicts_with_all = ["key", "signature"])]
    pub(crate) certificate_identity: Option<String>,
    /// With --bundle: the OIDC issuer required, exactly.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    pub(crate) certificate_oidc_issuer: Option<String>,
    /// With --bundle: the Sigstore trusted_root.json (default: from `signet initialize`).
    #[arg(long, value_name = "FILE", conflicts_with = "signature")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// Accept a signature without a transparency-log entry.
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) insecure_ignore_tlog: bool,
    /// With --bundle: accept a certificate without a verifying embedded SCT.
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) insecure_ignore_sct: bool,
    /// Accept only this signature hash.
    #[arg(long, value_enum)]
    pub(crate) signature_digest_algorithm: Option<HashName>,
    /// The file to verify (- for stdin); with --policy, one or more files.
    #[arg(value_name = "FILE", required = true)]
    pub(crate) files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = ATTEST)]
pub(crate) struct AttestArgs {
    /// The private key: an encrypted key file, pkcs11:… or awskms://…. Without it, signet
    /// attests keylessly with --identity-token (or SIGSTORE_ID_TOKEN).
    #[arg(long, value_name = "KEY", conflicts_with = "identity_token")]
    pub(crate) key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) keyless: KeylessArgs,
    /// Keyless: store the attestation as Cosign v3 does, a Sigstore bundle in an OCI 1.1
    /// referrer of the image, instead of a layer of the sha256-<hex>.att manifest.
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) new_bundle_format: bool,
    /// The predicate: a file, or - for stdin.
    #[arg(long, value_name = "FILE")]
    pub(crate) predicate: PathBuf,
    /// custom, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx, spdxjson, cyclonedx,
    /// link, vuln, openvex, or a predicate type URI.
    #[arg(long = "type", default_value = "custom")]
    pub(crate) predicate_type: String,
    /// Replace earlier attestations of the same predicate type.
    #[arg(long)]
    pub(crate) replace: bool,
    /// If the image is an image index (a multi-platform image), also attest every manifest it
    /// lists, nested indexes included, each with a statement about its own digest.
    #[arg(long, short = 'r')]
    pub(crate) recursive: bool,
    /// Accepted for Cosign compatibility; attestations carry no payload annotations.
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub(crate) annotations: Vec<String>,
    /// Record the attestation in the transparency log (Rekor v1 at --rekor-url, checked
    /// against the trusted root); --tlog-upload=false attests without a log entry.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) tlog_upload: bool,
    /// Skip confirmation prompts (accepted for Cosign compatibility).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image to attest.
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

#[derive(Debug, Args)]
#[command(after_help = ATTEST_BLOB)]
pub(crate) struct AttestBlobArgs {
    #[command(flatten)]
    pub(crate) deadline: DeadlineArgs,
    /// The private key: an encrypted key file, pkcs11:… or awskms://…. Without it, signet
    /// attests keylessly with --identity-token (or SIGSTORE_ID_TOKEN) into a Sigstore
    /// bundle (--bundle).
    #[arg(long, value_name = "KEY", conflicts_with = "identity_token")]
    pub(crate) key: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) keyless: KeylessArgs,
    /// Keyless: write the Sigstore bundle (v0.3: DSSE envelope, certificate, Rekor entry,
    /// timestamp) to this file.
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub(crate) bundle: Option<PathBuf>,
    /// The predicate file.
    #[arg(long, value_name = "FILE")]
    pub(crate) predicate: PathBuf,
    /// The predicate type (as for attest).
    #[arg(long = "type", default_value = "custom")]
    pub(crate) predicate_type: String,
    /// Write the envelope here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub(crate) output_attestation: Option<PathBuf>,
    /// Upload to the transparency log. Not available yet: pass --tlog-upload=false.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) tlog_upload: bool,
    /// Skip confirmation prompts (accepted for Cosign compatibility).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    /// The file the statement is about.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

#[derive(Debug, Args)]
#[command(override_usage = VERIFY_ATTESTATION_USAGE)]
#[command(after_help = VERIFY_ATTESTATION)]
pub(crate) struct VerifyAttestationArgs {
    /// The public key: a PEM or DER file, or the public half of pkcs11:… or awskms://….
    #[arg(
        long,
        value_name = "KEY",
        conflicts_with_all = ["certificate_identity", "certificate_identity_regexp"]
    )]
    pub(crate) key: Option<PathBuf>,
    /// The predicate type attestations must have (as for attest).
    #[arg(long = "type", default_value = "custom")]
    pub(crate) predicate_type: String,
    /// Accept attestations without a transparency-log entry.
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) insecure_ignore_tlog: bool,
    /// json: the verified envelopes, one per line; text: one summary line each.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Json)]
    pub(crate) output: OutputFormat,
    /// Accept only this signature hash.
    #[arg(long, value_enum)]
    pub(crate) signature_digest_algorithm: Option<HashName>,
    #[command(flatten)]
    pub(crate) certificate: CertificateArgs,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// Images to verify.
    #[arg(required = true, value_name = "IMAGE")]
    pub(crate) images: Vec<String>,
}

#[derive(Debug, Args)]
#[command(override_usage = VERIFY_BLOB_ATTESTATION_USAGE)]
#[command(after_help = VERIFY_BLOB_ATTESTATION)]
#[command(group(ArgGroup::new("evidence").required(true).args(["signature", "bundle"])))]
pub(crate) struct VerifyBlobAttestationArgs {
    #[command(flatten)]
    pub(crate) deadline: DeadlineArgs,
    /// The public key: a PEM or DER file, or the public half of pkcs11:… or awskms://….
    #[arg(
        long,
        value_name = "KEY",
        conflicts_with_all = ["certificate_identity", "certificate_identity_regexp"]
    )]
    pub(crate) key: Option<PathBuf>,
    /// The DSSE envelope file.
    #[arg(long, value_name = "FILE")]
    pub(crate) signature: Option<PathBuf>,
    /// A Sigstore bundle holding the DSSE envelope with its log and timestamp evidence,
    /// verified offline against the trusted root. Also a file of bundles as published: JSON
    /// Lines, npm's or GitHub's attestation listing, a PEP 740 attestation or PyPI
    /// provenance; the first bundle of the --type that verifies wins.
    #[arg(long, value_name = "FILE", conflicts_with = "signature")]
    pub(crate) bundle: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) certificate: CertificateArgs,
    /// The predicate type the statement must have (as for attest; default: custom, or SLSA
    /// provenance v0.2 or v1 with the --builder-id/--source-* flags).
    #[arg(long = "type", value_name = "TYPE")]
    pub(crate) predicate_type: Option<String>,
    /// SLSA provenance: the builder id, with or without @version (as slsa-verifier's
    /// --builder-id). Without --certificate-identity*, the signer must be that builder's
    /// GitHub Actions workflow.
    #[arg(long, value_name = "ID", requires = "bundle")]
    pub(crate) builder_id: Option<String>,
    /// SLSA provenance: the source repository, e.g. github.com/acme/app, in the provenance
    /// and in the signing certificate.
    #[arg(long, value_name = "URI", requires = "bundle")]
    pub(crate) source_uri: Option<String>,
    /// SLSA provenance: the tag the source was at (refs/tags/TAG).
    #[arg(
        long,
        value_name = "TAG",
        requires = "bundle",
        conflicts_with = "source_branch"
    )]
    pub(crate) source_tag: Option<String>,
    /// SLSA provenance: the branch the source was at (refs/heads/BRANCH).
    #[arg(long, value_name = "BRANCH", requires = "bundle")]
    pub(crate) source_branch: Option<String>,
    /// The artifact's digest instead of the file (hex, of --digestAlg).
    #[arg(long, value_name = "HEX")]
    pub(crate) digest: Option<String>,
    /// The algorithm of --digest: sha256, sha384 or sha512 (npm names packages by sha512).
    #[arg(long = "digestAlg", value_enum, default_value = "sha256")]
    pub(crate) digest_alg: HashName,
    /// Accept an attestation without a transparency-log entry (with --bundle: without a
    /// verified log inclusion, as GitHub's attestations of private repositories are).
    #[arg(long, default_value_t = false, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub(crate) insecure_ignore_tlog: bool,
    /// Accept only this signature hash.
    #[arg(long, value_enum)]
    pub(crate) signature_digest_algorithm: Option<HashName>,
    /// The file the attestation is about (not needed with --digest).
    #[arg(value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = ATTACH_SBOM)]
pub(crate) struct AttachSbomArgs {
    /// The SBOM file.
    #[arg(long, value_name = "FILE")]
    pub(crate) sbom: PathBuf,
    /// spdx, cyclonedx or syft.
    #[arg(long = "type", default_value = "spdx")]
    pub(crate) sbom_type: String,
    /// json, xml or text (default: json if the file name ends in .json).
    #[arg(long)]
    pub(crate) input_format: Option<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

#[derive(Debug, Args)]
#[command(after_help = DOWNLOAD)]
pub(crate) struct DownloadArgs {
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

#[derive(Debug, Args)]
#[command(after_help = DOWNLOAD_ATTESTATION)]
pub(crate) struct DownloadAttestationArgs {
    /// Only attestations of this predicate type (as for attest).
    #[arg(long)]
    pub(crate) predicate_type: Option<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

#[derive(Debug, Args)]
#[command(after_help = TREE)]
pub(crate) struct TreeArgs {
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image.
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConformanceCommand {
    /// Verify a Sigstore bundle offline: exit 0 if it verifies, non-zero with the failed
    /// check on stderr if not.
    VerifyBundle(ConformanceVerifyBundleArgs),
    /// Sign a file keylessly into a Sigstore bundle (--trusted-root and --signing-config
    /// default to those `signet initialize` fetched).
    SignBundle(ConformanceSignBundleArgs),
}

#[derive(Debug, Args)]
#[command(after_help = CONFORMANCE_SIGN_BUNDLE)]
pub(crate) struct ConformanceSignBundleArgs {
    #[command(flatten)]
    pub(crate) deadline: DeadlineArgs,
    /// Sigstore's staging instance (needs its TUF repository: not supported yet).
    #[arg(long)]
    pub(crate) staging: bool,
    /// The OIDC identity token.
    #[arg(long, value_name = "TOKEN")]
    pub(crate) identity_token: String,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    pub(crate) bundle: PathBuf,
    /// The Sigstore trusted_root.json the bundle must verify against.
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// The Sigstore signing_config (v0.2) naming Fulcio, Rekor and the TSA.
    #[arg(long, value_name = "FILE")]
    pub(crate) signing_config: Option<PathBuf>,
    /// The file to sign.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

/// Signed SLSA verification summaries (VSA) of a policy's decisions, one per image or file:
/// `verify --policy` and `verify-blob --policy`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("vsa_signer").args(["vsa_key", "vsa_keyless"])))]
pub(crate) struct VsaArgs {
    /// With --policy: sign a SLSA verification summary (VSA) of each decision with this key
    /// (a key file, pkcs11:… or awskms://…) and write it to --vsa-out.
    #[arg(long, value_name = "KEY", requires_all = ["policy", "vsa_out", "vsa_verifier_id"])]
    pub(crate) vsa_key: Option<PathBuf>,
    /// With --policy: sign each summary keylessly instead (a Fulcio certificate for
    /// --identity-token or SIGSTORE_ID_TOKEN, a Rekor entry, a timestamp when the services
    /// name a TSA): each summary is a Sigstore bundle, checked against --trusted-root.
    #[arg(
        long,
        requires_all = ["policy", "vsa_out", "vsa_verifier_id"],
        conflicts_with = "vsa_key"
    )]
    pub(crate) vsa_keyless: bool,
    /// With --vsa-key or --vsa-keyless: the file the summaries are written to, one per line
    /// (DSSE envelopes with --vsa-key, Sigstore bundles with --vsa-keyless).
    #[arg(long, value_name = "FILE", requires = "vsa_signer")]
    pub(crate) vsa_out: Option<PathBuf>,
    /// With --vsa-key or --vsa-keyless: the verifier's identity (a URI) the summaries name.
    #[arg(long, value_name = "URI", requires = "vsa_signer")]
    pub(crate) vsa_verifier_id: Option<String>,
    /// With --vsa-key or --vsa-keyless: a level a passing summary states, e.g.
    /// SLSA_BUILD_LEVEL_2; repeatable.
    #[arg(long, value_name = "LEVEL", requires = "vsa_signer")]
    pub(crate) vsa_level: Vec<String>,
    #[command(flatten, next_help_heading = "Keyless summaries (with --vsa-keyless)")]
    pub(crate) keyless: KeylessServiceArgs,
}

/// Keyless signing: an identity token and the services that turn it into a certificate,
/// a log entry and a timestamp, and the trusted root the result is checked against.
#[derive(Debug, Args)]
pub(crate) struct KeylessArgs {
    #[command(flatten)]
    pub(crate) services: KeylessServiceArgs,
    /// Keyless: the Sigstore trusted_root.json the new bundle is verified against before
    /// signet reports success (default: from `signet initialize`).
    #[arg(long = "trusted-root", value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
}

/// The identity token and the signing services (Fulcio, Rekor, a TSA) of keyless signing;
/// `verify` takes them to sign verification summaries keylessly, with its own trusted root.
#[derive(Debug, Args)]
pub(crate) struct KeylessServiceArgs {
    /// Sign keylessly with this OIDC identity token (default: the SIGSTORE_ID_TOKEN
    /// environment variable, when --key is not given).
    #[arg(long, value_name = "TOKEN")]
    pub(crate) identity_token: Option<String>,
    /// Keyless: a Sigstore signing_config (v0.2) naming Fulcio, Rekor and the TSA (default,
    /// without the URL flags: the one `signet initialize` fetched).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["fulcio_url", "rekor_url", "timestamp_server_url"])]
    pub(crate) signing_config: Option<PathBuf>,
    /// Keyless: the Fulcio URL (with --rekor-url).
    #[arg(long, value_name = "URL", requires = "rekor_url")]
    pub(crate) fulcio_url: Option<String>,
    /// The Rekor (v1) URL: keyless with --fulcio-url; with --key, the log --tlog-upload
    /// records the signature in.
    #[arg(long, value_name = "URL")]
    pub(crate) rekor_url: Option<String>,
    /// Keyless: an RFC 3161 timestamp authority URL (optional).
    #[arg(long, value_name = "URL", requires = "fulcio_url")]
    pub(crate) timestamp_server_url: Option<String>,
}

impl KeylessServiceArgs {
    /// Whether any of these flags was given.
    pub(crate) fn any(&self) -> bool {
        self.identity_token.is_some()
            || self.signing_config.is_some()
            || self.fulcio_url.is_some()
            || self.rekor_url.is_some()
            || self.timestamp_server_url.is_some()
    }
}

#[derive(Debug, Args)]
#[command(after_help = CONFORMANCE_VERIFY_BUNDLE)]
#[command(group(ArgGroup::new("signer").required(true).args(["certificate_identity", "key"])))]
pub(crate) struct ConformanceVerifyBundleArgs {
    /// The Sigstore bundle.
    #[arg(long, value_name = "FILE")]
    pub(crate) bundle: PathBuf,
    /// The certificate identity (SAN) required, exactly.
    #[arg(long, value_name = "IDENTITY", requires = "certificate_oidc_issuer")]
    pub(crate) certificate_identity: Option<String>,
    /// The OIDC issuer required, exactly.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    pub(crate) certificate_oidc_issuer: Option<String>,
    /// The public key of a key-signed bundle (PEM or DER).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// The Sigstore trusted_root.json (default: from `signet initialize`).
    #[arg(long, value_name = "FILE")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// The artifact, or its digest as sha256:<hex> (or sha384:<hex>, sha512:<hex>).
    #[arg(value_name = "FILE_OR_DIGEST")]
    pub(crate) input: String,
}

/// What `copy --only` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CopyOnly {
    /// Signatures: the .sig tags and Cosign v3's signature bundles.
    Sig,
    /// Attestations: the .att tags and every other Sigstore bundle.
    Att,
    /// SBOMs: the .sbom tags.
    Sbom,
}

#[derive(Debug, Args)]
#[command(after_help = COPY)]
pub(crate) struct CopyArgs {
    /// Copy only these attachments (comma-separated), not the image, and move no tag.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "sig,att,sbom")]
    pub(crate) only: Vec<CopyOnly>,
    /// Move destination tags (the image's and Cosign's attachment tags) that hold other content;
    /// without it such a copy is refused before anything is written.
    #[arg(long, short = 'f')]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image to copy: REGISTRY/REPO[:TAG][@DIGEST] or oci:PATH[:TAG|@DIGEST].
    #[arg(value_name = "SRC")]
    pub(crate) source: String,
    /// Where to: REGISTRY/REPO[:TAG] or oci:PATH[:TAG] (the tag defaults to latest).
    #[arg(value_name = "DST")]
    pub(crate) destination: String,
}

#[derive(Debug, Args)]
#[command(after_help = SAVE)]
pub(crate) struct SaveArgs {
    /// The directory to write the OCI layout to (new, empty, or an earlier save's).
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: PathBuf,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// The image to save.
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

#[derive(Debug, Args)]
#[command(after_help = LOAD)]
pub(crate) struct LoadArgs {
    /// The OCI layout directory written by `save` or `cosign save`.
    #[arg(long, value_name = "DIR")]
    pub(crate) dir: PathBuf,
    /// Move destination tags that hold other content; without it such a load is refused
    /// before anything is written.
    #[arg(long, short = 'f')]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
    /// Where to push it: REGISTRY/REPO[:TAG] (the tag defaults to latest).
    #[arg(value_name = "IMAGE")]
    pub(crate) image: String,
}

// Usage lines of the verifications: one for each kind of authority.

const VERIFY_USAGE: &str = "signet verify --key KEY [OPTIONS] IMAGE...
       signet verify (--certificate-identity ID | --certificate-identity-regexp REGEX) (--certificate-oidc-issuer URL | --certificate-oidc-issuer-regexp REGEX) [OPTIONS] IMAGE...
       signet verify --policy FILE [OPTIONS] IMAGE...";

const VERIFY_ATTESTATION_USAGE: &str = "signet verify-attestation --key KEY [OPTIONS] IMAGE...
       signet verify-attestation (--certificate-identity ID | --certificate-identity-regexp REGEX) (--certificate-oidc-issuer URL | --certificate-oidc-issuer-regexp REGEX) [OPTIONS] IMAGE...";

const VERIFY_BLOB_USAGE: &str = "signet verify-blob --key KEY (--signature FILE|BASE64 | --bundle FILE) [OPTIONS] FILE
       signet verify-blob --bundle FILE --certificate-identity ID --certificate-oidc-issuer URL [OPTIONS] FILE
       signet verify-blob --policy POLICY --bundle FILE... [--vsa-key KEY | --vsa-keyless] [OPTIONS] FILE...";

const VERIFY_BLOB_ATTESTATION_USAGE: &str = "signet verify-blob-attestation --key KEY (--signature FILE | --bundle FILE) [OPTIONS] (FILE | --digest HEX)
       signet verify-blob-attestation --bundle FILE (--certificate-identity ID | --certificate-identity-regexp REGEX) (--certificate-oidc-issuer URL | --certificate-oidc-issuer-regexp REGEX) [OPTIONS] (FILE | --digest HEX)
       signet verify-blob-attestation --bundle FILE --builder-id ID [--source-uri URI] [--source-tag TAG | --source-branch BRANCH] [OPTIONS] (FILE | --digest HEX)";

// Examples shown after each command's flags in `--help`: one for each way to use it.

const GENERATE_KEY_PAIR: &str = r#"Examples:
  signet generate-key-pair                            # cosign.key, cosign.pub
  COSIGN_PASSWORD=… signet generate-key-pair --output-key-prefix release"#;

const IMPORT_KEY_PAIR: &str = r#"Example:
  signet import-key-pair --key rsa.pem --output-key-prefix imported"#;

const PUBLIC_KEY: &str = r#"Example:
  signet public-key --key cosign.key --outfile cosign.pub"#;

const SIGN: &str = r#"Ways to sign (IMAGE is REGISTRY/REPO[:TAG][@DIGEST] or oci:PATH[:TAG|@DIGEST]):
  With a key, the signature recorded in a Rekor log:
    signet sign --key cosign.key --rekor-url https://rekor.example --trusted-root trusted_root.json IMAGE
  With a key, without a log entry:
    signet sign --key cosign.key --tlog-upload=false IMAGE
  Keylessly (a Fulcio certificate for the token's identity, a Rekor entry; Cosign's .sig format):
    signet sign --identity-token "$TOKEN" --signing-config signing_config.json --trusted-root trusted_root.json IMAGE
  Keylessly, as a Cosign v3 Sigstore bundle in an OCI 1.1 referrer:
    signet sign --new-bundle-format --identity-token "$TOKEN" IMAGE
  A multi-platform image: the index and every platform manifest, each by its own digest:
    signet sign --recursive --key cosign.key --tlog-upload=false registry.example.com/app:v1"#;

const VERIFY: &str = r#"Ways to verify (exactly one authority; legacy .sig signatures and Cosign v3 bundles are read):
  By public key (the Rekor entry checked against the trusted root):
    signet verify --key cosign.pub --trusted-root trusted_root.json IMAGE
  By keyless identity (a Fulcio certificate chaining to the trusted root):
    signet verify --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com IMAGE
  By identity regex (anchored, unlike Cosign: write `.*` where you mean a substring):
    signet verify --certificate-identity-regexp 'https://github\.com/acme/.*' \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com IMAGE
  By trust policy (signet's YAML, or a containers policy.json with --registries.d):
    signet verify --policy policy.yaml IMAGE...
  Every image of Kubernetes manifests, by trust policy (a deploy step):
    helm template ./chart | signet verify --policy policy.yaml -f -
  A platform image through the signed index its tag names (opt-in; Cosign requires its own):
    signet verify --key cosign.pub --accept-index-signature registry.example.com/app:v1@sha256:…
Exit codes: 0 verified, 1 denied, 2 could not find out or bad usage."#;

const ADMISSION_SERVE: &str = r#"Example (deploy/kubernetes/ runs it this way):
  signet admission serve --policy /etc/signet/policy/policy.yaml \
    --tls-cert /etc/signet/tls/tls.crt --tls-key /etc/signet/tls/tls.key \
    --client-ca /etc/signet/gatekeeper/ca.crt
Endpoints: POST /validate, /mutate (AdmissionReview v1), /gatekeeper (ProviderRequest);
GET /healthz, /readyz, /metrics. Registry credentials: the Docker config in $DOCKER_CONFIG."#;

const ADMISSION_REVIEW: &str = r#"Example (why was my pod denied?):
  signet admission review --policy policy.yaml request.json
Prints the AdmissionReview response; stderr says what was decided for each image.
Exit codes: 0 allowed, 1 refused, 2 could not run (bad request file, policy)."#;

const SIGN_BLOB: &str = r#"Ways to sign a file:
  With a key, recorded in a Rekor log, the proof written as a Sigstore bundle:
    signet sign-blob --key cosign.key --rekor-url https://rekor.example --bundle file.sigstore.json file
  With a key, without a log entry:
    signet sign-blob --key cosign.key --tlog-upload=false --output-signature file.sig file
  Keylessly, into a Sigstore bundle:
    signet sign-blob --identity-token "$TOKEN" --bundle file.sigstore.json file"#;

const VERIFY_BLOB: &str = r#"Ways to verify a file (exactly one authority):
  A signature, by public key (a bare signature has no log entry to check):
    signet verify-blob --key cosign.pub --signature file.sig --insecure-ignore-tlog=true file
  A Sigstore bundle, by public key:
    signet verify-blob --key cosign.pub --bundle file.sigstore.json --trusted-root trusted_root.json file
  A Sigstore bundle, by keyless identity:
    signet verify-blob --bundle file.sigstore.json --certificate-identity me@example.com \
      --certificate-oidc-issuer https://accounts.google.com file
  Release files, by a trust policy's `files:` policies, each with a signed summary (SLSA VSA):
    signet verify-blob --policy release.yaml --bundle release.sigstore.jsonl \
      --vsa-key verifier.key --vsa-out release.vsa.jsonl --vsa-verifier-id https://example.com/verifier \
      app-linux.tar.gz app-darwin.tar.gz
Exit codes: 0 verified, 1 denied, 2 could not find out or bad usage."#;

const ATTEST: &str = r#"Ways to attest:
  With a key, without a log entry:
    signet attest --key cosign.key --tlog-upload=false --type slsaprovenance --predicate prov.json IMAGE
  With a key, recorded in a Rekor log:
    signet attest --key cosign.key --rekor-url https://rekor.example --trusted-root trusted_root.json --predicate prov.json IMAGE
  Keylessly (Cosign's .att format):
    signet attest --identity-token "$TOKEN" --type slsaprovenance1 --predicate prov.json IMAGE
  Keylessly, as a Cosign v3 Sigstore bundle in an OCI 1.1 referrer:
    signet attest --new-bundle-format --identity-token "$TOKEN" --type slsaprovenance1 --predicate prov.json IMAGE"#;

const ATTEST_BLOB: &str = r#"Ways to attest a file:
  With a key (a DSSE envelope):
    signet attest-blob --key cosign.key --tlog-upload=false --predicate prov.json --output-attestation file.intoto.json file
  Keylessly (a Sigstore bundle):
    signet attest-blob --identity-token "$TOKEN" --type slsaprovenance1 --predicate prov.json --bundle file.sigstore.json file"#;

const VERIFY_ATTESTATION: &str = r#"Ways to verify attestations (exactly one authority; legacy .att and Cosign v3 bundles are read):
  By public key:
    signet verify-attestation --key cosign.pub --trusted-root trusted_root.json --type slsaprovenance IMAGE
  By keyless identity:
    signet verify-attestation --type slsaprovenance1 --certificate-identity me@example.com \
      --certificate-oidc-issuer https://accounts.google.com IMAGE
  By trust policy (attestation rules: SLSA, SBOM, vulnerabilities, Rego): use verify:
    signet verify --policy policy.yaml IMAGE
Exit codes: 0 verified, 1 denied, 2 could not find out or bad usage."#;

const VERIFY_BLOB_ATTESTATION: &str = r#"Ways to verify a file's attestation (exactly one authority):
  A DSSE envelope, by public key:
    signet verify-blob-attestation --key cosign.pub --signature file.intoto.json --insecure-ignore-tlog=true --type slsaprovenance file
  A Sigstore bundle, by keyless identity (or --digest HEX instead of the file):
    signet verify-blob-attestation --bundle file.sigstore.json --certificate-identity me@example.com \
      --certificate-oidc-issuer https://accounts.google.com --type slsaprovenance1 file
  npm's registry attestations (the SLSA provenance of a package named by sha512):
    signet verify-blob-attestation --bundle pkg.tgz.json --certificate-identity-regexp 'https://github.com/acme/.*' \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com --type slsaprovenance1 pkg.tgz
  SLSA provenance as slsa-verifier checks it (the builder signs; source and tag in provenance and certificate):
    signet verify-blob-attestation --bundle app.intoto.jsonl \
      --builder-id https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml \
      --source-uri github.com/acme/app --source-tag v1.2.3 app
  GitHub's private-repository attestations (no log, no SCT; GitHub's trusted root):
    signet verify-blob-attestation --bundle app.jsonl --trusted-root github_trusted_root.json \
      --insecure-ignore-tlog --insecure-ignore-sct --certificate-identity ID --certificate-oidc-issuer URL --type slsaprovenance1 app
Exit codes: 0 verified, 1 denied, 2 could not find out or bad usage."#;

const ATTACH_SBOM: &str = r#"Example:
  signet attach sbom --sbom sbom.spdx.json --type spdx IMAGE"#;

const TREE: &str = r#"Example:
  signet tree registry.example.com/app:v1"#;

const COPY: &str = r#"Examples:
  signet copy registry.example.com/app:v1 mirror.example.com/app:v1
  signet copy registry.example.com/app@sha256:… oci:./app-layout:v1
  signet copy --only sig,att registry.example.com/app:v1 mirror.example.com/app"#;

const SAVE: &str = r#"Example:
  signet save registry.example.com/app:v1 --dir ./app-layout"#;

const LOAD: &str = r#"Example:
  signet load --dir ./app-layout mirror.example.com/app:v1"#;

const VERIFY_VSA: &str = r#"A VSA is verified by its verifier's public key, as slsa-verifier's verify-vsa does, or, signed
keylessly (verify --vsa-keyless), by the verifier's certificate identity and issuer against the
trusted root.

Examples:
  signet verify-vsa --attestation-path vsa.jsonl --subject-digest sha256:… \
    --verifier-id https://example.com/verifier --resource-uri docker://registry.example.com/app@sha256:… \
    --verified-levels SLSA_BUILD_LEVEL_2 --public-key-path verifier.pub
  signet verify-vsa --attestation-path vsa.jsonl --subject-digest sha256:… \
    --verifier-id https://example.com/verifier --resource-uri docker://registry.example.com/app@sha256:… \
    --certificate-identity https://github.com/acme/release/.github/workflows/gate.yml@refs/heads/main \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com"#;

const POLICY_LINT: &str = r#"Example:
  signet policy lint policy.yaml"#;

const POLICY_EXPLAIN: &str = r#"Examples:
  signet policy explain policy.yaml registry.example.com/app@sha256:…
  signet policy explain /etc/containers/policy.json registry.example.com/app@sha256:…"#;

const INITIALIZE: &str = r#"Examples:
  signet initialize                                    # Sigstore's public-good instance
  signet initialize --mirror https://tuf.example --root root.json"#;

const CONFORMANCE_SIGN_BUNDLE: &str = r#"Example:
  signet conformance sign-bundle --identity-token "$TOKEN" --bundle file.sigstore.json file"#;

const CONFORMANCE_VERIFY_BUNDLE: &str = r#"Examples:
  signet conformance verify-bundle --bundle file.sigstore.json --certificate-identity me@example.com \
    --certificate-oidc-issuer https://accounts.google.com file
  signet conformance verify-bundle --bundle file.sigstore.json --key key.pub sha256:<hex>"#;

const DOWNLOAD: &str = r#"Examples:
  signet download signature IMAGE
  signet download sbom IMAGE > sbom.spdx.json"#;

const DOWNLOAD_ATTESTATION: &str = r#"Example:
  signet download attestation --predicate-type slsaprovenance IMAGE"#;

/// The deadline of a command that reaches network services without a registry (TUF, Rekor,
/// Fulcio, a timestamp authority).
#[derive(Debug, Clone, Args)]
pub(crate) struct DeadlineArgs {
    /// Give up after this long (e.g. 30s, 3m); a verification that times out could not
    /// decide (exit 2).
    #[arg(long, default_value = "3m", value_name = "DURATION")]
    pub(crate) timeout: String,
}
