//! The projection store: the domain model ([`projections::model::Model`])
//! persisted in the file `projection.snap` of the data directory together
//! with the seq it reflects (FORMAT.md §15).
//!
//! The file is the model as lines (see [`save`]), and one line of meta JSON
//! naming the seq, the code version, the chain hash of the last record
//! reflected, and the BLAKE3 hash and length of the model's lines. It is written to
//! `projection.snap.tmp`, synced, and renamed over the old one (then the
//! directory is synced): a crash leaves either snapshot whole, and a reader
//! that finds the hash wrong discards it (the projection is derived: the log
//! rebuilds it).
//!
//! The snapshot never holds the whole JSON in memory at once: it is written
//! through a buffered, hashing writer and read back one line at a time, each
//! line parsed from memory (`serde_json::from_slice`); a single document
//! parsed through `from_reader` had made opening from the snapshot slower
//! than replaying the log.
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
pub const PROJECTION_VERSION: u32 = 4;
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
    // The model's lines, then the meta line: nothing else.
    if meta.bytes + (body.len() - start) as u64 + 1 != len {
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
    write_lines(&mut w, model)?;
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
    // The model's lines end with a newline; the meta line follows.
    let mut line = Vec::new();
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
    let mut model = match read_lines(&mut r) {
        Ok(Ok(m)) => m,
        Ok(Err(why)) => return Ok(Err(Unusable::Damaged(why))),
        Err(e) => return Err(io_err("reading")(e)),
    };
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

/// The tags of the entry lines (FORMAT.md §15).
const CASE: u8 = b'c';
const PROMISE: u8 = b'p';
const INSPECTION: u8 = b'i';
const PROJECT: u8 = b'j';
const RECORD: u8 = b'r';

/// Writes the model as lines: first the model's JSON with its five large
/// collections (cases, promises, inspections, projects, the correctable
/// records) empty, then one line per entry of those, each a tag byte and the
/// entry's JSON (a record as `[seq, ref]`), in the order the model iterates
/// them. Every line ends with a newline; JSON escapes every newline inside.
fn write_lines<W: Write>(w: &mut W, m: &Model) -> Result<()> {
    // Every field is named, none defaulted, so a field added to `Model`
    // fails to compile here until the snapshot carries it.
    let head = Model {
        last_seq: m.last_seq,
        parameters: m.parameters.clone(),
        parameters_set_at: m.parameters_set_at,
        bodies: m.bodies.clone(),
        enterprises: m.enterprises.clone(),
        cases: Default::default(),
        promises: Default::default(),
        inspections: Default::default(),
        projects: Default::default(),
        monitoring_points: m.monitoring_points.clone(),
        evaluation_feedback: m.evaluation_feedback.clone(),
        accountability: m.accountability.clone(),
        records: Default::default(),
        corrections: m.corrections.clone(),
        derived_triggers: m.derived_triggers.clone(),
        cases_by_city: Default::default(),
        promise_settlements: Default::default(),
        inspections_conducted: Default::default(),
        projects_by_city: Default::default(),
        conducted_by_enterprise: Default::default(),
    };
    serde_json::to_writer(&mut *w, &head)?;
    w.write_all(b"\n").map_err(io_err("writing"))?;
    fn entry<W: Write, T: Serialize>(w: &mut W, tag: u8, v: &T) -> Result<()> {
        w.write_all(&[tag]).map_err(io_err("writing"))?;
        serde_json::to_writer(&mut *w, v)?;
        w.write_all(b"\n").map_err(io_err("writing"))
    }
    for c in m.cases.values() {
        entry(w, CASE, c)?;
    }
    for p in m.promises.values() {
        entry(w, PROMISE, p)?;
    }
    for i in m.inspections.values() {
        entry(w, INSPECTION, i)?;
    }
    for p in m.projects.values() {
        entry(w, PROJECT, p)?;
    }
    for (seq, r) in &m.records {
        entry(w, RECORD, &(seq, r))?;
    }
    Ok(())
}

/// One entry line of the snapshot, parsed (items boxed: they differ in
/// size by hundreds of bytes).
enum Entry {
    Case(Box<projections::model::Case>),
    Promise(Box<projections::model::Promise>),
    Inspection(Box<projections::model::Inspection>),
    Project(Box<projections::model::Project>),
    Record(u64, projections::model::RecordRef),
}

/// Parses entry line `n` (its tag byte and JSON).
fn parse_entry(line: &[u8], n: u64) -> std::result::Result<Entry, String> {
    let (tag, json) = (line[0], &line[1..]);
    let bad = |e: serde_json::Error| format!("line {n}: {e}");
    match tag {
        CASE => serde_json::from_slice(json).map(Entry::Case).map_err(bad),
        PROMISE => serde_json::from_slice(json)
            .map(Entry::Promise)
            .map_err(bad),
        INSPECTION => serde_json::from_slice(json)
            .map(Entry::Inspection)
            .map_err(bad),
        PROJECT => serde_json::from_slice(json)
            .map(Entry::Project)
            .map_err(bad),
        RECORD => serde_json::from_slice::<(u64, projections::model::RecordRef)>(json)
            .map(|(seq, r)| Entry::Record(seq, r))
            .map_err(bad),
        t => Err(format!("line {n} has the unknown tag {:?}", char::from(t))),
    }
}

/// Entry lines handed to a parsing thread at a time.
const LINES_PER_CHUNK: usize = 2048;

/// Reads what [`write_lines`] wrote. The outer error is a failed read; the
/// inner one names what is wrong with the lines. The entry lines are read on
/// one thread, parsed on every core in chunks dealt in turn, and added to the
/// model in file order on the calling thread, so the model is the one a
/// line-by-line read gives.
fn read_lines<R: io::BufRead + Send>(r: &mut R) -> io::Result<std::result::Result<Model, String>> {
    let mut line = Vec::with_capacity(1 << 16);
    if r.read_until(b'\n', &mut line)? == 0 || line.pop() != Some(b'\n') {
        return Ok(Err("no model line".into()));
    }
    let mut model: Model = match serde_json::from_slice(&line) {
        Ok(m) => m,
        Err(e) => return Ok(Err(format!("model line: {e}"))),
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    type Parsed = Vec<std::result::Result<Entry, String>>;
    // The reader: lines 2.. in chunks. It stops at the end, at a line cut
    // short, or when the parsed lines are no longer wanted.
    let read = |deal: &mut dyn FnMut((u64, Vec<Vec<u8>>)) -> bool| -> io::Result<Option<String>> {
        let mut n = 1u64;
        loop {
            let first = n + 1;
            let mut lines = Vec::with_capacity(LINES_PER_CHUNK);
            let mut trouble = None;
            while lines.len() < LINES_PER_CHUNK {
                let mut l = Vec::new();
                if r.read_until(b'\n', &mut l)? == 0 {
                    break;
                }
                n += 1;
                if l.pop() != Some(b'\n') || l.is_empty() {
                    trouble = Some(format!("line {n} is cut short"));
                    break;
                }
                lines.push(l);
            }
            let last = lines.len() < LINES_PER_CHUNK;
            if !lines.is_empty() && !deal((first, lines)) {
                return Ok(None);
            }
            if last {
                return Ok(trouble);
            }
        }
    };
    let parse = |(first, lines): (u64, Vec<Vec<u8>>)| -> Parsed {
        lines
            .iter()
            .zip(first..)
            .map(|(l, n)| parse_entry(l, n))
            .collect()
    };
    let mut n = 1u64;
    let mut failed = None;
    let add = |parsed: Parsed, _: &mut dyn FnMut(Parsed)| -> bool {
        for p in parsed {
            n += 1;
            let added = match p {
                Ok(Entry::Case(c)) => model.cases.insert(c.id.clone(), *c).is_none(),
                Ok(Entry::Promise(p)) => model.promises.insert(p.id.clone(), *p).is_none(),
                Ok(Entry::Inspection(i)) => model.inspections.insert(i.id.clone(), *i).is_none(),
                Ok(Entry::Project(p)) => model.projects.insert(p.id.clone(), *p).is_none(),
                Ok(Entry::Record(seq, r)) => model.records.insert(seq, r).is_none(),
                Err(why) => {
                    failed = Some(why);
                    return false;
                }
            };
            if !added {
                failed = Some(format!("line {n} repeats an entry"));
                return false;
            }
        }
        true
    };
    let trouble = crate::parallel::ordered_map(workers, 2, "snapshot", read, parse, add)??;
    Ok(match failed.or(trouble) {
        None => Ok(model),
        Some(why) => Err(why),
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use events::vocab::{EventKind, Id};
    use projections::model::{KindName, RecordRef, RecordSubject};

    /// A model with enough entry lines for several chunks per parsing thread.
    fn many_records(n: u64) -> Model {
        let mut m = Model::default();
        for seq in 1..=n {
            let id = Id::new(format!("case-{seq}")).expect("id");
            m.records.insert(
                seq,
                RecordRef {
                    kind: KindName(EventKind::ComplaintFiled),
                    subject: RecordSubject::Case(id),
                },
            );
        }
        m.last_seq = Some(n);
        m
    }

    #[test]
    fn lines_read_back_in_order_across_parsing_threads() {
        let m = many_records(5 * LINES_PER_CHUNK as u64 + 17);
        let mut bytes = Vec::new();
        write_lines(&mut bytes, &m).expect("write");
        let back = read_lines(&mut io::Cursor::new(&bytes))
            .expect("read")
            .expect("lines");
        assert_eq!(back.digest(), m.digest());
        assert_eq!(back.records.len(), m.records.len());
    }

    #[test]
    fn a_bad_line_is_named_by_its_number_wherever_it_falls() {
        let m = many_records(3 * LINES_PER_CHUNK as u64);
        let mut bytes = Vec::new();
        write_lines(&mut bytes, &m).expect("write");
        let text = String::from_utf8(bytes).expect("utf-8");
        let mut lines: Vec<&str> = text.lines().collect();
        // Line 2,500 (in the second chunk) gets an unknown tag.
        let bad = lines[2499].replacen('r', "x", 1);
        lines[2499] = &bad;
        let damaged = lines.join("\n") + "\n";
        let why = read_lines(&mut io::Cursor::new(damaged.as_bytes()))
            .expect("read")
            .expect_err("damaged");
        assert_eq!(why, "line 2500 has the unknown tag 'x'");
        // A repeated entry, and a last line cut short.
        let mut lines: Vec<&str> = text.lines().collect();
        lines[4100] = lines[4099];
        let repeated = lines.join("\n") + "\n";
        let why = read_lines(&mut io::Cursor::new(repeated.as_bytes()))
            .expect("read")
            .expect_err("repeated");
        assert_eq!(why, "line 4101 repeats an entry");
        let cut = &text.as_bytes()[..text.len() - 1];
        let why = read_lines(&mut io::Cursor::new(cut))
            .expect("read")
            .expect_err("cut");
        assert_eq!(why, format!("line {} is cut short", text.lines().count()));
    }
}
