//! Where things live in the workspace, and the preview's generated file.

use std::path::{Path, PathBuf};

use crate::upload::LocalFile;

/// The workspace root (this crate sits in `<root>/tools`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The sample site committed with the project.
pub fn sample_dir() -> PathBuf {
    workspace_root().join("assets")
}

/// `target/asset_server.wasm` as `scripts/build.sh` leaves it, or
/// `ASSET_SERVER_WASM` when set.
pub fn wasm_path() -> PathBuf {
    std::env::var_os("ASSET_SERVER_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target").join("asset_server.wasm"))
}

/// Reads the canister wasm, saying how to build it when it is missing.
pub fn read_wasm(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| {
        format!(
            "{}: {e}; build the canister first with scripts/build.sh",
            path.display()
        )
    })
}

/// Whether the preview should run on PocketIC: `POCKET_IC_BIN` names a
/// server. Asked without the `pocket-ic` feature too, to say how to get it.
pub fn pocket_ic_selected() -> bool {
    std::env::var_os("POCKET_IC_BIN").is_some_and(|path| !path.is_empty())
}

/// Key of the large file the preview adds to the sample site.
pub const BIG_FILE_KEY: &str = "/big/sample.bin";
/// 5 MiB: three stored chunks, so the gateway fetches it as three
/// certified `206` ranges.
pub const BIG_FILE_SIZE: usize = 5 * 1024 * 1024;

/// Deterministic bytes that differ from chunk to chunk, so a misplaced or
/// repeated chunk changes the body. Generated rather than committed.
pub fn big_file() -> LocalFile {
    let body = (0..BIG_FILE_SIZE)
        .map(|i| ((i / 7) ^ (i >> 16) ^ (i >> 3)) as u8)
        .collect();
    LocalFile::new(BIG_FILE_KEY, body)
}
