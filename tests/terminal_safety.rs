//! The real binary in a real pseudo-terminal (tmux), against sources whose
//! every text field carries terminal escape sequences: the text is shown
//! (its marker is on screen) and no injected sequence reaches the terminal
//! (the raw bytes the program wrote, captured by `tmux pipe-pane`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::tmux::{Pane, set_mode};

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The sequences every text field carries, each with its own tell-tale
/// payload so the byte stream can be searched for it.
const INJECTED: &str = concat!(
    "\x1b]0;EVILTITLE\x07",       // OSC 0: window title
    "\x1b]2;EVILTITLE\x1b\\",     // OSC 2, ST-terminated
    "\x1b]52;c;RVZJTENMSVA=\x07", // OSC 52: clipboard write
    "\x1b]8;;https://evil.example/EVILLINK\x1b\\here\x1b]8;;\x1b\\", // OSC 8 hyperlink
    "\x1b[2JEVILCLEAR",           // CSI 2J: clear screen
    "\x1b[31337;31337HEVILMOVE",  // CSI cursor move
    "\x1bP1$qEVILDCS\x1b\\",      // DCS request
    "\u{9b}2JEVILC1",             // 8-bit C1 CSI
    "\u{9d}0;EVILC1OSC\u{9c}",    // 8-bit C1 OSC + ST
    "\x07EVILBEL",                // bell
    "\u{202e}EVILRLO\u{2066}EVILISO\u{2069}", // bidi override, isolate
    "\rEVILCR",                   // carriage-return overwrite
);

/// Byte sequences that must never appear in what the program writes.
const FORBIDDEN: &[&[u8]] = &[
    b"\x1b]0;",
    b"\x1b]2;",
    b"\x1b]8;",
    b"\x1b]52;c;RVZJTENMSVA",
    b"\x1b[2JEVILCLEAR",
    b"\x1b[31337",
    b"\x1bP1$q",
    b"\xc2\x9b",
    b"\xc2\x9c",
    b"\xc2\x9d",
    b"\x07EVILBEL",
    "\u{202e}".as_bytes(),
    "\u{2066}".as_bytes(),
    "\u{2069}".as_bytes(),
    b"\rEVILCR",
];

/// A remote text field: a unique marker, then every injected sequence.
fn hostile(marker: &str) -> String {
    format!("{marker} {INJECTED} end")
}

/// The same for a multi-line body.
fn hostile_body(marker: &str) -> String {
    format!("{marker} first line\n{INJECTED}\nlast line")
}

