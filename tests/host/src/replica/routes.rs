//! HTTP in, host call, CBOR out: the endpoints of the IC's HTTP interface
//! and what each answers, with a replica's status codes for refusals.
//!
//! | endpoint | answer |
//! | --- | --- |
//! | `GET /api/v2/status` | `{root_key, ic_api_version, impl_version, replica_health_status}` |
//! | `POST /api/v2/canister/<id>/call` | 202, then `read_state` |
//! | `POST /api/v3/canister/<id>/call`, `/api/v4/...` | 200 `{status: "replied", certificate}` |
//! | `POST /api/v2/canister/<id>/query`, `/api/v3/...` | `{status, reply \| reject, signatures}` |
//! | `POST /api/v2/canister/<id>/read_state`, `/api/v3/...` | `{certificate}` |
//! | `POST /api/v2/subnet/<id>/read_state`, `/api/v3/...` | `{certificate}` |

use candid::Principal;
use ic_transport_types::{
    NodeSignature, QueryResponse, ReadStateResponse, RejectResponse, ReplyResponse,
    TransportCallResponse,
};

use super::byzantine;
use super::canisters::{Outcome, Reject, World};
use super::envelope::{self, Content, Refusal, Request};
use super::management;

/// Largest request body accepted (a 2 MiB argument plus its envelope).
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;

/// An HTTP answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    fn cbor<T: serde::Serialize>(status: u16, value: &T) -> Self {
        let mut serializer = serde_cbor::Serializer::new(Vec::new());
        serializer
            .self_describe()
            .expect("writing to a Vec cannot fail");
        value
            .serialize(&mut serializer)
            .expect("replica answers serialize");
        Answer {
            status,
            content_type: "application/cbor",
            body: serializer.into_inner(),
        }
    }

    pub fn text(status: u16, message: impl Into<String>) -> Self {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: message.into().into_bytes(),
        }
    }
}

impl From<Refusal> for Answer {
    fn from(refusal: Refusal) -> Self {
        Answer::text(refusal.status, refusal.message)
    }
}

/// Which call endpoint answered: v2 answers 202 and the client polls,
/// v3 and v4 answer with the certificate at once.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CallVersion {
    Polled,
    Synchronous,
}

/// Routes one request.
pub(crate) fn handle(world: &mut World, method: &str, path: &str, body: &[u8]) -> Answer {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["api", "v2", "status"]) => status(world),
        (
            "POST",
            [
                "api",
                version,
                scope @ ("canister" | "subnet"),
                id,
                endpoint,
            ],
        ) => {
            let Ok(effective) = Principal::from_text(id) else {
                return Answer::text(400, format!("Invalid effective {scope} id in URL: {id}"));
            };
            let is_subnet = *scope == "subnet";
            match (*version, *endpoint) {
                ("v2", "call") => call(world, effective, is_subnet, body, CallVersion::Polled),
                ("v3" | "v4", "call") => {
                    call(world, effective, is_subnet, body, CallVersion::Synchronous)
                }
                ("v2" | "v3", "query") => query(world, effective, is_subnet, body),
                ("v2" | "v3", "read_state") => read_state(world, effective, is_subnet, body),
                _ => Answer::text(404, format!("Not found: {path}")),
            }
        }
        ("GET" | "POST", _) if path.starts_with("/api/") => {
            Answer::text(404, format!("Not found: {path}"))
        }
        (_, _) if path.starts_with("/api/") => {
            Answer::text(405, format!("Method {method} not allowed for {path}"))
        }
        _ => Answer::text(
            404,
            "This is a local replica endpoint (the IC's HTTP interface under /api/); \
             point an agent at it, e.g. icx-asset --replica <this url>.",
        ),
    }
}

fn status(world: &World) -> Answer {
    #[derive(serde::Serialize)]
    struct Status<'a> {
        ic_api_version: &'a str,
        impl_version: &'a str,
        #[serde(with = "serde_bytes")]
        root_key: &'a [u8],
        replica_health_status: &'a str,
    }
    Answer::cbor(
        200,
        &Status {
            ic_api_version: "0.18.0",
            impl_version: concat!("wasm-host ", env!("CARGO_PKG_VERSION")),
            root_key: &world.subnet.root_key_der,
            replica_health_status: "healthy",
        },
    )
}

/// Opens the envelope at the replica's current time.
fn open(world: &mut World, body: &[u8], kind: &str) -> Result<Request, Refusal> {
    let now = world.now();
    envelope::open(body, kind, now)
}

/// The effective id must name the target: the canister itself, or for the
/// management canister the canister it acts on (any id for creation).
fn check_effective(
    world: &World,
    effective: Principal,
    is_subnet: bool,
    canister_id: Principal,
    method: &str,
    arg: &[u8],
) -> Result<(), Refusal> {
    let mismatch = |target: Principal| Refusal {
        status: 400,
        message: format!(
            "Specified CanisterId {target} does not match effective canister id in URL {effective}"
        ),
    };
    if canister_id == Principal::management_canister() {
        return match management::target_canister(method, arg) {
            Some(target) if is_subnet || target != effective => Err(mismatch(target)),
            _ => Ok(()),
        };
    }
    if is_subnet {
        return Err(Refusal {
            status: 400,
            message: format!(
                "Subnet {effective} accepts only calls to the management canister, not to {canister_id}"
            ),
        });
    }
    if canister_id != effective {
        return Err(mismatch(canister_id));
    }
    if !world.contains(&canister_id) {
        return Err(Refusal {
            status: 400,
            message: format!("Canister {canister_id} not found"),
        });
    }
    Ok(())
}

