//! `note`, `escalate`, `update` and `sync`: writes from scripts and runbooks, through
//! the same journal and outbox as the TUI.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;

use super::Failure;
use crate::app::outbox::{self, SharedJournal, Writers};
use crate::app::wiring::Secrets;
use crate::config::Config;
use crate::core::writes::{SourceWrite, StepState, Target, WriteKind};
use crate::sources::http;
use crate::store::journal::Journal;

/// How long `--wait` waits for delivery before giving up (the write stays
/// journalled and is delivered later by the TUI or `sync`).
const WAIT_LIMIT: Duration = Duration::from_secs(120);

/// The journal: the team's PostgreSQL store with `[team]`, else the
/// project's one SQLite database in the store's directory. Either way the
/// demo's writes stay apart from a real desk's (its own file or schema),
/// and every write records `[ui] me` as its author.
pub fn open_journal(config: &Config, demo: bool) -> Result<SharedJournal, Failure> {
    let journal = match team_target(config, demo)? {
        Some(target) => Journal::connect(&target),
        None => Journal::open(&super::store_dir(demo).join(crate::store::FILE)),
    }
    .map_err(|e| Failure::Other(e.to_string()))?
    .with_author(config.ui.me.clone());
    if let Some(lost) = journal.lost() {
        eprintln!("warning: journal: {lost}");
        tracing::error!("journal: {lost}");
    }
    Ok(Arc::new(Mutex::new(journal)))
}

/// The team store (`[team]`), with its password read, if configured.
pub fn team_target(
    config: &Config,
    demo: bool,
) -> Result<Option<crate::store::journal::TeamTarget>, Failure> {
    let Some(team) = &config.team else {
        return Ok(None);
    };
    let password = team.password().map_err(Failure::Other)?;
    crate::store::journal::TeamTarget::new(&team.store, password.as_deref(), &team.schema_for(demo))
        .map(Some)
        .map_err(|e| Failure::Other(e.to_string()))
}

/// The health history: the team's in team mode (every CRE sees the same
/// trend), else the local store's; with what it held, or why it could not
/// be read.
pub fn open_history(
    config: &Config,
    demo: bool,
    now: jiff::Timestamp,
) -> Result<
    (
        Option<crate::store::Handle>,
        Result<crate::insight::history::Loaded, String>,
    ),
    Failure,
> {
    Ok(match team_target(config, demo)? {
        Some(target) => crate::store::open_and_load_team(&target, now),
        None => crate::store::open_and_load(&super::store_dir(demo), now),
    })
}

fn writers(config: &Config, secrets: &Secrets, read_only: bool) -> Result<Writers, Failure> {
    Writers::from_config(config, secrets, &http::client(), read_only)
        .map_err(|e| Failure::Other(e.message))
}

