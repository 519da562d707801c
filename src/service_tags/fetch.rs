//! Getting the bytes of a service tags file: from a local file, from a URL, or
//! by finding the newest file linked from Microsoft's Download Center page.
//!
//! The Download Center page (for example
//! <https://www.microsoft.com/en-us/download/details.aspx?id=56519>) has changed
//! layout several times: the link has been a plain `<a href>`, and in 2025 the page
//! carries it inside `window.__DLCDetails__={…}` script JSON with `\/` escapes. So
//! discovery searches the whole body for `download.microsoft.com` links to
//! `ServiceTags_<Cloud>_YYYYMMDD.json` instead of relying on one layout.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use url::Url;

use super::{
    Cloud, Selection, ServiceTagsFile, SourceError, SourceMeta, TagsSummary, select, summarize,
};

/// Largest body accepted from any URL. A 2025 Public file is 4.3 MB and grows
/// about 10 % a year, so this leaves a wide margin while stopping a runaway stream.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// The User-Agent sent with every request. Microsoft's edge has rejected some
/// agents, for example any containing `Wget`, so this one reads like a browser
/// and still names ipsync.
pub const USER_AGENT: &str = concat!(
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) ",
    "Chrome/131.0.0.0 Safari/537.36 ipsync/",
    env!("CARGO_PKG_VERSION")
);

/// The source of the service tags file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceSpec {
    /// A file on disk (`--service-tags-file`).
    File(PathBuf),
    /// The file's own URL (`--service-tags-url`).
    Url(Url),
    /// A Download Center page that links the file (the default, `--download-page-url`).
    DownloadPage(Url),
}

impl SourceSpec {
    /// Page discovery on the cloud's own Download Center page.
    pub fn default_for(cloud: Cloud) -> Self {
        SourceSpec::DownloadPage(cloud.download_page_url())
    }
}

/// Builds the HTTP client for Microsoft's servers: a browser-like User-Agent,
/// gzip, and `timeout` for each whole request.
pub fn http_client(timeout: Duration) -> Result<reqwest::Client, SourceError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(30)))
        .build()
        .map_err(SourceError::HttpClient)
}

/// Fetches service tags sources with one HTTP client and its settings.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    download_base_override: Option<Url>,
    max_body_bytes: u64,
}

/// The bytes of a service tags file and where they came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub meta: SourceMeta,
}

