//! The encodings uploaded for a file: identity always, gzip for text when
//! it saves bytes.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

/// One encoding of a file's body and the SHA-256 the canister checks it
/// against (for gzip, of the gzip bytes, as `dfx` sends it).
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub encoding: &'static str,
    pub body: Vec<u8>,
    pub sha256: [u8; 32],
}

impl Encoded {
    fn new(encoding: &'static str, body: Vec<u8>) -> Self {
        let sha256 = Sha256::digest(&body).into();
        Self {
            encoding,
            body,
            sha256,
        }
    }
}

/// Whether a content type is text-like and worth compressing; images other
/// than SVG, archives and media are already compressed.
pub fn is_compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || ["javascript", "json", "svg", "xml"]
            .iter()
            .any(|kind| essence.contains(kind))
}

/// The encodings to upload, identity first.
pub fn encodings(content_type: &str, body: &[u8]) -> Vec<Encoded> {
    let mut out = vec![Encoded::new("identity", body.to_vec())];
    if is_compressible(content_type)
        && let Some(gzip) = gzip(body)
        && gzip.len() < body.len()
    {
        out.push(Encoded::new("gzip", gzip));
    }
    out
}

/// Gzip with a zero mtime, so the same input always gives the same bytes
/// (and an unchanged file keeps its hash).
fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

/// The SHA-256 of a body.
pub fn sha256(body: &[u8]) -> [u8; 32] {
    Sha256::digest(body).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_gets_gzip_only_when_smaller() {
        let text = "hello world ".repeat(100);
        let encoded = encodings("text/html", text.as_bytes());
        assert_eq!(encoded.len(), 2);
        assert_eq!(encoded[1].encoding, "gzip");
        assert!(encoded[1].body.len() < text.len());
        // Too short to gain anything from gzip's 18-byte framing.
        assert_eq!(encodings("text/plain", b"hi").len(), 1);
    }

    #[test]
    fn binary_never_gets_gzip() {
        assert_eq!(encodings("image/png", &[0u8; 10_000]).len(), 1);
        assert!(is_compressible("application/javascript"));
        assert!(is_compressible("image/svg+xml"));
        assert!(is_compressible("text/css; charset=utf-8"));
        assert!(!is_compressible("application/octet-stream"));
    }

    #[test]
    fn gzip_is_deterministic() {
        let text = "same bytes ".repeat(50);
        assert_eq!(
            encodings("text/plain", text.as_bytes()),
            encodings("text/plain", text.as_bytes())
        );
    }
}
