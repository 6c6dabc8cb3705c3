//! Bulk exports: a whole resource as one JSONL file written by the shop.
//!
//! `bulkOperationRunQuery` starts the export (with `groupObjects: true`, so
//! each object's children follow it, which the streaming reader needs);
//! `bulkOperation(id:)` is polled, with a growing interval, until the
//! operation ends. A COMPLETED operation's `url` is downloaded as a stream
//! and read group by group ([`BulkReader`]), never held whole in memory, and
//! each group mapped into our records.
//!
//! - `OPERATION_IN_PROGRESS` (the shop runs as many bulk queries for this
//!   app as it allows): the operations it names are polled until one ends,
//!   then the export is started again.
//! - FAILED, CANCELED, EXPIRED: an error; `ACCESS_DENIED` is a key problem,
//!   the rest are worth trying again later.
//! - Resume: nothing is persisted here. The caller keeps the operation's
//!   id and url ([`BulkOperation`]) and, after a restart, polls the id or
//!   opens the url again, skipping the groups it already stored, without a
//!   second export while the url is valid (7 days). An expired url answers
//!   403 and is reported as gone.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::io::BufReader;
use tokio_util::io::StreamReader;

use super::bulk::{BulkReader, Group};
use super::client::{Kind, ShopifyClient};
use super::queries::{self, Export};
use super::wire::{self, read_node};
use crate::domain::batch::Records;
use crate::domain::catalog::Product;
use crate::upstream::UpstreamError;

/// A bulk operation's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkStatus {
    Created,
    Running,
    Completed,
    Canceling,
    Canceled,
    Failed,
    Expired,
}

impl BulkStatus {
    fn parse(s: &str) -> Result<Self, UpstreamError> {
        Ok(match s {
            "CREATED" => Self::Created,
            "RUNNING" => Self::Running,
            "COMPLETED" => Self::Completed,
            "CANCELING" => Self::Canceling,
            "CANCELED" => Self::Canceled,
            "FAILED" => Self::Failed,
            "EXPIRED" => Self::Expired,
            other => {
                return Err(UpstreamError::Malformed {
                    detail: format!("bulk operation status {other:?} is unknown"),
                    snippet: String::new(),
                });
            }
        })
    }

    /// Whether the operation has ended (for better or worse).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Canceled | Self::Failed | Self::Expired
        )
    }
}

/// What the shop says about a bulk operation: enough to resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOperation {
    /// `gid://shopify/BulkOperation/…`: poll it again after a restart.
    pub id: String,
    pub status: BulkStatus,
    pub error_code: Option<String>,
    pub object_count: u64,
    pub root_object_count: u64,
    pub file_size: Option<u64>,
    /// The result file, once COMPLETED (valid for 7 days); `None` when the
    /// export matched nothing.
    pub url: Option<String>,
    /// What a failed operation wrote before failing.
    pub partial_data_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOperation {
    id: String,
    status: String,
    error_code: Option<String>,
    object_count: Option<String>,
    root_object_count: Option<String>,
    file_size: Option<String>,
    url: Option<String>,
    partial_data_url: Option<String>,
}

fn malformed(detail: String) -> UpstreamError {
    UpstreamError::Malformed {
        detail,
        snippet: String::new(),
    }
}

/// `UnsignedInt64` arrives as a decimal string.
fn count(s: &Option<String>, what: &str) -> Result<Option<u64>, UpstreamError> {
    s.as_deref()
        .map(|s| {
            s.parse::<u64>()
                .map_err(|_| malformed(format!("bulk operation {what} {s:?} is not a count")))
        })
        .transpose()
}

