//! What every client test checks after a deploy: each file of the site is
//! served with its own body through `http_request` (fetched with a real
//! agent, as a gateway does), verifies with `ic-response-verification`,
//! and carries the config's headers; aliases follow the config; ignored and
//! deleted files are not listed. A client that reads no config
//! ([`SiteConfig::None`]) gets the canister's defaults instead: no extra
//! headers, every page aliased.

use candid::{CandidType, Decode, Deserialize, Encode, Principal};
use wasm_host::replica::Replica;

use crate::client::{Client, gateway_request, now_ns, verifier};
use crate::site::{self, Files};

#[derive(CandidType, Deserialize, Debug)]
struct ListedAsset {
    key: String,
}

#[derive(CandidType, Deserialize, Debug)]
struct ListArguments {}

/// Which rules the client uploaded the site with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SiteConfig {
    /// `site::CONFIG`, read from `.ic-assets.json5` (ic-asset, icx-asset).
    IcAssetsJson5,
    /// None: the client reads no config file (`@dfinity/assets`).
    None,
}

/// Every file is served with its own body, verifies, and carries the
/// config's headers; aliases follow the config; ignored and deleted files
/// are not listed.
pub fn check_site(
    replica: &Replica,
    client: &Client,
    canister: Principal,
    files: &Files,
    deleted: &[String],
) {
    check_site_with(
        replica,
        client,
        canister,
        files,
        deleted,
        SiteConfig::IcAssetsJson5,
    );
}

/// [`check_site`] for a site uploaded with `config`.
pub fn check_site_with(
    replica: &Replica,
    client: &Client,
    canister: Principal,
    files: &Files,
    deleted: &[String],
    config: SiteConfig,
) {
    let verifier = verifier(canister, replica.root_key_der());
    let mut failures = Vec::new();
    for (key, body) in files {
        let request = gateway_request(canister, &site::url_of(key));
        let response = match client.fetch(canister, &request) {
            Ok(response) => response,
            Err(e) => {
                failures.push(format!("{key}: {e}"));
                continue;
            }
        };
        if let Err(e) = verifier.verify(&request, &response, now_ns()) {
            failures.push(format!(
                "{key}: status {} does not verify: {e}",
                response.status
            ));
            continue;
        }
        if response.body != *body {
            failures.push(format!(
                "{key}: served {} bytes, expected its own {} bytes",
                response.body.len(),
                body.len()
            ));
            continue;
        }
        let (name, value) = site::SITE_HEADER;
        if config == SiteConfig::None {
            if let Some(value) = response.header(name) {
                failures.push(format!("{key}: header {name} is {value:?} with no config"));
            }
            continue;
        }
        if response.header(name) != Some(value) {
            failures.push(format!(
                "{key}: header {name} is {:?}",
                response.header(name)
            ));
        }
        if key.ends_with(".js") {
            let (name, value) = site::JS_HEADER;
            if response.header(name) != Some(value) {
                failures.push(format!(
                    "{key}: header {name} is {:?}",
                    response.header(name)
                ));
            }
            let expected = format!("max-age={}", site::JS_MAX_AGE);
            if response.header("cache-control") != Some(expected.as_str()) {
                failures.push(format!(
                    "{key}: cache-control is {:?}",
                    response.header("cache-control")
                ));
            }
        }
        if key.ends_with(".html") {
            let expected = format!("max-age={}", site::HTML_MAX_AGE);
            if response.header("cache-control") != Some(expected.as_str()) {
                failures.push(format!(
                    "{key}: cache-control is {:?}",
                    response.header("cache-control")
                ));
            }
        }
    }
    // Aliases: `/about` for `/about.html`, `/docs/` and `/docs` for
    // `/docs/index.html`; none for the page the config excludes.
    let mut aliases = vec![
        ("/docs/", "/docs/index.html"),
        ("/docs", "/docs/index.html"),
    ];
    if files.contains_key("/about.html") {
        aliases.push(("/about", "/about.html"));
    }
    let unaliased = site::UNALIASED.trim_end_matches(".html");
    if config == SiteConfig::None {
        // Without the config's `enable_aliasing: false`, the default holds.
        aliases.push((unaliased, site::UNALIASED));
    }
    for (alias, key) in aliases {
        let request = gateway_request(canister, alias);
        match client.fetch(canister, &request) {
            Ok(response) => {
                if let Err(e) = verifier.verify(&request, &response, now_ns()) {
                    failures.push(format!("alias {alias}: does not verify: {e}"));
                } else if response.body != files[key] {
                    failures.push(format!("alias {alias}: not the body of {key}"));
                }
            }
            Err(e) => failures.push(format!("alias {alias}: {e}")),
        }
    }
    match client.fetch(canister, &gateway_request(canister, unaliased)) {
        Ok(response)
            if config == SiteConfig::IcAssetsJson5 && response.body == files[site::UNALIASED] =>
        {
            failures.push(format!(
                "{unaliased} serves {} although the config disables its aliases",
                site::UNALIASED
            ))
        }
        _ => {}
    }
    // What the canister lists: exactly the site, nothing ignored or deleted.
    let listed = client
        .query(canister, "list", Encode!(&ListArguments {}).unwrap())
        .and_then(|bytes| Decode!(&bytes, Vec<ListedAsset>).map_err(|e| e.to_string()))
        .expect("list");
    let listed: std::collections::BTreeSet<String> = listed.into_iter().map(|a| a.key).collect();
    for key in site::IGNORED
        .iter()
        .map(|k| k.to_string())
        .chain(deleted.iter().cloned())
    {
        if listed.contains(&key) {
            failures.push(format!("{key} is listed but was ignored or deleted"));
        }
    }
    for key in files.keys() {
        if !listed.contains(key) {
            failures.push(format!("{key} is not listed"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems after the sync:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
