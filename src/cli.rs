//! Command line: parse, pick the config (or the demo), run the command.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub mod demo;
mod handover;
mod writes;

use clap::{Parser, Subcommand};
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::wiring::{Secrets, Sources};
use crate::config::Config;
use crate::model::Model;
use crate::simulator::{SimOptions, Simulator};
use crate::sources::http;
use crate::{app, app::logging, app::terminal, config::paths, report::snapshot};

#[derive(Debug, Parser)]
#[command(
    name = "cre-cockpit",
    version,
    about = "A terminal cockpit for Customer Reliability Engineers"
)]
pub struct Cli {
    /// Config file (default: the XDG config dir's cre-cockpit/config.toml).
    #[arg(long, global = true, env = "CRE_COCKPIT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Turn every write off.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Log level or filter (error, warn, info, debug, trace, or e.g.
    /// `cre_cockpit=debug`); default: CRE_COCKPIT_LOG, else info.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `demo`: the built-in simulator in this process, or one already running.
#[derive(Debug, clap::Args)]
pub struct DemoOptions {
    /// Use a simulator started elsewhere with `cre-cockpit simulate` (its
    /// base URL) instead of starting one here; the scenario flags are then
    /// ignored. Measures the cockpit apart from the simulator.
    #[arg(long, value_name = "URL")]
    pub simulator: Option<String>,
    /// How often each source is polled (the demo polls faster than the
    /// 30 s default of a real config, so the scenario visibly moves).
    #[arg(long, default_value = "5s", value_parser = crate::simulator::parse_duration)]
    pub poll_every: std::time::Duration,
    #[command(flatten)]
    pub scenario: SimOptions,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the cockpit against the built-in simulator (its scale and
    /// scenario flags as for `simulate`).
    Demo(DemoOptions),
    /// Write a commented config template to the config dir (or --config).
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Validate the config and probe every source; non-zero on failure.
    Check,
    /// Poll every source until its first complete read and print the
    /// joined view (JSON follows assets/snapshot.schema.json).
    Snapshot {
        /// json: the whole view; csv: one row per customer, in attention
        /// order; markdown: sources, customers and incidents as tables.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// The same as --format json (kept for scripts that pass it).
        #[arg(long, hide = true, conflicts_with = "format")]
        json: bool,
        /// How long to wait for every source's first complete read; a
        /// source still incomplete then is reported as partial, with why.
        #[arg(long, default_value = "120s", value_parser = crate::simulator::parse_duration)]
        wait: std::time::Duration,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output.
    Man,
    /// Run the simulator alone, until interrupted.
    Simulate(SimOptions),
    /// Add a note to an inquiry, customer or incident (KIND:ID), through the
    /// journal; returns once it is journalled.
    Note {
        /// inquiry:ID, customer:ID or incident:ID.
        target: String,
        /// The note's text.
        text: String,
        /// Wait until the note is delivered (or has failed).
        #[arg(long)]
        wait: bool,
    },
    /// Escalate an item (KIND:ID) to a target of the escalation map.
    Escalate {
        /// inquiry:ID, customer:ID or incident:ID.
        target: String,
        /// The escalation target's name (`[[escalation.targets]] name`).
        #[arg(long)]
        to: String,
        /// Wait until every effect is delivered (or has failed).
        #[arg(long)]
        wait: bool,
    },
    /// Post a customer update on an incident (incident:ID) to every linked
    /// inquiry, through the journal: each inquiry gets its own rendering of
    /// the template, checked like the TUI's (`u` in incident mode).
    Update {
        /// incident:ID.
        target: String,
        /// The template to use: a name of [incident_updates.templates]
        /// (investigating, identified, monitoring, resolved).
        #[arg(long)]
        status: String,
        /// Send public replies the customers read (default: private notes).
        #[arg(long)]
        public: bool,
        /// Use this file's text as the template instead ("-": standard input).
        #[arg(long, value_name = "FILE")]
        message: Option<PathBuf>,
        /// Wait until every reply is delivered (or has failed).
        #[arg(long)]
        wait: bool,
    },
    /// Link an inquiry to an incident by hand (or undo it with --unlink):
    /// kept in the journal; the join, the incident's counts and customer
    /// updates follow it.
    Link {
        /// inquiry:ID.
        inquiry: String,
        /// incident:ID.
        incident: String,
        /// Remove the link (also one the cockpit found by itself).
        #[arg(long)]
        unlink: bool,
    },
    /// Deliver every pending write now; non-zero if anything is undelivered.
    Sync,
    /// Poll every source once and print the shift handover report
    /// (markdown): incidents and customer updates, customers to watch, SLA
    /// breaches to come, this shift's writes, error budgets, open questions.
    Handover {
        /// How far back the shift goes, e.g. 8h or 12h (default: [kpi] shift).
        #[arg(long)]
        since: Option<String>,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Output formats of `snapshot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
    Markdown,
}

/// What `--help` ends with: the exit codes and where things are.
fn help_footer() -> String {
    let config = crate::config::default_path().map_or_else(
        || "none (no home directory)".into(),
        |p| p.display().to_string(),
    );
    format!(
        "Exit codes: 0 ok; 1 a source failed (check: or joins badly); 2 usage or config error.\n\
         Config: {config} (--config, CRE_COCKPIT_CONFIG)\n\
         Data:   {}\n\
         Log:    {} (--log-level, CRE_COCKPIT_LOG)",
        paths::data_dir().display(),
        logging::path(&paths::log_dir()).display()
    )
}

/// Write to stdout; a reader that went away (`| head`) is not an error.
fn print_bytes(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cre-cockpit: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The command line's definition, with the footer filled in.
#[must_use]
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().after_help(help_footer())
}

/// Everything that can stop a command, each with the text the user sees.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// Entry point for `main`.
#[must_use]
pub fn main() -> ExitCode {
    // Time to first frame counts from here (the performance record).
    let started = std::time::Instant::now();
    let cli = {
        use clap::FromArgMatches;
        Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit())
    };
    // These print what the command line is; they need no runtime or log.
    match &cli.command {
        Some(Command::Completions { shell }) => {
            // Into a buffer first: `generate` panics on a write error (a
            // closed pipe), which a printing command must not.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command(), "cre-cockpit", &mut script);
            return print_bytes(&script);
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            if let Err(e) = clap_mangen::Man::new(command()).render(&mut page) {
                eprintln!("cre-cockpit: {e}");
                return ExitCode::FAILURE;
            }
            return print_bytes(&page);
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cre-cockpit: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _log = match logging::init(&paths::log_dir(), cli.log_level.as_deref()) {
        Ok(guard) => Some(guard),
        // A level that does not parse is a usage error, not a reason to
        // run without the log the user asked for.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            eprintln!("cre-cockpit: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("cre-cockpit: logging disabled: {e}");
            None
        }
    };
    match runtime.block_on(dispatch(cli, started)) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(%error, "exiting with an error");
            eprintln!("cre-cockpit: {error}");
            ExitCode::from(2)
        }
    }
}

async fn dispatch(cli: Cli, started: std::time::Instant) -> Result<ExitCode, Failure> {
    let read_only = cli.read_only;
    let (loaded, command) = match cli.command {
        Some(Command::Init { force }) => return init(cli.config, force),
        Some(Command::Simulate(options)) => return simulate(options).await,
        Some(Command::Demo(options)) => (demo(options, cli.config).await?, None),
        command => (load(cli.config).await?, command),
    };
    let Loaded {
        config,
        secrets,
        simulator,
        demo,
        path,
        client,
    } = loaded;
    let origin = Origin { demo, path };
    let result = match command {
        Some(Command::Snapshot { format, json, wait }) => {
            let format = if json { Format::Json } else { format };
            snapshot(&config, secrets, demo, format, wait).await
        }
        Some(Command::Check) => check(&config, secrets, &origin).await,
        Some(Command::Note { target, text, wait }) => {
            writes::note(&config, &secrets, demo, read_only, &target, text, wait).await
        }
        Some(Command::Escalate { target, to, wait }) => {
            writes::escalate(&config, secrets, demo, read_only, &target, &to, wait).await
        }
        Some(Command::Update {
            target,
            status,
            public,
            message,
            wait,
        }) => {
            let options = writes::UpdateOptions {
                status,
                public,
                message,
                wait,
            };
            writes::update(&config, secrets, demo, read_only, &target, options).await
        }
        Some(Command::Link {
            inquiry,
            incident,
            unlink,
        }) => {
            writes::link(
                &config, &secrets, demo, read_only, &inquiry, &incident, !unlink,
            )
            .await
        }
        Some(Command::Sync) => writes::sync(&config, &secrets, demo, read_only).await,
        Some(Command::Handover { since, out }) => {
            handover::run(&config, secrets, demo, since.as_deref(), out.as_deref()).await
        }
        _ => {
            let client = client.unwrap_or_else(http::client);
            tui(&config, secrets, demo, read_only, started, client).await
        }
    };
    if let Some(sim) = simulator {
        sim.shutdown().await;
    }
    result
}

/// The configuration a command runs with, and the simulator behind it in
/// the demo.
struct Loaded {
    config: Config,
    secrets: Secrets,
    /// The in-process simulator, kept alive while the cockpit runs.
    simulator: Option<Simulator>,
    /// Pointed at a simulator (here or elsewhere): the demo's own store.
    demo: bool,
    /// The user's config file, if one was read.
    path: Option<PathBuf>,
    /// The HTTP client already built on the way here (to read a running
    /// simulator's accounts): building one loads the system's root
    /// certificates, which the first frame should not wait for twice.
    client: Option<http::Client>,
}

/// Where the configuration came from, for `check` to say.
struct Origin {
    demo: bool,
    path: Option<PathBuf>,
}

/// The user's config, or the demo when there is none.
async fn load(explicit: Option<PathBuf>) -> Result<Loaded, Failure> {
    match explicit.or_else(|| crate::config::default_path().filter(|p| p.exists())) {
        Some(path) => {
            let config = Config::load(&path)?;
            warn_if_world_readable(&path);
            let secrets = Secrets::from_env(&config)?;
            Ok(Loaded {
                config,
                secrets,
                simulator: None,
                demo: false,
                path: Some(path),
                client: None,
            })
        }
        None => {
            demo(
                DemoOptions {
                    simulator: None,
                    poll_every: crate::cli::demo::POLL_EVERY,
                    scenario: SimOptions::default(),
                },
                None,
            )
            .await
        }
    }
}

/// Start the simulator and point a config at it, with the user's file
/// (`demo --config FILE`) merged over the demo's.
async fn demo(options: DemoOptions, user: Option<PathBuf>) -> Result<Loaded, Failure> {
    let dir = paths::data_dir().join("demo");
    if let Some(path) = &user {
        warn_if_world_readable(path);
    }
    let (url, accounts, simulator, client) = match options.simulator {
        Some(url) => {
            let client = http::client();
            let accounts = fetch_accounts(&client, &url).await?;
            tracing::info!(%url, "demo against a simulator running elsewhere");
            (url, accounts, None, Some(client))
        }
        None => {
            let sim = Simulator::start(options.scenario).await?;
            tracing::info!(url = %sim.base_url(), "demo simulator started");
            (sim.base_url(), sim.accounts_csv(), Some(sim), None)
        }
    };
    let (config, secrets) =
        crate::cli::demo::config_for(&url, &accounts, &dir, options.poll_every, user.as_deref())?;
    Ok(Loaded {
        config,
        secrets,
        simulator,
        demo: true,
        path: user,
        client,
    })
}

/// The accounts file a running simulator serves.
async fn fetch_accounts(client: &http::Client, url: &str) -> Result<String, Failure> {
    let failed = |e: crate::core::domain::SourceError| {
        Failure::Other(format!("simulator at {url}: {}", e.message))
    };
    let base = http::base_url(url, false).map_err(failed)?;
    let (_, _, body) = http::send("accounts", client.get(http::join(&base, "/accounts.csv")))
        .await
        .map_err(failed)?;
    String::from_utf8(body)
        .map_err(|_| Failure::Other(format!("simulator at {url}: accounts.csv is not UTF-8")))
}

async fn tui(
    config: &Config,
    secrets: Secrets,
    demo: bool,
    read_only: bool,
    started: std::time::Instant,
    client: http::Client,
) -> Result<ExitCode, Failure> {
    let writers = crate::app::outbox::Writers::from_config(config, &secrets, &client, read_only)
        .map_err(|e| Failure::Other(e.message))?;
    let sources = resumable(Sources::build(config, secrets, &client)?, demo);
    let writers = writers.sharing(sources.rate_gates());
    let mut settings = config.settings(demo);
    settings.read_only |= read_only;
    let model = Model::new(settings, sources.states(), Timestamp::now());
    let (tx, rx) = mpsc::unbounded_channel();
    // The stored history arrives as the first message; the loop saves
    // through the handle.
    let (store, stored) = writes::open_history(config, demo, Timestamp::now())?;
    let _ = tx.send(crate::model::message::Message::Stored(stored));
    let cancel = CancellationToken::new();
    terminal::cancel_on_signals(cancel.clone());
    // Team mode: one cockpit of the team polls the desk and incidents.
    let team = writes::team_target(config, demo)?.map(|target| {
        crate::app::team_feed::Team::new(target, config.ui.me.clone().unwrap_or_default())
    });
    let pollers = sources.spawn_in_team(&tx, &cancel, team);
    // The journal: what was written before shows at once, and whatever is
    // still pending (from this or an earlier run) is delivered.
    let journal = writes::open_journal(config, demo)?;
    if let Ok(recent) = crate::app::outbox::with_journal(&journal, |j| j.recent(500)).await {
        let _ = tx.send(crate::model::message::Message::JournalLoaded(recent));
    }
    if let Some(lost) =
        crate::app::outbox::with_journal(&journal, |j| Ok(j.lost().map(str::to_owned)))
            .await
            .ok()
            .flatten()
    {
        let _ = tx.send(crate::model::message::Message::Status(format!(
            "journal: {lost}"
        )));
    }
    let accepts = writers.accepts();
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    crate::app::outbox::spawn(
        journal.clone(),
        writers,
        wake.clone(),
        tx.clone(),
        cancel.clone(),
    );
    // Team mode: teammates see what this cockpit has open, and it theirs.
    let presence = config
        .team
        .as_ref()
        .map(|_| crate::app::presence::spawn(journal.clone(), tx.clone(), cancel.clone()));
    let (mut term, guard) = terminal::enter()?;
    let runtime = app::Runtime {
        tx,
        rx,
        pollers,
        cancel: cancel.clone(),
        clipboard: Box::new(terminal::osc52),
        journal: Some(journal),
        outbox: Some(wake),
        accepts: Some(accepts),
        editor: Some(Box::new(terminal::edit_externally)),
        notifier: Some(Box::new(terminal::notify)),
        store: store.clone(),
        started: Some(started),
        presence,
    };
    let result = app::run(&mut term, model, terminal::input(), runtime).await;
    drop(guard);
    cancel.cancel();
    let mut model = result?;
    // Keep the last scores of the session.
    save_now(&mut model, store.as_ref());
    Ok(ExitCode::SUCCESS)
}

/// A real desk resumes from its saved cursor in the data dir; the demo's
/// simulator is new every run, so its desk starts afresh.
fn resumable(sources: Sources, demo: bool) -> Sources {
    if demo {
        sources
    } else {
        sources.resume_in(&paths::data_dir())
    }
}

/// Where the local store lives: the demo keeps its own, so simulated
/// customers never mix with real ones.
fn store_dir(demo: bool) -> PathBuf {
    if demo {
        paths::data_dir().join("demo")
    } else {
        paths::data_dir()
    }
}

/// Save what the model has now, synchronously (at exit).
fn save_now(model: &mut Model, store: Option<&crate::store::Handle>) {
    if let (Some(store), Some(crate::model::message::Effect::Persist(batch))) =
        (store, model.persist_now())
        && let Err(e) = store.save(&batch, model.now)
    {
        tracing::warn!(error = %e, "saving health history failed");
        eprintln!("cre-cockpit: could not save health history: {e}");
    }
}

/// Poll every source once into a fresh model with the stored history;
/// `save` keeps today's scores (a cron'd `snapshot` builds the trend).
async fn poll_model(
    config: &Config,
    secrets: Secrets,
    demo: bool,
    save: bool,
    wait: std::time::Duration,
) -> Result<Model, Failure> {
    let client = http::client();
    let sources = resumable(Sources::build(config, secrets, &client)?, demo);
    let mut model = Model::new(config.settings(demo), sources.states(), Timestamp::now());
    let (store, stored) = writes::open_history(config, demo, model.now)?;
    model.update(crate::model::message::Message::Stored(stored));
    // The journal's writes: links made by hand and the update cadence.
    if let Ok(journal) = writes::open_journal(config, demo)
        && let Ok(recent) = crate::app::outbox::with_journal(&journal, |j| j.recent(500)).await
    {
        model.update(crate::model::message::Message::JournalLoaded(recent));
    }
    let (messages, partial) = sources.poll_complete(wait).await;
    for message in messages {
        model.update(message);
    }
    for state in &mut model.sources {
        state.partial = match (
            &state.last_error,
            partial.iter().find(|(k, _)| *k == state.kind),
        ) {
            (Some(error), _) => Some(format!("failed: {error}")),
            (None, Some((_, why))) => Some(why.clone()),
            (None, None) => None,
        };
        // A source whose first complete read is still under way is not
        // "ready", whatever its last page said: scripts read this field.
        if state.partial.is_some() && state.last_error.is_none() {
            state.status = crate::core::source::SourceStatus::Loading;
        }
    }
    if save {
        save_now(&mut model, store.as_ref());
    }
    Ok(model)
}

async fn snapshot(
    config: &Config,
    secrets: Secrets,
    demo: bool,
    format: Format,
    wait: std::time::Duration,
) -> Result<ExitCode, Failure> {
    let model = poll_model(config, secrets, demo, true, wait).await?;
    let text = match format {
        // Streamed (and sanitised on the way): at 100k inquiries the whole
        // document is tens of megabytes.
        Format::Json => {
            snapshot::write_json(&model, std::io::stdout().lock())
                .map_err(|e| Failure::Other(e.to_string()))?;
            None
        }
        Format::Csv => Some(snapshot::to_csv(&model).map_err(|e| Failure::Other(e.to_string()))?),
        Format::Markdown => Some(snapshot::to_markdown(&model)),
    };
    // serde_json escapes C0 controls but writes C1 and bidi characters as
    // they are; whatever the sources sent, the terminal gets none of them.
    if let Some(text) = text {
        println!("{}", crate::core::sanitize::multiline(&text));
    }
    // A partial read is not the complete answer a script asked for, whether
    // the source failed or the wait ran out: exit 1 either way (README).
    let mut failed = false;
    for s in &model.sources {
        if let Some(why) = &s.partial {
            failed = true;
            eprintln!(
                "cre-cockpit: {} ({}) partial: {}",
                s.kind,
                s.vendor,
                crate::core::sanitize::text(why)
            );
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// How long the commands that read before they act (`handover`, `note`,
/// `escalate`, `update`) wait for every source's first complete read.
const POLL_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// How long `check` waits for a desk's first read to complete (the join
/// coverage it reports is of what was read by then).
const CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

async fn check(config: &Config, secrets: Secrets, loaded: &Origin) -> Result<ExitCode, Failure> {
    let demo = loaded.demo;
    if demo {
        println!("DEMO: probing the built-in simulator, not your services");
    }
    match &loaded.path {
        Some(path) => println!("config  {}", path.display()),
        None => println!("config  none (the demo; `cre-cockpit init` writes one)"),
    }
    println!("data    {}", paths::data_dir().display());
    println!("log     {}", logging::path(&paths::log_dir()).display());
    if config.desk.is_none() && config.metrics.is_none() && config.incidents.is_none() {
        println!("✗ no sources configured: add [desk], [metrics] or [incidents] to the config");
        return Ok(ExitCode::from(2));
    }
    let model = poll_model(config, secrets, demo, false, CHECK_WAIT).await?;
    if config.accounts.is_none() {
        println!("· no [accounts] file: nothing is joined to customers");
    }
    let mut failed = false;
    let say = |text: &str| crate::core::sanitize::text(text);
    for s in &model.sources {
        match &s.last_error {
            Some(error) => {
                failed = true;
                println!("✗ {} ({}): {}", s.kind, s.vendor, say(error));
            }
            None => {
                let summary = s
                    .coverage
                    .as_ref()
                    .map_or_else(|| ": ok".into(), |c| format!(": ok; {}", c.summary));
                println!("✓ {} ({}){}", s.kind, s.vendor, say(&summary));
            }
        }
        // A source that answers but joins nothing (or answers nothing) is
        // as much a reason to fix the config as one that fails.
        let mut warnings: Vec<&String> = s.coverage.iter().flat_map(|c| &c.warnings).collect();
        if s.kind == crate::core::domain::SourceKind::Metrics && s.last_error.is_none() {
            warnings.extend(&model.data.metrics.warnings);
        }
        for warning in warnings {
            failed = true;
            println!("  ⚠ {}", say(warning));
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn init(explicit: Option<PathBuf>, force: bool) -> Result<ExitCode, Failure> {
    let path = explicit
        .or_else(crate::config::default_path)
        .ok_or_else(|| Failure::Other("no home directory: pass --config PATH".into()))?;
    if path.exists() && !force {
        return Err(Failure::Other(format!(
            "{} exists; pass --force to overwrite",
            path.display()
        )));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // The owner's alone from the first byte: the config names hosts and
    // where the tokens live, and the next command warns about any wider mode.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(
        &mut options.open(&path)?,
        crate::config::TEMPLATE.as_bytes(),
    )?;
    #[cfg(unix)]
    {
        // --force over a file that was wider: `mode` applies to new files only.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    println!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

async fn simulate(options: SimOptions) -> Result<ExitCode, Failure> {
    let sim = Simulator::start(options).await?;
    println!("simulator listening on {}", sim.base_url());
    println!(
        "  Zendesk    {}/api/v2/incremental/tickets/cursor",
        sim.base_url()
    );
    println!("  Prometheus {}/api/v1/query", sim.base_url());
    println!("  PagerDuty  {}/incidents", sim.base_url());
    println!("  accounts   {}/accounts.csv", sim.base_url());
    println!(
        "run the cockpit on it: cre-cockpit demo --simulator {}",
        sim.base_url()
    );
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// The config holds no secrets, but it names where they live (variables,
/// keyring entries, hosts); warn if other users can read it anyway. On
/// stderr, where the user sees it before the TUI takes the screen, and in
/// the log.
fn warn_if_world_readable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o044 != 0
        {
            let mode = meta.permissions().mode() & 0o777;
            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "config file is readable by other users");
            eprintln!(
                "cre-cockpit: warning: {} is readable by other users (mode {mode:o}); chmod 600 it",
                path.display()
            );
        }
    }
}
