//! One poller per source for a whole team (`[team] store`): the cockpit
//! holding a source's advisory lock polls the vendor and stores what it
//! read — the domain rows, not the vendor's JSON — and the others read that
//! instead of spending the vendor's rate limit again.
//!
//! The lock is a session lock on this feed's own connection, so it lives
//! exactly as long as the leader's process (or its connection): when either
//! dies the server frees it, and the next cockpit to ask at its poll tick
//! takes over. Every publish is one transaction that ends in a `NOTIFY`
//! on [`Feed::channel`], so followers listening there read at once.
//!
//! The desk is stored as one row per inquiry with the publish's sequence
//! number, so a follower reads only the rows changed since its last read
//! (deleted inquiries stay as rows without a body); incidents are small and
//! stored whole. A metrics poll is stored whole and compressed, without its
//! sparkline histories, which move once an hour or a day and are stored
//! apart only when they changed; each cockpit judges the SLOs itself from
//! the counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use ::postgres::Client;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::journal::postgres::{Session, Target, connect_migrated};
use crate::core::domain::{
    DeskUpdate, Incident, Inquiry, MetricsSnapshot, QueryAnswer, SourceError, SourceKind,
    TenantMetrics,
};
use crate::core::slo::SloCounts;
use crate::core::source::Vendor;

/// One poll of a shared source, as the leader made it or a follower read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Polled {
    pub vendor: Vendor,
    pub at: Timestamp,
    pub data: Data,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Desk(Result<DeskUpdate, SourceError>),
    Incidents(Result<Vec<Incident>, SourceError>),
    Metrics(Result<MetricsSnapshot, SourceError>),
}

/// A sparkline history per tenant, as the metrics source shares it.
type History = Arc<BTreeMap<String, Vec<f64>>>;

/// The feed row of the metrics histories (beside the `metrics` row).
const METRICS_HISTORY: &str = "metrics_history";

/// A metrics poll as stored: what each poll moves; the verdicts are left
/// to each cockpit's own judging, the histories to their own row.
#[derive(Serialize)]
struct MetricsOut<'a> {
    by_tenant: &'a BTreeMap<String, TenantMetrics>,
    warnings: &'a [String],
    queries: &'a [QueryAnswer],
    slo_counts: &'a [SloCounts],
}

#[derive(Deserialize)]
struct MetricsIn {
    by_tenant: BTreeMap<String, TenantMetrics>,
    warnings: Vec<String>,
    queries: Vec<QueryAnswer>,
    slo_counts: Vec<SloCounts>,
}

#[derive(Serialize, Deserialize)]
struct Histories {
    error: History,
    active_users: History,
}

/// JSON, gzipped: a metrics poll at 10k tenants is megabytes of numbers.
fn packed<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    serde_json::to_writer(&mut gz, value).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

fn unpacked<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_reader(flate2::read::GzDecoder::new(body))
        .map_err(|e| format!("unreadable feed row: {e}"))
}

/// What a follower read from the feed.
#[derive(Debug)]
pub struct Read {
    /// The leader's poll, as its own poll returned it (the desk: what
    /// changed since this feed's last read).
    pub polled: Polled,
    /// Who polled (the leader's `[ui] me`).
    pub leader: String,
}

/// One source's feed over a connection of its own.
pub struct Feed {
    session: Session,
    kind: SourceKind,
    /// This cockpit's `[ui] me`, recorded as the leader's name.
    who: String,
    /// Whether this connection holds the source's lock.
    leading: bool,
    /// The sequence number of the last publish read (0: none yet).
    seen: i64,
    /// Metrics: the histories last published (leading) or read
    /// (following), and the sequence number of their row as read.
    histories: Option<(History, History)>,
    histories_seen: i64,
}

/// The NOTIFY channel of a team schema (the schema is a checked plain
/// identifier, so the name needs no quoting).
#[must_use]
pub fn channel(target: &Target) -> String {
    format!("cre_cockpit_{}", target.schema)
}

/// A publish's notification: `feed:desk`, or `refresh:desk` for a
/// follower's `r`; the sender's tag last, so a cockpit skips its own.
#[must_use]
pub fn payload(what: &str, kind: SourceKind, sender: &str) -> String {
    format!("{what}:{kind}:{sender}")
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("unreadable feed row: {e}"))
}

impl Feed {
    /// Connect for one source (desk, metrics or incidents); nothing is locked
    /// until [`Feed::lead`].
    pub fn connect(target: &Target, kind: SourceKind, who: &str) -> Result<Self, StoreError> {
        Ok(Self {
            session: Session::connect(target)?,
            kind,
            who: who.to_owned(),
            leading: false,
            seen: 0,
            histories: None,
            histories_seen: 0,
        })
    }

