//! The key registry as it stands at a seq, and who may sign what.
//!
//! The sequencer and the verifier run exactly this code, record by record, so
//! that a record accepted at append time verifies later and one refused would
//! fail verification. Domain rules (case lifecycles and the like) live elsewhere;
//! this module knows only keys, roles and the registered parties.

use crate::codes::{Code, Rejection};
use crate::keys::{KeyId, Party, PublicKey, Role};
use crate::statement::Statement;
use crate::time::Timestamp;
use crate::vocab::{BodyKind, Clock, Event, EventKind};
use std::collections::{HashMap, HashSet};

/// How far a statement's `issued_at` may be ahead of the `recorded_at` the
/// ledger gives it. The same bound is checked at append time and by the verifier.
pub const ISSUED_SKEW_MS: i64 = 300_000;

/// Statement ids the ledger uses for records it derives itself (`auto:<trigger seq>`).
pub const DERIVED_ID_PREFIX: &str = "auto:";

/// Refuses a statement signed "in the future" of the ledger's clock.
pub fn check_issued_at(issued_at: Timestamp, recorded_at: Timestamp) -> Result<(), Rejection> {
    if issued_at.unix_millis() > recorded_at.unix_millis().saturating_add(ISSUED_SKEW_MS) {
        return Err(Rejection::new(
            Code::IssuedInFuture,
            format!(
                "issued_at {issued_at} is more than {} s ahead of the ledger's clock ({recorded_at})",
                ISSUED_SKEW_MS / 1000
            ),
        ));
    }
    Ok(())
}

fn role_names(roles: &[Role]) -> String {
    let names: Vec<String> = roles
        .iter()
        .map(|r| match serde_json::to_value(r) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{r:?}"),
        })
        .collect();
    names.join(", ")
}

/// A key as granted, and when it stopped being valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEntry {
    pub public: PublicKey,
    pub holder: Party,
    pub roles: Vec<Role>,
    pub granted_at: u64,
    /// The seq of the revocation record: the key signs nothing at or after it.
    pub revoked_at: Option<u64>,
}

impl KeyEntry {
    pub fn valid_at(&self, seq: u64) -> bool {
        self.revoked_at.is_none_or(|r| seq < r)
    }
}

/// Which roles may sign each event type. The system key may sign only the
/// records the ledger derives itself (a complaint opened by a flagged inspection).
pub fn roles_for(kind: EventKind) -> &'static [Role] {
    use EventKind as K;
    use Role as R;
    match kind {
        K::LedgerGenesis => &[R::Root],
        K::BodyRegistered
        | K::BodyReorganised
        | K::OfficeHolderAppointed
        | K::EnterpriseRegistered
        | K::KeyGranted
        | K::KeyRevoked
        | K::RuleParametersSet
        | K::CalendarLoaded => &[R::Root, R::Registrar],
        K::ComplaintFiled => &[R::Enterprise, R::Intake, R::System],
        K::ComplaintAccepted
        | K::ComplaintRejected
        | K::ResponsibilityAssigned
        | K::CaseReferred => &[R::Intake, R::Handler, R::Supervisor],
        K::FirstReplySent
        | K::JointHandlingConvened
        | K::ProgressReported
        | K::DeadlineExtended
        | K::MediationHeld
        | K::CaseResolved => &[R::Handler, R::Intake],
        K::ReportedToGovernment => &[R::Handler, R::Intake, R::Supervisor],
        K::SatisfactionRecorded => &[R::Enterprise, R::FollowUp],
        K::CaseReopened => &[R::Enterprise, R::FollowUp, R::Intake, R::Supervisor],
        K::CaseClosed => &[R::Intake, R::Handler, R::Supervisor],
        K::ComplaintWithdrawn => &[R::Enterprise, R::Intake],
        K::CaseSupervised => &[R::Intake, R::Handler, R::Supervisor],
        K::PromiseMade
        | K::PromiseKept
        | K::PromiseBreached
        | K::PromiseVaried
        | K::CompensationPaid => &[R::Promisor, R::Head],
        // This table is part of what `ledger verify` checks of every record,
        // so a role once admitted stays admitted here (records appended under
        // it must keep verifying); newer, stricter rules go in the domain
        // rules, which judge appends only. A void promise is now a
        // supervising body's finding (`promise_void_by_bound_body`).
        K::PromiseVoided => &[R::Promisor, R::Head, R::Supervisor],
        K::PromiseDisputed => &[R::Enterprise],
        K::PromiseDisputeSettled => &[R::Supervisor],
        K::InspectionRequested
        | K::InspectionRegistered
        | K::InspectionConducted
        | K::InspectionFeeDemanded => &[R::Inspector, R::Head],
        K::InspectionApproved => &[R::Head],
        K::ProjectSigned | K::ProjectMilestoneReached | K::ProjectFundsArrived => {
            &[R::ProjectTracker, R::Handler]
        }
        K::MonitoringPointNamed | K::EvaluationFeedbackRecorded => &[R::Evaluator, R::Supervisor],
        K::AccountabilityImposed => &[R::Supervisor, R::Head],
        K::Correction => &[R::Supervisor, R::Registrar, R::Root],
    }
}

