//! The JSON API: writes, reads for supervisors and auditors, public
//! checkpoints and proofs, server-sent events, Open311 GeoReport v2,
//! `/openapi.json` and `/metrics`.
//!
//! [`ROUTES`] is the one list of endpoints: the router is built from it and
//! `/openapi.json` is generated from it, so the two cannot disagree.

use super::auth::{Refusal, Role};
use super::problem::{http_codes, PathText, Problem};
use super::{AppState, RequestId};
use crate::reads::{AsOf, Folded, TimelineLine};
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use events::codec::hex;
use events::record::Record;
use events::time::{Date, Timestamp};
use events::vocab::{Category, Id};
use projections::model::{CaseState, Model};
use projections::views;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Public,
    /// A statement's own signature authorises it (writes).
    Signed,
    Needs(Role),
}

pub struct RouteDoc {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub access: Access,
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
}

const READ: &[(&str, &str)] = &[
    ("as_of_seq", "reflect only the first N records"),
    ("as_of", "reflect only records recorded at or before this time (RFC 3339, or a date: the end of that day in Shanghai)"),
    ("at", "business time at which lateness is judged (default: end of the period, else the latest recorded_at)"),
];

pub const ROUTES: &[RouteDoc] = &[
    RouteDoc { method: "post", path: "/v1/statements", summary: "Append one signed statement (a canonical envelope); answers its receipt once durable. Retrying the same statement id is safe.", access: Access::Signed, query: &[] },
    RouteDoc { method: "post", path: "/v1/statements/batch", summary: "Append a batch of envelopes as NDJSON; answers one NDJSON line per input: a receipt or a problem.", access: Access::Signed, query: &[] },
    RouteDoc { method: "get", path: "/v1/checkpoint", summary: "The latest signed checkpoint (C2SP signed note).", access: Access::Public, query: &[] },
    RouteDoc { method: "get", path: "/v1/checkpoint/{size}", summary: "The signed checkpoint issued at exactly this tree size.", access: Access::Public, query: &[] },
    RouteDoc { method: "get", path: "/v1/proof/inclusion", summary: "RFC 6962 inclusion proof of record seq in the tree of size.", access: Access::Public, query: &[("seq", "the record"), ("size", "tree size (default: latest)")] },
    RouteDoc { method: "get", path: "/v1/proof/consistency", summary: "RFC 6962 consistency proof between two tree sizes.", access: Access::Public, query: &[("old", "older size"), ("new", "newer size (default: latest)")] },
    RouteDoc { method: "get", path: "/v1/leaf-hashes", summary: "Merkle leaf hashes by range.", access: Access::Public, query: &[("from", "first seq"), ("count", "how many (at most the page limit)")] },
    RouteDoc { method: "get", path: "/v1/records", summary: "The records themselves (leaf bytes) as NDJSON, by range.", access: Access::Needs(Role::Auditor), query: &[("from", "first seq"), ("count", "how many (at most the page limit)")] },
    RouteDoc { method: "get", path: "/v1/tail/checkpoints", summary: "Server-sent events: each new signed checkpoint.", access: Access::Public, query: &[] },
    RouteDoc { method: "get", path: "/v1/tail/records", summary: "Server-sent events: each new record (leaf bytes).", access: Access::Needs(Role::Auditor), query: &[("from", "first seq (default: the current size)")] },
    RouteDoc { method: "get", path: "/v1/cases", summary: "Cases, filtered and paged.", access: Access::Needs(Role::Supervisor), query: &[("city", "city id or name"), ("state", "case state"), ("overdue", "true: only cases with an open obligation past due"), ("category", "complaint category"), ("body", "responsible body"), ("page", "1-based page"), ("per_page", "items per page"), ("as_of_seq", ""), ("as_of", ""), ("at", "")] },
    RouteDoc { method: "get", path: "/v1/cases/{id}", summary: "One case with its deadlines, overdue flags and timeline.", access: Access::Needs(Role::Supervisor), query: READ },
    RouteDoc { method: "get", path: "/v1/promises", summary: "The promise ledger, paged.", access: Access::Needs(Role::Supervisor), query: &[("status", "overdue | breached | disputed"), ("body", "the body bound"), ("page", "1-based page"), ("per_page", "items per page"), ("as_of_seq", ""), ("as_of", ""), ("at", "")] },
    RouteDoc { method: "get", path: "/v1/inspections", summary: "The inspection registry with its flags, paged.", access: Access::Needs(Role::Supervisor), query: &[("flagged", "true: only flagged inspections"), ("page", "1-based page"), ("per_page", "items per page"), ("as_of_seq", ""), ("as_of", "")] },
    RouteDoc { method: "get", path: "/v1/cities/{city}", summary: "A city's accountability record over a period.", access: Access::Needs(Role::Supervisor), query: &[("from", "first day (default 1 January of the latest year)"), ("to", "last day (default 31 December)"), ("as_of_seq", ""), ("as_of", ""), ("at", "")] },
    RouteDoc { method: "get", path: "/v1/ranking", summary: "The cities ranked on the evaluation of a year (public at / on the dashboard).", access: Access::Needs(Role::Supervisor), query: &[("year", "the year"), ("as_of_seq", ""), ("as_of", ""), ("at", "")] },
    RouteDoc { method: "get", path: "/v1/enterprises/{id}", summary: "An enterprise's cases, the promises made to it and the inspections it received.", access: Access::Needs(Role::Supervisor), query: READ },
    RouteDoc { method: "get", path: "/v1/projects", summary: "Signed investment projects (R20–R21): status, furthest progress, planned and arrived funds; paged.", access: Access::Needs(Role::Supervisor), query: &[("city", "city id or name"), ("from", "signed on or after this day"), ("to", "signed on or before this day"), ("page", "1-based page"), ("per_page", "items per page"), ("as_of_seq", ""), ("as_of", "")] },
    RouteDoc { method: "get", path: "/v1/rules", summary: "Each row of DOMAIN.md's rule table with the evidence that it fired: flags, measures and records in the ledger, and the refusals this server answered.", access: Access::Needs(Role::Supervisor), query: &[("year", "evaluation year for R22–R25 (default: the latest recorded)"), ("as_of_seq", ""), ("as_of", ""), ("at", "")] },
    RouteDoc { method: "get", path: "/open311/v2/services.json", summary: "Open311 GeoReport v2: complaint categories as services.", access: Access::Public, query: &[] },
    RouteDoc { method: "get", path: "/open311/v2/requests.json", summary: "Open311 GeoReport v2: cases as service requests (no complainant identity, no amounts).", access: Access::Public, query: &[("status", "open | closed"), ("service_code", "category"), ("page", ""), ("page_size", "")] },
    RouteDoc { method: "get", path: "/open311/v2/requests/{id}", summary: "Open311 GeoReport v2: one case as a service request (path ends in .json).", access: Access::Public, query: &[] },
    RouteDoc { method: "get", path: "/openapi.json", summary: "This API, as OpenAPI 3.1.", access: Access::Public, query: &[] },
    RouteDoc { method: "get", path: "/metrics", summary: "Prometheus metrics.", access: Access::Public, query: &[] },
];

