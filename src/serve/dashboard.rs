//! The dashboard: server-rendered HTML (see [`super::html`]). The public page
//! at `/` is the cities' ranking as the province publishes it (R24); signing
//! in exchanges a token for an HttpOnly, SameSite=Strict session cookie and
//! opens the overdue lists, case pages (each record linked to its inclusion
//! proof) and enterprise pages. Every page takes `as_of=YYYY-MM-DD` and says
//! which records it reflects and whether the checkpoint shown covers them.

use super::api::{self, Ctx, ReadQ};
use super::auth::Role;
use super::html::{self, Page};
use super::problem::{PathText, Problem};
use super::{AppState, Session, SESSION_TTL};
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use events::time::Timestamp;
use events::vocab::Id;
use projections::views;
use serde::Deserialize;
use std::time::Instant;

pub const COOKIE: &str = "ledger_session";

/// Bytes of a sign-in form (a token is under 100).
const LOGIN_BODY_MAX: usize = 4096;

/// Sessions one token may hold at once.
const SESSIONS_PER_TOKEN: usize = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route(
            "/login",
            get(login_form)
                .post(login)
                .layer(axum::extract::DefaultBodyLimit::max(LOGIN_BODY_MAX)),
        )
        .route("/logout", post(logout))
        .route("/overdue", get(overdue))
        .route("/case/{id}", get(case))
        .route("/enterprise/{id}", get(enterprise))
        .route("/proof/{seq}", get(proof))
}

/// The live session named by the request's cookie, if its token is still valid.
pub fn session(app: &AppState, headers: &HeaderMap) -> Option<Session> {
    let cookies = headers.get(header::COOKIE)?.to_str().ok()?;
    let sid = cookies
        .split(';')
        .map(str::trim)
        .find_map(|c| c.strip_prefix(COOKIE).and_then(|r| r.strip_prefix('=')))?;
    let mut sessions = app.sessions.lock().ok()?;
    let s = sessions.get(sid)?.clone();
    // A revoked token ends its sessions at once.
    if s.expires < Instant::now() || app.tokens.check(&s.token_id).is_err() {
        sessions.remove(sid);
        return None;
    }
    Some(s)
}

fn html_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[derive(Deserialize, Default, Clone)]
struct PageQ {
    as_of: Option<String>,
    #[serde(default, deserialize_with = "super::api::lenient")]
    year: Option<i32>,
    sort: Option<String>,
    #[serde(default, deserialize_with = "super::api::lenient")]
    size: Option<u64>,
}

impl PageQ {
    fn read(&self) -> ReadQ {
        ReadQ {
            as_of_seq: None,
            as_of: self.as_of.clone().filter(|s| !s.is_empty()),
            at: None,
        }
    }
}

/// Renders `f`'s page, or the error page for its problem.
fn page_of(
    ctx: &Ctx,
    title: &str,
    signed_in: Option<Role>,
    as_of: Option<&str>,
    at: &str,
    f: impl FnOnce(&Page) -> String,
) -> String {
    let (cs, note) = ctx
        .checkpoint
        .as_ref()
        .map_or((0, ""), |(s, n)| (*s, n.as_str()));
    let page = Page {
        title,
        signed_in: signed_in.map(Role::as_str),
        as_of,
        size: ctx.size,
        checkpoint_size: cs,
        checkpoint_note: note,
        at,
    };
    f(&page)
}

/// A page's query, or the error page saying which parameter is wrong: a bad
/// value is never dropped in favour of the defaults (an `as_of` the reader
/// asked for would silently become the live view).
fn page_query<T>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, Problem> {
    q.map(|Query(q)| q)
        .map_err(|e| Problem::bad_request(format!("the query is not valid: {}", e.body_text())))
}

