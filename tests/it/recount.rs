//! City figures are recountable: every figure of one city's accountability
//! record, as `ledger city --json` prints it, is recomputed here directly from
//! the raw records in the log and compared numerator by numerator and
//! denominator by denominator.
//!
//! The recount deliberately does not use `projections::model` or
//! `projections::views`: it reads each leaf with `LogView` and `Record::parse`
//! and applies the definitions of DOMAIN.md ("Accountability record of a
//! city") and of the `CityRecord` doc comments with its own small code. It
//! shares only the spec primitives an auditor would also use: the time types
//! of `events` and the official working-day calendar.
//!
//! Everything is judged at `at` (the end of the report date): a step counts
//! only if its business time (`occurred_at`) is at or before `at`, and a
//! case's state at `at` is what its steps up to `at` made it. A case closed or
//! withdrawn after `at` was still open at `at`.

use crate::support::*;
use events::record::Record;
use events::time::{Date, OffsetTime, Timestamp};
use events::vocab::RuleParameters;
use ledger::generate::{generate, GenerateOptions};
use ledger::ledger::LogView;
use projections::calendar::Calendar;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The city recounted. Zhuzhou has cases (in 2006 with seed 11),
/// promises kept and breached, compensation, projects, flagged inspections,
/// monitoring points and evaluation feedback, and cases still being handled
/// across the report date, so the cut at `at` is exercised too (a case
/// resolved, closed or rejected in January 2007 is judged as it stood on 31
/// December). Every city is recounted; every figure but one is non-zero in
/// some city (checked below).
const CITY: &str = "hn.zhuzhou";
const FROM: &str = "2006-01-01";
const TO: &str = "2006-12-31";

/// One record as the log holds it: its seq, event type, business time and
/// body (with the fields later corrections superseded).
struct Raw {
    seq: u64,
    kind: &'static str,
    at: OffsetTime,
    body: Value,
}

impl Raw {
    fn str(&self, field: &str) -> &str {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("seq {}: {field} is not a string", self.seq))
    }

    fn num(&self, field: &str) -> u64 {
        self.body[field]
            .as_u64()
            .unwrap_or_else(|| panic!("seq {}: {field} is not a count", self.seq))
    }
}

/// Every record of the log, in seq order, read straight from the leaves.
fn read_log(data: &Path) -> Vec<Raw> {
    let view = LogView::open(data).unwrap();
    let mut raws: Vec<Raw> = (0..view.size())
        .map(|seq| {
            let r = Record::parse(&view.read_leaf(seq).unwrap()).unwrap();
            assert_eq!(r.seq, seq);
            let s = r.signed.statement;
            Raw {
                seq,
                kind: s.event.kind().name(),
                at: s.occurred_at,
                body: s.event.body_value(),
            }
        })
        .collect();
    // A correction supersedes the named fields of an earlier record; the
    // figures use the corrected values (nothing is edited in place in the log).
    let corrections: Vec<(u64, serde_json::Map<String, Value>)> = raws
        .iter()
        .filter(|r| r.kind == "correction")
        .map(|r| {
            let values = r.body["values"].as_object().unwrap().clone();
            (r.num("target_seq"), values)
        })
        .collect();
    for (target, values) in corrections {
        let body = raws[usize::try_from(target).unwrap()]
            .body
            .as_object_mut()
            .unwrap();
        body.extend(values);
    }
    raws
}

/// The judgement instant and period.
struct Judge {
    from: Date,
    to: Date,
    at: Timestamp,
}

impl Judge {
    /// Done by `at`: business time at or before the evaluation time.
    fn by(&self, t: &OffsetTime) -> bool {
        t.instant() <= self.at
    }

    /// Done before the due day `d` ended (24:00 Shanghai).
    fn on_time(t: &OffsetTime, d: Date) -> bool {
        t.instant() < Timestamp::from_shanghai_date_end(d).unwrap()
    }

    /// The due day `d` has ended at `at`.
    fn passed(&self, d: Date) -> bool {
        self.at >= Timestamp::from_shanghai_date_end(d).unwrap()
    }

    fn in_period(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }

