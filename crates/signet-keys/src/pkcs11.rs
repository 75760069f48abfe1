//! Keys on PKCS#11 tokens (HSMs, smart cards, SoftHSM), named by Cosign's URIs:
//! `pkcs11:token=LABEL;object=KEY?module-path=/path/to/module.so&pin-value=1234`.
//!
//! The URI is read as Cosign reads it (`pkg/cosign/pkcs11key`): path attributes `token`,
//! `slot-id`, `object`, `id` (`;`-separated), query attributes `module-path` and `pin-value`,
//! percent-decoded; one of `token`/`slot-id` and one of `object`/`id` is required, `slot-id`
//! wins over `token` and `id` over `object`. Without `module-path`, `COSIGN_PKCS11_MODULE_PATH`
//! names the module; without `pin-value`, `COSIGN_PKCS11_PIN`, then a prompt if the token
//! needs a login.
//!
//! As Cosign (crypto11), a token key signs a SHA-256 digest whatever its curve: ECDSA with
//! `CKM_ECDSA` over the digest (the token's `r || s` turned into DER), RSA with
//! `CKM_RSA_PKCS` over the `DigestInfo`. The private key never leaves the token; each
//! signature is checked against the token's public key before it is handed out.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use signet_core::digest::{DigestAlgorithm, MessageDigest};
use signet_core::keys::{KeyKind, PublicKey};

use crate::error::Error;
use crate::key::{BoxFuture, SigningKey};
use crate::options::{KeyOptions, Pin};
use crate::text::{percent_decode, truncate};

/// The prefix of a PKCS#11 URI.
pub const SCHEME: &str = "pkcs11:";
pub use crate::options::{MODULE_PATH_ENV, PIN_ENV};

/// The DER OID of NIST P-256, the curve `generate-key-pair` creates keys on.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A parsed PKCS#11 URI. Prints without its PIN.
pub struct Pkcs11Uri {
    token: Option<String>,
    slot_id: Option<u64>,
    object: Option<Vec<u8>>,
    id: Option<Vec<u8>>,
    module_path: Option<PathBuf>,
    pin: Option<Pin>,
    /// The URI as given, `pin-value` redacted.
    redacted: String,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Uri({})", self.redacted)
    }
}

impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl Pkcs11Uri {
    /// Reads a `pkcs11:` URI as Cosign does.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let body = text.strip_prefix(SCHEME).unwrap_or(text);
        let (path, query) = body.split_once('?').unwrap_or((body, ""));
        let path_attributes = attributes(path);
        let query_attributes = attributes(query);
        let redacted = redact(text, &query_attributes);
        let invalid = |reason: String| Error::InvalidReference {
            reference: redacted.clone(),
            reason,
        };
        let get = |list: &[(String, String)], name: &str| -> Result<Option<Vec<u8>>, Error> {
            // As Go's url.Values.Get: the first value; an empty one counts as absent.
            match list.iter().find(|(key, _)| key == name) {
                Some((_, value)) if !value.is_empty() => percent_decode(value)
                    .map(Some)
                    .map_err(|e| invalid(format!("{name}: {e}"))),
                _ => Ok(None),
            }
        };
        let text_of = |bytes: Vec<u8>, name: &str| {
            String::from_utf8(bytes).map_err(|_| invalid(format!("{name} is not UTF-8")))
        };
        let token = get(&path_attributes, "token")?
            .map(|t| text_of(t, "token"))
            .transpose()?;
        let slot_id = match get(&path_attributes, "slot-id")? {
            Some(slot) => {
                let slot = text_of(slot, "slot-id")?;
                Some(slot.parse::<u64>().map_err(|_| {
                    invalid(format!(
                        "slot-id {:?} is not a valid number",
                        truncate(&slot, 30)
                    ))
                })?)
            }
            None => None,
        };
        let object = get(&path_attributes, "object")?;
        let id = get(&path_attributes, "id")?;
        let module_path = get(&query_attributes, "module-path")?
            .map(|p| text_of(p, "module-path").map(PathBuf::from))
            .transpose()?;
        let pin = get(&query_attributes, "pin-value")?
            .map(|p| text_of(p, "pin-value").map(Pin::new))
            .transpose()?;
        if token.is_none() && slot_id.is_none() {
            return Err(invalid("one of token and slot-id must be set".to_owned()));
        }
        if object.is_none() && id.is_none() {
            return Err(invalid("one of object and id must be set".to_owned()));
        }
        Ok(Self {
            token,
            slot_id,
            object,
            id,
            module_path,
            pin,
            redacted,
        })
    }

    /// The token, for messages: `"label"` or `slot N`.
    fn token_name(&self) -> String {
        match (self.slot_id, &self.token) {
            (Some(slot), _) => format!("slot {slot}"),
            (None, Some(label)) => format!("{label:?}"),
            (None, None) => "?".to_owned(),
        }
    }

    /// The key, for messages: `object "label"`, `id 0a1b`.
    fn object_name(&self) -> String {
        let mut parts = Vec::new();
        if let Some(label) = &self.object {
            parts.push(format!("object {:?}", String::from_utf8_lossy(label)));
        }
        if let Some(id) = &self.id {
            parts.push(format!(
                "id {}",
                id.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ));
        }
        parts.join(" ")
    }

    /// The attributes that select the key: `id` if given (Cosign's priority), else the label.
    fn selector(&self) -> Attribute {
        match (&self.id, &self.object) {
            (Some(id), _) => Attribute::Id(id.clone()),
            (None, Some(label)) => Attribute::Label(label.clone()),
            (None, None) => Attribute::Label(Vec::new()),
        }
    }
}

