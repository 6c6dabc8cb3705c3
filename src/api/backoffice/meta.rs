//! The meta-mapping page (`/settings/meta`): the meta keys the mirrored
//! products and variations carry, with counts and example values; the
//! mappings in force (made here, and the barcode keys of `possync.toml`,
//! each saying where it comes from); forms to map a key to a barcode, the
//! brand, the bin location or a named label, and to remove a mapping; and
//! the progress of the re-index a change starts, as a live fragment
//! (`/settings/meta/progress`) and as JSON (`/api/meta-mapping/status`).
//!
//! A page-made barcode mapping joins the configured keys: the barcode index
//! reads both (see `store::lookup::index`). A configured key cannot be
//! mapped to a barcode again here, nor removed: it is edited in the file.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{Flash, Layout, Manager, flash_redirect, render};
use crate::api::{ApiError, AppState};
use crate::domain::meta_mapping::{
    MAX_LABEL_CHARS, MAX_MAPPINGS, MAX_META_KEY_CHARS, MappedField, MappingError, MetaKey,
    MetaMapping, ReindexProgress, ReindexState, truncate,
};
use crate::domain::time::unix_millis_now;
use crate::store::meta::{self, PutMapping, SeenKey, StoredMapping};

/// The page's path.
const PAGE: &str = "/settings/meta";
/// Most seen keys listed.
const SEEN_KEYS: i64 = 200;
/// Example values per seen key.
const EXAMPLES: i64 = 3;
/// Longest example value shown.
const EXAMPLE_CHARS: usize = 60;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page).post(save))
        .route("/settings/meta/remove", post(remove))
        .route("/settings/meta/progress", get(progress_fragment))
        .route("/api/meta-mapping/status", get(status))
}

/// An option of a field select.
struct FieldOption {
    value: &'static str,
    text: &'static str,
    selected: bool,
}

fn field_text(name: &str) -> &'static str {
    match name {
        "barcode" => "Barcode",
        "brand" => "Brand",
        "bin_location" => "Bin location",
        "label" => "Label",
        _ => "",
    }
}

/// The select's options, `selected` chosen; a first blank one when
/// nothing is.
fn options(selected: &str) -> Vec<FieldOption> {
    let mut out = Vec::new();
    if !MappedField::NAMES.contains(&selected) {
        out.push(FieldOption {
            value: "",
            text: "Choose…",
            selected: true,
        });
    }
    out.extend(MappedField::NAMES.iter().map(|n| FieldOption {
        value: n,
        text: field_text(n),
        selected: *n == selected,
    }));
    out
}

/// A row of the mappings table.
struct MappingRow {
    key: String,
    field: &'static str,
    label: String,
    source: &'static str,
    removable: bool,
}

/// A row of the seen-keys table.
struct SeenRow {
    key: String,
    count: i64,
    examples: Vec<String>,
    options: Vec<FieldOption>,
    label: String,
}

/// What the add form shows (the manager's input after a refusal).
#[derive(Default)]
struct FormInput {
    meta_key: String,
    field: String,
    label: String,
}

#[derive(Template)]
#[template(path = "meta.html")]
struct MetaPage {
    layout: Layout,
    progress: ReindexProgress,
    mappings: Vec<MappingRow>,
    seen: Vec<SeenRow>,
    form: FormInput,
    form_options: Vec<FieldOption>,
    max_key: usize,
    max_label: usize,
}

#[derive(Template)]
#[template(path = "meta_progress.html")]
struct ProgressFragment {
    progress: ReindexProgress,
}

/// Where a mapping in force comes from.
const FROM_PAGE: &str = "this page";
const FROM_CONFIG: &str = "possync.toml (lookup.barcode_meta_keys)";

