//! Query cost and the leaky bucket it is charged to.
//!
//! Costs follow the rules Shopify publishes for calculated query cost: a
//! scalar or enum field costs 0, an object 1, a connection 2 plus the
//! number of objects it asks for (`first`/`last`), a mutation field 10 (as
//! the captured `bulkOperationRunQuery`). Shopify does not publish how
//! nested connections combine, and its measured figures rule out simple
//! multiplication (250 orders with `lineItems(first: 250)`: requested 431;
//! 250 products with `variants(first: 250)`: 167, on a live shop, see
//! `shopify-facts.md` (b)). So here a node's own selection is counted once
//! per connection, not once per node: the sim's requested cost is of
//! Shopify's order of magnitude and accepts the queries Shopify was seen to
//! accept, but it is not Shopify's figure, and a client must read the cost
//! it is given rather than predict it. The *actual* cost counts the nodes
//! really returned. What the sim keeps exact is the shape:
//! `extensions.cost` on every answer, a request admitted only if the bucket
//! holds its requested cost and then charged its actual cost (Shopify
//! refunds the difference), the bucket refilled at `restoreRate`, a
//! request that does not fit `THROTTLED` at
//! HTTP 200, one above 1000 `MAX_COST_EXCEEDED`.

use std::time::Instant;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::executable::{Operation, OperationType, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Node, Schema};
use serde_json::{Value, json};

/// Largest requested cost of a single query.
pub const MAX_QUERY_COST: u64 = 1000;

/// A bucket's size and refill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketConfig {
    pub maximum_available: f64,
    pub restore_rate: f64,
}

impl Default for BucketConfig {
    /// A development store's bucket (every capture): 2000, 100 a second.
    fn default() -> Self {
        Self {
            maximum_available: 2000.0,
            restore_rate: 100.0,
        }
    }
}

#[derive(Debug)]
pub struct Bucket {
    pub config: BucketConfig,
    available: f64,
    at: Instant,
}

impl Bucket {
    pub fn new(config: BucketConfig) -> Self {
        Self {
            config,
            available: config.maximum_available,
            at: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let secs = now.duration_since(self.at).as_secs_f64();
        self.available =
            (self.available + secs * self.config.restore_rate).min(self.config.maximum_available);
        self.at = now;
    }

    /// Whether `requested` may run now.
    pub fn admits(&mut self, requested: u64) -> bool {
        self.refill();
        requested as f64 <= self.available
    }

    pub fn charge(&mut self, actual: u64) {
        self.refill();
        self.available = (self.available - actual as f64).max(0.0);
    }

    /// `extensions.cost` (figures as Shopify prints them: the bucket's size
    /// and rate as floats, what is available as a whole number).
    pub fn extension(&mut self, requested: u64, actual: Option<u64>) -> Value {
        self.refill();
        json!({
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.config.maximum_available,
                "currentlyAvailable": self.available.floor() as u64,
                "restoreRate": self.config.restore_rate,
            }
        })
    }
}

/// Requested (`data: None`) or actual (`data`: the answer) cost of an operation.
pub fn operation_cost(
    schema: &Valid<Schema>,
    doc: &Valid<ExecutableDocument>,
    op: &Operation,
    variables: &Value,
    data: Option<&Value>,
) -> u64 {
    if op.operation_type == OperationType::Mutation {
        // A mutation field is 10, whatever it selects (the captured
        // `bulkOperationRunQuery` costs 10).
        return 10 * op.selection_set.selections.len() as u64;
    }
    Coster {
        schema,
        doc,
        variables,
    }
    .selection_set(&op.selection_set, data)
}

struct Coster<'a> {
    schema: &'a Valid<Schema>,
    doc: &'a Valid<ExecutableDocument>,
    variables: &'a Value,
}

impl Coster<'_> {
    fn selection_set(&self, set: &SelectionSet, data: Option<&Value>) -> u64 {
        set.selections
            .iter()
            .map(|s| match s {
                Selection::Field(f) => {
                    let sub =
                        data.map(|d| d.get(f.response_key().as_str()).unwrap_or(&Value::Null));
                    self.field(f, sub)
                }
                Selection::InlineFragment(i) => self.selection_set(&i.selection_set, data),
                Selection::FragmentSpread(s) => self
                    .doc
                    .fragments
                    .get(&s.fragment_name)
                    .map_or(0, |f| self.selection_set(&f.selection_set, data)),
            })
            .sum()
    }

    fn int_arg(&self, f: &Node<apollo_compiler::executable::Field>, name: &str) -> Option<u64> {
        let a = f.arguments.iter().find(|a| a.name == name)?;
        if let Some(v) = a.value.as_variable() {
            return self.variables.get(v.as_str())?.as_u64();
        }
        a.value.to_i32().and_then(|i| u64::try_from(i).ok())
    }

    fn field(&self, f: &Node<apollo_compiler::executable::Field>, data: Option<&Value>) -> u64 {
        let named = f.definition.ty.inner_named_type();
        let is_object = matches!(
            self.schema.types.get(named),
            Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
        );
        if !is_object || f.name.starts_with("__") {
            return 0;
        }
        if named.as_str().ends_with("Connection") {
            // One node's selection (under `nodes` or `edges { node }`),
            // counted once, not once per node: see the module docs.
            let node_cost = |node: Option<&Value>| -> u64 {
                f.selection_set
                    .selections
                    .iter()
                    .map(|s| match s {
                        Selection::Field(g) if g.name == "nodes" => {
                            self.selection_set(&g.selection_set, node)
                        }
                        Selection::Field(g) if g.name == "edges" => g
                            .selection_set
                            .selections
                            .iter()
                            .map(|e| match e {
                                Selection::Field(n) if n.name == "node" => {
                                    self.selection_set(&n.selection_set, node)
                                }
                                _ => 0,
                            })
                            .sum(),
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0)
            };
            return match data {
                None => {
                    let n = self
                        .int_arg(f, "first")
                        .or_else(|| self.int_arg(f, "last"))
                        .unwrap_or(0);
                    2 + n + node_cost(None)
                }
                Some(d) => {
                    let nodes: Vec<&Value> = match (d.get("nodes"), d.get("edges")) {
                        (Some(Value::Array(n)), _) => n.iter().collect(),
                        (_, Some(Value::Array(e))) => {
                            e.iter().filter_map(|e| e.get("node")).collect()
                        }
                        _ => Vec::new(),
                    };
                    let costliest = nodes.iter().map(|n| node_cost(Some(n))).max();
                    2 + nodes.len() as u64 + costliest.unwrap_or(0)
                }
            };
        }
        match data {
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| 1 + self.selection_set(&f.selection_set, Some(i)))
                .max()
                .unwrap_or(0),
            Some(Value::Null) => 0,
            d => 1 + self.selection_set(&f.selection_set, d),
        }
    }
}
