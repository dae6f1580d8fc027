//! Every acknowledgement is preceded by fdatasync: `ledger append --stdin` runs
//! under strace, and at each receipt written to stdout no write to the log is
//! left unsynced. scripts/test installs strace; without it this test fails.

use crate::support::*;
use events::vocab::*;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn every_acknowledged_batch_is_preceded_by_fdatasync() {
    let (f, l) = Fixture::new();
    drop(l);
    let mut input = Vec::new();
    for i in 0..600 {
        input.extend_from_slice(&f.sign(
            &f.registrar,
            Event::BodyRegistered(BodyRegistered {
                body: id(&format!("s{i}")),
                name: text("某局"),
                kind: BodyKind::Department,
                city: None,
                parent: None,
            }),
        ));
        input.push(b'\n');
    }
    let trace = f.dir.path().join("trace.txt");
    let mut child = Command::new("strace")
        .args([
            "-f",
            "-e",
            "trace=openat,write,writev,pwrite64,fdatasync,fsync,close",
            "-s",
            "300",
            "-o",
            path_str(&trace),
            ledger_bin(),
            "append",
            "--data",
            path_str(&f.data()),
            "--stdin",
            "--batch-max",
            "16",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("strace must be installed (scripts/test installs it)");
    // Feed stdin from another thread while stdout is drained, so neither pipe fills.
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success());
    let receipts = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(receipts, 600);

    // Batches are written and synced in order, and each has exactly one
    // checkpoint; so the receipt whose checkpoint is the k-th distinct one may be
    // printed only after the k-th fdatasync of the log has returned.
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut log_fds: HashSet<String> = HashSet::new();
    let mut pending: HashMap<String, String> = HashMap::new();
    let mut pending_opens: HashSet<String> = HashSet::new();
    let mut sizes_seen: Vec<u64> = Vec::new();
    let (mut acks, mut syncs, mut log_writes) = (0usize, 0usize, 0usize);
    // Whether frames were written to the log since its last sync: only such
    // a sync counts as a batch's (the writer also zero-fills space ahead of
    // the log and syncs that, before any frame goes there).
    let mut frames_written = false;
    for line in text.lines() {
        let (pid, call) = line
            .split_once(' ')
            .map_or(("", line), |(p, rest)| (p, rest.trim_start()));
        let fd = call
            .split_once('(')
            .and_then(|(_, a)| a.split([',', ')', ' ']).next())
            .unwrap_or("")
            .to_string();
        let result = call.rsplit_once("= ").map_or("", |(_, r)| r.trim());
        if call.starts_with("openat(") && call.contains(".seg\"") {
            if call.contains("<unfinished") {
                // Another thread's call came between: the fd is on the
                // "resumed" line.
                pending_opens.insert(pid.to_string());
            } else {
                log_fds.insert(result.split_whitespace().next().unwrap_or("").to_string());
            }
        } else if call.starts_with("<... openat resumed>") {
            if pending_opens.remove(pid) {
                log_fds.insert(result.split_whitespace().next().unwrap_or("").to_string());
            }
        } else if call.starts_with("close(") {
            log_fds.remove(&fd);
        } else if (call.starts_with("write(") || call.starts_with("pwrite64("))
            && log_fds.contains(&fd)
        {
            if !call.contains("(\"\\0\\0\\0\\0") && !call.contains(", \"\\0\\0\\0\\0") {
                log_writes += 1;
                frames_written = true;
            }
        } else if call.starts_with("fdatasync(") || call.starts_with("fsync(") {
            if call.contains("<unfinished") {
                pending.insert(pid.to_string(), fd);
            } else if log_fds.contains(&fd) && result == "0" && frames_written {
                syncs += 1;
                frames_written = false;
            }
        } else if call.starts_with("<... fdatasync resumed>")
            || call.starts_with("<... fsync resumed>")
        {
            if let Some(fd) = pending.remove(pid) {
                if log_fds.contains(&fd) && result == "0" && frames_written {
                    syncs += 1;
                    frames_written = false;
                }
            }
        } else if call.starts_with("write(1,") {
            // The receipt names its checkpoint: "...\"checkpoint\":\"ORIGIN\\nSIZE\\n...".
            let after = call
                .split_once(ORIGIN)
                .map(|(_, a)| a)
                .expect("receipt names its checkpoint");
            let size: u64 = after
                .trim_start_matches("\\\\n")
                .split("\\\\n")
                .next()
                .unwrap()
                .parse()
                .unwrap();
            if sizes_seen.last() != Some(&size) {
                sizes_seen.push(size);
            }
            assert!(syncs >= sizes_seen.len(), "receipt for checkpoint {size} printed after only {syncs} log syncs (batch {}): {line}", sizes_seen.len());

            acks += 1;
        }
    }
    assert!(
        acks > 0 && syncs > 0 && log_writes > 0,
        "trace parsed nothing: acks {acks}, syncs {syncs}, log writes {log_writes}"
    );
}

/// `ledger init` makes the new data directory's own entry durable: it
/// fsyncs the directory that holds it, as well as the directory itself and
/// its `log/`, before it reports success.
#[test]
fn init_syncs_the_directory_that_holds_the_new_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("ledgers");
    let data = parent.join("new");
    let trace = dir.path().join("trace.txt");
    let out = Command::new("strace")
        .args([
            "-f",
            "-e",
            "trace=openat,fsync",
            "-o",
            path_str(&trace),
            ledger_bin(),
            "init",
            "--data",
            path_str(&data),
            "--origin",
            "test.example/init",
            "--root-key-out",
            path_str(&dir.path().join("root.key")),
        ])
        .output()
        .expect("strace must be installed (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    let synced = |path: &std::path::Path| {
        let open = format!("openat(AT_FDCWD, \"{}\", ", path.display());
        let mut fds: HashSet<String> = HashSet::new();
        text.lines().any(|line| {
            let call = line.split_once(' ').map_or(line, |(_, c)| c.trim_start());
            if call.starts_with(&open) {
                if let Some(fd) = call.rsplit("= ").next() {
                    fds.insert(fd.trim().to_string());
                }
                false
            } else {
                call.strip_prefix("fsync(")
                    .and_then(|r| r.split(')').next())
                    .is_some_and(|fd| fds.contains(fd))
            }
        })
    };
    for p in [parent.clone(), data.clone(), data.join("log")] {
        assert!(synced(&p), "{} was not fsynced:\n{text}", p.display());
    }
}
