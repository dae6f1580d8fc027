//! `ledger bench`: throughput figures, each next to a baseline measured in the
//! same run on the same machine and disk (the machine is shared and noisy, so
//! only ratios are compared with goals). Statements are signed before timing.

use crate::audit::{self, AuditOptions};
use crate::generate::{history, GenerateOptions};
use crate::ledger::{self, Config, Ledger};
use anyhow::{bail, Context, Result};
use ed25519_dalek::VerifyingKey;
use events::statement::{verify_signature, Envelope};
use events::vocab::Clock;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Records of the generated ledger: appended with group commit, then verified.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: u64,
    /// Appends measured with batch size 1: this many streamed, and as many
    /// more sent by one caller waiting for each receipt.
    #[arg(long, default_value_t = 2_000)]
    pub single: u64,
    /// Where to put the benchmark's ledgers (a fresh directory under it is used and removed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the generated ledger (its path is printed).
    #[arg(long)]
    pub keep: bool,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Which parts to run: any of single, group, verify, projections, http
    /// (verify, projections and http need group or --data); decode (with
    /// --data only) prints what each decoding step costs per record.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "single,group,verify,projections,http"
    )]
    pub parts: Vec<String>,
    /// Measure verify, the projections and HTTP on this existing ledger
    /// instead of the one `group` writes (no statements are generated then;
    /// the raw signature baseline checks the ledger's own first 200,000).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// How many cases the HTTP read load spreads over, every case when 0.
    /// Over every case of a 1,000,000-record ledger most reads are computed,
    /// not answered from the read cache.
    #[arg(long, default_value_t = 0)]
    pub read_cases: usize,
    /// With --data: write the figures to this file (one per line, tab
    /// separated) instead of printing the table. A full run measures verify,
    /// the projections and HTTP this way, in a process of their own.
    #[arg(long, hide = true)]
    pub figures_out: Option<PathBuf>,
}

/// Peak resident memory of this process so far (VmHWM), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time used by this process so far (user and system, all threads),
/// from `/proc/self/stat` (in USER_HZ ticks, 100 per second on Linux).
fn process_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which ends at the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A fixed ceiling or floor on this machine (latency, memory, absolute rate).
struct Fixed {
    name: String,
    value: f64,
    unit: &'static str,
    limit: f64,
    /// True when the value must stay below the limit.
    ceiling: bool,
}

fn median_and_p99(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    if v.is_empty() {
        return (Duration::ZERO, Duration::ZERO);
    }
    let p99 = v[(v.len() * 99 / 100).min(v.len() - 1)];
    (v[v.len() / 2], p99)
}

/// About `n` case ids spread evenly over the model, and every city's id:
/// what the query benchmarks read.
fn sample_cases_and_cities(
    m: &projections::model::Model,
    n: usize,
) -> (Vec<events::vocab::Id>, Vec<events::vocab::Id>) {
    let cases = m
        .cases
        .keys()
        .step_by(m.cases.len().checked_div(n).unwrap_or(1).max(1))
        .cloned()
        .collect();
    let cities = m
        .bodies
        .values()
        .filter(|b| b.kind == events::vocab::BodyKind::CityGovernment)
        .map(|b| b.id.clone())
        .collect();
    (cases, cities)
}

/// A keep-alive HTTP/1.1 connection for the load benchmark (std only).
struct Conn {
    s: std::net::TcpStream,
    buf: Vec<u8>,
    /// Read buffer, allocated once: the client shares the cores with the
    /// server it measures, so it does no work per call that it can avoid.
    chunk: Vec<u8>,
}

impl Conn {
    fn open(addr: std::net::SocketAddr) -> Result<Conn> {
        let s = std::net::TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        Ok(Conn {
            s,
            buf: Vec::new(),
            chunk: vec![0u8; 64 * 1024],
        })
    }

    /// Sends one request and reads its response; returns the status.
    fn call(&mut self, method: &str, path: &str, token: &str, body: &[u8]) -> Result<u16> {
        use std::io::Read;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.s.write_all(head.as_bytes())?;
        self.s.write_all(body)?;
        self.buf.clear();
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let h = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let len: usize = h
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .context("a response without content-length")?;
                if self.buf.len() >= end + 4 + len {
                    let status = h
                        .split(' ')
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .context("a response without a status")?;
                    return Ok(status);
                }
            }
            let n = self.s.read(&mut self.chunk)?;
            if n == 0 {
                bail!("the server closed the connection");
            }
            self.buf.extend_from_slice(&self.chunk[..n]);
        }
    }
}

