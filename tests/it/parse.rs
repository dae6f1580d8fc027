//! The fast parse path (one serde pass over text the canonical check proved
//! simple) against the reference path (value tree, re-encoding, typed
//! decode): on every statement of a generated history and on mutations of
//! them, `parse` must give exactly what `parse_by_tree` gives.

use events::keys::Party;
use events::record::{self, Record};
use events::statement::{Envelope, Statement};
use ledger::generate::{history, GenerateOptions};

fn generated() -> Vec<Vec<u8>> {
    history(&GenerateOptions {
        records: 6_000,
        seed: 7,
    })
    .expect("history")
    .envelopes
}

/// The first generated envelope that `wanted` picks (named `what` if none does).
fn first_generated(envs: &[Vec<u8>], what: &str, wanted: impl Fn(&Envelope) -> bool) -> Envelope {
    envs.iter()
        .map(|env| Envelope::parse(env).expect("generated envelope"))
        .find(|e| wanted(e))
        .unwrap_or_else(|| panic!("no generated envelope is {what}"))
}

/// The record the ledger would write for an envelope at `seq`.
fn as_record(e: &Envelope, seq: u64) -> Vec<u8> {
    record::encode(
        seq,
        e.recorded_at
            .expect("generated envelopes carry recorded_at"),
        &[seq as u8; 32],
        &e.signed.bytes,
        &e.signed.signature,
    )
}

fn same<T: PartialEq + std::fmt::Debug>(
    fast: Result<T, events::codes::Rejection>,
    tree: Result<T, events::codes::Rejection>,
    what: &[u8],
) {
    match (&fast, &tree) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", String::from_utf8_lossy(what)),
        (Err(a), Err(b)) => assert_eq!(
            (a.code, &a.message),
            (b.code, &b.message),
            "{}",
            String::from_utf8_lossy(what)
        ),
        _ => panic!(
            "fast {:?} but tree {:?} for {}",
            fast.map(|_| ()),
            tree.map(|_| ()),
            String::from_utf8_lossy(what)
        ),
    }
}

#[test]
fn fast_parse_equals_the_reference_on_every_generated_statement() {
    for (i, env) in generated().iter().enumerate() {
        let e = Envelope::parse(env).expect("generated envelope");
        assert_eq!(Ok(&e), Envelope::parse_by_tree(env).as_ref());
        // The fast path itself takes every statement the ledger generates.
        assert!(events::jcs::is_canonical_simple(env), "{i}");
        assert_eq!(Envelope::parse_simple(env).as_ref(), Some(&e), "{i}");
        same(
            Statement::parse(&e.signed.bytes),
            Statement::parse_by_tree(&e.signed.bytes),
            &e.signed.bytes,
        );
        let rec = as_record(&e, i as u64 + 1);
        let r = Record::parse(&rec).expect("record");
        assert_eq!(Record::parse_simple(&rec).as_ref(), Some(&r), "{i}");
        // In place (verify's path): the range is the statement's bytes, and
        // with them copied out the record is `parse`'s.
        let in_place = Record::parse_in_place(&rec).expect("record in place");
        assert!(in_place.record.signed.bytes.is_empty());
        assert_eq!(&rec[in_place.statement_bytes.clone()], &e.signed.bytes[..]);
        assert_eq!(in_place.owning(&rec), r);
        assert_eq!(Ok(&r), Record::parse_by_tree(&rec).as_ref());
        assert_eq!(r.signed, e.signed);
        // Replay's fast path takes every record the ledger writes, and
        // reads it as serde does.
        let d = Record::decode_by_position(&rec).expect("replay's fast path");
        assert_eq!(Ok(&d), Record::decode_by_serde(&rec).as_ref(), "{i}");
        assert_eq!((d.seq, &d.statement), (r.seq, &r.signed.statement));
    }
}

/// Replay's fast path on what it leaves to serde: an escape in the id, an
/// explicit null, another member order. It steps aside (`None`) and
/// `decode_trusted` answers as serde does.
#[test]
fn replay_fast_path_leaves_other_spellings_to_serde() {
    let envs = generated();
    let with_party = first_generated(&envs, "a statement made on behalf of a party", |e| {
        e.signed.statement.on_behalf_of.is_some()
    });
    let rec = as_record(&with_party, 9);
    assert_eq!(
        Record::decode_by_position(&rec).map(|d| d.statement.on_behalf_of),
        Some(with_party.signed.statement.on_behalf_of.clone())
    );
    let text = String::from_utf8(rec).unwrap();
    let id = &with_party.signed.statement.id;
    let escaped = text.replacen(
        &format!("\"id\":\"{id}\""),
        &format!("\"id\":\"{id}\\u0041\""),
        1,
    );
    let nulled = text.replacen("\"origin\":", "\"on_behalf_of\":null,\"origin\":", 1);
    let without_format = text.replacen("{\"format\":1,", "{", 1);
    let reordered = format!(
        "{},\"format\":1}}",
        &without_format[..without_format.len() - 1]
    );
    for other in [escaped, nulled, reordered] {
        assert_ne!(other, text);
        assert_eq!(
            Record::decode_by_position(other.as_bytes()),
            None,
            "{other}"
        );
        let by_serde = Record::decode_by_serde(other.as_bytes());
        assert_eq!(
            Record::decode_trusted(other.as_bytes()).map_err(|e| e.message),
            by_serde.map_err(|e| e.message)
        );
    }
}

