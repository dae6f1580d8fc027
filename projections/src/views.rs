//! Read models derived from the [`Model`] at an evaluation time: a case's
//! deadlines and overdue flags ([`case_view`]), a city's accountability record
//! over a period ([`city_record`]), the yearly ranking of the cities
//! ([`ranking`]) and an enterprise's file ([`enterprise_view`]).
//!
//! Pure: no IO, no clock. The evaluation time `at` is a parameter; the model
//! passed in is the fold as of whatever seq the caller wants to show (an "as
//! of" query replays the log to that seq first).
//!
//! Conventions used throughout:
//! - A due day ends at 24:00 Shanghai time ([`Timestamp::from_shanghai_date_end`]).
//!   A step is *on time* if its business time (`occurred_at`) is strictly
//!   before the end of its due day, *late* otherwise.
//! - A step counts as *done by `at`* if its business time is at or before `at`.
//! - A due date the loaded calendar cannot establish is never guessed
//!   ([`Due::unknown`]); no overdue flag and no compliance figure is derived
//!   from an unknown due date.
//! - Every rate is a [`Ratio`] of integers, so an auditor can recount it.

use crate::calendar::{BeyondCalendar, Calendar};
use crate::model::{fen_add, Case, CaseState, Model, ResponsibilityChain, TimelineEntry};
use events::time::{Date, OffsetTime, Timestamp};
use events::vocab::{
    BodyKind, Category, Dimension, EventKind, Fen, Id, Procedure, Rating, Text, Weights,
};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------
// Shared pieces.

/// A due date, or why it is unknown: a date beyond the loaded calendar is
/// never guessed (`date` is `None` and `unknown` holds the [`BeyondCalendar`]
/// message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Due {
    pub date: Option<Date>,
    pub unknown: Option<String>,
}

impl Due {
    fn of(r: Result<Date, BeyondCalendar>) -> Due {
        match r {
            Ok(d) => Due {
                date: Some(d),
                unknown: None,
            },
            Err(e) => Due {
                date: None,
                unknown: Some(e.to_string()),
            },
        }
    }
}

/// A promise's due date: the one it names, or, for a service commitment on
/// its published clock (R16–R19), that many working days after the day it
/// was made; neither for a promise without a date.
pub fn promise_due(cal: &Calendar, p: &crate::model::Promise) -> Due {
    match (p.due, p.clock_working_days) {
        (Some(d), _) => Due {
            date: Some(d),
            unknown: None,
        },
        (None, Some(n)) => Due::of(cal.add_working_days(p.made.date(), n)),
        (None, None) => Due {
            date: None,
            unknown: None,
        },
    }
}

/// Whether the due day of `due` ended at or before `at` (never when unknown).
pub fn promise_overdue(due: &Due, at: Timestamp) -> bool {
    due.date
        .and_then(|d| Timestamp::from_shanghai_date_end(d).ok())
        .is_some_and(|end| end <= at)
}

/// An integer rate: `numerator / denominator` (0/0 when nothing counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ratio {
    pub numerator: u64,
    pub denominator: u64,
}

impl Ratio {
    pub fn new(numerator: u64, denominator: u64) -> Ratio {
        Ratio {
            numerator,
            denominator,
        }
    }

    /// Compares two rates exactly (cross-multiplication); a rate with a zero
    /// denominator counts as 0.
    pub fn cmp_rate(&self, other: &Ratio) -> Ordering {
        let a = if self.denominator == 0 {
            0
        } else {
            self.numerator
        };
        let b = if other.denominator == 0 {
            0
        } else {
            other.numerator
        };
        let da = self.denominator.max(1);
        let db = other.denominator.max(1);
        (u128::from(a) * u128::from(db)).cmp(&(u128::from(b) * u128::from(da)))
    }
}

/// The end of a due day (24:00 Shanghai). `None` only for 9999-12-31.
fn end_of(d: Date) -> Option<Timestamp> {
    Timestamp::from_shanghai_date_end(d).ok()
}

/// Whether the due day `d` has ended at `at`.
fn passed(d: Date, at: Timestamp) -> bool {
    end_of(d).is_some_and(|end| at >= end)
}

/// Whether a step done at `done` met due day `d`.
fn on_time(done: &OffsetTime, d: Date) -> bool {
    end_of(d).is_none_or(|end| done.instant() < end)
}

fn done_by(t: &OffsetTime, at: Timestamp) -> bool {
    t.instant() <= at
}

fn in_period(d: Date, from: Date, to: Date) -> bool {
    from <= d && d <= to
}

fn fen_u64(f: Fen) -> u64 {
    u64::try_from(f.get()).unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Case deadlines.

/// An open obligation of a case whose due day has ended at the evaluation
/// time. Overdue is derived, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Overdue {
    /// R1: no first reply (and no result, which also answers) by the end of the reply due day.
    Reply,
    /// R3: no result by the end of the result due day, and no lawful extension.
    Result,
    /// R4: extended, no result, and fewer progress notices sent than have fallen due.
    ProgressNotice,
    /// R4: no result by the end of the extension cap day.
    CapExceeded,
}

/// The deadline arithmetic of one case, shared by [`case_view`] and [`city_record`].
#[derive(Debug, Clone)]
struct Deadlines {
    reply_due: Due,
    result_due: Due,
    cap: Due,
    /// Extended by the end of the result due day (R4: an extension is asked
    /// for before the period runs out). A later extension is recorded but
    /// does not move the deadline.
    lawfully_extended: bool,
    notices_due: Vec<Due>,
}

fn deadlines(cal: &Calendar, c: &Case) -> Deadlines {
    let filed = c.filed.date();
    let reply_due = Due::of(cal.add_working_days(filed, c.clock.reply_working_days));
    let result_due = Due::of(cal.add_days(filed, c.clock.result_days));
    let cap_r = cal.add_months(filed, c.clock.extension_cap_months);
    let cap = Due::of(cap_r.clone());
    let lawfully_extended = match (&c.extended, result_due.date) {
        (Some(x), Some(d)) => on_time(&x.at.occurred_at, d),
        _ => false,
    };
    let mut notices_due = Vec::new();
    if c.extended.is_some() {
        // Every `progress_notice_days` days counted from the result due date
        // (each rolled to a working day), up to and including the cap. When
        // the cap is unknown, the unrolled cap date bounds the series.
        let raw_cap = filed.add_months(c.clock.extension_cap_months).ok();
        match result_due.date {
            None => notices_due.push(result_due.clone()),
            Some(base) if c.clock.progress_notice_days > 0 => {
                let mut k: u32 = 1;
                while let Some(n) = c.clock.progress_notice_days.checked_mul(k) {
                    let raw = base.add_days(i64::from(n)).ok();
                    let bound_ok = match (&cap_r, raw, raw_cap) {
                        (Ok(_), _, _) => true,
                        (Err(_), Some(r), Some(rc)) => r <= rc,
                        _ => false,
                    };
                    if !bound_ok {
                        break;
                    }
                    match cal.add_days(base, n) {
                        Ok(d) => {
                            if let Ok(cap_d) = &cap_r {
                                if d > *cap_d {
                                    break;
                                }
                            }
                            notices_due.push(Due::of(Ok(d)));
                        }
                        Err(e) => {
                            notices_due.push(Due::of(Err(e)));
                            break;
                        }
                    }
                    k += 1;
                }
            }
            Some(_) => {}
        }
    }
    Deadlines {
        reply_due,
        result_due,
        cap,
        lawfully_extended,
        notices_due,
    }
}

/// Whether the case is closed at `at`, judged by the business time of its
/// steps (a closure or a reopening after `at` has not happened yet then).
fn closed_at(c: &Case, at: Timestamp) -> bool {
    let mut closed = false;
    for e in c.timeline.iter().filter(|e| e.occurred_at.instant() <= at) {
        match e.kind.0 {
            EventKind::CaseClosed => closed = true,
            EventKind::CaseReopened => closed = false,
            _ => {}
        }
    }
    closed
}

