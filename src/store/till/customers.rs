//! Customers registered or changed at the till. A new customer lives in
//! `local_customers` until the shop confirms it; a change to a mirrored
//! customer is applied to the replica at once (and undone if discarded).

use rusqlite::{Connection, OptionalExtension, Transaction, named_params};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::UpstreamId;
use crate::domain::customers::Address;
use crate::domain::outbox::{CustomerFields, CustomerRef, Payload, Refusal};
use crate::store::{StoreError, outbox, to_json};

const LOCAL_CUSTOMER: &str = "
SELECT c.id, c.outbox_id, c.upstream_id, e.state, c.email, c.first_name, c.last_name, c.billing, c.shipping
FROM local_customers c JOIN outbox e ON e.id = c.outbox_id WHERE c.id = :id";
const LOCAL_BY_UPSTREAM: &str = "SELECT id FROM local_customers WHERE upstream_id = :id";
const REPLICA_CUSTOMER: &str = "SELECT email, first_name, last_name FROM customers WHERE id = :id";
const REPLICA_ADDRESS: &str = "
SELECT first_name, last_name, company, address_1, address_2, city, state, postcode, country, email, phone
FROM customer_addresses WHERE customer_id = :id AND kind = :kind";
const EMAIL_TAKEN_REPLICA: &str =
    "SELECT id FROM customers WHERE email = :email COLLATE NOCASE AND id <> :except LIMIT 1";
const EMAIL_TAKEN_LOCAL: &str = "
SELECT c.id FROM local_customers c JOIN outbox e ON e.id = c.outbox_id
WHERE c.email = :email COLLATE NOCASE AND c.id <> :except AND e.state <> 'discarded' LIMIT 1";
const INSERT_LOCAL: &str = "
INSERT INTO local_customers (id, outbox_id, email, first_name, last_name, billing, shipping, created_at)
VALUES (:id, :outbox_id, :email, :first_name, :last_name, :billing, :shipping, :now)";
const UPDATE_LOCAL: &str = "
UPDATE local_customers SET email = :email, first_name = :first_name, last_name = :last_name,
                           billing = :billing, shipping = :shipping
WHERE id = :id";
const UPDATE_REPLICA: &str = "
UPDATE customers SET email = :email, first_name = :first_name, last_name = :last_name WHERE id = :id";
const UPSERT_REPLICA_ADDRESS: &str = "
INSERT INTO customer_addresses (customer_id, kind, first_name, last_name, company, address_1,
                                address_2, city, state, postcode, country, email, phone)
VALUES (:owner, :kind, :first_name, :last_name, :company, :address_1,
        :address_2, :city, :state, :postcode, :country, :email, :phone)
ON CONFLICT (customer_id, kind) DO UPDATE SET
    first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company,
    address_1 = excluded.address_1, address_2 = excluded.address_2, city = excluded.city,
    state = excluded.state, postcode = excluded.postcode, country = excluded.country,
    email = excluded.email, phone = excluded.phone";
/// The newest entry still to reach the shop for a customer: a change waits for it.
const LAST_PENDING_FOR_SUBJECT: &str = "
SELECT id FROM outbox WHERE subject = :subject AND state IN ('queued', 'sending', 'unknown', 'rejected')
ORDER BY seq DESC LIMIT 1";
const CONFIRM_LOCAL: &str = "UPDATE local_customers SET upstream_id = :upstream_id WHERE id = :id";

/// A customer named by a sale, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedCustomer {
    /// Known upstream id.
    pub upstream_id: Option<UpstreamId>,
    /// A till-registered customer.
    pub local_id: Option<Uuid>,
    /// The outbox entry that must be confirmed first (its creation).
    pub waits_for: Option<Uuid>,
}

