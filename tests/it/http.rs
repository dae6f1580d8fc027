//! The HTTP service over real HTTP on port 0, each test on its own temporary
//! data directory: every endpoint, authentication failures, and bad input
//! (each a problem+json with its stable code, appending nothing).

use crate::support::*;
use ed25519_dalek::Signer;
use events::vocab::*;
use ledger::serve::auth::{self, Role as TokenRole};
use ledger::serve::{start, Limits, Running};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response as the test reads it.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// Asserts an RFC 9457 problem with this status and code.
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "want {status} {code}, got {}: {}",
            self.status,
            self.text()
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let v = self.json();
        assert_eq!(v["code"], code, "{v}");
        assert_eq!(v["status"], status);
        assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()));
        v
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(i) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(
            std::str::from_utf8(&b[..i])
                .unwrap()
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    read_response(&mut s)
}

/// Reads one response: the head, then a Content-Length body, a chunked body
/// up to its last chunk, or else everything until the peer closes (some
/// peers, ChromeDriver among them, keep the connection open).
pub fn read_response(s: &mut TcpStream) -> Resp {
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
            let body = &raw[end + 4..];
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            let done = match len {
                Some(n) => body.len() >= n,
                None if head.contains("transfer-encoding: chunked") => {
                    body.windows(5).any(|w| w == b"0\r\n\r\n")
                }
                None => false,
            };
            if done {
                break;
            }
        }
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    parse(&raw)
}

pub fn parse(raw: &[u8]) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

pub fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> Resp {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut h = Vec::new();
    if let Some(a) = &auth {
        h.push(("Authorization", a.as_str()));
    }
    request(addr, "GET", path, &h, b"")
}

/// `ledger serve` on port 0 over `data`, with the runtime that runs it.
pub fn serve(data: &std::path::Path, limits: Limits) -> (tokio::runtime::Runtime, Running) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let running = rt.block_on(start(data, "127.0.0.1:0", limits)).unwrap();
    (rt, running)
}

/// A server on port 0 over a fixture ledger holding one complaint case.
pub struct Served {
    pub f: Fixture,
    pub rt: tokio::runtime::Runtime,
    pub running: Option<Running>,
    pub addr: SocketAddr,
    pub supervisor: String,
    pub auditor: String,
}

impl Served {
    pub fn new(limits: Limits) -> Served {
        let (f, l) = Fixture::new();
        let ent = f.enterprise_key(&l);
        l.submit(&f.sign(&ent, f.complaint(&ent, "case-1")))
            .unwrap();
        l.close().unwrap();
        let (supervisor, _) = auth::create(&f.data(), TokenRole::Supervisor, "test").unwrap();
        let (auditor, _) = auth::create(&f.data(), TokenRole::Auditor, "test").unwrap();
        let (rt, running) = serve(&f.data(), limits);
        let addr = running.addr;
        Served {
            f,
            rt,
            running: Some(running),
            addr,
            supervisor,
            auditor,
        }
    }

    pub fn size(&self) -> u64 {
        get(self.addr, "/v1/checkpoint", None).json()["size"]
            .as_u64()
            .unwrap()
    }

    pub fn post(&self, path: &str, body: &[u8]) -> Resp {
        request(
            self.addr,
            "POST",
            path,
            &[("Content-Type", "application/json")],
            body,
        )
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = self.rt.block_on(r.stop());
        }
    }
}

