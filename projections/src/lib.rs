//! Pure folds of verified ledger records into read models.
//!
//! Module map:
//! - [`calendar`]: the official Chinese working-day calendar and deadline arithmetic.
//!
//! Architecture invariant: no IO, no clock, no randomness; the evaluation time
//! is always a parameter.

pub mod calendar;
