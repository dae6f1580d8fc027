//! The Hunan 2006 demo (`ledger::scenario`): loaded through the signed append
//! path, its seed figures recounted from the projections the way `ledger
//! city|ranking|promises|inspections` read them, every refused rule refused
//! with its code, the flags and measures visible, the ledger verified.

use events::time::{Date, Timestamp};
use events::vocab::{Channel, Excuse, Id};
use ledger::audit::{verify_data_dir, AuditOptions};
use ledger::reads::{fold, AsOf};
use ledger::scenario::{load_hunan_2006, root_key_path, ScenarioSummary, REPORT_DATE, SYNTHETIC};
use projections::calendar::Calendar;
use projections::model::{CaseState, Model, ProjectStatus, PromiseStatus};
use projections::views::{self, CityRecord, Overdue, PromiseQuery, Ratio};

fn id(s: &str) -> Id {
    Id::new(s).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> Date {
    Date::from_ymd(y, m, d).unwrap()
}

fn end_of(d: Date) -> Timestamp {
    Timestamp::from_shanghai_date_end(d).unwrap()
}

fn report_at() -> Timestamp {
    let (y, m, d) = REPORT_DATE;
    end_of(date(y, m, d))
}

fn ratio(r: &Ratio) -> (u64, u64) {
    (r.numerator, r.denominator)
}

/// `ledger city NAME --from FROM --to TO [--at AT]` (at defaults to the end of `to`).
fn city(model: &Model, name: &str, from: Date, to: Date, at: Option<Timestamp>) -> CityRecord {
    let cal = Calendar::builtin();
    views::city_record(
        model,
        &cal,
        &id(name),
        from,
        to,
        at.unwrap_or_else(|| end_of(to)),
    )
}

const CITIES: [&str; 14] = [
    "changsha",
    "zhuzhou",
    "xiangtan",
    "hengyang",
    "shaoyang",
    "yueyang",
    "changde",
    "zhangjiajie",
    "yiyang",
    "chenzhou",
    "yongzhou",
    "huaihua",
    "loudi",
    "xiangxi",
];

fn load() -> (tempfile::TempDir, std::path::PathBuf, ScenarioSummary) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let started = std::time::Instant::now();
    let s = load_hunan_2006(&data).unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "loading took {:?}",
        started.elapsed()
    );
    (dir, data, s)
}

