//! The server's TLS: rustls on aws-lc-rs, TLS 1.3 only, HTTP/2 and HTTP/1.1 by ALPN; an
//! optional client CA (Gatekeeper's) whose certificates are verified when presented; and
//! reloading when the certificate, key or CA files change (cert-manager rotates them in
//! place), keeping the old configuration if the new files do not make a valid one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use signet_core::digest::Digest;

use crate::Error;

/// The largest certificate, key or CA file read.
const MAX_PEM_BYTES: u64 = 1 << 20;

/// The server's certificate and key, and the CA client certificates must chain to.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain (PEM), leaf first.
    pub certificate: PathBuf,
    /// The private key (PEM: PKCS#8, SEC1 or PKCS#1).
    pub private_key: PathBuf,
    /// Client certificates, when presented, must chain to these (PEM); a client without one
    /// may still connect, but only the webhook endpoints answer it.
    pub client_ca: Option<PathBuf>,
}

/// The TLS configuration in force, and what it was built from.
#[derive(Debug)]
pub(crate) struct TlsState {
    files: TlsFiles,
    current: RwLock<Built>,
    last_error: Mutex<Option<String>>,
}

#[derive(Debug, Clone)]
struct Built {
    config: Arc<rustls::ServerConfig>,
    digests: Vec<Digest>,
}

impl TlsState {
    pub(crate) fn load(files: TlsFiles) -> Result<Self, Error> {
        let built = build(&files)?;
        Ok(Self {
            files,
            current: RwLock::new(built),
            last_error: Mutex::new(None),
        })
    }

    /// The configuration new connections get.
    pub(crate) fn config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .config,
        )
    }

    /// Whether client certificates are verified.
    pub(crate) fn verifies_clients(&self) -> bool {
        self.files.client_ca.is_some()
    }

    /// Rebuilds the configuration if a file changed. `Some(Ok(()))`: reloaded;
    /// `Some(Err(why))`: changed but unusable, the old configuration stays (reported once per
    /// distinct failure); `None`: nothing to do.
    pub(crate) fn reload_if_changed(&self) -> Option<Result<(), Error>> {
        let now = file_digests(&self.files).ok();
        let unchanged = now.as_ref().is_some_and(|d| {
            *d == self
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .digests
        });
        if unchanged {
            return None;
        }
        match build(&self.files) {
            Ok(built) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = built;
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                Some(Ok(()))
            }
            Err(error) => {
                let why = crate::decide::error_chain(&error);
                let mut last = self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if last.as_deref() == Some(why.as_str()) {
                    return None;
                }
                *last = Some(why);
                Some(Err(error))
            }
        }
    }

    /// The last reload failure, while the files stay unusable.
    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let error = |source| Error::TlsFile {
        what,
        path: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_PEM_BYTES + 1).read_to_end(&mut bytes))
        .map_err(error)?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(error(std::io::Error::other(format!(
            "larger than {MAX_PEM_BYTES} bytes"
        ))));
    }
    Ok(bytes)
}

fn file_digests(files: &TlsFiles) -> Result<Vec<Digest>, Error> {
    let mut digests = vec![
        Digest::sha256_of(&read("certificate", &files.certificate)?),
        Digest::sha256_of(&read("private key", &files.private_key)?),
    ];
    if let Some(ca) = &files.client_ca {
        digests.push(Digest::sha256_of(&read("client CA", ca)?));
    }
    Ok(digests)
}

fn certificates(
    what: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem_error = |source| Error::TlsPem {
        what,
        path: path.display().to_string(),
        source,
    };
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(Some(e)))?;
    if certificates.is_empty() {
        return Err(pem_error(None));
    }
    Ok(certificates)
}

/// The server's TLS configuration from `files`, as [`super::serve`] builds it (for tools
/// that must speak the same TLS, such as the benchmark's echo server).
pub fn server_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, Error> {
    build(files).map(|built| built.config)
}

fn build(files: &TlsFiles) -> Result<Built, Error> {
    let certificate_pem = read("certificate", &files.certificate)?;
    let key_pem = read("private key", &files.private_key)?;
    let ca_pem = match &files.client_ca {
        Some(ca) => Some((ca, read("client CA", ca)?)),
        None => None,
    };
    let mut digests = vec![
        Digest::sha256_of(&certificate_pem),
        Digest::sha256_of(&key_pem),
    ];
    let chain = certificates("certificate", &files.certificate, &certificate_pem)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| Error::TlsPem {
        what: "private key",
        path: files.private_key.display().to_string(),
        source: Some(e),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Tls(Box::new(e)))?;
    let builder = match ca_pem {
        Some((path, pem)) => {
            digests.push(Digest::sha256_of(&pem));
            let mut roots = RootCertStore::empty();
            for certificate in certificates("client CA", path, &pem)? {
                roots
                    .add(certificate)
                    .map_err(|e| Error::Tls(Box::new(e)))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| Error::Tls(Box::new(e)))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| Error::Tls(Box::new(e)))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Built {
        config: Arc::new(config),
        digests,
    })
}
