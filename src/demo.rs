//! `ledger serve --demo`: the data directory with the Hunan 2006 scenario,
//! created on first start through the normal signed append path, served as
//! it is on later starts.

use anyhow::{Context, Result};
use std::path::Path;

/// Loads the scenario into `data` if it is missing or empty. Returns whether
/// it did (false: the directory already holds a ledger, served as it is).
pub fn prepare(data: &Path) -> Result<bool> {
    let empty = !data.exists()
        || std::fs::read_dir(data)
            .with_context(|| format!("reading {}", data.display()))?
            .next()
            .is_none();
    if !empty {
        if !data.join("log").is_dir() {
            anyhow::bail!(
                "{} is not empty and holds no ledger; give --data a new or empty directory for the demo",
                data.display()
            );
        }
        return Ok(false);
    }
    let s = crate::scenario::load_hunan_2006(data)?;
    // As `ledger init` does: the public half beside the secret, for an
    // auditor's `ledger verify --root`.
    let public = root_public_path(data);
    crate::keyfile::write_public(&public, &format!("{}\n", s.root_public))?;
    eprintln!(
        "ledger: {} records; the root authority's key is in {}, its public key in {}",
        s.records,
        s.root_key_path.display(),
        public.display()
    );
    Ok(true)
}

/// Where the demo writes the root authority's public key: `<data>.root.pub`,
/// beside the secret key of [`crate::scenario::root_key_path`].
pub fn root_public_path(data: &Path) -> std::path::PathBuf {
    crate::scenario::root_key_path(data).with_extension("pub")
}
