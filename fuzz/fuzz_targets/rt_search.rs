//! An RT REST2 ticket-search page (or RT's 200-with-messages answer),
//! read with and without custom fields for the customer and feature area.
#![no_main]

use cre_cockpit::sources::rt::read_search_page;
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

const LINK: &str = "https://rt.example/Ticket/Display.html?id=";

fuzz_target!(|data: &[u8]| {
    for (customer, feature) in [(None, None), (Some("Customer"), Some("Feature Area"))] {
        match read_search_page(data, customer, feature, LINK) {
            Ok(inquiries) => inquiries.iter().for_each(check::inquiry),
            Err(e) => check::error(&e),
        }
    }
});
