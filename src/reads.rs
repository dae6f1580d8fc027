//! Reads for supervisors and inquiries: the domain model folded from the log
//! as the ledger stood at a past moment (bitemporal: `as_of` is recorded time,
//! what the ledger knew; `at` is the business time at which lateness is judged).
//!
//! The fold reads the log alone (`LogView`): no lock, no trust in derived
//! stores, and byte-identical output for the same ledger and options, because
//! no default ever comes from the wall clock.

use crate::ledger::LogView;
use anyhow::{anyhow, bail, Result};
use events::keys::{Party, Role};
use events::record::{Decoded, Record};
use events::registry::Registry;
use events::time::Timestamp;
use projections::model::{Applied, Model};
use std::path::Path;

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
    fold_view(&LogView::open_records(dir)?, as_of)
}

/// [`fold`] over a view already open.
pub fn fold_view(view: &LogView, as_of: AsOf) -> Result<Folded> {
    let limit = match as_of.seq {
        Some(n) if n > view.size() => bail!(
            "--as-of-seq {n} is beyond the ledger's size {}",
            view.size()
        ),
        Some(0) => bail!("--as-of-seq must be at least 1 (genesis)"),
        Some(n) => n,
        None => view.size(),
    };
    let genesis = Record::parse(&view.read_leaf(0)?).map_err(|e| anyhow!("genesis: {e}"))?;
    if let Some(t) = as_of.time {
        if genesis.recorded_at > t {
            bail!("no record was recorded at or before the --as-of time");
        }
    }
    let mut registry =
        Registry::genesis(&genesis.signed.statement).map_err(|e| anyhow!("genesis: {e}"))?;
    let mut model = Model::default();
    model.apply(&Applied {
        seq: 0,
        recorded_at: genesis.recorded_at,
        statement: &genesis.signed.statement,
        actor_holder: &Party::Authority,
        actor_roles: &[Role::Root],
    });
    let end = replay(
        |r| view.read_leaves(r),
        1..limit,
        as_of.time,
        &mut registry,
        true,
        &mut model,
    )?;
    let size = end.size.max(1);
    let last_recorded_at = end.last_recorded_at.unwrap_or(genesis.recorded_at);
    let checkpoint = match view.checkpoint_at(size)? {
        Some(n) => Some((size, n)),
        None => match view.nearest_checkpoints(size) {
            (_, Some(above)) => view.checkpoint_at(above)?.map(|n| (above, n)),
            _ => None,
        },
    };
    Ok(Folded {
        model,
        registry,
        size,
        last_recorded_at,
        checkpoint,
    })
}

/// Where a [`replay`] stopped.
#[derive(Clone, Copy, Debug)]
pub struct Replayed {
    /// The records folded are 0..size (the range's start when none was).
    pub size: u64,
    /// The `recorded_at` of the last record folded, if any was.
    pub last_recorded_at: Option<Timestamp>,
}

/// Records decoded per message from a decoding thread to the fold.
const REPLAY_CHUNK: u64 = 1024;
/// Decoded chunks each decoding thread may hold ahead of the fold.
const REPLAY_AHEAD: usize = 4;

