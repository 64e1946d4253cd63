//! Team mode with the real binary: three cockpits, each in its own tmux
//! pane, share one team store (the PostgreSQL `scripts/test.sh` starts)
//! in front of one simulator, whose requests a proxy counts. One of them
//! polls the desk for all three; a note written on one shows on the others;
//! when the poller is killed another takes over; thirty notes typed on the
//! three at once each reach the desk exactly once.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::proxy::Proxy;
use common::tmux::{PATIENCE, Pane, set_mode};

/// The cockpits' poll interval. The shared journal is watched every 2 s,
/// so at this interval a teammate's note is due within one poll.
const EVERY: Duration = Duration::from_secs(3);

/// A cockpit in a pane, with its home (config, data, log).
struct Member {
    pane: Pane,
    who: &'static str,
    _dir: tempfile::TempDir,
}

/// Start `cre-cockpit demo` against the simulator behind `proxy`, in team
/// mode as `who` when `team` names a schema.
fn start(tmux: &str, proxy: &Proxy, who: &'static str, team: Option<(&str, &str)>) -> Member {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let mut text = format!("[ui]\nme = \"{who}\"\n");
    if let Some((store, schema)) = team {
        text.push_str(&format!(
            "\n[team]\nstore = \"{store}\"\nschema = \"{schema}\"\n"
        ));
    }
    std::fs::write(&config, text).unwrap();
    set_mode(&config, 0o600);
    let script = dir.path().join("run.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv -u TMUX HOME='{home}' CRE_COCKPIT_DATA='{home}/data' \
             CRE_COCKPIT_LOG=debug TERM=xterm-256color '{bin}' demo --simulator '{url}' \
             --poll-every {every}s --config '{config}'\n",
            home = dir.path().display(),
            bin = env!("CARGO_BIN_EXE_cre-cockpit"),
            url = proxy.url(),
            every = EVERY.as_secs(),
            config = config.display(),
        ),
    )
    .unwrap();
    set_mode(&script, 0o700);
    let pane = Pane::start(
        tmux,
        &format!("cre-team-{who}-{}", std::process::id()),
        &script,
        // Wide enough for every chip in full, with its team role in words.
        (250, 50),
        Some(dir.path().join("data/cre-cockpit.log")),
    );
    Member {
        pane,
        who,
        _dir: dir,
    }
}

