//! The domain state folded from verified records: bodies, enterprises, cases,
//! promises, inspections, projects, monitoring points, evaluation feedback,
//! accountability records, the rule parameters in force and corrections.
//!
//! [`Model::apply`] is a fold: it cannot fail, reads no clock and holds no
//! business logic beyond recording what a record says (the rules in
//! [`crate::rules`] ran before the record was appended). Ids a record names
//! but the model does not know are ignored, so that a record the rules would
//! have refused can never panic a replay. Rebuilding from the log and updating
//! incrementally are the same code path: `apply` record by record.
//!
//! Two things `apply` derives rather than copies, because they are facts about
//! the history and not validation: the flags of an inspection at the moment it
//! is conducted ([`Model::assess_conduct`]), and which records must open a
//! derived complaint case ([`Model::derived_triggers`]). The rules call the
//! same functions, so the flags the sequencer is told about are the flags the
//! model stores.
//!
//! Overdue flags are never stored: they depend on the evaluation time, which
//! is a parameter of the read models built on this state.
//!
//! Every collection is a `BTreeMap` or a `Vec` in seq order, so iteration and
//! [`Model::digest`] are deterministic.

use crate::list::{List, SeqMap};
use events::keys::{Party, Role};
use events::statement::Statement;
use events::time::{Date, OffsetTime, Timestamp};
use events::vocab::{
    BodyKind, Category, Channel, ComplaintFiled, Dimension, Event, EventKind, Excuse,
    FeedbackSource, Fen, Id, InspectionConducted, Milestone, Outcome, Position, Procedure,
    PromiseForm, Rating, RatingSource, Reorganisation, RuleParameters, Subject, Text, INTEGER_MAX,
};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

pub use crate::table::Table;

/// A read index: key (city, body, department) → business date → slots.
pub type ByKeyAndDate = BTreeMap<Id, BTreeMap<Date, Vec<u32>>>;

/// Adds `slot` under `key` and `date` (each date's slots sorted, each once).
fn add_slot(index: &mut ByKeyAndDate, key: &Id, date: Date, slot: u32) {
    let slots = index
        .entry(key.clone())
        .or_default()
        .entry(date)
        .or_default();
    if let Err(at) = slots.binary_search(&slot) {
        slots.insert(at, slot);
    }
}

/// The slot and the item of `id` in `table`.
fn slot_and_item<'t, T>(table: &'t Table<T>, id: &Id) -> Option<(u32, &'t T)> {
    let slot = table.slot_of(id)?;
    table.at(slot).map(|item| (slot, item))
}

/// One verified record as the fold sees it. The sequencer (and the verifier)
/// fill it from the record and the key registry at that seq.
#[derive(Clone, Copy, Debug)]
pub struct Applied<'a> {
    pub seq: u64,
    /// The ledger's time of the record.
    pub recorded_at: Timestamp,
    pub statement: &'a Statement,
    /// The party holding the signing key (`KeyEntry::holder`). The registry has
    /// already checked that `on_behalf_of`, when present, is this party.
    pub actor_holder: &'a Party,
    /// The roles granted with the signing key (`KeyEntry::roles`).
    pub actor_roles: &'a [Role],
}

impl Applied<'_> {
    pub fn has_role(&self, r: Role) -> bool {
        self.actor_roles.contains(&r)
    }

    /// The body holding the key, if a body holds it.
    pub fn holder_body(&self) -> Option<&str> {
        match self.actor_holder {
            Party::Body(b) => Some(b),
            _ => None,
        }
    }

    /// Whether this is the ledger's own system key (derived records).
    pub fn is_system(&self) -> bool {
        *self.actor_holder == Party::Ledger && self.has_role(Role::System)
    }
}

/// When something happened: the record's seq, the business time the statement
/// gives (`occurred_at`, which deadlines count from) and the ledger's time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct At {
    pub seq: u64,
    pub occurred_at: OffsetTime,
    pub recorded_at: Timestamp,
}

impl At {
    pub fn of(rec: &Applied) -> At {
        At {
            seq: rec.seq,
            occurred_at: rec.statement.occurred_at,
            recorded_at: rec.recorded_at,
        }
    }

    /// The business day in Shanghai, which deadlines count from.
    pub fn date(&self) -> Date {
        self.occurred_at.shanghai_date()
    }
}

/// One line of an entity's history: which record touched it and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: u64,
    /// The event type's wire name (`case_referred`, ...).
    pub kind: KindName,
    pub occurred_at: OffsetTime,
}

/// Facts that are recorded, not refused. The rules return them with an
/// accepted record; the model stores them on the inspection or promise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// R13/R14: conducted without the department head's prior approval.
    InspectionUnapproved,
    /// R14: conducted without an entry in the inspection register.
    InspectionUnregistered,
    /// R13: same enterprise, overlapping items, within the configured window, any department.
    InspectionRepeated,
    /// Over the published yearly cap of inspections per enterprise (国办发〔2024〕54号).
    InspectionOverCap,
    /// R13: a fee demanded under cover of an inspection (不得以检查为名乱收费).
    FeeDemanded,
    /// A breach excused by redistricting, a change of government, reorganisation
    /// or a change of official (Regulation on Optimizing the Business Environment art. 31).
    ForbiddenExcuse,
    /// The sequencer must append a derived complaint in the same batch (R13/R14).
    OpensCase,
}

impl Flag {
    /// The wire name, as in the serialized state.
    pub fn name(self) -> &'static str {
        match self {
            Flag::InspectionUnapproved => "inspection_unapproved",
            Flag::InspectionUnregistered => "inspection_unregistered",
            Flag::InspectionRepeated => "inspection_repeated",
            Flag::InspectionOverCap => "inspection_over_cap",
            Flag::FeeDemanded => "fee_demanded",
            Flag::ForbiddenExcuse => "forbidden_excuse",
            Flag::OpensCase => "opens_case",
        }
    }
}

// ---------------------------------------------------------------------------
// Registry facts.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub id: Id,
    pub name: Text,
    pub kind: BodyKind,
    pub city: Option<Id>,
    pub parent: Option<Id>,
    pub registered: At,
    /// Set when the body is merged, succeeded or renamed: its successor
    /// inherits its promises and cases.
    pub successor: Option<Succession>,
    /// Office holders by position, in order of appointment; the last is the
    /// current holder. A change of holder never changes what the body promised.
    pub office_holders: BTreeMap<Position, Vec<OfficeHolder>>,
}

impl Body {
    /// The city this body belongs to; a city government is its own city (R7).
    pub fn city_of(&self) -> Option<&Id> {
        if self.kind == BodyKind::CityGovernment {
            Some(&self.id)
        } else {
            self.city.as_ref()
        }
    }

    /// The current holder of a position.
    pub fn holder(&self, p: Position) -> Option<&OfficeHolder> {
        self.office_holders.get(&p).and_then(|v| v.last())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Succession {
    pub successor: Id,
    pub kind: Reorganisation,
    pub basis: Text,
    pub at: At,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeHolder {
    pub person: Text,
    pub division: Option<Text>,
    pub since: At,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub id: Id,
    pub name: Text,
    /// R7: jurisdiction follows the enterprise's location.
    pub city: Id,
    pub county: Option<Text>,
    pub registered: At,
}

// ---------------------------------------------------------------------------
// Cases.

/// The stored state of a case. Overdue is never a state: it is derived at an
/// evaluation time from the dates below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Filed,
    Accepted,
    Rejected,
    /// Referred, assigned, replied to or otherwise being handled (simple or joint).
    InProgress,
    Resolved,
    Closed,
    Withdrawn,
}

impl CaseState {
    /// Open states are those a complainant may still withdraw from.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseState::Filed | CaseState::Accepted | CaseState::InProgress | CaseState::Resolved
        )
    }

    /// States in which a case is being handled (after acceptance, before resolution).
    pub fn is_handling(self) -> bool {
        matches!(self, CaseState::Accepted | CaseState::InProgress)
    }
}

/// The deadline parameters in force when the case was filed, so that its due
/// dates do not move when the parameters are changed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseClock {
    pub reply_working_days: u32,
    pub result_days: u32,
    pub progress_notice_days: u32,
    pub extension_cap_months: u32,
}

impl CaseClock {
    pub fn from_parameters(p: &RuleParameters) -> CaseClock {
        CaseClock {
            reply_working_days: p.reply_working_days,
            result_days: p.result_days,
            progress_notice_days: p.progress_notice_days,
            extension_cap_months: p.extension_cap_months,
        }
    }
}

