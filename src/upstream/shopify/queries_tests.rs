//! Every document is parsed and validated against the real Admin schema of
//! the pinned version (introspected from a live shop), so a field or
//! argument that does not exist, or a wrong type, fails here rather than at
//! the shop. Bulk query texts are held to the bulk rules Shopify answered
//! with in the captured validator run as well.

use std::sync::OnceLock;

use apollo_compiler::executable::{ExecutableDocument, Selection, SelectionSet};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Schema};

use super::*;
use crate::upstream::shopify::replay as r;
use crate::upstream::shopify::writes as w;

/// The schema, read once for all tests.
fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = format!(
            "{}/tests/fixtures/shopify/admin-schema/2026-04/schema.graphql",
            env!("CARGO_MANIFEST_DIR")
        );
        let sdl = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the 2026-04 Admin schema at {path}: {e}"));
        Schema::parse_and_validate(sdl, "admin-2026-04.graphql")
            .unwrap_or_else(|e| panic!("{}", e.errors))
    })
}

fn validated(doc: &str) -> Valid<ExecutableDocument> {
    ExecutableDocument::parse_and_validate(schema(), doc, "doc.graphql")
        .unwrap_or_else(|e| panic!("{doc}\n{}", e.errors))
}

/// Fields used that the schema marks deprecated.
fn deprecated(set: &SelectionSet, out: &mut Vec<String>) {
    for s in &set.selections {
        if let Selection::Field(f) = s {
            if f.definition.directives.get("deprecated").is_some() {
                out.push(format!("{}.{}", set.ty, f.name));
            }
            deprecated(&f.selection_set, out);
        }
    }
}

fn page_documents() -> Vec<(&'static str, String)> {
    vec![
        ("products", products_page(7)),
        ("variants", variants_page(7)),
        ("collections", collections_page()),
        ("customers", customers_page()),
        ("orders", orders_page()),
        ("refunds", refunds_page()),
        ("deletions", PRODUCT_DELETIONS_PAGE.to_owned()),
        ("collections rest", PRODUCT_COLLECTIONS_REST.to_owned()),
        ("lines rest", order_lines_rest()),
        ("product by id", product_by_id(7)),
        ("product variants rest", product_variants_rest(7)),
        ("locations", LOCATIONS.to_owned()),
        ("probe", SHOP_PROBE.to_owned()),
        ("primary location", PRIMARY_LOCATION.to_owned()),
        ("product stamps", stamps_page(Resource::Products).unwrap()),
        ("variant stamps", stamps_page(Resource::Variations).unwrap()),
        (
            "collection stamps",
            stamps_page(Resource::Categories).unwrap(),
        ),
        ("customer stamps", stamps_page(Resource::Customers).unwrap()),
        ("order stamps", stamps_page(Resource::Orders).unwrap()),
        ("refund stamps", stamps_page(Resource::Refunds).unwrap()),
        ("bulk run", bulk_run()),
        ("bulk poll", bulk_poll()),
        ("products count", count(Export::Products, 1000)),
        ("variants count", count(Export::Variations, 1000)),
        ("collections count", count(Export::Collections, 1000)),
        ("customers count", count(Export::Customers, 1000)),
        ("orders count", count(Export::Orders, 1000)),
        ("order create", w::order_create()),
        ("orders by source", w::orders_by_source()),
        ("refund create", w::refund_create()),
        ("order payments", w::ORDER_PAYMENTS.to_owned()),
        ("inventory adjust", w::INVENTORY_ADJUST.to_owned()),
        ("variant stock", w::variant_stock(7)),
        ("default variant", w::DEFAULT_VARIANT.to_owned()),
        ("shop currency", w::SHOP_CURRENCY.to_owned()),
        ("customer create", w::customer_create()),
        ("customers by email", w::customers_by_email()),
        ("ping", r::PING.to_owned()),
        ("order close", r::order_close()),
        ("order open", r::order_open()),
        ("order refunds", r::order_refunds()),
        ("customer update", r::customer_update()),
        ("inventory set", r::INVENTORY_SET.to_owned()),
        ("fulfillment orders", r::FULFILLMENT_ORDERS.to_owned()),
        ("fulfillment create", r::FULFILLMENT_CREATE.to_owned()),
        (
            "webhook list",
            crate::upstream::shopify::webhook_admin::list_document(),
        ),
        (
            "webhook create",
            crate::upstream::shopify::webhook_admin::create_document(),
        ),
        (
            "webhook update",
            crate::upstream::shopify::webhook_admin::update_document(),
        ),
        (
            "webhook delete",
            crate::upstream::shopify::webhook_admin::DELETE_DOCUMENT.to_owned(),
        ),
    ]
}