/// Journal a write (refusing what could never be delivered), then deliver
/// it if asked to wait.
async fn record(
    journal: &SharedJournal,
    mut writers: Writers,
    kind: WriteKind,
    target: Target,
    text: String,
    effects: Vec<SourceWrite>,
    wait: bool,
) -> Result<ExitCode, Failure> {
    if let Some(reason) = writers.refuse(&effects) {
        return Err(Failure::Other(format!("not saved: {reason}")));
    }
    let (t, e) = (target.clone(), effects.clone());
    let write = outbox::with_journal(journal, move |j| {
        j.insert(kind, &t, &text, e, Timestamp::now())
    })
    .await
    .map_err(|e| Failure::Other(e.to_string()))?;
    println!("journalled write {} ({kind} {target}):", write.id);
    for step in &write.steps {
        println!("  - {}", step.effect.describe());
    }
    if !wait {
        return Ok(ExitCode::SUCCESS);
    }
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    loop {
        let pass = outbox::pass(journal, &mut writers, false, &mut |d| {
            if let Some(e) = &d.error {
                eprintln!("  step {}: {} ({e})", d.step_id, d.state);
            }
        })
        .await
        .map_err(|e| Failure::Other(e.to_string()))?;
        let id = write.id;
        let now = outbox::with_journal(journal, move |j| j.write(id))
            .await
            .map_err(|e| Failure::Other(e.to_string()))?;
        let state = now.map_or(StepState::Failed, |w| w.state());
        if !state.is_pending() {
            println!("write {}: {state}", write.id);
            return Ok(if state == StepState::Failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        let until = pass.next_due.map_or(Duration::from_secs(1), |at| {
            Duration::try_from(at.duration_since(Timestamp::now())).unwrap_or_default()
        });
        if tokio::time::Instant::now() + until > deadline {
            println!(
                "write {}: still {state} after {}s; it stays journalled and will be delivered later",
                write.id,
                WAIT_LIMIT.as_secs()
            );
            return Ok(ExitCode::FAILURE);
        }
        tokio::time::sleep(until.max(Duration::from_millis(100))).await;
    }
}

pub async fn note(
    config: &Config,
    secrets: &Secrets,
    demo: bool,
    read_only: bool,
    target: &str,
    text: String,
    wait: bool,
) -> Result<ExitCode, Failure> {
    let target = Target::parse(target).map_err(Failure::Other)?;
    crate::core::writes::check_text(&text).map_err(|e| Failure::Other(e.to_string()))?;
    let writers = writers(config, secrets, read_only)?;
    let effects = writers.note_effects(&target, &text);
    let journal = open_journal(config, demo)?;
    record(
        &journal,
        writers,
        WriteKind::Annotate,
        target,
        text,
        effects,
        wait,
    )
    .await
}

pub async fn escalate(
    config: &Config,
    secrets: Secrets,
    demo: bool,
    read_only: bool,
    target: &str,
    to: &str,
    wait: bool,
) -> Result<ExitCode, Failure> {
    let item = Target::parse(target).map_err(Failure::Other)?;
    let Some(dest) = config.escalation.target(to) else {
        let known: Vec<&str> = config
            .escalation
            .targets
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        return Err(Failure::Other(format!(
            "no escalation target {to:?} (configured: {})",
            if known.is_empty() {
                "none — add [[escalation.targets]] to the config".to_owned()
            } else {
                known.join(", ")
            }
        )));
    };
    let writers = writers(config, &secrets, read_only)?;
    // The context bundle is built from a fresh poll, as the TUI would show it.
    let model = super::poll_model(config, secrets, demo, false, super::POLL_WAIT).await?;
    let incident_notes = writers
        .note_effects(&item, "")
        .iter()
        .any(|e| matches!(e, SourceWrite::IncidentNote { .. }));
    let (effects, text) = crate::model::escalate::preview(&model, &item, dest, incident_notes);
    let journal = open_journal(config, demo)?;
    record(
        &journal,
        writers,
        WriteKind::Escalate,
        item,
        text,
        effects,
        wait,
    )
    .await
}

/// `update`'s choices beyond the incident.
#[derive(Debug)]
pub struct UpdateOptions {
    pub status: String,
    pub public: bool,
    pub message: Option<std::path::PathBuf>,
    pub wait: bool,
}

/// A customer update from a runbook: the same per-recipient rendering and
/// checks as `u` in incident mode, then one journalled write whose steps
/// post each inquiry's own text.
pub async fn update(
    config: &Config,
    secrets: Secrets,
    demo: bool,
    read_only: bool,
    target: &str,
    options: UpdateOptions,
) -> Result<ExitCode, Failure> {
    let target = Target::parse(target).map_err(Failure::Other)?;
    let Target::Incident(incident) = &target else {
        return Err(Failure::Other(format!(
            "{target}: customer updates are about an incident (incident:ID)"
        )));
    };
    let template = match &options.message {
        Some(path) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
            text
        }
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?,
        None => config
            .incident_updates
            .template(&options.status)
            .map(str::to_owned)
            .ok_or_else(|| {
                let known: Vec<&str> = config
                    .incident_updates
                    .names()
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                Failure::Other(format!(
                    "no template {:?} in [incident_updates.templates] (configured: {})",
                    options.status,
                    known.join(", ")
                ))
            })?,
    };
    let writers = writers(config, &secrets, read_only)?;
    // Linked inquiries come from a fresh poll, as the TUI would show them.
    let model = super::poll_model(config, secrets, demo, false, super::POLL_WAIT).await?;
    let (rendered, effects) = model
        .customer_update(incident, &template, options.public)
        .map_err(|e| Failure::Other(format!("not saved: {e}")))?;
    let how = if options.public {
        "PUBLIC reply"
    } else {
        "private note"
    };
    println!(
        "customer update ({}) on incident {incident}, to {} linked inquiries:",
        options.status,
        rendered.len()
    );
    for r in &rendered {
        println!("\n  {how} on inquiry {} ({}):", r.inquiry, r.customer);
        for line in r.body.lines() {
            println!("    {line}");
        }
    }
    println!();
    let journal = open_journal(config, demo)?;
    record(
        &journal,
        writers,
        WriteKind::CustomerUpdate,
        target.clone(),
        template,
        effects,
        options.wait,
    )
    .await
}

pub async fn sync(
    config: &Config,
    secrets: &Secrets,
    demo: bool,
    read_only: bool,
) -> Result<ExitCode, Failure> {
    let journal = open_journal(config, demo)?;
    let mut writers = writers(config, secrets, read_only)?;
    let pass = outbox::pass(&journal, &mut writers, true, &mut |d| {
        let error = d.error.map(|e| format!(" ({e})")).unwrap_or_default();
        println!(
            "write {} step {}: {}{error}",
            d.write_id, d.step_id, d.state
        );
    })
    .await
    .map_err(|e| Failure::Other(e.to_string()))?;
    let held = if pass.held > 0 {
        format!(
            " ({} being delivered by another cockpit process)",
            pass.held
        )
    } else {
        String::new()
    };
    println!(
        "sent {}, failed {}, still pending {}{held}",
        pass.sent, pass.failed, pass.pending
    );
    Ok(if pass.pending == 0 && pass.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `link inquiry:ID incident:ID [--unlink]`: a link by hand, journalled
/// (nothing is sent to a source), with who made it.
pub async fn link(
    config: &Config,
    secrets: &Secrets,
    demo: bool,
    read_only: bool,
    inquiry: &str,
    incident: &str,
    linked: bool,
) -> Result<ExitCode, Failure> {
    let Target::Inquiry(inquiry) = Target::parse(inquiry).map_err(Failure::Other)? else {
        return Err(Failure::Other(format!("{inquiry:?}: expected inquiry:ID")));
    };
    let Target::Incident(incident) = Target::parse(incident).map_err(Failure::Other)? else {
        return Err(Failure::Other(format!(
            "{incident:?}: expected incident:ID"
        )));
    };
    let by = config
        .ui
        .me
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "someone".into());
    let text = if linked {
        format!("linked to incident {incident} by {by}")
    } else {
        format!("unlinked from incident {incident} by {by}")
    };
    let mirror = config.settings(demo).mirror_links;
    let effects = crate::core::writes::link_effects(&inquiry, &incident, None, linked, mirror);
    if let Some(reason) = writers(config, secrets, read_only)?.refuse(&effects) {
        return Err(Failure::Other(format!("not saved: {reason}")));
    }
    let journal = open_journal(config, demo)?;
    let target = Target::Inquiry(inquiry);
    let write = outbox::with_journal(&journal, move |j| {
        j.insert(WriteKind::Link, &target, &text, effects, Timestamp::now())
    })
    .await
    .map_err(|e| Failure::Other(e.to_string()))?;
    println!("journalled write {}: {}", write.id, write.text);
    for step in &write.steps {
        println!("  - {}", step.effect.describe());
    }
    Ok(ExitCode::SUCCESS)
}
