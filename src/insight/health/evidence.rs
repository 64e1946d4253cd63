//! The raw facts behind each factor and flag, kept as numbers and put into
//! words only when shown (`Display`) or exported (serialised as that text).
//!
//! Each text starts with the measurement and ends with the thresholds in
//! parentheses; the pane shows the part before the parenthesis, the detail
//! all of it.

use std::fmt;

use jiff::Timestamp;
use serde::{Serialize, Serializer};

use super::FactorId;

/// The CRE/CSM's own read of the account (Sourcegraph's Account Pulse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "lowercase")]
pub enum Pulse {
    Healthy,
    Concerning,
    Poor,
}

impl Pulse {
    /// `healthy`/`good`, `concerning`, `poor`, case-insensitive.
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        [
            ("healthy", Self::Healthy),
            ("good", Self::Healthy),
            ("concerning", Self::Concerning),
            ("poor", Self::Poor),
        ]
        .into_iter()
        .find(|(name, _)| raw.eq_ignore_ascii_case(name))
        .map(|(_, p)| p)
    }

    /// Healthy 100 / Concerning 50 / Poor 0 (Vitally's 10/5/0).
    #[must_use]
    pub fn score(self) -> f64 {
        match self {
            Self::Healthy => 100.0,
            Self::Concerning => 50.0,
            Self::Poor => 0.0,
        }
    }
}

/// What a factor measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Evidence {
    UsageTrend {
        ratio: f64,
        current: f64,
        previous: f64,
        /// How far back `previous` is: 28 days, or 7 as a fallback.
        days: u8,
        poor: f64,
        good: f64,
    },
    SeatUtilisation {
        utilisation: f64,
        active: f64,
        seats: u32,
        poor: f64,
        good: f64,
    },
    FeatureAdoption {
        used: f64,
        entitled: u32,
        poor: f64,
        good: f64,
    },
    SupportBurden {
        /// Severity-weighted problem inquiries (per 100 seats if so).
        value: f64,
        problems: u32,
        per_100_seats: bool,
        poor: f64,
        good: f64,
    },
    SupportExperience {
        breaches: u32,
        reopens: u32,
        poor: f64,
    },
    Reliability {
        /// Remaining error-budget fraction, when an SLO is configured.
        budget: Option<f64>,
        /// The stand-in used when there is no budget.
        error_ratio: Option<f64>,
        incidents_30d: u32,
        budget_good: f64,
        error_ratio_poor: f64,
        incidents_poor: f64,
    },
    Voice {
        nps: Option<u8>,
        /// The CSAT scored: the desk's ratings when it has any, else the
        /// accounts file's.
        csat: Option<f64>,
        /// Good and bad desk ratings over the last 90 days, when any.
        desk_ratings: Option<(u32, u32)>,
        pulse: Option<Pulse>,
    },
    Relationship {
        champion_changed_days: Option<i32>,
        window: i32,
    },
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::UsageTrend {
                ratio,
                current,
                previous,
                days,
                poor,
                good,
            } => write!(
                f,
                "{ratio:.2}× active users vs {days} d ago, {current:.0} from {previous:.0} (poor ≤{poor:.2}, good ≥{good:.2})"
            ),
            Self::SeatUtilisation {
                utilisation,
                active,
                seats,
                poor,
                good,
            } => write!(
                f,
                "{} of seats active, {active:.0} of {seats} (poor <{}, good ≥{})",
                pct(utilisation),
                pct(poor),
                pct(good)
            ),
            Self::FeatureAdoption {
                used,
                entitled,
                poor,
                good,
            } => write!(
                f,
                "{used:.0} of {entitled} key features used in 28 d (poor ≤{}, good ≥{})",
                pct(poor),
                pct(good)
            ),
            Self::SupportBurden {
                value,
                problems,
                per_100_seats,
                poor,
                good,
            } => write!(
                f,
                "{value:.1} weighted problem inquiries/90 d{} from {} (poor ≥{poor}, good ≤{good}; urgent 3, high 2, normal 1, low 0.5)",
                if per_100_seats { " per 100 seats" } else { "" },
                plural(problems, "inquiry", "inquiries")
            ),
            Self::SupportExperience {
                breaches,
                reopens,
                poor,
            } => write!(
                f,
                "{} + {} in 30 d (poor ≥{poor}, good 0)",
                plural(breaches, "SLA breach", "SLA breaches"),
                plural(reopens, "reopen", "reopens")
            ),
            Self::Reliability {
                budget,
                error_ratio,
                incidents_30d,
                budget_good,
                error_ratio_poor,
                incidents_poor,
            } => {
                match (budget, error_ratio) {
                    (Some(b), _) => write!(f, "error budget {} left", pct(b))?,
                    (None, Some(e)) => write!(f, "error ratio {:.2}% now", e * 100.0)?,
                    (None, None) => f.write_str("no reliability data")?,
                }
                write!(
                    f,
                    ", {} in 30 d (",
                    plural(incidents_30d, "SEV1/2 incident", "SEV1/2 incidents")
                )?;
                if budget.is_some() {
                    write!(f, "budget poor ≤0%, good ≥{}", pct(budget_good))?;
                } else {
                    write!(
                        f,
                        "no SLO budget: error ratio stand-in, poor ≥{:.1}%",
                        error_ratio_poor * 100.0
                    )?;
                }
                write!(f, "; incidents poor ≥{incidents_poor})")
            }
            Self::Voice {
                nps,
                csat,
                desk_ratings,
                pulse,
            } => {
                let parts: Vec<String> = [
                    nps.map(|n| format!("NPS {n}")),
                    csat.map(|c| match desk_ratings {
                        Some((good, bad)) => format!(
                            "CSAT {} ({good} good / {bad} bad desk ratings in 90 d)",
                            pct(c)
                        ),
                        None => format!("CSAT {}", pct(c)),
                    }),
                    pulse.map(|p| format!("pulse {p}")),
                ]
                .into_iter()
                .flatten()
                .collect();
                write!(
                    f,
                    "{} (mean of: NPS 9–10 → 100, 7–8 → 60, 0–6 → 0; CSAT linear; pulse 100/50/0)",
                    parts.join(", ")
                )
            }
            Self::Relationship {
                champion_changed_days,
                window,
            } => match champion_changed_days {
                Some(d) => write!(f, "champion changed {d} d ago (poor within {window} d)"),
                None => write!(f, "champion unchanged in {window} d"),
            },
        }
    }
}

