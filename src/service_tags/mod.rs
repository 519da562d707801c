//! Microsoft's Azure service tags files: the model, tag selection, validation and
//! the trimmed snapshot that the state folder keeps.
//!
//! Microsoft publishes one file per cloud each week (`ServiceTags_Public_YYYYMMDD.json`,
//! about 4 MB and 95,000 prefixes in 2025), described at
//! <https://learn.microsoft.com/azure/virtual-network/service-tags-overview>. The
//! top-level `changeNumber` also moves without content changes and has been reused
//! for different content, while a tag's own `properties.changeNumber` moves exactly
//! when its prefixes change, so both are recorded. Getting the bytes lives in
//! [`fetch`].

mod cloud;
mod error;
pub mod fetch;
mod summary;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ipnet::Ipv6Net;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::prefix::{Ipv4Prefix, PrefixError};

pub use cloud::{Cloud, InvalidCloud};
pub use error::{MissingTag, SourceError};
pub use fetch::{
    DEFAULT_MAX_BODY_BYTES, DownloadLink, Fetched, Fetcher, SourceSpec, USER_AGENT,
    find_download_links, http_client, load, load_summary, rebase_download_url,
};
pub use summary::{TagSummary, TagsSummary, summarize};

/// A parsed service tags file, borrowing its strings from the downloaded bytes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceTagsFile<'a> {
    pub change_number: u64,
    #[serde(borrow)]
    pub cloud: Cow<'a, str>,
    #[serde(borrow)]
    pub values: Vec<ServiceTag<'a>>,
}

/// One entry of `values`: a tag such as `AzureActiveDirectory` or `AzureCloud.westeurope`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServiceTag<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(borrow)]
    pub properties: TagProperties<'a>,
}

/// A tag's `properties`, with the keys in the order Microsoft writes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagProperties<'a> {
    /// The tag's own change counter, which moves when its prefixes change.
    pub change_number: u64,
    /// Lowercase region code such as `westeurope`, or empty for a global tag.
    #[serde(borrow)]
    pub region: Cow<'a, str>,
    pub region_id: u64,
    #[serde(borrow)]
    pub platform: Cow<'a, str>,
    #[serde(borrow)]
    pub system_service: Cow<'a, str>,
    /// IPv4 and IPv6 CIDR blocks, as Microsoft wrote them.
    #[serde(borrow, deserialize_with = "borrowed_strings")]
    pub address_prefixes: Vec<Cow<'a, str>>,
    /// Null for about half of the tags.
    #[serde(borrow)]
    pub network_features: Option<Vec<Cow<'a, str>>>,
}

/// Deserializes a list of strings, borrowing each one that has no escapes.
///
/// serde's own `Vec<Cow<str>>` always copies, which allocates once for each of the
/// 95,000 prefixes in a file. Measured on `ServiceTags_Public_20251103.json` with
/// serde_json 1 in a release build (best of 20 runs on a shared 2-vCPU AMD EPYC),
/// parsing took about 7 ms with borrowed prefixes and 13 to 17 ms with `String`s.
fn borrowed_strings<'de, D>(deserializer: D) -> Result<Vec<Cow<'de, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct Text<'a>(Cow<'a, str>);

    struct TextVisitor;

    impl<'de> serde::de::Visitor<'de> for TextVisitor {
        type Value = Text<'de>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a string")
        }

        fn visit_borrowed_str<E: serde::de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
            Ok(Text(Cow::Borrowed(text)))
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
            Ok(Text(Cow::Owned(text.to_owned())))
        }

        fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Self::Value, E> {
            Ok(Text(Cow::Owned(text)))
        }
    }

    impl<'de> Deserialize<'de> for Text<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_str(TextVisitor)
        }
    }

    let texts = Vec::<Text<'de>>::deserialize(deserializer)?;
    Ok(texts.into_iter().map(|text| text.0).collect())
}

