//! One test per rule; each name says which rule it checks.

use super::*;
use crate::model::{CaseState, ProjectStatus, PromiseStatus};
use crate::testkit::*;
use events::keys::{Party, Role};
use events::vocab::*;

const D: &str = "2006-02-24";

fn handler(body: &str) -> Actor {
    key(body, &[Role::Handler])
}

fn supervisor() -> Actor {
    key("province-office", &[Role::Supervisor])
}

fn follow_up() -> Actor {
    key("centre", &[Role::FollowUp])
}

fn promisor(body: &str) -> Actor {
    key(body, &[Role::Promisor])
}

fn inspector(body: &str) -> Actor {
    key(body, &[Role::Inspector])
}

fn head(body: &str) -> Actor {
    key(body, &[Role::Head])
}

/// A case referred to Zhuzhou and resolved there, awaiting its rating.
fn resolved_case(w: &mut World) {
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    w.ok(&handler("zz-office"), "2006-03-10", resolved("c1", 500_000));
}

// -- the table ------------------------------------------------------------------

#[test]
fn rule_codes_are_unique_snake_case_and_name_a_rule() {
    let mut seen = std::collections::BTreeSet::new();
    assert_eq!(RULE_CODES.len(), RuleCode::ALL.len());
    for (r, (code, meaning, rule)) in RuleCode::ALL.iter().zip(RULE_CODES) {
        assert_eq!(r.as_str(), *code);
        assert_eq!(RuleCode::parse(code), Some(*r));
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{code}"
        );
        assert!(seen.insert(*code), "duplicate {code}");
        assert!(!meaning.is_empty() && !rule.is_empty());
        // No rule code shadows a transport code of events::codes.
        assert!(events::codes::Code::parse(code).is_none(), "{code}");
    }
}

// -- case lifecycle -------------------------------------------------------------

#[test]
fn lifecycle_resolving_a_case_never_accepted_is_refused() {
    let mut w = World::hunan();
    w.file("c1", "taizinai", D);
    w.refused(&centre(), D, resolved("c1", 0), RuleCode::CaseNotAccepted);
    w.refused(
        &centre(),
        D,
        referred("c1", "zz-office"),
        RuleCode::CaseNotAccepted,
    );
}

#[test]
fn lifecycle_only_a_filed_case_is_accepted_or_rejected() {
    let mut w = World::hunan();
    w.file("c1", "taizinai", D);
    w.ok(&centre(), D, accepted("c1"));
    w.refused(
        &centre(),
        D,
        accepted("c1"),
        RuleCode::CaseNotAwaitingAcceptance,
    );
    let reject = ComplaintRejected {
        case: id("c1"),
        reason: text("outside remit"),
    };
    w.refused(&centre(), D, reject, RuleCode::CaseNotAwaitingAcceptance);
}

#[test]
fn lifecycle_a_rejected_case_is_not_handled() {
    let mut w = World::hunan();
    w.file("c1", "taizinai", D);
    let reject = ComplaintRejected {
        case: id("c1"),
        reason: text("not an investment dispute"),
    };
    w.ok(&centre(), D, reject);
    assert_eq!(w.model.cases[&id("c1")].state, CaseState::Rejected);
    w.refused(
        &centre(),
        D,
        referred("c1", "zz-office"),
        RuleCode::CaseNotInProgress,
    );
    let withdraw = ComplaintWithdrawn {
        case: id("c1"),
        reason: text("x"),
    };
    w.refused(&ent("taizinai"), D, withdraw, RuleCode::CaseNotOpen);
}

#[test]
fn lifecycle_handling_unknown_case_is_refused() {
    let mut w = World::hunan();
    w.refused(&centre(), D, accepted("nope"), RuleCode::UnknownCase);
}

#[test]
fn lifecycle_rating_comes_after_resolution() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let r = rated("c1", Rating::Satisfied, RatingSource::Enterprise);
    w.refused(&ent("taizinai"), D, r, RuleCode::CaseNotResolved);
}

#[test]
fn lifecycle_closing_needs_a_rating() {
    let mut w = World::hunan();
    resolved_case(&mut w);
    w.refused(
        &handler("zz-office"),
        "2006-03-11",
        closed("c1"),
        RuleCode::CaseCloseWithoutRating,
    );
    w.ok(
        &ent("taizinai"),
        "2006-03-12",
        rated("c1", Rating::Satisfied, RatingSource::Enterprise),
    );
    w.ok(&handler("zz-office"), "2006-03-13", closed("c1"));
    assert_eq!(w.model.cases[&id("c1")].state, CaseState::Closed);
}

#[test]
fn lifecycle_only_a_resolved_case_is_closed() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    w.refused(
        &handler("zz-office"),
        D,
        closed("c1"),
        RuleCode::CaseNotResolved,
    );
}

#[test]
fn lifecycle_dissatisfaction_reopens_a_closed_case() {
    let mut w = World::hunan();
    resolved_case(&mut w);
    w.ok(
        &follow_up(),
        "2006-03-12",
        rated("c1", Rating::Dissatisfied, RatingSource::FollowUpCall),
    );
    w.ok(&handler("zz-office"), "2006-03-13", closed("c1"));
    w.ok(&ent("taizinai"), "2006-03-14", reopened("c1"));
    let c = &w.model.cases[&id("c1")];
    assert_eq!((c.state, c.reopened), (CaseState::InProgress, 1));
    // The old rating belongs to the old round: closing again needs a new one.
    w.ok(&handler("zz-office"), "2006-03-20", resolved("c1", 600_000));
    w.refused(
        &handler("zz-office"),
        "2006-03-21",
        closed("c1"),
        RuleCode::CaseCloseWithoutRating,
    );
}

#[test]
fn lifecycle_reopen_without_dissatisfaction_needs_a_supervisor() {
    let mut w = World::hunan();
    resolved_case(&mut w);
    w.ok(
        &ent("taizinai"),
        "2006-03-12",
        rated("c1", Rating::BasicallySatisfied, RatingSource::Enterprise),
    );
    w.refused(
        &ent("taizinai"),
        "2006-03-13",
        reopened("c1"),
        RuleCode::CaseReopenWithoutDissatisfaction,
    );
    w.refused(
        &centre(),
        "2006-03-13",
        reopened("c1"),
        RuleCode::CaseReopenWithoutDissatisfaction,
    );
    w.ok(&supervisor(), "2006-03-13", reopened("c1"));
}

#[test]
fn lifecycle_reopen_only_from_resolved_or_closed() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    w.refused(&supervisor(), D, reopened("c1"), RuleCode::CaseNotResolved);
}

#[test]
fn lifecycle_withdrawal_from_any_open_state() {
    let mut w = World::hunan();
    let withdraw = |c: &str| ComplaintWithdrawn {
        case: id(c),
        reason: text("settled privately"),
    };
    // Filed, accepted, in progress and resolved are open.
    w.file("a", "taizinai", D);
    w.ok(&ent("taizinai"), D, withdraw("a"));
    w.file("b", "taizinai", D);
    w.ok(&centre(), D, accepted("b"));
    w.ok(&centre(), D, withdraw("b"));
    w.file_and_refer("c", "taizinai", "zz-office", D);
    w.ok(&ent("taizinai"), D, withdraw("c"));
    w.file_and_refer("d", "taizinai", "zz-office", D);
    w.ok(&handler("zz-office"), D, resolved("d", 0));
    w.ok(&ent("taizinai"), D, withdraw("d"));
    assert!(["a", "b", "c", "d"]
        .iter()
        .all(|c| w.model.cases[&id(c)].state == CaseState::Withdrawn));
    // A withdrawn case is not withdrawn again, and another enterprise cannot withdraw it.
    w.refused(&ent("taizinai"), D, withdraw("a"), RuleCode::CaseNotOpen);
    w.file("e", "taizinai", D);
    w.refused(
        &ent("zz-other"),
        D,
        withdraw("e"),
        RuleCode::CaseNotComplainant,
    );
    // On its behalf, only an intake clerk the case concerns: not one of a
    // body in another city; one of the body that took the complaint in.
    w.refused(
        &key("cs-office", &[Role::Intake]),
        D,
        withdraw("e"),
        RuleCode::CaseNotComplainant,
    );
    w.ok(
        &key("zz-office", &[Role::Intake]),
        D,
        filed("f", "taizinai"),
    );
    w.refused(
        &key("cs-office", &[Role::Intake]),
        D,
        withdraw("f"),
        RuleCode::CaseNotComplainant,
    );
    w.ok(&key("zz-office", &[Role::Intake]), D, withdraw("f"));
}

#[test]
fn r1_first_reply_is_sent_once() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let reply = || FirstReplySent {
        case: id("c1"),
        summary: text("received"),
        on_site: false,
    };
    w.ok(&handler("zz-office"), D, reply());
    w.refused(
        &handler("zz-office"),
        D,
        reply(),
        RuleCode::CaseFirstReplyAlreadySent,
    );
}

#[test]
fn r4_deadline_is_extended_once() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let ext = || DeadlineExtended {
        case: id("c1"),
        reason: text("complex"),
    };
    w.ok(&handler("zz-office"), "2006-03-20", ext());
    w.refused(
        &handler("zz-office"),
        "2006-04-20",
        ext(),
        RuleCode::CaseAlreadyExtended,
    );
}

// -- case authority -------------------------------------------------------------

#[test]
fn r11_complaint_is_filed_by_the_enterprise_itself_or_an_intake_clerk() {
    let mut w = World::hunan();
    w.ok(&ent("taizinai"), D, filed("own", "taizinai"));
    w.ok(
        &key("zz-office", &[Role::Intake]),
        D,
        filed("clerk", "taizinai"),
    );
    w.refused(
        &ent("zz-other"),
        D,
        filed("other", "taizinai"),
        RuleCode::ComplaintFilerNotAllowed,
    );
    w.refused(
        &centre(),
        D,
        filed("x", "nobody"),
        RuleCode::UnknownEnterprise,
    );
    let mut against = filed("y", "taizinai");
    against.against = Some(id("no-such-body"));
    w.refused(&centre(), D, against, RuleCode::UnknownBody);
    // The channel it came in by and who registered it stay on the case.
    let by_letter = ComplaintFiled {
        channel: Channel::Letter,
        ..filed("letter", "taizinai")
    };
    w.ok(&key("centre", &[Role::Intake]), D, by_letter);
    let c = &w.model.cases[&id("letter")];
    assert_eq!(c.channel, Channel::Letter);
    assert_eq!(c.filed_by, Party::Body("centre".into()));
    assert_eq!(w.model.cases[&id("own")].channel, Channel::Hotline);
    assert_eq!(
        w.model.cases[&id("own")].filed_by,
        Party::Enterprise("taizinai".into())
    );
}

