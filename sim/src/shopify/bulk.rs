//! Bulk operations: `bulkOperationRunQuery` runs a query over whole
//! connections and writes the answer as JSONL, one object a line, nested
//! connections' nodes on lines of their own carrying `__parentId`
//! (`tests/fixtures/shopify/bulk/`); polled with `bulkOperation(id:)` or
//! `currentBulkOperation`, the file served at the operation's `url`.
//!
//! The query is checked as Shopify checks it (the messages of
//! `bulk-operation-run-query-validators.json`): the schema first, then the
//! bulk rules (a query operation, at least one and at most 5 connections,
//! nested at most 2 deep, selected through `edges { node }`, a parent that
//! selects `id`). At most 5 query operations run at once (2026-01 on); the
//! sixth gets `OPERATION_IN_PROGRESS`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use apollo_compiler::ExecutableDocument;
use apollo_compiler::executable::{OperationType, Selection, SelectionSet};
use apollo_compiler::resolvers::Execution;
use apollo_compiler::validation::Valid;
use serde_json::{Map, Value, json};

use super::data::{Store, datetime};
use super::exec::{Cx, Obj};
use super::schema::{self, ApiVersion};

/// Non-terminal bulk query operations allowed at once.
pub const MAX_RUNNING: usize = 5;

#[derive(Debug)]
pub struct BulkOp {
    pub number: u64,
    pub query: String,
    created: i64,
    ready_at: Instant,
    /// Polls answered so far: the first sees CREATED, the next RUNNING,
    /// however long the answers took; COMPLETED needs both and the run time.
    polls: u32,
    failed: bool,
    /// Past its results' lifetime: EXPIRED, its file no longer served.
    expired: bool,
    pub jsonl: Arc<Vec<u8>>,
    object_count: usize,
    root_object_count: usize,
}

#[derive(Debug)]
pub struct BulkOps {
    pub ops: Mutex<Vec<BulkOp>>,
    /// How long an operation runs before it is COMPLETED.
    pub run_time: Duration,
    /// Where result files are served (`{base}/bulk/{n}.jsonl`).
    pub base_url: String,
    /// Operations still to be started that fail (as Shopify's
    /// `INTERNAL_SERVER_ERROR`), set by tests.
    pub fail_next: std::sync::atomic::AtomicUsize,
}

/// What the result file route finds at a number.
#[derive(Debug)]
pub enum File {
    Ready(Arc<Vec<u8>>),
    /// The operation expired: its signed link no longer opens.
    Expired,
    Missing,
}

fn gid(number: u64) -> String {
    format!("gid://shopify/BulkOperation/{number}")
}

impl BulkOp {
    fn done(&self) -> bool {
        self.failed || (self.polls >= 2 && Instant::now() >= self.ready_at)
    }

    /// The operation as `BulkOperation` JSON, as of now.
    fn render(&self, base_url: &str) -> Value {
        let (status, completed) = if self.failed {
            ("FAILED", true)
        } else if self.expired {
            ("EXPIRED", true)
        } else if Instant::now() >= self.ready_at && self.polls >= 2 {
            ("COMPLETED", true)
        } else if self.polls >= 1 {
            ("RUNNING", false)
        } else {
            ("CREATED", false)
        };
        let finished = completed && !self.failed && !self.expired;
        json!({
            "__typename": "BulkOperation",
            "id": gid(self.number),
            "status": status,
            "type": "QUERY",
            "errorCode": if self.failed { json!("INTERNAL_SERVER_ERROR") } else { Value::Null },
            "createdAt": datetime(self.created),
            "completedAt": if completed { json!(datetime(self.created + 1)) } else { Value::Null },
            "objectCount": if finished { self.object_count } else { 0 }.to_string(),
            "rootObjectCount": if finished { self.root_object_count } else { 0 }.to_string(),
            "fileSize": if finished { json!(self.jsonl.len().to_string()) } else { Value::Null },
            "url": if finished { json!(format!("{base_url}/bulk/{}.jsonl", self.number)) } else { Value::Null },
            "partialDataUrl": null,
            "query": self.query,
        })
    }
}

impl BulkOps {
    /// `bulkOperation(id:)` / `node(id:)`: the operation, marking it seen
    /// (an operation moves on from CREATED once it has been polled, and
    /// is seen RUNNING by one poll at least).
    pub fn get(&self, id: &str) -> Option<Value> {
        let mut ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        let op = ops.iter_mut().find(|o| gid(o.number) == id)?;
        let rendered = op.render(&self.base_url);
        op.polls = op.polls.saturating_add(1);
        Some(rendered)
    }

    /// `currentBulkOperation`: the latest, terminal or not.
    pub fn current(&self) -> Option<Value> {
        let id = {
            let ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
            gid(ops.last()?.number)
        };
        self.get(&id)
    }

