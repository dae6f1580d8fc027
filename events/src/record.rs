//! Records: what the ledger appends.
//!
//! A record is the canonical JSON object
//! `{"format":1,"prev":HEX,"recorded_at":TIME,"seq":N,"signature":B64,"statement":{...}}`.
//! Its exact bytes are the Merkle leaf. They contain no newline (canonical JSON
//! escapes every control character), so an export is NDJSON whose every line is
//! one leaf. `prev` is the chain hash of the previous record (32 zero bytes for
//! seq 0); the chain hash of a record is BLAKE3 in derive-key mode over its bytes.

use crate::codec;
use crate::codes::{Code, Rejection};
use crate::jcs;
use crate::statement::{parse_canonical, SignedStatement, Statement, StatementParts};
use crate::time::Timestamp;

/// The record format this code writes and reads.
pub const RECORD_FORMAT: i64 = 1;
/// No record is larger than this many bytes.
pub const RECORD_BYTES_MAX: usize = 64 * 1024;
/// A BLAKE3 chain hash.
pub type ChainHash = [u8; 32];
/// What the genesis record links to.
pub const GENESIS_PREV: ChainHash = [0u8; 32];
/// The BLAKE3 derive-key context of the record chain (its hash domain).
pub const CHAIN_CONTEXT: &str = "gov-enterprise-ledger 2026-11-26 record chain v1";

/// The chain hash of a record, from its exact bytes.
pub fn chain_hash(record_bytes: &[u8]) -> ChainHash {
    // The context is hashed once per process, not once per record.
    static KEY: std::sync::LazyLock<blake3::hazmat::ContextKey> =
        std::sync::LazyLock::new(|| blake3::hazmat::hash_derive_key_context(CHAIN_CONTEXT));
    let mut h = <blake3::Hasher as blake3::hazmat::HasherExt>::new_from_context_key(&KEY);
    h.update(record_bytes);
    h.finalize().into()
}

/// Encodes a record. Members are written in RFC 8785 order by hand: every value
/// but the statement is ASCII that needs no escaping, and the statement bytes are
/// already canonical, so the result is canonical (a test re-checks it).
pub fn encode(
    seq: u64,
    recorded_at: Timestamp,
    prev: &ChainHash,
    statement_bytes: &[u8],
    signature: &[u8; 64],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(statement_bytes.len() + 256);
    encode_into(&mut out, seq, recorded_at, prev, statement_bytes, signature);
    out
}

/// [`encode`], appended to `out` (the sequencer writes each record straight
/// into its batch's frames).
pub fn encode_into(
    out: &mut Vec<u8>,
    seq: u64,
    recorded_at: Timestamp,
    prev: &ChainHash,
    statement_bytes: &[u8],
    signature: &[u8; 64],
) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"{\"format\":1,\"prev\":\"");
    for b in prev {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0x0f)]);
    }
    out.extend_from_slice(b"\",\"recorded_at\":\"");
    out.extend_from_slice(recorded_at.to_string().as_bytes());
    out.extend_from_slice(b"\",\"seq\":");
    // The seq in decimal, most significant digit first.
    let mut digits = [0u8; 20];
    let mut n = seq;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
    out.extend_from_slice(b",\"signature\":\"");
    out.extend_from_slice(codec::b64(signature).as_bytes());
    out.extend_from_slice(b"\",\"statement\":");
    out.extend_from_slice(statement_bytes);
    out.push(b'}');
}

/// A decoded record. Its signature has not been checked: that needs the key
/// registry as it stood at `seq` (see [`crate::verify`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub prev: ChainHash,
    pub signed: SignedStatement,
}

/// A record parsed from a leaf that still holds its statement's bytes
/// ([`Record::parse_in_place`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InPlace {
    /// The record, its `signed.bytes` empty.
    pub record: Record,
    /// Where the statement's canonical bytes are in the leaf.
    pub statement_bytes: std::ops::Range<usize>,
}

impl InPlace {
    /// The record with the statement's bytes copied out of `leaf`.
    pub fn owning(mut self, leaf: &[u8]) -> Record {
        self.record.signed.bytes = leaf[self.statement_bytes].to_vec();
        self.record
    }
}