#[test]
fn scenario_loads_verifies_and_recounts_the_seed_figures() {
    let (_dir, data, s) = load();
    assert!(root_key_path(&data).exists());
    assert!(!root_key_path(&data).starts_with(&data));
    eprintln!(
        "scenario: {} records ({} statements, {} derived), {} refusals",
        s.records,
        s.statements,
        s.derived.len(),
        s.refusals.len()
    );
    assert!(
        s.records > 1000 && s.records < 5000,
        "{} records",
        s.records
    );
    assert_eq!(s.derived.len(), 3, "{:?}", s.derived);
    assert_eq!(s.records, s.statements + 1 + s.derived.len() as u64);
    let report = verify_data_dir(&data, AuditOptions::default()).unwrap();
    assert_eq!(report.records, s.records);
    let folded = fold(&data, AsOf::default()).unwrap();
    assert_eq!(folded.size, s.records);
    let m = &folded.model;

    // Changsha, cases received in 2005: 66 closed by the end of 2005, of 71.
    let cs = city(m, "changsha", date(2005, 1, 1), date(2005, 12, 31), None);
    assert_eq!(cs.received, 71);
    assert_eq!(ratio(&cs.closure), (66, 71));
    // All 71 are closed by the report date.
    let cs_later = city(
        m,
        "changsha",
        date(2005, 1, 1),
        date(2005, 12, 31),
        Some(report_at()),
    );
    assert_eq!(ratio(&cs_later.closure), (71, 71));

    // Zhuzhou 2006: satisfaction 8/8.
    let zz = city(m, "zhuzhou", date(2006, 1, 1), date(2006, 12, 31), None);
    assert_eq!(ratio(&zz.satisfaction_strict), (8, 8));
    assert_eq!(ratio(&zz.satisfaction_broad), (8, 8));

    // The province (the 14 cities), 2006: losses recovered over 4,000,000 yuan.
    let losses: i64 = CITIES
        .iter()
        .map(|c| {
            city(m, c, date(2006, 1, 1), date(2006, 12, 31), None)
                .losses_recovered
                .get()
        })
        .sum();
    assert!(losses > 4_000_000 * 100, "losses recovered {losses} fen");
    assert_eq!(losses, 4_473_000 * 100);

    // Xiangtan: the 8 Pan-Pearl River projects (June 2006) all started,
    // 23,000 of 97,000 万元 arrived by the report date.
    let ppr = city(
        m,
        "xiangtan",
        date(2006, 6, 1),
        date(2006, 6, 30),
        Some(report_at()),
    );
    assert_eq!(ratio(&ppr.projects_started), (8, 8));
    let wan = 10_000 * 100;
    assert_eq!(ratio(&ppr.project_funds), (23_000 * wan, 97_000 * wan));
    // The 14 Central China Expo projects (September 2006) all performed.
    let cce = city(
        m,
        "xiangtan",
        date(2006, 9, 1),
        date(2006, 9, 30),
        Some(report_at()),
    );
    assert_eq!(ratio(&cce.projects_started), (14, 14));
    let expo: Vec<_> = m
        .projects
        .values()
        .filter(|p| p.id.as_str().starts_with("xt-cce-"))
        .collect();
    assert_eq!(expo.len(), 14);
    assert!(expo.iter().all(|p| p.status == ProjectStatus::Performed));
    let xt = city(m, "xiangtan", date(2006, 1, 1), date(2006, 12, 31), None);
    assert_eq!(ratio(&xt.promises_kept), (14, 14));

    // The featured case: registered by the province, reported as major,
    // referred to Zhuzhou in late February, mediated, closed.
    let cal = Calendar::builtin();
    let f = views::case_view(m, &cal, &id(&s.featured_case), report_at()).unwrap();
    assert_eq!(f.state, CaseState::Closed);
    assert!(f.major);
    assert_eq!(f.city, id("zhuzhou"));
    assert_eq!(f.responsible, Some(id("zhuzhou.jingxie")));
    let case = &m.cases[&id(&s.featured_case)];
    assert_eq!(case.referrals.len(), 1);
    assert_eq!(case.reported_to_government.len(), 1);
}

#[test]
fn scenario_refused_rules_append_nothing() {
    let (_dir, data, s) = load();
    let expected = [
        "case_not_in_progress",
        "case_reopen_without_dissatisfaction",
        "promise_not_open",
        "inspection_already_conducted",
        "case_already_exists",
        "rule_parameters_out_of_range",
        "correction_field_not_correctable",
        "case_first_reply_already_sent",
        "case_not_responsible",
        "case_already_extended",
        "accountability_no_person",
        "case_outside_jurisdiction",
        "complaint_filer_not_allowed",
        "derived_case_reserved",
        "inspection_approval_not_head",
        "inspection_already_registered",
        "inspection_retroactive_not_emergency",
        "promise_not_bound_body",
        "project_milestone_out_of_order",
        "monitoring_point_wrong_city",
        "body_already_reorganised",
        "promise_body_reorganised",
        "rating_source_mismatch",
    ];
    let codes: Vec<&str> = s.refusals.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, expected);
    for (code, message) in &s.refusals {
        assert!(
            message.starts_with(&format!("{code}: ")),
            "{code}: {message}"
        );
        assert!(projections::rules::RuleCode::parse(code).is_some());
    }
    // Nothing was appended by the refused statements: the ledger holds the
    // load only, and no `refused/` statement id.
    let folded = fold(&data, AsOf::default()).unwrap();
    assert_eq!(folded.size, s.records);
    let view = ledger::ledger::LogView::open(&data).unwrap();
    assert_eq!(view.size(), s.records);
    for seq in 1..view.size() {
        let rec = events::record::Record::parse(&view.read_leaf(seq).unwrap()).unwrap();
        assert!(!rec.signed.statement.id.starts_with("refused/"));
    }
}

