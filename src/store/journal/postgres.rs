//! The journal in a PostgreSQL database a team shares (`[team] store`).
//!
//! The same tables as the SQLite journal, in one schema of the database
//! (the demo keeps its own), migrated through a list with the same version
//! numbers. Claims lock the step's row (`SELECT … FOR UPDATE SKIP LOCKED`)
//! inside the claim's transaction, so of cockpits on different machines
//! racing for a step exactly one takes it and the others see it held; a
//! dead cockpit's lease expires like anywhere else. Timestamps are
//! `timestamptz`, so leases compare as times, not text.
//!
//! The client is the sync `postgres` crate, called like rusqlite from the
//! outbox's blocking tasks. It runs its own small runtime, so it must never
//! be used or dropped on an async thread: connecting and dropping move to a
//! plain thread when called from one.

use std::collections::HashMap;

use ::postgres::types::ToSql;
use ::postgres::{Client, GenericClient, NoTls, Row};
use jiff::{SignedDuration, Timestamp};

use super::{
    Claim, JournalError, JournalStore, NewWrite, Owner, PENDING, RawStep, Settle, claim_decision,
    claimed, new_step_row, step_from_raw,
};
use crate::core::writes::{
    Doing, Presence, SourceWrite, Step, StepState, Target as WriteTarget, Write,
};

/// Schema migrations, applied in order in one transaction under an advisory
/// lock; `schema_version` holds how many are applied. The versions match
/// the SQLite list (`crate::store::db::MIGRATIONS`); append, never edit.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: health trend, action deadlines, incidents seen per customer (kept
    // for the team history to come; the journal does not use them).
    "CREATE TABLE health_score (
        account_id TEXT NOT NULL,
        day        TEXT NOT NULL,
        score      DOUBLE PRECISION NOT NULL,
        band       TEXT NOT NULL,
        coverage   DOUBLE PRECISION NOT NULL,
        f1 DOUBLE PRECISION, f2 DOUBLE PRECISION, f3 DOUBLE PRECISION, f4 DOUBLE PRECISION,
        f5 DOUBLE PRECISION, f6 DOUBLE PRECISION, f7 DOUBLE PRECISION, f8 DOUBLE PRECISION,
        PRIMARY KEY (account_id, day)
    );
    CREATE INDEX health_score_day ON health_score (day);
    CREATE TABLE action_trigger (
        account_id TEXT PRIMARY KEY,
        driver     TEXT NOT NULL,
        since      TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE incident_seen (
        incident_id TEXT NOT NULL,
        account_id  TEXT NOT NULL,
        severity    TEXT NOT NULL,
        started_at  TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (incident_id, account_id)
    );",
    // 2: the write journal: writes and their delivery steps.
    "CREATE TABLE writes (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        created_at TIMESTAMPTZ NOT NULL,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE TABLE steps (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        write_id BIGINT NOT NULL REFERENCES writes(id),
        effect TEXT NOT NULL,
        item TEXT NOT NULL,
        marker TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMPTZ NOT NULL,
        last_error TEXT,
        sent_at TIMESTAMPTZ
    );
    CREATE INDEX steps_by_state ON steps(state, next_attempt_at);
    CREATE INDEX steps_by_write ON steps(write_id);
    CREATE INDEX writes_by_time ON writes(created_at);",
    // 3: (SQLite renamed stored trigger labels to codes; nothing was ever
    // stored here under the old labels.)
    "SELECT 1;",
    // 4: one deliverer per step (owner and lease), sticky uncertainty, and
    // the change counter other cockpits watch.
    "ALTER TABLE steps ADD COLUMN check_first BOOLEAN NOT NULL DEFAULT FALSE;
    ALTER TABLE steps ADD COLUMN owner TEXT;
    ALTER TABLE steps ADD COLUMN lease_until TIMESTAMPTZ;
    CREATE TABLE journal_seq (
        id  INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL
    );
    INSERT INTO journal_seq VALUES (1, 0);",
    // 5: each write records its author (`[ui] me`).
    "ALTER TABLE writes ADD COLUMN author TEXT;",
    // 6: what each running cockpit has open (one row per cockpit, kept
    // fresh by its heartbeat): the team's presence on the rows.
    "CREATE TABLE presence (
        owner   TEXT PRIMARY KEY,
        who     TEXT NOT NULL,
        target  TEXT,
        doing   TEXT,
        seen_at TIMESTAMPTZ NOT NULL
    );",
    // 7: what the team's poller of each source last read (`store::team_feed`):
    // one row per source, and the desk's inquiries one row each (a NULL
    // body is an inquiry the desk deleted).
    "CREATE TABLE feed (
        source    TEXT PRIMARY KEY,
        seq       BIGINT NOT NULL,
        full_seq  BIGINT NOT NULL,
        polled_at TIMESTAMPTZ NOT NULL,
        vendor    TEXT NOT NULL,
        leader    TEXT NOT NULL,
        error     TEXT,
        body      BYTEA
    );
    CREATE TABLE feed_inquiry (
        id   TEXT PRIMARY KEY,
        seq  BIGINT NOT NULL,
        body BYTEA
    );
    CREATE INDEX feed_inquiry_by_seq ON feed_inquiry (seq);",
    // 8: the desk poller's hand-over (its cursor and scope), so a cockpit
    // taking the polling over continues from it instead of re-reading the
    // whole desk.
    "ALTER TABLE feed ADD COLUMN hand_over TEXT;",
];

