//! SLA clocks computed from the configured policy, for desks that report no
//! targets of their own: first reply and next reply per priority, counted in
//! calendar hours or in the business hours of a working calendar with its
//! own time zone (holidays and daylight-saving changes included).

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;

use std::time::Duration;

use serde::Deserialize;

use crate::core::domain::{Inquiry, InquiryStatus, Priority, SlaClock, SlaMetric};
use crate::core::durations::{duration, optional_duration};

/// SLA policy used when the desk reports no targets of its own: first-reply
/// targets per priority (the four top-level keys), optional next-reply
/// targets, and optional business hours (see `crate::insight::sla`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    #[serde(deserialize_with = "duration")]
    pub urgent: Duration,
    #[serde(deserialize_with = "duration")]
    pub high: Duration,
    #[serde(deserialize_with = "duration")]
    pub normal: Duration,
    #[serde(deserialize_with = "duration")]
    pub low: Duration,
    /// Next-reply targets; a priority left out uses its first-reply target.
    pub next_reply: Option<PriorityTargets>,
    /// When present, targets count business hours in this calendar.
    pub business_hours: Option<BusinessHoursConfig>,
}

/// A target per priority, each optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityTargets {
    #[serde(deserialize_with = "optional_duration")]
    pub urgent: Option<Duration>,
    #[serde(deserialize_with = "optional_duration")]
    pub high: Option<Duration>,
    #[serde(deserialize_with = "optional_duration")]
    pub normal: Option<Duration>,
    #[serde(deserialize_with = "optional_duration")]
    pub low: Option<Duration>,
}

/// The support team's working week. Validated (time zone, times, days) by
/// `crate::insight::sla::Policy::from_config`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BusinessHoursConfig {
    /// IANA time zone name, e.g. "Asia/Tokyo".
    pub time_zone: String,
    /// Working days, e.g. ["mon", "tue", "wed", "thu", "fri"] (the default).
    #[serde(default = "default_working_days")]
    pub days: Vec<String>,
    /// Opening and closing time of each working day, "HH:MM".
    #[serde(default = "default_open")]
    pub open: String,
    #[serde(default = "default_close")]
    pub close: String,
    /// Dates ("YYYY-MM-DD") that are not working days.
    #[serde(default)]
    pub holidays: Vec<String>,
    /// Priorities whose clocks run around the clock anyway, e.g. ["urgent"].
    #[serde(default)]
    pub calendar_priorities: Vec<String>,
}

fn default_working_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"]
        .map(String::from)
        .to_vec()
}

fn default_open() -> String {
    "09:00".into()
}

fn default_close() -> String {
    "17:00".into()
}

impl Default for SlaConfig {
    fn default() -> Self {
        Self {
            urgent: Duration::from_secs(3600),
            high: Duration::from_secs(4 * 3600),
            normal: Duration::from_secs(8 * 3600),
            low: Duration::from_secs(24 * 3600),
            next_reply: None,
            business_hours: None,
        }
    }
}

/// Longest stretch searched for business time: a target that does not fit
/// into ten years of the calendar is a configuration mistake, not a clock.
const MAX_DAYS: usize = 3660;

const PRIORITIES: [Priority; 4] = [
    Priority::Urgent,
    Priority::High,
    Priority::Normal,
    Priority::Low,
];

/// A validated SLA policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    first_reply: [SignedDuration; 4],
    next_reply: [SignedDuration; 4],
    business: Option<BusinessHours>,
    /// Priorities that count calendar hours even with business hours set.
    calendar: [bool; 4],
}

impl Default for Policy {
    fn default() -> Self {
        // The default config has no time zone to look up, so it cannot fail.
        Self::from_config(&SlaConfig::default()).unwrap_or(Self {
            first_reply: [SignedDuration::from_hours(1); 4],
            next_reply: [SignedDuration::from_hours(1); 4],
            business: None,
            calendar: [true; 4],
        })
    }
}

/// A working calendar: which days, which hours, in which time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    tz: TimeZone,
    /// Monday first.
    days: [bool; 7],
    open: Time,
    close: Time,
    holidays: BTreeSet<Date>,
}

