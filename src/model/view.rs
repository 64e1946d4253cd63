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
    /// Where the selected item was in the data (by index) when it was
    /// selected: checked against `selected_id` before use.
    pub selected_index: Option<usize>,
    /// What the filter's words kept, for the next keystroke.
    pub words: WordsCache,
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

impl Target {
    /// The same item as writes (and presence) name it.
    #[must_use]
    pub fn item(&self) -> crate::core::writes::Target {
        use crate::core::writes::Target as Item;
        match self {
            Self::Inquiry(id) => Item::Inquiry(id.clone()),
            Self::Customer(id) => Item::Customer(id.clone()),
            Self::Incident(id) => Item::Incident(id.clone()),
        }
    }
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

/// [`urgency`] as one number, smaller first, in 37 bits: the class (2
/// bits), then its two parts, seconds from `now` (32 bits) and the
/// priority (3 bits), in the class's order.
fn urgency_key(inquiry: &Inquiry, now: jiff::Timestamp) -> u64 {
    let priority = u64::from(inquiry.priority as u8);
    match inquiry.sla {
        Some(s) if s.due <= now + ABOUT_TO_BREACH => priority << 32 | seconds(s.due, now),
        Some(s) => 1 << 35 | seconds(s.due, now) << 3 | priority,
        None => 2 << 35 | priority << 32 | seconds(inquiry.created_at, now),
    }
}

/// A time as seconds from `now` in 32 bits, in the same order as the times
/// (68 years either way; beyond that, times compare as equal).
fn seconds(at: jiff::Timestamp, now: jiff::Timestamp) -> u64 {
    let from_now = at.as_second().saturating_sub(now.as_second());
    (from_now.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) - i64::from(i32::MIN)) as u64
}

/// Row indices `0..len` sorted by `key` (which uses at most `key_bits`
/// bits), ties in index order. Each key goes with its index into one `u64`,
/// key above index, so sorting is one `sort_unstable` of plain integers:
/// faster than sorting indices by a cached tuple key. When the two do not
/// fit in 64 bits, the keys are cached beside the indices instead.
fn sort_by_packed_key(len: usize, key_bits: u32, key: impl Fn(usize) -> u64) -> Vec<usize> {
    let index_bits = usize::BITS - len.leading_zeros();
    if key_bits + index_bits > u64::BITS {
        let mut order: Vec<usize> = (0..len).collect();
        order.sort_by_cached_key(|&i| key(i));
        return order;
    }
    let mut packed: Vec<u64> = (0..len).map(|i| key(i) << index_bits | i as u64).collect();
    packed.sort_unstable();
    let mask = (1u64 << index_bits) - 1;
    packed.into_iter().map(|p| (p & mask) as usize).collect()
}

/// The rule of [`urgency`] in words, for the pane title and the help.
pub const URGENCY_RULE: &str =
    "breached or due within 1h first, by priority then time; then by time left";

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

/// `value` as text, written into `scratch`.
fn shown<'a>(scratch: &'a mut String, value: &dyn std::fmt::Display) -> &'a str {
    use std::fmt::Write;
    scratch.clear();
    let _ = write!(scratch, "{value}");
    scratch
}

/// Whether a word's text is in one field, negation aside (`!csv` is
/// "csv is in no field", decided by the caller across all fields).
///
/// A fuzzy word in ASCII (nearly every word typed) is first looked for as
/// its bytes in order in the field's bytes, ASCII case ignored: found, it
/// is a match as nucleo would score one (ASCII bytes in UTF-8 are ASCII
/// characters, which fold and normalise to themselves), and no score is
/// computed, since nobody reads it (filtering keeps the sorted order). Not
/// found in an ASCII field, it is no match either; in any other field, and
/// for every other word, nucleo decides, with its Unicode case folding and
/// accent normalisation.
fn atom_found(
    atom: &nucleo_matcher::pattern::Atom,
    field: &str,
    matcher: &mut nucleo_matcher::Matcher,
    chars: &mut Vec<char>,
) -> bool {
    use nucleo_matcher::Utf32Str;
    use nucleo_matcher::pattern::AtomKind;
    if atom.kind == AtomKind::Fuzzy
        && let Utf32Str::Ascii(needle) = atom.needle_text()
    {
        if in_order_ignoring_ascii_case(field.as_bytes(), needle) {
            return true;
        }
        // Not there as bytes, the word can only match through characters
        // nucleo folds or normalises into ASCII; a field without any (an
        // ASCII one, or Japanese with ASCII mixed in) is no match, and the
        // costly Unicode path is left to fields that need it.
        if field.is_ascii() || !field.chars().any(may_become_ascii) {
            return false;
        }
    } else if atom.kind == AtomKind::Fuzzy && field.is_ascii() {
        // Folding and normalising never turn ASCII into anything else.
        return false;
    }
    // `score` answers for the negated word; this asks about the word.
    atom.score(Utf32Str::new(field, chars), matcher).is_some() != atom.negative
}

