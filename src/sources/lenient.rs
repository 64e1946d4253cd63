//! Lenient list decoding shared by the adapters.

use serde::de::{Deserialize, DeserializeOwned, Deserializer};
use serde_json::Value;

use crate::core::sanitize;

/// One array element decoded on its own, so a single odd record (an id sent
/// as text, a tag list that is an object) is skipped and logged instead of
/// failing the page that carries a thousand good ones.
#[derive(Debug)]
pub struct Lenient<T>(pub Option<T>);

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match serde_json::from_value(value) {
            Ok(item) => Ok(Self(Some(item))),
            Err(e) => {
                tracing::warn!(
                    record = std::any::type_name::<T>(),
                    "skipped a record the cockpit cannot read: {}",
                    sanitize::text(&e.to_string())
                );
                Ok(Self(None))
            }
        }
    }
}

/// Keep the items that decoded.
pub fn decoded<T>(items: Vec<Lenient<T>>) -> impl Iterator<Item = T> {
    items.into_iter().filter_map(|item| item.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Item {
        id: u64,
    }

    #[test]
    fn one_bad_item_does_not_fail_the_list() {
        let items: Vec<Lenient<Item>> =
            serde_json::from_str(r#"[{"id":1},{"id":"two"},{"id":3}]"#).unwrap();
        assert_eq!(
            decoded(items).collect::<Vec<_>>(),
            [Item { id: 1 }, Item { id: 3 }]
        );
    }
}
