//! Crash safety: `ledger append --stdin` killed with SIGKILL mid-stream, again
//! and again. Every receipt it printed must survive with the same seq and leaf
//! hash, and the ledger must verify.

use crate::support::*;
use events::codec;
use events::merkle;
use events::vocab::*;
use ledger::audit::{self, AuditOptions};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn sigkill_during_concurrent_appends_loses_no_acknowledged_record() {
    let (f, l) = Fixture::new();
    drop(l);
    let mut receipts: Vec<(u64, String, String)> = Vec::new();
    let rounds = 20;
    for round in 0..rounds {
        let lines: Vec<Vec<u8>> = (0..4000)
            .map(|i| {
                f.sign(
                    &f.registrar,
                    Event::BodyRegistered(BodyRegistered {
                        body: id(&format!("r{round}-b{i}")),
                        name: text("某县政府"),
                        kind: BodyKind::CountyGovernment,
                        city: None,
                        parent: None,
                    }),
                )
            })
            .collect();
        let mut child = Command::new(ledger_bin())
            .args([
                "append",
                "--data",
                path_str(&f.data()),
                "--stdin",
                "--batch-max",
                "64",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let feeder = std::thread::spawn(move || {
            for line in lines {
                if stdin.write_all(&line).is_err() || stdin.write_all(b"\n").is_err() {
                    break;
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (first_tx, first_rx) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                if got.is_empty() {
                    let _ = first_tx.send(());
                }
                if let Some(seq) = v.get("seq").and_then(|s| s.as_u64()) {
                    got.push((
                        seq,
                        v["leaf_hash"].as_str().unwrap().to_string(),
                        v["id"].as_str().unwrap().to_string(),
                    ));
                }
            }
            got
        });
        // Kill at a different moment each round, while appends are in flight:
        // after the first receipt (however slow the machine), plus 0 to 300 ms.
        first_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("no receipt within 60 s");
        std::thread::sleep(Duration::from_millis((round as u64 * 53) % 300));
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        let _ = feeder.join();
        let got = reader.join().unwrap();
        receipts.extend(got);

        // Restart: every printed receipt is there, same seq, same leaf hash, same id.
        let l = f.open();
        for (seq, leaf_hash, id) in &receipts {
            let leaf = l
                .read_leaf(*seq)
                .unwrap_or_else(|e| panic!("round {round}: acknowledged seq {seq} lost: {e}"));
            assert_eq!(
                &codec::hex(&merkle::leaf_hash(&leaf)),
                leaf_hash,
                "round {round}: seq {seq} changed"
            );
            assert_eq!(
                l.seq_of(id).unwrap(),
                Some(*seq),
                "round {round}: id {id} not indexed at its seq"
            );
        }
        drop(l);
        let report = audit::verify_data_dir(&f.data(), AuditOptions::default())
            .unwrap_or_else(|e| panic!("round {round}: verify failed: {e}"));
        assert!(report.records >= receipts.len() as u64);
    }
    assert!(
        receipts.len() > 100,
        "the kills came too early to test anything: only {} receipts",
        receipts.len()
    );
}
