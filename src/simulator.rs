//! The built-in simulator: one loopback HTTP server speaking faithful subsets
//! of the Zendesk Support, Prometheus and PagerDuty REST APIs (plus the
//! PagerDuty Events v2 enqueue endpoint), driven by a seeded scenario.
//!
//! The cockpit polls it through its real adapters, so the demo exercises the
//! same code paths as production. Everything is a deterministic function of
//! the seed and of *scenario time* (real elapsed time × `--speed`, counted
//! from a wall-clock anchor that defaults to the start): customers, the
//! starting queue, metric curves, and the script (a new inquiry every couple
//! of minutes, and at `--incident-after` an API incident that hurts a few
//! tenants, brings a wave of inquiries, and resolves itself ~30 minutes later).
//! The script is played lazily: each request first advances the world to the
//! current scenario time, so no background task is needed and two runs with
//! the same seed and anchor answer identically until a client writes.
//!
//! Paths do not collide, so all three APIs share one address:
//! Zendesk under `/api/v2/…`, Prometheus under `/api/v1/…`, PagerDuty at
//! `/incidents…` and Events v2 at `/v2/enqueue`.

mod desk;
mod pagerduty;
pub(crate) mod prometheus;
mod scenario;
mod text;
mod zendesk;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::desk::Desk;
use self::pagerduty::Pager;
use self::scenario::Scenario;

/// How to run the simulator (also the flags of `cre-cockpit simulate`).
#[derive(Debug, Clone, clap::Args)]
pub struct SimOptions {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: SocketAddr,
    /// Scenario seed: the same seed gives the same customers, queue and script.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Number of customers (accounts, desk organisations and tenants).
    #[arg(long, default_value_t = 36)]
    pub customers: usize,
    /// Open tickets at the start (some solved/closed history comes on top).
    #[arg(long, default_value_t = 120)]
    pub tickets: usize,
    /// Scenario time factor: 60 plays a scenario hour per real minute.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Scenario time at which the API incident begins (e.g. "60s", "5m").
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub incident_after: Duration,
    /// Pin scenario time zero to this Unix time (seconds) instead of now, to
    /// get byte-identical answers from two runs.
    #[arg(long)]
    pub anchor: Option<i64>,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: 42,
            customers: 36,
            tickets: 120,
            speed: 1.0,
            incident_after: Duration::from_secs(60),
            anchor: None,
        }
    }
}

/// `"90"` (seconds) or a friendly duration such as `"90s"`, `"2m"`, `"1h 30m"`.
pub(crate) fn parse_duration(raw: &str) -> Result<Duration, String> {
    if let Ok(secs) = raw.trim().parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|e| format!("invalid duration {raw:?}: {e}"));
    }
    let span: jiff::SignedDuration = raw
        .parse()
        .map_err(|e| format!("invalid duration {raw:?}: {e}"))?;
    Duration::try_from(span).map_err(|_| format!("duration {raw:?} must not be negative"))
}

