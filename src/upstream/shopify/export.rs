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

use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tokio::io::BufReader;
use tokio_util::io::StreamReader;

use super::bulk::{BulkReader, Group};
use super::client::{Kind, ShopifyClient};
use super::pages;
use super::queries::{self, Export};
use crate::domain::batch::Records;
use crate::upstream::{Cursor, ExportBatch, Filter, UpstreamError};

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

/// What asking to start an export got.
enum Started {
    Running(BulkOperation),
    /// `OPERATION_IN_PROGRESS`: the operations the shop named, its message.
    Busy {
        ids: Vec<String>,
        message: String,
    },
}

fn busy_too_long(message: &str) -> UpstreamError {
    UpstreamError::Transient {
        reason: format!("bulk export not started: {message}"),
        retry_after: None,
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
    /// Asks once to start a bulk export of `query_text`.
    async fn try_start_bulk(&self, query_text: &str) -> Result<Started, UpstreamError> {
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
            return BulkOperation::read(&payload["bulkOperation"]).map(Started::Running);
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
        Ok(Started::Busy {
            ids: ids_in(&message),
            message,
        })
    }

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
            let (ids, message) = match self.try_start_bulk(query_text).await? {
                Started::Running(op) => return Ok(op),
                Started::Busy { ids, message } => (ids, message),
            };
            if started.elapsed() >= polling.timeout {
                return Err(busy_too_long(&message));
            }
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
            .download()
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

    /// The next batch of up to `max_roots` root objects, as records;
    /// `None` at the end.
    pub async fn next_batch(&mut self, max_roots: usize) -> Result<Option<Records>, UpstreamError> {
        let mut nodes = Vec::new();
        while nodes.len() < max_roots.max(1) {
            match self.reader.next_group().await? {
                Some(g) => nodes.push(page_node(self.what, &g)),
                None => break,
            }
        }
        if nodes.is_empty() {
            return Ok(None);
        }
        self.roots_read += nodes.len() as u64;
        pages::records(self.what.resource(), &nodes).map(Some)
    }
}

/// Objects a resource must count, at least, to be exported in bulk rather
/// than walked by cursor pages. A bulk export costs a start, polls a
/// second or more apart and a download, whatever its size; a page of 250
/// costs one request and its query's points. Under four pages of the
/// largest size the pages are done before an export would be ready; above,
/// the export is cheaper in points and quicker as the shop grows.
pub const EXPORT_THRESHOLD: u64 = 1_000;

/// Root objects mapped and handed over at a time (a page's worth).
const EXPORT_BATCH: usize = 250;

/// Fresh operations one export may start: one, and another when that one
/// (or the one resumed) failed, expired or lost its file.
const STARTS: u8 = 2;

/// Where an export stands, as the engine persists it:
/// `bulk;{operation gid};{root objects written}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub operation: String,
    pub roots: u64,
}

const POSITION_TAG: &str = "bulk;";

impl Position {
    pub fn cursor(&self) -> Cursor {
        Cursor::new(format!("{POSITION_TAG}{};{}", self.operation, self.roots))
    }

    /// An export's position; `None` for any other cursor (a page's).
    pub fn parse(cursor: &Cursor) -> Option<Position> {
        let rest = cursor.as_str().strip_prefix(POSITION_TAG)?;
        let (operation, roots) = rest.rsplit_once(';')?;
        if !operation.starts_with("gid://shopify/BulkOperation/") {
            return None;
        }
        Some(Position {
            operation: operation.to_owned(),
            roots: roots.parse().ok()?,
        })
    }
}

/// Where an export's stream stands.
enum Step {
    /// A new operation is to be started.
    Start,
    /// The shop runs as many exports as it allows (`OPERATION_IN_PROGRESS`):
    /// the ones it named are polled until one ends, then this one starts.
    Busy {
        ids: Vec<String>,
    },
    /// An operation runs (or, resumed, is to be asked about): polled until
    /// it ends; `roots` of its file are written already.
    Poll {
        op: String,
        roots: u64,
        wait: Duration,
        since: Instant,
    },
    /// Its file is being read.
    Read {
        op: String,
        reader: Box<ExportReader>,
        total: u64,
    },
    Done,
}

/// One export of a resource as a stream of batches for the engine: the
/// operation started (or the one a restarted run had started asked about
/// again), polled, its file streamed and mapped as cursor pages are, each
/// batch carrying the position to resume from.
pub(super) struct ExportRun<'a> {
    client: &'a ShopifyClient,
    what: Export,
    search: Option<String>,
    filter: Filter,
    polling: Polling,
    starts_left: u8,
    /// Since when the shop has been refusing to start this export.
    busy_since: Option<Instant>,
    step: Step,
}

