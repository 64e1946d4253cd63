//! Prometheus HTTP API (and the compatible services: VictoriaMetrics, Thanos,
//! Mimir, Grafana Cloud): per-tenant signals from configured PromQL, and
//! the counts behind each configured SLO (judged in `insight::slo`).
//!
//! There is no change feed, so every poll re-asks the instant questions. To
//! keep a quiet poll to a few requests they are asked together: the signals
//! evaluated now in one query, the SLO windows that are due in another (each
//! part tagged with `label_replace(…, "cc_signal", "<part>", "", "")` and
//! joined with `or`, split by that label on decode), the week-ago usage on
//! its own (it is evaluated at another instant). When the server refuses a
//! combined query (one part does not parse, say), the parts are asked one by
//! one, so one bad query stays one signal's warning. The two histories
//! (a week of hourly error ratios, a month of daily active users) sit on a
//! fixed clock grid and are kept between polls: a poll asks only for the
//! grid points that fell due since the last one. The six core
//! signals fail the poll when they fail; the rest (feature usage, the
//! active-users history, SLO counts) degrade to a warning on the chip, so a
//! typo in one `[[slo]]` does not blank the whole metrics picture.

mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};

pub use self::wire::{Answer, SIGNAL_LABEL, Series};
use self::wire::{EnvelopeDto, Shape};
use super::MetricsSource;
use super::config::{MetricsConfig, QueryConfig, SloConfig, WINDOW_PLACEHOLDER};
use super::http::{self, Secret};
use crate::core::domain::{MetricsSnapshot, QueryAnswer, SourceError, TenantMetrics};
use crate::core::slo::{self, Counts, SloCounts, WindowCounts};
use crate::core::source::Vendor;

/// The error-ratio history: hourly, for a week (168 points, far below
/// Prometheus's 11,000-points-per-series guard).
const ERROR_HISTORY: Grid = Grid {
    signal: "error_history",
    step: 3600,
    points: 7 * 24,
};
/// The active-users history: daily (UTC midnights), for 30 days.
const USERS_HISTORY: Grid = Grid {
    signal: "active_users_history",
    step: 86_400,
    points: 30,
};
/// How far back the week-on-week usage comparison looks.
const WEEK: SignedDuration = SignedDuration::from_hours(7 * 24);
/// The counts of an SLO window are asked for again once they are this
/// fraction of the window old: a 5 m or 1 h window on every poll, a 30 d
/// window every 2 h. Its burn rate cannot move by more than this share in
/// between, and a poll asks far fewer questions (10k-series answers each).
const SLO_WINDOW_REFRESH_DIVISOR: u32 = 360;
/// A kept history is fetched whole again this often, so tenants that
/// appeared, vanished or had gaps are reconciled.
const FULL_REFRESH_SECONDS: i64 = 6 * 3600;
/// SLO count queries in flight at once: enough to finish a poll in a few
/// round trips, few enough not to trip a hosted service's rate limit.
const SLO_CONCURRENCY: usize = 6;

pub struct Prometheus {
    client: reqwest::Client,
    base: Url,
    token: Option<Secret>,
    queries: QueryConfig,
    tenant_label: String,
    /// Per-request deadline from the config (else the client's 30 s).
    timeout: Option<Duration>,
    slos: Vec<SloConfig>,
    error_history: History,
    users_history: History,
    /// The latest counts of each (SLO, window), with when they were asked.
    slo_windows: BTreeMap<(usize, Duration), (Timestamp, Arc<WindowCounts>)>,
}

/// A history's clock grid: a point every `step` seconds since the Unix
/// epoch, the newest `points` of them before now.
#[derive(Debug, Clone, Copy)]
struct Grid {
    signal: &'static str,
    step: i64,
    points: usize,
}

impl Grid {
    /// The newest grid point strictly before `at`: the last whole step.
    fn last_before(self, at: Timestamp) -> i64 {
        (at.as_millisecond() - 1).div_euclid(self.step * 1000) * self.step
    }

    fn span(self) -> i64 {
        self.step * (self.points as i64 - 1)
    }
}

