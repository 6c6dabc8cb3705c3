//! Seeded catalogue: categories, tags, global attributes and their terms,
//! products (simple, variable with variations, grouped, external).

use std::collections::{BTreeMap, HashMap};

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde_json::Value;

use super::variations::variable;
use super::{days, ean13, slugify, unique_slug};
use crate::woo::clock::{DAY_SECS, Ts};
use crate::woo::model::{
    Backorders, Ids, Meta, PostStatus, Pricing, Product, ProductType, Stock, StockStatus, Store,
};
use crate::words::{ADJECTIVES, CATEGORIES, CategorySpec};

fn pence(p: i64) -> Decimal {
    Decimal::new(p, 2)
}

/// A shop-like price in pence within the category band: .99, .50 or .x5
/// endings, between 0.50 and 200.00.
pub(super) fn price_pence(rng: &mut ChaCha8Rng, band: (i64, i64)) -> i64 {
    let raw = rng.gen_range(band.0..=band.1);
    let p = match rng.gen_range(0..10) {
        0..=2 => (raw / 100) * 100 + 99,
        3..=6 => (raw + 25) / 50 * 50,
        _ => raw / 5 * 5,
    };
    p.clamp(50, 20_000)
}

pub(super) fn pricing(rng: &mut ChaCha8Rng, regular: i64, anchor: Ts) -> Pricing {
    let mut p = Pricing {
        regular: Some(pence(regular)),
        ..Pricing::default()
    };
    if rng.gen_bool(0.2) {
        let sale = (regular * rng.gen_range(60..=90) / 100) / 5 * 5;
        if sale > 0 && sale < regular {
            p.sale = Some(pence(sale));
            match rng.gen_range(0..10) {
                // An active window: from some midnight before, to a day's end after.
                0..=1 => {
                    p.sale_from = Some(anchor - days(rng.gen_range(1..30)));
                    p.sale_to = Some(anchor + days(rng.gen_range(5..60)) - 1);
                }
                // Scheduled: starts in the future, so not on sale yet.
                2 => {
                    let from = anchor + days(rng.gen_range(3..30));
                    p.sale_from = Some(from);
                    p.sale_to = Some(from + days(rng.gen_range(7..21)) - 1);
                }
                _ => {}
            }
        }
    }
    p
}

pub(super) fn stock(rng: &mut ChaCha8Rng, managed: bool) -> Stock {
    let mut s = Stock {
        manage: managed,
        quantity: None,
        backorders: Backorders::No,
        low_stock_amount: None,
        status: StockStatus::InStock,
    };
    if !managed {
        if rng.gen_bool(0.1) {
            s.status = StockStatus::OutOfStock;
        }
        return s;
    }
    s.backorders = match rng.gen_range(0..100) {
        0..=4 => Backorders::Notify,
        5..=7 => Backorders::Yes,
        _ => Backorders::No,
    };
    let qty = match rng.gen_range(0..100) {
        0..=7 => 0,
        8..=50 => rng.gen_range(1..=20),
        _ => rng.gen_range(21..=200),
    };
    s.quantity = Some(if s.backorders != Backorders::No && rng.gen_bool(0.4) {
        -rng.gen_range(0..=4)
    } else {
        qty
    });
    if rng.gen_bool(0.1) {
        s.low_stock_amount = Some(*[2, 5, 10].choose(rng).unwrap_or(&5));
    }
    s.refresh_status();
    s
}

fn status(rng: &mut ChaCha8Rng) -> PostStatus {
    match rng.gen_range(0..1000) {
        0..=24 => PostStatus::Draft,
        25..=39 => PostStatus::Pending,
        40..=54 => PostStatus::Private,
        55..=79 => PostStatus::Trash,
        _ => PostStatus::Publish,
    }
}

fn tax_class(rng: &mut ChaCha8Rng, spec: &CategorySpec) -> String {
    if !spec.tax_class.is_empty() && rng.gen_bool(0.9) {
        return spec.tax_class.to_owned();
    }
    match rng.gen_range(0..20) {
        0..=1 => "reduced-rate".to_owned(),
        2 => "zero-rate".to_owned(),
        _ => String::new(),
    }
}

