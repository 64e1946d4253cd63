//! A PagerDuty `GET /incidents/{id}/notes` body, as opening an incident
//! reads it.
#![no_main]

use cre_cockpit::sources::pagerduty::read_notes;
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| match read_notes(data) {
    Ok(notes) => {
        notes.iter().for_each(check::note);
        assert!(
            notes.windows(2).all(|w| w[0].at <= w[1].at),
            "notes out of order"
        );
    }
    Err(e) => check::error(&e),
});