    pub fn file(&self, number: u64) -> File {
        let ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        match ops
            .iter()
            .find(|o| o.number == number && o.done() && !o.failed)
        {
            Some(o) if o.expired => File::Expired,
            Some(o) => File::Ready(o.jsonl.clone()),
            None => File::Missing,
        }
    }

    /// Bulk query operations started so far.
    pub fn started(&self) -> usize {
        self.ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Every finished operation passes its results' lifetime: EXPIRED,
    /// its file gone. Returns how many did.
    pub fn expire(&self) -> usize {
        let mut ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        let mut n = 0;
        for o in ops
            .iter_mut()
            .filter(|o| o.done() && !o.failed && !o.expired)
        {
            o.expired = true;
            n += 1;
        }
        n
    }

    /// `bulkOperationRunQuery`: the payload (`bulkOperation`, `userErrors`).
    pub fn run(&self, store: &Store, version: ApiVersion, query: &str, now: i64) -> Value {
        let invalid = |messages: Vec<String>| {
            let errors: Vec<Value> = messages
                .into_iter()
                .map(|m| json!({"field": ["query"], "message": m, "code": "INVALID"}))
                .collect();
            json!({"bulkOperation": null, "userErrors": errors})
        };
        let doc = match schema::validate(version, query) {
            Ok(doc) => doc,
            Err(errors) => {
                let first = errors[0]["message"]
                    .as_str()
                    .unwrap_or("invalid")
                    .to_owned();
                return invalid(vec![format!("Invalid bulk query: {first}")]);
            }
        };
        let problems = bulk_rules(&doc);
        if !problems.is_empty() {
            return invalid(problems);
        }
        let mut ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        let running: Vec<String> = ops
            .iter()
            .filter(|o| !o.done())
            .map(|o| gid(o.number))
            .collect();
        if running.len() >= MAX_RUNNING {
            return json!({"bulkOperation": null, "userErrors": [{
                "field": null,
                "message": format!(
                    "A bulk query operation for this app and shop is already in progress: {}.",
                    running.join(", ")
                ),
                "code": "OPERATION_IN_PROGRESS",
            }]});
        }
        let fail = self
            .fail_next
            .fetch_update(
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
                |n| n.checked_sub(1),
            )
            .is_ok();
        let (jsonl, roots, objects, failed) = match export(store, version, &doc) {
            Ok(_) if fail => (Vec::new(), 0, 0, true),
            Ok((lines, roots)) => {
                let objects = lines.len();
                let mut bytes = Vec::new();
                for line in lines {
                    // Shopify's JSONL escapes every slash.
                    bytes.extend_from_slice(line.replace('/', "\\/").as_bytes());
                    bytes.push(b'\n');
                }
                (bytes, roots, objects, false)
            }
            Err(message) => {
                eprintln!("simulated Shopify: bulk operation failed: {message}");
                (Vec::new(), 0, 0, true)
            }
        };
        let number = 8_066_670_100_000 + ops.len() as u64 * 32_768;
        let op = BulkOp {
            number,
            query: query.to_owned(),
            created: now,
            ready_at: Instant::now() + self.run_time,
            polls: 0,
            failed,
            expired: false,
            jsonl: Arc::new(jsonl),
            object_count: objects,
            root_object_count: roots,
        };
        let rendered = op.render(&self.base_url);
        ops.push(op);
        json!({"bulkOperation": rendered, "userErrors": []})
    }
}

/// Shopify's bulk-query rules, as its messages word them.
fn bulk_rules(doc: &Valid<ExecutableDocument>) -> Vec<String> {
    let Ok(op) = doc.operations.get(None) else {
        return vec!["Bulk queries must contain exactly one operation.".to_owned()];
    };
    if op.operation_type != OperationType::Query {
        return vec!["Invalid operation type. Only `query` operations are supported.".to_owned()];
    }
    let mut problems = Vec::new();
    let top: Vec<_> = fields(doc, &op.selection_set);
    if top.iter().any(|f| f.name == "node") {
        problems.push("Bulk queries cannot contain a top level `node` field.".to_owned());
    }
    let mut walk = Walk::default();
    walk.set(doc, &op.selection_set, 0, true);
    if walk.connections == 0 {
        problems.push("Bulk queries must contain at least one connection.".to_owned());
    }
    if walk.connections > 5 {
        problems.push("Bulk queries cannot contain more than 5 connections.".to_owned());
    }
    if walk.depth > 2 {
        problems.push(
            "Bulk queries cannot contain connections with a nesting depth greater than 2."
                .to_owned(),
        );
    }
    if !walk.via_nodes.is_empty() {
        problems.push(format!(
            "All connection fields in a bulk query must select their contents using 'edges' > 'node', e.g: '{0} {{ edges {{ node {{'. Selecting via 'nodes' is not supported. Invalid connection fields: {1}.",
            walk.via_nodes[0],
            walk.via_nodes.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
        ));
    }
    if !walk.without_id.is_empty() {
        problems.push(format!(
            "The parent 'node' field for a nested connection must select the 'id' field without an alias and must be of 'ID' return type. Connection fields without 'id': {}.",
            walk.without_id.join(", ")
        ));
    }
    problems
}

fn fields<'d>(
    doc: &'d Valid<ExecutableDocument>,
    set: &'d SelectionSet,
) -> Vec<&'d apollo_compiler::executable::Field> {
    let mut out = Vec::new();
    for s in &set.selections {
        match s {
            Selection::Field(f) => out.push(f.as_ref()),
            Selection::InlineFragment(i) => out.extend(fields(doc, &i.selection_set)),
            Selection::FragmentSpread(sp) => {
                if let Some(fr) = doc.fragments.get(&sp.fragment_name) {
                    out.extend(fields(doc, &fr.selection_set));
                }
            }
        }
    }
    out
}