impl BulkOperation {
    fn read(v: &Value) -> Result<Self, UpstreamError> {
        let w =
            WireOperation::deserialize(v).map_err(|e| malformed(format!("bulk operation: {e}")))?;
        Ok(BulkOperation {
            status: BulkStatus::parse(&w.status)?,
            object_count: count(&w.object_count, "objectCount")?.unwrap_or(0),
            root_object_count: count(&w.root_object_count, "rootObjectCount")?.unwrap_or(0),
            file_size: count(&w.file_size, "fileSize")?,
            id: w.id,
            error_code: w.error_code,
            url: w.url,
            partial_data_url: w.partial_data_url,
        })
    }

    /// The error for an operation that ended without a result.
    fn failure(&self) -> UpstreamError {
        let code = self.error_code.clone().unwrap_or_default();
        let what = format!(
            "bulk operation {} ended {:?}{}",
            self.id,
            self.status,
            if code.is_empty() {
                String::new()
            } else {
                format!(" ({code})")
            }
        );
        if code == "ACCESS_DENIED" {
            return UpstreamError::Auth {
                status: 200,
                code,
                message: what,
            };
        }
        UpstreamError::Transient {
            reason: what,
            retry_after: None,
        }
    }
}

/// How often a running operation is polled.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// The first wait.
    pub first: Duration,
    /// Waits grow by half each time up to this.
    pub max: Duration,
    /// Give up after this long (a bulk query may run for days on a huge
    /// shop; a sync task would rather try again later).
    pub timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            first: Duration::from_secs(1),
            max: Duration::from_secs(30),
            timeout: Duration::from_secs(6 * 3600),
        }
    }
}

impl Polling {
    fn next(&self, wait: Duration) -> Duration {
        wait.mul_f64(1.5).min(self.max)
    }
}

/// The operation ids an `OPERATION_IN_PROGRESS` message lists.
fn ids_in(message: &str) -> Vec<String> {
    message
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| w.starts_with("gid://shopify/BulkOperation/"))
        .map(str::to_owned)
        .collect()
}