/// `a=b;c=d` (or `&`-separated) as pairs, keys percent-decoded lossily; values stay encoded
/// until asked for.
fn attributes(text: &str) -> Vec<(String, String)> {
    text.split([';', '&'])
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key)
                .map(|k| String::from_utf8_lossy(&k).into_owned())
                .unwrap_or_else(|_| key.to_owned());
            (key, value.to_owned())
        })
        .collect()
}

/// The URI with the value of every `pin-value` replaced.
fn redact(text: &str, query: &[(String, String)]) -> String {
    if !query.iter().any(|(key, _)| key == "pin-value") {
        return text.to_owned();
    }
    let (head, query_text) = text.split_once('?').unwrap_or((text, ""));
    let redacted: Vec<String> = query_text
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if percent_decode(key).ok().as_deref() == Some(b"pin-value") => {
                format!("{key}=REDACTED")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{head}?{}", redacted.join("&"))
}

/// A module loaded and initialized, and the slot of the token the URI names.
struct Token {
    context: Pkcs11,
    slot: Slot,
    name: String,
    module: PathBuf,
}

impl Token {
    fn open(uri: &Pkcs11Uri, options: &KeyOptions<'_>) -> Result<Self, Error> {
        let module = uri
            .module_path
            .clone()
            .or_else(|| options.pkcs11_module_path.clone())
            .ok_or_else(|| Error::InvalidReference {
                reference: uri.redacted.clone(),
                reason: format!(
                    "module-path or {MODULE_PATH_ENV} must be set to the absolute path of the PKCS#11 module"
                ),
            })?;
        check_module(uri, &module)?;
        let context = Pkcs11::new(&module).map_err(|source| Error::Pkcs11Module {
            path: module.clone(),
            source,
        })?;
        match context.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(source) => {
                return Err(Error::Pkcs11Module {
                    path: module,
                    source,
                });
            }
        }
        let name = uri.token_name();
        let step = |step| {
            let name = name.clone();
            move |source| Error::Pkcs11 {
                token: name,
                step,
                source,
            }
        };
        let slots = context
            .get_slots_with_token()
            .map_err(step("listing the slots"))?;
        let mut found = None;
        for slot in slots {
            let matches = match (uri.slot_id, &uri.token) {
                (Some(id), _) => slot.id() == id,
                (None, Some(label)) => {
                    context
                        .get_token_info(slot)
                        .map_err(step("reading the token information"))?
                        .label()
                        == label
                }
                (None, None) => false,
            };
            if matches {
                found = Some(slot);
                break;
            }
        }
        let slot = found.ok_or_else(|| Error::TokenNotFound {
            token: name.clone(),
            module: module.clone(),
        })?;
        Ok(Self {
            context,
            slot,
            name,
            module,
        })
    }

    fn error(&self, step: &'static str) -> impl Fn(CkError) -> Error + '_ {
        move |source| match source {
            CkError::Pkcs11(RvError::TokenNotPresent | RvError::DeviceRemoved, _) => {
                Error::TokenNotFound {
                    token: self.name.clone(),
                    module: self.module.clone(),
                }
            }
            source => Error::Pkcs11 {
                token: self.name.clone(),
                step,
                source,
            },
        }
    }

    /// Logs `session` in with the PIN from the URI, the options, or the prompt (only if the
    /// token needs one and `prompt` is allowed).
    fn login(
        &self,
        session: &Session,
        uri: &Pkcs11Uri,
        options: &KeyOptions<'_>,
        prompt: bool,
    ) -> Result<(), Error> {
        let prompted;
        let pin = match uri.pin.as_ref().or(options.pkcs11_pin.as_ref()) {
            Some(pin) => pin,
            None => {
                let info = self
                    .context
                    .get_token_info(self.slot)
                    .map_err(self.error("reading the token information"))?;
                if !info.login_required() {
                    return Ok(());
                }
                match options.pin_prompt {
                    Some(ask) if prompt => {
                        prompted = ask(info.label()).map_err(|_| Error::PinRequired {
                            token: self.name.clone(),
                        })?;
                        &prompted
                    }
                    _ => {
                        return Err(Error::PinRequired {
                            token: self.name.clone(),
                        });
                    }
                }
            }
        };
        let secret = AuthPin::from(pin.expose().to_owned());
        match session.login(UserType::User, Some(&secret)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                Err(Error::WrongPin {
                    token: self.name.clone(),
                })
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Error::PinLocked {
                token: self.name.clone(),
            }),
            Err(source) => Err(self.error("logging in")(source)),
        }
    }

    /// The objects of `class` the URI selects.
    fn find(
        &self,
        session: &Session,
        uri: &Pkcs11Uri,
        class: ObjectClass,
    ) -> Result<Vec<ObjectHandle>, Error> {
        session
            .find_objects(&[Attribute::Class(class), uri.selector()])
            .map_err(self.error("searching for the key"))
    }

    /// The one object of `class` the URI selects.
    fn find_one(
        &self,
        session: &Session,
        uri: &Pkcs11Uri,
        class: ObjectClass,
        class_name: &'static str,
    ) -> Result<ObjectHandle, Error> {
        let found = self.find(session, uri, class)?;
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::KeyNotFound {
                token: self.name.clone(),
                class: class_name,
                object: uri.object_name(),
            }),
            many => Err(Error::InvalidReference {
                reference: uri.redacted.clone(),
                reason: format!(
                    "{} matches {} {class_name}s on the token; name one by id",
                    uri.object_name(),
                    many.len()
                ),
            }),
        }
    }

    /// The public key of the pair the URI names, read from its public-key object.
    fn public_key(&self, session: &Session, uri: &Pkcs11Uri) -> Result<PublicKey, Error> {
        let handle = self.find_one(session, uri, ObjectClass::PUBLIC_KEY, "public key")?;
        let attributes = session
            .get_attributes(
                handle,
                &[
                    AttributeType::KeyType,
                    AttributeType::EcParams,
                    AttributeType::EcPoint,
                    AttributeType::Modulus,
                    AttributeType::PublicExponent,
                ],
            )
            .map_err(self.error("reading the public key"))?;
        let mut key_type = None;
        let (mut params, mut point, mut modulus, mut exponent) = (None, None, None, None);
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(t) => key_type = Some(t),
                Attribute::EcParams(v) => params = Some(v),
                Attribute::EcPoint(v) => point = Some(v),
                Attribute::Modulus(v) => modulus = Some(v),
                Attribute::PublicExponent(v) => exponent = Some(v),
                _ => {}
            }
        }
        let key = match (key_type, params, point, modulus, exponent) {
            (Some(KeyType::EC), Some(params), Some(point), _, _) => {
                crate::der::ec_public_key(&params, &point)?
            }
            (Some(KeyType::RSA), _, _, Some(modulus), Some(exponent)) => {
                crate::der::rsa_public_key(&modulus, &exponent)?
            }
            (kind, ..) => {
                return Err(Error::UnsupportedKeyType {
                    key: uri.redacted.clone(),
                    kind: kind.map_or_else(|| "unknown".to_owned(), |k| k.to_string()),
                });
            }
        };
        if matches!(key.kind(), KeyKind::Ed25519) {
            return Err(Error::UnsupportedKeyType {
                key: uri.redacted.clone(),
                kind: key.kind().to_string(),
            });
        }
        Ok(key)
    }
}

