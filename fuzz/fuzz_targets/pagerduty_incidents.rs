//! A PagerDuty `GET /incidents` page (with assignees and priorities
//! included) through the adapter's own decoding and conversion.
#![no_main]

use cre_cockpit::sources::pagerduty::read_incidents_page;
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| match read_incidents_page(data) {
    Ok(incidents) => {
        for incident in &incidents {
            check::incident(incident);
            if let Some(url) = &incident.url {
                assert!(
                    url.starts_with("https://") || url.starts_with("http://"),
                    "{url:?} opened in a browser"
                );
            }
        }
    }
    Err(e) => check::error(&e),
});