impl ShopifyClient {
    /// Starts a bulk export of `query_text`. When the shop already runs as
    /// many as it allows, waits (with `polling`) for one of them to end and
    /// starts again.
    pub async fn start_bulk(
        &self,
        query_text: &str,
        polling: Polling,
    ) -> Result<BulkOperation, UpstreamError> {
        let started = Instant::now();
        loop {
            let answer = self
                .request(
                    &queries::bulk_run(),
                    json!({ "query": query_text }),
                    // The mutation starts an export: sent again only when
                    // the shop said it did not run it.
                    Kind::Write,
                )
                .await
                .map_err(UpstreamError::from)?;
            let payload = &answer.data["bulkOperationRunQuery"];
            let errors = payload["userErrors"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let Some(e) = errors.first() else {
                return BulkOperation::read(&payload["bulkOperation"]);
            };
            let code = e["code"].as_str().unwrap_or("");
            let message = e["message"].as_str().unwrap_or("").to_owned();
            if code != "OPERATION_IN_PROGRESS" {
                return Err(UpstreamError::Rejected {
                    status: 200,
                    code: code.to_owned(),
                    message,
                });
            }
            if started.elapsed() >= polling.timeout {
                return Err(UpstreamError::Transient {
                    reason: format!("bulk export not started: {message}"),
                    retry_after: None,
                });
            }
            let ids = ids_in(&message);
            tracing::info!(
                running = ids.len(),
                "another bulk export is running; waiting for one to end"
            );
            self.wait_any(&ids, polling, started).await?;
        }
    }

    /// Waits until one of `ids` has ended (or, naming none, one interval).
    async fn wait_any(
        &self,
        ids: &[String],
        polling: Polling,
        started: Instant,
    ) -> Result<(), UpstreamError> {
        let mut wait = polling.first;
        loop {
            tokio::time::sleep(wait).await;
            if ids.is_empty() {
                return Ok(());
            }
            for id in ids {
                match self.bulk_operation(id).await? {
                    Some(op) if !op.status.is_terminal() => {}
                    _ => return Ok(()),
                }
            }
            if started.elapsed() >= polling.timeout {
                return Ok(());
            }
            wait = polling.next(wait);
        }
    }

    /// One bulk operation; `None` when the shop does not know it.
    pub async fn bulk_operation(&self, id: &str) -> Result<Option<BulkOperation>, UpstreamError> {
        let answer = self
            .query(&queries::bulk_poll(), json!({ "id": id }))
            .await
            .map_err(UpstreamError::from)?;
        match &answer.data["bulkOperation"] {
            Value::Null => Ok(None),
            v => BulkOperation::read(v).map(Some),
        }
    }

    /// Polls `id` until it ends; a COMPLETED operation is returned, any
    /// other end is an error.
    pub async fn wait_bulk(
        &self,
        id: &str,
        polling: Polling,
    ) -> Result<BulkOperation, UpstreamError> {
        let started = Instant::now();
        let mut wait = polling.first;
        loop {
            let op = self
                .bulk_operation(id)
                .await?
                .ok_or_else(|| UpstreamError::NotFound {
                    code: "bulk_operation_unknown".to_owned(),
                    message: format!("the shop does not know bulk operation {id}"),
                })?;
            match op.status {
                BulkStatus::Completed => return Ok(op),
                ref s if s.is_terminal() => return Err(op.failure()),
                _ => {}
            }
            if started.elapsed() >= polling.timeout {
                return Err(UpstreamError::Transient {
                    reason: format!(
                        "bulk operation {id} still {:?} after {:?}",
                        op.status, polling.timeout
                    ),
                    retry_after: None,
                });
            }
            tracing::debug!(id, status = ?op.status, objects = op.object_count, "bulk export running");
            tokio::time::sleep(wait).await;
            wait = polling.next(wait);
        }
    }

    /// Starts the export of `what` (restricted by `search`) and waits for
    /// it: the finished operation, whose `url` [`ShopifyClient::open_export`]
    /// reads.
    pub async fn run_export(
        &self,
        what: Export,
        search: Option<&str>,
        polling: Polling,
    ) -> Result<BulkOperation, UpstreamError> {
        let location = self.location_id().await?;
        let text = queries::bulk_query(what, location, search);
        let op = self.start_bulk(&text, polling).await?;
        self.wait_bulk(&op.id, polling).await
    }

    /// Opens a finished export's result file at `url` as a stream of
    /// record batches, skipping the first `skip_roots` root objects (those
    /// a caller stored before a restart).
    pub async fn open_export(
        &self,
        what: Export,
        url: &str,
        skip_roots: u64,
    ) -> Result<ExportReader, UpstreamError> {
        let response = self
            .http()
            .get(url)
            .send()
            .await
            .map_err(crate::upstream::woo::classify::transport)?;
        let status = response.status().as_u16();
        if matches!(status, 403 | 404 | 410) {
            // A signed url past its expiry answers 403.
            return Err(UpstreamError::NotFound {
                code: "bulk_result_gone".to_owned(),
                message: format!(
                    "the export's result file answered {status}: its link has expired, run the export again"
                ),
            });
        }
        if !(200..300).contains(&status) {
            let headers = response.headers().clone();
            let body = response.bytes().await.unwrap_or_default();
            return Err(super::classify::status_error(status, &headers, &body));
        }
        let stream = response
            .bytes_stream()
            .map_err(|e| std::io::Error::other(e.without_url()));
        let reader: ExportStream = Box::new(BufReader::new(StreamReader::new(stream)));
        let mut out = ExportReader {
            reader: BulkReader::new(reader),
            what,
            roots_read: 0,
        };
        while out.roots_read < skip_roots {
            if out.reader.next_group().await?.is_none() {
                break;
            }
            out.roots_read += 1;
        }
        Ok(out)
    }
}

type ExportStream = Box<dyn tokio::io::AsyncBufRead + Send + Unpin>;

/// Reads an export's result file in batches of records.
pub struct ExportReader {
    reader: BulkReader<ExportStream>,
    what: Export,
    roots_read: u64,
}

impl std::fmt::Debug for ExportReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportReader")
            .field("what", &self.what)
            .field("roots_read", &self.roots_read)
            .finish_non_exhaustive()
    }
}

