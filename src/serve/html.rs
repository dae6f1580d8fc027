//! Server-rendered dashboard pages: pure functions from views to HTML text.
//!
//! No IO, no clock, no HTTP types: the handlers in `serve` fold the log, build
//! the views and call these. Every piece of text that comes from data goes
//! through [`esc`] (attribute values too), and every id placed in a URL path
//! through [`path_seg`]. Figures are formatted with integer arithmetic only.
//!
//! Every page carries its provenance: which records it reflects (seqs
//! 0..size), whether the signed checkpoint shown covers them, the checkpoint
//! note itself, and the business time at which lateness is judged.

use crate::reads::TimelineLine;
use events::vocab::Fen;
use projections::model::{CaseState, InspectionFlags, PromiseStatus};
use projections::views::{CaseView, Due, EnterpriseView, Overdue, PromiseLine, RankRow, Ratio};
use std::fmt::Write as _;

const SITE_NAME: &str = "湖南省内资企业投诉服务中心 · 政企互动审计账本";

/// Width in pixels of the longest bar of the ranking chart (a score of 1000‰).
const CHART_BAR_MAX: u64 = 440;
/// Left margin of the chart, where the city names go.
const CHART_LABEL_WIDTH: u64 = 170;
/// Height in pixels of one row of the chart.
const CHART_ROW: u64 = 26;
/// Hex characters of a key id shown before it is shortened.
const KEY_ID_SHOWN: usize = 12;

const CSS: &str = r#"
:root{color-scheme:light;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--accent:#0b5cad;--bad:#b42318;--ok:#1a7f37;--bg2:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:#fff;font:15px/1.55 "Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif}
header.site{background:#12355b;color:#fff;padding:.6rem 1.5rem}
header.site a,header.site button{color:#fff}
.site-name{font-size:1.15rem;font-weight:700;margin:0}
nav.main{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin-top:.3rem}
nav.main form{display:inline;margin:0}
nav.main button{background:none;border:1px solid #fff;border-radius:4px;padding:.1rem .6rem;font:inherit;cursor:pointer}
.who{opacity:.85}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
#provenance{background:var(--bg2);border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;margin:0 0 1rem;font-size:.92rem}
#provenance p{margin:.2rem 0}
form.asof{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.covered{color:var(--ok)}
.not-covered,.bad{color:var(--bad);font-weight:700}
.ok{color:var(--ok);font-weight:700}
pre{background:var(--bg2);border:1px solid var(--line);padding:.6rem;overflow-x:auto;font-size:.85rem;white-space:pre-wrap;word-break:break-all}
code{font-size:.88em;word-break:break-all}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
caption{text-align:left;font-weight:700;padding:.3rem 0}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--bg2)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
a{color:var(--accent)}
.flag{display:inline-block;background:#fde8e7;color:var(--bad);border-radius:3px;padding:0 .35rem;margin:0 .2rem .1rem 0;font-size:.85rem}
.late{background:#fff4d6;color:#7a5200}
.unknown{color:var(--bad)}
.muted{color:var(--muted)}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dl.fields dt{font-weight:700}
dl.fields dd{margin:0}
.years a{margin-right:.6rem}
.years a[aria-current]{font-weight:700;text-decoration:none;color:var(--fg)}
svg#chart{max-width:100%;height:auto;background:#fff}
svg#chart rect{fill:#2f6fb3}
svg#chart rect.top{fill:#c8102e}
svg#chart text{font-size:13px;fill:#1b1f24}
#proof-verdict{font-size:1.1rem;padding:.5rem .8rem;border-radius:6px;border:2px solid currentColor;display:inline-block}
label{font-weight:600}
input[type=password]{font:inherit;padding:.3rem;min-width:18rem}
"#;

/// What every page shows in its footer/header: which records it reflects and the checkpoint covering them.
pub struct Page<'a> {
    pub title: &'a str,
    /// Some(role) when signed in ("supervisor" or "auditor").
    pub signed_in: Option<&'a str>,
    /// The as-of date the user picked (YYYY-MM-DD), if any.
    pub as_of: Option<&'a str>,
    /// Records reflected: seqs 0..size.
    pub size: u64,
    /// The signed checkpoint shown: its tree size and full note text (C2SP signed note).
    pub checkpoint_size: u64,
    pub checkpoint_note: &'a str,
    /// The business time at which lateness is judged (RFC 3339 text).
    pub at: &'a str,
}

// ---------------------------------------------------------------------------
// Escaping and formatting.

/// Escapes text for HTML element content and (double- or single-quoted)
/// attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes every byte except unreserved ASCII (`A-Z a-z 0-9 - . _ ~`),
/// for one URL path segment or query value.
pub fn path_seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// An integer per-mille as a number out of 100 with one decimal: 873 → "87.3".
pub fn permille(p: u64) -> String {
    format!("{}.{}", p / 10, p % 10)
}

/// A rate as "n/d (x.y%)", computed exactly in integers (floored); "0/0 (—)"
/// when nothing was counted.
fn ratio(r: &Ratio) -> String {
    if r.denominator == 0 {
        return format!("{}/{} (—)", r.numerator, r.denominator);
    }
    let pm = u128::from(r.numerator) * 1000 / u128::from(r.denominator);
    let pm = u64::try_from(pm).unwrap_or(u64::MAX);
    format!("{}/{} ({}%)", r.numerator, r.denominator, permille(pm))
}

fn yuan(f: Fen) -> String {
    format!("{} 元", f.yuan_display())
}

/// `url` with the page's as-of date carried along, so that following a link
/// keeps showing the ledger as it stood then.
fn with_as_of(page: &Page, url: &str) -> String {
    match page.as_of {
        Some(a) if !a.is_empty() => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}as_of={}", path_seg(a))
        }
        _ => url.to_string(),
    }
}

/// A link whose `href` and text are both escaped here.
fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

fn case_link(page: &Page, id: &str) -> String {
    link(&with_as_of(page, &format!("/case/{}", path_seg(id))), id)
}

fn enterprise_link(page: &Page, id: &str) -> String {
    link(
        &with_as_of(page, &format!("/enterprise/{}", path_seg(id))),
        id,
    )
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "是 yes"
    } else {
        "否 no"
    }
}

fn state_label(s: CaseState) -> &'static str {
    match s {
        CaseState::Filed => "已登记 filed",
        CaseState::Accepted => "已受理 accepted",
        CaseState::Rejected => "不予受理 rejected",
        CaseState::InProgress => "办理中 in progress",
        CaseState::Resolved => "已办结 resolved",
        CaseState::Closed => "已结案 closed",
        CaseState::Withdrawn => "已撤回 withdrawn",
    }
}

fn promise_status_label(s: PromiseStatus) -> &'static str {
    match s {
        PromiseStatus::Made => "已作出 made",
        PromiseStatus::Kept => "已兑现 kept",
        PromiseStatus::Breached => "违约 breached",
        PromiseStatus::Varied => "依法变更 varied",
        PromiseStatus::Voided => "已撤销 voided",
    }
}