/// Whether the case still owes something at `at`: not rejected, withdrawn or
/// closed by then (steps after `at`, by business time, have not happened yet).
fn owes(c: &Case, at: Timestamp) -> bool {
    let mut open = true;
    for e in c.timeline.iter().filter(|e| e.occurred_at.instant() <= at) {
        match e.kind.0 {
            EventKind::ComplaintRejected
            | EventKind::ComplaintWithdrawn
            | EventKind::CaseClosed => open = false,
            EventKind::CaseReopened => open = true,
            _ => {}
        }
    }
    open
}

/// Whether any of the accountability records `seqs` was imposed by `at`.
/// Whether one of the accountability records at `seqs` was imposed by `at`
/// (`Model::accountability` is in seq order, so each is a binary search).
fn imposed_by(model: &Model, seqs: &[u64], at: Timestamp) -> bool {
    seqs.iter().any(|s| {
        model
            .accountability
            .binary_search_by_key(s, |a| a.at.seq)
            .ok()
            .is_some_and(|i| model.accountability[i].at.occurred_at.instant() <= at)
    })
}

/// Whether the case still owed its steps through due day `d` (it was not
/// withdrawn or closed, and stayed so, before that day ended): a case
/// withdrawn before its reply or result fell due missed nothing.
fn owed_through(c: &Case, d: Date) -> bool {
    match end_of(d).and_then(|end| Timestamp::from_unix_millis(end.unix_millis() - 1).ok()) {
        Some(last) => owes(c, last),
        None => true,
    }
}

/// When the complaint was first answered by `at`: its first reply, or its
/// result if that came first (a result answers the complaint too, R1).
fn answered_by(c: &Case, at: Timestamp) -> Option<&OffsetTime> {
    match (reply_by(c, at), result_by(c, at)) {
        (Some(r), Some(s)) if s.instant() < r.instant() => Some(s),
        (r, s) => r.or(s),
    }
}

fn result_by(c: &Case, at: Timestamp) -> Option<&OffsetTime> {
    c.result_at()
        .map(|a| &a.occurred_at)
        .filter(|t| done_by(t, at))
}

fn reply_by(c: &Case, at: Timestamp) -> Option<&OffsetTime> {
    c.first_reply_at()
        .map(|a| &a.occurred_at)
        .filter(|t| done_by(t, at))
}

/// The date by which the result is due: the cap if lawfully extended.
fn result_deadline(dl: &Deadlines) -> Option<Date> {
    if dl.lawfully_extended {
        dl.cap.date
    } else {
        dl.result_due.date
    }
}

/// Progress notices that have fallen due at `at` (due day ended, no result
/// before the end of that day), and how many of them were met (at least k
/// notices sent before the end of the k-th due day).
fn notice_compliance(c: &Case, dl: &Deadlines, at: Timestamp) -> (u64, u64) {
    let (mut met, mut due) = (0u64, 0u64);
    for (i, d) in dl.notices_due.iter().enumerate() {
        let Some(d) = d.date else { break };
        if !passed(d, at) {
            break;
        }
        if c.result_at().is_some_and(|r| on_time(&r.occurred_at, d)) {
            break;
        }
        due += 1;
        let sent = c
            .progress_notices
            .iter()
            .filter(|n| on_time(&n.occurred_at, d))
            .count();
        if sent > i {
            met += 1;
        }
    }
    (met, due)
}

/// The overdue flags of a case at `at`. Only open obligations are overdue: an
/// obligation met late is not (see [`CaseView::late`]), and a rejected,
/// withdrawn or closed case owes nothing.
///
/// - `Reply`: neither a first reply nor a result done by `at`, and the reply due day has ended.
/// - `Result`: no result done by `at`, the result due day has ended, and the
///   case was not lawfully extended (extended by the end of the result due day).
/// - `ProgressNotice`: extended, no result done by `at`, and fewer notices
///   sent by `at` than notice due days that have ended.
/// - `CapExceeded`: no result done by `at` and the cap day has ended
///   (whether or not the case was extended).
fn overdue_of(c: &Case, dl: &Deadlines, at: Timestamp) -> Vec<Overdue> {
    let mut v = Vec::new();
    if !owes(c, at) || result_by(c, at).is_some() {
        return v;
    }
    if reply_by(c, at).is_none() && dl.reply_due.date.is_some_and(|d| passed(d, at)) {
        v.push(Overdue::Reply);
    }
    if !dl.lawfully_extended && dl.result_due.date.is_some_and(|d| passed(d, at)) {
        v.push(Overdue::Result);
    }
    if c.extended.is_some() {
        let fallen_due = dl
            .notices_due
            .iter()
            .take_while(|d| d.date.is_some_and(|d| passed(d, at)))
            .count();
        let sent = c
            .progress_notices
            .iter()
            .filter(|n| done_by(&n.occurred_at, at))
            .count();
        if sent < fallen_due {
            v.push(Overdue::ProgressNotice);
        }
    }
    if dl.cap.date.is_some_and(|d| passed(d, at)) {
        v.push(Overdue::CapExceeded);
    }
    v
}

/// Steps done after their due day (late, not overdue): `Reply`, `Result`
/// (after the result due day, or after the cap when lawfully extended),
/// `ProgressNotice` (a notice due day missed, later made good or not).
fn late_of(c: &Case, dl: &Deadlines, at: Timestamp) -> Vec<Overdue> {
    let mut v = Vec::new();
    if let (Some(r), Some(d)) = (reply_by(c, at), dl.reply_due.date) {
        if !on_time(r, d) {
            v.push(Overdue::Reply);
        }
    }
    if let (Some(r), Some(d)) = (result_by(c, at), result_deadline(dl)) {
        if !on_time(r, d) {
            v.push(Overdue::Result);
        }
    }
    let (met, due) = notice_compliance(c, dl, at);
    if met < due && result_by(c, at).is_some() {
        v.push(Overdue::ProgressNotice);
    }
    v
}

/// A case as a supervisor sees it at an evaluation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseView {
    pub id: Id,
    pub state: CaseState,
    pub procedure: Option<Procedure>,
    pub enterprise: Id,
    pub city: Id,
    pub category: Category,
    pub urgent: bool,
    pub major: bool,
    /// The business date of filing in Shanghai; every deadline counts from it.
    pub filed: Date,
    /// The body responsible today (following reorganisations).
    pub responsible: Option<Id>,
    /// The current R8 chain (head, deputy in charge, division, handler).
    pub chain: Option<ResponsibilityChain>,
    /// Filed + `reply_working_days` working days, counting from the next day.
    pub first_reply_due: Due,
    pub first_reply_at: Option<OffsetTime>,
    /// Filed + `result_days` days, rolled to the next working day.
    pub result_due: Due,
    /// The first result given.
    pub result_at: Option<OffsetTime>,
    pub extended: bool,
    /// When the extension was recorded.
    pub extended_at: Option<OffsetTime>,
    /// Whether the extension was recorded by the end of the result due day;
    /// only then is the cap the deadline for the result.
    pub lawfully_extended: bool,
    /// If extended: every `progress_notice_days` days from the result due
    /// date, each rolled to a working day, up to the cap.
    pub progress_notices_due: Vec<Due>,
    pub progress_notices_sent: Vec<OffsetTime>,
    /// Filed + `extension_cap_months` months, rolled to a working day.
    pub cap: Due,
    /// Open obligations past their due day at the evaluation time.
    pub overdue: Vec<Overdue>,
    /// Steps done after their due day.
    pub late: Vec<Overdue>,
    pub timeline: Vec<TimelineEntry>,
}

/// The view of case `case` at `at`, or `None` if the model does not know it.
pub fn case_view(model: &Model, cal: &Calendar, case: &Id, at: Timestamp) -> Option<CaseView> {
    let c = model.cases.get(case)?;
    let dl = deadlines(cal, c);
    Some(CaseView {
        id: c.id.clone(),
        state: c.state,
        procedure: c.procedure,
        enterprise: c.enterprise.clone(),
        city: c.city.clone(),
        category: c.category,
        urgent: c.urgent,
        major: c.major,
        filed: c.filed.date(),
        responsible: model.responsible_today(c),
        chain: c.chain.clone(),
        first_reply_at: c.first_reply_at().map(|a| a.occurred_at),
        result_at: c.result_at().map(|a| a.occurred_at),
        extended: c.extended.is_some(),
        extended_at: c.extended.as_ref().map(|x| x.at.occurred_at),
        lawfully_extended: dl.lawfully_extended,
        progress_notices_sent: c.progress_notices.iter().map(|a| a.occurred_at).collect(),
        overdue: overdue_of(c, &dl, at),
        late: late_of(c, &dl, at),
        first_reply_due: dl.reply_due,
        result_due: dl.result_due,
        progress_notices_due: dl.notices_due,
        cap: dl.cap,
        timeline: c.timeline.to_vec(),
    })
}

