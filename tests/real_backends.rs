//! Against the real Prometheus and Alertmanager that
//! `scripts/services/prometheus.sh` starts (Debian's packages, seeded from
//! `tests/fixtures/services/`). The expected numbers are worked out here
//! from the same seed table the script turned into samples, so they are
//! what the seeded data implies, not what the cockpit happened to say.
#![allow(clippy::unwrap_used, clippy::float_cmp)]

mod common;

use common::fixtures::{SLOS_TOML, accounts_csv, five_customers};

use std::collections::BTreeMap;
use std::time::Duration;

use cre_cockpit::config::Config;
use cre_cockpit::core::domain::{IncidentStatus, MetricsSnapshot, Severity};
use cre_cockpit::insight::slo::{self, BurnLevel};
use cre_cockpit::sources::IncidentSource;
use cre_cockpit::sources::alertmanager::Alertmanager;
use cre_cockpit::sources::http;
use cre_cockpit::sources::prometheus::Prometheus;
use serde_json::Value;

const SEED: &str = include_str!("fixtures/services/metrics-seed.txt");

/// `-4d`, `+1d`, `-90m` → seconds relative to the seed epoch.
fn offset(raw: &str) -> i64 {
    let (n, unit) = raw.split_at(raw.len() - 1);
    let n: i64 = n.parse().unwrap();
    n * match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => panic!("unit {other}"),
    }
}

/// A constant-rate stretch of requests: (from, to) relative to the epoch.
struct Segment {
    tenant: String,
    service: String,
    from: i64,
    to: i64,
    per_second: f64,
    ratio: f64,
}

struct Seed {
    requests: Vec<Segment>,
    users: Vec<(String, i64, i64, f64)>,
    features: BTreeMap<String, usize>,
}

fn seed() -> Seed {
    let mut seed = Seed {
        requests: Vec::new(),
        users: Vec::new(),
        features: BTreeMap::new(),
    };
    for line in SEED.lines().map(str::trim) {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("requests") => seed.requests.push(Segment {
                tenant: f[1].into(),
                service: f[2].into(),
                from: offset(f[3]),
                to: offset(f[4]),
                per_second: f[5].parse::<f64>().unwrap() / 60.0,
                ratio: f[6].parse().unwrap(),
            }),
            Some("users") => seed.users.push((
                f[1].into(),
                offset(f[2]),
                offset(f[3]),
                f[4].parse().unwrap(),
            )),
            Some("feature") => *seed.features.entry(f[1].into()).or_default() += 1,
            _ => {}
        }
    }
    seed
}

impl Seed {
    /// Good and valid events over `[-window, 0]` for a tenant (and service).
    fn counts(&self, tenant: &str, service: Option<&str>, window: i64) -> slo::Counts {
        self.counts_until(tenant, service, window, 0)
    }

    /// Good and valid events over `[end - window, end]`.
    fn counts_until(
        &self,
        tenant: &str,
        service: Option<&str>,
        window: i64,
        end: i64,
    ) -> slo::Counts {
        let mut c = slo::Counts::default();
        for s in &self.requests {
            if s.tenant != tenant || service.is_some_and(|x| x != s.service) {
                continue;
            }
            let overlap = (s.to.min(end) - s.from.max(end - window)).max(0) as f64;
            let valid = s.per_second * overlap;
            c.valid += valid;
            c.good += valid * (1.0 - s.ratio);
        }
        c
    }

    fn tenants(&self) -> Vec<String> {
        let mut t: Vec<String> = self.requests.iter().map(|s| s.tenant.clone()).collect();
        t.dedup();
        t
    }

    /// The gauge's value at an offset (the script's rule: from ≤ t < to).
    fn users_at(&self, tenant: &str, at: i64) -> Option<f64> {
        self.users
            .iter()
            .find(|(t, from, to, _)| t == tenant && *from <= at && at < *to)
            .map(|u| u.3)
    }
}

