//! Real Notary Project signatures from the public test suites of notation-go, notation-core-go
//! and the notation CLI (tests/data/notation, README there), verified with the outcomes those
//! suites expect.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use signet_notation::policy::{Action, StoreRef, TrustedIdentities, VerificationLevel};
use signet_notation::{
    EnvelopeFormat, Limits, NotationCheck, SigningScheme, Statement, TargetArtifact,
    TrustPolicyDocument, TrustStore, Validation, VerifiedSignature, VerifyOptions, verify_envelope,
};

macro_rules! data {
    ($path:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/notation/",
            $path
        ))
        .as_slice()
    };
}

const NOTATION_TEST_ROOT: &[u8] =
    data!("notation-go/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem");
const GLOBALSIGN_R3: &[u8] =
    data!("notation-go/truststore/x509/ca/valid-trust-store-2/GlobalSignRootCA.crt");
const ALPINE: &[u8] = data!("notation-go/truststore/x509/ca/valid-trust-store/TestTimestamp.crt");
const GLOBALSIGN_TSA_ROOT: &[u8] =
    data!("notation-go/truststore/x509/tsa/test-timestamp/globalsignRoot.cer");
const DIGICERT_TSA_ROOT: &[u8] =
    data!("notation-go/truststore/x509/tsa/test-mismatch/DigiCertTSARootSHA384.cer");
const E2E_CERT: &[u8] = data!("notation-e2e/localkeys/e2e.crt");
const NEW_E2E_CERT: &[u8] = data!("notation-e2e/localkeys/new_e2e.crt");
const EXPIRED_E2E_CERT: &[u8] = data!("notation-e2e/localkeys/expired_e2e.crt");

fn at(rfc3339: &str) -> SystemTime {
    let secs = rfc3339
        .parse::<jiff::Timestamp>()
        .unwrap_or_else(|e| panic!("{e}"))
        .as_second();
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

fn store(name: &str) -> StoreRef {
    StoreRef::parse(name).unwrap_or_else(|e| panic!("{e}"))
}

fn trust(files: &[(&str, &[u8])]) -> TrustStore {
    let mut t = TrustStore::new();
    for (i, (name, bytes)) in files.iter().enumerate() {
        t.add_file(&store(name), &format!("file{i}"), bytes);
    }
    t
}

fn statement(level: VerificationLevel, stores: &[&str], identities: &[&str]) -> Statement {
    let identities: Vec<String> = identities.iter().map(|s| (*s).to_owned()).collect();
    Statement::new(
        "test-statement",
        level,
        stores.iter().map(|s| store(s)).collect(),
        TrustedIdentities::parse(&identities).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn level(name: &str) -> VerificationLevel {
    VerificationLevel::named(name).unwrap_or_else(|| panic!("{name}"))
}

/// The artifact notation-go's mock envelopes sign (`mock.ImageDescriptor`).
fn mock_target() -> TargetArtifact {
    TargetArtifact {
        media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
        digest: "sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e"
            .parse()
            .unwrap_or_else(|e| panic!("{e}")),
        size: 528,
    }
}

/// The image of the notation e2e OCI layouts.
fn e2e_target() -> TargetArtifact {
    TargetArtifact {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"
            .parse()
            .unwrap_or_else(|e| panic!("{e}")),
        size: 517,
    }
}

struct Case<'a> {
    format: EnvelopeFormat,
    envelope: &'a [u8],
    statement: Statement,
    trust: TrustStore,
    target: TargetArtifact,
    annotations: BTreeMap<String, String>,
    now: SystemTime,
}

impl Case<'_> {
    fn run(&self) -> Result<VerifiedSignature, signet_notation::NotationFailure> {
        verify_envelope(
            self.format,
            self.envelope,
            &VerifyOptions {
                statement: &self.statement,
                trust_store: &self.trust,
                target: &self.target,
                required_annotations: &self.annotations,
                now: self.now,
                limits: Limits::default(),
            },
        )
    }

    fn passes(&self) -> VerifiedSignature {
        self.run().unwrap_or_else(|e| panic!("{e}: {}", e.detail()))
    }

    fn fails(&self) -> NotationCheck {
        match self.run() {
            Ok(v) => panic!("verified, logged {:?}", v.logged()),
            Err(e) => e.check(),
        }
    }
}

/// notation-go's `dummyOCIPolicyDocument`: strict, `ca:valid-trust-store` and
/// `signingAuthority:valid-trust-store` (the Notation Test Root), the root's subject trusted.
fn mock_case(envelope: &[u8]) -> Case<'_> {
    Case {
        format: EnvelopeFormat::Jws,
        envelope,
        statement: statement(
            level("strict"),
            &["ca:valid-trust-store", "signingAuthority:valid-trust-store"],
            &["x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US"],
        ),
        trust: trust(&[
            ("ca:valid-trust-store", NOTATION_TEST_ROOT),
            ("signingAuthority:valid-trust-store", NOTATION_TEST_ROOT),
        ]),
        target: mock_target(),
        annotations: BTreeMap::new(),
        now: at("2025-06-01T00:00:00Z"),
    }
}

