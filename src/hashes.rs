//! The Merkle hash store: every hash of the tree, once, in C2SP tlog-tiles
//! stored-hash order (see `events::merkle`), as a flat file of 32-byte hashes.
//! Tiles (`tile/8/L/N`) are read from it with `merkle::read_tile_data`, so they
//! can later be served as static files.
//!
//! The store is derived from the log and never trusted blindly: on open it is
//! recomputed from the leaf hashes the log scan produced and compared with the
//! file, which is rewritten if it differs (a torn write, a lost page, tampering).
//! So it needs no fsync of its own: after each batch its new hashes are written
//! to the page cache for readers.

use events::merkle::{self, Hash, HashReader, ProofError};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::Path;

pub const HASHES_FILE: &str = "merkle.hashes";

/// Appends stored hashes and answers reads (owned by the sequencer).
pub struct HashStore {
    file: File,
    /// Stored hashes already written to the file.
    written: u64,
    /// Stored hashes appended since the last write.
    tail: Vec<Hash>,
    /// The most recent stored hash at each level: exactly what appending the
    /// next leaf and computing the current root read.
    frontier: HashMap<u32, (u64, Hash)>,
    /// Tree size (leaves) represented.
    size: u64,
}

fn storage(e: io::Error) -> ProofError {
    ProofError::Storage(e.to_string())
}

/// Every stored hash of the tree over `leaf_hashes`, in stored-hash order.
pub fn stored_hashes(leaf_hashes: &[Hash]) -> Result<Vec<Hash>, ProofError> {
    let mut all: Vec<Hash> = Vec::with_capacity(leaf_hashes.len() * 2);
    for (n, h) in leaf_hashes.iter().enumerate() {
        let new = merkle::stored_hashes_for_leaf(n as u64, *h, &all)?;
        all.extend(new);
    }
    Ok(all)
}

impl HashStore {
    /// Opens the store for a log whose leaves hash to `leaf_hashes`. Returns the
    /// store and, if the file had to be rewritten, why.
    pub fn open(dir: &Path, leaf_hashes: &[Hash]) -> io::Result<(HashStore, Option<String>)> {
        let path = dir.join(HASHES_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let all = stored_hashes(leaf_hashes).map_err(|e| io::Error::other(e.to_string()))?;
        let mut want = Vec::with_capacity(all.len() * 32);
        for h in &all {
            want.extend_from_slice(h);
        }
        let mut have = Vec::new();
        file.read_to_end(&mut have)?;
        let notice = if have == want {
            None
        } else {
            file.set_len(0)?;
            file.write_all_at(&want, 0)?;
            file.set_len(want.len() as u64)?;
            Some(if have.is_empty() {
                format!(
                    "Merkle hash store built from the log ({} records)",
                    leaf_hashes.len()
                )
            } else {
                format!("Merkle hash store disagreed with the log; rewrote it from the log ({} records)", leaf_hashes.len())
            })
        };
        let mut frontier = HashMap::new();
        for (i, h) in all.iter().enumerate() {
            let (level, _) = merkle::split_stored_hash_index(i as u64);
            frontier.insert(level, (i as u64, *h));
        }
        Ok((
            HashStore {
                file,
                written: all.len() as u64,
                tail: Vec::new(),
                frontier,
                size: leaf_hashes.len() as u64,
            },
            notice,
        ))
    }

    /// Tree size (number of leaves) represented.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash and the parents it completes.
    pub fn push_leaf(&mut self, leaf_hash: Hash) -> Result<(), ProofError> {
        let n = self.size;
        let new = merkle::stored_hashes_for_leaf(n, leaf_hash, &*self)?;
        let base = merkle::stored_hash_index(0, n);
        for (i, h) in new.into_iter().enumerate() {
            let index = base + i as u64;
            let (level, _) = merkle::split_stored_hash_index(index);
            self.frontier.insert(level, (index, h));
            self.tail.push(h);
        }
        self.size += 1;
        Ok(())
    }

    /// The root of the tree as it stands.
    pub fn root(&self) -> Result<Hash, ProofError> {
        merkle::tree_hash(self.size, self)
    }

    /// Writes appended hashes to the file (page cache) for readers.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.tail.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(self.tail.len() * 32);
        for h in &self.tail {
            buf.extend_from_slice(h);
        }
        self.file.write_all_at(&buf, self.written * 32)?;
        self.written += self.tail.len() as u64;
        self.tail.clear();
        Ok(())
    }

    /// A reader for other threads: sees every hash flushed so far.
    pub fn reader(&self) -> io::Result<HashFileReader> {
        Ok(HashFileReader {
            file: self.file.try_clone()?,
        })
    }
}

impl HashReader for HashStore {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ProofError> {
        let mut out = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let (level, _) = merkle::split_stored_hash_index(index);
            if let Some((i, h)) = self.frontier.get(&level) {
                if *i == index {
                    out.push(*h);
                    continue;
                }
            }
            if index >= self.written {
                let t = usize::try_from(index - self.written)
                    .map_err(|_| ProofError::Storage("index overflow".into()))?;
                match self.tail.get(t) {
                    Some(h) => out.push(*h),
                    None => {
                        return Err(ProofError::Storage(format!(
                            "stored hash {index} does not exist yet"
                        )))
                    }
                }
                continue;
            }
            out.push(read_stored(&self.file, index)?);
        }
        Ok(out)
    }
}

/// Reads stored hash `index` from the file.
fn read_stored(file: &File, index: u64) -> Result<Hash, ProofError> {
    let mut h = [0u8; 32];
    file.read_exact_at(&mut h, index * 32).map_err(storage)?;
    Ok(h)
}

/// Reads flushed hashes from another thread (proofs for readers).
pub struct HashFileReader {
    file: File,
}

impl HashReader for HashFileReader {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ProofError> {
        indexes
            .iter()
            .map(|&i| read_stored(&self.file, i))
            .collect()
    }
}
