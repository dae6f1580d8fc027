//! The rules of DOMAIN.md run in the sequencer: refusals append nothing, and a
//! record that triggers another gets it in the same batch, signed by the ledger.

use crate::support::*;
use events::codes::Code;
use events::keys::{Party, Role};
use events::record::Record;
use events::vocab::*;
use ledger::audit::{self, AuditOptions};

#[test]
fn lifecycle_resolving_a_case_never_accepted_is_refused_and_appends_nothing() {
    let (f, l) = Fixture::new();
    let ent = key(10);
    let handler = key(12);
    f.granted(
        &l,
        &ent,
        Party::Enterprise("ent-1".into()),
        vec![Role::Enterprise],
    );
    f.granted(
        &l,
        &handler,
        Party::Body("changsha.aic".into()),
        vec![Role::Handler],
    );
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-1")))
        .unwrap();
    let before = l.head().size;
    let resolve = f.sign(
        &handler,
        Event::CaseResolved(CaseResolved {
            case: id("case-1"),
            outcome: Outcome::Upheld,
            summary: text("已解决"),
            losses_recovered: Fen::new(100).unwrap(),
        }),
    );
    let e = l.submit(&resolve).unwrap_err();
    assert_eq!(e.code, Code::RuleViolated);
    assert!(
        e.message.starts_with("case_not_accepted") || e.message.starts_with("case_not_responsible"),
        "{e}"
    );
    assert_eq!(l.head().size, before);
}

#[test]
fn r13_an_unapproved_inspection_is_recorded_flagged_and_opens_a_case_signed_by_the_ledger() {
    let (f, l) = Fixture::new();
    let r = f.unapproved_inspection(&l);
    // The derived complaint follows at the next seq, in the same batch.
    let derived = Record::parse(&l.read_leaf(r.seq + 1).unwrap()).unwrap();
    let stmt = &derived.signed.statement;
    assert_eq!(stmt.id, format!("auto:{}", r.seq));
    let Event::ComplaintFiled(c) = &stmt.event else {
        panic!("derived record is {:?}", stmt.event.kind())
    };
    assert_eq!(c.triggered_by, Some(r.seq));
    assert_eq!(c.channel, Channel::Derived);
    let genesis = Record::parse(&l.read_leaf(0).unwrap()).unwrap();
    let Event::LedgerGenesis(g) = &genesis.signed.statement.event else {
        panic!()
    };
    assert_eq!(
        stmt.actor,
        g.system_key.id(),
        "signed by the system key named in genesis"
    );
    assert_eq!(l.head().size, r.seq + 2);
    // Nobody else may file a derived case: not the registrar (no such
    // role), not even the enterprise it is about.
    let forged = f.sign(&f.registrar, Event::ComplaintFiled(c.clone()));
    let e = l.submit(&forged).unwrap_err();
    assert_eq!(e.code, Code::KeyNotAuthorised, "{e}");
    let ent = f.enterprise_key(&l);
    let size = l.head().size;
    let mut own = c.clone();
    own.case = id("auto-forged");
    let e = l
        .submit(&f.sign(&ent, Event::ComplaintFiled(own)))
        .unwrap_err();
    assert_eq!(e.code, Code::RuleViolated);
    assert!(e.message.starts_with("derived_case_reserved"), "{e}");
    assert_eq!(l.head().size, size, "nothing appended");
    drop(l);
    audit::verify_data_dir(&f.data(), AuditOptions::default()).unwrap();
    // Reopening rebuilds the model: the trigger has its case, no second one is made.
    let l = f.open();
    assert_eq!(l.head().size, size);
}

#[test]
fn statement_ids_of_derived_records_are_reserved_for_the_ledger() {
    let (f, l) = Fixture::new();
    let mut s = f.statement(&f.registrar, f.body("x"));
    s.id = "auto:99".into();
    let before = l.head().size;
    let e = l
        .submit(&s.sign(&f.registrar).to_envelope(None))
        .unwrap_err();
    assert_eq!(e.code, Code::MalformedStatement, "{e}");
    assert_eq!(l.head().size, before, "nothing appended");
}

#[test]
fn an_inquiry_replays_a_case_timeline_as_the_ledger_stood_then() {
    let (f, l) = Fixture::new();
    let before = l.head().size;
    let r = f.unapproved_inspection(&l);
    drop(l);
    let case = format!("auto-{}", r.seq);
    let data = f.data();
    let v = run_json(&[
        "timeline",
        "--data",
        path_str(&data),
        "--case",
        &case,
        "--json",
    ]);
    let records = v["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["seq"].as_u64(), Some(r.seq + 1));
    assert_eq!(records[0]["acting_for"].as_str(), Some("the ledger"));
    assert!(records[0]["proof"]
        .as_str()
        .unwrap()
        .starts_with("ledger proof inclusion"));
    // As the ledger stood before the inspection, the case did not exist.
    let out = run(&[
        "timeline",
        "--data",
        path_str(&data),
        "--case",
        &case,
        "--as-of-seq",
        &before.to_string(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no case"));
}

#[test]
fn supervisor_reads_case_city_and_ranking_with_the_seq_and_checkpoint_they_reflect() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-1")))
        .unwrap();
    let size = l.head().size;
    drop(l);
    let data = f.data();
    let v = run_json(&["case", "--data", path_str(&data), "case-1", "--json"]);
    assert_eq!(v["as_of_seq"].as_u64(), Some(size));
    assert!(v["checkpoint"]
        .as_str()
        .unwrap()
        .contains(&format!("\n{size}\n")));
    assert!(v["case"]["first_reply_due"]["date"].is_string(), "{v}");
    // The same read twice gives the same bytes (no wall clock anywhere).
    let first = run(&["case", "--data", path_str(&data), "case-1", "--json"]);
    let again = run(&["case", "--data", path_str(&data), "case-1", "--json"]);
    assert_eq!(first.stdout, again.stdout);
    let year = ledger::ledger::wall_clock()
        .shanghai_date()
        .year()
        .to_string();
    let v = run_json(&["city", "--data", path_str(&data), "changsha", "--json"]);
    assert_eq!(v["city"]["received"].as_u64(), Some(1));
    assert_eq!(v["city"]["closure"]["denominator"].as_u64(), Some(1));
    assert_eq!(v["city"]["closure"]["numerator"].as_u64(), Some(0));
    let out = run(&[
        "ranking",
        "--data",
        path_str(&data),
        "--year",
        &year,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["city", "--data", path_str(&data), "nowhere"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("the cities are"));
}

#[test]
fn r14_the_inspection_registry_lists_flagged_inspections() {
    let (f, l) = Fixture::new();
    f.unapproved_inspection(&l);
    drop(l);
    let data = f.data();
    let v = run_json(&[
        "inspections",
        "--data",
        path_str(&data),
        "--flagged",
        "--json",
    ]);
    let rows = v["inspections"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"].as_str(), Some("insp-1"));
    assert_eq!(rows[0]["flags"]["unapproved"].as_bool(), Some(true));
    assert_eq!(rows[0]["compliant"].as_bool(), Some(false));
    let v = run_json(&[
        "promises",
        "--data",
        path_str(&data),
        "--status",
        "breached",
        "--json",
    ]);
    assert_eq!(v["promises"].as_array().map(Vec::len), Some(0));
}
