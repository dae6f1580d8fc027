//! The projection store: the domain model ([`projections::model::Model`])
//! persisted in the file `projection.snap` of the data directory together
//! with the seq it reflects (FORMAT.md §15).
//!
//! The file is the model's JSON, a newline, and one line of meta JSON naming
//! the seq, the code version, the chain hash of the last record reflected,
//! and the BLAKE3 hash and length of the model's JSON. It is written to
//! `projection.snap.tmp`, synced, and renamed over the old one (then the
//! directory is synced): a crash leaves either snapshot whole, and a reader
//! that finds the hash wrong discards it (the projection is derived: the log
//! rebuilds it).
//!
//! The snapshot never holds the whole JSON in memory at once: it is written
//! through a buffered, hashing writer and parsed back from a buffered reader.
//! It used to live in sled (the `projection` tree), where each rewrite of a
//! few hundred megabytes left as much again in sled's files; [`clear_legacy`]
//! empties that tree.

use events::record::ChainHash;
use projections::model::Model;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The code version of the persisted model. Bump it whenever `Model` or what
/// `Model::apply` derives changes: a store of another version is rebuilt.
pub const PROJECTION_VERSION: u32 = 1;
/// The snapshot file in the data directory, and its name while written.
pub const FILE: &str = "projection.snap";
const TMP: &str = "projection.snap.tmp";
/// The sled tree where earlier versions kept the snapshot.
const LEGACY_TREE: &str = "projection";
/// The meta line is short; a longer last line is not a meta line.
const META_LINE_MAX: u64 = 4096;
const BLAKE3_CONTEXT: &str = "gov-enterprise-ledger 2026 projection snapshot v1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub version: u32,
    /// The snapshot reflects records 0..seq.
    pub seq: u64,
    /// The chain hash (hex) of record seq − 1: a snapshot of another log, or
    /// of a log cut shorter since, is never used.
    pub head: String,
    pub bytes: u64,
    /// BLAKE3 (derive-key, [`BLAKE3_CONTEXT`]) of the JSON, hex.
    pub hash: String,
}

