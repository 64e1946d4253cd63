//! Zendesk Support API v2 subset: the cursor-based incremental ticket export
//! with sideloads, tickets, comments, tags, users, organizations and groups,
//! ticket updates (comments, priority, status, assignment, tags), and a
//! plain HTML ticket page for "open in browser".
//!
//! Deliberate difference: real Zendesk leaves changes from the last minute out
//! of the incremental export. The simulator serves them at once so the demo
//! feels live.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use axum::{Extension, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::desk::{self, AuditEvent, Change, Desk, Priority, Status, TagMode, Ticket};
use super::scenario::{self, GROUP_BASE, Person, Scenario};
use super::text;
use super::{Shared, html_escape, page, pairs, param, rfc3339};

/// Requests per minute Zendesk advertises in `X-Rate-Limit`.
pub(crate) const RATE_LIMIT: u32 = 700;
const MAX_EXPORT_PAGE: usize = 1000;
const MAX_COMMENT_PAGE: usize = 100;
const MAX_SHOW_MANY: usize = 100;

/// The authenticated caller's email (the part before `/token`).
#[derive(Debug, Clone)]
struct Caller(String);

type Shr = State<Arc<Shared>>;

pub(crate) fn routes(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let mut api = Router::new();
    // Zendesk accepts every path with or without `.json`; ids at the end of
    // a path have the suffix stripped by `parse_id` instead.
    let routes: Vec<(&str, MethodRouter<Arc<Shared>>)> = vec![
        ("/api/v2/incremental/tickets/cursor", get(export)),
        ("/api/v2/tickets/show_many", get(show_many_tickets)),
        ("/api/v2/tickets/{id}/comments", get(comments)),
        ("/api/v2/tickets/{id}/audits", get(audits)),
        (
            "/api/v2/tickets/{id}/tags",
            get(list_tags)
                .put(add_tags)
                .post(set_tags)
                .delete(remove_tags),
        ),
        ("/api/v2/users/me", get(me)),
        ("/api/v2/users/show_many", get(show_many_users)),
        ("/api/v2/organizations/show_many", get(show_many_orgs)),
        ("/api/v2/groups", get(list_groups)),
        ("/api/v2/slas/policies", get(sla_policies)),
        ("/api/v2/ticket_fields", get(ticket_fields)),
        ("/api/v2/custom_statuses", get(custom_statuses)),
    ];
    for (path, handler) in routes {
        api = api
            .route(path, handler.clone())
            .route(&format!("{path}.json"), handler);
    }
    api = api
        .route("/api/v2/tickets/{id}", get(show_ticket).put(update_ticket))
        .route("/api/v2/users/{id}", get(show_user))
        .route("/api/v2/organizations/{id}", get(show_org))
        .route("/api/v2/groups/{id}", get(show_group));
    api.route_layer(middleware::from_fn_with_state(shared, guard))
        .route("/agent/tickets/{id}", get(ticket_page))
}

/// API-token auth (`{email}/token:{token}`, any values) and the rate-limit headers.
async fn guard(State(shared): Shr, mut request: Request, next: Next) -> Response {
    let remaining = shared.zendesk_remaining();
    let caller = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let (user, token) = pair.split_once(':')?;
            let email = user.strip_suffix("/token")?;
            (!email.is_empty() && !token.is_empty()).then(|| email.to_owned())
        });
    let mut response = match caller {
        Some(email) => {
            request.extensions_mut().insert(Caller(email));
            next.run(request).await
        }
        None => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "Couldn't authenticate you"})),
            )
                .into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Web Password\""),
            );
            r
        }
    };
    let headers = response.headers_mut();
    headers.insert("x-rate-limit", HeaderValue::from(RATE_LIMIT));
    headers.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    response
}

pub(crate) fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "RecordNotFound", "description": "Not found"})),
    )
        .into_response()
}

fn bad_request(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "InvalidValue", "description": description})),
    )
        .into_response()
}

fn record_invalid(details: Map<String, Value>) -> Response {
    let body = json!({"error": "RecordInvalid", "description": "Record validation errors", "details": details});
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

fn detail(details: &mut Map<String, Value>, field: &str, description: &str) {
    details.insert(
        field.to_owned(),
        json!([{"description": description, "error": "InvalidValue"}]),
    );
}

fn parse_id(raw: &str) -> Option<u64> {
    raw.strip_suffix(".json").unwrap_or(raw).parse().ok()
}

fn ids(raw: Option<&str>) -> Result<Vec<u64>, &'static str> {
    let raw = raw.ok_or("ids is required")?;
    raw.split(',')
        .filter(|s| !s.trim().is_empty())
        .take(MAX_SHOW_MANY)
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| "ids must be a comma-separated list of integers")
        })
        .collect()
}

fn includes(pairs: &[(String, String)]) -> BTreeSet<String> {
    param(pairs, "include")
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
        .unwrap_or_default()
}

// ---- JSON views -----------------------------------------------------------

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ViaSource {
    from: Empty,
    to: Empty,
    rel: Option<String>,
}

#[derive(Serialize)]
struct Via {
    channel: &'static str,
    source: ViaSource,
}

fn via(channel: &'static str) -> Via {
    Via {
        channel,
        source: ViaSource {
            from: Empty {},
            to: Empty {},
            rel: None,
        },
    }
}

