//! The append rules: each refusal has its stable code and appends nothing.

use crate::support::*;
use events::codes::Code;
use events::keys::{Party, Role};
use events::merkle;
use events::statement::Statement;
use events::vocab::*;

fn refused(l: &ledger::ledger::Ledger, bytes: &[u8], code: Code) {
    let before = l.head().size;
    match l.submit(bytes) {
        Ok(r) => panic!("expected {code}, got receipt at seq {}", r.seq),
        Err(e) => assert_eq!(e.code, code, "{e}"),
    }
    assert_eq!(
        l.head().size,
        before,
        "a refused statement must append nothing"
    );
}

#[test]
fn receipt_is_durable_and_retry_returns_the_same_receipt() {
    let (f, l) = Fixture::new();
    let ent = key(10);
    let g = f.grant(
        &f.registrar,
        &ent,
        Party::Enterprise("ent-1".into()),
        vec![Role::Enterprise],
    );
    l.submit(&g).unwrap();
    let stmt = f.sign(&ent, f.complaint(&ent, "case-1"));
    let r1 = l.submit(&stmt).unwrap();
    let size = l.head().size;
    assert_eq!(r1.seq + 1, size);
    // Retry with the same id and content: same receipt, nothing appended.
    let r2 = l.submit(&stmt).unwrap();
    assert_eq!(r1, r2);
    assert_eq!(l.head().size, size);
    // The receipt's leaf hash is the hash of the stored leaf, and its checkpoint covers it.
    let leaf = l.read_leaf(r1.seq).unwrap();
    assert_eq!(merkle::leaf_hash(&leaf), r1.leaf_hash);
    let proof = l.inclusion_proof(r1.seq, size).unwrap();
    let cp = ledger::log::checkpoint_of_note(r1.checkpoint.as_bytes()).unwrap();
    assert_eq!(cp.size, size);
    merkle::verify_inclusion(r1.seq, size, &r1.leaf_hash, &proof, &cp.root).unwrap();
    // After reopening, the retry still returns the original receipt.
    drop(l);
    let l = f.open();
    assert_eq!(l.submit(&stmt).unwrap(), r1);
}

#[test]
fn same_id_with_different_content_is_refused() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    let mut s = f.statement(&ent, f.complaint(&ent, "case-1"));
    s.id = "fixed-id".into();
    l.submit(&s.clone().sign(&ent).to_envelope(None)).unwrap();
    s.event = f.complaint(&ent, "case-2");
    refused(&l, &s.sign(&ent).to_envelope(None), Code::IdConflict);
}

#[test]
fn bad_signature_is_refused() {
    let (f, l) = Fixture::new();
    let mut signed = f.statement(&f.registrar, f.body("x")).sign(&f.registrar);
    signed.signature[5] ^= 1;
    refused(&l, &signed.to_envelope(None), Code::BadSignature);
    // Signed by another key than the actor named.
    let s = f.statement(&f.registrar, f.body("y"));
    refused(&l, &s.sign(&key(99)).to_envelope(None), Code::BadSignature);
}

#[test]
fn wrong_origin_is_refused() {
    let (f, l) = Fixture::new();
    let mut s = f.statement(&f.registrar, f.body("x"));
    s.origin = "other.example/ledger".into();
    refused(
        &l,
        &s.sign(&f.registrar).to_envelope(None),
        Code::WrongOrigin,
    );
}

#[test]
fn unknown_and_revoked_keys_are_refused() {
    let (f, l) = Fixture::new();
    let stranger = key(50);
    refused(&l, &f.sign(&stranger, f.body("x")), Code::UnknownKey);
    let clerk = key(11);
    f.granted(&l, &clerk, Party::Body("centre".into()), vec![Role::Intake]);
    f.enterprise_key(&l);
    l.submit(&f.sign(&clerk, f.complaint(&clerk, "case-ok")))
        .unwrap();
    l.submit(&f.sign(
        &f.registrar,
        Event::KeyRevoked(KeyRevoked {
            key: events::keys::KeyId::of(&clerk.verifying_key()),
            reason: text("left office"),
        }),
    ))
    .unwrap();
    refused(
        &l,
        &f.sign(&clerk, f.complaint(&clerk, "case-late")),
        Code::RevokedKey,
    );
}

/// A statement signed by a key that a grant earlier in the same stream
/// would add gets the answer it would get on its own: when the grant is
/// refused, a bad signature under that key is `unknown_key`, as `submit`
/// says, not `bad_signature` from the check against keys learned ahead.
#[test]
fn a_key_granted_earlier_in_a_stream_does_not_change_the_refusal_code() {
    let (f, l) = Fixture::new();
    let k = key(31);
    // Refused: no such body.
    let grant = f.grant(
        &f.registrar,
        &k,
        Party::Body("nowhere".into()),
        vec![Role::Intake],
    );
    let mut signed = f.statement(&k, f.body("x")).sign(&k);
    signed.signature[3] ^= 1;
    let bad = signed.to_envelope(None);
    refused(&l, &bad, Code::UnknownKey);
    let mut codes = Vec::new();
    l.append_stream(vec![grant, bad].into_iter(), 64, |i, _, r| {
        codes.push((i, r.err().map(|e| e.code)));
    });
    codes.sort_by_key(|c| c.0);
    assert_eq!(codes.len(), 2);
    assert!(
        codes[0].1.is_some(),
        "the grant to an unknown body was appended"
    );
    assert_eq!(codes[1].1, Some(Code::UnknownKey));
}

