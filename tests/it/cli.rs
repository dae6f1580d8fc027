//! The command line refuses bad input before it writes anything: `init`
//! leaves no root key behind when it fails and never puts it inside the data
//! directory, `export` never replaces a file or leaves half an export, and
//! `append` bounds what it reads.

use crate::support::*;
use std::path::Path;

fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn init(data: &Path, origin: &str, key: &Path) -> std::process::Output {
    run(&[
        "init",
        "--data",
        path_str(data),
        "--origin",
        origin,
        "--root-key-out",
        path_str(key),
    ])
}

#[test]
fn a_refused_init_leaves_no_root_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("root.key");
    let pubkey = dir.path().join("root.pub");

    // A bad origin.
    let out = init(&dir.path().join("d1"), "bad origin", &key);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(!key.exists() && !pubkey.exists(), "{}", text(&out));

    // A data directory that is not empty.
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("x"), b"x").unwrap();
    let out = init(&full, "test.example/a", &key);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(!key.exists() && !pubkey.exists(), "{}", text(&out));

    // A key file named *.pub would be overwritten by its public key.
    let out = init(
        &dir.path().join("d2"),
        "test.example/a",
        &dir.path().join("k.pub"),
    );
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(
        text(&out).contains("must not be named *.pub"),
        "{}",
        text(&out)
    );
    assert!(!dir.path().join("d2").exists());

    // An existing public key file is not replaced, and no key is written.
    std::fs::write(&pubkey, b"someone else's\n").unwrap();
    let out = init(&dir.path().join("d3"), "test.example/a", &key);
    assert_eq!(code(&out), 2, "{}", text(&out));
    assert!(!key.exists(), "{}", text(&out));
    assert_eq!(std::fs::read(&pubkey).unwrap(), b"someone else's\n");
    std::fs::remove_file(&pubkey).unwrap();

    // Then a good init writes both.
    let out = init(&dir.path().join("d4"), "test.example/a", &key);
    assert_eq!(code(&out), 0, "{}", text(&out));
    assert!(key.exists() && pubkey.exists());
}

#[test]
fn the_root_key_is_never_written_inside_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // Through a symlink to the data directory, and through `..`.
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    for key in [
        link.join("root.key"),
        data.join("sub").join("..").join("root.key"),
    ] {
        let out = init(&data, "test.example/a", &key);
        assert_eq!(code(&out), 2, "{}: {}", key.display(), text(&out));
        assert!(
            text(&out).contains("outside the data directory"),
            "{}: {}",
            key.display(),
            text(&out)
        );
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);
    }
}

#[test]
fn export_never_replaces_a_file_or_leaves_half_an_export() {
    let (f, l) = Fixture::new();
    l.submit(&f.sign(&f.registrar, f.body("e1"))).unwrap();
    let size = l.head().size;
    drop(l);
    let data = f.data();
    let out = f.dir.path().join("export.ndjson");
    let cp = f.dir.path().join("export.ndjson.checkpoint");
    let export = |extra: &[&str]| {
        let mut args = vec!["export", "--data", path_str(&data), "--out", path_str(&out)];
        args.extend_from_slice(extra);
        run(&args)
    };
    // A size with no checkpoint: refused, nothing written.
    let r = export(&["--size", &(size + 5).to_string()]);
    assert_eq!(code(&r), 2, "{}", text(&r));
    let entries = || {
        let mut v: Vec<_> = std::fs::read_dir(f.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("export"))
            .collect();
        v.sort();
        v
    };
    assert!(entries().is_empty(), "{:?}", entries());
    // A good export: both files, nothing else.
    let r = export(&[]);
    assert_eq!(code(&r), 0, "{}", text(&r));
    assert_eq!(entries(), ["export.ndjson", "export.ndjson.checkpoint"]);
    let lines = std::fs::read(&out).unwrap();
    assert_eq!(lines.iter().filter(|&&b| b == b'\n').count() as u64, size);
    // Again: the existing export is not replaced.
    std::fs::write(&out, b"kept\n").unwrap();
    let r = export(&[]);
    assert_eq!(code(&r), 2, "{}", text(&r));
    assert!(text(&r).contains("exists"), "{}", text(&r));
    assert_eq!(std::fs::read(&out).unwrap(), b"kept\n");
    // Only the checkpoint beside it exists: not replaced either.
    std::fs::remove_file(&out).unwrap();
    let kept_cp = std::fs::read(&cp).unwrap();
    let r = export(&[]);
    assert_eq!(code(&r), 2, "{}", text(&r));
    assert_eq!(std::fs::read(&cp).unwrap(), kept_cp);
    assert_eq!(entries(), ["export.ndjson.checkpoint"]);
}

#[test]
fn append_stdin_numbers_lines_and_bounds_them() {
    use std::io::Write;
    let (f, l) = Fixture::new();
    let good1 = f.sign(&f.registrar, f.body("in1"));
    let good2 = f.sign(&f.registrar, f.body("in2"));
    drop(l);
    let mut input = Vec::new();
    input.extend_from_slice(&good1);
    input.extend_from_slice(b"\r\n\n");
    input.extend(std::iter::repeat_n(b'x', 200_000));
    input.extend_from_slice(b"\n");
    input.extend_from_slice(&good2);
    let mut child = std::process::Command::new(ledger_bin())
        .args(["append", "--data", path_str(&f.data()), "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 1, "{}", text(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let receipts = lines.iter().filter(|v| v.get("seq").is_some()).count();
    assert_eq!(
        receipts, 2,
        "the CRLF line and the last line are appended: {lines:?}"
    );
    let refused: Vec<_> = lines.iter().filter(|v| v.get("error").is_some()).collect();
    assert_eq!(refused.len(), 1, "{lines:?}");
    // Line 3 of the input (after a CRLF line and a blank one).
    assert_eq!(refused[0]["line"], 3, "{lines:?}");
    assert_eq!(refused[0]["error"]["code"], "record_too_large", "{lines:?}");

    // --stdin with a statement file is a usage error.
    let r = run(&["append", "--data", path_str(&f.data()), "--stdin", "x.json"]);
    assert_eq!(code(&r), 2, "{}", text(&r));
}

#[test]
fn append_refuses_a_statement_file_larger_than_a_record_could_be() {
    let (f, l) = Fixture::new();
    drop(l);
    let big = f.dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 2 << 20]).unwrap();
    let r = run(&["append", "--data", path_str(&f.data()), path_str(&big)]);
    assert_eq!(code(&r), 2, "{}", text(&r));
    assert!(text(&r).contains("larger than"), "{}", text(&r));
}
