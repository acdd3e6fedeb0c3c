//! The wasm-bindgen boundary: nothing here but conversion between JS values and the
//! layers below. Every export returns `Result`; no panic crosses into JS.

mod cli;
mod error;
mod input;
mod js;
mod migrator;
mod node_vfs;
mod opfs;
mod planner;
mod values;
mod views;

pub use cli::run_cli;
pub use migrator::Migrator;
pub use node_vfs::install_node_vfs;
pub use opfs::{install_opfs, opfs_unavailable, OpfsPool};
pub use planner::{version_rows_sql, Planner};