#[derive(Default)]
struct Walk {
    connections: usize,
    depth: usize,
    via_nodes: Vec<String>,
    without_id: Vec<String>,
}

impl Walk {
    /// `set` is inside `depth` connections; `has_id_parent`: its node selects `id`.
    fn set(
        &mut self,
        doc: &Valid<ExecutableDocument>,
        set: &SelectionSet,
        depth: usize,
        has_id: bool,
    ) {
        for f in fields(doc, set) {
            let is_conn = f
                .definition
                .ty
                .inner_named_type()
                .as_str()
                .ends_with("Connection");
            if !is_conn {
                self.set(doc, &f.selection_set, depth, has_id);
                continue;
            }
            self.connections += 1;
            self.depth = self.depth.max(depth + 1);
            if depth > 0 && !has_id {
                self.without_id.push(f.name.to_string());
            }
            for inner in fields(doc, &f.selection_set) {
                match inner.name.as_str() {
                    "nodes" => self.via_nodes.push(f.name.to_string()),
                    "edges" => {
                        for node in fields(doc, &inner.selection_set) {
                            if node.name == "node" {
                                let selects_id = fields(doc, &node.selection_set)
                                    .iter()
                                    .any(|g| g.name == "id" && g.alias.is_none());
                                self.set(doc, &node.selection_set, depth + 1, selects_id);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Runs the query over whole connections: the JSONL lines and the count of
/// root objects.
fn export(
    store: &Store,
    version: ApiVersion,
    doc: &Valid<ExecutableDocument>,
) -> Result<(Vec<String>, usize), String> {
    let root = Obj::Root(Cx {
        store,
        bulk: true,
        ops: None,
        version,
        now: 0,
        applied: None,
        hooks: None,
    });
    let response = Execution::new(version.schema(), doc)
        .execute_sync(&root)
        .map_err(|e| e.message().to_string())?;
    if let Some(e) = response.errors.first() {
        return Err(e.message.clone());
    }
    let data = serde_json::to_value(&response.data).map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    let mut roots = 0;
    if let Value::Object(top) = data {
        for (_, v) in top {
            if v.get("edges").is_some() {
                roots += flatten(&v, None, &mut lines);
            }
        }
    }
    Ok((lines, roots))
}

/// Emits a connection's nodes (each followed by its own nested
/// connections' nodes); returns how many nodes it held.
fn flatten(conn: &Value, parent: Option<&str>, out: &mut Vec<String>) -> usize {
    let edges = conn["edges"].as_array().map_or(&[][..], Vec::as_slice);
    for edge in edges {
        let mut node = edge["node"].clone();
        let mut nested = Vec::new();
        take_connections(&mut node, &mut nested);
        if let (Some(p), Value::Object(map)) = (parent, &mut node) {
            map.insert("__parentId".into(), json!(p));
        }
        out.push(node.to_string());
        let id = node["id"].as_str().map(str::to_owned);
        for child in nested {
            flatten(&child, id.as_deref(), out);
        }
    }
    edges.len()
}

/// Moves every connection (an object with `edges`) out of `v`, at any depth.
fn take_connections(v: &mut Value, out: &mut Vec<Value>) {
    if let Value::Object(map) = v {
        let keys: Vec<String> = map.keys().cloned().collect();
        let mut kept = Map::new();
        for k in keys {
            let Some(mut child) = map.remove(&k) else {
                continue;
            };
            if child.get("edges").is_some_and(Value::is_array) {
                out.push(child);
            } else {
                take_connections(&mut child, out);
                kept.insert(k, child);
            }
        }
        *map = kept;
    }
}
