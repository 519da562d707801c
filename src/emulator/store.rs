//! The emulator's access lists and the rules the service applies to each write.
//!
//! Rules, as the Databricks SDK docs and the REST reference describe them: `label` is
//! non-empty, `list_type` is `ALLOW` or `BLOCK`, every entry is an IPv4 address or CIDR
//! block, all lists of a workspace (or of one account) hold at most 1,000 values together
//! (`QUOTA_EXCEEDED`), and a write whose result would block the caller's own address is
//! rejected (`INVALID_STATE`). `(list_type, label)` is kept unique (`RESOURCE_ALREADY_EXISTS`),
//! as Terraform's provider tests expect of the service.

use std::collections::BTreeMap;
use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::databricks::{AccessList, ListType, Scope};
use crate::prefix::Ipv4Prefix;

/// Values (addresses or CIDR blocks) allowed across all lists of a workspace or of an account.
pub const MAX_VALUES: usize = 1000;

/// Every list of the emulator: the workspace's, and each account's on its own.
///
/// A rejected write may leave the store changed, so callers run writes on a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    #[serde(default)]
    pub workspace: Vec<AccessList>,
    #[serde(default)]
    pub accounts: BTreeMap<String, Vec<AccessList>>,
}

/// The time, author and caller address of one write.
#[derive(Debug, Clone, Copy)]
pub struct WriteContext {
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Numeric user id stored in `created_by` and `updated_by`.
    pub principal: i64,
    /// The caller's address, or `None` when lists are not enforced.
    pub caller_ip: Option<Ipv4Addr>,
}

/// The fields of a create, update or replace body, checked for type but not yet for value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFields {
    pub label: Option<String>,
    pub list_type: Option<ListType>,
    pub ip_addresses: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

impl Store {
    pub fn lists(&self, scope: &Scope) -> &[AccessList] {
        match scope {
            Scope::Workspace => &self.workspace,
            Scope::Account { account_id } => self
                .accounts
                .get(account_id)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        }
    }

    pub fn lists_mut(&mut self, scope: &Scope) -> &mut Vec<AccessList> {
        match scope {
            Scope::Workspace => &mut self.workspace,
            Scope::Account { account_id } => self.accounts.entry(account_id.clone()).or_default(),
        }
    }

    pub fn get(&self, scope: &Scope, list_id: &str) -> Result<&AccessList, ApiError> {
        self.lists(scope)
            .iter()
            .find(|list| list.list_id == list_id)
            .ok_or_else(|| ApiError::list_not_found(list_id))
    }

    /// Creates a list (POST). New lists are enabled.
    pub fn create(
        &mut self,
        scope: &Scope,
        fields: ListFields,
        context: &WriteContext,
    ) -> Result<AccessList, ApiError> {
        let label = require_label(fields.label)?;
        let list_type = fields
            .list_type
            .ok_or_else(|| ApiError::invalid_parameter("Missing required field: list_type"))?;
        let ip_addresses = validate_addresses(fields.ip_addresses.unwrap_or_default())?;

        let list = AccessList {
            list_id: uuid::Uuid::new_v4().to_string(),
            label,
            list_type,
            address_count: Some(count(&ip_addresses)),
            ip_addresses,
            enabled: true,
            created_at: Some(context.now_ms),
            created_by: Some(context.principal),
            updated_at: Some(context.now_ms),
            updated_by: Some(context.principal),
        };
        reject_duplicate(self.lists(scope), &list)?;

        let lists = self.lists_mut(scope);
        lists.push(list.clone());
        check_result(scope, lists, context)?;
        Ok(list)
    }

    /// Changes the fields that are present (PATCH).
    pub fn update(
        &mut self,
        scope: &Scope,
        list_id: &str,
        fields: ListFields,
        context: &WriteContext,
    ) -> Result<AccessList, ApiError> {
        let mut list = self.get(scope, list_id)?.clone();

        if fields.label.is_some() {
            list.label = require_label(fields.label)?;
        }
        if let Some(list_type) = fields.list_type {
            list.list_type = list_type;
        }
        if let Some(ip_addresses) = fields.ip_addresses {
            list.ip_addresses = validate_addresses(ip_addresses)?;
        }
        if let Some(enabled) = fields.enabled {
            list.enabled = enabled;
        }

        self.store_changed(scope, list, context)
    }

