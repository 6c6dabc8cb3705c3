//! The outbox: till changes waiting to go upstream, with their persisted
//! retry schedule and state (`queued → sending → unknown → confirmed |
//! rejected`, or `discarded` by the manager).
//!
//! Entries are enqueued in the caller's transaction, beside the local effect
//! they carry (see `store::till`). The replayer moves them through their
//! states, one write per transition, so a crash at any point leaves an entry
//! in a state that says what to do next.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, named_params};
use uuid::Uuid;

use super::paging::{self, Cursor, Page};
use super::{StoreError, to_json};
use crate::domain::UpstreamId;
use crate::domain::orders::RiskRecommendation;
use crate::domain::outbox::{EntryKind, EntryState, OutboxEntry, Payload};

const COLUMNS: &str = "id, seq, kind, subject, label, state, depends_on, payload, attempts,
    next_attempt_at, attempt_started_at, upstream_id, error_code, error_message,
    created_at, updated_at, confirmed_at";

const INSERT: &str = "
INSERT INTO outbox (id, seq, kind, subject, label, state, depends_on, payload, attempts,
                    next_attempt_at, created_at, updated_at)
VALUES (:id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox), :kind, :subject, :label, 'queued',
        :depends_on, :payload, 0, :now, :now, :now)";

const SET_STATE: &str = "
UPDATE outbox SET state = :state, next_attempt_at = :next, error_code = :code,
                  error_message = :message, updated_at = :now
WHERE id = :id";

const MARK_SENDING: &str = "
UPDATE outbox SET state = 'sending', attempts = attempts + 1, attempt_started_at = :now,
                  updated_at = :now
WHERE id = :id AND state IN ('queued', 'unknown')";

const CONFIRM: &str = "
UPDATE outbox SET state = 'confirmed', upstream_id = :upstream_id, error_code = NULL,
                  error_message = NULL, confirmed_at = :now, updated_at = :now
WHERE id = :id";

const SET_PAYLOAD: &str = "UPDATE outbox SET payload = :payload, updated_at = :now WHERE id = :id";

const RECOVER_IN_FLIGHT: &str = "
UPDATE outbox SET state = 'unknown', updated_at = :now,
                  error_message = 'the agent stopped while this was being sent'
WHERE state = 'sending'";

const RELEASE_WAITING: &str = "
UPDATE outbox SET next_attempt_at = :now
WHERE state IN ('queued', 'unknown') AND next_attempt_at > :now";

/// Ready entries: waiting, due, and whatever they depend on confirmed.
const DUE: &str = "
SELECT e.id, e.seq, e.kind, e.subject, e.label, e.state, e.depends_on, e.payload, e.attempts,
       e.next_attempt_at, e.attempt_started_at, e.upstream_id, e.error_code, e.error_message,
       e.created_at, e.updated_at, e.confirmed_at
FROM outbox e LEFT JOIN outbox d ON d.id = e.depends_on
WHERE e.state IN ('queued', 'unknown') AND e.next_attempt_at <= :now
  AND (e.depends_on IS NULL OR d.state = 'confirmed')
ORDER BY e.seq LIMIT :limit";

const NEXT_DUE_AT: &str = "
SELECT MIN(e.next_attempt_at)
FROM outbox e LEFT JOIN outbox d ON d.id = e.depends_on
WHERE e.state IN ('queued', 'unknown') AND (e.depends_on IS NULL OR d.state = 'confirmed')";

const PENDING_DEPENDENTS: &str = "
SELECT id FROM outbox WHERE depends_on = :id AND state IN ('queued', 'sending', 'unknown', 'rejected')
ORDER BY seq";

/// Sales the shop has not confirmed: waiting, in flight, unsure, or
/// refused and parked.
const OLDEST_UNCONFIRMED_SALE: &str = "
SELECT created_at, label FROM outbox
WHERE kind = 'sale' AND state IN ('queued', 'sending', 'unknown', 'rejected')
ORDER BY created_at, seq LIMIT 1";

const UNCONFIRMED_SALES: &str = "
SELECT label, state FROM outbox
WHERE kind = 'sale' AND state IN ('queued', 'sending', 'unknown', 'rejected')
ORDER BY seq";