fn handler(method: &str, path: &str) -> MethodRouter<AppState> {
    match (method, path) {
        ("post", "/v1/statements") => post(post_statement),
        ("post", "/v1/statements/batch") => post(post_batch),
        ("get", "/v1/checkpoint") => get(latest_checkpoint),
        ("get", "/v1/checkpoint/{size}") => get(checkpoint_at),
        ("get", "/v1/proof/inclusion") => get(inclusion),
        ("get", "/v1/proof/consistency") => get(consistency),
        ("get", "/v1/leaf-hashes") => get(leaf_hashes),
        ("get", "/v1/records") => get(records),
        ("get", "/v1/tail/checkpoints") => get(tail_checkpoints),
        ("get", "/v1/tail/records") => get(tail_records),
        ("get", "/v1/cases") => get(cases),
        ("get", "/v1/cases/{id}") => get(case),
        ("get", "/v1/promises") => get(promises),
        ("get", "/v1/inspections") => get(inspections),
        ("get", "/v1/cities/{city}") => get(city),
        ("get", "/v1/ranking") => get(ranking),
        ("get", "/v1/enterprises/{id}") => get(enterprise),
        ("get", "/v1/rules") => get(rules_fired),
        ("get", "/v1/projects") => get(projects),
        ("get", "/open311/v2/services.json") => get(o311_services),
        ("get", "/open311/v2/requests.json") => get(o311_requests),
        ("get", "/open311/v2/requests/{id}") => get(o311_request),
        ("get", "/openapi.json") => get(openapi),
        ("get", "/metrics") => get(metrics),
        _ => unreachable!("every route of ROUTES has a handler: {method} {path}"),
    }
}

pub fn routes() -> Router<AppState> {
    let mut r = Router::new();
    for d in ROUTES {
        let mut h = handler(d.method, d.path);
        // Open311 clients send the standard's parameters we do not serve
        // (jurisdiction_id, api_key); our own API refuses what it would
        // otherwise silently ignore (a misspelt filter answers everything).
        if d.path.starts_with("/v1/") {
            h = h.layer(axum::middleware::from_fn(
                move |req: Request, next: axum::middleware::Next| known_query(d, req, next),
            ));
        }
        r = r.route(d.path, h);
    }
    r
}

/// Refuses a request whose query names a parameter the route does not take
/// (400 `bad_request`, naming it and those the route takes). A route that
/// reads as of a moment lets all of `as_of_seq`, `as_of` and `at` through:
/// its handler says which of them do not apply to it.
async fn known_query(d: &'static RouteDoc, req: Request, next: axum::middleware::Next) -> Response {
    let takes_read = d.query.iter().any(|(n, _)| *n == "as_of_seq");
    let known = |name: &str| {
        d.query.iter().any(|(n, _)| *n == name)
            || (takes_read && READ.iter().any(|(n, _)| *n == name))
    };
    let unknown = req.uri().query().and_then(|q| {
        q.split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| query_name(pair.split('=').next().unwrap_or("")))
            .find(|name| !name.as_deref().is_some_and(known))
    });
    let Some(name) = unknown else {
        return next.run(req).await;
    };
    let named = match name {
        Some(n) => format!("{n:?}"),
        None => "whose name is not UTF-8 text".to_string(),
    };
    let takes: Vec<&str> = d.query.iter().map(|(n, _)| *n).collect();
    let detail = if takes.is_empty() {
        format!(
            "unknown query parameter {named}: {} {} takes none",
            d.method.to_uppercase(),
            d.path
        )
    } else {
        format!(
            "unknown query parameter {named}: {} {} takes {}",
            d.method.to_uppercase(),
            d.path,
            takes.join(", ")
        )
    };
    Problem::bad_request(detail).into_response()
}

/// A query parameter's name, percent- and plus-decoded; None when it is not
/// UTF-8 or its escapes are broken.
fn query_name(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = b.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

// -- authentication --------------------------------------------------------

/// The role of the caller: a bearer token, or a dashboard session cookie.
pub fn caller_role(app: &AppState, headers: &HeaderMap) -> Result<Role, Refusal> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().map_err(|_| Refusal::Unknown)?;
        let t = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .ok_or(Refusal::Unknown)?;
        return app.tokens.check(t);
    }
    if let Some(s) = super::dashboard::session(app, headers) {
        return Ok(s.role);
    }
    Err(Refusal::Missing)
}

pub fn require(app: &AppState, headers: &HeaderMap, needed: Role) -> Result<Role, Problem> {
    let role = caller_role(app, headers).map_err(|r| {
        app.metrics.rejection(http_codes::UNAUTHORIZED);
        Problem::new(
            StatusCode::UNAUTHORIZED,
            http_codes::UNAUTHORIZED,
            match r {
                Refusal::Missing => "this endpoint needs a bearer token (Authorization: Bearer …)",
                Refusal::Unknown => "the token is not valid",
                Refusal::Revoked => "the token was revoked",
            },
        )
    })?;
    if !role.allows(needed) {
        app.metrics.rejection(http_codes::FORBIDDEN);
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            http_codes::FORBIDDEN,
            format!(
                "this endpoint needs the {} role; the token has the {} role",
                needed.as_str(),
                role.as_str()
            ),
        ));
    }
    Ok(role)
}

// -- request bodies ----------------------------------------------------------

/// Reads a body of at most `limit` bytes within the body timeout.
pub async fn read_body(
    app: &AppState,
    req: Request,
    limit: usize,
) -> Result<bytes_of::Bytes, Problem> {
    let too_large = |n: Option<u64>| {
        app.metrics.rejection(http_codes::BODY_TOO_LARGE);
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            http_codes::BODY_TOO_LARGE,
            match n {
                Some(n) => format!("the body is {n} bytes; the limit is {limit}"),
                None => format!("the body is larger than the limit of {limit} bytes"),
            },
        )
    };
    if let Some(n) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        if n > limit as u64 {
            return Err(too_large(Some(n)));
        }
    }
    let wait = Duration::from_millis(app.limits.body_timeout_ms);
    match tokio::time::timeout(wait, axum::body::to_bytes(req.into_body(), limit)).await {
        Err(_) => {
            app.metrics.rejection(http_codes::BODY_TIMEOUT);
            Err(Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                http_codes::BODY_TIMEOUT,
                format!("the body did not arrive within {} ms", wait.as_millis()),
            ))
        }
        Ok(Err(e)) => {
            let msg = format!("{e}");
            if msg.contains("length limit") {
                Err(too_large(None))
            } else {
                Err(Problem::bad_request(format!(
                    "reading the body failed: {msg}"
                )))
            }
        }
        Ok(Ok(b)) => Ok(b),
    }
}