fn error_page(app: &AppState, p: Problem, signed_in: Option<Role>) -> Response {
    let h = app.ledger.head();
    let page = Page {
        title: "错误 error",
        signed_in: signed_in.map(Role::as_str),
        as_of: None,
        size: h.size,
        checkpoint_size: h.size,
        checkpoint_note: &h.checkpoint,
        at: "",
    };
    let mut r = html_response(
        p.status,
        html::error(&page, p.status.as_u16(), p.title, &p.detail),
    );
    // As for the API's problems: the server log gets what went wrong inside.
    if let Some(d) = p.internal {
        r.extensions_mut().insert(super::problem::InternalDetail(d));
    }
    r
}

async fn index(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<PageQ>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let who = session(&app, &headers).map(|s| s.role);
    let q = match page_query(q) {
        Ok(q) => q,
        Err(p) => return error_page(&app, p, who),
    };
    let read = q.read();
    let app2 = app.clone();
    let q2 = q.clone();
    let r = api::with_read(&app, &read, move |m, ctx| {
        let (year, at, mut rows) = api::ranking_of(&app2, m, ctx, q2.year, &ReadQ::default())?;
        let sort = q2.sort.clone().unwrap_or_else(|| "score".into());
        if sort == "name" {
            rows.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        }
        let last = ctx.last_recorded_at.shanghai_date().year();
        let mut years: Vec<i32> = m
            .evaluation_feedback
            .values()
            .flat_map(|by_year| by_year.keys().filter_map(|y| i32::try_from(*y).ok()))
            .chain([year, last])
            .collect();
        years.sort_unstable();
        years.dedup();
        Ok((year, at, rows, sort, years))
    })
    .await;
    match r {
        Ok(((year, at, rows, sort, years), ctx)) => {
            let at = at.to_string();
            html_response(
                StatusCode::OK,
                page_of(
                    &ctx,
                    "城市排名 ranking",
                    who,
                    q.as_of.as_deref(),
                    &at,
                    |p| html::index(p, year, &years, &rows, &sort),
                ),
            )
        }
        Err(p) => error_page(&app, p, who),
    }
}