/// Issue 4's figures: read latency over HTTP at 32 connections on the ledger
/// at `dir`, and HTTP batch appends against the library's append rate.
fn http_figures(
    dir: &std::path::Path,
    seed: u64,
    work: &std::path::Path,
    figures: &mut Vec<Figure>,
    fixed: &mut Vec<Fixed>,
    read_cases: usize,
) -> Result<()> {
    use crate::serve::{auth, start, Limits};
    const CONNECTIONS: usize = 32;
    const READ_SECONDS: u64 = 10;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (token, entry) = auth::create(dir, auth::Role::Supervisor, "bench")?;
    let t = Instant::now();
    let running = rt.block_on(start(dir, "127.0.0.1:0", Limits::default()))?;
    eprintln!(
        "bench: http: serving {} (opened in {:.2} s)",
        dir.display(),
        t.elapsed().as_secs_f64()
    );
    let addr = running.addr;
    let (cases, cities) = running.app.ledger.with_model(|m, _| {
        let (cases, cities) = sample_cases_and_cities(m, read_cases);
        let names = |ids: Vec<events::vocab::Id>| -> Vec<String> {
            ids.iter().map(|c| c.to_string()).collect()
        };
        (names(cases), names(cities))
    })?;
    let deadline = Instant::now() + Duration::from_secs(READ_SECONDS);
    type Latencies = (Vec<Duration>, Vec<Duration>);
    let results: Vec<Result<Latencies>> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..CONNECTIONS)
            .map(|w| {
                let (cases, cities, token) = (&cases, &cities, &token);
                s.spawn(move || -> Result<Latencies> {
                    let mut c = Conn::open(addr)?;
                    let (mut case_t, mut city_t) = (Vec::new(), Vec::new());
                    let mut i = w;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        let path = format!("/v1/cases/{}", cases[i % cases.len()]);
                        let st = c.call("GET", &path, token, b"")?;
                        case_t.push(t.elapsed());
                        if st != 200 {
                            bail!("GET {path}: {st}");
                        }
                        let t = Instant::now();
                        let path = format!("/v1/cities/{}", cities[i % cities.len()]);
                        let st = c.call("GET", &path, token, b"")?;
                        city_t.push(t.elapsed());
                        if st != 200 {
                            bail!("GET {path}: {st}");
                        }
                        i += CONNECTIONS;
                    }
                    Ok((case_t, city_t))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a client panicked")))
            })
            .collect()
    });
    let (mut case_all, mut city_all, mut case_first) = (Vec::new(), Vec::new(), Vec::new());
    for r in results {
        let (a, b) = r?;
        // Each client reads its share of the cases once before any repeats:
        // those first reads are computed, the repeats come from the cache.
        let first_pass = cases.len().div_ceil(CONNECTIONS).min(a.len());
        case_first.extend_from_slice(&a[..first_pass]);
        case_all.extend(a);
        city_all.extend(b);
    }
    let n_first = case_first.len();
    let (first_med, first_p99) = median_and_p99(case_first);
    let (n_case, n_city) = (case_all.len(), city_all.len());
    let (case_med, case_p99) = median_and_p99(case_all);
    let (city_med, city_p99) = median_and_p99(city_all);
    eprintln!(
        "bench: http: {CONNECTIONS} connections for {READ_SECONDS} s: {n_case} case reads (median {:.2} ms, p99 {:.2} ms), {n_city} city reads (median {:.2} ms, p99 {:.2} ms)",
        case_med.as_secs_f64() * 1e3,
        case_p99.as_secs_f64() * 1e3,
        city_med.as_secs_f64() * 1e3,
        city_p99.as_secs_f64() * 1e3
    );
    eprintln!(
        "bench: http: of the case reads, the {n_first} first reads of each case (computed, not from the read cache): median {:.2} ms, p99 {:.2} ms",
        first_med.as_secs_f64() * 1e3,
        first_p99.as_secs_f64() * 1e3
    );
    fixed.push(Fixed {
        name: format!("GET /v1/cases/{{id}} p99 at {CONNECTIONS} connections"),
        value: case_p99.as_secs_f64() * 1e3,
        unit: "ms",
        limit: 5.0,
        ceiling: true,
    });
    fixed.push(Fixed {
        name: format!("GET /v1/cities/{{city}} p99 at {CONNECTIONS} connections"),
        value: city_p99.as_secs_f64() * 1e3,
        unit: "ms",
        limit: 5.0,
        ceiling: true,
    });
    rt.block_on(running.stop())?;
    auth::revoke(dir, &entry.id)?;

    // Appends: the same pre-signed statements through the library and over
    // HTTP (NDJSON batches of 1024), each into a fresh ledger.
    const APPENDS: u64 = 50_000;
    let h = history(&GenerateOptions {
        records: APPENDS,
        seed,
    })?;
    let fresh = |name: &str| -> Result<PathBuf> {
        let d = work.join(name);
        ledger::init(
            &d,
            &h.origin,
            &h.root,
            Clock::Simulated,
            Some(h.genesis_time),
            "bench: http appends",
        )?;
        Ok(d)
    };
    let lib_dir = fresh("lib-appends")?;
    let l = Ledger::open(&lib_dir, Config::default())?;
    let t = Instant::now();
    let (ok, bad) = l.append_stream(h.envelopes.iter().cloned(), 1024, |_, _, _| {});
    let lib_rate = ok as f64 / t.elapsed().as_secs_f64();
    let lib_size = l.head().size;
    l.close()?;
    if bad > 0 {
        bail!("{bad} statements refused by the library");
    }
    let http_dir = fresh("http-appends")?;
    let (token, _) = auth::create(&http_dir, auth::Role::Supervisor, "bench")?;
    let running = rt.block_on(start(&http_dir, "127.0.0.1:0", Limits::default()))?;
    let addr = running.addr;
    let batches: Vec<Vec<u8>> = h
        .envelopes
        .chunks(1024)
        .map(|c| {
            let mut b = Vec::new();
            for e in c {
                b.extend_from_slice(e);
                b.push(b'\n');
            }
            b
        })
        .collect();
    // Batches go in order on one connection: later statements depend on
    // earlier ones (a case is accepted after it is filed).
    let t = Instant::now();
    let mut c = Conn::open(addr)?;
    for b in &batches {
        let st = c.call("POST", "/v1/statements/batch", &token, b)?;
        if st != 200 {
            bail!("POST /v1/statements/batch: {st}");
        }
    }
    let http_rate = h.envelopes.len() as f64 / t.elapsed().as_secs_f64();
    let http_size = running.app.ledger.head().size;
    rt.block_on(running.stop())?;
    if http_size != lib_size {
        bail!("over HTTP the ledger reached {http_size} records, through the library {lib_size}");
    }
    eprintln!(
        "bench: http: {ok} statements appended: library {lib_rate:.0}/s, HTTP batches {http_rate:.0}/s"
    );
    figures.push(Figure {
        name: "HTTP batch appends/s (NDJSON, 1024 per request)".into(),
        value: http_rate,
        baseline_name: "library append_stream/s, windows of 1024".into(),
        baseline: lib_rate,
        goal: 0.50,
    });
    std::fs::remove_dir_all(&lib_dir)?;
    std::fs::remove_dir_all(&http_dir)?;
    Ok(())
}

