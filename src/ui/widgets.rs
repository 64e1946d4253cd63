//! Pieces several views draw the same way: the overlay frame, key hints
//! read from the live keymap, and the labelled lines of the detail views.
//! Kept in one place so an overlay cannot drift from the others in look or
//! in the keys it names, and so the SLO lines (which the detail view
//! includes) share the labelled lines without the two importing each other.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::theme;
use crate::model::action::Action;
use crate::model::keymap::Keymap;

/// A popup of at most `width`×`height`, centred in `area`.
#[must_use]
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let (width, height) = (width.min(area.width), height.min(area.height));
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

/// The frame every overlay is drawn in: whatever was under it cleared, a
/// focused border, the title on top and the key hints at the bottom.
#[derive(Debug, Clone)]
pub struct Overlay {
    title: String,
    hint: Option<String>,
    borders: Borders,
    wrap: bool,
    scroll: u16,
}

impl Overlay {
    /// `title` is drawn as given: callers pad it with the spaces that keep
    /// it off the border corners.
    #[must_use]
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            hint: None,
            borders: Borders::ALL,
            wrap: false,
            scroll: 0,
        }
    }

    /// The key hints, on the bottom line; none when no hinted key is bound.
    #[must_use]
    pub fn hints(mut self, hints: &Hints<'_>) -> Self {
        self.hint = (!hints.is_empty()).then(|| hints.line());
        self
    }

    /// Which sides get a border; incident mode keeps only the top one, as
    /// its panels bring their own.
    #[must_use]
    pub fn borders(mut self, borders: Borders) -> Self {
        self.borders = borders;
        self
    }

    /// Wrap long body lines instead of cutting them at the border.
    #[must_use]
    pub fn wrap(mut self) -> Self {
        self.wrap = true;
        self
    }

    /// Body lines scrolled off the top.
    #[must_use]
    pub fn scroll(mut self, scroll: u16) -> Self {
        self.scroll = scroll;
        self
    }

    fn block(&self) -> Block<'static> {
        let mut block = Block::default()
            .borders(self.borders)
            .border_style(theme::BORDER_FOCUSED)
            .title(Span::styled(self.title.clone(), theme::TITLE));
        if let Some(hint) = &self.hint {
            block = block.title_bottom(Span::styled(hint.clone(), theme::MUTED));
        }
        block
    }

    /// Clear `area` and draw the frame alone; returns the inside, for
    /// bodies that are not a list of lines (the dialogs' editor).
    pub fn frame(&self, frame: &mut Frame<'_>, area: Rect) -> Rect {
        let block = self.block();
        let inner = block.inner(area);
        frame.render_widget(Clear, area);
        frame.render_widget(block, area);
        inner
    }

    /// Clear `area` and draw the frame with `lines` as its body.
    pub fn render(self, frame: &mut Frame<'_>, area: Rect, lines: Vec<Line<'static>>) {
        let mut body = Paragraph::new(lines)
            .scroll((self.scroll, 0))
            .block(self.block());
        if self.wrap {
            body = body.wrap(Wrap { trim: false });
        }
        frame.render_widget(Clear, area);
        frame.render_widget(body, area);
    }
}

/// The first key of each action that has one, joined by `sep`: `j/k`,
/// `? or esc`. `None` when none of them is bound, so a hint for a key the
/// user unbound is left out rather than shown empty.
#[must_use]
pub fn keys(keymap: &Keymap, actions: &[Action], sep: &str) -> Option<String> {
    let keys: Vec<String> = actions
        .iter()
        .filter_map(|a| keymap.first_key(*a))
        .collect();
    (!keys.is_empty()).then(|| keys.join(sep))
}

/// Key hints (`esc back · j/k scroll`) written from the keymap the user
/// actually has, so a rebound key is named as rebound.
#[derive(Debug, Clone)]
pub struct Hints<'k> {
    keymap: &'k Keymap,
    parts: Vec<String>,
}

impl<'k> Hints<'k> {
    #[must_use]
    pub fn new(keymap: &'k Keymap) -> Self {
        Self {
            keymap,
            parts: Vec::new(),
        }
    }

    /// `keys label`, the keys of `actions` joined by `/`.
    #[must_use]
    pub fn add(self, actions: &[Action], label: &str) -> Self {
        self.add_with(actions, "/", |keys| format!("{keys} {label}"))
    }