/// Why the projection store could not be read or written. (A snapshot that
/// is there but cannot be used is not an error: see [`Unusable`].)
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{doing} the projection snapshot: {source}")]
    Io {
        doing: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("writing the projection snapshot: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("dropping the projection tree an earlier version kept in sled: {0}")]
    Sled(#[from] sled::Error),
}

/// The projection store's results.
pub type Result<T> = std::result::Result<T, StoreError>;

fn io_err(doing: &'static str) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io { doing, source }
}

/// Why a stored snapshot was not used.
#[derive(Debug)]
pub enum Unusable {
    Missing,
    Version(u32),
    OtherLog,
    Damaged(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Missing => write!(f, "no projection snapshot is stored"),
            Unusable::Version(v) => write!(
                f,
                "the stored projection is of code version {v}, this build reads {PROJECTION_VERSION}"
            ),
            Unusable::OtherLog => write!(
                f,
                "the stored projection reflects records this log does not hold"
            ),
            Unusable::Damaged(m) => write!(f, "the stored projection is damaged: {m}"),
        }
    }
}

/// The snapshot file of the data directory `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// Reads the meta line at the end of the snapshot file, if it is there.
fn read_meta(file: &mut File) -> std::result::Result<Meta, Unusable> {
    use std::io::{Seek, SeekFrom};
    let damaged = |m: String| Unusable::Damaged(m);
    let len = file.metadata().map_err(|e| damaged(e.to_string()))?.len();
    let tail_len = len.min(META_LINE_MAX);
    file.seek(SeekFrom::Start(len - tail_len))
        .map_err(|e| damaged(e.to_string()))?;
    let mut tail = Vec::with_capacity(tail_len as usize);
    file.take(tail_len)
        .read_to_end(&mut tail)
        .map_err(|e| damaged(e.to_string()))?;
    let body = tail
        .strip_suffix(b"\n")
        .ok_or_else(|| damaged("the file does not end with its meta line".into()))?;
    let start = body.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let meta: Meta =
        serde_json::from_slice(&body[start..]).map_err(|e| damaged(format!("meta: {e}")))?;
    // JSON, newline, meta line, newline: nothing else.
    if meta.bytes + 1 + (body.len() - start) as u64 + 1 != len {
        return Err(damaged(format!(
            "the meta names {} bytes of model in a file of {len}",
            meta.bytes
        )));
    }
    Ok(meta)
}

/// The stored snapshot's meta, if any (unreadable counts as none).
pub fn meta(dir: &Path) -> Result<Option<Meta>> {
    match File::open(path(dir)) {
        Ok(mut f) => Ok(read_meta(&mut f).ok()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("opening")(e)),
    }
}

/// Counts and hashes what passes through.
struct Hashing<W> {
    inner: W,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(data)?;
        self.hasher.update(&data[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.hasher.update(&out[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Writes a snapshot of `model`, which reflects records 0..seq whose last
/// chain hash is `head`, and publishes it. Returns its meta.
pub fn save(dir: &Path, model: &Model, seq: u64, head: &ChainHash) -> Result<Meta> {
    let tmp = dir.join(TMP);
    let file = File::create(&tmp).map_err(io_err("creating"))?;
    // The buffer comes first, so the hasher and the file see large writes.
    let mut w = io::BufWriter::with_capacity(
        1 << 20,
        Hashing {
            inner: file,
            hasher: blake3::Hasher::new_derive_key(BLAKE3_CONTEXT),
            bytes: 0,
        },
    );
    serde_json::to_writer(&mut w, model)?;
    let w = w
        .into_inner()
        .map_err(|e| io_err("writing")(e.into_error()))?;
    let meta = Meta {
        version: PROJECTION_VERSION,
        seq,
        head: events::codec::hex(head),
        bytes: w.bytes,
        hash: w.hasher.finalize().to_hex().to_string(),
    };
    let mut file = w.inner;
    let mut line = b"\n".to_vec();
    serde_json::to_writer(&mut line, &meta)?;
    line.push(b'\n');
    file.write_all(&line).map_err(io_err("writing"))?;
    file.sync_all().map_err(io_err("syncing"))?;
    drop(file);
    fs::rename(&tmp, path(dir)).map_err(io_err("publishing"))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing the directory of"))?;
    Ok(meta)
}

/// Loads the stored snapshot if it is of this code version and reflects a
/// prefix of this log: `head_of(seq)` gives the chain hash of record seq − 1
/// of the log being opened (or `None` when the log is shorter).
pub fn load(
    dir: &Path,
    head_of: impl Fn(u64) -> Option<ChainHash>,
) -> Result<std::result::Result<(Model, Meta), Unusable>> {
    use std::io::{Seek, SeekFrom};
    let mut file = match File::open(path(dir)) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Err(Unusable::Missing)),
        Err(e) => return Err(io_err("opening")(e)),
    };
    let meta = match read_meta(&mut file) {
        Ok(m) => m,
        Err(why) => return Ok(Err(why)),
    };
    if meta.version != PROJECTION_VERSION {
        return Ok(Err(Unusable::Version(meta.version)));
    }
    if head_of(meta.seq).map(|h| events::codec::hex(&h)) != Some(meta.head.clone()) {
        return Ok(Err(Unusable::OtherLog));
    }
    file.seek(SeekFrom::Start(0)).map_err(io_err("reading"))?;
    let mut r = io::BufReader::with_capacity(
        1 << 20,
        Hashing {
            inner: file.take(meta.bytes),
            hasher: blake3::Hasher::new_derive_key(BLAKE3_CONTEXT),
            bytes: 0,
        },
    );
    let mut model: Model = match serde_json::from_reader(&mut r) {
        Ok(m) => m,
        Err(e) => return Ok(Err(Unusable::Damaged(e.to_string()))),
    };
    // Drain what serde did not need (nothing, for a sound snapshot) so the
    // hash covers every stored byte.
    io::copy(&mut r, &mut io::sink()).map_err(io_err("reading"))?;
    let inner = r.into_inner();
    if inner.bytes != meta.bytes || inner.hasher.finalize().to_hex().as_str() != meta.hash {
        return Ok(Err(Unusable::Damaged(format!(
            "its {} bytes of model do not hash to the meta's",
            inner.bytes
        ))));
    }
    model.rebuild_indexes();
    Ok(Ok((model, meta)))
}

/// Removes the stored snapshot (`ledger rebuild` starts from nothing).
pub fn clear(dir: &Path) -> Result<()> {
    for name in [FILE, TMP] {
        match fs::remove_file(dir.join(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("removing")(e)),
        }
    }
    Ok(())
}

/// Empties the sled tree where earlier versions kept the snapshot, if it
/// holds anything; true when it did.
pub fn clear_legacy(db: &sled::Db) -> Result<bool> {
    if !db
        .tree_names()
        .iter()
        .any(|n| n.as_ref() == LEGACY_TREE.as_bytes())
    {
        return Ok(false);
    }
    let tree = db.open_tree(LEGACY_TREE)?;
    let held = !tree.is_empty();
    drop(tree);
    db.drop_tree(LEGACY_TREE)?;
    Ok(held)
}
