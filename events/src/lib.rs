//! The ledger's specification, as code: everything an auditor needs to check an
//! export without trusting the operator, and nothing that touches the outside world.
//!
//! Module map:
//! - [`jcs`]: RFC 8785 canonical JSON (strict parser and serializer): the bytes we sign and hash.
//! - [`time`]: strict date and time types (`Date`, `Timestamp`, `OffsetTime`).
//! - [`codec`]: hex and base64 helpers shared by every format.
//! - [`keys`]: actor key ids (full SHA-256 of the public key) and key text forms.
//! - [`vocab`]: the event vocabulary v1: every event type, its schema version and body.
//! - [`statement`]: what an actor signs, its canonical bytes and its Ed25519 signature.
//! - [`record`]: what the ledger appends: seq, `recorded_at`, chain link, statement, signature.
//! - [`merkle`]: RFC 6962 Merkle tree, proofs and C2SP tlog-tiles layout.
//! - [`note`], [`checkpoint`]: C2SP signed notes and tlog checkpoints.
//! - [`codes`]: the stable rejection codes shared by the CLI, the HTTP service and the rules.
//! - [`registry`]: the key registry as it stands at each seq, and who may sign what.
//! - [`verify`]: the offline verifier of a sequence of records against checkpoints.
//!
//! Architecture invariant: this crate does no IO, reads no clock and draws no
//! randomness; every function is deterministic in its arguments.

pub mod checkpoint;
pub mod codec;
pub mod codes;
pub mod jcs;
pub mod keys;
pub mod merkle;
pub mod note;
pub mod record;
pub mod registry;
pub mod statement;
pub mod time;
pub mod verify;
pub mod vocab;