    /// Replaces every field (PUT): `label`, `list_type` and `enabled` are required, and a
    /// missing `ip_addresses` leaves the list empty.
    pub fn replace(
        &mut self,
        scope: &Scope,
        list_id: &str,
        fields: ListFields,
        context: &WriteContext,
    ) -> Result<AccessList, ApiError> {
        let mut list = self.get(scope, list_id)?.clone();

        list.label = require_label(fields.label)?;
        list.list_type = fields
            .list_type
            .ok_or_else(|| ApiError::invalid_parameter("Missing required field: list_type"))?;
        list.enabled = fields
            .enabled
            .ok_or_else(|| ApiError::invalid_parameter("Missing required field: enabled"))?;
        list.ip_addresses = validate_addresses(fields.ip_addresses.unwrap_or_default())?;

        self.store_changed(scope, list, context)
    }

    pub fn delete(
        &mut self,
        scope: &Scope,
        list_id: &str,
        context: &WriteContext,
    ) -> Result<(), ApiError> {
        self.get(scope, list_id)?;

        let lists = self.lists_mut(scope);
        lists.retain(|list| list.list_id != list_id);
        check_result(scope, lists, context)
    }

    fn store_changed(
        &mut self,
        scope: &Scope,
        mut list: AccessList,
        context: &WriteContext,
    ) -> Result<AccessList, ApiError> {
        list.address_count = Some(count(&list.ip_addresses));
        list.updated_at = Some(context.now_ms);
        list.updated_by = Some(context.principal);

        let others: Vec<AccessList> = self
            .lists(scope)
            .iter()
            .filter(|other| other.list_id != list.list_id)
            .cloned()
            .collect();
        reject_duplicate(&others, &list)?;

        let lists = self.lists_mut(scope);
        let slot = lists
            .iter_mut()
            .find(|stored| stored.list_id == list.list_id)
            .expect("the list was found above");
        *slot = list.clone();
        check_result(scope, lists, context)?;
        Ok(list)
    }

    /// Reads a state file written by [`Store::save`].
    pub fn load(path: &Path) -> io::Result<Store> {
        let text = std::fs::read_to_string(path)?;
        serde_json::from_str(&text).map_err(|error| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("invalid emulator state file `{}`: {error}", path.display()),
            )
        })
    }

    /// Writes the state to a temporary file beside `path`, then renames it over `path`, so a
    /// reader never sees half a file.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = std::path::PathBuf::from(temporary);

        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        std::fs::write(&temporary, text + "\n")?;
        std::fs::rename(&temporary, path)
    }
}

/// True when the enabled lists let `address` in: no block list contains it, and either no
/// allow list exists or one of them contains it. Entries that do not parse match nothing.
pub fn admits(lists: &[AccessList], address: Ipv4Addr) -> bool {
    let contains = |list: &AccessList| {
        list.ip_addresses.iter().any(|entry| {
            Ipv4Prefix::parse_entry(entry)
                .map(|parsed| parsed.prefix.contains_address(address))
                .unwrap_or(false)
        })
    };
    let enabled = || lists.iter().filter(|list| list.enabled);

    if enabled().any(|list| list.list_type == ListType::Block && contains(list)) {
        return false;
    }
    let mut allow_lists = enabled()
        .filter(|list| list.list_type == ListType::Allow)
        .peekable();
    allow_lists.peek().is_none() || allow_lists.any(contains)
}

/// Total values across `lists`, as the quota counts them: one per entry, whatever its size.
pub fn value_count(lists: &[AccessList]) -> usize {
    lists.iter().map(|list| list.ip_addresses.len()).sum()
}

/// Splits a JSON request body into its fields, rejecting invalid JSON and wrong types.
pub fn parse_fields(body: &[u8]) -> Result<ListFields, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::malformed(format!(
            "Invalid JSON given in the body of the request: {error}"
        ))
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::malformed(
            "Invalid JSON given in the body of the request: expected an object",
        ));
    };

    Ok(ListFields {
        label: string_field(&object, "label")?,
        list_type: list_type_field(&object)?,
        ip_addresses: addresses_field(&object)?,
        enabled: bool_field(&object, "enabled")?,
    })
}

