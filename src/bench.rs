//! `ledger bench`: throughput figures, each next to a baseline measured in the
//! same run on the same machine and disk (the machine is shared and noisy, so
//! only ratios are compared with goals). Statements are signed before timing.

use crate::audit::{self, AuditOptions};
use crate::generate::{history, GenerateOptions};
use crate::ledger::{self, Config, Ledger};
use anyhow::{bail, Context, Result};
use ed25519_dalek::VerifyingKey;
use events::statement::{verify_signature, Envelope};
use events::vocab::Clock;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Records of the generated ledger: appended with group commit, then verified.
    #[arg(long, default_value_t = 1_000_000)]
    pub records: u64,
    /// Appends measured one at a time with batch size 1.
    #[arg(long, default_value_t = 2_000)]
    pub single: u64,
    /// Where to put the benchmark's ledgers (a fresh directory under it is used and removed).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Keep the generated ledger (its path is printed).
    #[arg(long)]
    pub keep: bool,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Which parts to run: any of single, group, verify (verify needs group).
    #[arg(long, value_delimiter = ',', default_value = "single,group,verify")]
    pub parts: Vec<String>,
}

struct Figure {
    name: &'static str,
    value: f64,
    baseline_name: &'static str,
    baseline: f64,
    goal: f64,
}

