//! `[health]`: the score's weights, thresholds, bands and multipliers.
//!
//! Every number defaults to shared/reference/domain.md §2, most of which is a
//! proposal to calibrate on real churn outcomes; so each one is a config
//! value, and a threshold pair the wrong way round is an error rather than a
//! score that silently rewards the bad direction.

use serde::Deserialize;

/// A linear factor's table: its weight and the raw values that score 0
/// and 100, each defaulting on its own so a table may set just one key.
macro_rules! linear_factor {
    ($(#[$doc:meta])* $name:ident, $weight:expr, $poor:expr, $good:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            pub weight: f64,
            pub poor: f64,
            pub good: f64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    weight: $weight,
                    poor: $poor,
                    good: $good,
                }
            }
        }
    };
}

linear_factor!(
    /// F2 seat utilisation: 28-day active users over licensed seats.
    SeatUtilisation, 15.0, 0.50, 0.80
);
linear_factor!(
    /// F3 feature adoption: key features used over key features entitled.
    FeatureAdoption, 10.0, 0.30, 0.70
);
linear_factor!(
    /// F5 support experience: SLA breaches and reopens in 30 days.
    SupportExperience, 10.0, 3.0, 0.0
);

/// F1 usage trend.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UsageTrend {
    pub weight: f64,
    pub poor: f64,
    pub good: f64,
    /// Below this many active users in the previous window the ratio is
    /// noise, and the factor drops out.
    pub min_previous: f64,
}

impl Default for UsageTrend {
    fn default() -> Self {
        Self {
            weight: 20.0,
            poor: 0.70,
            good: 0.95,
            min_previous: 20.0,
        }
    }
}

/// F4 support burden.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupportBurden {
    pub weight: f64,
    pub poor: f64,
    pub good: f64,
    /// Accounts with more seats than this are judged per 100 seats, so a
    /// big customer is not red merely for being big.
    pub per_100_seats_above: u32,
}

impl Default for SupportBurden {
    fn default() -> Self {
        Self {
            weight: 15.0,
            poor: 5.0,
            good: 2.0,
            per_100_seats_above: 500,
        }
    }
}

/// F6 reliability experienced: remaining error budget and major incidents.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reliability {
    pub weight: f64,
    /// Share of the budget part; the incident part gets the rest.
    pub budget_share: f64,
    pub budget_poor: f64,
    pub budget_good: f64,
    pub incidents_poor: f64,
    pub incidents_good: f64,
    /// Stand-in while no SLO is configured: the current error ratio.
    pub error_ratio_poor: f64,
    pub error_ratio_good: f64,
}

impl Default for Reliability {
    fn default() -> Self {
        Self {
            weight: 15.0,
            budget_share: 0.7,
            budget_poor: 0.0,
            budget_good: 0.5,
            incidents_poor: 2.0,
            incidents_good: 0.0,
            error_ratio_poor: 0.01,
            error_ratio_good: 0.001,
        }
    }
}

/// F7 voice: NPS, CSAT and the CRE/CSM pulse, averaged.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Voice {
    pub weight: f64,
    pub csat_poor: f64,
    pub csat_good: f64,
}

impl Default for Voice {
    fn default() -> Self {
        Self {
            weight: 10.0,
            csat_poor: 0.80,
            csat_good: 0.95,
        }
    }
}

/// F8 relationship.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Relationship {
    pub weight: f64,
    /// A champion change within this many days scores 0.
    pub champion_days: i32,
}

impl Default for Relationship {
    fn default() -> Self {
        Self {
            weight: 5.0,
            champion_days: 90,
        }
    }
}

/// The whole `[health]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// Key features a customer is entitled to, unless its accounts row
    /// says otherwise (`key_features` column). Without either, feature
    /// adoption has no denominator and drops out.
    pub key_features: Option<u32>,
    pub usage_trend: UsageTrend,
    pub seat_utilisation: SeatUtilisation,
    pub feature_adoption: FeatureAdoption,
    pub support_burden: SupportBurden,
    pub support_experience: SupportExperience,
    pub reliability: Reliability,
    pub voice: Voice,
    pub relationship: Relationship,
    /// Rounded H at or above this is Green.
    pub green_from: f64,
    /// Rounded H at or below this is Red.
    pub red_to: f64,
    /// Coverage below this is flagged as low confidence.
    pub low_coverage: f64,
    /// |Δ7| below this shows as "=" (the trend arrow's dead band).
    pub trend_dead_band: f64,
    pub falling_fast_delta7: f64,
    pub falling_fast_delta30: f64,
    /// Attention multipliers (`m_renewal` at ≤90 and ≤180 days, `m_trend`).
    pub renewal_90d: f64,
    pub renewal_180d: f64,
    pub falling_fast_multiplier: f64,
    /// `m_value` = clamp(1 + log10(ARR / median ARR), 0.7, 1.5); off by
    /// default because weighting by revenue is a business choice.
    pub value_multiplier: bool,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            key_features: None,
            usage_trend: UsageTrend::default(),
            seat_utilisation: SeatUtilisation::default(),
            feature_adoption: FeatureAdoption::default(),
            support_burden: SupportBurden::default(),
            support_experience: SupportExperience::default(),
            reliability: Reliability::default(),
            voice: Voice::default(),
            relationship: Relationship::default(),
            green_from: 76.0,
            red_to: 50.0,
            low_coverage: 0.6,
            trend_dead_band: 3.0,
            falling_fast_delta7: -10.0,
            falling_fast_delta30: -15.0,
            renewal_90d: 1.5,
            renewal_180d: 1.25,
            falling_fast_multiplier: 1.3,
            value_multiplier: false,
        }
    }
}