fn overdue_label(o: Overdue) -> &'static str {
    match o {
        Overdue::Reply => "首次答复 reply",
        Overdue::Result => "办理结果 result",
        Overdue::ProgressNotice => "进展告知 progress notice",
        Overdue::CapExceeded => "超过延期上限 cap exceeded",
    }
}

/// Flags as badges (`class` is "flag" or "flag late"); "无 none" when empty.
fn flags(list: &[Overdue], class: &str) -> String {
    if list.is_empty() {
        return "<span class=\"muted\">无 none</span>".to_string();
    }
    let mut out = String::new();
    for o in list {
        let _ = write!(
            out,
            "<span class=\"{}\">{}</span>",
            esc(class),
            overdue_label(*o)
        );
    }
    out
}

fn inspection_flags(f: &InspectionFlags) -> String {
    let named = [
        (f.unapproved, "未经批准 unapproved"),
        (f.unregistered, "未登记 unregistered"),
        (f.repeated, "重复检查 repeated"),
        (f.over_cap, "超过年度上限 over cap"),
        (f.fee_demanded, "借检查收费 fee demanded"),
        (f.approval_pending, "待补批 approval pending"),
    ];
    let mut out = String::new();
    for (on, label) in named {
        if on {
            let _ = write!(out, "<span class=\"flag\">{label}</span>");
        }
    }
    if out.is_empty() {
        out.push_str("<span class=\"muted\">无 none</span>");
    }
    out
}

/// A due date, or why it is unknown (never guessed).
fn due(d: &Due) -> String {
    match (&d.date, &d.unknown) {
        (Some(date), _) => esc(&date.to_string()),
        (None, Some(why)) => format!("<span class=\"unknown\">未知 unknown: {}</span>", esc(why)),
        (None, None) => "<span class=\"unknown\">未知 unknown</span>".to_string(),
    }
}

fn opt_text<T: std::fmt::Display>(v: &Option<T>) -> String {
    match v {
        Some(x) => esc(&x.to_string()),
        None => "<span class=\"muted\">—</span>".to_string(),
    }
}

/// A key id shortened for a table, the full id in the `title` attribute.
fn key_id(full: &str) -> String {
    let short: String = full.chars().take(KEY_ID_SHOWN).collect();
    let ellipsis = if full.chars().count() > KEY_ID_SHOWN {
        "…"
    } else {
        ""
    };
    format!(
        "<code title=\"{}\">{}{ellipsis}</code>",
        esc(full),
        esc(&short)
    )
}

// ---------------------------------------------------------------------------
// The page shell.

/// Where the as-of picker submits: the page's own path and the query
/// parameters it must keep.
struct Here<'a> {
    path: String,
    keep: Vec<(&'a str, String)>,
}

impl<'a> Here<'a> {
    fn at(path: impl Into<String>) -> Here<'a> {
        Here {
            path: path.into(),
            keep: Vec::new(),
        }
    }

    fn keep(mut self, name: &'a str, value: impl Into<String>) -> Here<'a> {
        self.keep.push((name, value.into()));
        self
    }

    /// This page without an as-of date (the latest records).
    fn latest(&self) -> String {
        let mut url = if self.path.is_empty() {
            "?".to_string()
        } else {
            self.path.clone()
        };
        for (i, (k, v)) in self.keep.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            let _ = write!(url, "{sep}{}={}", path_seg(k), path_seg(v));
        }
        url
    }
}

