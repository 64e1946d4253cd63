//! Ingest cost of the desk: one Zendesk incremental-export page of 1,000
//! tickets (with its users, organizations, groups and metric-set sideloads)
//! decoded into domain inquiries, and then folded into a model that already
//! holds a 10k queue (`Model::update`, which re-derives the join and
//! re-sorts every pane, as the app does on each poll).
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use cre_cockpit::core::domain::{DeskUpdate, SourceKind};
use cre_cockpit::core::source::Vendor;
use cre_cockpit::model::message::Message;
use cre_cockpit::model::{Model, Settings, SourceState};
use cre_cockpit::sources::zendesk::read_export_page;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use jiff::Timestamp;
use serde_json::{Value, json};

const PAGE: u64 = 1_000;
const QUEUE: u64 = 10_000;

/// A page as Zendesk sends it: every ticket field the OAS lists, sideloads.
fn export_page(first_id: u64, count: u64) -> Vec<u8> {
    let statuses = ["new", "open", "open", "pending", "hold", "solved"];
    let priorities = [
        json!("urgent"),
        json!("high"),
        json!("normal"),
        Value::Null,
        json!("low"),
    ];
    let tickets: Vec<Value> = (0..count)
        .map(|n| {
            let id = first_id + n;
            json!({
                "id": id,
                "url": format!("https://acme.zendesk.com/api/v2/tickets/{id}.json"),
                "external_id": null,
                "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": null}},
                "created_at": "2026-11-20T09:00:00Z",
                "updated_at": "2026-11-21T04:30:00Z",
                "generated_timestamp": 1_795_228_200,
                "type": "incident",
                "subject": format!("ログインできません / login fails #{id}"),
                "raw_subject": format!("ログインできません / login fails #{id}"),
                "description": "It does not work since this morning. ".repeat(8),
                "priority": priorities[(n % 5) as usize],
                "status": statuses[(n % 6) as usize],
                "recipient": "support@acme.example",
                "requester_id": 10_000 + n % 300,
                "submitter_id": 10_000 + n % 300,
                "assignee_id": 20_000 + n % 20,
                "organization_id": 30_000 + n % 100,
                "group_id": 40_000 + n % 5,
                "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [],
                "has_incidents": false, "is_public": true, "due_at": null,
                "tags": ["vip", format!("feature_area{}", n % 12), "escalated_l2"],
                "custom_fields": [{"id": 27642, "value": "745"}, {"id": 27648, "value": "yes"}],
                "satisfaction_rating": {"score": "unoffered"},
                "sharing_agreement_ids": [], "brand_id": 1,
                "allow_channelback": false, "from_messaging_channel": false
            })
        })
        .collect();
    let users: Vec<Value> = (0..300)
        .map(
            |u| json!({"id": 10_000 + u, "name": format!("Customer User {u}"), "role": "end-user"}),
        )
        .chain(
            (0..20)
                .map(|u| json!({"id": 20_000 + u, "name": format!("Agent {u}"), "role": "agent"})),
        )
        .collect();
    let orgs: Vec<Value> = (0..100)
        .map(|o| json!({"id": 30_000 + o, "name": format!("Org {o}"), "domain_names": []}))
        .collect();
    let groups: Vec<Value> = (0..5)
        .map(|g| json!({"id": 40_000 + g, "name": format!("Support L{g}")}))
        .collect();
    let metric_sets: Vec<Value> = (0..count)
        .map(|n| json!({"ticket_id": first_id + n, "replies": n % 3}))
        .collect();
    serde_json::to_vec(&json!({
        "tickets": tickets, "users": users, "organizations": orgs, "groups": groups,
        "metric_sets": metric_sets, "after_cursor": "next", "after_url": null,
        "before_cursor": null, "before_url": null, "end_of_stream": true
    }))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let base = reqwest::Url::parse("https://acme.zendesk.com").unwrap();
    let page = export_page(1, PAGE);
    let now: Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
    let mut model = Model::new(
        Settings::default(),
        vec![SourceState::new(SourceKind::Desk, Vendor::Zendesk)],
        now,
    );
    let queue = read_export_page(&base, &export_page(100_000, QUEUE)).unwrap();
    model.update(Message::Desk {
        vendor: Vendor::Zendesk,
        at: now,
        result: Ok(DeskUpdate {
            full: true,
            changed: queue,
            removed: Vec::new(),
            requests: 1,
        }),
    });

    let mut group = c.benchmark_group("zendesk export page");
    group.throughput(Throughput::Elements(PAGE));
    group.bench_function("parse 1,000 tickets", |b| {
        b.iter(|| read_export_page(&base, black_box(&page)).unwrap());
    });
    group.bench_function("parse and ingest 1,000 tickets into a 10k queue", |b| {
        b.iter_batched(
            || model.clone(),
            |mut model| {
                let changed = read_export_page(&base, black_box(&page)).unwrap();
                model.update(Message::Desk {
                    vendor: Vendor::Zendesk,
                    at: now,
                    result: Ok(DeskUpdate {
                        full: false,
                        changed,
                        removed: Vec::new(),
                        requests: 1,
                    }),
                });
                model
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
