//! Saved views of the inquiries pane: the built-in ones (all open, mine,
//! unassigned, breaching within the hour, escalated) and the ones defined in
//! config as filter expressions (`expr`). A view narrows the queue before the
//! typed filter (`/`) does; both keep the pane's sort order.

pub mod expr;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use self::expr::{Expr, Field, Op, Value};
use crate::core::domain::{Account, Inquiry};
use crate::model::keymap::{KeyBinding, Keymap};

/// A saved view of the inquiries pane: `[[views]]` with a name, a filter
/// expression (see `crate::model::views`) and an optional key.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ViewConfig {
    pub name: String,
    pub filter: String,
    pub key: Option<String>,
}

/// How soon a clock must breach to count as "breaching" in the built-in view.
pub const BREACHING_WITHIN: SignedDuration = SignedDuration::from_hours(1);

/// What a view keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All,
    /// Assigned to `[ui] me`.
    Mine,
    Unassigned,
    /// SLA breached or breaching within [`BREACHING_WITHIN`].
    Breaching,
    /// Tagged `escalated…` (the marker the pane shows as ⇡).
    Escalated,
    Expr(Expr),
}

/// One saved view.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub name: String,
    /// A key of its own (config views only; built-ins have actions).
    pub key: Option<KeyBinding>,
    pub filter: Filter,
}

/// What a filter may look at besides the inquiry itself.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub now: Timestamp,
    pub me: Option<&'a str>,
    pub account: Option<&'a Account>,
}

/// The views in order: the five built-ins, then the configured ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Views {
    list: Vec<View>,
}

/// Index of each built-in view.
pub const ALL: usize = 0;
pub const MINE: usize = 1;
pub const UNASSIGNED: usize = 2;
pub const BREACHING: usize = 3;
pub const ESCALATED: usize = 4;

impl Default for Views {
    fn default() -> Self {
        let builtin = |name: &str, filter| View {
            name: name.into(),
            key: None,
            filter,
        };
        Self {
            list: vec![
                builtin("all open", Filter::All),
                builtin("mine", Filter::Mine),
                builtin("unassigned", Filter::Unassigned),
                builtin("breaching ≤1h", Filter::Breaching),
                builtin("escalated", Filter::Escalated),
            ],
        }
    }
}

impl Views {
    /// Built-ins plus `[[views]]`. Errors give the view's index, the field
    /// (`filter`, `key`, `name`) and the reason.
    pub fn from_config(
        configs: &[ViewConfig],
        keymap: &Keymap,
    ) -> Result<Self, (usize, &'static str, String)> {
        let mut views = Self::default();
        for (index, config) in configs.iter().enumerate() {
            let name = config.name.trim();
            if name.is_empty() {
                return Err((index, "name", "a view needs a name".into()));
            }
            let filter = expr::parse(&config.filter)
                .map_err(|e| (index, "filter", format!("{e} in {:?}", config.filter)))?;
            let key = config
                .key
                .as_deref()
                .map(|raw| {
                    let key: KeyBinding = raw.parse().map_err(|e| (index, "key", e))?;
                    if let Some(action) = keymap.action_of(&key) {
                        return Err((
                            index,
                            "key",
                            format!("key {key} is already bound to {action}"),
                        ));
                    }
                    if let Some(other) = views.list.iter().find(|v| v.key == Some(key)) {
                        return Err((
                            index,
                            "key",
                            format!("key {key} is already bound to view {:?}", other.name),
                        ));
                    }
                    Ok(key)
                })
                .transpose()?;
            views.list.push(View {
                name: name.to_owned(),
                key,
                filter: Filter::Expr(filter),
            });
        }
        Ok(views)
    }