/// A leaf's members for replay. The text is checked as UTF-8 once, in one
/// pass, rather than string by string as serde_json does over bytes.
fn wire_record(bytes: &[u8]) -> Result<WireRecord<'_>, Rejection> {
    let json = |e: String| Rejection::new(Code::MalformedJson, e);
    let text = std::str::from_utf8(bytes).map_err(|e| json(e.to_string()))?;
    serde_json::from_str(text).map_err(|e| json(e.to_string()))
}

fn malformed(m: impl Into<String>) -> Rejection {
    Rejection::new(Code::MalformedStatement, m)
}

impl Record {
    /// Parses one leaf, refusing anything that is not exactly canonical.
    pub fn parse(bytes: &[u8]) -> Result<Record, Rejection> {
        Record::parse_in_place(bytes).map(|p| p.owning(bytes))
    }

    /// [`Record::parse`] without copying the statement's canonical bytes out
    /// of `bytes`: the record's `signed.bytes` is left empty and the answer
    /// says where they are (what a verifier checks the signature over).
    pub fn parse_in_place(bytes: &[u8]) -> Result<InPlace, Rejection> {
        // The fast path takes no record over the size limit; the tree path refuses it.
        if let Some(r) = Record::parse_simple_in_place(bytes) {
            return Ok(r);
        }
        Record::parse_by_tree_in_place(bytes)
    }

    /// The reference path of [`Record::parse`] (see
    /// [`Statement::parse_by_tree`]); `parse` gives exactly its answers.
    pub fn parse_by_tree(bytes: &[u8]) -> Result<Record, Rejection> {
        Record::parse_by_tree_in_place(bytes).map(|p| p.owning(bytes))
    }

    fn parse_by_tree_in_place(bytes: &[u8]) -> Result<InPlace, Rejection> {
        if bytes.len() > RECORD_BYTES_MAX {
            return Err(Rejection::new(
                Code::RecordTooLarge,
                format!(
                    "record is {} bytes; the limit is {RECORD_BYTES_MAX}",
                    bytes.len()
                ),
            ));
        }
        let v = parse_canonical(bytes)?;
        let obj = v
            .as_object()
            .ok_or_else(|| malformed("a record must be a JSON object"))?;
        let keys: Vec<&str> = obj.iter().map(|(k, _)| k.as_str()).collect();
        if keys
            != [
                "format",
                "prev",
                "recorded_at",
                "seq",
                "signature",
                "statement",
            ]
        {
            return Err(malformed(format!(
                "a record has exactly the members format, prev, recorded_at, seq, signature, statement; found {keys:?}"
            )));
        }
        let get = |i: usize| &obj[i].1;
        if get(0).as_i64() != Some(RECORD_FORMAT) {
            return Err(Rejection::new(
                Code::UnsupportedFormat,
                "record format must be 1",
            ));
        }
        let prev = get(1)
            .as_str()
            .and_then(codec::unhex::<32>)
            .ok_or_else(|| malformed("prev must be 64 lowercase hex characters"))?;
        let recorded_at = get(2)
            .as_str()
            .ok_or_else(|| malformed("recorded_at must be a string"))
            .and_then(|s| {
                Timestamp::parse(s).map_err(|e| malformed(format!("recorded_at: {e}")))
            })?;
        let seq = get(3)
            .as_i64()
            .and_then(|s| u64::try_from(s).ok())
            .ok_or_else(|| malformed("seq must be a non-negative integer"))?;
        let signature = get(4)
            .as_str()
            .and_then(codec::unb64::<64>)
            .ok_or_else(|| malformed("signature must be standard base64 of 64 bytes"))?;
        let statement = Statement::from_value(get(5))?;
        // The record is canonical and `statement` is its last member, so the
        // statement's canonical bytes are the text between `"statement":` and the
        // closing brace. No earlier member (hex, time, integer, base64) can contain
        // that key, so the first match is the member.
        let marker = b",\"statement\":";
        let at = find(bytes, marker).ok_or_else(|| malformed("statement member not found"))?;
        let statement_bytes = at + marker.len()..bytes.len() - 1;
        debug_assert_eq!(bytes[statement_bytes.clone()], jcs::to_canonical(get(5)));
        Ok(InPlace {
            record: Record {
                seq,
                recorded_at,
                prev,
                signed: SignedStatement {
                    statement,
                    bytes: Vec::new(),
                    signature,
                },
            },
            statement_bytes,
        })
    }

