//! Catalogue state: products, variations, their stock and prices, and the
//! taxonomies (categories, tags, global attributes and terms).

use rust_decimal::Decimal;

use super::Meta;
use crate::woo::clock::Ts;

/// `post_status` of a product or variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum PostStatus {
    Publish,
    Future,
    Draft,
    Pending,
    Private,
    Trash,
}

impl PostStatus {
    pub(crate) const ALL: [PostStatus; 6] = [
        PostStatus::Publish,
        PostStatus::Future,
        PostStatus::Draft,
        PostStatus::Pending,
        PostStatus::Private,
        PostStatus::Trash,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PostStatus::Publish => "publish",
            PostStatus::Future => "future",
            PostStatus::Draft => "draft",
            PostStatus::Pending => "pending",
            PostStatus::Private => "private",
            PostStatus::Trash => "trash",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProductType {
    Simple,
    Variable,
    Grouped,
    External,
}

impl ProductType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ProductType::Simple => "simple",
            ProductType::Variable => "variable",
            ProductType::Grouped => "grouped",
            ProductType::External => "external",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backorders {
    No,
    Notify,
    Yes,
}

impl Backorders {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Backorders::No => "no",
            Backorders::Notify => "notify",
            Backorders::Yes => "yes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StockStatus {
    InStock,
    OutOfStock,
    OnBackorder,
}

impl StockStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StockStatus::InStock => "instock",
            StockStatus::OutOfStock => "outofstock",
            StockStatus::OnBackorder => "onbackorder",
        }
    }
}

/// The stock fields products and variations share.
#[derive(Debug, Clone)]
pub(crate) struct Stock {
    pub manage: bool,
    pub quantity: Option<i64>,
    pub backorders: Backorders,
    pub low_stock_amount: Option<i64>,
    /// Stored, like `_stock_status`; kept in step with the quantity by
    /// [`Stock::refresh_status`] when stock is managed.
    pub status: StockStatus,
}

impl Stock {
    /// WooCommerce's rule (`validate_props`), with the default "out of stock
    /// threshold" of 0.
    pub(crate) fn refresh_status(&mut self) {
        if !self.manage {
            return;
        }
        let qty = self.quantity.unwrap_or(0);
        self.status = if qty > 0 {
            StockStatus::InStock
        } else if self.backorders != Backorders::No {
            StockStatus::OnBackorder
        } else {
            StockStatus::OutOfStock
        };
    }

    pub(crate) fn backorders_allowed(&self) -> bool {
        self.backorders != Backorders::No
    }

    pub(crate) fn backordered(&self) -> bool {
        self.manage && self.backorders_allowed() && self.quantity.unwrap_or(0) < 0
    }
}

/// Regular and sale price with the sale's schedule.
#[derive(Debug, Clone, Default)]
pub(crate) struct Pricing {
    pub regular: Option<Decimal>,
    pub sale: Option<Decimal>,
    pub sale_from: Option<Ts>,
    pub sale_to: Option<Ts>,
}

impl Pricing {
    /// `is_on_sale()`: a sale price below the regular price, inside its
    /// schedule (WooCommerce compares the whole instant, inclusive).
    pub(crate) fn on_sale(&self, now: Ts) -> bool {
        let (Some(sale), Some(regular)) = (self.sale, self.regular) else {
            return false;
        };
        if sale >= regular {
            return false;
        }
        if self.sale_from.is_some_and(|from| from > now) {
            return false;
        }
        self.sale_to.is_none_or(|to| to >= now)
    }

    /// The active price (`_price`).
    pub(crate) fn active(&self, now: Ts) -> Option<Decimal> {
        if self.on_sale(now) {
            self.sale
        } else {
            self.regular
        }
    }
}

/// A product attribute on a product: global (`pa_*`) with term ids.
#[derive(Debug, Clone)]
pub(crate) struct ProductAttribute {
    pub attribute_id: i64,
    pub term_ids: Vec<i64>,
    pub position: i64,
    pub visible: bool,
    pub variation: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: i64,
    pub kind: ProductType,
    pub name: String,
    pub slug: String,
    pub status: PostStatus,
    pub featured: bool,
    pub description: String,
    pub short_description: String,
    pub sku: String,
    pub global_unique_id: String,
    pub pricing: Pricing,
    pub created: Ts,
    pub modified: Ts,
    pub total_sales: i64,
    pub is_virtual: bool,
    pub downloadable: bool,
    pub external_url: String,
    pub button_text: String,
    pub tax_status: &'static str,
    /// `""` is the standard class.
    pub tax_class: String,
    pub stock: Stock,
    pub sold_individually: bool,
    pub weight: String,
    pub dimensions: [String; 3],
    pub reviews_allowed: bool,
    pub purchase_note: String,
    pub upsell_ids: Vec<i64>,
    pub cross_sell_ids: Vec<i64>,
    pub category_ids: Vec<i64>,
    pub tag_ids: Vec<i64>,
    pub attributes: Vec<ProductAttribute>,
    /// `(attribute id, term id)`.
    pub default_attributes: Vec<(i64, i64)>,
    /// Children of a variable product, in menu order.
    pub variation_ids: Vec<i64>,
    pub grouped_ids: Vec<i64>,
    pub menu_order: i64,
    /// WooCommerce picks related products at random and caches them; the
    /// sim picks them once, at generation.
    pub related_ids: Vec<i64>,
    pub meta: Vec<Meta>,
}

#[derive(Debug, Clone)]
pub(crate) struct Variation {
    pub id: i64,
    pub parent_id: i64,
    /// `publish` (enabled), `private` (disabled) or `trash`.
    pub status: PostStatus,
    pub sku: String,
    pub global_unique_id: String,
    pub pricing: Pricing,
    pub created: Ts,
    pub modified: Ts,
    pub description: String,
    pub is_virtual: bool,
    pub downloadable: bool,
    pub tax_status: &'static str,
    pub tax_class: String,
    pub stock: Stock,
    pub weight: String,
    pub dimensions: [String; 3],
    /// `(attribute id, term id)`, in the parent's attribute order.
    pub attributes: Vec<(i64, i64)>,
    pub menu_order: i64,
    pub total_sales: i64,
    pub meta: Vec<Meta>,
}

/// A product category or tag.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub parent: i64,
    pub description: String,
    pub display: &'static str,
    pub menu_order: i64,
}

/// A global attribute (`pa_size`).
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub order_by: &'static str,
}

/// A term of a global attribute.
#[derive(Debug, Clone)]
pub(crate) struct AttributeTerm {
    pub id: i64,
    pub attribute_id: i64,
    pub name: String,
    pub slug: String,
    pub menu_order: i64,
}
