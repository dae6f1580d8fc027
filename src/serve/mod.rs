//! `ledger serve`: the HTTP service for supervisors and auditors (axum on
//! tokio), its dashboard, and the Hunan 2006 demo as the main command.
//!
//! The ledger itself stays synchronous (a sequencer thread, fsync before
//! every acknowledgement); handlers hand work to it on tokio's blocking pool.
//! Every error is RFC 9457 problem+json with a stable code ([`problem`]).
//! Every limit (body, batch, page, concurrent requests, time) answers with a
//! problem, never a dropped connection.

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod html;
pub mod metrics;
pub mod problem;

use crate::ledger::{Config as LedgerConfig, Ledger};
use anyhow::{bail, Context, Result};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use problem::{http_codes, Problem};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Limits of the service. Each exceeded limit is a problem+json answer.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Bytes of one request body (a single statement, a sign-in form).
    pub body_bytes: usize,
    /// Bytes of an NDJSON batch body.
    pub batch_body_bytes: usize,
    /// Statements in one batch.
    pub batch_items: usize,
    /// Items of one page of a list.
    pub page_max: usize,
    /// Requests handled at once; more get 503 `overloaded` at once.
    pub concurrent_requests: usize,
    /// Milliseconds a request may take (SSE streams excepted).
    pub request_timeout_ms: u64,
    /// Milliseconds a client may take to send its body.
    pub body_timeout_ms: u64,
    /// Signed-in dashboard sessions kept at once.
    pub sessions_max: usize,
    /// Server-sent event streams (`/v1/tail/…`) open at once, of each kind:
    /// public checkpoint streams and auditors' record streams are counted
    /// apart, so anonymous clients cannot take the auditors' places; streams
    /// hold no request permit and have no time limit, so they have their
    /// own caps.
    pub streams_max: usize,
    /// As-of reads (folds of the log as it stood at a past moment) admitted
    /// at once: the one fold that runs and those waiting for it. More get
    /// 503 `overloaded` at once, so that as-of reads, which anyone may ask
    /// of the public dashboard, cannot hold the request places live reads
    /// need. A moment already folded is answered from the cache without a
    /// place.
    pub as_of_reads: usize,
    /// Batch requests (`/v1/statements/batch`) received or appended at
    /// once; more get 503 `overloaded` before their body is read. Each may
    /// hold its body twice (about 2 × `batch_body_bytes`), so this bounds
    /// their memory; one writer appends them all, so more at once would
    /// not append faster.
    pub batch_requests: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_bytes: 256 * 1024,
            batch_body_bytes: 16 << 20,
            batch_items: crate::ledger::BATCH_ITEMS_MAX,
            page_max: 500,
            concurrent_requests: 256,
            request_timeout_ms: 30_000,
            body_timeout_ms: 5_000,
            sessions_max: 10_000,
            streams_max: 64,
            as_of_reads: 8,
            batch_requests: 4,
        }
    }
}

/// The optional TOML configuration file (`--config FILE`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub listen: Option<String>,
    #[serde(default)]
    pub limits: Option<Limits>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// The data directory (env LEDGER_DATA; with --demo, default ./ledger-demo).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on (env LEDGER_LISTEN; default 127.0.0.1:8080; port 0 picks one).
    #[arg(long)]
    pub listen: Option<String>,
    /// A TOML file with `data`, `listen` and a `[limits]` table.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Create the data directory with the Hunan 2006 scenario if it is empty,
    /// print the dashboard URL and a supervisor token, and serve on 127.0.0.1.
    #[arg(long)]
    pub demo: bool,
}

/// Settings after flags, environment and file are merged (flags win, then
/// the environment, then the file, then defaults).
#[derive(Clone, Debug)]
pub struct Settings {
    pub data: PathBuf,
    pub listen: String,
    pub limits: Limits,
    pub demo: bool,
}

pub fn settings(args: &ServeArgs) -> Result<Settings> {
    let file: FileConfig = match &args.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("{} is not a valid configuration", p.display()))?
        }
        None => FileConfig::default(),
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let data = args
        .data
        .clone()
        .or_else(|| env("LEDGER_DATA").map(PathBuf::from))
        .or(file.data)
        .or_else(|| args.demo.then(|| PathBuf::from("ledger-demo")));
    let Some(data) = data else {
        bail!("--data DIR is required (or LEDGER_DATA, or `data` in --config)");
    };
    let listen = args
        .listen
        .clone()
        .or_else(|| env("LEDGER_LISTEN"))
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let limits = file.limits.unwrap_or_default();
    if limits.page_max == 0
        || limits.batch_items == 0
        || limits.concurrent_requests == 0
        || limits.streams_max == 0
        || limits.as_of_reads == 0
        || limits.batch_requests == 0
    {
        bail!("limits must be positive");
    }
    if limits.batch_items > crate::ledger::BATCH_ITEMS_MAX {
        bail!(
            "limits.batch_items is at most {}",
            crate::ledger::BATCH_ITEMS_MAX
        );
    }
    Ok(Settings {
        data,
        listen,
        limits,
        demo: args.demo,
    })
}