#[derive(Serialize)]
struct TicketJson<'a> {
    url: String,
    id: u64,
    external_id: Option<String>,
    via: Via,
    created_at: String,
    updated_at: String,
    generated_timestamp: i64,
    #[serde(rename = "type")]
    kind: Option<&'static str>,
    subject: &'a str,
    raw_subject: &'a str,
    description: String,
    priority: Option<&'static str>,
    status: &'static str,
    recipient: String,
    requester_id: u64,
    submitter_id: u64,
    assignee_id: Option<u64>,
    organization_id: u64,
    group_id: Option<u64>,
    collaborator_ids: [u64; 0],
    follower_ids: [u64; 0],
    email_cc_ids: [u64; 0],
    // Zendesk sends `null` here, but the spec declares an integer; a field
    // the cockpit does not read is left out rather than sent invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    forum_topic_id: Option<u64>,
    problem_id: Option<u64>,
    has_incidents: bool,
    is_public: bool,
    due_at: Option<String>,
    tags: &'a [String],
    custom_fields: Vec<Value>,
    custom_status_id: u64,
    satisfaction_rating: Value,
    sharing_agreement_ids: [u64; 0],
    fields: [u64; 0],
    followup_ids: [u64; 0],
    brand_id: u64,
    allow_channelback: bool,
    allow_attachments: bool,
    from_messaging_channel: bool,
}

fn ticket_json<'a>(shared: &Shared, desk: &Desk, t: &'a Ticket) -> TicketJson<'a> {
    let sc = &shared.scenario;
    TicketJson {
        url: format!("{}/api/v2/tickets/{}.json", shared.base_url, t.id),
        id: t.id,
        external_id: None,
        via: via("web"),
        created_at: rfc3339(t.created_at),
        updated_at: rfc3339(t.updated_at),
        generated_timestamp: t.updated_at,
        kind: t.kind.map(desk::Kind::as_str),
        subject: &t.subject,
        raw_subject: &t.subject,
        description: desk.description(sc, t),
        priority: t.priority.map(Priority::as_str),
        status: t.status.as_str(),
        recipient: format!("support@{}", SUPPORT_DOMAIN),
        requester_id: t.requester,
        submitter_id: t.requester,
        assignee_id: t.assignee,
        organization_id: sc.customers[t.customer].org_id,
        group_id: t.group,
        collaborator_ids: [],
        follower_ids: [],
        email_cc_ids: [],
        forum_topic_id: None,
        problem_id: None,
        has_incidents: false,
        is_public: true,
        due_at: None,
        tags: &t.tags,
        custom_fields: custom_fields(sc, t),
        custom_status_id: custom_status(t),
        satisfaction_rating: satisfaction(t),
        sharing_agreement_ids: [],
        fields: [],
        followup_ids: [],
        brand_id: 360_000_000_001,
        allow_channelback: false,
        allow_attachments: true,
        from_messaging_channel: false,
    }
}

/// The address customers write to (the ticket's `recipient`).
const SUPPORT_DOMAIN: &str = "support.example.com";

/// The demo account's custom ticket fields: the product area and the plan,
/// drop-downs as most teams configure them (`[desk] feature_field =
/// "Product area"`, `segment_field = "Plan"`), and a number field no
/// setting reads, so values of mixed types come through.
const FIELD_AREA: u64 = 360_041_000_001;
const FIELD_PLAN: u64 = 360_041_000_002;
const FIELD_SEATS: u64 = 360_041_000_003;
/// Custom statuses: the standard ones keep ids 1–5 here; a team's own
/// "Waiting on engineering" (a hold) is the one the demo shows.
const STATUS_WAITING_ON_ENGINEERING: u64 = 360_050_000_001;
const PLANS: [(&str, &str); 3] = [
    ("plan_enterprise", "Enterprise"),
    ("plan_mid_market", "Mid-market"),
    ("plan_small", "Small business"),
];

fn custom_fields(sc: &Scenario, t: &Ticket) -> Vec<Value> {
    let plan = match sc.customers[t.customer].segment {
        scenario::Segment::Enterprise => PLANS[0].0,
        scenario::Segment::MidMarket => PLANS[1].0,
        scenario::Segment::Small => PLANS[2].0,
    };
    let mut fields = vec![json!({"id": FIELD_PLAN, "value": plan})];
    // Every seventh ticket was filed without an area, as real ones are; the
    // entry is left out, since the spec allows no null value.
    if !t.id.is_multiple_of(7) {
        fields.push(
            json!({"id": FIELD_AREA, "value": format!("area_{}", text::FEATURES[t.feature])}),
        );
    }
    if t.id.is_multiple_of(3) {
        fields.push(json!({"id": FIELD_SEATS, "value": 40 + t.id % 200}));
    }
    fields
}

fn custom_status(t: &Ticket) -> u64 {
    match t.status {
        desk::Status::New => 1,
        desk::Status::Open => 2,
        desk::Status::Pending => 3,
        // Half of the holds wait on engineering.
        desk::Status::Hold if t.id.is_multiple_of(2) => STATUS_WAITING_ON_ENGINEERING,
        desk::Status::Hold => 4,
        desk::Status::Solved | desk::Status::Closed => 5,
    }
}

/// Solved tickets were offered a survey; most answered good, one in five
/// bad. Open ones were never offered.
fn satisfaction(t: &Ticket) -> Value {
    let score = match t.solved_at {
        None => return json!({"score": "unoffered"}),
        Some(_) if t.id.is_multiple_of(3) => "offered",
        Some(_) if t.id.is_multiple_of(5) => "bad",
        Some(_) => "good",
    };
    if score == "offered" {
        return json!({"score": score});
    }
    json!({
        "id": 900_000_000 + t.id,
        "score": score,
        "comment": if score == "bad" { "Took too long" } else { "" },
        "updated_at": rfc3339(t.solved_at.unwrap_or(t.updated_at))
    })
}

