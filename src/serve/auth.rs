//! Bearer tokens for the HTTP service: created with `ledger token create
//! --role …`, revocable, stored only as SHA-256 hashes in `tokens.json` in the
//! data directory, compared in constant time, never logged.
//!
//! A token is `lt1.<id>.<secret>`: the id (12 hex characters) finds the
//! entry, the SHA-256 of the whole token must equal the stored hash. The
//! store is re-read when its modification time changes, so a revocation
//! takes effect on the next request without restarting the server.

use anyhow::{bail, Context, Result};
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

fn path(dir: &Path) -> PathBuf {
    dir.join(TOKENS_FILE)
}

pub fn load(dir: &Path) -> Result<Vec<Entry>> {
    let p = path(dir);
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b).with_context(|| format!("reading {}", p.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", p.display())),
    }
}

/// Writes the store durably: a temporary file, fsync, rename, fsync of the directory.
fn store(dir: &Path, entries: &[Entry]) -> Result<()> {
    use std::io::Write;
    let p = path(dir);
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
    std::fs::rename(&tmp, &p)?;
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
        bail!("{} is not a ledger data directory (no log/)", dir.display());
    }
    if label.chars().count() > 200 {
        bail!("--label is limited to 200 characters");
    }
    let mut entries = load(dir)?;
    if entries.len() >= TOKENS_MAX {
        bail!("the token store holds {TOKENS_MAX} tokens, its limit");
    }
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut id).context("reading the system's randomness")?;
    getrandom::getrandom(&mut secret).context("reading the system's randomness")?;
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
        bail!("no token with id {id:?} (see `ledger token list`)");
    };
    if e.revoked_at.is_some() {
        bail!("token {id} is already revoked");
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

/// The token store as the server sees it: reloaded when the file changes.
pub struct Tokens {
    dir: PathBuf,
    cache: Mutex<(Option<SystemTime>, Vec<Entry>)>,
}

impl Tokens {
    pub fn new(dir: &Path) -> Tokens {
        Tokens {
            dir: dir.to_path_buf(),
            cache: Mutex::new((None, Vec::new())),
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
        let mtime = std::fs::metadata(path(&self.dir))
            .and_then(|m| m.modified())
            .ok();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != mtime || mtime.is_none() {
            *cache = (mtime, load(&self.dir).unwrap_or_default());
        }
        let e = cache
            .1
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
    fn roles_allow_what_they_should() {
        assert!(Role::Auditor.allows(Role::Supervisor));
        assert!(Role::Supervisor.allows(Role::Supervisor));
        assert!(!Role::Supervisor.allows(Role::Auditor));
    }
}