#[test]
fn scenario_flags_and_measures_are_visible() {
    let (_dir, data, _s) = load();
    let folded = fold(&data, AsOf::default()).unwrap();
    let m = &folded.model;
    let cal = Calendar::builtin();
    let at = report_at();
    let year = (date(2006, 1, 1), date(2006, 12, 31));

    // Every synthetic text is marked.
    for c in m.cases.values() {
        if c.id.as_str().starts_with("cs-2005-") || c.id.as_str().starts_with("zz-2006-") {
            assert!(c.summary.as_str().contains(SYNTHETIC), "{}", c.id);
        }
    }

    // R1, R3, R4, R5: the Loudi case is overdue (late reply, no progress
    // notice, past the cap) with accountability imposed.
    let ld = views::case_view(m, &cal, &id("ld-2006-0041"), at).unwrap();
    assert!(ld.late.contains(&Overdue::Reply), "{:?}", ld.late);
    assert!(
        ld.overdue.contains(&Overdue::ProgressNotice),
        "{:?}",
        ld.overdue
    );
    assert!(
        ld.overdue.contains(&Overdue::CapExceeded),
        "{:?}",
        ld.overdue
    );
    let loudi = city(m, "loudi", year.0, year.1, None);
    assert_eq!(ratio(&loudi.open_overdue), (1, 1));
    assert_eq!(ratio(&loudi.accountability_follow_through), (1, 1));

    // R4: the Hengyang case was lawfully extended, every notice on time.
    let hy = views::case_view(m, &cal, &id("hy-2006-0009"), at).unwrap();
    assert!(hy.lawfully_extended);
    assert!(hy.late.is_empty() && hy.overdue.is_empty(), "{:?}", hy.late);
    assert_eq!(hy.progress_notices_sent.len(), 3);

    // R2: the urgent 莲城置业 case had an on-site reply the same day; R9 joint.
    let lc = views::case_view(m, &cal, &id("xt-2006-0012"), at).unwrap();
    assert!(lc.urgent);
    assert_eq!(lc.procedure, Some(events::vocab::Procedure::Joint));

    // R13, R14, 国办发〔2024〕54号: the Hengyang inspections' flags, each
    // flagged inspection having opened a derived case (closed since).
    let hengyang = city(m, "hengyang", year.0, year.1, None);
    let f = &hengyang.inspection_flags;
    assert_eq!(f.unapproved, 1);
    assert!(f.unregistered >= 1);
    assert_eq!(f.repeated, 1);
    assert_eq!(f.over_cap, 1);
    assert_eq!(f.fee_demanded, 1);
    assert!(hengyang.inspections_compliant.numerator >= 2);
    assert_eq!(hengyang.inspections_compliant.denominator, 4);
    let flagged = views::inspection_list(m, true);
    assert!(flagged.iter().any(|l| l.line.id == id("hy-insp-2006-02")));
    // The joint visit of the AIC and the quality bureau: one compliant
    // inspection, unflagged.
    let all = views::inspection_list(m, false);
    let joint = all
        .iter()
        .find(|l| l.line.id == id("hy-insp-2006-05"))
        .expect("the joint inspection");
    assert_eq!(joint.line.joint_with, vec![id("hengyang.zhijian")]);
    assert!(joint.line.compliant && joint.line.yearly_count == 1);
    assert!(!flagged.iter().any(|l| l.line.id == id("hy-insp-2006-05")));
    let derived: Vec<_> = m
        .cases
        .values()
        .filter(|c| c.channel == Channel::Derived)
        .collect();
    assert_eq!(derived.len(), 3);
    assert!(derived.iter().all(|c| c.state == CaseState::Closed));
    assert!(derived.iter().all(|c| c.id.as_str().starts_with("auto-")));
    assert!(hengyang.accountability_follow_through.numerator >= 1);

    // R15 and art. 31: the Changde contract broken after a change of
    // government (a forbidden excuse), compensated, with accountability.
    let changde = city(m, "changde", year.0, year.1, None);
    assert_eq!(ratio(&changde.breaches_forbidden_excuse), (1, 1));
    assert_eq!(ratio(&changde.promises_kept), (0, 1));
    assert_eq!(changde.compensation_paid.get(), 1_200_000 * 100);
    assert_eq!(ratio(&changde.accountability_follow_through), (1, 1));
    let breached = views::promise_list(
        m,
        &Calendar::builtin(),
        Some(PromiseQuery::Breached),
        None,
        at,
    );
    assert_eq!(breached.len(), 1);
    assert_eq!(breached[0].excuse, Some(Excuse::ChangeOfGovernment));
    assert!(breached[0].forbidden_excuse);

    // Reorganisation: the successor inherits and keeps the promise.
    let all = views::promise_list(m, &Calendar::builtin(), None, None, at);
    let yiy = all.iter().find(|p| p.id == id("yiy-2006-agency")).unwrap();
    assert_eq!(yiy.body, id("yiyang.jingxie"));
    assert_eq!(yiy.body_bound_today, id("yiyang.shangwu"));
    assert_eq!(yiy.status, PromiseStatus::Kept);
    // Lawful variation with compensation, kept.
    let yue = all.iter().find(|p| p.id == id("yue-2006-road")).unwrap();
    assert_eq!(yue.status, PromiseStatus::Kept);
    assert_eq!(yue.compensation_paid.get(), 150_000 * 100);
    // R16–R19: Changsha's commitment and the ten pledges are on record.
    assert!(all.iter().any(|p| p.id == id("cs-fdi-3days")));
    assert_eq!(
        all.iter()
            .filter(|p| p.id.as_str().starts_with("hn-pledge-"))
            .count(),
        10
    );

    // R22: ten monitoring points per city, four counties; Huaihua filed late.
    for c in CITIES {
        let r = city(m, c, year.0, year.1, None);
        assert_eq!(r.monitoring.count, 10, "{c}");
        assert!(r.monitoring.meets_minimum, "{c}");
        assert!(r.monitoring.distinct_counties >= 4, "{c}");
        let on_time = if c == "huaihua" { 0 } else { 10 };
        assert_eq!(ratio(&r.monitoring.filed_by_deadline), (on_time, 10), "{c}");
    }

    // R23–R24: the ranking of the 14 cities, top three flagged.
    let rows = views::ranking(m, &cal, 2006, end_of(date(2006, 12, 31)));
    assert_eq!(rows.len(), 14);
    let top: Vec<&str> = rows
        .iter()
        .filter(|r| r.top_three)
        .map(|r| r.city.as_str())
        .collect();
    assert_eq!(top, ["xiangtan", "changsha", "zhuzhou"]);
    assert!(rows
        .windows(2)
        .all(|w| w[0].score_permille >= w[1].score_permille));

    // Dissatisfaction reopened the Shaoyang case; the rejected and withdrawn cases.
    let sy = &m.cases[&id("sy-2006-0015")];
    assert_eq!(sy.state, CaseState::Closed);
    assert_eq!(sy.resolutions.len(), 2);
    assert_eq!(m.cases[&id("cz-2006-0007")].state, CaseState::Rejected);
    assert_eq!(m.cases[&id("hh-2006-0011")].state, CaseState::Withdrawn);
}

