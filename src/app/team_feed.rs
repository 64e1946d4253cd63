//! Team mode's one poller per source: the desk, metrics and incident
//! pollers go through [`Shared`], which polls the source only while this
//! cockpit leads it (`store::team_feed`) and otherwise reads what the
//! leader stored. A listener on the team store's channel wakes followers
//! when the leader published, and the leader when a follower pressed `r`.
//!
//! The accounts file is still read by every cockpit: it is local.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::poll::{Pollable, Poller};
use crate::core::domain::SourceKind;
use crate::core::source::FeedRole;
use crate::model::message::Message;
use crate::store::StoreError;
use crate::store::journal::TeamTarget;
use crate::store::team_feed::{self, Data, Feed, Polled};

/// What team mode needs to share the pollers: the store and this
/// cockpit's name, and a tag telling its notifications from others'.
#[derive(Clone)]
pub struct Team {
    pub target: TeamTarget,
    pub who: String,
    pub tag: String,
}

impl Team {
    #[must_use]
    pub fn new(target: TeamTarget, who: String) -> Self {
        let tag = format!("{:08x}", rand::random::<u32>());
        Self { target, who, tag }
    }
}

/// A source's poller, shared with the team.
pub struct Shared<P> {
    inner: P,
    kind: SourceKind,
    feed: Arc<Mutex<Option<Feed>>>,
    team: Team,
    /// Read by the listener: a leader answers `r` requests, a follower
    /// reads on the leader's notifications.
    leading: Arc<AtomicBool>,
    role: Option<FeedRole>,
    tx: mpsc::UnboundedSender<Message>,
}

/// Run a feed call on the blocking pool (the PostgreSQL client blocks),
/// connecting first if needed.
async fn with_feed<T: Send + 'static>(
    feed: &Arc<Mutex<Option<Feed>>>,
    team: &Team,
    kind: SourceKind,
    f: impl FnOnce(&mut Feed) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let (feed, team) = (feed.clone(), team.clone());
    tokio::task::spawn_blocking(move || {
        let mut slot = feed.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(Feed::connect(&team.target, kind, &team.who)?);
        }
        let Some(feed) = slot.as_mut() else {
            return Err(StoreError::Team("the team feed is closed".into()));
        };
        f(feed)
    })
    .await
    .map_err(|e| StoreError::Team(format!("team feed task failed: {e}")))?
}

fn polled(message: &Message) -> Option<Polled> {
    Some(match message {
        Message::Desk { vendor, at, result } => Polled {
            vendor: *vendor,
            at: *at,
            data: Data::Desk(result.clone()),
        },
        Message::Incidents { vendor, at, result } => Polled {
            vendor: *vendor,
            at: *at,
            data: Data::Incidents(result.clone()),
        },
        Message::Metrics { vendor, at, result } => Polled {
            vendor: *vendor,
            at: *at,
            data: Data::Metrics(result.clone()),
        },
        _ => return None,
    })
}

fn message(polled: Polled) -> Message {
    let Polled { vendor, at, data } = polled;
    match data {
        Data::Desk(result) => Message::Desk { vendor, at, result },
        Data::Incidents(result) => Message::Incidents { vendor, at, result },
        Data::Metrics(result) => Message::Metrics { vendor, at, result },
    }
}

impl<P: Pollable> Shared<P> {
    pub fn new(inner: P, kind: SourceKind, team: Team, tx: mpsc::UnboundedSender<Message>) -> Self {
        Self {
            inner,
            kind,
            feed: Arc::new(Mutex::new(None)),
            team,
            leading: Arc::new(AtomicBool::new(false)),
            role: None,
            tx,
        }
    }

    /// The flag the listener reads.
    #[must_use]
    pub fn leading(&self) -> Arc<AtomicBool> {
        self.leading.clone()
    }

    /// Say a new role on the chip (and in the log).
    fn became(&mut self, role: FeedRole) {
        if self.role.as_ref() == Some(&role) {
            return;
        }
        match &role {
            FeedRole::Leading => tracing::info!(source = %self.kind, "polling for the team"),
            FeedRole::Following(who) => {
                tracing::info!(source = %self.kind, leader = %who, "reading the team's poll");
            }
            FeedRole::Waiting => {}
            FeedRole::Alone(why) => {
                tracing::warn!(source = %self.kind, error = %why, "team store lost: polling alone");
            }
        }
        self.leading
            .store(role == FeedRole::Leading, Ordering::Relaxed);
        self.role = Some(role.clone());
        let _ = self.tx.send(Message::Feed {
            kind: self.kind,
            role,
        });
    }

