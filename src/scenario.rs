//! The Hunan 2006 demo: the source's bodies, cases, promises and projects, plus
//! clearly marked synthetic items (their texts contain 「示例（合成）」) so that
//! every rule of DOMAIN.md fires at least once, loaded through the normal
//! signed append path (each statement signed by its actor's key and submitted
//! as a canonical envelope with `recorded_at`, on a simulated clock).
//!
//! The seed figures are not stored anywhere: they come out of the projections
//! (`projections::views`) of what was appended:
//! - Changsha, cases received in 2005: closure 66/71 at the end of 2005;
//! - Zhuzhou, 2006: satisfaction 8/8;
//! - the province (the 14 cities), 2006: losses recovered over 4,000,000 yuan;
//! - Xiangtan: the 14 projects signed at the Central China Expo (September 2006)
//!   all performed; the 8 signed at the Pan-Pearl River fair (June 2006) all
//!   started, with 23,000 of 97,000 万元 arrived.
//!
//! After the load, one violating statement per refused rule is submitted and
//! must be refused with its rule code, appending nothing
//! ([`ScenarioSummary::refusals`]).

use crate::keyfile;
use crate::ledger::{self, Config, Ledger};

use crate::generate::{fault, refuse, HistoryError};

pub type Result<T> = std::result::Result<T, HistoryError>;

use ed25519_dalek::SigningKey;
use events::keys::{Party, PublicKey, Role};
use events::statement::Statement;
use events::time::{Date, OffsetTime, Timestamp};
use events::vocab::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The demo ledger's origin.
pub const ORIGIN: &str = "hunan.gov.cn/investor-complaints/demo-2006";
/// Genesis: early January 2005, so that Changsha's 2005 cases exist.
pub const GENESIS_TIME: &str = "2005-01-04T09:00:00+08:00";
/// The date of the provincial compilation the figures are reported at.
pub const REPORT_DATE: (i32, u32, u32) = (2006, 12, 27);
/// The mark carried by every synthetic text.
pub const SYNTHETIC: &str = "示例（合成）";
/// The case id of the 都市营销管理公司 v 太子奶集团 trade dispute.
pub const FEATURED_CASE: &str = "hn-2006-0031";

const SEC: i64 = 1_000;
const MINUTE: i64 = 60 * SEC;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const CST: i64 = 8 * HOUR;

/// 1 万元 in fen.
const WAN: i64 = 10_000 * 100;
/// 1 yuan in fen.
const YUAN: i64 = 100;

/// What [`load_hunan_2006`] did.
#[derive(Debug, Clone)]
pub struct ScenarioSummary {
    /// Records in the ledger after the load (genesis and derived records included).
    pub records: u64,
    /// Statements submitted and appended (genesis excluded, derived excluded).
    pub statements: u64,
    /// Records the ledger derived itself (`auto:<seq>`), by statement id.
    pub derived: Vec<String>,
    /// The root authority's public key.
    pub root_public: String,
    /// Where the root authority's secret key was written (0600, outside `data`).
    pub root_key_path: PathBuf,
    /// The checkpoint verifier key (signed-note form).
    pub checkpoint_vkey: String,
    /// (rule code, message) for each violating statement submitted after the
    /// load; each was refused with that code and appended nothing.
    pub refusals: Vec<(String, String)>,
    /// (rule code, signed envelope) of the same violating statements, so a
    /// caller can submit them again (the HTTP demo test does) and see the
    /// same refusals.
    pub refused_envelopes: Vec<(String, Vec<u8>)>,
    /// The 太子奶 dispute case id.
    pub featured_case: String,
    /// Statements by event type (appended ones, derived ones excluded).
    pub by_type: BTreeMap<String, u64>,
}

/// The sibling file the root key is written to: `<data>.root.key`.
pub fn root_key_path(data: &Path) -> PathBuf {
    let mut s = data.as_os_str().to_os_string();
    s.push(".root.key");
    PathBuf::from(s)
}

// ---------------------------------------------------------------------------
// Time.

/// `h:mi` Shanghai time on a date, in Unix milliseconds.
fn t(y: i32, m: u32, d: u32, h: i64, mi: i64) -> Result<i64> {
    Ok(Date::from_ymd(y, m, d)?.days_since_epoch() * DAY - CST + h * HOUR + mi * MINUTE)
}

fn local_day(ms: i64) -> i64 {
    (ms + CST).div_euclid(DAY)
}

/// `ms` moved forward to a Monday–Friday (same time of day).
fn weekday(ms: i64) -> i64 {
    let mut ms = ms;
    while (local_day(ms) + 3).rem_euclid(7) >= 5 {
        ms += DAY;
    }
    ms
}

fn date_of(ms: i64) -> Result<Date> {
    Ok(Date::from_days_since_epoch(local_day(ms))?)
}

fn ts(ms: i64) -> Result<Timestamp> {
    Ok(Timestamp::from_unix_millis(ms)?)
}

fn id(s: impl Into<String>) -> Result<Id> {
    Id::new(s).map_err(|e| HistoryError::Fault(e.to_string()))
}

fn text(s: impl Into<String>) -> Result<Text> {
    Text::new(s).map_err(|e| HistoryError::Fault(e.to_string()))
}

fn fen(v: i64) -> Result<Fen> {
    Fen::new(v).map_err(|e| HistoryError::Fault(e.to_string()))
}

fn syn(s: &str) -> Result<Text> {
    text(format!("{SYNTHETIC}{s}"))
}

/// A unified social credit code whose serial characters are derived from the
/// enterprise id (the codes are synthetic).
fn credit_code(region: &str, seed: &str) -> String {
    let h = blake3::hash(seed.as_bytes());
    crate::generate::credit_code_with(region, h.as_bytes().iter().map(|b| usize::from(*b)))
}

// ---------------------------------------------------------------------------
// Reference data.

struct CitySpec {
    slug: &'static str,
    name: &'static str,
    short: &'static str,
    code: &'static str,
    counties: [&'static str; 4],
}

const CITIES: [CitySpec; 14] = [
    CitySpec {
        slug: "changsha",
        name: "长沙市",
        short: "长沙",
        code: "430100",
        counties: ["长沙县", "望城县", "浏阳市", "宁乡县"],
    },
    CitySpec {
        slug: "zhuzhou",
        name: "株洲市",
        short: "株洲",
        code: "430200",
        counties: ["株洲县", "醴陵市", "攸县", "茶陵县"],
    },
    CitySpec {
        slug: "xiangtan",
        name: "湘潭市",
        short: "湘潭",
        code: "430300",
        counties: ["岳塘区", "湘潭县", "湘乡市", "韶山市"],
    },
    CitySpec {
        slug: "hengyang",
        name: "衡阳市",
        short: "衡阳",
        code: "430400",
        counties: ["衡阳县", "衡南县", "耒阳市", "常宁市"],
    },
    CitySpec {
        slug: "shaoyang",
        name: "邵阳市",
        short: "邵阳",
        code: "430500",
        counties: ["邵东县", "新邵县", "武冈市", "隆回县"],
    },
    CitySpec {
        slug: "yueyang",
        name: "岳阳市",
        short: "岳阳",
        code: "430600",
        counties: ["湘阴县", "平江县", "汨罗市", "华容县"],
    },
    CitySpec {
        slug: "changde",
        name: "常德市",
        short: "常德",
        code: "430700",
        counties: ["桃源县", "澧县", "津市市", "汉寿县"],
    },
    CitySpec {
        slug: "zhangjiajie",
        name: "张家界市",
        short: "张家界",
        code: "430800",
        counties: ["慈利县", "桑植县", "永定区", "武陵源区"],
    },
    CitySpec {
        slug: "yiyang",
        name: "益阳市",
        short: "益阳",
        code: "430900",
        counties: ["桃江县", "安化县", "沅江市", "南县"],
    },
    CitySpec {
        slug: "chenzhou",
        name: "郴州市",
        short: "郴州",
        code: "431000",
        counties: ["资兴市", "桂阳县", "宜章县", "永兴县"],
    },
    CitySpec {
        slug: "yongzhou",
        name: "永州市",
        short: "永州",
        code: "431100",
        counties: ["东安县", "祁阳县", "道县", "宁远县"],
    },
    CitySpec {
        slug: "huaihua",
        name: "怀化市",
        short: "怀化",
        code: "431200",
        counties: ["沅陵县", "洪江市", "芷江侗族自治县", "溆浦县"],
    },
    CitySpec {
        slug: "loudi",
        name: "娄底市",
        short: "娄底",
        code: "431300",
        counties: ["冷水江市", "涟源市", "双峰县", "新化县"],
    },
    CitySpec {
        slug: "xiangxi",
        name: "湘西土家族苗族自治州",
        short: "湘西州",
        code: "433100",
        counties: ["吉首市", "凤凰县", "泸溪县", "龙山县"],
    },
];

/// The ten provincial departments that made investor-protection pledges.
const PROVINCIAL_DEPARTMENTS: [(&str, &str); 10] = [
    ("gongshang", "湖南省工商行政管理局"),
    ("guoshui", "湖南省国家税务局"),
    ("dishui", "湖南省地方税务局"),
    ("zhijian", "湖南省质量技术监督局"),
    ("gongan", "湖南省公安厅"),
    ("jianshe", "湖南省建设厅"),
    ("guotu", "湖南省国土资源厅"),
    ("huanbao", "湖南省环境保护局"),
    ("wujia", "湖南省物价局"),
    ("jiaotong", "湖南省交通厅"),
];

const SURNAMES: &[char] = &[
    '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴', '徐', '孙', '胡', '朱', '高', '林',
    '何', '郭', '罗', '梁', '宋', '郑', '谢', '唐', '邓', '彭', '曾', '蒋', '谭', '廖',
];
const GIVEN: &[char] = &[
    '伟', '芳', '敏', '静', '强', '磊', '军', '洋', '勇', '杰', '涛', '明', '华', '平', '刚', '建',
    '国', '志', '红', '亮', '文', '辉', '鹏', '宇', '浩', '湘', '岳', '衡', '德', '胜',
];
const BRANDS: &[&str] = &[
    "湘江", "麓山", "潇湘", "金桥", "华银", "三友", "宏达", "远大", "新星", "楚天", "南岭", "洞庭",
    "东方", "恒信", "兴业", "嘉和", "天成", "丰源", "瑞祥", "永安", "博雅", "鑫源", "长青", "汇通",
];
const INDUSTRIES: &[&str] = &[
    "机械制造",
    "食品",
    "建材",
    "电子科技",
    "物流",
    "纺织",
    "化工",
    "医药",
    "房地产开发",
    "农业开发",
];

// ---------------------------------------------------------------------------
// The builder.

/// Work that needs the seq of an appended statement (a derived case's id,
/// a correction's target): run once `trigger` is appended, adding items at
/// or after `at`.
type Later = Box<dyn FnOnce(&mut Builder, u64) -> Result<()>>;

struct Deferred {
    at: i64,
    trigger: String,
    work: Later,
}

/// A statement waiting for its signature.
struct Item {
    at: i64,
    order: u64,
    key: usize,
    id: String,
    event: Event,
}

struct Builder {
    /// Index 0 is the root authority.
    keys: Vec<(SigningKey, Option<Party>)>,
    by_label: HashMap<String, usize>,
    items: Vec<Item>,
    order: u64,
    /// The registry clock: registry records are a few seconds apart.
    reg_at: i64,
    persons: u64,
    /// body slug → (head, deputy) names.
    leaders: HashMap<String, (String, String)>,
    /// enterprise slug → city slug.
    enterprise_city: HashMap<String, String>,
    /// city slug → enterprises named as monitoring points (in order).
    monitoring: BTreeMap<String, Vec<(String, String)>>,
    later: Vec<Deferred>,
}

impl Builder {
    fn new(root: SigningKey, start: i64) -> Builder {
        let mut by_label = HashMap::new();
        by_label.insert("root".to_string(), 0);
        Builder {
            keys: vec![(root, None)],
            by_label,
            items: Vec::new(),
            order: 0,
            reg_at: start,
            persons: 0,
            leaders: HashMap::new(),
            enterprise_city: HashMap::new(),
            monitoring: BTreeMap::new(),
            later: Vec::new(),
        }
    }

