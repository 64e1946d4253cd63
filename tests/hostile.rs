//! Hostile sources, at the cockpit level: the real event loop with the real
//! pollers and adapters, fed over HTTP through a fault-injecting proxy in
//! front of the simulator (tests/hostile/server.rs). Each case first loads
//! good data, then turns one source hostile and checks that
//! (a) a key sent while the hostile request is in flight is answered in the
//!     next frame,
//! (b) the client bounds what it reads and how long it waits,
//! (c) the source's chip and the log say what happened, in words, and never
//!     show the token, and
//! (d) the data loaded before stays on screen, marked stale.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "hostile/screen.rs"]
mod screen;
#[path = "hostile/server.rs"]
mod server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use cre_cockpit::app::wiring::{Secrets, Sources};
use cre_cockpit::app::{self, Runtime};
use cre_cockpit::model::{Model, Settings};
use cre_cockpit::simulator::{SimOptions, Simulator};
use cre_cockpit::sources::http::{self, MAX_BODY_BYTES, Secret};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use ratatui::Terminal;
use screen::Shared;
use server::{Fault, GIB, Hostile};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const DESK_TOKEN: &str = "desk-secret-4242-hostile";
const DESK_LOGIN: &str = "demo@cre-cockpit.invalid/token";
const METRICS_TOKEN: &str = "prom-bearer-secret-7777";
const INCIDENTS_TOKEN: &str = "pd-token-secret-9090";

/// Which source the proxy stands in front of.
#[derive(Debug, Clone, Copy)]
enum Through {
    /// Zendesk's incremental ticket export.
    Desk,
    /// Prometheus' instant queries.
    Metrics,
    /// PagerDuty's incident list.
    Incidents,
}

impl Through {
    fn prefix(self) -> &'static str {
        match self {
            Self::Desk => "/api/v2/incremental/tickets/cursor",
            Self::Metrics => "/api/v1/query",
            Self::Incidents => "/incidents",
        }
    }

    fn chip(self) -> &'static str {
        match self {
            Self::Desk => "desk zendesk",
            Self::Metrics => "metrics prometheus",
            Self::Incidents => "incidents pagerduty",
        }
    }
}

/// Everything `tracing` logs on this thread while a case runs.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// What a case leaves behind to be judged.
struct Outcome {
    hostile: Hostile,
    /// The screen once the failure showed.
    screen: String,
    /// The first line: mode, clock and the source chips.
    chips: String,
    log: String,
    model: Model,
    /// Rows in the source's pane before the fault and after it showed.
    rows: (usize, usize),
}

/// The number after a pane's title ("Open inquiries 120  by …").
fn rows(screen: &str, title: &str) -> Option<usize> {
    let at = screen.find(&format!(" {title} "))? + title.len() + 2;
    screen[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

fn pane_title(through: Through) -> &'static str {
    match through {
        Through::Desk => "Open inquiries",
        Through::Metrics => "At-risk customers",
        Through::Incidents => "Incidents",
    }
}

/// Wait until the last frame satisfies `ready`; fail with the frame after
/// `within` (a guard against hanging, not a performance budget).
async fn frame_where(
    screen: &Shared,
    within: Duration,
    what: &str,
    ready: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let text = screen.text();
        if ready(&text) {
            return text;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}; last frame:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn press(keys: &futures::channel::mpsc::UnboundedSender<std::io::Result<Event>>, code: KeyCode) {
    keys.unbounded_send(Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))))
        .unwrap();
}