impl Fetcher {
    pub fn new(client: reqwest::Client) -> Self {
        Self {
            client,
            download_base_override: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Sends requests for links found on a download page to `base` instead of the
    /// link's own scheme, host and port, keeping the link's path. Tests and mirrors
    /// use it; `None` (the default) uses the links as found.
    pub fn with_download_base_override(mut self, base: Option<Url>) -> Self {
        self.download_base_override = base;
        self
    }

    /// Sets the largest body accepted from a URL, in bytes.
    pub fn with_max_body_bytes(mut self, limit: u64) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Gets the bytes that `spec` names. For a download page, fetches the page,
    /// picks the newest linked file of `cloud` and downloads it.
    pub async fn fetch(&self, spec: &SourceSpec, cloud: Cloud) -> Result<Fetched, SourceError> {
        match spec {
            SourceSpec::File(path) => read_file(path).await,
            SourceSpec::Url(url) => self.download(url).await,
            SourceSpec::DownloadPage(page) => {
                let link = self.discover(page, cloud).await?;
                self.download(&link).await
            }
        }
    }

    /// Finds the newest file of `cloud` linked from `page` and returns the URL to
    /// download it from, with the base override applied.
    pub async fn discover(&self, page: &Url, cloud: Cloud) -> Result<Url, SourceError> {
        tracing::info!(page = %display_url(page), "looking for the newest service tags file on the download page");
        let body = self.get_bytes(page).await?;
        let body = String::from_utf8_lossy(&body);

        let links = find_download_links(&body, cloud);
        let Some(newest) = links.first() else {
            return Err(SourceError::NoDownloadLink {
                page: display_url(page),
                file_word: cloud.file_word(),
            });
        };
        tracing::info!(
            url = %newest.url,
            date = %newest.date,
            links_found = links.len(),
            "found the newest service tags file"
        );

        let Some(base) = &self.download_base_override else {
            return Ok(newest.url.clone());
        };
        let rebased = rebase_download_url(&newest.url, base);
        tracing::info!(url = %display_url(&rebased), "downloading from the overridden download base");
        Ok(rebased)
    }

    async fn download(&self, url: &Url) -> Result<Fetched, SourceError> {
        let bytes = self.get_bytes(url).await?;
        let meta = SourceMeta::for_url(url, &bytes);
        Ok(Fetched { bytes, meta })
    }

    /// GETs `url`, failing on an error status or a body over the size limit.
    async fn get_bytes(&self, url: &Url) -> Result<Vec<u8>, SourceError> {
        let shown = display_url(url);
        let request_failed = |error: reqwest::Error| SourceError::Request {
            url: shown.clone(),
            timed_out: error.is_timeout(),
            error: error.without_url(),
        };

        tracing::info!(url = %shown, "downloading");
        let mut response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(request_failed)?;

        let status = response.status();
        if !status.is_success() {
            return Err(SourceError::HttpStatus {
                url: shown,
                status: status.as_u16(),
            });
        }
        let too_large = || SourceError::BodyTooLarge {
            url: shown.clone(),
            limit: self.max_body_bytes,
        };
        if response
            .content_length()
            .is_some_and(|length| length > self.max_body_bytes)
        {
            return Err(too_large());
        }

        tracing::debug!(url = %shown, expected_bytes = ?response.content_length(), "response headers received");
        let mut bytes = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
        while let Some(chunk) = response.chunk().await.map_err(request_failed)? {
            if (bytes.len() + chunk.len()) as u64 > self.max_body_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }

        tracing::info!(url = %shown, bytes = bytes.len(), "downloaded");
        Ok(bytes)
    }
}

async fn read_file(path: &Path) -> Result<Fetched, SourceError> {
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|error| SourceError::ReadFile {
            path: path.to_owned(),
            error,
        })?;
    tracing::info!(path = %path.display(), bytes = bytes.len(), "read service tags file");

    let meta = SourceMeta::for_file(path, &bytes);
    Ok(Fetched { bytes, meta })
}

/// Fetches the source, parses it once and selects `names`: the usual way in.
pub async fn load(
    spec: &SourceSpec,
    cloud: Cloud,
    names: &[String],
    fetcher: &Fetcher,
) -> Result<Selection, SourceError> {
    let fetched = fetcher.fetch(spec, cloud).await?;
    let file = ServiceTagsFile::parse(&fetched.bytes, &fetched.meta)?;
    let selection = select(&file, &fetched.meta, cloud, names)?;

    for tag in &selection.tags {
        tracing::info!(
            tag = %tag.name,
            change_number = tag.change_number,
            ipv4 = tag.ipv4.len(),
            ipv6_dropped = tag.ipv6_dropped.len(),
            "selected service tag"
        );
        if !tag.host_bits_cleared.is_empty() {
            tracing::warn!(
                tag = %tag.name,
                entries = ?tag.host_bits_cleared,
                "service tag has prefixes with host bits set; using their networks"
            );
        }
    }
    Ok(selection)
}

/// Fetches the source and summarises its tags for `ipsync tags`, with `filter` as
/// in [`summarize`]. The file's cloud is shown, not checked.
pub async fn load_summary(
    spec: &SourceSpec,
    cloud: Cloud,
    filter: &[String],
    fetcher: &Fetcher,
) -> Result<TagsSummary, SourceError> {
    let fetched = fetcher.fetch(spec, cloud).await?;
    let file = ServiceTagsFile::parse(&fetched.bytes, &fetched.meta)?;
    Ok(summarize(&file, &fetched.meta, filter))
}

/// A link to a service tags file found on a download page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadLink {
    pub url: Url,
    /// The date in the file name, `YYYYMMDD`. It is a version label, often a few
    /// days before the file appeared.
    pub date: String,
}