const CA_VALID: &[u8] = data!("notation-go/mock/ca_valid_sig_env.json");
const SA_VALID: &[u8] = data!("notation-go/mock/sa_valid_sig_env.json");

#[test]
fn notation_go_valid_envelopes_verify_under_both_signing_schemes() {
    let ca = mock_case(CA_VALID).passes();
    assert_eq!(ca.scheme(), SigningScheme::X509);
    assert_eq!(
        ca.signer(),
        "CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US"
    );
    assert_eq!(ca.chain_sha256().len(), 2);
    assert!(ca.logged().is_empty());
    let sa = mock_case(SA_VALID).passes();
    assert_eq!(sa.scheme(), SigningScheme::X509SigningAuthority);
    assert_eq!(sa.signing_time(), at("2020-11-09T07:00:00Z"));
}

#[test]
fn a_tampered_payload_fails_integrity_at_every_level() {
    for envelope in [
        data!("notation-go/mock/ca_invalid_sig_env.json"),
        data!("notation-go/mock/sa_invalid_sig_env.json"),
    ] {
        for name in ["strict", "permissive", "audit"] {
            let mut case = mock_case(envelope);
            case.statement = statement(
                level(name),
                &["ca:valid-trust-store", "signingAuthority:valid-trust-store"],
                &["*"],
            );
            let check = case.fails();
            assert_eq!(
                check.validation(),
                Validation::Integrity,
                "{name}: {check:?}"
            );
        }
    }
}

#[test]
fn an_expired_signature_fails_strict_and_is_logged_by_permissive_and_audit() {
    for envelope in [
        data!("notation-go/mock/ca_expired_sig_env.json"),
        data!("notation-go/mock/sa_expired_sig_env.json"),
    ] {
        assert_eq!(mock_case(envelope).fails(), NotationCheck::Expiry);
        for name in ["permissive", "audit"] {
            let mut case = mock_case(envelope);
            case.statement = statement(
                level(name),
                &["ca:valid-trust-store", "signingAuthority:valid-trust-store"],
                &["*"],
            );
            let logged: Vec<NotationCheck> =
                case.passes().logged().iter().map(|f| f.check()).collect();
            assert_eq!(logged, [NotationCheck::Expiry], "{name}");
        }
        let mut overridden = mock_case(envelope);
        overridden.statement = statement(
            level("strict")
                .with_override(Validation::Expiry, Action::Log)
                .unwrap_or_else(|e| panic!("{e}")),
            &["ca:valid-trust-store", "signingAuthority:valid-trust-store"],
            &["*"],
        );
        assert_eq!(overridden.passes().level(), "custom");
    }
}

