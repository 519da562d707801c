//! IPv4 prefixes as Databricks IP access lists store them, and sets of them.
//!
//! Databricks accepts an IPv4 address (`10.0.0.1`, which means `/32`) or an IPv4
//! CIDR block (`10.0.0.0/24`) in `ip_addresses`. The service does not promise to
//! normalise what it stores, so ipsync compares prefixes, never raw strings:
//! `10.0.0.1/24` and `10.0.0.0/24` are the same entry once parsed.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 network in canonical form: host bits are always zero.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ipv4Prefix(Ipv4Net);

/// Why an entry is not a valid IPv4 prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    #[error("`{0}` is an IPv6 prefix, and Databricks IP access lists accept IPv4 only")]
    Ipv6(String),
    #[error("`{0}` is not an IPv4 address or CIDR block (expected `a.b.c.d` or `a.b.c.d/len`)")]
    Invalid(String),
    #[error("`{0}` has a prefix length over 32")]
    LengthOutOfRange(String),
}

/// The result of parsing one entry: the prefix and whether its host bits were cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParsedPrefix {
    pub prefix: Ipv4Prefix,
    /// True when the text had host bits set, such as `10.0.0.1/24`.
    pub host_bits_cleared: bool,
}

impl Ipv4Prefix {
    /// Builds a prefix, clearing any host bits.
    pub fn new(address: Ipv4Addr, len: u8) -> Result<Self, PrefixError> {
        let net = Ipv4Net::new(address, len)
            .map_err(|_| PrefixError::LengthOutOfRange(format!("{address}/{len}")))?;
        Ok(Self(net.trunc()))
    }

    pub fn network(&self) -> Ipv4Addr {
        self.0.network()
    }

    /// Prefix length in bits. A prefix is never empty, so there is no `is_empty`.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Number of addresses the prefix admits.
    pub fn address_count(&self) -> u64 {
        1u64 << (32 - u32::from(self.len()))
    }

    /// True when every address of `other` is inside `self`.
    pub fn contains(&self, other: &Ipv4Prefix) -> bool {
        self.0.contains(&other.0)
    }

    pub fn contains_address(&self, address: Ipv4Addr) -> bool {
        self.0.contains(&address)
    }

    /// Parses one entry strictly, reporting whether host bits had to be cleared.
    ///
    /// Accepted: `a.b.c.d` (a `/32`) and `a.b.c.d/len` with `len` from 0 to 32 in
    /// plain decimal; surrounding whitespace is ignored. Octets with leading zeros,
    /// signs, empty parts and anything else are rejected with the entry quoted.
    pub fn parse_entry(entry: &str) -> Result<ParsedPrefix, PrefixError> {
        let text = entry.trim();
        if text.contains(':') {
            return Err(PrefixError::Ipv6(text.to_owned()));
        }

        let (address_text, len) = match text.split_once('/') {
            None => (text, 32),
            Some((address_text, len_text)) => (address_text, parse_length(text, len_text)?),
        };
        // `Ipv4Addr::from_str` already rejects leading zeros, signs and short forms.
        let address =
            Ipv4Addr::from_str(address_text).map_err(|_| PrefixError::Invalid(text.to_owned()))?;

        let prefix = Self::new(address, len)?;
        Ok(ParsedPrefix {
            prefix,
            host_bits_cleared: prefix.network() != address,
        })
    }
}

fn parse_length(entry: &str, len_text: &str) -> Result<u8, PrefixError> {
    let canonical_digits = !len_text.is_empty()
        && len_text.len() <= 2
        && len_text.bytes().all(|byte| byte.is_ascii_digit())
        && !(len_text.len() > 1 && len_text.starts_with('0'));
    if !canonical_digits {
        return Err(PrefixError::Invalid(entry.to_owned()));
    }

    let len: u8 = len_text
        .parse()
        .map_err(|_| PrefixError::Invalid(entry.to_owned()))?;
    if len > 32 {
        return Err(PrefixError::LengthOutOfRange(entry.to_owned()));
    }
    Ok(len)
}

impl FromStr for Ipv4Prefix {
    type Err = PrefixError;

    /// Parses an entry, silently clearing host bits. Use [`Ipv4Prefix::parse_entry`]
    /// where the caller must warn about them.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse_entry(text).map(|parsed| parsed.prefix)
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.network(), self.0.prefix_len())
    }
}

