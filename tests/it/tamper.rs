//! Tampering of every kind is caught by verification, with the seq and reason.

use crate::support::*;
use events::checkpoint::{Checkpoint, SignedCheckpoint};
use events::codes::Code;
use events::keys::{KeyId, Party, Role};
use events::merkle::{self, RootBuilder};
use events::note::NoteSigner;
use events::record::{self, Record, GENESIS_PREV};
use events::vocab::*;
use ledger::audit::{self, AuditError, AuditOptions};
use ledger::ledger::Ledger;
use proptest::prelude::*;
use std::path::Path;

/// A ledger of about 30 records: registry, an enterprise, an intake clerk, complaints, a revocation.
fn history() -> (Fixture, Ledger) {
    let (f, l) = Fixture::new();
    let ent = key(10);
    let clerk = key(11);
    f.granted(
        &l,
        &ent,
        Party::Enterprise("ent-1".into()),
        vec![Role::Enterprise],
    );
    f.granted(&l, &clerk, Party::Body("centre".into()), vec![Role::Intake]);
    for i in 0..20 {
        let who = if i % 2 == 0 { &ent } else { &clerk };
        l.submit(&f.sign(who, f.complaint(who, &format!("case-{i}"))))
            .unwrap();
    }
    l.submit(&f.sign(
        &f.registrar,
        Event::KeyRevoked(KeyRevoked {
            key: KeyId::of(&clerk.verifying_key()),
            reason: text("left office"),
        }),
    ))
    .unwrap();
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-last")))
        .unwrap();
    (f, l)
}

fn export(l: &Ledger, size: u64) -> (Vec<Vec<u8>>, Vec<u8>) {
    let lines = (0..size).map(|s| l.read_leaf(s).unwrap()).collect();
    let note = l
        .checkpoint_at(size)
        .unwrap()
        .expect("checkpoint at size")
        .into_bytes();
    (lines, note)
}

fn write_export(dir: &Path, lines: &[Vec<u8>]) -> std::path::PathBuf {
    let p = dir.join(format!("export-{}.ndjson", rand_name()));
    let mut bytes = Vec::new();
    for l in lines {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    std::fs::write(&p, bytes).unwrap();
    p
}

fn rand_name() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn opts(l: &Ledger) -> AuditOptions {
    AuditOptions {
        checkpoint_key: Some(l.checkpoint_verifier().clone()),
        threads: 2,
        ..AuditOptions::default()
    }
}

fn verify_lines(
    f: &Fixture,
    l: &Ledger,
    lines: &[Vec<u8>],
    note: &[u8],
    o: AuditOptions,
) -> Result<audit::AuditReport, (u64, Code, String)> {
    let p = write_export(f.dir.path(), lines);
    let _ = l;
    match audit::verify_export(&p, note, o) {
        Ok(r) => Ok(r),
        Err(AuditError::Finding(v)) => Err((v.seq, v.code, v.message)),
        Err(e) => panic!("io: {e}"),
    }
}

/// The operator holds the checkpoint key: it can re-chain records and re-sign a checkpoint.
fn forge(
    f: &Fixture,
    records: &[(events::time::Timestamp, Vec<u8>, [u8; 64])],
) -> (Vec<Vec<u8>>, Vec<u8>) {
    let skey = std::fs::read_to_string(f.data().join("checkpoint.key")).unwrap();
    let signer = NoteSigner::from_skey(skey.trim()).unwrap();
    let mut prev = GENESIS_PREV;
    let mut tree = RootBuilder::new();
    let mut out = Vec::new();
    for (seq, (t, stmt, sig)) in records.iter().enumerate() {
        let rec = record::encode(seq as u64, *t, &prev, stmt, sig);
        prev = record::chain_hash(&rec);
        tree.push(merkle::leaf_hash(&rec));
        out.push(rec);
    }
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: out.len() as u64,
        root: tree.root(),
        extensions: vec![],
    };
    let note = SignedCheckpoint::sign(cp, &signer)
        .unwrap()
        .note
        .into_bytes();
    (out, note)
}

