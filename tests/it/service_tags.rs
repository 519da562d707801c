//! Service tags on Microsoft's real files, and page discovery and downloads
//! against a local HTTP server.
//!
//! Expected values were computed with Python 3 (`json`, `ipaddress`, `hashlib`)
//! from the fixture files, independently of ipsync:
//! sorted-IPv4 digests are sha256 of the sorted networks joined by `\n`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use ipsync::service_tags::{
    self, Cloud, Fetcher, Selection, ServiceTagsFile, SourceError, SourceMeta, SourceSpec,
    USER_AGENT,
};
use sha2::{Digest, Sha256};
use url::Url;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

/// The service tags fixture folder, or `None` (after saying so) when it is
/// missing outside CI. `IPSYNC_FIXTURES_DIR` names the fixtures root that contains
/// `service-tags/`.
fn fixtures_dir() -> Option<PathBuf> {
    let root = std::env::var_os("IPSYNC_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    let dir = root.join("service-tags");
    if dir.is_dir() {
        return Some(dir);
    }

    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "service tags fixtures not found at `{}`; set IPSYNC_FIXTURES_DIR",
        dir.display()
    );
    eprintln!(
        "skipping: service tags fixtures not found at `{}`",
        dir.display()
    );
    None
}

/// A fixture parsed once for the whole test run, because parsing a 4 MB file
/// in a debug build takes most of a second.
struct Parsed {
    meta: SourceMeta,
    file: ServiceTagsFile<'static>,
}