    /// The fast path of [`Record::parse`]; `None` sends the caller down the
    /// full path (see [`Statement::parse_simple`]).
    pub fn parse_simple(bytes: &[u8]) -> Option<Record> {
        Record::parse_simple_in_place(bytes).map(|p| p.owning(bytes))
    }

    fn parse_simple_in_place(bytes: &[u8]) -> Option<InPlace> {
        if bytes.len() > RECORD_BYTES_MAX {
            return None;
        }
        // One pass checks the canonical form and finds the members of the
        // record and of its statement; serde reads them only when they are
        // not in the layout the ledger writes.
        let mut members = jcs::Members::default();
        let text = jcs::canonical_simple_members(bytes, &mut members)?;
        let w = match RecordParts::from_members(text, &members) {
            Some(w) => w,
            None => RecordParts::from_strict(
                text,
                serde_json::from_str(crate::statement::object(text)?).ok()?,
            )?,
        };
        if w.format != RECORD_FORMAT {
            return None;
        }
        // `statement_text` is a slice of `text`, itself a view of `bytes`.
        let at = (w.statement_text.as_ptr() as usize).checked_sub(bytes.as_ptr() as usize)?;
        if at + w.statement_text.len() > bytes.len() {
            return None;
        }
        Some(InPlace {
            record: Record {
                seq: w.seq,
                recorded_at: Timestamp::parse(w.recorded_at).ok()?,
                prev: codec::unhex::<32>(w.prev)?,
                signed: SignedStatement {
                    statement: Statement::from_strict(w.statement)?,
                    bytes: Vec::new(),
                    signature: codec::unb64::<64>(w.signature)?,
                },
            },
            statement_bytes: at..at + w.statement_text.len(),
        })
    }

    /// Decodes a leaf the ledger itself wrote and checked when it appended it,
    /// for replay only (rebuilding projections, reads): one pass of serde over
    /// the bytes, with neither the canonical-form check nor the re-encoding of
    /// [`Record::parse`], and the signature left unchecked (auditors use
    /// `ledger verify`, which runs the full append-time check). It still
    /// refuses bytes that are not a record, so a damaged log never panics a
    /// replay.
    pub fn decode_trusted(bytes: &[u8]) -> Result<Decoded, Rejection> {
        match Record::decode_by_position(bytes) {
            Some(d) => Ok(d),
            None => Record::decode_by_serde(bytes),
        }
    }

