//! Interned names: organisations, requesters, assignees, groups, tags and
//! the other short labels that repeat across a desk's inquiries.
//!
//! At 100k inquiries the same few thousand names were held as 100k owned
//! `String`s each; a `Name` is a shared pointer to one copy of the text:
//! one thin pointer (8 bytes, and `Option<Name>` too), the text's length
//! kept with the text rather than in every inquiry's five or more names.
//! It reads like the string it was: it derefs to `str`, compares with
//! text, displays and serialises as the text, so call sites that took
//! `&str` or `Option<&str>` stay as they were.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A shared, immutable name. Equal texts made through `Name::new` share one
/// allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Arc<Box<str>>);

/// Every name in use, once. Names no longer held anywhere but here are
/// dropped when the set has doubled since the last sweep, so the set stays
/// within twice what is alive.
struct Interner {
    names: HashSet<Name>,
    sweep_at: usize,
}

static INTERNER: LazyLock<Mutex<Interner>> = LazyLock::new(|| {
    Mutex::new(Interner {
        names: HashSet::new(),
        sweep_at: 1024,
    })
});

impl Name {
    /// The shared copy of `text`.
    #[must_use]
    pub fn new(text: &str) -> Self {
        // A poisoned lock still guards a consistent set (no code here
        // panics half-way through a change).
        let mut interner = INTERNER.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(name) = interner.names.get(text) {
            return name.clone();
        }
        if interner.names.len() >= interner.sweep_at {
            interner.names.retain(|n| Arc::strong_count(&n.0) > 1);
            interner.sweep_at = (interner.names.len() * 2).max(1024);
        }
        let name = Self(Arc::new(Box::from(text)));
        interner.names.insert(name.clone());
        name
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0[..]
    }
}

/// The empty name (for `unwrap_or_default` where a name may be absent).
impl Default for Name {
    fn default() -> Self {
        Self::new("")
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Self {
        Self::new(text)
    }
}

impl From<String> for Name {
    fn from(text: String) -> Self {
        Self::new(&text)
    }
}

impl From<Name> for String {
    fn from(name: Name) -> Self {
        name.as_str().to_owned()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

// Debug as the text itself, so messages and test failures read as they did
// when names were strings.
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

// `pad`, so widths and alignment apply as to a string.
impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::new(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_names_share_one_copy_and_read_as_text() {
        let a = Name::new("Acme Corp");
        let b = Name::from(String::from("Acme Corp"));
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, "Acme Corp");
        assert_eq!(format!("{a:<10}|"), "Acme Corp |");
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"Acme Corp\"");
        let back: Name = serde_json::from_str("\"Acme Corp\"").unwrap();
        assert!(Arc::ptr_eq(&a.0, &back.0));
    }

    #[test]
    fn names_no_longer_held_are_swept() {
        for i in 0..5000 {
            let _ = Name::new(&format!("sweep-test-{i}"));
        }
        let kept = Name::new("sweep-test-kept");
        for i in 5000..10_000 {
            let _ = Name::new(&format!("sweep-test-{i}"));
        }
        let interner = INTERNER.lock().unwrap();
        let dead = interner
            .names
            .iter()
            .filter(|n| n.starts_with("sweep-test-") && Arc::strong_count(&n.0) == 1)
            .count();
        // Sweeps ran: far fewer than the 10k dropped names are left.
        assert!(dead < 5000, "{dead} dead names kept");
        assert!(interner.names.contains("sweep-test-kept"));
        drop(interner);
        assert_eq!(kept, "sweep-test-kept");
    }
}