const STEP_COLUMNS: &str = "id, write_id, effect, item, marker, state, attempts, next_attempt_at, last_error, sent_at, check_first, owner, lease_until";

/// Where a team journal is: the server (with the password already read
/// from its environment variable), how to reach it, and the schema inside
/// the database.
#[derive(Clone)]
pub struct Target {
    pub config: ::postgres::Config,
    /// TLS, when the URL asks for it (`sslmode=require`, `verify-ca` or
    /// `verify-full`): always with the server's certificate and name
    /// verified, against `sslrootcert` or else the system's roots.
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// A plain lower-case identifier (letters, digits, `_`).
    pub schema: String,
}

impl std::fmt::Debug for Target {
    // The config holds the password: only the place is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The TLS modes of a `postgres://` URL (as the config's check knows
/// them); the others (`disable`, `allow`, `prefer`) mean plain TCP here,
/// which the config allows on loopback only.
const TLS_MODES: [&str; 3] = ["require", "verify-ca", "verify-full"];

/// The client's TLS settings: the roots in `roots` (a PEM file, as libpq's
/// `sslrootcert`), or the system's.
fn tls_config(roots: Option<&str>) -> Result<rustls::ClientConfig, JournalError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let invalid = |e: String| JournalError::Invalid(format!("team store TLS: {e}"));
    let mut store = rustls::RootCertStore::empty();
    match roots {
        Some(path) if path != "system" => {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?
            {
                let cert = cert.map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?;
                store
                    .add(cert)
                    .map_err(|e| invalid(format!("sslrootcert {path}: {e}")))?;
            }
            if store.is_empty() {
                return Err(invalid(format!("sslrootcert {path}: no certificate in it")));
            }
        }
        _ => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(invalid(
                    "no system root certificates; name the server's CA with sslrootcert=FILE"
                        .into(),
                ));
            }
        }
    }
    rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| invalid(e.to_string()))
    .map(|b| b.with_root_certificates(store).with_no_client_auth())
}

