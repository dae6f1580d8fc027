//! One integration-test binary (matklad, "Delete Cargo Integration Tests").

mod append;
mod browser;
mod cli;
mod crash;
mod demo;
mod http;
mod parse;
mod projection;
mod receipt;
mod recount;
mod replay;
mod rules;
mod scenario;
mod strace;
mod support;
mod tamper;