/// `axum::body::Bytes`, named once.
pub mod bytes_of {
    pub use axum::body::Bytes;
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, serde_json::to_vec(v).unwrap_or_default()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A 200 answer of JSON bytes.
fn json_ok(body: axum::body::Bytes) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A live read (no as-of) already answered at the current size, if any.
fn cached(app: &AppState, uri: &axum::http::Uri, read: &ReadQ) -> Option<Response> {
    if read.as_of_seq.is_some() || read.as_of.is_some() {
        return None;
    }
    app.read_cache
        .get(&uri.to_string(), app.ledger.head().size)
        .map(json_ok)
}

/// Answers `a` and keeps it for the same URI at the size it reflects.
fn answer_bytes(app: &AppState, uri: &axum::http::Uri, read: &ReadQ, a: Answer) -> Response {
    if read.as_of_seq.is_none() && read.as_of.is_none() {
        app.read_cache.put(&uri.to_string(), a.size, a.body.clone());
    }
    json_ok(a.body)
}

/// Answers `v` (an envelope of [`Ctx::envelope`]) like [`answer_bytes`].
fn answer_cached(app: &AppState, uri: &axum::http::Uri, read: &ReadQ, v: &Value) -> Response {
    let body = axum::body::Bytes::from(serde_json::to_vec(v).unwrap_or_default());
    match v["as_of_seq"].as_u64() {
        Some(size) => answer_bytes(app, uri, read, Answer { size, body }),
        None => json_ok(body),
    }
}

fn blocking_err(e: tokio::task::JoinError) -> Problem {
    Problem::internal(format!("a worker failed: {e}"))
}

// -- writes ------------------------------------------------------------------

async fn post_statement(State(app): State<AppState>, req: Request) -> Result<Response, Problem> {
    let rid = req.extensions().get::<RequestId>().cloned();
    let body = read_body(&app, req, app.limits.body_bytes).await?;
    let ledger = app.ledger.clone();
    let before = ledger.head().size;
    let r = tokio::task::spawn_blocking(move || ledger.submit(&body))
        .await
        .map_err(blocking_err)?;
    match r {
        Ok(receipt) => {
            // A retry of a statement already appended gets the original receipt.
            let status = if receipt.seq < before {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(json_response(status, &receipt.to_json()))
        }
        Err(rej) => {
            app.metrics.refusal(&rej);
            tracing::info!(request_id = %rid.map(|r| r.0).unwrap_or_default(), code = %rej.code, "statement refused");
            Err(Problem::from_rejection(&rej))
        }
    }
}

async fn post_batch(State(app): State<AppState>, req: Request) -> Result<Response, Problem> {
    // Held while the body is read and appended: it bounds the memory of
    // batches in flight (each up to batch_body_bytes, copied once).
    let place = take_place(&app, &app.batches, || {
        format!(
            "{} batches are being received or appended, the limit; retry shortly",
            app.limits.batch_requests
        )
    })?;
    let body = read_body(&app, req, app.limits.batch_body_bytes).await?;
    // Each non-blank line with its 1-based number in the body (blank lines
    // are skipped but counted, so an answer names the line it answers).
    let statements = || {
        body.split(|b| *b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
    };
    // Counted before anything is copied: a body of many tiny lines must not
    // cost a copy per line before it is refused.
    let count = statements().count();
    if count == 0 {
        return Err(Problem::bad_request(
            "the batch is empty: send one canonical envelope per line (NDJSON)",
        ));
    }
    if count > app.limits.batch_items {
        app.metrics.rejection("batch_too_large");
        return Err(Problem::from_rejection(&events::codes::Rejection::new(
            events::codes::Code::BatchTooLarge,
            format!(
                "the batch has {count} statements; the limit is {}",
                app.limits.batch_items
            ),
        )));
    }
    let numbers: Vec<usize> = statements().map(|(i, _)| i + 1).collect();
    let lines: Vec<Vec<u8>> = statements().map(|(_, l)| l.to_vec()).collect();
    let ledger = app.ledger.clone();
    // The place goes with the work: a client that hangs up (or a request
    // that times out) drops this handler, not the append running for it.
    let results = tokio::task::spawn_blocking(move || {
        let _place = place;
        ledger.submit_batch(&lines)
    })
    .await
    .map_err(blocking_err)?;
    let mut out = Vec::new();
    for (r, line) in results.into_iter().zip(numbers) {
        let v = match r {
            Ok(receipt) => json!({"line": line, "receipt": receipt.to_json()}),
            Err(rej) => {
                app.metrics.refusal(&rej);
                json!({"line": line, "problem": Problem::from_rejection(&rej).to_json()})
            }
        };
        out.extend_from_slice(&serde_json::to_vec(&v).unwrap_or_default());
        out.push(b'\n');
    }
    let mut r = (StatusCode::OK, out).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(r)
}

// -- public: checkpoints, proofs, hashes ---------------------------------------

fn checkpoint_json(size: u64, note: &str) -> Value {
    let root = note.lines().nth(2).unwrap_or("").to_string();
    json!({"size": size, "root": root, "note": note})
}

async fn latest_checkpoint(State(app): State<AppState>) -> Response {
    let h = app.ledger.head();
    json_response(StatusCode::OK, &checkpoint_json(h.size, &h.checkpoint))
}

async fn checkpoint_at(
    State(app): State<AppState>,
    PathText(size): PathText,
) -> Result<Response, Problem> {
    let size: u64 = size.parse().map_err(|_| {
        Problem::bad_request(format!("size {size:?} is not a non-negative integer"))
    })?;
    match app.ledger.checkpoint_at(size)? {
        Some(note) => Ok(json_response(StatusCode::OK, &checkpoint_json(size, &note))),
        None => Err(Problem::not_found(format!(
            "no checkpoint was issued at size {size} (checkpoints end each batch; see /v1/checkpoint)"
        ))),
    }
}

#[derive(Deserialize)]
struct InclusionQ {
    seq: u64,
    size: Option<u64>,
}

fn query_err(e: impl std::fmt::Display) -> Problem {
    Problem::bad_request(format!("bad query: {e}"))
}

/// Inclusion proof with what an auditor needs to check it offline.
pub fn inclusion_json(app: &AppState, seq: u64, size: Option<u64>) -> Result<Value, Problem> {
    let head = app.ledger.head();
    let size = size.unwrap_or(head.size);
    if size == 0 || size > head.size {
        return Err(Problem::bad_request(format!(
            "size {size} is not a tree size of this ledger (1..={})",
            head.size
        )));
    }
    if seq >= size {
        return Err(Problem::bad_request(format!(
            "seq {seq} is not in the tree of size {size}"
        )));
    }
    let leaf = app
        .ledger
        .read_leaf(seq)
        .map_err(|e| Problem::internal(e.to_string()))?;
    let leaf_hash = events::merkle::leaf_hash(&leaf);
    let proof = app.ledger.inclusion_proof(seq, size)?;
    let root = app.ledger.root_at(size)?;
    let verified = events::merkle::verify_inclusion(seq, size, &leaf_hash, &proof, &root).is_ok();
    let note = app.ledger.checkpoint_at(size)?;
    Ok(json!({
        "seq": seq,
        "size": size,
        "leaf_hash": hex(&leaf_hash),
        "proof": proof.iter().map(|h| hex(h)).collect::<Vec<_>>(),
        "root": hex(&root),
        "verified_by_server": verified,
        "checkpoint": note,
        "verify_offline": format!("ledger verify-receipt or: ledger proof inclusion --data DIR --seq {seq} --size {size}"),
    }))
}

async fn inclusion(
    State(app): State<AppState>,
    q: Result<Query<InclusionQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(query_err)?;
    Ok(json_response(
        StatusCode::OK,
        &inclusion_json(&app, q.seq, q.size)?,
    ))
}

#[derive(Deserialize)]
struct ConsistencyQ {
    old: u64,
    new: Option<u64>,
}

async fn consistency(
    State(app): State<AppState>,
    q: Result<Query<ConsistencyQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(query_err)?;
    let head = app.ledger.head();
    let new = q.new.unwrap_or(head.size);
    if q.old == 0 || q.old > new || new > head.size {
        return Err(Problem::bad_request(format!(
            "need 1 <= old <= new <= {}; got old {} new {new}",
            head.size, q.old
        )));
    }
    let proof = app.ledger.consistency_proof(q.old, new)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "old": q.old,
            "new": new,
            "old_root": hex(&app.ledger.root_at(q.old)?),
            "new_root": hex(&app.ledger.root_at(new)?),
            "proof": proof.iter().map(|h| hex(h)).collect::<Vec<_>>(),
        }),
    ))
}

#[derive(Deserialize)]
struct RangeQ {
    from: Option<u64>,
    count: Option<usize>,
}