impl Target {
    /// From a `postgres://` URL (already checked by the config), the
    /// password if any, and the schema.
    pub fn new(url: &str, password: Option<&str>, schema: &str) -> Result<Self, JournalError> {
        if schema.is_empty()
            || schema.len() > 63
            || !schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || schema.as_bytes()[0].is_ascii_digit()
        {
            return Err(JournalError::Invalid(format!(
                "team schema {schema:?}: use lower-case letters, digits and _ (63 at most)"
            )));
        }
        // `sslrootcert` is libpq's, not the driver's: taken out here.
        let mut parsed = url::Url::parse(url)
            .map_err(|e| JournalError::Invalid(format!("team store URL: {e}")))?;
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let value = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let tls = match value("sslmode") {
            Some(mode) if TLS_MODES.contains(&mode) => Some(
                tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(value("sslrootcert"))?),
            ),
            _ => None,
        };
        let rest: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "sslrootcert" && k != "sslmode")
            .collect();
        if rest.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(rest);
        }
        let mut config: ::postgres::Config = parsed
            .as_str()
            .parse()
            .map_err(|e| JournalError::Invalid(format!("team store URL: {e}")))?;
        if let Some(password) = password {
            config.password(password);
        }
        // TLS when asked for, and then nothing less (no plain fallback);
        // plain TCP otherwise (the config allows that on loopback only).
        config.ssl_mode(if tls.is_some() {
            ::postgres::config::SslMode::Require
        } else {
            ::postgres::config::SslMode::Disable
        });
        config.application_name("cre-cockpit");
        config.connect_timeout(std::time::Duration::from_secs(10));
        Ok(Self {
            config,
            tls,
            schema: schema.to_owned(),
        })
    }

    /// Open a connection, over TLS when the URL asked for it.
    pub fn connect(&self) -> Result<Client, ::postgres::Error> {
        match &self.tls {
            Some(tls) => self.config.connect(tls.clone()),
            None => self.config.connect(NoTls),
        }
    }

    /// The place in words: user, host, port, database and schema.
    #[must_use]
    pub fn describe(&self) -> String {
        let host = self
            .config
            .get_hosts()
            .first()
            .map(|h| match h {
                ::postgres::config::Host::Tcp(h) => h.clone(),
                ::postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_default();
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        format!(
            "the team journal postgres://{}@{host}:{port}/{} (schema {}{})",
            self.config.get_user().unwrap_or(""),
            self.config.get_dbname().unwrap_or(""),
            self.schema,
            if self.tls.is_some() { ", TLS" } else { "" }
        )
    }
}

/// The PostgreSQL journal.
pub struct PgJournal {
    /// `None` only while reconnecting and once dropped (taken there to
    /// drop it off-runtime).
    client: Option<Client>,
    target: Target,
    describe: String,
    /// The change counter as this connection last saw it.
    seen_seq: i64,
    /// Another connection committed between two of this one's commits.
    changed: bool,
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        close(self.client.take());
    }
}

/// Close a client where that may block. The client blocks on its own
/// runtime when it closes, which panics on an async thread: close it on a
/// plain one there.
fn close(client: Option<Client>) {
    if let Some(client) = client
        && tokio::runtime::Handle::try_current().is_ok()
    {
        std::thread::spawn(move || drop(client));
    }
}

/// A connection of the team store's other tables (history, feeds): opened
/// again when the server dropped it, used and closed off the async threads.
pub(crate) struct Session {
    client: Option<Client>,
    pub(crate) target: Target,
}

impl Drop for Session {
    fn drop(&mut self) {
        close(self.client.take());
    }
}

impl Session {
    /// Connect, migrating the team schema if needed.
    pub(crate) fn connect(target: &Target) -> Result<Self, crate::store::StoreError> {
        let client =
            connect_migrated(target).map_err(|e| crate::store::StoreError::Team(e.to_string()))?;
        Ok(Self {
            client: Some(client),
            target: target.clone(),
        })
    }

    /// Whether the connection is up: a dropped one holds no session
    /// state (locks, listens) any more.
    pub(crate) fn is_open(&self) -> bool {
        self.client.as_ref().is_some_and(|c| !c.is_closed())
    }

    pub(crate) fn err(&self, e: impl std::fmt::Display) -> crate::store::StoreError {
        crate::store::StoreError::Team(format!("{}: {e}", self.target.describe()))
    }

    /// Run `f` on the connection, opened again first if the server
    /// dropped it.
    pub(crate) fn with<T: Send>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, ::postgres::Error> + Send,
    ) -> Result<T, crate::store::StoreError> {
        if !self.is_open() {
            self.client = None;
            self.client = Some(connect_migrated(&self.target).map_err(|e| self.err(e))?);
        }
        let Some(client) = self.client.as_mut() else {
            return Err(self.err("closed"));
        };
        off_runtime(move || f(client)).map_err(|e| self.err(e))
    }
}