fn parsed(name: &'static str) -> Option<&'static Parsed> {
    static CACHE: Mutex<BTreeMap<&str, &Parsed>> = Mutex::new(BTreeMap::new());

    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = cache.get(name) {
        return Some(found);
    }
    let (path, bytes) = fixture(name)?;
    let bytes: &'static [u8] = Vec::leak(bytes);
    let meta = SourceMeta::for_file(&path, bytes);
    let file = ServiceTagsFile::parse(bytes, &meta).unwrap();
    let entry: &'static Parsed = Box::leak(Box::new(Parsed { meta, file }));
    cache.insert(name, entry);
    Some(entry)
}

fn fixture(name: &str) -> Option<(PathBuf, Vec<u8>)> {
    let path = fixtures_dir()?.join(name);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("failed to read fixture `{}`: {error}", path.display()));
    Some((path, bytes))
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn select_from(name: &'static str, tags: &[&str]) -> Option<Selection> {
    let Parsed { meta, file } = parsed(name)?;
    Some(service_tags::select(file, meta, Cloud::Public, &strings(tags)).unwrap())
}

fn sorted_digest(selection: &Selection) -> String {
    let lines: Vec<String> = selection
        .desired_prefixes()
        .iter()
        .map(ToString::to_string)
        .collect();
    hex::encode(Sha256::digest(lines.join("\n")))
}

const FILE_20240701: &str = "ServiceTags_Public_20240701.json";
const FILE_20251006: &str = "ServiceTags_Public_20251006.json";
const FILE_20251013: &str = "ServiceTags_Public_20251013.json";
const FILE_20251028: &str = "ServiceTags_Public_20251028.json";
const FILE_20251103: &str = "ServiceTags_Public_20251103.json";

/// File name, top-level changeNumber, tag count, sha256 of the bytes.
const FIXTURES: [(&str, u64, usize, &str); 5] = [
    (
        FILE_20240701,
        313,
        2604,
        "6eb73ee7ae59c9f0668b7449e06a19703ea4c7c40853ed8c6d49b739e43c7faa",
    ),
    (
        FILE_20251006,
        372,
        3039,
        "2bf2be78781cf653a5964eed38654be1431eb3231b03f0b2c5ad8892f7cc0045",
    ),
    (
        FILE_20251013,
        373,
        3039,
        "f7bebcb16a44bef1324495f600f804f432c319838559ce0837a4af50145f407f",
    ),
    (
        FILE_20251028,
        375,
        3039,
        "9cb4e5f9371cec1297b05a6f5d742768921a28bd854a3a9cbd80673a6399dc40",
    ),
    (
        FILE_20251103,
        376,
        3041,
        "5efcd36dd443c9f9d2a5aa10bd7e38ce07abae518ec5ea936581602271554c16",
    ),
];

#[test]
fn fixtures_header_and_hash() {
    for (name, change_number, tag_count, sha256) in FIXTURES {
        let Some(Parsed { meta, file }) = parsed(name) else {
            return;
        };

        assert_eq!(meta.file_name, name);
        assert_eq!(meta.sha256, sha256, "{name}");
        assert_eq!(file.change_number, change_number, "{name}");
        assert_eq!(file.cloud, "Public", "{name}");
        assert_eq!(file.values.len(), tag_count, "{name}");
    }
}

#[test]
fn active_directory_20240701() {
    let Some(selection) = select_from(FILE_20240701, &["AzureActiveDirectory"]) else {
        return;
    };

    let tag = &selection.tags[0];
    assert_eq!(selection.change_number, 313);
    assert_eq!(tag.change_number, 17);
    assert_eq!(tag.system_service, "AzureAD");
    assert_eq!(tag.region, "");
    assert_eq!(tag.ipv4.len(), 181);
    assert_eq!(tag.ipv6_dropped.len(), 14);
    assert!(tag.host_bits_cleared.is_empty());
    let sorted = selection.desired_prefixes();
    assert_eq!(sorted.first().unwrap().to_string(), "4.149.98.192/27");
    assert_eq!(sorted.last().unwrap().to_string(), "191.233.204.160/27");
    assert_eq!(
        sorted_digest(&selection),
        "b9cc93b83c57dcf2a3972051ca04cefbeded19b4b6206684634cd43e009a286f"
    );
}

#[test]
fn active_directory_20251006() {
    let Some(selection) = select_from(FILE_20251006, &["AzureActiveDirectory"]) else {
        return;
    };

    let tag = &selection.tags[0];
    assert_eq!(selection.change_number, 372);
    assert_eq!(tag.change_number, 26);
    assert_eq!(tag.ipv4.len(), 200);
    assert_eq!(tag.ipv6_dropped.len(), 16);
    assert_eq!(tag.ipv4[0].to_string(), "4.149.98.192/27");
    let sorted = selection.desired_prefixes();
    assert_eq!(sorted.last().unwrap().to_string(), "191.234.147.0/26");
    assert_eq!(
        sorted_digest(&selection),
        "99b6895aa704fe9254f441bf003ba6dd400a4972ba8992c1e36247b87e347c1e"
    );
}

#[test]
fn active_directory_unchanged_since_20251006() {
    for name in [FILE_20251013, FILE_20251028, FILE_20251103] {
        let Some(selection) = select_from(name, &["AzureActiveDirectory"]) else {
            return;
        };

        let tag = &selection.tags[0];
        assert_eq!(tag.change_number, 26, "{name}");
        assert_eq!(tag.ipv4.len(), 200, "{name}");
        assert_eq!(tag.ipv6_dropped.len(), 16, "{name}");
        assert_eq!(
            sorted_digest(&selection),
            "99b6895aa704fe9254f441bf003ba6dd400a4972ba8992c1e36247b87e347c1e",
            "{name}"
        );
    }
}

#[test]
fn databricks_counts_per_file() {
    // File, tag changeNumber, IPv4, IPv6, sorted-IPv4 digest.
    let cases = [
        (
            FILE_20240701,
            31,
            322,
            68,
            "b366070f49d8b4453119def17ea5b14f7cae74fa8b6c21ff248b279e9f1b3ed8",
        ),
        (
            FILE_20251006,
            49,
            557,
            88,
            "5e4e93db61bcd21e7cddbd5525555b246b71c9557888187fd7ea602274010ff6",
        ),
        (
            FILE_20251013,
            50,
            558,
            89,
            "e421e3edcc09dff6e1d0ce4100ea47ae6bd2513f0158879867252de143d8f1f6",
        ),
        (
            FILE_20251103,
            50,
            558,
            89,
            "e421e3edcc09dff6e1d0ce4100ea47ae6bd2513f0158879867252de143d8f1f6",
        ),
    ];
    for (name, change_number, ipv4, ipv6, digest) in cases {
        let Some(selection) = select_from(name, &["AzureDatabricks"]) else {
            return;
        };

        let tag = &selection.tags[0];
        assert_eq!(tag.change_number, change_number, "{name}");
        assert_eq!(tag.system_service, "AzureDatabricks", "{name}");
        assert_eq!(tag.ipv4.len(), ipv4, "{name}");
        assert_eq!(tag.ipv6_dropped.len(), ipv6, "{name}");
        assert_eq!(sorted_digest(&selection), digest, "{name}");
    }
}

#[test]
fn westeurope_20251028_and_20251103() {
    let cases = [
        (
            FILE_20251028,
            168,
            418,
            "a46e17bfd2cef20a3870f136fef2e348c978bd35cf5a9373709729d271d8c8fe",
        ),
        (
            FILE_20251103,
            169,
            417,
            "9f80333bdcbef09c94da5ae203f867bb81fa244a34942d4e0c608f32d6ad0b24",
        ),
    ];
    for (name, change_number, ipv4, digest) in cases {
        let Some(selection) = select_from(name, &["AzureCloud.westeurope"]) else {
            return;
        };

        let tag = &selection.tags[0];
        assert_eq!(tag.change_number, change_number, "{name}");
        assert_eq!(tag.region, "westeurope", "{name}");
        assert_eq!(tag.system_service, "", "{name}");
        assert_eq!(tag.ipv4.len(), ipv4, "{name}");
        assert_eq!(tag.ipv6_dropped.len(), 44, "{name}");
        assert_eq!(sorted_digest(&selection), digest, "{name}");
    }
}

#[test]
fn union_of_two_tags_20251006() {
    // AzureActiveDirectory and AzureDatabricks share no IPv4 prefix: 200 + 557.
    let Some(selection) = select_from(FILE_20251006, &["AzureActiveDirectory", "AzureDatabricks"])
    else {
        return;
    };

    assert_eq!(selection.desired_prefixes().len(), 757);
    assert_eq!(
        sorted_digest(&selection),
        "77009e49b1f08a9f0f3369530c995269c81cb361d7fa4b700e5a4c1bb62bcf66"
    );
}

#[test]
fn snapshot_matches_original_tags() {
    let Some(Parsed { meta, file }) = parsed(FILE_20251103) else {
        return;
    };
    let names = strings(&["AzureDatabricks", "AzureActiveDirectory"]);
    let selection = service_tags::select(file, meta, Cloud::Public, &names).unwrap();

    let snapshot: serde_json::Value = serde_json::from_str(&selection.snapshot_json()).unwrap();

    // The original file read as plain JSON, without ipsync's model.
    let (_, bytes) = fixture(FILE_20251103).unwrap();
    let original: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let original_tag = |name: &str| {
        original["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|tag| tag["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(snapshot["changeNumber"], 376);
    assert_eq!(snapshot["cloud"], "Public");
    assert_eq!(snapshot["values"][0], original_tag("AzureDatabricks"));
    assert_eq!(snapshot["values"][1], original_tag("AzureActiveDirectory"));
    assert_eq!(snapshot["values"].as_array().unwrap().len(), 2);
    assert_eq!(
        snapshot["ipsync_source"]["sha256"],
        "5efcd36dd443c9f9d2a5aa10bd7e38ce07abae518ec5ea936581602271554c16"
    );
    assert_eq!(snapshot["ipsync_source"]["url"], serde_json::Value::Null);
    assert_eq!(snapshot["ipsync_source"]["tags"][1]["change_number"], 26);
    assert_eq!(selection.snapshot_json(), selection.snapshot_json());
}

#[test]
fn summary_of_fixture() {
    let Some(Parsed { meta, file }) = parsed(FILE_20251103) else {
        return;
    };

    let summary = service_tags::summarize(file, meta, &strings(&["AzureActiveDirectory"]));

    assert_eq!(summary.tag_count, 3041);
    assert_eq!(summary.change_number, 376);
    let names: Vec<&str> = summary.tags.iter().map(|tag| tag.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "AzureActiveDirectory",
            "AzureActiveDirectoryDomainServices",
            "AzureActiveDirectory.ServiceEndpoint"
        ]
    );
    assert_eq!(summary.tags[0].ipv4_count, 200);
    assert_eq!(summary.tags[0].ipv6_count, 16);
    assert_eq!(summary.tags[1].ipv4_count, 100);
    assert_eq!(summary.tags[1].ipv6_count, 1);
}

#[test]
fn missing_tag_suggests_real_names() {
    let Some(Parsed { meta, file }) = parsed(FILE_20251103) else {
        return;
    };

    let error = service_tags::select(
        file,
        meta,
        Cloud::Public,
        &strings(&["AzureCloud.WestEurope"]),
    )
    .unwrap_err();

    let SourceError::TagsNotFound { missing, .. } = error else {
        panic!("expected TagsNotFound, got {error:?}");
    };
    assert_eq!(missing[0].suggestions[0], "AzureCloud.westeurope");
}

// Page discovery and downloads against a local server.

const PAGE_PATH: &str = "/en-us/download/details.aspx";
const FILE_PATH_20251103: &str =
    "/download/7/1/d/71d86715-5596-4529-9b13-da13a5de5b63/ServiceTags_Public_20251103.json";

fn page_url(server: &MockServer) -> Url {
    Url::parse(&format!("{}{PAGE_PATH}?id=56519", server.uri())).unwrap()
}

fn fetcher(server: &MockServer) -> Fetcher {
    let client = service_tags::http_client(Duration::from_secs(30)).unwrap();
    Fetcher::new(client).with_download_base_override(Some(Url::parse(&server.uri()).unwrap()))
}

/// Builds a page shaped like the Download Center in 2025: the link sits in script JSON
/// with escaped slashes.
fn dlc_page(file_name: &str) -> String {
    format!(
        r#"<!DOCTYPE html><html><head><title>Download Azure IP Ranges and Service Tags – Public Cloud from Official Microsoft Download Center</title></head><body><div id="root"></div><script>window.__DLCDetails__={{"dlcDetailsView":{{"downloadTitle":"Azure IP Ranges and Service Tags – Public Cloud","downloadFile":[{{"name":"{file_name}","url":"https:\/\/download.microsoft.com\/download\/7\/1\/d\/71d86715-5596-4529-9b13-da13a5de5b63\/{file_name}","size":"4327404","version":"2025.11.03","datePublished":"11\/6\/2025 4:13:46 PM"}}]}}}}</script></body></html>"#
    )
}

/// Matches ipsync's whole User-Agent. wiremock's `header` matcher splits values
/// at commas, and the agent contains one.
struct SendsUserAgent;

impl Match for SendsUserAgent {
    fn matches(&self, request: &Request) -> bool {
        request
            .headers
            .get("user-agent")
            .is_some_and(|value| value.as_bytes() == USER_AGENT.as_bytes())
    }
}

async fn serve_page(server: &MockServer, body: String) {
    Mock::given(method("GET"))
        .and(path(PAGE_PATH))
        .and(query_param("id", "56519"))
        .and(SendsUserAgent)
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/html; charset=utf-8"))
        .expect(1)
        .mount(server)
        .await;
}

async fn serve_file(server: &MockServer, file_path: &str, response: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path(file_path))
        .respond_with(response)
        .expect(1)
        .mount(server)
        .await;
}

fn json_body(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, "application/octet-stream")
}

