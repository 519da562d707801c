//! `~/.databrickscfg` profiles, read the way the Databricks Go SDK reads them (`config/config_file.go`).
//!
//! The file is INI: `[name]` sections of `key = value` lines, where a value may be quoted and a `#`
//! or `;` after a space starts a comment. The section `[DEFAULT]` is used when no profile is named,
//! unless `[__settings__] default_profile` names another one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::env::Env;

use super::AuthError;

const SETTINGS_SECTION: &str = "__settings__";
const DEFAULT_SECTION: &str = "DEFAULT";

/// One section of the Databricks configuration file.
#[derive(Clone)]
pub struct Profile {
    pub name: String,
    pub path: PathBuf,
    /// True when no profile was named and this is the fallback (`[DEFAULT]` or the file's
    /// `default_profile`).
    pub is_fallback: bool,
    values: BTreeMap<String, String>,
}

impl Profile {
    /// Returns the value of `key`, or `None` when the key is missing or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    pub fn host(&self) -> Option<&str> {
        self.get("host")
    }

    pub fn account_id(&self) -> Option<&str> {
        self.get("account_id")
    }

    /// Names the profile for messages, such as ``profile `prod` in `/home/me/.databrickscfg` ``.
    pub fn describe(&self) -> String {
        format!("profile `{}` in `{}`", self.name, self.path.display())
    }
}

impl fmt::Debug for Profile {
    /// Lists the keys only, because some values are credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("keys", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Returns the path of the configuration file: `DATABRICKS_CONFIG_FILE`, or `$HOME/.databrickscfg`.
/// A leading `~` is expanded with `HOME`, as the SDKs do.
pub fn config_file_path(env: &Env) -> Option<PathBuf> {
    let home = env.get("HOME").or_else(|| env.get("USERPROFILE"));
    match env.get("DATABRICKS_CONFIG_FILE") {
        Some(path) => match (path.strip_prefix('~'), home) {
            (Some(rest), Some(home)) => Some(PathBuf::from(format!("{home}{rest}"))),
            _ => Some(PathBuf::from(path)),
        },
        None => home.map(|home| Path::new(home).join(".databrickscfg")),
    }
}

/// Loads the profile `name` (or, when `name` is `None`, `DATABRICKS_CONFIG_PROFILE`, and then
/// the file's default profile) from the configuration file.
///
/// A missing file, or a missing fallback profile, is `Ok(None)`. A profile that was named
/// explicitly but is missing, an unreadable file and a malformed line are errors.
pub fn load_profile(env: &Env, name: Option<&str>) -> Result<Option<Profile>, AuthError> {
    let requested = name.or_else(|| env.get("DATABRICKS_CONFIG_PROFILE"));
    let Some(path) = config_file_path(env) else {
        return match requested {
            Some(name) => Err(AuthError::ProfileNotFound {
                name: name.to_owned(),
                path: "~/.databrickscfg (HOME is not set)".to_owned(),
            }),
            None => Ok(None),
        };
    };

    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return match requested {
                Some(name) => Err(AuthError::ProfileNotFound {
                    name: name.to_owned(),
                    path: format!("{} (the file does not exist)", path.display()),
                }),
                None => {
                    tracing::debug!(path = %path.display(), "no Databricks configuration file");
                    Ok(None)
                }
            };
        }
        Err(error) => {
            return Err(AuthError::Profile {
                path: path.display().to_string(),
                message: format!("failed to read the file: {error}"),
            });
        }
    };

    let sections = parse_ini(&text).map_err(|message| AuthError::Profile {
        path: path.display().to_string(),
        message,
    })?;
    let (profile_name, is_fallback) = choose_section(requested, &sections, &path)?;

    match sections.get(&profile_name) {
        Some(values) if !values.is_empty() => Ok(Some(Profile {
            name: profile_name,
            path,
            is_fallback,
            values: values.clone(),
        })),
        _ if is_fallback => {
            tracing::debug!(path = %path.display(), profile = %profile_name, "no default profile");
            Ok(None)
        }
        _ => Err(AuthError::ProfileNotFound {
            name: profile_name,
            path: path.display().to_string(),
        }),
    }
}

type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Picks the section to read: the requested one, else `[__settings__] default_profile`,
/// else `[DEFAULT]` as a fallback.
fn choose_section(
    requested: Option<&str>,
    sections: &Sections,
    path: &Path,
) -> Result<(String, bool), AuthError> {
    let reserved = || AuthError::Profile {
        path: path.display().to_string(),
        message: format!("`{SETTINGS_SECTION}` is a reserved section name and is not a profile"),
    };

    if let Some(name) = requested {
        if name == SETTINGS_SECTION {
            return Err(reserved());
        }
        return Ok((name.to_owned(), false));
    }

    let default_profile = sections
        .get(SETTINGS_SECTION)
        .and_then(|settings| settings.get("default_profile"))
        .map(|value| value.trim())
        .filter(|value| !value.is_empty());
    match default_profile {
        Some(SETTINGS_SECTION) => Err(reserved()),
        Some(name) => Ok((name.to_owned(), false)),
        None => Ok((DEFAULT_SECTION.to_owned(), true)),
    }
}

