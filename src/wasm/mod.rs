//! The wasm-bindgen boundary: nothing here but conversion between JS values and the
//! layers below. Every export returns `Result`; no panic crosses into JS.

#[cfg(feature = "autogen")]
mod autogen;
#[cfg(feature = "commands")]
mod cli;
mod error;
mod host_run;
mod input;
mod js;
#[cfg(feature = "sqlite")]
mod migrator;
#[cfg(feature = "node-vfs")]
mod node_vfs;
#[cfg(feature = "sqlite")]
mod opfs;
mod planner;
#[cfg(feature = "autogen")]
mod safety;
#[cfg(feature = "sqlite")]
mod values;
mod views;

#[cfg(feature = "autogen")]
pub use autogen::autogenerate;
#[cfg(feature = "commands")]
pub use cli::run_cli;
pub use error::node_sqlite_unavailable;
#[cfg(feature = "sqlite")]
pub use migrator::Migrator;
#[cfg(feature = "node-vfs")]
pub use node_vfs::install_node_vfs;
#[cfg(feature = "sqlite")]
pub use opfs::{install_opfs, opfs_unavailable, OpfsPool};
pub use planner::{version_rows_sql, Planner};
#[cfg(all(feature = "autogen", feature = "commands"))]
pub use safety::adopt_revision;
#[cfg(feature = "autogen")]
pub use safety::{lint_migrations, test_migrations};