const COUNT_BY_STATE: &str = "SELECT state, COUNT(*) FROM outbox GROUP BY state";

/// A page of the back-office queue: entries in one state and kind (or any),
/// each sale with its receipt number, total and customer from the local
/// order it sends, in one query. Newest first, or just above `:after`.
const PAGE: &str = "
SELECT e.id, e.seq, e.kind, e.subject, e.label, e.state, e.depends_on, e.payload, e.attempts,
       e.next_attempt_at, e.attempt_started_at, e.upstream_id, e.error_code, e.error_message,
       e.created_at, e.updated_at, e.confirmed_at,
       o.number_text, o.total,
       COALESCE(NULLIF(TRIM(lc.first_name || ' ' || lc.last_name), ''), NULLIF(lc.email, ''),
                NULLIF(TRIM(c.first_name || ' ' || c.last_name), ''), NULLIF(c.email, '')),
       po.risk_recommendation, pc.risk_override_by, pc.risk_override_reason
FROM outbox e
LEFT JOIN local_orders o ON e.kind = 'sale' AND o.outbox_id = e.id
LEFT JOIN local_customers lc ON lc.id = o.customer_local_id
LEFT JOIN customers c ON o.customer_id <> 0 AND c.id = o.customer_id
LEFT JOIN local_completions pc ON e.kind = 'complete' AND pc.outbox_id = e.id
LEFT JOIN orders po ON po.id = COALESCE(pc.order_id,
    (SELECT x.upstream_id FROM local_orders x WHERE x.id = pc.order_local_id))
WHERE (:state IS NULL OR e.state = :state) AND (:kind IS NULL OR e.kind = :kind)
  AND (:before IS NULL OR e.seq < :before) AND (:after IS NULL OR e.seq > :after)
ORDER BY CASE WHEN :after IS NULL THEN -e.seq ELSE e.seq END
LIMIT :limit";

const PAGE_EXISTS: &str = "
SELECT EXISTS (SELECT 1 FROM outbox e
WHERE (:state IS NULL OR e.state = :state) AND (:kind IS NULL OR e.kind = :kind)
  AND (:before IS NULL OR e.seq < :before) AND (:after IS NULL OR e.seq > :after))";

/// Adds an entry in the caller's transaction. Its id is its idempotency key.
pub fn enqueue(
    tx: &Transaction<'_>,
    payload: &Payload,
    subject: &str,
    label: &str,
    depends_on: Option<Uuid>,
    now_ms: i64,
) -> Result<Uuid, StoreError> {
    let id = Uuid::new_v4();
    tx.prepare_cached(INSERT)?.execute(named_params! {
        ":id": id.to_string(),
        ":kind": payload.kind().as_str(),
        ":subject": subject,
        ":label": label,
        ":depends_on": depends_on.map(|d| d.to_string()),
        ":payload": to_json(payload)?,
        ":now": now_ms,
    })?;
    Ok(id)
}

/// One entry.
pub fn get(conn: &Connection, id: Uuid) -> Result<Option<OutboxEntry>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = :id");
    let entry = conn
        .prepare_cached(&sql)?
        .query_row(named_params! { ":id": id.to_string() }, entry_from_row)
        .optional()?;
    entry.transpose()
}

/// Entries, newest first, optionally in one state.
pub fn list(
    conn: &Connection,
    state: Option<EntryState>,
    limit: i64,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE (:state IS NULL OR state = :state) ORDER BY seq DESC LIMIT :limit"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        named_params! { ":state": state.map(EntryState::as_str), ":limit": limit },
        entry_from_row,
    )?;
    rows.map(|r| r?).collect()
}

/// Which entries the back-office queue lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueFilter {
    pub state: Option<EntryState>,
    pub kind: Option<EntryKind>,
}

/// What a sale entry sends, as its receipt shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleSummary {
    /// The till's number, e.g. `POS1-000123`.
    pub number: String,
    /// What the till charged, as stored (`"12.50"`).
    pub total: String,
    /// The customer's name (or email), `None` for a guest.
    pub customer: Option<String>,
}

