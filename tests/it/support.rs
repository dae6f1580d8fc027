//! Shared test fixtures: a fresh ledger in its own temporary directory, keys,
//! and signed statements built through the same code clients use.

use ed25519_dalek::SigningKey;
use events::keys::{KeyId, Party, PublicKey, Role};
use events::statement::Statement;
use events::time::{OffsetTime, Timestamp};
use events::vocab::*;
use ledger::ledger::{init, Config, Ledger};
use std::path::{Path, PathBuf};

pub const ORIGIN: &str = "test.example/ledger";

pub fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

pub fn id(s: &str) -> Id {
    Id::new(s).unwrap()
}

pub fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub root: SigningKey,
    pub registrar: SigningKey,
    pub counter: std::cell::Cell<u64>,
}

impl Fixture {
    /// A ledger with a real clock, one city, one department and a registrar key.
    pub fn new() -> (Fixture, Ledger) {
        let dir = tempfile::tempdir().unwrap();
        let root = key(1);
        init(
            &dir.path().join("data"),
            ORIGIN,
            &root,
            Clock::Real,
            None,
            "test",
        )
        .unwrap();
        let f = Fixture {
            dir,
            root,
            registrar: key(2),
            counter: std::cell::Cell::new(0),
        };
        let l = f.open();
        let r = f.submit_all(
            &l,
            vec![
                f.sign(
                    &f.root,
                    Event::BodyRegistered(BodyRegistered {
                        body: id("changsha"),
                        name: text("长沙市"),
                        kind: BodyKind::CityGovernment,
                        city: None,
                        parent: None,
                    }),
                ),
                f.sign(
                    &f.root,
                    Event::BodyRegistered(BodyRegistered {
                        body: id("centre"),
                        name: text("省内资企业投诉服务中心"),
                        kind: BodyKind::ProvincialCentre,
                        city: None,
                        parent: None,
                    }),
                ),
                f.sign(
                    &f.root,
                    Event::BodyRegistered(BodyRegistered {
                        body: id("changsha.aic"),
                        name: text("长沙市工商局"),
                        kind: BodyKind::Department,
                        city: Some(id("changsha")),
                        parent: None,
                    }),
                ),
                f.sign(
                    &f.root,
                    Event::EnterpriseRegistered(EnterpriseRegistered {
                        enterprise: id("ent-1"),
                        name: text("都市营销管理公司"),
                        credit_code: None,
                        city: id("changsha"),
                        county: None,
                        home_province: None,
                    }),
                ),
                f.grant(
                    &f.root,
                    &f.registrar,
                    Party::Body(String::from("centre")),
                    vec![Role::Registrar],
                ),
            ],
        );
        assert!(r.iter().all(|r| r.is_ok()), "{r:?}");
        (f, l)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn open(&self) -> Ledger {
        Ledger::open(&self.data(), Config::default()).unwrap()
    }

    /// Why start-up refuses the ledger; panics, saying `why` it must not
    /// open, when it opens.
    pub fn open_refused(&self, why: &str) -> String {
        match Ledger::open(&self.data(), Config::default()) {
            Ok(l) => panic!("opened with {} records: {why}", l.head().size),
            Err(e) => e.to_string(),
        }
    }

    pub fn next_id(&self, prefix: &str) -> String {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        format!("{prefix}-{n}")
    }

    pub fn statement(&self, actor: &SigningKey, event: Event) -> Statement {
        let now = ledger::ledger::wall_clock();
        let ms = now.unix_millis();
        let whole = Timestamp::from_unix_millis(ms - ms % 1000).unwrap();
        Statement {
            origin: ORIGIN.into(),
            id: self.next_id(event.kind().name()),
            actor: KeyId::of(&actor.verifying_key()),
            on_behalf_of: None,
            issued_at: now,
            occurred_at: OffsetTime::new(whole, 480).unwrap(),
            event,
        }
    }

    pub fn sign(&self, actor: &SigningKey, event: Event) -> Vec<u8> {
        self.statement(actor, event).sign(actor).to_envelope(None)
    }

    /// A `body_registered` event for a body of kind `other`.
    pub fn body(&self, body: &str) -> Event {
        Event::BodyRegistered(BodyRegistered {
            body: id(body),
            name: text(body),
            kind: BodyKind::Other,
            city: None,
            parent: None,
        })
    }

    pub fn grant(
        &self,
        by: &SigningKey,
        k: &SigningKey,
        holder: Party,
        roles: Vec<Role>,
    ) -> Vec<u8> {
        let public = PublicKey(k.verifying_key());
        self.sign(
            by,
            Event::KeyGranted(KeyGranted {
                key: public.id(),
                public_key: public,
                holder,
                roles,
                person: None,
            }),
        )
    }

    pub fn submit_all(
        &self,
        l: &Ledger,
        items: Vec<Vec<u8>>,
    ) -> Vec<Result<ledger::ledger::Receipt, events::codes::Rejection>> {
        items.iter().map(|b| l.submit(b)).collect()
    }

    /// Grants `k` to a party with roles and appends it.
    pub fn granted(&self, l: &Ledger, k: &SigningKey, holder: Party, roles: Vec<Role>) {
        l.submit(&self.grant(&self.registrar, k, holder, roles))
            .unwrap();
    }

    /// Grants ent-1's own key (`key(10)`, enterprise role) and returns it.
    pub fn enterprise_key(&self, l: &Ledger) -> SigningKey {
        let ent = key(10);
        self.granted(
            l,
            &ent,
            Party::Enterprise("ent-1".into()),
            vec![Role::Enterprise],
        );
        ent
    }

    /// Appends an inspection of ent-1 by Changsha's AIC conducted without
    /// approval or registration (R13/R14), by a new inspector key; returns its receipt.
    pub fn unapproved_inspection(&self, l: &Ledger) -> ledger::ledger::Receipt {
        let inspector = key(13);
        self.granted(
            l,
            &inspector,
            Party::Body("changsha.aic".into()),
            vec![Role::Inspector],
        );
        let conduct = self.sign(
            &inspector,
            Event::InspectionConducted(InspectionConducted {
                inspection: id("insp-1"),
                department: id("changsha.aic"),
                enterprise: id("ent-1"),
                items: vec![id("licence")],
                findings: text("未经批准的检查"),
            }),
        );
        l.submit(&conduct).unwrap()
    }

    /// A complaint by enterprise ent-1 (needs an enterprise key granted first).
    pub fn complaint(&self, _actor: &SigningKey, case: &str) -> Event {
        Event::ComplaintFiled(ComplaintFiled {
            case: id(case),
            enterprise: id("ent-1"),
            channel: Channel::Hotline,
            category: Category::TradeDispute,
            summary: text("货款拖欠"),
            against: None,
            claimed_loss: Some(Fen::new(1_234_500).unwrap()),
            contact: None,
            urgent: false,
            major: false,
            triggered_by: None,
        })
    }
}

pub fn ledger_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ledger")
}

pub fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(ledger_bin())
        .args(args)
        .output()
        .unwrap()
}

/// Runs the binary, insists that it succeeded, and parses its JSON output.
pub fn run_json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "ledger {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Opens a closed ledger's sled index for a test to tamper with; sled's
/// threads of the closed ledger may hold its lock a moment longer.
pub fn open_index_when_free(data: &Path) -> sled::Db {
    let mut db = sled::open(data.join("index"));
    for _ in 0..100 {
        if db.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        db = sled::open(data.join("index"));
    }
    db.unwrap()
}
