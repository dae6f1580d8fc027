//! The event vocabulary, version 1. Every event is a past-tense fact stated by the
//! body, enterprise or ledger that acted. Each type has a name (`type` in the
//! statement), a schema version (`schema`) and a body whose fields are fixed ASCII
//! names. Old versions stay decodable forever: a new version adds a new arm to
//! [`decode`], it never changes an old one.
//!
//! Values are typed so that a decoded event is already valid ("parse, don't
//! validate"): ids are short ASCII slugs, free text is bounded, money is integer
//! fen (分), ratings and weights are integers. No floating point anywhere.
//!
//! The fields of every body struct are declared in the byte order of their
//! names: serializing a body then writes its members in canonical (RFC 8785)
//! order, so checking that a body has one spelling is a comparison with no
//! value tree built ([`Event::body_serializes_to`]). A test checks every kind.

use crate::keys::{KeyId, Party, PublicKey, Role};
use crate::time::{Date, OffsetTime, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Upper bound of free text in one field, in bytes of UTF-8.
pub const TEXT_BYTES_MAX: usize = 4096;
/// Upper bound of an id, in bytes.
pub const ID_BYTES_MAX: usize = 64;
/// Upper bound of list fields (bodies in a joint handling, inspection items, ...).
pub const LIST_ITEMS_MAX: usize = 64;
/// The largest integer a statement may carry: 2^53 - 1, exact in every JSON reader.
pub const INTEGER_MAX: i64 = (1 << 53) - 1;

/// Why a statement's event could not be decoded. Each maps to a stable code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("event type {kind:?} has no schema version {schema} (known: 1..={current})")]
    UnknownSchema {
        kind: String,
        schema: u32,
        current: u32,
    },
    #[error("invalid body for {kind} v{schema}: {message}")]
    InvalidBody {
        kind: String,
        schema: u32,
        message: String,
    },
    #[error(
        "body of {kind} is not in canonical form (a field is null, defaulted or spelt differently)"
    )]
    NotCanonicalBody { kind: String },
}

fn bounded_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    let v = Vec::<T>::deserialize(d)?;
    if v.len() > LIST_ITEMS_MAX {
        return Err(serde::de::Error::custom(format!(
            "list has {} items; at most {LIST_ITEMS_MAX} are allowed",
            v.len()
        )));
    }
    Ok(v)
}

/// An identifier chosen by the registering party: 1 to 64 bytes of
/// `[A-Za-z0-9._:/-]`. Ids are data, never object keys in canonical JSON.
///
/// An id of up to [`ID_INLINE_BYTES`] bytes (nearly every id: `hn.changsha`,
/// `ent-zhangjiajie-00072`, `case-2026-000100`) is kept inside the value, a
/// longer one on the heap: the domain model holds millions of ids, and a
/// `String` each cost a heap block of 32 bytes besides. Equality, order and
/// hashing are those of the text.
#[derive(Clone)]
pub struct Id(Compact);

/// The longest id or text kept inline (the value stays the size of a `String`).
pub const ID_INLINE_BYTES: usize = 22;

/// A string kept inside the value up to [`ID_INLINE_BYTES`] bytes and on
/// the heap beyond: the storage of [`Id`] and [`Text`].
#[derive(Clone)]
enum Compact {
    Inline {
        len: u8,
        bytes: [u8; ID_INLINE_BYTES],
    },
    Heap(Box<str>),
}

impl Compact {
    fn new(s: &str) -> Compact {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= ID_INLINE_BYTES => {
                let mut bytes = [0u8; ID_INLINE_BYTES];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Compact::Inline { len, bytes }
            }
            _ => Compact::Heap(s.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Compact::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Compact::Heap(s) => s.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // The bytes are a whole `&str` copied in, so always UTF-8.
            Compact::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            Compact::Heap(s) => s,
        }
    }
}

impl Id {
    pub fn new(s: impl Into<String>) -> Result<Id, String> {
        let s = s.into();
        Id::parse(&s)
    }