    /// Done by `at`, on a business day in the period.
    fn settled_in(&self, t: &OffsetTime) -> bool {
        self.by(t) && self.in_period(t.shanghai_date())
    }
}

fn param(p: &Value, name: &str) -> u32 {
    u32::try_from(p[name].as_u64().unwrap()).unwrap()
}

struct Case<'a> {
    id: String,
    city: String,
    filed: OffsetTime,
    /// The rule parameters in force when the case was filed.
    params: Value,
    steps: Vec<&'a Raw>,
}

struct Conduct {
    at: OffsetTime,
    unapproved: bool,
    unregistered: bool,
    /// An emergency inspection conducted before its approval.
    emergency_unapproved: bool,
    repeated: bool,
    over_cap: bool,
}

struct Inspection<'a> {
    department: String,
    enterprise: String,
    emergency: bool,
    steps: Vec<&'a Raw>,
    conduct: Option<Conduct>,
}

/// What the recount gathers from one pass over the log, in seq order.
#[derive(Default)]
struct Gathered<'a> {
    /// Body id → (kind, city).
    bodies: BTreeMap<String, (String, Option<String>)>,
    successor: BTreeMap<String, String>,
    enterprise_city: BTreeMap<String, String>,
    cases: BTreeMap<String, Case<'a>>,
    /// Promise id → (body bound when made, later steps).
    promises: BTreeMap<String, (String, Vec<&'a Raw>)>,
    inspections: BTreeMap<String, Inspection<'a>>,
    /// Project id → (signing record, later steps).
    projects: BTreeMap<String, (&'a Raw, Vec<&'a Raw>)>,
    /// (city, year) → enterprise → the first naming record.
    monitoring: BTreeMap<(String, u64), BTreeMap<String, &'a Raw>>,
    feedback: Vec<&'a Raw>,
    /// (subject kind, id) → when accountability was imposed.
    accountability: BTreeMap<(String, String), Vec<OffsetTime>>,
    params: Value,
}

impl Gathered<'_> {
    /// Follows `body_reorganised` successors to the body that exists today.
    fn current(&self, body: &str) -> String {
        let mut cur = body.to_string();
        for _ in 0..=self.bodies.len() {
            match self.successor.get(&cur) {
                Some(next) => cur = next.clone(),
                None => break,
            }
        }
        cur
    }

    /// The city a body belongs to; a city government is its own city (R7).
    fn city_of(&self, body: &str) -> Option<String> {
        let (kind, city) = self.bodies.get(body)?;
        if kind == "city_government" {
            Some(body.to_string())
        } else {
            city.clone()
        }
    }

    fn accountability_by(&self, j: &Judge, kind: &str, id: &str) -> bool {
        self.accountability
            .get(&(kind.to_string(), id.to_string()))
            .is_some_and(|ts| ts.iter().any(|t| j.by(t)))
    }
}

