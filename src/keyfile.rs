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
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| KeyFileError::Create {
            path: path.to_path_buf(),
            source,
        })?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| KeyFileError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Reads a file that must be private to its owner.
pub fn read_private(path: &Path) -> Result<String> {
    let read = |source| KeyFileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::metadata(path).map_err(read)?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::NotPrivate {
            path: path.to_path_buf(),
            mode,
        });
    }
    fs::read_to_string(path).map_err(read)
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
    }
}
