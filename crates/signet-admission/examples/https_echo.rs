//! The baseline of benches/admission.sh: a bare HTTPS server with exactly the admission
//! server's TLS (`signet_admission::server::server_config`: rustls on aws-lc-rs, TLS 1.3,
//! HTTP/2 and HTTP/1.1) and HTTP stack (hyper's auto connection builder), that answers every
//! POST with a fixed body and decides nothing. The admission server's end-to-end latency over
//! this one's is what verification costs on top of HTTPS itself.
//!
//! ```sh
//! cargo run --release -p signet-admission --example https_echo -- \
//!     127.0.0.1:8444 tls.crt tls.key response.json
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use signet_admission::server::{TlsFiles, server_config};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, certificate, key, body] = args.as_slice() else {
        return Err("usage: https_echo ADDRESS CERT KEY RESPONSE-BODY-FILE".into());
    };
    let tls = server_config(&TlsFiles {
        certificate: certificate.into(),
        private_key: key.into(),
        client_ca: None,
    })?;
    let body = Bytes::from(std::fs::read(body)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, usize::from))
        .enable_all()
        .build()?;
    let served: Result<(), Box<dyn std::error::Error>> = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen.as_str()).await?;
        eprintln!("https_echo listening on {}", listener.local_addr()?);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        loop {
            let (stream, _) = listener.accept().await?;
            let acceptor = acceptor.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |request: hyper::Request<hyper::body::Incoming>| {
                        let body = body.clone();
                        async move {
                            // Read the request as the admission server does, then answer.
                            let _ = request.into_body().collect().await;
                            let mut response = hyper::Response::new(Full::new(body));
                            response.headers_mut().insert(
                                hyper::header::CONTENT_TYPE,
                                hyper::header::HeaderValue::from_static("application/json"),
                            );
                            Ok::<_, Infallible>(response)
                        }
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    served
}
