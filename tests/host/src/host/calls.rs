//! Updates that make calls. The ingress message runs first; every call it
//! performs is delivered afterwards as a message of its own, and every
//! response as a callback, one message at a time in the order the IC would
//! queue them. Each message has its own budget and is undone alone if it
//! traps. Only the canister itself can be called.

use candid::Principal;

use super::{CallFacts, Host, Plan, Reply, classify};
use crate::call_queue::{CallQueue, CallResponse, CallbackId, ContextId, Delivery, Origin};
use crate::context::{Context, Entry, Response};
use crate::error::CallError;
use crate::instance::Canister;
use crate::limits::{MAX_CALLS_IN_FLIGHT, MAX_MESSAGES_PER_CALL, MAX_UPDATE_REPLY};
use crate::module::MethodKind;

/// The IC's reject codes a call's callback can see here.
const DESTINATION_INVALID: u32 = 3;
const CANISTER_REJECT: u32 = 4;
const CANISTER_ERROR: u32 = 5;

/// One ingress update and everything it set off.
#[derive(Default)]
struct CallTree {
    queue: CallQueue,
    /// Instructions of every message run, in order.
    messages: Vec<u64>,
    /// The ingress call's answer, once given.
    answer: Option<Result<Vec<u8>, CallError>>,
}

/// One message of a call context, before it runs.
struct Step<'a> {
    entry: Entry,
    context: Context,
    method: &'a str,
    arg: &'a [u8],
    fuel: u64,
    persist: bool,
    reject: Option<(u32, String)>,
}

impl Host {
    /// Runs the update method `export` for `caller` and every message it
    /// sets off, and returns the answer to its call.
    pub(super) fn update_with_calls(
        &mut self,
        export: String,
        method: &str,
        arg: &[u8],
        caller: Principal,
    ) -> Result<Reply, CallError> {
        let mut canister = self.canister.take().ok_or(CallError::NotInstalled)?;
        let result = self.run_to_answer(&mut canister, export, method, arg, caller);
        self.canister = Some(canister);
        result
    }

    fn run_to_answer(
        &mut self,
        canister: &mut Canister,
        export: String,
        method: &str,
        arg: &[u8],
        caller: Principal,
    ) -> Result<Reply, CallError> {
        let mut tree = CallTree::default();
        let root = tree.queue.open(Origin::Ingress, caller, 0);
        let step = Step {
            entry: Entry::Export(export),
            context: Context::Update,
            method,
            arg,
            fuel: self.limits.update,
            persist: true,
            reject: None,
        };
        let failure = self.step(canister, &mut tree, root, step);
        self.settle(&mut tree, root, failure);
        while let Some(delivery) = tree.queue.next() {
            if tree.messages.len() >= MAX_MESSAGES_PER_CALL {
                return Err(CallError::TooManyMessages {
                    limit: MAX_MESSAGES_PER_CALL,
                });
            }
            match delivery {
                Delivery::Request {
                    callback,
                    callee,
                    method,
                    arg,
                    deadline,
                } => {
                    let call = Request {
                        callback,
                        callee: &callee,
                        method: &method,
                        arg: &arg,
                        deadline,
                    };
                    self.deliver_request(canister, &mut tree, call);
                }
                Delivery::Response { callback, response } => {
                    self.deliver_response(canister, &mut tree, callback, response)
                }
            }
        }
        let instructions = tree.messages.iter().sum();
        match tree.answer {
            Some(Ok(bytes)) => Ok(Reply {
                bytes,
                instructions,
                message_instructions: tree.messages,
            }),
            Some(Err(error)) => Err(with_instructions(error, instructions)),
            // Unreachable: a context is answered when its last callback
            // has run, and none is left once the queue is empty.
            None => Err(CallError::NoReply { instructions }),
        }
    }

    /// A call to one of the canister's methods, from the canister.
    fn deliver_request(&mut self, canister: &mut Canister, tree: &mut CallTree, call: Request<'_>) {
        let (export, context, fuel, deadline) = match self.route(canister, &call) {
            Ok(route) => route,
            Err(refusal) => return tree.queue.respond(call.callback, refusal),
        };
        let origin = Origin::Call(call.callback);
        let id = tree.queue.open(origin, self.canister_id, deadline);
        let step = Step {
            entry: Entry::Export(export),
            context,
            method: call.method,
            arg: call.arg,
            fuel,
            persist: context == Context::Update,
            reject: None,
        };
        let failure = self.step(canister, tree, id, step);
        self.settle(tree, id, failure);
    }

    /// The export a request runs, how, with what budget and deadline; or
    /// the reject the IC would answer it with.
    fn route(
        &self,
        canister: &Canister,
        call: &Request<'_>,
    ) -> Result<(String, Context, u64, u64), CallResponse> {
        let id = self.canister_id;
        let refuse = |code, message: String| CallResponse::Reject { code, message };
        if call.callee != id.as_slice() {
            let callee = Principal::try_from_slice(call.callee).map_or_else(
                |_| format!("0x{}", hex::encode(call.callee)),
                |p| p.to_text(),
            );
            let message = format!("Canister {callee} not found (the wasm host runs one canister)");
            return Err(refuse(DESTINATION_INVALID, message));
        }
        let Some((export, kind)) = canister.module().method(call.method) else {
            let message = format!("Canister {id} has no update method '{}'", call.method);
            return Err(refuse(DESTINATION_INVALID, message));
        };
        // A query runs replicated and keeps nothing; composite queries
        // cannot run replicated at all.
        match kind {
            MethodKind::Update => Ok((export, Context::Update, self.limits.update, call.deadline)),
            MethodKind::Query => Ok((export, Context::ReplicatedQuery, self.limits.query, 0)),
            MethodKind::CompositeQuery => Err(refuse(
                CANISTER_ERROR,
                format!(
                    "Canister {id}: composite query '{}' cannot be called in replicated mode",
                    call.method
                ),
            )),
        }
    }

