//! SHA-256 of many messages at once: the checksums a run records (1,000 at the end of
//! an upgrade of 1,000 migrations) and verifies. The npm CLI runs its wasm in V8's
//! baseline compiler only (cli.mjs: `--liftoff-only`), where the `sha2` crate's scalar
//! rounds took 9 ms for 1,000 small migrations; four messages in the four 32-bit lanes
//! of wasm SIMD take 1.5 ms. Only the wasms with the `commands` feature use the lanes:
//! the CLI's two, which also plans for Node's JS API (node.js); Node has had wasm SIMD
//! since 16.4 (Deno and Bun have it too). The browser and Worker wasms stay free of
//! SIMD, and native builds keep `sha2` (with the CPU's SHA instructions where it has
//! them), one message at a time ([`super::script::Script::checksum`]).

#[cfg(all(target_arch = "wasm32", feature = "commands"))]
pub use lanes::digests;

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const H0: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// `message` with SHA-256's padding: a 1 bit, zeros, and its length in bits, to a whole
/// number of 64-byte blocks.
fn padded(message: &[u8]) -> Vec<u8> {
    let len = (message.len() + 9).div_ceil(64) * 64;
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(message);
    v.push(0x80);
    v.resize(len - 8, 0);
    v.extend_from_slice(&(message.len() as u64 * 8).to_be_bytes());
    v
}

#[cfg(all(target_arch = "wasm32", feature = "commands"))]
mod lanes {
    use core::arch::wasm32::*;

    use super::{padded, H0, K};

    #[inline]
    #[target_feature(enable = "simd128")]
    fn rotr(x: v128, n: u32) -> v128 {
        v128_or(u32x4_shr(x, n), u32x4_shl(x, 32 - n))
    }

    /// One block of each lane's message through SHA-256's compression.
    #[target_feature(enable = "simd128")]
    fn compress(state: &mut [v128; 8], blocks: [&[u8]; 4]) {
        let mut w = [u32x4_splat(0); 16];
        for (i, w) in w.iter_mut().enumerate() {
            let word = |b: &[u8]| u32::from_be_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
            *w = u32x4(word(blocks[0]), word(blocks[1]), word(blocks[2]), word(blocks[3]));
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
        for (i, &k) in K.iter().enumerate() {
            if i >= 16 {
                // The message schedule in a rolling window of 16 words.
                let (w15, w2) = (w[(i + 1) & 15], w[(i + 14) & 15]);
                let s0 = v128_xor(v128_xor(rotr(w15, 7), rotr(w15, 18)), u32x4_shr(w15, 3));
                let s1 = v128_xor(v128_xor(rotr(w2, 17), rotr(w2, 19)), u32x4_shr(w2, 10));
                w[i & 15] = i32x4_add(i32x4_add(w[i & 15], s0), i32x4_add(w[(i + 9) & 15], s1));
            }
            let s1 = v128_xor(v128_xor(rotr(e, 6), rotr(e, 11)), rotr(e, 25));
            let ch = v128_bitselect(f, g, e);
            let t1 = i32x4_add(i32x4_add(h, s1), i32x4_add(i32x4_add(ch, u32x4_splat(k)), w[i & 15]));
            let s0 = v128_xor(v128_xor(rotr(a, 2), rotr(a, 13)), rotr(a, 22));
            let maj = v128_bitselect(b, c, v128_xor(a, c));
            (h, g, f, e, d, c, b) = (g, f, e, i32x4_add(d, t1), c, b, a);
            a = i32x4_add(t1, i32x4_add(s0, maj));
        }
        for (s, x) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
            *s = i32x4_add(*s, x);
        }
    }

    /// Up to four messages, one a lane.
    #[target_feature(enable = "simd128")]
    fn four(messages: &[&[u8]], out: &mut Vec<[u8; 32]>) {
        let p: [Vec<u8>; 4] = std::array::from_fn(|i| padded(messages.get(i).copied().unwrap_or_default()));
        let blocks = p.iter().map(|m| m.len() / 64).max().unwrap_or(0);
        let mut state = H0.map(|h| u32x4_splat(h));
        for n in 0..blocks {
            // A message that has ended gives its first block again, its result dropped.
            let block = |i: usize| p[i].get(n * 64..n * 64 + 64).unwrap_or(&p[i][..64]);
            let before = state;
            compress(&mut state, [block(0), block(1), block(2), block(3)]);
            // A lane whose message has ended keeps its digest.
            let done = |i: usize| if n * 64 < p[i].len() { 0 } else { u32::MAX };
            let keep = u32x4(done(0), done(1), done(2), done(3));
            for (s, b) in state.iter_mut().zip(before) {
                *s = v128_bitselect(b, *s, keep);
            }
        }
        for lane in 0..messages.len() {
            let mut d = [0u8; 32];
            for (i, s) in state.iter().enumerate() {
                let x = match lane {
                    0 => u32x4_extract_lane::<0>(*s),
                    1 => u32x4_extract_lane::<1>(*s),
                    2 => u32x4_extract_lane::<2>(*s),
                    _ => u32x4_extract_lane::<3>(*s),
                };
                d[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
            }
            out.push(d);
        }
    }

    /// The digests of `messages`, in order.
    pub fn digests(messages: &[&[u8]]) -> Vec<[u8; 32]> {
        let mut out = Vec::with_capacity(messages.len());
        for group in messages.chunks(4) {
            four(group, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_ends_on_a_block() {
        for n in [0, 1, 55, 56, 63, 64, 119, 120, 200] {
            let p = padded(&vec![7; n]);
            assert_eq!(p.len() % 64, 0);
            assert!(p.len() >= n + 9 && p.len() < n + 9 + 64);
            assert_eq!(p[n], 0x80);
            assert_eq!(p[p.len() - 8..], (n as u64 * 8).to_be_bytes());
        }
    }

    #[test]
    fn constants_are_sha256s() {
        // The lanes themselves run only in the CLI's wasm: tests/wasm_node.rs compares
        // them with `sha2`.
        assert_eq!((K[0], K[63], H0[0], H0[7]), (0x428a2f98, 0xc67178f2, 0x6a09e667, 0x5be0cd19));
    }
}
