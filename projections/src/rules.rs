//! The domain rules of DOMAIN.md, checked before a record is appended.
//!
//! [`check`] runs in the sequencer after the key registry has authorised the
//! statement (so the key is valid and one of its roles may sign this event
//! type) and before anything is written. It judges the statement against the
//! current [`Model`]: lifecycles, referenced ids, duplicates and authority.
//! A refusal is a [`Rejection`] whose code is [`Code::RuleViolated`] and whose
//! message starts with the rule's own stable code (`case_not_accepted: ...`);
//! [`RULE_CODES`] lists every such code. An accepted record may carry
//! [`Flag`]s: facts that are recorded, not refused (an unapproved inspection,
//! a forbidden excuse). [`Flag::OpensCase`] tells the sequencer to append the
//! complaint built by [`derived_complaint`] in the same batch.
//!
//! Who may act on a case (the acting party is the key's holder):
//!
//! | act | responsible body | centre intake | supervisor | a body that referred it onward |
//! |---|---|---|---|---|
//! | accept, reject, assign responsibility | yes | yes | yes | no |
//! | refer, first reply, progress, extension, mediation, joint handling | yes | yes | no | no |
//! | resolve | yes | no | no | no |
//! | report to government, close | yes | yes | yes | yes (R12: it keeps chasing the case) |
//!
//! "Responsible body" is the body recorded as responsible, followed through
//! reorganisations to its successor today ([`Model::responsible_today`]).
//! Until a body has taken the case on (a complaint the enterprise filed
//! itself, or a derived one), any key with the intake role may act as the
//! first body contacted (R16–R19 首问负责); acceptance makes the accepting
//! body responsible. "Centre intake" is a key with the intake role held by a
//! body of kind `provincial_centre`, which registers complaints, refers them
//! and chases them (R11–R12). "Supervisor" is a key with the supervisor role.
//! Only the responsible body resolves: a result is its own answer.

use crate::model::{Applied, Case, CaseState, DerivedTrigger, Model, PromiseStatus};
use events::codes::{Code, Rejection};
use events::keys::{Party, Role};
use events::vocab::{
    BodyKind, Channel, ComplaintFiled, Event, Id, Milestone, Rating, RatingSource, Subject, Text,
};

pub use crate::model::Flag;

macro_rules! rule_codes {
    ($( $(#[$doc:meta])* $v:ident = $code:literal, $rule:literal, $meaning:literal; )*) => {
        /// The rules' own stable codes; each refusal message starts with one.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleCode { $( $(#[$doc])* $v, )* }

        impl RuleCode {
            pub const ALL: &'static [RuleCode] = &[ $( RuleCode::$v, )* ];
            pub fn as_str(self) -> &'static str {
                match self { $( RuleCode::$v => $code, )* }
            }
            pub fn parse(s: &str) -> Option<RuleCode> {
                match s { $( $code => Some(RuleCode::$v), )* _ => None }
            }
            /// The DOMAIN.md rule or lifecycle it enforces.
            pub fn rule(self) -> &'static str {
                match self { $( RuleCode::$v => $rule, )* }
            }
            pub fn meaning(self) -> &'static str {
                match self { $( RuleCode::$v => $meaning, )* }
            }
        }

        /// Every rule code: (code, meaning, DOMAIN.md rule).
        pub const RULE_CODES: &[(&str, &str, &str)] = &[ $( ($code, $meaning, $rule), )* ];
    };
}