/// Every body's fields are declared in the byte order of their names, so
/// serializing a body writes its canonical form directly and the fast path
/// never builds a value tree to compare (`Event::body_serializes_to`). Checked
/// on every kind: the generated history and the demo scenario (genesis and
/// reorganisations) together hold them all.
#[test]
fn every_body_kind_serializes_in_canonical_member_order() {
    let mut events: Vec<events::vocab::Event> = generated()
        .iter()
        .map(|env| {
            Envelope::parse(env)
                .expect("generated envelope")
                .signed
                .statement
                .event
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    ledger::scenario::load_hunan_2006(&data).unwrap();
    let view = ledger::ledger::LogView::open_records(&data).unwrap();
    for seq in 0..view.size() {
        let r = Record::parse(&view.read_leaf(seq).unwrap()).unwrap();
        events.push(r.signed.statement.event);
    }
    let mut kinds = std::collections::BTreeSet::new();
    for ev in &events {
        let canonical = serde_json::to_vec(&ev.body_value()).expect("body");
        assert!(
            ev.body_serializes_to(&canonical),
            "{}: the fields of its body are not declared in name order",
            ev.kind().name()
        );
        kinds.insert(ev.kind());
    }
    let missing: Vec<_> = events::vocab::EventKind::ALL
        .iter()
        .filter(|k| !kinds.contains(k))
        .map(|k| k.name())
        .collect();
    assert!(missing.is_empty(), "no body of {missing:?} was checked");
}

/// Single-byte changes at pseudo-random places of records, envelopes and bare
/// statements: same verdict, same decoded value, same refusal code and message.
#[test]
fn fast_parse_equals_the_reference_on_mutations() {
    let envs = generated();
    let subs = b" \"\\{}[],:-.0159aenu\x00\x7f";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as usize
    };
    for _ in 0..6_000 {
        let env = &envs[next(envs.len())];
        let e = Envelope::parse(env).expect("generated envelope");
        let rec = as_record(&e, 5);
        for base in [env.clone(), rec, e.signed.bytes.clone()] {
            let mut m = base.clone();
            let at = next(m.len());
            match next(3) {
                0 => {
                    m.remove(at);
                }
                1 => m.insert(at, subs[next(subs.len())]),
                _ => m[at] = subs[next(subs.len())],
            }
            same(Envelope::parse(&m), Envelope::parse_by_tree(&m), &m);
            same(Record::parse(&m), Record::parse_by_tree(&m), &m);
            same(Statement::parse(&m), Statement::parse_by_tree(&m), &m);
            if let Some(d) = Record::decode_by_position(&m) {
                assert_eq!(
                    Ok(d),
                    Record::decode_by_serde(&m),
                    "{}",
                    String::from_utf8_lossy(&m)
                );
            }
        }
    }
}

/// An explicit `null` where a member may be absent is another spelling of the
/// same statement, so both paths refuse it (serde alone would take it for absent).
#[test]
fn explicit_null_for_an_optional_member_is_refused_by_both_paths() {
    let env = &generated()[3];
    let text = String::from_utf8(env.clone()).unwrap();
    let with_null = text.replacen("\"origin\":", "\"on_behalf_of\":null,\"origin\":", 1);
    assert!(Envelope::parse(with_null.as_bytes()).is_err());
    same(
        Envelope::parse(with_null.as_bytes()),
        Envelope::parse_by_tree(with_null.as_bytes()),
        with_null.as_bytes(),
    );
    let no_time = text.replacen(
        &text[..text.find(",\"signature\"").unwrap() + 1],
        "{\"recorded_at\":null,",
        1,
    );
    assert!(Envelope::parse(no_time.as_bytes()).is_err());
    same(
        Envelope::parse(no_time.as_bytes()),
        Envelope::parse_by_tree(no_time.as_bytes()),
        no_time.as_bytes(),
    );
}

/// `on_behalf_of` in every spelling the fast path reads by hand or leaves to
/// serde: the same verdict and value as the reference path.
#[test]
fn on_behalf_of_reads_the_same_by_hand_and_by_the_reference() {
    let e = first_generated(&generated(), "a statement made on behalf of a body", |e| {
        matches!(e.signed.statement.on_behalf_of, Some(Party::Body(_)))
    });
    let Some(Party::Body(id)) = &e.signed.statement.on_behalf_of else {
        unreachable!()
    };
    let text = String::from_utf8(e.signed.bytes.clone()).unwrap();
    let member = format!("\"on_behalf_of\":{{\"body\":\"{id}\"}}");
    assert!(text.contains(&member), "{text}");
    let mut accepted = 0;
    for value in [
        format!("{{\"body\":\"{id}\"}}"),
        format!("{{\"enterprise\":\"{id}\"}}"),
        format!("{{\"body\":\"{id}\\\"\"}}"),
        format!("{{\"body\":\"{id}\\\\\"}}"),
        format!("{{\"body\":\"{id}\",\"enterprise\":\"{id}\"}}"),
        format!("{{\"bodies\":\"{id}\"}}"),
        "{\"body\":\"\"}".to_string(),
        "{\"body\":1}".to_string(),
        "\"authority\"".to_string(),
        "\"ledger\"".to_string(),
        "{\"body\":\"a b\"}".to_string(),
    ] {
        let m = text.replacen(&member, &format!("\"on_behalf_of\":{value}"), 1);
        let fast = Statement::parse(m.as_bytes());
        accepted += usize::from(fast.is_ok());
        if let Ok(s) = &fast {
            assert!(s.on_behalf_of.is_some(), "{m}");
        }
        same(fast, Statement::parse_by_tree(m.as_bytes()), m.as_bytes());
    }
    // The body and the enterprise spelling parse; every other one is refused.
    assert_eq!(accepted, 2);
}

/// The signature check with a buffer kept from one statement to the next
/// (verify's workers) gives `verify_signature`'s verdict on statements of
/// every length, a bad signature and a wrong key included.
#[test]
fn a_kept_message_buffer_gives_the_same_verdicts() {
    use events::statement::{verify_signature, verify_signature_in};
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key();
    let mut message = Vec::new();
    let mut checked = 0;
    for env in generated().iter().take(300) {
        let e = Envelope::parse(env).expect("generated envelope");
        let s = e.signed.statement.sign(&key);
        let mut bad = s.signature;
        bad[5] ^= 1;
        for (vk, sig, want) in [
            (key.verifying_key(), s.signature, true),
            (key.verifying_key(), bad, false),
            (other, s.signature, false),
        ] {
            assert_eq!(verify_signature(&vk, &s.bytes, &sig), want);
            assert_eq!(verify_signature_in(&mut message, &vk, &s.bytes, &sig), want);
            checked += 1;
        }
    }
    assert_eq!(checked, 900);
}

/// A statement spelled as a JSON array of its members' values, in member
/// order: serde's derived readers take a struct from a sequence by position,
/// so a fast path that handed the text to serde without looking would read
/// it as the statement. Every path refuses it, alone, in an envelope and in
/// a record, as the reference path does ("a statement must be a JSON
/// object"), and so does an envelope spelled as an array.
#[test]
fn a_statement_spelled_as_an_array_is_refused_by_every_path() {
    use events::jcs::{self, Value};
    let envs = generated();
    // `on_behalf_of` set: serde's sequence form needs every member present.
    let e = first_generated(&envs, "on behalf of a party", |e| {
        e.signed.statement.on_behalf_of.is_some()
    });
    let Value::Object(members) = jcs::parse(&e.signed.bytes).unwrap() else {
        panic!("a statement is an object");
    };
    let values: Vec<Value> = members.into_iter().map(|(_, v)| v).collect();
    let array = jcs::to_canonical(&Value::Array(values));
    assert!(jcs::is_canonical_simple(&array));

    let statement_refused = |r: Result<Statement, events::codes::Rejection>| {
        let err = r.expect_err("array statement accepted");
        assert_eq!(err.code, events::codes::Code::MalformedStatement, "{err}");
    };
    statement_refused(Statement::parse(&array));
    statement_refused(Statement::parse_by_tree(&array));
    assert!(Statement::parse_simple(&array).is_none());

    let signed = events::statement::SignedStatement {
        statement: e.signed.statement.clone(),
        bytes: array.clone(),
        signature: e.signed.signature,
    };
    let env = signed.to_envelope(e.recorded_at);
    assert!(Envelope::parse_simple(&env).is_none());
    assert!(Envelope::parse(&env).is_err());
    same(
        Envelope::parse(&env).map(|_| ()),
        Envelope::parse_by_tree(&env).map(|_| ()),
        &env,
    );

    let rec = record::encode(
        9,
        e.recorded_at
            .expect("generated envelopes carry recorded_at"),
        &[9; 32],
        &array,
        &e.signed.signature,
    );
    assert!(Record::parse_simple(&rec).is_none());
    assert!(Record::parse(&rec).is_err());
    same(
        Record::parse(&rec).map(|_| ()),
        Record::parse_by_tree(&rec).map(|_| ()),
        &rec,
    );

    // The envelope itself as an array: [signature, statement].
    let Value::Object(env_members) = jcs::parse(&e.signed.to_envelope(None)).unwrap() else {
        panic!("an envelope is an object");
    };
    let env_array = jcs::to_canonical(&Value::Array(
        env_members.into_iter().map(|(_, v)| v).collect(),
    ));
    assert!(Envelope::parse_simple(&env_array).is_none());
    assert!(Envelope::parse(&env_array).is_err());
}
