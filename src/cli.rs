//! Command-line arguments. Each flag that a workflow sets also reads an environment
//! variable, shown in `--help`; the flag wins when both are given.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::Format;

const ABOUT: &str = "Keep a Databricks IP access list in step with Azure service tags";

const LONG_ABOUT: &str = "\
Keep a Databricks IP access list in step with Azure service tags.

ipsync reads Microsoft's weekly service tags file (the `AzureActiveDirectory` tag by default, whose \
ranges Entra ID SCIM provisioning calls from), reads the live Databricks IP access list at account or \
workspace level, and shows or applies the difference. `plan` never writes to Databricks; `apply` backs \
the list up, writes it with PATCH and reads it back.

Exit status: 0 success (and no changes with --detailed-exitcode), 2 changes pending (plan with \
--detailed-exitcode), 1 any error or refusal.";

const AFTER_HELP: &str = "\
Examples:
  ipsync demo --service-tags-file ServiceTags_Public_20251103.json
  ipsync plan --host https://adb-123.4.azuredatabricks.net --list-label AzureActiveDirectory
  ipsync plan --host https://accounts.azuredatabricks.net --account-id <id> --out plan.json
  ipsync apply --plan plan.json
  ipsync tags --service-tags-file ServiceTags_Public_20251103.json --tag AzureActiveDirectory";

#[derive(Debug, Parser)]
#[command(name = "ipsync", version, about = ABOUT, long_about = LONG_ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub output: OutputArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail on stderr (repeat for debug logs)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to colour output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "IPSYNC_COLOR")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when the output is a terminal and `NO_COLOR` is unset
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what would change in the list (never writes to Databricks)
    Plan(PlanArgs),
    /// Apply a reviewed plan file, or plan and apply in one go
    Apply(ApplyArgs),
    /// Save the target list, exactly as the API returns it, to a file
    Backup(BackupArgs),
    /// Write a list saved by `backup` (or by `apply`) back to Databricks
    Restore(RestoreArgs),
    /// Inspect a service tags file: tags, prefix counts and changeNumbers
    Tags(TagsArgs),
    /// Run the local emulator of the Databricks IP access list API
    Emulate(EmulateArgs),
    /// Plan, apply and plan again against a built-in emulator
    Demo(DemoArgs),
    /// Show which Databricks authentication method and identity would be used
    Auth(AuthArgs),
}

/// The source of the desired ranges.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Source")]
pub struct SourceArgs {
    /// Azure cloud whose service tags to read: public, usgov or china
    #[arg(long, default_value = "public", env = "IPSYNC_CLOUD")]
    pub cloud: String,

    /// Service tag to allow, by exact name (repeatable; the variable takes a comma-separated list)
    #[arg(
        long = "tag",
        value_name = "NAME",
        env = "IPSYNC_TAGS",
        value_delimiter = ',',
        default_value = "AzureActiveDirectory"
    )]
    pub tags: Vec<String>,

    /// Read the service tags from this file instead of downloading it
    #[arg(
        long,
        value_name = "PATH",
        env = "IPSYNC_SERVICE_TAGS_FILE",
        conflicts_with = "service_tags_url"
    )]
    pub service_tags_file: Option<PathBuf>,

    /// Download the service tags file from this URL instead of discovering it
    #[arg(long, value_name = "URL", env = "IPSYNC_SERVICE_TAGS_URL")]
    pub service_tags_url: Option<String>,

    /// Microsoft download page to discover the newest file from (default: the cloud's page)
    #[arg(long, value_name = "URL", env = "IPSYNC_DOWNLOAD_PAGE_URL")]
    pub download_page_url: Option<String>,

    /// IPv4 range that must always be allowed, such as a runner's egress address (repeatable)
    #[arg(
        long = "include",
        value_name = "CIDR",
        env = "IPSYNC_INCLUDE",
        value_delimiter = ','
    )]
    pub include: Vec<String>,
}

/// The Databricks list to read and write.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Target")]
pub struct TargetArgs {
    /// Workspace URL, or the accounts console URL for the account API
    #[arg(long, value_name = "URL", env = "DATABRICKS_HOST")]
    pub host: Option<String>,

    /// Databricks account id (required for the account API)
    #[arg(long, value_name = "ID", env = "DATABRICKS_ACCOUNT_ID")]
    pub account_id: Option<String>,

    /// API to use; by default an `https://accounts.` host means account, any other host workspace
    #[arg(long, value_enum, env = "IPSYNC_SCOPE", ignore_case = true)]
    pub scope: Option<ScopeChoice>,