/// What the adapter's combined query rounds each value to on the server
/// (PromQL's `round(v, step)`, computed the same way).
fn round_to(v: f64, step: f64) -> f64 {
    let inverse = 1.0 / step;
    (v * inverse + 0.5).floor() / inverse
}

/// SLO counts as the combined query returns them: to 0.01 of an event.
fn rounded(c: slo::Counts) -> slo::Counts {
    slo::Counts {
        good: round_to(c.good, 0.01),
        valid: round_to(c.valid, 0.01),
    }
}

fn near(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: no value, expected {want}"));
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1e-6),
        "{what}: got {got}, the seed implies {want}"
    );
}

async fn snapshot_at_seed(url: &str, epoch: i64) -> MetricsSnapshot {
    let config = Config::parse(&format!(
        "[metrics]\nkind = \"prometheus\"\nurl = \"{url}\"\n{SLOS_TOML}"
    ))
    .unwrap();
    let mut adapter = Prometheus::new(http::client(), config.metrics.as_ref().unwrap(), None)
        .unwrap()
        .with_slos(&config.slo);
    let mut snapshot = adapter
        .snapshot_at(jiff::Timestamp::from_second(epoch).unwrap())
        .await
        .unwrap();
    slo::judge(&mut snapshot);
    snapshot
}

fn epoch() -> i64 {
    std::env::var("CRE_COCKPIT_PROMETHEUS_SEED_EPOCH")
        .expect("prometheus.sh exports the seed epoch with the URL")
        .parse()
        .unwrap()
}

#[ignore = "needs Prometheus (scripts/test.sh starts it)"]
#[tokio::test]
async fn tenant_signals_equal_what_the_seed_implies() {
    let Some(url) = common::service("CRE_COCKPIT_PROMETHEUS") else {
        return;
    };
    let seed = seed();
    let epoch = epoch();
    let snap = snapshot_at_seed(&url, epoch).await;
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    for tenant in seed.tenants() {
        let m = snap
            .by_tenant
            .get(&tenant)
            .unwrap_or_else(|| panic!("{tenant} missing"));
        let five = seed.counts(&tenant, None, 300);
        near(
            m.error_ratio,
            round_to(five.error_ratio().unwrap(), 0.0001),
            &format!("{tenant} error ratio"),
        );
        near(
            m.request_rate,
            round_to(five.valid / 300.0, 0.01),
            &format!("{tenant} requests/s"),
        );
        near(
            m.active_users,
            seed.users_at(&tenant, 0).unwrap(),
            &format!("{tenant} users"),
        );
        near(
            m.active_users_prev,
            seed.users_at(&tenant, -7 * 86_400).unwrap(),
            &format!("{tenant} users a week ago"),
        );
        assert_eq!(
            m.features_used,
            seed.features.get(&tenant).map(|&n| n as f64),
            "{tenant} features used in 28 d"
        );
        // The histories sit on the clock grid: the 30 UTC midnights and the
        // 168 whole hours before the epoch, oldest first.
        let last_midnight = (epoch - 1).div_euclid(86_400) * 86_400 - epoch;
        let users: Vec<f64> = (0..30)
            .map(|d| {
                seed.users_at(&tenant, last_midnight - (29 - d) * 86_400)
                    .unwrap()
            })
            .collect();
        assert_eq!(
            snap.active_users_history[&tenant], users,
            "{tenant} 30-day users"
        );
        let history = &snap.error_history[&tenant];
        assert_eq!(history.len(), 168, "{tenant}: the week's whole hours");
        let last_hour = (epoch - 1).div_euclid(3600) * 3600 - epoch;
        near(
            history.last().copied(),
            seed.counts_until(&tenant, None, 300, last_hour)
                .error_ratio()
                .unwrap(),
            "last history point (the last whole hour)",
        );
    }
}