/// A running simulator. Dropping it stops the server too.
pub struct Simulator {
    addr: SocketAddr,
    base_url: String,
    accounts_csv: String,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Simulator {
    /// Build the scenario, bind, and serve in a background task.
    pub async fn start(options: SimOptions) -> std::io::Result<Simulator> {
        let invalid =
            |msg: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg.to_owned());
        if !(options.speed.is_finite() && options.speed > 0.0) {
            return Err(invalid("--speed must be a positive number"));
        }
        if options.customers == 0 {
            return Err(invalid("--customers must be at least 1"));
        }
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let mut started = Instant::now();
        let anchor = options.anchor.unwrap_or_else(|| {
            // Scenario time zero is the anchor's whole second, so the clock
            // starts there too: counted from `Instant::now()` it would lag
            // the wall clock by the second's fraction, and at --speed 600 a
            // client asking for "now" would be up to ten scenario minutes
            // in the future (and get empty answers).
            let now = jiff::Timestamp::now();
            let fraction =
                Duration::from_nanos(u64::try_from(now.subsec_nanosecond()).unwrap_or(0));
            started = started.checked_sub(fraction).unwrap_or(started);
            now.as_second()
        });
        let incident_after = options.incident_after.as_secs_f64();
        let (seed, customers, tickets) = (options.seed, options.customers, options.tickets);
        let url = base_url.clone();
        // 100k tickets take a moment to generate; keep that off the async workers.
        let (shared, accounts_csv) = tokio::task::spawn_blocking(move || {
            let scenario = Scenario::new(seed, customers, anchor, incident_after);
            let accounts = scenario.accounts_csv().map_err(std::io::Error::other)?;
            let world = World {
                desk: Desk::new(&scenario, tickets),
                pager: Pager::new(&scenario),
            };
            let clock = Clock {
                started,
                speed: options.speed,
            };
            let accounts_gzip = gzip(accounts.as_bytes())?;
            let shared = Shared {
                clock,
                scenario,
                accounts_csv: accounts.clone(),
                accounts_gzip,
                base_url: url,
                world: Mutex::new(world),
                zendesk_budget: Mutex::new((0, 0)),
            };
            Ok::<_, std::io::Error>((Arc::new(shared), accounts))
        })
        .await
        .map_err(std::io::Error::other)??;
        let app = router(shared);
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await });
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "simulator server stopped with an error");
            }
        });
        tracing::info!(%addr, seed, customers, tickets, speed = options.speed, "simulator listening");
        Ok(Simulator {
            addr,
            base_url,
            accounts_csv,
            cancel,
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base URL for all three sources.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The scenario's customers as an accounts CSV file.
    pub fn accounts_csv(&self) -> String {
        self.accounts_csv.clone()
    }

    /// Stop accepting, let in-flight requests finish (bounded), and wait.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Real time → scenario time.
struct Clock {
    started: Instant,
    speed: f64,
}

/// The mutable part of the scenario: what clients can change.
pub(crate) struct World {
    pub desk: Desk,
    pub pager: Pager,
}

/// State shared by all handlers.
pub(crate) struct Shared {
    clock: Clock,
    pub scenario: Scenario,
    /// The customers as a CRM export, served at `/accounts.csv` so a
    /// cockpit in another process (`demo --simulator URL`) can join them.
    accounts_csv: String,
    /// The same, gzipped once at start: it never changes, and compressing
    /// 10k rows on every request cost a cockpit starting with `demo
    /// --simulator` about 100 ms before its first frame.
    accounts_gzip: Vec<u8>,
    pub base_url: String,
    world: Mutex<World>,
    /// (minute, requests in it) for Zendesk's rate-limit headers.
    zendesk_budget: Mutex<(u64, u32)>,
}

impl Shared {
    /// Seconds of scenario time since the anchor.
    pub(crate) fn now(&self) -> f64 {
        self.clock.started.elapsed().as_secs_f64() * self.clock.speed
    }

    /// Unix seconds of the scenario's "now".
    pub(crate) fn now_unix(&self) -> f64 {
        self.scenario.anchor as f64 + self.now()
    }

    /// A wall-clock Unix time (as a client's query names it) in scenario
    /// time. At `--speed` above 1 the scenario runs ahead of the wall
    /// clock; metrics clients ask for wall-clock times, so their "now"
    /// must mean the scenario's now, or the incident would never show in
    /// the metrics of a sped-up run. Times before the anchor are history
    /// and map to themselves.
    pub(crate) fn scenario_time(&self, wall: f64) -> f64 {
        let anchor = self.scenario.anchor as f64;
        if wall <= anchor {
            wall
        } else {
            anchor + (wall - anchor) * self.clock.speed
        }
    }

    /// Lock the world, played forward to now; also returns now as Unix seconds.
    ///
    /// Time is read under the lock so that changes are stamped in the order
    /// they are applied and the desk's change log stays sorted.
    pub(crate) fn world(&self) -> (MutexGuard<'_, World>, i64) {
        let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
        let t = self.now();
        world.desk.advance(&self.scenario, t);
        world.pager.advance(&self.scenario, t);
        (world, self.scenario.anchor + t.floor() as i64)
    }

    /// Count a Zendesk request; returns the remaining budget for the minute.
    fn zendesk_remaining(&self) -> u32 {
        let minute = self.clock.started.elapsed().as_secs() / 60;
        let mut budget = self
            .zendesk_budget
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if budget.0 != minute {
            *budget = (minute, 0);
        }
        budget.1 = budget.1.saturating_add(1);
        zendesk::RATE_LIMIT.saturating_sub(budget.1)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(zendesk::routes(shared.clone()))
        .merge(prometheus::routes())
        .merge(pagerduty::routes())
        .route("/", axum::routing::get(index))
        .route("/accounts.csv", axum::routing::get(accounts))
        .fallback(not_found)
        .with_state(shared)
        // Like the real services, answer gzip when the client asks for it:
        // a 10k-tenant Prometheus vector shrinks 6–9×.
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
}

async fn index(axum::extract::State(shared): axum::extract::State<Arc<Shared>>) -> Html<String> {
    let sc = &shared.scenario;
    let mut body = format!(
        "<h1>cre-cockpit simulator</h1><p>seed {}, {} customers, incident on service <b>api</b> at +{:.0}s affecting: ",
        sc.seed,
        sc.customers.len(),
        sc.plan.start
    );
    let names: Vec<String> = sc
        .plan
        .affected
        .iter()
        .map(|&i| html_escape(&sc.customers[i].tenant))
        .collect();
    body.push_str(&names.join(", "));
    let tickets = shared.world().0.desk.len();
    body.push_str(&format!("; {tickets} tickets on the desk"));
    body.push_str("</p><ul><li>Zendesk: /api/v2/…</li><li>Prometheus: /api/v1/query</li><li>PagerDuty: /incidents</li></ul>");
    page("simulator", &body)
}

async fn accounts(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    headers: axum::http::HeaderMap,
) -> Response {
    use axum::http::header;
    const CSV: (header::HeaderName, &str) = (header::CONTENT_TYPE, "text/csv; charset=utf-8");
    let gzip_accepted = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    if gzip_accepted {
        // Already encoded: the compression layer passes it through.
        (
            [
                CSV,
                (header::CONTENT_ENCODING, "gzip"),
                (header::VARY, "accept-encoding"),
            ],
            shared.accounts_gzip.clone(),
        )
            .into_response()
    } else {
        ([CSV], shared.accounts_csv.clone()).into_response()
    }
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    if path.starts_with("/api/v2/") {
        zendesk::not_found()
    } else if path.starts_with("/api/v1/") {
        (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
    } else if path.starts_with("/incidents") {
        pagerduty::not_found()
    } else {
        (StatusCode::NOT_FOUND, "not found\n").into_response()
    }
}

/// RFC 3339 in UTC with a `Z` and no fraction, as Zendesk and PagerDuty send.
pub(crate) fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

/// Name/value pairs of a query string or form body, in order, repeats kept.
pub(crate) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// A minimal HTML page, for the links the cockpit opens in a browser.
pub(crate) fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{} · simulator</title>\
         <style>body{{font-family:sans-serif;max-width:52rem;margin:2rem auto;line-height:1.4}}\
         .private{{background:#fff6d5}}pre{{white-space:pre-wrap;font-family:inherit}}</style></head><body>{body}</body></html>",
        html_escape(title)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_both_forms() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn timestamps_have_no_fraction() {
        assert_eq!(rfc3339(1_800_000_000), "2027-01-15T08:00:00Z");
    }
}
