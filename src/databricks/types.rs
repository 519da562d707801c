use std::fmt;

use serde::{Deserialize, Serialize};

/// Which API a target lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "lowercase")]
pub enum Scope {
    /// `/api/2.0/accounts/{account_id}/ip-access-lists`: gates the account console and account APIs.
    Account { account_id: String },
    /// `/api/2.0/ip-access-lists` on a workspace host: gates that workspace only.
    Workspace,
}

impl Scope {
    /// Returns the path of the list collection, without a trailing slash.
    pub fn collection_path(&self) -> String {
        match self {
            Scope::Account { account_id } => {
                format!("/api/2.0/accounts/{account_id}/ip-access-lists")
            }
            Scope::Workspace => "/api/2.0/ip-access-lists".to_owned(),
        }
    }

    /// Returns the account id of the account scope, or `None` for a workspace.
    pub fn account_id(&self) -> Option<&str> {
        match self {
            Scope::Account { account_id } => Some(account_id),
            Scope::Workspace => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Scope::Account { .. } => "account",
            Scope::Workspace => "workspace",
        }
    }
}

/// `list_type` as the API spells it (case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ListType {
    Allow,
    Block,
}

impl fmt::Display for ListType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ListType::Allow => "ALLOW",
            ListType::Block => "BLOCK",
        })
    }
}

/// One IP access list as the API returns it (`IpAccessListInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessList {
    pub list_id: String,
    pub label: String,
    pub list_type: ListType,
    /// Entries exactly as stored; a list created without addresses may omit the field.
    #[serde(default)]
    pub ip_addresses: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_count: Option<u32>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<i64>,
}

fn enabled_by_default() -> bool {
    true
}

/// Body of a create (POST): `label` and `list_type` are required, there is no `enabled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccessList {
    pub label: String,
    pub list_type: ListType,
    pub ip_addresses: Vec<String>,
}

/// Body of an update (PATCH): only the fields that are `Some` are sent and changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessListUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_type: Option<ListType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_addresses: Option<Vec<String>>,
    /// An explicit `false` is sent as `false`, unlike Go's `omitempty`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// Body of a replace (PUT): `label`, `list_type` and `enabled` are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessListReplacement {
    pub label: String,
    pub list_type: ListType,
    pub enabled: bool,
    pub ip_addresses: Vec<String>,
}