/// The registry state: genesis facts, keys and registered parties.
#[derive(Clone, Debug)]
pub struct Registry {
    pub origin: String,
    pub clock: Clock,
    pub root: KeyId,
    pub system: KeyId,
    /// The checkpoint verifier key, in signed-note form.
    pub checkpoint_key: String,
    keys: HashMap<KeyId, KeyEntry>,
    bodies: HashMap<String, BodyKind>,
    enterprises: HashSet<String>,
}

fn reject(code: Code, m: impl Into<String>) -> Rejection {
    Rejection::new(code, m)
}

impl Registry {
    /// Builds the registry from the genesis statement (seq 0). The caller checks
    /// its signature with the returned root key.
    pub fn genesis(stmt: &Statement) -> Result<Registry, Rejection> {
        let Event::LedgerGenesis(g) = &stmt.event else {
            return Err(reject(
                Code::GenesisMisplaced,
                format!(
                    "seq 0 must be ledger_genesis, found {}",
                    stmt.event.kind().name()
                ),
            ));
        };
        if stmt.origin != g.origin.as_str() {
            return Err(reject(
                Code::WrongOrigin,
                "genesis statement origin differs from the origin it declares",
            ));
        }
        if stmt.actor != g.root_key.id() {
            return Err(reject(
                Code::BadSignature,
                "genesis must be signed by the root key it names",
            ));
        }
        // The checks `authorise` makes from seq 1 on, for seq 0: the root
        // key is held by the authority, and `auto:` ids are the ledger's.
        if let Some(p) = &stmt.on_behalf_of {
            if *p != Party::Authority {
                return Err(reject(
                    Code::NotHolder,
                    format!("genesis acts for {p}, but the root key is held by the authority"),
                ));
            }
        }
        if stmt.id.starts_with(DERIVED_ID_PREFIX) {
            return Err(reject(
                Code::MalformedStatement,
                format!("statement ids beginning with {DERIVED_ID_PREFIX:?} are reserved for records the ledger derives; genesis cannot take {:?}", stmt.id),
            ));
        }
        if g.system_key == g.root_key {
            return Err(reject(
                Code::RegistryConflict,
                "the system key must differ from the root key",
            ));
        }
        let mut keys = HashMap::new();
        keys.insert(
            g.root_key.id(),
            KeyEntry {
                public: g.root_key,
                holder: Party::Authority,
                roles: vec![Role::Root],
                granted_at: 0,
                revoked_at: None,
            },
        );
        keys.insert(
            g.system_key.id(),
            KeyEntry {
                public: g.system_key,
                holder: Party::Ledger,
                roles: vec![Role::System],
                granted_at: 0,
                revoked_at: None,
            },
        );
        Ok(Registry {
            origin: g.origin.as_str().to_string(),
            clock: g.clock,
            root: g.root_key.id(),
            system: g.system_key.id(),
            checkpoint_key: g.checkpoint_key.as_str().to_string(),
            keys,
            bodies: HashMap::new(),
            enterprises: HashSet::new(),
        })
    }

    pub fn key(&self, id: &KeyId) -> Option<&KeyEntry> {
        self.keys.get(id)
    }

    pub fn keys(&self) -> impl Iterator<Item = (&KeyId, &KeyEntry)> {
        self.keys.iter()
    }

    pub fn has_body(&self, id: &str) -> bool {
        self.bodies.contains_key(id)
    }

    pub fn body_kind(&self, id: &str) -> Option<BodyKind> {
        self.bodies.get(id).copied()
    }

    pub fn has_enterprise(&self, id: &str) -> bool {
        self.enterprises.contains(id)
    }

