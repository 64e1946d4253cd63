//! Zendesk wire types and their conversion into domain types.
//!
//! Every field is optional and unknown fields are ignored: the OAS marks most
//! of them nullable, and a desk with custom statuses or a newer API version
//! must not be able to break the whole queue.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::core::domain::{
    Attachment, Comment, DeskDetail, Inquiry, InquiryHistory, InquiryKind, InquiryStatus, Name,
    Priority, Satisfaction, SlaClock, SlaMetric,
};
use crate::core::sanitize;
pub(super) use crate::sources::lenient::{Lenient, decoded};

/// `GET /api/v2/incremental/tickets/cursor` (every cursor field is nullable).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct ExportPageDto {
    pub tickets: Vec<Lenient<TicketDto>>,
    pub after_cursor: Option<String>,
    pub end_of_stream: Option<bool>,
    pub users: Vec<Lenient<UserDto>>,
    pub organizations: Vec<Lenient<OrgDto>>,
    pub groups: Vec<Lenient<GroupDto>>,
    pub metric_sets: Vec<Lenient<MetricSetDto>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct TicketDto {
    pub id: Option<u64>,
    pub subject: Option<String>,
    pub raw_subject: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub requester_id: Option<u64>,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
    pub organization_id: Option<u64>,
    pub tags: Option<Vec<String>>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub generated_timestamp: Option<i64>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The `slas` sideload: live SLA state. Thinly documented (apis.md
    /// §1.6): an object with `policy_metrics`, or an array, is accepted.
    pub slas: Option<Value>,
    /// `[{id, value}]`; values are strings, numbers, booleans, arrays (multi-
    /// select) or null, so they are read as JSON and converted per field.
    pub custom_fields: Option<Vec<Lenient<CustomFieldValueDto>>>,
    /// Read as JSON: a malformed id must not cost the whole ticket.
    pub custom_status_id: Option<Value>,
    pub due_at: Option<String>,
    /// `{channel, source}`; `channel` is a name, or a number on old tickets.
    pub via: Option<Value>,
    /// `{score: "good" | "bad" | "offered" | "unoffered", …}` or null.
    pub satisfaction_rating: Option<Value>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CustomFieldValueDto {
    pub id: Option<u64>,
    pub value: Value,
}

/// `GET /api/v2/ticket_fields` (unpaginated: every field in one answer).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct TicketFieldsDto {
    pub ticket_fields: Vec<Lenient<TicketFieldDto>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct TicketFieldDto {
    pub id: Option<u64>,
    pub title: Option<String>,
    pub raw_title: Option<String>,
    pub title_in_portal: Option<String>,
    pub custom_field_options: Option<Vec<Lenient<FieldOptionDto>>>,
}

/// A drop-down or multi-select option: tickets carry `value` (a tag), the
/// agent sees `name`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct FieldOptionDto {
    pub name: Option<String>,
    pub value: Option<String>,
}

/// `GET /api/v2/custom_statuses` (unpaginated).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CustomStatusesDto {
    pub custom_statuses: Vec<Lenient<CustomStatusDto>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CustomStatusDto {
    pub id: Option<u64>,
    pub status_category: Option<String>,
    pub agent_label: Option<String>,
}

/// `GET /api/v2/incremental/ticket_metric_events` (time-based: the next
/// read starts at `end_time`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct MetricEventsDto {
    pub ticket_metric_events: Vec<Lenient<MetricEventDto>>,
    pub end_time: Option<i64>,
    pub count: Option<u64>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct MetricEventDto {
    pub ticket_id: Option<u64>,
    pub instance_id: Option<u64>,
    pub metric: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub time: Option<String>,
    /// Set on a breach event whose target was met first.
    pub deleted: Option<bool>,
    /// On `apply_sla`: `{target, business_hours, policy}`.
    pub sla: Option<Value>,
}

/// One reply target's state as its metric events tell it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ReplyTarget {
    applied: bool,
    business_hours: bool,
    breach_at: Option<Timestamp>,
    /// Fulfilled or paused: no clock runs.
    stopped: bool,
}

/// Which ticket custom field plays which part, once resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct FieldRoles {
    pub customer: Option<u64>,
    pub feature: Option<u64>,
    pub segment: Option<u64>,
}

/// The values a ticket's role fields carry (display text, sanitised).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct FieldValues {
    pub customer: Option<String>,
    pub feature: Option<String>,
    pub segment: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct GroupDto {
    pub id: Option<u64>,
    pub name: Option<String>,
}

/// The `metric_sets` sideload: ticket metrics, of which the number of agent
/// replies tells first-reply from next-reply.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct MetricSetDto {
    pub ticket_id: Option<u64>,
    pub replies: Option<u32>,
    pub reopens: Option<u32>,
    pub solved_at: Option<String>,
    /// Minutes to the first public agent reply; null while none was made.
    pub reply_time_in_minutes: Option<MetricTimeDto>,
}

/// `TicketMetricTimeObject`: a duration in calendar and business minutes,
/// either null while its clock still runs.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct MetricTimeDto {
    pub calendar: Option<i64>,
}

/// What one ticket's metric set said, kept until the ticket arrives.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MetricFacts {
    replies: Option<u32>,
    reopens: Option<u32>,
    solved_at: Option<Timestamp>,
    first_reply_minutes: Option<i64>,
}