#[test]
fn duplicate_case_id_is_refused() {
    let mut w = World::hunan();
    w.file("c1", "taizinai", D);
    w.refused(
        &centre(),
        D,
        filed("c1", "dushi"),
        RuleCode::CaseAlreadyExists,
    );
}

#[test]
fn r7_case_city_is_the_enterprise_city_and_referral_stays_in_jurisdiction() {
    let mut w = World::hunan();
    w.file("c1", "taizinai", D);
    assert_eq!(w.model.cases[&id("c1")].city, id("zhuzhou"));
    w.ok(&centre(), D, accepted("c1"));
    w.refused(
        &centre(),
        D,
        referred("c1", "cs-office"),
        RuleCode::CaseOutsideJurisdiction,
    );
    // A body of no city (the province) and the city's own bodies are fine.
    w.ok(&centre(), D, referred("c1", "zz-office"));
}

/// R7 on acceptance: accepting a complaint nobody has taken on makes the
/// accepting body responsible, so another city's office may not; the
/// enterprise's own city (or the province) may. A body that took the
/// complaint in itself (R16) still accepts it, to refer it on.
#[test]
fn r7_acceptance_by_another_citys_office_is_outside_jurisdiction() {
    let mut w = World::hunan();
    w.ok(&ent("taizinai"), D, filed("c1", "taizinai"));
    w.refused(
        &key("cs-office", &[Role::Intake]),
        D,
        accepted("c1"),
        RuleCode::CaseOutsideJurisdiction,
    );
    w.ok(&key("zz-office", &[Role::Intake]), D, accepted("c1"));
    assert_eq!(w.model.cases[&id("c1")].responsible, Some(id("zz-office")));

    w.ok(
        &key("cs-office", &[Role::Intake]),
        D,
        filed("c2", "taizinai"),
    );
    w.ok(&key("cs-office", &[Role::Intake]), D, accepted("c2"));
    w.ok(
        &key("cs-office", &[Role::Intake]),
        D,
        referred("c2", "zz-office"),
    );
    assert_eq!(w.model.cases[&id("c2")].responsible, Some(id("zz-office")));
}

#[test]
fn r16_first_body_contacted_owns_the_case() {
    let mut w = World::hunan();
    w.ok(
        &key("zz-office", &[Role::Intake]),
        D,
        filed("c1", "taizinai"),
    );
    assert_eq!(w.model.cases[&id("c1")].responsible, Some(id("zz-office")));
    // Filed by the enterprise itself: whoever accepts it owns it.
    w.ok(&ent("dushi"), D, filed("c2", "dushi"));
    assert_eq!(w.model.cases[&id("c2")].responsible, None);
    w.refused(
        &handler("cs-office"),
        D,
        accepted("c2"),
        RuleCode::CaseNotResponsible,
    );
    w.ok(&key("cs-office", &[Role::Intake]), D, accepted("c2"));
    assert_eq!(w.model.cases[&id("c2")].responsible, Some(id("cs-office")));
}

#[test]
fn r12_only_the_responsible_body_resolves() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    // Neither another body, nor the centre that referred it, resolves it.
    w.refused(
        &handler("zz-aic"),
        D,
        resolved("c1", 0),
        RuleCode::CaseNotResponsible,
    );
    w.refused(
        &key("centre", &[Role::Intake, Role::Handler]),
        D,
        resolved("c1", 0),
        RuleCode::CaseNotResponsible,
    );
    w.ok(&handler("zz-office"), D, resolved("c1", 0));
}

#[test]
fn r12_after_referral_only_the_new_body_or_the_centre_refers() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    // The centre is no longer responsible, but it may still chase and re-route (R11–R12).
    w.refused(
        &key("cs-office", &[Role::Intake]),
        D,
        referred("c1", "zz-aic"),
        RuleCode::CaseNotResponsible,
    );
    w.ok(&handler("zz-office"), D, referred("c1", "zz-aic"));
    w.refused(
        &handler("zz-office"),
        D,
        referred("c1", "zz-office"),
        RuleCode::CaseNotResponsible,
    );
    w.refused(
        &handler("zz-aic"),
        D,
        referred("c1", "zz-aic"),
        RuleCode::CaseReferralToSelf,
    );
    w.ok(&centre(), D, referred("c1", "zz-office"));
    let c = &w.model.cases[&id("c1")];
    assert_eq!(c.referrals.len(), 3);
    assert_eq!(c.responsible, Some(id("zz-office")));
}

#[test]
fn r8_responsibility_chain_is_assigned_by_the_responsible_body() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let assign = |body: &str| ResponsibilityAssigned {
        case: id("c1"),
        body: id(body),
        head: text("head"),
        deputy: text("deputy"),
        division: text("division"),
        handler: text("handler"),
    };
    w.refused(
        &handler("zz-aic"),
        D,
        assign("zz-aic"),
        RuleCode::CaseNotResponsible,
    );
    w.ok(&handler("zz-office"), D, assign("zz-office"));
    w.refused(
        &handler("zz-office"),
        D,
        assign("no-such"),
        RuleCode::UnknownBody,
    );
    let c = &w.model.cases[&id("c1")];
    assert_eq!(c.chain.as_ref().map(|x| x.head.as_str()), Some("head"));
}

#[test]
fn r12_case_of_a_reorganised_body_passes_to_its_successor() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    w.body(
        "zz-commerce",
        BodyKind::CityOffice,
        Some("zhuzhou"),
        None,
        D,
    );
    let reorg = BodyReorganised {
        body: id("zz-office"),
        kind: Reorganisation::MergedInto,
        successor: id("zz-commerce"),
        basis: text("institutional reform"),
    };
    w.ok(&root(), D, reorg);
    w.refused(
        &handler("zz-office"),
        D,
        resolved("c1", 0),
        RuleCode::CaseNotResponsible,
    );
    w.ok(&handler("zz-commerce"), D, resolved("c1", 0));
}

#[test]
fn rating_source_enterprise_is_the_complainant_and_follow_up_needs_the_role() {
    let mut w = World::hunan();
    resolved_case(&mut w);
    let by_ent = rated("c1", Rating::Satisfied, RatingSource::Enterprise);
    w.refused(
        &ent("zz-other"),
        D,
        by_ent.clone(),
        RuleCode::RatingSourceMismatch,
    );
    w.refused(&follow_up(), D, by_ent, RuleCode::RatingSourceMismatch);
    let by_call = rated("c1", Rating::Satisfied, RatingSource::FollowUpCall);
    w.refused(
        &ent("taizinai"),
        D,
        by_call.clone(),
        RuleCode::RatingSourceMismatch,
    );
    w.ok(&follow_up(), D, by_call);
}

#[test]
fn r6_report_to_government_by_responsible_centre_or_supervisor() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let report = |to: &str| ReportedToGovernment {
        case: id("c1"),
        to: id(to),
        summary: text("major case"),
    };
    w.refused(
        &handler("zz-aic"),
        D,
        report("zhuzhou"),
        RuleCode::CaseNotResponsible,
    );
    w.refused(
        &handler("zz-office"),
        D,
        report("nowhere"),
        RuleCode::UnknownBody,
    );
    w.ok(&handler("zz-office"), D, report("zhuzhou"));
    w.ok(&supervisor(), D, report("zhuzhou"));
    assert_eq!(w.model.cases[&id("c1")].reported_to_government.len(), 2);
}

/// R6: a major case not (yet) reported to the government is flagged in the
/// rule evidence; once the responsible body reports it, it counts as reported.
#[test]
fn r6_major_case_not_reported_to_the_government_is_flagged() {
    let mut w = World::hunan();
    let major = ComplaintFiled {
        major: true,
        ..filed("c1", "taizinai")
    };
    w.ok(&centre(), D, major);
    w.ok(&centre(), D, accepted("c1"));
    w.ok(&centre(), D, referred("c1", "zz-office"));
    // An ordinary case is neither reported nor flagged.
    w.file_and_refer("c2", "dushi", "cs-office", D);
    assert_eq!(
        evidence_of(&w, "R6"),
        [
            ("major cases reported to the government".to_string(), 0),
            ("major cases not reported (flag)".to_string(), 1),
        ]
    );
    w.ok(
        &handler("zz-office"),
        D,
        ReportedToGovernment {
            case: id("c1"),
            to: id("zhuzhou"),
            summary: text("major case"),
        },
    );
    assert_eq!(
        evidence_of(&w, "R6"),
        [
            ("major cases reported to the government".to_string(), 1),
            ("major cases not reported (flag)".to_string(), 0),
        ]
    );
}

#[test]
fn r9_joint_handling_names_registered_bodies() {
    let mut w = World::hunan();
    w.file("c1", "liancheng", D);
    w.ok(&centre(), D, accepted("c1"));
    let joint = |a: &str, b: &str| JointHandlingConvened {
        case: id("c1"),
        bodies: vec![id(a), id(b)],
        on_site: true,
        note: text("land clearance"),
    };
    w.refused(
        &centre(),
        D,
        joint("xt-office", "ghost"),
        RuleCode::UnknownBody,
    );
    // Accepted under the simple procedure; the joint handling changes it.
    assert_eq!(w.model.cases[&id("c1")].procedure, Some(Procedure::Simple));
    w.ok(&centre(), D, joint("xt-office", "xiangtan"));
    let c = &w.model.cases[&id("c1")];
    assert_eq!(c.procedure, Some(Procedure::Joint));
    assert_eq!(c.state, CaseState::InProgress);
    assert_eq!(
        c.joint_bodies(),
        [&id("xiangtan"), &id("xt-office")],
        "in id order"
    );
}

// -- derived cases ----------------------------------------------------------------

#[test]
fn r13_derived_case_is_reserved_for_the_ledger() {
    let mut w = World::hunan();
    let mut f = filed("c1", "taizinai");
    f.channel = Channel::Derived;
    w.refused(&centre(), D, f, RuleCode::DerivedCaseReserved);
    w.refused(
        &centre(),
        D,
        filed("auto-7", "taizinai"),
        RuleCode::DerivedCaseReserved,
    );
    let mut f = filed("c2", "taizinai");
    f.triggered_by = Some(1);
    w.refused(&centre(), D, f, RuleCode::DerivedCaseReserved);
}

