//! Seeded taxonomies: categories (a prefix of the department tree, larger
//! stores get more), tags, and the global size and colour attributes with
//! their terms. Term ids follow WordPress creation order.

use std::collections::HashMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::slugify;
use crate::woo::model::{Attribute, AttributeTerm, Ids, Store, Term};
use crate::words::{CATEGORIES, COLOURS, SIZES, TAGS};

pub(crate) const SIZE_ATTRIBUTE: i64 = 1;
pub(crate) const COLOUR_ATTRIBUTE: i64 = 2;

/// Categories, tags, attributes and terms; term ids in WordPress creation
/// order (categories, tags, sizes, colours).
pub(crate) fn taxonomies(store: &mut Store, rng: &mut ChaCha8Rng, n_products: usize) {
    let uncategorized = Ids::next(&mut store.ids.term);
    store.categories.insert(
        uncategorized,
        Term {
            id: uncategorized,
            name: "Uncategorized".to_owned(),
            slug: "uncategorized".to_owned(),
            parent: 0,
            description: String::new(),
            display: "default",
            menu_order: 0,
        },
    );
    let n_cats = (20 + n_products / 500).min(CATEGORIES.len());
    let mut by_name: HashMap<&str, i64> = HashMap::new();
    for spec in &CATEGORIES[..n_cats] {
        let id = Ids::next(&mut store.ids.term);
        by_name.insert(spec.name, id);
        let parent = spec
            .parent
            .and_then(|p| by_name.get(p).copied())
            .unwrap_or(0);
        store.categories.insert(
            id,
            Term {
                id,
                name: spec.name.to_owned(),
                slug: slugify(spec.name),
                parent,
                description: spec.description.to_owned(),
                display: if rng.gen_bool(0.15) {
                    "products"
                } else {
                    "default"
                },
                menu_order: 0,
            },
        );
    }
    for name in TAGS {
        let id = Ids::next(&mut store.ids.term);
        store.tags.insert(
            id,
            Term {
                id,
                name: (*name).to_owned(),
                slug: slugify(name),
                parent: 0,
                description: String::new(),
                display: "default",
                menu_order: 0,
            },
        );
    }
    for (id, name, slug, order_by) in [
        (SIZE_ATTRIBUTE, "Size", "pa_size", "menu_order"),
        (COLOUR_ATTRIBUTE, "Colour", "pa_colour", "name"),
    ] {
        store.ids.attribute = id + 1;
        store.attributes.push(Attribute {
            id,
            name: name.to_owned(),
            slug: slug.to_owned(),
            order_by,
        });
    }
    for (i, (name, slug)) in SIZES.iter().enumerate() {
        push_term(store, SIZE_ATTRIBUTE, name, slug, i as i64);
    }
    for (name, slug, _) in COLOURS {
        push_term(store, COLOUR_ATTRIBUTE, name, slug, 0);
    }
}

fn push_term(store: &mut Store, attribute_id: i64, name: &str, slug: &str, menu_order: i64) {
    let id = Ids::next(&mut store.ids.term);
    store.attribute_terms.insert(
        id,
        AttributeTerm {
            id,
            attribute_id,
            name: name.to_owned(),
            slug: slug.to_owned(),
            menu_order,
        },
    );
}

pub(super) fn term_id(store: &Store, attribute_id: i64, slug: &str) -> i64 {
    store
        .attribute_terms
        .values()
        .find(|t| t.attribute_id == attribute_id && t.slug == slug)
        .map(|t| t.id)
        .unwrap_or(0)
}