#[test]
fn every_endpoint_answers_with_what_it_documents() {
    let s = Served::new(Limits::default());
    let sup = Some(s.supervisor.as_str());
    let aud = Some(s.auditor.as_str());
    let size = s.size();
    assert!(size >= 8, "fixture size {size}");

    let cp = get(s.addr, "/v1/checkpoint", None).json();
    assert!(cp["note"]
        .as_str()
        .unwrap()
        .contains(&format!("\n{size}\n")));
    let at = get(s.addr, &format!("/v1/checkpoint/{size}"), None).json();
    assert_eq!(at["note"], cp["note"]);

    let inc = get(
        s.addr,
        &format!("/v1/proof/inclusion?seq=3&size={size}"),
        None,
    )
    .json();
    assert_eq!(inc["verified_by_server"], true);
    // The auditor checks the proof offline against the checkpoint's root.
    let hexh = |v: &Value| -> [u8; 32] {
        let s = v.as_str().unwrap();
        let mut h = [0u8; 32];
        for i in 0..32 {
            h[i] = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        h
    };
    let proof: Vec<[u8; 32]> = inc["proof"].as_array().unwrap().iter().map(hexh).collect();
    events::merkle::verify_inclusion(
        3,
        size,
        &hexh(&inc["leaf_hash"]),
        &proof,
        &hexh(&inc["root"]),
    )
    .unwrap();

    let con = get(
        s.addr,
        &format!("/v1/proof/consistency?old=2&new={size}"),
        None,
    )
    .json();
    // The consistency proof too, from the roots the signed checkpoints state.
    let cons: Vec<[u8; 32]> = con["proof"].as_array().unwrap().iter().map(hexh).collect();
    events::merkle::verify_consistency(
        2,
        size,
        &hexh(&con["old_root"]),
        &hexh(&con["new_root"]),
        &cons,
    )
    .unwrap();
    assert_eq!(con["new_root"], inc["root"]);
    let mut bad = cons.clone();
    bad[0][0] ^= 1;
    assert!(events::merkle::verify_consistency(
        2,
        size,
        &hexh(&con["old_root"]),
        &hexh(&con["new_root"]),
        &bad
    )
    .is_err());
    let lh = get(s.addr, "/v1/leaf-hashes?from=0&count=3", None).json();
    assert_eq!(lh["leaf_hashes"].as_array().unwrap().len(), 3);

    let recs = get(s.addr, "/v1/records?from=0&count=2", aud);
    assert_eq!(recs.status, 200);
    assert_eq!(recs.text().lines().count(), 2);
    assert!(recs.text().starts_with("{\"format\":1,"));

    let cases = get(s.addr, "/v1/cases", sup).json();
    assert_eq!(cases["cases"]["total"], 1);
    assert_eq!(cases["as_of_seq"], size);
    assert!(cases["checkpoint"]["note"].is_string());
    let case = get(s.addr, "/v1/cases/case-1", sup).json();
    assert_eq!(case["case"]["view"]["id"], "case-1");
    assert_eq!(case["case"]["timeline"].as_array().unwrap().len(), 1);
    // Promises and inspections: the fixture has none yet (see
    // `flagged_inspections_and_their_derived_cases_are_served` for content).
    let promises = get(s.addr, "/v1/promises", sup).json();
    assert_eq!(
        promises["promises"]["items"].as_array().map(Vec::len),
        Some(0),
        "{promises}"
    );
    assert_eq!(promises["as_of_seq"], size);
    let insp = get(s.addr, "/v1/inspections?flagged=true", sup).json();
    assert_eq!(
        insp["inspections"]["items"].as_array().map(Vec::len),
        Some(0),
        "{insp}"
    );
    assert_eq!(insp["as_of_seq"], size);
    let city = get(s.addr, "/v1/cities/changsha", sup).json();
    assert_eq!(city["city"]["city"], "changsha");
    let ranking = get(s.addr, "/v1/ranking", sup).json();
    assert!(ranking["ranking"]["rows"].is_array());
    let ent = get(s.addr, "/v1/enterprises/ent-1", sup).json();
    assert_eq!(ent["enterprise"]["id"], "ent-1");

    // As of an earlier seq, the case did not exist yet.
    let before = get(
        s.addr,
        &format!("/v1/cases/case-1?as_of_seq={}", size - 1),
        sup,
    );
    before.problem(404, "not_found");
    let early = get(s.addr, &format!("/v1/cases?as_of_seq={}", size - 1), sup).json();
    assert_eq!(early["cases"]["total"], 0);
    assert_eq!(early["as_of_seq"], size - 1);
    // A moment beyond the ledger is the client's mistake, and said so.
    let beyond =
        get(s.addr, &format!("/v1/cases?as_of_seq={}", size + 5), sup).problem(400, "bad_request");
    assert!(
        beyond["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("beyond the ledger's size {size}"))),
        "{beyond}"
    );

    let services = get(s.addr, "/open311/v2/services.json", None).json();
    assert!(services
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["service_code"] == "trade_dispute"));
    let reqs = get(s.addr, "/open311/v2/requests.json", None).json();
    assert_eq!(reqs[0]["service_request_id"], "case-1");
    assert_eq!(reqs[0]["status"], "open");
    let one = get(s.addr, "/open311/v2/requests/case-1.json", None).json();
    assert_eq!(one[0]["service_code"], "trade_dispute");

    let api = get(s.addr, "/openapi.json", None).json();
    assert_eq!(api["openapi"], "3.1.0");
    for d in ledger::serve::api::ROUTES {
        assert!(
            api["paths"][d.path][d.method].is_object(),
            "{} {}",
            d.method,
            d.path
        );
    }
    let m = get(s.addr, "/metrics", None);
    assert!(m.text().contains(&format!("ledger_records {size}")));
    // A batch's commit includes its write and fdatasync.
    let metric = |name: &str| -> f64 {
        let text = m.text();
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from /metrics"));
        line[name.len() + 1..].parse().unwrap()
    };
    assert_eq!(
        metric("ledger_commit_seconds_count"),
        metric("ledger_fsync_seconds_count")
    );
    assert!(metric("ledger_commit_seconds_sum") >= metric("ledger_fsync_seconds_sum"));
    assert!(m
        .text()
        .contains("http_requests_total{route=\"/v1/cases\",status=\"200\"}"));

    // Server-sent events: the current checkpoint arrives first.
    let mut st = TcpStream::connect(s.addr).unwrap();
    st.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(st, "GET /v1/tail/checkpoints HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("event: checkpoint") {
        let n = st.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).contains("text/event-stream"));

    // The live tail of records (auditor role): from seq 1, each event one leaf.
    let mut st = TcpStream::connect(s.addr).unwrap();
    st.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        st,
        "GET /v1/tail/records?from=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        s.auditor
    )
    .unwrap();
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("id: 2\n") {
        let n = st.read(&mut buf).unwrap();
        assert!(n > 0, "stream ended early");
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.contains("event: record\nid: 1\ndata: {\"format\":1,"),
        "{text}"
    );
    let leaf1 = s.running.as_ref().unwrap().app.ledger.read_leaf(1).unwrap();
    assert!(text.contains(&String::from_utf8(leaf1).unwrap()));
}