/// Run the cockpit against the simulator with `through` behind the proxy,
/// load good data, arm `fault`, check responsiveness while it is in flight,
/// and return once the source's chip shows `expect`.
/// `linger` keeps the cockpit running after that, for cases that watch what
/// the poller does next.
async fn survive(
    through: Through,
    fault: Fault,
    timeout: Duration,
    expect: &str,
    linger: Duration,
) -> Outcome {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // `#[tokio::test]` runs every task on this thread: the event loop's
    // "poll failed" line lands here.
    let _logging = tracing::subscriber::set_default(subscriber);

    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let hostile = Hostile::start(sim.addr()).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut config, _) =
        cre_cockpit::cli::demo::config(&sim, dir.path(), Duration::from_secs(5)).unwrap();
    let fast = Duration::from_millis(300);
    match through {
        Through::Desk => {
            let desk = config.desk.as_mut().unwrap();
            desk.url.clone_from(&hostile.url);
            desk.poll_interval = fast;
            desk.timeout = Some(timeout);
        }
        Through::Metrics => {
            let metrics = config.metrics.as_mut().unwrap();
            metrics.url.clone_from(&hostile.url);
            metrics.poll_interval = fast;
        }
        Through::Incidents => {
            let incidents = config.incidents.as_mut().unwrap();
            incidents.url.clone_from(&hostile.url);
            incidents.poll_interval = fast;
        }
    }
    let secrets = Secrets {
        desk: Some(Secret::new(DESK_TOKEN)),
        metrics: Some(Secret::new(METRICS_TOKEN)),
        incidents: Some(Secret::new(INCIDENTS_TOKEN)),
        ..Default::default()
    };
    let sources = Sources::build(&config, secrets, &http::client()).unwrap();
    let model = Model::new(Settings::default(), sources.states(), Timestamp::now());
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let pollers = sources.spawn(&tx, &cancel);
    let (keys, input) = futures::channel::mpsc::unbounded();
    let screen = Shared::new(200, 50);
    let backend = screen.clone();
    let looping = tokio::spawn(async move {
        let mut terminal = Terminal::new(backend).unwrap();
        app::run(
            &mut terminal,
            model,
            input,
            Runtime::new(tx, rx, pollers, cancel),
        )
        .await
        .unwrap()
    });

    // Good data first.
    let title = pane_title(through);
    let ready = format!("● {}", through.chip());
    let good = frame_where(&screen, Duration::from_secs(30), "no good data", |s| {
        s.lines().next().unwrap_or("").contains(&ready) && rows(s, title).is_some_and(|n| n > 0)
    })
    .await;
    let before = rows(&good, title).unwrap();

    // Turn hostile; while the request is in flight, a key is answered.
    hostile.arm(through.prefix(), fault);
    hostile.arrived().await;
    press(&keys, KeyCode::Char('/'));
    press(&keys, KeyCode::Char('z'));
    press(&keys, KeyCode::Char('z'));
    frame_where(
        &screen,
        Duration::from_secs(10),
        "the filter key was not answered",
        |s| s.contains("filter \"zz\""),
    )
    .await;
    assert!(
        hostile.in_flight() > 0,
        "the hostile request ended before the key was answered"
    );
    press(&keys, KeyCode::Esc);
    hostile.release();

    // The failure shows on the chip.
    let failed = format!("✗ {}", through.chip());
    let screen_text = frame_where(
        &screen,
        Duration::from_secs(30),
        &format!("the chip never said {expect:?}"),
        |s| {
            let chips = s.lines().next().unwrap_or("");
            chips.contains(&failed) && chips.contains(expect) && !s.contains("filter \"zz\"")
        },
    )
    .await;
    tokio::time::sleep(linger).await;
    press(&keys, KeyCode::Char('q'));
    let model = tokio::time::timeout(Duration::from_secs(10), looping)
        .await
        .expect("the loop did not quit")
        .unwrap();
    sim.shutdown().await;
    let after = rows(&screen_text, title).unwrap_or(0);
    Outcome {
        hostile,
        chips: screen_text.lines().next().unwrap_or("").to_owned(),
        screen: screen_text,
        log: log.text(),
        model,
        rows: (before, after),
    }
}

/// What every case must show once the failure is known.
fn said_clearly(through: Through, outcome: &Outcome, expect: &str) {
    let Outcome {
        screen,
        chips,
        log,
        rows,
        ..
    } = outcome;
    // (c) The chip says what happened and that the data is stale.
    assert!(chips.contains("(stale,"), "{chips}");
    // (d) The pane keeps its rows and says they are old.
    assert_eq!(rows.0, rows.1, "rows before and after:\n{screen}");
    assert!(
        screen.contains(&format!("{} failing, showing data from", through.chip())),
        "{screen}"
    );
    // (c) The log says it too, in the same words.
    let logged = log
        .lines()
        .find(|l| l.contains("poll failed") && l.contains(expect))
        .unwrap_or_else(|| panic!("no log line with {expect:?}:\n{log}"));
    assert!(logged.contains("WARN"), "{logged}");
    // No token, in any form a server could echo, on screen or in the log.
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{DESK_LOGIN}:{DESK_TOKEN}"));
    for secret in [DESK_TOKEN, METRICS_TOKEN, INCIDENTS_TOKEN, basic.as_str()] {
        assert!(!screen.contains(secret), "token on screen:\n{screen}");
        assert!(!log.contains(secret), "token in the log:\n{log}");
        for source in &outcome.model.sources {
            assert!(
                !source.last_error.as_deref().unwrap_or("").contains(secret),
                "{source:?}"
            );
        }
    }
}

