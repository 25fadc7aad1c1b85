//! The replica's state: the hosted canisters (one [`Host`] each, called
//! through its ordinary `update`/`query`, and a Wasm chunk store each),
//! the outcomes of calls that `read_state` reports, and the mapping from
//! host errors to the IC's reject codes and error codes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candid::Principal;

use super::chunk_store::ChunkStore;
use super::state_tree::{Node, Subnet, leb128};
use crate::{CallError, Host, Reply};

/// The IC's reject codes (interface specification, "Reject codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum RejectCode {
    DestinationInvalid = 3,
    CanisterReject = 4,
    CanisterError = 5,
}

/// A rejected message, as a replica reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reject {
    pub code: RejectCode,
    pub message: String,
    /// The replica's error code, e.g. `IC0503`.
    pub error_code: &'static str,
}

impl Reject {
    pub fn new(code: RejectCode, error_code: &'static str, message: impl Into<String>) -> Self {
        Reject {
            code,
            message: message.into(),
            error_code,
        }
    }
}

pub(crate) type Outcome = Result<Vec<u8>, Reject>;

/// A call's outcome, who sent it and when it finished.
struct Recorded {
    outcome: Outcome,
    sender: Principal,
    at: u64,
}

/// How long a call's outcome stays readable (the IC keeps them until the
/// ingress expiry, at most about five minutes).
const REQUEST_STATUS_TTL: Duration = Duration::from_secs(6 * 60);

pub(crate) struct World {
    canisters: BTreeMap<Principal, Host>,
    /// The chunk stores of the canisters that have one (a store exists
    /// from its first upload; the IC keeps it across installs).
    chunk_stores: BTreeMap<Principal, ChunkStore>,
    /// How many calls to each management canister method were replied to
    /// (`Replica::management_replies`).
    pub management_replies: BTreeMap<String, u64>,
    requests: HashMap<[u8; 32], Recorded>,
    next_canister: u64,
    last_time: u64,
    pub subnet: Subnet,
    /// The paths whose `http_request` reply bodies the node alters
    /// (`Replica::tamper_http_body`).
    pub tampered_http_paths: BTreeSet<String>,
}

impl World {
    pub fn new(root_key_der: Vec<u8>) -> Self {
        World {
            canisters: BTreeMap::new(),
            chunk_stores: BTreeMap::new(),
            management_replies: BTreeMap::new(),
            requests: HashMap::new(),
            next_canister: 0,
            last_time: 0,
            subnet: Subnet::new(root_key_der),
            tampered_http_paths: BTreeSet::new(),
        }
    }

    /// The replica's clock: the system time, never going backwards.
    pub fn now(&mut self) -> u64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        self.last_time = system.max(self.last_time + 1);
        self.last_time
    }

    pub fn add(&mut self, host: Host) -> Principal {
        let id = host.canister_id();
        self.canisters.insert(id, host);
        id
    }

    pub fn contains(&self, id: &Principal) -> bool {
        self.canisters.contains_key(id)
    }

    pub fn host_mut(&mut self, id: &Principal) -> Option<&mut Host> {
        self.canisters.get_mut(id)
    }

    /// `id`'s chunk store; empty if nothing was uploaded to it.
    pub fn chunk_store(&self, id: &Principal) -> Option<&ChunkStore> {
        self.chunk_stores.get(id)
    }

    pub fn chunk_store_mut(&mut self, id: Principal) -> &mut ChunkStore {
        self.chunk_stores.entry(id).or_default()
    }

    pub fn canister_ids(&self) -> Vec<Principal> {
        self.canisters.keys().copied().collect()
    }

    /// A fresh canister id in the subnet's range: `<8 bytes> 01 01`.
    pub fn new_canister_id(&mut self) -> Principal {
        loop {
            self.next_canister += 1;
            let mut bytes = (0x0080_0000_0000_0000u64 | self.next_canister)
                .to_be_bytes()
                .to_vec();
            bytes.extend_from_slice(&[1, 1]);
            let id = Principal::from_slice(&bytes);
            if !self.canisters.contains_key(&id) {
                return id;
            }
        }
    }

    /// Runs an update call on a hosted canister.
    pub fn call(
        &mut self,
        canister: Principal,
        method: &str,
        arg: &[u8],
        sender: Principal,
    ) -> Outcome {
        self.run(canister, |host| host.update(method, arg, sender))
    }

    /// Runs a query on a hosted canister.
    pub fn query(
        &mut self,
        canister: Principal,
        method: &str,
        arg: &[u8],
        sender: Principal,
    ) -> Outcome {
        self.run(canister, |host| host.query(method, arg, sender))
    }

    /// Runs one message on `canister`'s host at the endpoint's time and
    /// turns a host error into the IC's reject.
    fn run(
        &mut self,
        canister: Principal,
        message: impl FnOnce(&mut Host) -> Result<Reply, CallError>,
    ) -> Outcome {
        let now = self.now();
        let host = self
            .canisters
            .get_mut(&canister)
            .ok_or_else(|| not_found(canister))?;
        host.set_time(now);
        message(host)
            .map(|reply| reply.bytes)
            .map_err(|e| reject_of(canister, &e))
    }

    /// Remembers a call's outcome for `read_state`.
    pub fn record(&mut self, request_id: [u8; 32], sender: Principal, outcome: Outcome) {
        let now = self.now();
        let ttl = REQUEST_STATUS_TTL.as_nanos() as u64;
        self.requests.retain(|_, r| r.at.saturating_add(ttl) > now);
        self.requests.insert(
            request_id,
            Recorded {
                outcome,
                sender,
                at: now,
            },
        );
    }

    /// Who sent the request with this id, if the replica knows it.
    pub fn sender_of(&self, request_id: &[u8]) -> Option<Principal> {
        let id = <[u8; 32]>::try_from(request_id).ok()?;
        self.requests.get(&id).map(|r| r.sender)
    }

    /// The whole certified state at `time`.
    pub fn state_tree(&self, time: u64) -> Node {
        let mut tree = Node::branch();
        tree.insert(&[b"time"], leb128(time));
        for (id, host) in &self.canisters {
            let cid = id.as_slice();
            let controllers =
                serde_cbor::to_vec(&host.controllers().to_vec()).expect("principals serialize");
            tree.insert(&[b"canister", cid, b"controllers"], controllers);
            if let Some(hash) = host.module_hash() {
                tree.insert(&[b"canister", cid, b"module_hash"], hash.to_vec());
                tree.insert(
                    &[b"canister", cid, b"certified_data"],
                    host.certified_data(),
                );
            }
        }
        for (id, recorded) in &self.requests {
            let rid: &[u8] = id;
            match &recorded.outcome {
                Ok(reply) => {
                    tree.insert(&[b"request_status", rid, b"status"], b"replied".to_vec());
                    tree.insert(&[b"request_status", rid, b"reply"], reply.clone());
                }
                Err(reject) => {
                    tree.insert(&[b"request_status", rid, b"status"], b"rejected".to_vec());
                    tree.insert(
                        &[b"request_status", rid, b"reject_code"],
                        leb128(reject.code as u64),
                    );
                    tree.insert(
                        &[b"request_status", rid, b"reject_message"],
                        reject.message.clone().into_bytes(),
                    );
                    tree.insert(
                        &[b"request_status", rid, b"error_code"],
                        reject.error_code.as_bytes().to_vec(),
                    );
                }
            }
        }
        self.subnet.add_to(&mut tree);
        tree
    }
}