rule_codes! {
    UnknownEnterprise = "unknown_enterprise", "ids",
        "the enterprise named is not registered";
    UnknownBody = "unknown_body", "ids",
        "the government body named is not registered";
    UnknownCity = "unknown_city", "R7, R22",
        "the city named is not a registered city government";
    UnknownCase = "unknown_case", "case lifecycle",
        "no complaint was filed under this case id";
    UnknownPromise = "unknown_promise", "promise lifecycle",
        "no promise was made under this id";
    UnknownInspection = "unknown_inspection", "inspection lifecycle",
        "no inspection was requested or conducted under this id";
    UnknownProject = "unknown_project", "R20-R21",
        "no project was signed under this id";
    CaseAlreadyExists = "case_already_exists", "ids",
        "a case with this id was already filed";
    PromiseAlreadyExists = "promise_already_exists", "ids",
        "a promise with this id was already made";
    InspectionAlreadyExists = "inspection_already_exists", "ids",
        "an inspection with this id was already requested";
    ProjectAlreadyExists = "project_already_exists", "ids",
        "a project with this id was already signed";
    BodyAlreadyReorganised = "body_already_reorganised", "art. 31",
        "the body already has a successor";
    BodyReorganisationCycle = "body_reorganisation_cycle", "art. 31",
        "the successor chain would lead back to the body";
    RuleParametersOutOfRange = "rule_parameters_out_of_range", "R1-R4, R13, R22",
        "a rule parameter is outside its allowed range";
    ComplaintFilerNotAllowed = "complaint_filer_not_allowed", "R11-R12",
        "a complaint is filed by the enterprise's own key or by an intake clerk";
    DerivedCaseReserved = "derived_case_reserved", "R13-R14",
        "the derived channel, triggered_by and auto- case ids are the ledger's own";
    DerivedCaseWithoutTrigger = "derived_case_without_trigger", "R13-R14",
        "a derived case names no record that opens one, or that record has its case";
    DerivedCaseMismatch = "derived_case_mismatch", "R13-R14",
        "a derived case differs from the one its trigger opens";
    CaseNotAwaitingAcceptance = "case_not_awaiting_acceptance", "R1, case lifecycle",
        "only a filed case is accepted or rejected";
    CaseNotAccepted = "case_not_accepted", "case lifecycle",
        "the case was never accepted, so it cannot be handled or resolved";
    CaseNotInProgress = "case_not_in_progress", "case lifecycle",
        "the case is not being handled (rejected, resolved, closed or withdrawn)";
    CaseNotResolved = "case_not_resolved", "case lifecycle",
        "only a resolved (or closed) case is rated, closed or reopened";
    CaseNotOpen = "case_not_open", "case lifecycle",
        "the case is rejected, closed or withdrawn";
    SupervisionNotAuthorised = "supervision_not_authorised", "R10, R12",
        "a case is supervised by the provincial centre, a supervisor or a body that referred it onward, never by the body handling it";
    CaseCloseWithoutRating = "case_close_without_rating", "case lifecycle",
        "a case is closed after the complainant's rating";
    CaseReopenWithoutDissatisfaction = "case_reopen_without_dissatisfaction", "case lifecycle",
        "a case is reopened on a dissatisfied rating, or by a supervisor";
    CaseFirstReplyAlreadySent = "case_first_reply_already_sent", "R1",
        "the first reply was already sent";
    CaseAlreadyExtended = "case_already_extended", "R4",
        "the deadline was already extended once";
    CaseReferralToSelf = "case_referral_to_self", "R12",
        "a case is referred to another body than the one responsible";
    CaseOutsideJurisdiction = "case_outside_jurisdiction", "R7",
        "a case goes to a body of the enterprise's own city (or one of no city): by referral, assignment, or acceptance when nobody has taken it on";
    CaseNotResponsible = "case_not_responsible", "R8, R12, R16",
        "only the body currently responsible (or the centre, or a supervisor, per act) acts on a case";
    CaseNotComplainant = "case_not_complainant", "case lifecycle",
        "an enterprise acts only on its own complaint";
    RatingSourceMismatch = "rating_source_mismatch", "R24, 12345 cycle",
        "an enterprise rating comes from the enterprise, a follow-up rating from a follow-up key";
    PromiseNotBoundBody = "promise_not_bound_body", "R15, art. 31",
        "a promise is made, kept, breached, varied or compensated by the body it binds today";
    PromiseVoidByBoundBody = "promise_void_by_bound_body", "R15, art. 31",
        "a promise is declared void by a supervisor key of a body other than the one it binds";
    PromiseBodyReorganised = "promise_body_reorganised", "R15, art. 31",
        "a reorganised body makes no new promises; its successor does";
    PromiseNotOpen = "promise_not_open", "promise lifecycle",
        "the promise was already kept, breached or voided";
    PromiseDisputeNotBeneficiary = "promise_dispute_not_beneficiary", "R15",
        "only the promise's beneficiary disputes it";
    PromiseDisputeAlreadyOpen = "promise_dispute_already_open", "R15",
        "a dispute over the promise is already open";
    PromiseNoOpenDispute = "promise_no_open_dispute", "R15",
        "there is no open dispute to settle";
    PromiseCompensationWithoutBreach = "promise_compensation_without_breach", "R15",
        "compensation follows a breach, a lawful variation or an upheld dispute";
    InspectionNotDepartment = "inspection_not_department", "R13",
        "an inspection is requested, registered, conducted and charged by its own department";
    InspectionApprovalNotHead = "inspection_approval_not_head", "R13",
        "only a head-role key of the inspection's department approves it";
    InspectionAlreadyApproved = "inspection_already_approved", "R13",
        "the inspection was already approved";
    InspectionAlreadyRegistered = "inspection_already_registered", "R14",
        "the inspection was already registered";
    InspectionAlreadyConducted = "inspection_already_conducted", "R13, inspection lifecycle",
        "an inspection is conducted once under one registration";
    InspectionMismatch = "inspection_mismatch", "R13",
        "the inspection conducted names another department or enterprise than the one requested";
    InspectionRetroactiveMismatch = "inspection_retroactive_mismatch", "R13",
        "an approval is retroactive exactly when the inspection was already conducted";
    InspectionRetroactiveNotEmergency = "inspection_retroactive_not_emergency", "R13",
        "only an emergency inspection is approved retroactively";
    ProjectMilestoneOutOfOrder = "project_milestone_out_of_order", "R20",
        "project milestones move forward: started, performed, completed (a stall may interrupt)";
    MonitoringPointDuplicate = "monitoring_point_duplicate", "R22",
        "the enterprise is already a monitoring point of this city this year";
    MonitoringPointWrongCity = "monitoring_point_wrong_city", "R22",
        "a monitoring point is an enterprise of the naming city";
    EvaluationRatingOutOfRange = "evaluation_rating_out_of_range", "R23",
        "an evaluation score is an integer 0..=100";
    EvaluationNoRespondents = "evaluation_no_respondents", "R24",
        "evaluation feedback summarises at least one respondent";
    AccountabilityNoPerson = "accountability_no_person", "R5, R15",
        "accountability names the persons held to account";
    AccountabilityNotAuthorised = "accountability_not_authorised", "R5, R15",
        "accountability is imposed by a supervisor, or by the head of the body or of its parent";
    AccountabilityBodyNotInvolved = "accountability_body_not_involved", "R5, R15",
        "accountability falls on a body that had the matter: for a case one that took it in, was responsible, assigned, referred or joined it, or was complained about; for a promise the body it binds; for an inspection its department (successors included)";
    CorrectionTargetUnknown = "correction_target_unknown", "corrections",
        "the target seq is not a correctable domain record";
    CorrectionFieldNotCorrectable = "correction_field_not_correctable", "corrections",
        "the field is not a correctable field of the target's event type";
    CorrectionValueInvalid = "correction_value_invalid", "corrections",
        "the superseding value does not fit the field";
}

impl std::fmt::Display for RuleCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rule code a rejection from [`check`] starts with.
pub fn rule_of(r: &Rejection) -> Option<RuleCode> {
    if r.code != Code::RuleViolated {
        return None;
    }
    r.message
        .split_once(": ")
        .and_then(|(c, _)| RuleCode::parse(c))
}

fn refuse(rule: RuleCode, message: impl AsRef<str>) -> Rejection {
    Rejection::new(
        Code::RuleViolated,
        format!("{}: {}", rule.as_str(), message.as_ref()),
    )
}

type Checked = Result<(), Rejection>;

// -- lookups ----------------------------------------------------------------

fn enterprise_exists(m: &Model, id: &Id) -> Checked {
    if m.enterprises.contains_key(id) {
        Ok(())
    } else {
        Err(refuse(
            RuleCode::UnknownEnterprise,
            format!("enterprise {id} is not registered"),
        ))
    }
}

fn body_exists(m: &Model, id: &Id) -> Checked {
    if m.bodies.contains_key(id) {
        Ok(())
    } else {
        Err(refuse(
            RuleCode::UnknownBody,
            format!("body {id} is not registered"),
        ))
    }
}

fn city_exists(m: &Model, id: &Id) -> Checked {
    match m.bodies.get(id) {
        Some(b) if b.kind == BodyKind::CityGovernment => Ok(()),
        _ => Err(refuse(
            RuleCode::UnknownCity,
            format!("{id} is not a registered city government"),
        )),
    }
}

