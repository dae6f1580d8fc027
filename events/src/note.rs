//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys.
//!
//! A signed note is a text ending in a newline, then one blank line, then one
//! or more signature lines of the form `— <key name> base64(key id || sig)`,
//! where `—` is the em dash U+2014. This is the envelope of every checkpoint
//! the ledger publishes, so it must be byte-compatible with the Go reference
//! implementation (`golang.org/x/mod/sumdb/note`) that witnesses and auditors
//! run: the tests check this module against facts taken from its test suite.
//!
//! Opening follows Go's `note.Open`: signatures by keys the caller does not
//! know are kept as unverified (that is how witness cosignatures and key
//! rotation coexist), a known key with a bad signature rejects the whole note,
//! and at least one known key must have signed. Ed25519 signatures are
//! checked with `verify_strict`, which also rejects small-order keys and
//! non-canonical encodings, so a signature cannot be re-encoded into a second
//! valid form.
//!
//! The module is pure: no IO, no clock and no randomness (Ed25519 signing is
//! deterministic, and sets are ordered rather than hashed with a random seed).

use std::collections::BTreeSet;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The most signature lines [`open`] reads before it gives up.
///
/// C2SP requires verifiers to accept at least 16; Go's implementation stops
/// after 100, and so do we, so that a note with thousands of signature lines
/// cannot make the ledger spend unbounded time parsing it.
pub const SIGNATURES_MAX: usize = 100;

/// The signature type byte that C2SP assigns to Ed25519.
const ALG_ED25519: u8 = 0x01;

/// Every signature line starts with an em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// The marker that starts an encoded private key.
const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// Why a key could not be read or a note could not be signed or opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    /// An encoded verifier or signer key does not have the expected shape.
    #[error("malformed key: {0}")]
    MalformedKey(String),
    /// A key name is empty or contains Unicode whitespace or a '+'.
    #[error(
        "invalid key name: it must be non-empty and contain neither Unicode whitespace nor '+'"
    )]
    InvalidName,
    /// The key's signature type byte is not Ed25519 (0x01).
    #[error("unknown key type 0x{0:02x}: only Ed25519 (0x01) is supported")]
    UnknownKeyType(u8),
    /// An encoded key states a key id that its name and public key do not give.
    #[error("key {name}+{stated:08x} states the wrong key id: its name and public key give {computed:08x}")]
    KeyIdMismatch {
        name: String,
        stated: u32,
        computed: u32,
    },
    /// The text given to [`sign`] cannot be the text of a signed note.
    #[error("invalid note text: {0}")]
    InvalidText(&'static str),
    /// [`sign`] was called without any signer, which would give an unsigned note.
    #[error("a note needs at least one signer")]
    NoSigners,
    /// The note does not follow the signed-note format.
    #[error("malformed note ({0})")]
    MalformedNote(&'static str),
    /// The note has more signature lines than [`SIGNATURES_MAX`].
    #[error("malformed note (more than {max} signatures)", max = SIGNATURES_MAX)]
    TooManySignatures,
    /// Two different verifiers share a key name and key id, so a signature
    /// line naming them cannot be attributed to one key.
    #[error(
        "ambiguous key {name}+{key_id:08x}: two different verifiers have this name and key id"
    )]
    AmbiguousKey { name: String, key_id: u32 },
    /// A key the caller trusts has a signature line that does not verify.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    BadSignature { name: String, key_id: u32 },
    /// No signature in the note is by a key the caller trusts.
    #[error("note has no verifiable signatures")]
    NoVerifiedSignature,
}

/// Returns the C2SP key id of an Ed25519 key: the first four bytes, read
/// big-endian, of SHA-256(name || 0x0A || 0x01 || public key).
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ALG_ED25519]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// Reports whether `name` may name a key: it must be non-empty and contain no
/// Unicode whitespace (which would break the signature line into the wrong
/// fields) and no '+' (which separates the fields of an encoded key).
fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Reports whether `bytes` holds an ASCII control character other than a
/// newline, which C2SP forbids anywhere in a signed note. Checking bytes is
/// enough because UTF-8 never uses bytes below 0x80 inside a multi-byte
/// character.
fn has_forbidden_control(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b < 0x20 && b != b'\n')
}

/// Parses the eight hexadecimal digits of an encoded key's id.
fn parse_key_id(hex: &str) -> Result<u32, NoteError> {
    // `from_str_radix` alone would also accept a leading '+' and fewer digits,
    // so the shape is checked first.
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey(format!(
            "key id {hex:?} is not 8 hexadecimal digits"
        )));
    }
    u32::from_str_radix(hex, 16)
        .map_err(|_| NoteError::MalformedKey(format!("key id {hex:?} is not hexadecimal")))
}

