//! The Hunan 2006 demo over HTTP: each seed figure of DOMAIN.md read from the
//! service's projections, and every row of DOMAIN.md's rule table fired —
//! flags, measures and records in the ledger, and the demo's violating
//! statements refused over HTTP with their rule codes, appending nothing.

use crate::http::{get, request};
use ledger::serve::auth::{self, Role};
use ledger::serve::Limits;
use serde_json::Value;

fn ratio(v: &Value) -> (u64, u64) {
    (
        v["numerator"].as_u64().unwrap(),
        v["denominator"].as_u64().unwrap(),
    )
}

#[test]
fn the_demo_leaves_the_root_public_key_an_auditor_checks_genesis_against() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    assert!(ledger::demo::prepare(&data).unwrap());
    let public = ledger::demo::root_public_path(&data);
    assert_eq!(public, dir.path().join("demo.root.pub"));
    let text = std::fs::read_to_string(&public).unwrap();
    let root = ledger::cli::read_public_key(public.to_str().unwrap()).unwrap();
    assert_eq!(format!("{root}\n"), text);
    let verify = |trusted_root| {
        ledger::audit::verify_data_dir(
            &data,
            ledger::audit::AuditOptions {
                trusted_root,
                ..Default::default()
            },
        )
    };
    let report = verify(Some(root)).unwrap();
    assert!(report.records > 1000, "{} records", report.records);
    // Another root key: genesis does not name it.
    let other = events::keys::PublicKey(ledger::keyfile::generate().unwrap().verifying_key());
    let err = verify(Some(other)).unwrap_err().to_string();
    assert!(err.contains("not the root key you trust"), "{err}");
}

#[test]
fn the_demo_serves_the_seed_figures_and_every_rule_fires() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let summary = ledger::scenario::load_hunan_2006(&data).unwrap();
    // Started again on the same directory, the demo serves what is there.
    assert!(!ledger::demo::prepare(&data).unwrap());
    let (token, _) = auth::create(&data, Role::Supervisor, "demo test").unwrap();
    let (rt, running) = crate::http::serve(&data, Limits::default());
    let a = running.addr;
    let t = Some(token.as_str());
    let city = |path: &str| get(a, path, t).json()["city"].clone();

    // Changsha 2005: closure rate 66/71.
    let cs = city("/v1/cities/changsha?from=2005-01-01&to=2005-12-31");
    assert_eq!(ratio(&cs["closure"]), (66, 71));
    // Zhuzhou: satisfaction 8/8.
    let zz = city("/v1/cities/zhuzhou?from=2006-01-01&to=2006-12-31");
    assert_eq!(ratio(&zz["satisfaction_strict"]), (8, 8));
    // Losses recovered in 2006, the 14 cities: over 4,000,000 yuan (in fen).
    let ranking = get(a, "/v1/ranking?year=2006", t).json();
    let rows = ranking["ranking"]["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 14);
    let losses: u64 = rows
        .iter()
        .map(|r| {
            let id = r["city"].as_str().unwrap();
            city(&format!("/v1/cities/{id}?from=2006-01-01&to=2006-12-31"))["losses_recovered"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert!(losses > 4_000_000 * 100, "losses recovered {losses} fen");
    // Xiangtan: the 14 Central China Expo projects all performed.
    let expo = get(
        a,
        "/v1/projects?city=xiangtan&from=2006-09-01&to=2006-09-30",
        t,
    )
    .json();
    assert_eq!(expo["projects"]["total"], 14, "{expo}");
    let expo = expo["projects"]["items"].as_array().unwrap();
    assert_eq!(expo.len(), 14);
    // Paged: page 3 of 5 a page holds the last 4, in the same order.
    let third = get(
        a,
        "/v1/projects?city=xiangtan&from=2006-09-01&to=2006-09-30&per_page=5&page=3",
        t,
    )
    .json();
    assert_eq!(third["projects"]["total"], 14, "{third}");
    assert_eq!(
        third["projects"]["items"].as_array().unwrap()[..],
        expo[10..]
    );
    let too_many = get(a, "/v1/projects?per_page=501", t);
    assert_eq!(too_many.status, 400, "{}", too_many.text());
    assert!(too_many.text().contains("per_page must be 1..=500"));
    assert!(expo.iter().all(|p| p["status"] == "performed"), "{expo:?}");
    // The 8 Pan-Pearl River projects all started, 23,000 of 97,000 万元 arrived.
    let ppr =
        city("/v1/cities/xiangtan?from=2006-06-01&to=2006-06-30&at=2006-12-27T23:59:59%2B08:00");
    assert_eq!(ratio(&ppr["projects_started"]), (8, 8));
    let wan = 10_000 * 100;
    assert_eq!(ratio(&ppr["project_funds"]), (23_000 * wan, 97_000 * wan));

    // The demo's violating statements, submitted over HTTP: each refused
    // with its rule code, nothing appended.
    let size = get(a, "/v1/checkpoint", None).json()["size"]
        .as_u64()
        .unwrap();
    assert!(!summary.refused_envelopes.is_empty());
    for (code, env) in &summary.refused_envelopes {
        let r = request(
            a,
            "POST",
            "/v1/statements",
            &[("Content-Type", "application/json")],
            env,
        );
        let v = r.problem(422, "rule_violated");
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{code}:")),
            "{code}: {v}"
        );
    }
    assert_eq!(
        get(a, "/v1/checkpoint", None).json()["size"]
            .as_u64()
            .unwrap(),
        size
    );

    // Prometheus counts them by rule.
    let metrics = get(a, "/metrics", None).text();
    for (code, _) in &summary.refused_envelopes {
        assert!(
            metrics.contains(&format!("ledger_rule_refusals_total{{rule=\"{code}\"}}")),
            "{code} not counted in /metrics"
        );
    }

    // Every row of the rule table fired.
    let rules = get(a, "/v1/rules?year=2006", t).json();
    let rows = rules["rules"]["rows"].as_array().unwrap();
    let silent: Vec<&str> = rows
        .iter()
        .filter(|r| r["fired"] != true)
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(
        silent.is_empty(),
        "rules that did not fire in the demo: {silent:?}"
    );
    for rule in ["R1", "R2", "R10", "R13", "R22", "R25", "overdue is derived"] {
        assert!(rows.iter().any(|r| r["rule"] == rule), "{rule} missing");
    }
    assert!(rows.len() >= 30, "{} rows", rows.len());
    rt.block_on(running.stop()).unwrap();
}
