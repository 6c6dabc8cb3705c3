//! A large shop, generated deterministically as the project's own domain
//! objects and written through the store's own upserts (so the triggers and
//! the index flush run exactly as during a pull), in big transactions.

use std::time::Instant;

use possync::domain::catalog::{
    Category, Image, ManageStock, Product, ProductAttribute, ProductKind,
};
use possync::domain::customers::{Address, Customer};
use possync::domain::orders::{LineItem, Order, ShippingLine};
use possync::domain::{Amount, GmtTime, Meta, RawJson, Resource};
use possync::store::sync_state::{self, RunOutcome};
use possync::store::{Store, WriteStamp, catalog, customers, orders};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub const ADJECTIVES: &[&str] = &[
    "Vintage", "Classic", "Organic", "Deluxe", "Compact", "Premium", "Rustic", "Modern", "Crème",
    "Nordic", "Urban", "Tropical", "Smart", "Handmade", "Solid", "Café",
];
pub const MATERIALS: &[&str] = &[
    "Cotton", "Linen", "Oak", "Ceramic", "Steel", "Bamboo", "Wool", "Leather", "Glass", "Copper",
    "Denim", "Silk",
];
pub const NOUNS: &[&str] = &[
    "Shirt", "Mug", "Lamp", "Table", "Scarf", "Jacket", "Kettle", "Bowl", "Chair", "Backpack",
    "Candle", "Blanket", "Notebook", "Speaker", "Vase", "Apron", "Teapot", "Wallet", "Hat",
    "Cushion",
];
pub const FIRST: &[&str] = &[
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Emma",
    "François",
    "Grace",
    "Hugo",
    "Isla",
    "Jack",
    "Katie",
    "Liam",
    "Mia",
    "Noah",
    "Olivia",
    "Zoë",
];
pub const LAST: &[&str] = &[
    "Smith", "Jones", "Müller", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans",
    "Thomas", "Johnson", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "White", "Hughes",
    "Edwards", "Green", "García", "Martin", "Lewis", "Clarke",
];
const SIZES: &[&str] = &["S", "M", "L", "XL"];
const COLOURS: &[&str] = &["Red", "Blue", "Black", "White", "Green", "Grey"];

pub const PRODUCTS: i64 = 100_000;
pub const VARIATIONS_PER_PRODUCT: i64 = 4;
/// Half the products are variable, with four variations each: 200,000.
pub const VARIABLE_EVERY: i64 = 2;
pub const CUSTOMERS: i64 = 100_000;
pub const ORDERS: i64 = 200_000;
const CATEGORIES: i64 = 200;
const BATCH: usize = 10_000;

/// What the lookups will ask for.
pub struct Known {
    pub barcodes: Vec<String>,
    pub skus: Vec<String>,
    pub phones: Vec<String>,
}

fn raw(v: serde_json::Value) -> RawJson {
    RawJson(v.to_string())
}

fn money(rng: &mut ChaCha8Rng) -> Amount {
    Amount::new(rng.gen_range(199..20_000), 2)
}

fn ean(n: i64) -> String {
    format!("{:013}", 5_012_345_000_000 + n)
}

fn product(id: i64, parent: i64, rng: &mut ChaCha8Rng, now: GmtTime) -> Product {
    let name = format!(
        "{} {} {}",
        ADJECTIVES.choose(rng).unwrap(),
        MATERIALS.choose(rng).unwrap(),
        NOUNS.choose(rng).unwrap()
    );
    let variable = parent == 0 && id % VARIABLE_EVERY == 0;
    let kind = match (parent, variable) {
        (0, true) => ProductKind::Variable,
        (0, false) => ProductKind::Simple,
        _ => ProductKind::Variation,
    };
    let regular = money(rng);
    let on_sale = rng.gen_bool(0.2);
    let attributes = if parent != 0 {
        vec![ProductAttribute {
            id: 1,
            name: "Size".to_owned(),
            slug: "pa_size".to_owned(),
            options: vec![],
            option: Some(SIZES[(id % 4) as usize].to_owned()),
            variation: true,
        }]
    } else if variable {
        vec![
            ProductAttribute {
                id: 1,
                name: "Size".to_owned(),
                slug: "pa_size".to_owned(),
                options: SIZES.iter().map(|s| (*s).to_owned()).collect(),
                option: None,
                variation: true,
            },
            ProductAttribute {
                id: 2,
                name: "Colour".to_owned(),
                slug: "pa_colour".to_owned(),
                options: vec![(*COLOURS.choose(rng).unwrap()).to_owned()],
                option: None,
                variation: false,
            },
        ]
    } else {
        vec![]
    };
    let meta = if rng.gen_bool(0.2) {
        vec![Meta {
            key: "_ean".to_owned(),
            value: serde_json::Value::String(ean(1_000_000 + id)),
        }]
    } else {
        vec![]
    };
    let sku = format!("SKU-{id:07}");
    Product {
        id,
        parent_id: parent,
        kind,
        status: "publish".to_owned(),
        sku: Some(sku.clone()),
        name: if parent == 0 {
            name
        } else {
            format!("{} - {}", "Variant", SIZES[(id % 4) as usize])
        },
        slug: format!("p-{id}"),
        global_unique_id: rng.gen_bool(0.7).then(|| ean(id)),
        price: Some(regular),
        regular_price: (!variable).then_some(regular),
        sale_price: on_sale.then(|| regular * Amount::new(8, 1)),
        sale_from: on_sale.then(|| now.plus_secs(-86_400 * rng.gen_range(0..20))),
        sale_to: on_sale.then(|| now.plus_secs(86_400 * rng.gen_range(-5..30))),
        tax_status: "taxable".to_owned(),
        tax_class: String::new(),
        manage_stock: if rng.gen_bool(0.7) {
            ManageStock::Yes
        } else {
            ManageStock::No
        },
        stock_quantity: Some(rng.gen_range(0..200)),
        stock_status: "instock".to_owned(),
        backorders: "no".to_owned(),
        attributes,
        images: vec![Image {
            id: id + 10_000_000,
            src: format!("https://shop.example/img/{id}.jpg"),
            name: String::new(),
            alt: String::new(),
        }],
        category_ids: vec![1 + id % CATEGORIES, 1 + (id * 7) % CATEGORIES],
        tag_ids: vec![],
        meta,
        date_created: Some(now),
        date_modified: now,
        raw: raw(serde_json::json!({"id": id, "sku": sku, "type": "product"})),
    }
}

