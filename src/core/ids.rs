//! Typed identity: an inquiry's id, an account's id and an incident's id are
//! different things, and a function that takes one cannot be handed another.
//!
//! Each is the source's own text (desk ids are numeric on both desks, but
//! the cockpit never does arithmetic on them), serialised as a plain string,
//! so snapshots and stored state read exactly as before. They compare with
//! `str` and borrow as `str`, so a map keyed by one can be asked with text.
//!
//! The text is held inline up to 23 bytes (every desk, incident and account
//! id in practice) and shared beyond: 100k inquiries, their index and the
//! rows that name them cost no allocation per id, and a clone is a copy.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(SmolStr);

        impl $name {
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // Debug as the text itself, so messages that quote an id with
        // `{:?}` read as they did when ids were strings.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.0.as_str(), f)
            }
        }

        // `pad`, so widths and alignment (`{:<7}`) apply as to a string.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(SmolStr::from(id))
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(SmolStr::new(id))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0.into()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0.as_str() == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                self.0.as_str() == other.as_str()
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }
    };
}

id!(
    /// A support inquiry's id on its desk (Zendesk or RT ticket number).
    InquiryId
);
id!(
    /// A customer account's id in the accounts file.
    AccountId
);
id!(
    /// An incident's id at its source (PagerDuty id, Alertmanager group
    /// key, `slo:` for detected burns).
    IncidentId
);

#[cfg(test)]
mod tests {
    use super::*;

    /// An id reads, pads, quotes and serialises exactly as its text did, so
    /// snapshots, stored state and messages are unchanged by the type.
    #[test]
    fn an_id_behaves_as_its_text_outside_the_type_system() {
        let id = InquiryId::from("101");
        assert_eq!(format!("{id:<5}|"), "101  |");
        assert_eq!(format!("{id:?}"), "\"101\"");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"101\"");
        let back: InquiryId = serde_json::from_str("\"101\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id, "101");
        let by_id: std::collections::HashMap<InquiryId, u8> = [(id.clone(), 1)].into();
        assert_eq!(
            by_id.get("101"),
            Some(&1),
            "a map of ids is asked with text"
        );
    }
}
