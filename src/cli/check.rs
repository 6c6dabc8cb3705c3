//! `possync check`: is the shop reachable with these keys, and, with
//! `--writes` on a staging profile only, does a whole write round trip work
//! (a hidden test product sold, refunded with restock, then both removed).
//! Each step is reported as it ends; a failed step stops the check and what
//! it made is removed before exiting.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::load_config;
use crate::config::{Config, StoreMode};
use crate::domain::outbox::{OrderRef, Return, ReturnLine, Sale, SaleLine};
use crate::domain::time::unix_millis_now;
use crate::domain::{GmtTime, Resource, UpstreamId};
use crate::error::Error;
use crate::upstream::Upstream;
use crate::upstream::woo::client::WooClient;
use crate::upstream::woo::probe::{ConnectionReport, test_connection};
use crate::upstream::writes::UpstreamWrites;

/// Stock the test product starts with.
const TEST_STOCK: i64 = 5;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also run a write round trip on the shop: create a hidden test
    /// product, sell it, refund the sale, delete both (staging profiles only)
    #[arg(long)]
    pub writes: bool,
}

/// One step's outcome, printed as it ends.
fn report(n: usize, total: usize, what: &str, outcome: &Result<String, String>) {
    match outcome {
        Ok(detail) => println!("[{n}/{total}] ok      {what}: {detail}"),
        Err(why) => println!("[{n}/{total}] FAILED  {what}: {why}"),
    }
}

/// The connection test's findings, one line each.
fn print_connection(r: &ConnectionReport) {
    let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "?".to_owned());
    let yes_no = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    };
    if r.shop_name.is_some() || r.woocommerce_version.is_some() {
        println!(
            "shop: {} (WooCommerce {}, {})",
            or_unknown(&r.shop_name),
            or_unknown(&r.woocommerce_version),
            or_unknown(&r.currency)
        );
    }
    println!(
        "key: read {}, write {}",
        yes_no(r.can_read),
        yes_no(r.can_write)
    );
    if let Some(message) = &r.message {
        println!("connection FAILED: {message}");
    }
    if let Some(detail) = &r.detail {
        println!("  the shop said: {detail}");
    }
}

/// The objects a round trip made so far, removed on the way out.
#[derive(Default)]
struct Made {
    product: Option<UpstreamId>,
    order: Option<UpstreamId>,
}

