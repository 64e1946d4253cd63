//! What `/` and `:filter` type: fuzzy words and field rules, AND-ed.
//!
//! A term with an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `~`, `!~`) is
//! a field rule, and so is the word `breached`; every other word is matched
//! fuzzily (see `view::filter_pattern`). Spaces around an operator are
//! allowed (`priority >= high` is one rule) and a value with spaces is
//! quoted (`customer="acme corp"`).
//!
//! The fields depend on the pane:
//! - inquiries: those of saved views (`status`, `priority`, `customer`,
//!   `segment`, `sla`, `assignee`, `tag`, … see `views::expr`), and
//!   `breached` for `sla<0`;
//! - customers: `customer`, `segment`, `owner`, `health` (a band, or the
//!   score compared as a number), `arr` (`arr>=100k`), `renewal` (days to
//!   renewal, `renewal<30d`);
//! - incidents: `severity` (`sev<=2`), `service`.
//!
//! A rule that does not parse is left out and its error returned, so the
//! footer says why instead of the pane silently showing nothing.

use super::views::expr::{self, Expr, Op};
use crate::core::domain::{Account, Incident, Segment, Severity};
use crate::insight::health::Band;
use crate::insight::join::CustomerRow;

/// Which pane's rows a filter is for (the pane itself lives in `view`,
/// which depends on this module, not the other way round).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Inquiries,
    Customers,
    Incidents,
}

impl Pane {
    pub const ALL: [Self; 3] = [Self::Inquiries, Self::Customers, Self::Incidents];

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Inquiries => "inquiries",
            Self::Customers => "customers",
            Self::Incidents => "incidents",
        }
    }
}

/// Whether a term holds an operator, and so is a field rule.
fn has_operator(term: &str) -> bool {
    term.chars().any(Op::is_operator_char)
}

/// Whether a term ends with an operator (`priority>=`, waiting for its
/// value in the next term).
fn ends_with_operator(term: &str) -> bool {
    term.chars().next_back().is_some_and(Op::is_operator_char)
}

/// A parsed filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// The fuzzy words, space-separated (for `nucleo`'s pattern).
    pub words: String,
    pub rules: Vec<Rule>,
}