fn range(app: &AppState, q: &RangeQ) -> Result<std::ops::Range<u64>, Problem> {
    let size = app.ledger.head().size;
    let from = q.from.unwrap_or(0);
    let count = q.count.unwrap_or(app.limits.page_max);
    if count > app.limits.page_max {
        return Err(Problem::bad_request(format!(
            "count {count} is over the page limit of {}",
            app.limits.page_max
        )));
    }
    if from > size {
        return Err(Problem::bad_request(format!(
            "from {from} is beyond the ledger's size {size}"
        )));
    }
    Ok(from..(from + count as u64).min(size))
}

async fn leaf_hashes(
    State(app): State<AppState>,
    q: Result<Query<RangeQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(query_err)?;
    let r = range(&app, &q)?;
    let mut hashes = Vec::new();
    for seq in r.clone() {
        let leaf = app
            .ledger
            .read_leaf(seq)
            .map_err(|e| Problem::internal(e.to_string()))?;
        hashes.push(hex(&events::merkle::leaf_hash(&leaf)));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"from": r.start, "leaf_hashes": hashes}),
    ))
}

async fn records(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<RangeQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Auditor)?;
    let Query(q) = q.map_err(query_err)?;
    let r = range(&app, &q)?;
    let mut out = Vec::new();
    for seq in r {
        out.extend(
            app.ledger
                .read_leaf(seq)
                .map_err(|e| Problem::internal(e.to_string()))?,
        );
        out.push(b'\n');
    }
    let mut resp = (StatusCode::OK, out).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(resp)
}

/// A place of `places`, or 503 `overloaded` saying `why` (the limit that was
/// reached); the place is held until the permit is dropped.
fn take_place(
    app: &AppState,
    places: &Arc<tokio::sync::Semaphore>,
    why: impl FnOnce() -> String,
) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
    places.clone().try_acquire_owned().map_err(|_| {
        app.metrics.rejection(http_codes::OVERLOADED);
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            http_codes::OVERLOADED,
            why(),
        )
    })
}

/// A place among the open event streams, or 503 `overloaded`; it is held
/// until the stream ends.
fn stream_permit(
    app: &AppState,
    streams: &Arc<tokio::sync::Semaphore>,
) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
    take_place(app, streams, || {
        format!(
            "{} event streams of this kind are open, the limit; retry later",
            app.limits.streams_max
        )
    })
}

async fn tail_checkpoints(State(app): State<AppState>) -> Result<Response, Problem> {
    let permit = stream_permit(&app, &app.streams)?;
    let rx = app.heads.clone();
    let stream = tokio_stream::wrappers::WatchStream::new(rx);
    let stream = tokio_stream::StreamExt::map(stream, move |(size, note)| {
        // The stream owns its place; dropping the stream frees it.
        let _held = &permit;
        Ok::<_, std::convert::Infallible>(
            SseEvent::default()
                .event("checkpoint")
                .id(size.to_string())
                .data(checkpoint_json(size, &note).to_string()),
        )
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[derive(Deserialize)]
struct TailQ {
    from: Option<u64>,
}

async fn tail_records(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<TailQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Auditor)?;
    let Query(q) = q.map_err(query_err)?;
    let size = app.ledger.head().size;
    let from = q.from.unwrap_or(size);
    if from > size {
        return Err(Problem::bad_request(format!(
            "from {from} is beyond the ledger's size {size}"
        )));
    }
    let permit = stream_permit(&app, &app.record_streams)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<SseEvent, std::convert::Infallible>>(64);
    let ledger = app.ledger.clone();
    let mut heads = app.heads.clone();
    let page = app.limits.page_max as u64;
    let app2 = app.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let mut next = from;
        loop {
            let size = heads.borrow_and_update().0;
            while next < size {
                // A token revoked (or expired) while the stream is open ends
                // it before the next page of records.
                if require(&app2, &headers, Role::Auditor).is_err() {
                    return;
                }
                let end = (next + page).min(size);
                for seq in next..end {
                    let Ok(leaf) = ledger.read_leaf(seq) else {
                        return;
                    };
                    let ev = SseEvent::default()
                        .event("record")
                        .id(seq.to_string())
                        .data(String::from_utf8_lossy(&leaf));
                    if tx.send(Ok(ev)).await.is_err() {
                        return;
                    }
                }
                next = end;
            }
            // Waiting for the next record, the stream also ends when its
            // client goes (its slot is freed at once, not at the next
            // record) or its token is revoked or expires.
            tokio::select! {
                changed = heads.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = tx.closed() => return,
                () = tokio::time::sleep(TAIL_RECHECK) => {
                    if require(&app2, &headers, Role::Auditor).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// How often a quiet record stream re-checks its token.
const TAIL_RECHECK: std::time::Duration = std::time::Duration::from_secs(5);

// -- reads -------------------------------------------------------------------

/// Reads an optional number or boolean given as text (query strings are text,
/// and serde's `flatten` hands every value over as a string).
pub fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let s: Option<String> = Option::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|e| serde::de::Error::custom(format!("{v:?}: {e}"))),
    }
}

/// Refuses `at` on a list that is not judged at a time: taking it and
/// ignoring it would answer a question the reader did not ask.
fn no_at(q: &ReadQ, what: &str) -> Result<(), Problem> {
    match q.at {
        Some(_) => Err(Problem::bad_request(format!(
            "at does not apply to {what}: nothing in it is judged at a time (as_of and as_of_seq choose what the ledger knew)"
        ))),
        None => Ok(()),
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct ReadQ {
    #[serde(default, deserialize_with = "lenient")]
    pub as_of_seq: Option<u64>,
    pub as_of: Option<String>,
    pub at: Option<String>,
}

/// What a read reflects.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub size: u64,
    pub last_recorded_at: Timestamp,
    pub checkpoint: Option<(u64, String)>,
}

impl Ctx {
    pub fn envelope(&self, at: &Timestamp, what: &str, v: Value) -> Value {
        json!({
            "as_of_seq": self.size,
            "at": at.to_string(),
            "checkpoint": self.checkpoint.as_ref().map(|(s, n)| checkpoint_json(*s, n)),
            what: v,
        })
    }
}

/// A read's answer serialized once, straight from the view: the same object
/// as [`Ctx::envelope`] gives, without building a `Value` tree first.
pub struct Answer {
    /// The ledger size it reflects (`as_of_seq`).
    pub size: u64,
    pub body: axum::body::Bytes,
}

impl Ctx {
    /// The envelope of [`Ctx::envelope`] around `v`, serialized.
    pub fn answer<T: serde::Serialize>(&self, at: &Timestamp, what: &str, v: &T) -> Answer {
        let body = serde_json::to_vec(&Enveloped {
            ctx: self,
            at,
            what,
            v,
        })
        .unwrap_or_default();
        Answer {
            size: self.size,
            body: body.into(),
        }
    }
}

struct Enveloped<'a, T> {
    ctx: &'a Ctx,
    at: &'a Timestamp,
    what: &'a str,
    v: &'a T,
}

impl<T: serde::Serialize> serde::Serialize for Enveloped<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let checkpoint = self
            .ctx
            .checkpoint
            .as_ref()
            .map(|(size, note)| checkpoint_json(*size, note));
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("as_of_seq", &self.ctx.size)?;
        m.serialize_entry("at", &self.at.to_string())?;
        // Keys in sorted order, as `envelope`'s `json!` object has them.
        if self.what < "checkpoint" {
            m.serialize_entry(self.what, self.v)?;
            m.serialize_entry("checkpoint", &checkpoint)?;
        } else {
            m.serialize_entry("checkpoint", &checkpoint)?;
            m.serialize_entry(self.what, self.v)?;
        }
        m.end()
    }
}

/// Parses `as_of`: an RFC 3339 instant, or a date (the end of that day in Shanghai).
pub fn parse_time(name: &str, s: &str) -> Result<Timestamp, Problem> {
    if s.len() == 10 {
        let d = Date::parse(s).map_err(|e| Problem::bad_request(format!("{name}: {e}")))?;
        return Timestamp::from_shanghai_date_end(d)
            .map_err(|e| Problem::bad_request(format!("{name}: {e}")));
    }
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    events::time::OffsetTime::parse(s)
        .map(|o| o.instant())
        .map_err(|e| Problem::bad_request(format!("{name}: {e}")))
}

/// Runs `f` on the model the query asks for: the live model (every
/// acknowledged record) or a fold as of a past moment (cached), on the
/// blocking pool.
pub async fn with_read<T, F>(app: &AppState, q: &ReadQ, f: F) -> Result<(T, Ctx), Problem>
where
    T: Send + 'static,
    F: FnOnce(&Model, &Ctx) -> Result<T, Problem> + Send + 'static,
{
    read_on(app, q, f, false).await
}

/// [`with_read`] for reads bounded by one item (a case with its timeline, a
/// city record): on the live model they take well under a millisecond, so
/// they run on the request's own thread when the model is free (else on the
/// pool, as a batch being synced holds it). Handing them to the blocking pool
/// cost two thread switches per request, more than the read itself on two
/// cores (`ledger bench --parts http`: computed case reads at 32
/// connections, p99 6.97 ms handed off, 4.96 ms in place). As-of reads
/// fold the log and still go to the pool.
pub async fn with_small_read<T, F>(app: &AppState, q: &ReadQ, f: F) -> Result<(T, Ctx), Problem>
where
    T: Send + 'static,
    F: FnOnce(&Model, &Ctx) -> Result<T, Problem> + Send + 'static,
{
    read_on(app, q, f, true).await
}

async fn read_on<T, F>(app: &AppState, q: &ReadQ, f: F, in_place: bool) -> Result<(T, Ctx), Problem>
where
    T: Send + 'static,
    F: FnOnce(&Model, &Ctx) -> Result<T, Problem> + Send + 'static,
{
    let as_of = AsOf {
        seq: q.as_of_seq,
        time: q
            .as_of
            .as_deref()
            .map(|s| parse_time("as_of", s))
            .transpose()?,
    };
    let is_live = as_of.seq.is_none() && as_of.time.is_none();
    // In place only when the model is free: a batch holds it until it is
    // durable, and an async thread must not wait through an fsync.
    if in_place && is_live {
        if let Some(got) = app.ledger.try_read_model() {
            let (m, h) = got.map_err(unavailable)?;
            let ctx = live_ctx(&h);
            return f(&m, &ctx).map(|t| (t, ctx));
        }
    }
    let app = app.clone();
    if is_live {
        return tokio::task::spawn_blocking(move || live_read(&app, f))
            .await
            .map_err(blocking_err)?;
    }
    // A moment already folded at this size is answered from the cache: no
    // fold, no place among the as-of reads.
    if let Some(folded) = cached_fold(&app, &as_of) {
        return tokio::task::spawn_blocking(move || read_folded(&folded, f))
            .await
            .map_err(blocking_err)?;
    }
    // As-of reads fold the log from genesis: one at a time (anyone may ask
    // the public dashboard for any moment), with at most
    // `limits.as_of_reads` admitted (running or waiting), so that they
    // cannot hold the request places live reads need. The fold permit is
    // taken before the fold starts and released when it ends, so a request
    // that timed out while its fold runs on does not let another fold start
    // beside it.
    let place = take_place(&app, &app.as_of_reads, || {
        format!(
            "{} reads of past moments are running or waiting, the limit; \
             retry shortly (live reads are not limited by this)",
            app.limits.as_of_reads
        )
    })?;
    let fold_permit = app
        .as_of_folds
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Problem::internal("the service is stopping"))?;
    tokio::task::spawn_blocking(move || {
        let _held = (place, fold_permit);
        // The fold of a request ahead in the queue may be this one's.
        if let Some(folded) = cached_fold(&app, &as_of) {
            return read_folded(&folded, f);
        }
        let size = app.ledger.head().size;
        let folded = Arc::new(
            crate::reads::fold_durable(app.ledger.dir(), as_of, size).map_err(|e| {
                // A moment the ledger cannot show is the client's to fix;
                // trouble reading the log is not theirs to see.
                if e.is_request_error() {
                    Problem::bad_request(e.to_string())
                } else {
                    Problem::internal(e.to_string())
                }
            })?,
        );
        if let Ok(mut c) = app.as_of_cache.lock() {
            *c = Some((as_of, size, folded.clone()));
        }
        read_folded(&folded, f)
    })
    .await
    .map_err(blocking_err)?
}

