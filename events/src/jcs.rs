//! RFC 8785 JSON Canonicalization Scheme (JCS) with its own strict parser.
//!
//! The audit ledger hashes and signs the canonical form of every record, so two
//! parties must derive byte-identical output from semantically equal JSON. The
//! parser is deliberately stricter than `serde_json`: it accepts only RFC 8259
//! JSON that also satisfies I-JSON (RFC 7493), which is the input domain that
//! RFC 8785 defines canonical output for. Anything outside that domain is
//! refused rather than silently normalised, because a permissive parser would
//! let differently-looking documents hash to the same record.

use std::cmp::Ordering;
use std::fmt::Write as _;

/// Deepest nesting of arrays and objects that [`parse`] accepts.
///
/// Records in the ledger are shallow; the bound exists so that hostile input
/// cannot exhaust the stack of the recursive parser and serializer.
pub const DEPTH_MAX: usize = 64;

/// A parsed JSON value. Objects keep members in input order; numbers are IEEE-754 doubles as RFC 8785 requires.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

/// Reasons why input is refused by [`parse`] and the functions built on it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JcsError {
    /// The input is not RFC 8259 JSON.
    #[error("JSON syntax error at byte {offset}: {what}")]
    Syntax { offset: usize, what: &'static str },
    /// An object repeats a member name, which I-JSON forbids.
    #[error("duplicate object member name {key:?}")]
    DuplicateKey { key: String },
    /// A `\u` escape denotes a UTF-16 surrogate that is not part of a valid pair.
    #[error("escaped lone UTF-16 surrogate at byte {offset}")]
    LoneSurrogate { offset: usize },
    /// Arrays and objects are nested more than `max` levels deep.
    #[error("nesting deeper than {max} levels at byte {offset}")]
    DepthExceeded { max: usize, offset: usize },
    /// A number literal is too large in magnitude to be a finite double.
    #[error("number at byte {offset} overflows an IEEE-754 double")]
    NonFiniteNumber { offset: usize },
    /// Something other than whitespace follows the top-level value.
    #[error("unexpected data after the JSON value at byte {offset}")]
    TrailingData { offset: usize },
    /// The input is not well-formed UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 { offset: usize },
}

impl Value {
    /// Returns the value of the first member named `key` if `self` is an object.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    /// Returns the string if `self` is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Returns the number as an integer if it is integral and within ±(2^53 − 1).
    ///
    /// Beyond that range a double no longer identifies a unique integer, so a
    /// value there cannot be trusted to be the integer the writer meant.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        const SAFE_MAX: f64 = 9_007_199_254_740_991.0;
        match *self {
            Value::Number(x) if x.fract() == 0.0 && (-SAFE_MAX..=SAFE_MAX).contains(&x) => {
                // The range check above makes this conversion exact.
                Some(x as i64)
            }
            _ => None,
        }
    }

    /// Returns the members in input order if `self` is an object.
    #[must_use]
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    /// Returns the elements if `self` is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Parses strict RFC 8259 / I-JSON text into a [`Value`].
///
/// Refused: a byte order mark, comments, trailing commas, leading zeros,
/// `NaN`/`Infinity`, unescaped control characters in strings, duplicate member
/// names, escaped lone surrogates, invalid UTF-8, nesting deeper than
/// [`DEPTH_MAX`], and number literals that overflow to infinity. Insignificant
/// whitespace (space, tab, line feed, carriage return) is allowed.
///
/// # Errors
///
/// Returns the first violation found, with the byte offset where it applies.
pub fn parse(input: &[u8]) -> Result<Value, JcsError> {
    // A BOM is valid UTF-8, so it is checked first to give it a precise message.
    if input.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(JcsError::Syntax {
            offset: 0,
            what: "byte order mark is not allowed",
        });
    }
    // Validating the whole input up front lets the parser slice strings out of a
    // `&str` without re-checking each one, and the standard library's validator
    // is much faster than a byte-at-a-time check inside the string scanner.
    let text = std::str::from_utf8(input).map_err(|e| JcsError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut parser = Parser {
        text,
        bytes: input,
        pos: 0,
    };
    parser.skip_whitespace();
    let value = parser.parse_value(0)?;
    parser.skip_whitespace();
    if parser.pos != input.len() {
        return Err(JcsError::TrailingData { offset: parser.pos });
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn syntax<T>(&self, offset: usize, what: &'static str) -> Result<T, JcsError> {
        Err(JcsError::Syntax { offset, what })
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Returns `text[start..end]`; both ends are always positions of ASCII
    /// delimiters or the end of input, so the lookup cannot fail on valid
    /// UTF-8, but it is checked anyway so that a bug cannot become a panic.
    fn slice(&self, start: usize, end: usize) -> Result<&'a str, JcsError> {
        self.text
            .get(start..end)
            .ok_or(JcsError::InvalidUtf8 { offset: start })
    }

    /// Parses the value starting at the current position; `depth` is the
    /// number of containers that enclose it.
    fn parse_value(&mut self, depth: usize) -> Result<Value, JcsError> {
        match self.peek() {
            None => self.syntax(self.pos, "unexpected end of input, expected a value"),
            Some(b'{') => self.parse_object(depth + 1),
            Some(b'[') => self.parse_array(depth + 1),
            Some(b'"') => Ok(Value::String(self.parse_string()?)),
            Some(b't') => self.parse_literal(b"true", Value::Bool(true)),
            Some(b'f') => self.parse_literal(b"false", Value::Bool(false)),
            Some(b'n') => self.parse_literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.parse_number(),
            Some(_) => self.syntax(self.pos, "expected a value"),
        }
    }

    fn parse_literal(&mut self, literal: &'static [u8], value: Value) -> Result<Value, JcsError> {
        let end = self.pos + literal.len();
        if self.bytes.get(self.pos..end) == Some(literal) {
            self.pos = end;
            Ok(value)
        } else {
            self.syntax(self.pos, "invalid literal")
        }
    }

    fn check_depth(&self, depth: usize) -> Result<(), JcsError> {
        if depth > DEPTH_MAX {
            Err(JcsError::DepthExceeded {
                max: DEPTH_MAX,
                offset: self.pos,
            })
        } else {
            Ok(())
        }
    }

    fn parse_array(&mut self, depth: usize) -> Result<Value, JcsError> {
        self.check_depth(depth)?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.parse_value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    if self.peek() == Some(b']') {
                        return self.syntax(self.pos, "trailing comma in array");
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return self.syntax(self.pos, "unexpected end of input in array"),
                Some(_) => return self.syntax(self.pos, "expected ',' or ']' in array"),
            }
        }
    }

    fn parse_object(&mut self, depth: usize) -> Result<Value, JcsError> {
        self.check_depth(depth)?;
        self.pos += 1; // '{'
        let mut members: Vec<(String, Value)> = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            match self.peek() {
                Some(b'"') => {}
                Some(b'}') => return self.syntax(self.pos, "trailing comma in object"),
                None => return self.syntax(self.pos, "unexpected end of input in object"),
                Some(_) => return self.syntax(self.pos, "expected a string member name"),
            }
            let key = self.parse_string()?;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return self.syntax(self.pos, "expected ':' after member name");
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.parse_value(depth)?;
            members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b'}') => {
                    self.pos += 1;
                    check_duplicates(&members)?;
                    return Ok(Value::Object(members));
                }
                None => return self.syntax(self.pos, "unexpected end of input in object"),
                Some(_) => return self.syntax(self.pos, "expected ',' or '}' in object"),
            }
        }
    }

    /// Parses a string literal; the current byte is the opening quote.
    fn parse_string(&mut self) -> Result<String, JcsError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        self.skip_plain();
        // Most strings in a record contain no escapes, so they are copied out of
        // the input in one piece without building the result incrementally.
        if self.peek() == Some(b'"') {
            let s = self.slice(start, self.pos)?;
            self.pos += 1;
            return Ok(s.to_owned());
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(self.slice(start, self.pos)?);
        loop {
            match self.peek() {
                None => return self.syntax(open, "unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.parse_escape(&mut out)?,
                Some(b) if b < 0x20 => {
                    return self.syntax(self.pos, "unescaped control character in string")
                }
                Some(_) => {
                    let run = self.pos;
                    self.skip_plain();
                    out.push_str(self.slice(run, self.pos)?);
                }
            }
        }
    }

    /// Advances over bytes that stand for themselves inside a string: anything
    /// but the closing quote, a backslash or a control character. Because the
    /// stopping bytes are ASCII, the run always ends on a character boundary.
    fn skip_plain(&mut self) {
        let rest = self.bytes.get(self.pos..).unwrap_or(&[]);
        let run = rest
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(rest.len());
        self.pos += run;
    }

    /// Decodes one escape sequence; the current byte is the backslash.
    fn parse_escape(&mut self, out: &mut String) -> Result<(), JcsError> {
        let backslash = self.pos;
        let Some(kind) = self.bytes.get(backslash + 1).copied() else {
            return self.syntax(backslash, "unterminated escape sequence");
        };
        self.pos = backslash + 2;
        let ch = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.parse_unicode_escape(backslash)?,
            _ => return self.syntax(backslash, "invalid escape sequence"),
        };
        out.push(ch);
        Ok(())
    }

    /// Decodes `\uXXXX`, joining a high surrogate with an immediately following
    /// escaped low surrogate. The current position is just after `\u`.
    fn parse_unicode_escape(&mut self, backslash: usize) -> Result<char, JcsError> {
        let unit = self.hex4(self.pos)?;
        self.pos += 4;
        let code = match unit {
            0xD800..=0xDBFF => {
                let next = self.pos;
                if self.bytes.get(next..next + 2) != Some(b"\\u") {
                    return Err(JcsError::LoneSurrogate { offset: backslash });
                }
                let low = self.hex4(next + 2)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(JcsError::LoneSurrogate { offset: backslash });
                }
                self.pos = next + 6;
                0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(JcsError::LoneSurrogate { offset: backslash }),
            _ => unit,
        };
        // Surrogates were handled above, so every remaining code is a scalar value.
        char::from_u32(code).ok_or(JcsError::LoneSurrogate { offset: backslash })
    }

    fn hex4(&self, at: usize) -> Result<u32, JcsError> {
        let mut unit = 0u32;
        for i in at..at + 4 {
            let digit = match self.bytes.get(i) {
                Some(&b) => (b as char).to_digit(16),
                None => None,
            };
            match digit {
                Some(d) => unit = unit * 16 + d,
                None => return self.syntax(i, "expected four hex digits in \\u escape"),
            }
        }
        Ok(unit)
    }

    fn skip_digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Validates the RFC 8259 number grammar, then converts the lexeme with the
    /// standard library's correctly rounded parser so that every implementation
    /// of RFC 8785 arrives at the same double.
    fn parse_number(&mut self) -> Result<Value, JcsError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return self.syntax(self.pos, "leading zero in number");
                }
            }
            Some(b'1'..=b'9') => {
                self.skip_digits();
            }
            _ => return self.syntax(self.pos, "expected a digit"),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.skip_digits() == 0 {
                return self.syntax(self.pos, "expected a digit after the decimal point");
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.skip_digits() == 0 {
                return self.syntax(self.pos, "expected a digit in the exponent");
            }
        }
        let lexeme = self.slice(start, self.pos)?;
        let x: f64 = match lexeme.parse() {
            Ok(x) => x,
            Err(_) => return self.syntax(start, "invalid number"),
        };
        if !x.is_finite() {
            return Err(JcsError::NonFiniteNumber { offset: start });
        }
        Ok(Value::Number(x))
    }
}

