//! Every valid fixture loads; every invalid one fails with the file, the
//! line and the key named.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use cre_cockpit::config::{Config, ConfigError};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/configs")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
}

#[test]
fn valid_fixtures_load() {
    for path in fixtures("valid") {
        Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn full_fixture_means_what_it_says() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs/valid/full.toml");
    let config = Config::load(&path).unwrap();
    let metrics = config.metrics.unwrap();
    assert_eq!(metrics.poll_interval.as_secs(), 60);
    assert_eq!(metrics.tenant_label, "customer");
    assert!(metrics.queries.error_ratio.contains("errors_total"));
    // Unset queries keep their defaults.
    assert_eq!(
        metrics.queries.active_users,
        cre_cockpit::config::QueryConfig::default().active_users
    );
    assert_eq!(config.sla.urgent.as_secs(), 30 * 60);
    assert_eq!(config.sla.low.as_secs(), 24 * 3600);
    // The accounts file is resolved next to the config file.
    assert_eq!(
        config.accounts.unwrap().file,
        path.parent().unwrap().join("accounts.csv")
    );
}

#[test]
fn invalid_fixtures_name_file_line_and_key() {
    let expected = [
        (
            "bad-duration.toml",
            4,
            "metrics.poll_interval",
            "invalid duration",
        ),
        ("bad-key.toml", 3, "keys.refresh", "unknown key"),
        ("bad-kind.toml", 2, "desk.kind", "unknown variant"),
        ("conflicting-keys.toml", 2, "keys.refresh", "bound to both"),
        (
            "escalation-typo.toml",
            3,
            "escalation.targets.routing_key",
            "unknown field",
        ),
        ("kpi-zero-shift.toml", 3, "kpi.shift", "greater than zero"),
        ("missing-url.toml", 1, "incidents", "missing field `url`"),
        (
            "unknown-action.toml",
            2,
            "keys.launch_rockets",
            "unknown variant",
        ),
        ("unknown-key.toml", 5, "desk.poll_intreval", "unknown field"),
        ("unknown-section.toml", 1, "dsek", "unknown field"),
        (
            "token-env-and-keyring.toml",
            6,
            "desk.token_keyring",
            "not both",
        ),
        (
            "wrong-type.toml",
            2,
            "ui.impact_error_ratio",
            "invalid type",
        ),
    ];
    let files = fixtures("invalid");
    assert_eq!(
        files.len(),
        expected.len(),
        "every invalid fixture needs an expectation"
    );
    for (name, line, key, text) in expected {
        let path = files.iter().find(|p| p.ends_with(name)).unwrap();
        let error = Config::load(path).unwrap_err();
        let ConfigError::Invalid {
            path: p,
            line: l,
            key: k,
            message,
        } = &error
        else {
            panic!("{name}: {error}")
        };
        assert_eq!((p, *l, k.as_str()), (path, line, key), "{name}: {error}");
        assert!(message.contains(text), "{name}: {message}");
        let shown = error.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line}: {key}: ", path.display())),
            "{shown}"
        );
    }
}

#[test]
fn the_kpi_shift_is_configurable_and_defaults_to_eight_hours() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/configs/valid/kpi.toml");
    assert_eq!(Config::load(&path).unwrap().kpi.shift.as_secs(), 12 * 3600);
    assert_eq!(Config::parse("").unwrap().kpi.shift.as_secs(), 8 * 3600);
    // The template's [kpi] block, uncommented, is a valid config.
    let block: String = cre_cockpit::config::TEMPLATE
        .lines()
        .skip_while(|l| !l.starts_with("# [kpi]"))
        .take_while(|l| l.starts_with("# "))
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    assert!(block.contains("shift"), "{block}");
    assert_eq!(Config::parse(&block).unwrap().kpi.shift.as_secs(), 8 * 3600);
}

