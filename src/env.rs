//! A snapshot of the process environment, taken once at start-up.
//!
//! Every module that reads a variable takes an [`Env`] instead of calling
//! `std::env::var`, so tests can pass exactly the variables they mean to set.

use std::collections::BTreeMap;

/// Environment variables by name. Empty values count as unset, as in the Databricks SDKs.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

/// A variable whose value is not one the program accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value `{value}` for environment variable `{name}`: expected `true` or `false`")]
pub struct InvalidBool {
    pub name: String,
    pub value: String,
}

impl Env {
    /// Captures the variables of this process. Variables that are not valid UTF-8 are skipped.
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        }
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(name, value)| (name.into(), value.into()))
                .collect(),
        }
    }

    /// Returns the value of `name`, or `None` when it is unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// Reads a boolean that must be spelled `true` or `false`; unset or empty is `None`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, InvalidBool> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(InvalidBool {
                name: name.to_owned(),
                value: other.to_owned(),
            }),
        }
    }

    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.vars.insert(name.into(), value.into());
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_value_counts_as_unset() {
        let env = Env::from_pairs([("DATABRICKS_HOST", ""), ("DATABRICKS_TOKEN", "x")]);

        assert_eq!(env.get("DATABRICKS_HOST"), None);
        assert_eq!(env.get("DATABRICKS_TOKEN"), Some("x"));
    }

    #[test]
    fn bool_accepts_only_true_and_false() {
        let env = Env::from_pairs([("A", "true"), ("B", "false"), ("C", "yes"), ("D", "True")]);

        assert_eq!(env.bool("A"), Ok(Some(true)));
        assert_eq!(env.bool("B"), Ok(Some(false)));
        assert_eq!(env.bool("UNSET"), Ok(None));
        assert_eq!(
            env.bool("C").unwrap_err().to_string(),
            "invalid value `yes` for environment variable `C`: expected `true` or `false`"
        );
        assert!(env.bool("D").is_err());
    }
}
