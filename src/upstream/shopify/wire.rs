//! Shopify's GraphQL objects as the queries in [`super::queries`] select
//! them, and their mapping into the project's own types.
//!
//! Shopify ids are `gid://shopify/{Type}/{number}`: the number is our
//! [`UpstreamId`]. A product whose only variant is the default one
//! (`hasOnlyDefaultVariant`, titled "Default Title") is a simple product
//! carrying that variant's price, SKU, barcode and stock; any other product
//! is variable, its variants our variations. Collections are categories.
//! Stock is the `available` quantity at the configured location. Every
//! record keeps the node as received in `raw`.
//!
//! Only `id` and `updatedAt` (the version the replica's guard compares) are
//! required of a node; other fields default when a selection leaves them out.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::catalog::{Category, ManageStock, Product, ProductAttribute, ProductKind};
use crate::domain::customers::{Address, Customer};
use crate::domain::orders::{LineItem, Order, Refund, RefundLine, RefundSummary, TaxLine};
use crate::domain::{Amount, GmtTime, Meta, RawJson, UpstreamId};
use crate::upstream::UpstreamError;

/// The variant title Shopify gives a product's only, default variant.
pub const DEFAULT_VARIANT_TITLE: &str = "Default Title";

/// Meta keys under which Shopify-only facts are kept on our records.
pub const META_RISK: &str = "_shopify_risk_recommendation";
pub const META_SOURCE_IDENTIFIER: &str = "_shopify_source_identifier";
pub const META_POSSYNC_KEY: &str = "possync.key";
pub const META_TAGS: &str = "_shopify_tags";

fn malformed(detail: String) -> UpstreamError {
    UpstreamError::Malformed {
        detail,
        snippet: String::new(),
    }
}

/// The number in `gid://shopify/{kind}/{number}` (a query string after it
/// is ignored).
pub fn gid_number(gid: &str, kind: &str) -> Result<UpstreamId, UpstreamError> {
    let rest = gid
        .strip_prefix("gid://shopify/")
        .and_then(|r| r.strip_prefix(kind))
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| malformed(format!("{gid:?} is not a {kind} id")))?;
    let digits = rest.split(['?', '/']).next().unwrap_or("");
    digits
        .parse::<UpstreamId>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| malformed(format!("{gid:?} is not a {kind} id")))
}

/// `gid://shopify/{kind}/{id}`.
pub fn gid(kind: &str, id: UpstreamId) -> String {
    format!("gid://shopify/{kind}/{id}")
}

fn time(s: &str, what: &str) -> Result<GmtTime, UpstreamError> {
    GmtTime::parse(s).ok_or_else(|| malformed(format!("{what}: {s:?} is not a date-time")))
}

fn opt_time(s: &Option<String>, what: &str) -> Result<Option<GmtTime>, UpstreamError> {
    s.as_deref().map(|s| time(s, what)).transpose()
}

/// Reads a node into `T`, keeping the node's text as `raw`.
pub fn read_node<T: DeserializeOwned>(
    node: &Value,
    what: &str,
) -> Result<(T, RawJson), UpstreamError> {
    let t = T::deserialize(node).map_err(|e| malformed(format!("{what}: {e}")))?;
    Ok((t, RawJson(node.to_string())))
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: Amount,
}

/// `{ shopMoney { amount currencyCode } }`.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: Money,
}

fn amount(bag: &Option<MoneyBag>) -> Amount {
    bag.as_ref()
        .map(|b| b.shop_money.amount)
        .unwrap_or_default()
}

