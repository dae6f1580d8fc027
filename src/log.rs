//! The source of truth: an append-only log in segment files.
//!
//! Each batch is written as one frame per record followed by one frame holding
//! the batch's signed checkpoint, then fdatasync'd; only then is anything
//! acknowledged. A frame is
//! `magic "LGF1" | kind u8 | length u32 LE | payload | check 8 bytes`, where
//! `check` is, for a record frame, the first 8 bytes of the record's chain
//! hash (which the sequencer and every reader compute anyway), and for a
//! checkpoint frame the first 8 bytes of BLAKE3 (derive-key mode,
//! [`FRAME_CONTEXT`]) over `kind | length | payload`. Segments are named by the seq of their first
//! record (`00000000000000000000.seg`) and end on a batch boundary.
//!
//! On open, only frames after the last intact checkpoint frame of the last
//! segment may be cut (they were never acknowledged); any damage before it stops
//! start-up with a message naming the seq. Nothing is ever repaired silently.

use events::checkpoint::Checkpoint;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const FRAME_MAGIC: [u8; 4] = *b"LGF1";
pub const FRAME_RECORD: u8 = 1;
pub const FRAME_CHECKPOINT: u8 = 2;
pub const FRAME_HEADER: usize = 9;
pub const FRAME_TRAILER: usize = 8;
/// Frames are never larger than this payload (records are at most 64 KiB).
pub const FRAME_PAYLOAD_MAX: usize = 1 << 20;
pub const FRAME_CONTEXT: &str = "gov-enterprise-ledger 2026-11-26 frame checksum v1";
/// A new segment is started once the current one reaches this size.
pub const SEGMENT_BYTES_MAX: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("the log is damaged at seq {seq} ({path}, byte {offset}): {reason}; refusing to start (nothing was changed). Restore the data directory from a backup or copy the log up to seq {seq} for investigation")]
    Damaged {
        seq: u64,
        path: String,
        offset: u64,
        reason: String,
    },
    #[error("log IO error on {path}: {source}")]
    Io { path: String, source: io::Error },
}

fn io_err(path: &Path, source: io::Error) -> LogError {
    LogError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A record frame's check: the first 8 bytes of the record's chain hash.
fn record_check(chain_hash: &events::record::ChainHash) -> [u8; 8] {
    let mut out = [0u8; 8];
    out.copy_from_slice(&chain_hash[..8]);
    out
}

fn frame_check(kind: u8, payload: &[u8]) -> [u8; 8] {
    if kind == FRAME_RECORD {
        return record_check(&events::record::chain_hash(payload));
    }
    // The context is hashed once per process, not once per frame.
    static KEY: std::sync::LazyLock<blake3::hazmat::ContextKey> =
        std::sync::LazyLock::new(|| blake3::hazmat::hash_derive_key_context(FRAME_CONTEXT));
    let mut h = <blake3::Hasher as blake3::hazmat::HasherExt>::new_from_context_key(&KEY);
    h.update(&[kind]);
    h.update(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    h.update(payload);
    let mut out = [0u8; 8];
    out.copy_from_slice(&h.finalize().as_bytes()[..8]);
    out
}

/// Appends a record frame whose payload `encode` writes in place, and
/// returns the payload's range in `out` and its chain hash (the frame's
/// check). A payload over `max` bytes (at most [`FRAME_PAYLOAD_MAX`]) is
/// taken back, `out` left as it was, and its length is the error.
pub fn push_record_frame(
    out: &mut Vec<u8>,
    max: usize,
    encode: impl FnOnce(&mut Vec<u8>),
) -> Result<(std::ops::Range<usize>, events::record::ChainHash), usize> {
    let start = out.len();
    out.extend_from_slice(&FRAME_MAGIC);
    out.push(FRAME_RECORD);
    out.extend_from_slice(&[0; 4]);
    let payload = out.len();
    encode(out);
    let len = out.len() - payload;
    if len > max.min(FRAME_PAYLOAD_MAX) {
        out.truncate(start);
        return Err(len);
    }
    out[start + 5..payload].copy_from_slice(&(len as u32).to_le_bytes());
    let chain = events::record::chain_hash(&out[payload..]);
    out.extend_from_slice(&record_check(&chain));
    Ok((payload..payload + len, chain))
}

/// Appends one frame to `out`.
pub fn encode_frame(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    put_frame(kind, payload, &frame_check(kind, payload), out);
}

fn put_frame(kind: u8, payload: &[u8], check: &[u8; FRAME_TRAILER], out: &mut Vec<u8>) {
    assert!(
        payload.len() <= FRAME_PAYLOAD_MAX,
        "frame payload over the limit is a programmer error"
    );
    out.extend_from_slice(&FRAME_MAGIC);
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(check);
}

/// Decodes the frame at the start of `buf`, if it is complete and intact.
/// Returns (kind, payload range, total length).
fn decode_frame(buf: &[u8]) -> Result<(u8, std::ops::Range<usize>, usize), &'static str> {
    if buf.len() < FRAME_HEADER + FRAME_TRAILER {
        return Err("truncated frame");
    }
    if buf[..4] != FRAME_MAGIC {
        return Err("bad frame magic");
    }
    let kind = buf[4];
    if kind != FRAME_RECORD && kind != FRAME_CHECKPOINT {
        return Err("unknown frame kind");
    }
    let len = u32::from_le_bytes([buf[5], buf[6], buf[7], buf[8]]) as usize;
    if len > FRAME_PAYLOAD_MAX {
        return Err("frame length over the limit");
    }
    let total = FRAME_HEADER + len + FRAME_TRAILER;
    if buf.len() < total {
        return Err("truncated frame");
    }
    let payload = FRAME_HEADER..FRAME_HEADER + len;
    if buf[FRAME_HEADER + len..total] != frame_check(kind, &buf[payload.clone()]) {
        return Err("frame checksum mismatch");
    }
    Ok((kind, payload, total))
}

/// Whether a record changes the key registry, from its bytes alone: in
/// canonical form `type` is the statement's last member and the statement is
/// the record's last, so the record ends with `"type":"NAME"}}`. (Text inside a
/// body cannot end the record, so this has no false negatives; the caller parses
/// each candidate anyway.)
pub fn is_registry_record(leaf: &[u8]) -> bool {
    [
        "ledger_genesis",
        "key_granted",
        "key_revoked",
        "body_registered",
        "enterprise_registered",
    ]
    .iter()
    .any(|t| is_of_type(leaf, t))
}

/// Whether canonical record or submission bytes are of event type `name`,
/// from their ending alone (see [`is_registry_record`]; a submission, too,
/// ends with its statement): `"type":"NAME"}}`.
pub fn is_of_type(bytes: &[u8], name: &str) -> bool {
    const TAIL: &[u8] = b"\"}}";
    const HEAD: &[u8] = b"\"type\":\"";
    let Some(rest) = bytes.strip_suffix(TAIL) else {
        return false;
    };
    rest.strip_suffix(name.as_bytes())
        .is_some_and(|r| r.ends_with(HEAD))
}

/// The checkpoint text of a signed note: everything before the blank line.
pub fn checkpoint_of_note(note: &[u8]) -> Option<Checkpoint> {
    let s = std::str::from_utf8(note).ok()?;
    let end = s.find("\n\n")?;
    Checkpoint::parse(&s[..=end]).ok()
}

pub fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.seg")
}