#[test]
fn every_document_is_valid_against_the_2026_04_schema() {
    for (name, doc) in page_documents() {
        let valid = validated(&doc);
        let mut old = Vec::new();
        for op in valid.operations.iter() {
            deprecated(&op.selection_set, &mut old);
        }
        // The one deprecated field kept on purpose (see PRODUCT_DELETIONS_PAGE).
        old.retain(|f| f != "QueryRoot.deletionEvents");
        assert!(old.is_empty(), "{name} uses deprecated fields: {old:?}");
    }
}

#[test]
fn every_webhook_topic_taken_is_a_subscription_topic_of_the_schema() {
    let topics = schema()
        .get_enum("WebhookSubscriptionTopic")
        .expect("the schema has WebhookSubscriptionTopic");
    for t in crate::upstream::shopify::delivery::DeliveryTopic::ALL {
        assert!(
            topics.values.keys().any(|v| v.as_str() == t.enum_name()),
            "{} is not a WebhookSubscriptionTopic",
            t.enum_name()
        );
    }
}

#[test]
fn idempotent_mutations_carry_the_directive_on_the_field() {
    // Required from 2026-04 (an answer without it is a BAD_REQUEST).
    for doc in [
        w::refund_create(),
        w::INVENTORY_ADJUST.to_owned(),
        r::INVENTORY_SET.to_owned(),
    ] {
        let valid = validated(&doc);
        let op = valid.operations.iter().next().unwrap();
        let field = op.selection_set.fields().next().unwrap();
        let key = field.directives.get("idempotent").expect("@idempotent");
        assert_eq!(key.arguments[0].name, "key");
    }
}

#[test]
fn a_wrong_field_or_argument_is_caught() {
    // The guard itself: a misspelt field, an unknown argument, a wrong enum.
    for bad in [
        "{ products(first: 1) { nodes { titel } } }",
        "{ products(first: 1, updatedSince: \"x\") { nodes { id } } }",
        "{ productVariants(first: 1, sortKey: UPDATED_AT) { nodes { id } } }",
    ] {
        assert!(
            ExecutableDocument::parse_and_validate(schema(), bad, "bad.graphql").is_err(),
            "{bad}"
        );
    }
}

fn bulk_texts() -> Vec<String> {
    let search = Some("updated_at:>='2026-01-01T00:00:00Z'");
    [
        Export::Products,
        Export::Variations,
        Export::Collections,
        Export::Customers,
        Export::Orders,
    ]
    .into_iter()
    .flat_map(|e| [bulk_query(e, 7, None), bulk_query(e, 7, search)])
    .collect()
}

#[test]
fn bulk_queries_are_valid_queries() {
    for q in bulk_texts() {
        validated(&q);
    }
}

/// The bulk rules, as the shop states them in the captured validator run
/// (`bulk-operation-run-query-validators.json`): connections select
/// `edges { node }`, at most 5 connections, nesting depth at most 2, no
/// connection inside a list field, and a node with a nested connection
/// selects its `id`.
#[derive(Default)]
struct BulkCheck {
    connections: usize,
    problems: Vec<String>,
}

fn is_connection(ty: &Name) -> bool {
    ty.as_str().ends_with("Connection")
}