async fn mount(server: &MockServer, route: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path_regex(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// Zendesk: one ticket whose subject, requester, organisation, group, tags
/// and comments are hostile.
async fn zendesk(server: &MockServer) {
    mount(
        server,
        "^/api/v2/incremental/tickets/cursor$",
        json!({
            "tickets": [{
                "id": 4242, "subject": hostile("ZDSUBJECT"), "raw_subject": hostile("ZDSUBJECT"),
                "description": hostile_body("ZDDESC"),
                "status": "open", "priority": "urgent", "type": "incident",
                "requester_id": 11, "assignee_id": 12, "group_id": 13, "organization_id": 14,
                "tags": [hostile("ZDTAG"), "feature_EVILFEATURE\x1b]0;EVILTITLE\x07"],
                "created_at": "2026-11-21T05:00:00Z", "updated_at": "2026-11-21T05:30:00Z",
                "generated_timestamp": 1_795_228_200
            }],
            "users": [
                {"id": 11, "name": hostile("ZDREQUESTER")},
                {"id": 12, "name": hostile("ZDASSIGNEE")}
            ],
            "organizations": [{"id": 14, "name": hostile("ZDORG")}],
            "groups": [{"id": 13, "name": hostile("ZDGROUP")}],
            "metric_sets": [],
            "after_cursor": "c1",
            "after_url": format!("{}/api/v2/incremental/tickets/cursor?cursor=c1", server.uri()),
            "end_of_stream": true
        }),
    )
    .await;
    mount(
        server,
        "^/api/v2/tickets/4242/comments$",
        json!({
            "comments": [{
                "id": 1, "author_id": 11, "body": hostile_body("ZDCOMMENT"),
                "plain_body": hostile_body("ZDCOMMENT"), "public": true,
                "created_at": "2026-11-21T05:01:00Z"
            }],
            "users": [{"id": 11, "name": hostile("ZDAUTHOR")}],
            "next_page": null
        }),
    )
    .await;
}

/// Prometheus: every signal answers one series whose labels are hostile.
async fn prometheus(server: &MockServer) {
    let labels = json!({"tenant": hostile("PROMTENANT"), "job": hostile("PROMJOB")});
    mount(
        server,
        "^/api/v1/query$",
        json!({"status": "success", "data": {"resultType": "vector",
               "result": [{"metric": labels, "value": [1_795_220_413.8, "0.2"]}]},
               "warnings": [hostile("PROMWARNING")]}),
    )
    .await;
    mount(
        server,
        "^/api/v1/query_range$",
        json!({"status": "success", "data": {"resultType": "matrix",
               "result": [{"metric": labels, "values": [[1_795_220_413.8, "0.2"]]}]}}),
    )
    .await;
}

/// PagerDuty: no incident on the first poll (the notification baseline),
/// then one whose title, service, responders, policy and notes are hostile.
async fn pagerduty(server: &MockServer) {
    let reference = |marker: &str| {
        json!({"id": "PREF1", "type": "reference",
        "summary": hostile(marker), "name": hostile(marker)})
    };
    Mock::given(method("GET"))
        .and(path("/incidents"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"incidents": [], "limit": 100, "offset": 0, "more": false})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    mount(
        server,
        "^/incidents$",
        json!({"incidents": [{
            "id": "PEVIL1", "type": "incident", "title": hostile("PDTITLE"),
            "summary": hostile("PDSUMMARY"), "status": "triggered", "urgency": "high",
            "priority": {"id": "P1", "summary": "P1", "name": "P1"},
            "service": reference("PDSERVICE"),
            "escalation_policy": reference("PDPOLICY"),
            "assignments": [{"assignee": reference("PDRESPONDER")}],
            "created_at": "2026-11-21T05:00:00Z", "incident_number": 7,
            "html_url": "https://acme.pagerduty.example/incidents/PEVIL1"
        }], "limit": 100, "offset": 0, "more": false, "total": 1}),
    )
    .await;
    mount(
        server,
        "^/oncalls$",
        json!({"oncalls": [], "limit": 100, "more": false}),
    )
    .await;
    mount(
        server,
        "^/incidents/PEVIL1/notes$",
        json!({"notes": [{"user": reference("PDNOTEUSER"), "content": hostile_body("PDNOTE"),
                          "created_at": "2026-11-21T05:05:00Z"}]}),
    )
    .await;
}

/// Alertmanager: one firing alert whose labels and annotations are hostile.
/// A mock of every source answering hostile text, with `incidents`
/// ("pagerduty" or "alertmanager") as the incident source.
async fn hostile_sources(incidents: &str) -> MockServer {
    let server = MockServer::start().await;
    zendesk(&server).await;
    prometheus(&server).await;
    if incidents == "alertmanager" {
        alertmanager(&server).await;
    } else {
        pagerduty(&server).await;
    }
    server
}

async fn alertmanager(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/api/v2/alerts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    mount(
        server,
        "^/api/v2/alerts$",
        json!([{
            "labels": {"alertname": hostile("AMALERTNAME"), "service": hostile("AMSERVICE"),
                       "severity": "critical", "tenant": hostile("AMTENANT")},
            "annotations": {"summary": hostile("AMSUMMARY"), "description": hostile_body("AMDESC")},
            "startsAt": "2026-11-21T05:00:00Z", "endsAt": "2026-11-21T06:00:00Z",
            "updatedAt": "2026-11-21T05:00:00Z", "fingerprint": "f00d",
            "receivers": [{"name": hostile("AMRECEIVER")}],
            "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
            "generatorURL": "http://prometheus.example/graph"
        }]),
    )
    .await;
}

/// The cockpit in a tmux pane ([`common::tmux::Pane`], whose methods it
/// has), with its output captured from the first byte.
struct Cockpit {
    term: Pane,
    capture: PathBuf,
    /// The tokens the sources were given (the TUI run's leak check).
    tokens: [String; 2],
    dir: tempfile::TempDir,
}

impl std::ops::Deref for Cockpit {
    type Target = Pane;
    fn deref(&self) -> &Pane {
        &self.term
    }
}

impl Cockpit {
    /// Start the binary with `config` in a 200×50 pane whose output is
    /// captured from the first byte.
    fn start(tmux: String, name: &str, config: &str) -> Self {
        Self::start_with(tmux, name, config, "")
    }

    /// `start` with more `VAR=value` words in the program's environment.
    /// The program runs under a shell that records `stty -a` before and
    /// after it, and exits with its status.
    fn start_with(tmux: String, name: &str, config: &str, env: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        set_mode(&config_path, 0o600);
        let capture = dir.path().join("terminal.bytes");
        let go = dir.path().join("go");
        // The program waits for `go` so that pipe-pane is attached before it
        // writes anything; TMUX is unset so notifications go out as plain
        // OSC 9 (inside tmux they would be wrapped for passthrough).
        let tokens = [
            format!("zd-tty-{}-{name}", std::process::id()),
            format!("pd-tty-{}-{name}", std::process::id()),
        ];
        let script = dir.path().join("run.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nwhile [ ! -e '{go}' ]; do sleep 0.05; done\n\
                 stty -a > '{stty}.before'\n\
                 env -u TMUX HOME='{home}' CRE_COCKPIT_DATA='{data}' CRE_COCKPIT_LOG=trace \
                 CRE_SAFETY_ZD_TOKEN='{zd}' CRE_SAFETY_PD_TOKEN='{pd}' {env} \
                 TERM=xterm-256color '{bin}' --config '{config}'\n\
                 code=$?\nstty -a > '{stty}.after'\nexit $code\n",
                go = go.display(),
                home = dir.path().display(),
                data = dir.path().join("data").display(),
                bin = env!("CARGO_BIN_EXE_cre-cockpit"),
                config = config_path.display(),
                zd = tokens[0],
                pd = tokens[1],
                stty = dir.path().join("stty").display(),
            ),
        )
        .unwrap();
        set_mode(&script, 0o700);
        let term = Pane::start(
            &tmux,
            &format!("cre-safety-{name}-{}", std::process::id()),
            &script,
            (200, 50),
            Some(dir.path().join("data/cre-cockpit.log")),
        );
        let cockpit = Self {
            term,
            capture,
            tokens,
            dir,
        };
        cockpit.tmux(&[
            "pipe-pane",
            "-o",
            "-t",
            "cockpit",
            &format!("cat >> '{}'", cockpit.capture.display()),
        ]);
        std::fs::write(&go, "").unwrap();
        cockpit
    }

    /// After the program exited: tmux's pane has no mouse mode and no
    /// alternate screen left on, and stty is as before. (The cursor's
    /// visibility is checked in the bytes by [`assert_restored`]: a dead
    /// pane's cursor flag says nothing.)
    fn assert_exit_restored(&self, how: &str) {
        assert_eq!(
            self.pane("#{mouse_any_flag}#{alternate_on}"),
            "00",
            "{how}: mouse reporting, alternate screen"
        );
        self.assert_stty_restored();
    }

    /// The terminal's settings after the program exited are those from
    /// before it started: raw mode undone (echo, canonical input, signals,
    /// output processing back), which is what `stty sane` would give.
    fn assert_stty_restored(&self) {
        let read = |which: &str| {
            std::fs::read_to_string(self.dir.path().join(format!("stty.{which}")))
                .unwrap_or_else(|e| panic!("stty.{which}: {e}"))
        };
        let (before, after) = (read("before"), read("after"));
        for flag in ["icanon", "echo", "isig", "opost", "icrnl"] {
            assert!(
                before.split_whitespace().any(|w| w == flag),
                "{flag} before: {before}"
            );
        }
        assert_eq!(before, after, "stty settings changed by the run");
    }

    /// Wait until the program has exited, and check it exited cleanly.
    fn wait_exited(&self) {
        self.wait_exited_with("0");
    }

    /// Neither the terminal nor the log ever saw a token.
    fn assert_no_token(&self, bytes: &[u8]) {
        let log = std::fs::read(self.dir.path().join("data/cre-cockpit.log")).unwrap();
        assert!(!log.is_empty(), "the cockpit logged nothing");
        for token in &self.tokens {
            for (what, haystack) in [("terminal", bytes), ("log", &log[..])] {
                assert!(
                    memchr::memmem::find(haystack, token.as_bytes()).is_none(),
                    "the {what} shows the token {token}"
                );
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        // pipe-pane's `cat` may lag the pane by a moment.
        std::thread::sleep(Duration::from_millis(500));
        std::fs::read(&self.capture).unwrap_or_default()
    }
}

/// Every OSC the program wrote, as (number, payload). Only the program's own
/// two kinds may appear: 9 (notification) and 52 (clipboard).
fn oscs(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut rest = bytes;
    while let Some(start) = memchr::memmem::find(rest, b"\x1b]") {
        rest = &rest[start + 2..];
        let end = rest
            .iter()
            .position(|&b| b == 0x07 || b == 0x1b)
            .unwrap_or(rest.len());
        let body = &rest[..end];
        let (number, payload) = match body.iter().position(|&b| b == b';') {
            Some(i) => (&body[..i], body[i + 1..].to_vec()),
            None => (body, Vec::new()),
        };
        found.push((String::from_utf8_lossy(number).into_owned(), payload));
        rest = &rest[end..];
    }
    found
}

fn assert_safe(bytes: &[u8], markers: &[&str]) {
    assert!(!bytes.is_empty(), "nothing was captured");
    let text = String::from_utf8_lossy(bytes);
    for marker in markers {
        assert!(
            text.contains(marker),
            "{marker} was never shown (the field did not reach the screen)"
        );
    }
    for pattern in FORBIDDEN {
        if let Some(at) = memchr::memmem::find(bytes, pattern) {
            let from = at.saturating_sub(60);
            panic!(
                "{:?} reached the terminal: …{:?}…",
                String::from_utf8_lossy(pattern),
                String::from_utf8_lossy(&bytes[from..(at + 60).min(bytes.len())])
            );
        }
    }
    let kinds: Vec<String> = oscs(bytes).into_iter().map(|(n, _)| n).collect();
    assert!(
        kinds.iter().any(|n| n == "52"),
        "the link was never copied (OSC 52): {kinds:?}"
    );
    assert!(
        kinds.iter().any(|n| n == "9"),
        "no notification went out (OSC 9): {kinds:?}"
    );
    for (number, payload) in oscs(bytes) {
        assert!(
            number == "9" || number == "52",
            "unexpected OSC {number:?} with {:?}",
            String::from_utf8_lossy(&payload)
        );
        let shown = if number == "52" {
            use base64::Engine;
            let encoded = payload.strip_prefix(b"c;").unwrap_or(&payload);
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .expect("OSC 52 carries base64")
        } else {
            payload
        };
        let shown = String::from_utf8_lossy(&shown);
        assert!(
            !shown.contains("EVILCLIP"),
            "the injected clipboard write went out"
        );
        assert!(
            !shown.chars().any(|c| c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
            "OSC {number} carries control characters: {shown:?}"
        );
    }
    // BEL only ever terminates the program's own OSC (the bell is off).
    let bels = bytes.iter().filter(|&&b| b == 0x07).count();
    assert!(
        bels <= oscs(bytes).len(),
        "{bels} BEL bytes for {} OSC sequences",
        oscs(bytes).len()
    );
}

fn config(server: &MockServer, incidents: &str) -> String {
    let url = server.uri();
    format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{url}\"\nemail = \"cre@example.com\"\n\
         token_env = \"CRE_SAFETY_ZD_TOKEN\"\npoll_interval = \"1s\"\n\n\
         [metrics]\nkind = \"prometheus\"\nurl = \"{url}\"\npoll_interval = \"1s\"\n\n\
         [incidents]\nkind = \"{incidents}\"\nurl = \"{url}\"\n{token}poll_interval = \"1s\"\n\n\
         [notify]\nbell = false\ndesktop = \"osc9\"\n",
        token = if incidents == "pagerduty" {
            "token_env = \"CRE_SAFETY_PD_TOKEN\"\n"
        } else {
            ""
        }
    )
}

/// Visit every view that shows remote text, then quit.
fn tour(cockpit: &Cockpit, incident_marker: &str) {
    cockpit.wait_for("ZDSUBJECT");
    cockpit.wait_for(incident_marker);
    cockpit.keys(&["1", "Enter"]);
    cockpit.wait_for("ZDCOMMENT");
    cockpit.keys(&["y", "Escape", "3", "Enter"]);
    cockpit.keys(&["Escape", "i"]);
    cockpit.keys(&["Escape", "2", "Enter", "Escape"]);
    cockpit.keys(&["V", "Escape", "K", "Escape", "J", "Escape", "?", "Escape"]);
    cockpit.keys(&["q"]);
}

/// Run the real binary against `server` (already mounted) with incidents
/// from `incidents`, tour it, and return what it wrote to the terminal,
/// having checked that no token reached the terminal or the log.
async fn toured(
    server: &MockServer,
    tmux: String,
    incidents: &str,
    marker: &'static str,
) -> Vec<u8> {
    let cockpit = Cockpit::start(tmux, &incidents[..2], &config(server, incidents));
    let cockpit = tokio::task::spawn_blocking(move || {
        tour(&cockpit, marker);
        cockpit.wait_exited();
        cockpit
    })
    .await
    .unwrap();
    let bytes = cockpit.bytes();
    cockpit.assert_no_token(&bytes);
    bytes
}

#[ignore = "needs tmux (scripts/test.sh starts it)"]
#[tokio::test(flavor = "multi_thread")]
async fn zendesk_prometheus_and_pagerduty_text_never_reaches_the_terminal_as_escapes() {
    let Some(tmux) = common::service("CRE_COCKPIT_TMUX") else {
        return;
    };
    let server = hostile_sources("pagerduty").await;
    let bytes = toured(&server, tmux, "pagerduty", "PDTITLE").await;
    assert_safe(
        &bytes,
        &[
            "ZDSUBJECT",
            "ZDORG",
            "ZDREQUESTER",
            "ZDCOMMENT",
            "PDTITLE",
            "PDSERVICE",
            "PDNOTE",
        ],
    );
}

#[ignore = "needs tmux (scripts/test.sh starts it)"]
#[tokio::test(flavor = "multi_thread")]
async fn alertmanager_labels_and_annotations_never_reach_the_terminal_as_escapes() {
    let Some(tmux) = common::service("CRE_COCKPIT_TMUX") else {
        return;
    };
    let server = hostile_sources("alertmanager").await;
    let bytes = toured(&server, tmux, "alertmanager", "AMSUMMARY").await;
    assert_safe(&bytes, &["ZDSUBJECT", "AMSUMMARY", "AMSERVICE"]);
}

/// The screen's "Recipient K of N: inquiry ID" line, as (K, ID).
fn recipient_on(screen: &str) -> Option<(String, String)> {
    let line = screen.lines().find(|l| l.contains("Recipient "))?;
    let rest = &line[line.find("Recipient ")? + "Recipient ".len()..];
    let page = rest.split_whitespace().next()?.to_owned();
    let id = rest
        .split("inquiry ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .to_owned();
    Some((page, id))
}

/// `u` in incident mode, in the real binary in a real terminal, against the
/// simulator: the template opens in the editor, typed text lands in every
/// recipient's own copy, the preview pages one linked inquiry at a time,
/// and a public reply (P y y) reaches the desk without an internal marker.
#[ignore = "needs tmux (scripts/test.sh starts it)"]
#[tokio::test(flavor = "multi_thread")]
async fn a_customer_update_is_edited_previewed_per_recipient_and_sent() {
    let Some(tmux) = common::service("CRE_COCKPIT_TMUX") else {
        return;
    };
    let sim = cre_cockpit::simulator::Simulator::start(cre_cockpit::simulator::SimOptions {
        // Fast enough for the wave within seconds, slow enough that the
        // incident stays open through the dialog.
        speed: 20.0,
        ..cre_cockpit::simulator::SimOptions::default()
    })
    .await
    .unwrap();
    let accounts = tempfile::tempdir().unwrap();
    let accounts_file = accounts.path().join("accounts.csv");
    std::fs::write(&accounts_file, sim.accounts_csv()).unwrap();
    let url = sim.base_url();
    let config = format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{url}\"\nemail = \"cre@example.com\"\n\
         token_env = \"CRE_SAFETY_ZD_TOKEN\"\npoll_interval = \"1s\"\n\n\
         [metrics]\nkind = \"prometheus\"\nurl = \"{url}\"\npoll_interval = \"1s\"\n\n\
         [incidents]\nkind = \"pagerduty\"\nurl = \"{url}\"\ntoken_env = \"CRE_SAFETY_PD_TOKEN\"\n\
         from = \"cre@example.com\"\npoll_interval = \"1s\"\n\n\
         [accounts]\nfile = \"{accounts}\"\n\n\
         [notify]\nbell = false\ndesktop = \"off\"\n\n\
         [incident_updates.service_names]\napi = \"the Example API\"\n",
        accounts = accounts_file.display()
    );
    let cockpit = Cockpit::start(tmux, "update", &config);
    let (cockpit, first, second) = tokio::task::spawn_blocking(move || {
        cockpit.wait_for("SEV1");
        cockpit.keys(&["i"]);
        // Wait for the wave: at least two linked inquiries to page between.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !cockpit.screen().lines().any(|l| {
            l.split("Linked inquiries ")
                .nth(1)
                .and_then(|n| n.split_whitespace().next()?.parse::<u32>().ok())
                .is_some_and(|n| n >= 2)
        }) {
            assert!(Instant::now() < deadline, "{}", cockpit.screen());
            std::thread::sleep(Duration::from_millis(300));
        }
        cockpit.keys(&["u", "Enter"]);
        cockpit.wait_for("Hello {customer}, we are investigating");
        cockpit.keys(&["End", " Typed-in-tmux.", "C-s"]);
        cockpit.wait_for("Recipient 1 of");
        let screen = cockpit.screen();
        assert!(screen.contains("Typed-in-tmux."), "{screen}");
        assert!(!screen.contains("{customer}"), "{screen}");
        let first = recipient_on(&screen).unwrap();
        cockpit.keys(&["Right"]);
        cockpit.wait_for("Recipient 2 of");
        let second = recipient_on(&cockpit.screen()).unwrap();
        cockpit.keys(&["P"]);
        cockpit.wait_for("as a PUBLIC REPLY to the customers");
        // The public rendering keeps the page being read.
        assert_eq!(recipient_on(&cockpit.screen()).unwrap(), second);
        cockpit.keys(&["y"]);
        cockpit.wait_for("confirmed. y sends it");
        cockpit.keys(&["y"]);
        // "saved" gives way to "delivered" as soon as the outbox sends it.
        cockpit.wait_for_any(&["saved (write", "delivered: "]);
        (cockpit, first, second)
    })
    .await
    .unwrap();
    assert_ne!(first.1, second.1, "two recipients, two pages");
    // Each of the two previewed inquiries gets one public reply with the
    // typed text and no marker.
    for (_, ticket) in [&first, &second] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let comments =
                common::sim_comments(&sim.base_url(), "cre@example.com/token", "t", ticket).await;
            let ours: Vec<&Value> = comments["comments"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| c["body"].as_str().unwrap().contains("Typed-in-tmux."))
                .collect();
            if let [reply] = ours.as_slice() {
                assert_eq!(reply["public"], true);
                let body = reply["body"].as_str().unwrap();
                assert!(!body.contains("[cc-"), "{body}");
                assert!(body.starts_with("Hello "), "{body}");
                break;
            }
            assert!(ours.len() <= 1, "ticket {ticket}: {comments}");
            assert!(Instant::now() < deadline, "ticket {ticket}: {comments}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let cockpit = tokio::task::spawn_blocking(move || {
        cockpit.keys(&["Escape", "q"]);
        cockpit.wait_exited();
        cockpit
    })
    .await
    .unwrap();
    let bytes = cockpit.bytes();
    cockpit.assert_no_token(&bytes);
    sim.shutdown().await;
}

