//! Statements: what an actor signs.
//!
//! A statement is a JSON object in RFC 8785 canonical form with exactly these
//! members: `actor`, `body`, `format`, `id`, `issued_at`, `occurred_at`,
//! optionally `on_behalf_of`, `origin`, `schema`, `type`. The signature is
//! Ed25519 (checked with `verify_strict`) over [`SIGNATURE_DOMAIN`] followed by
//! the canonical statement bytes. The bytes signed are the bytes stored: a
//! statement is never re-serialized from a derived struct before hashing.

use crate::codec;
use crate::codes::{Code, Rejection};
use crate::jcs::{self, Value};
use crate::keys::{KeyId, Party};
use crate::time::{OffsetTime, Timestamp};
use crate::vocab::{self, DecodeError, Event, INTEGER_MAX};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// The statement format this code writes and reads.
pub const FORMAT_VERSION: i64 = 1;
/// The signature domain: every statement signature covers these bytes first, so a
/// statement signature can never be mistaken for any other Ed25519 signature.
pub const SIGNATURE_DOMAIN: &[u8] = b"ledger-statement/v1\n";
/// Statement ids (the idempotency key) are 1 to 128 printable ASCII characters.
pub const STATEMENT_ID_BYTES_MAX: usize = 128;

/// A statement as its fields; [`Statement::canonical_bytes`] gives what is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub origin: String,
    /// The client-chosen unique id: retries with the same id are safe.
    pub id: String,
    pub actor: KeyId,
    pub on_behalf_of: Option<Party>,
    /// When the actor signed (the actor's clock).
    pub issued_at: Timestamp,
    /// When the fact happened (business time, with its offset).
    pub occurred_at: OffsetTime,
    pub event: Event,
}

fn check_statement_id(id: &str) -> Result<(), Rejection> {
    if id.is_empty()
        || id.len() > STATEMENT_ID_BYTES_MAX
        || !id.bytes().all(|b| (0x21..=0x7e).contains(&b))
    {
        return Err(Rejection::new(
            Code::MalformedStatement,
            format!("statement id {id:?} must be 1 to {STATEMENT_ID_BYTES_MAX} printable ASCII characters without spaces"),
        ));
    }
    Ok(())
}

/// Converts a parsed canonical value to serde_json's tree for typed decoding.
/// Numbers were already checked to be integers within ±(2^53−1).
fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(x) => {
            // Checked integral and within ±(2^53−1) by `check_numbers`, so exact.
            #[allow(clippy::cast_possible_truncation)]
            let i = *x as i64;
            serde_json::Value::Number(i.into())
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        Value::Object(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect())
        }
    }
}

/// Whether a serde_json tree and a parsed canonical value hold the same JSON
/// (object members compared by name, as canonical form orders them anyway).
fn same_value(a: &serde_json::Value, b: &Value) -> bool {
    match (a, b) {
        (serde_json::Value::Null, Value::Null) => true,
        (serde_json::Value::Bool(x), Value::Bool(y)) => x == y,
        (serde_json::Value::Number(n), Value::Number(y)) => {
            n.as_i64().is_some_and(|x| x as f64 == *y) || n.as_u64().is_some_and(|x| x as f64 == *y)
        }
        (serde_json::Value::String(x), Value::String(y)) => x == y,
        (serde_json::Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q))
        }
        (serde_json::Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && y.iter()
                    .all(|(k, v)| x.get(k).is_some_and(|w| same_value(w, v)))
        }
        _ => false,
    }
}

/// Converts serde_json's tree to a canonical value (for building statements).
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::Array(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), from_serde(v))).collect())
        }
    }
}

