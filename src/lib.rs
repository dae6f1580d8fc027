//! The ledger service: everything that touches disk, clock and keys on disk.
//!
//! Module map:
//! - [`log`]: the append-only segment log with checksummed frames (source of truth).
//! - [`hashes`]: the Merkle hash store (derived; tlog-tiles order).
//! - [`ledger`]: opening a data directory, the sequencer (single writer, group commit), receipts and reads.
//! - [`keyfile`]: secret key files (0600).
//! - [`audit`]: offline verification of a data directory or an export, on all cores.
//! - [`generate`]: realistic signed histories through the normal append path.
//! - [`progress`]: a text progress bar on stderr for long runs.
//! - [`bench`]: `ledger bench`, figures with baselines measured in the same run.
//! - [`cli`]: the `ledger` command line.

pub mod audit;
pub mod bench;
pub mod cli;
pub mod demo;
pub mod generate;
pub mod hashes;
pub mod idfilter;
pub mod keyfile;
pub mod ledger;
pub mod log;
pub mod parallel;
pub mod progress;
pub mod projstore;
pub mod reads;
pub mod scenario;
pub mod serve;
