//! Bearer tokens for till front-ends: 32 random bytes shown once, stored as
//! their SHA-256 (a high-entropy secret needs no slow hash), compared in
//! constant time against every stored hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::time::unix_millis_now;
use crate::store::{Store, StoreError, access};

/// Every token starts with this, so a leaked one is recognisable in a scan.
pub const TOKEN_PREFIX: &str = "pst_";
/// Longest token name.
pub const MAX_NAME_CHARS: usize = 64;

/// A new random token.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What is stored for `token`.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Checks a token name: letters, digits, `-`, `_`, `.`, at most 64.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a token name is 1 to {MAX_NAME_CHARS} letters, digits, '-', '_' or '.' (got {name:?})"
        ))
    }
}

/// Creates a token named `name` and returns it (the only time it is seen);
/// `None` when the name is taken.
pub async fn create(store: &Store, name: &str) -> Result<Option<String>, StoreError> {
    let token = generate();
    let digest = hash(&token);
    let owned = name.to_owned();
    let made = store
        .write(move |tx| access::create_token(tx, &owned, &digest, unix_millis_now()))
        .await?;
    Ok(made.then_some(token))
}

/// The name of the stored token `presented` hashes to. Every stored hash is
/// compared, in constant time, whether or not one matched, and a missing
/// token is compared like a wrong one: the answer's timing says nothing
/// about which tokens exist.
pub fn find<'a>(stored: &'a [(String, [u8; 32])], presented: Option<&str>) -> Option<&'a str> {
    let digest = hash(presented.unwrap_or(""));
    let mut found = None;
    for (name, h) in stored {
        if bool::from(h.ct_eq(&digest)) {
            found = Some(name.as_str());
        }
    }
    presented.and(found)
}

/// The bearer token of an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, rest) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_found_only_by_their_own_hash() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 43);
        let stored = vec![("a".to_owned(), hash(&a)), ("b".to_owned(), hash(&b))];
        assert_eq!(find(&stored, Some(&a)), Some("a"));
        assert_eq!(find(&stored, Some(&b)), Some("b"));
        assert_eq!(find(&stored, Some("pst_wrong")), None);
        assert_eq!(find(&stored, None), None);
        // An empty stored hash list and an empty token match nothing.
        let empty_hash = vec![("e".to_owned(), hash(""))];
        assert_eq!(find(&empty_hash, None), None);
    }

    #[rstest::rstest]
    #[case::bearer("Bearer abc", Some("abc"))]
    #[case::any_case("bEaReR abc ", Some("abc"))]
    #[case::basic("Basic abc", None)]
    #[case::empty("Bearer ", None)]
    #[case::no_scheme("abc", None)]
    fn bearer_header(#[case] header: &str, #[case] token: Option<&str>) {
        assert_eq!(bearer(header), token);
    }

    #[rstest::rstest]
    #[case::plain("till-1", true)]
    #[case::dots("pos.front_2", true)]
    #[case::space("till 1", false)]
    #[case::empty("", false)]
    #[case::too_long(&"x".repeat(65), false)]
    fn names(#[case] name: &str, #[case] ok: bool) {
        assert_eq!(check_name(name).is_ok(), ok);
    }
}
