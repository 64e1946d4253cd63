//! The accounts file: CRM-exported CSV to accounts, or an error naming the
//! line and column to fix in the spreadsheet.
#![no_main]

use std::collections::BTreeSet;

use cre_cockpit::sources::accounts::{AccountsError, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The file is read with `read_to_string`: only UTF-8 gets this far.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(accounts) => {
            let ids: BTreeSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
            assert_eq!(ids.len(), accounts.len(), "duplicate account ids accepted");
            for a in &accounts {
                for (column, value) in [
                    ("id", a.id.as_str()),
                    ("name", a.name.as_str()),
                    ("desk_org", a.desk_org.as_str()),
                    ("tenant", a.tenant.as_str()),
                    ("owner", a.owner.as_str()),
                ] {
                    assert!(!value.is_empty(), "empty {column} accepted");
                }
                assert!(a.arr.is_finite() && a.arr >= 0.0, "arr {}", a.arr);
                assert!(a.nps.is_none_or(|n| n <= 10), "nps {:?}", a.nps);
                assert!(
                    a.csat.is_none_or(|c| (0.0..=1.0).contains(&c)),
                    "csat {:?}",
                    a.csat
                );
            }
        }
        Err(AccountsError::Invalid {
            line,
            column,
            message,
            ..
        }) => {
            let lines = text.split('\n').count();
            assert!(
                (1..=lines as u64).contains(&line),
                "line {line} of a {lines}-line file ({column}: {message})"
            );
            assert!(
                !column.is_empty() && !message.is_empty(),
                "an error naming nothing"
            );
        }
        Err(AccountsError::Read { .. }) => unreachable!("parse reads no file"),
    }
});
