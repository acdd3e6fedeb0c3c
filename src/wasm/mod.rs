//! The wasm-bindgen boundary: nothing here but conversion between JS values and the
//! layers below. Every export returns `Result`; no panic crosses into JS.

mod cli;
mod error;
mod input;
mod migrator;

pub use cli::{run_cli, NODE_VFS};
pub use migrator::Migrator;
