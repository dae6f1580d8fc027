//! The projection store: the model persisted in `projection.snap` with the
//! seq it reflects, used on reopening only when it is sound, of this code version
//! and of this log; otherwise the log is replayed and the answer is the same.

use crate::support::open_index_when_free;
use ledger::generate::{derive_key, history, GenerateOptions};
use ledger::ledger::{init_with_keys, Ledger};
use ledger::projstore::{self, PROJECTION_VERSION};
use std::path::Path;

fn ledger_with_history(data: &Path, records: u64, seed: u64) -> (u64, [u8; 32]) {
    let h = history(&GenerateOptions { records, seed }).unwrap();
    init_with_keys(
        data,
        &h.origin,
        &h.root,
        derive_key(seed, "checkpoint"),
        derive_key(seed, "system"),
        events::vocab::Clock::Simulated,
        Some(h.genesis_time),
        "projection store test",
    )
    .unwrap();
    let l = Ledger::open(data, Default::default()).unwrap();
    for r in l.submit_batch(&h.envelopes) {
        assert!(
            r.is_ok(),
            "a generated statement was refused: {:?}",
            r.err()
        );
    }
    let out = (l.head().size, l.model_digest().unwrap());
    l.close().unwrap();
    out
}

/// Reopens the ledger, insists that a start-up notice names `why`, and that
/// the model is the one the sequencer had built.
fn reopened_with_notice(data: &Path, why: &[&str], digest: [u8; 32]) -> Ledger {
    let l = Ledger::open(data, Default::default()).unwrap();
    assert!(
        l.notices.iter().any(|n| why.iter().all(|w| n.contains(w))),
        "no notice saying {why:?}: {:?}",
        l.notices
    );
    assert_eq!(l.model_digest().unwrap(), digest);
    l
}

fn snapshot(data: &Path) -> std::path::PathBuf {
    projstore::path(data)
}

#[test]
fn close_persists_the_projection_with_its_seq_and_reopening_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (size, digest) = ledger_with_history(&data, 800, 3);
    let meta = projstore::meta(&data)
        .unwrap()
        .expect("a snapshot is stored at close");
    assert_eq!(meta.seq, size);
    assert_eq!(meta.version, PROJECTION_VERSION);
    assert!(
        !data.join("projection.snap.tmp").exists(),
        "the temporary file was renamed"
    );
    let l = Ledger::open(&data, Default::default()).unwrap();
    assert!(
        !l.notices.iter().any(|n| n.contains("replaying")),
        "reopening replayed although a sound snapshot was stored: {:?}",
        l.notices
    );
    assert_eq!(l.model_digest().unwrap(), digest);
}

#[test]
fn a_damaged_snapshot_is_discarded_and_the_log_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (_, digest) = ledger_with_history(&data, 600, 4);
    {
        let mut bad = std::fs::read(snapshot(&data)).unwrap();
        let i = bad.len() / 2;
        bad[i] ^= 0x01;
        std::fs::write(snapshot(&data), bad).unwrap();
    }
    reopened_with_notice(&data, &["damaged", "replaying"], digest);
}

#[test]
fn a_snapshot_of_another_code_version_is_replaced_by_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (size, digest) = ledger_with_history(&data, 600, 5);
    {
        // The meta line is the file's last line: write it again with another version.
        let mut meta = projstore::meta(&data).unwrap().unwrap();
        meta.version = PROJECTION_VERSION + 1;
        let text = std::fs::read(snapshot(&data)).unwrap();
        let mut out = text[..meta.bytes as usize].to_vec();
        out.extend(serde_json::to_vec(&meta).unwrap());
        out.push(b'\n');
        std::fs::write(snapshot(&data), out).unwrap();
        assert_eq!(
            projstore::meta(&data).unwrap().unwrap().version,
            PROJECTION_VERSION + 1
        );
    }
    let l = reopened_with_notice(&data, &["code version"], digest);
    l.close().unwrap();
    let meta = projstore::meta(&data).unwrap().unwrap();
    assert_eq!((meta.version, meta.seq), (PROJECTION_VERSION, size));
}