fn address(rng: &mut ChaCha8Rng, first: &str, last: &str, phone: &str) -> Address {
    Address {
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        company: if rng.gen_bool(0.1) {
            format!("{last} & Co")
        } else {
            String::new()
        },
        address_1: format!("{} High Street", rng.gen_range(1..300)),
        address_2: String::new(),
        city: "London".to_owned(),
        state: String::new(),
        postcode: format!("N{} {}AB", rng.gen_range(1..20), rng.gen_range(1..9)),
        country: "GB".to_owned(),
        email: None,
        phone: phone.to_owned(),
    }
}

fn person(id: i64, rng: &mut ChaCha8Rng) -> (String, String, String, String) {
    let first = FIRST.choose(rng).unwrap().to_string();
    let last = LAST.choose(rng).unwrap().to_string();
    let email = format!(
        "{}.{}{id}@example.com",
        first.to_lowercase(),
        last.to_lowercase()
    );
    let phone = format!("+44 7{:03} {:06}", id % 1000, (id * 7919) % 1_000_000);
    (first, last, email, phone)
}

fn customer(id: i64, rng: &mut ChaCha8Rng, now: GmtTime) -> Customer {
    let (first, last, email, phone) = person(id, rng);
    let mut billing = address(rng, &first, &last, &phone);
    billing.email = Some(email.clone());
    Customer {
        id,
        email,
        first_name: first.clone(),
        last_name: last.clone(),
        username: format!("user{id}"),
        role: "customer".to_owned(),
        is_paying_customer: true,
        shipping: address(rng, &first, &last, ""),
        billing,
        meta: vec![],
        date_created: Some(now),
        date_modified: Some(now),
        raw: raw(serde_json::json!({"id": id})),
    }
}

fn order(id: i64, rng: &mut ChaCha8Rng, now: GmtTime) -> Order {
    let customer_id = if rng.gen_bool(0.7) {
        rng.gen_range(1..=CUSTOMERS)
    } else {
        0
    };
    let (first, last, email, phone) = person(customer_id.max(id), rng);
    let mut billing = address(rng, &first, &last, &phone);
    billing.email = Some(email);
    let lines: Vec<LineItem> = (0..rng.gen_range(1..4))
        .map(|k| {
            let product_id = rng.gen_range(1..=PRODUCTS);
            let total = money(rng);
            LineItem {
                id: id * 10 + k,
                name: "Item".to_owned(),
                product_id,
                variation_id: 0,
                quantity: rng.gen_range(1..4),
                sku: Some(format!("SKU-{product_id:07}")),
                global_unique_id: None,
                tax_class: String::new(),
                price: Some(total),
                subtotal: total,
                subtotal_tax: Amount::ZERO,
                total,
                total_tax: Amount::ZERO,
                meta: vec![],
            }
        })
        .collect();
    let pickup = rng.gen_bool(0.1);
    let created = now.plus_secs(-rng.gen_range(0..86_400 * 80));
    Order {
        id,
        parent_id: 0,
        number: id.to_string(),
        order_key: format!("wc_order_{id}"),
        status: ["processing", "completed", "completed", "on-hold"]
            .choose(rng)
            .unwrap()
            .to_string(),
        currency: "GBP".to_owned(),
        prices_include_tax: true,
        customer_id,
        shipping: billing.clone(),
        billing,
        payment_method: "cod".to_owned(),
        payment_method_title: "Cash".to_owned(),
        transaction_id: String::new(),
        created_via: "checkout".to_owned(),
        customer_note: String::new(),
        discount_total: Amount::ZERO,
        discount_tax: Amount::ZERO,
        shipping_total: Amount::ZERO,
        shipping_tax: Amount::ZERO,
        cart_tax: Amount::ZERO,
        total: lines.iter().map(|l| l.total).sum(),
        total_tax: Amount::ZERO,
        date_created: Some(created),
        date_modified: created,
        date_paid: Some(created),
        date_completed: None,
        risk: None,
        meta: vec![],
        line_items: lines,
        shipping_lines: vec![ShippingLine {
            id: id * 10 + 9,
            method_id: if pickup { "local_pickup" } else { "flat_rate" }.to_owned(),
            method_title: String::new(),
            instance_id: "1".to_owned(),
            total: Amount::ZERO,
            total_tax: Amount::ZERO,
            meta: vec![],
        }],
        fee_lines: vec![],
        coupon_lines: vec![],
        tax_lines: vec![],
        refunds: vec![],
        raw: raw(serde_json::json!({"id": id})),
    }
}