    /// Checks `s` and makes an id of it without allocating when it is short.
    pub fn parse(s: &str) -> Result<Id, String> {
        let ok_char = |c: u8| c.is_ascii_alphanumeric() || b"._:/-".contains(&c);
        if s.is_empty() || s.len() > ID_BYTES_MAX || !s.bytes().all(ok_char) {
            return Err(format!(
                "id {s:?} must be 1 to {ID_BYTES_MAX} characters of A-Z a-z 0-9 . _ : / -"
            ));
        }
        Ok(Id(Compact::new(s)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for Id {
    fn eq(&self, other: &Id) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Id {}

impl PartialOrd for Id {
    fn partial_cmp(&self, other: &Id) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Id {
    /// The order of the text (`str`'s order is that of its bytes).
    fn cmp(&self, other: &Id) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for Id {
    /// Hashes as the text does.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Reads a string through the check that makes a value of it (`Id::parse`,
/// `Text::parse`), without a temporary `String`.
struct Checked<T>(fn(&str) -> Result<T, String>, &'static str);

impl<T> serde::de::Visitor<'_> for Checked<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
        (self.0)(s).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Checked(Id::parse, "an id"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// Free text: at most [`TEXT_BYTES_MAX`] bytes, no control characters
/// except newline. Short texts (a person's name, a division) are kept inline
/// like short ids; equality and hashing are those of the text.
#[derive(Clone)]
pub struct Text(Compact);

impl Text {
    pub fn new(s: impl Into<String>) -> Result<Text, String> {
        let s = s.into();
        Text::parse(&s)
    }

    /// Checks `s` and makes a text of it without allocating when it is short.
    pub fn parse(s: &str) -> Result<Text, String> {
        if s.len() > TEXT_BYTES_MAX {
            return Err(format!(
                "text is {} bytes; at most {TEXT_BYTES_MAX} are allowed",
                s.len()
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err("text may not contain control characters other than newline".into());
        }
        Ok(Text(Compact::new(s)))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Default for Text {
    fn default() -> Text {
        Text(Compact::new(""))
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.0.as_bytes() == other.0.as_bytes()
    }
}

impl Eq for Text {}

impl std::hash::Hash for Text {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(Checked(Text::parse, "a text"))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Money in fen (分, 1/100 yuan): a non-negative integer no larger than 2^53 - 1.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    pub const ZERO: Fen = Fen(0);
    pub fn new(v: i64) -> Result<Fen, String> {
        if !(0..=INTEGER_MAX).contains(&v) {
            return Err(format!("amount {v} fen must be between 0 and 2^53-1"));
        }
        Ok(Fen(v))
    }
    pub fn get(self) -> i64 {
        self.0
    }
    /// Whole yuan and the remaining fen, for display ("4,000,000.00").
    pub fn yuan_display(self) -> String {
        let yuan = self.0 / 100;
        let fen = self.0 % 100;
        let digits = yuan.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{grouped}.{fen:02}")
    }
}

impl<'de> Deserialize<'de> for Fen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Fen::new(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} fen", self.0)
    }
}

macro_rules! snake_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// The wire name of this value (its snake_case serde name).
            pub fn name(self) -> String {
                match serde_json::to_value(self) {
                    Ok(serde_json::Value::String(s)) => s,
                    _ => unreachable!("a unit enum variant serializes as a string"),
                }
            }
        }
    };
}

snake_enum!(
    /// Whether `recorded_at` is the ledger's own clock or a caller-supplied,
    /// never-decreasing simulated time (imports of historical scenarios).
    Clock { Real, Simulated }
);
snake_enum!(
    /// The kind of a government body.
    BodyKind { ProvincialCentre, ProvincialOffice, CityGovernment, CityOffice, Department, CountyGovernment, Court, Other }
);
snake_enum!(
    /// How a body was reorganised; its successor inherits its promises and cases.
    Reorganisation { MergedInto, SucceededBy, Renamed }
);
snake_enum!(
    /// Positions of the responsibility chain (R8: 一把手, 分管领导, 责任处室, 经办人).
    Position { Head, DeputyInCharge, DivisionChief, Handler, Inspector, IntakeClerk }
);
snake_enum!(
    /// How a complaint reached the centre (R11–R12).
    Channel { Hotline, Web, Letter, Visit, Referral, Derived }
);
snake_enum!(
    /// Complaint categories, used as Open311 service codes.
    Category {
        /// 乱收费
        ArbitraryFees,
        /// 多头检查, 重复检查
        RepeatedInspections,
        /// 执法粗暴
        RoughEnforcement,
        /// 政策不兑现
        PolicyNotHonoured,
        /// 推诿扯皮
        BuckPassing,
        /// 货款拖欠
        PaymentArrears,
        /// 审批延误
        ApprovalDelay,
        /// 经济纠纷
        TradeDispute,
        /// 土地与建设
        LandAndConstruction,
        Other,
    }
);
snake_enum!(
    /// R9: simple procedure or joint handling by several bodies.
    Procedure { Simple, Joint }
);
snake_enum!(Outcome {
    Upheld,
    PartiallyUpheld,
    Mediated,
    NotUpheld
});
snake_enum!(
    /// 满意 / 基本满意 / 不满意.
    Rating { Satisfied, BasicallySatisfied, Dissatisfied }
);
snake_enum!(RatingSource {
    Enterprise,
    FollowUpCall
});
snake_enum!(
    /// The form a promise takes (R15).
    PromiseForm { PolicyCommitment, MeetingMinutes, Contract, ServiceCommitment, ResponsibilityPledge }
);
snake_enum!(
    /// The excuse given for a breach. The first four are forbidden excuses
    /// (Regulation on Optimizing the Business Environment, art. 31).
    Excuse { Redistricting, ChangeOfGovernment, Reorganisation, ChangeOfOfficial, PublicInterest, ForceMajeure, Other }
);
snake_enum!(Milestone {
    Started,
    Performed,
    Completed,
    Stalled
});
snake_enum!(
    /// The four sources of the yearly evaluation (R24).
    FeedbackSource { EfficiencyWebsite, MonitoringPoint, Questionnaire, JointSurvey }
);
snake_enum!(
    /// The five evaluation dimensions (R23).
    Dimension { ServiceAwareness, ServiceAttitude, SystemImplementation, LawEnforcement, ComplaintHandling }
);

impl Excuse {
    /// Whether this excuse is itself a violation (art. 31; Private Economy Promotion Law art. 70).
    pub fn is_forbidden(self) -> bool {
        matches!(
            self,
            Excuse::Redistricting
                | Excuse::ChangeOfGovernment
                | Excuse::Reorganisation
                | Excuse::ChangeOfOfficial
        )
    }
}

/// What an accountability measure or a correction refers to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Subject {
    Case(Id),
    Promise(Id),
    Inspection(Id),
}

/// Evaluation weights per dimension, in per-mille; they must add up to 1000.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub complaint_handling: u32,
    pub law_enforcement: u32,
    pub service_attitude: u32,
    pub service_awareness: u32,
    pub system_implementation: u32,
}

impl Weights {
    pub fn of(&self, d: Dimension) -> u32 {
        match d {
            Dimension::ServiceAwareness => self.service_awareness,
            Dimension::ServiceAttitude => self.service_attitude,
            Dimension::SystemImplementation => self.system_implementation,
            Dimension::LawEnforcement => self.law_enforcement,
            Dimension::ComplaintHandling => self.complaint_handling,
        }
    }
}

/// The rule parameters in force, so that every deadline can be recomputed from the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleParameters {
    /// R19: approval of foreign investment within this many working days (default 3).
    pub approval_working_days: u32,
    /// R23–R24: weights of the five dimensions, per mille.
    pub evaluation_weights: Weights,
    /// R4: the extension cap in months from filing (the digit is lost in the source; default 3).
    pub extension_cap_months: u32,
    /// Inspections of the same enterprise with overlapping items within this many days are repeats.
    pub inspection_repeat_window_days: u32,
    /// Published yearly cap of inspections per enterprise (国办发〔2024〕54号).
    pub inspection_yearly_cap: u32,
    pub monitoring_filing_day: u32,
    /// R22: monitoring points are filed by this month and day each year (11, 30).
    pub monitoring_filing_month: u32,
    /// R22: each city names at least this many monitoring points.
    pub monitoring_points_min: u32,
    /// R4: a progress notice every this many days during an extension (default 15).
    pub progress_notice_days: u32,
    /// R1: first reply within this many working days (default 3).
    pub reply_working_days: u32,
    /// R3: result within this many days (default 30).
    pub result_days: u32,
}

impl Default for RuleParameters {
    /// The source's defaults (DOMAIN.md): 3 working days, 30 days, notices every 15 days, cap 3 months.
    fn default() -> Self {
        RuleParameters {
            reply_working_days: 3,
            result_days: 30,
            progress_notice_days: 15,
            extension_cap_months: 3,
            approval_working_days: 3,
            inspection_repeat_window_days: 180,
            inspection_yearly_cap: 2,
            monitoring_points_min: 10,
            monitoring_filing_month: 11,
            monitoring_filing_day: 30,
            evaluation_weights: Weights {
                service_awareness: 200,
                service_attitude: 200,
                system_implementation: 200,
                law_enforcement: 200,
                complaint_handling: 200,
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Registry events.

/// Seq 0 of every ledger: who the root authority is and how the ledger signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerGenesis {
    /// The checkpoint verifier key in C2SP signed-note form (`name+hexid+base64`).
    pub checkpoint_key: Text,
    pub clock: Clock,
    pub description: Text,
    /// The ledger's origin; statements name it so they cannot be replayed elsewhere.
    pub origin: Text,
    /// The root authority's public key; the genesis statement is signed by it.
    pub root_key: PublicKey,
    /// The system key: its only role is to append records the ledger derives itself.
    pub system_key: PublicKey,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyRegistered {
    pub body: Id,
    /// The city (a body of kind city_government) this body belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<Id>,
    pub kind: BodyKind,
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Id>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyReorganised {
    pub basis: Text,
    pub body: Id,
    pub kind: Reorganisation,
    pub successor: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeHolderAppointed {
    pub body: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<Text>,
    /// The person's name (a person holds a position; promises bind the body, not the person).
    pub person: Text,
    pub position: Position,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseRegistered {
    /// R7: jurisdiction follows the enterprise's location.
    pub city: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<Text>,
    /// Unified social credit code (统一社会信用代码), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<Text>,
    pub enterprise: Id,
    /// The province the investor comes from (内资: from other provinces).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_province: Option<Text>,
    pub name: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyGranted {
    pub holder: Party,
    pub key: KeyId,
    /// The office holder using the key, when it is a person's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Text>,
    pub public_key: PublicKey,
    #[serde(deserialize_with = "bounded_list")]
    pub roles: Vec<Role>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRevoked {
    pub key: KeyId,
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleParametersSet {
    pub basis: Text,
    pub parameters: RuleParameters,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarLoaded {
    /// BLAKE3 (hex) of the calendar's canonical day list; see FORMAT.md.
    pub digest: Text,
    pub first_day: Date,
    pub last_day: Date,
    pub source: Text,
}

// ---------------------------------------------------------------------------
// Cases.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintFiled {
    /// The body complained about, when one is named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against: Option<Id>,
    pub case: Id,
    pub category: Category,
    pub channel: Channel,
    /// The loss the complainant claims, in fen (never shown publicly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_loss: Option<Fen>,
    /// The complainant's contact person (never shown publicly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Text>,
    pub enterprise: Id,
    /// R6/R10: major case, reported to the government and supervised by the province.
    pub major: bool,
    pub summary: Text,
    /// For a case the ledger opened itself: the seq of the record that triggered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_by: Option<u64>,
    /// R2: urgent or sudden case needing an on-site response the same day.
    pub urgent: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintAccepted {
    pub case: Id,
    pub procedure: Procedure,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRejected {
    pub case: Id,
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsibilityAssigned {
    pub body: Id,
    pub case: Id,
    pub deputy: Text,
    pub division: Text,
    pub handler: Text,
    /// R8: 一把手负总责, 分管领导具体抓, 业务处室为责任处室.
    pub head: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstReplySent {
    pub case: Id,
    /// R2: an on-site response was made.
    pub on_site: bool,
    pub summary: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseReferred {
    pub case: Id,
    pub note: Text,
    pub to: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JointHandlingConvened {
    #[serde(deserialize_with = "bounded_list")]
    pub bodies: Vec<Id>,
    pub case: Id,
    pub note: Text,
    pub on_site: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedToGovernment {
    pub case: Id,
    pub summary: Text,
    pub to: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressReported {
    pub case: Id,
    pub summary: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineExtended {
    pub case: Id,
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediationHeld {
    pub agreement: bool,
    pub case: Id,
    pub note: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseResolved {
    pub case: Id,
    /// Losses recovered for the enterprise, in fen.
    pub losses_recovered: Fen,
    pub outcome: Outcome,
    pub summary: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SatisfactionRecorded {
    pub case: Id,
    pub rating: Rating,
    pub source: RatingSource,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseReopened {
    pub case: Id,
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseClosed {
    pub case: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintWithdrawn {
    pub case: Id,
    pub reason: Text,
}

/// R10, R12, the 12345 cycle: a body above the one handling an open case
/// supervises it (督办): the provincial centre, a supervisor, or a body that
/// referred the case onward chases it with an instruction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSupervised {
    pub case: Id,
    /// What the supervising body requires of the one handling the case (督办意见).
    pub instruction: Text,
}

// ---------------------------------------------------------------------------
// Promises.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseMade {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Fen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<Id>,
    /// The government body bound (never a person).
    pub body: Id,
    /// Where the promise is written (minutes number, contract number, notice).
    pub document: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Date>,
    pub form: PromiseForm,
    pub promise: Id,
    pub terms: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseKept {
    pub promise: Id,
    pub summary: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseBreached {
    pub excuse: Excuse,
    /// The excuse in the body's own words.
    pub excuse_given: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<Fen>,
    pub promise: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseVaried {
    pub compensation: Fen,
    pub new_terms: Text,
    pub promise: Id,
    pub public_interest_basis: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseVoided {
    pub promise: Id,
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseDisputed {
    pub claim: Text,
    pub promise: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseDisputeSettled {
    pub outcome: Text,
    pub promise: Id,
    /// Whether the beneficiary's claim was upheld.
    pub upheld: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompensationPaid {
    pub amount: Fen,
    pub promise: Id,
    pub to: Id,
}

// ---------------------------------------------------------------------------
// Inspections.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionRequested {
    pub department: Id,
    /// Emergencies may be approved retroactively (国办发〔2024〕54号).
    pub emergency: bool,
    pub enterprise: Id,
    pub inspection: Id,
    #[serde(deserialize_with = "bounded_list")]
    pub items: Vec<Id>,
    /// Other departments inspecting in the same visit: a merged or joint
    /// inspection instead of separate ones (国办发〔2024〕54号). Absent when
    /// none (as in every request before the member existed).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "bounded_list"
    )]
    pub joint_with: Vec<Id>,
    pub reason: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionApproved {
    pub inspection: Id,
    pub retroactive: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionRegistered {
    pub inspection: Id,
    /// Entry number in the administrative law-enforcement inspection register (R14).
    pub register_entry: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionConducted {
    pub department: Id,
    pub enterprise: Id,
    pub findings: Text,
    pub inspection: Id,
    #[serde(deserialize_with = "bounded_list")]
    pub items: Vec<Id>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionFeeDemanded {
    pub amount: Fen,
    pub basis: Text,
    pub inspection: Id,
}

// ---------------------------------------------------------------------------
// Projects, monitoring, evaluation, accountability, corrections.

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSigned {
    pub city: Id,
    pub enterprise: Id,
    /// R20: one leader and one tracker per project.
    pub leader: Text,
    /// Where it was signed (e.g. the Central China Expo, 中部博览会).
    pub occasion: Text,
    pub planned_funds: Fen,
    pub project: Id,
    pub tracker: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectMilestoneReached {
    pub milestone: Milestone,
    pub note: Text,
    pub project: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFundsArrived {
    pub amount: Fen,
    pub project: Id,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringPointNamed {
    pub city: Id,
    pub county: Text,
    pub enterprise: Id,
    pub year: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationFeedbackRecorded {
    pub city: Id,
    pub dimension: Dimension,
    /// An integer score from 0 to 100.
    pub rating: u32,
    /// How many respondents the score summarises (at least 1).
    pub respondents: u32,
    pub source: FeedbackSource,
    pub year: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountabilityImposed {
    pub body: Id,
    pub measure: Text,
    /// Who is held to account: the handler and the leaders above (R5, R15).
    #[serde(deserialize_with = "bounded_list")]
    pub persons: Vec<Text>,
    pub subject: Subject,
}

/// A correction supersedes named fields of an earlier record from its own seq on;
/// nothing is ever edited in place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// The body fields replaced, by name; each appears in `values`.
    #[serde(deserialize_with = "bounded_list")]
    pub fields: Vec<Id>,
    pub reason: Text,
    pub target_seq: u64,
    pub values: BTreeMap<String, serde_json::Value>,
}

macro_rules! vocabulary {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ),* $(,)?) => {
        /// A decoded event.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum Event { $( $(#[$doc])* $variant($variant), )* }

        /// The type of an event, without its body.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventKind { $( $variant, )* }

        impl EventKind {
            pub const ALL: &'static [EventKind] = &[ $( EventKind::$variant, )* ];
            /// The wire name (`type` in the statement).
            pub fn name(self) -> &'static str {
                match self { $( EventKind::$variant => $name, )* }
            }
            pub fn from_name(s: &str) -> Option<EventKind> {
                match s { $( $name => Some(EventKind::$variant), )* _ => None }
            }
            /// The current schema version of this type; new statements use it.
            pub fn schema(self) -> u32 {
                1
            }
        }

        impl Event {
            pub fn kind(&self) -> EventKind {
                match self { $( Event::$variant(_) => EventKind::$variant, )* }
            }

            /// The body as a JSON value (serialized field by field; canonical
            /// bytes come from [`crate::jcs`], never from this value's printing).
            pub fn body_value(&self) -> serde_json::Value {
                let v = match self { $( Event::$variant(b) => serde_json::to_value(b), )* };
                // Serializing plain data structs with string keys cannot fail.
                v.unwrap_or(serde_json::Value::Null)
            }

            /// Whether this body, serialized field by field in declaration
            /// order, is exactly `expected`. Nothing is allocated. When the
            /// expected bytes are canonical (members in byte order of their
            /// names) and this holds, ordering the members changes nothing,
            /// so the body has exactly one spelling; when it does not hold
            /// (a struct whose fields are not declared in name order), ask
            /// [`Event::body_value`].
            pub fn body_serializes_to(&self, expected: &[u8]) -> bool {
                let mut w = SameBytes { rest: expected, same: true };
                let r = match self { $( Event::$variant(b) => serde_json::to_writer(&mut w, b), )* };
                r.is_ok() && w.same && w.rest.is_empty()
            }
        }

        /// Decodes a body of `kind` at `schema` from its JSON value.
        pub fn decode(kind: &str, schema: u32, body: serde_json::Value) -> Result<Event, DecodeError> {
            let k = EventKind::from_name(kind).ok_or_else(|| DecodeError::UnknownType(kind.to_string()))?;
            if schema != 1 {
                return Err(DecodeError::UnknownSchema { kind: kind.to_string(), schema, current: k.schema() });
            }
            let invalid = |e: serde_json::Error| DecodeError::InvalidBody {
                kind: kind.to_string(), schema, message: e.to_string(),
            };
            Ok(match k { $( EventKind::$variant => Event::$variant(serde_json::from_value(body).map_err(invalid)?), )* })
        }

        /// Decodes a body of `kind` at `schema` straight from its JSON text,
        /// without building a value tree first. Used only to replay records
        /// the ledger already checked when it appended them (see
        /// [`crate::record::Record::decode_trusted`]).
        pub fn decode_str(kind: &str, schema: u32, body: &str) -> Result<Event, DecodeError> {
            let k = EventKind::from_name(kind).ok_or_else(|| DecodeError::UnknownType(kind.to_string()))?;
            if schema != 1 {
                return Err(DecodeError::UnknownSchema { kind: kind.to_string(), schema, current: k.schema() });
            }
            let invalid = |e: serde_json::Error| DecodeError::InvalidBody {
                kind: kind.to_string(), schema, message: e.to_string(),
            };
            Ok(match k { $( EventKind::$variant => Event::$variant(serde_json::from_str(body).map_err(invalid)?), )* })
        }

        /// [`decode_str`] for a body that starts `text` and runs on after it
        /// (the rest of a record): the event and the length of its JSON
        /// text, or `None` where `decode_str` of exactly the body would
        /// refuse it. The body must be an object.
        pub(crate) fn decode_prefix(kind: &str, schema: u32, text: &str) -> Option<(Event, usize)> {
            let k = EventKind::from_name(kind)?;
            if schema != 1 {
                return None;
            }
            Some(match k { $( EventKind::$variant => { let (b, n) = json_prefix(text)?; (Event::$variant(b), n) } )* })
        }

        $( impl From<$variant> for Event { fn from(b: $variant) -> Event { Event::$variant(b) } } )*
    };
}

/// Deserializes the JSON object or string at the start of `text`, which
/// runs on after it: the value and the length of its text. What follows is
/// not looked at (serde_json's stream reader does not check what follows a
/// value that ends itself, as an object or a string does).
pub(crate) fn json_prefix<'de, T: Deserialize<'de>>(text: &'de str) -> Option<(T, usize)> {
    if !(text.starts_with('{') || text.starts_with('"')) {
        return None;
    }
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<T>();
    let v = values.next()?.ok()?;
    Some((v, values.byte_offset()))
}

vocabulary! {
    LedgerGenesis = "ledger_genesis",
    BodyRegistered = "body_registered",
    BodyReorganised = "body_reorganised",
    OfficeHolderAppointed = "office_holder_appointed",
    EnterpriseRegistered = "enterprise_registered",
    KeyGranted = "key_granted",
    KeyRevoked = "key_revoked",
    RuleParametersSet = "rule_parameters_set",
    CalendarLoaded = "calendar_loaded",
    ComplaintFiled = "complaint_filed",
    ComplaintAccepted = "complaint_accepted",
    ComplaintRejected = "complaint_rejected",
    ResponsibilityAssigned = "responsibility_assigned",
    FirstReplySent = "first_reply_sent",
    CaseReferred = "case_referred",
    JointHandlingConvened = "joint_handling_convened",
    ReportedToGovernment = "reported_to_government",
    ProgressReported = "progress_reported",
    DeadlineExtended = "deadline_extended",
    MediationHeld = "mediation_held",
    CaseResolved = "case_resolved",
    SatisfactionRecorded = "satisfaction_recorded",
    CaseReopened = "case_reopened",
    CaseClosed = "case_closed",
    ComplaintWithdrawn = "complaint_withdrawn",
    CaseSupervised = "case_supervised",
    PromiseMade = "promise_made",
    PromiseKept = "promise_kept",
    PromiseBreached = "promise_breached",
    PromiseVaried = "promise_varied",
    PromiseVoided = "promise_voided",
    PromiseDisputed = "promise_disputed",
    PromiseDisputeSettled = "promise_dispute_settled",
    CompensationPaid = "compensation_paid",
    InspectionRequested = "inspection_requested",
    InspectionApproved = "inspection_approved",
    InspectionRegistered = "inspection_registered",
    InspectionConducted = "inspection_conducted",
    InspectionFeeDemanded = "inspection_fee_demanded",
    ProjectSigned = "project_signed",
    ProjectMilestoneReached = "project_milestone_reached",
    ProjectFundsArrived = "project_funds_arrived",
    MonitoringPointNamed = "monitoring_point_named",
    EvaluationFeedbackRecorded = "evaluation_feedback_recorded",
    AccountabilityImposed = "accountability_imposed",
    Correction = "correction",
}

impl Event {
    /// Field checks that types alone cannot express. Returns a message naming the field.
    pub fn check_fields(&self) -> Result<(), String> {
        match self {
            Event::EvaluationFeedbackRecorded(e) => {
                if e.rating > 100 {
                    return Err(format!("rating {} must be 0..=100", e.rating));
                }
                if e.respondents == 0 {
                    return Err("respondents must be at least 1".into());
                }
            }
            Event::RuleParametersSet(p) => {
                let w = &p.parameters.evaluation_weights;
                let sum: u64 = Dimension::ALL.iter().map(|d| u64::from(w.of(*d))).sum();
                if sum != 1000 {
                    return Err(format!(
                        "evaluation_weights add up to {sum}; they must add up to 1000 per mille"
                    ));
                }
                let m = p.parameters.monitoring_filing_month;
                let d = p.parameters.monitoring_filing_day;
                if Date::from_ymd(2000, m, d).is_err() {
                    return Err(format!("monitoring filing date {m}-{d} is not a date"));
                }
            }
            Event::Correction(c) => {
                if c.fields.is_empty() {
                    return Err("a correction names at least one field".into());
                }
                for f in &c.fields {
                    if !c.values.contains_key(f.as_str()) {
                        return Err(format!("field {f} is named but has no value"));
                    }
                }
                // Counted as a set: a name given twice must not let values
                // hold a field that fields does not name.
                let named: std::collections::BTreeSet<&str> =
                    c.fields.iter().map(|f| f.as_str()).collect();
                if named.len() != c.fields.len() {
                    return Err("fields names a field twice".into());
                }
                if c.values.len() != named.len() {
                    return Err("values holds a field that fields does not name".into());
                }
            }
            Event::InspectionRequested(r) => {
                let distinct: std::collections::BTreeSet<&str> =
                    r.joint_with.iter().map(|b| b.as_str()).collect();
                if distinct.len() != r.joint_with.len() {
                    return Err("joint_with names a department twice".into());
                }
                if distinct.contains(r.department.as_str()) {
                    return Err("joint_with names the requesting department itself".into());
                }
            }
            Event::JointHandlingConvened(j) => {
                let distinct: std::collections::BTreeSet<&str> =
                    j.bodies.iter().map(|b| b.as_str()).collect();
                if distinct.len() < 2 {
                    return Err("joint handling needs at least two different bodies".into());
                }
                if distinct.len() != j.bodies.len() {
                    return Err("joint handling names a body twice".into());
                }
            }
            Event::KeyGranted(k) => {
                if k.key != k.public_key.id() {
                    return Err("key is not the SHA-256 of public_key".into());
                }
                if k.roles.is_empty() {
                    return Err("a key is granted at least one role".into());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The case, promise, inspection or project this event is about, for indexes.
    pub fn subject_ids(&self) -> Vec<(&'static str, &Id)> {
        let mut out = Vec::new();
        match self {
            Event::ComplaintFiled(e) => {
                out.push(("case", &e.case));
                out.push(("enterprise", &e.enterprise));
            }
            Event::ComplaintAccepted(e) => out.push(("case", &e.case)),
            Event::ComplaintRejected(e) => out.push(("case", &e.case)),
            Event::ResponsibilityAssigned(e) => {
                out.push(("case", &e.case));
                out.push(("body", &e.body));
            }
            Event::FirstReplySent(e) => out.push(("case", &e.case)),
            Event::CaseReferred(e) => {
                out.push(("case", &e.case));
                out.push(("body", &e.to));
            }
            Event::JointHandlingConvened(e) => out.push(("case", &e.case)),
            Event::ReportedToGovernment(e) => out.push(("case", &e.case)),
            Event::ProgressReported(e) => out.push(("case", &e.case)),
            Event::DeadlineExtended(e) => out.push(("case", &e.case)),
            Event::MediationHeld(e) => out.push(("case", &e.case)),
            Event::CaseResolved(e) => out.push(("case", &e.case)),
            Event::SatisfactionRecorded(e) => out.push(("case", &e.case)),
            Event::CaseReopened(e) => out.push(("case", &e.case)),
            Event::CaseClosed(e) => out.push(("case", &e.case)),
            Event::ComplaintWithdrawn(e) => out.push(("case", &e.case)),
            Event::CaseSupervised(e) => out.push(("case", &e.case)),
            Event::PromiseMade(e) => {
                out.push(("promise", &e.promise));
                out.push(("body", &e.body));
                if let Some(b) = &e.beneficiary {
                    out.push(("enterprise", b));
                }
            }
            Event::PromiseKept(e) => out.push(("promise", &e.promise)),
            Event::PromiseBreached(e) => out.push(("promise", &e.promise)),
            Event::PromiseVaried(e) => out.push(("promise", &e.promise)),
            Event::PromiseVoided(e) => out.push(("promise", &e.promise)),
            Event::PromiseDisputed(e) => out.push(("promise", &e.promise)),
            Event::PromiseDisputeSettled(e) => out.push(("promise", &e.promise)),
            Event::CompensationPaid(e) => out.push(("promise", &e.promise)),
            Event::InspectionRequested(e) => {
                out.push(("inspection", &e.inspection));
                out.push(("enterprise", &e.enterprise));
            }
            Event::InspectionApproved(e) => out.push(("inspection", &e.inspection)),
            Event::InspectionRegistered(e) => out.push(("inspection", &e.inspection)),
            Event::InspectionConducted(e) => {
                out.push(("inspection", &e.inspection));
                out.push(("enterprise", &e.enterprise));
            }
            Event::InspectionFeeDemanded(e) => out.push(("inspection", &e.inspection)),
            Event::ProjectSigned(e) => {
                out.push(("project", &e.project));
                out.push(("enterprise", &e.enterprise));
            }
            Event::ProjectMilestoneReached(e) => out.push(("project", &e.project)),
            Event::ProjectFundsArrived(e) => out.push(("project", &e.project)),
            Event::BodyRegistered(e) => out.push(("body", &e.body)),
            Event::BodyReorganised(e) => out.push(("body", &e.body)),
            Event::OfficeHolderAppointed(e) => out.push(("body", &e.body)),
            Event::EnterpriseRegistered(e) => out.push(("enterprise", &e.enterprise)),
            _ => {}
        }
        out
    }
}

/// Seconds in the statements' `occurred_at` are business time; [`OffsetTime`] and
/// [`Timestamp`] are re-exported here for callers building events.
pub type BusinessTime = OffsetTime;
pub type LedgerTime = Timestamp;

/// A writer that compares what is written with `rest`, byte by byte, and
/// keeps nothing.
struct SameBytes<'a> {
    rest: &'a [u8],
    same: bool,
}

impl std::io::Write for SameBytes<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.rest.strip_prefix(buf) {
            Some(rest) if self.same => self.rest = rest,
            _ => self.same = false,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(kind: &str, body: &str) -> Result<(), String> {
        decode_str(kind, 1, body)
            .map_err(|e| e.to_string())?
            .check_fields()
    }

    /// A correction's fields and values are compared as sets: naming a
    /// field twice cannot make room in values for a field it does not name
    /// (FORMAT.md §16.2); a joint handling names at least two different
    /// bodies, each once.
    #[test]
    fn corrections_and_joint_handlings_count_distinct_names() {
        let correction = |fields: &str, values: &str| {
            checked(
                "correction",
                &format!(
                    r#"{{"fields":{fields},"reason":"typo","target_seq":5,"values":{values}}}"#
                ),
            )
        };
        assert_eq!(
            correction(r#"["outcome"]"#, r#"{"outcome":"upheld"}"#),
            Ok(())
        );
        let e = correction(
            r#"["outcome","outcome"]"#,
            r#"{"losses_recovered":0,"outcome":"upheld"}"#,
        )
        .unwrap_err();
        assert!(e.contains("twice"), "{e}");
        assert!(correction(
            r#"["outcome"]"#,
            r#"{"losses_recovered":0,"outcome":"upheld"}"#
        )
        .is_err());
        let joint = |bodies: &str| {
            checked(
                "joint_handling_convened",
                &format!(r#"{{"bodies":{bodies},"case":"c1","note":"on site","on_site":true}}"#),
            )
        };
        assert_eq!(joint(r#"["b1","b2"]"#), Ok(()));
        assert!(joint(r#"["b1","b1"]"#)
            .unwrap_err()
            .contains("two different bodies"));
        assert!(joint(r#"["b1","b2","b1"]"#).unwrap_err().contains("twice"));
        let inspection = |joint_with: &str| {
            checked(
                "inspection_requested",
                &format!(
                    r#"{{"department":"d1","emergency":false,"enterprise":"e1","inspection":"i1","items":["licence"]{joint_with},"reason":"r"}}"#
                ),
            )
        };
        assert_eq!(inspection(""), Ok(()));
        assert_eq!(inspection(r#","joint_with":["d2","d3"]"#), Ok(()));
        assert!(inspection(r#","joint_with":["d2","d2"]"#)
            .unwrap_err()
            .contains("twice"));
        assert!(inspection(r#","joint_with":["d2","d1"]"#)
            .unwrap_err()
            .contains("itself"));
    }

    #[test]
    fn ids_inline_or_not_compare_hash_and_serialize_as_their_text() {
        use std::hash::BuildHasher;
        assert_eq!(std::mem::size_of::<Id>(), std::mem::size_of::<String>());
        let long = "x".repeat(ID_BYTES_MAX);
        let texts = [
            "a",
            "hn.changsha",
            "hn.zhangjiajie.jingxie",  // 22 bytes: inline
            "hn.zhangjiajie.jingxie1", // 23 bytes: on the heap
            "ent-zhangjiajie-00072",
            long.as_str(),
        ];
        let ids: Vec<Id> = texts.iter().map(|t| Id::new(*t).unwrap()).collect();
        let state = std::collections::hash_map::RandomState::new();
        for (a, ta) in ids.iter().zip(texts) {
            assert_eq!(a.as_str(), ta);
            assert_eq!(a.to_string(), ta);
            assert_eq!(serde_json::to_string(a).unwrap(), format!("\"{ta}\""));
            let back: Id = serde_json::from_str(&format!("\"{ta}\"")).unwrap();
            assert_eq!(&back, a);
            assert_eq!(state.hash_one(a), state.hash_one(ta));
            for (b, tb) in ids.iter().zip(texts) {
                assert_eq!(a.cmp(b), ta.cmp(tb), "{ta} vs {tb}");
                assert_eq!(a == b, ta == tb);
            }
        }
        assert!(Id::new("x".repeat(ID_BYTES_MAX + 1)).is_err());
        // Texts: inline up to 22 bytes (7 Chinese characters), multi-byte included.
        for t in [
            "",
            "王建国",
            "经济合作局投诉科",
            "湖南省人民政府经济研究信息中心",
            "a\nb",
        ] {
            let x = Text::new(t).unwrap();
            assert_eq!(x.as_str(), t);
            assert_eq!(x, Text::new(t.to_string()).unwrap());
            assert_eq!(state.hash_one(&x), state.hash_one(t));
            let back: Text = serde_json::from_str(&serde_json::to_string(&x).unwrap()).unwrap();
            assert_eq!(back, x);
        }
        assert_eq!(Text::default().as_str(), "");
        assert!(serde_json::from_str::<Text>("\"a\\u0001\"").is_err());
        assert!(serde_json::from_str::<Id>("\"a b\"").is_err());
    }
}
