//! PagerDuty subset: REST v2 incidents (list with filters and classic
//! pagination, show, update, notes) and Events v2 `POST /v2/enqueue`, plus a
//! plain HTML incident page for the `html_url` links.
//!
//! The scenario has two incidents: a low-urgency P3 on `exports` that is open
//! from the start (so the pane is never empty), and the P1 on `api` that the
//! script triggers at `--incident-after`, acknowledges, annotates and
//! resolves about half an hour later.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::RngExt;
use serde_json::{Value, json};

use super::scenario::{self, Scenario};
use super::{Shared, html_escape, page, pairs, rfc3339};

/// PagerDuty refuses classic pagination past this many records.
const MAX_OFFSET: u64 = 10_000;
const MAX_LIMIT: u64 = 100;

/// Services: (name, index into RESPONDERS of who is on call).
const SERVICES: [(&str, usize); 3] = [("api", 0), ("exports", 1), ("cre-escalations", 2)];
const API: usize = 0;
const EXPORTS: usize = 1;
const ESCALATIONS: usize = 2;
/// On-call people: (name, email). The last one is the second escalation level.
const RESPONDERS: [(&str, &str); 4] = [
    ("Kenji Watanabe", "kenji.watanabe@ops.sim.example"),
    ("Alex Johnson", "alex.johnson@ops.sim.example"),
    ("Nora Lindqvist", "nora.lindqvist@ops.sim.example"),
    ("Ravi Menon", "ravi.menon@ops.sim.example"),
];
const SECOND_LEVEL: usize = 3;
/// Author of notes from callers who are not one of the responders.
const API_USER: (&str, &str) = ("CRE Cockpit", "cockpit@ops.sim.example");
const API_USER_INDEX: usize = RESPONDERS.len();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Triggered,
    Acknowledged,
    Resolved,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Self::Triggered => "triggered",
            Self::Acknowledged => "acknowledged",
            Self::Resolved => "resolved",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "triggered" => Self::Triggered,
            "acknowledged" => Self::Acknowledged,
            "resolved" => Self::Resolved,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
struct Note {
    id: String,
    user: usize,
    content: String,
    created_at: i64,
}

#[derive(Debug, Clone)]
struct Incident {
    id: String,
    number: u64,
    title: String,
    service: usize,
    status: Status,
    urgency: &'static str,
    priority: Option<&'static str>,
    incident_key: String,
    created_at: i64,
    updated_at: i64,
    last_status_change_at: i64,
    /// Who changed the status last (responder index).
    last_status_change_by: usize,
    assignee: usize,
    acknowledged_at: Option<i64>,
    resolved_at: Option<i64>,
    alerts: u32,
    notes: Vec<Note>,
}

impl Incident {
    fn set_status(&mut self, status: Status, by: usize, at: i64) {
        if self.status == status {
            return;
        }
        self.status = status;
        self.last_status_change_at = at;
        self.last_status_change_by = by;
        self.updated_at = at;
        match status {
            Status::Triggered => {
                self.acknowledged_at = None;
                self.resolved_at = None;
            }
            Status::Acknowledged => self.acknowledged_at = Some(at),
            Status::Resolved => self.resolved_at = Some(at),
        }
    }
}

/// A step of the incident script.
#[derive(Debug, Clone)]
enum Step {
    Trigger,
    Acknowledge,
    Note(String),
    Resolve(String),
}

pub(crate) struct Pager {
    seed: u64,
    incidents: Vec<Incident>,
    script: Vec<(f64, Step)>,
    next_step: usize,
    main: Option<usize>,
    next_number: u64,
    next_note: u64,
}

/// A PagerDuty-looking id: a prefix letter and upper-case letters/digits.
fn pd_id(seed: u64, stream: u64, prefix: char, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    let mut r = scenario::rng(seed, 0x5044_0000 + stream);
    let mut id = String::with_capacity(len + 1);
    id.push(prefix);
    for _ in 0..len {
        id.push(char::from(ALPHABET[r.random_range(0..ALPHABET.len())]));
    }
    id
}

