//! Offline verification of a data directory or an export, on all cores.
//!
//! Verification uses exactly the append-time checks (`events::verify`): every
//! signature with `verify_strict` against the key registry as it stood at that
//! record, every chain link, and every Merkle root against signed checkpoints.
//! No batch verification: each signature is checked on its own.

use crate::log::{self, FrameReader, FRAME_RECORD};
use ed25519_dalek::VerifyingKey;
use events::checkpoint::{Checkpoint, SignedCheckpoint};
use events::codes::Code;
use events::keys::{KeyId, PublicKey};
use events::merkle::Hash;
use events::note::NoteVerifier;
use events::record::{self as record, ChainHash};
use events::statement::{verify_signature, verify_signature_in};
use events::verify::{parse_leaf, ChainVerifier, ParsedLeaf, VerifyError};
use events::vocab::Clock;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Leaves verified per parallel step.
const CHUNK: usize = 8192;
/// Chunks in the parallel stage while this thread links the one before them.
const IN_FLIGHT: usize = 2;

/// What a sound ledger looks like.
#[derive(Debug, Clone)]
pub struct AuditReport {
    pub origin: String,
    pub records: u64,
    pub checkpoints: u64,
    pub root: Hash,
    pub clock: Clock,
    /// Bytes after the last checkpoint frame, never acknowledged (data directories only).
    pub unacknowledged_tail: Option<String>,
    /// The older checkpoint the history was shown consistent with.
    pub consistent_with: Option<u64>,
    /// The root authority's public key that genesis names.
    pub root_key: Option<PublicKey>,
}

/// Why verification failed: a finding about the data, or an error reading it.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The data is not sound: the first bad seq and why.
    #[error("{0}")]
    Finding(#[from] VerifyError),
    #[error("{} is not a ledger data directory (no log/)", .0.display())]
    NotADataDir(std::path::PathBuf),
    #[error("verifying an export needs the ledger's checkpoint key (--key)")]
    NoCheckpointKey,
    #[error(transparent)]
    Log(#[from] log::LogError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl AuditError {
    /// A finding about the data (exit 1), not an error reading it (exit 2).
    pub fn is_finding(&self) -> bool {
        matches!(self, AuditError::Finding(_))
    }
}

fn finding(seq: u64, code: Code, m: impl Into<String>) -> AuditError {
    AuditError::Finding(VerifyError::new(seq, code, m))
}

/// `frame`, a finding of the frame reader at the records read so far,
/// unless one of those records holds a finding of its own: they are
/// verified first, so that the first finding in seq order is the one
/// reported (FORMAT.md §19).
fn after_records(engine: &mut Engine, chunk: Chunk, frame: AuditError) -> AuditError {
    match engine.feed(chunk).and_then(|()| engine.drain()) {
        Err(earlier) => earlier,
        Ok(()) => frame,
    }
}

/// An item of the verified stream, by where its bytes are in its chunk.
enum Item {
    /// A leaf, with its chain hash when the reader computed it already.
    Leaf(Range<usize>, Option<ChainHash>),
    /// A signed checkpoint note expected to cover exactly the leaves before it.
    Checkpoint(Range<usize>),
}

/// Items read together: their bytes in one buffer (no allocation per leaf),
/// kept for the next chunk once linked.
struct Chunk {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

impl Chunk {
    fn leaves(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, Item::Leaf(..)))
            .count()
    }

    fn push_checkpoint(&mut self, note: &[u8]) {
        let at = self.bytes.len();
        self.bytes.extend_from_slice(note);
        self.items.push(Item::Checkpoint(at..self.bytes.len()));
    }
}

