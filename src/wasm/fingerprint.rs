//! `fingerprint`: what Node remembers a migration set's heads under (the package's
//! node-heads.js), so that a process starting at head with the same files parses none.
//! A 128-bit XXH3 of the exact bytes: any change to a name or a text gives another key
//! (a cache, where SHA-256's resistance to a chosen collision buys nothing: whoever can
//! write the files can write the cache).

use wasm_bindgen::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

/// The fingerprint of a joined set (NUL-joined names and texts, as the Planner takes
/// them): each one's hash, as 64 hex digits.
#[wasm_bindgen]
pub fn fingerprint(names: &[u8], texts: &[u8]) -> String {
    format!("{:032x}{:032x}", xxh3_128(names), xxh3_128(texts))
}