fn gather(raws: &[Raw]) -> Gathered<'_> {
    let mut g = Gathered {
        params: serde_json::to_value(RuleParameters::default()).unwrap(),
        ..Gathered::default()
    };
    // Conducted inspections per enterprise, in order: (date, items).
    let mut conducted: BTreeMap<String, Vec<(Date, BTreeSet<String>)>> = BTreeMap::new();
    for r in raws {
        match r.kind {
            "rule_parameters_set" => g.params = r.body["parameters"].clone(),
            "body_registered" => {
                let city = r.body["city"].as_str().map(str::to_string);
                g.bodies
                    .entry(r.str("body").to_string())
                    .or_insert_with(|| (r.str("kind").to_string(), city));
            }
            "body_reorganised" => {
                g.successor
                    .insert(r.str("body").to_string(), r.str("successor").to_string());
            }
            "enterprise_registered" => {
                g.enterprise_city
                    .entry(r.str("enterprise").to_string())
                    .or_insert_with(|| r.str("city").to_string());
            }
            // R7: the case belongs to the city where the enterprise is, and
            // stays there whoever it is referred or assigned to.
            "complaint_filed" => {
                let id = r.str("case").to_string();
                let Some(city) = g.enterprise_city.get(r.str("enterprise")).cloned() else {
                    continue;
                };
                let params = g.params.clone();
                g.cases.entry(id.clone()).or_insert(Case {
                    id,
                    city,
                    filed: r.at,
                    params,
                    steps: Vec::new(),
                });
            }
            "promise_made" => {
                g.promises
                    .entry(r.str("promise").to_string())
                    .or_insert_with(|| (r.str("body").to_string(), Vec::new()));
            }
            "inspection_requested" => {
                g.inspections
                    .entry(r.str("inspection").to_string())
                    .or_insert_with(|| Inspection {
                        department: r.str("department").to_string(),
                        enterprise: r.str("enterprise").to_string(),
                        emergency: r.body["emergency"].as_bool().unwrap(),
                        steps: Vec::new(),
                        conduct: None,
                    });
            }
            "inspection_conducted" => {
                let i = g
                    .inspections
                    .entry(r.str("inspection").to_string())
                    .or_insert_with(|| Inspection {
                        department: r.str("department").to_string(),
                        enterprise: r.str("enterprise").to_string(),
                        emergency: false,
                        steps: Vec::new(),
                        conduct: None,
                    });
                if i.conduct.is_some() {
                    continue;
                }
                // The flags are facts about the history before the conduct:
                // approval and registration recorded before it, and the
                // enterprise's earlier inspections by any department.
                let approved = i.steps.iter().any(|s| s.kind == "inspection_approved");
                let registered = i.steps.iter().any(|s| s.kind == "inspection_registered");
                let date = r.at.shanghai_date();
                let items: BTreeSet<String> = r.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect();
                let window = i64::from(param(&g.params, "inspection_repeat_window_days"));
                let earlier = conducted.entry(i.enterprise.clone()).or_default();
                let repeated = earlier.iter().any(|(d, its)| {
                    (date.days_since_epoch() - d.days_since_epoch()).abs() <= window
                        && !its.is_disjoint(&items)
                });
                let this_year = earlier
                    .iter()
                    .filter(|(d, _)| d.year() == date.year())
                    .count();
                let cap = usize::try_from(param(&g.params, "inspection_yearly_cap")).unwrap();
                i.conduct = Some(Conduct {
                    at: r.at,
                    unapproved: !approved && !i.emergency,
                    unregistered: !registered,
                    emergency_unapproved: !approved && i.emergency,
                    repeated,
                    over_cap: this_year + 1 > cap,
                });
                earlier.push((date, items));
            }
            "project_signed" => {
                g.projects
                    .entry(r.str("project").to_string())
                    .or_insert((r, Vec::new()));
            }
            "project_milestone_reached" | "project_funds_arrived" => {
                if let Some(p) = g.projects.get_mut(r.str("project")) {
                    p.1.push(r);
                }
            }
            "monitoring_point_named" => {
                g.monitoring
                    .entry((r.str("city").to_string(), r.num("year")))
                    .or_default()
                    .entry(r.str("enterprise").to_string())
                    .or_insert(r);
            }
            "evaluation_feedback_recorded" => g.feedback.push(r),
            "accountability_imposed" => {
                let (kind, id) = r.body["subject"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .next()
                    .unwrap();
                g.accountability
                    .entry((kind.clone(), id.as_str().unwrap().to_string()))
                    .or_default()
                    .push(r.at);
            }
            _ => {
                if let Some(c) = r.body.get("case").and_then(Value::as_str) {
                    if let Some(case) = g.cases.get_mut(c) {
                        case.steps.push(r);
                    }
                } else if let Some(p) = r.body.get("promise").and_then(Value::as_str) {
                    if let Some(promise) = g.promises.get_mut(p) {
                        promise.1.push(r);
                    }
                } else if let Some(i) = r.body.get("inspection").and_then(Value::as_str) {
                    if let Some(insp) = g.inspections.get_mut(i) {
                        insp.steps.push(r);
                    }
                }
            }
        }
    }
    g
}

/// The recounted figures: JSON pointer into the `city` object → value.
type Figures = BTreeMap<String, u64>;

fn ratio(f: &mut Figures, name: &str, (numerator, denominator): (u64, u64)) {
    f.insert(format!("/{name}/numerator"), numerator);
    f.insert(format!("/{name}/denominator"), denominator);
}

