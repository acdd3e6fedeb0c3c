//! The wasm-bindgen boundary: nothing here but conversion between JS values and the
//! layers below. Every export returns `Result`; no panic crosses into JS.

#[cfg(feature = "autogen")]
mod autogen;
#[cfg(feature = "commands")]
mod cli;
mod error;
// Node's JS API only (node.js plans on the CLI's lean wasm).
#[cfg(all(feature = "commands", feature = "planner"))]
mod fingerprint;
#[cfg(any(feature = "planner", feature = "commands", feature = "autogen"))]
mod host_run;
#[cfg(any(feature = "planner", feature = "sqlite"))]
mod input;
mod js;
#[cfg(feature = "sqlite")]
mod migrator;
#[cfg(feature = "node-vfs")]
mod node_vfs;
#[cfg(feature = "sqlite")]
mod opfs;
#[cfg(feature = "planner")]
mod planner;
#[cfg(feature = "planner")]
mod planner_run;
#[cfg(feature = "autogen")]
mod safety;
#[cfg(feature = "sqlite")]
mod values;
#[cfg(any(feature = "planner", feature = "sqlite"))]
mod views;

#[cfg(feature = "autogen")]
pub use autogen::autogenerate;
#[cfg(feature = "commands")]
pub use cli::run_cli;
pub use error::node_sqlite_unavailable;
#[cfg(all(feature = "commands", feature = "planner"))]
pub use fingerprint::fingerprint;
#[cfg(feature = "sqlite")]
pub use migrator::Migrator;
#[cfg(feature = "node-vfs")]
pub use node_vfs::install_node_vfs;
#[cfg(feature = "sqlite")]
pub use opfs::{install_opfs, opfs_unavailable, OpfsPool};
#[cfg(feature = "planner")]
pub use planner::{version_rows_sql, Planner};
#[cfg(all(feature = "autogen", feature = "commands"))]
pub use safety::adopt_revision;
#[cfg(feature = "autogen")]
pub use safety::{lint_migrations, test_migrations};