    fn after(
        &mut self,
        at: i64,
        trigger: &str,
        work: impl FnOnce(&mut Builder, u64) -> Result<()> + 'static,
    ) {
        self.later.push(Deferred {
            at,
            trigger: trigger.to_string(),
            work: Box::new(work),
        });
    }

    fn key(&self, label: &str) -> Result<usize> {
        self.by_label
            .get(label)
            .copied()
            .ok_or_else(|| HistoryError::Fault(format!("scenario: no key {label:?}")))
    }

    fn push(
        &mut self,
        at: i64,
        signer: &str,
        stmt_id: impl Into<String>,
        event: Event,
    ) -> Result<()> {
        let key = self.key(signer)?;
        self.order += 1;
        self.items.push(Item {
            at,
            order: self.order,
            key,
            id: stmt_id.into(),
            event,
        });
        Ok(())
    }

    /// A registry record at the next tick of the registry clock.
    fn reg(&mut self, signer: &str, stmt_id: impl Into<String>, event: Event) -> Result<()> {
        self.reg_at += 5 * SEC;
        let at = self.reg_at;
        self.push(at, signer, stmt_id, event)
    }

    fn person(&mut self) -> String {
        let n = usize::try_from(self.persons).unwrap_or(0);
        self.persons += 1;
        let mut s = String::new();
        s.push(SURNAMES[n % SURNAMES.len()]);
        s.push(GIVEN[(n * 7 + n / SURNAMES.len()) % GIVEN.len()]);
        if n % 3 != 0 {
            s.push(GIVEN[(n * 13 + 5) % GIVEN.len()]);
        }
        s
    }

    /// A fresh key held by `holder`, granted by `signer` with `roles`.
    fn grant(
        &mut self,
        signer: &str,
        label: &str,
        holder: Party,
        roles: Vec<Role>,
        person: Option<String>,
    ) -> Result<()> {
        let sk = keyfile::generate()?;
        let public = PublicKey(sk.verifying_key());
        self.keys.push((sk, Some(holder.clone())));
        self.by_label.insert(label.to_string(), self.keys.len() - 1);
        self.reg(
            signer,
            format!("key/{label}"),
            Event::KeyGranted(KeyGranted {
                key: public.id(),
                public_key: public,
                holder,
                roles,
                person: person.map(text).transpose()?,
            }),
        )
    }

    /// Registers a body, appoints its head and deputy, and grants a head key
    /// (`<slug>/head`: head, promisor) and, when `staff` has roles, a staff
    /// key (`<slug>/staff`) held by a named clerk.
    #[allow(clippy::too_many_arguments)]
    fn body(
        &mut self,
        slug: &str,
        name: &str,
        kind: BodyKind,
        city: Option<&str>,
        parent: Option<&str>,
        staff: &[Role],
        division: &str,
    ) -> Result<()> {
        let signer = "registrar";
        self.reg(
            signer,
            format!("body/{slug}"),
            Event::BodyRegistered(BodyRegistered {
                body: id(slug)?,
                name: text(name)?,
                kind,
                city: city.map(id).transpose()?,
                parent: parent.map(id).transpose()?,
            }),
        )?;
        self.people(slug, staff, division)
    }

    /// Appoints a body's head and deputy and grants its keys (see [`Builder::body`]).
    fn people(&mut self, slug: &str, staff: &[Role], division: &str) -> Result<()> {
        let signer = "registrar";
        let head = self.person();
        let deputy = self.person();
        for (position, person, tag) in [
            (Position::Head, head.clone(), "head"),
            (Position::DeputyInCharge, deputy.clone(), "deputy"),
        ] {
            self.reg(
                signer,
                format!("appoint/{slug}/{tag}"),
                Event::OfficeHolderAppointed(OfficeHolderAppointed {
                    body: id(slug)?,
                    position,
                    person: text(person)?,
                    division: None,
                }),
            )?;
        }
        self.grant(
            signer,
            &format!("{slug}/head"),
            Party::Body(slug.to_string()),
            vec![Role::Head, Role::Promisor],
            Some(head.clone()),
        )?;
        if !staff.is_empty() {
            let clerk = self.person();
            let position = if staff.contains(&Role::Intake) {
                Position::IntakeClerk
            } else if staff.contains(&Role::Inspector) {
                Position::Inspector
            } else {
                Position::Handler
            };
            self.reg(
                signer,
                format!("appoint/{slug}/staff"),
                Event::OfficeHolderAppointed(OfficeHolderAppointed {
                    body: id(slug)?,
                    position,
                    person: text(clerk.clone())?,
                    division: Some(text(division)?),
                }),
            )?;
            self.grant(
                signer,
                &format!("{slug}/staff"),
                Party::Body(slug.to_string()),
                staff.to_vec(),
                Some(clerk),
            )?;
        }
        self.leaders.insert(slug.to_string(), (head, deputy));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn enterprise(
        &mut self,
        slug: &str,
        name: &str,
        city: &str,
        county: Option<&str>,
        home_province: Option<&str>,
        with_key: bool,
        monitoring_point: bool,
    ) -> Result<()> {
        let code = CITIES
            .iter()
            .find(|c| c.slug == city)
            .map_or("430000", |c| c.code);
        self.reg(
            "registrar",
            format!("enterprise/{slug}"),
            Event::EnterpriseRegistered(EnterpriseRegistered {
                enterprise: id(slug)?,
                name: text(name)?,
                credit_code: Some(text(credit_code(code, slug))?),
                city: id(city)?,
                county: county.map(text).transpose()?,
                home_province: home_province.map(text).transpose()?,
            }),
        )?;
        if with_key {
            let contact = self.person();
            self.grant(
                "registrar",
                &format!("{slug}/key"),
                Party::Enterprise(slug.to_string()),
                vec![Role::Enterprise],
                Some(contact),
            )?;
        }
        self.enterprise_city
            .insert(slug.to_string(), city.to_string());
        if monitoring_point {
            self.monitoring
                .entry(city.to_string())
                .or_default()
                .push((slug.to_string(), county.unwrap_or("市辖区").to_string()));
        }
        Ok(())
    }

    fn leader(&self, body: &str) -> (String, String) {
        self.leaders.get(body).cloned().unwrap_or_default()
    }

    // -- case steps -------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        at: i64,
        signer: &str,
        case: &str,
        enterprise: &str,
        channel: Channel,
        category: Category,
        summary: Text,
        against: Option<&str>,
        claimed: Option<i64>,
        urgent: bool,
        major: bool,
    ) -> Result<()> {
        self.push(
            at,
            signer,
            format!("{case}/filed"),
            Event::ComplaintFiled(ComplaintFiled {
                case: id(case)?,
                enterprise: id(enterprise)?,
                channel,
                category,
                summary,
                against: against.map(id).transpose()?,
                claimed_loss: claimed.map(fen).transpose()?,
                contact: None,
                urgent,
                major,
                triggered_by: None,
            }),
        )
    }

    fn accept(&mut self, at: i64, signer: &str, case: &str, procedure: Procedure) -> Result<()> {
        self.push(
            at,
            signer,
            format!("{case}/accepted"),
            Event::ComplaintAccepted(ComplaintAccepted {
                case: id(case)?,
                procedure,
            }),
        )
    }