impl Pager {
    pub(crate) fn new(sc: &Scenario) -> Self {
        let mut r = scenario::rng(sc.seed, 7);
        let first_number = r.random_range(1000..5000u64);
        let plan = &sc.plan;
        let tenants: Vec<&str> = plan
            .affected
            .iter()
            .map(|&i| sc.customers[i].tenant.as_str())
            .collect();
        let tenants = tenants.join(", ");
        let script = vec![
            (plan.start, Step::Trigger),
            (plan.acknowledged, Step::Acknowledge),
            (
                plan.start + 240.0,
                Step::Note(format!(
                    "Investigating elevated HTTP 5xx on api. Tenants most affected: {tenants}. Customer-facing impact confirmed; CRE engaged for customer updates."
                )),
            ),
            (
                plan.diagnosed,
                Step::Note("Likely cause: connection-pool exhaustion on api-db after today's deploy. Preparing a rollback.".into()),
            ),
            (plan.mitigated, Step::Note("Rollback complete; the 5xx rate is falling for all tenants. Monitoring.".into())),
            (
                plan.resolved,
                Step::Resolve("Resolved: error rates are back to baseline for every tenant. Post-incident review to follow.".into()),
            ),
        ];
        let mut pager = Self {
            seed: sc.seed,
            incidents: Vec::new(),
            script,
            next_step: 0,
            main: None,
            next_number: first_number,
            next_note: 1,
        };
        // Open since before the start, so the incidents pane is never empty.
        let created = sc.anchor - r.random_range(2 * 3600..5 * 3600);
        let index = pager.open(
            EXPORTS,
            "Exports running slow for large workspaces",
            "exports/latency",
            "low",
            Some("P3"),
            created,
        );
        let background = &mut pager.incidents[index];
        background.alerts = 2;
        background.set_status(Status::Acknowledged, 1, created + 360);
        pager.note(
            index,
            1,
            "Export queue backlog at 2x normal; added workers, watching throughput.".into(),
            created + 1200,
        );
        pager
    }

    fn open(
        &mut self,
        service: usize,
        title: &str,
        key: &str,
        urgency: &'static str,
        priority: Option<&'static str>,
        at: i64,
    ) -> usize {
        let number = self.next_number;
        self.next_number += 1;
        let responder = SERVICES[service].1;
        self.incidents.push(Incident {
            id: pd_id(self.seed, 1000 + number, 'Q', 13),
            number,
            title: title.to_owned(),
            service,
            status: Status::Triggered,
            urgency,
            priority,
            incident_key: key.to_owned(),
            created_at: at,
            updated_at: at,
            last_status_change_at: at,
            last_status_change_by: responder,
            assignee: responder,
            acknowledged_at: None,
            resolved_at: None,
            alerts: 1,
            notes: Vec::new(),
        });
        self.incidents.len() - 1
    }

    fn note(&mut self, index: usize, user: usize, content: String, at: i64) -> Note {
        let note = Note {
            id: pd_id(self.seed, 0x10_0000 + self.next_note, 'P', 6),
            user,
            content,
            created_at: at,
        };
        self.next_note += 1;
        self.incidents[index].notes.push(note.clone());
        note
    }

    /// Play the incident script up to scenario time `t`.
    pub(crate) fn advance(&mut self, sc: &Scenario, t: f64) {
        while let Some((at, step)) = self.script.get(self.next_step).cloned() {
            if at > t {
                break;
            }
            self.next_step += 1;
            let stamp = sc.anchor + at.floor() as i64;
            let tenants: Vec<&str> = sc
                .plan
                .affected
                .iter()
                .map(|&i| sc.customers[i].tenant.as_str())
                .collect();
            match (step, self.main) {
                (Step::Trigger, _) => {
                    let title = format!(
                        "Elevated 5xx error rate on api (tenants: {})",
                        tenants.join(", ")
                    );
                    let index = self.open(API, &title, "api/5xx-ratio", "high", Some("P1"), stamp);
                    self.incidents[index].alerts = tenants.len() as u32;
                    self.main = Some(index);
                }
                (Step::Acknowledge, Some(i)) => {
                    let incident = &mut self.incidents[i];
                    if incident.status == Status::Triggered {
                        let by = incident.assignee;
                        incident.set_status(Status::Acknowledged, by, stamp);
                    }
                }
                (Step::Note(text), Some(i)) => {
                    let by = self.incidents[i].assignee;
                    self.note(i, by, text, stamp);
                }
                (Step::Resolve(text), Some(i)) => {
                    let by = self.incidents[i].assignee;
                    self.incidents[i].set_status(Status::Resolved, by, stamp);
                    self.note(i, by, text, stamp);
                }
                (_, None) => {}
            }
        }
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.incidents.iter().position(|i| i.id == id)
    }
}

// ---- JSON ---------------------------------------------------------------------