/// Options common to both sources.
#[derive(Default, Clone)]
pub struct AuditOptions {
    /// The root authority key the auditor trusts.
    pub trusted_root: Option<PublicKey>,
    /// The checkpoint verifier key the auditor trusts (exports); data
    /// directories use the one genesis names unless this is given.
    pub checkpoint_key: Option<NoteVerifier>,
    /// An older signed checkpoint the auditor kept.
    pub since: Option<Vec<u8>>,
    /// Threads; 0 means all cores.
    pub threads: usize,
    /// Show progress on a terminal.
    pub progress: bool,
}

struct Engine {
    chain: ChainVerifier,
    threads: usize,
    verifier: Option<NoteVerifier>,
    since: Option<Checkpoint>,
    since_note: Option<Vec<u8>>,
    consistent_with: Option<u64>,
    checkpoints: u64,
    /// Shown on a terminal when asked for; the total is an estimate from file sizes.
    progress: Option<crate::progress::Progress>,
    /// Leaves handed to the parallel stage so far.
    fed: u64,
    /// Public keys of every grant fed so far (an id never names two keys).
    keys: std::sync::Arc<HashMap<KeyId, VerifyingKey>>,
    /// Chunks handed to the parallel stage and not yet linked, oldest first.
    pending: std::collections::VecDeque<Stage1>,
    /// A linked chunk's buffers, for the next one.
    spare: Option<Chunk>,
    /// A linked chunk's answer vectors, still holding its answers: the next
    /// chunk's workers drop them and write theirs in.
    spare_answers: Vec<Vec<Pre>>,
}

/// What the parallel stage found about one item. Checkpoints are rare and the
/// values are moved once, so the size difference costs nothing worth a box
/// (boxing the parsed leaf measured about 1.5 % more CPU in all).
#[allow(clippy::large_enum_variant)]
enum Pre {
    Leaf(Result<(ParsedLeaf, Sig), VerifyError>),
    /// Whether the checkpoint note verifies, when the checkpoint key was known.
    Checkpoint(Option<bool>),
}

enum Sig {
    Checked(bool),
    KeyUnknown,
}

/// The parallel stage of one chunk: parse, hash and check signatures on worker threads.
struct Stage1 {
    chunk: Arc<Chunk>,
    handles: Vec<std::thread::JoinHandle<Vec<Pre>>>,
}

impl Stage1 {
    fn spawn(
        chunk: Chunk,
        base: u64,
        keys: Arc<HashMap<KeyId, VerifyingKey>>,
        verifier: Option<NoteVerifier>,
        threads: usize,
        mut answers: Vec<Vec<Pre>>,
    ) -> Stage1 {
        let chunk = Arc::new(chunk);
        // Leaf positions: the seq each leaf should have, to name unreadable ones.
        let mut positions = Vec::with_capacity(chunk.items.len());
        let mut n = base;
        for it in chunk.items.iter() {
            positions.push(n);
            if matches!(it, Item::Leaf(..)) {
                n += 1;
            }
        }
        let positions = Arc::new(positions);
        let parts = threads.max(1);
        let per_part = chunk.items.len().div_ceil(parts).max(1);
        let handles = (0..parts)
            .map(|t| {
                let (chunk, positions, keys, verifier) = (
                    chunk.clone(),
                    positions.clone(),
                    keys.clone(),
                    verifier.clone(),
                );
                let mut out = answers.pop().unwrap_or_default();
                let mut message = Vec::with_capacity(4096);
                std::thread::spawn(move || {
                    let lo = (t * per_part).min(chunk.items.len());
                    let hi = ((t + 1) * per_part).min(chunk.items.len());
                    // Into the vector an earlier chunk's answers were in
                    // (megabytes not allocated and freed again per chunk),
                    // dropping those answers here, off the linking thread.
                    out.clear();
                    out.extend(chunk.items[lo..hi].iter().zip(&positions[lo..hi]).map(
                        |(it, pos)| match it {
                            Item::Leaf(range, chain) => Pre::Leaf({
                                let b = &chunk.bytes[range.clone()];
                                let chain = chain.unwrap_or_else(|| record::chain_hash(b));
                                // The signature is checked over the statement's
                                // bytes where they are in the chunk: no copy.
                                parse_leaf(b, *pos, chain).map(|(mut p, stmt)| {
                                    let sig = match keys.get(&p.record.signed.statement.actor) {
                                        Some(k) => Sig::Checked(verify_signature_in(
                                            &mut message,
                                            k,
                                            &b[stmt],
                                            &p.record.signed.signature,
                                        )),
                                        // Checked when linked, once the key is known.
                                        None => {
                                            p.record.signed.bytes = b[stmt].to_vec();
                                            Sig::KeyUnknown
                                        }
                                    };
                                    (p, sig)
                                })
                            }),
                            Item::Checkpoint(range) => {
                                Pre::Checkpoint(verifier.as_ref().map(|v| {
                                    let note = &chunk.bytes[range.clone()];
                                    log::checkpoint_of_note(note).is_some_and(|cp| {
                                        SignedCheckpoint::open(note, v, &cp.origin).is_ok()
                                    })
                                }))
                            }
                        },
                    ));
                    out
                })
            })
            .collect();
        Stage1 { chunk, handles }
    }