#[test]
fn an_untrusted_chain_fails_authenticity_unless_audit_logs_it() {
    let mut case = mock_case(CA_VALID);
    case.trust = trust(&[("ca:valid-trust-store", GLOBALSIGN_R3)]);
    assert_eq!(case.fails(), NotationCheck::TrustStore);
    case.statement = statement(level("audit"), &["ca:valid-trust-store"], &["*"]);
    let logged: Vec<NotationCheck> = case.passes().logged().iter().map(|f| f.check()).collect();
    assert_eq!(logged, [NotationCheck::TrustStore]);
}

#[test]
fn a_missing_trust_store_or_one_of_the_wrong_type_fails_authenticity() {
    let mut case = mock_case(CA_VALID);
    case.trust = TrustStore::new();
    assert_eq!(case.fails(), NotationCheck::TrustStore);
    // A notary.x509.signingAuthority signature needs a signingAuthority store, not a ca one.
    let mut sa = mock_case(SA_VALID);
    sa.statement = statement(level("strict"), &["ca:valid-trust-store"], &["*"]);
    sa.trust = trust(&[("ca:valid-trust-store", NOTATION_TEST_ROOT)]);
    assert_eq!(sa.fails(), NotationCheck::TrustStore);
}

#[test]
fn a_signer_outside_the_trusted_identities_fails_authenticity() {
    let mut case = mock_case(CA_VALID);
    case.statement = statement(
        level("strict"),
        &["ca:valid-trust-store"],
        &["x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN"],
    );
    assert_eq!(case.fails(), NotationCheck::TrustedIdentity);
    // A partial subject matches.
    case.statement = statement(
        level("strict"),
        &["ca:valid-trust-store"],
        &["x509.subject: C=US, ST=WA, O=Notary"],
    );
    case.passes();
}

#[test]
fn an_unknown_critical_header_naming_a_verification_plugin_is_refused() {
    let case = mock_case(data!("notation-go/mock/ca_plugin_sig_env.json"));
    assert_eq!(case.fails(), NotationCheck::CriticalHeaders);
}

#[test]
fn another_artifact_or_a_missing_annotation_fails_after_every_validation() {
    let mut case = mock_case(CA_VALID);
    case.target.digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(case.fails(), NotationCheck::TargetArtifact);
    let mut size = mock_case(CA_VALID);
    size.target.size = 529;
    assert_eq!(size.fails(), NotationCheck::TargetArtifact);

    // sig_env_with_metadata: a single self-signed certificate, valid for one day in 2023,
    // and signed annotations.
    let envelope = data!("notation-go/mock/sig_env_with_metadata.json");
    let leaf = leaf_of(envelope);
    let mut metadata = Case {
        format: EnvelopeFormat::Jws,
        envelope,
        statement: statement(level("strict"), &["ca:self"], &["*"]),
        trust: trust(&[("ca:self", &leaf)]),
        target: TargetArtifact {
            media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
            digest: "sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            size: 942,
        },
        annotations: [("io.wabbit-networks.buildId".to_owned(), "123".to_owned())].into(),
        now: at("2023-01-11T12:00:00Z"),
    };
    let verified = metadata.passes();
    assert_eq!(verified.descriptor().annotations.len(), 2);
    metadata.annotations = [("io.wabbit-networks.buildId".to_owned(), "124".to_owned())].into();
    assert_eq!(metadata.fails(), NotationCheck::Annotations);
    // The same certificate a year later: no timestamp, so it must be valid now.
    metadata.annotations = BTreeMap::new();
    metadata.now = at("2024-01-11T12:00:00Z");
    assert_eq!(metadata.fails(), NotationCheck::CertificateValidity);
}

