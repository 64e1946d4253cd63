//! `[team]`: the journal and outbox on a PostgreSQL database the team
//! shares, instead of the local SQLite file.
//!
//! The password is never in the file: `password_env` names the variable
//! that holds it. A store elsewhere must be reached over TLS
//! (`sslmode=require`, `verify-ca` or `verify-full`; the server's
//! certificate and name are verified in every mode, against `sslrootcert`
//! or the system's roots): without it the password and every note would
//! cross the network in clear, so a remote host without TLS is a config
//! error rather than a silent risk. Plain TCP is for this machine only.

use serde::Deserialize;

/// The schema the journal lives in when `schema` is not set.
pub const DEFAULT_SCHEMA: &str = "cre_cockpit";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// `postgres://user@127.0.0.1:5432/db` (no password in it).
    pub store: String,
    /// The environment variable holding the database password, if the
    /// server asks for one.
    pub password_env: Option<String>,
    /// Or the OS keyring entry holding it (`"service:user"`, in builds
    /// with the `keyring` feature, as a source's `token_keyring`).
    pub password_keyring: Option<String>,
    /// Or a command that prints it: the way to any keyring in any build
    /// (`secret-tool lookup service cre-cockpit`, `security
    /// find-generic-password -w -s cre-cockpit`, `pass show team-db`).
    /// Run by `sh -c` at start, its first line taken.
    pub password_command: Option<String>,
    /// The schema inside the database (several teams may share one
    /// database); the demo uses `<schema>_demo`.
    #[serde(default = "default_schema")]
    pub schema: String,
}

fn default_schema() -> String {
    DEFAULT_SCHEMA.into()
}

impl TeamConfig {
    /// Check the section; the error names the key.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let url = url::Url::parse(&self.store)
            .map_err(|e| ("store", format!("not a postgres:// URL: {e}")))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err((
                "store",
                format!(
                    "{:?} is not a postgres:// URL (team mode stores in PostgreSQL)",
                    url.scheme()
                ),
            ));
        }
        if url.password().is_some() {
            return Err((
                "store",
                "the URL holds a password: keep it out of the file and name its environment variable in password_env".into(),
            ));
        }
        if url.username().is_empty() {
            return Err((
                "store",
                "name the database user: postgres://USER@host/db".into(),
            ));
        }
        let mut tls = false;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("sslmode", "disable" | "prefer" | "allow") => {}
                ("sslmode", "require" | "verify-ca" | "verify-full") => tls = true,
                ("sslmode", mode) => {
                    return Err((
                        "store",
                        format!("sslmode={mode}: use require, verify-ca or verify-full for TLS"),
                    ));
                }
                ("sslrootcert", "system") => {}
                ("sslrootcert", path) => {
                    if let Err(e) = std::fs::metadata(path) {
                        return Err(("store", format!("sslrootcert {path}: {e}")));
                    }
                }
                ("application_name" | "connect_timeout", _) => {}
                (other, _) => {
                    return Err(("store", format!("URL option {other:?} is not supported")));
                }
            }
        }
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            // postgres:// is not a scheme the url crate knows, so an
            // address comes as an opaque host name.
            Some(url::Host::Domain(name)) => {
                name == "localhost"
                    || name
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            None => false,
        };
        if !loopback && !tls {
            return Err((
                "store",
                format!(
                    "{}: without TLS the password and every note would cross the network in clear; add ?sslmode=verify-full (and sslrootcert=FILE for a private CA), or use a store on 127.0.0.1",
                    url.host_str().unwrap_or("no host")
                ),
            ));
        }
        if url.path().trim_start_matches('/').is_empty() {
            return Err((
                "store",
                "name the database: postgres://user@host:port/DB".into(),
            ));
        }
        if let Some(var) = &self.password_env
            && (var.is_empty() || var.contains('='))
        {
            return Err((
                "password_env",
                format!("{var:?} is not an environment variable name"),
            ));
        }
        let sources = [
            self.password_env.is_some(),
            self.password_keyring.is_some(),
            self.password_command.is_some(),
        ];
        if sources.iter().filter(|&&set| set).count() > 1 {
            return Err((
                if self.password_command.is_some() {
                    "password_command"
                } else {
                    "password_keyring"
                },
                "set one of password_env, password_keyring and password_command".into(),
            ));
        }
        if let Some(spec) = &self.password_keyring {
            crate::sources::token::check_keyring(spec, "password_env or password_command")
                .map_err(|m| ("password_keyring", m))?;
        }
        if self
            .password_command
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return Err(("password_command", "the command is empty".into()));
        }
        let schema = &self.schema;
        if schema.is_empty()
            || schema.len() > 55
            || schema.as_bytes()[0].is_ascii_digit()
            || !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err((
                "schema",
                format!(
                    "{schema:?}: lower-case letters, digits and _ (55 at most, not starting with a digit)"
                ),
            ));
        }
        Ok(())
    }

    /// The password from `password_env`, `password_keyring` or
    /// `password_command`, whichever is set; an unset variable or a failing command is an error naming
    /// it (never with what the command printed: that may be the secret).
    pub fn password(&self) -> Result<Option<String>, String> {
        if let Some(command) = &self.password_command {
            return run_password_command(command).map(Some);
        }
        if let Some(spec) = &self.password_keyring {
            return crate::sources::token::from_keyring_entry(spec)
                .map(|secret| Some(secret.expose().to_owned()))
                .map_err(|m| format!("team.password_keyring: {m}"));
        }
        let Some(var) = &self.password_env else {
            return Ok(None);
        };
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Some(v)),
            _ => Err(format!(
                "team.password_env: environment variable {var} (the team store's password) is not set"
            )),
        }
    }

    /// The schema for this run: the demo keeps its own.
    #[must_use]
    pub fn schema_for(&self, demo: bool) -> String {
        if demo {
            format!("{}_demo", self.schema)
        } else {
            self.schema.clone()
        }
    }
}

/// Run `command` with `/bin/sh -c` (stdin closed, so a keyring tool cannot
/// wait on the terminal) and take the first line it prints.
fn run_password_command(command: &str) -> Result<String, String> {
    let failed = |why: String| format!("team.password_command: {why}");
    let out = std::process::Command::new("/bin/sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run sh: {e}")))?;
    if !out.status.success() {
        // Its error output says why (a locked keyring, no such entry);
        // the first line only, cut short.
        let why = String::from_utf8_lossy(&out.stderr);
        let why = crate::core::sanitize::text(why.lines().next().unwrap_or_default());
        return Err(failed(format!(
            "the command failed ({}){}",
            out.status,
            if why.is_empty() {
                String::new()
            } else {
                format!(": {}", crate::core::text::truncate(&why, 120))
            }
        )));
    }
    let password = String::from_utf8(out.stdout)
        .map_err(|_| failed("the command printed something that is not UTF-8".into()))?;
    match password.lines().next() {
        Some(line) if !line.is_empty() => Ok(line.to_owned()),
        _ => Err(failed("the command printed no password".into())),
    }
}