fn user(shared: &Shared, index: usize) -> (String, &'static str, &'static str) {
    let (name, email) = RESPONDERS.get(index).copied().unwrap_or(API_USER);
    (
        pd_id(shared.scenario.seed, 100 + index as u64, 'P', 6),
        name,
        email,
    )
}

/// Where references to things the simulator does not serve (users,
/// escalation policies) point. The spec types their `self`/`html_url` as
/// format "url", which validators read as a public host name: a loopback
/// address fails it. Nothing follows these links.
const REFERENCE_BASE: &str = "https://sim.pagerduty.example";

fn user_ref(shared: &Shared, index: usize) -> Value {
    let (id, name, _) = user(shared, index);
    json!({
        "id": id,
        "type": "user_reference",
        "summary": name,
        "self": format!("{REFERENCE_BASE}/users/{id}"),
        "html_url": format!("{REFERENCE_BASE}/users/{id}"),
    })
}

fn incident_json(shared: &Shared, i: &Incident) -> Value {
    let seed = shared.scenario.seed;
    let base = &shared.base_url;
    let (service, _) = SERVICES[i.service];
    let service_id = pd_id(seed, 200 + i.service as u64, 'P', 6);
    let policy_id = pd_id(seed, 300 + i.service as u64, 'P', 6);
    let resolved = i.status == Status::Resolved;
    let assignments = if resolved {
        json!([])
    } else {
        json!([{"at": rfc3339(i.created_at), "assignee": user_ref(shared, i.assignee)}])
    };
    let acknowledgements = match (i.acknowledged_at, resolved) {
        (Some(at), false) => {
            json!([{"at": rfc3339(at), "acknowledger": user_ref(shared, i.assignee)}])
        }
        _ => json!([]),
    };
    let priority = i.priority.map(|p| {
        let id = pd_id(seed, 400 + u64::from(p.as_bytes()[1]), 'P', 6);
        json!({"id": id, "type": "priority_reference", "summary": p, "name": p, "self": format!("{base}/priorities/{id}")})
    });
    let triggered = if resolved { 0 } else { i.alerts };
    json!({
        "id": i.id,
        "type": "incident",
        "summary": format!("[#{}] {}", i.number, i.title),
        "self": format!("{base}/incidents/{}", i.id),
        "html_url": format!("{base}/web/incidents/{}", i.id),
        "incident_number": i.number,
        "title": i.title,
        "description": i.title,
        "created_at": rfc3339(i.created_at),
        "updated_at": rfc3339(i.updated_at),
        "status": i.status.as_str(),
        "urgency": i.urgency,
        "incident_key": i.incident_key,
        "service": {
            "id": service_id,
            "type": "service_reference",
            "summary": service,
            "self": format!("{base}/services/{service_id}"),
            "html_url": format!("{base}/web/services/{service_id}"),
        },
        "assignments": assignments,
        "assigned_via": "escalation_policy",
        "acknowledgements": acknowledgements,
        "last_status_change_at": rfc3339(i.last_status_change_at),
        "last_status_change_by": user_ref(shared, i.last_status_change_by),
        "resolved_at": i.resolved_at.map(rfc3339),
        "first_trigger_log_entry": {
            "id": pd_id(seed, 2000 + i.number, 'R', 13),
            "type": "trigger_log_entry_reference",
            "summary": "Triggered through the API",
        },
        "escalation_policy": {
            "id": policy_id,
            "type": "escalation_policy_reference",
            "summary": format!("{service} on-call"),
            "self": format!("{base}/escalation_policies/{policy_id}"),
        },
        "priority": priority,
        "alert_counts": {"all": i.alerts, "triggered": triggered, "resolved": i.alerts - triggered},
        "teams": [],
        "pending_actions": [],
        "is_mergeable": true,
        "incident_type": {"name": "incident_default"},
        "resolve_reason": null,
        "conference_bridge": null,
        "incidents_responders": [],
        "responder_requests": [],
    })
}

fn note_json(shared: &Shared, n: &Note) -> Value {
    json!({
        "id": n.id,
        "user": user_ref(shared, n.user),
        "channel": {"summary": "The PagerDuty website or APIs"},
        "content": n.content,
        "created_at": rfc3339(n.created_at),
        "updated_at": rfc3339(n.created_at),
    })
}

// ---- HTTP -----------------------------------------------------------------------

