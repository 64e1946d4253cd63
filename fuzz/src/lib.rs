//! What must hold for anything a parser hands the rest of the cockpit,
//! whatever bytes it was given. The fuzz targets assert these; a failed
//! assertion is a finding just like a panic inside the parser.

use cre_cockpit::core::domain::{Comment, Incident, IncidentNote, Inquiry, SourceError};

/// Characters that must not reach a terminal from remote text. Written out
/// here rather than borrowed from `cre_cockpit::core::sanitize`, so a gap in the
/// sanitiser's own list is a finding too: C0/C1 controls and DEL (ESC, BEL,
/// 8-bit CSI/OSC) and the bidi overrides, isolates and marks.
fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// A single-line field: no forbidden character at all.
pub fn line(field: &str, value: &str) {
    assert!(
        !value.chars().any(forbidden),
        "{field} kept a control or bidi character: {value:?}"
    );
}

/// A multi-line body: line feeds are the one control character allowed.
pub fn body(field: &str, value: &str) {
    assert!(
        !value.chars().any(|c| c != '\n' && forbidden(c)),
        "{field} kept a control or bidi character: {value:?}"
    );
}

fn opt(field: &str, value: Option<&str>) {
    if let Some(value) = value {
        line(field, value);
    }
}

pub fn inquiry(i: &Inquiry) {
    line("inquiry id", &i.id);
    assert!(!i.id.is_empty(), "an inquiry without an id");
    line("subject", &i.subject);
    assert!(
        !i.subject.is_empty(),
        "an empty subject is shown as (no subject)"
    );
    opt("org", i.org.as_deref());
    opt("requester", i.requester.as_deref());
    opt("assignee", i.assignee.as_deref());
    opt("group", i.group.as_deref());
    opt("feature area", i.feature_area.as_deref());
    opt("url", i.url.as_deref());
    for tag in &i.tags {
        line("tag", tag);
    }
}

pub fn comment(c: &Comment) {
    line("comment id", &c.id);
    opt("comment author", c.author.as_deref());
    body("comment body", &c.body);
}

/// Comments arrive oldest first.
pub fn conversation(comments: &[Comment]) {
    comments.iter().for_each(comment);
    assert!(
        comments.windows(2).all(|w| w[0].at <= w[1].at),
        "comments out of order"
    );
}

pub fn incident(i: &Incident) {
    line("incident id", &i.id);
    assert!(!i.id.is_empty(), "an incident without an id");
    line("incident title", &i.title);
    opt("service", i.service.as_deref());
    opt("incident url", i.url.as_deref());
    for r in &i.responders {
        line("responder", r);
    }
    for t in &i.tenants {
        line("tenant", t);
    }
    for (k, v) in &i.details {
        line("detail key", k);
        line("detail value", v);
    }
    i.notes.iter().for_each(note);
}

pub fn note(n: &IncidentNote) {
    opt("note author", n.author.as_deref());
    body("note text", &n.text);
}

/// An error is shown on the source's chip and logged: one clean line.
pub fn error(e: &SourceError) {
    line("error message", &e.message);
    assert!(!e.message.is_empty(), "an error without a message");
}
