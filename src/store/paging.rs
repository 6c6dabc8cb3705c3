//! Keyset paging for the back-office lists (outbox, events): a page is
//! anchored on a row's sequence number, not an offset, so rows added while
//! the manager reads do not shift what "older" shows.

/// Which page of a list, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cursor {
    /// The newest rows.
    #[default]
    Newest,
    /// The rows just before (older than) this sequence number.
    Before(i64),
    /// The rows just after (newer than) this sequence number.
    After(i64),
}

/// One page of rows, newest first, with the anchors of its neighbours.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    /// Set when older rows match: the `Before` anchor of the next page.
    pub older: Option<i64>,
    /// Set when newer rows match: the `After` anchor of the previous page.
    pub newer: Option<i64>,
}

impl Cursor {
    /// `(:before, :after)` for the page queries: at most one is set.
    pub(super) fn bounds(self) -> (Option<i64>, Option<i64>) {
        match self {
            Cursor::Newest => (None, None),
            Cursor::Before(n) => (Some(n), None),
            Cursor::After(n) => (None, Some(n)),
        }
    }
}

/// Puts rows read in either order newest first, and names the neighbours
/// from `exists(before_seq)` / `exists(after_seq)`.
pub(super) fn assemble<T, E>(
    cursor: Cursor,
    mut rows: Vec<T>,
    seq: impl Fn(&T) -> i64,
    mut exists: impl FnMut(Option<i64>, Option<i64>) -> Result<bool, E>,
) -> Result<Page<T>, E> {
    if matches!(cursor, Cursor::After(_)) {
        // Read oldest first (the rows just above the anchor).
        rows.reverse();
    }
    let (newest, oldest) = match (rows.first(), rows.last()) {
        (Some(a), Some(b)) => (seq(a), seq(b)),
        _ => {
            // An empty page still links back to where the manager came from.
            return Ok(Page {
                rows,
                older: match cursor {
                    Cursor::After(n) if exists(Some(n + 1), None)? => Some(n + 1),
                    _ => None,
                },
                newer: match cursor {
                    Cursor::Before(n) if exists(None, Some(n - 1))? => Some(n - 1),
                    _ => None,
                },
            });
        }
    };
    let older = exists(Some(oldest), None)?.then_some(oldest);
    let newer = exists(None, Some(newest))?.then_some(newest);
    Ok(Page { rows, older, newer })
}