type Shr = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/incidents", get(list))
        .route("/incidents/{id}", get(show).put(update))
        .route("/incidents/{id}/notes", get(notes).post(add_note))
        .route("/oncalls", get(oncalls))
        .route_layer(middleware::from_fn(guard))
        .route("/v2/enqueue", post(enqueue))
        .route("/web/incidents/{id}", get(incident_page))
}

fn error(status: StatusCode, message: &str, code: u32, errors: &[&str]) -> Response {
    let mut body = json!({"error": {"message": message, "code": code}});
    if !errors.is_empty() {
        body["error"]["errors"] = json!(errors);
    }
    (status, Json(body)).into_response()
}

fn invalid(reason: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "Invalid Input Provided",
        2001,
        &[reason],
    )
}

pub(crate) fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Not Found", 2100, &[])
}

async fn guard(request: Request, next: Next) -> Response {
    let authorised = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Token token="))
        .is_some_and(|token| !token.trim().is_empty());
    if authorised {
        next.run(request).await
    } else {
        error(StatusCode::UNAUTHORIZED, "Authentication failed", 2006, &[])
    }
}

/// The `From` header's user: a responder, or the API identity for anyone else.
fn from_user(headers: &HeaderMap) -> Option<usize> {
    let from = headers
        .get("from")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| v.contains('@'))?;
    Some(
        RESPONDERS
            .iter()
            .position(|(_, email)| email.eq_ignore_ascii_case(from))
            .unwrap_or(API_USER_INDEX),
    )
}

fn missing_from() -> Response {
    invalid("A valid \"From\" header (the email address of a PagerDuty user) is required.")
}

/// The values of a query parameter, written `name` or `name[]`.
fn values_of<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// `limit` and `offset` as PagerDuty's classic pagination reads them, or
/// why it refuses them.
fn paging(pairs: &[(String, String)]) -> Result<(u64, u64), String> {
    let number = |name: &str, default: u64| -> Result<u64, String> {
        match values_of(pairs, name).first() {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("{} must be a non-negative integer.", capitalise(name))),
        }
    };
    let (limit, offset) = match (number("limit", 25), number("offset", 0)) {
        (Ok(l), Ok(o)) => (l.clamp(1, MAX_LIMIT), o),
        (Err(m), _) | (_, Err(m)) => return Err(m),
    };
    if offset + limit > MAX_OFFSET {
        return Err("Offset must be less than 10000.".to_owned());
    }
    Ok((limit, offset))
}

async fn list(State(shared): Shr, RawQuery(query): RawQuery) -> Response {
    let p = pairs(query.as_deref());
    let values = |name: &str| values_of(&p, name);
    let (limit, offset) = match paging(&p) {
        Ok(paging) => paging,
        Err(refusal) => return invalid(&refusal),
    };
    let mut statuses = Vec::new();
    for s in values("statuses") {
        match Status::parse(s) {
            Some(s) => statuses.push(s),
            None => return invalid("Statuses must be one of triggered, acknowledged, resolved."),
        }
    }
    let urgencies = values("urgencies");
    if urgencies.iter().any(|u| *u != "high" && *u != "low") {
        return invalid("Urgencies must be one of high, low.");
    }
    let services = values("service_ids");
    let key = values("incident_key").first().copied();
    let total_wanted = values("total").first() == Some(&"true");
    let descending = values("sort_by").iter().any(|s| s.ends_with(":desc"));
    let (world, _) = shared.world();
    let seed = shared.scenario.seed;
    let mut matching: Vec<&Incident> = world
        .pager
        .incidents
        .iter()
        .filter(|i| statuses.is_empty() || statuses.contains(&i.status))
        .filter(|i| urgencies.is_empty() || urgencies.contains(&i.urgency))
        .filter(|i| {
            services.is_empty()
                || services.contains(&pd_id(seed, 200 + i.service as u64, 'P', 6).as_str())
        })
        .filter(|i| key.is_none_or(|k| k == i.incident_key))
        .collect();
    if descending {
        matching.reverse();
    }
    let total = matching.len() as u64;
    let page: Vec<Value> = matching
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|i| incident_json(&shared, i))
        .collect();
    Json(json!({
        "incidents": page,
        "limit": limit,
        "offset": offset,
        "more": offset + limit < total,
        "total": if total_wanted { Some(total) } else { None },
    }))
    .into_response()
}

/// How long each simulated on-call shift lasts (a week, as common
/// rotations do), so `start`/`end` are real times around now.
const SHIFT_SECONDS: i64 = 7 * 86_400;

