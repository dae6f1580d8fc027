//! Offline verification of a data directory or an export, on all cores.
//!
//! Verification uses exactly the append-time checks (`events::verify`): every
//! signature with `verify_strict` against the key registry as it stood at that
//! record, every chain link, and every Merkle root against signed checkpoints.
//! No batch verification: each signature is checked on its own.

use crate::log::{self, FrameReader, FRAME_RECORD};
use anyhow::Context;
use ed25519_dalek::VerifyingKey;
use events::checkpoint::{Checkpoint, SignedCheckpoint};
use events::codes::Code;
use events::keys::PublicKey;
use events::merkle::Hash;
use events::note::NoteVerifier;
use events::statement::verify_signature;
use events::verify::{parse_leaf, ChainVerifier, ParsedLeaf, VerifyError};
use events::vocab::Clock;
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;
use std::time::Instant;

/// Leaves verified per parallel step.
const CHUNK: usize = 8192;

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
}

/// Why verification failed: a finding about the data, or an error reading it.
#[derive(Debug)]
pub enum AuditError {
    Finding(VerifyError),
    Io(anyhow::Error),
}

impl std::fmt::Display for AuditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditError::Finding(v) => write!(f, "{v}"),
            AuditError::Io(e) => write!(f, "{e:#}"),
        }
    }
}

impl From<anyhow::Error> for AuditError {
    fn from(e: anyhow::Error) -> Self {
        AuditError::Io(e)
    }
}

impl From<VerifyError> for AuditError {
    fn from(e: VerifyError) -> Self {
        AuditError::Finding(e)
    }
}

fn finding(seq: u64, code: Code, m: impl Into<String>) -> AuditError {
    AuditError::Finding(VerifyError::new(seq, code, m))
}

/// An item of the verified stream.
pub enum Item {
    Leaf(Vec<u8>),
    /// A signed checkpoint note expected to cover exactly the leaves before it.
    Checkpoint(Vec<u8>),
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
    opts: AuditOptions,
    threads: usize,
    verifier: Option<NoteVerifier>,
    since: Option<Checkpoint>,
    since_note: Option<Vec<u8>>,
    consistent_with: Option<u64>,
    checkpoints: u64,
    started: Instant,
    last_progress: Instant,
    total_hint: u64,
}

