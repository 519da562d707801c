//! Resolving the target list and the source ranges from flags, the environment and profiles.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use url::Url;

use super::{Context, Status};
use crate::auth;
use crate::cli::{AuthArgs, ScopeChoice, SourceArgs, TargetArgs};
use crate::databricks::{self, Client, ClientConfig, Scope, ScopeKind};
use crate::prefix::Ipv4Prefix;
use crate::service_tags::{self, Cloud, Fetcher, Selection, SourceSpec};

/// Timeout of each request to Microsoft's servers.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(120);

/// A connected target: the client and what names the list.
pub struct Target {
    pub client: Client,
    pub host: Url,
    pub scope: Scope,
    pub label: String,
    pub list_id: Option<String>,
}

/// Resolves host, scope and credentials and builds the Databricks client.
///
/// Flags win over environment variables (clap reads those), which win over the
/// Databricks configuration profile.
pub async fn connect(context: &Context, args: &TargetArgs, default_label: &str) -> Result<Target> {
    let (host, scope) = resolve_host_and_scope(context, args)?;

    let inputs = auth_inputs(context, args, &host, &scope)?;
    let credentials = auth::resolve(&context.env, &inputs, auth_http_client()?)?;
    let client = Client::new(ClientConfig::new(host.clone(), scope.clone(), credentials))?;

    Ok(Target {
        client,
        host,
        scope,
        label: args
            .list_label
            .clone()
            .unwrap_or_else(|| default_label.to_owned()),
        list_id: args.list_id.clone(),
    })
}

/// Resolves the host and the API scope from flags, the environment and the profile.
pub fn resolve_host_and_scope(context: &Context, args: &TargetArgs) -> Result<(Url, Scope)> {
    let profile = auth::load_profile(&context.env, args.profile.as_deref())?;
    let host_text = args
        .host
        .clone()
        .or_else(|| profile.as_ref().and_then(|profile| profile.host().map(str::to_owned)))
        .context("no Databricks host given: set `--host` or `DATABRICKS_HOST` (or `host` in a configuration profile)")?;
    let host = databricks::validate_host(&host_text)?;
    let account_id = args.account_id.clone().or_else(|| {
        profile
            .as_ref()
            .and_then(|profile| profile.account_id().map(str::to_owned))
    });
    let forced = args.scope.map(|scope| match scope {
        ScopeChoice::Account => ScopeKind::Account,
        ScopeChoice::Workspace => ScopeKind::Workspace,
    });
    let scope = databricks::infer_scope(&host, account_id.as_deref(), forced)?;
    Ok((host, scope))
}

/// Builds the source specification from `--service-tags-file`, `--service-tags-url` or page discovery.
pub fn source_spec(
    cloud: Cloud,
    file: Option<&std::path::Path>,
    url: Option<&str>,
    page: Option<&str>,
) -> Result<SourceSpec> {
    if let Some(path) = file {
        return Ok(SourceSpec::File(path.to_owned()));
    }
    if let Some(url) = url {
        let url =
            Url::parse(url).with_context(|| format!("invalid `--service-tags-url` `{url}`"))?;
        return Ok(SourceSpec::Url(url));
    }
    match page {
        Some(page) => {
            let page = Url::parse(page)
                .with_context(|| format!("invalid `--download-page-url` `{page}`"))?;
            Ok(SourceSpec::DownloadPage(page))
        }
        None => Ok(SourceSpec::default_for(cloud)),
    }
}

/// Builds the fetcher for Microsoft's servers, honouring `IPSYNC_DOWNLOAD_BASE_URL`
/// (a mirror of download.microsoft.com, also used by tests).
pub fn fetcher(context: &Context) -> Result<Fetcher> {
    let base = match context.env.get("IPSYNC_DOWNLOAD_BASE_URL") {
        Some(text) => Some(
            Url::parse(text)
                .with_context(|| format!("invalid `IPSYNC_DOWNLOAD_BASE_URL` `{text}`"))?,
        ),
        None => None,
    };
    Ok(
        Fetcher::new(service_tags::http_client(DOWNLOAD_TIMEOUT)?)
            .with_download_base_override(base),
    )
}

