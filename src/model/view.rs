//! Pane view state: focus, row order (filter + sort), selection and scroll.
//!
//! The order of each pane is a list of indices into the data, recomputed
//! when data, filter or sort change — never while rendering, so a frame with
//! 100k inquiries only touches the rows it shows.

use super::Model;
use crate::core::domain::Inquiry;
use crate::model::layout;

/// The three panes, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pane {
    Inquiries = 0,
    Customers = 1,
    Incidents = 2,
}

impl Pane {
    pub const ALL: [Self; 3] = [Self::Inquiries, Self::Customers, Self::Incidents];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Inquiries => "Open inquiries",
            Self::Customers => "At-risk customers",
            Self::Incidents => "Incidents",
        }
    }

    #[must_use]
    pub fn next(self) -> Self {
        Self::ALL[(self as usize + 1) % 3]
    }

    #[must_use]
    pub fn prev(self) -> Self {
        Self::ALL[(self as usize + 2) % 3]
    }

    /// Sort modes offered by `s`, the first being the default.
    #[must_use]
    pub fn sorts(self) -> &'static [SortMode] {
        match self {
            Self::Inquiries => &[
                SortMode::SlaUrgency,
                SortMode::Priority,
                SortMode::Newest,
                SortMode::Customer,
            ],
            Self::Customers => &[
                SortMode::Attention,
                SortMode::Health,
                SortMode::Arr,
                SortMode::Renewal,
            ],
            Self::Incidents => &[SortMode::Severity, SortMode::Newest],
        }
    }
}

impl From<Pane> for super::query::Pane {
    fn from(pane: Pane) -> Self {
        match pane {
            Pane::Inquiries => Self::Inquiries,
            Pane::Customers => Self::Customers,
            Pane::Incidents => Self::Incidents,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
pub enum SortMode {
    /// "Most urgent" first: see [`urgency`].
    #[strum(serialize = "urgency")]
    SlaUrgency,
    #[strum(serialize = "priority")]
    Priority,
    #[strum(serialize = "newest")]
    Newest,
    #[strum(serialize = "customer")]
    Customer,
    #[strum(serialize = "attention")]
    Attention,
    #[strum(serialize = "health")]
    Health,
    #[strum(serialize = "ARR")]
    Arr,
    #[strum(serialize = "renewal")]
    Renewal,
    #[strum(serialize = "severity")]
    Severity,
}

/// One pane's view of its rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaneView {
    /// Indices into the pane's data, sorted, before filtering.
    pub sorted: std::sync::Arc<Vec<usize>>,
    /// Indices into the pane's data, filtered and sorted: the rows shown.
    /// Without a filter it is `sorted` itself, shared rather than copied
    /// (100k indices on every re-filter otherwise).
    pub order: std::sync::Arc<Vec<usize>>,
    pub selected: usize,
    /// First visible row.
    pub offset: usize,
    /// Applied filter as typed: fuzzy words and field rules (`query`).
    pub filter: String,
    /// Why a field rule of `filter` was left out, if one was.
    pub filter_error: Option<String>,
    /// Index into `Pane::sorts`.
    pub sort: usize,
    /// Id of the selected item, so the selection follows it across re-sorts.
    pub selected_id: Option<String>,
    /// When the user last moved this pane's cursor: for a minute after,
    /// a new major incident does not take the cursor away from them.
    pub moved_at: Option<jiff::Timestamp>,
}

/// The sections of incident mode, in `tab` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Section {
    #[default]
    Customers,
    Inquiries,
    Timeline,
}

impl Section {
    pub const ALL: [Self; 3] = [Self::Customers, Self::Inquiries, Self::Timeline];

    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Customers => "Affected customers",
            Self::Inquiries => "Linked inquiries",
            Self::Timeline => "Timeline",
        }
    }

    #[must_use]
    pub fn next(self) -> Self {
        Self::ALL[(self as usize + 1) % 3]
    }

    #[must_use]
    pub fn prev(self) -> Self {
        Self::ALL[(self as usize + 2) % 3]
    }
}

