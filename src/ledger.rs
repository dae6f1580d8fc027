//! The ledger: opening a data directory, the single-writer sequencer with group
//! commit, receipts, and reads.
//!
//! Data directory layout:
//! - `LOCK`: held with an exclusive lock while open; holds the owner's pid.
//! - `log/NNNNNNNNNNNNNNNNNNNN.seg`: the log (source of truth, see [`crate::log`]).
//! - `checkpoint.key`, `system.key`: the ledger's own secret keys (0600).
//! - `merkle.hashes`: the Merkle hash store (derived; verified against the log on open).
//! - `index/`: sled, holding derived indexes (derived; rebuilt when missing or behind).
//!
//! Architecture invariant: only the sequencer thread appends; it owns the chain
//! head, the registry and the hash store. Callers verify signatures on their own
//! threads first, so signature checks use every core.

use crate::hashes::{HashFileReader, HashStore};
use crate::idfilter::IdFilter;
use crate::keyfile;
use crate::log::{self, LogIndex, LogWriter, FRAME_CHECKPOINT, FRAME_RECORD};
use crate::projstore;
use ed25519_dalek::{SigningKey, VerifyingKey};
use events::checkpoint::{Checkpoint, SignedCheckpoint};
use events::codec;
use events::codes::{Code, Rejection};
use events::keys::{KeyId, PublicKey};
use events::merkle::{self, Hash};
use events::note::{NoteSigner, NoteVerifier};
use events::record::{self, ChainHash, Record, GENESIS_PREV, RECORD_BYTES_MAX};
use events::registry::{check_issued_at, Registry};
use events::statement::{Envelope, Statement};
use events::time::{OffsetTime, Timestamp};
use events::vocab::{Clock, Event, LedgerGenesis, Text};
use projections::model::{Applied, Flag, Model};
use projections::rules;
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The index layout version; a different stored version means rebuild.
const INDEX_VERSION: &[u8] = b"ledger-index-v3";

/// The most statements one request may carry (one HTTP batch, one stdin window).
pub const BATCH_ITEMS_MAX: usize = 4096;
/// A start-up that replayed at least this many records saves a projection
/// snapshot at once, so the next start-up does not replay them again.
const SNAPSHOT_AFTER_REPLAY: u64 = 10_000;
/// The sequencer saves a projection snapshot once this many records were
/// appended since the last one and no append has arrived for
/// [`SNAPSHOT_IDLE`]: a save holds the model for seconds on a large ledger
/// (about 4 s for 1,000,000 records), so it waits for a quiet moment rather
/// than stall the appends of a busy one.
const SNAPSHOT_EVERY: u64 = 250_000;
/// How long the queue must stay empty before a due snapshot is saved.
const SNAPSHOT_IDLE: Duration = Duration::from_millis(200);
/// Without a quiet moment, a snapshot is saved anyway after this many
/// records, bounding the replay after a crash to about 8 s: replay folds
/// about 500,000 records/s on the 2-core host (`ledger bench`, projection
/// rebuild, session 10). It was 1,000,000 when replay ran at 125,000/s; a
/// forced save holds the sequencer about 4 s on a 1M-record model.
const SNAPSHOT_FORCE: u64 = 4_000_000;

/// Tunables of an open ledger. Every queue and batch is bounded.
#[derive(Clone, Debug)]
pub struct Config {
    /// Group commit: at most this many records per batch.
    pub batch_max: usize,
    /// Group commit: wait at most this long for more records after the first.
    pub batch_wait: Duration,
    /// Requests waiting for the sequencer (back-pressure beyond it).
    pub queue_max: usize,
    pub segment_bytes_max: u64,
    /// sled's cache (its default is 1 GiB; ours is bounded).
    pub index_cache_bytes: u64,
    /// Threads used to verify signatures of a batch before the sequencer.
    pub verify_threads: usize,
    /// A projection snapshot is due after this many records; it is saved at
    /// the first quiet moment (see [`SNAPSHOT_EVERY`]).
    pub snapshot_every: u64,
    /// ... and after this many regardless ([`SNAPSHOT_FORCE`]).
    pub snapshot_force: u64,
    /// How long the queue must stay empty for a due snapshot ([`SNAPSHOT_IDLE`]).
    pub snapshot_idle: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            batch_max: 1024,
            batch_wait: Duration::ZERO,
            queue_max: 256,
            segment_bytes_max: log::SEGMENT_BYTES_MAX,
            index_cache_bytes: 64 << 20,
            verify_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            snapshot_every: SNAPSHOT_EVERY,
            snapshot_force: SNAPSHOT_FORCE,
            snapshot_idle: SNAPSHOT_IDLE,
        }
    }
}

/// What a caller gets once its record is durable. It depends only on the log:
/// asking again with the same statement gives the same receipt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub seq: u64,
    pub id: String,
    pub leaf_hash: Hash,
    pub chain_hash: ChainHash,
    /// The signed checkpoint of the batch that covers this record.
    pub checkpoint: String,
}

impl Receipt {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "seq": self.seq,
            "id": self.id,
            "leaf_hash": codec::hex(&self.leaf_hash),
            "chain_hash": codec::hex(&self.chain_hash),
            "checkpoint": self.checkpoint,
        })
    }

    pub fn from_json(v: &serde_json::Value) -> Option<Receipt> {
        Some(Receipt {
            seq: v.get("seq")?.as_u64()?,
            id: v.get("id")?.as_str()?.to_string(),
            leaf_hash: codec::unhex::<32>(v.get("leaf_hash")?.as_str()?)?,
            chain_hash: codec::unhex::<32>(v.get("chain_hash")?.as_str()?)?,
            checkpoint: v.get("checkpoint")?.as_str()?.to_string(),
        })
    }
}

/// A submission that passed the stateless checks on the caller's thread.
pub struct Prepared {
    env: Envelope,
    /// Whether the signature was verified already (the key was known then).
    signature_checked: bool,
}

impl Prepared {
    /// Whether the signature was checked on the caller's thread; if not, the
    /// sequencer checks it (the key was granted after the caller looked).
    pub fn signature_checked(&self) -> bool {
        self.signature_checked
    }
}

type Reply = mpsc::Sender<Vec<Result<Receipt, Rejection>>>;

enum Request {
    Append { items: Vec<Prepared>, reply: Reply },
}

/// The latest committed state, for readers.
#[derive(Clone, Debug)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
    pub checkpoint: String,
    pub last_recorded_at: Timestamp,
}

/// State shared between the sequencer and readers.
struct Shared {
    origin: String,
    clock: Clock,
    keys: RwLock<HashMap<KeyId, VerifyingKey>>,
    head: RwLock<Head>,
    log: RwLock<LogIndex>,
    db: sled::Db,
    failed: Mutex<Option<String>>,
    /// Records reflected in the sled index (the indexer runs behind the log).
    indexed: Arc<std::sync::atomic::AtomicU64>,
    hashes: HashFileReader,
    verifier: NoteVerifier,
    /// The domain model as of the durable head. The sequencer holds the write
    /// lock from the first record it stages until the batch is synced and the
    /// head published, so readers never see a record that is not durable.
    model: RwLock<Model>,
    stats: Mutex<Stats>,
    /// Who holds each key (a key's holder never changes).
    holders: RwLock<HashMap<KeyId, events::keys::Party>>,
}

/// What the sequencer has done since the ledger was opened (for metrics).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub batches: u64,
    pub records: u64,
    pub batch_max: u64,
    /// Total and longest time in the batch's write + fdatasync.
    pub fsync_micros: u64,
    pub fsync_micros_max: u64,
    /// Total time from taking a batch to answering its callers (the
    /// checks, the checkpoint's signature, the write and fdatasync).
    pub commit_micros: u64,
    /// Appends whose statement id was looked up in the sled index: while the
    /// id filter fills after an open, for ids used before, and for the new
    /// ids the filter could not rule out (about one in a hundred).
    pub id_lookups: u64,
    /// Whether the sequencer's id filter is filled (see [`crate::idfilter`]).
    pub id_filter_ready: bool,
}

/// An open ledger. Dropping it stops the sequencer after the batch in flight.
pub struct Ledger {
    dir: PathBuf,
    config: Config,
    tx: Option<SyncSender<Request>>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    _lock: File,
    /// Lines worth telling the operator about (a cut tail, a rebuilt index).
    pub notices: Vec<String>,
}

/// The wall clock (token creation times, the service's logs).
pub fn now_timestamp() -> Timestamp {
    now()
}

fn now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_millis(ms)
        .unwrap_or_else(|_| Timestamp::parse("2000-01-01T00:00:00.000Z").expect("valid literal"))
}

/// The wall clock as an `OffsetTime` in China Standard Time (+08:00), whole seconds.
pub fn now_shanghai() -> OffsetTime {
    let ms = now().unix_millis();
    let whole = Timestamp::from_unix_millis(ms - ms.rem_euclid(1000)).unwrap_or(now());
    OffsetTime::new(whole, 8 * 60).expect("whole-second instant within range")
}

pub fn wall_clock() -> Timestamp {
    now()
}

