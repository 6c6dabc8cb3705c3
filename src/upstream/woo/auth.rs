//! WooCommerce REST authentication, the way WooCommerce checks it
//! (`WC_REST_Authentication`):
//!
//! - over HTTPS only Basic auth or `consumer_key`/`consumer_secret` query
//!   parameters are looked at; OAuth parameters are ignored there;
//! - over plain HTTP only OAuth 1.0a one-legged is looked at; Basic
//!   credentials are silently ignored and the request fails as anonymous.
//!
//! OAuth details that matter: the signing key is `consumer_secret + "&"`
//! (no token), the signed URL is the *request's scheme* with the store's
//! *home URL* host, port and path, every query parameter is signed, and a
//! nonce may never repeat within 15 minutes, so every attempt (retries
//! included) is signed afresh.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters RFC 3986 leaves unencoded (PHP `rawurlencode`): ALPHA, DIGIT,
/// `-`, `.`, `_`, `~`. Everything else is encoded.
const RFC3986: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// How the agent presents its API key (configured with the store).
pub use crate::config::AuthMode;

/// The HMAC WooCommerce accepts for OAuth signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMethod {
    HmacSha1,
    HmacSha256,
}

impl SignatureMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha1 => "HMAC-SHA1",
            SignatureMethod::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// RFC 3986 percent-encoding, byte for byte what PHP's `rawurlencode` does.
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// The OAuth signature base string: `METHOD&enc(url)&enc(sorted params)`.
///
/// `url` is scheme, host, optional port and path, with no query. Parameters
/// are encoded, sorted by encoded key then value, joined as `k=v` with `&`,
/// and the whole encoded once more (RFC 5849 §3.4.1).
pub fn signature_base_string(method: &str, url: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    encoded.sort();
    let joined = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode(url),
        percent_encode(&joined)
    )
}

/// Signs a base string. WooCommerce's key is `consumer_secret & token_secret`
/// with both used as given (it does not encode the secret; its secrets are
/// `cs_` plus hex, so encoding would change nothing anyway).
pub fn sign(
    method: SignatureMethod,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let key = format!("{consumer_secret}&{token_secret}");
    let tag = match method {
        SignatureMethod::HmacSha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .expect("HMAC accepts keys of any length");
            mac.update(base_string.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        SignatureMethod::HmacSha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .expect("HMAC accepts keys of any length");
            mac.update(base_string.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    BASE64.encode(tag)
}

/// What one OAuth 1.0a signature needs.
pub struct OAuthRequest<'a> {
    pub method: &'a str,
    /// The URL WooCommerce will rebuild: request scheme + home host/port/path
    /// + REST path; no query.
    pub signing_url: &'a str,
    /// The request's own query parameters (signed along with the OAuth ones).
    pub query: &'a [(String, String)],
    pub consumer_key: &'a str,
    pub consumer_secret: &'a str,
    pub timestamp: u64,
    pub nonce: &'a str,
    pub signature_method: SignatureMethod,
}

/// The OAuth parameters to add to the query string, `oauth_signature`
/// included.
pub fn oauth1_params(req: &OAuthRequest<'_>) -> Vec<(String, String)> {
    let mut oauth = vec![
        ("oauth_consumer_key".to_owned(), req.consumer_key.to_owned()),
        ("oauth_nonce".to_owned(), req.nonce.to_owned()),
        (
            "oauth_signature_method".to_owned(),
            req.signature_method.as_str().to_owned(),
        ),
        ("oauth_timestamp".to_owned(), req.timestamp.to_string()),
    ];
    let mut all: Vec<(String, String)> = req.query.to_vec();
    all.extend(oauth.iter().cloned());
    let base = signature_base_string(req.method, req.signing_url, &all);
    let signature = sign(req.signature_method, &base, req.consumer_secret, "");
    oauth.push(("oauth_signature".to_owned(), signature));
    oauth
}

/// A fresh nonce: 32 alphanumeric characters, as WooCommerce documents.
pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The worked example of Twitter's "Creating a signature" guide, which
    /// prints both the base string and the resulting HMAC-SHA1 signature.
    #[test]
    fn twitter_guide_vector() {
        let params = pairs(&[
            (
                "status",
                "Hello Ladies + Gentlemen, a signed OAuth request!",
            ),
            ("include_entities", "true"),
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            (
                "oauth_token",
                "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            ),
            ("oauth_version", "1.0"),
        ]);
        let base = signature_base_string(
            "post",
            "https://api.twitter.com/1/statuses/update.json",
            &params,
        );
        assert_eq!(
            base,
            "POST&https%3A%2F%2Fapi.twitter.com%2F1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
        );
        let sig = sign(
            SignatureMethod::HmacSha1,
            &base,
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        );
        assert_eq!(sig, "tnnArxj06cWHq44gCs1OSKk/jLY=");
    }

    /// OAuth Core 1.0, Appendix A.5 (the "photos.example.net" example).
    #[test]
    fn oauth_core_appendix_a_vector() {
        let params = pairs(&[
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]);
        let base = signature_base_string("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
        );
        assert_eq!(
            sign(
                SignatureMethod::HmacSha1,
                &base,
                "kd94hf93k423kf44",
                "pfkkdhi9sl3r4s00"
            ),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
    }

    #[test]
    fn encoding_matches_php_rawurlencode() {
        assert_eq!(percent_encode("a b+c~d.e_f-g"), "a%20b%2Bc~d.e_f-g");
        assert_eq!(
            percent_encode("2026-11-22T12:00:00"),
            "2026-11-22T12%3A00%3A00"
        );
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(
            percent_encode("processing,completed"),
            "processing%2Ccompleted"
        );
    }

    #[test]
    fn one_legged_params_sign_query_and_oauth_fields() {
        let query = pairs(&[("per_page", "100"), ("page", "2")]);
        let req = OAuthRequest {
            method: "GET",
            signing_url: "http://shop.test/wp-json/wc/v3/products",
            query: &query,
            consumer_key: "ck_test",
            consumer_secret: "cs_test",
            timestamp: 1_700_000_000,
            nonce: "abc123",
            signature_method: SignatureMethod::HmacSha256,
        };
        let oauth = oauth1_params(&req);
        let names: Vec<&str> = oauth.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "oauth_consumer_key",
                "oauth_nonce",
                "oauth_signature_method",
                "oauth_timestamp",
                "oauth_signature"
            ]
        );
        // Recompute independently: the signature covers the query too.
        let mut all = query.clone();
        all.extend(oauth[..4].iter().cloned());
        let base = signature_base_string("GET", req.signing_url, &all);
        assert_eq!(
            oauth[4].1,
            sign(SignatureMethod::HmacSha256, &base, "cs_test", "")
        );
        // A different query gives a different signature.
        let other = pairs(&[("per_page", "100"), ("page", "3")]);
        let req2 = OAuthRequest {
            query: &other,
            ..req
        };
        assert_ne!(oauth1_params(&req2)[4].1, oauth[4].1);
    }

    #[test]
    fn nonces_are_fresh_and_alphanumeric() {
        let a = new_nonce();
        let b = new_nonce();
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