/// Refuses objects that repeat a member name (I-JSON, RFC 7493 section 2.3).
fn check_duplicates(members: &[(String, Value)]) -> Result<(), JcsError> {
    // Typical records have a handful of members, where a quadratic scan beats
    // allocating; larger objects are sorted so hostile input stays O(n log n).
    const SMALL: usize = 16;
    let duplicate = if members.len() <= SMALL {
        members.iter().enumerate().find_map(|(i, (key, _))| {
            members[..i]
                .iter()
                .any(|(earlier, _)| earlier == key)
                .then_some(key.as_str())
        })
    } else {
        let mut keys: Vec<&str> = members.iter().map(|(key, _)| key.as_str()).collect();
        keys.sort_unstable();
        keys.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    };
    match duplicate {
        Some(key) => Err(JcsError::DuplicateKey {
            key: key.to_owned(),
        }),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------

/// Destination of canonical output. Besides a byte vector there is a sink that
/// only compares against expected bytes, so [`is_canonical`] need not build
/// the canonical form just to compare it.
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

struct CompareSink<'a> {
    expected: &'a [u8],
    pos: usize,
    equal: bool,
}

impl Sink for CompareSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if !self.equal {
            return;
        }
        let end = self.pos + bytes.len();
        if self.expected.get(self.pos..end) == Some(bytes) {
            self.pos = end;
        } else {
            self.equal = false;
        }
    }
}

/// Appends the RFC 8785 canonical form of `v` to `out`.
///
/// Numbers must be finite; [`parse`] guarantees that, and a value built by
/// hand with a non-finite number is a programmer error (see [`format_number`]).
pub fn write_canonical(v: &Value, out: &mut Vec<u8>) {
    write_value(v, out);
}

/// Returns the RFC 8785 canonical form of `v`.
#[must_use]
pub fn to_canonical(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(v, &mut out);
    out
}

/// Parses `input` strictly and returns its RFC 8785 canonical form.
///
/// # Errors
///
/// Fails exactly when [`parse`] does.
pub fn canonicalize(input: &[u8]) -> Result<Vec<u8>, JcsError> {
    let value = parse(input)?;
    // The canonical form is never longer than the input plus a little escaping
    // and number expansion, so the input length is a good first capacity.
    let mut out = Vec::with_capacity(input.len());
    write_canonical(&value, &mut out);
    Ok(out)
}

/// Reports whether `input` is valid and already in RFC 8785 canonical form.
///
/// Invalid input is an error rather than `false`, so callers can tell a
/// malformed record from a merely non-canonical one.
///
/// # Errors
///
/// Fails exactly when [`parse`] does.
pub fn is_canonical(input: &[u8]) -> Result<bool, JcsError> {
    let value = parse(input)?;
    let mut sink = CompareSink {
        expected: input,
        pos: 0,
        equal: true,
    };
    write_value(&value, &mut sink);
    Ok(sink.equal && sink.pos == input.len())
}