fn layout(page: &Page, here: &Here, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + 8192);
    out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>{} · {}</title>",
        esc(page.title),
        esc(SITE_NAME)
    );
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");

    // Header and navigation.
    out.push_str("<header class=\"site\">\n");
    let _ = writeln!(out, "<p class=\"site-name\">{}</p>", esc(SITE_NAME));
    out.push_str("<nav class=\"main\" aria-label=\"主导航 main\">\n");
    let _ = writeln!(
        out,
        "<a href=\"{}\">公开排名 ranking</a>",
        esc(&with_as_of(page, "/"))
    );
    match page.signed_in {
        Some(role) => {
            let _ = writeln!(
                out,
                "<a href=\"{}\">逾期 overdue</a>",
                esc(&with_as_of(page, "/overdue"))
            );
            let _ = writeln!(
                out,
                "<span class=\"who\">已登录 signed in as {}</span>",
                esc(role)
            );
            out.push_str(
                "<form method=\"post\" action=\"/logout\"><button type=\"submit\">退出 sign out</button></form>\n",
            );
        }
        None => out.push_str("<a href=\"/login\">登录 sign in</a>\n"),
    }
    out.push_str("</nav>\n</header>\n<main>\n");

    // Provenance: the as-of picker, what the page reflects, the checkpoint.
    out.push_str("<section id=\"provenance\" aria-label=\"数据来源 provenance\">\n");
    if here.path.is_empty() {
        // No known path: a form without `action` submits to the current URL.
        out.push_str("<form class=\"asof\" method=\"get\">\n");
    } else {
        let _ = writeln!(
            out,
            "<form class=\"asof\" method=\"get\" action=\"{}\">",
            esc(&here.path)
        );
    }
    out.push_str("<label for=\"as_of\">截至日期 / as of</label>\n");
    let _ = writeln!(
        out,
        "<input type=\"date\" id=\"as_of\" name=\"as_of\" value=\"{}\">",
        esc(page.as_of.unwrap_or(""))
    );
    for (k, v) in &here.keep {
        let _ = writeln!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        );
    }
    out.push_str("<button type=\"submit\">查看 show</button>\n");
    if page.as_of.is_some() {
        let _ = writeln!(out, "<a href=\"{}\">最新 latest</a>", esc(&here.latest()));
    }
    out.push_str("</form>\n");
    let _ = writeln!(
        out,
        "<p id=\"reflects\">本页反映记录 reflects records 0..{}; 逾期按业务时间判定 lateness judged at <time>{}</time>.</p>",
        page.size,
        esc(page.at)
    );
    let has_note = !page.checkpoint_note.trim().is_empty();
    if has_note && page.checkpoint_size >= page.size {
        let _ = writeln!(
            out,
            "<p id=\"coverage\" class=\"covered\">已被签名检查点覆盖 covered by the signed checkpoint shown (tree size {} ≥ {}).</p>",
            page.checkpoint_size, page.size
        );
    } else if has_note {
        let _ = writeln!(
            out,
            "<p id=\"coverage\" class=\"not-covered\">未被覆盖 NOT covered: the checkpoint shown has tree size {} &lt; {}.</p>",
            page.checkpoint_size, page.size
        );
    } else {
        out.push_str(
            "<p id=\"coverage\" class=\"not-covered\">未被覆盖 NOT covered: no signed checkpoint yet.</p>\n",
        );
    }
    if has_note {
        let _ = writeln!(
            out,
            "<details id=\"checkpoint\"><summary>签名检查点 signed checkpoint (tree size {})</summary><pre>{}</pre></details>",
            page.checkpoint_size,
            esc(page.checkpoint_note)
        );
    }
    out.push_str("</section>\n");

    let _ = writeln!(out, "<h1>{}</h1>", esc(page.title));
    out.push_str(body);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

// ---------------------------------------------------------------------------
// Pages.