/// A history kept between polls.
#[derive(Debug)]
struct History {
    grid: Grid,
    /// The newest grid point held (`None` before the first fetch).
    through: Option<i64>,
    /// When (Unix seconds) the whole window was last fetched.
    full_at: i64,
    /// Shared with the snapshots handed out: a quiet poll copies nothing.
    series: Arc<BTreeMap<String, Vec<f64>>>,
}

/// What a poll must fetch of a history: nothing, the points after the
/// newest held, or the whole window; as (start, end) grid points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fetch {
    Nothing,
    Since(i64, i64),
    Whole(i64, i64),
}

impl History {
    fn new(grid: Grid) -> Self {
        Self {
            grid,
            through: None,
            full_at: 0,
            series: Arc::default(),
        }
    }

    fn plan(&self, at: Timestamp) -> Fetch {
        let last = self.grid.last_before(at);
        match self.through {
            Some(held) if held == last => Fetch::Nothing,
            Some(held)
                if held < last
                    && last - held <= self.grid.span()
                    && at.as_second() - self.full_at < FULL_REFRESH_SECONDS =>
            {
                Fetch::Since(held + self.grid.step, last)
            }
            _ => Fetch::Whole(last - self.grid.span(), last),
        }
    }

    /// Fold in what `plan` fetched (already indexed by tenant).
    fn apply(&mut self, fetch: Fetch, at: Timestamp, fetched: BTreeMap<String, Vec<f64>>) {
        match fetch {
            Fetch::Nothing => {}
            Fetch::Whole(_, end) => {
                self.series = Arc::new(fetched);
                self.through = Some(end);
                self.full_at = at.as_second();
            }
            Fetch::Since(_, end) => {
                // Rebuilt at exact lengths rather than made unique and
                // grown in place: the model still holds the last snapshot's
                // map (so that was a copy), and growing each copy doubled
                // every tenant's capacity for good (27 MB at 10k tenants).
                let mut fetched = fetched;
                let points = self.grid.points;
                let mut series: BTreeMap<String, Vec<f64>> = self
                    .series
                    .iter()
                    .map(|(tenant, held)| {
                        let fresh = fetched.remove(tenant).unwrap_or_default();
                        (tenant.clone(), window(held, &fresh, points))
                    })
                    .collect();
                for (tenant, fresh) in fetched {
                    let joined = window(&[], &fresh, points);
                    series.insert(tenant, joined);
                }
                self.series = Arc::new(series);
                self.through = Some(end);
            }
        }
    }
}

/// The newest `points` of `held` followed by `fresh`, at exact capacity.
fn window(held: &[f64], fresh: &[f64], points: usize) -> Vec<f64> {
    let fresh = &fresh[fresh.len().saturating_sub(points)..];
    let held = &held[held.len().saturating_sub(points - fresh.len())..];
    let mut joined = Vec::with_capacity(held.len() + fresh.len());
    joined.extend_from_slice(held);
    joined.extend_from_slice(fresh);
    joined
}

/// What a combined query rounds each signal to on the server, a tenth of
/// what is shown (error ratios shown to 0.1 %, requests/s to one decimal)
/// or finer (latency to 0.1 ms, SLO counts to a hundredth of an event, so
/// that a 5 m burn rate of a tenant with a handful of events moves by less
/// than what is shown): the
/// digits beyond are noise that gzip cannot shrink, and were most of a
/// 10k-tenant answer's bytes. Users and features are whole numbers already.
/// Steps whose inverse is exact (1e4, 100, 10) print as short decimals.
fn rounding(signal: &str) -> Option<&'static str> {
    match signal {
        "error_ratio" => Some("0.0001"),
        "request_rate" => Some("0.01"),
        "latency_p99" => Some("0.0001"),
        _ if signal.starts_with("slo") => Some("0.01"),
        _ => None,
    }
}

/// The instant signals evaluated now, asked together in one query.
const NOW_SIGNALS: [&str; 5] = [
    "error_ratio",
    "request_rate",
    "active_users",
    "latency_p99",
    "feature_usage",
];

/// One instant query's answer, which field of [`TenantMetrics`] it fills.
type Setter = fn(&mut TenantMetrics, f64);

/// One SLO's answers: per window, the good and the valid counts.
type SloAnswers = Result<Vec<(Duration, Answer, Answer)>, SourceError>;