fn case<'m>(m: &'m Model, id: &Id) -> Result<&'m Case, Rejection> {
    m.cases.get(id).ok_or_else(|| {
        refuse(
            RuleCode::UnknownCase,
            format!("no complaint was filed as case {id}"),
        )
    })
}

fn promise<'m>(m: &'m Model, id: &Id) -> Result<&'m crate::model::Promise, Rejection> {
    m.promises.get(id).ok_or_else(|| {
        refuse(
            RuleCode::UnknownPromise,
            format!("no promise {id} was made"),
        )
    })
}

fn inspection<'m>(m: &'m Model, id: &Id) -> Result<&'m crate::model::Inspection, Rejection> {
    m.inspections.get(id).ok_or_else(|| {
        refuse(
            RuleCode::UnknownInspection,
            format!("no inspection {id} was requested or conducted"),
        )
    })
}

fn project<'m>(m: &'m Model, id: &Id) -> Result<&'m crate::model::Project, Rejection> {
    m.projects.get(id).ok_or_else(|| {
        refuse(
            RuleCode::UnknownProject,
            format!("no project {id} was signed"),
        )
    })
}

fn holder_is_body(rec: &Applied, body: &Id) -> bool {
    rec.holder_body() == Some(body.as_str())
}

fn state_name(s: CaseState) -> &'static str {
    match s {
        CaseState::Filed => "filed",
        CaseState::Accepted => "accepted",
        CaseState::Rejected => "rejected",
        CaseState::InProgress => "in progress",
        CaseState::Resolved => "resolved",
        CaseState::Closed => "closed",
        CaseState::Withdrawn => "withdrawn",
    }
}

// -- case authority -----------------------------------------------------------

/// Who besides the responsible body may perform an act on a case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Power {
    /// Only the responsible body (resolution).
    Responsible,
    /// The responsible body or the centre's intake.
    OrCentre,
    /// The responsible body, the centre's intake or a supervisor.
    OrCentreOrSupervisor,
}

fn is_centre_intake(m: &Model, rec: &Applied) -> bool {
    rec.has_role(Role::Intake)
        && rec
            .holder_body()
            .and_then(|b| Id::new(b).ok())
            .and_then(|b| m.bodies.get(&b))
            .is_some_and(|b| b.kind == BodyKind::ProvincialCentre)
}

/// Who supervises a case (督办): the provincial centre's intake, a
/// supervisor (R10), or a body that referred it onward and chases it (R12);
/// never the body handling it today.
fn supervision_power(m: &Model, c: &Case, rec: &Applied) -> Checked {
    let responsible = m.responsible_today(c);
    let handling = responsible.as_ref().is_some_and(|r| holder_is_body(rec, r));
    let referred_onward = c.referrals.iter().any(|r| {
        r.from
            .as_ref()
            .is_some_and(|f| holder_is_body(rec, &m.current_body(f)))
    });
    // The centre that accepted a case and still handles it, or a supervisor
    // key of the body handling it, is the body handling it.
    if !handling && (is_centre_intake(m, rec) || rec.has_role(Role::Supervisor) || referred_onward)
    {
        return Ok(());
    }
    Err(refuse(
        RuleCode::SupervisionNotAuthorised,
        format!(
            "case {} is supervised by the provincial centre, a supervisor or a body that referred it onward{}, not by {}",
            c.id,
            if handling { " (never by the body handling it)" } else { "" },
            rec.actor_holder
        ),
    ))
}

fn case_power(m: &Model, c: &Case, rec: &Applied, power: Power, act: &str) -> Checked {
    let Some(responsible) = m.responsible_today(c) else {
        // Nobody has taken the case on yet: an intake clerk acts as the first
        // body contacted (R16–R19).
        if rec.has_role(Role::Intake)
            || (power == Power::OrCentreOrSupervisor && rec.has_role(Role::Supervisor))
        {
            return Ok(());
        }
        return Err(refuse(
            RuleCode::CaseNotResponsible,
            format!(
                "case {} has no responsible body yet; only an intake clerk may {act} it, not {}",
                c.id, rec.actor_holder
            ),
        ));
    };
    if holder_is_body(rec, &responsible) {
        return Ok(());
    }
    if power != Power::Responsible && is_centre_intake(m, rec) {
        return Ok(());
    }
    // R12: a body that referred the case onward keeps chasing it (督促解决), so
    // it may report it to government and close it after the rating, as the
    // centre may; it neither handles, refers again nor resolves it.
    if power == Power::OrCentreOrSupervisor
        && matches!(act, "report" | "close")
        && c.referrals.iter().any(|r| {
            r.from
                .as_ref()
                .is_some_and(|f| holder_is_body(rec, &m.current_body(f)))
        })
    {
        return Ok(());
    }
    if power == Power::OrCentreOrSupervisor && rec.has_role(Role::Supervisor) {
        return Ok(());
    }
    Err(refuse(
        RuleCode::CaseNotResponsible,
        format!(
            "only body {responsible}, which is responsible for case {}, may {act} it; {} is not",
            c.id, rec.actor_holder
        ),
    ))
}

/// The case is being handled (accepted, not yet resolved).
fn handling(c: &Case, act: &str) -> Checked {
    match c.state {
        CaseState::Accepted | CaseState::InProgress => Ok(()),
        CaseState::Filed => Err(refuse(
            RuleCode::CaseNotAccepted,
            format!("case {} was never accepted; it cannot be {act}", c.id),
        )),
        s => Err(refuse(
            RuleCode::CaseNotInProgress,
            format!("case {} is {}; it cannot be {act}", c.id, state_name(s)),
        )),
    }
}

/// A case still open (not rejected, closed or withdrawn), for what only an
/// open case may be: reported, supervised, withdrawn.
fn open(c: &Case, act: &str) -> Checked {
    if c.state.is_open() {
        return Ok(());
    }
    Err(refuse(
        RuleCode::CaseNotOpen,
        format!(
            "case {} is {}; only an open case is {act}",
            c.id,
            state_name(c.state)
        ),
    ))
}