/// Refuses any number that is not an integer within ±(2^53−1): no floats in signed data.
pub fn check_numbers(v: &Value, path: &mut String) -> Result<(), Rejection> {
    match v {
        Value::Number(x) => {
            let max = INTEGER_MAX as f64;
            if x.fract() != 0.0 || x.abs() > max {
                return Err(Rejection::new(
                    Code::NumberNotAllowed,
                    format!(
                        "number {} at {} must be an integer within ±(2^53−1)",
                        jcs::format_number(*x),
                        if path.is_empty() { "/" } else { path }
                    ),
                ));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                check_numbers(x, path)?;
                path.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let len = path.len();
                path.push('/');
                path.push_str(k);
                check_numbers(x, path)?;
                path.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

fn field<'a>(obj: &'a [(String, Value)], name: &str) -> Result<&'a Value, Rejection> {
    obj.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .ok_or_else(|| {
            Rejection::new(
                Code::MalformedStatement,
                format!("statement has no {name:?} member"),
            )
        })
}

fn str_field<'a>(obj: &'a [(String, Value)], name: &str) -> Result<&'a str, Rejection> {
    field(obj, name)?.as_str().ok_or_else(|| {
        Rejection::new(
            Code::MalformedStatement,
            format!("statement member {name:?} must be a string"),
        )
    })
}

fn decode_rejection(e: DecodeError) -> Rejection {
    let code = match &e {
        DecodeError::UnknownType(_) => Code::UnknownEventType,
        DecodeError::UnknownSchema { .. } => Code::UnknownSchemaVersion,
        DecodeError::InvalidBody { .. } => Code::InvalidBody,
        DecodeError::NotCanonicalBody { .. } => Code::NotCanonical,
    };
    Rejection::new(code, e.to_string())
}

const STATEMENT_KEYS: &[&str] = &[
    "actor",
    "body",
    "format",
    "id",
    "issued_at",
    "occurred_at",
    "on_behalf_of",
    "origin",
    "schema",
    "type",
];

impl Statement {
    /// Builds the canonical value of this statement.
    pub fn to_value(&self) -> Value {
        let mut m: Vec<(String, Value)> = vec![
            ("actor".into(), Value::String(self.actor.to_string())),
            ("body".into(), from_serde(&self.event.body_value())),
            ("format".into(), Value::Number(FORMAT_VERSION as f64)),
            ("id".into(), Value::String(self.id.clone())),
            (
                "issued_at".into(),
                Value::String(self.issued_at.to_string()),
            ),
            (
                "occurred_at".into(),
                Value::String(self.occurred_at.to_string()),
            ),
            ("origin".into(), Value::String(self.origin.clone())),
            (
                "schema".into(),
                Value::Number(f64::from(self.event.kind().schema())),
            ),
            (
                "type".into(),
                Value::String(self.event.kind().name().to_string()),
            ),
        ];
        if let Some(p) = &self.on_behalf_of {
            let pv = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
            m.push(("on_behalf_of".into(), from_serde(&pv)));
        }
        Value::Object(m)
    }

