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
use events::record::Record;
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
    let view = LogView::open(dir)?;
    let limit = match as_of.seq {
        Some(n) if n > view.size() => bail!(
            "--as-of-seq {n} is beyond the ledger's size {}",
            view.size()
        ),
        Some(0) => bail!("--as-of-seq must be at least 1 (genesis)"),
        Some(n) => n,
        None => view.size(),
    };
    let mut model = Model::default();
    let mut registry: Option<Registry> = None;
    let mut size = 0u64;
    let mut last = None;
    for seq in 0..limit {
        let leaf = view.read_leaf(seq)?;
        let r = Record::parse(&leaf).map_err(|e| anyhow!("seq {seq}: {e}"))?;
        if let Some(t) = as_of.time {
            if r.recorded_at > t {
                break;
            }
        }
        let stmt = &r.signed.statement;
        let (holder, roles) = match &mut registry {
            None => {
                registry = Some(Registry::genesis(stmt).map_err(|e| anyhow!("genesis: {e}"))?);
                (Party::Authority, vec![Role::Root])
            }
            Some(reg) => {
                let who = reg
                    .key(&stmt.actor)
                    .map(|e| (e.holder.clone(), e.roles.clone()));
                reg.apply(stmt, seq);
                who.unwrap_or((Party::Authority, vec![Role::Root]))
            }
        };
        model.apply(&Applied {
            seq,
            recorded_at: r.recorded_at,
            statement: stmt,
            actor_holder: &holder,
            actor_roles: &roles,
        });
        size = seq + 1;
        last = Some(r.recorded_at);
    }
    let last_recorded_at =
        last.ok_or_else(|| anyhow!("no record was recorded at or before the --as-of time"))?;
    let checkpoint = match view.checkpoint_at(size)? {
        Some(n) => Some((size, n)),
        None => match view.nearest_checkpoints(size) {
            (_, Some(above)) => view.checkpoint_at(above)?.map(|n| (above, n)),
            _ => None,
        },
    };
    let registry = registry.ok_or_else(|| anyhow!("the log holds no genesis"))?;
    Ok(Folded {
        model,
        registry,
        size,
        last_recorded_at,
        checkpoint,
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
    let view = LogView::open(dir)?;
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
