//! A certified asset server for the Internet Computer.
//!
//! Assets live in stable memory (`store`); the v1 certification tree over
//! their hashes is derived on the heap (`certification`); `http` serves
//! them with the `IC-Certificate` header; `upload` and `access` implement
//! the asset canister upload interface and its permissions; `import` takes
//! over a site from DFINITY's asset canister on upgrade. `server` ties
//! these together with time and caller passed in, and `api` is the thin
//! layer that exports the candid methods and talks to the system.

pub mod access;
pub mod aliases;
// The exported methods and the system calls: the canister, and the unit
// tests that check them (the .did); native users of the crate need neither.
#[cfg(any(target_arch = "wasm32", test))]
pub mod api;
pub mod certification;
pub mod error;
pub mod http;
pub mod import;
pub mod lookup;
pub mod phases;
pub mod server;
pub mod store;
pub mod types;
pub mod upload;

pub use server::AssetServer;