fn recount(g: &Gathered, j: &Judge, cal: &Calendar, city: &str) -> Figures {
    let mut f = Figures::new();
    let mut received = 0u64;
    let mut closed = 0u64;
    let (mut reply, mut result, mut notices) = ((0, 0), (0, 0), (0, 0));
    let (mut overdue, mut follow) = (0u64, (0, 0));
    let (mut strict, mut broad) = ((0, 0), (0, 0));
    let mut losses = 0u64;
    for c in g.cases.values() {
        let filed = c.filed.shanghai_date();
        if c.city != city || !j.in_period(filed) {
            continue;
        }
        let steps = |kind: &'static str| c.steps.iter().copied().filter(move |s| s.kind == kind);
        let by_at = |kind: &'static str| steps(kind).filter(|s| j.by(&s.at));
        if by_at("complaint_rejected").next().is_some() {
            continue;
        }
        received += 1;
        // The state at `at`: the last closing, reopening or withdrawal by then.
        let last_state = c
            .steps
            .iter()
            .rfind(|s| {
                j.by(&s.at)
                    && matches!(
                        s.kind,
                        "case_closed" | "case_reopened" | "complaint_withdrawn"
                    )
            })
            .map(|s| s.kind);
        if last_state == Some("case_closed") {
            closed += 1;
        }
        let owes = !matches!(last_state, Some("case_closed" | "complaint_withdrawn"));

        let p = &c.params;
        let reply_due = cal
            .add_working_days(filed, param(p, "reply_working_days"))
            .unwrap();
        let result_due = cal.add_days(filed, param(p, "result_days")).unwrap();
        let cap = cal
            .add_months(filed, param(p, "extension_cap_months"))
            .unwrap();
        let first_reply = steps("first_reply_sent")
            .next()
            .map(|s| s.at)
            .filter(|t| j.by(t));
        let first_result = steps("case_resolved")
            .next()
            .map(|s| s.at)
            .filter(|t| j.by(t));
        let extended = steps("deadline_extended")
            .next()
            .map(|s| s.at)
            .filter(|t| j.by(t));
        // R4: only an extension made by the end of the result due day moves
        // the deadline to the cap.
        let lawful = extended.is_some_and(|t| Judge::on_time(&t, result_due));
        let deadline = if lawful { cap } else { result_due };

        // Whether the case still owed its steps when due day `d` ended: the
        // last closing, reopening or withdrawal before then.
        let owed_through = |d: Date| {
            let end = Timestamp::from_shanghai_date_end(d).unwrap();
            let last = c
                .steps
                .iter()
                .rfind(|s| {
                    j.by(&s.at)
                        && s.at.instant() < end
                        && matches!(
                            s.kind,
                            "case_closed" | "case_reopened" | "complaint_withdrawn"
                        )
                })
                .map(|s| s.kind);
            !matches!(last, Some("case_closed" | "complaint_withdrawn"))
        };
        // R1: the complaint is answered by its first reply, or by its
        // result if that came first.
        let answered = match (first_reply, first_result) {
            (Some(r), Some(s)) if s.instant() < r.instant() => Some(s),
            (r, s) => r.or(s),
        };
        if answered.is_some() || (j.passed(reply_due) && owed_through(reply_due)) {
            reply.1 += 1;
            if answered.is_some_and(|t| Judge::on_time(&t, reply_due)) {
                reply.0 += 1;
            }
        }
        if first_result.is_some() || (j.passed(deadline) && owed_through(deadline)) {
            result.1 += 1;
            if first_result.is_some_and(|t| Judge::on_time(&t, deadline)) {
                result.0 += 1;
            }
        }

        // R4: while extended, a progress notice every N days from the result
        // due date (each rolled to a working day), up to the cap.
        let mut notice_days = Vec::new();
        let every = param(p, "progress_notice_days");
        if extended.is_some() && every > 0 {
            for k in 1.. {
                let d = cal.add_days(result_due, every * k).unwrap();
                if d > cap {
                    break;
                }
                notice_days.push(d);
            }
        }
        let sent: Vec<OffsetTime> = steps("progress_reported").map(|s| s.at).collect();
        let (mut met, mut due) = (0u64, 0u64);
        for (i, d) in notice_days.iter().enumerate() {
            if !j.passed(*d) {
                break;
            }
            // A result given before the notice day ends makes the notice moot.
            if steps("case_resolved")
                .next()
                .is_some_and(|s| Judge::on_time(&s.at, *d))
            {
                break;
            }
            due += 1;
            if sent.iter().filter(|t| Judge::on_time(t, *d)).count() > i {
                met += 1;
            }
        }
        notices.0 += met;
        notices.1 += due;

        // Open overdue at `at`: the case still owes a result, and a reply,
        // result, progress notice or cap day has ended without it.
        let is_overdue = owes
            && first_result.is_none()
            && ((first_reply.is_none() && j.passed(reply_due))
                || (!lawful && j.passed(result_due))
                || (extended.is_some()
                    && sent.iter().filter(|t| j.by(t)).count()
                        < notice_days.iter().take_while(|d| j.passed(**d)).count())
                || j.passed(cap));
        let is_late = first_reply.is_some_and(|t| !Judge::on_time(&t, reply_due))
            || first_result.is_some_and(|t| !Judge::on_time(&t, deadline))
            || (first_result.is_some() && met < due);
        if is_overdue {
            overdue += 1;
        }
        if is_overdue || is_late {
            follow.1 += 1;
            if g.accountability_by(j, "case", &c.id) {
                follow.0 += 1;
            }
        }

        if let Some(rating) = by_at("satisfaction_recorded").next_back() {
            strict.1 += 1;
            broad.1 += 1;
            match rating.str("rating") {
                "satisfied" => {
                    strict.0 += 1;
                    broad.0 += 1;
                }
                "basically_satisfied" => broad.0 += 1,
                _ => {}
            }
        }
        if first_result.is_some() {
            // A later resolution states the total again; the latest one by `at` counts.
            losses += by_at("case_resolved")
                .next_back()
                .unwrap()
                .num("losses_recovered");
        }
    }
    f.insert("/received".into(), received);
    ratio(&mut f, "closure", (closed, received));
    ratio(&mut f, "first_reply_on_time", reply);
    ratio(&mut f, "result_on_time", result);
    ratio(&mut f, "progress_notices", notices);
    ratio(&mut f, "open_overdue", (overdue, received));
    ratio(&mut f, "satisfaction_strict", strict);
    ratio(&mut f, "satisfaction_broad", broad);
    f.insert("/losses_recovered".into(), losses);

    // Promises bind the body, and after a reorganisation its successor.
    let (mut kept, mut forbidden, mut compensation) = ((0, 0), (0, 0), 0u64);
    for (id, (body, steps)) in &g.promises {
        if g.city_of(&g.current(body)).as_deref() != Some(city) {
            continue;
        }
        let last = |kind: &str| steps.iter().rfind(|s| s.kind == kind && j.by(&s.at));
        if last("promise_kept").is_some_and(|s| j.settled_in(&s.at)) {
            kept.0 += 1;
            kept.1 += 1;
        }
        if let Some(b) = last("promise_breached").filter(|s| j.settled_in(&s.at)) {
            kept.1 += 1;
            forbidden.1 += 1;
            // Art. 31: these excuses are themselves violations.
            if matches!(
                b.str("excuse"),
                "redistricting" | "change_of_government" | "reorganisation" | "change_of_official"
            ) {
                forbidden.0 += 1;
            }
            follow.1 += 1;
            if g.accountability_by(j, "promise", id) {
                follow.0 += 1;
            }
        }
        compensation += steps
            .iter()
            .filter(|s| s.kind == "compensation_paid" && j.settled_in(&s.at))
            .map(|s| s.num("amount"))
            .sum::<u64>();
    }
    ratio(&mut f, "promises_kept", kept);
    ratio(&mut f, "breaches_forbidden_excuse", forbidden);
    f.insert("/compensation_paid".into(), compensation);

    let (mut started, mut funds) = ((0, 0), (0, 0));
    for (signed, steps) in g.projects.values() {
        if signed.str("city") != city || !j.in_period(signed.at.shanghai_date()) {
            continue;
        }
        started.1 += 1;
        if steps.iter().any(|s| {
            s.kind == "project_milestone_reached" && s.str("milestone") != "stalled" && j.by(&s.at)
        }) {
            started.0 += 1;
        }
        funds.1 += signed.num("planned_funds");
        funds.0 += steps
            .iter()
            .filter(|s| s.kind == "project_funds_arrived" && j.by(&s.at))
            .map(|s| s.num("amount"))
            .sum::<u64>();
    }
    ratio(&mut f, "projects_started", started);
    ratio(&mut f, "project_funds", funds);

    let mut compliant = (0, 0);
    let mut flags: BTreeMap<&str, u64> = [
        "unapproved",
        "unregistered",
        "repeated",
        "over_cap",
        "fee_demanded",
        "approval_pending",
    ]
    .into_iter()
    .map(|k| (k, 0))
    .collect();
    for (id, i) in &g.inspections {
        let Some(c) = &i.conduct else { continue };
        // A department's inspections count for its city, and for the city of
        // the body that succeeded it.
        let ours = g.city_of(&i.department).as_deref() == Some(city)
            || g.city_of(&g.current(&i.department)).as_deref() == Some(city);
        if !ours || !j.settled_in(&c.at) {
            continue;
        }
        compliant.1 += 1;
        let approved_by_at = i
            .steps
            .iter()
            .any(|s| s.kind == "inspection_approved" && j.by(&s.at));
        let pending = c.emergency_unapproved && !approved_by_at;
        let fee = i
            .steps
            .iter()
            .any(|s| s.kind == "inspection_fee_demanded" && j.by(&s.at));
        for (name, on) in [
            ("unapproved", c.unapproved),
            ("unregistered", c.unregistered),
            ("repeated", c.repeated),
            ("over_cap", c.over_cap),
            ("fee_demanded", fee),
            ("approval_pending", pending),
        ] {
            *flags.get_mut(name).unwrap() += u64::from(on);
        }
        if !c.unapproved && !c.unregistered && !pending {
            compliant.0 += 1;
        } else {
            follow.1 += 1;
            if g.accountability_by(j, "inspection", id) {
                follow.0 += 1;
            }
        }
    }
    ratio(&mut f, "inspections_compliant", compliant);
    for (name, n) in flags {
        f.insert(format!("/inspection_flags/{name}"), n);
    }
    ratio(&mut f, "accountability_follow_through", follow);

    // R22: the monitoring points named for the year of `to`.
    let year = u64::try_from(j.to.year()).unwrap();
    let p = &g.params;
    let deadline = Date::from_ymd(
        j.to.year(),
        param(p, "monitoring_filing_month"),
        param(p, "monitoring_filing_day"),
    )
    .unwrap();
    let points: Vec<&&Raw> = g
        .monitoring
        .get(&(city.to_string(), year))
        .into_iter()
        .flat_map(|m| m.values())
        .filter(|r| j.by(&r.at))
        .collect();
    let counties: BTreeSet<&str> = points.iter().map(|r| r.str("county")).collect();
    let count = |n: usize| u64::try_from(n).unwrap();
    let filed_by_deadline = count(
        points
            .iter()
            .filter(|r| r.at.shanghai_date() <= deadline)
            .count(),
    );
    f.insert("/monitoring/year".into(), year);
    f.insert("/monitoring/count".into(), count(points.len()));
    f.insert(
        "/monitoring/distinct_counties".into(),
        count(counties.len()),
    );
    ratio(
        &mut f,
        "monitoring/filed_by_deadline",
        (filed_by_deadline, count(points.len())),
    );
    let minimum = param(p, "monitoring_points_min");
    f.insert("/monitoring/minimum".into(), u64::from(minimum));

    // R23–R24: per dimension the respondent-weighted mean in per-mille
    // (rating × 10), then Σ weight × mean / 1000, all floored.
    f.insert("/evaluation/year".into(), year);
    let mut score = 0u64;
    for (k, dim) in [
        "service_awareness",
        "service_attitude",
        "system_implementation",
        "law_enforcement",
        "complaint_handling",
    ]
    .into_iter()
    .enumerate()
    {
        let (mut sum, mut respondents) = (0u64, 0u64);
        for r in g.feedback.iter().filter(|r| {
            r.str("city") == city
                && r.num("year") == year
                && r.str("dimension") == dim
                && j.by(&r.at)
        }) {
            sum += r.num("rating") * r.num("respondents") * 10;
            respondents += r.num("respondents");
        }
        let mean = sum.checked_div(respondents).unwrap_or(0);
        let weight = u64::from(param(&p["evaluation_weights"], dim));
        score += weight * mean;
        f.insert(format!("/evaluation/dimensions/{k}/mean_permille"), mean);
        f.insert(
            format!("/evaluation/dimensions/{k}/respondents"),
            respondents,
        );
        f.insert(
            format!("/evaluation/dimensions/{k}/weight_permille"),
            weight,
        );
    }
    f.insert("/evaluation/score_permille".into(), score / 1000);
    f
}

