//! The files the scenarios upload.

/// One file: its key, content type and body.
#[derive(Clone, Debug)]
pub struct SiteFile {
    pub key: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

pub fn site_file(key: &str, content_type: &str, body: impl Into<Vec<u8>>) -> SiteFile {
    SiteFile {
        key: key.into(),
        content_type: content_type.into(),
        body: body.into(),
    }
}

/// A small site with the shapes that matter: root index, nested index, an
/// `.html` alias, binary data, a name with a space and a non-ASCII name.
pub fn sample_site() -> Vec<SiteFile> {
    vec![
        site_file(
            "/index.html",
            "text/html",
            "<!doctype html><title>home</title><h1>home</h1>",
        ),
        site_file("/app.css", "text/css", "body { color: teal }"),
        site_file(
            "/app.js",
            "text/javascript",
            "document.body.dataset.ready = 'yes'",
        ),
        site_file(
            "/logo.png",
            "image/png",
            (0..=255u8).cycle().take(5000).collect::<Vec<u8>>(),
        ),
        site_file("/docs/index.html", "text/html", "<h1>docs</h1>"),
        site_file("/about.html", "text/html", "<h1>about</h1>"),
        site_file("/a b.txt", "text/plain", "space in name"),
        site_file("/caf\u{e9}.txt", "text/plain", "accented"),
    ]
}

/// `size` bytes that differ from chunk to chunk, so a misplaced chunk shows.
pub fn large_body(size: usize) -> Vec<u8> {
    (0..size).map(|i| ((i / 7) ^ (i >> 16)) as u8).collect()
}

/// The URL a browser would send for `key`.
pub fn url_of(key: &str) -> String {
    let mut url = String::new();
    for ch in key.chars() {
        if ch.is_ascii_alphanumeric() || "/._-~".contains(ch) {
            url.push(ch);
        } else {
            let mut buf = [0; 4];
            for byte in ch.encode_utf8(&mut buf).bytes() {
                url.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    url
}