/// R7: a body with a city must be of the enterprise's city.
fn in_jurisdiction(m: &Model, c: &Case, body: &Id) -> Checked {
    match m.city_of_body(body) {
        Some(city) if *city != c.city => Err(refuse(
            RuleCode::CaseOutsideJurisdiction,
            format!(
                "body {body} belongs to {city}, but case {} is in {} (the enterprise's city)",
                c.id, c.city
            ),
        )),
        _ => Ok(()),
    }
}

fn complainant_only(c: &Case, rec: &Applied) -> Checked {
    if let Party::Enterprise(e) = rec.actor_holder {
        if e.as_str() != c.enterprise.as_str() {
            return Err(refuse(
                RuleCode::CaseNotComplainant,
                format!(
                    "enterprise {e} did not file case {} ({} did)",
                    c.id, c.enterprise
                ),
            ));
        }
    }
    Ok(())
}

// -- the check ------------------------------------------------------------------

/// Checks `rec` against the state before it. `Ok` carries the flags to
/// record (possibly none); `Err` means nothing may be appended.
pub fn check(model: &Model, rec: &Applied) -> Result<Vec<Flag>, Rejection> {
    check_event(model, rec)?;
    Ok(model.flags_for(rec))
}

fn check_event(m: &Model, rec: &Applied) -> Checked {
    match &rec.statement.event {
        Event::LedgerGenesis(_)
        | Event::KeyGranted(_)
        | Event::KeyRevoked(_)
        | Event::CalendarLoaded(_)
        | Event::BodyRegistered(_)
        | Event::OfficeHolderAppointed(_)
        | Event::EnterpriseRegistered(_) => Ok(()),
        Event::BodyReorganised(r) => {
            body_exists(m, &r.body)?;
            body_exists(m, &r.successor)?;
            if let Some(s) = m.bodies.get(&r.body).and_then(|b| b.successor.as_ref()) {
                return Err(refuse(
                    RuleCode::BodyAlreadyReorganised,
                    format!(
                        "body {} was already succeeded by {} at seq {}",
                        r.body, s.successor, s.at.seq
                    ),
                ));
            }
            if r.body == r.successor || m.current_body(&r.successor) == r.body {
                return Err(refuse(
                    RuleCode::BodyReorganisationCycle,
                    format!(
                        "body {} would succeed itself through {}",
                        r.body, r.successor
                    ),
                ));
            }
            Ok(())
        }
        Event::RuleParametersSet(p) => check_parameters(&p.parameters),
        Event::ComplaintFiled(f) => check_filed(m, rec, f),
        Event::ComplaintAccepted(e) => decide(m, rec, &e.case, "accepted"),
        Event::ComplaintRejected(e) => decide(m, rec, &e.case, "rejected"),
        Event::ResponsibilityAssigned(e) => {
            let c = case(m, &e.case)?;
            handling(c, "assigned")?;
            case_power(m, c, rec, Power::OrCentreOrSupervisor, "assign")?;
            body_exists(m, &e.body)?;
            in_jurisdiction(m, c, &e.body)
        }
        Event::CaseReferred(e) => {
            let c = case(m, &e.case)?;
            handling(c, "referred")?;
            case_power(m, c, rec, Power::OrCentre, "refer")?;
            body_exists(m, &e.to)?;
            if m.responsible_today(c).as_ref() == Some(&m.current_body(&e.to)) {
                return Err(refuse(
                    RuleCode::CaseReferralToSelf,
                    format!("case {} is already with body {}", c.id, e.to),
                ));
            }
            in_jurisdiction(m, c, &e.to)
        }
        Event::FirstReplySent(e) => {
            let c = case(m, &e.case)?;
            handling(c, "replied to")?;
            case_power(m, c, rec, Power::OrCentre, "reply on")?;
            if let Some(r) = &c.first_reply {
                return Err(refuse(
                    RuleCode::CaseFirstReplyAlreadySent,
                    format!("case {} had its first reply at seq {}", c.id, r.at.seq),
                ));
            }
            Ok(())
        }
        Event::JointHandlingConvened(e) => {
            let c = case(m, &e.case)?;
            handling(c, "handled jointly")?;
            case_power(m, c, rec, Power::OrCentre, "convene joint handling of")?;
            e.bodies.iter().try_for_each(|b| body_exists(m, b))
        }
        Event::ReportedToGovernment(e) => {
            let c = case(m, &e.case)?;
            open(c, "reported")?;
            case_power(m, c, rec, Power::OrCentreOrSupervisor, "report")?;
            body_exists(m, &e.to)
        }
        Event::CaseSupervised(e) => {
            let c = case(m, &e.case)?;
            open(c, "supervised")?;
            supervision_power(m, c, rec)
        }
        Event::ProgressReported(e) => {
            let c = case(m, &e.case)?;
            handling(c, "reported on")?;
            case_power(m, c, rec, Power::OrCentre, "report progress on")
        }
        Event::DeadlineExtended(e) => {
            let c = case(m, &e.case)?;
            handling(c, "extended")?;
            case_power(m, c, rec, Power::OrCentre, "extend")?;
            if let Some(x) = &c.extended {
                return Err(refuse(
                    RuleCode::CaseAlreadyExtended,
                    format!("case {} was already extended at seq {} (R4 allows one extension up to the cap)", c.id, x.at.seq),
                ));
            }
            Ok(())
        }
        Event::MediationHeld(e) => {
            let c = case(m, &e.case)?;
            handling(c, "mediated")?;
            case_power(m, c, rec, Power::OrCentre, "mediate")
        }
        Event::CaseResolved(e) => {
            let c = case(m, &e.case)?;
            handling(c, "resolved")?;
            case_power(m, c, rec, Power::Responsible, "resolve")
        }
        Event::SatisfactionRecorded(e) => {
            let c = case(m, &e.case)?;
            if !matches!(c.state, CaseState::Resolved | CaseState::Closed) {
                return Err(refuse(
                    RuleCode::CaseNotResolved,
                    format!(
                        "case {} is {}; it is rated after its resolution",
                        c.id,
                        state_name(c.state)
                    ),
                ));
            }
            match e.source {
                RatingSource::Enterprise => {
                    if *rec.actor_holder != Party::Enterprise(c.enterprise.as_str().to_string()) {
                        return Err(refuse(
                            RuleCode::RatingSourceMismatch,
                            format!("a rating from the enterprise must be signed by {}'s own key, not by {}", c.enterprise, rec.actor_holder),
                        ));
                    }
                }
                RatingSource::FollowUpCall => {
                    if !rec.has_role(Role::FollowUp) {
                        return Err(refuse(
                            RuleCode::RatingSourceMismatch,
                            "a follow-up call's rating is recorded by a key with the follow_up role",
                        ));
                    }
                }
            }
            Ok(())
        }
        Event::CaseClosed(e) => {
            let c = case(m, &e.case)?;
            if c.state != CaseState::Resolved {
                return Err(refuse(
                    RuleCode::CaseNotResolved,
                    format!(
                        "case {} is {}; only a resolved case is closed",
                        c.id,
                        state_name(c.state)
                    ),
                ));
            }
            case_power(m, c, rec, Power::OrCentreOrSupervisor, "close")?;
            if c.current_rating().is_none() {
                return Err(refuse(
                    RuleCode::CaseCloseWithoutRating,
                    format!("case {} has no rating since its resolution", c.id),
                ));
            }
            Ok(())
        }
        Event::CaseReopened(e) => {
            let c = case(m, &e.case)?;
            if !matches!(c.state, CaseState::Resolved | CaseState::Closed) {
                return Err(refuse(
                    RuleCode::CaseNotResolved,
                    format!(
                        "case {} is {}; only a resolved or closed case is reopened",
                        c.id,
                        state_name(c.state)
                    ),
                ));
            }
            complainant_only(c, rec)?;
            let dissatisfied = c
                .current_rating()
                .is_some_and(|r| r.rating == Rating::Dissatisfied);
            if !dissatisfied && !rec.has_role(Role::Supervisor) {
                return Err(refuse(
                    RuleCode::CaseReopenWithoutDissatisfaction,
                    format!("case {} has no dissatisfied rating since its resolution; only a supervisor reopens it otherwise", c.id),
                ));
            }
            Ok(())
        }
        Event::ComplaintWithdrawn(e) => {
            let c = case(m, &e.case)?;
            open(c, "withdrawn")?;
            complainant_only(c, rec)?;
            if !matches!(rec.actor_holder, Party::Enterprise(_)) {
                // On the enterprise's behalf: an intake clerk of the body that
                // took the complaint in, of the body responsible for it, or of
                // the provincial centre; never of a body it does not concern.
                let clerk = rec.holder_body().and_then(|b| Id::new(b).ok());
                let concerned = clerk.as_ref().is_some_and(|b| {
                    m.responsible_today(c).as_ref() == Some(b)
                        || matches!(&c.filed_by, Party::Body(f) if f == b.as_str())
                });
                if !rec.has_role(Role::Intake) || !(concerned || is_centre_intake(m, rec)) {
                    return Err(refuse(
                        RuleCode::CaseNotComplainant,
                        format!(
                            "a complaint is withdrawn by the enterprise, or on its behalf by an intake clerk of the body that took it in, the body responsible for it or the provincial centre; {} is none of these for case {}",
                            rec.actor_holder, c.id
                        ),
                    ));
                }
            }
            Ok(())
        }
        Event::PromiseMade(p) => {
            if m.promises.contains_key(&p.promise) {
                return Err(refuse(
                    RuleCode::PromiseAlreadyExists,
                    format!("promise {} was already made", p.promise),
                ));
            }
            body_exists(m, &p.body)?;
            if let Some(b) = &p.beneficiary {
                enterprise_exists(m, b)?;
            }
            if let Some(s) = m.bodies.get(&p.body).and_then(|b| b.successor.as_ref()) {
                return Err(refuse(
                    RuleCode::PromiseBodyReorganised,
                    format!("body {} was succeeded by {}; promises are now made in the successor's name", p.body, s.successor),
                ));
            }
            if !holder_is_body(rec, &p.body) {
                return Err(refuse(
                    RuleCode::PromiseNotBoundBody,
                    format!(
                        "a promise binding {} is made by a key of {}, not of {}",
                        p.body, p.body, rec.actor_holder
                    ),
                ));
            }
            Ok(())
        }
        Event::PromiseKept(e) => settle_promise(m, rec, &e.promise, ("keep", "kept")),
        Event::PromiseBreached(e) => settle_promise(m, rec, &e.promise, ("breach", "breached")),
        Event::PromiseVaried(e) => settle_promise(m, rec, &e.promise, ("vary", "varied")),
        Event::PromiseVoided(e) => void_promise(m, rec, &e.promise),
        Event::PromiseDisputed(e) => {
            let p = promise(m, &e.promise)?;
            let by_beneficiary = p
                .beneficiary
                .as_ref()
                .is_some_and(|b| *rec.actor_holder == Party::Enterprise(b.as_str().to_string()));
            if !by_beneficiary {
                return Err(refuse(
                    RuleCode::PromiseDisputeNotBeneficiary,
                    match &p.beneficiary {
                        Some(b) => format!(
                            "promise {} is disputed by its beneficiary {b}, not by {}",
                            p.id, rec.actor_holder
                        ),
                        None => {
                            format!("promise {} names no beneficiary who could dispute it", p.id)
                        }
                    },
                ));
            }
            if p.dispute_open() {
                return Err(refuse(
                    RuleCode::PromiseDisputeAlreadyOpen,
                    format!("a dispute over promise {} is already open", p.id),
                ));
            }
            Ok(())
        }
        Event::PromiseDisputeSettled(e) => {
            let p = promise(m, &e.promise)?;
            if !p.dispute_open() {
                return Err(refuse(
                    RuleCode::PromiseNoOpenDispute,
                    format!("promise {} has no open dispute", p.id),
                ));
            }
            Ok(())
        }
        Event::CompensationPaid(e) => {
            let p = promise(m, &e.promise)?;
            bound_body(m, rec, p, "compensate")?;
            enterprise_exists(m, &e.to)?;
            if !matches!(p.status, PromiseStatus::Breached | PromiseStatus::Varied)
                && !p.dispute_upheld()
            {
                return Err(refuse(
                    RuleCode::PromiseCompensationWithoutBreach,
                    format!(
                        "promise {} was neither breached, varied nor found against in a dispute",
                        p.id
                    ),
                ));
            }
            Ok(())
        }
        Event::InspectionRequested(r) => {
            if m.inspections.contains_key(&r.inspection) {
                return Err(refuse(
                    RuleCode::InspectionAlreadyExists,
                    format!("inspection {} already exists", r.inspection),
                ));
            }
            body_exists(m, &r.department)?;
            for joint in &r.joint_with {
                body_exists(m, joint)?;
            }
            enterprise_exists(m, &r.enterprise)?;
            department_only(m, rec, &r.department, "request")
        }
        Event::InspectionApproved(e) => {
            let i = inspection(m, &e.inspection)?;
            let dept_key = holder_is_body(rec, &i.department)
                || holder_is_body(rec, &m.current_body(&i.department));
            if !(dept_key && rec.has_role(Role::Head)) {
                return Err(refuse(
                    RuleCode::InspectionApprovalNotHead,
                    format!(
                        "inspection {} is approved by a head-role key of {}, not by {}",
                        i.id, i.department, rec.actor_holder
                    ),
                ));
            }
            if let Some(a) = &i.approved {
                return Err(refuse(
                    RuleCode::InspectionAlreadyApproved,
                    format!("inspection {} was approved at seq {}", i.id, a.at.seq),
                ));
            }
            let conducted = i.conducted.is_some();
            if e.retroactive != conducted {
                return Err(refuse(
                    RuleCode::InspectionRetroactiveMismatch,
                    if conducted {
                        format!("inspection {} was already conducted; its approval can only be retroactive", i.id)
                    } else {
                        format!(
                            "inspection {} is not conducted yet; its approval is not retroactive",
                            i.id
                        )
                    },
                ));
            }
            if e.retroactive && !i.emergency {
                return Err(refuse(
                    RuleCode::InspectionRetroactiveNotEmergency,
                    format!("inspection {} was not requested as an emergency; it cannot be approved after the fact", i.id),
                ));
            }
            Ok(())
        }
        Event::InspectionRegistered(e) => {
            let i = inspection(m, &e.inspection)?;
            department_only(m, rec, &i.department, "register")?;
            if let Some(r) = &i.registered {
                return Err(refuse(
                    RuleCode::InspectionAlreadyRegistered,
                    format!("inspection {} was registered at seq {}", i.id, r.at.seq),
                ));
            }
            Ok(())
        }
        Event::InspectionConducted(c) => {
            body_exists(m, &c.department)?;
            enterprise_exists(m, &c.enterprise)?;
            if let Some(i) = m.inspections.get(&c.inspection) {
                if let Some(done) = &i.conducted {
                    return Err(refuse(
                        RuleCode::InspectionAlreadyConducted,
                        format!("inspection {} was conducted at seq {}; a new inspection needs its own registration", i.id, done.at.seq),
                    ));
                }
                if i.department != c.department || i.enterprise != c.enterprise {
                    return Err(refuse(
                        RuleCode::InspectionMismatch,
                        format!(
                            "inspection {} was requested by {} at {}, not by {} at {}",
                            i.id, i.department, i.enterprise, c.department, c.enterprise
                        ),
                    ));
                }
            }
            department_only(m, rec, &c.department, "conduct")
        }
        Event::InspectionFeeDemanded(f) => {
            let i = inspection(m, &f.inspection)?;
            department_only(m, rec, &i.department, "record a fee for")
        }
        Event::ProjectSigned(p) => {
            if m.projects.contains_key(&p.project) {
                return Err(refuse(
                    RuleCode::ProjectAlreadyExists,
                    format!("project {} was already signed", p.project),
                ));
            }
            enterprise_exists(m, &p.enterprise)?;
            city_exists(m, &p.city)
        }
        Event::ProjectMilestoneReached(e) => {
            let p = project(m, &e.project)?;
            check_milestone(p, e.milestone)
        }
        Event::ProjectFundsArrived(e) => project(m, &e.project).map(|_| ()),
        Event::MonitoringPointNamed(mp) => {
            city_exists(m, &mp.city)?;
            enterprise_exists(m, &mp.enterprise)?;
            if let Some(e) = m.enterprises.get(&mp.enterprise) {
                if e.city != mp.city {
                    return Err(refuse(
                        RuleCode::MonitoringPointWrongCity,
                        format!("enterprise {} is in {}, not in {}", e.id, e.city, mp.city),
                    ));
                }
            }
            let dup = m
                .monitoring_points
                .get(&mp.city)
                .and_then(|y| y.get(&mp.year))
                .is_some_and(|e| e.contains_key(&mp.enterprise));
            if dup {
                return Err(refuse(
                    RuleCode::MonitoringPointDuplicate,
                    format!(
                        "{} is already a monitoring point of {} for {}",
                        mp.enterprise, mp.city, mp.year
                    ),
                ));
            }
            Ok(())
        }
        Event::EvaluationFeedbackRecorded(e) => {
            city_exists(m, &e.city)?;
            if e.rating > 100 {
                return Err(refuse(
                    RuleCode::EvaluationRatingOutOfRange,
                    format!("score {} is outside 0..=100", e.rating),
                ));
            }
            if e.respondents == 0 {
                return Err(refuse(
                    RuleCode::EvaluationNoRespondents,
                    "feedback summarises at least one respondent",
                ));
            }
            Ok(())
        }
        Event::AccountabilityImposed(a) => {
            match &a.subject {
                Subject::Case(id) => case(m, id).map(|_| ())?,
                Subject::Promise(id) => promise(m, id).map(|_| ())?,
                Subject::Inspection(id) => inspection(m, id).map(|_| ())?,
            }
            body_exists(m, &a.body)?;
            involved(m, &a.subject, &a.body)?;
            if a.persons.is_empty() || a.persons.iter().any(|p| p.as_str().trim().is_empty()) {
                return Err(refuse(
                    RuleCode::AccountabilityNoPerson,
                    "accountability names each person held to account (the handler and the leaders above)",
                ));
            }
            let parent = m.bodies.get(&a.body).and_then(|b| b.parent.as_ref());
            let own_head = rec.has_role(Role::Head)
                && (holder_is_body(rec, &a.body) || parent.is_some_and(|p| holder_is_body(rec, p)));
            if !rec.has_role(Role::Supervisor) && !own_head {
                return Err(refuse(
                    RuleCode::AccountabilityNotAuthorised,
                    format!(
                        "{} may not impose accountability on body {}",
                        rec.actor_holder, a.body
                    ),
                ));
            }
            Ok(())
        }
        Event::Correction(c) => check_correction(m, c),
    }
}

