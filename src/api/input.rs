//! Reading request bodies into the till's requests: malformed JSON is a 400,
//! a wrong shape or value a 422 naming the field path (`lines[1].quantity`)
//! and the reason. Nothing here touches the replica.

use axum::body::Bytes;
use axum::extract::FromRequest;
use axum::extract::rejection::BytesRejection;
use axum::http::{Request, StatusCode};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use super::shop_rules::{self, MAX_ACCOUNT_EMAIL_CHARS, MAX_BILLING_EMAIL_CHARS, MAX_PHONE_CHARS};
use super::{ApiError, MAX_BODY_BYTES};
use crate::domain::customers::Address;
use crate::domain::outbox::{CustomerFields, CustomerRef};
use crate::domain::till::ProductSel;
use crate::domain::{Amount, UpstreamId};

/// Longest free text accepted (notes, reasons, names).
const MAX_TEXT: usize = 2000;
/// Largest quantity on one line.
pub const MAX_QUANTITY: i64 = 100_000;

/// A JSON body parsed into `T`, with our error shape on every failure.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request<axum::body::Body>, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e: BytesRejection| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::TooLarge(MAX_BODY_BYTES)
                } else {
                    ApiError::BadRequest(format!("cannot read the request body: {e}"))
                }
            })?;
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?
        };
        if !value.is_object() {
            return Err(ApiError::Invalid {
                field: "$".to_owned(),
                reason: "the body must be a JSON object".to_owned(),
            });
        }
        let parsed = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            ApiError::Invalid {
                field: if path == "." { "$".to_owned() } else { path },
                reason: e.inner().to_string(),
            }
        })?;
        Ok(Body(parsed))
    }
}

pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

/// An id that may be a number (upstream) or a string (a UUID or digits).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IdIn {
    Number(i64),
    Text(String),
}

/// A local (UUID) or upstream (positive number) customer id.
pub fn customer_ref(field: &str, id: &IdIn) -> Result<CustomerRef, ApiError> {
    match id {
        IdIn::Number(n) if *n > 0 => Ok(CustomerRef::Upstream(*n)),
        IdIn::Text(s) => {
            if let Ok(u) = Uuid::parse_str(s.trim()) {
                Ok(CustomerRef::Local(u))
            } else if let Ok(n) = s
                .trim()
                .parse::<i64>()
                .map_err(|_| ())
                .and_then(|n| if n > 0 { Ok(n) } else { Err(()) })
            {
                Ok(CustomerRef::Upstream(n))
            } else {
                Err(invalid(
                    field,
                    "must be a customer id (a positive number) or a local id (UUID)",
                ))
            }
        }
        IdIn::Number(_) => Err(invalid(field, "must be a positive number")),
    }
}

/// A money amount given as a string (`"9.50"`) or a number; at most four
/// decimals, never negative.
pub fn amount(field: &str, v: &Value) -> Result<Amount, ApiError> {
    let parsed = match v {
        Value::String(s) => s.trim().parse::<Decimal>().ok(),
        Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
        _ => None,
    };
    let Some(a) = parsed else {
        return Err(invalid(field, "must be an amount such as \"9.50\""));
    };
    if a.is_sign_negative() {
        return Err(invalid(field, "must not be negative"));
    }
    if a.scale() > 4 {
        return Err(invalid(field, "has more than four decimals"));
    }
    if a > Decimal::from(100_000_000) {
        return Err(invalid(field, "is implausibly large"));
    }
    Ok(a.normalize())
}

pub fn text(field: &str, v: Option<String>) -> Result<String, ApiError> {
    let s = v.unwrap_or_default();
    if s.chars().count() > MAX_TEXT {
        return Err(invalid(
            field,
            format!("is longer than {MAX_TEXT} characters"),
        ));
    }
    Ok(s.trim().to_owned())
}

pub fn quantity(field: &str, q: i64) -> Result<i64, ApiError> {
    if !(1..=MAX_QUANTITY).contains(&q) {
        return Err(invalid(
            field,
            format!("must be between 1 and {MAX_QUANTITY}"),
        ));
    }
    Ok(q)
}

