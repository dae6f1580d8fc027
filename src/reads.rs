//! Reads for supervisors and inquiries: the domain model folded from the log
//! as the ledger stood at a past moment (bitemporal: `as_of` is recorded time,
//! what the ledger knew; `at` is the business time at which lateness is judged).
//!
//! The fold reads the log alone (`LogView`): no lock, no trust in derived
//! stores, and byte-identical output for the same ledger and options, because
//! no default ever comes from the wall clock.

use crate::ledger::LogView;
use events::keys::{Party, Role};
use events::record::{Decoded, Record};
use events::registry::Registry;
use events::time::Timestamp;
use projections::model::{Applied, Model};
use std::path::Path;

/// Why a read could not be answered. The first group is the reader's to
/// fix (a moment or a case the ledger cannot show); the rest are the
/// operator's (the data directory or its log), and a service shows them to
/// its clients only as an internal error.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("--as-of-seq must be at least 1 (genesis)")]
    AsOfSeqZero,
    #[error("--as-of-seq {asked} is beyond the ledger's size {size}")]
    AsOfSeqBeyond { asked: u64, size: u64 },
    #[error("no record was recorded at or before the --as-of time")]
    NothingAsOf,
    #[error("{0}")]
    BadCaseId(String),
    #[error("no case {case} in the first {size} records")]
    NoCase { case: String, size: u64 },
    #[error("{} is not a ledger data directory (no log/)", .0.display())]
    NotADataDir(std::path::PathBuf),
    #[error("{} holds no records", .0.display())]
    Empty(std::path::PathBuf),
    #[error(transparent)]
    Log(#[from] crate::log::LogError),
    #[error("reading the log: {0}")]
    Io(#[from] std::io::Error),
    /// A record the log holds that a replay cannot read as one.
    #[error("the log is damaged at seq {seq}: {reason}")]
    Damaged { seq: u64, reason: String },
    /// The view of the log built from the scan.
    #[error("opening the log: {0}")]
    View(String),
    #[error("a replay thread stopped: {0}")]
    Thread(&'static str),
}

impl ReadError {
    /// True when the request, not the ledger, is at fault.
    pub fn is_request_error(&self) -> bool {
        matches!(
            self,
            ReadError::AsOfSeqZero
                | ReadError::AsOfSeqBeyond { .. }
                | ReadError::NothingAsOf
                | ReadError::BadCaseId(_)
                | ReadError::NoCase { .. }
        )
    }
}

type Result<T, E = ReadError> = std::result::Result<T, E>;

/// Which prefix of the log a read reflects.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsOf {
    /// The first `seq` records.
    pub seq: Option<u64>,
    /// Every record whose `recorded_at` is at or before this instant.
    pub time: Option<Timestamp>,
}

/// The model of a log prefix, with what it reflects.
pub struct Folded {
    pub model: Model,
    /// The key registry as of the same prefix.
    pub registry: Registry,
    /// Records folded (the view reflects seqs 0..size).
    pub size: u64,
    /// The latest `recorded_at` folded.
    pub last_recorded_at: Timestamp,
    /// The signed checkpoint of exactly `size`, when one exists, or else the
    /// first later one (which covers these records too).
    pub checkpoint: Option<(u64, String)>,
}

/// Folds the log up to the prefix `as_of` asks for.
pub fn fold(dir: &Path, as_of: AsOf) -> Result<Folded> {
    Ok(fold_with_view(dir, as_of)?.0)
}

/// [`fold`] in the process that holds the writer, which knows the durable
/// size `durable` itself: the marker other processes read (`log/durable`)
/// lags it by up to 50 ms, and a read must not miss a record it was just
/// told is appended.
pub fn fold_durable(dir: &Path, as_of: AsOf, durable: u64) -> Result<Folded> {
    Ok(fold_within(dir, as_of, Some(durable))?.0)
}

/// [`fold`], also returning the view of the log it read (opened without the
/// Merkle tree: see [`LogView::open_records`]).
///
/// The log is read once: the scan that checks every frame hands each
/// committed record to the decoding threads as soon as the checkpoint after
/// it is read (`log::scan_feeding`), so scanning, decoding and folding run
/// together.
pub fn fold_with_view(dir: &Path, as_of: AsOf) -> Result<(Folded, LogView)> {
    fold_within(dir, as_of, None)
}

/// [`fold_with_view`], reading no record at or past `durable` when it is
/// given, else none past the size the writer published in `log/durable`.
fn fold_within(dir: &Path, as_of: AsOf, durable: Option<u64>) -> Result<(Folded, LogView)> {
    let log_dir = dir.join("log");
    if !log_dir.is_dir() {
        return Err(ReadError::NotADataDir(dir.to_path_buf()));
    }
    if as_of.seq == Some(0) {
        return Err(ReadError::AsOfSeqZero);
    }
    // Beside a running writer, nothing past the durable size it published
    // (a batch whose fdatasync has not returned) is read.
    let limit = as_of.seq.unwrap_or(u64::MAX).min(
        durable
            .or_else(|| crate::log::read_durable(&log_dir))
            .unwrap_or(u64::MAX),
    );
    let mut registry = None;
    let mut model = Model::default();
    let mut scanned = None;
    let end = replay(
        |deal| {
            let mut next = 0u64;
            // False once the fold wants no more (it reached `until`).
            let mut wanted = true;
            let mut chunk: Vec<Vec<u8>> = Vec::with_capacity(REPLAY_CHUNK as usize);
            // Committed batches are re-cut into chunks of REPLAY_CHUNK records,
            // none past `limit`.
            let mut send = |chunk: &mut Vec<Vec<u8>>, next: &mut u64| -> bool {
                let first = *next;
                *next += chunk.len() as u64;
                let payloads = std::mem::replace(chunk, Vec::with_capacity(REPLAY_CHUNK as usize));
                deal(Chunk {
                    first,
                    payloads: Payloads::Owned(payloads),
                })
            };
            let mut reached = false;
            let scan = crate::log::scan_feeding(&log_dir, &mut |batch| {
                for p in batch {
                    if next + chunk.len() as u64 >= limit {
                        reached = true;
                        break;
                    }
                    chunk.push(p);
                    if chunk.len() as u64 == REPLAY_CHUNK && !send(&mut chunk, &mut next) {
                        wanted = false;
                        break;
                    }
                }
                wanted && !reached
            })?;
            if wanted && !chunk.is_empty() {
                send(&mut chunk, &mut next);
            }
            scanned = Some(scan);
            Ok(())
        },
        0,
        as_of.time,
        &mut registry,
        true,
        &mut model,
    )?;
    let mut scan = scanned.ok_or(ReadError::Thread("the log scan did not finish"))?;
    if scan.records() == 0 {
        return Err(ReadError::Empty(dir.to_path_buf()));
    }
    let view = match durable {
        Some(d) => LogView::from_scan_durable(&mut scan, d),
        None => LogView::from_scan(&mut scan),
    }
    .map_err(|e| ReadError::View(format!("{e:#}")))?;
    if let Some(asked) = as_of.seq {
        if asked > view.size() {
            return Err(ReadError::AsOfSeqBeyond {
                asked,
                size: view.size(),
            });
        }
    }
    let (Some(registry), Some(last_recorded_at)) = (registry, end.last_recorded_at) else {
        if as_of.time.is_some() {
            return Err(ReadError::NothingAsOf);
        }
        return Err(ReadError::Empty(dir.to_path_buf()));
    };
    let size = end.size;
    let checkpoint_at = |n: u64| {
        view.checkpoint_at(n)
            .map_err(|e| ReadError::View(format!("{e:#}")))
    };
    let checkpoint = match checkpoint_at(size)? {
        Some(n) => Some((size, n)),
        None => match view.nearest_checkpoints(size) {
            (_, Some(above)) => checkpoint_at(above)?.map(|n| (above, n)),
            _ => None,
        },
    };
    Ok((
        Folded {
            model,
            registry,
            size,
            last_recorded_at,
            checkpoint,
        },
        view,
    ))
}

/// Where a [`replay`] stopped.
#[derive(Clone, Copy, Debug)]
pub struct Replayed {
    /// The records folded are 0..size (the start when none was).
    pub size: u64,
    /// The `recorded_at` of the last record folded, if any was.
    pub last_recorded_at: Option<Timestamp>,
}

/// Records decoded per message from a decoding thread to the fold.
pub const REPLAY_CHUNK: u64 = 1024;
/// Chunks each decoding thread may hold ahead, read and decoded.
const REPLAY_AHEAD: usize = 2;

/// The record payloads of a chunk, as read.
pub enum Payloads {
    /// Read together from the log's files (`LogIndex::read_leaves`).
    Read(crate::log::Leaves),
    /// Handed over by a scan (`log::scan_feeding`).
    Owned(Vec<Vec<u8>>),
}

impl Payloads {
    fn len(&self) -> usize {
        match self {
            Payloads::Read(l) => l.len(),
            Payloads::Owned(v) => v.len(),
        }
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        match self {
            Payloads::Read(l) => l.get(i),
            Payloads::Owned(v) => v.get(i).map(Vec::as_slice),
        }
    }
}

/// Consecutive records from `first` on, dealt to a decoding thread.
pub struct Chunk {
    pub first: u64,
    pub payloads: Payloads,
}

/// Folds into `model`, in seq order, the records that `feed` deals from seq
/// `start` on, stopping before the first record recorded after `until`.
/// `feed` runs on its own thread and calls `deal` with consecutive chunks;
/// `deal` returns false once the fold wants no more. Each actor's holder and
/// roles come from `registry` as it stood before the record; with
/// `grow_registry` every record is also applied to it (a fold from genesis,
/// which creates it), otherwise it must already hold every key (the ledger's
/// start-up, which rebuilt it from the log first).
///
/// Records are decoded with [`Record::decode_trusted`] (no canonical-form or
/// signature check: the log was verified as it was written) on every core,
/// each chunk by the decoding thread it was dealt to in turn, and folded on
/// the calling thread in seq order: the result is the fold of the records
/// one by one.
pub fn replay<F>(
    feed: F,
    start: u64,
    until: Option<Timestamp>,
    registry: &mut Option<Registry>,
    grow_registry: bool,
    model: &mut Model,
) -> Result<Replayed>
where
    F: FnOnce(&mut dyn FnMut(Chunk) -> bool) -> Result<()> + Send,
{
    let mut out = Replayed {
        size: start,
        last_recorded_at: None,
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let decode = |job: Chunk| -> Result<Vec<Decoded>> {
        let mut chunk = Vec::with_capacity(job.payloads.len());
        for k in 0..job.payloads.len() {
            let seq = job.first + k as u64;
            let b = job.payloads.get(k).ok_or_else(|| ReadError::Damaged {
                seq,
                reason: "missing from its chunk".into(),
            })?;
            chunk.push(Record::decode_trusted(b).map_err(|e| ReadError::Damaged {
                seq,
                reason: e.to_string(),
            })?);
        }
        Ok(chunk)
    };
    let mut next = start;
    let mut failed = None;
    let mut fold = |chunk: Result<Vec<Decoded>>, recycle: &mut dyn FnMut(Result<Vec<Decoded>>)| {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                failed = Some(e);
                return false;
            }
        };
        for d in &chunk {
            // Paired assertion: the record decoded is the one its frame's place says.
            if d.seq != next {
                failed = Some(ReadError::Damaged {
                    seq: next,
                    reason: format!("its frame holds seq {}", d.seq),
                });
                return false;
            }
            if until.is_some_and(|t| d.recorded_at > t) {
                return false;
            }
            let stmt = &d.statement;
            // The actor's entry as it stood before this record (a record
            // never changes its own actor's holder or roles).
            let (holder, roles) = match registry.as_ref().and_then(|r| r.key(&stmt.actor)) {
                Some(e) => (&e.holder, e.roles.as_slice()),
                None => (&Party::Authority, [Role::Root].as_slice()),
            };
            model.apply(&Applied {
                seq: d.seq,
                recorded_at: d.recorded_at,
                statement: stmt,
                actor_holder: holder,
                actor_roles: roles,
            });
            if grow_registry {
                match registry.as_mut() {
                    Some(r) => r.apply(stmt, d.seq),
                    None => match Registry::genesis(stmt) {
                        Ok(r) => *registry = Some(r),
                        Err(e) => {
                            failed = Some(ReadError::Damaged {
                                seq: d.seq,
                                reason: format!("not a genesis: {e}"),
                            });
                            return false;
                        }
                    },
                }
            }
            next += 1;
            out.size = next;
            out.last_recorded_at = Some(d.recorded_at);
        }
        // The chunk goes back to its decoding thread to be freed there: the
        // fold is the one sequential part, so it does no deallocation.
        recycle(Ok(chunk));
        true
    };
    let fed =
        crate::parallel::ordered_map(workers, REPLAY_AHEAD, "replay", feed, decode, &mut fold)?;
    if let Some(e) = failed {
        return Err(e);
    }
    fed?;
    Ok(out)
}

