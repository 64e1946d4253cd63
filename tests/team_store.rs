//! The journal's protocol against both backends: the local SQLite file and
//! the team's PostgreSQL (`[team] store`). Every check runs twice, once per
//! backend; the PostgreSQL runs need the server `scripts/test.sh` starts and
//! work in a schema of their own. Several connections stand for several
//! processes or machines: claims race on real row locks, deliverers run on
//! their own threads, and the deliveries are counted at the simulator's
//! Zendesk.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::proxy::{PathMatch, Proxy};
use cre_cockpit::app::outbox::{self, Deliver, Outcome, SharedJournal};
use cre_cockpit::core::writes::{SourceWrite, Step, StepState, Target, WriteKind};
use cre_cockpit::store::journal::{Claim, Journal, Owner, Settle, TeamTarget};
use jiff::{SignedDuration, Timestamp};

/// One journal, opened as many times as a test needs: each `open` is a new
/// connection.
trait Backend: Sync {
    fn open(&self) -> Journal;
    /// SQL outside the journal (to damage a row, end a lease).
    fn raw(&self, sql: &str);
    /// Claim the schema was written by a newer build.
    fn set_version(&self, version: usize);
}

struct Sqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Sqlite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cockpit.db");
        Self { _dir: dir, path }
    }
}

impl Backend for Sqlite {
    fn open(&self) -> Journal {
        Journal::open(&self.path).unwrap()
    }
    fn raw(&self, sql: &str) {
        rusqlite::Connection::open(&self.path)
            .unwrap()
            .execute_batch(sql)
            .unwrap();
    }
    fn set_version(&self, version: usize) {
        self.raw(&format!("PRAGMA user_version = {version}"));
    }
}

struct Pg(TeamTarget);

impl Backend for Pg {
    fn open(&self) -> Journal {
        Journal::connect(&self.0).unwrap()
    }
    fn raw(&self, sql: &str) {
        common::pg_exec(&self.0, sql);
    }
    fn set_version(&self, version: usize) {
        self.raw(&format!("UPDATE schema_version SET version = {version}"));
    }
}

/// Each check as two tests: `<check>::sqlite` and `<check>::postgres`.
macro_rules! both {
    ($($check:ident),* $(,)?) => {$(
        mod $check {
            #[test]
            fn sqlite() {
                super::$check(&super::Sqlite::new());
            }
            #[test]
            #[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
            fn postgres() {
                super::$check(&super::Pg(super::common::pg_target(stringify!($check))));
            }
        }
    )*};
}

both!(
    writes_keep_text_and_author_across_connections,
    one_claim_wins_across_connections_until_the_lease_ends,
    uncertainty_sticks_until_a_settle_clears_it,
    a_write_being_sent_cannot_be_cancelled,
    commits_by_another_connection_are_noticed,
    a_damaged_row_blocks_only_itself,
    a_newer_schema_is_refused_and_first_opens_race_safely,
    racing_claimers_on_their_own_connections_take_each_step_once,
    deliverers_on_threads_deliver_30_writes_each_exactly_once,
    a_deliverer_killed_mid_lease_is_taken_over_after_expiry_and_checked_first,
);

const LEASE: SignedDuration = SignedDuration::from_secs(60);

fn now() -> Timestamp {
    "2026-11-21T10:00:00Z".parse().unwrap()
}

fn note(j: &mut Journal, ticket: &str, text: &str) -> Step {
    let effects = vec![SourceWrite::DeskNote {
        ticket: ticket.into(),
        body: text.into(),
        public: false,
    }];
    j.insert(
        WriteKind::Annotate,
        &Target::Inquiry(ticket.into()),
        text,
        effects,
        now(),
    )
    .unwrap()
    .steps
    .remove(0)
}

fn sent() -> Settle {
    Settle {
        state: StepState::Sent,
        error: None,
        retry_at: None,
        check_first: false,
    }
}