#[derive(Debug, Deserialize)]
pub struct IdOnly {
    pub id: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireProduct {
    pub id: String,
    pub updated_at: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub handle: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub created_at: Option<String>,
    /// `None` when not selected: decided from the variants then.
    pub has_only_default_variant: Option<bool>,
    #[serde(default)]
    pub options: Vec<ProductOption>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SelectedOption {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantProduct {
    pub id: String,
    pub has_only_default_variant: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub struct Quantity {
    pub name: String,
    pub quantity: i64,
}

#[derive(Debug, Deserialize)]
pub struct InventoryLevel {
    #[serde(default)]
    pub quantities: Vec<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItem {
    #[serde(default)]
    pub tracked: bool,
    /// `null` when the item is not stocked at the location.
    pub inventory_level: Option<InventoryLevel>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireVariant {
    pub id: String,
    /// Required of a variation (its version); a simple product's version is
    /// the product's own.
    pub updated_at: Option<String>,
    #[serde(default)]
    pub title: String,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub price: Option<Amount>,
    pub compare_at_price: Option<Amount>,
    #[serde(default = "yes")]
    pub taxable: bool,
    pub inventory_policy: Option<String>,
    pub created_at: Option<String>,
    #[serde(default)]
    pub selected_options: Vec<SelectedOption>,
    pub product: Option<VariantProduct>,
    pub inventory_item: Option<InventoryItem>,
}

fn yes() -> bool {
    true
}

impl WireVariant {
    /// Whether this is a product's only, default variant.
    pub fn is_default(&self) -> bool {
        match self
            .product
            .as_ref()
            .and_then(|p| p.has_only_default_variant)
        {
            Some(only) => only,
            None => self.title == DEFAULT_VARIANT_TITLE,
        }
    }
}

/// Shopify's product status in the till's terms: only `ACTIVE` is on sale.
pub(super) fn product_status(s: &str) -> String {
    match s {
        "ACTIVE" => "publish",
        "DRAFT" => "draft",
        // Hidden from every channel but kept: not for sale.
        "ARCHIVED" | "UNLISTED" => "private",
        "" => "publish",
        other => return other.to_ascii_lowercase(),
    }
    .to_owned()
}

/// The commercial fields a variant gives a simple product or a variation.
struct Sellable {
    sku: Option<String>,
    barcode: Option<String>,
    price: Option<Amount>,
    regular: Option<Amount>,
    sale: Option<Amount>,
    taxable: bool,
    manage: ManageStock,
    quantity: Option<i64>,
    stock_status: String,
    backorders: String,
}

fn sellable(v: &WireVariant) -> Sellable {
    // `compareAtPrice` above the price is the "was" price: the variant is
    // on sale at `price`.
    let (regular, sale) = match (v.price, v.compare_at_price) {
        (Some(p), Some(was)) if was > p => (Some(was), Some(p)),
        (p, _) => (p, None),
    };
    let tracked = v.inventory_item.as_ref().is_some_and(|i| i.tracked);
    let quantity = v
        .inventory_item
        .as_ref()
        .and_then(|i| i.inventory_level.as_ref())
        .and_then(|l| l.quantities.iter().find(|q| q.name == "available"))
        .map(|q| q.quantity);
    let continues = v.inventory_policy.as_deref() == Some("CONTINUE");
    let stock_status = if !tracked || quantity.unwrap_or(0) > 0 {
        "instock"
    } else if continues {
        "onbackorder"
    } else {
        "outofstock"
    };
    Sellable {
        sku: v.sku.clone().filter(|s| !s.is_empty()),
        barcode: v.barcode.clone().filter(|s| !s.is_empty()),
        price: v.price,
        regular,
        sale,
        taxable: v.taxable,
        manage: if tracked {
            ManageStock::Yes
        } else {
            ManageStock::No
        },
        // Tracked but not stocked at this location: none to sell here.
        quantity: if tracked {
            Some(quantity.unwrap_or(0))
        } else {
            None
        },
        stock_status: stock_status.to_owned(),
        backorders: if continues { "yes" } else { "no" }.to_owned(),
    }
}

fn apply(p: &mut Product, s: Sellable) {
    p.sku = s.sku;
    p.global_unique_id = s.barcode;
    p.price = s.price;
    p.regular_price = s.regular;
    p.sale_price = s.sale;
    p.tax_status = if s.taxable { "taxable" } else { "none" }.to_owned();
    p.manage_stock = s.manage;
    p.stock_quantity = s.quantity;
    p.stock_status = s.stock_status;
    p.backorders = s.backorders;
}

/// A product, with its collections' ids and, when it has only the default
/// variant, that variant (`None` otherwise, or when not selected).
pub fn product(
    w: &WireProduct,
    raw: RawJson,
    collection_ids: Vec<UpstreamId>,
    default_variant: Option<&WireVariant>,
) -> Result<Product, UpstreamError> {
    let id = gid_number(&w.id, "Product")?;
    let simple = match (w.has_only_default_variant, default_variant) {
        (Some(only), _) => only,
        (None, Some(v)) => v.is_default(),
        (None, None) => false,
    };
    let mut p = Product {
        id,
        parent_id: 0,
        kind: if simple {
            ProductKind::Simple
        } else {
            ProductKind::Variable
        },
        status: product_status(&w.status),
        sku: None,
        name: w.title.clone(),
        slug: w.handle.clone(),
        global_unique_id: None,
        price: None,
        regular_price: None,
        sale_price: None,
        sale_from: None,
        sale_to: None,
        tax_status: "taxable".to_owned(),
        tax_class: String::new(),
        manage_stock: ManageStock::No,
        stock_quantity: None,
        stock_status: "instock".to_owned(),
        backorders: "no".to_owned(),
        attributes: if simple {
            Vec::new()
        } else {
            w.options
                .iter()
                .map(|o| ProductAttribute {
                    id: 0,
                    name: o.name.clone(),
                    slug: String::new(),
                    options: o.values.clone(),
                    option: None,
                    variation: true,
                })
                .collect()
        },
        images: Vec::new(),
        category_ids: collection_ids,
        tag_ids: Vec::new(),
        meta: tags_meta(&w.tags),
        date_created: opt_time(&w.created_at, "product createdAt")?,
        date_modified: time(&w.updated_at, "product updatedAt")?,
        raw,
    };
    if simple {
        let v = default_variant.ok_or_else(|| {
            malformed(format!(
                "product {} has only the default variant but it was not read",
                w.id
            ))
        })?;
        apply(&mut p, sellable(v));
    }
    Ok(p)
}

fn tags_meta(tags: &[String]) -> Vec<Meta> {
    if tags.is_empty() {
        return Vec::new();
    }
    vec![Meta {
        key: META_TAGS.to_owned(),
        value: Value::from(tags.to_vec()),
    }]
}

/// A variant of a variable product, as our variation. `parent_id` comes
/// from the variant's `product` or, in a bulk file, from its parent line.
pub fn variation(
    v: &WireVariant,
    raw: RawJson,
    parent_id: Option<UpstreamId>,
) -> Result<Product, UpstreamError> {
    let parent = match (parent_id, &v.product) {
        (Some(p), _) => p,
        (None, Some(p)) => gid_number(&p.id, "Product")?,
        (None, None) => return Err(malformed(format!("variant {} names no product", v.id))),
    };
    let mut p = Product {
        id: gid_number(&v.id, "ProductVariant")?,
        parent_id: parent,
        kind: ProductKind::Variation,
        status: "publish".to_owned(),
        sku: None,
        name: v.title.clone(),
        slug: String::new(),
        global_unique_id: None,
        price: None,
        regular_price: None,
        sale_price: None,
        sale_from: None,
        sale_to: None,
        tax_status: "taxable".to_owned(),
        tax_class: String::new(),
        manage_stock: ManageStock::No,
        stock_quantity: None,
        stock_status: "instock".to_owned(),
        backorders: "no".to_owned(),
        attributes: v
            .selected_options
            .iter()
            .map(|o| ProductAttribute {
                id: 0,
                name: o.name.clone(),
                slug: String::new(),
                options: Vec::new(),
                option: Some(o.value.clone()),
                variation: true,
            })
            .collect(),
        images: Vec::new(),
        category_ids: Vec::new(),
        tag_ids: Vec::new(),
        meta: Vec::new(),
        date_created: opt_time(&v.created_at, "variant createdAt")?,
        date_modified: time(
            v.updated_at
                .as_deref()
                .ok_or_else(|| malformed(format!("variant {}: no updatedAt", v.id)))?,
            "variant updatedAt",
        )?,
        raw,
    };
    apply(&mut p, sellable(v));
    Ok(p)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Count {
    pub count: i64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireCollection {
    pub id: String,
    pub updated_at: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub handle: String,
    #[serde(default)]
    pub description: String,
    pub products_count: Option<Count>,
}

pub fn category(w: &WireCollection, raw: RawJson) -> Result<Category, UpstreamError> {
    time(&w.updated_at, "collection updatedAt")?;
    Ok(Category {
        id: gid_number(&w.id, "Collection")?,
        parent_id: 0,
        name: w.title.clone(),
        slug: w.handle.clone(),
        description: w.description.clone(),
        display: "default".to_owned(),
        image: None,
        menu_order: 0,
        count: w.products_count.as_ref().map_or(0, |c| c.count),
        raw,
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct WireAddress {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub province: Option<String>,
    pub province_code: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    pub country_code_v2: Option<String>,
    pub phone: Option<String>,
}

fn address(a: Option<&WireAddress>, email: Option<String>) -> Address {
    let Some(a) = a else {
        return Address {
            email,
            ..Address::default()
        };
    };
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    Address {
        first_name: s(&a.first_name),
        last_name: s(&a.last_name),
        company: s(&a.company),
        address_1: s(&a.address1),
        address_2: s(&a.address2),
        city: s(&a.city),
        state: a
            .province_code
            .clone()
            .or_else(|| a.province.clone())
            .unwrap_or_default(),
        postcode: s(&a.zip),
        country: a
            .country_code_v2
            .clone()
            .or_else(|| a.country.clone())
            .unwrap_or_default(),
        email,
        phone: s(&a.phone),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailAddress {
    pub email_address: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneNumber {
    pub phone_number: String,
}

/// `UnsignedInt64` arrives as a string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum U64Text {
    Text(String),
    Number(u64),
}

impl U64Text {
    fn value(&self) -> Option<u64> {
        match self {
            U64Text::Text(s) => s.parse().ok(),
            U64Text::Number(n) => Some(*n),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireCustomer {
    pub id: String,
    pub updated_at: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub created_at: Option<String>,
    pub number_of_orders: Option<U64Text>,
    pub default_email_address: Option<EmailAddress>,
    pub default_phone_number: Option<PhoneNumber>,
    pub default_address: Option<WireAddress>,
    #[serde(default)]
    pub tags: Vec<String>,
}

pub fn customer(w: &WireCustomer, raw: RawJson) -> Result<Customer, UpstreamError> {
    let email = w
        .default_email_address
        .as_ref()
        .map(|e| e.email_address.clone())
        .unwrap_or_default();
    let mut billing = address(w.default_address.as_ref(), Some(email.clone()));
    if let (true, Some(p)) = (billing.phone.is_empty(), &w.default_phone_number) {
        billing.phone = p.phone_number.clone();
    }
    let shipping = Address {
        email: None,
        ..billing.clone()
    };
    Ok(Customer {
        id: gid_number(&w.id, "Customer")?,
        email,
        first_name: w.first_name.clone().unwrap_or_default(),
        last_name: w.last_name.clone().unwrap_or_default(),
        username: String::new(),
        role: "customer".to_owned(),
        is_paying_customer: w
            .number_of_orders
            .as_ref()
            .and_then(U64Text::value)
            .is_some_and(|n| n > 0),
        billing,
        shipping,
        meta: tags_meta(&w.tags),
        date_created: opt_time(&w.created_at, "customer createdAt")?,
        date_modified: Some(time(&w.updated_at, "customer updatedAt")?),
        raw,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireTaxLine {
    #[serde(default)]
    pub title: String,
    pub price_set: Option<MoneyBag>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomAttribute {
    pub key: String,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireLineItem {
    pub id: String,
    pub name: Option<String>,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub quantity: i64,
    pub sku: Option<String>,
    pub product: Option<VariantProduct>,
    pub variant: Option<IdOnly>,
    pub original_unit_price_set: Option<MoneyBag>,
    pub original_total_set: Option<MoneyBag>,
    pub discounted_total_set: Option<MoneyBag>,
    #[serde(default)]
    pub tax_lines: Vec<WireTaxLine>,
    #[serde(default)]
    pub custom_attributes: Vec<CustomAttribute>,
}

/// A line's product and variation ids in our terms: a simple product's
/// default variant is the product itself (variation 0).
fn line_ids(
    product: Option<&VariantProduct>,
    variant: Option<&IdOnly>,
) -> Result<(UpstreamId, UpstreamId), UpstreamError> {
    let product_id = product
        .map(|p| gid_number(&p.id, "Product"))
        .transpose()?
        .unwrap_or(0);
    let simple = product
        .and_then(|p| p.has_only_default_variant)
        .unwrap_or(false);
    let variation_id = match variant {
        Some(v) if !simple => gid_number(&v.id, "ProductVariant")?,
        _ => 0,
    };
    Ok((product_id, variation_id))
}

fn line_item(w: &WireLineItem) -> Result<LineItem, UpstreamError> {
    let (product_id, variation_id) = line_ids(w.product.as_ref(), w.variant.as_ref())?;
    let tax: Amount = w.tax_lines.iter().map(|t| amount(&t.price_set)).sum();
    let subtotal = match &w.original_total_set {
        Some(b) => b.shop_money.amount,
        None => amount(&w.original_unit_price_set) * Amount::from(w.quantity),
    };
    let total = match &w.discounted_total_set {
        Some(b) => b.shop_money.amount,
        None => subtotal,
    };
    Ok(LineItem {
        id: gid_number(&w.id, "LineItem")?,
        name: w.name.clone().unwrap_or_else(|| w.title.clone()),
        product_id,
        variation_id,
        quantity: w.quantity,
        sku: w.sku.clone().filter(|s| !s.is_empty()),
        global_unique_id: None,
        tax_class: String::new(),
        price: w
            .original_unit_price_set
            .as_ref()
            .map(|b| b.shop_money.amount),
        subtotal,
        subtotal_tax: tax,
        total,
        total_tax: tax,
        meta: w
            .custom_attributes
            .iter()
            .map(|a| Meta {
                key: a.key.clone(),
                value: a.value.clone().map_or(Value::Null, Value::String),
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Risk {
    pub recommendation: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MetafieldValue {
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireRefundLine {
    pub id: Option<String>,
    #[serde(default)]
    pub quantity: i64,
    pub line_item: WireRefundLineItem,
    pub subtotal_set: Option<MoneyBag>,
    pub total_tax_set: Option<MoneyBag>,
}

#[derive(Debug, Deserialize)]
pub struct WireRefundLineItem {
    pub id: String,
    pub product: Option<VariantProduct>,
    pub variant: Option<IdOnly>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HasNext {
    pub has_next_page: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLines {
    #[serde(default)]
    pub nodes: Vec<WireRefundLine>,
    pub page_info: Option<HasNext>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireRefund {
    pub id: String,
    pub note: Option<String>,
    pub created_at: Option<String>,
    pub total_refunded_set: Option<MoneyBag>,
    pub refund_line_items: Option<RefundLines>,
}

/// A refund of `order_id`. Its lines are there when selected (cursor
/// pages); a bulk export cannot select them (a connection inside the
/// `refunds` list), so they are empty there.
pub fn refund(order_id: UpstreamId, w: &WireRefund, raw: RawJson) -> Result<Refund, UpstreamError> {
    let lines = match &w.refund_line_items {
        Some(l) => {
            if l.page_info.as_ref().is_some_and(|p| p.has_next_page) {
                return Err(malformed(format!(
                    "refund {} has more lines than one page holds",
                    w.id
                )));
            }
            l.nodes
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let (product_id, variation_id) =
                        line_ids(r.line_item.product.as_ref(), r.line_item.variant.as_ref())?;
                    let subtotal = amount(&r.subtotal_set);
                    let tax = amount(&r.total_tax_set);
                    Ok(RefundLine {
                        id: match &r.id {
                            Some(id) => gid_number(id, "RefundLineItem")?,
                            None => i as UpstreamId + 1,
                        },
                        refunded_item_id: Some(gid_number(&r.line_item.id, "LineItem")?),
                        product_id,
                        variation_id,
                        // Negative, as the domain keeps refunded quantities.
                        quantity: -r.quantity,
                        subtotal: -subtotal,
                        total: -subtotal,
                        total_tax: -tax,
                    })
                })
                .collect::<Result<Vec<_>, UpstreamError>>()?
        }
        None => Vec::new(),
    };
    let amount = amount(&w.total_refunded_set);
    Ok(Refund {
        id: gid_number(&w.id, "Refund")?,
        order_id,
        amount,
        reason: w.note.clone().unwrap_or_default(),
        refunded_payment: amount > Amount::ZERO,
        date_created: opt_time(&w.created_at, "refund createdAt")?,
        meta: Vec::new(),
        line_items: lines,
        raw,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireOrder {
    pub id: String,
    pub updated_at: String,
    #[serde(default)]
    pub name: String,
    pub created_at: Option<String>,
    pub processed_at: Option<String>,
    pub closed_at: Option<String>,
    pub cancelled_at: Option<String>,
    pub currency_code: Option<String>,
    #[serde(default)]
    pub taxes_included: bool,
    pub display_financial_status: Option<String>,
    pub display_fulfillment_status: Option<String>,
    pub email: Option<String>,
    pub note: Option<String>,
    pub source_name: Option<String>,
    pub source_identifier: Option<String>,
    #[serde(default)]
    pub payment_gateway_names: Vec<String>,
    pub customer: Option<IdOnly>,
    pub billing_address: Option<WireAddress>,
    pub shipping_address: Option<WireAddress>,
    pub total_price_set: Option<MoneyBag>,
    pub current_total_price_set: Option<MoneyBag>,
    pub total_tax_set: Option<MoneyBag>,
    pub total_discounts_set: Option<MoneyBag>,
    pub total_shipping_price_set: Option<MoneyBag>,
    pub risk: Option<Risk>,
    pub metafield: Option<MetafieldValue>,
    #[serde(default)]
    pub refunds: Vec<WireRefund>,
    pub line_items: Option<LineItems>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItems {
    #[serde(default)]
    pub nodes: Vec<WireLineItem>,
    pub page_info: Option<HasNext>,
}

/// An order's status in the till's terms (WooCommerce's words, which the
/// till and the replica already speak).
fn order_status(w: &WireOrder) -> String {
    order_status_of(
        w.cancelled_at.is_some(),
        w.display_financial_status.as_deref().unwrap_or(""),
        w.display_fulfillment_status.as_deref().unwrap_or(""),
        w.closed_at.is_some(),
    )
}

/// An order's status in the till's words, from whether it is cancelled,
/// its financial and fulfillment statuses and whether it is closed.
pub(super) fn order_status_of(
    cancelled: bool,
    financial: &str,
    fulfillment: &str,
    closed: bool,
) -> String {
    if cancelled {
        return "cancelled".to_owned();
    }
    let (fulfilled, w_closed) = (fulfillment == "FULFILLED", closed);
    match financial {
        "REFUNDED" => "refunded",
        "VOIDED" => "cancelled",
        "PENDING" | "AUTHORIZED" | "EXPIRED" => "pending",
        _ if fulfilled || w_closed => "completed",
        _ => "processing",
    }
    .to_owned()
}

/// An order; `lines` are given separately when they came as their own
/// lines of a bulk file.
pub fn order(
    w: &WireOrder,
    raw: RawJson,
    bulk_lines: Option<&[WireLineItem]>,
) -> Result<Order, UpstreamError> {
    let id = gid_number(&w.id, "Order")?;
    let lines: &[WireLineItem] = match (bulk_lines, &w.line_items) {
        (Some(l), _) => l,
        (None, Some(l)) => {
            if l.page_info.as_ref().is_some_and(|p| p.has_next_page) {
                return Err(malformed(format!(
                    "order {} has more lines than one page holds",
                    w.id
                )));
            }
            &l.nodes
        }
        (None, None) => &[],
    };
    let mut meta = Vec::new();
    if let Some(r) = w.risk.as_ref().and_then(|r| r.recommendation.clone()) {
        meta.push(Meta {
            key: META_RISK.to_owned(),
            value: Value::String(r),
        });
    }
    if let Some(s) = &w.source_identifier {
        meta.push(Meta {
            key: META_SOURCE_IDENTIFIER.to_owned(),
            value: Value::String(s.clone()),
        });
    }
    if let Some(k) = w.metafield.as_ref().and_then(|m| m.value.clone()) {
        meta.push(Meta {
            key: META_POSSYNC_KEY.to_owned(),
            value: Value::String(k),
        });
    }
    let tax = amount(&w.total_tax_set);
    let total = match (&w.total_price_set, &w.current_total_price_set) {
        (Some(b), _) | (None, Some(b)) => b.shop_money.amount,
        (None, None) => Amount::ZERO,
    };
    let refunds = w
        .refunds
        .iter()
        .map(|r| {
            Ok(RefundSummary {
                id: gid_number(&r.id, "Refund")?,
                reason: r.note.clone().unwrap_or_default(),
                total: -amount(&r.total_refunded_set),
            })
        })
        .collect::<Result<Vec<_>, UpstreamError>>()?;
    let email = w.email.clone().filter(|e| !e.is_empty());
    Ok(Order {
        id,
        parent_id: 0,
        number: w.name.clone(),
        order_key: String::new(),
        status: order_status(w),
        currency: w.currency_code.clone().unwrap_or_default(),
        prices_include_tax: w.taxes_included,
        customer_id: w
            .customer
            .as_ref()
            .map(|c| gid_number(&c.id, "Customer"))
            .transpose()?
            .unwrap_or(0),
        billing: address(w.billing_address.as_ref(), email),
        shipping: address(w.shipping_address.as_ref(), None),
        payment_method: w.payment_gateway_names.first().cloned().unwrap_or_default(),
        payment_method_title: w.payment_gateway_names.join(", "),
        transaction_id: String::new(),
        created_via: w.source_name.clone().unwrap_or_default(),
        customer_note: w.note.clone().unwrap_or_default(),
        discount_total: amount(&w.total_discounts_set),
        discount_tax: Amount::ZERO,
        shipping_total: amount(&w.total_shipping_price_set),
        shipping_tax: Amount::ZERO,
        cart_tax: tax,
        total,
        total_tax: tax,
        date_created: match &w.processed_at {
            Some(_) => opt_time(&w.processed_at, "order processedAt")?,
            None => opt_time(&w.created_at, "order createdAt")?,
        },
        date_modified: time(&w.updated_at, "order updatedAt")?,
        date_paid: None,
        date_completed: opt_time(&w.closed_at, "order closedAt")?,
        meta,
        line_items: lines.iter().map(line_item).collect::<Result<_, _>>()?,
        shipping_lines: Vec::new(),
        fee_lines: Vec::new(),
        coupon_lines: Vec::new(),
        tax_lines: Vec::<TaxLine>::new(),
        refunds,
        raw,
    })
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
