//! The dashboard in headless Chromium, driven through ChromeDriver's
//! WebDriver protocol (plain HTTP and JSON): the public ranking table and
//! chart, signing in, a case page and a proof link followed to its verdict.
//! `scripts/test` installs Debian's chromium, chromium-driver and
//! fonts-noto-cjk.

use crate::http::{request, Resp};
use ledger::serve::auth::{self, Role};
use ledger::serve::Limits;
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver {
    child: Child,
    addr: SocketAddr,
    session: String,
}

impl Driver {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let b = body.map(|v| v.to_string()).unwrap_or_default();
        let r: Resp = request(
            self.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            b.as_bytes(),
        );
        let v = r.json();
        assert!(r.status == 200, "webdriver {method} {path}: {v}");
        v["value"].clone()
    }
    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }
    fn go(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({ "url": url })));
    }
    fn find_all(&self, css: &str) -> Vec<String> {
        let v = self.call(
            "POST",
            &self.s("/elements"),
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                e.as_object()
                    .unwrap()
                    .values()
                    .next()
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
    fn find(&self, css: &str) -> String {
        let all = self.find_all(css);
        assert!(!all.is_empty(), "no element matches {css}");
        all[0].clone()
    }
    fn text(&self, el: &str) -> String {
        self.call("GET", &self.s(&format!("/element/{el}/text")), None)
            .as_str()
            .unwrap()
            .to_string()
    }
    fn click(&self, el: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{el}/click")),
            Some(json!({})),
        );
    }
    fn type_into(&self, el: &str, text: &str) {
        self.call(
            "POST",
            &self.s(&format!("/element/{el}/value")),
            Some(json!({ "text": text })),
        );
    }
    fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .as_str()
            .unwrap()
            .to_string()
    }
    /// The current URL once it ends with `suffix`: a click that submits a
    /// form or follows a link navigates after the click has returned.
    fn wait_for_url(&self, suffix: &str) -> String {
        let t = Instant::now();
        loop {
            let url = self.url();
            if url.ends_with(suffix) || t.elapsed() > Duration::from_secs(10) {
                return url;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    /// The first element matching `css`, once the page has one.
    fn wait_for(&self, css: &str) -> String {
        let t = Instant::now();
        while self.find_all(css).is_empty() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.find(css)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = request(
            self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            b"",
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn chromedriver(profile: &std::path::Path) -> Driver {
    for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: run scripts/test, which installs Debian's chromium and chromium-driver"
        );
    }
    let port = free_port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--no-first-run", "--disable-dev-shm-usage", "--disable-component-update",
                "--disable-sync", "--disable-quic",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    }}});
    let r = request(
        addr,
        "POST",
        "/session",
        &[("Content-Type", "application/json")],
        caps.to_string().as_bytes(),
    );
    let v = r.json();
    let session = v["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
        .to_string();
    Driver {
        child,
        addr,
        session,
    }
}

#[test]
fn the_dashboard_works_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let summary = ledger::scenario::load_hunan_2006(&data).unwrap();
    let (token, _) = auth::create(&data, Role::Supervisor, "browser test").unwrap();
    let (rt, running) = crate::http::serve(&data, Limits::default());
    let base = format!("http://{}", running.addr);
    let profile = dir.path().join("chromium-profile");
    {
        let d = chromedriver(&profile);
        // The public page: the ranking table, the chart and the top three.
        d.go(&format!("{base}/?year=2006"));
        let table = d.text(&d.find("#ranking"));
        for city in ["长沙", "株洲", "湘潭", "湘西"] {
            assert!(table.contains(city), "ranking lacks {city}: {table}");
        }
        assert_eq!(d.find_all("#chart rect").len(), 14, "one bar per city");
        assert_eq!(d.find_all("#top-three li").len(), 3);
        // Sign in with the token.
        d.go(&format!("{base}/login"));
        let input = d.find("input[name=token]");
        d.type_into(&input, &token);
        d.click(&d.find("form[method=post][action='/login'] button"));
        let landed = d.wait_for_url("/overdue");
        assert!(
            landed.ends_with("/overdue"),
            "signed in lands on /overdue, not {landed}"
        );
        assert!(!d.find_all("#overdue-cases").is_empty());
        // A case page, then one of its proof links.
        d.go(&format!("{base}/case/{}", summary.featured_case));
        let timeline = d.text(&d.find("#timeline"));
        assert!(timeline.contains("complaint_filed"), "{timeline}");
        d.click(&d.find(".proof-link"));
        let verdict = d.text(&d.wait_for("#proof-verdict"));
        assert!(verdict.starts_with("verified"), "{verdict}");
    }
    rt.block_on(running.stop()).unwrap();
}
