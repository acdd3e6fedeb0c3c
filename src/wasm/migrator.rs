//! `Migrator`: one revision map and one SQLite connection, exported to JS.

use super::js::{opt_bool, opt_string, opt_u32};
use js_sys::{Array, Function, Object};
use rusqlite::Connection;
use wasm_bindgen::prelude::*;

use super::error::to_js;
use super::input;
use super::views::{self, report_js};
use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::sqlite::runner::{Engine, Options, TransactionMode};
use crate::sqlite::sql_error;

/// `openMigrator`'s options as the wasm reads them (camelCase in JS).
#[derive(Default, Clone)]
struct Config {
    database: Option<String>,
    version_table: Option<String>,
    transaction_per_migration: bool,
    /// SQLite VFS to open `database` with. Default: "athanor-node" (real files) for a
    /// file path once `installNodeVfs` ran, else SQLite's default (in memory).
    vfs: Option<String>,
    /// How long to wait for another connection's lock before `LOCKED`, in ms (default 5000).
    busy_timeout: Option<u32>,
    /// Parse and check the migrations now, open the database at `openDatabase`.
    deferred_open: bool,
}

#[wasm_bindgen]
pub struct Migrator {
    map: RevisionMap,
    /// `None` between `closeDatabase` and `openDatabase` (a browser tab hands its OPFS
    /// files to other tabs between operations).
    conn: Option<Connection>,
    config: Config,
    options: Options,
}

impl Config {
    fn read(o: &JsValue) -> std::result::Result<Config, String> {
        if o.is_undefined() || o.is_null() {
            return Ok(Config::default());
        }
        Ok(Config {
            database: opt_string(o, "database")?,
            version_table: opt_string(o, "versionTable")?,
            transaction_per_migration: opt_bool(o, "transactionPerMigration")?,
            vfs: opt_string(o, "vfs")?,
            busy_timeout: opt_u32(o, "busyTimeout")?,
            deferred_open: opt_bool(o, "deferredOpen")?,
        })
    }
}

fn open_connection(config: &Config) -> Result<Connection> {
    let database = config.database.as_deref().unwrap_or(":memory:");
    let busy = config.busy_timeout.map(|ms| std::time::Duration::from_millis(ms.into()));
    #[cfg(feature = "node-vfs")]
    {
        let in_memory = matches!(database, "" | ":memory:") || database.contains("mode=memory");
        let vfs = config.vfs.as_deref().or((!in_memory && super::node_vfs::installed()).then_some(super::node_vfs::VFS_NAME));
        super::node_vfs::open(database, rusqlite::OpenFlags::default(), vfs, busy)
    }
    // The embedded wasm has no file VFS: memory, or the OPFS pool's VFS by name.
    #[cfg(not(feature = "node-vfs"))]
    {
        let flags = rusqlite::OpenFlags::default();
        let conn = match config.vfs.as_deref() {
            Some(vfs) => Connection::open_with_flags_and_vfs(database, flags, vfs),
            None => Connection::open_with_flags(database, flags),
        }
        .map_err(|e| Error::Io(format!("cannot open database '{database}': {e}")))?;
        crate::sqlite::prepare_connection(&conn, busy)?;
        Ok(conn)
    }
}

#[wasm_bindgen]
impl Migrator {
    /// `new Migrator(migrations, config)`: parses and validates the migrations, then
    /// opens the database (`:memory:` unless `config.database` names one).
    #[wasm_bindgen(constructor)]
    pub fn new(migrations: JsValue, config: JsValue) -> std::result::Result<Migrator, JsValue> {
        Self::build(&migrations, config).map_err(to_js)
    }

    fn build(migrations: &JsValue, config: JsValue) -> Result<Migrator> {
        let config = Config::read(&config).map_err(|e| Error::Usage(format!("bad options: {e}")))?;
        let map = RevisionMap::new(input::scripts(migrations)?)?;
        let options = Options {
            version_table: config.version_table.clone().unwrap_or_else(|| "alembic_version".into()),
            transaction: if config.transaction_per_migration { TransactionMode::PerMigration } else { TransactionMode::All },
        };
        let conn = if config.deferred_open { None } else { Some(open_connection(&config)?) };
        Ok(Migrator { map, conn, config, options })
    }

    fn conn(&self) -> Result<&Connection> {
        self.conn.as_ref().ok_or_else(|| Error::Usage("the database is closed (call openDatabase first)".into()))
    }

