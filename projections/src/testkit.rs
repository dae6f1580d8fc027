//! A small in-memory sequencer for tests: builds unsigned statements, runs
//! [`rules::check`] then [`Model::apply`], and appends the derived complaint
//! when a record opens one, the way the real sequencer must.

use crate::model::{Applied, Model};
use crate::rules::{self, Flag, RuleCode};
use events::codes::Rejection;
use events::keys::{KeyId, Party, Role};
use events::registry::roles_for;
use events::statement::Statement;
use events::time::{OffsetTime, Timestamp};
use events::vocab::*;

pub fn id(s: &str) -> Id {
    Id::new(s).expect("test id")
}

pub fn text(s: &str) -> Text {
    Text::new(s).expect("test text")
}

pub fn fen(n: i64) -> Fen {
    Fen::new(n).expect("test amount")
}

/// Who signs: the key's holder and roles.
#[derive(Clone, Debug)]
pub struct Actor {
    pub holder: Party,
    pub roles: Vec<Role>,
}

pub fn root() -> Actor {
    Actor {
        holder: Party::Authority,
        roles: vec![Role::Root],
    }
}

pub fn system() -> Actor {
    Actor {
        holder: Party::Ledger,
        roles: vec![Role::System],
    }
}

pub fn ent(e: &str) -> Actor {
    Actor {
        holder: Party::Enterprise(e.into()),
        roles: vec![Role::Enterprise],
    }
}

pub fn key(body: &str, roles: &[Role]) -> Actor {
    Actor {
        holder: Party::Body(body.into()),
        roles: roles.to_vec(),
    }
}

/// The provincial complaint centre's intake clerk.
pub fn centre() -> Actor {
    key("centre", &[Role::Intake])
}

/// "2006-02-24" means 09:00 Beijing time that day; a longer string is used as given.
pub fn when(s: &str) -> OffsetTime {
    let full = if s.len() == 10 {
        format!("{s}T09:00:00+08:00")
    } else {
        s.to_string()
    };
    OffsetTime::parse(&full).expect("test time")
}

/// One appended record, kept so that a test can replay the log.
#[derive(Clone, Debug)]
pub struct Owned {
    pub seq: u64,
    pub recorded_at: Timestamp,
    pub statement: Statement,
    pub actor: Actor,
}

impl Owned {
    pub fn applied(&self) -> Applied<'_> {
        Applied {
            seq: self.seq,
            recorded_at: self.recorded_at,
            statement: &self.statement,
            actor_holder: &self.actor.holder,
            actor_roles: &self.actor.roles,
        }
    }
}

pub struct World {
    pub model: Model,
    pub log: Vec<Owned>,
}

fn statement(seq: u64, at: OffsetTime, event: Event) -> Statement {
    Statement {
        origin: "test".into(),
        id: format!("s{seq}"),
        actor: KeyId([0; 32]),
        on_behalf_of: None,
        issued_at: at.instant(),
        occurred_at: at,
        event,
    }
}

impl World {
    /// An empty model (seq 0 would be genesis; the first record here is seq 1).
    pub fn empty() -> World {
        World {
            model: Model::default(),
            log: Vec::new(),
        }
    }

    /// Cities, bodies and enterprises from the source, plus synthetic ones.
    pub fn hunan() -> World {
        let mut w = World::empty();
        let d = "2006-01-04";
        for c in ["changsha", "zhuzhou", "xiangtan"] {
            w.body(c, BodyKind::CityGovernment, None, None, d);
        }
        w.body("centre", BodyKind::ProvincialCentre, None, None, d);
        w.body("province-office", BodyKind::ProvincialOffice, None, None, d);
        w.body("cs-office", BodyKind::CityOffice, Some("changsha"), None, d);
        w.body("zz-office", BodyKind::CityOffice, Some("zhuzhou"), None, d);
        w.body("xt-office", BodyKind::CityOffice, Some("xiangtan"), None, d);
        w.body(
            "zz-aic",
            BodyKind::Department,
            Some("zhuzhou"),
            Some("zhuzhou"),
            d,
        );
        w.body(
            "zz-tax",
            BodyKind::Department,
            Some("zhuzhou"),
            Some("zhuzhou"),
            d,
        );
        w.body(
            "zz-quality",
            BodyKind::Department,
            Some("zhuzhou"),
            Some("zhuzhou"),
            d,
        );
        w.enterprise("taizinai", "zhuzhou", d);
        w.enterprise("dushi", "changsha", d);
        w.enterprise("liancheng", "xiangtan", d);
        w.enterprise("zz-other", "zhuzhou", d);
        w
    }