    #[must_use]
    pub fn get(&self, index: usize) -> Option<&View> {
        self.list.get(index)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &View> {
        self.list.iter()
    }

    /// The configured view bound to a key, if any.
    #[must_use]
    pub fn by_key(&self, key: &KeyBinding) -> Option<usize> {
        self.list.iter().position(|v| v.key.as_ref() == Some(key))
    }
}

impl View {
    /// Whether the view keeps this inquiry.
    #[must_use]
    pub fn matches(&self, inquiry: &Inquiry, cx: &Context<'_>) -> bool {
        match &self.filter {
            Filter::All => true,
            Filter::Mine => cx
                .me
                .is_some_and(|me| inquiry.assignee.as_deref().is_some_and(|a| same(a, me))),
            Filter::Unassigned => inquiry.assignee.is_none(),
            Filter::Breaching => inquiry
                .sla
                .is_some_and(|s| s.due.duration_since(cx.now) < BREACHING_WITHIN),
            Filter::Escalated => inquiry.is_escalated(),
            Filter::Expr(e) => eval(e, inquiry, cx),
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn contains(haystack: &str, needle_lower: &str) -> bool {
    crate::model::contains_ci(haystack, needle_lower)
}

/// Whether an inquiry satisfies a filter expression.
pub(crate) fn eval(e: &Expr, inquiry: &Inquiry, cx: &Context<'_>) -> bool {
    match e {
        Expr::And(a, b) => eval(a, inquiry, cx) && eval(b, inquiry, cx),
        Expr::Or(a, b) => eval(a, inquiry, cx) || eval(b, inquiry, cx),
        Expr::Not(a) => !eval(a, inquiry, cx),
        Expr::Compare { field, op, values } => compare(*field, *op, values, inquiry, cx),
    }
}

fn compare(field: Field, op: Op, values: &[Value], inquiry: &Inquiry, cx: &Context<'_>) -> bool {
    match field {
        Field::Priority if !matches!(op, Op::Eq | Op::Ne) => {
            // Lower enum value = more urgent, so "≥ high" is "≤ High" in Ord.
            let Some(Value::Priority(p)) = values.first() else {
                return false;
            };
            match op {
                Op::Gt => inquiry.priority < *p,
                Op::Ge => inquiry.priority <= *p,
                Op::Lt => inquiry.priority > *p,
                Op::Le => inquiry.priority >= *p,
                _ => false,
            }
        }
        Field::Sla => {
            let left = inquiry.sla.map(|s| s.due.duration_since(cx.now));
            match (op, values.first(), left) {
                (Op::Eq, Some(Value::None), left) => left.is_none(),
                (Op::Ne, Some(Value::None), left) => left.is_some(),
                (Op::Lt, Some(Value::Duration(d)), Some(l)) => l < *d,
                (Op::Le, Some(Value::Duration(d)), Some(l)) => l <= *d,
                (Op::Gt, Some(Value::Duration(d)), Some(l)) => l > *d,
                (Op::Ge, Some(Value::Duration(d)), Some(l)) => l >= *d,
                _ => false,
            }
        }
        Field::Tag => {
            let any = |v: &Value| match v {
                Value::None => inquiry.tags.is_empty(),
                Value::Text(t) => inquiry.tags.iter().any(|tag| match op {
                    Op::Contains | Op::NotContains => contains(tag, t),
                    _ => same(tag, t),
                }),
                _ => false,
            };
            let hit = values.iter().any(any);
            if matches!(op, Op::Ne | Op::NotContains) {
                !hit
            } else {
                hit
            }
        }
        _ => {
            let hit = values.iter().any(|v| one(field, op, v, inquiry, cx));
            if matches!(op, Op::Ne | Op::NotContains) {
                !hit
            } else {
                hit
            }
        }
    }
}

/// Whether one value matches (before `!=`/`!~` negate the whole list).
fn one(field: Field, op: Op, value: &Value, inquiry: &Inquiry, cx: &Context<'_>) -> bool {
    let text: Option<&str> = match field {
        Field::Status => {
            return matches!(value, Value::Status(s) if *s == inquiry.status);
        }
        Field::Priority => {
            return matches!(value, Value::Priority(p) if *p == inquiry.priority);
        }
        Field::Segment => {
            return match value {
                Value::None => cx.account.is_none(),
                Value::Segment(s) => cx.account.is_some_and(|a| a.segment == *s),
                _ => false,
            };
        }
        Field::Assignee => inquiry.assignee.as_deref(),
        Field::Group => inquiry.group.as_deref(),
        Field::Customer => cx
            .account
            .map(|a| a.name.as_str())
            .or(inquiry.org.as_deref()),
        Field::Area => inquiry.feature_area.as_deref(),
        Field::Subject => Some(inquiry.subject.as_str()),
        Field::Requester => inquiry.requester.as_deref(),
        Field::Org => inquiry.org.as_deref(),
        Field::Tag | Field::Sla => return false,
    };
    match value {
        Value::None => text.is_none(),
        Value::Me => match (text, cx.me) {
            (Some(t), Some(me)) => same(t, me),
            _ => false,
        },
        Value::Text(v) => text.is_some_and(|t| match op {
            Op::Contains | Op::NotContains => contains(t, v),
            _ => {
                same(t, v)
                    || (field == Field::Customer
                        && cx
                            .account
                            .is_some_and(|a| same(&a.id, v) || same(&a.tenant, v)))
            }
        }),
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::core::domain::{InquiryStatus, Priority, SlaClock, SlaMetric};

    fn inquiry() -> Inquiry {
        let at: Timestamp = "2026-11-21T09:00:00Z".parse().unwrap();
        Inquiry {
            kind: None,
            id: "1".into(),
            subject: "Checkout fails".into(),
            status: InquiryStatus::Open,
            priority: Priority::High,
            org: Some("Acme Corp".into()),
            requester: Some("Yuki".into()),
            assignee: Some("Sam Agent".into()),
            group: Some("Support L2".into()),
            tags: vec!["vip".into(), "escalated_l2".into()],
            feature_area: Some("billing".into()),
            created_at: at,
            updated_at: at,
            sla: Some(SlaClock {
                metric: SlaMetric::FirstReply,
                due: "2026-11-21T10:30:00Z".parse().unwrap(),
                business_hours: false,
            }),
            replied: false,
            url: None,
            history: Default::default(),
            desk: Default::default(),
        }
    }

    fn keeps(filter: &str, me: Option<&str>) -> bool {
        let view = View {
            name: "t".into(),
            key: None,
            filter: Filter::Expr(expr::parse(filter).unwrap()),
        };
        let cx = Context {
            now: "2026-11-21T10:00:00Z".parse().unwrap(),
            me,
            account: None,
        };
        view.matches(&inquiry(), &cx)
    }

    #[test]
    fn expressions_select_what_they_say() {
        assert!(keeps("priority >= high", None));
        assert!(!keeps("priority > high", None));
        assert!(keeps("priority <= high and priority != urgent", None));
        assert!(keeps("status = new, open", None));
        assert!(!keeps("status != open", None));
        assert!(keeps("assignee = me", Some("sam agent")));
        assert!(!keeps("assignee = me", None));
        assert!(!keeps("assignee = none", None));
        assert!(keeps("tag = VIP and tag ~ escalated", None));
        assert!(keeps("tag != internal", None));
        assert!(keeps("customer ~ acme", None));
        assert!(keeps("group = \"support l2\" area = billing", None));
        assert!(keeps("sla < 1h and sla > 0", None));
        assert!(!keeps("sla < 0", None));
        assert!(keeps("sla != none", None));
        assert!(keeps("not segment = enterprise", None), "no account");
        assert!(keeps("subject ~ checkout or tag = x", None));
    }

    #[test]
    fn builtins() {
        let views = Views::default();
        let cx = Context {
            now: "2026-11-21T10:00:00Z".parse().unwrap(),
            me: Some("Sam Agent"),
            account: None,
        };
        let i = inquiry();
        for index in [ALL, MINE, BREACHING, ESCALATED] {
            assert!(views.get(index).unwrap().matches(&i, &cx), "{index}");
        }
        assert!(!views.get(UNASSIGNED).unwrap().matches(&i, &cx));
        let later = Context {
            now: "2026-11-21T08:00:00Z".parse().unwrap(),
            ..cx
        };
        assert!(!views.get(BREACHING).unwrap().matches(&i, &later));
    }

    #[test]
    fn config_views_are_checked() {
        let keymap = Keymap::default();
        let view = |filter: &str, key: Option<&str>| ViewConfig {
            name: "x".into(),
            filter: filter.into(),
            key: key.map(Into::into),
        };
        let views = Views::from_config(&[view("tag = vip", Some("alt-1"))], &keymap).unwrap();
        assert_eq!(views.len(), 6);
        assert_eq!(views.by_key(&"alt-1".parse().unwrap()), Some(5));
        let (index, field, message) =
            Views::from_config(&[view("tag = vip", None), view("tag = ", None)], &keymap)
                .unwrap_err();
        assert_eq!((index, field), (1, "filter"), "{message}");
        let (_, field, message) =
            Views::from_config(&[view("tag = vip", Some("q"))], &keymap).unwrap_err();
        assert_eq!(field, "key");
        assert!(message.contains("quit"), "{message}");
    }
}