/// Whether nucleo's matching may see a non-ASCII `c` as an ASCII
/// character: its normalisation table ends at U+2184 (`ↄ` → `c`), and the
/// case folds into ASCII (`K` Kelvin → `k`, `ſ` → `s`) lie below it.
/// Checked against nucleo for every character by a test.
fn may_become_ascii(c: char) -> bool {
    !c.is_ascii() && u32::from(c) < 0x2185
}

/// Whether the bytes of `needle` (lower case) appear in `haystack` in
/// order, gaps allowed, ASCII case ignored: each next byte found with
/// SIMD `memchr`, as nucleo's own prefilter does.
fn in_order_ignoring_ascii_case(mut haystack: &[u8], needle: &[u8]) -> bool {
    for &byte in needle {
        let at = if byte.is_ascii_lowercase() {
            memchr::memchr2(byte, byte.to_ascii_uppercase(), haystack)
        } else {
            memchr::memchr(byte, haystack)
        };
        match at {
            Some(at) => haystack = &haystack[at + 1..],
            None => return false,
        }
    }
    true
}

/// Whether a row that matches the words `new` must match the words
/// `previous`: then filtering for `new` need only look at the rows
/// `previous` kept. True when each previous word is still there, or grew
/// into a word that contains its letters in order (`a` → `ap`, `ap` →
/// `ap'x`); a negated word (`!csv`) only when it is unchanged, since a
/// longer word excludes fewer rows.
fn narrows(
    new: &[nucleo_matcher::pattern::Atom],
    previous: &[nucleo_matcher::pattern::Atom],
) -> bool {
    use nucleo_matcher::pattern::AtomKind;
    previous.iter().all(|old| {
        new.iter().any(|atom| {
            atom == old
                || (!old.negative
                    && !atom.negative
                    && old.kind == AtomKind::Fuzzy
                    && is_subsequence(atom.needle_text(), old.needle_text()))
        })
    })
}

/// Whether the characters of `needle` appear in `text` in order.
fn is_subsequence(
    text: nucleo_matcher::Utf32Str<'_>,
    needle: nucleo_matcher::Utf32Str<'_>,
) -> bool {
    let mut wanted = needle.chars();
    let Some(mut next) = wanted.next() else {
        return true;
    };
    for c in text.chars() {
        if c == next {
            match wanted.next() {
                Some(n) => next = n,
                None => return true,
            }
        }
    }
    false
}

/// A set of rows by data index (one bit each: 12.5 KB at 100k rows).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowSet {
    bits: Vec<u64>,
    len: usize,
}

impl RowSet {
    fn new(rows: usize) -> Self {
        Self {
            bits: vec![0; rows.div_ceil(64)],
            len: 0,
        }
    }

    fn insert(&mut self, row: usize) {
        if let Some(word) = self.bits.get_mut(row / 64) {
            let bit = 1 << (row % 64);
            if *word & bit == 0 {
                *word |= bit;
                self.len += 1;
            }
        }
    }

    fn contains(&self, row: usize) -> bool {
        self.bits
            .get(row / 64)
            .is_some_and(|word| word & (1 << (row % 64)) != 0)
    }

    /// How many rows are in the set.
    fn len(&self) -> usize {
        self.len
    }

    /// The rows, in data order.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(at, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    at * 64 + bit
                })
            })
        })
    }
}