/// A product named by id (with an optional variation) or by SKU, not both.
pub fn product(
    field: &str,
    product_id: Option<UpstreamId>,
    variation_id: Option<UpstreamId>,
    sku: Option<String>,
) -> Result<ProductSel, ApiError> {
    match (product_id, sku) {
        (Some(_), Some(_)) => Err(invalid(field, "give product_id or sku, not both")),
        (None, Some(s)) if variation_id.is_some() => {
            let _ = s;
            Err(invalid(
                format!("{field}.variation_id"),
                "goes with product_id, not sku",
            ))
        }
        (None, Some(s)) if s.trim().is_empty() => {
            Err(invalid(format!("{field}.sku"), "must not be empty"))
        }
        (None, Some(s)) => Ok(ProductSel::Sku(s.trim().to_owned())),
        (Some(p), None) if p <= 0 => Err(invalid(
            format!("{field}.product_id"),
            "must be a positive number",
        )),
        (Some(_), None) if variation_id.is_some_and(|v| v < 0) => Err(invalid(
            format!("{field}.variation_id"),
            "must not be negative",
        )),
        (Some(p), None) => Ok(ProductSel::Id {
            product_id: p,
            variation_id,
        }),
        (None, None) => Err(invalid(field, "name the product with product_id or sku")),
    }
}

/// An email address the shop will take: WordPress' `is_email()`, within
/// `max_chars`.
pub fn email(field: &str, e: &str, max_chars: usize) -> Result<String, ApiError> {
    let e = e.trim();
    if e.chars().count() > max_chars {
        return Err(invalid(
            field,
            format!("is longer than the shop stores ({max_chars} characters)"),
        ));
    }
    if !shop_rules::is_email(e) {
        return Err(invalid(
            field,
            "must be an email address the shop accepts (e.g. name@example.com); WordPress refuses this one",
        ));
    }
    Ok(e.to_owned())
}

/// A billing or shipping address as the till sends it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressIn {
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    address_1: Option<String>,
    address_2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postcode: Option<String>,
    country: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

impl AddressIn {
    pub fn parse(self, field: &str) -> Result<Address, ApiError> {
        let t = |name: &str, v: Option<String>| text(&format!("{field}.{name}"), v);
        let country = t("country", self.country)?;
        if !country.is_empty()
            && (country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(invalid(
                format!("{field}.country"),
                "must be a two-letter country code",
            ));
        }
        let email_addr = match self.email.filter(|e| !e.trim().is_empty()) {
            Some(e) => Some(email(
                &format!("{field}.email"),
                &e,
                MAX_BILLING_EMAIL_CHARS,
            )?),
            None => None,
        };
        Ok(Address {
            first_name: t("first_name", self.first_name)?,
            last_name: t("last_name", self.last_name)?,
            company: t("company", self.company)?,
            address_1: t("address_1", self.address_1)?,
            address_2: t("address_2", self.address_2)?,
            city: t("city", self.city)?,
            state: t("state", self.state)?,
            postcode: t("postcode", self.postcode)?,
            country: country.to_ascii_uppercase(),
            email: email_addr,
            phone: {
                let phone = t("phone", self.phone)?;
                if phone.chars().count() > MAX_PHONE_CHARS {
                    return Err(invalid(
                        format!("{field}.phone"),
                        format!("is longer than the shop stores ({MAX_PHONE_CHARS} characters)"),
                    ));
                }
                phone
            },
        })
    }
}

/// A customer's details as the till sends them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    billing: Option<AddressIn>,
    shipping: Option<AddressIn>,
}

impl CustomerIn {
    pub fn parse(self) -> Result<CustomerFields, ApiError> {
        let name = |field: &str, v: Option<String>| -> Result<Option<String>, ApiError> {
            v.map(|s| text(field, Some(s))).transpose()
        };
        Ok(CustomerFields {
            email: self
                .email
                .map(|e| email("email", &e, MAX_ACCOUNT_EMAIL_CHARS))
                .transpose()?,
            first_name: name("first_name", self.first_name)?,
            last_name: name("last_name", self.last_name)?,
            billing: self.billing.map(|a| a.parse("billing")).transpose()?,
            shipping: self.shipping.map(|a| a.parse("shipping")).transpose()?,
        })
    }
}