/// A signal that forces the band to Red (domain.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RedFlag {
    /// In the blast radius of open SEV1/SEV2 incidents.
    InIncident { incidents: u32 },
    /// The customer-scoped error budget is used up.
    BudgetExhausted { remaining: f64 },
    /// An urgent/high inquiry is past its SLA and unsolved.
    UrgentPastSla { since: Timestamp },
    /// Cancellation, downgrade or non-renewal intent is recorded.
    CancellationIntent,
}

impl RedFlag {
    /// The factor this flag is about.
    #[must_use]
    pub fn factor(self) -> FactorId {
        match self {
            Self::InIncident { .. } | Self::BudgetExhausted { .. } => FactorId::Reliability,
            Self::UrgentPastSla { .. } => FactorId::SupportExperience,
            Self::CancellationIntent => FactorId::Voice,
        }
    }
}

impl fmt::Display for RedFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InIncident { incidents: 1 } => f.write_str("in an open SEV1/SEV2 incident"),
            Self::InIncident { incidents } => {
                write!(f, "in {incidents} open SEV1/SEV2 incidents")
            }
            Self::BudgetExhausted { remaining } => {
                write!(f, "error budget exhausted ({} left)", pct(remaining))
            }
            Self::UrgentPastSla { since } => write!(
                f,
                "urgent/high inquiry past SLA since {}",
                since.strftime("%Y-%m-%d %H:%M UTC")
            ),
            Self::CancellationIntent => f.write_str("cancellation intent recorded"),
        }
    }
}

impl Serialize for RedFlag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for Evidence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A condition that keeps the band at Yellow at best (domain.md §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YellowCap {
    ChampionLeftBeforeRenewal { days: i32, renewal_days: i32 },
    Inactive { days: u32 },
}

impl fmt::Display for YellowCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::ChampionLeftBeforeRenewal { days, renewal_days } => write!(
                f,
                "champion changed {days} d ago with renewal in {renewal_days} d"
            ),
            Self::Inactive { days } => write!(f, "no active users for {days} d"),
        }
    }
}

impl Serialize for YellowCap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
