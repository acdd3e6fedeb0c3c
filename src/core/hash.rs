//! The core's hash maps and sets: std's, with FxHash instead of SipHash. Their keys are
//! revision ids and indexes from the project's own files, so SipHash's defence against
//! chosen keys buys nothing, and in the wasm it was a tenth of building the map of
//! 1,000 revisions (a first call runs cold code).

pub type HashMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;
pub type HashSet<T> = std::collections::HashSet<T, rustc_hash::FxBuildHasher>;