impl<'a> ExportRun<'a> {
    /// A fresh export, or one going on from `from`.
    pub(super) fn new(
        client: &'a ShopifyClient,
        what: Export,
        search: Option<String>,
        filter: Filter,
        from: Option<Position>,
    ) -> Self {
        let polling = client.polling();
        let step = match from {
            Some(p) => Step::Poll {
                op: p.operation,
                roots: p.roots,
                wait: Duration::ZERO,
                since: Instant::now(),
            },
            None => Step::Start,
        };
        ExportRun {
            client,
            what,
            search,
            filter,
            polling,
            starts_left: STARTS,
            busy_since: None,
            step,
        }
    }

    /// The batches, ending at the end of the file or at the first error.
    pub(super) fn stream(self) -> crate::upstream::Export<'a> {
        futures::stream::unfold(self, |mut run| async move {
            match run.next().await {
                Ok(Some(batch)) => Some((Ok(batch), run)),
                Ok(None) => None,
                Err(e) => {
                    run.step = Step::Done;
                    Some((Err(e), run))
                }
            }
        })
        .boxed()
    }

    fn batch(&self, records: Option<Records>, at: Option<Position>, note: String) -> ExportBatch {
        ExportBatch {
            records: records.unwrap_or_else(|| empty(self.what)),
            at: at.map(|p| p.cursor()),
            total_items: None,
            note: Some(note),
        }
    }

    /// Starts again from nothing, after `why`; an error when this export
    /// has started as many operations as it may.
    fn restart(&mut self, why: UpstreamError) -> Result<ExportBatch, UpstreamError> {
        if self.starts_left == 0 {
            return Err(why);
        }
        tracing::warn!(error = %why, "bulk export unusable; starting a new one");
        self.step = Step::Start;
        Ok(self.batch(None, None, format!("{why}; starting a new export")))
    }

    async fn next(&mut self) -> Result<Option<ExportBatch>, UpstreamError> {
        match std::mem::replace(&mut self.step, Step::Done) {
            Step::Done => Ok(None),
            Step::Start => {
                let location = self.client.location_id().await?;
                let text = queries::bulk_query(self.what, location, self.search.as_deref());
                let op = match self.client.try_start_bulk(&text).await? {
                    Started::Running(op) => op,
                    Started::Busy { ids, message } => {
                        let since = *self.busy_since.get_or_insert_with(Instant::now);
                        if since.elapsed() >= self.polling.timeout {
                            return Err(busy_too_long(&message));
                        }
                        tracing::info!(
                            running = ids.len(),
                            "another bulk export is running; waiting for one to end"
                        );
                        self.step = Step::Busy { ids };
                        return Ok(Some(self.batch(
                            None,
                            None,
                            format!("waiting for another bulk export to end: {message}"),
                        )));
                    }
                };
                self.busy_since = None;
                self.starts_left = self.starts_left.saturating_sub(1);
                let at = Position {
                    operation: op.id.clone(),
                    roots: 0,
                };
                self.step = Step::Poll {
                    op: op.id.clone(),
                    roots: 0,
                    wait: self.polling.first,
                    since: Instant::now(),
                };
                Ok(Some(self.batch(
                    None,
                    Some(at),
                    format!("bulk export {} started", op.id),
                )))
            }
            Step::Busy { ids } => {
                let since = self.busy_since.unwrap_or_else(Instant::now);
                self.client.wait_any(&ids, self.polling, since).await?;
                self.step = Step::Start;
                Ok(Some(self.batch(
                    None,
                    None,
                    "another bulk export ended; starting this one".to_owned(),
                )))
            }
            Step::Poll {
                op,
                roots,
                wait,
                since,
            } => {
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                let Some(now) = self.client.bulk_operation(&op).await? else {
                    return self
                        .restart(UpstreamError::NotFound {
                            code: "bulk_operation_unknown".to_owned(),
                            message: format!("the shop does not know bulk operation {op}"),
                        })
                        .map(Some);
                };
                match now.status {
                    BulkStatus::Completed => {
                        let Some(url) = now.url.clone() else {
                            // The export matched nothing.
                            return Ok(None);
                        };
                        match self.client.open_export(self.what, &url, roots).await {
                            Ok(reader) => {
                                self.step = Step::Read {
                                    op,
                                    reader: Box::new(reader),
                                    total: now.root_object_count,
                                };
                                Ok(Some(self.batch(
                                    None,
                                    None,
                                    format!(
                                        "bulk export {} ready: {} objects, reading from {roots}",
                                        now.id, now.root_object_count
                                    ),
                                )))
                            }
                            Err(e @ UpstreamError::NotFound { .. }) => self.restart(e).map(Some),
                            Err(e) => Err(e),
                        }
                    }
                    ref s if s.is_terminal() => {
                        let e = now.failure();
                        if e.is_auth() {
                            return Err(e);
                        }
                        self.restart(e).map(Some)
                    }
                    _ => {
                        if since.elapsed() >= self.polling.timeout {
                            return Err(UpstreamError::Transient {
                                reason: format!(
                                    "bulk operation {op} still {:?} after {:?}",
                                    now.status, self.polling.timeout
                                ),
                                retry_after: None,
                            });
                        }
                        let note = format!(
                            "bulk export {op} {}: {} objects so far",
                            format!("{:?}", now.status).to_lowercase(),
                            now.object_count
                        );
                        self.step = Step::Poll {
                            op,
                            roots,
                            wait: if wait.is_zero() {
                                self.polling.first
                            } else {
                                self.polling.next(wait)
                            },
                            since,
                        };
                        Ok(Some(self.batch(None, None, note)))
                    }
                }
            }
            Step::Read {
                op,
                mut reader,
                total,
            } => {
                let Some(mut records) = reader.next_batch(EXPORT_BATCH).await? else {
                    return Ok(None);
                };
                super::upstream::keep(&mut records, &self.filter);
                let at = Position {
                    operation: op.clone(),
                    roots: reader.roots_read(),
                };
                let note = format!("bulk export: {} of {total} read", at.roots);
                self.step = Step::Read { op, reader, total };
                let mut batch = self.batch(Some(records), Some(at), note);
                batch.total_items = Some(total);
                Ok(Some(batch))
            }
        }
    }
}

