//! Placeholder until the generator lands (being written in parallel).
use std::path::Path;
pub struct GenerateOptions {
    pub records: u64,
    pub seed: u64,
}
pub struct GenerateSummary {
    pub records: u64,
    pub rejected: u64,
    pub checkpoint_vkey: String,
    pub root_public: String,
}
pub fn generate(
    _data: &Path,
    _root_key_out: &Path,
    _opts: &GenerateOptions,
) -> anyhow::Result<GenerateSummary> {
    anyhow::bail!("generator not yet integrated")
}