impl Engine {
    fn new(opts: AuditOptions, total_hint: u64) -> Engine {
        let threads = if opts.threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            opts.threads
        };
        Engine {
            chain: ChainVerifier::new(opts.trusted_root),
            verifier: opts.checkpoint_key.clone(),
            since_note: opts.since.clone(),
            opts,
            threads,
            since: None,
            consistent_with: None,
            checkpoints: 0,
            started: Instant::now(),
            last_progress: Instant::now(),
            total_hint,
        }
    }

    /// Processes a chunk of items in order; returns the first finding.
    fn chunk(&mut self, items: &[Item]) -> Result<(), AuditError> {
        let base = self.chain.size();
        // Stage 1 (parallel): parse and hash every leaf.
        let leaves: Vec<(usize, &[u8])> = items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| {
                if let Item::Leaf(b) = it {
                    Some((i, b.as_slice()))
                } else {
                    None
                }
            })
            .collect();
        let parsed: Vec<Result<ParsedLeaf, VerifyError>> =
            par_map(&leaves, self.threads, |(k, (_, b))| {
                parse_leaf(b, base + k as u64)
            });
        // Stage 2 (sequential): links, registry, checkpoint roots.
        let mut sigs: Vec<(u64, VerifyingKey, Vec<u8>, [u8; 64])> =
            Vec::with_capacity(leaves.len());
        let mut notes: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut first_err: Option<VerifyError> = None;
        let mut parsed_iter = parsed.into_iter();
        'items: for it in items {
            match it {
                Item::Leaf(_) => {
                    let p = match parsed_iter.next() {
                        Some(Ok(p)) => p,
                        Some(Err(e)) => {
                            first_err = Some(e);
                            break 'items;
                        }
                        None => break 'items,
                    };
                    let seq = p.record.seq;
                    match self.chain.link(&p) {
                        Ok(key) => {
                            let ParsedLeaf { record, .. } = p;
                            sigs.push((seq, key, record.signed.bytes, record.signed.signature));
                            if self.verifier.is_none() {
                                if let Some(reg) = self.chain.registry() {
                                    match NoteVerifier::from_vkey(&reg.checkpoint_key) {
                                        Ok(v) => self.verifier = Some(v),
                                        Err(e) => {
                                            first_err = Some(VerifyError::new(
                                                0,
                                                Code::BadCheckpoint,
                                                format!(
                                                    "genesis names a malformed checkpoint key: {e}"
                                                ),
                                            ));
                                            break 'items;
                                        }
                                    }
                                }
                            } else if seq == 0 {
                                if let (Some(reg), Some(v)) =
                                    (self.chain.registry(), &self.verifier)
                                {
                                    if reg.checkpoint_key != v.to_vkey() {
                                        first_err = Some(VerifyError::new(
                                            0,
                                            Code::BadCheckpoint,
                                            format!("genesis names checkpoint key {}, not the key you gave ({})", reg.checkpoint_key, v.to_vkey()),
                                        ));
                                        break 'items;
                                    }
                                }
                            }
                            if let Err(e) = self.check_since() {
                                first_err = Some(e);
                                break 'items;
                            }
                        }
                        Err(e) => {
                            first_err = Some(e);
                            break 'items;
                        }
                    }
                }
                Item::Checkpoint(note) => {
                    let at = self.chain.size().saturating_sub(1);
                    let Some(cp) = log::checkpoint_of_note(note) else {
                        first_err = Some(VerifyError::new(
                            at,
                            Code::BadCheckpoint,
                            "a checkpoint frame does not hold a checkpoint",
                        ));
                        break 'items;
                    };
                    if let Err(e) = self.chain.check_checkpoint(&cp) {
                        first_err = Some(e);
                        break 'items;
                    }
                    self.checkpoints += 1;
                    notes.push((at, note.clone()));
                }
            }
        }
        // Stage 3 (parallel): signatures of records and checkpoints.
        let sig_err =
            par_map(
                &sigs,
                self.threads,
                |(_, (seq, key, bytes, sig))| match verify_signature(key, bytes, sig) {
                    true => None,
                    false => Some(VerifyError::new(
                        *seq,
                        Code::BadSignature,
                        format!("signature of seq {seq} does not verify under the actor's key"),
                    )),
                },
            )
            .into_iter()
            .flatten()
            .next();
        let verifier = self.verifier.clone();
        let origin = self
            .chain
            .registry()
            .map(|r| r.origin.clone())
            .unwrap_or_default();
        let note_err = match &verifier {
            None => None,
            Some(v) => par_map(
                &notes,
                self.threads,
                |(_, (at, note))| match SignedCheckpoint::open(note, v, &origin) {
                    Ok(_) => None,
                    Err(e) => Some(VerifyError::new(
                        *at,
                        Code::BadCheckpoint,
                        format!("checkpoint after seq {at} is not signed by the ledger key: {e}"),
                    )),
                },
            )
            .into_iter()
            .flatten()
            .next(),
        };
        // The earliest problem wins.
        let mut errs: Vec<VerifyError> = [first_err, sig_err, note_err]
            .into_iter()
            .flatten()
            .collect();
        errs.sort_by_key(|e| e.seq);
        if let Some(e) = errs.into_iter().next() {
            return Err(AuditError::Finding(e));
        }
        self.show_progress();
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
        if self.opts.progress && std::io::stderr().is_terminal() {
            eprintln!();
        }
        Ok(())
    }

    fn show_progress(&mut self) {
        if !self.opts.progress
            || !std::io::stderr().is_terminal()
            || self.last_progress.elapsed().as_millis() < 200
        {
            return;
        }
        self.last_progress = Instant::now();
        let n = self.chain.size();
        let rate = n as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        if self.total_hint > 0 {
            let pct = n.saturating_mul(100) / self.total_hint.max(1);
            let filled = usize::try_from(pct / 4).unwrap_or(0).min(25);
            eprint!(
                "\r[{}{}] {pct:>3}% {n} records, {rate:.0}/s",
                "#".repeat(filled),
                " ".repeat(25 - filled)
            );
        } else {
            eprint!("\r{n} records, {rate:.0}/s");
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
        }
    }
}