    /// Just become the leader: continue from where the last leader's
    /// reading stood (the desk's cursor and the rows it describes), so the
    /// take-over costs a "what changed since" request, not a whole read of
    /// the desk against the vendor's rate limit.
    async fn continue_from_the_team(&mut self) {
        match with_feed(&self.feed, &self.team, self.kind, Feed::hand_over).await {
            Ok(Some((state, open))) => {
                let rows = open.len();
                if self.inner.take_over(&state, open) {
                    tracing::info!(source = %self.kind, rows, "continuing from the team's last poll");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(source = %self.kind, error = %e, "team feed: no hand-over"),
        }
    }

    /// Poll the vendor ourselves (leading, or the store is lost).
    async fn poll_vendor(&mut self, publish: bool) -> (Message, Option<Duration>) {
        let (message, wait) = self.inner.poll().await;
        if publish && let Some(polled) = polled(&message) {
            let (tag, hand_over) = (self.team.tag.clone(), self.inner.hand_over());
            let published = with_feed(&self.feed, &self.team, self.kind, move |f| {
                f.publish(&polled, &tag, hand_over)
            })
            .await;
            if let Err(e) = published {
                self.became(FeedRole::Alone(e.to_string()));
            }
        }
        (message, wait)
    }
}

impl<P: Pollable> Pollable for Shared<P> {
    const SOURCE: &'static str = P::SOURCE;

    async fn poll(&mut self) -> (Message, Option<Duration>) {
        match with_feed(&self.feed, &self.team, self.kind, Feed::lead).await {
            Ok(true) => {
                if self.role != Some(FeedRole::Leading) {
                    self.continue_from_the_team().await;
                }
                self.became(FeedRole::Leading);
                self.poll_vendor(true).await
            }
            Ok(false) => match with_feed(&self.feed, &self.team, self.kind, Feed::read).await {
                Ok(Some(read)) => {
                    self.became(FeedRole::Following(read.leader));
                    (message(read.polled), None)
                }
                // The leader took the lock and has not stored its first
                // poll: the chip says so rather than polling twice.
                Ok(None) => {
                    self.became(FeedRole::Waiting);
                    (
                        Message::Feed {
                            kind: self.kind,
                            role: FeedRole::Waiting,
                        },
                        None,
                    )
                }
                Err(e) => {
                    self.became(FeedRole::Alone(e.to_string()));
                    self.poll_vendor(false).await
                }
            },
            Err(e) => {
                self.became(FeedRole::Alone(e.to_string()));
                // A new connection is tried at the next poll.
                *self.feed.lock().unwrap_or_else(PoisonError::into_inner) = None;
                self.poll_vendor(false).await
            }
        }
    }

    async fn detail(&mut self, id: String) -> Option<Message> {
        // Comments and notes are fetched on demand, by whoever asks.
        self.inner.detail(id).await
    }
}

/// A shared source's handles for the listener.
pub struct Listened {
    pub kind: SourceKind,
    pub leading: Arc<AtomicBool>,
    pub poller: Poller,
}

/// Listen on the team store's channel (on a thread of its own: the sync
/// client blocks): a leader's publish wakes this cockpit's follower of that
/// source, a follower's `r` wakes its leader. Reconnects after a lost
/// connection; ends with `cancel`.
pub fn listen(team: &Team, sources: Vec<Listened>, cancel: CancellationToken) {
    let team = team.clone();
    std::thread::spawn(move || {
        while !cancel.is_cancelled() {
            let listened = team_feed::listen(
                &team.target,
                || cancel.is_cancelled(),
                |payload| wake(&sources, payload, &team.tag),
            );
            if let Err(e) = listened {
                tracing::warn!(error = %e, "team feed: listening failed");
                std::thread::sleep(Duration::from_secs(5));
            }
        }
    });
}

fn wake(sources: &[Listened], payload: &str, own: &str) {
    let mut parts = payload.splitn(3, ':');
    let (Some(what), Some(kind), Some(sender)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    if sender == own {
        return;
    }
    for s in sources.iter().filter(|s| s.kind.to_string() == kind) {
        let leading = s.leading.load(Ordering::Relaxed);
        if (what == "feed" && !leading) || (what == "refresh" && leading) {
            s.poller.refresh();
        }
    }
}

/// A follower's `r`: ask the leaders of the shared sources to poll now.
pub fn ask_refresh(team: &Team, kinds: &[SourceKind]) {
    let (team, kinds) = (team.clone(), kinds.to_vec());
    std::thread::spawn(move || {
        for kind in kinds {
            let asked = Feed::connect(&team.target, kind, &team.who)
                .and_then(|mut f| f.ask_refresh(&team.tag));
            if let Err(e) = asked {
                tracing::warn!(error = %e, "team feed: could not ask for a refresh");
            }
        }
    });
}