#[tokio::test]
async fn discovery_dlc_script_page() {
    let Some((_, bytes)) = fixture(FILE_20251103) else {
        return;
    };
    let server = MockServer::start().await;
    serve_page(&server, dlc_page("ServiceTags_Public_20251103.json")).await;
    serve_file(&server, FILE_PATH_20251103, json_body(bytes)).await;

    let spec = SourceSpec::DownloadPage(page_url(&server));
    let selection = service_tags::load(
        &spec,
        Cloud::Public,
        &strings(&["AzureActiveDirectory"]),
        &fetcher(&server),
    )
    .await
    .unwrap();

    assert_eq!(selection.change_number, 376);
    assert_eq!(selection.file_name, "ServiceTags_Public_20251103.json");
    assert_eq!(
        selection.url,
        Some(format!("{}{FILE_PATH_20251103}", server.uri()))
    );
    assert_eq!(
        selection.sha256,
        "5efcd36dd443c9f9d2a5aa10bd7e38ce07abae518ec5ea936581602271554c16"
    );
    assert_eq!(selection.tags[0].ipv4.len(), 200);
}

#[tokio::test]
async fn discovery_anchor_page() {
    let Some((_, bytes)) = fixture(FILE_20240701) else {
        return;
    };
    let file_path =
        "/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20240701.json";
    let page = format!(
        r#"<html><body><a href="https://download.microsoft.com{file_path}" class="mscom-link failoverLink">click here to download manually</a></body></html>"#
    );
    let server = MockServer::start().await;
    serve_page(&server, page).await;
    serve_file(&server, file_path, json_body(bytes)).await;

    let spec = SourceSpec::DownloadPage(page_url(&server));
    let selection = service_tags::load(
        &spec,
        Cloud::Public,
        &strings(&["AzureActiveDirectory"]),
        &fetcher(&server),
    )
    .await
    .unwrap();

    assert_eq!(selection.change_number, 313);
    assert_eq!(selection.file_name, "ServiceTags_Public_20240701.json");
    assert_eq!(selection.tags[0].ipv4.len(), 181);
}