async fn login_form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let who = session(&app, &headers).map(|s| s.role);
    let h = app.ledger.head();
    let ctx = Ctx {
        size: h.size,
        last_recorded_at: h.last_recorded_at,
        checkpoint: Some((h.size, h.checkpoint.clone())),
    };
    html_response(
        StatusCode::OK,
        page_of(&ctx, "登录 sign in", who, None, "", |p| {
            html::login(p, None)
        }),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(app): State<AppState>,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let h = app.ledger.head();
    let ctx = Ctx {
        size: h.size,
        last_recorded_at: h.last_recorded_at,
        checkpoint: Some((h.size, h.checkpoint.clone())),
    };
    let refuse = |msg: &str| {
        html_response(
            StatusCode::UNAUTHORIZED,
            page_of(&ctx, "登录 sign in", None, None, "", |p| {
                html::login(p, Some(msg))
            }),
        )
    };
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_page(
                &app,
                Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    super::problem::http_codes::BODY_TOO_LARGE,
                    format!("a sign-in form is at most {LOGIN_BODY_MAX} bytes"),
                ),
                None,
            )
        }
        Err(_) => return refuse("the form must carry a token"),
    };
    let token = f.token.trim().to_string();
    let role = match app.tokens.check(&token) {
        Ok(r) => r,
        Err(super::auth::Refusal::Revoked) => return refuse("this token was revoked"),
        Err(_) => return refuse("this token is not valid"),
    };
    let mut sid = [0u8; 32];
    if getrandom::getrandom(&mut sid).is_err() {
        return error_page(
            &app,
            Problem::internal("no randomness for a session id"),
            None,
        );
    }
    let sid = events::codec::hex(&sid);
    {
        let Ok(mut s) = app.sessions.lock() else {
            return error_page(&app, Problem::internal("session store unavailable"), None);
        };
        let now = Instant::now();
        s.retain(|_, v| v.expires > now);
        // One token holds at most SESSIONS_PER_TOKEN sessions (its oldest
        // gives way), so signing in again and again with one token cannot
        // fill the table for everyone else.
        let mine: Vec<(String, Instant)> = s
            .iter()
            .filter(|(_, v)| v.token_id == token)
            .map(|(k, v)| (k.clone(), v.expires))
            .collect();
        if mine.len() >= SESSIONS_PER_TOKEN {
            if let Some((oldest, _)) = mine.iter().min_by_key(|(_, e)| *e) {
                s.remove(oldest);
            }
        }
        if s.len() >= app.limits.sessions_max {
            return error_page(
                &app,
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    super::problem::http_codes::OVERLOADED,
                    "too many sessions are open; try again later",
                ),
                None,
            );
        }
        s.insert(
            sid.clone(),
            Session {
                role,
                token_id: token,
                expires: now + SESSION_TTL,
            },
        );
    }
    let mut r = Redirect::to("/overdue").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        SESSION_TTL.as_secs()
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn logout(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(cookies) = headers.get(header::COOKIE).and_then(|c| c.to_str().ok()) {
        if let Some(sid) = cookies
            .split(';')
            .map(str::trim)
            .find_map(|c| c.strip_prefix(COOKIE).and_then(|r| r.strip_prefix('=')))
        {
            if let Ok(mut s) = app.sessions.lock() {
                s.remove(sid);
            }
        }
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ledger_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

/// The signed-in role, or a redirect to the sign-in page.
fn signed_in(app: &AppState, headers: &HeaderMap) -> Result<Role, Redirect> {
    session(app, headers)
        .map(|s| s.role)
        .ok_or_else(|| Redirect::to("/login"))
}

/// A page for signed-in users: `compute` reads the model the page's as-of
/// asks for (judging lateness at its latest `recorded_at`) and gives the
/// page's title and data; `render` draws it. Not signed in: to `/login`; a
/// problem: the error page.
async fn signed_in_page<T, C, R>(
    app: AppState,
    headers: HeaderMap,
    q: Result<Query<PageQ>, axum::extract::rejection::QueryRejection>,
    compute: C,
    render: R,
) -> Response
where
    T: Send + 'static,
    C: FnOnce(
            &AppState,
            &projections::model::Model,
            &Ctx,
            Timestamp,
        ) -> Result<(String, T), Problem>
        + Send
        + 'static,
    R: FnOnce(&Page, &T) -> String,
{
    let who = match signed_in(&app, &headers) {
        Ok(r) => r,
        Err(r) => return r.into_response(),
    };
    let q = match page_query(q) {
        Ok(q) => q,
        Err(p) => return error_page(&app, p, Some(who)),
    };
    let app2 = app.clone();
    let r = api::with_read(&app, &q.read(), move |m, ctx| {
        let at = ctx.last_recorded_at;
        compute(&app2, m, ctx, at).map(|(title, t)| (at, title, t))
    })
    .await;
    match r {
        Ok(((at, title, t), ctx)) => html_response(
            StatusCode::OK,
            page_of(
                &ctx,
                &title,
                Some(who),
                q.as_of.as_deref(),
                &at.to_string(),
                |p| render(p, &t),
            ),
        ),
        Err(p) => error_page(&app, p, Some(who)),
    }
}

fn id_param(what: &str, id: &str) -> Result<Id, Problem> {
    Id::new(id).map_err(|_| Problem::bad_request(format!("{id:?} is not {what} id")))
}

async fn overdue(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<PageQ>, axum::extract::rejection::QueryRejection>,
) -> Response {
    signed_in_page(
        app,
        headers,
        q,
        |app, m, _, at| {
            // Each list shows at most page_max rows and says how many
            // there are in all (the API pages through them).
            let shown = app.limits.page_max;
            let mut cases: Vec<views::CaseView> = Vec::new();
            let mut cases_total = 0usize;
            for v in m
                .cases
                .keys()
                .filter_map(|id| views::case_view(m, &app.calendar, id, at))
                .filter(|v| !v.overdue.is_empty())
            {
                if cases.len() < shown {
                    cases.push(v);
                }
                cases_total += 1;
            }
            let all_promises = views::promise_list(
                m,
                &app.calendar,
                Some(views::PromiseQuery::Overdue),
                None,
                at,
            );
            let promises_total = all_promises.len();
            let promises: Vec<views::PromiseLine> = all_promises
                .into_iter()
                .take(shown)
                .map(|p| views::PromiseLine {
                    id: p.id,
                    body: p.body,
                    body_bound_today: p.body_bound_today,
                    status: p.status,
                    due: p.due,
                    due_unknown: p.due_unknown,
                    compensation_paid: p.compensation_paid,
                })
                .collect();
            Ok((
                "逾期 overdue".to_string(),
                (cases, cases_total, promises, promises_total),
            ))
        },
        |p, (cases, cases_total, promises, promises_total)| {
            html::overdue(p, (cases, *cases_total), (promises, *promises_total))
        },
    )
    .await
}

async fn case(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathText(id): PathText,
    q: Result<Query<PageQ>, axum::extract::rejection::QueryRejection>,
) -> Response {
    signed_in_page(
        app,
        headers,
        q,
        move |app, m, ctx, at| {
            let case = id_param("a case", &id)?;
            let view = views::case_view(m, &app.calendar, &case, at).ok_or_else(|| {
                Problem::not_found(format!("no case {case} in the first {} records", ctx.size))
            })?;
            let proof_size = ctx.checkpoint.as_ref().map_or(ctx.size, |(s, _)| *s);
            let timeline = api::timeline_lines(app, m, &case, proof_size);
            Ok((format!("案件 case {}", view.id), (view, timeline)))
        },
        |p, (view, timeline)| html::case(p, view, timeline),
    )
    .await
}

async fn enterprise(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathText(id): PathText,
    q: Result<Query<PageQ>, axum::extract::rejection::QueryRejection>,
) -> Response {
    signed_in_page(
        app,
        headers,
        q,
        move |app, m, _, at| {
            let e = id_param("an enterprise", &id)?;
            let view = views::enterprise_view(m, &app.calendar, &e, at)
                .ok_or_else(|| Problem::not_found(format!("no enterprise {e}")))?;
            Ok((format!("企业 enterprise {}", view.name), view))
        },
        html::enterprise,
    )
    .await
}

/// An inclusion proof as a page (public, like the JSON proof).
async fn proof(
    State(app): State<AppState>,
    headers: HeaderMap,
    PathText(seq): PathText,
    q: Result<Query<PageQ>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let who = session(&app, &headers).map(|s| s.role);
    let q = match page_query(q) {
        Ok(q) => q,
        Err(p) => return error_page(&app, p, who),
    };
    let Ok(seq) = seq.parse::<u64>() else {
        return error_page(
            &app,
            Problem::bad_request(format!("{seq:?} is not a seq")),
            who,
        );
    };
    let v = match api::inclusion_json(&app, seq, q.size) {
        Ok(v) => v,
        Err(p) => return error_page(&app, p, who),
    };
    let size = v["size"].as_u64().unwrap_or(0);
    let note = v["checkpoint"].as_str().unwrap_or("").to_string();
    let path: Vec<String> = v["proof"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let h = app.ledger.head();
    let ctx = Ctx {
        size,
        last_recorded_at: h.last_recorded_at,
        checkpoint: Some((size, note)),
    };
    let title = format!("包含证明 inclusion proof {seq}");
    html_response(
        StatusCode::OK,
        page_of(&ctx, &title, who, None, "", |p| {
            html::proof(
                p,
                seq,
                size,
                v["leaf_hash"].as_str().unwrap_or(""),
                &path,
                v["root"].as_str().unwrap_or(""),
                v["verified_by_server"].as_bool().unwrap_or(false),
            )
        }),
    )
}