// ---------------------------------------------------------------------------
// The accountability record of a city.

/// Counts of each inspection flag among the inspections counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FlagCounts {
    pub unapproved: u64,
    pub unregistered: u64,
    pub repeated: u64,
    pub over_cap: u64,
    pub fee_demanded: u64,
    pub approval_pending: u64,
}

/// R22: the monitoring points a city named for a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitoringSummary {
    pub year: i32,
    pub count: u64,
    pub distinct_counties: u64,
    /// Named by the filing deadline (`monitoring_filing_month`/`_day` of the
    /// year, business date in Shanghai) / named.
    pub filed_by_deadline: Ratio,
    /// The minimum in force (`monitoring_points_min`) and whether it is met.
    pub minimum: u32,
    pub meets_minimum: bool,
}

/// One evaluation dimension: the respondent-weighted mean of the recorded
/// ratings, in per-mille of 100 points (rating × 10, floored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DimensionScore {
    pub dimension: Dimension,
    /// Σ rating × respondents × 10 / Σ respondents; 0 with no feedback.
    pub mean_permille: u64,
    pub respondents: u64,
    pub weight_permille: u32,
}

/// R23–R24: a city's evaluation for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub year: i32,
    pub dimensions: Vec<DimensionScore>,
    /// Σ weight × mean / 1000 (floored), 0..=1000. A dimension without
    /// feedback counts as 0.
    pub score_permille: u64,
}

/// A city's accountability record over the period [from, to] (business dates
/// in Shanghai), evaluated at `at`. Case figures are over the cases
/// `received`; each rate carries its numerator and denominator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CityRecord {
    pub city: Id,
    pub from: Date,
    pub to: Date,
    pub at: Timestamp,
    /// Cases of this city (R7) filed in the period, those rejected by `at` excluded.
    pub received: u64,
    /// Closed by `at` / received.
    pub closure: Ratio,
    /// Answered on time (a first reply, or a result that came first) /
    /// cases answered by `at`, or whose reply due day ended at `at` while
    /// they still owed it (a case withdrawn or closed before then owed none).
    pub first_reply_on_time: Ratio,
    /// Result on time (by the result due day, or by the cap if lawfully
    /// extended) / cases with a result by `at`, or whose deadline ended at
    /// `at` while they still owed it.
    pub result_on_time: Ratio,
    /// Progress notices met / notice due days that have ended with no result before them.
    pub progress_notices: Ratio,
    /// Received cases with an open overdue obligation at `at` / received.
    pub open_overdue: Ratio,
    /// Obligations with accountability imposed / obligations overdue or
    /// breached: received cases overdue or late, promises of the city's bodies
    /// breached in the period, and non-compliant inspections by the city's
    /// bodies conducted in the period.
    pub accountability_follow_through: Ratio,
    /// Latest rating (by `at`) 满意 / rated.
    pub satisfaction_strict: Ratio,
    /// Latest rating 满意 or 基本满意 / rated.
    pub satisfaction_broad: Ratio,
    /// Losses recovered by the received cases resolved by `at` (latest stated total per case).
    pub losses_recovered: Fen,
    /// Promises bound today to a body of this city, settled in the period:
    /// kept / (kept + breached).
    pub promises_kept: Ratio,
    /// Breaches on a forbidden excuse / breaches.
    pub breaches_forbidden_excuse: Ratio,
    /// Compensation paid in the period on those promises.
    pub compensation_paid: Fen,
    /// Projects of the city signed in the period: started by `at` / signed.
    pub projects_started: Ratio,
    /// Funds arrived (fen) / funds planned (fen) on those projects.
    pub project_funds: Ratio,
    /// Inspections by the city's bodies conducted in the period: compliant / conducted.
    pub inspections_compliant: Ratio,
    pub inspection_flags: FlagCounts,
    /// Monitoring points for the year of `to`.
    pub monitoring: MonitoringSummary,
    /// Evaluation for the year of `to`.
    pub evaluation: Evaluation,
}

fn body_in_city(model: &Model, body: &Id, city: &Id) -> bool {
    model.city_of_body(&model.current_body(body)) == Some(city)
        || model.city_of_body(body) == Some(city)
}

const DIMENSIONS: [Dimension; 5] = [
    Dimension::ServiceAwareness,
    Dimension::ServiceAttitude,
    Dimension::SystemImplementation,
    Dimension::LawEnforcement,
    Dimension::ComplaintHandling,
];

fn weight(w: &Weights, d: Dimension) -> u32 {
    match d {
        Dimension::ServiceAwareness => w.service_awareness,
        Dimension::ServiceAttitude => w.service_attitude,
        Dimension::SystemImplementation => w.system_implementation,
        Dimension::LawEnforcement => w.law_enforcement,
        Dimension::ComplaintHandling => w.complaint_handling,
    }
}

/// The evaluation of `city` for `year` with the weights in force.
pub fn evaluation(model: &Model, city: &Id, year: i32) -> Evaluation {
    let feedback: &[crate::model::Feedback] = u32::try_from(year)
        .ok()
        .and_then(|y| model.evaluation_feedback.get(city)?.get(&y))
        .map_or(&[], |v| v.as_slice());
    let w = &model.parameters.evaluation_weights;
    let mut total: u64 = 0;
    let dimensions = DIMENSIONS
        .iter()
        .map(|&d| {
            let (mut sum, mut n) = (0u64, 0u64);
            for f in feedback.iter().filter(|f| f.dimension == d) {
                sum += u64::from(f.rating) * u64::from(f.respondents) * 10;
                n += u64::from(f.respondents);
            }
            let mean = sum.checked_div(n).unwrap_or(0);
            total += u64::from(weight(w, d)) * mean;
            DimensionScore {
                dimension: d,
                mean_permille: mean,
                respondents: n,
                weight_permille: weight(w, d),
            }
        })
        .collect();
    Evaluation {
        year,
        dimensions,
        score_permille: total / 1000,
    }
}

fn monitoring(model: &Model, city: &Id, year: i32) -> MonitoringSummary {
    let p = &model.parameters;
    let points = u32::try_from(year)
        .ok()
        .and_then(|y| model.monitoring_points.get(city)?.get(&y));
    let deadline = Date::from_ymd(year, p.monitoring_filing_month, p.monitoring_filing_day).ok();
    let (mut count, mut on_time_n) = (0u64, 0u64);
    let mut counties = BTreeSet::new();
    for mp in points.into_iter().flat_map(|m| m.values()) {
        count += 1;
        counties.insert(mp.county.as_str().to_string());
        if deadline.is_some_and(|d| mp.at.date() <= d) {
            on_time_n += 1;
        }
    }
    MonitoringSummary {
        year,
        count,
        distinct_counties: counties.len() as u64,
        filed_by_deadline: Ratio::new(on_time_n, count),
        minimum: p.monitoring_points_min,
        meets_minimum: count >= u64::from(p.monitoring_points_min),
    }
}

