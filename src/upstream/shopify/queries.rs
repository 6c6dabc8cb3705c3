//! Every GraphQL document the client sends, in one place, built from shared
//! selections so a cursor page and a bulk export read the same fields.
//!
//! Each field and argument here is checked against the pinned Admin schema
//! (2026-04) by this module's tests, which parse and validate each document.
//!
//! Bulk queries take no variables, so the few values a selection needs (the
//! location whose stock is read) are written into the text; they are ids we
//! format ourselves ([`location_gid`]), never text from the shop or a user.

use crate::domain::{Resource, UpstreamId};

/// How a connection selects its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A cursor page: `nodes` with `pageInfo`.
    Page,
    /// A bulk query: `edges { node }` (bulk operations refuse `nodes`) and
    /// no page sizes.
    Bulk,
}

/// A money amount in the shop's currency.
const MONEY: &str = "shopMoney { amount currencyCode }";

/// A postal address.
const ADDRESS: &str = "firstName lastName company address1 address2 city province provinceCode zip country countryCodeV2 phone";

/// A product's own fields (its variants and collections are connections).
pub const PRODUCT_FIELDS: &str = "id title handle status vendor productType tags createdAt updatedAt hasOnlyDefaultVariant options { name values }";

/// A collection, the shop's category.
pub const COLLECTION_FIELDS: &str =
    "id title handle description updatedAt sortOrder productsCount { count }";

/// A customer.
pub fn customer_fields() -> String {
    format!(
        "id firstName lastName displayName state tags note createdAt updatedAt numberOfOrders \
         defaultEmailAddress {{ emailAddress }} defaultPhoneNumber {{ phoneNumber }} \
         defaultAddress {{ {ADDRESS} }}"
    )
}

/// `gid://shopify/Location/{id}`.
pub fn location_gid(id: UpstreamId) -> String {
    format!("gid://shopify/Location/{id}")
}

/// A variant's fields, with its stock at `location` (an id, not a name).
pub fn variant_fields(location: UpstreamId) -> String {
    format!(
        "id title sku barcode price compareAtPrice taxable inventoryPolicy position createdAt updatedAt \
         selectedOptions {{ name value }} product {{ id hasOnlyDefaultVariant }} \
         inventoryItem {{ id tracked inventoryLevel(locationId: \"{}\") {{ quantities(names: [\"available\"]) {{ name quantity }} }} }}",
        location_gid(location)
    )
}

/// An order line.
pub fn line_item_fields() -> String {
    format!(
        "id name title quantity sku variantTitle product {{ id hasOnlyDefaultVariant }} variant {{ id }} \
         originalUnitPriceSet {{ {MONEY} }} originalTotalSet {{ {MONEY} }} discountedTotalSet {{ {MONEY} }} \
         taxLines {{ title ratePercentage priceSet {{ {MONEY} }} }} customAttributes {{ key value }}"
    )
}

/// A refund as its order lists it (no connections: a bulk query cannot
/// hold a connection inside the `refunds` list).
pub fn refund_summary_fields() -> String {
    format!("id note createdAt totalRefundedSet {{ {MONEY} }}")
}

/// A whole refund with its lines, for cursor pages.
pub fn refund_fields() -> String {
    format!(
        "{} refundLineItems(first: 250) {{ nodes {{ id quantity restockType \
         lineItem {{ id product {{ id hasOnlyDefaultVariant }} variant {{ id }} }} \
         subtotalSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} }} pageInfo {{ hasNextPage }} }}",
        refund_summary_fields()
    )
}

/// An order's own fields.
pub fn order_fields() -> String {
    format!(
        "id name createdAt updatedAt processedAt closedAt cancelledAt currencyCode taxesIncluded \
         displayFinancialStatus displayFulfillmentStatus email note sourceName sourceIdentifier \
         paymentGatewayNames customer {{ id }} \
         billingAddress {{ {ADDRESS} }} shippingAddress {{ {ADDRESS} }} \
         subtotalPriceSet {{ {MONEY} }} totalPriceSet {{ {MONEY} }} totalTaxSet {{ {MONEY} }} \
         totalDiscountsSet {{ {MONEY} }} totalShippingPriceSet {{ {MONEY} }} \
         risk {{ recommendation }} metafield(namespace: \"possync\", key: \"key\") {{ value }} \
         refunds {{ {} }}",
        refund_summary_fields()
    )
}

/// `name(args) { … }` as a page (`first`/`after` from variables when
/// `args` says so) or as a bulk connection.
fn connection(name: &str, page_args: &str, fields: &str, shape: Shape) -> String {
    match shape {
        Shape::Page => format!(
            "{name}{page_args} {{ nodes {{ {fields} }} pageInfo {{ hasNextPage endCursor }} }}"
        ),
        Shape::Bulk => format!("{name} {{ edges {{ node {{ {fields} }} }} }}"),
    }
}

/// A nested connection: a fixed page size in a page, all of it in bulk.
fn nested(name: &str, first: u16, fields: &str, shape: Shape) -> String {
    connection(name, &format!("(first: {first})"), fields, shape)
}