/// A signed-in dashboard session.
#[derive(Clone, Debug)]
pub struct Session {
    pub role: auth::Role,
    pub token_id: String,
    pub expires: Instant,
}

/// Sessions last this long.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// State shared by every handler.
pub struct App {
    pub ledger: Arc<Ledger>,
    pub tokens: auth::Tokens,
    pub limits: Limits,
    pub metrics: metrics::Metrics,
    pub sessions: Mutex<std::collections::HashMap<String, Session>>,
    pub permits: Arc<tokio::sync::Semaphore>,
    pub calendar: projections::calendar::Calendar,
    /// The latest (size, checkpoint note), for server-sent events.
    pub heads: tokio::sync::watch::Receiver<(u64, String)>,
    /// The last as-of fold, reused by reads of the same moment.
    pub as_of_cache: Mutex<Option<(crate::reads::AsOf, u64, Arc<crate::reads::Folded>)>>,
    /// As-of folds running at once (one: see `api::read_on`).
    pub as_of_folds: Arc<tokio::sync::Semaphore>,
    /// As-of reads running or waiting for the fold (`limits.as_of_reads`).
    pub as_of_reads: Arc<tokio::sync::Semaphore>,
    /// Batch requests being received or appended (`limits.batch_requests`).
    pub batches: Arc<tokio::sync::Semaphore>,
    /// Open public checkpoint streams (`limits.streams_max`).
    pub streams: Arc<tokio::sync::Semaphore>,
    /// Open auditors' record streams (`limits.streams_max` more).
    pub record_streams: Arc<tokio::sync::Semaphore>,
    pub request_ids: AtomicU64,
    pub read_cache: ReadCache,
    /// Notified at shutdown: ends the server-sent event streams.
    pub stopping: Arc<tokio::sync::Notify>,
}

pub type AppState = Arc<App>;

/// Answers of live reads (no as-of) by request URI, for the ledger size they
/// reflect: a read of the same URI at the same size gives the same bytes
/// (no default comes from the wall clock), so it is answered from here. The
/// cache holds one size at a time, at most [`ReadCache::ENTRIES`] answers and
/// [`ReadCache::BYTES`] bytes of them; an answer that would pass either bound
/// empties it first.
#[derive(Default)]
pub struct ReadCache {
    inner: Mutex<CacheState>,
}

/// The size the cached answers reflect, the answers by URI, and their bytes.
#[derive(Default)]
struct CacheState {
    size: u64,
    answers: std::collections::HashMap<String, axum::body::Bytes>,
    bytes: usize,
}

impl ReadCache {
    pub const ENTRIES: usize = 65_536;
    pub const BYTES: usize = 64 << 20;

    pub fn get(&self, uri: &str, size: u64) -> Option<axum::body::Bytes> {
        let c = self.inner.lock().ok()?;
        if c.size != size {
            return None;
        }
        c.answers.get(uri).cloned()
    }

    pub fn put(&self, uri: &str, size: u64, body: axum::body::Bytes) {
        let Ok(mut c) = self.inner.lock() else {
            return;
        };
        if size > c.size || c.answers.len() >= Self::ENTRIES || c.bytes + body.len() > Self::BYTES {
            c.answers.clear();
            c.bytes = 0;
            c.size = c.size.max(size);
        }
        if size == c.size && body.len() <= Self::BYTES {
            c.bytes += body.len();
            if let Some(old) = c.answers.insert(uri.to_string(), body) {
                c.bytes -= old.len();
            }
        }
    }
}