#[test]
fn r13_derived_case_needs_a_trigger_and_matches_it() {
    let mut w = World::hunan();
    let mut f = filed("auto-1", "taizinai");
    f.channel = Channel::Derived;
    f.triggered_by = Some(1);
    w.refused(&system(), D, f, RuleCode::DerivedCaseWithoutTrigger);

    // A flagged inspection; build its derived case by hand, once wrong, once twice.
    let flags = w.ok(
        &inspector("zz-aic"),
        D,
        conducted("i1", "zz-aic", "taizinai", &["fire"]),
    );
    assert!(flags.contains(&Flag::OpensCase));
    let trigger = w.log.iter().rev().nth(1).map(|r| r.seq).expect("trigger");
    let derived = w.model.cases[&id(&format!("auto-{trigger}"))].clone();
    assert_eq!(derived.triggered_by, Some(trigger));
    let mut again = filed(&format!("auto-{trigger}x"), "taizinai");
    again.channel = Channel::Derived;
    again.triggered_by = Some(trigger);
    w.refused(&system(), D, again, RuleCode::DerivedCaseWithoutTrigger);
}

#[test]
fn r13_derived_case_differing_from_its_trigger_is_refused() {
    let mut w = World::hunan();
    let seq = w.next_seq();
    let owned = Owned {
        seq,
        recorded_at: when(D).instant(),
        statement: events::statement::Statement {
            origin: "test".into(),
            id: "s".into(),
            actor: events::keys::KeyId([0; 32]),
            on_behalf_of: None,
            issued_at: when(D).instant(),
            occurred_at: when(D),
            event: conducted("i1", "zz-aic", "taizinai", &["fire"]).into(),
        },
        actor: inspector("zz-aic"),
    };
    let flags = check(&w.model, &owned.applied()).expect("accepted");
    w.model.apply(&owned.applied());
    w.log.push(owned.clone());
    let mut body =
        derived_complaint(&w.model, &owned.applied(), &flags, seq + 1).expect("opens a case");
    body.urgent = true;
    w.refused(&system(), D, body.clone(), RuleCode::DerivedCaseMismatch);
    body.urgent = false;
    // Stated at another time than the trigger.
    w.refused(
        &system(),
        "2006-02-25",
        body.clone(),
        RuleCode::DerivedCaseMismatch,
    );
    w.ok(&system(), D, body);
    assert_eq!(w.model.pending_derived_cases().count(), 0);
}

// -- promises ---------------------------------------------------------------------

#[test]
fn lifecycle_keeping_a_promise_never_made_is_refused() {
    let mut w = World::hunan();
    w.refused(
        &promisor("zhuzhou"),
        D,
        kept("p1"),
        RuleCode::UnknownPromise,
    );
}

#[test]
fn lifecycle_a_promise_is_kept_breached_or_voided_once() {
    let mut w = World::hunan();
    w.ok(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("taizinai")),
    );
    w.ok(&promisor("zhuzhou"), D, kept("p1"));
    w.refused(
        &promisor("zhuzhou"),
        D,
        kept("p1"),
        RuleCode::PromiseNotOpen,
    );
    w.refused(
        &promisor("zhuzhou"),
        D,
        breached("p1", Excuse::Other),
        RuleCode::PromiseNotOpen,
    );
    w.refused(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", None),
        RuleCode::PromiseAlreadyExists,
    );
}

/// R15 with art. 31: a promise is declared void on a supervising body's
/// finding. The body it binds cannot void it, with its promisor key or even
/// a supervisor key of its own, or every breach could be recorded as a void;
/// another body's promisor cannot either; a void promise is closed.
#[test]
fn r15_only_a_supervising_body_not_the_bound_body_voids_a_promise() {
    let mut w = World::hunan();
    w.ok(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("taizinai")),
    );
    let void = || PromiseVoided {
        promise: id("p1"),
        reason: text("a tax rebate the city had no power to grant"),
    };
    for who in [
        promisor("zhuzhou"),
        key("zhuzhou", &[Role::Supervisor]),
        promisor("changsha"),
    ] {
        w.refused(&who, D, void(), RuleCode::PromiseVoidByBoundBody);
    }
    let province = key("province-office", &[Role::Supervisor]);
    w.ok(&province, D, void());
    assert_eq!(w.model.promises[&id("p1")].status, PromiseStatus::Voided);
    w.refused(&province, D, void(), RuleCode::PromiseNotOpen);
    w.refused(
        &promisor("zhuzhou"),
        D,
        kept("p1"),
        RuleCode::PromiseNotOpen,
    );
}

#[test]
fn r15_lawfully_varied_promise_is_still_kept_or_breached() {
    let mut w = World::hunan();
    w.ok(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("taizinai")),
    );
    let vary = PromiseVaried {
        promise: id("p1"),
        public_interest_basis: text("road widening"),
        new_terms: text("new site"),
        compensation: fen(2_000_000),
    };
    w.ok(&promisor("zhuzhou"), D, vary);
    w.ok(&promisor("zhuzhou"), D, kept("p1"));
    assert_eq!(w.model.promises[&id("p1")].status, PromiseStatus::Kept);
}

#[test]
fn r15_promise_is_made_by_a_key_of_the_body_it_binds() {
    let mut w = World::hunan();
    w.refused(
        &promisor("zz-office"),
        D,
        promise_made("p1", "zhuzhou", None),
        RuleCode::PromiseNotBoundBody,
    );
    w.refused(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "ghost", None),
        RuleCode::UnknownBody,
    );
    w.refused(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("ghost")),
        RuleCode::UnknownEnterprise,
    );
    w.ok(&promisor("zhuzhou"), D, promise_made("p1", "zhuzhou", None));
    w.refused(
        &promisor("zz-office"),
        D,
        kept("p1"),
        RuleCode::PromiseNotBoundBody,
    );
}

#[test]
fn r15_successor_body_inherits_promises_after_reorganisation() {
    let mut w = World::hunan();
    w.ok(
        &promisor("zz-office"),
        D,
        promise_made("p1", "zz-office", Some("taizinai")),
    );
    w.body(
        "zz-commerce",
        BodyKind::CityOffice,
        Some("zhuzhou"),
        None,
        D,
    );
    let reorg = BodyReorganised {
        body: id("zz-office"),
        kind: Reorganisation::MergedInto,
        successor: id("zz-commerce"),
        basis: text("2006 institutional reform"),
    };
    w.ok(&root(), D, reorg);
    assert_eq!(
        w.model.body_bound_today(&w.model.promises[&id("p1")]),
        id("zz-commerce")
    );
    // The old body neither acts on the promise nor makes new ones.
    w.refused(
        &promisor("zz-office"),
        D,
        kept("p1"),
        RuleCode::PromiseNotBoundBody,
    );
    w.refused(
        &promisor("zz-office"),
        D,
        promise_made("p2", "zz-office", None),
        RuleCode::PromiseBodyReorganised,
    );
    // Reorganisation is no excuse: the successor breaches on it, and it is marked.
    let flags = w.ok(
        &promisor("zz-commerce"),
        D,
        breached("p1", Excuse::Reorganisation),
    );
    assert_eq!(flags, vec![Flag::ForbiddenExcuse]);
}

#[test]
fn r15_change_of_office_holder_never_changes_a_promise() {
    let mut w = World::hunan();
    w.ok(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("taizinai")),
    );
    let before = w.model.promises[&id("p1")].clone();
    let appoint = OfficeHolderAppointed {
        body: id("zhuzhou"),
        position: Position::Head,
        person: text("new mayor"),
        division: None,
    };
    w.ok(&root(), "2006-06-01", appoint);
    assert_eq!(w.model.promises[&id("p1")], before);
    assert_eq!(w.model.body_bound_today(&before), id("zhuzhou"));
    let flags = w.ok(
        &head("zhuzhou"),
        "2006-06-02",
        breached("p1", Excuse::ChangeOfOfficial),
    );
    assert_eq!(flags, vec![Flag::ForbiddenExcuse]);
}

#[test]
fn r15_breach_with_forbidden_excuse_is_marked() {
    for excuse in [
        Excuse::Redistricting,
        Excuse::ChangeOfGovernment,
        Excuse::Reorganisation,
        Excuse::ChangeOfOfficial,
    ] {
        let mut w = World::hunan();
        w.ok(
            &promisor("zhuzhou"),
            D,
            promise_made("p1", "zhuzhou", Some("taizinai")),
        );
        let flags = w.ok(&promisor("zhuzhou"), D, breached("p1", excuse));
        assert_eq!(flags, vec![Flag::ForbiddenExcuse], "{excuse:?}");
        let b = w.model.promises[&id("p1")].breach.clone().expect("breach");
        assert!(b.forbidden);
    }
}

#[test]
fn r15_breach_with_a_lawful_excuse_is_not_marked() {
    let mut w = World::hunan();
    w.ok(&promisor("zhuzhou"), D, promise_made("p1", "zhuzhou", None));
    let flags = w.ok(
        &promisor("zhuzhou"),
        D,
        breached("p1", Excuse::ForceMajeure),
    );
    assert!(flags.is_empty());
    assert_eq!(
        w.model.promises[&id("p1")]
            .breach
            .as_ref()
            .map(|b| b.forbidden),
        Some(false)
    );
}

#[test]
fn r15_only_the_beneficiary_disputes_a_promise_once_at_a_time() {
    let mut w = World::hunan();
    w.ok(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("taizinai")),
    );
    w.ok(&promisor("zhuzhou"), D, promise_made("p2", "zhuzhou", None));
    let dispute = |p: &str| PromiseDisputed {
        promise: id(p),
        claim: text("not honoured"),
    };
    w.refused(
        &ent("zz-other"),
        D,
        dispute("p1"),
        RuleCode::PromiseDisputeNotBeneficiary,
    );
    w.refused(
        &ent("taizinai"),
        D,
        dispute("p2"),
        RuleCode::PromiseDisputeNotBeneficiary,
    );
    let settle = || PromiseDisputeSettled {
        promise: id("p1"),
        upheld: true,
        outcome: text("upheld"),
    };
    w.refused(&supervisor(), D, settle(), RuleCode::PromiseNoOpenDispute);
    w.ok(&ent("taizinai"), D, dispute("p1"));
    w.refused(
        &ent("taizinai"),
        D,
        dispute("p1"),
        RuleCode::PromiseDisputeAlreadyOpen,
    );
    w.ok(&supervisor(), D, settle());
    assert!(w.model.promises[&id("p1")].dispute_upheld());
}

#[test]
fn r15_compensation_follows_a_breach_variation_or_upheld_dispute() {
    let mut w = World::hunan();
    w.ok(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("taizinai")),
    );
    let pay = |amount: i64| CompensationPaid {
        promise: id("p1"),
        amount: fen(amount),
        to: id("taizinai"),
    };
    w.refused(
        &promisor("zhuzhou"),
        D,
        pay(100),
        RuleCode::PromiseCompensationWithoutBreach,
    );
    w.ok(
        &promisor("zhuzhou"),
        D,
        breached("p1", Excuse::ChangeOfGovernment),
    );
    w.refused(
        &promisor("zz-office"),
        D,
        pay(100),
        RuleCode::PromiseNotBoundBody,
    );
    w.ok(&promisor("zhuzhou"), D, pay(100));
    w.ok(&promisor("zhuzhou"), D, pay(250));
    assert_eq!(w.model.promises[&id("p1")].compensation_paid, fen(350));
}

