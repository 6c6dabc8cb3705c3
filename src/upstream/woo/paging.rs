//! WordPress REST pagination: `X-WP-Total`, `X-WP-TotalPages` and `Link`,
//! and the engine's cursors read as page numbers.
//!
//! A WooCommerce cursor is the page number as text; the empty cursor (every
//! listing's start) is page 1.

use reqwest::header::HeaderMap;

use crate::upstream::{Cursor, UpstreamError};

/// The page number a cursor names.
pub fn page_of(cursor: &Cursor) -> Result<u32, UpstreamError> {
    if cursor.is_start() {
        return Ok(1);
    }
    match cursor.as_str().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(UpstreamError::Setup(format!(
            "{:?} is not a WooCommerce page cursor (a page number)",
            cursor.as_str()
        ))),
    }
}

/// The cursor of page `n`.
pub fn cursor_of(page: u32) -> Cursor {
    if page <= 1 {
        Cursor::start()
    } else {
        Cursor::new(page.to_string())
    }
}

/// The page after `page`, when the shop's count says there is one (no
/// count: one page, as WordPress answers a listing that fits in one).
pub fn next_after(page: u32, total_pages: Option<u32>) -> Option<Cursor> {
    (page < total_pages.unwrap_or(1)).then(|| cursor_of(page + 1))
}

/// What a collection response says about the whole set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PageInfo {
    pub total_items: Option<u64>,
    pub total_pages: Option<u32>,
    /// Whether `Link` names a next page.
    pub has_next: bool,
}

/// Reads the pagination headers of a collection response.
pub fn page_info(headers: &HeaderMap) -> PageInfo {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    PageInfo {
        total_items: number("x-wp-total"),
        total_pages: number("x-wp-totalpages").map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        has_next: headers
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|part| part.contains("rel=\"next\""))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_page_numbers_and_the_start_is_page_one() {
        assert_eq!(page_of(&Cursor::start()).unwrap(), 1);
        assert_eq!(page_of(&Cursor::new("7")).unwrap(), 7);
        assert_eq!(page_of(&cursor_of(1)).unwrap(), 1);
        assert_eq!(page_of(&cursor_of(12)).unwrap(), 12);
        for bad in ["0", "x", "-1", "eyJsYXN0X2lkIjo1fQ=="] {
            assert!(page_of(&Cursor::new(bad)).is_err(), "{bad}");
        }
        assert_eq!(next_after(1, Some(3)), Some(Cursor::new("2")));
        assert_eq!(next_after(3, Some(3)), None);
        assert_eq!(next_after(1, None), None);
    }
    use reqwest::header::{HeaderName, HeaderValue};

    /// Loads the response headers captured from a real store.
    fn captured(name: &str) -> HeaderMap {
        let path = format!(
            "{}/tests/fixtures/woocommerce/rest/{name}.headers.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let mut h = HeaderMap::new();
        for pair in v["headers"].as_array().unwrap() {
            let k = HeaderName::from_bytes(pair[0].as_str().unwrap().as_bytes()).unwrap();
            h.append(k, HeaderValue::from_str(pair[1].as_str().unwrap()).unwrap());
        }
        h
    }

    #[test]
    fn first_page_of_five() {
        let info = page_info(&captured("products_page1_per5"));
        assert_eq!(
            info,
            PageInfo {
                total_items: Some(23),
                total_pages: Some(5),
                has_next: true
            }
        );
    }

    #[test]
    fn past_the_last_page_has_totals_and_no_next() {
        let info = page_info(&captured("products_page6_per5_beyond_last"));
        assert_eq!(info.total_items, Some(23));
        assert_eq!(info.total_pages, Some(5));
        assert!(!info.has_next);
    }

    #[test]
    fn single_page_carries_only_the_discovery_link() {
        let info = page_info(&captured("taxes"));
        assert_eq!(info.total_pages, Some(1));
        assert!(!info.has_next);
    }
}
