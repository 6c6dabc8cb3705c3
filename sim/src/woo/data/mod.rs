//! Deterministic seeded generation of a whole store.
//!
//! The same seed and sizes give the same store, byte for byte, provided the
//! anchor instant is the same: dates are laid out backwards from `anchor`
//! (the start of the UTC day the sim was spawned on, see `mod.rs`). Each
//! phase draws from its own ChaCha8 stream so that, say, more customers do
//! not reshuffle the products.

mod cart;
mod catalog;
mod config;
mod orders;
mod people;
mod refunds;
mod taxonomy;
mod variations;

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::clock::{DAY_SECS, Ts};
use super::model::{Ids, Store};

pub(crate) use cart::{item_meta, new_line};
pub(crate) use catalog::trash_meta;
pub(crate) use variations::refresh_parent_stock;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub seed: u64,
    pub products: usize,
    pub customers: usize,
    pub orders: usize,
}

pub(crate) fn days(n: i64) -> i64 {
    n * DAY_SECS
}

fn phase_rng(seed: u64, phase: u64) -> ChaCha8Rng {
    // Distinct, fixed streams per phase.
    ChaCha8Rng::seed_from_u64(seed ^ phase.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// A valid EAN-13 with a UK (50) prefix.
pub(crate) fn ean13(rng: &mut ChaCha8Rng) -> String {
    let mut digits = vec![5u32, 0];
    digits.extend((0..10).map(|_| rng.gen_range(0..10u32)));
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

pub(crate) fn random_alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

pub(crate) fn random_hex(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// WordPress `sanitize_title` for the names we generate: entities decoded,
/// accents removed, lower-case, anything else becomes a single `-`.
pub(crate) fn slugify(name: &str) -> String {
    let name = name.replace("&amp;", "&");
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let mapped = match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            '\u{e0}'..='\u{e5}' => Some('a'),
            '\u{e8}'..='\u{eb}' => Some('e'),
            '\u{ec}'..='\u{ef}' => Some('i'),
            '\u{f2}'..='\u{f6}' => Some('o'),
            '\u{f9}'..='\u{fc}' => Some('u'),
            '\u{df}' => {
                out.push_str("ss");
                None
            }
            _ => {
                if !out.ends_with('-') && !out.is_empty() {
                    out.push('-');
                }
                None
            }
        };
        if let Some(m) = mapped {
            out.push(m);
        }
    }
    out.trim_matches('-').to_owned()
}

/// `wp_unique_post_slug`: `slug`, then `slug-2`, `slug-3`, ...
pub(crate) fn unique_slug(seen: &mut HashMap<String, u32>, slug: &str) -> String {
    let n = seen.entry(slug.to_owned()).or_insert(0);
    *n += 1;
    if *n == 1 {
        slug.to_owned()
    } else {
        format!("{slug}-{n}")
    }
}

/// A whole store for `sizes`, with dates laid out before `anchor`.
pub(crate) fn generate(sizes: Sizes, home: &str, anchor: Ts) -> Store {
    let mut store = Store {
        ids: Ids::default(),
        settings: config::settings(),
        config: config::static_config(home),
        enabled_gateways: config::enabled_gateways(),
        tax_classes: config::tax_classes(),
        tax_rates: config::tax_rates(),
        zones: config::shipping_zones(),
        categories: BTreeMap::new(),
        tags: BTreeMap::new(),
        attributes: Vec::new(),
        attribute_terms: BTreeMap::new(),
        products: BTreeMap::new(),
        variations: BTreeMap::new(),
        customers: BTreeMap::new(),
        orders: BTreeMap::new(),
        refunds: BTreeMap::new(),
        skus: HashMap::new(),
        webhooks: BTreeMap::new(),
    };
    taxonomy::taxonomies(&mut store, &mut phase_rng(sizes.seed, 1), sizes.products);
    catalog::products(
        &mut store,
        &mut phase_rng(sizes.seed, 2),
        sizes.products,
        anchor,
    );
    people::customers(
        &mut store,
        &mut phase_rng(sizes.seed, 3),
        sizes.customers,
        anchor,
    );
    orders::orders(
        &mut store,
        &mut phase_rng(sizes.seed, 4),
        sizes.orders,
        anchor,
    );
    store
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_wordpress() {
        assert_eq!(slugify("Food &amp; Drink"), "food-drink");
        assert_eq!(slugify("Chocolate Bar 70%"), "chocolate-bar-70");
        assert_eq!(slugify("M\u{fc}nchen Stra\u{df}e"), "munchen-strasse");
        let mut seen = HashMap::new();
        assert_eq!(unique_slug(&mut seen, "mug"), "mug");
        assert_eq!(unique_slug(&mut seen, "mug"), "mug-2");
    }

    #[test]
    fn ean13_check_digit_is_valid() {
        let mut rng = phase_rng(7, 0);
        for _ in 0..50 {
            let e = ean13(&mut rng);
            let d: Vec<u32> = e.chars().map(|c| c.to_digit(10).unwrap()).collect();
            let sum: u32 = d
                .iter()
                .enumerate()
                .map(|(i, x)| if i % 2 == 0 { *x } else { x * 3 })
                .sum();
            assert_eq!(d.len(), 13);
            assert_eq!(sum % 10, 0, "{e}");
        }
    }
}