/// The desk chip's words in the top bar (`● desk zendesk 2s ago …`).
fn desk_chip(screen: &str) -> String {
    let top = screen.lines().next().unwrap_or_default();
    top.split('│')
        .find(|chip| chip.contains("desk zendesk"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Desk requests (reads) the proxy forwarded so far.
fn desk_reads(proxy: &Proxy) -> usize {
    proxy
        .requests()
        .iter()
        .filter(|s| s.method == "GET" && s.path.starts_with("/api/v2/"))
        .count()
}

/// Desk reads over `window`, from now.
fn reads_in(proxy: &Proxy, window: Duration) -> usize {
    let before = desk_reads(proxy);
    std::thread::sleep(window);
    desk_reads(proxy) - before
}

/// Type a note on the selected inquiry and save it.
fn note(member: &Member, text: &str) {
    member.pane.keys(&["a"]);
    member.pane.wait_for("Note on inquiry");
    member
        .pane
        .tmux(&["send-keys", "-t", "cockpit", "-l", text]);
    member.pane.keys(&["C-s"]);
    member.pane.wait_for("journal it and send");
    member.pane.keys(&["y"]);
    member.pane.wait_until("the dialog closed", PATIENCE, |s| {
        !s.contains("Note on inquiry")
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL and tmux (scripts/test.sh starts them)"]
async fn three_cockpit_binaries_poll_once_share_notes_and_survive_a_killed_poller() {
    let tmux = common::service("CRE_COCKPIT_TMUX").unwrap();
    let store = common::service("CRE_COCKPIT_POSTGRES").unwrap();
    let schema = format!("t_binaries_{}", std::process::id());
    let sim = cre_cockpit::simulator::Simulator::start(Default::default())
        .await
        .unwrap();
    let window = EVERY * 5;

    // One cockpit alone: the bar for what the team may cost.
    let solo_proxy = Proxy::start(&sim.base_url());
    let solo = start(&tmux, &solo_proxy, "Solo", None);
    solo.pane
        .wait_until("the desk read", PATIENCE, |s| desk_chip(s).contains(" ago"));
    let solo_reads = tokio::task::spawn_blocking({
        move || {
            let n = reads_in(&solo_proxy, window);
            drop(solo);
            n
        }
    })
    .await
    .unwrap();

    // Three of a team: one polls, the others read it from the store.
    let proxy = Proxy::start(&sim.base_url());
    let team: Vec<Member> = ["Kim", "Lee", "Ann"]
        .into_iter()
        .map(|who| start(&tmux, &proxy, who, Some((&store, &schema))))
        .collect();
    let (team, team_reads, leader) = tokio::task::spawn_blocking(move || {
        let roles: Vec<String> = team
            .iter()
            .map(|m| {
                let screen = m
                    .pane
                    .wait_until("a team role on the desk chip", PATIENCE, |s| {
                        let chip = desk_chip(s);
                        chip.contains("polls for the team") || chip.contains("via ")
                    });
                desk_chip(&screen)
            })
            .collect();
        let leaders: Vec<usize> = (0..3)
            .filter(|&i| roles[i].contains("polls for the team"))
            .collect();
        assert_eq!(leaders.len(), 1, "one desk poller: {roles:?}");
        let leader = leaders[0];
        for (i, role) in roles.iter().enumerate() {
            if i != leader {
                assert!(
                    role.contains(&format!("via {}", team[leader].who)),
                    "{role}"
                );
            }
        }
        let n = reads_in(&proxy, window);
        (team, (n, proxy), leader)
    })
    .await
    .unwrap();
    let (team_reads, proxy) = team_reads;
    eprintln!(
        "desk reads in {window:?} at {EVERY:?} polls: one cockpit {solo_reads}, a team of three \
         {team_reads}"
    );
    assert!(
        solo_reads >= 3,
        "one cockpit read the desk {solo_reads} times"
    );
    assert!(team_reads >= 3, "the team read the desk {team_reads} times");
    assert!(
        team_reads <= solo_reads + 1,
        "a team of three read the desk {team_reads} times where one cockpit read it \
         {solo_reads} times"
    );

    let proxy = std::sync::Arc::new(proxy);
    tokio::task::spawn_blocking({
        let proxy = proxy.clone();
        move || {
            // A note on one shows on the others (their journal list, with
            // its author) within one poll.
            let (writer, reader) = (&team[(leader + 1) % 3], &team[(leader + 2) % 3]);
            reader.pane.keys(&["J"]);
            note(writer, "seen by the team");
            let written = Instant::now();
            reader
                .pane
                .wait_until("the teammate's note", PATIENCE, |s| {
                    s.contains("seen by the team") && s.contains(&format!("by {}", writer.who))
                });
            let seen = written.elapsed();
            eprintln!("a teammate's note showed after {seen:?}");
            assert!(seen <= EVERY * 2, "the note took {seen:?} to show");
            reader.pane.keys(&["Escape"]);

            // Ten notes typed on each cockpit at once: each reaches the
            // desk once.
            std::thread::scope(|s| {
                for member in &team {
                    s.spawn(move || {
                        for n in 0..10 {
                            note(member, &format!("burst {} #{n:02}.", member.who));
                        }
                    });
                }
            });
            let texts: Vec<String> = team
                .iter()
                .flat_map(|m| (0..10).map(move |n| format!("burst {} #{n:02}.", m.who)))
                .collect();
            let delivered = |text: &str| {
                proxy
                    .requests()
                    .iter()
                    .filter(|s| s.method == "PUT" && s.forwarded && s.body.contains(text))
                    .count()
            };
            let deadline = Instant::now() + PATIENCE * 2;
            while texts.iter().any(|t| delivered(t) == 0) {
                assert!(
                    Instant::now() < deadline,
                    "undelivered: {:?}",
                    texts
                        .iter()
                        .filter(|t| delivered(t) == 0)
                        .collect::<Vec<_>>()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
            // Time for a second delivery to happen, if one would.
            std::thread::sleep(EVERY * 2);
            for text in &texts {
                assert_eq!(delivered(text), 1, "{text}");
            }

            // The poller is killed: another takes over within two polls
            // and the desk is read again.
            team[leader].pane.signal("KILL");
            let killed = Instant::now();
            let before = desk_reads(&proxy);
            let others: Vec<&Member> = (0..3).filter(|&i| i != leader).map(|i| &team[i]).collect();
            let deadline = killed + PATIENCE;
            let new_leader = loop {
                if let Some(m) = others
                    .iter()
                    .find(|m| desk_chip(&m.pane.screen()).contains("polls for the team"))
                {
                    break m;
                }
                assert!(Instant::now() < deadline, "nobody took over");
                std::thread::sleep(Duration::from_millis(100));
            };
            let took = killed.elapsed();
            while desk_reads(&proxy) == before {
                assert!(
                    Instant::now() < deadline,
                    "the new poller never read the desk"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            eprintln!("{} took over after {took:?}", new_leader.who);
            assert!(took <= EVERY * 2, "the take-over took {took:?}");
            let follower = others.iter().find(|m| m.who != new_leader.who).unwrap();
            follower
                .pane
                .wait_until("the new poller's name", PATIENCE, |s| {
                    desk_chip(s).contains(&format!("via {}", new_leader.who))
                });
        }
    })
    .await
    .unwrap();
}