/// The dashboard's enterprise page and sign-out, over plain HTTP (the
/// browser test covers the rest of the dashboard).
#[test]
fn the_enterprise_page_needs_a_session_and_sign_out_ends_it() {
    let s = Served::new(Limits::default());
    let r = get(s.addr, "/enterprise/ent-1", None);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(r.header("location"), Some("/login"));
    let login = request(
        s.addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("token={}", s.supervisor).as_bytes(),
    );
    let set = login
        .header("set-cookie")
        .expect("a session cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let page = request(
        s.addr,
        "GET",
        "/enterprise/ent-1",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.text().contains("ent-1") && page.text().contains("case-1"),
        "{}",
        page.text()
    );
    let out = request(s.addr, "POST", "/logout", &[("Cookie", &cookie)], b"");
    assert_eq!(out.status, 303);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    // The old cookie no longer opens anything.
    let after = request(
        s.addr,
        "GET",
        "/enterprise/ent-1",
        &[("Cookie", &cookie)],
        b"",
    );
    assert_eq!(after.status, 303);
    assert_eq!(after.header("location"), Some("/login"));
}

/// Inspections with their flags and the case the ledger derives from a
/// flagged one (R13/R14), as the read endpoints serve them.
#[test]
fn flagged_inspections_and_their_derived_cases_are_served() {
    let (f, l) = Fixture::new();
    let receipt = f.unapproved_inspection(&l);
    let size = l.head().size;
    l.close().unwrap();
    let (token, _) = auth::create(&f.data(), TokenRole::Supervisor, "test").unwrap();
    let (rt, running) = serve(&f.data(), Limits::default());
    let addr = running.addr;
    let insp = get(addr, "/v1/inspections?flagged=true", Some(&token)).json();
    let list = insp["inspections"]["items"]
        .as_array()
        .expect("inspections");
    assert_eq!(insp["inspections"]["total"], 1, "{insp}");
    assert_eq!(list.len(), 1, "{insp}");
    assert!(list[0].to_string().contains("unapproved"), "{insp}");
    let cases = get(addr, "/v1/cases", Some(&token)).json();
    assert_eq!(cases["cases"]["total"], 1, "{cases}");
    assert_eq!(cases["as_of_seq"], size);
    let derived = get(
        addr,
        &format!("/v1/cases/auto-{}", receipt.seq),
        Some(&token),
    )
    .json();
    assert_eq!(
        derived["case"]["view"]["category"], "repeated_inspections",
        "{derived}"
    );
    assert_eq!(derived["case"]["view"]["enterprise"], "ent-1");
    let line = &derived["case"]["timeline"][0];
    assert_eq!(line["statement_id"], format!("auto:{}", receipt.seq));
    assert_eq!(line["acting_for"], "the ledger");
    rt.block_on(running.stop()).unwrap();
}

/// An NDJSON batch of `n` body registrations named `prefix-0`, `prefix-1`, …
fn registrations(s: &Served, prefix: &str, n: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for i in 0..n {
        body.extend_from_slice(&s.f.sign(&s.f.registrar, s.f.body(&format!("{prefix}-{i}"))));
        body.push(b'\n');
    }
    body
}

