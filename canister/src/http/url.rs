//! The request path as the v1 verifier derives it from `url`: query string
//! and fragment dropped, percent escapes decoded (`+` stays `+`), no other
//! normalisation. What cannot be decoded is refused rather than guessed.

#[derive(Debug, PartialEq, Eq)]
pub enum UrlError {
    Empty,
    NotAPath,
    BadEscape,
    NotUtf8,
}

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UrlError::Empty => "the request URL is empty",
            UrlError::NotAPath => "the request URL's path must start with '/'",
            UrlError::BadEscape => "the request URL has a malformed percent escape",
            UrlError::NotUtf8 => "the request URL's percent escapes do not decode to UTF-8",
        })
    }
}

/// Extracts and decodes the path of `url` (`/a%20b?x=1` -> `/a b`).
pub fn request_path(url: &str) -> Result<String, UrlError> {
    if url.is_empty() {
        return Err(UrlError::Empty);
    }
    let without_fragment = url.split('#').next().unwrap_or_default();
    let without_query = without_fragment.split('?').next().unwrap_or_default();
    let path = strip_origin(without_query);
    if !path.starts_with('/') {
        return Err(UrlError::NotAPath);
    }
    let bytes = path.as_bytes();
    for (i, byte) in bytes.iter().enumerate() {
        if *byte == b'%' {
            let escape = bytes.get(i + 1..i + 3).ok_or(UrlError::BadEscape)?;
            if !escape.iter().all(u8::is_ascii_hexdigit) {
                return Err(UrlError::BadEscape);
            }
        }
    }
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| UrlError::NotUtf8)
}

/// `https://host/path` -> `/path`; a bare path is returned as it is.
pub(super) fn strip_origin(url: &str) -> &str {
    match url.split_once("://") {
        Some((scheme, rest)) if !scheme.contains('/') => match rest.find('/') {
            Some(slash) => &rest[slash..],
            None => "/",
        },
        _ => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass_through() {
        assert_eq!(request_path("/index.html").unwrap(), "/index.html");
        assert_eq!(request_path("/").unwrap(), "/");
    }

    #[test]
    fn query_and_fragment_are_dropped() {
        assert_eq!(request_path("/a.js?v=3#top").unwrap(), "/a.js");
        assert_eq!(request_path("/a#x?y").unwrap(), "/a");
    }

    #[test]
    fn escapes_are_decoded_and_plus_is_kept() {
        assert_eq!(request_path("/a%20b+c.txt").unwrap(), "/a b+c.txt");
        assert_eq!(request_path("/%E2%9C%93").unwrap(), "/\u{2713}");
    }

    #[test]
    fn absolute_urls_yield_their_path() {
        assert_eq!(request_path("https://x.icp0.io/p?q").unwrap(), "/p");
        assert_eq!(request_path("http://x.icp0.io").unwrap(), "/");
    }

    #[test]
    fn malformed_urls_are_refused() {
        assert_eq!(request_path(""), Err(UrlError::Empty));
        assert_eq!(request_path("index.html"), Err(UrlError::NotAPath));
        assert_eq!(request_path("/a%2"), Err(UrlError::BadEscape));
        assert_eq!(request_path("/a%zz"), Err(UrlError::BadEscape));
        assert_eq!(request_path("/%ff%fe"), Err(UrlError::NotUtf8));
        assert_eq!(request_path("?x"), Err(UrlError::NotAPath));
    }
}