impl fmt::Debug for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Ipv4Prefix {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ipv4Prefix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Returns the smallest list of prefixes that admits exactly the same addresses.
///
/// Adjacent prefixes merge (`10.0.0.0/25` + `10.0.0.128/25` → `10.0.0.0/24`) and
/// nested ones disappear into the wider one. The result is sorted.
pub fn aggregate(prefixes: &[Ipv4Prefix]) -> Vec<Ipv4Prefix> {
    let nets: Vec<Ipv4Net> = prefixes.iter().map(|prefix| prefix.0).collect();
    let mut merged: Vec<Ipv4Prefix> = Ipv4Net::aggregate(&nets)
        .into_iter()
        .map(Ipv4Prefix)
        .collect();
    merged.sort();
    merged
}

/// Entries of one list that need no place of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redundancy {
    /// Prefixes that occur more than once, with how many times each occurs.
    pub duplicates: Vec<(Ipv4Prefix, usize)>,
    /// Prefixes inside a wider prefix of the same list, with the wider one.
    pub covered: Vec<(Ipv4Prefix, Ipv4Prefix)>,
}

impl Redundancy {
    pub fn is_empty(&self) -> bool {
        self.duplicates.is_empty() && self.covered.is_empty()
    }
}

/// Finds duplicates and prefixes covered by a wider prefix in the same list.
pub fn find_redundancy(prefixes: &[Ipv4Prefix]) -> Redundancy {
    let mut counts: BTreeMap<Ipv4Prefix, usize> = BTreeMap::new();
    for prefix in prefixes {
        *counts.entry(*prefix).or_default() += 1;
    }
    let duplicates = counts
        .iter()
        .filter(|(_, count)| **count > 1)
        .map(|(prefix, count)| (*prefix, *count))
        .collect();

    // Sorted by network address and then by length, a covering prefix always
    // comes before what it covers, so one pass with the widest open prefix finds
    // every covered entry.
    let mut covered = Vec::new();
    let mut widest: Option<Ipv4Prefix> = None;
    for prefix in counts.keys() {
        match widest {
            Some(wider) if wider.contains(prefix) => covered.push((*prefix, wider)),
            _ => widest = Some(*prefix),
        }
    }

    Redundancy {
        duplicates,
        covered,
    }
}

/// Returns the prefixes sorted, with duplicates and covered entries removed.
///
/// The admitted addresses are unchanged; adjacent prefixes are left as they are.
pub fn remove_redundant(prefixes: &[Ipv4Prefix]) -> Vec<Ipv4Prefix> {
    let mut sorted = prefixes.to_vec();
    sorted.sort();
    sorted.dedup();

    let mut kept: Vec<Ipv4Prefix> = Vec::with_capacity(sorted.len());
    for prefix in sorted {
        match kept.last() {
            Some(last) if last.contains(&prefix) => {}
            _ => kept.push(prefix),
        }
    }
    kept
}

