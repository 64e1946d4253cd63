//! Team mode's one poller per source, against the PostgreSQL server
//! `scripts/test.sh` starts: the feed's lock, publish and read on real
//! connections; and three cockpits' real pollers (real HTTP to the
//! simulator, counted at a proxy in front of it) of which one polls the
//! desk, the metrics and incidents while the others read the store — until
//! the leader dies and another takes over.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::proxy::Proxy;
use cre_cockpit::app::team_feed::Team;
use cre_cockpit::app::wiring::Sources;
use cre_cockpit::core::domain::{DeskUpdate, Incident, SourceError, SourceKind};
use cre_cockpit::core::source::{FeedRole, Vendor};
use cre_cockpit::model::message::Message;
use cre_cockpit::store::team_feed::{self, Data, Feed, Polled};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn inquiries(ids: &[&str]) -> Vec<cre_cockpit::core::domain::Inquiry> {
    let template = common::inquiries().remove(0);
    ids.iter()
        .map(|id| {
            let mut i = template.clone();
            i.id = (*id).into();
            i.subject = format!("inquiry {id}");
            i
        })
        .collect()
}

fn desk(at: Timestamp, data: Result<DeskUpdate, SourceError>) -> Polled {
    Polled {
        vendor: Vendor::Zendesk,
        at,
        data: Data::Desk(data),
    }
}

fn ids(update: &DeskUpdate) -> Vec<String> {
    let mut ids: Vec<String> = update.changed.iter().map(|i| i.id.to_string()).collect();
    ids.sort();
    ids
}