/// Maps `f` over `items` on `threads` threads, keeping order.
fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn((usize, &T)) -> R + Sync,
) -> Vec<R> {
    if items.len() < 64 || threads <= 1 {
        return items.iter().enumerate().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|s| {
        let hs: Vec<_> = items
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                s.spawn(move || {
                    part.iter()
                        .enumerate()
                        .map(|(i, t)| f((c * chunk + i, t)))
                        .collect::<Vec<R>>()
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Verifies a data directory read-only: every frame's checksum, every record,
/// and every checkpoint frame (root and signature).
pub fn verify_data_dir(dir: &Path, opts: AuditOptions) -> Result<AuditReport, AuditError> {
    let log_dir = dir.join("log");
    if !log_dir.is_dir() {
        return Err(AuditError::Io(anyhow::anyhow!(
            "{} is not a ledger data directory (no log/)",
            dir.display()
        )));
    }
    let segs = log::list_segments(&log_dir).map_err(|e| AuditError::Io(e.into()))?;
    let total: u64 = segs
        .iter()
        .filter_map(|(_, p)| std::fs::metadata(p).ok())
        .map(|m| m.len() / 700)
        .sum();
    let mut engine = Engine::new(opts, total);
    let mut items: Vec<Item> = Vec::with_capacity(CHUNK + 1);
    let mut leaves_in_chunk = 0usize;
    let mut pending_after_cp = 0u64;
    let mut tail = None;
    let nsegs = segs.len();
    for (si, (first, path)) in segs.into_iter().enumerate() {
        let mut r = FrameReader::open(&path).map_err(|e| AuditError::Io(e.into()))?;
        loop {
            match r.next_frame() {
                Ok(None) => break,
                Ok(Some(f)) => {
                    if f.kind == FRAME_RECORD {
                        items.push(Item::Leaf(f.payload));
                        leaves_in_chunk += 1;
                        pending_after_cp += 1;
                    } else {
                        items.push(Item::Checkpoint(f.payload));
                        pending_after_cp = 0;
                        if leaves_in_chunk >= CHUNK {
                            engine.chunk(&items)?;
                            items.clear();
                            leaves_in_chunk = 0;
                        }
                    }
                }
                Err((offset, reason)) => {
                    let seq = engine.chain.size()
                        + items.iter().filter(|i| matches!(i, Item::Leaf(_))).count() as u64;
                    if si + 1 < nsegs {
                        return Err(finding(
                            seq,
                            Code::DamagedFrame,
                            format!("{} byte {offset}: {reason}", path.display()),
                        ));
                    }
                    tail = Some((seq, offset, reason));
                    break;
                }
            }
        }
        let _ = first;
    }
    // Records after the last checkpoint frame were never acknowledged: they are
    // not verified as part of the ledger, but damage before a checkpoint is.
    let mut uncommitted = 0u64;
    while let Some(Item::Leaf(_)) = items.last() {
        items.pop();
        uncommitted += 1;
    }
    debug_assert!(uncommitted == pending_after_cp || tail.is_some());
    if let Some((seq, offset, reason)) = &tail {
        // A damaged frame followed by an intact checkpoint was already refused by the
        // frame scan in `log::scan`; run it to give the same answer as start-up.
        if let Err(e) = log::scan(&log_dir) {
            if let log::LogError::Damaged { seq, reason, .. } = e {
                return Err(finding(seq, Code::DamagedFrame, reason));
            }
            return Err(AuditError::Io(e.into()));
        }
        let _ = (seq, offset, reason);
    }
    engine.chunk(&items)?;
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
    let key = opts.checkpoint_key.clone().ok_or_else(|| {
        anyhow::anyhow!("verifying an export needs the ledger's checkpoint key (--key)")
    })?;
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
    let f = std::fs::File::open(export).with_context(|| format!("opening {}", export.display()))?;
    let total = f.metadata().map(|m| m.len() / 700).unwrap_or(0);
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut engine = Engine::new(opts, total);
    let mut items = Vec::with_capacity(CHUNK);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = r
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", export.display()))?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            let seq = engine.chain.size() + items.len() as u64;
            engine.chunk(&items)?;
            return Err(finding(
                seq,
                Code::Truncated,
                "the export's last line has no newline: the file was cut",
            ));
        }
        line.pop();
        items.push(Item::Leaf(std::mem::take(&mut line)));
        if items.len() >= CHUNK {
            engine.chunk(&items)?;
            items.clear();
        }
    }
    items.push(Item::Checkpoint(checkpoint_note.to_vec()));
    engine.chunk(&items)?;
    engine.finish()?;
    Ok(engine.report(None))
}

/// Parses a public key given as base64 or as a path to a file holding it.
pub fn read_public_key(arg: &str) -> anyhow::Result<PublicKey> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg)?.trim().to_string()
    } else {
        arg.trim().to_string()
    };
    PublicKey::parse(&text).ok_or_else(|| {
        anyhow::anyhow!("{arg:?} is not a base64 Ed25519 public key (or a file holding one)")
    })
}

/// Parses a checkpoint verifier key given as `name+hexid+base64` or as a file holding it.
pub fn read_note_verifier(arg: &str) -> anyhow::Result<NoteVerifier> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg)?.trim().to_string()
    } else {
        arg.trim().to_string()
    };
    NoteVerifier::from_vkey(&text).map_err(|e| {
        anyhow::anyhow!("{arg:?} is not a checkpoint verifier key (name+hexid+base64): {e}")
    })
}