    /// The RFC 8785 bytes that are signed and stored.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        jcs::to_canonical(&self.to_value())
    }

    /// Signs this statement.
    pub fn sign(self, key: &SigningKey) -> SignedStatement {
        let bytes = self.canonical_bytes();
        let signature = key.sign(&signing_message(&bytes)).to_bytes();
        SignedStatement {
            statement: self,
            bytes,
            signature,
        }
    }

    /// Decodes a statement from its parsed canonical value. The caller has
    /// checked that the value came from canonical bytes.
    pub fn from_value(v: &Value) -> Result<Statement, Rejection> {
        let obj = v.as_object().ok_or_else(|| {
            Rejection::new(
                Code::MalformedStatement,
                "a statement must be a JSON object",
            )
        })?;
        for (k, _) in obj {
            if !STATEMENT_KEYS.contains(&k.as_str()) {
                return Err(Rejection::new(
                    Code::MalformedStatement,
                    format!("statement has an unknown member {k:?}"),
                ));
            }
        }
        let mut path = String::new();
        check_numbers(v, &mut path)?;
        let format = field(obj, "format")?.as_i64();
        if format != Some(FORMAT_VERSION) {
            return Err(Rejection::new(
                Code::UnsupportedFormat,
                format!("statement format {format:?} is not supported (this ledger reads format {FORMAT_VERSION})"),
            ));
        }
        let id = str_field(obj, "id")?.to_string();
        check_statement_id(&id)?;
        let actor_s = str_field(obj, "actor")?;
        let actor = KeyId::parse(actor_s).ok_or_else(|| {
            Rejection::new(
                Code::MalformedStatement,
                format!("actor {actor_s:?} must be the 64-hex SHA-256 of the actor's public key"),
            )
        })?;
        let bad_time = |name: &str, e: crate::time::TimeError| {
            Rejection::new(Code::MalformedStatement, format!("{name}: {e}"))
        };
        let issued_at =
            Timestamp::parse(str_field(obj, "issued_at")?).map_err(|e| bad_time("issued_at", e))?;
        let occurred_at = OffsetTime::parse(str_field(obj, "occurred_at")?)
            .map_err(|e| bad_time("occurred_at", e))?;
        let origin = str_field(obj, "origin")?.to_string();
        let on_behalf_of = match obj.iter().find(|(k, _)| k == "on_behalf_of") {
            None => None,
            Some((_, p)) => {
                let bad = |m: String| {
                    Rejection::new(
                        Code::MalformedStatement,
                        format!(
                            "on_behalf_of must be {{\"body\":ID}} or {{\"enterprise\":ID}}: {m}"
                        ),
                    )
                };
                let party =
                    serde_json::from_value::<Party>(to_serde(p)).map_err(|e| bad(e.to_string()))?;
                match &party {
                    Party::Body(id) | Party::Enterprise(id) => {
                        crate::vocab::Id::parse(id).map_err(bad)?;
                    }
                    Party::Authority | Party::Ledger => {
                        return Err(bad(
                            "the root authority and the ledger act in their own name".into(),
                        ))
                    }
                }
                Some(party)
            }
        };
        let kind = str_field(obj, "type")?;
        let schema = field(obj, "schema")?
            .as_i64()
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| {
                Rejection::new(
                    Code::MalformedStatement,
                    "schema must be a non-negative integer",
                )
            })?;
        let body_value = field(obj, "body")?;
        if body_value.as_object().is_none() {
            return Err(Rejection::new(
                Code::InvalidBody,
                "body must be a JSON object",
            ));
        }
        let event = vocab::decode(kind, schema, to_serde(body_value)).map_err(decode_rejection)?;
        // Re-encode and compare: a body that decodes but would encode differently
        // (an explicit null for an absent option, say) has two spellings and is refused.
        if !same_value(&event.body_value(), body_value) {
            return Err(decode_rejection(DecodeError::NotCanonicalBody {
                kind: kind.to_string(),
            }));
        }
        event
            .check_fields()
            .map_err(|m| Rejection::new(Code::InvalidBody, format!("{kind}: {m}")))?;
        Ok(Statement {
            origin,
            id,
            actor,
            on_behalf_of,
            issued_at,
            occurred_at,
            event,
        })
    }

    /// Parses canonical statement bytes, refusing anything not in canonical form.
    pub fn parse(bytes: &[u8]) -> Result<Statement, Rejection> {
        if let Some(s) = Statement::parse_simple(bytes) {
            return Ok(s);
        }
        Statement::parse_by_tree(bytes)
    }

    /// The reference path of [`Statement::parse`]: a value tree, the
    /// canonical re-encoding compared byte for byte, then
    /// [`Statement::from_value`]. `parse` gives exactly its answers.
    pub fn parse_by_tree(bytes: &[u8]) -> Result<Statement, Rejection> {
        let v = parse_canonical(bytes)?;
        Statement::from_value(&v)
    }

    /// The fast path of [`Statement::parse`]: [`jcs::is_canonical_simple`],
    /// then [`Statement::decode_simple`].
    pub fn parse_simple(bytes: &[u8]) -> Option<Statement> {
        let mut members = jcs::Members::default();
        let text = jcs::canonical_simple_members(bytes, &mut members)?;
        let top = members
            .at(1)
            .and_then(|m| StatementParts::from_members(text, m));
        match top {
            Some(w) => Statement::from_strict(w),
            None => Statement::decode_simple(text),
        }
    }

    /// Decodes bytes that [`jcs::is_canonical_simple`] accepted (alone or as
    /// part of a record or envelope it accepted): one pass of serde over the text
    /// and the same checks as [`Statement::from_value`] (members, format, id,
    /// key id, times, party, event type and schema, a body that re-encodes to
    /// exactly its own bytes, field rules). Numbers need no check: the
    /// canonical check admitted only integers within ±(2^53−1). `None` means
    /// "not accepted here": the caller runs the full path, which gives the
    /// verdict and the message, so this path can only accept what that one
    /// accepts (a test compares them on every generated statement).
    pub(crate) fn decode_simple(text: &str) -> Option<Statement> {
        Statement::from_strict(strict_statement(text)?.into())
    }

    /// The checks of [`Statement::decode_simple`] on members read by serde
    /// or by position (a record's or an envelope's statement is read in the
    /// same pass as its container).
    pub(crate) fn from_strict(w: StatementParts<'_>) -> Option<Statement> {
        if w.format != FORMAT_VERSION {
            return None;
        }
        check_statement_id(w.id).ok()?;
        let on_behalf_of = match w.on_behalf_of {
            None => None,
            Some(raw) => {
                let party = party_of_plain(raw).or_else(|| serde_json::from_str(raw).ok())?;
                match &party {
                    Party::Body(id) | Party::Enterprise(id) => {
                        crate::vocab::Id::parse(id).ok()?;
                    }
                    Party::Authority | Party::Ledger => return None,
                }
                Some(party)
            }
        };
        let body = w.body;
        if !body.starts_with('{') {
            return None;
        }
        let event = vocab::decode_str(w.kind, w.schema, body).ok()?;
        // serde_json writes a value's object members in byte order of their
        // (ASCII) names and escapes strings as RFC 8785 does, so equal bytes
        // mean the body has one spelling; anything else goes the full path.
        if !event.body_serializes_to(body.as_bytes())
            && serde_json::to_vec(&event.body_value()).ok()? != body.as_bytes()
        {
            return None;
        }
        event.check_fields().ok()?;
        Some(Statement {
            origin: w.origin.into_owned(),
            id: w.id.to_string(),
            actor: KeyId::parse(w.actor)?,
            on_behalf_of,
            issued_at: Timestamp::parse(w.issued_at).ok()?,
            occurred_at: OffsetTime::parse(w.occurred_at).ok()?,
            event,
        })
    }

    /// BLAKE3 of the canonical bytes: equal content, equal hash (for idempotency).
    pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
        static KEY: std::sync::LazyLock<blake3::hazmat::ContextKey> =
            std::sync::LazyLock::new(|| blake3::hazmat::hash_derive_key_context(CONTENT_CONTEXT));
        let mut h = <blake3::Hasher as blake3::hazmat::HasherExt>::new_from_context_key(&KEY);
        h.update(bytes);
        h.finalize().into()
    }
}

