//! Blob streams: chunks read from a file or an HTTP answer, checked as they pass against the
//! size and digest they were asked for, so a copy never stores a short or altered blob.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use signet_core::digest::{Digest, Hasher};
use tokio::io::AsyncReadExt;

use crate::{BlobStream, Error};

/// How much of a file is read per chunk.
const FILE_CHUNK_BYTES: usize = 256 * 1024;

/// `inner`, checked: an error as soon as more than `size` bytes arrive, and at the end unless
/// exactly `size` bytes hashing to `digest` arrived. Nothing is yielded after an error.
pub(crate) fn verified(
    inner: impl Stream<Item = Result<Bytes, Error>> + Send + 'static,
    digest: Digest,
    size: u64,
    what: String,
) -> BlobStream {
    struct State {
        inner: BlobStream,
        hasher: Option<Hasher>,
        read: u64,
        digest: Digest,
        size: u64,
        what: String,
    }
    let state = State {
        inner: Box::pin(inner),
        hasher: Some(Hasher::new(digest.algorithm())),
        read: 0,
        digest,
        size,
        what,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        st.hasher.as_ref()?;
        match st.inner.next().await {
            Some(Ok(chunk)) => {
                st.read = st.read.saturating_add(chunk.len() as u64);
                if st.read > st.size {
                    st.hasher = None;
                    let error = Error::SizeMismatch {
                        what: st.what.clone(),
                        expected: st.size,
                        actual: st.read,
                    };
                    return Some((Err(error), st));
                }
                if let Some(hasher) = st.hasher.as_mut() {
                    hasher.update(&chunk);
                }
                Some((Ok(chunk), st))
            }
            Some(Err(error)) => {
                st.hasher = None;
                Some((Err(error), st))
            }
            None => {
                let hasher = st.hasher.take()?;
                if st.read != st.size {
                    let error = Error::SizeMismatch {
                        what: st.what.clone(),
                        expected: st.size,
                        actual: st.read,
                    };
                    return Some((Err(error), st));
                }
                let actual = hasher.finish();
                if actual != st.digest {
                    let error = Error::DigestMismatch {
                        what: st.what.clone(),
                        expected: st.digest.clone(),
                        actual,
                    };
                    return Some((Err(error), st));
                }
                None
            }
        }
    }))
}

/// The chunks of `file`; a read error becomes `error(e)`.
pub(crate) fn file_chunks(
    file: tokio::fs::File,
    error: impl Fn(std::io::Error) -> Error + Send + Sync + 'static,
) -> impl Stream<Item = Result<Bytes, Error>> + Send + 'static {
    futures_util::stream::unfold((Some(file), error), |(file, error)| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; FILE_CHUNK_BYTES];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), (Some(file), error)))
            }
            Err(e) => {
                let e = error(e);
                Some((Err(e), (None, error)))
            }
        }
    })
}

/// The chunks of an HTTP answer's body; a broken-off body becomes `error(e)`.
pub(crate) fn response_chunks(
    response: reqwest::Response,
    error: impl Fn(reqwest::Error) -> Error + Send + Sync + 'static,
) -> impl Stream<Item = Result<Bytes, Error>> + Send + 'static {
    futures_util::stream::unfold((Some(response), error), |(response, error)| async move {
        let mut response = response?;
        match response.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), (Some(response), error))),
            Ok(None) => None,
            Err(e) => {
                let e = error(e);
                Some((Err(e), (None, error)))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(stream: BlobStream) -> Vec<Result<Bytes, Error>> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .block_on(stream.collect::<Vec<_>>())
    }

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, Error>> + Send {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn passes_a_blob_of_the_right_size_and_digest() {
        let digest = Digest::sha256_of(b"hello world");
        let out = collect(verified(
            chunks(&[b"hello ", b"world"]),
            digest,
            11,
            "blob".into(),
        ));
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(Result::is_ok));
    }

    #[test]
    fn refuses_altered_short_and_long_blobs() {
        let digest = Digest::sha256_of(b"hello world");
        let altered = collect(verified(
            chunks(&[b"hello there"]),
            digest.clone(),
            11,
            "blob".into(),
        ));
        assert!(matches!(
            altered.last(),
            Some(Err(Error::DigestMismatch { .. }))
        ));
        let short = collect(verified(
            chunks(&[b"hello"]),
            digest.clone(),
            11,
            "blob".into(),
        ));
        assert!(matches!(
            short.last(),
            Some(Err(Error::SizeMismatch { actual: 5, .. }))
        ));
        let long = collect(verified(
            chunks(&[b"hello world", b"!"]),
            digest,
            11,
            "blob".into(),
        ));
        assert!(matches!(
            long.last(),
            Some(Err(Error::SizeMismatch { actual: 12, .. }))
        ));
        // Nothing follows the error.
        assert_eq!(long.len(), 2);
    }
}