    /// Reads a leaf the way [`Record::decode_by_serde`] does, but by position,
    /// for a leaf in exactly the layout the ledger writes: canonical member
    /// order, and no escape in any string it reads as text (an id with an
    /// escape, say, goes the serde way). Only the event body and
    /// `on_behalf_of` go through serde. Every string stepped over is checked
    /// to hold no quote, backslash or control character, so the members found
    /// are the ones serde finds; `None` for anything else, never a different
    /// answer (a property test holds the two paths to that).
    ///
    /// Serde's pass over the whole record (validating the body as a raw value
    /// and stepping over `prev` and `signature`) was about a third of a
    /// replay's decoding time.
    pub fn decode_by_position(bytes: &[u8]) -> Option<Decoded> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut c = Cursor { t: text, i: 0 };
        c.lit("{\"format\":1,\"prev\":\"")?;
        if c.plain()?.len() != 64 {
            return None;
        }
        c.lit("\",\"recorded_at\":\"")?;
        let recorded_at = c.plain()?;
        c.lit("\",\"seq\":")?;
        let seq = c.uint()?;
        c.lit(",\"signature\":\"")?;
        c.plain()?;
        c.lit("\",\"statement\":{\"actor\":\"")?;
        let actor = c.plain()?;
        c.lit("\",\"body\":")?;
        // The type comes last and the body needs it first: read from the end.
        let end = text.len().checked_sub(3)?;
        if text.get(end..)? != "\"}}" {
            return None;
        }
        let type_at = text.get(..end)?.rfind(",\"type\":\"")?;
        let kind = text.get(type_at + 9..end)?;
        let schema_at = text.get(..type_at)?.rfind(",\"schema\":")?;
        let schema = Cursor {
            t: text.get(..type_at)?,
            i: schema_at + 10,
        }
        .uint_to_end()?;
        let (event, n) = crate::vocab::decode_prefix(kind, u32::try_from(schema).ok()?, c.rest())?;
        c.i += n;
        c.lit(",\"format\":1,\"id\":\"")?;
        let id = c.plain()?;
        c.lit("\",\"issued_at\":\"")?;
        let issued_at = c.plain()?;
        c.lit("\",\"occurred_at\":\"")?;
        let occurred_at = c.plain()?;
        c.lit("\"")?;
        let on_behalf_of = if c.lit(",\"on_behalf_of\":").is_some() {
            let (p, n) = crate::vocab::json_prefix(c.rest())?;
            c.i += n;
            Some(p)
        } else {
            None
        };
        c.lit(",\"origin\":\"")?;
        let origin = c.plain()?;
        c.lit("\"")?;
        if c.i != schema_at || kind.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            return None;
        }
        Some(Decoded {
            seq,
            recorded_at: Timestamp::parse(recorded_at).ok()?,
            statement: Statement {
                origin: origin.to_string(),
                id: id.to_string(),
                actor: crate::keys::KeyId::parse(actor)?,
                on_behalf_of,
                issued_at: Timestamp::parse(issued_at).ok()?,
                occurred_at: crate::time::OffsetTime::parse(occurred_at).ok()?,
                event,
            },
        })
    }

    /// [`Record::decode_trusted`] by serde alone: the reference its fast
    /// path ([`Record::decode_by_position`]) agrees with, and the path of any leaf
    /// not in the layout the ledger writes (its errors are this path's).
    pub fn decode_by_serde(bytes: &[u8]) -> Result<Decoded, Rejection> {
        let w: WireRecord = wire_record(bytes)?;
        let s = w.statement;
        let bad = |m: String| malformed(m);
        let event = crate::vocab::decode_str(s.kind, s.schema, s.body.get())
            .map_err(|e| bad(e.to_string()))?;
        let time = |name: &str, e: crate::time::TimeError| bad(format!("{name}: {e}"));
        Ok(Decoded {
            seq: w.seq,
            recorded_at: Timestamp::parse(w.recorded_at).map_err(|e| time("recorded_at", e))?,
            statement: Statement {
                origin: s.origin.into_owned(),
                id: s.id.into_owned(),
                actor: crate::keys::KeyId::parse(s.actor)
                    .ok_or_else(|| bad(format!("actor {:?} is not a key id", s.actor)))?,
                on_behalf_of: s.on_behalf_of,
                issued_at: Timestamp::parse(s.issued_at).map_err(|e| time("issued_at", e))?,
                occurred_at: crate::time::OffsetTime::parse(s.occurred_at)
                    .map_err(|e| time("occurred_at", e))?,
                event,
            },
        })
    }

    /// What a listing of records shows (seq, times, actor, statement id and
    /// event type), read like [`Record::decode_trusted`] but without decoding
    /// the event body: for timelines, which read one record per line.
    pub fn decode_head(bytes: &[u8]) -> Result<Head, Rejection> {
        let w: WireRecord = wire_record(bytes)?;
        let s = w.statement;
        let bad = |m: String| malformed(m);
        let time = |name: &str, e: crate::time::TimeError| bad(format!("{name}: {e}"));
        Ok(Head {
            seq: w.seq,
            recorded_at: Timestamp::parse(w.recorded_at).map_err(|e| time("recorded_at", e))?,
            id: s.id.into_owned(),
            actor: crate::keys::KeyId::parse(s.actor)
                .ok_or_else(|| bad(format!("actor {:?} is not a key id", s.actor)))?,
            occurred_at: crate::time::OffsetTime::parse(s.occurred_at)
                .map_err(|e| time("occurred_at", e))?,
            kind: crate::vocab::EventKind::from_name(s.kind)
                .ok_or_else(|| bad(format!("unknown event type {:?}", s.kind)))?,
        })
    }

    /// The canonical bytes of this record (the Merkle leaf).
    pub fn encode(&self) -> Vec<u8> {
        encode(
            self.seq,
            self.recorded_at,
            &self.prev,
            &self.signed.bytes,
            &self.signed.signature,
        )
    }
}