/// `GET /oncalls`: every service's policy has its responder at level 1
/// and the second-level responder at level 2, filtered by
/// `escalation_policy_ids[]` and `user_ids[]` and paged like `/incidents`.
/// The cockpit reads it for each open incident's escalation level.
async fn oncalls(State(shared): Shr, RawQuery(query): RawQuery) -> Response {
    let p = pairs(query.as_deref());
    let values = |name: &str| values_of(&p, name);
    let (limit, offset) = match paging(&p) {
        Ok(paging) => paging,
        Err(refusal) => return invalid(&refusal),
    };
    let policies = values("escalation_policy_ids");
    let users = values("user_ids");
    let total_wanted = values("total").first() == Some(&"true");
    let seed = shared.scenario.seed;
    // The current shift began at the last week boundary before now.
    let now = shared.now_unix() as i64;
    let start = now - now.rem_euclid(SHIFT_SECONDS);
    let mut matching = Vec::new();
    for (service, (name, responder)) in SERVICES.iter().enumerate() {
        let policy = pd_id(seed, 300 + service as u64, 'P', 6);
        if !policies.is_empty() && !policies.contains(&policy.as_str()) {
            continue;
        }
        for (level, person) in [(1u32, *responder), (2, SECOND_LEVEL)] {
            let (user_id, _, _) = user(&shared, person);
            if !users.is_empty() && !users.contains(&user_id.as_str()) {
                continue;
            }
            matching.push(json!({
                "escalation_policy": {
                    "id": policy,
                    "type": "escalation_policy_reference",
                    "summary": format!("{name} on-call"),
                    "self": format!("{REFERENCE_BASE}/escalation_policies/{policy}"),
                    "html_url": format!("{REFERENCE_BASE}/escalation_policies/{policy}"),
                },
                "user": user_ref(&shared, person),
                "escalation_level": level,
                "start": rfc3339(start),
                "end": rfc3339(start + SHIFT_SECONDS),
            }));
        }
    }
    let total = matching.len() as u64;
    let page: Vec<Value> = matching
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    Json(json!({
        "oncalls": page,
        "limit": limit,
        "offset": offset,
        "more": offset + limit < total,
        "total": if total_wanted { Some(total) } else { None },
    }))
    .into_response()
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

async fn show(State(shared): Shr, Path(id): Path<String>) -> Response {
    let (world, _) = shared.world();
    match world.pager.find(&id) {
        Some(i) => Json(json!({"incident": incident_json(&shared, &world.pager.incidents[i])}))
            .into_response(),
        None => not_found(),
    }
}

async fn update(
    State(shared): Shr,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(by) = from_user(&headers) else {
        return missing_from();
    };
    let Some(fields) = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("incident").cloned())
    else {
        return invalid("Body must be {\"incident\": {…}}.");
    };
    let status = match fields.get("status") {
        None => None,
        Some(v) => match v.as_str().and_then(Status::parse) {
            Some(s) => Some(s),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Invalid Status",
                    1003,
                    &["Status is not valid."],
                );
            }
        },
    };
    let level = match fields.get("escalation_level") {
        None => None,
        Some(v) => match v.as_u64().filter(|&l| l >= 1) {
            Some(l) => Some(l),
            None => return invalid("Escalation level must be a positive integer."),
        },
    };
    let (mut world, now) = shared.world();
    let Some(index) = world.pager.find(&id) else {
        return not_found();
    };
    let incident = &mut world.pager.incidents[index];
    if let Some(level) = level {
        if incident.status == Status::Resolved {
            return error(
                StatusCode::BAD_REQUEST,
                "Incident Already Resolved",
                1001,
                &[],
            );
        }
        incident.assignee = if level >= 2 {
            SECOND_LEVEL
        } else {
            SERVICES[incident.service].1
        };
        // Escalating re-notifies: the incident is triggered again for the new assignee.
        incident.set_status(Status::Triggered, by, now);
        incident.updated_at = now;
    }
    if let Some(status) = status {
        incident.set_status(status, by, now);
    }
    Json(json!({"incident": incident_json(&shared, incident)})).into_response()
}

async fn notes(State(shared): Shr, Path(id): Path<String>) -> Response {
    let (world, _) = shared.world();
    match world.pager.find(&id) {
        Some(i) => {
            let list: Vec<Value> = world.pager.incidents[i]
                .notes
                .iter()
                .map(|n| note_json(&shared, n))
                .collect();
            Json(json!({"notes": list})).into_response()
        }
        None => not_found(),
    }
}