/// Products with their variations, ids and dates in creation order.
pub(crate) fn products(store: &mut Store, rng: &mut ChaCha8Rng, n: usize, anchor: Ts) {
    let cats: Vec<(i64, &CategorySpec)> = store
        .categories
        .values()
        .filter_map(|t| {
            CATEGORIES
                .iter()
                .find(|c| c.name == t.name)
                .map(|c| (t.id, c))
        })
        .collect();
    let tag_ids: Vec<i64> = store.tags.keys().copied().collect();
    let mut slugs: HashMap<String, u32> = HashMap::new();
    let span = days(720);
    let step = (span / (n.max(1) as i64)).max(2);
    let start = anchor - span - DAY_SECS;
    for i in 0..n {
        let created = start + step * i as i64 + rng.gen_range(0..step / 2 + 1);
        let mut kind = match rng.gen_range(0..100) {
            0..=69 => ProductType::Simple,
            70..=94 => ProductType::Variable,
            95..=97 => ProductType::Grouped,
            _ => ProductType::External,
        };
        // Small stores still show every type.
        if n >= 20 && i == 6 {
            kind = ProductType::Grouped;
        } else if n >= 20 && i == 9 {
            kind = ProductType::External;
        }
        // Variable products live where there is a size or colour to vary.
        let pool: Vec<(i64, &CategorySpec)> = if kind == ProductType::Variable {
            cats.iter()
                .copied()
                .filter(|(_, s)| s.sizes || s.colours)
                .collect()
        } else {
            cats.clone()
        };
        let (cat_id, spec) = match pool.choose(rng) {
            Some(c) => *c,
            None => {
                kind = ProductType::Simple;
                *cats.choose(rng).expect("at least one category")
            }
        };
        let noun = *spec.nouns.choose(rng).expect("nouns");
        let name = if rng.gen_bool(0.5) {
            noun.to_owned()
        } else {
            format!("{} {noun}", ADJECTIVES.choose(rng).expect("adjectives"))
        };
        let id = Ids::next(&mut store.ids.post);
        let sku = format!("{}-{:05}", spec.prefix, i + 1);
        let mut status = status(rng);
        // Small stores still show every status.
        if n >= 20 {
            status = match i {
                12 => PostStatus::Draft,
                15 => PostStatus::Trash,
                18 => PostStatus::Private,
                21 => PostStatus::Pending,
                _ => status,
            };
        }
        let modified = if rng.gen_bool(0.15) {
            anchor - rng.gen_range(60..days(7))
        } else {
            created + rng.gen_range(0..(anchor - created).max(1))
        }
        .max(created);
        let mut p = Product {
            id,
            kind,
            slug: unique_slug(&mut slugs, &slugify(&name)),
            description: format!("<p>{name} \u{2014} full description.</p>\n"),
            short_description: if rng.gen_bool(0.6) {
                format!("<p>{name} short.</p>\n")
            } else {
                String::new()
            },
            name,
            status,
            featured: rng.gen_bool(0.05),
            sku,
            global_unique_id: if rng.gen_bool(0.3) {
                ean13(rng)
            } else {
                String::new()
            },
            pricing: Pricing::default(),
            created,
            modified,
            total_sales: 0,
            is_virtual: false,
            downloadable: false,
            external_url: String::new(),
            button_text: String::new(),
            tax_status: "taxable",
            tax_class: tax_class(rng, spec),
            stock: stock(rng, false),
            sold_individually: false,
            weight: if rng.gen_bool(0.4) {
                format!("{}.{}", rng.gen_range(0..5), rng.gen_range(1..10))
            } else {
                String::new()
            },
            dimensions: Default::default(),
            reviews_allowed: true,
            purchase_note: String::new(),
            upsell_ids: vec![],
            cross_sell_ids: vec![],
            category_ids: vec![cat_id],
            tag_ids: if rng.gen_bool(0.4) {
                vec![*tag_ids.choose(rng).expect("tags")]
            } else {
                vec![]
            },
            attributes: vec![],
            default_attributes: vec![],
            variation_ids: vec![],
            grouped_ids: vec![],
            menu_order: 0,
            related_ids: vec![],
            meta: vec![],
        };
        match kind {
            ProductType::Simple => {
                let regular = price_pence(rng, spec.price);
                p.pricing = pricing(rng, regular, anchor);
                let managed = rng.gen_bool(0.85);
                p.stock = stock(rng, managed);
                if spec.prefix == "GC" {
                    p.is_virtual = true;
                    p.stock = stock(rng, false);
                    p.stock.status = StockStatus::InStock;
                }
            }
            ProductType::Variable => variable(store, rng, &mut p, spec, anchor),
            ProductType::Grouped => {
                p.grouped_ids = store
                    .products
                    .values()
                    .rev()
                    .filter(|q| q.kind == ProductType::Simple && q.status == PostStatus::Publish)
                    .take(rng.gen_range(2..=4))
                    .map(|q| q.id)
                    .collect();
                p.stock.status = StockStatus::InStock;
            }
            ProductType::External => {
                let regular = price_pence(rng, spec.price);
                p.pricing = pricing(rng, regular, anchor);
                p.external_url = format!("https://partner.example.com/p/{}", p.slug);
                p.button_text = "Buy from our partner".to_owned();
                p.stock.status = StockStatus::InStock;
            }
        }
        add_meta(store, rng, &mut p);
        if p.status == PostStatus::Trash {
            trash_meta(
                &mut store.ids.post_meta,
                &mut p,
                PostStatus::Publish,
                modified,
            );
        }
        if let Some(old) = store.skus.insert(p.sku.clone(), p.id) {
            debug_assert_eq!(old, p.id, "generated SKUs are unique");
        }
        store.products.insert(p.id, p);
    }
    related(store, rng);
}