/// Decodes the base64 key material of an encoded key: the Ed25519 type byte
/// followed by 32 bytes (a public key or a private seed).
///
/// The error never quotes the material, because for a private key it is the
/// secret itself.
fn decode_key_material(b64: &str) -> Result<[u8; 32], NoteError> {
    let bytes = STANDARD.decode(b64).map_err(|_| {
        NoteError::MalformedKey("the key material is not canonical standard base64".to_owned())
    })?;
    let (&alg, key) = bytes
        .split_first()
        .ok_or_else(|| NoteError::MalformedKey("the key material is empty".to_owned()))?;
    if alg != ALG_ED25519 {
        return Err(NoteError::UnknownKeyType(alg));
    }
    <[u8; 32]>::try_from(key).map_err(|_| {
        NoteError::MalformedKey(format!(
            "an Ed25519 key is 32 bytes, not {} bytes",
            key.len()
        ))
    })
}

/// Splits `name+hexid+base64`, the tail shared by encoded public and private
/// keys. Only the first two '+' separate fields: base64 uses '+' as a digit.
fn split_key_fields(s: &str) -> Result<(&str, u32, &str), NoteError> {
    let (name, rest) = s
        .split_once('+')
        .ok_or_else(|| NoteError::MalformedKey("expected name+keyid+key".to_owned()))?;
    if !is_valid_name(name) {
        return Err(NoteError::InvalidName);
    }
    let (hex, b64) = rest
        .split_once('+')
        .ok_or_else(|| NoteError::MalformedKey("expected name+keyid+key".to_owned()))?;
    Ok((name, parse_key_id(hex)?, b64))
}

/// Encodes key material as the Ed25519 type byte followed by the 32 bytes.
fn encode_key_material(key: &[u8; 32]) -> String {
    let mut bytes = [0u8; 33];
    bytes[0] = ALG_ED25519;
    bytes[1..].copy_from_slice(key);
    STANDARD.encode(bytes)
}

/// A named Ed25519 private key that signs notes.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    // The private key is left out so that logging a signer cannot leak it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    /// Names a private key, deriving its key id from the name and public key.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::InvalidName);
        }
        let key_id = key_id(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_owned(),
            key_id,
            key,
        })
    }

    /// Reads a private key in Go's encoding,
    /// `PRIVATE+KEY+<name>+<hex key id>+base64(0x01 || seed)`, and checks that
    /// the stated key id is the one the key gives.
    pub fn from_skey(s: &str) -> Result<Self, NoteError> {
        let rest = s.strip_prefix(SKEY_PREFIX).ok_or_else(|| {
            NoteError::MalformedKey(format!("a private key starts with {SKEY_PREFIX:?}"))
        })?;
        let (name, stated, b64) = split_key_fields(rest)?;
        let seed = decode_key_material(b64)?;
        let signer = Self::new(name, SigningKey::from_bytes(&seed))?;
        if signer.key_id != stated {
            return Err(NoteError::KeyIdMismatch {
                name: signer.name,
                stated,
                computed: signer.key_id,
            });
        }
        Ok(signer)
    }

    /// Encodes the private key the way [`NoteSigner::from_skey`] reads it.
    pub fn to_skey(&self) -> String {
        format!(
            "{SKEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_key_material(&self.key.to_bytes())
        )
    }

    /// Returns the verifier for this signer's public key.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// Signs `text` and returns the whole signature line, newline included:
    /// `— <name> base64(key id || signature)`.
    ///
    /// This does not check the text; [`sign`] does, and is what callers want.
    pub fn sign_line(&self, text: &str) -> String {
        let signature = self.key.sign(text.as_bytes());
        let mut blob = [0u8; 4 + 64];
        blob[..4].copy_from_slice(&self.key_id.to_be_bytes());
        blob[4..].copy_from_slice(&signature.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(blob))
    }
}

/// A named Ed25519 public key that verifies notes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Names a public key, deriving its key id from the name and the key.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::InvalidName);
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, key.as_bytes()),
            key,
        })
    }

    /// Reads a public key in Go's encoding, `<name>+<hex key id>+base64(0x01
    /// || public key)`, and checks that the stated key id is the one the name
    /// and key give, so a mistyped or spliced key is caught here rather than
    /// as a puzzling verification failure later.
    pub fn from_vkey(s: &str) -> Result<Self, NoteError> {
        let (name, stated, b64) = split_key_fields(s)?;
        let bytes = decode_key_material(b64)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| {
            NoteError::MalformedKey("the public key is not a valid Ed25519 point".to_owned())
        })?;
        let verifier = Self::new(name, key)?;
        if verifier.key_id != stated {
            return Err(NoteError::KeyIdMismatch {
                name: verifier.name,
                stated,
                computed: verifier.key_id,
            });
        }
        Ok(verifier)
    }

    /// Encodes the public key the way [`NoteVerifier::from_vkey`] reads it.
    pub fn to_vkey(&self) -> String {
        format!(
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            encode_key_material(self.key.as_bytes())
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Reports whether `sig` is this key's Ed25519 signature of `text`.
    ///
    /// `verify_strict` is used so that small-order keys and non-canonical
    /// signatures, which plain RFC 8032 verification tolerates, are refused.
    pub fn verify(&self, text: &[u8], sig: &[u8; 64]) -> bool {
        self.key
            .verify_strict(text, &Signature::from_bytes(sig))
            .is_ok()
    }
}

/// Checks that `text` can be the text of a signed note: non-empty, ending in
/// a newline, and free of ASCII control characters other than newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::InvalidText("the text is empty"));
    }
    if !text.ends_with('\n') {
        return Err(NoteError::InvalidText("the text does not end in a newline"));
    }
    if has_forbidden_control(text.as_bytes()) {
        return Err(NoteError::InvalidText(
            "the text contains an ASCII control character other than newline",
        ));
    }
    Ok(())
}

