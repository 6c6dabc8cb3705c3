//! Credential checks as WooCommerce does them over plain HTTP
//! (`WC_REST_Authentication`): only OAuth 1.0a one-legged is looked at;
//! Basic credentials and `consumer_key` query parameters are ignored, so such
//! requests are anonymous.
//!
//! This is an independent implementation of WooCommerce's algorithm, on
//! purpose not sharing code with possync's client-side signer: the point is
//! two implementations meeting on the wire. Quirks kept because the real
//! store has them:
//! - parameters are `$_GET` (+ `$_POST`) as PHP parses them, so `a[]=x` is
//!   signed as `a[0]=x` and a repeated key only with its last value;
//! - top-level keys are sorted by their raw bytes before encoding;
//! - the signed URL is the request's scheme (always `http` here) with the
//!   home URL's host, port and path;
//! - a parameter that is present but empty (or `"0"`) counts as missing;
//! - used nonces are stored keyed by *timestamp*, so a second request with
//!   the same timestamp replaces the first one's nonce.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};

use crate::woo::clock::Ts;
use crate::woo::routes::ApiError;
use crate::woo::routes::params::{PhpValue, urldecode};

/// The OAuth window for timestamps and nonces.
const WINDOW_SECS: i64 = 15 * 60;

const REQUIRED: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

/// What a key may do: `woocommerce_api_keys.permissions`, chosen when the
/// key is made in WooCommerce → Settings → Advanced → REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPermissions {
    Read,
    Write,
    ReadWrite,
}

impl KeyPermissions {
    fn can_read(self) -> bool {
        matches!(self, KeyPermissions::Read | KeyPermissions::ReadWrite)
    }

    fn can_write(self) -> bool {
        matches!(self, KeyPermissions::Write | KeyPermissions::ReadWrite)
    }
}

/// Who made the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// No OAuth parameters at all: WordPress goes on as a logged-out user.
    Anonymous,
    /// A valid consumer key (owned by the administrator), with what it may do.
    Key(KeyPermissions),
}

/// `check_permissions()`, run on `rest_pre_dispatch` for a request made with
/// a key: before the route is even matched, so a read-only key is refused
/// any write method on any route, existing or not, and nothing runs.
pub(crate) fn check_permissions(method: &str, permissions: KeyPermissions) -> Result<(), ApiError> {
    match method {
        "HEAD" | "GET" if !permissions.can_read() => Err(auth_error(
            "woocommerce_rest_authentication_error",
            "The API key provided does not have read permissions.",
        )),
        "POST" | "PUT" | "PATCH" | "DELETE" if !permissions.can_write() => Err(auth_error(
            "woocommerce_rest_authentication_error",
            "The API key provided does not have write permissions.",
        )),
        "HEAD" | "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => Ok(()),
        _ => Err(auth_error(
            "woocommerce_rest_authentication_error",
            "Unknown request method.",
        )),
    }
}

/// What the check needs from the request.
pub(crate) struct AuthRequest<'a> {
    pub method: &'a str,
    /// The request URI's path, undecoded.
    pub raw_path: &'a str,
    pub query: &'a [(String, PhpValue)],
    pub form: &'a [(String, PhpValue)],
    pub authorization: Option<&'a str>,
}

/// One key the store knows, and the nonces it has seen.
pub(crate) struct ApiKey {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub permissions: KeyPermissions,
    /// `timestamp → nonce`, as WooCommerce stores them per key.
    pub nonces: HashMap<String, String>,
}

/// The keys the store knows.
pub(crate) struct KeyRing {
    pub keys: Vec<ApiKey>,
}

fn auth_error(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(401, code, message.into())
}

/// PHP `rawurlencode` (RFC 3986: only `A-Z a-z 0-9 - _ . ~` stay).
pub(crate) fn rawurlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// PHP `rawurldecode` (`+` stays a plus).
fn rawurldecode(s: &str) -> String {
    urldecode(&s.replace('+', "%2B"))
}

/// `parse_header`: `oauth_*` pairs of an `Authorization: OAuth ...` header,
/// quoted or not, each through `urldecode`.
fn parse_header(header: &str) -> Vec<(String, String)> {
    let header = header.trim();
    if !header.starts_with("OAuth ") {
        return vec![];
    }
    let mut out = Vec::new();
    let mut rest = header;
    while let Some(pos) = rest.find("oauth_") {
        let after = &rest[pos + "oauth_".len()..];
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_lowercase() || *b == b'_' || *b == b'-')
            .count();
        let name = format!("oauth_{}", &after[..name_len]);
        let Some(value_part) = after[name_len..].strip_prefix('=') else {
            rest = &after[name_len..];
            continue;
        };
        let quoted = value_part
            .strip_prefix(':')
            .unwrap_or(value_part)
            .strip_prefix('"');
        let (value, consumed) = match quoted.and_then(|q| q.find('"').map(|end| (q, end))) {
            Some((q, end)) => (&q[..end], value_part.len() - q.len() + end + 1),
            None => {
                let end = value_part.find(',').unwrap_or(value_part.len());
                (&value_part[..end], end)
            }
        };
        out.push((name, urldecode(value)));
        rest = &value_part[consumed..];
    }
    out
}