/// `{"body":"ID"}` or `{"enterprise":"ID"}` with an id of plain characters:
/// the canonical form of every `on_behalf_of` an id can be; anything else
/// (escapes, other members) is left to serde and `Id::parse`.
fn party_of_plain(raw: &str) -> Option<Party> {
    let (make, rest): (fn(String) -> Party, &str) =
        if let Some(r) = raw.strip_prefix("{\"body\":\"") {
            (Party::Body, r)
        } else {
            (Party::Enterprise, raw.strip_prefix("{\"enterprise\":\"")?)
        };
    let id = rest.strip_suffix("\"}")?;
    if id.bytes().any(|b| b == b'"' || b == b'\\') {
        return None;
    }
    Some(make(id.to_string()))
}

const CONTENT_CONTEXT: &str = "gov-enterprise-ledger 2026-11-26 statement content v1";

/// Parses JSON and checks that `bytes` are exactly its RFC 8785 form.
pub fn parse_canonical(bytes: &[u8]) -> Result<Value, Rejection> {
    let v = jcs::parse(bytes).map_err(|e| Rejection::new(Code::MalformedJson, e.to_string()))?;
    if jcs::to_canonical(&v) != bytes {
        return Err(Rejection::new(
            Code::NotCanonical,
            "the JSON is not in RFC 8785 canonical form (sorted keys, no whitespace, shortest numbers, minimal escapes)",
        ));
    }
    Ok(v)
}