/// The public ranking (R24) of `year`: a year selector, the table (rows in the
/// order given; `sort` is "name" or "score" and only marks which is active),
/// a bar chart and the top three.
pub fn index(page: &Page, year: i32, years: &[i32], rows: &[RankRow], sort: &str) -> String {
    let sort = if sort == "name" { "name" } else { "score" };
    let mut b = String::new();

    b.push_str("<nav class=\"years\" aria-label=\"年度 year\">年度 year: ");
    for y in years {
        let href = with_as_of(page, &format!("/?year={y}&sort={sort}"));
        if *y == year {
            let _ = write!(
                b,
                "<a href=\"{}\" aria-current=\"page\">{y}</a>",
                esc(&href)
            );
        } else {
            let _ = write!(b, "<a href=\"{}\">{y}</a>", esc(&href));
        }
    }
    b.push_str("</nav>\n");

    // The table.
    let sort_link = |key: &str, label: &str| {
        let href = with_as_of(page, &format!("/?year={year}&sort={key}"));
        link(&href, label)
    };
    let aria = |key: &str, dir: &str| {
        if key == sort {
            format!(" aria-sort=\"{dir}\"")
        } else {
            String::new()
        }
    };
    let _ = writeln!(
        b,
        "<table id=\"ranking\">\n<caption>{year} 年度各市州考评排名 ranking of the cities, {year}</caption>"
    );
    let _ = writeln!(
        b,
        "<thead><tr><th scope=\"col\" class=\"num\">名次 rank</th><th scope=\"col\"{}>{}</th><th scope=\"col\" class=\"num\"{}>{}</th><th scope=\"col\">前三 top three</th><th scope=\"col\" class=\"num\">结案率 closure</th><th scope=\"col\">评优资格 award eligibility (R25)</th></tr></thead>",
        aria("name", "ascending"),
        sort_link("name", "城市 city"),
        aria("score", "descending"),
        sort_link("score", "得分 score"),
    );
    b.push_str("<tbody>\n");
    if rows.is_empty() {
        b.push_str("<tr><td colspan=\"6\" class=\"muted\">本年度无排名 no ranking for this year</td></tr>\n");
    }
    for r in rows {
        let _ = writeln!(
            b,
            "<tr><td class=\"num\">{}</td><th scope=\"row\"><span title=\"{}\">{}</span></th><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            r.rank,
            esc(r.city.as_str()),
            esc(r.name.as_str()),
            permille(r.score_permille),
            if r.top_three { "★ 前三 top three" } else { "" },
            esc(&ratio(&r.closure)),
            match &r.ineligible_because {
                None => "有 eligible".to_string(),
                Some(why) => format!("<span class=\"bad\">取消 not eligible: {}</span>", esc(why)),
            },
        );
    }
    b.push_str("</tbody>\n</table>\n");

    // The chart: one bar per row, length proportional to the score (0..=1000‰).
    let rows_n = u64::try_from(rows.len()).unwrap_or(u64::MAX);
    let height = rows_n.saturating_mul(CHART_ROW).saturating_add(10);
    let width = CHART_LABEL_WIDTH + CHART_BAR_MAX + 70;
    let _ = writeln!(
        b,
        "<h2>得分 scores</h2>\n<svg id=\"chart\" role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        esc(&format!("{year} 年度各市州得分条形图 bar chart of the scores, {year}"))
    );
    let mut y = 5u64;
    for r in rows {
        let bar = r.score_permille.min(1000) * CHART_BAR_MAX / 1000;
        let class = if r.top_three { " class=\"top\"" } else { "" };
        let _ = writeln!(
            b,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect{class} x=\"{CHART_LABEL_WIDTH}\" y=\"{}\" width=\"{bar}\" height=\"{}\"><title>{}: {}</title></rect><text x=\"{}\" y=\"{}\">{}</text>",
            CHART_LABEL_WIDTH - 8,
            y + 17,
            esc(r.name.as_str()),
            y + 3,
            CHART_ROW - 8,
            esc(r.name.as_str()),
            permille(r.score_permille),
            CHART_LABEL_WIDTH + bar + 6,
            y + 17,
            permille(r.score_permille),
        );
        y += CHART_ROW;
    }
    b.push_str("</svg>\n");

    // The top three, announced (R24).
    let mut top: Vec<&RankRow> = rows.iter().filter(|r| r.top_three).collect();
    top.sort_by_key(|r| r.rank);
    b.push_str("<h2>前三名 top three</h2>\n<ol id=\"top-three\">\n");
    for r in &top {
        let _ = writeln!(
            b,
            "<li value=\"{}\">{} — {}</li>",
            r.rank,
            esc(r.name.as_str()),
            permille(r.score_permille)
        );
    }
    b.push_str("</ol>\n");
    if top.is_empty() {
        b.push_str("<p class=\"muted\">无 none</p>\n");
    }

    let here = Here::at("/")
        .keep("year", year.to_string())
        .keep("sort", sort);
    layout(page, &here, &b)
}

/// The sign-in form: a password field named `token`, POSTed to `/login`.
pub fn login(page: &Page, error: Option<&str>) -> String {
    let mut b = String::new();
    if let Some(e) = error {
        let _ = writeln!(
            b,
            "<p id=\"login-error\" class=\"bad\" role=\"alert\">{}</p>",
            esc(e)
        );
    }
    b.push_str("<form method=\"post\" action=\"/login\">\n");
    b.push_str("<p><label for=\"token\">访问令牌 / access token</label><br>\n");
    b.push_str("<input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"current-password\" required></p>\n");
    b.push_str("<p><button type=\"submit\">登录 sign in</button></p>\n</form>\n");
    layout(page, &Here::at("/login"), &b)
}

fn promise_rows(b: &mut String, promises: &[PromiseLine]) {
    if promises.is_empty() {
        b.push_str("<tr><td colspan=\"6\" class=\"muted\">无 none</td></tr>\n");
    }
    for p in promises {
        let _ = writeln!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(p.id.as_str()),
            esc(p.body.as_str()),
            esc(p.body_bound_today.as_str()),
            promise_status_label(p.status),
            opt_text(&p.due),
            esc(&yuan(p.compensation_paid)),
        );
    }
}

const PROMISE_HEAD: &str = "<thead><tr><th scope=\"col\">承诺 promise</th><th scope=\"col\">作出机关 body</th><th scope=\"col\">现承担机关 bound today</th><th scope=\"col\">状态 status</th><th scope=\"col\">期限 due</th><th scope=\"col\" class=\"num\">已付补偿 compensation paid</th></tr></thead>";

/// A list's count for its caption: all of it, or how many of how many are
/// shown and where the rest are.
fn shown_of(shown: usize, total: usize, rest: &str) -> String {
    if shown == total {
        total.to_string()
    } else {
        format!(
            "{total}; the first {shown} shown, all of them paged by the API: <code>GET {}</code>",
            esc(rest)
        )
    }
}