/// Reports whether `input` is canonical *and simple*, without building a
/// value: every number an integer within ±(2^53−1), every member name ASCII
/// without escapes. `true` means [`is_canonical`] would answer `Ok(true)`;
/// `false` means only "not proven here" (the input may still be canonical, or
/// invalid), and the caller falls back to the full parser for the verdict and
/// its precise message. Statements, records and envelopes are always simple,
/// so their hot paths never build a tree (see `events::statement`).
#[must_use]
pub fn is_canonical_simple(input: &[u8]) -> bool {
    canonical_simple_text(input).is_some()
}

/// [`is_canonical_simple`] that hands back the input as text when it is:
/// the UTF-8 check is done, so a decoder reading the `&str` (serde_json's
/// `from_str`) need not check each string again.
#[must_use]
pub fn canonical_simple_text(input: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(input).ok()?;
    let mut c = SimpleCheck {
        b: input,
        i: 0,
        spans: NoSpans,
    };
    (c.value(0) && c.i == input.len()).then_some(text)
}

/// [`canonical_simple_text`] that also hands back where the members of the
/// objects one and two levels deep lie (a record's and its statement's, or
/// an envelope's and its statement's), found in the same pass: a decoder
/// then reads them by position instead of parsing the text again.
#[must_use]
pub fn canonical_simple_members<'a>(input: &'a [u8], members: &mut Members<'a>) -> Option<&'a str> {
    let text = std::str::from_utf8(input).ok()?;
    members.len = 0;
    members.overflow = false;
    let mut c = SimpleCheck {
        b: input,
        i: 0,
        spans: members,
    };
    (c.value(0) && c.i == input.len()).then_some(text)
}

/// A member of an object one or two levels deep, as found by
/// [`canonical_simple_members`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Member<'a> {
    /// 1 for the members of the outermost object, 2 for those of an object
    /// that is one of its values. An array counts as a level too: the
    /// members of an object inside an array that is a value of the
    /// outermost object are at depth 3, and are not listed.
    pub depth: u8,
    /// The member's name (ASCII).
    pub name: &'a [u8],
    /// The value's text is `text[start..end]`, quotes included for a string.
    pub start: usize,
    pub end: usize,
    /// The value is a string that holds an escape.
    pub escaped: bool,
}

/// Members one and two levels deep, in text order; at most [`MEMBERS_MAX`].
#[derive(Debug)]
pub struct Members<'a> {
    list: [Member<'a>; MEMBERS_MAX],
    len: usize,
    overflow: bool,
}

impl<'a> Member<'a> {
    /// The value's text.
    pub fn raw(&self, text: &'a str) -> Option<&'a str> {
        text.get(self.start..self.end)
    }

    /// A string value without escapes, between its quotes.
    pub fn plain_str(&self, text: &'a str) -> Option<&'a str> {
        let raw = self.raw(text)?;
        if self.escaped || !raw.starts_with('"') {
            return None;
        }
        raw.get(1..raw.len() - 1)
    }

    /// An integer value (the check admitted only safe integers in shortest form).
    pub fn int(&self, text: &str) -> Option<i64> {
        let raw = text.get(self.start..self.end)?;
        if !raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok()
    }
}

/// Members [`Members`] holds; a text with more holds none (`list` is `None`).
pub const MEMBERS_MAX: usize = 32;

impl Default for Members<'_> {
    fn default() -> Self {
        Members {
            list: [Member::default(); MEMBERS_MAX],
            len: 0,
            overflow: false,
        }
    }
}

impl<'a> Members<'a> {
    /// Every member found, or `None` when there were more than [`MEMBERS_MAX`].
    pub fn list(&self) -> Option<&[Member<'a>]> {
        (!self.overflow).then(|| &self.list[..self.len])
    }

    /// The members at `depth`, in text order, when every member was found.
    pub fn at(&self, depth: u8) -> Option<impl Iterator<Item = &Member<'a>>> {
        Some(self.list()?.iter().filter(move |m| m.depth == depth))
    }
}

/// What the canonical check records of each member it passes.
trait Spans<'a> {
    fn member(&mut self, m: Member<'a>);
}

/// Records nothing: the plain check.
struct NoSpans;

impl<'a> Spans<'a> for NoSpans {
    #[inline(always)]
    fn member(&mut self, _: Member<'a>) {}
}

impl<'a> Spans<'a> for &mut Members<'a> {
    fn member(&mut self, m: Member<'a>) {
        if m.depth > 2 {
            return;
        }
        match self.list.get_mut(self.len) {
            Some(slot) => {
                *slot = m;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }
}

/// The single pass behind [`is_canonical_simple`].
struct SimpleCheck<'a, S> {
    b: &'a [u8],
    i: usize,
    spans: S,
}

impl<'a, S: Spans<'a>> SimpleCheck<'a, S> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> bool {
        match self.peek() {
            Some(b'{') => depth < DEPTH_MAX && self.object(depth + 1),
            Some(b'[') => depth < DEPTH_MAX && self.array(depth + 1),
            Some(b'"') => self.string().is_some(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.integer(),
            _ => false,
        }
    }

    /// A safe integer in its shortest form: `0`, or an optional minus and a
    /// digit string without leading zeros (never `-0`).
    fn integer(&mut self) -> bool {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let digits = &self.b[start..self.i];
        if digits.is_empty() || digits.len() > 16 || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return false;
        }
        if digits[0] == b'0' {
            return digits.len() == 1 && !negative;
        }
        let n = digits
            .iter()
            .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        n < (1i64 << 53)
    }

    /// Moves past the bytes of a string that need no look: anything but a
    /// quote, a backslash or a control character, eight at a time (strings
    /// are most of a record's bytes: hex, base64, times, names).
    fn skip_plain(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        // A byte of `w` is flagged when it is below 0x20, a quote or a
        // backslash; the borrow of the subtraction can flag a byte above a
        // flagged one, never one below, so "no flag" is exact.
        let special = |w: u64| {
            let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
            (w.wrapping_sub(ONES * 0x20) & !w & HIGHS)
                | zero(w ^ (ONES * 0x22))
                | zero(w ^ (ONES * 0x5C))
        };
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if special(u64::from_le_bytes(word)) != 0 {
                break;
            }
            self.i += 8;
        }
        while let Some(&c) = self.b.get(self.i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                break;
            }
            self.i += 1;
        }
    }

    /// A string with exactly the escapes [`write_string`] writes. Returns the
    /// raw text between the quotes and whether it held an escape.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.skip_plain();
            match *self.b.get(self.i)? {
                b'"' => break,
                0x00..=0x1F => return None,
                b'\\' => {
                    escaped = true;
                    let ok = match self.b.get(self.i + 1)? {
                        b'"' | b'\\' | b'b' | b't' | b'n' | b'f' | b'r' => {
                            self.i += 2;
                            true
                        }
                        b'u' => {
                            // Only control characters without a short form, in lowercase hex.
                            let h = self.b.get(self.i + 2..self.i + 6)?;
                            let lower = |x: u8| matches!(x, b'0'..=b'9' | b'a'..=b'f');
                            self.i += 6;
                            h[0] == b'0'
                                && h[1] == b'0'
                                && matches!(h[2], b'0' | b'1')
                                && lower(h[3])
                                && !matches!((h[2], h[3]), (b'0', b'8' | b'9' | b'a' | b'c' | b'd'))
                        }
                        _ => false,
                    };
                    if !ok {
                        return None;
                    }
                }
                _ => self.i += 1,
            }
        }
        let b: &'a [u8] = self.b;
        let text = &b[start..self.i];
        self.i += 1;
        Some((text, escaped))
    }

    fn array(&mut self, depth: usize) -> bool {
        self.i += 1;
        if self.peek() == Some(b']') {
            self.i += 1;
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    /// Members in strictly increasing order of ASCII names; byte order is
    /// UTF-16 order for ASCII, and "strictly" also rules out duplicates.
    fn object(&mut self, depth: usize) -> bool {
        self.i += 1;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return true;
        }
        let mut last: Option<&'a [u8]> = None;
        loop {
            if self.peek() != Some(b'"') {
                return false;
            }
            let Some((name, escaped)) = self.string() else {
                return false;
            };
            if escaped || !name.is_ascii() || last.is_some_and(|l| l >= name) {
                return false;
            }
            last = Some(name);
            if self.peek() != Some(b':') {
                return false;
            }
            self.i += 1;
            let start = self.i;
            let escaped = if self.peek() == Some(b'"') {
                match self.string() {
                    Some((_, escaped)) => escaped,
                    None => return false,
                }
            } else if self.value(depth) {
                false
            } else {
                return false;
            };
            self.spans.member(Member {
                depth: u8::try_from(depth).unwrap_or(u8::MAX),
                name,
                start,
                end: self.i,
                escaped,
            });
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }
}

fn write_value<S: Sink>(v: &Value, out: &mut S) {
    match v {
        Value::Null => out.put(b"null"),
        Value::Bool(true) => out.put(b"true"),
        Value::Bool(false) => out.put(b"false"),
        Value::Number(x) => {
            let mut buf = NumberBuf::new();
            format_number_into(*x, &mut buf);
            out.put(buf.as_bytes());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.put(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put(b",");
                }
                write_value(item, out);
            }
            out.put(b"]");
        }
        Value::Object(members) => {
            out.put(b"{");
            // Stored records are usually canonical already, so their members are
            // in order and the sorted copy of references can be skipped.
            let sorted = members
                .windows(2)
                .all(|w| cmp_utf16(&w[0].0, &w[1].0) == Ordering::Less);
            if sorted {
                write_members(members.iter(), out);
            } else {
                let mut refs: Vec<&(String, Value)> = members.iter().collect();
                // A stable sort keeps hand-built objects with repeated names
                // deterministic; parsed objects never have them.
                refs.sort_by(|a, b| cmp_utf16(&a.0, &b.0));
                write_members(refs.into_iter(), out);
            }
            out.put(b"}");
        }
    }
}