/// A record's head, decoded by [`Record::decode_head`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub id: String,
    pub actor: crate::keys::KeyId,
    pub occurred_at: crate::time::OffsetTime,
    pub kind: crate::vocab::EventKind,
}

/// A record decoded for replay by [`Record::decode_trusted`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub statement: Statement,
}

/// A record's members, for [`Record::parse_simple`].
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictRecord<'a> {
    format: i64,
    prev: &'a str,
    recorded_at: &'a str,
    seq: u64,
    signature: &'a str,
    #[serde(borrow)]
    statement: crate::statement::StrictStatement<'a>,
}

/// A record's members as [`Record::parse_simple`] reads them: by position
/// or, failing that, by serde ([`StrictRecord`]).
struct RecordParts<'a> {
    format: i64,
    prev: &'a str,
    recorded_at: &'a str,
    seq: u64,
    signature: &'a str,
    statement: StatementParts<'a>,
    /// The statement's canonical text.
    statement_text: &'a str,
}

impl<'a> RecordParts<'a> {
    /// From the members the canonical check found (see
    /// [`StatementParts::from_members`]).
    fn from_members(text: &'a str, members: &jcs::Members<'a>) -> Option<Self> {
        let mut top = members.at(1)?;
        let mut next = |name: &[u8]| top.next().filter(|m| m.name == name);
        let (format, prev, recorded_at, seq, signature, statement) = (
            next(b"format")?,
            next(b"prev")?,
            next(b"recorded_at")?,
            next(b"seq")?,
            next(b"signature")?,
            next(b"statement")?,
        );
        if top.next().is_some() {
            return None;
        }
        let statement_text = statement.raw(text)?;
        if !statement_text.starts_with('{') {
            return None;
        }
        // The statement is the only object among the record's values, so
        // the members two levels deep are exactly its own, in order.
        Some(RecordParts {
            format: format.int(text)?,
            prev: prev.plain_str(text)?,
            recorded_at: recorded_at.plain_str(text)?,
            seq: u64::try_from(seq.int(text)?).ok()?,
            signature: signature.plain_str(text)?,
            statement: StatementParts::from_members(text, members.at(2)?)?,
            statement_text,
        })
    }

    /// From serde's reading of `text`.
    fn from_strict(text: &'a str, w: StrictRecord<'a>) -> Option<Self> {
        // The statement's bytes: the text between `"statement":` and the
        // record's closing brace. In canonical form the member right before
        // it is `signature`, whose string serde borrowed from `text` (so it
        // holds no escape): the statement starts just after it.
        let signature_end = (w.signature.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?
            + w.signature.len();
        let marker = "\",\"statement\":";
        let start = signature_end + marker.len();
        if text.get(signature_end..start)? != marker {
            return None;
        }
        // serde read the statement's members from an array as readily as
        // from an object (by position): only an object is a statement.
        let statement_text = crate::statement::object(text.get(start..text.len() - 1)?)?;
        Some(RecordParts {
            format: w.format,
            prev: w.prev,
            recorded_at: w.recorded_at,
            seq: w.seq,
            signature: w.signature,
            statement: w.statement.into(),
            statement_text,
        })
    }
}

#[derive(serde::Deserialize)]
struct WireRecord<'a> {
    #[serde(borrow)]
    recorded_at: &'a str,
    seq: u64,
    #[serde(borrow)]
    statement: WireStatement<'a>,
}