    /// A call's response: its reply or reject callback, and the cleanup
    /// callback if that traps.
    fn deliver_response(
        &mut self,
        canister: &mut Canister,
        tree: &mut CallTree,
        callback: CallbackId,
        response: CallResponse,
    ) {
        let Some(callback) = tree.queue.take_callback(callback) else {
            return;
        };
        let (context, closure, arg, reject) = match response {
            CallResponse::Reply(bytes) => (Context::ReplyCallback, callback.on_reply, bytes, None),
            CallResponse::Reject { code, message } => (
                Context::RejectCallback,
                callback.on_reject,
                Vec::new(),
                Some((code, message)),
            ),
        };
        let step = Step {
            entry: Entry::Callback(closure),
            context,
            method: "",
            arg: &arg,
            fuel: self.limits.update,
            persist: true,
            reject: reject.clone(),
        };
        let failure = self.step(canister, tree, callback.context, step);
        if failure.is_some()
            && let Some(cleanup) = callback.on_cleanup
        {
            // A trapping cleanup is undone and otherwise ignored.
            let step = Step {
                entry: Entry::Callback(cleanup),
                context: Context::Cleanup,
                method: "",
                arg: &[],
                fuel: self.limits.update,
                persist: true,
                reject,
            };
            self.step(canister, tree, callback.context, step);
        }
        self.settle(tree, callback.context, failure);
    }

    /// Runs one message of call context `id`: keeps or undoes it, sends the
    /// calls it performed and records its answer. Returns why it failed,
    /// if it trapped.
    fn step(
        &mut self,
        canister: &mut Canister,
        tree: &mut CallTree,
        id: ContextId,
        step: Step<'_>,
    ) -> Option<CallError> {
        let context = tree.queue.context(id);
        let plan = Plan {
            entry: step.entry,
            context: step.context,
            method: step.method,
            arg: step.arg,
            caller: context.caller,
            fuel: step.fuel,
            reply_limit: MAX_UPDATE_REPLY,
            persist: step.persist,
            call: CallFacts {
                deadline: context.deadline,
                reject: step.reject,
                answered_before: context.answered,
                context_instructions: context.instructions,
                call_capacity: MAX_CALLS_IN_FLIGHT.saturating_sub(tree.queue.in_flight()),
            },
        };
        let run = self.execute_run(canister, plan);
        tree.messages.push(run.instructions);
        tree.queue.context_mut(id).instructions += run.instructions;
        if let Err(error) = run.result {
            return Some(classify(error, run.instructions, step.fuel));
        }
        if step.persist {
            // The version counts executions whose changes were kept.
            self.canister_version += 1;
            for call in run.message.performed {
                tree.queue.send(id, call, self.time);
            }
        }
        match run.message.response {
            Some(Response::Reply) => answer(tree, id, Ok(run.message.reply)),
            Some(Response::Reject(message)) => {
                let rejected = CallError::Rejected {
                    message,
                    instructions: run.instructions,
                };
                answer(tree, id, Err(rejected));
            }
            None => {}
        }
        None
    }

    /// After a message of context `id`: a context that nothing can answer
    /// any more (no calls outstanding) is answered with the message's
    /// failure, or with "no reply".
    fn settle(&mut self, tree: &mut CallTree, id: ContextId, failure: Option<CallError>) {
        let context = tree.queue.context(id);
        if context.answered || context.outstanding > 0 {
            return;
        }
        let instructions = context.instructions;
        let error = failure.unwrap_or(CallError::NoReply { instructions });
        answer(tree, id, Err(error));
    }
}

/// A request as `deliver_request` reads it.
struct Request<'a> {
    callback: CallbackId,
    callee: &'a [u8],
    method: &'a str,
    arg: &'a [u8],
    deadline: u64,
}

/// Answers context `id` (once): the ingress call's answer, or a response
/// queued for the calling callback.
fn answer(tree: &mut CallTree, id: ContextId, result: Result<Vec<u8>, CallError>) {
    let context = tree.queue.context_mut(id);
    if context.answered {
        return;
    }
    context.answered = true;
    match context.origin {
        Origin::Ingress => tree.answer = Some(result),
        Origin::Call(callback) => {
            let response = match result {
                Ok(bytes) => CallResponse::Reply(bytes),
                Err(CallError::Rejected { message, .. }) => CallResponse::Reject {
                    code: CANISTER_REJECT,
                    message,
                },
                Err(error) => CallResponse::Reject {
                    code: CANISTER_ERROR,
                    message: error.to_string(),
                },
            };
            tree.queue.respond(callback, response);
        }
    }
}

/// The ingress call's error, counting the instructions of all its messages.
fn with_instructions(error: CallError, total: u64) -> CallError {
    match error {
        CallError::Trapped { message, .. } => CallError::Trapped {
            message,
            instructions: total,
        },
        CallError::Rejected { message, .. } => CallError::Rejected {
            message,
            instructions: total,
        },
        CallError::ReplyTooLarge { size, limit, .. } => CallError::ReplyTooLarge {
            size,
            limit,
            instructions: total,
        },
        CallError::NoReply { .. } => CallError::NoReply {
            instructions: total,
        },
        other => other,
    }
}