/// `GET /api/v2/ticket_fields` (unpaginated, as the API answers without
/// `page[size]`).
async fn ticket_fields(State(shared): Shr) -> Response {
    let at = rfc3339(shared.scenario.anchor);
    let option = |id: u64, name: String, value: String| json!({"id": id, "name": name, "raw_name": name, "value": value, "default": false});
    let areas: Vec<Value> = text::FEATURES
        .iter()
        .enumerate()
        .map(|(i, f)| {
            option(
                360_042_000_000 + i as u64,
                area_name(f),
                format!("area_{f}"),
            )
        })
        .collect();
    let plans: Vec<Value> = PLANS
        .iter()
        .enumerate()
        .map(|(i, (value, name))| {
            option(
                360_043_000_000 + i as u64,
                (*name).to_owned(),
                (*value).to_owned(),
            )
        })
        .collect();
    let field = |id: u64, kind: &str, title: &str, options: Option<Vec<Value>>| {
        let mut f = json!({
            "url": format!("{}/api/v2/ticket_fields/{id}.json", shared.base_url),
            "id": id, "type": kind, "title": title, "raw_title": title,
            "description": "", "raw_description": "", "position": 1, "active": true,
            "required": false, "collapsed_for_agents": false, "regexp_for_validation": null,
            "title_in_portal": title, "raw_title_in_portal": title, "visible_in_portal": true,
            "editable_in_portal": false, "required_in_portal": false, "tag": null,
            "created_at": at, "updated_at": at, "removable": true, "key": null,
            // A string in the spec (empty when the admin wrote none).
            "agent_description": ""
        });
        if let Some(options) = options {
            f["custom_field_options"] = Value::Array(options);
        }
        f
    };
    Json(json!({
        "ticket_fields": [
            field(360_041_000_000, "subject", "Subject", None),
            field(FIELD_AREA, "tagger", "Product area", Some(areas)),
            field(FIELD_PLAN, "tagger", "Plan", Some(plans)),
            field(FIELD_SEATS, "integer", "Seats affected", None),
        ],
        "next_page": null,
        "previous_page": null,
        "count": 4
    }))
    .into_response()
}

/// "sso" → "SSO", "billing" → "Billing": how an admin would name them.
fn area_name(feature: &str) -> String {
    if feature.len() <= 3 {
        return feature.to_ascii_uppercase();
    }
    let mut chars = feature.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
        .replace('_', " ")
}

/// `GET /api/v2/custom_statuses`.
async fn custom_statuses(State(shared): Shr) -> Response {
    let at = rfc3339(shared.scenario.anchor);
    let status = |id: u64, category: &str, label: &str, default: bool| {
        json!({
            "id": id, "status_category": category, "agent_label": label,
            "raw_agent_label": label, "end_user_label": label, "raw_end_user_label": label,
            "description": "", "raw_description": "", "end_user_description": "",
            "raw_end_user_description": "", "active": true, "default": default,
            "created_at": at, "updated_at": at
        })
    };
    Json(json!({
        "custom_statuses": [
            status(1, "new", "New", true),
            status(2, "open", "Open", true),
            status(3, "pending", "Pending", true),
            status(4, "hold", "On-hold", true),
            status(5, "solved", "Solved", true),
            status(STATUS_WAITING_ON_ENGINEERING, "hold", "Waiting on engineering", false),
        ]
    }))
    .into_response()
}

fn user_json(shared: &Shared, p: &Person) -> Value {
    let sc = &shared.scenario;
    let customer = p.customer.and_then(|i| sc.customers.get(i));
    let (zone, iana, locale) = match customer.map(|c| c.lang) {
        Some(text::Lang::Ja) => ("Tokyo", "Asia/Tokyo", "ja"),
        Some(text::Lang::De) => ("Berlin", "Europe/Berlin", "de"),
        Some(text::Lang::Es) => ("Madrid", "Europe/Madrid", "es"),
        Some(text::Lang::Fr) => ("Paris", "Europe/Paris", "fr"),
        _ => ("Eastern Time (US & Canada)", "America/New_York", "en-US"),
    };
    json!({
        "id": p.id,
        "url": format!("{}/api/v2/users/{}.json", shared.base_url, p.id),
        "name": p.name,
        "email": p.email,
        "created_at": rfc3339(p.created),
        "updated_at": rfc3339(p.created),
        "time_zone": zone,
        "iana_time_zone": iana,
        "locale": locale,
        "organization_id": customer.map(|c| c.org_id),
        "role": if p.customer.is_some() { "end-user" } else { "agent" },
        "default_group_id": p.group.map(|g| GROUP_BASE + g as u64),
        "active": true,
        "verified": true,
        "suspended": false,
        "shared": false,
        "moderator": p.customer.is_none(),
        "only_private_comments": false,
        "restricted_agent": false,
        "ticket_restriction": if p.customer.is_some() { Some("requested") } else { None },
        "phone": null,
        "photo": null,
        "tags": [],
        "user_fields": {},
    })
}