/// The signing certificate of a JWS envelope, DER.
fn leaf_of(envelope: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let json: serde_json::Value =
        serde_json::from_slice(envelope).unwrap_or_else(|e| panic!("{e}"));
    let first = json["header"]["x5c"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no x5c"));
    base64::engine::general_purpose::STANDARD
        .decode(first)
        .unwrap_or_else(|e| panic!("{e}"))
}

const JWS_WITH_TIMESTAMP: &[u8] = data!("notation-go/timestamp/sigEnv/jwsWithTimestamp.sig");
const COSE_WITH_TIMESTAMP: &[u8] = data!("notation-go/timestamp/sigEnv/coseWithTimestamp.sig");

/// notation-go's TestAuthenticTimestamp policy: strict, `ca:valid-trust-store` and the
/// GlobalSign TSA root, any identity, verifyTimestamp always.
fn timestamp_case(format: EnvelopeFormat, envelope: &[u8], leaf: &[u8]) -> Case<'static> {
    let envelope: &'static [u8] = Box::leak(envelope.to_vec().into_boxed_slice());
    Case {
        format,
        envelope,
        statement: statement(
            level("strict"),
            &["ca:valid-trust-store", "tsa:test-timestamp"],
            &["*"],
        ),
        trust: trust(&[
            ("ca:valid-trust-store", leaf),
            ("ca:valid-trust-store", NOTATION_TEST_ROOT),
            ("tsa:test-timestamp", GLOBALSIGN_TSA_ROOT),
        ]),
        target: TargetArtifact {
            media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
            digest: "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            size: 528,
        },
        annotations: BTreeMap::new(),
        now: at("2025-06-01T00:00:00Z"),
    }
}

