//! KPI formulas on hand-computed fixtures (domain.md §4): every expected
//! number below is worked out in the comments from the fixture, not read
//! back from the code. Business hours: Tokyo, Mon–Fri 09:00–18:00, Monday
//! 2026-11-23 a holiday, urgent counted around the clock. The clock stands
//! at Saturday 2026-11-21 10:00 UTC (19:00 JST).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cre_cockpit::core::domain::{
    DeskUpdate, Inquiry, InquiryHistory, InquiryStatus, Priority, SlaClock, SlaMetric, SourceKind,
};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::insight::kpi::{
    self, ClosedHistory, Durations, Inputs, Kpi, Kpis, Rate, WindowKpis,
};
use cre_cockpit::insight::sla::Policy;
use cre_cockpit::insight::sla::{BusinessHoursConfig, SlaConfig};
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Settings, SourceState};
use jiff::Timestamp;

fn ts(raw: &str) -> Timestamp {
    raw.parse().unwrap()
}

fn now() -> Timestamp {
    ts("2026-11-21T10:00:00Z")
}

fn tokyo() -> Policy {
    Policy::from_config(&SlaConfig {
        business_hours: Some(BusinessHoursConfig {
            time_zone: "Asia/Tokyo".into(),
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            open: "09:00".into(),
            close: "18:00".into(),
            holidays: vec!["2026-11-23".into()],
            calendar_priorities: vec!["urgent".into()],
        }),
        ..SlaConfig::default()
    })
    .unwrap()
}

fn inquiry(id: &str, priority: Priority, status: InquiryStatus, created: &str) -> Inquiry {
    let mut i = common::inquiry(id, id, "Acme Corp", priority, 0);
    i.status = status;
    i.created_at = ts(created);
    i.updated_at = ts(created);
    i.tags = Vec::new();
    i
}

/// Answered at `reply`, as Zendesk's metric sets report it.
fn answered(mut i: Inquiry, reply: &str) -> Inquiry {
    i.replied = true;
    i.history.first_reply_at = Some(ts(reply));
    i
}

/// Solved at `at` with `replies` public replies and `reopens` reopens.
fn solved(id: &str, status: InquiryStatus, at: &str, replies: u32, reopens: u32) -> Inquiry {
    let mut i = answered(
        inquiry(id, Priority::Normal, status, "2026-11-09T00:00:00Z"),
        "2026-11-10T00:00:00Z",
    );
    i.updated_at = ts(at);
    i.history = InquiryHistory {
        solved_at: Some(ts(at)),
        replies: Some(replies),
        reopens: Some(reopens),
        ..i.history
    };
    i
}

struct Fixture {
    open: Vec<Inquiry>,
    closed: Vec<Inquiry>,
}

