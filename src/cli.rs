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
    /// Poll every source once and print the joined view.
    Snapshot {
        /// Print JSON (the only format so far).
        #[arg(long)]
        json: bool,
    },
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
    let cli = Cli::parse();
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
    let data_dir = paths::data_dir();
    let _log = logging::init(&data_dir)
        .map_err(|e| eprintln!("cre-cockpit: logging disabled: {e}"))
        .ok();
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
        Some(Command::Demo(options)) => (demo(options).await?, None),
        command => (load(cli.config).await?, command),
    };
    let Loaded {
        config,
        secrets,
        simulator,
        demo,
    } = loaded;
    let result = match command {
        Some(Command::Snapshot { json: _ }) => snapshot(&config, secrets, demo).await,
        Some(Command::Check) => check(&config, secrets, demo).await,
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
        _ => tui(&config, secrets, demo, read_only, started).await,
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
            })
        }
        None => {
            demo(DemoOptions {
                simulator: None,
                poll_every: crate::cli::demo::POLL_EVERY,
                scenario: SimOptions::default(),
            })
            .await
        }
    }
}

/// Start the simulator and point a config at it.
async fn demo(options: DemoOptions) -> Result<Loaded, Failure> {
    let dir = paths::data_dir().join("demo");
    if let Some(url) = options.simulator {
        let accounts = fetch_accounts(&url).await?;
        let (config, secrets) =
            crate::cli::demo::config_for(&url, &accounts, &dir, options.poll_every)?;
        tracing::info!(%url, "demo against a simulator running elsewhere");
        return Ok(Loaded {
            config,
            secrets,
            simulator: None,
            demo: true,
        });
    }
    let sim = Simulator::start(options.scenario).await?;
    let (config, secrets) = crate::cli::demo::config(&sim, &dir, options.poll_every)?;
    tracing::info!(url = %sim.base_url(), "demo simulator started");
    Ok(Loaded {
        config,
        secrets,
        simulator: Some(sim),
        demo: true,
    })
}

/// The accounts file a running simulator serves.
async fn fetch_accounts(url: &str) -> Result<String, Failure> {
    let failed = |e: crate::core::domain::SourceError| {
        Failure::Other(format!("simulator at {url}: {}", e.message))
    };
    let base = http::base_url(url, false).map_err(failed)?;
    let (_, _, body) = http::send(
        "accounts",
        http::client().get(http::join(&base, "/accounts.csv")),
    )
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
) -> Result<ExitCode, Failure> {
    let client = http::client();
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
    let (store, stored) = crate::store::open_and_load(&store_dir(demo), Timestamp::now());
    let _ = tx.send(crate::model::message::Message::Stored(stored));
    let cancel = CancellationToken::new();
    terminal::cancel_on_signals(cancel.clone());
    let pollers = sources.spawn(&tx, &cancel);
    // The journal: what was written before shows at once, and whatever is
    // still pending (from this or an earlier run) is delivered.
    let journal = writes::open_journal(demo)?;
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
) -> Result<Model, Failure> {
    let client = http::client();
    let sources = resumable(Sources::build(config, secrets, &client)?, demo);
    let mut model = Model::new(config.settings(demo), sources.states(), Timestamp::now());
    let (store, stored) = crate::store::open_and_load(&store_dir(demo), model.now);
    model.update(crate::model::message::Message::Stored(stored));
    // The journal's writes: links made by hand and the update cadence.
    if let Ok(journal) = writes::open_journal(demo)
        && let Ok(recent) = crate::app::outbox::with_journal(&journal, |j| j.recent(500)).await
    {
        model.update(crate::model::message::Message::JournalLoaded(recent));
    }
    for message in sources.poll_once().await {
        model.update(message);
    }
    if save {
        save_now(&mut model, store.as_ref());
    }
    Ok(model)
}

async fn snapshot(config: &Config, secrets: Secrets, demo: bool) -> Result<ExitCode, Failure> {
    let model = poll_model(config, secrets, demo, true).await?;
    let json = serde_json::to_string_pretty(&snapshot::to_json(&model))
        .map_err(|e| Failure::Other(e.to_string()))?;
    // serde_json escapes C0 controls but writes C1 and bidi characters as
    // they are; whatever the sources sent, the terminal gets none of them.
    println!("{}", crate::core::sanitize::multiline(&json));
    Ok(ExitCode::SUCCESS)
}

async fn check(config: &Config, secrets: Secrets, demo: bool) -> Result<ExitCode, Failure> {
    let model = poll_model(config, secrets, demo, false).await?;
    let mut failed = false;
    for s in &model.sources {
        match &s.last_error {
            Some(error) => {
                failed = true;
                let error = crate::core::sanitize::text(&error.to_string());
                println!("✗ {} ({}): {error}", s.kind, s.vendor);
            }
            None => println!("✓ {} ({}): ok", s.kind, s.vendor),
        }
    }
    if model.sources.is_empty() {
        println!("no sources configured");
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
    std::fs::write(&path, crate::config::TEMPLATE)?;
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
