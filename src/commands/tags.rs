//! `ipsync tags`: inspect a service tags file.

use std::io::Write as _;

use anyhow::Result;

use super::target::{fetcher, source_spec};
use super::{Context, Status};
use crate::cli::{TagsArgs, TagsFormat};
use crate::service_tags::{self, Cloud, ServiceTagsFile};

pub async fn run(context: &Context, args: TagsArgs) -> Result<Status> {
    let cloud: Cloud = args.cloud.parse()?;
    let spec = source_spec(
        cloud,
        args.service_tags_file.as_deref(),
        args.service_tags_url.as_deref(),
        args.download_page_url.as_deref(),
    )?;
    let fetched = fetcher(context)?.fetch(&spec, cloud).await?;
    let file = ServiceTagsFile::parse(&fetched.bytes, &fetched.meta)?;
    let summary = service_tags::summarize(&file, &fetched.meta, &args.tags);

    let rendered = match args.format {
        TagsFormat::Text => summary.render_text(),
        TagsFormat::Json => {
            let mut text = serde_json::to_string_pretty(&summary)?;
            text.push('\n');
            text
        }
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.as_bytes())?;
    stdout.flush()?;
    Ok(Status::Success)
}