fn present<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|value| !value.is_null())
}

fn wrong_type(name: &str, expected: &str) -> ApiError {
    ApiError::malformed(format!(
        "Invalid JSON given in the body of the request: field `{name}` must be {expected}"
    ))
}

fn string_field(object: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    match present(object, name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(wrong_type(name, "a string")),
    }
}

fn bool_field(object: &Map<String, Value>, name: &str) -> Result<Option<bool>, ApiError> {
    match present(object, name) {
        None => Ok(None),
        Some(Value::Bool(value)) => Ok(Some(*value)),
        Some(_) => Err(wrong_type(name, "a boolean")),
    }
}

fn list_type_field(object: &Map<String, Value>) -> Result<Option<ListType>, ApiError> {
    match string_field(object, "list_type")?.as_deref() {
        None => Ok(None),
        Some("ALLOW") => Ok(Some(ListType::Allow)),
        Some("BLOCK") => Ok(Some(ListType::Block)),
        Some(other) => Err(ApiError::invalid_parameter(format!(
            "Invalid list_type: {other}. Valid values are ALLOW and BLOCK."
        ))),
    }
}

fn addresses_field(object: &Map<String, Value>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(value) = present(object, "ip_addresses") else {
        return Ok(None);
    };
    let Value::Array(items) = value else {
        return Err(wrong_type("ip_addresses", "an array of strings"));
    };

    items
        .iter()
        .map(|item| match item {
            Value::String(text) => Ok(text.clone()),
            _ => Err(wrong_type("ip_addresses", "an array of strings")),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn require_label(label: Option<String>) -> Result<String, ApiError> {
    match label {
        Some(label) if !label.trim().is_empty() => Ok(label),
        Some(_) => Err(ApiError::invalid_parameter(
            "Invalid label: the label of an IP access list cannot be empty.",
        )),
        None => Err(ApiError::invalid_parameter("Missing required field: label")),
    }
}

/// Checks each entry and returns the entries unchanged: host bits are accepted and kept.
fn validate_addresses(ip_addresses: Vec<String>) -> Result<Vec<String>, ApiError> {
    for entry in &ip_addresses {
        if entry.contains(':') {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid ip_addresses: {entry}. Only IPv4 addresses and CIDR ranges are supported."
            )));
        }
        // The service does not trim, so an entry with spaces is invalid here.
        if entry.trim() != entry || Ipv4Prefix::parse_entry(entry).is_err() {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid ip_addresses: {entry} is not a valid IPv4 address or CIDR range."
            )));
        }
    }
    Ok(ip_addresses)
}

fn count(ip_addresses: &[String]) -> u32 {
    u32::try_from(ip_addresses.len()).unwrap_or(u32::MAX)
}

fn reject_duplicate(others: &[AccessList], list: &AccessList) -> Result<(), ApiError> {
    let taken = others
        .iter()
        .any(|other| other.list_type == list.list_type && other.label == list.label);
    if taken {
        return Err(ApiError::bad_request(
            "RESOURCE_ALREADY_EXISTS",
            format!(
                "IP access list with type ({}) and label ({}) already exists",
                list.list_type, list.label
            ),
        ));
    }
    Ok(())
}

