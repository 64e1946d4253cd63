//! From configuration to running sources: pick the adapter for each
//! configured kind, resolve its secret, and either start pollers (TUI) or
//! poll each once (snapshot, check).

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::poll::{self, Pollable, Poller};
use crate::config::{Config, ConfigError, DeskKind, IncidentsKind};
use crate::core::domain::{SourceError, SourceKind};
use crate::core::source::Vendor;
use crate::model::SourceState;
use crate::model::message::Message;
use crate::sources::alertmanager::Alertmanager;
use crate::sources::desk::Desk;
use crate::sources::http::{RateGate, Secret};
use crate::sources::incidents::Incidents;
use crate::sources::pagerduty::PagerDuty;
use crate::sources::prometheus::Prometheus;
use crate::sources::rt::Rt;
use crate::sources::token;
use crate::sources::zendesk::Zendesk;
use crate::sources::{DeskSource, IncidentSource};

/// The secrets the configured sources need, resolved from the environment
/// or the OS keyring (or, in the demo, the simulator's fixed tokens).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub desk: Option<Secret>,
    pub metrics: Option<Secret>,
    pub incidents: Option<Secret>,
    /// Events v2 routing keys by the variable an escalation target names
    /// (`routing_key_env`); a variable that is not set is left out, and a
    /// page to it fails with the variable's name.
    pub routing_keys: std::collections::HashMap<String, Secret>,
}

impl Secrets {
    /// Read every `token_env` (or `token_keyring`) the config names; a
    /// missing variable or entry is an error naming the key.
    pub fn from_env(config: &Config) -> Result<Self, ConfigError> {
        Ok(Self {
            desk: config
                .desk
                .as_ref()
                .map(|d| token::resolve("desk", d.token_env.as_deref(), d.token_keyring.as_deref()))
                .transpose()?
                .flatten(),
            metrics: config
                .metrics
                .as_ref()
                .map(|m| {
                    token::resolve(
                        "metrics",
                        m.token_env.as_deref(),
                        m.token_keyring.as_deref(),
                    )
                })
                .transpose()?
                .flatten(),
            incidents: config
                .incidents
                .as_ref()
                .map(|i| {
                    token::resolve(
                        "incidents",
                        i.token_env.as_deref(),
                        i.token_keyring.as_deref(),
                    )
                })
                .transpose()?
                .flatten(),
            routing_keys: config
                .escalation
                .targets
                .iter()
                .filter_map(|t| t.routing_key_env.as_ref())
                .filter_map(|var| {
                    let value = std::env::var(var).ok().filter(|v| !v.is_empty())?;
                    Some((var.clone(), Secret::new(value)))
                })
                .collect(),
        })
    }
}

/// Configured sources, ready to poll.
pub struct Sources {
    desk: Option<(Desk, Duration)>,
    metrics: Option<(Prometheus, Duration)>,
    incidents: Option<(Incidents, Duration)>,
    accounts: Option<PathBuf>,
}

/// Pollers of the running sources.
#[derive(Clone, Default)]
pub struct Pollers {
    pub desk: Option<Poller>,
    pub incidents: Option<Poller>,
    pub all: Vec<Poller>,
    /// Team mode: the store the shared sources (desk, incidents) are read
    /// through, so `r` can ask their leaders to poll.
    pub team: Option<(crate::app::team_feed::Team, Vec<SourceKind>)>,
}

impl std::fmt::Debug for Pollers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pollers")
            .field("all", &self.all.len())
            .field("team", &self.team.is_some())
            .finish()
    }
}

/// How often the accounts file is re-read.
const ACCOUNTS_EVERY: Duration = Duration::from_secs(60);

fn missing_secret(key: &str) -> ConfigError {
    ConfigError::Value {
        key: key.into(),
        message: "this source needs a token: name its environment variable in token_env (or its keyring entry in token_keyring)".into(),
    }
}

fn bad_source(key: &str, error: &SourceError) -> ConfigError {
    ConfigError::Value {
        key: key.into(),
        message: error.message.clone(),
    }
}

/// The rate-limit gates of the sources that have one (Zendesk, PagerDuty).
#[derive(Debug, Default)]
pub struct RateGates {
    pub desk: Option<RateGate>,
    pub incidents: Option<RateGate>,
}