#[ignore = "needs Prometheus (scripts/test.sh starts it)"]
#[tokio::test]
async fn burn_rates_budgets_and_levels_equal_what_the_seed_implies() {
    let Some(url) = common::service("CRE_COCKPIT_PROMETHEUS") else {
        return;
    };
    let seed = seed();
    let snap = snapshot_at_seed(&url, epoch()).await;
    let api = snap.slos.iter().find(|r| r.service == "api").unwrap();
    let sso = snap.slos.iter().find(|r| r.service == "sso").unwrap();
    assert_eq!(sso.name, "sso logins");
    let windows = slo::windows(Duration::from_secs(30 * 86_400));
    for (report, target) in [(api, 0.999), (sso, 0.995)] {
        for (tenant, state) in &report.by_tenant {
            for w in &windows {
                let name = slo::promql_duration(*w);
                let c = rounded(seed.counts(tenant, Some(&report.service), w.as_secs() as i64));
                near(
                    state.burn(&name),
                    slo::burn_rate(c.error_ratio().unwrap(), target),
                    &format!("{} {tenant} burn over {name}", report.service),
                );
            }
            let month = rounded(seed.counts(tenant, Some(&report.service), 30 * 86_400));
            near(
                state.budget_remaining,
                slo::budget_remaining(month, target).unwrap(),
                &format!("{} {tenant} budget", report.service),
            );
        }
    }
    // The global api burn sums every tenant.
    let mut all = slo::Counts::default();
    for tenant in seed.tenants() {
        all += rounded(seed.counts(&tenant, Some("api"), 3600));
    }
    near(
        api.global.burn("1h"),
        slo::burn_rate(all.error_ratio().unwrap(), 0.999),
        "global api burn over 1h",
    );

    // What the seed was designed to show (its comments say why).
    let level = |r: &slo::SloReport, t: &str| r.by_tenant[t].level;
    assert_eq!(level(api, "globex"), BurnLevel::Page);
    assert_eq!(level(api, "initech"), BurnLevel::Page);
    assert_eq!(level(api, "acme"), BurnLevel::Ticket);
    assert_eq!(level(api, "soylent"), BurnLevel::Ok);
    assert_eq!(level(api, "umbrella"), BurnLevel::Ticket);
    assert!(
        api.by_tenant["umbrella"].low_traffic,
        "6 bad events in 1 h hold the page back"
    );
    assert_eq!(level(sso, "soylent"), BurnLevel::Page);
    assert_eq!(api.global.level, BurnLevel::Page);
    // The worst budget over both SLOs lands on the tenant's metrics.
    let soylent = &snap.by_tenant["soylent"];
    let worst = [api, sso]
        .iter()
        .filter_map(|r| r.by_tenant["soylent"].budget_remaining)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(soylent.error_budget_remaining, Some(worst));
}

#[ignore = "needs Alertmanager (scripts/test.sh starts it)"]
#[tokio::test]
async fn alerts_become_incidents_and_the_silenced_one_is_marked() {
    let Some(url) = common::service("CRE_COCKPIT_ALERTMANAGER") else {
        return;
    };
    let config = Config::parse(&format!(
        "[incidents]\nkind = \"alertmanager\"\nurl = \"{url}\"\n"
    ))
    .unwrap();
    let mut adapter =
        Alertmanager::new(http::client(), config.incidents.as_ref().unwrap(), None).unwrap();
    let incidents = adapter.poll().await.unwrap();
    let ids: Vec<&str> = incidents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "HighErrorRate/api",
            "LatencyP99High/checkout",
            "DiskAlmostFull/db"
        ],
        "grouped by alertname + service, worst severity first"
    );
    let api = &incidents[0];
    assert_eq!(api.status, IncidentStatus::Firing);
    assert_eq!(api.severity, Severity::Sev1);
    assert_eq!(api.tenants, ["globex", "acme"]);
    assert_eq!(api.details["alerts"], "2");
    let epoch = epoch();
    assert_eq!(
        api.started_at.as_second(),
        epoch - 7200,
        "the older alert's start"
    );
    let silenced = &incidents[1];
    assert_eq!(silenced.status, IncidentStatus::Suppressed);
    assert_eq!(silenced.details["alerts"], "1 (1 silenced)");
    let notes = adapter.notes("LatencyP99High/checkout").await.unwrap();
    assert!(notes[0].text.starts_with("[silenced]"), "{}", notes[0].text);
    assert!(
        notes[0].text.contains("summary: p99 latency above 2 s"),
        "{}",
        notes[0].text
    );
    let db = &incidents[2];
    assert_eq!(db.severity, Severity::Sev4);
    assert!(db.tenants.is_empty());
}

