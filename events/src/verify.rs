//! The offline verifier: checks a sequence of leaves as the sequencer checked
//! them when it appended them, plus everything the operator could have changed
//! afterwards (chain links, seq order, Merkle roots against signed checkpoints).
//!
//! It is split in stages so that a caller can run the expensive, independent
//! parts on all cores: [`parse_leaf`] (stateless), then [`ChainVerifier::link`]
//! (sequential: links and the key registry as it stood at each seq), then
//! [`crate::statement::verify_signature`] (stateless again).

use crate::checkpoint::Checkpoint;
use crate::codes::{Code, Rejection};
use crate::keys::PublicKey;
use crate::merkle::{self, Hash, RootBuilder};
use crate::record::{ChainHash, Record, GENESIS_PREV};
use crate::registry::Registry;
use crate::time::Timestamp;
use ed25519_dalek::VerifyingKey;
use std::fmt;

/// The first thing wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The seq of the first bad record (or the size at which a checkpoint disagrees).
    pub seq: u64,
    pub code: Code,
    pub message: String,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {}: {}: {}", self.seq, self.code, self.message)
    }
}

impl std::error::Error for VerifyError {}

impl VerifyError {
    pub fn new(seq: u64, code: Code, message: impl Into<String>) -> VerifyError {
        VerifyError {
            seq,
            code,
            message: message.into(),
        }
    }
    fn at(seq: u64, r: Rejection) -> VerifyError {
        VerifyError {
            seq,
            code: r.code,
            message: r.message,
        }
    }
}

/// A leaf parsed and hashed, ready to be linked.
#[derive(Clone, Debug)]
pub struct ParsedLeaf {
    pub record: Record,
    pub leaf_hash: Hash,
    pub chain_hash: ChainHash,
}

/// Parses one leaf (stateless). `position` is where it stands in the sequence,
/// used to name the seq when the leaf is too damaged to read its own;
/// `chain_hash` is the leaf's ([`crate::record::chain_hash`]; a log reader has it
/// already, from checking the frame). The statement's canonical bytes stay in
/// `bytes`: the record's `signed.bytes` is empty, and the range says where
/// they are, for the signature check.
pub fn parse_leaf(
    bytes: &[u8],
    position: u64,
    chain_hash: ChainHash,
) -> Result<(ParsedLeaf, std::ops::Range<usize>), VerifyError> {
    let p = Record::parse_in_place(bytes).map_err(|r| VerifyError::at(position, r))?;
    Ok((
        ParsedLeaf {
            record: p.record,
            leaf_hash: merkle::leaf_hash(bytes),
            chain_hash,
        },
        p.statement_bytes,
    ))
}

/// The sequential part of verification.
pub struct ChainVerifier {
    next_seq: u64,
    prev: ChainHash,
    last_recorded_at: Option<Timestamp>,
    registry: Option<Registry>,
    tree: RootBuilder,
    trusted_root: Option<PublicKey>,
    /// Statement ids seen: an id is used once (retries return the original receipt).
    ids: std::collections::HashSet<String>,
}

impl ChainVerifier {
    /// `trusted_root`: the root authority key the auditor trusts, if any; genesis
    /// must name it.
    pub fn new(trusted_root: Option<PublicKey>) -> ChainVerifier {
        ChainVerifier {
            next_seq: 0,
            prev: GENESIS_PREV,
            last_recorded_at: None,
            registry: None,
            tree: RootBuilder::new(),
            trusted_root,
            ids: std::collections::HashSet::new(),
        }
    }

    /// Makes room for the ids of about `records` more records, so that the id
    /// set does not rehash its way up while a large log is verified.
    pub fn reserve(&mut self, records: usize) {
        self.ids.reserve(records);
    }

    /// Number of records linked so far (the tree size).
    pub fn size(&self) -> u64 {
        self.next_seq
    }

    /// The Merkle root of the records linked so far.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// The chain hash of the last record linked.
    pub fn head(&self) -> ChainHash {
        self.prev
    }

