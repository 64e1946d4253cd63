//! Trend: today's score against the daily scores kept in the local store
//! (domain.md §2.4–2.5): Δ7, Δ30, the arrow, FALLING-FAST, and which factors
//! moved the score over the last 30 days.

use jiff::SignedDuration;
use jiff::civil::Date;
use serde::Serialize;

use super::{Band, FactorId, Health, HealthConfig};

/// One customer's score on one day, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayScore {
    pub day: Date,
    pub score: f64,
    pub band: Band,
    pub coverage: f64,
    /// Sub-scores F1…F8, `None` where the factor had no data that day.
    pub sub_scores: [Option<f64>; 8],
}

impl DayScore {
    /// Today's entry for a scored customer (`None` when there is no score).
    #[must_use]
    pub fn of(health: &Health, day: Date) -> Option<Self> {
        Some(Self {
            day,
            score: health.score?,
            band: health.band,
            coverage: health.coverage,
            sub_scores: health.sub_scores(),
        })
    }
}

/// ↑ / ↓ / = (Gainsight's UP/DOWN/SAME with a dead band).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, strum::Display)]
#[serde(rename_all = "snake_case")]
pub enum Arrow {
    #[strum(serialize = "↑")]
    Up,
    #[strum(serialize = "↓")]
    Down,
    #[strum(serialize = "=")]
    Same,
}

/// One factor's share of the change in H since the comparison day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shift {
    pub factor: FactorId,
    /// Points of H this factor moved (`wᵢ·Δsᵢ / Σw`).
    pub points: f64,
    pub from: f64,
    pub to: f64,
}

/// Where a customer's score is heading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Trend {
    pub delta7: Option<f64>,
    pub delta30: Option<f64>,
    /// `None` until there is a score from about a week ago.
    pub arrow: Option<Arrow>,
    pub falling_fast: bool,
    /// The day the "what changed" attribution compares with: 30 days ago,
    /// or the oldest kept day when the history is younger than that.
    pub since: Option<Date>,
}

/// What moved the score since the baseline's comparison day (domain.md
/// §2.5: `ΔH ≈ Σ wᵢ·(sᵢ,t − sᵢ,t−30)/Σw`). Computed when a customer is
/// shown, not for every customer on every poll.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    /// The day compared with.
    pub since: Option<Date>,
    /// Factors whose contribution moved by 2 points or more, largest first.
    pub shifts: Vec<Shift>,
    /// The part of the change due to factors gaining or losing data (the
    /// weights renormalising), when the set of factors changed.
    pub renormalisation: Option<f64>,
}

/// How many days a comparison may reach back beyond its nominal distance
/// when the exact day was not recorded (the cockpit was not running).
const SLACK_7: i64 = 2;
const SLACK_30: i64 = 5;
/// A factor whose contribution moved less than this is not listed.
const MIN_SHIFT: f64 = 2.0;

/// `today` minus whole days (`None` only at the edge of the calendar).
fn days_before(today: Date, days: i64) -> Option<Date> {
    today
        .checked_sub(SignedDuration::from_hours(days * 24))
        .ok()
}

/// The newest score at least `days` and at most `days + slack` days old.
/// Binary search: with 10k customers × 40 days kept, scanning would touch
/// megabytes of cold memory per scoring pass.
fn back(history: &[DayScore], today: Date, days: i64, slack: i64) -> Option<&DayScore> {
    let newest = days_before(today, days)?;
    let oldest = days_before(today, days + slack)?;
    let end = history.partition_point(|d| d.day <= newest);
    history[..end].last().filter(|d| d.day >= oldest)
}

/// What the trend compares today's score with, distilled from the stored
/// days once (they do not change during the day), so scoring reads a few
/// numbers per customer instead of searching 40 days of history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// The day this was computed for.
    pub today: Option<Date>,
    /// H about 7 and 30 days ago.
    pub then7: Option<f64>,
    pub then30: Option<f64>,
    /// The best band held in the 7 days before today.
    pub best_band_7d: Option<Band>,
    /// The day "what changed" compares with (30 days ago, or the oldest
    /// kept), its H and sub-scores.
    pub base: Option<(Date, f64, [Option<f64>; 8])>,
}

