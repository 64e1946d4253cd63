//! What `?` lists and how it is laid out: every bound action with its
//! keys (from the live keymap), the dialogs' keys, the saved views' keys,
//! the `:` commands, the default order and the filter syntax — in as many
//! columns as the width holds, each entry wrapped under its text (a
//! hanging indent). The layout is computed here, from the terminal size,
//! so that `update` knows how far the help can scroll and the frame shows
//! exactly what the model says.

use unicode_width::UnicodeWidthStr;

use super::Model;

/// Columns narrower than this wrap too much to read.
const COLUMN_MIN: u16 = 64;
/// Width of the keys column (right-aligned), then two spaces.
const KEYS: usize = 14;

/// Keys that dialogs take directly (not rebindable: they are the dialog's
/// own vocabulary, and are named in each dialog too).
pub const DIALOG_KEYS: &[(&str, &str)] = &[
    ("ctrl-s", "note / update editor: review what will be sent"),
    ("ctrl-e", "note / update editor: edit in $EDITOR"),
    ("y", "confirm the write shown (public replies ask twice)"),
    ("n", "back to the text from a confirmation"),
    ("P", "update review: send as a public reply instead"),
    ("← →", "update review: previous / next recipient"),
    ("esc", "dialog: back; on typed text asks before discarding"),
    ("ctrl-c", "quit (asks first while a write is being edited)"),
];

/// One screen row of the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpRow {
    Heading(String),
    Blank,
    /// `keys` on an entry's first row only; `name` (the `:command`) on
    /// its last.
    Entry {
        keys: Option<String>,
        text: String,
        name: Option<String>,
    },
}

/// One entry before wrapping.
struct Entry {
    keys: String,
    what: String,
    name: Option<String>,
}

enum Item {
    Heading(&'static str),
    Blank,
    Entry(Entry),
}

fn entry(keys: impl Into<String>, what: impl Into<String>, name: Option<&str>) -> Item {
    Item::Entry(Entry {
        keys: keys.into(),
        what: what.into(),
        name: name.map(|n| format!(":{n}")),
    })
}

/// The help laid out for a width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLayout {
    pub columns: Vec<Vec<HelpRow>>,
    /// Rows of the tallest column.
    pub rows: usize,
}

/// Greedy word wrap of `text` to `width` columns (a word longer than the
/// width gets a row of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut rows = vec![String::new()];
    for word in text.split_whitespace() {
        let Some(row) = rows.last_mut() else { break };
        if row.is_empty() {
            row.push_str(word);
        } else if row.width() + 1 + word.width() <= width {
            row.push(' ');
            row.push_str(word);
        } else {
            rows.push(word.to_owned());
        }
    }
    rows
}

impl Entry {
    /// The rows of this entry in a column `width` wide: the text beside
    /// the keys, continued under itself, the command name after it.
    fn rows(&self, width: usize) -> Vec<HelpRow> {
        let keys_width = self.keys.width().max(KEYS) + 2;
        let room = width.saturating_sub(keys_width).max(12);
        let mut text = wrap(&self.what, room);
        let mut name = self.name.clone();
        if let (Some(n), Some(last)) = (&name, text.last())
            && last.width() + 2 + n.width() > room
        {
            text.push(String::new());
        }
        let count = text.len();
        text.into_iter()
            .enumerate()
            .map(|(i, text)| HelpRow::Entry {
                keys: (i == 0).then(|| self.keys.clone()),
                text,
                name: if i + 1 == count { name.take() } else { None },
            })
            .collect()
    }
}

