//! Reading a site directory into files with keys and content types.

use std::path::Path;

use walkdir::WalkDir;

/// One file to serve: its key (`/` + the path relative to the site root,
/// with forward slashes), content type and body.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalFile {
    pub key: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl LocalFile {
    /// A file that exists only in memory (e.g. the preview's generated
    /// large file); its content type comes from the key like any other.
    pub fn new(key: &str, body: Vec<u8>) -> Self {
        Self {
            key: key.to_string(),
            content_type: content_type_of(key),
            body,
        }
    }
}

/// The content type for a key, from its extension; unknown extensions are
/// served as bytes, never guessed as text.
pub fn content_type_of(key: &str) -> String {
    mime_guess::from_path(key)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_string()
}

/// Every regular file under `dir`, sorted by key. Names starting with `.`
/// (and everything under such directories) are left out, as `dfx` does by
/// default, so `.git` or editor files never end up on the canister.
pub fn collect(dir: &Path) -> Result<Vec<LocalFile>, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let mut files = Vec::new();
    let walker = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            entry.depth() == 0 || !entry.file_name().to_string_lossy().starts_with('.')
        });
    for entry in walker {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry
            .path()
            .strip_prefix(dir)
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        let mut key = String::new();
        for component in relative.components() {
            let name = component
                .as_os_str()
                .to_str()
                .ok_or_else(|| format!("{}: file names must be UTF-8", entry.path().display()))?;
            key.push('/');
            key.push_str(name);
        }
        let body = std::fs::read(entry.path())
            .map_err(|e| format!("reading {}: {e}", entry.path().display()))?;
        files.push(LocalFile {
            content_type: content_type_of(&key),
            key,
            body,
        });
    }
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_come_from_extensions() {
        assert_eq!(content_type_of("/index.html"), "text/html");
        assert_eq!(content_type_of("/style.css"), "text/css");
        assert_eq!(content_type_of("/logo.svg"), "image/svg+xml");
        assert_eq!(content_type_of("/logo.png"), "image/png");
        assert_eq!(
            content_type_of("/big/sample.bin"),
            "application/octet-stream"
        );
        assert_eq!(content_type_of("/LICENSE"), "application/octet-stream");
    }
}