impl Baseline {
    /// Distil `history` (oldest first) for `today`; entries for today or
    /// later are not history.
    #[must_use]
    pub fn of(history: &[DayScore], today: Date) -> Self {
        let past = &history[..history.partition_point(|d| d.day < today)];
        let then30 = back(past, today, 30, SLACK_30);
        let best_band_7d = days_before(today, 7).and_then(|week_ago| {
            let from = past.partition_point(|d| d.day < week_ago);
            past[from..].iter().map(|d| d.band).max()
        });
        Self {
            today: Some(today),
            then7: back(past, today, 7, SLACK_7).map(|d| d.score),
            then30: then30.map(|d| d.score),
            best_band_7d,
            base: then30
                .or_else(|| past.first())
                .map(|d| (d.day, d.score, d.sub_scores)),
        }
    }
}

/// The trend of `health` today against `history` (oldest first; entries for
/// today or later are ignored).
#[must_use]
pub fn trend(health: &Health, today: Date, history: &[DayScore], cfg: &HealthConfig) -> Trend {
    trend_from(health, &Baseline::of(history, today), cfg)
}

/// The trend of `health` against a precomputed [`Baseline`].
#[must_use]
pub fn trend_from(health: &Health, baseline: &Baseline, cfg: &HealthConfig) -> Trend {
    let Some(score) = health.score else {
        return Trend::default();
    };
    let delta7 = baseline.then7.map(|then| score - then);
    let delta30 = baseline.then30.map(|then| score - then);
    let arrow = delta7.map(|d| {
        if d >= cfg.trend_dead_band {
            Arrow::Up
        } else if d <= -cfg.trend_dead_band {
            Arrow::Down
        } else {
            Arrow::Same
        }
    });
    let band_worsened = baseline.best_band_7d.is_some_and(|b| b > health.band);
    let falling_fast = delta7.is_some_and(|d| d <= cfg.falling_fast_delta7)
        || delta30.is_some_and(|d| d <= cfg.falling_fast_delta30)
        || band_worsened;
    Trend {
        delta7,
        delta30,
        arrow,
        falling_fast,
        since: baseline.base.as_ref().map(|b| b.0),
    }
}

/// Attribute the change in H since the baseline's comparison day.
#[must_use]
pub fn changes(health: &Health, baseline: &Baseline) -> Changes {
    let (Some(score), Some((since, base_score, base_subs))) = (health.score, &baseline.base) else {
        return Changes::default();
    };
    let total: f64 = health.factors.iter().map(|f| f.weight).sum();
    let mut explained = 0.0;
    let mut shifts = Vec::new();
    for f in &health.factors {
        if let Some(from) = base_subs[f.id.index()] {
            let points = f.weight * (f.sub_score - from) / total;
            explained += points;
            if points.abs() >= MIN_SHIFT {
                shifts.push(Shift {
                    factor: f.id,
                    points,
                    from,
                    to: f.sub_score,
                });
            }
        }
    }
    shifts.sort_by(|a, b| b.points.abs().total_cmp(&a.points.abs()));
    let same_factors = health
        .sub_scores()
        .iter()
        .zip(base_subs)
        .all(|(a, b)| a.is_some() == b.is_some());
    Changes {
        since: Some(*since),
        shifts,
        renormalisation: (!same_factors).then(|| (score - base_score) - explained),
    }
}

#[cfg(test)]
mod tests {
    use jiff::ToSpan;

    use super::*;
    use crate::insight::health::{Evidence, Factor};