/// A pickup's order the shop flags as risky, as the queue page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickupRisk {
    pub recommendation: RiskRecommendation,
    /// Who handed it over against a recommendation to cancel, and why.
    pub override_by: Option<String>,
    pub override_reason: Option<String>,
}

/// An entry of the queue page.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub entry: OutboxEntry,
    /// Set for a sale whose local order is found.
    pub sale: Option<SaleSummary>,
    /// Set for a pickup whose order the shop recommends cancelling or
    /// investigating.
    pub pickup_risk: Option<PickupRisk>,
}

/// A page of at most `limit` entries matching `filter`, newest first.
pub fn page(
    conn: &Connection,
    filter: QueueFilter,
    cursor: Cursor,
    limit: i64,
) -> Result<Page<QueueRow>, StoreError> {
    let state = filter.state.map(EntryState::as_str);
    let kind = filter.kind.map(EntryKind::as_str);
    let (before, after) = cursor.bounds();
    let mut stmt = conn.prepare_cached(PAGE)?;
    let rows = stmt
        .query_map(
            named_params! {
                ":state": state, ":kind": kind, ":before": before, ":after": after, ":limit": limit,
            },
            |r| {
                let number: Option<String> = r.get(17)?;
                let total: Option<String> = r.get(18)?;
                let customer: Option<String> = r.get(19)?;
                let sale = number.zip(total).map(|(number, total)| SaleSummary {
                    number,
                    total,
                    customer,
                });
                let risk: Option<String> = r.get(20)?;
                let pickup_risk = risk
                    .as_deref()
                    .and_then(RiskRecommendation::parse)
                    .filter(|r| r.is_flagged())
                    .map(|recommendation| {
                        Ok::<_, rusqlite::Error>(PickupRisk {
                            recommendation,
                            override_by: r.get(21)?,
                            override_reason: r.get(22)?,
                        })
                    })
                    .transpose()?;
                Ok(entry_from_row(r)?.map(|entry| QueueRow {
                    entry,
                    sale,
                    pickup_risk,
                }))
            },
        )?
        .map(|r| r?)
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut exists = conn.prepare_cached(PAGE_EXISTS)?;
    paging::assemble(
        cursor,
        rows,
        |r| r.entry.seq,
        |before, after| {
            Ok(exists.query_row(
                named_params! { ":state": state, ":kind": kind, ":before": before, ":after": after },
                |r| r.get::<_, bool>(0),
            )?)
        },
    )
}

/// Entries ready to send at `now_ms`, in acceptance order.
pub fn due(conn: &Connection, now_ms: i64, limit: i64) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(DUE)?;
    let rows = stmt.query_map(
        named_params! { ":now": now_ms, ":limit": limit },
        entry_from_row,
    )?;
    rows.map(|r| r?).collect()
}

/// When the next ready entry falls due (unix ms), if any is waiting.
pub fn next_due_at(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(NEXT_DUE_AT)?
        .query_row([], |r| r.get(0))?)
}

/// Ids of entries that wait on `id` and are not yet confirmed or discarded.
pub fn pending_dependents(conn: &Connection, id: Uuid) -> Result<Vec<Uuid>, StoreError> {
    let mut stmt = conn.prepare_cached(PENDING_DEPENDENTS)?;
    let ids = stmt
        .query_map(named_params! { ":id": id.to_string() }, |r| {
            r.get::<_, String>(0)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ids.iter().filter_map(|s| Uuid::parse_str(s).ok()).collect())
}

/// Number of entries per state.
pub fn counts(conn: &Connection) -> Result<Vec<(EntryState, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(COUNT_BY_STATE)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(s, n)| s.parse().ok().map(|s| (s, n)))
        .collect())
}

/// When the oldest sale the shop has not confirmed was made (unix ms): a
/// sale still queued, in flight, unknown or rejected.
pub fn oldest_unconfirmed_sale_at(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(oldest_unconfirmed_sale(conn)?.map(|(at, _)| at))
}

