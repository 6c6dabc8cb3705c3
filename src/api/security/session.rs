//! Back-office sessions and the cookies that carry them, kept in memory: a
//! restart of the agent logs the manager out, which on a till is a feature.
//!
//! A session id is 32 random bytes; only its SHA-256 is the key here, and
//! each session has its own CSRF token, which every state-changing request
//! made with the session must echo (header `X-CSRF-Token` or form field
//! `csrf_token`). Before login, forms carry a double-submit token: the
//! `possync_login` cookie and the form's `csrf_token` must match.
//! Reusable by any later back-office page: [`Sessions`] for the state,
//! [`Admin`] (with its CSRF token) as a request extension, the cookie helpers below.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie.
pub const SESSION_COOKIE: &str = "possync_session";
/// The pre-login double-submit cookie.
pub const LOGIN_COOKIE: &str = "possync_login";
/// The header a script sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The form field forms send it in.
pub const CSRF_FIELD: &str = "csrf_token";
/// Sessions kept at most; the least recently used goes first.
const MAX_SESSIONS: usize = 64;

/// A logged-in manager, as a request extension.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The session's CSRF token, for the forms and scripts of the page.
    pub csrf: String,
}

/// Random URL-safe text of 32 bytes.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether two secrets are equal, in constant time for equal lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

struct Entry {
    csrf: String,
    last_seen: Instant,
    /// When the password the session logged in with was set (unix ms): a
    /// reset ends every session opened before it.
    password_set_at: i64,
}

/// The live sessions.
pub struct Sessions {
    idle: Duration,
    map: Mutex<HashMap<[u8; 32], Entry>>,
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// Sessions that end after `idle` without a request.
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            idle,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a session; returns its id (the cookie's value) and the manager.
    pub fn open(&self, password_set_at: i64) -> (String, Admin) {
        let id = random_token();
        let csrf = random_token();
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, e| now.duration_since(e.last_seen) < self.idle);
        while map.len() >= MAX_SESSIONS {
            let Some(oldest) = map.iter().min_by_key(|(_, e)| e.last_seen).map(|(k, _)| *k) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(
            key(&id),
            Entry {
                csrf: csrf.clone(),
                last_seen: now,
                password_set_at,
            },
        );
        (id, Admin { csrf })
    }

    /// The session `id` names, if it is live and was opened with the
    /// current password; a request on it counts as activity. An expired or
    /// outdated session is removed.
    pub fn resolve(&self, id: &str, password_set_at: Option<i64>) -> Option<Admin> {
        let now = Instant::now();
        let k = key(id);
        let mut map = self.lock();
        let entry = map.get_mut(&k)?;
        let live = now.duration_since(entry.last_seen) < self.idle
            && Some(entry.password_set_at) == password_set_at;
        if !live {
            map.remove(&k);
            return None;
        }
        entry.last_seen = now;
        Some(Admin {
            csrf: entry.csrf.clone(),
        })
    }

    /// Ends the session `id` (logout).
    pub fn end(&self, id: &str) {
        self.lock().remove(&key(id));
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, path `/`, `Secure`
/// when asked; no expiry (a browser session) unless `max_age_secs`.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_secs: Option<u64>) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age_secs {
        text.push_str(&format!("; Max-Age={age}"));
    }
    // Names are ours and values base64url: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear_cookie(name: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", secure, Some(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_resolves_until_ended_and_only_with_its_password() {
        let s = Sessions::new(Duration::from_secs(60));
        let (id, admin) = s.open(7);
        assert_eq!(s.resolve(&id, Some(7)).unwrap().csrf, admin.csrf);
        assert!(s.resolve("nope", Some(7)).is_none());
        s.end(&id);
        assert!(s.resolve(&id, Some(7)).is_none());
        let (id, _) = s.open(7);
        assert!(s.resolve(&id, Some(8)).is_none(), "a reset ends it");
        assert!(s.resolve(&id, Some(7)).is_none(), "and it stays ended");
    }

    #[test]
    fn an_idle_session_expires() {
        let s = Sessions::new(Duration::ZERO);
        let (id, _) = s.open(1);
        assert!(s.resolve(&id, Some(1)).is_none());
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; possync_session_x=2"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("possync_session=3"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("3"));
        assert_eq!(cookie(&h, "b"), None);
    }

    #[test]
    fn the_session_cookie_is_http_only_and_strict() {
        let c = set_cookie(SESSION_COOKIE, "v", true, None);
        assert_eq!(
            c.to_str().unwrap(),
            "possync_session=v; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
    }
}