fn fixture() -> Fixture {
    // A: normal, created Fri 17:30 JST, answered Sat 12:00 JST. Calendar
    // 18h30m; business 30m (Friday 17:30–18:00, then the weekend). Its
    // target (8 business hours) is Tue 16:30 JST: met, decided at the reply.
    let a = answered(
        inquiry(
            "A",
            Priority::Normal,
            InquiryStatus::Pending,
            "2026-11-20T08:30:00Z",
        ),
        "2026-11-21T03:00:00Z",
    );
    // B: urgent (calendar hours), created 01:00Z, answered 02:30Z: 1h30m
    // either way; the 1 h target passed at 02:00Z — missed, decided at
    // 02:00Z, exactly the start of the shift window.
    let b = answered(
        inquiry(
            "B",
            Priority::Urgent,
            InquiryStatus::Pending,
            "2026-11-21T01:00:00Z",
        ),
        "2026-11-21T02:30:00Z",
    );
    // C: high, created Fri 08:00 JST (before opening), answered 10:00 JST:
    // calendar 2h, business 1h; target Fri 13:00 JST — met, on the 20th at
    // 01:00Z: only in the 7-day window.
    let c = answered(
        inquiry(
            "C",
            Priority::High,
            InquiryStatus::Pending,
            "2026-11-19T23:00:00Z",
        ),
        "2026-11-20T01:00:00Z",
    );
    // A, B and C now wait on their customers (pending): they feed the reply
    // KPIs and the pending count, not the rates or the backlog.
    // D: open, never answered, its running first-reply clock ran out at
    // 05:00Z — missed, decided then.
    let mut d = inquiry(
        "D",
        Priority::Normal,
        InquiryStatus::Open,
        "2026-11-21T00:00:00Z",
    );
    d.sla = Some(SlaClock {
        metric: SlaMetric::FirstReply,
        due: ts("2026-11-21T05:00:00Z"),
        business_hours: true,
    });
    // E: open, not answered, due in the future: undecided.
    let mut e = inquiry(
        "E",
        Priority::High,
        InquiryStatus::Open,
        "2026-11-21T08:00:00Z",
    );
    e.sla = Some(SlaClock {
        metric: SlaMetric::FirstReply,
        due: ts("2026-11-21T12:00:00Z"),
        business_hours: true,
    });
    // F: pending on the customer (clock paused), not in the backlog.
    let f = inquiry(
        "F",
        Priority::Low,
        InquiryStatus::Pending,
        "2026-11-21T09:00:00Z",
    );
    // J: normal, created Wed 09:00 JST, answered 10:00 JST (1 h either way,
    // target Wed 17:00 JST met: 7-day window), solved at 07:00Z today and
    // reopened since.
    let mut j = inquiry(
        "J",
        Priority::Normal,
        InquiryStatus::Open,
        "2026-11-18T00:00:00Z",
    );
    j.replied = true;
    j.history.first_reply_at = Some(ts("2026-11-18T01:00:00Z"));
    j.history.solved_at = Some(ts("2026-11-21T07:00:00Z"));
    // Solved ones: G one-touch and escalated (shift); H three replies and
    // reopened before (shift); I no reply at all (24 h); K two replies
    // (7 days).
    let mut g = solved("G", InquiryStatus::Solved, "2026-11-21T04:00:00Z", 1, 0);
    g.tags = vec!["escalated".into(), "escalated-cre".into()];
    let h = solved("H", InquiryStatus::Closed, "2026-11-21T06:00:00Z", 3, 1);
    let i = solved("I", InquiryStatus::Solved, "2026-11-20T12:00:00Z", 0, 0);
    let mut k = solved("K", InquiryStatus::Solved, "2026-11-16T00:00:00Z", 2, 0);
    k.tags = vec!["vip".into()];
    Fixture {
        open: vec![a, b, c, d, e, f, j],
        closed: vec![g, h, i, k],
    }
}

fn desk() -> SourceState {
    let mut desk = SourceState::new(SourceKind::Desk, Vendor::Zendesk);
    desk.succeeded(now(), None);
    desk
}

fn compute(f: &Fixture, policy: &Policy, closed_from: Timestamp) -> Kpis {
    let closed: Vec<&Inquiry> = f.closed.iter().collect();
    let desk = desk();
    kpi::compute(&Inputs {
        open: &f.open,
        closed: &closed,
        closed_from: Some(closed_from),
        desk: Some(&desk),
        policy,
        shift: Duration::from_secs(8 * 3600),
        now: now(),
    })
}

fn durations<'a>(k: &'a Kpi<Durations>, what: &str) -> &'a Durations {
    k.value()
        .unwrap_or_else(|| panic!("{what}: n/a: {:?}", k.reason()))
}

fn rate(k: &Kpi<Rate>, what: &str) -> (usize, usize) {
    let r = k
        .value()
        .unwrap_or_else(|| panic!("{what}: n/a: {:?}", k.reason()));
    (r.count, r.of)
}

fn window<'a>(kpis: &'a Kpis, name: &str) -> &'a WindowKpis {
    kpis.windows.iter().find(|w| w.name == name).unwrap()
}

