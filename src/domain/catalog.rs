//! Products, variations and the taxonomies that classify them.

use serde::{Deserialize, Serialize};

use super::{Amount, GmtTime, Meta, RawJson, UpstreamId};

/// What kind of product a row is. Variations live in the same id space as
/// products upstream, and in the same table here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    Simple,
    Variable,
    Grouped,
    External,
    Variation,
    /// A type added by a plugin (bundle, subscription, …), kept by name.
    Other(String),
}

impl ProductKind {
    pub fn parse(s: &str) -> Self {
        match s {
            "simple" => Self::Simple,
            "variable" => Self::Variable,
            "grouped" => Self::Grouped,
            "external" => Self::External,
            "variation" => Self::Variation,
            other => Self::Other(other.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Simple => "simple",
            Self::Variable => "variable",
            Self::Grouped => "grouped",
            Self::External => "external",
            Self::Variation => "variation",
            Self::Other(s) => s,
        }
    }
}

/// Whether stock is counted for a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ManageStock {
    /// Stock is not counted; only the stock status applies.
    No,
    /// This product or variation counts its own stock.
    Yes,
    /// A variation whose stock is counted on its parent product.
    Parent,
}

impl ManageStock {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::No => "no",
            Self::Yes => "yes",
            Self::Parent => "parent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "no" => Some(Self::No),
            "yes" => Some(Self::Yes),
            "parent" => Some(Self::Parent),
            _ => None,
        }
    }
}

/// An attribute as attached to a product (all its options) or to a
/// variation (the one option it stands for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductAttribute {
    /// Global attribute id, 0 for a custom (product-local) attribute.
    pub id: UpstreamId,
    pub name: String,
    /// Taxonomy slug (`pa_size`) for global attributes, empty otherwise.
    #[serde(default)]
    pub slug: String,
    /// The options a product offers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// The option a variation stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// Whether the attribute is used to build variations.
    #[serde(default)]
    pub variation: bool,
}

/// A product image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: UpstreamId,
    pub src: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub alt: String,
}

/// A product or a variation, as the till needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    pub id: UpstreamId,
    /// The variable product a variation belongs to; 0 for products.
    pub parent_id: UpstreamId,
    pub kind: ProductKind,
    /// Post status: `publish`, `private`, `draft`, `pending`, `future`, `trash`.
    pub status: String,
    pub sku: Option<String>,
    pub name: String,
    pub slug: String,
    /// GTIN, UPC, EAN or ISBN.
    pub global_unique_id: Option<String>,
    /// The price charged now, as the shop computed it at `date_modified`.
    pub price: Option<Amount>,
    pub regular_price: Option<Amount>,
    pub sale_price: Option<Amount>,
    pub sale_from: Option<GmtTime>,
    pub sale_to: Option<GmtTime>,
    /// `taxable`, `shipping` or `none`.
    pub tax_status: String,
    /// Tax class slug; empty for the standard rate.
    pub tax_class: String,
    pub manage_stock: ManageStock,
    pub stock_quantity: Option<i64>,
    /// `instock`, `outofstock` or `onbackorder`.
    pub stock_status: String,
    /// `no`, `notify` or `yes`.
    pub backorders: String,
    pub attributes: Vec<ProductAttribute>,
    pub images: Vec<Image>,
    pub category_ids: Vec<UpstreamId>,
    pub tag_ids: Vec<UpstreamId>,
    pub meta: Vec<Meta>,
    pub date_created: Option<GmtTime>,
    /// The version stamp the replica's guard compares.
    pub date_modified: GmtTime,
    pub raw: RawJson,
}

/// A product category; categories form a tree through `parent_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub id: UpstreamId,
    pub parent_id: UpstreamId,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub display: String,
    pub image: Option<Image>,
    pub menu_order: i64,
    pub count: i64,
    pub raw: RawJson,
}

/// A product tag.
#[derive(Debug, Clone, PartialEq)]
pub struct Tag {
    pub id: UpstreamId,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub count: i64,
    pub raw: RawJson,
}

/// A global product attribute (`pa_size`) with its terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub id: UpstreamId,
    pub name: String,
    pub slug: String,
    pub kind: String,
    pub order_by: String,
    pub has_archives: bool,
    pub terms: Vec<AttributeTerm>,
    pub raw: RawJson,
}

/// One value of a global attribute (`M`, `Black`).
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeTerm {
    pub id: UpstreamId,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub menu_order: i64,
    pub count: i64,
    pub raw: RawJson,
}
