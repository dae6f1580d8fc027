//! Prometheus metrics at `/metrics` (text exposition format 0.0.4): requests
//! and their latency by route, rejections by stable code, and the ledger's
//! appends, batch sizes and fsync latency.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 10] = [
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum_micros: u64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum_micros += d.as_micros() as u64;
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    rejections: Mutex<BTreeMap<String, u64>>,
    /// Refusals under a rule of DOMAIN.md, by rule code (`rule_violated`).
    rule_refusals: Mutex<BTreeMap<String, u64>>,
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            m.entry(route.to_string()).or_default().observe(took);
        }
    }

    pub fn rejection(&self, code: &str) {
        if let Ok(mut m) = self.rejections.lock() {
            *m.entry(code.to_string()).or_default() += 1;
        }
    }

    /// Counts a refused statement by its stable code, and by its rule code
    /// when a rule of DOMAIN.md refused it.
    pub fn refusal(&self, r: &events::codes::Rejection) {
        self.rejection(r.code.as_str());
        if let Some(rc) = projections::rules::rule_of(r) {
            if let Ok(mut m) = self.rule_refusals.lock() {
                *m.entry(rc.as_str().to_string()).or_default() += 1;
            }
        }
    }

    pub fn rule_refusals(&self, code: &str) -> u64 {
        self.rule_refusals
            .lock()
            .ok()
            .and_then(|m| m.get(code).copied())
            .unwrap_or(0)
    }

    pub fn render(&self, ledger: &crate::ledger::Stats, size: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP ledger_records Records in the ledger (tree size)."
        );
        let _ = writeln!(out, "# TYPE ledger_records gauge");
        let _ = writeln!(out, "ledger_records {size}");
        let _ = writeln!(
            out,
            "# HELP ledger_appends_total Records appended since start."
        );
        let _ = writeln!(out, "# TYPE ledger_appends_total counter");
        let _ = writeln!(out, "ledger_appends_total {}", ledger.records);
        let _ = writeln!(
            out,
            "# HELP ledger_batches_total Batches written and synced since start."
        );
        let _ = writeln!(out, "# TYPE ledger_batches_total counter");
        let _ = writeln!(out, "ledger_batches_total {}", ledger.batches);
        let _ = writeln!(
            out,
            "# HELP ledger_batch_size_max Largest batch since start, in records."
        );
        let _ = writeln!(out, "# TYPE ledger_batch_size_max gauge");
        let _ = writeln!(out, "ledger_batch_size_max {}", ledger.batch_max);
        let _ = writeln!(
            out,
            "# HELP ledger_fsync_seconds Time in write+fdatasync of a batch."
        );
        let _ = writeln!(out, "# TYPE ledger_fsync_seconds summary");
        let _ = writeln!(
            out,
            "ledger_fsync_seconds_sum {:.6}",
            ledger.fsync_micros as f64 / 1e6
        );
        let _ = writeln!(out, "ledger_fsync_seconds_count {}", ledger.batches);
        let _ = writeln!(
            out,
            "# HELP ledger_fsync_seconds_max Longest write+fdatasync since start."
        );
        let _ = writeln!(out, "# TYPE ledger_fsync_seconds_max gauge");
        let _ = writeln!(
            out,
            "ledger_fsync_seconds_max {:.6}",
            ledger.fsync_micros_max as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP ledger_rejections_total Refusals by stable code."
        );
        let _ = writeln!(out, "# TYPE ledger_rejections_total counter");
        if let Ok(m) = self.rejections.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(out, "ledger_rejections_total{{code=\"{}\"}} {n}", esc(code));
            }
        }
        let _ = writeln!(
            out,
            "# HELP http_requests_total Requests by route and status."
        );
        let _ = writeln!(out, "# TYPE http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    esc(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP http_request_duration_seconds Request latency by route."
        );
        let _ = writeln!(out, "# TYPE http_request_duration_seconds histogram");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let r = esc(route);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_sum{{route=\"{r}\"}} {:.6}",
                    h.sum_micros as f64 / 1e6
                );
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                    h.count
                );
            }
        }
        out
    }
}