fn org_json(shared: &Shared, org_id: u64) -> Option<Value> {
    let c = shared.scenario.customer_by_org(org_id)?;
    Some(json!({
        "id": c.org_id,
        "url": format!("{}/api/v2/organizations/{}.json", shared.base_url, c.org_id),
        "name": c.name,
        "external_id": c.id,
        "shared_tickets": false,
        "shared_comments": false,
        "created_at": rfc3339(c.org_created),
        "updated_at": rfc3339(c.org_created),
        "domain_names": [format!("{}.example", c.tenant)],
        "details": "",
        "notes": "",
        "group_id": null,
        "tags": [c.segment.as_str(), c.tenant],
        "organization_fields": {"segment": c.segment.as_str(), "tenant": c.tenant},
    }))
}

fn group_json(shared: &Shared, group_id: u64) -> Option<Value> {
    let index = usize::try_from(group_id.checked_sub(GROUP_BASE)?).ok()?;
    let name = text::GROUPS.get(index)?;
    let created = rfc3339(shared.scenario.anchor - 900 * 86_400);
    Some(json!({
        "id": group_id,
        "url": format!("{}/api/v2/groups/{group_id}.json", shared.base_url),
        "name": name,
        "description": "",
        "default": index == 0,
        "deleted": false,
        "is_public": true,
        "created_at": created,
        "updated_at": created,
    }))
}

fn html_body(body: &str) -> String {
    let paragraphs: Vec<String> = body
        .split("\n\n")
        .map(|p| {
            format!(
                "<p dir=\"auto\">{}</p>",
                html_escape(p).replace('\n', "<br>")
            )
        })
        .collect();
    format!(
        "<div class=\"zd-comment\" dir=\"auto\">{}</div>",
        paragraphs.join("")
    )
}

fn comment_json(c: &desk::Comment, audit_id: u64) -> Value {
    json!({
        "id": c.id,
        "type": "Comment",
        "author_id": c.author,
        "body": c.body,
        "html_body": html_body(&c.body),
        "plain_body": c.body,
        "public": c.public,
        "attachments": [],
        "audit_id": audit_id,
        "via": via(c.channel),
        "metadata": {"system": {}, "custom": {}},
        "created_at": rfc3339(c.created_at),
    })
}

/// Add `users`, `organizations` and `groups` sideloads for these tickets.
fn sideload(
    shared: &Shared,
    body: &mut Map<String, Value>,
    tickets: &[&Ticket],
    include: &BTreeSet<String>,
) {
    let sc = &shared.scenario;
    if include.contains("users") {
        let ids: BTreeSet<u64> = tickets
            .iter()
            .flat_map(|t| [Some(t.requester), t.assignee])
            .flatten()
            .collect();
        let users: Vec<Value> = ids
            .iter()
            .filter_map(|&id| sc.person(id))
            .map(|p| user_json(shared, p))
            .collect();
        body.insert("users".into(), users.into());
    }
    if include.contains("organizations") {
        let ids: BTreeSet<u64> = tickets
            .iter()
            .map(|t| sc.customers[t.customer].org_id)
            .collect();
        let orgs: Vec<Value> = ids.iter().filter_map(|&id| org_json(shared, id)).collect();
        body.insert("organizations".into(), orgs.into());
    }
    if include.contains("metric_sets") {
        let sets: Vec<Value> = tickets
            .iter()
            .map(|t| {
                // Zendesk counts reply times in minutes; the business
                // value needs a schedule the simulator does not model.
                let reply_minutes = t
                    .first_reply_at(sc)
                    .map(|at| (at - t.created_at).max(0) / 60);
                json!({
                    "id": t.id, "ticket_id": t.id, "replies": t.agent_replies(),
                    "reopens": t.reopens,
                    "solved_at": t.solved_at.map(rfc3339),
                    "reply_time_in_minutes": {"calendar": reply_minutes, "business": null},
                    "created_at": rfc3339(t.created_at), "updated_at": rfc3339(t.updated_at)
                })
            })
            .collect();
        body.insert("metric_sets".into(), sets.into());
    }
    if include.contains("groups") {
        let ids: BTreeSet<u64> = tickets.iter().filter_map(|t| t.group).collect();
        let groups: Vec<Value> = ids
            .iter()
            .filter_map(|&id| group_json(shared, id))
            .collect();
        body.insert("groups".into(), groups.into());
    }
}

// ---- SLA policies ------------------------------------------------------------

/// The simulated account's one SLA policy, in minutes per priority (urgent,
/// high, normal, low), calendar hours. Tickets without a priority match no
/// policy, so the cockpit computes their clocks from its own config.
const FIRST_REPLY_MINUTES: [i64; 4] = [30, 120, 480, 1440];
const NEXT_REPLY_MINUTES: [i64; 4] = [60, 240, 480, 1440];
const SLA_PRIORITIES: [Priority; 4] = [
    Priority::Urgent,
    Priority::High,
    Priority::Normal,
    Priority::Low,
];

async fn sla_policies(State(shared): Shr) -> Response {
    let mut metrics = Vec::new();
    for (i, p) in SLA_PRIORITIES.iter().enumerate() {
        for (metric, targets) in [
            ("first_reply_time", FIRST_REPLY_MINUTES),
            ("next_reply_time", NEXT_REPLY_MINUTES),
        ] {
            metrics.push(json!({"priority": p.as_str(), "metric": metric, "target": targets[i], "business_hours": false}));
        }
    }
    Json(json!({
        "sla_policies": [{
            "id": 1, "url": format!("{}/api/v2/slas/policies/1.json", shared.base_url),
            "title": "Standard", "description": "Reply targets for every ticket with a priority",
            "position": 1, "filter": {"all": [], "any": []}, "policy_metrics": metrics,
            "created_at": rfc3339(0), "updated_at": rfc3339(0)
        }],
        "next_page": null, "previous_page": null, "count": 1
    }))
    .into_response()
}