impl Prometheus {
    /// An adapter for the server at `config.url`; `token`, when given, is
    /// sent as a bearer token (hosted Prometheus-compatible services).
    pub fn new(
        client: reqwest::Client,
        config: &MetricsConfig,
        token: Option<Secret>,
    ) -> Result<Self, SourceError> {
        let base = http::base_url(&config.url, config.allow_insecure_http)
            .map_err(|e| SourceError::new(format!("metrics: {e}")))?;
        if let Some(token) = &token
            && HeaderValue::from_str(&format!("Bearer {}", token.expose())).is_err()
        {
            return Err(SourceError::new(
                "metrics: the token contains characters not allowed in an HTTP header",
            ));
        }
        let tenant_label = config.tenant_label.trim().to_owned();
        if tenant_label.is_empty() {
            return Err(SourceError::new("metrics: tenant_label must not be empty"));
        }
        Ok(Self {
            client,
            base,
            token,
            queries: config.queries.clone(),
            tenant_label,
            timeout: config.timeout,
            slos: Vec::new(),
            error_history: History::new(ERROR_HISTORY),
            users_history: History::new(USERS_HISTORY),
            slo_windows: BTreeMap::new(),
        })
    }

    /// Also evaluate these SLOs on every poll.
    #[must_use]
    pub fn with_slos(mut self, slos: &[SloConfig]) -> Self {
        self.slos = slos.to_vec();
        self
    }

    /// Run one query. An empty PromQL string in the config switches that
    /// signal off: it answers with no series and costs no request.
    async fn query(
        &self,
        signal: &str,
        path: &str,
        promql: &str,
        params: &[(&str, &str)],
        shape: Shape,
    ) -> Result<Answer, SourceError> {
        self.query_with(signal, path, promql, params, shape, false)
            .await
    }

