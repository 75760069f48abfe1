//! Small text helpers shared by the reference parsers.

/// At most `max` characters of `text`, cut on a character boundary.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((index, _)) => &text[..index],
        None => text,
    }
}

/// A `%` not followed by two hex digits. It says where, never what the text was: the text may
/// be a PIN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad percent escape at byte {offset}")]
pub(crate) struct BadPercentEscape {
    offset: usize,
}

/// Percent-decodes `text` as Go's `url.QueryUnescape` does (Cosign parses PKCS#11 URIs
/// with it): `%XX` is a byte, `+` is a space.
pub(crate) fn percent_decode(text: &str) -> Result<Vec<u8>, BadPercentEscape> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(BadPercentEscape { offset: i })?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_follows_go() {
        assert_eq!(percent_decode("a%20b+c").ok(), Some(b"a b c".to_vec()));
        assert_eq!(percent_decode("%01%ab").ok(), Some(vec![1, 0xab]));
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%4").is_err());
    }
}
