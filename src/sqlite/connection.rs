//! A rusqlite connection as the core's [`Connection`]: the three primitives, with
//! statements athanor repeats (version-table and history writes) prepared once.

use rusqlite::types::ToSqlOutput;
use rusqlite::ToSql;

use super::runner::{execute_one, sqlite_message};
use super::sqlite_code;
use crate::core::connection::{Connection, Param};
use crate::core::run::SqlFailure;

pub struct Rusqlite<'c>(pub &'c rusqlite::Connection);

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Param::Text(t) => t.to_sql(),
            Param::Int(i) => i.to_sql(),
        }
    }
}

fn failure(e: rusqlite::Error) -> SqlFailure {
    SqlFailure { message: sqlite_message(&e), code: sqlite_code(&e) }
}

/// A REAL read as text (a version table holds text, but any value may be there): in the
/// wasm as JS writes the number, as the JS hosts' adapters read it (and without Rust's
/// float formatting, 6 KiB of every browser's download); natively Rust's shortest form.
fn real_text(f: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    return js_sys::JSON::stringify(&f.into()).map(String::from).unwrap_or_default();
    #[cfg(not(target_arch = "wasm32"))]
    f.to_string()
}

impl Connection for Rusqlite<'_> {
    fn values(&mut self, sql: &str, params: &[Param]) -> Result<Vec<Option<String>>, SqlFailure> {
        let mut st = self.0.prepare_cached(sql).map_err(failure)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(params), |r| {
                Ok(match r.get_ref(0)? {
                    rusqlite::types::ValueRef::Null => None,
                    rusqlite::types::ValueRef::Integer(i) => Some(i.to_string()),
                    rusqlite::types::ValueRef::Real(f) => Some(real_text(f)),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
                })
            })
            .map_err(failure)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(failure)
    }

    fn run(&mut self, sql: &str, params: &[Param]) -> Result<usize, SqlFailure> {
        self.0.prepare_cached(sql).and_then(|mut st| st.execute(rusqlite::params_from_iter(params))).map_err(failure)
    }

    fn exec(&mut self, sql: &str) -> Result<(), SqlFailure> {
        execute_one(self.0, sql).map_err(failure)
    }

    fn in_transaction(&mut self) -> Option<bool> {
        Some(!self.0.is_autocommit())
    }

    fn now_ms(&self) -> f64 {
        #[cfg(target_arch = "wasm32")]
        {
            js_sys::Date::now()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
        }
    }
}
