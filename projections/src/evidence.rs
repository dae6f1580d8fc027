//! Which rules of DOMAIN.md have fired: for each row of its rule table (R1–R25
//! and the modern additions) the facts in the model that show the rule at
//! work — a flag raised, a figure measured, a required record present — and
//! the rule codes under which the rule refuses statements. A refusal leaves
//! nothing in the log, so refusals are counted by whoever saw them (the HTTP
//! service counts those it answered) and added to [`RuleRow::evidence`] by the
//! caller.

use crate::calendar::Calendar;
use crate::model::{Model, PromiseStatus};
use crate::views;
use events::time::{Date, Timestamp};
use events::vocab::{BodyKind, PromiseForm, RatingSource};
use serde::Serialize;

/// One piece of evidence: what was counted, and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub what: String,
    pub count: u64,
}

/// A row of DOMAIN.md's rule table with the evidence that it fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRow {
    pub rule: &'static str,
    pub summary: &'static str,
    /// How the ledger handles it (ARCHITECTURE.md's rule table).
    pub handled: &'static str,
    /// The rule codes of its refusals (FORMAT.md §18.3).
    pub refusal_codes: &'static [&'static str],
    pub evidence: Vec<Evidence>,
}

impl RuleRow {
    pub fn fired(&self) -> bool {
        self.evidence.iter().any(|e| e.count > 0)
    }
}

fn ev(what: &str, count: usize) -> Evidence {
    Evidence {
        what: what.to_string(),
        count: count as u64,
    }
}