/// After the program's last mouse-reporting, alternate-screen and cursor
/// switches, every one is back off / shown: what a shell needs.
fn assert_restored(bytes: &[u8]) {
    let last = |needle: &[u8]| memchr::memmem::rfind(bytes, needle);
    for (on, off, what) in [
        (&b"\x1b[?1000h"[..], &b"\x1b[?1000l"[..], "mouse reporting"),
        (b"\x1b[?1049h", b"\x1b[?1049l", "alternate screen"),
        (b"\x1b[?25l", b"\x1b[?25h", "hidden cursor"),
    ] {
        let off_at = last(off).unwrap_or_else(|| panic!("{what} never switched back"));
        assert!(
            last(on).is_none_or(|on_at| on_at < off_at),
            "{what} left on after exit"
        );
    }
}

/// `q` is not the only way out: Ctrl-C (a key in raw mode) and SIGINT
/// (`kill -INT`) both end the program with status 0 and the terminal as it
/// was: no alternate screen, a visible cursor, no mouse reporting.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tmux (scripts/test.sh starts it)"]
async fn ctrl_c_and_sigint_exit_cleanly_and_restore_the_terminal() {
    let Some(tmux) = common::service("CRE_COCKPIT_TMUX") else {
        return;
    };
    let server = hostile_sources("pagerduty").await;
    for (name, how) in [("cc", "ctrl-c"), ("si", "sigint")] {
        let cockpit = Cockpit::start(tmux.clone(), name, &config(&server, "pagerduty"));
        let cockpit = tokio::task::spawn_blocking(move || {
            cockpit.wait_for("ZDSUBJECT");
            if how == "ctrl-c" {
                cockpit.keys(&["C-c"]);
            } else {
                cockpit.signal("INT");
            }
            cockpit.wait_exited();
            cockpit.assert_exit_restored(how);
            cockpit
        })
        .await
        .unwrap();
        assert_restored(&cockpit.bytes());
    }
}