impl TagProperties<'_> {
    fn into_owned(self) -> TagProperties<'static> {
        fn own(text: Cow<'_, str>) -> Cow<'static, str> {
            Cow::Owned(text.into_owned())
        }

        TagProperties {
            change_number: self.change_number,
            region: own(self.region),
            region_id: self.region_id,
            platform: own(self.platform),
            system_service: own(self.system_service),
            address_prefixes: self.address_prefixes.into_iter().map(own).collect(),
            network_features: self
                .network_features
                .map(|features| features.into_iter().map(own).collect()),
        }
    }
}

/// The origin of a service tags file, for messages, the plan and the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMeta {
    /// The file name, such as `ServiceTags_Public_20251103.json`.
    pub file_name: String,
    /// The URL the bytes came from, with credentials redacted; `None` for a local file.
    pub url: Option<String>,
    /// The local path the bytes came from; `None` for a download.
    pub path: Option<PathBuf>,
    /// Lowercase hex SHA-256 of the bytes as received.
    pub sha256: String,
}

impl SourceMeta {
    /// Describes bytes read from a local file.
    pub fn for_file(path: &Path, bytes: &[u8]) -> Self {
        let file_name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self {
            file_name,
            url: None,
            path: Some(path.to_owned()),
            sha256: sha256_hex(bytes),
        }
    }

    /// Describes bytes downloaded from `url`.
    pub fn for_url(url: &url::Url, bytes: &[u8]) -> Self {
        let file_name = url
            .path_segments()
            .and_then(|mut segments| segments.next_back())
            .filter(|segment| !segment.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| url.host_str().unwrap_or("download").to_owned());
        Self {
            file_name,
            url: Some(fetch::display_url(url)),
            path: None,
            sha256: sha256_hex(bytes),
        }
    }

    /// Returns the URL or path, as messages name the source.
    pub fn location(&self) -> String {
        match (&self.url, &self.path) {
            (Some(url), _) => url.clone(),
            (None, Some(path)) => path.display().to_string(),
            (None, None) => self.file_name.clone(),
        }
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl<'a> ServiceTagsFile<'a> {
    /// Parses a service tags file, telling an HTML page, a truncated download,
    /// broken JSON and JSON of another shape apart.
    pub fn parse(bytes: &'a [u8], meta: &SourceMeta) -> Result<Self, SourceError> {
        // A file saved by some Windows tools starts with a UTF-8 byte order mark,
        // which serde_json rejects; Microsoft's own files have none.
        let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let location = meta.location();

        if looks_like_html(json) {
            return Err(SourceError::HtmlInsteadOfJson {
                location,
                title: html_title(json),
            });
        }

        serde_json::from_slice(json).map_err(|error| {
            use serde_json::error::Category;

            match error.classify() {
                Category::Eof => SourceError::TruncatedJson {
                    location,
                    bytes: bytes.len(),
                },
                Category::Data => SourceError::UnexpectedShape {
                    location,
                    line: error.line(),
                    column: error.column(),
                    detail: error_detail(&error),
                },
                Category::Syntax | Category::Io => SourceError::InvalidJson {
                    location,
                    line: error.line(),
                    column: error.column(),
                    detail: error_detail(&error),
                },
            }
        })
    }
}

/// Returns the serde_json message without its trailing ` at line L column C`,
/// which the error shows on its own.
fn error_detail(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn looks_like_html(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"<")
}

fn html_title(bytes: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let lower = head.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let text_start = open + lower[open..].find('>')? + 1;
    let text_end = text_start + lower[text_start..].find("</title")?;
    let title = head[text_start..text_end]
        .split_whitespace()
        .collect::<Vec<_>>();
    let title = title.join(" ");
    let title: String = title.chars().take(120).collect();
    (!title.is_empty()).then_some(title)
}

/// The requested tags of one file, validated and reduced to what Databricks accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub cloud: Cloud,
    /// The file's top-level `changeNumber`.
    pub change_number: u64,
    pub file_name: String,
    /// The URL the file came from, with credentials redacted; `None` for a local file.
    pub url: Option<String>,
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// The requested tags in request order, each once.
    pub tags: Vec<SelectedTag>,
}

/// One requested tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedTag {
    pub name: String,
    /// The tag's own `changeNumber`.
    pub change_number: u64,
    pub region: String,
    pub system_service: String,
    /// The IPv4 prefixes in file order, canonical (host bits cleared).
    pub ipv4: Vec<Ipv4Prefix>,
    /// The IPv6 prefixes, left out because Databricks accepts IPv4 only.
    pub ipv6_dropped: Vec<String>,
    /// Entries as written in the file that had host bits set, such as `10.0.0.1/24`.
    pub host_bits_cleared: Vec<String>,
    /// The tag's `id`, kept for the snapshot.
    pub id: String,
    /// All of the tag's original properties, IPv6 included, kept for the snapshot.
    pub properties: TagProperties<'static>,
}

