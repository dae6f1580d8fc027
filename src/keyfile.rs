//! Key files. A secret key file holds one line, `ledger-ed25519-secret-v1 BASE64`,
//! where BASE64 is the 32-byte Ed25519 seed. Files are created readable and
//! writable by their owner only (0600) and refused when anyone else may read them.

use ed25519_dalek::SigningKey;
use events::codec;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const PREFIX: &str = "ledger-ed25519-secret-v1 ";

/// Why a key could not be made, written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("reading the operating system's random source: {0}")]
    Random(getrandom::Error),
    #[error("creating key file {} (it must not exist yet): {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing key file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {} has mode {mode:04o}: others may read it; run `chmod 600 {}` first", path.display(), path.display())]
    NotPrivate { path: PathBuf, mode: u32 },
    #[error("{} is not a ledger secret key file (it should start with {PREFIX:?})", .0.display())]
    NotAKeyFile(PathBuf),
    #[error("{}: the key is not base64 of 32 bytes", .0.display())]
    BadKey(PathBuf),
}

type Result<T, E = KeyFileError> = std::result::Result<T, E>;

/// A fresh key from the operating system's random source.
pub fn generate() -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(KeyFileError::Random)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `text` to a new file readable by its owner only; never overwrites.
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    write_new(path, text, 0o600)
}

/// Writes `text` to a new file of mode `mode`, synced: never overwrites,
/// never follows a symlink at `path`, and never leaves a file that is empty
/// or half written.
fn write_new(path: &Path, text: &str, mode: u32) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|source| KeyFileError::Create {
            path: path.to_path_buf(),
            source,
        })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| {
            let _ = fs::remove_file(path);
            KeyFileError::Write {
                path: path.to_path_buf(),
                source,
            }
        })
}

/// The largest key file read: a key file is one short line.
const KEY_FILE_BYTES_MAX: u64 = 4096;

/// Reads a file that must be private to its owner: a regular file of at
/// most 4 KiB, checked and read through one open handle (so it cannot be
/// swapped between the check and the read).
pub fn read_private(path: &Path) -> Result<String> {
    use std::io::Read;
    let read = |source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let invalid = |m: &str| {
        read(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            m.to_string(),
        ))
    };
    // O_NONBLOCK: opening a FIFO must not hang; a regular file ignores it.
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(read)?;
    let meta = f.metadata().map_err(read)?;
    if !meta.is_file() {
        return Err(invalid("not a regular file"));
    }
    if meta.len() > KEY_FILE_BYTES_MAX {
        return Err(invalid("larger than a key file (4 KiB)"));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::NotPrivate {
            path: path.to_path_buf(),
            mode,
        });
    }
    let mut text = String::new();
    f.take(KEY_FILE_BYTES_MAX)
        .read_to_string(&mut text)
        .map_err(read)?;
    Ok(text)
}

/// Where the public half of the key at `key_path` is written: the same
/// name with extension `.pub`. Refused when that is the key file itself.
pub fn public_path(key_path: &Path) -> std::result::Result<PathBuf, String> {
    let p = key_path.with_extension("pub");
    if p == key_path {
        return Err(format!(
            "{}: a secret key file must not be named *.pub: its public key is written to FILE.pub beside it",
            key_path.display()
        ));
    }
    Ok(p)
}

/// Writes a public key file: a new file (never overwrites, never follows a
/// symlink at `path`), readable by all, synced.
pub fn write_public(path: &Path, text: &str) -> Result<()> {
    write_new(path, text, 0o644)
}

/// Whether `path` lies inside directory `dir`, comparing where they really
/// are: both resolved from their nearest existing ancestor (symlinks
/// followed, `.` and `..` applied), so `./d/k`, `d/../d/k` or a link into
/// `d` all count as inside `d`.
pub fn is_inside(path: &Path, dir: &Path) -> bool {
    match (resolved(path), resolved(dir)) {
        (Some(p), Some(d)) => p.starts_with(d),
        _ => path.starts_with(dir),
    }
}

