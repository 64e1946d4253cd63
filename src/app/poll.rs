//! One background task per source. Each polls on its own interval with
//! missed ticks skipped, so a slow source never piles up requests; at most one
//! request per source is in flight. Results go to the event loop as
//! messages; the task also serves on-demand look-ups (an inquiry's comments)
//! in between polls, in order, through the same adapter.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{Notify, mpsc};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::core::domain::SourceError;
use crate::model::message::Message;
use crate::sources::http::meter;
use crate::sources::{DeskSource, IncidentSource, MetricsSource};

/// Something a poller task can drive.
pub trait Pollable: Send + 'static {
    /// Which source this is, for the log.
    const SOURCE: &'static str;
    /// Poll once; the message to send and, on failure, how long the source
    /// asked us to wait before the next attempt.
    fn poll(&mut self) -> impl Future<Output = (Message, Option<Duration>)> + Send;
    /// Look up one item's details (comments, notes), if this kind has any.
    fn detail(&mut self, id: String) -> impl Future<Output = Option<Message>> + Send;
    /// Team mode: where the reading stands, for a teammate to continue
    /// from (the desk's cursor); `None` where there is nothing to hand over.
    fn hand_over(&self) -> Option<String> {
        None
    }
    /// Continue from a teammate's hand-over and the open items it describes.
    fn take_over(&mut self, _state: &str, _open: Vec<crate::core::domain::Inquiry>) -> bool {
        false
    }
}

/// How long a source that refused our credentials is left alone: asking
/// again every poll cannot succeed until the token or its access changes,
/// and would only fill the server's auth log (a Prometheus poll is ~20
/// requests).
const AUTH_BACKOFF: Duration = Duration::from_secs(300);

/// How long the source asked us to stay away (429 `Retry-After`), or how
/// long to wait after it refused the credentials (401/403).
fn retry_hint<T>(result: &Result<T, SourceError>) -> Option<Duration> {
    let error = result.as_ref().err()?;
    error
        .retry_after
        .or_else(|| matches!(error.status, Some(401 | 403)).then_some(AUTH_BACKOFF))
}

/// A desk adapter as a pollable source.
pub struct Desk<D>(pub D);

impl<D: DeskSource> Pollable for Desk<D> {
    const SOURCE: &'static str = "desk";

    async fn poll(&mut self) -> (Message, Option<Duration>) {
        let result = self.0.poll().await;
        if let Ok(update) = &result {
            tracing::debug!(
                vendor = %self.0.vendor(),
                requests = update.requests,
                changed = update.changed.len(),
                "desk poll"
            );
        }
        // A refusal (429) says how long to stay away; a success whose
        // rate-limit headers are nearly spent asks for a pause too.
        let wait = retry_hint(&result).or_else(|| self.0.pause_hint());
        (
            Message::Desk {
                vendor: self.0.vendor(),
                at: Timestamp::now(),
                result,
            },
            wait,
        )
    }

    async fn detail(&mut self, id: String) -> Option<Message> {
        let result = self.0.comments(&id).await;
        Some(Message::Comments { id, result })
    }

    fn hand_over(&self) -> Option<String> {
        self.0.hand_over()
    }

    fn take_over(&mut self, state: &str, open: Vec<crate::core::domain::Inquiry>) -> bool {
        self.0.take_over(state, open)
    }
}

/// A metrics adapter as a pollable source.
pub struct Metrics<M>(pub M);

impl<M: MetricsSource> Pollable for Metrics<M> {
    const SOURCE: &'static str = "metrics";

    async fn poll(&mut self) -> (Message, Option<Duration>) {
        let result = self.0.poll().await;
        let wait = retry_hint(&result);
        (
            Message::Metrics {
                vendor: self.0.vendor(),
                at: Timestamp::now(),
                result,
            },
            wait,
        )
    }

    async fn detail(&mut self, _id: String) -> Option<Message> {
        None
    }
}

/// An incident adapter as a pollable source.
pub struct Incidents<I>(pub I);

impl<I: IncidentSource> Pollable for Incidents<I> {
    const SOURCE: &'static str = "incidents";

    async fn poll(&mut self) -> (Message, Option<Duration>) {
        let result = self.0.poll().await;
        let wait = retry_hint(&result);
        (
            Message::Incidents {
                vendor: self.0.vendor(),
                at: Timestamp::now(),
                result,
            },
            wait,
        )
    }

    async fn detail(&mut self, id: String) -> Option<Message> {
        let result = self.0.notes(&id).await;
        Some(Message::Notes { id, result })
    }
}