/// Selects the tags named in `names` from `file`, checking the cloud, that each tag
/// exists under its exact name and that each has an IPv4 prefix.
///
/// Duplicate names count once. IPv6 prefixes are dropped and listed in
/// [`SelectedTag::ipv6_dropped`].
pub fn select(
    file: &ServiceTagsFile<'_>,
    meta: &SourceMeta,
    cloud: Cloud,
    names: &[String],
) -> Result<Selection, SourceError> {
    if names.is_empty() {
        return Err(SourceError::NoTagsRequested);
    }
    if file.cloud != cloud.file_word() {
        return Err(SourceError::CloudMismatch {
            location: meta.location(),
            found: file.cloud.to_string(),
            requested: cloud,
        });
    }

    let mut seen = HashSet::new();
    let requested: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|name| seen.insert(*name))
        .collect();

    let mut by_name: HashMap<&str, &ServiceTag<'_>> = HashMap::with_capacity(file.values.len());
    for tag in &file.values {
        let repeated = by_name.insert(tag.name.as_ref(), tag).is_some();
        if repeated && seen.contains(tag.name.as_ref()) {
            return Err(SourceError::DuplicateTag {
                location: meta.location(),
                tag: tag.name.to_string(),
            });
        }
    }

    let missing: Vec<MissingTag> = requested
        .iter()
        .filter(|name| !by_name.contains_key(*name))
        .map(|name| MissingTag {
            name: (*name).to_owned(),
            suggestions: suggest_names(name, file.values.iter().map(|tag| tag.name.as_ref())),
        })
        .collect();
    if !missing.is_empty() {
        return Err(SourceError::TagsNotFound {
            location: meta.location(),
            missing,
        });
    }

    let tags = requested
        .iter()
        .map(|name| select_tag(by_name[name], meta))
        .collect::<Result<Vec<_>, _>>()?;

    Ok(Selection {
        cloud,
        change_number: file.change_number,
        file_name: meta.file_name.clone(),
        url: meta.url.clone(),
        sha256: meta.sha256.clone(),
        tags,
    })
}

fn select_tag(tag: &ServiceTag<'_>, meta: &SourceMeta) -> Result<SelectedTag, SourceError> {
    let invalid = |entry: &str, reason: String| SourceError::InvalidPrefix {
        location: meta.location(),
        tag: tag.name.to_string(),
        entry: entry.to_owned(),
        reason,
    };

    let mut ipv4 = Vec::new();
    let mut ipv6_dropped = Vec::new();
    let mut host_bits_cleared = Vec::new();
    for entry in &tag.properties.address_prefixes {
        match Ipv4Prefix::parse_entry(entry) {
            Ok(parsed) => {
                if parsed.host_bits_cleared {
                    host_bits_cleared.push(entry.to_string());
                }
                ipv4.push(parsed.prefix);
            }
            Err(PrefixError::Ipv6(_)) => {
                // `parse_entry` calls anything with a colon IPv6; check that it really is.
                let text = entry.trim();
                let valid =
                    text.parse::<Ipv6Net>().is_ok() || text.parse::<std::net::Ipv6Addr>().is_ok();
                if !valid {
                    return Err(invalid(entry, "not an IPv4 or IPv6 prefix".to_owned()));
                }
                ipv6_dropped.push(entry.to_string());
            }
            Err(error) => return Err(invalid(entry, error.to_string())),
        }
    }

    if ipv4.is_empty() {
        return Err(SourceError::NoIpv4 {
            location: meta.location(),
            tag: tag.name.to_string(),
            ipv6_count: ipv6_dropped.len(),
        });
    }

    Ok(SelectedTag {
        name: tag.name.to_string(),
        change_number: tag.properties.change_number,
        region: tag.properties.region.to_string(),
        system_service: tag.properties.system_service.to_string(),
        ipv4,
        ipv6_dropped,
        host_bits_cleared,
        id: tag.id.to_string(),
        properties: tag.properties.clone().into_owned(),
    })
}