#[test]
fn city_figures_are_recounted_from_raw_records() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    generate(
        &data,
        &dir.path().join("root.key"),
        &GenerateOptions {
            records: 20000,
            seed: 11,
        },
    )
    .unwrap();

    let raws = read_log(&data);
    let g = gather(&raws);
    let to = Date::parse(TO).unwrap();
    let judge = Judge {
        from: Date::parse(FROM).unwrap(),
        to,
        at: Timestamp::from_shanghai_date_end(to).unwrap(),
    };
    // Every city: a bug in one city's figures hides in another's data (the
    // first version of this test passed for Changsha and failed for Zhuzhou).
    let cities: Vec<String> = g
        .bodies
        .iter()
        .filter(|(_, (kind, _))| kind == "city_government")
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(cities.len(), 14, "the 14 cities of Hunan");
    // Figures that are not zero in some city: a figure zero everywhere would
    // compare 0 with 0 and prove nothing.
    let mut seen_nonzero = std::collections::BTreeSet::new();
    let mut pointers = std::collections::BTreeSet::new();
    for city in &cities {
        let want = recount(&g, &judge, &Calendar::builtin(), city);
        for (pointer, n) in &want {
            pointers.insert(pointer.clone());
            if *n > 0 {
                seen_nonzero.insert(pointer.clone());
            }
        }
        if city == CITY {
            assert!(
                want["/received"] > 0,
                "{city} received no case in {FROM}..{TO}"
            );
        }

        let out = run(&[
            "city",
            "--data",
            path_str(&data),
            city.as_str(),
            "--from",
            FROM,
            "--to",
            TO,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "ledger city failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["at"], Value::from(judge.at.to_string()), "judged at");
        let got = &v["city"];
        assert_eq!(got["city"], Value::from(city.as_str()));

        let mut wrong: Vec<String> = want
            .iter()
            .filter(|(pointer, n)| got.pointer(pointer).and_then(Value::as_u64) != Some(**n))
            .map(|(pointer, n)| {
                let shown = got
                    .pointer(pointer)
                    .map_or("nothing".into(), Value::to_string);
                format!("{pointer}: ledger {shown}, recount {n}")
            })
            .collect();
        let meets = want["/monitoring/count"] >= want["/monitoring/minimum"];
        if got["monitoring"]["meets_minimum"] != meets {
            wrong.push(format!(
                "/monitoring/meets_minimum: ledger {}, recount {meets}",
                got["monitoring"]["meets_minimum"]
            ));
        }
        assert!(
            wrong.is_empty(),
            "{city} {FROM}..{TO}: {} of {} figures differ from the recount:\n{}",
            wrong.len(),
            want.len() + 1,
            wrong.join("\n")
        );
    }
    // An emergency inspection still awaiting its retroactive approval on 31
    // December is rare in a generated year (approval follows within days);
    // its count is compared all the same, and `r13_retroactive_approval_only_for_a_conducted_emergency`
    // checks the flag itself.
    let exempt = ["/inspection_flags/approval_pending".to_string()];
    let always_zero: Vec<&String> = pointers
        .difference(&seen_nonzero)
        .filter(|p| !exempt.contains(p))
        .collect();
    assert!(
        always_zero.is_empty(),
        "figures zero in every city, so not really recounted: {always_zero:?}"
    );
}
