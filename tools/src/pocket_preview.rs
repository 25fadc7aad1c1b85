//! The preview on PocketIC, used when `POCKET_IC_BIN` names a server: the
//! canister runs on a real replica and PocketIC's own HTTP gateway (the
//! IC's gateway code) serves and verifies it.

use std::time::Duration;

use asset_server::types::AssetCanisterArgs;
use candid::Principal;
use pocket_ic::{PocketIc, PocketIcBuilder};

use crate::preview::controller;
use crate::transport::PocketIcCalls;
use crate::upload::{LocalFile, Progress, Report, upload};

/// A live PocketIC instance serving the uploaded site.
pub struct PocketPreview {
    pub pic: PocketIc,
    pub canister_id: Principal,
    /// The gateway's port on 127.0.0.1.
    pub port: u16,
    pub report: Report,
}

impl PocketPreview {
    /// Where a browser finds the site: the gateway picks the canister from
    /// the `canisterId` query parameter or a `<id>.localhost` host.
    pub fn url(&self) -> String {
        format!(
            "http://127.0.0.1:{}/?canisterId={}",
            self.port, self.canister_id
        )
    }

    pub fn localhost_url(&self) -> String {
        format!("http://{}.localhost:{}/", self.canister_id, self.port)
    }
}

pub use crate::site::pocket_ic_selected;

/// Installs `wasm` on a new PocketIC instance, uploads `files` and starts
/// PocketIC's HTTP gateway on `port` (0: any free port).
pub fn start(
    wasm: Vec<u8>,
    files: &[LocalFile],
    port: u16,
    progress: Progress,
) -> Result<PocketPreview, String> {
    let mut pic = PocketIcBuilder::new().with_application_subnet().build();
    let canister_id = pic.create_canister_with_settings(Some(controller()), None);
    pic.add_cycles(canister_id, 100_000_000_000_000);
    let arg = candid::encode_one(None::<AssetCanisterArgs>).map_err(|e| e.to_string())?;
    pic.install_canister(canister_id, wasm, arg, Some(controller()));
    let report = upload(
        &mut PocketIcCalls {
            pic: &pic,
            canister_id,
            caller: controller(),
        },
        files,
        progress,
    )?;
    // Let the certified state catch up before the gateway serves it.
    pic.advance_time(Duration::from_secs(1));
    pic.tick();
    let url = pic.make_live((port != 0).then_some(port));
    let port = url
        .port()
        .ok_or_else(|| format!("PocketIC gateway URL {url} has no port"))?;
    Ok(PocketPreview {
        pic,
        canister_id,
        port,
        report,
    })
}
