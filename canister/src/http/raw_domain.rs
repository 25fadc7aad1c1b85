//! Raw domains reach the canister without any gateway having verified the
//! response. We refuse them outright instead of serving unverified bytes.

/// Gateway domains whose `<id>.raw.<domain>` form skips verification.
const RAW_SUFFIXES: [&str; 5] = [
    ".raw.icp0.io",
    ".raw.ic0.app",
    ".raw.icp-api.io",
    ".raw.internetcomputer.org",
    ".raw.localhost",
];

/// The host part of a `Host` header value: lowercased, without port or
/// trailing dot.
pub fn normalize_host(value: &str) -> String {
    let value = value.trim();
    let host = if let Some(bracketed) = value.strip_prefix('[') {
        // An IPv6 literal: never a raw domain, keep it whole.
        bracketed.split(']').next().unwrap_or_default()
    } else {
        value.split(':').next().unwrap_or_default()
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// When `host` (normalized) is a raw domain, the certified domain that
/// serves the same canister, for the error message.
pub fn certified_alternative(host: &str) -> Option<String> {
    RAW_SUFFIXES.iter().find_map(|suffix| {
        let id = host.strip_suffix(suffix)?;
        (!id.is_empty()).then(|| format!("{id}.{}", &suffix[".raw.".len()..]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_is_normalized() {
        assert_eq!(normalize_host("ABC.Raw.ICP0.io.:443"), "abc.raw.icp0.io");
        assert_eq!(normalize_host("[::1]:8080"), "::1");
        assert_eq!(normalize_host("localhost:4943"), "localhost");
    }

    #[test]
    fn raw_hosts_map_to_their_certified_domain() {
        assert_eq!(
            certified_alternative("abc.raw.icp0.io").as_deref(),
            Some("abc.icp0.io")
        );
        assert_eq!(
            certified_alternative("abc.raw.localhost").as_deref(),
            Some("abc.localhost")
        );
        assert_eq!(certified_alternative("abc.icp0.io"), None);
        assert_eq!(certified_alternative("raw.icp0.io"), None);
        assert_eq!(certified_alternative("example.com"), None);
    }
}
