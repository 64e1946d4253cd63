//! A Zendesk incremental-export page (tickets with users, organizations,
//! groups and metric-set sideloads, live `slas`) through the adapter's own
//! decoding and conversion.
#![no_main]

use cre_cockpit::sources::zendesk::read_export_page;
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let base = url::Url::parse("https://acme.zendesk.com").expect("a fixed URL");
    match read_export_page(&base, data) {
        Ok(inquiries) => inquiries.iter().for_each(check::inquiry),
        Err(e) => check::error(&e),
    }
});