/// The desired ranges: the selected tags and the `--include` ranges.
#[derive(Debug, Clone)]
pub struct Source {
    pub selection: Selection,
    pub include: Vec<Ipv4Prefix>,
}

/// Fetches the service tags, selects the tags and parses `--include`.
pub async fn load_source(context: &Context, args: &SourceArgs) -> Result<Source> {
    let include = parse_include(&args.include)?;
    let cloud: Cloud = args.cloud.parse()?;
    let spec = source_spec(
        cloud,
        args.service_tags_file.as_deref(),
        args.service_tags_url.as_deref(),
        args.download_page_url.as_deref(),
    )?;
    let tags: Vec<String> = args
        .tags
        .iter()
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| !tag.is_empty())
        .collect();
    if tags.is_empty() {
        bail!(
            "no service tag given: name at least one with `--tag` (for example `--tag AzureActiveDirectory`)"
        );
    }

    let selection = service_tags::load(&spec, cloud, &tags, &fetcher(context)?).await?;
    Ok(Source { selection, include })
}

/// Parses `--include` values; the variable form may separate them with commas, spaces or newlines.
pub fn parse_include(values: &[String]) -> Result<Vec<Ipv4Prefix>> {
    let mut include = Vec::new();
    for entry in values
        .iter()
        .flat_map(|value| value.split([',', ' ', '\n', '\r', '\t']))
    {
        if entry.is_empty() {
            continue;
        }
        let parsed = Ipv4Prefix::parse_entry(entry)
            .with_context(|| format!("invalid `--include` range `{entry}`"))?;
        if parsed.host_bits_cleared {
            tracing::warn!(
                "`--include` range `{entry}` has host bits set; using `{}`",
                parsed.prefix
            );
        }
        include.push(parsed.prefix);
    }
    Ok(include)
}

fn auth_inputs(
    context: &Context,
    args: &TargetArgs,
    host: &Url,
    scope: &Scope,
) -> Result<auth::AuthInputs> {
    Ok(auth::AuthInputs {
        host: host.clone(),
        scope: scope.clone(),
        profile: args.profile.clone(),
        endpoints: auth::AuthEndpoints::from_env(&context.env)?,
        github_actions: context.env.get("GITHUB_ACTIONS") == Some("true"),
    })
}

/// Builds the HTTP client for token endpoints without redirects, so credentials never follow one to another host.
fn auth_http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("ipsync/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("failed to build the HTTP client for token requests")
}

/// `ipsync auth`: shows the method and identity that would be used, and tries to get a token.
pub async fn describe_auth(context: &Context, args: AuthArgs) -> Result<Status> {
    let (host, scope) = resolve_host_and_scope(context, &args.target)?;
    let inputs = auth_inputs(context, &args.target, &host, &scope)?;
    let report = auth::describe(&context.env, &inputs, auth_http_client()?).await;
    print!("{}", report.render_text());
    if !report.token_obtained {
        bail!(
            "no token could be obtained with the settings above: {}",
            report.error.as_deref().unwrap_or("no error was reported")
        );
    }
    Ok(Status::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_accepts_any_separator() {
        let parsed =
            parse_include(&["203.0.113.7, 198.51.100.0/24\n192.0.2.0/28".to_owned()]).unwrap();

        let texts: Vec<String> = parsed.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["203.0.113.7/32", "198.51.100.0/24", "192.0.2.0/28"]);
    }

    #[test]
    fn include_rejects_bad_entry_naming_it() {
        let error = parse_include(&["10.0.0.0/33".to_owned()]).unwrap_err();

        assert_eq!(
            format!("{error:#}"),
            "invalid `--include` range `10.0.0.0/33`: `10.0.0.0/33` has a prefix length over 32"
        );
    }
}
