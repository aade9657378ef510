//! The operator's exceptions to the guard (`OUTBOUND_ALLOWLIST`).

use std::net::IpAddr;

use ipnet::IpNet;

use crate::address::is_internal;

/// Which internal addresses outbound calls may reach anyway: CIDRs, and host names whose
/// every address is allowed. The default allows none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    networks: Vec<IpNet>,
    host_names: Vec<String>,
}

impl OutboundPolicy {
    /// Parses `OUTBOUND_ALLOWLIST`: comma-separated CIDRs (`10.1.0.0/16`, `fd00::/8`), single
    /// addresses (`127.0.0.1`) and host names (`localhost`, `wiki.internal`); blanks are
    /// ignored. The error names the entry that is none of these.
    pub fn parse(allowlist: &str) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in allowlist.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            if let Ok(network) = entry.parse::<IpNet>() {
                policy.networks.push(network.trunc());
            } else if let Ok(ip) = entry.parse::<IpAddr>() {
                policy.networks.push(IpNet::from(ip));
            } else if let Some(host) = host_name(entry) {
                policy.host_names.push(host);
            } else {
                return Err(format!(
                    "OUTBOUND_ALLOWLIST: `{entry}` is neither a CIDR, an IP address nor a host name"
                ));
            }
        }
        Ok(policy)
    }

    /// Whether a call may connect to `ip`: a public address, or one inside an allowed CIDR
    /// (an IPv4-mapped IPv6 address matches the CIDRs of its IPv4 address too).
    pub fn allows_address(&self, ip: IpAddr) -> bool {
        !is_internal(ip) || self.is_listed(ip) || self.is_listed(ip.to_canonical())
    }

    /// Whether `host` (as written in the URL) is an allowed host name, so every address it
    /// resolves to may be reached.
    pub fn allows_host_name(&self, host: &str) -> bool {
        let host = normalize(host);
        self.host_names.contains(&host)
    }

    fn is_listed(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|network| network.contains(&ip))
    }
}

/// `entry` as a host name (lowercase, no trailing dot), if it is one: ASCII labels of
/// letters, digits and hyphens, the last one not all digits (that would be an IPv4 address).
fn host_name(entry: &str) -> Option<String> {
    let host = normalize(entry);
    let labels: Vec<&str> = host.split('.').collect();
    let valid_label = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let last_numeric = labels
        .last()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()));
    (host.len() <= 253 && labels.iter().all(valid_label) && !last_numeric).then_some(host)
}

fn normalize(host: &str) -> String {
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an IP address")
    }

    #[test]
    fn the_default_allows_no_internal_address() {
        let policy = OutboundPolicy::default();
        assert_eq!(OutboundPolicy::parse("").expect("empty parses"), policy);
        assert_eq!(OutboundPolicy::parse(" , ").expect("blanks parse"), policy);
        assert!(!policy.allows_address(ip("127.0.0.1")));
        assert!(!policy.allows_address(ip("169.254.169.254")));
        assert!(policy.allows_address(ip("1.1.1.1")));
        assert!(!policy.allows_host_name("localhost"));
    }

    #[test]
    fn cidrs_addresses_and_host_names_are_allowed() {
        let policy =
            OutboundPolicy::parse("127.0.0.1/32, 10.1.0.0/16,fd00::/8 , 192.168.1.7,Wiki.Internal.").expect("parses");
        assert!(policy.allows_address(ip("127.0.0.1")));
        assert!(!policy.allows_address(ip("127.0.0.2")));
        assert!(policy.allows_address(ip("10.1.200.3")));
        assert!(!policy.allows_address(ip("10.2.0.1")));
        assert!(policy.allows_address(ip("fd00::1")));
        assert!(!policy.allows_address(ip("fc00::1")));
        assert!(policy.allows_address(ip("192.168.1.7")));
        assert!(!policy.allows_address(ip("192.168.1.8")));
        assert!(
            policy.allows_address(ip("::ffff:127.0.0.1")),
            "a mapped address matches its IPv4 CIDR"
        );
        assert!(policy.allows_host_name("wiki.internal"));
        assert!(policy.allows_host_name("WIKI.internal."));
        assert!(!policy.allows_host_name("other.internal"));
        assert!(!policy.allows_host_name("internal"));
    }

    #[test]
    fn host_bits_of_a_cidr_are_ignored() {
        let policy = OutboundPolicy::parse("10.1.2.3/16").expect("parses");
        assert!(policy.allows_address(ip("10.1.99.99")));
    }

    #[test]
    fn a_bad_entry_is_named() {
        for bad in [
            "10.0.0.0/33",
            "*.example.com",
            "http://x.example",
            "10.0.0",
            "a..b",
            "-x.example",
            "fd00::/200",
        ] {
            let err = OutboundPolicy::parse(&format!("127.0.0.1/32, {bad} ,localhost")).expect_err(bad);
            assert!(err.contains(&format!("`{bad}`")), "{err} names {bad}");
            assert!(err.contains("OUTBOUND_ALLOWLIST"), "{err}");
        }
    }
}