fn add_meta(store: &mut Store, rng: &mut ChaCha8Rng, p: &mut Product) {
    let roll = rng.gen_range(0..100);
    let key = match roll {
        0..=9 => "_ean",
        10..=14 => "_barcode",
        _ => return,
    };
    let value = if p.global_unique_id.is_empty() {
        ean13(rng)
    } else {
        p.global_unique_id.clone()
    };
    p.meta.push(Meta {
        id: Ids::next(&mut store.ids.post_meta),
        key: key.to_owned(),
        value: Value::String(value),
    });
}

/// The meta WordPress adds when a post goes to the trash; the slug gets the
/// `__trashed` suffix (see the captured `get_trashed_product`).
pub(crate) fn trash_meta(meta_ids: &mut i64, p: &mut Product, previous: PostStatus, at: Ts) {
    for (key, value) in [
        ("_wp_trash_meta_status", previous.as_str().to_owned()),
        ("_wp_trash_meta_time", at.to_string()),
        ("_wp_desired_post_slug", p.slug.clone()),
    ] {
        p.meta.push(Meta {
            id: Ids::next(meta_ids),
            key: key.to_owned(),
            value: Value::String(value),
        });
    }
    p.slug = format!("{}__trashed", p.slug);
    p.status = PostStatus::Trash;
}

/// Up to five products sharing the first category, and a few upsells.
fn related(store: &mut Store, rng: &mut ChaCha8Rng) {
    let mut by_cat: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for p in store
        .products
        .values()
        .filter(|p| p.status == PostStatus::Publish)
    {
        by_cat.entry(p.category_ids[0]).or_default().push(p.id);
    }
    for p in store.products.values_mut() {
        let others: Vec<i64> = by_cat
            .get(&p.category_ids[0])
            .map(|pool| pool.iter().copied().filter(|&id| id != p.id).collect())
            .unwrap_or_default();
        let k = others.len().min(5);
        p.related_ids = rand::seq::index::sample(rng, others.len(), k)
            .into_iter()
            .map(|i| others[i])
            .collect();
        if !others.is_empty() && rng.gen_bool(0.05) {
            p.upsell_ids = vec![others[rng.gen_range(0..others.len())]];
        }
    }
}