    fn reply(
        &mut self,
        at: i64,
        signer: &str,
        case: &str,
        summary: Text,
        on_site: bool,
    ) -> Result<()> {
        self.push(
            at,
            signer,
            format!("{case}/reply"),
            Event::FirstReplySent(FirstReplySent {
                case: id(case)?,
                summary,
                on_site,
            }),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &mut self,
        at: i64,
        signer: &str,
        case: &str,
        step: &str,
        outcome: Outcome,
        summary: Text,
        losses: i64,
    ) -> Result<()> {
        self.push(
            at,
            signer,
            format!("{case}/{step}"),
            Event::CaseResolved(CaseResolved {
                case: id(case)?,
                outcome,
                summary,
                losses_recovered: fen(losses)?,
            }),
        )
    }

    fn rate(
        &mut self,
        at: i64,
        signer: &str,
        case: &str,
        step: &str,
        rating: Rating,
        source: RatingSource,
    ) -> Result<()> {
        self.push(
            at,
            signer,
            format!("{case}/{step}"),
            Event::SatisfactionRecorded(SatisfactionRecorded {
                case: id(case)?,
                rating,
                source,
            }),
        )
    }

    fn close(&mut self, at: i64, signer: &str, case: &str) -> Result<()> {
        self.push(
            at,
            signer,
            format!("{case}/closed"),
            Event::CaseClosed(CaseClosed { case: id(case)? }),
        )
    }

    fn assign(
        &mut self,
        at: i64,
        signer: &str,
        case: &str,
        body: &str,
        division: &str,
    ) -> Result<()> {
        let (head, deputy) = self.leader(body);
        let handler = self.person();
        self.push(
            at,
            signer,
            format!("{case}/assigned"),
            Event::ResponsibilityAssigned(ResponsibilityAssigned {
                case: id(case)?,
                body: id(body)?,
                head: text(head)?,
                deputy: text(deputy)?,
                division: text(division)?,
                handler: text(handler)?,
            }),
        )
    }

    fn refer(&mut self, at: i64, signer: &str, case: &str, to: &str, note: &str) -> Result<()> {
        self.push(
            at,
            signer,
            format!("{case}/referred"),
            Event::CaseReferred(CaseReferred {
                case: id(case)?,
                to: id(to)?,
                note: text(note)?,
            }),
        )
    }

    /// A routine case handled by one body from filing to closing:
    /// filed and accepted by `office` (its intake clerk), replied the next
    /// working day, resolved after `days`, rated by follow-up call, closed.
    #[allow(clippy::too_many_arguments)]
    fn routine_case(
        &mut self,
        filed: i64,
        office: &str,
        case: &str,
        enterprise: &str,
        category: Category,
        summary: Text,
        days: i64,
        losses: i64,
        rating: Rating,
    ) -> Result<()> {
        let staff = format!("{office}/staff");
        self.file(
            filed,
            &staff,
            case,
            enterprise,
            Channel::Hotline,
            category,
            summary,
            None,
            None,
            false,
            false,
        )?;
        self.accept(filed + HOUR, &staff, case, Procedure::Simple)?;
        self.reply(
            weekday(filed + DAY),
            &staff,
            case,
            text("已受理，经办人已与企业联系并说明办理程序和时限")?,
            false,
        )?;
        let resolved = weekday(filed + days * DAY) + 2 * HOUR;
        self.resolve(
            resolved,
            &staff,
            case,
            "resolved",
            Outcome::Upheld,
            text("经协调，有关部门已纠正，企业诉求得到解决")?,
            losses,
        )?;
        let rated = weekday(resolved + 2 * DAY);
        self.rate(
            rated,
            &staff,
            case,
            "rated",
            rating,
            RatingSource::FollowUpCall,
        )?;
        self.close(rated + HOUR, &staff, case)
    }
}

// ---------------------------------------------------------------------------
// The scenario.

/// Creates a new ledger at `data` (which must not exist or be empty), writes
/// the root authority's secret key to `<data>.root.key` (which must not
/// exist), appends the Hunan 2006 demo through the normal signed append path,
/// then submits one violating statement per refused rule and checks each is
/// refused with its rule code and appends nothing.
pub fn load_hunan_2006(data: &Path) -> Result<ScenarioSummary> {
    if data.exists()
        && std::fs::read_dir(data)
            .map_err(|source| HistoryError::Io {
                what: format!("reading {}", data.display()),
                source,
            })?
            .next()
            .is_some()
    {
        refuse!(
            "{} exists and is not empty; the demo is loaded into a new directory",
            data.display()
        );
    }
    let root_path = root_key_path(data);
    if root_path.exists() {
        refuse!(
            "{} exists; the demo's root key is written to a new file (remove it or choose another data directory)",
            root_path.display()
        );
    }
    let root = keyfile::generate()?;
    let genesis_time = OffsetTime::parse(GENESIS_TIME)?;
    let start = genesis_time.instant().unix_millis();
    let mut b = Builder::new(root.clone(), start + MINUTE);
    build(&mut b)?;

    let info = ledger::init_with_keys(
        data,
        ORIGIN,
        &root,
        keyfile::generate()?,
        keyfile::generate()?,
        Clock::Simulated,
        Some(genesis_time),
        "Demo: Hunan 2006 (湖南省内资企业投诉服务, 2005–2006). Cases, promises and projects from the provincial compilation of 2006-12-27; items whose texts contain 「示例（合成）」, office holders' names, credit codes, monitoring points and evaluation feedback are synthetic.",
    )?;
    keyfile::write_key(&root_path, &root)?;
    let ledger = Ledger::open(data, Config::default())?;
    let mut load = Load {
        statements: 0,
        last: start,
        by_type: BTreeMap::new(),
        seqs: HashMap::new(),
    };
    let out = load
        .run(&ledger, &mut b)
        .and_then(|()| refusals(&ledger, &b, &mut load));
    let head = ledger.head();
    let mut derived = Vec::new();
    if out.is_ok() {
        for seq in 1..head.size {
            let leaf = ledger.read_leaf(seq).map_err(|source| HistoryError::Io {
                what: format!("reading seq {seq}"),
                source,
            })?;
            let rec = events::record::Record::parse(&leaf)
                .map_err(|e| HistoryError::Fault(format!("seq {seq}: {e}")))?;
            if rec.signed.statement.id.starts_with("auto:") {
                derived.push(rec.signed.statement.id.clone());
            }
        }
    }
    ledger.close()?;
    let (refusals, envelopes): (Vec<_>, Vec<_>) = out?.into_iter().unzip();
    let refused_envelopes = refusals
        .iter()
        .map(|(code, _): &(String, String)| code.clone())
        .zip(envelopes)
        .collect();
    Ok(ScenarioSummary {
        records: head.size,
        statements: load.statements,
        derived,
        root_public: info.root_public.to_string(),
        root_key_path: root_path,
        checkpoint_vkey: info.checkpoint_vkey,
        refusals,
        refused_envelopes,
        featured_case: FEATURED_CASE.to_string(),
        by_type: load.by_type,
    })
}

/// The appending side: statements signed in time order, recorded_at a little
/// after each occurred_at and strictly increasing.
struct Load {
    statements: u64,
    last: i64,
    by_type: BTreeMap<String, u64>,
    /// Statement id → seq, from the receipts.
    seqs: HashMap<String, u64>,
}

impl Load {
    fn sign(&mut self, b: &Builder, item: &Item) -> Result<Vec<u8>> {
        let recorded = (item.at + 30 * SEC).max(self.last + SEC);
        self.last = recorded;
        let (key, holder) = &b.keys[item.key];
        let occurred = ts(item.at)?;
        let stmt = Statement {
            origin: ORIGIN.to_string(),
            id: item.id.clone(),
            actor: events::keys::KeyId::of(&key.verifying_key()),
            on_behalf_of: holder.clone(),
            issued_at: occurred,
            occurred_at: OffsetTime::new(occurred, 8 * 60)?,
            event: item.event.clone(),
        };
        Ok(stmt.sign(key).to_envelope(Some(ts(recorded)?)))
    }

    /// Appends `items` in one batch; any rejection is an error naming the
    /// statement's index in the scenario, its id and the rejection.
    fn submit(&mut self, ledger: &Ledger, b: &Builder, items: &[Item]) -> Result<()> {
        let envelopes = items
            .iter()
            .map(|i| self.sign(b, i))
            .collect::<Result<Vec<_>>>()?;
        let results = ledger.submit_batch(&envelopes);
        for (i, r) in results.iter().enumerate() {
            match r {
                Ok(receipt) => {
                    self.seqs.insert(receipt.id.clone(), receipt.seq);
                }
                Err(e) => fault!(
                    "scenario statement {} ({:?}, {}) was refused: {}: {}",
                    self.statements + i as u64,
                    items[i].id,
                    items[i].event.kind().name(),
                    e.code,
                    e.message
                ),
            }
        }
        for i in items {
            *self
                .by_type
                .entry(i.event.kind().name().to_string())
                .or_default() += 1;
        }
        self.statements += items.len() as u64;
        Ok(())
    }