impl ResolvedCustomer {
    /// How the sale's payload names the customer.
    pub fn as_ref(&self) -> Option<CustomerRef> {
        match (self.local_id, self.upstream_id) {
            (Some(l), _) => Some(CustomerRef::Local(l)),
            (None, Some(u)) => Some(CustomerRef::Upstream(u)),
            (None, None) => None,
        }
    }
}

/// A customer created at the till.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerAccepted {
    pub id: String,
    pub outbox_id: Uuid,
    pub email: String,
}

struct LocalCustomer {
    outbox_id: Uuid,
    upstream_id: Option<UpstreamId>,
    discarded: bool,
    fields: CustomerFields,
}

fn local_customer(conn: &Connection, id: Uuid) -> Result<Option<LocalCustomer>, StoreError> {
    let row = conn
        .prepare_cached(LOCAL_CUSTOMER)?
        .query_row(named_params! { ":id": id.to_string() }, |r| {
            Ok((
                r.get::<_, String>(1)?,
                r.get::<_, Option<UpstreamId>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .optional()?;
    let Some((outbox_id, upstream_id, state, email, first, last, billing, shipping)) = row else {
        return Ok(None);
    };
    Ok(Some(LocalCustomer {
        outbox_id: Uuid::parse_str(&outbox_id).unwrap_or_default(),
        upstream_id,
        discarded: state == "discarded",
        fields: CustomerFields {
            email: Some(email),
            first_name: Some(first),
            last_name: Some(last),
            billing: billing.map(|b| serde_json::from_str(&b)).transpose()?,
            shipping: shipping.map(|s| serde_json::from_str(&s)).transpose()?,
        },
    }))
}

fn replica_customer(
    conn: &Connection,
    id: UpstreamId,
) -> Result<Option<CustomerFields>, StoreError> {
    let row: Option<(String, String, String)> = conn
        .prepare_cached(REPLICA_CUSTOMER)?
        .query_row(named_params! { ":id": id }, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((email, first, last)) = row else {
        return Ok(None);
    };
    let address = |kind: &str| -> Result<Option<Address>, StoreError> {
        Ok(conn
            .prepare_cached(REPLICA_ADDRESS)?
            .query_row(
                named_params! { ":id": id, ":kind": kind },
                super::super::lookup::customers::address_row,
            )
            .optional()?)
    };
    Ok(Some(CustomerFields {
        email: Some(email),
        first_name: Some(first),
        last_name: Some(last),
        billing: address("billing")?,
        shipping: address("shipping")?,
    }))
}

/// Resolves a customer named by the till.
pub fn resolve(
    conn: &Connection,
    c: &CustomerRef,
    field: &str,
) -> Result<Result<ResolvedCustomer, Refusal>, StoreError> {
    match *c {
        CustomerRef::Local(id) => match local_customer(conn, id)? {
            Some(l) if !l.discarded => Ok(Ok(ResolvedCustomer {
                upstream_id: l.upstream_id,
                local_id: Some(id),
                waits_for: Some(l.outbox_id),
            })),
            _ => Ok(Err(Refusal::NotFound(format!("{field}: no customer {id}")))),
        },
        CustomerRef::Upstream(id) => {
            let local: Option<String> = conn
                .prepare_cached(LOCAL_BY_UPSTREAM)?
                .query_row(named_params! { ":id": id }, |r| r.get(0))
                .optional()?;
            if let Some(local) = local.and_then(|s| Uuid::parse_str(&s).ok()) {
                return resolve(conn, &CustomerRef::Local(local), field);
            }
            if replica_customer(conn, id)?.is_none() {
                return Ok(Err(Refusal::NotFound(format!("{field}: no customer {id}"))));
            }
            Ok(Ok(ResolvedCustomer {
                upstream_id: Some(id),
                ..ResolvedCustomer::default()
            }))
        }
    }
}

fn email_taken(
    conn: &Connection,
    email: &str,
    except_local: &str,
    except_upstream: UpstreamId,
) -> Result<Option<String>, StoreError> {
    if let Some(id) = conn
        .prepare_cached(EMAIL_TAKEN_REPLICA)?
        .query_row(
            named_params! { ":email": email, ":except": except_upstream },
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    {
        return Ok(Some(id.to_string()));
    }
    Ok(conn
        .prepare_cached(EMAIL_TAKEN_LOCAL)?
        .query_row(
            named_params! { ":email": email, ":except": except_local },
            |r| r.get(0),
        )
        .optional()?)
}

/// The addresses of `fields`, against the shop's countries and states.
fn check_addresses(
    conn: &Connection,
    fields: &CustomerFields,
) -> Result<Result<(), Refusal>, StoreError> {
    for (field, a) in [("billing", &fields.billing), ("shipping", &fields.shipping)] {
        if let Some(a) = a
            && let Err(r) = super::address::check(conn, field, a)?
        {
            return Ok(Err(r));
        }
    }
    Ok(Ok(()))
}

/// Registers a customer at the till.
pub fn record_customer(
    tx: &Transaction<'_>,
    fields: &CustomerFields,
    now_ms: i64,
) -> Result<Result<CustomerAccepted, Refusal>, StoreError> {
    let Some(email) = fields.email.clone() else {
        return Ok(Err(Refusal::invalid("email", "is required")));
    };
    if let Err(r) = check_addresses(tx, fields)? {
        return Ok(Err(r));
    }
    if let Some(existing) = email_taken(tx, &email, "", 0)? {
        return Ok(Err(Refusal::conflict(
            "customer_exists",
            format!("a customer with this email already exists: {existing}"),
        )));
    }
    let local_id = Uuid::new_v4();
    let outbox_id = outbox::enqueue(
        tx,
        &Payload::CustomerCreate {
            local_id,
            fields: fields.clone(),
        },
        &local_id.to_string(),
        &format!("new customer {email}"),
        None,
        now_ms,
    )?;
    tx.prepare_cached(INSERT_LOCAL)?.execute(named_params! {
        ":id": local_id.to_string(),
        ":outbox_id": outbox_id.to_string(),
        ":email": email,
        ":first_name": fields.first_name.clone().unwrap_or_default(),
        ":last_name": fields.last_name.clone().unwrap_or_default(),
        ":billing": fields.billing.as_ref().map(to_json).transpose()?,
        ":shipping": fields.shipping.as_ref().map(to_json).transpose()?,
        ":now": now_ms,
    })?;
    Ok(Ok(CustomerAccepted {
        id: local_id.to_string(),
        outbox_id,
        email,
    }))
}

/// Changes a customer's details locally and queues the change.
pub fn record_update(
    tx: &Transaction<'_>,
    who: &CustomerRef,
    change: &CustomerFields,
    now_ms: i64,
) -> Result<Result<CustomerAccepted, Refusal>, StoreError> {
    if let Err(r) = check_addresses(tx, change)? {
        return Ok(Err(r));
    }
    let (before, subject) = match *who {
        CustomerRef::Local(id) => match local_customer(tx, id)? {
            Some(l) if !l.discarded => (l.fields, id.to_string()),
            _ => return Ok(Err(Refusal::NotFound(format!("no customer {id}")))),
        },
        CustomerRef::Upstream(id) => match replica_customer(tx, id)? {
            Some(f) => (f, id.to_string()),
            None => return Ok(Err(Refusal::NotFound(format!("no customer {id}")))),
        },
    };
    if let Some(email) = &change.email {
        let (except_local, except_upstream) = match who {
            CustomerRef::Local(id) => (id.to_string(), 0),
            CustomerRef::Upstream(id) => (String::new(), *id),
        };
        if let Some(existing) = email_taken(tx, email, &except_local, except_upstream)? {
            return Ok(Err(Refusal::conflict(
                "customer_exists",
                format!("another customer has this email: {existing}"),
            )));
        }
    }
    let after = merge(&before, change);
    let waits_for: Option<Uuid> = tx
        .prepare_cached(LAST_PENDING_FOR_SUBJECT)?
        .query_row(named_params! { ":subject": subject }, |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|s| Uuid::parse_str(&s).ok());
    let label = format!(
        "customer change {}",
        after.email.clone().unwrap_or_default()
    );
    let outbox_id = outbox::enqueue(
        tx,
        &Payload::CustomerUpdate {
            customer: *who,
            fields: change.clone(),
            before: before.clone(),
        },
        &subject,
        &label,
        waits_for,
        now_ms,
    )?;
    apply_fields(tx, who, &after)?;
    Ok(Ok(CustomerAccepted {
        id: subject,
        outbox_id,
        email: after.email.unwrap_or_default(),
    }))
}

/// `before` with the fields `change` sets.
fn merge(before: &CustomerFields, change: &CustomerFields) -> CustomerFields {
    CustomerFields {
        email: change.email.clone().or_else(|| before.email.clone()),
        first_name: change
            .first_name
            .clone()
            .or_else(|| before.first_name.clone()),
        last_name: change
            .last_name
            .clone()
            .or_else(|| before.last_name.clone()),
        billing: change.billing.clone().or_else(|| before.billing.clone()),
        shipping: change.shipping.clone().or_else(|| before.shipping.clone()),
    }
}

/// Writes a customer's full details locally (a change, or its undoing).
pub(super) fn apply_fields(
    tx: &Transaction<'_>,
    who: &CustomerRef,
    f: &CustomerFields,
) -> Result<(), StoreError> {
    match who {
        CustomerRef::Local(id) => {
            tx.prepare_cached(UPDATE_LOCAL)?.execute(named_params! {
                ":id": id.to_string(),
                ":email": f.email.clone().unwrap_or_default(),
                ":first_name": f.first_name.clone().unwrap_or_default(),
                ":last_name": f.last_name.clone().unwrap_or_default(),
                ":billing": f.billing.as_ref().map(to_json).transpose()?,
                ":shipping": f.shipping.as_ref().map(to_json).transpose()?,
            })?;
        }
        CustomerRef::Upstream(id) => {
            tx.prepare_cached(UPDATE_REPLICA)?.execute(named_params! {
                ":id": id,
                ":email": f.email.clone().unwrap_or_default(),
                ":first_name": f.first_name.clone().unwrap_or_default(),
                ":last_name": f.last_name.clone().unwrap_or_default(),
            })?;
            for (kind, a) in [("billing", &f.billing), ("shipping", &f.shipping)] {
                let Some(a) = a else { continue };
                tx.prepare_cached(UPSERT_REPLICA_ADDRESS)?
                    .execute(named_params! {
                        ":owner": id, ":kind": kind, ":first_name": a.first_name,
                        ":last_name": a.last_name, ":company": a.company, ":address_1": a.address_1,
                        ":address_2": a.address_2, ":city": a.city, ":state": a.state,
                        ":postcode": a.postcode, ":country": a.country, ":email": a.email,
                        ":phone": a.phone,
                    })?;
            }
        }
    }
    Ok(())
}

/// Records the shop's id for a customer registered at the till.
pub fn confirm_customer(
    tx: &Transaction<'_>,
    entry: Uuid,
    local_id: Uuid,
    upstream_id: UpstreamId,
    now_ms: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(CONFIRM_LOCAL)?.execute(named_params! {
        ":id": local_id.to_string(), ":upstream_id": upstream_id,
    })?;
    outbox::confirm(tx, entry, upstream_id, now_ms)
}

/// The shop's id of a customer registered at the till, once confirmed.
pub fn upstream_customer_id(
    conn: &Connection,
    local_id: Uuid,
) -> Result<Option<UpstreamId>, StoreError> {
    Ok(local_customer(conn, local_id)?.and_then(|c| c.upstream_id))
}