#[test]
fn key_not_authorised_or_not_holder_is_refused() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    // An enterprise key may not register bodies.
    refused(&l, &f.sign(&ent, f.body("x")), Code::KeyNotAuthorised);
    // Acting for a body the key is not held by.
    let mut s = f.statement(&ent, f.complaint(&ent, "case-9"));
    s.on_behalf_of = Some(Party::Body("changsha".into()));
    refused(&l, &s.sign(&ent).to_envelope(None), Code::NotHolder);
    // Only root grants the registrar role.
    refused(
        &l,
        &f.grant(
            &f.registrar,
            &key(12),
            Party::Body("centre".into()),
            vec![Role::Registrar],
        ),
        Code::KeyNotAuthorised,
    );
}

#[test]
fn oversized_record_is_refused() {
    let (f, l) = Fixture::new();
    let big = "长".repeat(1300); // 3,900 bytes per text field, under the field limit
    let s = f.statement(
        &f.registrar,
        Event::Correction(Correction {
            target_seq: 1,
            fields: (0..20).map(|i| id(&format!("f{i}"))).collect(),
            values: (0..20)
                .map(|i| (format!("f{i}"), serde_json::Value::String(big.clone())))
                .collect(),
            reason: text("large"),
        }),
    );
    refused(
        &l,
        &s.sign(&f.registrar).to_envelope(None),
        Code::RecordTooLarge,
    );
}

#[test]
fn issued_in_the_future_is_refused() {
    let (f, l) = Fixture::new();
    let mut s = f.statement(&f.registrar, f.body("x"));
    s.issued_at =
        events::time::Timestamp::from_unix_millis(s.issued_at.unix_millis() + 3_600_000).unwrap();
    refused(
        &l,
        &s.sign(&f.registrar).to_envelope(None),
        Code::IssuedInFuture,
    );
}

#[test]
fn caller_supplied_recorded_at_needs_a_simulated_clock() {
    let (f, l) = Fixture::new();
    let s = f.statement(&f.registrar, f.body("x"));
    let t = s.issued_at;
    refused(
        &l,
        &s.sign(&f.registrar).to_envelope(Some(t)),
        Code::RecordedAtRefused,
    );
}

#[test]
fn malformed_input_gets_specific_codes() {
    let (f, l) = Fixture::new();
    refused(&l, b"{not json", Code::MalformedJson);
    let good = f.sign(&f.registrar, f.body("x"));
    // Whitespace makes it non-canonical.
    let mut spaced = b" ".to_vec();
    spaced.extend_from_slice(&good);
    refused(&l, &spaced, Code::NotCanonical);
    // A float anywhere in a statement.
    let text = String::from_utf8(good.clone()).unwrap();
    let with_float = text.replace("\"format\":1", "\"format\":1.5");
    refused(&l, with_float.as_bytes(), Code::NumberNotAllowed);
    let big_int = text.replace("\"format\":1", "\"format\":9007199254740994");
    refused(&l, big_int.as_bytes(), Code::NumberNotAllowed);
    let unknown = text.replace("\"type\":\"body_registered\"", "\"type\":\"body_vanished\"");
    refused(&l, unknown.as_bytes(), Code::UnknownEventType);
    let schema = text.replace("\"schema\":1", "\"schema\":7");
    refused(&l, schema.as_bytes(), Code::UnknownSchemaVersion);
    let stmt = Statement::parse(
        good.split_at(good.iter().position(|&b| b == b'{').unwrap() + 1)
            .1,
    )
    .err();
    assert!(stmt.is_some(), "an envelope is not a statement");
}

/// A statement spelled as a JSON array of its members' values, correctly
/// signed by its actor: refused as malformed, nothing appended (a reader
/// that took a struct from an array by position once accepted it).
#[test]
fn a_signed_statement_spelled_as_an_array_is_refused() {
    use ed25519_dalek::Signer;
    use events::jcs::{self, Value};
    let (f, l) = Fixture::new();
    let mut s = f.statement(&f.registrar, f.body("x"));
    // Every member present, as serde's sequence form needs.
    s.on_behalf_of = Some(Party::Body("x".into()));
    let Value::Object(members) = jcs::parse(&s.canonical_bytes()).unwrap() else {
        panic!("a statement is an object");
    };
    let array = jcs::to_canonical(&Value::Array(members.into_iter().map(|(_, v)| v).collect()));
    let signature = f
        .registrar
        .sign(&events::statement::signing_message(&array))
        .to_bytes();
    let signed = events::statement::SignedStatement {
        statement: s,
        bytes: array,
        signature,
    };
    refused(&l, &signed.to_envelope(None), Code::MalformedStatement);
}