    pub fn body(
        &mut self,
        b: &str,
        kind: BodyKind,
        city: Option<&str>,
        parent: Option<&str>,
        d: &str,
    ) {
        self.ok(
            &root(),
            d,
            BodyRegistered {
                body: id(b),
                name: text(b),
                kind,
                city: city.map(id),
                parent: parent.map(id),
            },
        );
    }

    pub fn enterprise(&mut self, e: &str, city: &str, d: &str) {
        self.ok(
            &root(),
            d,
            EnterpriseRegistered {
                enterprise: id(e),
                name: text(e),
                credit_code: None,
                city: id(city),
                county: None,
                home_province: None,
            },
        );
    }

    pub fn next_seq(&self) -> u64 {
        self.log.last().map_or(1, |r| r.seq + 1)
    }

    /// Checks then applies, like the sequencer; appends the derived complaint
    /// after a record that opens one.
    pub fn submit(
        &mut self,
        who: &Actor,
        d: &str,
        event: impl Into<Event>,
    ) -> Result<Vec<Flag>, Rejection> {
        let event = event.into();
        let kind = event.kind();
        // Keep the tests honest: the key registry would refuse other roles.
        assert!(
            who.roles.iter().any(|r| roles_for(kind).contains(r)),
            "test actor {who:?} has no role that may sign {}",
            kind.name()
        );
        let seq = self.next_seq();
        let at = when(d);
        let rec = Owned {
            seq,
            recorded_at: at.instant(),
            statement: statement(seq, at, event),
            actor: who.clone(),
        };
        let flags = rules::check(&self.model, &rec.applied())?;
        let derived = rules::derived_complaint(&self.model, &rec.applied(), &flags, seq + 1);
        assert_eq!(derived.is_some(), flags.contains(&Flag::OpensCase));
        self.model.apply(&rec.applied());
        self.log.push(rec);
        if let Some(body) = derived {
            let sys = Owned {
                seq: seq + 1,
                recorded_at: at.instant(),
                statement: Statement {
                    id: format!("auto:{seq}"),
                    ..statement(seq + 1, at, body.into())
                },
                actor: system(),
            };
            let more = rules::check(&self.model, &sys.applied())
                .expect("the derived complaint passes the rules");
            assert!(more.is_empty());
            self.model.apply(&sys.applied());
            self.log.push(sys);
        }
        Ok(flags)
    }

    /// Submits and expects acceptance; returns the flags.
    #[track_caller]
    pub fn ok(&mut self, who: &Actor, d: &str, event: impl Into<Event>) -> Vec<Flag> {
        match self.submit(who, d, event) {
            Ok(f) => f,
            Err(e) => panic!("expected acceptance, got {e}"),
        }
    }

    /// Submits and expects refusal with `rule`; checks nothing changed.
    #[track_caller]
    pub fn refused(&mut self, who: &Actor, d: &str, event: impl Into<Event>, rule: RuleCode) {
        let before = self.model.digest();
        let len = self.log.len();
        match self.submit(who, d, event) {
            Ok(f) => panic!("expected refusal {rule}, got acceptance with flags {f:?}"),
            Err(e) => {
                assert_eq!(rules::rule_of(&e), Some(rule), "wrong refusal: {e}");
                assert!(e.message.starts_with(&format!("{rule}: ")), "{e}");
            }
        }
        assert_eq!(self.log.len(), len, "nothing is appended");
        assert_eq!(self.model.digest(), before, "the model is unchanged");
    }

    /// Replays the log into a fresh model (the rebuild path).
    pub fn rebuild(&self, up_to: Option<u64>) -> Model {
        let mut m = Model::default();
        for r in self.log.iter().filter(|r| up_to.is_none_or(|u| r.seq <= u)) {
            m.apply(&r.applied());
        }
        m
    }

    // -- common events ---------------------------------------------------------

