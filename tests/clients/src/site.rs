//! A generated site as users deploy them: over 600 files, one over
//! 10 MB, names with spaces and unicode, nested `index.html`, and an
//! `.ic-assets.json5` with headers, `max_age`, aliasing and ignore rules.
//! Then the changes a second deploy brings: changed, added and deleted
//! files.

use std::collections::BTreeMap;
use std::path::Path;

/// Files of the site by asset key (`/dir/name`), with their bodies.
pub type Files = BTreeMap<String, Vec<u8>>;

/// How many generated text files the site has besides the named ones.
pub const MANY: usize = 620;

/// The 10.5 MiB file: six 1.9 MB chunks, streamed by the canister.
pub const BIG_KEY: &str = "/big/large file.bin";
pub const BIG_SIZE: usize = 10 * 1024 * 1024 + 512 * 1024;

/// The headers every asset gets from the config, and per type.
pub const SITE_HEADER: (&str, &str) = ("x-deployed-by", "ic-asset");
pub const JS_HEADER: (&str, &str) = ("x-content-type-options", "nosniff");
pub const JS_MAX_AGE: u64 = 31_536_000;
pub const HTML_MAX_AGE: u64 = 60;

/// Keys of files on disk that the config tells the client to skip.
pub const IGNORED: &[&str] = &["/secret/keys.txt", "/secret/nested/more.txt"];

/// A page whose aliases (`/noalias/page`) the config turns off.
pub const UNALIASED: &str = "/noalias/page.html";

pub const CONFIG: &str = r#"// Rules of the generated site, in ic-asset's format.
[
  {
    match: "**/*",
    headers: { "X-Deployed-By": "ic-asset" },
  },
  {
    match: "**/*.js",
    cache: { max_age: 31536000 },
    headers: { "X-Content-Type-Options": "nosniff" },
  },
  {
    match: "**/*.html",
    cache: { max_age: 60 },
  },
  {
    match: "secret",
    ignore: true,
  },
  {
    match: "secret/**/*",
    ignore: true,
  },
  {
    match: "noalias/*.html",
    enable_aliasing: false,
  },
]
"#;

/// The first deploy: what is uploaded (by key), not counting ignored
/// files and the config itself.
pub fn first_version() -> Files {
    let mut files = Files::new();
    let mut add = |key: &str, body: Vec<u8>| {
        files.insert(key.to_string(), body);
    };
    add(
        "/index.html",
        page("Home", "the site's front page").into_bytes(),
    );
    add(
        "/about.html",
        page("About", "served at /about too").into_bytes(),
    );
    add(
        "/docs/index.html",
        page("Docs", "nested index").into_bytes(),
    );
    add(
        "/docs/guide/index.html",
        page("Guide", "two levels down").into_bytes(),
    );
    add("/app.js", b"console.log('hello from app.js');\n".to_vec());
    add(
        "/style.css",
        b"body { font-family: sans-serif; }\n".to_vec(),
    );
    add(
        "/with space/hello world.txt",
        b"a name with spaces\n".to_vec(),
    );
    add(
        "/unicode/h\u{e9}llo w\u{f6}rld \u{2713}.txt",
        "unicode in the name: h\u{e9}llo w\u{f6}rld \u{2713}\n".into(),
    );
    add(
        "/\u{65e5}\u{672c}\u{8a9e}/index.html",
        page("\u{65e5}\u{672c}\u{8a9e}", "a unicode directory").into_bytes(),
    );
    add(
        UNALIASED,
        page("No alias", "only at its full name").into_bytes(),
    );
    for i in 0..MANY {
        add(
            &format!("/many/{:02}/file-{i:04}.txt", i / 100),
            format!("generated file {i}\n{}\n", "x".repeat(i % 97)).into_bytes(),
        );
    }
    add(BIG_KEY, big_body(1));
    files
}

/// The second deploy: every tenth generated file changed, the big file
/// changed, 15 files added, and a few deleted.
pub fn second_version() -> (Files, Vec<String>) {
    let mut files = first_version();
    for i in (0..MANY).step_by(10) {
        files.insert(
            format!("/many/{:02}/file-{i:04}.txt", i / 100),
            format!("generated file {i}, changed in the second deploy\n").into_bytes(),
        );
    }
    files.insert(BIG_KEY.to_string(), big_body(2));
    files.insert(
        "/index.html".into(),
        page("Home", "the second deploy's front page").into_bytes(),
    );
    for i in 0..15 {
        files.insert(
            format!("/added/new file {i}.txt"),
            format!("added in the second deploy: {i}\n").into_bytes(),
        );
    }
    let deleted: Vec<String> = [
        "/about.html".to_string(),
        "/with space/hello world.txt".to_string(),
        "/many/03/file-0301.txt".to_string(),
        "/many/05/file-0555.txt".to_string(),
        "/docs/guide/index.html".to_string(),
    ]
    .into();
    for key in &deleted {
        files.remove(key);
    }
    (files, deleted)
}

/// Writes `files`, the config and the ignored files under `dir`,
/// replacing what was there.
pub fn write(dir: &Path, files: &Files) -> std::io::Result<()> {
    write_files(dir, files)?;
    std::fs::write(dir.join(".ic-assets.json5"), CONFIG)?;
    let ignored = IGNORED
        .iter()
        .map(|k| (k.to_string(), b"must never be uploaded\n".to_vec()));
    for (key, body) in ignored {
        write_file(dir, &key, &body)?;
    }
    Ok(())
}

/// Writes only `files` under `dir`, replacing what was there: the site for
/// a client that reads no config (`@dfinity/assets`), so it has neither
/// `.ic-assets.json5` nor files that config would have it ignore.
pub fn write_files(dir: &Path, files: &Files) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    for (key, body) in files {
        write_file(dir, key, body)?;
    }
    Ok(())
}

fn write_file(dir: &Path, key: &str, body: &[u8]) -> std::io::Result<()> {
    let path = dir.join(key.trim_start_matches('/'));
    std::fs::create_dir_all(path.parent().expect("every key has a directory"))?;
    std::fs::write(path, body)
}

fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body><h1>{title}</h1><p>{text}</p>\
         <script src=\"/app.js\"></script></body></html>\n"
    )
}

/// Deterministic bytes that differ between chunks and versions, so a
/// misplaced chunk or a stale version changes the body.
fn big_body(version: u8) -> Vec<u8> {
    (0..BIG_SIZE)
        .map(|i| ((i / 7) ^ (i >> 16) ^ (i >> 3)) as u8 ^ version.wrapping_mul(0x5b))
        .collect()
}

/// The URL path a browser requests for `key`: percent-encoded UTF-8.
pub fn url_of(key: &str) -> String {
    let mut url = String::new();
    for byte in key.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                url.push(byte as char)
            }
            _ => url.push_str(&format!("%{byte:02X}")),
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_is_as_large_as_the_issue_asks() {
        let files = first_version();
        assert!(files.len() >= 600, "{} files", files.len());
        assert!(files.values().any(|b| b.len() > 10_000_000));
        assert!(files.keys().any(|k| k.contains(' ')));
        assert!(files.keys().any(|k| !k.is_ascii()));
        let (second, deleted) = second_version();
        assert!(
            deleted
                .iter()
                .all(|k| files.contains_key(k) && !second.contains_key(k))
        );
    }

    #[test]
    fn urls_are_percent_encoded_utf8() {
        assert_eq!(url_of("/with space/a.txt"), "/with%20space/a.txt");
        assert_eq!(url_of("/\u{e9}"), "/%C3%A9");
    }
}