/// R5, R15: the body held to account had the matter, itself or through a
/// body it succeeded; otherwise an accountability record could name any body
/// and the follow-through figures would count it for the wrong city.
fn involved(m: &Model, subject: &Subject, body: &Id) -> Checked {
    // Accountability is rare: owned ids keep this simple.
    let mut had: Vec<Id> = Vec::new();
    let what = match subject {
        Subject::Case(id) => {
            let c = case(m, id)?;
            if let Party::Body(b) = &c.filed_by {
                had.extend(Id::new(b.clone()).ok());
            }
            had.extend(c.responsible.iter().cloned());
            had.extend(c.against.iter().cloned());
            had.extend(c.chains.iter().map(|ch| ch.body.clone()));
            for r in c.referrals.iter() {
                had.extend(r.from.iter().cloned());
                had.push(r.to.clone());
            }
            had.extend(c.joint_bodies().into_iter().cloned());
            format!("case {id}")
        }
        Subject::Promise(id) => {
            had.push(promise(m, id)?.body.clone());
            format!("promise {id}")
        }
        Subject::Inspection(id) => {
            had.push(inspection(m, id)?.department.clone());
            format!("inspection {id}")
        }
    };
    if had.iter().any(|b| b == body || m.current_body(b) == *body) {
        return Ok(());
    }
    Err(refuse(
        RuleCode::AccountabilityBodyNotInvolved,
        format!("body {body} had no part in {what}; accountability falls on a body that had it"),
    ))
}

