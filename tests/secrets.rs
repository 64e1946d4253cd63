//! Tokens stay secret: never in logs, output, the journal or a panic
//! message; never sent to a host other than the configured one; plain http
//! only to loopback unless a source allows it; a config others can read is
//! warned about.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine;
use cre_cockpit::app::wiring::{Secrets, Sources};
use cre_cockpit::config::{Config, ConfigError};
use cre_cockpit::simulator::{SimOptions, Simulator};
use cre_cockpit::sources::DeskSource;
use cre_cockpit::sources::http::{self, Secret};
use cre_cockpit::sources::zendesk::Zendesk;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMAIL: &str = "cre@example.com";

/// A token no other test uses, so finding it anywhere means it leaked.
fn unique_token(source: &str) -> String {
    format!(
        "{source}-tok-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    )
}

/// The forms a token could leak in: as it is, and inside the base64 of a
/// Basic `Authorization` header.
fn leak_forms(token: &str) -> Vec<Vec<u8>> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}/token:{token}"));
    vec![token.as_bytes().to_vec(), basic.into_bytes()]
}

fn assert_absent(what: &str, haystack: &[u8], tokens: &[String]) {
    for token in tokens {
        for form in leak_forms(token) {
            assert!(
                memchr::memmem::find(haystack, &form).is_none(),
                "{what} contains the token {:?}",
                String::from_utf8_lossy(&form)
            );
        }
    }
}

/// Every file under `dir` (log, journal database, cursors, store).
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

fn run(home: &Path, config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("CRE_COCKPIT_DATA", home.join("data"))
        .env("CRE_COCKPIT_LOG", "trace")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_never_reach_logs_output_or_the_journal() {
    let sim = Simulator::start(SimOptions::default()).await.unwrap();
    let url = sim.base_url();
    let (zd, prom, pd) = (unique_token("zd"), unique_token("prom"), unique_token("pd"));
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    write_private(
        &config,
        &format!(
            "[desk]\nkind = \"zendesk\"\nurl = \"{url}\"\nemail = \"{EMAIL}\"\ntoken_env = \"ZD_T\"\n\n\
             [metrics]\nkind = \"prometheus\"\nurl = \"{url}\"\ntoken_env = \"PROM_T\"\n\n\
             [incidents]\nkind = \"pagerduty\"\nurl = \"{url}\"\ntoken_env = \"PD_T\"\nfrom = \"{EMAIL}\"\n"
        ),
    );
    let tokens = [zd.clone(), prom.clone(), pd.clone()];
    let ticket = open_ticket(&url, &zd).await;
    let note_target = format!("inquiry:{ticket}");
    let (home_path, config_path) = (home.path().to_owned(), config.clone());
    let outputs = tokio::task::spawn_blocking(move || {
        let env = [("ZD_T", zd.as_str()), ("PROM_T", &prom), ("PD_T", &pd)];
        [
            vec!["snapshot", "--json"],
            vec!["check"],
            vec!["note", &note_target, "checking the API logs", "--wait"],
            vec!["handover"],
        ]
        .map(|args| (args.join(" "), run(&home_path, &config_path, &args, &env)))
    })
    .await
    .unwrap();
    for (command, out) in &outputs {
        assert!(
            out.status.success(),
            "{command}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_absent(&format!("{command} stdout"), &out.stdout, &tokens);
        assert_absent(&format!("{command} stderr"), &out.stderr, &tokens);
    }
    // The commands did reach every source with its token.
    let check = String::from_utf8_lossy(&outputs[1].1.stdout);
    for source in [
        "desk (zendesk): ok",
        "metrics (prometheus): ok",
        "incidents (pagerduty): ok",
    ] {
        assert!(check.contains(source), "{check}");
    }
    assert!(String::from_utf8_lossy(&outputs[2].1.stdout).contains(": sent"));
    let data = files(&home.path().join("data"));
    let log = data
        .iter()
        .find(|p| p.ends_with("cre-cockpit.log"))
        .expect("a log file");
    assert!(
        std::fs::read_to_string(log).unwrap().contains("TRACE"),
        "the log ran at trace level"
    );
    assert!(
        data.iter().any(|p| p.ends_with("cockpit.db")),
        "the journal: {data:?}"
    );
    for file in &data {
        assert_absent(
            &file.display().to_string(),
            &std::fs::read(file).unwrap(),
            &tokens,
        );
    }
    sim.shutdown().await;
}

/// An open ticket of the simulator's desk, to write a note on.
async fn open_ticket(url: &str, token: &str) -> String {
    let export: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{url}/api/v2/incremental/tickets/cursor?start_time=0"
        ))
        .basic_auth(format!("{EMAIL}/token"), Some(token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    export["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["status"] == "open")
        .unwrap()["id"]
        .to_string()
}

fn zendesk_config(url: &str) -> Config {
    Config::parse(&format!(
        "[desk]\nkind = \"zendesk\"\nurl = \"{url}\"\nemail = \"{EMAIL}\"\n"
    ))
    .unwrap()
}

#[test]
fn debug_output_of_secrets_and_sources_never_shows_a_token() {
    let token = unique_token("debug");
    let secrets = Secrets {
        desk: Some(Secret::new(token.clone())),
        metrics: Some(Secret::new(token.clone())),
        incidents: Some(Secret::new(token.clone())),
        routing_keys: [("PD_ROUTING_KEY".to_owned(), Secret::new(token.clone()))].into(),
    };
    // What a panic message or `{:?}` in a log line would print.
    let shown = format!("{secrets:?} {:?}", secrets.clone());
    assert!(!shown.contains(&token), "{shown}");
    assert!(shown.contains("Secret(***)"), "{shown}");
    let panic = std::panic::catch_unwind(|| panic!("while polling: {secrets:?}")).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(!message.contains(&token), "{message}");
}

#[tokio::test]
async fn a_server_echoing_the_token_in_an_error_does_not_put_it_on_the_chip() {
    let server = MockServer::start().await;
    let token = unique_token("echo");
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string(format!(
            "{{\"error\": \"Couldn't authenticate you with token {token}\"}}"
        )))
        .mount(&server)
        .await;
    let mut zendesk = Zendesk::new(
        http::client(),
        zendesk_config(&server.uri()).desk.as_ref().unwrap(),
        Secret::new(token.clone()),
    )
    .unwrap();
    let error = zendesk.poll().await.unwrap_err();
    assert!(error.message.contains("401"), "{error}");
    assert!(!error.message.contains(&token), "{error}");
    assert!(error.message.contains("***"), "{error}");
}

#[tokio::test]
async fn a_next_page_link_to_another_host_is_not_followed() {
    let desk = MockServer::start().await;
    let other = MockServer::start().await;
    let token = unique_token("page");
    Mock::given(method("GET"))
        .and(path("/api/v2/tickets/7/comments"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "comments": [{"id": 1, "author_id": 5, "body": "first page", "public": true,
                          "created_at": "2026-11-21T05:00:00Z"}],
            "users": [{"id": 5, "name": "Ren"}],
            "next_page": format!("{}/api/v2/tickets/7/comments?page=2", other.uri())
        })))
        .expect(1)
        .mount(&desk)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"comments": []})))
        .mount(&other)
        .await;
    let mut zendesk = Zendesk::new(
        http::client(),
        zendesk_config(&desk.uri()).desk.as_ref().unwrap(),
        Secret::new(token),
    )
    .unwrap();
    let error = zendesk.comments("7").await.unwrap_err();
    assert!(
        error.message.contains("another host, not followed"),
        "{error}"
    );
    assert_eq!(other.received_requests().await.unwrap().len(), 0);
}