async fn desk_case(fault: Fault, timeout: Duration, expect: &str) -> Outcome {
    lingering_desk_case(fault, timeout, expect, Duration::ZERO).await
}

async fn lingering_desk_case(
    fault: Fault,
    timeout: Duration,
    expect: &str,
    linger: Duration,
) -> Outcome {
    let outcome = survive(Through::Desk, fault, timeout, expect, linger).await;
    said_clearly(Through::Desk, &outcome, expect);
    // The other sources are untouched.
    for chip in ["● metrics prometheus", "● incidents pagerduty"] {
        assert!(outcome.chips.contains(chip), "{}", outcome.chips);
    }
    outcome
}

const SLOW: Duration = Duration::from_secs(1);
/// For faults that answer at once: long enough that holding the answer at
/// the gate while the test presses keys never turns into a timeout.
const PATIENT: Duration = Duration::from_secs(20);
/// How long to watch a poller after a 429 asking for 2 s: its retry comes
/// after the wait plus one poll interval, with room for a loaded machine.
const RETRY_WATCH: Duration = Duration::from_secs(4);

#[tokio::test]
async fn a_desk_that_never_answers_times_out_after_its_timeout() {
    let outcome = desk_case(Fault::Hang, SLOW, "timed out after 1s").await;
    // Every hanging request was let go: by the timeout, or (for a retry
    // still waiting) when quitting stopped the poller.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while outcome.hostile.in_flight() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a connection was left open"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_desk_that_hangs_after_the_headers_times_out() {
    desk_case(Fault::HangAfterHeaders, SLOW, "timed out after 1s").await;
}

#[tokio::test]
async fn a_desk_trickling_bytes_times_out_on_the_whole_request() {
    let outcome = desk_case(Fault::Trickle, SLOW, "timed out after 1s").await;
    // One byte per 50 ms: a per-read timeout would never fire; the
    // whole-request deadline stops it after about 20 bytes.
    assert!(
        outcome.hostile.body_bytes() < 200,
        "{}",
        outcome.hostile.body_bytes()
    );
}

#[tokio::test]
async fn a_desk_resetting_the_connection_says_it_dropped() {
    desk_case(Fault::Reset, PATIENT, "the server dropped the connection").await;
}

#[tokio::test]
async fn a_gigabyte_desk_body_is_cut_off_at_the_limit() {
    let outcome = desk_case(
        Fault::Gigabyte { declared: false },
        PATIENT,
        "response larger than 64 MiB",
    )
    .await;
    let pulled = outcome.hostile.body_bytes();
    // The limit plus what the sockets buffer; far from the gigabyte offered.
    assert!(pulled >= MAX_BODY_BYTES as u64 / 2, "{pulled}");
    assert!(pulled < 2 * MAX_BODY_BYTES as u64, "{pulled}");
    assert!(pulled < GIB / 8, "{pulled}");
}

#[tokio::test]
async fn a_declared_gigabyte_desk_body_is_not_read_at_all() {
    let outcome = desk_case(
        Fault::Gigabyte { declared: true },
        PATIENT,
        "response larger than 64 MiB",
    )
    .await;
    // Refused on the Content-Length: only what the sockets buffered moved.
    let pulled = outcome.hostile.body_bytes();
    assert!(pulled < 32 << 20, "{pulled}");
}

#[tokio::test]
async fn a_desk_nesting_json_100k_deep_is_refused_without_a_stack_overflow() {
    desk_case(Fault::DeepJson, PATIENT, "malformed JSON (recursion limit").await;
}

#[tokio::test]
async fn a_desk_cutting_its_json_short_says_it_is_truncated() {
    desk_case(Fault::TruncatedJson, PATIENT, "truncated JSON").await;
}

#[tokio::test]
async fn a_desk_answering_html_says_it_is_not_json() {
    desk_case(Fault::Html, PATIENT, "not JSON (text/html)").await;
}

#[tokio::test]
async fn a_desk_redirecting_in_a_loop_says_so() {
    let outcome = desk_case(Fault::RedirectLoop, PATIENT, "redirect loop").await;
    // Refused at the first repeat, not after a chain of requests.
    assert!(outcome.hostile.hostile_arrivals().len() <= 3);
}

#[tokio::test]
async fn a_desk_redirecting_to_another_host_gets_no_token_there() {
    let elsewhere = Hostile::start("127.0.0.1:9".parse().unwrap()).await;
    desk_case(
        Fault::RedirectTo(elsewhere.url.clone()),
        PATIENT,
        "redirect to another host refused",
    )
    .await;
    assert!(
        elsewhere.seen().is_empty(),
        "the other host was contacted: {:?}",
        elsewhere.seen()
    );
}

