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

    /// The password from `password_env`, if named; an unset variable is an
    /// error naming it.
    pub fn password(&self) -> Result<Option<String>, String> {
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