fn call(
    world: &mut World,
    effective: Principal,
    is_subnet: bool,
    body: &[u8],
    version: CallVersion,
) -> Answer {
    let request = match open(world, body, "call") {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    let Content::Call {
        canister_id,
        method_name,
        arg,
    } = &request.content
    else {
        unreachable!("open() checked the request type");
    };
    if let Err(refusal) =
        check_effective(world, effective, is_subnet, *canister_id, method_name, arg)
    {
        return refusal.into();
    }
    let outcome = if *canister_id == Principal::management_canister() {
        management::call(world, method_name, arg, request.sender)
    } else {
        world.call(*canister_id, method_name, arg, request.sender)
    };
    let request_id: [u8; 32] = *request.request_id;
    world.record(request_id, request.sender, outcome);
    match version {
        CallVersion::Polled => Answer {
            status: 202,
            content_type: "text/plain",
            body: Vec::new(),
        },
        CallVersion::Synchronous => {
            let paths = vec![vec![b"request_status".to_vec(), request_id.to_vec()]];
            let certificate = certificate(world, &paths);
            Answer::cbor(200, &TransportCallResponse::Replied { certificate })
        }
    }
}

fn query(world: &mut World, effective: Principal, is_subnet: bool, body: &[u8]) -> Answer {
    let request = match open(world, body, "query") {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    let Content::Query {
        canister_id,
        method_name,
        arg,
    } = &request.content
    else {
        unreachable!("open() checked the request type");
    };
    if let Err(refusal) =
        check_effective(world, effective, is_subnet, *canister_id, method_name, arg)
    {
        return refusal.into();
    }
    let outcome: Outcome = if *canister_id == Principal::management_canister() {
        Err(Reject::new(
            super::canisters::RejectCode::DestinationInvalid,
            "IC0407",
            format!("Management canister has no query method '{method_name}'"),
        ))
    } else {
        world.query(*canister_id, method_name, arg, request.sender)
    };
    // A byzantine node alters the reply before it signs it.
    let outcome = match outcome {
        Ok(reply)
            if world
                .tampered_http_paths
                .iter()
                .any(|path| byzantine::asks_for(method_name, arg, path)) =>
        {
            Ok(byzantine::alter_body(&reply))
        }
        outcome => outcome,
    };
    let mut response = match outcome {
        Ok(arg) => QueryResponse::Replied {
            reply: ReplyResponse { arg },
            signatures: Vec::new(),
        },
        Err(reject) => QueryResponse::Rejected {
            reject: transport_reject(&reject),
            signatures: Vec::new(),
        },
    };
    let timestamp = world.now();
    let signature = world
        .subnet
        .node
        .sign(&response.signable(request.request_id, timestamp));
    let node = NodeSignature {
        timestamp,
        signature,
        identity: world.subnet.node.id(),
    };
    match &mut response {
        QueryResponse::Replied { signatures, .. } | QueryResponse::Rejected { signatures, .. } => {
            signatures.push(node)
        }
    }
    Answer::cbor(200, &response)
}

fn read_state(world: &mut World, effective: Principal, is_subnet: bool, body: &[u8]) -> Answer {
    let request = match open(world, body, "read_state") {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    let Content::ReadState { paths } = &request.content else {
        unreachable!("open() checked the request type");
    };
    if is_subnet && effective != world.subnet.id() {
        return Answer::text(400, format!("Subnet {effective} not found"));
    }
    for path in paths {
        match path.first().map(Vec::as_slice) {
            Some(b"time" | b"subnet" | b"canister_ranges" | b"api_boundary_nodes") => {}
            Some(b"canister") if !is_subnet => {
                if let Some(id) = path.get(1)
                    && id.as_slice() != effective.as_slice()
                {
                    return Answer::text(
                        400,
                        format!(
                            "Effective canister id in URL {effective} does not match requested canister id {}",
                            Principal::try_from_slice(id)
                                .map_or_else(|_| hex::encode(id), |p| p.to_text())
                        ),
                    );
                }
            }
            Some(b"request_status") if !is_subnet => {
                if let Some(id) = path.get(1)
                    && let Some(sender) = world.sender_of(id)
                    && sender != request.sender
                {
                    return Answer::text(
                        403,
                        format!(
                            "Request IDs must be for requests signed by the caller: 0x{} was sent by {sender}, not {}",
                            hex::encode(id),
                            request.sender
                        ),
                    );
                }
            }
            _ => {
                return Answer::text(
                    400,
                    format!(
                        "Invalid path requested: {}",
                        path.iter()
                            .map(|l| String::from_utf8(l.clone()).unwrap_or_else(|_| hex::encode(l)))
                            .collect::<Vec<_>>()
                            .join("/")
                    ),
                );
            }
        }
    }
    let certificate = certificate(world, paths);
    Answer::cbor(200, &ReadStateResponse { certificate })
}

/// A certificate over the state tree pruned to `paths` (and `time`).
fn certificate(world: &mut World, paths: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let now = world.now();
    let mut paths = paths.to_vec();
    paths.push(vec![b"time".to_vec()]);
    let tree = world.state_tree(now).witness(&paths);
    crate::certify::sign_tree(tree)
}

fn transport_reject(reject: &Reject) -> RejectResponse {
    RejectResponse {
        reject_code: ic_transport_types::RejectCode::try_from(reject.code as u64)
            .expect("our reject codes are the IC's"),
        reject_message: reject.message.clone(),
        error_code: Some(reject.error_code.to_string()),
    }
}