/// The cached fold of `as_of`, if it was made at the ledger's current size.
fn cached_fold(app: &AppState, as_of: &AsOf) -> Option<Arc<Folded>> {
    let size = app.ledger.head().size;
    app.as_of_cache
        .lock()
        .ok()
        .and_then(|c| c.clone())
        .filter(|(a, s, _)| same_as_of(a, as_of) && *s == size)
        .map(|(_, _, f)| f)
}

fn read_folded<T, F>(folded: &Folded, f: F) -> Result<(T, Ctx), Problem>
where
    F: FnOnce(&Model, &Ctx) -> Result<T, Problem>,
{
    let ctx = Ctx {
        size: folded.size,
        last_recorded_at: folded.last_recorded_at,
        checkpoint: folded.checkpoint.clone(),
    };
    f(&folded.model, &ctx).map(|t| (t, ctx))
}

/// Runs `f` on the live model (every acknowledged record).
fn live_read<T, F>(app: &AppState, f: F) -> Result<(T, Ctx), Problem>
where
    F: FnOnce(&Model, &Ctx) -> Result<T, Problem>,
{
    app.ledger
        .with_model(|m, h| {
            let ctx = live_ctx(h);
            f(m, &ctx).map(|t| (t, ctx))
        })
        .map_err(unavailable)?
}

fn live_ctx(h: &crate::ledger::Head) -> Ctx {
    Ctx {
        size: h.size,
        last_recorded_at: h.last_recorded_at,
        checkpoint: Some((h.size, h.checkpoint.clone())),
    }
}

fn unavailable(e: crate::ledger::LedgerError) -> Problem {
    // The reason (an IO error, a path) goes to the server's log, not to the client.
    let mut p = Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        events::codes::Code::Unavailable.as_str(),
        "the ledger cannot answer from its model now (its writer stopped); reads resume after a restart",
    );
    p.internal = Some(e.to_string());
    p
}

fn same_as_of(a: &AsOf, b: &AsOf) -> bool {
    a.seq == b.seq && a.time == b.time
}

fn at_or(q: &ReadQ, default: Timestamp) -> Result<Timestamp, Problem> {
    q.at.as_deref()
        .map(|s| parse_time("at", s))
        .transpose()
        .map(|t| t.unwrap_or(default))
}

fn id_of(name: &str, s: &str) -> Result<Id, Problem> {
    Id::new(s).map_err(|e| Problem::bad_request(format!("{name}: {e}")))
}

#[derive(Deserialize, Default)]
struct CasesQ {
    city: Option<String>,
    state: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    overdue: Option<bool>,
    category: Option<String>,
    body: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    page: Option<usize>,
    #[serde(default, deserialize_with = "lenient")]
    per_page: Option<usize>,
    #[serde(flatten)]
    read: ReadQ,
}

