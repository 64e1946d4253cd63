//! Team presence: this cockpit's heartbeat in the team store, saying what
//! it has open, and the list of what the others have open, every
//! [`HEARTBEAT`] and whenever the user opens or closes something.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::outbox::{SharedJournal, with_journal};
use crate::core::writes::{Doing, Target};
use crate::model::message::Message;
use crate::model::team::PRESENCE_FRESH;
use crate::store::journal::Owner;

/// How often a cockpit says it is still there (well inside
/// [`PRESENCE_FRESH`], so one lost beat does not hide anybody).
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// What this cockpit has open, as the model last announced it.
pub type Open = watch::Sender<Option<(Target, Doing)>>;

/// Start the heartbeat; the model's announcements go into the returned
/// sender. Store errors are logged and retried at the next beat (the
/// journal's own chip says when the team store is lost).
#[must_use]
pub fn spawn(
    journal: SharedJournal,
    tx: mpsc::UnboundedSender<Message>,
    cancel: CancellationToken,
) -> Open {
    let (open, mut changes) = watch::channel(None);
    let owner = Owner::this_process();
    tokio::spawn(async move {
        loop {
            let now_open = changes.borrow_and_update().clone();
            let me = owner.clone();
            let listed = with_journal(&journal, move |j| {
                let now = Timestamp::now();
                j.announce(&me, now_open.as_ref().map(|(t, d)| (t, *d)), now)?;
                j.presence(&me, now - PRESENCE_FRESH)
            })
            .await;
            match listed {
                // Sent even when unchanged: the model shows a teammate only
                // while their heartbeat is fresh.
                Ok(list) => {
                    if tx.send(Message::Presence(list)).is_err() {
                        return;
                    }
                }
                Err(e) => tracing::warn!("team presence: {e}"),
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                changed = changes.changed() => if changed.is_err() { break },
                () = tokio::time::sleep(HEARTBEAT) => {}
            }
        }
        // Leaving: teammates stop seeing this cockpit now rather than when
        // its last heartbeat goes stale (best effort: the process may end
        // first, and then the staleness rule hides it).
        let _ = with_journal(&journal, move |j| {
            j.announce(&owner, None, Timestamp::now())
        })
        .await;
    });
    open
}
