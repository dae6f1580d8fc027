//! Bearer tokens for the HTTP service: created with `ledger token create
//! --role …`, revocable, stored only as SHA-256 hashes in `tokens.json` in the
//! data directory, compared in constant time, never logged.
//!
//! A token is `lt1.<id>.<secret>`: the id (12 hex characters) finds the
//! entry, the SHA-256 of the whole token must equal the stored hash. The
//! store is re-read when its file changes (modification time, inode or
//! length), and on every request while its modification time is less than
//! 2 s older than the copy held (a change in the same clock tick keeps the
//! time), so a revocation takes effect on the next request without
//! restarting the server.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

pub const TOKENS_FILE: &str = "tokens.json";
/// Tokens one store may hold (revoked ones included).
pub const TOKENS_MAX: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads projections: cases, promises, inspections, cities, enterprises.
    Supervisor,
    /// Reads everything a supervisor reads, plus the records themselves.
    Auditor,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "supervisor" => Some(Role::Supervisor),
            "auditor" => Some(Role::Auditor),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
        }
    }
    /// Whether a holder of this role may do what `needed` allows.
    pub fn allows(self, needed: Role) -> bool {
        match needed {
            Role::Supervisor => true,
            Role::Auditor => self == Role::Auditor,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub role: Role,
    /// SHA-256 of the whole token, hex.
    pub sha256: String,
    pub label: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// Why the token store could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("{} is not a ledger data directory (no log/)", .0.display())]
    NotADataDir(PathBuf),
    #[error("--label is limited to 200 characters")]
    LabelTooLong,
    #[error("the token store holds {TOKENS_MAX} tokens, its limit")]
    Full,
    #[error("no token with id {0:?} (see `ledger token list`)")]
    NoSuchToken(String),
    #[error("token {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a token store: {source}", path.display())]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading the system's randomness: {0}")]
    Random(getrandom::Error),
}

type Result<T, E = TokenStoreError> = std::result::Result<T, E>;

fn path(dir: &Path) -> PathBuf {
    dir.join(TOKENS_FILE)
}

pub fn load(dir: &Path) -> Result<Vec<Entry>> {
    let p = path(dir);
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|source| TokenStoreError::Malformed { path: p, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(TokenStoreError::Read { path: p, source }),
    }
}

/// Writes the store durably: a temporary file, fsync, rename, fsync of the directory.
fn store(dir: &Path, entries: &[Entry]) -> Result<()> {
    let p = path(dir);
    write_durably(dir, &p, entries).map_err(|source| TokenStoreError::Write {
        path: p.clone(),
        source,
    })
}

fn write_durably(dir: &Path, p: &Path, entries: &[Entry]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = dir.join(".tokens.json.tmp");
    {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(&serde_json::to_vec_pretty(entries)?)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, p)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn sha256_hex(token: &str) -> String {
    let d: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    events::codec::hex(&d)
}

fn now_text() -> String {
    crate::ledger::now_timestamp().to_string()
}

/// Creates a token; returns it (shown once) and its entry.
pub fn create(dir: &Path, role: Role, label: &str) -> Result<(String, Entry)> {
    if !dir.join("log").is_dir() {
        return Err(TokenStoreError::NotADataDir(dir.to_path_buf()));
    }
    if label.chars().count() > 200 {
        return Err(TokenStoreError::LabelTooLong);
    }
    let mut entries = load(dir)?;
    if entries.len() >= TOKENS_MAX {
        return Err(TokenStoreError::Full);
    }
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut id).map_err(TokenStoreError::Random)?;
    getrandom::getrandom(&mut secret).map_err(TokenStoreError::Random)?;
    let id = events::codec::hex(&id);
    let token = format!("lt1.{id}.{}", events::codec::hex(&secret));
    let e = Entry {
        id,
        role,
        sha256: sha256_hex(&token),
        label: label.to_string(),
        created_at: now_text(),
        revoked_at: None,
    };
    entries.push(e.clone());
    store(dir, &entries)?;
    Ok((token, e))
}

/// Revokes the token with this id (its later requests get 401).
pub fn revoke(dir: &Path, id: &str) -> Result<Entry> {
    let mut entries = load(dir)?;
    let Some(e) = entries.iter_mut().find(|e| e.id == id) else {
        return Err(TokenStoreError::NoSuchToken(id.to_string()));
    };
    if e.revoked_at.is_some() {
        return Err(TokenStoreError::AlreadyRevoked(id.to_string()));
    }
    e.revoked_at = Some(now_text());
    let out = e.clone();
    store(dir, &entries)?;
    Ok(out)
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    std::hint::black_box(d) == 0
}

/// Why a token was refused (never says more than the client needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Unknown,
    Revoked,
}

/// One version of the store file: every write renames a new file into
/// place (a new inode, mostly), and a revocation also changes its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    mtime: SystemTime,
    ino: u64,
    len: u64,
}

impl Stamp {
    fn of(p: &Path) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(p).ok()?;
        Some(Stamp {
            mtime: m.modified().ok()?,
            ino: m.ino(),
            len: m.len(),
        })
    }
}

/// How long after a file's modification time a copy of it read is not
/// trusted: a change in the same tick of the file system's clock (coarse:
/// milliseconds on ext4, 2 s on some) can keep the modification time, so
/// within this window the store is read again on each request (as git
/// treats "racily clean" files).
const RACY: std::time::Duration = std::time::Duration::from_secs(2);

