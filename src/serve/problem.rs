//! RFC 9457 problem details: every error of the HTTP service is
//! `application/problem+json` carrying a stable code (FORMAT.md §19).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use events::codes::{Code, Rejection};

/// Codes of the HTTP layer itself (the ledger's own codes come from
/// [`events::codes::Code`]). Stable: listed in FORMAT.md.
pub mod http_codes {
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const BODY_TOO_LARGE: &str = "body_too_large";
    pub const BODY_TIMEOUT: &str = "body_timeout";
    pub const OVERLOADED: &str = "overloaded";
    pub const TIMEOUT: &str = "timeout";
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const INTERNAL: &str = "internal";
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: String,
    pub title: &'static str,
    pub detail: String,
    /// What went wrong inside, for an internal error: logged with the
    /// request id (see [`InternalDetail`]), never sent to the client.
    pub internal: Option<String>,
}

/// The hidden detail of an internal error, carried on the response for the
/// access-log middleware to log next to the request id.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

/// What a client is told about an internal error.
pub const INTERNAL_DETAIL: &str =
    "an internal error occurred; the server's log has its details under this response's x-request-id";

impl Problem {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            code: code.to_string(),
            title: status.canonical_reason().unwrap_or("Error"),
            detail: detail.into(),
            internal: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, http_codes::BAD_REQUEST, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, http_codes::NOT_FOUND, detail)
    }
    /// An operating error inside the service (a read that failed, a damaged
    /// frame): the client gets a generic problem, the log gets `detail`.
    pub fn internal(detail: impl Into<String>) -> Problem {
        let mut p = Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            http_codes::INTERNAL,
            INTERNAL_DETAIL,
        );
        p.internal = Some(detail.into());
        p
    }

    /// The HTTP status of a ledger rejection.
    pub fn status_of(code: Code) -> StatusCode {
        use Code::*;
        match code {
            RecordTooLarge | BatchTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            IdConflict => StatusCode::CONFLICT,
            BadSignature | UnknownKey | RevokedKey | KeyNotAuthorised | NotHolder
            | RegistryConflict | UnknownParty | RuleViolated => StatusCode::UNPROCESSABLE_ENTITY,
            StorageFailed | Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn from_rejection(r: &Rejection) -> Problem {
        Problem::new(
            Problem::status_of(r.code),
            r.code.as_str(),
            r.message.clone(),
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "type": format!("https://ledger.invalid/problems/{}", self.code),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        })
    }
}

impl From<crate::ledger::LedgerError> for Problem {
    /// The reader's mistakes are 400s; anything else is the ledger's, answered
    /// as a generic 500 (the detail goes to the log, not to the client).
    fn from(e: crate::ledger::LedgerError) -> Problem {
        if e.is_request_error() {
            Problem::bad_request(e.to_string())
        } else {
            Problem::internal(e.to_string())
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.to_json()).unwrap_or_default();
        let mut r = (self.status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(d) = self.internal {
            r.extensions_mut().insert(InternalDetail(d));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ledger\""),
            );
        }
        r
    }
}

/// A path parameter as text, refused with a problem (400, `bad_request`)
/// rather than axum's plain-text answer when it is not valid UTF-8 once
/// percent-decoded (`/v1/cases/%FF`).
pub struct PathText(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathText {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(s)) => Ok(PathText(s)),
            Err(e) => Err(Problem::bad_request(format!(
                "the path does not name anything: {}",
                e.body_text()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_tells_the_client_nothing_of_its_cause() {
        let p =
            Problem::internal("reading /srv/ledger/log/000.seg byte 7: frame checksum mismatch");
        let body = p.to_json().to_string();
        assert!(!body.contains("/srv/ledger"), "{body}");
        assert!(body.contains("x-request-id"), "{body}");
        let r = p.into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let logged = r
            .extensions()
            .get::<InternalDetail>()
            .expect("kept for the log");
        assert!(logged.0.contains("frame checksum mismatch"));
    }
}