/// Issue 3's figures on the ledger at `dir`: rebuild rate against the
/// single-thread serde_json decode rate of the same lines, query latency from
/// the persisted projection, and the peak memory of a rebuilding process.
fn projection_figures(
    dir: &std::path::Path,
    figures: &mut Vec<Figure>,
    fixed: &mut Vec<Fixed>,
) -> Result<()> {
    use projections::views;
    let t = Instant::now();
    let view = ledger::LogView::open(dir)?;
    let n = view.size();
    eprintln!(
        "bench: projections: opened the log of {n} records in {:.2} s (scan, checksums, Merkle hashes)",
        t.elapsed().as_secs_f64()
    );
    // Baseline: each line read and decoded by serde_json into a value, one thread.
    let t = Instant::now();
    let mut members = 0usize;
    for seq in 0..n {
        let leaf = view.read_leaf(seq)?;
        let v: serde_json::Value = serde_json::from_slice(&leaf)?;
        members += v.as_object().map_or(0, |o| o.len());
    }
    let base_rate = n as f64 / t.elapsed().as_secs_f64();
    std::hint::black_box(members);
    // Rebuild: every record folded into a fresh model (the code path of
    // start-up and `ledger rebuild`), reading the same log.
    let t = Instant::now();
    let folded = crate::reads::fold(dir, crate::reads::AsOf::default())?;
    let rebuild_secs = t.elapsed().as_secs_f64();
    let rebuild_rate = folded.size as f64 / rebuild_secs;
    eprintln!(
        "bench: projections: rebuilt {} records in {rebuild_secs:.2} s (log open included)",
        folded.size
    );
    drop(folded);
    drop(view);
    figures.push(Figure {
        name: "projection rebuild records/s".into(),
        value: rebuild_rate,
        baseline_name: "serde_json decode of the same lines/s, 1 thread".into(),
        baseline: base_rate,
        goal: 1.0 / 3.0,
    });
    fixed.push(Fixed {
        name: "projection rebuild records/s".into(),
        value: rebuild_rate,
        unit: "records/s",
        limit: 400_000.0,
        ceiling: false,
    });
    // `ledger rebuild` in its own process: persisted projection and peak memory.
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(&exe)
        .arg("rebuild")
        .arg("--data")
        .arg(dir)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!(
            "ledger rebuild failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprint!("bench: projections: {text}");
    let peak_kib: f64 = text
        .rsplit("peak memory ")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN);
    fixed.push(Fixed {
        name: "peak memory of `ledger rebuild`".into(),
        value: peak_kib / 1024.0,
        unit: "MiB",
        limit: 300.0,
        ceiling: true,
    });
    // Queries from the persisted projection: open (loads the snapshot), then
    // a case view and a city record, each rendered to JSON as a reader gets it.
    let t = Instant::now();
    let l = Ledger::open(dir, Config::default())?;
    eprintln!(
        "bench: projections: opened the ledger from its persisted projection in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let cal = projections::calendar::Calendar::builtin();
    let (cases, cities, at) = l.with_model(|m, h| {
        let (cases, cities) = sample_cases_and_cities(m, 2000);
        (cases, cities, h.last_recorded_at)
    })?;
    let year = at.shanghai_date().year();
    let from = events::time::Date::from_ymd(year, 1, 1).map_err(|e| anyhow::anyhow!("{e}"))?;
    let to = events::time::Date::from_ymd(year, 12, 31).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut case_times = Vec::with_capacity(cases.len());
    for c in &cases {
        let t = Instant::now();
        let json =
            l.with_model(|m, _| views::case_view(m, &cal, c, at).map(|v| serde_json::to_vec(&v)))?;
        case_times.push(t.elapsed());
        std::hint::black_box(json);
    }
    let mut city_times = Vec::new();
    for _ in 0..20 {
        for c in &cities {
            let t = Instant::now();
            let json = l.with_model(|m, _| {
                serde_json::to_vec(&views::city_record(m, &cal, c, from, to, at))
            })?;
            city_times.push(t.elapsed());
            let _ = std::hint::black_box(json);
        }
    }
    l.close()?;
    let (case_med, case_p99) = median_and_p99(case_times);
    let (city_med, city_p99) = median_and_p99(city_times);
    eprintln!(
        "bench: projections: case query median {:.0} us, p99 {:.0} us ({} cases); city record median {:.0} us, p99 {:.0} us ({} cities x 20, year {year})",
        case_med.as_secs_f64() * 1e6,
        case_p99.as_secs_f64() * 1e6,
        cases.len(),
        city_med.as_secs_f64() * 1e6,
        city_p99.as_secs_f64() * 1e6,
        cities.len()
    );
    fixed.push(Fixed {
        name: "case query, median".into(),
        value: case_med.as_secs_f64() * 1e3,
        unit: "ms",
        limit: 1.0,
        ceiling: true,
    });
    fixed.push(Fixed {
        name: "city record query, median".into(),
        value: city_med.as_secs_f64() * 1e3,
        unit: "ms",
        limit: 1.0,
        ceiling: true,
    });
    Ok(())
}

struct Figure {
    name: String,
    value: f64,
    baseline_name: String,
    baseline: f64,
    goal: f64,
}

/// What each step of reading a record costs on one thread, over the first
/// 200,000 leaves of the ledger at `dir`, next to serde_json's decode of the
/// same lines into a value (informational: the parts of `ledger verify` and
/// of a rebuild that are not signatures or the fold).
fn decode_costs(dir: &std::path::Path) -> Result<()> {
    use events::record::Record;
    let view = ledger::LogView::open_records(dir)?;
    let n = view.size().min(200_000);
    let leaves = (0..n)
        .map(|seq| view.read_leaf(seq))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let bytes: usize = leaves.iter().map(Vec::len).sum();
    eprintln!(
        "bench: decode: {n} leaves, {} bytes on average, one thread",
        bytes / leaves.len().max(1)
    );
    let time = |name: &str, f: &dyn Fn(&[u8]) -> bool| {
        let t = Instant::now();
        let ok = leaves.iter().filter(|l| f(l)).count();
        let us = t.elapsed().as_secs_f64() * 1e6 / leaves.len().max(1) as f64;
        eprintln!("bench: decode: {us:6.2} us per record  {name} ({ok} of {n} accepted)");
    };
    time("serde_json::Value (baseline)", &|l| {
        serde_json::from_slice::<serde_json::Value>(l).is_ok()
    });
    time("canonical-form check (jcs::is_canonical_simple)", &|l| {
        events::jcs::is_canonical_simple(l)
    });
    time(
        "Record::parse (verify and append: canonical form, every field)",
        &|l| Record::parse(l).is_ok(),
    );
    time("Record::decode_trusted (replay)", &|l| {
        Record::decode_trusted(l).is_ok()
    });
    time("chain hash, BLAKE3 (also the frame check)", &|l| {
        std::hint::black_box(events::record::chain_hash(l));
        true
    });
    time("Merkle leaf hash, SHA-256", &|l| {
        std::hint::black_box(events::merkle::leaf_hash(l));
        true
    });
    Ok(())
}

/// Raw fdatasync rate: write 300 bytes and fdatasync, again and again.
fn raw_fdatasync_rate(dir: &std::path::Path, n: u64) -> Result<f64> {
    let path = dir.join("fdatasync-baseline");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let buf = [b'x'; 300];
    let t = Instant::now();
    for _ in 0..n {
        f.write_all(&buf)?;
        f.sync_data()?;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(rate)
}

/// Raw `verify_strict` rate on all cores over already-parsed statements.
/// A statement's key, canonical bytes and signature, for the raw baseline.
type SignedSample = (VerifyingKey, Vec<u8>, [u8; 64]);

/// `ledger verify` over the ledger at `dir` against raw `verify_strict` of
/// `sample` on all cores, measured before and after it.
fn verify_figures(
    dir: &std::path::Path,
    sample: &[SignedSample],
    threads: usize,
    figures: &mut Vec<Figure>,
) -> Result<()> {
    let before = raw_verify_rate(sample, threads);
    let t = Instant::now();
    let r = audit::verify_data_dir(
        dir,
        AuditOptions {
            threads,
            ..AuditOptions::default()
        },
    )
    .map_err(|e| anyhow::anyhow!("verify failed: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    let after = raw_verify_rate(sample, threads);
    figures.push(Figure {
        name: "ledger verify records/s".into(),
        value: r.records as f64 / secs,
        baseline_name: "raw verify_strict/s, all cores".into(),
        baseline: (before + after) / 2.0,
        goal: 0.85,
    });
    eprintln!("bench: verified {} records in {secs:.1} s", r.records);
    Ok(())
}

/// Up to `n` signed statements of the ledger at `dir` with their keys (from
/// the key grants before them), for the raw `verify_strict` baseline.
fn sample_of_ledger(dir: &std::path::Path, n: u64) -> Result<Vec<SignedSample>> {
    let view = ledger::LogView::open_records(dir)?;
    let genesis = events::record::Record::parse(&view.read_leaf(0)?)
        .map_err(|e| anyhow::anyhow!("genesis: {e}"))?;
    let registry = events::registry::Registry::genesis(&genesis.signed.statement)
        .map_err(|e| anyhow::anyhow!("genesis: {e}"))?;
    let mut keys: std::collections::HashMap<events::keys::KeyId, VerifyingKey> =
        registry.keys().map(|(id, e)| (*id, e.public.0)).collect();
    let mut out = Vec::new();
    for seq in 1..view.size().min(n + 1) {
        let r = events::record::Record::parse(&view.read_leaf(seq)?)
            .map_err(|e| anyhow::anyhow!("seq {seq}: {e}"))?;
        if let events::vocab::Event::KeyGranted(k) = &r.signed.statement.event {
            keys.insert(k.key, k.public_key.0);
        }
        if let Some(k) = keys.get(&r.signed.statement.actor) {
            out.push((*k, r.signed.bytes, r.signed.signature));
        }
    }
    Ok(out)
}

fn raw_verify_rate(items: &[SignedSample], threads: usize) -> f64 {
    let t = Instant::now();
    let chunk = items.len().div_ceil(threads.max(1));
    let ok: usize = std::thread::scope(|s| {
        let hs: Vec<_> = items
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .filter(|(k, b, sig)| verify_signature(k, b, sig))
                        .count()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    assert_eq!(ok, items.len(), "baseline statements must all verify");
    items.len() as f64 / t.elapsed().as_secs_f64()
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if args.records < 10_000 {
        bail!("--records must be at least 10000 for meaningful figures");
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut figures = Vec::new();
    let mut fixed = Vec::new();
    if let Some(data) = &args.data {
        if args
            .parts
            .iter()
            .any(|p| !["verify", "projections", "http", "decode"].contains(&p.as_str()))
        {
            bail!(
                "--data measures an existing ledger: use it with --parts verify,projections,http,decode"
            );
        }
        if args.parts.iter().any(|p| p == "decode") {
            decode_costs(data)?;
        }
        if args.parts.iter().any(|p| p == "verify") {
            let sample = sample_of_ledger(data, 200_000)?;
            verify_figures(data, &sample, threads, &mut figures)?;
        }
        if args.parts.iter().any(|p| p == "projections") {
            projection_figures(data, &mut figures, &mut fixed)?;
        }
        if args.parts.iter().any(|p| p == "http") {
            let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
            let work = base.join(format!("ledger-bench-{}", std::process::id()));
            std::fs::create_dir_all(&work)?;
            http_figures(
                data,
                args.seed,
                &work,
                &mut figures,
                &mut fixed,
                args.read_cases,
            )?;
            std::fs::remove_dir_all(&work)?;
        }
        if let Some(out) = &args.figures_out {
            write_figures(out, &figures, &fixed)?;
            return Ok(ExitCode::SUCCESS);
        }
        return Ok(report(&figures, &fixed, n_of(data)?, threads));
    }
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let work = base.join(format!("ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    eprintln!("bench: {threads} cores; working in {}", work.display());

    eprintln!("bench: signing {} statements (not timed)...", args.records);
    let h = history(&GenerateOptions {
        records: args.records,
        seed: args.seed,
    })?;

    // Baseline for signature work: parse the envelopes and look up keys outside the timing.
    let keys: std::collections::HashMap<events::keys::KeyId, VerifyingKey> = h
        .envelopes
        .iter()
        .filter_map(|e| Envelope::parse(e).ok())
        .filter_map(|e| match &e.signed.statement.event {
            events::vocab::Event::KeyGranted(k) => Some((k.key, k.public_key.0)),
            _ => None,
        })
        .chain([(
            events::keys::KeyId::of(&h.root.verifying_key()),
            h.root.verifying_key(),
        )])
        .collect();
    let sample: Vec<SignedSample> = h
        .envelopes
        .iter()
        .take(200_000)
        .filter_map(|b| Envelope::parse(b).ok())
        .filter_map(|e| {
            keys.get(&e.signed.statement.actor)
                .map(|k| (*k, e.signed.bytes, e.signed.signature))
        })
        .collect();

    let part = |p: &str| args.parts.iter().any(|x| x == p);
    // 1. Durable appends at batch size 1 against raw fdatasync of 300 bytes.
    if part("single") {
        let dir = work.join("single");
        ledger::init(
            &dir,
            &h.origin,
            &h.root,
            Clock::Simulated,
            Some(h.genesis_time),
            "bench: batch size 1",
        )?;
        let l = Ledger::open(
            &dir,
            Config {
                batch_max: 1,
                ..Config::default()
            },
        )?;
        let n = args.single.min(h.envelopes.len() as u64) as usize;
        let fsync_rate = raw_fdatasync_rate(&work, n as u64)?;
        // Timed from the first statement handed in to the last receipt, the
        // caller's checks (envelope parse, `verify_strict`) included: a
        // stream of statements, each committed in a batch of its own (its own
        // write and fdatasync) before its receipt, while the next ones are
        // checked (`append_stream` with windows of one).
        let t = Instant::now();
        let (ok, bad) = l.append_stream(h.envelopes[..n].iter().cloned(), 1, |_, _, _| {});
        let rate = ok as f64 / t.elapsed().as_secs_f64();
        let st = l.stats();
        if bad > 0 || st.batches != ok {
            bail!(
                "batch size 1: {bad} statements refused, {} batches for {ok} appends",
                st.batches
            );
        }
        // One at a time, as a lone caller waits for each receipt before it
        // sends the next: the latency of a durable append.
        let m = n.min(h.envelopes.len() - n);
        let mut durable = Duration::ZERO;
        let mut end_to_end = Duration::ZERO;
        for e in &h.envelopes[n..n + m] {
            let t0 = Instant::now();
            let p = l
                .prepare(e)
                .map_err(|e| anyhow::anyhow!("bench statement refused: {e}"))?;
            let t = Instant::now();
            let rx = l.send(vec![p]);
            if rx
                .recv()
                .ok()
                .and_then(|mut v| v.pop())
                .is_none_or(|r| r.is_err())
            {
                bail!("batch size 1: a statement was refused");
            }
            durable += t.elapsed();
            end_to_end += t0.elapsed();
        }
        let st = l.stats();
        eprintln!(
            "bench: batch size 1: {rate:.0} appends/s streamed, checks included; one caller waiting for each receipt: {:.0} us per append including its checks, {:.0} us from hand-off to receipt (of which {:.0} us in the sequencer's commit, {:.0} us of it in the log's write + fdatasync)",
            end_to_end.as_secs_f64() * 1e6 / m.max(1) as f64,
            durable.as_secs_f64() * 1e6 / m.max(1) as f64,
            st.commit_micros as f64 / st.batches.max(1) as f64,
            st.fsync_micros as f64 / st.batches.max(1) as f64,
        );
        l.close()?;
        // Both readings of "appends/s at batch size 1", each against the
        // goal: the rate of a stream, and the rate of a lone caller.
        figures.push(Figure {
            name: "durable appends/s, batch size 1 (a stream, checks included)".into(),
            value: rate,
            baseline_name: "raw write(300 B)+fdatasync/s".into(),
            baseline: fsync_rate,
            goal: 0.60,
        });
        figures.push(Figure {
            name: "durable appends/s, batch size 1 (one caller, checks included)".into(),
            value: m as f64 / end_to_end.as_secs_f64(),
            baseline_name: "raw write(300 B)+fdatasync/s".into(),
            baseline: fsync_rate,
            goal: 0.60,
        });
        std::fs::remove_dir_all(&dir)?;
    }

    // 2. Durable appends with group commit against raw verify_strict on all cores.
    let dir = work.join("ledger");
    if part("group") {
        let verify_rate_before = raw_verify_rate(&sample, threads);
        ledger::init(
            &dir,
            &h.origin,
            &h.root,
            Clock::Simulated,
            Some(h.genesis_time),
            "bench: group commit",
        )?;
        let l = Ledger::open(&dir, Config::default())?;
        let t = Instant::now();
        let cpu_before = process_cpu_secs();
        let (ok, bad) = l.append_stream(h.envelopes.iter().cloned(), 4096, |_, _, _| {});
        let secs = t.elapsed().as_secs_f64();
        if let (Some(a), Some(b)) = (cpu_before, process_cpu_secs()) {
            eprintln!(
                "bench: group commit: {:.1} s of CPU in {secs:.1} s, {:.1} % of the {threads} cores' time",
                b - a,
                100.0 * (b - a) / (secs * threads as f64)
            );
        }
        l.close()?;
        if bad > 0 {
            bail!("{bad} generated statements were refused");
        }
        let verify_rate_after = raw_verify_rate(&sample, threads);
        let baseline = (verify_rate_before + verify_rate_after) / 2.0;
        figures.push(Figure {
            name: "durable appends/s, group commit".into(),
            value: ok as f64 / secs,
            baseline_name: "raw verify_strict/s, all cores".into(),
            baseline,
            goal: 0.80,
        });
    }

    // 3.-5. `ledger verify` on the whole ledger, the projections and HTTP,
    // each measured on the ledger just written, in a process of their own:
    // as an auditor runs `ledger verify`, or an operator `ledger rebuild` and
    // `ledger serve`. Not in this process, whose heap still holds the million
    // signed statements it appended (in it, the rebuild measured 313k-556k
    // records/s over six runs, against 474k-542k in a fresh process).
    drop(h);
    drop(sample);
    let later: Vec<&str> = ["verify", "projections", "http"]
        .into_iter()
        .filter(|p| part(p))
        .collect();
    if part("group") && !later.is_empty() {
        let out = work.join("figures.tsv");
        let status = std::process::Command::new(std::env::current_exe()?)
            .arg("bench")
            .arg("--data")
            .arg(&dir)
            .arg("--dir")
            .arg(&work)
            .arg("--parts")
            .arg(later.join(","))
            .arg("--seed")
            .arg(args.seed.to_string())
            .arg("--read-cases")
            .arg(args.read_cases.to_string())
            .arg("--figures-out")
            .arg(&out)
            .status()
            .context("starting the measuring process")?;
        if !status.success() {
            bail!(
                "measuring {} on the written ledger failed ({status})",
                later.join(", ")
            );
        }
        read_figures(&out, &mut figures, &mut fixed)?;
        // Each part measured must have come back.
        for (part, name) in [
            ("verify", "ledger verify records/s"),
            ("projections", "projection rebuild records/s"),
            ("http", "HTTP batch appends/s (NDJSON, 1024 per request)"),
        ] {
            if later.contains(&part) && !figures.iter().any(|f| f.name == name) {
                bail!("the measuring process returned no {name:?}");
            }
        }
    }

    let code = report(&figures, &fixed, args.records, threads);
    if args.keep {
        println!("ledger kept at {}", dir.display());
    } else {
        std::fs::remove_dir_all(&work)?;
    }
    Ok(code)
}

/// Writes figures for the process that started this one: a line per figure,
/// tab separated, `ratio` or `fixed` first.
fn write_figures(path: &std::path::Path, figures: &[Figure], fixed: &[Fixed]) -> Result<()> {
    let mut text = String::new();
    for f in figures {
        text.push_str(&format!(
            "ratio\t{}\t{}\t{}\t{}\t{}\n",
            f.name, f.value, f.baseline_name, f.baseline, f.goal
        ));
    }
    for f in fixed {
        text.push_str(&format!(
            "fixed\t{}\t{}\t{}\t{}\t{}\n",
            f.name, f.value, f.unit, f.limit, f.ceiling
        ));
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Reads what [`write_figures`] wrote.
fn read_figures(
    path: &std::path::Path,
    figures: &mut Vec<Figure>,
    fixed: &mut Vec<Fixed>,
) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let num = |i: usize| -> Result<f64> {
            f.get(i)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| anyhow::anyhow!("bad figure line {line:?}"))
        };
        match (f.first(), f.len()) {
            (Some(&"ratio"), 6) => figures.push(Figure {
                name: f[1].to_string(),
                value: num(2)?,
                baseline_name: f[3].to_string(),
                baseline: num(4)?,
                goal: num(5)?,
            }),
            (Some(&"fixed"), 6) => fixed.push(Fixed {
                name: f[1].to_string(),
                value: num(2)?,
                unit: unit_of(f[3])?,
                limit: num(4)?,
                ceiling: f[5]
                    .parse()
                    .map_err(|_| anyhow::anyhow!("bad figure line {line:?}"))?,
            }),
            _ => bail!("bad figure line {line:?}"),
        }
    }
    Ok(())
}

/// The units a fixed limit is stated in.
fn unit_of(s: &str) -> Result<&'static str> {
    ["ms", "MiB", "records/s"]
        .into_iter()
        .find(|u| *u == s)
        .ok_or_else(|| anyhow::anyhow!("unknown unit {s:?}"))
}

fn n_of(dir: &std::path::Path) -> Result<u64> {
    Ok(ledger::LogView::open(dir)?.size())
}

fn report(figures: &[Figure], fixed: &[Fixed], records: u64, threads: usize) -> ExitCode {
    println!("| figure | value | baseline (same run) | ratio | goal |");
    println!("|---|---:|---|---:|---:|");
    let mut all = true;
    for f in figures {
        let ratio = f.value / f.baseline;
        let met = ratio >= f.goal;
        all &= met;
        println!(
            "| {} | {:.0} | {} = {:.0} | {:.1}% | >= {:.0}% {} |",
            f.name,
            f.value,
            f.baseline_name,
            f.baseline,
            ratio * 100.0,
            f.goal * 100.0,
            if met { "met" } else { "NOT met" }
        );
    }
    if !fixed.is_empty() {
        println!();
        println!("| fixed limit on this machine | value | limit |");
        println!("|---|---:|---:|");
        for f in fixed {
            let met = if f.ceiling {
                f.value < f.limit
            } else {
                f.value >= f.limit
            };
            all &= met;
            // Milliseconds to the microsecond, memory to a tenth of a MiB,
            // rates whole.
            let places = match f.unit {
                "ms" => 3,
                "MiB" => 1,
                _ => 0,
            };
            println!(
                "| {} | {:.*} {} | {} {} {} {} |",
                f.name,
                places,
                f.value,
                f.unit,
                if f.ceiling { "<" } else { ">=" },
                f.limit,
                f.unit,
                if met { "met" } else { "NOT met" }
            );
        }
    }
    println!("records: {records}, cores: {threads}");
    if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_cross_to_the_starting_process_unchanged() {
        let dir = std::env::temp_dir().join(format!("figures-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("figures.tsv");
        let figures = vec![Figure {
            name: "ledger verify records/s".into(),
            value: 43_420.125,
            baseline_name: "raw verify_strict/s, all cores".into(),
            baseline: 51_565.5,
            goal: 0.85,
        }];
        let fixed = vec![Fixed {
            name: "peak memory of `ledger rebuild`".into(),
            value: 283.441,
            unit: "MiB",
            limit: 300.0,
            ceiling: true,
        }];
        write_figures(&path, &figures, &fixed).unwrap();
        let (mut f2, mut x2) = (Vec::new(), Vec::new());
        read_figures(&path, &mut f2, &mut x2).unwrap();
        assert_eq!(f2.len(), 1);
        assert_eq!(f2[0].name, figures[0].name);
        assert_eq!(f2[0].baseline_name, figures[0].baseline_name);
        assert_eq!(
            (f2[0].value, f2[0].baseline, f2[0].goal),
            (43_420.125, 51_565.5, 0.85)
        );
        assert_eq!(x2.len(), 1);
        assert_eq!(
            (
                x2[0].name.as_str(),
                x2[0].value,
                x2[0].unit,
                x2[0].limit,
                x2[0].ceiling
            ),
            (
                "peak memory of `ledger rebuild`",
                283.441,
                "MiB",
                300.0,
                true
            )
        );
        // A damaged line is refused, not read as zero or as a floor.
        for bad in [
            "ratio\tx\tnot-a-number\ty\t1\t0.5\n",
            "fixed\tx\t1\tMiB\t300\tyes\n",
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = read_figures(&path, &mut f2, &mut x2).unwrap_err();
            assert!(err.to_string().contains("bad figure line"), "{err}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