fn parts(lines: &[Vec<u8>]) -> Vec<(events::time::Timestamp, Vec<u8>, [u8; 64])> {
    lines
        .iter()
        .map(|b| {
            let r = Record::parse(b).unwrap();
            (r.recorded_at, r.signed.bytes, r.signed.signature)
        })
        .collect()
}

#[test]
fn a_sound_export_verifies_against_the_trusted_root() {
    let (f, l) = history();
    let (lines, note) = export(&l, l.head().size);
    let mut o = opts(&l);
    o.trusted_root = Some(events::keys::PublicKey(f.root.verifying_key()));
    let r = verify_lines(&f, &l, &lines, &note, o).unwrap();
    assert_eq!(r.records, lines.len() as u64);
}

#[test]
fn a_deleted_record_is_caught_at_its_seq() {
    let (f, l) = history();
    let (mut lines, note) = export(&l, l.head().size);
    lines.remove(12);
    let (seq, code, _) = verify_lines(&f, &l, &lines, &note, opts(&l)).unwrap_err();
    assert_eq!((seq, code), (12, Code::SeqMismatch));
}

#[test]
fn two_swapped_records_are_caught() {
    let (f, l) = history();
    let (mut lines, note) = export(&l, l.head().size);
    lines.swap(15, 16);
    let (seq, code, _) = verify_lines(&f, &l, &lines, &note, opts(&l)).unwrap_err();
    assert_eq!((seq, code), (15, Code::SeqMismatch));
}

#[test]
fn a_truncated_tail_is_caught_against_a_kept_checkpoint() {
    let (f, l) = history();
    let n = l.head().size;
    let (_, kept) = export(&l, n);
    // The operator hands out an older, genuinely signed prefix.
    let (lines, note) = export(&l, n - 3);
    verify_lines(&f, &l, &lines, &note, opts(&l)).expect("the prefix alone is sound");
    let mut o = opts(&l);
    o.since = Some(kept);
    let (seq, code, msg) = verify_lines(&f, &l, &lines, &note, o).unwrap_err();
    assert_eq!(code, Code::Truncated, "{msg}");
    assert_eq!(seq, n - 3);
}

#[test]
fn a_replaced_signature_is_caught() {
    let (f, l) = history();
    let (lines, note) = export(&l, l.head().size);
    let mut p = parts(&lines);
    p[9].2 = p[10].2;
    // Keep the checkpoint honest for the forged bytes, so only the signature is wrong.
    let (forged, note2) = forge(&f, &p);
    let (seq, code, _) = verify_lines(&f, &l, &forged, &note2, opts(&l)).unwrap_err();
    assert_eq!((seq, code), (9, Code::BadSignature));
    // Against the original checkpoint it is caught at the same seq.
    let (seq, code, _) = verify_lines(&f, &l, &forged, &note, opts(&l)).unwrap_err();
    assert_eq!((seq, code), (9, Code::BadSignature));
}

#[test]
fn a_record_signed_by_a_revoked_key_is_caught() {
    let (f, l) = history();
    let (lines, _) = export(&l, l.head().size);
    let mut p = parts(&lines);
    // The operator slips in a statement signed by the clerk after its revocation.
    let clerk = key(11);
    let s = f
        .statement(&clerk, f.complaint(&clerk, "case-forged"))
        .sign(&clerk);
    let t = p.last().unwrap().0;
    p.push((t, s.bytes, s.signature));
    let (forged, note) = forge(&f, &p);
    let (seq, code, _) = verify_lines(&f, &l, &forged, &note, opts(&l)).unwrap_err();
    assert_eq!((seq, code), (p.len() as u64 - 1, Code::RevokedKey));
}

#[test]
fn a_statement_replayed_from_another_ledger_is_caught() {
    let (f, l) = history();
    let (lines, _) = export(&l, l.head().size);
    let mut p = parts(&lines);
    let ent = key(10);
    let mut s = f.statement(&ent, f.complaint(&ent, "case-elsewhere"));
    s.origin = "other.example/ledger".into();
    let s = s.sign(&ent);
    let t = p.last().unwrap().0;
    p.push((t, s.bytes, s.signature));
    let (forged, note) = forge(&f, &p);
    let (seq, code, _) = verify_lines(&f, &l, &forged, &note, opts(&l)).unwrap_err();
    assert_eq!((seq, code), (p.len() as u64 - 1, Code::WrongOrigin));
}