/// The exact bytes an actor's Ed25519 signature covers.
pub fn signing_message(statement_bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_DOMAIN.len() + statement_bytes.len());
    signing_message_into(&mut m, statement_bytes);
    m
}

/// [`signing_message`] written over `out` (its old contents are cleared).
fn signing_message_into(out: &mut Vec<u8>, statement_bytes: &[u8]) {
    out.clear();
    out.extend_from_slice(SIGNATURE_DOMAIN);
    out.extend_from_slice(statement_bytes);
}

/// Checks an actor signature with `verify_strict` (no malleable or small-order forms).
pub fn verify_signature(key: &VerifyingKey, statement_bytes: &[u8], signature: &[u8; 64]) -> bool {
    verify_signature_in(&mut Vec::new(), key, statement_bytes, signature)
}

/// [`verify_signature`] with the signed message built in `message` (a
/// buffer the caller keeps from one statement to the next).
pub fn verify_signature_in(
    message: &mut Vec<u8>,
    key: &VerifyingKey,
    statement_bytes: &[u8],
    signature: &[u8; 64],
) -> bool {
    signing_message_into(message, statement_bytes);
    let sig = Signature::from_bytes(signature);
    key.verify_strict(message, &sig).is_ok()
}

/// A statement with its canonical bytes and signature: what is submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedStatement {
    pub statement: Statement,
    pub bytes: Vec<u8>,
    pub signature: [u8; 64],
}

/// A submission: a signed statement, and for ledgers with a simulated clock, the
/// `recorded_at` the importer asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    pub signed: SignedStatement,
    pub recorded_at: Option<Timestamp>,
}

impl SignedStatement {
    /// The canonical submission form: `{"signature":"<base64>","statement":{...}}`.
    pub fn to_envelope(&self, recorded_at: Option<Timestamp>) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bytes.len() + 128);
        out.push(b'{');
        if let Some(t) = recorded_at {
            out.extend_from_slice(b"\"recorded_at\":\"");
            out.extend_from_slice(t.to_string().as_bytes());
            out.extend_from_slice(b"\",");
        }
        out.extend_from_slice(b"\"signature\":\"");
        out.extend_from_slice(codec::b64(&self.signature).as_bytes());
        out.extend_from_slice(b"\",\"statement\":");
        out.extend_from_slice(&self.bytes);
        out.push(b'}');
        out
    }

    pub fn verify(&self, key: &VerifyingKey) -> bool {
        verify_signature(key, &self.bytes, &self.signature)
    }
}

impl Envelope {
    /// Parses a canonical submission envelope: decodes the statement but does not
    /// check the signature (that needs the key registry).
    pub fn parse(bytes: &[u8]) -> Result<Envelope, Rejection> {
        if let Some(e) = Envelope::parse_simple(bytes) {
            return Ok(e);
        }
        Envelope::parse_by_tree(bytes)
    }

