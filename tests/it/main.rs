//! One integration-test binary (matklad, "Delete Cargo Integration Tests").

mod append;
mod crash;
mod strace;
mod support;
mod tamper;