/// Posts an NDJSON batch; its answer, a JSON value per line.
fn post_batch(s: &Served, body: &[u8]) -> Vec<Value> {
    let r = request(
        s.addr,
        "POST",
        "/v1/statements/batch",
        &[("Content-Type", "application/x-ndjson")],
        body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn unknown_query_parameters_are_refused_by_name() {
    let s = Served::new(Limits::default());
    let sup = Some(s.supervisor.as_str());
    // A misspelt filter would otherwise answer every case.
    let p = get(s.addr, "/v1/cases?stat=filed", sup).problem(400, "bad_request");
    let d = p["detail"].as_str().unwrap();
    assert!(d.contains("unknown query parameter \"stat\""), "{d}");
    assert!(
        d.contains("GET /v1/cases takes city, state, overdue"),
        "{d}"
    );
    let p = get(s.addr, "/v1/checkpoint?size=3", None).problem(400, "bad_request");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .ends_with("GET /v1/checkpoint takes none"),
        "{p}"
    );
    let p = get(s.addr, "/v1/cases?%FF=1", sup).problem(400, "bad_request");
    assert!(p["detail"].as_str().unwrap().contains("not UTF-8"), "{p}");
    // Known names, escaped or not, and empty pairs pass.
    assert_eq!(
        get(s.addr, "/v1/cases?st%61te=filed&&page=1", sup).status,
        200
    );
    // A route read as of a moment lets `at` through to say it does not apply.
    let p = get(s.addr, "/v1/inspections?at=2006-05-01T00:00:00Z", sup).problem(400, "bad_request");
    assert!(
        p["detail"].as_str().unwrap().contains("at does not apply"),
        "{p}"
    );
    // Open311 clients send the standard's parameters we do not serve.
    let r = get(
        s.addr,
        "/open311/v2/requests.json?jurisdiction_id=hunan",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn batches_in_flight_are_bounded() {
    let s = Served::new(Limits {
        batch_requests: 1,
        body_timeout_ms: 30_000,
        ..Limits::default()
    });
    let mut line = s.f.sign(&s.f.registrar, s.f.body("batch-bound-1"));
    line.push(b'\n');
    let post = |body: &[u8]| {
        request(
            s.addr,
            "POST",
            "/v1/statements/batch",
            &[("Content-Type", "application/x-ndjson")],
            body,
        )
    };
    // A batch whose body is still arriving holds the one place. Whether its
    // handler has taken it when the probe comes is a matter of scheduling:
    // when the probe had the place first (and was answered), try again.
    let mut held = None;
    for _ in 0..50 {
        let mut slow = TcpStream::connect(s.addr).unwrap();
        write!(
            slow,
            "POST /v1/statements/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: {}\r\n\r\n",
            line.len() + 1000
        )
        .unwrap();
        slow.write_all(&line).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let r = post(&line);
        if r.status == 503 {
            held = Some((slow, r));
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let (slow, refused) = held.expect("a batch whose body is arriving holds the place");
    let p = refused.problem(503, "overloaded");
    assert!(p["detail"].as_str().unwrap().contains("1 batches"), "{p}");
    // Single statements are not limited by it.
    let one = s.f.sign(&s.f.registrar, s.f.body("batch-bound-2"));
    assert_eq!(s.post("/v1/statements", &one).status, 201);
    // The place is freed when that client goes.
    drop(slow);
    let mut answered = None;
    for _ in 0..100 {
        let r = post(&line);
        if r.status == 200 {
            answered = Some(r);
            break;
        }
        assert_eq!(r.status, 503, "{}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = answered.expect("the place is freed");
    assert!(r.text().contains("\"receipt\""), "{}", r.text());
}

#[test]
fn a_moment_inside_a_batch_just_appended_is_read_at_once() {
    let s = Served::new(Limits::default());
    let before = s.size();
    let body = registrations(&s, "moment-body", 50);
    assert!(post_batch(&s, &body)
        .iter()
        .all(|l| l["receipt"].is_object()));
    // The server is the writer and knows what is durable; the marker it
    // publishes for other processes may lag by 50 ms. Make it lag: once the
    // writer has published (it does not write the marker again until the
    // next batch), set it back to the size before the batch.
    std::thread::sleep(Duration::from_millis(300));
    let marker = s.f.data().join("log").join("durable");
    assert_eq!(
        std::fs::read(&marker).unwrap()[..8],
        (before + 50).to_le_bytes()
    );
    std::fs::write(&marker, before.to_le_bytes()).unwrap();
    let asked = before + 20;
    let r = get(
        s.addr,
        &format!("/v1/cases?as_of_seq={asked}"),
        Some(&s.supervisor),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["as_of_seq"], asked);
    // No checkpoint has exactly that size: the batch's covers it.
    assert_eq!(v["checkpoint"]["size"], before + 50, "{v}");
}

#[test]
fn reads_of_past_moments_wait_in_a_bounded_queue() {
    let s = Served::new(Limits {
        as_of_reads: 1,
        ..Limits::default()
    });
    // Enough records that a fold takes a while.
    let body = registrations(&s, "fold-body", 400);
    assert!(post_batch(&s, &body)
        .iter()
        .all(|l| l["receipt"].is_object()));
    let size = s.size();
    // Many past moments asked at once: one fold runs, one place in all, so
    // the others are refused at once rather than holding request places.
    let start = std::sync::Arc::new(std::sync::Barrier::new(24));
    let asks: Vec<_> = (0..24u64)
        .map(|i| {
            let (addr, token, start) = (s.addr, s.supervisor.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                get(
                    addr,
                    &format!("/v1/cases?as_of_seq={}", size - 1 - i),
                    Some(&token),
                )
            })
        })
        .collect();
    let answers: Vec<Resp> = asks.into_iter().map(|t| t.join().unwrap()).collect();
    let mut refused = 0;
    for r in &answers {
        if r.status == 503 {
            let p = r.problem(503, "overloaded");
            assert!(
                p["detail"].as_str().unwrap().contains("past moments"),
                "{p}"
            );
            refused += 1;
        } else {
            assert_eq!(r.status, 200, "{}", r.text());
        }
    }
    assert!(
        refused > 0,
        "24 folds asked at once with one place: none refused"
    );
    assert!(refused < 24, "the first fold asked is admitted");
    // Live reads are not limited by it, and a refused moment is answered
    // once the queue is free.
    assert_eq!(get(s.addr, "/v1/cases", Some(&s.supervisor)).status, 200);
    let r = answers.iter().position(|r| r.status == 503).unwrap() as u64;
    let again = format!("/v1/cases?as_of_seq={}", size - 1 - r);
    assert_eq!(get(s.addr, &again, Some(&s.supervisor)).status, 200);
}

#[test]
fn writes_return_receipts_and_a_retry_is_safe() {
    let s = Served::new(Limits::default());
    let before = s.size();
    let env = s.f.sign(&s.f.registrar, s.f.body("http-body-1"));
    let r = s.post("/v1/statements", &env);
    assert_eq!(r.status, 201, "{}", r.text());
    let receipt = r.json();
    assert_eq!(receipt["seq"], before);
    let again = s.post("/v1/statements", &env);
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json(), receipt);
    assert_eq!(s.size(), before + 1);

    // A batch: one good line, one bad one; each line answers for itself.
    let good = s.f.sign(&s.f.registrar, s.f.body("http-body-2"));
    let mut body = good.clone();
    body.push(b'\n');
    body.extend_from_slice(b"{not json}\n");
    let lines = post_batch(&s, &body);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["receipt"]["seq"], before + 1);
    assert_eq!(lines[1]["problem"]["code"], "malformed_json");
    assert_eq!(s.size(), before + 2);

    let m = get(s.addr, "/metrics", None).text();
    assert!(
        m.contains("ledger_rejections_total{code=\"malformed_json\"} 1"),
        "{m}"
    );
    // Each answer names its line of the body; blank lines are skipped but
    // counted.
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[1]["line"].as_u64()),
        (Some(1), Some(2))
    );
    let mut body = b"\n".to_vec();
    body.extend_from_slice(&s.f.sign(&s.f.registrar, s.f.body("http-body-3")));
    body.extend_from_slice(b"\r\n\n{not json}\n");
    let lines = post_batch(&s, &body);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["line"], 2, "{lines:?}");
    assert!(lines[0]["receipt"].is_object(), "{lines:?}");
    assert_eq!(lines[1]["line"], 4, "{lines:?}");
    assert_eq!(lines[1]["problem"]["code"], "malformed_json");
}

#[test]
fn authentication_failures_are_problems() {
    let s = Served::new(Limits::default());
    get(s.addr, "/v1/cases", None).problem(401, "unauthorized");
    get(s.addr, "/v1/cases", Some("lt1.000000000000.nonsense")).problem(401, "unauthorized");
    let r = request(
        s.addr,
        "GET",
        "/v1/cases",
        &[("Authorization", "Basic abc")],
        b"",
    );
    r.problem(401, "unauthorized");
    // A supervisor may not read the records themselves.
    get(s.addr, "/v1/records", Some(&s.supervisor)).problem(403, "forbidden");
    get(s.addr, "/v1/tail/records", Some(&s.supervisor)).problem(403, "forbidden");
    assert_eq!(get(s.addr, "/v1/records", Some(&s.auditor)).status, 200);
    // A revoked token stops working at once, without a restart.
    let id = s.supervisor.split('.').nth(1).unwrap().to_string();
    auth::revoke(&s.f.data(), &id).unwrap();
    let v = get(s.addr, "/v1/cases", Some(&s.supervisor)).problem(401, "unauthorized");
    assert!(v["detail"].as_str().unwrap().contains("revoked"));
    // Tokens are stored only as hashes.
    let stored = std::fs::read_to_string(s.f.data().join("tokens.json")).unwrap();
    assert!(!stored.contains(&s.auditor));
    assert!(!stored.contains(s.auditor.rsplit('.').next().unwrap()));
}

#[test]
fn bad_input_is_refused_with_its_code_and_appends_nothing() {
    let s = Served::new(Limits {
        body_bytes: 4096,
        batch_items: 3,
        body_timeout_ms: 500,
        ..Limits::default()
    });
    let before = s.size();
    s.post("/v1/statements", b"{\"signature\":")
        .problem(400, "malformed_json");
    // Valid JSON, not canonical (whitespace).
    let env = s.f.sign(&s.f.registrar, s.f.body("b1"));
    let spaced = String::from_utf8(env.clone())
        .unwrap()
        .replacen(':', ": ", 1);
    s.post("/v1/statements", spaced.as_bytes())
        .problem(400, "not_canonical");
    // A signature that does not verify.
    let mut v: Value = serde_json::from_slice(&env).unwrap();
    let sig = v["signature"].as_str().unwrap().to_string();
    let flipped = match sig.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &sig[1..]),
    };
    v["signature"] = Value::String(flipped);
    let bad_sig = events::jcs::to_canonical(
        &events::jcs::parse(serde_json::to_string(&v).unwrap().as_bytes()).unwrap(),
    );
    s.post("/v1/statements", &bad_sig)
        .problem(422, "bad_signature");
    // An unknown event type, signed properly.
    let mut st = s.f.statement(&s.f.registrar, s.f.body("b2"));
    st.id = "x-unknown".into();
    let canon = String::from_utf8(st.canonical_bytes()).unwrap().replace(
        "\"type\":\"body_registered\"",
        "\"type\":\"body_teleported\"",
    );
    let sig =
        s.f.registrar
            .sign(&events::statement::signing_message(canon.as_bytes()));
    let unknown = format!(
        "{{\"signature\":\"{}\",\"statement\":{canon}}}",
        events::codec::b64(&sig.to_bytes())
    );
    s.post("/v1/statements", unknown.as_bytes())
        .problem(400, "unknown_event_type");
    // Oversized body and oversized batch.
    s.post("/v1/statements", &vec![b'x'; 5000])
        .problem(413, "body_too_large");
    // The same without a length up front: a chunked body is cut off at the limit.
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "POST /v1/statements HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    for _ in 0..5 {
        // The server may answer and close before the last chunks are sent.
        let _ = write!(c, "3e8\r\n{}\r\n", "x".repeat(1000));
    }
    let _ = write!(c, "0\r\n\r\n");
    read_response(&mut c).problem(413, "body_too_large");
    let mut batch = Vec::new();
    for i in 0..4 {
        batch.extend(s.f.sign(&s.f.registrar, s.f.body(&format!("batch-{i}"))));
        batch.push(b'\n');
    }
    request(s.addr, "POST", "/v1/statements/batch", &[], &batch).problem(413, "batch_too_large");
    // A body that never finishes: it announces 1000 bytes and sends 10.
    let mut c = TcpStream::connect(s.addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "POST /v1/statements HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{\"signatu"
    )
    .unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                raw.extend_from_slice(&buf[..n]);
                if raw.windows(4).any(|w| w == b"\r\n\r\n")
                    && String::from_utf8_lossy(&raw).contains("}")
                {
                    break;
                }
            }
            Err(e) => panic!("no answer to a stalled body: {e}"),
        }
    }
    parse(&raw).problem(408, "body_timeout");
    // Unknown endpoint, bad query, wrong method.
    get(s.addr, "/v1/nothing", None).problem(404, "not_found");
    get(s.addr, "/v1/proof/inclusion?seq=abc", None).problem(400, "bad_request");
    request(s.addr, "DELETE", "/v1/checkpoint", &[], b"").problem(405, "method_not_allowed");
    assert_eq!(s.size(), before, "a refused request appended something");
}