fn skip_revocation(mut case: Case<'static>) -> Case<'static> {
    let stores: Vec<String> = case
        .statement
        .trust_stores()
        .iter()
        .map(ToString::to_string)
        .collect();
    let stores: Vec<&str> = stores.iter().map(String::as_str).collect();
    case.statement = statement(
        level("strict")
            .with_override(Validation::Revocation, Action::Skip)
            .unwrap_or_else(|e| panic!("{e}")),
        &stores,
        &["*"],
    );
    case
}

#[test]
fn globalsign_timestamps_verify_in_both_formats_and_strict_refuses_what_it_cannot_revocation_check()
{
    for (format, envelope) in [
        (EnvelopeFormat::Jws, JWS_WITH_TIMESTAMP),
        (EnvelopeFormat::Cose, COSE_WITH_TIMESTAMP),
    ] {
        // The GlobalSign TSA certificates name OCSP responders and CRLs: strict enforces the
        // revocation check, which cannot run offline.
        let strict = timestamp_case(format, envelope, ALPINE);
        assert_eq!(strict.fails(), NotationCheck::Revocation, "{format:?}");
        let verified = skip_revocation(timestamp_case(format, envelope, ALPINE)).passes();
        // The stamped time is within seconds of the time the signer claims.
        let stamped = verified
            .timestamp()
            .unwrap_or_else(|| panic!("no timestamp"));
        let gap = stamped
            .duration_since(verified.signing_time())
            .unwrap_or_else(|e| e.duration());
        assert!(gap < Duration::from_secs(60), "{format:?}: {gap:?}");
    }
}

#[test]
fn a_timestamp_lets_an_expired_signing_certificate_verify() {
    for (format, envelope) in [
        (
            EnvelopeFormat::Jws,
            data!("notation-go/timestamp/sigEnv/jwsExpiredWithTimestamp.sig"),
        ),
        (
            EnvelopeFormat::Cose,
            data!("notation-go/timestamp/sigEnv/coseExpiredWithTimestamp.sig"),
        ),
    ] {
        let leaf = leaf_der(format, envelope);
        skip_revocation(timestamp_case(format, envelope, &leaf)).passes();
        // Without a tsa store the certificate must be valid now, and it expired in 2024.
        let mut no_tsa = skip_revocation(timestamp_case(format, envelope, &leaf));
        no_tsa.statement = statement(
            level("strict")
                .with_override(Validation::Revocation, Action::Skip)
                .unwrap_or_else(|e| panic!("{e}")),
            &["ca:valid-trust-store"],
            &["*"],
        );
        assert_eq!(no_tsa.fails(), NotationCheck::CertificateValidity);
    }
}

#[test]
fn a_timestamp_outside_the_certificate_validity_fails_the_authentic_timestamp() {
    for (format, envelope) in [
        (
            EnvelopeFormat::Jws,
            data!("notation-go/timestamp/sigEnv/timestampBeforeNotBefore.sig"),
        ),
        (
            EnvelopeFormat::Cose,
            data!("notation-go/timestamp/sigEnv/timestampAfterNotAfter.sig"),
        ),
    ] {
        let leaf = leaf_der(format, envelope);
        let case = skip_revocation(timestamp_case(format, envelope, &leaf));
        assert_eq!(
            case.fails(),
            NotationCheck::CertificateValidity,
            "{format:?}"
        );
    }
}

#[test]
fn a_missing_or_untrusted_timestamp_fails_when_a_tsa_store_is_configured() {
    let without = skip_revocation(timestamp_case(
        EnvelopeFormat::Jws,
        data!("notation-go/timestamp/sigEnv/withoutTimestamp.sig"),
        ALPINE,
    ));
    assert_eq!(without.fails(), NotationCheck::Timestamp);
    let mut mismatch = skip_revocation(timestamp_case(
        EnvelopeFormat::Cose,
        COSE_WITH_TIMESTAMP,
        ALPINE,
    ));
    mismatch.trust = trust(&[
        ("ca:valid-trust-store", ALPINE),
        ("tsa:test-timestamp", DIGICERT_TSA_ROOT),
    ]);
    assert_eq!(mismatch.fails(), NotationCheck::Timestamp);
    // Permissive logs it.
    let mut permissive = timestamp_case(
        EnvelopeFormat::Jws,
        data!("notation-go/timestamp/sigEnv/withoutTimestamp.sig"),
        ALPINE,
    );
    permissive.statement = statement(
        level("permissive"),
        &["ca:valid-trust-store", "tsa:test-timestamp"],
        &["*"],
    );
    let logged: Vec<NotationCheck> = permissive
        .passes()
        .logged()
        .iter()
        .map(|f| f.check())
        .collect();
    assert_eq!(logged, [NotationCheck::Timestamp]);
}

#[test]
fn notation_go_countersignature_fixtures_fail_as_timestamps() {
    for token in [
        data!("notation-go/timestamp/countersignature/TimeStampTokenWithInvalideContentType.p7s"),
        data!("notation-go/timestamp/countersignature/TimeStampTokenWithInvalidTSTInfo.p7s"),
        data!("notation-go/timestamp/countersignature/TimeStampToken.p7s"),
        data!("notation-go/timestamp/countersignature/TimeStampTokenWithoutCertificate.p7s"),
    ] {
        // The timestamp is unsigned: it can be swapped into a valid envelope.
        let envelope = with_timestamp(
            data!("notation-go/timestamp/sigEnv/withoutTimestamp.sig"),
            token,
        );
        let case = skip_revocation(timestamp_case(EnvelopeFormat::Jws, &envelope, ALPINE));
        assert_eq!(case.fails(), NotationCheck::Timestamp);
    }
}

#[test]
fn a_timestamp_that_is_not_der_names_the_step_and_keeps_the_der_error_as_cause() {
    let envelope = with_timestamp(
        data!("notation-go/timestamp/sigEnv/withoutTimestamp.sig"),
        b"\x30\x05\x02\x01",
    );
    let case = skip_revocation(timestamp_case(EnvelopeFormat::Jws, &envelope, ALPINE));
    let failure = case
        .run()
        .map(|_| ())
        .expect_err("a truncated token verified");
    assert_eq!(failure.check(), NotationCheck::Timestamp);
    let detail = std::error::Error::source(&failure).unwrap_or_else(|| panic!("no detail"));
    assert_eq!(detail.to_string(), "the token is not CMS (DER)");
    let cause = detail
        .source()
        .and_then(|c| c.downcast_ref::<der::Error>())
        .unwrap_or_else(|| panic!("the DER error is not kept: {detail:?}"));
    assert_eq!(
        failure.detail(),
        format!("the token is not CMS (DER): {cause}")
    );
}

fn with_timestamp(envelope: &[u8], token: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let mut json: serde_json::Value =
        serde_json::from_slice(envelope).unwrap_or_else(|e| panic!("{e}"));
    json["header"]["io.cncf.notary.timestampSignature"] = base64::engine::general_purpose::STANDARD
        .encode(token)
        .into();
    json.to_string().into_bytes()
}

fn leaf_der(format: EnvelopeFormat, envelope: &[u8]) -> Vec<u8> {
    match format {
        EnvelopeFormat::Jws => leaf_of(envelope),
        _ => cose_leaf(envelope),
    }
}

/// The first certificate of a COSE envelope's x5chain, found by its DER header (the tests
/// do not need a CBOR decoder for this).
fn cose_leaf(envelope: &[u8]) -> Vec<u8> {
    // x5chain is label 33 (0x18 0x21), then an array (0x8N), then a byte string of 2-byte
    // length (0x59 len len) holding a DER SEQUENCE (0x30 0x82).
    let start = envelope
        .windows(4)
        .position(|w| w[0] == 0x18 && w[1] == 0x21 && (w[2] & 0xe0) == 0x80 && w[3] == 0x59)
        .unwrap_or_else(|| panic!("no x5chain"));
    let len_at = start + 4;
    let len = usize::from(envelope[len_at]) << 8 | usize::from(envelope[len_at + 1]);
    envelope[len_at + 2..len_at + 2 + len].to_vec()
}

const E2E_VALID: &[u8] = data!(
    "notation-e2e/oci_layout/e2e-valid-signature/blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50"
);

fn e2e_case(envelope: &[u8], cert: &[u8], policy: &str) -> Case<'static> {
    let envelope: &'static [u8] = Box::leak(envelope.to_vec().into_boxed_slice());
    let document = TrustPolicyDocument::parse(policy.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let statement = document
        .statement_for("localhost:5000/e2e")
        .cloned()
        .unwrap_or_else(|| panic!("no statement"));
    Case {
        format: EnvelopeFormat::Jws,
        envelope,
        statement,
        trust: trust(&[("ca:e2e", cert)]),
        target: e2e_target(),
        annotations: BTreeMap::new(),
        now: at("2025-06-01T00:00:00Z"),
    }
}

const E2E_POLICY: &str =
    include_str!("../../../tests/data/notation/notation-e2e/trustpolicies/trustpolicy.json");
const E2E_PERMISSIVE: &str = include_str!(
    "../../../tests/data/notation/notation-e2e/trustpolicies/permissive_trustpolicy.json"
);
const E2E_AUDIT: &str =
    include_str!("../../../tests/data/notation/notation-e2e/trustpolicies/audit_trustpolicy.json");

#[test]
fn the_notation_e2e_suite_verification_level_table() {
    let expired = data!(
        "notation-e2e/oci_layout/e2e-expired-signature/blobs/sha256/b5f927564088f65dad86c81bcdd0b55415a8b4c9a0a5391107210e0cdb305cc7"
    );
    let expired_cert = data!(
        "notation-e2e/oci_layout/e2e-with-expired-cert/blobs/sha256/8513a5ba473f32b78a87518b732700632c05cde0d59d179275c5c5a8096beeed"
    );

    e2e_case(E2E_VALID, E2E_CERT, E2E_POLICY).passes();
    // strict: expired signature, expired certificate, untrusted certificate.
    assert_eq!(
        e2e_case(expired, E2E_CERT, E2E_POLICY).fails(),
        NotationCheck::Expiry
    );
    assert_eq!(
        e2e_case(expired_cert, EXPIRED_E2E_CERT, E2E_POLICY).fails(),
        NotationCheck::CertificateValidity
    );
    assert_eq!(
        e2e_case(E2E_VALID, NEW_E2E_CERT, E2E_POLICY).fails(),
        NotationCheck::TrustStore
    );
    // permissive: expiry and the authentic timestamp logged, authenticity enforced.
    let logged = |case: Case<'_>| -> Vec<NotationCheck> {
        case.passes().logged().iter().map(|f| f.check()).collect()
    };
    assert_eq!(
        logged(e2e_case(expired, E2E_CERT, E2E_PERMISSIVE)),
        [NotationCheck::Expiry]
    );
    assert_eq!(
        logged(e2e_case(expired_cert, EXPIRED_E2E_CERT, E2E_PERMISSIVE)),
        [NotationCheck::CertificateValidity]
    );
    assert_eq!(
        e2e_case(E2E_VALID, NEW_E2E_CERT, E2E_PERMISSIVE).fails(),
        NotationCheck::TrustStore
    );
    // audit: authenticity logged too.
    assert_eq!(
        logged(e2e_case(E2E_VALID, NEW_E2E_CERT, E2E_AUDIT)),
        [NotationCheck::TrustStore]
    );
}