/// The segments of a log directory, in order.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, LogError> {
    let mut out = Vec::new();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io_err(dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".seg") {
            if stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit()) {
                if let Ok(n) = stem.parse::<u64>() {
                    out.push((n, entry.path()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// One frame read sequentially.
pub struct Frame {
    pub offset: u64,
    pub kind: u8,
    pub payload: Vec<u8>,
    /// A record frame's chain hash, computed to check the frame.
    pub chain_hash: Option<events::record::ChainHash>,
}

/// One frame read into a caller's buffer ([`FrameReader::next_frame_into`]).
pub struct FrameAt {
    pub offset: u64,
    pub kind: u8,
    /// Where the payload is in the buffer.
    pub range: std::ops::Range<usize>,
    /// A record frame's chain hash, computed to check the frame.
    pub chain_hash: Option<events::record::ChainHash>,
}

/// Reads the frames of one segment in order.
pub struct FrameReader {
    r: BufReader<File>,
    offset: u64,
    len: u64,
    path: PathBuf,
}

impl FrameReader {
    pub fn open(path: &Path) -> Result<FrameReader, LogError> {
        let f = File::open(path).map_err(|e| io_err(path, e))?;
        let len = f.metadata().map_err(|e| io_err(path, e))?.len();
        Ok(FrameReader {
            r: BufReader::with_capacity(1 << 20, f),
            offset: 0,
            len,
            path: path.to_path_buf(),
        })
    }

    /// The next frame; `Ok(None)` at a clean end; `Err((offset, reason))` at damage.
    /// Zero bytes from a frame boundary to the end of the file are the
    /// writer's pre-zeroed space (see [`LogWriter`]), a clean end; the
    /// logical length ([`FrameReader::logical_len`]) then stops where they start.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, (u64, String)> {
        let mut payload = Vec::new();
        Ok(self.next_frame_into(&mut payload)?.map(|f| Frame {
            offset: f.offset,
            kind: f.kind,
            payload,
            chain_hash: f.chain_hash,
        }))
    }

    /// [`FrameReader::next_frame`] with the payload appended to `out` (at
    /// `range`), for a reader that gathers many frames in one buffer. On
    /// damage `out` is left as it was.
    pub fn next_frame_into(&mut self, out: &mut Vec<u8>) -> Result<Option<FrameAt>, (u64, String)> {
        let start = out.len();
        let r = self.next_frame_at(out, start);
        if !matches!(r, Ok(Some(_))) {
            out.truncate(start);
        }
        r
    }

    fn next_frame_at(
        &mut self,
        out: &mut Vec<u8>,
        start: usize,
    ) -> Result<Option<FrameAt>, (u64, String)> {
        if self.offset == self.len {
            return Ok(None);
        }
        let at = self.offset;
        let mut head = [0u8; FRAME_HEADER];
        let have = (self.len - at).min(FRAME_HEADER as u64) as usize;
        self.r
            .read_exact(&mut head[..have])
            .map_err(|e| (at, format!("read error: {e}")))?;
        if head[..have].iter().all(|&b| b == 0) && self.rest_is_zero(at + have as u64)? {
            self.len = at;
            return Ok(None);
        }
        if self.len - at < (FRAME_HEADER + FRAME_TRAILER) as u64 {
            return Err((at, "truncated frame".into()));
        }
        if head[..4] != FRAME_MAGIC {
            return Err((at, "bad frame magic".into()));
        }
        let kind = head[4];
        let len = u32::from_le_bytes([head[5], head[6], head[7], head[8]]) as usize;
        if len > FRAME_PAYLOAD_MAX || (kind != FRAME_RECORD && kind != FRAME_CHECKPOINT) {
            return Err((at, "bad frame header".into()));
        }
        let total = (FRAME_HEADER + len + FRAME_TRAILER) as u64;
        if self.len - at < total {
            return Err((at, "truncated frame".into()));
        }
        // Straight from the reader's buffer to `out`: one copy, no zeroing.
        out.reserve(len);
        let mut need = len;
        while need > 0 {
            let buf = self
                .r
                .fill_buf()
                .map_err(|e| (at, format!("read error: {e}")))?;
            if buf.is_empty() {
                return Err((at, "read error: the file ended inside a frame".into()));
            }
            let n = need.min(buf.len());
            out.extend_from_slice(&buf[..n]);
            self.r.consume(n);
            need -= n;
        }
        let payload = &out[start..];
        let mut check = [0u8; FRAME_TRAILER];
        self.r
            .read_exact(&mut check)
            .map_err(|e| (at, format!("read error: {e}")))?;
        let chain_hash = (kind == FRAME_RECORD).then(|| events::record::chain_hash(payload));
        let want = match &chain_hash {
            Some(h) => record_check(h),
            None => frame_check(kind, payload),
        };
        if check != want {
            return Err((at, "frame checksum mismatch".into()));
        }
        self.offset += total;
        Ok(Some(FrameAt {
            offset: at,
            kind,
            range: start..out.len(),
            chain_hash,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The logical length: the file's, or where its pre-zeroed space starts
    /// once the reader has reached it.
    pub fn logical_len(&self) -> u64 {
        self.len
    }

    /// Whether every byte from `from` (the reader's position) to the end of
    /// the file is zero. Reads them; the reader is at the end afterwards.
    fn rest_is_zero(&mut self, from: u64) -> Result<bool, (u64, String)> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut at = from;
        while at < self.len {
            let n = (self.len - at).min(buf.len() as u64) as usize;
            self.r
                .read_exact(&mut buf[..n])
                .map_err(|e| (at, format!("read error: {e}")))?;
            if buf[..n].iter().any(|&b| b != 0) {
                // Put the reader back where the caller expects it.
                self.r
                    .seek(io::SeekFrom::Start(from))
                    .map_err(|e| (from, format!("read error: {e}")))?;
                return Ok(false);
            }
            at += n as u64;
        }
        Ok(true)
    }
}

/// Whether an intact checkpoint frame starts anywhere in `buf` (a resync scan
/// after damage: if one does, the damage is not an unacknowledged tail).
/// Intact checkpoint frames in `buf` (searched for byte by byte, since the
/// frames before them may be damaged).
fn checkpoint_frames_in(buf: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i + 4 <= buf.len() {
        if buf[i..i + 4] == FRAME_MAGIC {
            if let Ok((FRAME_CHECKPOINT, _, len)) = decode_frame(&buf[i..]) {
                n += 1;
                i += len;
                continue;
            }
        }
        i += 1;
    }
    n
}

/// What a scan of the log found.
#[derive(Debug, Default)]
pub struct Scan {
    /// (first seq, path, committed length) of every segment.
    pub segments: Vec<(u64, PathBuf, u64)>,
    /// For each committed record, its frame offset within its segment.
    pub offsets: Vec<u64>,
    /// The RFC 6962 leaf hash of each committed record (computed while reading).
    pub leaf_hashes: Vec<events::merkle::Hash>,
    /// Every checkpoint frame: (tree size, segment index, frame offset).
    pub checkpoints: Vec<(u64, usize, u64)>,
    /// Seqs of records that change the key registry (see [`is_registry_record`]).
    pub registry_seqs: Vec<u64>,
    /// The last signed checkpoint note.
    pub last_checkpoint: Option<Vec<u8>>,
    /// Unacknowledged bytes after the last checkpoint frame: (path, from, bytes, records).
    pub tail: Option<(PathBuf, u64, u64, usize)>,
}

impl Scan {
    pub fn records(&self) -> u64 {
        self.offsets.len() as u64
    }

    /// Makes the batch from `seq` on (the one whose write or fdatasync
    /// failed, [`read_failed_batch`]) part of the unacknowledged tail, even
    /// though it reads back whole: it was never acknowledged, and what the
    /// page cache shows of it may not be on the disk. It must be the last
    /// batch of the last segment. Returns how many records it held (0 when
    /// the scan did not find it whole: what is there is the tail already).
    pub fn drop_failed_batch(&mut self, seq: u64) -> Result<u64, LogError> {
        let size = self.records();
        if seq >= size {
            return Ok(0);
        }
        let (seg_first, path, end) = self.segments.last().cloned().unwrap_or_default();
        let refuse = |reason: String| LogError::Damaged {
            seq,
            path: path.display().to_string(),
            offset: 0,
            reason,
        };
        let at_boundary = seq == 0 || self.checkpoints.iter().any(|c| c.0 == seq);
        if seq < seg_first || !at_boundary {
            return Err(refuse(format!(
                "{SYNC_FAILED_FILE} says the batch from seq {seq} failed, but no batch of the last segment starts there"
            )));
        }
        let from = self.offsets[usize::try_from(seq).unwrap_or(usize::MAX)];
        let dropped = size - seq;
        let keep = usize::try_from(seq).unwrap_or(usize::MAX);
        self.offsets.truncate(keep);
        self.leaf_hashes.truncate(keep);
        self.checkpoints.retain(|c| c.0 <= seq);
        self.registry_seqs.retain(|s| *s < seq);
        self.last_checkpoint = match self.checkpoints.last() {
            Some(&(_, si, offset)) => {
                let (_, p, _) = &self.segments[si];
                let file = File::open(p).map_err(|e| io_err(p, e))?;
                let (_, note) =
                    read_frame_at(&file, offset, FRAME_READ_GUESS).map_err(|e| io_err(p, e))?;
                Some(note)
            }
            None => None,
        };
        let old_tail = self.tail.take();
        let len = old_tail.as_ref().map_or(end, |t| t.1 + t.2).max(end);
        let pending = old_tail.map_or(0, |t| t.3);
        self.tail = Some((path, from, len - from, dropped as usize + pending));
        if let Some(last) = self.segments.last_mut() {
            last.2 = from;
        }
        Ok(dropped)
    }

    /// Keeps only the first records up to the largest checkpoint size of at
    /// most `n` (the log's durable size, see [`read_durable`]), for a view
    /// of the log read beside a writer: what a batch wrote before its
    /// fdatasync returned is left out. Returns whether anything was left
    /// out. The capped scan has no `last_checkpoint` and no `tail`: it is
    /// for reading, never for opening the ledger.
    pub fn cap(&mut self, n: u64) -> bool {
        if n >= self.records() {
            return false;
        }
        let Some(size) = self
            .checkpoints
            .iter()
            .map(|c| c.0)
            .filter(|s| *s <= n)
            .max()
        else {
            return false;
        };
        let keep = usize::try_from(size).unwrap_or(usize::MAX);
        self.offsets.truncate(keep);
        self.leaf_hashes.truncate(keep);
        self.checkpoints.retain(|c| c.0 <= size);
        self.registry_seqs.retain(|s| *s < size);
        self.last_checkpoint = None;
        self.tail = None;
        true
    }
}

/// The file beside the segments that holds the log's durable size: the
/// size of the last batch whose fdatasync returned (FORMAT.md §8).
pub const DURABLE_FILE: &str = "durable";

/// Writes the durable size: 8 bytes, little-endian, at the start of the
/// file. Not synced itself: it is only for readers in other processes while
/// a writer runs, and after a crash the writer's next open rewrites it.
pub fn write_durable(f: &File, size: u64) -> io::Result<()> {
    f.write_all_at(&size.to_le_bytes(), 0)
}

/// The durable size a writer published in the log directory `dir`, if any
/// (a ledger that was never opened by a writer has none).
pub fn read_durable(dir: &Path) -> Option<u64> {
    let b = fs::read(dir.join(DURABLE_FILE)).ok()?;
    Some(u64::from_le_bytes(b.get(..8)?.try_into().ok()?))
}

/// The file beside the segments that a writer leaves when a batch's write
/// or fdatasync fails: `seq N\n`, the batch's first seq (FORMAT.md §12.4).
pub const SYNC_FAILED_FILE: &str = "sync-failed";

/// Records that the batch from `first_seq` failed, durably if the disk
/// still allows it (the file, then the directory entry).
pub fn record_failed_batch(dir: &Path, first_seq: u64) -> io::Result<()> {
    let path = dir.join(SYNC_FAILED_FILE);
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&path)?;
    f.write_all(format!("seq {first_seq}\n").as_bytes())?;
    f.sync_all()?;
    sync_dir(dir)
}

/// The first seq of the batch whose write or fdatasync failed, if a writer
/// recorded one in the log directory `dir`.
pub fn read_failed_batch(dir: &Path) -> Result<Option<u64>, LogError> {
    let path = dir.join(SYNC_FAILED_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path, e)),
    };
    text.strip_prefix("seq ")
        .and_then(|t| t.strip_suffix('\n'))
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            io_err(
                &path,
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{text:?} is not \"seq N\" and a newline"),
                ),
            )
        })
}