pub(crate) fn not_found(canister: Principal) -> Reject {
    Reject::new(
        RejectCode::DestinationInvalid,
        "IC0301",
        format!("Canister {canister} not found"),
    )
}

/// The replica's reject for each way a message can fail on the host.
pub(crate) fn reject_of(canister: Principal, error: &CallError) -> Reject {
    use RejectCode::*;
    let prefix = format!("Error from Canister {canister}: ");
    match error {
        CallError::NotInstalled => Reject::new(
            CanisterError,
            "IC0537",
            format!(
                "{prefix}Attempted to execute a message, but the canister contains no Wasm module."
            ),
        ),
        CallError::AlreadyInstalled => Reject::new(
            CanisterError,
            "IC0538",
            format!(
                "{prefix}Canister {canister} cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead."
            ),
        ),
        CallError::NotAController { caller } => Reject::new(
            CanisterError,
            "IC0512",
            format!(
                "Only controllers of canister {canister} can call ic00 method install_code. Sender {caller} is not a controller."
            ),
        ),
        CallError::Link(message) => Reject::new(
            CanisterError,
            "IC0505",
            format!("{prefix}Canister's Wasm module is not valid: {message}"),
        ),
        CallError::NoSuchMethod { method, kind } => Reject::new(
            CanisterError,
            "IC0536",
            format!("{prefix}Canister has no {kind} method '{method}'."),
        ),
        CallError::WrongMethodKind { method, reason } => Reject::new(
            CanisterError,
            "IC0536",
            format!("{prefix}Canister has no such method '{method}': {reason}."),
        ),
        CallError::ArgumentTooLarge { size, limit } => Reject::new(
            CanisterError,
            "IC0504",
            format!("{prefix}The argument of {size} bytes exceeds the limit of {limit} bytes."),
        ),
        CallError::ReplyTooLarge { size, limit, .. } => Reject::new(
            CanisterError,
            "IC0504",
            format!(
                "{prefix}Canister violated contract: ic0.msg_reply_data_append: application payload size ({size}) cannot be larger than {limit}."
            ),
        ),
        CallError::Trapped { message, .. } if message.starts_with("wasm trap") => Reject::new(
            CanisterError,
            "IC0502",
            format!("{prefix}Canister trapped: {message}"),
        ),
        CallError::Trapped { message, .. } => Reject::new(
            CanisterError,
            "IC0503",
            format!("{prefix}Canister called `ic0.trap` with message: '{message}'"),
        ),
        CallError::OutOfInstructions { limit } => Reject::new(
            CanisterError,
            "IC0522",
            format!(
                "{prefix}Canister exceeded the limit of {limit} instructions for single message execution."
            ),
        ),
        CallError::Rejected { message, .. } => {
            Reject::new(CanisterReject, "IC0406", format!("{prefix}{message}"))
        }
        CallError::NoReply { .. } => Reject::new(
            CanisterError,
            "IC0506",
            format!("{prefix}Canister did not produce a response"),
        ),
        CallError::TooManyMessages { .. } => Reject::new(
            CanisterError,
            "IC0506",
            format!("{prefix}Canister did not produce a response: {error}"),
        ),
        CallError::NotAccepted { method } => Reject::new(
            CanisterReject,
            "IC0406",
            format!(
                "{prefix}Canister rejected the message to `{method}` (canister_inspect_message did not accept it)"
            ),
        ),
    }
}
