//! Errors from fetching, reading and validating a service tags source.

use std::io;
use std::path::PathBuf;

use super::Cloud;

/// A failure to obtain or validate a service tags file.
///
/// Each message names what was fetched or read (a URL or a path), what was found
/// and what to try next.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("failed to build the HTTP client for downloading service tags")]
    HttpClient(#[source] reqwest::Error),

    #[error(
        "failed to read service tags file `{}`: {error}; check the path given to `--service-tags-file`",
        path.display()
    )]
    ReadFile { path: PathBuf, error: io::Error },

    #[error("failed to download `{url}`{}; check the network and proxy settings", timeout_note(*.timed_out))]
    Request {
        url: String,
        timed_out: bool,
        #[source]
        error: reqwest::Error,
    },

    #[error("downloading `{url}` failed with HTTP status {status}{}", status_hint(*.status))]
    HttpStatus { url: String, status: u16 },

    #[error(
        "`{url}` sent more than {limit} bytes, which is far more than a service tags file or its download page; check the URL"
    )]
    BodyTooLarge { url: String, limit: u64 },

    #[error(
        "no `ServiceTags_{file_word}_YYYYMMDD.json` download link found on `{page}`; Microsoft may have changed the page, so pass the file's URL with `--service-tags-url` or a downloaded copy with `--service-tags-file`"
    )]
    NoDownloadLink {
        page: String,
        file_word: &'static str,
    },

    #[error(
        "`{location}` is an HTML page{}, not a service tags JSON file; the link may be stale or the request blocked, so pass the file's URL with `--service-tags-url` or a downloaded copy with `--service-tags-file`",
        title_note(.title.as_deref())
    )]
    HtmlInsteadOfJson {
        location: String,
        title: Option<String>,
    },

    #[error(
        "`{location}` ends early after {bytes} bytes, so the download was cut short; run again, or download the file and pass it with `--service-tags-file`"
    )]
    TruncatedJson { location: String, bytes: usize },

    #[error(
        "`{location}` is not valid JSON (line {line}, column {column}: {detail}); check that it is a `ServiceTags_*.json` file"
    )]
    InvalidJson {
        location: String,
        line: usize,
        column: usize,
        detail: String,
    },

    #[error(
        "`{location}` is JSON but not a service tags file (line {line}, column {column}: {detail}); expected `changeNumber`, `cloud` and `values` as in Microsoft's `ServiceTags_*.json`"
    )]
    UnexpectedShape {
        location: String,
        line: usize,
        column: usize,
        detail: String,
    },

    #[error(
        "`{location}` contains service tags for cloud `{found}`, but cloud `{requested}` (`{}`) was requested; {}",
        .requested.file_word(),
        cloud_mismatch_hint(.found)
    )]
    CloudMismatch {
        location: String,
        found: String,
        requested: Cloud,
    },

    #[error("no service tag was requested; name at least one with `--tag`")]
    NoTagsRequested,

    #[error(
        "{} not found in `{location}`; names are case-sensitive, and `ipsync tags` lists the tags a file contains",
        describe_missing(.missing)
    )]
    TagsNotFound {
        location: String,
        missing: Vec<MissingTag>,
    },

    #[error(
        "service tag `{tag}` appears more than once in `{location}`, so its prefixes are ambiguous; use another file"
    )]
    DuplicateTag { location: String, tag: String },

    #[error(
        "service tag `{tag}` in `{location}` has no IPv4 prefix{}; choose a tag with IPv4 ranges",
        ipv6_note(*.ipv6_count)
    )]
    NoIpv4 {
        location: String,
        tag: String,
        ipv6_count: usize,
    },

    #[error(
        "service tag `{tag}` in `{location}` has the invalid prefix `{entry}` ({reason}); the file may be damaged, so try another file"
    )]
    InvalidPrefix {
        location: String,
        tag: String,
        entry: String,
        reason: String,
    },
}

/// A requested tag that the file does not contain, with names that look close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingTag {
    pub name: String,
    pub suggestions: Vec<String>,
}

fn timeout_note(timed_out: bool) -> &'static str {
    if timed_out { " (timed out)" } else { "" }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        403 => {
            "; Microsoft's servers reject some clients, so pass a downloaded copy with `--service-tags-file`"
        }
        404 | 410 => {
            "; the address does not exist (Microsoft removes old files when it publishes new ones), so check the URL, or run again to find the newest file"
        }
        500..=599 => "; the server failed, so run again later",
        _ => "",
    }
}

fn ipv6_note(ipv6_count: usize) -> String {
    match ipv6_count {
        0 => " and no IPv6 prefix".to_owned(),
        count => format!(" (IPv6 prefixes: {count}, which Databricks does not accept)"),
    }
}

fn title_note(title: Option<&str>) -> String {
    match title {
        Some(title) => format!(" titled `{title}`"),
        None => String::new(),
    }
}

fn cloud_mismatch_hint(found: &str) -> String {
    match Cloud::from_file_word(found) {
        Some(cloud) => format!("pass `--cloud {cloud}` or a file of the requested cloud"),
        None => "pass a file of the requested cloud".to_owned(),
    }
}

fn describe_missing(missing: &[MissingTag]) -> String {
    let parts: Vec<String> = missing
        .iter()
        .map(|tag| {
            let mut text = format!("service tag `{}`", tag.name);
            if !tag.suggestions.is_empty() {
                let quoted: Vec<String> = tag
                    .suggestions
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect();
                text.push_str(&format!(" (did you mean {}?)", quoted.join(", ")));
            }
            text
        })
        .collect();
    parts.join(" and ")
}