/// Whether a [`scan`] computes each record's Merkle leaf hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafHashes {
    /// Compute them ([`Scan::leaf_hashes`]): the ledger and proofs need them.
    Compute,
    /// Leave [`Scan::leaf_hashes`] empty: a fold of the records needs only
    /// their frames (checksums are checked either way).
    Skip,
}

/// Scans of a read-only command that may meet a batch half written.
const READ_ONLY_SCANS: u32 = 6;
/// The wait between them: a batch is one write, done in milliseconds.
const READ_ONLY_RESCAN_AFTER: std::time::Duration = std::time::Duration::from_millis(40);

/// [`scan`] for a read-only command, which takes no lock and may run beside
/// a writer. A read overlapping the writer's `pwrite` of a batch can see
/// part of it (page by page) and, reading on, the batch's intact checkpoint
/// frame: damage followed by a checkpoint, which [`scan`] refuses. The same
/// bytes read again a moment later are whole, so damage is reported only
/// when it is still there after [`READ_ONLY_SCANS`] scans 40 ms apart.
pub fn scan_read_only(dir: &Path, leaves: LeafHashes) -> Result<Scan, LogError> {
    let mut scans = 1;
    loop {
        match scan(dir, leaves) {
            Err(LogError::Damaged { .. }) if scans < READ_ONLY_SCANS => {
                scans += 1;
                std::thread::sleep(READ_ONLY_RESCAN_AFTER);
            }
            r => return r,
        }
    }
}