#[test]
fn every_kpi_of_every_window_matches_the_hand_computation() {
    let kpis = compute(&fixture(), &tokyo(), Timestamp::MIN);
    let names: Vec<(&str, &str)> = kpis
        .windows
        .iter()
        .map(|w| (w.name, w.label.as_str()))
        .collect();
    assert_eq!(names, [("shift", "8h"), ("day", "24h"), ("week", "7d")]);

    let shift = window(&kpis, "shift");
    assert_eq!(shift.from, ts("2026-11-21T02:00:00Z"));
    // First replies in the shift: B 1h30m, A 18h30m (calendar); business
    // A 30m, B 1h30m (urgent counts calendar hours).
    let frt = durations(&shift.first_reply, "shift FRT");
    assert_eq!((frt.n, frt.median_secs, frt.p90_secs), (2, 5_400, 66_600));
    let frt = durations(&shift.first_reply_business, "shift business FRT");
    assert_eq!((frt.median_secs, frt.p90_secs), (1_800, 5_400));
    // A met; B missed at 02:00Z; D missed at 05:00Z; E undecided.
    assert_eq!(rate(&shift.sla_achievement, "shift SLA"), (1, 3));
    let sla = shift.sla_achievement.value().unwrap();
    assert!((sla.percent - 100.0 / 3.0).abs() < 1e-9);
    // Created in the shift: E and F. Solved (and still solved): G and H.
    assert_eq!(shift.created, Kpi::Value(2));
    assert_eq!(shift.solved, Kpi::Value(2));
    assert_eq!(rate(&shift.one_touch, "shift one-touch"), (1, 2)); // G
    assert_eq!(rate(&shift.escalation_rate, "shift escalation"), (1, 2)); // G
    // Reopen base: G, H and J (solved in the shift, open again); reopened:
    // H (earlier) and J.
    assert_eq!(rate(&shift.reopen_rate, "shift reopen"), (2, 3));

    let day = window(&kpis, "day");
    let frt = durations(&day.first_reply, "day FRT");
    assert_eq!((frt.n, frt.median_secs, frt.p90_secs), (2, 5_400, 66_600));
    assert_eq!(rate(&day.sla_achievement, "day SLA"), (1, 3));
    // Created: B, D, E, F (A was created at 08:30Z on the 20th, before).
    assert_eq!(day.created, Kpi::Value(4));
    assert_eq!(day.solved, Kpi::Value(3)); // G, H, I
    assert_eq!(rate(&day.one_touch, "day one-touch"), (2, 3)); // G, I
    assert_eq!(rate(&day.escalation_rate, "day escalation"), (1, 3));
    assert_eq!(rate(&day.reopen_rate, "day reopen"), (2, 4)); // H, J of G H I J

    let week = window(&kpis, "week");
    // Calendar J 1h, B 1h30m, C 2h, A 18h30m → median the 2nd smallest,
    // p90 the 4th (ceil(0.9 × 4)).
    let frt = durations(&week.first_reply, "week FRT");
    assert_eq!((frt.n, frt.median_secs, frt.p90_secs), (4, 5_400, 66_600));
    // Business A 30m, C 1h, J 1h, B 1h30m.
    let frt = durations(&week.first_reply_business, "week business FRT");
    assert_eq!((frt.median_secs, frt.p90_secs), (3_600, 5_400));
    // Met: A, C, J; missed: B, D.
    assert_eq!(rate(&week.sla_achievement, "week SLA"), (3, 5));
    assert_eq!(week.created, Kpi::Value(7)); // A B C D E F J
    assert_eq!(week.solved, Kpi::Value(4)); // G H I K
    assert_eq!(rate(&week.one_touch, "week one-touch"), (2, 4)); // G, I
    assert_eq!(rate(&week.escalation_rate, "week escalation"), (1, 4));
    assert_eq!(rate(&week.reopen_rate, "week reopen"), (2, 5));

    // Backlog now: D, E, J unsolved (A, B, C, F pending): ages 10h, 2h,
    // 3d10h.
    let backlog = kpis.backlog.value().unwrap();
    assert_eq!((backlog.unsolved, backlog.pending), (3, 4));
    let age = durations(&backlog.age, "backlog age");
    assert_eq!((age.median_secs, age.p90_secs), (36_000, 295_200));
}

#[test]
fn without_business_hours_the_business_figure_is_not_invented() {
    let kpis = compute(&fixture(), &Policy::default(), Timestamp::MIN);
    let shift = window(&kpis, "shift");
    assert_eq!(
        shift.first_reply_business.reason(),
        Some("no business hours configured ([sla.business_hours])")
    );
    // Calendar targets: A's 8 hours ran out at 16:30Z yesterday, so its
    // miss was decided then — in the 24-hour window, not the shift, which
    // keeps B and D (both missed).
    assert_eq!(rate(&shift.sla_achievement, "shift SLA"), (0, 2));
    assert_eq!(
        rate(&window(&kpis, "day").sla_achievement, "day SLA"),
        (0, 3)
    );
}

