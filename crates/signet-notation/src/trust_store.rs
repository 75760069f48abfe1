//! Trust stores in memory: the certificates of named stores of each type. Reading the
//! directory layout (`{config}/truststore/x509/{type}/{name}/*.crt|*.cer|*.pem`) is the
//! caller's I/O; this module takes each file's bytes and applies notation-go's rules.

use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;

use crate::certificate::{Certificate, CertificateFileError, parse_certificate_file};
use crate::policy::{StoreRef, StoreType};

/// Named trust stores and their certificates, or why a store cannot be used.
///
/// A store that could not be read is kept with the reason: notation-go reports such a store
/// when a policy uses it (as an authenticity or timestamp failure), not when loading.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    stores: BTreeMap<StoreRef, Result<Vec<Certificate>, Unusable>>,
}

impl TrustStore {
    /// An empty trust store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the certificates of one file (PEM or DER, one or more certificates) to `store`.
    /// As notation-go requires, a certificate that is not a CA must be self-signed, and a
    /// `tsa` store holds self-signed roots only. A file that breaks these rules makes the
    /// whole store unusable, with the reason.
    pub fn add_file(&mut self, store: &StoreRef, file_name: &str, bytes: &[u8]) {
        let parsed = parse_certificate_file(bytes)
            .map_err(StoreFileError::from)
            .and_then(|certs| {
                for c in &certs {
                    if !c.is_ca() && !c.signed_by_own_key() {
                        return Err(StoreFileError::NeitherCaNorSelfSigned(c.subject()));
                    }
                    if store.kind == StoreType::Tsa && !(c.is_ca() && c.is_self_signed()) {
                        return Err(StoreFileError::NotRoot(c.subject()));
                    }
                }
                Ok(certs)
            });
        let parsed = parsed.map_err(|source| -> Unusable {
            Arc::new(UnusableFile {
                file: file_name.to_owned(),
                store: store.clone(),
                source,
            })
        });
        let entry = self
            .stores
            .entry(store.clone())
            .or_insert_with(|| Ok(Vec::new()));
        match (entry, parsed) {
            (Ok(existing), Ok(certs)) => existing.extend(certs),
            (entry @ Ok(_), Err(why)) => *entry = Err(why),
            (Err(_), _) => {}
        }
    }

    /// Records that `store` exists but cannot be used (not a directory, a symlink, a
    /// sub-directory inside it), with the reason: a message or a typed error, which
    /// verification reports as the cause of the failure.
    pub fn add_unusable(&mut self, store: &StoreRef, why: impl Into<Box<dyn Error + Send + Sync>>) {
        self.stores
            .insert(store.clone(), Err(Arc::from(why.into())));
    }

    /// Records an existing, possibly empty, store.
    pub fn add_store(&mut self, store: &StoreRef) {
        self.stores
            .entry(store.clone())
            .or_insert_with(|| Ok(Vec::new()));
    }

    /// How many certificates `store` holds (0 if absent or unusable).
    pub fn certificate_count(&self, store: &StoreRef) -> usize {
        match self.stores.get(store) {
            Some(Ok(certs)) => certs.len(),
            _ => 0,
        }
    }

    /// The certificates of the stores of `kind` among `refs`, or why one cannot be used.
    pub(crate) fn certificates(
        &self,
        refs: &[StoreRef],
        kind: StoreType,
    ) -> Result<Vec<&Certificate>, TrustStoreError> {
        let mut out = Vec::new();
        for r in refs.iter().filter(|r| r.kind == kind) {
            match self.stores.get(r) {
                None => return Err(TrustStoreError::Missing(r.clone())),
                Some(Err(why)) => return Err(TrustStoreError::Unusable(why.clone())),
                Some(Ok(certs)) if certs.is_empty() => {
                    return Err(TrustStoreError::Empty(r.clone()));
                }
                Some(Ok(certs)) => out.extend(certs.iter()),
            }
        }
        Ok(out)
    }
}

/// Why a store cannot be used, kept until a policy uses the store (shared: the store is
/// cloned with its verifier).
type Unusable = Arc<dyn Error + Send + Sync>;

/// Why a statement's trust stores give no certificates.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum TrustStoreError {
    #[error("the trust store {0} does not exist")]
    Missing(StoreRef),
    #[error(transparent)]
    Unusable(Unusable),
    #[error("no x509 certificates were found in trust store {0}")]
    Empty(StoreRef),
}

/// A trust store file that makes its store unusable.
#[derive(Debug, thiserror::Error)]
#[error("trusted certificate file {file:?} in {store}")]
struct UnusableFile {
    file: String,
    store: StoreRef,
    #[source]
    source: StoreFileError,
}

/// Why a trust store file's certificates cannot be trusted.
#[derive(Debug, thiserror::Error)]
enum StoreFileError {
    #[error(transparent)]
    Parse(#[from] CertificateFileError),
    #[error("certificate {0:?} is neither a CA nor a self-signed signing certificate")]
    NeitherCaNorSelfSigned(String),
    #[error("certificate {0:?} is not a root CA (self-signed CA) certificate")]
    NotRoot(String),
}