/// Folds records `range` (read by `read`) into `model`, in order, stopping
/// before the first record recorded after `until`. Each actor's holder and
/// roles come from `registry`; with `grow_registry` every record is also
/// applied to it (a fold from genesis), otherwise it must already hold every
/// key (the ledger's start-up, which rebuilt it from the log first).
///
/// Records are decoded with [`Record::decode_trusted`] (no canonical-form or
/// signature check: the log was verified as it was written) on every core, in
/// chunks dealt round-robin to the decoding threads, and folded on the calling
/// thread in seq order: the result is the fold of the records one by one.
pub fn replay<R>(
    read: R,
    range: std::ops::Range<u64>,
    until: Option<Timestamp>,
    registry: &mut Registry,
    grow_registry: bool,
    model: &mut Model,
) -> Result<Replayed>
where
    R: Fn(std::ops::Range<u64>) -> std::io::Result<crate::log::Leaves> + Sync,
{
    use std::sync::mpsc;
    let mut out = Replayed {
        size: range.start,
        last_recorded_at: None,
    };
    if range.is_empty() {
        return Ok(out);
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let read = &read;
    std::thread::scope(|s| -> Result<Replayed> {
        let mut rxs = Vec::with_capacity(workers);
        let mut spent = Vec::with_capacity(workers);
        for w in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<Result<Vec<Decoded>>>(REPLAY_AHEAD);
            let (spent_tx, spent_rx) = mpsc::channel::<Vec<Decoded>>();
            rxs.push(rx);
            spent.push(spent_tx);
            let range = range.clone();
            let worker = std::thread::Builder::new().name("replay-decode".into());
            worker.spawn_scoped(s, move || {
                let mut start = range.start + w as u64 * REPLAY_CHUNK;
                while start < range.end {
                    while let Ok(done) = spent_rx.try_recv() {
                        drop(done);
                    }
                    let end = (start + REPLAY_CHUNK).min(range.end);
                    let mut chunk = Vec::with_capacity((end - start) as usize);
                    let leaves = match read(start..end) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = tx.send(Err(anyhow!("reading seqs {start}..{end}: {e}")));
                            return;
                        }
                    };
                    for (k, seq) in (start..end).enumerate() {
                        let decoded = leaves
                            .get(k)
                            .ok_or_else(|| anyhow!("reading seq {seq}: missing from its chunk"))
                            .and_then(|b| {
                                Record::decode_trusted(b).map_err(|e| anyhow!("seq {seq}: {e}"))
                            });
                        match decoded {
                            Ok(d) => chunk.push(d),
                            Err(e) => {
                                let _ = tx.send(Err(e));
                                return;
                            }
                        }
                    }
                    if tx.send(Ok(chunk)).is_err() {
                        return;
                    }
                    start += workers as u64 * REPLAY_CHUNK;
                }
            })?;
        }
        let mut next = range.start;
        let mut turn = 0usize;
        'fold: while next < range.end {
            let chunk = rxs[turn]
                .recv()
                .map_err(|_| anyhow!("a decoding thread stopped before seq {next}"))??;
            let from = turn;
            turn = (turn + 1) % workers;
            for d in &chunk {
                // Paired assertion: the record decoded is the one its frame's place says.
                if d.seq != next {
                    bail!(
                        "the log is damaged: the frame for seq {next} holds seq {}",
                        d.seq
                    );
                }
                if until.is_some_and(|t| d.recorded_at > t) {
                    break 'fold;
                }
                let stmt = &d.statement;
                // The actor's entry as it stood before this record (a record
                // never changes its own actor's holder or roles).
                let (holder, roles) = match registry.key(&stmt.actor) {
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
                    registry.apply(stmt, d.seq);
                }
                next += 1;
                out.size = next;
                out.last_recorded_at = Some(d.recorded_at);
            }
            // The chunk goes back to its decoding thread to be freed there: the
            // fold is the one sequential part, so it does no deallocation.
            let _ = spent[from].send(chunk);
        }
        // Dropping the receivers stops the decoding threads early.
        drop(rxs);
        drop(spent);
        Ok(out)
    })
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
    let folded = fold(dir, as_of)?;
    let id = events::vocab::Id::new(case).map_err(|e| anyhow!("{e}"))?;
    let c = folded
        .model
        .cases
        .get(&id)
        .ok_or_else(|| anyhow!("no case {case} in the first {} records", folded.size))?;
    let view = LogView::open_records(dir)?;
    let proof_size = folded.checkpoint.as_ref().map_or(folded.size, |(s, _)| *s);
    let reg = &folded.registry;
    let mut out = Vec::new();
    for e in &c.timeline {
        let r = Record::parse(&view.read_leaf(e.seq)?)
            .map_err(|err| anyhow!("seq {}: {err}", e.seq))?;
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