/// A city by id or name (with or without 市).
pub fn find_city(m: &Model, name: &str) -> Option<Id> {
    m.bodies
        .iter()
        .find(|(id, b)| {
            b.kind == events::vocab::BodyKind::CityGovernment
                && (id.as_str() == name
                    || b.name.as_str() == name
                    || b.name.as_str().trim_end_matches('市') == name)
        })
        .map(|(id, _)| id.clone())
}

/// The page asked for (from 1) and the items before it, refused when the
/// page is 0 or lies beyond any list a `usize` can count.
fn page_skip(page: Option<usize>, size: usize) -> Result<(usize, usize), Problem> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(Problem::bad_request("page counts from 1"));
    }
    let skip = (page - 1)
        .checked_mul(size)
        .ok_or_else(|| Problem::bad_request(format!("page {page} is beyond any list")))?;
    Ok((page, skip))
}

/// The page of a list a query asks for: `page` (from 1) of `per_page`
/// items (default 50, at most `limits.page_max`).
struct Paging {
    page: usize,
    per_page: usize,
    skip: usize,
}

impl Paging {
    fn new(
        app: &AppState,
        page: Option<usize>,
        per_page: Option<usize>,
    ) -> Result<Paging, Problem> {
        let per_page = per_page.unwrap_or(50);
        if per_page == 0 || per_page > app.limits.page_max {
            return Err(Problem::bad_request(format!(
                "per_page must be 1..={}",
                app.limits.page_max
            )));
        }
        let (page, skip) = page_skip(page, per_page)?;
        Ok(Paging {
            page,
            per_page,
            skip,
        })
    }

    /// `{"page", "per_page", "total", "items"}`: the page of `items`, with
    /// how many there are in all.
    fn of<T: serde::Serialize>(&self, items: impl IntoIterator<Item = T>) -> Value {
        let mut total = 0usize;
        let mut shown = Vec::new();
        for item in items {
            if total >= self.skip && shown.len() < self.per_page {
                shown.push(serde_json::to_value(item).unwrap_or_default());
            }
            total += 1;
        }
        json!({"page": self.page, "per_page": self.per_page, "total": total, "items": shown})
    }
}

fn state_name(s: CaseState) -> String {
    match serde_json::to_value(s) {
        Ok(Value::String(s)) => s,
        _ => format!("{s:?}"),
    }
}

async fn cases(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<CasesQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    let Paging {
        page,
        per_page,
        skip,
    } = Paging::new(&app, q.page, q.per_page)?;
    let state = q
        .state
        .as_deref()
        .map(|s| {
            serde_json::from_value::<CaseState>(Value::String(s.to_string())).map_err(|_| {
                Problem::bad_request(format!(
                    "unknown state {s:?}: one of filed, accepted, rejected, in_progress, resolved, closed, withdrawn"
                ))
            })
        })
        .transpose()?;
    let category = q
        .category
        .as_deref()
        .map(|c| {
            Category::ALL
                .iter()
                .copied()
                .find(|k| k.name() == c)
                .ok_or_else(|| Problem::bad_request(format!("unknown category {c:?}")))
        })
        .transpose()?;
    let body = q.body.as_deref().map(|b| id_of("body", b)).transpose()?;
    let read = q.read.clone();
    let read_q = q.read.clone();
    let app2 = app.clone();
    let (v, ctx) = with_read(&app, &read_q, move |m, ctx| {
        let at = at_or(&read, ctx.last_recorded_at)?;
        let city = match q.city.as_deref() {
            Some(c) => {
                Some(find_city(m, c).ok_or_else(|| Problem::not_found(format!("no city {c:?}")))?)
            }
            None => None,
        };
        let mut matched = Vec::new();
        let mut total = 0usize;
        for (id, c) in m.cases.iter() {
            if city.as_ref().is_some_and(|x| &c.city != x)
                || category.is_some_and(|k| c.category != k)
                || state.is_some_and(|s| c.state != s)
            {
                continue;
            }
            if let Some(b) = &body {
                if m.responsible_today(c).as_ref() != Some(b) {
                    continue;
                }
            }
            let needs_view = q.overdue.is_some() || (total >= skip && matched.len() < per_page);
            let view = if needs_view {
                views::case_view(m, &app2.calendar, id, at)
            } else {
                None
            };
            if let Some(want) = q.overdue {
                if view.as_ref().is_some_and(|v| v.overdue.is_empty() == want) {
                    continue;
                }
            }
            if total >= skip && matched.len() < per_page {
                matched.push(view);
            }
            total += 1;
        }
        Ok(ctx.envelope(
            &at,
            "cases",
            json!({"page": page, "per_page": per_page, "total": total, "items": matched}),
        ))
    })
    .await?;
    let _ = ctx;
    Ok(json_response(StatusCode::OK, &v))
}

/// Every record of a case, read from the log, with the command that proves it.
pub fn timeline_lines(app: &AppState, m: &Model, case: &Id, proof_size: u64) -> Vec<TimelineLine> {
    let Some(c) = m.cases.get(case) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in &c.timeline {
        let Ok(leaf) = app.ledger.read_leaf(e.seq) else {
            continue;
        };
        let Ok(s) = Record::decode_head(&leaf) else {
            continue;
        };
        out.push(TimelineLine {
            seq: e.seq,
            recorded_at: s.recorded_at.to_string(),
            occurred_at: s.occurred_at.to_string(),
            kind: s.kind.name().to_string(),
            actor: s.actor.to_string(),
            acting_for: app
                .ledger
                .holder_of(&s.actor)
                .map_or_else(|| "the ledger".to_string(), |p| p.to_string()),
            statement_id: s.id,
            proof: format!("/v1/proof/inclusion?seq={}&size={proof_size}", e.seq),
        });
    }
    out
}

async fn case(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    PathText(id): PathText,
    q: Result<Query<ReadQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    if let Some(r) = cached(&app, &uri, &q) {
        return Ok(r);
    }
    let case = id_of("case", &id)?;
    let app2 = app.clone();
    let q2 = q.clone();
    let (v, _) = with_small_read(&app, &q, move |m, ctx| {
        let at = at_or(&q2, ctx.last_recorded_at)?;
        let view = views::case_view(m, &app2.calendar, &case, at).ok_or_else(|| {
            Problem::not_found(format!("no case {case} in the first {} records", ctx.size))
        })?;
        let proof_size = ctx.checkpoint.as_ref().map_or(ctx.size, |(s, _)| *s);
        let timeline = timeline_lines(&app2, m, &case, proof_size);
        // Fields in sorted order, as a `json!` object would have them.
        #[derive(serde::Serialize)]
        struct CaseAnswer {
            timeline: Vec<TimelineLine>,
            view: views::CaseView,
        }
        Ok(ctx.answer(&at, "case", &CaseAnswer { timeline, view }))
    })
    .await?;
    Ok(answer_bytes(&app, &uri, &q, v))
}

#[derive(Deserialize)]
struct PromisesQ {
    status: Option<String>,
    body: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    page: Option<usize>,
    #[serde(default, deserialize_with = "lenient")]
    per_page: Option<usize>,
    #[serde(flatten)]
    read: ReadQ,
}