/// The template's commented desk section with `token_keyring` in place of
/// `token_env`: it loads in a build with the keyring, and in a build without
/// it fails on that line saying how to get one.
#[test]
fn the_templates_keyring_option_is_valid_or_clearly_refused() {
    let section: String = cre_cockpit::config::TEMPLATE
        .lines()
        .skip_while(|l| *l != "# [desk]")
        .take_while(|l| !l.starts_with("# poll_interval"))
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| !l.starts_with("token_env"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(section.contains("token_keyring = "), "{section}");
    let line = section
        .lines()
        .position(|l| l.starts_with("token_keyring"))
        .unwrap()
        + 1;
    match (
        Config::parse(&section),
        cre_cockpit::sources::token::KEYRING_BUILT_IN,
    ) {
        (Ok(config), true) => assert_eq!(
            config.desk.unwrap().token_keyring.as_deref(),
            Some("cre-cockpit:zendesk")
        ),
        (Err(error), false) => {
            assert_eq!(
                (error.line, error.key.as_str()),
                (line, "desk.token_keyring")
            );
            assert!(
                error.message.contains("--features keyring"),
                "{}",
                error.message
            );
        }
        (result, built_in) => panic!("keyring built in: {built_in}, yet {result:?}"),
    }
}

#[test]
fn a_keyring_entry_must_name_service_and_user() {
    let error =
        Config::parse("[metrics]\nkind = \"prometheus\"\nurl = \"https://prom.example\"\ntoken_keyring = \"prometheus\"\n")
            .unwrap_err();
    assert_eq!(
        (error.line, error.key.as_str()),
        (4, "metrics.token_keyring")
    );
    assert!(error.message.contains("service:user"), "{}", error.message);
}

/// With the keyring built in, an entry that cannot be read (no such entry,
/// or no keyring service running, as in CI) is an error naming the key and
/// the entry, not a panic and not an empty token.
#[cfg(feature = "keyring")]
#[test]
fn an_unreadable_keyring_entry_is_named() {
    let error = cre_cockpit::sources::token::resolve("desk", None, Some("cre-cockpit-test:nobody"))
        .unwrap_err();
    let shown = error.to_string();
    assert!(
        shown.starts_with("desk.token_keyring: keyring entry cre-cockpit-test:nobody"),
        "{shown}"
    );
}

/// `[team]`: the store URL is checked where it is written, with the key and
/// its line, and team mode needs `[ui] me` to sign the writes.
#[test]
fn the_team_store_is_checked_and_needs_a_name() {
    let team = |url: &str, me: bool| {
        let ui = if me { "[ui]\nme = \"Alex Kim\"\n" } else { "" };
        format!("{ui}\n[team]\nstore = \"{url}\"\npassword_env = \"CRE_TEAM_PW\"\n")
    };
    let config = Config::parse(&team("postgres://cre@127.0.0.1:5432/cockpit", true)).unwrap();
    let t = config.team.unwrap();
    assert_eq!(t.password_env.as_deref(), Some("CRE_TEAM_PW"));
    assert_eq!(t.schema_for(false), "cre_cockpit");
    assert_eq!(
        t.schema_for(true),
        "cre_cockpit_demo",
        "the demo keeps apart"
    );
    assert!(Config::parse("").unwrap().team.is_none(), "off by default");
    for loopback in [
        "postgres://cre@localhost/c",
        "postgresql://cre@[::1]:5433/c?sslmode=disable",
        "postgres://cre@127.0.0.2/c",
        // TLS, on this machine or elsewhere (the server is verified).
        "postgres://cre@127.0.0.1/cockpit?sslmode=require",
        "postgres://cre@db.example.com/cockpit?sslmode=verify-full",
        "postgres://cre@db.example.com/cockpit?sslmode=verify-ca&sslrootcert=system",
    ] {
        Config::parse(&team(loopback, true)).unwrap_or_else(|e| panic!("{loopback}: {e:?}"));
    }

    let refused = [
        // Without [ui] me the error points at the team store that needs it.
        (
            "postgres://cre@127.0.0.1/cockpit",
            false,
            3,
            "ui.me",
            "author",
        ),
        (
            "postgres://cre@127.0.0.1/cockpit?sslmode=verify-everything",
            true,
            5,
            "team.store",
            "verify-full",
        ),
        (
            "postgres://cre@db.example.com/cockpit?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
            true,
            5,
            "team.store",
            "sslrootcert /nonexistent/ca.pem",
        ),
        (
            "postgres://cre@db.example.com/cockpit?sslmode=prefer",
            true,
            5,
            "team.store",
            "in clear",
        ),
        (
            "postgres://cre@db.example.com/cockpit",
            true,
            5,
            "team.store",
            "in clear",
        ),
        (
            "postgres://cre:hunter2@127.0.0.1/cockpit",
            true,
            5,
            "team.store",
            "password_env",
        ),
        (
            "mysql://cre@127.0.0.1/cockpit",
            true,
            5,
            "team.store",
            "postgres://",
        ),
        (
            "postgres://127.0.0.1/cockpit",
            true,
            5,
            "team.store",
            "user",
        ),
        (
            "postgres://cre@10.0.0.5/cockpit",
            true,
            5,
            "team.store",
            "in clear",
        ),
    ];
    for (url, me, line, key, says) in refused {
        let err = Config::parse(&team(url, me)).unwrap_err();
        assert_eq!((err.key.as_str(), err.line), (key, line), "{url}: {err:?}");
        assert!(err.message.contains(says), "{url}: {}", err.message);
        assert!(
            !err.message.contains("hunter2"),
            "the password is not echoed"
        );
    }
    let err = Config::parse(
        "[ui]\nme = \"A\"\n[team]\nstore = \"postgres://a@127.0.0.1/c\"\nschema = \"Bad-Name\"\n",
    )
    .unwrap_err();
    assert_eq!(err.key, "team.schema");
    // One place for the password.
    let err = Config::parse(&format!(
        "{}password_command = \"pass show team-db\"\n",
        team("postgres://cre@127.0.0.1/cockpit", true)
    ))
    .unwrap_err();
    assert_eq!((err.key.as_str(), err.line), ("team.password_command", 7));
    assert!(err.message.contains("one of"), "{}", err.message);
    let keyring = "[ui]\nme = \"A\"\n[team]\nstore = \"postgres://a@127.0.0.1/c\"\npassword_keyring = \"cre-cockpit\"\n";
    assert_eq!(
        Config::parse(keyring).unwrap_err().key,
        "team.password_keyring"
    );
}