/// One line of a case's timeline, for inquiries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimelineLine {
    pub seq: u64,
    pub recorded_at: String,
    pub occurred_at: String,
    pub kind: String,
    pub actor: String,
    /// The body or enterprise the actor's key is held by.
    pub acting_for: String,
    pub statement_id: String,
    /// The command that proves this record is in the checkpoint shown.
    pub proof: String,
}

/// Every record of a case as the ledger stood at `as_of`.
pub fn timeline(dir: &Path, case: &str, as_of: AsOf) -> Result<(Folded, Vec<TimelineLine>)> {
    let (folded, view) = fold_with_view(dir, as_of)?;
    let id = events::vocab::Id::new(case).map_err(|e| ReadError::BadCaseId(e.to_string()))?;
    let c = folded
        .model
        .cases
        .get(&id)
        .ok_or_else(|| ReadError::NoCase {
            case: case.to_string(),
            size: folded.size,
        })?;
    let proof_size = folded.checkpoint.as_ref().map_or(folded.size, |(s, _)| *s);
    let reg = &folded.registry;
    let mut out = Vec::new();
    for e in &c.timeline {
        let r = Record::parse(&view.read_leaf(e.seq)?).map_err(|err| ReadError::Damaged {
            seq: e.seq,
            reason: err.to_string(),
        })?;
        let stmt = &r.signed.statement;
        let acting_for = reg
            .key(&stmt.actor)
            .map_or_else(|| "the ledger".to_string(), |k| k.holder.to_string());
        out.push(TimelineLine {
            seq: e.seq,
            recorded_at: r.recorded_at.to_string(),
            occurred_at: stmt.occurred_at.to_string(),
            kind: stmt.event.kind().name().to_string(),
            actor: stmt.actor.to_string(),
            acting_for,
            statement_id: stmt.id.clone(),
            proof: format!(
                "ledger proof inclusion --data {} --seq {} --size {proof_size}",
                dir.display(),
                e.seq
            ),
        });
    }
    Ok((folded, out))
}