// -- inspections --------------------------------------------------------------------

#[test]
fn r13_compliant_inspection_raises_no_flag_and_opens_no_case() {
    let mut w = World::hunan();
    let flags = w.compliant_inspection("i1", "zz-aic", "taizinai", &["licence"], D);
    assert!(flags.is_empty());
    assert!(w.model.cases.is_empty());
    assert!(w.model.inspections[&id("i1")].flags.compliant());
}

#[test]
fn r13_inspection_without_head_approval_is_flagged_and_opens_a_case() {
    let mut w = World::hunan();
    w.ok(
        &inspector("zz-aic"),
        D,
        requested("i1", "zz-aic", "taizinai", &["licence"]),
    );
    w.ok(&inspector("zz-aic"), D, registered("i1"));
    let seq = w.next_seq();
    let flags = w.ok(
        &inspector("zz-aic"),
        D,
        conducted("i1", "zz-aic", "taizinai", &["licence"]),
    );
    assert_eq!(flags, vec![Flag::InspectionUnapproved, Flag::OpensCase]);
    let case = &w.model.cases[&id(&format!("auto-{seq}"))];
    assert_eq!(case.channel, Channel::Derived);
    assert_eq!(case.category, Category::RepeatedInspections);
    assert_eq!(case.triggered_by, Some(seq));
    assert_eq!(case.against, Some(id("zz-aic")));
    assert_eq!(case.filed_by, events::keys::Party::Ledger);
    assert_eq!(
        w.log.last().map(|r| r.statement.id.clone()),
        Some(format!("auto:{seq}"))
    );
    assert!(w.model.inspections[&id("i1")].flags.unapproved);
}

#[test]
fn r14_inspection_without_registration_is_flagged_and_opens_a_case() {
    let mut w = World::hunan();
    w.ok(
        &inspector("zz-aic"),
        D,
        requested("i1", "zz-aic", "taizinai", &["licence"]),
    );
    w.ok(&head("zz-aic"), D, approved("i1", false));
    let flags = w.ok(
        &inspector("zz-aic"),
        D,
        conducted("i1", "zz-aic", "taizinai", &["licence"]),
    );
    assert_eq!(flags, vec![Flag::InspectionUnregistered, Flag::OpensCase]);
    // Never requested at all: both flags, one case.
    let flags = w.ok(
        &inspector("zz-tax"),
        D,
        conducted("i2", "zz-tax", "dushi", &["tax"]),
    );
    assert_eq!(
        flags,
        vec![
            Flag::InspectionUnapproved,
            Flag::InspectionUnregistered,
            Flag::OpensCase
        ]
    );
    assert_eq!(w.model.cases.len(), 2);
}

#[test]
fn r13_approval_only_by_a_head_of_that_department() {
    let mut w = World::hunan();
    w.ok(
        &inspector("zz-aic"),
        D,
        requested("i1", "zz-aic", "taizinai", &["licence"]),
    );
    w.refused(
        &head("zz-tax"),
        D,
        approved("i1", false),
        RuleCode::InspectionApprovalNotHead,
    );
    w.refused(
        &head("zz-aic"),
        D,
        approved("i2", false),
        RuleCode::UnknownInspection,
    );
    // A key of the department without the head role is refused by the
    // registry already (only head may sign inspection_approved); the rule
    // also refuses a head of another department, checked above.
    w.ok(&head("zz-aic"), D, approved("i1", false));
    w.refused(
        &head("zz-aic"),
        D,
        approved("i1", false),
        RuleCode::InspectionAlreadyApproved,
    );
}

#[test]
fn r13_retroactive_approval_only_for_a_conducted_emergency() {
    let mut w = World::hunan();
    let mut req = requested("i1", "zz-aic", "taizinai", &["fire"]);
    req.emergency = true;
    w.ok(&inspector("zz-aic"), D, req);
    w.refused(
        &head("zz-aic"),
        D,
        approved("i1", true),
        RuleCode::InspectionRetroactiveMismatch,
    );
    w.ok(&inspector("zz-aic"), D, registered("i1"));
    // An emergency conducted before approval is pending, not unapproved.
    let flags = w.ok(
        &inspector("zz-aic"),
        D,
        conducted("i1", "zz-aic", "taizinai", &["fire"]),
    );
    assert!(flags.is_empty());
    assert!(w.model.inspections[&id("i1")].flags.approval_pending);
    w.refused(
        &head("zz-aic"),
        D,
        approved("i1", false),
        RuleCode::InspectionRetroactiveMismatch,
    );
    w.ok(&head("zz-aic"), D, approved("i1", true));
    assert!(w.model.inspections[&id("i1")].flags.compliant());
    // Not an emergency: no approval after the fact.
    w.ok(
        &inspector("zz-tax"),
        D,
        requested("i2", "zz-tax", "dushi", &["tax"]),
    );
    w.ok(
        &inspector("zz-tax"),
        D,
        conducted("i2", "zz-tax", "dushi", &["tax"]),
    );
    w.refused(
        &head("zz-tax"),
        D,
        approved("i2", true),
        RuleCode::InspectionRetroactiveNotEmergency,
    );
}

#[test]
fn lifecycle_conducting_an_inspection_twice_is_refused() {
    let mut w = World::hunan();
    w.compliant_inspection("i1", "zz-aic", "taizinai", &["licence"], D);
    w.refused(
        &inspector("zz-aic"),
        D,
        conducted("i1", "zz-aic", "taizinai", &["licence"]),
        RuleCode::InspectionAlreadyConducted,
    );
    w.refused(
        &inspector("zz-aic"),
        D,
        requested("i1", "zz-aic", "taizinai", &["x"]),
        RuleCode::InspectionAlreadyExists,
    );
    w.refused(
        &inspector("zz-aic"),
        D,
        registered("i1"),
        RuleCode::InspectionAlreadyRegistered,
    );
}

#[test]
fn r13_inspection_is_conducted_by_its_own_department_as_requested() {
    let mut w = World::hunan();
    w.refused(
        &inspector("zz-tax"),
        D,
        requested("i1", "zz-aic", "taizinai", &["x"]),
        RuleCode::InspectionNotDepartment,
    );
    w.refused(
        &inspector("zz-aic"),
        D,
        requested("i1", "zz-aic", "ghost", &["x"]),
        RuleCode::UnknownEnterprise,
    );
    w.ok(
        &inspector("zz-aic"),
        D,
        requested("i1", "zz-aic", "taizinai", &["x"]),
    );
    w.refused(
        &inspector("zz-tax"),
        D,
        registered("i1"),
        RuleCode::InspectionNotDepartment,
    );
    w.refused(
        &inspector("zz-aic"),
        D,
        conducted("i1", "zz-aic", "dushi", &["x"]),
        RuleCode::InspectionMismatch,
    );
    w.refused(
        &inspector("zz-tax"),
        D,
        conducted("i1", "zz-tax", "taizinai", &["x"]),
        RuleCode::InspectionMismatch,
    );
    w.refused(
        &inspector("zz-tax"),
        D,
        conducted("i9", "zz-aic", "taizinai", &["x"]),
        RuleCode::InspectionNotDepartment,
    );
}

#[test]
fn r13_repeated_inspection_by_any_department_within_the_window_is_flagged() {
    let mut w = World::hunan();
    assert!(w
        .compliant_inspection(
            "i1",
            "zz-aic",
            "taizinai",
            &["fire", "licence"],
            "2006-03-01"
        )
        .is_empty());
    // Another department, overlapping items, 60 days later (window 180).
    let flags = w.compliant_inspection("i2", "zz-quality", "taizinai", &["fire"], "2006-04-30");
    assert_eq!(flags, vec![Flag::InspectionRepeated, Flag::OpensCase]);
    assert_eq!(w.model.inspections[&id("i2")].repeats_of, vec![id("i1")]);
}

/// The Hunan world with the yearly inspection cap set to `cap` (other
/// parameters at their defaults) on 2006-01-05.
fn hunan_with_yearly_cap(cap: u32) -> World {
    let mut w = World::hunan();
    let p = RuleParameters {
        inspection_yearly_cap: cap,
        ..RuleParameters::default()
    };
    w.ok(
        &root(),
        "2006-01-05",
        RuleParametersSet {
            parameters: p,
            basis: text("test"),
        },
    );
    w
}

#[test]
fn r13_no_repeat_without_overlap_or_outside_the_window() {
    let mut w = hunan_with_yearly_cap(10);
    w.compliant_inspection("i1", "zz-aic", "taizinai", &["fire"], "2006-01-10");
    assert!(w
        .compliant_inspection("i2", "zz-aic", "taizinai", &["tax"], "2006-01-20")
        .is_empty());
    assert!(w
        .compliant_inspection("i3", "zz-aic", "taizinai", &["fire"], "2006-07-20")
        .is_empty());
    assert!(w
        .compliant_inspection("i4", "zz-aic", "dushi", &["fire"], "2006-01-11")
        .is_empty());
}

/// Repeats are named in the order the inspections were conducted (seq),
/// not by their business dates, and a conduct recorded earlier but dated
/// later in the year still counts towards the yearly cap; a model whose
/// read indexes were rebuilt (as after loading a snapshot) answers the same.
#[test]
fn r13_repeats_in_conduct_order_and_the_cap_over_the_whole_year() {
    let mut w = hunan_with_yearly_cap(3);
    // Conducted first, dated after the second.
    w.compliant_inspection("i1", "zz-aic", "taizinai", &["fire"], "2006-06-20");
    w.compliant_inspection("i2", "zz-tax", "taizinai", &["fire"], "2006-06-01");
    // Another year and outside the window (180 days): neither counts nor repeats.
    w.compliant_inspection("i0", "zz-aic", "taizinai", &["fire"], "2005-06-01");
    let mut rebuilt = w.model.clone();
    rebuilt.rebuild_indexes();
    assert_eq!(rebuilt, w.model);
    let c = conducted("i3", "zz-quality", "taizinai", &["fire"]);
    let at = when("2006-06-10");
    let a = w.model.assess_conduct(&c, at);
    assert_eq!(a.repeats_of, vec![id("i1"), id("i2")]);
    assert_eq!(a.yearly_count, 3);
    assert!(!a.over_cap);
    assert_eq!(rebuilt.assess_conduct(&c, at), a);
    let flags = w.compliant_inspection("i3", "zz-quality", "taizinai", &["fire"], "2006-06-10");
    assert_eq!(flags, vec![Flag::InspectionRepeated, Flag::OpensCase]);
    assert_eq!(
        w.model.inspections[&id("i3")].repeats_of,
        vec![id("i1"), id("i2")]
    );
    // The fourth of 2006, dated in December: over the cap of three.
    let flags = w.compliant_inspection("i4", "zz-aic", "taizinai", &["tax"], "2006-12-31");
    assert_eq!(flags, vec![Flag::InspectionOverCap, Flag::OpensCase]);
    assert_eq!(w.model.inspections[&id("i4")].yearly_count, 4);
}