/// Why creating, opening or reading a ledger failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{} is not a ledger data directory (no log/); create one with `ledger init`", .0.display())]
    NotADataDir(PathBuf),
    #[error("{} holds no records (not even genesis); it was never initialised", .0.display())]
    Uninitialised(PathBuf),
    #[error("{} exists and is not empty; a ledger is created in a new directory", .0.display())]
    NotEmpty(PathBuf),
    #[error("data directory {} is in use by pid {pid}; stop that process first", .dir.display())]
    InUse { dir: PathBuf, pid: String },
    #[error("origin {0:?} must be 1 to 128 characters of A-Z a-z 0-9 . _ / : - (for example example.gov.cn/investor-complaints)")]
    BadOrigin(String),
    /// What `init` was given cannot make a genesis record.
    #[error("{0}")]
    BadGenesis(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    OtherIo(#[from] std::io::Error),
    #[error(transparent)]
    Log(#[from] log::LogError),
    #[error("the index: {0}")]
    Index(#[from] sled::Error),
    #[error(transparent)]
    KeyFile(#[from] keyfile::KeyFileError),
    #[error(transparent)]
    Projection(#[from] projstore::StoreError),
    #[error(transparent)]
    Replay(#[from] crate::reads::ReadError),
    /// The data directory disagrees with itself: a frame that does not hold
    /// the record it should, key files that do not match genesis, records
    /// that do not hash to the last signed checkpoint.
    #[error("{0}")]
    Damaged(String),
    /// A size or seq the caller asked for that the ledger does not have.
    #[error("size {asked} is beyond the ledger's size {size}")]
    BeyondSize { asked: u64, size: u64 },
    #[error("{0}")]
    Proof(#[from] merkle::ProofError),
    #[error("no checkpoint covers seq {0}")]
    NoCheckpoint(u64),
    #[error("this view of the log was opened without its Merkle tree")]
    NoMerkleTree,
    #[error("the writer stopped ({0}); reads resume after a restart")]
    WriterStopped(String),
    /// Why the writer stopped, as `close` reports it.
    #[error("{0}")]
    WriterFailed(String),
    /// The domain model is held by the writer or was poisoned by a panic.
    #[error("the domain model is unavailable ({0})")]
    ModelUnavailable(&'static str),
}

impl LedgerError {
    /// True when the caller, not the ledger, is at fault.
    pub fn is_request_error(&self) -> bool {
        matches!(self, LedgerError::BeyondSize { .. })
    }
}

fn io_what(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LedgerError {
    let what = what.into();
    move |source| LedgerError::Io { what, source }
}

pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Takes the data directory's lock, or says who holds it.
fn lock_dir(dir: &Path) -> Result<File> {
    let path = dir.join("LOCK");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_what(format!("opening {}", path.display())))?;
    // A lock this process released can stay held for an instant by a child
    // that another thread is forking (the child shares the descriptor until
    // its exec closes it): when the holder named is this process, wait a
    // little before calling the directory busy.
    let mut waited = Duration::ZERO;
    loop {
        match f.try_lock() {
            Err(std::fs::TryLockError::WouldBlock) if waited < Duration::from_secs(2) => {
                let mut s = String::new();
                let _ = f.rewind();
                let _ = f.read_to_string(&mut s);
                if s.trim() != std::process::id().to_string() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
                waited += Duration::from_millis(10);
            }
            _ => break,
        }
    }
    let _ = f.rewind();
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            let pid = s.trim();
            return Err(LedgerError::InUse {
                dir: dir.to_path_buf(),
                pid: if pid.is_empty() { "unknown" } else { pid }.to_string(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(io_what("locking the data directory")(e))
        }
    }
    f.set_len(0)?;
    f.rewind()?;
    writeln!(f, "{}", std::process::id())?;
    Ok(f)
}

fn checkpoint_signer(dir: &Path) -> Result<NoteSigner> {
    let text = keyfile::read_private(&dir.join("checkpoint.key"))?;
    NoteSigner::from_skey(text.trim())
        .map_err(|e| LedgerError::Damaged(format!("checkpoint.key: {e}")))
}

/// Facts about a new ledger.
pub struct InitInfo {
    pub checkpoint_vkey: String,
    pub root_public: PublicKey,
    pub system_public: PublicKey,
}

/// Origins are ASCII without spaces or `+` (they name the checkpoint key too).
/// What [`init`] refuses before it writes anything: a bad origin, or a
/// data directory that exists and is not empty. Callers that write files
/// of their own first (the root key) check this before them.
pub fn check_new_ledger(dir: &Path, origin: &str) -> Result<()> {
    check_origin(origin)?;
    if dir.exists()
        && fs::read_dir(dir)
            .map_err(io_what(format!("reading {}", dir.display())))?
            .next()
            .is_some()
    {
        return Err(LedgerError::NotEmpty(dir.to_path_buf()));
    }
    Ok(())
}

pub fn check_origin(origin: &str) -> Result<()> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b"._/:-".contains(&b);
    if origin.is_empty() || origin.len() > 128 || !origin.bytes().all(ok) {
        return Err(LedgerError::BadOrigin(origin.to_string()));
    }
    Ok(())
}

/// Creates a new ledger in `dir` (which must not exist or be empty): writes its
/// own keys and the genesis record, signed by `root`, as the first batch.
/// `genesis_time` is used for a simulated clock; a real clock uses now.
pub fn init(
    dir: &Path,
    origin: &str,
    root: &SigningKey,
    clock: Clock,
    genesis_time: Option<OffsetTime>,
    description: &str,
) -> Result<InitInfo> {
    init_with_keys(
        dir,
        origin,
        root,
        keyfile::generate()?,
        keyfile::generate()?,
        clock,
        genesis_time,
        description,
    )
}

/// [`init`] with the ledger's own checkpoint and system keys given, so that a
/// generated ledger is byte-identical for the same seed.
#[allow(clippy::too_many_arguments)]
pub fn init_with_keys(
    dir: &Path,
    origin: &str,
    root: &SigningKey,
    checkpoint_key: SigningKey,
    system: SigningKey,
    clock: Clock,
    genesis_time: Option<OffsetTime>,
    description: &str,
) -> Result<InitInfo> {
    check_new_ledger(dir, origin)?;
    fs::create_dir_all(dir.join("log")).map_err(io_what(format!("creating {}", dir.display())))?;
    let _lock = lock_dir(dir)?;
    let signer = NoteSigner::new(origin, checkpoint_key)
        .map_err(|e| LedgerError::BadGenesis(e.to_string()))?;
    keyfile::write_private(
        &dir.join("checkpoint.key"),
        &format!("{}\n", signer.to_skey()),
    )?;
    keyfile::write_key(&dir.join("system.key"), &system)?;
    let (issued_at, occurred_at) = match (clock, genesis_time) {
        (Clock::Simulated, Some(t)) => (t.instant(), t),
        (Clock::Simulated, None) => {
            return Err(LedgerError::BadGenesis(
                "a ledger with a simulated clock needs its genesis time".into(),
            ))
        }
        (Clock::Real, _) => (now(), now_shanghai()),
    };
    let genesis = LedgerGenesis {
        origin: Text::new(origin).map_err(|e| LedgerError::BadGenesis(e.to_string()))?,
        root_key: PublicKey(root.verifying_key()),
        checkpoint_key: Text::new(signer.verifier().to_vkey())
            .map_err(|e| LedgerError::BadGenesis(e.to_string()))?,
        system_key: PublicKey(system.verifying_key()),
        clock,
        description: Text::new(description).map_err(|e| LedgerError::BadGenesis(e.to_string()))?,
    };
    let stmt = Statement {
        origin: origin.to_string(),
        id: "genesis".into(),
        actor: KeyId::of(&root.verifying_key()),
        on_behalf_of: None,
        issued_at,
        occurred_at,
        event: Event::LedgerGenesis(genesis),
    };
    let signed = stmt.sign(root);
    let rec = record::encode(
        0,
        issued_at,
        &GENESIS_PREV,
        &signed.bytes,
        &signed.signature,
    );
    let mut tree = merkle::RootBuilder::new();
    tree.push(merkle::leaf_hash(&rec));
    let cp = Checkpoint {
        origin: origin.to_string(),
        size: 1,
        root: tree.root(),
        extensions: vec![],
    };
    let note = SignedCheckpoint::sign(cp, &signer)
        .map_err(|e| LedgerError::BadGenesis(e.to_string()))?
        .note;
    let mut frames = Vec::new();
    log::encode_frame(FRAME_RECORD, &rec, &mut frames);
    log::encode_frame(FRAME_CHECKPOINT, note.as_bytes(), &mut frames);
    let seg = dir.join("log").join(log::segment_name(0));
    let mut f = OpenOptions::new().create_new(true).write(true).open(&seg)?;
    f.write_all(&frames)?;
    f.sync_all()?;
    log::sync_dir(&dir.join("log"))?;
    log::sync_dir(dir)?;
    // The data directory's own entry, which `create_dir_all` may have made:
    // without it a power failure could lose the whole new ledger, records
    // acknowledged after `init` included.
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    log::sync_dir(parent).map_err(io_what(format!("syncing {}", parent.display())))?;
    Ok(InitInfo {
        checkpoint_vkey: signer.verifier().to_vkey(),
        root_public: PublicKey(root.verifying_key()),
        system_public: PublicKey(system.verifying_key()),
    })
}

fn be(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

fn key_with(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + rest.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(rest);
    k
}

/// Writes the index entries of consecutive records ending before seq `end`,
/// then `m:indexed` = `end`. The keys go in byte order, one insert each:
/// sled puts neighbours in the same leaf one after another instead of
/// visiting leaves at random (one atomic `Batch` is a hash map, applied in
/// its order), about a quarter more appends/s with group commit. A crash
/// part-way leaves `m:indexed` at the previous group, and the next open
/// writes the group again (the same keys and values); that `m:indexed` never
/// survives without the entries before it rests on sled recovering a prefix
/// of its writes, as the index did when each group was one batch.
fn write_index(db: &sled::Db, mut entries: Vec<(Vec<u8>, Vec<u8>)>, end: u64) -> sled::Result<()> {
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in entries {
        db.insert(k, v)?;
    }
    db.insert(b"m:indexed", &be(end))?;
    Ok(())
}

/// Adds to `into` the public keys that the `key_granted` submissions among
/// `inputs` grant. A key id is the SHA-256 of its public key (a grant whose
/// id does not match does not decode), so a key learned from a grant not
/// yet appended, or even refused later, never checks a signature against
/// the wrong key; whether its holder may use it at the seq it gets is still
/// the sequencer's registry check. Canonical form puts `type` last in the
/// statement and the statement last in the submission, so a grant ends with
/// `"type":"key_granted"}}` and other submissions are not parsed again.
fn granted_keys(inputs: &[Vec<u8>], into: &mut HashMap<KeyId, VerifyingKey>) {
    for b in inputs {
        if !log::is_of_type(b, "key_granted") {
            continue;
        }
        if let Ok(env) = Envelope::parse(b) {
            if let Event::KeyGranted(k) = &env.signed.statement.event {
                into.insert(k.key, k.public_key.0);
            }
        }
    }
}

/// One committed record's index entries: statement id → seq and content
/// hash, and one key per subject it names.
fn index_entries(
    out: &mut Vec<(Vec<u8>, Vec<u8>)>,
    seq: u64,
    stmt: &Statement,
    content: &[u8; 32],
) {
    let mut v = Vec::with_capacity(40);
    v.extend_from_slice(&be(seq));
    v.extend_from_slice(content);
    out.push((key_with(b"i:", stmt.id.as_bytes()), v));
}

/// The index entries of a group of consecutive records: an `i:` entry each,
/// and one `x:` entry per subject the group's records are about, named by
/// the subject and the first of its seqs in the group, holding all of them.
/// A subject appears in about 1.4 places per record and in about 0.3
/// distinct subjects per record over a group of 16,384 (the generated
/// history), so this writes a little over half the keys an entry per seq
/// would.
///
/// A group rewritten after a crash may be cut differently (at open, in
/// chunks from `m:indexed`), but a key it wrote before the crash is named by
/// a seq that is still the subject's first in the chunk holding it (the
/// chunk starts at or after the group did), so the rewrite replaces it
/// whole: no seq is listed twice.
fn group_entries<'a>(
    out: &mut Vec<(Vec<u8>, Vec<u8>)>,
    records: impl IntoIterator<Item = (u64, &'a Statement, &'a [u8; 32])>,
) {
    // Keyed by the subject as the statements name it (no key built per
    // mention; the entry's key is built once per subject at the end).
    let mut subjects: HashMap<(&'static str, &'a str), Vec<u8>> = HashMap::new();
    for (seq, stmt, content) in records {
        index_entries(out, seq, stmt, content);
        for (kind, id) in stmt.event.subject_ids() {
            let seqs = subjects
                .entry((kind, id.as_str()))
                .or_insert_with(|| Vec::with_capacity(8));
            seqs.extend_from_slice(&be(seq));
        }
    }
    for ((kind, id), seqs) in subjects {
        let mut key = subject_prefix(kind, id);
        key.extend_from_slice(&seqs[..8]);
        out.push((key, seqs));
    }
}

/// `x:<kind>:<id>` and a zero byte: what every subject entry of one subject
/// starts with (an id holds no zero byte).
fn subject_prefix(kind: &str, id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(3 + kind.len() + id.len() + 9);
    k.extend_from_slice(b"x:");
    k.extend_from_slice(kind.as_bytes());
    k.push(b':');
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k
}

/// The seqs a subject entry's value lists.
fn listed_seqs(v: &[u8]) -> impl Iterator<Item = u64> + '_ {
    v.chunks_exact(8)
        .map(|c| u64::from_be_bytes(c.try_into().unwrap_or([0; 8])))
}

/// Whether the subject entries of `prefix` list `seq`: the entry named by
/// the greatest first seq at or before it.
fn subject_lists(db: &sled::Db, prefix: &[u8], seq: u64) -> sled::Result<bool> {
    let mut upto = prefix.to_vec();
    upto.extend_from_slice(&be(seq));
    Ok(match db.range(prefix.to_vec()..=upto).next_back() {
        Some(kv) => listed_seqs(&kv?.1).any(|s| s == seq),
        None => false,
    })
}

fn open_index(dir: &Path, cache: u64, notices: &mut Vec<String>) -> Result<sled::Db> {
    let path = dir.join("index");
    let open = || {
        sled::Config::new()
            .path(&path)
            .cache_capacity(cache)
            .flush_every_ms(Some(500))
            .mode(sled::Mode::HighThroughput)
            .open()
    };
    // sled's own threads may hold its lock file for a moment after the
    // previous handle in this process was dropped (a close then an open):
    // that is waited out, never taken for an unreadable index.
    let mut tries = 0;
    let mut opened = open();
    while matches!(&opened, Err(sled::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock"))
        && tries < 40
    {
        std::thread::sleep(Duration::from_millis(50));
        tries += 1;
        opened = open();
    }
    let db = match opened {
        Ok(db) => db,
        Err(e) => {
            notices.push(format!(
                "index unreadable ({e}); rebuilding it from the log"
            ));
            let _ = fs::remove_dir_all(&path);
            open()?
        }
    };
    if db.get(b"m:version")?.as_deref() != Some(INDEX_VERSION) {
        if db.get(b"m:version")?.is_some() {
            notices.push("index has another layout version; rebuilding it from the log".into());
        }
        reset_index(&db)?;
    }
    Ok(db)
}

/// Records at the end of what `m:indexed` vouches for whose entries are
/// checked at open: what the index may hold unflushed (written within the
/// 500 ms before sled's next flush) at up to 65,000 records/s, about twice
/// the rate group commit indexes at on this machine (34,000 records/s in
/// `ledger bench`; 16,384, sized for the 14,000/s of an earlier build, no
/// longer covered it). Checking costs 215–250 ms at open on a 1M-record
/// ledger, against 110 ms for 16,384.
const INDEX_TAIL_CHECK: u64 = 32_768;

/// The first of the last [`INDEX_TAIL_CHECK`] records before `done` whose
/// index entries are missing or differ. sled recovers a prefix of its
/// writes and `m:indexed` is written after each group's entries, so this
/// should never find one; it is checked all the same because with a lost
/// statement id a retry would not get its original receipt: it would be
/// refused, or appended a second time.
///
/// The log was checked by the scan; its records are decoded as a replay
/// decodes them, and an id entry is checked by the seq it names (its
/// content hash was written in the same insert).
fn index_tail_gap(db: &sled::Db, done: u64, index: &LogIndex) -> Result<Option<u64>> {
    let mut start = done.saturating_sub(INDEX_TAIL_CHECK);
    while start < done {
        let end = (start + 4096).min(done);
        let leaves = index
            .read_leaves(start..end)
            .map_err(io_what(format!("reading seqs {start}..{end}")))?;
        for (k, seq) in (start..end).enumerate() {
            let bytes = leaves.get(k).unwrap_or_default();
            let d = Record::decode_trusted(bytes)
                .map_err(|e| LedgerError::Damaged(format!("seq {seq}: {e}")))?;
            if d.seq != seq {
                return Err(LedgerError::Damaged(format!(
                    "the log is damaged: the frame for seq {seq} holds seq {}",
                    d.seq
                )));
            }
            let id = db.get(key_with(b"i:", d.statement.id.as_bytes()))?;
            // The seq and a content hash: an entry of another length is
            // damaged, whatever its first bytes say.
            if id
                .as_deref()
                .filter(|v| v.len() == 40)
                .and_then(|v| v.get(..8))
                != Some(be(seq).as_slice())
            {
                return Ok(Some(seq));
            }
            for (kind, id) in d.statement.event.subject_ids() {
                if !subject_lists(db, &subject_prefix(kind, id.as_str()), seq)? {
                    return Ok(Some(seq));
                }
            }
        }
        start = end;
    }
    Ok(None)
}

/// Empties the index and stamps its layout version: it is then rebuilt
/// from the log, as for a new ledger.
fn reset_index(db: &sled::Db) -> sled::Result<()> {
    db.clear()?;
    db.insert(b"m:version", INDEX_VERSION)?;
    Ok(())
}

fn indexed(db: &sled::Db) -> Result<u64> {
    Ok(match db.get(b"m:indexed")? {
        Some(v) if v.len() == 8 => u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8])),
        _ => 0,
    })
}

impl Ledger {
    /// Opens a ledger for appending: takes the lock, scans the log (cutting only
    /// an unacknowledged tail), brings the derived stores up to date and starts
    /// the sequencer.
    pub fn open(dir: &Path, config: Config) -> Result<Ledger> {
        if !dir.join("log").is_dir() {
            return Err(LedgerError::NotADataDir(dir.to_path_buf()));
        }
        let lock = lock_dir(dir)?;
        let mut notices = Vec::new();
        let log_dir = dir.join("log");
        let mut scan = log::scan(&log_dir, log::LeafHashes::Compute)?;
        // A batch whose write or fdatasync failed was never acknowledged,
        // and what reads back of it may be only in the page cache: it joins
        // the unacknowledged tail.
        let failed = log::read_failed_batch(&log_dir)?;
        let failed = match failed {
            Some(seq) => Some((seq, scan.drop_failed_batch(seq)?)),
            None => None,
        };
        // An unacknowledged tail is cut only once every check that can
        // still refuse to open has passed (just before the writer opens):
        // a refused open changes nothing in the log.
        let size = scan.records();
        if size == 0 {
            return Err(LedgerError::Uninitialised(dir.to_path_buf()));
        }
        // Records the last writer published as synced, and so may have
        // acknowledged, that the log no longer holds (a lost write, a
        // truncated or deleted segment): not an unacknowledged tail, and
        // appending now would give their seqs to other records.
        if let Some(durable) = log::read_durable(&log_dir).filter(|d| *d > size) {
            return Err(LedgerError::Damaged(format!(
                "the log holds {size} committed records, but its last writer published {durable} as synced ({}): seqs {size} to {} are missing (a lost write, or a segment truncated or deleted), and they may have been acknowledged; restore the log from a copy. Only if no client can hold a receipt for seq {size} or later (e.g. a copy taken while a writer ran), remove that file and open again",
                log_dir.join(log::DURABLE_FILE).display(),
                durable - 1
            )));
        }
        let leaf_hashes = std::mem::take(&mut scan.leaf_hashes);
        let registry_seqs = std::mem::take(&mut scan.registry_seqs);
        let index = LogIndex::from_scan(&mut scan)?;
        let read = |seq: u64| -> Result<Record> {
            let bytes = index
                .read_leaf(seq)
                .map_err(io_what(format!("reading seq {seq}")))?;
            let r = Record::parse(&bytes)
                .map_err(|e| LedgerError::Damaged(format!("seq {seq}: {e}")))?;
            // Paired assertion: the record read back is the one the frame order says.
            if r.seq != seq {
                return Err(LedgerError::Damaged(format!(
                    "the log is damaged: the frame for seq {seq} holds seq {}",
                    r.seq
                )));
            }
            Ok(r)
        };
        let genesis = read(0)?;
        let mut registry = Registry::genesis(&genesis.signed.statement)
            .map_err(|e| LedgerError::Damaged(format!("genesis: {e}")))?;
        let signer = checkpoint_signer(dir)?;
        if signer.verifier().to_vkey() != registry.checkpoint_key {
            return Err(LedgerError::Damaged(
                "checkpoint.key does not match the checkpoint key named in genesis".into(),
            ));
        }

        // Derived index: catch up from what it already reflects.
        let db = open_index(dir, config.index_cache_bytes, &mut notices)?;
        if projstore::clear_legacy(&db)? {
            notices.push(
                "removed the projection snapshot that an earlier version kept in the index (it is kept in projection.snap now); sled reuses that space only as it rewrites its files, so to reclaim the disk now, stop the ledger and delete index/ (it is rebuilt from the log)".into(),
            );
        }
        let mut done = indexed(&db)?;
        if done > size {
            // The log was restored from a backup, or an unacknowledged tail
            // was cut: entries naming seqs the log does not hold would hand
            // a retry another record's seq.
            notices.push(format!(
                "the index reflects {done} records but the log holds {size}; re-indexing from the log"
            ));
            reset_index(&db)?;
            done = 0;
        }
        if let Some(seq) = index_tail_gap(&db, done, &index)? {
            notices.push(format!(
                "the index claims to reflect {done} records but lacks the entries of seq {seq}; re-indexing from the log"
            ));
            reset_index(&db)?;
            done = 0;
        }
        // The registry is rebuilt from the log itself: the scan listed every
        // record that changes it, so the index is not trusted for this.
        for &seq in &registry_seqs {
            if seq == 0 {
                continue;
            }
            let r = read(seq)?;
            registry.apply(&r.signed.statement, seq);
        }
        if done < size {
            notices.push(format!(
                "index reflects {done} of {size} records; catching up"
            ));
        }
        let mut prev_head = GENESIS_PREV;
        if done == 0 {
            let mut kv = Vec::new();
            let content = Statement::content_hash(&genesis.signed.bytes);
            group_entries(&mut kv, [(0, &genesis.signed.statement, &content)]);
            write_index(&db, kv, 1)?;
            done = 1;
        }
        while done < size {
            let end = (done + 4096).min(size);
            let mut records = Vec::with_capacity((end - done) as usize);
            for seq in done..end {
                let r = read(seq)?;
                let content = Statement::content_hash(&r.signed.bytes);
                records.push((seq, r.signed.statement, content));
            }
            let mut kv = Vec::with_capacity(2 * records.len());
            group_entries(&mut kv, records.iter().map(|(s, st, c)| (*s, st, c)));
            write_index(&db, kv, end)?;
            done = end;
        }

        // Merkle hashes: recomputed from the leaf hashes the scan produced and
        // compared with the store, which is rewritten if it differs.
        let (hashes, notice) = HashStore::open(dir, &leaf_hashes)?;
        drop(leaf_hashes);
        notices.extend(notice);
        let last_note = scan.last_checkpoint.clone().unwrap_or_default();
        let cp = SignedCheckpoint::open(&last_note, &signer.verifier(), &registry.origin).map_err(
            |e| {
                LedgerError::Damaged(format!(
                    "the last checkpoint in the log does not verify: {e}"
                ))
            },
        )?;
        // Paired assertion: the records read back hash to the last signed checkpoint.
        if hashes.root()? != cp.checkpoint.root {
            return Err(LedgerError::Damaged(format!("the log's records do not hash to its last signed checkpoint (size {size}); run `ledger verify`")));
        }
        let last = index.read_leaf(size - 1)?;
        prev_head = if size > 0 {
            record::chain_hash(&last)
        } else {
            prev_head
        };
        // The clock floor of the next append: a last record that does not
        // parse is damage, never a reason to fall back to genesis's time.
        let last_recorded_at = Record::parse(&last)
            .map_err(|e| LedgerError::Damaged(format!("seq {}: {e}", size - 1)))?
            .recorded_at;

        // The domain model: the persisted projection if it reflects a prefix of
        // this log, caught up from its seq; otherwise every record folded in
        // order (the registry gives each actor's holder and roles, which never
        // change for a key).
        let head_of = |n: u64| -> Option<ChainHash> {
            (n >= 1 && n <= size)
                .then(|| index.read_leaf(n - 1).ok())
                .flatten()
                .map(|b| record::chain_hash(&b))
        };
        let (mut model, from) = match projstore::load(dir, head_of)? {
            Ok((m, meta)) => (m, meta.seq),
            Err(why) => {
                if !matches!(why, projstore::Unusable::Missing) || size > 1 {
                    notices.push(format!("{why}; replaying all {size} records"));
                }
                (Model::default(), 0)
            }
        };
        if from > 0 && from < size {
            notices.push(format!(
                "projection reflects {from} of {size} records; catching up"
            ));
        }
        let mut known = Some(registry);
        let index_ref = &index;
        let replayed = crate::reads::replay(
            move |deal| {
                let mut start = from;
                while start < size {
                    let end = (start + crate::reads::REPLAY_CHUNK).min(size);
                    let leaves = index_ref.read_leaves(start..end).map_err(|e| {
                        crate::reads::ReadError::Damaged {
                            seq: start,
                            reason: format!("reading seqs {start}..{end}: {e}"),
                        }
                    })?;
                    if !deal(crate::reads::Chunk {
                        first: start,
                        payloads: crate::reads::Payloads::Read(leaves),
                    }) {
                        break;
                    }
                    start = end;
                }
                Ok(())
            },
            from,
            None,
            &mut known,
            false,
            &mut model,
        )?;
        if replayed.size != size {
            return Err(LedgerError::Damaged(format!(
                "the replay stopped at seq {} of {size} records",
                replayed.size
            )));
        }
        let registry = known.ok_or(LedgerError::Damaged(
            "the key registry was lost in the replay".into(),
        ))?;
        let mut snapshot_seq = from;
        if size - from >= SNAPSHOT_AFTER_REPLAY {
            // The snapshot is derived: failing to save it (a full disk) is
            // said, not fatal; the next open replays again.
            match projstore::save(dir, &model, size, &prev_head) {
                Ok(_) => snapshot_seq = size,
                Err(e) => notices.push(format!(
                    "saving the projection snapshot failed ({e}); the next open replays again"
                )),
            }
        }
        let system_key = keyfile::read_key(&dir.join("system.key"))?;
        if KeyId::of(&system_key.verifying_key()) != registry.system {
            return Err(LedgerError::Damaged(
                "system.key does not match the system key named in genesis".into(),
            ));
        }
        let keys: HashMap<KeyId, VerifyingKey> =
            registry.keys().map(|(id, e)| (*id, e.public.0)).collect();
        if let Some(msg) = log::cut_tail(&mut scan)? {
            notices.push(msg);
        }
        if let Some((seq, whole)) = failed {
            let marker = log_dir.join(log::SYNC_FAILED_FILE);
            std::fs::remove_file(&marker)
                .map_err(io_what(format!("removing {}", marker.display())))?;
            log::sync_dir(&log_dir).map_err(io_what(format!("syncing {}", log_dir.display())))?;
            notices.push(format!(
                "the last writer's write or fdatasync of the batch from seq {seq} failed ({}); that batch was never acknowledged and is not part of the ledger ({whole} of its records had read back whole and were cut with the tail); check the disk",
                marker.display()
            ));
        }
        let writer = LogWriter::open(&log_dir, &scan, size, config.segment_bytes_max)?;
        let shared = Arc::new(Shared {
            origin: registry.origin.clone(),
            clock: registry.clock,
            keys: RwLock::new(keys),
            head: RwLock::new(Head {
                size,
                root: cp.checkpoint.root,
                checkpoint: cp.note.clone(),
                last_recorded_at,
            }),
            log: RwLock::new(index),
            db: db.clone(),
            failed: Mutex::new(None),
            indexed: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            hashes: hashes.reader()?,
            verifier: signer.verifier(),
            model: RwLock::new(model),
            stats: Mutex::new(Stats::default()),
            holders: RwLock::new(
                registry
                    .keys()
                    .map(|(id, e)| (*id, e.holder.clone()))
                    .collect(),
            ),
        });
        let (tx, rx) = mpsc::sync_channel(config.queue_max);
        let seq = Sequencer {
            snapshot_seq,
            system_key,
            config: config.clone(),
            log: writer,
            hashes,
            registry,
            next_seq: size,
            prev: prev_head,
            last_recorded_at,
            signer,
            db: db.clone(),
            dir: dir.to_path_buf(),
            shared: shared.clone(),
            recent_ids: HashMap::new(),
            ids: Ids::Unfilled(size),
            id_lookups: 0,
            indexer: None,
            indexer_thread: None,
            to_index: (Vec::new(), Instant::now()),
            frames: Vec::new(),
            published: (size, Instant::now()),
        };
        let (itx, irx) = mpsc::sync_channel::<Vec<Indexed>>(64);
        let indexed_at = shared.indexed.clone();
        indexed_at.store(size, std::sync::atomic::Ordering::Release);
        let mut seq = seq;
        seq.indexer = Some(itx);
        seq.indexer_thread = Some(
            std::thread::Builder::new()
                .name("indexer".into())
                .spawn(move || run_indexer(db, irx, indexed_at))?,
        );
        let thread = std::thread::Builder::new()
            .name("sequencer".into())
            .spawn(move || seq.run(rx))?;
        Ok(Ledger {
            dir: dir.to_path_buf(),
            config,
            tx: Some(tx),
            shared,
            thread: Some(thread),
            _lock: lock,
            notices,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    pub fn clock(&self) -> Clock {
        self.shared.clock
    }

    pub fn head(&self) -> Head {
        self.shared
            .head
            .read()
            .map(|h| h.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    pub fn checkpoint_verifier(&self) -> &NoteVerifier {
        &self.shared.verifier
    }

    /// Stateless checks on the caller's thread: size, canonical form, decoding,
    /// origin, and the signature when the key is already known.
    pub fn prepare(&self, bytes: &[u8]) -> Result<Prepared, Rejection> {
        self.prepare_with(bytes, &HashMap::new())
    }

    /// [`Ledger::prepare`], also checking signatures by keys in `granted`:
    /// keys granted earlier in the same stream (see [`granted_keys`]) that
    /// the sequencer has not committed yet, so that their statements are
    /// checked on the caller's cores rather than on the sequencer's thread.
    fn prepare_with(
        &self,
        bytes: &[u8],
        granted: &HashMap<KeyId, VerifyingKey>,
    ) -> Result<Prepared, Rejection> {
        if bytes.len() > RECORD_BYTES_MAX {
            return Err(Rejection::new(
                Code::RecordTooLarge,
                format!(
                    "submission is {} bytes; a record may not exceed {RECORD_BYTES_MAX}",
                    bytes.len()
                ),
            ));
        }
        let env = Envelope::parse(bytes)?;
        let stmt = &env.signed.statement;
        if stmt.origin != self.shared.origin {
            return Err(Rejection::new(
                Code::WrongOrigin,
                format!(
                    "statement is for ledger {:?}, this ledger is {:?}",
                    stmt.origin, self.shared.origin
                ),
            ));
        }
        let known = self
            .shared
            .keys
            .read()
            .ok()
            .and_then(|k| k.get(&stmt.actor).copied());
        let signature_checked = match (known, granted.get(&stmt.actor)) {
            (Some(k), _) => {
                if !env.signed.verify(&k) {
                    return Err(Rejection::new(
                        Code::BadSignature,
                        format!("signature does not verify under key {}", stmt.actor),
                    ));
                }
                true
            }
            // A key granted earlier in the same stream, not yet committed:
            // a good signature spares the sequencer the check, but a bad one
            // is the sequencer's to judge, in the order of FORMAT.md §4.1
            // (the grant may be refused, or the id already used), so that
            // the same bytes get the same answer however they were sent.
            (None, Some(k)) => env.signed.verify(k),
            (None, None) => false,
        };
        Ok(Prepared {
            env,
            signature_checked,
        })
    }

    /// Sends prepared items to the sequencer; the receiver yields their results
    /// once they are durable (or refused).
    pub fn send(&self, items: Vec<Prepared>) -> Receiver<Vec<Result<Receipt, Rejection>>> {
        let (reply, rx) = mpsc::channel();
        let n = items.len();
        if n > BATCH_ITEMS_MAX {
            let _ = reply.send(
                (0..n)
                    .map(|_| {
                        Err(Rejection::new(
                            Code::BatchTooLarge,
                            format!("a batch holds at most {BATCH_ITEMS_MAX} statements; this one has {n}"),
                        ))
                    })
                    .collect(),
            );
            return rx;
        }
        let failed = |reply: &Reply| {
            let _ = reply.send(
                (0..n)
                    .map(|_| {
                        Err(Rejection::new(
                            Code::Unavailable,
                            "the ledger's writer has stopped",
                        ))
                    })
                    .collect(),
            );
        };
        match &self.tx {
            Some(tx) => {
                if let Err(mpsc::SendError(Request::Append { reply, .. })) =
                    tx.send(Request::Append { items, reply })
                {
                    failed(&reply);
                }
            }
            None => failed(&reply),
        }
        rx
    }

    /// Appends one submission and waits until it is durable.
    pub fn submit(&self, bytes: &[u8]) -> Result<Receipt, Rejection> {
        let p = self.prepare(bytes)?;
        let rx = self.send(vec![p]);
        match rx.recv() {
            Ok(mut v) if v.len() == 1 => v.remove(0),
            _ => Err(Rejection::new(
                Code::Unavailable,
                "the ledger's writer has stopped",
            )),
        }
    }

    /// Appends many submissions in order, verifying them on all cores first;
    /// results come back in input order.
    pub fn submit_batch(&self, inputs: &[Vec<u8>]) -> Vec<Result<Receipt, Rejection>> {
        let prepared = self.prepare_parallel(inputs);
        let mut out: Vec<Option<Result<Receipt, Rejection>>> = Vec::with_capacity(inputs.len());
        let mut items = Vec::new();
        let mut slots = Vec::new();
        for (i, p) in prepared.into_iter().enumerate() {
            match p {
                Ok(p) => {
                    items.push(p);
                    slots.push(i);
                    out.push(None);
                }
                Err(e) => out.push(Some(Err(e))),
            }
        }
        if !items.is_empty() {
            let rx = self.send(items);
            let results = rx.recv().unwrap_or_default();
            for (slot, r) in slots
                .iter()
                .zip(results.into_iter().chain(std::iter::repeat_with(|| {
                    Err(Rejection::new(
                        Code::Unavailable,
                        "the ledger's writer has stopped",
                    ))
                })))
            {
                out[*slot] = Some(r);
            }
        }
        out.into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Rejection::new(Code::Unavailable, "no result"))))
            .collect()
    }

    /// Verifies a slice of submissions on all cores.
    pub fn prepare_parallel(&self, inputs: &[Vec<u8>]) -> Vec<Result<Prepared, Rejection>> {
        let mut granted = HashMap::new();
        granted_keys(inputs, &mut granted);
        self.prepare_parallel_with(inputs, &granted)
    }

    fn prepare_parallel_with(
        &self,
        inputs: &[Vec<u8>],
        granted: &HashMap<KeyId, VerifyingKey>,
    ) -> Vec<Result<Prepared, Rejection>> {
        let threads = self.config.verify_threads.max(1);
        if inputs.len() < 8 || threads == 1 {
            return inputs
                .iter()
                .map(|b| self.prepare_with(b, granted))
                .collect();
        }
        // The threads take pieces (64 at most, at least four per thread) in
        // turn rather than a half each: the sequencer and the indexer share
        // these cores, and with fixed halves a thread they held back kept
        // the other core idle at the end of every window (about a tenth of
        // the cores' time with group commit).
        let piece = inputs.len().div_ceil(threads * 4).clamp(1, 64);
        let pieces = inputs.len().div_ceil(piece);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let next = &next;
        let mut done: Vec<(usize, Vec<Result<Prepared, Rejection>>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads.min(pieces))
                .map(|_| {
                    s.spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if k >= pieces {
                                return mine;
                            }
                            let slice = &inputs[k * piece..((k + 1) * piece).min(inputs.len())];
                            mine.push((
                                k,
                                slice
                                    .iter()
                                    .map(|b| self.prepare_with(b, granted))
                                    .collect::<Vec<_>>(),
                            ));
                        }
                    })
                })
                .collect();
            // A panic in a check is a bug: it is raised here, never taken
            // for results that would then be matched to the wrong lines.
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        done.sort_unstable_by_key(|(k, _)| *k);
        done.into_iter().flat_map(|(_, r)| r).collect()
    }

    /// Appends a stream in order with pipelining: while the sequencer commits
    /// one window, the next is verified. `on_result` sees every result in input order.
    pub fn append_stream<I, F>(&self, inputs: I, window: usize, mut on_result: F) -> (u64, u64)
    where
        I: Iterator<Item = Vec<u8>>,
        F: FnMut(usize, &[u8], Result<Receipt, Rejection>),
    {
        let window = window.clamp(1, BATCH_ITEMS_MAX);
        /// A window sent to the sequencer: its first index, its lines, the
        /// refusals found before sending, and where its results will arrive.
        type InFlight = std::collections::VecDeque<(
            usize,
            Vec<Vec<u8>>,
            Vec<Option<Rejection>>,
            Receiver<Vec<Result<Receipt, Rejection>>>,
        )>;
        let mut inflight: InFlight = Default::default();
        // Keys granted in windows not yet committed (see `granted_keys`).
        let mut granted = HashMap::new();
        let mut inputs = inputs.peekable();
        let mut index = 0usize;
        let (mut ok, mut bad) = (0u64, 0u64);
        let mut drain_one = |inflight: &mut InFlight, ok: &mut u64, bad: &mut u64| {
            let Some((start, lines, early, rx)) = inflight.pop_front() else {
                return;
            };
            let mut results = rx.recv().unwrap_or_default().into_iter();
            for (i, (line, e)) in lines.iter().zip(early).enumerate() {
                let r = match e {
                    Some(e) => Err(e),
                    None => results.next().unwrap_or_else(|| {
                        Err(Rejection::new(
                            Code::Unavailable,
                            "the ledger's writer has stopped",
                        ))
                    }),
                };
                if r.is_ok() {
                    *ok += 1;
                } else {
                    *bad += 1;
                }
                on_result(start + i, line, r);
            }
        };
        while inputs.peek().is_some() {
            let lines: Vec<Vec<u8>> = inputs.by_ref().take(window).collect();
            if let Ok(known) = self.shared.keys.read() {
                granted.retain(|k, _| !known.contains_key(k));
            }
            granted_keys(&lines, &mut granted);
            let prepared = self.prepare_parallel_with(&lines, &granted);
            let mut early = Vec::with_capacity(lines.len());
            let mut items = Vec::new();
            for p in prepared {
                match p {
                    Ok(p) => {
                        items.push(p);
                        early.push(None);
                    }
                    Err(e) => early.push(Some(e)),
                }
            }
            let rx = self.send(items);
            inflight.push_back((index, lines, early, rx));
            index += window;
            if inflight.len() >= 4 {
                drain_one(&mut inflight, &mut ok, &mut bad);
            }
        }
        while !inflight.is_empty() {
            drain_one(&mut inflight, &mut ok, &mut bad);
        }
        (ok, bad)
    }

    /// Who holds key `id` (a body, an enterprise, the authority or the ledger).
    pub fn holder_of(&self, id: &KeyId) -> Option<events::keys::Party> {
        self.shared.holders.read().ok()?.get(id).cloned()
    }

    /// What the sequencer has done since the ledger was opened.
    pub fn stats(&self) -> Stats {
        self.shared
            .stats
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// The digest of the sequencer's domain model after every request sent
    /// before this call (`None` if the writer has stopped).
    pub fn model_digest(&self) -> Option<[u8; 32]> {
        if self.failure().is_some() {
            return None;
        }
        self.shared.model.read().ok().map(|m| m.digest())
    }

    /// Runs `f` on the domain model as of the durable head (every record
    /// acknowledged so far, nothing that is not durable) and that head.
    pub fn with_model<T>(&self, f: impl FnOnce(&Model, &Head) -> T) -> Result<T> {
        // A writer that stopped may have staged records into the model that
        // never became durable: no read is answered from it.
        if let Some(why) = self.failure() {
            return Err(LedgerError::WriterStopped(why));
        }
        let model = self
            .shared
            .model
            .read()
            .map_err(|_| LedgerError::ModelUnavailable("the writer failed"))?;
        // Again with the lock held: a batch that failed while this read
        // waited marked the writer failed before it let go of the model.
        if let Some(why) = self.failure() {
            return Err(LedgerError::WriterStopped(why));
        }
        let head = self.head();
        Ok(f(&model, &head))
    }

    /// The model and head, only when the model is free right now: while a
    /// batch is being staged and synced (it holds the model until it is
    /// durable) the answer is `None`, for a caller that must not wait (an
    /// async thread then hands its read to a thread that may).
    #[allow(clippy::type_complexity)]
    pub fn try_read_model(&self) -> Option<Result<(std::sync::RwLockReadGuard<'_, Model>, Head)>> {
        if let Some(why) = self.failure() {
            return Some(Err(LedgerError::WriterStopped(why)));
        }
        match self.shared.model.try_read() {
            Ok(m) => Some(match self.failure() {
                Some(why) => Err(LedgerError::WriterStopped(why)),
                None => Ok((m, self.head())),
            }),
            Err(std::sync::TryLockError::WouldBlock) => None,
            Err(std::sync::TryLockError::Poisoned(_)) => {
                Some(Err(LedgerError::ModelUnavailable("the writer failed")))
            }
        }
    }

    /// Why the writer stopped, if it did.
    pub fn failure(&self) -> Option<String> {
        self.shared.failed.lock().ok().and_then(|f| f.clone())
    }

    fn log(&self) -> std::sync::RwLockReadGuard<'_, LogIndex> {
        self.shared.log.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The bytes of record `seq` (its Merkle leaf).
    pub fn read_leaf(&self, seq: u64) -> std::io::Result<Vec<u8>> {
        self.log().read_leaf(seq)
    }

    /// The signed checkpoint of exactly `size`, if one was issued.
    pub fn checkpoint_at(&self, size: u64) -> Result<Option<String>> {
        Ok(self.log().checkpoint_at(size)?)
    }

    /// The sizes with checkpoints nearest to `size` (below and above).
    pub fn nearest_checkpoints(&self, size: u64) -> (Option<u64>, Option<u64>) {
        self.log().nearest_checkpoints(size)
    }

    /// The receipt of an already-appended record.
    pub fn receipt(&self, seq: u64) -> Result<Receipt> {
        receipt_from(&self.log(), seq)
    }

    /// The seq of a statement id, if appended.
    pub fn seq_of(&self, id: &str) -> Result<Option<u64>> {
        match self.shared.db.get(key_with(b"i:", id.as_bytes()))? {
            None => Ok(None),
            Some(v) => match v.get(..8).and_then(|b| b.try_into().ok()) {
                Some(b) if v.len() == 40 => Ok(Some(u64::from_be_bytes(b))),
                _ => Err(LedgerError::Damaged(format!(
                    "the index entry of statement id {id:?} is damaged ({} bytes, not 40); delete index/ to rebuild it from the log",
                    v.len()
                ))),
            },
        }
    }

    /// Seqs of records about a case, promise, body, enterprise, inspection or project.
    pub fn seqs_about(&self, kind: &str, id: &str) -> Result<Vec<u64>> {
        // Not an id (a zero byte would reach into another subject's keys):
        // nothing is about it.
        if events::vocab::Id::new(id).is_err() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for item in self.shared.db.scan_prefix(subject_prefix(kind, id)) {
            let (_, v) = item?;
            out.extend(listed_seqs(&v));
        }
        Ok(out)
    }

    /// An inclusion proof of `seq` in the tree of `size` (at most the current size).
    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>> {
        let head = self.head();
        if size > head.size {
            return Err(LedgerError::BeyondSize {
                asked: size,
                size: head.size,
            });
        }
        Ok(merkle::inclusion_proof(size, seq, &self.shared.hashes)?)
    }

    /// A consistency proof from `old` to `new` (at most the current size).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        let head = self.head();
        if new > head.size {
            return Err(LedgerError::BeyondSize {
                asked: new,
                size: head.size,
            });
        }
        Ok(merkle::consistency_proof(new, old, &self.shared.hashes)?)
    }

    /// The Merkle root at `size`.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        Ok(merkle::tree_hash(size, &self.shared.hashes)?)
    }

    /// Stops the sequencer after the batch in flight and waits for it.
    pub fn close(mut self) -> Result<()> {
        self.shutdown();
        match self.failure() {
            Some(f) => Err(LedgerError::WriterFailed(f)),
            None => Ok(()),
        }
    }

    fn shutdown(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The single writer.
struct Sequencer {
    config: Config,
    log: LogWriter,
    hashes: HashStore,
    registry: Registry,
    next_seq: u64,
    prev: ChainHash,
    last_recorded_at: Timestamp,
    signer: NoteSigner,
    db: sled::Db,
    /// The data directory (where the projection snapshot is written).
    dir: PathBuf,
    shared: Arc<Shared>,
    /// Records reflected in the last projection snapshot saved.
    snapshot_seq: u64,
    /// Signs the records the ledger derives itself.
    system_key: SigningKey,
    /// Ids committed but perhaps not yet in the index (the indexer runs behind).
    recent_ids: HashMap<String, (u64, [u8; 32])>,
    /// Every id in the ledger, so that a new id skips the index lookup.
    ids: Ids,
    /// Ids looked up in the index (for [`Stats::id_lookups`]).
    id_lookups: u64,
    indexer: Option<SyncSender<Vec<Indexed>>>,
    indexer_thread: Option<JoinHandle<()>>,
    /// Committed records not yet handed to the indexer, and when the last
    /// hand-off was (see [`INDEX_HANDOFF_RECORDS`]).
    to_index: (Vec<Indexed>, Instant),
    /// The last batch's frame buffer, kept (up to [`FRAMES_KEPT_BYTES`]) for
    /// the next batch.
    frames: Vec<u8>,
    /// The durable size last published to readers in other processes
    /// (`log/durable`), and when.
    published: (u64, Instant),
}

/// How often the durable size is published to readers in other processes
/// while appends keep coming (and once the queue is quiet for this long).
/// Writing it after every batch cost batch-size-1 appends about a tenth of
/// their rate (the marker's inode is dirtied beside each fdatasync); a
/// marker that lags only hides durable records from those readers a moment
/// longer.
const DURABLE_PUBLISH_EVERY: Duration = Duration::from_millis(50);

/// Committed records are handed to the indexer once this many wait, once
/// [`DURABLE_PUBLISH_EVERY`] has passed since the last hand-off, or when the
/// queue goes quiet, rather than after every batch: with small batches each
/// hand-off woke the indexer thread, whose wake-up competed with the next
/// append for the two cores. The indexer writes them when it has gathered a
/// group anyway; until then the sequencer answers for their ids from
/// `recent_ids`.
const INDEX_HANDOFF_RECORDS: usize = 1024;

/// How long the sequencer polls its queue after a batch before it sleeps.
const SPIN: Duration = Duration::from_micros(150);

/// The next request if one arrives within [`SPIN`], polling. A caller that
/// appends one record at a time sends its next request a few tens of
/// microseconds after its receipt; a sequencer asleep by then costs that
/// request a thread wake-up on each side. Polling costs at most [`SPIN`] of
/// one core's time per quiet moment, and nothing while requests queue up.
fn spin_recv(rx: &Receiver<Request>) -> Option<Request> {
    let start = Instant::now();
    loop {
        match rx.try_recv() {
            Ok(r) => return Some(r),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) if start.elapsed() >= SPIN => return None,
            Err(mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
}

/// The largest frame buffer the sequencer keeps between batches. A buffer
/// built afresh for every batch of 4096 records grew by doubling to 4 MiB,
/// copying as it went into freshly mapped pages: with the staged records'
/// growth, about a tenth of the sequencer's time with group commit.
const FRAMES_KEPT_BYTES: usize = 16 << 20;

/// What a record adds to a batch's frames beyond its statement's bytes
/// (the record's own fields, the signature, the frame's header and check),
/// for reserving room up front.
const RECORD_FRAME_OVERHEAD: usize = 400;

/// The sequencer's filter of used statement ids (see [`IdFilter`]).
enum Ids {
    /// Not yet asked for: filled once the ledger takes its first append, so
    /// that a ledger opened to be read (or a server's first seconds of
    /// reads) does not pay for reading every record's id. Holds the log's
    /// size at open (the records whose ids the filter is filled with).
    Unfilled(u64),
    /// Being filled from the log on another thread; the ids committed in the
    /// meantime wait here and join the filter when it arrives.
    Filling(Filling),
    Ready(IdFilter),
    /// Every id is looked up in the index.
    Off,
}

struct Filling {
    rx: Receiver<Option<IdFilter>>,
    committed: Vec<String>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Filling {
    fn drop(&mut self) {
        // The filling thread holds the shared state (the sled handle among
        // it): it is gone before the ledger is.
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Ids committed while the filter fills, at most (then the filter is dropped).
const FILLING_BACKLOG_MAX: usize = 1 << 20;

impl Ids {
    /// Starts filling the filter with the ids of the first `size` records,
    /// read from the log (a record's id is in its leaf; the scan at open has
    /// checked every frame and the Merkle root).
    fn fill(shared: Arc<Shared>, size: u64) -> std::io::Result<Ids> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let (tx, rx) = mpsc::sync_channel(1);
        let stop = Arc::new(AtomicBool::new(false));
        let halt = stop.clone();
        let thread = std::thread::Builder::new()
            .name("id filter".into())
            .spawn(move || {
                let mut f = IdFilter::with_capacity(size.saturating_mul(2));
                let mut seq = 0;
                while seq < size {
                    if halt.load(Ordering::Acquire) {
                        return;
                    }
                    let end = (seq + 4096).min(size);
                    let leaves = shared
                        .log
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .read_leaves(seq..end);
                    let Ok(leaves) = leaves else {
                        eprintln!("ledger: the log could not be read for the id filter; every append looks its id up in the index");
                        let _ = tx.send(None);
                        return;
                    };
                    for (i, n) in (seq..end).enumerate() {
                        match leaves.get(i).map(Record::decode_head) {
                            Some(Ok(h)) if h.seq == n => f.insert(h.id.as_bytes()),
                            _ => {
                                eprintln!("ledger: the id of seq {n} could not be read for the id filter; every append looks its id up in the index");
                                let _ = tx.send(None);
                                return;
                            }
                        }
                    }
                    seq = end;
                }
                let _ = tx.send(Some(f));
            })?;
        Ok(Ids::Filling(Filling {
            rx,
            committed: Vec::new(),
            stop,
            thread: Some(thread),
        }))
    }

    /// True only when `id` was surely never used.
    fn surely_new(&self, id: &str) -> bool {
        matches!(self, Ids::Ready(f) if !f.may_contain(id.as_bytes()))
    }

    /// Takes the filter once it is filled.
    fn poll(&mut self, shared: &Arc<Shared>) {
        if let Ids::Unfilled(size) = self {
            *self = match Ids::fill(shared.clone(), *size) {
                Ok(filling) => filling,
                Err(e) => {
                    eprintln!("ledger: the id filter's thread did not start ({e}); every append looks its id up in the index");
                    Ids::Off
                }
            };
        }
        if let Ids::Filling(filling) = self {
            match filling.rx.try_recv() {
                Ok(Some(mut f)) => {
                    for id in filling.committed.drain(..) {
                        f.insert(id.as_bytes());
                    }
                    *self = Ids::Ready(f);
                }
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => *self = Ids::Off,
                Err(mpsc::TryRecvError::Empty) => {}
            }
        }
    }

    /// Notes an id the sequencer committed.
    fn committed(&mut self, id: &str) {
        match self {
            Ids::Ready(f) => f.insert(id.as_bytes()),
            Ids::Filling(filling) if filling.committed.len() < FILLING_BACKLOG_MAX => {
                filling.committed.push(id.to_string())
            }
            Ids::Filling(_) => *self = Ids::Off,
            Ids::Unfilled(_) | Ids::Off => {}
        }
    }
}

/// The model's write guard while a batch is staged: unless the batch was
/// published, dropping it marks the writer failed *before* the lock is
/// released, so a reader waiting for the model never reads the staged
/// records of a batch that did not become durable (`Ledger::with_model`
/// checks again once it holds the lock). The writer's own message replaces
/// this one a moment later.
struct StagingGuard<'a> {
    model: std::sync::RwLockWriteGuard<'a, Model>,
    failed: &'a Mutex<Option<String>>,
    done: bool,
}

impl Drop for StagingGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Ok(mut f) = self.failed.lock() {
                f.get_or_insert_with(|| "a batch failed after its records were staged".into());
            }
        }
    }
}

impl std::ops::Deref for StagingGuard<'_> {
    type Target = Model;
    fn deref(&self) -> &Model {
        &self.model
    }
}

impl std::ops::DerefMut for StagingGuard<'_> {
    fn deref_mut(&mut self) -> &mut Model {
        &mut self.model
    }
}

/// A committed record handed to the indexer.
struct Indexed {
    seq: u64,
    statement: Statement,
    /// The statement's content hash (its idempotency check).
    content: [u8; 32],
}

/// Writes the derived index off the acknowledgement path, many batches at a
/// time, so that sled's own IO (which syncs with sync_file_range) stays off
/// the appends' disk path. A crash loses at most what it had not written; the
/// next open catches up from the log.
fn run_indexer(
    db: sled::Db,
    rx: Receiver<Vec<Indexed>>,
    indexed: Arc<std::sync::atomic::AtomicU64>,
) {
    use std::sync::atomic::Ordering;
    const FLUSH_RECORDS: usize = 16_384;
    const FLUSH_EVERY: Duration = Duration::from_millis(200);
    let mut pending: Vec<Indexed> = Vec::new();
    let mut since = Instant::now();
    loop {
        let msg = if pending.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(FLUSH_EVERY)
        };
        let done = match msg {
            Ok(v) => {
                pending.extend(v);
                false
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => true,
        };
        if !pending.is_empty()
            && (done || pending.len() >= FLUSH_RECORDS || since.elapsed() >= FLUSH_EVERY)
        {
            let last = pending.last().map_or(0, |r| r.seq + 1);
            let mut kv = Vec::with_capacity(pending.len() * 2);
            group_entries(
                &mut kv,
                pending.iter().map(|r| (r.seq, &r.statement, &r.content)),
            );
            if let Err(e) = write_index(&db, kv, last) {
                // The index is derived: report and let the next open rebuild it.
                eprintln!("ledger: index write failed ({e}); it will be rebuilt from the log on next open");
                return;
            }
            indexed.store(last, Ordering::Release);
            pending.clear();
            since = Instant::now();
        }
        if done {
            let _ = db.flush();
            return;
        }
    }
}

/// One accepted record of the batch being built.
struct Staged {
    seq: u64,
    leaf_hash: Hash,
    chain_hash: ChainHash,
    frame_offset: usize,
    statement: Statement,
    /// The statement's content hash, computed once for the idempotency
    /// check and kept for the index.
    content: [u8; 32],
}

/// The batch being built.
struct BatchState {
    staged: Vec<Staged>,
    batch_ids: HashMap<String, (usize, [u8; 32])>,
    frames: Vec<u8>,
    new_keys: Vec<(KeyId, VerifyingKey, events::keys::Party)>,
    seq: u64,
    prev: ChainHash,
    last: Timestamp,
}

enum Outcome {
    Staged(usize),
    Done(Result<Receipt, Rejection>),
    /// Same id and content as a record staged earlier in this batch.
    SameAsStaged(usize),
}

impl Drop for Sequencer {
    /// However the sequencer stops (closed, a failed write, a panic), the
    /// acknowledged records still waiting in `to_index` reach the indexer,
    /// so this process's index lists every durable record; a failed batch
    /// never joins `to_index`.
    fn drop(&mut self) {
        self.hand_to_indexer();
    }
}

impl Sequencer {
    /// Hands the committed records waiting in `to_index` to the indexer.
    fn hand_to_indexer(&mut self) {
        self.to_index.1 = Instant::now();
        if self.to_index.0.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.to_index.0);
        if let Some(tx) = &self.indexer {
            if tx.send(batch).is_err() {
                // The indexer stopped (it said why); keep appending: the
                // index is rebuilt from the log on the next open, and ids
                // stay in recent_ids until then.
                self.indexer = None;
            }
        }
    }

    /// Publishes every durable record to readers in other processes.
    fn publish_durable(&mut self) {
        if self.published.0 < self.next_seq {
            self.published = (self.next_seq, Instant::now());
            let _ = self.log.publish_durable(self.next_seq);
        }
    }

    fn run(mut self, rx: Receiver<Request>) {
        // A request that would overflow the batch waits for the next one; a
        // request is never split, and none is larger than BATCH_ITEMS_MAX.
        let mut carry: Option<Request> = None;
        loop {
            let due = self.next_seq - self.snapshot_seq >= self.config.snapshot_every;
            let lagging = self.published.0 < self.next_seq || !self.to_index.0.is_empty();
            let first = match carry.take().or_else(|| spin_recv(&rx)) {
                Some(r) => r,
                // Durable records not yet published: once the queue is quiet.
                None if lagging => match rx.recv_timeout(DURABLE_PUBLISH_EVERY) {
                    Ok(r) => r,
                    Err(RecvTimeoutError::Timeout) => {
                        self.publish_durable();
                        self.hand_to_indexer();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None if due => match rx.recv_timeout(self.config.snapshot_idle) {
                    Ok(r) => r,
                    Err(RecvTimeoutError::Timeout) => {
                        self.save_snapshot();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                None => match rx.recv() {
                    Ok(r) => r,
                    Err(_) => break,
                },
            };
            let (first_items, first_reply) = match first {
                Request::Append { items, reply } => (items, reply),
            };
            let mut count = first_items.len();
            let mut requests = vec![(first_items, first_reply)];
            let deadline = Instant::now() + self.config.batch_wait;
            while count < self.config.batch_max {
                let next = if self.config.batch_wait.is_zero() {
                    rx.try_recv().map_err(|_| RecvTimeoutError::Timeout)
                } else {
                    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                };
                match next {
                    Ok(Request::Append { items, reply }) => {
                        if count + items.len() > self.config.batch_max {
                            carry = Some(Request::Append { items, reply });
                            break;
                        }
                        count += items.len();
                        requests.push((items, reply));
                    }
                    Err(_) => break,
                }
            }
            let result = self.commit(requests);
            if result.is_ok() && self.next_seq - self.snapshot_seq >= self.config.snapshot_force {
                self.save_snapshot();
            }
            if let Err(msg) = result {
                if let Ok(mut f) = self.shared.failed.lock() {
                    *f = Some(msg.clone());
                }
                eprintln!("ledger: writer stopped: {msg}");
                // Refuse everything still queued; nothing more is appended.
                drop(rx);
                return;
            }
        }
        let _ = self.hashes.flush();
        self.publish_durable();
        self.save_snapshot();
        self.hand_to_indexer();
        self.indexer.take();
        if let Some(t) = self.indexer_thread.take() {
            let _ = t.join();
        }
    }

    fn wall(&self) -> Timestamp {
        now()
    }

    /// Persists the projection (the model and the seq it reflects). A failure
    /// is reported, not fatal: the projection is derived and the next open
    /// catches up from the last snapshot that was saved, or from genesis.
    fn save_snapshot(&mut self) {
        if self.snapshot_seq == self.next_seq {
            return;
        }
        let Ok(model) = self.shared.model.read() else {
            return;
        };
        match projstore::save(&self.dir, &model, self.next_seq, &self.prev) {
            Ok(_) => self.snapshot_seq = self.next_seq,
            Err(e) => eprintln!(
                "ledger: saving the projection snapshot failed ({e:#}); the next open replays from the last one"
            ),
        }
    }

    /// Checks, stages, writes and syncs one batch, then answers. Returns an
    /// error only when storage failed (the writer must stop).
    fn commit(&mut self, requests: Vec<(Vec<Prepared>, Reply)>) -> Result<(), String> {
        let started = Instant::now();
        let wall = self.wall();
        let mut outcomes: Vec<Vec<Outcome>> = Vec::with_capacity(requests.len());
        let mut replies: Vec<Reply> = Vec::with_capacity(requests.len());
        // Room for the whole batch up front (derived records may add a few).
        let items: usize = requests.iter().map(|(p, _)| p.len()).sum();
        let bytes: usize = requests
            .iter()
            .flat_map(|(p, _)| p)
            .map(|p| p.env.signed.bytes.len() + RECORD_FRAME_OVERHEAD)
            .sum();
        let mut frames = std::mem::take(&mut self.frames);
        frames.clear();
        frames.reserve(bytes + 1024);
        let mut b = BatchState {
            staged: Vec::with_capacity(items + items / 8),
            batch_ids: HashMap::with_capacity(items),
            frames,
            new_keys: Vec::new(),
            seq: self.next_seq,
            prev: self.prev,
            last: self.last_recorded_at,
        };
        // Held until the batch is durable and published (see `Shared::model`).
        let shared = self.shared.clone();
        let mut model = StagingGuard {
            model: shared
                .model
                .write()
                .map_err(|_| "the model lock is poisoned".to_string())?,
            failed: &shared.failed,
            done: false,
        };
        for (items, reply) in requests {
            let mut outs = Vec::with_capacity(items.len());
            for p in items {
                outs.push(self.stage(p.env, p.signature_checked, wall, &mut b, &mut model)?);
            }
            outcomes.push(outs);
            replies.push(reply);
        }
        let BatchState {
            staged,
            mut frames,
            new_keys,
            seq,
            prev,
            last,
            ..
        } = b;

        let mut note = String::new();
        if !staged.is_empty() {
            let root = self.hashes.root().map_err(|e| format!("hash store: {e}"))?;
            let cp = Checkpoint {
                origin: self.registry.origin.clone(),
                size: seq,
                root,
                extensions: vec![],
            };
            note = SignedCheckpoint::sign(cp, &self.signer)
                .map_err(|e| format!("signing checkpoint: {e}"))?
                .note;
            let checkpoint_offset = frames.len();
            log::encode_frame(FRAME_CHECKPOINT, note.as_bytes(), &mut frames);
            let first = self.next_seq;
            let synced = Instant::now();
            let written = self.log.write_batch(first, &frames);
            if let Ok(mut st) = self.shared.stats.lock() {
                let us = synced.elapsed().as_micros() as u64;
                st.batches += 1;
                st.records += staged.len() as u64;
                st.batch_max = st.batch_max.max(staged.len() as u64);
                st.fsync_micros += us;
                st.fsync_micros_max = st.fsync_micros_max.max(us);
                st.id_lookups = self.id_lookups;
                st.id_filter_ready = matches!(self.ids, Ids::Ready(_));
            }
            let (path, at) = match written {
                Ok(x) => x,
                Err(e) => {
                    let msg = format!("writing or syncing the log failed ({e}); nothing of this batch was acknowledged");
                    for (reply, outs) in replies.iter().zip(&outcomes) {
                        let _ = reply.send(
                            outs.iter()
                                .map(|_| Err(Rejection::new(Code::StorageFailed, msg.clone())))
                                .collect(),
                        );
                    }
                    return Err(msg);
                }
            };
            // Durable. Publish to readers, then answer. Readers in other
            // processes learn of it through `log/durable`, at most every
            // DURABLE_PUBLISH_EVERY (a failed write leaves them behind, never
            // ahead).
            if self.published.1.elapsed() >= DURABLE_PUBLISH_EVERY {
                self.published = (seq, Instant::now());
                let _ = self.log.publish_durable(seq);
            }
            self.hashes
                .flush()
                .map_err(|e| format!("hash store write failed: {e}"))?;
            {
                let mut log = self
                    .shared
                    .log
                    .write()
                    .map_err(|_| "log index poisoned".to_string())?;
                if log.segments.last().map(|(f, _)| *f) != Some(first) && at == 0 {
                    let f = File::open(&path).map_err(|e| format!("opening new segment: {e}"))?;
                    log.segments.push((first, Arc::new(f)));
                }
                for s in &staged {
                    log.offsets.push(at + s.frame_offset as u64);
                }
                let segment = log.segments.len() - 1;
                log.checkpoints
                    .push((seq, segment, at + checkpoint_offset as u64));
            }
            if !new_keys.is_empty() {
                if let Ok(mut k) = self.shared.keys.write() {
                    k.extend(new_keys.iter().map(|(id, vk, _)| (*id, *vk)));
                }
                if let Ok(mut h) = self.shared.holders.write() {
                    h.extend(new_keys.into_iter().map(|(id, _, p)| (id, p)));
                }
            }
            if let Ok(mut h) = self.shared.head.write() {
                *h = Head {
                    size: seq,
                    root,
                    checkpoint: note.clone(),
                    last_recorded_at: last,
                };
            }
            self.next_seq = seq;
            self.prev = prev;
            self.last_recorded_at = last;
        }
        if frames.capacity() <= FRAMES_KEPT_BYTES {
            self.frames = frames;
        }
        model.done = true;
        drop(model);
        for (reply, outs) in replies.into_iter().zip(outcomes) {
            let results = outs
                .into_iter()
                .map(|o| match o {
                    Outcome::Done(r) => r,
                    Outcome::Staged(i) | Outcome::SameAsStaged(i) => {
                        let s = &staged[i];
                        Ok(Receipt {
                            seq: s.seq,
                            id: s.statement.id.clone(),
                            leaf_hash: s.leaf_hash,
                            chain_hash: s.chain_hash,
                            checkpoint: note.clone(),
                        })
                    }
                })
                .collect();
            let _ = reply.send(results);
        }
        // Counted for the batches that wrote (as `batches` and the fsync time are).
        if !staged.is_empty() {
            if let Ok(mut st) = self.shared.stats.lock() {
                st.commit_micros += started.elapsed().as_micros() as u64;
            }
        }
        // Off the acknowledgement path: the derived index, written by the indexer.
        if !staged.is_empty() {
            let indexed = self
                .shared
                .indexed
                .load(std::sync::atomic::Ordering::Acquire);
            if self.recent_ids.len() > 65_536 {
                self.recent_ids.retain(|_, (seq, _)| *seq >= indexed);
            }
            self.ids.poll(&self.shared);
            self.to_index.0.reserve(staged.len());
            for s in staged {
                self.ids.committed(&s.statement.id);
                self.recent_ids
                    .insert(s.statement.id.clone(), (s.seq, s.content));
                self.to_index.0.push(Indexed {
                    seq: s.seq,
                    statement: s.statement,
                    content: s.content,
                });
            }
            if self.to_index.0.len() >= INDEX_HANDOFF_RECORDS
                || self.to_index.1.elapsed() >= DURABLE_PUBLISH_EVERY
            {
                self.hand_to_indexer();
            }
        }
        Ok(())
    }

    /// Checks one submission against everything the batch has staged so far
    /// and stages it. A refusal is an `Ok(Outcome::Done(Err(..)))`; `Err` means
    /// the writer must stop (a derived record the rules refused: a programmer error).
    fn stage(
        &mut self,
        env: Envelope,
        signature_checked: bool,
        wall: Timestamp,
        b: &mut BatchState,
        model: &mut Model,
    ) -> Result<Outcome, String> {
        let stmt = &env.signed.statement;
        let content = Statement::content_hash(&env.signed.bytes);
        // Idempotency: the same id with the same content gets the original receipt.
        if let Some((i, h)) = b.batch_ids.get(&stmt.id) {
            return Ok(if *h == content {
                Outcome::SameAsStaged(*i)
            } else {
                Outcome::Done(Err(Rejection::new(
                    Code::IdConflict,
                    format!(
                        "statement id {:?} was already used for different content",
                        stmt.id
                    ),
                )))
            });
        }
        // A new id (nearly every append) is told apart without the index.
        let known = if self.ids.surely_new(&stmt.id) {
            None
        } else if let Some((seq, h)) = self.recent_ids.get(&stmt.id) {
            Some((*seq, *h))
        } else {
            self.id_lookups += 1;
            match self.db.get(key_with(b"i:", stmt.id.as_bytes())) {
                Ok(Some(v)) if v.len() == 40 => {
                    let mut h = [0u8; 32];
                    h.copy_from_slice(&v[8..]);
                    Some((u64::from_be_bytes(v[..8].try_into().unwrap_or([0; 8])), h))
                }
                Ok(Some(v)) => {
                    // Taken for "no such id", it would let a used id be
                    // appended again: refused instead, and the operator told.
                    eprintln!(
                        "ledger: the index entry of statement id {:?} is damaged ({} bytes, not 40); stop the ledger and delete index/ to rebuild it from the log",
                        stmt.id,
                        v.len()
                    );
                    return Ok(Outcome::Done(Err(Rejection::new(
                        Code::StorageFailed,
                        "the ledger could not tell whether this statement id was used before (its index entry is damaged); the operator should see the server log and rebuild the index",
                    ))));
                }
                Ok(None) => None,
                Err(e) => return Err(format!("index read failed: {e}")),
            }
        };
        if let Some((old_seq, h)) = known {
            return Ok(Outcome::Done(if h == content {
                self.existing_receipt(old_seq, &stmt.id, &content)
            } else {
                Err(Rejection::new(
                    Code::IdConflict,
                    format!(
                        "statement id {:?} was already used at seq {old_seq} for different content",
                        stmt.id
                    ),
                ))
            }));
        }
        let refuse = |e: Rejection| Ok(Outcome::Done(Err(e)));
        let recorded_at = match self.recorded_at(&env, wall, b.last) {
            Ok(t) => t,
            Err(e) => return refuse(e),
        };
        if let Err(e) = check_issued_at(stmt.issued_at, recorded_at) {
            return refuse(e);
        }
        let seq = b.seq;
        let (key, holder, roles) = match self.registry.authorise(stmt, seq) {
            Ok(e) => (e.public.0, e.holder.clone(), e.roles.clone()),
            Err(e) => return refuse(e),
        };
        if !signature_checked && !env.signed.verify(&key) {
            return refuse(Rejection::new(
                Code::BadSignature,
                format!("signature does not verify under key {}", stmt.actor),
            ));
        }
        if let Err(e) = self.registry.check_effects(stmt) {
            return refuse(e);
        }
        let applied = Applied {
            seq,
            recorded_at,
            statement: stmt,
            actor_holder: &holder,
            actor_roles: &roles,
        };
        // The rules of DOMAIN.md, against the state as of this record.
        let flags = match rules::check(model, &applied) {
            Ok(f) => f,
            Err(e) => return refuse(e),
        };
        // The record goes straight into the batch's frames; one over the
        // limit is taken back out.
        let frame_offset = b.frames.len();
        let (range, chain_hash) =
            match log::push_record_frame(&mut b.frames, RECORD_BYTES_MAX, |out| {
                record::encode_into(
                    out,
                    seq,
                    recorded_at,
                    &b.prev,
                    &env.signed.bytes,
                    &env.signed.signature,
                )
            }) {
                Ok(x) => x,
                Err(len) => {
                    return refuse(Rejection::new(
                        Code::RecordTooLarge,
                        format!("record would be {len} bytes; the limit is {RECORD_BYTES_MAX}"),
                    ))
                }
            };
        let leaf_hash = merkle::leaf_hash(&b.frames[range]);
        // Accepted: from here on the batch's state moves forward.
        self.registry.apply(stmt, seq);
        model.apply(&applied);
        let derived = if flags.contains(&Flag::OpensCase) {
            rules::derived_complaint(model, &applied, &flags, seq + 1).map(|body| Statement {
                origin: self.registry.origin.clone(),
                id: format!("{}{seq}", events::registry::DERIVED_ID_PREFIX),
                actor: self.registry.system,
                on_behalf_of: None,
                issued_at: recorded_at,
                occurred_at: stmt.occurred_at,
                event: Event::ComplaintFiled(body),
            })
        } else {
            None
        };
        if let Event::KeyGranted(k) = &stmt.event {
            b.new_keys.push((k.key, k.public_key.0, k.holder.clone()));
        }
        self.hashes
            .push_leaf(leaf_hash)
            .map_err(|e| format!("hash store: {e}"))?;
        let index = b.staged.len();
        b.batch_ids.insert(stmt.id.clone(), (index, content));
        b.staged.push(Staged {
            seq,
            leaf_hash,
            chain_hash,
            frame_offset,
            statement: env.signed.statement,
            content,
        });
        b.seq += 1;
        b.prev = chain_hash;
        b.last = recorded_at;
        // A record that triggers another (a flagged inspection opens a case,
        // R13/R14) gets it in the same batch, signed by the ledger's system key.
        if let Some(d) = derived {
            let signed = d.sign(&self.system_key);
            let denv = Envelope {
                signed,
                recorded_at: (self.registry.clock == Clock::Simulated).then_some(recorded_at),
            };
            match self.stage(denv, true, wall, b, model)? {
                Outcome::Staged(_) => {}
                other => {
                    let why = match other {
                        Outcome::Done(Err(e)) => e.to_string(),
                        _ => "it was not staged".into(),
                    };
                    return Err(format!("the derived record for seq {seq} was refused ({why}); this is a bug, the writer stops"));
                }
            }
        }
        Ok(Outcome::Staged(index))
    }

    fn recorded_at(
        &self,
        env: &Envelope,
        wall: Timestamp,
        last: Timestamp,
    ) -> Result<Timestamp, Rejection> {
        match (self.registry.clock, env.recorded_at) {
            (Clock::Real, Some(_)) => Err(Rejection::new(
                Code::RecordedAtRefused,
                "this ledger's clock is real: recorded_at is set by the ledger, not the caller",
            )),
            (Clock::Real, None) => Ok(wall.max(last)),
            (Clock::Simulated, Some(t)) if t < last => Err(Rejection::new(
                Code::RecordedAtRefused,
                format!("recorded_at {t} is before the last record's {last}; the ledger's clock never goes back"),
            )),
            (Clock::Simulated, Some(t)) => Ok(t),
            // An import states when each record was made; the ledger does not
            // guess (its wall clock would jump the simulated timeline to today).
            (Clock::Simulated, None) => Err(Rejection::new(
                Code::RecordedAtRefused,
                "this ledger's clock is simulated (an import): each submission gives its recorded_at",
            )),
        }
    }

    /// The original receipt of a statement the index or `recent_ids` says
    /// was appended at `seq`. Paired assertion: the record there must be
    /// this statement (same id, same content), or the index is wrong and the
    /// caller is told so rather than handed another record's receipt. The
    /// detail goes to stderr, not to the client.
    fn existing_receipt(
        &self,
        seq: u64,
        id: &str,
        content: &[u8; 32],
    ) -> Result<Receipt, Rejection> {
        let log = self.shared.log.read().unwrap_or_else(|p| p.into_inner());
        let fail = |detail: String| {
            eprintln!("ledger: statement id {id:?}: {detail}");
            Rejection::new(
                Code::StorageFailed,
                "the ledger could not confirm the record this statement was appended as; the operator should see the server log and restart the ledger (it re-checks its index at start-up)",
            )
        };
        let same = log
            .read_leaf(seq)
            .map_err(|e| format!("reading seq {seq}: {e}"))
            .and_then(|leaf| {
                Record::parse(&leaf).map_err(|e| format!("seq {seq} does not parse: {e}"))
            })
            .map(|r| {
                r.signed.statement.id == id && Statement::content_hash(&r.signed.bytes) == *content
            })
            .map_err(fail)?;
        if !same {
            return Err(fail(format!(
                "the index names seq {seq}, which holds another statement"
            )));
        }
        receipt_from(&log, seq).map_err(|e| fail(format!("{e:#}")))
    }
}

/// The receipt of record `seq`, rebuilt from the log alone.
pub fn receipt_from(log: &LogIndex, seq: u64) -> Result<Receipt> {
    let leaf = log.read_leaf(seq)?;
    let r = Record::parse(&leaf).map_err(|e| LedgerError::Damaged(format!("seq {seq}: {e}")))?;
    let checkpoint = log
        .covering_checkpoint(seq)?
        .ok_or(LedgerError::NoCheckpoint(seq))?;
    Ok(Receipt {
        seq,
        id: r.signed.statement.id,
        leaf_hash: merkle::leaf_hash(&leaf),
        chain_hash: record::chain_hash(&leaf),
        checkpoint,
    })
}

/// What `ledger rebuild` did.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub records: u64,
    /// The log scan (frames checked), the fold of every record, and the
    /// snapshot saved.
    pub seconds: f64,
    pub digest: [u8; 32],
    /// Bytes of the snapshot saved.
    pub snapshot_bytes: u64,
}

/// Discards the persisted projection and rebuilds it from the log: every
/// committed record folded in order (`reads::fold`, the replay start-up
/// uses), then the snapshot saved. It holds the data directory's lock
/// throughout, so no ledger serves meanwhile, and touches nothing else: the
/// derived index and Merkle store are the ledger's to check when it opens.
pub fn rebuild_projections(dir: &Path) -> Result<Rebuilt> {
    if !dir.join("log").is_dir() {
        return Err(LedgerError::NotADataDir(dir.to_path_buf()));
    }
    let _lock = lock_dir(dir)?;
    projstore::clear(dir)?;
    let t = Instant::now();
    let (folded, view) = crate::reads::fold_with_view(dir, crate::reads::AsOf::default())?;
    let head = record::chain_hash(&view.read_leaf(folded.size - 1)?);
    drop(view);
    // The fingerprint and the snapshot each serialize the whole model: they
    // run on two cores at once (a rebuild of 1,002,309 records took 3.5–3.7 s
    // one after the other, 2.9–3.0 s so; BENCHMARKS.md).
    let (digest, meta) = std::thread::scope(|s| {
        let digest = s.spawn(|| folded.model.digest());
        let meta = projstore::save(dir, &folded.model, folded.size, &head);
        (
            digest
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            meta,
        )
    });
    let meta = meta?;
    Ok(Rebuilt {
        records: folded.size,
        seconds: t.elapsed().as_secs_f64(),
        digest,
        snapshot_bytes: meta.bytes,
    })
}

/// A read-only view of a data directory built from the log alone: no lock, no
/// writes, no trust in derived stores (the Merkle tree is recomputed in memory).
/// Used by `show`, `export` and `proof`, which may run beside a serving ledger,
/// and (opened by [`LogView::open_records`], without the tree) by folds.
pub struct LogView {
    index: LogIndex,
    /// Every stored hash of the Merkle tree; `None` when opened for records only.
    hashes: Option<Vec<Hash>>,
    pub origin: String,
    /// Unacknowledged bytes after the last checkpoint, ignored here.
    pub tail: Option<String>,
}

impl LogView {
    /// Opens the log with its Merkle tree, for proofs and roots.
    pub fn open(dir: &Path) -> Result<LogView> {
        Self::open_with(dir, log::LeafHashes::Compute)
    }

    /// Opens the log for reading records only (a fold): every frame is still
    /// checked, but no leaf is hashed and no tree held (64 MB for a million
    /// records); proofs and roots from this view are refused.
    pub fn open_records(dir: &Path) -> Result<LogView> {
        Self::open_with(dir, log::LeafHashes::Skip)
    }

    /// The view of a log scanned without leaf hashes (`log::scan_feeding`).
    pub fn from_scan(scan: &mut log::Scan) -> Result<LogView> {
        Self::from_scan_with(scan, log::LeafHashes::Skip, None)
    }

    /// [`LogView::from_scan`] in the process that holds the writer, which
    /// knows its durable size `durable` (the `log/durable` marker lags it).
    pub fn from_scan_durable(scan: &mut log::Scan, durable: u64) -> Result<LogView> {
        Self::from_scan_with(scan, log::LeafHashes::Skip, Some(durable))
    }

    fn open_with(dir: &Path, leaves: log::LeafHashes) -> Result<LogView> {
        let log_dir = dir.join("log");
        if !log_dir.is_dir() {
            return Err(LedgerError::NotADataDir(dir.to_path_buf()));
        }
        let mut scan = log::scan_read_only(&log_dir, leaves)?;
        if scan.records() == 0 {
            return Err(LedgerError::Uninitialised(dir.to_path_buf()));
        }
        Self::from_scan_with(&mut scan, leaves, None)
    }

    fn from_scan_with(
        scan: &mut log::Scan,
        leaves: log::LeafHashes,
        durable: Option<u64>,
    ) -> Result<LogView> {
        // Beside a running writer the scan may have read a batch whose
        // fdatasync has not returned: it is left out, so that no checkpoint
        // this view hands out can be lost to a power failure.
        if let Some(n) = durable.or_else(|| {
            scan.segments
                .first()
                .and_then(|(_, p, _)| p.parent())
                .and_then(log::read_durable)
        }) {
            scan.cap(n);
        }
        let tail = scan.tail.as_ref().map(|(p, from, bytes, n)| {
            format!("{} holds {bytes} unacknowledged bytes ({n} record frames) after byte {from}; they are not part of the ledger", p.display())
        });
        let hashes = match leaves {
            log::LeafHashes::Compute => Some(crate::hashes::stored_hashes(&scan.leaf_hashes)?),
            log::LeafHashes::Skip => None,
        };
        let index = LogIndex::from_scan(scan)?;
        if index.size() == 0 {
            return Err(LedgerError::Damaged("the log holds no records".into()));
        }
        let genesis = Record::parse(&index.read_leaf(0)?)
            .map_err(|e| LedgerError::Damaged(format!("genesis: {e}")))?;
        Ok(LogView {
            index,
            hashes,
            origin: genesis.signed.statement.origin,
            tail,
        })
    }

    fn hashes(&self) -> Result<&[Hash]> {
        self.hashes.as_deref().ok_or(LedgerError::NoMerkleTree)
    }

    pub fn size(&self) -> u64 {
        self.index.size()
    }

    pub fn read_leaf(&self, seq: u64) -> std::io::Result<Vec<u8>> {
        self.index.read_leaf(seq)
    }

    /// The leaves of `range`, read together (see [`crate::log::LogIndex::read_leaves`]).
    pub fn read_leaves(&self, range: std::ops::Range<u64>) -> std::io::Result<crate::log::Leaves> {
        self.index.read_leaves(range)
    }

    pub fn checkpoint_at(&self, size: u64) -> Result<Option<String>> {
        Ok(self.index.checkpoint_at(size)?)
    }

    pub fn nearest_checkpoints(&self, size: u64) -> (Option<u64>, Option<u64>) {
        self.index.nearest_checkpoints(size)
    }

    pub fn receipt(&self, seq: u64) -> Result<Receipt> {
        receipt_from(&self.index, seq)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size() {
            return Err(LedgerError::BeyondSize {
                asked: size,
                size: self.size(),
            });
        }
        Ok(())
    }

    pub fn inclusion_proof(&self, seq: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        Ok(merkle::inclusion_proof(size, seq, self.hashes()?)?)
    }

    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.check_size(new)?;
        Ok(merkle::consistency_proof(new, old, self.hashes()?)?)
    }

    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        Ok(merkle::tree_hash(size, self.hashes()?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::{Model, StagingGuard};
    use std::sync::{Arc, Mutex, RwLock};

    /// A batch that fails marks the writer failed before the model's lock
    /// is released: a reader blocked on the lock meanwhile sees the failure
    /// as soon as it gets the lock. A published batch marks nothing.
    #[test]
    fn a_failed_batch_is_marked_before_a_waiting_reader_gets_the_model() {
        let model = Arc::new(RwLock::new(Model::default()));
        let failed = Arc::new(Mutex::new(None::<String>));
        let published = StagingGuard {
            model: model.write().unwrap(),
            failed: &failed,
            done: true,
        };
        drop(published);
        assert_eq!(*failed.lock().unwrap(), None);

        let guard = StagingGuard {
            model: model.write().unwrap(),
            failed: &failed,
            done: false,
        };
        let (m, f) = (model.clone(), failed.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            tx.send(()).unwrap();
            let _read = m.read().unwrap();
            f.lock().unwrap().clone()
        });
        rx.recv().unwrap();
        // Give the reader time to block on the lock.
        std::thread::sleep(std::time::Duration::from_millis(50));
        drop(guard);
        let seen = reader.join().unwrap();
        assert_eq!(
            seen.as_deref(),
            Some("a batch failed after its records were staged")
        );
    }
}