fn writes_keep_text_and_author_across_connections(b: &dyn Backend) {
    let text = "障害の影響を確認中です 🙏\nline two";
    let id = {
        let mut j = b.open().with_author(Some("Alex Kim".into()));
        note(&mut j, "7", text).write_id
    };
    let mut other = b.open();
    let w = other.write(id).unwrap().unwrap();
    assert_eq!(w.text, text);
    assert_eq!(w.author.as_deref(), Some("Alex Kim"));
    assert_eq!(w.created_at, now());
    assert_eq!(w.target, Target::Inquiry("7".into()));
    assert_eq!(w.steps[0].state, StepState::Queued);
    assert!(w.steps[0].marker.starts_with("cc-"));
    // Without an author (no [ui] me) the write says so rather than guess.
    let anonymous = note(&mut other, "8", "x").write_id;
    assert_eq!(other.write(anonymous).unwrap().unwrap().author, None);
    let recent: Vec<i64> = other.recent(10).unwrap().iter().map(|w| w.id).collect();
    assert_eq!(recent, vec![anonymous, id], "newest first");
    let since: Vec<i64> = other.since(now()).unwrap().iter().map(|w| w.id).collect();
    assert_eq!(since, vec![id, anonymous], "oldest first");
    assert!(
        other
            .since(now() + SignedDuration::from_secs(1))
            .unwrap()
            .is_empty()
    );
    assert_eq!(other.pending().unwrap().len(), 2);
}

fn one_claim_wins_across_connections_until_the_lease_ends(b: &dyn Backend) {
    let (mut a, mut bob_j) = (b.open(), b.open());
    let step = note(&mut a, "7", "checking");
    let (alice, bob) = (Owner::this_process(), Owner::this_process());
    let Claim::Claimed(mine) = a.claim(step.id, &alice, LEASE, now()).unwrap() else {
        panic!("the first claim wins")
    };
    assert!(!mine.check_first, "a fresh step is sent without a check");
    assert!(matches!(
        bob_j.claim(step.id, &bob, LEASE, now()).unwrap(),
        Claim::Held { .. }
    ));
    assert!(
        !bob_j.settle(step.id, &bob, &sent(), now()).unwrap(),
        "only the holder records an outcome"
    );
    assert!(a.renew(step.id, &alice, LEASE, now()).unwrap());
    // Alice dies; her lease runs out; Bob takes over and must check.
    let later = now() + SignedDuration::from_secs(61);
    let Claim::Claimed(taken) = bob_j.claim(step.id, &bob, LEASE, later).unwrap() else {
        panic!("an expired lease is taken over")
    };
    assert!(taken.check_first, "the dead owner may have sent it");
    assert_eq!(taken.attempts, 2);
    assert!(
        !a.renew(step.id, &alice, LEASE, later).unwrap(),
        "Alice lost it"
    );
    assert!(!a.settle(step.id, &alice, &sent(), later).unwrap());
    assert!(bob_j.settle(step.id, &bob, &sent(), later).unwrap());
    assert_eq!(
        a.claim(step.id, &alice, LEASE, later).unwrap(),
        Claim::Settled
    );
    assert!(a.pending().unwrap().is_empty());
    let w = a.write(step.write_id).unwrap().unwrap();
    assert_eq!(w.steps[0].sent_at, Some(later));
}

fn uncertainty_sticks_until_a_settle_clears_it(b: &dyn Backend) {
    let mut j = b.open();
    let step = note(&mut j, "7", "checking");
    let me = Owner::this_process();
    let Claim::Claimed(_) = j.claim(step.id, &me, LEASE, now()).unwrap() else {
        panic!()
    };
    let unknown = Settle {
        state: StepState::Unknown,
        error: Some("timed out".into()),
        retry_at: Some(now() + SignedDuration::from_secs(30)),
        check_first: true,
    };
    assert!(j.settle(step.id, &me, &unknown, now()).unwrap());
    let mut other = b.open();
    let pending = other.pending().unwrap();
    assert_eq!(pending[0].state, StepState::Unknown);
    assert_eq!(
        pending[0].next_attempt_at,
        now() + SignedDuration::from_secs(30)
    );
    assert_eq!(pending[0].last_error.as_deref(), Some("timed out"));
    let Claim::Claimed(again) = other.claim(step.id, &me, LEASE, now()).unwrap() else {
        panic!()
    };
    assert!(again.check_first);
    assert_eq!(again.attempts, 2);
}