struct Cached {
    stamp: Option<Stamp>,
    /// When the copy was read (taken before the read).
    loaded_at: SystemTime,
    entries: Vec<Entry>,
}

/// The token store as the server sees it: reloaded when the file changes.
pub struct Tokens {
    dir: PathBuf,
    cache: Mutex<Cached>,
}

impl Tokens {
    pub fn new(dir: &Path) -> Tokens {
        Tokens {
            dir: dir.to_path_buf(),
            cache: Mutex::new(Cached {
                stamp: None,
                loaded_at: SystemTime::UNIX_EPOCH,
                entries: Vec::new(),
            }),
        }
    }

    /// The role of `token`, if it is a live token of this store.
    pub fn check(&self, token: &str) -> Result<Role, Refusal> {
        let token = token.trim();
        if token.is_empty() {
            return Err(Refusal::Missing);
        }
        let id = token
            .strip_prefix("lt1.")
            .and_then(|r| r.split('.').next())
            .ok_or(Refusal::Unknown)?;
        let stamp = Stamp::of(&path(&self.dir));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let trusted = stamp.is_some_and(|s| {
            cache.stamp == Some(s)
                && s.mtime
                    .checked_add(RACY)
                    .is_some_and(|t| t <= cache.loaded_at)
        });
        if !trusted {
            let loaded_at = SystemTime::now();
            *cache = Cached {
                stamp,
                loaded_at,
                entries: load(&self.dir).unwrap_or_default(),
            };
        }
        let e = cache
            .entries
            .iter()
            .find(|e| e.id == id)
            .ok_or(Refusal::Unknown)?;
        if !ct_eq(sha256_hex(token).as_bytes(), e.sha256.as_bytes()) {
            return Err(Refusal::Unknown);
        }
        if e.revoked_at.is_some() {
            return Err(Refusal::Revoked);
        }
        Ok(e.role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ct_eq_compares_whole_strings() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }

    #[test]
    fn the_store_refuses_with_a_reason_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert!(matches!(
            create(d, Role::Supervisor, "x"),
            Err(TokenStoreError::NotADataDir(_))
        ));
        std::fs::create_dir(d.join("log")).unwrap();
        let long = "长".repeat(201);
        assert!(matches!(
            create(d, Role::Supervisor, &long),
            Err(TokenStoreError::LabelTooLong)
        ));
        assert!(load(d).unwrap().is_empty(), "a refusal writes nothing");
        let (token, e) = create(d, Role::Auditor, "audit").unwrap();
        assert!(token.starts_with(&format!("lt1.{}.", e.id)));
        assert!(matches!(
            revoke(d, "nope"),
            Err(TokenStoreError::NoSuchToken(_))
        ));
        assert!(revoke(d, &e.id).unwrap().revoked_at.is_some());
        let again = revoke(d, &e.id).unwrap_err();
        assert!(matches!(again, TokenStoreError::AlreadyRevoked(_)));
        assert_eq!(
            again.to_string(),
            format!("token {} is already revoked", e.id)
        );
        assert_eq!(load(d).unwrap().len(), 1);
        std::fs::write(d.join(TOKENS_FILE), b"{").unwrap();
        assert!(matches!(load(d), Err(TokenStoreError::Malformed { .. })));
    }

    /// A revocation is seen on the next check even when the store's new
    /// file keeps the old modification time (a change in the same tick of
    /// a coarse file-system clock), recent or not.
    #[test]
    fn a_revocation_is_seen_even_in_the_same_clock_tick() {
        use std::time::{Duration, SystemTime};
        let set_mtime = |d: &Path, t: SystemTime| {
            let f = std::fs::File::options()
                .write(true)
                .open(d.join(TOKENS_FILE))
                .unwrap();
            f.set_modified(t).unwrap();
        };
        for age in [Duration::ZERO, Duration::from_secs(3600)] {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            std::fs::create_dir(d.join("log")).unwrap();
            let (token, e) = create(d, Role::Auditor, "audit").unwrap();
            let t = SystemTime::now() - age;
            set_mtime(d, t);
            let tokens = Tokens::new(d);
            assert_eq!(tokens.check(&token), Ok(Role::Auditor));
            revoke(d, &e.id).unwrap();
            set_mtime(d, t);
            assert_eq!(tokens.check(&token), Err(Refusal::Revoked), "age {age:?}");
        }
        // A change in place that keeps the file's inode, length and time
        // (here a changed hash: the token no longer matches) is seen while
        // the file is recent, as a change in the same clock tick is.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("log")).unwrap();
        let (token, e) = create(d, Role::Auditor, "audit").unwrap();
        let t = SystemTime::now();
        set_mtime(d, t);
        let tokens = Tokens::new(d);
        assert_eq!(tokens.check(&token), Ok(Role::Auditor));
        let text = std::fs::read_to_string(d.join(TOKENS_FILE)).unwrap();
        let flipped = if e.sha256.starts_with('0') { "1" } else { "0" };
        let changed = text.replace(&e.sha256, &format!("{flipped}{}", &e.sha256[1..]));
        assert_eq!(changed.len(), text.len());
        std::fs::write(d.join(TOKENS_FILE), changed).unwrap();
        set_mtime(d, t);
        assert_eq!(tokens.check(&token), Err(Refusal::Unknown));
    }

    #[test]
    fn roles_allow_what_they_should() {
        assert!(Role::Auditor.allows(Role::Supervisor));
        assert!(Role::Supervisor.allows(Role::Supervisor));
        assert!(!Role::Supervisor.allows(Role::Auditor));
    }
}