/// The live SLA state of a ticket, as the `slas` sideload shows it: the
/// reply target that runs now (first reply until an agent replied, then
/// next reply from the last public comment: a private note does not reset
/// it), paused while the ticket waits on the
/// customer and achieved once it is solved.
fn slas_json(t: &Ticket, now: i64) -> Value {
    let Some(i) = t
        .priority
        .and_then(|p| SLA_PRIORITIES.iter().position(|q| *q == p))
    else {
        return json!({"policy_metrics": []});
    };
    let (metric, from, minutes) = if t.agent_replies() == 0 {
        ("first_reply_time", t.created_at, FIRST_REPLY_MINUTES[i])
    } else {
        ("next_reply_time", t.reply_clock_at, NEXT_REPLY_MINUTES[i])
    };
    let stage = match t.status {
        Status::New | Status::Open => "active",
        Status::Pending | Status::Hold => "paused",
        _ => "achieved",
    };
    let breach_at = from + minutes * 60;
    json!({"policy_metrics": [{
        "breach_at": rfc3339(breach_at), "stage": stage, "metric": metric,
        "minutes": (breach_at - now) / 60
    }]})
}

fn to_value(v: impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

// ---- incremental export -----------------------------------------------------

/// Cursors are opaque: a change-log position plus a tag of the seed, so a
/// cursor from another scenario is refused rather than silently misread.
fn encode_cursor(sc: &Scenario, pos: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("sim1|{pos}|{:08x}", scenario::mix(sc.seed) as u32))
}

fn decode_cursor(sc: &Scenario, cursor: &str) -> Option<usize> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?).ok()?;
    let mut parts = raw.split('|');
    let (Some("sim1"), Some(pos), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (tag == format!("{:08x}", scenario::mix(sc.seed) as u32)).then_some(())?;
    pos.parse().ok()
}

