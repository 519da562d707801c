//! The Azure clouds that publish a service tags file, and where each one publishes it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use url::Url;

/// An Azure cloud with its own service tags file and `changeNumber` sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Public,
    UsGov,
    China,
}

/// A `--cloud` value that names no known cloud.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cloud `{0}`: expected one of `public`, `usgov`, `china`")]
pub struct InvalidCloud(pub String);

impl Cloud {
    pub const ALL: [Cloud; 3] = [Cloud::Public, Cloud::UsGov, Cloud::China];

    /// Returns the value accepted by `--cloud`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::UsGov => "usgov",
            Cloud::China => "china",
        }
    }

    /// Returns the word in the file name (`ServiceTags_<word>_YYYYMMDD.json`), which is also
    /// the value of the file's top-level `cloud` field.
    pub fn file_word(self) -> &'static str {
        match self {
            Cloud::Public => "Public",
            Cloud::UsGov => "AzureGovernment",
            Cloud::China => "China",
        }
    }

    /// Returns the cloud whose files carry `word` in their `cloud` field.
    pub fn from_file_word(word: &str) -> Option<Cloud> {
        Cloud::ALL
            .into_iter()
            .find(|cloud| cloud.file_word() == word)
    }

    /// Returns the Microsoft Download Center id of the page that links the current file.
    pub fn download_page_id(self) -> u32 {
        match self {
            Cloud::Public => 56519,
            Cloud::UsGov => 57063,
            Cloud::China => 57062,
        }
    }

    /// Returns the Microsoft Download Center page that links the current file.
    pub fn download_page_url(self) -> Url {
        let text = format!(
            "https://www.microsoft.com/en-us/download/details.aspx?id={}",
            self.download_page_id()
        );
        Url::parse(&text).expect("the download page URL is a valid constant")
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Cloud {
    type Err = InvalidCloud;

    /// Parses a `--cloud` value, ignoring ASCII case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Cloud::ALL
            .into_iter()
            .find(|cloud| cloud.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| InvalidCloud(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_each_cloud() {
        assert_eq!("public".parse(), Ok(Cloud::Public));
        assert_eq!("usgov".parse(), Ok(Cloud::UsGov));
        assert_eq!("china".parse(), Ok(Cloud::China));
        assert_eq!("Public".parse(), Ok(Cloud::Public));
    }

    #[test]
    fn parse_rejects_unknown_listing_valid_values() {
        let error = "germany".parse::<Cloud>().unwrap_err();

        assert_eq!(
            error.to_string(),
            "invalid cloud `germany`: expected one of `public`, `usgov`, `china`"
        );
    }

    #[test]
    fn download_pages_per_cloud() {
        assert_eq!(
            Cloud::Public.download_page_url().as_str(),
            "https://www.microsoft.com/en-us/download/details.aspx?id=56519"
        );
        assert_eq!(
            Cloud::UsGov.download_page_url().as_str(),
            "https://www.microsoft.com/en-us/download/details.aspx?id=57063"
        );
        assert_eq!(
            Cloud::China.download_page_url().as_str(),
            "https://www.microsoft.com/en-us/download/details.aspx?id=57062"
        );
    }

    #[test]
    fn file_words_round_trip() {
        assert_eq!(Cloud::UsGov.file_word(), "AzureGovernment");
        for cloud in Cloud::ALL {
            assert_eq!(Cloud::from_file_word(cloud.file_word()), Some(cloud));
        }
        assert_eq!(Cloud::from_file_word("AzureGermany"), None);
    }

    #[test]
    fn serde_uses_cli_values() {
        assert_eq!(serde_json::to_string(&Cloud::UsGov).unwrap(), "\"usgov\"");
    }
}
