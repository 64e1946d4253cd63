//! SLA clocks from the configured policy, as inquiries arrive in the model:
//! first and next reply per priority, calendar or business hours.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inquiry, now};
use cre_cockpit::config::Config;
use cre_cockpit::core::domain::{DeskUpdate, Inquiry, Priority, SlaMetric};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::Model;
use cre_cockpit::model::message::Message;
use jiff::Timestamp;

fn arrive(config: &str, inquiries: Vec<Inquiry>) -> Model {
    let config = Config::parse(config).unwrap();
    let mut m = Model::new(config.settings(false), Vec::new(), now());
    m.update(Message::Desk {
        vendor: Vendor::Rt,
        at: now(),
        result: Ok(DeskUpdate {
            full: true,
            changed: inquiries,
            removed: Vec::new(),
            requests: 1,
        }),
    });
    m
}

fn ts(raw: &str) -> Timestamp {
    raw.parse().unwrap()
}

#[test]
fn todays_sla_keys_still_mean_calendar_first_reply_targets() {
    let m = arrive(
        "[sla]\nurgent = \"30m\"\nhigh = \"2h\"\nnormal = \"8h\"\nlow = \"24h\"\n",
        vec![inquiry("1", "a", "Globex", Priority::High, 60)],
    );
    let clock = m.data.inquiry("1").unwrap().sla.unwrap();
    assert_eq!(clock.metric, SlaMetric::FirstReply);
    assert_eq!(clock.due, now() + jiff::SignedDuration::from_hours(1));
    assert!(!clock.business_hours);
}

#[test]
fn next_reply_targets_and_business_hours_from_config() {
    let config = r#"
[sla]
urgent = "1h"
high = "4h"

[sla.next_reply]
high = "2h"

[sla.business_hours]
time_zone = "Asia/Tokyo"
days = ["mon", "tue", "wed", "thu", "fri"]
open = "09:00"
close = "18:00"
calendar_priorities = ["urgent"]
"#;
    // Saturday 2026-11-21 10:00Z (19:00 JST): outside business hours.
    let mut replied = inquiry("2", "b", "Globex", Priority::High, 0);
    replied.replied = true;
    let first = inquiry("3", "c", "Globex", Priority::High, 0);
    let urgent = inquiry("4", "d", "Globex", Priority::Urgent, 0);
    let m = arrive(config, vec![replied, first, urgent]);
    let clock = |id: &str| m.data.inquiry(id).unwrap().sla.unwrap();

    let next = clock("2");
    assert_eq!(next.metric, SlaMetric::NextReply);
    assert!(next.business_hours);
    // Monday 2026-11-23 09:00 JST + 2 business hours = 11:00 JST = 02:00Z.
    assert_eq!(next.due, ts("2026-11-23T02:00:00Z"));

    let first = clock("3");
    assert_eq!(first.metric, SlaMetric::FirstReply);
    assert_eq!(first.due, ts("2026-11-23T04:00:00Z"), "4 business hours");

    let urgent = clock("4");
    assert!(!urgent.business_hours, "urgent counts around the clock");
    assert_eq!(urgent.due, ts("2026-11-21T11:00:00Z"));

    // The pane says which: `b` for business, `c` for calendar hours.
    let mut m = m;
    let screen = common::screen(&common::render(&mut m, 160, 30));
    assert!(screen.contains("1h00m c"), "{screen}");
    assert!(screen.contains("1d16h b"), "{screen}");
}

#[test]
fn a_bad_time_zone_names_file_line_and_key() {
    let text = "[sla]\nurgent = \"1h\"\n\n[sla.business_hours]\ntime_zone = \"Mars/Olympus\"\n";
    let err = Config::parse(text).unwrap_err();
    assert_eq!(
        (err.line, err.key.as_str()),
        (5, "sla.business_hours.time_zone")
    );
    assert!(err.message.contains("unknown time zone"), "{}", err.message);
}