    /// Who signed, checked at `seq`: the key exists, is valid at `seq`, holds a
    /// role that allows this event type, and is held by the party the statement
    /// acts for. Returns the key the signature must verify under.
    pub fn authorise(&self, stmt: &Statement, seq: u64) -> Result<&KeyEntry, Rejection> {
        if stmt.origin != self.origin {
            return Err(reject(
                Code::WrongOrigin,
                format!(
                    "statement is for ledger {:?}, this ledger is {:?}",
                    stmt.origin, self.origin
                ),
            ));
        }
        let kind = stmt.event.kind();
        if kind == EventKind::LedgerGenesis {
            return Err(reject(
                Code::GenesisMisplaced,
                "ledger_genesis may only be seq 0",
            ));
        }
        let entry = self.keys.get(&stmt.actor).ok_or_else(|| {
            reject(
                Code::UnknownKey,
                format!("key {} was never granted in this ledger", stmt.actor),
            )
        })?;
        if let Some(r) = entry.revoked_at {
            if seq >= r {
                return Err(reject(
                    Code::RevokedKey,
                    format!("key {} was revoked at seq {r}", stmt.actor),
                ));
            }
        }
        let allowed = roles_for(kind);
        if !entry.roles.iter().any(|r| allowed.contains(r)) {
            return Err(reject(
                Code::KeyNotAuthorised,
                format!(
                    "key {} has roles [{}]; {} needs one of [{}]",
                    stmt.actor,
                    role_names(&entry.roles),
                    kind.name(),
                    role_names(allowed)
                ),
            ));
        }
        // Ids `auto:<seq>` belong to the records the ledger derives itself;
        // a client taking one would make the ledger's own record collide.
        if stmt.id.starts_with(DERIVED_ID_PREFIX) && stmt.actor != self.system {
            return Err(reject(
                Code::MalformedStatement,
                format!("statement ids beginning with {DERIVED_ID_PREFIX:?} are reserved for records the ledger derives; {:?} is not yours to use", stmt.id),
            ));
        }
        if let Event::Correction(c) = &stmt.event {
            if c.target_seq >= seq {
                return Err(reject(
                    Code::InvalidBody,
                    format!(
                        "a correction at seq {seq} can only name an earlier record, not seq {}",
                        c.target_seq
                    ),
                ));
            }
        }
        if let Some(p) = &stmt.on_behalf_of {
            if *p != entry.holder {
                return Err(reject(
                    Code::NotHolder,
                    format!(
                        "statement acts for {p}, but key {} is held by {}",
                        stmt.actor, entry.holder
                    ),
                ));
            }
        }
        Ok(entry)
    }

    /// A city named by a record must be a registered body of kind city_government.
    fn check_city(&self, id: &str) -> Result<(), Rejection> {
        match self.bodies.get(id) {
            Some(BodyKind::CityGovernment) => Ok(()),
            Some(k) => Err(reject(
                Code::UnknownParty,
                format!("{id} is a {} body, not a city (city_government)", k.name()),
            )),
            None => Err(reject(
                Code::UnknownParty,
                format!("city {id} is not registered"),
            )),
        }
    }

