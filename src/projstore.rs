//! The projection store: the domain model ([`projections::model::Model`])
//! persisted in sled together with the seq it reflects.
//!
//! A snapshot is the model's JSON, cut into chunks of [`CHUNK_BYTES`] under
//! `c/<generation>/<index>` in the `projection` tree, followed by one `meta`
//! value naming the generation, the seq, the code version, the chain hash of
//! the last record reflected, and the BLAKE3 hash and length of the JSON. The
//! `meta` insert is what publishes a snapshot: sled recovers a prefix of its
//! operations after a crash, so a `meta` that is present names chunks that are
//! present too, and a reader that finds the hash wrong discards the snapshot
//! (the projection is derived: the log rebuilds it). Chunks of older
//! generations are removed after the new `meta` is written.
//!
//! The snapshot never holds the whole JSON in memory at once: it is written
//! through a chunking writer and read back through a chunk-by-chunk reader.

use anyhow::{Context, Result};
use events::record::ChainHash;
use projections::model::Model;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

/// The code version of the persisted model. Bump it whenever `Model` or what
/// `Model::apply` derives changes: a store of another version is rebuilt.
pub const PROJECTION_VERSION: u32 = 1;
/// The size of one stored chunk of snapshot JSON.
pub const CHUNK_BYTES: usize = 1 << 20;
const TREE: &str = "projection";
const META: &[u8] = b"meta";
const BLAKE3_CONTEXT: &str = "gov-enterprise-ledger 2026 projection snapshot v1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub version: u32,
    pub generation: u64,
    /// The snapshot reflects records 0..seq.
    pub seq: u64,
    /// The chain hash (hex) of record seq − 1: a snapshot of another log, or
    /// of a log cut shorter since, is never used.
    pub head: String,
    pub chunks: u64,
    pub bytes: u64,
    /// BLAKE3 (derive-key, [`BLAKE3_CONTEXT`]) of the JSON, hex.
    pub hash: String,
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

fn chunk_key(generation: u64, index: u64) -> [u8; 18] {
    let mut k = [0u8; 18];
    k[0] = b'c';
    k[1] = b'/';
    k[2..10].copy_from_slice(&generation.to_be_bytes());
    k[10..18].copy_from_slice(&index.to_be_bytes());
    k
}

fn chunk_prefix(generation: u64) -> [u8; 10] {
    let mut k = [0u8; 10];
    k[0] = b'c';
    k[1] = b'/';
    k[2..10].copy_from_slice(&generation.to_be_bytes());
    k
}

/// The stored snapshot's meta, if any.
pub fn meta(db: &sled::Db) -> Result<Option<Meta>> {
    let tree = db.open_tree(TREE)?;
    Ok(match tree.get(META)? {
        None => None,
        Some(v) => serde_json::from_slice(&v).ok(),
    })
}

struct ChunkWriter<'a> {
    tree: &'a sled::Tree,
    generation: u64,
    index: u64,
    buf: Vec<u8>,
    hasher: blake3::Hasher,
    bytes: u64,
}

impl ChunkWriter<'_> {
    fn emit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.hasher.update(&self.buf);
        self.bytes += self.buf.len() as u64;
        self.tree
            .insert(chunk_key(self.generation, self.index), self.buf.as_slice())
            .map_err(io::Error::other)?;
        self.index += 1;
        self.buf.clear();
        Ok(())
    }
}