fn check_parameters(p: &events::vocab::RuleParameters) -> Checked {
    let ranges: [(&str, u32, u32, u32); 9] = [
        ("reply_working_days", p.reply_working_days, 1, 60),
        ("result_days", p.result_days, 1, 366),
        ("progress_notice_days", p.progress_notice_days, 1, 366),
        ("extension_cap_months", p.extension_cap_months, 1, 36),
        ("approval_working_days", p.approval_working_days, 1, 60),
        (
            "inspection_repeat_window_days",
            p.inspection_repeat_window_days,
            0,
            3660,
        ),
        ("inspection_yearly_cap", p.inspection_yearly_cap, 1, 366),
        ("monitoring_points_min", p.monitoring_points_min, 1, 1000),
        ("monitoring_filing_month", p.monitoring_filing_month, 1, 12),
    ];
    for (name, v, lo, hi) in ranges {
        if !(lo..=hi).contains(&v) {
            return Err(refuse(
                RuleCode::RuleParametersOutOfRange,
                format!("{name} is {v}; it must lie in {lo}..={hi}"),
            ));
        }
    }
    Ok(())
}

fn check_filed(m: &Model, rec: &Applied, f: &ComplaintFiled) -> Checked {
    if m.cases.contains_key(&f.case) {
        return Err(refuse(
            RuleCode::CaseAlreadyExists,
            format!("case {} was already filed", f.case),
        ));
    }
    enterprise_exists(m, &f.enterprise)?;
    if let Some(b) = &f.against {
        body_exists(m, b)?;
    }
    if rec.is_system() {
        let Some(t) = f.triggered_by else {
            return Err(refuse(
                RuleCode::DerivedCaseWithoutTrigger,
                "the ledger files a complaint only for a record that opens one (triggered_by is missing)",
            ));
        };
        let trigger = m
            .derived_triggers
            .get(&t)
            .filter(|d| d.case.is_none() && t < rec.seq)
            .ok_or_else(|| {
                refuse(
                    RuleCode::DerivedCaseWithoutTrigger,
                    format!("seq {t} opens no derived case, or its case was already opened"),
                )
            })?;
        let expected = derived_body(t, trigger);
        if expected.as_ref() != Some(f) || rec.statement.occurred_at != trigger.occurred_at {
            return Err(refuse(
                RuleCode::DerivedCaseMismatch,
                format!("the complaint derived from seq {t} must be exactly the one rules::derived_complaint builds, stated at the trigger's occurred_at"),
            ));
        }
        return Ok(());
    }
    if f.channel == Channel::Derived
        || f.triggered_by.is_some()
        || f.case.as_str().starts_with(DERIVED_CASE_PREFIX)
    {
        return Err(refuse(
            RuleCode::DerivedCaseReserved,
            format!("the derived channel, triggered_by and case ids starting {DERIVED_CASE_PREFIX:?} are reserved for the ledger's own cases"),
        ));
    }
    let own = rec.has_role(Role::Enterprise)
        && *rec.actor_holder == Party::Enterprise(f.enterprise.as_str().to_string());
    let clerk = rec.has_role(Role::Intake) && rec.holder_body().is_some();
    if !own && !clerk {
        return Err(refuse(
            RuleCode::ComplaintFilerNotAllowed,
            format!(
                "a complaint of {} is filed by its own key or by an intake clerk, not by {}",
                f.enterprise, rec.actor_holder
            ),
        ));
    }
    Ok(())
}

