//! An RT ticket's history and attachments pages, joined into the
//! conversation. The input is the history body, a NUL byte, and the
//! attachments body (NUL cannot occur in JSON text, so it splits cleanly).
#![no_main]

use cre_cockpit::sources::rt::read_conversation;
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (history, attachments) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b"{\"items\":[]}"[..]),
    };
    match read_conversation(history, attachments) {
        Ok(comments) => check::conversation(&comments),
        Err(e) => check::error(&e),
    }
});