/// A config problem: the dotted key and what is wrong with it.
pub type PolicyError = (String, String);

fn signed(d: std::time::Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

fn priority_name(p: Priority) -> &'static str {
    p.into()
}

impl Policy {
    /// Validate `[sla]`; errors name the offending key.
    pub fn from_config(config: &SlaConfig) -> Result<Self, PolicyError> {
        let first_reply = [config.urgent, config.high, config.normal, config.low].map(signed);
        let next = config.next_reply.clone().unwrap_or_default();
        let next_reply = [next.urgent, next.high, next.normal, next.low];
        let mut next_reply_targets = first_reply;
        for (i, target) in next_reply.into_iter().enumerate() {
            if let Some(target) = target {
                next_reply_targets[i] = signed(target);
            }
        }
        let (business, calendar) = match &config.business_hours {
            None => (None, [true; 4]),
            Some(b) => {
                let mut calendar = [false; 4];
                for name in &b.calendar_priorities {
                    let i = PRIORITIES
                        .iter()
                        .position(|p| priority_name(*p) == name.trim().to_ascii_lowercase())
                        .ok_or_else(|| {
                            (
                                "sla.business_hours.calendar_priorities".to_owned(),
                                format!("unknown priority {name:?} (urgent, high, normal, low)"),
                            )
                        })?;
                    calendar[i] = true;
                }
                (Some(BusinessHours::from_config(b)?), calendar)
            }
        };
        Ok(Self {
            first_reply,
            next_reply: next_reply_targets,
            business,
            calendar,
        })
    }

    /// Whether clocks of this priority count business hours.
    #[must_use]
    pub fn business_hours(&self, priority: Priority) -> bool {
        self.business.is_some() && !self.calendar[priority as usize]
    }

    /// The working calendar, when targets count business hours.
    #[must_use]
    pub fn calendar(&self) -> Option<&BusinessHours> {
        self.business.as_ref()
    }

    /// When the first-reply target of an inquiry of `priority` created at
    /// `created` falls due, counted as the policy counts that priority.
    #[must_use]
    pub fn first_reply_due(&self, priority: Priority, created: Timestamp) -> Option<Timestamp> {
        let target = self.first_reply[priority as usize];
        match (&self.business, self.business_hours(priority)) {
            (Some(calendar), true) => calendar.add(created, target),
            _ => created.checked_add(target).ok(),
        }
    }

    /// The time from `from` to `to` as the policy counts it for `priority`:
    /// business time where its clocks count business hours, else calendar
    /// time. Never negative.
    #[must_use]
    pub fn elapsed(&self, priority: Priority, from: Timestamp, to: Timestamp) -> SignedDuration {
        match (&self.business, self.business_hours(priority)) {
            (Some(calendar), true) => calendar.between(from, to),
            _ => to.duration_since(from).max(SignedDuration::ZERO),
        }
    }