/// Scans the whole log, checking every frame. Damage before the last intact
/// checkpoint frame is an error naming the seq; an unacknowledged tail is
/// reported in [`Scan::tail`] (the caller decides whether to cut it).
pub fn scan(dir: &Path, leaves: LeafHashes) -> Result<Scan, LogError> {
    if leaves == LeafHashes::Skip {
        return scan_frames(dir, None, None);
    }
    // Leaf hashes (SHA-256 of every record) are computed on a second thread
    // while this one reads frames and checks their checksums; they arrive in
    // order, and those of an unacknowledged tail are dropped at the end.
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(4);
        let hasher = s.spawn(move || {
            let mut out = Vec::new();
            for batch in rx {
                out.extend(batch.iter().map(|p| events::merkle::leaf_hash(p)));
            }
            out
        });
        let mut scan = scan_frames(dir, Some(&tx), None)?;
        drop(tx);
        let mut hashes = hasher
            .join()
            .map_err(|_| io_err(dir, io::Error::other("the leaf-hashing thread panicked")))?;
        hashes.truncate(scan.offsets.len());
        if hashes.len() != scan.offsets.len() {
            return Err(io_err(
                dir,
                io::Error::other("fewer leaf hashes than records"),
            ));
        }
        scan.leaf_hashes = hashes;
        Ok(scan)
    })
}

/// Scans the log as [`scan`] does without leaf hashes, and hands the payload
/// of every committed record to `feed`, in seq order, in the batches the
/// checkpoint frames confirm (a record is handed over only once the
/// checkpoint after it has been read: an unacknowledged tail never is). A
/// fold reads each frame once this way, while the scan goes on. When `feed`
/// returns false it is not called again, but the scan still completes.
pub fn scan_feeding(
    dir: &Path,
    feed: &mut dyn FnMut(Vec<Vec<u8>>) -> bool,
) -> Result<Scan, LogError> {
    scan_frames(dir, None, Some(feed))
}

/// Record payloads handed to the hashing thread at a time.
const HASH_BATCH: usize = 4096;

