//! A Zendesk ticket-comments page (offset or cursor paginated, `users`
//! sideloaded) through the adapter's own decoding and conversion.
#![no_main]

use cre_cockpit::sources::zendesk::read_comments_page;
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| match read_comments_page(data) {
    Ok(comments) => check::conversation(&comments),
    Err(e) => check::error(&e),
});