/// Overdue cases and overdue promises (supervisors); each list is given
/// with how many there are in all (the page shows at most the page limit of
/// each).
pub fn overdue(
    page: &Page,
    (cases, cases_total): (&[CaseView], usize),
    (promises, promises_total): (&[PromiseLine], usize),
) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<table id=\"overdue-cases\">\n<caption>逾期案件 overdue cases ({})</caption>",
        shown_of(
            cases.len(),
            cases_total,
            &with_as_of(page, "/v1/cases?overdue=true")
        )
    );
    b.push_str("<thead><tr><th scope=\"col\">案件 case</th><th scope=\"col\">企业 enterprise</th><th scope=\"col\">城市 city</th><th scope=\"col\">责任机关 responsible</th><th scope=\"col\">受理日期 filed</th><th scope=\"col\">答复期限 reply due</th><th scope=\"col\">结果期限 result due</th><th scope=\"col\">逾期 overdue</th></tr></thead>\n<tbody>\n");
    if cases.is_empty() {
        b.push_str("<tr><td colspan=\"8\" class=\"muted\">无 none</td></tr>\n");
    }
    for c in cases {
        let _ = writeln!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            case_link(page, c.id.as_str()),
            enterprise_link(page, c.enterprise.as_str()),
            esc(c.city.as_str()),
            opt_text(&c.responsible),
            esc(&c.filed.to_string()),
            due(&c.first_reply_due),
            due(&c.result_due),
            flags(&c.overdue, "flag"),
        );
    }
    b.push_str("</tbody>\n</table>\n");

    let _ = writeln!(
        b,
        "<table id=\"overdue-promises\">\n<caption>逾期承诺 overdue promises ({})</caption>\n{PROMISE_HEAD}\n<tbody>",
        shown_of(promises.len(), promises_total, &with_as_of(page, "/v1/promises?status=overdue"))
    );
    promise_rows(&mut b, promises);
    b.push_str("</tbody>\n</table>\n");
    layout(page, &Here::at("/overdue"), &b)
}

/// One case: its fields, deadlines, flags and every record of it with a link
/// to the record's inclusion proof in the checkpoint shown.
pub fn case(page: &Page, view: &CaseView, timeline: &[TimelineLine]) -> String {
    let mut b = String::new();
    b.push_str("<dl class=\"fields\">\n");
    let mut field = |name: &str, value: String| {
        let _ = writeln!(b, "<dt>{name}</dt><dd>{value}</dd>");
    };
    field("案件 case", esc(view.id.as_str()));
    field("状态 state", state_label(view.state).to_string());
    field(
        "程序 procedure",
        match view.procedure {
            Some(p) => esc(&p.name()),
            None => "<span class=\"muted\">未定 not set</span>".to_string(),
        },
    );
    field(
        "企业 enterprise",
        enterprise_link(page, view.enterprise.as_str()),
    );
    field("城市 city", esc(view.city.as_str()));
    field("类别 category", esc(&view.category.name()));
    field("紧急 urgent", yes_no(view.urgent).to_string());
    field("重大 major", yes_no(view.major).to_string());
    field("受理日期 filed", esc(&view.filed.to_string()));
    field("责任机关 responsible body", opt_text(&view.responsible));
    field(
        "责任链 responsibility chain",
        match &view.chain {
            Some(c) => format!(
                "{}: 一把手 head {} · 分管领导 deputy {} · 责任处室 division {} · 经办人 handler {} <span class=\"muted\">(since {}, seq {})</span>",
                esc(c.body.as_str()),
                esc(c.head.as_str()),
                esc(c.deputy.as_str()),
                esc(c.division.as_str()),
                esc(c.handler.as_str()),
                esc(&c.at.occurred_at.to_string()),
                c.at.seq
            ),
            None => "<span class=\"muted\">未指定 not assigned</span>".to_string(),
        },
    );
    field("首次答复期限 first reply due", due(&view.first_reply_due));
    field("首次答复 first reply", opt_text(&view.first_reply_at));
    field("办理结果期限 result due", due(&view.result_due));
    field("办理结果 result", opt_text(&view.result_at));
    field(
        "延期 extended",
        match &view.extended_at {
            Some(t) => format!("{} ({})", yes_no(view.extended), esc(&t.to_string())),
            None => yes_no(view.extended).to_string(),
        },
    );
    field(
        "依法延期 lawfully extended",
        yes_no(view.lawfully_extended).to_string(),
    );
    field(
        "进展告知期限 progress notices due",
        if view.progress_notices_due.is_empty() {
            "<span class=\"muted\">—</span>".to_string()
        } else {
            let items: Vec<String> = view.progress_notices_due.iter().map(due).collect();
            items.join(", ")
        },
    );
    field(
        "已发进展告知 progress notices sent",
        if view.progress_notices_sent.is_empty() {
            "<span class=\"muted\">—</span>".to_string()
        } else {
            let items: Vec<String> = view
                .progress_notices_sent
                .iter()
                .map(|t| esc(&t.to_string()))
                .collect();
            items.join(", ")
        },
    );
    field("延期上限 extension cap", due(&view.cap));
    field("逾期 overdue", flags(&view.overdue, "flag"));
    field("迟延完成 done late", flags(&view.late, "flag late"));
    b.push_str("</dl>\n");

    let _ = writeln!(
        b,
        "<table id=\"timeline\">\n<caption>记录 records of this case ({}); 每条可验证 each links to its inclusion proof in the checkpoint of size {}</caption>",
        timeline.len(),
        page.checkpoint_size
    );
    b.push_str("<thead><tr><th scope=\"col\" class=\"num\">seq</th><th scope=\"col\">记录时间 recorded at</th><th scope=\"col\">发生时间 occurred at</th><th scope=\"col\">事件 kind</th><th scope=\"col\">签名密钥 actor</th><th scope=\"col\">代表 acting for</th><th scope=\"col\">证明 proof</th></tr></thead>\n<tbody>\n");
    if timeline.is_empty() {
        b.push_str("<tr><td colspan=\"7\" class=\"muted\">无 none</td></tr>\n");
    }
    for t in timeline {
        let proof = format!("/proof/{}?size={}", t.seq, page.checkpoint_size);
        let _ = writeln!(
            b,
            "<tr><th scope=\"row\" class=\"num\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a class=\"proof-link\" href=\"{}\">包含证明 proof</a></td></tr>",
            t.seq,
            esc(&t.recorded_at),
            esc(&t.occurred_at),
            esc(&t.kind),
            key_id(&t.actor),
            esc(&t.acting_for),
            esc(&proof),
        );
    }
    b.push_str("</tbody>\n</table>\n");
    let here = Here::at(format!("/case/{}", path_seg(view.id.as_str())));
    layout(page, &here, &b)
}