fn write_members<'v, S: Sink>(members: impl Iterator<Item = &'v (String, Value)>, out: &mut S) {
    for (i, (key, value)) in members.enumerate() {
        if i > 0 {
            out.put(b",");
        }
        write_string(key, out);
        out.put(b":");
        write_value(value, out);
    }
}

/// Compares strings as sequences of UTF-16 code units (RFC 8785 section 3.2.3).
///
/// UTF-8 byte order equals code point order, which agrees with UTF-16 order
/// except when a character above U+FFFF (a surrogate pair, 0xD800..0xDFFF)
/// meets one in U+E000..U+FFFF. So the common byte prefix is skipped and only
/// the first differing characters are compared in UTF-16, without allocating.
fn cmp_utf16(a: &str, b: &str) -> Ordering {
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    // Back up to the start of the character that holds the first difference;
    // within the common prefix a boundary in `a` is also one in `b`.
    let mut start = common;
    while start > 0 && !a.is_char_boundary(start) {
        start -= 1;
    }
    let next_a = a.get(start..).and_then(|s| s.chars().next());
    let next_b = b.get(start..).and_then(|s| s.chars().next());
    match (next_a, next_b) {
        (Some(x), Some(y)) => {
            let (mut ux, mut uy) = ([0u16; 2], [0u16; 2]);
            x.encode_utf16(&mut ux).cmp(&y.encode_utf16(&mut uy))
        }
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
}

/// Writes a string literal escaping only what RFC 8785 section 3.2.2.2 requires.
fn write_string<S: Sink>(s: &str, out: &mut S) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.put(b"\"");
    let mut run = 0;
    let mut unicode: [u8; 6];
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x09 => b"\\t",
            0x0A => b"\\n",
            0x0C => b"\\f",
            0x0D => b"\\r",
            0x00..=0x1F => {
                unicode = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0x0F)],
                ];
                &unicode
            }
            _ => continue,
        };
        out.put(bytes.get(run..i).unwrap_or(&[]));
        out.put(escape);
        run = i + 1;
    }
    out.put(bytes.get(run..).unwrap_or(&[]));
    out.put(b"\"");
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/// Formats a double as ECMAScript `Number.prototype.toString` does, which is
/// the number serialization of RFC 8785 section 3.2.2.3; `-0` becomes `"0"`.
///
/// `x` must be finite: [`parse`] never yields anything else, so a non-finite
/// value is a programmer error. Debug builds assert this; release builds
/// return `"null"`, as `JSON.stringify` would, rather than panic.
#[must_use]
pub fn format_number(x: f64) -> String {
    let mut buf = NumberBuf::new();
    format_number_into(x, &mut buf);
    buf.as_bytes().iter().copied().map(char::from).collect()
}

/// Fixed-capacity ASCII buffer, so that formatting a number allocates nothing.
///
/// The longest outputs are about 25 bytes (for example
/// `-0.0000033333333333333333` or `-1.7976931348623157e+308`), and the
/// longest `{:e}` text is shorter still, so 32 bytes always suffice.
struct NumberBuf {
    buf: [u8; 32],
    len: usize,
}

impl NumberBuf {
    fn new() -> Self {
        NumberBuf {
            buf: [0; 32],
            len: 0,
        }
    }