/// The accountability record of `city` over [from, to] at `at`.
pub fn city_record(
    model: &Model,
    cal: &Calendar,
    city: &Id,
    from: Date,
    to: Date,
    at: Timestamp,
) -> CityRecord {
    let mut received = 0u64;
    let mut closure = Ratio::new(0, 0);
    let mut reply = Ratio::new(0, 0);
    let mut result = Ratio::new(0, 0);
    let mut notices = Ratio::new(0, 0);
    let mut overdue = Ratio::new(0, 0);
    let mut follow = Ratio::new(0, 0);
    let mut strict = Ratio::new(0, 0);
    let mut broad = Ratio::new(0, 0);
    let mut losses = Fen::ZERO;
    // The city's cases filed in the period, through the model's index.
    let filed_in_period = model
        .cases_by_city
        .get(city)
        .into_iter()
        .flat_map(|by_date| by_date.range(from..=to))
        .flat_map(|(_, slots)| slots.iter())
        .filter_map(|&slot| model.cases.at(slot));
    for c in filed_in_period {
        // The index holds each case under its city and filing date, neither
        // of which a correction changes, so only the rejection is checked:
        // as it stood at `at`, like every other figure (a case filed in late
        // December and rejected in January was received in the year judged
        // on 31 December).
        if c.rejected
            .as_ref()
            .is_some_and(|r| r.at.occurred_at.instant() <= at)
        {
            continue;
        }
        received += 1;
        let dl = deadlines(cal, c);
        if closed_at(c, at) {
            closure.numerator += 1;
        }
        // A step counts once it is done, or once its due day ended while
        // the case still owed it (not after a withdrawal or closing).
        if let Some(d) = dl.reply_due.date {
            let r = answered_by(c, at);
            if r.is_some() || (passed(d, at) && owed_through(c, d)) {
                reply.denominator += 1;
                if r.is_some_and(|r| on_time(r, d)) {
                    reply.numerator += 1;
                }
            }
        }
        if let Some(d) = result_deadline(&dl) {
            let r = result_by(c, at);
            if r.is_some() || (passed(d, at) && owed_through(c, d)) {
                result.denominator += 1;
                if r.is_some_and(|r| on_time(r, d)) {
                    result.numerator += 1;
                }
            }
        }
        let (met, due) = notice_compliance(c, &dl, at);
        notices.numerator += met;
        notices.denominator += due;
        let open = overdue_of(c, &dl, at);
        if !open.is_empty() {
            overdue.numerator += 1;
        }
        if !open.is_empty() || !late_of(c, &dl, at).is_empty() {
            follow.denominator += 1;
            if imposed_by(model, &c.accountability, at) {
                follow.numerator += 1;
            }
        }
        if let Some(r) = c
            .ratings
            .iter()
            .rev()
            .find(|r| done_by(&r.at.occurred_at, at))
        {
            strict.denominator += 1;
            broad.denominator += 1;
            if r.rating == Rating::Satisfied {
                strict.numerator += 1;
            }
            if matches!(r.rating, Rating::Satisfied | Rating::BasicallySatisfied) {
                broad.numerator += 1;
            }
        }
        // A later resolution states the total again: take the latest by `at`.
        if let Some(r) = c
            .resolutions
            .iter()
            .rev()
            .find(|r| done_by(&r.at.occurred_at, at))
        {
            losses = fen_add(losses, r.losses_recovered);
        }
    }
    closure.denominator = received;
    overdue.denominator = received;

    let mut kept = Ratio::new(0, 0);
    let mut forbidden = Ratio::new(0, 0);
    let mut compensation = Fen::ZERO;
    // Promises settled and inspections conducted in the period by the
    // city's bodies, through the model's indexes (by body, then date).
    fn in_period_of(
        model: &Model,
        index: &crate::model::ByKeyAndDate,
        city: &Id,
        from: Date,
        to: Date,
    ) -> std::collections::BTreeSet<u32> {
        index
            .iter()
            .filter(|(body, _)| body_in_city(model, body, city))
            .flat_map(|(_, by_date)| by_date.range(from..=to))
            .flat_map(|(_, slots)| slots.iter().copied())
            .collect()
    }
    for p in in_period_of(model, &model.promise_settlements, city, from, to)
        .into_iter()
        .filter_map(|slot| model.promises.at(slot))
    {
        if !body_in_city(model, &p.body, city) {
            continue;
        }
        let settled_in = |t: &OffsetTime| done_by(t, at) && in_period(t.shanghai_date(), from, to);
        if p.kept.is_some_and(|k| settled_in(&k.occurred_at)) {
            kept.numerator += 1;
            kept.denominator += 1;
        }
        if let Some(b) = p.breach.as_ref().filter(|b| settled_in(&b.at.occurred_at)) {
            kept.denominator += 1;
            forbidden.denominator += 1;
            if b.forbidden {
                forbidden.numerator += 1;
            }
            follow.denominator += 1;
            if imposed_by(model, &p.accountability, at) {
                follow.numerator += 1;
            }
        }
        for pay in p.payments.iter().filter(|x| settled_in(&x.at.occurred_at)) {
            compensation = fen_add(compensation, pay.amount);
        }
    }

    let mut started = Ratio::new(0, 0);
    let mut funds = Ratio::new(0, 0);
    for p in model
        .projects_by_city
        .get(city)
        .into_iter()
        .flat_map(|by_date| by_date.range(from..=to))
        .flat_map(|(_, slots)| slots.iter())
        .filter_map(|&slot| model.projects.at(slot))
    {
        started.denominator += 1;
        if p.started.is_some_and(|s| done_by(&s.occurred_at, at)) {
            started.numerator += 1;
        }
        funds.denominator += fen_u64(p.planned_funds);
        funds.numerator += p
            .funds
            .iter()
            .filter(|f| done_by(&f.at.occurred_at, at))
            .map(|f| fen_u64(f.amount))
            .sum::<u64>();
    }

    let mut compliant = Ratio::new(0, 0);
    let mut flags = FlagCounts::default();
    for i in in_period_of(model, &model.inspections_conducted, city, from, to)
        .into_iter()
        .filter_map(|slot| model.inspections.at(slot))
    {
        let Some(conduct) = &i.conducted else {
            continue;
        };
        if !body_in_city(model, &i.department, city)
            || !done_by(&conduct.at.occurred_at, at)
            || !in_period(conduct.at.date(), from, to)
        {
            continue;
        }
        compliant.denominator += 1;
        let f = &i.flags;
        if f.compliant() {
            compliant.numerator += 1;
        } else {
            follow.denominator += 1;
            if imposed_by(model, &i.accountability, at) {
                follow.numerator += 1;
            }
        }
        flags.unapproved += u64::from(f.unapproved);
        flags.unregistered += u64::from(f.unregistered);
        flags.repeated += u64::from(f.repeated);
        flags.over_cap += u64::from(f.over_cap);
        flags.fee_demanded += u64::from(f.fee_demanded);
        flags.approval_pending += u64::from(f.approval_pending);
    }

    CityRecord {
        city: city.clone(),
        from,
        to,
        at,
        received,
        closure,
        first_reply_on_time: reply,
        result_on_time: result,
        progress_notices: notices,
        open_overdue: overdue,
        accountability_follow_through: follow,
        satisfaction_strict: strict,
        satisfaction_broad: broad,
        losses_recovered: losses,
        promises_kept: kept,
        breaches_forbidden_excuse: forbidden,
        compensation_paid: compensation,
        projects_started: started,
        project_funds: funds,
        inspections_compliant: compliant,
        inspection_flags: flags,
        monitoring: monitoring(model, city, to.year()),
        evaluation: evaluation(model, city, to.year()),
    }
}

/// One city's line in the yearly ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RankRow {
    pub city: Id,
    pub name: Text,
    pub score_permille: u64,
    /// The closure rate over the year, the first tie-break.
    pub closure: Ratio,
    /// 1-based; every city has its own rank (ties are broken).
    pub rank: u32,
    /// R24 with R25: the three highest-ranked cities eligible for awards are
    /// rewarded and announced. An ineligible city keeps its rank, but its
    /// place among the three passes to the next eligible city.
    pub top_three: bool,
    /// R25: poor performers lose award eligibility. A city is not eligible
    /// for the year when a promise bound to one of its bodies was breached
    /// on a forbidden excuse, or when it scored under
    /// [`AWARD_SCORE_MIN_PERMILLE`]; nor without any evaluation feedback for
    /// the year (R24 rewards an evaluation, and there was none).
    /// `ineligible_because` says which.
    pub award_eligible: bool,
    pub ineligible_because: Option<String>,
}

/// R25: the evaluation score under which a city is a poor performer (60 of
/// 100, the usual pass mark of a Chinese evaluation).
pub const AWARD_SCORE_MIN_PERMILLE: u64 = 600;