    /// [`Self::query`], as a form POST when `post`.
    async fn query_with(
        &self,
        signal: &str,
        path: &str,
        promql: &str,
        params: &[(&str, &str)],
        shape: Shape,
        post: bool,
    ) -> Result<Answer, SourceError> {
        if promql.trim().is_empty() {
            return Ok(Answer::default());
        }
        let what = format!("metrics: {signal} query");
        let mut url = http::join(&self.base, path);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("query", promql);
            for (key, value) in params {
                query.append_pair(key, value);
            }
        }
        // A combined query is long (every configured query, several times
        // for the SLOs): it goes as a form body, which Prometheus and the
        // compatible services accept on both endpoints, instead of a URL
        // that proxies may cut at 8 KiB. Single queries stay GETs.
        let mut request = if post {
            let body = url.query().unwrap_or_default().to_owned();
            url.set_query(None);
            self.client
                .post(url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body)
        } else {
            self.client.get(url)
        }
        .header(ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose());
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let envelope: EnvelopeDto = http::fetch_json_explained(&what, request, wire::explain)
            .await?
            .body;
        // An error envelope is the server answering, as an HTTP error
        // status would be (a combined query then asks its parts alone).
        wire::decode(&what, envelope, shape, &self.tenant_label).map_err(|mut e| {
            e.status.get_or_insert(200);
            e
        })
    }

    async fn instant(&self, signal: &str, promql: &str, at: &str) -> Result<Answer, SourceError> {
        self.query(
            signal,
            "/api/v1/query",
            promql,
            &[("time", at)],
            Shape::Vector,
        )
        .await
    }

    /// The grid points `fetch` names of one history (no request for
    /// [`Fetch::Nothing`], or when the signal is switched off).
    async fn range(&self, grid: Grid, promql: &str, fetch: Fetch) -> Result<Answer, SourceError> {
        let (Fetch::Since(start, end) | Fetch::Whole(start, end)) = fetch else {
            return Ok(Answer::default());
        };
        let (start, end, step) = (start.to_string(), end.to_string(), grid.step.to_string());
        let params = [
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("step", step.as_str()),
        ];
        self.query(
            grid.signal,
            "/api/v1/query_range",
            promql,
            &params,
            Shape::Matrix,
        )
        .await
    }

    /// Poll as of `at` rather than now: the same queries, evaluated at a
    /// fixed instant (tests against seeded data; reproducing a past view).
    /// The histories are fetched only as far as they are not already held.
    pub async fn snapshot_at(&mut self, at: Timestamp) -> Result<MetricsSnapshot, SourceError> {
        let clock = |e: jiff::Error| SourceError::new(format!("metrics: clock out of range ({e})"));
        let week_ago = at.checked_sub(WEEK).map_err(clock)?;
        let (now_s, week_ago_s) = (unix(at), unix(week_ago));
        let (errors_due, users_due) = (self.error_history.plan(at), self.users_history.plan(at));
        let q = &self.queries;
        let (now_answers, prev_and_history, users_history, slo_counts) = futures::join!(
            self.now_instants(&now_s),
            async {
                futures::try_join!(
                    self.instant("active_users_prev", &q.active_users, &week_ago_s),
                    self.range(ERROR_HISTORY, &q.error_ratio, errors_due),
                )
            },
            self.range(USERS_HISTORY, &q.active_users, users_due),
            self.slo_counts(&now_s, at),
        );
        let [
            error_ratio,
            request_rate,
            active_users,
            latency_p99,
            feature_usage,
        ] = now_answers;
        // The core signals fail the poll; feature usage degrades below.
        let (error_ratio, request_rate, active_users, latency_p99) =
            (error_ratio?, request_rate?, active_users?, latency_p99?);
        let (active_users_prev, history) = prev_and_history?;

        let mut snapshot = MetricsSnapshot::default();
        let feature_usage = degrade(feature_usage, &mut snapshot.warnings);
        let instants: [(&str, Answer, Setter); 6] = [
            ("error_ratio", error_ratio, |m, v| m.error_ratio = Some(v)),
            ("request_rate", request_rate, |m, v| {
                m.request_rate = Some(v)
            }),
            ("active_users", active_users, |m, v| {
                m.active_users = Some(v)
            }),
            ("active_users_prev", active_users_prev, |m, v| {
                m.active_users_prev = Some(v);
            }),
            ("latency_p99", latency_p99, |m, v| m.latency_p99 = Some(v)),
            ("feature_usage", feature_usage, |m, v| {
                m.features_used = Some(v)
            }),
        ];
        // The queries as configured, for the coverage report (the week-ago
        // reading reuses active_users; switched-off signals are left out).
        let configured = |signal: &str| -> Option<String> {
            let promql = self.promql(signal)?;
            (!promql.trim().is_empty()).then(|| promql.trim().to_owned())
        };
        for (signal, answer, set) in instants {
            let tenants = self.by_tenant(signal, answer, &mut snapshot.warnings);
            if let Some(query) = configured(signal) {
                snapshot.queries.push(QueryAnswer {
                    signal: signal.to_owned(),
                    query,
                    tenants: tenants.keys().cloned().collect(),
                });
            }
            for (tenant, samples) in tenants {
                let Some(&value) = samples.last() else {
                    continue;
                };
                if value.is_finite() {
                    set(snapshot.by_tenant.entry(tenant).or_default(), value);
                } else {
                    snapshot.warnings.push(format!(
                        "{signal}: tenant {tenant}: value {} not stored",
                        non_finite(value)
                    ));
                }
            }
        }
        let history = self.series(ERROR_HISTORY.signal, history, &mut snapshot.warnings);
        self.error_history.apply(errors_due, at, history);
        snapshot.error_history = Arc::clone(&self.error_history.series);
        // A failed users history is kept as it was and asked for again.
        if let Ok(users_history) = users_history {
            let users_history =
                self.series(USERS_HISTORY.signal, users_history, &mut snapshot.warnings);
            self.users_history.apply(users_due, at, users_history);
        } else {
            degrade(users_history, &mut snapshot.warnings);
        }
        snapshot.active_users_history = Arc::clone(&self.users_history.series);

        let mut fresh = Vec::new();
        for (i, (config, counts)) in self.slos.iter().zip(slo_counts).enumerate() {
            let counts = match counts {
                Ok(counts) => counts,
                Err(e) => {
                    snapshot.warnings.push(format!(
                        "slo {}: not evaluated: {}",
                        config.display_name(),
                        e.message
                    ));
                    continue;
                }
            };
            let mut warnings = Vec::new();
            let asked = self.window_counts(config, counts, &mut warnings);
            let mut windows: BTreeMap<Duration, Arc<WindowCounts>> = self
                .slo_windows
                .range((i, Duration::ZERO)..=(i, Duration::MAX))
                .map(|(&(_, window), (_, counts))| (window, Arc::clone(counts)))
                .collect();
            for (window, counts) in asked {
                let counts = Arc::new(counts);
                windows.insert(window, Arc::clone(&counts));
                fresh.push(((i, window), counts));
            }
            snapshot.warnings.extend(warnings);
            snapshot.slo_counts.push(SloCounts {
                name: config.display_name().to_owned(),
                service: config.service.clone(),
                target: config.target,
                window: config.window,
                min_bad_events: config.min_bad_events,
                windows,
            });
        }
        for (key, counts) in fresh {
            self.slo_windows.insert(key, (at, counts));
        }
        Ok(snapshot)
    }

    /// The configured PromQL of an instant signal evaluated now.
    fn promql(&self, signal: &str) -> Option<&str> {
        let q = &self.queries;
        Some(match signal {
            "error_ratio" => &q.error_ratio,
            "request_rate" => &q.request_rate,
            "active_users" => &q.active_users,
            "latency_p99" => &q.latency_p99,
            "feature_usage" => &q.feature_usage,
            _ => return None,
        })
    }

    /// The answers of [`NOW_SIGNALS`], in that order: one combined request,
    /// or one per signal when the server refused the combination.
    async fn now_instants(&self, at: &str) -> [Result<Answer, SourceError>; 5] {
        let parts: Vec<(String, String)> = NOW_SIGNALS
            .iter()
            .filter_map(|&signal| {
                let promql = self.promql(signal)?.trim();
                (!promql.is_empty()).then(|| (signal.to_owned(), promql.to_owned()))
            })
            .collect();
        if parts.len() > 1 {
            match self.combined("signals", at, &parts).await {
                Ok(mut split) => {
                    return NOW_SIGNALS.map(|signal| Ok(split.remove(signal).unwrap_or_default()));
                }
                Err(Refusal::Final(e)) => return NOW_SIGNALS.map(|_| Err(e.clone())),
                Err(Refusal::PartByPart(e)) => {
                    tracing::debug!(
                        "prometheus: combined instant query refused, asking one by one: {e}"
                    );
                }
            }
        }
        let asked = futures::future::join_all(
            NOW_SIGNALS
                .map(|signal| self.instant(signal, self.promql(signal).unwrap_or_default(), at)),
        )
        .await;
        let mut asked = asked.into_iter();
        NOW_SIGNALS.map(|_| asked.next().unwrap_or_else(|| Ok(Answer::default())))
    }

    /// Ask `parts` (tag, PromQL; none empty) as one instant query at `at`,
    /// each tagged with [`SIGNAL_LABEL`], and split the answer by tag. A
    /// part with no series is absent. The server's warnings go with the
    /// first part (they cannot be told apart).
    async fn combined(
        &self,
        what: &str,
        at: &str,
        parts: &[(String, String)],
    ) -> Result<BTreeMap<String, Answer>, Refusal> {
        let promql = combine(parts);
        let answer = self
            .query_with(
                what,
                "/api/v1/query",
                &promql,
                &[("time", at)],
                Shape::Vector,
                true,
            )
            .await
            .map_err(|e| match e.status {
                // The token, a rate limit or an unreachable server refuse
                // every part alike: asking them one by one only costs more.
                Some(401 | 403 | 429) | None => Refusal::Final(e),
                Some(_) => Refusal::PartByPart(e),
            })?;
        let mut split: BTreeMap<String, Answer> = BTreeMap::new();
        if let Some((first, _)) = parts.first()
            && !answer.warnings.is_empty()
        {
            split.entry(first.clone()).or_default().warnings = answer
                .warnings
                .into_iter()
                .map(|w| format!("(combined query) {w}"))
                .collect();
        }
        for mut series in answer.series {
            // Only the parts asked for: a series without a known tag would
            // come from a query that set the label itself.
            let Some(tag) = series
                .signal
                .take()
                .filter(|tag| parts.iter().any(|(t, _)| t == tag))
            else {
                continue;
            };
            split.entry(tag).or_default().series.push(series);
        }
        Ok(split)
    }

    /// Per-tenant series of a range answer, non-finite samples dropped.
    fn series(
        &self,
        signal: &str,
        answer: Answer,
        warnings: &mut Vec<String>,
    ) -> BTreeMap<String, Vec<f64>> {
        let mut out = BTreeMap::new();
        for (tenant, samples) in self.by_tenant(signal, answer, warnings) {
            let total = samples.len();
            let finite: Vec<f64> = samples.into_iter().filter(|v| v.is_finite()).collect();
            if finite.len() < total {
                warnings.push(format!(
                    "{signal}: tenant {tenant}: {} NaN/Inf samples not stored",
                    total - finite.len()
                ));
            }
            out.insert(tenant, finite);
        }
        out
    }

    /// The answers of every SLO, one `Result` per SLO (a failed SLO is a
    /// warning, not a failed poll). Each has its windows in the order of
    /// [`slo::windows`].
    /// Only the windows that are due ([`SLO_WINDOW_REFRESH_DIVISOR`]) are
    /// asked for; the rest are kept from earlier polls.
    async fn slo_counts(&self, at: &str, now: Timestamp) -> Vec<SloAnswers> {
        let due = |i: usize, window: Duration| {
            self.slo_windows.get(&(i, window)).is_none_or(|(asked, _)| {
                let age = now.duration_since(*asked);
                age.is_negative() || age.unsigned_abs() >= window / SLO_WINDOW_REFRESH_DIVISOR
            })
        };
        let jobs: Vec<(usize, Duration, bool)> = self
            .slos
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                slo::windows(s.window)
                    .into_iter()
                    .filter(move |&w| due(i, w))
                    .flat_map(move |w| [(i, w, true), (i, w, false)])
            })
            .collect();
        let promql_of = |i: usize, window: Duration, good: bool| {
            let config = &self.slos[i];
            let template = if good { &config.good } else { &config.valid };
            template.replace(WINDOW_PLACEHOLDER, &slo::promql_duration(window))
        };
        let tag_of = |i: usize, window: Duration, good: bool| {
            let kind = if good { "good" } else { "valid" };
            format!("slo{i}_{}_{kind}", window.as_secs())
        };
        let combined = if jobs.len() > 1
            && jobs
                .iter()
                .all(|&(i, w, g)| !promql_of(i, w, g).trim().is_empty())
        {
            let parts: Vec<(String, String)> = jobs
                .iter()
                .map(|&(i, w, g)| (tag_of(i, w, g), promql_of(i, w, g).trim().to_owned()))
                .collect();
            match self.combined("slo counts", at, &parts).await {
                Ok(split) => Some(Ok(split)),
                Err(Refusal::Final(e)) => Some(Err(e)),
                Err(Refusal::PartByPart(e)) => {
                    tracing::debug!(
                        "prometheus: combined SLO query refused, asking one by one: {e}"
                    );
                    None
                }
            }
        } else {
            None
        };
        let answers: Vec<(usize, Duration, bool, Result<Answer, SourceError>)> = match combined {
            Some(Ok(mut split)) => jobs
                .into_iter()
                .map(|(i, w, g)| {
                    (
                        i,
                        w,
                        g,
                        Ok(split.remove(&tag_of(i, w, g)).unwrap_or_default()),
                    )
                })
                .collect(),
            Some(Err(e)) => jobs
                .into_iter()
                .map(|(i, w, g)| (i, w, g, Err(e.clone())))
                .collect(),
            None => Self::slo_one_by_one(self, jobs, at).await,
        };
        Self::pair_slo_answers(self.slos.len(), answers)
    }

    /// The SLO count queries asked separately, a few at a time.
    async fn slo_one_by_one(
        &self,
        jobs: Vec<(usize, Duration, bool)>,
        at: &str,
    ) -> Vec<(usize, Duration, bool, Result<Answer, SourceError>)> {
        futures::stream::iter(jobs)
            .map(|(i, window, good)| async move {
                let config = &self.slos[i];
                let (kind, template) = if good {
                    ("good", &config.good)
                } else {
                    ("valid", &config.valid)
                };
                let promql = template.replace(WINDOW_PLACEHOLDER, &slo::promql_duration(window));
                let signal = format!(
                    "slo {} {kind} [{}]",
                    config.display_name(),
                    slo::promql_duration(window)
                );
                (i, window, good, self.instant(&signal, &promql, at).await)
            })
            .buffered(SLO_CONCURRENCY)
            .collect()
            .await
    }

    /// Per SLO, its (window, good, valid) answers from the (good, valid)
    /// job pairs; one failed query fails its SLO.
    fn pair_slo_answers(
        slos: usize,
        answers: Vec<(usize, Duration, bool, Result<Answer, SourceError>)>,
    ) -> Vec<SloAnswers> {
        let mut out: Vec<SloAnswers> = (0..slos).map(|_| Ok(Vec::new())).collect();
        let mut pending: BTreeMap<(usize, Duration), Answer> = BTreeMap::new();
        for (i, window, good, answer) in answers {
            let Ok(list) = &mut out[i] else { continue };
            match answer {
                Err(e) => out[i] = Err(e),
                Ok(answer) => match pending.remove(&(i, window)) {
                    // Jobs come in (good, valid) pairs, good first.
                    Some(good_answer) if !good => list.push((window, good_answer, answer)),
                    _ => {
                        pending.insert((i, window), answer);
                    }
                },
            }
        }
        out
    }

    /// The good and valid counts of one SLO's windows, from their answers.
    fn window_counts(
        &self,
        config: &SloConfig,
        answers: Vec<(Duration, Answer, Answer)>,
        warnings: &mut Vec<String>,
    ) -> BTreeMap<Duration, WindowCounts> {
        let mut counts: BTreeMap<Duration, WindowCounts> = BTreeMap::new();
        for (window, good, valid) in answers {
            let name = format!(
                "slo {} [{}]",
                config.display_name(),
                slo::promql_duration(window)
            );
            let total = |answer: &Answer| {
                answer
                    .series
                    .iter()
                    .filter_map(|s| s.samples.last().copied())
                    .filter(|v| v.is_finite())
                    .fold(None, |sum: Option<f64>, v| Some(sum.unwrap_or(0.0) + v))
            };
            // The global picture sums every series, labelled or not.
            let global = total(&good)
                .zip(total(&valid))
                .map(|(good, valid)| Counts { good, valid });
            let good = self.by_tenant(&format!("{name} good"), good, warnings);
            let valid = self.by_tenant(&format!("{name} valid"), valid, warnings);
            let by_tenant = valid
                .into_iter()
                .filter_map(|(tenant, v)| {
                    let valid = v.last().copied().filter(|v| v.is_finite())?;
                    // No good-event series while there were valid events
                    // means none of them was good.
                    let good = good
                        .get(&tenant)
                        .and_then(|g| g.last().copied())
                        .filter(|g| g.is_finite())
                        .unwrap_or(0.0);
                    Some((tenant, Counts { good, valid }))
                })
                .collect();
            counts.insert(window, WindowCounts { global, by_tenant });
        }
        counts
    }

    /// Index an answer by tenant, turning its oddities (server warnings,
    /// series without the label, duplicate tenants, unreadable values) into
    /// warnings rather than failures.
    fn by_tenant(
        &self,
        signal: &str,
        answer: Answer,
        warnings: &mut Vec<String>,
    ) -> BTreeMap<String, Vec<f64>> {
        warnings.extend(
            answer
                .warnings
                .into_iter()
                .map(|w| format!("{signal}: {w}")),
        );
        let mut out = BTreeMap::new();
        let mut unlabelled = 0;
        let mut duplicated = BTreeSet::new();
        for series in answer.series {
            let Some(tenant) = series.tenant else {
                unlabelled += 1;
                continue;
            };
            if series.unreadable > 0 {
                warnings.push(format!(
                    "{signal}: tenant {tenant}: {} unreadable samples not stored",
                    series.unreadable
                ));
            }
            match out.entry(tenant) {
                std::collections::btree_map::Entry::Occupied(first) => {
                    duplicated.insert(first.key().clone());
                }
                std::collections::btree_map::Entry::Vacant(slot) => {
                    slot.insert(series.samples);
                }
            }
        }
        if unlabelled > 0 {
            warnings.push(format!(
                "{signal}: {unlabelled} series without the {:?} label ignored",
                self.tenant_label
            ));
        }
        for tenant in duplicated {
            warnings.push(format!(
                "{signal}: several series for tenant {tenant}; the query should aggregate by {:?}, using the first",
                self.tenant_label
            ));
        }
        out
    }
}