async fn promises(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<PromisesQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    use views::PromiseQuery as P;
    let status = match q.status.as_deref() {
        None => None,
        Some("overdue") => Some(P::Overdue),
        Some("breached") => Some(P::Breached),
        Some("disputed") => Some(P::Disputed),
        Some(s) => {
            return Err(Problem::bad_request(format!(
                "status {s:?} is not one of overdue, breached, disputed"
            )))
        }
    };
    let body = q.body.as_deref().map(|b| id_of("body", b)).transpose()?;
    let paging = Paging::new(&app, q.page, q.per_page)?;
    let read = q.read.clone();
    let app2 = app.clone();
    let (v, _) = with_read(&app, &q.read, move |m, ctx| {
        let at = at_or(&read, ctx.last_recorded_at)?;
        let rows = views::promise_list(m, &app2.calendar, status, body.as_ref(), at);
        Ok(ctx.envelope(&at, "promises", paging.of(rows)))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &v))
}

#[derive(Deserialize)]
struct InspectionsQ {
    #[serde(default, deserialize_with = "lenient")]
    flagged: Option<bool>,
    #[serde(default, deserialize_with = "lenient")]
    page: Option<usize>,
    #[serde(default, deserialize_with = "lenient")]
    per_page: Option<usize>,
    #[serde(flatten)]
    read: ReadQ,
}

async fn inspections(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<InspectionsQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    no_at(&q.read, "inspections")?;
    let flagged = q.flagged.unwrap_or(false);
    let paging = Paging::new(&app, q.page, q.per_page)?;
    let (v, _) = with_read(&app, &q.read, move |m, ctx| {
        let rows = views::inspection_list(m, flagged);
        Ok(ctx.envelope(&ctx.last_recorded_at, "inspections", paging.of(rows)))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &v))
}

#[derive(Deserialize)]
struct CityQ {
    from: Option<String>,
    to: Option<String>,
    #[serde(flatten)]
    read: ReadQ,
}

async fn city(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    PathText(name): PathText,
    q: Result<Query<CityQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    if let Some(r) = cached(&app, &uri, &q.read) {
        return Ok(r);
    }
    let date = |n: &str, s: &Option<String>| -> Result<Option<Date>, Problem> {
        s.as_deref()
            .map(|s| Date::parse(s).map_err(|e| Problem::bad_request(format!("{n}: {e}"))))
            .transpose()
    };
    let (from, to) = (date("from", &q.from)?, date("to", &q.to)?);
    let app2 = app.clone();
    let read = q.read.clone();
    let (v, _) = with_small_read(&app, &q.read, move |m, ctx| {
        let city =
            find_city(m, &name).ok_or_else(|| Problem::not_found(format!("no city {name:?}")))?;
        let year = ctx.last_recorded_at.shanghai_date().year();
        let from = match from {
            Some(d) => d,
            None => Date::from_ymd(year, 1, 1).map_err(|e| Problem::internal(e.to_string()))?,
        };
        let to = match to {
            Some(d) => d,
            None => Date::from_ymd(year, 12, 31).map_err(|e| Problem::internal(e.to_string()))?,
        };
        if to < from {
            return Err(Problem::bad_request(format!(
                "to {to} is before from {from}"
            )));
        }
        // A date the calendar takes but whose day cannot end (9999-12-31)
        // is the caller's to change.
        let end = Timestamp::from_shanghai_date_end(to)
            .map_err(|e| Problem::bad_request(format!("to {to}: {e}")))?;
        let at = at_or(&read, end)?;
        let rec = views::city_record(m, &app2.calendar, &city, from, to, at);
        Ok(ctx.answer(&at, "city", &rec))
    })
    .await?;
    Ok(answer_bytes(&app, &uri, &q.read, v))
}

#[derive(Deserialize)]
struct RankingQ {
    #[serde(default, deserialize_with = "lenient")]
    year: Option<i32>,
    #[serde(flatten)]
    read: ReadQ,
}

/// The ranking of `year` (default: the latest year recorded) at its `at`.
pub fn ranking_of(
    app: &AppState,
    m: &Model,
    ctx: &Ctx,
    year: Option<i32>,
    read: &ReadQ,
) -> Result<(i32, Timestamp, Vec<views::RankRow>), Problem> {
    let year = year.unwrap_or_else(|| ctx.last_recorded_at.shanghai_date().year());
    let end =
        Date::from_ymd(year, 12, 31).map_err(|e| Problem::bad_request(format!("year: {e}")))?;
    let end = Timestamp::from_shanghai_date_end(end)
        .map_err(|e| Problem::bad_request(format!("year: {e}")))?;
    let at = at_or(read, end)?;
    Ok((year, at, views::ranking(m, &app.calendar, year, at)))
}

async fn ranking(
    State(app): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    q: Result<Query<RankingQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    if let Some(r) = cached(&app, &uri, &q.read) {
        return Ok(r);
    }
    let app2 = app.clone();
    let read = q.read.clone();
    let (v, _) = with_read(&app, &q.read, move |m, ctx| {
        let (year, at, rows) = ranking_of(&app2, m, ctx, q.year, &read)?;
        Ok(ctx.envelope(&at, "ranking", json!({"year": year, "rows": rows})))
    })
    .await?;
    Ok(answer_cached(&app, &uri, &q.read, &v))
}

async fn enterprise(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathText(id): PathText,
    q: Result<Query<ReadQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    let e = id_of("enterprise", &id)?;
    let app2 = app.clone();
    let q2 = q.clone();
    let (v, _) = with_read(&app, &q, move |m, ctx| {
        let at = at_or(&q2, ctx.last_recorded_at)?;
        let view = views::enterprise_view(m, &app2.calendar, &e, at)
            .ok_or_else(|| Problem::not_found(format!("no enterprise {e}")))?;
        Ok(ctx.envelope(
            &at,
            "enterprise",
            serde_json::to_value(view).unwrap_or_default(),
        ))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &v))
}

#[derive(Deserialize)]
struct ProjectsQ {
    city: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    page: Option<usize>,
    #[serde(default, deserialize_with = "lenient")]
    per_page: Option<usize>,
    #[serde(flatten)]
    read: ReadQ,
}

async fn projects(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<ProjectsQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    let date = |n: &str, s: &Option<String>| -> Result<Option<Date>, Problem> {
        s.as_deref()
            .map(|s| Date::parse(s).map_err(|e| Problem::bad_request(format!("{n}: {e}"))))
            .transpose()
    };
    let (from, to) = (date("from", &q.from)?, date("to", &q.to)?);
    no_at(&q.read, "projects")?;
    let city = q.city.clone();
    let paging = Paging::new(&app, q.page, q.per_page)?;
    let (v, _) = with_read(&app, &q.read, move |m, ctx| {
        let city = match city.as_deref() {
            Some(c) => {
                Some(find_city(m, c).ok_or_else(|| Problem::not_found(format!("no city {c:?}")))?)
            }
            None => None,
        };
        let rows = m
            .projects
            .values()
            .filter(|p| city.as_ref().is_none_or(|c| &p.city == c))
            .filter(|p| from.is_none_or(|d| p.signed.date() >= d))
            .filter(|p| to.is_none_or(|d| p.signed.date() <= d));
        Ok(ctx.envelope(&ctx.last_recorded_at, "projects", paging.of(rows)))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &v))
}

