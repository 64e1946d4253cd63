//! A Prometheus `/api/v1/query` or `/api/v1/query_range` answer, read as
//! both an instant vector and a range matrix.
#![no_main]

use cre_cockpit::sources::prometheus::read_answer;
use cre_cockpit_fuzz as check;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for range in [false, true] {
        match read_answer(data, range, "tenant") {
            Ok(answer) => {
                for series in &answer.series {
                    if let Some(tenant) = &series.tenant {
                        check::line("tenant", tenant);
                        assert!(!tenant.is_empty(), "an empty tenant is no tenant");
                    }
                }
                for warning in &answer.warnings {
                    check::line("warning", warning);
                }
            }
            Err(e) => check::error(&e),
        }
    }
});