#[test]
fn inspection_over_the_yearly_cap_is_flagged() {
    let mut w = World::hunan();
    // Default cap 2 per enterprise per year; different items so none repeats.
    assert!(w
        .compliant_inspection("i1", "zz-aic", "taizinai", &["a"], "2006-01-10")
        .is_empty());
    assert!(w
        .compliant_inspection("i2", "zz-tax", "taizinai", &["b"], "2006-05-10")
        .is_empty());
    let flags = w.compliant_inspection("i3", "zz-quality", "taizinai", &["c"], "2006-09-10");
    assert_eq!(flags, vec![Flag::InspectionOverCap, Flag::OpensCase]);
    assert_eq!(w.model.inspections[&id("i3")].yearly_count, 3);
    // A new year starts a new count.
    assert!(w
        .compliant_inspection("i4", "zz-aic", "taizinai", &["d"], "2007-03-10")
        .is_empty());
}

#[test]
fn r13_fee_demanded_under_an_inspection_is_flagged_and_opens_an_arbitrary_fees_case() {
    let mut w = World::hunan();
    w.compliant_inspection("i1", "zz-aic", "taizinai", &["licence"], D);
    let fee = || InspectionFeeDemanded {
        inspection: id("i1"),
        amount: fen(50_000),
        basis: text("inspection fee"),
    };
    w.refused(
        &inspector("zz-tax"),
        D,
        fee(),
        RuleCode::InspectionNotDepartment,
    );
    let seq = w.next_seq();
    let flags = w.ok(&inspector("zz-aic"), D, fee());
    assert_eq!(flags, vec![Flag::FeeDemanded, Flag::OpensCase]);
    let case = &w.model.cases[&id(&format!("auto-{seq}"))];
    assert_eq!(case.category, Category::ArbitraryFees);
    let i = &w.model.inspections[&id("i1")];
    assert!(i.flags.fee_demanded);
    assert_eq!(i.fee_total, fen(50_000));
    let unknown = InspectionFeeDemanded {
        inspection: id("i9"),
        amount: fen(1),
        basis: text("x"),
    };
    w.refused(
        &inspector("zz-aic"),
        D,
        unknown,
        RuleCode::UnknownInspection,
    );
}

// -- projects, monitoring, evaluation ---------------------------------------------------

fn signed(p: &str) -> ProjectSigned {
    ProjectSigned {
        project: id(p),
        enterprise: id("liancheng"),
        city: id("xiangtan"),
        occasion: text("Central China Expo"),
        planned_funds: fen(970_000_000_000),
        leader: text("leader"),
        tracker: text("tracker"),
    }
}

fn milestone(p: &str, m: Milestone) -> ProjectMilestoneReached {
    ProjectMilestoneReached {
        project: id(p),
        milestone: m,
        note: text("n"),
    }
}

#[test]
fn r20_project_milestones_move_forward() {
    let mut w = World::hunan();
    let tracker = key("xt-office", &[Role::ProjectTracker]);
    w.ok(&tracker, D, signed("x1"));
    w.refused(&tracker, D, signed("x1"), RuleCode::ProjectAlreadyExists);
    w.ok(&tracker, D, milestone("x1", Milestone::Started));
    w.refused(
        &tracker,
        D,
        milestone("x1", Milestone::Started),
        RuleCode::ProjectMilestoneOutOfOrder,
    );
    w.ok(&tracker, D, milestone("x1", Milestone::Stalled));
    w.refused(
        &tracker,
        D,
        milestone("x1", Milestone::Stalled),
        RuleCode::ProjectMilestoneOutOfOrder,
    );
    w.ok(&tracker, D, milestone("x1", Milestone::Started));
    w.ok(&tracker, D, milestone("x1", Milestone::Completed));
    w.refused(
        &tracker,
        D,
        milestone("x1", Milestone::Performed),
        RuleCode::ProjectMilestoneOutOfOrder,
    );
    let p = &w.model.projects[&id("x1")];
    assert_eq!(
        (p.status, p.progress),
        (ProjectStatus::Completed, ProjectStatus::Completed)
    );
    // One leader and one tracker, named when signed, followed to the end:
    // every milestone is on the project's own timeline.
    assert_eq!(
        (p.leader.as_str(), p.tracker.as_str()),
        ("leader", "tracker")
    );
    assert_eq!(p.milestones.len(), 4);
    assert_eq!(p.timeline.len(), 5);
    assert_eq!(
        evidence_of(&w, "R20"),
        [("projects with a named leader".to_string(), 1)]
    );
    w.refused(
        &tracker,
        D,
        milestone("x9", Milestone::Started),
        RuleCode::UnknownProject,
    );
}

#[test]
fn r21_project_needs_a_registered_enterprise_and_city() {
    let mut w = World::hunan();
    let tracker = key("xt-office", &[Role::ProjectTracker]);
    let mut p = signed("x1");
    p.city = id("xt-office");
    w.refused(&tracker, D, p, RuleCode::UnknownCity);
    let mut p = signed("x1");
    p.enterprise = id("ghost");
    w.refused(&tracker, D, p, RuleCode::UnknownEnterprise);
    let funds = ProjectFundsArrived {
        project: id("x1"),
        amount: fen(1),
    };
    w.refused(&tracker, D, funds.clone(), RuleCode::UnknownProject);
    // The investor on file, the project's ledger with its named tracker,
    // and the funds as they arrive.
    w.ok(&tracker, D, signed("x1"));
    w.ok(&tracker, D, funds.clone());
    w.ok(
        &tracker,
        D,
        ProjectFundsArrived {
            project: id("x1"),
            amount: fen(2_500),
        },
    );
    let p = &w.model.projects[&id("x1")];
    assert_eq!(p.tracker.as_str(), "tracker");
    assert_eq!((p.funds.len(), p.funds_arrived), (2, fen(2_501)));
    assert_eq!(p.enterprise, id("liancheng"));
    let r21 = evidence_of(&w, "R21");
    assert!(
        r21.contains(&("projects with a named tracker".to_string(), 1)),
        "{r21:?}"
    );
}

#[test]
fn r22_monitoring_point_once_per_city_and_year_from_its_own_city() {
    let mut w = World::hunan();
    let evaluator = key("province-office", &[Role::Evaluator]);
    let point = |city: &str, e: &str, year: u32| MonitoringPointNamed {
        city: id(city),
        enterprise: id(e),
        county: text("county"),
        year,
    };
    w.ok(&evaluator, D, point("zhuzhou", "taizinai", 2006));
    w.refused(
        &evaluator,
        D,
        point("zhuzhou", "taizinai", 2006),
        RuleCode::MonitoringPointDuplicate,
    );
    w.ok(&evaluator, D, point("zhuzhou", "taizinai", 2007));
    w.refused(
        &evaluator,
        D,
        point("zhuzhou", "dushi", 2006),
        RuleCode::MonitoringPointWrongCity,
    );
    w.refused(
        &evaluator,
        D,
        point("zz-office", "taizinai", 2006),
        RuleCode::UnknownCity,
    );
}

/// R22: a city meets the minimum with 10 monitoring points for the year;
/// one named after 30 November counts but is flagged as filed late.
#[test]
fn r22_ten_monitoring_points_filed_by_30_november_meet_the_minimum() {
    let mut w = World::hunan();
    let evaluator = key("province-office", &[Role::Evaluator]);
    for n in 0..10 {
        w.enterprise(&format!("zz-ent-{n}"), "zhuzhou", D);
    }
    let point = |e: &str, county: &str| MonitoringPointNamed {
        city: id("zhuzhou"),
        enterprise: id(e),
        county: text(county),
        year: 2006,
    };
    let record = |w: &World| {
        let day = |d: &str| events::time::Date::parse(d).expect("date");
        crate::views::city_record(
            &w.model,
            &crate::calendar::Calendar::builtin(),
            &id("zhuzhou"),
            day("2006-01-01"),
            day("2006-12-31"),
            events::time::Timestamp::parse("2006-12-31T15:59:59.999Z").expect("time"),
        )
        .monitoring
    };
    for n in 0..9 {
        w.ok(
            &evaluator,
            "2006-11-30",
            point(&format!("zz-ent-{n}"), &format!("county-{}", n % 4)),
        );
    }
    let m = record(&w);
    assert_eq!((m.count, m.minimum, m.meets_minimum), (9, 10, false));
    w.ok(&evaluator, "2006-12-01", point("zz-ent-9", "county-9"));
    let m = record(&w);
    assert_eq!((m.count, m.meets_minimum), (10, true));
    assert_eq!(m.distinct_counties, 5);
    assert_eq!(
        (
            m.filed_by_deadline.numerator,
            m.filed_by_deadline.denominator
        ),
        (9, 10)
    );
    assert_eq!(
        evidence_of(&w, "R22"),
        [
            ("monitoring points named for the year".to_string(), 10),
            ("monitoring points filed late (flag)".to_string(), 1),
        ]
    );
}

/// R23: the evaluation scores the five dimensions, each the mean of its
/// ratings weighted by respondents, combined with the weights in force.
#[test]
fn r23_five_dimensions_make_the_evaluation_score() {
    let mut w = World::hunan();
    let evaluator = key("province-office", &[Role::Evaluator]);
    let fb = |dimension: Dimension, rating: u32, respondents: u32| EvaluationFeedbackRecorded {
        source: FeedbackSource::Questionnaire,
        city: id("zhuzhou"),
        year: 2006,
        dimension,
        rating,
        respondents,
    };
    w.ok(&evaluator, D, fb(Dimension::ServiceAwareness, 90, 3));
    w.ok(&evaluator, D, fb(Dimension::ServiceAwareness, 70, 1));
    w.ok(&evaluator, D, fb(Dimension::ServiceAttitude, 80, 2));
    w.ok(&evaluator, D, fb(Dimension::SystemImplementation, 60, 5));
    w.ok(&evaluator, D, fb(Dimension::LawEnforcement, 100, 1));
    w.ok(&evaluator, D, fb(Dimension::ComplaintHandling, 50, 4));
    let e = crate::views::evaluation(&w.model, &id("zhuzhou"), 2006);
    let got: Vec<(Dimension, u64, u64)> = e
        .dimensions
        .iter()
        .map(|d| (d.dimension, d.mean_permille, d.respondents))
        .collect();
    assert_eq!(
        got,
        vec![
            (Dimension::ServiceAwareness, 850, 4),
            (Dimension::ServiceAttitude, 800, 2),
            (Dimension::SystemImplementation, 600, 5),
            (Dimension::LawEnforcement, 1000, 1),
            (Dimension::ComplaintHandling, 500, 4),
        ]
    );
    // Equal weights of 200 permille: (850 + 800 + 600 + 1000 + 500) / 5.
    assert_eq!(e.score_permille, 750);
    // Another year, or another city, has no score from these.
    assert_eq!(
        crate::views::evaluation(&w.model, &id("zhuzhou"), 2007).score_permille,
        0
    );
    assert_eq!(
        crate::views::evaluation(&w.model, &id("changsha"), 2006).score_permille,
        0
    );
}