/// What the detail overlay shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Inquiry(String),
    /// Account id.
    Customer(String),
    Incident(String),
}

/// What covers the panes, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help {
        scroll: u16,
    },
    Detail {
        target: Target,
        scroll: u16,
    },
    /// Incident mode: one incident from the customers' side. `rows` is the
    /// cursor in the customers and inquiries sections; `scroll` the
    /// timeline's first line.
    Incident {
        id: String,
        section: Section,
        rows: [usize; 2],
        scroll: u16,
    },
    /// The shift handover report just written (`H`), to read in place.
    Handover {
        scroll: u16,
    },
    /// Every write and its delivery state; `selected` indexes
    /// `Model::writes`, and `confirm` asks before cancelling it.
    Journal {
        selected: usize,
        confirm: bool,
    },
    /// Voice of the customer (`Derived::voc`).
    Voc {
        scroll: u16,
    },
    /// The KPIs of every window.
    Kpi {
        scroll: u16,
    },
}

/// Case-insensitive substring test without allocating: ASCII letters fold,
/// everything else (Japanese included) compares exactly. Candidate starts
/// are found with SIMD `memchr`, which keeps a 100k-row filter within a
/// keystroke's budget.
pub(crate) fn contains_ci(haystack: &str, needle_lower: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle_lower.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    if h.len() < n.len() {
        return false;
    }
    let last_start = h.len() - n.len();
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), &h[..=last_start]).any(|i| {
        h[i + 1..i + n.len()]
            .iter()
            .zip(rest)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// Inquiries due within this are "about to breach" and ranked with the
/// breached ones.
pub const ABOUT_TO_BREACH: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// What "most urgent" means, as a sort key (smallest first): inquiries
/// breached or due within [`ABOUT_TO_BREACH`] come first, ranked by
/// priority and then by how far past (or close to) breach they are — an
/// urgent ticket breached 35 min ago before a low one breached 5 h ago; then
/// the rest by time left, priority breaking ties; paused clocks last.
#[must_use]
pub fn urgency(inquiry: &Inquiry, now: jiff::Timestamp) -> (u8, i64, i64) {
    let priority = i64::from(inquiry.priority as u8);
    match inquiry.sla {
        Some(s) if s.due <= now + ABOUT_TO_BREACH => (0, priority, s.due.as_second()),
        Some(s) => (1, s.due.as_second(), priority),
        None => (2, priority, inquiry.created_at.as_second()),
    }
}

/// The rule of [`urgency`] in words, for the pane title and the help.
pub const URGENCY_RULE: &str =
    "breached or due within 1h first, by priority then time; then by time left";

/// Separates the fields of a filter haystack (a control character no
/// sanitised field contains).
const FIELD_SEP: char = '\u{1f}';

/// The filter as a fuzzy pattern: each word must match (AND), in any
/// order, with Unicode case folding and accents ignored ("acme csv" finds
/// "ACME Corp … CSV export"; "resume" finds "Résumé").
#[must_use]
pub fn filter_pattern(filter: &str) -> nucleo_matcher::pattern::Pattern {
    nucleo_matcher::pattern::Pattern::parse(
        filter,
        nucleo_matcher::pattern::CaseMatching::Ignore,
        nucleo_matcher::pattern::Normalization::Smart,
    )
}

/// Which characters (by index) of `text` the filter's words match, for
/// highlighting: every word that matches inside this one field.
#[must_use]
pub fn filter_highlights(filter: &str, text: &str) -> Vec<usize> {
    if filter.trim().is_empty() {
        return Vec::new();
    }
    // Field rules (`priority>=high`) are not text to find.
    let (query, _) = super::query::parse(super::query::Pane::Inquiries, filter);
    let pattern = filter_pattern(&query.words);
    let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
    let mut chars = Vec::new();
    let mut indices = Vec::new();
    for atom in &pattern.atoms {
        let _ = atom.indices(
            nucleo_matcher::Utf32Str::new(text, &mut chars),
            &mut matcher,
            &mut indices,
        );
    }
    indices.sort_unstable();
    indices.dedup();
    indices.into_iter().map(|i| i as usize).collect()
}

impl Model {
    /// Re-sort a pane after its data or sort mode changed, then re-apply
    /// its filter.
    pub(crate) fn refresh_order(&mut self, pane: Pane) {
        let sort = pane.sorts()[self.panes[pane as usize].sort % pane.sorts().len()];
        self.panes[pane as usize].sorted = std::sync::Arc::new(match pane {
            Pane::Inquiries => self.sorted_inquiries(sort),
            Pane::Customers => self.sorted_customers(sort),
            Pane::Incidents => self.sorted_incidents(sort),
        });
        self.refilter(pane);
    }

    /// Apply a pane's filter to its sorted rows, keeping the selection on
    /// the same item where it still exists. Filtering never changes the
    /// order, so a keystroke in the filter prompt is one linear scan, with
    /// no sort.
    pub(crate) fn refilter(&mut self, pane: Pane) {
        let (query, error) = super::query::parse(pane.into(), &self.panes[pane as usize].filter);
        self.panes[pane as usize].filter_error = error;
        let view = &self.panes[pane as usize];
        let needle = query.words.trim();
        let pattern = filter_pattern(needle);
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let mut haystack = String::new();
        let mut chars = Vec::new();
        let scope = self.scope_rows(pane);
        let saved_view = (pane == Pane::Inquiries && self.view != crate::model::views::ALL)
            .then(|| self.settings.views.get(self.view))
            .flatten();
        let order = if needle.is_empty()
            && query.rules.is_empty()
            && saved_view.is_none()
            && scope.is_none()
        {
            std::sync::Arc::clone(&view.sorted)
        } else {
            // Match in data order (sequential memory), then keep the sorted
            // order: scanning rows in sorted order would chase pointers all
            // over the heap and cost twice as much.
            let keep: Vec<bool> = (0..view.sorted.len())
                .map(|i| {
                    scope.as_ref().is_none_or(|in_scope| in_scope[i])
                        && saved_view.is_none_or(|v| self.in_view(v, i))
                        && query.rules.iter().all(|rule| self.rule_keeps(rule, i))
                        && (needle.is_empty() || {
                            haystack.clear();
                            self.haystack(pane, i, &mut haystack);
                            // Each word must match within one field: a
                            // fuzzy match scattered over the subject, the
                            // status and a tag would find nearly anything.
                            pattern.atoms.iter().all(|atom| {
                                haystack.split(FIELD_SEP).any(|field| {
                                    atom.score(
                                        nucleo_matcher::Utf32Str::new(field, &mut chars),
                                        &mut matcher,
                                    )
                                    .is_some()
                                })
                            })
                        })
                })
                .collect();
            std::sync::Arc::new(view.sorted.iter().copied().filter(|&i| keep[i]).collect())
        };
        let found = view.selected_id.as_deref().and_then(|id| {
            order
                .iter()
                .position(|&index| self.item_id(pane, index) == id)
        });
        let view = &mut self.panes[pane as usize];
        view.order = order;
        view.selected = found
            .unwrap_or(view.selected)
            .min(view.order.len().saturating_sub(1));
        self.remember_selection(pane);
        self.scroll_into_view(pane);
    }

    /// With an incident in scope (the jump key), which rows (by data index)
    /// of the customers or inquiries pane belong to it.
    fn scope_rows(&self, pane: Pane) -> Option<Vec<bool>> {
        let id = self.scope.as_deref()?;
        let index = self.data.incidents.iter().position(|i| i.id == id);
        let impact = index.and_then(|i| self.derived.impacts.get(i));
        match pane {
            Pane::Incidents => None,
            Pane::Customers => Some(
                self.derived
                    .customers
                    .iter()
                    .map(|row| {
                        impact.is_some_and(|x| x.affected.iter().any(|a| a.account == row.account))
                    })
                    .collect(),
            ),
            Pane::Inquiries => Some(
                self.data
                    .inquiries
                    .iter()
                    .map(|q| impact.is_some_and(|x| x.linked.iter().any(|l| l.inquiry == q.id)))
                    .collect(),
            ),
        }
    }

    /// Whether a field rule keeps an item (by data index) of its pane.
    fn rule_keeps(&self, rule: &super::query::Rule, index: usize) -> bool {
        use super::query::Rule;
        match rule {
            Rule::Inquiry(e) => {
                crate::model::views::eval(e, &self.data.inquiries[index], &self.view_context(index))
            }
            Rule::Customer(r) => {
                let row = &self.derived.customers[index];
                r.matches(row, &self.data.accounts[row.account])
            }
            Rule::Incident(r) => r.matches(&self.data.incidents[index]),
        }
    }

    /// What a filter on an inquiry (by data index) may look at.
    fn view_context(&self, index: usize) -> crate::model::views::Context<'_> {
        crate::model::views::Context {
            now: self.now,
            me: self.settings.me.as_deref(),
            account: self
                .derived
                .inquiry_account
                .get(index)
                .copied()
                .flatten()
                .map(|a| &self.data.accounts[a]),
        }
    }

    /// Whether an inquiry (by data index) is in a saved view.
    fn in_view(&self, view: &crate::model::views::View, index: usize) -> bool {
        view.matches(&self.data.inquiries[index], &self.view_context(index))
    }

    /// Show a saved view of the inquiries pane.
    pub(crate) fn set_view(&mut self, index: usize) {
        let Some(view) = self.settings.views.get(index) else {
            return;
        };
        let name = view.name.clone();
        let mine_without_me =
            view.filter == crate::model::views::Filter::Mine && self.settings.me.is_none();
        self.view = index;
        self.focus = Pane::Inquiries;
        self.refilter(Pane::Inquiries);
        let shown = self.panes[Pane::Inquiries as usize].order.len();
        if mine_without_me {
            self.say("view mine: set [ui] me in the config to your assignee name");
        } else {
            self.say(format!("view {name}: {shown} inquiries"));
        }
    }

    /// The text of an item (by data index) that the filter searches, its
    /// fields separated by spaces, appended to `out`.
    fn haystack(&self, pane: Pane, index: usize, out: &mut String) {
        use std::fmt::Write;
        let mut push = |field: &str| {
            out.push_str(field);
            out.push(FIELD_SEP);
        };
        match pane {
            Pane::Inquiries => {
                let inquiry = &self.data.inquiries[index];
                let account = self.derived.inquiry_account.get(index).copied().flatten();
                push(&inquiry.id);
                push(&inquiry.subject);
                match account {
                    Some(a) => push(&self.data.accounts[a].name),
                    None => push(inquiry.org.as_deref().unwrap_or_default()),
                }
                push(inquiry.assignee.as_deref().unwrap_or_default());
                push(inquiry.feature_area.as_deref().unwrap_or_default());
                push(inquiry.status.into());
                push(inquiry.priority.into());
                for tag in &inquiry.tags {
                    push(tag);
                }
            }
            Pane::Customers => {
                let row = &self.derived.customers[index];
                let a = &self.data.accounts[row.account];
                push(&a.name);
                push(&a.tenant);
                push(&a.owner);
                let _ = write!(out, "{}{FIELD_SEP}{}", a.segment, row.health.band);
            }
            Pane::Incidents => {
                let x = &self.data.incidents[index];
                push(&x.title);
                push(&x.id);
                push(x.service.as_deref().unwrap_or_default());
                let _ = write!(out, "{}", x.severity);
            }
        }
    }

    /// All inquiries in a sort order. Sort keys are computed once per row
    /// (`sort_by_cached_key`) so the sort compares small integers instead of
    /// chasing 100k structs; ties keep the data order.
    fn sorted_inquiries(&self, sort: SortMode) -> Vec<usize> {
        let inquiries = &self.data.inquiries;
        let accounts = &self.data.accounts;
        let account = |i: usize| self.derived.inquiry_account.get(i).copied().flatten();
        let mut order: Vec<usize> = (0..inquiries.len()).collect();
        let due = |i: usize| inquiries[i].sla.map_or(i64::MAX, |s| s.due.as_second());
        let priority = |i: usize| inquiries[i].priority as u8;
        match sort {
            SortMode::Priority => order.sort_by_cached_key(|&i| (priority(i), due(i))),
            SortMode::Newest => order
                .sort_by_cached_key(|&i| std::cmp::Reverse(inquiries[i].created_at.as_second())),
            SortMode::Customer => {
                // Rank accounts by name once; unknown customers go last.
                let mut by_name: Vec<usize> = (0..accounts.len()).collect();
                by_name.sort_by(|&a, &b| accounts[a].name.cmp(&accounts[b].name));
                let mut rank = vec![0; accounts.len()];
                for (r, &a) in by_name.iter().enumerate() {
                    rank[a] = r;
                }
                order.sort_by_cached_key(|&i| (account(i).map_or(usize::MAX, |a| rank[a]), due(i)));
            }
            _ => order.sort_by_cached_key(|&i| urgency(&inquiries[i], self.now)),
        }
        order
    }

    fn sorted_customers(&self, sort: SortMode) -> Vec<usize> {
        let rows = &self.derived.customers;
        let accounts = &self.data.accounts;
        let mut order: Vec<usize> = (0..rows.len()).collect();
        match sort {
            SortMode::Health => order.sort_by(|&a, &b| {
                rows[a]
                    .health
                    .score
                    .unwrap_or(50.0)
                    .total_cmp(&rows[b].health.score.unwrap_or(50.0))
            }),
            SortMode::Arr => order.sort_by(|&a, &b| {
                accounts[rows[b].account]
                    .arr
                    .total_cmp(&accounts[rows[a].account].arr)
            }),
            SortMode::Renewal => order.sort_by_key(|&i| rows[i].renewal_days.unwrap_or(i32::MAX)),
            // Attention order is how `join::derive` already sorted them,
            // except that the customers an open incident hurts lead, the
            // high-touch (enterprise) and biggest first: in an incident they
            // are who the CRE calls. The sort is stable, so the rest keep
            // the derived order.
            _ => order.sort_by_cached_key(|&i| {
                let row = &rows[i];
                if row.health.in_incident {
                    let account = &accounts[row.account];
                    #[allow(clippy::cast_possible_truncation)]
                    let arr = -(account.arr as i64);
                    (0, account.segment as u8, arr)
                } else {
                    (1, 0, 0)
                }
            }),
        }
        order
    }

    fn sorted_incidents(&self, sort: SortMode) -> Vec<usize> {
        let incidents = &self.data.incidents;
        let mut order: Vec<usize> = (0..incidents.len()).collect();
        match sort {
            SortMode::Newest => {
                order.sort_by(|&a, &b| incidents[b].started_at.cmp(&incidents[a].started_at))
            }
            _ => order.sort_by(|&a, &b| {
                let (x, y) = (&incidents[a], &incidents[b]);
                x.severity
                    .cmp(&y.severity)
                    .then(y.started_at.cmp(&x.started_at))
            }),
        }
        order
    }

    /// The stable id of an item (by data index) of a pane, borrowed.
    fn item_id(&self, pane: Pane, index: usize) -> &str {
        match pane {
            Pane::Inquiries => &self.data.inquiries[index].id,
            Pane::Customers => &self.data.accounts[self.derived.customers[index].account].id,
            Pane::Incidents => &self.data.incidents[index].id,
        }
    }

    /// The stable id of the item on a row of a pane.
    #[must_use]
    pub fn row_id(&self, pane: Pane, row: usize) -> Option<String> {
        let index = *self.panes[pane as usize].order.get(row)?;
        Some(self.item_id(pane, index).to_owned())
    }

    fn remember_selection(&mut self, pane: Pane) {
        let selected = self.panes[pane as usize].selected;
        self.panes[pane as usize].selected_id = self.row_id(pane, selected);
    }

    /// Move the selection by `delta` rows (clamped).
    pub(crate) fn move_selection(&mut self, pane: Pane, delta: isize) {
        let view = &mut self.panes[pane as usize];
        let last = view.order.len().saturating_sub(1);
        view.selected = view.selected.saturating_add_signed(delta).min(last);
        view.moved_at = Some(self.now);
        self.remember_selection(pane);
        self.scroll_into_view(pane);
    }

    /// Select a row by its on-screen position (mouse click).
    pub(crate) fn select_visible_row(&mut self, pane: Pane, visible_row: usize) {
        let view = &self.panes[pane as usize];
        let row = view.offset + visible_row;
        if row < view.order.len() {
            self.panes[pane as usize].selected = row;
            self.panes[pane as usize].moved_at = Some(self.now);
            self.remember_selection(pane);
        }
    }

    /// Adjust the scroll offset so the selected row is visible.
    pub(crate) fn scroll_into_view(&mut self, pane: Pane) {
        let rows = self.visible_rows(pane).max(1);
        let view = &mut self.panes[pane as usize];
        if view.selected < view.offset {
            view.offset = view.selected;
        } else if view.selected >= view.offset + rows {
            view.offset = view.selected + 1 - rows;
        }
        view.offset = view.offset.min(view.order.len().saturating_sub(1));
    }

    /// Data rows a pane can show at the current terminal size (as if it
    /// were focused, so tabs scroll correctly when they come into view).
    #[must_use]
    pub fn visible_rows(&self, pane: Pane) -> usize {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        layout::areas(area, pane).rows(pane)
    }

    /// How many items a pane has before filtering.
    #[must_use]
    pub fn total(&self, pane: Pane) -> usize {
        match pane {
            Pane::Inquiries => self.data.inquiries.len(),
            Pane::Customers => self.derived.customers.len(),
            Pane::Incidents => self.data.incidents.len(),
        }
    }

    /// Rows one page-up/down moves.
    pub(crate) fn page(&self, pane: Pane) -> isize {
        isize::try_from(self.visible_rows(pane).max(1)).unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_ci_folds_ascii_only() {
        assert!(contains_ci("Login FAILS", "fails"));
        assert!(contains_ci("ログインできません", "ログイン"));
        assert!(!contains_ci("abc", "abd"));
        assert!(contains_ci("abc", ""));
        assert!(contains_ci("xxABC", "abc"));
        assert!(!contains_ci("ab", "abc"));
        assert!(contains_ci("Ünïcode Straße", "straße"));
    }

    fn found(filter: &str, text: &str) -> bool {
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let mut chars = Vec::new();
        filter_pattern(filter)
            .score(
                nucleo_matcher::Utf32Str::new(text, &mut chars),
                &mut matcher,
            )
            .is_some()
    }

    #[test]
    fn the_filter_is_fuzzy_folds_unicode_case_and_ands_its_words() {
        // Words in any order, each must match.
        assert!(found("acme csv", "CSV export broken ACME Corp"));
        assert!(!found("acme pdf", "CSV export broken ACME Corp"));
        // Fuzzy: letters in order, gaps allowed.
        assert!(found("acmcrp", "Acme Corp"));
        // Unicode case folding and accents.
        assert!(found("ÉCOLE", "école normale"));
        assert!(found("straße", "STRASSE") || found("straße", "Straße"));
        assert!(found("resume", "Résumé upload"));
        assert_eq!(filter_highlights("acme", "the Acme Corp"), vec![4, 5, 6, 7]);
    }
}