/// Signs `text` with every signer, in order, and returns the signed note.
///
/// The text may contain blank lines: readers separate it from the signatures
/// at the last blank line, which is always the one this function adds.
pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::NoSigners);
    }
    // A note that its own readers would refuse must not be produced.
    if signers.len() > SIGNATURES_MAX {
        return Err(NoteError::TooManySignatures);
    }
    let mut note = String::with_capacity(text.len() + 1 + signers.len() * 128);
    note.push_str(text);
    note.push('\n');
    for signer in signers {
        note.push_str(&signer.sign_line(text));
    }
    Ok(note)
}

/// An opened note: its text and the keys that signed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, final newline included, separating blank line not.
    pub text: String,
    /// The (name, key id) of each trusted key whose signature verified, in
    /// the order of the note, each once.
    pub verified: Vec<(String, u32)>,
    /// The (name, key id) of each signature by a key the caller did not
    /// supply, in the order of the note, each once. These are not checked.
    pub unverified: Vec<(String, u32)>,
}

/// Finds the verifier for a signature line's name and key id.
///
/// The same key given twice is harmless, but two different keys with the same
/// name and id leave the signer ambiguous, which is an error (as in Go).
fn find_verifier<'a>(
    verifiers: &'a [NoteVerifier],
    name: &str,
    key_id: u32,
) -> Result<Option<&'a NoteVerifier>, NoteError> {
    let mut found: Option<&NoteVerifier> = None;
    for candidate in verifiers
        .iter()
        .filter(|v| v.name == name && v.key_id == key_id)
    {
        match found {
            None => found = Some(candidate),
            Some(first) if first.key == candidate.key => {}
            Some(_) => {
                return Err(NoteError::AmbiguousKey {
                    name: name.to_owned(),
                    key_id,
                })
            }
        }
    }
    Ok(found)
}

