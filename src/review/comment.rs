//! Bodies of the sticky comments that ipsync keeps on a tracking issue or pull request.
//!
//! Pure text: no I/O. Each body starts with a hidden marker naming the target, so the next run
//! finds the same comment and edits it instead of posting another. GitHub rejects comment,
//! issue and pull request bodies of 65,536 characters or more, so long bodies are cut at a
//! line boundary, with any open code fence or `<details>` block closed and a link to the
//! committed files appended.

/// GitHub's limit on a comment, issue or pull request body, in characters.
pub const GITHUB_BODY_LIMIT: usize = 65_536;

/// Returns the hidden marker that identifies the comment of one target.
pub fn marker(slug: &str) -> String {
    format!("<!-- ipsync:target={slug} -->")
}

/// Returns the web address of the folder holding a target's committed files on a branch.
pub fn files_url(
    server_url: &str,
    repository: &str,
    branch: &str,
    state_dir: &str,
    slug: &str,
) -> String {
    let folder = state_dir.trim_matches('/');
    format!(
        "{}/{repository}/tree/{branch}/{folder}/{slug}",
        server_url.trim_end_matches('/')
    )
}

/// Builds the body of a plan comment: the plan itself and, when one exists, the pull request.
pub fn plan_content(markdown: &str, pull_request_url: Option<&str>) -> String {
    let mut content = String::new();
    if let Some(url) = pull_request_url {
        content.push_str(&format!(
            "Review and merge {url} to apply this change; the files it commits are the audit trail.\n\n"
        ));
    }
    content.push_str(markdown.trim_end());
    content.push('\n');
    content
}

/// Builds the note left when the target list matches the source again.
pub fn in_sync_content(label: &str) -> String {
    format!(
        "### ipsync: `{label}` is in sync\n\nThe live list matches the selected service tags; nothing to change.\n"
    )
}

/// Builds the body reporting an apply that went through.
pub fn apply_content(markdown: &str) -> String {
    format!("### ipsync: applied\n\n{}\n", markdown.trim_end())
}

/// Builds the body reporting a refused `command` (`plan` or `apply`), with the reason first.
pub fn refusal_content(command: &str, reason: &str, markdown: Option<&str>) -> String {
    let mut content = format!("### ipsync: {command} refused\n\n> {reason}\n");
    if let Some(markdown) = markdown {
        content.push('\n');
        content.push_str(markdown.trim_end());
        content.push('\n');
    }
    content
}

/// Puts the marker first and cuts the body to stay under [`GITHUB_BODY_LIMIT`].
pub fn sticky_body(slug: &str, content: &str, files_url: &str) -> String {
    let body = format!("{}\n{content}", marker(slug));
    cut(&body, GITHUB_BODY_LIMIT - 1, files_url)
}

/// Cuts `body` to at most `limit` characters at a line boundary, closing an open code fence and
/// open `<details>` blocks, and ending with a link to `files_url`. Shorter bodies are returned
/// unchanged.
pub fn cut(body: &str, limit: usize, files_url: &str) -> String {
    if body.chars().count() <= limit {
        return body.to_owned();
    }

    let notice = format!(
        "\n---\n\n**This comment was cut to fit GitHub's limit of 65,536 characters.** \
         The complete files are at {files_url}\n"
    );
    let notice_chars = notice.chars().count();

    let mut kept = String::new();
    let mut kept_chars = 0;
    let mut block = BlockState::default();
    for line in body.split_inclusive('\n') {
        let mut next = block;
        next.read(line);
        let line_chars = line.chars().count() + usize::from(!line.ends_with('\n'));
        if kept_chars + line_chars + next.closing_chars() + notice_chars > limit {
            break;
        }
        kept.push_str(line);
        if !line.ends_with('\n') {
            kept.push('\n');
        }
        kept_chars += line_chars;
        block = next;
    }

    kept.push_str(&block.closing());
    kept.push_str(&notice);
    kept
}

/// Markdown blocks left open at a point of the body.
#[derive(Debug, Clone, Copy, Default)]
struct BlockState {
    in_fence: bool,
    open_details: usize,
}

