//! The client-credentials grant: an app of the shop's own organisation
//! trades its client id and secret for an Admin API access token at
//! `POST https://{shop}/admin/oauth/access_token`. The token expires
//! (reportedly after 24 h; the exact figure is not published), no refresh
//! token is issued, and a new one is asked for the same way, so the agent
//! reads `expires_in` from each answer and renews well before it.

use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::upstream::UpstreamError;

/// The grant's path on the shop's domain.
pub const TOKEN_PATH: &str = "/admin/oauth/access_token";

/// Renew no later than this long before the token runs out.
const MIN_MARGIN: Duration = Duration::from_secs(60);

/// The request body, JSON as Shopify's own `@shopify/shopify-api` sends it.
pub fn request_body(client_id: &str, client_secret: &SecretString) -> Value {
    json!({
        "client_id": client_id,
        "client_secret": client_secret.expose_secret(),
        "grant_type": "client_credentials",
    })
}

/// A token, in our terms.
#[derive(Debug)]
pub struct Token {
    pub access_token: SecretString,
    /// The granted access scopes.
    pub scopes: Vec<String>,
    /// How long the shop said it lasts; `None` when it did not say.
    pub expires_in: Option<Duration>,
}

#[derive(Deserialize)]
struct WireToken {
    access_token: String,
    #[serde(default)]
    scope: String,
    expires_in: Option<u64>,
}

/// Reads the grant's answer (a 2xx body; other statuses go through
/// [`super::classify::status_error`]).
pub fn read_token(body: &[u8]) -> Result<Token, UpstreamError> {
    let malformed = |detail: String| UpstreamError::Malformed {
        detail,
        snippet: String::new(),
    };
    // The body holds the token: never quote it in an error.
    let wire: WireToken = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("token answer: {}", describe(&e))))?;
    if wire.access_token.trim().is_empty() {
        return Err(malformed("token answer: access_token is empty".to_owned()));
    }
    if wire.expires_in == Some(0) {
        return Err(malformed("token answer: expires_in is 0".to_owned()));
    }
    Ok(Token {
        access_token: SecretString::from(wire.access_token),
        scopes: wire
            .scope
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        expires_in: wire.expires_in.map(Duration::from_secs),
    })
}

/// What went wrong, without the text around it (which may be the token).
fn describe(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "could not be read",
        Category::Syntax | Category::Eof => "not JSON",
        Category::Data => "no access_token, or a field of the wrong type",
    }
}

impl Token {
    /// When to ask for the next token, given when this one was asked for:
    /// at nine tenths of its life, and at least a minute before it ends.
    /// `None` when the shop gave no lifetime (the token lasts until revoked).
    pub fn refresh_at(&self, requested_at: Instant) -> Option<Instant> {
        let life = self.expires_in?;
        let early = life.mul_f64(0.9).min(life.saturating_sub(MIN_MARGIN));
        Some(requested_at + early)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // No captured answer of this grant exists (the shopify.dev excerpt is
    // cut at "exp…"); the shape is that of the docs and of
    // `@shopify/shopify-api`'s client-credentials test.
    const ANSWER: &[u8] = br#"{"access_token":"tok-not-real","scope":"read_products,write_orders","expires_in":86399}"#;

    #[test]
    fn an_answer_reads_with_its_lifetime_and_scopes() {
        let t = read_token(ANSWER).unwrap();
        assert_eq!(t.access_token.expose_secret(), "tok-not-real");
        assert_eq!(t.scopes, ["read_products", "write_orders"]);
        assert_eq!(t.expires_in, Some(Duration::from_secs(86399)));
        assert!(!format!("{t:?}").contains("tok-not-real"));
    }

    #[test]
    fn refresh_comes_at_nine_tenths_of_the_life_and_a_minute_early_at_least() {
        let t0 = Instant::now();
        let day = read_token(ANSWER).unwrap();
        assert_eq!(
            day.refresh_at(t0),
            Some(t0 + Duration::from_secs_f64(86399.0 * 0.9))
        );
        let short = read_token(br#"{"access_token":"x","expires_in":300}"#).unwrap();
        assert_eq!(short.refresh_at(t0), Some(t0 + Duration::from_secs(240)));
        let tiny = read_token(br#"{"access_token":"x","expires_in":30}"#).unwrap();
        assert_eq!(tiny.refresh_at(t0), Some(t0), "renew at once");
        let forever = read_token(br#"{"access_token":"x"}"#).unwrap();
        assert_eq!(forever.refresh_at(t0), None);
    }

    #[test]
    fn bad_answers_are_refused_without_quoting_the_token() {
        for body in [
            br#"{"access_token":"secret-tok","expires_in":"soon"}"#.as_slice(),
            br#"{"access_token":"secret-tok""#.as_slice(),
            br#"{"access_token":"  "}"#.as_slice(),
            br#"{"access_token":"secret-tok","expires_in":0}"#.as_slice(),
            br#"{"scope":"read_products"}"#.as_slice(),
        ] {
            let e = read_token(body).unwrap_err();
            assert!(matches!(e, UpstreamError::Malformed { .. }));
            assert!(!e.to_string().contains("secret-tok"), "{e}");
        }
    }

    #[test]
    fn the_request_names_the_grant() {
        let body = request_body("cid", &SecretString::from("cs".to_owned()));
        assert_eq!(
            body,
            json!({"client_id":"cid","client_secret":"cs","grant_type":"client_credentials"})
        );
    }
}