    /// Label of the list to keep in step (default: the first tag's name)
    #[arg(long, value_name = "LABEL", env = "IPSYNC_LIST_LABEL")]
    pub list_label: Option<String>,

    /// Id of the list to keep in step, when several lists share a label
    #[arg(long, value_name = "ID", env = "IPSYNC_LIST_ID")]
    pub list_id: Option<String>,

    /// Create the allow list when no list has the label [true|false]
    #[arg(long, env = "IPSYNC_CREATE_IF_MISSING", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub create_if_missing: bool,

    /// Profile of the Databricks configuration file to read host and credentials from
    #[arg(long, value_name = "NAME", env = "DATABRICKS_CONFIG_PROFILE")]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScopeChoice {
    Account,
    Workspace,
}

/// Overrides of the safety guards.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Guards")]
pub struct GuardArgs {
    /// Allow removing more than 10% of the list or 25 entries, whichever is larger [true|false]
    #[arg(long, env = "IPSYNC_ALLOW_LARGE_REMOVAL", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub allow_large_removal: bool,

    /// Allow a source whose tags are older than the ones last applied [true|false]
    #[arg(long, env = "IPSYNC_ALLOW_OLDER_SOURCE", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub allow_older_source: bool,
}

/// Settings of a run inside GitHub Actions.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "GitHub Actions")]
pub struct GitHubArgs {
    /// Under GitHub Actions, post the sticky comment and, for a plan, commit the audit trail
    /// and open the pull request (uses `GITHUB_TOKEN`) [true|false]
    #[arg(long, env = "IPSYNC_COMMENT", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "true",
          value_parser = parse_bool)]
    pub comment: bool,

    /// Under GitHub Actions, post the sticky comment even when the plan changes nothing [true|false]
    #[arg(long, env = "IPSYNC_COMMENT_WHEN_UNCHANGED", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub comment_when_unchanged: bool,
}

/// Locations of the audit trail.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "State")]
pub struct StateArgs {
    /// Folder with one subfolder per target: service-tags.json, backup.json, plan.json, applied.json
    #[arg(
        long,
        value_name = "DIR",
        default_value = "ipsync",
        env = "IPSYNC_STATE_DIR"
    )]
    pub state_dir: PathBuf,

    /// Folder for the backup taken before every write (default: the state folder)
    #[arg(long, value_name = "DIR", env = "IPSYNC_BACKUP_DIR")]
    pub backup_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub guards: GuardArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub github: GitHubArgs,

    /// Write the plan file (JSON) here, for `ipsync apply --plan`
    #[arg(long, value_name = "PATH", env = "IPSYNC_PLAN_OUT")]
    pub out: Option<PathBuf>,

    /// Format of the plan on stdout
    #[arg(long, value_enum, default_value_t = Format::Text, env = "IPSYNC_FORMAT", ignore_case = true)]
    pub format: Format,

    /// Write the service tags snapshot, the backup and the plan to the state folder [true|false]
    #[arg(long, env = "IPSYNC_SAVE_STATE", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub save_state: bool,

    /// Exit with 2 when there are changes and 0 when there are none [true|false]
    #[arg(long, env = "IPSYNC_DETAILED_EXITCODE", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub guards: GuardArgs,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub github: GitHubArgs,

    /// Under GitHub Actions, allow apply on a default branch without protection [true|false]
    #[arg(long, env = "IPSYNC_ALLOW_UNPROTECTED", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool, help_heading = "Guards")]
    pub allow_unprotected: bool,

    /// Apply this reviewed plan file instead of computing a new plan (under GitHub Actions
    /// the default is the plan committed in the state folder)
    #[arg(long, value_name = "PATH", env = "IPSYNC_PLAN")]
    pub plan: Option<PathBuf>,

    /// Apply without asking, even on a terminal [true|false]
    #[arg(long, short = 'y', env = "IPSYNC_YES", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// File to write the list to (JSON, as the API returns it)
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub target: TargetArgs,

    /// Backup file written by `ipsync backup` or `ipsync apply`
    #[arg(long, value_name = "PATH")]
    pub from: PathBuf,

    #[command(flatten)]
    pub state: StateArgs,

    /// Restore without asking, even on a terminal [true|false]
    #[arg(long, short = 'y', env = "IPSYNC_YES", value_name = "BOOL", num_args = 0..=1,
          require_equals = true, default_missing_value = "true", default_value = "false",
          value_parser = parse_bool)]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct TagsArgs {
    /// Azure cloud whose service tags to read: public, usgov or china
    #[arg(long, default_value = "public", env = "IPSYNC_CLOUD")]
    pub cloud: String,

    /// Show only these tags (repeatable); by default every tag is listed
    #[arg(long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,

    /// Read the service tags from this file instead of downloading it
    #[arg(
        long,
        value_name = "PATH",
        env = "IPSYNC_SERVICE_TAGS_FILE",
        conflicts_with = "service_tags_url"
    )]
    pub service_tags_file: Option<PathBuf>,

    /// Download the service tags file from this URL instead of discovering it
    #[arg(long, value_name = "URL", env = "IPSYNC_SERVICE_TAGS_URL")]
    pub service_tags_url: Option<String>,

    /// Microsoft download page to discover the newest file from (default: the cloud's page)
    #[arg(long, value_name = "URL", env = "IPSYNC_DOWNLOAD_PAGE_URL")]
    pub download_page_url: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = TagsFormat::Text)]
    pub format: TagsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TagsFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// Address to listen on; use port 0 for any free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// Bearer token the emulator accepts, like a personal access token
    #[arg(
        long,
        value_name = "TOKEN",
        env = "IPSYNC_EMULATOR_TOKEN",
        hide_env_values = true
    )]
    pub token: String,

    /// OAuth client id for the emulator's token endpoints
    #[arg(long, value_name = "ID", requires = "client_secret")]
    pub client_id: Option<String>,

    /// OAuth client secret for the emulator's token endpoints
    #[arg(
        long,
        value_name = "SECRET",
        env = "IPSYNC_EMULATOR_CLIENT_SECRET",
        hide_env_values = true,
        requires = "client_id"
    )]
    pub client_secret: Option<String>,

    /// Address the emulator treats as the caller's, for the lockout check and the IP ACL block
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub caller_ip: Ipv4Addr,

    /// Load the lists from this file at start and save them after every change
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Use this service tags file instead of downloading the current one from Microsoft
    #[arg(long, value_name = "PATH")]
    pub service_tags_file: Option<PathBuf>,

    /// Microsoft download page to discover the current file from
    #[arg(long, value_name = "URL", env = "IPSYNC_DOWNLOAD_PAGE_URL")]
    pub download_page_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Boolean variables with the action input that sets each, checked before the arguments are
