//! The till's sales report: what this till sold and refunded in a span of
//! time, summed from its own records (`local_orders`, `local_order_lines`,
//! `local_refunds`) and, for sales the shop has confirmed, the replica's
//! copy of the shop's order (its tax, as the shop computed it).
//!
//! Four aggregate reads, one row per order, line, tax line or refund in
//! the span; the amounts are summed here in `Decimal` (SQLite would sum the
//! text amounts as floating point).
//!
//! - A sale is **confirmed** when its outbox entry is: the shop has the
//!   order. Anything else (queued, sending, unknown, rejected) is still only
//!   on this till and is summed apart. A discarded sale is left out: the
//!   manager dropped it, and it will never reach the shop.
//! - A sale counts on the day it was rung up (`sold_at`); a refund on the
//!   day it was made (`created_at`), whatever the day of its sale.
//! - Tax of a confirmed sale is the shop's (`total_tax` and its tax lines);
//!   of an unconfirmed one, an estimate: the tax included in the line at the
//!   base rate of its class, as the till prices lines. When the shop's
//!   prices exclude tax, the shop adds it and the estimate is zero.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, named_params};
use serde::Serialize;

use super::StoreError;
use crate::domain::{Amount, money};

/// One row per local sale in the span.
const SALES: &str = "
SELECT o.id, o.payment_method, o.payment_method_title, e.state, o.total, r.total_tax
FROM local_orders o
JOIN outbox e ON e.id = o.outbox_id
LEFT JOIN orders r ON r.id = o.upstream_id AND e.state = 'confirmed'
WHERE o.sold_at >= :from AND o.sold_at < :until AND e.state <> 'discarded'";

/// One row per line of a local sale in the span, with the base tax rate
/// the till would gross it up by (as `till::TAX_RATE`).
const SALE_LINES: &str = "
SELECT e.state, l.unit_price, l.quantity, l.discount, l.total, tr.id, tr.name, tr.rate,
       o.payment_method, o.payment_method_title, e.state = 'confirmed' AND r.id IS NOT NULL
FROM local_orders o
JOIN outbox e ON e.id = o.outbox_id
JOIN local_order_lines l ON l.order_id = o.id
LEFT JOIN orders r ON r.id = o.upstream_id
LEFT JOIN tax_rates tr ON tr.id = (
    SELECT r.id
    FROM products p LEFT JOIN products pp ON pp.id = p.parent_id AND p.parent_id <> 0,
         tax_rates r, store_info s
    WHERE p.id = CASE WHEN l.variation_id <> 0 THEN l.variation_id ELSE l.product_id END
      AND s.prices_include_tax = 1 AND s.calc_taxes = 1
      AND (CASE WHEN p.type = 'variation' THEN COALESCE(pp.tax_status, p.tax_status) ELSE p.tax_status END) = 'taxable'
      AND r.compound = 0
      AND r.class = CASE
          WHEN (CASE WHEN p.tax_class = 'parent' THEN COALESCE(pp.tax_class, '') ELSE p.tax_class END) = ''
          THEN 'standard'
          ELSE (CASE WHEN p.tax_class = 'parent' THEN COALESCE(pp.tax_class, '') ELSE p.tax_class END)
      END
      AND r.country IN ('', substr(s.base_location, 1, 2))
    ORDER BY r.priority, r.country DESC, r.rate_order
    LIMIT 1)
WHERE o.sold_at >= :from AND o.sold_at < :until AND e.state <> 'discarded'";

/// The shop's tax lines of the confirmed sales in the span.
const CONFIRMED_TAX_LINES: &str = "
SELECT t.rate_id, t.label, t.tax_total
FROM local_orders o
JOIN outbox e ON e.id = o.outbox_id
JOIN order_tax_lines t ON t.order_id = o.upstream_id
WHERE o.sold_at >= :from AND o.sold_at < :until AND e.state = 'confirmed'";

/// One row per refund made at this till in the span, with the payment
/// method of the sale refunded (local or the shop's order).
const REFUNDS: &str = "
SELECT e.state, f.amount,
       COALESCE(o.payment_method, uo.payment_method, ''),
       COALESCE(o.payment_method_title, uo.payment_method_title, '')
FROM local_refunds f
JOIN outbox e ON e.id = f.outbox_id
LEFT JOIN local_orders o ON o.id = f.order_local_id
LEFT JOIN orders uo ON uo.id = f.order_id
WHERE f.created_at >= :from AND f.created_at < :until AND e.state <> 'discarded'";

/// The shop's tax rates (a short table), to show a tax line's percentage.
const RATES: &str = "SELECT id, rate FROM tax_rates";

const CURRENCY: &str = "SELECT currency FROM store_info WHERE singleton = 1";