impl Sources {
    /// The readers' rate-limit gates, for the writers of the same accounts
    /// ([`crate::app::outbox::Writers::sharing`]).
    #[must_use]
    pub fn rate_gates(&self) -> RateGates {
        RateGates {
            desk: match &self.desk {
                Some((Desk::Zendesk(z), _)) => Some(z.rate_gate()),
                _ => None,
            },
            incidents: match &self.incidents {
                Some((Incidents::PagerDuty(p), _)) => Some(p.rate_gate()),
                _ => None,
            },
        }
    }

    /// Build the adapters the config names. Nothing is contacted yet.
    pub fn build(
        config: &Config,
        secrets: Secrets,
        client: &crate::sources::http::Client,
    ) -> Result<Self, ConfigError> {
        let desk = match &config.desk {
            None => None,
            Some(d) if d.kind == DeskKind::Zendesk => {
                let token = secrets
                    .desk
                    .clone()
                    .ok_or_else(|| missing_secret("desk.token_env"))?;
                let zendesk =
                    Zendesk::new(client.clone(), d, token).map_err(|e| bad_source("desk", &e))?;
                Some((Desk::Zendesk(zendesk), d.poll_interval))
            }
            Some(d) => {
                let token = secrets
                    .desk
                    .clone()
                    .ok_or_else(|| missing_secret("desk.token_env"))?;
                let rt = Rt::new(client.clone(), d, token).map_err(|e| bad_source("desk", &e))?;
                Some((Desk::Rt(rt), d.poll_interval))
            }
        };
        let metrics = match &config.metrics {
            None => None,
            Some(m) => Some((
                Prometheus::new(client.clone(), m, secrets.metrics.clone())
                    .map_err(|e| bad_source("metrics", &e))?
                    .with_slos(&config.slo),
                m.poll_interval,
            )),
        };
        let incidents = match &config.incidents {
            None => None,
            Some(i) if i.kind == IncidentsKind::Pagerduty => {
                let token = secrets
                    .incidents
                    .clone()
                    .ok_or_else(|| missing_secret("incidents.token_env"))?;
                let pagerduty = PagerDuty::new(client.clone(), i, token)
                    .map_err(|e| bad_source("incidents", &e))?;
                Some((Incidents::PagerDuty(pagerduty), i.poll_interval))
            }
            Some(i) => {
                let alertmanager = Alertmanager::new(client.clone(), i, secrets.incidents.clone())
                    .map_err(|e| bad_source("incidents", &e))?;
                Some((Incidents::Alertmanager(alertmanager), i.poll_interval))
            }
        };
        Ok(Self {
            desk,
            metrics,
            incidents,
            accounts: config.accounts.as_ref().map(|a| a.file.clone()),
        })
    }

    /// Let the desk resume from (and save to) its state in `dir`, the data
    /// dir: a restart then costs one small request, not a full read.
    #[must_use]
    pub fn resume_in(mut self, dir: &std::path::Path) -> Self {
        self.desk = self.desk.map(|(desk, every)| (desk.resume_in(dir), every));
        self
    }

    /// The chips for these sources, all loading.
    #[must_use]
    pub fn states(&self) -> Vec<SourceState> {
        let mut states = Vec::new();
        if let Some((d, _)) = &self.desk {
            states.push(SourceState::new(SourceKind::Desk, d.vendor()));
        }
        if self.metrics.is_some() {
            states.push(SourceState::new(SourceKind::Metrics, Vendor::Prometheus));
        }
        if let Some((i, _)) = &self.incidents {
            states.push(SourceState::new(SourceKind::Incidents, i.vendor()));
        }
        if self.accounts.is_some() {
            states.push(SourceState::new(SourceKind::Accounts, Vendor::Csv));
        }
        states
    }

    /// Start one poller per source.
    #[must_use]
    pub fn spawn(self, tx: &mpsc::UnboundedSender<Message>, cancel: &CancellationToken) -> Pollers {
        self.spawn_in_team(tx, cancel, None)
    }