    fn engine(&self) -> Result<Engine<'_>> {
        Ok(Engine::new(self.conn()?, &self.map, self.options.clone()))
    }

    fn run(&self, up: bool, target: &str, progress: Option<Function>) -> Result<Object> {
        let map = &self.map;
        let mut on_event = views::on_progress(map, progress.as_ref());
        let engine = self.engine()?;
        let report = if up { engine.upgrade(target, &mut on_event)? } else { engine.downgrade(target, &mut on_event)? };
        Ok(report_js(map, &report))
    }

    /// Applies migrations up to `target` (default `heads`); returns `{ steps, before, after }`.
    pub fn upgrade(&self, target: Option<String>, progress: Option<Function>) -> std::result::Result<Object, JsValue> {
        self.run(true, target.as_deref().unwrap_or("heads"), progress).map_err(to_js)
    }

    pub fn downgrade(&self, target: String, progress: Option<Function>) -> std::result::Result<Object, JsValue> {
        self.run(false, &target, progress).map_err(to_js)
    }

    pub fn stamp(&self, targets: Vec<String>, purge: bool) -> std::result::Result<Object, JsValue> {
        let report = self.engine().and_then(|e| e.stamp(&targets, purge)).map_err(to_js)?;
        Ok(report_js(&self.map, &report))
    }

    /// The version table's rows, in rowid order.
    pub fn rows(&self) -> std::result::Result<Vec<String>, JsValue> {
        self.engine().and_then(|e| e.current_rows()).map_err(to_js)
    }

    /// What `athanor current` prints the revisions of: the rows plus what they imply,
    /// reduced to branch heads.
    pub fn current(&self) -> std::result::Result<Vec<String>, JsValue> {
        let rows = self.rows()?;
        views::current(&self.map, &rows).map_err(to_js)
    }

    /// The heads of the migrations (`athanor heads`).
    pub fn heads(&self) -> Vec<String> {
        views::heads(&self.map)
    }

    /// Revisions newest first, as `athanor history`: `[{ revision, revises, ... }]`.
    pub fn history(&self, range: Option<String>) -> std::result::Result<Array, JsValue> {
        views::history(&self.map, range.as_deref()).map_err(to_js)
    }

    /// Offline mode: the SQL of an upgrade (or downgrade) as Alembic's `--sql` prints
    /// it, from `from` (default: the database's rows). Nothing is touched.
    pub fn plan(&self, direction: &str, target: &str, from: Option<Vec<String>>) -> std::result::Result<String, JsValue> {
        let rows = match from {
            Some(f) => f,
            None => self.rows()?,
        };
        views::offline_sql(&self.map, &self.options.version_table, direction, target, &rows).map_err(to_js)
    }

    /// Opens the database (again); a no-op when it is open.
    #[wasm_bindgen(js_name = openDatabase)]
    pub fn open_database(&mut self) -> std::result::Result<(), JsValue> {
        if self.conn.is_none() {
            self.conn = Some(open_connection(&self.config).map_err(to_js)?);
        }
        Ok(())
    }

    /// Closes the database connection, keeping the parsed migrations.
    #[wasm_bindgen(js_name = closeDatabase)]
    pub fn close_database(&mut self) -> std::result::Result<(), JsValue> {
        match self.conn.take() {
            Some(conn) => conn.close().map_err(|(conn, e)| {
                self.conn = Some(conn);
                to_js(sql_error(e))
            }),
            None => Ok(()),
        }
    }

    /// The app's own reads on the migrated database: one statement, `?` parameters;
    /// rows as objects keyed by column name.
    pub fn query(&self, sql: &str, params: Option<Array>) -> std::result::Result<Array, JsValue> {
        super::values::query(self.conn().map_err(to_js)?, sql, params).map_err(to_js)
    }

    /// The app's own writes. Returns the number of rows they changed. Without `params`,
    /// any number of statements; with them, one statement with `?` bound as `query`
    /// binds (better-sqlite3's `run`): dropping them would bind NULL silently.
    pub fn exec(&self, sql: &str, params: Option<Array>) -> std::result::Result<f64, JsValue> {
        let conn = self.conn().map_err(to_js)?;
        let before = conn.total_changes();
        match params.filter(|p| p.length() > 0) {
            Some(p) => {
                super::values::query(conn, sql, Some(p)).map_err(to_js)?;
            }
            None => conn.execute_batch(sql).map_err(|e| to_js(sql_error(e)))?,
        }
        Ok((conn.total_changes() - before) as f64)
    }
}
