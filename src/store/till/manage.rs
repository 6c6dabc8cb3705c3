//! The manager's controls over the outbox: retry a parked or waiting entry
//! now, or discard one and reverse its local effect.

use rusqlite::{Transaction, named_params};
use uuid::Uuid;

use super::customers::apply_fields;
use crate::domain::outbox::{EntryState, OutboxEntry, Payload, Refusal};
use crate::store::{StoreError, outbox};

const RETRY: &str = "
UPDATE outbox SET state = CASE WHEN state = 'rejected' THEN 'queued' ELSE state END,
                  attempts = CASE WHEN state = 'rejected' THEN 0 ELSE attempts END,
                  next_attempt_at = :now, error_code = NULL, error_message = NULL, updated_at = :now
WHERE id = :id";
const DISCARD: &str = "UPDATE outbox SET state = 'discarded', updated_at = :now WHERE id = :id";

/// Makes an entry due now; a rejected one goes back to `queued`.
pub fn retry(
    tx: &Transaction<'_>,
    id: Uuid,
    now_ms: i64,
) -> Result<Result<OutboxEntry, Refusal>, StoreError> {
    let Some(entry) = outbox::get(tx, id)? else {
        return Ok(Err(Refusal::NotFound(format!("no outbox entry {id}"))));
    };
    match entry.state {
        EntryState::Queued | EntryState::Unknown | EntryState::Rejected => {}
        s => {
            return Ok(Err(Refusal::conflict(
                "not_retryable",
                format!(
                    "entry {id} is {s}: only queued, unknown or rejected entries can be retried"
                ),
            )));
        }
    }
    tx.prepare_cached(RETRY)?
        .execute(named_params! { ":id": id.to_string(), ":now": now_ms })?;
    Ok(outbox::get(tx, id)?.ok_or_else(|| Refusal::NotFound(id.to_string())))
}

/// Drops an entry that has not reached the shop and reverses its local
/// effect. Sales and stock leave `unconfirmed_stock` with the state change;
/// a customer change is undone here.
pub fn discard(
    tx: &Transaction<'_>,
    id: Uuid,
    now_ms: i64,
) -> Result<Result<OutboxEntry, Refusal>, StoreError> {
    let Some(entry) = outbox::get(tx, id)? else {
        return Ok(Err(Refusal::NotFound(format!("no outbox entry {id}"))));
    };
    match entry.state {
        EntryState::Queued | EntryState::Rejected => {}
        EntryState::Sending | EntryState::Unknown => {
            return Ok(Err(Refusal::conflict(
                "outcome_unknown",
                format!(
                    "entry {id} may already be at the shop ({}); it can be discarded once the shop has been asked",
                    entry.state
                ),
            )));
        }
        s => {
            return Ok(Err(Refusal::conflict(
                "not_discardable",
                format!("entry {id} is {s}: only queued or rejected entries can be discarded"),
            )));
        }
    }
    let dependents = outbox::pending_dependents(tx, id)?;
    if !dependents.is_empty() {
        let list: Vec<String> = dependents.iter().map(Uuid::to_string).collect();
        return Ok(Err(Refusal::conflict(
            "has_dependents",
            format!(
                "entries waiting on this one must be discarded first: {}",
                list.join(", ")
            ),
        )));
    }
    if let Payload::CustomerUpdate {
        customer, before, ..
    } = &entry.payload
    {
        apply_fields(tx, customer, before)?;
    }
    tx.prepare_cached(DISCARD)?
        .execute(named_params! { ":id": id.to_string(), ":now": now_ms })?;
    Ok(outbox::get(tx, id)?.ok_or_else(|| Refusal::NotFound(id.to_string())))
}