async fn export(State(shared): Shr, RawQuery(query): RawQuery) -> Response {
    let p = pairs(query.as_deref());
    let per_page = match param(&p, "per_page").map(str::parse::<usize>) {
        None => MAX_EXPORT_PAGE,
        Some(Ok(n)) if n > 0 => n.min(MAX_EXPORT_PAGE),
        Some(_) => return bad_request("per_page must be a positive integer"),
    };
    let include = includes(&p);
    let sc = &shared.scenario;
    let (world, now) = shared.world();
    let from = if let Some(cursor) = param(&p, "cursor") {
        match decode_cursor(sc, cursor) {
            Some(pos) if pos <= world.desk.log_len() => pos,
            _ => {
                let body = json!({"error": "InvalidPaginationParameter", "description": "cursor is invalid or expired"});
                return (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response();
            }
        }
    } else if let Some(start) = param(&p, "start_time") {
        match start.parse::<i64>() {
            Ok(start) if start <= now => world.desk.position_at(start),
            Ok(_) => return bad_request("start_time must be in the past"),
            Err(_) => return bad_request("start_time must be a Unix timestamp in seconds"),
        }
    } else {
        return bad_request("start_time or cursor is required");
    };
    let (tickets, next) = world.desk.page(from, per_page);
    let after = encode_cursor(sc, next);
    let mut after_url = format!(
        "{}/api/v2/incremental/tickets/cursor.json?cursor={after}",
        shared.base_url
    );
    if let Some(n) = param(&p, "per_page") {
        after_url.push_str(&format!("&per_page={n}"));
    }
    if let Some(inc) = param(&p, "include") {
        after_url.push_str("&include=");
        after_url.extend(url::form_urlencoded::byte_serialize(inc.as_bytes()));
    }
    let mut body = Map::new();
    let list: Vec<Value> = tickets
        .iter()
        .map(|t| {
            let mut json = to_value(ticket_json(&shared, &world.desk, t));
            if include.contains("slas")
                && let Value::Object(fields) = &mut json
            {
                fields.insert("slas".into(), slas_json(t, now));
            }
            json
        })
        .collect();
    body.insert("tickets".into(), list.into());
    sideload(&shared, &mut body, &tickets, &include);
    body.insert("after_cursor".into(), after.into());
    body.insert("after_url".into(), after_url.into());
    body.insert("before_cursor".into(), Value::Null);
    body.insert("before_url".into(), Value::Null);
    body.insert(
        "end_of_stream".into(),
        (next >= world.desk.log_len()).into(),
    );
    Json(body).into_response()
}

// ---- tickets ----------------------------------------------------------------

async fn show_ticket(
    State(shared): Shr,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let p = pairs(query.as_deref());
    let (world, _) = shared.world();
    let Some(t) = world.desk.get(id) else {
        return not_found();
    };
    let mut body = Map::new();
    body.insert(
        "ticket".into(),
        to_value(ticket_json(&shared, &world.desk, t)),
    );
    sideload(&shared, &mut body, &[t], &includes(&p));
    Json(body).into_response()
}

async fn show_many_tickets(State(shared): Shr, RawQuery(query): RawQuery) -> Response {
    let p = pairs(query.as_deref());
    let ids = match ids(param(&p, "ids")) {
        Ok(ids) => ids,
        Err(message) => return bad_request(message),
    };
    let (world, _) = shared.world();
    let tickets: Vec<&Ticket> = ids.iter().filter_map(|&id| world.desk.get(id)).collect();
    let mut body = Map::new();
    let list: Vec<Value> = tickets
        .iter()
        .map(|t| to_value(ticket_json(&shared, &world.desk, t)))
        .collect();
    body.insert("tickets".into(), list.into());
    sideload(&shared, &mut body, &tickets, &includes(&p));
    Json(body).into_response()
}

/// The agent an API write is attributed to: the one whose email
/// authenticated, else the simulator's API identity.
fn author_for(sc: &Scenario, caller: &Caller) -> u64 {
    sc.agents
        .iter()
        .find(|a| a.email.eq_ignore_ascii_case(&caller.0))
        .or_else(|| sc.agents.get(text::API_AGENT))
        .map_or(scenario::AGENT_BASE, |a| a.id)
}

fn parse_change(
    sc: &Scenario,
    ticket: &Map<String, Value>,
) -> Result<(Change, Option<u64>), Map<String, Value>> {
    let mut change = Change::default();
    let mut details = Map::new();
    let mut author = None;
    let is_agent = |id: u64| sc.person(id).is_some_and(|p| p.customer.is_none());
    if let Some(v) = ticket.get("status") {
        match v.as_str().and_then(Status::parse) {
            Some(s) => change.status = Some(s),
            None => detail(&mut details, "status", "Status: is not valid"),
        }
    }
    if let Some(v) = ticket.get("priority") {
        match v {
            Value::Null => change.priority = Some(None),
            _ => match v.as_str().and_then(Priority::parse) {
                Some(p) => change.priority = Some(Some(p)),
                None => detail(&mut details, "priority", "Priority: is not valid"),
            },
        }
    }
    if let Some(v) = ticket.get("assignee_id") {
        match v {
            Value::Null => change.assignee = Some(None),
            _ => match v.as_u64().filter(|&id| is_agent(id)) {
                Some(id) => change.assignee = Some(Some(id)),
                None => detail(&mut details, "assignee", "Assignee: is not an agent"),
            },
        }
    }
    if let Some(v) = ticket.get("group_id") {
        match v {
            Value::Null => change.group = Some(None),
            _ => match v.as_u64().filter(|id| {
                id.checked_sub(GROUP_BASE)
                    .is_some_and(|i| i < text::GROUPS.len() as u64)
            }) {
                Some(id) => change.group = Some(Some(id)),
                None => detail(&mut details, "group", "Group: is not valid"),
            },
        }
    }
    if let Some(v) = ticket.get("tags") {
        match v.as_array().map(|a| {
            a.iter()
                .map(|t| t.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        }) {
            Some(Some(tags)) => change.tags = Some(tags),
            _ => detail(&mut details, "tags", "Tags: must be a list of strings"),
        }
    }
    if let Some(v) = ticket.get("comment") {
        let body = v
            .get("body")
            .and_then(Value::as_str)
            .or_else(|| v.get("html_body").and_then(Value::as_str));
        let public = v.get("public").map_or(Some(true), Value::as_bool);
        match (body.map(str::trim), public) {
            (Some(body), Some(public)) if !body.is_empty() => {
                change.comment = Some((body.to_owned(), public))
            }
            (_, None) => detail(
                &mut details,
                "comment",
                "Comment: public must be true or false",
            ),
            _ => detail(&mut details, "comment", "Comment: body can't be blank"),
        }
        if let Some(id) = v.get("author_id").and_then(Value::as_u64) {
            match sc.person(id) {
                Some(_) => author = Some(id),
                None => detail(&mut details, "comment", "Comment: author_id is not a user"),
            }
        }
    }
    // `metadata` is write-only on the ticket: Zendesk keeps its `custom`
    // part on the audit this update creates (and nowhere the requester sees).
    if let Some(v) = ticket.get("metadata") {
        match v.as_object().map(|m| m.get("custom")) {
            Some(None) => {}
            Some(Some(Value::Object(custom))) => change.custom.clone_from(custom),
            _ => detail(
                &mut details,
                "metadata",
                "Metadata: custom must be an object",
            ),
        }
    }
    if ticket.get("safe_update").and_then(Value::as_bool) == Some(true) {
        match ticket.get("updated_stamp").and_then(Value::as_str) {
            Some(stamp) => change.safe_stamp = Some(stamp.to_owned()),
            None => detail(
                &mut details,
                "updated_stamp",
                "Updated stamp: is required for a safe update",
            ),
        }
    }
    if details.is_empty() {
        Ok((change, author))
    } else {
        Err(details)
    }
}

async fn update_ticket(
    State(shared): Shr,
    Path(id): Path<String>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let sc = &shared.scenario;
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let Some(fields) = parsed
        .ok()
        .and_then(|v| v.get("ticket").and_then(Value::as_object).cloned())
    else {
        return bad_request("body must be a JSON object {\"ticket\": {…}}");
    };
    let (change, author) = match parse_change(sc, &fields) {
        Ok(parsed) => parsed,
        Err(details) => return record_invalid(details),
    };
    let author = author.unwrap_or_else(|| author_for(sc, &caller));
    let (mut world, now) = shared.world();
    let audit = match world.desk.update(id, change, author, now) {
        Ok(audit) => audit,
        Err(desk::UpdateError::NotFound) => return not_found(),
        Err(desk::UpdateError::Closed) => {
            let mut details = Map::new();
            detail(
                &mut details,
                "status",
                "Status: closed prevents ticket update",
            );
            return record_invalid(details);
        }
        Err(desk::UpdateError::TooManyComments) => {
            let mut details = Map::new();
            detail(
                &mut details,
                "comment",
                "Comment: ticket has reached the comment limit",
            );
            return record_invalid(details);
        }
        Err(desk::UpdateError::Conflict) => {
            let body = json!({
                "error": "UpdateConflict",
                "description": "Safe Update prevented the update due to outdated ticket data. Please fetch the latest ticket data and try again.",
            });
            return (StatusCode::CONFLICT, Json(body)).into_response();
        }
    };
    let Some(t) = world.desk.get(id) else {
        return not_found();
    };
    let body = json!({
        "ticket": ticket_json(&shared, &world.desk, t),
        "audit": audit_json(&audit),
    });
    Json(body).into_response()
}

fn audit_json(audit: &desk::Audit) -> Value {
    let events: Vec<Value> = audit
        .events
        .iter()
        .enumerate()
        .map(|(n, e)| match e {
            AuditEvent::Comment(c) => comment_json(c, audit.id),
            AuditEvent::Change {
                field,
                value,
                previous,
            } => json!({
                "id": audit.id * 100 + n as u64,
                "type": "Change",
                "field_name": field,
                "value": value,
                "previous_value": previous,
            }),
        })
        .collect();
    json!({
        "id": audit.id,
        "ticket_id": audit.ticket_id,
        "created_at": rfc3339(audit.created_at),
        "author_id": audit.author,
        "metadata": {"system": {"client": "cre-cockpit simulator"}, "custom": audit.custom},
        "via": via(audit.channel),
        "events": events,
    })
}

// ---- audits -----------------------------------------------------------------

/// `GET /api/v2/tickets/{id}/audits` (ListAuditsForTicket): cursor pages
/// (`page[size]` ≤ 100, `page[after]`) or the whole list; oldest first
/// unless `sort=-created_at` or `sort_order=desc`.
async fn audits(State(shared): Shr, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let p = pairs(query.as_deref());
    let (world, _) = shared.world();
    let Some(t) = world.desk.get(id) else {
        return not_found();
    };
    let mut list = world.desk.audits(&shared.scenario, t);
    if param(&p, "sort_order") == Some("desc") || param(&p, "sort") == Some("-created_at") {
        list.reverse();
    }
    let mut body = Map::new();
    let next = format!("{}/api/v2/tickets/{id}/audits.json", shared.base_url);
    let shown = match cursor_page(&p, list, &next, &mut body) {
        Ok(shown) => shown,
        Err(refused) => return bad_request(refused),
    };
    let json_list: Vec<Value> = shown.iter().map(audit_json).collect();
    body.insert("audits".into(), json_list.into());
    Json(body).into_response()
}

/// One page of a ticket's list the way Zendesk pages comments and audits:
/// with `page[size]` (≤ 100) a cursor page from `page[after]`, `meta` and
/// `links.next` (keeping the `sort`); without it the whole list with the
/// offset-paging keys. Fills `body` with the paging keys; a bad parameter
/// is the 400's message.
fn cursor_page<T: Clone>(
    p: &[(String, String)],
    list: Vec<T>,
    next: &str,
    body: &mut Map<String, Value>,
) -> Result<Vec<T>, &'static str> {
    let Some(size) = param(p, "page[size]") else {
        body.insert("next_page".into(), Value::Null);
        body.insert("previous_page".into(), Value::Null);
        body.insert("count".into(), list.len().into());
        return Ok(list);
    };
    let Ok(size) = size.parse::<usize>() else {
        return Err("page[size] must be an integer");
    };
    let size = size.clamp(1, MAX_COMMENT_PAGE);
    let start = match param(p, "page[after]") {
        None => 0,
        Some(c) => match URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse().ok())
        {
            Some(n) => n,
            None => return Err("page[after] is not a valid cursor"),
        },
    };
    let end = (start + size).min(list.len());
    let has_more = end < list.len();
    let cursor = |n: usize| URL_SAFE_NO_PAD.encode(n.to_string());
    let next = has_more.then(|| {
        let mut url = format!(
            "{next}?page%5Bsize%5D={size}&page%5Bafter%5D={}",
            cursor(end)
        );
        if let Some(sort) = param(p, "sort") {
            url.push_str(&format!("&sort={sort}"));
        }
        url
    });
    body.insert(
        "meta".into(),
        json!({"has_more": has_more, "after_cursor": has_more.then(|| cursor(end)), "before_cursor": null}),
    );
    body.insert("links".into(), json!({"next": next, "prev": null}));
    Ok(list
        .get(start.min(list.len())..end)
        .unwrap_or_default()
        .to_vec())
}