/// Checks the lists as they would be after a write: the quota first, then the lockout.
fn check_result(
    scope: &Scope,
    lists: &[AccessList],
    context: &WriteContext,
) -> Result<(), ApiError> {
    let total = value_count(lists);
    if total > MAX_VALUES {
        return Err(ApiError::bad_request(
            "QUOTA_EXCEEDED",
            format!(
                "The IP access lists of this {} would hold {total} IP addresses and CIDR ranges, \
                 over the limit of {MAX_VALUES}.",
                scope.name()
            ),
        ));
    }

    if let Some(caller_ip) = context.caller_ip {
        if !admits(lists, caller_ip) {
            return Err(ApiError::bad_request(
                "INVALID_STATE",
                format!(
                    "Your current IP {caller_ip} will not be allowed to access the {} under \
                     current configuration",
                    scope.name()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);

    fn context() -> WriteContext {
        WriteContext {
            now_ms: 1_700_000_000_000,
            principal: 7,
            caller_ip: Some(CALLER),
        }
    }

    fn fields(label: &str, list_type: ListType, entries: &[&str]) -> ListFields {
        ListFields {
            label: Some(label.to_owned()),
            list_type: Some(list_type),
            ip_addresses: Some(entries.iter().map(|entry| entry.to_string()).collect()),
            enabled: None,
        }
    }

    fn list(list_type: ListType, enabled: bool, entries: &[&str]) -> AccessList {
        AccessList {
            list_id: "id".to_owned(),
            label: "label".to_owned(),
            list_type,
            ip_addresses: entries.iter().map(|entry| entry.to_string()).collect(),
            address_count: None,
            enabled,
            created_at: None,
            created_by: None,
            updated_at: None,
            updated_by: None,
        }
    }

    #[test]
    fn admits_without_lists() {
        assert!(admits(&[], CALLER));
    }

    #[test]
    fn admits_block_wins_over_allow() {
        let lists = [
            list(ListType::Allow, true, &["203.0.113.0/24"]),
            list(ListType::Block, true, &["203.0.113.7"]),
        ];
        assert!(!admits(&lists, CALLER));
    }

    #[test]
    fn admits_needs_an_allow_match() {
        let lists = [list(ListType::Allow, true, &["198.51.100.0/24"])];
        assert!(!admits(&lists, CALLER));
    }

    #[test]
    fn admits_ignores_disabled_lists() {
        let lists = [
            list(ListType::Allow, false, &["198.51.100.0/24"]),
            list(ListType::Block, false, &["203.0.113.7"]),
        ];
        assert!(admits(&lists, CALLER));
    }

    #[test]
    fn admits_host_bits_entry() {
        // 203.0.113.77/24 covers 203.0.113.0 to 203.0.113.255.
        let lists = [list(ListType::Allow, true, &["203.0.113.77/24"])];
        assert!(admits(&lists, CALLER));
    }

    #[test]
    fn create_keeps_entries_as_sent() {
        let mut store = Store::default();
        let created = store
            .create(
                &Scope::Workspace,
                fields("office", ListType::Allow, &["203.0.113.7/24", "10.0.0.1"]),
                &context(),
            )
            .unwrap();

        assert_eq!(created.ip_addresses, ["203.0.113.7/24", "10.0.0.1"]);
        assert_eq!(created.address_count, Some(2));
        assert!(created.enabled);
        assert_eq!(created.created_by, Some(7));
        assert_eq!(store.lists(&Scope::Workspace), [created]);
    }

    #[test]
    fn create_rejects_ipv6_entry() {
        let mut store = Store::default();
        let error = store
            .create(
                &Scope::Workspace,
                fields("office", ListType::Allow, &["2001:db8::/32"]),
                &context(),
            )
            .unwrap_err();
        assert_eq!(
            error.code,
            super::super::error::ErrorCode::Named("INVALID_PARAMETER_VALUE")
        );
    }

    #[test]
    fn delete_checks_lockout() {
        let mut store = Store::default();
        let scope = Scope::Account {
            account_id: "a".to_owned(),
        };
        let wide = store
            .create(
                &scope,
                fields("wide", ListType::Allow, &["203.0.113.0/24"]),
                &context(),
            )
            .unwrap();
        store
            .create(
                &scope,
                fields("other", ListType::Allow, &["198.51.100.0/24"]),
                &context(),
            )
            .unwrap();

        let error = store.delete(&scope, &wide.list_id, &context()).unwrap_err();
        assert_eq!(
            error.code,
            super::super::error::ErrorCode::Named("INVALID_STATE")
        );
    }

    #[test]
    fn parse_fields_treats_null_as_absent() {
        let fields = parse_fields(br#"{"label": null, "enabled": false}"#).unwrap();
        assert_eq!(fields.label, None);
        assert_eq!(fields.enabled, Some(false));
    }
}