impl ShopifyClient {
    /// Whether `what` under `search` counts enough objects to export it in
    /// bulk ([`EXPORT_THRESHOLD`]): a count up to the threshold, one cheap
    /// query.
    pub(super) async fn worth_exporting(
        &self,
        what: Export,
        search: Option<&str>,
    ) -> Result<bool, UpstreamError> {
        let threshold = self.export_threshold();
        if threshold == 0 {
            return Ok(true);
        }
        if threshold == u64::MAX {
            return Ok(false);
        }
        let answer = self
            .query(&queries::count(what, threshold), json!({ "query": search }))
            .await
            .map_err(UpstreamError::from)?;
        let field = &answer.data[what.count_field()];
        let count = field["count"]
            .as_u64()
            .ok_or_else(|| malformed(format!("{}: no count in the answer", what.count_field())))?;
        tracing::debug!(export = ?what, count, threshold, precision = ?field["precision"], "bulk or pages");
        Ok(count >= threshold)
    }
}

/// No records of what `what` exports.
fn empty(what: Export) -> Records {
    match what {
        Export::Products => Records::Products(Vec::new()),
        Export::Variations => Records::Variations(Vec::new()),
        Export::Collections => Records::Categories(Vec::new()),
        Export::Customers => Records::Customers(Vec::new()),
        Export::Orders => Records::Orders(Vec::new()),
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

/// A group of an export as a cursor page holds the same object: the root
/// with its nested connections' nodes under the fields the page selects
/// (`{ "nodes": […] }`), so that one mapping ([`pages::records`]) reads
/// both and a bulk pull lands the records a paged one does.
pub fn page_node(what: Export, group: &Group) -> Value {
    let mut node = group.root.clone();
    let id = group.id().unwrap_or("");
    let nested = |kind: &str| -> Vec<Value> {
        group
            .children_of(id)
            .filter(|c| kind_of(c) == kind)
            .map(|c| Value::Object(c.clone()))
            .collect()
    };
    match what {
        Export::Products => {
            // A page asks for the first variant only: a simple product's
            // default one, which carries its SKU, price and stock.
            let first: Vec<Value> = nested("ProductVariant").into_iter().take(1).collect();
            node.insert("variants".to_owned(), json!({ "nodes": first }));
            node.insert(
                "collections".to_owned(),
                json!({ "nodes": nested("Collection") }),
            );
        }
        Export::Orders => {
            node.insert(
                "lineItems".to_owned(),
                json!({ "nodes": nested("LineItem") }),
            );
        }
        Export::Variations | Export::Collections | Export::Customers => {}
    }
    Value::Object(node)
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
