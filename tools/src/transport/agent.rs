//! A replica through `ic-agent`: the same calls `dfx` makes, signed with an
//! identity exported from dfx (`dfx identity export <name> > id.pem`).

use std::path::Path;

use candid::Principal;
use ic_agent::Agent;
use ic_agent::identity::{BasicIdentity, Secp256k1Identity};
use tokio::runtime::Runtime;

use super::{Called, CanisterCalls};

/// Blocking calls over an async agent: one current-thread runtime is all a
/// command-line uploader needs.
pub struct AgentCalls {
    agent: Agent,
    canister_id: Principal,
    runtime: Runtime,
}

impl AgentCalls {
    /// Connects to `url` as the identity in `pem`. A local replica's root
    /// key is fetched (it is not the mainnet key); never do that for
    /// mainnet, where the built-in key is the trust anchor.
    pub fn connect(url: &str, canister_id: &str, pem: &Path) -> Result<Self, String> {
        let canister_id = Principal::from_text(canister_id)
            .map_err(|e| format!("canister id {canister_id:?}: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting the async runtime: {e}"))?;
        let builder = Agent::builder().with_url(url);
        // dfx writes secp256k1 keys for new identities and Ed25519 for old
        // ones; accept both.
        let builder = match Secp256k1Identity::from_pem_file(pem) {
            Ok(identity) => builder.with_identity(identity),
            Err(secp_error) => match BasicIdentity::from_pem_file(pem) {
                Ok(identity) => builder.with_identity(identity),
                Err(ed_error) => {
                    return Err(format!(
                        "{}: not a secp256k1 ({secp_error}) or Ed25519 ({ed_error}) PEM identity",
                        pem.display()
                    ));
                }
            },
        };
        let agent = builder
            .build()
            .map_err(|e| format!("creating the agent for {url}: {e}"))?;
        if is_local(url) {
            runtime
                .block_on(agent.fetch_root_key())
                .map_err(|e| format!("fetching the root key from {url}: {e}"))?;
        }
        Ok(Self {
            agent,
            canister_id,
            runtime,
        })
    }

    pub fn principal(&self) -> Result<Principal, String> {
        self.agent.get_principal()
    }
}

/// Whether `url` points at this machine (a local replica or PocketIC).
fn is_local(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let host = rest.split(['/', ':']).next().unwrap_or("");
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0") || host.ends_with(".localhost")
}

impl CanisterCalls for AgentCalls {
    fn update(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let call = self
            .agent
            .update(&self.canister_id, method)
            .with_arg(arg)
            .call_and_wait();
        let bytes = self
            .runtime
            .block_on(call)
            .map_err(|e| format!("{method}: {e}"))?;
        Ok(Called {
            bytes,
            instructions: None,
        })
    }

    fn query(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String> {
        let call = self
            .agent
            .query(&self.canister_id, method)
            .with_arg(arg)
            .call();
        let bytes = self
            .runtime
            .block_on(call)
            .map_err(|e| format!("{method}: {e}"))?;
        Ok(Called {
            bytes,
            instructions: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{AgentCalls, is_local};

    #[test]
    fn a_bad_pem_is_a_clear_error_before_any_network() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("identity.pem");
        std::fs::write(&pem, "not a key").unwrap();
        let Err(error) = AgentCalls::connect("http://127.0.0.1:1", "aaaaa-aa", &pem) else {
            panic!("a garbage PEM was accepted");
        };
        assert!(error.contains("not a secp256k1"), "{error}");
        let Err(error) = AgentCalls::connect("http://127.0.0.1:1", "not a principal", &pem) else {
            panic!("a bad canister id was accepted");
        };
        assert!(error.contains("canister id"), "{error}");
    }

    #[test]
    fn local_urls_are_recognised() {
        assert!(is_local("http://127.0.0.1:4943"));
        assert!(is_local("http://localhost:4943/"));
        assert!(!is_local("https://icp-api.io"));
    }
}