/// The frame walk of [`scan`]; with `hashes`, every record payload read goes
/// to it; with `feed`, every committed one (see [`scan_feeding`]).
fn scan_frames(
    dir: &Path,
    hashes: Option<&std::sync::mpsc::SyncSender<Vec<Vec<u8>>>>,
    mut feed: Option<&mut dyn FnMut(Vec<Vec<u8>>) -> bool>,
) -> Result<Scan, LogError> {
    let mut to_hash: Vec<Vec<u8>> = Vec::with_capacity(HASH_BATCH);
    let send = |batch: &mut Vec<Vec<u8>>| -> Result<(), LogError> {
        let Some(hashes) = hashes else {
            batch.clear();
            return Ok(());
        };
        hashes
            .send(std::mem::replace(batch, Vec::with_capacity(HASH_BATCH)))
            .map_err(|_| io_err(dir, io::Error::other("the leaf-hashing thread stopped")))
    };
    let segs = list_segments(dir)?;
    // Records the writer published as synced: never an unacknowledged tail.
    let durable = read_durable(dir);
    let mut scan = Scan::default();
    let n = segs.len();
    for (si, (first, path)) in segs.into_iter().enumerate() {
        let is_last = si + 1 == n;
        let damaged = |seq: u64, offset: u64, reason: String| LogError::Damaged {
            seq,
            path: path.display().to_string(),
            offset,
            reason,
        };
        if first != scan.records() {
            return Err(damaged(
                scan.records(),
                0,
                format!(
                    "segment starts at seq {first} but {} records precede it",
                    scan.records()
                ),
            ));
        }
        let mut reader = FrameReader::open(&path)?;
        let mut pending: Vec<u64> = Vec::new();
        let mut pending_payloads: Vec<Vec<u8>> = Vec::new();
        let mut pending_registry: Vec<u64> = Vec::new();
        let mut committed_end = 0u64;
        loop {
            match reader.next_frame() {
                Ok(None) => break,
                Ok(Some(f)) if f.kind == FRAME_RECORD => {
                    if is_registry_record(&f.payload) {
                        pending_registry.push(scan.records() + pending.len() as u64);
                    }
                    pending.push(f.offset);
                    if feed.is_some() {
                        pending_payloads.push(f.payload);
                    } else if hashes.is_some() {
                        to_hash.push(f.payload);
                        if to_hash.len() == HASH_BATCH {
                            send(&mut to_hash)?;
                        }
                    }
                }
                Ok(Some(f)) => {
                    let size = scan.records() + pending.len() as u64;
                    match checkpoint_of_note(&f.payload) {
                        Some(cp) if cp.size == size => {}
                        Some(cp) => {
                            return Err(damaged(
                                size,
                                f.offset,
                                format!(
                                    "checkpoint frame says size {} but {size} records precede it",
                                    cp.size
                                ),
                            ))
                        }
                        None => {
                            return Err(damaged(
                                size,
                                f.offset,
                                "checkpoint frame does not hold a checkpoint".into(),
                            ))
                        }
                    }
                    scan.offsets.append(&mut pending);
                    scan.registry_seqs.append(&mut pending_registry);
                    if let Some(f) = feed.as_mut() {
                        if !f(std::mem::take(&mut pending_payloads)) {
                            feed = None;
                        }
                    }
                    scan.checkpoints.push((size, si, f.offset));
                    scan.last_checkpoint = Some(f.payload);
                    committed_end = f.offset
                        + (FRAME_HEADER + FRAME_TRAILER) as u64
                        + scan.last_checkpoint.as_ref().map_or(0, |p| p.len() as u64);
                }
                Err((offset, reason)) => {
                    let seq = scan.records() + pending.len() as u64;
                    if !is_last {
                        return Err(damaged(seq, offset, reason));
                    }
                    let batch = scan.records();
                    if let Some(d) = durable.filter(|d| *d > batch) {
                        return Err(damaged(
                            seq,
                            offset,
                            format!(
                                "{reason}; the log's durable size ({d} records, in {}) says the batch from seq {batch} was synced and acknowledged, so this is damage, not an unacknowledged tail",
                                dir.join(DURABLE_FILE).display()
                            ),
                        ));
                    }
                    let bytes = fs::read(&path).map_err(|e| io_err(&path, e))?;
                    let from = usize::try_from(offset)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    let after = checkpoint_frames_in(&bytes[from..]);
                    if after == 1 {
                        // The damage lies in the log's last batch. Its pages
                        // can reach the disk out of order when the power fails
                        // during its write: then it was never acknowledged.
                        // The bytes cannot tell, so the operator decides.
                        let batch = scan.records();
                        return Err(damaged(
                            seq,
                            offset,
                            format!(
                                "{reason}, and an intact checkpoint frame follows; the damage lies in the log's last batch (seqs from {batch}), which a power failure during its write can leave so, never acknowledged: if no client holds a receipt for seq {batch} or later, truncating {} at byte {committed_end} discards that batch",
                                path.display()
                            ),
                        ));
                    }
                    if after > 1 {
                        return Err(damaged(
                            seq,
                            offset,
                            format!("{reason}, and an intact checkpoint frame follows"),
                        ));
                    }
                    break;
                }
            }
        }
        let len = reader.logical_len();
        if committed_end < len {
            if !is_last {
                return Err(damaged(
                    scan.records(),
                    committed_end,
                    "a segment other than the last ends without a checkpoint frame".into(),
                ));
            }
            scan.tail = Some((
                path.clone(),
                committed_end,
                len - committed_end,
                pending.len(),
            ));
        }
        scan.segments.push((first, path, committed_end));
    }
    if !to_hash.is_empty() {
        send(&mut to_hash)?;
    }
    Ok(scan)
}

/// Cuts the unacknowledged tail found by [`scan`] and syncs the file.
pub fn cut_tail(scan: &mut Scan) -> Result<Option<String>, LogError> {
    let Some((path, from, bytes, records)) = scan.tail.take() else {
        return Ok(None);
    };
    let f = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(|e| io_err(&path, e))?;
    f.set_len(from).map_err(|e| io_err(&path, e))?;
    f.sync_all().map_err(|e| io_err(&path, e))?;
    Ok(Some(format!(
        "cut {bytes} unacknowledged bytes ({records} record frames never covered by a checkpoint) from {} at byte {from}",
        path.display()
    )))
}

/// Fsyncs a directory so that a new file's entry in it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Zero bytes the writer keeps ahead of the log's end (see [`LogWriter`]).
pub const ZERO_AHEAD: u64 = 1 << 20;

/// Appends batches to the last segment, starting a new one when it is full.
///
/// The segment is kept zero-filled (and synced) up to [`ZERO_AHEAD`] bytes
/// past the log's end, and a batch that fits is written into that space:
/// its `fdatasync` then only has data to flush, since neither the file's
/// size nor its block map changes, which is what makes a batch of one record
/// cheap to sync. A batch larger than an eighth of that space is appended
/// past the end instead (one sync either way). Readers stop at the zeros
/// ([`FrameReader::next_frame`]).
pub struct LogWriter {
    dir: PathBuf,
    file: File,
    path: PathBuf,
    /// Where the next batch goes: the end of the last committed frame.
    len: u64,
    /// The file's size: bytes `len..zeroed` are zero and synced.
    zeroed: u64,
    segment_bytes_max: u64,
    /// [`DURABLE_FILE`], rewritten after every batch's fdatasync.
    durable: File,
}