pub(super) async fn run(config: Option<PathBuf>, args: CheckArgs) -> Result<ExitCode, Error> {
    let config = load_config(config, &[])?;
    let store_cfg = config.store()?;
    if args.writes && store_cfg.mode != StoreMode::Staging {
        return Err(Error::Usage(format!(
            "check --writes refused: the store profile ({}) is marked production; \
             it writes test objects, so it runs only on a test or staging shop with store.mode = \"staging\"",
            store_cfg.address()
        )));
    }
    // What the back office's "Test connection" shows, first: a wrong key,
    // a refused certificate or a read-only key is named in one sentence.
    let connection = test_connection(store_cfg).await;
    print_connection(&connection);
    if !connection.ok {
        return Ok(ExitCode::FAILURE);
    }
    let client = WooClient::new(store_cfg)?;
    let total = if args.writes { 7 } else { 1 };
    let read = client
        .probe()
        .await
        .map(|p| match p.server_time {
            Some(t) => format!("the shop answers, keys accepted, its clock reads {t}Z"),
            None => "the shop answers, keys accepted".to_owned(),
        })
        .map_err(|e| e.to_string());
    report(1, total, "read", &read);
    if read.is_err() {
        return Ok(ExitCode::FAILURE);
    }
    if !args.writes {
        return Ok(ExitCode::SUCCESS);
    }
    let mut made = Made::default();
    let outcome = round_trip(&client, &config, &mut made, total).await;
    let cleaned = clean_up(&client, &made).await;
    match (outcome, cleaned) {
        (Ok(()), Ok(())) => {
            println!("write round trip passed: the shop holds nothing of it");
            Ok(ExitCode::SUCCESS)
        }
        (_, Err(left)) => {
            println!("could not remove what the check made: {left}");
            Ok(ExitCode::FAILURE)
        }
        (Err(()), Ok(())) => {
            println!("write round trip failed; what it made was removed");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Steps 2 to 7; stops at the first failure (already reported).
async fn round_trip(
    client: &WooClient,
    config: &Config,
    made: &mut Made,
    total: usize,
) -> Result<(), ()> {
    let run = Uuid::new_v4().simple().to_string();
    let stamp = GmtTime::now();
    let name = format!("possync write check {stamp}Z (test product, safe to delete)");
    let sku = format!("POSSYNC-CHECK-{}", &run[..12]);
    let price = Decimal::new(100, 2);

    let step = client
        .create_test_product(&name, &sku, "1.00", TEST_STOCK, &run)
        .await
        .map_err(|e| e.to_string());
    let product = match &step {
        Ok(id) => *id,
        Err(_) => 0,
    };
    let step = step.map(|id| {
        made.product = Some(id);
        format!("private, hidden product {id} \"{name}\", {TEST_STOCK} in stock")
    });
    report(2, total, "create test product", &step);
    step.map_err(drop)?;

    let till = &config.till.settings;
    let sale = Sale {
        local_id: Uuid::new_v4(),
        number: format!("CHECK-{}", &run[..8]),
        till_id: till.till_id.clone(),
        sold_at: unix_millis_now(),
        status: "completed".to_owned(),
        paid: true,
        customer: None,
        billing: None,
        payment_method: "cod".to_owned(),
        payment_method_title: "possync write check".to_owned(),
        note: "possync write check: test order, removed by the check".to_owned(),
        lines: vec![SaleLine {
            line_no: 1,
            product_id: product,
            variation_id: 0,
            sku: Some(sku.clone()),
            name: name.clone(),
            quantity: 1,
            unit_price: price,
            discount: Decimal::ZERO,
            total: price,
            priced_by_till: false,
            net_divisor: Decimal::ONE,
        }],
        total: price,
    };
    let key = Uuid::new_v4();
    let created = client
        .create_order(key, &sale, 0)
        .await
        .map_err(|e| e.to_string());
    let step = match &created {
        Ok(c) => {
            made.order = Some(c.order.id);
            let has_key = c
                .order
                .meta
                .iter()
                .any(|m| m.value.as_str() == Some(key.to_string().as_str()));
            if has_key {
                Ok(format!(
                    "order {} ({}, total {} {}), idempotency key in its meta",
                    c.order.id, c.order.status, c.order.total, c.order.currency
                ))
            } else {
                Err(format!(
                    "order {} lacks its idempotency key in meta",
                    c.order.id
                ))
            }
        }
        Err(e) => Err(e.clone()),
    };
    report(3, total, "sell it", &step);
    step.map_err(drop)?;
    let Ok(created) = created else { return Err(()) };

    let step = expect_stock(client, product, TEST_STOCK - 1).await;
    report(4, total, "the shop took the stock", &step);
    step.map_err(drop)?;

    let order = created.order;
    let line = order.line_items.first().map(|l| l.id).unwrap_or(0);
    let ret = Return {
        local_id: Uuid::new_v4(),
        order: OrderRef::Upstream(order.id),
        amount: order.total,
        reason: "possync write check".to_owned(),
        restock: true,
        lines: vec![ReturnLine {
            line_ref: 1,
            product_id: product,
            variation_id: 0,
            quantity: 1,
            amount: order.total,
        }],
    };
    let lines = BTreeMap::from([(1, line)]);
    let refunded = client
        .create_refund(Uuid::new_v4(), order.id, &ret, &lines)
        .await
        .map_err(|e| e.to_string());
    let step = match refunded {
        Ok(r) => expect_stock(client, product, TEST_STOCK)
            .await
            .map(|stock| format!("refund {} of {}, restocked: {stock}", r.id, r.amount)),
        Err(e) => Err(e),
    };
    report(5, total, "refund it with restock", &step);
    step.map_err(drop)?;

    let step = client
        .delete_order(order.id)
        .await
        .map(|()| {
            made.order = None;
            format!("order {} deleted for good", order.id)
        })
        .map_err(|e| e.to_string());
    report(6, total, "delete the order", &step);
    step.map_err(drop)?;

    let step = match client.delete_product(product).await {
        Ok(()) => match client.fetch_one(Resource::Products, product).await {
            Ok(None) => {
                made.product = None;
                Ok(format!(
                    "product {product} deleted; the shop no longer has it"
                ))
            }
            Ok(Some(_)) => Err(format!("product {product} is still on the shop")),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    report(7, total, "delete the test product", &step);
    step.map(drop).map_err(drop)
}

async fn expect_stock(
    client: &WooClient,
    product: UpstreamId,
    want: i64,
) -> Result<String, String> {
    match client.stock(product, 0).await {
        Ok(level) if level.quantity == Some(want) => Ok(format!("{want} in stock")),
        Ok(level) => Err(format!("stock is {:?}, expected {want}", level.quantity)),
        Err(e) => Err(e.to_string()),
    }
}

/// Removes what a failed round trip left behind.
async fn clean_up(client: &WooClient, made: &Made) -> Result<(), String> {
    let mut left = Vec::new();
    if let Some(id) = made.order
        && let Err(e) = client.delete_order(id).await
    {
        left.push(format!("order {id} ({e})"));
    }
    if let Some(id) = made.product
        && let Err(e) = client.delete_product(id).await
    {
        left.push(format!("product {id} ({e})"));
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(left.join(", "))
    }
}