/// The accounts file, re-read on an interval so a fresh CRM export is
/// picked up without a restart.
pub struct AccountsFile(pub std::path::PathBuf);

impl Pollable for AccountsFile {
    const SOURCE: &'static str = "accounts";

    async fn poll(&mut self) -> (Message, Option<Duration>) {
        let path = self.0.clone();
        let loaded = tokio::task::spawn_blocking(move || crate::sources::accounts::load(&path))
            .await
            .unwrap_or_else(|e| {
                Err(crate::sources::accounts::AccountsError::Read {
                    path: self.0.display().to_string(),
                    message: e.to_string(),
                })
            })
            .map_err(|e| SourceError::new(e.to_string()));
        let (result, rejected) = match loaded {
            Ok(l) => (
                Ok(l.accounts),
                l.rejected.iter().map(ToString::to_string).collect(),
            ),
            Err(e) => (Err(e), Vec::new()),
        };
        (
            Message::Accounts {
                file: self.0.display().to_string(),
                at: Timestamp::now(),
                result,
                rejected,
            },
            None,
        )
    }

    async fn detail(&mut self, _id: String) -> Option<Message> {
        None
    }
}

/// The event loop's handle on a poller task.
#[derive(Debug, Clone)]
pub struct Poller {
    refresh: Arc<Notify>,
    details: mpsc::UnboundedSender<String>,
}

impl Poller {
    /// Poll now rather than at the next tick.
    pub fn refresh(&self) {
        self.refresh.notify_one();
    }

    /// Ask for one item's details; the answer arrives as a message.
    pub fn detail(&self, id: String) {
        // A closed channel means the task is shutting down with the app.
        let _ = self.details.send(id);
    }
}

/// Start a poller task; it stops when `cancel` fires or the message
/// channel closes.
pub fn spawn<P: Pollable>(
    mut source: P,
    every: Duration,
    tx: mpsc::UnboundedSender<Message>,
    cancel: CancellationToken,
) -> Poller {
    let refresh = Arc::new(Notify::new());
    let (details, mut details_rx) = mpsc::unbounded_channel::<String>();
    let poller = Poller {
        refresh: refresh.clone(),
        details,
    };
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
        loop {
            // Wait for the next tick, a refresh request or cancellation,
            // serving detail look-ups meanwhile.
            let tick = tokio::select! {
                biased;
                () = cancel.cancelled() => return,
                Some(id) = details_rx.recv() => {
                    let message = tokio::select! { () = cancel.cancelled() => return, m = source.detail(id) => m };
                    if let Some(message) = message && tx.send(message).is_err() { return }
                    continue;
                }
                () = refresh.notified() => false,
                _ = interval.tick() => true,
            };
            if !tick {
                interval.reset();
            }
            let began = Instant::now();
            let ((message, wait), usage) = tokio::select! {
                () = cancel.cancelled() => return,
                r = meter::measure(source.poll()) => r,
            };
            tracing::debug!(
                source = P::SOURCE,
                requests = usage.requests,
                bytes = usage.bytes,
                wire = usage.wire,
                ms = began.elapsed().as_millis() as u64,
                "poll done"
            );
            if tx.send(message).is_err() {
                return;
            }
            // The source asked for a pause (429): honour it before the
            // next regular tick.
            if let Some(wait) = wait.filter(|w| *w > every) {
                tracing::info!(seconds = wait.as_secs(), "source asked to back off");
                let until = Instant::now() + wait;
                // `r` ends the wait early: the CRE asked, and a request the
                // vendor still refuses costs one 429.
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = refresh.notified() => {}
                    () = tokio::time::sleep_until(until) => {}
                }
                interval.reset();
            }
        }
    });
    poller
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_ask_for_a_pause_and_other_failures_do_not() {
        let refused = |status| Err::<(), _>(SourceError::new("x").with_status(status));
        assert_eq!(retry_hint(&refused(401)), Some(AUTH_BACKOFF));
        assert_eq!(retry_hint(&refused(403)), Some(AUTH_BACKOFF));
        assert_eq!(retry_hint(&refused(500)), None);
        let limited = Err::<(), _>(
            SourceError::new("x")
                .with_status(429)
                .with_retry_after(Duration::from_secs(7)),
        );
        assert_eq!(retry_hint(&limited), Some(Duration::from_secs(7)));
        assert_eq!(retry_hint(&Ok::<(), SourceError>(())), None);
    }
}
