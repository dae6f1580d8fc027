//! Stable rejection codes. Each refusal anywhere in the system (the sequencer,
//! the verifier, the HTTP service, the domain rules) carries one of these
//! snake_case codes and a message for people. Codes are part of the format:
//! they are listed in FORMAT.md and never renamed.

use std::fmt;

macro_rules! codes {
    ($( $(#[$doc:meta])* $v:ident = $name:literal ),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $(#[$doc])* $v, )* }
        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$v, )* ];
            pub fn as_str(self) -> &'static str { match self { $( Code::$v => $name, )* } }
            pub fn parse(s: &str) -> Option<Code> { match s { $( $name => Some(Code::$v), )* _ => None } }
        }
    };
}

codes! {
    /// The input is not JSON (RFC 8259), has duplicate keys or nests too deep.
    MalformedJson = "malformed_json",
    /// The JSON is valid but not in RFC 8785 canonical form.
    NotCanonical = "not_canonical",
    /// A number is not an integer or lies outside ±(2^53−1).
    NumberNotAllowed = "number_not_allowed",
    /// A statement, envelope or record field is missing, unknown or mistyped.
    MalformedStatement = "malformed_statement",
    /// The statement's format version is not one this ledger reads.
    UnsupportedFormat = "unsupported_format",
    /// The event type is not in the vocabulary.
    UnknownEventType = "unknown_event_type",
    /// The event type exists but not at this schema version.
    UnknownSchemaVersion = "unknown_schema_version",
    /// The event body does not decode or breaks a field rule.
    InvalidBody = "invalid_body",
    /// The statement names another ledger's origin.
    WrongOrigin = "wrong_origin",
    /// The Ed25519 signature does not verify (verify_strict).
    BadSignature = "bad_signature",
    /// The actor key was never granted in this ledger.
    UnknownKey = "unknown_key",
    /// The actor key was revoked at or before this seq.
    RevokedKey = "revoked_key",
    /// The key's roles do not allow this event type.
    KeyNotAuthorised = "key_not_authorised",
    /// The key is not held by the body or enterprise the statement acts for.
    NotHolder = "not_holder",
    /// The same statement id was already used for different content.
    IdConflict = "id_conflict",
    /// The record would exceed 64 KiB.
    RecordTooLarge = "record_too_large",
    /// `issued_at` is further in the future than the allowed clock skew.
    IssuedInFuture = "issued_in_future",
    /// A caller-supplied `recorded_at` on a ledger whose clock is real, or one that goes back in time.
    RecordedAtRefused = "recorded_at_refused",
    /// Genesis is missing at seq 0, or appears again later.
    GenesisMisplaced = "genesis_misplaced",
    /// A key grant or revocation that the registry cannot accept (re-grant, unknown holder, reserved role).
    RegistryConflict = "registry_conflict",
    /// The party a key is granted to, or a record names, is not registered.
    UnknownParty = "unknown_party",
    /// Verification: a record's seq is not the next one (deleted, inserted or reordered records).
    SeqMismatch = "seq_mismatch",
    /// Verification: a record's `prev` is not the chain hash of the record before it.
    ChainBroken = "chain_broken",
    /// Verification: the Merkle root disagrees with a signed checkpoint.
    RootMismatch = "root_mismatch",
    /// Verification: a checkpoint's signature or text is not valid.
    BadCheckpoint = "bad_checkpoint",
    /// Verification: the history is not consistent with an older checkpoint the auditor kept.
    Inconsistent = "inconsistent",
    /// Verification: the records end before a checkpoint the auditor kept.
    Truncated = "truncated",
    /// Verification: genesis does not name the root key the auditor trusts.
    UntrustedRoot = "untrusted_root",
    /// Verification: a log frame's checksum or framing is damaged.
    DamagedFrame = "damaged_frame",
    /// The ledger's storage failed; the writer has stopped and nothing more is acknowledged.
    StorageFailed = "storage_failed",
    /// The ledger is shutting down or its writer has stopped.
    Unavailable = "unavailable",
    /// A batch holds more statements than allowed.
    BatchTooLarge = "batch_too_large",
    /// A rule of DOMAIN.md refuses the statement (a lifecycle, an authority or
    /// a reference); the message starts with the rule's own code (see FORMAT.md).
    RuleViolated = "rule_violated",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal: a stable code and a message that says what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    pub code: Code,
    pub message: String,
}

impl Rejection {
    pub fn new(code: Code, message: impl Into<String>) -> Rejection {
        Rejection {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
            assert_eq!(Code::parse(s), Some(*c));
            assert!(seen.insert(s), "duplicate code {s}");
        }
    }
}