/// True when some prefix in `list` contains `address`.
pub fn admits(list: &[Ipv4Prefix], address: Ipv4Addr) -> bool {
    list.iter().any(|prefix| prefix.contains_address(address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(text: &str) -> Ipv4Prefix {
        text.parse().unwrap()
    }

    #[test]
    fn parse_bare_address_is_slash_32() {
        let parsed = Ipv4Prefix::parse_entry("20.190.128.1").unwrap();

        assert_eq!(parsed.prefix.to_string(), "20.190.128.1/32");
        assert!(!parsed.host_bits_cleared);
    }

    #[test]
    fn parse_trims_whitespace() {
        assert_eq!(prefix(" \t10.1.0.0/16\n").to_string(), "10.1.0.0/16");
    }

    #[test]
    fn parse_clears_host_bits_and_says_so() {
        let parsed = Ipv4Prefix::parse_entry("2.2.2.2/21").unwrap();

        assert_eq!(parsed.prefix.to_string(), "2.2.0.0/21");
        assert!(parsed.host_bits_cleared);
    }

    #[test]
    fn parse_accepts_extreme_lengths() {
        assert_eq!(prefix("0.0.0.0/0").address_count(), 1 << 32);
        assert_eq!(prefix("255.255.255.255/32").address_count(), 1);
        assert_eq!(prefix("10.0.0.0/8").address_count(), 16_777_216);
    }

    #[test]
    fn parse_rejects_malformed_entries() {
        let cases = [
            "",
            "   ",
            "10.0.0",
            "10.0.0.0.0",
            "10.0.0.256",
            "010.0.0.1",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "10.0.0.0/08",
            "10.0.0.0/8/8",
            "10.0.0.0 /8",
            "ten.0.0.0/8",
            "10.0.0.0/-1",
            "any",
        ];
        for case in cases {
            let error = Ipv4Prefix::parse_entry(case).unwrap_err();
            assert!(
                matches!(error, PrefixError::Invalid(_)),
                "`{case}` gave {error:?}"
            );
        }
    }

    #[test]
    fn parse_rejects_length_over_32_quoting_entry() {
        let error = Ipv4Prefix::parse_entry("10.0.0.0/33").unwrap_err();

        assert_eq!(error, PrefixError::LengthOutOfRange("10.0.0.0/33".into()));
        assert_eq!(
            error.to_string(),
            "`10.0.0.0/33` has a prefix length over 32"
        );
    }

    #[test]
    fn parse_identifies_ipv6() {
        let error = Ipv4Prefix::parse_entry("2603:1006:2000::/48").unwrap_err();

        assert_eq!(error, PrefixError::Ipv6("2603:1006:2000::/48".into()));
    }

    #[test]
    fn ordering_is_by_address_then_length() {
        let mut prefixes = [
            prefix("10.0.0.0/24"),
            prefix("9.0.0.0/8"),
            prefix("10.0.0.0/16"),
        ];
        prefixes.sort();

        let texts: Vec<String> = prefixes.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["9.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24"]);
    }

    #[test]
    fn aggregate_merges_adjacent_and_nested() {
        let merged = aggregate(&[
            prefix("10.0.0.128/25"),
            prefix("10.0.0.0/25"),
            prefix("10.0.0.7"),
            prefix("192.168.1.0/24"),
            prefix("192.168.0.0/24"),
            prefix("172.16.0.0/24"),
        ]);

        let texts: Vec<String> = merged.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["10.0.0.0/24", "172.16.0.0/24", "192.168.0.0/23"]);
    }

    #[test]
    fn aggregate_keeps_unalignable_neighbours_apart() {
        // 10.0.1.0/24 and 10.0.2.0/24 are adjacent but do not form a /23.
        let merged = aggregate(&[prefix("10.0.1.0/24"), prefix("10.0.2.0/24")]);

        assert_eq!(merged.len(), 2);
    }

    #[test]
    fn redundancy_reports_duplicates_and_covered() {
        let found = find_redundancy(&[
            prefix("10.0.0.0/16"),
            prefix("10.0.3.0/24"),
            prefix("10.0.3.1"),
            prefix("8.8.8.8"),
            prefix("8.8.8.8/32"),
            prefix("11.0.0.0/24"),
        ]);

        assert_eq!(found.duplicates, vec![(prefix("8.8.8.8/32"), 2)]);
        assert_eq!(
            found.covered,
            vec![
                (prefix("10.0.3.0/24"), prefix("10.0.0.0/16")),
                (prefix("10.0.3.1/32"), prefix("10.0.0.0/16")),
            ]
        );
    }

    #[test]
    fn remove_redundant_keeps_widest() {
        let kept = remove_redundant(&[
            prefix("10.0.3.0/24"),
            prefix("10.0.0.0/16"),
            prefix("10.0.0.0/16"),
            prefix("10.1.0.0/24"),
        ]);

        assert_eq!(kept, vec![prefix("10.0.0.0/16"), prefix("10.1.0.0/24")]);
    }

    #[test]
    fn admits_checks_every_prefix() {
        let list = [prefix("10.0.0.0/8"), prefix("192.0.2.7")];

        assert!(admits(&list, "10.200.1.1".parse().unwrap()));
        assert!(admits(&list, "192.0.2.7".parse().unwrap()));
        assert!(!admits(&list, "192.0.2.8".parse().unwrap()));
    }

    #[test]
    fn serde_round_trip_uses_canonical_text() {
        let json = serde_json::to_string(&prefix("10.0.0.9/30")).unwrap();
        assert_eq!(json, "\"10.0.0.8/30\"");

        let back: Ipv4Prefix = serde_json::from_str(&json).unwrap();
        assert_eq!(back, prefix("10.0.0.8/30"));
    }
}