fn decide(m: &Model, rec: &Applied, id: &Id, what: &str) -> Checked {
    let c = case(m, id)?;
    if c.state != CaseState::Filed {
        return Err(refuse(
            RuleCode::CaseNotAwaitingAcceptance,
            format!(
                "case {} is {}; only a filed case is {what}",
                c.id,
                state_name(c.state)
            ),
        ));
    }
    case_power(
        m,
        c,
        rec,
        Power::OrCentreOrSupervisor,
        if what == "accepted" {
            "accept"
        } else {
            "reject"
        },
    )?;
    // R7: accepting a case nobody has taken on makes the accepting body
    // responsible, so it must be of the enterprise's city (or of none). A
    // body that took the complaint in itself (the first contacted, R16)
    // accepts it and refers it on.
    if what == "accepted" && m.responsible_today(c).is_none() {
        if let Some(body) = rec.holder_body().and_then(|b| Id::new(b).ok()) {
            in_jurisdiction(m, c, &body)?;
        }
    }
    Ok(())
}

fn bound_body(m: &Model, rec: &Applied, p: &crate::model::Promise, act: &str) -> Checked {
    let today = m.body_bound_today(p);
    if holder_is_body(rec, &today) {
        return Ok(());
    }
    let inherited = if today == p.body {
        String::new()
    } else {
        format!(" (it inherited the promise from {})", p.body)
    };
    Err(refuse(
        RuleCode::PromiseNotBoundBody,
        format!(
            "promise {} binds {today}{inherited}; only {today} may {act} it, not {}",
            p.id, rec.actor_holder
        ),
    ))
}