/// Request ids, limits on concurrency and time, metrics and access logs
/// (never the Authorization header or a cookie).
async fn guard(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = app.request_ids.fetch_add(1, Ordering::Relaxed) + 1;
    let rid = format!("{id:08x}");
    req.extensions_mut().insert(RequestId(rid.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let streaming = path.starts_with("/v1/tail/");
    let t = Instant::now();
    let permit = match app.permits.clone().try_acquire_owned() {
        Ok(p) => p,
        Err(_) => {
            app.metrics.rejection(http_codes::OVERLOADED);
            let mut r = Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                http_codes::OVERLOADED,
                format!(
                    "the service is handling {} requests, its limit; retry shortly",
                    app.limits.concurrent_requests
                ),
            )
            .into_response();
            set_rid(&mut r, &rid);
            return r;
        }
    };
    let mut resp = if streaming {
        drop(permit);
        next.run(req).await
    } else {
        let limit = Duration::from_millis(app.limits.request_timeout_ms);
        let r = match tokio::time::timeout(limit, next.run(req)).await {
            Ok(r) => r,
            Err(_) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                http_codes::TIMEOUT,
                format!("the request took longer than {} ms", limit.as_millis()),
            )
            .into_response(),
        };
        drop(permit);
        r
    };
    set_rid(&mut resp, &rid);
    if let Some(d) = resp.extensions().get::<problem::InternalDetail>() {
        tracing::error!(request_id = %rid, detail = %d.0, "internal error");
    }
    let status = resp.status().as_u16();
    app.metrics.request(&route, status, t.elapsed());
    tracing::info!(
        request_id = %rid,
        method = %method,
        path = %path,
        status,
        micros = t.elapsed().as_micros() as u64,
        "request"
    );
    resp
}

fn set_rid(r: &mut Response, rid: &str) {
    if let Ok(v) = HeaderValue::from_str(rid) {
        r.headers_mut().insert("x-request-id", v);
    }
}

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

async fn fallback(req: Request) -> Problem {
    Problem::not_found(format!("no endpoint {} {}", req.method(), req.uri().path()))
}

pub fn router(app: AppState) -> axum::Router {
    api::routes()
        .merge(dashboard::routes())
        .fallback(fallback)
        .method_not_allowed_fallback(|req: Request| async move {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                http_codes::METHOD_NOT_ALLOWED,
                format!("{} is not allowed on {}", req.method(), req.uri().path()),
            )
        })
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Publishes the ledger's head to the SSE watch channel.
fn watch_heads(
    ledger: std::sync::Weak<Ledger>,
    tx: tokio::sync::watch::Sender<(u64, String)>,
    stop: Arc<tokio::sync::Notify>,
) {
    tokio::spawn(async move {
        let mut last = 0;
        loop {
            let Some(l) = ledger.upgrade() else {
                return;
            };
            let h = l.head();
            drop(l);
            if h.size != last {
                last = h.size;
                if tx.send((h.size, h.checkpoint.clone())).is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                // Dropping the sender ends every server-sent event stream, so
                // their connections close and shutdown can finish.
                _ = stop.notified() => return,
            }
        }
    });
}

/// A running server (tests start one on port 0).
pub struct Running {
    pub addr: SocketAddr,
    pub app: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Why the service could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("listening on {listen}: {source}")]
    Listen {
        listen: String,
        #[source]
        source: std::io::Error,
    },
    /// A task of the service panicked or was cancelled.
    #[error("a task of the service ended abnormally: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

impl Running {
    /// Stops accepting, lets requests in flight finish, then closes the
    /// ledger (the batch in flight is finished and synced).
    pub async fn stop(mut self) -> std::result::Result<(), ServeError> {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        self.app.stopping.notify_one();
        self.task.await??;
        close_ledger(self.app)
    }
}