#[tokio::test]
async fn discovery_newest_of_several() {
    let Some((_, bytes)) = fixture(FILE_20251103) else {
        return;
    };
    let older =
        "/download/7/1/d/71d86715-5596-4529-9b13-da13a5de5b63/ServiceTags_Public_20251028.json";
    let page = format!(
        r#"<a href="https://download.microsoft.com{older}">previous</a>
        <a href="HTTPS://Download.Microsoft.COM{FILE_PATH_20251103}">current</a>
        <a href="https://download.microsoft.com/download/7/1/d/71d86715-5596-4529-9b13-da13a5de5b63/ServiceTags_Public_20251013.json">older</a>"#
    );
    let server = MockServer::start().await;
    serve_page(&server, page).await;
    serve_file(&server, FILE_PATH_20251103, json_body(bytes)).await;
    Mock::given(path(older))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;

    let fetched = fetcher(&server)
        .fetch(&SourceSpec::DownloadPage(page_url(&server)), Cloud::Public)
        .await
        .unwrap();

    assert_eq!(fetched.meta.file_name, "ServiceTags_Public_20251103.json");
    assert_eq!(
        fetched.meta.sha256,
        "5efcd36dd443c9f9d2a5aa10bd7e38ce07abae518ec5ea936581602271554c16"
    );
}