/// Run `f` where the sync client may block: here, or on a plain thread
/// when called from an async one.
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|p| std::panic::resume_unwind(p))
    } else {
        f()
    }
}

fn quoted(schema: &str) -> String {
    format!("\"{schema}\"")
}

/// Bring the schema up to date, once even when cockpits start together:
/// the transaction first takes an advisory lock named after the schema.
fn migrate(client: &mut Client, target: &Target) -> Result<(), JournalError> {
    let schema = quoted(&target.schema);
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1)::bigint)",
        &[&format!("cre-cockpit migrate {}", target.schema)],
    )?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         SET LOCAL search_path TO {schema};
         CREATE TABLE IF NOT EXISTS schema_version (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             version INTEGER NOT NULL
         );
         INSERT INTO schema_version VALUES (1, 0) ON CONFLICT DO NOTHING;"
    ))?;
    let current: i32 = tx
        .query_one("SELECT version FROM schema_version", &[])?
        .get(0);
    let current = usize::try_from(current).unwrap_or(0);
    if current > MIGRATIONS.len() {
        return Err(JournalError::Invalid(format!(
            "{}: schema version {current} is newer than this cre-cockpit knows ({}); upgrade cre-cockpit",
            target.describe(),
            MIGRATIONS.len()
        )));
    }
    for sql in &MIGRATIONS[current..] {
        tx.batch_execute(sql)?;
    }
    let latest = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    tx.execute("UPDATE schema_version SET version = $1", &[&latest])?;
    tx.commit()?;
    Ok(())
}

/// Count a change; returns the counter after it.
fn bump(c: &mut impl GenericClient) -> Result<i64, JournalError> {
    Ok(c.query_one(
        "UPDATE journal_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq",
        &[],
    )?
    .get(0))
}

fn step_from_row(r: &Row) -> Step {
    step_from_raw(RawStep {
        id: r.try_get(0).unwrap_or_default(),
        write_id: r.try_get(1).unwrap_or_default(),
        effect: r.try_get(2).ok(),
        item: r.try_get(3).ok(),
        marker: r.try_get(4).ok(),
        state: r.try_get(5).ok(),
        attempts: r.try_get(6).ok(),
        next_attempt_at: r.try_get(7).ok(),
        last_error: r.try_get(8).ok().flatten(),
        sent_at: r.try_get(9).ok().flatten(),
        check_first: r.try_get(10).ok(),
        owner: r.try_get(11).ok().flatten(),
        lease_until: r.try_get(12).ok().flatten(),
    })
}

/// A connection to the team store with its schema migrated and set as the
/// search path (the journal's, and the team history's).
pub(crate) fn connect_migrated(target: &Target) -> Result<Client, JournalError> {
    let target = target.clone();
    off_runtime(move || -> Result<Client, JournalError> {
        let mut client = target.connect().map_err(|e| {
            // The reason is in the chain ("error performing TLS handshake"
            // alone does not say the certificate was refused).
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                reason = format!("{reason}: {cause}");
                source = cause.source();
            }
            JournalError::Invalid(format!("{}: cannot connect: {reason}", target.describe()))
        })?;
        migrate(&mut client, &target)?;
        client.batch_execute(&format!("SET search_path TO {}", quoted(&target.schema)))?;
        Ok(client)
    })
}

/// A connection with the schema migrated and set as the search path, and
/// the change counter as it stands.
fn open_client(target: &Target) -> Result<(Client, i64), JournalError> {
    let mut client = connect_migrated(target)?;
    off_runtime(move || -> Result<(Client, i64), JournalError> {
        let seq = client
            .query_one("SELECT seq FROM journal_seq WHERE id = 1", &[])?
            .get(0);
        Ok((client, seq))
    })
}

impl PgJournal {
    /// Connect, set the schema as the search path and migrate it.
    pub fn connect(target: &Target) -> Result<Self, JournalError> {
        let (client, seen_seq) = open_client(target)?;
        Ok(Self {
            client: Some(client),
            target: target.clone(),
            describe: target.describe(),
            seen_seq,
            changed: false,
        })
    }

