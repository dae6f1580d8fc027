//! C2SP transparency-log checkpoints (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is the text of a signed note that commits the log to a tree
//! head:
//!
//! ```text
//! <origin>
//! <tree size in decimal>
//! <base64 of the RFC 6962 root hash>
//! [extension lines]
//! ```
//!
//! Parsing is strict, so each tree head has exactly one text and therefore
//! one signature over it: a size with a leading zero, a root in a
//! non-canonical base64 form or an empty line is refused rather than
//! normalised.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::note::{NoteError, NoteSigner, NoteVerifier};

/// A SHA-256 Merkle tree hash.
pub type Hash = [u8; 32];

/// The tree head a checkpoint commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity; the ledger's key is named after it.
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 root hash of the tree at `size`.
    pub root: Hash,
    /// Opaque extension lines, without their newlines.
    pub extensions: Vec<String>,
}

/// Why a checkpoint could not be parsed, signed or opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckpointError {
    /// The signed note around the checkpoint was refused.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// The checkpoint text does not follow the format.
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// The checkpoint is for another log than the one expected.
    #[error("checkpoint is for origin {got:?}, but {want:?} was expected")]
    WrongOrigin { want: String, got: String },
    /// The key does not carry the log's origin as its name, which C2SP
    /// recommends and this ledger requires so that a key of one log cannot
    /// vouch for another.
    #[error("key name {key_name:?} is not the checkpoint origin {origin:?}")]
    KeyNameMismatch { key_name: String, origin: String },
}

fn malformed(reason: impl Into<String>) -> CheckpointError {
    CheckpointError::Malformed(reason.into())
}

/// Checks one origin or extension line: it must be non-empty and, since it
/// will be the text of a signed note, free of ASCII control characters
/// (which covers newlines and the carriage returns of CRLF files).
fn check_line(line: &str, what: &str) -> Result<(), CheckpointError> {
    if line.is_empty() {
        return Err(malformed(format!("the {what} is empty")));
    }
    if line.bytes().any(|b| b < 0x20) {
        return Err(malformed(format!(
            "the {what} contains an ASCII control character"
        )));
    }
    Ok(())
}

/// Parses the tree size: ASCII decimal digits, no sign, no leading zero
/// except for the empty tree's "0", and small enough for a u64.
fn parse_size(line: &str) -> Result<u64, CheckpointError> {
    if line.is_empty() || !line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(format!(
            "the tree size {line:?} is not a decimal number"
        )));
    }
    if line.len() > 1 && line.starts_with('0') {
        return Err(malformed(format!(
            "the tree size {line:?} has a leading zero"
        )));
    }
    line.parse::<u64>()
        .map_err(|_| malformed(format!("the tree size {line:?} does not fit in 64 bits")))
}

/// Parses the root hash: canonical, padded standard base64 of 32 bytes.
fn parse_root(line: &str) -> Result<Hash, CheckpointError> {
    let bytes = STANDARD
        .decode(line)
        .map_err(|_| malformed(format!("the root hash {line:?} is not standard base64")))?;
    Hash::try_from(bytes.as_slice())
        .map_err(|_| malformed(format!("the root hash is {} bytes, not 32", bytes.len())))
}

