//! Terminal safety for remote text.
//!
//! Anything a desk, metrics backend or incident tool sends us is untrusted: a
//! ticket subject can carry `ESC ] 52` (write the clipboard), CSI sequences
//! that move the cursor or recolour the screen, or bidi overrides that make
//! text read differently from what it is. Adapters pass every remote string
//! through [`text`] (single line) or [`multiline`] before it enters the
//! domain model, so nothing downstream has to remember to; and the terminal
//! backend (`crate::app::terminal::SafeBackend`) checks every cell on its way
//! out, so text that reaches a widget by any other road (a note from
//! `$EDITOR`, the journal, a future adapter) cannot write a sequence either.

/// Bidirectional formatting characters that can reorder what a reader sees
/// (Trojan Source, CVE-2021-42574), plus the zero-width joiners' cousins that
/// are only useful for hiding text.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

fn is_unsafe(c: char) -> bool {
    // C0 (includes ESC, BEL, NUL), DEL, and C1 (includes the 8-bit CSI
    // U+009B and OSC U+009D that some terminals still honour).
    c.is_control() || is_bidi_control(c)
}

/// Sanitise a single-line field (subject, name, label): control and bidi
/// characters are dropped, line breaks and tabs become a space, runs of
/// whitespace collapse, and the result is trimmed.
#[must_use]
pub fn text(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if is_unsafe(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Sanitise a multi-line body (comment, note): keeps `\n`, turns tabs into
/// spaces, drops every other control character.
#[must_use]
pub fn multiline(input: &str) -> String {
    input
        .replace("\r\n", "\n")
        .chars()
        .filter_map(|c| match c {
            '\n' => Some('\n'),
            '\t' => Some(' '),
            c if is_unsafe(c) => None,
            c => Some(c),
        })
        .collect()
}

/// Whether `input` is already safe to write to a terminal: no control or
/// bidi characters at all (the test the terminal backend applies to every
/// cell, so clean frames cost no copy).
#[must_use]
pub fn is_clean(input: &str) -> bool {
    !input.chars().any(is_unsafe)
}

/// Sanitise an optional field.
#[must_use]
pub fn opt(input: Option<&str>) -> Option<String> {
    input.map(text).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_ordinary_text_including_japanese() {
        assert_eq!(
            text("ログインできません / login fails"),
            "ログインできません / login fails"
        );
    }

    #[test]
    fn collapses_whitespace_and_line_breaks() {
        assert_eq!(text("  a\r\n\tb  "), "a b");
    }

    #[test]
    fn multiline_keeps_newlines_only() {
        assert_eq!(multiline("a\r\nb\x1b[2Jc\td"), "a\nb[2Jc d");
    }
}