#[test]
fn open311_reveals_no_complainant_identity_and_no_amount() {
    let s = Served::new(Limits::default());
    // A second enterprise with a credit code files a complaint with a claimed amount.
    let reg = s.f.sign(
        &s.f.registrar,
        Event::EnterpriseRegistered(EnterpriseRegistered {
            enterprise: id("ent-secret"),
            name: text("湘江保密科技有限公司"),
            credit_code: Some(text("91430100MA4QSECRET")),
            city: id("changsha"),
            county: None,
            home_province: None,
        }),
    );
    assert_eq!(s.post("/v1/statements", &reg).status, 201);
    let ent = key(44);
    let grant = s.f.grant(
        &s.f.registrar,
        &ent,
        events::keys::Party::Enterprise("ent-secret".into()),
        vec![events::keys::Role::Enterprise],
    );
    assert_eq!(s.post("/v1/statements", &grant).status, 201);
    let complaint = s.f.sign(
        &ent,
        Event::ComplaintFiled(ComplaintFiled {
            case: id("case-secret"),
            enterprise: id("ent-secret"),
            channel: Channel::Web,
            category: Category::ArbitraryFees,
            summary: text("湘江保密科技被乱收费 987654 元"),
            against: Some(id("changsha.aic")),
            claimed_loss: Some(Fen::new(98_765_400).unwrap()),
            contact: None,
            urgent: false,
            major: false,
            triggered_by: None,
        }),
    );
    let r = s.post("/v1/statements", &complaint);
    assert_eq!(r.status, 201, "{}", r.text());
    let mut seen = String::new();
    for path in [
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests.json?status=open",
        "/open311/v2/requests.json?service_code=arbitrary_fees",
        "/open311/v2/requests/case-secret.json",
        "/open311/v2/requests/case-1.json",
    ] {
        let r = get(s.addr, path, None);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        seen.push_str(&r.text());
    }
    assert!(seen.contains("case-secret"), "the case itself is listed");
    for secret in [
        "湘江保密科技",
        "91430100MA4QSECRET",
        "ent-secret",
        "ent-1",
        "都市营销管理公司",
        "98765400",
        "987654",
        "1234500",
        "12345",
    ] {
        assert!(!seen.contains(secret), "Open311 revealed {secret:?}");
    }
}