async fn add_note(
    State(shared): Shr,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(by) = from_user(&headers) else {
        return missing_from();
    };
    let content = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("note")?.get("content")?.as_str().map(str::to_owned))
        .filter(|c| !c.trim().is_empty());
    let Some(content) = content else {
        return invalid("Note content is required.");
    };
    let (mut world, now) = shared.world();
    let Some(index) = world.pager.find(&id) else {
        return not_found();
    };
    if world.pager.incidents[index].notes.len() >= 2000 {
        return invalid("An incident can have at most 2000 notes.");
    }
    let note = world.pager.note(index, by, content, now);
    Json(json!({"note": note_json(&shared, &note)})).into_response()
}

fn event_error(errors: &[&str]) -> Response {
    let body =
        json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Events v2: a trigger opens an incident on `cre-escalations` (or joins the
/// open one with the same dedup key, which is how re-escalation stays one
/// page); acknowledge and resolve act on the open incident with that key.
async fn enqueue(State(shared): Shr, body: Bytes) -> Response {
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        let body = json!({"status": "Unrecognized object", "message": "Event object format is unrecognized", "errors": ["JSON parse error"]});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|s| !s.is_empty())
    };
    if text(&event, "routing_key").is_none() {
        return event_error(&["'routing_key' is missing or blank"]);
    }
    let action = text(&event, "event_action").unwrap_or_default();
    let dedup = text(&event, "dedup_key");
    let (mut world, now) = shared.world();
    let open = |pager: &Pager, key: &str| {
        pager
            .incidents
            .iter()
            .position(|i| i.incident_key == key && i.status != Status::Resolved)
    };
    let key = match action.as_str() {
        "trigger" => {
            let payload = event.get("payload").cloned().unwrap_or(Value::Null);
            let (Some(summary), Some(_source), Some(severity)) = (
                text(&payload, "summary"),
                text(&payload, "source"),
                text(&payload, "severity"),
            ) else {
                return event_error(&[
                    "'payload.summary', 'payload.source' and 'payload.severity' are required",
                ]);
            };
            if !["critical", "error", "warning", "info"].contains(&severity.as_str()) {
                return event_error(&[
                    "'payload.severity' must be one of critical, error, warning, info",
                ]);
            }
            let key = dedup.unwrap_or_else(|| {
                format!(
                    "{:016x}",
                    scenario::mix(now as u64 ^ world.pager.next_number)
                )
            });
            if let Some(i) = open(&world.pager, &key) {
                let incident = &mut world.pager.incidents[i];
                incident.alerts += 1;
                incident.updated_at = now;
            } else {
                let urgency = if matches!(severity.as_str(), "critical" | "error") {
                    "high"
                } else {
                    "low"
                };
                let title: String = summary.chars().take(1024).collect();
                world
                    .pager
                    .open(ESCALATIONS, &title, &key, urgency, None, now);
            }
            key
        }
        "acknowledge" | "resolve" => {
            let Some(key) = dedup else {
                return event_error(&["'dedup_key' is required for acknowledge and resolve"]);
            };
            if let Some(i) = open(&world.pager, &key) {
                let status = if action == "resolve" {
                    Status::Resolved
                } else {
                    Status::Acknowledged
                };
                world.pager.incidents[i].set_status(status, API_USER_INDEX, now);
            }
            key
        }
        _ => return event_error(&["'event_action' must be one of trigger, acknowledge, resolve"]),
    };
    let body = json!({"status": "success", "message": "Event processed", "dedup_key": key});
    (StatusCode::ACCEPTED, Json(body)).into_response()
}

async fn incident_page(State(shared): Shr, Path(id): Path<String>) -> Response {
    let (world, _) = shared.world();
    let Some(index) = world.pager.find(&id) else {
        return not_found();
    };
    let i = &world.pager.incidents[index];
    let mut body = format!(
        "<h1>[#{}] {}</h1><p>{} · {} urgency · {} · service {} · assigned to {}</p>",
        i.number,
        html_escape(&i.title),
        i.status.as_str(),
        i.urgency,
        i.priority.unwrap_or("no priority"),
        SERVICES[i.service].0,
        html_escape(user(&shared, i.assignee).1),
    );
    for n in &i.notes {
        body.push_str(&format!(
            "<div><h3>{} · {}</h3><pre>{}</pre></div>",
            html_escape(user(&shared, n.user).1),
            rfc3339(n.created_at),
            html_escape(&n.content)
        ));
    }
    page(&format!("#{}", i.number), &body).into_response()
}