impl Write for ChunkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK_BYTES - self.buf.len();
        let n = data.len().min(room);
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK_BYTES {
            self.emit()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes a snapshot of `model`, which reflects records 0..seq whose last
/// chain hash is `head`, and publishes it. Returns its meta.
pub fn save(db: &sled::Db, model: &Model, seq: u64, head: &ChainHash) -> Result<Meta> {
    let tree = db.open_tree(TREE)?;
    let old = meta(db)?;
    let generation = old.as_ref().map_or(1, |m| m.generation + 1);
    // Leftovers of an unpublished generation (a crash mid-save) go first.
    for k in tree.scan_prefix(chunk_prefix(generation)).keys() {
        tree.remove(k?)?;
    }
    let mut w = ChunkWriter {
        tree: &tree,
        generation,
        index: 0,
        buf: Vec::with_capacity(CHUNK_BYTES),
        hasher: blake3::Hasher::new_derive_key(BLAKE3_CONTEXT),
        bytes: 0,
    };
    serde_json::to_writer(&mut w, model).context("writing the projection snapshot")?;
    w.emit()?;
    let meta = Meta {
        version: PROJECTION_VERSION,
        generation,
        seq,
        head: events::codec::hex(head),
        chunks: w.index,
        bytes: w.bytes,
        hash: w.hasher.finalize().to_hex().to_string(),
    };
    tree.insert(META, serde_json::to_vec(&meta)?)?;
    if let Some(old) = old {
        for k in tree.scan_prefix(chunk_prefix(old.generation)).keys() {
            tree.remove(k?)?;
        }
    }
    Ok(meta)
}

struct ChunkReader {
    iter: sled::Iter,
    cur: sled::IVec,
    pos: usize,
    hasher: blake3::Hasher,
    chunks: u64,
    bytes: u64,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.cur.len() {
            match self.iter.next() {
                None => return Ok(0),
                Some(r) => {
                    let (_, v) = r.map_err(io::Error::other)?;
                    self.hasher.update(&v);
                    self.chunks += 1;
                    self.bytes += v.len() as u64;
                    self.cur = v;
                    self.pos = 0;
                }
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Loads the stored snapshot if it is of this code version and reflects a
/// prefix of this log: `head_of(seq)` gives the chain hash of record seq − 1
/// of the log being opened (or `None` when the log is shorter).
pub fn load(
    db: &sled::Db,
    head_of: impl Fn(u64) -> Option<ChainHash>,
) -> Result<std::result::Result<(Model, Meta), Unusable>> {
    let tree = db.open_tree(TREE)?;
    let Some(raw) = tree.get(META)? else {
        return Ok(Err(Unusable::Missing));
    };
    let meta: Meta = match serde_json::from_slice(&raw) {
        Ok(m) => m,
        Err(e) => return Ok(Err(Unusable::Damaged(format!("meta: {e}")))),
    };
    if meta.version != PROJECTION_VERSION {
        return Ok(Err(Unusable::Version(meta.version)));
    }
    if head_of(meta.seq).map(|h| events::codec::hex(&h)) != Some(meta.head.clone()) {
        return Ok(Err(Unusable::OtherLog));
    }
    let mut r = io::BufReader::with_capacity(
        64 * 1024,
        ChunkReader {
            iter: tree.scan_prefix(chunk_prefix(meta.generation)),
            cur: sled::IVec::default(),
            pos: 0,
            hasher: blake3::Hasher::new_derive_key(BLAKE3_CONTEXT),
            chunks: 0,
            bytes: 0,
        },
    );
    let mut model: Model = match serde_json::from_reader(&mut r) {
        Ok(m) => m,
        Err(e) => return Ok(Err(Unusable::Damaged(e.to_string()))),
    };
    // Drain what serde did not need (nothing, for a sound snapshot) so the
    // hash covers every stored byte.
    io::copy(&mut r, &mut io::sink())?;
    let inner = r.into_inner();
    if inner.chunks != meta.chunks
        || inner.bytes != meta.bytes
        || inner.hasher.finalize().to_hex().as_str() != meta.hash
    {
        return Ok(Err(Unusable::Damaged(format!(
            "{} chunks of {} bytes do not hash to the meta's {} chunks of {} bytes",
            inner.chunks, inner.bytes, meta.chunks, meta.bytes
        ))));
    }
    model.rebuild_indexes();
    Ok(Ok((model, meta)))
}

/// Removes the stored snapshot (`ledger rebuild` starts from nothing).
pub fn clear(db: &sled::Db) -> Result<()> {
    let tree = db.open_tree(TREE)?;
    tree.clear()?;
    Ok(())
}
