//! The health history in the team store (`[team] store`): daily scores,
//! action triggers and incidents seen, kept once per team in the tables
//! the PostgreSQL migrations made for them, so every CRE's cockpit shows
//! the same Δ7/Δ30 trend and the same action deadlines — not one laptop's.
//!
//! Several cockpits save the same day's scores: computed from the same
//! sources, the last save wins. The triggers are replaced as a set, as in
//! the local store; their `since` survives because every cockpit loads it
//! from here at start.

use ::postgres::types::ToSql;
use jiff::Timestamp;
use jiff::civil::Date;

use super::journal::postgres::{Session, Target};
use super::{
    KEEP_SCORE_DAYS, LOAD_SCORE_DAYS, PUT_SCORE, StoreError, parse_severity, severity_text,
};
use crate::insight::health::{Band, DayScore};
use crate::insight::history::{IncidentSeen, Loaded, Persist, Trigger};

/// The team's history over one connection of its own.
pub struct TeamHistory {
    session: Session,
}

fn days_before(day: Date, days: i64) -> String {
    day.checked_sub(jiff::Span::new().days(days))
        .unwrap_or(day)
        .to_string()
}

impl TeamHistory {
    /// Connect (migrating the team schema if needed).
    pub fn connect(target: &Target) -> Result<Self, StoreError> {
        Ok(Self {
            session: Session::connect(target)?,
        })
    }
}

impl super::History for TeamHistory {
    fn load(&mut self, today: Date) -> Result<Loaded, StoreError> {
        let from = days_before(today, LOAD_SCORE_DAYS);
        let (scores, triggers, incidents) = self.session.with(move |c| {
            Ok((
                c.query(
                    "SELECT account_id, day, score, band, coverage, f1, f2, f3, f4, f5, f6, f7, f8
                     FROM health_score WHERE day >= $1 ORDER BY account_id, day",
                    &[&from],
                )?,
                c.query("SELECT account_id, driver, since FROM action_trigger", &[])?,
                c.query(
                    "SELECT incident_id, account_id, severity, started_at FROM incident_seen",
                    &[],
                )?,
            ))
        })?;
        let mut loaded = Loaded::default();
        for r in &scores {
            let account: String = r.get(0);
            // As locally: a row this build cannot read is skipped.
            let (Ok(day), Ok(band)) = (
                r.get::<_, String>(1).parse::<Date>(),
                r.get::<_, String>(3).parse::<Band>(),
            ) else {
                tracing::warn!(%account, "team store: unreadable health_score row skipped");
                continue;
            };
            let mut sub_scores = [None; 8];
            for (i, s) in sub_scores.iter_mut().enumerate() {
                *s = r.get(5 + i);
            }
            loaded.scores.push((
                account,
                DayScore {
                    day,
                    score: r.get(2),
                    band,
                    coverage: r.get(4),
                    sub_scores,
                },
            ));
        }
        for r in &triggers {
            loaded.triggers.push((
                r.get(0),
                Trigger {
                    code: r.get(1),
                    since: r.get(2),
                },
            ));
        }
        for r in &incidents {
            if let Some(severity) = parse_severity(&r.get::<_, String>(2)) {
                loaded.incidents.push(IncidentSeen {
                    incident: r.get(0),
                    account: r.get(1),
                    severity,
                    started_at: r.get(3),
                });
            }
        }
        Ok(loaded)
    }

    fn save(&mut self, batch: &Persist, now: Timestamp) -> Result<(), StoreError> {
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let oldest_day = days_before(today, KEEP_SCORE_DAYS);
        let oldest_incident = now - crate::insight::history::KEEP_EVENTS;
        self.session.with(move |c| {
            let mut tx = c.transaction()?;
            let put = tx.prepare(PUT_SCORE)?;
            for (account, d) in &batch.scores {
                let s = &d.sub_scores;
                let (day, band) = (d.day.to_string(), d.band.to_string());
                tx.execute(
                    &put,
                    &[
                        account as &(dyn ToSql + Sync),
                        &day,
                        &d.score,
                        &band,
                        &d.coverage,
                        &s[0],
                        &s[1],
                        &s[2],
                        &s[3],
                        &s[4],
                        &s[5],
                        &s[6],
                        &s[7],
                    ],
                )?;
            }
            tx.execute("DELETE FROM action_trigger", &[])?;
            for (account, t) in &batch.triggers {
                tx.execute(
                    "INSERT INTO action_trigger (account_id, driver, since) VALUES ($1, $2, $3)",
                    &[account as &(dyn ToSql + Sync), &t.code, &t.since],
                )?;
            }
            for s in &batch.incidents {
                tx.execute(
                    "INSERT INTO incident_seen (incident_id, account_id, severity, started_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[
                        &s.incident,
                        &s.account,
                        &severity_text(s.severity),
                        &s.started_at,
                    ],
                )?;
            }
            tx.execute("DELETE FROM health_score WHERE day < $1", &[&oldest_day])?;
            tx.execute(
                "DELETE FROM incident_seen WHERE started_at < $1",
                &[&oldest_incident],
            )?;
            tx.commit()
        })
    }
}
