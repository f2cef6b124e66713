//! What `GET /metrics` reports, in the Prometheus text format (0.0.4): requests by route and
//! status with their latency, and, read from the database at each scrape, plans by status,
//! outbox messages by status and bookings by status.
//!
//! Each app has its own registry (no process-wide recorder), so two apps in one process (the
//! tests) never mix their figures. Counts read from the database are the same from every
//! instance that shares it; request figures are each instance's own, as Prometheus expects
//! (it adds them up across the instances it scrapes).

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Statuses always reported (as 0 when there are none), so that a series never vanishes.
pub const PLAN_STATUSES: [&str; 4] = ["queued", "running", "done", "failed"];
pub const OUTBOX_STATUSES: [&str; 6] = [
    "pending",
    "sent",
    "failed",
    "void",
    "to_send_by_hand",
    "suppressed",
];
pub const BOOKING_STATUSES: [&str; 2] = ["active", "cancelled"];

pub use crate::reports::operations::Counts;

/// The registry and its metrics.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    seconds: HistogramVec,
    plans: IntGaugeVec,
    outbox: IntGaugeVec,
    bookings: IntGaugeVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    ///
    /// # Panics
    /// Never with the fixed names below (a duplicate or malformed name would).
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "donornet_http_requests_total",
                "HTTP requests answered, by method, matched route and status",
            ),
            &["method", "route", "status"],
        )
        .expect("metric");
        // 1 ms to about 16 s.
        let buckets = prometheus::exponential_buckets(0.001, 2.0, 15).expect("buckets");
        let seconds = HistogramVec::new(
            HistogramOpts::new(
                "donornet_http_request_duration_seconds",
                "Time to answer an HTTP request (until the response's head), by method and route",
            )
            .buckets(buckets),
            &["method", "route"],
        )
        .expect("metric");
        let gauge = |name: &str, help: &str| {
            IntGaugeVec::new(Opts::new(name, help), &["status"]).expect("metric")
        };
        let plans = gauge(
            "donornet_plans",
            "Plans by status (queued, running, done, failed)",
        );
        let outbox = gauge(
            "donornet_outbox_messages",
            "Messages to donors and chat groups by status (pending, failed, ...)",
        );
        let bookings = gauge(
            "donornet_bookings",
            "Bookings by status (active, cancelled)",
        );
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(seconds.clone()),
            Box::new(plans.clone()),
            Box::new(outbox.clone()),
            Box::new(bookings.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Metrics {
            registry,
            requests,
            seconds,
            plans,
            outbox,
            bookings,
        }
    }

    /// Records one answered request. `route` must be the matched route template (low
    /// cardinality), never the path itself.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.seconds
            .with_label_values(&[method, route])
            .observe(seconds);
    }

    /// The text a scrape answers, with the gauges set from `counts`.
    pub fn render(&self, counts: &Counts) -> String {
        set(&self.plans, &PLAN_STATUSES, &counts.plans);
        set(&self.outbox, &OUTBOX_STATUSES, &counts.outbox);
        set(&self.bookings, &BOOKING_STATUSES, &counts.bookings);
        let mut out = Vec::new();
        // Encoding into memory cannot fail but for a metric without a value, which the
        // families above never are.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

fn set(gauges: &IntGaugeVec, known: &[&str], counts: &[(String, i64)]) {
    gauges.reset();
    for status in known {
        gauges.with_label_values(&[*status]).set(0);
    }
    for (status, n) in counts {
        gauges.with_label_values(&[status.as_str()]).set(*n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_lists_requests_latency_and_every_known_status() {
        let m = Metrics::new();
        m.observe("GET", "/api/v1/regions/{code}", 200, 0.003);
        m.observe("GET", "/api/v1/regions/{code}", 200, 0.004);
        m.observe("GET", "/api/v1/regions/{code}", 404, 0.002);
        let text = m.render(&Counts {
            plans: vec![("running".into(), 2)],
            outbox: vec![("pending".into(), 7)],
            bookings: vec![],
        });
        assert!(text.contains(
            "donornet_http_requests_total{method=\"GET\",route=\"/api/v1/regions/{code}\",status=\"200\"} 2"
        ), "{text}");
        assert!(text.contains("status=\"404\"} 1"), "{text}");
        assert!(text.contains(
            "donornet_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/regions/{code}\"} 3"
        ), "{text}");
        assert!(
            text.contains("donornet_plans{status=\"running\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("donornet_plans{status=\"queued\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("donornet_outbox_messages{status=\"pending\"} 7"),
            "{text}"
        );
        assert!(
            text.contains("donornet_bookings{status=\"active\"} 0"),
            "{text}"
        );
        // A later scrape reflects the database as it is then.
        let text = m.render(&Counts::default());
        assert!(
            text.contains("donornet_plans{status=\"running\"} 0"),
            "{text}"
        );
    }
}