    fn push(&mut self, b: u8) {
        debug_assert!(self.len < self.buf.len(), "number buffer overflow");
        if let Some(slot) = self.buf.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push(b);
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl std::fmt::Write for NumberBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Lays out `x` per ECMA-262 Number::toString (radix 10).
fn format_number_into(x: f64, out: &mut NumberBuf) {
    debug_assert!(x.is_finite(), "RFC 8785 cannot represent {x}");
    if !x.is_finite() {
        out.extend(b"null");
        return;
    }
    if x == 0.0 {
        out.extend(b"0");
        return;
    }
    if x < 0.0 {
        out.push(b'-');
    }
    let mut digits = [0u8; 17];
    let (k, n) = shortest_digits(x.abs(), &mut digits);
    let digits = digits.get(..k).unwrap_or(&[]);
    // In ECMA-262 terms the value is 0.d1d2...dk × 10^n, with k digits.
    let k = k as i32;
    if k <= n && n <= 21 {
        // Integers below 10^21 in plain notation, padded with zeros.
        out.extend(digits);
        for _ in 0..n - k {
            out.push(b'0');
        }
    } else if 0 < n && n <= 21 {
        // Decimal point inside the digits.
        // Here 0 < n < k, so the split point lies inside the digits.
        let (int, frac) = digits.split_at(n as usize);
        out.extend(int);
        out.push(b'.');
        out.extend(frac);
    } else if -6 < n && n <= 0 {
        // Small magnitudes down to 1e-6 with leading zeros after the point.
        out.extend(b"0.");
        for _ in 0..-n {
            out.push(b'0');
        }
        out.extend(digits);
    } else {
        // Exponential notation with an explicit exponent sign.
        // A nonzero value has at least one digit, so the split cannot fail.
        let (first, rest) = digits.split_at(1);
        out.extend(first);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend(rest);
        }
        let e = n - 1;
        out.push(b'e');
        out.push(if e < 0 { b'-' } else { b'+' });
        let mut tmp = NumberBuf::new();
        // At most three digits go into an empty 32-byte buffer, which cannot fail.
        let _ = write!(tmp, "{}", e.unsigned_abs());
        out.extend(tmp.as_bytes());
    }
}

/// Returns the shortest round-trip decimal digits of `a` (finite, positive)
/// in `digits`, their count k, and the exponent n with a = 0.d1..dk × 10^n.
///
/// Rust's `{:e}` formatting produces a shortest digit string that parses back
/// to the same double and, among those, the one closest to `a`. ECMA-262 asks
/// for the same, except that when two candidates are equally close it wants
/// the one with an even last digit, which Rust does not promise (RFC 8785
/// Appendix B has `1424953923781206.2`, where Rust's shortest digits end in
/// 3; about one random double in four thousand is affected). Such a tie needs an exact decimal midpoint between two
/// candidates that both round-trip, which happens only with 16 or 17 digits
/// and a fractional part. In that case Rust's exact-precision formatting,
/// which rounds the binary value correctly with ties to even, gives the
/// closest k-digit decimal; it is taken whenever it also round-trips.
fn shortest_digits(a: f64, digits: &mut [u8; 17]) -> (usize, i32) {
    let mut sci = NumberBuf::new();
    // The text is at most 23 bytes ("1.7976931348623157e308", "5e-324"), so
    // writing it into the 32-byte buffer cannot fail.
    let _ = write!(sci, "{a:e}");
    let (k, n) = scientific_digits(sci.as_bytes(), digits);
    if k >= 16 && n < k as i32 {
        let mut exact = NumberBuf::new();
        let _ = write!(exact, "{a:.*e}", k - 1);
        let round_trips = std::str::from_utf8(exact.as_bytes())
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
            == Some(a);
        let mut nearest = [0u8; 17];
        if round_trips && scientific_digits(exact.as_bytes(), &mut nearest) == (k, n) {
            *digits = nearest;
        }
    }
    (k, n)
}

/// Splits Rust `{:e}` output such as `1.2345e-7` into its significant digits
/// and the ECMA-262 exponent n (one more than the scientific exponent).
fn scientific_digits(text: &[u8], digits: &mut [u8; 17]) -> (usize, i32) {
    let mut k = 0;
    let mut exp: i32 = 0;
    let mut exp_negative = false;
    let mut in_exponent = false;
    for &b in text {
        match b {
            b'e' => in_exponent = true,
            b'-' if in_exponent => exp_negative = true,
            b'0'..=b'9' if in_exponent => exp = exp * 10 + i32::from(b - b'0'),
            b'0'..=b'9' => {
                if let Some(slot) = digits.get_mut(k) {
                    *slot = b;
                    k += 1;
                }
            }
            _ => {}
        }
    }
    if exp_negative {
        exp = -exp;
    }
    (k, exp + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/jcs");

    fn canon(input: &str) -> String {
        match canonicalize(input.as_bytes()) {
            Ok(out) => String::from_utf8(out).expect("canonical output is UTF-8"),
            Err(e) => panic!("{input:?} refused: {e}"),
        }
    }

    fn decode_hex(text: &str) -> Vec<u8> {
        text.split_whitespace()
            .map(|pair| u8::from_str_radix(pair, 16).expect("hex byte"))
            .collect()
    }

    #[test]
    fn rfc8785_vectors() {
        let input_dir = Path::new(VECTORS).join("input");
        let mut names: Vec<String> = std::fs::read_dir(&input_dir)
            .expect("vector input directory")
            .map(|entry| {
                entry
                    .expect("directory entry")
                    .file_name()
                    .into_string()
                    .expect("UTF-8 file name")
            })
            .filter(|name| name.ends_with(".json"))
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "arrays.json",
                "french.json",
                "structures.json",
                "unicode.json",
                "values.json",
                "weird.json"
            ]
        );
        for name in &names {
            let stem = name.trim_end_matches(".json");
            let input = std::fs::read(input_dir.join(name)).expect("input");
            let expected =
                std::fs::read(Path::new(VECTORS).join("output").join(name)).expect("output");
            let hex = std::fs::read_to_string(
                Path::new(VECTORS)
                    .join("outhex")
                    .join(format!("{stem}.txt")),
            )
            .expect("outhex");
            assert_eq!(
                decode_hex(&hex),
                expected,
                "{stem}: output and outhex differ"
            );

            let got = canonicalize(&input).unwrap_or_else(|e| panic!("{stem}: {e}"));
            assert_eq!(
                got,
                expected,
                "{stem}: got {}",
                String::from_utf8_lossy(&got)
            );
            assert_eq!(is_canonical(&expected), Ok(true), "{stem}");
            assert_eq!(is_canonical(&input), Ok(false), "{stem}");
            assert_eq!(canonicalize(&expected).as_deref(), Ok(&expected[..]));
            let value = parse(&input).expect("parse");
            let mut appended = b"prefix".to_vec();
            write_canonical(&value, &mut appended);
            assert_eq!(&appended[6..], &expected[..]);
        }
    }

