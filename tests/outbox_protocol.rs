//! The outbox's exactly-once protocol as a property: two deliverers on two
//! connections to one journal, each meeting random faults — answers lost
//! after the desk applied the note, 2xx answers that prove nothing,
//! refusals, 429s, checks that fail, and crashes mid-send — against a model
//! desk that counts what it applied. In every run, every note lands exactly
//! once, and the journal says so. The same runs go against the team's
//! PostgreSQL store (two connections standing for two machines).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cre_cockpit::app::outbox::{self, Deliver, Outcome, SharedJournal};
use cre_cockpit::core::domain::SourceError;
use cre_cockpit::core::writes::{SourceWrite, Step, StepState, Target, WriteKind};
use cre_cockpit::store::journal::{Journal, Owner, TeamTarget};
use jiff::Timestamp;
use proptest::prelude::*;

/// What the desk does with one send.
#[derive(Debug, Clone, Copy)]
enum SendFault {
    /// Applied, and the answer shows it.
    Ok,
    /// Applied, the answer was lost (timeout after the server stored it).
    LostAnswer,
    /// Applied, answered 200 with an HTML page.
    Garbage,
    /// Never reached the desk (connection refused).
    Refused,
    /// 429 before anything happened.
    RateLimited,
    /// A 502 from a gateway: maybe applied, here not.
    BadGateway,
    /// Applied, then the deliverer's process died before recording it.
    CrashAfterApply,
}

/// What the desk does with one "did it arrive?" check.
#[derive(Debug, Clone, Copy)]
enum CheckFault {
    Ok,
    RateLimited,
    Refused,
    NotFound404,
}

#[derive(Default)]
struct Desk {
    /// Applications per marker.
    applied: HashMap<String, usize>,
}

struct ModelDeliverer {
    desk: Arc<Mutex<Desk>>,
    owner: Owner,
    sends: VecDeque<SendFault>,
    checks: VecDeque<CheckFault>,
}