    /// Checks that the registry can take this statement's effects (no re-grant,
    /// known holders, reserved roles), without changing anything.
    pub fn check_effects(&self, stmt: &Statement) -> Result<(), Rejection> {
        match &stmt.event {
            Event::KeyGranted(k) => {
                if self.keys.contains_key(&k.key) {
                    return Err(reject(
                        Code::RegistryConflict,
                        format!("key {} is already granted; a key is granted once (revoke it and grant a new key)", k.key),
                    ));
                }
                if k.roles
                    .iter()
                    .any(|r| matches!(r, Role::Root | Role::System))
                {
                    return Err(reject(
                        Code::RegistryConflict,
                        "the root and system roles are named in genesis and cannot be granted",
                    ));
                }
                if k.roles.contains(&Role::Registrar) && stmt.actor != self.root {
                    return Err(reject(
                        Code::KeyNotAuthorised,
                        "only the root authority grants the registrar role",
                    ));
                }
                match &k.holder {
                    Party::Body(b) if self.bodies.contains_key(b) => {
                        if k.roles.contains(&Role::Enterprise) {
                            return Err(reject(
                                Code::RegistryConflict,
                                "the enterprise role is granted only to an enterprise",
                            ));
                        }
                    }
                    Party::Enterprise(e) if self.enterprises.contains(e) => {
                        if k.roles.iter().any(|r| *r != Role::Enterprise) {
                            return Err(reject(
                                Code::RegistryConflict,
                                "an enterprise's key holds only the enterprise role",
                            ));
                        }
                    }
                    Party::Body(_) | Party::Enterprise(_) => {
                        return Err(reject(
                            Code::UnknownParty,
                            format!("{} is not registered", k.holder),
                        ));
                    }
                    Party::Authority | Party::Ledger => {
                        return Err(reject(
                            Code::RegistryConflict,
                            "keys are granted to a registered body or enterprise",
                        ));
                    }
                }
            }
            Event::KeyRevoked(k) => {
                let e = self.keys.get(&k.key).ok_or_else(|| {
                    reject(Code::UnknownKey, format!("key {} was never granted", k.key))
                })?;
                if e.revoked_at.is_some() {
                    return Err(reject(
                        Code::RegistryConflict,
                        format!("key {} is already revoked", k.key),
                    ));
                }
                if k.key == self.root || k.key == self.system {
                    return Err(reject(
                        Code::RegistryConflict,
                        "the root and system keys named in genesis cannot be revoked",
                    ));
                }
            }
            Event::BodyRegistered(b) => {
                if self.bodies.contains_key(b.body.as_str()) {
                    return Err(reject(
                        Code::RegistryConflict,
                        format!("body {} is already registered", b.body),
                    ));
                }
                for r in b.city.iter().chain(b.parent.iter()) {
                    if !self.bodies.contains_key(r.as_str()) {
                        return Err(reject(
                            Code::UnknownParty,
                            format!("body {r} is not registered"),
                        ));
                    }
                }
                if let Some(c) = &b.city {
                    self.check_city(c.as_str())?;
                }
            }
            Event::BodyReorganised(b) => {
                for r in [&b.body, &b.successor] {
                    if !self.bodies.contains_key(r.as_str()) {
                        return Err(reject(
                            Code::UnknownParty,
                            format!("body {r} is not registered"),
                        ));
                    }
                }
                if b.body == b.successor {
                    return Err(reject(
                        Code::RegistryConflict,
                        "a body cannot be its own successor",
                    ));
                }
            }
            Event::OfficeHolderAppointed(o) if !self.bodies.contains_key(o.body.as_str()) => {
                return Err(reject(
                    Code::UnknownParty,
                    format!("body {} is not registered", o.body),
                ));
            }
            Event::EnterpriseRegistered(e) => {
                if self.enterprises.contains(e.enterprise.as_str()) {
                    return Err(reject(
                        Code::RegistryConflict,
                        format!("enterprise {} is already registered", e.enterprise),
                    ));
                }
                self.check_city(e.city.as_str())?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies an accepted statement's registry effects at `seq`.
    pub fn apply(&mut self, stmt: &Statement, seq: u64) {
        match &stmt.event {
            Event::KeyGranted(k) => {
                self.keys.insert(
                    k.key,
                    KeyEntry {
                        public: k.public_key,
                        holder: k.holder.clone(),
                        roles: k.roles.clone(),
                        granted_at: seq,
                        revoked_at: None,
                    },
                );
            }
            Event::KeyRevoked(k) => {
                if let Some(e) = self.keys.get_mut(&k.key) {
                    e.revoked_at = Some(seq);
                }
            }
            Event::BodyRegistered(b) => {
                self.bodies.insert(b.body.as_str().to_string(), b.kind);
            }
            Event::EnterpriseRegistered(e) => {
                self.enterprises.insert(e.enterprise.as_str().to_string());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{OffsetTime, Timestamp};
    use crate::vocab::{Clock, LedgerGenesis, Text};
    use ed25519_dalek::SigningKey;

    /// The role table only ever admits more (ARCHITECTURE.md): records
    /// appended when promisor and head keys could void a promise must keep
    /// verifying, so they still may here; the domain rules now admit only a
    /// supervisor for new appends.
    #[test]
    fn roles_once_admitted_stay_admitted() {
        assert_eq!(
            roles_for(EventKind::PromiseVoided),
            [Role::Promisor, Role::Head, Role::Supervisor]
        );
    }

    fn genesis(id: &str, on_behalf_of: Option<Party>) -> Statement {
        let root = SigningKey::from_bytes(&[1; 32]);
        let system = SigningKey::from_bytes(&[2; 32]);
        Statement {
            origin: "test.example/ledger".into(),
            id: id.into(),
            actor: KeyId::of(&root.verifying_key()),
            on_behalf_of,
            issued_at: Timestamp::parse("2006-01-01T00:00:00.000Z").unwrap(),
            occurred_at: OffsetTime::parse("2006-01-01T08:00:00+08:00").unwrap(),
            event: Event::LedgerGenesis(LedgerGenesis {
                checkpoint_key: Text::new("test.example/ledger+00000000+AAAA").unwrap(),
                clock: Clock::Real,
                description: Text::new("test").unwrap(),
                origin: Text::new("test.example/ledger").unwrap(),
                root_key: PublicKey(root.verifying_key()),
                system_key: PublicKey(system.verifying_key()),
            }),
        }
    }

    /// Genesis takes the checks `authorise` makes from seq 1 on: it acts for
    /// no one but the authority that holds the root key, and cannot take an
    /// id reserved for the ledger's derived records.
    #[test]
    fn genesis_acts_for_the_authority_only_and_takes_no_derived_id() {
        assert!(Registry::genesis(&genesis("genesis", None)).is_ok());
        assert!(Registry::genesis(&genesis("genesis", Some(Party::Authority))).is_ok());
        let e = Registry::genesis(&genesis("genesis", Some(Party::Body("b1".into())))).unwrap_err();
        assert_eq!(e.code, Code::NotHolder, "{e:?}");
        let e = Registry::genesis(&genesis("auto:5", None)).unwrap_err();
        assert_eq!(e.code, Code::MalformedStatement, "{e:?}");
    }
}