/// Keeping, breaching or varying a promise: `(verb, past participle)`.
fn settle_promise(m: &Model, rec: &Applied, id: &Id, (verb, act): (&str, &str)) -> Checked {
    let p = promise(m, id)?;
    bound_body(m, rec, p, verb)?;
    promise_open(p, act)
}

/// Declaring a promise void (unlawful from the start, e.g. a tax rebate the
/// body had no power to grant) is a finding of a supervising body, recorded
/// with its reason: only a supervisor key may, and the body the promise
/// binds may not void its own promise even with one, or every breach could
/// be recorded as a void (art. 31). (The key registry still admits promisor
/// and head keys for `promise_voided`, so that records appended before this
/// rule keep verifying; the rule judges new appends.)
fn void_promise(m: &Model, rec: &Applied, id: &Id) -> Checked {
    let p = promise(m, id)?;
    let today = m.body_bound_today(p);
    if holder_is_body(rec, &today) || holder_is_body(rec, &p.body) {
        return Err(refuse(
            RuleCode::PromiseVoidByBoundBody,
            format!(
                "promise {} binds {today}; a body cannot declare its own promise void (a supervising body's finding does)",
                p.id
            ),
        ));
    }
    if !rec.has_role(Role::Supervisor) {
        return Err(refuse(
            RuleCode::PromiseVoidByBoundBody,
            format!(
                "promise {} is declared void by a supervisor key, not by {}",
                p.id, rec.actor_holder
            ),
        ));
    }
    promise_open(p, "voided")
}

fn promise_open(p: &crate::model::Promise, act: &str) -> Checked {
    if !matches!(p.status, PromiseStatus::Made | PromiseStatus::Varied) {
        let status = match p.status {
            PromiseStatus::Kept => "kept",
            PromiseStatus::Breached => "breached",
            PromiseStatus::Voided => "voided",
            PromiseStatus::Made | PromiseStatus::Varied => "open",
        };
        return Err(refuse(
            RuleCode::PromiseNotOpen,
            format!("promise {} was already {status}; it cannot be {act}", p.id),
        ));
    }
    Ok(())
}

fn department_only(m: &Model, rec: &Applied, department: &Id, act: &str) -> Checked {
    if holder_is_body(rec, department) || holder_is_body(rec, &m.current_body(department)) {
        return Ok(());
    }
    Err(refuse(
        RuleCode::InspectionNotDepartment,
        format!(
            "only department {department} may {act} its inspection, not {}",
            rec.actor_holder
        ),
    ))
}

fn check_milestone(p: &crate::model::Project, next: Milestone) -> Checked {
    use crate::model::ProjectStatus as S;
    let to = S::of(next);
    let ok = match (p.status, to) {
        (S::Completed, _) => false,
        (S::Stalled, S::Stalled) => false,
        (_, S::Stalled) => true,
        // Resuming after a stall: at least where the project had got to.
        (S::Stalled, t) => t >= p.progress && t != S::Signed,
        (cur, t) => t > cur,
    };
    if ok {
        Ok(())
    } else {
        Err(refuse(
            RuleCode::ProjectMilestoneOutOfOrder,
            format!(
                "project {} is {:?}; it cannot become {:?}",
                p.id, p.status, to
            ),
        ))
    }
}

fn check_correction(m: &Model, c: &events::vocab::Correction) -> Checked {
    let target = m.records.get(&c.target_seq).ok_or_else(|| {
        refuse(
            RuleCode::CorrectionTargetUnknown,
            format!("seq {} is not a correctable domain record (registry records are changed by new registry records)", c.target_seq),
        )
    })?;
    for (field, value) in &c.values {
        let Some(t) = crate::model::correctable_field(&target.kind, field) else {
            return Err(refuse(
                RuleCode::CorrectionFieldNotCorrectable,
                format!(
                    "{field} is not a correctable field of {} (ids and actors are never corrected)",
                    target.kind
                ),
            ));
        };
        let v = crate::model::decode_field(t, value)
            .map_err(|e| refuse(RuleCode::CorrectionValueInvalid, format!("{field}: {e}")))?;
        if let crate::model::FieldValue::OptBody(Some(b)) = &v {
            body_exists(m, b)?;
        }
    }
    Ok(())
}

// -- derived complaints ----------------------------------------------------------

/// Case ids of derived complaints start with this; no one else may use it.
pub const DERIVED_CASE_PREFIX: &str = "auto-";

/// The complaint body the ledger files for a trigger at `trigger_seq`.
fn derived_body(trigger_seq: u64, t: &DerivedTrigger) -> Option<ComplaintFiled> {
    let case = Id::new(format!("{DERIVED_CASE_PREFIX}{trigger_seq}")).ok()?;
    let names: Vec<&str> = t.flags.iter().map(|f| f.name()).collect();
    let summary = Text::new(format!(
        "Opened by the ledger (R13/R14): inspection {} of enterprise {} by {} (seq {trigger_seq}) was flagged: {}.",
        t.inspection,
        t.enterprise,
        t.department,
        names.join(", ")
    ))
    .ok()?;
    Some(ComplaintFiled {
        case,
        enterprise: t.enterprise.clone(),
        channel: Channel::Derived,
        category: t.category,
        summary,
        against: Some(t.department.clone()),
        claimed_loss: None,
        contact: None,
        urgent: false,
        major: false,
        triggered_by: Some(trigger_seq),
    })
}

/// The derived complaint `rec` opens, given the flags [`check`] returned for
/// it: case id `auto-<rec.seq>`, channel `derived`, category
/// `repeated_inspections` (or `arbitrary_fees` for a fee demand), against the
/// department, `triggered_by = rec.seq`. Works before or after `rec` is
/// applied. `derived_seq` is the seq the derived record will take (it must
/// follow the trigger); the body does not depend on it, so that a verifier
/// can rebuild the body from the trigger alone.
pub fn derived_complaint(
    model: &Model,
    rec: &Applied,
    flags: &[Flag],
    derived_seq: u64,
) -> Option<ComplaintFiled> {
    debug_assert!(
        derived_seq > rec.seq,
        "a derived record follows its trigger"
    );
    let t = model.derived_trigger_of(rec, flags)?;
    derived_body(rec.seq, &t)
}

#[cfg(test)]
mod tests;