#[test]
fn the_projection_catches_up_from_its_stored_seq() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let seed = 6;
    let h = history(&GenerateOptions { records: 900, seed }).unwrap();
    init_with_keys(
        &data,
        &h.origin,
        &h.root,
        derive_key(seed, "checkpoint"),
        derive_key(seed, "system"),
        events::vocab::Clock::Simulated,
        Some(h.genesis_time),
        "projection catch-up test",
    )
    .unwrap();
    let half = h.envelopes.len() / 2;
    let l = Ledger::open(&data, Default::default()).unwrap();
    for r in l.submit_batch(&h.envelopes[..half]) {
        r.unwrap();
    }
    l.close().unwrap();
    let stored = projstore::meta(&data).unwrap().unwrap().seq;
    // Keep that snapshot: append the rest, then put the old snapshot back.
    let saved = std::fs::read(snapshot(&data)).unwrap();
    let l = Ledger::open(&data, Default::default()).unwrap();
    for r in l.submit_batch(&h.envelopes[half..]) {
        r.unwrap();
    }
    let (size, digest) = (l.head().size, l.model_digest().unwrap());
    l.close().unwrap();
    std::fs::write(snapshot(&data), saved).unwrap();
    let l = Ledger::open(&data, Default::default()).unwrap();
    let msg = format!("projection reflects {stored} of {size} records; catching up");
    assert!(l.notices.contains(&msg), "{:?}", l.notices);
    assert_eq!(l.model_digest().unwrap(), digest);
}

#[test]
fn a_snapshot_cut_short_is_discarded_and_a_legacy_one_in_sled_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let (_, digest) = ledger_with_history(&data, 500, 7);
    {
        let text = std::fs::read(snapshot(&data)).unwrap();
        std::fs::write(snapshot(&data), &text[..text.len() - 10]).unwrap();
        assert!(projstore::meta(&data).unwrap().is_none());
        // What an earlier version left in the index: a `projection` tree.
        let db = open_index_when_free(&data);
        db.open_tree("projection")
            .unwrap()
            .insert(b"meta", &b"{}"[..])
            .unwrap();
        db.flush().unwrap();
    }
    let l = reopened_with_notice(&data, &["damaged", "replaying"], digest);
    assert!(
        l.notices.iter().any(|n| n.contains("earlier version")),
        "{:?}",
        l.notices
    );
    l.close().unwrap();
    let db = sled::open(data.join("index")).unwrap();
    assert!(!db.tree_names().iter().any(|n| n.as_ref() == b"projection"));
}

/// A due snapshot waits for a quiet moment: none is written while appends
/// keep arriving (until the forced bound), one is written once the queue has
/// been empty for a while, without closing the ledger.
#[test]
fn a_due_snapshot_is_saved_when_appends_pause_and_forced_under_load() {
    use crate::support::Fixture;
    let (f, l) = Fixture::new();
    l.close().unwrap();
    let config = ledger::ledger::Config {
        snapshot_every: 5,
        snapshot_force: 40,
        // Long enough that back-to-back appends never look like a pause.
        snapshot_idle: std::time::Duration::from_millis(1500),
        ..Default::default()
    };
    let l = Ledger::open(&f.data(), config).unwrap();
    let start = projstore::meta(&f.data()).unwrap().map_or(0, |m| m.seq);
    // Appends with no pause: due after 5, but no quiet moment until 40.
    for i in 0..30 {
        l.submit(&f.sign(&f.registrar, f.body(&format!("quiet-{i}"))))
            .unwrap();
    }
    let during = projstore::meta(&f.data()).unwrap().map_or(0, |m| m.seq);
    assert_eq!(during, start, "no snapshot while appends keep coming");
    for i in 30..45 {
        l.submit(&f.sign(&f.registrar, f.body(&format!("quiet-{i}"))))
            .unwrap();
    }
    let forced = projstore::meta(&f.data()).unwrap().map_or(0, |m| m.seq);
    assert!(forced >= start + 40, "forced after 40 records: {forced}");
    // Then a pause: the due snapshot is written while the ledger stays open.
    for i in 45..52 {
        l.submit(&f.sign(&f.registrar, f.body(&format!("quiet-{i}"))))
            .unwrap();
    }
    let size = l.head().size;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while projstore::meta(&f.data()).unwrap().map_or(0, |m| m.seq) < size {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot after a pause"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    l.close().unwrap();
}