    /// Start one poller per source; in team mode the desk, metrics and
    /// incidents are polled by one cockpit of the team and read by the
    /// others.
    #[must_use]
    pub fn spawn_in_team(
        self,
        tx: &mpsc::UnboundedSender<Message>,
        cancel: &CancellationToken,
        team: Option<crate::app::team_feed::Team>,
    ) -> Pollers {
        let mut pollers = Pollers::default();
        let mut listened = Vec::new();
        if let Some(path) = self.accounts {
            pollers.all.push(poll::spawn(
                poll::AccountsFile(path),
                ACCOUNTS_EVERY,
                tx.clone(),
                cancel.clone(),
            ));
        }
        if let Some((desk, every)) = self.desk {
            let p = start(
                poll::Desk(desk),
                SourceKind::Desk,
                every,
                (tx, cancel),
                team.as_ref(),
                &mut listened,
            );
            pollers.desk = Some(p.clone());
            pollers.all.push(p);
        }
        if let Some((metrics, every)) = self.metrics {
            pollers.all.push(start(
                poll::Metrics(metrics),
                SourceKind::Metrics,
                every,
                (tx, cancel),
                team.as_ref(),
                &mut listened,
            ));
        }
        if let Some((incidents, every)) = self.incidents {
            let p = start(
                poll::Incidents(incidents),
                SourceKind::Incidents,
                every,
                (tx, cancel),
                team.as_ref(),
                &mut listened,
            );
            pollers.incidents = Some(p.clone());
            pollers.all.push(p);
        }
        if let Some(team) = team
            && !listened.is_empty()
        {
            let kinds = listened.iter().map(|l| l.kind).collect();
            crate::app::team_feed::listen(&team, listened, cancel.clone());
            pollers.team = Some((team, kinds));
        }
        pollers
    }

    /// Poll every source until its first complete read, concurrently, for
    /// at most `within`: a desk whose first read continues over several
    /// polls (a large Zendesk export) is polled again, waiting as it asks.
    /// Returns the messages in order (accounts first) and, per source whose
    /// read is still incomplete at the deadline, why.
    pub async fn poll_complete(
        self,
        within: Duration,
    ) -> (Vec<Message>, Vec<(SourceKind, String)>) {
        let deadline = tokio::time::Instant::now() + within;
        let desk = self.desk.map(|(d, _)| d);
        let rest = Self { desk: None, ..self };
        let desk_reads = async move {
            let mut messages = Vec::new();
            let Some(desk) = desk else {
                return (messages, None);
            };
            let mut desk = poll::Desk(desk);
            loop {
                let (message, wait) = desk.poll().await;
                let failed = matches!(&message, Message::Desk { result: Err(_), .. });
                messages.push(message);
                let Some(reason) = desk.0.backlog().filter(|_| !failed) else {
                    return (messages, None);
                };
                let resume = tokio::time::Instant::now() + wait.unwrap_or(Duration::ZERO);
                if resume >= deadline {
                    let why = format!("{reason}; stopped after {}s (--wait)", within.as_secs());
                    return (messages, Some(why));
                }
                tokio::time::sleep_until(resume).await;
            }
        };
        let (mut messages, (desk_messages, desk_partial)) =
            tokio::join!(rest.poll_once(), desk_reads);
        messages.extend(desk_messages);
        let partial = desk_partial
            .map(|why| (SourceKind::Desk, why))
            .into_iter()
            .collect();
        (messages, partial)
    }

    /// Poll every source once, concurrently; accounts first in the result
    /// so the join has its key before the rest arrives.
    pub async fn poll_once(self) -> Vec<Message> {
        async fn once<P: Pollable>(source: Option<P>) -> Option<Message> {
            match source {
                Some(mut s) => Some(s.poll().await.0),
                None => None,
            }
        }
        let (accounts, desk, metrics, incidents) = tokio::join!(
            once(self.accounts.map(poll::AccountsFile)),
            once(self.desk.map(|(d, _)| poll::Desk(d))),
            once(self.metrics.map(|(m, _)| poll::Metrics(m))),
            once(self.incidents.map(|(i, _)| poll::Incidents(i))),
        );
        [accounts, desk, metrics, incidents]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// Start a source's poller task: through the team's feed in team mode.
fn start<P: poll::Pollable>(
    source: P,
    kind: SourceKind,
    every: Duration,
    (tx, cancel): (&mpsc::UnboundedSender<Message>, &CancellationToken),
    team: Option<&crate::app::team_feed::Team>,
    listened: &mut Vec<crate::app::team_feed::Listened>,
) -> poll::Poller {
    let Some(team) = team else {
        return poll::spawn(source, every, tx.clone(), cancel.clone());
    };
    let shared = crate::app::team_feed::Shared::new(source, kind, team.clone(), tx.clone());
    let leading = shared.leading();
    let poller = poll::spawn(shared, every, tx.clone(), cancel.clone());
    listened.push(crate::app::team_feed::Listened {
        kind,
        leading,
        poller: poller.clone(),
    });
    poller
}