#[test]
fn concurrent_submitters_get_gap_free_seqs() {
    let (f, l) = Fixture::new();
    let start = l.head().size;
    let items: Vec<Vec<u8>> = (0..200)
        .map(|i| {
            f.sign(
                &f.registrar,
                Event::BodyRegistered(BodyRegistered {
                    body: id(&format!("b{i}")),
                    name: text("b"),
                    kind: BodyKind::Other,
                    city: None,
                    parent: None,
                }),
            )
        })
        .collect();
    let seqs: Vec<u64> = std::thread::scope(|s| {
        let hs: Vec<_> = items
            .chunks(50)
            .map(|c| {
                let l = &l;
                s.spawn(move || {
                    c.iter()
                        .map(|b| l.submit(b).unwrap().seq)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut sorted = seqs.clone();
    sorted.sort();
    assert_eq!(sorted, (start..start + 200).collect::<Vec<_>>());
}

#[test]
fn a_simulated_clock_takes_recorded_at_from_the_importer_and_never_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = key(1);
    let t0 = events::time::OffsetTime::parse("2006-01-04T09:00:00+08:00").unwrap();
    ledger::ledger::init(
        &dir.path().join("d"),
        ORIGIN,
        &root,
        Clock::Simulated,
        Some(t0),
        "import",
    )
    .unwrap();
    let l = ledger::ledger::Ledger::open(&dir.path().join("d"), Default::default()).unwrap();
    let f = Fixture {
        dir,
        root: root.clone(),
        registrar: key(2),
        counter: std::cell::Cell::new(0),
    };
    let at = |s: &str| events::time::Timestamp::parse(s).unwrap();
    let mut s = f.statement(&root, f.body("a"));
    s.issued_at = at("2006-02-24T01:00:00.000Z");
    let signed = s.sign(&root);
    refused(&l, &signed.to_envelope(None), Code::RecordedAtRefused);
    let r = l
        .submit(&signed.to_envelope(Some(at("2006-02-24T01:00:00.000Z"))))
        .unwrap();
    let rec = events::record::Record::parse(&l.read_leaf(r.seq).unwrap()).unwrap();
    assert_eq!(rec.recorded_at, at("2006-02-24T01:00:00.000Z"));
    // The head a timeline reads agrees with the full parse.
    let head = events::record::Record::decode_head(&l.read_leaf(r.seq).unwrap()).unwrap();
    let st = &rec.signed.statement;
    assert_eq!(
        (
            head.seq,
            head.recorded_at,
            &head.id,
            head.actor,
            head.occurred_at,
            head.kind
        ),
        (
            rec.seq,
            rec.recorded_at,
            &st.id,
            st.actor,
            st.occurred_at,
            st.event.kind()
        )
    );
    let mut damaged = l.read_leaf(r.seq).unwrap();
    damaged.truncate(damaged.len() - 3);
    assert!(events::record::Record::decode_head(&damaged).is_err());
    let mut s = f.statement(&root, f.body("b"));
    s.issued_at = at("2006-02-20T01:00:00.000Z");
    refused(
        &l,
        &s.sign(&root)
            .to_envelope(Some(at("2006-02-20T01:00:00.000Z"))),
        Code::RecordedAtRefused,
    );
    // issued_at more than 300 s after the recorded_at it asks for is refused too.
    let mut s = f.statement(&root, f.body("c"));
    s.issued_at = at("2006-03-01T01:00:00.000Z");
    refused(
        &l,
        &s.sign(&root)
            .to_envelope(Some(at("2006-02-25T01:00:00.000Z"))),
        Code::IssuedInFuture,
    );
}

#[test]
fn a_second_process_is_told_which_pid_holds_the_data_directory() {
    let (f, l) = Fixture::new();
    let out = run(&["append", "--data", path_str(&f.data()), "--stdin"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("in use by pid {}", std::process::id())),
        "{err}"
    );
    drop(l);
}

/// Records appended a few at a time reach the index while the ledger stays
/// open: the sequencer hands them to the indexer once its queue is quiet,
/// not only after 1024 of them or at close.
#[test]
fn a_trickle_of_appends_is_indexed_without_a_close() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    let r = l
        .submit(&f.sign(&ent, f.complaint(&ent, "case-trickle")))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while l.seq_of(&r.id).unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "seq {} not indexed 10 s after its receipt",
            r.seq
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(l.seq_of(&r.id).unwrap(), Some(r.seq));
    assert_eq!(l.seqs_about("case", "case-trickle").unwrap(), vec![r.seq]);
}

#[test]
fn a_lost_index_is_rebuilt_from_the_log_with_keys_and_ids() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    let stmt = f.sign(&ent, f.complaint(&ent, "case-1"));
    let r1 = l.submit(&stmt).unwrap();
    drop(l);
    std::fs::remove_dir_all(f.data().join("index")).unwrap();
    std::fs::write(f.data().join("merkle.hashes"), b"garbage").unwrap();
    let l = f.open();
    assert!(
        l.notices.iter().any(|n| n.contains("rewrote")),
        "{:?}",
        l.notices
    );
    // The retry still answers with the original receipt, and the enterprise key still works.
    assert_eq!(l.submit(&stmt).unwrap(), r1);
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-2")))
        .unwrap();
    let proof = l.inclusion_proof(r1.seq, l.head().size).unwrap();
    let cp = ledger::log::checkpoint_of_note(l.head().checkpoint.as_bytes()).unwrap();
    merkle::verify_inclusion(r1.seq, cp.size, &r1.leaf_hash, &proof, &cp.root).unwrap();
}

/// An id entry cut short (its seq right, its content hash gone) is damage:
/// the open re-indexes, and a retry gets its original receipt instead of
/// being taken for a new statement.
#[test]
fn a_damaged_id_entry_is_rebuilt_not_taken_for_a_new_id() {
    let (f, l) = Fixture::new();
    let stmt = f.sign(&f.registrar, f.body("dmg"));
    let r = l.submit(&stmt).unwrap();
    let size = l.head().size;
    l.close().unwrap();
    let key = [b"i:".as_slice(), r.id.as_bytes()].concat();
    {
        let db = open_index_when_free(&f.data());
        db.insert(&key, &r.seq.to_be_bytes()[..]).unwrap();
        db.flush().unwrap();
    }
    let l = f.open();
    assert!(
        l.notices
            .iter()
            .any(|n| n.contains(&format!("lacks the entries of seq {}", r.seq))),
        "{:?}",
        l.notices
    );
    assert_eq!(l.submit(&stmt).unwrap(), r);
    assert_eq!(l.head().size, size);
    assert_eq!(l.seq_of(&r.id).unwrap(), Some(r.seq));
}

/// What sled's prefix recovery should make impossible, simulated: the index
/// keeps `m:indexed` but loses the entries of a recent record. The ledger
/// must notice at open and re-index, or a retry of that record's statement
/// would not get its original receipt (without the check it is refused here
/// by a domain rule; a statement no rule ties to the first would be appended
/// a second time).
#[test]
fn an_index_that_lost_recent_entries_but_kept_its_mark_is_rebuilt() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    let stmt = f.sign(&ent, f.complaint(&ent, "case-lost"));
    let r1 = l.submit(&stmt).unwrap();
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-after")))
        .unwrap();
    let size = l.head().size;
    let id = events::statement::Envelope::parse(&stmt)
        .unwrap()
        .signed
        .statement
        .id;
    l.close().unwrap();
    {
        let db = open_index_when_free(&f.data());
        let key = [b"i:".as_slice(), id.as_bytes()].concat();
        assert!(db.remove(&key).unwrap().is_some(), "the id entry exists");
        assert!(db.get(b"m:indexed").unwrap().is_some());
        db.flush().unwrap();
    }
    let l = f.open();
    assert!(
        l.notices.iter().any(|n| n.contains(&format!(
            "the index claims to reflect {size} records but lacks the entries of seq {}",
            r1.seq
        ))),
        "{:?}",
        l.notices
    );
    // The retry answers with the original receipt; nothing is appended.
    assert_eq!(l.submit(&stmt).unwrap(), r1);
    assert_eq!(l.head().size, size);
}

/// A log restored from a backup beside a newer index: the index names seqs
/// the log does not hold. It is rebuilt at open, so a statement appended
/// after the backup is appended again, with a receipt of its own, instead
/// of being answered with whatever record now stands at its old seq.
#[test]
fn an_index_ahead_of_a_restored_log_is_rebuilt() {
    fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-before")))
        .unwrap();
    let size = l.head().size;
    l.close().unwrap();
    let backup = f.data().with_file_name("log-backup");
    copy_dir(&f.data().join("log"), &backup);
    let l = f.open();
    let later = f.sign(&ent, f.complaint(&ent, "case-after-backup"));
    let lost = l.submit(&later).unwrap();
    assert_eq!(lost.seq, size);
    l.close().unwrap();
    std::fs::remove_dir_all(f.data().join("log")).unwrap();
    copy_dir(&backup, &f.data().join("log"));
    let l = f.open();
    assert!(
        l.notices.iter().any(|n| n.contains(&format!(
            "the index reflects {} records but the log holds {size}",
            size + 1
        ))),
        "{:?}",
        l.notices
    );
    assert_eq!(l.head().size, size);
    // Another statement takes seq `size`; the lost one is then appended anew.
    let other = l
        .submit(&f.sign(&ent, f.complaint(&ent, "case-other")))
        .unwrap();
    assert_eq!(other.seq, size);
    let again = l.submit(&later).unwrap();
    assert_eq!(again.seq, size + 1);
    assert_eq!(again.id, lost.id);
    assert_ne!(again.leaf_hash, other.leaf_hash);
}

/// A reader in another process beside a writer (export, show, proof, the
/// CLI reads) sees only what the writer published as durable: a batch
/// written but not yet synced is left out, so no checkpoint it hands out
/// can be lost to a power failure. Simulated by setting the marker back to
/// the first batch; a writer's open publishes the whole log again.
#[test]
fn readers_beside_a_writer_see_only_the_durable_size() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    let first = l.head().size;
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-unsynced")))
        .unwrap();
    let full = l.head().size;
    assert!(full > first);
    // Published once the queue is quiet, while the writer runs.
    let t = std::time::Instant::now();
    while ledger::log::read_durable(&f.data().join("log")) != Some(full) {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "the durable size was not published while the writer ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    l.close().unwrap();
    let marker = f.data().join("log").join(ledger::log::DURABLE_FILE);
    assert_eq!(ledger::log::read_durable(&f.data().join("log")), Some(full));
    std::fs::write(&marker, first.to_le_bytes()).unwrap();

    let view = ledger::ledger::LogView::open(&f.data()).unwrap();
    assert_eq!(view.size(), first);
    assert!(view.checkpoint_at(full).unwrap().is_none());
    drop(view);
    let folded = ledger::reads::fold(&f.data(), Default::default()).unwrap();
    assert_eq!(folded.size, first);
    let out = f.data().with_file_name("export.ndjson");
    let r = run(&[
        "export",
        "--data",
        path_str(&f.data()),
        "--out",
        path_str(&out),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let lines = std::fs::read(&out).unwrap();
    assert_eq!(lines.iter().filter(|b| **b == b'\n').count() as u64, first);

    let l = f.open();
    assert_eq!(l.head().size, full);
    assert_eq!(ledger::log::read_durable(&f.data().join("log")), Some(full));
    drop(l);
    assert_eq!(
        ledger::ledger::LogView::open(&f.data()).unwrap().size(),
        full
    );
}

#[test]
fn the_log_is_written_into_pre_zeroed_space_that_readers_stop_at() {
    let (f, l) = Fixture::new();
    let r = l.submit(&f.sign(&f.registrar, f.body("z1"))).unwrap();
    let size = l.head().size;
    drop(l);
    let seg = f.data().join("log").join(ledger::log::segment_name(0));
    let bytes = std::fs::read(&seg).unwrap();
    // The batch went into zeroed space, which is still there after it.
    let zeros = bytes.iter().rev().take_while(|&&b| b == 0).count();
    assert!(
        zeros as u64 >= ledger::log::ZERO_AHEAD / 2,
        "{zeros} zero bytes after the log's end"
    );
    // Readers stop at the zeros: same records, nothing cut, verify passes.
    let l = f.open();
    assert_eq!(l.head().size, size);
    assert!(
        l.notices.iter().all(|n| !n.contains("cut")),
        "{:?}",
        l.notices
    );
    events::record::Record::parse(&l.read_leaf(r.seq).unwrap()).expect("the record reads back");
    // Appending again continues right after the last frame, not after the zeros.
    let r2 = l.submit(&f.sign(&f.registrar, f.body("z2"))).unwrap();
    assert_eq!(r2.seq, size);
    drop(l);
    ledger::audit::verify_data_dir(&f.data(), Default::default()).expect("verifies");
    // A stray byte in the zeroed space is not a frame: it is an unacknowledged
    // tail, cut on the next open, and the records before it stay.
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 100] = 0x5a;
    std::fs::write(&seg, &bytes).unwrap();
    let l = f.open();
    assert_eq!(l.head().size, size + 1);
    assert!(
        l.notices.iter().any(|n| n.contains("cut")),
        "{:?}",
        l.notices
    );
    let r3 = l.submit(&f.sign(&f.registrar, f.body("z3"))).unwrap();
    assert_eq!(r3.seq, size + 1);
    drop(l);
    ledger::audit::verify_data_dir(&f.data(), Default::default()).expect("verifies after the cut");
}

/// An open that refuses for any reason leaves the log as it found it,
/// an unacknowledged tail included: the tail is cut only by an open that
/// goes on to append.
#[test]
fn a_refused_open_does_not_cut_the_tail() {
    let (f, l) = Fixture::new();
    l.submit(&f.sign(&f.registrar, f.body("t1"))).unwrap();
    let size = l.head().size;
    drop(l);
    let seg = f.data().join("log").join(ledger::log::segment_name(0));
    let mut bytes = std::fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 100] = 0x5a;
    std::fs::write(&seg, &bytes).unwrap();
    // A system key that genesis does not name (the last check before the
    // writer opens): the open refuses.
    let ck = f.data().join("system.key");
    let kept = std::fs::read(&ck).unwrap();
    std::fs::remove_file(&ck).unwrap();
    ledger::keyfile::write_key(&ck, &key(77)).unwrap();
    let err = match ledger::ledger::Ledger::open(&f.data(), Default::default()) {
        Ok(_) => panic!("opened with a system key genesis does not name"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("system.key does not match"), "{err}");
    assert_eq!(
        std::fs::read(&seg).unwrap(),
        bytes,
        "a refused open changed the log"
    );
    // The right key back: the open cuts the tail, says so, and goes on.
    std::fs::remove_file(&ck).unwrap();
    std::fs::write(&ck, &kept).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ck, std::fs::Permissions::from_mode(0o600)).unwrap();
    let l = f.open();
    assert_eq!(l.head().size, size);
    assert!(
        l.notices.iter().any(|n| n.contains("cut")),
        "{:?}",
        l.notices
    );
}

/// Damage in a batch that the log's durable size says was synced (and so
/// acknowledged) is never taken for an unacknowledged tail: the open
/// refuses, naming the seq, and cuts nothing. Without the durable size, a
/// damaged checkpoint frame in the last batch (no intact one after it) would
/// have made its records look never acknowledged.
#[test]
fn damage_in_a_batch_known_durable_is_refused_not_cut() {
    let (f, l) = Fixture::new();
    let r = l.submit(&f.sign(&f.registrar, f.body("d1"))).unwrap();
    let size = l.head().size;
    let leaf = l.read_leaf(r.seq).unwrap();
    drop(l);
    let log_dir = f.data().join("log");
    assert_eq!(ledger::log::read_durable(&log_dir), Some(size));
    let seg = log_dir.join(ledger::log::segment_name(0));
    let clean = std::fs::read(&seg).unwrap();
    let find = |needle: &[u8]| {
        clean
            .windows(needle.len())
            .rposition(|w| w == needle)
            .expect("found in the segment")
    };
    // The last batch's checkpoint frame, then its record (an intact
    // checkpoint frame follows that one).
    for at in [find(r.checkpoint.as_bytes()) + 10, find(&leaf) + 40] {
        let mut bytes = clean.clone();
        bytes[at] ^= 0x20;
        std::fs::write(&seg, &bytes).unwrap();
        let err = f.open_refused("acknowledged records were cut as a tail");
        assert!(
            err.contains(&format!("the batch from seq {}", r.seq)),
            "{err}"
        );
        assert!(err.contains("durable"), "{err}");
        assert_eq!(
            std::fs::read(&seg).unwrap(),
            bytes,
            "a refused open changed the log"
        );
    }
}

/// Acknowledged records that are gone from the log without a trace of
/// damage (the segment cut back cleanly to an earlier batch, as a lost write
/// or a truncation leaves it) stop start-up naming the first missing seq:
/// the durable size the writer published says they were synced.
#[test]
fn acknowledged_records_missing_from_the_log_stop_start_up() {
    let (f, l) = Fixture::new();
    let first = l.submit(&f.sign(&f.registrar, f.body("m1"))).unwrap();
    let cut_at = l.head().size;
    l.submit(&f.sign(&f.registrar, f.body("m2"))).unwrap();
    let size = l.head().size;
    drop(l);
    let log_dir = f.data().join("log");
    assert_eq!(ledger::log::read_durable(&log_dir), Some(size));
    let seg = log_dir.join(ledger::log::segment_name(0));
    let clean = std::fs::read(&seg).unwrap();
    // Just after the checkpoint frame of the batch that ended at `cut_at`.
    let note = first.checkpoint.as_bytes();
    let end = clean
        .windows(note.len())
        .position(|w| w == note)
        .expect("the batch's checkpoint frame")
        + note.len()
        + 8;
    std::fs::write(&seg, &clean[..end]).unwrap();
    let err = f.open_refused(&format!("{size} records were acknowledged"));
    assert!(
        err.contains(&format!("holds {cut_at} committed records")),
        "{err}"
    );
    assert!(
        err.contains(&format!("seqs {cut_at} to {} are missing", size - 1)),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&seg).unwrap(),
        &clean[..end],
        "a refused open changed the log"
    );
    // Told that no receipt can exist, the operator removes the marker: it opens.
    std::fs::remove_file(log_dir.join(ledger::log::DURABLE_FILE)).unwrap();
    let l = ledger::ledger::Ledger::open(&f.data(), Default::default()).unwrap();
    assert_eq!(l.head().size, cut_at);
}

/// A read-only command that meets a batch half written (a writer's `pwrite`
/// seen page by page) and, after it, the batch's intact checkpoint frame,
/// reads the log again instead of reporting damage; damage that is still
/// there after its rescans is reported, naming the seq.
#[test]
fn a_reader_rescans_a_batch_it_saw_half_written() {
    use std::os::unix::fs::FileExt;
    let (f, l) = Fixture::new();
    let r = l.submit(&f.sign(&f.registrar, f.body("h1"))).unwrap();
    let size = l.head().size;
    let leaf = l.read_leaf(r.seq).unwrap();
    drop(l);
    let log_dir = f.data().join("log");
    // The writer has not yet published the batch as synced.
    std::fs::write(log_dir.join(ledger::log::DURABLE_FILE), r.seq.to_le_bytes()).unwrap();
    let seg = log_dir.join(ledger::log::segment_name(0));
    let clean = std::fs::read(&seg).unwrap();
    let at = clean
        .windows(leaf.len())
        .position(|w| w == leaf.as_slice())
        .unwrap()
        + 40;
    let file = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    file.write_all_at(&[clean[at] ^ 0x20], at as u64).unwrap();
    // The rest of the batch lands 10 ms later, then its fdatasync returns
    // and the writer publishes it.
    let (landing, good) = (file.try_clone().unwrap(), clean[at]);
    let durable = log_dir.join(ledger::log::DURABLE_FILE);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(10));
        landing.write_all_at(&[good], at as u64).unwrap();
        std::fs::write(durable, size.to_le_bytes()).unwrap();
    });
    let view = ledger::ledger::LogView::open(&f.data()).expect("the rescan reads the batch whole");
    writer.join().unwrap();
    assert_eq!(view.size(), size);
    // Damage that stays is damage.
    file.write_all_at(&[clean[at] ^ 0x20], at as u64).unwrap();
    let err = match ledger::ledger::LogView::open(&f.data()) {
        Ok(v) => panic!("a damaged log read as {} records", v.size()),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(&format!("damaged at seq {}", r.seq)), "{err}");
}