fn a_write_being_sent_cannot_be_cancelled(b: &dyn Backend) {
    let mut j = b.open();
    let busy = note(&mut j, "7", "one");
    let idle = note(&mut j, "8", "two");
    j.claim(busy.id, &Owner::this_process(), LEASE, now())
        .unwrap();
    let err = b.open().cancel(busy.write_id).unwrap_err();
    assert!(err.to_string().contains("cannot be cancelled"), "{err}");
    assert_eq!(b.open().cancel(idle.write_id).unwrap(), 1);
    assert_eq!(
        j.write(idle.write_id).unwrap().unwrap().state(),
        StepState::Cancelled
    );
    assert_eq!(
        j.claim(idle.id, &Owner::this_process(), LEASE, now())
            .unwrap(),
        Claim::Settled
    );
}

fn commits_by_another_connection_are_noticed(b: &dyn Backend) {
    let mut tui = b.open();
    let mut cli = b.open();
    assert!(!tui.changed_elsewhere().unwrap());
    note(&mut tui, "7", "mine");
    assert!(!tui.changed_elsewhere().unwrap(), "its own commit");
    note(&mut cli, "8", "theirs");
    assert!(tui.changed_elsewhere().unwrap());
    assert!(!tui.changed_elsewhere().unwrap());
    // Another commit between two of its own still counts.
    note(&mut tui, "7", "mine again");
    note(&mut cli, "8", "theirs again");
    note(&mut tui, "7", "and mine");
    assert!(tui.changed_elsewhere().unwrap());
}

fn a_damaged_row_blocks_only_itself(b: &dyn Backend) {
    let mut j = b.open();
    let bad = note(&mut j, "7", "bad");
    let good = note(&mut j, "8", "good");
    b.raw(&format!(
        "UPDATE steps SET effect = '{{\"effect\":\"desk_note\",' WHERE id = {}",
        bad.id
    ));
    let pending = j.pending().unwrap();
    assert_eq!(
        pending.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![good.id]
    );
    let shown = b.open().write(bad.write_id).unwrap().unwrap();
    assert_eq!(shown.steps[0].state, StepState::Unreadable);
    assert!(
        shown.steps[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("does not parse")
    );
    assert_eq!(j.cancel(bad.write_id).unwrap(), 1);
}

fn a_newer_schema_is_refused_and_first_opens_race_safely(b: &dyn Backend) {
    // Four processes starting at once on a fresh store all open it.
    std::thread::scope(|s| {
        let opened: Vec<_> = (0..4).map(|_| s.spawn(|| drop(b.open()))).collect();
        for o in opened {
            o.join().unwrap();
        }
    });
    let mut j = b.open();
    note(&mut j, "7", "kept");
    drop(j);
    b.set_version(99);
    let err = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.open())) {
        Ok(_) => panic!("a newer schema must be refused"),
        Err(e) => e.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert!(err.contains("newer than this cre-cockpit knows"), "{err}");
}