impl ExportReader {
    /// Root objects read so far (skipped ones included): what a caller
    /// persists to resume.
    pub fn roots_read(&self) -> u64 {
        self.roots_read
    }

    /// The next batch of up to `max_roots` root objects, as records (for
    /// products: the products, then their variations); `None` at the end.
    pub async fn next_batch(
        &mut self,
        max_roots: usize,
    ) -> Result<Option<Vec<Records>>, UpstreamError> {
        let mut groups = Vec::new();
        while groups.len() < max_roots.max(1) {
            match self.reader.next_group().await? {
                Some(g) => groups.push(g),
                None => break,
            }
        }
        if groups.is_empty() {
            return Ok(None);
        }
        self.roots_read += groups.len() as u64;
        batch(self.what, &groups).map(Some)
    }
}

/// The kind of a `gid://shopify/{Kind}/…`.
fn kind_of(object: &Map<String, Value>) -> &str {
    object
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| id.strip_prefix("gid://shopify/"))
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
}

/// Maps groups of one export into records.
pub fn batch(what: Export, groups: &[Group]) -> Result<Vec<Records>, UpstreamError> {
    Ok(match what {
        Export::Products => {
            let mut products = Vec::new();
            let mut variations: Vec<Product> = Vec::new();
            for g in groups {
                let root = Value::Object(g.root.clone());
                let (p, raw) = read_node::<wire::WireProduct>(&root, "product")?;
                let mut variants = Vec::new();
                let mut collections = Vec::new();
                for c in &g.children {
                    match kind_of(&c.object) {
                        "ProductVariant" => {
                            let v = Value::Object(c.object.clone());
                            variants.push(read_node::<wire::WireVariant>(&v, "variant")?);
                        }
                        "Collection" => collections.push(wire::gid_number(
                            c.object["id"].as_str().unwrap_or(""),
                            "Collection",
                        )?),
                        _ => {}
                    }
                }
                let simple = p
                    .has_only_default_variant
                    .unwrap_or_else(|| variants.len() == 1 && variants[0].0.is_default());
                let default = if simple {
                    variants.first().map(|(v, _)| v)
                } else {
                    None
                };
                let product = wire::product(&p, raw, collections, default)?;
                if !simple {
                    for (v, raw) in variants {
                        variations.push(wire::variation(&v, raw, Some(product.id))?);
                    }
                }
                products.push(product);
            }
            vec![Records::Products(products), Records::Variations(variations)]
        }
        Export::Collections => vec![Records::Categories(
            groups
                .iter()
                .map(|g| {
                    let (c, raw) = read_node::<wire::WireCollection>(
                        &Value::Object(g.root.clone()),
                        "collection",
                    )?;
                    wire::category(&c, raw)
                })
                .collect::<Result<_, _>>()?,
        )],
        Export::Customers => vec![Records::Customers(
            groups
                .iter()
                .map(|g| {
                    let (c, raw) = read_node::<wire::WireCustomer>(
                        &Value::Object(g.root.clone()),
                        "customer",
                    )?;
                    wire::customer(&c, raw)
                })
                .collect::<Result<_, _>>()?,
        )],
        Export::Orders => vec![Records::Orders(
            groups
                .iter()
                .map(|g| {
                    let (o, raw) =
                        read_node::<wire::WireOrder>(&Value::Object(g.root.clone()), "order")?;
                    let lines = g
                        .children
                        .iter()
                        .filter(|c| kind_of(&c.object) == "LineItem")
                        .map(|c| {
                            read_node::<wire::WireLineItem>(
                                &Value::Object(c.object.clone()),
                                "line item",
                            )
                            .map(|(l, _)| l)
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    wire::order(&o, raw, Some(&lines))
                })
                .collect::<Result<_, _>>()?,
        )],
    })
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