#[test]
fn a_repeated_read_is_the_same_and_an_append_changes_it() {
    let s = Served::new(Limits::default());
    let sup = Some(s.supervisor.as_str());
    let path = "/v1/cities/changsha?from=2000-01-01&to=2100-12-31";
    let first = get(s.addr, path, sup);
    assert_eq!(first.status, 200);
    let again = get(s.addr, path, sup);
    assert_eq!(first.body, again.body, "the same read at the same size");
    assert_eq!(first.json()["city"]["received"], 1);
    // Without a token, a cached answer is still refused.
    get(s.addr, path, None).problem(401, "unauthorized");
    // A second complaint: the next read reflects it.
    let ent = key(10);
    let r = s.post(
        "/v1/statements",
        &s.f.sign(&ent, s.f.complaint(&ent, "case-2")),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let after = get(s.addr, path, sup).json();
    assert_eq!(after["city"]["received"], 2);
    assert_eq!(
        after["as_of_seq"],
        first.json()["as_of_seq"].as_u64().unwrap() + 1
    );
}

#[test]
fn shutdown_ends_open_event_streams_and_closes_the_ledger() {
    let mut s = Served::new(Limits::default());
    let size = s.size();
    // Two clients keep server-sent event streams open.
    let mut streams = Vec::new();
    for (path, token) in [
        ("/v1/tail/checkpoints", None),
        ("/v1/tail/records?from=0", Some(s.auditor.clone())),
    ] {
        let mut st = TcpStream::connect(s.addr).unwrap();
        st.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(st, "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n").unwrap();
        let mut buf = [0u8; 4096];
        let n = st.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).contains("200 OK"));
        streams.push(st);
    }
    let running = s.running.take().unwrap();
    let t = std::time::Instant::now();
    s.rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(15), running.stop())
            .await
            .expect("shutdown finished although event streams were open")
    })
    .unwrap();
    assert!(t.elapsed() < Duration::from_secs(15));
    // The streams were ended by the server.
    for mut st in streams {
        let mut rest = Vec::new();
        let _ = st.read_to_end(&mut rest);
    }
    // The ledger was closed: its projection snapshot reflects every record.
    let meta = ledger::projstore::meta(&s.f.data()).unwrap().unwrap();
    assert_eq!(meta.seq, size);
}