/// `array_merge` for string keys: later values win, first position kept.
fn merge(into: &mut Vec<(String, PhpValue)>, from: impl IntoIterator<Item = (String, PhpValue)>) {
    for (k, v) in from {
        match into.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => into.push((k, v)),
        }
    }
}

/// PHP `empty()` on a parameter.
fn is_empty(v: Option<&PhpValue>) -> bool {
    match v {
        None => true,
        Some(PhpValue::Str(s)) => s.is_empty() || s == "0",
        Some(PhpValue::Arr(a)) => a.is_empty(),
    }
}

fn scalar<'a>(params: &'a [(String, PhpValue)], name: &str) -> &'a str {
    match params.iter().find(|(k, _)| k == name).map(|(_, v)| v) {
        Some(PhpValue::Str(s)) => s,
        _ => "",
    }
}

/// `join_with_equals_sign` over normalized (encoded) parameters.
fn join(params: &[(String, PhpValue)], prefix: Option<&str>, out: &mut Vec<String>) {
    for (k, v) in params {
        // Top-level keys were encoded by `normalize_parameters`; nested keys
        // never are.
        let key = match prefix {
            Some(p) => format!("{p}%5B{k}%5D"),
            None => rawurlencode(k),
        };
        match v {
            PhpValue::Arr(items) => join(items, Some(&key), out),
            PhpValue::Str(s) => out.push(rawurlencode(&format!("{key}={}", rawurlencode(s)))),
        }
    }
}

/// The signature base string WooCommerce builds for `params`.
pub(crate) fn base_string(method: &str, url: &str, params: &[(String, PhpValue)]) -> String {
    let mut sorted: Vec<(String, PhpValue)> = params
        .iter()
        .filter(|(k, _)| k != "oauth_signature")
        .cloned()
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut pairs = Vec::new();
    join(&sorted, None, &mut pairs);
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        rawurlencode(url),
        pairs.join("%26")
    )
}

/// `get_home_url( null, $request_path, 'http' )` after stripping the home
/// path prefix, as `check_oauth_signature` does.
pub(crate) fn signing_url(home: &str, raw_path: &str) -> String {
    let without_scheme = home.split_once("://").map_or(home, |(_, rest)| rest);
    let (host, home_path) = match without_scheme.find('/') {
        Some(i) => (
            &without_scheme[..i],
            without_scheme[i..].trim_end_matches('/'),
        ),
        None => (without_scheme, ""),
    };
    let wp_base = format!("{home_path}/");
    let path = raw_path.strip_prefix(wp_base.as_str()).unwrap_or(raw_path);
    let mut url = format!("http://{host}{home_path}");
    if !path.is_empty() {
        url.push('/');
        url.push_str(path.trim_start_matches('/'));
    }
    url
}

fn hmac_b64(algo: &str, key: &[u8], msg: &[u8]) -> String {
    let tag = if algo == "sha1" {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(msg);
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(msg);
        mac.finalize().into_bytes().to_vec()
    };
    BASE64.encode(tag)
}