    /// The connection, opened again if the server dropped it (a restart, a
    /// failover, an idle timeout): the call that met the broken one failed
    /// with its error, the next one reconnects.
    fn client(&mut self) -> Result<&mut Client, JournalError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = None;
            let (client, seq) = open_client(&self.target)?;
            tracing::warn!("{}: reconnected", self.describe);
            // Whatever happened meanwhile is news to this connection.
            self.changed = self.changed || seq != self.seen_seq;
            self.seen_seq = seq;
            self.client = Some(client);
        }
        self.client
            .as_mut()
            .ok_or_else(|| JournalError::Invalid("the team journal is closed".into()))
    }

    fn seq(&mut self) -> Result<i64, JournalError> {
        Ok(self
            .client()?
            .query_one("SELECT seq FROM journal_seq WHERE id = 1", &[])?
            .get(0))
    }

    /// After an own commit that counted `seq`: a gap means another
    /// connection committed in between.
    fn counted(&mut self, seq: i64) {
        if seq != self.seen_seq + 1 {
            self.changed = true;
        }
        self.seen_seq = seq;
    }

    fn steps_where(
        &mut self,
        condition: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Step>, JournalError> {
        let sql = format!("SELECT {STEP_COLUMNS} FROM steps WHERE {condition} ORDER BY id");
        Ok(self
            .client()?
            .query(&sql, params)?
            .iter()
            .map(step_from_row)
            .collect())
    }

    /// Writes chosen by `condition`, in `order`, each with its steps (two
    /// queries, not one per write: the server may be across a network). A
    /// write whose own row cannot be read is left out with a warning.
    fn writes_where(
        &mut self,
        condition: &str,
        order: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Write>, JournalError> {
        let sql = format!(
            "SELECT id, created_at, kind, target, text, author FROM writes WHERE {condition} ORDER BY {order}"
        );
        let heads = self.client()?.query(&sql, params)?;
        let ids: Vec<i64> = heads.iter().map(|r| r.get(0)).collect();
        let mut steps: HashMap<i64, Vec<Step>> = HashMap::new();
        for step in self.steps_where("write_id = ANY($1)", &[&ids])? {
            steps.entry(step.write_id).or_default().push(step);
        }
        let mut writes = Vec::with_capacity(heads.len());
        for r in &heads {
            let id: i64 = r.get(0);
            let kind: String = r.get(2);
            let target: String = r.get(3);
            let (Ok(kind), Ok(target)) = (kind.parse(), WriteTarget::parse(&target)) else {
                tracing::warn!(
                    "{}",
                    JournalError::Corrupt {
                        id,
                        message: format!("kind {kind:?} or target {target:?}")
                    }
                );
                continue;
            };
            writes.push(Write {
                id,
                created_at: r.get(1),
                kind,
                target,
                text: r.get(4),
                author: r.get(5),
                steps: steps.remove(&id).unwrap_or_default(),
            });
        }
        Ok(writes)
    }
}

impl JournalStore for PgJournal {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn lost(&self) -> Option<&str> {
        // The server keeps its commits; there is no local file to lose.
        None
    }

    fn changed_elsewhere(&mut self) -> Result<bool, JournalError> {
        let seq = self.seq()?;
        let changed = self.changed || seq != self.seen_seq;
        self.seen_seq = seq;
        self.changed = false;
        Ok(changed)
    }

    fn announce(
        &mut self,
        owner: &Owner,
        who: &str,
        what: Option<(&WriteTarget, Doing)>,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        let target = what.map(|(t, _)| t.to_string());
        let doing = what.map(|(_, d)| d.to_string());
        let mut tx = self.client()?.transaction()?;
        tx.execute(
            "INSERT INTO presence (owner, who, target, doing, seen_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (owner) DO UPDATE SET who = EXCLUDED.who, target = EXCLUDED.target,
                 doing = EXCLUDED.doing, seen_at = EXCLUDED.seen_at",
            &[&owner.as_str(), &who, &target, &doing, &now],
        )?;
        // Cockpits that ended without saying so (a crash, a lost laptop)
        // leave a row behind: readers ignore it once stale, this drops it.
        tx.execute(
            "DELETE FROM presence WHERE seen_at < $1",
            &[&(now - SignedDuration::from_hours(1))],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn presence(&mut self, owner: &Owner, since: Timestamp) -> Result<Vec<Presence>, JournalError> {
        let rows = self.client()?.query(
            "SELECT who, target, doing, seen_at FROM presence
             WHERE owner <> $1 AND seen_at >= $2 AND target IS NOT NULL ORDER BY who, owner",
            &[&owner.as_str(), &since],
        )?;
        // A row another (newer) build wrote in a form this one does not
        // read is left out, not an error for the whole list.
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(Presence {
                    who: r.try_get(0).ok()?,
                    target: WriteTarget::parse(&r.try_get::<_, String>(1).ok()?).ok()?,
                    doing: r.try_get::<_, String>(2).ok()?.parse().ok()?,
                    seen_at: r.try_get(3).ok()?,
                })
            })
            .collect())
    }

    fn insert(
        &mut self,
        new: NewWrite<'_>,
        effects: Vec<SourceWrite>,
        now: Timestamp,
    ) -> Result<Write, JournalError> {
        let mut tx = self.client()?.transaction()?;
        let write_id: i64 = tx
            .query_one(
                "INSERT INTO writes (created_at, kind, target, text, author) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[
                    &now,
                    &new.kind.to_string(),
                    &new.target.to_string(),
                    &new.text,
                    &new.author,
                ],
            )?
            .get(0);
        for effect in effects {
            let [json, item, marker, state] = new_step_row(&effect)?;
            tx.execute(
                "INSERT INTO steps (write_id, effect, item, marker, state, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&write_id, &json, &item, &marker, &state, &now],
            )?;
        }
        let seq = bump(&mut tx)?;
        tx.commit()?;
        self.counted(seq);
        self.write(write_id)?
            .ok_or_else(|| JournalError::Invalid(format!("write {write_id} vanished")))
    }

    fn write(&mut self, id: i64) -> Result<Option<Write>, JournalError> {
        Ok(self.writes_where("id = $1", "id", &[&id])?.pop())
    }

    fn recent(&mut self, limit: usize) -> Result<Vec<Write>, JournalError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.writes_where(
            "id IN (SELECT id FROM writes ORDER BY id DESC LIMIT $1)",
            "id DESC",
            &[&limit],
        )
    }

    fn since(&mut self, from: Timestamp) -> Result<Vec<Write>, JournalError> {
        self.writes_where("created_at >= $1", "id", &[&from])
    }

    fn pending(&mut self) -> Result<Vec<Step>, JournalError> {
        let steps = self.steps_where(PENDING, &[])?;
        let (bad, good): (Vec<Step>, Vec<Step>) = steps
            .into_iter()
            .partition(|s| s.state == StepState::Unreadable);
        if !bad.is_empty() {
            let mut tx = self.client()?.transaction()?;
            for step in &bad {
                tracing::warn!(step = step.id, "journal: {}", step.effect.describe());
                tx.execute(
                    "UPDATE steps SET state = 'unreadable', last_error = $2, owner = NULL, lease_until = NULL WHERE id = $1",
                    &[&step.id, &step.last_error],
                )?;
            }
            let seq = bump(&mut tx)?;
            tx.commit()?;
            self.counted(seq);
        }
        Ok(good)
    }

    fn claim(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<Claim, JournalError> {
        let mut tx = self.client()?.transaction()?;
        // The row lock is the claim's mutual exclusion across machines; a
        // row locked right now is another deliverer's claim or settle in
        // flight, so it is held, not waited for.
        let found = tx
            .query_opt(
                &format!(
                    "SELECT {STEP_COLUMNS} FROM steps WHERE id = $1 AND {PENDING} FOR UPDATE SKIP LOCKED"
                ),
                &[&step],
            )?
            .map(|r| step_from_row(&r));
        let Some(found) = found else {
            let busy = tx.query_opt(
                &format!("SELECT owner, lease_until FROM steps WHERE id = $1 AND {PENDING}"),
                &[&step],
            )?;
            return Ok(match busy {
                None => Claim::Settled,
                Some(r) => Claim::Held {
                    owner: r
                        .get::<_, Option<String>>(0)
                        .unwrap_or_else(|| "another deliverer".into()),
                    until: r.get::<_, Option<Timestamp>>(1).unwrap_or(now).max(now),
                },
            });
        };
        if let Some(answer) = claim_decision(&found, owner, now) {
            return Ok(answer);
        }
        let until = now + lease;
        let (claim, check_first) = claimed(found, owner, until);
        tx.execute(
            "UPDATE steps SET state = 'sending', owner = $2, lease_until = $3, check_first = $4, attempts = attempts + 1 WHERE id = $1",
            &[&step, &owner.as_str(), &until, &check_first],
        )?;
        let seq = bump(&mut tx)?;
        tx.commit()?;
        self.counted(seq);
        Ok(claim)
    }

    fn renew(
        &mut self,
        step: i64,
        owner: &Owner,
        lease: SignedDuration,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        let changed = self.client()?.execute(
            "UPDATE steps SET lease_until = $3 WHERE id = $1 AND owner = $2 AND state = 'sending' AND lease_until > $4",
            &[&step, &owner.as_str(), &(now + lease), &now],
        )?;
        Ok(changed == 1)
    }

    fn settle(
        &mut self,
        step: i64,
        owner: &Owner,
        outcome: &Settle,
        now: Timestamp,
    ) -> Result<bool, JournalError> {
        let sent_at = (outcome.state == StepState::Sent).then_some(now);
        let mut tx = self.client()?.transaction()?;
        let changed = tx.execute(
            "UPDATE steps SET state = $3, last_error = COALESCE($4, last_error),
                 next_attempt_at = COALESCE($5, next_attempt_at), sent_at = COALESCE($6, sent_at),
                 check_first = $7, owner = NULL, lease_until = NULL
             WHERE id = $1 AND owner = $2 AND state = 'sending'",
            &[
                &step,
                &owner.as_str(),
                &outcome.state.to_string(),
                &outcome.error,
                &outcome.retry_at,
                &sent_at,
                &outcome.check_first,
            ],
        )?;
        if changed == 1 {
            let seq = bump(&mut tx)?;
            tx.commit()?;
            self.counted(seq);
        }
        Ok(changed == 1)
    }

    fn cancel(&mut self, write: i64) -> Result<usize, JournalError> {
        let mut tx = self.client()?.transaction()?;
        // Lock the write's steps first: a claim in flight on one of them
        // finishes before this looks, and none starts until this commits.
        let states: Vec<String> = tx
            .query(
                "SELECT state FROM steps WHERE write_id = $1 ORDER BY id FOR UPDATE",
                &[&write],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if states.iter().any(|s| s == "sending" || s == "unknown") {
            return Err(JournalError::Invalid(format!(
                "write {write} is being sent or may already have arrived; it cannot be cancelled"
            )));
        }
        let n = tx.execute(
            "UPDATE steps SET state = 'cancelled' WHERE write_id = $1 AND state IN ('queued', 'failed', 'unreadable')",
            &[&write],
        )?;
        let seq = bump(&mut tx)?;
        tx.commit()?;
        self.counted(seq);
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn set_state(
        &mut self,
        step: i64,
        state: StepState,
        error: Option<&str>,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<(), JournalError> {
        let attempts_delta = i64::from(state == StepState::Sending);
        let sent_at = (state == StepState::Sent).then_some(now);
        let uncertain = matches!(state, StepState::Sending | StepState::Unknown);
        let mut tx = self.client()?.transaction()?;
        tx.execute(
            "UPDATE steps SET state = $2, attempts = attempts + $3, last_error = COALESCE($4, last_error),
                 next_attempt_at = COALESCE($5, next_attempt_at), sent_at = COALESCE($6, sent_at),
                 check_first = check_first OR $7, owner = NULL, lease_until = NULL
             WHERE id = $1",
            &[
                &step,
                &state.to_string(),
                &attempts_delta,
                &error,
                &retry_at,
                &sent_at,
                &uncertain,
            ],
        )?;
        let seq = bump(&mut tx)?;
        tx.commit()?;
        self.counted(seq);
        Ok(())
    }
}
