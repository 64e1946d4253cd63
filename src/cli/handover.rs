//! `cre-cockpit handover`: poll every source once, read the shift's writes
//! from the journal, print (or save) the markdown report.

use std::path::Path;
use std::process::ExitCode;

use jiff::SignedDuration;

use super::{Failure, poll_model};
use crate::app::wiring::Secrets;
use crate::config::Config;
use crate::report::handover::{Report, render};

/// `--since 8h` as a positive duration.
fn span(since: Option<&str>, config: &Config) -> Result<SignedDuration, Failure> {
    let Some(raw) = since else {
        return SignedDuration::try_from(config.kpi.shift)
            .map_err(|e| Failure::Other(format!("[kpi] shift: {e}")));
    };
    match raw.trim().parse::<SignedDuration>() {
        Ok(d) if d.is_positive() => Ok(d),
        _ => Err(Failure::Other(format!(
            "--since {raw:?}: write a positive duration such as 8h, 12h or 90m"
        ))),
    }
}

pub(super) async fn run(
    config: &Config,
    secrets: Secrets,
    demo: bool,
    since: Option<&str>,
    out: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let span = span(since, config)?;
    let model = poll_model(config, secrets, demo, false, super::POLL_WAIT).await?;
    let from = model.now - span;
    // Incidents that began before the shift still need their last customer
    // update to know when the next one is due.
    let earliest = model
        .data
        .incidents
        .iter()
        .map(|i| i.started_at)
        .chain([from])
        .min()
        .unwrap_or(from);
    let (writes, journal) = match super::writes::open_journal(config, demo) {
        Ok(journal) => {
            match crate::app::outbox::with_journal(&journal, move |j| {
                Ok((j.since(earliest)?, j.describe()))
            })
            .await
            {
                Ok((writes, place)) => (writes, Ok(place)),
                Err(e) => (Vec::new(), Err(e.to_string())),
            }
        }
        Err(e) => (Vec::new(), Err(e.to_string())),
    };
    let text = render(&Report {
        model: &model,
        writes: &writes,
        journal: journal.as_deref().map_err(String::as_str),
        from,
        next_shift: span,
    });
    match out {
        Some(path) => {
            std::fs::write(path, text)?;
            println!("wrote {}", path.display());
        }
        // The terminal gets no control sequence, whatever a note holds.
        None => print!("{}", crate::core::sanitize::multiline(&text)),
    }
    Ok(ExitCode::SUCCESS)
}