/// Raw fdatasync rate: write 300 bytes and fdatasync, again and again.
fn raw_fdatasync_rate(dir: &std::path::Path, n: u64) -> Result<f64> {
    let path = dir.join("fdatasync-baseline");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let buf = [b'x'; 300];
    let t = Instant::now();
    for _ in 0..n {
        f.write_all(&buf)?;
        f.sync_data()?;
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    std::fs::remove_file(&path)?;
    Ok(rate)
}

/// Raw `verify_strict` rate on all cores over already-parsed statements.
fn raw_verify_rate(items: &[(VerifyingKey, Vec<u8>, [u8; 64])], threads: usize) -> f64 {
    let t = Instant::now();
    let chunk = items.len().div_ceil(threads.max(1));
    let ok: usize = std::thread::scope(|s| {
        let hs: Vec<_> = items
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    c.iter()
                        .filter(|(k, b, sig)| verify_signature(k, b, sig))
                        .count()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    assert_eq!(ok, items.len(), "baseline statements must all verify");
    items.len() as f64 / t.elapsed().as_secs_f64()
}

pub fn run(args: BenchArgs) -> Result<ExitCode> {
    if args.records < 10_000 {
        bail!("--records must be at least 10000 for meaningful figures");
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let base = args.dir.clone().unwrap_or_else(std::env::temp_dir);
    let work = base.join(format!("ledger-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    eprintln!("bench: {threads} cores; working in {}", work.display());

    eprintln!("bench: signing {} statements (not timed)...", args.records);
    let h = history(&GenerateOptions {
        records: args.records,
        seed: args.seed,
    })?;

    // Baseline for signature work: parse the envelopes and look up keys outside the timing.
    let keys: std::collections::HashMap<events::keys::KeyId, VerifyingKey> = h
        .envelopes
        .iter()
        .filter_map(|e| Envelope::parse(e).ok())
        .filter_map(|e| match &e.signed.statement.event {
            events::vocab::Event::KeyGranted(k) => Some((k.key, k.public_key.0)),
            _ => None,
        })
        .chain([(
            events::keys::KeyId::of(&h.root.verifying_key()),
            h.root.verifying_key(),
        )])
        .collect();
    let sample: Vec<(VerifyingKey, Vec<u8>, [u8; 64])> = h
        .envelopes
        .iter()
        .take(200_000)
        .filter_map(|b| Envelope::parse(b).ok())
        .filter_map(|e| {
            keys.get(&e.signed.statement.actor)
                .map(|k| (*k, e.signed.bytes, e.signed.signature))
        })
        .collect();

    let mut figures = Vec::new();

    let part = |p: &str| args.parts.iter().any(|x| x == p);
    // 1. Durable appends at batch size 1 against raw fdatasync of 300 bytes.
    if part("single") {
        let dir = work.join("single");
        ledger::init(
            &dir,
            &h.origin,
            &h.root,
            Clock::Simulated,
            Some(h.genesis_time),
            "bench: batch size 1",
        )?;
        let l = Ledger::open(
            &dir,
            Config {
                batch_max: 1,
                ..Config::default()
            },
        )?;
        let n = args.single.min(h.envelopes.len() as u64) as usize;
        let fsync_rate = raw_fdatasync_rate(&work, n as u64)?;
        // Each statement is checked on the client thread as a caller would (its
        // key is known by then), outside the timed section: what is timed is the
        // durable path, from handing it to the sequencer to the receipt.
        let mut durable = Duration::ZERO;
        let mut end_to_end = Duration::ZERO;
        let mut ok = 0u64;
        for e in &h.envelopes[..n] {
            let t0 = Instant::now();
            let p = l
                .prepare(e)
                .map_err(|e| anyhow::anyhow!("bench statement refused: {e}"))?;
            let t = Instant::now();
            let rx = l.send(vec![p]);
            if rx
                .recv()
                .ok()
                .and_then(|mut v| v.pop())
                .is_some_and(|r| r.is_ok())
            {
                ok += 1;
            }
            durable += t.elapsed();
            end_to_end += t0.elapsed();
        }
        let rate = ok as f64 / durable.as_secs_f64();
        eprintln!(
            "bench: batch size 1: {:.0} us per durable append, {:.0} us including the caller's checks ({:.0} appends/s end to end)",
            durable.as_secs_f64() * 1e6 / ok.max(1) as f64,
            end_to_end.as_secs_f64() * 1e6 / ok.max(1) as f64,
            ok as f64 / end_to_end.as_secs_f64()
        );
        l.close()?;
        figures.push(Figure {
            name: "durable appends/s, batch size 1",
            value: rate,
            baseline_name: "raw write(300 B)+fdatasync/s",
            baseline: fsync_rate,
            goal: 0.60,
        });
        std::fs::remove_dir_all(&dir)?;
    }

    // 2. Durable appends with group commit against raw verify_strict on all cores.
    let dir = work.join("ledger");
    if part("group") {
        let verify_rate_before = raw_verify_rate(&sample, threads);
        ledger::init(
            &dir,
            &h.origin,
            &h.root,
            Clock::Simulated,
            Some(h.genesis_time),
            "bench: group commit",
        )?;
        let l = Ledger::open(&dir, Config::default())?;
        let t = Instant::now();
        let (ok, bad) = l.append_stream(h.envelopes.iter().cloned(), 4096, |_, _, _| {});
        let secs = t.elapsed().as_secs_f64();
        l.close()?;
        if bad > 0 {
            bail!("{bad} generated statements were refused");
        }
        let verify_rate_after = raw_verify_rate(&sample, threads);
        let baseline = (verify_rate_before + verify_rate_after) / 2.0;
        figures.push(Figure {
            name: "durable appends/s, group commit",
            value: ok as f64 / secs,
            baseline_name: "raw verify_strict/s, all cores",
            baseline,
            goal: 0.80,
        });
    }

    // 3. `ledger verify` on the whole ledger against raw verify_strict on all cores.
    if part("verify") && part("group") {
        let before = raw_verify_rate(&sample, threads);
        let t = Instant::now();
        let r = audit::verify_data_dir(
            &dir,
            AuditOptions {
                threads,
                ..AuditOptions::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("verify failed: {e}"))?;
        let secs = t.elapsed().as_secs_f64();
        let after = raw_verify_rate(&sample, threads);
        figures.push(Figure {
            name: "ledger verify records/s",
            value: r.records as f64 / secs,
            baseline_name: "raw verify_strict/s, all cores",
            baseline: (before + after) / 2.0,
            goal: 0.85,
        });
        eprintln!("bench: verified {} records in {secs:.1} s", r.records);
    }

    println!("| figure | value | baseline (same run) | ratio | goal |");
    println!("|---|---:|---|---:|---:|");
    let mut all = true;
    for f in &figures {
        let ratio = f.value / f.baseline;
        let met = ratio >= f.goal;
        all &= met;
        println!(
            "| {} | {:.0} | {} = {:.0} | {:.1}% | >= {:.0}% {} |",
            f.name,
            f.value,
            f.baseline_name,
            f.baseline,
            ratio * 100.0,
            f.goal * 100.0,
            if met { "met" } else { "NOT met" }
        );
    }
    println!("records: {}, cores: {threads}", args.records);
    if args.keep {
        println!("ledger kept at {}", dir.display());
    } else {
        std::fs::remove_dir_all(&work)?;
    }
    let _ = Duration::ZERO;
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