    pub fn registry(&self) -> Option<&Registry> {
        self.registry.as_ref()
    }

    /// Links the next record: seq order, chain, clock, origin and the key
    /// registry at this seq. Returns the key its signature must verify under;
    /// the caller checks the signature (possibly on another thread).
    pub fn link(&mut self, leaf: &ParsedLeaf) -> Result<VerifyingKey, VerifyError> {
        let r = &leaf.record;
        let want = self.next_seq;
        if r.seq != want {
            return Err(VerifyError::new(
                want,
                Code::SeqMismatch,
                format!("expected seq {want}, found seq {}: a record was deleted, inserted or reordered", r.seq),
            ));
        }
        if r.prev != self.prev {
            return Err(VerifyError::new(
                want,
                Code::ChainBroken,
                "prev is not the chain hash of the record before it".to_string(),
            ));
        }
        if let Some(last) = self.last_recorded_at {
            if r.recorded_at < last {
                return Err(VerifyError::new(
                    want,
                    Code::RecordedAtRefused,
                    format!(
                        "recorded_at {} is before the previous record's {last}",
                        r.recorded_at
                    ),
                ));
            }
        }
        let stmt = &r.signed.statement;
        if !self.ids.insert(stmt.id.clone()) {
            return Err(VerifyError::new(
                want,
                Code::IdConflict,
                format!("statement id {:?} appears a second time", stmt.id),
            ));
        }
        crate::registry::check_issued_at(stmt.issued_at, r.recorded_at)
            .map_err(|e| VerifyError::at(want, e))?;
        let key = match &mut self.registry {
            None => {
                let reg = Registry::genesis(stmt).map_err(|e| VerifyError::at(want, e))?;
                let root_key = match &stmt.event {
                    crate::vocab::Event::LedgerGenesis(g) => g.root_key,
                    _ => unreachable!("Registry::genesis accepts only ledger_genesis"),
                };
                if let Some(trusted) = &self.trusted_root {
                    if *trusted != root_key {
                        return Err(VerifyError::new(
                            0,
                            Code::UntrustedRoot,
                            format!("genesis names root key {root_key}, not the root key you trust ({trusted})"),
                        ));
                    }
                }
                self.registry = Some(reg);
                root_key.0
            }
            Some(reg) => {
                let entry = reg
                    .authorise(stmt, want)
                    .map_err(|e| VerifyError::at(want, e))?;
                let key = entry.public.0;
                reg.check_effects(stmt)
                    .map_err(|e| VerifyError::at(want, e))?;
                reg.apply(stmt, want);
                key
            }
        };
        self.prev = leaf.chain_hash;
        self.last_recorded_at = Some(r.recorded_at);
        self.tree.push(leaf.leaf_hash);
        self.next_seq += 1;
        Ok(key)
    }

    /// Checks a checkpoint taken exactly at the current size.
    pub fn check_checkpoint(&self, cp: &Checkpoint) -> Result<(), VerifyError> {
        let at = self.next_seq.saturating_sub(1);
        if cp.size != self.next_seq {
            return Err(VerifyError::new(
                at,
                Code::RootMismatch,
                format!(
                    "checkpoint covers {} records but {} were read",
                    cp.size, self.next_seq
                ),
            ));
        }
        if let Some(reg) = &self.registry {
            if cp.origin != reg.origin {
                return Err(VerifyError::new(
                    at,
                    Code::BadCheckpoint,
                    format!(
                        "checkpoint origin {:?} is not the ledger's {:?}",
                        cp.origin, reg.origin
                    ),
                ));
            }
        }
        if cp.root != self.tree.root() {
            return Err(VerifyError::new(
                at,
                Code::RootMismatch,
                format!(
                    "the Merkle root of the first {} records differs from the signed checkpoint",
                    cp.size
                ),
            ));
        }
        Ok(())
    }
}
