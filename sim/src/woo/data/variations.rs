//! Seeded variations of a variable product: size × colour combinations,
//! each with its own SKU, price, sale and stock.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::catalog::{price_pence, pricing, stock};
use super::ean13;
use super::taxonomy::{COLOUR_ATTRIBUTE, SIZE_ATTRIBUTE, term_id};
use crate::woo::clock::Ts;
use crate::woo::model::{
    Ids, PostStatus, Product, ProductAttribute, StockStatus, Store, Variation,
};
use crate::words::{COLOURS, CategorySpec, SIZES};

pub(super) fn variable(
    store: &mut Store,
    rng: &mut ChaCha8Rng,
    p: &mut Product,
    spec: &CategorySpec,
    anchor: Ts,
) {
    let (mut sizes, mut colours) = (spec.sizes, spec.colours);
    if sizes && colours && rng.gen_bool(0.3) {
        sizes = rng.gen_bool(0.5);
        colours = !sizes;
    }
    let target = rng.gen_range(2..=8usize);
    let mut size_pick: Vec<usize> = Vec::new();
    let mut colour_pick: Vec<usize> = Vec::new();
    if sizes && colours {
        let ns = if target >= 4 {
            rng.gen_range(2..=4usize)
        } else {
            2
        };
        let nc = (target / ns).clamp(1, 2);
        let first = rng.gen_range(0..=SIZES.len() - ns);
        size_pick = (first..first + ns).collect();
        colour_pick = rand::seq::index::sample(rng, COLOURS.len(), nc).into_vec();
        colour_pick.sort_unstable();
    } else if sizes {
        let ns = target.clamp(2, SIZES.len());
        let first = rng.gen_range(0..=SIZES.len() - ns);
        size_pick = (first..first + ns).collect();
    } else {
        colour_pick = rand::seq::index::sample(rng, COLOURS.len(), target).into_vec();
        colour_pick.sort_unstable();
    }
    let size_terms: Vec<i64> = size_pick
        .iter()
        .map(|&i| term_id(store, SIZE_ATTRIBUTE, SIZES[i].1))
        .collect();
    let colour_terms: Vec<i64> = colour_pick
        .iter()
        .map(|&i| term_id(store, COLOUR_ATTRIBUTE, COLOURS[i].1))
        .collect();
    if !size_terms.is_empty() {
        p.attributes.push(ProductAttribute {
            attribute_id: SIZE_ATTRIBUTE,
            term_ids: size_terms.clone(),
            position: 0,
            visible: true,
            variation: true,
        });
    }
    if !colour_terms.is_empty() {
        p.attributes.push(ProductAttribute {
            attribute_id: COLOUR_ATTRIBUTE,
            term_ids: colour_terms.clone(),
            position: 0,
            visible: true,
            variation: true,
        });
    }
    // Every size × colour combination; one side may be absent.
    let mut combos: Vec<(Option<usize>, Option<usize>)> = Vec::new();
    for si in size_pick
        .iter()
        .map(|&s| Some(s))
        .chain(size_pick.is_empty().then_some(None))
    {
        for ci in colour_pick
            .iter()
            .map(|&c| Some(c))
            .chain(colour_pick.is_empty().then_some(None))
        {
            combos.push((si, ci));
        }
    }
    if rng.gen_bool(0.2) {
        let (si, ci) = combos[0];
        p.default_attributes = si
            .map(|s| (SIZE_ATTRIBUTE, term_id(store, SIZE_ATTRIBUTE, SIZES[s].1)))
            .into_iter()
            .chain(ci.map(|c| {
                (
                    COLOUR_ATTRIBUTE,
                    term_id(store, COLOUR_ATTRIBUTE, COLOURS[c].1),
                )
            }))
            .collect();
    }
    let base = price_pence(rng, spec.price);
    for (menu_order, (si, ci)) in combos.into_iter().enumerate() {
        let id = Ids::next(&mut store.ids.post);
        let mut sku = p.sku.clone();
        if let Some(c) = ci {
            sku.push('-');
            sku.push_str(COLOURS[c].2);
        }
        if let Some(s) = si {
            sku.push('-');
            sku.push_str(SIZES[s].0);
        }
        // Bigger sizes cost a little more.
        let uplift = si.map_or(0, |s| if s >= 4 { 200 } else { 0 });
        let mut attributes = Vec::new();
        if let Some(s) = si {
            attributes.push((SIZE_ATTRIBUTE, term_id(store, SIZE_ATTRIBUTE, SIZES[s].1)));
        }
        if let Some(c) = ci {
            attributes.push((
                COLOUR_ATTRIBUTE,
                term_id(store, COLOUR_ATTRIBUTE, COLOURS[c].1),
            ));
        }
        let created = p.created + 1;
        let v = Variation {
            id,
            parent_id: p.id,
            status: if rng.gen_bool(0.03) {
                PostStatus::Private
            } else if p.status == PostStatus::Trash {
                PostStatus::Trash
            } else {
                PostStatus::Publish
            },
            sku: sku.clone(),
            global_unique_id: if rng.gen_bool(0.3) {
                ean13(rng)
            } else {
                String::new()
            },
            pricing: pricing(rng, base + uplift, anchor),
            created,
            modified: (p.modified - rng.gen_range(0..3600)).max(created),
            description: String::new(),
            is_virtual: false,
            downloadable: false,
            tax_status: "taxable",
            tax_class: p.tax_class.clone(),
            stock: stock(rng, true),
            weight: String::new(),
            dimensions: Default::default(),
            attributes,
            menu_order: menu_order as i64,
            total_sales: 0,
            meta: vec![],
        };
        store.skus.insert(sku, id);
        p.variation_ids.push(id);
        store.variations.insert(id, v);
    }
    refresh_parent_stock(store, p);
}

/// A variable product's own stock status follows its children: in stock if
/// any child is, else on backorder if any is, else out of stock.
pub(crate) fn refresh_parent_stock(store: &Store, p: &mut Product) {
    let children: Vec<StockStatus> = p
        .variation_ids
        .iter()
        .filter_map(|id| store.variations.get(id))
        .filter(|v| v.status == PostStatus::Publish)
        .map(|v| v.stock.status)
        .collect();
    p.stock.status = if children.contains(&StockStatus::InStock) {
        StockStatus::InStock
    } else if children.contains(&StockStatus::OnBackorder) {
        StockStatus::OnBackorder
    } else {
        StockStatus::OutOfStock
    };
}