/// One field rule of one pane.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// An inquiry comparison, in the saved views' language.
    Inquiry(Expr),
    Customer(CustomerRule),
    Incident(IncidentRule),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CustomerRule {
    /// Name, id or tenant: `=` exact, `~` contains (ASCII case ignored).
    Customer(Op, String),
    Owner(Op, String),
    Segment(Op, Segment),
    Band(Op, Band),
    /// Health score, 0–100.
    Score(Op, f64),
    Arr(Op, f64),
    /// Days to renewal.
    Renewal(Op, i32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum IncidentRule {
    Severity(Op, Severity),
    Service(Op, String),
}

/// The fields of each pane, for error messages and the help.
#[must_use]
pub fn fields(pane: Pane) -> &'static str {
    match pane {
        Pane::Inquiries => {
            "status, priority, customer, segment, sla, breached, assignee, group, tag, area, subject, requester, org"
        }
        Pane::Customers => "customer, segment, owner, health, arr, renewal",
        Pane::Incidents => "severity, service",
    }
}

/// The terms of a filter: whitespace-separated outside quotes, with the
/// spaces around an operator closed up.
fn terms(text: &str) -> Vec<String> {
    let mut raw: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in text.chars() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == q {
                    quote = None;
                }
            }
            // Quotes open a value only after an operator: `'word` alone is
            // nucleo's exact match.
            None if (c == '"' || c == '\'')
                && (has_operator(&current)
                    || current.is_empty() && raw.last().is_some_and(|t| ends_with_operator(t))) =>
            {
                quote = Some(c);
                current.push(c);
            }
            None if c.is_whitespace() => {
                if !current.is_empty() {
                    raw.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        raw.push(current);
    }
    // `priority >= high` → `priority>=high`. A leading `!` alone is
    // nucleo's "does not contain" (`!csv`), not an operator.
    let starts_op = |t: &str| {
        let mut chars = t.chars();
        chars
            .next()
            .is_some_and(|c| Op::starting(c, chars.next()).is_some())
    };
    let mut out: Vec<String> = Vec::new();
    for term in raw {
        match out.last_mut() {
            Some(last) if ends_with_operator(last) || starts_op(&term) => last.push_str(&term),
            _ => out.push(term),
        }
    }
    out
}

/// Parse what was typed for a pane: the query, and the first rule that
/// did not parse (left out of the query), said for the footer.
#[must_use]
pub fn parse(pane: Pane, text: &str) -> (Query, Option<String>) {
    let mut words = Vec::new();
    let mut rules = Vec::new();
    let mut error = None;
    for term in terms(text) {
        let rule = if term.eq_ignore_ascii_case("breached") {
            match pane {
                Pane::Inquiries => expr::parse("sla < 0")
                    .map(Rule::Inquiry)
                    .map_err(|e| e.message),
                _ => Err("breached applies to the inquiries pane".to_owned()),
            }
        } else if has_operator(&term) {
            rule(pane, &term)
        } else {
            words.push(term);
            continue;
        };
        match rule {
            Ok(rule) => rules.push(rule),
            Err(message) => {
                error.get_or_insert_with(|| format!("filter {term}: {message}"));
            }
        }
    }
    (
        Query {
            words: words.join(" "),
            rules,
        },
        error,
    )
}

fn rule(pane: Pane, term: &str) -> Result<Rule, String> {
    if pane == Pane::Inquiries {
        return expr::parse(term).map(Rule::Inquiry).map_err(|e| e.message);
    }
    // The saved views' syntax, with these panes' own fields. A list
    // (`a,b`) is read back as one value, as these fields take one.
    let expr::Comparison { field, op, values } = expr::comparison(term).map_err(|e| e.message)?;
    let field = field.to_ascii_lowercase();
    let value = values.join(",");
    let value = value.as_str();
    let text_op = |op: Op| {
        if op.ordering() {
            Err(format!("{field} takes =, !=, ~ or !~"))
        } else {
            Ok(op)
        }
    };
    let eq_op = |op: Op| {
        if matches!(op, Op::Eq | Op::Ne) {
            Ok(op)
        } else {
            Err(format!("{field} takes = or !="))
        }
    };
    let number_op = |op: Op| {
        if matches!(op, Op::Contains | Op::NotContains) {
            Err(format!("{field} takes =, !=, <, <=, > or >="))
        } else {
            Ok(op)
        }
    };
    let lower = value.to_ascii_lowercase();
    match (pane, field.as_str()) {
        (Pane::Customers, "customer" | "name" | "account") => {
            Ok(Rule::Customer(CustomerRule::Customer(text_op(op)?, lower)))
        }
        (Pane::Customers, "owner" | "csm") => {
            Ok(Rule::Customer(CustomerRule::Owner(text_op(op)?, lower)))
        }
        (Pane::Customers, "segment") => {
            let segment = match lower.as_str() {
                "enterprise" => Segment::Enterprise,
                "mid-market" | "midmarket" | "mid" => Segment::MidMarket,
                "small" => Segment::Small,
                _ => {
                    return Err(format!(
                        "unknown segment {value:?} (enterprise, mid-market, small)"
                    ));
                }
            };
            Ok(Rule::Customer(CustomerRule::Segment(eq_op(op)?, segment)))
        }
        (Pane::Customers, "health") => {
            let band = match lower.as_str() {
                "red" => Some(Band::Red),
                "yellow" | "amber" => Some(Band::Yellow),
                "green" => Some(Band::Green),
                _ => None,
            };
            match (band, lower.parse::<f64>()) {
                (Some(band), _) => Ok(Rule::Customer(CustomerRule::Band(eq_op(op)?, band))),
                (None, Ok(score)) if (0.0..=100.0).contains(&score) => {
                    Ok(Rule::Customer(CustomerRule::Score(number_op(op)?, score)))
                }
                _ => Err(format!(
                    "health is red, yellow, green or a score 0–100, not {value:?}"
                )),
            }
        }
        (Pane::Customers, "arr") => {
            let (digits, scale) = match lower.as_bytes().last() {
                Some(b'k') => (&lower[..lower.len() - 1], 1e3),
                Some(b'm') => (&lower[..lower.len() - 1], 1e6),
                _ => (lower.as_str(), 1.0),
            };
            let arr: f64 = digits
                .trim_start_matches('$')
                .replace([',', '_'], "")
                .parse()
                .map_err(|_| format!("arr is an amount (100000, 100k, 1.5m), not {value:?}"))?;
            Ok(Rule::Customer(CustomerRule::Arr(
                number_op(op)?,
                arr * scale,
            )))
        }
        (Pane::Customers, "renewal") => {
            let days: i32 = lower
                .strip_suffix('d')
                .unwrap_or(&lower)
                .parse()
                .map_err(|_| format!("renewal is in days (30d), not {value:?}"))?;
            Ok(Rule::Customer(CustomerRule::Renewal(number_op(op)?, days)))
        }
        (Pane::Incidents, "severity" | "sev") => {
            let level = lower
                .strip_prefix("sev")
                .unwrap_or(&lower)
                .parse::<u8>()
                .ok()
                .and_then(|n| match n {
                    1 => Some(Severity::Sev1),
                    2 => Some(Severity::Sev2),
                    3 => Some(Severity::Sev3),
                    4 => Some(Severity::Sev4),
                    _ => None,
                })
                .ok_or_else(|| format!("severity is sev1 to sev4, not {value:?}"))?;
            Ok(Rule::Incident(IncidentRule::Severity(
                number_op(op)?,
                level,
            )))
        }
        (Pane::Incidents, "service") => {
            Ok(Rule::Incident(IncidentRule::Service(text_op(op)?, lower)))
        }
        _ => Err(format!(
            "unknown field {field:?} for {} (fields: {})",
            pane.label(),
            fields(pane)
        )),
    }
}

/// `text op value` for text rules (`value` lower-cased).
fn text_matches(op: Op, text: &str, value: &str) -> bool {
    match op {
        Op::Eq => text.eq_ignore_ascii_case(value),
        Op::Ne => !text.eq_ignore_ascii_case(value),
        // Few rows (customers, incidents): an allocation each is cheap.
        Op::Contains => text.to_ascii_lowercase().contains(value),
        Op::NotContains => !text.to_ascii_lowercase().contains(value),
        _ => false,
    }
}

impl CustomerRule {
    #[must_use]
    pub fn matches(&self, row: &CustomerRow, account: &Account) -> bool {
        match self {
            Self::Customer(op, v) => {
                let hit = |t: &str| text_matches(Op::Eq, t, v);
                match op {
                    Op::Eq => hit(&account.name) || hit(&account.id) || hit(&account.tenant),
                    Op::Ne => !(hit(&account.name) || hit(&account.id) || hit(&account.tenant)),
                    _ => text_matches(*op, &account.name, v),
                }
            }
            Self::Owner(op, v) => text_matches(*op, &account.owner, v),
            Self::Segment(op, s) => op.order(account.segment == *s, true),
            Self::Band(op, b) => op.order(row.health.band == *b, true),
            // No score (no data): neither above nor below anything.
            Self::Score(op, s) => row.health.score.is_some_and(|x| op.order(x, *s)),
            Self::Arr(op, a) => op.order(account.arr, *a),
            Self::Renewal(op, d) => row.renewal_days.is_some_and(|x| op.order(x, *d)),
        }
    }
}

impl IncidentRule {
    #[must_use]
    pub fn matches(&self, incident: &Incident) -> bool {
        match self {
            // SEV1 is the most severe: `sev<=2` means SEV1 or SEV2, which
            // is the enum's order already.
            Self::Severity(op, s) => op.order(incident.severity, *s),
            Self::Service(op, v) => text_matches(*op, incident.service.as_deref().unwrap_or(""), v),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn rules_and_words_are_told_apart() {
        assert_eq!(
            terms("acme priority >= high  \"x y\" customer = 'Acme Corp' !csv"),
            vec![
                "acme",
                "priority>=high",
                "\"x",
                "y\"",
                "customer='Acme Corp'",
                "!csv"
            ]
        );
        let (q, error) = parse(Pane::Inquiries, "acme priority>=high csv breached");
        assert_eq!(error, None);
        assert_eq!(q.words, "acme csv");
        assert_eq!(q.rules.len(), 2);
    }

    #[test]
    fn bad_rules_say_why_and_are_left_out() {
        let cases = [
            (Pane::Inquiries, "priority>=hihg", "unknown priority"),
            (Pane::Inquiries, "colour=red", "unknown field"),
            (Pane::Inquiries, "sla<soon", "invalid duration"),
            (Pane::Customers, "colour=red", "fields: customer, segment"),
            (Pane::Customers, "segment=huge", "unknown segment"),
            (Pane::Customers, "segment>enterprise", "takes = or !="),
            (Pane::Customers, "arr>lots", "arr is an amount"),
            (Pane::Customers, "breached", "inquiries pane"),
            (Pane::Incidents, "sev<=9", "sev1 to sev4"),
            (Pane::Incidents, "service>api", "takes =, !=, ~ or !~"),
        ];
        for (pane, text, needle) in cases {
            let (q, error) = parse(pane, &format!("acme {text}"));
            let error = error.unwrap_or_default();
            assert!(error.contains(needle), "{text}: {error}");
            assert!(error.starts_with(&format!("filter {text}")), "{error}");
            assert!(q.rules.is_empty(), "{text}");
            assert_eq!(q.words, "acme");
        }
    }

    #[test]
    fn other_panes_read_rules_in_the_views_syntax() {
        let (q, e) = parse(
            Pane::Customers,
            "owner = \"Dana Lee\" arr>=1,500,000 customer~acme",
        );
        assert_eq!(e, None);
        assert_eq!(
            q.rules,
            vec![
                Rule::Customer(CustomerRule::Owner(Op::Eq, "dana lee".into())),
                Rule::Customer(CustomerRule::Arr(Op::Ge, 1.5e6)),
                Rule::Customer(CustomerRule::Customer(Op::Contains, "acme".into())),
            ]
        );
        // The views' own errors, named for the term.
        let (_, e) = parse(Pane::Incidents, "service=\"api");
        assert!(e.unwrap_or_default().contains("unclosed quote"));
        let (_, e) = parse(Pane::Customers, "=enterprise");
        assert!(e.unwrap_or_default().contains("expected a field name"));
    }

    #[test]
    fn customer_and_incident_values() {
        let (q, e) = parse(
            Pane::Customers,
            "arr >= 1.5m renewal<30d health<60 health=red segment!=small",
        );
        assert_eq!(e, None);
        assert_eq!(
            q.rules,
            vec![
                Rule::Customer(CustomerRule::Arr(Op::Ge, 1.5e6)),
                Rule::Customer(CustomerRule::Renewal(Op::Lt, 30)),
                Rule::Customer(CustomerRule::Score(Op::Lt, 60.0)),
                Rule::Customer(CustomerRule::Band(Op::Eq, Band::Red)),
                Rule::Customer(CustomerRule::Segment(Op::Ne, Segment::Small)),
            ]
        );
        let (q, _) = parse(Pane::Incidents, "sev<=2");
        let Rule::Incident(rule) = &q.rules[0] else {
            panic!("an incident rule")
        };
        let mut incident = Incident {
            id: "1".into(),
            title: "Checkout down".into(),
            status: crate::core::domain::IncidentStatus::Triggered,
            severity: Severity::Sev2,
            service: None,
            started_at: jiff::Timestamp::UNIX_EPOCH,
            responders: Vec::new(),
            tenants: Vec::new(),
            url: None,
            notes: Vec::new(),
            resolved_at: None,
            details: Default::default(),
        };
        assert!(rule.matches(&incident));
        incident.severity = Severity::Sev3;
        assert!(!rule.matches(&incident));
    }
}