#[test]
fn scenario_refuses_a_used_place() {
    let (_dir, data, _s) = load();
    // The data directory is not empty.
    let size = std::fs::read_dir(data.join("log")).unwrap().count();
    let e = load_hunan_2006(&data).unwrap_err();
    assert!(
        matches!(&e, ledger::generate::HistoryError::Refused(m) if m.contains("not empty")),
        "{e:?}"
    );
    assert_eq!(std::fs::read_dir(data.join("log")).unwrap().count(), size);
    // The root key file exists already.
    let other = data.with_file_name("other");
    std::fs::write(root_key_path(&other), "x").unwrap();
    let e = load_hunan_2006(&other).unwrap_err();
    assert!(
        matches!(&e, ledger::generate::HistoryError::Refused(m) if m.contains("root.key")),
        "{e:?}"
    );
    assert!(!other.exists());
}

/// `ledger generate` refuses what it cannot make, by variant, writing nothing.
#[test]
fn generate_refuses_a_bad_count_a_used_place_and_a_key_inside_the_data() {
    use ledger::generate::{generate, GenerateOptions, HistoryError};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let key = dir.path().join("root.key");
    let opts = |records| GenerateOptions { records, seed: 1 };
    let refused = |r: Result<_, HistoryError>, what: &str| match r {
        Err(HistoryError::Refused(m)) => assert!(m.contains(what), "{m}"),
        other => panic!("expected a refusal naming {what:?}, got {other:?}"),
    };
    refused(generate(&data, &key, &opts(0)), "records must be 1 to");
    refused(
        generate(&data, &dir.path().join("no/root.key"), &opts(10)),
        "is not a directory",
    );
    std::fs::create_dir(&data).unwrap();
    refused(
        generate(&data, &data.join("root.key"), &opts(10)),
        "inside the data directory",
    );
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
    std::fs::write(data.join("x"), "x").unwrap();
    refused(generate(&data, &key, &opts(10)), "not empty");
    assert!(!key.exists());
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 1);
}