    /// Appends everything the builder holds, running deferred work as soon
    /// as its trigger is appended.
    fn run(&mut self, ledger: &Ledger, b: &mut Builder) -> Result<()> {
        loop {
            b.items.sort_by_key(|i| (i.at, i.order));
            b.later.sort_by_key(|d| d.at);
            if b.later.is_empty() {
                let items = std::mem::take(&mut b.items);
                return self.submit(ledger, b, &items);
            }
            let d = b.later.remove(0);
            let split = b.items.partition_point(|i| i.at < d.at);
            let rest = b.items.split_off(split);
            let now = std::mem::replace(&mut b.items, rest);
            self.submit(ledger, b, &now)?;
            let seq = self.seqs.get(&d.trigger).copied().ok_or_else(|| {
                HistoryError::Fault(format!(
                    "scenario: trigger {:?} was not appended",
                    d.trigger
                ))
            })?;
            (d.work)(b, seq)?;
        }
    }
}

fn build(b: &mut Builder) -> Result<()> {
    registry(b)?;
    changsha_2005(b)?;
    source_cases_2006(b)?;
    zhuzhou_2006(b)?;
    promises(b)?;
    projects(b)?;
    synthetic_cases(b)?;
    inspections(b)?;
    reorganisation(b)?;
    monitoring_and_evaluation(b)?;
    Ok(())
}

/// The staff key of the office that acts for a city (Yiyang's office is
/// merged into its commerce bureau in 2006).
fn office(city: &str) -> String {
    if city == "yiyang" {
        "yiyang.shangwu/staff".into()
    } else {
        format!("{city}.jingxie/staff")
    }
}

const OFFICE_ROLES: &[Role] = &[
    Role::Intake,
    Role::Handler,
    Role::FollowUp,
    Role::Evaluator,
    Role::ProjectTracker,
];

fn registry(b: &mut Builder) -> Result<()> {
    // The root authority registers the provincial cooperation office, whose
    // registrar keeps the registry from then on, and sets the rules.
    b.reg_at += 5 * SEC;
    let at = b.reg_at;
    b.push(
        at,
        "root",
        "body/hn.jingxie",
        Event::BodyRegistered(BodyRegistered {
            body: id("hn.jingxie")?,
            name: text("湖南省经济技术协作办公室")?,
            kind: BodyKind::ProvincialOffice,
            city: None,
            parent: None,
        }),
    )?;
    let registrar = b.person();
    b.grant(
        "root",
        "registrar",
        Party::Body("hn.jingxie".into()),
        vec![Role::Registrar],
        Some(registrar),
    )?;
    b.reg(
        "root",
        "rules/2005",
        Event::RuleParametersSet(RuleParametersSet {
            parameters: RuleParameters::default(),
            basis: text("湖南省优化经济环境有关规定及各市投诉处理制度：受理后3个工作日内答复（长沙），30日内将处理结果答复投诉人，延期的每15天通报进展、最长不超过3个月（衡阳，原文月数缺失，按配置默认3个月），外资审批3个工作日，检查须一把手审批并登记；测评点每市不少于10家、11月30日前报备；五个测评维度等权")?,
        }),
    )?;
    b.reg(
        "root",
        "calendar/2005-2026",
        Event::CalendarLoaded({
            let cal = projections::calendar::Calendar::builtin();
            CalendarLoaded {
                digest: text(cal.digest())?,
                first_day: cal.first_day(),
                last_day: cal.last_day(),
                source: text("holiday-cn 2005-2026（国务院办公厅节假日安排通知）")?,
            }
        }),
    )?;
    b.people(
        "hn.jingxie",
        &[Role::Handler, Role::Supervisor, Role::Evaluator],
        "综合处",
    )?;

    // Provincial bodies.
    b.body(
        "hn.gov",
        "湖南省人民政府",
        BodyKind::Other,
        None,
        None,
        &[],
        "办公厅",
    )?;
    b.body(
        "hn.centre",
        "湖南省内资企业投诉服务中心",
        BodyKind::ProvincialCentre,
        None,
        Some("hn.jingxie"),
        &[Role::Intake, Role::Handler, Role::FollowUp],
        "投诉受理科",
    )?;
    b.body(
        "hn.youhua",
        "湖南省优化经济环境领导小组办公室（省优化办）",
        BodyKind::ProvincialOffice,
        None,
        Some("hn.gov"),
        &[Role::Supervisor, Role::Evaluator],
        "督查处",
    )?;
    for (slug, name) in PROVINCIAL_DEPARTMENTS {
        b.body(
            &format!("hn.{slug}"),
            name,
            BodyKind::Department,
            None,
            Some("hn.gov"),
            &[Role::Handler, Role::Inspector],
            "法规处",
        )?;
    }

    // The 14 cities: government and cooperation office.
    for c in &CITIES {
        b.body(
            c.slug,
            &format!("{}人民政府", c.name),
            BodyKind::CityGovernment,
            None,
            Some("hn.gov"),
            &[],
            "办公室",
        )?;
        b.body(
            &format!("{}.jingxie", c.slug),
            &format!("{}经济技术协作办公室", c.name),
            BodyKind::CityOffice,
            Some(c.slug),
            Some(c.slug),
            OFFICE_ROLES,
            "投诉服务科",
        )?;
    }
    // City departments and counties named in the cases.
    type Dept<'a> = (&'a str, &'a str, &'a str, &'a [Role]);
    let depts: [Dept; 9] = [
        (
            "changsha.shangwu",
            "长沙市商务局",
            "changsha",
            &[Role::Handler],
        ),
        (
            "xiangtan.guotu",
            "湘潭市国土资源局",
            "xiangtan",
            &[Role::Handler],
        ),
        (
            "hengyang.zhijian",
            "衡阳市质量技术监督局",
            "hengyang",
            &[Role::Inspector, Role::Handler],
        ),
        (
            "hengyang.gongshang",
            "衡阳市工商行政管理局",
            "hengyang",
            &[Role::Inspector, Role::Handler],
        ),
        (
            "hengyang.gongan",
            "衡阳市公安局",
            "hengyang",
            &[Role::Inspector, Role::Handler],
        ),
        ("loudi.jianshe", "娄底市建设局", "loudi", &[Role::Handler]),
        ("yongzhou.dongan", "东安县人民政府", "yongzhou", &[]),
        ("yueyang.xiangyin", "湘阴县人民政府", "yueyang", &[]),
        (
            "xiangtan.yuetang",
            "湘潭市岳塘区人民政府",
            "xiangtan",
            &[Role::Handler],
        ),
    ];
    for (slug, name, city, staff) in depts {
        let kind = if name.ends_with("人民政府") {
            BodyKind::CountyGovernment
        } else {
            BodyKind::Department
        };
        b.body(slug, name, kind, Some(city), Some(city), staff, "业务科")?;
    }
    b.body(
        "yongzhou.dongan.gongshang",
        "东安县工商行政管理局",
        BodyKind::Department,
        Some("yongzhou"),
        Some("yongzhou.dongan"),
        &[Role::Handler, Role::Inspector],
        "法制股",
    )?;
    b.body(
        "yueyang.xiangyin.wujia",
        "湘阴县物价局",
        BodyKind::Department,
        Some("yueyang"),
        Some("yueyang.xiangyin"),
        &[Role::Handler],
        "收费管理股",
    )?;

    // Enterprises named in the source.
    b.enterprise(
        "zz.dushi",
        "都市营销管理公司",
        "zhuzhou",
        Some("天元区"),
        None,
        true,
        false,
    )?;
    b.enterprise(
        "zz.taizinai",
        "湖南太子奶集团",
        "zhuzhou",
        Some("天元区"),
        None,
        false,
        true,
    )?;
    b.enterprise(
        "yz.sanxiang",
        "三湘客车集团",
        "yongzhou",
        Some("东安县"),
        None,
        false,
        true,
    )?;
    b.enterprise(
        "yy.gaoling",
        "湘阴县高岭汽车站联合开发公司",
        "yueyang",
        Some("湘阴县"),
        None,
        false,
        true,
    )?;
    b.enterprise(
        "xt.liancheng",
        "莲城置业",
        "xiangtan",
        Some("岳塘区"),
        None,
        true,
        true,
    )?;
    // Investors in Xiangtan's fair projects (synthetic names).
    let homes = [
        "广东省",
        "福建省",
        "浙江省",
        "江苏省",
        "上海市",
        "北京市",
        "香港特别行政区",
    ];
    for n in 1..=22 {
        let brand = BRANDS[(n * 5) % BRANDS.len()];
        let industry = INDUSTRIES[n % INDUSTRIES.len()];
        b.enterprise(
            &format!("xt.inv{n:02}"),
            &format!("湘潭{brand}{industry}有限公司（示例）"),
            "xiangtan",
            Some(CITIES[2].counties[n % 4]),
            Some(homes[n % homes.len()]),
            false,
            n <= 9,
        )?;
    }
    // Further enterprises per city, up to ten monitoring points each; the
    // first of each city holds a key (it files, rates or disputes itself).
    for (ci, c) in CITIES.iter().enumerate() {
        let have = b.monitoring.get(c.slug).map_or(0, Vec::len);
        for n in 1..=(10 - have.min(10)) {
            let brand = BRANDS[(ci * 3 + n * 7) % BRANDS.len()];
            let industry = INDUSTRIES[(ci + n * 3) % INDUSTRIES.len()];
            b.enterprise(
                &format!("{}.e{n:02}", c.slug),
                &format!("{}{brand}{industry}有限公司（示例）", c.short),
                c.slug,
                Some(c.counties[n % 4]),
                Some(homes[(ci + n) % homes.len()]),
                n == 1,
                true,
            )?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Refusals.

/// Submits one violating statement and checks that it is refused with rule
/// `code` and that nothing is appended.
fn refuse(
    ledger: &Ledger,
    b: &Builder,
    load: &mut Load,
    code: &str,
    signer: &str,
    event: Event,
) -> Result<((String, String), Vec<u8>)> {
    let before = ledger.head().size;
    let item = Item {
        at: load.last + 30 * SEC,
        order: 0,
        key: b.key(signer)?,
        id: format!("refused/{code}"),
        event,
    };
    let envelope = load.sign(b, &item)?;
    let result = ledger.submit(&envelope);
    let after = ledger.head().size;
    if after != before {
        fault!("scenario: the statement violating {code} changed the ledger's size from {before} to {after}");
    }
    match result {
        Ok(r) => fault!(
            "scenario: the statement violating {code} was appended at seq {}",
            r.seq
        ),
        Err(e) => match projections::rules::rule_of(&e) {
            Some(rc) if rc.as_str() == code => Ok(((code.to_string(), e.message), envelope)),
            _ => fault!(
                "scenario: the statement violating {code} was refused otherwise: {}: {}",
                e.code,
                e.message
            ),
        },
    }
}

/// One violating statement per refused rule (ARCHITECTURE.md's rule table).
fn refusals(ledger: &Ledger, b: &Builder, load: &mut Load) -> Result<Refusals> {
    let featured = FEATURED_CASE;
    let overdue = "ld-2006-0041";
    let filed_seq = load
        .seqs
        .get(&format!("{featured}/filed"))
        .copied()
        .ok_or_else(|| HistoryError::Fault("scenario: the featured case was not filed".into()))?;
    let complaint = |case: &str, enterprise: &str, channel: Channel| -> Result<Event> {
        Ok(Event::ComplaintFiled(ComplaintFiled {
            case: id(case)?,
            enterprise: id(enterprise)?,
            channel,
            category: Category::Other,
            summary: syn("违规提交")?,
            against: None,
            claimed_loss: None,
            contact: None,
            urgent: false,
            major: false,
            triggered_by: None,
        }))
    };
    let bad_parameters = RuleParameters {
        reply_working_days: 0,
        ..RuleParameters::default()
    };
    let mut not_correctable = BTreeMap::new();
    not_correctable.insert(
        "enterprise".to_string(),
        serde_json::Value::String("zz.taizinai".into()),
    );
    let promise_in = |body: &str, promise: &str| -> Result<Event> {
        Ok(Event::PromiseMade(PromiseMade {
            promise: id(promise)?,
            body: id(body)?,
            beneficiary: None,
            form: PromiseForm::PolicyCommitment,
            terms: syn("违规承诺")?,
            due: None,
            amount: None,
            document: syn("无")?,
        }))
    };
    let attempts: Vec<(&str, &str, Event)> = vec![
        // Case lifecycle.
        (
            "case_not_in_progress",
            "zhuzhou.jingxie/staff",
            Event::ProgressReported(ProgressReported {
                case: id(featured)?,
                summary: syn("已结案件再报进展")?,
            }),
        ),
        (
            "case_reopen_without_dissatisfaction",
            "zz.dushi/key",
            Event::CaseReopened(CaseReopened {
                case: id(featured)?,
                reason: syn("满意评价后要求重新办理")?,
            }),
        ),
        // Promise lifecycle.
        (
            "promise_not_open",
            "changde/head",
            Event::PromiseKept(PromiseKept {
                promise: id("cd-2005-land")?,
                summary: syn("违约后声称已兑现")?,
            }),
        ),
        // Inspection lifecycle.
        (
            "inspection_already_conducted",
            "hengyang.zhijian/staff",
            Event::InspectionConducted(InspectionConducted {
                inspection: id("hy-insp-2006-01")?,
                department: id("hengyang.zhijian")?,
                enterprise: id("hengyang.e01")?,
                items: vec![id("product-quality")?],
                findings: syn("同一检查再次实施")?,
            }),
        ),
        // Ids.
        (
            "case_already_exists",
            "hn.centre/staff",
            complaint(featured, "zz.dushi", Channel::Hotline)?,
        ),
        // Configured defaults.
        (
            "rule_parameters_out_of_range",
            "registrar",
            Event::RuleParametersSet(RuleParametersSet {
                parameters: bad_parameters,
                basis: syn("答复时限设为0个工作日")?,
            }),
        ),
        // Corrections.
        (
            "correction_field_not_correctable",
            "hn.youhua/staff",
            Event::Correction(Correction {
                target_seq: filed_seq,
                fields: vec![id("enterprise")?],
                values: not_correctable,
                reason: syn("试图更改投诉人")?,
            }),
        ),
        // R1.
        (
            "case_first_reply_already_sent",
            "loudi.jingxie/staff",
            Event::FirstReplySent(FirstReplySent {
                case: id(overdue)?,
                summary: syn("第二次首次答复")?,
                on_site: false,
            }),
        ),
        // R3.
        (
            "case_not_responsible",
            "changsha.jingxie/staff",
            Event::CaseResolved(CaseResolved {
                case: id(overdue)?,
                outcome: Outcome::Upheld,
                summary: syn("非责任单位作出处理结果")?,
                losses_recovered: Fen::ZERO,
            }),
        ),
        // R4.
        (
            "case_already_extended",
            "loudi.jingxie/staff",
            Event::DeadlineExtended(DeadlineExtended {
                case: id(overdue)?,
                reason: syn("再次延期")?,
            }),
        ),
        // R5.
        (
            "accountability_no_person",
            "loudi/head",
            Event::AccountabilityImposed(AccountabilityImposed {
                subject: Subject::Case(id(overdue)?),
                body: id("loudi.jingxie")?,
                persons: Vec::new(),
                measure: syn("追责不具体到人")?,
            }),
        ),
        // R7.
        (
            "case_outside_jurisdiction",
            "loudi.jingxie/staff",
            Event::CaseReferred(CaseReferred {
                case: id(overdue)?,
                to: id("changsha.jingxie")?,
                note: syn("转外市办理")?,
            }),
        ),
        // R11–R12.
        (
            "complaint_filer_not_allowed",
            "zz.dushi/key",
            complaint("zz-2006-9001", "zz.taizinai", Channel::Web)?,
        ),
        // R13.
        (
            "derived_case_reserved",
            "hn.centre/staff",
            complaint("hn-2006-9002", "hengyang.e01", Channel::Derived)?,
        ),
        (
            "inspection_approval_not_head",
            "hengyang.gongshang/head",
            Event::InspectionApproved(InspectionApproved {
                inspection: id("hy-insp-2006-04")?,
                retroactive: false,
            }),
        ),
        // R14.
        (
            "inspection_already_registered",
            "hengyang.zhijian/staff",
            Event::InspectionRegistered(InspectionRegistered {
                inspection: id("hy-insp-2006-01")?,
                register_entry: syn("重复登记")?,
            }),
        ),
        // Modern: retroactive approval only in emergencies.
        (
            "inspection_retroactive_not_emergency",
            "hengyang.gongshang/head",
            Event::InspectionApproved(InspectionApproved {
                inspection: id("hy-insp-2006-02")?,
                retroactive: true,
            }),
        ),
        // R15.
        (
            "promise_not_bound_body",
            "changsha/head",
            promise_in("xiangtan", "cs-2006-9003")?,
        ),
        // R20.
        (
            "project_milestone_out_of_order",
            "xiangtan.jingxie/staff",
            Event::ProjectMilestoneReached(ProjectMilestoneReached {
                project: id("xt-cce-01")?,
                milestone: Milestone::Started,
                note: syn("已履约项目回退为开工")?,
            }),
        ),
        // R22.
        (
            "monitoring_point_wrong_city",
            "hn.youhua/staff",
            Event::MonitoringPointNamed(MonitoringPointNamed {
                city: id("zhuzhou")?,
                enterprise: id("changsha.e01")?,
                county: text("长沙县")?,
                year: 2006,
            }),
        ),
        // Modern: the successor inherits; a body is reorganised once.
        (
            "body_already_reorganised",
            "registrar",
            Event::BodyReorganised(BodyReorganised {
                body: id("yiyang.jingxie")?,
                kind: Reorganisation::Renamed,
                successor: id("yiyang")?,
                basis: syn("再次重组")?,
            }),
        ),
        (
            "promise_body_reorganised",
            "yiyang.jingxie/head",
            promise_in("yiyang.jingxie", "yiy-2006-9004")?,
        ),
        // 12345: a rating from the wrong source.
        (
            "rating_source_mismatch",
            "hn.centre/staff",
            Event::SatisfactionRecorded(SatisfactionRecorded {
                case: id(featured)?,
                rating: Rating::Satisfied,
                source: RatingSource::Enterprise,
            }),
        ),
    ];
    attempts
        .into_iter()
        .map(|(code, signer, event)| refuse(ledger, b, load, code, signer, event))
        .collect()
}

type Refusals = Vec<((String, String), Vec<u8>)>;

// ---------------------------------------------------------------------------
// Cases.

/// Changsha, 2005: 71 complaints received, 66 closed by the end of the year
/// (the source's figure); the last five, received in December, are closed in
/// January 2006. The individual cases are synthetic.
fn changsha_2005(b: &mut Builder) -> Result<()> {
    let categories = [
        Category::ArbitraryFees,
        Category::ApprovalDelay,
        Category::PolicyNotHonoured,
        Category::BuckPassing,
        Category::PaymentArrears,
        Category::RepeatedInspections,
        Category::RoughEnforcement,
        Category::LandAndConstruction,
    ];
    for k in 0..71i64 {
        let n = usize::try_from(k).unwrap_or(0);
        let case = format!("cs-2005-{:04}", k + 1);
        let enterprise = format!("changsha.e{:02}", n % 10 + 1);
        let (filed, days) = if k < 66 {
            (
                weekday(t(2005, 1, 10, 10, 0)? + k * (4 * DAY + 12 * HOUR)),
                5 + k % 9,
            )
        } else {
            (weekday(t(2005, 12, 12, 10, 0)? + (k - 66) * 2 * DAY), 20)
        };
        let rating = if k % 7 == 3 {
            Rating::BasicallySatisfied
        } else {
            Rating::Satisfied
        };
        let losses = if k % 4 == 0 { 20_000 * YUAN } else { 0 };
        b.routine_case(
            filed,
            "changsha.jingxie",
            &case,
            &enterprise,
            categories[n % categories.len()],
            syn(&format!(
                "按长沙市2005年受理投诉71件、办结66件的统计构造的第{}件投诉",
                k + 1
            ))?,
            days,
            losses,
            rating,
        )?;
    }
    Ok(())
}

/// The source's cases of 2006 (the province's complaint centre and the cities).
fn source_cases_2006(b: &mut Builder) -> Result<()> {
    let centre = "hn.centre/staff";
    // 都市营销管理公司 v 太子奶集团: registered by the province, reported to the
    // provincial government as major, referred to Zhuzhou in late February,
    // resolved by mediation.
    let c = FEATURED_CASE;
    b.file(
        t(2006, 2, 20, 10, 0)?,
        centre,
        c,
        "zz.dushi",
        Channel::Letter,
        Category::TradeDispute,
        text("都市营销管理公司投诉：与湖南太子奶集团的贸易纠纷，货款及市场费用长期未能结算")?,
        None,
        Some(2_800_000 * YUAN),
        false,
        true,
    )?;
    b.accept(t(2006, 2, 20, 15, 0)?, centre, c, Procedure::Simple)?;
    b.reply(
        t(2006, 2, 21, 10, 0)?,
        centre,
        c,
        text("已登记受理，按企业所在地原则转株洲市办理，省中心跟踪督办")?,
        false,
    )?;
    b.push(
        t(2006, 2, 22, 10, 0)?,
        centre,
        format!("{c}/reported"),
        Event::ReportedToGovernment(ReportedToGovernment {
            case: id(c)?,
            to: id("hn.gov")?,
            summary: text("重大投诉：涉及金额较大的省外企业与本省龙头企业贸易纠纷，报省政府")?,
        }),
    )?;
    b.refer(
        t(2006, 2, 24, 10, 0)?,
        centre,
        c,
        "zhuzhou.jingxie",
        "按企业所在地原则转株洲市经协办办理，主管领导亲自带队调解",
    )?;
    b.assign(
        t(2006, 2, 27, 9, 30)?,
        "zhuzhou.jingxie/staff",
        c,
        "zhuzhou.jingxie",
        "投诉服务科",
    )?;
    b.push(
        t(2006, 3, 3, 10, 0)?,
        centre,
        format!("{c}/supervised"),
        Event::CaseSupervised(CaseSupervised {
            case: id(c)?,
            instruction: text("省中心督办：株洲市经协办于3月10日前报告调解结果")?,
        }),
    )?;
    b.push(
        t(2006, 3, 8, 15, 0)?,
        "zhuzhou.jingxie/staff",
        format!("{c}/mediation"),
        Event::MediationHeld(MediationHeld {
            case: id(c)?,
            agreement: true,
            note: text("双方在株洲市经协办主持下达成调解协议")?,
        }),
    )?;
    b.resolve(
        t(2006, 3, 10, 10, 0)?,
        "zhuzhou.jingxie/staff",
        c,
        "resolved",
        Outcome::Mediated,
        text("经调解，太子奶集团按协议分期结清款项")?,
        2_350_000 * YUAN,
    )?;
    b.rate(
        t(2006, 3, 14, 10, 0)?,
        "zz.dushi/key",
        c,
        "rated",
        Rating::Satisfied,
        RatingSource::Enterprise,
    )?;
    b.close(t(2006, 3, 15, 10, 0)?, "zhuzhou.jingxie/staff", c)?;

    // 东安县工商局's penalty on 三湘客车集团, revoked.
    let c = "hn-2006-0057";
    b.file(
        t(2006, 5, 15, 10, 0)?,
        centre,
        c,
        "yz.sanxiang",
        Channel::Hotline,
        Category::RoughEnforcement,
        text("三湘客车集团投诉东安县工商行政管理局的行政处罚")?,
        Some("yongzhou.dongan.gongshang"),
        Some(1_080_000 * YUAN),
        false,
        false,
    )?;
    b.accept(t(2006, 5, 15, 15, 0)?, centre, c, Procedure::Simple)?;
    b.reply(
        t(2006, 5, 16, 10, 0)?,
        centre,
        c,
        text("已受理，转永州市经协办协调")?,
        false,
    )?;
    b.refer(
        t(2006, 5, 17, 10, 0)?,
        centre,
        c,
        "yongzhou.jingxie",
        "转永州市经协办协调东安县",
    )?;
    b.assign(
        t(2006, 5, 18, 10, 0)?,
        "yongzhou.jingxie/staff",
        c,
        "yongzhou.jingxie",
        "投诉服务科",
    )?;
    b.resolve(
        t(2006, 6, 9, 10, 0)?,
        "yongzhou.jingxie/staff",
        c,
        "resolved",
        Outcome::Upheld,
        text("经协调，东安县工商行政管理局撤销对三湘客车集团的行政处罚")?,
        1_080_000 * YUAN,
    )?;
    b.rate(
        t(2006, 6, 13, 10, 0)?,
        "yongzhou.jingxie/staff",
        c,
        "rated",
        Rating::Satisfied,
        RatingSource::FollowUpCall,
    )?;
    b.close(t(2006, 6, 14, 10, 0)?, "yongzhou.jingxie/staff", c)?;

    // The fee standard of 湘阴县高岭汽车站联合开发公司, adjusted.
    let c = "hn-2006-0073";
    b.file(
        t(2006, 7, 3, 10, 0)?,
        centre,
        c,
        "yy.gaoling",
        Channel::Letter,
        Category::ArbitraryFees,
        text("湘阴县高岭汽车站联合开发公司投诉收费标准问题")?,
        Some("yueyang.xiangyin.wujia"),
        None,
        false,
        false,
    )?;
    b.accept(t(2006, 7, 3, 15, 0)?, centre, c, Procedure::Simple)?;
    b.reply(
        t(2006, 7, 4, 10, 0)?,
        centre,
        c,
        text("已受理，转岳阳市经协办协调湘阴县")?,
        false,
    )?;
    b.refer(
        t(2006, 7, 5, 10, 0)?,
        centre,
        c,
        "yueyang.jingxie",
        "转岳阳市经协办协调湘阴县物价局",
    )?;
    b.resolve(
        t(2006, 7, 28, 10, 0)?,
        "yueyang.jingxie/staff",
        c,
        "resolved",
        Outcome::Upheld,
        text("经协调，湘阴县物价局调整了收费标准")?,
        620_000 * YUAN,
    )?;
    b.rate(
        t(2006, 8, 1, 10, 0)?,
        "yueyang.jingxie/staff",
        c,
        "rated",
        Rating::BasicallySatisfied,
        RatingSource::FollowUpCall,
    )?;
    b.close(t(2006, 8, 2, 10, 0)?, "yueyang.jingxie/staff", c)?;

    // Land clearance blocking 莲城置业's pedestrian street in Xiangtan:
    // urgent, on site the same day, handled jointly.
    let c = "xt-2006-0012";
    let xt = "xiangtan.jingxie/staff";
    b.file(
        t(2006, 8, 14, 9, 0)?,
        xt,
        c,
        "xt.liancheng",
        Channel::Visit,
        Category::LandAndConstruction,
        text("莲城置业投诉：步行街项目征地拆迁受阻，工程无法推进")?,
        Some("xiangtan.yuetang"),
        None,
        true,
        false,
    )?;
    b.accept(t(2006, 8, 14, 9, 30)?, xt, c, Procedure::Joint)?;
    b.reply(
        t(2006, 8, 14, 14, 0)?,
        xt,
        c,
        text("紧急案件：当日赶赴现场，会同岳塘区和市国土资源局了解情况")?,
        true,
    )?;
    b.push(
        t(2006, 8, 15, 9, 0)?,
        xt,
        format!("{c}/joint"),
        Event::JointHandlingConvened(JointHandlingConvened {
            case: id(c)?,
            bodies: vec![
                id("xiangtan.jingxie")?,
                id("xiangtan.yuetang")?,
                id("xiangtan.guotu")?,
            ],
            on_site: true,
            note: text("现场联合办公，协调征地拆迁")?,
        }),
    )?;
    b.resolve(
        t(2006, 9, 5, 10, 0)?,
        xt,
        c,
        "resolved",
        Outcome::Upheld,
        text("征地拆迁问题得到解决，步行街项目复工")?,
        0,
    )?;
    b.rate(
        t(2006, 9, 8, 10, 0)?,
        "xt.liancheng/key",
        c,
        "rated",
        Rating::Satisfied,
        RatingSource::Enterprise,
    )?;
    b.close(t(2006, 9, 9, 10, 0)?, xt, c)
}

/// Zhuzhou 2006: besides the 太子奶 dispute, seven complaints, all rated 满意
/// (the source's satisfaction 8/8); the seven are synthetic.
fn zhuzhou_2006(b: &mut Builder) -> Result<()> {
    for j in 0..7i64 {
        let n = usize::try_from(j).unwrap_or(0);
        b.routine_case(
            weekday(t(2006, 4, 10, 10, 0)? + j * 30 * DAY),
            "zhuzhou.jingxie",
            &format!("zz-2006-{:04}", j + 1),
            &format!("zhuzhou.e{:02}", n % 9 + 1),
            [
                Category::ArbitraryFees,
                Category::PaymentArrears,
                Category::ApprovalDelay,
            ][n % 3],
            syn(&format!("株洲市2006年投诉第{}件", j + 1))?,
            8,
            60_000 * YUAN,
            Rating::Satisfied,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Promises.

#[allow(clippy::too_many_arguments)]
fn promise(
    b: &mut Builder,
    at: i64,
    signer: &str,
    promise: &str,
    body: &str,
    beneficiary: Option<&str>,
    form: PromiseForm,
    terms: Text,
    due: Option<Date>,
    amount: Option<i64>,
    document: Text,
) -> Result<()> {
    b.push(
        at,
        signer,
        format!("promise/{promise}/made"),
        Event::PromiseMade(PromiseMade {
            promise: id(promise)?,
            body: id(body)?,
            beneficiary: beneficiary.map(id).transpose()?,
            form,
            terms,
            due,
            amount: amount.map(fen).transpose()?,
            document,
        }),
    )
}

fn kept(b: &mut Builder, at: i64, signer: &str, promise: &str, summary: Text) -> Result<()> {
    b.push(
        at,
        signer,
        format!("promise/{promise}/kept"),
        Event::PromiseKept(PromiseKept {
            promise: id(promise)?,
            summary,
        }),
    )
}

fn promises(b: &mut Builder) -> Result<()> {
    // Changsha's published service commitment: foreign investment approved
    // in 3 working days (R16–R19).
    promise(
        b,
        t(2005, 3, 1, 10, 0)?,
        "changsha/head",
        "cs-fdi-3days",
        "changsha",
        None,
        PromiseForm::ServiceCommitment,
        text("外商投资企业设立及变更审批：申请材料齐全、符合法定形式的，3个工作日内办结；公布办事程序、服务标准、办结时限、投诉渠道和违诺责任")?,
        None,
        None,
        text("长沙市人民政府优化经济环境公开承诺")?,
    )?;
    // The ten provincial departments' investor-protection pledges.
    for (n, (slug, name)) in PROVINCIAL_DEPARTMENTS.iter().enumerate() {
        let body = format!("hn.{slug}");
        promise(
            b,
            t(2006, 3, 15, 9, 0)? + i64::try_from(n).unwrap_or(0) * 10 * MINUTE,
            &format!("{body}/head"),
            &format!("hn-pledge-{slug}"),
            &body,
            None,
            PromiseForm::ResponsibilityPledge,
            text(format!("{name}保护投资者合法权益承诺：不乱收费、不乱检查、不乱罚款，进入企业检查须一把手审批并登记，首问负责、限时办结"))?,
            None,
            None,
            text("全省十个部门保护投资者合法权益责任状")?,
        )?;
    }

    // Synthetic: a contract broken after a change of government (a forbidden
    // excuse), disputed, upheld, compensated, with accountability (R15, art. 31).
    let p = "cd-2005-land";
    promise(
        b,
        t(2005, 11, 21, 10, 0)?,
        "changde/head",
        p,
        "changde",
        Some("changde.e01"),
        PromiseForm::Contract,
        syn("常德市政府与投资企业签订投资合同：项目投产后返还土地出让金120万元")?,
        Some(date_of(t(2006, 6, 30, 12, 0)?)?),
        Some(1_200_000 * YUAN),
        syn("常德市人民政府投资合同（2005）")?,
    )?;
    let new_head = b.person();
    b.push(
        t(2006, 4, 10, 10, 0)?,
        "registrar",
        "appoint/changde/head/2006",
        Event::OfficeHolderAppointed(OfficeHolderAppointed {
            body: id("changde")?,
            position: Position::Head,
            person: text(new_head)?,
            division: None,
        }),
    )?;
    b.push(
        t(2006, 7, 5, 10, 0)?,
        "changde/head",
        format!("promise/{p}/breached"),
        Event::PromiseBreached(PromiseBreached {
            promise: id(p)?,
            excuse: Excuse::ChangeOfGovernment,
            excuse_given: syn("政府换届，新一届政府不再执行上届政府签订的返还条款")?,
            loss: Some(fen(1_200_000 * YUAN)?),
        }),
    )?;
    b.push(
        t(2006, 7, 10, 10, 0)?,
        "changde.e01/key",
        format!("promise/{p}/disputed"),
        Event::PromiseDisputed(PromiseDisputed {
            promise: id(p)?,
            claim: syn("换届不是违约的理由，请求兑现合同并赔偿损失")?,
        }),
    )?;
    b.push(
        t(2006, 7, 25, 10, 0)?,
        "hn.youhua/staff",
        format!("promise/{p}/settled"),
        Event::PromiseDisputeSettled(PromiseDisputeSettled {
            promise: id(p)?,
            upheld: true,
            outcome: syn("企业主张成立：政府不得以换届为由违约，责成常德市政府赔偿")?,
        }),
    )?;
    b.push(
        t(2006, 8, 4, 10, 0)?,
        "changde/head",
        format!("promise/{p}/compensated"),
        Event::CompensationPaid(CompensationPaid {
            promise: id(p)?,
            amount: fen(1_200_000 * YUAN)?,
            to: id("changde.e01")?,
        }),
    )?;
    let (head, deputy) = b.leader("changde");
    b.push(
        t(2006, 8, 10, 10, 0)?,
        "hn.youhua/staff",
        format!("promise/{p}/accountability"),
        Event::AccountabilityImposed(AccountabilityImposed {
            subject: Subject::Promise(id(p)?),
            body: id("changde")?,
            persons: vec![text(head)?, text(deputy)?],
            measure: syn("对主要领导和直接责任人通报批评、诫勉谈话")?,
        }),
    )?;

    // Synthetic: a promise lawfully varied in the public interest, with
    // compensation, then kept on its new terms.
    let p = "yue-2006-road";
    promise(
        b,
        t(2006, 2, 10, 10, 0)?,
        "yueyang/head",
        p,
        "yueyang",
        Some("yueyang.e01"),
        PromiseForm::MeetingMinutes,
        syn("2006年9月底前修通工业园区进厂道路")?,
        Some(date_of(t(2006, 9, 30, 12, 0)?)?),
        None,
        syn("岳阳市政府专题会议纪要")?,
    )?;
    b.push(
        t(2006, 6, 15, 10, 0)?,
        "yueyang/head",
        format!("promise/{p}/varied"),
        Event::PromiseVaried(PromiseVaried {
            promise: id(p)?,
            public_interest_basis: syn("原线位与防洪规划冲突，依法调整")?,
            new_terms: syn("道路改线，2006年11月底前修通")?,
            compensation: fen(150_000 * YUAN)?,
        }),
    )?;
    b.push(
        t(2006, 6, 30, 10, 0)?,
        "yueyang/head",
        format!("promise/{p}/compensated"),
        Event::CompensationPaid(CompensationPaid {
            promise: id(p)?,
            amount: fen(150_000 * YUAN)?,
            to: id("yueyang.e01")?,
        }),
    )?;
    kept(
        b,
        t(2006, 11, 24, 10, 0)?,
        "yueyang/head",
        p,
        syn("改线道路已修通")?,
    )
}

// ---------------------------------------------------------------------------
// Projects (R20–R21).

fn projects(b: &mut Builder) -> Result<()> {
    let tracker = "xiangtan.jingxie/staff";
    let (leader, _) = b.leader("xiangtan");
    // The Pan-Pearl River fair: 8 projects, all started, 23,000 of 97,000 万元 arrived.
    let planned = [20_000, 15_000, 15_000, 12_000, 10_000, 10_000, 8_000, 7_000];
    let arrived = [6_000, 4_000, 4_000, 3_000, 2_000, 2_000, 1_000, 1_000];
    for (j, (p, a)) in planned.iter().zip(arrived).enumerate() {
        let k = i64::try_from(j).unwrap_or(0);
        let project = format!("xt-ppr-{:02}", j + 1);
        let person = b.person();
        b.push(
            t(2006, 6, 7, 10, 0)? + k * 10 * MINUTE,
            tracker,
            format!("project/{project}/signed"),
            Event::ProjectSigned(ProjectSigned {
                project: id(&project)?,
                enterprise: id(format!("xt.inv{:02}", j + 1))?,
                city: id("xiangtan")?,
                occasion: text("2006泛珠三角区域经贸合作洽谈会")?,
                planned_funds: fen(p * WAN)?,
                leader: text(leader.clone())?,
                tracker: text(person)?,
            }),
        )?;
        b.push(
            weekday(t(2006, 7, 3, 10, 0)? + k * 4 * DAY),
            tracker,
            format!("project/{project}/started"),
            Event::ProjectMilestoneReached(ProjectMilestoneReached {
                project: id(&project)?,
                milestone: Milestone::Started,
                note: text("项目开工")?,
            }),
        )?;
        b.push(
            weekday(t(2006, 8, 15, 10, 0)? + k * 9 * DAY),
            tracker,
            format!("project/{project}/funds"),
            Event::ProjectFundsArrived(ProjectFundsArrived {
                project: id(&project)?,
                amount: fen(a * WAN)?,
            }),
        )?;
    }
    // The Central China Expo: 14 projects, all performed; each a contract
    // of the city government, kept.
    for j in 0..14usize {
        let k = i64::try_from(j).unwrap_or(0);
        let project = format!("xt-cce-{:02}", j + 1);
        let enterprise = format!("xt.inv{:02}", j + 9);
        let person = b.person();
        let signed = t(2006, 9, 27, 10, 0)? + k * 10 * MINUTE;
        b.push(
            signed,
            tracker,
            format!("project/{project}/signed"),
            Event::ProjectSigned(ProjectSigned {
                project: id(&project)?,
                enterprise: id(&enterprise)?,
                city: id("xiangtan")?,
                occasion: text("首届中国中部投资贸易博览会")?,
                planned_funds: fen((3 + k % 5) * 1_000 * WAN)?,
                leader: text(leader.clone())?,
                tracker: text(person)?,
            }),
        )?;
        promise(
            b,
            signed + 5 * MINUTE,
            "xiangtan/head",
            &format!("xt-cce-{:02}-contract", j + 1),
            "xiangtan",
            Some(&enterprise),
            PromiseForm::Contract,
            text("中部博览会签约项目：提供用地、审批全程代办等配套服务，一个项目、一位领导、一套班子、一个方案、一抓到底")?,
            Some(date_of(t(2006, 12, 31, 12, 0)?)?),
            None,
            text("首届中国中部投资贸易博览会项目合同")?,
        )?;
        b.push(
            weekday(t(2006, 10, 16, 10, 0)? + k * DAY),
            tracker,
            format!("project/{project}/started"),
            Event::ProjectMilestoneReached(ProjectMilestoneReached {
                project: id(&project)?,
                milestone: Milestone::Started,
                note: text("项目开工")?,
            }),
        )?;
        let performed = weekday(t(2006, 12, 1, 10, 0)? + k * DAY);
        b.push(
            performed,
            tracker,
            format!("project/{project}/performed"),
            Event::ProjectMilestoneReached(ProjectMilestoneReached {
                project: id(&project)?,
                milestone: Milestone::Performed,
                note: text("合同履约")?,
            }),
        )?;
        kept(
            b,
            performed + HOUR,
            "xiangtan/head",
            &format!("xt-cce-{:02}-contract", j + 1),
            text("政府方合同义务全部履行")?,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Synthetic cases: deadlines, extension, reopening, rejection, withdrawal.

fn synthetic_cases(b: &mut Builder) -> Result<()> {
    // R3/R4: Hengyang, a lawful extension with a progress notice every 15
    // days, resolved within the cap (the dates of DOMAIN.md's table).
    let c = "hy-2006-0009";
    let hy = "hengyang.jingxie/staff";
    b.file(
        t(2006, 2, 24, 10, 0)?,
        hy,
        c,
        "hengyang.e02",
        Channel::Hotline,
        Category::PaymentArrears,
        syn("企业投诉工程款被拖欠，涉及多个部门")?,
        None,
        None,
        false,
        false,
    )?;
    b.accept(t(2006, 2, 24, 15, 0)?, hy, c, Procedure::Simple)?;
    b.reply(
        t(2006, 2, 27, 10, 0)?,
        hy,
        c,
        syn("已受理，正在核实")?,
        false,
    )?;
    b.push(
        t(2006, 3, 20, 10, 0)?,
        hy,
        format!("{c}/extended"),
        Event::DeadlineExtended(DeadlineExtended {
            case: id(c)?,
            reason: syn("涉及多个部门和债务人，30日内不能办结，依规延长")?,
        }),
    )?;
    for (n, (m, d)) in [(4u32, 10u32), (4, 25), (5, 10)].iter().enumerate() {
        b.push(
            t(2006, *m, *d, 10, 0)?,
            hy,
            format!("{c}/progress{}", n + 1),
            Event::ProgressReported(ProgressReported {
                case: id(c)?,
                summary: syn("向投诉人通报办理进展")?,
            }),
        )?;
    }
    b.resolve(
        t(2006, 5, 19, 10, 0)?,
        hy,
        c,
        "resolved",
        Outcome::PartiallyUpheld,
        syn("协调债务人制定还款计划")?,
        0,
    )?;
    b.rate(
        t(2006, 5, 23, 10, 0)?,
        hy,
        c,
        "rated",
        Rating::BasicallySatisfied,
        RatingSource::FollowUpCall,
    )?;
    b.close(t(2006, 5, 24, 10, 0)?, hy, c)?;

    // R1/R3/R4/R5: Loudi, overdue through the handler's fault: the first reply
    // late, extended but no progress notice, past the cap; accountability.
    let c = "ld-2006-0041";
    let ld = "loudi.jingxie/staff";
    b.file(
        t(2006, 9, 4, 10, 0)?,
        ld,
        c,
        "loudi.e02",
        Channel::Hotline,
        Category::BuckPassing,
        syn("企业投诉建设项目报建手续被相互推诿")?,
        Some("loudi.jianshe"),
        None,
        false,
        false,
    )?;
    b.accept(t(2006, 9, 5, 10, 0)?, ld, c, Procedure::Simple)?;
    b.reply(
        t(2006, 9, 14, 10, 0)?,
        ld,
        c,
        syn("答复逾期：已受理")?,
        false,
    )?;
    b.push(
        t(2006, 10, 8, 10, 0)?,
        ld,
        format!("{c}/extended"),
        Event::DeadlineExtended(DeadlineExtended {
            case: id(c)?,
            reason: syn("需协调市建设局，延期办理")?,
        }),
    )?;
    let handler = b.person();
    let (head, deputy) = b.leader("loudi.jingxie");
    b.push(
        t(2006, 12, 15, 10, 0)?,
        "loudi/head",
        format!("{c}/accountability"),
        Event::AccountabilityImposed(AccountabilityImposed {
            subject: Subject::Case(id(c)?),
            body: id("loudi.jingxie")?,
            persons: vec![text(handler)?, text(deputy)?, text(head)?],
            measure: syn("因经办单位原因逾期未办结，追究经办人及有关领导责任")?,
        }),
    )?;

    // Dissatisfaction reopens (Shaoyang): filed by the enterprise itself on
    // the web, accepted by the first body contacted (R16–R19).
    let c = "sy-2006-0015";
    let sy = "shaoyang.jingxie/staff";
    let ent = "shaoyang.e01/key";
    b.file(
        t(2006, 6, 12, 9, 0)?,
        ent,
        c,
        "shaoyang.e01",
        Channel::Web,
        Category::ApprovalDelay,
        syn("企业网上投诉：环评审批超时限")?,
        None,
        None,
        false,
        false,
    )?;
    b.accept(t(2006, 6, 12, 15, 0)?, sy, c, Procedure::Simple)?;
    b.reply(t(2006, 6, 13, 10, 0)?, sy, c, syn("已受理")?, false)?;
    b.resolve(
        t(2006, 6, 30, 10, 0)?,
        sy,
        c,
        "resolved",
        Outcome::NotUpheld,
        syn("审批在法定时限内")?,
        0,
    )?;
    b.rate(
        t(2006, 7, 3, 10, 0)?,
        ent,
        c,
        "rated",
        Rating::Dissatisfied,
        RatingSource::Enterprise,
    )?;
    b.push(
        t(2006, 7, 4, 10, 0)?,
        ent,
        format!("{c}/reopened"),
        Event::CaseReopened(CaseReopened {
            case: id(c)?,
            reason: syn("补正材料后仍被要求重复提交")?,
        }),
    )?;
    b.resolve(
        t(2006, 7, 20, 10, 0)?,
        sy,
        c,
        "resolved2",
        Outcome::PartiallyUpheld,
        syn("责成审批部门一次性告知补正材料并限时办结")?,
        0,
    )?;
    b.rate(
        t(2006, 7, 24, 10, 0)?,
        ent,
        c,
        "rated2",
        Rating::BasicallySatisfied,
        RatingSource::Enterprise,
    )?;
    b.close(t(2006, 7, 25, 10, 0)?, sy, c)?;

    // A complaint rejected with a reason (Chenzhou).
    let c = "cz-2006-0007";
    let cz = "chenzhou.jingxie/staff";
    b.file(
        t(2006, 4, 3, 10, 0)?,
        cz,
        c,
        "chenzhou.e02",
        Channel::Visit,
        Category::Other,
        syn("企业与职工劳动争议")?,
        None,
        None,
        false,
        false,
    )?;
    b.push(
        t(2006, 4, 4, 10, 0)?,
        cz,
        format!("{c}/rejected"),
        Event::ComplaintRejected(ComplaintRejected {
            case: id(c)?,
            reason: syn("属劳动争议，不属投诉受理范围，已告知向劳动争议仲裁委员会申请")?,
        }),
    )?;

    // A complaint withdrawn (Huaihua).
    let c = "hh-2006-0011";
    let hh = "huaihua.jingxie/staff";
    b.file(
        t(2006, 5, 8, 10, 0)?,
        hh,
        c,
        "huaihua.e02",
        Channel::Letter,
        Category::PaymentArrears,
        syn("企业投诉货款拖欠")?,
        None,
        None,
        false,
        false,
    )?;
    b.accept(t(2006, 5, 8, 15, 0)?, hh, c, Procedure::Simple)?;
    b.reply(t(2006, 5, 9, 10, 0)?, hh, c, syn("已受理")?, false)?;
    b.push(
        t(2006, 5, 20, 10, 0)?,
        hh,
        format!("{c}/withdrawn"),
        Event::ComplaintWithdrawn(ComplaintWithdrawn {
            case: id(c)?,
            reason: syn("双方自行和解，企业撤回投诉")?,
        }),
    )
}

// ---------------------------------------------------------------------------
// Inspections (R13, R14, 国办发〔2024〕54号).

#[allow(clippy::too_many_arguments)]
fn inspection_request(
    b: &mut Builder,
    at: i64,
    dept: &str,
    inspection: &str,
    enterprise: &str,
    items: &[&str],
    reason: Text,
    emergency: bool,
) -> Result<()> {
    b.push(
        at,
        &format!("{dept}/staff"),
        format!("{inspection}/requested"),
        Event::InspectionRequested(InspectionRequested {
            inspection: id(inspection)?,
            department: id(dept)?,
            enterprise: id(enterprise)?,
            items: items.iter().map(|i| id(*i)).collect::<Result<_>>()?,
            joint_with: Vec::new(),
            reason,
            emergency,
        }),
    )
}

fn inspection_conduct(
    b: &mut Builder,
    at: i64,
    dept: &str,
    inspection: &str,
    enterprise: &str,
    items: &[&str],
    findings: Text,
) -> Result<()> {
    b.push(
        at,
        &format!("{dept}/staff"),
        format!("{inspection}/conducted"),
        Event::InspectionConducted(InspectionConducted {
            inspection: id(inspection)?,
            department: id(dept)?,
            enterprise: id(enterprise)?,
            items: items.iter().map(|i| id(*i)).collect::<Result<_>>()?,
            findings,
        }),
    )
}

fn inspection_approve(
    b: &mut Builder,
    at: i64,
    dept: &str,
    inspection: &str,
    retroactive: bool,
) -> Result<()> {
    b.push(
        at,
        &format!("{dept}/head"),
        format!("{inspection}/approved"),
        Event::InspectionApproved(InspectionApproved {
            inspection: id(inspection)?,
            retroactive,
        }),
    )
}

fn inspection_register(
    b: &mut Builder,
    at: i64,
    dept: &str,
    inspection: &str,
    entry: &str,
) -> Result<()> {
    b.push(
        at,
        &format!("{dept}/staff"),
        format!("{inspection}/registered"),
        Event::InspectionRegistered(InspectionRegistered {
            inspection: id(inspection)?,
            register_entry: syn(entry)?,
        }),
    )
}

/// The derived case the ledger opened for `trigger_seq`, handled by the city
/// office: accepted (as the first body contacted), replied, resolved, rated, closed.
#[allow(clippy::too_many_arguments)]
fn handle_derived(
    b: &mut Builder,
    at: i64,
    trigger_seq: u64,
    office: &str,
    outcome: Outcome,
    result: &str,
    losses: i64,
    rating: Rating,
) -> Result<()> {
    let case = format!("{}{trigger_seq}", projections::rules::DERIVED_CASE_PREFIX);
    let staff = format!("{office}/staff");
    b.accept(at, &staff, &case, Procedure::Simple)?;
    b.reply(
        weekday(at + DAY),
        &staff,
        &case,
        syn("检查登记簿比对发现问题，已立案调查")?,
        false,
    )?;
    let resolved = weekday(at + 12 * DAY);
    b.resolve(
        resolved,
        &staff,
        &case,
        "resolved",
        outcome,
        syn(result)?,
        losses,
    )?;
    let rated = weekday(resolved + 2 * DAY);
    b.rate(
        rated,
        &staff,
        &case,
        "rated",
        rating,
        RatingSource::FollowUpCall,
    )?;
    b.close(rated + HOUR, &staff, &case)
}

fn inspections(b: &mut Builder) -> Result<()> {
    let e = "hengyang.e01";
    // A compliant inspection: requested, approved by the head, registered, conducted.
    let i1 = "hy-insp-2006-01";
    inspection_request(
        b,
        t(2006, 3, 6, 10, 0)?,
        "hengyang.zhijian",
        i1,
        e,
        &["product-quality"],
        syn("产品质量监督抽查")?,
        false,
    )?;
    inspection_approve(b, t(2006, 3, 7, 9, 0)?, "hengyang.zhijian", i1, false)?;
    inspection_register(
        b,
        t(2006, 3, 7, 10, 0)?,
        "hengyang.zhijian",
        i1,
        "衡阳市质监局行政执法检查登记簿2006第018号",
    )?;
    inspection_conduct(
        b,
        t(2006, 3, 9, 10, 0)?,
        "hengyang.zhijian",
        i1,
        e,
        &["product-quality"],
        syn("抽检合格")?,
    )?;
    // A correction of its findings (a clerical error), naming its seq.
    b.after(
        t(2006, 3, 20, 10, 0)?,
        &format!("{i1}/conducted"),
        |b, seq| {
            let mut values = BTreeMap::new();
            values.insert(
                "findings".to_string(),
                serde_json::Value::String(format!("{SYNTHETIC}抽检3个批次，全部合格")),
            );
            b.push(
                t(2006, 3, 20, 10, 0)?,
                "hn.youhua/staff",
                "correction/hy-insp-2006-01/findings",
                Event::Correction(Correction {
                    target_seq: seq,
                    fields: vec![id("findings")?],
                    values,
                    reason: syn("检查结论记录不完整，更正")?,
                }),
            )
        },
    );

    // An unapproved, unregistered repeat inspection by another department,
    // with a fee demanded: each opens a case (auto-<seq>).
    let i2 = "hy-insp-2006-02";
    inspection_request(
        b,
        t(2006, 5, 15, 10, 0)?,
        "hengyang.gongshang",
        i2,
        e,
        &["product-quality", "business-licence"],
        syn("专项检查")?,
        false,
    )?;
    inspection_conduct(
        b,
        t(2006, 5, 16, 10, 0)?,
        "hengyang.gongshang",
        i2,
        e,
        &["product-quality", "business-licence"],
        syn("未经一把手审批、未登记即进入企业检查，与质监局3月检查项目重复")?,
    )?;
    b.push(
        t(2006, 5, 16, 15, 0)?,
        "hengyang.gongshang/staff",
        format!("{i2}/fee"),
        Event::InspectionFeeDemanded(InspectionFeeDemanded {
            inspection: id(i2)?,
            amount: fen(3_000 * YUAN)?,
            basis: syn("以检查为名收取“检测费”")?,
        }),
    )?;
    b.after(
        t(2006, 5, 17, 10, 0)?,
        &format!("{i2}/conducted"),
        |b, seq| {
            handle_derived(
                b,
                t(2006, 5, 17, 10, 0)?,
                seq,
                "hengyang.jingxie",
                Outcome::Upheld,
                "未经审批的重复检查属实，责令纠正",
                0,
                Rating::Satisfied,
            )?;
            let (head, _) = b.leader("hengyang.gongshang");
            let inspector = b.person();
            b.push(
                t(2006, 6, 6, 10, 0)?,
                "hengyang/head",
                "hy-insp-2006-02/accountability",
                Event::AccountabilityImposed(AccountabilityImposed {
                    subject: Subject::Inspection(id("hy-insp-2006-02")?),
                    body: id("hengyang.gongshang")?,
                    persons: vec![text(inspector)?, text(head)?],
                    measure: syn("未经批准进入企业检查，对检查人员和分管领导通报批评")?,
                }),
            )
        },
    );
    b.after(t(2006, 5, 17, 11, 0)?, &format!("{i2}/fee"), |b, seq| {
        handle_derived(
            b,
            t(2006, 5, 17, 11, 0)?,
            seq,
            "hengyang.jingxie",
            Outcome::Upheld,
            "以检查为名乱收费属实，费用已退还企业",
            3_000 * YUAN,
            Rating::Satisfied,
        )
    });

    // An emergency inspection, approved retroactively, the third of the year
    // for the enterprise (over the yearly cap of 2): opens a case.
    let i3 = "hy-insp-2006-03";
    inspection_request(
        b,
        t(2006, 7, 20, 9, 0)?,
        "hengyang.gongan",
        i3,
        e,
        &["fire-safety"],
        syn("接群众举报存在重大火灾隐患，紧急检查")?,
        true,
    )?;
    inspection_conduct(
        b,
        t(2006, 7, 20, 11, 0)?,
        "hengyang.gongan",
        i3,
        e,
        &["fire-safety"],
        syn("责令限期整改消防通道")?,
    )?;
    inspection_approve(b, t(2006, 7, 21, 9, 0)?, "hengyang.gongan", i3, true)?;
    inspection_register(
        b,
        t(2006, 7, 21, 10, 0)?,
        "hengyang.gongan",
        i3,
        "衡阳市公安局行政执法检查登记簿2006第207号（事后补登）",
    )?;
    b.after(
        t(2006, 7, 24, 10, 0)?,
        &format!("{i3}/conducted"),
        |b, seq| {
            handle_derived(
                b,
                t(2006, 7, 24, 10, 0)?,
                seq,
                "hengyang.jingxie",
                Outcome::NotUpheld,
                "紧急消防检查依法进行并已补办审批，但全年检查次数超过上限，已通报各部门合并检查",
                0,
                Rating::BasicallySatisfied,
            )
        },
    );

    // A joint visit (国办发〔2024〕54号): the AIC and the quality bureau
    // inspect an enterprise together, once, instead of one after the other.
    let j = "hy-insp-2006-05";
    let e2 = "hengyang.e02";
    let items = ["business-licence", "product-quality"];
    b.push(
        t(2006, 4, 10, 10, 0)?,
        "hengyang.gongshang/staff",
        format!("{j}/requested"),
        Event::InspectionRequested(InspectionRequested {
            inspection: id(j)?,
            department: id("hengyang.gongshang")?,
            enterprise: id(e2)?,
            items: items.iter().map(|i| id(*i)).collect::<Result<_>>()?,
            joint_with: vec![id("hengyang.zhijian")?],
            reason: syn("工商、质监联合检查，一次进门，合并检查事项")?,
            emergency: false,
        }),
    )?;
    inspection_approve(b, t(2006, 4, 11, 9, 0)?, "hengyang.gongshang", j, false)?;
    inspection_register(
        b,
        t(2006, 4, 11, 10, 0)?,
        "hengyang.gongshang",
        j,
        "衡阳市工商局行政执法检查登记簿2006第031号",
    )?;
    inspection_conduct(
        b,
        t(2006, 4, 13, 10, 0)?,
        "hengyang.gongshang",
        j,
        e2,
        &items,
        syn("联合检查：证照齐全，产品抽检合格")?,
    )?;

    // An inspection requested in December, still awaiting approval.
    inspection_request(
        b,
        t(2006, 12, 18, 10, 0)?,
        "hengyang.zhijian",
        "hy-insp-2006-04",
        "hengyang.e03",
        &["metrology"],
        syn("计量器具检定检查")?,
        false,
    )
}

// ---------------------------------------------------------------------------
// A reorganisation: the successor inherits promises.

fn reorganisation(b: &mut Builder) -> Result<()> {
    let p = "yiy-2006-agency";
    promise(
        b,
        t(2006, 3, 1, 10, 0)?,
        "yiyang.jingxie/head",
        p,
        "yiyang.jingxie",
        Some("yiyang.e01"),
        PromiseForm::ServiceCommitment,
        syn("为企业新建项目全程代办审批手续，2006年10月底前办结")?,
        Some(date_of(t(2006, 10, 31, 12, 0)?)?),
        None,
        syn("益阳市经协办项目代办服务承诺书")?,
    )?;
    // The successor body is registered in July 2006.
    let saved = b.reg_at;
    b.reg_at = t(2006, 7, 25, 9, 0)?;
    b.body(
        "yiyang.shangwu",
        "益阳市商务局",
        BodyKind::CityOffice,
        Some("yiyang"),
        Some("yiyang"),
        OFFICE_ROLES,
        "投资促进科",
    )?;
    b.reg_at = saved;
    b.push(
        t(2006, 8, 1, 9, 0)?,
        "registrar",
        "reorganise/yiyang.jingxie",
        Event::BodyReorganised(BodyReorganised {
            body: id("yiyang.jingxie")?,
            kind: Reorganisation::MergedInto,
            successor: id("yiyang.shangwu")?,
            basis: syn("机构改革：益阳市经协办并入益阳市商务局，职责和承诺由商务局承继")?,
        }),
    )?;
    kept(
        b,
        t(2006, 9, 20, 10, 0)?,
        "yiyang.shangwu/head",
        p,
        syn("由承继机关益阳市商务局兑现，审批手续已全部办结")?,
    )
}

// ---------------------------------------------------------------------------
// Monitoring points (R22) and evaluation feedback (R23–R24), 2006.

fn monitoring_and_evaluation(b: &mut Builder) -> Result<()> {
    let points = b.monitoring.clone();
    for (ci, c) in CITIES.iter().enumerate() {
        let k = i64::try_from(ci).unwrap_or(0);
        // Huaihua files late (after 30 November): measured, not refused.
        let day = if c.slug == "huaihua" {
            t(2006, 12, 5, 10, 0)?
        } else {
            weekday(t(2006, 11, 6, 10, 0)? + k * DAY)
        };
        for (n, (enterprise, county)) in points
            .get(c.slug)
            .into_iter()
            .flatten()
            .take(10)
            .enumerate()
        {
            b.push(
                day + i64::try_from(n).unwrap_or(0) * 5 * MINUTE,
                &office(c.slug),
                format!("monitoring/2006/{}/{enterprise}", c.slug),
                Event::MonitoringPointNamed(MonitoringPointNamed {
                    city: id(c.slug)?,
                    enterprise: id(enterprise)?,
                    county: text(county.clone())?,
                    year: 2006,
                }),
            )?;
        }
    }
    // Feedback from the four sources on the five dimensions (synthetic scores).
    let base: [i64; 14] = [88, 86, 91, 82, 76, 79, 80, 74, 78, 77, 75, 73, 71, 70];
    let sources = [
        (FeedbackSource::EfficiencyWebsite, 120u32, 0i64),
        (FeedbackSource::MonitoringPoint, 10, 2),
        (FeedbackSource::Questionnaire, 200, -1),
        (FeedbackSource::JointSurvey, 30, 1),
    ];
    let dims = [
        (Dimension::ServiceAwareness, 1i64),
        (Dimension::ServiceAttitude, 2),
        (Dimension::SystemImplementation, -1),
        (Dimension::LawEnforcement, -3),
        (Dimension::ComplaintHandling, 0),
    ];
    let mut at = t(2006, 12, 11, 9, 0)?;
    for (ci, c) in CITIES.iter().enumerate() {
        for (s, respondents, so) in sources {
            for (d, dof) in dims {
                at += 2 * MINUTE;
                let rating = u32::try_from((base[ci] + so + dof).clamp(0, 100)).unwrap_or(0);
                b.push(
                    at,
                    "hn.youhua/staff",
                    format!("evaluation/2006/{}/{}/{}", c.slug, s.name(), d.name()),
                    Event::EvaluationFeedbackRecorded(EvaluationFeedbackRecorded {
                        source: s,
                        city: id(c.slug)?,
                        year: 2006,
                        dimension: d,
                        rating,
                        respondents,
                    }),
                )?;
            }
        }
    }
    Ok(())
}