#[test]
fn windows_older_than_the_closed_history_say_so() {
    // The desk listed no closed history: the cockpit has seen closures
    // only since 06:30Z — inside the shift.
    let kpis = compute(&fixture(), &tokyo(), ts("2026-11-21T06:30:00Z"));
    for w in &kpis.windows {
        for (what, reason) in [
            ("FRT", w.first_reply.reason()),
            ("SLA", w.sla_achievement.reason()),
            ("reopen", w.reopen_rate.reason()),
            ("one-touch", w.one_touch.reason()),
            ("escalation", w.escalation_rate.reason()),
        ] {
            let reason = reason.unwrap_or_else(|| panic!("{} {what} has a value", w.name));
            assert!(
                reason.contains("closed inquiries known only since 06:30 UTC"),
                "{what}: {reason}"
            );
        }
    }
    // The backlog is about now and needs no history.
    assert_eq!(kpis.backlog.value().unwrap().unsolved, 3);
    // Once the history covers the shift, the shift has numbers again.
    let kpis = compute(&fixture(), &tokyo(), ts("2026-11-21T02:00:00Z"));
    assert!(window(&kpis, "shift").one_touch.value().is_some());
    assert!(window(&kpis, "day").one_touch.value().is_none());
}

#[test]
fn empty_windows_are_not_zero_percent() {
    // Only an old, long-solved inquiry and nothing open.
    let f = Fixture {
        open: Vec::new(),
        closed: vec![solved(
            "Z",
            InquiryStatus::Closed,
            "2026-10-01T00:00:00Z",
            1,
            0,
        )],
    };
    let kpis = compute(&f, &tokyo(), Timestamp::MIN);
    for w in &kpis.windows {
        assert_eq!(w.created, Kpi::Value(0), "{}", w.name);
        assert_eq!(w.solved, Kpi::Value(0), "{}", w.name);
        assert_eq!(
            w.one_touch.reason(),
            Some("no inquiries solved in this window")
        );
        assert_eq!(
            w.reopen_rate.reason(),
            Some("no inquiries solved in this window")
        );
        assert_eq!(
            w.first_reply.reason(),
            Some("no first replies in this window")
        );
        assert_eq!(
            w.sla_achievement.reason(),
            Some("no first-reply target met or missed in this window")
        );
    }
    let backlog = kpis.backlog.value().unwrap();
    assert_eq!(backlog.unsolved, 0);
    assert_eq!(backlog.age.reason(), Some("the backlog is empty"));
}

#[test]
fn a_desk_that_counts_nothing_gets_reasons_not_zeros() {
    // What RT reports: solve times, no reply counts, no reopens, no first
    // reply times, no tags.
    let mut f = fixture();
    for i in f.open.iter_mut().chain(f.closed.iter_mut()) {
        i.history = InquiryHistory {
            solved_at: i.history.solved_at,
            ..InquiryHistory::default()
        };
        i.tags.clear();
    }
    let kpis = compute(&f, &tokyo(), Timestamp::MIN);
    let shift = window(&kpis, "shift");
    assert_eq!(
        shift.first_reply.reason(),
        Some("the desk reports no first-reply times")
    );
    assert_eq!(
        shift.one_touch.reason(),
        Some("the desk does not report reply counts")
    );
    // J (solved, then reopened) alone would make a 100% reopen rate out of
    // the one inquiry whose reopening happens to show.
    assert_eq!(
        shift.reopen_rate.reason(),
        Some("the desk does not report reopen counts")
    );
    assert_eq!(
        shift.escalation_rate.reason(),
        Some("no inquiry carries tags, so escalations cannot be seen")
    );
    // D missed while waiting, but A and B were answered at an unknown time:
    // 0 of 1 would be a number about a third of the shift's targets.
    assert_eq!(
        shift.sla_achievement.reason(),
        Some("first-reply time unknown for 2 answered inquiries (the desk does not report it)")
    );
    assert_eq!(shift.solved, Kpi::Value(2), "solve times are still known");
}

