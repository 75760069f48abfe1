//! scrypt (RFC 7914) with a time-memory trade-off: a quarter of the memory for about 1.75
//! times the work.
//!
//! Cosign's key files use N = 2^16, r = 8, so plain scrypt holds 128·r·N = 64 MiB — more than
//! everything else `sign-blob` holds put together. ROMix's first loop fills a table of N
//! blocks that its second loop reads at pseudo-random indexes; this one keeps every
//! [`STRIDE`]th block and recomputes a missing one from the kept block before it (on average
//! (STRIDE − 1)/2 extra BlockMix calls per read). The output is scrypt's, bit for bit (checked
//! against RFC 7914's vectors and against Cosign's key files). PBKDF2-HMAC-SHA256 comes from
//! aws-lc-rs, signet's one crypto backend.

use std::num::NonZeroU32;

use zeroize::Zeroize;

use crate::Error;

/// One block in this many is kept: 16 MiB for Cosign's parameters instead of 64.
pub(crate) const STRIDE: usize = 4;

/// `scrypt(password, salt, N = 2^log_n, r, p)` into `out`.
pub(crate) fn scrypt(
    password: &[u8],
    salt: &[u8],
    log_n: u8,
    r: usize,
    p: usize,
    out: &mut [u8],
) -> Result<(), Error> {
    if !(1..=30).contains(&log_n) || r == 0 || p == 0 || r.saturating_mul(p) >= 1 << 30 {
        return Err(Error::Crypto("invalid scrypt parameters"));
    }
    let n = 1usize << log_n;
    let block_len = 128 * r;
    let one = NonZeroU32::MIN;
    let mut b = vec![0u8; block_len * p];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        one,
        salt,
        password,
        &mut b,
    );
    let mut x = vec![0u32; 32 * r];
    let mut table = vec![0u32; 32 * r * n.div_ceil(STRIDE)];
    let mut scratch = vec![0u32; 32 * r];
    let mut t = vec![0u32; 32 * r];
    for chunk in b.chunks_exact_mut(block_len) {
        for (word, bytes) in x.iter_mut().zip(chunk.chunks_exact(4)) {
            *word = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        ro_mix(&mut x, &mut table, &mut scratch, &mut t, n, r);
        for (word, bytes) in x.iter().zip(chunk.chunks_exact_mut(4)) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
    }
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        one,
        &b,
        password,
        out,
    );
    b.zeroize();
    x.zeroize();
    table.zeroize();
    scratch.zeroize();
    t.zeroize();
    Ok(())
}

/// ROMix on `x` (32·r words), keeping every [`STRIDE`]th intermediate block in `table`.
fn ro_mix(
    x: &mut [u32],
    table: &mut [u32],
    scratch: &mut [u32],
    t: &mut [u32],
    n: usize,
    r: usize,
) {
    let words = 32 * r;
    for i in 0..n {
        if i % STRIDE == 0 {
            let slot = i / STRIDE * words;
            table[slot..slot + words].copy_from_slice(x);
        }
        block_mix(x, scratch, r);
    }
    for _ in 0..n {
        // Integerify: the first word of the last 64-byte block; N is a power of two.
        let j = x[words - 16] as usize & (n - 1);
        let slot = j / STRIDE * words;
        t.copy_from_slice(&table[slot..slot + words]);
        for _ in 0..j % STRIDE {
            block_mix(t, scratch, r);
        }
        for (a, b) in x.iter_mut().zip(t.iter()) {
            *a ^= b;
        }
        block_mix(x, scratch, r);
    }
}

/// BlockMix_{Salsa20/8, r} on `b` (2r 64-byte blocks), in place.
fn block_mix(b: &mut [u32], y: &mut [u32], r: usize) {
    let mut x = [0u32; 16];
    x.copy_from_slice(&b[(2 * r - 1) * 16..2 * r * 16]);
    for i in 0..2 * r {
        for (w, v) in x.iter_mut().zip(&b[i * 16..(i + 1) * 16]) {
            *w ^= v;
        }
        salsa20_8(&mut x);
        // Even blocks go to the first half of the output, odd ones to the second.
        let dest = if i % 2 == 0 { i / 2 } else { r + i / 2 };
        y[dest * 16..(dest + 1) * 16].copy_from_slice(&x);
    }
    b.copy_from_slice(y);
}