    /// A hint worded by `say` around the keys of `actions`, joined by
    /// `sep`: for sentences such as `a (annotate)`.
    #[must_use]
    pub fn add_with(
        mut self,
        actions: &[Action],
        sep: &str,
        say: impl FnOnce(&str) -> String,
    ) -> Self {
        if let Some(keys) = keys(self.keymap, actions, sep) {
            self.parts.push(say(&keys));
        }
        self
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Each hint on its own.
    #[must_use]
    pub fn parts(&self) -> Vec<String> {
        self.parts.clone()
    }

    /// The hints joined by `sep`.
    #[must_use]
    pub fn join(&self, sep: &str) -> String {
        self.parts.join(sep)
    }

    /// The hints as an overlay's bottom line: ` esc back · j/k scroll `.
    #[must_use]
    pub fn line(&self) -> String {
        format!(" {} ", self.join(" · "))
    }
}

/// `        name  value`: a labelled line of a detail view, labels aligned.
pub fn field(name: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:>12}  "), theme::HEADER),
        Span::raw(value.into()),
    ])
}

/// A section heading inside a detail view.
pub fn heading(text: &str) -> Line<'static> {
    Line::from(Span::styled(text.to_owned(), theme::TITLE))
}

/// A one-line chart of a series, scaled to its own maximum.
#[must_use]
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| {
            if max <= 0.0 {
                BARS[0]
            } else {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let level = ((v / max) * 7.0).round().clamp(0.0, 7.0) as usize;
                BARS[level]
            }
        })
        .collect()
}

/// `text` with the characters the pane's filter matched highlighted.
#[must_use]
pub fn highlighted(text: &str, filter: &str, style: ratatui::style::Style) -> Vec<Span<'static>> {
    let hits = crate::model::view_highlights(filter, text);
    if hits.is_empty() {
        return vec![Span::styled(text.to_owned(), style)];
    }
    let mut spans = Vec::new();
    let mut run = String::new();
    let mut run_hit = false;
    for (i, c) in text.chars().enumerate() {
        let hit = hits.binary_search(&i).is_ok();
        if hit != run_hit && !run.is_empty() {
            spans.push(Span::styled(
                std::mem::take(&mut run),
                if run_hit { theme::MATCH } else { style },
            ));
        }
        run_hit = hit;
        run.push(c);
    }
    if !run.is_empty() {
        spans.push(Span::styled(
            run,
            if run_hit { theme::MATCH } else { style },
        ));
    }
    spans
}

/// Teammates with an item open (team mode), put before its row's main
/// text: `◉Kim ` reading it, `◉Kim✎ ` writing on it (the first one, who
/// is writing if anybody is), `+1` for each other teammate.
#[must_use]
pub fn presence(
    model: &crate::model::Model,
    target: impl FnOnce() -> crate::core::writes::Target,
) -> Option<Span<'static>> {
    // Outside team mode (or alone) a row costs no look-up.
    if model.presence.is_empty() {
        return None;
    }
    let target = target();
    let mut others = model.others_on(&target);
    let first = others.next()?;
    let more = others.count();
    let who = crate::core::sanitize::text(&first.who);
    let mut mark = format!("◉{}", crate::core::text::truncate(&who, 12));
    if first.doing == crate::core::writes::Doing::Writing {
        mark.push('✎');
    }
    if more > 0 {
        mark.push_str(&format!("+{more}"));
    }
    mark.push(' ');
    Some(Span::styled(mark, theme::ACCENT))
}

/// A row's main text (subject, name, title): who else has the item open,
/// then the text with the pane filter's matches highlighted.
#[must_use]
pub fn marked(
    model: &crate::model::Model,
    target: impl FnOnce() -> crate::core::writes::Target,
    text: &str,
    filter: &str,
) -> ratatui::text::Line<'static> {
    ratatui::text::Line::from(
        presence(model, target)
            .into_iter()
            .chain(highlighted(text, filter, theme::TEXT))
            .collect::<Vec<_>>(),
    )
}

/// Who else has an item open, in words, for its detail and incident mode:
/// `  · Kim is writing on it · Lee is reading it`.
#[must_use]
pub fn presence_words(
    model: &crate::model::Model,
    target: &crate::core::writes::Target,
) -> Option<Span<'static>> {
    let words: Vec<String> = model
        .others_on(target)
        .map(|p| {
            let who = crate::core::text::truncate(&crate::core::sanitize::text(&p.who), 24);
            match p.doing {
                crate::core::writes::Doing::Writing => format!("{who} is writing on it"),
                crate::core::writes::Doing::Viewing => format!("{who} is reading it"),
            }
        })
        .collect();
    (!words.is_empty()).then(|| Span::styled(format!("  ◉ {}", words.join(" · ")), theme::ACCENT))
}