/// Finds every `https://download.microsoft.com/download/…/ServiceTags_<Word>_YYYYMMDD.json`
/// link of `cloud` anywhere in `page`, ignoring case and undoing JSON's `\/` and
/// `\u002F` escapes. Returns each URL once, newest date first; links with the same
/// date keep page order.
pub fn find_download_links(page: &str, cloud: Cloud) -> Vec<DownloadLink> {
    static PATTERNS: LazyLock<[Regex; 3]> = LazyLock::new(|| Cloud::ALL.map(link_pattern));
    let pattern = &PATTERNS[Cloud::ALL
        .iter()
        .position(|known| *known == cloud)
        .expect("every cloud is in Cloud::ALL")];

    let unescaped = page
        .replace("\\/", "/")
        .replace("\\u002F", "/")
        .replace("\\u002f", "/");

    let mut links: Vec<DownloadLink> = Vec::new();
    for found in pattern.captures_iter(&unescaped) {
        let Ok(url) = Url::parse(&found[0]) else {
            continue;
        };
        if links.iter().any(|link| link.url == url) {
            continue;
        }
        links.push(DownloadLink {
            url,
            date: found[1].to_owned(),
        });
    }

    // A stable sort keeps page order among links of the same date.
    links.sort_by(|left, right| right.date.cmp(&left.date));
    links
}

fn link_pattern(cloud: Cloud) -> Regex {
    let pattern = format!(
        r"(?i)https://download\.microsoft\.com/download/[0-9a-z/\-]+?/ServiceTags_{}_(\d{{8}})\.json",
        cloud.file_word()
    );
    Regex::new(&pattern).expect("the link pattern is a valid regex")
}

/// Returns `link` with the scheme, host and port of `base`; the path of `base`, if
/// any, goes before the link's path.
pub fn rebase_download_url(link: &Url, base: &Url) -> Url {
    let mut rebased = base.clone();
    let path = format!("{}{}", base.path().trim_end_matches('/'), link.path());
    rebased.set_path(&path);
    rebased.set_query(link.query());
    rebased.set_fragment(None);
    rebased
}