impl Model {
    fn help_items(&self) -> Vec<Item> {
        let keymap = &self.settings.keymap;
        let mut items = vec![Item::Heading("  Keys (rebindable in [keys])")];
        for (action, keys) in keymap.bound() {
            let keys = keys
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            items.push(entry(keys, action.describe(), Some(action.as_ref())));
        }
        items.push(Item::Blank);
        items.push(Item::Heading("  In dialogs"));
        for (key, what) in DIALOG_KEYS {
            items.push(entry(*key, *what, None));
        }
        let own: Vec<Item> = self
            .settings
            .views
            .iter()
            .filter_map(|v| Some(entry(v.key?.to_string(), format!("view: {}", v.name), None)))
            .collect();
        if !own.is_empty() {
            items.push(Item::Blank);
            items.push(Item::Heading("  Your views ([[views]])"));
            items.extend(own);
        }
        items.push(Item::Blank);
        items.push(Item::Heading(
            "  Commands (: then a name; tab completes, fuzzy)",
        ));
        for (name, args, what) in super::command::COMMANDS {
            items.push(entry(format!(":{name} {args}"), *what, None));
        }
        items.push(Item::Blank);
        items.push(Item::Heading("  Order and filter"));
        items.push(entry("most urgent", super::URGENCY_RULE, None));
        items.push(entry(
            "filter /",
            "fuzzy words (case and accents ignored) AND-ed with field rules: \
             field op value, op one of = != < <= > >= ~ (contains) !~; \
             quote a value with spaces",
            None,
        ));
        items.push(entry(
            "  e.g.",
            "acme priority>=high · status=open,pending · sla<1h · breached · \
             segment=enterprise arr>=100k",
            None,
        ));
        for rows in super::query::Pane::ALL {
            items.push(entry(rows.label(), super::query::fields(rows), None));
        }
        items.push(entry(
            "mouse",
            if self.mouse {
                "on: click a row or tab, wheel scrolls (:mouse off, [ui] mouse)"
            } else {
                "off: the terminal selects text (:mouse on, [ui] mouse)"
            },
            None,
        ));
        items
    }

    /// The help laid out for an overlay `width` columns wide (borders
    /// included): as many columns as fit, the entries split between them
    /// by the rows they take, so no column runs far past the others.
    #[must_use]
    pub fn help_layout(&self, width: u16) -> HelpLayout {
        let inner = width.saturating_sub(2);
        let count = usize::from((inner / COLUMN_MIN).clamp(1, 3));
        let column_width = (usize::from(inner) / count).saturating_sub(1).max(1);
        let blocks: Vec<Vec<HelpRow>> = self
            .help_items()
            .into_iter()
            .map(|item| match item {
                Item::Heading(h) => vec![HelpRow::Heading(h.to_owned())],
                Item::Blank => vec![HelpRow::Blank],
                Item::Entry(e) => e.rows(column_width),
            })
            .collect();
        let total: usize = blocks.iter().map(Vec::len).sum();
        let target = total.div_ceil(count);
        let mut columns: Vec<Vec<HelpRow>> = vec![Vec::new()];
        for block in blocks {
            let room = columns.len() < count;
            let Some(column) = columns.last_mut() else {
                break;
            };
            if column.len() + block.len() > target && room && !column.is_empty() {
                columns.push(block);
            } else {
                column.extend(block);
            }
        }
        let rows = columns.iter().map(Vec::len).max().unwrap_or(0);
        HelpLayout { columns, rows }
    }

    /// Rows of help visible at once at the current terminal size.
    #[must_use]
    pub fn help_visible_rows(&self) -> usize {
        let body = self.body_area();
        usize::from(body.height.saturating_sub(2))
    }

    /// How far the help can scroll at the current terminal size.
    #[must_use]
    pub fn help_max_scroll(&self) -> u16 {
        let rows = self.help_layout(self.body_area().width).rows;
        u16::try_from(rows.saturating_sub(self.help_visible_rows())).unwrap_or(u16::MAX)
    }

    fn body_area(&self) -> ratatui::layout::Rect {
        let area = ratatui::layout::Rect::new(0, 0, self.size.0, self.size.1);
        super::layout::areas(area, self.focus).body
    }

    /// Scroll the help (`j`/`k`, pages, `g`/`G`), kept within its rows.
    pub(crate) fn scroll_help(&mut self, action: super::action::Action) {
        use super::action::Action;
        let max = self.help_max_scroll();
        let page = u16::try_from(self.help_visible_rows().saturating_sub(1).max(1)).unwrap_or(10);
        if let super::Overlay::Help { scroll } = &mut self.overlay {
            *scroll = match action {
                Action::Down => scroll.saturating_add(1),
                Action::Up => scroll.saturating_sub(1),
                Action::PageDown => scroll.saturating_add(page),
                Action::PageUp => scroll.saturating_sub(page),
                Action::Top => 0,
                Action::Bottom => max,
                _ => *scroll,
            }
            .min(max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_whole_within_the_width() {
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
        let e = Entry {
            keys: "q".into(),
            what: "quit the program now".into(),
            name: Some(":quit".into()),
        };
        // 16 columns of keys, 12 of text at least.
        let rows = e.rows(30);
        assert_eq!(
            rows,
            [
                HelpRow::Entry {
                    keys: Some("q".into()),
                    text: "quit the".into(),
                    name: None
                },
                HelpRow::Entry {
                    keys: None,
                    text: "program now".into(),
                    name: None
                },
                HelpRow::Entry {
                    keys: None,
                    text: String::new(),
                    name: Some(":quit".into())
                },
            ]
        );
    }
}