#[test]
fn no_desk_or_no_answer_yet_is_said_for_every_kpi() {
    let policy = tokyo();
    let f = fixture();
    let run = |desk: Option<&SourceState>, closed_from: Option<Timestamp>| {
        kpi::compute(&Inputs {
            open: &f.open,
            closed: &[],
            closed_from,
            desk,
            policy: &policy,
            shift: Duration::from_secs(12 * 3600),
            now: now(),
        })
    };
    let none = run(None, None);
    assert_eq!(none.backlog.reason(), Some("no desk configured"));
    assert_eq!(
        none.windows[0].label, "12h",
        "the shift length is configurable"
    );
    let mut failing = SourceState::new(SourceKind::Desk, Vendor::Rt);
    failing.failed(now(), "HTTP 503".into());
    let down = run(Some(&failing), None);
    assert_eq!(
        down.windows[2].one_touch.reason(),
        Some("the desk has not answered: HTTP 503")
    );
    let waiting = run(Some(&SourceState::new(SourceKind::Desk, Vendor::Rt)), None);
    assert_eq!(
        waiting.backlog.reason(),
        Some("waiting for the desk's first answer")
    );
}

fn desk_update(full: bool, changed: Vec<Inquiry>) -> Message {
    Message::Desk {
        vendor: Vendor::Zendesk,
        at: now(),
        result: Ok(DeskUpdate {
            full,
            changed,
            removed: Vec::new(),
            requests: 1,
        }),
    }
}

fn model() -> Model {
    Model::new(
        Settings::default(),
        vec![SourceState::new(SourceKind::Desk, Vendor::Zendesk)],
        now(),
    )
}

#[test]
fn the_model_keeps_recent_closures_and_knows_how_far_back_they_go() {
    // A full read with closed inquiries in it: the desk's whole history.
    let mut m = model();
    let f = fixture();
    let mut old = solved("OLD", InquiryStatus::Closed, "2026-10-01T00:00:00Z", 1, 0);
    old.updated_at = ts("2026-10-01T00:00:00Z");
    let mut all = f.open.clone();
    all.extend(f.closed.clone());
    all.push(old);
    m.update(desk_update(true, all));
    assert_eq!(m.data.closed_from, Some(Timestamp::MIN));
    assert_eq!(m.data.inquiries.len(), 7, "the panes keep open ones only");
    assert_eq!(m.data.closed.len(), 4, "closures older than 8 days dropped");
    assert_eq!(m.kpis.closed_history, ClosedHistory::Complete);
    assert_eq!(m.kpis.windows[2].solved, Kpi::Value(4));

    // J is solved again, G reopened: the KPIs follow.
    let mut j = m.data.inquiry("J").unwrap().clone();
    j.status = InquiryStatus::Solved;
    j.history.replies = Some(1);
    j.history.reopens = Some(1);
    let mut g = m.data.closed["G"].clone();
    g.status = InquiryStatus::Open;
    m.update(desk_update(false, vec![j, g]));
    assert!(m.data.closed.contains_key("J") && !m.data.closed.contains_key("G"));
    assert!(m.data.inquiry("G").is_some());
    // Shift solved: H and J (G is open again).
    assert_eq!(m.kpis.windows[0].solved, Kpi::Value(2));

    // A full read of open inquiries only (RT, or a resumed desk): nothing
    // is known about what closed before this poll.
    let mut m = model();
    m.update(desk_update(true, f.open.clone()));
    assert_eq!(m.data.closed_from, Some(now()));
    assert_eq!(m.kpis.closed_history, ClosedHistory::Since(now()));
    assert!(
        m.kpis.windows[0]
            .one_touch
            .reason()
            .unwrap()
            .contains("known only since 10:00 UTC"),
        "{:?}",
        m.kpis.windows[0].one_touch
    );
}