    /// RFC 8785 Appendix B, plus ECMAScript layout boundaries.
    #[test]
    fn number_formatting_table() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
            (0x4340000000000001, "9007199254740994"),
            (0x4340000000000002, "9007199254740996"),
            (0x4415af1d78b58c40, "100000000000000000000"),
            // Ties between two equally close shortest candidates resolve to the
            // even last digit (values from cyberphone's es6testfile).
            (0xc300ce90f2d10fca, "-591340196471289.2"),
            (0x431b9180a34a8f19, "1939951513150406.2"),
            (0xc2dbfec8a2081be8, "-123124406820975.62"),
            (0x427fb72bdcfed480, "2179473461229.2812"),
            (0x0010000000000000, "2.2250738585072014e-308"),
            (0x000fffffffffffff, "2.225073858507201e-308"),
        ];
        for &(bits, expected) in cases {
            let x = f64::from_bits(bits);
            assert_eq!(format_number(x), expected, "bits {bits:#018x}");
            let v = Value::Number(x);
            assert_eq!(to_canonical(&v), expected.as_bytes(), "bits {bits:#018x}");
        }
        let decimal: &[(f64, &str)] = &[
            (1.0, "1"),
            (-1.5, "-1.5"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (1e20, "100000000000000000000"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1.5e-6, "0.0000015"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (-1e-7, "-1e-7"),
            (1e300, "1e+300"),
            (123e-20, "1.23e-18"),
        ];
        for &(x, expected) in decimal {
            assert_eq!(format_number(x), expected, "{x:e}");
        }
    }

    /// Small deterministic generator so the property test needs no extra crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn number_round_trip_property() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut checked = 0;
        for i in 0..20_000u32 {
            let raw = rng.next();
            // Mix in integers and values near the layout thresholds, which
            // uniformly random bit patterns would almost never hit.
            let x = match i % 4 {
                0 => f64::from_bits(raw),
                1 => (raw >> 11) as f64 * if raw & 1 == 0 { 1.0 } else { -1.0 },
                2 => f64::from_bits(raw).abs() % 1e-5,
                _ => (raw % 1_000_000_000) as f64 * 1e12,
            };
            if !x.is_finite() {
                continue;
            }
            let text = format_number(x);
            let back: f64 = text.parse().expect("formatted number parses");
            assert_eq!(back, x, "{x:e} formatted as {text}");
            // The canonical form must be accepted by the strict parser and
            // reproduce itself.
            assert_eq!(is_canonical(text.as_bytes()), Ok(true), "{text}");
            checked += 1;
        }
        assert!(checked > 15_000);
    }

    #[test]
    fn parse_rejections() {
        let syntax = |input: &[u8]| match parse(input) {
            Err(JcsError::Syntax { .. }) => {}
            other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(input)),
        };
        syntax(b"");
        syntax(b"   ");
        syntax(b"[1,2,]");
        syntax(b"{\"a\":1,}");
        syntax(b"[01]");
        syntax(b"-01");
        syntax(b"00");
        syntax(b"1.");
        syntax(b".5");
        syntax(b"+1");
        syntax(b"1e");
        syntax(b"1e+");
        syntax(b"-");
        syntax(b"NaN");
        syntax(b"Infinity");
        syntax(b"-Infinity");
        syntax(b"[1 // comment\n]");
        syntax(b"/* c */ 1");
        syntax(b"\xEF\xBB\xBF{}");
        syntax(b"\"a\x01b\"");
        syntax(b"\"tab\there\"");
        syntax(b"\"line\nbreak\"");
        syntax(b"\"unterminated");
        syntax(b"\"bad \\x escape\"");
        syntax(b"\"\\u12G4\"");
        syntax(b"\"\\u12\"");
        syntax(b"{'a':1}");
        syntax(b"{a:1}");
        syntax(b"{\"a\" 1}");
        syntax(b"[1 2]");
        syntax(b"tru");
        syntax(b"nul");
        syntax(b"\x0c1");
        assert_eq!(
            parse(b"\xEF\xBB\xBF{}"),
            Err(JcsError::Syntax {
                offset: 0,
                what: "byte order mark is not allowed"
            })
        );
        assert_eq!(
            parse(b"[1,2,]"),
            Err(JcsError::Syntax {
                offset: 5,
                what: "trailing comma in array"
            })
        );
        assert_eq!(
            parse(b"[01]"),
            Err(JcsError::Syntax {
                offset: 2,
                what: "leading zero in number"
            })
        );
        assert_eq!(
            parse(b"\"a\x01\""),
            Err(JcsError::Syntax {
                offset: 2,
                what: "unescaped control character in string"
            })
        );
        assert_eq!(
            parse(br#"{"a":1,"b":2,"a":3}"#),
            Err(JcsError::DuplicateKey { key: "a".into() })
        );
        // Escapes do not hide a duplicate: the names are compared decoded.
        assert_eq!(
            parse(br#"{"a":1,"\u0061":2}"#),
            Err(JcsError::DuplicateKey { key: "a".into() })
        );
        assert_eq!(
            parse(br#"[{"x":{"k":1,"k":1}}]"#),
            Err(JcsError::DuplicateKey { key: "k".into() })
        );
        assert_eq!(
            parse(br#""\ud800""#),
            Err(JcsError::LoneSurrogate { offset: 1 })
        );
        assert_eq!(
            parse(br#""ab\udc00""#),
            Err(JcsError::LoneSurrogate { offset: 3 })
        );
        assert_eq!(
            parse(br#""\ud800\u0041""#),
            Err(JcsError::LoneSurrogate { offset: 1 })
        );
        assert_eq!(
            parse(br#""\ud800\ud800""#),
            Err(JcsError::LoneSurrogate { offset: 1 })
        );
        assert_eq!(
            parse(br#""\ude02\ud83d""#),
            Err(JcsError::LoneSurrogate { offset: 1 })
        );
        assert_eq!(parse(b"1 x"), Err(JcsError::TrailingData { offset: 2 }));
        assert_eq!(parse(b"{}{}"), Err(JcsError::TrailingData { offset: 2 }));
        assert_eq!(parse(b"\"x\"\0"), Err(JcsError::TrailingData { offset: 3 }));
        assert_eq!(
            parse(b"[\"\xFF\"]"),
            Err(JcsError::InvalidUtf8 { offset: 2 })
        );
        assert_eq!(parse(b"\"\xC3\""), Err(JcsError::InvalidUtf8 { offset: 1 }));
        // An encoded surrogate (CESU-8) is not UTF-8 either.
        assert_eq!(
            parse(b"\"\xED\xA0\x80\""),
            Err(JcsError::InvalidUtf8 { offset: 1 })
        );
        assert_eq!(
            parse(b"1e309"),
            Err(JcsError::NonFiniteNumber { offset: 0 })
        );
        assert_eq!(
            parse(b"[-1.8e308]"),
            Err(JcsError::NonFiniteNumber { offset: 1 })
        );
        assert_eq!(
            parse(b"1e99999999999999999999"),
            Err(JcsError::NonFiniteNumber { offset: 0 })
        );
    }

    #[test]
    fn depth_limit() {
        let nested = |depth: usize| {
            let mut s = "[".repeat(depth);
            s.push_str(&"]".repeat(depth));
            s
        };
        assert!(parse(nested(DEPTH_MAX).as_bytes()).is_ok());
        assert_eq!(
            parse(nested(DEPTH_MAX + 1).as_bytes()),
            Err(JcsError::DepthExceeded {
                max: DEPTH_MAX,
                offset: DEPTH_MAX
            })
        );
        let objects = |depth: usize| {
            let mut s = r#"{"a":"#.repeat(depth);
            s.push('1');
            s.push_str(&"}".repeat(depth));
            s
        };
        assert!(parse(objects(DEPTH_MAX).as_bytes()).is_ok());
        assert!(matches!(
            parse(objects(DEPTH_MAX + 1).as_bytes()),
            Err(JcsError::DepthExceeded { .. })
        ));
        // Far deeper input must be refused, not overflow the stack.
        assert!(matches!(
            parse(nested(1_000_000).as_bytes()),
            Err(JcsError::DepthExceeded { .. })
        ));
    }

    #[test]
    fn accepted_edge_cases() {
        assert_eq!(canon(" \t\r\n[ 1 , true ]\n "), "[1,true]");
        assert_eq!(canon("-0"), "0");
        assert_eq!(canon("-0.0e5"), "0");
        assert_eq!(canon("1E2"), "100");
        assert_eq!(canon("1e-400"), "0");
        assert_eq!(canon("0.1e1"), "1");
        assert_eq!(canon("\"\\/\""), "\"/\"");
        assert_eq!(canon("\"\\ud83d\\ude02\""), "\"😂\"");
        assert_eq!(canon("{\"\":{}}"), "{\"\":{}}");
        assert_eq!(canon("\"\""), "\"\"");
        // Lexemes longer than the 17 significant digits still round correctly.
        assert_eq!(canon("333333333.33333329"), "333333333.3333333");
        assert_eq!(canon("0.30000000000000000000000000000000000001"), "0.3");
    }

    #[test]
    fn string_escaping() {
        let all_controls: String = (0u8..0x20).map(char::from).collect();
        let out = String::from_utf8(to_canonical(&Value::String(all_controls))).expect("UTF-8");
        assert_eq!(
            out,
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\
             \\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""
        );
        // DEL, U+2028, U+2029, non-ASCII and '/' stay literal.
        let literal = "\u{7f}\u{2028}\u{2029}é€😂/'<>&";
        assert_eq!(
            to_canonical(&Value::String(literal.into())),
            format!("\"{literal}\"").into_bytes()
        );
        assert_eq!(canon(r#""\u00e9\u20AC\"\\""#), "\"é€\\\"\\\\\"");
    }

    #[test]
    fn utf16_member_order() {
        // U+1F602 is the pair D83D DE02 in UTF-16, which sorts before U+FB33,
        // although its UTF-8 encoding (F0 ..) sorts after U+FB33 (EF ..).
        let out =
            canon("{\"\u{FB33}\":1,\"\u{1F602}\":2,\"\u{10000}\":3,\"\u{FFFF}\":4,\"\u{E000}\":5}");
        assert_eq!(
            out,
            "{\"\u{10000}\":3,\"\u{1F602}\":2,\"\u{E000}\":5,\"\u{FB33}\":1,\"\u{FFFF}\":4}"
        );
        assert_eq!(cmp_utf16("\u{1F602}", "\u{FB33}"), Ordering::Less);
        assert_eq!(cmp_utf16("a", "ab"), Ordering::Less);
        assert_eq!(cmp_utf16("ab", "a"), Ordering::Greater);
        assert_eq!(cmp_utf16("", ""), Ordering::Equal);
        assert_eq!(cmp_utf16("x\u{1F602}", "x\u{1F602}"), Ordering::Equal);
        // Shared leading bytes inside a multi-byte character must not confuse
        // the comparison: U+00E9 (C3 A9) against U+00C0 (C3 80).
        assert_eq!(cmp_utf16("\u{E9}", "\u{C0}"), Ordering::Greater);

        // Against the obvious definition over random strings.
        let alphabet = [
            "a",
            "b",
            "\u{7f}",
            "\u{e9}",
            "\u{c0}",
            "\u{7ff}",
            "\u{800}",
            "\u{d7ff}",
            "\u{e000}",
            "\u{fb33}",
            "\u{ffff}",
            "\u{10000}",
            "\u{1f602}",
            "\u{1f603}",
            "\u{10ffff}",
        ];
        let mut rng = XorShift(12345);
        let random_string = |rng: &mut XorShift| {
            let len = (rng.next() % 4) as usize;
            (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect::<String>()
        };
        for _ in 0..5_000 {
            let a = random_string(&mut rng);
            let b = random_string(&mut rng);
            assert_eq!(
                cmp_utf16(&a, &b),
                a.encode_utf16().cmp(b.encode_utf16()),
                "{a:?} vs {b:?}"
            );
        }
    }

    #[test]
    fn large_objects_and_ordering() {
        // More members than the quadratic duplicate check handles, in reverse
        // order so the serializer has to sort.
        let members: Vec<String> = (0..40).rev().map(|i| format!("\"k{i:02}\":{i}")).collect();
        let input = format!("{{{}}}", members.join(","));
        let out = canon(&input);
        let expected: Vec<String> = (0..40).map(|i| format!("\"k{i:02}\":{i}")).collect();
        assert_eq!(out, format!("{{{}}}", expected.join(",")));

        let mut with_dup = members.clone();
        with_dup.push("\"k17\":0".into());
        let input = format!("{{{}}}", with_dup.join(","));
        assert_eq!(
            parse(input.as_bytes()),
            Err(JcsError::DuplicateKey { key: "k17".into() })
        );
    }

    #[test]
    fn is_canonical_cases() {
        assert_eq!(is_canonical(b"{\"a\":1,\"b\":[true,null]}"), Ok(true));
        assert_eq!(is_canonical(b"{\"b\":1,\"a\":2}"), Ok(false));
        assert_eq!(is_canonical(b"{\"a\":1} "), Ok(false));
        assert_eq!(is_canonical(b"{\"a\":1.0}"), Ok(false));
        assert_eq!(is_canonical(b"\"\\u00e9\""), Ok(false));
        assert_eq!(is_canonical(b"\"\\u001f\""), Ok(true));
        assert_eq!(is_canonical(b"\"\\u001F\""), Ok(false));
        assert_eq!(
            is_canonical(b"[1,2"),
            Err(JcsError::Syntax {
                offset: 4,
                what: "unexpected end of input in array"
            })
        );
    }

    #[test]
    fn accessors() {
        let v = parse(
            br#"{"s":"x","i":-42,"f":1.5,"big":9007199254740992,"max":9007199254740991,
                "a":[1,2],"o":{"k":null},"z":-0}"#,
        )
        .expect("valid");
        assert_eq!(v.get("s").and_then(Value::as_str), Some("x"));
        assert_eq!(v.get("i").and_then(Value::as_i64), Some(-42));
        assert_eq!(v.get("f").and_then(Value::as_i64), None);
        assert_eq!(v.get("big").and_then(Value::as_i64), None);
        assert_eq!(
            v.get("max").and_then(Value::as_i64),
            Some(9_007_199_254_740_991)
        );
        assert_eq!(v.get("z").and_then(Value::as_i64), Some(0));
        assert_eq!(
            v.get("a").and_then(Value::as_array).map(<[Value]>::len),
            Some(2)
        );
        assert_eq!(
            v.get("o").and_then(Value::as_object),
            Some(&[("k".to_string(), Value::Null)][..])
        );
        assert_eq!(v.get("missing"), None);
        assert_eq!(Value::Null.get("s"), None);
        assert_eq!(Value::Number(1.0).as_str(), None);
        assert_eq!(Value::String("1".into()).as_i64(), None);
        assert_eq!(Value::Number(f64::NAN).as_i64(), None);
        assert_eq!(Value::Number(f64::INFINITY).as_i64(), None);
        // Members keep input order in the parsed value.
        let names: Vec<&str> = v
            .as_object()
            .map(|m| m.iter().map(|(k, _)| k.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, ["s", "i", "f", "big", "max", "a", "o", "z"]);
    }

    #[test]
    fn error_messages_name_offsets() {
        let e = parse(b"[1,]").expect_err("trailing comma");
        assert_eq!(
            e.to_string(),
            "JSON syntax error at byte 3: trailing comma in array"
        );
        let e = parse(b"\"\\udc00\"").expect_err("lone surrogate");
        assert_eq!(e.to_string(), "escaped lone UTF-16 surrogate at byte 1");
        let e = parse(b"{\"a\":1,\"a\":2}").expect_err("duplicate");
        assert_eq!(e.to_string(), "duplicate object member name \"a\"");
    }

    /// The fast check may only say "canonical" when the full parser agrees.
    fn agrees(input: &[u8]) -> bool {
        !is_canonical_simple(input) || is_canonical(input) == Ok(true)
    }

    #[test]
    fn simple_check_accepts_simple_canonical_text() {
        for ok in [
            &b"{}"[..],
            b"[]",
            b"0",
            b"-1",
            b"9007199254740991",
            b"-9007199254740991",
            b"{\"a\":[1,true,false,null,\"x\"],\"b\":{\"c\":\"\\\"\\\\\\b\\t\\n\\f\\r\\u0000\\u001f\\u000b\"}}",
            "\"湖南 \u{7f}\"".as_bytes(),
        ] {
            assert!(is_canonical_simple(ok), "{}", String::from_utf8_lossy(ok));
            assert_eq!(is_canonical(ok), Ok(true));
        }
    }

    #[test]
    fn simple_check_leaves_everything_else_to_the_parser() {
        for no in [
            &b""[..],
            b" {}",
            b"{} ",
            b"{\"b\":1,\"a\":2}",
            b"{\"a\":1,\"a\":1}",
            b"{\"a\" :1}",
            b"-0",
            b"01",
            b"1.0",
            b"1.5",
            b"1e2",
            b"9007199254740992",
            b"-9007199254740992",
            b"12345678901234567",
            b"\"\\/\"",
            b"\"\\u0008\"",
            b"\"\\u000A\"",
            b"\"\\u0020\"",
            b"\"\\ud800\"",
            b"\"\x01\"",
            b"\"abc",
            b"[1,]",
            b"{\"a\":1,}",
            b"tru",
            b"nul",
            b"{\"\\u0001\":1}",
            "{\"é\":1}".as_bytes(),
            b"\xff",
        ] {
            assert!(!is_canonical_simple(no), "{}", String::from_utf8_lossy(no));
        }
        let nested = |depth: usize| {
            let mut t = "[".repeat(depth);
            t.push_str(&"]".repeat(depth));
            t.into_bytes()
        };
        assert!(is_canonical_simple(&nested(DEPTH_MAX)));
        assert!(!is_canonical_simple(&nested(DEPTH_MAX + 1)));
        assert!(parse(&nested(DEPTH_MAX + 1)).is_err());
    }

    /// The string scan reads eight bytes at a time: every byte value at every
    /// position of a word (and in the bytes after the last whole word) is
    /// judged as the parser judges it.
    #[test]
    fn simple_check_judges_every_byte_at_every_word_position() {
        for len in [1usize, 7, 8, 9, 16, 23] {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut text = vec![b'"'];
                    text.extend(std::iter::repeat_n(b'a', len));
                    text[1 + at] = b;
                    text.push(b'"');
                    let fast = is_canonical_simple(&text);
                    let full = is_canonical(&text) == Ok(true);
                    // Non-ASCII bytes alone are not UTF-8 (DEL is plain); quote and backslash
                    // end or escape the string; control characters are refused.
                    let plain = (0x20..=0x7F).contains(&b) && b != b'"' && b != b'\\';
                    assert_eq!(fast, plain, "byte {b:#04x} at {at} of {len}");
                    assert_eq!(fast, full, "byte {b:#04x} at {at} of {len}");
                }
            }
        }
        let long = format!(
            "\"{}湖南{}\\n{}\"",
            "x".repeat(13),
            "y".repeat(9),
            "z".repeat(17)
        );
        assert!(is_canonical_simple(long.as_bytes()));
        assert_eq!(is_canonical(long.as_bytes()), Ok(true));
    }

    /// The members one and two levels deep, each with its value's exact
    /// text, depth and escape flag; deeper ones are not listed; past
    /// MEMBERS_MAX the list is withheld, never cut short.
    #[test]
    fn members_are_found_with_their_exact_values() {
        let text = r#"{"a":1,"b":{"c":"x\ny","d":[{"e":{"f":2}}],"g":-7},"h":"plain"}"#;
        let mut m = Members::default();
        let t = canonical_simple_members(text.as_bytes(), &mut m).expect("canonical");
        assert_eq!(t, text);
        let got: Vec<(u8, &str, &str, bool)> = m
            .list()
            .expect("all found")
            .iter()
            .map(|m| {
                (
                    m.depth,
                    std::str::from_utf8(m.name).unwrap(),
                    m.raw(t).unwrap(),
                    m.escaped,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "a", "1", false),
                (2, "c", r#""x\ny""#, true),
                (2, "d", r#"[{"e":{"f":2}}]"#, false),
                (2, "g", "-7", false),
                (1, "b", r#"{"c":"x\ny","d":[{"e":{"f":2}}],"g":-7}"#, false),
                (1, "h", r#""plain""#, false),
            ]
        );
        // `e` is at depth 4 (`b`'s object is 2, the array `d` 3, the object
        // in it 4): not listed.
        let top: Vec<_> = m.at(1).expect("all found").collect();
        assert_eq!(top.len(), 3);
        assert_eq!(top[2].plain_str(t), Some("plain"));
        let inner: Vec<_> = m.at(2).expect("all found").collect();
        assert_eq!(inner[0].plain_str(t), None, "escaped");
        assert_eq!(inner[2].int(t), Some(-7));
        assert_eq!(top[1].int(t), None, "an object is not an integer");
        // An array is a level: the object in `a`'s array is at depth 3.
        let arr = r#"{"a":[{"b":1}]}"#;
        let t = canonical_simple_members(arr.as_bytes(), &mut m).expect("canonical");
        let names: Vec<_> = m
            .list()
            .expect("all found")
            .iter()
            .map(|m| (m.depth, m.raw(t).unwrap()))
            .collect();
        assert_eq!(names, [(1, r#"[{"b":1}]"#)]);
        let many: String = (0..=MEMBERS_MAX)
            .map(|i| format!("\"k{i:03}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let many = format!("{{{many}}}");
        canonical_simple_members(many.as_bytes(), &mut m).expect("canonical");
        assert!(m.list().is_none() && m.at(1).is_none());
        assert!(canonical_simple_members(b"{\"b\":1,\"a\":2}", &mut m).is_none());
        // A later text starts afresh.
        canonical_simple_members(b"{\"a\":1}", &mut m).expect("canonical");
        assert_eq!(m.list().map(<[_]>::len), Some(1));
    }

    /// Every single-byte deletion, duplication and substitution (by the bytes
    /// JSON syntax turns on) of canonical samples, the RFC 8785 outputs
    /// among them: the fast check never accepts what the parser refuses or
    /// would spell differently.
    #[test]
    fn simple_check_never_accepts_what_the_parser_would_not() {
        let mut samples: Vec<Vec<u8>> = vec![
            br#"{"actor":"ab","body":{"amount_fen":-120,"items":["x","y\n"],"ok":true,"z":null},"format":1,"id":"c-1","schema":1}"#.to_vec(),
            br#"[[],{},[{"a":{"b":[0,9007199254740991]}}],"\u001f\\\""]"#.to_vec(),
        ];
        for entry in std::fs::read_dir(Path::new(VECTORS).join("output")).expect("vectors") {
            samples.push(std::fs::read(entry.expect("entry").path()).expect("vector"));
        }
        let subs = b" \t\"\\/{}[],:-+.eE0159abfnrtu\x00\x1f\x7f\xc3";
        let mut accepted = 0;
        for s in &samples {
            assert!(agrees(s));
            accepted += usize::from(is_canonical_simple(s));
            for i in 0..s.len() {
                let mut del = s.clone();
                del.remove(i);
                assert!(agrees(&del), "{}", String::from_utf8_lossy(&del));
                let mut dup = s.clone();
                dup.insert(i, s[i]);
                assert!(agrees(&dup), "{}", String::from_utf8_lossy(&dup));
                for &b in subs {
                    let mut m = s.clone();
                    m[i] = b;
                    assert!(agrees(&m), "{}", String::from_utf8_lossy(&m));
                    let mut ins = s.clone();
                    ins.insert(i, b);
                    assert!(agrees(&ins), "{}", String::from_utf8_lossy(&ins));
                }
            }
        }
        assert!(
            accepted >= 2,
            "the simple samples themselves pass the fast check"
        );
    }
}