async fn rules_fired(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<RankingQ>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    require(&app, &headers, Role::Supervisor)?;
    let Query(q) = q.map_err(query_err)?;
    let app2 = app.clone();
    let read = q.read.clone();
    let (v, _) = with_read(&app, &q.read, move |m, ctx| {
        let year = q
            .year
            .unwrap_or_else(|| ctx.last_recorded_at.shanghai_date().year());
        // The same years the ranking serves.
        Date::from_ymd(year, 12, 31)
            .and_then(Timestamp::from_shanghai_date_end)
            .map_err(|e| Problem::bad_request(format!("year: {e}")))?;
        let at = at_or(&read, ctx.last_recorded_at)?;
        let mut rows = projections::evidence::rule_evidence(m, &app2.calendar, at, year);
        for r in &mut rows {
            for code in r.refusal_codes {
                r.evidence.push(projections::evidence::Evidence {
                    what: format!("statements refused as {code} by this server"),
                    count: app2.metrics.rule_refusals(code),
                });
            }
        }
        let out: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["fired"] = Value::Bool(r.fired());
                v
            })
            .collect();
        let fired = rows.iter().filter(|r| r.fired()).count();
        Ok(ctx.envelope(
            &at,
            "rules",
            json!({"year": year, "rows": out, "fired": fired, "total": rows.len()}),
        ))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &v))
}

// -- Open311 GeoReport v2 -----------------------------------------------------

fn category_label(c: Category) -> &'static str {
    match c {
        Category::ArbitraryFees => "乱收费 arbitrary fees",
        Category::RepeatedInspections => "多头检查 repeated inspections",
        Category::RoughEnforcement => "执法粗暴 rough enforcement",
        Category::PolicyNotHonoured => "政策不兑现 policy not honoured",
        Category::BuckPassing => "推诿扯皮 buck-passing",
        Category::PaymentArrears => "货款拖欠 payment arrears",
        Category::ApprovalDelay => "审批延误 approval delay",
        Category::TradeDispute => "经济纠纷 trade dispute",
        Category::LandAndConstruction => "土地与建设 land and construction",
        Category::Other => "其他 other",
    }
}

async fn o311_services() -> Response {
    let v: Vec<Value> = Category::ALL
        .iter()
        .map(|c| {
            json!({
                "service_code": c.name(),
                "service_name": category_label(*c),
                "description": format!("Complaints by investing enterprises: {}", category_label(*c)),
                "metadata": false,
                "type": "realtime",
                "keywords": "investor complaint",
                "group": "investment environment",
            })
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(v))
}

/// A case as an Open311 service request. It names no complainant (no
/// enterprise, no person, no credit code) and no amount: only the category,
/// the state, the city and the body responsible, and the dates.
fn o311_request_of(app: &AppState, m: &Model, id: &Id, at: Timestamp) -> Option<Value> {
    let c = m.cases.get(id)?;
    let v = views::case_view(m, &app.calendar, id, at)?;
    let name = |b: &Id| {
        m.bodies
            .get(b)
            .map_or_else(|| b.to_string(), |x| x.name.to_string())
    };
    let open = c.state.is_open();
    let expected = v.result_due.date.map(|d| format!("{d}T18:00:00+08:00"));
    let overdue: Vec<String> = v.overdue.iter().map(|o| format!("{o:?}")).collect();
    Some(json!({
        "service_request_id": id.as_str(),
        "status": if open { "open" } else { "closed" },
        "status_notes": format!("{}{}", state_name(c.state), if overdue.is_empty() { String::new() } else { format!("; overdue: {}", overdue.join(", ")) }),
        "service_name": category_label(c.category),
        "service_code": c.category.name(),
        "description": format!("{} complaint in {}", category_label(c.category), name(&c.city)),
        "agency_responsible": m.responsible_today(c).map(|b| name(&b)),
        "service_notice": "",
        "requested_datetime": c.filed.occurred_at.to_string(),
        "updated_datetime": c.timeline.last().map(|t| t.occurred_at.to_string()),
        "expected_datetime": expected,
        "address": name(&c.city),
        "zipcode": Value::Null,
    }))
}

#[derive(Deserialize)]
struct O311Q {
    status: Option<String>,
    service_code: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    page: Option<usize>,
    #[serde(default, deserialize_with = "lenient")]
    page_size: Option<usize>,
}

async fn o311_requests(
    State(app): State<AppState>,
    q: Result<Query<O311Q>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(query_err)?;
    if let Some(s) = q.status.as_deref() {
        if s != "open" && s != "closed" {
            return Err(Problem::bad_request("status is open or closed"));
        }
    }
    let size = q.page_size.unwrap_or(100);
    if size == 0 || size > app.limits.page_max {
        return Err(Problem::bad_request(format!(
            "page_size must be 1..={}",
            app.limits.page_max
        )));
    }
    let (_, skip) = page_skip(q.page, size)?;
    let app2 = app.clone();
    let (v, _) = with_read(&app, &ReadQ::default(), move |m, ctx| {
        let mut out = Vec::new();
        let mut seen = 0usize;
        for (id, c) in m.cases.iter() {
            let open = c.state.is_open();
            if q.status.as_deref().is_some_and(|s| (s == "open") != open)
                || q.service_code
                    .as_deref()
                    .is_some_and(|s| c.category.name() != s)
            {
                continue;
            }
            seen += 1;
            if seen <= skip {
                continue;
            }
            if out.len() == size {
                break;
            }
            if let Some(r) = o311_request_of(&app2, m, id, ctx.last_recorded_at) {
                out.push(r);
            }
        }
        Ok(Value::Array(out))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &v))
}

async fn o311_request(
    State(app): State<AppState>,
    PathText(file): PathText,
) -> Result<Response, Problem> {
    let id = file.strip_suffix(".json").ok_or_else(|| {
        Problem::not_found("Open311 requests are served as /open311/v2/requests/{id}.json")
    })?;
    let id = id_of("id", id)?;
    let app2 = app.clone();
    let (v, _) = with_read(&app, &ReadQ::default(), move |m, ctx| {
        o311_request_of(&app2, m, &id, ctx.last_recorded_at)
            .map(|r| Value::Array(vec![r]))
            .ok_or_else(|| Problem::not_found(format!("no service request {id}")))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &v))
}

// -- documentation and metrics -------------------------------------------------

pub fn openapi_doc() -> Value {
    let mut paths = serde_json::Map::new();
    for d in ROUTES {
        let mut params: Vec<Value> = Vec::new();
        for seg in d.path.split('/') {
            if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                params.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
            }
        }
        for (name, desc) in d.query {
            params.push(json!({"name": name, "in": "query", "required": false, "description": desc, "schema": {"type": "string"}}));
        }
        let security = match d.access {
            Access::Needs(_) => json!([{"bearer": []}]),
            _ => json!([]),
        };
        let role = match d.access {
            Access::Public => "public".to_string(),
            Access::Signed => "authorised by the statement's own Ed25519 signature".to_string(),
            Access::Needs(r) => format!("needs a token with the {} role", r.as_str()),
        };
        let mut op = json!({
            "summary": d.summary,
            "description": role,
            "parameters": params,
            "security": security,
            "responses": {
                "200": {"description": "OK"},
                "default": {"description": "an RFC 9457 problem with a stable code", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            }
        });
        if d.method == "post" {
            op["requestBody"] = json!({"required": true, "content": {
                if d.path.ends_with("batch") { "application/x-ndjson" } else { "application/json" }: {"schema": {"type": "string"}}
            }});
        }
        let entry = paths.entry(d.path.to_string()).or_insert_with(|| json!({}));
        entry[d.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Government–enterprise audit ledger", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": {"type": "object", "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "code": {"type": "string"}
            }, "required": ["type", "title", "status", "code"]}}
        }
    })
}

async fn openapi() -> Response {
    json_response(StatusCode::OK, &openapi_doc())
}

async fn metrics(State(app): State<AppState>) -> Response {
    let text = app
        .metrics
        .render(&app.ledger.stats(), app.ledger.head().size);
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// An empty body (kept for handlers that answer 204).
pub fn empty() -> Body {
    Body::empty()
}