#[test]
fn rewritten_history_is_caught_by_consistency_with_a_kept_checkpoint() {
    let (f, l) = history();
    let n = l.head().size;
    let (lines, kept) = export(&l, n);
    // Drop complaint seq 10, renumber, re-chain, recompute the root and re-sign: every
    // signature still verifies, the chain and root are fresh.
    let mut p = parts(&lines);
    p.remove(10);
    let (forged, note) = forge(&f, &p);
    verify_lines(&f, &l, &forged, &note, opts(&l))
        .expect("a rewritten history is internally sound");
    // The auditor kept the checkpoint of size 12 from before.
    let mut o = opts(&l);
    o.since = Some(l.checkpoint_at(12).unwrap().unwrap().into_bytes());
    let (seq, code, _) = verify_lines(&f, &l, &forged, &note, o).unwrap_err();
    assert_eq!((seq, code), (11, Code::Inconsistent));
    let mut o = opts(&l);
    o.since = Some(kept);
    let (_, code, _) = verify_lines(&f, &l, &forged, &note, o).unwrap_err();
    assert_eq!(
        code,
        Code::Truncated,
        "one record fewer than the kept checkpoint covers"
    );
}

#[test]
fn a_replaced_genesis_is_caught_by_the_trusted_root() {
    let (f, l) = history();
    // The operator builds a whole new ledger with a root key of its own.
    let (f2, l2) = Fixture::new();
    let _ = f2;
    let (lines, note) = export(&l2, l2.head().size);
    let mut o = opts(&l2);
    o.trusted_root = Some(events::keys::PublicKey(key(77).verifying_key()));
    let (seq, code, _) = verify_lines(&f, &l, &lines, &note, o).unwrap_err();
    assert_eq!((seq, code), (0, Code::UntrustedRoot));
    // With the real root it passes.
    let mut o = opts(&l2);
    o.trusted_root = Some(events::keys::PublicKey(f.root.verifying_key()));
    verify_lines(&f, &l, &lines, &note, o).unwrap();
}

