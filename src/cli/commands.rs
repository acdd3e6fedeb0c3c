//! The commands, printing what Alembic prints.

#[cfg(feature = "autogen")]
use super::adopt;
use super::args::Args;
use super::format::{cmd_format, log_entry, Show};
use super::host::{Database, Host, MigrationFile};
#[cfg(feature = "autogen")]
use super::safety;
use super::Output;
use super::{authoring, bundle, config};
use crate::core::connection::{self, SqlHost};
use crate::core::error::{Error, Result};
use crate::core::graph::RevisionMap;
use crate::core::offline::render_plan;
use crate::core::plan::{self, Plan};
use crate::core::range::{parse_range, side_spec};
use crate::core::run::{Event, Options, Report, Run, TransactionMode};
use crate::core::script;
use crate::core::statements::split_section;
use crate::core::walk::Spec;

pub const DEFAULT_DIR: &str = "migrations";

struct Ctx<'a> {
    args: &'a Args,
    host: &'a dyn Host,
    map: RevisionMap,
}

impl Ctx<'_> {
    fn table(&self) -> String {
        self.args.global.version_table.clone().unwrap_or_else(|| "alembic_version".into())
    }
    fn db_path(&self) -> Result<&str> {
        // Never empty: the arguments and athanor.ini refuse that.
        self.args.global.db.as_deref().ok_or_else(|| Error::Usage(format!("'{}' needs a database: pass --db PATH", self.args.command)))
    }
    fn open(&self, create: bool) -> Result<Option<Box<dyn Database>>> {
        open_db(self.args, self.host, self.db_path()?, create)
    }
    /// The version table's rows; none for a database that does not exist yet. A row
    /// these migrations do not know means the database is ahead of them.
    fn rows(&self) -> Result<Vec<String>> {
        let rows = match self.open(false)? {
            Some(mut db) => connection::read_rows(&mut *db, &self.table())?,
            None => vec![],
        };
        if let Some(r) = rows.iter().find(|r| self.map.index_of(r).is_none()) {
            return Err(Error::DatabaseAhead { revision: r.clone() });
        }
        Ok(rows)
    }

    /// Runs `work` on the database. A database that does not exist yet is created only
    /// when `plan_from_empty` has something to do (and `work` is handed that plan), and
    /// removed again if the run fails while it is still empty and no other connection
    /// holds it: a failed command leaves no file behind, and never removes one another
    /// migrator is using (several may "create" the same file at once; the one whose
    /// upgrade runs keeps it).
    fn with_db<T>(
        &self,
        plan_from_empty: impl FnOnce() -> Result<Plan>,
        work: impl FnOnce(&mut dyn Database, Option<Plan>) -> Result<T>,
    ) -> Result<Option<T>> {
        if let Some(mut db) = self.open(false)? {
            return work(&mut *db, None).map(Some);
        }
        let plan = plan_from_empty()?;
        if plan.steps.is_empty() {
            return Ok(None);
        }
        let path = self.db_path()?;
        let mut db = self.open(true)?.ok_or_else(|| Error::Io(format!("database '{path}' could not be created")))?;
        let result = work(&mut *db, Some(plan));
        // Removed under our EXCLUSIVE lock, released when `db` closes after.
        if result.is_err() && db.claim_if_empty() {
            let _ = self.host.remove_file(path);
            let _ = self.host.remove_file(&format!("{path}-journal"));
        }
        drop(db);
        result.map(Some)
    }
    fn options(&self) -> Options {
        Options {
            version_table: self.table(),
            transaction: if self.args.global.per_migration { TransactionMode::PerMigration } else { TransactionMode::All },
        }
    }
}

/// Opens the database through the host, waiting `--busy-timeout` (when given) for
/// other connections' locks; `None` when it does not exist and `create` is false.
pub(super) fn open_db(args: &Args, host: &dyn Host, path: &str, create: bool) -> Result<Option<Box<dyn Database>>> {
    let mut db = host.open_db(path, create)?;
    if let (Some(db), Some(ms)) = (&mut db, args.global.busy_timeout_ms) {
        // Through SQL, so every host's connection takes it the same way.
        db.exec(&format!("PRAGMA busy_timeout = {ms}")).map_err(crate::core::run::SqlFailure::into_error)?;
    }
    Ok(db)
}

