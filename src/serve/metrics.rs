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

/// The HELP and TYPE lines of a metric family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One sample per key of `counts`, labelled `label`.
fn by_label(out: &mut String, name: &str, label: &str, counts: &Mutex<BTreeMap<String, u64>>) {
    if let Ok(m) = counts.lock() {
        for (key, n) in m.iter() {
            let _ = writeln!(out, "{name}{{{label}=\"{}\"}} {n}", esc(key));
        }
    }
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
        let o = &mut out;
        let secs = |us: u64| format!("{:.6}", us as f64 / 1e6);
        family(
            o,
            "ledger_records",
            "gauge",
            "Records in the ledger (tree size).",
        );
        let _ = writeln!(o, "ledger_records {size}");
        family(
            o,
            "ledger_appends_total",
            "counter",
            "Records appended since start.",
        );
        let _ = writeln!(o, "ledger_appends_total {}", ledger.records);
        family(
            o,
            "ledger_batches_total",
            "counter",
            "Batches written and synced since start.",
        );
        let _ = writeln!(o, "ledger_batches_total {}", ledger.batches);
        family(
            o,
            "ledger_batch_size_max",
            "gauge",
            "Largest batch since start, in records.",
        );
        let _ = writeln!(o, "ledger_batch_size_max {}", ledger.batch_max);
        family(
            o,
            "ledger_fsync_seconds",
            "summary",
            "Time in write+fdatasync of a batch.",
        );
        let _ = writeln!(o, "ledger_fsync_seconds_sum {}", secs(ledger.fsync_micros));
        let _ = writeln!(o, "ledger_fsync_seconds_count {}", ledger.batches);
        family(
            o,
            "ledger_commit_seconds",
            "summary",
            "Time from taking a batch to answering its callers (checks, checkpoint signature, write+fdatasync).",
        );
        let _ = writeln!(
            o,
            "ledger_commit_seconds_sum {}",
            secs(ledger.commit_micros)
        );
        let _ = writeln!(o, "ledger_commit_seconds_count {}", ledger.batches);
        family(
            o,
            "ledger_fsync_seconds_max",
            "gauge",
            "Longest write+fdatasync since start.",
        );
        let _ = writeln!(
            o,
            "ledger_fsync_seconds_max {}",
            secs(ledger.fsync_micros_max)
        );
        family(
            o,
            "ledger_id_index_lookups_total",
            "counter",
            "Appends whose statement id the sequencer looked up in the index (the id filter could not rule it out).",
        );
        let _ = writeln!(o, "ledger_id_index_lookups_total {}", ledger.id_lookups);
        family(
            o,
            "ledger_rejections_total",
            "counter",
            "Refusals by stable code.",
        );
        by_label(o, "ledger_rejections_total", "code", &self.rejections);
        family(
            o,
            "ledger_rule_refusals_total",
            "counter",
            "Refusals by rule of DOMAIN.md (rule code).",
        );
        by_label(o, "ledger_rule_refusals_total", "rule", &self.rule_refusals);
        family(
            &mut out,
            "http_requests_total",
            "counter",
            "Requests by route and status.",
        );
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    esc(route)
                );
            }
        }
        family(
            &mut out,
            "http_request_duration_seconds",
            "histogram",
            "Request latency by route.",
        );
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
