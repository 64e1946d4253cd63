//! The config file: TOML text to a validated `Config` (key bindings, SLA
//! policy, views and their filter expressions, health thresholds), or an
//! error that names a line of the text and a key.
#![no_main]

use cre_cockpit::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The file is read with `read_to_string`: only UTF-8 gets this far.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = Config::parse(text) {
        let lines = text.split('\n').count();
        assert!(
            (1..=lines).contains(&e.line),
            "line {} of a {lines}-line file ({}: {})",
            e.line,
            e.key,
            e.message
        );
        assert!(!e.key.is_empty(), "an error naming no key: {}", e.message);
        assert!(
            !e.message.is_empty(),
            "an error without a message at {}",
            e.key
        );
    }
});