impl Checkpoint {
    /// Returns the checkpoint text: origin, size, base64 root and each
    /// extension, each line ending in a newline.
    ///
    /// The result is only meaningful for a checkpoint that
    /// [`Checkpoint::validate`] accepts; [`SignedCheckpoint::sign`] checks.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for extension in &self.extensions {
            text.push_str(extension);
            text.push('\n');
        }
        text
    }

    /// Checks that [`Checkpoint::to_text`] gives a text that
    /// [`Checkpoint::parse`] reads back as this same checkpoint.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        check_line(&self.origin, "origin")?;
        for extension in &self.extensions {
            check_line(extension, "extension line")?;
        }
        Ok(())
    }

    /// Parses a checkpoint text strictly.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| malformed("the text does not end in a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(malformed(
                "the text has fewer than three lines (origin, tree size, root hash)",
            ));
        };
        check_line(origin, "origin")?;
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        let extensions = lines
            .map(|line| check_line(line, "extension line").map(|()| line.to_owned()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// A checkpoint together with the signed note that carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed checkpoint.
    pub checkpoint: Checkpoint,
    /// The whole signed note, exactly as signed or received.
    pub note: String,
}

impl SignedCheckpoint {
    /// Signs a checkpoint with the log's key, which must be named after the
    /// checkpoint's origin.
    pub fn sign(cp: Checkpoint, signer: &NoteSigner) -> Result<Self, CheckpointError> {
        cp.validate()?;
        if signer.name() != cp.origin {
            return Err(CheckpointError::KeyNameMismatch {
                key_name: signer.name().to_owned(),
                origin: cp.origin,
            });
        }
        let note = crate::note::sign(&cp.to_text(), &[signer])?;
        Ok(Self {
            checkpoint: cp,
            note,
        })
    }

    /// Opens a signed checkpoint of the log `origin`, whose key is `verifier`.
    ///
    /// The log's key must have signed (other signatures, such as witness
    /// cosignatures, are allowed and ignored), the key must be named `origin`,
    /// and the checkpoint must be for `origin`.
    pub fn open(
        note: &[u8],
        verifier: &NoteVerifier,
        origin: &str,
    ) -> Result<Self, CheckpointError> {
        if verifier.name() != origin {
            return Err(CheckpointError::KeyNameMismatch {
                key_name: verifier.name().to_owned(),
                origin: origin.to_owned(),
            });
        }
        let opened = crate::note::open(note, std::slice::from_ref(verifier))?;
        // With a single verifier, success already means that it signed; this
        // states the requirement outright rather than leaning on that.
        let signed_by_log = opened
            .verified
            .iter()
            .any(|(name, id)| name == verifier.name() && *id == verifier.key_id());
        if !signed_by_log {
            return Err(CheckpointError::Note(NoteError::NoVerifiedSignature));
        }
        let checkpoint = Checkpoint::parse(&opened.text)?;
        if checkpoint.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                want: origin.to_owned(),
                got: checkpoint.origin,
            });
        }
        // `open` has already checked that the note is UTF-8.
        let note = std::str::from_utf8(note)
            .map_err(|_| CheckpointError::Note(NoteError::MalformedNote("not valid UTF-8")))?
            .to_owned();
        Ok(Self { checkpoint, note })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note;
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "example.com/ledger";

    fn signer(name: &str, seed: u8) -> NoteSigner {
        NoteSigner::new(name, SigningKey::from_bytes(&[seed; 32])).expect("valid test key name")
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: ORIGIN.to_owned(),
            size: 20_852_163,
            root: [0xab; 32],
            extensions: Vec::new(),
        }
    }

    fn root_b64() -> String {
        STANDARD.encode([0xab; 32])
    }

    #[test]
    fn text_round_trips() {
        let mut cp = checkpoint();
        assert_eq!(
            cp.to_text(),
            format!("{ORIGIN}\n20852163\n{}\n", root_b64())
        );
        assert_eq!(Checkpoint::parse(&cp.to_text()), Ok(cp.clone()));

        cp.extensions = vec!["ext one".to_owned(), "— two".to_owned()];
        assert_eq!(
            cp.to_text(),
            format!("{ORIGIN}\n20852163\n{}\next one\n— two\n", root_b64())
        );
        assert_eq!(Checkpoint::parse(&cp.to_text()), Ok(cp.clone()));

        for size in [0, 1, 10, u64::MAX] {
            cp.size = size;
            assert_eq!(Checkpoint::parse(&cp.to_text()), Ok(cp.clone()));
        }
    }

    #[test]
    fn the_c2sp_example_parses_and_round_trips() {
        let text =
            "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let cp = Checkpoint::parse(text).expect("the spec's example parses");
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20_852_163);
        assert_eq!(cp.root[0], 0x0a);
        assert!(cp.extensions.is_empty());
        assert_eq!(cp.to_text(), text);
    }

    #[test]
    fn malformed_texts_are_rejected() {
        let root = root_b64();
        let short_root = STANDARD.encode([0xab; 31]);
        let long_root = STANDARD.encode([0xab; 33]);
        let url_safe_root = STANDARD
            .encode([0xfb; 32])
            .replace('+', "-")
            .replace('/', "_");
        let cases = [
            // The size.
            format!("{ORIGIN}\n01\n{root}\n"),
            format!("{ORIGIN}\n00\n{root}\n"),
            format!("{ORIGIN}\n+1\n{root}\n"),
            format!("{ORIGIN}\n-1\n{root}\n"),
            format!("{ORIGIN}\n 1\n{root}\n"),
            format!("{ORIGIN}\n1 \n{root}\n"),
            format!("{ORIGIN}\n1_000\n{root}\n"),
            format!("{ORIGIN}\n0x10\n{root}\n"),
            format!("{ORIGIN}\n\n{root}\n"),
            format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
            // The root.
            format!("{ORIGIN}\n1\nnot base64!\n"),
            format!("{ORIGIN}\n1\n{short_root}\n"),
            format!("{ORIGIN}\n1\n{long_root}\n"),
            format!("{ORIGIN}\n1\n{}\n", root.trim_end_matches('=')),
            format!("{ORIGIN}\n1\n{url_safe_root}\n"),
            format!("{ORIGIN}\n1\n {root}\n"),
            format!("{ORIGIN}\n1\n\n"),
            // Newlines and lines.
            format!("{ORIGIN}\n1\n{root}"),
            format!("{ORIGIN}\n1\n{root}\next"),
            format!("{ORIGIN}\n1\n"),
            format!("{ORIGIN}\n"),
            String::new(),
            "\n".to_owned(),
            format!("{ORIGIN}\r\n1\r\n{root}\r\n"),
            // The origin.
            format!("\n1\n{root}\n"),
            format!("{ORIGIN}\t\n1\n{root}\n"),
            // Empty extension lines.
            format!("{ORIGIN}\n1\n{root}\n\n"),
            format!("{ORIGIN}\n1\n{root}\next\n\n"),
            format!("{ORIGIN}\n1\n{root}\n\next\n"),
        ];
        for text in &cases {
            assert!(
                matches!(Checkpoint::parse(text), Err(CheckpointError::Malformed(_))),
                "{text:?} gave {:?}",
                Checkpoint::parse(text)
            );
        }
    }

    #[test]
    fn each_named_defect_gets_its_own_message() {
        let root = root_b64();
        let message = |text: &str| match Checkpoint::parse(text) {
            Err(CheckpointError::Malformed(m)) => m,
            other => panic!("{text:?} gave {other:?}"),
        };
        assert!(message(&format!("{ORIGIN}\n01\n{root}\n")).contains("leading zero"));
        assert!(message(&format!("{ORIGIN}\n1\n!!\n")).contains("base64"));
        assert!(
            message(&format!("{ORIGIN}\n1\n{}\n", STANDARD.encode([1; 31]))).contains("31 bytes")
        );
        assert!(message(&format!("{ORIGIN}\n1\n{root}")).contains("newline"));
        assert!(message(&format!("\n1\n{root}\n")).contains("origin is empty"));
    }

    #[test]
    fn sign_and_open() {
        let log = signer(ORIGIN, 7);
        let mut cp = checkpoint();
        cp.extensions.push("an extension".to_owned());
        let signed = SignedCheckpoint::sign(cp.clone(), &log).expect("signs");
        assert_eq!(signed.checkpoint, cp);
        assert!(signed
            .note
            .starts_with(&format!("{}\n\u{2014} {ORIGIN} ", cp.to_text())));
        assert_eq!(
            SignedCheckpoint::open(signed.note.as_bytes(), &log.verifier(), ORIGIN),
            Ok(signed.clone())
        );
        // Signing is deterministic, so the same checkpoint gives the same note.
        assert_eq!(SignedCheckpoint::sign(cp, &log), Ok(signed));
    }

    #[test]
    fn a_witness_cosignature_does_not_stop_the_log_key_from_opening() {
        let log = signer(ORIGIN, 7);
        let witness = signer("example.com/witness", 8);
        let cp = checkpoint();
        let note = note::sign(&cp.to_text(), &[&log, &witness]).expect("signs");
        let opened =
            SignedCheckpoint::open(note.as_bytes(), &log.verifier(), ORIGIN).expect("opens");
        assert_eq!(opened.checkpoint, cp);
        assert_eq!(opened.note, note);

        // A note that only the witness signed is not the log's checkpoint.
        let only_witness = note::sign(&cp.to_text(), &[&witness]).expect("signs");
        assert_eq!(
            SignedCheckpoint::open(only_witness.as_bytes(), &log.verifier(), ORIGIN),
            Err(CheckpointError::Note(NoteError::NoVerifiedSignature))
        );
    }

    #[test]
    fn sign_refuses_a_key_not_named_after_the_origin_and_bad_checkpoints() {
        let other = signer("example.com/other", 7);
        assert_eq!(
            SignedCheckpoint::sign(checkpoint(), &other),
            Err(CheckpointError::KeyNameMismatch {
                key_name: "example.com/other".to_owned(),
                origin: ORIGIN.to_owned()
            })
        );
        let log = signer(ORIGIN, 7);
        let mut bad = checkpoint();
        bad.extensions.push(String::new());
        assert!(matches!(
            SignedCheckpoint::sign(bad, &log),
            Err(CheckpointError::Malformed(_))
        ));
        let mut bad = checkpoint();
        bad.origin = format!("{ORIGIN}\n2");
        assert!(matches!(
            SignedCheckpoint::sign(bad, &log),
            Err(CheckpointError::Malformed(_))
        ));
        let mut bad = checkpoint();
        bad.extensions.push("two\nlines".to_owned());
        assert!(matches!(
            SignedCheckpoint::sign(bad, &log),
            Err(CheckpointError::Malformed(_))
        ));
    }

    #[test]
    fn opening_with_the_wrong_key_fails() {
        let log = signer(ORIGIN, 7);
        let signed = SignedCheckpoint::sign(checkpoint(), &log).expect("signs");
        // Another key under the log's name has another key id, so the log's
        // signature is from an unknown key and nothing verifies.
        let impostor = signer(ORIGIN, 8).verifier();
        assert_eq!(
            SignedCheckpoint::open(signed.note.as_bytes(), &impostor, ORIGIN),
            Err(CheckpointError::Note(NoteError::NoVerifiedSignature))
        );
    }

    #[test]
    fn opening_for_the_wrong_origin_fails() {
        let log = signer(ORIGIN, 7);
        let signed = SignedCheckpoint::sign(checkpoint(), &log).expect("signs");
        assert_eq!(
            SignedCheckpoint::open(signed.note.as_bytes(), &log.verifier(), "example.com/other"),
            Err(CheckpointError::KeyNameMismatch {
                key_name: ORIGIN.to_owned(),
                origin: "example.com/other".to_owned()
            })
        );

        // A key named for the expected origin that signed a checkpoint of
        // another origin (which `sign` refuses to produce) is still refused.
        let mut foreign = checkpoint();
        foreign.origin = "example.com/foreign".to_owned();
        let note = note::sign(&foreign.to_text(), &[&log]).expect("signs");
        assert_eq!(
            SignedCheckpoint::open(note.as_bytes(), &log.verifier(), ORIGIN),
            Err(CheckpointError::WrongOrigin {
                want: ORIGIN.to_owned(),
                got: "example.com/foreign".to_owned()
            })
        );
    }

    #[test]
    fn a_signed_note_that_is_not_a_checkpoint_fails() {
        let log = signer(ORIGIN, 7);
        let note = note::sign(&format!("{ORIGIN}\n01\n{}\n", root_b64()), &[&log]).expect("signs");
        assert!(matches!(
            SignedCheckpoint::open(note.as_bytes(), &log.verifier(), ORIGIN),
            Err(CheckpointError::Malformed(_))
        ));
    }

    #[test]
    fn every_flipped_byte_of_the_note_fails() {
        let log = signer(ORIGIN, 7);
        let signed = SignedCheckpoint::sign(checkpoint(), &log).expect("signs");
        let verifier = log.verifier();
        let original = signed.note.as_bytes();
        for i in 0..original.len() {
            for bit in [0x01u8, 0x20, 0x80] {
                let mut tampered = original.to_vec();
                tampered[i] ^= bit;
                assert!(
                    SignedCheckpoint::open(&tampered, &verifier, ORIGIN).is_err(),
                    "flipping bit {bit:#04x} of byte {i} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn a_flipped_text_byte_is_a_bad_signature() {
        let log = signer(ORIGIN, 7);
        let signed = SignedCheckpoint::sign(checkpoint(), &log).expect("signs");
        let mut tampered = signed.note.into_bytes();
        // The first digit of the size: "2" becomes "3".
        let at = ORIGIN.len() + 1;
        tampered[at] ^= 0x01;
        assert_eq!(
            SignedCheckpoint::open(&tampered, &log.verifier(), ORIGIN),
            Err(CheckpointError::Note(NoteError::BadSignature {
                name: ORIGIN.to_owned(),
                key_id: log.key_id()
            }))
        );
    }
}
