//! The simulator's answers run through a validator of the pinned vendor
//! specs: Prism in proxy mode (`--errors`) in front of the simulator, for
//! Zendesk and PagerDuty, while the real binary plays a demo scenario
//! through them: the desk's export pages with sideloads, ticket fields and
//! custom statuses, PagerDuty incidents and on-calls (`snapshot`), a desk
//! note and its audit check and an incident note (`note --wait`), and the
//! conversations, audits and notes a detail view reads. Prism answers any
//! request or response that breaks the spec with an error (and logs it), so
//! zero violations means every answer the scenario needed is valid.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use cre_cockpit::simulator::{SimOptions, Simulator};

/// A Prism proxy this test started; stopped (by its own pid) when dropped.
struct Proxy {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_proxy(bin: &str, spec: &Path, upstream: &str, log: PathBuf) -> Proxy {
    let port = free_port();
    let child = Command::new(bin)
        .args(["proxy"])
        .arg(spec)
        .args([upstream, "--errors", "-h", "127.0.0.1", "-p"])
        .arg(port.to_string())
        .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Proxy {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
    }
}

fn wait_listening(proxy: &mut Proxy) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let log = std::fs::read_to_string(&proxy.log).unwrap_or_default();
        if log.contains("Prism is listening") {
            return;
        }
        assert!(
            proxy.child.try_wait().unwrap().is_none(),
            "prism exited: {log}"
        );
        assert!(Instant::now() < deadline, "prism did not start: {log}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Every line of a Prism log that reports a violation or a refused request.
fn violations(proxy: &Proxy) -> Vec<String> {
    std::fs::read_to_string(&proxy.log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains('✖') || l.contains("VIOLATIONS") || l.contains("Violation"))
        .map(str::to_owned)
        .collect()
}

fn run(home: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args(["--config", config.to_str().unwrap()])
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("ZD_TOKEN", "sim-token")
        .env("PD_TOKEN", "sim-token")
        .output()
        .unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Prism (scripts/test.sh starts it)"]
async fn a_demo_scenario_through_the_spec_validating_proxy_has_no_violations() {
    let bin = common::service("CRE_COCKPIT_PRISM_BIN").unwrap();
    let specs = PathBuf::from(common::service("CRE_COCKPIT_SPECS").unwrap());
    // 60×: the API incident (with its notes) begins a second in.
    let sim = Simulator::start(SimOptions {
        speed: 60.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut zendesk = start_proxy(
        &bin,
        &specs.join("zendesk-support.openapi.yaml"),
        &sim.base_url(),
        home.path().join("prism-zendesk.log"),
    );
    let mut pagerduty = start_proxy(
        &bin,
        &specs.join("pagerduty-rest-v2.openapi.json"),
        &sim.base_url(),
        home.path().join("prism-pagerduty.log"),
    );
    let (zendesk, pagerduty) = tokio::task::spawn_blocking(move || {
        wait_listening(&mut zendesk);
        wait_listening(&mut pagerduty);
        (zendesk, pagerduty)
    })
    .await
    .unwrap();

    std::fs::write(home.path().join("accounts.csv"), sim.accounts_csv()).unwrap();
    let config = home.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[desk]
kind = "zendesk"
url = "{zd}"
email = "cre@example.com"
token_env = "ZD_TOKEN"
feature_field = "Product area"
segment_field = "Plan"

[metrics]
kind = "prometheus"
url = "{sim}"

[incidents]
kind = "pagerduty"
url = "{pd}"
token_env = "PD_TOKEN"
from = "cre@example.com"

[accounts]
file = "accounts.csv"
"#,
            zd = zendesk.url,
            pd = pagerduty.url,
            sim = sim.base_url()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    let (home_dir, config_path) = (home.path().to_owned(), config.clone());
    let snapshot = tokio::task::spawn_blocking(move || {
        run(&home_dir, &config_path, &["snapshot", "--wait", "60s"])
    })
    .await
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&ok(&snapshot, "snapshot")).unwrap();
    for source in json["sources"].as_array().unwrap() {
        assert_eq!(source["status"], "ready", "{source}");
        assert!(
            source.get("partial").is_none_or(serde_json::Value::is_null),
            "{source}"
        );
    }
    let ticket = json["inquiries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["status"] == "open")
        .and_then(|i| i["id"].as_str())
        .unwrap()
        .to_owned();
    let incident = json["incidents"][0]["id"].as_str().unwrap().to_owned();

    // Writes and the checks that prove them.
    let (home_dir, config_path) = (home.path().to_owned(), config.clone());
    let (t, i) = (ticket.clone(), incident.clone());
    let (desk_note, incident_note) = tokio::task::spawn_blocking(move || {
        let target = format!("inquiry:{t}");
        let desk = run(
            &home_dir,
            &config_path,
            &["note", &target, "Checked with the customer", "--wait"],
        );
        let target = format!("incident:{i}");
        let pd = run(
            &home_dir,
            &config_path,
            &["note", &target, "CRE: customers informed", "--wait"],
        );
        (desk, pd)
    })
    .await
    .unwrap();
    ok(&desk_note, "desk note");
    ok(&incident_note, "incident note");

    // What a detail view reads, as the adapters ask for it.
    let client = reqwest::Client::new();
    let zd = |path: &str| {
        client
            .get(format!("{}{path}", zendesk.url))
            .basic_auth("cre@example.com/token", Some("sim-token"))
    };
    let pd = |path: &str| {
        client
            .get(format!("{}{path}", pagerduty.url))
            .header("Authorization", "Token token=sim-token")
            .header("Accept", "application/vnd.pagerduty+json;version=2")
            .header("Content-Type", "application/json")
    };
    for request in [
        zd(&format!("/api/v2/tickets/{ticket}/comments")),
        zd(&format!("/api/v2/tickets/{ticket}/audits")),
        zd("/api/v2/ticket_fields"),
        zd("/api/v2/custom_statuses"),
        pd(&format!("/incidents/{incident}")),
        pd(&format!("/incidents/{incident}/notes")),
        pd("/oncalls?limit=100&offset=0"),
    ] {
        let response = request.send().await.unwrap();
        let url = response.url().clone();
        let status = response.status();
        let flagged = response.headers().get("sl-violations").cloned();
        let body = response.text().await.unwrap();
        assert!(status.is_success(), "{url}: {status}: {body}");
        assert!(flagged.is_none(), "{url}: {flagged:?}");
    }

    let found: Vec<String> = violations(&zendesk)
        .into_iter()
        .chain(violations(&pagerduty))
        .collect();
    assert!(found.is_empty(), "spec violations:\n{}", found.join("\n"));
    // The proxies did see the scenario (the test is not vacuous).
    let zd_log = std::fs::read_to_string(&zendesk.log).unwrap();
    for path in [
        "/api/v2/incremental/tickets/cursor",
        "/api/v2/ticket_fields",
        "/audits",
    ] {
        assert!(zd_log.contains(path), "the desk proxy saw no {path}");
    }
    let pd_log = std::fs::read_to_string(&pagerduty.log).unwrap();
    for path in ["/incidents", "/oncalls", "/notes"] {
        assert!(pd_log.contains(path), "the PagerDuty proxy saw no {path}");
    }
}