/// parsed so that an error names the input and the variable rather than the flag.
pub const BOOLEAN_VARIABLES: &[(&str, &str)] = &[
    ("IPSYNC_CREATE_IF_MISSING", "create-if-missing"),
    ("IPSYNC_ALLOW_LARGE_REMOVAL", "allow-large-removal"),
    ("IPSYNC_ALLOW_OLDER_SOURCE", "allow-older-source"),
    ("IPSYNC_ALLOW_UNPROTECTED", "allow-unprotected"),
    ("IPSYNC_DETAILED_EXITCODE", "detailed-exitcode"),
    ("IPSYNC_COMMENT", "comment"),
    ("IPSYNC_COMMENT_WHEN_UNCHANGED", "comment-when-unchanged"),
    ("IPSYNC_SAVE_STATE", "save-state"),
    ("IPSYNC_YES", "yes"),
];

/// Parses a boolean that must be spelled `true` or `false`, as flags, variables and action inputs all are.
pub fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(format!("expected `true` or `false`, found `{other}`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bool_flag_takes_optional_value() {
        let cli =
            Cli::try_parse_from(["ipsync", "apply", "--yes", "--create-if-missing=false"]).unwrap();
        let Command::Apply(args) = cli.command else {
            panic!("expected apply")
        };

        assert!(args.yes);
        assert!(!args.target.create_if_missing);
    }

    #[test]
    fn bool_flag_rejects_other_spellings() {
        let error = Cli::try_parse_from(["ipsync", "apply", "--yes=yes"]).unwrap_err();

        assert!(
            error
                .to_string()
                .contains("expected `true` or `false`, found `yes`"),
            "{error}"
        );
    }

    #[test]
    fn tags_repeat_and_default() {
        let cli = Cli::try_parse_from(["ipsync", "plan", "--tag", "A", "--tag", "B"]).unwrap();
        let Command::Plan(args) = cli.command else {
            panic!("expected plan")
        };
        assert_eq!(args.source.tags, ["A", "B"]);

        let cli = Cli::try_parse_from(["ipsync", "plan"]).unwrap();
        let Command::Plan(args) = cli.command else {
            panic!("expected plan")
        };
        assert_eq!(args.source.tags, ["AzureActiveDirectory"]);
    }
}