impl LogWriter {
    /// Opens the last segment for appending (or creates the first one). The
    /// scan has cut any unacknowledged tail, so what follows the last
    /// committed frame is pre-zeroed space or nothing.
    /// `committed` is the number of records the scan found committed (the
    /// durable size published to readers).
    pub fn open(
        dir: &Path,
        scan: &Scan,
        committed: u64,
        segment_bytes_max: u64,
    ) -> io::Result<LogWriter> {
        let (path, len) = match scan.segments.last() {
            Some((_, p, len)) => (p.clone(), *len),
            None => (dir.join(segment_name(0)), 0),
        };
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)?;
        let zeroed = file.metadata()?.len().max(len);
        if len == 0 {
            sync_dir(dir)?;
        }
        // What the scan read may be only in the page cache (a writer that
        // died before its fdatasync returned, its batch complete): synced
        // before it is published as durable.
        file.sync_data()?;
        let durable = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(dir.join(DURABLE_FILE))?;
        write_durable(&durable, committed)?;
        Ok(LogWriter {
            dir: dir.to_path_buf(),
            file,
            path,
            len,
            zeroed,
            segment_bytes_max,
            durable,
        })
    }

    /// Publishes `size` as durable to readers in other processes; called
    /// after the batch that ends at `size` was synced.
    pub fn publish_durable(&self, size: u64) -> io::Result<()> {
        write_durable(&self.durable, size)
    }

    /// Writes one batch (record frames then the checkpoint frame) and syncs it.
    /// Returns the segment path and the offset the batch starts at. An error
    /// here means the writer must stop: after a failed fdatasync the page cache
    /// can no longer be trusted, so it is never retried.
    ///
    /// A failure also leaves [`SYNC_FAILED_FILE`] naming the batch's first
    /// seq: its bytes may sit in the page cache, marked clean, and read back
    /// whole, so without it the next open would keep a batch that may never
    /// reach the disk, and a retry would get a receipt for it.
    pub fn write_batch(&mut self, first_seq: u64, frames: &[u8]) -> io::Result<(PathBuf, u64)> {
        self.write_batch_once(first_seq, frames).map_err(|e| {
            match record_failed_batch(&self.dir, first_seq) {
                Ok(()) => e,
                Err(n) => io::Error::new(
                    e.kind(),
                    format!(
                        "{e}; recording the failed batch in {SYNC_FAILED_FILE} failed too: {n}"
                    ),
                ),
            }
        })
    }

    fn write_batch_once(&mut self, first_seq: u64, frames: &[u8]) -> io::Result<(PathBuf, u64)> {
        if self.len >= self.segment_bytes_max {
            // The full segment gives back its zeroed space: every segment but
            // the last ends exactly at its last checkpoint frame.
            if self.zeroed > self.len {
                self.file.set_len(self.len)?;
                self.file.sync_all()?;
            }
            let path = self.dir.join(segment_name(first_seq));
            let file = OpenOptions::new()
                .create_new(true)
                .read(true)
                .write(true)
                .open(&path)?;
            sync_dir(&self.dir)?;
            self.file = file;
            self.path = path;
            self.len = 0;
            self.zeroed = 0;
        }
        let at = self.len;
        let end = at + frames.len() as u64;
        if end > self.zeroed && (frames.len() as u64) <= ZERO_AHEAD / 8 {
            // Zero the space the next batches will use, and make it durable
            // (size and blocks) before any of it holds a frame.
            let to = end + ZERO_AHEAD;
            let zeros = vec![0u8; 64 * 1024];
            let mut z = self.zeroed;
            while z < to {
                let n = (to - z).min(zeros.len() as u64) as usize;
                self.file.write_all_at(&zeros[..n], z)?;
                z += n as u64;
            }
            self.file.sync_data()?;
            self.zeroed = to;
        }
        self.file.write_all_at(frames, at)?;
        self.file.sync_data()?;
        self.len = end;
        self.zeroed = self.zeroed.max(end);
        Ok((self.path.clone(), at))
    }

    pub fn segment_len(&self) -> u64 {
        self.len
    }
}

/// What [`read_frame_at`] reads at once when the caller cannot tell the
/// frame's length (a checkpoint note, or a batch's last record).
pub const FRAME_READ_GUESS: usize = 2048;

/// Reads one frame at `offset` of `file`, checking it. `guess` is the frame's
/// likely length: one read when it is right or more, two when it is short.
pub fn read_frame_at(file: &File, offset: u64, guess: usize) -> io::Result<(u8, Vec<u8>)> {
    let mut buf = vec![0u8; guess.clamp(FRAME_HEADER + FRAME_TRAILER, 1 << 16)];
    let mut got = 0;
    while got < FRAME_HEADER {
        match file.read_at(&mut buf[got..], offset + got as u64)? {
            0 => return Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
            n => got += n,
        }
    }
    let head = &buf[..FRAME_HEADER];
    let len = u32::from_le_bytes([head[5], head[6], head[7], head[8]]) as usize;
    if head[..4] != FRAME_MAGIC || len > FRAME_PAYLOAD_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad frame header at byte {offset}"),
        ));
    }
    let total = FRAME_HEADER + len + FRAME_TRAILER;
    buf.resize(total.max(got), 0);
    if got < total {
        file.read_exact_at(&mut buf[got..total], offset + got as u64)?;
    }
    buf.truncate(total);
    match decode_frame(&buf) {
        Ok((kind, range, _)) => {
            buf.truncate(range.end);
            buf.drain(..range.start);
            Ok((kind, buf))
        }
        Err(reason) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{reason} at byte {offset}"),
        )),
    }
}

/// Leaves read together by [`LogIndex::read_leaves`]: one buffer, and where
/// each leaf lies in it, in seq order.
pub struct Leaves {
    buf: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl Leaves {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The `i`-th leaf of the range read.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.spans.get(i).and_then(|&(a, b)| self.buf.get(a..b))
    }
}

/// Where each committed record and checkpoint is, for reads. Built from a
/// [`Scan`] and extended by the sequencer after each durable batch.
pub struct LogIndex {
    pub(crate) segments: Vec<(u64, std::sync::Arc<File>)>,
    pub(crate) offsets: Vec<u64>,
    /// (tree size, segment index, frame offset) of every checkpoint, by size.
    pub(crate) checkpoints: Vec<(u64, usize, u64)>,
}

fn not_found(m: String) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, m)
}