/// One feed leads, the other reads: the first read is the whole desk, the
/// next ones what changed (deletions included), a quiet poll moves only the
/// time, a failed poll reads as failed by the leader. When the leader's
/// connection ends, the lock is free for the next to ask.
#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn the_leader_publishes_and_followers_read_what_changed() {
    let target = common::pg_target("feed");
    let mut kim = Feed::connect(&target, SourceKind::Desk, "Kim").unwrap();
    let mut lee = Feed::connect(&target, SourceKind::Desk, "Lee").unwrap();
    assert!(lee.read().unwrap().is_none(), "nothing published yet");
    assert!(kim.lead().unwrap());
    assert!(kim.lead().unwrap(), "a leader stays leader");
    assert!(!lee.lead().unwrap());

    let t0: Timestamp = "2026-12-04T09:00:00Z".parse().unwrap();
    let update = |full, changed: &[&str], removed: &[&str]| DeskUpdate {
        full,
        changed: inquiries(changed),
        removed: removed.iter().map(|s| (*s).to_owned()).collect(),
        requests: 1,
    };
    kim.publish(
        &desk(t0, Ok(update(true, &["1", "2", "3"], &[]))),
        "k",
        None,
    )
    .unwrap();
    let read = lee.read().unwrap().unwrap();
    assert_eq!(read.leader, "Kim");
    assert_eq!(read.polled.at, t0);
    let Data::Desk(Ok(first)) = read.polled.data else {
        panic!("{read:?}")
    };
    assert!(first.full);
    assert_eq!(ids(&first), ["1", "2", "3"]);
    assert_eq!(first.changed[0].subject, "inquiry 1", "rows kept whole");

    let t1 = t0 + SignedDuration::from_secs(30);
    kim.publish(&desk(t1, Ok(update(false, &["2", "4"], &["3"]))), "k", None)
        .unwrap();
    let Data::Desk(Ok(next)) = lee.read().unwrap().unwrap().polled.data else {
        panic!()
    };
    assert!(!next.full);
    assert_eq!(ids(&next), ["2", "4"]);
    assert_eq!(next.removed, ["3"]);

    let t2 = t1 + SignedDuration::from_secs(30);
    kim.publish(&desk(t2, Ok(DeskUpdate::default())), "k", None)
        .unwrap();
    let quiet = lee.read().unwrap().unwrap();
    assert_eq!(quiet.polled.at, t2, "the time moves: the data is fresh");
    assert_eq!(quiet.polled.data, Data::Desk(Ok(DeskUpdate::default())));

    let t3 = t2 + SignedDuration::from_secs(30);
    kim.publish(
        &desk(t3, Err(SourceError::new("zendesk: HTTP 429"))),
        "k",
        None,
    )
    .unwrap();
    let Data::Desk(Err(e)) = lee.read().unwrap().unwrap().polled.data else {
        panic!()
    };
    assert_eq!(e.message, "zendesk: HTTP 429 (polled by Kim)");

    // The leader reads the desk afresh without inquiry 1: a follower that
    // starts now reads exactly what is open.
    kim.publish(&desk(t3, Ok(update(true, &["2", "4"], &[]))), "k", None)
        .unwrap();
    let mut ann = Feed::connect(&target, SourceKind::Desk, "Ann").unwrap();
    let Data::Desk(Ok(fresh)) = ann.read().unwrap().unwrap().polled.data else {
        panic!()
    };
    assert!(fresh.full);
    assert_eq!(ids(&fresh), ["2", "4"]);
    assert!(fresh.removed.is_empty());
    // Lee, behind, reads it whole too; the old tombstone (3) is gone, the
    // new one (1) kept for this publish.
    let Data::Desk(Ok(caught_up)) = lee.read().unwrap().unwrap().polled.data else {
        panic!()
    };
    assert!(caught_up.full);
    assert_eq!(ids(&caught_up), ["2", "4"]);
    assert_eq!(
        common::pg_exec(&target, "SELECT id FROM feed_inquiry WHERE body IS NULL"),
        1
    );
    // No hand-over stored yet; then one, kept by publishes that have none
    // (a failed poll), and read with the open rows it describes.
    assert!(lee.hand_over().unwrap().is_none());
    kim.publish(
        &desk(t3, Ok(DeskUpdate::default())),
        "k",
        Some("cursor-5".into()),
    )
    .unwrap();
    kim.publish(
        &desk(t3, Err(SourceError::new("zendesk: HTTP 502"))),
        "k",
        None,
    )
    .unwrap();
    let (state, open) = lee.hand_over().unwrap().unwrap();
    assert_eq!(state, "cursor-5");
    let mut open: Vec<String> = open.iter().map(|i| i.id.to_string()).collect();
    open.sort();
    assert_eq!(open, ["2", "4"]);

    // Kim's cockpit ends: its session's lock is freed with it.
    drop(kim);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !lee.lead().unwrap() {
        assert!(
            std::time::Instant::now() < deadline,
            "the lock was not freed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!ann.lead().unwrap());
}

/// Incidents are stored whole; a publish notifies the team's channel with
/// its sender, which a listener hears.
#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn incidents_are_shared_whole_and_a_publish_is_heard() {
    let target = common::pg_target("feed_incidents");
    let (heard_tx, heard) = std::sync::mpsc::channel();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listener = {
        let (target, stop) = (target.clone(), stop.clone());
        std::thread::spawn(move || {
            team_feed::listen(
                &target,
                || stop.load(std::sync::atomic::Ordering::Relaxed),
                |p| heard_tx.send(p.to_owned()).unwrap(),
            )
        })
    };
    // Give LISTEN a moment to be in place before publishing.
    std::thread::sleep(Duration::from_millis(500));
    let mut kim = Feed::connect(&target, SourceKind::Incidents, "Kim").unwrap();
    let mut lee = Feed::connect(&target, SourceKind::Incidents, "Lee").unwrap();
    assert!(kim.lead().unwrap());
    let incidents: Vec<Incident> = common::incidents();
    kim.publish(
        &Polled {
            vendor: Vendor::Pagerduty,
            at: common::now(),
            data: Data::Incidents(Ok(incidents.clone())),
        },
        "tag-kim",
        None,
    )
    .unwrap();
    let read = lee.read().unwrap().unwrap();
    assert_eq!(read.polled.vendor, Vendor::Pagerduty);
    assert_eq!(read.polled.data, Data::Incidents(Ok(incidents)));
    assert_eq!(
        heard.recv_timeout(Duration::from_secs(5)).unwrap(),
        "feed:incidents:tag-kim"
    );
    lee.ask_refresh("tag-lee").unwrap();
    assert_eq!(
        heard.recv_timeout(Duration::from_secs(5)).unwrap(),
        "refresh:incidents:tag-lee"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    listener.join().unwrap().unwrap();
}

/// A metrics poll is stored whole, its SLO counts with it (each cockpit
/// judges them); the histories are stored again only when the source
/// replaced them, and a follower keeps the ones it read until then.
#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn metrics_are_shared_whole_and_histories_only_when_they_change() {
    use cre_cockpit::core::slo::{Counts, SloCounts, WindowCounts};
    use std::sync::Arc;
    let target = common::pg_target("feed_metrics");
    let mut kim = Feed::connect(&target, SourceKind::Metrics, "Kim").unwrap();
    let mut lee = Feed::connect(&target, SourceKind::Metrics, "Lee").unwrap();
    assert!(kim.lead().unwrap());
    let hour = Duration::from_secs(3600);
    let mut first = common::metrics();
    first.warnings = vec!["partial answer".into()];
    first.slo_counts = vec![SloCounts {
        name: "api availability".into(),
        service: "api".into(),
        target: 0.999,
        window: Duration::from_secs(30 * 86_400),
        min_bad_events: 10.0,
        windows: [(
            hour,
            Arc::new(WindowCounts {
                global: Some(Counts {
                    good: 990.0,
                    valid: 1000.0,
                }),
                by_tenant: [(
                    "acme".to_owned(),
                    Counts {
                        good: 90.0,
                        valid: 100.0,
                    },
                )]
                .into(),
            }),
        )]
        .into(),
    }];
    let publish = |feed: &mut Feed, m: &cre_cockpit::core::domain::MetricsSnapshot| {
        feed.publish(
            &Polled {
                vendor: Vendor::Prometheus,
                at: common::now(),
                data: Data::Metrics(Ok(m.clone())),
            },
            "k",
            None,
        )
        .unwrap();
    };
    let history_seq = |seq: i64| {
        common::pg_exec(
            &target,
            &format!("SELECT 1 FROM feed WHERE source = 'metrics_history' AND seq = {seq}"),
        )
    };
    publish(&mut kim, &first);
    assert_eq!(
        lee.read().unwrap().unwrap().polled.data,
        Data::Metrics(Ok(first.clone()))
    );
    assert_eq!(history_seq(1), 1);

    // The next poll: new values, the same histories (the same `Arc`s).
    let mut second = first.clone();
    second.by_tenant.get_mut("acme").unwrap().error_ratio = Some(0.2);
    publish(&mut kim, &second);
    assert_eq!(history_seq(1), 1, "the histories were not stored again");
    assert_eq!(
        lee.read().unwrap().unwrap().polled.data,
        Data::Metrics(Ok(second.clone()))
    );

    // The hour turns: new histories, stored and read once.
    let mut third = second.clone();
    third.error_history = Arc::new([("acme".to_owned(), vec![0.2, 0.3])].into());
    publish(&mut kim, &third);
    assert_eq!(history_seq(2), 1);
    assert_eq!(
        lee.read().unwrap().unwrap().polled.data,
        Data::Metrics(Ok(third.clone()))
    );
    // A cockpit joining now gets the histories too.
    let mut ann = Feed::connect(&target, SourceKind::Metrics, "Ann").unwrap();
    assert_eq!(
        ann.read().unwrap().unwrap().polled.data,
        Data::Metrics(Ok(third))
    );
}