/// Why a combined query did not answer.
enum Refusal {
    /// Asking each part alone would fail the same way (token, rate limit,
    /// server unreachable).
    Final(SourceError),
    /// The server answered and refused: one part may be at fault.
    PartByPart(SourceError),
}

/// One instant query of several: each part's series tagged with
/// [`SIGNAL_LABEL`] (a label no part sets, so no two parts' series share a
/// label set and `or` keeps them all), and rounded as [`rounding`] says.
fn combine(parts: &[(String, String)]) -> String {
    parts
        .iter()
        .map(|(tag, promql)| {
            let promql = match rounding(tag) {
                Some(step) => format!("round(({promql}), {step})"),
                None => format!("({promql})"),
            };
            format!(r#"label_replace({promql}, "{SIGNAL_LABEL}", "{tag}", "", "")"#)
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A non-finite value the way Prometheus writes it.
fn non_finite(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

/// Unix seconds with millisecond precision, the form Prometheus's `time`,
/// `start` and `end` parameters accept.
fn unix(at: Timestamp) -> String {
    let ms = at.as_millisecond();
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// An optional signal's failure becomes a warning and no data.
fn degrade(answer: Result<Answer, SourceError>, warnings: &mut Vec<String>) -> Answer {
    answer.unwrap_or_else(|e| {
        warnings.push(format!(
            "{} (left out)",
            e.message.trim_start_matches("metrics: ")
        ));
        Answer::default()
    })
}

/// Decode one `/api/v1/query` (or, with `range`, `/api/v1/query_range`)
/// body the way a poll does: envelope checked, series flattened, the tenant
/// label read and sanitised. Public for the fuzz targets.
pub fn read_answer(body: &[u8], range: bool, tenant_label: &str) -> Result<Answer, SourceError> {
    let what = "metrics: query";
    let envelope: EnvelopeDto = super::decode_body(what, body)?;
    let shape = if range { Shape::Matrix } else { Shape::Vector };
    wire::decode(what, envelope, shape, tenant_label)
}

impl MetricsSource for Prometheus {
    fn vendor(&self) -> Vendor {
        Vendor::Prometheus
    }

    async fn poll(&mut self) -> Result<MetricsSnapshot, SourceError> {
        let result = self.snapshot_at(Timestamp::now()).await;
        match &result {
            Ok(s) => tracing::debug!(
                tenants = s.by_tenant.len(),
                warnings = s.warnings.len(),
                "prometheus: poll"
            ),
            Err(e) => tracing::debug!("prometheus: poll failed: {e}"),
        }
        result
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn unix_time_has_millisecond_precision() {
        let at = Timestamp::from_millisecond(1_795_220_413_844).unwrap();
        assert_eq!(unix(at), "1795220413.844");
        let whole = Timestamp::from_second(1_795_220_413).unwrap();
        assert_eq!(unix(whole), "1795220413.000");
    }

    #[test]
    fn new_points_roll_the_window_at_exact_length_and_leave_the_old_snapshot_alone() {
        let grid = Grid {
            signal: "t",
            step: 10,
            points: 3,
        };
        let at = Timestamp::from_second(1000).unwrap();
        let mut history = History::new(grid);
        let tenants = |pairs: &[(&str, &[f64])]| -> BTreeMap<String, Vec<f64>> {
            pairs
                .iter()
                .map(|(t, v)| ((*t).to_owned(), v.to_vec()))
                .collect()
        };
        history.apply(
            Fetch::Whole(970, 990),
            at,
            tenants(&[("a", &[1.0, 2.0, 3.0]), ("b", &[7.0])]),
        );
        // What the model holds from the last poll.
        let held = Arc::clone(&history.series);
        history.apply(
            Fetch::Since(1000, 1000),
            at,
            tenants(&[("a", &[4.0]), ("c", &[5.0, 6.0, 8.0, 9.0])]),
        );
        let series = &history.series;
        assert_eq!(series["a"], vec![2.0, 3.0, 4.0]);
        assert_eq!(series["b"], vec![7.0]);
        assert_eq!(series["c"], vec![6.0, 8.0, 9.0]);
        assert!(series.values().all(|v| v.capacity() == v.len()));
        assert_eq!(held["a"], vec![1.0, 2.0, 3.0]);
        assert_eq!(history.through, Some(1000));
    }
}
