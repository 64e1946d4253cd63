//! SLO arithmetic (domain.md §3): error budget remaining over the SLO
//! window and the multiwindow, multi-burn-rate alert state, globally and per
//! tenant, with a low-traffic guard for tenants whose few requests make a
//! burn rate noise.
//!
//! Pure functions over event counts; the metrics source fetches the counts
//! (good and valid events per window, `core::slo::SloCounts`) and this
//! module decides what they mean. No IO, no clock.

use std::time::Duration;

use crate::core::domain::MetricsSnapshot;
pub use crate::core::slo::{
    BurnLevel, Counts, DEFAULT_MIN_BAD_EVENTS, RULES, Rule, SloCounts, SloReport, SloState,
    WindowBurn, WindowCounts, promql_duration, windows,
};

/// Burn rate: how many times faster than "exactly on budget" errors come.
#[must_use]
pub fn burn_rate(error_ratio: f64, target: f64) -> f64 {
    error_ratio / (1.0 - target)
}

/// Fraction of the error budget left: 1 untouched, 0 spent, negative when
/// overspent (Pyrra's `((1−target) − (1 − good/valid)) / (1 − target)`).
#[must_use]
pub fn budget_remaining(counts: Counts, target: f64) -> Option<f64> {
    let ratio = counts.error_ratio()?;
    Some(1.0 - ratio / (1.0 - target))
}

/// What an SLO promises, as [`evaluate`] needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    pub target: f64,
    pub window: Duration,
    pub min_bad_events: f64,
}

/// Evaluate one scope. `counts` answers for each window of [`windows`];
/// a window it has no answer for (no series) counts as no traffic.
#[must_use]
pub fn evaluate(objective: &Objective, counts: impl Fn(Duration) -> Option<Counts>) -> SloState {
    let burn_of = |w: Duration| {
        counts(w)
            .and_then(|c| c.error_ratio())
            .map(|r| burn_rate(r, objective.target))
    };
    let windows = windows(objective.window)
        .into_iter()
        .map(|w| {
            let c = counts(w);
            WindowBurn {
                window: promql_duration(w),
                burn_rate: burn_of(w),
                bad_events: c.map(|c| c.bad()),
                valid_events: c.map(|c| c.valid),
            }
        })
        .collect();
    let mut level = BurnLevel::Ok;
    let mut low_traffic = false;
    let mut reasons = Vec::new();
    for rule in &RULES {
        let threshold = rule.threshold(objective.window);
        let (Some(long), Some(short)) = (burn_of(rule.long), burn_of(rule.short)) else {
            continue;
        };
        if long < threshold || short < threshold {
            continue;
        }
        let bad = counts(rule.long).map_or(0.0, |c| c.bad());
        let mut fired = rule.level;
        let mut why = format!(
            "{} {long:.1}× and {} {short:.1}× ≥ {threshold:.1}",
            promql_duration(rule.long),
            promql_duration(rule.short)
        );
        if fired == BurnLevel::Page && bad < objective.min_bad_events {
            fired = BurnLevel::Ticket;
            low_traffic = true;
            why.push_str(&format!(
                " but only {bad:.0} bad events in {} (< {:.0}): ticket, not page",
                promql_duration(rule.long),
                objective.min_bad_events
            ));
        }
        if fired > level {
            level = fired;
            reasons.clear();
        }
        if fired == level {
            reasons.push(why);
        }
    }
    // A page that fired unguarded elsewhere is not "held back".
    if level == BurnLevel::Page {
        low_traffic = false;
    }
    let total = counts(objective.window);
    SloState {
        level,
        budget_remaining: total.and_then(|c| budget_remaining(c, objective.target)),
        error_ratio: total.and_then(|c| c.error_ratio()),
        windows,
        low_traffic,
        reason: if reasons.is_empty() {
            "no window pair above its threshold".into()
        } else {
            reasons.join("; ")
        },
    }
}

/// Judge every SLO a metrics poll measured: its report globally and per
/// tenant, and each tenant's worst budget remaining over its SLOs (the
/// health score's reliability input). Called where a snapshot enters the
/// model, so the adapter only ever reports counts. The counts are consumed:
/// judging twice adds nothing.
pub fn judge(snapshot: &mut MetricsSnapshot) {
    let judged: Vec<SloReport> = std::mem::take(&mut snapshot.slo_counts)
        .iter()
        .map(report)
        .collect();
    for report in &judged {
        for (tenant, state) in &report.by_tenant {
            if let Some(left) = state.budget_remaining {
                let m = snapshot.by_tenant.entry(tenant.clone()).or_default();
                m.error_budget_remaining = Some(
                    m.error_budget_remaining
                        .map_or(left, |worst| worst.min(left)),
                );
            }
        }
    }
    snapshot.slos.extend(judged);
}