impl BlockState {
    fn read(&mut self, line: &str) {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            self.in_fence = !self.in_fence;
            return;
        }
        if self.in_fence {
            return;
        }
        self.open_details += trimmed.matches("<details>").count();
        self.open_details = self
            .open_details
            .saturating_sub(trimmed.matches("</details>").count());
    }

    fn closing(&self) -> String {
        let mut closing = String::new();
        if self.in_fence {
            closing.push_str("```\n");
        }
        for _ in 0..self.open_details {
            closing.push_str("</details>\n");
        }
        closing
    }

    fn closing_chars(&self) -> usize {
        self.closing().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://github.com/example-org/infra/tree/ipsync/prod/ipsync/prod";

    #[test]
    fn sticky_body_starts_with_marker() {
        let body = sticky_body("prod", "hello\n", URL);

        assert_eq!(body, "<!-- ipsync:target=prod -->\nhello\n");
    }

    #[test]
    fn cut_leaves_short_body() {
        assert_eq!(cut("a\nb\n", 10, URL), "a\nb\n");
    }

    #[test]
    fn cut_closes_fence_and_details() {
        let mut body = String::from("<!-- ipsync:target=prod -->\n<details>\n\n```diff\n");
        for i in 0..5000 {
            body.push_str(&format!("+ 10.{}.{}.0/24\n", i / 256, i % 256));
        }
        body.push_str("```\n</details>\n");

        let cut_body = cut(&body, GITHUB_BODY_LIMIT - 1, URL);

        assert!(cut_body.chars().count() < GITHUB_BODY_LIMIT);
        assert!(cut_body.starts_with("<!-- ipsync:target=prod -->\n<details>\n"));
        assert!(cut_body.ends_with(&format!("The complete files are at {URL}\n")));
        assert!(
            cut_body.contains("\n```\n</details>\n\n---\n"),
            "fence and details are closed"
        );
        assert_eq!(cut_body.matches("```").count(), 2);
        let body_lines: Vec<&str> = body.lines().collect();
        for line in cut_body.lines().take_while(|line| {
            line.starts_with('+')
                || line.starts_with('<')
                || line.starts_with('`')
                || line.is_empty()
        }) {
            assert!(
                body_lines.contains(&line),
                "line `{line}` is cut in the middle"
            );
        }
    }

    #[test]
    fn cut_respects_exact_limit() {
        let body = "line one\nline two\nline three\n".repeat(20);

        let cut_body = cut(&body, 300, "u");

        assert!(
            cut_body.chars().count() <= 300,
            "{}",
            cut_body.chars().count()
        );
        assert!(cut_body.starts_with("line one\nline two\n"));
    }

    #[test]
    fn bodies_match_snapshots() {
        let plan = sticky_body(
            "prod",
            &plan_content(
                "## ipsync plan\n\n2 to add, 1 to remove\n",
                Some("https://github.com/example-org/infra/pull/1"),
            ),
            URL,
        );
        let in_sync = sticky_body("prod", &in_sync_content("ipsync-azure"), URL);
        let applied = sticky_body("prod", &apply_content("Added 2 entries, removed 1.\n"), URL);
        let refused = sticky_body(
            "prod",
            &refusal_content(
                "apply",
                "refused by the `drift` guard: list `ipsync-azure` changed since the plan was made",
                Some("## ipsync plan\n"),
            ),
            URL,
        );
        let cut_body = cut(&"+ 10.0.0.0/24\n".repeat(40), 400, URL);

        insta::assert_snapshot!("plan_comment", plan);
        insta::assert_snapshot!("in_sync_comment", in_sync);
        insta::assert_snapshot!("apply_comment", applied);
        insta::assert_snapshot!("refusal_comment", refused);
        insta::assert_snapshot!("cut_comment", cut_body);
    }

    #[test]
    fn files_url_joins_parts() {
        assert_eq!(
            files_url(
                "https://github.com/",
                "example-org/infra",
                "ipsync/prod",
                "/ipsync/",
                "prod"
            ),
            URL
        );
    }
}
