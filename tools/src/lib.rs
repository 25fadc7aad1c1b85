//! Tools around the asset canister: upload a directory (to the in-process
//! host or to a replica through `ic-agent`) and preview a site through
//! today's HTTP gateway (`local-gateway`: ic-http-gateway, which verifies
//! every response as the IC's gateways do).
//!
//! - [`upload`]: walk a directory, plan against the canister's `list`, and
//!   commit the changes in one batch (sync semantics, like `dfx deploy`).
//! - [`transport`]: the one call interface the uploader uses, with an
//!   in-process host and an `ic-agent` implementation.
//! - [`preview`]: the in-process canister on a replica endpoint, and the
//!   gateway in front of it.
//! - [`site`]: where the wasm and the sample site live, and the generated
//!   large file the preview streams.
//!
//! Features (off by default, so the preview builds neither): `agent`, the
//! `ic-agent` transport and the `upload` binary; `pocket-ic`, the preview's
//! PocketIC mode (`pocket_preview`).

#[cfg(feature = "pocket-ic")]
pub mod pocket_preview;
pub mod preview;
pub mod site;
pub mod transport;
pub mod upload;