/// What one cockpit's pollers said, as the event loop would get it.
struct Cockpit {
    rx: mpsc::UnboundedReceiver<Message>,
    cancel: CancellationToken,
    roles: Vec<(SourceKind, FeedRole)>,
    desk_at: Vec<Timestamp>,
    inquiries: usize,
    /// Tenants in the last metrics poll received.
    tenants: usize,
}

impl Cockpit {
    fn drain(&mut self) {
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Message::Feed { kind, role } => self.roles.push((kind, role)),
                Message::Desk {
                    at, result: Ok(u), ..
                } => {
                    self.desk_at.push(at);
                    if u.full {
                        self.inquiries = u.changed.len();
                    }
                }
                Message::Metrics { result: Ok(m), .. } => self.tenants = m.by_tenant.len(),
                _ => {}
            }
        }
    }

    fn role(&self, kind: SourceKind) -> Option<&FeedRole> {
        self.roles
            .iter()
            .rev()
            .find(|(k, _)| *k == kind)
            .map(|(_, r)| r)
    }
}

/// Desk, incident and metrics requests the proxy forwarded so far.
fn vendor_requests(proxy: &Proxy) -> (usize, usize, usize) {
    let seen = proxy.requests();
    let count = |prefixes: &[&str]| {
        seen.iter()
            .filter(|s| prefixes.iter().any(|p| s.path.starts_with(p)))
            .count()
    };
    (
        count(&["/api/v2/"]),
        count(&["/incidents", "/oncalls"]),
        count(&["/api/v1/"]),
    )
}

