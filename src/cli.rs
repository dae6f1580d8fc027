//! The `ledger` command line.

use crate::audit::{self, AuditError, AuditOptions};
use crate::keyfile;
use crate::ledger::{self, Config, Ledger, Receipt};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use events::checkpoint::SignedCheckpoint;
use events::codec;
use events::jcs::{self, Value};
use events::keys::{KeyId, PublicKey};
use events::merkle::{self, Hash};
use events::record::Record;
use events::statement::{from_serde, Statement};
use events::time::OffsetTime;
use events::vocab::{Clock, EventKind};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Prints a line to stdout; a reader that went away (`ledger city … | head`)
/// ends the command quietly instead of a panic.
macro_rules! emit {
    ($($arg:tt)*) => {{
        let mut out = std::io::stdout().lock();
        if writeln!(out, $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

#[derive(Parser)]
#[command(
    name = "ledger",
    version,
    about = "Tamper-evident audit ledger for government–enterprise interactions"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Tuning {
    /// Group commit: most records per batch.
    #[arg(long, default_value_t = 1024)]
    batch_max: usize,
    /// Group commit: most milliseconds to wait for more records.
    #[arg(long, default_value_t = 0)]
    batch_wait_ms: u64,
}

impl Tuning {
    fn config(&self) -> Config {
        Config {
            batch_max: self.batch_max.clamp(1, 65_536),
            batch_wait: Duration::from_millis(self.batch_wait_ms.min(10_000)),
            ..Config::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create a new ledger; the root authority's secret key goes to a file outside the data directory.
    Init {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        origin: String,
        #[arg(long)]
        root_key_out: PathBuf,
        /// Declare a simulated clock (imports of historical scenarios) starting at this time, e.g. 2006-01-04T09:00:00+08:00.
        #[arg(long)]
        simulated_clock_from: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Write a new Ed25519 secret key file (0600) and print its public key and key id.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign and append a statement (STATEMENT.json), or append signed statements from stdin (NDJSON).
    Append {
        #[arg(long)]
        data: PathBuf,
        /// The actor's secret key file (with STATEMENT.json).
        #[arg(long)]
        key: Option<PathBuf>,
        /// Read signed submissions as NDJSON from standard input.
        #[arg(long)]
        stdin: bool,
        statement: Option<PathBuf>,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Create a new ledger with a realistic signed history of N records.
    Generate {
        #[arg(long)]
        data: PathBuf,
        /// Records to make, genesis included; the complaints the ledger derives
        /// itself from flagged inspections (a few per thousand) come on top.
        #[arg(long)]
        records: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where the root key goes (default: DATA.root.key beside the data directory).
        #[arg(long)]
        root_key_out: Option<PathBuf>,
    },
    /// Verify a data directory or an export; exit 0 when sound, 1 with the first bad seq otherwise.
    Verify {
        #[arg(long)]
        data: Option<PathBuf>,
        #[arg(long)]
        export: Option<PathBuf>,
        /// The signed checkpoint of the export's size.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The ledger's checkpoint verifier key (name+hexid+base64, or a file).
        #[arg(long)]
        key: Option<String>,
        /// The root authority's public key you trust (base64, or a file).
        #[arg(long)]
        root: Option<String>,
        /// An older signed checkpoint you kept: the history must be consistent with it.
        #[arg(long)]
        since: Option<PathBuf>,
        /// Threads (0 = all cores).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// Check that a receipt's record is still included in a newer checkpoint.
    VerifyReceipt {
        receipt: PathBuf,
        /// A newer signed checkpoint.
        #[arg(long)]
        checkpoint: PathBuf,
        /// The ledger's checkpoint verifier key.
        #[arg(long)]
        key: String,
        /// Take the proofs from this data directory...
        #[arg(long)]
        data: Option<PathBuf>,
        /// ...or from files printed by `ledger proof inclusion` and `ledger proof consistency`.
        #[arg(long)]
        inclusion: Option<PathBuf>,
        #[arg(long)]
        consistency: Option<PathBuf>,
    },
    /// Export the first N records as NDJSON leaves, with the signed checkpoint of that size in FILE.checkpoint.
    Export {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        size: Option<u64>,
    },
    /// Print an inclusion or consistency proof.
    Proof {
        #[command(subcommand)]
        kind: ProofKind,
    },
    /// Print one record with its hashes and receipt.
    Show {
        #[arg(long)]
        data: PathBuf,
        seq: u64,
    },
    /// Serve the HTTP API and the dashboard (`--demo`: the Hunan 2006 scenario).
    Serve(crate::serve::ServeArgs),
    /// The main demo: `ledger serve --demo` (same options).
    Demo(crate::serve::ServeArgs),
    /// Bearer tokens of the HTTP service.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Discard the persisted projections and rebuild them from the log (the ledger must not be served meanwhile).
    Rebuild {
        #[arg(long)]
        data: PathBuf,
    },
    /// Measure throughput against baselines taken in the same run.
    Bench(crate::bench::BenchArgs),
    /// A case's status: state, responsible body, due dates and what is overdue at --at.
    Case {
        #[arg(long)]
        data: PathBuf,
        id: String,
        #[command(flatten)]
        as_of: AsOfArgs,
        /// Business time at which lateness is judged (default: the latest recorded_at in view).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// A city's accountability record over a period, every figure as numerator/denominator.
    City {
        #[arg(long)]
        data: PathBuf,
        /// The city's body id (e.g. hn.changsha) or its name (长沙市).
        name: String,
        /// First day of the period (default: 1 January of the last year in view).
        #[arg(long)]
        from: Option<String>,
        /// Last day of the period (default: 31 December of that year).
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        as_of: AsOfArgs,
        /// Business time at which lateness is judged (default: the end of the period).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The yearly ranking of the cities (R24), with the top three.
    Ranking {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        as_of: AsOfArgs,
        /// Business time at which lateness is judged (default: the end of the year).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Promises, optionally only overdue, breached or disputed ones, or those binding one body today.
    Promises {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, value_parser = ["overdue", "breached", "disputed"])]
        status: Option<String>,
        /// The body bound today (after reorganisations).
        #[arg(long)]
        body: Option<String>,
        #[command(flatten)]
        as_of: AsOfArgs,
        /// Business time at which lateness is judged (default: the latest recorded_at in view).
        #[arg(long)]
        at: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The inspection registry with its flags (R13, R14).
    Inspections {
        #[arg(long)]
        data: PathBuf,
        /// Only flagged inspections (unapproved, unregistered, repeated, over the cap, fee demanded).
        #[arg(long)]
        flagged: bool,
        #[command(flatten)]
        as_of: AsOfArgs,
        #[arg(long)]
        json: bool,
    },
    /// Every record of a case, with seq, times, actor and body, and the command that proves its inclusion.
    Timeline {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        case: String,
        #[command(flatten)]
        as_of: AsOfArgs,
        #[arg(long)]
        json: bool,
    },
}

/// Which moment a read reflects (recorded time: what the ledger knew then).
#[derive(Args, Clone, Debug)]
pub struct AsOfArgs {
    /// Reflect only the first N records.
    #[arg(long)]
    as_of_seq: Option<u64>,
    /// Reflect only records recorded at or before this instant (YYYY-MM-DDTHH:MM:SS.mmmZ).
    #[arg(long)]
    as_of: Option<String>,
}

impl AsOfArgs {
    fn resolve(&self) -> Result<crate::reads::AsOf> {
        Ok(crate::reads::AsOf {
            seq: self.as_of_seq,
            time: self
                .as_of
                .as_deref()
                .map(|t| events::time::Timestamp::parse(t).map_err(|e| anyhow!("--as-of: {e}")))
                .transpose()?,
        })
    }
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token (printed once; only its hash is stored).
    Create {
        #[arg(long)]
        data: PathBuf,
        /// supervisor or auditor
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token by its id (the part after `lt1.`).
    Revoke {
        #[arg(long)]
        data: PathBuf,
        id: String,
    },
    /// List tokens (ids, roles, labels, revocation), never the secrets.
    List {
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum ProofKind {
    Inclusion {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        seq: u64,
        /// Tree size (default: the latest checkpoint).
        #[arg(long)]
        size: Option<u64>,
    },
    Consistency {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        old: u64,
        #[arg(long)]
        new: Option<u64>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ledger: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn open(data: &Path, config: Config) -> Result<Ledger> {
    let l = Ledger::open(data, config)?;
    for n in &l.notices {
        eprintln!("ledger: {n}");
    }
    Ok(l)
}

fn view(data: &Path) -> Result<ledger::LogView> {
    let v = ledger::LogView::open(data)?;
    if let Some(t) = &v.tail {
        eprintln!("ledger: note: {t}");
    }
    Ok(v)
}

fn hexes(p: &[Hash]) -> Vec<String> {
    p.iter().map(|h| codec::hex(h)).collect()
}

fn unhexes(v: &serde_json::Value) -> Result<Vec<Hash>> {
    v.as_array()
        .ok_or_else(|| anyhow!("proof must be a list of hex hashes"))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(codec::unhex::<32>)
                .ok_or_else(|| anyhow!("proof element {h} is not 64 hex characters"))
        })
        .collect()
}

fn run(cmd: Command) -> Result<ExitCode> {
    match cmd {
        Command::Init {
            data,
            origin,
            root_key_out,
            simulated_clock_from,
            description,
        } => {
            let root = keyfile::generate()?;
            let (clock, t) = match simulated_clock_from {
                Some(s) => (
                    Clock::Simulated,
                    Some(
                        OffsetTime::parse(&s)
                            .map_err(|e| anyhow!("--simulated-clock-from: {e}"))?,
                    ),
                ),
                None => (Clock::Real, None),
            };
            // Everything that can be refused is refused before the root key
            // exists anywhere; a failure after it is written removes it.
            ledger::check_new_ledger(&data, &origin)?;
            let public_out = keyfile::public_path(&root_key_out).map_err(|e| anyhow!(e))?;
            if keyfile::is_inside(&root_key_out, &data) {
                bail!("--root-key-out must be outside the data directory: the operator of the data directory must not hold the root key");
            }
            if public_out.exists() {
                bail!(
                    "{} exists; the root public key is written to a new file beside the root key",
                    public_out.display()
                );
            }
            keyfile::write_key(&root_key_out, &root)?;
            let made = keyfile::write_public(
                &public_out,
                &format!("{}\n", PublicKey(root.verifying_key())),
            )
            .map_err(anyhow::Error::from)
            .and_then(|()| {
                ledger::init(&data, &origin, &root, clock, t, &description).map_err(Into::into)
            });
            let info = match made {
                Ok(info) => info,
                Err(e) => {
                    // No ledger names this root key: it must not outlive the failure.
                    let _ = std::fs::remove_file(&root_key_out);
                    let _ = std::fs::remove_file(&public_out);
                    return Err(e);
                }
            };
            eprintln!(
                "ledger: created {} (origin {origin}, clock {})",
                data.display(),
                clock.name()
            );
            eprintln!(
                "ledger: root key written to {} (public key in {})",
                root_key_out.display(),
                public_out.display()
            );
            eprintln!("ledger: root public key {}", info.root_public);
            println!("{}", info.checkpoint_vkey);
            Ok(ExitCode::SUCCESS)
        }
        Command::Keygen { out } => {
            let k = keyfile::generate()?;
            keyfile::write_key(&out, &k)?;
            let public = PublicKey(k.verifying_key());
            println!(
                "{}",
                serde_json::json!({"public_key": public.to_string(), "key_id": KeyId::of(&k.verifying_key()).to_string()})
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Append {
            data,
            key,
            stdin,
            statement,
            tuning,
        } => {
            if stdin {
                if statement.is_some() || key.is_some() {
                    bail!("--stdin reads signed statements from standard input: give neither STATEMENT.json nor --key with it");
                }
                let l = open(&data, tuning.config())?;
                let lines = StdinLines::new(std::io::stdin().lock());
                let numbers = lines.numbers.clone();
                let failed = lines.failed.clone();
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                let (_, bad) = l.append_stream(lines, 64, |i, _, r| {
                    let (number, too_long) = numbers.borrow().get(i).copied().unwrap_or((i + 1, false));
                    let line = match r {
                        Ok(rc) => rc.to_json(),
                        Err(_) if too_long => serde_json::json!({"line": number, "error": {"code": events::codes::Code::RecordTooLarge.as_str(), "message": format!("the line is longer than {} bytes, the largest record; it was skipped", events::record::RECORD_BYTES_MAX)}}),
                        Err(e) => serde_json::json!({"line": number, "error": {"code": e.code.as_str(), "message": e.message}}),
                    };
                    let _ = writeln!(out, "{line}");
                    // Flushed as soon as durable, so whatever was printed survives a crash.
                    let _ = out.flush();
                });
                drop(out);
                l.close()?;
                if let Some(e) = failed.borrow_mut().take() {
                    bail!("reading standard input stopped after {} lines: {e}; the lines before were handled as printed", numbers.borrow().len());
                }
                return Ok(if bad > 0 {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                });
            }
            let path =
                statement.ok_or_else(|| anyhow!("give STATEMENT.json (with --key) or --stdin"))?;
            let text = read_bounded(&path, STATEMENT_FILE_BYTES_MAX)?;
            let signer = key.map(|k| keyfile::read_key(&k)).transpose()?;
            let l = open(&data, tuning.config())?;
            let bytes = match signer {
                Some(k) => sign_draft(&text, &k, l.origin())?,
                None => text.trim_ascii().to_vec(),
            };
            let r = l.submit(&bytes);
            // The receipt is shown once the record is durable, before the
            // ledger closes: a failure to close must not hide it.
            if let Ok(rc) = &r {
                println!("{}", serde_json::to_string_pretty(&rc.to_json())?);
            }
            l.close()?;
            match r {
                Ok(_) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    println!(
                        "{}",
                        serde_json::json!({"error": {"code": e.code.as_str(), "message": e.message}})
                    );
                    eprintln!("ledger: refused: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Generate {
            data,
            records,
            seed,
            root_key_out,
        } => {
            let root_out = root_key_out
                .unwrap_or_else(|| PathBuf::from(format!("{}.root.key", data.display())));
            let public_out = keyfile::public_path(&root_out).map_err(|e| anyhow!(e))?;
            if public_out.exists() {
                bail!(
                    "{} exists; the root public key is written to a new file beside the root key",
                    public_out.display()
                );
            }
            let s = crate::generate::generate(
                &data,
                &root_out,
                &crate::generate::GenerateOptions { records, seed },
            )?;
            keyfile::write_public(&public_out, &format!("{}\n", s.root_public))?;
            eprintln!(
                "ledger: generated {} records ({} refused) in {}",
                s.records,
                s.rejected,
                data.display()
            );
            eprintln!(
                "ledger: root key in {}; root public key {}",
                root_out.display(),
                s.root_public
            );
            println!("{}", s.checkpoint_vkey);
            Ok(if s.rejected > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Verify {
            data,
            export,
            checkpoint,
            key,
            root,
            since,
            threads,
        } => {
            let opts = AuditOptions {
                trusted_root: root.as_deref().map(read_public_key).transpose()?,
                checkpoint_key: key.as_deref().map(read_note_verifier).transpose()?,
                since: since
                    .map(|p| std::fs::read(&p).with_context(|| format!("reading {}", p.display())))
                    .transpose()?,
                threads,
                progress: true,
            };
            let root_checked = opts.trusted_root.is_some();
            let started = std::time::Instant::now();
            let result = match (data, export) {
                (Some(_), None) if checkpoint.is_some() => bail!(
                    "--checkpoint is the signed checkpoint of an export (--export FILE); a data \
                     directory holds its own. To check its history against a checkpoint you \
                     kept, give it as --since"
                ),
                (Some(d), None) => audit::verify_data_dir(&d, opts),
                (None, Some(e)) => {
                    let cp = checkpoint
                        .unwrap_or_else(|| PathBuf::from(format!("{}.checkpoint", e.display())));
                    let note =
                        std::fs::read(&cp).with_context(|| format!("reading {}", cp.display()))?;
                    audit::verify_export(&e, &note, opts)
                }
                _ => bail!("give exactly one of --data DIR or --export FILE"),
            };
            match result {
                Ok(r) => {
                    let secs = started.elapsed().as_secs_f64();
                    println!(
                        "ok: {} records of {} verified ({} checkpoint{}), root {}",
                        r.records,
                        r.origin,
                        r.checkpoints,
                        if r.checkpoints == 1 { "" } else { "s" },
                        codec::b64(&r.root)
                    );
                    println!(
                        "clock: {}{}",
                        r.clock.name(),
                        if r.clock == Clock::Simulated {
                            " (recorded_at was supplied by the importer, not the ledger's clock)"
                        } else {
                            ""
                        }
                    );
                    if let Some(k) = r.root_key {
                        if root_checked {
                            println!("root key: {k}, the one you trust");
                        } else {
                            println!(
                                "root key: {k}, NOT checked (give --root KEY, the root authority's public key you trust, to check genesis against it)"
                            );
                        }
                    }
                    if let Some(n) = r.consistent_with {
                        println!("consistent with your checkpoint of size {n}");
                    }
                    if let Some(t) = r.unacknowledged_tail {
                        println!("note: {t}");
                    }
                    eprintln!(
                        "ledger: {:.0} records/s ({secs:.2} s)",
                        r.records as f64 / secs.max(1e-9)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(AuditError::Finding(f)) => {
                    println!("FAILED at seq {}: {}: {}", f.seq, f.code, f.message);
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        Command::VerifyReceipt {
            receipt,
            checkpoint,
            key,
            data,
            inclusion,
            consistency,
        } => verify_receipt(
            &receipt,
            &checkpoint,
            &key,
            data.as_deref(),
            inclusion.as_deref(),
            consistency.as_deref(),
        ),
        Command::Export { data, out, size } => {
            let l = view(&data)?;
            let n = size.unwrap_or(l.size());
            let note = match l.checkpoint_at(n)? {
                Some(note) => note,
                None => {
                    let (below, above) = l.nearest_checkpoints(n);
                    bail!(
                        "there is no signed checkpoint of size {n}; the nearest sizes with one are {} and {}",
                        below.map_or("none".into(), |b| b.to_string()),
                        above.map_or("none".into(), |a| a.to_string())
                    );
                }
            };
            let cp_path = with_suffix(&out, ".checkpoint");
            for p in [&out, &cp_path] {
                if std::fs::symlink_metadata(p).is_ok() {
                    bail!(
                        "{} exists; an export is written to new files (remove it or give another --out)",
                        p.display()
                    );
                }
            }
            export_files(&out, &cp_path, n, note.as_bytes(), |seq| {
                l.read_leaf(seq).map_err(Into::into)
            })?;
            eprintln!(
                "ledger: exported {n} records to {} with its checkpoint in {}",
                out.display(),
                cp_path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Proof { kind } => {
            match kind {
                ProofKind::Inclusion { data, seq, size } => {
                    let l = view(&data)?;
                    let size = size.unwrap_or(l.size());
                    let leaf = l.read_leaf(seq)?;
                    let proof = l.inclusion_proof(seq, size)?;
                    let root = l.root_at(size)?;
                    println!(
                        "{}",
                        serde_json::json!({"seq": seq, "size": size, "leaf_hash": codec::hex(&merkle::leaf_hash(&leaf)), "root": codec::b64(&root), "checkpoint": l.checkpoint_at(size)?, "proof": hexes(&proof)})
                    );
                }
                ProofKind::Consistency { data, old, new } => {
                    let l = view(&data)?;
                    let new = new.unwrap_or(l.size());
                    let proof = l.consistency_proof(old, new)?;
                    println!(
                        "{}",
                        serde_json::json!({"old": old, "new": new, "old_root": codec::b64(&l.root_at(old)?), "new_root": codec::b64(&l.root_at(new)?), "proof": hexes(&proof)})
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show { data, seq } => {
            let l = view(&data)?;
            let leaf = l.read_leaf(seq)?;
            let record: serde_json::Value = serde_json::from_slice(&leaf)?;
            let receipt = l.receipt(seq)?;
            println!(
                "{}",
                serde_json::to_string_pretty(
                    &serde_json::json!({"record": record, "receipt": receipt.to_json()})
                )?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => crate::bench::run(args),
        Command::Serve(args) => crate::serve::run(args),
        Command::Demo(mut args) => {
            args.demo = true;
            crate::serve::run(args)
        }
        Command::Token(TokenCommand::Create { data, role, label }) => {
            use crate::serve::auth;
            let role = auth::Role::parse(&role)
                .ok_or_else(|| anyhow!("--role {role:?} is not supervisor or auditor"))?;
            let (token, e) = auth::create(&data, role, &label)?;
            eprintln!(
                "ledger: created {} token {} (shown once; only its hash is stored)",
                role.as_str(),
                e.id
            );
            emit!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Revoke { data, id }) => {
            let e = crate::serve::auth::revoke(&data, &id)?;
            emit!(
                "revoked {} token {} at {}",
                e.role.as_str(),
                e.id,
                e.revoked_at.unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::List { data }) => {
            for e in crate::serve::auth::load(&data)? {
                emit!(
                    "{}  {:<10}  created {}  {}  {}",
                    e.id,
                    e.role.as_str(),
                    e.created_at,
                    e.revoked_at
                        .map_or("live".to_string(), |r| format!("revoked {r}")),
                    e.label
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Rebuild { data } => {
            let r = crate::ledger::rebuild_projections(&data)?;
            emit!(
                "ledger: rebuilt the projections of {} records in {:.2} s (snapshot {} bytes, model digest {}); peak memory {} KiB",
                r.records,
                r.seconds,
                r.snapshot_bytes,
                events::codec::hex(&r.digest),
                crate::bench::peak_rss_kib().map_or("unknown".into(), |k| k.to_string())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Case {
            data,
            id,
            as_of,
            at,
            json,
        } => {
            let folded = crate::reads::fold(&data, as_of.resolve()?)?;
            let at = parse_at(at.as_deref())?.unwrap_or(folded.last_recorded_at);
            let case = events::vocab::Id::new(id.clone()).map_err(|e| anyhow!("{e}"))?;
            let cal = projections::calendar::Calendar::builtin();
            let view = projections::views::case_view(&folded.model, &cal, &case, at)
                .ok_or_else(|| anyhow!("no case {id} in the first {} records", folded.size))?;
            print_read(json, &folded, &at, "case", serde_json::to_value(&view)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::City {
            data,
            name,
            from,
            to,
            as_of,
            at,
            json,
        } => {
            let folded = crate::reads::fold(&data, as_of.resolve()?)?;
            let city = find_city(&folded.model, &name)?;
            let year = folded.last_recorded_at.shanghai_date().year();
            let date = |s: Option<String>, d: events::time::Date| -> Result<events::time::Date> {
                s.map_or(Ok(d), |s| {
                    events::time::Date::parse(&s).map_err(|e| anyhow!("{e}"))
                })
            };
            let from = date(
                from,
                events::time::Date::from_ymd(year, 1, 1).map_err(|e| anyhow!("{e}"))?,
            )?;
            let to = date(
                to,
                events::time::Date::from_ymd(year, 12, 31).map_err(|e| anyhow!("{e}"))?,
            )?;
            if to < from {
                bail!("--to {to} is before --from {from}");
            }
            let at = match parse_at(at.as_deref())? {
                Some(t) => t,
                None => events::time::Timestamp::from_shanghai_date_end(to)
                    .map_err(|e| anyhow!("{e}"))?,
            };
            let cal = projections::calendar::Calendar::builtin();
            let rec = projections::views::city_record(&folded.model, &cal, &city, from, to, at);
            print_read(json, &folded, &at, "city", serde_json::to_value(&rec)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ranking {
            data,
            year,
            as_of,
            at,
            json,
        } => {
            let folded = crate::reads::fold(&data, as_of.resolve()?)?;
            let end =
                events::time::Date::from_ymd(year, 12, 31).map_err(|e| anyhow!("--year: {e}"))?;
            let at = match parse_at(at.as_deref())? {
                Some(t) => t,
                None => events::time::Timestamp::from_shanghai_date_end(end)
                    .map_err(|e| anyhow!("{e}"))?,
            };
            let cal = projections::calendar::Calendar::builtin();
            let rows = projections::views::ranking(&folded.model, &cal, year, at);
            if json {
                print_read(true, &folded, &at, "ranking", serde_json::to_value(&rows)?)?;
            } else {
                println!(
                    "ranking {year}, judged at {at}, as the ledger stood after {} records",
                    folded.size
                );
                for r in &rows {
                    println!(
                        "{:>3}  {:<12} {:>5}‰  closure {}/{}{}",
                        r.rank,
                        r.name,
                        r.score_permille,
                        r.closure.numerator,
                        r.closure.denominator,
                        if r.top_three { "  top three" } else { "" }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Promises {
            data,
            status,
            body,
            as_of,
            at,
            json,
        } => {
            let folded = crate::reads::fold(&data, as_of.resolve()?)?;
            let at = parse_at(at.as_deref())?.unwrap_or(folded.last_recorded_at);
            use projections::views::PromiseQuery as Q;
            let query = match status.as_deref() {
                Some("overdue") => Some(Q::Overdue),
                Some("breached") => Some(Q::Breached),
                Some("disputed") => Some(Q::Disputed),
                _ => None,
            };
            let body = body
                .map(|b| events::vocab::Id::new(b).map_err(|e| anyhow!("--body: {e}")))
                .transpose()?;
            let cal = projections::calendar::Calendar::builtin();
            let rows =
                projections::views::promise_list(&folded.model, &cal, query, body.as_ref(), at);
            print_read(json, &folded, &at, "promises", serde_json::to_value(&rows)?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspections {
            data,
            flagged,
            as_of,
            json,
        } => {
            let folded = crate::reads::fold(&data, as_of.resolve()?)?;
            let at = folded.last_recorded_at;
            let rows = projections::views::inspection_list(&folded.model, flagged);
            print_read(
                json,
                &folded,
                &at,
                "inspections",
                serde_json::to_value(&rows)?,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Timeline {
            data,
            case,
            as_of,
            json,
        } => {
            let (folded, lines) = crate::reads::timeline(&data, &case, as_of.resolve()?)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "case": case,
                        "as_of_seq": folded.size,
                        "checkpoint": folded.checkpoint.as_ref().map(|(_, n)| n.clone()),
                        "records": lines,
                    }))?
                );
            } else {
                println!(
                    "case {case} as the ledger stood after {} records (last recorded {})",
                    folded.size, folded.last_recorded_at
                );
                for l in &lines {
                    println!(
                        "{:>8}  recorded {}  occurred {}  {:<26} by {} ({})",
                        l.seq, l.recorded_at, l.occurred_at, l.kind, l.acting_for, l.statement_id
                    );
                    println!("          prove: {}", l.proof);
                }
                if let Some((size, _)) = &folded.checkpoint {
                    println!("covered by the signed checkpoint of size {size}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn parse_at(at: Option<&str>) -> Result<Option<events::time::Timestamp>> {
    at.map(|t| events::time::Timestamp::parse(t).map_err(|e| anyhow!("--at: {e}")))
        .transpose()
}

/// A city by body id or by name.
fn find_city(model: &projections::model::Model, name: &str) -> Result<events::vocab::Id> {
    let is_city = |b: &projections::model::Body| b.kind == events::vocab::BodyKind::CityGovernment;
    for (id, b) in &model.bodies {
        if is_city(b)
            && (id.as_str() == name
                || b.name.as_str() == name
                || b.name.as_str().trim_end_matches('市') == name)
        {
            return Ok(id.clone());
        }
    }
    let known: Vec<String> = model
        .bodies
        .iter()
        .filter(|(_, b)| is_city(b))
        .map(|(id, b)| format!("{id} ({})", b.name))
        .collect();
    bail!("no city {name:?}; the cities are: {}", known.join(", "))
}

/// Prints a read with what it reflects: the seq, the covering checkpoint and `at`.
fn print_read(
    json: bool,
    folded: &crate::reads::Folded,
    at: &events::time::Timestamp,
    what: &str,
    value: serde_json::Value,
) -> Result<()> {
    let out = serde_json::json!({
        "as_of_seq": folded.size,
        "at": at.to_string(),
        "checkpoint": folded.checkpoint.as_ref().map(|(_, n)| n.clone()),
        what: value,
    });
    if json {
        emit!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        emit!(
            "{what}, judged at {at}, as the ledger stood after {} records",
            folded.size
        );
        print_tree(&out[what], 0);
        if let Some((size, _)) = &folded.checkpoint {
            emit!("covered by the signed checkpoint of size {size}");
        }
    }
    Ok(())
}

/// Human-readable rendering of a read: ratios as `n/d (p%)`, nested fields indented.
fn print_tree(v: &serde_json::Value, depth: usize) {
    let pad = "  ".repeat(depth);
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match (
                    x.get("numerator").and_then(|n| n.as_u64()),
                    x.get("denominator").and_then(|d| d.as_u64()),
                ) {
                    (Some(n), Some(d)) if x.as_object().is_some_and(|o| o.len() == 2) => {
                        let pct = if d == 0 {
                            "-".to_string()
                        } else {
                            format!("{:.1}%", n as f64 * 100.0 / d as f64)
                        };
                        emit!("{pad}{k}: {n}/{d} ({pct})");
                    }
                    _ if x.is_object() || x.is_array() => {
                        emit!("{pad}{k}:");
                        print_tree(x, depth + 1);
                    }
                    _ => emit!(
                        "{pad}{k}: {}",
                        x.as_str().map_or_else(|| x.to_string(), str::to_string)
                    ),
                }
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                if x.is_object() || x.is_array() {
                    emit!("{pad}-");
                    print_tree(x, depth + 1);
                } else {
                    emit!(
                        "{pad}- {}",
                        x.as_str().map_or_else(|| x.to_string(), str::to_string)
                    );
                }
            }
        }
        other => emit!("{pad}{other}"),
    }
}

/// Turns a draft statement into a signed canonical submission. A draft has
/// `type`, `body` and `id`, and optionally `schema`, `occurred_at`,
/// `on_behalf_of`; origin, actor and issued_at are filled in here.
pub fn sign_draft(text: &[u8], key: &ed25519_dalek::SigningKey, origin: &str) -> Result<Vec<u8>> {
    let draft: serde_json::Value =
        serde_json::from_slice(text).context("STATEMENT.json is not JSON")?;
    let obj = draft
        .as_object()
        .ok_or_else(|| anyhow!("STATEMENT.json must be an object"))?;
    if obj.contains_key("signature") {
        return jcs::canonicalize(text).map_err(|e| anyhow!("{e}"));
    }
    for k in obj.keys() {
        if ![
            "type",
            "body",
            "id",
            "schema",
            "occurred_at",
            "issued_at",
            "recorded_at",
            "on_behalf_of",
        ]
        .contains(&k.as_str())
        {
            bail!("draft statement has unknown member {k:?} (expected type, body, id, schema, occurred_at, issued_at, recorded_at, on_behalf_of)");
        }
    }
    let kind = obj
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| anyhow!("draft needs \"type\""))?;
    let k = EventKind::from_name(kind).ok_or_else(|| anyhow!("unknown event type {kind:?}"))?;
    let id = obj
        .get("id")
        .and_then(|t| t.as_str())
        .ok_or_else(|| anyhow!("draft needs \"id\" (a unique statement id)"))?;
    let mut m: Vec<(String, Value)> = vec![
        (
            "actor".into(),
            Value::String(KeyId::of(&key.verifying_key()).to_string()),
        ),
        (
            "body".into(),
            from_serde(obj.get("body").unwrap_or(&serde_json::Value::Null)),
        ),
        ("format".into(), Value::Number(1.0)),
        ("id".into(), Value::String(id.into())),
        (
            // A draft that names its issued_at signs to the same bytes every
            // time (Ed25519 is deterministic), so re-running it is a safe retry.
            "issued_at".into(),
            Value::String(
                obj.get("issued_at")
                    .and_then(|t| t.as_str())
                    .map_or_else(|| ledger::wall_clock().to_string(), str::to_string),
            ),
        ),
        (
            "occurred_at".into(),
            Value::String(
                obj.get("occurred_at")
                    .and_then(|t| t.as_str())
                    .map_or_else(|| ledger::now_shanghai().to_string(), str::to_string),
            ),
        ),
        ("origin".into(), Value::String(origin.into())),
        (
            "schema".into(),
            from_serde(obj.get("schema").unwrap_or(&serde_json::json!(k.schema()))),
        ),
        ("type".into(), Value::String(kind.into())),
    ];
    if let Some(p) = obj.get("on_behalf_of") {
        m.push(("on_behalf_of".into(), from_serde(p)));
    }
    let v = Value::Object(m);
    let stmt =
        Statement::from_value(&jcs::parse(&jcs::to_canonical(&v)).map_err(|e| anyhow!("{e}"))?)
            .map_err(|e| anyhow!("{e}"))?;
    let recorded_at = match obj.get("recorded_at") {
        None => None,
        Some(t) => {
            let t = t
                .as_str()
                .ok_or_else(|| anyhow!("recorded_at must be a string"))?;
            Some(events::time::Timestamp::parse(t).map_err(|e| anyhow!("recorded_at: {e}"))?)
        }
    };
    Ok(stmt.sign(key).to_envelope(recorded_at))
}

fn verify_receipt(
    receipt: &Path,
    newer: &Path,
    key: &str,
    data: Option<&Path>,
    inclusion: Option<&Path>,
    consistency: Option<&Path>,
) -> Result<ExitCode> {
    let verifier = read_note_verifier(key)?;
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(receipt)?).context("receipt is not JSON")?;
    let r = Receipt::from_json(&r)
        .ok_or_else(|| anyhow!("receipt lacks seq, id, leaf_hash, chain_hash or checkpoint"))?;
    let origin = verifier.name().to_string();
    let old = SignedCheckpoint::open(r.checkpoint.as_bytes(), &verifier, &origin)
        .map_err(|e| anyhow!("the receipt's checkpoint does not verify: {e}"))?;
    let new = SignedCheckpoint::open(&std::fs::read(newer)?, &verifier, &origin)
        .map_err(|e| anyhow!("the newer checkpoint does not verify: {e}"))?;
    let (old, new) = (old.checkpoint, new.checkpoint);
    if new.size < old.size {
        bail!(
            "the newer checkpoint (size {}) is older than the receipt's (size {})",
            new.size,
            old.size
        );
    }
    if r.seq >= old.size {
        println!(
            "FAILED: the receipt's checkpoint (size {}) does not cover its seq {}",
            old.size, r.seq
        );
        return Ok(ExitCode::from(1));
    }
    // With the data directory, the record itself: the receipt's id, leaf
    // hash and chain hash must all be those of the record at its seq (the
    // proofs below check the leaf hash alone).
    let (inc, con) = match data {
        Some(d) => {
            let l = view(d)?;
            if r.seq >= l.size() {
                println!(
                    "FAILED: the ledger at {} holds {} records, not seq {}",
                    d.display(),
                    l.size(),
                    r.seq
                );
                return Ok(ExitCode::from(1));
            }
            let leaf = l.read_leaf(r.seq)?;
            let record = Record::parse(&leaf).map_err(|e| anyhow!("seq {}: {e}", r.seq))?;
            let mismatch = if merkle::leaf_hash(&leaf) != r.leaf_hash {
                Some("leaf hash")
            } else if record.signed.statement.id != r.id {
                Some("statement id")
            } else if events::record::chain_hash(&leaf) != r.chain_hash {
                Some("chain hash")
            } else {
                None
            };
            if let Some(what) = mismatch {
                println!(
                    "FAILED: the receipt's {what} is not that of the record at seq {}",
                    r.seq
                );
                return Ok(ExitCode::from(1));
            }
            (
                l.inclusion_proof(r.seq, new.size)?,
                l.consistency_proof(old.size, new.size)?,
            )
        }
        None => {
            let read = |p: Option<&Path>, what: &str| -> Result<Vec<Hash>> {
                let p = p.ok_or_else(|| anyhow!("give --data DIR, or --inclusion and --consistency proof files ({what} missing)"))?;
                let v: serde_json::Value = serde_json::from_slice(&std::fs::read(p)?)?;
                unhexes(v.get("proof").unwrap_or(&serde_json::Value::Null))
            };
            (
                read(inclusion, "inclusion")?,
                // Checkpoints of one size need no consistency proof.
                if old.size == new.size {
                    Vec::new()
                } else {
                    read(consistency, "consistency")?
                },
            )
        }
    };
    if let Err(e) = merkle::verify_inclusion(r.seq, new.size, &r.leaf_hash, &inc, &new.root) {
        println!(
            "FAILED: record {} is not included in the newer checkpoint (size {}): {e}",
            r.seq, new.size
        );
        return Ok(ExitCode::from(1));
    }
    if old.size != new.size {
        if let Err(e) = merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &con) {
            println!(
                "FAILED: the newer checkpoint is not an extension of the receipt's checkpoint: {e}"
            );
            return Ok(ExitCode::from(1));
        }
    } else if old.root != new.root {
        println!(
            "FAILED: two checkpoints of size {} with different roots: the log forked",
            old.size
        );
        return Ok(ExitCode::from(1));
    }
    println!(
        "ok: seq {} (leaf hash {}) is included in the checkpoint of size {}, which extends the receipt's checkpoint of size {}",
        r.seq,
        codec::hex(&r.leaf_hash),
        new.size,
        old.size
    );
    if data.is_some() {
        println!(
            "the record at seq {} is statement {:?}, as the receipt says",
            r.seq, r.id
        );
    } else {
        println!(
            "the receipt's statement id {:?} and chain hash are not checked without the record: give --data DIR to check them",
            r.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `p` with `suffix` appended to its file name, byte for byte (a name that
/// is not UTF-8 stays as it is).
fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_os_string();
    s.push(suffix);
    PathBuf::from(s)
}

/// Writes an export of the first `n` leaves to `out` and its checkpoint
/// note to `cp_path`, all or nothing: each goes to a new temporary file
/// beside it, synced, then is linked into place (never replacing a file),
/// the checkpoint first, so an `out` that exists is whole and has its
/// checkpoint. On any failure the temporary files are removed and neither
/// name is created.
fn export_files(
    out: &Path,
    cp_path: &Path,
    n: u64,
    note: &[u8],
    mut leaf: impl FnMut(u64) -> Result<Vec<u8>>,
) -> Result<()> {
    let partial = with_suffix(out, &format!(".partial-{}", std::process::id()));
    let cp_partial = with_suffix(cp_path, &format!(".partial-{}", std::process::id()));
    let create = |p: &Path| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(p)
            .with_context(|| format!("creating {}", p.display()))
    };
    let mut linked_cp = false;
    let mut write = || -> Result<()> {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, create(&partial)?);
        for seq in 0..n {
            w.write_all(&leaf(seq)?)?;
            w.write_all(b"\n")?;
        }
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        let mut c = create(&cp_partial)?;
        c.write_all(note)?;
        c.sync_all()?;
        std::fs::hard_link(&cp_partial, cp_path)
            .with_context(|| format!("creating {} (it must not exist)", cp_path.display()))?;
        linked_cp = true;
        std::fs::hard_link(&partial, out)
            .with_context(|| format!("creating {} (it must not exist)", out.display()))?;
        Ok(())
    };
    let done = write();
    let _ = std::fs::remove_file(&partial);
    let _ = std::fs::remove_file(&cp_partial);
    if done.is_err() && linked_cp {
        // Ours, linked before the export itself failed to link.
        let _ = std::fs::remove_file(cp_path);
    }
    done?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::log::sync_dir(dir).with_context(|| format!("syncing {}", dir.display()))?;
    }
    Ok(())
}

/// The largest statement file `ledger append` reads: a draft becomes a
/// record of at most 64 KiB, so a file several times that is a mistake.
const STATEMENT_FILE_BYTES_MAX: u64 = 1 << 20;

/// Reads a file of at most `max` bytes, refusing a larger one (or one
/// without end, such as a device) without reading it all.
fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > max {
        bail!(
            "{} is larger than {max} bytes; a statement is at most {} bytes",
            path.display(),
            events::record::RECORD_BYTES_MAX
        );
    }
    Ok(bytes)
}

/// The non-blank lines of standard input for `append --stdin`, each with
/// its line number and a trailing `\r` taken off. A line longer than a
/// record can be is read to its end but kept only to one byte past the
/// limit (so that it is refused, and memory stays bounded); a read error
/// ends the lines and is kept in `failed`.
struct StdinLines<R> {
    input: R,
    number: usize,
    /// Per line handed out: its number in the input, and whether it was cut.
    numbers: std::rc::Rc<std::cell::RefCell<Vec<(usize, bool)>>>,
    failed: std::rc::Rc<std::cell::RefCell<Option<std::io::Error>>>,
}

impl<R: std::io::BufRead> StdinLines<R> {
    fn new(input: R) -> Self {
        StdinLines {
            input,
            number: 0,
            numbers: Default::default(),
            failed: Default::default(),
        }
    }

    /// The next line (without its `\n`), at most `max + 1` bytes of it, and
    /// whether there was more; `None` at the end of input.
    fn read_line(&mut self, max: usize) -> std::io::Result<Option<(Vec<u8>, bool)>> {
        let mut line = Vec::new();
        let mut cut = false;
        let mut any = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(any.then_some((line, cut)));
            }
            any = true;
            let (take, end) = match buf.iter().position(|&b| b == b'\n') {
                Some(n) => (n, true),
                None => (buf.len(), false),
            };
            let room = (max + 1).saturating_sub(line.len());
            line.extend_from_slice(&buf[..take.min(room)]);
            cut |= take > room;
            self.input.consume(take + usize::from(end));
            if end {
                return Ok(Some((line, cut)));
            }
        }
    }
}

impl<R: std::io::BufRead> Iterator for StdinLines<R> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            let (mut line, cut) = match self.read_line(events::record::RECORD_BYTES_MAX) {
                Ok(Some(l)) => l,
                Ok(None) => return None,
                Err(e) => {
                    *self.failed.borrow_mut() = Some(e);
                    return None;
                }
            };
            self.number += 1;
            if !cut && line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                continue;
            }
            self.numbers.borrow_mut().push((
                self.number,
                cut || line.len() > events::record::RECORD_BYTES_MAX,
            ));
            return Some(line);
        }
    }
}

/// Reads a record file line for `show`-like tools (kept for tests).
pub fn parse_leaf(bytes: &[u8]) -> Result<Record> {
    Record::parse(bytes).map_err(|e| anyhow!("{e}"))
}

/// Parses a public key given as base64 or as a path to a file holding it.
pub fn read_public_key(arg: &str) -> Result<PublicKey> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg)?.trim().to_string()
    } else {
        arg.trim().to_string()
    };
    PublicKey::parse(&text).ok_or_else(|| {
        anyhow!("{arg:?} is not a base64 Ed25519 public key (or a file holding one)")
    })
}

/// Parses a checkpoint verifier key given as `name+hexid+base64` or as a file holding it.
pub fn read_note_verifier(arg: &str) -> Result<events::note::NoteVerifier> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg)?.trim().to_string()
    } else {
        arg.trim().to_string()
    };
    events::note::NoteVerifier::from_vkey(&text)
        .map_err(|e| anyhow!("{arg:?} is not a checkpoint verifier key (name+hexid+base64): {e}"))
}