/// PHP `is_numeric` + numeric comparison for the timestamp.
fn numeric(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Authenticates one request to a `wc/` route. `Ok(Anonymous)` means no
/// OAuth parameter at all; errors are the 401 bodies WooCommerce sends.
pub(crate) fn authenticate(
    req: &AuthRequest<'_>,
    keys: &mut KeyRing,
    home: &str,
    now: Ts,
) -> Result<Caller, ApiError> {
    let mut params: Vec<(String, PhpValue)> = req.query.to_vec();
    merge(&mut params, req.form.iter().cloned());
    if let Some(header) = req.authorization {
        merge(
            &mut params,
            parse_header(header)
                .into_iter()
                .map(|(k, v)| (k, PhpValue::Str(v))),
        );
    }
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|n| is_empty(get(n)))
        .collect();
    if missing.len() == REQUIRED.len() {
        return Ok(Caller::Anonymous);
    }
    if !missing.is_empty() {
        let noun = if missing.len() == 1 {
            "parameter"
        } else {
            "parameters"
        };
        return Err(auth_error(
            "woocommerce_rest_authentication_missing_parameter",
            format!("Missing OAuth {noun} {}", missing.join(", ")),
        ));
    }
    let Some(keys) = keys
        .keys
        .iter_mut()
        .find(|k| k.consumer_key == scalar(&params, "oauth_consumer_key").trim())
    else {
        return Err(auth_error(
            "woocommerce_rest_authentication_error",
            "Consumer key is invalid.",
        ));
    };
    let url = signing_url(home, req.raw_path);
    let base = base_string(req.method, &url, &params);
    let method = scalar(&params, "oauth_signature_method");
    let algo = match method {
        "HMAC-SHA1" => "sha1",
        "HMAC-SHA256" => "sha256",
        _ => {
            return Err(auth_error(
                "woocommerce_rest_authentication_error",
                "Invalid signature - signature method is invalid.",
            ));
        }
    };
    let provided = rawurldecode(&scalar(&params, "oauth_signature").replace(' ', "+"));
    let key = format!("{}&", keys.consumer_secret);
    let expected = hmac_b64(algo, key.as_bytes(), base.as_bytes());
    // hash_equals: constant time in PHP; equality is what matters here.
    if expected != provided {
        return Err(auth_error(
            "woocommerce_rest_authentication_error",
            "Invalid signature - provided signature does not match.",
        ));
    }
    let timestamp = scalar(&params, "oauth_timestamp");
    match numeric(timestamp) {
        Some(t) if t >= (now - WINDOW_SECS) as f64 && t <= (now + WINDOW_SECS) as f64 => {}
        _ => {
            return Err(auth_error(
                "woocommerce_rest_authentication_error",
                "Invalid timestamp.",
            ));
        }
    }
    let nonce = scalar(&params, "oauth_nonce");
    if keys.nonces.values().any(|n| n == nonce) {
        return Err(auth_error(
            "woocommerce_rest_authentication_error",
            "Invalid nonce - nonce has already been used.",
        ));
    }
    keys.nonces.insert(timestamp.to_owned(), nonce.to_owned());
    keys.nonces
        .retain(|ts, _| numeric(ts).is_none_or(|t| t >= (now - WINDOW_SECS) as f64));
    Ok(Caller::Key(keys.permissions))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, PhpValue)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), PhpValue::Str((*v).to_owned())))
            .collect()
    }

    #[test]
    fn base_string_matches_the_oauth_core_example() {
        // OAuth Core 1.0 Appendix A.5.1 (a one-legged store never has a
        // token, but the construction is the same).
        let params = q(&[
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]);
        assert_eq!(
            base_string("GET", "http://photos.example.net/photos", &params),
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal"
        );
        let sig = hmac_b64(
            "sha1",
            b"kd94hf93k423kf44&pfkkdhi9sl3r4s00",
            base_string("GET", "http://photos.example.net/photos", &params).as_bytes(),
        );
        assert_eq!(sig, "tR3+Ty81lMeYAr/Fid0kMTYa/WM=");
    }

    #[test]
    fn array_parameters_are_signed_with_indexed_keys() {
        let params = vec![(
            "include".to_owned(),
            PhpValue::Arr(vec![("0".to_owned(), PhpValue::Str("1".to_owned()))]),
        )];
        assert_eq!(
            base_string("GET", "http://x/p", &params),
            "GET&http%3A%2F%2Fx%2Fp&include%255B0%255D%3D1"
        );
    }

    #[test]
    fn signing_url_uses_http_and_the_home_host() {
        assert_eq!(
            signing_url("https://127.0.0.1:8443", "/wp-json/wc/v3/products"),
            "http://127.0.0.1:8443/wp-json/wc/v3/products"
        );
        assert_eq!(
            signing_url("https://shop.example/store/", "/store/wp-json/wc/v3/orders"),
            "http://shop.example/store/wp-json/wc/v3/orders"
        );
        assert_eq!(signing_url("http://a:1", "/"), "http://a:1");
    }

    #[test]
    fn header_parameters_are_parsed_and_decoded() {
        let h = r#"OAuth oauth_consumer_key="ck_1", oauth_nonce=abc, oauth_signature="a%2Bb%3D""#;
        assert_eq!(
            parse_header(h),
            vec![
                ("oauth_consumer_key".to_owned(), "ck_1".to_owned()),
                ("oauth_nonce".to_owned(), "abc".to_owned()),
                ("oauth_signature".to_owned(), "a+b=".to_owned()),
            ]
        );
        assert!(parse_header("Basic abc").is_empty());
    }
}