#[tokio::test]
async fn discovery_without_link_fails() {
    let server = MockServer::start().await;
    let page = "<html><body><p>File Name: ServiceTags_Public_20251103.json</p></body></html>";
    serve_page(&server, page.to_owned()).await;

    let error = fetcher(&server)
        .fetch(&SourceSpec::DownloadPage(page_url(&server)), Cloud::Public)
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "no `ServiceTags_Public_YYYYMMDD.json` download link found on \
             `{}{PAGE_PATH}?id=56519`; \
             Microsoft may have changed the page, so pass the file's URL with \
             `--service-tags-url` or a downloaded copy with `--service-tags-file`",
            server.uri()
        )
    );
}

#[tokio::test]
async fn discovery_html_instead_of_json() {
    let server = MockServer::start().await;
    serve_page(&server, dlc_page("ServiceTags_Public_20251103.json")).await;
    let error_page = "<!DOCTYPE html>\n<html><head><title>Access Denied</title></head><body>Reference #18</body></html>";
    serve_file(
        &server,
        FILE_PATH_20251103,
        ResponseTemplate::new(200).set_body_raw(error_page, "text/html"),
    )
    .await;

    let error = service_tags::load(
        &SourceSpec::DownloadPage(page_url(&server)),
        Cloud::Public,
        &strings(&["AzureActiveDirectory"]),
        &fetcher(&server),
    )
    .await
    .unwrap_err();

    assert!(
        matches!(&error, SourceError::HtmlInsteadOfJson { title: Some(title), .. } if title == "Access Denied"),
        "{error:?}"
    );
}