/// Sums of one part of the report (all, a payment method, a tax rate).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Sales rung up.
    pub sales: u64,
    /// Before discounts: unit price × quantity, as the till priced lines.
    pub gross: Amount,
    /// Taken off lines at the till.
    pub discounts: Amount,
    /// What was charged: `gross − discounts`.
    pub sales_total: Amount,
    /// The tax included in `sales_total` (the shop's once confirmed).
    pub tax: Amount,
    /// Refunds made.
    pub refund_count: u64,
    /// Money given back.
    pub refunds: Amount,
    /// `sales_total − refunds`: what stays in the till.
    pub net: Amount,
}

impl Totals {
    fn finish(&mut self) {
        self.net = self.sales_total - self.refunds;
        for a in [
            &mut self.gross,
            &mut self.discounts,
            &mut self.sales_total,
            &mut self.tax,
            &mut self.refunds,
            &mut self.net,
        ] {
            *a = money(*a);
        }
    }
}

/// The totals of one payment method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByPayment {
    pub payment_method: String,
    pub title: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// The tax of one rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByTaxRate {
    /// The shop's tax rate id; 0 for untaxed lines.
    pub rate_id: i64,
    pub label: String,
    /// The percentage, when the replica knows the rate.
    pub rate: Option<Amount>,
    /// What the tax is included in (the lines' charged total), for the
    /// estimated part; `None` for the shop's own tax lines.
    pub taxable: Option<Amount>,
    pub tax: Amount,
}

/// Sales in one state: confirmed by the shop, or only on this till.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Part {
    #[serde(flatten)]
    pub totals: Totals,
    pub by_payment_method: Vec<ByPayment>,
    pub by_tax_rate: Vec<ByTaxRate>,
}

/// The report over `[from_ms, until_ms)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SalesReport {
    /// The shop's currency (`GBP`); empty before the first pull.
    pub currency: String,
    /// The shop has these sales and refunds.
    pub confirmed: Part,
    /// Still only on this till (queued, sending, unknown or rejected).
    pub unconfirmed: Part,
    /// Both together.
    pub all: Totals,
}

/// A tax rate's running sums: its percentage, the charged total it is
/// included in (estimated part only), and the tax.
type RateAcc = (Option<Amount>, Option<Amount>, Amount);

#[derive(Default)]
struct PartAcc {
    totals: Totals,
    by_payment: BTreeMap<(String, String), Totals>,
    by_rate: BTreeMap<(i64, String), RateAcc>,
}

impl PartAcc {
    fn finish(mut self) -> Part {
        self.totals.finish();
        Part {
            totals: self.totals,
            by_payment_method: self
                .by_payment
                .into_iter()
                .map(|((payment_method, title), mut totals)| {
                    totals.finish();
                    ByPayment {
                        payment_method,
                        title,
                        totals,
                    }
                })
                .collect(),
            by_tax_rate: self
                .by_rate
                .into_iter()
                .map(|((rate_id, label), (rate, taxable, tax))| ByTaxRate {
                    rate_id,
                    label,
                    rate: rate.map(money),
                    taxable: taxable.map(money),
                    tax: money(tax),
                })
                .collect(),
        }
    }
}

fn amount(s: Option<String>) -> Amount {
    s.and_then(|s| s.trim().parse().ok()).unwrap_or_default()
}