/// What a pane's filter words kept, remembered while the data stays the
/// same: the last few word lists typed and the rows each kept. A cache, so
/// it never makes two views unequal.
#[derive(Clone, Default)]
pub struct WordsCache {
    /// The sorted order the rows were matched in; a new one means new data.
    sorted: Option<std::sync::Arc<Vec<usize>>>,
    /// Oldest first.
    entries: Vec<(Vec<nucleo_matcher::pattern::Atom>, std::sync::Arc<RowSet>)>,
}

impl WordsCache {
    /// Word lists remembered: enough to backspace over a long word.
    const KEEP: usize = 16;
}

impl PartialEq for WordsCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for WordsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WordsCache({} remembered)", self.entries.len())
    }
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
    /// no sort; a keystroke that only narrows the words scans just the rows
    /// the previous words kept (see [`WordsCache`]).
    pub(crate) fn refilter(&mut self, pane: Pane) {
        let (query, error) = super::query::parse(pane.into(), &self.panes[pane as usize].filter);
        self.panes[pane as usize].filter_error = error;
        let words = self.rows_matching_words(pane, query.words.trim());
        let view = &self.panes[pane as usize];
        let scope = self.scope_rows(pane);
        let saved_view = (pane == Pane::Inquiries && self.view != crate::model::views::ALL)
            .then(|| self.settings.views.get(self.view))
            .flatten();
        let order = if query.rules.is_empty() && saved_view.is_none() && scope.is_none() {
            match &words {
                None => std::sync::Arc::clone(&view.sorted),
                Some(words) => std::sync::Arc::new(
                    view.sorted
                        .iter()
                        .copied()
                        .filter(|&i| words.contains(i))
                        .collect(),
                ),
            }
        } else {
            // Match in data order (sequential memory), then keep the sorted
            // order: scanning rows in sorted order would chase pointers all
            // over the heap and cost twice as much.
            let keep: Vec<bool> = (0..view.sorted.len())
                .map(|i| {
                    words.as_ref().is_none_or(|w| w.contains(i))
                        && scope.as_ref().is_none_or(|in_scope| in_scope[i])
                        && saved_view.is_none_or(|v| self.in_view(v, i))
                        && query.rules.iter().all(|rule| self.rule_keeps(rule, i))
                })
                .collect();
            std::sync::Arc::new(view.sorted.iter().copied().filter(|&i| keep[i]).collect())
        };
        let found = self.selected_index(pane).and_then(|selected| {
            // Comparing indices, not ids: reading each row's id in sorted
            // order would touch 100k structs scattered over the heap.
            order.iter().position(|&index| index == selected)
        });
        let view = &mut self.panes[pane as usize];
        view.order = order;
        view.selected = found
            .unwrap_or(view.selected)
            .min(view.order.len().saturating_sub(1));
        self.remember_selection(pane);
        self.scroll_into_view(pane);
    }

    /// The data index of a pane's selected item, if it still exists: the
    /// remembered index when it still holds that id (it does unless the
    /// data changed under it), else a scan in data order.
    fn selected_index(&self, pane: Pane) -> Option<usize> {
        let view = &self.panes[pane as usize];
        let id = view.selected_id.as_deref()?;
        if let Some(index) = view.selected_index
            && index < self.total(pane)
            && self.item_id(pane, index) == id
        {
            return Some(index);
        }
        (0..self.total(pane)).find(|&index| self.item_id(pane, index) == id)
    }

    /// Which rows (by data index) the filter's fuzzy words keep: `None`
    /// without words. Remembered per pane until the data changes, so a
    /// keystroke that narrows the words (one more letter, one more word)
    /// scans only the rows the previous words kept, and one that returns
    /// to earlier words (backspace) scans nothing.
    fn rows_matching_words(&mut self, pane: Pane, words: &str) -> Option<std::sync::Arc<RowSet>> {
        let mut cache = std::mem::take(&mut self.panes[pane as usize].words);
        let sorted = &self.panes[pane as usize].sorted;
        // A new sorted order is how a change of data shows here
        // (`refresh_order` makes one on every change): what was remembered
        // may no longer be true.
        if !cache
            .sorted
            .as_ref()
            .is_some_and(|s| std::sync::Arc::ptr_eq(s, sorted))
        {
            cache = WordsCache {
                sorted: Some(std::sync::Arc::clone(sorted)),
                entries: Vec::new(),
            };
        }
        let result = (!words.is_empty()).then(|| {
            let atoms = filter_pattern(words).atoms;
            if let Some((_, rows)) = cache.entries.iter().find(|(a, _)| *a == atoms) {
                return std::sync::Arc::clone(rows);
            }
            let narrowed = cache
                .entries
                .iter()
                .filter(|(previous, _)| narrows(&atoms, previous))
                .map(|(_, rows)| rows)
                .min_by_key(|rows| rows.len());
            let rows = std::sync::Arc::new(self.match_words(pane, &atoms, narrowed.map(|r| &**r)));
            if cache.entries.len() == WordsCache::KEEP {
                cache.entries.remove(0);
            }
            cache.entries.push((atoms, std::sync::Arc::clone(&rows)));
            rows
        });
        self.panes[pane as usize].words = cache;
        result
    }

    /// The rows (by data index) among `within` (all rows when `None`)
    /// where every word matches within one field.
    fn match_words(
        &self,
        pane: Pane,
        atoms: &[nucleo_matcher::pattern::Atom],
        within: Option<&RowSet>,
    ) -> RowSet {
        let total = self.total(pane);
        let mut kept = RowSet::new(total);
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let mut chars = Vec::new();
        let mut text = String::new();
        let mut check = |index: usize| {
            // Each word must match within one field: a fuzzy match
            // scattered over the subject, the status and a tag would find
            // nearly anything.
            let keep = atoms.iter().all(|atom| {
                let found = self.any_field(pane, index, &mut text, |field| {
                    atom_found(atom, field, &mut matcher, &mut chars)
                });
                found != atom.negative
            });
            if keep {
                kept.insert(index);
            }
        };
        match within {
            Some(rows) => rows.iter().for_each(&mut check),
            None => (0..total).for_each(&mut check),
        }
        kept
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

    /// Whether `found` holds for any field of an item (by data index) that
    /// the filter searches, each field passed on its own. `scratch` holds
    /// the fields that are not text already (segment, band, severity).
    fn any_field(
        &self,
        pane: Pane,
        index: usize,
        scratch: &mut String,
        mut found: impl FnMut(&str) -> bool,
    ) -> bool {
        match pane {
            Pane::Inquiries => {
                let inquiry = &self.data.inquiries[index];
                let account = self.derived.inquiry_account.get(index).copied().flatten();
                let customer = match account {
                    Some(a) => self.data.accounts[a].name.as_str(),
                    None => inquiry.org.as_deref().unwrap_or_default(),
                };
                let status: &str = inquiry.status.into();
                let priority: &str = inquiry.priority.into();
                [
                    inquiry.id.as_str(),
                    &inquiry.subject,
                    customer,
                    inquiry.assignee.as_deref().unwrap_or_default(),
                    inquiry.feature_area.as_deref().unwrap_or_default(),
                    status,
                    priority,
                ]
                .into_iter()
                .chain(inquiry.tags.iter().map(|t| t.as_str()))
                .any(&mut found)
            }
            Pane::Customers => {
                let row = &self.derived.customers[index];
                let a = &self.data.accounts[row.account];
                [a.name.as_str(), &a.tenant, &a.owner]
                    .into_iter()
                    .any(&mut found)
                    || found(shown(scratch, &a.segment))
                    || found(shown(scratch, &row.health.band))
            }
            Pane::Incidents => {
                let x = &self.data.incidents[index];
                [
                    x.title.as_str(),
                    &x.id,
                    x.service.as_deref().unwrap_or_default(),
                ]
                .into_iter()
                .any(&mut found)
                    || found(shown(scratch, &x.severity))
            }
        }
    }

    /// All inquiries in a sort order. Each row's key is packed with its
    /// index into one `u64` (see [`sort_by_packed_key`]), so the sort
    /// compares plain integers instead of tuples or names; ties keep the
    /// data order.
    fn sorted_inquiries(&self, sort: SortMode) -> Vec<usize> {
        let inquiries = &self.data.inquiries;
        let accounts = &self.data.accounts;
        let now = self.now;
        let due = |i: usize| {
            inquiries[i]
                .sla
                .map_or(u64::from(u32::MAX), |s| seconds(s.due, now))
        };
        let priority = |i: usize| u64::from(inquiries[i].priority as u8);
        match sort {
            SortMode::Priority => {
                sort_by_packed_key(inquiries.len(), 3 + 32, |i| priority(i) << 32 | due(i))
            }
            SortMode::Newest => sort_by_packed_key(inquiries.len(), 32, |i| {
                u64::from(u32::MAX) - seconds(inquiries[i].created_at, now)
            }),
            SortMode::Customer => {
                // Rank accounts by name once; unknown customers go last.
                let mut by_name: Vec<usize> = (0..accounts.len()).collect();
                by_name.sort_by(|&a, &b| accounts[a].name.cmp(&accounts[b].name));
                let mut rank = vec![0; accounts.len()];
                for (r, &a) in by_name.iter().enumerate() {
                    rank[a] = r as u64 + 1;
                }
                let unknown = accounts.len() as u64 + 1;
                let rank_bits = u64::BITS - unknown.leading_zeros();
                let account = |i: usize| self.derived.inquiry_account.get(i).copied().flatten();
                sort_by_packed_key(inquiries.len(), rank_bits + 32, |i| {
                    account(i).map_or(unknown, |a| rank[a]) << 32 | due(i)
                })
            }
            _ => sort_by_packed_key(inquiries.len(), 37, |i| urgency_key(&inquiries[i], now)),
        }
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
        let view = &self.panes[pane as usize];
        let index = view.order.get(view.selected).copied();
        self.panes[pane as usize].selected_index = index;
        self.panes[pane as usize].selected_id = index.map(|i| self.item_id(pane, i).to_owned());
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

    /// Whether nucleo itself finds a word in a field (negation aside).
    fn nucleo_finds(atom: &nucleo_matcher::pattern::Atom, field: &str) -> bool {
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let mut chars = Vec::new();
        atom.score(
            nucleo_matcher::Utf32Str::new(field, &mut chars),
            &mut matcher,
        )
        .is_some()
            != atom.negative
    }

    #[test]
    fn the_ascii_shortcut_agrees_with_nucleo() {
        // Every word against every field: short and long, cases mixed,
        // spaces and punctuation, fields and words in other scripts.
        let fields = [
            "",
            "a",
            "A",
            "ab",
            "ba",
            "API returns 500",
            "api",
            "SSO loop",
            "Export stuck at 99%",
            "Fehler bei der Abrechnung",
            "Résumé upload",
            "ログインできません",
            "ログイン api 失敗",
            "株式会社 \u{212a}im",
            "\u{17f}so loop",
            "Ａｐｉ エラー",
            "ↄ api",
            "feature_api",
            "Alex Kim",
            "ACME Corp",
            "acme-corp #12",
            "x y",
            "aaaa",
            "urgent",
            "on-hold",
        ];
        let words = [
            "a", "ap", "api", "API", "pa", "aa", "aaaaa", "s lo", "sso", "99%", "%", "#1", "ex 9",
            "resume", "RÉSUMÉ", "é", "ログ", "acmcrp", "x\\ y", "kim", "urgnt", "-", "12", "'api",
            "^api", "500$", "^urgent$", "!api", "!ログ",
        ];
        let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
        let mut chars = Vec::new();
        let mut checked = 0;
        for word in words {
            for atom in &filter_pattern(word).atoms {
                for field in fields {
                    assert_eq!(
                        atom_found(atom, field, &mut matcher, &mut chars),
                        nucleo_finds(atom, field),
                        "{word:?} in {field:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= words.len() * fields.len());
    }

    #[test]
    fn no_character_past_the_bound_becomes_ascii_in_nucleo() {
        use nucleo_matcher::chars::{normalize, to_lower_case};
        let mut past = 0;
        assert!(!may_become_ascii('a'));
        for c in (0x80..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if may_become_ascii(c) {
                continue;
            }
            past += 1;
            // What nucleo compares: normalised, then folded (either alone
            // when the pattern turns the other off).
            for seen in [normalize(c), to_lower_case(c), to_lower_case(normalize(c))] {
                assert!(!seen.is_ascii(), "{c:?} becomes {seen:?}");
            }
        }
        assert!(past > 1_000_000);
    }

    #[test]
    fn narrowing_is_recognised_only_when_it_is_sound() {
        let atoms = |w: &str| filter_pattern(w).atoms;
        let narrows_from = |new: &str, old: &str| narrows(&atoms(new), &atoms(old));
        // One more letter, one more word, a word grown anywhere in order.
        assert!(narrows_from("ap", "a"));
        assert!(narrows_from("a csv", "a"));
        assert!(narrows_from("acme csv", "csv acm"));
        assert!(narrows_from("xay", "a"));
        assert!(narrows_from("'api", "ap"));
        // Back, or a different word: not a narrowing.
        assert!(!narrows_from("a", "ap"));
        assert!(!narrows_from("pa", "ap"));
        assert!(!narrows_from("b", "a"));
        // A longer negated word excludes fewer rows.
        assert!(!narrows_from("!csvx", "!csv"));
        assert!(narrows_from("!csv a", "!csv"));
        // A longer exact word is not the shorter one's substring match.
        assert!(!narrows_from("'apx", "'ap"));
    }

    #[test]
    fn packed_sort_keys_order_rows_as_their_rules_say() {
        use crate::core::domain::{Priority, SlaClock, SlaMetric};
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let mins = |m: i64| now + jiff::SignedDuration::from_mins(m);
        let priorities = [
            Priority::Urgent,
            Priority::High,
            Priority::Normal,
            Priority::Low,
        ];
        // Breached, about to breach, later, paused; far past and future too.
        let dues = [
            None,
            Some(-600),
            Some(-35),
            Some(-5),
            Some(0),
            Some(30),
            Some(59),
            Some(61),
            Some(600),
            Some(60 * 24 * 365 * 50),
        ];
        let mut rows = Vec::new();
        for (n, priority) in priorities.into_iter().enumerate() {
            for (m, due) in dues.into_iter().enumerate() {
                rows.push(crate::core::domain::Inquiry {
                    id: format!("{n}-{m}").as_str().into(),
                    subject: String::new(),
                    status: crate::core::domain::InquiryStatus::Open,
                    priority,
                    org: None,
                    requester: None,
                    assignee: None,
                    group: None,
                    tags: Vec::new(),
                    feature_area: None,
                    // Paused clocks tie on priority: creation breaks it.
                    created_at: mins(-((n * 7 + m) as i64) * 13),
                    updated_at: now,
                    sla: due.map(|d| SlaClock {
                        metric: SlaMetric::FirstReply,
                        due: mins(d),
                        business_hours: false,
                    }),
                    replied: false,
                    url: None,
                    kind: None,
                    history: Default::default(),
                    desk: Default::default(),
                });
            }
        }
        let by_rule = {
            let mut order: Vec<usize> = (0..rows.len()).collect();
            order.sort_by_key(|&i| urgency(&rows[i], now));
            order
        };
        let packed = sort_by_packed_key(rows.len(), 37, |i| urgency_key(&rows[i], now));
        assert_eq!(packed, by_rule);
        // Too wide to pack: the same order through cached keys.
        let wide = sort_by_packed_key(rows.len(), 63, |i| urgency_key(&rows[i], now));
        assert_eq!(wide, by_rule);
        // Times keep their order as seconds from now.
        assert!(seconds(mins(-1), now) < seconds(now, now));
        assert!(seconds(now, now) < seconds(mins(1), now));
    }

    #[test]
    fn a_row_set_holds_and_lists_its_rows_in_order() {
        let mut rows = RowSet::new(130);
        for row in [129, 0, 64, 63, 64] {
            rows.insert(row);
        }
        rows.insert(500); // beyond the rows: ignored
        assert_eq!(rows.len(), 4);
        assert!(rows.contains(63) && !rows.contains(62) && !rows.contains(500));
        assert_eq!(rows.iter().collect::<Vec<_>>(), vec![0, 63, 64, 129]);
        assert_eq!(RowSet::new(0).len(), 0);
    }
}