#[test]
fn r23_evaluation_score_is_0_to_100_from_at_least_one_respondent() {
    let mut w = World::hunan();
    let evaluator = key("province-office", &[Role::Evaluator]);
    let fb = |rating: u32, respondents: u32| EvaluationFeedbackRecorded {
        source: FeedbackSource::MonitoringPoint,
        city: id("zhuzhou"),
        year: 2006,
        dimension: Dimension::ServiceAttitude,
        rating,
        respondents,
    };
    w.refused(
        &evaluator,
        D,
        fb(101, 1),
        RuleCode::EvaluationRatingOutOfRange,
    );
    w.refused(&evaluator, D, fb(90, 0), RuleCode::EvaluationNoRespondents);
    w.ok(&evaluator, D, fb(100, 10));
}

// -- accountability, bodies, parameters, corrections --------------------------------------

#[test]
fn r5_accountability_names_persons_on_a_known_subject_by_an_authorised_key() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let imposed = |subject: Subject, persons: &[&str]| AccountabilityImposed {
        subject,
        body: id("zz-office"),
        persons: persons.iter().map(|p| text(p)).collect(),
        measure: text("criticised in a circular"),
    };
    w.refused(
        &supervisor(),
        D,
        imposed(Subject::Case(id("c9")), &["h"]),
        RuleCode::UnknownCase,
    );
    w.refused(
        &supervisor(),
        D,
        imposed(Subject::Promise(id("p9")), &["h"]),
        RuleCode::UnknownPromise,
    );
    w.refused(
        &supervisor(),
        D,
        imposed(Subject::Inspection(id("i9")), &["h"]),
        RuleCode::UnknownInspection,
    );
    w.refused(
        &supervisor(),
        D,
        imposed(Subject::Case(id("c1")), &[]),
        RuleCode::AccountabilityNoPerson,
    );
    w.refused(
        &head("zz-aic"),
        D,
        imposed(Subject::Case(id("c1")), &["h"]),
        RuleCode::AccountabilityNotAuthorised,
    );
    w.ok(
        &head("zz-office"),
        D,
        imposed(Subject::Case(id("c1")), &["handler", "deputy"]),
    );
    w.ok(
        &supervisor(),
        D,
        imposed(Subject::Case(id("c1")), &["head"]),
    );
    assert_eq!(w.model.cases[&id("c1")].accountability.len(), 2);
}

/// R5, R15: accountability falls on a body that had the matter (successors
/// included), never on an uninvolved one.
#[test]
fn r5_accountability_falls_on_a_body_that_had_the_case_promise_or_inspection() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let imposed = |subject: Subject, body: &str| AccountabilityImposed {
        subject,
        body: id(body),
        persons: vec![text("handler")],
        measure: text("criticised in a circular"),
    };
    w.refused(
        &supervisor(),
        D,
        imposed(Subject::Case(id("c1")), "cs-office"),
        RuleCode::AccountabilityBodyNotInvolved,
    );
    w.ok(
        &supervisor(),
        D,
        imposed(Subject::Case(id("c1")), "zz-office"),
    );
    w.ok(
        &promisor("zhuzhou"),
        D,
        promise_made("p1", "zhuzhou", Some("taizinai")),
    );
    w.ok(&promisor("zhuzhou"), D, breached("p1", Excuse::Other));
    w.refused(
        &supervisor(),
        D,
        imposed(Subject::Promise(id("p1")), "zz-office"),
        RuleCode::AccountabilityBodyNotInvolved,
    );
    w.ok(
        &supervisor(),
        D,
        imposed(Subject::Promise(id("p1")), "zhuzhou"),
    );
}

#[test]
fn body_reorganisation_once_and_without_cycles() {
    let mut w = World::hunan();
    let reorg = |a: &str, b: &str| BodyReorganised {
        body: id(a),
        kind: Reorganisation::SucceededBy,
        successor: id(b),
        basis: text("reform"),
    };
    w.ok(&root(), D, reorg("zz-aic", "zz-quality"));
    w.refused(
        &root(),
        D,
        reorg("zz-aic", "zz-tax"),
        RuleCode::BodyAlreadyReorganised,
    );
    w.ok(&root(), D, reorg("zz-quality", "zz-tax"));
    w.refused(
        &root(),
        D,
        reorg("zz-tax", "zz-aic"),
        RuleCode::BodyReorganisationCycle,
    );
    w.refused(&root(), D, reorg("zz-tax", "ghost"), RuleCode::UnknownBody);
    assert_eq!(w.model.current_body(&id("zz-aic")), id("zz-tax"));
}

#[test]
fn r4_rule_parameters_must_lie_in_range() {
    let mut w = World::hunan();
    let p = RuleParameters {
        extension_cap_months: 0,
        ..RuleParameters::default()
    };
    let set = |p: RuleParameters| RuleParametersSet {
        parameters: p,
        basis: text("notice"),
    };
    w.refused(&root(), D, set(p), RuleCode::RuleParametersOutOfRange);
    let p = RuleParameters {
        extension_cap_months: 6,
        ..RuleParameters::default()
    };
    w.ok(&root(), D, set(p));
    assert_eq!(w.model.parameters.extension_cap_months, 6);
}

#[test]
fn correction_names_a_correctable_field_of_a_domain_record_with_a_fitting_value() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    let target = w.next_seq();
    w.ok(&handler("zz-office"), D, resolved("c1", 500));
    let correct = |seq: u64, field: &str, value: serde_json::Value| Correction {
        target_seq: seq,
        fields: vec![id(field)],
        values: [(field.to_string(), value)].into_iter().collect(),
        reason: text("typo"),
    };
    let sup = supervisor();
    w.refused(
        &sup,
        D,
        correct(1, "name", serde_json::json!("x")),
        RuleCode::CorrectionTargetUnknown,
    );
    w.refused(
        &sup,
        D,
        correct(target, "case", serde_json::json!("c2")),
        RuleCode::CorrectionFieldNotCorrectable,
    );
    w.refused(
        &sup,
        D,
        correct(target, "losses_recovered", serde_json::json!(-5)),
        RuleCode::CorrectionValueInvalid,
    );
    w.refused(
        &sup,
        D,
        correct(target, "outcome", serde_json::json!("won")),
        RuleCode::CorrectionValueInvalid,
    );
    w.ok(
        &sup,
        D,
        correct(target, "losses_recovered", serde_json::json!(400_000_000)),
    );
    assert_eq!(w.model.cases[&id("c1")].losses_recovered, fen(400_000_000));
}

#[test]
fn correction_to_a_forbidden_excuse_is_marked() {
    let mut w = World::hunan();
    w.ok(&promisor("zhuzhou"), D, promise_made("p1", "zhuzhou", None));
    let target = w.next_seq();
    assert!(w
        .ok(&promisor("zhuzhou"), D, breached("p1", Excuse::Other))
        .is_empty());
    let c = Correction {
        target_seq: target,
        fields: vec![id("excuse")],
        values: [(
            "excuse".to_string(),
            serde_json::json!("change_of_government"),
        )]
        .into_iter()
        .collect(),
        reason: text("the minutes show the real excuse"),
    };
    assert_eq!(w.ok(&supervisor(), D, c), vec![Flag::ForbiddenExcuse]);
    assert!(w.model.promises[&id("p1")]
        .breach
        .as_ref()
        .is_some_and(|b| b.forbidden));
}

// -- a whole case ---------------------------------------------------------------------------

#[test]
fn r1_r3_r4_case_cycle_from_filing_to_closing_keeps_its_timeline() {
    let mut w = World::hunan();
    w.ok(&centre(), "2006-02-24", filed("taizinai-dushi", "taizinai"));
    w.ok(&centre(), "2006-02-24", accepted("taizinai-dushi"));
    let reply = FirstReplySent {
        case: id("taizinai-dushi"),
        summary: text("received"),
        on_site: false,
    };
    w.ok(&centre(), "2006-02-27", reply);
    w.ok(
        &centre(),
        "2006-02-28",
        referred("taizinai-dushi", "zz-office"),
    );
    let zz = handler("zz-office");
    let ext = DeadlineExtended {
        case: id("taizinai-dushi"),
        reason: text("parties abroad"),
    };
    w.ok(&zz, "2006-03-25", ext);
    let progress = ProgressReported {
        case: id("taizinai-dushi"),
        summary: text("talks"),
    };
    w.ok(&zz, "2006-04-10", progress);
    let mediation = MediationHeld {
        case: id("taizinai-dushi"),
        agreement: true,
        note: text("agreed"),
    };
    w.ok(&zz, "2006-04-20", mediation);
    w.ok(&zz, "2006-04-21", resolved("taizinai-dushi", 1_200_000));
    w.ok(
        &ent("taizinai"),
        "2006-04-25",
        rated(
            "taizinai-dushi",
            Rating::Satisfied,
            RatingSource::Enterprise,
        ),
    );
    w.ok(&zz, "2006-04-26", closed("taizinai-dushi"));
    let c = &w.model.cases[&id("taizinai-dushi")];
    assert_eq!(c.state, CaseState::Closed);
    assert_eq!(c.timeline.len(), 10);
    assert!(c.timeline.windows(2).all(|p| p[0].seq < p[1].seq));
    assert_eq!(
        c.first_reply_at().map(|a| a.date().to_string()),
        Some("2006-02-27".into())
    );
    assert_eq!(
        c.result_at().map(|a| a.date().to_string()),
        Some("2006-04-21".into())
    );
    assert!(c.extended.is_some());
    assert_eq!(c.progress_notices.len(), 1);
    assert_eq!(c.losses_recovered, fen(1_200_000));
    assert_eq!(c.responsible, Some(id("zz-office")));
    assert_eq!(c.clock.extension_cap_months, 3);
}