impl LogIndex {
    pub fn from_scan(scan: &mut Scan) -> io::Result<LogIndex> {
        let segments = scan
            .segments
            .iter()
            .map(|(first, p, _)| Ok((*first, std::sync::Arc::new(File::open(p)?))))
            .collect::<io::Result<_>>()?;
        Ok(LogIndex {
            segments,
            offsets: std::mem::take(&mut scan.offsets),
            checkpoints: std::mem::take(&mut scan.checkpoints),
        })
    }

    /// Number of committed records.
    pub fn size(&self) -> u64 {
        self.offsets.len() as u64
    }

    fn frame(
        &self,
        segment: usize,
        offset: u64,
        guess: usize,
        want: u8,
        what: impl Fn() -> String,
    ) -> io::Result<Vec<u8>> {
        let (_, file) = self
            .segments
            .get(segment)
            .ok_or_else(|| not_found(format!("{}: no segment {segment}", what())))?;
        let (kind, payload) = read_frame_at(file, offset, guess)?;
        if kind != want {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: wrong frame kind", what()),
            ));
        }
        Ok(payload)
    }

    /// Where record `seq` is: its index in `offsets`, its frame offset, and
    /// the index of its segment.
    fn locate(&self, seq: u64) -> io::Result<(usize, u64, usize)> {
        let i = usize::try_from(seq).unwrap_or(usize::MAX);
        let Some(&offset) = self.offsets.get(i) else {
            return Err(not_found(format!(
                "seq {seq} is not in the ledger (size {})",
                self.size()
            )));
        };
        let s = self
            .segments
            .partition_point(|(first, _)| *first <= seq)
            .saturating_sub(1);
        Ok((i, offset, s))
    }

    /// The bytes of record `seq` (its Merkle leaf), checked against the frame checksum.
    pub fn read_leaf(&self, seq: u64) -> io::Result<Vec<u8>> {
        let (i, offset, s) = self.locate(seq)?;
        // The next record's frame starts where this one ends, unless a
        // checkpoint frame or a new segment comes between (then a guess).
        let next_in_segment = self
            .segments
            .get(s + 1)
            .is_none_or(|(first, _)| *first > seq + 1);
        let guess = match self.offsets.get(i + 1) {
            Some(&next) if next_in_segment && next > offset => {
                usize::try_from(next - offset).unwrap_or(FRAME_READ_GUESS)
            }
            _ => FRAME_READ_GUESS,
        };
        self.frame(s, offset, guess, FRAME_RECORD, || format!("seq {seq}"))
    }

    /// The leaves of `range`, each checked against its frame checksum, read
    /// with one `pread` per segment the range touches rather than one per
    /// record (replays read the whole log this way).
    pub fn read_leaves(&self, range: std::ops::Range<u64>) -> io::Result<Leaves> {
        let mut out = Leaves {
            buf: Vec::new(),
            spans: Vec::with_capacity(
                usize::try_from(range.end.saturating_sub(range.start)).unwrap_or(0),
            ),
        };
        let mut seq = range.start;
        while seq < range.end {
            let (_, first_offset, s) = self.locate(seq)?;
            // The records of this segment within the range, and where their
            // frames end: the next record's frame if it is in this segment,
            // else a guess, completed record by record below if short.
            let seg_end = self.segments.get(s + 1).map_or(u64::MAX, |(f, _)| *f);
            let last = range.end.min(seg_end).min(self.size()) - 1;
            let j = usize::try_from(last).unwrap_or(usize::MAX);
            let span_end = match self.offsets.get(j + 1) {
                Some(&next) if last + 1 < seg_end => next,
                _ => self.offsets[j] + FRAME_READ_GUESS as u64,
            };
            let (_, file) = &self.segments[s];
            let base = out.buf.len();
            let want = usize::try_from(span_end - first_offset).unwrap_or(usize::MAX);
            out.buf.resize(base + want, 0);
            let mut got = 0;
            while got < want {
                match file.read_at(&mut out.buf[base + got..], first_offset + got as u64)? {
                    0 => break,
                    n => got += n,
                }
            }
            out.buf.truncate(base + got);
            for k in seq..=last {
                let at = base
                    + usize::try_from(
                        self.offsets[usize::try_from(k).unwrap_or(usize::MAX)] - first_offset,
                    )
                    .unwrap_or(usize::MAX);
                match decode_frame(out.buf.get(at..).unwrap_or(&[])) {
                    Ok((FRAME_RECORD, payload, _)) => {
                        out.spans.push((at + payload.start, at + payload.end));
                    }
                    Ok(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("seq {k}: wrong frame kind"),
                        ))
                    }
                    // The guessed end of the last frame was short: read it alone.
                    Err("truncated frame") if k == last => {
                        let leaf = self.read_leaf(k)?;
                        let start = out.buf.len();
                        out.buf.extend_from_slice(&leaf);
                        out.spans.push((start, out.buf.len()));
                    }
                    Err(reason) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("seq {k}: {reason}"),
                        ))
                    }
                }
            }
            seq = last + 1;
        }
        Ok(out)
    }

    /// The signed checkpoint note of exactly `size`, if one was issued.
    pub fn checkpoint_at(&self, size: u64) -> io::Result<Option<String>> {
        match self.checkpoints.binary_search_by_key(&size, |c| c.0) {
            Ok(i) => self.note(i).map(Some),
            Err(_) => Ok(None),
        }
    }

    fn note(&self, i: usize) -> io::Result<String> {
        let (size, seg, off) = self.checkpoints[i];
        let p = self.frame(seg, off, FRAME_READ_GUESS, FRAME_CHECKPOINT, || {
            format!("checkpoint of size {size}")
        })?;
        String::from_utf8(p)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "checkpoint note is not UTF-8"))
    }

    /// The sizes with checkpoints nearest to `size`, below and above.
    pub fn nearest_checkpoints(&self, size: u64) -> (Option<u64>, Option<u64>) {
        let i = self.checkpoints.partition_point(|c| c.0 < size);
        let below = i.checked_sub(1).map(|j| self.checkpoints[j].0);
        let above = self.checkpoints.get(i).map(|c| c.0);
        (below, above)
    }

    /// The first checkpoint that covers `seq`: the one its receipt carries.
    pub fn covering_checkpoint(&self, seq: u64) -> io::Result<Option<String>> {
        let i = self.checkpoints.partition_point(|c| c.0 <= seq);
        if i < self.checkpoints.len() {
            self.note(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Sizes of all checkpoints, in order.
    pub fn checkpoint_sizes(&self) -> impl Iterator<Item = u64> + '_ {
        self.checkpoints.iter().map(|c| c.0)
    }
}

#[cfg(test)]
mod tests {
    /// A record's or submission's event type, read from its ending.
    #[test]
    fn the_event_type_is_read_from_the_ending() {
        let grant = br#"{"signature":"x","statement":{"body":{},"type":"key_granted"}}"#;
        assert!(super::is_of_type(grant, "key_granted"));
        assert!(super::is_registry_record(grant));
        assert!(!super::is_of_type(grant, "granted"));
        assert!(!super::is_of_type(grant, "key_revoked"));
        assert!(!super::is_of_type(b"key_granted\"}}", "key_granted"));
        let filed = br#"{"statement":{"type":"complaint_filed"}}"#;
        assert!(!super::is_registry_record(filed));
    }

    /// A batch whose write fails leaves `sync-failed` naming its first seq;
    /// a batch that is written and synced leaves none.
    #[test]
    fn a_failed_batch_is_recorded_for_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut w =
            super::LogWriter::open(dir.path(), &super::Scan::default(), 0, 1 << 20).unwrap();
        let mut frames = Vec::new();
        super::encode_frame(super::FRAME_CHECKPOINT, b"a note", &mut frames);
        w.write_batch(0, &frames).unwrap();
        assert_eq!(super::read_failed_batch(dir.path()).unwrap(), None);
        // The segment can no longer be written: the next batch fails.
        w.file = std::fs::File::open(&w.path).unwrap();
        let err = w.write_batch(7, &frames).unwrap_err();
        assert!(!err.to_string().contains("failed too"), "{err}");
        assert_eq!(super::read_failed_batch(dir.path()).unwrap(), Some(7));
        // A marker that is not "seq N" and a newline is an error, not ignored.
        std::fs::write(dir.path().join(super::SYNC_FAILED_FILE), "seven\n").unwrap();
        assert!(super::read_failed_batch(dir.path()).is_err());
    }

    /// A capped scan keeps the records up to the largest checkpoint size of
    /// at most n, and the checkpoints and registry seqs among them.
    #[test]
    fn a_scan_is_capped_at_a_checkpoint_size() {
        let mut scan = super::Scan {
            segments: vec![],
            offsets: (0..10).collect(),
            leaf_hashes: vec![[0u8; 32]; 10],
            checkpoints: vec![(1, 0, 0), (4, 0, 0), (10, 0, 0)],
            registry_seqs: vec![0, 3, 7],
            last_checkpoint: Some(b"note".to_vec()),
            tail: None,
        };
        assert!(!scan.cap(10), "nothing past 10");
        assert!(!scan.cap(0), "no checkpoint at or below 0");
        assert_eq!(scan.records(), 10);
        assert!(scan.cap(6));
        assert_eq!(scan.records(), 4);
        assert_eq!(scan.leaf_hashes.len(), 4);
        assert_eq!(
            scan.checkpoints.iter().map(|c| c.0).collect::<Vec<_>>(),
            [1, 4]
        );
        assert_eq!(scan.registry_seqs, [0, 3]);
        assert_eq!(scan.last_checkpoint, None);
    }

    /// A checkpoint frame's check is the first 8 bytes of BLAKE3
    /// derive_key(FRAME_CONTEXT, kind || u32le(len) || payload); a record
    /// frame's is the first 8 bytes of the record's chain hash, BLAKE3
    /// derive_key(CHAIN_CONTEXT, record), as FORMAT.md says. Both encoders and
    /// the reader agree.
    #[test]
    fn a_record_frame_written_in_place_is_the_frame_of_its_payload() {
        let payload = br#"{"format":1,"seq":0}"#;
        let mut want = b"x".to_vec();
        super::encode_frame(super::FRAME_RECORD, payload, &mut want);
        let mut got = b"x".to_vec();
        let (range, chain) =
            super::push_record_frame(&mut got, 1 << 16, |o| o.extend_from_slice(payload)).unwrap();
        assert_eq!(got, want);
        assert_eq!(&got[range], payload);
        assert_eq!(chain, events::record::chain_hash(payload));
        // Over the limit: nothing is left behind.
        let mut out = b"x".to_vec();
        assert_eq!(
            super::push_record_frame(&mut out, 4, |o| o.extend_from_slice(payload)),
            Err(payload.len())
        );
        assert_eq!(out, b"x");
        // A frame it wrote reads back.
        assert_eq!(
            super::decode_frame(&got[1..]).map(|(k, r, n)| (k, r.len(), n)),
            Ok((super::FRAME_RECORD, payload.len(), want.len() - 1))
        );
    }

    #[test]
    fn frame_checks_are_the_blake3_derive_keys_format_md_names() {
        for payload in [&b""[..], b"{\"seq\":0}", &[3u8; 3000][..]] {
            let mut input = vec![super::FRAME_CHECKPOINT];
            input.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            input.extend_from_slice(payload);
            let full = blake3::derive_key(super::FRAME_CONTEXT, &input);
            assert_eq!(
                super::frame_check(super::FRAME_CHECKPOINT, payload),
                full[..8]
            );
            let chain = blake3::derive_key(events::record::CHAIN_CONTEXT, payload);
            assert_eq!(super::frame_check(super::FRAME_RECORD, payload), chain[..8]);

            let (mut a, mut b) = (Vec::new(), Vec::new());
            super::encode_frame(super::FRAME_RECORD, payload, &mut a);
            super::push_record_frame(&mut b, 1 << 16, |o| o.extend_from_slice(payload)).unwrap();
            assert_eq!(a, b);
            assert_eq!(a[a.len() - 8..], chain[..8]);
            let dir = std::env::temp_dir().join(format!(
                "frame-check-{}-{}",
                std::process::id(),
                payload.len()
            ));
            std::fs::write(&dir, &a).expect("write");
            let mut r = super::FrameReader::open(&dir).expect("open");
            let f = r.next_frame().expect("intact").expect("a frame");
            assert_eq!(
                (f.kind, f.payload.as_slice(), f.chain_hash),
                (super::FRAME_RECORD, payload, Some(chain))
            );
            std::fs::remove_file(&dir).expect("remove");
        }
    }
}