/// Evaluate one SLO from the counts of its windows.
#[must_use]
pub fn report(slo: &SloCounts) -> SloReport {
    let objective = Objective {
        target: slo.target,
        window: slo.window,
        min_bad_events: slo.min_bad_events,
    };
    let counts = &slo.windows;
    // Each window's tenants (sorted maps) are walked once, in step: the
    // next tenant is the least one any window still holds. No set of all
    // tenants and no look-up by name for every question `evaluate` asks
    // (about twenty per tenant, 10k tenants a poll).
    let mut cursors: Vec<(Duration, std::iter::Peekable<_>)> = counts
        .iter()
        .map(|(w, c)| (*w, c.by_tenant.iter().peekable()))
        .collect();
    let mut found: Vec<(Duration, Option<Counts>)> = Vec::with_capacity(cursors.len());
    // In tenant order already: collected into the map in one sweep.
    let mut by_tenant = Vec::new();
    while let Some(tenant) = cursors
        .iter_mut()
        .filter_map(|(_, cursor)| cursor.peek().map(|(t, _)| *t))
        .min()
    {
        found.clear();
        for (w, cursor) in &mut cursors {
            let here = cursor.next_if(|(t, _)| *t == tenant).map(|(_, c)| *c);
            found.push((*w, here));
        }
        let state = evaluate(&objective, |w| {
            found.iter().find(|(x, _)| *x == w).and_then(|(_, c)| *c)
        });
        by_tenant.push((tenant.clone(), state));
    }
    SloReport {
        name: slo.name.clone(),
        service: slo.service.clone(),
        target: slo.target,
        window: promql_duration(slo.window),
        global: evaluate(&objective, |w| counts.get(&w).and_then(|c| c.global)),
        by_tenant: by_tenant.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::slo::{hours, minutes};

    const DAY: Duration = Duration::from_secs(86_400);

    fn near(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    fn thirty_day(target: f64) -> Objective {
        Objective {
            target,
            window: 30 * DAY,
            min_bad_events: DEFAULT_MIN_BAD_EVENTS,
        }
    }

    /// Counts from an error ratio per window, at `per_hour` valid events an hour.
    fn constant(
        ratio: impl Fn(Duration) -> f64,
        per_hour: f64,
    ) -> impl Fn(Duration) -> Option<Counts> {
        move |w| {
            let valid = per_hour * w.as_secs_f64() / 3600.0;
            Some(Counts {
                good: valid * (1.0 - ratio(w)),
                valid,
            })
        }
    }

    #[test]
    fn thresholds_for_a_thirty_day_slo_are_the_workbooks() {
        let t: Vec<f64> = RULES.iter().map(|r| r.threshold(30 * DAY)).collect();
        assert!(
            near(t[0], 14.4) && near(t[1], 6.0) && near(t[2], 1.0),
            "{t:?}"
        );
        // A 28-day SLO scales them: 2 % of 672 h in 1 h is 13.44.
        assert!(near(RULES[0].threshold(28 * DAY), 13.44));
    }

    #[test]
    fn worked_example_burn_15_pages() {
        // domain.md §3.2: 99.9 % SLO, 1.5 % errors over 1 h → burn 15 > 14.4.
        assert!(near(burn_rate(0.015, 0.999), 15.0));
        let state = evaluate(&thirty_day(0.999), constant(|_| 0.015, 10_000.0));
        assert_eq!(state.level, BurnLevel::Page);
        assert!(near(state.burn("1h").unwrap(), 15.0));
        assert!(near(state.burn("5m").unwrap(), 15.0));
        assert!(
            state.reason.contains("1h 15.0× and 5m 15.0× ≥ 14.4"),
            "{}",
            state.reason
        );
        // The budget burned in that hour: 15 / 720 ≈ 2.1 %.
        assert!(near(15.0 / 720.0, 0.020_833_333_333_333_332));
    }

    #[test]
    fn both_windows_must_exceed() {
        // A spike in the last 5 minutes alone does not page.
        let spike = constant(|w| if w <= minutes(5) { 0.05 } else { 0.0001 }, 10_000.0);
        assert_eq!(evaluate(&thirty_day(0.999), spike).level, BurnLevel::Ok);
        // An hour of errors that stopped 10 minutes ago does not either.
        let over = constant(
            |w| {
                if w <= minutes(30) {
                    0.0
                } else if w <= hours(1) {
                    0.015
                } else {
                    0.0001
                }
            },
            10_000.0,
        );
        assert_eq!(evaluate(&thirty_day(0.999), over).level, BurnLevel::Ok);
    }

    #[test]
    fn slow_burn_is_a_ticket() {
        // 1.5× for days: 3 d / 6 h at ≥ 1 fire, the page pairs do not.
        let state = evaluate(&thirty_day(0.999), constant(|_| 0.0015, 10_000.0));
        assert_eq!(state.level, BurnLevel::Ticket);
        assert!(
            state.reason.starts_with("3d 1.5× and 6h 1.5× ≥ 1.0"),
            "{}",
            state.reason
        );
        assert!(!state.low_traffic);
    }

    #[test]
    fn low_traffic_holds_a_page_back_to_a_ticket() {
        // 10 % errors at 60 requests an hour: 6 bad events in 1 h, 36 in 6 h.
        let few = constant(|_| 0.1, 60.0);
        let state = evaluate(&thirty_day(0.999), &few);
        assert_eq!(
            state.level,
            BurnLevel::Page,
            "36 bad events in 6 h are enough"
        );
        let strict = Objective {
            min_bad_events: 50.0,
            ..thirty_day(0.999)
        };
        let state = evaluate(&strict, &few);
        assert_eq!(state.level, BurnLevel::Ticket);
        assert!(state.low_traffic);
        assert!(
            state.reason.contains("only 6 bad events in 1h"),
            "{}",
            state.reason
        );
    }

    #[test]
    fn budget_remaining_follows_pyrra() {
        let c = Counts {
            good: 999_500.0,
            valid: 1_000_000.0,
        };
        // 0.05 % errors against a 0.1 % budget: half of it left.
        assert!(near(budget_remaining(c, 0.999).unwrap(), 0.5));
        let over = Counts {
            good: 997_000.0,
            valid: 1_000_000.0,
        };
        assert!(near(budget_remaining(over, 0.999).unwrap(), -2.0));
        assert_eq!(budget_remaining(Counts::default(), 0.999), None);
    }

    #[test]
    fn no_traffic_is_ok_without_numbers() {
        let state = evaluate(&thirty_day(0.999), |_| None);
        assert_eq!(state.level, BurnLevel::Ok);
        assert_eq!(state.budget_remaining, None);
        assert!(state.windows.iter().all(|w| w.burn_rate.is_none()));
    }

    #[test]
    fn windows_cover_rules_and_budget_in_promql_form() {
        let names: Vec<String> = windows(30 * DAY).into_iter().map(promql_duration).collect();
        assert_eq!(names, ["5m", "30m", "1h", "6h", "3d", "30d"]);
        assert_eq!(promql_duration(Duration::from_secs(90)), "90s");
    }

    /// Tenants missing from some windows (a new tenant has no 30d count
    /// yet, a quiet one no 5m count) get exactly the counts a look-up by
    /// name finds: each window's own, or none.
    #[test]
    fn report_per_tenant_reads_each_window_of_that_tenant_only() {
        use std::collections::BTreeMap;
        use std::sync::Arc;
        let all = windows(30 * DAY);
        let mut by_window = BTreeMap::new();
        for (i, w) in all.iter().enumerate() {
            let mut by_tenant = BTreeMap::new();
            for (j, tenant) in ["a", "b", "c", "d", "e"].iter().enumerate() {
                // A gap pattern that differs per window and per tenant.
                if (i + j) % 3 == 0 {
                    continue;
                }
                let valid = 1_000.0 * (i + 1) as f64 * (j + 1) as f64;
                by_tenant.insert(
                    (*tenant).to_owned(),
                    Counts {
                        good: valid * (1.0 - 0.001 * (j * j + i) as f64),
                        valid,
                    },
                );
            }
            by_window.insert(
                *w,
                Arc::new(WindowCounts {
                    global: None,
                    by_tenant,
                }),
            );
        }
        let slo = SloCounts {
            name: "api".into(),
            service: "api".into(),
            target: 0.999,
            window: 30 * DAY,
            min_bad_events: 0.0,
            windows: by_window.clone(),
        };
        let judged = report(&slo);
        assert_eq!(judged.by_tenant.len(), 5);
        let objective = thirty_day(0.999);
        let objective = Objective {
            min_bad_events: 0.0,
            ..objective
        };
        for (tenant, state) in &judged.by_tenant {
            let expected = evaluate(&objective, |w| {
                by_window
                    .get(&w)
                    .and_then(|c| c.by_tenant.get(tenant))
                    .copied()
            });
            assert_eq!(state, &expected, "tenant {tenant}");
        }
        assert_ne!(judged.by_tenant["a"], judged.by_tenant["b"]);
    }
}