#[test]
fn r12_a_body_that_referred_a_case_onward_chases_and_closes_it_but_never_resolves_it() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    w.ok(&handler("zz-office"), D, referred("c1", "zz-aic"));
    w.refused(
        &handler("zz-office"),
        "2006-03-10",
        resolved("c1", 500_000),
        RuleCode::CaseNotResponsible,
    );
    w.ok(&handler("zz-aic"), "2006-03-10", resolved("c1", 500_000));
    w.ok(
        &ent("taizinai"),
        "2006-03-12",
        rated("c1", Rating::Satisfied, RatingSource::Enterprise),
    );
    w.ok(&handler("zz-office"), "2006-03-13", closed("c1"));
    assert_eq!(w.model.cases[&id("c1")].state, CaseState::Closed);
}

#[test]
fn r12_a_body_that_referred_a_case_onward_cannot_assign_it_back_to_itself() {
    let mut w = World::hunan();
    w.file_and_refer("c1", "taizinai", "zz-office", D);
    w.ok(&handler("zz-office"), D, referred("c1", "zz-aic"));
    w.refused(
        &handler("zz-office"),
        D,
        ResponsibilityAssigned {
            case: id("c1"),
            body: id("zz-office"),
            head: text("head"),
            deputy: text("deputy"),
            division: text("division"),
            handler: text("handler"),
        },
        RuleCode::CaseNotResponsible,
    );
}

/// The counts of row `rule` of the rule evidence at the end of 2006.
fn evidence_of(w: &World, rule: &str) -> Vec<(String, u64)> {
    let at = events::time::Timestamp::parse("2006-12-31T16:00:00.000Z").expect("time");
    crate::evidence::rule_evidence(&w.model, &crate::calendar::Calendar::builtin(), at, 2006)
        .into_iter()
        .find(|r| r.rule == rule)
        .expect("a row of the rule table")
        .evidence
        .into_iter()
        .map(|e| (e.what, e.count))
        .collect()
}

#[test]
fn r2_urgent_case_without_a_same_day_on_site_response_is_counted() {
    let mut w = World::hunan();
    let urgent = |case: &str| ComplaintFiled {
        urgent: true,
        ..filed(case, "taizinai")
    };
    let reply = |case: &str, on_site: bool| FirstReplySent {
        case: id(case),
        on_site,
        summary: text("went to the site"),
    };
    for case in ["c1", "c2", "c3", "c4"] {
        w.ok(&centre(), D, urgent(case));
        w.ok(&centre(), D, accepted(case));
    }
    w.ok(&centre(), D, filed("c5", "taizinai"));
    w.ok(&centre(), D, accepted("c5"));
    // On site the day it was filed: the rule kept.
    w.ok(&centre(), D, reply("c1", true));
    // On site a working day later, or the same day but not on site, or not
    // answered at all: each an urgent case without a same-day response.
    w.ok(&centre(), "2006-02-27", reply("c2", true));
    w.ok(&centre(), D, reply("c3", false));
    // Not urgent: R2 does not count it either way.
    w.ok(&centre(), "2006-02-27", reply("c5", false));
    assert!(w.model.cases[&id("c1")].urgent && !w.model.cases[&id("c5")].urgent);
    assert_eq!(
        evidence_of(&w, "R2"),
        [
            (
                "urgent cases answered on site the day they were filed".to_string(),
                1
            ),
            (
                "urgent cases without a same-day on-site response (flag)".to_string(),
                3
            ),
        ]
    );
}

#[test]
fn r10_major_case_without_a_provincial_body_involved_is_counted() {
    let mut w = World::hunan();
    let major = |case: &str, e: &str| ComplaintFiled {
        major: true,
        ..filed(case, e)
    };
    // Taken in by the provincial centre and referred on: the province is involved.
    w.ok(&centre(), D, major("c1", "taizinai"));
    w.ok(&centre(), D, accepted("c1"));
    w.ok(&centre(), D, referred("c1", "zz-office"));
    // Filed by the enterprise and taken on by its city's office alone.
    w.ok(&ent("dushi"), D, major("c2", "dushi"));
    w.ok(&key("cs-office", &[Role::Intake]), D, accepted("c2"));
    let before = evidence_of(&w, "R10");
    assert_eq!(
        before,
        [
            ("major cases with a provincial body involved".to_string(), 1),
            (
                "major cases without provincial involvement (flag)".to_string(),
                1
            ),
            (
                "major cases supervised by the province (督办)".to_string(),
                0
            ),
        ]
    );
    // Referred to the provincial office: now involved too.
    w.ok(
        &key("cs-office", &[Role::Intake]),
        D,
        referred("c2", "province-office"),
    );
    assert_eq!(evidence_of(&w, "R10")[1].1, 0);
    // The province supervises c1 directly (督办).
    w.ok(
        &supervisor(),
        D,
        CaseSupervised {
            case: id("c1"),
            instruction: text("省优化办直接督办"),
        },
    );
    assert_eq!(evidence_of(&w, "R10")[2].1, 1);
}

/// R10, R12: a case is supervised (督办) by the provincial centre, a
/// supervisor, or a body that referred it onward and chases it; never by the
/// body handling it or a stranger to it, and never once it is closed.
#[test]
fn r10_r12_supervision_by_the_centre_a_supervisor_or_the_body_that_referred_it() {
    let mut w = World::hunan();
    let sup = |case: &str, i: &str| CaseSupervised {
        case: id(case),
        instruction: text(i),
    };
    // The centre accepted c1 and handles it: it does not supervise itself
    // until it has passed the case on.
    w.file("c1", "taizinai", D);
    w.ok(&centre(), D, accepted("c1"));
    w.refused(
        &centre(),
        D,
        sup("c1", "itself"),
        RuleCode::SupervisionNotAuthorised,
    );
    w.ok(&centre(), D, referred("c1", "zz-office"));
    w.refused(
        &handler("zz-office"),
        D,
        sup("c1", "itself"),
        RuleCode::SupervisionNotAuthorised,
    );
    // Nor does a supervisor key of the body handling a case.
    w.file("c2", "taizinai", D);
    w.ok(&centre(), D, accepted("c2"));
    w.ok(&centre(), D, referred("c2", "province-office"));
    w.refused(
        &supervisor(),
        D,
        sup("c2", "itself"),
        RuleCode::SupervisionNotAuthorised,
    );
    w.refused(
        &handler("cs-office"),
        D,
        sup("c1", "a stranger"),
        RuleCode::SupervisionNotAuthorised,
    );
    w.refused(&centre(), D, sup("c9", "x"), RuleCode::UnknownCase);
    w.ok(
        &centre(),
        D,
        sup("c1", "report progress within 5 working days"),
    );
    w.ok(
        &supervisor(),
        D,
        sup("c1", "the province supervises directly"),
    );
    // The city office passes the case to its department and chases it.
    w.ok(&handler("zz-office"), D, referred("c1", "zz-aic"));
    w.ok(
        &handler("zz-office"),
        D,
        sup("c1", "chased by the city office"),
    );
    w.refused(
        &handler("zz-aic"),
        D,
        sup("c1", "itself"),
        RuleCode::SupervisionNotAuthorised,
    );
    let c = &w.model.cases[&id("c1")];
    let by: Vec<&Party> = c.supervisions.iter().map(|s| &s.by).collect();
    assert_eq!(
        by,
        [
            &Party::Body("centre".into()),
            &Party::Body("province-office".into()),
            &Party::Body("zz-office".into()),
        ]
    );
    assert_eq!(
        c.supervisions[0].instruction.as_str(),
        "report progress within 5 working days"
    );
    // On the case's timeline, in order.
    let kinds = c
        .timeline
        .iter()
        .filter(|t| t.kind.0 == EventKind::CaseSupervised)
        .count();
    assert_eq!(kinds, 3);
    w.ok(&handler("zz-aic"), "2006-03-10", resolved("c1", 0));
    w.ok(
        &ent("taizinai"),
        "2006-03-11",
        rated("c1", Rating::Satisfied, RatingSource::Enterprise),
    );
    w.ok(&handler("zz-aic"), "2006-03-12", closed("c1"));
    w.refused(
        &centre(),
        "2006-03-13",
        sup("c1", "too late"),
        RuleCode::CaseNotOpen,
    );
}

/// Modern (国办发〔2024〕54号): departments merge their inspections into one
/// visit. The joint visit counts once toward the enterprise's yearly cap and
/// repeats nothing; a department of it coming back alone for the same items
/// within the window is a repeat. A joint department must be registered.
#[test]
fn modern_joint_inspection_is_one_visit_for_several_departments_instead_of_repeats() {
    let mut w = World::hunan();
    let inspector = key("zz-aic", &[Role::Inspector]);
    let head = key("zz-aic", &[Role::Head]);
    let joint = |with: &[&str]| InspectionRequested {
        joint_with: with.iter().map(|b| id(b)).collect(),
        ..requested(
            "j1",
            "zz-aic",
            "taizinai",
            &["licence", "tax-records", "product-quality"],
        )
    };
    w.refused(
        &inspector,
        D,
        joint(&["zz-tax", "nowhere"]),
        RuleCode::UnknownBody,
    );
    w.ok(&inspector, D, joint(&["zz-tax", "zz-quality"]));
    w.ok(&head, D, approved("j1", false));
    w.ok(&inspector, D, registered("j1"));
    let flags = w.ok(
        &inspector,
        "2006-03-01",
        conducted(
            "j1",
            "zz-aic",
            "taizinai",
            &["licence", "tax-records", "product-quality"],
        ),
    );
    assert!(flags.is_empty(), "{flags:?}");
    let j = &w.model.inspections[&id("j1")];
    assert_eq!(
        j.joint_with.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
        ["zz-tax", "zz-quality"]
    );
    assert_eq!(j.yearly_count, 1, "one visit for three departments");
    assert!(j.flags.compliant());
    // The tax bureau, part of that visit, comes back alone for its records.
    let flags = w.compliant_inspection("t1", "zz-tax", "taizinai", &["tax-records"], "2006-03-20");
    assert!(flags.contains(&Flag::InspectionRepeated), "{flags:?}");
    let t = &w.model.inspections[&id("t1")];
    assert_eq!(
        t.repeats_of.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
        ["j1"]
    );
    assert_eq!(t.yearly_count, 2);
    assert_eq!(
        evidence_of(&w, "modern: merged or joint inspections"),
        [
            ("joint inspections conducted".to_string(), 1),
            ("departments that joined another's visit".to_string(), 2),
        ]
    );
    let lines = crate::views::inspection_list(&w.model, false);
    let line = lines
        .iter()
        .find(|l| l.line.id == id("j1"))
        .expect("listed");
    assert_eq!(line.line.joint_with, vec![id("zz-tax"), id("zz-quality")]);
}