/// A batch whose write or fdatasync failed (the writer left
/// `log/sync-failed` naming it) is cut on the next open even when it reads
/// back whole: it was never acknowledged, and the page cache it reads from
/// may not match the disk. The batches before it stay; the statement can be
/// submitted again.
#[test]
fn a_batch_whose_sync_failed_is_cut_on_the_next_open() {
    let (f, l) = Fixture::new();
    let a = l.submit(&f.sign(&f.registrar, f.body("s1"))).unwrap();
    let b_env = f.sign(&f.registrar, f.body("s2"));
    let b = l.submit(&b_env).unwrap();
    assert_eq!(b.seq, a.seq + 1);
    let size = l.head().size;
    drop(l);
    let log_dir = f.data().join("log");
    // As the writer leaves it when the batch from b.seq fails (its
    // receipt was never sent), with that batch's pages still cached.
    ledger::log::record_failed_batch(&log_dir, b.seq).unwrap();
    std::fs::write(log_dir.join(ledger::log::DURABLE_FILE), b.seq.to_le_bytes()).unwrap();
    let l = f.open();
    assert_eq!(l.head().size, b.seq);
    assert!(
        l.notices
            .iter()
            .any(|n| n.contains(&format!("fdatasync of the batch from seq {}", b.seq))),
        "{:?}",
        l.notices
    );
    assert!(
        l.notices.iter().any(|n| n.contains("cut")),
        "{:?}",
        l.notices
    );
    assert!(!log_dir.join(ledger::log::SYNC_FAILED_FILE).exists());
    assert_eq!(l.receipt(a.seq).unwrap().leaf_hash, a.leaf_hash);
    // Submitted again, the statement is appended anew, at the same seq.
    let again = l.submit(&b_env).unwrap();
    assert_eq!(again.seq, b.seq);
    assert_eq!(l.head().size, size);
    drop(l);
    ledger::audit::verify_data_dir(&f.data(), Default::default()).expect("verifies");
    // Opened again: nothing more is cut.
    let l = f.open();
    assert_eq!(l.head().size, size);
    assert!(
        l.notices.iter().all(|n| !n.contains("cut")),
        "{:?}",
        l.notices
    );
}

