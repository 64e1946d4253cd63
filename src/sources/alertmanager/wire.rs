//! Alertmanager API v2 wire types (`api/v2/openapi.yaml` @ v0.25.0): the
//! `gettableAlert` list of `GET /api/v2/alerts`.

use std::collections::BTreeMap;

use serde::Deserialize;

pub(super) use crate::sources::lenient::{Lenient, decoded};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AlertDto {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: Option<String>,
    pub fingerprint: Option<String>,
    pub receivers: Vec<ReceiverDto>,
    pub status: StatusDto,
    #[serde(rename = "generatorURL")]
    pub generator_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ReceiverDto {
    pub name: Option<String>,
}

/// `{state: "unprocessed"|"active"|"suppressed", silencedBy, inhibitedBy}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct StatusDto {
    pub state: Option<String>,
    #[serde(rename = "silencedBy")]
    pub silenced_by: Vec<String>,
    #[serde(rename = "inhibitedBy")]
    pub inhibited_by: Vec<String>,
}

/// Error bodies are either go-swagger's `{code, message}` (422) or a bare
/// JSON string (400/500).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum ErrorDto {
    Swagger { message: String },
    Text(String),
}

pub(super) fn explain_error(dto: ErrorDto) -> Option<String> {
    match dto {
        ErrorDto::Swagger { message } | ErrorDto::Text(message) => Some(message),
    }
}