    /// A complaint of `e` filed by the centre's intake clerk.
    pub fn file(&mut self, case: &str, e: &str, d: &str) {
        self.ok(&centre(), d, filed(case, e));
    }

    /// Files, accepts (centre) and refers the case to `body`.
    pub fn file_and_refer(&mut self, case: &str, e: &str, body: &str, d: &str) {
        self.file(case, e, d);
        self.ok(&centre(), d, accepted(case));
        self.ok(&centre(), d, referred(case, body));
    }
}

pub fn filed(case: &str, e: &str) -> ComplaintFiled {
    ComplaintFiled {
        case: id(case),
        enterprise: id(e),
        channel: Channel::Hotline,
        category: Category::TradeDispute,
        summary: text("complaint"),
        against: None,
        claimed_loss: None,
        contact: None,
        urgent: false,
        major: false,
        triggered_by: None,
    }
}

pub fn accepted(case: &str) -> ComplaintAccepted {
    ComplaintAccepted {
        case: id(case),
        procedure: Procedure::Simple,
    }
}

pub fn referred(case: &str, to: &str) -> CaseReferred {
    CaseReferred {
        case: id(case),
        to: id(to),
        note: text("referred"),
    }
}

pub fn resolved(case: &str, recovered: i64) -> CaseResolved {
    CaseResolved {
        case: id(case),
        outcome: Outcome::Mediated,
        summary: text("resolved"),
        losses_recovered: fen(recovered),
    }
}

pub fn rated(case: &str, rating: Rating, source: RatingSource) -> SatisfactionRecorded {
    SatisfactionRecorded {
        case: id(case),
        rating,
        source,
    }
}

pub fn closed(case: &str) -> CaseClosed {
    CaseClosed { case: id(case) }
}

pub fn reopened(case: &str) -> CaseReopened {
    CaseReopened {
        case: id(case),
        reason: text("dissatisfied"),
    }
}

pub fn promise_made(p: &str, body: &str, beneficiary: Option<&str>) -> PromiseMade {
    PromiseMade {
        promise: id(p),
        body: id(body),
        beneficiary: beneficiary.map(id),
        form: PromiseForm::Contract,
        terms: text("terms"),
        due: None,
        amount: None,
        document: text("contract 1"),
    }
}

pub fn breached(p: &str, excuse: Excuse) -> PromiseBreached {
    PromiseBreached {
        promise: id(p),
        excuse,
        excuse_given: text("excuse"),
        loss: Some(fen(100_000)),
    }
}

pub fn kept(p: &str) -> PromiseKept {
    PromiseKept {
        promise: id(p),
        summary: text("kept"),
    }
}

pub fn requested(i: &str, dept: &str, e: &str, items: &[&str]) -> InspectionRequested {
    InspectionRequested {
        inspection: id(i),
        department: id(dept),
        enterprise: id(e),
        items: items.iter().map(|s| id(s)).collect(),
        reason: text("routine"),
        emergency: false,
        joint_with: Vec::new(),
    }
}

pub fn approved(i: &str, retroactive: bool) -> InspectionApproved {
    InspectionApproved {
        inspection: id(i),
        retroactive,
    }
}

pub fn registered(i: &str) -> InspectionRegistered {
    InspectionRegistered {
        inspection: id(i),
        register_entry: text("entry"),
    }
}

pub fn conducted(i: &str, dept: &str, e: &str, items: &[&str]) -> InspectionConducted {
    InspectionConducted {
        inspection: id(i),
        department: id(dept),
        enterprise: id(e),
        items: items.iter().map(|s| id(s)).collect(),
        findings: text("no findings"),
    }
}

impl World {
    /// A compliant inspection: requested, approved by the head, registered, conducted.
    pub fn compliant_inspection(
        &mut self,
        i: &str,
        dept: &str,
        e: &str,
        items: &[&str],
        d: &str,
    ) -> Vec<Flag> {
        let inspector = key(dept, &[Role::Inspector]);
        let head = key(dept, &[Role::Head]);
        self.ok(&inspector, d, requested(i, dept, e, items));
        self.ok(&head, d, approved(i, false));
        self.ok(&inspector, d, registered(i));
        self.ok(&inspector, d, conducted(i, dept, e, items))
    }
}
