//! A bulk operation's result file (JSONL), read as a stream of groups: one
//! root object with every object nested under it, in file order.
//!
//! Each line is one object. Objects from nested connections are lines of
//! their own carrying `"__parentId"`, the id of the object they hang under
//! (a variant's metafield names the variant, not the product). Slashes come
//! escaped (`gid:\/\/shopify\/…`), so only a real JSON parser reads them.
//!
//! Ordering: `bulkOperationRunQuery(groupObjects: true)` writes each child
//! directly under its parent; with `groupObjects: false` (the default from
//! 2026-04) children come after their parent "but not necessarily directly
//! after". This reader holds one group in memory at a time, so it needs the
//! grouped layout: a child whose parent is not in the current group (it came
//! before its parent, or after another root) is an error naming the line,
//! never a silent misfiling. Lines are read with a size cap, so one runaway
//! line cannot exhaust memory either.

use std::collections::HashSet;

use serde_json::{Map, Value};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::upstream::UpstreamError;

/// The field naming an object's parent.
pub const PARENT_ID: &str = "__parentId";

/// The longest line accepted (a product with a long description and many
/// fields is well under 1 MiB).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One root object and what was nested under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The root object (`id` and the fields the query selected).
    pub root: Map<String, Value>,
    /// Every descendant in file order, its `__parentId` taken out.
    pub children: Vec<Child>,
}

/// An object nested under a root, directly or through another child.
#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    /// The id of the object it hangs under.
    pub parent_id: String,
    pub object: Map<String, Value>,
}

impl Group {
    /// The root's `id`, when the query selected it.
    pub fn id(&self) -> Option<&str> {
        self.root.get("id").and_then(Value::as_str)
    }

    /// The direct children of `parent_id` (the root's id or a child's).
    pub fn children_of<'a>(
        &'a self,
        parent_id: &'a str,
    ) -> impl Iterator<Item = &'a Map<String, Value>> + 'a {
        self.children
            .iter()
            .filter(move |c| c.parent_id == parent_id)
            .map(|c| &c.object)
    }
}

/// Why a result file cannot be read. Every variant names the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BulkError {
    /// Reading failed (the download broke off).
    #[error("bulk result line {line}: reading failed: {reason}")]
    Read { line: u64, reason: String },
    #[error("bulk result line {line} is longer than {limit} bytes")]
    LineTooLong { line: u64, limit: usize },
    #[error("bulk result line {line} is not JSON: {detail}")]
    NotJson { line: u64, detail: String },
    #[error("bulk result line {line} is not a JSON object")]
    NotAnObject { line: u64 },
    #[error("bulk result line {line} has a {PARENT_ID} that is not a string id")]
    BadParentId { line: u64 },
    /// A child whose parent is not in the group being read: the file is not
    /// grouped (`groupObjects: false`) or out of order.
    #[error(
        "bulk result line {line} is a child of {parent_id}, which is not the record it follows \
         (run the bulk query with groupObjects: true)"
    )]
    Ungrouped { line: u64, parent_id: String },
}

/// A broken download may succeed if fetched again; a file that does not
/// read is not what Shopify writes.
impl From<BulkError> for UpstreamError {
    fn from(e: BulkError) -> Self {
        match e {
            BulkError::Read { .. } => UpstreamError::Transient {
                reason: e.to_string(),
                retry_after: None,
            },
            other => UpstreamError::Malformed {
                detail: other.to_string(),
                snippet: String::new(),
            },
        }
    }
}

/// Reads groups one by one from a result file.
pub struct BulkReader<R> {
    inner: R,
    /// Lines read so far (the number of the last one).
    line: u64,
    /// A root read ahead: it ended the previous group.
    next_root: Option<Map<String, Value>>,
    limit: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<R: AsyncBufRead + Unpin> BulkReader<R> {
    pub fn new(inner: R) -> Self {
        Self::with_line_limit(inner, MAX_LINE_BYTES)
    }

    pub fn with_line_limit(inner: R, limit: usize) -> Self {
        Self {
            inner,
            line: 0,
            next_root: None,
            limit,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Lines read so far.
    pub fn lines_read(&self) -> u64 {
        self.line
    }

    /// The next group, `None` at the end of the file. After an error the
    /// reader is done.
    pub async fn next_group(&mut self) -> Result<Option<Group>, BulkError> {
        let result = self.read_group().await;
        if result.is_err() {
            self.done = true;
        }
        result
    }

    async fn read_group(&mut self) -> Result<Option<Group>, BulkError> {
        let root = match self.next_root.take() {
            Some(root) => root,
            None => match self.next_object().await? {
                None => return Ok(None),
                Some((None, root)) => root,
                Some((Some(parent_id), _)) => {
                    return Err(BulkError::Ungrouped {
                        line: self.line,
                        parent_id,
                    });
                }
            },
        };
        let mut ids: HashSet<String> = HashSet::new();
        if let Some(id) = root.get("id").and_then(Value::as_str) {
            ids.insert(id.to_owned());
        }
        let mut children = Vec::new();
        while let Some((parent, object)) = self.next_object().await? {
            let Some(parent_id) = parent else {
                self.next_root = Some(object);
                break;
            };
            if !ids.contains(&parent_id) {
                return Err(BulkError::Ungrouped {
                    line: self.line,
                    parent_id,
                });
            }
            if let Some(id) = object.get("id").and_then(Value::as_str) {
                ids.insert(id.to_owned());
            }
            children.push(Child { parent_id, object });
        }
        Ok(Some(Group { root, children }))
    }

    /// The next non-blank line as (its `__parentId`, the object without it).
    async fn next_object(
        &mut self,
    ) -> Result<Option<(Option<String>, Map<String, Value>)>, BulkError> {
        loop {
            if self.done || !self.read_line().await? {
                self.done = true;
                return Ok(None);
            }
            let text = self.buf.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let line = self.line;
            let value: Value = serde_json::from_slice(text).map_err(|e| BulkError::NotJson {
                line,
                detail: e.to_string(),
            })?;
            let Value::Object(mut object) = value else {
                return Err(BulkError::NotAnObject { line });
            };
            let parent = match object.remove(PARENT_ID) {
                None => None,
                Some(Value::String(p)) => Some(p),
                Some(_) => return Err(BulkError::BadParentId { line }),
            };
            return Ok(Some((parent, object)));
        }
    }

    /// Reads one line into `buf` (without its newline), at most `limit`
    /// bytes; `false` at the end of the input.
    async fn read_line(&mut self) -> Result<bool, BulkError> {
        self.buf.clear();
        let line = self.line + 1;
        let mut any = false;
        loop {
            let chunk = self.inner.fill_buf().await.map_err(|e| BulkError::Read {
                line,
                reason: e.to_string(),
            })?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (part, used, ended) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (&chunk[..i], i + 1, true),
                None => (chunk, chunk.len(), false),
            };
            if self.buf.len() + part.len() > self.limit {
                return Err(BulkError::LineTooLong {
                    line,
                    limit: self.limit,
                });
            }
            self.buf.extend_from_slice(part);
            self.inner.consume(used);
            if ended {
                break;
            }
        }
        if any {
            self.line = line;
        }
        Ok(any)
    }
}

#[cfg(test)]
#[path = "bulk_tests.rs"]
mod tests;