/// The ranking of every body of kind `city_government` for `year`, evaluated
/// at `at`: by evaluation score (higher first); ties are broken by the
/// closure rate over the year (1 January – 31 December, compared exactly as
/// fractions, higher first, 0/0 counting as 0), then by city id (ascending).
/// The top three are the first three eligible cities in that order (R25).
pub fn ranking(model: &Model, cal: &Calendar, year: i32, at: Timestamp) -> Vec<RankRow> {
    let (Ok(from), Ok(to)) = (Date::from_ymd(year, 1, 1), Date::from_ymd(year, 12, 31)) else {
        return Vec::new();
    };
    let mut rows: Vec<RankRow> = model
        .bodies
        .values()
        .filter(|b| b.kind == BodyKind::CityGovernment)
        .map(|b| {
            let r = city_record(model, cal, &b.id, from, to, at);
            let ineligible_because = if r.breaches_forbidden_excuse.numerator > 0 {
                Some(format!(
                    "{} promise breach(es) on a forbidden excuse in {year}",
                    r.breaches_forbidden_excuse.numerator
                ))
            } else if r.evaluation.dimensions.iter().all(|d| d.respondents == 0) {
                Some(format!("no evaluation feedback recorded for {year}"))
            } else if r.evaluation.score_permille < AWARD_SCORE_MIN_PERMILLE {
                Some(format!(
                    "evaluation score {}‰ is under {AWARD_SCORE_MIN_PERMILLE}‰",
                    r.evaluation.score_permille
                ))
            } else {
                None
            };
            RankRow {
                city: b.id.clone(),
                name: b.name.clone(),
                score_permille: r.evaluation.score_permille,
                closure: r.closure,
                rank: 0,
                top_three: false,
                award_eligible: ineligible_because.is_none(),
                ineligible_because,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.score_permille
            .cmp(&a.score_permille)
            .then_with(|| b.closure.cmp_rate(&a.closure))
            .then_with(|| a.city.cmp(&b.city))
    });
    let mut awarded = 0;
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
        r.top_three = r.award_eligible && awarded < 3;
        awarded += usize::from(r.top_three);
    }
    rows
}

// ---------------------------------------------------------------------------
// An enterprise's file (R21).

/// A promise made to an enterprise, with the body bound today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromiseLine {
    pub id: Id,
    pub body: Id,
    pub body_bound_today: Id,
    pub status: crate::model::PromiseStatus,
    /// The due date (see [`promise_due`]).
    pub due: Option<Date>,
    /// Why a due date on the published clock is unknown (beyond the calendar).
    pub due_unknown: Option<String>,
    pub compensation_paid: Fen,
}

/// An inspection an enterprise received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectionLine {
    pub id: Id,
    pub department: Id,
    /// The other departments of a joint inspection (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub joint_with: Vec<Id>,
    pub conducted: Option<Date>,
    pub compliant: bool,
    pub flags: crate::model::InspectionFlags,
    pub yearly_count: u32,
}

/// An enterprise's file at `at`: its cases (as [`CaseView`]s), the promises
/// made to it and the inspections it received, each in id order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnterpriseView {
    pub id: Id,
    pub name: Text,
    pub city: Id,
    pub cases: Vec<CaseView>,
    pub promises: Vec<PromiseLine>,
    pub inspections: Vec<InspectionLine>,
}

/// The file of `enterprise` at `at`, or `None` if it is not registered.
pub fn enterprise_view(
    model: &Model,
    cal: &Calendar,
    enterprise: &Id,
    at: Timestamp,
) -> Option<EnterpriseView> {
    let e = model.enterprises.get(enterprise)?;
    Some(EnterpriseView {
        id: e.id.clone(),
        name: e.name.clone(),
        city: e.city.clone(),
        cases: model
            .cases
            .values()
            .filter(|c| &c.enterprise == enterprise)
            .filter_map(|c| case_view(model, cal, &c.id, at))
            .collect(),
        promises: model
            .promises
            .values()
            .filter(|p| p.beneficiary.as_ref() == Some(enterprise))
            .map(|p| {
                let due = promise_due(cal, p);
                PromiseLine {
                    id: p.id.clone(),
                    body: p.body.clone(),
                    body_bound_today: model.body_bound_today(p),
                    status: p.status,
                    due: due.date,
                    due_unknown: due.unknown,
                    compensation_paid: p.compensation_paid,
                }
            })
            .collect(),
        inspections: model
            .inspections
            .values()
            .filter(|i| &i.enterprise == enterprise)
            .map(|i| InspectionLine {
                id: i.id.clone(),
                department: i.department.clone(),
                joint_with: i.joint_with.iter().cloned().collect(),
                conducted: i.conducted.as_ref().map(|c| c.at.date()),
                compliant: i.conducted.is_some() && i.flags.compliant(),
                flags: i.flags,
                yearly_count: i.yearly_count,
            })
            .collect(),
    })
}

/// Which promises a supervisor asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromiseQuery {
    /// Due day ended at `at` while still open (made or varied, not kept).
    Overdue,
    Breached,
    /// A dispute by the beneficiary not yet settled.
    Disputed,
}

/// One promise in a supervisor's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromiseListLine {
    pub id: Id,
    pub body: Id,
    /// The body bound today, after reorganisations (a change of office holder never changes it).
    pub body_bound_today: Id,
    pub beneficiary: Option<Id>,
    pub form: events::vocab::PromiseForm,
    pub status: crate::model::PromiseStatus,
    /// The due date (see [`promise_due`]).
    pub due: Option<Date>,
    /// Why a due date on the published clock is unknown (beyond the calendar).
    pub due_unknown: Option<String>,
    pub overdue: bool,
    pub excuse: Option<events::vocab::Excuse>,
    /// The breach was excused by a forbidden reason (art. 31): itself a violation.
    pub forbidden_excuse: bool,
    pub dispute_open: bool,
    pub compensation_paid: Fen,
}

/// Promises matching `query` (all when `None`) whose bound body today is
/// `body` (any when `None`), in id order, judged at `at`.
pub fn promise_list(
    model: &Model,
    cal: &Calendar,
    query: Option<PromiseQuery>,
    body: Option<&Id>,
    at: Timestamp,
) -> Vec<PromiseListLine> {
    use crate::model::PromiseStatus as S;
    model
        .promises
        .values()
        .map(|p| {
            let open = matches!(p.status, S::Made | S::Varied);
            let due = promise_due(cal, p);
            let overdue = open && promise_overdue(&due, at);
            PromiseListLine {
                id: p.id.clone(),
                body: p.body.clone(),
                body_bound_today: model.body_bound_today(p),
                beneficiary: p.beneficiary.clone(),
                form: p.form,
                status: p.status,
                due: due.date,
                due_unknown: due.unknown,
                overdue,
                excuse: p.breach.as_ref().map(|b| b.excuse),
                forbidden_excuse: p.breach.as_ref().is_some_and(|b| b.forbidden),
                dispute_open: p.dispute_open(),
                compensation_paid: p.compensation_paid,
            }
        })
        .filter(|l| match query {
            None => true,
            Some(PromiseQuery::Overdue) => l.overdue,
            Some(PromiseQuery::Breached) => l.status == S::Breached,
            Some(PromiseQuery::Disputed) => l.dispute_open,
        })
        .filter(|l| body.is_none_or(|b| &l.body_bound_today == b))
        .collect()
}

/// One inspection in the registry, with its flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryLine {
    pub enterprise: Id,
    #[serde(flatten)]
    pub line: InspectionLine,
}