/// `GET /api/v2/slas/policies`: whether each target counts business hours.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct SlaPoliciesDto {
    pub sla_policies: Vec<Lenient<SlaPolicyDto>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct SlaPolicyDto {
    pub policy_metrics: Vec<Lenient<PolicyMetricDto>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct PolicyMetricDto {
    pub priority: Option<String>,
    pub metric: Option<String>,
    pub business_hours: Option<bool>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct UserDto {
    pub id: Option<u64>,
    pub name: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct OrgDto {
    pub id: Option<u64>,
    pub name: Option<String>,
}

/// `GET /api/v2/tickets/{id}/comments`, offset (`next_page`) or cursor
/// (`meta.has_more` + `links.next`) paginated.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CommentsPageDto {
    pub comments: Vec<Lenient<CommentDto>>,
    pub users: Vec<Lenient<UserDto>>,
    pub next_page: Option<String>,
    pub meta: Option<CommentsMetaDto>,
    pub links: Option<LinksDto>,
}

/// Where the comments continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NextPage {
    /// A link to follow (`links.next` or offset `next_page`).
    Link(String),
    /// `meta.has_more` without a link: the cursor to ask for with
    /// `page[after]`.
    After(String),
}

impl CommentsPageDto {
    /// The next page, whichever pagination style the desk answered in.
    /// `has_more: true` is believed even without `links.next` (some
    /// accounts and proxies drop the link): the cursor in `meta` continues
    /// the list, so the conversation is not cut off silently.
    pub fn next(&self) -> Option<NextPage> {
        let nonempty = |s: &Option<String>| s.clone().filter(|u| !u.trim().is_empty());
        if let Some(meta) = self.meta.as_ref().filter(|m| m.has_more == Some(true)) {
            if let Some(link) = self.links.as_ref().and_then(|l| nonempty(&l.next)) {
                return Some(NextPage::Link(link));
            }
            if let Some(after) = nonempty(&meta.after_cursor) {
                return Some(NextPage::After(after));
            }
        }
        nonempty(&self.next_page).map(NextPage::Link)
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct MetaDto {
    pub has_more: Option<bool>,
}

/// The comments' `meta`, with the cursor to continue from.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CommentsMetaDto {
    pub has_more: Option<bool>,
    pub after_cursor: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct LinksDto {
    pub next: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct CommentDto {
    pub id: Option<u64>,
    pub author_id: Option<u64>,
    pub body: Option<String>,
    pub plain_body: Option<String>,
    pub public: Option<bool>,
    pub created_at: Option<String>,
    pub attachments: Option<Vec<Lenient<AttachmentDto>>>,
}

/// An attachment's metadata; `content_url` is where the file is served.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct AttachmentDto {
    pub file_name: Option<String>,
    pub size: Option<u64>,
    pub content_url: Option<String>,
}

/// `GET /api/v2/users/show_many`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct UsersDto {
    pub users: Vec<Lenient<UserDto>>,
}

/// The error shapes Zendesk is known to answer with (§1.10): classic
/// `{error: "RecordNotFound", description}`, newer `{error: {title, message}}`
/// and the OAS `{errors: [{title, detail}]}`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct ErrorDto {
    pub error: Option<Value>,
    pub description: Option<String>,
    pub errors: Option<Vec<Value>>,
}

pub(super) fn explain_error(dto: ErrorDto) -> Option<String> {
    let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let head = match &dto.error {
        Some(Value::String(s)) => Some(s.clone()),
        Some(obj @ Value::Object(_)) => {
            let parts: Vec<String> = ["title", "message"]
                .iter()
                .filter_map(|k| field(obj, k))
                .collect();
            (!parts.is_empty()).then(|| parts.join(": "))
        }
        _ => dto
            .errors
            .as_ref()
            .and_then(|errs| errs.first())
            .and_then(|first| {
                let parts: Vec<String> = ["title", "detail"]
                    .iter()
                    .filter_map(|k| field(first, k))
                    .collect();
                (!parts.is_empty()).then(|| parts.join(": "))
            }),
    };
    match (head, dto.description) {
        (Some(h), Some(d)) => Some(format!("{h}: {d}")),
        (Some(h), None) => Some(h),
        (None, d) => d,
    }
}

/// What the desk said about one ticket, in domain terms.
pub(super) enum Change {
    Changed(Box<Inquiry>),
    Deleted(String),
}

/// Names the adapter has learnt from sideloads and `show_many`, kept across
/// polls because the incremental export only sideloads the users and
/// organisations of the tickets on that page.
#[derive(Debug, Default)]
pub(super) struct Directory {
    // Names interned: every ticket of a user or organisation shares them.
    pub users: HashMap<u64, Name>,
    pub orgs: HashMap<u64, Name>,
    pub groups: HashMap<u64, Name>,
    /// Agent replies, reopens, solve and first-reply time per ticket of the
    /// page being read: the export sideloads each listed ticket's metric
    /// set with it, and the inquiry carries the facts on, so none are kept
    /// between pages (at 100k open tickets they were 8.5 MB).
    pub metrics: HashMap<u64, MetricFacts>,
    /// Whether the desk's SLA target for (metric, priority) counts business
    /// hours, from the SLA policies (empty until read).
    pub sla_business: HashMap<(SlaMetric, Priority), bool>,
    /// The custom fields configured as customer, feature and segment.
    pub roles: FieldRoles,
    /// Option tag → option name, per drop-down field of a role.
    pub options: HashMap<u64, HashMap<String, String>>,
    /// Custom ticket statuses: id → (category, agent label).
    pub statuses: HashMap<u64, (InquiryStatus, String)>,
    /// Reply targets per (ticket, instance) from the metric events, the SLA
    /// fallback when the `slas` sideload is absent (instance 1 is the first
    /// reply, later ones next replies).
    /// Keyed by ticket, then instance, so a ticket's clock is found (and
    /// its targets forgotten) without walking every ticket's.
    pub targets: HashMap<u64, HashMap<u64, ReplyTarget>>,
}

impl Directory {
    pub fn learn_users(&mut self, users: Vec<Lenient<UserDto>>) {
        for user in decoded(users) {
            if let (Some(id), Some(name)) = (user.id, sanitize::opt(user.name.as_deref())) {
                self.users.insert(id, name.into());
            }
        }
    }

    pub fn learn_orgs(&mut self, orgs: Vec<Lenient<OrgDto>>) {
        for org in decoded(orgs) {
            if let (Some(id), Some(name)) = (org.id, sanitize::opt(org.name.as_deref())) {
                self.orgs.insert(id, name.into());
            }
        }
    }

    pub fn learn_groups(&mut self, groups: Vec<Lenient<GroupDto>>) {
        for group in decoded(groups) {
            if let (Some(id), Some(name)) = (group.id, sanitize::opt(group.name.as_deref())) {
                self.groups.insert(id, name.into());
            }
        }
    }

    pub fn learn_metrics(&mut self, sets: Vec<Lenient<MetricSetDto>>) {
        self.metrics.clear();
        self.metrics.shrink_to(sets.len());
        for set in decoded(sets) {
            let Some(id) = set.ticket_id else { continue };
            self.metrics.insert(
                id,
                MetricFacts {
                    replies: set.replies,
                    reopens: set.reopens,
                    solved_at: parse_time(set.solved_at.as_deref()),
                    first_reply_minutes: set.reply_time_in_minutes.and_then(|r| r.calendar),
                },
            );
        }
    }

    pub fn learn_policies(&mut self, policies: SlaPoliciesDto) {
        for policy in decoded(policies.sla_policies) {
            for m in decoded(policy.policy_metrics) {
                let (Some(metric), Some(priority), Some(business)) = (
                    m.metric.as_deref().and_then(sla_metric),
                    m.priority.as_deref(),
                    m.business_hours,
                ) else {
                    continue;
                };
                // Policies are chosen per ticket by filters the API does not
                // evaluate for us; the first policy naming a target wins.
                self.sla_business
                    .entry((metric, self::priority(Some(priority))))
                    .or_insert(business);
            }
        }
    }

    /// Resolve the configured role fields (each an id or a title) against
    /// the account's ticket fields; returns the settings that matched no
    /// field, for the log.
    pub fn learn_fields(
        &mut self,
        fields: TicketFieldsDto,
        wanted: [Option<&str>; 3],
    ) -> Vec<String> {
        // (id, titles, option tag → name) per field.
        type Known = (u64, Vec<String>, HashMap<String, String>);
        let fields: Vec<Known> = decoded(fields.ticket_fields)
            .filter_map(|f| {
                let titles = [f.title, f.raw_title, f.title_in_portal]
                    .into_iter()
                    .flatten()
                    .map(|t| t.trim().to_lowercase())
                    .collect();
                let options = decoded(f.custom_field_options.unwrap_or_default())
                    .filter_map(|o| Some((o.value?, sanitize::opt(o.name.as_deref())?)))
                    .collect();
                Some((f.id?, titles, options))
            })
            .collect();
        let find = |spec: &str| -> Option<&Known> {
            let spec = spec.trim();
            match spec.parse::<u64>() {
                Ok(id) => fields.iter().find(|f| f.0 == id),
                Err(_) => {
                    let spec = spec.to_lowercase();
                    fields.iter().find(|f| f.1.contains(&spec))
                }
            }
        };
        let mut missing = Vec::new();
        let mut ids = [None; 3];
        for (slot, spec) in ids.iter_mut().zip(wanted) {
            let Some(spec) = spec else { continue };
            match find(spec) {
                Some((id, _, options)) => {
                    *slot = Some(*id);
                    if !options.is_empty() {
                        self.options.insert(*id, options.clone());
                    }
                }
                None => missing.push(sanitize::text(spec)),
            }
        }
        self.roles = FieldRoles {
            customer: ids[0],
            feature: ids[1],
            segment: ids[2],
        };
        missing
    }

    pub fn learn_statuses(&mut self, statuses: CustomStatusesDto) {
        for s in decoded(statuses.custom_statuses) {
            let (Some(id), Some(category)) = (s.id, s.status_category.as_deref()) else {
                continue;
            };
            let category = status(Some(&category.to_ascii_lowercase()));
            let label =
                sanitize::opt(s.agent_label.as_deref()).unwrap_or_else(|| category.to_string());
            self.statuses.insert(id, (category, label));
        }
    }

    /// Fold metric events (oldest first, as listed) into the reply targets.
    pub fn learn_metric_events(&mut self, events: MetricEventsDto) {
        for e in decoded(events.ticket_metric_events) {
            let (Some(ticket), Some(instance), Some("reply_time"), Some(kind)) = (
                e.ticket_id,
                e.instance_id,
                e.metric.as_deref(),
                e.kind.as_deref(),
            ) else {
                continue;
            };
            let target = self
                .targets
                .entry(ticket)
                .or_default()
                .entry(instance)
                .or_default();
            match kind {
                "apply_sla" => {
                    target.applied = true;
                    target.business_hours = e
                        .sla
                        .as_ref()
                        .and_then(|s| s.get("business_hours"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                }
                // Zendesk lists the breach ahead, at the time it will
                // happen, and marks it deleted if the target is met first.
                "breach" if e.deleted != Some(true) => {
                    target.breach_at = parse_time(e.time.as_deref());
                }
                "breach" => target.breach_at = None,
                "activate" => target.stopped = false,
                "fulfill" | "pause" => target.stopped = true,
                _ => {}
            }
        }
    }

    /// The running reply clock the metric events give a ticket: its latest
    /// target that has an SLA, a breach time and is neither met nor paused.
    pub fn event_clock(&self, ticket: u64) -> Option<SlaClock> {
        self.targets
            .get(&ticket)?
            .iter()
            .filter(|(_, target)| target.applied && !target.stopped)
            .filter_map(|(instance, target)| {
                Some((
                    *instance,
                    SlaClock {
                        metric: if *instance <= 1 {
                            SlaMetric::FirstReply
                        } else {
                            SlaMetric::NextReply
                        },
                        due: target.breach_at?,
                        business_hours: target.business_hours,
                    },
                ))
            })
            .max_by_key(|(instance, _)| *instance)
            .map(|(_, clock)| clock)
    }

    /// Drop what is kept per ticket between pages (its reply targets) once
    /// a ticket has closed or gone; its metric facts go with the page
    /// anyway. Without this the directory grew with every ticket the export
    /// ever listed.
    pub fn forget(&mut self, ticket: u64) {
        self.targets.remove(&ticket);
    }

    /// What the role fields of a ticket hold.
    pub fn field_values(&self, dto: &TicketDto) -> FieldValues {
        let Some(fields) = &dto.custom_fields else {
            return FieldValues::default();
        };
        let value_of = |role: Option<u64>| -> Option<String> {
            let id = role?;
            let field = fields
                .iter()
                .filter_map(|f| f.0.as_ref())
                .find(|f| f.id == Some(id))?;
            self.display(id, &field.value)
        };
        FieldValues {
            customer: value_of(self.roles.customer),
            feature: value_of(self.roles.feature),
            segment: value_of(self.roles.segment),
        }
    }

    /// A custom field value as text: a drop-down's tag as its option name,
    /// numbers as written, a ticked checkbox as "yes", a multi-select as its
    /// names joined; empty and unticked are no value.
    fn display(&self, field: u64, value: &Value) -> Option<String> {
        let named = |tag: &str| {
            self.options
                .get(&field)
                .and_then(|o| o.get(tag))
                .cloned()
                .unwrap_or_else(|| tag.to_owned())
        };
        let text = match value {
            Value::String(s) => named(s),
            Value::Number(n) => n.to_string(),
            Value::Bool(true) => "yes".to_owned(),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(named)
                .collect::<Vec<_>>()
                .join(", "),
            _ => return None,
        };
        sanitize::opt(Some(text.trim()))
    }

    /// A user's name, or their id as text so the row still says *someone*.
    pub fn user(&self, id: u64) -> Name {
        self.users
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string().into())
    }

    /// An organisation's name, or its id as text: `Account::desk_org` may be
    /// either, so the join still works for organisations we never saw named.
    pub fn org(&self, id: u64) -> Name {
        self.orgs
            .get(&id)
            .cloned()
            .unwrap_or_else(|| id.to_string().into())
    }

    /// Convert one ticket; `None` (with a log line) when it lacks an id or
    /// any usable timestamp, since a row without them cannot be ordered or
    /// opened.
    pub fn ticket(&self, dto: TicketDto, agent_url: impl Fn(u64) -> String) -> Option<Change> {
        let Some(id) = dto.id else {
            tracing::warn!("zendesk: skipped a ticket without an id");
            return None;
        };
        let raw_status = dto.status.as_deref().map(str::to_ascii_lowercase);
        if raw_status.as_deref() == Some("deleted") {
            return Some(Change::Deleted(id.to_string()));
        }
        let generated = dto
            .generated_timestamp
            .and_then(|s| Timestamp::from_second(s).ok());
        let created = parse_time(dto.created_at.as_deref());
        let updated = parse_time(dto.updated_at.as_deref());
        let (Some(created_at), Some(updated_at)) = (
            created.or(updated).or(generated),
            updated.or(generated).or(created),
        ) else {
            tracing::warn!("zendesk: skipped ticket {id}: no readable created_at/updated_at");
            return None;
        };
        // A custom status names its category; the ticket's `status` says
        // the same, but a custom status the desk knows wins if they differ.
        let custom_status = dto
            .custom_status_id
            .as_ref()
            .and_then(Value::as_u64)
            .and_then(|id| self.statuses.get(&id));
        // Custom statuses have no "closed" category: a closed ticket keeps
        // its solved custom status, and stays closed here.
        let status = match custom_status {
            Some((category, _)) if raw_status.as_deref() != Some("closed") => *category,
            _ => status(raw_status.as_deref()),
        };
        let status_label = custom_status
            .filter(|_| status != InquiryStatus::Closed)
            .map(|(_, label)| label.clone())
            .filter(|label| !label.eq_ignore_ascii_case(&status.to_string()));
        let fields = self.field_values(&dto);
        let ticket_priority = priority(dto.priority.as_deref());
        let subject = dto
            .subject
            .as_deref()
            .or(dto.raw_subject.as_deref())
            .map(sanitize::text);
        // Interned as they are read, at exact capacity: a list collected
        // as text and converted in place kept the text's larger allocation
        // (96 bytes an inquiry at 100k, more than all their subjects).
        let mut tags: Vec<Name> = dto
            .tags
            .unwrap_or_default()
            .iter()
            .map(|t| sanitize::text(t))
            .filter(|t| !t.is_empty())
            .map(Name::from)
            .collect();
        tags.shrink_to_fit();
        let feature_area = fields.feature.clone().or_else(|| {
            tags.iter()
                .find_map(|t| t.strip_prefix("feature_"))
                .filter(|area| !area.is_empty())
                .map(str::to_owned)
        });
        let desk = DeskDetail {
            status_label: status_label.map(Name::from),
            due_at: parse_time(dto.due_at.as_deref()),
            channel: dto.via.as_ref().and_then(channel).map(Name::from),
            satisfaction: dto
                .satisfaction_rating
                .as_ref()
                .and_then(|r| satisfaction(r, updated_at)),
            segment: fields.segment.as_deref().map(Name::from),
        };
        Some(Change::Changed(Box::new(Inquiry {
            id: id.to_string().into(),
            subject: subject
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "(no subject)".into()),
            status,
            priority: ticket_priority,
            // The customer field names the customer where it is set; an
            // empty one leaves the organisation to do it.
            org: fields
                .customer
                .as_deref()
                .map(Name::from)
                .or_else(|| dto.organization_id.map(|o| self.org(o))),
            requester: dto.requester_id.map(|u| self.user(u)),
            assignee: dto.assignee_id.map(|u| self.user(u)),
            // The id stands in for a group never named by a sideload.
            group: dto.group_id.map(|g| {
                self.groups
                    .get(&g)
                    .cloned()
                    .unwrap_or_else(|| g.to_string().into())
            }),
            tags,
            feature_area: feature_area.map(Name::from),
            created_at,
            updated_at,
            sla: dto
                .slas
                .as_ref()
                .and_then(|slas| self.desk_sla(slas, ticket_priority)),
            // From the ticket's metrics when sideloaded; otherwise a
            // heuristic: a ticket leaves `new` once an agent touches it,
            // which for a support queue almost always means a first public
            // reply. Good enough to choose first- or next-reply targets.
            replied: self
                .metrics
                .get(&id)
                .and_then(|m| m.replies)
                .map_or(status != InquiryStatus::New, |n| n > 0),
            url: Some(agent_url(id)),
            kind: kind(dto.kind.as_deref()),
            history: self.history(id, created_at),
            desk,
        })))
    }

    /// What the ticket's metric set says about its past; all `None` for a
    /// ticket whose metrics were never sideloaded.
    fn history(&self, id: u64, created_at: Timestamp) -> InquiryHistory {
        let facts = self.metrics.get(&id).copied().unwrap_or_default();
        InquiryHistory {
            first_reply_at: facts
                .first_reply_minutes
                .filter(|m| *m >= 0)
                // A desk (or a proxy) can send any i64: `from_mins` would
                // panic past ~1.5e17 minutes, taking the poll down with it.
                .and_then(SignedDuration::try_from_mins)
                .and_then(|d| created_at.checked_add(d).ok()),
            solved_at: facts.solved_at,
            replies: facts.replies,
            reopens: facts.reopens,
        }
    }

    /// The desk's own running reply clock from the `slas` sideload: the
    /// earliest active first- or next-reply target. Achieved and paused
    /// targets are not running clocks.
    fn desk_sla(&self, slas: &Value, priority: Priority) -> Option<SlaClock> {
        fn metrics(v: &Value, out: &mut Vec<Value>) {
            match v {
                Value::Array(items) => items.iter().for_each(|i| metrics(i, out)),
                Value::Object(o) => match o.get("policy_metrics") {
                    Some(inner) => metrics(inner, out),
                    None if o.contains_key("metric") => out.push(v.clone()),
                    None => {}
                },
                _ => {}
            }
        }
        let mut found = Vec::new();
        metrics(slas, &mut found);
        found
            .iter()
            .filter_map(|m| {
                let metric = sla_metric(m.get("metric")?.as_str()?)?;
                let stage = m.get("stage").and_then(Value::as_str).unwrap_or("active");
                if !stage.eq_ignore_ascii_case("active") {
                    return None;
                }
                let due = parse_time(m.get("breach_at")?.as_str())?;
                Some(SlaClock {
                    metric,
                    due,
                    business_hours: self
                        .sla_business
                        .get(&(metric, priority))
                        .copied()
                        .unwrap_or(false),
                })
            })
            .min_by_key(|c| c.due)
    }

    /// Convert one comment; `None` when it lacks an id or a timestamp.
    pub fn comment(&self, dto: CommentDto) -> Option<Comment> {
        let id = dto.id?;
        let Some(at) = parse_time(dto.created_at.as_deref()) else {
            tracing::warn!("zendesk: skipped comment {id}: no readable created_at");
            return None;
        };
        // `plain_body` is the better text when it has any, but the desk
        // sends `""` for some comments (voice, some API-made ones) whose
        // `body` holds the words.
        let body = [dto.plain_body, dto.body]
            .into_iter()
            .flatten()
            .find(|b| !b.trim().is_empty())
            .unwrap_or_default();
        let attachments = decoded(dto.attachments.unwrap_or_default())
            .map(|a| Attachment {
                name: sanitize::opt(a.file_name.as_deref()).unwrap_or_else(|| "(unnamed)".into()),
                size: a.size,
                url: sanitize::opt(a.content_url.as_deref())
                    .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
            })
            .collect();
        Some(Comment {
            id: id.to_string(),
            author: dto.author_id.map(|a| self.user(a).into()),
            at,
            // Absent means public: that is Zendesk's default for comments.
            public: dto.public.unwrap_or(true),
            body: sanitize::multiline(body.trim_end()),
            attachments,
        })
    }
}

/// Whether a `slas` sideload names any target (an empty `policy_metrics`
/// is what a ticket without a policy carries).
pub(super) fn carries_targets(slas: &Value) -> bool {
    match slas {
        Value::Array(items) => !items.is_empty(),
        Value::Object(o) => o
            .get("policy_metrics")
            .is_some_and(|m| m.as_array().is_some_and(|a| !a.is_empty())),
        _ => false,
    }
}

/// The channel a ticket came through: `via.channel` by name (old tickets
/// carry a number, shown as it is).
fn channel(via: &Value) -> Option<String> {
    match via.get("channel")? {
        Value::String(s) => sanitize::opt(Some(s.as_str())),
        Value::Number(n) => Some(format!("channel {n}")),
        _ => None,
    }
}

/// A given rating (`good` / `bad`, with or without a comment); `offered`,
/// `unoffered` and null are no rating.
fn satisfaction(rating: &Value, updated_at: Timestamp) -> Option<Satisfaction> {
    let good = match rating.get("score")?.as_str()? {
        "good" | "good_with_comment" => true,
        "bad" | "bad_with_comment" => false,
        _ => return None,
    };
    let at = parse_time(rating.get("updated_at").and_then(Value::as_str)).unwrap_or(updated_at);
    Some(Satisfaction { good, at })
}

/// The reply targets the cockpit shows; other SLA metrics (resolution,
/// periodic update) are not reply clocks.
fn sla_metric(name: &str) -> Option<SlaMetric> {
    match name {
        "first_reply_time" => Some(SlaMetric::FirstReply),
        "next_reply_time" => Some(SlaMetric::NextReply),
        _ => None,
    }
}

fn parse_time(raw: Option<&str>) -> Option<Timestamp> {
    raw?.trim().parse().ok()
}

/// Unknown statuses (custom ticket statuses map onto the six standard
/// categories, but a proxy may pass something else) count as open: a ticket
/// shown by mistake costs a glance, one hidden by mistake can breach its SLA.
fn status(raw: Option<&str>) -> InquiryStatus {
    match raw {
        Some("new") => InquiryStatus::New,
        Some("pending") => InquiryStatus::Pending,
        Some("hold") => InquiryStatus::Hold,
        Some("solved") => InquiryStatus::Solved,
        Some("closed") => InquiryStatus::Closed,
        _ => InquiryStatus::Open,
    }
}

/// Zendesk's own default for a ticket without a priority is "normal".
fn priority(raw: Option<&str>) -> Priority {
    match raw.map(str::to_ascii_lowercase).as_deref() {
        Some("urgent") => Priority::Urgent,
        Some("high") => Priority::High,
        Some("low") => Priority::Low,
        _ => Priority::Normal,
    }
}

/// Zendesk's ticket `type`; null (no type set) and anything else are unknown.
fn kind(raw: Option<&str>) -> Option<InquiryKind> {
    match raw? {
        "problem" => Some(InquiryKind::Problem),
        "incident" => Some(InquiryKind::Incident),
        "question" => Some(InquiryKind::Question),
        "task" => Some(InquiryKind::Task),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn ticket(json: Value) -> TicketDto {
        serde_json::from_value(json).unwrap()
    }

    fn url(id: u64) -> String {
        format!("https://x/agent/tickets/{id}")
    }

    fn changed(c: Option<Change>) -> Inquiry {
        match c {
            Some(Change::Changed(i)) => *i,
            _ => panic!("expected a changed inquiry"),
        }
    }

    #[test]
    fn unknown_and_null_enums_map_to_open_and_normal() {
        let dir = Directory::default();
        let t = ticket(serde_json::json!({
            "id": 7, "status": "escalated_custom", "priority": null,
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T11:00:00Z"
        }));
        let i = changed(dir.ticket(t, url));
        assert_eq!(i.status, InquiryStatus::Open);
        assert_eq!(i.priority, Priority::Normal);
        assert!(i.replied);
        assert_eq!(i.subject, "(no subject)");
    }

    #[test]
    fn unknown_users_and_orgs_fall_back_to_their_ids() {
        let mut dir = Directory::default();
        let users: Vec<Lenient<UserDto>> =
            serde_json::from_value(serde_json::json!([{"id": 1, "name": "Yuki"}])).unwrap();
        dir.learn_users(users);
        let t = ticket(serde_json::json!({
            "id": 8, "requester_id": 1, "assignee_id": 2, "organization_id": 3,
            "created_at": "2026-11-20T10:00:00Z"
        }));
        let i = changed(dir.ticket(t, url));
        assert_eq!(i.requester.as_deref(), Some("Yuki"));
        assert_eq!(i.assignee.as_deref(), Some("2"));
        assert_eq!(i.org.as_deref(), Some("3"));
    }

    #[test]
    fn desk_sla_tolerates_object_and_array_shapes() {
        let mut dir = Directory::default();
        dir.sla_business
            .insert((SlaMetric::NextReply, Priority::High), true);
        let base = serde_json::json!({
            "id": 11, "status": "open", "priority": "high",
            "created_at": "2026-11-20T10:00:00Z"
        });
        let with = |slas: Value| {
            let mut t = base.clone();
            t["slas"] = slas;
            changed(dir.ticket(ticket(t), url)).sla
        };
        let object = with(serde_json::json!({"policy_metrics": [
            {"breach_at": "2026-11-21T12:00:00Z", "stage": "achieved", "metric": "first_reply_time", "hours": 1},
            {"breach_at": "2026-11-21T15:00:00Z", "stage": "active", "metric": "next_reply_time", "hours": 3},
            {"breach_at": "2026-11-21T11:00:00Z", "stage": "active", "metric": "requester_wait_time", "hours": 1}
        ]}))
        .unwrap();
        assert_eq!(object.metric, SlaMetric::NextReply);
        assert_eq!(object.due.to_string(), "2026-11-21T15:00:00Z");
        assert!(object.business_hours, "from the policies");
        let array = with(serde_json::json!([
            {"breach_at": "2026-11-21T09:00:00Z", "stage": "active", "metric": "first_reply_time", "minutes": -60}
        ]))
        .unwrap();
        assert_eq!(array.metric, SlaMetric::FirstReply);
        assert!(
            !array.business_hours,
            "unknown policy counts calendar hours"
        );
        assert_eq!(with(serde_json::json!({"policy_metrics": []})), None);
        assert_eq!(with(serde_json::json!("odd")), None);
    }

    #[test]
    fn a_custom_status_names_its_category_but_closed_stays_closed() {
        let mut dir = Directory::default();
        let statuses: CustomStatusesDto = serde_json::from_value(serde_json::json!({
            "custom_statuses": [
                {"id": 10, "status_category": "hold", "agent_label": "Waiting on engineering"},
                {"id": 11, "status_category": "solved", "agent_label": "Solved"},
                {"id": "12", "status_category": "open"}
            ]
        }))
        .unwrap();
        dir.learn_statuses(statuses);
        let of = |status: &str, custom: Value| {
            let i = changed(dir.ticket(
                ticket(
                    serde_json::json!({"id": 1, "status": status, "custom_status_id": custom,
                    "created_at": "2026-11-20T10:00:00Z"}),
                ),
                url,
            ));
            (i.status, i.desk.status_label)
        };
        assert_eq!(
            of("hold", serde_json::json!(10)),
            (InquiryStatus::Hold, Some("Waiting on engineering".into()))
        );
        assert_eq!(
            of("closed", serde_json::json!(11)),
            (InquiryStatus::Closed, None)
        );
        assert_eq!(
            of("solved", serde_json::json!(11)),
            (InquiryStatus::Solved, None)
        );
        // Unknown or malformed ids leave the standard status alone.
        assert_eq!(
            of("pending", serde_json::json!(99)),
            (InquiryStatus::Pending, None)
        );
        assert_eq!(
            of("open", serde_json::json!("10")),
            (InquiryStatus::Open, None)
        );
    }

    #[test]
    fn deleted_ticket_is_a_removal() {
        let dir = Directory::default();
        let t = ticket(serde_json::json!({"id": 9, "status": "deleted"}));
        assert!(matches!(dir.ticket(t, url), Some(Change::Deleted(id)) if id == "9"));
    }

    #[test]
    fn ticket_without_timestamps_falls_back_to_generated_timestamp() {
        let dir = Directory::default();
        let t = ticket(
            serde_json::json!({"id": 3, "status": "new", "generated_timestamp": 1_795_220_413}),
        );
        let i = changed(dir.ticket(t, url));
        assert_eq!(i.created_at.as_second(), 1_795_220_413);
        assert!(!i.replied, "a new ticket has had no reply");
        let none = ticket(serde_json::json!({"id": 4, "created_at": "yesterday"}));
        assert!(dir.ticket(none, url).is_none());
    }

    #[test]
    fn remote_text_is_sanitised() {
        let mut dir = Directory::default();
        let users: Vec<Lenient<UserDto>> = serde_json::from_value(
            serde_json::json!([{"id": 1, "name": "Eve\u{1b}]52;c;aGk=\u{7}"}]),
        )
        .unwrap();
        dir.learn_users(users);
        let t = ticket(serde_json::json!({
            "id": 5, "subject": "a\u{1b}[2Jb\u{202e}c", "requester_id": 1, "tags": ["feature_\u{1b}x"],
            "created_at": "2026-11-20T10:00:00Z"
        }));
        let i = changed(dir.ticket(t, url));
        assert!(!i.subject.contains('\u{1b}') && !i.subject.contains('\u{202e}'));
        assert!(!i.requester.unwrap_or_default().contains('\u{1b}'));
        assert!(!i.feature_area.unwrap_or_default().contains('\u{1b}'));
    }

    #[test]
    fn ticket_type_becomes_the_inquiry_kind() {
        let dir = Directory::default();
        let of = |json| changed(dir.ticket(ticket(json), url)).kind;
        let at = "2026-11-20T10:00:00Z";
        assert_eq!(
            of(serde_json::json!({"id": 6, "type": "question", "created_at": at})),
            Some(InquiryKind::Question)
        );
        assert_eq!(
            of(serde_json::json!({"id": 7, "type": "problem", "created_at": at})),
            Some(InquiryKind::Problem)
        );
        assert_eq!(
            of(serde_json::json!({"id": 8, "type": null, "created_at": at})),
            None
        );
    }

    #[test]
    fn one_bad_ticket_does_not_fail_the_page() {
        let page: ExportPageDto = serde_json::from_value(serde_json::json!({
            "tickets": [{"id": "not-a-number"}, {"id": 2, "tags": {"odd": true}}, {"id": 3}],
            "end_of_stream": true
        }))
        .unwrap();
        let ids: Vec<Option<u64>> = decoded(page.tickets).map(|t| t.id).collect();
        assert_eq!(ids, vec![Some(3)]);
    }

    #[test]
    fn error_shapes_are_explained() {
        let classic: ErrorDto =
            serde_json::from_str(r#"{"error":"RecordNotFound","description":"Not found"}"#)
                .unwrap();
        assert_eq!(
            explain_error(classic).as_deref(),
            Some("RecordNotFound: Not found")
        );
        let newer: ErrorDto =
            serde_json::from_str(r#"{"error":{"title":"Invalid attribute","message":"bad page"}}"#)
                .unwrap();
        assert_eq!(
            explain_error(newer).as_deref(),
            Some("Invalid attribute: bad page")
        );
        let oas: ErrorDto =
            serde_json::from_str(r#"{"errors":[{"title":"Forbidden","detail":"no"}]}"#).unwrap();
        assert_eq!(explain_error(oas).as_deref(), Some("Forbidden: no"));
    }

    #[test]
    fn absurd_first_reply_minutes_are_unknown_not_a_panic() {
        let mut dir = Directory::default();
        let sets: Vec<Lenient<MetricSetDto>> = serde_json::from_value(serde_json::json!([
            {"ticket_id": 1, "reply_time_in_minutes": {"calendar": i64::MAX}},
            {"ticket_id": 2, "reply_time_in_minutes": {"calendar": 9_000_000_000_000_i64}}
        ]))
        .unwrap();
        dir.learn_metrics(sets);
        for id in [1, 2] {
            let t = ticket(serde_json::json!({"id": id, "created_at": "2026-11-20T10:00:00Z"}));
            assert_eq!(changed(dir.ticket(t, url)).history.first_reply_at, None);
        }
    }

    #[test]
    fn metric_facts_are_kept_for_the_page_that_lists_them_only() {
        let mut dir = Directory::default();
        let sets = |id: u64, replies: u32| -> Vec<Lenient<MetricSetDto>> {
            serde_json::from_value(serde_json::json!([{"ticket_id": id, "replies": replies}]))
                .unwrap()
        };
        let replies = |dir: &Directory, id: u64| {
            let t = ticket(serde_json::json!({"id": id, "created_at": "2026-11-20T10:00:00Z"}));
            changed(dir.ticket(t, url)).history.replies
        };
        dir.learn_metrics(sets(1, 3));
        assert_eq!(replies(&dir, 1), Some(3));
        // The next page's sideload replaces the last one's facts.
        dir.learn_metrics(sets(2, 1));
        assert_eq!(replies(&dir, 2), Some(1));
        assert_eq!(replies(&dir, 1), None);
        assert_eq!(dir.metrics.len(), 1);
    }

    #[test]
    fn metric_sets_give_first_reply_solve_time_replies_and_reopens() {
        let mut dir = Directory::default();
        let sets: Vec<Lenient<MetricSetDto>> = serde_json::from_value(serde_json::json!([
            {"ticket_id": 1, "replies": 3, "reopens": 1, "solved_at": "2026-11-20T15:00:00Z",
             "reply_time_in_minutes": {"calendar": 95, "business": 35}},
            {"ticket_id": 2, "replies": 0, "reopens": 0, "solved_at": null,
             "reply_time_in_minutes": {"calendar": null, "business": null}}
        ]))
        .unwrap();
        dir.learn_metrics(sets);
        let at = |id: u64| {
            changed(dir.ticket(
                ticket(serde_json::json!({"id": id, "status": "solved", "created_at": "2026-11-20T10:00:00Z"})),
                url,
            ))
            .history
        };
        let one = at(1);
        assert_eq!(
            one.first_reply_at,
            Some("2026-11-20T11:35:00Z".parse().unwrap()),
            "created + calendar minutes"
        );
        assert_eq!(one.solved_at, Some("2026-11-20T15:00:00Z".parse().unwrap()));
        assert_eq!((one.replies, one.reopens), (Some(3), Some(1)));
        let two = at(2);
        assert_eq!(
            two.first_reply_at, None,
            "no reply yet is not a zero-minute reply"
        );
        assert_eq!((two.replies, two.reopens), (Some(0), Some(0)));
        // A ticket whose metrics never came knows nothing, rather than zero.
        assert_eq!(at(3), InquiryHistory::default());
    }
}