/// Opens a signed note, verifying the signatures of the keys in `verifiers`.
///
/// Signatures by other keys are listed as unverified. It is an error if the
/// note is malformed, has more than [`SIGNATURES_MAX`] signature lines, has a
/// signature by a supplied key that does not verify, or has no verified
/// signature at all.
///
/// This follows Go's `note.Open`, with one deliberate difference: Go checks
/// only the first signature line of each known key and skips later ones,
/// whereas C2SP says a signature by a known key MUST be verified, so every
/// distinct line of a known key is verified here (byte-identical repeats are
/// skipped, as their outcome cannot differ).
pub fn open(msg: &[u8], verifiers: &[NoteVerifier]) -> Result<Note, NoteError> {
    let msg = std::str::from_utf8(msg).map_err(|_| NoteError::MalformedNote("not valid UTF-8"))?;
    if has_forbidden_control(msg.as_bytes()) {
        return Err(NoteError::MalformedNote(
            "ASCII control character other than newline",
        ));
    }

    // The text ends at the last blank line; signature lines cannot contain a
    // blank line, so that one is the separator even if the text has others.
    let split = msg.rfind("\n\n").ok_or(NoteError::MalformedNote(
        "no blank line before the signatures",
    ))?;
    let text = &msg[..split + 1];
    let sigs = &msg[split + 2..];
    let sigs = sigs.strip_suffix('\n').ok_or(if sigs.is_empty() {
        NoteError::MalformedNote("no signature lines")
    } else {
        NoteError::MalformedNote("the last signature line does not end in a newline")
    })?;

    let mut note = Note {
        text: text.to_owned(),
        verified: Vec::new(),
        unverified: Vec::new(),
    };
    let mut seen_lines: BTreeSet<&str> = BTreeSet::new();
    for (count, line) in sigs.split('\n').enumerate() {
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(NoteError::MalformedNote(
                "a signature line does not start with an em dash and a space",
            ))?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::MalformedNote(
            "a signature line has no space after the key name",
        ))?;
        if !is_valid_name(name) {
            return Err(NoteError::MalformedNote(
                "a signature line has an invalid key name",
            ));
        }
        let blob = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::MalformedNote("a signature is not standard base64"))?;
        // Four bytes of key id and at least one byte of signature.
        if blob.len() < 5 {
            return Err(NoteError::MalformedNote("a signature is too short"));
        }
        let key_id = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]);

        // Counted after the line is parsed, as Go does, so the limit bounds
        // the work spent on well-formed lines.
        if count + 1 > SIGNATURES_MAX {
            return Err(NoteError::TooManySignatures);
        }
        if !seen_lines.insert(line) {
            continue;
        }

        let entry = (name.to_owned(), key_id);
        match find_verifier(verifiers, name, key_id)? {
            None => {
                if !note.unverified.contains(&entry) {
                    note.unverified.push(entry);
                }
            }
            Some(verifier) => {
                // A signature of the wrong length cannot be Ed25519, so it is
                // a bad signature by this key rather than a malformed note.
                let ok = <&[u8; 64]>::try_from(&blob[4..])
                    .map(|sig| verifier.verify(text.as_bytes(), sig))
                    .unwrap_or(false);
                if !ok {
                    return Err(NoteError::BadSignature {
                        name: entry.0,
                        key_id,
                    });
                }
                if !note.verified.contains(&entry) {
                    note.verified.push(entry);
                }
            }
        }
    }

    if note.verified.is_empty() {
        return Err(NoteError::NoVerifiedSignature);
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Verifier as _;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    /// The vectors, read at compile time so the tests need no file IO.
    const VECTORS_JSON: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/signed-note.json"
    ));

    // Unknown fields are refused so that a fact added to the file cannot go
    // untested without this suite noticing.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Vectors {
        // The provenance, which the vectors' README also records.
        #[serde(rename = "source")]
        _source: String,
        format: String,
        keys: BTreeMap<String, KeyVector>,
        sign: SignVector,
        open: Vec<OpenVector>,
        malformed: Vec<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct KeyVector {
        vkey: String,
        skey: Option<String>,
        key_id_hex: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct SignVector {
        signer: String,
        text: String,
        want_signed_note: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OpenVector {
        note: String,
        verifiers: Vec<String>,
        want_verified: Option<Vec<String>>,
        want_unverified: Option<Vec<String>>,
        want_error: Option<String>,
    }

    fn vectors() -> Vectors {
        serde_json::from_str(VECTORS_JSON).expect("signed-note.json parses")
    }

    fn vector_verifier(v: &Vectors, name: &str) -> NoteVerifier {
        let key = v.keys.get(name).expect("the vector names a listed key");
        NoteVerifier::from_vkey(&key.vkey).expect("the vector's vkey parses")
    }

    fn vector_signer(v: &Vectors, name: &str) -> NoteSigner {
        let key = v.keys.get(name).expect("the vector names a listed key");
        let skey = key.skey.as_deref().expect("the signing key has an skey");
        NoteSigner::from_skey(skey).expect("the vector's skey parses")
    }

    fn test_signer(name: &str, seed: u8) -> NoteSigner {
        NoteSigner::new(name, SigningKey::from_bytes(&[seed; 32])).expect("valid test key name")
    }

    fn hex_id(hex: &str) -> u32 {
        u32::from_str_radix(hex, 16).expect("key_id_hex is hexadecimal")
    }

    #[test]
    fn vector_key_ids_follow_the_documented_derivation() {
        let v = vectors();
        // The file states the derivation that the loop below spells out.
        assert!(v
            .format
            .contains("key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || pubkey32)"));
        assert!(!v.keys.is_empty());
        for (name, key) in &v.keys {
            let verifier = NoteVerifier::from_vkey(&key.vkey).expect("vkey parses");
            let public = verifier.public_key().as_bytes();
            // The derivation spelled out independently of `key_id`.
            let mut preimage = name.as_bytes().to_vec();
            preimage.push(0x0a);
            preimage.push(0x01);
            preimage.extend_from_slice(public);
            let digest = Sha256::digest(&preimage);
            let want = hex_id(&key.key_id_hex);
            assert_eq!(
                u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]),
                want
            );
            assert_eq!(key_id(name, public), want, "{name}");
            assert_eq!(format!("{:08x}", key_id(name, public)), key.key_id_hex);
        }
    }

    #[test]
    fn vector_vkeys_parse_and_encode_back_exactly() {
        let v = vectors();
        for (name, key) in &v.keys {
            let verifier = NoteVerifier::from_vkey(&key.vkey).expect("vkey parses");
            assert_eq!(verifier.name(), name);
            assert_eq!(verifier.key_id(), hex_id(&key.key_id_hex));
            assert_eq!(verifier.to_vkey(), key.vkey);
            let rebuilt = NoteVerifier::new(name, *verifier.public_key()).expect("valid name");
            assert_eq!(rebuilt, verifier);
        }
    }

    #[test]
    fn vector_skeys_parse_encode_back_and_match_their_vkeys() {
        let v = vectors();
        let mut seen = 0;
        for (name, key) in &v.keys {
            let Some(skey) = &key.skey else { continue };
            seen += 1;
            let signer = NoteSigner::from_skey(skey).expect("skey parses");
            assert_eq!(signer.name(), name);
            assert_eq!(signer.key_id(), hex_id(&key.key_id_hex));
            assert_eq!(signer.to_skey(), *skey);
            assert_eq!(signer.verifier().to_vkey(), key.vkey);
            assert_eq!(signer.verifier(), vector_verifier(&v, name));
        }
        assert!(seen > 0, "the vectors hold at least one private key");
    }

    #[test]
    fn vector_sign_gives_the_exact_note() {
        let v = vectors();
        let signer = vector_signer(&v, &v.sign.signer);
        let note = sign(&v.sign.text, &[&signer]).expect("the vector text is signable");
        assert_eq!(note, v.sign.want_signed_note);
        // The note is the text, the blank line and exactly this one line.
        assert_eq!(
            note,
            format!("{}\n{}", v.sign.text, signer.sign_line(&v.sign.text))
        );
        // And it opens with the signer's own key.
        let opened = open(note.as_bytes(), &[signer.verifier()]).expect("opens");
        assert_eq!(opened.text, v.sign.text);
        assert_eq!(
            opened.verified,
            vec![(signer.name().to_owned(), signer.key_id())]
        );
        assert!(opened.unverified.is_empty());

        // The file states the line layout; it is checked here field by field.
        assert!(v.format.contains(
            "signature line = '\u{2014} ' name ' ' base64(keyid_be32 || ed25519_sig64) '\\n'"
        ));
        let line = &v.sign.want_signed_note[v.sign.text.len() + 1..];
        let rest = line.strip_prefix("\u{2014} ").expect("em dash and space");
        let (name, b64) = rest.split_once(' ').expect("name, space, signature");
        assert_eq!(name, v.sign.signer);
        let b64 = b64.strip_suffix('\n').expect("the line ends in a newline");
        let blob = STANDARD.decode(b64).expect("standard base64");
        assert_eq!(blob.len(), 4 + 64);
        assert_eq!(blob[..4], signer.key_id().to_be_bytes());
        let sig = <[u8; 64]>::try_from(&blob[4..]).expect("64 bytes");
        assert!(signer.verifier().verify(v.sign.text.as_bytes(), &sig));
    }

    fn named(v: &Vectors, names: &[String]) -> Vec<(String, u32)> {
        names
            .iter()
            .map(|n| (n.clone(), vector_verifier(v, n).key_id()))
            .collect()
    }

    #[test]
    fn vector_open_cases() {
        let v = vectors();
        assert!(!v.open.is_empty());
        for (i, case) in v.open.iter().enumerate() {
            let verifiers: Vec<NoteVerifier> = case
                .verifiers
                .iter()
                .map(|n| vector_verifier(&v, n))
                .collect();
            let result = open(case.note.as_bytes(), &verifiers);
            match &case.want_error {
                None => {
                    let note = result.unwrap_or_else(|e| panic!("case {i}: {e}"));
                    let want_verified = case.want_verified.as_deref().expect("want_verified");
                    let want_unverified = case.want_unverified.as_deref().expect("want_unverified");
                    assert_eq!(note.verified, named(&v, want_verified), "case {i}");
                    assert_eq!(note.unverified, named(&v, want_unverified), "case {i}");
                    // The text is what precedes the separating blank line.
                    assert!(case.note.starts_with(&note.text), "case {i}");
                    assert!(
                        case.note[note.text.len()..].starts_with("\n\u{2014} "),
                        "case {i}"
                    );
                }
                Some(want) => {
                    assert!(
                        case.want_verified.is_none() && case.want_unverified.is_none(),
                        "case {i} wants both an error and a result"
                    );
                    let err = result.expect_err(want);
                    assert!(
                        err.to_string().contains(want.as_str()),
                        "case {i}: {err} does not say {want}"
                    );
                    match want.as_str() {
                        "no verifiable signatures" => {
                            assert_eq!(err, NoteError::NoVerifiedSignature)
                        }
                        "malformed note (more than 100 signatures)" => {
                            assert_eq!(SIGNATURES_MAX, 100);
                            let lines = case.note.matches("\n\u{2014} ").count();
                            assert!(lines > SIGNATURES_MAX, "case {i} has {lines} lines");
                            assert_eq!(err, NoteError::TooManySignatures);
                        }
                        w if w.starts_with("invalid signature for key ") => {
                            assert!(matches!(err, NoteError::BadSignature { .. }), "case {i}");
                            assert_eq!(err.to_string(), *w);
                        }
                        other => panic!("case {i}: no expectation for error {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn vector_malformed_notes_are_rejected_even_with_every_key() {
        let v = vectors();
        assert!(!v.malformed.is_empty());
        let all: Vec<NoteVerifier> = v.keys.keys().map(|n| vector_verifier(&v, n)).collect();
        for (i, msg) in v.malformed.iter().enumerate() {
            let err = open(msg.as_bytes(), &all).expect_err("malformed note must be rejected");
            assert!(
                matches!(err, NoteError::MalformedNote(_)),
                "case {i}: {err:?}"
            );
            assert!(err.to_string().starts_with("malformed note"), "case {i}");
        }
    }

    #[test]
    fn sign_and_open_with_several_deterministic_keys() {
        let a = test_signer("example.com/a", 7);
        let b = test_signer("example.com/b", 8);
        let text = "first line\n\nafter a blank line\n";
        let note = sign(text, &[&a, &b]).expect("signable");
        // Ed25519 is deterministic, so signing again gives the same bytes.
        assert_eq!(sign(text, &[&a, &b]).expect("signable"), note);

        let both = open(note.as_bytes(), &[a.verifier(), b.verifier()]).expect("opens");
        assert_eq!(both.text, text);
        assert_eq!(
            both.verified,
            vec![
                ("example.com/a".to_owned(), a.key_id()),
                ("example.com/b".to_owned(), b.key_id())
            ]
        );
        assert!(both.unverified.is_empty());

        let only_b = open(note.as_bytes(), &[b.verifier()]).expect("opens");
        assert_eq!(
            only_b.verified,
            vec![("example.com/b".to_owned(), b.key_id())]
        );
        assert_eq!(
            only_b.unverified,
            vec![("example.com/a".to_owned(), a.key_id())]
        );
    }

    #[test]
    fn same_key_given_twice_is_not_ambiguous() {
        let a = test_signer("example.com/a", 7);
        let note = sign("x\n", &[&a]).expect("signable");
        let opened = open(note.as_bytes(), &[a.verifier(), a.verifier()]).expect("opens");
        assert_eq!(opened.verified.len(), 1);
    }

    #[test]
    fn different_keys_with_the_same_name_and_id_are_ambiguous() {
        let a = test_signer("example.com/a", 7);
        let note = sign("x\n", &[&a]).expect("signable");
        // A real collision needs about 2^32 work, so one is forged directly.
        let impostor = NoteVerifier {
            name: a.name().to_owned(),
            key_id: a.key_id(),
            key: test_signer("example.com/a", 9).verifier().key,
        };
        assert_eq!(
            open(note.as_bytes(), &[a.verifier(), impostor]),
            Err(NoteError::AmbiguousKey {
                name: a.name().to_owned(),
                key_id: a.key_id()
            })
        );
    }

    #[test]
    fn a_key_sharing_only_the_name_or_only_the_id_is_unknown() {
        let a = test_signer("example.com/a", 7);
        let note = sign("x\n", &[&a]).expect("signable");
        // Same name, other key (so another id): the signature is not ours.
        let other_key = test_signer("example.com/a", 8).verifier();
        assert_eq!(
            open(note.as_bytes(), &[other_key]),
            Err(NoteError::NoVerifiedSignature)
        );
        // Same key, other name (so another id).
        let other_name = test_signer("example.com/z", 7).verifier();
        assert_eq!(
            open(note.as_bytes(), &[other_name]),
            Err(NoteError::NoVerifiedSignature)
        );
    }

    #[test]
    fn repeated_lines_are_listed_once() {
        let a = test_signer("example.com/a", 7);
        let u = test_signer("example.com/u", 9);
        let text = "x\n";
        let line_a = a.sign_line(text);
        let line_u = u.sign_line(text);
        let note = format!("{text}\n{line_a}{line_u}{line_a}{line_u}");
        let opened = open(note.as_bytes(), &[a.verifier()]).expect("opens");
        assert_eq!(opened.verified, vec![(a.name().to_owned(), a.key_id())]);
        assert_eq!(opened.unverified, vec![(u.name().to_owned(), u.key_id())]);
    }

    #[test]
    fn a_second_bad_signature_by_a_known_key_is_not_skipped() {
        let a = test_signer("example.com/a", 7);
        let text = "x\n";
        let good = a.sign_line(text);
        // The same key id with the signature of another text.
        let bad = a.sign_line("y\n");
        let note = format!("{text}\n{good}{bad}");
        assert_eq!(
            open(note.as_bytes(), &[a.verifier()]),
            Err(NoteError::BadSignature {
                name: a.name().to_owned(),
                key_id: a.key_id()
            })
        );
    }

    #[test]
    fn a_known_key_with_a_signature_of_the_wrong_length_is_a_bad_signature() {
        let a = test_signer("example.com/a", 7);
        let mut blob = a.key_id().to_be_bytes().to_vec();
        blob.extend_from_slice(&[0u8; 10]);
        let note = format!("x\n\n\u{2014} {} {}\n", a.name(), STANDARD.encode(&blob));
        assert!(matches!(
            open(note.as_bytes(), &[a.verifier()]),
            Err(NoteError::BadSignature { .. })
        ));
        // From an unknown key the same line is merely unverified.
        let b = test_signer("example.com/b", 8);
        let opened_note = format!("{note}{}", b.sign_line("x\n"));
        let opened = open(opened_note.as_bytes(), &[b.verifier()]).expect("opens");
        assert_eq!(opened.unverified, vec![(a.name().to_owned(), a.key_id())]);
    }

    #[test]
    fn exactly_the_maximum_number_of_signatures_is_accepted() {
        let a = test_signer("example.com/a", 7);
        let text = "x\n";
        let line = a.sign_line(text);
        let note = format!("{text}\n{}", line.repeat(SIGNATURES_MAX));
        assert!(open(note.as_bytes(), &[a.verifier()]).is_ok());
        let too_many = format!("{text}\n{}", line.repeat(SIGNATURES_MAX + 1));
        assert_eq!(
            open(too_many.as_bytes(), &[a.verifier()]),
            Err(NoteError::TooManySignatures)
        );
    }

    #[test]
    fn more_malformed_notes_are_rejected() {
        let a = test_signer("example.com/a", 7);
        let text = "x\n";
        let line = a.sign_line(text);
        let b64 = line
            .trim_end()
            .rsplit(' ')
            .next()
            .expect("the line has a signature")
            .to_owned();
        let cases = [
            // Invalid UTF-8 before the signatures.
            [b"x\xff\n\n".as_slice(), line.as_bytes()].concat(),
            // A carriage return, as CRLF line endings would give.
            format!("x\r\n\n{line}").into_bytes(),
            // A hyphen instead of the em dash.
            format!("{text}\n- {} {b64}\n", a.name()).into_bytes(),
            // No space between the name and the signature.
            format!("{text}\n\u{2014} {}\n", a.name()).into_bytes(),
            // An empty signature.
            format!("{text}\n\u{2014} {} \n", a.name()).into_bytes(),
            // A non-breaking space inside the name.
            format!("{text}\n\u{2014} a\u{a0}b {b64}\n").into_bytes(),
            // An empty name.
            format!("{text}\n\u{2014}  {b64}\n").into_bytes(),
            // A signature of four bytes, which holds no signature at all.
            format!("{text}\n\u{2014} {} AAAAAA==\n", a.name()).into_bytes(),
            // Base64 without its padding.
            format!(
                "{text}\n\u{2014} {} {}\n",
                a.name(),
                b64.trim_end_matches('=')
            )
            .into_bytes(),
            // A signature line with trailing space.
            format!("{text}\n\u{2014} {} {b64} \n", a.name()).into_bytes(),
            // Only signature lines, no text and no separator.
            line.clone().into_bytes(),
        ];
        for (i, msg) in cases.iter().enumerate() {
            let err = open(msg, &[a.verifier()]).expect_err("malformed");
            assert!(
                matches!(err, NoteError::MalformedNote(_)),
                "case {i}: {err:?}"
            );
        }
    }

    #[test]
    fn the_text_may_start_with_a_blank_line() {
        let a = test_signer("example.com/a", 7);
        for text in ["\n", "\nx\n", "x\n\n"] {
            let note = sign(text, &[&a]).expect("signable");
            let opened = open(note.as_bytes(), &[a.verifier()]).expect("opens");
            assert_eq!(opened.text, text);
        }
    }

    #[test]
    fn sign_refuses_texts_that_cannot_be_notes() {
        let a = test_signer("example.com/a", 7);
        assert!(matches!(sign("", &[&a]), Err(NoteError::InvalidText(_))));
        assert!(matches!(sign("x", &[&a]), Err(NoteError::InvalidText(_))));
        assert!(matches!(
            sign("x\r\n", &[&a]),
            Err(NoteError::InvalidText(_))
        ));
        assert!(matches!(
            sign("\tx\n", &[&a]),
            Err(NoteError::InvalidText(_))
        ));
        assert_eq!(sign("x\n", &[]), Err(NoteError::NoSigners));
        let many = vec![&a; SIGNATURES_MAX + 1];
        assert_eq!(sign("x\n", &many), Err(NoteError::TooManySignatures));
    }

    #[test]
    fn key_names_are_checked() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        for bad in [
            "",
            "a b",
            "a+b",
            "a\tb",
            "a\u{a0}b",
            "a\u{3000}b",
            "a\u{2028}b",
            "a\nb",
        ] {
            assert_eq!(
                NoteSigner::new(bad, key.clone()).map(|_| ()),
                Err(NoteError::InvalidName),
                "{bad:?}"
            );
            assert_eq!(
                NoteVerifier::new(bad, key.verifying_key()).map(|_| ()),
                Err(NoteError::InvalidName),
                "{bad:?}"
            );
        }
        for good in ["a", "example.com/log", "Ünïcödé/ключ", "a-b_c.d/e:f"] {
            assert!(NoteSigner::new(good, key.clone()).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn keys_round_trip_through_their_encodings() {
        let signer = test_signer("example.com/a", 7);
        let again = NoteSigner::from_skey(&signer.to_skey()).expect("parses");
        assert_eq!(again.to_skey(), signer.to_skey());
        assert_eq!(again.verifier(), signer.verifier());
        let verifier = NoteVerifier::from_vkey(&signer.verifier().to_vkey()).expect("parses");
        assert_eq!(verifier, signer.verifier());
        assert!(signer.to_skey().starts_with("PRIVATE+KEY+example.com/a+"));
    }

    #[test]
    fn the_debug_form_of_a_signer_hides_the_private_key() {
        let signer = test_signer("example.com/a", 7);
        let shown = format!("{signer:?}");
        assert!(shown.contains("example.com/a"));
        let b64 = signer.to_skey();
        let secret = b64.rsplit('+').next().expect("has material");
        assert!(!shown.contains(secret));
        assert!(!shown.contains("7, 7, 7"));
    }

    #[test]
    fn malformed_vkeys_are_rejected() {
        let good = test_signer("example.com/a", 7).verifier();
        let vkey = good.to_vkey();
        let (prefix, b64) = vkey.rsplit_once('+').expect("three fields");
        let (name, hex) = prefix.split_once('+').expect("name and id");
        let material = STANDARD.decode(b64).expect("valid base64");
        let with = |bytes: &[u8]| format!("{name}+{hex}+{}", STANDARD.encode(bytes));

        // Wrong shapes of the whole string or of the key id.
        for bad in [
            String::new(),
            name.to_owned(),
            format!("{name}+{hex}"),
            format!("{name}+{}+{b64}", &hex[1..]),
            format!("{name}+0{hex}+{b64}"),
            format!("{name}++{}+{b64}", &hex[1..]),
            format!("{name}+{}x+{b64}", &hex[1..]),
            format!("{name}+{hex}+{b64} "),
            format!("{name}+{hex}+{b64}="),
            format!("{name}+{hex}+{} {}", &b64[..4], &b64[4..]),
            format!("{name}+{hex}+"),
            with(&material[..32]),
            with(&[material.as_slice(), &[0]].concat()),
        ] {
            assert!(
                matches!(
                    NoteVerifier::from_vkey(&bad),
                    Err(NoteError::MalformedKey(_))
                ),
                "{bad:?}: {:?}",
                NoteVerifier::from_vkey(&bad)
            );
        }
        assert_eq!(
            NoteVerifier::from_vkey(&format!("a b+{hex}+{b64}")),
            Err(NoteError::InvalidName)
        );
        assert_eq!(
            NoteVerifier::from_vkey(&format!("+{hex}+{b64}")),
            Err(NoteError::InvalidName)
        );
        let mut other_alg = material.clone();
        other_alg[0] = 0x02;
        assert_eq!(
            NoteVerifier::from_vkey(&with(&other_alg)),
            Err(NoteError::UnknownKeyType(0x02))
        );
        // A valid key under a stated id that is not its own.
        let wrong_id = good.key_id() ^ 1;
        assert_eq!(
            NoteVerifier::from_vkey(&format!("{name}+{wrong_id:08x}+{b64}")),
            Err(NoteError::KeyIdMismatch {
                name: name.to_owned(),
                stated: wrong_id,
                computed: good.key_id()
            })
        );
        // The same key moved under another name keeps a now-wrong id.
        assert!(matches!(
            NoteVerifier::from_vkey(&format!("example.com/b+{hex}+{b64}")),
            Err(NoteError::KeyIdMismatch { .. })
        ));
        // Upper-case hex is read, as Go reads it, and written back lower-case.
        let upper = format!("{name}+{}+{b64}", hex.to_ascii_uppercase());
        assert_eq!(NoteVerifier::from_vkey(&upper), Ok(good.clone()));
    }

    #[test]
    fn malformed_skeys_are_rejected() {
        let signer = test_signer("example.com/a", 7);
        let skey = signer.to_skey();
        let vkey = signer.verifier().to_vkey();
        assert!(matches!(
            NoteSigner::from_skey(&vkey),
            Err(NoteError::MalformedKey(_))
        ));
        assert!(matches!(
            NoteSigner::from_skey(&skey.replacen("PRIVATE", "private", 1)),
            Err(NoteError::MalformedKey(_))
        ));
        assert!(matches!(
            NoteSigner::from_skey(&format!("{skey}A")),
            Err(NoteError::MalformedKey(_))
        ));
        let wrong_id = signer.key_id() ^ 0x8000_0000;
        let spliced = skey.replacen(
            &format!("{:08x}", signer.key_id()),
            &format!("{wrong_id:08x}"),
            1,
        );
        assert!(matches!(
            NoteSigner::from_skey(&spliced),
            Err(NoteError::KeyIdMismatch { .. })
        ));
        // A key error never echoes the private key material.
        let broken = format!("{skey}!");
        let message = NoteSigner::from_skey(&broken)
            .expect_err("malformed")
            .to_string();
        let secret = skey.rsplit('+').next().expect("has material");
        assert!(!message.contains(secret), "{message}");
    }

    #[test]
    fn verification_is_strict() {
        // The identity point is a small-order public key. With R also the
        // identity and S = 0, the cofactorless equation [S]B = R + [k]A holds
        // for every message, so lenient verification accepts this "signature"
        // of anything; verify_strict must not.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).expect("the identity decodes");
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&identity);
        let message = b"anything at all\n";
        assert!(
            weak.verify(message, &Signature::from_bytes(&sig)).is_ok(),
            "the lenient check accepts it, so this test means something"
        );
        let verifier = NoteVerifier::new("weak", weak).expect("valid name");
        assert!(!verifier.verify(message, &sig));

        // And a note signed that way does not open.
        let blob = [verifier.key_id().to_be_bytes().as_slice(), &sig].concat();
        let note = format!(
            "anything at all\n\n\u{2014} weak {}\n",
            STANDARD.encode(blob)
        );
        assert!(matches!(
            open(note.as_bytes(), &[verifier]),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn a_valid_signature_verifies_and_a_changed_text_does_not() {
        let a = test_signer("example.com/a", 7);
        let sig = a.key.sign(b"x\n").to_bytes();
        assert!(a.verifier().verify(b"x\n", &sig));
        assert!(!a.verifier().verify(b"y\n", &sig));
    }
}