#[tokio::test]
async fn download_truncated_json() {
    let Some((_, bytes)) = fixture(FILE_20251006) else {
        return;
    };
    let cut = bytes[..1_000_000].to_vec();
    let server = MockServer::start().await;
    serve_file(&server, "/tags.json", json_body(cut)).await;

    let spec = SourceSpec::Url(Url::parse(&format!("{}/tags.json", server.uri())).unwrap());
    let error = service_tags::load(
        &spec,
        Cloud::Public,
        &strings(&["AzureActiveDirectory"]),
        &fetcher(&server),
    )
    .await
    .unwrap_err();

    assert!(
        matches!(
            error,
            SourceError::TruncatedJson {
                bytes: 1_000_000,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn download_wrong_cloud() {
    let Some((_, bytes)) = fixture(FILE_20251103) else {
        return;
    };
    let server = MockServer::start().await;
    serve_file(
        &server,
        "/ServiceTags_AzureGovernment_20251103.json",
        json_body(bytes),
    )
    .await;

    let url = format!("{}/ServiceTags_AzureGovernment_20251103.json", server.uri());
    let error = service_tags::load(
        &SourceSpec::Url(Url::parse(&url).unwrap()),
        Cloud::UsGov,
        &strings(&["AzureActiveDirectory"]),
        &fetcher(&server),
    )
    .await
    .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "`{url}` contains service tags for cloud `Public`, but cloud `usgov` \
             (`AzureGovernment`) was requested; pass `--cloud public` or a file of the \
             requested cloud"
        )
    );
}

#[tokio::test]
async fn page_not_found() {
    let server = MockServer::start().await;
    Mock::given(path(PAGE_PATH))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;

    let error = fetcher(&server)
        .fetch(&SourceSpec::DownloadPage(page_url(&server)), Cloud::Public)
        .await
        .unwrap_err();

    assert!(
        matches!(error, SourceError::HttpStatus { status: 404, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("failed with HTTP status 404"));
}

#[tokio::test]
async fn file_server_error() {
    let server = MockServer::start().await;
    serve_page(&server, dlc_page("ServiceTags_Public_20251103.json")).await;
    serve_file(&server, FILE_PATH_20251103, ResponseTemplate::new(500)).await;

    let error = fetcher(&server)
        .fetch(&SourceSpec::DownloadPage(page_url(&server)), Cloud::Public)
        .await
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "downloading `{}{FILE_PATH_20251103}` failed with HTTP status 500; the server \
             failed, so run again later",
            server.uri()
        )
    );
}

#[tokio::test]
async fn body_over_limit_rejected() {
    let server = MockServer::start().await;
    serve_file(&server, "/big.json", json_body(vec![b' '; 4096])).await;

    let spec = SourceSpec::Url(Url::parse(&format!("{}/big.json", server.uri())).unwrap());
    let error = fetcher(&server)
        .with_max_body_bytes(1024)
        .fetch(&spec, Cloud::Public)
        .await
        .unwrap_err();

    assert!(
        matches!(error, SourceError::BodyTooLarge { limit: 1024, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn connection_refused_names_url() {
    // Bind a port, then free it, so nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let url = Url::parse(&format!("http://{address}/tags.json")).unwrap();
    let client = service_tags::http_client(Duration::from_secs(5)).unwrap();

    let error = Fetcher::new(client)
        .fetch(&SourceSpec::Url(url), Cloud::Public)
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            SourceError::Request {
                timed_out: false,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with(&format!("failed to download `http://{address}/tags.json`"))
    );
}

#[tokio::test]
async fn local_file_source() {
    let Some((path, _)) = fixture(FILE_20251028) else {
        return;
    };
    let client = service_tags::http_client(Duration::from_secs(5)).unwrap();

    let selection = service_tags::load(
        &SourceSpec::File(path),
        Cloud::Public,
        &strings(&["AzureCloud.westeurope"]),
        &Fetcher::new(client),
    )
    .await
    .unwrap();

    assert_eq!(selection.url, None);
    assert_eq!(selection.file_name, FILE_20251028);
    assert_eq!(selection.change_number, 375);
    assert_eq!(selection.tags[0].ipv4.len(), 418);
}

#[tokio::test]
async fn missing_local_file() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("ServiceTags_Public_20990101.json");
    let client = service_tags::http_client(Duration::from_secs(5)).unwrap();

    let error = Fetcher::new(client)
        .fetch(&SourceSpec::File(path.clone()), Cloud::Public)
        .await
        .unwrap_err();

    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "failed to read service tags file `{}`: ",
            path.display()
        )),
        "{message}"
    );
    assert!(message.ends_with("check the path given to `--service-tags-file`"));
}

#[tokio::test]
async fn summary_through_download_page() {
    let Some((_, bytes)) = fixture(FILE_20251103) else {
        return;
    };
    let server = MockServer::start().await;
    serve_page(&server, dlc_page("ServiceTags_Public_20251103.json")).await;
    serve_file(&server, FILE_PATH_20251103, json_body(bytes)).await;

    let summary = service_tags::load_summary(
        &SourceSpec::DownloadPage(page_url(&server)),
        Cloud::Public,
        &strings(&["AzureDatabricks"]),
        &fetcher(&server),
    )
    .await
    .unwrap();

    assert_eq!(summary.file_name, "ServiceTags_Public_20251103.json");
    assert_eq!(summary.tag_count, 3041);
    assert_eq!(summary.tags.len(), 1);
    assert_eq!(summary.tags[0].change_number, 50);
    assert_eq!(summary.tags[0].ipv4_count, 558);
    assert_eq!(summary.tags[0].ipv6_count, 89);
}

#[tokio::test]
async fn discovery_defaults_to_found_link() {
    let server = MockServer::start().await;
    serve_page(&server, dlc_page("ServiceTags_Public_20251103.json")).await;
    let client = service_tags::http_client(Duration::from_secs(30)).unwrap();

    // `discover` only reads the page, so nothing is sent to the linked host.
    let link = Fetcher::new(client)
        .discover(&page_url(&server), Cloud::Public)
        .await
        .unwrap();

    assert_eq!(
        link.as_str(),
        format!("https://download.microsoft.com{FILE_PATH_20251103}")
    );
}

#[test]
fn snapshot_ignores_line_endings() {
    // 20251028 uses LF and 20251103 CRLF; AzureActiveDirectory is the same in both.
    let Some(lf) = select_from(FILE_20251028, &["AzureActiveDirectory"]) else {
        return;
    };
    let Some(crlf) = select_from(FILE_20251103, &["AzureActiveDirectory"]) else {
        return;
    };

    let lf_values = serde_json::to_value(lf.snapshot().values).unwrap();
    let crlf_values = serde_json::to_value(crlf.snapshot().values).unwrap();

    assert_eq!(lf_values, crlf_values);
    assert_ne!(lf.sha256, crlf.sha256);
}