/// A path that is not UTF-8 once percent-decoded, and a date whose day
/// cannot end within the calendar of timestamps, are the client's errors:
/// 400 problems, never plain text or a 500.
#[test]
fn odd_paths_and_dates_are_client_errors() {
    let s = Served::new(Limits::default());
    let sup = Some(s.supervisor.as_str());
    for path in [
        "/v1/cases/%FF",
        "/v1/enterprises/%FF",
        "/v1/cities/%FF",
        "/v1/checkpoint/%FF",
    ] {
        get(s.addr, path, sup).problem(400, "bad_request");
    }
    get(s.addr, "/v1/cities/changsha?to=9999-12-31", sup).problem(400, "bad_request");
}

/// Event streams have their own cap and end when their token is revoked;
/// page numbers, states and dashboard queries that cannot be served are
/// refused, never replaced by defaults.
#[test]
fn streams_pages_and_queries_have_limits_and_refuse_bad_values() {
    let s = Served::new(Limits {
        streams_max: 1,
        ..Limits::default()
    });
    let mut st = TcpStream::connect(s.addr).unwrap();
    st.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        st,
        "GET /v1/tail/records?from=0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        s.auditor
    )
    .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while !String::from_utf8_lossy(&got).contains("event: record") {
        let n = st.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended early");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(String::from_utf8_lossy(&got).contains("200 OK"));
    // The one place for record streams is taken.
    get(s.addr, "/v1/tail/records?from=0", Some(&s.auditor)).problem(503, "overloaded");
    // Public checkpoint streams are counted apart: anonymous clients cannot
    // take the auditors' places, nor the auditors theirs.
    let mut public = TcpStream::connect(s.addr).unwrap();
    public
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        public,
        "GET /v1/tail/checkpoints HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    .unwrap();
    let n = public.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("200 OK"));
    get(s.addr, "/v1/tail/checkpoints", None).problem(503, "overloaded");
    drop(public);

    // Revoked, the auditor's stream ends before the next record.
    let id = s.auditor.split('.').nth(1).unwrap().to_string();
    auth::revoke(&s.f.data(), &id).unwrap();
    let env = s.f.sign(&s.f.registrar, s.f.body("after-revocation"));
    let r = s.post("/v1/statements", &env);
    assert_eq!(r.status, 201, "{}", r.text());
    let seq = r.json()["seq"].as_u64().unwrap();
    // The response ends (its last chunk; the connection may stay open).
    let mut rest = Vec::new();
    while ![got.as_slice(), &rest].concat().ends_with(b"\r\n0\r\n\r\n") {
        let n = st.read(&mut buf).unwrap();
        assert!(n > 0, "the connection closed without ending the response");
        rest.extend_from_slice(&buf[..n]);
    }
    assert!(
        !String::from_utf8_lossy(&rest).contains(&format!("id: {seq}\n")),
        "a revoked token was sent seq {seq}"
    );
    // Its place is free again.
    let (auditor2, _) = auth::create(&s.f.data(), auth::Role::Auditor, "second").unwrap();
    let open_records = |token: &str| {
        let mut st = TcpStream::connect(s.addr).unwrap();
        st.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            st,
            "GET /v1/tail/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut buf = [0u8; 4096];
        let n = st.read(&mut buf).unwrap();
        (st, String::from_utf8_lossy(&buf[..n]).into_owned())
    };
    let (st, head) = open_records(&auditor2);
    assert!(head.contains("200 OK"), "{head}");
    // A client that goes away frees its place though no record comes.
    drop(st);
    let t = std::time::Instant::now();
    loop {
        let (st, head) = open_records(&auditor2);
        if head.contains("200 OK") {
            drop(st);
            break;
        }
        assert!(head.contains("503"), "{head}");
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the place of a closed stream was not freed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("freed after {:?}", t.elapsed());

    let sup = Some(s.supervisor.as_str());
    for path in [
        "/v1/cases?page=0",
        "/v1/cases?page=18446744073709551615",
        "/v1/cases?state=opne",
    ] {
        let v = get(s.addr, path, sup).problem(400, "bad_request");
        assert!(v["detail"].as_str().is_some(), "{path}");
    }
    assert_eq!(
        get(s.addr, "/v1/cases?state=filed", sup).json()["cases"]["total"],
        1
    );
    get(
        s.addr,
        "/open311/v2/requests.json?page=18446744073709551615",
        None,
    )
    .problem(400, "bad_request");
    // A list not judged at a time refuses `at`; a year beyond the calendar
    // of timestamps is refused as the ranking refuses it.
    for path in [
        "/v1/inspections?at=2006-05-01T00:00:00Z",
        "/v1/projects?at=2006-05-01T00:00:00Z",
        "/v1/rules?year=99999",
    ] {
        get(s.addr, path, sup).problem(400, "bad_request");
    }
    // A sign-in form is small; a large one is refused before it is read whole.
    let big = format!("token={}", "a".repeat(8192));
    let r = request(
        s.addr,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        big.as_bytes(),
    );
    assert_eq!(r.status, 413, "{}", r.text());
    // One token holds at most 8 sessions: a ninth sign-in ends the first.
    let sign_in = || {
        let r = request(
            s.addr,
            "POST",
            "/login",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            format!("token={}", s.supervisor).as_bytes(),
        );
        let cookie = r
            .header("set-cookie")
            .unwrap_or_else(|| panic!("{}", r.text()));
        cookie.split(';').next().unwrap().to_string()
    };
    let cookies: Vec<String> = (0..9).map(|_| sign_in()).collect();
    let page = |c: &str| request(s.addr, "GET", "/overdue", &[("Cookie", c)], b"");
    assert_eq!(page(&cookies[0]).status, 303, "the oldest session gave way");
    assert_eq!(page(&cookies[1]).status, 200);
    assert_eq!(page(&cookies[8]).status, 200);
    // The dashboard says which value is wrong instead of showing the live view.
    let r = get(s.addr, "/?as_of=2006-03-31&year=20x6", None);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("year"), "{}", r.text());
}
