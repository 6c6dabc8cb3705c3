//! PHP `json_encode` byte layout for everything the simulated store sends.
//!
//! WordPress encodes REST bodies with `wp_json_encode` and no flags, so real
//! bodies escape `/` as `\/` and every non-ASCII character as `\uXXXX`
//! (UTF-16, lowercase hex, surrogate pairs beyond the BMP). Clients that
//! verify signatures over raw bytes, or that compare bodies, must see the same
//! bytes here. This module owns only the encoding; it never decides content.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// A `serde_json` formatter that escapes like PHP: `/` and non-ASCII are
/// escaped, `<`, `>`, `&` and `'` are not (those need `JSON_HEX_*` flags that
/// WordPress does not pass). Control characters, `"` and `\` are escaped by
/// `serde_json` itself, with lowercase `\u00XX` like PHP.
pub(crate) struct PhpFormatter;

impl Formatter for PhpFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch != '/' && ch.is_ascii() {
                continue;
            }
            writer.write_all(&bytes[start..i])?;
            if ch == '/' {
                writer.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
            start = i + ch.len_utf8();
        }
        writer.write_all(&bytes[start..])
    }
}

/// Serializes `value` the way PHP's `json_encode` would.
pub(crate) fn to_php_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    let mut ser = Serializer::with_formatter(&mut out, PhpFormatter);
    // Serializing a `serde_json::Value` (or our plain structs) into a Vec
    // cannot fail: no I/O errors, no non-string map keys.
    value
        .serialize(&mut ser)
        .expect("in-memory JSON serialization cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn slashes_and_non_ascii_are_escaped_like_php() {
        let v = json!({"url": "https://x/p/", "name": "Dvořák £5 — 😀", "html": "<b>&'</b>"});
        let s = String::from_utf8(to_php_json(&v)).unwrap();
        assert_eq!(
            s,
            r#"{"url":"https:\/\/x\/p\/","name":"Dvo\u0159\u00e1k \u00a35 \u2014 \ud83d\ude00","html":"<b>&'<\/b>"}"#
        );
    }

    #[test]
    fn control_characters_use_lowercase_hex() {
        let s = String::from_utf8(to_php_json(&json!("a\u{1f}\n\"\\"))).unwrap();
        assert_eq!(s, r#""a\u001f\n\"\\""#);
    }

    #[test]
    fn floats_use_shortest_round_trip_form() {
        let s = String::from_utf8(to_php_json(&json!([20.825, 18.333333, 8.5, 7.25]))).unwrap();
        assert_eq!(s, "[20.825,18.333333,8.5,7.25]");
    }
}