/// Cosign's checks on the module path: absolute, a regular file.
fn check_module(uri: &Pkcs11Uri, module: &Path) -> Result<(), Error> {
    let reason = if !module.is_absolute() {
        "is not an absolute path"
    } else if !module.is_file() {
        "is not a file"
    } else {
        return Ok(());
    };
    Err(Error::InvalidReference {
        reference: uri.redacted.clone(),
        reason: format!("the PKCS#11 module {} {reason}", module.display()),
    })
}

/// How a token key signs a digest.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    /// `CKM_ECDSA` over the digest.
    Ecdsa,
    /// `CKM_RSA_PKCS` over the `DigestInfo`.
    RsaPkcs1,
}

/// A signing key on a PKCS#11 token, with a logged-in session.
pub struct Pkcs11Key {
    // Declared before the token so the session closes before the module context goes.
    session: Mutex<Session>,
    private: ObjectHandle,
    public: PublicKey,
    scheme: Scheme,
    reference: String,
    token: Token,
}

impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Key({}, {:?})", self.reference, self.public)
    }
}

impl Pkcs11Key {
    /// Opens the token the URI names, logs in, and finds the key pair.
    pub fn open(uri: &Pkcs11Uri, options: &KeyOptions<'_>) -> Result<Self, Error> {
        let token = Token::open(uri, options)?;
        let session = token
            .context
            .open_ro_session(token.slot)
            .map_err(token.error("opening a session"))?;
        token.login(&session, uri, options, true)?;
        let private = token.find_one(&session, uri, ObjectClass::PRIVATE_KEY, "private key")?;
        let public = token.public_key(&session, uri)?;
        let scheme = match public.kind() {
            KeyKind::Rsa { .. } => Scheme::RsaPkcs1,
            _ => Scheme::Ecdsa,
        };
        Ok(Self {
            session: Mutex::new(session),
            private,
            public,
            scheme,
            reference: uri.redacted.clone(),
            token,
        })
    }