/// Returns up to five tag names close to `requested`: first those equal ignoring
/// case and surrounding whitespace, then those that start with it or that it
/// starts with, then those a few typos away.
fn suggest_names<'n>(requested: &str, names: impl Iterator<Item = &'n str>) -> Vec<String> {
    const LIMIT: usize = 5;
    let wanted = requested.trim().to_lowercase();

    let mut ranked: Vec<(u8, usize, &str)> = names
        .filter_map(|name| {
            let lower = name.to_lowercase();
            if lower == wanted {
                return Some((0, 0, name));
            }
            let (short, long) = if lower.len() < wanted.len() {
                (&lower, &wanted)
            } else {
                (&wanted, &lower)
            };
            if short.len() >= 4 && long.starts_with(short.as_str()) {
                return Some((1, long.len() - short.len(), name));
            }
            let distance = edit_distance(&lower, &wanted);
            (distance <= 2).then_some((2, distance, name))
        })
        .collect();
    ranked.sort();

    ranked
        .into_iter()
        .take(LIMIT)
        .map(|(_, _, name)| name.to_owned())
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1; right.len() + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[right.len()]
}

impl Selection {
    /// Returns the union of all selected tags' IPv4 prefixes, sorted, each once.
    pub fn desired_prefixes(&self) -> Vec<Ipv4Prefix> {
        let mut prefixes: Vec<Ipv4Prefix> = self
            .tags
            .iter()
            .flat_map(|tag| tag.ipv4.iter().copied())
            .collect();
        prefixes.sort();
        prefixes.dedup();
        prefixes
    }

    /// Builds the trimmed snapshot: Microsoft's schema holding only the selected
    /// tags, with all their original properties, plus an `ipsync_source` object.
    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            change_number: self.change_number,
            cloud: self.cloud.file_word(),
            values: self
                .tags
                .iter()
                .map(|tag| SnapshotTag {
                    name: &tag.name,
                    id: &tag.id,
                    properties: &tag.properties,
                })
                .collect(),
            ipsync_source: SnapshotSource {
                file_name: &self.file_name,
                url: self.url.as_deref(),
                sha256: &self.sha256,
                change_number: self.change_number,
                tags: self
                    .tags
                    .iter()
                    .map(|tag| SnapshotTagSource {
                        name: &tag.name,
                        change_number: tag.change_number,
                        ipv4_count: tag.ipv4.len(),
                        ipv6_dropped_count: tag.ipv6_dropped.len(),
                    })
                    .collect(),
            },
        }
    }

    /// Renders [`Selection::snapshot`] as pretty JSON with a final newline. The same
    /// selection always gives the same bytes.
    pub fn snapshot_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.snapshot())
            .expect("a snapshot has only string keys and plain values");
        text.push('\n');
        text
    }
}

/// The trimmed service tags file that the state folder keeps.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot<'s> {
    pub change_number: u64,
    pub cloud: &'static str,
    pub values: Vec<SnapshotTag<'s>>,
    #[serde(rename = "ipsync_source")]
    pub ipsync_source: SnapshotSource<'s>,
}