impl BulkCheck {
    fn walk(&mut self, set: &SelectionSet, depth: usize, in_list: bool) {
        for s in &set.selections {
            let Selection::Field(f) = s else {
                self.problems.push("fragments are not used".into());
                continue;
            };
            let ty = &f.definition.ty;
            let named = ty.inner_named_type();
            if is_connection(named) {
                self.connections += 1;
                if in_list {
                    self.problems
                        .push(format!("{} is a connection inside a list", f.name));
                }
                if depth + 1 > 2 {
                    self.problems
                        .push(format!("{} nests deeper than 2", f.name));
                }
                let fields: Vec<&str> = f
                    .selection_set
                    .selections
                    .iter()
                    .filter_map(|s| s.as_field().map(|f| f.name.as_str()))
                    .collect();
                if fields != ["edges"] {
                    self.problems
                        .push(format!("{} selects {fields:?}, not edges", f.name));
                }
                for edges in f.selection_set.fields() {
                    for node in edges.selection_set.fields() {
                        if node.name != "node" {
                            self.problems
                                .push(format!("{}.edges selects {}", f.name, node.name));
                        }
                        let nested = has_connection(&node.selection_set);
                        let id = node
                            .selection_set
                            .fields()
                            .any(|x| x.name == "id" && x.alias.is_none());
                        if nested && !id {
                            self.problems.push(format!("{} node without id", f.name));
                        }
                        self.walk(&node.selection_set, depth + 1, false);
                    }
                }
            } else {
                self.walk(&f.selection_set, depth, in_list || ty.is_list());
            }
        }
    }
}

fn has_connection(set: &SelectionSet) -> bool {
    set.fields().any(|f| {
        is_connection(f.definition.ty.inner_named_type()) || has_connection(&f.selection_set)
    })
}

fn bulk_problems(text: &str) -> Vec<String> {
    let doc = validated(text);
    let mut check = BulkCheck::default();
    for op in doc.operations.iter() {
        check.walk(&op.selection_set, 0, false);
    }
    if check.connections == 0 {
        check.problems.push("no connection".into());
    }
    if check.connections > 5 {
        check
            .problems
            .push(format!("{} connections", check.connections));
    }
    check.problems
}

#[test]
fn bulk_queries_keep_the_bulk_rules() {
    for q in bulk_texts() {
        assert_eq!(bulk_problems(&q), Vec::<String>::new(), "{q}");
    }
}

#[test]
fn the_bulk_rule_check_refuses_what_the_shop_refused() {
    // The captured validator run's refused queries.
    let capture: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!(
            "{}/tests/fixtures/shopify/captures/bulk-operation-run-query-validators.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let mut checked = 0;
    for (case, v) in capture["validations"].as_object().unwrap() {
        let query = v["variables"]["query"].as_str().unwrap();
        let refused = !v["response"]["data"]["bulkOperationRunQuery"]["userErrors"]
            .as_array()
            .unwrap()
            .is_empty();
        // Only the structural rules are ours to check (not mutations or
        // `node`, which a query of ours never has).
        if ![
            "nodesInsteadOfEdges",
            "ordersNodesInsteadOfEdges",
            "depthThreeNesting",
            "sixConnections",
            "nestedWithoutParentId",
            "connectionWithinList",
        ]
        .contains(&case.as_str())
        {
            continue;
        }
        assert!(refused, "{case}");
        assert!(!bulk_problems(query).is_empty(), "{case} should be refused");
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn search_strings_are_quoted_into_the_bulk_text() {
    let q = bulk_query(
        Export::Orders,
        7,
        Some("created_at:>='2026-01-01T00:00:00Z'"),
    );
    assert!(
        q.starts_with("{ orders(query: \"created_at:>='2026-01-01T00:00:00Z'\") {"),
        "{q}"
    );
    let tricky = bulk_query(Export::Customers, 7, Some("a\"b"));
    assert!(tricky.contains(r#"(query: "a\"b")"#), "{tricky}");
    validated(&tricky);
}
