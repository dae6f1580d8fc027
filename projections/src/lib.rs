//! Pure folds of verified ledger records into read models.
//!
//! Module map:
//! - [`calendar`]: the official Chinese working-day calendar and deadline arithmetic.
//! - [`model`]: the domain state folded from records (`Model::apply`, which
//!   cannot fail): bodies, enterprises, cases, promises, inspections, projects,
//!   monitoring points, evaluation feedback, accountability, rule parameters,
//!   corrections; `Model::digest` fingerprints it.
//! - [`rules`]: the rules of DOMAIN.md checked before a record is appended
//!   (`rules::check`), their stable codes (`rules::RULE_CODES`), the flags
//!   recorded instead of refused, and the derived complaint a flagged
//!   inspection opens (`rules::derived_complaint`).
//! - [`views`]: read models at an evaluation time: a case's deadlines and
//!   overdue flags, a city's accountability record, the yearly ranking, an
//!   enterprise's file.
//!
//! Architecture invariant: no IO, no clock, no randomness; the evaluation time
//! is always a parameter. `check` reads the model, `apply` writes it: the
//! sequencer calls them in that order for every record, and a replay calls
//! only `apply`.

pub mod calendar;
pub mod evidence;
pub mod list;
pub mod model;
pub mod rules;
pub mod table;
pub mod views;

#[cfg(test)]
mod testkit;