/// Page sizes of nested connections in cursor pages.
pub const COLLECTIONS_PER_PRODUCT: u16 = 25;
pub const LINES_PER_ORDER: u16 = 250;

/// A product: its fields, collection ids and, for a product with only the
/// default variant, that variant (it carries the price, SKU and stock).
/// In bulk every variant comes, as its own lines.
pub fn product_node(location: UpstreamId, shape: Shape) -> String {
    let variants = match shape {
        Shape::Page => nested("variants", 1, &variant_fields(location), shape),
        Shape::Bulk => nested("variants", 0, &variant_fields(location), shape),
    };
    format!(
        "{PRODUCT_FIELDS} {variants} {}",
        nested("collections", COLLECTIONS_PER_PRODUCT, "id", shape)
    )
}

/// An order with its lines.
pub fn order_node(shape: Shape) -> String {
    format!(
        "{} {}",
        order_fields(),
        nested("lineItems", LINES_PER_ORDER, &line_item_fields(), shape)
    )
}

const PAGE_VARS: &str = "($first: Int!, $after: String, $query: String)";
const PAGE_ARGS: &str = "(first: $first, after: $after, query: $query, sortKey: UPDATED_AT)";
/// Variants cannot be sorted by update time; by id the walk is as stable.
const PAGE_ARGS_BY_ID: &str = "(first: $first, after: $after, query: $query, sortKey: ID)";

pub fn products_page(location: UpstreamId) -> String {
    format!(
        "query ProductsPage{PAGE_VARS} {{ {} }}",
        connection(
            "products",
            PAGE_ARGS,
            &product_node(location, Shape::Page),
            Shape::Page
        )
    )
}

pub fn variants_page(location: UpstreamId) -> String {
    format!(
        "query VariantsPage{PAGE_VARS} {{ {} }}",
        connection(
            "productVariants",
            PAGE_ARGS_BY_ID,
            &variant_fields(location),
            Shape::Page
        )
    )
}

pub fn collections_page() -> String {
    format!(
        "query CollectionsPage{PAGE_VARS} {{ {} }}",
        connection("collections", PAGE_ARGS, COLLECTION_FIELDS, Shape::Page)
    )
}

pub fn customers_page() -> String {
    format!(
        "query CustomersPage{PAGE_VARS} {{ {} }}",
        connection("customers", PAGE_ARGS, &customer_fields(), Shape::Page)
    )
}

pub fn orders_page() -> String {
    format!(
        "query OrdersPage{PAGE_VARS} {{ {} }}",
        connection("orders", PAGE_ARGS, &order_node(Shape::Page), Shape::Page)
    )
}

/// Orders with their whole refunds (lines included).
pub fn refunds_page() -> String {
    format!(
        "query RefundsPage{PAGE_VARS} {{ {} }}",
        connection(
            "orders",
            PAGE_ARGS,
            &format!("id refunds {{ {} }}", refund_fields()),
            Shape::Page
        )
    )
}

/// The rest of a product's collections, past the first page.
pub const PRODUCT_COLLECTIONS_REST: &str = "query ProductCollectionsRest($id: ID!, $after: String) { product(id: $id) { collections(first: 250, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }";

/// Variants asked per page when one product is fetched whole.
pub const VARIANTS_PER_PRODUCT: u16 = 250;

/// One product by id, read straight (not through the search index, which
/// trails a new product): its fields, collections, and every variant.
pub fn product_by_id(location: UpstreamId) -> String {
    format!(
        "query ProductById($id: ID!) {{ product(id: $id) {{ {PRODUCT_FIELDS} {} {} }} }}",
        nested(
            "variants",
            VARIANTS_PER_PRODUCT,
            &variant_fields(location),
            Shape::Page
        ),
        nested("collections", COLLECTIONS_PER_PRODUCT, "id", Shape::Page)
    )
}

/// The rest of a product's variants, past the first page.
pub fn product_variants_rest(location: UpstreamId) -> String {
    format!(
        "query ProductVariantsRest($id: ID!, $after: String) {{ product(id: $id) {{ variants(first: {VARIANTS_PER_PRODUCT}, after: $after) {{ nodes {{ {} }} pageInfo {{ hasNextPage endCursor }} }} }} }}",
        variant_fields(location)
    )
}

/// The rest of an order's lines, past the first page.
pub fn order_lines_rest() -> String {
    format!(
        "query OrderLinesRest($id: ID!, $after: String) {{ order(id: $id) {{ lineItems(first: {LINES_PER_ORDER}, after: $after) {{ nodes {{ {} }} pageInfo {{ hasNextPage endCursor }} }} }} }}",
        line_item_fields()
    )
}

/// Product deletions (`deletionEvents` is marked deprecated in favour of
/// `events`, but still served and the only typed feed of deleted ids).
pub const PRODUCT_DELETIONS_PAGE: &str = "query ProductDeletions($first: Int!, $after: String, $query: String) { deletionEvents(first: $first, after: $after, query: $query, subjectTypes: [PRODUCT], sortKey: CREATED_AT) { nodes { occurredAt subjectId subjectType } pageInfo { hasNextPage endCursor } } }";

