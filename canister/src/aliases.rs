//! Which request paths an asset also answers, and which asset answers a
//! path: `/x.html` also as `/x`; `/d/index.html` also as `/d/` and `/d`;
//! `/index.html` also as `/`. An asset stored under a path always wins over
//! an alias of another asset. Serving and certification both use these two
//! functions, so what is served is what is certified.

/// The extra paths an aliased asset stored under `key` answers.
pub fn aliases_of(key: &str) -> Vec<String> {
    let mut aliases = Vec::new();
    if let Some(dir) = key.strip_suffix("index.html")
        && let Some(trimmed) = dir.strip_suffix('/')
    {
        aliases.push(dir.to_string());
        if !trimmed.is_empty() {
            aliases.push(trimmed.to_string());
        }
    }
    if let Some(stem) = key.strip_suffix(".html")
        && !stem.is_empty()
        && !stem.ends_with('/')
    {
        aliases.push(stem.to_string());
    }
    aliases
}

/// The asset keys that may answer `path` through an alias, best first.
pub fn alias_targets(path: &str) -> Vec<String> {
    if path.ends_with('/') {
        vec![format!("{path}index.html")]
    } else {
        vec![format!("{path}.html"), format!("{path}/index.html")]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_file_is_also_served_without_extension() {
        assert_eq!(aliases_of("/about.html"), vec!["/about"]);
        assert!(alias_targets("/about").contains(&"/about.html".to_string()));
    }

    #[test]
    fn directory_index_is_served_with_and_without_slash() {
        assert_eq!(
            aliases_of("/docs/index.html"),
            vec!["/docs/", "/docs", "/docs/index"]
        );
        assert_eq!(alias_targets("/docs/"), vec!["/docs/index.html"]);
        assert!(alias_targets("/docs").contains(&"/docs/index.html".to_string()));
    }

    #[test]
    fn root_index_is_served_at_slash() {
        assert_eq!(aliases_of("/index.html"), vec!["/", "/index"]);
        assert_eq!(alias_targets("/"), vec!["/index.html"]);
    }

    #[test]
    fn other_files_have_no_aliases() {
        assert!(aliases_of("/app.js").is_empty());
        assert!(aliases_of("/.html").is_empty());
        assert!(aliases_of("/a/.html").is_empty());
    }

    #[test]
    fn every_alias_resolves_back_to_its_asset() {
        for key in ["/index.html", "/docs/index.html", "/a/b.html", "/x y.html"] {
            for alias in aliases_of(key) {
                assert!(
                    alias_targets(&alias).contains(&key.to_string()),
                    "{alias} -> {key}"
                );
            }
        }
    }
}