    fn health(score: f64, band: Band, f2: f64) -> Health {
        // Two factors, equal weight: F2 varies, F4 stays at 100.
        let factor = |id, sub_score| Factor {
            id,
            evidence: Evidence::SupportExperience {
                breaches: 0,
                reopens: 0,
                poor: 3.0,
            },
            sub_score,
            weight: 10.0,
            points_lost: 0.0,
        };
        Health {
            score: Some(score),
            band,
            coverage: 0.2,
            low_confidence: true,
            factors: vec![
                factor(FactorId::SeatUtilisation, f2),
                factor(FactorId::SupportBurden, 100.0),
            ],
            red_flags: Vec::new(),
            yellow_caps: Vec::new(),
            in_incident: false,
        }
    }

    fn day(days_ago: i64, score: f64, band: Band, f2: Option<f64>) -> DayScore {
        let mut sub_scores = [None; 8];
        sub_scores[1] = f2;
        sub_scores[3] = Some(100.0);
        DayScore {
            day: today().checked_sub(days_ago.days()).unwrap(),
            score,
            band,
            coverage: 0.2,
            sub_scores,
        }
    }

    fn today() -> Date {
        jiff::civil::date(2026, 11, 21)
    }

    #[test]
    fn deltas_arrow_and_falling_fast() {
        let cfg = HealthConfig::default();
        let h = health(60.0, Band::Yellow, 20.0);
        let history = [
            day(30, 80.0, Band::Green, Some(60.0)),
            day(7, 62.0, Band::Yellow, Some(24.0)),
        ];
        let t = trend(&h, today(), &history, &cfg);
        assert_eq!(t.delta7, Some(-2.0));
        assert_eq!(t.delta30, Some(-20.0));
        assert_eq!(t.arrow, Some(Arrow::Same), "within the ±3 dead band");
        assert!(t.falling_fast, "Δ30 ≤ −15");
        // F2 moved 10 × (20 − 60) / 20 = −20 points.
        assert_eq!(t.since, Some(history[0].day));
        let c = changes(&h, &Baseline::of(&history, today()));
        assert_eq!(c.since, t.since);
        assert_eq!(c.shifts.len(), 1);
        assert_eq!(c.shifts[0].factor, FactorId::SeatUtilisation);
        assert!((c.shifts[0].points + 20.0).abs() < 1e-9);
        assert_eq!(c.renormalisation, None);
    }

    #[test]
    fn a_missing_day_is_bridged_only_within_the_slack() {
        let cfg = HealthConfig::default();
        let h = health(70.0, Band::Yellow, 40.0);
        let t = trend(&h, today(), &[day(9, 60.0, Band::Yellow, Some(20.0))], &cfg);
        assert_eq!(t.delta7, Some(10.0));
        assert_eq!(t.arrow, Some(Arrow::Up));
        let history = [day(10, 60.0, Band::Yellow, Some(20.0))];
        let t = trend(&h, today(), &history, &cfg);
        assert_eq!(t.delta7, None);
        assert_eq!(t.arrow, None);
        // Still, what changed is told against the oldest day kept.
        let c = changes(&h, &Baseline::of(&history, today()));
        assert_eq!(c.shifts.len(), 1);
    }

    #[test]
    fn a_worse_band_within_a_week_is_falling_fast() {
        let cfg = HealthConfig::default();
        let h = health(49.0, Band::Red, 0.0);
        let t = trend(&h, today(), &[day(3, 52.0, Band::Yellow, Some(4.0))], &cfg);
        assert!(t.falling_fast);
        assert_eq!(t.delta7, None);
    }

    #[test]
    fn a_factor_gaining_data_is_shown_as_renormalisation() {
        let h = health(60.0, Band::Yellow, 20.0);
        let c = changes(
            &h,
            &Baseline::of(&[day(30, 100.0, Band::Green, None)], today()),
        );
        assert!(c.shifts.is_empty());
        assert_eq!(c.renormalisation, Some(-40.0));
    }

    #[test]
    fn today_and_later_entries_are_not_history() {
        let cfg = HealthConfig::default();
        let h = health(60.0, Band::Yellow, 20.0);
        let t = trend(&h, today(), &[day(0, 90.0, Band::Green, Some(90.0))], &cfg);
        assert_eq!(t, Trend::default());
    }
}
