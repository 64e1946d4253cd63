//! Hostile remote text never reaches the terminal as control sequences.

use cre_cockpit::core::sanitize;

const HOSTILE: &[&str] = &[
    "\x1b[31mred\x1b[0m subject",                 // CSI colour
    "\x1b]52;c;ZXZpbCBjbGlwYm9hcmQ=\x07paste me", // OSC 52 clipboard write (BEL-terminated)
    "\x1b]52;c;ZXZpbA==\x1b\\ST-terminated",      // OSC 52 with ST
    "\x1b]0;fake title\x07",                      // OSC window title
    "\u{9b}2J 8-bit CSI clears the screen",       // C1 CSI
    "\u{9d}0;title\u{9c} 8-bit OSC",              // C1 OSC / ST
    "admin\u{202e}gnp.exe",                       // right-to-left override
    "\u{2066}isolate\u{2069} \u{200f}rlm",        // bidi isolates and marks
    "nul\0byte and bell\x07 and del\x7f",
    "cursor\x1b[10;10Hmove\x1b[2K\x1bcreset",
];

fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[test]
fn single_line_text_has_no_control_or_bidi_characters() {
    for input in HOSTILE {
        let out = sanitize::text(input);
        assert!(!out.chars().any(is_dangerous), "{input:?} -> {out:?}");
    }
}

#[test]
fn multiline_text_keeps_only_newlines() {
    for input in HOSTILE {
        let out = sanitize::multiline(&format!("{input}\nsecond line"));
        assert!(
            !out.chars().any(|c| c != '\n' && is_dangerous(c)),
            "{input:?} -> {out:?}"
        );
        assert!(out.ends_with("\nsecond line"));
    }
}

#[test]
fn readable_content_survives() {
    assert_eq!(
        sanitize::text("\x1b[31mred\x1b[0m subject"),
        "[31mred[0m subject"
    );
    assert_eq!(sanitize::text("admin\u{202e}gnp.exe"), "admingnp.exe");
    assert_eq!(
        sanitize::text("請求書を\tエクスポート"),
        "請求書を エクスポート"
    );
    assert_eq!(
        sanitize::opt(Some("\x07\x1b")),
        None,
        "nothing left means no value"
    );
}