/// R8: 一把手负总责、分管领导具体抓、业务处室为责任处室.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsibilityChain {
    pub body: Id,
    pub head: Text,
    pub deputy: Text,
    pub division: Text,
    pub handler: Text,
    pub at: At,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Referral {
    pub at: At,
    /// The body responsible before the referral (none if nobody had taken it).
    pub from: Option<Id>,
    pub to: Id,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstReply {
    pub at: At,
    /// R2: an on-site response was made.
    pub on_site: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub at: At,
    pub outcome: Outcome,
    pub losses_recovered: Fen,
    pub summary: Text,
    /// Which handling round (0, then 1 after the first reopening, ...).
    pub round: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingEntry {
    pub at: At,
    pub rating: Rating,
    pub source: RatingSource,
    pub round: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mediation {
    pub at: At,
    pub agreement: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointHandling {
    pub at: At,
    pub bodies: List<Id>,
    pub on_site: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GovernmentReport {
    pub at: At,
    pub to: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noted {
    pub at: At,
    pub reason: Text,
}

/// R10, R12, the 12345 cycle: a supervision (督办) of an open case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    pub at: At,
    /// The body (or the centre) that supervised, as its key's holder.
    pub by: Party,
    pub instruction: Text,
}

/// A complaint case. A million-record ledger holds ~90k of them, so the
/// layout counts: histories are exact-length [`List`]s and the notes few
/// cases have (rejection, extension, withdrawal) are boxed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: Id,
    pub enterprise: Id,
    /// R7: the enterprise's city when the case was filed.
    pub city: Id,
    pub category: Category,
    pub channel: Channel,
    pub summary: Text,
    pub against: Option<Id>,
    /// Never shown publicly (Open311 reads hide it).
    pub claimed_loss: Option<Fen>,
    pub urgent: bool,
    pub major: bool,
    /// For a case the ledger opened itself: the seq of the triggering record.
    pub triggered_by: Option<u64>,
    pub filed: At,
    /// Who filed: the enterprise itself, an intake clerk's body, or the ledger.
    pub filed_by: Party,
    pub clock: CaseClock,
    pub state: CaseState,
    /// How many times the case was reopened; also the current handling round.
    pub reopened: u32,
    pub procedure: Option<Procedure>,
    pub accepted: Option<At>,
    pub rejected: Option<Box<Noted>>,
    /// The body responsible as recorded (follow successors with
    /// [`Model::responsible_today`]). R16–R19: the first body contacted owns
    /// the case until it is assigned or referred.
    pub responsible: Option<Id>,
    /// The current R8 chain; a referral clears it until the new body assigns one.
    pub chain: Option<ResponsibilityChain>,
    /// Every chain ever assigned, in order.
    pub chains: List<ResponsibilityChain>,
    pub referrals: List<Referral>,
    pub first_reply: Option<FirstReply>,
    pub extended: Option<Box<Noted>>,
    pub progress_notices: List<At>,
    pub mediations: List<Mediation>,
    pub joint: List<JointHandling>,
    pub reported_to_government: List<GovernmentReport>,
    pub supervisions: List<Supervision>,
    pub resolutions: List<Resolution>,
    /// Losses recovered as stated by the latest resolution (a later resolution
    /// states the total again, it does not add to it).
    pub losses_recovered: Fen,
    pub ratings: List<RatingEntry>,
    pub reopenings: List<Noted>,
    pub closed: Option<At>,
    pub withdrawn: Option<Box<Noted>>,
    pub accountability: List<u64>,
    pub timeline: List<TimelineEntry>,
}

impl Case {
    /// R3: the first result given (on-time result counts from this one).
    pub fn result_at(&self) -> Option<&At> {
        self.resolutions.first().map(|r| &r.at)
    }

    pub fn first_reply_at(&self) -> Option<&At> {
        self.first_reply.as_ref().map(|r| &r.at)
    }

    /// The latest rating given in the current handling round, if any.
    pub fn current_rating(&self) -> Option<&RatingEntry> {
        self.ratings.iter().rev().find(|r| r.round == self.reopened)
    }

    /// The bodies that took part in joint handling, without repeats.
    pub fn joint_bodies(&self) -> Vec<&Id> {
        let mut v: Vec<&Id> = self.joint.iter().flat_map(|j| j.bodies.iter()).collect();
        v.sort();
        v.dedup();
        v
    }

    fn touch(&mut self, rec: &Applied) {
        self.timeline.push(timeline(rec));
    }
}

// ---------------------------------------------------------------------------
// Promises.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromiseStatus {
    Made,
    Kept,
    Breached,
    /// Lawfully varied on a public-interest basis, with compensation; the new
    /// terms must still be kept.
    Varied,
    Voided,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    pub at: At,
    pub excuse: Excuse,
    pub excuse_given: Text,
    /// The excuse is itself a violation (redistricting, change of government,
    /// reorganisation, change of official).
    pub forbidden: bool,
    pub loss: Option<Fen>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variation {
    pub at: At,
    pub public_interest_basis: Text,
    pub new_terms: Text,
    pub compensation: Fen,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub opened: At,
    pub claim: Text,
    pub settled: Option<Settlement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub at: At,
    pub upheld: bool,
    pub outcome: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub at: At,
    pub amount: Fen,
    pub to: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub id: Id,
    /// The body bound when the promise was made (never a person). The body
    /// bound today follows reorganisations: [`Model::body_bound_today`].
    pub body: Id,
    pub beneficiary: Option<Id>,
    pub form: PromiseForm,
    pub terms: Text,
    pub due: Option<Date>,
    /// R16–R19: a service commitment made without a due date runs on its
    /// published clock, the `approval_working_days` in force when it was
    /// made (a later change of the parameter does not move it). The views,
    /// which hold the calendar, count its due date (`views::promise_due`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_working_days: Option<u32>,
    pub amount: Option<Fen>,
    pub document: Text,
    pub made: At,
    pub status: PromiseStatus,
    pub kept: Option<At>,
    pub breach: Option<Breach>,
    pub variations: List<Variation>,
    pub voided: Option<Noted>,
    pub disputes: List<Dispute>,
    pub payments: List<Payment>,
    pub compensation_paid: Fen,
    pub accountability: List<u64>,
    pub timeline: List<TimelineEntry>,
}

impl Promise {
    pub fn dispute_open(&self) -> bool {
        self.disputes.last().is_some_and(|d| d.settled.is_none())
    }

    /// Whether a settled dispute upheld the beneficiary's claim.
    pub fn dispute_upheld(&self) -> bool {
        self.disputes
            .iter()
            .any(|d| d.settled.as_ref().is_some_and(|s| s.upheld))
    }

    fn touch(&mut self, rec: &Applied) {
        self.timeline.push(timeline(rec));
    }
}

// ---------------------------------------------------------------------------
// Inspections.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub at: At,
    /// Given after the inspection (emergencies only).
    pub retroactive: bool,
    pub by: Party,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub at: At,
    pub register_entry: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conduct {
    pub at: At,
    pub items: Vec<Id>,
    pub findings: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    pub at: At,
    pub amount: Fen,
    pub basis: Text,
}

/// The flags of an inspection, fixed when it is conducted (a fee demand adds
/// `fee_demanded` whenever it happens).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionFlags {
    pub unapproved: bool,
    pub unregistered: bool,
    pub repeated: bool,
    pub over_cap: bool,
    pub fee_demanded: bool,
    /// An emergency inspection conducted before approval: lawful if approved
    /// retroactively, so it is not flagged unapproved; a read model shows it
    /// as pending until the retroactive approval is recorded.
    pub approval_pending: bool,
}

impl InspectionFlags {
    /// A compliant inspection: approved beforehand (or retroactively as an
    /// emergency) and registered.
    pub fn compliant(&self) -> bool {
        !self.unapproved && !self.unregistered && !self.approval_pending
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: Id,
    pub department: Id,
    pub enterprise: Id,
    /// The items requested (or conducted, for an inspection never requested).
    pub items: List<Id>,
    /// The other departments inspecting in the same visit (a joint inspection).
    pub joint_with: List<Id>,
    pub emergency: bool,
    pub reason: Option<Text>,
    pub requested: Option<At>,
    pub approved: Option<Approval>,
    pub registered: Option<Registration>,
    pub conducted: Option<Conduct>,
    pub fees: List<Fee>,
    pub fee_total: Fen,
    pub flags: InspectionFlags,
    /// The earlier inspections this one repeats.
    pub repeats_of: List<Id>,
    /// This inspection's number among the enterprise's inspections conducted
    /// in the same calendar year (business date in Shanghai).
    pub yearly_count: u32,
    pub accountability: List<u64>,
    pub timeline: List<TimelineEntry>,
}

impl Inspection {
    fn touch(&mut self, rec: &Applied) {
        self.timeline.push(timeline(rec));
    }
}

/// What conducting an inspection means against the state before it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConductAssessment {
    pub unapproved: bool,
    pub unregistered: bool,
    pub approval_pending: bool,
    pub repeats_of: Vec<Id>,
    pub yearly_count: u32,
    pub over_cap: bool,
}

/// A record that must open a derived complaint case, and the case once opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedTrigger {
    pub inspection: Id,
    pub enterprise: Id,
    pub department: Id,
    pub category: Category,
    /// The flags that opened it (without `opens_case`).
    pub flags: Vec<Flag>,
    /// The trigger's business time; the derived complaint states the same.
    pub occurred_at: OffsetTime,
    pub case: Option<Id>,
}

// ---------------------------------------------------------------------------
// Projects, monitoring, evaluation, accountability, corrections.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    Signed,
    Started,
    Performed,
    Completed,
    Stalled,
}

impl ProjectStatus {
    pub fn of(m: Milestone) -> ProjectStatus {
        match m {
            Milestone::Started => ProjectStatus::Started,
            Milestone::Performed => ProjectStatus::Performed,
            Milestone::Completed => ProjectStatus::Completed,
            Milestone::Stalled => ProjectStatus::Stalled,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneEntry {
    pub at: At,
    pub milestone: Milestone,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funds {
    pub at: At,
    pub amount: Fen,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: Id,
    pub enterprise: Id,
    pub city: Id,
    pub occasion: Text,
    pub planned_funds: Fen,
    pub leader: Text,
    pub tracker: Text,
    pub signed: At,
    pub status: ProjectStatus,
    /// The furthest of started, performed, completed reached (signed if none);
    /// a stall does not lower it.
    pub progress: ProjectStatus,
    pub started: Option<At>,
    pub milestones: List<MilestoneEntry>,
    pub funds: List<Funds>,
    pub funds_arrived: Fen,
    pub timeline: List<TimelineEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitoringPoint {
    pub county: Text,
    pub at: At,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub at: At,
    pub source: FeedbackSource,
    pub dimension: Dimension,
    pub rating: u32,
    pub respondents: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountabilityRecord {
    pub at: At,
    pub subject: Subject,
    pub body: Id,
    pub persons: Vec<Text>,
    pub measure: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionEntry {
    pub at: At,
    pub target_kind: KindName,
    /// The superseding values by field name, in force from `at.seq` on.
    pub values: BTreeMap<String, serde_json::Value>,
    pub reason: Text,
}

/// What a correctable record was about, so that a correction can find it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordSubject {
    Case(Id),
    Promise(Id),
    Inspection(Id),
    Project(Id),
    Feedback { city: Id, year: u32, index: usize },
    Accountability(usize),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub kind: KindName,
    pub subject: RecordSubject,
}

/// The type of a correctable field's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Text,
    OptText,
    Bool,
    Fen,
    OptFen,
    OptDate,
    OptBody,
    Category,
    Procedure,
    Outcome,
    Rating,
    PromiseForm,
    Excuse,
    /// An evaluation score, 0..=100.
    Score,
    /// A respondent count, at least 1.
    Respondents,
}

/// The fields a correction may supersede, by event type. Ids (which case,
/// which promise, ...) and who-did-what are never correctable: a wrong subject
/// is corrected by a new record, not by re-keying an old one. Fields whose
/// value the model does not hold (summaries, notes) are still correctable;
/// the superseding text is kept with the correction.
pub const CORRECTABLE_FIELDS: &[(&str, &str, FieldType)] = &[
    ("complaint_filed", "category", FieldType::Category),
    ("complaint_filed", "summary", FieldType::Text),
    ("complaint_filed", "against", FieldType::OptBody),
    ("complaint_filed", "claimed_loss", FieldType::OptFen),
    ("complaint_filed", "contact", FieldType::OptText),
    ("complaint_filed", "urgent", FieldType::Bool),
    ("complaint_filed", "major", FieldType::Bool),
    ("complaint_accepted", "procedure", FieldType::Procedure),
    ("complaint_rejected", "reason", FieldType::Text),
    ("first_reply_sent", "summary", FieldType::Text),
    ("first_reply_sent", "on_site", FieldType::Bool),
    ("mediation_held", "agreement", FieldType::Bool),
    ("mediation_held", "note", FieldType::Text),
    ("case_resolved", "outcome", FieldType::Outcome),
    ("case_resolved", "summary", FieldType::Text),
    ("case_resolved", "losses_recovered", FieldType::Fen),
    ("satisfaction_recorded", "rating", FieldType::Rating),
    ("promise_made", "form", FieldType::PromiseForm),
    ("promise_made", "terms", FieldType::Text),
    ("promise_made", "due", FieldType::OptDate),
    ("promise_made", "amount", FieldType::OptFen),
    ("promise_made", "document", FieldType::Text),
    ("promise_breached", "excuse", FieldType::Excuse),
    ("promise_breached", "excuse_given", FieldType::Text),
    ("promise_breached", "loss", FieldType::OptFen),
    ("promise_varied", "public_interest_basis", FieldType::Text),
    ("promise_varied", "new_terms", FieldType::Text),
    ("promise_varied", "compensation", FieldType::Fen),
    ("compensation_paid", "amount", FieldType::Fen),
    ("inspection_registered", "register_entry", FieldType::Text),
    ("inspection_conducted", "findings", FieldType::Text),
    ("inspection_fee_demanded", "amount", FieldType::Fen),
    ("inspection_fee_demanded", "basis", FieldType::Text),
    ("project_signed", "occasion", FieldType::Text),
    ("project_signed", "planned_funds", FieldType::Fen),
    ("project_signed", "leader", FieldType::Text),
    ("project_signed", "tracker", FieldType::Text),
    ("project_funds_arrived", "amount", FieldType::Fen),
    ("evaluation_feedback_recorded", "rating", FieldType::Score),
    (
        "evaluation_feedback_recorded",
        "respondents",
        FieldType::Respondents,
    ),
    ("accountability_imposed", "measure", FieldType::Text),
];

/// The type of `field` of event type `kind`, if a correction may supersede it.
pub fn correctable_field(kind: &str, field: &str) -> Option<FieldType> {
    CORRECTABLE_FIELDS
        .iter()
        .find(|(k, f, _)| *k == kind && *f == field)
        .map(|(_, _, t)| *t)
}

fn is_correctable_kind(kind: &str) -> bool {
    CORRECTABLE_FIELDS.iter().any(|(k, _, _)| *k == kind)
}

/// A decoded correction value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldValue {
    Text(Text),
    OptText(Option<Text>),
    Bool(bool),
    Fen(Fen),
    OptFen(Option<Fen>),
    OptDate(Option<Date>),
    OptBody(Option<Id>),
    Category(Category),
    Procedure(Procedure),
    Outcome(Outcome),
    Rating(Rating),
    PromiseForm(PromiseForm),
    Excuse(Excuse),
    Count(u32),
}

/// Decodes a correction value as the field's type (the same decoders as the
/// event bodies, so a correction cannot smuggle in a value a body could not hold).
pub fn decode_field(t: FieldType, v: &serde_json::Value) -> Result<FieldValue, String> {
    fn de<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, String> {
        serde_json::from_value(v.clone()).map_err(|e| e.to_string())
    }
    Ok(match t {
        FieldType::Text => FieldValue::Text(de(v)?),
        FieldType::OptText => FieldValue::OptText(de(v)?),
        FieldType::Bool => FieldValue::Bool(de(v)?),
        FieldType::Fen => FieldValue::Fen(de(v)?),
        FieldType::OptFen => FieldValue::OptFen(de(v)?),
        FieldType::OptDate => FieldValue::OptDate(de(v)?),
        FieldType::OptBody => FieldValue::OptBody(de(v)?),
        FieldType::Category => FieldValue::Category(de(v)?),
        FieldType::Procedure => FieldValue::Procedure(de(v)?),
        FieldType::Outcome => FieldValue::Outcome(de(v)?),
        FieldType::Rating => FieldValue::Rating(de(v)?),
        FieldType::PromiseForm => FieldValue::PromiseForm(de(v)?),
        FieldType::Excuse => FieldValue::Excuse(de(v)?),
        FieldType::Score => {
            let n: u32 = de(v)?;
            if n > 100 {
                return Err(format!("a score is 0..=100, not {n}"));
            }
            FieldValue::Count(n)
        }
        FieldType::Respondents => {
            let n: u32 = de(v)?;
            if n == 0 {
                return Err("respondents must be at least 1".into());
            }
            FieldValue::Count(n)
        }
    })
}

// ---------------------------------------------------------------------------
// The model.

/// The whole domain state at one seq.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// The seq of the last record applied.
    pub last_seq: Option<u64>,
    /// The rule parameters in force ([`RuleParameters::default`] until a
    /// `rule_parameters_set`), and the seq that set them.
    pub parameters: RuleParameters,
    pub parameters_set_at: Option<u64>,
    pub bodies: BTreeMap<Id, Body>,
    pub enterprises: BTreeMap<Id, Enterprise>,
    pub cases: Table<Case>,
    pub promises: Table<Promise>,
    pub inspections: Table<Inspection>,
    pub projects: Table<Project>,
    /// city → year → enterprise → monitoring point (R22).
    pub monitoring_points: BTreeMap<Id, BTreeMap<u32, BTreeMap<Id, MonitoringPoint>>>,
    /// city → year → feedback in seq order (R23–R24).
    pub evaluation_feedback: BTreeMap<Id, BTreeMap<u32, Vec<Feedback>>>,
    pub accountability: Vec<AccountabilityRecord>,
    /// Correctable records by seq, so corrections can find their subject.
    pub records: SeqMap<RecordRef>,
    /// target seq → the corrections naming it, in seq order.
    pub corrections: BTreeMap<u64, Vec<CorrectionEntry>>,
    /// Records that must open a derived complaint (keyed by their seq).
    pub derived_triggers: BTreeMap<u64, DerivedTrigger>,
    /// Indexes for reads by city: derived from the maps above, kept by
    /// `apply`, never serialized (so neither the digest nor a persisted
    /// snapshot holds them) and rebuilt by [`Model::rebuild_indexes`].
    /// city → filing date → cases.
    #[serde(skip)]
    pub cases_by_city: ByKeyAndDate,
    /// body bound when made → business date of a keeping, breach or
    /// compensation payment → promises.
    #[serde(skip)]
    pub promise_settlements: ByKeyAndDate,
    /// department → business date of conduct → inspections.
    #[serde(skip)]
    pub inspections_conducted: ByKeyAndDate,
    /// city → business date of signing → projects.
    #[serde(skip)]
    pub projects_by_city: ByKeyAndDate,
    /// enterprise (as each inspection names it) → (business date of
    /// conduct, slot) of its conducted inspections, sorted, so that
    /// [`Model::assess_conduct`] reads the inspections of one year and one
    /// window, not all an enterprise ever had (16 bytes an inspection).
    #[serde(skip)]
    pub conducted_by_enterprise: BTreeMap<Id, Vec<(Date, u32)>>,
}

/// An event type, held as its kind (one byte) and written as its wire name
/// (`case_referred`, …), as the persisted model and the digest have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KindName(pub EventKind);

impl KindName {
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl std::ops::Deref for KindName {
    type Target = str;
    fn deref(&self) -> &str {
        self.0.name()
    }
}

impl std::fmt::Display for KindName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl Serialize for KindName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

/// Reads back an event type name, so that a persisted model (see the
/// ledger's projection store) decodes to exactly the state it was saved from.
impl<'de> Deserialize<'de> for KindName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EventKind::from_name(&s)
            .map(KindName)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event type {s:?}")))
    }
}

/// Domain separation for [`Model::digest`].
const DIGEST_CONTEXT: &str = "gov-enterprise-ledger 2026 projections model state v1";

fn timeline(rec: &Applied) -> TimelineEntry {
    TimelineEntry {
        seq: rec.seq,
        kind: KindName(rec.statement.event.kind()),
        occurred_at: rec.statement.occurred_at,
    }
}

/// Adds amounts in fen. Totals stay within the 2^53 − 1 every JSON reader
/// holds exactly; a sum beyond it (90 trillion yuan) is pinned there.
pub fn fen_add(a: Fen, b: Fen) -> Fen {
    Fen::new(a.get().saturating_add(b.get()).min(INTEGER_MAX)).unwrap_or(a)
}

fn fen_sum<'a>(it: impl Iterator<Item = &'a Fen>) -> Fen {
    it.fold(Fen::ZERO, |acc, x| fen_add(acc, *x))
}

fn overlap(a: &[Id], b: &[Id]) -> bool {
    a.iter().any(|x| b.contains(x))
}

impl Model {
    // -- queries ------------------------------------------------------------

    /// Follows successor links from `body` to the body that exists today.
    /// The rules refuse cycles; the guard (at most one step per known body)
    /// keeps a replay of damaged data from looping.
    pub fn current_body(&self, body: &Id) -> Id {
        let mut cur = body;
        let mut steps = 0usize;
        while let Some(s) = self.bodies.get(cur).and_then(|b| b.successor.as_ref()) {
            if steps >= self.bodies.len() {
                break;
            }
            cur = &s.successor;
            steps += 1;
        }
        cur.clone()
    }

    /// The body a promise binds today: the body it was made by, or the
    /// successor that inherited it after reorganisations. A change of office
    /// holder never changes it.
    pub fn body_bound_today(&self, promise: &Promise) -> Id {
        self.current_body(&promise.body)
    }

    /// The body responsible for a case today (following reorganisations).
    pub fn responsible_today(&self, case: &Case) -> Option<Id> {
        case.responsible.as_ref().map(|b| self.current_body(b))
    }

    /// The city a body belongs to (a city government is its own city).
    pub fn city_of_body(&self, body: &Id) -> Option<&Id> {
        self.bodies.get(body).and_then(Body::city_of)
    }

    /// Triggers whose derived case has not been appended yet. After a
    /// complete batch this is empty; a verifier can check that it is.
    pub fn pending_derived_cases(&self) -> impl Iterator<Item = (u64, &DerivedTrigger)> {
        self.derived_triggers
            .iter()
            .filter(|(_, t)| t.case.is_none())
            .map(|(s, t)| (*s, t))
    }

    /// BLAKE3 of the canonical serialization of the whole state, with its own
    /// derive-key context. It fingerprints a projection (rebuild and
    /// incremental update must agree); it is not a format commitment and is
    /// never stored in the log, so a field rename only changes fingerprints.
    pub fn digest(&self) -> [u8; 32] {
        // Every map key is a string, an integer or a unit enum, so this
        // cannot fail; serde_json without `preserve_order` writes BTreeMaps
        // and structs in a fixed order.
        // Streamed into the hasher through a buffer: the JSON of a large
        // model is never held whole.
        let mut h = blake3::Hasher::new_derive_key(DIGEST_CONTEXT);
        {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut h);
            serde_json::to_writer(&mut w, self).expect("the model serializes to JSON");
            std::io::Write::flush(&mut w).expect("hashing cannot fail");
        }
        h.finalize().into()
    }

    /// The flags an `inspection_conducted` would have, against this state.
    pub fn assess_conduct(
        &self,
        c: &InspectionConducted,
        occurred_at: OffsetTime,
    ) -> ConductAssessment {
        let existing = self.inspections.get(&c.inspection);
        let approved = existing.is_some_and(|i| i.approved.is_some());
        let emergency = existing.is_some_and(|i| i.emergency);
        let registered = existing.is_some_and(|i| i.registered.is_some());
        let date = occurred_at.shanghai_date();
        let window = i64::from(self.parameters.inspection_repeat_window_days);
        let mut same_year = 0u32;
        // (seq of the conduct, inspection): reported in the order conducted.
        let mut repeats: Vec<(u64, &Id)> = Vec::new();
        if let Some(dated) = self.conducted_by_enterprise.get(&c.enterprise) {
            // The other inspections conducted from `lo` to `hi` (a bound
            // that is no date is open).
            let others = |lo: Result<Date, _>, hi: Result<Date, _>| {
                let from = lo.map_or(0, |lo| dated.partition_point(|(d, _)| *d < lo));
                let to = hi.map_or(dated.len(), |hi| dated.partition_point(|(d, _)| *d <= hi));
                dated
                    .get(from..to.max(from))
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|&(_, slot)| self.inspections.at(slot))
                    .filter(|other| other.id != c.inspection)
                    .filter_map(|other| other.conducted.as_ref().map(|done| (other, done)))
            };
            let year = date.year();
            for (_, done) in others(Date::from_ymd(year, 1, 1), Date::from_ymd(year, 12, 31)) {
                if done.at.date().year() == year {
                    same_year = same_year.saturating_add(1);
                }
            }
            for (other, done) in others(date.add_days(-window), date.add_days(window)) {
                let apart = (date.days_since_epoch() - done.at.date().days_since_epoch()).abs();
                if apart <= window && overlap(&c.items, &done.items) {
                    repeats.push((done.at.seq, &other.id));
                }
            }
        }
        repeats.sort_unstable_by_key(|(seq, _)| *seq);
        let repeats_of: Vec<Id> = repeats.into_iter().map(|(_, id)| id.clone()).collect();
        let yearly_count = same_year.saturating_add(1);
        ConductAssessment {
            unapproved: !approved && !emergency,
            unregistered: !registered,
            approval_pending: !approved && emergency,
            repeats_of,
            yearly_count,
            over_cap: yearly_count > self.parameters.inspection_yearly_cap,
        }
    }

    /// The flags a record raises against this state (recorded, not refused),
    /// in a fixed order, with [`Flag::OpensCase`] last when an inspection
    /// flag means a derived complaint must be appended.
    pub fn flags_for(&self, rec: &Applied) -> Vec<Flag> {
        self.flags_and_conduct(rec).0
    }

    /// [`Model::flags_for`] with the assessment of a first conduct it was
    /// derived from, so that `apply` assesses an inspection once.
    fn flags_and_conduct(&self, rec: &Applied) -> (Vec<Flag>, Option<ConductAssessment>) {
        let mut flags = Vec::new();
        let mut conduct = None;
        match &rec.statement.event {
            Event::InspectionConducted(c) => {
                if self
                    .inspections
                    .get(&c.inspection)
                    .is_some_and(|i| i.conducted.is_some())
                {
                    return (flags, None);
                }
                let a = self.assess_conduct(c, rec.statement.occurred_at);
                if a.unapproved {
                    flags.push(Flag::InspectionUnapproved);
                }
                if a.unregistered {
                    flags.push(Flag::InspectionUnregistered);
                }
                if !a.repeats_of.is_empty() {
                    flags.push(Flag::InspectionRepeated);
                }
                if a.over_cap {
                    flags.push(Flag::InspectionOverCap);
                }
                conduct = Some(a);
            }
            Event::InspectionFeeDemanded(f) if self.inspections.contains_key(&f.inspection) => {
                flags.push(Flag::FeeDemanded);
            }
            Event::PromiseBreached(b) if b.excuse.is_forbidden() => {
                flags.push(Flag::ForbiddenExcuse);
            }
            Event::Correction(c) => {
                let breach = self
                    .records
                    .get(&c.target_seq)
                    .is_some_and(|r| r.kind.0 == EventKind::PromiseBreached);
                let forbidden = c
                    .values
                    .get("excuse")
                    .and_then(|v| serde_json::from_value::<Excuse>(v.clone()).ok())
                    .is_some_and(Excuse::is_forbidden);
                if breach && forbidden {
                    flags.push(Flag::ForbiddenExcuse);
                }
            }
            _ => {}
        }
        if flags.iter().any(|f| {
            matches!(
                f,
                Flag::InspectionUnapproved
                    | Flag::InspectionUnregistered
                    | Flag::InspectionRepeated
                    | Flag::InspectionOverCap
                    | Flag::FeeDemanded
            )
        }) {
            flags.push(Flag::OpensCase);
        }
        (flags, conduct)
    }

    /// The trigger a record with these flags leaves for a derived case, or
    /// `None` if it opens none. Works before or after `rec` is applied.
    pub fn derived_trigger_of(&self, rec: &Applied, flags: &[Flag]) -> Option<DerivedTrigger> {
        if !flags.contains(&Flag::OpensCase) {
            return None;
        }
        let (inspection, enterprise, department) = match &rec.statement.event {
            Event::InspectionConducted(c) => (&c.inspection, &c.enterprise, &c.department),
            Event::InspectionFeeDemanded(f) => {
                let i = self.inspections.get(&f.inspection)?;
                (&i.id, &i.enterprise, &i.department)
            }
            _ => return None,
        };
        let category = if flags.contains(&Flag::FeeDemanded) {
            Category::ArbitraryFees
        } else {
            Category::RepeatedInspections
        };
        Some(DerivedTrigger {
            inspection: inspection.clone(),
            enterprise: enterprise.clone(),
            department: department.clone(),
            category,
            flags: flags
                .iter()
                .copied()
                .filter(|f| *f != Flag::OpensCase)
                .collect(),
            occurred_at: rec.statement.occurred_at,
            case: None,
        })
    }

    // -- the fold -----------------------------------------------------------

    /// Folds one verified record into the state. Cannot fail; ids the model
    /// does not know are ignored.
    pub fn apply(&mut self, rec: &Applied) {
        self.apply_record(rec);
        self.index_record(&rec.statement.event);
    }

    /// Rebuilds the indexes for reads by city from the model's maps (after
    /// loading a persisted model, which does not carry them).
    pub fn rebuild_indexes(&mut self) {
        self.cases_by_city.clear();
        self.promise_settlements.clear();
        self.inspections_conducted.clear();
        self.projects_by_city.clear();
        self.conducted_by_enterprise.clear();
        fn ids<T>(m: &Table<T>) -> Vec<Id> {
            m.keys().cloned().collect()
        }
        for id in ids(&self.cases) {
            self.index_case(&id);
        }
        for id in ids(&self.promises) {
            self.index_promise(&id);
        }
        for id in ids(&self.inspections) {
            self.index_inspection(&id);
        }
        for id in ids(&self.projects) {
            self.index_project(&id);
        }
    }

    /// Keeps the indexes for reads by city after `event` was applied. Each
    /// `index_*` adds every index entry of one item; adding again is a no-op.
    fn index_record(&mut self, event: &Event) {
        match event {
            Event::ComplaintFiled(f) => self.index_case(&f.case),
            Event::PromiseKept(events::vocab::PromiseKept { promise, .. })
            | Event::PromiseBreached(events::vocab::PromiseBreached { promise, .. })
            | Event::CompensationPaid(events::vocab::CompensationPaid { promise, .. }) => {
                self.index_promise(promise)
            }
            Event::InspectionConducted(r) => self.index_inspection(&r.inspection),
            Event::ProjectSigned(p) => self.index_project(&p.project),
            _ => {}
        }
    }

    fn index_case(&mut self, id: &Id) {
        if let Some((slot, c)) = slot_and_item(&self.cases, id) {
            add_slot(&mut self.cases_by_city, &c.city, c.filed.date(), slot);
        }
    }

    fn index_promise(&mut self, id: &Id) {
        let Some((slot, p)) = slot_and_item(&self.promises, id) else {
            return;
        };
        let settled = p
            .kept
            .iter()
            .chain(p.breach.as_ref().map(|b| &b.at))
            .chain(p.payments.iter().map(|x| &x.at));
        for at in settled {
            add_slot(&mut self.promise_settlements, &p.body, at.date(), slot);
        }
    }

    fn index_inspection(&mut self, id: &Id) {
        if let Some((slot, i, c)) = slot_and_item(&self.inspections, id)
            .and_then(|(slot, i)| i.conducted.as_ref().map(|c| (slot, i, c)))
        {
            add_slot(
                &mut self.inspections_conducted,
                &i.department,
                c.at.date(),
                slot,
            );
            let dated = self
                .conducted_by_enterprise
                .entry(i.enterprise.clone())
                .or_default();
            if let Err(at) = dated.binary_search(&(c.at.date(), slot)) {
                dated.insert(at, (c.at.date(), slot));
            }
        }
    }

    fn index_project(&mut self, id: &Id) {
        if let Some((slot, p)) = slot_and_item(&self.projects, id) {
            add_slot(&mut self.projects_by_city, &p.city, p.signed.date(), slot);
        }
    }

    fn apply_record(&mut self, rec: &Applied) {
        let at = At::of(rec);
        let (flags, conduct) = self.flags_and_conduct(rec);
        if let Some(t) = self.derived_trigger_of(rec, &flags) {
            self.derived_triggers.insert(rec.seq, t);
        }
        let kind = KindName(rec.statement.event.kind());
        if is_correctable_kind(&kind) {
            if let Some(subject) = self.subject_of(&rec.statement.event) {
                self.records.insert(rec.seq, RecordRef { kind, subject });
            }
        }
        match &rec.statement.event {
            Event::LedgerGenesis(_)
            | Event::KeyGranted(_)
            | Event::KeyRevoked(_)
            | Event::CalendarLoaded(_) => {}
            Event::BodyRegistered(b) => {
                self.bodies.entry(b.body.clone()).or_insert_with(|| Body {
                    id: b.body.clone(),
                    name: b.name.clone(),
                    kind: b.kind,
                    city: b.city.clone(),
                    parent: b.parent.clone(),
                    registered: at,
                    successor: None,
                    office_holders: BTreeMap::new(),
                });
            }
            Event::BodyReorganised(r) => {
                if let Some(b) = self.bodies.get_mut(&r.body) {
                    b.successor = Some(Succession {
                        successor: r.successor.clone(),
                        kind: r.kind,
                        basis: r.basis.clone(),
                        at,
                    });
                }
            }
            Event::OfficeHolderAppointed(o) => {
                if let Some(b) = self.bodies.get_mut(&o.body) {
                    b.office_holders
                        .entry(o.position)
                        .or_default()
                        .push(OfficeHolder {
                            person: o.person.clone(),
                            division: o.division.clone(),
                            since: at,
                        });
                }
            }
            Event::EnterpriseRegistered(e) => {
                self.enterprises
                    .entry(e.enterprise.clone())
                    .or_insert_with(|| Enterprise {
                        id: e.enterprise.clone(),
                        name: e.name.clone(),
                        city: e.city.clone(),
                        county: e.county.clone(),
                        registered: at,
                    });
            }
            Event::RuleParametersSet(p) => {
                self.parameters = p.parameters.clone();
                self.parameters_set_at = Some(rec.seq);
            }
            Event::ComplaintFiled(f) => self.apply_filed(rec, at, f),
            Event::ComplaintAccepted(e) => {
                let holder = rec.holder_body().and_then(|b| Id::new(b).ok());
                self.on_case(&e.case, rec, |c| {
                    c.state = CaseState::Accepted;
                    c.procedure = Some(e.procedure);
                    c.accepted = Some(at);
                    // R16–R19: the first body to take the case on owns it.
                    if c.responsible.is_none() {
                        c.responsible = holder;
                    }
                });
            }
            Event::ComplaintRejected(e) => self.on_case(&e.case, rec, |c| {
                c.state = CaseState::Rejected;
                c.rejected = Some(Box::new(Noted {
                    at,
                    reason: e.reason.clone(),
                }));
            }),
            Event::ResponsibilityAssigned(e) => self.on_case(&e.case, rec, |c| {
                start_handling(c);
                let chain = ResponsibilityChain {
                    body: e.body.clone(),
                    head: e.head.clone(),
                    deputy: e.deputy.clone(),
                    division: e.division.clone(),
                    handler: e.handler.clone(),
                    at,
                };
                c.responsible = Some(e.body.clone());
                c.chain = Some(chain.clone());
                c.chains.push(chain);
            }),
            Event::FirstReplySent(e) => self.on_case(&e.case, rec, |c| {
                start_handling(c);
                if c.first_reply.is_none() {
                    c.first_reply = Some(FirstReply {
                        at,
                        on_site: e.on_site,
                    });
                }
            }),
            Event::CaseReferred(e) => self.on_case(&e.case, rec, |c| {
                start_handling(c);
                c.referrals.push(Referral {
                    at,
                    from: c.responsible.clone(),
                    to: e.to.clone(),
                });
                c.responsible = Some(e.to.clone());
                c.chain = None;
            }),
            Event::JointHandlingConvened(e) => self.on_case(&e.case, rec, |c| {
                start_handling(c);
                c.procedure = Some(Procedure::Joint);
                c.joint.push(JointHandling {
                    at,
                    bodies: e.bodies.clone().into(),
                    on_site: e.on_site,
                });
            }),
            Event::ReportedToGovernment(e) => self.on_case(&e.case, rec, |c| {
                c.reported_to_government.push(GovernmentReport {
                    at,
                    to: e.to.clone(),
                });
            }),
            Event::CaseSupervised(e) => {
                let by = rec.actor_holder.clone();
                self.on_case(&e.case, rec, |c| {
                    c.supervisions.push(Supervision {
                        at,
                        by,
                        instruction: e.instruction.clone(),
                    });
                })
            }
            Event::ProgressReported(e) => self.on_case(&e.case, rec, |c| {
                start_handling(c);
                c.progress_notices.push(at);
            }),
            Event::DeadlineExtended(e) => self.on_case(&e.case, rec, |c| {
                start_handling(c);
                if c.extended.is_none() {
                    c.extended = Some(Box::new(Noted {
                        at,
                        reason: e.reason.clone(),
                    }));
                }
            }),
            Event::MediationHeld(e) => self.on_case(&e.case, rec, |c| {
                start_handling(c);
                c.mediations.push(Mediation {
                    at,
                    agreement: e.agreement,
                });
            }),
            Event::CaseResolved(e) => self.on_case(&e.case, rec, |c| {
                c.state = CaseState::Resolved;
                c.losses_recovered = e.losses_recovered;
                c.resolutions.push(Resolution {
                    at,
                    outcome: e.outcome,
                    losses_recovered: e.losses_recovered,
                    summary: e.summary.clone(),
                    round: c.reopened,
                });
            }),
            Event::SatisfactionRecorded(e) => self.on_case(&e.case, rec, |c| {
                c.ratings.push(RatingEntry {
                    at,
                    rating: e.rating,
                    source: e.source,
                    round: c.reopened,
                });
            }),
            Event::CaseReopened(e) => self.on_case(&e.case, rec, |c| {
                c.state = CaseState::InProgress;
                c.reopened = c.reopened.saturating_add(1);
                c.closed = None;
                c.reopenings.push(Noted {
                    at,
                    reason: e.reason.clone(),
                });
            }),
            Event::CaseClosed(e) => self.on_case(&e.case, rec, |c| {
                c.state = CaseState::Closed;
                c.closed = Some(at);
            }),
            Event::ComplaintWithdrawn(e) => self.on_case(&e.case, rec, |c| {
                c.state = CaseState::Withdrawn;
                c.withdrawn = Some(Box::new(Noted {
                    at,
                    reason: e.reason.clone(),
                }));
            }),
            Event::PromiseMade(p) => {
                self.promises
                    .entry(p.promise.clone())
                    .or_insert_with(|| Promise {
                        id: p.promise.clone(),
                        body: p.body.clone(),
                        beneficiary: p.beneficiary.clone(),
                        form: p.form,
                        terms: p.terms.clone(),
                        due: p.due,
                        clock_working_days: (p.form == PromiseForm::ServiceCommitment
                            && p.due.is_none())
                        .then_some(self.parameters.approval_working_days),
                        amount: p.amount,
                        document: p.document.clone(),
                        made: at,
                        status: PromiseStatus::Made,
                        kept: None,
                        breach: None,
                        variations: List::new(),
                        voided: None,
                        disputes: List::new(),
                        payments: List::new(),
                        compensation_paid: Fen::ZERO,
                        accountability: List::new(),
                        timeline: List::one(timeline(rec)),
                    });
            }
            Event::PromiseKept(e) => self.on_promise(&e.promise, rec, |p| {
                p.status = PromiseStatus::Kept;
                p.kept = Some(at);
            }),
            Event::PromiseBreached(e) => self.on_promise(&e.promise, rec, |p| {
                p.status = PromiseStatus::Breached;
                p.breach = Some(Breach {
                    at,
                    excuse: e.excuse,
                    excuse_given: e.excuse_given.clone(),
                    forbidden: e.excuse.is_forbidden(),
                    loss: e.loss,
                });
            }),
            Event::PromiseVaried(e) => self.on_promise(&e.promise, rec, |p| {
                p.status = PromiseStatus::Varied;
                p.variations.push(Variation {
                    at,
                    public_interest_basis: e.public_interest_basis.clone(),
                    new_terms: e.new_terms.clone(),
                    compensation: e.compensation,
                });
            }),
            Event::PromiseVoided(e) => self.on_promise(&e.promise, rec, |p| {
                p.status = PromiseStatus::Voided;
                p.voided = Some(Noted {
                    at,
                    reason: e.reason.clone(),
                });
            }),
            Event::PromiseDisputed(e) => self.on_promise(&e.promise, rec, |p| {
                p.disputes.push(Dispute {
                    opened: at,
                    claim: e.claim.clone(),
                    settled: None,
                });
            }),
            Event::PromiseDisputeSettled(e) => self.on_promise(&e.promise, rec, |p| {
                if let Some(d) = p.disputes.iter_mut().rev().find(|d| d.settled.is_none()) {
                    d.settled = Some(Settlement {
                        at,
                        upheld: e.upheld,
                        outcome: e.outcome.clone(),
                    });
                }
            }),
            Event::CompensationPaid(e) => self.on_promise(&e.promise, rec, |p| {
                p.payments.push(Payment {
                    at,
                    amount: e.amount,
                    to: e.to.clone(),
                });
                p.compensation_paid = fen_add(p.compensation_paid, e.amount);
            }),
            Event::InspectionRequested(r) => {
                self.inspections
                    .entry(r.inspection.clone())
                    .or_insert_with(|| Inspection {
                        id: r.inspection.clone(),
                        department: r.department.clone(),
                        enterprise: r.enterprise.clone(),
                        items: r.items.clone().into(),
                        joint_with: r.joint_with.clone().into(),
                        emergency: r.emergency,
                        reason: Some(r.reason.clone()),
                        requested: Some(at),
                        approved: None,
                        registered: None,
                        conducted: None,
                        fees: List::new(),
                        fee_total: Fen::ZERO,
                        flags: InspectionFlags::default(),
                        repeats_of: List::new(),
                        yearly_count: 0,
                        accountability: List::new(),
                        timeline: List::one(timeline(rec)),
                    });
            }
            Event::InspectionApproved(e) => {
                let by = rec.actor_holder.clone();
                self.on_inspection(&e.inspection, rec, |i| {
                    if i.approved.is_none() {
                        i.approved = Some(Approval {
                            at,
                            retroactive: e.retroactive,
                            by,
                        });
                        i.flags.approval_pending = false;
                    }
                });
            }
            Event::InspectionRegistered(e) => self.on_inspection(&e.inspection, rec, |i| {
                if i.registered.is_none() {
                    i.registered = Some(Registration {
                        at,
                        register_entry: e.register_entry.clone(),
                    });
                }
            }),
            Event::InspectionConducted(c) => {
                if let Some(a) = conduct {
                    self.apply_conducted(rec, at, c, a);
                }
            }
            Event::InspectionFeeDemanded(f) => self.on_inspection(&f.inspection, rec, |i| {
                i.fees.push(Fee {
                    at,
                    amount: f.amount,
                    basis: f.basis.clone(),
                });
                i.fee_total = fen_add(i.fee_total, f.amount);
                i.flags.fee_demanded = true;
            }),
            Event::ProjectSigned(p) => {
                self.projects
                    .entry(p.project.clone())
                    .or_insert_with(|| Project {
                        id: p.project.clone(),
                        enterprise: p.enterprise.clone(),
                        city: p.city.clone(),
                        occasion: p.occasion.clone(),
                        planned_funds: p.planned_funds,
                        leader: p.leader.clone(),
                        tracker: p.tracker.clone(),
                        signed: at,
                        status: ProjectStatus::Signed,
                        progress: ProjectStatus::Signed,
                        started: None,
                        milestones: List::new(),
                        funds: List::new(),
                        funds_arrived: Fen::ZERO,
                        timeline: List::one(timeline(rec)),
                    });
            }
            Event::ProjectMilestoneReached(m) => {
                if let Some(p) = self.projects.get_mut(&m.project) {
                    let s = ProjectStatus::of(m.milestone);
                    p.status = s;
                    if s != ProjectStatus::Stalled && s > p.progress {
                        p.progress = s;
                    }
                    if s != ProjectStatus::Stalled && p.started.is_none() {
                        p.started = Some(at);
                    }
                    p.milestones.push(MilestoneEntry {
                        at,
                        milestone: m.milestone,
                    });
                    p.timeline.push(timeline(rec));
                }
            }
            Event::ProjectFundsArrived(f) => {
                if let Some(p) = self.projects.get_mut(&f.project) {
                    p.funds.push(Funds {
                        at,
                        amount: f.amount,
                    });
                    p.funds_arrived = fen_add(p.funds_arrived, f.amount);
                    p.timeline.push(timeline(rec));
                }
            }
            Event::MonitoringPointNamed(m) => {
                self.monitoring_points
                    .entry(m.city.clone())
                    .or_default()
                    .entry(m.year)
                    .or_default()
                    .entry(m.enterprise.clone())
                    .or_insert(MonitoringPoint {
                        county: m.county.clone(),
                        at,
                    });
            }
            Event::EvaluationFeedbackRecorded(e) => {
                self.evaluation_feedback
                    .entry(e.city.clone())
                    .or_default()
                    .entry(e.year)
                    .or_default()
                    .push(Feedback {
                        at,
                        source: e.source,
                        dimension: e.dimension,
                        rating: e.rating,
                        respondents: e.respondents,
                    });
            }
            Event::AccountabilityImposed(a) => {
                self.accountability.push(AccountabilityRecord {
                    at,
                    subject: a.subject.clone(),
                    body: a.body.clone(),
                    persons: a.persons.clone(),
                    measure: a.measure.clone(),
                });
                match &a.subject {
                    Subject::Case(id) => self.on_case(id, rec, |c| c.accountability.push(rec.seq)),
                    Subject::Promise(id) => {
                        self.on_promise(id, rec, |p| p.accountability.push(rec.seq))
                    }
                    Subject::Inspection(id) => {
                        self.on_inspection(id, rec, |i| i.accountability.push(rec.seq))
                    }
                }
            }
            Event::Correction(c) => self.apply_correction(rec, at, c),
        }
        self.last_seq = Some(rec.seq);
    }

    fn subject_of(&self, e: &Event) -> Option<RecordSubject> {
        Some(match e {
            Event::ComplaintFiled(x) => RecordSubject::Case(x.case.clone()),
            Event::ComplaintAccepted(x) => RecordSubject::Case(x.case.clone()),
            Event::ComplaintRejected(x) => RecordSubject::Case(x.case.clone()),
            Event::FirstReplySent(x) => RecordSubject::Case(x.case.clone()),
            Event::MediationHeld(x) => RecordSubject::Case(x.case.clone()),
            Event::CaseResolved(x) => RecordSubject::Case(x.case.clone()),
            Event::SatisfactionRecorded(x) => RecordSubject::Case(x.case.clone()),
            Event::PromiseMade(x) => RecordSubject::Promise(x.promise.clone()),
            Event::PromiseBreached(x) => RecordSubject::Promise(x.promise.clone()),
            Event::PromiseVaried(x) => RecordSubject::Promise(x.promise.clone()),
            Event::CompensationPaid(x) => RecordSubject::Promise(x.promise.clone()),
            Event::InspectionRegistered(x) => RecordSubject::Inspection(x.inspection.clone()),
            Event::InspectionConducted(x) => RecordSubject::Inspection(x.inspection.clone()),
            Event::InspectionFeeDemanded(x) => RecordSubject::Inspection(x.inspection.clone()),
            Event::ProjectSigned(x) => RecordSubject::Project(x.project.clone()),
            Event::ProjectFundsArrived(x) => RecordSubject::Project(x.project.clone()),
            Event::EvaluationFeedbackRecorded(x) => RecordSubject::Feedback {
                city: x.city.clone(),
                year: x.year,
                index: self
                    .evaluation_feedback
                    .get(&x.city)
                    .and_then(|y| y.get(&x.year))
                    .map_or(0, Vec::len),
            },
            Event::AccountabilityImposed(_) => {
                RecordSubject::Accountability(self.accountability.len())
            }
            _ => return None,
        })
    }

    fn on_case(&mut self, id: &Id, rec: &Applied, f: impl FnOnce(&mut Case)) {
        if let Some(c) = self.cases.get_mut(id) {
            f(c);
            c.touch(rec);
        }
    }

    fn on_promise(&mut self, id: &Id, rec: &Applied, f: impl FnOnce(&mut Promise)) {
        if let Some(p) = self.promises.get_mut(id) {
            f(p);
            p.touch(rec);
        }
    }

    fn on_inspection(&mut self, id: &Id, rec: &Applied, f: impl FnOnce(&mut Inspection)) {
        if let Some(i) = self.inspections.get_mut(id) {
            f(i);
            i.touch(rec);
        }
    }

    fn apply_filed(&mut self, rec: &Applied, at: At, f: &ComplaintFiled) {
        if self.cases.contains_key(&f.case) {
            return;
        }
        let Some(enterprise) = self.enterprises.get(&f.enterprise) else {
            return;
        };
        // R16–R19: an intake clerk's body is the first body contacted and owns
        // the case; a complaint the enterprise or the ledger files has no
        // owner until a body accepts it.
        let responsible = if rec.has_role(Role::Intake) {
            rec.holder_body().and_then(|b| Id::new(b).ok())
        } else {
            None
        };
        let case = Case {
            id: f.case.clone(),
            enterprise: f.enterprise.clone(),
            city: enterprise.city.clone(),
            category: f.category,
            channel: f.channel,
            summary: f.summary.clone(),
            against: f.against.clone(),
            claimed_loss: f.claimed_loss,
            urgent: f.urgent,
            major: f.major,
            triggered_by: f.triggered_by,
            filed: at,
            filed_by: rec.actor_holder.clone(),
            clock: CaseClock::from_parameters(&self.parameters),
            state: CaseState::Filed,
            reopened: 0,
            procedure: None,
            accepted: None,
            rejected: None,
            responsible,
            chain: None,
            chains: List::new(),
            referrals: List::new(),
            first_reply: None,
            extended: None,
            progress_notices: List::new(),
            mediations: List::new(),
            joint: List::new(),
            reported_to_government: List::new(),
            supervisions: List::new(),
            resolutions: List::new(),
            losses_recovered: Fen::ZERO,
            ratings: List::new(),
            reopenings: List::new(),
            closed: None,
            withdrawn: None,
            accountability: List::new(),
            timeline: List::one(timeline(rec)),
        };
        self.cases.insert(f.case.clone(), case);
        if let Some(t) = f
            .triggered_by
            .and_then(|s| self.derived_triggers.get_mut(&s))
        {
            if t.case.is_none() {
                t.case = Some(f.case.clone());
            }
        }
    }

    /// A first conduct of an inspection, with its assessment against the
    /// state before it (a second conduct has none and changes nothing).
    fn apply_conducted(
        &mut self,
        rec: &Applied,
        at: At,
        c: &InspectionConducted,
        a: ConductAssessment,
    ) {
        let insp = self
            .inspections
            .entry(c.inspection.clone())
            .or_insert_with(|| Inspection {
                id: c.inspection.clone(),
                department: c.department.clone(),
                enterprise: c.enterprise.clone(),
                items: c.items.clone().into(),
                joint_with: List::new(),
                emergency: false,
                reason: None,
                requested: None,
                approved: None,
                registered: None,
                conducted: None,
                fees: List::new(),
                fee_total: Fen::ZERO,
                flags: InspectionFlags::default(),
                repeats_of: List::new(),
                yearly_count: 0,
                accountability: List::new(),
                timeline: List::new(),
            });
        insp.conducted = Some(Conduct {
            at,
            items: c.items.clone(),
            findings: c.findings.clone(),
        });
        insp.flags.unapproved = a.unapproved;
        insp.flags.unregistered = a.unregistered;
        insp.flags.approval_pending = a.approval_pending;
        insp.flags.repeated = !a.repeats_of.is_empty();
        insp.flags.over_cap = a.over_cap;
        insp.repeats_of = a.repeats_of.into();
        insp.yearly_count = a.yearly_count;
        insp.touch(rec);
    }

    fn apply_correction(&mut self, rec: &Applied, at: At, c: &events::vocab::Correction) {
        let Some(target) = self.records.get(&c.target_seq).cloned() else {
            return;
        };
        self.corrections
            .entry(c.target_seq)
            .or_default()
            .push(CorrectionEntry {
                at,
                target_kind: target.kind,
                values: c.values.clone(),
                reason: c.reason.clone(),
            });
        let seq = c.target_seq;
        for (field, raw) in &c.values {
            let Some(t) = correctable_field(&target.kind, field) else {
                continue;
            };
            let Ok(v) = decode_field(t, raw) else {
                continue;
            };
            self.correct_field(seq, &target, field, v);
        }
        match &target.subject {
            RecordSubject::Case(id) => self.on_case(id, rec, |_| {}),
            RecordSubject::Promise(id) => self.on_promise(id, rec, |_| {}),
            RecordSubject::Inspection(id) => self.on_inspection(id, rec, |_| {}),
            RecordSubject::Project(id) => {
                if let Some(p) = self.projects.get_mut(id) {
                    p.timeline.push(timeline(rec));
                }
            }
            RecordSubject::Feedback { .. } | RecordSubject::Accountability(_) => {}
        }
    }

    /// Supersedes one field of the record at `seq` in the derived state.
    /// Fields the state does not hold are kept only with the correction.
    fn correct_field(&mut self, seq: u64, target: &RecordRef, field: &str, v: FieldValue) {
        use FieldValue as V;
        match (&target.subject, target.kind.name(), field, v) {
            (RecordSubject::Case(id), kind, _, v) => {
                let Some(c) = self.cases.get_mut(id) else {
                    return;
                };
                match (kind, field, v) {
                    ("complaint_filed", "category", V::Category(x)) => c.category = x,
                    ("complaint_filed", "summary", V::Text(x)) => c.summary = x,
                    ("complaint_filed", "against", V::OptBody(x)) => c.against = x,
                    ("complaint_filed", "claimed_loss", V::OptFen(x)) => c.claimed_loss = x,
                    ("complaint_filed", "urgent", V::Bool(x)) => c.urgent = x,
                    ("complaint_filed", "major", V::Bool(x)) => c.major = x,
                    // A joint handling convened later still makes the case joint.
                    ("complaint_accepted", "procedure", V::Procedure(x)) if c.joint.is_empty() => {
                        c.procedure = Some(x);
                    }
                    ("complaint_rejected", "reason", V::Text(x)) => {
                        if let Some(r) = &mut c.rejected {
                            r.reason = x;
                        }
                    }
                    ("first_reply_sent", "on_site", V::Bool(x)) => {
                        if let Some(r) = c.first_reply.as_mut().filter(|r| r.at.seq == seq) {
                            r.on_site = x;
                        }
                    }
                    ("mediation_held", "agreement", V::Bool(x)) => {
                        if let Some(m) = c.mediations.iter_mut().find(|m| m.at.seq == seq) {
                            m.agreement = x;
                        }
                    }
                    ("case_resolved", f, v) => {
                        if let Some(r) = c.resolutions.iter_mut().find(|r| r.at.seq == seq) {
                            match (f, v) {
                                ("outcome", V::Outcome(x)) => r.outcome = x,
                                ("summary", V::Text(x)) => r.summary = x,
                                ("losses_recovered", V::Fen(x)) => r.losses_recovered = x,
                                _ => {}
                            }
                        }
                        if let Some(last) = c.resolutions.last() {
                            c.losses_recovered = last.losses_recovered;
                        }
                    }
                    ("satisfaction_recorded", "rating", V::Rating(x)) => {
                        if let Some(r) = c.ratings.iter_mut().find(|r| r.at.seq == seq) {
                            r.rating = x;
                        }
                    }
                    _ => {}
                }
            }
            (RecordSubject::Promise(id), kind, _, v) => {
                let Some(p) = self.promises.get_mut(id) else {
                    return;
                };
                match (kind, field, v) {
                    ("promise_made", "form", V::PromiseForm(x)) => p.form = x,
                    ("promise_made", "terms", V::Text(x)) => p.terms = x,
                    ("promise_made", "due", V::OptDate(x)) => p.due = x,
                    ("promise_made", "amount", V::OptFen(x)) => p.amount = x,
                    ("promise_made", "document", V::Text(x)) => p.document = x,
                    ("promise_breached", f, v) => {
                        if let Some(b) = p.breach.as_mut().filter(|b| b.at.seq == seq) {
                            match (f, v) {
                                ("excuse", V::Excuse(x)) => {
                                    b.excuse = x;
                                    b.forbidden = x.is_forbidden();
                                }
                                ("excuse_given", V::Text(x)) => b.excuse_given = x,
                                ("loss", V::OptFen(x)) => b.loss = x,
                                _ => {}
                            }
                        }
                    }
                    ("promise_varied", f, v) => {
                        if let Some(x) = p.variations.iter_mut().find(|x| x.at.seq == seq) {
                            match (f, v) {
                                ("public_interest_basis", V::Text(t)) => {
                                    x.public_interest_basis = t
                                }
                                ("new_terms", V::Text(t)) => x.new_terms = t,
                                ("compensation", V::Fen(a)) => x.compensation = a,
                                _ => {}
                            }
                        }
                    }
                    ("compensation_paid", "amount", V::Fen(x)) => {
                        if let Some(pay) = p.payments.iter_mut().find(|pay| pay.at.seq == seq) {
                            pay.amount = x;
                        }
                        p.compensation_paid = fen_sum(p.payments.iter().map(|x| &x.amount));
                    }
                    _ => {}
                }
            }
            (RecordSubject::Inspection(id), kind, _, v) => {
                let Some(i) = self.inspections.get_mut(id) else {
                    return;
                };
                match (kind, field, v) {
                    ("inspection_registered", "register_entry", V::Text(x)) => {
                        if let Some(r) = &mut i.registered {
                            r.register_entry = x;
                        }
                    }
                    ("inspection_conducted", "findings", V::Text(x)) => {
                        if let Some(c) = &mut i.conducted {
                            c.findings = x;
                        }
                    }
                    ("inspection_fee_demanded", f, v) => {
                        if let Some(fee) = i.fees.iter_mut().find(|x| x.at.seq == seq) {
                            match (f, v) {
                                ("amount", V::Fen(a)) => fee.amount = a,
                                ("basis", V::Text(t)) => fee.basis = t,
                                _ => {}
                            }
                        }
                        i.fee_total = fen_sum(i.fees.iter().map(|x| &x.amount));
                    }
                    _ => {}
                }
            }
            (RecordSubject::Project(id), kind, _, v) => {
                let Some(p) = self.projects.get_mut(id) else {
                    return;
                };
                match (kind, field, v) {
                    ("project_signed", "occasion", V::Text(x)) => p.occasion = x,
                    ("project_signed", "planned_funds", V::Fen(x)) => p.planned_funds = x,
                    ("project_signed", "leader", V::Text(x)) => p.leader = x,
                    ("project_signed", "tracker", V::Text(x)) => p.tracker = x,
                    ("project_funds_arrived", "amount", V::Fen(x)) => {
                        if let Some(f) = p.funds.iter_mut().find(|f| f.at.seq == seq) {
                            f.amount = x;
                        }
                        p.funds_arrived = fen_sum(p.funds.iter().map(|f| &f.amount));
                    }
                    _ => {}
                }
            }
            (RecordSubject::Feedback { city, year, index }, _, f, v) => {
                let Some(fb) = self
                    .evaluation_feedback
                    .get_mut(city)
                    .and_then(|y| y.get_mut(year))
                    .and_then(|v| v.get_mut(*index))
                else {
                    return;
                };
                match (f, v) {
                    ("rating", V::Count(n)) => fb.rating = n,
                    ("respondents", V::Count(n)) => fb.respondents = n,
                    _ => {}
                }
            }
            (RecordSubject::Accountability(index), _, "measure", V::Text(x)) => {
                if let Some(a) = self.accountability.get_mut(*index) {
                    a.measure = x;
                }
            }
            _ => {}
        }
    }
}