/// `p` made absolute: its longest existing prefix canonicalized, the rest
/// appended with `.` and `..` applied.
fn resolved(p: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(p)
    };
    let mut base = abs.as_path();
    let mut rest = Vec::new();
    let canon = loop {
        if let Ok(c) = fs::canonicalize(base) {
            break c;
        }
        rest.push(base.file_name()?.to_os_string());
        base = base.parent()?;
    };
    let mut out = canon;
    for part in rest.iter().rev() {
        match Path::new(part).components().next() {
            Some(Component::ParentDir) => {
                out.pop();
            }
            Some(Component::CurDir) | None => {}
            _ => out.push(part),
        }
    }
    Some(out)
}

/// The text form of a secret key.
pub fn encode(key: &SigningKey) -> String {
    format!("{PREFIX}{}\n", codec::b64(key.as_bytes()))
}

/// Writes a new secret key file.
pub fn write_key(path: &Path, key: &SigningKey) -> Result<()> {
    write_private(path, &encode(key))
}

/// Reads a secret key file, refusing one that others may read.
pub fn read_key(path: &Path) -> Result<SigningKey> {
    let text = read_private(path)?;
    let line = text.trim_end_matches('\n');
    let Some(b64) = line.strip_prefix(PREFIX) else {
        return Err(KeyFileError::NotAKeyFile(path.to_path_buf()));
    };
    let seed = codec::unb64::<32>(b64).ok_or_else(|| KeyFileError::BadKey(path.to_path_buf()))?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_private_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        let k = SigningKey::from_bytes(&[9u8; 32]);
        write_key(&p, &k).unwrap();
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_key(&p).unwrap().to_bytes(), k.to_bytes());
        assert!(write_key(&p, &k).is_err(), "never overwrites");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_key(&p).unwrap_err();
        assert!(matches!(err, KeyFileError::NotPrivate { mode: 0o644, .. }));
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let other = dir.path().join("other.key");
        write_private(&other, "not a key\n").unwrap();
        assert!(matches!(
            read_key(&other),
            Err(KeyFileError::NotAKeyFile(_))
        ));
        let short = dir.path().join("short.key");
        write_private(&short, &format!("{PREFIX}AAAA\n")).unwrap();
        assert!(matches!(read_key(&short), Err(KeyFileError::BadKey(_))));
        assert!(matches!(
            read_key(&dir.path().join("missing.key")),
            Err(KeyFileError::Read { .. })
        ));
        // Not a regular file (a FIFO would hang a plain read), or too large.
        let fifo = dir.path().join("fifo.key");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        fs::set_permissions(&fifo, fs::Permissions::from_mode(0o600)).unwrap();
        let err = read_key(&fifo).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let big = dir.path().join("big.key");
        write_private(&big, &"x".repeat(5000)).unwrap();
        let err = read_key(&big).unwrap_err();
        assert!(err.to_string().contains("larger than a key file"), "{err}");
    }

    /// A path resolved through a symlink or `..` into a directory is inside
    /// it; a sibling is not.
    #[test]
    fn inside_compares_where_paths_really_are() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        fs::create_dir(&data).unwrap();
        std::os::unix::fs::symlink(&data, dir.path().join("link")).unwrap();
        assert!(is_inside(&dir.path().join("link/k.key"), &data));
        assert!(is_inside(&data.join("new/../k.key"), &data));
        assert!(is_inside(&data.join("k.key"), &dir.path().join("link")));
        assert!(!is_inside(&dir.path().join("data2/k.key"), &data));
        assert!(!is_inside(&dir.path().join("k.key"), &data));
        assert_eq!(public_path(Path::new("r.key")).unwrap(), Path::new("r.pub"));
        assert!(public_path(Path::new("r.pub")).is_err());
    }
}