/// An enterprise's file: its cases, the promises made to it and the
/// inspections it received.
pub fn enterprise(page: &Page, view: &EnterpriseView) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<dl class=\"fields\"><dt>企业 enterprise</dt><dd>{} <span class=\"muted\">({})</span></dd><dt>城市 city</dt><dd>{}</dd></dl>",
        esc(view.name.as_str()),
        esc(view.id.as_str()),
        esc(view.city.as_str())
    );

    let _ = writeln!(
        b,
        "<table id=\"enterprise-cases\">\n<caption>案件 cases ({})</caption>",
        view.cases.len()
    );
    b.push_str("<thead><tr><th scope=\"col\">案件 case</th><th scope=\"col\">状态 state</th><th scope=\"col\">受理日期 filed</th><th scope=\"col\">责任机关 responsible</th><th scope=\"col\">逾期 overdue</th><th scope=\"col\">迟延完成 done late</th></tr></thead>\n<tbody>\n");
    if view.cases.is_empty() {
        b.push_str("<tr><td colspan=\"6\" class=\"muted\">无 none</td></tr>\n");
    }
    for c in &view.cases {
        let _ = writeln!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            case_link(page, c.id.as_str()),
            state_label(c.state),
            esc(&c.filed.to_string()),
            opt_text(&c.responsible),
            flags(&c.overdue, "flag"),
            flags(&c.late, "flag late"),
        );
    }
    b.push_str("</tbody>\n</table>\n");

    let _ = writeln!(
        b,
        "<table id=\"enterprise-promises\">\n<caption>对其作出的承诺 promises made to it ({})</caption>\n{PROMISE_HEAD}\n<tbody>",
        view.promises.len()
    );
    promise_rows(&mut b, &view.promises);
    b.push_str("</tbody>\n</table>\n");

    let _ = writeln!(
        b,
        "<table id=\"enterprise-inspections\">\n<caption>接受的检查 inspections received ({})</caption>",
        view.inspections.len()
    );
    b.push_str("<thead><tr><th scope=\"col\">检查 inspection</th><th scope=\"col\">部门 department</th><th scope=\"col\">日期 conducted</th><th scope=\"col\">合规 compliant</th><th scope=\"col\">标记 flags</th><th scope=\"col\" class=\"num\">本年第几次 yearly count</th></tr></thead>\n<tbody>\n");
    if view.inspections.is_empty() {
        b.push_str("<tr><td colspan=\"6\" class=\"muted\">无 none</td></tr>\n");
    }
    for i in &view.inspections {
        let _ = writeln!(
            b,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
            esc(i.id.as_str()),
            esc(i.department.as_str()),
            opt_text(&i.conducted),
            yes_no(i.compliant),
            inspection_flags(&i.flags),
            i.yearly_count,
        );
    }
    b.push_str("</tbody>\n</table>\n");
    let here = Here::at(format!("/enterprise/{}", path_seg(view.id.as_str())));
    layout(page, &here, &b)
}

/// An inclusion proof of record `seq` in the tree of `size` records, with the
/// server's verdict and how to check it independently.
pub fn proof(
    page: &Page,
    seq: u64,
    size: u64,
    leaf_hash_hex: &str,
    path_hex: &[String],
    root_hex: &str,
    verified: bool,
) -> String {
    let mut b = String::new();
    if verified {
        b.push_str("<p id=\"proof-verdict\" class=\"ok\" role=\"status\">verified: the record is included in the checkpoint's tree</p>\n");
    } else {
        b.push_str("<p id=\"proof-verdict\" class=\"bad\" role=\"alert\">NOT verified</p>\n");
    }
    b.push_str("<dl class=\"fields\">\n");
    let _ = writeln!(b, "<dt>记录 record seq</dt><dd>{seq}</dd>");
    let _ = writeln!(b, "<dt>树大小 tree size</dt><dd>{size}</dd>");
    let _ = writeln!(
        b,
        "<dt>叶哈希 leaf hash</dt><dd><code id=\"leaf-hash\">{}</code></dd>",
        esc(leaf_hash_hex)
    );
    let _ = writeln!(
        b,
        "<dt>根哈希 root</dt><dd><code id=\"root\">{}</code></dd>",
        esc(root_hex)
    );
    b.push_str("</dl>\n");
    let _ = writeln!(
        b,
        "<h2>审计路径 audit path ({} hashes)</h2>",
        path_hex.len()
    );
    if path_hex.is_empty() {
        b.push_str("<p class=\"muted\">空路径 empty path (a tree of one record)</p>\n");
    } else {
        b.push_str("<ol id=\"audit-path\">\n");
        for h in path_hex {
            let _ = writeln!(b, "<li><code>{}</code></li>", esc(h));
        }
        b.push_str("</ol>\n");
    }
    if size != page.checkpoint_size {
        let _ = writeln!(
            b,
            "<p class=\"bad\">注意 note: this proof is for tree size {size}, the checkpoint shown has tree size {}.</p>",
            page.checkpoint_size
        );
    }
    b.push_str("<h2>签名检查点 signed checkpoint</h2>\n");
    if page.checkpoint_note.trim().is_empty() {
        b.push_str("<p class=\"muted\">无 none</p>\n");
    } else {
        let _ = writeln!(
            b,
            "<pre id=\"proof-checkpoint\">{}</pre>",
            esc(page.checkpoint_note)
        );
    }
    let json = format!("/v1/proof/inclusion?seq={seq}&size={size}");
    let _ = writeln!(
        b,
        "<h2>自行验证 check it yourself</h2>\n<pre>ledger proof inclusion --data DIR --seq {seq} --size {size}</pre>\n<p>{} · {}</p>",
        link(&json, "JSON"),
        link(&with_as_of(page, "/"), "返回 back")
    );
    let here = Here::at(format!("/proof/{seq}")).keep("size", size.to_string());
    layout(page, &here, &b)
}

