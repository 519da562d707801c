//! An overview of a service tags file for `ipsync tags`: which tags it contains
//! and how many prefixes each has.

use std::fmt::Write as _;

use serde::Serialize;

use super::{ServiceTagsFile, SourceMeta};

/// A file's tags with their change numbers and prefix counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagsSummary {
    /// The file's `cloud` field, such as `Public`.
    pub cloud: String,
    /// The file's top-level `changeNumber`.
    pub change_number: u64,
    pub file_name: String,
    pub url: Option<String>,
    pub sha256: String,
    /// Number of tags in the whole file, filtered or not.
    pub tag_count: usize,
    /// The tags that pass the filter, in file order.
    pub tags: Vec<TagSummary>,
    /// Filter words that matched no tag.
    pub unmatched_filters: Vec<String>,
}

/// One tag's overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagSummary {
    pub name: String,
    pub change_number: u64,
    pub region: String,
    pub ipv4_count: usize,
    pub ipv6_count: usize,
}

/// Summarises `file`. An empty `filter` lists every tag. Otherwise a tag is listed
/// when its name contains one of the filter words, ignoring case, so `westeurope`
/// lists every West Europe tag.
pub fn summarize(file: &ServiceTagsFile<'_>, meta: &SourceMeta, filter: &[String]) -> TagsSummary {
    let words: Vec<String> = filter.iter().map(|word| word.to_lowercase()).collect();
    let mut matched = vec![false; words.len()];

    let mut tags = Vec::new();
    for tag in &file.values {
        let name = tag.name.to_lowercase();
        let mut keep = words.is_empty();
        for (index, word) in words.iter().enumerate() {
            if name.contains(word.as_str()) {
                matched[index] = true;
                keep = true;
            }
        }
        if !keep {
            continue;
        }

        // IPv6 text always contains a colon and IPv4 text never does; the
        // prefixes themselves are validated only when a tag is selected.
        let prefixes = &tag.properties.address_prefixes;
        let ipv6_count = prefixes.iter().filter(|entry| entry.contains(':')).count();
        tags.push(TagSummary {
            name: tag.name.to_string(),
            change_number: tag.properties.change_number,
            region: tag.properties.region.to_string(),
            ipv4_count: prefixes.len() - ipv6_count,
            ipv6_count,
        });
    }

    let unmatched_filters = filter
        .iter()
        .zip(matched)
        .filter(|(_, matched)| !matched)
        .map(|(word, _)| word.clone())
        .collect();

    TagsSummary {
        cloud: file.cloud.to_string(),
        change_number: file.change_number,
        file_name: meta.file_name.clone(),
        url: meta.url.clone(),
        sha256: meta.sha256.clone(),
        tag_count: file.values.len(),
        tags,
        unmatched_filters,
    }
}

impl TagsSummary {
    /// Renders the summary as a header and a plain-text table, one tag per row.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "file:          {}", self.file_name);
        if let Some(url) = &self.url {
            let _ = writeln!(out, "url:           {url}");
        }
        let _ = writeln!(out, "sha256:        {}", self.sha256);
        let _ = writeln!(out, "cloud:         {}", self.cloud);
        let _ = writeln!(out, "changeNumber:  {}", self.change_number);
        let _ = writeln!(
            out,
            "tags:          {} of {}",
            self.tags.len(),
            self.tag_count
        );
        for word in &self.unmatched_filters {
            let _ = writeln!(out, "no tag matches `{word}`");
        }
        out.push('\n');

        let headers = ["TAG", "CHANGE", "REGION", "IPV4", "IPV6"];
        let rows: Vec<[String; 5]> = self
            .tags
            .iter()
            .map(|tag| {
                [
                    tag.name.clone(),
                    tag.change_number.to_string(),
                    if tag.region.is_empty() {
                        "-".to_owned()
                    } else {
                        tag.region.clone()
                    },
                    tag.ipv4_count.to_string(),
                    tag.ipv6_count.to_string(),
                ]
            })
            .collect();