/// A request's time on the wire (0–3 ms), so the other deliverer runs
/// meanwhile: without it, claims would rarely overlap a send.
async fn network() {
    let ms = rand::random::<u64>() % 4;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

fn error(status: Option<u16>, maybe_applied: bool) -> SourceError {
    let mut e = SourceError::new(format!("model desk: {status:?}"));
    e.status = status;
    e.maybe_applied = maybe_applied;
    e
}

impl Deliver for ModelDeliverer {
    fn owner(&self) -> &Owner {
        &self.owner
    }

    fn timeout(&self) -> Duration {
        // Long enough that a live deliverer never overruns its lease here;
        // crashed owners' leases are expired by the harness.
        Duration::from_secs(30)
    }

    async fn arrived(&mut self, step: &Step) -> Result<bool, SourceError> {
        network().await;
        match self.checks.pop_front().unwrap_or(CheckFault::Ok) {
            CheckFault::Ok => Ok(self.desk.lock().unwrap().applied.contains_key(&step.marker)),
            CheckFault::RateLimited => Err(error(Some(429), false)),
            CheckFault::Refused => Err(error(None, false)),
            CheckFault::NotFound404 => Err(error(Some(404), false)),
        }
    }

    async fn send(&mut self, step: &Step) -> Outcome {
        network().await;
        let fault = self.sends.pop_front().unwrap_or(SendFault::Ok);
        let apply = || {
            *self
                .desk
                .lock()
                .unwrap()
                .applied
                .entry(step.marker.clone())
                .or_default() += 1;
        };
        match fault {
            SendFault::Ok => {
                apply();
                Outcome::Sent
            }
            SendFault::LostAnswer => {
                apply();
                error(None, true).into()
            }
            SendFault::Garbage => {
                apply();
                SourceError::unproven("model desk", "an HTML page").into()
            }
            SendFault::Refused => error(None, false).into(),
            SendFault::RateLimited => error(Some(429), false).into(),
            SendFault::BadGateway => error(Some(502), true).into(),
            SendFault::CrashAfterApply => {
                apply();
                // The process dies here: the pass never returns.
                std::future::pending::<()>().await;
                unreachable!()
            }
        }
    }
}

fn send_fault() -> impl Strategy<Value = SendFault> {
    prop_oneof![
        3 => Just(SendFault::Ok),
        2 => Just(SendFault::LostAnswer),
        1 => Just(SendFault::Garbage),
        1 => Just(SendFault::Refused),
        1 => Just(SendFault::RateLimited),
        1 => Just(SendFault::BadGateway),
        1 => Just(SendFault::CrashAfterApply),
    ]
}

fn check_fault() -> impl Strategy<Value = CheckFault> {
    prop_oneof![
        3 => Just(CheckFault::Ok),
        1 => Just(CheckFault::RateLimited),
        1 => Just(CheckFault::Refused),
        1 => Just(CheckFault::NotFound404),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    /// Notes, by ticket.
    tickets: Vec<u8>,
    faults: [(Vec<SendFault>, Vec<CheckFault>); 2],
}

fn case() -> impl Strategy<Value = Case> {
    let faults = || {
        (
            prop::collection::vec(send_fault(), 0..8),
            prop::collection::vec(check_fault(), 0..6),
        )
    };
    (prop::collection::vec(0u8..3, 1..6), faults(), faults()).prop_map(|(tickets, a, b)| Case {
        tickets,
        faults: [a, b],
    })
}

/// Where the journal is: the local file or a team schema.
enum Store {
    Sqlite(std::path::PathBuf),
    Postgres(Box<TeamTarget>),
}

impl Store {
    fn open(&self) -> SharedJournal {
        Arc::new(Mutex::new(match self {
            Self::Sqlite(path) => Journal::open(path).unwrap(),
            Self::Postgres(target) => Journal::connect(target).unwrap(),
        }))
    }

    /// A crashed owner's leases run out (moved into the past rather than
    /// waited for).
    fn expire(&self, owner: &str) {
        let sql = "UPDATE steps SET lease_until = '2000-01-01T00:00:00Z' WHERE owner = ";
        match self {
            Self::Sqlite(path) => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute(&format!("{sql}?1"), [owner])
                    .unwrap();
            }
            Self::Postgres(target) => {
                let quoted = owner.replace('\'', "''");
                common::pg_exec(target, &format!("{sql}'{quoted}'"));
            }
        }
    }
}

fn run(case: &Case) {
    let dir = tempfile::tempdir().unwrap();
    run_on(case, &Store::Sqlite(dir.path().join("cockpit.db")));
}

fn run_on(case: &Case, store: &Store) {
    let journals = [store.open(), store.open()];
    let mut writes = Vec::new();
    for (i, ticket) in case.tickets.iter().enumerate() {
        let text = format!("note {i}");
        let effects = vec![SourceWrite::DeskNote {
            ticket: format!("{}", 100 + u32::from(*ticket)),
            body: text.clone(),
            public: false,
        }];
        let write = journals[0]
            .lock()
            .unwrap()
            .insert(
                WriteKind::Annotate,
                &Target::Inquiry(ticket.to_string()),
                &text,
                effects,
                Timestamp::now(),
            )
            .unwrap();
        writes.push(write.id);
    }
    let desk = Arc::new(Mutex::new(Desk::default()));
    let mut deliverers: Vec<ModelDeliverer> = case
        .faults
        .iter()
        .map(|(sends, checks)| ModelDeliverer {
            desk: desk.clone(),
            owner: Owner::this_process(),
            sends: sends.iter().copied().collect(),
            checks: checks.iter().copied().collect(),
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for _round in 0..40 {
            let mut tasks = Vec::new();
            for (i, mut d) in deliverers.drain(..).enumerate() {
                let journal = journals[i].clone();
                tasks.push(tokio::spawn(async move {
                    let pass = tokio::time::timeout(
                        Duration::from_secs(2),
                        outbox::pass(&journal, &mut d, true, &mut |_| {}),
                    )
                    .await;
                    (d, pass)
                }));
            }
            for task in tasks {
                let (mut d, pass) = task.await.unwrap();
                match pass {
                    Ok(done) => {
                        done.unwrap();
                    }
                    Err(_) => {
                        // It crashed mid-send. Its lease runs out (moved
                        // into the past here rather than waited for) and the
                        // process restarts as a new owner.
                        store.expire(d.owner.as_str());
                        d.owner = Owner::this_process();
                    }
                }
                deliverers.push(d);
            }
            let pending = outbox::with_journal(&journals[0], Journal::pending)
                .await
                .unwrap();
            if pending.is_empty() {
                break;
            }
        }
    });
    let mut journal = journals[0].lock().unwrap();
    let desk = desk.lock().unwrap();
    for id in writes {
        let write = journal.write(id).unwrap().unwrap();
        let step = &write.steps[0];
        let landed = desk.applied.get(&step.marker).copied().unwrap_or(0);
        assert_eq!(landed, 1, "write {id} landed {landed} times: {step:?}");
        assert_eq!(step.state, StepState::Sent, "write {id}: {step:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_note_lands_exactly_once_whatever_two_deliverers_meet(case in case()) {
        run(&case);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    #[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
    fn every_note_lands_exactly_once_on_a_team_store(case in case()) {
        run_on(&case, &Store::Postgres(Box::new(common::pg_target("protocol"))));
    }
}

#[test]
#[ignore = "needs PostgreSQL (scripts/test.sh starts it)"]
fn a_failed_check_never_lets_a_note_be_sent_blind_on_a_team_store() {
    run_on(
        &blind_check_case(),
        &Store::Postgres(Box::new(common::pg_target("blind"))),
    );
}

#[test]
fn a_failed_check_never_lets_a_note_be_sent_blind() {
    run(&blind_check_case());
}

/// The measured bug: the answer is lost, then the check is rate limited
/// and refused; before, the step fell back to `queued` and was sent again
/// without a check.
fn blind_check_case() -> Case {
    Case {
        tickets: vec![0],
        faults: [
            (
                vec![SendFault::LostAnswer, SendFault::Ok, SendFault::Ok],
                vec![
                    CheckFault::RateLimited,
                    CheckFault::Refused,
                    CheckFault::NotFound404,
                ],
            ),
            (Vec::new(), Vec::new()),
        ],
    }
}