/// Parses INI text into sections. Keys before the first section header belong to `DEFAULT`.
fn parse_ini(text: &str) -> Result<Sections, String> {
    let mut sections = Sections::new();
    let mut current = DEFAULT_SECTION.to_owned();

    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }

        if let Some(header) = line.strip_prefix('[') {
            let Some(name) = header.strip_suffix(']') else {
                return Err(format!(
                    "line {}: section header without a closing `]`",
                    index + 1
                ));
            };
            current = name.trim().to_owned();
            sections.entry(current.clone()).or_default();
            continue;
        }

        let Some((key, value)) = line.split_once('=').or_else(|| line.split_once(':')) else {
            // The line may hold a credential, so the message gives its number only.
            return Err(format!(
                "line {}: expected `key = value` or a `[section]` header",
                index + 1
            ));
        };
        sections
            .entry(current.clone())
            .or_default()
            .insert(key.trim().to_owned(), parse_value(value.trim()));
    }
    Ok(sections)
}

/// Removes quotes and a trailing comment. Inside quotes `#` is literal; outside, `#` or `;`
/// starts a comment only after whitespace, so `%Y#X$Z` stays whole.
fn parse_value(value: &str) -> String {
    for quote in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(quote) {
            if let Some(end) = rest.find(quote) {
                return rest[..end].to_owned();
            }
        }
    }

    let bytes = value.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if (*byte == b'#' || *byte == b';') && index > 0 && bytes[index - 1].is_ascii_whitespace() {
            return value[..index].trim_end().to_owned();
        }
    }
    value.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_config(text: &str) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("databrickscfg");
        std::fs::write(&path, text).unwrap();
        let env = Env::from_pairs([("DATABRICKS_CONFIG_FILE", path.to_str().unwrap())]);
        (dir, env)
    }

    const SAMPLE: &str = "\
; comment line
[DEFAULT]
host = https://adb-1.2.azuredatabricks.net/
token = dapi-default

[prod]
host = https://accounts.azuredatabricks.net
account_id = 0d5f0e6c-1111-2222-3333-444455556666
client_id = sp-client
client_secret = \"%Y#X$Z\" # comment

[unquoted]
password = %Y#X$Z # comment
single = '%Y#X$Z' ; comment
";

    #[test]
    fn profile_default_section_used_without_name() {
        let (_dir, env) = write_config(SAMPLE);

        let profile = load_profile(&env, None).unwrap().unwrap();

        assert_eq!(profile.name, "DEFAULT");
        assert!(profile.is_fallback);
        assert_eq!(profile.host(), Some("https://adb-1.2.azuredatabricks.net/"));
        assert_eq!(profile.get("token"), Some("dapi-default"));
    }

    #[test]
    fn profile_named_section_quotes_and_comments() {
        let (_dir, env) = write_config(SAMPLE);

        let prod = load_profile(&env, Some("prod")).unwrap().unwrap();
        let unquoted = load_profile(&env, Some("unquoted")).unwrap().unwrap();

        assert_eq!(
            prod.account_id(),
            Some("0d5f0e6c-1111-2222-3333-444455556666")
        );
        assert_eq!(prod.get("client_secret"), Some("%Y#X$Z"));
        assert_eq!(unquoted.get("password"), Some("%Y#X$Z"));
        assert_eq!(unquoted.get("single"), Some("%Y#X$Z"));
    }

    #[test]
    fn profile_from_environment_variable() {
        let (_dir, mut env) = write_config(SAMPLE);
        env.set("DATABRICKS_CONFIG_PROFILE", "prod");

        let profile = load_profile(&env, None).unwrap().unwrap();

        assert_eq!(profile.name, "prod");
        assert!(!profile.is_fallback);
    }

    #[test]
    fn profile_named_but_missing_is_error() {
        let (_dir, env) = write_config(SAMPLE);

        let error = load_profile(&env, Some("staging")).unwrap_err();

        assert!(
            error
                .to_string()
                .starts_with("profile `staging` not found in `"),
            "{error}"
        );
    }

    #[test]
    fn profile_missing_default_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env::from_pairs([("HOME", dir.path().to_str().unwrap())]);

        assert!(load_profile(&env, None).unwrap().is_none());
        assert!(load_profile(&env, Some("prod")).is_err());
    }

    #[test]
    fn profile_settings_default_profile() {
        let (_dir, env) =
            write_config("[__settings__]\ndefault_profile = prod\n\n[prod]\nhost = h\n");

        let profile = load_profile(&env, None).unwrap().unwrap();

        assert_eq!(profile.name, "prod");
        assert!(load_profile(&env, Some("__settings__")).is_err());
    }

    #[test]
    fn profile_debug_hides_values() {
        let (_dir, env) = write_config(SAMPLE);

        let profile = load_profile(&env, None).unwrap().unwrap();

        assert!(!format!("{profile:?}").contains("dapi-default"));
    }
}