        let mut widths = headers.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }

        let [name, change, region, ipv4, ipv6] = widths;
        let _ = writeln!(
            out,
            "{:<name$}  {:>change$}  {:<region$}  {:>ipv4$}  {:>ipv6$}",
            headers[0], headers[1], headers[2], headers[3], headers[4]
        );
        for row in &rows {
            let line = format!(
                "{:<name$}  {:>change$}  {:<region$}  {:>ipv4$}  {:>ipv6$}",
                row[0], row[1], row[2], row[3], row[4]
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::service_tags::{ServiceTag, TagProperties};

    fn tag(
        name: &'static str,
        region: &'static str,
        prefixes: &[&'static str],
    ) -> ServiceTag<'static> {
        ServiceTag {
            name: Cow::Borrowed(name),
            id: Cow::Borrowed(name),
            properties: TagProperties {
                change_number: name.len() as u64,
                region: Cow::Borrowed(region),
                region_id: 0,
                platform: Cow::Borrowed("Azure"),
                system_service: Cow::Borrowed(""),
                address_prefixes: prefixes.iter().map(|text| Cow::Borrowed(*text)).collect(),
                network_features: None,
            },
        }
    }

    fn file() -> ServiceTagsFile<'static> {
        ServiceTagsFile {
            change_number: 376,
            cloud: Cow::Borrowed("Public"),
            values: vec![
                tag(
                    "AzureActiveDirectory",
                    "",
                    &["20.190.128.0/18", "2603:1006::/40"],
                ),
                tag("AzureCloud.westeurope", "westeurope", &["4.175.0.0/16"]),
                tag(
                    "Storage.WestEurope",
                    "westeurope",
                    &["2.3.4.0/24", "2.3.5.0/24"],
                ),
            ],
        }
    }

    fn meta() -> SourceMeta {
        SourceMeta {
            file_name: "ServiceTags_Public_20251103.json".into(),
            url: None,
            path: Some("ServiceTags_Public_20251103.json".into()),
            sha256: "ab".repeat(32),
        }
    }

    #[test]
    fn summary_counts_each_family() {
        let summary = summarize(&file(), &meta(), &[]);

        assert_eq!(summary.tag_count, 3);
        assert_eq!(
            summary.tags[0],
            TagSummary {
                name: "AzureActiveDirectory".into(),
                change_number: 20,
                region: String::new(),
                ipv4_count: 1,
                ipv6_count: 1,
            }
        );
        assert_eq!(summary.tags[2].ipv4_count, 2);
    }

    #[test]
    fn filter_matches_substring_ignoring_case() {
        let filter = vec!["WESTEUROPE".to_owned(), "Nothing".to_owned()];

        let summary = summarize(&file(), &meta(), &filter);

        let names: Vec<&str> = summary.tags.iter().map(|tag| tag.name.as_str()).collect();
        assert_eq!(names, ["AzureCloud.westeurope", "Storage.WestEurope"]);
        assert_eq!(summary.tag_count, 3);
        assert_eq!(summary.unmatched_filters, ["Nothing"]);
    }

    #[test]
    fn text_table_aligns_columns() {
        let summary = summarize(&file(), &meta(), &[]);

        let expected = "\
file:          ServiceTags_Public_20251103.json
sha256:        abababababababababababababababababababababababababababababababab
cloud:         Public
changeNumber:  376
tags:          3 of 3

TAG                    CHANGE  REGION      IPV4  IPV6
AzureActiveDirectory       20  -              1     1
AzureCloud.westeurope      21  westeurope     1     0
Storage.WestEurope         18  westeurope     2     0
";
        assert_eq!(summary.render_text(), expected);
    }

    #[test]
    fn json_has_counts() {
        let summary = summarize(&file(), &meta(), &["directory".to_owned()]);

        let value = serde_json::to_value(&summary).unwrap();

        assert_eq!(value["change_number"], 376);
        assert_eq!(value["tags"][0]["ipv6_count"], 1);
        assert_eq!(value["unmatched_filters"], serde_json::json!([]));
    }
}
