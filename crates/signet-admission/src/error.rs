//! Why the gate cannot start or go on: operational failures, never verdicts.

/// An operational failure of the admission server or of loading what it enforces.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy file (or a file it names) does not load.
    #[error("loading the policy {path}")]
    Policy {
        /// The policy file.
        path: String,
        /// Why.
        #[source]
        source: Box<signet_policy::file::PolicyFileError>,
    },
    /// The trusted root does not load.
    #[error("loading the trusted root {path}")]
    TrustedRoot {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A TLS file cannot be read.
    #[error("reading the TLS {what} {path}")]
    TlsFile {
        /// `certificate`, `private key` or `client CA`.
        what: &'static str,
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A TLS file holds nothing usable.
    #[error("the TLS {what} {path} holds no usable PEM {what}")]
    TlsPem {
        /// `certificate`, `private key` or `client CA`.
        what: &'static str,
        /// The file.
        path: String,
        /// The PEM error, if there was one.
        #[source]
        source: Option<rustls_pki_types::pem::Error>,
    },
    /// The certificate, key and CA do not make a TLS configuration (a key that does not
    /// match the certificate, a CA that is not a certificate).
    #[error("the TLS configuration")]
    Tls(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The listening address cannot be bound.
    #[error("listening on {address}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The signal handlers cannot be installed.
    #[error("installing the SIGTERM handler")]
    Signal(#[source] std::io::Error),
}
