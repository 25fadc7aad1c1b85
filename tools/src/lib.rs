//! Tools around the asset canister: upload a directory (to the in-process
//! host or to a replica through `ic-agent`) and preview a site through a
//! local HTTP gateway that verifies every response like the IC's gateways.
//!
//! - [`upload`]: walk a directory, plan against the canister's `list`, and
//!   commit the changes in one batch (sync semantics, like `dfx deploy`).
//! - [`transport`]: the one call interface the uploader and gateway use,
//!   with an in-process host and an `ic-agent` implementation.
//! - [`gateway`]: turns HTTP requests into `http_request` queries and
//!   refuses responses that fail certification.
//! - [`site`]: where the wasm and the sample site live, and the generated
//!   large file the preview streams.

pub mod gateway;
pub mod pocket_preview;
pub mod preview;
pub mod site;
pub mod transport;
pub mod upload;
