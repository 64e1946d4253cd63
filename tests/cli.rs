//! The binary as a user runs it, with HOME pointing at an empty folder.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn run(home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

#[test]
fn snapshot_without_config_runs_the_demo() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["snapshot", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["inquiries", "customers", "incidents", "sources"] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert!(json["inquiries"].as_array().unwrap().len() >= 100);
    assert!(json["customers"].as_array().unwrap().len() >= 30);
    assert_eq!(json["demo"], true);
    for source in json["sources"].as_array().unwrap() {
        assert_eq!(source["status"], "ready", "{source}");
    }
    // The demo's files land in the (empty) home, not anywhere else.
    assert!(
        home.path()
            .join(".local/share/cre-cockpit/demo/accounts.csv")
            .exists()
    );
}

#[test]
fn invalid_config_exits_non_zero_naming_file_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("bad.toml");
    std::fs::write(&path, "[desk]\nkind = \"zendesk\"\nurl = \"https://x.zendesk.com\"\nemail = \"a@b.c\"\npoll_intreval = \"30s\"\n").unwrap();
    let out = run(
        home.path(),
        &["--config", path.to_str().unwrap(), "snapshot", "--json"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:5: desk.poll_intreval: unknown field",
            path.display()
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_token_variable_is_named() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("config.toml");
    std::fs::write(&path, "[incidents]\nkind = \"pagerduty\"\nurl = \"https://api.pagerduty.com\"\ntoken_env = \"PD_TOKEN_FOR_TEST\"\n").unwrap();
    let out = run(home.path(), &["--config", path.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("incidents.token_env: environment variable PD_TOKEN_FOR_TEST is not set"),
        "{stderr}"
    );
}

#[test]
fn init_writes_a_template_that_loads() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["init"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = home.path().join(".config/cre-cockpit/config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("token_env"));
    cre_cockpit::config::Config::load(&path).unwrap();
    // A second init refuses to overwrite.
    let again = run(home.path(), &["init"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
}

#[test]
fn check_against_an_unreachable_source_fails_with_the_reason() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("config.toml");
    // Port 9 (discard) on loopback: nothing listens there.
    std::fs::write(
        &path,
        "[metrics]\nkind = \"prometheus\"\nurl = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let out = run(home.path(), &["--config", path.to_str().unwrap(), "check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("✗ metrics (prometheus)"), "{stdout}");
    assert!(stdout.contains("cannot connect"), "{stdout}");
}

#[test]
fn snapshot_keeps_todays_scores_in_the_demo_store() {
    let home = tempfile::tempdir().unwrap();
    let out = run(home.path(), &["snapshot", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &json["customers"][0];
    for key in [
        "health",
        "band",
        "trend",
        "coverage",
        "drivers",
        "next_action",
        "attention",
    ] {
        assert!(first.get(key).is_some(), "customer lacks {key}: {first}");
    }
    // The demo keeps its own database, apart from a real one.
    let db = home.path().join(".local/share/cre-cockpit/demo/cockpit.db");
    assert!(db.exists());
    let store = cre_cockpit::store::Store::open(&db).unwrap();
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let loaded = store.load(today).unwrap();
    let customers = json["customers"].as_array().unwrap().len();
    assert_eq!(
        loaded.scores.len(),
        customers,
        "one score per customer today"
    );
    assert!(
        !home
            .path()
            .join(".local/share/cre-cockpit/cockpit.db")
            .exists()
    );
}
