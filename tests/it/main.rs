//! One integration-test binary (matklad, "Delete Cargo Integration Tests").

mod append;
mod crash;
mod projection;
mod recount;
mod replay;
mod rules;
mod strace;
mod support;
mod tamper;
