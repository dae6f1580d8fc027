//! `ledger verify-receipt`: an enterprise checks that the record its receipt
//! names is still included in a newer checkpoint, from the data directory or
//! from proof files, and every lie in the receipt or fork of the log fails
//! with exit code 1.

use crate::support::*;
use events::checkpoint::{Checkpoint, SignedCheckpoint};
use events::note::NoteSigner;
use std::path::{Path, PathBuf};

struct Case {
    f: Fixture,
    receipt: serde_json::Value,
    newer: PathBuf,
    vkey: String,
}

/// A receipt from early in a ledger, and the ledger's latest checkpoint.
fn case() -> Case {
    let (f, l) = Fixture::new();
    let r = l.submit(&f.sign(&f.registrar, f.body("r1"))).unwrap();
    for i in 0..5 {
        l.submit(&f.sign(&f.registrar, f.body(&format!("r{}", i + 2))))
            .unwrap();
    }
    let newer = f.dir.path().join("newer.checkpoint");
    std::fs::write(&newer, l.head().checkpoint).unwrap();
    let vkey = l.checkpoint_verifier().to_vkey();
    drop(l);
    Case {
        f,
        receipt: r.to_json(),
        newer,
        vkey,
    }
}

impl Case {
    fn run(&self, receipt: &serde_json::Value, newer: &Path, extra: &[&str]) -> (i32, String) {
        let p = self.f.dir.path().join(format!("receipt-{}.json", rand()));
        std::fs::write(&p, serde_json::to_vec(receipt).unwrap()).unwrap();
        let mut args = vec![
            "verify-receipt",
            path_str(&p),
            "--checkpoint",
            path_str(newer),
            "--key",
            &self.vkey,
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    }

    fn with_data(&self, receipt: &serde_json::Value, newer: &Path) -> (i32, String) {
        self.run(receipt, newer, &["--data", path_str(&self.f.data())])
    }
}

fn rand() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn a_genuine_receipt_is_included_in_a_newer_checkpoint() {
    let c = case();
    let seq = c.receipt["seq"].as_u64().unwrap();
    let id = c.receipt["id"].as_str().unwrap().to_string();
    let (code, out) = c.with_data(&c.receipt, &c.newer);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("ok: seq {seq}")), "{out}");
    assert!(
        out.contains(&format!("is statement {id:?}, as the receipt says")),
        "{out}"
    );

    // From proof files, as an enterprise without the data directory has them.
    let data = c.f.data();
    let cp = ledger::log::checkpoint_of_note(c.receipt["checkpoint"].as_str().unwrap().as_bytes())
        .unwrap();
    let newer = ledger::log::checkpoint_of_note(&std::fs::read(&c.newer).unwrap()).unwrap();
    let inclusion = |size: u64| {
        run_json(&[
            "proof",
            "inclusion",
            "--data",
            path_str(&data),
            "--seq",
            &seq.to_string(),
            "--size",
            &size.to_string(),
        ])
    };
    let inc = inclusion(newer.size);
    let con = run_json(&[
        "proof",
        "consistency",
        "--data",
        path_str(&data),
        "--old",
        &cp.size.to_string(),
        "--new",
        &newer.size.to_string(),
    ]);
    let inc_p = c.f.dir.path().join("inc.json");
    let con_p = c.f.dir.path().join("con.json");
    std::fs::write(&inc_p, serde_json::to_vec(&inc).unwrap()).unwrap();
    std::fs::write(&con_p, serde_json::to_vec(&con).unwrap()).unwrap();
    let files = [
        "--inclusion",
        path_str(&inc_p),
        "--consistency",
        path_str(&con_p),
    ];
    let (code, out) = c.run(&c.receipt, &c.newer, &files);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("not checked without the record"), "{out}");

    // Against its own checkpoint: no consistency proof is needed.
    let own = c.f.dir.path().join("own.checkpoint");
    std::fs::write(&own, c.receipt["checkpoint"].as_str().unwrap()).unwrap();
    let own_inc = inclusion(cp.size);
    std::fs::write(&inc_p, serde_json::to_vec(&own_inc).unwrap()).unwrap();
    let (code, out) = c.run(&c.receipt, &own, &["--inclusion", path_str(&inc_p)]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_receipt_that_lies_about_its_record_fails() {
    let c = case();
    for (field, value) in [
        ("id", serde_json::json!("forged-id")),
        ("leaf_hash", serde_json::json!("11".repeat(32))),
        ("chain_hash", serde_json::json!("22".repeat(32))),
    ] {
        let mut forged = c.receipt.clone();
        forged[field] = value;
        let (code, out) = c.with_data(&forged, &c.newer);
        assert_eq!(code, 1, "{field}: {out}");
        assert!(out.contains("FAILED"), "{field}: {out}");
    }
    // Another seq with this record's hashes.
    let mut moved = c.receipt.clone();
    moved["seq"] = serde_json::json!(c.receipt["seq"].as_u64().unwrap() + 1);
    let (code, out) = c.with_data(&moved, &c.newer);
    assert_eq!(code, 1, "{out}");
}

/// The operator holds the checkpoint key and signs a second checkpoint of
/// the same size with another root: the receipt's checkpoint and that one
/// cannot both be the log's.
#[test]
fn a_forked_checkpoint_fails() {
    let c = case();
    let skey = std::fs::read_to_string(c.f.data().join("checkpoint.key")).unwrap();
    let signer = NoteSigner::from_skey(skey.trim()).unwrap();
    let old = ledger::log::checkpoint_of_note(c.receipt["checkpoint"].as_str().unwrap().as_bytes())
        .unwrap();
    let fork = SignedCheckpoint::sign(
        Checkpoint {
            origin: old.origin.clone(),
            size: old.size,
            root: [7; 32],
            extensions: vec![],
        },
        &signer,
    )
    .unwrap();
    let p = c.f.dir.path().join("fork.checkpoint");
    std::fs::write(&p, fork.note.as_bytes()).unwrap();
    let (code, out) = c.with_data(&c.receipt, &p);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED"), "{out}");
}