/// R24: the yearly evaluation draws on the four sources (the efficiency
/// website, the monitoring points, questionnaires and joint surveys); each
/// counts by its respondents.
#[test]
fn r24_evaluation_draws_on_the_four_sources() {
    let mut w = World::hunan();
    let evaluator = key("province-office", &[Role::Evaluator]);
    let fb = |source: FeedbackSource, rating: u32, respondents: u32| EvaluationFeedbackRecorded {
        source,
        city: id("zhuzhou"),
        year: 2006,
        dimension: Dimension::ComplaintHandling,
        rating,
        respondents,
    };
    w.ok(&evaluator, D, fb(FeedbackSource::EfficiencyWebsite, 60, 1));
    w.ok(&evaluator, D, fb(FeedbackSource::MonitoringPoint, 80, 2));
    w.ok(&evaluator, D, fb(FeedbackSource::Questionnaire, 90, 3));
    w.ok(&evaluator, D, fb(FeedbackSource::JointSurvey, 100, 4));
    let e = crate::views::evaluation(&w.model, &id("zhuzhou"), 2006);
    let d = e
        .dimensions
        .iter()
        .find(|d| d.dimension == Dimension::ComplaintHandling)
        .expect("dimension");
    // (60·1 + 80·2 + 90·3 + 100·4) / 10 = 89.0
    assert_eq!((d.mean_permille, d.respondents), (890, 10));
    assert_eq!(e.score_permille, 890 * 200 / 1000);
    let sources: std::collections::BTreeSet<FeedbackSource> = w.model.evaluation_feedback
        [&id("zhuzhou")][&2006]
        .iter()
        .map(|f| f.source)
        .collect();
    assert_eq!(sources.len(), 4);
}

/// R16–R19: a service commitment without a due date runs on its published
/// clock, the approval working days in force when it was made, counted on
/// the official calendar; a later change of the parameter moves only later
/// commitments, a named due date wins, and past the calendar the due date
/// is unknown, never guessed.
#[test]
fn r16_r19_service_commitment_runs_on_its_published_clock() {
    use crate::calendar::Calendar;
    use crate::views::{promise_list, PromiseQuery};
    let mut w = World::hunan();
    let service = |p: &str, due: Option<&str>| PromiseMade {
        form: PromiseForm::ServiceCommitment,
        due: due.map(|d| events::time::Date::parse(d).expect("date")),
        ..promise_made(p, "zz-office", Some("taizinai"))
    };
    // Thursday before the 2006 National Day holiday: three working days
    // are Fri 09-29, Sat 09-30 (a working day) and Sun 10-08.
    w.ok(&promisor("zz-office"), "2006-09-28", service("s1", None));
    w.ok(
        &promisor("zz-office"),
        "2006-09-28",
        service("s2", Some("2006-09-29")),
    );
    w.ok(
        &promisor("zz-office"),
        "2006-09-28",
        promise_made("c1", "zz-office", Some("taizinai")),
    );
    let p = RuleParameters {
        approval_working_days: 10,
        ..RuleParameters::default()
    };
    w.ok(
        &root(),
        "2006-09-28",
        RuleParametersSet {
            parameters: p,
            basis: text("test"),
        },
    );
    w.ok(&promisor("zz-office"), "2006-09-28", service("s3", None));
    w.ok(&promisor("zz-office"), "2026-12-30", service("s4", None));
    let cal = Calendar::builtin();
    let at = |t: &str| events::time::Timestamp::parse(t).expect("time");
    let list = |t: &str| promise_list(&w.model, &cal, None, None, at(t));
    let line = |t: &str, p: &str| list(t).into_iter().find(|l| l.id == id(p)).expect("listed");
    let day = |d: &str| Some(events::time::Date::parse(d).expect("date"));
    assert_eq!(
        line("2006-10-08T04:00:00.000Z", "s1").due,
        day("2006-10-08")
    );
    assert!(!line("2006-10-08T04:00:00.000Z", "s1").overdue);
    assert!(
        line("2006-10-08T16:00:00.000Z", "s1").overdue,
        "the due day ended"
    );
    assert_eq!(
        line("2006-10-08T04:00:00.000Z", "s2").due,
        day("2006-09-29")
    );
    assert_eq!(line("2006-10-08T04:00:00.000Z", "c1").due, None);
    // Ten working days from 09-28 under the parameter in force when made.
    assert_eq!(
        line("2006-10-08T04:00:00.000Z", "s3").due,
        day("2006-10-17")
    );
    let beyond = line("2006-10-08T04:00:00.000Z", "s4");
    assert_eq!(beyond.due, None);
    assert!(beyond.due_unknown.is_some() && !beyond.overdue);
    let overdue: Vec<_> = promise_list(
        &w.model,
        &cal,
        Some(PromiseQuery::Overdue),
        None,
        at("2006-10-09T04:00:00.000Z"),
    )
    .into_iter()
    .map(|l| l.id)
    .collect();
    assert_eq!(overdue, vec![id("s1"), id("s2")]);
    // Kept in time: no longer counted as past its clock.
    w.ok(
        &promisor("zz-office"),
        "2006-10-08",
        PromiseKept {
            promise: id("s1"),
            summary: text("approved"),
        },
    );
    let counts = evidence_of(&w, "R16–R19");
    assert_eq!(
        counts[1],
        (
            "service commitments on their published clock".to_string(),
            3
        )
    );
    assert_eq!(
        counts[2],
        (
            "service commitments past their published clock, still open (flag)".to_string(),
            1
        ),
        "s3 (due 10-17) is past it at the end of 2006; s1 was kept; s4 is beyond the calendar"
    );
}

/// Modern addition (国发〔2016〕76号): a broken commitment stays on the
/// record, listed among the breaches of the body bound today (the successor
/// after a reorganisation) and counted in the rule evidence.
#[test]
fn modern_broken_commitments_stay_on_the_government_integrity_record() {
    use crate::views::{promise_list, PromiseQuery};
    let mut w = World::hunan();
    for p in ["p1", "p2"] {
        w.ok(
            &promisor("zz-office"),
            D,
            promise_made(p, "zz-office", Some("taizinai")),
        );
    }
    w.ok(
        &promisor("zz-office"),
        "2006-03-01",
        breached("p1", Excuse::ChangeOfGovernment),
    );
    w.body(
        "zz-commerce",
        BodyKind::CityOffice,
        Some("zhuzhou"),
        None,
        D,
    );
    w.ok(
        &root(),
        "2006-04-01",
        BodyReorganised {
            body: id("zz-office"),
            kind: Reorganisation::MergedInto,
            successor: id("zz-commerce"),
            basis: text("2006 institutional reform"),
        },
    );
    let at = events::time::Timestamp::parse("2006-12-31T16:00:00.000Z").expect("time");
    let cal = crate::calendar::Calendar::builtin();
    let on_record = promise_list(
        &w.model,
        &cal,
        Some(PromiseQuery::Breached),
        Some(&id("zz-commerce")),
        at,
    );
    assert_eq!(on_record.len(), 1);
    assert_eq!(
        (&on_record[0].id, &on_record[0].body),
        (&id("p1"), &id("zz-office"))
    );
    assert!(on_record[0].forbidden_excuse);
    assert_eq!(
        evidence_of(&w, "modern: government-integrity record"),
        [("broken commitments on record".to_string(), 1)]
    );
}

/// Modern addition (the 12345 hotline cycle): accepted, dispatched,
/// answered, resolved, rated by a follow-up call and closed, the case is
/// scored in its city's record by response, resolution and satisfaction.
#[test]
fn modern_12345_cycle_is_scored_by_response_resolution_and_satisfaction() {
    let mut w = World::hunan();
    let zz = handler("zz-office");
    // c1 goes round the whole cycle: accept → dispatch → handle → reply →
    // supervise → close → follow-up call → rating.
    w.file("c1", "taizinai", D);
    w.ok(&centre(), D, accepted("c1"));
    w.ok(&centre(), D, referred("c1", "zz-office"));
    w.ok(
        &zz,
        "2006-02-25",
        ProgressReported {
            case: id("c1"),
            summary: text("handling: records requested"),
        },
    );
    w.ok(
        &zz,
        "2006-02-27",
        FirstReplySent {
            case: id("c1"),
            on_site: false,
            summary: text("received; under way"),
        },
    );
    w.ok(
        &centre(),
        "2006-03-01",
        CaseSupervised {
            case: id("c1"),
            instruction: text("督办: result by 03-15"),
        },
    );
    w.ok(&zz, "2006-03-10", resolved("c1", 500_000));
    // The complainant's own rating closes the case; the follow-up call
    // after the close records how satisfied it is now.
    w.ok(
        &ent("taizinai"),
        "2006-03-11",
        rated("c1", Rating::Satisfied, RatingSource::Enterprise),
    );
    w.ok(&zz, "2006-03-13", closed("c1"));
    w.ok(
        &follow_up(),
        "2006-03-20",
        rated("c1", Rating::BasicallySatisfied, RatingSource::FollowUpCall),
    );
    assert_eq!(w.model.cases[&id("c1")].state, CaseState::Closed);
    // Only an agent of the follow-up call records its rating.
    w.refused(
        &ent("taizinai"),
        "2006-03-21",
        rated("c1", Rating::Satisfied, RatingSource::FollowUpCall),
        RuleCode::RatingSourceMismatch,
    );
    // c2 is dispatched and never answered.
    w.file_and_refer("c2", "taizinai", "zz-office", "2006-02-24");
    let at = events::time::Timestamp::parse("2006-12-31T16:00:00.000Z").expect("time");
    let day = |d: &str| events::time::Date::parse(d).expect("date");
    let r = crate::views::city_record(
        &w.model,
        &crate::calendar::Calendar::builtin(),
        &id("zhuzhou"),
        day("2006-01-01"),
        day("2006-12-31"),
        at,
    );
    let q = |r: crate::views::Ratio| (r.numerator, r.denominator);
    assert_eq!(r.received, 2);
    assert_eq!(q(r.first_reply_on_time), (1, 2), "response");
    assert_eq!(
        (q(r.closure), q(r.result_on_time)),
        ((1, 2), (1, 2)),
        "resolution"
    );
    // Satisfaction counts the latest rating: the follow-up call's.
    assert_eq!(
        (q(r.satisfaction_strict), q(r.satisfaction_broad)),
        ((0, 1), (1, 1)),
        "satisfaction"
    );
    assert_eq!(
        evidence_of(&w, "modern: the 12345 cycle"),
        [
            ("supervisions (督办)".to_string(), 1),
            ("ratings from a follow-up call".to_string(), 1)
        ]
    );
}
