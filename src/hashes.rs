//! The Merkle hash store: every hash of the tree, once, in C2SP tlog-tiles order
//! (stored hash index, see `events::merkle`), as a flat file of 32-byte hashes.
//! Tiles (`tile/8/L/N`) are read from it with `merkle::read_tile_data`, so
//! they can later be served as static files.
//!
//! The store is derived from the log. Its file is written after each batch but
//! synced only now and then; `merkle.synced` records the tree size whose hashes
//! are known durable, and on open everything after it is recomputed from the log.

use events::merkle::{self, Hash, HashReader, ProofError};
use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const HASHES_FILE: &str = "merkle.hashes";
pub const SYNCED_FILE: &str = "merkle.synced";

/// Appends stored hashes and answers reads (by the sequencer).
pub struct HashStore {
    file: File,
    dir: PathBuf,
    /// Stored hashes already written to the file.
    written: u64,
    /// Stored hashes appended since the last write.
    tail: Vec<Hash>,
    /// The most recent stored hash at each level: exactly what appending the
    /// next leaf and computing the current root read, so they never touch disk.
    frontier: HashMap<u32, (u64, Hash)>,
    /// Tree size (leaves) represented.
    size: u64,
    synced_size: u64,
}

fn storage(e: io::Error) -> ProofError {
    ProofError::Storage(e.to_string())
}

impl HashStore {
    /// Opens the store and returns it with the tree size it can be trusted for
    /// (the caller appends the leaves after it from the log).
    pub fn open(dir: &Path, log_size: u64) -> io::Result<HashStore> {
        let path = dir.join(HASHES_FILE);
        let synced = fs::read_to_string(dir.join(SYNCED_FILE))
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let on_disk = file.metadata()?.len() / 32;
        // Trust only what was synced, what the log still has, and what is on disk.
        let mut trusted = synced.min(log_size);
        if merkle::stored_hash_count(trusted) > on_disk {
            trusted = 0;
        }
        let written = merkle::stored_hash_count(trusted);
        file.set_len(written * 32)?;
        Ok(HashStore {
            file,
            dir: dir.to_path_buf(),
            written,
            tail: Vec::new(),
            frontier: HashMap::new(),
            size: trusted,
            synced_size: trusted.min(synced),
        })
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

    /// Writes appended hashes to the file (page cache; see [`HashStore::sync`]).
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

    /// Makes the hashes durable and records the size they cover.
    pub fn sync(&mut self) -> io::Result<()> {
        self.flush()?;
        if self.synced_size == self.size {
            return Ok(());
        }
        self.file.sync_data()?;
        let tmp = self.dir.join("merkle.synced.tmp");
        {
            let mut f = File::create(&tmp)?;
            writeln!(f, "{}", self.size)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.dir.join(SYNCED_FILE))?;
        self.synced_size = self.size;
        Ok(())
    }

    /// Records appended since the last sync.
    pub fn unsynced(&self) -> u64 {
        self.size - self.synced_size
    }

    /// Forgets everything (used when the file disagrees with the log).
    pub fn reset(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        let _ = fs::remove_file(self.dir.join(SYNCED_FILE));
        self.written = 0;
        self.tail.clear();
        self.frontier.clear();
        self.size = 0;
        self.synced_size = 0;
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
            let mut h = [0u8; 32];
            self.file
                .read_exact_at(&mut h, index * 32)
                .map_err(storage)?;
            out.push(h);
        }
        Ok(out)
    }
}

/// Reads flushed hashes from another thread (proofs for readers).
pub struct HashFileReader {
    file: File,
}

impl HashReader for HashFileReader {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, ProofError> {
        let mut out = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let mut h = [0u8; 32];
            self.file
                .read_exact_at(&mut h, index * 32)
                .map_err(storage)?;
            out.push(h);
        }
        Ok(out)
    }
}