/// The render fixture's desk with history: 103 was answered after an hour;
/// C1 (escalated, one reply) and C2 (three replies, reopened once) were
/// solved this shift, C3 three days ago; a closed inquiry in the full read
/// means the desk listed its whole history.
fn kpi_screen_model() -> Model {
    let mut m = common::model();
    let mut open = common::inquiries();
    let i103 = open.iter_mut().find(|i| i.id == "103").unwrap();
    i103.replied = true;
    i103.history.first_reply_at = Some(common::ago(540));
    let closed = |id: &str, solved_min_ago: i64, replies: u32, reopens: u32, tags: &[&str]| {
        let mut i = common::inquiry(id, "done", "Globex", Priority::Normal, solved_min_ago + 240);
        i.status = InquiryStatus::Solved;
        i.replied = true;
        i.tags = tags.iter().map(|t| (*t).into()).collect();
        i.history = InquiryHistory {
            first_reply_at: Some(common::ago(solved_min_ago + 210)),
            solved_at: Some(common::ago(solved_min_ago)),
            replies: Some(replies),
            reopens: Some(reopens),
        };
        i
    };
    let mut all = open;
    all.push(closed("C1", 60, 1, 0, &["escalated"]));
    all.push(closed("C2", 180, 3, 1, &[]));
    all.push(closed("C3", 3 * 24 * 60, 1, 0, &[]));
    m.update(desk_update_at(common::now(), all));
    m
}

fn desk_update_at(at: Timestamp, changed: Vec<Inquiry>) -> Message {
    Message::Desk {
        vendor: Vendor::Zendesk,
        at,
        result: Ok(DeskUpdate {
            full: true,
            changed,
            removed: Vec::new(),
            requests: 1,
        }),
    }
}

#[test]
fn the_strip_shows_the_shift_and_the_view_every_window_with_reasons() {
    let mut m = kpi_screen_model();
    // Shift (02:00–10:00Z): first replies C1 30m, C2 30m (103's was at
    // 01:00Z); SLA C1, C2 met and 101 missed at 09:30Z; solved C1, C2.
    let text = common::screen(&common::render(&mut m, 200, 50));
    let strip = text.lines().nth(1).unwrap();
    assert!(
        strip.starts_with(
            " KPI 8h  SLA 67% (2/3)  first reply 30m p90 30m  backlog 4 age p90 10h00m  reopen 50%  escalated 50%  one-touch 50%"
        ),
        "{strip}"
    );
    assert!(
        !strip.contains("why n/a"),
        "nothing in the strip is n/a: {strip}"
    );
    insta::assert_snapshot!("kpi_strip_200x50", text);

    // At 80 columns whole segments drop off the end, none is cut.
    let text = common::screen(&common::render(&mut m, 80, 24));
    let strip = text.lines().nth(1).unwrap();
    assert_eq!(
        strip.trim_end(),
        " KPI 8h  SLA 67% (2/3)  first reply 30m p90 30m  backlog 4 age p90 10h00m"
    );

    m.update(common::key('K'));
    assert!(matches!(m.overlay, cre_cockpit::model::Overlay::Kpi { .. }));
    let text = common::screen(&common::render(&mut m, 200, 50));
    for needle in [
        "shift 8h",
        "24h",
        "7d",
        // Week: C1, C2, C3 and 103 answered → 30m 30m 30m 1h.
        "30m / 1h00m",
        // Week SLA: C1 C2 C3 103 met, 101 missed.
        "80% (4/5)",
        // Week one-touch: C1, C3 of C1 C2 C3.
        "67% (2/3)",
        "n/a [1]",
        "[1] n/a: no business hours configured ([sla.business_hours])",
        "4 unsolved (new, open, on-hold), 0 pending · age p50 30m, p90 10h00m",
        "closed-inquiry history complete",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    insta::assert_snapshot!("kpi_view_200x50", text);
    let text = common::screen(&common::render(&mut m, 80, 24));
    assert!(text.contains("First-reply SLA met"), "{text}");
    assert!(text.contains("67% (2/3)"), "{text}");
    insta::assert_snapshot!("kpi_view_80x24", text);

    // K again (or esc) closes it.
    m.update(common::key('K'));
    assert_eq!(m.overlay, cre_cockpit::model::Overlay::None);
}

#[test]
fn a_strip_with_nothing_to_show_says_why_once() {
    let settings = Settings::default();
    let mut m = Model::new(settings, Vec::new(), now());
    let text = common::screen(&common::render(&mut m, 80, 24));
    assert_eq!(
        text.lines().nth(1).unwrap().trim_end(),
        " KPI 8h n/a: no desk configured"
    );
}
