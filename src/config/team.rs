//! `[team]`: the journal and outbox on a PostgreSQL database the team
//! shares, instead of the local SQLite file.
//!
//! The password is never in the file: `password_env` names the variable
//! that holds it. This build has no TLS for PostgreSQL, so the store must
//! be on this machine (a loopback address): a URL asking for TLS, or a host
//! elsewhere (where the password would cross the network in clear), is a
//! config error rather than a silent downgrade.

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
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("sslmode", "disable" | "prefer" | "allow") => {}
                ("sslmode", mode) => {
                    return Err((
                        "store",
                        format!(
                            "sslmode={mode}: this build has no TLS for PostgreSQL; use a store on this machine (127.0.0.1) without sslmode, or a local tunnel to the server"
                        ),
                    ));
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
        if !loopback {
            return Err((
                "store",
                format!(
                    "{}: without TLS (not in this build) the password and every note would cross the network in clear; use a store on 127.0.0.1 (e.g. through an SSH tunnel)",
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