/// SIGTERM (a service manager, `kill`), SIGHUP (the terminal window closed,
/// ssh dropped) and a panic each end the program with the terminal as it
/// was: no alternate screen, a visible cursor, no mouse reporting, stty
/// settings as before. A panic exits 101 with its message readable on the
/// normal screen, printed after the terminal was restored.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tmux (scripts/test.sh starts it)"]
async fn sigterm_sighup_and_a_panic_restore_the_terminal() {
    let Some(tmux) = common::service("CRE_COCKPIT_TMUX") else {
        return;
    };
    let server = hostile_sources("pagerduty").await;
    for (name, how) in [("te", "TERM"), ("hu", "HUP"), ("pa", "panic")] {
        let env = if how == "panic" {
            format!("{}=1", cre_cockpit::app::terminal::TEST_PANIC_ENV)
        } else {
            String::new()
        };
        let cockpit = Cockpit::start_with(tmux.clone(), name, &config(&server, "pagerduty"), &env);
        let cockpit = tokio::task::spawn_blocking(move || {
            if how == "panic" {
                cockpit.wait_exited_with("101");
                let screen = cockpit.screen();
                assert!(
                    screen.contains("panicking on purpose"),
                    "the panic message is not on the normal screen:\n{screen}"
                );
            } else {
                cockpit.wait_for("ZDSUBJECT");
                cockpit.signal(how);
                cockpit.wait_exited();
            }
            cockpit.assert_exit_restored(how);
            cockpit
        })
        .await
        .unwrap();
        let bytes = cockpit.bytes();
        assert_restored(&bytes);
        if how == "panic" {
            // The message comes after the restore, not into the alternate
            // screen that the restore wipes.
            let message = memchr::memmem::rfind(&bytes, b"panicking on purpose").expect("message");
            let left = memchr::memmem::rfind(&bytes, b"\x1b[?1049l").expect("left");
            assert!(
                left < message,
                "the panic message was printed before the restore"
            );
        }
    }
}