/// When the oldest sale the shop has not confirmed was made (unix ms), and
/// its label.
pub fn oldest_unconfirmed_sale(conn: &Connection) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .prepare_cached(OLDEST_UNCONFIRMED_SALE)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Every sale the shop has not confirmed (queued, in flight, unknown or
/// rejected), oldest first: its label and state.
pub fn unconfirmed_sales(conn: &Connection) -> Result<Vec<(String, EntryState)>, StoreError> {
    let mut stmt = conn.prepare_cached(UNCONFIRMED_SALES)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(label, s)| s.parse().ok().map(|s| (label, s)))
        .collect())
}

/// `queued|unknown → sending`, counting the attempt and stamping when it
/// began (the lookup window of an unknown outcome starts there). Returns
/// false if the entry was no longer waiting (discarded meanwhile).
pub fn mark_sending(tx: &Transaction<'_>, id: Uuid, now_ms: i64) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(MARK_SENDING)?
        .execute(named_params! { ":id": id.to_string(), ":now": now_ms })?
        == 1)
}

/// Moves an entry to a waiting or parked state with the failure that put it
/// there. `next_ms` is when it may be tried again.
pub fn set_state(
    tx: &Transaction<'_>,
    id: Uuid,
    state: EntryState,
    next_ms: i64,
    error: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(SET_STATE)?.execute(named_params! {
        ":id": id.to_string(),
        ":state": state.as_str(),
        ":next": next_ms,
        ":code": error.map(|e| e.0),
        ":message": error.map(|e| e.1),
        ":now": now_ms,
    })?;
    Ok(())
}

/// Records that the shop has the entry's object.
pub fn confirm(
    tx: &Transaction<'_>,
    id: Uuid,
    upstream_id: UpstreamId,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(CONFIRM)?.execute(named_params! {
        ":id": id.to_string(), ":upstream_id": upstream_id, ":now": now_ms,
    })?;
    Ok(())
}

/// Replaces an entry's payload (a stock adjustment records what it read).
pub fn set_payload(
    tx: &Transaction<'_>,
    id: Uuid,
    payload: &Payload,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(SET_PAYLOAD)?.execute(named_params! {
        ":id": id.to_string(), ":payload": to_json(payload)?, ":now": now_ms,
    })?;
    Ok(())
}

/// At start-up: entries left `sending` by a stopped agent may have reached
/// the shop, so they become `unknown` (looked up before any resend).
pub fn recover_in_flight(tx: &Transaction<'_>, now_ms: i64) -> Result<usize, StoreError> {
    Ok(tx
        .prepare_cached(RECOVER_IN_FLIGHT)?
        .execute(named_params! { ":now": now_ms })?)
}

/// After an outage: every waiting entry is due now (their backoff was
/// spent on a shop that was down, not on their own failures).
pub fn release_waiting(tx: &Transaction<'_>, now_ms: i64) -> Result<usize, StoreError> {
    Ok(tx
        .prepare_cached(RELEASE_WAITING)?
        .execute(named_params! { ":now": now_ms })?)
}

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<Result<OutboxEntry, StoreError>> {
    let id: String = r.get(0)?;
    let kind: String = r.get(2)?;
    let state: String = r.get(5)?;
    let depends_on: Option<String> = r.get(6)?;
    let payload: String = r.get(7)?;
    let corrupt = |what: String| {
        StoreError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            what.into(),
        ))
    };
    let parse = || -> Result<OutboxEntry, StoreError> {
        Ok(OutboxEntry {
            id: Uuid::parse_str(&id).map_err(|e| corrupt(e.to_string()))?,
            seq: r.get(1)?,
            kind: kind.parse::<EntryKind>().map_err(corrupt)?,
            subject: r.get(3)?,
            label: r.get(4)?,
            state: state.parse::<EntryState>().map_err(corrupt)?,
            depends_on: depends_on
                .as_deref()
                .map(Uuid::parse_str)
                .transpose()
                .map_err(|e| corrupt(e.to_string()))?,
            payload: serde_json::from_str(&payload)?,
            attempts: r.get(8)?,
            next_attempt_at: r.get(9)?,
            attempt_started_at: r.get(10)?,
            upstream_id: r.get(11)?,
            error_code: r.get(12)?,
            error_message: r.get(13)?,
            created_at: r.get(14)?,
            updated_at: r.get(15)?,
            confirmed_at: r.get(16)?,
        })
    };
    Ok(parse())
}