// ---- comments ---------------------------------------------------------------

async fn comments(
    State(shared): Shr,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let p = pairs(query.as_deref());
    let (world, _) = shared.world();
    let Some(t) = world.desk.get(id) else {
        return not_found();
    };
    let mut list = world.desk.comments(&shared.scenario, t);
    if param(&p, "sort_order") == Some("desc") || param(&p, "sort") == Some("-created_at") {
        list.reverse();
    }
    let audit_id = |c: &desk::Comment| c.id;
    let mut body = Map::new();
    let next = format!("{}/api/v2/tickets/{id}/comments.json", shared.base_url);
    let shown = match cursor_page(&p, list, &next, &mut body) {
        Ok(shown) => shown,
        Err(refused) => return bad_request(refused),
    };
    if includes(&p).contains("users") {
        let ids: BTreeSet<u64> = shown.iter().map(|c| c.author).collect();
        let users: Vec<Value> = ids
            .iter()
            .filter_map(|&id| shared.scenario.person(id))
            .map(|u| user_json(&shared, u))
            .collect();
        body.insert("users".into(), users.into());
    }
    let json_list: Vec<Value> = shown.iter().map(|c| comment_json(c, audit_id(c))).collect();
    body.insert("comments".into(), json_list.into());
    Json(body).into_response()
}