/// Rounds half away from zero to cents, as WooCommerce rounds tax.
fn cents(a: Amount) -> Amount {
    a.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// The report of sales rung up and refunds made in `[from_ms, until_ms)`
/// (unix milliseconds).
pub fn sales_report(
    conn: &Connection,
    from_ms: i64,
    until_ms: i64,
) -> Result<SalesReport, StoreError> {
    let span = named_params! { ":from": from_ms, ":until": until_ms };
    let mut confirmed = PartAcc::default();
    let mut unconfirmed = PartAcc::default();

    // Sales: count, charged total, payment method, the shop's tax.
    // Unconfirmed tax and every gross/discount come from the lines below.
    let mut stmt = conn.prepare_cached(SALES)?;
    let mut rows = stmt.query(span)?;
    while let Some(r) = rows.next()? {
        let method: String = r.get(1)?;
        let title: String = r.get(2)?;
        let state: String = r.get(3)?;
        let total = amount(r.get(4)?);
        let shop_tax: Option<String> = r.get(5)?;
        let acc = if state == "confirmed" {
            &mut confirmed
        } else {
            &mut unconfirmed
        };
        let tax = shop_tax.map(|t| amount(Some(t)));
        for t in [
            &mut acc.totals,
            acc.by_payment
                .entry((method.clone(), title.clone()))
                .or_default(),
        ] {
            t.sales += 1;
            t.sales_total += total;
            if let Some(tax) = tax {
                t.tax += tax;
            }
        }
    }
    drop(rows);

    // Lines: gross and discounts; the tax estimate of sales the shop does
    // not have (or whose order the replica lacks).
    let mut stmt = conn.prepare_cached(SALE_LINES)?;
    let mut rows = stmt.query(span)?;
    while let Some(r) = rows.next()? {
        let state: String = r.get(0)?;
        let unit = amount(r.get(1)?);
        let qty: i64 = r.get(2)?;
        let discount = amount(r.get(3)?);
        let total = amount(r.get(4)?);
        let rate_id: Option<i64> = r.get(5)?;
        let label: Option<String> = r.get(6)?;
        let rate = r.get::<_, Option<String>>(7)?.map(|s| amount(Some(s)));
        let method: String = r.get(8)?;
        let title: String = r.get(9)?;
        let shop_taxed: bool = r.get(10)?;
        let acc = if state == "confirmed" {
            &mut confirmed
        } else {
            &mut unconfirmed
        };
        let tax = if shop_taxed {
            Amount::ZERO
        } else {
            match rate {
                Some(rate) if !rate.is_zero() => {
                    cents(total - total * Amount::ONE_HUNDRED / (Amount::ONE_HUNDRED + rate))
                }
                _ => Amount::ZERO,
            }
        };
        for t in [
            &mut acc.totals,
            acc.by_payment
                .entry((method.clone(), title.clone()))
                .or_default(),
        ] {
            t.gross += unit * Amount::from(qty);
            t.discounts += discount;
            t.tax += tax;
        }
        if !shop_taxed {
            let e = acc
                .by_rate
                .entry((rate_id.unwrap_or(0), label.unwrap_or_default()))
                .or_insert((rate, Some(Amount::ZERO), Amount::ZERO));
            e.1 = Some(e.1.unwrap_or_default() + total);
            e.2 += tax;
        }
    }
    drop(rows);

    // The shop's tax lines of confirmed sales.
    let mut stmt = conn.prepare_cached(CONFIRMED_TAX_LINES)?;
    let mut rows = stmt.query(span)?;
    while let Some(r) = rows.next()? {
        let rate_id: i64 = r.get(0)?;
        let label: String = r.get(1)?;
        let tax = amount(r.get(2)?);
        let e = confirmed
            .by_rate
            .entry((rate_id, label))
            .or_insert((None, None, Amount::ZERO));
        e.2 += tax;
    }
    drop(rows);
    let rates = rate_percentages(conn)?;
    for ((id, _), v) in confirmed.by_rate.iter_mut() {
        v.0 = rates.get(id).copied();
    }

    // Refunds.
    let mut stmt = conn.prepare_cached(REFUNDS)?;
    let mut rows = stmt.query(span)?;
    while let Some(r) = rows.next()? {
        let state: String = r.get(0)?;
        let refunded = amount(r.get(1)?);
        let method: String = r.get(2)?;
        let title: String = r.get(3)?;
        let acc = if state == "confirmed" {
            &mut confirmed
        } else {
            &mut unconfirmed
        };
        for t in [
            &mut acc.totals,
            acc.by_payment
                .entry((method.clone(), title.clone()))
                .or_default(),
        ] {
            t.refund_count += 1;
            t.refunds += refunded;
        }
    }
    drop(rows);

    let currency: Option<String> = conn
        .prepare_cached(CURRENCY)?
        .query_row([], |r| r.get(0))
        .optional()?;
    let confirmed = confirmed.finish();
    let unconfirmed = unconfirmed.finish();
    let mut all = Totals {
        sales: confirmed.totals.sales + unconfirmed.totals.sales,
        gross: confirmed.totals.gross + unconfirmed.totals.gross,
        discounts: confirmed.totals.discounts + unconfirmed.totals.discounts,
        sales_total: confirmed.totals.sales_total + unconfirmed.totals.sales_total,
        tax: confirmed.totals.tax + unconfirmed.totals.tax,
        refund_count: confirmed.totals.refund_count + unconfirmed.totals.refund_count,
        refunds: confirmed.totals.refunds + unconfirmed.totals.refunds,
        net: Amount::ZERO,
    };
    all.finish();
    Ok(SalesReport {
        currency: currency.unwrap_or_default(),
        confirmed,
        unconfirmed,
        all,
    })
}

fn rate_percentages(conn: &Connection) -> Result<BTreeMap<i64, Amount>, StoreError> {
    let mut stmt = conn.prepare_cached(RATES)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (id, rate) = row?;
        out.insert(id, amount(Some(rate)));
    }
    Ok(out)
}
