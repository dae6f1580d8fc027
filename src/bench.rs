//! `ledger bench`: throughput figures, each next to a baseline measured in the same run.

use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Records for the verification benchmark.
    #[arg(long, default_value_t = 1_000_000)]
    pub verify_records: u64,
}

pub fn run(_args: BenchArgs) -> Result<ExitCode> {
    anyhow::bail!("bench is being written")
}
