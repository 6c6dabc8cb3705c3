//! The till's writes on orders: a sale (`POST /api/orders`), a return
//! (`POST /api/orders/{id}/refunds`) and a pickup handed over (`POST
//! /api/orders/{id}/complete`; an order the shop recommends cancelling is
//! refused unless a `risk_override` says who decides and why). Each answers
//! only once the change and its outbox entry are committed (fsynced); the
//! replayer is then woken.

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::input::{self, AddressIn, Body, IdIn, invalid};
use super::security::Caller;
use super::{ApiError, AppState};
use crate::domain::outbox::OrderRef;
use crate::domain::till::{
    CompletionRequest, LineSel, ReturnLineRequest, ReturnRequest, RiskOverride, SaleLineRequest,
    SaleRequest,
};
use crate::domain::time::unix_millis_now;
use crate::store::till::returns::{self, ChangeAccepted};
use crate::store::till::sales::{self, SaleAccepted};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/orders", post(create_sale))
        .route("/api/orders/{id}/refunds", post(create_return))
        .route("/api/orders/{id}/complete", post(complete))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaleIn {
    lines: Vec<SaleLineIn>,
    customer_id: Option<IdIn>,
    billing: Option<AddressIn>,
    payment_method: Option<String>,
    payment_method_title: Option<String>,
    paid: Option<bool>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaleLineIn {
    product_id: Option<i64>,
    variation_id: Option<i64>,
    sku: Option<String>,
    quantity: i64,
    unit_price: Option<Value>,
    discount: Option<Value>,
}

impl SaleIn {
    fn parse(self) -> Result<SaleRequest, ApiError> {
        if self.lines.is_empty() {
            return Err(invalid("lines", "a sale needs at least one line"));
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.into_iter().enumerate() {
            let f = format!("lines[{i}]");
            lines.push(SaleLineRequest {
                product: input::product(&f, l.product_id, l.variation_id, l.sku)?,
                quantity: input::quantity(&format!("{f}.quantity"), l.quantity)?,
                unit_price: l
                    .unit_price
                    .map(|v| input::amount(&format!("{f}.unit_price"), &v))
                    .transpose()?,
                discount: l
                    .discount
                    .map(|v| input::amount(&format!("{f}.discount"), &v))
                    .transpose()?,
            });
        }
        let payment_method = input::text("payment_method", self.payment_method)?;
        if payment_method.is_empty() {
            return Err(invalid(
                "payment_method",
                "is required (e.g. \"cash\" or \"card\")",
            ));
        }
        Ok(SaleRequest {
            lines,
            customer: self
                .customer_id
                .as_ref()
                .map(|c| input::customer_ref("customer_id", c))
                .transpose()?,
            billing: self.billing.map(|b| b.parse("billing")).transpose()?,
            payment_method,
            payment_method_title: self
                .payment_method_title
                .map(|t| input::text("payment_method_title", Some(t)))
                .transpose()?
                .filter(|t| !t.is_empty()),
            paid: self.paid.unwrap_or(true),
            note: input::text("note", self.note)?,
        })
    }
}

async fn create_sale(
    State(state): State<AppState>,
    Body(body): Body<SaleIn>,
) -> Result<(StatusCode, Json<SaleAccepted>), ApiError> {
    let req = body.parse()?;
    let till = state.till.clone();
    let accepted = state
        .store
        .write_urgent(move |tx| sales::record_sale(tx, &req, &till, unix_millis_now()))
        .await??;
    state.replay.wake();
    Ok((StatusCode::CREATED, Json(accepted)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnIn {
    #[serde(default)]
    lines: Vec<ReturnLineIn>,
    amount: Option<Value>,
    reason: Option<String>,
    restock: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnLineIn {
    line_id: Option<i64>,
    product_id: Option<i64>,
    variation_id: Option<i64>,
    sku: Option<String>,
    quantity: i64,
}

impl ReturnIn {
    fn parse(self) -> Result<ReturnRequest, ApiError> {
        let amount = self
            .amount
            .map(|v| input::amount("amount", &v))
            .transpose()?;
        if self.lines.is_empty() && amount.is_none() {
            return Err(invalid(
                "lines",
                "give the lines returned, an amount, or both",
            ));
        }
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.into_iter().enumerate() {
            let f = format!("lines[{i}]");
            let line = match l.line_id {
                Some(_) if l.product_id.is_some() || l.sku.is_some() => {
                    return Err(invalid(&f, "give line_id or the product, not both"));
                }
                Some(n) if n > 0 => LineSel::Line(n),
                Some(_) => {
                    return Err(invalid(format!("{f}.line_id"), "must be a positive number"));
                }
                None => LineSel::Product(input::product(&f, l.product_id, l.variation_id, l.sku)?),
            };
            lines.push(ReturnLineRequest {
                line,
                quantity: input::quantity(&format!("{f}.quantity"), l.quantity)?,
            });
        }
        Ok(ReturnRequest {
            lines,
            amount,
            reason: input::text("reason", self.reason)?,
            restock: self.restock.unwrap_or(true),
        })
    }
}

fn order_ref(id: &str) -> Result<OrderRef, ApiError> {
    returns::parse_order_ref(id).ok_or_else(|| ApiError::NotFound(format!("no order {id:?}")))
}

async fn create_return(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<ReturnIn>,
) -> Result<(StatusCode, Json<ChangeAccepted>), ApiError> {
    let order = order_ref(&id)?;
    let req = body.parse()?;
    let accepted = state
        .store
        .write_urgent(move |tx| returns::record_return(tx, order, &req, unix_millis_now()))
        .await??;
    state.replay.wake();
    Ok((StatusCode::CREATED, Json(accepted)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteIn {
    risk_override: Option<RiskOverrideIn>,
}

/// Someone at the till handing over an order the shop recommends
/// cancelling: who and why, both required.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskOverrideIn {
    by: Option<String>,
    reason: Option<String>,
}

impl CompleteIn {
    fn parse(self, till: String) -> Result<CompletionRequest, ApiError> {
        let risk_override = match self.risk_override {
            None => None,
            Some(o) => {
                let by = input::text("risk_override.by", o.by)?;
                if by.is_empty() {
                    return Err(invalid(
                        "risk_override.by",
                        "is required: the name of the person who decides to hand the order over",
                    ));
                }
                let reason = input::text("risk_override.reason", o.reason)?;
                if reason.is_empty() {
                    return Err(invalid(
                        "risk_override.reason",
                        "is required: why the order is handed over despite the shop's advice",
                    ));
                }
                Some(RiskOverride { by, reason })
            }
        };
        Ok(CompletionRequest {
            risk_override,
            till,
        })
    }
}

async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Option<Extension<Caller>>,
    Body(body): Body<CompleteIn>,
) -> Result<(StatusCode, Json<ChangeAccepted>), ApiError> {
    let order = order_ref(&id)?;
    let till = match caller.map(|Extension(c)| c) {
        Some(Caller::Token(name)) => name,
        Some(Caller::Admin(_)) => "back office".to_owned(),
        Some(Caller::Anonymous) | None => String::new(),
    };
    let req = body.parse(till)?;
    let accepted = state
        .store
        .write_urgent(move |tx| returns::record_completion(tx, order, &req, unix_millis_now()))
        .await??;
    state.replay.wake();
    Ok((StatusCode::CREATED, Json(accepted)))
}