    /// The clock of an inquiry: first reply counts from creation until an
    /// agent has replied; after that the next reply counts from the last
    /// update. Pending and on-hold inquiries wait on the customer, so their
    /// clock is paused (none shown); closed ones have none.
    #[must_use]
    pub fn clock(&self, inquiry: &Inquiry) -> Option<SlaClock> {
        if matches!(inquiry.status, InquiryStatus::Pending | InquiryStatus::Hold)
            || !inquiry.status.is_open()
        {
            return None;
        }
        let p = inquiry.priority as usize;
        let (metric, from, target) = if inquiry.replied {
            (SlaMetric::NextReply, inquiry.updated_at, self.next_reply[p])
        } else {
            (
                SlaMetric::FirstReply,
                inquiry.created_at,
                self.first_reply[p],
            )
        };
        let business_hours = self.business_hours(inquiry.priority);
        let due = match (&self.business, business_hours) {
            (Some(calendar), true) => calendar.add(from, target)?,
            _ => from.checked_add(target).ok()?,
        };
        Some(SlaClock {
            metric,
            due,
            business_hours,
        })
    }
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.trim().to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

impl BusinessHours {
    /// Validate `[sla.business_hours]`.
    pub fn from_config(config: &BusinessHoursConfig) -> Result<Self, PolicyError> {
        let key = |k: &str| format!("sla.business_hours.{k}");
        let tz = TimeZone::get(config.time_zone.trim()).map_err(|_| {
            (
                key("time_zone"),
                format!(
                    "unknown time zone {:?} (use an IANA name such as \"Europe/Berlin\")",
                    config.time_zone
                ),
            )
        })?;
        let mut days = [false; 7];
        for name in &config.days {
            let day = weekday(name).ok_or_else(|| {
                (
                    key("days"),
                    format!("unknown day {name:?} (mon, tue, wed, thu, fri, sat, sun)"),
                )
            })?;
            days[usize::from(day.to_monday_zero_offset().unsigned_abs())] = true;
        }
        if !days.contains(&true) {
            return Err((key("days"), "at least one working day is needed".into()));
        }
        let time = |k: &str, raw: &str| {
            raw.trim()
                .parse::<Time>()
                .map_err(|_| (key(k), format!("invalid time {raw:?} (write \"HH:MM\")")))
        };
        let open = time("open", &config.open)?;
        let close = time("close", &config.close)?;
        if close <= open {
            return Err((
                key("close"),
                format!("closing time {} is not after opening time {}", close, open),
            ));
        }
        let holidays = config
            .holidays
            .iter()
            .map(|raw| {
                raw.trim().parse::<Date>().map_err(|_| {
                    (
                        key("holidays"),
                        format!("invalid date {raw:?} (write \"YYYY-MM-DD\")"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            tz,
            days,
            open,
            close,
            holidays,
        })
    }

    fn working(&self, date: Date) -> bool {
        self.days[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())]
            && !self.holidays.contains(&date)
    }

    /// The instant in this zone of a local date and time. A time skipped by a
    /// daylight-saving jump resolves to the instant just after the gap.
    fn at(&self, date: Date, time: Time) -> Option<Timestamp> {
        date.to_datetime(time)
            .to_zoned(self.tz.clone())
            .ok()
            .map(|z| z.timestamp())
    }

    /// The business time between two instants: the parts of working days
    /// between opening and closing that fall in `[from, to)`. Zero when `to`
    /// is not after `from`; the inverse of [`BusinessHours::add`].
    #[must_use]
    pub fn between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        let mut total = SignedDuration::ZERO;
        if to <= from {
            return total;
        }
        let mut date = from.to_zoned(self.tz.clone()).date();
        let last = to.to_zoned(self.tz.clone()).date();
        for _ in 0..MAX_DAYS {
            if self.working(date)
                && let (Some(open), Some(close)) =
                    (self.at(date, self.open), self.at(date, self.close))
            {
                let (begin, end) = (from.max(open), to.min(close));
                if begin < end {
                    total += end.duration_since(begin);
                }
            }
            if date >= last {
                break;
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        total
    }

    /// The instant `work` of business time after `start`.
    #[must_use]
    pub fn add(&self, start: Timestamp, work: SignedDuration) -> Option<Timestamp> {
        let mut left = work.max(SignedDuration::ZERO);
        let local = start.to_zoned(self.tz.clone());
        let mut date = local.date();
        let mut from = start;
        for _ in 0..MAX_DAYS {
            if self.working(date) {
                let open = self.at(date, self.open)?;
                let close = self.at(date, self.close)?;
                let begin = from.max(open);
                if begin < close {
                    let available = close.duration_since(begin);
                    if left <= available {
                        return begin.checked_add(left).ok();
                    }
                    left -= available;
                }
            }
            date = date.tomorrow().ok()?;
            from = self.at(date, Time::midnight())?;
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn tokyo_weekdays() -> BusinessHours {
        BusinessHours::from_config(&BusinessHoursConfig {
            time_zone: "Asia/Tokyo".into(),
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            open: "09:00".into(),
            close: "18:00".into(),
            holidays: vec!["2026-11-23".into()],
            calendar_priorities: Vec::new(),
        })
        .unwrap()
    }

    fn ts(raw: &str) -> Timestamp {
        raw.parse().unwrap()
    }

    #[test]
    fn business_time_skips_nights_weekends_and_holidays() {
        let cal = tokyo_weekdays();
        // Friday 2026-11-20 17:00 JST = 08:00Z; 4 business hours: 1 h on
        // Friday, the weekend and Monday's holiday skipped, 3 h on Tuesday.
        let due = cal
            .add(ts("2026-11-20T08:00:00Z"), SignedDuration::from_hours(4))
            .unwrap();
        assert_eq!(due, ts("2026-11-24T03:00:00Z")); // Tue 12:00 JST
        // Before opening, the clock starts at opening time.
        let due = cal
            .add(ts("2026-11-24T22:00:00Z"), SignedDuration::from_mins(30))
            .unwrap();
        assert_eq!(due, ts("2026-11-25T00:30:00Z")); // Wed 09:30 JST
    }

    #[test]
    fn business_time_follows_daylight_saving() {
        let cal = BusinessHours::from_config(&BusinessHoursConfig {
            time_zone: "Europe/Berlin".into(),
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            open: "09:00".into(),
            close: "17:00".into(),
            holidays: Vec::new(),
            calendar_priorities: Vec::new(),
        })
        .unwrap();
        // Friday 2026-10-23 16:00 CEST (14:00Z) + 2 h: 1 h Friday, then
        // Monday 10:00 CET (09:00Z) after the switch to winter time.
        let due = cal
            .add(ts("2026-10-23T14:00:00Z"), SignedDuration::from_hours(2))
            .unwrap();
        assert_eq!(due, ts("2026-10-26T09:00:00Z"));
    }

    #[test]
    fn business_time_between_skips_nights_weekends_and_holidays() {
        let cal = tokyo_weekdays();
        let hours = |from: &str, to: &str| cal.between(ts(from), ts(to));
        // Friday 17:30 JST to Monday-the-holiday 12:00 to Tuesday 09:30 JST:
        // 30 min on Friday, nothing on the weekend or the holiday, 30 min on
        // Tuesday.
        assert_eq!(
            hours("2026-11-20T08:30:00Z", "2026-11-24T00:30:00Z"),
            SignedDuration::from_hours(1)
        );
        // All of it outside opening hours: nothing.
        assert_eq!(
            hours("2026-11-24T10:00:00Z", "2026-11-24T23:00:00Z"),
            SignedDuration::ZERO
        );
        // Within one working day it is plain elapsed time.
        assert_eq!(
            hours("2026-11-25T01:00:00Z", "2026-11-25T02:15:00Z"),
            SignedDuration::from_mins(75)
        );
        // Backwards is zero, not negative.
        assert_eq!(
            hours("2026-11-25T02:15:00Z", "2026-11-25T01:00:00Z"),
            SignedDuration::ZERO
        );
        // The inverse of `add`.
        let start = ts("2026-11-20T07:10:00Z");
        for minutes in [1, 50, 540, 541, 2000] {
            let work = SignedDuration::from_mins(minutes);
            assert_eq!(cal.between(start, cal.add(start, work).unwrap()), work);
        }
    }

    #[test]
    fn bad_calendars_name_their_key() {
        let good = BusinessHoursConfig {
            time_zone: "UTC".into(),
            days: vec!["mon".into()],
            open: "09:00".into(),
            close: "17:00".into(),
            holidays: Vec::new(),
            calendar_priorities: Vec::new(),
        };
        let cases = [
            (
                BusinessHoursConfig {
                    time_zone: "Mars/Olympus".into(),
                    ..good.clone()
                },
                "sla.business_hours.time_zone",
            ),
            (
                BusinessHoursConfig {
                    days: vec!["someday".into()],
                    ..good.clone()
                },
                "sla.business_hours.days",
            ),
            (
                BusinessHoursConfig {
                    close: "08:00".into(),
                    ..good.clone()
                },
                "sla.business_hours.close",
            ),
            (
                BusinessHoursConfig {
                    holidays: vec!["25/12".into()],
                    ..good.clone()
                },
                "sla.business_hours.holidays",
            ),
        ];
        for (config, key) in cases {
            let (got, message) = BusinessHours::from_config(&config).unwrap_err();
            assert_eq!(got, key, "{message}");
        }
    }
}