/// Returns `url` as text without user name, password or fragment, and with the
/// values of credential-like query parameters (such as a signed URL's `sig`)
/// replaced by `REDACTED`, so they never reach a log, an error or a committed file.
pub(crate) fn display_url(url: &Url) -> String {
    const SECRET_WORDS: [&str; 6] = ["sig", "token", "key", "secret", "password", "credential"];

    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);

    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let lower = name.to_ascii_lowercase();
                let secret = SECRET_WORDS.iter().any(|word| lower.contains(word));
                let value = if secret { "REDACTED".into() } else { value };
                (name.into_owned(), value.into_owned())
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(links: &[DownloadLink]) -> Vec<&str> {
        links.iter().map(|link| link.url.as_str()).collect()
    }

    #[test]
    fn links_found_in_dlc_script_json() {
        let page = r#"<html><body><script>window.__DLCDetails__={"dlcDetailsView":{"downloadFile":[{"name":"ServiceTags_Public_20251103.json","url":"https:\/\/download.microsoft.com\/download\/7\/1\/d\/71d86715-5596-4529-9b13-da13a5de5b63\/ServiceTags_Public_20251103.json","version":"2025.11.03"}]}}</script></body></html>"#;

        let links = find_download_links(page, Cloud::Public);

        assert_eq!(
            urls(&links),
            [
                "https://download.microsoft.com/download/7/1/d/71d86715-5596-4529-9b13-da13a5de5b63/ServiceTags_Public_20251103.json"
            ]
        );
        assert_eq!(links[0].date, "20251103");
    }

    #[test]
    fn links_found_in_anchor() {
        let page = r#"<a href="https://download.microsoft.com/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20240701.json" class="mscom-link">click here to download manually</a>"#;

        let links = find_download_links(page, Cloud::Public);

        assert_eq!(
            urls(&links),
            [
                "https://download.microsoft.com/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20240701.json"
            ]
        );
    }

    #[test]
    fn links_unicode_escaped_slashes() {
        let page = r#""url":"https:\u002F\u002Fdownload.microsoft.com\u002Fdownload\u002F9\u002Fd\u002F0\u002Fabc\u002FServiceTags_China_20251020.json""#;

        let links = find_download_links(page, Cloud::China);

        assert_eq!(
            urls(&links),
            ["https://download.microsoft.com/download/9/d/0/abc/ServiceTags_China_20251020.json"]
        );
    }

    #[test]
    fn links_newest_first_deduplicated() {
        let page = r#"
            <a href="https://download.microsoft.com/download/7/1/d/guid/ServiceTags_Public_20251020.json">a</a>
            "url":"https:\/\/download.microsoft.com\/download\/7\/1\/d\/guid\/ServiceTags_Public_20251103.json"
            <a href="https://download.microsoft.com/download/7/1/d/guid/ServiceTags_Public_20251103.json">b</a>
            <a href="https://download.microsoft.com/download/7/1/d/guid/ServiceTags_Public_20251028.json">c</a>
        "#;

        let links = find_download_links(page, Cloud::Public);

        let dates: Vec<&str> = links.iter().map(|link| link.date.as_str()).collect();
        assert_eq!(dates, ["20251103", "20251028", "20251020"]);
    }

    #[test]
    fn links_match_any_letter_case() {
        let page = r#"HTTPS://DOWNLOAD.MICROSOFT.COM/DOWNLOAD/7/1/D/71D86715/SERVICETAGS_PUBLIC_20251103.JSON"#;

        let links = find_download_links(page, Cloud::Public);

        assert_eq!(links.len(), 1);
        assert_eq!(links[0].date, "20251103");
        assert_eq!(
            links[0].url.as_str(),
            "https://download.microsoft.com/DOWNLOAD/7/1/D/71D86715/SERVICETAGS_PUBLIC_20251103.JSON"
        );
    }

    #[test]
    fn links_of_other_clouds_ignored() {
        let page = r#"
            https://download.microsoft.com/download/6/4/d/guid/ServiceTags_AzureGovernment_20251020.json
            https://download.microsoft.com/download/9/d/0/guid/ServiceTags_China_20251020.json
        "#;

        assert!(find_download_links(page, Cloud::Public).is_empty());
        assert_eq!(find_download_links(page, Cloud::UsGov).len(), 1);
        assert_eq!(find_download_links(page, Cloud::China).len(), 1);
    }

    #[test]
    fn links_elsewhere_or_undated_ignored() {
        let page = r#"
            https://example.com/download/7/1/d/guid/ServiceTags_Public_20251103.json
            https://download.microsoft.com/download/7/1/d/guid/ServiceTags_Public_2025110.json
            https://download.microsoft.com/download/7/1/d/guid/ServiceTags_Public.json
            <p>File Name: ServiceTags_Public_20251103.json</p>
        "#;

        assert!(find_download_links(page, Cloud::Public).is_empty());
    }

    #[test]
    fn rebase_keeps_link_path() {
        let link = Url::parse(
            "https://download.microsoft.com/download/7/1/d/guid/ServiceTags_Public_20251103.json",
        )
        .unwrap();

        let plain = rebase_download_url(&link, &Url::parse("http://127.0.0.1:8080").unwrap());
        let nested =
            rebase_download_url(&link, &Url::parse("http://127.0.0.1:8080/mirror/").unwrap());

        assert_eq!(
            plain.as_str(),
            "http://127.0.0.1:8080/download/7/1/d/guid/ServiceTags_Public_20251103.json"
        );
        assert_eq!(
            nested.as_str(),
            "http://127.0.0.1:8080/mirror/download/7/1/d/guid/ServiceTags_Public_20251103.json"
        );
    }

    #[test]
    fn display_url_redacts_credentials() {
        let url = Url::parse(
            "https://me:pw@files.example/t.json?sv=2024&sig=abc%2F&X-Amz-Security-Token=t#part",
        )
        .unwrap();

        assert_eq!(
            display_url(&url),
            "https://files.example/t.json?sv=2024&sig=REDACTED&X-Amz-Security-Token=REDACTED"
        );
    }

    #[test]
    fn display_url_keeps_page_id() {
        let url =
            Url::parse("https://www.microsoft.com/en-us/download/details.aspx?id=56519").unwrap();

        assert_eq!(display_url(&url), url.as_str());
    }

    #[test]
    fn user_agent_reads_like_browser() {
        assert!(USER_AGENT.starts_with("Mozilla/5.0 "));
        assert!(!USER_AGENT.to_ascii_lowercase().contains("wget"));
        assert!(USER_AGENT.ends_with(concat!("ipsync/", env!("CARGO_PKG_VERSION"))));
    }
}
