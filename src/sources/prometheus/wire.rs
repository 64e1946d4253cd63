//! The Prometheus HTTP API envelope and result shapes (`docs/querying/api.md`).

use std::fmt;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::core::domain::SourceError;
use crate::core::sanitize;

/// `{status, data, errorType, error, warnings}`, for successes and errors
/// alike (errors arrive with 400/422/503 and, rarely, with 200).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EnvelopeDto {
    pub status: Option<String>,
    pub data: Option<DataDto>,
    #[serde(rename = "errorType")]
    pub error_type: Option<String>,
    pub error: Option<String>,
    pub warnings: Option<Vec<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DataDto {
    #[serde(rename = "resultType")]
    pub result_type: Option<String>,
    /// Decoded straight into compact series (a week of hourly points for
    /// 10k tenants is 1.7 M samples; as `serde_json::Value`s they took
    /// hundreds of MB). Elements that are not series (a scalar's
    /// `[time, "value"]`) are skipped; the result type says what was meant.
    pub result: Option<Vec<Element>>,
}

/// One element of `result`: a series, or something else (`None`).
#[derive(Debug)]
pub(super) struct Element(Option<SeriesDto>);

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ElementVisitor;
        impl<'de> Visitor<'de> for ElementVisitor {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a series")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Element, A::Error> {
                SeriesDto::deserialize(MapAccessDeserializer::new(map)).map(|s| Element(Some(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element, A::Error> {
                IgnoredAny.visit_seq(seq).map(|_| Element(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Element, E> {
                Ok(Element(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Element, E> {
                Ok(Element(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Element, E> {
                Ok(Element(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Element, E> {
                Ok(Element(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Element, E> {
                Ok(Element(None))
            }
            fn visit_unit<E>(self) -> Result<Element, E> {
                Ok(Element(None))
            }
        }
        deserializer.deserialize_any(ElementVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SeriesDto {
    metric: Labels,
    value: Option<SampleDto>,
    values: Samples,
}

/// A series' labels that have text values (Prometheus's all do; anything
/// else is skipped), as a list: a series has a handful, and a map of JSON
/// values per series was most of a 10k-tenant answer's decoded size after
/// the samples.
#[derive(Debug, Default)]
struct Labels(Vec<(String, String)>);

impl Labels {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(label, _)| label == name)
            .map(|(_, value)| value.as_str())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LabelsVisitor;
        impl<'de> Visitor<'de> for LabelsVisitor {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of labels")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut labels = Vec::with_capacity(map.size_hint().unwrap_or(2));
                while let Some(label) = map.next_key::<String>()? {
                    if let Value::String(value) = map.next_value::<Value>()? {
                        labels.push((label, value));
                    }
                }
                Ok(Labels(labels))
            }
        }
        deserializer.deserialize_map(LabelsVisitor)
    }
}

/// A range series' `values`, decoded straight into numbers: 8 bytes a
/// sample instead of a 16-byte `Option<f64>` copied afterwards (a week of
/// hourly points for 10k tenants is 1.7 M samples). Samples that are not a
/// number at all are counted, not kept.
#[derive(Debug, Default)]
struct Samples {
    values: Vec<f64>,
    unreadable: usize,
}

impl<'de> Deserialize<'de> for Samples {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SamplesVisitor;
        impl<'de> Visitor<'de> for SamplesVisitor {
            type Value = Samples;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of samples")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Samples, A::Error> {
                let mut samples = Samples {
                    values: Vec::with_capacity(seq.size_hint().unwrap_or(0)),
                    unreadable: 0,
                };
                while let Some((_, Sample(value))) = seq.next_element::<SampleDto>()? {
                    match value {
                        Some(v) => samples.values.push(v),
                        None => samples.unreadable += 1,
                    }
                }
                // The series is kept as it is (the adapter's history):
                // without the slack doubling left.
                samples.values.shrink_to_fit();
                Ok(samples)
            }
        }
        deserializer.deserialize_seq(SamplesVisitor)
    }
}

/// `[<unix seconds as a number>, "<value as a string>"]`; results come in
/// time order, so the timestamp itself is not needed.
type SampleDto = (IgnoredAny, Sample);

/// A sample's value: a string (`"0.25"`, `"NaN"`, `"+Inf"`), or a plain
/// number from some compatible backends; anything else is unreadable
/// (`None`), counted rather than failing the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample(Option<f64>);

impl<'de> Deserialize<'de> for Sample {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SampleVisitor;
        impl<'de> Visitor<'de> for SampleVisitor {
            type Value = Sample;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sample value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Sample, E> {
                Ok(Sample(v.trim().parse().ok()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Sample, E> {
                Ok(Sample(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Sample, E> {
                Ok(Sample(Some(v as f64)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Sample, E> {
                Ok(Sample(Some(v as f64)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Sample, E> {
                Ok(Sample(None))
            }
            fn visit_unit<E>(self) -> Result<Sample, E> {
                Ok(Sample(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Sample, A::Error> {
                IgnoredAny.visit_seq(seq).map(|_| Sample(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Sample, A::Error> {
                IgnoredAny.visit_map(map).map(|_| Sample(None))
            }
        }
        deserializer.deserialize_any(SampleVisitor)
    }
}

/// `"bad_data: invalid parameter …"`: the reason an error envelope gives.
pub(super) fn explain(envelope: EnvelopeDto) -> Option<String> {
    match (envelope.error_type, envelope.error) {
        (Some(kind), Some(error)) => Some(format!("{kind}: {error}")),
        (kind, error) => kind.or(error),
    }
}

/// Which result type a call expects: instant queries answer with a vector,
/// range queries with a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    Vector,
    Matrix,
}

/// One series of an answer, reduced to what the cockpit needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The tenant label's value, sanitised; `None` when the series lacks it.
    pub tenant: Option<String>,
    /// Sample values in time order; may contain NaN and ±Inf.
    pub samples: Vec<f64>,
    /// Samples whose value was not a number at all.
    pub unreadable: usize,
    /// Which of several combined queries answered it: the
    /// [`SIGNAL_LABEL`] the adapter put on each part (`None` for a single
    /// query, or a series that lacks it).
    pub signal: Option<String>,
}

/// The label a combined query puts on each part's series with
/// `label_replace`, so that one answer can be split per signal again.
pub const SIGNAL_LABEL: &str = "cc_signal";

/// A decoded answer: its series and the warnings the server attached.
#[derive(Debug, Default, PartialEq)]
pub struct Answer {
    pub series: Vec<Series>,
    pub warnings: Vec<String>,
}

/// Check the envelope and flatten the result. `what` names the signal for
/// error messages ("metrics: error_ratio query").
pub(super) fn decode(
    what: &str,
    envelope: EnvelopeDto,
    shape: Shape,
    tenant_label: &str,
) -> Result<Answer, SourceError> {
    match envelope.status.as_deref() {
        Some("success") => {}
        Some("error") => {
            let reason = explain(envelope).unwrap_or_else(|| "unspecified error".into());
            return Err(SourceError::new(format!(
                "{what}: {}",
                sanitize::text(&reason)
            )));
        }
        other => {
            return Err(SourceError::new(format!(
                "{what}: unexpected envelope status {:?}",
                other.map(sanitize::text)
            )));
        }
    }
    let warnings = envelope
        .warnings
        .unwrap_or_default()
        .iter()
        .map(|w| sanitize::text(w.as_str().unwrap_or(&w.to_string())))
        .filter(|w| !w.is_empty())
        .collect();
    let data = envelope.data.unwrap_or_default();
    let got = data.result_type.as_deref().unwrap_or("nothing");
    let expected = match shape {
        Shape::Vector => "vector",
        Shape::Matrix => "matrix",
    };
    if got != expected {
        return Err(SourceError::new(format!(
            "{what}: expected a {expected} result, got {} (the query must return one series per tenant)",
            sanitize::text(got)
        )));
    }
    let series = data
        .result
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.0)
        .map(|s| {
            let tenant = s.metric.get(tenant_label).map(sanitize::text);
            let signal = s.metric.get(SIGNAL_LABEL).map(str::to_owned);
            let Samples {
                values: mut samples,
                mut unreadable,
            } = s.values;
            // An instant vector's one `value` (a series has either).
            match s.value {
                Some((_, Sample(Some(v)))) => samples.insert(0, v),
                Some((_, Sample(None))) => unreadable += 1,
                None => {}
            }
            Series {
                tenant: tenant.filter(|t| !t.is_empty()),
                samples,
                unreadable,
                signal,
            }
        })
        .collect();
    Ok(Answer { series, warnings })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn envelope(json: Value) -> EnvelopeDto {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn special_values_parse_as_non_finite() {
        let v = |json: &str| serde_json::from_str::<Sample>(json).unwrap().0;
        assert!(v(r#""NaN""#).unwrap().is_nan());
        assert_eq!(v(r#""+Inf""#), Some(f64::INFINITY));
        assert_eq!(v(r#""-Inf""#), Some(f64::NEG_INFINITY));
        assert_eq!(v(r#""0.25""#), Some(0.25));
        assert_eq!(v("3"), Some(3.0));
        assert_eq!(v(r#""lots""#), None);
        assert_eq!(v(r#"{"odd": [1]}"#), None);
    }

    #[test]
    fn odd_elements_and_samples_are_skipped_not_fatal() {
        let answer = decode(
            "q",
            envelope(serde_json::json!({
                "status": "success",
                "data": {"resultType": "matrix", "result": [
                    "stray",
                    {"metric": {"tenant": "acme"}, "values": [[1, "0.5"], [2, true], [3, "1"]]}
                ]}
            })),
            Shape::Matrix,
            "tenant",
        )
        .unwrap();
        assert_eq!(answer.series.len(), 1);
        assert_eq!(answer.series[0].samples, vec![0.5, 1.0]);
        assert_eq!(answer.series[0].unreadable, 1);
    }

    #[test]
    fn vector_series_keep_their_tenant() {
        let answer = decode(
            "q",
            envelope(serde_json::json!({
                "status": "success",
                "data": {"resultType": "vector", "result": [
                    {"metric": {"tenant": "acme"}, "value": [1795220413.844, "0.5"]},
                    {"metric": {"job": "x"}, "value": [1795220413, "1"]}
                ]}
            })),
            Shape::Vector,
            "tenant",
        )
        .unwrap();
        assert_eq!(answer.series[0].tenant.as_deref(), Some("acme"));
        assert_eq!(answer.series[0].samples, vec![0.5]);
        assert_eq!(answer.series[1].tenant, None);
    }

    #[test]
    fn labels_that_are_not_text_are_skipped_and_a_bad_instant_value_counted() {
        let answer = decode(
            "q",
            envelope(serde_json::json!({
                "status": "success",
                "data": {"resultType": "vector", "result": [
                    {"metric": {"n": 3, "tenant": "acme", "cc_signal": "error_ratio"},
                     "value": [1, "lots"]}
                ]}
            })),
            Shape::Vector,
            "tenant",
        )
        .unwrap();
        let series = &answer.series[0];
        assert_eq!(series.tenant.as_deref(), Some("acme"));
        assert_eq!(series.signal.as_deref(), Some("error_ratio"));
        assert!(series.samples.is_empty());
        assert_eq!(series.unreadable, 1);
    }

    #[test]
    fn wrong_result_type_is_an_error_naming_both() {
        let err = decode(
            "metrics: error_ratio query",
            envelope(serde_json::json!({
                "status": "success", "data": {"resultType": "scalar", "result": [1, "2"]}
            })),
            Shape::Vector,
            "tenant",
        )
        .unwrap_err();
        assert!(
            err.message.contains("expected a vector result, got scalar"),
            "{err}"
        );
    }

    #[test]
    fn error_envelope_with_200_is_still_an_error() {
        let err = decode(
            "metrics: request_rate query",
            envelope(serde_json::json!({
                "status": "error", "errorType": "execution", "error": "many-to-one matching must be explicit"
            })),
            Shape::Vector,
            "tenant",
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "metrics: request_rate query: execution: many-to-one matching must be explicit"
        );
    }
}