/// The inspection registry (only flagged ones when `flagged_only`), in id order.
pub fn inspection_list(model: &Model, flagged_only: bool) -> Vec<RegistryLine> {
    model
        .inspections
        .values()
        .filter(|i| i.conducted.is_some())
        .filter(|i| {
            let f = &i.flags;
            !flagged_only
                || f.unapproved
                || f.unregistered
                || f.repeated
                || f.over_cap
                || f.fee_demanded
                || f.approval_pending
        })
        .map(|i| RegistryLine {
            enterprise: i.enterprise.clone(),
            line: InspectionLine {
                id: i.id.clone(),
                department: i.department.clone(),
                joint_with: i.joint_with.iter().cloned().collect(),
                conducted: i.conducted.as_ref().map(|c| c.at.date()),
                compliant: i.flags.compliant(),
                flags: i.flags,
                yearly_count: i.yearly_count,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;
    use events::keys::Role;
    use events::vocab::{DeadlineExtended, FirstReplySent, ProgressReported};

    fn date(s: &str) -> Date {
        Date::parse(s).expect("date")
    }

    /// 24:00 Shanghai of `d`, minus `ms` milliseconds.
    fn end(d: &str, ms: i64) -> Timestamp {
        let e = Timestamp::from_shanghai_date_end(date(d)).expect("end");
        Timestamp::from_unix_millis(e.unix_millis() - ms).expect("ts")
    }

    fn handler() -> Actor {
        key("zz-office", &[Role::Handler])
    }

    fn first_reply(c: &str) -> FirstReplySent {
        FirstReplySent {
            case: id(c),
            summary: text("received"),
            on_site: false,
        }
    }

    fn extend(c: &str) -> DeadlineExtended {
        DeadlineExtended {
            case: id(c),
            reason: text("complex"),
        }
    }

    fn notice(c: &str) -> ProgressReported {
        ProgressReported {
            case: id(c),
            summary: text("progress"),
        }
    }

    fn view(w: &World, c: &str, at: Timestamp) -> CaseView {
        case_view(&w.model, &Calendar::builtin(), &id(c), at).expect("case")
    }

    fn dates(v: &[Due]) -> Vec<Date> {
        v.iter().map(|d| d.date.expect("known")).collect()
    }

    #[test]
    fn r1_r3_r4_domain_example_due_dates_with_extension() {
        let mut w = World::hunan();
        w.file_and_refer("c1", "taizinai", "zz-office", "2006-02-24");
        let v = view(&w, "c1", end("2006-02-24", 1));
        assert_eq!(v.filed, date("2006-02-24"));
        assert_eq!(v.first_reply_due.date, Some(date("2006-03-01")));
        assert_eq!(v.result_due.date, Some(date("2006-03-27")));
        assert_eq!(v.cap.date, Some(date("2006-05-24")));
        assert!(
            v.progress_notices_due.is_empty(),
            "no notices unless extended"
        );
        assert_eq!(v.responsible, Some(id("zz-office")));
        assert!(v.overdue.is_empty());

        w.ok(&handler(), "2006-03-20", extend("c1"));
        let v = view(&w, "c1", end("2006-03-20", 1));
        assert!(v.extended && v.lawfully_extended);
        assert_eq!(
            dates(&v.progress_notices_due),
            vec![date("2006-04-11"), date("2006-04-26"), date("2006-05-11")]
        );
        // The reply was never sent: overdue since the end of 03-01.
        assert_eq!(v.overdue, vec![Overdue::Reply]);
        // Extended in time: the result is not overdue after 03-27, but the
        // first notice is after 04-11 ends.
        let v = view(&w, "c1", end("2006-04-11", 1));
        assert_eq!(v.overdue, vec![Overdue::Reply]);
        let v = view(&w, "c1", end("2006-04-11", 0));
        assert_eq!(v.overdue, vec![Overdue::Reply, Overdue::ProgressNotice]);
        w.ok(&handler(), "2006-04-12", notice("c1"));
        let v = view(&w, "c1", end("2006-04-12", 1));
        assert_eq!(v.overdue, vec![Overdue::Reply], "a late notice is not open");
        // Past the cap with no result.
        let v = view(&w, "c1", end("2006-05-24", 0));
        assert_eq!(
            v.overdue,
            vec![
                Overdue::Reply,
                Overdue::ProgressNotice,
                Overdue::CapExceeded
            ]
        );
        // A result closes every open obligation; the late ones stay visible.
        w.ok(&handler(), "2006-05-25", resolved("c1", 0));
        let v = view(&w, "c1", end("2006-05-25", 0));
        assert!(v.overdue.is_empty());
        assert_eq!(v.late, vec![Overdue::Result, Overdue::ProgressNotice]);
    }

    #[test]
    fn r1_r3_overdue_flags_before_and_after_each_due_day() {
        let mut w = World::hunan();
        w.file_and_refer("c1", "taizinai", "zz-office", "2006-02-24");
        // The reply due day is 03-01: the last millisecond is still in time.
        assert!(view(&w, "c1", end("2006-03-01", 1)).overdue.is_empty());
        assert_eq!(
            view(&w, "c1", end("2006-03-01", 0)).overdue,
            vec![Overdue::Reply]
        );
        w.ok(&handler(), "2006-03-01T23:59:59+08:00", first_reply("c1"));
        let v = view(&w, "c1", end("2006-03-27", 1));
        assert!(v.overdue.is_empty() && v.late.is_empty());
        let v = view(&w, "c1", end("2006-03-27", 0));
        assert_eq!(v.overdue, vec![Overdue::Result]);
        w.ok(&handler(), "2006-03-28", resolved("c1", 0));
        let v = view(&w, "c1", end("2006-03-28", 0));
        assert!(v.overdue.is_empty());
        assert_eq!(v.late, vec![Overdue::Result]);
        // Before the result was recorded (as of 03-28 00:30), it was still open.
        let v = view(
            &w,
            "c1",
            Timestamp::parse("2006-03-27T16:30:00.000Z").expect("ts"),
        );
        assert_eq!(v.overdue, vec![Overdue::Result]);
    }

    #[test]
    fn a_due_date_beyond_the_calendar_is_unknown_not_guessed() {
        let mut w = World::hunan();
        w.file_and_refer("c1", "taizinai", "zz-office", "2026-12-15");
        let at = end("2026-12-31", 0);
        let v = view(&w, "c1", at);
        assert_eq!(v.first_reply_due.date, Some(date("2026-12-18")));
        assert_eq!(v.result_due.date, None);
        assert!(v
            .result_due
            .unknown
            .as_deref()
            .is_some_and(|m| m.contains("2027-01-14") && m.contains("beyond the loaded calendar")));
        assert_eq!(v.cap.date, None);
        assert!(v.cap.unknown.is_some());
        assert_eq!(v.overdue, vec![Overdue::Reply]);
        w.ok(&handler(), "2026-12-16", extend("c1"));
        let v = view(&w, "c1", at);
        assert!(!v.lawfully_extended, "lawfulness cannot be established");
        assert_eq!(v.progress_notices_due.len(), 1);
        assert!(v.progress_notices_due[0].unknown.is_some());
        let json = serde_json::to_value(&v).expect("json");
        assert_eq!(json["result_due"]["date"], serde_json::Value::Null);
        assert_eq!(json["overdue"], serde_json::json!(["reply"]));
    }

    fn supervisor() -> Actor {
        key("province-office", &[Role::Supervisor])
    }

    fn evaluator() -> Actor {
        key("province-office", &[Role::Evaluator])
    }

    fn accountability(
        subject: events::vocab::Subject,
        body: &str,
    ) -> events::vocab::AccountabilityImposed {
        events::vocab::AccountabilityImposed {
            subject,
            body: id(body),
            persons: vec![text("handler"), text("deputy")],
            measure: text("criticism"),
        }
    }

    fn feedback(
        city: &str,
        d: Dimension,
        rating: u32,
        respondents: u32,
    ) -> events::vocab::EvaluationFeedbackRecorded {
        events::vocab::EvaluationFeedbackRecorded {
            source: events::vocab::FeedbackSource::Questionnaire,
            city: id(city),
            year: 2006,
            dimension: d,
            rating,
            respondents,
        }
    }

    fn point(city: &str, e: &str, county: &str) -> events::vocab::MonitoringPointNamed {
        events::vocab::MonitoringPointNamed {
            city: id(city),
            enterprise: id(e),
            county: text(county),
            year: 2006,
        }
    }

    fn project(p: &str, planned: i64) -> events::vocab::ProjectSigned {
        events::vocab::ProjectSigned {
            project: id(p),
            enterprise: id("taizinai"),
            city: id("zhuzhou"),
            occasion: text("Central China Expo"),
            planned_funds: fen(planned),
            leader: text("leader"),
            tracker: text("tracker"),
        }
    }

    /// A small Zhuzhou world for the spring of 2006 (see `city_record_figures`).
    fn zhuzhou_world() -> World {
        use events::vocab::{
            CompensationPaid, ComplaintRejected, Excuse, Milestone, ProjectFundsArrived,
            ProjectMilestoneReached, RatingSource, Subject,
        };
        let mut w = World::hunan();
        // c1: replied, resolved and rated on time, closed.
        w.file_and_refer("c1", "taizinai", "zz-office", "2006-02-24");
        w.ok(&handler(), "2006-02-27", first_reply("c1"));
        w.ok(&handler(), "2006-03-10", resolved("c1", 500_000));
        w.ok(
            &ent("taizinai"),
            "2006-03-11",
            rated("c1", Rating::Satisfied, RatingSource::Enterprise),
        );
        w.ok(&centre(), "2006-03-12", closed("c1"));
        // c2: never replied; extended in time (notices due 04-17, 04-30, 05-15; cap 06-01); none sent.
        w.file_and_refer("c2", "zz-other", "zz-office", "2006-03-01");
        w.ok(&handler(), "2006-03-20", extend("c2"));
        w.ok(
            &supervisor(),
            "2006-04-19",
            accountability(Subject::Case(id("c2")), "zz-office"),
        );
        // c3: rejected, not received.
        w.file("c3", "taizinai", "2006-03-02");
        w.ok(
            &centre(),
            "2006-03-02",
            ComplaintRejected {
                case: id("c3"),
                reason: text("not a complaint"),
            },
        );
        // c5: replied on time, result late (due Mon 04-03), basically satisfied.
        w.file_and_refer("c5", "taizinai", "zz-office", "2006-03-03");
        w.ok(&handler(), "2006-03-03", first_reply("c5"));
        w.ok(&handler(), "2006-04-10", resolved("c5", 20_000));
        w.ok(
            &ent("taizinai"),
            "2006-04-11",
            rated("c5", Rating::BasicallySatisfied, RatingSource::Enterprise),
        );
        // A Changsha case, never closed.
        w.file_and_refer("cs1", "dushi", "cs-office", "2006-03-01");
        // Promises: p1 breached after a change of government, compensated, accountability; p2 kept.
        let promisor = key("zz-aic", &[Role::Promisor]);
        w.ok(
            &promisor,
            "2006-01-10",
            promise_made("p1", "zz-aic", Some("taizinai")),
        );
        w.ok(
            &promisor,
            "2006-01-10",
            promise_made("p2", "zz-aic", Some("zz-other")),
        );
        w.ok(
            &promisor,
            "2006-03-05",
            breached("p1", Excuse::ChangeOfGovernment),
        );
        w.ok(
            &promisor,
            "2006-03-25",
            CompensationPaid {
                promise: id("p1"),
                amount: fen(300_000),
                to: id("taizinai"),
            },
        );
        w.ok(
            &supervisor(),
            "2006-03-26",
            accountability(Subject::Promise(id("p1")), "zz-aic"),
        );
        w.ok(&promisor, "2006-03-06", kept("p2"));
        let cs = key("cs-office", &[Role::Promisor]);
        w.ok(&cs, "2006-01-10", promise_made("cs-p", "cs-office", None));
        w.ok(&cs, "2006-03-06", kept("cs-p"));
        // Projects: 23,000 of 100,000 fen arrived; one of two started.
        let tracker = key("zz-office", &[Role::ProjectTracker]);
        w.ok(&tracker, "2006-03-01", project("pr1", 97_000));
        w.ok(&tracker, "2006-03-01", project("pr2", 3_000));
        w.ok(
            &tracker,
            "2006-03-15",
            ProjectMilestoneReached {
                project: id("pr1"),
                milestone: Milestone::Started,
                note: text("ground broken"),
            },
        );
        w.ok(
            &tracker,
            "2006-03-16",
            ProjectFundsArrived {
                project: id("pr1"),
                amount: fen(23_000),
            },
        );
        // Inspections: one compliant; one unapproved and unregistered, which
        // opens a derived case filed 04-20 (received, nothing due yet).
        w.compliant_inspection("i2", "zz-tax", "zz-other", &["tax"], "2006-03-15");
        w.ok(
            &key("zz-aic", &[Role::Inspector]),
            "2006-04-20",
            conducted("i1", "zz-aic", "taizinai", &["fire"]),
        );
        // Monitoring points: one by the 30 November deadline, one after.
        w.ok(
            &evaluator(),
            "2006-04-01",
            point("zhuzhou", "taizinai", "lusong"),
        );
        w.ok(
            &evaluator(),
            "2006-12-01",
            point("zhuzhou", "zz-other", "lusong"),
        );
        // Evaluation: awareness (80×3 + 90×1)/4 = 82.5 → 825‰; handling 70 → 700‰.
        w.ok(
            &evaluator(),
            "2006-12-10",
            feedback("zhuzhou", Dimension::ServiceAwareness, 80, 3),
        );
        w.ok(
            &evaluator(),
            "2006-12-10",
            feedback("zhuzhou", Dimension::ServiceAwareness, 90, 1),
        );
        w.ok(
            &evaluator(),
            "2006-12-10",
            feedback("zhuzhou", Dimension::ComplaintHandling, 70, 2),
        );
        w
    }

    /// Zhuzhou's record for the period from..=to, judged at the end of `at`.
    fn zhuzhou_record(w: &World, from: &str, to: &str, at: &str) -> CityRecord {
        city_record(
            &w.model,
            &Calendar::builtin(),
            &id("zhuzhou"),
            date(from),
            date(to),
            end(at, 0),
        )
    }

    /// R1 and R3 in the city record: a case withdrawn before its reply and
    /// result fell due missed neither; a result given before any reply
    /// answers the complaint; a case withdrawn only after both days ended
    /// missed both.
    #[test]
    fn withdrawn_cases_miss_only_what_fell_due_and_a_result_answers() {
        let withdrawn = |c: &str| events::vocab::ComplaintWithdrawn {
            case: id(c),
            reason: text("settled"),
        };
        let mut w = World::hunan();
        w.file_and_refer("w1", "taizinai", "zz-office", "2006-03-01");
        w.ok(&ent("taizinai"), "2006-03-02", withdrawn("w1"));
        w.file_and_refer("r1", "taizinai", "zz-office", "2006-03-01");
        w.ok(&handler(), "2006-03-02", resolved("r1", 0));
        w.file_and_refer("l1", "zz-other", "zz-office", "2006-03-01");
        w.ok(&ent("zz-other"), "2006-04-20", withdrawn("l1"));
        let r = zhuzhou_record(&w, "2006-01-01", "2006-12-31", "2006-05-01");
        assert_eq!(r.received, 3);
        assert_eq!(
            r.first_reply_on_time,
            Ratio::new(1, 2),
            "r1 answered by its result; l1 missed; w1 owed nothing"
        );
        assert_eq!(
            r.result_on_time,
            Ratio::new(1, 2),
            "r1 on time; l1 missed; w1 owed nothing"
        );
    }

    #[test]
    fn city_record_figures() {
        let w = zhuzhou_world();
        let r = zhuzhou_record(&w, "2006-01-01", "2006-12-31", "2006-04-20");
        let q = Ratio::new;
        // c1, c2, c5 and the derived case of i1; c3 rejected, cs1 in Changsha.
        assert_eq!(r.received, 4);
        assert_eq!(r.closure, q(1, 4));
        assert_eq!(r.first_reply_on_time, q(2, 3), "c1, c5 on time; c2 overdue");
        assert_eq!(
            r.result_on_time,
            q(1, 2),
            "c1 on time, c5 late; c2 extended to 06-01"
        );
        assert_eq!(r.progress_notices, q(0, 1), "c2's notice due 04-17");
        assert_eq!(r.open_overdue, q(1, 4));
        // c2 (imposed), c5 (not), p1 (imposed), i1 (not).
        assert_eq!(r.accountability_follow_through, q(2, 4));
        assert_eq!(r.satisfaction_strict, q(1, 2));
        assert_eq!(r.satisfaction_broad, q(2, 2));
        assert_eq!(r.losses_recovered, fen(520_000));
        assert_eq!(r.promises_kept, q(1, 2));
        assert_eq!(r.breaches_forbidden_excuse, q(1, 1));
        assert_eq!(r.compensation_paid, fen(300_000));
        assert_eq!(r.projects_started, q(1, 2));
        assert_eq!(r.project_funds, q(23_000, 100_000));
        assert_eq!(r.inspections_compliant, q(1, 2));
        assert_eq!(
            r.inspection_flags,
            FlagCounts {
                unapproved: 1,
                unregistered: 1,
                ..FlagCounts::default()
            }
        );
        assert_eq!(r.monitoring.count, 2);
        assert_eq!(r.monitoring.distinct_counties, 1);
        assert_eq!(r.monitoring.filed_by_deadline, q(1, 2));
        assert!(!r.monitoring.meets_minimum);
        let dims: Vec<u64> = r
            .evaluation
            .dimensions
            .iter()
            .map(|d| d.mean_permille)
            .collect();
        assert_eq!(dims, vec![825, 0, 0, 0, 700]);
        assert_eq!(r.evaluation.score_permille, 305);
        // JSON: every rate keeps numerator and denominator; money is integer fen.
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(
            json["closure"],
            serde_json::json!({"numerator": 1, "denominator": 4})
        );
        assert_eq!(json["losses_recovered"], serde_json::json!(520_000));
        // A period that ends before c5 was filed and an earlier `at`.
        let r = zhuzhou_record(&w, "2006-02-01", "2006-03-02", "2006-03-10");
        assert_eq!(r.received, 2);
        assert_eq!(r.result_on_time, q(1, 1));
        assert_eq!(r.first_reply_on_time, q(1, 2));
    }

    /// A case filed in late December and rejected in January was received
    /// in the year judged on 31 December; judged after the rejection, it
    /// was not.
    #[test]
    fn a_rejection_after_the_judged_moment_does_not_unreceive_a_case() {
        use events::vocab::ComplaintRejected;
        let mut w = World::hunan();
        w.file("late", "taizinai", "2006-12-28");
        w.ok(
            &centre(),
            "2007-01-05",
            ComplaintRejected {
                case: id("late"),
                reason: text("outside the centre's remit"),
            },
        );
        let record = |at: &str| {
            city_record(
                &w.model,
                &Calendar::builtin(),
                &id("zhuzhou"),
                date("2006-01-01"),
                date("2006-12-31"),
                end(at, 0),
            )
        };
        let r = record("2006-12-31");
        assert_eq!((r.received, r.closure), (1, Ratio::new(0, 1)));
        assert_eq!(record("2007-01-05").received, 0);
    }

    #[test]
    fn ranking_breaks_a_score_tie_by_closure_then_by_id() {
        let mut w = zhuzhou_world();
        w.body(
            "hengyang",
            events::vocab::BodyKind::CityGovernment,
            None,
            None,
            "2006-01-04",
        );
        w.body(
            "yueyang",
            events::vocab::BodyKind::CityGovernment,
            None,
            None,
            "2006-01-04",
        );
        w.ok(
            &evaluator(),
            "2006-12-10",
            feedback("hengyang", Dimension::LawEnforcement, 100, 1),
        );
        // Changsha: 800 + (70 + 75)/2 = 725 → (800 + 725) × 200 / 1000 = 305, Zhuzhou's score.
        w.ok(
            &evaluator(),
            "2006-12-10",
            feedback("changsha", Dimension::ServiceAttitude, 80, 1),
        );
        w.ok(
            &evaluator(),
            "2006-12-10",
            feedback("changsha", Dimension::LawEnforcement, 70, 1),
        );
        w.ok(
            &evaluator(),
            "2006-12-10",
            feedback("changsha", Dimension::LawEnforcement, 75, 1),
        );
        let rows = ranking(&w.model, &Calendar::builtin(), 2006, end("2006-12-31", 0));
        let got: Vec<(&str, u64, u32, bool)> = rows
            .iter()
            .map(|r| (r.city.as_str(), r.score_permille, r.rank, r.top_three))
            .collect();
        assert_eq!(
            got,
            vec![
                // Tie at 305: Zhuzhou closed 1 of 4, Changsha 0 of 1. No
                // city scored the 600‰ an award needs (R25), so none is
                // in the top three.
                ("zhuzhou", 305, 1, false),
                ("changsha", 305, 2, false),
                ("hengyang", 200, 3, false),
                // Tie at 0 with 0/0 closure: by id.
                ("xiangtan", 0, 4, false),
                ("yueyang", 0, 5, false),
            ]
        );
        assert_eq!(rows[0].closure, Ratio::new(1, 4));
        assert_eq!(rows[1].closure, Ratio::new(0, 1));
    }

    /// R24 with R25: a city that breached a promise on a forbidden excuse,
    /// one that scored under 600‰ and one without feedback keep their ranks
    /// but not a place in the top three, which passes down to the next
    /// eligible cities.
    #[test]
    fn top_three_r24_goes_to_the_first_three_cities_eligible_under_r25() {
        let mut w = zhuzhou_world();
        for city in ["hengyang", "yueyang", "changde", "loudi"] {
            w.body(
                city,
                events::vocab::BodyKind::CityGovernment,
                None,
                None,
                "2006-01-04",
            );
        }
        // Zhuzhou breached p1 on a change of government (`zhuzhou_world`).
        for (city, rating) in [
            ("zhuzhou", 95),
            ("changsha", 90),
            ("hengyang", 85),
            ("yueyang", 80),
            ("changde", 70),
            ("xiangtan", 50),
        ] {
            for d in DIMENSIONS {
                w.ok(&evaluator(), "2006-12-10", feedback(city, d, rating, 2));
            }
        }
        let rows = ranking(&w.model, &Calendar::builtin(), 2006, end("2006-12-31", 0));
        let got: Vec<(&str, u64, u32, bool, bool)> = rows
            .iter()
            .map(|r| {
                (
                    r.city.as_str(),
                    r.score_permille,
                    r.rank,
                    r.award_eligible,
                    r.top_three,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                // 95 on every dimension, with `zhuzhou_world`'s own feedback.
                ("zhuzhou", 908, 1, false, false),
                ("changsha", 900, 2, true, true),
                ("hengyang", 850, 3, true, true),
                ("yueyang", 800, 4, true, true),
                ("changde", 700, 5, true, false),
                ("xiangtan", 500, 6, false, false),
                ("loudi", 0, 7, false, false),
            ]
        );
        let why: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.ineligible_because.as_deref())
            .collect();
        assert_eq!(
            why[0],
            Some("1 promise breach(es) on a forbidden excuse in 2006")
        );
        assert_eq!(why[5], Some("evaluation score 500‰ is under 600‰"));
        assert_eq!(why[6], Some("no evaluation feedback recorded for 2006"));
    }

    #[test]
    fn enterprise_view_lists_cases_promises_and_inspections() {
        let w = zhuzhou_world();
        let cal = Calendar::builtin();
        let v = enterprise_view(&w.model, &cal, &id("taizinai"), end("2006-04-20", 0))
            .expect("enterprise");
        let cases: Vec<&str> = v.cases.iter().map(|c| c.id.as_str()).collect();
        assert!(cases.contains(&"c1") && cases.contains(&"c3") && cases.contains(&"c5"));
        assert!(!cases.contains(&"c2"));
        assert_eq!(v.promises.len(), 1);
        assert_eq!(v.promises[0].compensation_paid, fen(300_000));
        assert_eq!(v.inspections.len(), 1);
        assert!(!v.inspections[0].compliant && v.inspections[0].flags.unapproved);
        assert!(enterprise_view(&w.model, &cal, &id("nobody"), end("2006-04-20", 0)).is_none());
    }

    #[test]
    fn unknown_case_is_none() {
        let w = World::hunan();
        assert!(case_view(
            &w.model,
            &Calendar::builtin(),
            &id("nope"),
            end("2006-03-01", 0)
        )
        .is_none());
    }
}