    fn sign_now(&self, digest: &MessageDigest) -> Result<Vec<u8>, Error> {
        if digest.algorithm() != DigestAlgorithm::Sha256 {
            return Err(signet_core::Error::UnsupportedKey(format!(
                "PKCS#11 keys sign SHA-256 digests, not {}",
                digest.algorithm().name()
            ))
            .into());
        }
        let (mechanism, data) = match self.scheme {
            Scheme::RsaPkcs1 => (Mechanism::RsaPkcs, crate::der::digest_info(digest)),
            Scheme::Ecdsa => (Mechanism::Ecdsa, digest.as_bytes().to_vec()),
        };
        let raw = {
            let session = self.session.lock().map_err(|_| Error::Pkcs11 {
                token: self.token.name.clone(),
                step: "signing (an earlier signature panicked)",
                source: CkError::InvalidValue,
            })?;
            session
                .sign(&mechanism, self.private, &data)
                .map_err(self.token.error("signing"))?
        };
        let signature = match self.scheme {
            Scheme::RsaPkcs1 => raw,
            Scheme::Ecdsa => {
                crate::der::ecdsa_signature(&raw).map_err(signet_core::Error::Crypto)?
            }
        };
        self.public
            .verify_prehashed(digest, &signature)
            .map_err(|_| Error::SignatureCheck {
                key: self.reference.clone(),
            })?;
        Ok(signature)
    }
}

impl SigningKey for Pkcs11Key {
    fn public_key(&self) -> Result<PublicKey, Error> {
        Ok(self.public.clone())
    }

    fn digest_algorithm(&self) -> Option<DigestAlgorithm> {
        Some(DigestAlgorithm::Sha256)
    }