/// The core's run of `planner` on `db` (`verify`: compare checksums; not for a stamp).
/// `from_empty`: the plan `planner` gives for no rows, when already made (a database
/// just created): the run's first look finds no rows and takes it rather than planning
/// again (1,000 revisions: 3 ms of the npm CLI's upgrade).
pub(super) fn run_on(
    db: &mut dyn Database,
    map: &RevisionMap,
    options: &Options,
    verify: bool,
    planner: &dyn Fn(&[String]) -> Result<Plan>,
    from_empty: Option<Plan>,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report> {
    let from_empty = std::cell::Cell::new(from_empty);
    let planner = |rows: &[String]| match from_empty.take() {
        Some(plan) if rows.is_empty() => Ok(plan),
        _ => planner(rows),
    };
    let mut host = SqlHost::new(db, &options.version_table);
    Run::new(&mut host, map, options).run(verify, &planner, on_event)
}

/// Reads and parses every migration of `dir` into a validated map.
pub fn load_map(host: &dyn Host, dir: &str) -> Result<RevisionMap> {
    map_of(&read_files(host, dir)?)
}

/// The migration files of `dir`, read once (commands that need the texts, such as
/// `bundle`, take them from here too).
pub fn read_files(host: &dyn Host, dir: &str) -> Result<Vec<MigrationFile>> {
    if !host.exists(dir) {
        return Err(Error::Io(format!("migrations directory '{dir}' does not exist (run `athanor init`, or pass --dir)")));
    }
    host.read_migrations(dir)
}

/// The revision map of files read by `read_files`.
pub fn map_of(files: &[MigrationFile]) -> Result<RevisionMap> {
    let scripts = files.iter().map(|f| script::parse_bytes(&f.file_name, &f.path, &f.bytes)).collect::<Result<Vec<_>>>()?;
    RevisionMap::new(scripts)
}

pub fn dispatch(args: &Args, host: &dyn Host, out: &mut Output) -> Result<()> {
    let mut args = args.clone();
    config::apply(host, &mut args.global)?;
    let args = &args;
    let dir = args.global.dir.clone().unwrap_or_else(|| DEFAULT_DIR.into());
    if args.command == "init" {
        return authoring::init(args, &dir, host, out);
    }
    if args.command == "adopt" {
        // Its migrations directory may not exist yet, and must hold no revision.
        #[cfg(feature = "autogen")]
        return adopt::adopt(args, &dir, host, out);
        #[cfg(not(feature = "autogen"))]
        return Err(without_autogen());
    }
    let files = read_files(host, &dir)?;
    let map = map_of(&files)?;
    let ctx = Ctx { args, host, map };
    let result = match args.command.as_str() {
        "revision" => authoring::revision(&ctx.map, args, &dir, host, out),
        "bundle" => bundle::bundle(&ctx.map, &dir, &files, args.output.as_deref(), host, out),
        "merge" => authoring::merge(&ctx.map, args, &dir, host, out),
        "current" => current(&ctx, out),
        "heads" => heads(&ctx, out),
        "branches" => branches(&ctx, out),
        "history" => history(&ctx, out),
        "show" => show(&ctx, out),
        "upgrade" => migrate(&ctx, out, true),
        "downgrade" => migrate(&ctx, out, false),
        "stamp" => stamp(&ctx, out),
        #[cfg(feature = "autogen")]
        "check" => authoring::check(&ctx.map, args, host, out),
        #[cfg(feature = "autogen")]
        "test" => safety::test(&ctx.map, args, out),
        #[cfg(feature = "autogen")]
        "lint" => safety::lint(&ctx.map, args, host, &files, out),
        #[cfg(not(feature = "autogen"))]
        "check" | "test" | "lint" => Err(without_autogen()),
        other => Err(Error::Usage(format!("unknown command '{other}'"))),
    };
    // The npm CLI's wasm runs one command and its process ends: freeing every file and
    // revision one by one would only cost time (1,000 revisions: 0.5 ms at head).
    // Natively, tests run many commands in one process.
    if cfg!(target_arch = "wasm32") {
        std::mem::forget((files, ctx));
    }
    result
}

/// A command that needs autogenerate in a build without it (the npm CLI's lean wasm
/// hands such commands to the full one before they get here).
#[cfg(not(feature = "autogen"))]
pub(super) fn without_autogen() -> Error {
    Error::Usage("this command needs autogenerate, which this build of athanor leaves out".into())
}

fn line(out: &mut Output, text: &str) {
    out.stdout.push_str(text);
    out.stdout.push('\n');
}

fn info(out: &mut Output, text: &str) {
    out.stderr.push_str(&format!("INFO  [athanor] {text}\n"));
}

fn current(ctx: &Ctx, out: &mut Output) -> Result<()> {
    let rows = ctx.rows()?;
    if ctx.args.verbose {
        line(out, &format!("Current revision(s) for sqlite:///{}:", ctx.db_path()?));
    }
    let show = Show { verbose: ctx.args.verbose, ..Show::plain() };
    for rev in ctx.map.all_current(&rows)? {
        line(out, &cmd_format(&ctx.map, rev, &show));
    }
    Ok(())
}

fn heads(ctx: &Ctx, out: &mut Output) -> Result<()> {
    let heads = if ctx.args.resolve_dependencies { ctx.map.real_heads.clone() } else { ctx.map.heads.clone() };
    let show = Show { verbose: ctx.args.verbose, include_branches: true, tree_indicators: false, ..Show::plain() };
    for h in heads {
        line(out, &cmd_format(&ctx.map, h, &show));
    }
    Ok(())
}

fn branches(ctx: &Ctx, out: &mut Output) -> Result<()> {
    let all = ctx.map.walk_revisions(&Spec::Expr("base".into()), &Spec::Expr("heads".into()))?;
    let verbose = ctx.args.verbose;
    for rev in all {
        let node = ctx.map.node(rev);
        if !node.is_branch_point() {
            continue;
        }
        let head = cmd_format(&ctx.map, rev, &Show { verbose, include_branches: true, ..Show::plain() });
        let pad = " ".repeat(node.id().chars().count());
        let children: Vec<String> = node
            .next
            .iter()
            .map(|&c| format!("{pad} -> {}", cmd_format(&ctx.map, c, &Show { include_branches: true, include_doc: verbose, ..Show::plain() })))
            .collect();
        line(out, &format!("{head}\n{}\n", children.join("\n")));
    }
    Ok(())
}

fn history(ctx: &Ctx, out: &mut Output) -> Result<()> {
    let (base, head) = match &ctx.args.rev_range {
        Some(r) => parse_range(r)?,
        None => ("", ""),
    };
    let needs_db = base == "current" || head == "current" || ctx.args.indicate_current;
    let rows = if needs_db { ctx.rows()? } else { vec![] };
    let revs = ctx.map.walk_revisions(&side_spec(base, "base", &rows), &side_spec(head, "heads", &rows))?;
    for rev in revs {
        let current = ctx.args.indicate_current && rows.iter().any(|r| r == ctx.map.id(rev));
        let show = Show { verbose: ctx.args.verbose, include_branches: true, include_doc: true, include_parents: true, current, ..Show::plain() };
        line(out, &cmd_format(&ctx.map, rev, &show));
    }
    Ok(())
}

fn show(ctx: &Ctx, out: &mut Output) -> Result<()> {
    let [rev] = ctx.args.positional.as_slice() else {
        return Err(Error::Usage("show needs one revision".into()));
    };
    let targets: Vec<usize> = if rev == "current" {
        let rows = ctx.rows()?;
        ctx.map.get_revisions_all(&rows)?.into_iter().filter_map(|p| p.rev()).collect()
    } else {
        ctx.map.get_revisions(rev)?.into_iter().filter_map(|p| p.rev()).collect()
    };
    for t in targets {
        line(out, &log_entry(&ctx.map, t, false));
    }
    Ok(())
}

fn log_steps(ctx: &Ctx, out: &mut Output, plan: &Plan) {
    for w in &plan.warnings {
        out.stderr.push_str(&format!("WARNING [athanor] {w}\n"));
    }
    for step in &plan.steps {
        info(out, &format!("Running {}", step.log(&ctx.map)));
    }
}

/// `--sql`: the starting rows from `FROM:` of a range, as Alembic's offline mode.
fn offline_start(ctx: &Ctx, from: Option<&str>) -> Result<Vec<String>> {
    match from {
        None | Some("base") | Some("") => Ok(vec![]),
        Some(f) => Ok(ctx.map.get_revision(f)?.map(|r| vec![ctx.map.id(r).to_string()]).unwrap_or_default()),
    }
}

/// `--sql` is Alembic's offline mode: it never reads the database, unlike the JS API's
/// `plan()`, which starts from the database's rows. A `--db` (or `db =` in athanor.ini)
/// looks as if it counted: say that it does not, on stderr (stdout is the SQL).
fn offline_warning(ctx: &Ctx, out: &mut Output) {
    if let Some(db) = &ctx.args.global.db {
        out.stderr.push_str(&format!(
            "WARNING [athanor] --sql does not read the database: '{db}' is ignored and the SQL starts from base (or from FROM in FROM:TO)\n"
        ));
    }
}

fn migrate(ctx: &Ctx, out: &mut Output, up: bool) -> Result<()> {
    let target = match ctx.args.positional.as_slice() {
        [] if up => "heads".to_string(),
        [t] => t.clone(),
        _ => return Err(Error::Usage(format!("{} takes one target", ctx.args.command))),
    };
    let (from, target) = match target.split_once(':') {
        Some((f, t)) => (Some(f.to_string()), t.to_string()),
        None => (None, target),
    };
    if ctx.args.sql {
        if !up && from.is_none() {
            return Err(Error::Usage("downgrade with --sql requires <fromrev>:<torev>".into()));
        }
        offline_warning(ctx, out);
        let rows = offline_start(ctx, from.as_deref())?;
        let plan = if up { plan::plan_upgrade(&ctx.map, &rows, &target)? } else { plan::plan_downgrade(&ctx.map, &rows, &target)? };
        out.stdout.push_str(&render_plan(&ctx.map, &plan, &ctx.table(), &split_section));
        // Alembic logs each step in offline mode too, beside the SQL.
        log_steps(ctx, out, &plan);
        return Ok(());
    }
    if from.is_some() {
        return Err(Error::Usage("Range revision not allowed".into()));
    }
    let mut progress = String::new();
    let result = ctx.with_db(
        || if up { plan::plan_upgrade(&ctx.map, &[], &target) } else { plan::plan_downgrade(&ctx.map, &[], &target) },
        |db, from_empty| {
            let mut on_event = |e: &Event| {
                if let Event::StepStarted { step, .. } = e {
                    progress.push_str("INFO  [athanor] Running ");
                    step.write_log(&ctx.map, &mut progress);
                    progress.push('\n');
                }
            };
            let planner =
                |rows: &[String]| if up { plan::plan_upgrade(&ctx.map, rows, &target) } else { plan::plan_downgrade(&ctx.map, rows, &target) };
            run_on(db, &ctx.map, &ctx.options(), true, &planner, from_empty, &mut on_event)
        },
    );
    out.stderr.push_str(&progress);
    if let Some(report) = result? {
        for w in &report.plan.warnings {
            out.stderr.push_str(&format!("WARNING [athanor] {w}\n"));
        }
        // Not freed step by step in the npm CLI's wasm, as dispatch's files and map.
        if cfg!(target_arch = "wasm32") {
            std::mem::forget(report);
        }
    }
    Ok(())
}

fn stamp(ctx: &Ctx, out: &mut Output) -> Result<()> {
    if ctx.args.positional.is_empty() {
        return Err(Error::Usage("stamp needs a target".into()));
    }
    if ctx.args.sql {
        if ctx.args.purge {
            return Err(Error::Usage("Can't use --purge with --sql mode".into()));
        }
        offline_warning(ctx, out);
        let mut from = None;
        let mut targets = vec![];
        for t in &ctx.args.positional {
            match t.split_once(':') {
                Some((f, t)) => {
                    if from.is_some_and(|x: &str| x != f) {
                        return Err(Error::Usage("Stamp operation with --sql only supports a single starting revision at a time".into()));
                    }
                    from = Some(f);
                    targets.push(t.to_string());
                }
                None => targets.push(t.clone()),
            }
        }
        let rows = offline_start(ctx, from)?;
        let plan = plan::plan_stamp(&ctx.map, &rows, &targets, false)?;
        out.stdout.push_str(&render_plan(&ctx.map, &plan, &ctx.table(), &split_section));
        log_steps(ctx, out, &plan);
        return Ok(());
    }
    let targets = &ctx.args.positional;
    let report = ctx.with_db(
        || plan::plan_stamp(&ctx.map, &[], targets, ctx.args.purge),
        |db, from_empty| {
            run_on(db, &ctx.map, &ctx.options(), false, &|rows| plan::plan_stamp(&ctx.map, rows, targets, ctx.args.purge), from_empty, &mut |_| {})
        },
    )?;
    if let Some(report) = report {
        log_steps(ctx, out, &report.plan);
    }
    Ok(())
}