#[tokio::test]
async fn a_desk_refusing_the_token_says_check_the_token_and_hides_its_echo() {
    let outcome = desk_case(Fault::Refuse(401), PATIENT, "unauthorized, check the token").await;
    // The server echoed the header; the cockpit masked it.
    assert!(outcome.hostile.seen().iter().any(|s| {
        s.hostile
            && s.authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("Basic "))
    }));
    assert!(
        outcome.chips.contains("***") || outcome.log.contains("***"),
        "{}",
        outcome.log
    );
}

#[tokio::test]
async fn a_desk_forbidding_access_says_check_the_token_access() {
    desk_case(
        Fault::Refuse(403),
        PATIENT,
        "forbidden, check the token's access",
    )
    .await;
}

#[tokio::test]
async fn a_429_storm_with_retry_after_is_honoured() {
    let outcome = lingering_desk_case(
        Fault::RateLimited(Some(2)),
        PATIENT,
        "rate limited, retrying in 2s",
        RETRY_WATCH,
    )
    .await;
    // The poller came back, but never sooner than the desk asked (polling
    // every 300 ms would have sent about ten requests by now).
    let arrivals = outcome.hostile.hostile_arrivals();
    assert!(arrivals.len() >= 2, "{arrivals:?}");
    assert!(arrivals.len() <= 3, "{arrivals:?}");
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_secs(2),
            "{gap:?} after a 429 asking for 2s"
        );
    }
}

#[tokio::test]
async fn a_429_storm_without_retry_after_backs_off_a_minute() {
    let outcome = lingering_desk_case(
        Fault::RateLimited(None),
        PATIENT,
        "rate limited, retrying in 60s",
        Duration::from_secs(2),
    )
    .await;
    // Two seconds of a 300 ms poll interval, and still only the first.
    assert_eq!(outcome.hostile.hostile_arrivals().len(), 1);
}

#[tokio::test]
async fn prometheus_refusing_the_token_says_so_and_keeps_the_last_metrics() {
    let expect = "unauthorized, check the token";
    let outcome = survive(
        Through::Metrics,
        Fault::Refuse(401),
        PATIENT,
        expect,
        Duration::ZERO,
    )
    .await;
    said_clearly(Through::Metrics, &outcome, expect);
    assert!(
        outcome.chips.contains("● desk zendesk"),
        "{}",
        outcome.chips
    );
    assert!(
        !outcome.model.data.metrics.by_tenant.is_empty(),
        "the last metrics were dropped"
    );
    let bearer = outcome
        .hostile
        .seen()
        .into_iter()
        .find(|s| s.hostile)
        .and_then(|s| s.authorization);
    assert_eq!(bearer, Some(format!("Bearer {METRICS_TOKEN}")));
}

#[tokio::test]
async fn pagerduty_redirecting_to_another_host_gets_no_token_there() {
    let elsewhere = Hostile::start("127.0.0.1:9".parse().unwrap()).await;
    let expect = "redirect to another host refused";
    let outcome = survive(
        Through::Incidents,
        Fault::RedirectTo(elsewhere.url.clone()),
        PATIENT,
        expect,
        Duration::ZERO,
    )
    .await;
    said_clearly(Through::Incidents, &outcome, expect);
    assert!(
        !outcome.model.data.declared.is_empty(),
        "the last incidents were dropped"
    );
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
    // What was refused was the incident list, sent with PagerDuty's token
    // header to the configured host only.
    let refused: Vec<_> = outcome
        .hostile
        .seen()
        .into_iter()
        .filter(|s| s.hostile)
        .collect();
    assert!(!refused.is_empty());
    for seen in refused {
        assert!(seen.path.starts_with("/incidents"), "{seen:?}");
        assert_eq!(
            seen.authorization,
            Some(format!("Token token={INCIDENTS_TOKEN}"))
        );
    }
}

#[tokio::test]
async fn a_pagerduty_429_storm_backs_off_as_asked() {
    let expect = "rate limited, retrying in 2s";
    let outcome = survive(
        Through::Incidents,
        Fault::RateLimited(Some(2)),
        PATIENT,
        expect,
        RETRY_WATCH,
    )
    .await;
    said_clearly(Through::Incidents, &outcome, expect);
    let arrivals = outcome.hostile.hostile_arrivals();
    assert!((2..=3).contains(&arrivals.len()), "{arrivals:?}");
    for pair in arrivals.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_secs(2), "{arrivals:?}");
    }
}