#[test]
fn cli_verify_reports_the_first_bad_seq_and_exits_non_zero() {
    let (f, l) = history();
    let n = l.head().size;
    let (mut lines, note) = export(&l, n);
    let vkey = l.checkpoint_verifier().to_vkey();
    drop(l);
    lines.remove(5);
    let p = write_export(f.dir.path(), &lines);
    let cp = f.dir.path().join("cp");
    std::fs::write(&cp, &note).unwrap();
    let out = run(&[
        "verify",
        "--export",
        path_str(&p),
        "--checkpoint",
        path_str(&cp),
        "--key",
        &vkey,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("seq 5: seq_mismatch") || stdout.contains("at seq 5: seq_mismatch"),
        "{stdout}"
    );
    // The data directory itself verifies, with the root key checked.
    let pubkey = events::keys::PublicKey(f.root.verifying_key()).to_string();
    let out = run(&["verify", "--data", path_str(&f.data()), "--root", &pubkey]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("root key: {pubkey}, the one you trust")),
        "{stdout}"
    );
    // Without --root the same ledger verifies, and says what was not checked.
    let out = run(&["verify", "--data", path_str(&f.data())]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("root key: {pubkey}, NOT checked")),
        "{stdout}"
    );
    // A kept checkpoint given as --checkpoint to a data directory would be
    // ignored (that flag is an export's): refused, pointing to --since.
    let out = run(&[
        "verify",
        "--data",
        path_str(&f.data()),
        "--checkpoint",
        path_str(&cp),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("give it as --since"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing is reported as verified");
}

/// Flips a byte inside the frame of record `seq` in its segment on disk,
/// and returns why the ledger then refuses to open.
fn damage_record_on_disk(f: &Fixture, seq: u64) -> (std::path::PathBuf, String) {
    let l = f.open();
    let leaf = l.read_leaf(seq).unwrap();
    drop(l);
    let segs = ledger::log::list_segments(&f.data().join("log")).unwrap();
    let seg = segs
        .iter()
        .rev()
        .find(|(first, _)| *first <= seq)
        .unwrap()
        .1
        .clone();
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes
        .windows(leaf.len())
        .position(|w| w == leaf.as_slice())
        .unwrap()
        + 40;
    bytes[at] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let err = Ledger::open(&f.data(), Default::default())
        .err()
        .expect("start-up must stop")
        .to_string();
    (seg, err)
}

/// A damaged frame later in the log does not hide an earlier record's own
/// finding: the first finding in seq order is reported (FORMAT.md §19).
#[test]
fn a_bad_record_before_a_damaged_frame_is_reported_first() {
    let (f, l) = history();
    let (bad, damaged) = (3u64, 10u64);
    let leaf = l.read_leaf(bad).unwrap();
    let later = l.read_leaf(damaged).unwrap();
    drop(l);
    let seg = f.data().join("log").join(ledger::log::segment_name(0));
    let mut bytes = std::fs::read(&seg).unwrap();
    // Seq 3 with another signature, in a frame whose check matches it: a
    // record that reads back whole and does not verify.
    let at = bytes
        .windows(leaf.len())
        .position(|w| w == leaf.as_slice())
        .unwrap();
    let sig = at
        + leaf
            .windows(13)
            .position(|w| w == b"\"signature\":\"")
            .unwrap()
        + 13;
    bytes[sig] = if bytes[sig] == b'A' { b'B' } else { b'A' };
    let chain = events::record::chain_hash(&bytes[at..at + leaf.len()]);
    bytes[at + leaf.len()..at + leaf.len() + 8].copy_from_slice(&chain[..8]);
    std::fs::write(&seg, &bytes).unwrap();
    let r = audit::verify_data_dir(&f.data(), AuditOptions::default());
    match r {
        Err(AuditError::Finding(v)) => {
            assert_eq!((v.seq, v.code), (bad, Code::BadSignature), "{v:?}")
        }
        other => panic!("expected a bad signature at {bad}, got {other:?}"),
    }
    // Now a damaged frame at seq 10 too, an intact checkpoint frame after it.
    let at = bytes
        .windows(later.len())
        .position(|w| w == later.as_slice())
        .unwrap();
    bytes[at + 40] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let err = Ledger::open(&f.data(), Default::default())
        .err()
        .expect("start-up must stop")
        .to_string();
    assert!(err.contains(&format!("damaged at seq {damaged}")), "{err}");
    let r = audit::verify_data_dir(&f.data(), AuditOptions::default());
    match r {
        Err(AuditError::Finding(v)) => {
            assert_eq!((v.seq, v.code), (bad, Code::BadSignature), "{v:?}")
        }
        other => panic!("expected a bad signature at {bad}, got {other:?}"),
    }
}

#[test]
fn a_damaged_frame_before_the_last_checkpoint_stops_start_up_and_verify() {
    let (f, l) = history();
    drop(l);
    let (_, err) = damage_record_on_disk(&f, 7);
    assert!(err.contains("damaged at seq 7"), "{err}");
    let r = audit::verify_data_dir(&f.data(), AuditOptions::default());
    match r {
        Err(AuditError::Finding(v)) => assert_eq!((v.seq, v.code), (7, Code::DamagedFrame)),
        other => panic!("expected damaged frame at 7, got {other:?}"),
    }
}

/// A page of the log's last batch lost while its checkpoint frame reached
/// the disk (a power failure during the write) reads as damage before the
/// last checkpoint, and start-up stops, as for any damage to acknowledged
/// history; when `log/durable` does not show the batch synced, the message
/// says the damage is in the last batch and where to truncate if no receipt
/// of it was given, and after that cut the ledger opens at the size before
/// the batch.
#[test]
fn damage_in_the_last_batch_names_the_cut_that_would_discard_it() {
    let (f, l) = history();
    let size = l.head().size;
    drop(l);
    let (seg, err) = damage_record_on_disk(&f, size - 1);
    let want = format!("damaged at seq {}", size - 1);
    assert!(err.contains(&want), "{err}");
    // Closed cleanly, the ledger had published the batch as synced: that
    // is damage to acknowledged history, with no cut offered.
    assert!(err.contains("synced and acknowledged"), "{err}");
    assert!(!err.contains("at byte "), "{err}");
    // A power failure during the batch's write: its fdatasync never
    // returned, so the durable size was never raised past it (the batch is
    // one record, seq size - 1).
    let durable = f.data().join("log").join(ledger::log::DURABLE_FILE);
    std::fs::write(&durable, (size - 1).to_le_bytes()).unwrap();
    let err = match Ledger::open(&f.data(), Default::default()) {
        Ok(_) => panic!("opened a damaged log"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(&want), "{err}");
    assert!(err.contains("the log's last batch"), "{err}");
    let cut: u64 = err
        .rsplit("at byte ")
        .next()
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no byte named: {err}"));
    // The operator's cut, by hand.
    let file = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    file.set_len(cut).unwrap();
    drop(file);
    let l = Ledger::open(&f.data(), Default::default()).unwrap();
    assert!(l.head().size < size);
    assert!(l.head().size >= 1);
    drop(l);
    audit::verify_data_dir(&f.data(), AuditOptions::default()).expect("verifies after the cut");
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Any flipped byte of any record is caught, at that record (or, for the
    /// fields only the ledger writes, at the link to the next record or at the
    /// checkpoint when it is the last).
    #[test]
    fn any_flipped_byte_is_caught(pick in 0usize..10_000, offset in 0usize..10_000, mask in 1u8..=255) {
        thread_local! { static FIX: (Fixture, Ledger, Vec<Vec<u8>>, Vec<u8>) = { let (f, l) = history(); let (lines, note) = export(&l, l.head().size); (f, l, lines, note) }; }
        FIX.with(|(f, l, lines, note)| {
            let i = pick % lines.len();
            let mut lines = lines.clone();
            let len = lines[i].len() + 1; // the newline counts as part of the record's line
            let o = offset % len;
            if o == lines[i].len() {
                // Flip the newline: the line merges with the next or the file loses its end.
                let mut joined = lines[i].clone();
                joined.push(b'\n' ^ mask);
                if i + 1 < lines.len() { let next = lines.remove(i + 1); joined.extend_from_slice(&next); }
                lines[i] = joined;
            } else {
                lines[i][o] ^= mask;
            }
            // Rebuild the file bytes (a flipped byte may itself be a newline).
            let r = verify_lines(f, l, &lines, note, opts(l));
            let (seq, code, msg) = r.expect_err("a flipped byte must be caught");
            let last = lines.len() as u64 - 1;
            let ok = seq == i as u64
                || (seq == i as u64 + 1 && code == Code::ChainBroken)
                || (i as u64 == last && seq == last && matches!(code, Code::RootMismatch | Code::Truncated));
            prop_assert!(ok, "flip in record {} at byte {} mask {:#x}: got seq {} {} ({})", i, o, mask, seq, code, msg);
            Ok(())
        })?;
    }
}

#[test]
fn what_cannot_be_read_is_an_error_not_a_finding() {
    let (f, l) = Fixture::new();
    drop(l);
    let nowhere = f.dir.path().join("nowhere");
    match audit::verify_data_dir(&nowhere, AuditOptions::default()) {
        Err(e @ AuditError::NotADataDir(_)) => assert!(!e.is_finding()),
        other => panic!("expected NotADataDir, got {:?}", other.map(|r| r.records)),
    }
    match audit::verify_export(&nowhere, b"", AuditOptions::default()) {
        Err(e @ AuditError::NoCheckpointKey) => assert!(!e.is_finding()),
        other => panic!(
            "expected NoCheckpointKey, got {:?}",
            other.map(|r| r.records)
        ),
    }
    let l = f.open();
    let opts = AuditOptions {
        checkpoint_key: Some(l.checkpoint_verifier().clone()),
        ..AuditOptions::default()
    };
    drop(l);
    // A checkpoint that is not one is a finding about what the auditor was given.
    match audit::verify_export(&nowhere, b"not a checkpoint", opts) {
        Err(e @ AuditError::Finding(_)) => assert!(e.is_finding()),
        other => panic!("expected a finding, got {:?}", other.map(|r| r.records)),
    }
}

/// `ledger verify` refuses what start-up refuses about segments: a segment
/// not named for the number of records before it, and a segment other than
/// the last that does not end with a checkpoint frame (its last checkpoint
/// frame dropped: the chain and the next checkpoint still hold).
#[test]
fn verify_checks_segment_names_and_ends_as_start_up_does() {
    let (f, l) = Fixture::new();
    drop(l);
    let config = ledger::ledger::Config {
        segment_bytes_max: 4096,
        ..Default::default()
    };
    let l = Ledger::open(&f.data(), config).unwrap();
    for i in 0..12 {
        l.submit(&f.sign(&f.registrar, f.body(&format!("seg{i}"))))
            .unwrap();
    }
    drop(l);
    let log_dir = f.data().join("log");
    let segs = ledger::log::list_segments(&log_dir).unwrap();
    assert!(segs.len() >= 3, "{segs:?}");
    audit::verify_data_dir(&f.data(), AuditOptions::default()).expect("sound before");

    // The second segment renamed one seq on.
    let (first, path) = &segs[1];
    let renamed = log_dir.join(ledger::log::segment_name(first + 1));
    std::fs::rename(path, &renamed).unwrap();
    let err = audit::verify_data_dir(&f.data(), AuditOptions::default())
        .expect_err("a misnamed segment verified");
    assert!(
        err.to_string().contains(&format!(
            "named for seq {} but {first} records precede it",
            first + 1
        )),
        "{err}"
    );
    assert!(Ledger::open(&f.data(), Default::default()).is_err());
    std::fs::rename(&renamed, path).unwrap();

    // The first segment's last checkpoint frame dropped.
    let scan = ledger::log::scan(&log_dir, ledger::log::LeafHashes::Skip).unwrap();
    let (_, _, offset) = *scan
        .checkpoints
        .iter()
        .filter(|c| c.1 == 0)
        .max_by_key(|c| c.0)
        .unwrap();
    let seg0 = &segs[0].1;
    let file = std::fs::OpenOptions::new().write(true).open(seg0).unwrap();
    file.set_len(offset).unwrap();
    drop(file);
    let err = audit::verify_data_dir(&f.data(), AuditOptions::default())
        .expect_err("a segment without its last checkpoint frame verified");
    assert!(
        err.to_string().contains("only the last segment may"),
        "{err}"
    );
    assert!(Ledger::open(&f.data(), Default::default()).is_err());
}

/// An older checkpoint of size 0 (the empty tree) is consistent with any
/// history; one of size 0 with another root is not. Neither is reported as
/// a truncated tail.
#[test]
fn a_kept_checkpoint_of_size_zero_is_checked_as_the_empty_tree() {
    let (f, l) = history();
    let (lines, note) = export(&l, l.head().size);
    let skey = std::fs::read_to_string(f.data().join("checkpoint.key")).unwrap();
    let signer = NoteSigner::from_skey(skey.trim()).unwrap();
    let empty = |root| {
        SignedCheckpoint::sign(
            Checkpoint {
                origin: ORIGIN.into(),
                size: 0,
                root,
                extensions: vec![],
            },
            &signer,
        )
        .unwrap()
        .note
        .into_bytes()
    };
    let with_since = |since: Vec<u8>| AuditOptions {
        since: Some(since),
        ..opts(&l)
    };
    let r = verify_lines(
        &f,
        &l,
        &lines,
        &note,
        with_since(empty(merkle::empty_root())),
    )
    .expect("the empty prefix is consistent");
    assert_eq!(r.consistent_with, Some(0));
    let (seq, code, msg) =
        verify_lines(&f, &l, &lines, &note, with_since(empty([7; 32]))).unwrap_err();
    assert_eq!((seq, code), (0, Code::Inconsistent), "{msg}");
}