/// The shop's locations, to find the configured one by name.
pub const LOCATIONS: &str = "query Locations($after: String) { locations(first: 250, after: $after, includeInactive: false) { nodes { id name isActive } pageInfo { hasNextPage endCursor } } }";

/// A bulk operation's fields.
const BULK_OPERATION_FIELDS: &str = "id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl";

/// Starts a bulk export of `$query`, children written right after their
/// parent (`groupObjects`), which the JSONL reader needs.
pub fn bulk_run() -> String {
    format!(
        "mutation BulkRun($query: String!) {{ bulkOperationRunQuery(query: $query, groupObjects: true) {{ bulkOperation {{ {BULK_OPERATION_FIELDS} }} userErrors {{ field message code }} }} }}"
    )
}

/// One bulk operation by id.
pub fn bulk_poll() -> String {
    format!("query BulkPoll($id: ID!) {{ bulkOperation(id: $id) {{ {BULK_OPERATION_FIELDS} }} }}")
}

/// What a bulk export is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Products with their variants (the default one carries a simple
    /// product's SKU, price and stock at the location) and collection ids.
    Products,
    /// Every variant, with its stock at the location.
    Variations,
    Collections,
    Customers,
    /// Orders (with lines and refund summaries) matching a search.
    Orders,
}

impl Export {
    /// The export of `resource`, where one is made. Refunds have none:
    /// their lines are a connection inside the `refunds` list of an order,
    /// which a bulk query cannot select; they are walked by pages.
    pub fn of(resource: Resource) -> Option<Export> {
        Some(match resource {
            Resource::Products => Export::Products,
            Resource::Variations => Export::Variations,
            Resource::Categories => Export::Collections,
            Resource::Customers => Export::Customers,
            Resource::Orders => Export::Orders,
            _ => return None,
        })
    }

    /// The resource the export holds.
    pub fn resource(self) -> Resource {
        match self {
            Export::Products => Resource::Products,
            Export::Variations => Resource::Variations,
            Export::Collections => Resource::Categories,
            Export::Customers => Resource::Customers,
            Export::Orders => Resource::Orders,
        }
    }

    /// The root field counting what the export would hold.
    pub fn count_field(self) -> &'static str {
        match self {
            Export::Products => "productsCount",
            Export::Variations => "productVariantsCount",
            Export::Collections => "collectionsCount",
            Export::Customers => "customersCount",
            Export::Orders => "ordersCount",
        }
    }
}

/// How many objects of `what` match `$query`, counted up to `limit` (a
/// count that reaches it says `AT_LEAST`): the cheap question that decides
/// between a bulk export and cursor pages.
pub fn count(what: Export, limit: u64) -> String {
    format!(
        "query Count($query: String) {{ {}(query: $query, limit: {limit}) {{ count precision }} }}",
        what.count_field()
    )
}

/// The bulk query text for `what`, restricted by `search` (`updated_at:>…`,
/// `created_at:>=…`; already quoted, see [`super::pages::search`]).
pub fn bulk_query(what: Export, location: UpstreamId, search: Option<&str>) -> String {
    let args = match search {
        Some(s) => format!("(query: {})", graphql_string(s)),
        None => String::new(),
    };
    let (name, node) = match what {
        Export::Products => ("products", product_node(location, Shape::Bulk)),
        Export::Variations => ("productVariants", variant_fields(location)),
        Export::Collections => ("collections", COLLECTION_FIELDS.to_owned()),
        Export::Customers => ("customers", customer_fields()),
        Export::Orders => ("orders", order_node(Shape::Bulk)),
    };
    format!("{{ {name}{args} {{ edges {{ node {{ {node} }} }} }} }}")
}

/// The shop's primary location (`location` without an id).
pub const PRIMARY_LOCATION: &str = "query PrimaryLocation { location { id } }";

/// The cheapest question that proves the shop answers to our token.
pub const SHOP_PROBE: &str = "query Probe { shop { name currencyCode } }";

/// One page of ids with their update times (and, for variants, whether
/// they are a product's default one, and its product), in id order.
pub fn stamps_page(resource: Resource) -> Option<String> {
    let (name, fields) = match resource {
        // With what the mirror's status filter needs.
        Resource::Products => ("products", "id updatedAt status"),
        Resource::Variations => (
            "productVariants",
            "id title updatedAt product { id hasOnlyDefaultVariant }",
        ),
        Resource::Categories => ("collections", "id updatedAt"),
        Resource::Customers => ("customers", "id updatedAt"),
        Resource::Orders => (
            "orders",
            "id updatedAt cancelledAt closedAt displayFinancialStatus displayFulfillmentStatus",
        ),
        Resource::Refunds => ("orders", "id refunds { id createdAt }"),
        _ => return None,
    };
    Some(format!(
        "query StampsPage{PAGE_VARS} {{ {} }}",
        connection(name, PAGE_ARGS_BY_ID, fields, Shape::Page)
    ))
}

/// `s` as a GraphQL string literal.
pub fn graphql_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
#[path = "queries_tests.rs"]
mod tests;