// ---- tags -------------------------------------------------------------------

async fn list_tags(State(shared): Shr, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let (world, _) = shared.world();
    match world.desk.get(id) {
        Some(t) => Json(json!({"tags": t.tags})).into_response(),
        None => not_found(),
    }
}

async fn change_tags(shared: Arc<Shared>, id: &str, body: &[u8], mode: TagMode) -> Response {
    let Some(id) = parse_id(id) else {
        return not_found();
    };
    let tags = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("tags")?
            .as_array()?
            .iter()
            .map(|t| t.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
    });
    let Some(tags) = tags else {
        return bad_request("body must be {\"tags\": [\"…\"]}");
    };
    let (mut world, now) = shared.world();
    match world.desk.tags(id, tags, mode, now) {
        Ok(tags) => Json(json!({"tags": tags})).into_response(),
        Err(desk::UpdateError::NotFound) => not_found(),
        Err(_) => {
            let mut details = Map::new();
            detail(
                &mut details,
                "status",
                "Status: closed prevents ticket update",
            );
            record_invalid(details)
        }
    }
}

async fn add_tags(State(shared): Shr, Path(id): Path<String>, body: Bytes) -> Response {
    change_tags(shared, &id, &body, TagMode::Add).await
}

async fn set_tags(State(shared): Shr, Path(id): Path<String>, body: Bytes) -> Response {
    change_tags(shared, &id, &body, TagMode::Set).await
}

async fn remove_tags(State(shared): Shr, Path(id): Path<String>, body: Bytes) -> Response {
    change_tags(shared, &id, &body, TagMode::Remove).await
}

// ---- users, organizations, groups ---------------------------------------------

async fn me(State(shared): Shr, Extension(caller): Extension<Caller>) -> Response {
    let id = author_for(&shared.scenario, &caller);
    match shared.scenario.person(id) {
        Some(p) => Json(json!({"user": user_json(&shared, p)})).into_response(),
        None => not_found(),
    }
}

async fn show_user(State(shared): Shr, Path(id): Path<String>) -> Response {
    match parse_id(&id).and_then(|id| shared.scenario.person(id)) {
        Some(p) => Json(json!({"user": user_json(&shared, p)})).into_response(),
        None => not_found(),
    }
}

async fn show_many_users(State(shared): Shr, RawQuery(query): RawQuery) -> Response {
    let p = pairs(query.as_deref());
    match ids(param(&p, "ids")) {
        Ok(ids) => {
            let users: Vec<Value> = ids
                .iter()
                .filter_map(|&id| shared.scenario.person(id))
                .map(|u| user_json(&shared, u))
                .collect();
            Json(json!({"users": users})).into_response()
        }
        Err(message) => bad_request(message),
    }
}

async fn show_org(State(shared): Shr, Path(id): Path<String>) -> Response {
    match parse_id(&id).and_then(|id| org_json(&shared, id)) {
        Some(org) => Json(json!({"organization": org})).into_response(),
        None => not_found(),
    }
}

async fn show_many_orgs(State(shared): Shr, RawQuery(query): RawQuery) -> Response {
    let p = pairs(query.as_deref());
    match ids(param(&p, "ids")) {
        Ok(ids) => {
            let orgs: Vec<Value> = ids.iter().filter_map(|&id| org_json(&shared, id)).collect();
            Json(json!({"organizations": orgs})).into_response()
        }
        Err(message) => bad_request(message),
    }
}

async fn list_groups(State(shared): Shr) -> Response {
    let groups: Vec<Value> = (0..text::GROUPS.len() as u64)
        .filter_map(|i| group_json(&shared, GROUP_BASE + i))
        .collect();
    let count = groups.len();
    Json(json!({"groups": groups, "next_page": null, "previous_page": null, "count": count}))
        .into_response()
}

async fn show_group(State(shared): Shr, Path(id): Path<String>) -> Response {
    match parse_id(&id).and_then(|id| group_json(&shared, id)) {
        Some(group) => Json(json!({"group": group})).into_response(),
        None => not_found(),
    }
}

// ---- browser view -------------------------------------------------------------

async fn ticket_page(State(shared): Shr, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return not_found();
    };
    let sc = &shared.scenario;
    let (world, _) = shared.world();
    let Some(t) = world.desk.get(id) else {
        return not_found();
    };
    let name = |id: Option<u64>| {
        id.and_then(|id| sc.person(id))
            .map_or("—".to_owned(), |p| html_escape(&p.name))
    };
    let mut body = format!(
        "<h1>#{} {}</h1><p>{} · {} · {} · requester {} · assignee {} · tags {}</p>",
        t.id,
        html_escape(&t.subject),
        t.status.as_str(),
        t.priority.map_or("-", Priority::as_str),
        html_escape(&sc.customers[t.customer].name),
        name(Some(t.requester)),
        name(t.assignee),
        html_escape(&t.tags.join(" ")),
    );
    for c in world.desk.comments(sc, t) {
        let class = if c.public { "public" } else { "private" };
        body.push_str(&format!(
            "<div class=\"{class}\"><h3>{} · {}{}</h3><pre>{}</pre></div>",
            name(Some(c.author)),
            rfc3339(c.created_at),
            if c.public { "" } else { " · internal note" },
            html_escape(&c.body)
        ));
    }
    page(&format!("#{}", t.id), &body).into_response()
}