/// Any handling act moves an accepted case into progress.
fn start_handling(c: &mut Case) {
    if c.state == CaseState::Accepted {
        c.state = CaseState::InProgress;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use events::keys::Role;

    const D: &str = "2006-02-24";

    fn sample() -> World {
        let mut w = World::hunan();
        // Office holders are keyed by position: the digest must serialize them.
        let appoint = events::vocab::OfficeHolderAppointed {
            body: id("zz-office"),
            position: Position::DeputyInCharge,
            person: text("deputy"),
            division: Some(text("investment division")),
        };
        w.ok(&root(), D, appoint);
        w.file_and_refer("c1", "taizinai", "zz-office", D);
        w.ok(
            &key("zz-office", &[Role::Handler]),
            "2006-03-10",
            resolved("c1", 500_000),
        );
        w.ok(
            &key("zhuzhou", &[Role::Promisor]),
            D,
            promise_made("p1", "zhuzhou", Some("taizinai")),
        );
        w.ok(
            &key("zz-aic", &[Role::Inspector]),
            D,
            conducted("i1", "zz-aic", "taizinai", &["fire"]),
        );
        w
    }

    #[test]
    fn digest_is_deterministic_and_changes_with_state() {
        let a = sample();
        let b = sample();
        assert_eq!(a.model.digest(), b.model.digest());
        let mut c = sample();
        c.ok(&key("zhuzhou", &[Role::Promisor]), D, kept("p1"));
        assert_ne!(a.model.digest(), c.model.digest());
        assert_ne!(Model::default().digest(), a.model.digest());
    }

    #[test]
    fn rebuild_from_the_log_equals_the_incremental_fold() {
        let w = sample();
        assert_eq!(w.rebuild(None), w.model);
        assert_eq!(w.rebuild(None).digest(), w.model.digest());
        // Replaying a prefix gives the state as of that seq.
        let filed_seq = w.model.cases[&id("c1")].filed.seq;
        let then = w.rebuild(Some(filed_seq));
        assert_eq!(then.cases[&id("c1")].state, CaseState::Filed);
        assert!(then.promises.is_empty());
        assert_eq!(then.last_seq, Some(filed_seq));
    }

    #[test]
    fn apply_ignores_unknown_ids() {
        let mut w = World::hunan();
        let before = w.model.clone();
        let stray = Owned {
            seq: w.next_seq(),
            recorded_at: when(D).instant(),
            statement: events::statement::Statement {
                origin: "test".into(),
                id: "stray".into(),
                actor: events::keys::KeyId([0; 32]),
                on_behalf_of: None,
                issued_at: when(D).instant(),
                occurred_at: when(D),
                event: resolved("no-such-case", 1).into(),
            },
            actor: key("zz-office", &[Role::Handler]),
        };
        w.model.apply(&stray.applied());
        assert_eq!(w.model.cases, before.cases);
        assert_eq!(w.model.last_seq, Some(stray.seq));
    }

    #[test]
    fn body_bound_today_follows_successors_and_survives_a_cycle() {
        let mut w = World::hunan();
        w.ok(
            &key("zz-aic", &[Role::Promisor]),
            D,
            promise_made("p1", "zz-aic", None),
        );
        let reorg = |a: &str, b: &str| events::vocab::BodyReorganised {
            body: id(a),
            kind: Reorganisation::MergedInto,
            successor: id(b),
            basis: text("reform"),
        };
        w.ok(&root(), D, reorg("zz-aic", "zz-quality"));
        w.ok(&root(), D, reorg("zz-quality", "zz-tax"));
        let p = w.model.promises[&id("p1")].clone();
        assert_eq!(
            p.body,
            id("zz-aic"),
            "the promise keeps the body it was made by"
        );
        assert_eq!(w.model.body_bound_today(&p), id("zz-tax"));
        // Damaged data with a cycle (the rules refuse it) still terminates.
        let mut m = w.model.clone();
        let cyc = Owned {
            seq: w.next_seq(),
            recorded_at: when(D).instant(),
            statement: events::statement::Statement {
                origin: "test".into(),
                id: "cycle".into(),
                actor: events::keys::KeyId([0; 32]),
                on_behalf_of: None,
                issued_at: when(D).instant(),
                occurred_at: when(D),
                event: reorg("zz-tax", "zz-aic").into(),
            },
            actor: root(),
        };
        m.apply(&cyc.applied());
        let _ = m.body_bound_today(&p);
    }

    #[test]
    fn rule_parameters_are_default_until_set_and_cases_keep_theirs() {
        let mut w = World::hunan();
        assert_eq!(w.model.parameters, RuleParameters::default());
        w.file("c1", "taizinai", D);
        let p = RuleParameters {
            result_days: 15,
            ..RuleParameters::default()
        };
        let seq = w.next_seq();
        w.ok(
            &root(),
            D,
            events::vocab::RuleParametersSet {
                parameters: p,
                basis: text("new notice"),
            },
        );
        assert_eq!(w.model.parameters.result_days, 15);
        assert_eq!(w.model.parameters_set_at, Some(seq));
        w.file("c2", "taizinai", D);
        assert_eq!(w.model.cases[&id("c1")].clock.result_days, 30);
        assert_eq!(w.model.cases[&id("c2")].clock.result_days, 15);
    }

    #[test]
    fn correction_supersedes_named_fields_from_its_own_seq_on() {
        let mut w = sample();
        let resolution = w.model.cases[&id("c1")].resolutions[0].at.seq;
        let mut values = BTreeMap::new();
        values.insert("losses_recovered".to_string(), serde_json::json!(450_000));
        values.insert("outcome".to_string(), serde_json::json!("upheld"));
        let seq = w.next_seq();
        let c = events::vocab::Correction {
            target_seq: resolution,
            fields: vec![id("losses_recovered"), id("outcome")],
            values,
            reason: text("the receipt shows 4,500 yuan"),
        };
        w.ok(&key("province-office", &[Role::Supervisor]), D, c);
        let case = &w.model.cases[&id("c1")];
        assert_eq!(case.losses_recovered, fen(450_000));
        assert_eq!(case.resolutions[0].outcome, Outcome::Upheld);
        assert_eq!(w.model.corrections[&resolution].len(), 1);
        assert_eq!(
            case.timeline.last().map(|t| t.kind.name()),
            Some("correction")
        );
        // As of the seq before the correction, the original stands.
        let before = w.rebuild(Some(seq - 1));
        assert_eq!(before.cases[&id("c1")].losses_recovered, fen(500_000));
    }

    #[test]
    fn flagged_inspection_leaves_a_trigger_that_its_derived_case_settles() {
        let w = sample();
        let i = &w.model.inspections[&id("i1")];
        assert!(i.flags.unapproved && i.flags.unregistered);
        assert_eq!(i.yearly_count, 1);
        let (seq, t) = w.model.derived_triggers.iter().next().expect("a trigger");
        assert_eq!(t.case, Some(id(&format!("auto-{seq}"))));
        assert_eq!(
            t.flags,
            vec![Flag::InspectionUnapproved, Flag::InspectionUnregistered]
        );
        assert_eq!(w.model.pending_derived_cases().count(), 0);
    }

    #[test]
    fn fen_totals_saturate_at_the_json_integer_limit() {
        let max = Fen::new(INTEGER_MAX).expect("max");
        assert_eq!(fen_add(max, fen(1)), max);
        assert_eq!(fen_add(fen(2), fen(3)), fen(5));
    }
}