/// Three cockpits of one team against the simulator cost the desk and the
/// incident source what one cockpit costs; every cockpit gets the queue;
/// when the leader ends, another leads within two poll intervals and the
/// data stays fresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
async fn three_cockpits_poll_the_desk_once_and_take_over_from_a_dead_leader() {
    let every = Duration::from_millis(1000);
    let sim = cre_cockpit::simulator::Simulator::start(Default::default())
        .await
        .unwrap();
    let base = sim.base_url();
    let start = |proxy: &Proxy, team: Option<Team>| {
        let dir = tempfile::tempdir().unwrap();
        let (config, secrets) = cre_cockpit::cli::demo::config_for(
            proxy.url(),
            &sim.accounts_csv(),
            dir.path(),
            every,
            None,
        )
        .unwrap();
        let sources =
            Sources::build(&config, secrets, &cre_cockpit::sources::http::client()).unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        let cancel = CancellationToken::new();
        let _pollers = sources.spawn_in_team(&tx, &cancel, team);
        (
            Cockpit {
                rx,
                cancel,
                roles: Vec::new(),
                desk_at: Vec::new(),
                inquiries: 0,
                tenants: 0,
            },
            dir,
        )
    };
    let window = Duration::from_millis(6_500);

    // One cockpit alone: the bar.
    let solo_proxy = Proxy::start(&base);
    let (solo, _solo_dir) = start(&solo_proxy, None);
    tokio::time::sleep(window).await;
    solo.cancel.cancel();
    let solo_requests = vendor_requests(&solo_proxy);

    // A team of three.
    let target = common::pg_target("feed_team");
    let proxy = Proxy::start(&base);
    let mut team = Vec::new();
    for who in ["Kim", "Lee", "Ann"] {
        team.push(start(&proxy, Some(Team::new(target.clone(), who.into()))));
    }
    tokio::time::sleep(window).await;
    let team_requests = vendor_requests(&proxy);
    for (c, _) in &mut team {
        c.drain();
    }
    let leaders: Vec<usize> = (0..3)
        .filter(|&i| team[i].0.role(SourceKind::Desk) == Some(&FeedRole::Leading))
        .collect();
    assert_eq!(
        leaders.len(),
        1,
        "{:?}",
        team.iter().map(|c| &c.0.roles).collect::<Vec<_>>()
    );
    let leader = leaders[0];
    for (i, (c, _)) in team.iter().enumerate() {
        assert!(c.inquiries > 0, "cockpit {i} got the queue");
        assert!(c.tenants > 0, "cockpit {i} got the metrics");
        if i != leader {
            assert!(
                matches!(c.role(SourceKind::Desk), Some(FeedRole::Following(_))),
                "{:?}",
                c.roles
            );
        }
    }
    // The same requests as one cockpit, give or take a poll at the edges
    // of the window.
    eprintln!(
        "requests (desk, incidents, metrics): solo {solo_requests:?}, team of three {team_requests:?}"
    );
    assert!(
        team_requests.0 <= solo_requests.0 + 2
            && team_requests.1 <= solo_requests.1 + 2
            && team_requests.2 <= solo_requests.2 + 3,
        "solo {solo_requests:?}, team {team_requests:?}"
    );

    // The leader ends (its connection closes with it): another cockpit
    // leads within two poll intervals, and desk data keeps coming fresh.
    let before_end = proxy.requests().len();
    team[leader].0.cancel.cancel();
    let ended = Timestamp::now();
    let took_over = |team: &[(Cockpit, tempfile::TempDir)]| {
        let others = || team.iter().enumerate().filter(|(i, _)| *i != leader);
        others().any(|(_, (c, _))| c.role(SourceKind::Desk) == Some(&FeedRole::Leading))
            && others().all(|(_, (c, _))| c.desk_at.last().is_some_and(|at| *at > ended))
    };
    // The rule is two poll intervals (here 0.6 s on an idle machine); the
    // bound leaves room for a loaded CI machine, and still fails a
    // takeover that waits for a timeout of its own.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !took_over(&team) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nobody took over: {:?}",
            team.iter().map(|c| &c.0.roles).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        for (c, _) in &mut team {
            c.drain();
        }
    }
    let took = Timestamp::now().duration_since(ended);
    eprintln!("taken over and fresh again after {took:#}");
    // The new leader continued from the old one's cursor: no export
    // started over from the beginning.
    let exports: Vec<String> = proxy.requests()[before_end..]
        .iter()
        .filter(|s| s.path.starts_with("/api/v2/incremental/tickets/cursor"))
        .map(|s| s.path.clone())
        .collect();
    assert!(!exports.is_empty());
    assert!(
        exports
            .iter()
            .all(|p| p.contains("cursor=") && !p.contains("start_time")),
        "{exports:#?}"
    );
    assert!(
        took <= SignedDuration::try_from(every * 5).unwrap(),
        "took {took:#}"
    );
    for (c, _) in &team {
        c.cancel.cancel();
    }
    sim.shutdown().await;
}