    /// The items and what the workers found, one part per worker in item
    /// order (not gathered into one vector: a `Pre` is large, and each move
    /// of a chunk's worth was a copy of megabytes).
    fn join(self) -> (Arc<Chunk>, Vec<Vec<Pre>>) {
        let pres = self
            .handles
            .into_iter()
            // A panic in a check is a bug: it is raised here, never taken for
            // an empty part (the items after it would go unchecked, and the
            // records before them could be reported sound).
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (self.chunk, pres)
    }
}

impl Engine {
    fn new(opts: AuditOptions, total_hint: u64) -> Engine {
        let threads = if opts.threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            opts.threads
        };
        let progress = opts
            .progress
            .then(|| crate::progress::Progress::new("verifying", total_hint.max(1)));
        let mut chain = ChainVerifier::new(opts.trusted_root);
        // The hint is an estimate from file sizes; at most 2M ids (about
        // 50 MB) up front, in case a file is much larger than its records.
        chain.reserve(total_hint.min(1 << 21) as usize);
        Engine {
            chain,
            verifier: opts.checkpoint_key.clone(),
            since_note: opts.since.clone(),
            threads,
            since: None,
            consistent_with: None,
            checkpoints: 0,
            progress,
            fed: 0,
            keys: Arc::new(HashMap::new()),
            pending: std::collections::VecDeque::new(),
            spare: None,
            spare_answers: Vec::new(),
        }
    }

    /// Hands a chunk to the parallel stage and runs the sequential stage of
    /// the oldest chunk in flight, so that both cores stay busy: while worker
    /// threads parse and check signatures of chunks k+1 and k+2, this thread
    /// links chunk k.
    fn feed(&mut self, chunk: Chunk) -> Result<(), AuditError> {
        let base = self.fed;
        self.fed += chunk.leaves() as u64;
        self.learn_keys(&chunk);
        let answers = std::mem::take(&mut self.spare_answers);
        let job = Stage1::spawn(
            chunk,
            base,
            self.keys.clone(),
            self.verifier.clone(),
            self.threads,
            answers,
        );
        self.pending.push_back(job);
        // Two chunks stay in flight: when one worker of a chunk finishes
        // before the other, the next chunk's workers use the idle core.
        while self.pending.len() > IN_FLIGHT {
            let Some(prev) = self.pending.pop_front() else {
                break;
            };
            self.link(prev)?;
        }
        Ok(())
    }

    /// Adds the keys granted in `items` (and those genesis names) to the map
    /// the workers check signatures with, before the chunk is linked, so that
    /// a key used soon after its grant is not checked on this thread. A key id
    /// is the SHA-256 of its public key (a grant whose id does not match does
    /// not decode), so a key learned ahead of its grant is never the wrong
    /// key; whether the actor may use it at that seq is still decided in
    /// `link`, against the registry as it stood there.
    fn learn_keys(&mut self, chunk: &Chunk) {
        let mut learned = Vec::new();
        for item in &chunk.items {
            let Item::Leaf(range, _) = item else { continue };
            let b = &chunk.bytes[range.clone()];
            if !(log::is_of_type(b, "key_granted") || log::is_of_type(b, "ledger_genesis")) {
                continue;
            }
            // An unreadable record is named by the parallel stage.
            let Ok(r) = events::record::Record::parse(b) else {
                continue;
            };
            match &r.signed.statement.event {
                events::vocab::Event::KeyGranted(k) => learned.push((k.key, k.public_key.0)),
                events::vocab::Event::LedgerGenesis(g) => {
                    learned.push((g.root_key.id(), g.root_key.0));
                    learned.push((g.system_key.id(), g.system_key.0));
                }
                _ => {}
            }
        }
        if !learned.is_empty() {
            Arc::make_mut(&mut self.keys).extend(learned);
        }
    }

    /// Finishes the chunk still in flight.
    fn drain(&mut self) -> Result<(), AuditError> {
        while let Some(prev) = self.pending.pop_front() {
            self.link(prev)?;
        }
        Ok(())
    }

    /// The sequential stage: links, registry, checkpoint roots; findings in seq order.
    fn link(&mut self, job: Stage1) -> Result<(), AuditError> {
        let (chunk, pres) = job.join();
        assert_eq!(
            pres.iter().map(Vec::len).sum::<usize>(),
            chunk.items.len(),
            "every item of a chunk has its worker's answer"
        );
        for (item, pre) in chunk.items.iter().zip(pres.iter().flatten()) {
            match (item, pre) {
                (Item::Leaf(..), Pre::Leaf(r)) => {
                    let (p, sig) = r.as_ref().map_err(|e| AuditError::Finding(e.clone()))?;
                    let seq = p.record.seq;
                    let key = self.chain.link(p)?;
                    let ok = match sig {
                        Sig::Checked(ok) => *ok,
                        // No grant of the key was seen before or in this
                        // chunk; `link` found it valid all the same.
                        Sig::KeyUnknown => verify_signature(
                            &key,
                            &p.record.signed.bytes,
                            &p.record.signed.signature,
                        ),
                    };
                    if !ok {
                        return Err(finding(
                            seq,
                            Code::BadSignature,
                            format!("signature of seq {seq} does not verify under the actor's key"),
                        ));
                    }
                    if seq == 0 {
                        self.adopt_checkpoint_key()?;
                    }
                    self.check_since()?;
                }
                (Item::Checkpoint(range), Pre::Checkpoint(pre_ok)) => {
                    let note = &chunk.bytes[range.clone()];
                    let at = self.chain.size().saturating_sub(1);
                    let cp = log::checkpoint_of_note(note).ok_or_else(|| {
                        finding(
                            at,
                            Code::BadCheckpoint,
                            "a checkpoint frame does not hold a checkpoint",
                        )
                    })?;
                    self.chain.check_checkpoint(&cp)?;
                    let ok = match (pre_ok, &self.verifier) {
                        (Some(ok), _) => *ok,
                        (None, Some(v)) => SignedCheckpoint::open(note, v, &cp.origin).is_ok(),
                        (None, None) => false,
                    };
                    if !ok
                        || Some(cp.origin.as_str())
                            != self.chain.registry().map(|r| r.origin.as_str())
                    {
                        return Err(finding(at, Code::BadCheckpoint, format!("checkpoint after seq {at} is not signed by the ledger's checkpoint key")));
                    }
                    self.checkpoints += 1;
                }
                _ => unreachable!("stage 1 answers each item with its own kind"),
            }
        }
        self.show_progress();
        // The workers are done with it: its buffers serve the next chunk, and
        // the answers' vectors the next chunk's answers: its workers drop
        // these answers first, off this thread (about 1 % less CPU in all
        // than dropping each record here once linked).
        self.spare_answers = pres;
        if let Ok(mut c) = Arc::try_unwrap(chunk) {
            c.bytes.clear();
            c.items.clear();
            self.spare = Some(c);
        }
        Ok(())
    }

    /// An empty chunk, with the buffers of one already linked when there is one.
    fn empty_chunk(&mut self) -> Chunk {
        self.spare.take().unwrap_or_else(|| Chunk {
            bytes: Vec::with_capacity(CHUNK * 800),
            items: Vec::with_capacity(CHUNK + 1),
        })
    }

    /// After genesis: take the checkpoint key it names, or check it against the one given.
    fn adopt_checkpoint_key(&mut self) -> Result<(), VerifyError> {
        let Some(reg) = self.chain.registry() else {
            return Ok(());
        };
        match &self.verifier {
            None => {
                let v = NoteVerifier::from_vkey(&reg.checkpoint_key).map_err(|e| {
                    VerifyError::new(
                        0,
                        Code::BadCheckpoint,
                        format!("genesis names a malformed checkpoint key: {e}"),
                    )
                })?;
                self.verifier = Some(v);
            }
            Some(v) if reg.checkpoint_key != v.to_vkey() => {
                return Err(VerifyError::new(
                    0,
                    Code::BadCheckpoint,
                    format!(
                        "genesis names checkpoint key {}, not the key you gave ({})",
                        reg.checkpoint_key,
                        v.to_vkey()
                    ),
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }

    fn check_since(&mut self) -> Result<(), VerifyError> {
        if self.since.is_none() {
            if let (Some(note), Some(v)) = (&self.since_note, &self.verifier) {
                let origin = self
                    .chain
                    .registry()
                    .map(|r| r.origin.clone())
                    .unwrap_or_default();
                let cp = SignedCheckpoint::open(note, v, &origin).map_err(|e| {
                    VerifyError::new(
                        0,
                        Code::BadCheckpoint,
                        format!("the older checkpoint you kept does not verify: {e}"),
                    )
                })?;
                self.since = Some(cp.checkpoint);
            }
        }
        if let Some(old) = &self.since {
            // The ledger never signs an empty tree, but a size-0 checkpoint
            // is an honest statement about the empty prefix of any log.
            if self.consistent_with.is_none() && old.size == 0 {
                if old.root != events::merkle::empty_root() {
                    return Err(VerifyError::new(
                        0,
                        Code::Inconsistent,
                        "the checkpoint you kept is of size 0 but its root is not the empty tree's",
                    ));
                }
                self.consistent_with = Some(0);
            }
            if self.consistent_with.is_none() && self.chain.size() == old.size {
                if self.chain.root() != old.root {
                    return Err(VerifyError::new(
                        old.size - 1,
                        Code::Inconsistent,
                        format!(
                            "the first {} records do not hash to the root of the checkpoint you kept: history before seq {} was rewritten",
                            old.size, old.size
                        ),
                    ));
                }
                self.consistent_with = Some(old.size);
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), AuditError> {
        if let Some(note) = &self.since_note {
            if self.since.is_none() {
                // Not reached: parse it now to say how far short the records fall.
                let cp = log::checkpoint_of_note(note).ok_or_else(|| {
                    finding(
                        0,
                        Code::BadCheckpoint,
                        "the older checkpoint you kept is not a checkpoint",
                    )
                })?;
                self.since = Some(cp);
            }
            if let Some(old) = &self.since {
                if self.consistent_with.is_none() {
                    let size = self.chain.size();
                    return Err(finding(
                        size,
                        Code::Truncated,
                        format!("the records end at seq {} but the checkpoint you kept covers {} records: the tail was truncated", size.saturating_sub(1), old.size),
                    ));
                }
            }
        }
        if let Some(p) = &mut self.progress {
            p.finish();
        }
        Ok(())
    }

    fn show_progress(&mut self) {
        let n = self.chain.size();
        if let Some(p) = &mut self.progress {
            p.set(n);
        }
    }

    fn report(&self, unacknowledged_tail: Option<String>) -> AuditReport {
        AuditReport {
            origin: self
                .chain
                .registry()
                .map(|r| r.origin.clone())
                .unwrap_or_default(),
            records: self.chain.size(),
            checkpoints: self.checkpoints,
            root: self.chain.root(),
            clock: self.chain.registry().map_or(Clock::Real, |r| r.clock),
            unacknowledged_tail,
            consistent_with: self.consistent_with,
            root_key: self
                .chain
                .registry()
                .and_then(|r| r.key(&r.root))
                .map(|e| e.public),
        }
    }
}

/// Verifies a data directory read-only: every frame's checksum, every record,
/// and every checkpoint frame (root and signature).
pub fn verify_data_dir(dir: &Path, opts: AuditOptions) -> Result<AuditReport, AuditError> {
    let log_dir = dir.join("log");
    if !log_dir.is_dir() {
        return Err(AuditError::NotADataDir(dir.to_path_buf()));
    }
    let segs = log::list_segments(&log_dir)?;
    let total: u64 = segs
        .iter()
        .filter_map(|(_, p)| std::fs::metadata(p).ok())
        .map(|m| m.len() / 700)
        .sum();
    let mut engine = Engine::new(opts, total);
    let mut chunk = engine.empty_chunk();
    let mut leaves_in_chunk = 0usize;
    let mut pending_after_cp = 0u64;
    let mut tail = None;
    let nsegs = segs.len();
    for (si, (first, path)) in segs.into_iter().enumerate() {
        // As start-up checks (`log::scan`): a segment is named by the
        // number of records before it, and every segment but the last ends
        // with a checkpoint frame.
        let before = engine.fed + chunk.leaves() as u64;
        if first != before {
            let frame = finding(
                before,
                Code::DamagedFrame,
                format!(
                    "{}: the segment is named for seq {first} but {before} records precede it",
                    path.display()
                ),
            );
            return Err(after_records(&mut engine, chunk, frame));
        }
        if si > 0 && pending_after_cp != 0 {
            let frame = finding(
                before,
                Code::DamagedFrame,
                format!(
                    "{}: the segment before it ends with {pending_after_cp} record frames after its last checkpoint frame; only the last segment may",
                    path.display()
                ),
            );
            return Err(after_records(&mut engine, chunk, frame));
        }
        let mut r = FrameReader::open(&path)?;
        loop {
            match r.next_frame_into(&mut chunk.bytes) {
                Ok(None) => break,
                Ok(Some(f)) => {
                    if f.kind == FRAME_RECORD {
                        chunk.items.push(Item::Leaf(f.range, f.chain_hash));
                        leaves_in_chunk += 1;
                        pending_after_cp += 1;
                    } else {
                        chunk.items.push(Item::Checkpoint(f.range));
                        pending_after_cp = 0;
                        if leaves_in_chunk >= CHUNK {
                            let next = engine.empty_chunk();
                            engine.feed(std::mem::replace(&mut chunk, next))?;
                            leaves_in_chunk = 0;
                        }
                    }
                }
                Err((offset, reason)) => {
                    let seq = engine.fed + chunk.leaves() as u64;
                    if si + 1 < nsegs {
                        let frame = finding(
                            seq,
                            Code::DamagedFrame,
                            format!("{} byte {offset}: {reason}", path.display()),
                        );
                        return Err(after_records(&mut engine, chunk, frame));
                    }
                    tail = Some((seq, offset, reason));
                    break;
                }
            }
        }
    }
    // Records after the last checkpoint frame were never acknowledged: they are
    // not verified as part of the ledger, but damage before a checkpoint is.
    let mut uncommitted = 0u64;
    while let Some(Item::Leaf(..)) = chunk.items.last() {
        chunk.items.pop();
        uncommitted += 1;
    }
    debug_assert!(uncommitted == pending_after_cp || tail.is_some());
    if let Some((seq, offset, reason)) = &tail {
        // A damaged frame followed by an intact checkpoint was already refused by the
        // frame scan in `log::scan`; run it to give the same answer as start-up.
        if let Err(e) = log::scan_read_only(&log_dir, log::LeafHashes::Skip) {
            if let log::LogError::Damaged { seq, reason, .. } = e {
                let frame = finding(seq, Code::DamagedFrame, reason);
                return Err(after_records(&mut engine, chunk, frame));
            }
            return Err(e.into());
        }
        let _ = (seq, offset, reason);
    }
    engine.feed(chunk)?;
    engine.drain()?;
    engine.finish()?;
    let tail_msg = match (tail, uncommitted) {
        (None, 0) => None,
        (None, n) => Some(format!("{n} record frames after the last checkpoint were never acknowledged (they will be cut on next open)")),
        (Some((seq, offset, reason)), n) => Some(format!(
            "the last segment ends in an unacknowledged tail at seq {seq} (byte {offset}: {reason}); {n} complete record frames after the last checkpoint; it will be cut on next open"
        )),
    };
    if engine.chain.size() == 0 {
        return Err(finding(
            0,
            Code::GenesisMisplaced,
            "the log holds no records",
        ));
    }
    Ok(engine.report(tail_msg))
}

/// Verifies an NDJSON export against a signed checkpoint of exactly its size.
pub fn verify_export(
    export: &Path,
    checkpoint_note: &[u8],
    opts: AuditOptions,
) -> Result<AuditReport, AuditError> {
    let key = opts
        .checkpoint_key
        .clone()
        .ok_or(AuditError::NoCheckpointKey)?;
    let cp = log::checkpoint_of_note(checkpoint_note).ok_or_else(|| {
        finding(
            0,
            Code::BadCheckpoint,
            "the checkpoint file does not hold a checkpoint",
        )
    })?;
    SignedCheckpoint::open(checkpoint_note, &key, &cp.origin).map_err(|e| {
        finding(
            cp.size.saturating_sub(1),
            Code::BadCheckpoint,
            format!("the checkpoint is not signed by the key you gave: {e}"),
        )
    })?;
    let f = std::fs::File::open(export).map_err(|source| AuditError::Io {
        what: format!("opening {}", export.display()),
        source,
    })?;
    let total = f.metadata().map(|m| m.len() / 700).unwrap_or(0);
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut engine = Engine::new(opts, total);
    let mut chunk = engine.empty_chunk();
    loop {
        // Each line goes straight into the chunk's buffer.
        let at = chunk.bytes.len();
        let n = r
            .read_until(b'\n', &mut chunk.bytes)
            .map_err(|source| AuditError::Io {
                what: format!("reading {}", export.display()),
                source,
            })?;
        if n == 0 {
            break;
        }
        if chunk.bytes.last() != Some(&b'\n') {
            chunk.bytes.truncate(at);
            let seq = engine.fed + chunk.items.len() as u64;
            engine.feed(chunk)?;
            engine.drain()?;
            return Err(finding(
                seq,
                Code::Truncated,
                "the export's last line has no newline: the file was cut",
            ));
        }
        chunk.bytes.pop();
        chunk.items.push(Item::Leaf(at..chunk.bytes.len(), None));
        if chunk.items.len() >= CHUNK {
            let next = engine.empty_chunk();
            engine.feed(std::mem::replace(&mut chunk, next))?;
        }
    }
    chunk.push_checkpoint(checkpoint_note);
    engine.feed(chunk)?;
    engine.drain()?;
    engine.finish()?;
    Ok(engine.report(None))
}