/// Which way a threshold pair must point.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
}

fn pair(
    errors: &mut Vec<(String, String)>,
    table: &str,
    (poor_key, poor): (&str, f64),
    (good_key, good): (&str, f64),
    better: Better,
) {
    let ok = match better {
        Better::Higher => good > poor,
        Better::Lower => good < poor,
    };
    if !(poor.is_finite() && good.is_finite() && ok) {
        let (word, sign) = match better {
            Better::Higher => ("higher", ">"),
            Better::Lower => ("lower", "<"),
        };
        errors.push((
            format!("{table}.{good_key}"),
            format!(
                "{good_key} ({good}) must be {sign} {poor_key} ({poor}): {word} is better for this factor"
            ),
        ));
    }
}

impl HealthConfig {
    /// The weights of F1–F8, in order.
    #[must_use]
    pub fn weights(&self) -> [f64; 8] {
        [
            self.usage_trend.weight,
            self.seat_utilisation.weight,
            self.feature_adoption.weight,
            self.support_burden.weight,
            self.support_experience.weight,
            self.reliability.weight,
            self.voice.weight,
            self.relationship.weight,
        ]
    }

    /// Check what serde cannot: threshold directions, weights, ranges.
    /// Errors are `(dotted key, message)`; the first one found is enough.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let mut errors = Vec::new();
        let h = "health";
        let names = [
            "usage_trend",
            "seat_utilisation",
            "feature_adoption",
            "support_burden",
            "support_experience",
            "reliability",
            "voice",
            "relationship",
        ];
        for (name, weight) in names.iter().zip(self.weights()) {
            if !weight.is_finite() || weight < 0.0 {
                errors.push((
                    format!("{h}.{name}.weight"),
                    format!("weight must be a number ≥ 0, not {weight}"),
                ));
            }
        }
        if self.weights().iter().sum::<f64>() <= 0.0 {
            errors.push((
                format!("{h}.usage_trend.weight"),
                "at least one factor needs a weight above 0".into(),
            ));
        }
        let u = &self.usage_trend;
        pair(
            &mut errors,
            "health.usage_trend",
            ("poor", u.poor),
            ("good", u.good),
            Better::Higher,
        );
        let (su, fa, se) = (
            &self.seat_utilisation,
            &self.feature_adoption,
            &self.support_experience,
        );
        for (table, poor, good, better) in [
            ("health.seat_utilisation", su.poor, su.good, Better::Higher),
            ("health.feature_adoption", fa.poor, fa.good, Better::Higher),
            ("health.support_experience", se.poor, se.good, Better::Lower),
        ] {
            pair(&mut errors, table, ("poor", poor), ("good", good), better);
        }
        let b = &self.support_burden;
        pair(
            &mut errors,
            "health.support_burden",
            ("poor", b.poor),
            ("good", b.good),
            Better::Lower,
        );
        let r = &self.reliability;
        pair(
            &mut errors,
            "health.reliability",
            ("budget_poor", r.budget_poor),
            ("budget_good", r.budget_good),
            Better::Higher,
        );
        pair(
            &mut errors,
            "health.reliability",
            ("incidents_poor", r.incidents_poor),
            ("incidents_good", r.incidents_good),
            Better::Lower,
        );
        pair(
            &mut errors,
            "health.reliability",
            ("error_ratio_poor", r.error_ratio_poor),
            ("error_ratio_good", r.error_ratio_good),
            Better::Lower,
        );
        if !(0.0..=1.0).contains(&r.budget_share) {
            errors.push((
                "health.reliability.budget_share".into(),
                format!("must be between 0 and 1, not {}", r.budget_share),
            ));
        }
        let v = &self.voice;
        pair(
            &mut errors,
            "health.voice",
            ("csat_poor", v.csat_poor),
            ("csat_good", v.csat_good),
            Better::Higher,
        );
        if self.red_to.partial_cmp(&self.green_from) != Some(std::cmp::Ordering::Less) {
            errors.push((
                "health.green_from".into(),
                format!(
                    "green_from ({}) must be above red_to ({})",
                    self.green_from, self.red_to
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.low_coverage) {
            errors.push((
                "health.low_coverage".into(),
                format!("must be between 0 and 1, not {}", self.low_coverage),
            ));
        }
        if self.key_features == Some(0) {
            errors.push((
                "health.key_features".into(),
                "must be at least 1 (leave it out to skip feature adoption)".into(),
            ));
        }
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_domain_md_and_valid() {
        let c = HealthConfig::default();
        assert_eq!(c.weights().iter().sum::<f64>(), 100.0);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn reversed_thresholds_are_rejected_with_their_key() {
        let mut c = HealthConfig::default();
        c.support_burden.good = 9.0;
        let (key, message) = c.validate().unwrap_err();
        assert_eq!(key, "health.support_burden.good");
        assert!(message.contains("lower is better"), "{message}");
    }
}