/// An error page.
pub fn error(page: &Page, status: u16, title: &str, detail: &str) -> String {
    let mut b = String::new();
    let _ = writeln!(
        b,
        "<p id=\"error-status\"><strong>{status}</strong> {}</p>\n<p id=\"error-detail\">{}</p>",
        esc(title),
        esc(detail)
    );
    let _ = writeln!(
        b,
        "<p>{}</p>",
        link(&with_as_of(page, "/"), "返回首页 back to the ranking")
    );
    layout(page, &Here::at(""), &b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::time::{Date, OffsetTime};
    use events::vocab::{Category, Id, Text};

    fn page<'a>() -> Page<'a> {
        Page {
            title: "测试 <title>",
            signed_in: None,
            as_of: None,
            size: 10,
            checkpoint_size: 12,
            checkpoint_note: "ledger.example/log\n12\nabc=\n\n— key sig<&>\n",
            at: "2006-04-20T00:00:00+08:00",
        }
    }

    fn id(s: &str) -> Id {
        Id::new(s).expect("id")
    }

    fn row(city: &str, name: &str, score: u64, rank: u32) -> RankRow {
        RankRow {
            city: id(city),
            name: Text::new(name).expect("text"),
            score_permille: score,
            closure: Ratio::new(1, 4),
            rank,
            top_three: rank <= 3,
            award_eligible: true,
            ineligible_because: None,
        }
    }

    fn date(s: &str) -> Date {
        Date::parse(s).expect("date")
    }

    fn case_view(id_s: &str) -> CaseView {
        CaseView {
            id: id(id_s),
            state: CaseState::InProgress,
            procedure: None,
            enterprise: id("taizinai"),
            city: id("zhuzhou"),
            category: Category::ArbitraryFees,
            urgent: false,
            major: true,
            filed: date("2006-02-24"),
            responsible: Some(id("zz-office")),
            chain: None,
            first_reply_due: Due {
                date: Some(date("2006-03-01")),
                unknown: None,
            },
            first_reply_at: None,
            result_due: Due {
                date: None,
                unknown: Some("2027-01-14 is beyond the loaded calendar <2026>".into()),
            },
            result_at: None,
            extended: false,
            extended_at: None,
            lawfully_extended: false,
            progress_notices_due: Vec::new(),
            progress_notices_sent: vec![
                OffsetTime::parse("2006-03-02T09:00:00+08:00").expect("time")
            ],
            cap: Due {
                date: Some(date("2006-08-24")),
                unknown: None,
            },
            overdue: vec![Overdue::Reply],
            late: Vec::new(),
            timeline: Vec::new(),
        }
    }

    #[test]
    fn an_overdue_list_cut_at_the_page_limit_says_how_many_there_are() {
        let cases = [case_view("c1"), case_view("c2")];
        let all = overdue(&page(), (&cases, 2), (&[], 0));
        assert!(all.contains("overdue cases (2)</caption>"), "{all}");
        assert!(all.contains("overdue promises (0)</caption>"), "{all}");
        let cut = overdue(&page(), (&cases, 1234), (&[], 0));
        assert!(
            cut.contains(
                "overdue cases (1234; the first 2 shown, all of them paged by the API: \
                 <code>GET /v1/cases?overdue=true</code>)</caption>"
            ),
            "{cut}"
        );
        // As of a past moment, the API's list is of the same moment.
        let past = Page {
            as_of: Some("2006-03-31"),
            ..page()
        };
        let cut = overdue(&past, (&cases, 1234), (&[], 0));
        assert!(
            cut.contains("<code>GET /v1/cases?overdue=true&amp;as_of=2006-03-31</code>"),
            "{cut}"
        );
    }

    #[test]
    fn esc_escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("株洲市 plain"), "株洲市 plain");
    }

    #[test]
    fn path_seg_keeps_only_unreserved() {
        assert_eq!(path_seg("c-1._~Z9"), "c-1._~Z9");
        assert_eq!(path_seg("a/b:c d"), "a%2Fb%3Ac%20d");
        assert_eq!(path_seg("株"), "%E6%A0%AA");
        assert_eq!(path_seg("?#&=\"<"), "%3F%23%26%3D%22%3C");
    }

    #[test]
    fn permille_and_ratio_use_integers() {
        assert_eq!(permille(873), "87.3");
        assert_eq!(permille(1000), "100.0");
        assert_eq!(permille(5), "0.5");
        assert_eq!(permille(0), "0.0");
        assert_eq!(ratio(&Ratio::new(1, 3)), "1/3 (33.3%)");
        assert_eq!(ratio(&Ratio::new(0, 0)), "0/0 (—)");
    }

    #[test]
    fn index_escapes_names_and_draws_a_bar_per_city() {
        let rows = vec![
            row("zhuzhou", "株洲市 <b>", 873, 1),
            row("changsha", "长沙市 & \"x\"", 305, 2),
        ];
        let html = index(&page(), 2006, &[2005, 2006], &rows, "score");
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.contains("<meta charset=\"utf-8\">"));
        assert!(html.contains("Noto Sans CJK SC"));
        assert!(html.contains("株洲市 &lt;b&gt;"));
        assert!(html.contains("长沙市 &amp; &quot;x&quot;"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("id=\"ranking\""));
        assert!(html.contains("id=\"top-three\""));
        assert!(html.contains("<svg id=\"chart\" role=\"img\""));
        assert_eq!(html.matches("<rect").count(), 2);
        // 873‰ of a 440 px bar, floored; 305‰ likewise.
        assert!(html.contains("width=\"384\""));
        assert!(html.contains("width=\"134\""));
        assert!(html.contains("87.3") && html.contains("30.5"));
        assert!(html.contains("href=\"/?year=2005&amp;sort=score\""));
        assert!(html.contains("href=\"/?year=2006&amp;sort=name\""));
        assert!(html.contains("aria-sort=\"descending\""));
        assert!(html.contains("<th scope=\"col\""));
        // Provenance: records reflected, covered (12 ≥ 10), the note escaped.
        assert!(html.contains("reflects records 0..10"));
        assert!(html.contains("class=\"covered\""));
        assert!(html.contains("sig&lt;&amp;&gt;"));
        assert!(html.contains("<input type=\"date\" id=\"as_of\" name=\"as_of\" value=\"\">"));
        assert!(html.contains("href=\"/login\""));
        assert!(!html.contains("/overdue"));
        assert!(html.contains("测试 &lt;title&gt;"));
    }

    #[test]
    fn signed_in_pages_link_overdue_and_keep_the_as_of_date() {
        let p = Page {
            signed_in: Some("supervisor"),
            as_of: Some("2006-04-01\"><script>"),
            checkpoint_size: 9,
            ..page()
        };
        let html = overdue(&p, (&[case_view("c/1")], 1), (&[], 0));
        assert!(html.contains("action=\"/logout\""));
        assert!(html.contains("id=\"overdue-cases\"") && html.contains("id=\"overdue-promises\""));
        assert!(html.contains("href=\"/case/c%2F1?as_of=2006-04-01%22%3E%3Cscript%3E\""));
        assert!(html.contains("href=\"/enterprise/taizinai?as_of="));
        assert!(!html.contains("<script>"));
        assert!(html.contains("value=\"2006-04-01&quot;&gt;&lt;script&gt;\""));
        assert!(html.contains("class=\"not-covered\""), "9 < 10");
    }

    #[test]
    fn case_page_shows_unknown_due_dates_and_proof_links() {
        let line = TimelineLine {
            seq: 7,
            recorded_at: "2006-02-24T10:00:00.000Z".into(),
            occurred_at: "2006-02-24T18:00:00+08:00".into(),
            kind: "case_referred".into(),
            actor: "0123456789abcdef0123".into(),
            acting_for: "zz-office <centre>".into(),
            statement_id: "s".into(),
            proof: "ledger proof inclusion --data /x --seq 7 --size 12".into(),
        };
        let html = case(&page(), &case_view("c1"), &[line]);
        assert!(html.contains("id=\"timeline\""));
        assert!(html.contains("class=\"proof-link\" href=\"/proof/7?size=12\""));
        assert!(html.contains("title=\"0123456789abcdef0123\">0123456789ab…"));
        assert!(html.contains("zz-office &lt;centre&gt;"));
        assert!(html.contains("beyond the loaded calendar &lt;2026&gt;"));
        assert!(html.contains("action=\"/case/c1\""));
    }

    #[test]
    fn enterprise_login_proof_and_error_pages() {
        let v = EnterpriseView {
            id: id("taizinai"),
            name: Text::new("太子奶集团").expect("text"),
            city: id("zhuzhou"),
            cases: vec![case_view("c1")],
            promises: Vec::new(),
            inspections: Vec::new(),
        };
        let html = enterprise(&page(), &v);
        assert!(html.contains("太子奶集团") && html.contains("href=\"/case/c1\""));

        let html = login(&page(), Some("wrong <token>"));
        assert!(html.contains("id=\"login-error\"") && html.contains("wrong &lt;token&gt;"));
        assert!(html.contains("name=\"token\"") && html.contains("type=\"password\""));
        assert!(html.contains("访问令牌 / access token"));

        let path = vec!["aa".to_string(), "bb".to_string()];
        let html = proof(&page(), 7, 12, "ff", &path, "ee", true);
        assert!(html.contains(
            "id=\"proof-verdict\" class=\"ok\" role=\"status\">verified: the record is included in the checkpoint's tree<"
        ));
        assert!(html.contains("href=\"/v1/proof/inclusion?seq=7&amp;size=12\""));
        assert!(html.contains("ledger proof inclusion --data DIR --seq 7 --size 12"));
        let html = proof(&page(), 7, 12, "ff", &path, "ee", false);
        assert!(html.contains(">NOT verified<"));

        let html = error(&page(), 404, "未找到 <not found>", "no case \"x\"");
        assert!(html.contains("404") && html.contains("&lt;not found&gt;"));
        assert!(html.contains("no case &quot;x&quot;"));
    }
}
