//! The demo's "offline" switch (`possync demo` only): cuts the simulated
//! shop off the network and brings it back, so a newcomer watches sales
//! queue, the status page say the shop is unreachable, and the queue drain
//! when the switch is turned back. Outside the demo the route answers 404.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;

use super::{Flash, Manager, field, flash_redirect, read_form};
use crate::api::{ApiError, AppState};

/// The demo's hold on its simulated shop's network.
#[derive(Clone)]
pub struct DemoSwitch {
    set: Arc<dyn Fn(bool) + Send + Sync>,
    get: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl DemoSwitch {
    /// `set(true)` cuts the shop off; `get` says whether it is.
    pub fn new(
        set: impl Fn(bool) + Send + Sync + 'static,
        get: impl Fn() -> bool + Send + Sync + 'static,
    ) -> DemoSwitch {
        DemoSwitch {
            set: Arc::new(set),
            get: Arc::new(get),
        }
    }

    pub fn offline(&self) -> bool {
        (self.get)()
    }
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/demo/offline", post(switch))
}

async fn switch(
    _m: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(demo) = &state.demo else {
        return Err(ApiError::NotFound(
            "the offline switch exists in `possync demo` only".to_owned(),
        ));
    };
    let form = read_form(&body)?;
    let offline = match field(&form, "offline") {
        Some("on") => true,
        Some("off") => false,
        other => {
            return Err(ApiError::InvalidParameter {
                field: "offline".to_owned(),
                reason: format!("must be on or off (got {:?})", other.unwrap_or("")),
            });
        }
    };
    (demo.set)(offline);
    tracing::info!(offline, "demo: the simulated shop's network switched");
    let text = if offline {
        "Demo: the shop is cut off. Sales are accepted and queue; watch the queue and the events."
    } else {
        "Demo: the shop is back. The queued sales are sent now."
    };
    Ok(flash_redirect(&state, "/", &Flash::info(text)))
}