/// The whole path as a user runs it: `snapshot --json` with both servers,
/// an accounts file and a service map.
#[ignore = "needs Prometheus, Alertmanager (scripts/test.sh starts it)"]
#[test]
fn snapshot_links_alerts_burns_and_error_ratios_to_customers() {
    let (Some(prom), Some(am)) = (
        common::service("CRE_COCKPIT_PROMETHEUS"),
        common::service("CRE_COCKPIT_ALERTMANAGER"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("accounts.csv"),
        accounts_csv(&five_customers()),
    )
    .unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[metrics]\nkind = \"prometheus\"\nurl = \"{prom}\"\n\n\
             [incidents]\nkind = \"alertmanager\"\nurl = \"{am}\"\n\n\
             [accounts]\nfile = \"accounts.csv\"\n\n\
             [service_tenants]\ndb = [\"umbrella\"]\n{SLOS_TOML}"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
        .args(["--config", config.to_str().unwrap(), "snapshot", "--json"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let incident = |id: &str| -> &Value {
        json["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("no incident {id} in {}", json["incidents"]))
    };
    let affected = |id: &str| -> Vec<(String, String)> {
        incident(id)["affected_customers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_owned(),
                    a["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };

    let api = affected("HighErrorRate/api");
    let names: Vec<&str> = api.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Umbrella", "Initech", "Globex", "Acme Corp"],
        "by error ratio: {api:?}"
    );
    assert!(api[0].1.contains("error ratio 10.0%"), "{api:?}");
    assert!(
        api[1]
            .1
            .contains("burning SLO api 30.0× over 1h at page level"),
        "{api:?}"
    );
    assert!(
        api[2].1.contains("named by the incident (tenant globex)"),
        "{api:?}"
    );
    assert!(
        api[3].1.contains("named by the incident (tenant acme)"),
        "{api:?}"
    );

    let db = affected("DiskAlmostFull/db");
    assert_eq!(db.len(), 1);
    assert!(
        db[0].1.contains("service db serves tenant umbrella"),
        "{db:?}"
    );

    assert_eq!(incident("LatencyP99High/checkout")["status"], "suppressed");

    // soylent's sso burn has no incident: the cockpit shows one.
    let sso = incident("slo:sso logins");
    assert_eq!(sso["status"], "detected");
    let sso = affected("slo:sso logins");
    assert_eq!(sso.len(), 1);
    assert!(
        sso[0].0 == "Soylent" && sso[0].1.contains("burning SLO sso logins"),
        "{sso:?}"
    );

    // Each affected customer's error ratio is what PromQL says for the
    // same data (the default query, asked directly).
    let promql = cre_cockpit::config::QueryConfig::default().error_ratio;
    let body = promql_now(&prom, &promql);
    for row in body["data"]["result"].as_array().unwrap() {
        let tenant = row["metric"]["tenant"].as_str().unwrap();
        let want: f64 = row["value"][1].as_str().unwrap().parse().unwrap();
        let customer = json["customers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["tenant"] == tenant)
            .unwrap();
        let got = customer["metrics"]["error_ratio"].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "{tenant}: cockpit {got}, PromQL {want}"
        );
        assert!(
            customer["slo"].as_array().is_some_and(|s| !s.is_empty()),
            "{customer}"
        );
    }
}

/// Ask Prometheus directly (the test above runs outside a runtime).
fn promql_now(base: &str, query: &str) -> Value {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut url = reqwest::Url::parse(&format!("{base}/api/v1/query")).unwrap();
        url.query_pairs_mut().append_pair("query", query);
        reqwest::get(url).await.unwrap().json().await.unwrap()
    })
}

/// A config as a new user writes it first: RT's customer named by a custom
/// field that does not exist, and an error-ratio query whose metric has no
/// series. Every source answers, so only the join coverage can tell: `check`
/// names the setting and the query and fails; with both fixed, every
/// inquiry joins and `check` names neither.
#[test]
#[ignore = "needs RT, Prometheus, Alertmanager (scripts/test.sh starts it)"]
fn check_names_a_wrong_customer_field_and_a_query_without_series() {
    let (Some(rt), Some(token), Some(prom), Some(am)) = (
        common::service("CRE_COCKPIT_RT_URL"),
        common::service("CRE_COCKPIT_RT_TOKEN"),
        common::service("CRE_COCKPIT_PROMETHEUS"),
        common::service("CRE_COCKPIT_ALERTMANAGER"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("accounts.csv"),
        accounts_csv(&five_customers()),
    )
    .unwrap();
    let no_series = "sum by (tenant) (rate(app_errors_nope_total[1h]))";
    // The seed has no latency histogram: that query is switched off, so
    // the only thing wrong is what each run sets up.
    let run = |customer_field: &str, error_ratio: Option<&str>| {
        let queries = format!(
            "\n[metrics.queries]\nlatency_p99 = ''\n{}",
            error_ratio
                .map(|q| format!("error_ratio = '{q}'\n"))
                .unwrap_or_default()
        );
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[desk]\nkind = \"rt\"\nurl = \"{rt}\"\ntoken_env = \"RT_TOKEN\"\n\
                 queue = \"Customer Support\"\ncustomer_field = \"{customer_field}\"\n\n\
                 [incidents]\nkind = \"alertmanager\"\nurl = \"{am}\"\n\n\
                 [accounts]\nfile = \"accounts.csv\"\n\n\
                 [service_tenants]\ndb = [\"umbrella\"]\n\n\
                 [metrics]\nkind = \"prometheus\"\nurl = \"{prom}\"\n{queries}"
            ),
        )
        .unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cre-cockpit"))
            .args(["--config", config.to_str().unwrap(), "check"])
            .env("HOME", dir.path())
            .env("RT_TOKEN", &token)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    let (code, stdout) = run("Customr", Some(no_series));
    assert_eq!(code, Some(1), "{stdout}");
    let desk = stdout
        .lines()
        .find(|l| l.starts_with("✓ desk (rt)"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(desk.contains(": ok; 0/"), "{stdout}");
    assert!(
        stdout.contains("(the RT custom field \"Customr\" is empty); check [desk] customer_field"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "query error_ratio ([metrics.queries] {no_series}) returned 0 series"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("log     {}", dir.path().display())),
        "{stdout}"
    );
    assert!(!stdout.contains("DEMO"), "{stdout}");

    let (code, stdout) = run("Customer", None);
    assert_eq!(code, Some(0), "{stdout}");
    let desk = stdout
        .lines()
        .find(|l| l.starts_with("✓ desk (rt)"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let (matched, total) = desk
        .split_once(": ok; ")
        .and_then(|(_, s)| s.split_once(' '))
        .and_then(|(n, _)| n.split_once('/'))
        .unwrap_or_else(|| panic!("{desk}"));
    assert_eq!(matched, total, "every inquiry joins: {stdout}");
    assert!(total.parse::<usize>().unwrap() > 0, "{stdout}");
    assert!(!stdout.contains("customer_field"), "{stdout}");
    assert!(!stdout.contains("error_ratio"), "{stdout}");
}