    /// The reference path of [`Envelope::parse`] (see [`Statement::parse_by_tree`]).
    pub fn parse_by_tree(bytes: &[u8]) -> Result<Envelope, Rejection> {
        let v = parse_canonical(bytes)?;
        let obj = v.as_object().ok_or_else(|| {
            Rejection::new(
                Code::MalformedStatement,
                "a submission must be a JSON object",
            )
        })?;
        for (k, _) in obj {
            if !["recorded_at", "signature", "statement"].contains(&k.as_str()) {
                return Err(Rejection::new(
                    Code::MalformedStatement,
                    format!("submission has an unknown member {k:?} (expected signature, statement, optional recorded_at)"),
                ));
            }
        }
        let sig_s = str_field(obj, "signature")?;
        let signature = codec::unb64::<64>(sig_s).ok_or_else(|| {
            Rejection::new(
                Code::MalformedStatement,
                "signature must be standard base64 of 64 bytes",
            )
        })?;
        let recorded_at = match obj.iter().find(|(k, _)| k == "recorded_at") {
            None => None,
            Some((_, t)) => {
                let s = t.as_str().ok_or_else(|| {
                    Rejection::new(Code::MalformedStatement, "recorded_at must be a string")
                })?;
                Some(Timestamp::parse(s).map_err(|e| {
                    Rejection::new(Code::MalformedStatement, format!("recorded_at: {e}"))
                })?)
            }
        };
        let sv = field(obj, "statement")?;
        let statement = Statement::from_value(sv)?;
        // The envelope is canonical, so the statement's canonical bytes are its
        // exact text inside the envelope; re-serializing gives the same bytes.
        let bytes = jcs::to_canonical(sv);
        Ok(Envelope {
            signed: SignedStatement {
                statement,
                bytes,
                signature,
            },
            recorded_at,
        })
    }
}

impl Envelope {
    /// The fast path of [`Envelope::parse`] (see [`Statement::parse_simple`]).
    pub fn parse_simple(bytes: &[u8]) -> Option<Envelope> {
        // As for a record (`Record::parse_simple`): the canonical check
        // finds the members, and serde reads them only when it must.
        let mut members = jcs::Members::default();
        let text = jcs::canonical_simple_members(bytes, &mut members)?;
        let (recorded_at, signature, statement_text, statement) =
            match envelope_members(text, &members) {
                Some(w) => w,
                None => {
                    let w: StrictEnvelope = serde_json::from_str(object(text)?).ok()?;
                    let statement_text = w.statement.get();
                    let statement = strict_statement(statement_text)?;
                    (w.recorded_at, w.signature, statement_text, statement.into())
                }
            };
        let recorded_at = match recorded_at {
            None => None,
            Some(t) => Some(Timestamp::parse(t).ok()?),
        };
        Some(Envelope {
            signed: SignedStatement {
                statement: Statement::from_strict(statement)?,
                bytes: statement_text.as_bytes().to_vec(),
                signature: codec::unb64::<64>(signature)?,
            },
            recorded_at,
        })
    }
}

/// An envelope's `recorded_at`, signature, statement text and statement
/// members, from the members the canonical check found (see
/// [`StatementParts::from_members`]).
type EnvelopeParts<'a> = (Option<&'a str>, &'a str, &'a str, StatementParts<'a>);

fn envelope_members<'a>(text: &'a str, members: &jcs::Members<'a>) -> Option<EnvelopeParts<'a>> {
    let mut top = members.at(1)?;
    let (recorded_at, signature) = match top.next()? {
        m if m.name == b"recorded_at" => (Some(m.plain_str(text)?), top.next()?),
        m => (None, m),
    };
    let statement = top.next()?;
    if signature.name != b"signature" || statement.name != b"statement" || top.next().is_some() {
        return None;
    }
    let statement_text = statement.raw(text)?;
    if !statement_text.starts_with('{') {
        return None;
    }
    // The statement is the only object among the envelope's values, so the
    // members two levels deep are exactly its own, in order.
    Some((
        recorded_at,
        signature.plain_str(text)?,
        statement_text,
        StatementParts::from_members(text, members.at(2)?)?,
    ))
}

/// `text` if it is a JSON object. serde's derived readers also take a
/// struct from an array, by position (`[actor, body, …]`), which no path
/// may accept: every text handed to one of them is checked here first.
pub(crate) fn object(text: &str) -> Option<&str> {
    text.starts_with('{').then_some(text)
}

