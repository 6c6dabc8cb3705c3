//! The real Admin GraphQL schemas, one per supported API version, and the
//! check of every received document against the one it asked for.
//!
//! The schemas are Shopify's own (live introspection, `schema/SOURCE.md`),
//! vendored gzipped and parsed once per version on first use. A document
//! that does not validate gets the error body Shopify answers with (HTTP
//! 200, `errors` only): for the kinds captured from Shopify
//! (`graphql-captures/`: `undefinedField`, `missingRequiredArguments`,
//! `argumentNotAccepted`, `variableNotUsed`, `undefinedDirective`, …) the
//! message and `extensions` are Shopify's wording; other kinds keep the
//! validator's message. Shopify also puts a `path` on these errors; the sim
//! gives `locations` only.

use std::io::Read;
use std::sync::OnceLock;

use apollo_compiler::validation::{DiagnosticList, Valid};
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{Map, Value, json};

/// An Admin API version the simulated store serves.
/// Ordered oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiVersion {
    V2026_01,
    V2026_04,
    V2026_07,
}

impl ApiVersion {
    pub const ALL: [ApiVersion; 3] = [Self::V2026_01, Self::V2026_04, Self::V2026_07];

    /// The version as it appears in URLs (`2026-04`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2026_01 => "2026-01",
            Self::V2026_04 => "2026-04",
            Self::V2026_07 => "2026-07",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    fn gz(self) -> &'static [u8] {
        match self {
            Self::V2026_01 => include_bytes!("../../schema/2026-01/schema.graphql.gz"),
            Self::V2026_04 => include_bytes!("../../schema/2026-04/schema.graphql.gz"),
            Self::V2026_07 => include_bytes!("../../schema/2026-07/schema.graphql.gz"),
        }
    }

    fn cell(self) -> &'static OnceLock<Valid<Schema>> {
        static CELLS: [OnceLock<Valid<Schema>>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        &CELLS[self as usize]
    }

    /// The parsed, validated schema of this version (parsed on first use).
    pub fn schema(self) -> &'static Valid<Schema> {
        self.cell().get_or_init(|| {
            let mut sdl = String::new();
            flate2::read::GzDecoder::new(self.gz())
                .read_to_string(&mut sdl)
                .expect("vendored schema is valid gzip and UTF-8");
            // Shopify's introspected schema is valid SDL; a failure here is
            // a broken vendored file, not a request error.
            Schema::parse_and_validate(sdl, format!("admin-{}.graphql", self.as_str()))
                .unwrap_or_else(|e| panic!("Admin schema {} invalid: {}", self.as_str(), e.errors))
        })
    }
}

/// Parses and validates `query` against `version`'s schema. On failure,
/// the `errors` array Shopify answers with.
pub fn validate(version: ApiVersion, query: &str) -> Result<Valid<ExecutableDocument>, Vec<Value>> {
    ExecutableDocument::parse_and_validate(version.schema(), query, "query.graphql")
        .map_err(|e| shopify_errors(&e.errors))
}

/// The validator's findings in Shopify's (graphql-ruby's) error shape.
fn shopify_errors(list: &DiagnosticList) -> Vec<Value> {
    list.iter()
        .map(|diag| {
            let message = diag.error.to_string();
            // The validator's messages name their subjects between backticks.
            let ticked: Vec<&str> = message.split('`').skip(1).step_by(2).collect();
            let (message, extensions) = shopify_wording(
                diag.error.unstable_error_name().unwrap_or(""),
                &message,
                &ticked,
            );
            let mut error = Map::new();
            error.insert("message".into(), Value::String(message));
            if let Some(range) = diag.line_column_range() {
                error.insert(
                    "locations".into(),
                    json!([{"line": range.start.line, "column": range.start.column}]),
                );
            }
            if !extensions.is_empty() {
                error.insert("extensions".into(), Value::Object(extensions));
            }
            Value::Object(error)
        })
        .collect()
}

fn shopify_wording(kind: &str, message: &str, t: &[&str]) -> (String, Map<String, Value>) {
    let ext = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let arg = |i: usize| t.get(i).copied().unwrap_or("");
    match kind {
        // "type `Product` does not have a field `foo`"
        "UndefinedField" => (
            format!("Field '{}' doesn't exist on type '{}'", arg(1), arg(0)),
            ext(json!({"code": "undefinedField", "typeName": arg(0), "fieldName": arg(1)})),
        ),
        // "the required argument `QueryRoot.product(id:)` is not provided"
        "RequiredArgument" => {
            let coordinate = arg(0);
            let (owner, argument) = coordinate
                .split_once('(')
                .map(|(o, a)| (o, a.trim_end_matches(":)")))
                .unwrap_or((coordinate, ""));
            if let Some(directive) = owner.strip_prefix('@') {
                (
                    format!("Directive '{directive}' is missing required arguments: {argument}"),
                    ext(
                        json!({"code": "missingRequiredArguments", "className": "Directive",
                        "name": directive, "arguments": argument}),
                    ),
                )
            } else {
                let field = owner.rsplit('.').next().unwrap_or(owner);
                (
                    format!("Field '{field}' is missing required arguments: {argument}"),
                    ext(
                        json!({"code": "missingRequiredArguments", "className": "Field",
                        "name": field, "arguments": argument}),
                    ),
                )
            }
        }
        // "the argument `foo` is not supported by `QueryRoot.products`"
        "UndefinedArgument" => {
            let field = arg(1).rsplit('.').next().unwrap_or("");
            (
                format!("Field '{field}' doesn't accept argument '{}'", arg(0)),
                ext(json!({"code": "argumentNotAccepted", "name": field,
                    "typeName": "Field", "argumentName": arg(0)})),
            )
        }
        "UnusedVariable" => {
            let name = arg(0).trim_start_matches('$');
            (
                format!("Variable ${name} is declared but not used"),
                ext(json!({"code": "variableNotUsed", "variableName": name})),
            )
        }
        "UndefinedVariable" => {
            let name = arg(0).trim_start_matches('$');
            (
                format!("Variable ${name} is used but not declared"),
                ext(json!({"code": "variableNotDefined", "variableName": name})),
            )
        }
        "UndefinedDirective" => {
            let name = arg(0).trim_start_matches('@');
            (
                format!("Directive @{name} is not defined"),
                ext(json!({"code": "undefinedDirective", "directiveName": name})),
            )
        }
        // No capture of Shopify's parse error: the validator's message, no code.
        "" => (message.to_owned(), Map::new()),
        other => (message.to_owned(), ext(json!({"code": other}))),
    }
}