/// The rows, with the evidence the model holds at `at`; `year` is the
/// evaluation year for R22–R25.
pub fn rule_evidence(model: &Model, cal: &Calendar, at: Timestamp, year: i32) -> Vec<RuleRow> {
    let cases: Vec<_> = model.cases.values().collect();
    let views: Vec<views::CaseView> = model
        .cases
        .keys()
        .filter_map(|id| views::case_view(model, cal, id, at))
        .collect();
    let count = |f: &dyn Fn(&&crate::model::Case) -> bool| cases.iter().filter(|c| f(c)).count();
    let overdue = |k: views::Overdue| {
        views
            .iter()
            .filter(|v| v.overdue.contains(&k) || v.late.contains(&k))
            .count()
    };
    let provincial = |b: &events::vocab::Id| {
        model.bodies.get(b).is_some_and(|x| {
            matches!(
                x.kind,
                BodyKind::ProvincialCentre | BodyKind::ProvincialOffice
            )
        })
    };
    let supervised_by_province = |c: &crate::model::Case| {
        c.supervisions.iter().any(|s| match &s.by {
            events::keys::Party::Body(b) => events::vocab::Id::new(b).is_ok_and(|b| provincial(&b)),
            _ => false,
        })
    };
    let provincial_involved = |c: &crate::model::Case| {
        c.referrals
            .iter()
            .any(|r| r.from.as_ref().is_some_and(provincial) || provincial(&r.to))
            || c.responsible.as_ref().is_some_and(provincial)
            || supervised_by_province(c)
    };
    let inspections: Vec<_> = model.inspections.values().collect();
    let flagged = |f: &dyn Fn(&crate::model::InspectionFlags) -> bool| {
        inspections.iter().filter(|i| f(&i.flags)).count()
    };
    let promises: Vec<_> = model.promises.values().collect();
    let ranking = views::ranking(model, cal, year, at);
    let (from, to) = (
        Date::from_ymd(year, 1, 1).ok(),
        Date::from_ymd(year, 12, 31).ok(),
    );
    let monitoring: usize = model
        .monitoring_points
        .values()
        .filter_map(|by_year| by_year.get(&u32::try_from(year).unwrap_or(0)))
        .map(|m| m.len())
        .sum();
    let late_points: usize = match (from, to) {
        (Some(from), Some(to)) => ranking
            .iter()
            .map(|r| {
                let rec = views::city_record(model, cal, &r.city, from, to, at);
                (rec.monitoring.filed_by_deadline.denominator
                    - rec.monitoring.filed_by_deadline.numerator) as usize
            })
            .sum(),
        _ => 0,
    };
    let feedback: usize = model
        .evaluation_feedback
        .values()
        .filter_map(|by_year| by_year.get(&u32::try_from(year).unwrap_or(0)))
        .map(Vec::len)
        .sum();

    vec![
        RuleRow {
            rule: "case lifecycle",
            summary: "filed → accepted or rejected → in progress → resolved → closed after the rating; dissatisfaction reopens; withdrawal",
            handled: "refused; recorded",
            refusal_codes: &["unknown_case", "case_not_awaiting_acceptance", "case_not_accepted", "case_not_in_progress", "case_not_resolved", "case_not_open", "case_close_without_rating", "case_reopen_without_dissatisfaction", "case_not_complainant"],
            evidence: vec![
                ev("cases closed", count(&|c| c.closed.is_some())),
                ev("cases rejected", count(&|c| c.rejected.is_some())),
                ev("cases reopened", count(&|c| c.reopened > 0)),
                ev("cases withdrawn", count(&|c| c.withdrawn.is_some())),
            ],
        },
        RuleRow {
            rule: "promise lifecycle",
            summary: "made → kept, breached, lawfully varied or void; dispute and settlement",
            handled: "refused; recorded",
            refusal_codes: &["unknown_promise", "promise_not_open"],
            evidence: vec![
                ev("promises kept", promises.iter().filter(|p| p.status == PromiseStatus::Kept).count()),
                ev("promises varied", promises.iter().filter(|p| !p.variations.is_empty()).count()),
                ev("promises disputed", promises.iter().filter(|p| !p.disputes.is_empty()).count()),
            ],
        },
        RuleRow {
            rule: "inspection lifecycle",
            summary: "requested → approved → registered → conducted",
            handled: "refused; flagged",
            refusal_codes: &["unknown_inspection", "inspection_already_conducted"],
            evidence: vec![ev("inspections conducted", inspections.iter().filter(|i| i.conducted.is_some()).count())],
        },
        RuleRow {
            rule: "ids, parameters and corrections",
            summary: "unique ids; configured defaults in range; corrections of correctable fields",
            handled: "refused; recorded",
            refusal_codes: &["case_already_exists", "promise_already_exists", "inspection_already_exists", "project_already_exists", "rule_parameters_out_of_range", "correction_target_unknown", "correction_field_not_correctable", "correction_value_invalid"],
            evidence: vec![
                ev("rule parameters set", usize::from(model.parameters_set_at.is_some())),
                ev("corrections", model.corrections.values().map(Vec::len).sum()),
            ],
        },
        RuleRow {
            rule: "R1",
            summary: "accept every complaint at once; first reply within 3 working days",
            handled: "recorded; refused (a second first reply); flagged (reply overdue); measured",
            refusal_codes: &["case_first_reply_already_sent"],
            evidence: vec![
                ev("first replies", count(&|c| c.first_reply.is_some())),
                ev("cases with the reply overdue or late", overdue(views::Overdue::Reply)),
            ],
        },
        RuleRow {
            rule: "R2",
            summary: "urgent cases get an on-site response the same day",
            handled: "recorded; flagged",
            refusal_codes: &[],
            evidence: vec![
                ev("urgent cases answered on site the day they were filed", count(&|c| {
                    c.urgent && c.first_reply.as_ref().is_some_and(|r| r.on_site && r.at.date() == c.filed.date())
                })),
                ev("urgent cases without a same-day on-site response (flag)", count(&|c| {
                    c.urgent && !c.first_reply.as_ref().is_some_and(|r| r.on_site && r.at.date() == c.filed.date())
                })),
            ],
        },
        RuleRow {
            rule: "R3",
            summary: "result to the complainant within 30 days",
            handled: "recorded; refused (a result by another body); flagged; measured",
            refusal_codes: &["case_not_responsible"],
            evidence: vec![
                ev("cases resolved", count(&|c| !c.resolutions.is_empty())),
                ev("cases with the result overdue or late", overdue(views::Overdue::Result)),
            ],
        },
        RuleRow {
            rule: "R4",
            summary: "extension with a progress notice every 15 days, up to a cap",
            handled: "recorded; refused (a second extension); flagged; measured",
            refusal_codes: &["case_already_extended"],
            evidence: vec![
                ev("cases extended", count(&|c| c.extended.is_some())),
                ev("progress notices", cases.iter().map(|c| c.progress_notices.len()).sum()),
                ev("cases with a notice overdue or the cap exceeded", overdue(views::Overdue::ProgressNotice) + overdue(views::Overdue::CapExceeded)),
            ],
        },
        RuleRow {
            rule: "R5",
            summary: "overdue through the handler's fault → accountability for the handler and the leaders above",
            handled: "recorded; refused; measured",
            refusal_codes: &["accountability_no_person", "accountability_not_authorised"],
            evidence: vec![ev("accountability records", model.accountability.len())],
        },
        RuleRow {
            rule: "R6",
            summary: "major complaints are reported to the government",
            handled: "recorded; flagged when missing",
            refusal_codes: &[],
            evidence: vec![
                ev("major cases reported to the government", count(&|c| c.major && !c.reported_to_government.is_empty())),
                ev("major cases not reported (flag)", count(&|c| c.major && c.reported_to_government.is_empty())),
            ],
        },
        RuleRow {
            rule: "R7",
            summary: "jurisdiction follows the enterprise's location",
            handled: "recorded; refused",
            refusal_codes: &["case_outside_jurisdiction"],
            evidence: vec![ev("cases in their enterprise's city", count(&|c| model.enterprises.get(&c.enterprise).is_some_and(|e| e.city == c.city)))],
        },
        RuleRow {
            rule: "R8",
            summary: "responsibility chain: head → deputy in charge → responsible division",
            handled: "recorded",
            refusal_codes: &[],
            evidence: vec![ev("cases with a responsibility chain", count(&|c| !c.chains.is_empty()))],
        },
        RuleRow {
            rule: "R9",
            summary: "simple procedure vs joint handling by several bodies",
            handled: "recorded",
            refusal_codes: &[],
            evidence: vec![ev("cases handled jointly", count(&|c| !c.joint.is_empty()))],
        },
        RuleRow {
            rule: "R10",
            summary: "major cases are investigated and supervised by the province directly",
            handled: "recorded; flagged when a major case has no provincial involvement",
            refusal_codes: &[],
            evidence: vec![
                ev("major cases with a provincial body involved", count(&|c| c.major && provincial_involved(c))),
                ev("major cases without provincial involvement (flag)", count(&|c| c.major && !provincial_involved(c))),
                ev("major cases supervised by the province (督办)", count(&|c| c.major && supervised_by_province(c))),
            ],
        },
        RuleRow {
            rule: "R11–R12",
            summary: "intake by hotline/web/letter, registered by a named clerk, referred and chased",
            handled: "recorded; refused",
            refusal_codes: &["complaint_filer_not_allowed", "case_referral_to_self"],
            evidence: vec![ev("cases referred", count(&|c| !c.referrals.is_empty()))],
        },
        RuleRow {
            rule: "R13",
            summary: "an inspection needs the department head's approval and registration beforehand; no repeats; no fees",
            handled: "refused; flagged; a flagged inspection opens a case",
            refusal_codes: &["inspection_approval_not_head", "inspection_already_approved", "inspection_not_department", "derived_case_reserved"],
            evidence: vec![
                ev("inspections conducted unapproved (flag)", flagged(&|f| f.unapproved)),
                ev("repeated inspections (flag)", flagged(&|f| f.repeated)),
                ev("fees demanded (flag)", flagged(&|f| f.fee_demanded)),
                ev("cases the ledger opened itself", count(&|c| c.triggered_by.is_some())),
            ],
        },
        RuleRow {
            rule: "R14",
            summary: "unapproved or unregistered inspections are violations",
            handled: "flagged; refused (a second registration); measured",
            refusal_codes: &["inspection_already_registered"],
            evidence: vec![
                ev("inspections conducted unregistered (flag)", flagged(&|f| f.unregistered)),
                ev("compliant inspections", inspections.iter().filter(|i| i.conducted.is_some() && i.flags.compliant()).count()),
            ],
        },
        RuleRow {
            rule: "R15",
            summary: "promises, minutes and contracts are honoured; a breach brings accountability and compensation",
            handled: "recorded; refused; flagged; measured",
            refusal_codes: &["promise_not_bound_body", "promise_dispute_not_beneficiary", "promise_compensation_without_breach"],
            evidence: vec![
                ev("promises breached", promises.iter().filter(|p| p.breach.is_some()).count()),
                ev("promises with compensation paid", promises.iter().filter(|p| p.compensation_paid.get() > 0).count()),
                ev("promises with accountability", promises.iter().filter(|p| !p.accountability.is_empty()).count()),
            ],
        },
        RuleRow {
            rule: "R16–R19",
            summary: "published service commitments with their own clocks; the first body contacted owns the case",
            handled: "recorded; flagged; measured",
            refusal_codes: &[],
            evidence: vec![
                ev("service commitments", promises.iter().filter(|p| p.form == PromiseForm::ServiceCommitment).count()),
                ev("service commitments on their published clock", promises.iter().filter(|p| p.clock_working_days.is_some()).count()),
                ev(
                    "service commitments past their published clock, still open (flag)",
                    promises
                        .iter()
                        .filter(|p| {
                            p.clock_working_days.is_some()
                                && matches!(p.status, PromiseStatus::Made | PromiseStatus::Varied)
                                && views::promise_overdue(&views::promise_due(cal, p), at)
                        })
                        .count(),
                ),
                ev("cases owned by the first body contacted", count(&|c| c.responsible.is_some())),
            ],
        },
        RuleRow {
            rule: "R20",
            summary: "every signed investment project has one leader, one team, one plan, followed to the end",
            handled: "recorded; refused (milestones out of order); measured",
            refusal_codes: &["project_milestone_out_of_order"],
            evidence: vec![ev("projects with a named leader", model.projects.values().filter(|p| !p.leader.as_str().is_empty()).count())],
        },
        RuleRow {
            rule: "R21",
            summary: "a file per investor, a ledger per project with a named tracker",
            handled: "recorded",
            refusal_codes: &[],
            evidence: vec![
                ev("enterprises on file", model.enterprises.len()),
                ev("projects with a named tracker", model.projects.values().filter(|p| !p.tracker.as_str().is_empty()).count()),
            ],
        },
        RuleRow {
            rule: "R22",
            summary: "each city names at least 10 monitoring-point enterprises, filed by 30 November",
            handled: "recorded; refused; measured; flagged (late)",
            refusal_codes: &["monitoring_point_wrong_city", "monitoring_point_duplicate"],
            evidence: vec![
                ev("monitoring points named for the year", monitoring),
                ev("monitoring points filed late (flag)", late_points),
            ],
        },
        RuleRow {
            rule: "R23",
            summary: "five evaluation dimensions",
            handled: "recorded; measured",
            refusal_codes: &[],
            evidence: vec![ev("evaluation feedback entries for the year", feedback)],
        },
        RuleRow {
            rule: "R24",
            summary: "yearly evaluation of the 14 cities; top three rewarded and announced",
            handled: "measured",
            refusal_codes: &[],
            evidence: vec![ev("cities in the top three", if feedback > 0 { ranking.iter().filter(|r| r.top_three).count() } else { 0 })],
        },
        RuleRow {
            rule: "R25",
            summary: "poor performers lose award eligibility",
            handled: "flagged",
            refusal_codes: &[],
            evidence: vec![ev("cities not eligible for awards (flag)", ranking.iter().filter(|r| !r.award_eligible).count())],
        },
        RuleRow {
            rule: "modern: no breach because of a change of government",
            summary: "redistricting, a change of government, reorganisation or of the official is no excuse for breaking a promise",
            handled: "flagged; measured",
            refusal_codes: &[],
            evidence: vec![ev("breaches on a forbidden excuse (flag)", promises.iter().filter(|p| p.breach.as_ref().is_some_and(|b| b.forbidden)).count())],
        },
        RuleRow {
            rule: "modern: the successor inherits",
            summary: "a successor body inherits promises and cases when a body is reorganised",
            handled: "recorded; refused",
            refusal_codes: &["body_already_reorganised", "body_reorganisation_cycle", "promise_body_reorganised"],
            evidence: vec![ev("bodies reorganised", model.bodies.values().filter(|b| b.successor.is_some()).count())],
        },
        RuleRow {
            rule: "modern: government-integrity record",
            summary: "broken commitments enter a government-integrity record",
            handled: "measured",
            refusal_codes: &[],
            evidence: vec![ev("broken commitments on record", promises.iter().filter(|p| p.status == PromiseStatus::Breached).count())],
        },
        RuleRow {
            rule: "modern: inspections approved beforehand, capped yearly",
            summary: "prior head approval, retroactive only in emergencies; a yearly cap per enterprise",
            handled: "refused; flagged; measured",
            refusal_codes: &["inspection_retroactive_not_emergency", "inspection_retroactive_mismatch"],
            evidence: vec![
                ev("inspections over the yearly cap (flag)", flagged(&|f| f.over_cap)),
                ev("emergency inspections", inspections.iter().filter(|i| i.emergency).count()),
            ],
        },
        RuleRow {
            rule: "modern: merged or joint inspections",
            summary: "several departments inspect an enterprise in one visit instead of repeating it",
            handled: "recorded; measured",
            refusal_codes: &[],
            evidence: vec![
                ev("joint inspections conducted", inspections.iter().filter(|i| i.conducted.is_some() && !i.joint_with.is_empty()).count()),
                ev("departments that joined another's visit", inspections.iter().filter(|i| i.conducted.is_some()).map(|i| i.joint_with.len()).sum()),
            ],
        },
        RuleRow {
            rule: "modern: the 12345 cycle",
            summary: "accept → dispatch → handle → reply → supervise → close → follow-up call → rating",
            handled: "recorded; refused; measured",
            refusal_codes: &["rating_source_mismatch", "supervision_not_authorised"],
            evidence: vec![
                ev("supervisions (督办)", cases.iter().map(|c| c.supervisions.len()).sum()),
                ev("ratings from a follow-up call", cases.iter().map(|c| c.ratings.iter().filter(|r| r.source == RatingSource::FollowUpCall).count()).sum()),
            ],
        },
        RuleRow {
            rule: "overdue is derived",
            summary: "overdue is a derived flag, never a stored state",
            handled: "flagged",
            refusal_codes: &[],
            evidence: vec![ev("cases overdue at the evaluation time (flag)", views.iter().filter(|v| !v.overdue.is_empty()).count())],
        },
    ]
}
