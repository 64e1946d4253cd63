//! SLO lines for the customer detail: each SLO's burn state for the
//! tenant, its budget, and the windows behind the verdict.

use ratatui::text::{Line, Span};

use super::theme;
use super::widgets::{field, sparkline};
use crate::core::text;
use crate::insight::slo::BurnLevel;
use crate::model::Model;

/// Feature usage, the 30-day users line, each SLO's state for `tenant`,
/// and the metrics warnings that concern it.
pub(super) fn customer_lines(model: &Model, tenant: &str) -> Vec<Line<'static>> {
    let metrics = &model.data.metrics;
    let mut lines = Vec::new();
    if let Some(used) = metrics.by_tenant.get(tenant).and_then(|m| m.features_used) {
        lines.push(field(
            "features",
            format!("{used:.0} key features used in 28 d"),
        ));
    }
    if let Some(users) = metrics
        .active_users_history
        .get(tenant)
        .filter(|s| !s.is_empty())
    {
        let max = users.iter().copied().fold(0.0_f64, f64::max);
        lines.push(field(
            "users 30 d",
            format!("{}  max {max:.0}", sparkline(users)),
        ));
    }
    for report in &metrics.slos {
        let Some(state) = report.by_tenant.get(tenant) else {
            continue;
        };
        let budget = state.budget_remaining.map_or_else(
            || "budget —".into(),
            |b| format!("budget {:.0}% left", b * 100.0),
        );
        let mut spans = vec![
            Span::styled(
                format!("{:>12}  ", format!("SLO {}", report.name)),
                theme::HEADER,
            ),
            Span::styled(
                format!("{:<6} ", state.level.to_string().to_uppercase()),
                theme::burn(state.level),
            ),
            Span::raw(format!(
                "{} ≥ {} over {} · {budget}",
                report.service,
                text::percent(report.target),
                report.window
            )),
        ];
        if state.low_traffic {
            spans.push(Span::styled(" · low traffic", theme::MUTED));
        }
        lines.push(Line::from(spans));
        let burns: Vec<String> = state
            .windows
            .iter()
            .map(|w| {
                w.burn_rate.map_or_else(
                    || format!("{} —", w.window),
                    |b| format!("{} {b:.1}×", w.window),
                )
            })
            .collect();
        lines.push(Line::from(Span::styled(
            format!("{:>12}  burn {}", "", burns.join("  ")),
            theme::MUTED,
        )));
        if state.level != BurnLevel::Ok {
            lines.push(Line::from(Span::styled(
                format!("{:>12}  {}", "", state.reason),
                theme::MUTED,
            )));
        }
    }
    let needle = format!("tenant {tenant}:");
    for warning in metrics.warnings.iter().filter(|w| w.contains(&needle)) {
        lines.push(Line::from(Span::styled(
            format!("{:>12}  {warning}", "warning"),
            theme::WARN,
        )));
    }
    lines
}