fn racing_claimers_on_their_own_connections_take_each_step_once(b: &dyn Backend) {
    const STEPS: usize = 40;
    const CLAIMERS: usize = 6;
    let mut j = b.open();
    let ids: Vec<i64> = (0..STEPS)
        .map(|i| note(&mut j, &format!("{}", 100 + i), "race").id)
        .collect();
    let won: Vec<Vec<i64>> = std::thread::scope(|s| {
        let claimers: Vec<_> = (0..CLAIMERS)
            .map(|_| {
                let ids = &ids;
                s.spawn(move || {
                    let mut j = b.open();
                    let me = Owner::this_process();
                    ids.iter()
                        .copied()
                        .filter(|&id| {
                            matches!(j.claim(id, &me, LEASE, now()).unwrap(), Claim::Claimed(_))
                        })
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        claimers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let mut times: HashMap<i64, usize> = HashMap::new();
    for id in won.iter().flatten() {
        *times.entry(*id).or_default() += 1;
    }
    let wrong: Vec<_> = ids
        .iter()
        .filter(|id| times.get(id).copied().unwrap_or(0) != 1)
        .map(|id| (id, times.get(id).copied().unwrap_or(0)))
        .collect();
    assert!(
        wrong.is_empty(),
        "steps not claimed exactly once (id, times): {wrong:?}"
    );
}

// ---- delivery to the simulator's Zendesk -------------------------------------

/// Every comment body on a ticket, as the simulator holds them.
async fn sim_bodies(base: &str, ticket: &str) -> Vec<String> {
    common::sim_comments(base, "cre@example.com/token", "t0ken", ticket).await["comments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|c| c["body"].as_str().map(str::to_owned))
        .collect()
}

fn shared(j: Journal) -> SharedJournal {
    Arc::new(Mutex::new(j))
}

fn deliverers_on_threads_deliver_30_writes_each_exactly_once(b: &dyn Backend) {
    const DELIVERERS: usize = 3;
    const WRITES: usize = 30;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(cre_cockpit::simulator::Simulator::start(Default::default()))
        .unwrap();
    let base = sim.base_url();
    let tickets = rt.block_on(common::sim_open_tickets(&base));
    assert!(tickets.len() >= 3, "the simulator has open tickets");
    let tag = format!("{:08x}", rand::random::<u32>());
    // Each deliverer: its own thread, runtime and connection; it journals
    // its 30 notes and then delivers whatever is pending, its teammates'
    // notes included, until nothing is.
    let sent: Vec<usize> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..DELIVERERS)
            .map(|d| {
                let (base, tickets, tag) = (&base, &tickets, &tag);
                s.spawn(move || {
                    let journal = shared(b.open().with_author(Some(format!("cre{d}"))));
                    let mut writers = common::zendesk_writers(base);
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        for i in 0..WRITES {
                            let ticket = tickets[(d * WRITES + i) % tickets.len()].clone();
                            let text = format!("team {tag} d{d} n{i}");
                            let effects = vec![SourceWrite::DeskNote {
                                ticket: ticket.clone(),
                                body: text.clone(),
                                public: false,
                            }];
                            outbox::with_journal(&journal, move |j| {
                                j.insert(
                                    WriteKind::Annotate,
                                    &Target::Inquiry(ticket),
                                    &text,
                                    effects,
                                    Timestamp::now(),
                                )
                            })
                            .await
                            .unwrap();
                        }
                        let deadline = Instant::now() + Duration::from_secs(120);
                        let mut sent = 0;
                        loop {
                            let pass = outbox::pass(&journal, &mut writers, true, &mut |_| {})
                                .await
                                .unwrap();
                            sent += pass.sent;
                            if pass.pending == 0 || Instant::now() > deadline {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        sent
                    })
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(
        sent.iter().sum::<usize>(),
        DELIVERERS * WRITES,
        "sent per deliverer: {sent:?}"
    );
    let mut bodies: Vec<String> = Vec::new();
    for ticket in &tickets {
        bodies.extend(rt.block_on(sim_bodies(&base, ticket)));
    }
    let mut wrong = Vec::new();
    for d in 0..DELIVERERS {
        for i in 0..WRITES {
            // The marker line follows the text, so "n1" never matches "n10".
            let text = format!("team {tag} d{d} n{i}\n");
            let n = bodies.iter().filter(|b| b.contains(&text)).count();
            if n != 1 {
                wrong.push((d, i, n));
            }
        }
    }
    assert!(wrong.is_empty(), "(deliverer, note, copies): {wrong:?}");
    let mut j = b.open();
    let writes = j.recent(1000).unwrap();
    assert_eq!(writes.len(), DELIVERERS * WRITES);
    assert!(writes.iter().all(|w| w.state() == StepState::Sent));
    assert!(
        writes
            .iter()
            .all(|w| w.author.as_deref().is_some_and(|a| a.starts_with("cre")))
    );
    rt.block_on(sim.shutdown());
}

fn a_deliverer_killed_mid_lease_is_taken_over_after_expiry_and_checked_first(b: &dyn Backend) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(cre_cockpit::simulator::Simulator::start(Default::default()))
        .unwrap();
    let base = sim.base_url();
    let ticket = rt.block_on(common::sim_open_tickets(&base))[0].clone();
    let text = format!("killed mid-lease {:08x}", rand::random::<u32>());
    // The first deliverer claims the note, sends it (the simulator stores
    // it) and dies before recording anything: its connection goes with it.
    let (step, dead_owner) = {
        let mut dead = b.open();
        let step = note(&mut dead, &ticket, &text);
        let mut writers = common::zendesk_writers(&base);
        let Claim::Claimed(claimed) = dead
            .claim(step.id, writers.owner(), LEASE, Timestamp::now())
            .unwrap()
        else {
            panic!("the first claim wins")
        };
        assert_eq!(rt.block_on(writers.send(&claimed)), Outcome::Sent);
        (step, writers.owner().clone())
    };
    let proxy = rt.block_on(async { Proxy::start(&base) });
    let put = PathMatch::Under(format!("/api/v2/tickets/{ticket}"));
    let journal = shared(b.open());
    let mut heir = common::zendesk_writers(proxy.url());
    let pass = rt
        .block_on(outbox::pass(&journal, &mut heir, true, &mut |_| {}))
        .unwrap();
    assert_eq!((pass.held, pass.sent), (1, 0), "the lease is still live");
    assert!(proxy.requests().is_empty(), "nothing sent while held");
    // The lease runs out (moved into the past rather than waited for).
    b.raw(&format!(
        "UPDATE steps SET lease_until = '2000-01-01T00:00:00Z' WHERE id = {}",
        step.id
    ));
    let pass = rt
        .block_on(outbox::pass(&journal, &mut heir, true, &mut |_| {}))
        .unwrap();
    assert_eq!(pass.sent, 1);
    assert_eq!(proxy.forwarded("PUT", &put), 0, "checked, not sent again");
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path.contains("/comments")),
        "the heir looked for the note first"
    );
    let bodies = rt.block_on(sim_bodies(&base, &ticket));
    assert_eq!(bodies.iter().filter(|b| b.contains(&text)).count(), 1);
    let w = journal
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .write(step.write_id);
    // The PostgreSQL client must not block an async thread: read here, on
    // the test's own.
    let w = w.unwrap().unwrap();
    assert_eq!(w.steps[0].state, StepState::Sent);
    assert_eq!(w.steps[0].attempts, 2);
    assert_ne!(w.steps[0].owner.as_deref(), Some(dead_owner.as_str()));
    rt.block_on(sim.shutdown());
}

/// The server drops the connection (a restart, a failover): the call that
/// meets the broken connection fails with its error, the next reconnects,
/// and nothing journalled before is lost.
#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn a_team_journal_reconnects_after_the_server_drops_it() {
    let mut target = common::pg_target("reconnect");
    let name = format!("cre-cockpit {}", target.schema);
    target.config.application_name(&name);
    let b = Pg(target);
    let mut j = b.open();
    let before = note(&mut j, "7", "before");
    b.raw(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = '{name}' AND pid <> pg_backend_pid()"
    ));
    if let Ok(pending) = j.pending() {
        // The client saw the connection close before the call.
        assert_eq!(pending[0].id, before.id);
    }
    let ids: Vec<i64> = j.pending().unwrap().iter().map(|s| s.id).collect();
    assert_eq!(ids, [before.id]);
    let after = note(&mut j, "8", "after");
    assert_eq!(b.open().pending().unwrap().len(), 2, "{after:?}");
}

/// Presence in the team store: each cockpit sees what the *other* cockpits
/// have open (not its own), by their `[ui] me`; a cockpit that closed what
/// it had open, or whose heartbeat is older than asked for, is not listed;
/// an announcement does not count as a journal change (the outboxes are
/// not woken by heartbeats).
#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn presence_lists_what_the_other_cockpits_have_open() {
    use cre_cockpit::core::writes::{Doing, Presence};
    let b = Pg(common::pg_target("presence"));
    let mut kim = b.open().with_author(Some("Kim".into()));
    let mut lee = b.open().with_author(Some("Lee".into()));
    let (kims, lees) = (Owner::this_process(), Owner::this_process());
    let inquiry = Target::Inquiry("101".into());
    kim.announce(&kims, Some((&inquiry, Doing::Writing)), now())
        .unwrap();
    lee.announce(
        &lees,
        Some((&Target::Customer("c1".into()), Doing::Viewing)),
        now(),
    )
    .unwrap();
    let since = now() - SignedDuration::from_secs(45);
    assert_eq!(
        lee.presence(&lees, since).unwrap(),
        [Presence {
            who: "Kim".into(),
            target: inquiry.clone(),
            doing: Doing::Writing,
            seen_at: now(),
        }]
    );
    let seen_by_kim = kim.presence(&kims, since).unwrap();
    assert_eq!(seen_by_kim.len(), 1, "{seen_by_kim:?}");
    assert_eq!(seen_by_kim[0].who, "Lee");
    assert!(
        !kim.changed_elsewhere().unwrap(),
        "a heartbeat is not a write"
    );

    // Kim closes the dialog: nothing of Kim's is listed any more.
    kim.announce(&kims, None, now()).unwrap();
    assert!(lee.presence(&lees, since).unwrap().is_empty());
    // Lee's last heartbeat is a minute old for a later reader.
    let later = now() + SignedDuration::from_secs(60);
    assert!(
        kim.presence(&kims, later - SignedDuration::from_secs(45))
            .unwrap()
            .is_empty()
    );
}

/// A local journal has no teammates: announcing is a no-op, the list empty.
#[test]
fn a_local_journal_keeps_no_presence() {
    use cre_cockpit::core::writes::Doing;
    let b = Sqlite::new();
    let mut j = b.open().with_author(Some("Kim".into()));
    let mut other = b.open().with_author(Some("Lee".into()));
    j.announce(
        &Owner::this_process(),
        Some((&Target::Inquiry("1".into()), Doing::Viewing)),
        now(),
    )
    .unwrap();
    assert!(
        other
            .presence(
                &Owner::this_process(),
                now() - SignedDuration::from_secs(45)
            )
            .unwrap()
            .is_empty()
    );
}

/// The health history is kept once per team: what one cockpit saves the
/// others load, so every CRE sees the same trend and action deadlines. The
/// same day saved again is replaced; triggers are replaced as a set with
/// their start kept to the second; an incident seen by two cockpits is kept
/// once; what is older than kept is forgotten.
#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn the_health_history_is_kept_once_per_team() {
    use cre_cockpit::core::domain::Severity;
    use cre_cockpit::insight::health::{Band, DayScore};
    use cre_cockpit::insight::history::{IncidentSeen, Persist, Trigger};
    use cre_cockpit::store::History;
    use cre_cockpit::store::team_history::TeamHistory;
    let target = common::pg_target("history");
    let mut kim = TeamHistory::connect(&target).unwrap();
    let mut lee = TeamHistory::connect(&target).unwrap();
    let today = now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let score = |days_ago: i64, score: f64| DayScore {
        day: today.checked_sub(jiff::Span::new().days(days_ago)).unwrap(),
        score,
        band: if score < 50.0 { Band::Red } else { Band::Green },
        coverage: 0.8,
        sub_scores: [
            Some(10.0),
            None,
            Some(score),
            None,
            None,
            None,
            None,
            Some(1.5),
        ],
    };
    let seen = |incident: &str, days_ago: i64| IncidentSeen {
        incident: incident.into(),
        account: "c1".into(),
        severity: Severity::Sev1,
        started_at: now() - SignedDuration::from_hours(24 * days_ago),
    };
    let since = now() - SignedDuration::from_secs(3_723);
    kim.save(
        &Persist {
            scores: vec![("c1".into(), score(7, 81.0)), ("c1".into(), score(0, 70.0))],
            triggers: vec![(
                "c1".into(),
                Trigger {
                    code: "F4".into(),
                    since,
                },
            )],
            incidents: vec![seen("PSEV1", 2), seen("POLD", 45)],
        },
        now(),
    )
    .unwrap();
    // Lee's cockpit saves the same day later, and sees the same incident.
    lee.save(
        &Persist {
            scores: vec![("c1".into(), score(0, 42.0))],
            triggers: vec![(
                "c1".into(),
                Trigger {
                    code: "F4".into(),
                    since,
                },
            )],
            incidents: vec![seen("PSEV1", 2)],
        },
        now(),
    )
    .unwrap();
    let loaded = kim.load(today).unwrap();
    let scores: Vec<(i64, f64)> = loaded
        .scores
        .iter()
        .map(|(a, d)| {
            assert_eq!(a, "c1");
            ((today - d.day).get_days().into(), d.score)
        })
        .collect();
    assert_eq!(scores, [(7, 81.0), (0, 42.0)]);
    assert_eq!(loaded.scores[1].1, score(0, 42.0), "every field kept");
    assert_eq!(loaded.triggers.len(), 1);
    assert_eq!(loaded.triggers[0].1.since, since);
    let incidents: Vec<&str> = loaded
        .incidents
        .iter()
        .map(|s| s.incident.as_str())
        .collect();
    assert_eq!(
        incidents,
        ["PSEV1"],
        "once, and the 45-day-old one forgotten"
    );

    // A cockpit with no trigger for c1 any more replaces the set.
    lee.save(&Persist::default(), now()).unwrap();
    assert!(kim.load(today).unwrap().triggers.is_empty());
}

/// `sslmode` in the store's URL: TLS with the server's certificate checked
/// against `sslrootcert` (the test server's CA), the journal working over
/// it; a CA that did not sign the server's certificate is refused, not
/// downgraded to plain; without `sslmode` the connection is plain.
#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn the_team_store_speaks_tls_when_the_url_asks_and_checks_the_server() {
    let url = common::service("CRE_COCKPIT_POSTGRES").unwrap();
    let ca = common::service("CRE_COCKPIT_POSTGRES_CA").unwrap();
    let other = common::service("CRE_COCKPIT_POSTGRES_OTHER_CA").unwrap();
    let schema = common::pg_target("tls").schema;
    let over_tls = |target: &TeamTarget| -> bool {
        target
            .connect()
            .unwrap()
            .query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0)
    };

    for mode in ["require", "verify-ca", "verify-full"] {
        let target = TeamTarget::new(
            &format!("{url}?sslmode={mode}&sslrootcert={ca}"),
            None,
            &schema,
        )
        .unwrap();
        assert!(over_tls(&target), "{mode}");
        assert!(target.describe().contains("TLS"), "{}", target.describe());
        let mut journal = Journal::connect(&target)
            .unwrap()
            .with_author(Some("Kim".into()));
        let id = note(&mut journal, "7", &format!("over TLS ({mode})")).write_id;
        assert_eq!(
            journal.write(id).unwrap().unwrap().text,
            format!("over TLS ({mode})")
        );
    }

    let plain = TeamTarget::new(&url, None, &schema).unwrap();
    assert!(!over_tls(&plain));
    assert!(!plain.describe().contains("TLS"));

    // Every TLS mode checks the certificate: one no trusted CA signed is
    // an error naming the certificate, and nothing is tried in clear.
    for mode in ["require", "verify-full"] {
        let target = TeamTarget::new(
            &format!("{url}?sslmode={mode}&sslrootcert={other}"),
            None,
            &schema,
        )
        .unwrap();
        let Err(err) = Journal::connect(&target) else {
            panic!("{mode}: a server certificate of another CA was accepted")
        };
        let err = err.to_string();
        eprintln!("{mode} against another CA: {err}");
        assert!(err.to_lowercase().contains("certificate"), "{mode}: {err}");
    }
    // A roots file that holds no certificate is refused up front.
    let empty = tempfile::NamedTempFile::new().unwrap();
    let Err(err) = TeamTarget::new(
        &format!(
            "{url}?sslmode=verify-full&sslrootcert={}",
            empty.path().display()
        ),
        None,
        &schema,
    ) else {
        panic!("an empty roots file was accepted")
    };
    assert!(err.to_string().contains("no certificate"), "{err}");
}