#[tokio::test]
async fn a_redirect_to_another_host_is_refused_before_the_token_is_sent() {
    let desk = MockServer::start().await;
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/api/v2/incremental/tickets/cursor", other.uri()).as_str(),
        ))
        .mount(&desk)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tickets": []})))
        .mount(&other)
        .await;
    let mut zendesk = Zendesk::new(
        http::client(),
        zendesk_config(&desk.uri()).desk.as_ref().unwrap(),
        Secret::new(unique_token("redirect")),
    )
    .unwrap();
    let error = zendesk.poll().await.unwrap_err();
    assert!(
        error.message.contains("redirect to another host refused"),
        "{error}"
    );
    let seen = other.received_requests().await.unwrap();
    assert!(
        seen.iter()
            .all(|r| !r.headers.contains_key("authorization")),
        "the other host saw the token: {seen:?}"
    );
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn plain_http_to_another_host_is_refused_unless_the_source_allows_it() {
    let secret = || Some(Secret::new("t0ken-for-build"));
    let secrets = || Secrets {
        desk: secret(),
        metrics: secret(),
        incidents: secret(),
        ..Default::default()
    };
    for (section, body) in [
        ("desk", "kind = \"zendesk\"\nemail = \"cre@example.com\""),
        ("desk", "kind = \"rt\""),
        ("metrics", "kind = \"prometheus\""),
        ("incidents", "kind = \"pagerduty\""),
        ("incidents", "kind = \"alertmanager\""),
    ] {
        let text = format!("[{section}]\n{body}\nurl = \"http://{section}.example.com\"\n");
        let config = Config::parse(&text).unwrap();
        let Err(ConfigError::Value { key, message }) =
            Sources::build(&config, secrets(), &http::client())
        else {
            panic!("{section} ({body}) accepted plain http to another host");
        };
        assert_eq!(key, section);
        assert!(
            message.contains("refusing plain http") && message.contains("allow_insecure_http"),
            "{message}"
        );
        let allowed = Config::parse(&format!("{text}allow_insecure_http = true\n")).unwrap();
        assert!(
            Sources::build(&allowed, secrets(), &http::client()).is_ok(),
            "{section} ({body}) with allow_insecure_http"
        );
        let loopback =
            Config::parse(&text.replace(&format!("{section}.example.com"), "127.0.0.1:9")).unwrap();
        assert!(
            Sources::build(&loopback, secrets(), &http::client()).is_ok(),
            "{section} ({body}) to loopback"
        );
    }
}

#[test]
fn a_config_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    // Port 9 on loopback: nothing answers, `check` fails fast either way.
    write_private(
        &config,
        "[metrics]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9\"\n",
    );
    let private = run(home.path(), &config, &["check"], &[]);
    assert!(
        !String::from_utf8_lossy(&private.stderr).contains("readable by other users"),
        "{}",
        String::from_utf8_lossy(&private.stderr)
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let shared = run(home.path(), &config, &["check"], &[]);
    let stderr = String::from_utf8_lossy(&shared.stderr);
    assert!(
        stderr.contains(&format!(
            "{} is readable by other users (mode 644)",
            config.display()
        )),
        "{stderr}"
    );
}