#[test]
fn a_full_segment_gives_back_its_zeroed_space_and_the_next_one_continues() {
    let (f, l) = Fixture::new();
    drop(l);
    let config = ledger::ledger::Config {
        segment_bytes_max: 4096,
        ..Default::default()
    };
    let l = ledger::ledger::Ledger::open(&f.data(), config.clone()).unwrap();
    for i in 0..12 {
        l.submit(&f.sign(&f.registrar, f.body(&format!("seg{i}"))))
            .unwrap();
    }
    let size = l.head().size;
    drop(l);
    let mut segs: Vec<_> = std::fs::read_dir(f.data().join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .collect();
    segs.sort();
    assert!(segs.len() >= 3, "{segs:?}");
    for s in &segs[..segs.len() - 1] {
        // A segment of ~4 KiB that kept its zeroed space would pass 1 MiB.
        let len = std::fs::metadata(s).unwrap().len();
        assert!(
            len < ledger::log::ZERO_AHEAD,
            "{} kept its zeroed space ({len} bytes)",
            s.display()
        );
    }
    let l = ledger::ledger::Ledger::open(&f.data(), config).unwrap();
    assert_eq!(l.head().size, size);
    assert!(
        l.notices.iter().all(|n| !n.contains("cut")),
        "{:?}",
        l.notices
    );
    drop(l);
    ledger::audit::verify_data_dir(&f.data(), Default::default()).expect("verifies");
    // Reading leaves together (as replays do) across the segment boundaries
    // gives each leaf exactly as reading it alone, for every sub-range.
    let view = ledger::ledger::LogView::open(&f.data()).unwrap();
    let one: Vec<Vec<u8>> = (0..size).map(|q| view.read_leaf(q).unwrap()).collect();
    for a in 0..size {
        for b in a + 1..=size {
            let got = view.read_leaves(a..b).unwrap();
            assert_eq!(got.len() as u64, b - a);
            for q in a..b {
                assert_eq!(
                    got.get((q - a) as usize),
                    Some(&one[q as usize][..]),
                    "{a}..{b} at {q}"
                );
            }
        }
    }
    assert!(view.read_leaves(0..size + 1).is_err(), "beyond the size");
}

#[test]
fn used_ids_are_recognised_before_and_after_the_id_filter_fills() {
    let (f, l) = Fixture::new();
    let ent = f.enterprise_key(&l);
    let mut s = f.statement(&ent, f.complaint(&ent, "case-1"));
    s.id = "fixed-id".into();
    let first = s.clone().sign(&ent).to_envelope(None);
    let r1 = l.submit(&first).unwrap();
    s.event = f.complaint(&ent, "case-2");
    let conflicting = s.sign(&ent).to_envelope(None);
    drop(l);

    // Just after an open the filter may still be filling from the log: used
    // ids are looked up in the index.
    let l = f.open();
    assert_eq!(l.submit(&first).unwrap(), r1);
    refused(&l, &conflicting, Code::IdConflict);

    // Stats are published with each written batch; the filter is taken at
    // the end of a batch, so a few appends see it ready.
    let mut n = 0;
    while !l.stats().id_filter_ready {
        n += 1;
        assert!(n < 200, "the id filter of a 3-record ledger never filled");
        l.submit(&f.sign(&ent, f.complaint(&ent, &format!("case-x{n}"))))
            .unwrap();
    }
    let lookups = l.stats().id_lookups;
    // Used ids: the filter says "maybe", the index answers.
    assert_eq!(l.submit(&first).unwrap(), r1);
    refused(&l, &conflicting, Code::IdConflict);
    // A new id: the filter rules it out, no index lookup.
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-3")))
        .unwrap();
    l.submit(&f.sign(&ent, f.complaint(&ent, "case-4")))
        .unwrap();
    assert_eq!(l.stats().id_lookups, lookups + 2);
}

#[test]
fn opening_and_proof_errors_say_what_is_wrong_by_variant() {
    use ledger::ledger::{Config, Ledger, LedgerError};
    let (f, l) = Fixture::new();
    // A second open in this process finds the directory locked.
    match Ledger::open(&f.data(), Config::default()) {
        Err(LedgerError::InUse { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
        Err(e) => panic!("expected InUse, got {e}"),
        Ok(_) => panic!("a locked data directory opened twice"),
    }
    // A size beyond the ledger is the caller's mistake (HTTP 400), not damage.
    let size = l.head().size;
    match l.inclusion_proof(0, size + 1) {
        Err(e @ LedgerError::BeyondSize { .. }) => {
            assert!(e.is_request_error());
            assert_eq!(
                e.to_string(),
                format!("size {} is beyond the ledger's size {size}", size + 1)
            );
        }
        other => panic!("expected BeyondSize, got {other:?}"),
    }
    drop(l);
    let empty = f.dir.path().join("not-a-ledger");
    std::fs::create_dir_all(&empty).unwrap();
    match Ledger::open(&empty, Config::default()) {
        Err(e @ LedgerError::NotADataDir(_)) => assert!(!e.is_request_error()),
        Err(e) => panic!("expected NotADataDir, got {e}"),
        Ok(_) => panic!("an empty directory opened as a ledger"),
    }
}

/// A key granted earlier in the same stream checks its statements before the
/// grant is committed (on the caller's cores): a bad signature by it is still
/// `bad_signature`, a good one is appended; a key whose grant is refused
/// signs nothing, however well its statements are signed.
#[test]
fn keys_granted_earlier_in_a_stream_check_its_later_statements() {
    let (f, l) = Fixture::new();
    let ent = key(10);
    let grant = f.grant(
        &f.registrar,
        &ent,
        Party::Enterprise("ent-1".into()),
        vec![Role::Enterprise],
    );
    let mut forged = f.statement(&ent, f.complaint(&ent, "case-1")).sign(&ent);
    forged.signature[7] ^= 1;
    let good = f.sign(&ent, f.complaint(&ent, "case-2"));
    // Only root grants the registrar role: this grant is refused.
    let rogue = key(12);
    let rogue_grant = f.grant(
        &f.registrar,
        &rogue,
        Party::Body("centre".into()),
        vec![Role::Registrar],
    );
    let rogue_use = f.sign(&rogue, f.body("rogue-body"));
    // Checked before the sequencer: alone, the key is not known yet; after
    // its grant in the same input, it is.
    let checked = |inputs: &[Vec<u8>]| -> Vec<bool> {
        l.prepare_parallel(inputs)
            .iter()
            .map(|p| p.as_ref().is_ok_and(|p| p.signature_checked()))
            .collect()
    };
    assert_eq!(checked(std::slice::from_ref(&good)), [false]);
    assert_eq!(checked(&[grant.clone(), good.clone()]), [true, true]);
    let inputs = vec![
        grant,
        forged.to_envelope(None),
        good,
        rogue_grant,
        rogue_use,
    ];
    let before = l.head().size;
    let mut results = Vec::new();
    let (ok, bad) = l.append_stream(inputs.into_iter(), 4096, |i, _, r| {
        results.push((i, r.map(|rc| rc.seq).map_err(|e| e.code)))
    });
    assert_eq!((ok, bad), (2, 3));
    assert_eq!(
        results,
        vec![
            (0, Ok(before)),
            (1, Err(Code::BadSignature)),
            (2, Ok(before + 1)),
            (3, Err(Code::KeyNotAuthorised)),
            (4, Err(Code::UnknownKey)),
        ]
    );
    assert_eq!(l.head().size, before + 2);
}

/// The subject index (`Ledger::seqs_about`) lists, in seq order, exactly the
/// records about each case, promise, body, enterprise, inspection and
/// project: as the indexer wrote it (one entry per subject and group) and
/// as an open rebuilds it from the log. A subject entry lost from the tail
/// is noticed at open and the index rebuilt.
#[test]
fn the_subject_index_lists_exactly_the_records_about_each_subject() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    ledger::generate::generate(
        &data,
        &dir.path().join("root.key"),
        &ledger::generate::GenerateOptions {
            records: 9000,
            seed: 5,
        },
    )
    .unwrap();
    // What the index must say, from the log itself.
    let view = ledger::ledger::LogView::open(&data).unwrap();
    let mut want: std::collections::BTreeMap<(String, String), Vec<u64>> = Default::default();
    for seq in 0..view.size() {
        let r = events::record::Record::parse(&view.read_leaf(seq).unwrap()).unwrap();
        for (kind, id) in r.signed.statement.event.subject_ids() {
            want.entry((kind.to_string(), id.as_str().to_string()))
                .or_default()
                .push(seq);
        }
    }
    drop(view);
    assert!(
        want.values().any(|seqs| seqs.len() > 10),
        "some subject has many records"
    );
    let check = |l: &ledger::ledger::Ledger| {
        for ((kind, id), seqs) in &want {
            assert_eq!(&l.seqs_about(kind, id).unwrap(), seqs, "{kind} {id}");
        }
        assert_eq!(
            l.seqs_about("case", "no-such-case").unwrap(),
            Vec::<u64>::new()
        );
        // Not an id: a zero byte must not reach into another subject's keys.
        let (kind, id) = want.keys().next().unwrap();
        assert!(!l.seqs_about(kind, id).unwrap().is_empty());
        assert_eq!(
            l.seqs_about(kind, &format!("{id}\u{0}")).unwrap(),
            Vec::<u64>::new()
        );
    };
    let l = ledger::ledger::Ledger::open(&data, Default::default()).unwrap();
    check(&l);
    l.close().unwrap();

    std::fs::remove_dir_all(data.join("index")).unwrap();
    let l = ledger::ledger::Ledger::open(&data, Default::default()).unwrap();
    assert!(
        l.notices.iter().any(|n| n.contains("catching up")),
        "{:?}",
        l.notices
    );
    check(&l);
    l.close().unwrap();

    // Lose the last subject entry, keeping `m:indexed`.
    let first = {
        let db = open_index_when_free(&data);
        // Rebuilt in chunks of 4096 records, some subject has entries in several.
        let mut entries: std::collections::BTreeMap<Vec<u8>, usize> = Default::default();
        for kv in db.scan_prefix(b"x:") {
            let (key, _) = kv.unwrap();
            *entries.entry(key[..key.len() - 8].to_vec()).or_default() += 1;
        }
        assert!(
            entries.values().any(|&n| n > 1),
            "no subject spans two groups"
        );
        let (key, value) = db.scan_prefix(b"x:").last().unwrap().unwrap();
        assert_eq!(value.len() % 8, 0);
        db.remove(&key).unwrap();
        db.flush().unwrap();
        u64::from_be_bytes(value[..8].try_into().unwrap())
    };
    let l = ledger::ledger::Ledger::open(&data, Default::default()).unwrap();
    assert!(
        l.notices
            .iter()
            .any(|n| n.contains(&format!("lacks the entries of seq {first}"))),
        "{:?}",
        l.notices
    );
    check(&l);
}
