//! The candid interface: every argument and result record of the asset
//! canister API, named and shaped exactly as `dfx`, `icx-asset` and
//! `@dfinity/assets` expect (asset canister `api_version` 2).
//!
//! These are plain data; the core takes them as input so the API layer stays
//! glue with no translation.

mod assets;
mod governance;
mod http;
mod permissions;

pub use assets::*;
pub use governance::*;
pub use http::*;
pub use permissions::*;

/// `type BatchId = nat;`
pub type BatchId = candid::Nat;
/// `type ChunkId = nat;`
pub type ChunkId = candid::Nat;
/// `type Key = text;` an asset's path, starting with `/`.
pub type Key = String;
/// `type HeaderField = record { text; text; };`
pub type HeaderField = (String, String);
