//! Where a source's token comes from: an environment variable the config
//! names (`token_env`) or, in builds with the `keyring` feature, an entry of
//! the OS keyring (`token_keyring = "service:user"`). Never the file itself.
//!
//! The keyring is a cargo feature, off by default, so that a plain build
//! (and CI) needs no secret-service daemon; a config that asks for the
//! keyring in a build without it is refused with the reason.

use crate::sources::http::Secret;

/// A token that cannot be had, naming the key (`desk.token_env`) and where
/// was looked, never a value. `config` turns it into a config error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TokenError {
    pub key: String,
    pub message: String,
}

/// Whether this build can read the OS keyring.
pub const KEYRING_BUILT_IN: bool = cfg!(feature = "keyring");

/// Check a source's token keys as written, before anything is read:
/// `Err((key, message))` names the offending key (`token_keyring` or
/// `token_env`) within the source's table.
pub fn validate(
    token_env: Option<&str>,
    token_keyring: Option<&str>,
) -> Result<(), (&'static str, String)> {
    if let Some(var) = token_env
        && var.trim().is_empty()
    {
        return Err(("token_env", "name an environment variable".into()));
    }
    let Some(spec) = token_keyring else {
        return Ok(());
    };
    if token_env.is_some() {
        return Err((
            "token_keyring",
            "set token_env or token_keyring, not both".into(),
        ));
    }
    keyring_entry(spec).map_err(|m| ("token_keyring", m))?;
    if !KEYRING_BUILT_IN {
        return Err((
            "token_keyring",
            "this build cannot read the OS keyring (rebuild with `--features keyring`), \
             or use token_env"
                .into(),
        ));
    }
    Ok(())
}

/// `"service:user"` split at the first colon; both parts must be present.
fn keyring_entry(spec: &str) -> Result<(&str, &str), String> {
    match spec.split_once(':') {
        Some((service, user)) if !service.trim().is_empty() && !user.trim().is_empty() => {
            Ok((service.trim(), user.trim()))
        }
        _ => Err(format!(
            "{spec:?} is not \"service:user\" (the keyring entry holding the token)"
        )),
    }
}

/// Resolve a source's token: the variable `token_env` names, or the keyring
/// entry `token_keyring` names. Errors name the key and where was looked,
/// never a value.
pub fn resolve(
    section: &str,
    token_env: Option<&str>,
    token_keyring: Option<&str>,
) -> Result<Option<Secret>, TokenError> {
    let invalid = |key: &str, message: String| TokenError {
        key: format!("{section}.{key}"),
        message,
    };
    validate(token_env, token_keyring).map_err(|(key, message)| invalid(key, message))?;
    if let Some(spec) = token_keyring {
        let (service, user) = keyring_entry(spec).map_err(|m| invalid("token_keyring", m))?;
        return from_keyring(service, user)
            .map(Some)
            .map_err(|m| invalid("token_keyring", m));
    }
    let Some(var) = token_env else {
        return Ok(None);
    };
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Ok(Some(Secret::new(value))),
        _ => Err(invalid(
            "token_env",
            format!("environment variable {var} is not set"),
        )),
    }
}

#[cfg(feature = "keyring")]
fn from_keyring(service: &str, user: &str) -> Result<Secret, String> {
    let entry = keyring::Entry::new(service, user)
        .map_err(|e| format!("keyring entry {service}:{user}: {e}"))?;
    match entry.get_password() {
        Ok(value) if !value.is_empty() => Ok(Secret::new(value)),
        Ok(_) => Err(format!("keyring entry {service}:{user} is empty")),
        // The error names the entry and the store's complaint, never a value.
        Err(e) => Err(format!("keyring entry {service}:{user}: {e}")),
    }
}

#[cfg(not(feature = "keyring"))]
fn from_keyring(_service: &str, _user: &str) -> Result<Secret, String> {
    // `validate` refuses the key first in such a build; kept for clarity.
    Err("this build cannot read the OS keyring (rebuild with `--features keyring`)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyring_entry_needs_service_and_user() {
        assert_eq!(keyring_entry("cre:zendesk"), Ok(("cre", "zendesk")));
        assert_eq!(
            keyring_entry("cre:me@x.example"),
            Ok(("cre", "me@x.example"))
        );
        assert!(keyring_entry("cre").is_err());
        assert!(keyring_entry(":user").is_err());
        assert!(keyring_entry("svc: ").is_err());
    }

    #[test]
    fn env_and_keyring_together_are_refused() {
        let (key, message) = validate(Some("TOKEN"), Some("cre:zendesk")).unwrap_err();
        assert_eq!(key, "token_keyring");
        assert!(message.contains("not both"), "{message}");
    }
}