    /// Run `f` on the connection; one opened again holds no lock.
    fn with<T: Send>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, ::postgres::Error> + Send,
    ) -> Result<T, StoreError> {
        if !self.session.is_open() {
            self.leading = false;
        }
        self.session.with(f)
    }

    /// Whether this cockpit polls the source for the team: true while it
    /// holds the lock, and taken when nobody does.
    pub fn lead(&mut self) -> Result<bool, StoreError> {
        if self.leading && self.session.is_open() {
            return Ok(true);
        }
        let key = format!("cre-cockpit:{}:{}", self.session.target.schema, self.kind);
        let got: bool = self.with(move |c| {
            Ok(
                c.query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&key])?
                    .get(0),
            )
        })?;
        self.leading = got;
        Ok(got)
    }

    /// Store a poll of the source this cockpit leads, with where its
    /// reading stands (`hand_over`: the desk's cursor, kept from the last
    /// poll that had one), and notify.
    pub fn publish(
        &mut self,
        polled: &Polled,
        sender: &str,
        hand_over: Option<String>,
    ) -> Result<(), StoreError> {
        let (vendor, at) = (polled.vendor, polled.at);
        let (error, body, desk) = match &polled.data {
            Data::Desk(result) => (
                result.as_ref().err().map(|e| e.message.clone()),
                None,
                result.as_ref().ok(),
            ),
            Data::Incidents(result) => (
                result.as_ref().err().map(|e| e.message.clone()),
                result
                    .as_ref()
                    .ok()
                    .map(|i| serde_json::to_vec(i).map_err(|e| self.session.err(e)))
                    .transpose()?,
                None,
            ),
            Data::Metrics(result) => (
                result.as_ref().err().map(|e| e.message.clone()),
                result
                    .as_ref()
                    .ok()
                    .map(|m| {
                        packed(&MetricsOut {
                            by_tenant: &m.by_tenant,
                            warnings: &m.warnings,
                            queries: &m.queries,
                            slo_counts: &m.slo_counts,
                        })
                        .map_err(|e| self.session.err(e))
                    })
                    .transpose()?,
                None,
            ),
        };
        // The histories, when they are not the ones already stored (the
        // source keeps the same ones between polls until the hour or day
        // turns).
        let histories = match &polled.data {
            Data::Metrics(Ok(m))
                if !self.histories.as_ref().is_some_and(|(e, u)| {
                    Arc::ptr_eq(e, &m.error_history) && Arc::ptr_eq(u, &m.active_users_history)
                }) =>
            {
                Some((m.error_history.clone(), m.active_users_history.clone()))
            }
            _ => None,
        };
        let histories_body = histories
            .as_ref()
            .map(|(e, u)| {
                packed(&Histories {
                    error: e.clone(),
                    active_users: u.clone(),
                })
                .map_err(|e| self.session.err(e))
            })
            .transpose()?;
        // The rows as the follower will decode them.
        let rows = desk
            .map(|u| -> Result<_, StoreError> {
                let ids: Vec<String> = u.changed.iter().map(|i| i.id.to_string()).collect();
                let bodies = u
                    .changed
                    .iter()
                    .map(|i| serde_json::to_vec(i).map_err(|e| self.session.err(e)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((u.full, ids, bodies, u.removed.clone()))
            })
            .transpose()?;
        let source = self.kind.to_string();
        let (leader, channel) = (self.who.clone(), channel(&self.session.target));
        let notice = payload("feed", self.kind, sender);
        self.with(move |c| {
            let mut tx = c.transaction()?;
            let full = rows.as_ref().is_some_and(|r| r.0);
            let seq: i64 = tx
                .query_one(
                    "INSERT INTO feed (source, seq, full_seq, polled_at, vendor, leader, error, body,
                         hand_over)
                     VALUES ($1, 1, CASE WHEN $2 THEN 1 ELSE 0 END, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (source) DO UPDATE SET seq = feed.seq + 1,
                         full_seq = CASE WHEN $2 THEN feed.seq + 1 ELSE feed.full_seq END,
                         polled_at = EXCLUDED.polled_at, vendor = EXCLUDED.vendor,
                         leader = EXCLUDED.leader, error = EXCLUDED.error,
                         body = COALESCE(EXCLUDED.body, CASE WHEN EXCLUDED.error IS NULL
                             THEN NULL ELSE feed.body END),
                         hand_over = COALESCE(EXCLUDED.hand_over, feed.hand_over)
                     RETURNING seq",
                    &[
                        &source,
                        &full,
                        &at,
                        &vendor.as_str(),
                        &leader,
                        &error,
                        &body,
                        &hand_over,
                    ],
                )?
                .get(0);
            if let Some((full, ids, bodies, removed)) = &rows {
                if *full {
                    // Everything the desk no longer lists is gone. Older
                    // tombstones are dropped: a follower that has not read
                    // this publish reads it whole, and a whole read never
                    // needs them.
                    tx.execute(
                        "DELETE FROM feed_inquiry WHERE body IS NULL AND seq < $1",
                        &[&seq],
                    )?;
                    tx.execute(
                        "UPDATE feed_inquiry SET body = NULL, seq = $1
                         WHERE body IS NOT NULL AND NOT (id = ANY($2))",
                        &[&seq, ids],
                    )?;
                }
                tx.execute(
                    "INSERT INTO feed_inquiry (id, seq, body)
                     SELECT id, $1, body FROM unnest($2::text[], $3::bytea[]) AS r(id, body)
                     ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, body = EXCLUDED.body",
                    &[&seq, ids, bodies],
                )?;
                tx.execute(
                    "UPDATE feed_inquiry SET body = NULL, seq = $1 WHERE id = ANY($2)",
                    &[&seq, removed],
                )?;
            }
            if let Some(body) = &histories_body {
                tx.execute(
                    "INSERT INTO feed (source, seq, full_seq, polled_at, vendor, leader, body)
                     VALUES ($1, 1, 1, $2, $3, $4, $5)
                     ON CONFLICT (source) DO UPDATE SET seq = feed.seq + 1,
                         full_seq = feed.seq + 1, polled_at = EXCLUDED.polled_at,
                         vendor = EXCLUDED.vendor, leader = EXCLUDED.leader,
                         body = EXCLUDED.body",
                    &[&METRICS_HISTORY, &at, &vendor.as_str(), &leader, body],
                )?;
            }
            tx.execute("SELECT pg_notify($1, $2)", &[&channel, &notice])?;
            tx.commit()
        })?;
        if histories.is_some() {
            self.histories = histories;
        }
        Ok(())
    }

    /// What the leader last published, if anything was: the desk as the
    /// rows changed since this feed's last read (all of them the first
    /// time, or after the leader read the desk afresh), incidents and
    /// metrics whole (the metrics' histories when they changed).
    pub fn read(&mut self) -> Result<Option<Read>, StoreError> {
        let source = self.kind.to_string();
        let (seen, histories_seen) = (self.seen, self.histories_seen);
        let kind = self.kind;
        let found = self.with(move |c| {
            let Some(row) = c.query_opt(
                "SELECT seq, full_seq, polled_at, vendor, leader, error, body FROM feed
                 WHERE source = $1",
                &[&source],
            )?
            else {
                return Ok(None);
            };
            let seq: i64 = row.get(0);
            let full_seq: i64 = row.get(1);
            let full = seen == 0 || full_seq > seen;
            let rows = if kind == SourceKind::Desk && seq != seen {
                // A full read takes every live row; otherwise what moved.
                let from: i64 = if full { -1 } else { seen };
                c.query(
                    "SELECT id, body FROM feed_inquiry WHERE seq > $1 AND (body IS NOT NULL OR NOT $2)",
                    &[&from, &full],
                )?
                    .iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, Option<Vec<u8>>>(1)))
                    .collect()
            } else {
                Vec::new()
            };
            let histories = if kind == SourceKind::Metrics {
                c.query_opt(
                    "SELECT seq, body FROM feed WHERE source = $1 AND seq <> $2",
                    &[&METRICS_HISTORY, &histories_seen],
                )?
                .map(|r| (r.get::<_, i64>(0), r.get::<_, Option<Vec<u8>>>(1)))
            } else {
                None
            };
            Ok(Some((row, full, rows, histories)))
        })?;
        let Some((row, full, rows, histories)) = found else {
            return Ok(None);
        };
        if let Some((seq, Some(body))) = histories {
            let read: Histories = unpacked(&body).map_err(|e| self.session.err(e))?;
            self.histories = Some((read.error, read.active_users));
            self.histories_seen = seq;
        }
        self.seen = row.get(0);
        let at: Timestamp = row.get(2);
        let vendor: String = row.get(3);
        let vendor: Vendor = vendor.parse().map_err(|_| {
            self.session
                .err(format!("unknown vendor {vendor:?} in the feed"))
        })?;
        let leader: String = row.get(4);
        let error: Option<String> = row.get(5);
        let failed = |e: String| SourceError::new(format!("{e} (polled by {leader})"));
        let data = match self.kind {
            SourceKind::Desk => {
                let result = match error {
                    Some(e) => Err(failed(e)),
                    None => {
                        let mut update = DeskUpdate {
                            full,
                            ..DeskUpdate::default()
                        };
                        for (id, body) in rows {
                            match body {
                                Some(body) => update.changed.push(
                                    decode::<Inquiry>(&body).map_err(|e| self.session.err(e))?,
                                ),
                                None if !full => update.removed.push(id),
                                None => {}
                            }
                        }
                        Ok(update)
                    }
                };
                Data::Desk(result)
            }
            SourceKind::Metrics => {
                let body: Option<Vec<u8>> = row.get(6);
                let result = match (error, body) {
                    (Some(e), _) => Err(failed(e)),
                    (None, Some(body)) => {
                        let read: MetricsIn = unpacked(&body).map_err(|e| self.session.err(e))?;
                        let (error_history, active_users_history) =
                            self.histories.clone().unwrap_or_default();
                        Ok(MetricsSnapshot {
                            by_tenant: read.by_tenant,
                            error_history,
                            active_users_history,
                            warnings: read.warnings,
                            queries: read.queries,
                            slo_counts: read.slo_counts,
                            slos: Vec::new(),
                        })
                    }
                    (None, None) => Ok(MetricsSnapshot::default()),
                };
                Data::Metrics(result)
            }
            _ => {
                let body: Option<Vec<u8>> = row.get(6);
                let result = match (error, body) {
                    (Some(e), _) => Err(failed(e)),
                    (None, Some(body)) => {
                        Ok(decode::<Vec<Incident>>(&body).map_err(|e| self.session.err(e))?)
                    }
                    (None, None) => Ok(Vec::new()),
                };
                Data::Incidents(result)
            }
        };
        Ok(Some(Read {
            polled: Polled { vendor, at, data },
            leader,
        }))
    }

    /// Where the last leader's reading stood and the open inquiries it
    /// describes, for this cockpit to continue from as the new leader;
    /// `None` before any leader stored one. (Rows stored are never behind
    /// the hand-over: both are written by the same publish.)
    pub fn hand_over(&mut self) -> Result<Option<(String, Vec<Inquiry>)>, StoreError> {
        let source = self.kind.to_string();
        let found = self.with(move |c| {
            let Some(state) = c
                .query_opt(
                    "SELECT hand_over FROM feed WHERE source = $1 AND hand_over IS NOT NULL",
                    &[&source],
                )?
                .map(|r| r.get::<_, String>(0))
            else {
                return Ok(None);
            };
            let bodies: Vec<Vec<u8>> = c
                .query("SELECT body FROM feed_inquiry WHERE body IS NOT NULL", &[])?
                .iter()
                .map(|r| r.get(0))
                .collect();
            Ok(Some((state, bodies)))
        })?;
        let Some((state, bodies)) = found else {
            return Ok(None);
        };
        let open = bodies
            .iter()
            .map(|b| decode::<Inquiry>(b).map_err(|e| self.session.err(e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((state, open)))
    }

    /// Ask the source's leader to poll now (a follower's `r`).
    pub fn ask_refresh(&mut self, sender: &str) -> Result<(), StoreError> {
        let (channel, notice) = (
            channel(&self.session.target),
            payload("refresh", self.kind, sender),
        );
        self.with(move |c| {
            c.execute("SELECT pg_notify($1, $2)", &[&channel, &notice])
                .map(drop)
        })
    }
}

/// Listen on the team's channel until `stop` says so (checked twice a
/// second) or the connection fails; each notification's payload goes to
/// `heard`. Blocks: run it on a thread of its own.
pub fn listen(
    target: &Target,
    stop: impl Fn() -> bool,
    mut heard: impl FnMut(&str),
) -> Result<(), StoreError> {
    use ::postgres::fallible_iterator::FallibleIterator;
    let err = |e: &dyn std::fmt::Display| StoreError::Team(format!("{}: {e}", target.describe()));
    let mut client = connect_migrated(target).map_err(|e| err(&e))?;
    client
        .batch_execute(&format!("LISTEN {}", channel(target)))
        .map_err(|e| err(&e))?;
    while !stop() {
        let mut notes = client.notifications();
        let mut iter = notes.timeout_iter(std::time::Duration::from_millis(500));
        while let Some(note) = iter.next().map_err(|e| err(&e))? {
            heard(note.payload());
        }
    }
    Ok(())
}
