//! Raw domains reach the canister without any gateway having verified the
//! response. We refuse them outright instead of serving unverified bytes.
//!
//! Every HTTP gateway names the raw form of a base domain the same way,
//! `<canister id>.raw.<base domain>` (`icp0.io`, `ic0.app`, `icp.net`,
//! `icp-api.io`, `internetcomputer.org`, `localhost`, ...), so the rule is
//! that shape, not a list: any host whose second label is `raw`. A base
//! domain a gateway adds later is covered without a release. What no rule
//! in the canister can catch is a custom domain that a gateway serves raw
//! under a name of the owner's choosing; none does today.

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
    let (id, rest) = host.split_once('.')?;
    let base = rest.strip_prefix("raw.")?;
    (!id.is_empty() && !base.is_empty() && !base.starts_with('.')).then(|| format!("{id}.{base}"))
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
        assert_eq!(
            certified_alternative("abc.raw.icp.net").as_deref(),
            Some("abc.icp.net")
        );
        assert_eq!(
            certified_alternative("abc.raw.some-new-gateway.dev").as_deref(),
            Some("abc.some-new-gateway.dev")
        );
        assert_eq!(certified_alternative("abc.icp0.io"), None);
        assert_eq!(certified_alternative("raw.icp0.io"), None);
        assert_eq!(certified_alternative("abc.raw."), None);
        assert_eq!(certified_alternative(".raw.icp0.io"), None);
        assert_eq!(certified_alternative("abc.rawicp0.io"), None);
        assert_eq!(certified_alternative("example.com"), None);
        assert_eq!(certified_alternative("localhost"), None);
    }
}
