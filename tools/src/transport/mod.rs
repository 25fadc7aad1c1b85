//! One small call interface for every tool, so the uploader does not care
//! whether it talks to the in-process host or to a replica.

#[cfg(feature = "agent")]
mod agent;
mod host;
#[cfg(feature = "pocket-ic")]
mod pocket;

#[cfg(feature = "agent")]
pub use agent::AgentCalls;
pub use host::HostCalls;
#[cfg(feature = "pocket-ic")]
pub use pocket::PocketIcCalls;

/// A reply's candid bytes and, when the transport can count them, the
/// instructions the canister used (the host knows, a replica does not say).
#[derive(Clone, Debug)]
pub struct Called {
    pub bytes: Vec<u8>,
    pub instructions: Option<u64>,
}

/// Calls to one canister as one caller; errors are human-readable.
pub trait CanisterCalls {
    fn update(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String>;
    fn query(&mut self, method: &str, arg: Vec<u8>) -> Result<Called, String>;
}

/// Typed helpers over the raw interface.
pub fn update_typed<A, R>(
    calls: &mut dyn CanisterCalls,
    method: &str,
    arg: A,
) -> Result<(R, Option<u64>), String>
where
    A: candid::CandidType,
    R: for<'de> candid::Deserialize<'de> + candid::CandidType,
{
    typed(calls, true, method, arg)
}

pub fn query_typed<A, R>(
    calls: &mut dyn CanisterCalls,
    method: &str,
    arg: A,
) -> Result<(R, Option<u64>), String>
where
    A: candid::CandidType,
    R: for<'de> candid::Deserialize<'de> + candid::CandidType,
{
    typed(calls, false, method, arg)
}

fn typed<A, R>(
    calls: &mut dyn CanisterCalls,
    update: bool,
    method: &str,
    arg: A,
) -> Result<(R, Option<u64>), String>
where
    A: candid::CandidType,
    R: for<'de> candid::Deserialize<'de> + candid::CandidType,
{
    let arg = candid::encode_one(arg).map_err(|e| format!("{method}: encoding: {e}"))?;
    let called = if update {
        calls.update(method, arg)?
    } else {
        calls.query(method, arg)?
    };
    let reply = candid::decode_one(&called.bytes).map_err(|e| format!("{method} reply: {e}"))?;
    Ok((reply, called.instructions))
}