/// [`StrictStatement`] read by serde from the text of a JSON object.
pub(crate) fn strict_statement(text: &str) -> Option<StrictStatement<'_>> {
    serde_json::from_str(object(text)?).ok()
}

/// A member that, when present, must hold a `T`: unlike a plain `Option`, an
/// explicit `null` is not taken for an absent member (the full path refuses it).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// A statement's members, for [`Statement::parse_simple`]. Strings are
/// borrowed: one that holds an escape fails here and goes the full path.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StrictStatement<'a> {
    actor: &'a str,
    #[serde(borrow)]
    body: &'a serde_json::value::RawValue,
    format: i64,
    id: &'a str,
    issued_at: &'a str,
    occurred_at: &'a str,
    #[serde(borrow, default, deserialize_with = "present")]
    on_behalf_of: Option<&'a serde_json::value::RawValue>,
    #[serde(borrow)]
    origin: std::borrow::Cow<'a, str>,
    schema: u32,
    #[serde(rename = "type")]
    kind: &'a str,
}

/// A statement's members as a fast path reads them: by serde
/// ([`StrictStatement`]) or by position ([`StatementParts::from_members`]).
pub(crate) struct StatementParts<'a> {
    actor: &'a str,
    body: &'a str,
    format: i64,
    id: &'a str,
    issued_at: &'a str,
    occurred_at: &'a str,
    on_behalf_of: Option<&'a str>,
    origin: std::borrow::Cow<'a, str>,
    schema: u32,
    kind: &'a str,
}

impl<'a> From<StrictStatement<'a>> for StatementParts<'a> {
    fn from(w: StrictStatement<'a>) -> Self {
        StatementParts {
            actor: w.actor,
            body: w.body.get(),
            format: w.format,
            id: w.id,
            issued_at: w.issued_at,
            occurred_at: w.occurred_at,
            on_behalf_of: w.on_behalf_of.map(|r| r.get()),
            origin: w.origin,
            schema: w.schema,
            kind: w.kind,
        }
    }
}

impl<'a> StatementParts<'a> {
    /// The members [`StrictStatement`] reads, from the statement's members
    /// as the canonical check found them (`members`: exactly the
    /// statement's, in order). `None` where they are not exactly what
    /// serde would read into it, which then reads them (a string with an
    /// escape, say): never a different answer.
    pub(crate) fn from_members<'m>(
        text: &'a str,
        members: impl Iterator<Item = &'m jcs::Member<'a>>,
    ) -> Option<Self>
    where
        'a: 'm,
    {
        let mut members = members.peekable();
        let mut take = |name: &[u8]| members.next_if(|m| m.name == name);
        let (actor, body, format, id, issued_at, occurred_at) = (
            take(b"actor")?,
            take(b"body")?,
            take(b"format")?,
            take(b"id")?,
            take(b"issued_at")?,
            take(b"occurred_at")?,
        );
        let on_behalf_of = take(b"on_behalf_of");
        let (origin, schema, kind) = (take(b"origin")?, take(b"schema")?, take(b"type")?);
        if members.next().is_some() {
            return None;
        }
        Some(StatementParts {
            actor: actor.plain_str(text)?,
            body: body.raw(text)?,
            format: format.int(text)?,
            id: id.plain_str(text)?,
            issued_at: issued_at.plain_str(text)?,
            occurred_at: occurred_at.plain_str(text)?,
            on_behalf_of: match on_behalf_of {
                Some(m) => Some(m.raw(text)?),
                None => None,
            },
            origin: std::borrow::Cow::Borrowed(origin.plain_str(text)?),
            schema: u32::try_from(schema.int(text)?).ok()?,
            kind: kind.plain_str(text)?,
        })
    }
}

/// A submission's members, for [`Envelope::parse_simple`].
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StrictEnvelope<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    recorded_at: Option<&'a str>,
    signature: &'a str,
    #[serde(borrow)]
    statement: &'a serde_json::value::RawValue,
}
