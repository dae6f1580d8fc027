//! Actor keys. An actor is named by its key id: the full SHA-256 of its 32-byte
//! Ed25519 public key, in lowercase hex. A full hash (never a short prefix) means
//! two keys can never be confused, and anyone can recompute the id from the key.

use crate::codec;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The id of an actor key: SHA-256 of the raw 32-byte public key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 32]);

/// A key id is a SHA-256 digest, so its first eight bytes are as good a
/// hash input as all 32 (two ids alike in them cost about 2^32 key pairs
/// to find, and equality still compares all 32): the key registry, which
/// every record looks up, hashes a quarter of the bytes.
impl std::hash::Hash for KeyId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &VerifyingKey) -> KeyId {
        KeyId(Sha256::digest(key.as_bytes()).into())
    }

    /// Parses the 64-character lowercase hex form.
    pub fn parse(s: &str) -> Option<KeyId> {
        codec::unhex::<32>(s).map(KeyId)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&codec::hex(&self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KeyId::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "key id must be 64 lowercase hex characters (the SHA-256 of the public key), got {s:?}"
            ))
        })
    }
}

/// An Ed25519 public key, written as standard base64 of its 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(pub VerifyingKey);

impl PublicKey {
    /// Parses base64 and refuses keys that are not valid curve points.
    pub fn parse(s: &str) -> Option<PublicKey> {
        let raw = codec::unb64::<32>(s)?;
        VerifyingKey::from_bytes(&raw).ok().map(PublicKey)
    }

    pub fn id(&self) -> KeyId {
        KeyId::of(&self.0)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&codec::b64(self.0.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PublicKey::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "public key must be standard base64 of a 32-byte Ed25519 point, got {s:?}"
            ))
        })
    }
}

/// What a key may sign. Roles are granted with the key and checked by the
/// sequencer before anything is appended (see [`crate::registry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The root authority named in genesis: registers bodies, enterprises and keys.
    Root,
    /// Keeps the registry on the root authority's behalf (bodies, office holders, keys, rules).
    Registrar,
    /// Intake clerk (专人登记): files complaints on an enterprise's behalf, accepts, refers.
    Intake,
    /// Handles cases: replies, progress, extensions, mediation, resolution.
    Handler,
    /// Head of a body (一把手): approves inspections, imposes accountability.
    Head,
    /// Requests, registers and conducts inspections.
    Inspector,
    /// Makes and settles promises on behalf of a government body.
    Promisor,
    /// An enterprise's own key: files complaints, rates, disputes promises.
    Enterprise,
    /// Records the follow-up call's rating (12345 回访).
    FollowUp,
    /// Records evaluation feedback and monitoring points.
    Evaluator,
    /// Supervises: reports to government, settles disputes, corrects records.
    Supervisor,
    /// Tracks signed investment projects (专人跟踪).
    ProjectTracker,
    /// The ledger's own key: appends only records the ledger derives itself.
    System,
}

/// The party a key is held by or a statement is made for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Party {
    /// A government body, by its registered id.
    Body(String),
    /// An enterprise, by its registered id.
    Enterprise(String),
    /// The root authority named in genesis.
    Authority,
    /// The ledger itself (its system key).
    Ledger,
}

impl fmt::Display for Party {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Party::Body(b) => write!(f, "body {b}"),
            Party::Enterprise(e) => write!(f, "enterprise {e}"),
            Party::Authority => f.write_str("the root authority"),
            Party::Ledger => f.write_str("the ledger"),
        }
    }
}