/// Strings that cannot hold escapes (hex, times, type names) are borrowed;
/// the others may hold escapes and are decoded into owned strings when needed.
#[derive(serde::Deserialize)]
struct WireStatement<'a> {
    #[serde(borrow)]
    actor: &'a str,
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
    #[serde(borrow)]
    id: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    issued_at: &'a str,
    #[serde(borrow)]
    occurred_at: &'a str,
    #[serde(borrow)]
    origin: std::borrow::Cow<'a, str>,
    #[serde(default)]
    on_behalf_of: Option<crate::keys::Party>,
    schema: u32,
    #[serde(borrow, rename = "type")]
    kind: &'a str,
}

/// A position in a leaf's text, for [`Record::decode_by_position`].
struct Cursor<'a> {
    t: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        self.t.get(self.i..).unwrap_or_default()
    }

    /// Steps over `s` when the text goes on with it.
    fn lit(&mut self, s: &str) -> Option<()> {
        self.rest().starts_with(s).then(|| self.i += s.len())
    }

    /// The text up to the next quote, which must hold no backslash and no
    /// control character (a JSON string's content that needs no decoding).
    fn plain(&mut self) -> Option<&'a str> {
        let rest = self.rest();
        let n = rest
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.as_bytes()[n] != b'"' {
            return None;
        }
        self.i += n;
        rest.get(..n)
    }

    /// A JSON integer as the ledger writes it (no sign, no leading zero)
    /// that fits a u64; the cursor stops after its digits.
    fn uint(&mut self) -> Option<u64> {
        let rest = self.rest().as_bytes();
        let n = rest
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(rest.len());
        let digits = rest.get(..n)?;
        if digits.is_empty() || (digits[0] == b'0' && n > 1) {
            return None;
        }
        let v = digits.iter().try_fold(0u64, |v, d| {
            v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })?;
        self.i += n;
        Some(v)
    }

    /// [`Cursor::uint`] that must end the text.
    fn uint_to_end(mut self) -> Option<u64> {
        let v = self.uint()?;
        (self.i == self.t.len()).then_some(v)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    /// The record bytes written by hand are the members in RFC 8785 order,
    /// each value spelled as FORMAT.md says, for seqs of every width; and
    /// `encode_into` appends exactly what `encode` returns.
    #[test]
    fn a_record_is_encoded_member_by_member_for_any_seq() {
        let t = crate::time::Timestamp::parse("2026-11-27T08:30:00.123Z").unwrap();
        let prev: super::ChainHash = std::array::from_fn(|i| (i * 37) as u8);
        let sig: [u8; 64] = std::array::from_fn(|i| (255 - i) as u8);
        let stmt = br#"{"id":"x","type":"case_closed"}"#;
        for seq in [
            0,
            7,
            9,
            10,
            99,
            100,
            65_535,
            1_000_000,
            (1 << 53) - 1,
            u64::MAX,
        ] {
            let want = format!(
                "{{\"format\":1,\"prev\":\"{}\",\"recorded_at\":\"{t}\",\"seq\":{seq},\"signature\":\"{}\",\"statement\":{}}}",
                crate::codec::hex(&prev),
                crate::codec::b64(&sig),
                std::str::from_utf8(stmt).unwrap()
            );
            let got = super::encode(seq, t, &prev, stmt, &sig);
            assert_eq!(std::str::from_utf8(&got).unwrap(), want, "seq {seq}");
            let mut out = b"before".to_vec();
            super::encode_into(&mut out, seq, t, &prev, stmt, &sig);
            assert_eq!(&out[..6], b"before");
            assert_eq!(&out[6..], got.as_slice());
        }
    }

    /// The precomputed context key must give exactly BLAKE3's derive_key mode,
    /// the hash FORMAT.md names, for short, block-sized and multi-chunk inputs.
    #[test]
    fn chain_and_content_hashes_are_blake3_derive_key() {
        let inputs: [&[u8]; 4] = [b"", b"{\"seq\":0}", &[7u8; 64], &[9u8; 5000]];
        for input in inputs {
            assert_eq!(
                super::chain_hash(input),
                blake3::derive_key(super::CHAIN_CONTEXT, input)
            );
            assert_eq!(
                crate::statement::Statement::content_hash(input),
                blake3::derive_key(
                    "gov-enterprise-ledger 2026-11-26 statement content v1",
                    input
                )
            );
        }
    }
}