/// Seeds the replica and marks every resource as pulled. Returns what the
/// lookups will ask for.
pub async fn seed(store: &Store) -> Known {
    let now = GmtTime::now();
    let stamp = WriteStamp {
        run: None,
        now_ms: 0,
        allow_equal: true,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let started = Instant::now();
    let cats: Vec<Category> = (1..=CATEGORIES)
        .map(|id| Category {
            id,
            parent_id: if id > 20 { 1 + id % 20 } else { 0 },
            name: format!(
                "{} {}",
                MATERIALS[(id % 12) as usize],
                NOUNS[(id % 20) as usize]
            ),
            slug: format!("c-{id}"),
            description: String::new(),
            display: "default".to_owned(),
            image: None,
            menu_order: 0,
            count: 0,
            raw: raw(serde_json::json!({"id": id})),
        })
        .collect();
    store
        .write(move |tx| catalog::upsert_categories(tx, stamp, &cats).map(|_| ()))
        .await
        .unwrap();

    let mut all: Vec<Product> = Vec::new();
    let mut next_variation = PRODUCTS + 1;
    for id in 1..=PRODUCTS {
        let p = product(id, 0, &mut rng, now);
        let variable = p.kind == ProductKind::Variable;
        all.push(p);
        if variable {
            for _ in 0..VARIATIONS_PER_PRODUCT {
                all.push(product(next_variation, id, &mut rng, now));
                next_variation += 1;
            }
        }
    }
    let known = Known {
        barcodes: all
            .iter()
            .filter_map(|p| p.global_unique_id.clone())
            .collect(),
        skus: all.iter().filter_map(|p| p.sku.clone()).collect(),
        phones: Vec::new(),
    };
    for chunk in all.chunks(BATCH) {
        let chunk = chunk.to_vec();
        store
            .write(move |tx| catalog::upsert_products(tx, stamp, &chunk).map(|_| ()))
            .await
            .unwrap();
    }
    eprintln!(
        "  products + variations: {} rows in {:.1?}",
        all.len(),
        started.elapsed()
    );
    drop(all);

    let t = Instant::now();
    let mut phones = Vec::new();
    for start in (1..=CUSTOMERS).step_by(BATCH) {
        let batch: Vec<Customer> = (start..(start + BATCH as i64).min(CUSTOMERS + 1))
            .map(|id| customer(id, &mut rng, now))
            .collect();
        phones.extend(batch.iter().step_by(50).map(|c| c.billing.phone.clone()));
        store
            .write(move |tx| customers::upsert_customers(tx, stamp, &batch).map(|_| ()))
            .await
            .unwrap();
    }
    eprintln!("  customers: {CUSTOMERS} in {:.1?}", t.elapsed());
    let t = Instant::now();
    for start in (1..=ORDERS).step_by(BATCH) {
        let batch: Vec<Order> = (start..(start + BATCH as i64).min(ORDERS + 1))
            .map(|id| order(id, &mut rng, now))
            .collect();
        store
            .write(move |tx| orders::upsert_orders(tx, stamp, &batch).map(|_| ()))
            .await
            .unwrap();
    }
    eprintln!("  orders: {ORDERS} in {:.1?}", t.elapsed());
    let now = possync::domain::time::unix_millis_now();
    store
        .write(move |tx| {
            let outcome = RunOutcome {
                capped: false,
                upstream_total: None,
                warning: None,
                vanished: Vec::new(),
            };
            for r in Resource::ALL {
                // Pulled "now": the agent's timetable counts from here.
                sync_state::record_done(tx, r, None, None, &outcome, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    eprintln!("  seeded in {:.1?}", started.elapsed());
    Known { phones, ..known }
}