fn mapping_rows(stored: &[StoredMapping], config_keys: &[String]) -> Vec<MappingRow> {
    let mut rows: Vec<MappingRow> = config_keys
        .iter()
        .map(|k| MappingRow {
            key: k.clone(),
            field: field_text("barcode"),
            label: String::new(),
            source: FROM_CONFIG,
            removable: false,
        })
        .collect();
    rows.extend(stored.iter().map(|m| MappingRow {
        key: m.key.clone(),
        field: field_text(m.field.name()),
        label: m.field.label().to_owned(),
        source: FROM_PAGE,
        removable: true,
    }));
    rows.sort_by(|a, b| a.key.cmp(&b.key).then(a.source.cmp(b.source)));
    rows
}

fn seen_rows(seen: Vec<SeenKey>, stored: &[StoredMapping]) -> Vec<SeenRow> {
    seen.into_iter()
        .map(|k| {
            let mapped = stored.iter().find(|m| m.key == k.key);
            SeenRow {
                options: options(mapped.map_or("", |m| m.field.name())),
                label: mapped.map_or(String::new(), |m| m.field.label().to_owned()),
                examples: k
                    .examples
                    .iter()
                    .map(|e| truncate(e, EXAMPLE_CHARS))
                    .collect(),
                key: k.key,
                count: k.count,
            }
        })
        .collect()
}

/// The page for `manager`: with `refused` (the input and why) after a
/// refused form, answered with `status`.
async fn show(
    state: &AppState,
    manager: &Manager,
    status: StatusCode,
    refused: Option<(FormInput, String)>,
) -> Result<Response, ApiError> {
    let (stored, seen, progress) = state
        .store
        .read(|c| {
            Ok((
                meta::mappings(c)?,
                meta::seen_keys(c, SEEN_KEYS, EXAMPLES)?,
                meta::reindex_progress(c)?,
            ))
        })
        .await?;
    let (layout, form) = match refused {
        None => (manager.layout("meta mapping", "meta"), FormInput::default()),
        Some((form, message)) => (
            manager.layout_with("meta mapping", "meta", Flash::error(message)),
            form,
        ),
    };
    let page = MetaPage {
        layout,
        progress,
        mappings: mapping_rows(&stored, &state.lookup.barcode_meta_keys),
        seen: seen_rows(seen, &stored),
        form_options: options(&form.field),
        form,
        max_key: MAX_META_KEY_CHARS,
        max_label: MAX_LABEL_CHARS,
    };
    render(manager, status, &page)
}

async fn page(manager: Manager, State(state): State<AppState>) -> Result<Response, ApiError> {
    show(&state, &manager, StatusCode::OK, None).await
}

/// The fields of the page's forms (the CSRF token is checked before).
#[derive(Deserialize)]
struct MappingForm {
    #[serde(default)]
    meta_key: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    label: String,
}

fn parse_form(body: &Bytes) -> Result<MappingForm, ApiError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("the form could not be read: {e}")))
}

fn refusal(e: &MappingError) -> String {
    let what = match e.field {
        "meta_key" => "Meta key",
        "field" => "Field",
        _ => "Label name",
    };
    format!("Nothing was changed. {what} {}.", e.reason)
}

/// `POST /settings/meta`: adds or changes the mapping of a key.
async fn save(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&body)?;
    let input = FormInput {
        meta_key: truncate(&form.meta_key, MAX_META_KEY_CHARS + 1),
        field: form.field.clone(),
        label: truncate(&form.label, MAX_LABEL_CHARS + 1),
    };
    let mapping = match MetaMapping::parse(&form.meta_key, &form.field, &form.label) {
        Ok(m) => m,
        Err(e) => {
            let message = refusal(&e);
            return show(
                &state,
                &manager,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((input, message)),
            )
            .await;
        }
    };
    let now = unix_millis_now();
    let saved = mapping.clone();
    let outcome = state
        .store
        .write(move |tx| meta::put_mapping(tx, &saved, now))
        .await?;
    let key = mapping.key.as_str();
    let field = field_text(mapping.field.name());
    let described = match &mapping.field {
        MappedField::Label(l) => format!("{field} “{l}”"),
        _ => field.to_owned(),
    };
    let refused = match outcome {
        PutMapping::Saved => {
            state.reindex.wake();
            let flash = Flash::ok(format!(
                "{key} is mapped to {described}. The catalog is being re-indexed in the background."
            ));
            return Ok(flash_redirect(&state, PAGE, &flash));
        }
        PutMapping::Unchanged => {
            let flash = Flash {
                kind: super::Tone::Info,
                text: format!("{key} was already mapped to {described}; nothing changed."),
            };
            return Ok(flash_redirect(&state, PAGE, &flash));
        }
        PutMapping::TooMany => format!(
            "Nothing was changed. At most {MAX_MAPPINGS} keys can be mapped; remove one first."
        ),
        PutMapping::ConfiguredBarcodeKey => format!(
            "Nothing was changed. {key} is already read as a barcode: possync.toml lists it in lookup.barcode_meta_keys."
        ),
    };
    show(
        &state,
        &manager,
        StatusCode::CONFLICT,
        Some((input, refused)),
    )
    .await
}