/// One selected tag in Microsoft's schema.
#[derive(Debug, Serialize)]
pub struct SnapshotTag<'s> {
    pub name: &'s str,
    pub id: &'s str,
    pub properties: &'s TagProperties<'static>,
}

/// The origin of the snapshot's tags.
#[derive(Debug, Serialize)]
pub struct SnapshotSource<'s> {
    pub file_name: &'s str,
    pub url: Option<&'s str>,
    pub sha256: &'s str,
    /// The source file's top-level `changeNumber`.
    pub change_number: u64,
    pub tags: Vec<SnapshotTagSource<'s>>,
}

/// A selected tag's `changeNumber` and prefix counts.
#[derive(Debug, Serialize)]
pub struct SnapshotTagSource<'s> {
    pub name: &'s str,
    pub change_number: u64,
    pub ipv4_count: usize,
    pub ipv6_dropped_count: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL_FILE: &str = r#"{
  "changeNumber": 376,
  "cloud": "Public",
  "values": [
    {
      "name": "AzureActiveDirectory",
      "id": "AzureActiveDirectory",
      "properties": {
        "changeNumber": 26,
        "region": "",
        "regionId": 0,
        "platform": "Azure",
        "systemService": "AzureAD",
        "addressPrefixes": [
          "20.190.128.0/18",
          "4.149.98.192/27",
          "2603:1006:2000::/48"
        ],
        "networkFeatures": [
          "API",
          "NSG"
        ]
      }
    },
    {
      "name": "AzureCloud.westeurope",
      "id": "AzureCloud.westeurope",
      "properties": {
        "changeNumber": 169,
        "region": "westeurope",
        "regionId": 18,
        "platform": "Azure",
        "systemService": "",
        "addressPrefixes": [
          "10.0.0.1/24",
          "4.175.0.0/16"
        ],
        "networkFeatures": null
      }
    },
    {
      "name": "OnlyIpv6",
      "id": "OnlyIpv6",
      "properties": {
        "changeNumber": 1,
        "region": "",
        "regionId": 0,
        "platform": "Azure",
        "systemService": "",
        "addressPrefixes": [
          "2603:1006::/40"
        ],
        "networkFeatures": null
      }
    }
  ]
}"#;

    fn meta() -> SourceMeta {
        SourceMeta {
            file_name: "ServiceTags_Public_20251103.json".into(),
            url: Some("https://download.example/ServiceTags_Public_20251103.json".into()),
            path: None,
            sha256: "00".repeat(32),
        }
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    fn parse(text: &str) -> Result<ServiceTagsFile<'_>, SourceError> {
        ServiceTagsFile::parse(text.as_bytes(), &meta())
    }

    fn select_small(list: &[&str]) -> Result<Selection, SourceError> {
        let file = parse(SMALL_FILE).unwrap();
        select(&file, &meta(), Cloud::Public, &names(list))
    }

    fn prefixes(list: &[Ipv4Prefix]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn parse_reads_all_fields() {
        let file = parse(SMALL_FILE).unwrap();

        assert_eq!(file.change_number, 376);
        assert_eq!(file.cloud, "Public");
        assert_eq!(file.values.len(), 3);
        let westeurope = &file.values[1].properties;
        assert_eq!(westeurope.region, "westeurope");
        assert_eq!(westeurope.region_id, 18);
        assert_eq!(westeurope.network_features, None);
        let aad = &file.values[0].properties;
        assert_eq!(aad.system_service, "AzureAD");
        assert_eq!(
            aad.network_features.as_deref(),
            Some(&["API".into(), "NSG".into()][..])
        );
    }

    #[test]
    fn parse_borrows_unescaped_strings() {
        let file = parse(SMALL_FILE).unwrap();

        assert!(matches!(file.values[0].name, Cow::Borrowed(_)));
        assert!(matches!(
            file.values[0].properties.address_prefixes[0],
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn parse_accepts_crlf_and_bom() {
        let crlf = SMALL_FILE.replace('\n', "\r\n");
        let with_bom = format!("\u{feff}{crlf}");

        let file = ServiceTagsFile::parse(with_bom.as_bytes(), &meta()).unwrap();

        assert_eq!(file.values.len(), 3);
    }

    #[test]
    fn parse_escaped_string_is_owned() {
        let text = SMALL_FILE.replace("\"AzureAD\"", "\"Azure\\u0041D\"");

        let file = parse(&text).unwrap();

        assert_eq!(file.values[0].properties.system_service, "AzureAD");
    }

    #[test]
    fn parse_html_page_names_title() {
        let page = "\n  <!DOCTYPE html><html><head><title>\n Access  Denied </title></head></html>";

        let error = parse(page).unwrap_err();

        assert!(matches!(error, SourceError::HtmlInsteadOfJson { .. }));
        assert_eq!(
            error.to_string(),
            "`https://download.example/ServiceTags_Public_20251103.json` is an HTML page titled \
             `Access Denied`, not a service tags JSON file; the link may be stale or the request \
             blocked, so pass the file's URL with `--service-tags-url` or a downloaded copy with \
             `--service-tags-file`"
        );
    }

    #[test]
    fn parse_truncated_body_says_cut_short() {
        let cut = &SMALL_FILE[..SMALL_FILE.len() / 2];

        let error = parse(cut).unwrap_err();

        assert!(
            matches!(error, SourceError::TruncatedJson { bytes, .. } if bytes == cut.len()),
            "{error:?}"
        );
        assert!(error.to_string().contains("ends early after"));
    }

    #[test]
    fn parse_empty_body_is_truncated() {
        let error = parse("").unwrap_err();

        assert!(matches!(error, SourceError::TruncatedJson { bytes: 0, .. }));
    }

    #[test]
    fn parse_syntax_error_gives_position() {
        let error = parse("{\"changeNumber\": 1,\n  \"cloud\": Public}").unwrap_err();

        match error {
            SourceError::InvalidJson { line, column, .. } => {
                assert_eq!(line, 2);
                assert_eq!(column, 12);
            }
            other => panic!("expected InvalidJson, got {other:?}"),
        }
    }

    #[test]
    fn parse_wrong_shape_names_field() {
        let error =
            parse(r#"{"changeNumber": "376", "cloud": "Public", "values": []}"#).unwrap_err();

        assert!(matches!(error, SourceError::UnexpectedShape { .. }));
        let message = error.to_string();
        assert!(
            message.contains("invalid type: string \"376\", expected u64"),
            "{message}"
        );
        assert!(message.contains("expected `changeNumber`, `cloud` and `values`"));
    }

    #[test]
    fn parse_missing_values_is_wrong_shape() {
        let error = parse(r#"{"changeNumber": 1, "cloud": "Public"}"#).unwrap_err();

        assert!(error.to_string().contains("missing field `values`"));
    }

    #[test]
    fn select_splits_ipv4_and_ipv6() {
        let selection = select_small(&["AzureActiveDirectory"]).unwrap();

        assert_eq!(selection.change_number, 376);
        assert_eq!(selection.file_name, "ServiceTags_Public_20251103.json");
        let tag = &selection.tags[0];
        assert_eq!(tag.change_number, 26);
        assert_eq!(tag.system_service, "AzureAD");
        assert_eq!(prefixes(&tag.ipv4), ["20.190.128.0/18", "4.149.98.192/27"]);
        assert_eq!(tag.ipv6_dropped, ["2603:1006:2000::/48"]);
        assert!(tag.host_bits_cleared.is_empty());
    }

    #[test]
    fn select_records_host_bits() {
        let selection = select_small(&["AzureCloud.westeurope"]).unwrap();

        let tag = &selection.tags[0];
        assert_eq!(prefixes(&tag.ipv4), ["10.0.0.0/24", "4.175.0.0/16"]);
        assert_eq!(tag.host_bits_cleared, ["10.0.0.1/24"]);
        assert_eq!(tag.region, "westeurope");
    }

    #[test]
    fn select_keeps_request_order_once() {
        let selection = select_small(&[
            "AzureCloud.westeurope",
            "AzureActiveDirectory",
            "AzureCloud.westeurope",
        ])
        .unwrap();

        let order: Vec<&str> = selection.tags.iter().map(|tag| tag.name.as_str()).collect();
        assert_eq!(order, ["AzureCloud.westeurope", "AzureActiveDirectory"]);
    }

    #[test]
    fn desired_prefixes_sorted_union() {
        let selection = select_small(&["AzureActiveDirectory", "AzureCloud.westeurope"]).unwrap();

        assert_eq!(
            prefixes(&selection.desired_prefixes()),
            [
                "4.149.98.192/27",
                "4.175.0.0/16",
                "10.0.0.0/24",
                "20.190.128.0/18"
            ]
        );
    }

    #[test]
    fn select_rejects_cloud_mismatch() {
        let file = parse(SMALL_FILE).unwrap();

        let error = select(
            &file,
            &meta(),
            Cloud::UsGov,
            &names(&["AzureActiveDirectory"]),
        )
        .unwrap_err();

        assert_eq!(
            error.to_string(),
            "`https://download.example/ServiceTags_Public_20251103.json` contains service tags for \
             cloud `Public`, but cloud `usgov` (`AzureGovernment`) was requested; pass \
             `--cloud public` or a file of the requested cloud"
        );
    }

    #[test]
    fn select_rejects_empty_request() {
        let error = select_small(&[]).unwrap_err();

        assert!(matches!(error, SourceError::NoTagsRequested));
    }

    #[test]
    fn select_missing_tag_suggests_case() {
        let error = select_small(&["azureactivedirectory"]).unwrap_err();

        assert_eq!(
            error.to_string(),
            "service tag `azureactivedirectory` (did you mean `AzureActiveDirectory`?) not found \
             in `https://download.example/ServiceTags_Public_20251103.json`; names are \
             case-sensitive, and `ipsync tags` lists the tags a file contains"
        );
    }

    #[test]
    fn select_missing_tags_all_listed() {
        let error = select_small(&["AzureCloud", "AzureActiveDirectory", "Nothing"]).unwrap_err();

        let SourceError::TagsNotFound { missing, .. } = error else {
            panic!("expected TagsNotFound, got {error:?}");
        };
        assert_eq!(
            missing,
            [
                MissingTag {
                    name: "AzureCloud".into(),
                    suggestions: vec!["AzureCloud.westeurope".into()],
                },
                MissingTag {
                    name: "Nothing".into(),
                    suggestions: vec![],
                },
            ]
        );
    }

    #[test]
    fn suggestions_trim_then_rank() {
        let names = [
            "AzureActiveDirectory",
            "AzureActiveDirectoryDomainServices",
            "azureactivedirectory.ServiceEndpoint",
            "AzureActiveDirectry",
            "Storage",
        ];

        let found = suggest_names("AzureActiveDirectory ", names.into_iter());

        assert_eq!(
            found,
            [
                "AzureActiveDirectory",
                "AzureActiveDirectoryDomainServices",
                "azureactivedirectory.ServiceEndpoint",
                "AzureActiveDirectry",
            ]
        );
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("storage", "storage"), 0);
        assert_eq!(edit_distance("storage", "storag"), 1);
        assert_eq!(edit_distance("storage", "sotrage"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn select_rejects_tag_without_ipv4() {
        let error = select_small(&["OnlyIpv6"]).unwrap_err();

        assert!(matches!(
            error,
            SourceError::NoIpv4 { ref tag, ipv6_count: 1, .. } if tag == "OnlyIpv6"
        ));
        assert_eq!(
            error.to_string(),
            "service tag `OnlyIpv6` in `https://download.example/ServiceTags_Public_20251103.json` \
             has no IPv4 prefix (IPv6 prefixes: 1, which Databricks does not accept); choose a \
             tag with IPv4 ranges"
        );
    }

    #[test]
    fn select_quotes_invalid_prefix() {
        for (entry, reason) in [
            ("10.0.0.0/33", "`10.0.0.0/33` has a prefix length over 32"),
            ("10.0.0/8", "is not an IPv4 address or CIDR block"),
            ("nonsense:value", "not an IPv4 or IPv6 prefix"),
        ] {
            let text = SMALL_FILE.replace("4.149.98.192/27", entry);
            let file = parse(&text).unwrap();

            let error = select(
                &file,
                &meta(),
                Cloud::Public,
                &names(&["AzureActiveDirectory"]),
            )
            .unwrap_err();

            let message = error.to_string();
            assert!(
                message.contains(&format!("has the invalid prefix `{entry}`")),
                "{message}"
            );
            assert!(message.contains(reason), "{message}");
        }
    }

    #[test]
    fn select_rejects_duplicate_requested_tag() {
        let text = SMALL_FILE.replace("\"OnlyIpv6\"", "\"AzureActiveDirectory\"");
        let file = parse(&text).unwrap();

        let error = select(
            &file,
            &meta(),
            Cloud::Public,
            &names(&["AzureActiveDirectory"]),
        )
        .unwrap_err();

        assert!(
            matches!(error, SourceError::DuplicateTag { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn snapshot_keeps_schema_and_source() {
        let selection = select_small(&["AzureCloud.westeurope"]).unwrap();

        let expected = r#"{
  "changeNumber": 376,
  "cloud": "Public",
  "values": [
    {
      "name": "AzureCloud.westeurope",
      "id": "AzureCloud.westeurope",
      "properties": {
        "changeNumber": 169,
        "region": "westeurope",
        "regionId": 18,
        "platform": "Azure",
        "systemService": "",
        "addressPrefixes": [
          "10.0.0.1/24",
          "4.175.0.0/16"
        ],
        "networkFeatures": null
      }
    }
  ],
  "ipsync_source": {
    "file_name": "ServiceTags_Public_20251103.json",
    "url": "https://download.example/ServiceTags_Public_20251103.json",
    "sha256": "0000000000000000000000000000000000000000000000000000000000000000",
    "change_number": 376,
    "tags": [
      {
        "name": "AzureCloud.westeurope",
        "change_number": 169,
        "ipv4_count": 2,
        "ipv6_dropped_count": 0
      }
    ]
  }
}
"#;
        assert_eq!(selection.snapshot_json(), expected);
    }

    #[test]
    fn snapshot_keeps_ipv6_entries() {
        let selection = select_small(&["AzureActiveDirectory"]).unwrap();

        let value = serde_json::to_value(selection.snapshot()).unwrap();

        assert_eq!(
            value["values"][0]["properties"]["addressPrefixes"],
            serde_json::json!(["20.190.128.0/18", "4.149.98.192/27", "2603:1006:2000::/48"])
        );
        assert_eq!(
            value["values"][0]["properties"]["networkFeatures"],
            serde_json::json!(["API", "NSG"])
        );
    }

    #[test]
    fn meta_for_url_takes_last_segment() {
        let url = url::Url::parse(
            "https://user:pw@download.example/a/b/ServiceTags_China_20251020.json?sig=secret#x",
        )
        .unwrap();

        let meta = SourceMeta::for_url(&url, b"abc");

        assert_eq!(meta.file_name, "ServiceTags_China_20251020.json");
        assert_eq!(
            meta.url.as_deref(),
            Some("https://download.example/a/b/ServiceTags_China_20251020.json?sig=REDACTED")
        );
        // sha256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            meta.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn meta_for_file_uses_file_name() {
        let meta = SourceMeta::for_file(Path::new("/tmp/tags/ServiceTags_Public_1.json"), b"");

        assert_eq!(meta.file_name, "ServiceTags_Public_1.json");
        assert_eq!(meta.url, None);
        assert_eq!(meta.location(), "/tmp/tags/ServiceTags_Public_1.json");
    }
}