#[test]
fn notation_e2e_trust_policies_load_or_fail_as_notation_says() {
    let load = |json: &str| TrustPolicyDocument::parse(json.as_bytes()).map(|_| ());
    for ok in [
        E2E_POLICY,
        E2E_PERMISSIVE,
        E2E_AUDIT,
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/override_strict_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/timestamp_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/skip_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/multiple_registry_scope_trustpolicy.json"
        ),
    ] {
        load(ok).unwrap_or_else(|e| panic!("{e}\n{ok}"));
    }
    for bad in [
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/invalid_format_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/empty_registry_scope_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/malformed_registry_scope_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/malformed_trust_store_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/malformed_trusted_identity_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/missing_country_trusted_identity_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/missing_organization_trusted_identity_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/missing_state_trusted_identity_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/multi_statements_with_the_same_name_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/multi_statements_with_the_same_registry_scope_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/overlapped_trusted_identity_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/override_integrity_for_permissive_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/wildcard_plus_other_registry_scope_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/wildcard_plus_other_trusted_identity_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/unset_trust_store_trustpolicy.json"
        ),
        include_str!(
            "../../../tests/data/notation/notation-e2e/trustpolicies/unset_trusted_identity_trustpolicy.json"
        ),
    ] {
        assert!(load(bad).is_err(), "loaded:\n{bad}");
    }
}

#[test]
fn the_microsoft_timestamped_e2e_signature_verifies_inside_its_certificate_day() {
    // testcert7 is valid for one day (2025-01-21/22); the signature expires at 12:39 that day.
    let envelope = data!(
        "notation-e2e/oci_layout/e2e-with-timestamped-signature/blobs/sha256/603ff134e97a79cd7a15560b76137c2c4a10451daab11327a7c6f86dac250fee"
    );
    let leaf = leaf_of(envelope);
    let mut case = Case {
        format: EnvelopeFormat::Jws,
        envelope,
        statement: statement(
            level("strict"),
            &["ca:e2e"],
            &["x509.subject: C=US, ST=WA, O=Notary, CN=testcert7"],
        ),
        trust: trust(&[("ca:e2e", &leaf)]),
        target: TargetArtifact {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: "sha256:53b0191218aed9a3c1f7c661736ac40cfc8eb928642348fd843ba3f0483c0c20"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            size: 582,
        },
        annotations: [("purpose".to_owned(), "e2e".to_owned())].into(),
        now: at("2025-01-21T10:00:00Z"),
    };
    case.passes();
    case.now = at("2025-01-21T13:00:00Z");
    assert_eq!(case.fails(), NotationCheck::Expiry);
}