/// The Salsa20/8 core on 16 words.
fn salsa20_8(b: &mut [u32; 16]) {
    let mut x = *b;
    for _ in 0..4 {
        // Column round.
        x[4] ^= x[0].wrapping_add(x[12]).rotate_left(7);
        x[8] ^= x[4].wrapping_add(x[0]).rotate_left(9);
        x[12] ^= x[8].wrapping_add(x[4]).rotate_left(13);
        x[0] ^= x[12].wrapping_add(x[8]).rotate_left(18);
        x[9] ^= x[5].wrapping_add(x[1]).rotate_left(7);
        x[13] ^= x[9].wrapping_add(x[5]).rotate_left(9);
        x[1] ^= x[13].wrapping_add(x[9]).rotate_left(13);
        x[5] ^= x[1].wrapping_add(x[13]).rotate_left(18);
        x[14] ^= x[10].wrapping_add(x[6]).rotate_left(7);
        x[2] ^= x[14].wrapping_add(x[10]).rotate_left(9);
        x[6] ^= x[2].wrapping_add(x[14]).rotate_left(13);
        x[10] ^= x[6].wrapping_add(x[2]).rotate_left(18);
        x[3] ^= x[15].wrapping_add(x[11]).rotate_left(7);
        x[7] ^= x[3].wrapping_add(x[15]).rotate_left(9);
        x[11] ^= x[7].wrapping_add(x[3]).rotate_left(13);
        x[15] ^= x[11].wrapping_add(x[7]).rotate_left(18);
        // Row round.
        x[1] ^= x[0].wrapping_add(x[3]).rotate_left(7);
        x[2] ^= x[1].wrapping_add(x[0]).rotate_left(9);
        x[3] ^= x[2].wrapping_add(x[1]).rotate_left(13);
        x[0] ^= x[3].wrapping_add(x[2]).rotate_left(18);
        x[6] ^= x[5].wrapping_add(x[4]).rotate_left(7);
        x[7] ^= x[6].wrapping_add(x[5]).rotate_left(9);
        x[4] ^= x[7].wrapping_add(x[6]).rotate_left(13);
        x[5] ^= x[4].wrapping_add(x[7]).rotate_left(18);
        x[11] ^= x[10].wrapping_add(x[9]).rotate_left(7);
        x[8] ^= x[11].wrapping_add(x[10]).rotate_left(9);
        x[9] ^= x[8].wrapping_add(x[11]).rotate_left(13);
        x[10] ^= x[9].wrapping_add(x[8]).rotate_left(18);
        x[12] ^= x[15].wrapping_add(x[14]).rotate_left(7);
        x[13] ^= x[12].wrapping_add(x[15]).rotate_left(9);
        x[14] ^= x[13].wrapping_add(x[12]).rotate_left(13);
        x[15] ^= x[14].wrapping_add(x[13]).rotate_left(18);
    }
    for (out, add) in b.iter_mut().zip(x) {
        *out = out.wrapping_add(add);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc7914_test_vectors() {
        let mut out = [0u8; 64];
        scrypt(b"", b"", 4, 1, 1, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            hex(&out),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442\
             fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        );
        scrypt(b"password", b"NaCl", 10, 8, 16, &mut out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            hex(&out),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162\
             2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        );
    }

    #[test]
    fn invalid_parameters_are_refused() {
        let mut out = [0u8; 32];
        assert!(scrypt(b"p", b"s", 0, 8, 1, &mut out).is_err());
        assert!(scrypt(b"p", b"s", 16, 0, 1, &mut out).is_err());
        assert!(scrypt(b"p", b"s", 31, 8, 1, &mut out).is_err());
    }
}