/// `[ui] mouse = false` starts with mouse reporting off on the real
/// terminal; `:mouse on` and `:mouse off` switch what the terminal
/// receives (tmux's own flag for the pane).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs tmux (scripts/test.sh starts it)"]
async fn the_mouse_setting_switches_mouse_reporting_on_the_terminal() {
    let Some(tmux) = common::service("CRE_COCKPIT_TMUX") else {
        return;
    };
    let server = hostile_sources("pagerduty").await;
    let config = format!("{}\n[ui]\nmouse = false\n", config(&server, "pagerduty"));
    let cockpit = Cockpit::start(tmux, "mo", &config);
    tokio::task::spawn_blocking(move || {
        let mouse = || cockpit.pane("#{mouse_any_flag}");
        cockpit.wait_for("ZDSUBJECT");
        assert_eq!(mouse(), "0", "[ui] mouse = false");
        cockpit.keys(&[":", "m", "o", "u", "s", "e", "Space", "o", "n", "Enter"]);
        cockpit.wait_for("mouse on");
        assert_eq!(mouse(), "1", ":mouse on");
        cockpit.keys(&[
            ":", "m", "o", "u", "s", "e", "Space", "o", "f", "f", "Enter",
        ]);
        cockpit.wait_for("mouse off");
        assert_eq!(mouse(), "0", ":mouse off");
        cockpit.keys(&["q"]);
        cockpit.wait_exited();
    })
    .await
    .unwrap();
}
