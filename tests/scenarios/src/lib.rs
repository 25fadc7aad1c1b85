//! End-to-end scenarios for `asset_server.wasm`, written once against a
//! small [`Backend`] interface and run on whichever backend is selected:
//! PocketIC when `POCKET_IC_BIN` names a server binary, otherwise the
//! in-process wasmtime host (`wasm-host`).

pub mod backend;
pub mod client;
mod host_backend;
mod pocket_backend;
pub mod site;

pub use backend::{Backend, Called, select_backend};
pub use client::AssetClient;