/// `POST /settings/meta/remove`: removes the mapping of a key.
async fn remove(
    manager: Manager,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = parse_form(&body)?;
    let key = match MetaKey::parse(&form.meta_key) {
        Ok(k) => k,
        Err(reason) => {
            let message = format!("Nothing was changed. Meta key has {reason}.");
            return show(
                &state,
                &manager,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((FormInput::default(), message)),
            )
            .await;
        }
    };
    let now = unix_millis_now();
    let owned = key.clone();
    let removed = state
        .store
        .write(move |tx| meta::remove_mapping(tx, &owned, now))
        .await?;
    if !removed {
        let message = if state
            .lookup
            .barcode_meta_keys
            .iter()
            .any(|k| k == key.as_str())
        {
            format!(
                "Nothing was changed. {key} comes from possync.toml (lookup.barcode_meta_keys): remove it there."
            )
        } else {
            format!("Nothing was changed. {key} is not mapped on this page.")
        };
        return show(
            &state,
            &manager,
            StatusCode::NOT_FOUND,
            Some((FormInput::default(), message)),
        )
        .await;
    }
    state.reindex.wake();
    let flash = Flash::ok(format!(
        "The mapping of {key} is removed. The catalog is being re-indexed in the background."
    ));
    Ok(flash_redirect(&state, PAGE, &flash))
}

/// `GET /settings/meta/progress`: the re-index line, for `data-live`.
async fn progress_fragment(
    _manager: Manager,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let progress = state.store.read(meta::reindex_progress).await?;
    let body = ProgressFragment { progress }.render().map_err(|e| {
        tracing::error!(error = %e, "the re-index fragment could not be rendered");
        ApiError::Busy("the page could not be rendered".to_owned())
    })?;
    Ok(axum::response::IntoResponse::into_response(super::html(
        body,
    )))
}

/// A mapping in the JSON status.
#[derive(Serialize)]
struct MappingJson {
    meta_key: String,
    field: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    /// `page` or `config`.
    source: &'static str,
}

/// The JSON status: the mappings in force and the re-index.
#[derive(Serialize)]
struct MetaStatus {
    mappings: Vec<MappingJson>,
    reindex: ReindexProgress,
}

/// `GET /api/meta-mapping/status`.
async fn status(State(state): State<AppState>) -> Result<Json<MetaStatus>, ApiError> {
    let (stored, reindex) = state
        .store
        .read(|c| Ok((meta::mappings(c)?, meta::reindex_progress(c)?)))
        .await?;
    let mut mappings: Vec<MappingJson> = state
        .lookup
        .barcode_meta_keys
        .iter()
        .map(|k| MappingJson {
            meta_key: k.clone(),
            field: "barcode",
            label: None,
            source: "config",
        })
        .collect();
    mappings.extend(stored.into_iter().map(|m| MappingJson {
        label: matches!(m.field, MappedField::Label(_)).then(|| m.field.label().to_owned()),
        field: m.field.name(),
        meta_key: m.key,
        source: "page",
    }));
    Ok(Json(MetaStatus { mappings, reindex }))
}