fn close_ledger(app: AppState) -> std::result::Result<(), ServeError> {
    let ledger = app.ledger.clone();
    drop(app);
    // Other holders (SSE streams) end with the server; wait briefly for them.
    let mut ledger = ledger;
    for _ in 0..50 {
        match Arc::try_unwrap(ledger) {
            Ok(l) => return Ok(l.close()?),
            Err(back) => {
                ledger = back;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    // The last holder closes it on drop (after the batch in flight).
    Ok(())
}

/// Opens the ledger and starts serving on `listen`.
pub async fn start(
    data: &Path,
    listen: &str,
    limits: Limits,
) -> std::result::Result<Running, ServeError> {
    let ledger = {
        let data = data.to_path_buf();
        tokio::task::spawn_blocking(move || Ledger::open(&data, LedgerConfig::default())).await??
    };
    for n in &ledger.notices {
        tracing::warn!("{n}");
    }
    let ledger = Arc::new(ledger);
    let streams_max = limits.streams_max;
    let as_of_reads = limits.as_of_reads;
    let batches = limits.batch_requests;
    let h = ledger.head();
    let (tx, rx) = tokio::sync::watch::channel((h.size, h.checkpoint.clone()));
    let stopping = Arc::new(tokio::sync::Notify::new());
    watch_heads(Arc::downgrade(&ledger), tx, stopping.clone());
    let app = Arc::new(App {
        tokens: auth::Tokens::new(data),
        permits: Arc::new(tokio::sync::Semaphore::new(limits.concurrent_requests)),
        limits,
        metrics: metrics::Metrics::default(),
        sessions: Mutex::new(Default::default()),
        calendar: projections::calendar::Calendar::builtin(),
        heads: rx,
        as_of_cache: Mutex::new(None),
        as_of_folds: Arc::new(tokio::sync::Semaphore::new(1)),
        as_of_reads: Arc::new(tokio::sync::Semaphore::new(as_of_reads)),
        batches: Arc::new(tokio::sync::Semaphore::new(batches)),
        streams: Arc::new(tokio::sync::Semaphore::new(streams_max)),
        record_streams: Arc::new(tokio::sync::Semaphore::new(streams_max)),
        request_ids: AtomicU64::new(0),
        read_cache: ReadCache::default(),
        stopping,
        ledger,
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServeError::Listen {
            listen: listen.to_string(),
            source,
        })?;
    let addr = listener.local_addr()?;
    let (stx, srx) = tokio::sync::oneshot::channel::<()>();
    let service = router(app.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = srx.await;
            })
            .await
    });
    Ok(Running {
        addr,
        app,
        shutdown: Some(stx),
        task,
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `ledger serve` (and `ledger demo`).
pub fn run(args: ServeArgs) -> Result<std::process::ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
    let s = settings(&args)?;
    let mut listen = s.listen.clone();
    if s.demo {
        // The demo serves on loopback only.
        if args.listen.is_none() && std::env::var("LEDGER_LISTEN").is_err() {
            listen = "127.0.0.1:8080".into();
        }
        if !listen.starts_with("127.0.0.1:") {
            bail!("--demo serves on 127.0.0.1 only; --listen {listen} is not a loopback address");
        }
        let t = Instant::now();
        let created = crate::demo::prepare(&s.data)?;
        if created {
            eprintln!(
                "ledger: loaded the Hunan 2006 scenario into {} in {:.1} s",
                s.data.display(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = match start(&s.data, &listen, s.limits.clone()).await {
            Ok(r) => r,
            Err(e) if s.demo && listen == "127.0.0.1:8080" => {
                eprintln!("ledger: port 8080 is taken ({e:#}); picking a free port");
                start(&s.data, "127.0.0.1:0", s.limits.clone()).await?
            }
            Err(e) => return Err(e.into()),
        };
        let url = format!("http://{}/", running.addr);
        if s.demo {
            let (token, _) = auth::create(&s.data, auth::Role::Supervisor, "demo")?;
            println!("Dashboard: {url}");
            println!("Supervisor token (sign in at {url}login): {token}");
        } else {
            println!("ledger: serving {} on {url}", s.data.display());
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        shutdown_signal().await;
        eprintln!("ledger: shutting down (finishing the batch in flight)");
        running.stop().await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::ReadCache;
    use axum::body::Bytes;

    #[test]
    fn the_read_cache_keeps_one_size_and_its_byte_bound() {
        let c = ReadCache::default();
        c.put("/a", 5, Bytes::from_static(b"five"));
        assert_eq!(c.get("/a", 5).as_deref(), Some(&b"five"[..]));
        assert_eq!(c.get("/a", 6), None, "another size is never answered");
        c.put("/b", 4, Bytes::from_static(b"old"));
        assert_eq!(c.get("/b", 4), None, "an older size is not kept");
        c.put("/b", 6, Bytes::from_static(b"six"));
        assert_eq!(c.get("/a", 5), None, "a larger size empties the cache");
        let big = Bytes::from(vec![0u8; ReadCache::BYTES / 2 + 1]);
        c.put("/big1", 6, big.clone());
        assert!(c.get("/big1", 6).is_some());
        c.put("/big2", 6, big);
        assert!(c.get("/big2", 6).is_some());
        assert_eq!(c.get("/big1", 6), None, "passing the byte bound empties it");
        assert_eq!(c.get("/b", 6), None);
        c.put("/huge", 6, Bytes::from(vec![0u8; ReadCache::BYTES + 1]));
        assert_eq!(
            c.get("/huge", 6),
            None,
            "an answer over the bound is not kept"
        );
    }
}
