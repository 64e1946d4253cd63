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
    if let Some(var) = token_env
        && looks_like_token(var)
    {
        // Most likely the token itself, pasted where its variable's name
        // goes: say so without repeating it (stderr and the log are read
        // by others, and kept).
        return Err((
            "token_env",
            "this is not an environment variable name (it looks like a token; it is not shown): \
             put the token in a variable, e.g. `export DESK_TOKEN=…`, and write its name here"
                .into(),
        ));
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
    check_keyring(spec, "token_env").map_err(|m| ("token_keyring", m))
}

/// Check a keyring entry as written (`"service:user"`) and that this build
/// can read the keyring; `instead` names the key to use otherwise.
pub fn check_keyring(spec: &str, instead: &str) -> Result<(), String> {
    keyring_entry(spec)?;
    if !KEYRING_BUILT_IN {
        return Err(format!(
            "this build cannot read the OS keyring (rebuild with `--features keyring`), \
             or use {instead}"
        ));
    }
    Ok(())
}

/// The secret in the keyring entry `spec` (`"service:user"`); the error
/// names the entry and the keyring's complaint, never a value.
pub fn from_keyring_entry(spec: &str) -> Result<Secret, String> {
    let (service, user) = keyring_entry(spec)?;
    from_keyring(service, user)
}

/// A name a shell can export: letters, digits and `_`, not starting with a
/// digit. Anything else cannot be a variable the user set, and may be a
/// secret, so it is never echoed.
#[must_use]
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

/// Whether a `token_env` value is more likely a token than a variable's
/// name: not a name at all, or a long mix of lower case and digits without
/// `_` (variables are named like `ZENDESK_TOKEN`; Zendesk's own API tokens
/// are 40 letters and digits, which a shell would accept as a name).
#[must_use]
pub fn looks_like_token(name: &str) -> bool {
    !is_variable_name(name)
        || (name.len() >= 20
            && !name.contains('_')
            && name.chars().any(|c| c.is_ascii_lowercase())
            && name.chars().any(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod token_name_tests {
    use super::*;

    #[test]
    fn pasted_tokens_are_told_from_variable_names() {
        for name in ["ZENDESK_TOKEN", "PD_T", "rt_token", "PROM_TOKEN_2"] {
            assert!(!looks_like_token(name), "{name}");
        }
        for token in [
            "Xk3p9QwErTy7UiOp1AsDfGhJkL2ZxCvBnM4Qw8Er",
            "1-31-e03175ac117113bdf322cf7b92466735",
            "u+bEfS_ZpQ/v=",
            "glpat-abc",
        ] {
            assert!(looks_like_token(token), "{token}");
        }
    }
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
        return from_keyring_entry(spec)
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