    fn sign_digest<'a>(
        &'a self,
        digest: &'a MessageDigest,
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(std::future::ready(self.sign_now(digest)))
    }
}

/// The public key the URI names, logging in only with a PIN already at hand.
pub(crate) fn public_key(uri: &Pkcs11Uri, options: &KeyOptions<'_>) -> Result<PublicKey, Error> {
    let token = Token::open(uri, options)?;
    let session = token
        .context
        .open_ro_session(token.slot)
        .map_err(token.error("opening a session"))?;
    if uri.pin.is_some() || options.pkcs11_pin.is_some() {
        token.login(&session, uri, options, false)?;
    }
    token.public_key(&session, uri)
}

/// Creates an ECDSA P-256 key pair on the token, labelled and identified as the URI says.
pub(crate) fn create_key(uri: &Pkcs11Uri, options: &KeyOptions<'_>) -> Result<PublicKey, Error> {
    let token = Token::open(uri, options)?;
    let session = token
        .context
        .open_rw_session(token.slot)
        .map_err(token.error("opening a read-write session"))?;
    token.login(&session, uri, options, true)?;
    for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
        if !token.find(&session, uri, class)?.is_empty() {
            return Err(Error::KeyExists {
                token: token.name.clone(),
                object: uri.object_name(),
            });
        }
    }
    let mut names = Vec::new();
    if let Some(label) = &uri.object {
        names.push(Attribute::Label(label.clone()));
    }
    if let Some(id) = &uri.id {
        names.push(Attribute::Id(id.clone()));
    }
    let mut public_template = vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(P256_PARAMS.to_vec()),
    ];
    public_template.extend(names.iter().cloned());
    let mut private_template = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
    ];
    private_template.extend(names);
    session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &public_template,
            &private_template,
        )
        .map_err(token.error("generating an ECDSA P-256 key pair"))?;
    token.public_key(&session, uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Pkcs11Uri {
        Pkcs11Uri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn cosign_uris_parse() {
        let uri = parse(
            "pkcs11:token=my%20token;slot-id=2;object=key+one;id=%01%02?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
        );
        assert_eq!(uri.token.as_deref(), Some("my token"));
        assert_eq!(uri.slot_id, Some(2));
        assert_eq!(uri.object.as_deref(), Some(&b"key one"[..]));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(
            uri.module_path.as_deref(),
            Some(Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(uri.pin.as_ref().map(Pin::expose), Some("1234"));
        assert_eq!(uri.token_name(), "slot 2");
        assert!(matches!(uri.selector(), Attribute::Id(id) if id == [1, 2]));
    }

    #[test]
    fn the_pin_never_prints() {
        let uri = parse("pkcs11:token=t;object=k?module-path=/m.so&pin-value=s3cret");
        for shown in [uri.to_string(), format!("{uri:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("pin-value=REDACTED"), "{shown}");
        }
        let error = Pkcs11Uri::parse("pkcs11:object=k?pin-value=s3cret")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("one of token and slot-id"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
        // A PIN that does not percent-decode is refused without being shown.
        let error = match Pkcs11Uri::parse("pkcs11:token=t;object=k?pin-value=s3cr%zzet") {
            Err(e) => e.to_string(),
            Ok(uri) => panic!("a bad escape was accepted: {uri}"),
        };
        assert!(error.contains("pin-value: bad percent escape"), "{error}");
        assert!(!error.contains("s3cr"), "{error}");
    }

    #[test]
    fn incomplete_uris_are_refused_as_cosign_does() {
        for (text, reason) in [
            ("pkcs11:object=k", "one of token and slot-id must be set"),
            ("pkcs11:token=t", "one of object and id must be set"),
            (
                "pkcs11:slot-id=x;object=k",
                "slot-id \"x\" is not a valid number",
            ),
            ("pkcs11:token=t;object=%zz", "bad percent escape"),
        ] {
            let error = Pkcs11Uri::parse(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn a_relative_module_path_is_refused() {
        let uri = parse("pkcs11:token=t;object=k?module-path=libsofthsm2.so");
        let error = Token::open(&uri, &KeyOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("is not an absolute path"), "{error}");
    }
}
