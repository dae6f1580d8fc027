//! Key files. A secret key file holds one line, `ledger-ed25519-secret-v1 BASE64`,
//! where BASE64 is the 32-byte Ed25519 seed. Files are created readable and
//! writable by their owner only (0600) and refused when anyone else may read them.

use anyhow::{bail, Context, Result};
use ed25519_dalek::SigningKey;
use events::codec;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

const PREFIX: &str = "ledger-ed25519-secret-v1 ";

/// A fresh key from the operating system's random source.
pub fn generate() -> Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).context("reading the operating system's random source")?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Writes `text` to a new file readable by its owner only; never overwrites.
pub fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| {
            format!(
                "creating key file {} (it must not exist yet)",
                path.display()
            )
        })?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
        .with_context(|| format!("syncing {}", path.display()))?;
    Ok(())
}

/// Reads a file that must be private to its owner.
pub fn read_private(path: &Path) -> Result<String> {
    let meta =
        fs::metadata(path).with_context(|| format!("reading key file {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "key file {} has mode {mode:04o}: others may read it; run `chmod 600 {}` first",
            path.display(),
            path.display()
        );
    }
    fs::read_to_string(path).with_context(|| format!("reading key file {}", path.display()))
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
        bail!(
            "{} is not a ledger secret key file (it should start with {PREFIX:?})",
            path.display()
        );
    };
    let seed = codec::unb64::<32>(b64)
        .with_context(|| format!("{}: the key is not base64 of 32 bytes", path.display()))?;
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
        let err = read_key(&p).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }
}
