//! Inter-canister calls in flight: the IC's call contexts (one per
//! message a method answers), the callbacks waiting for responses, and the
//! messages not yet delivered, oldest first. Pure bookkeeping: running the
//! messages is `host/calls.rs`'s job.

use std::collections::VecDeque;

use candid::Principal;

/// A function of the canister's table and the value it is called with:
/// the host runs `fun(env)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Closure {
    pub fun: u32,
    pub env: u32,
}

/// A call as `ic0.call_new` … `ic0.call_perform` assembled it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OutgoingCall {
    pub callee: Vec<u8>,
    pub method: String,
    pub arg: Vec<u8>,
    pub on_reply: Closure,
    pub on_reject: Closure,
    pub on_cleanup: Option<Closure>,
    /// Set by `call_with_best_effort_response`: a bounded-wait call.
    pub timeout_seconds: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ContextId(usize);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallbackId(usize);

/// Who waits for a call context's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The ingress message the host's caller sent.
    Ingress,
    /// A call the canister made; the answer goes to this callback.
    Call(CallbackId),
}

/// A method call being answered, possibly over several messages.
#[derive(Debug)]
pub(crate) struct CallContext {
    pub origin: Origin,
    pub caller: Principal,
    /// `msg_deadline` in the method and its callbacks.
    pub deadline: u64,
    pub answered: bool,
    /// Calls made from this context whose callbacks have not run yet.
    pub outstanding: usize,
    /// Instructions of every message of this context so far.
    pub instructions: u64,
}

/// What to run when a call's response arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Callback {
    pub context: ContextId,
    pub on_reply: Closure,
    pub on_reject: Closure,
    pub on_cleanup: Option<Closure>,
}

/// How a call ended, as the calling canister sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CallResponse {
    Reply(Vec<u8>),
    Reject { code: u32, message: String },
}

/// A message waiting to be delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// A call to a method; its answer goes to `callback`.
    Request {
        callback: CallbackId,
        callee: Vec<u8>,
        method: String,
        arg: Vec<u8>,
        deadline: u64,
    },
    /// A call's answer, for the callback registered when it was made.
    Response {
        callback: CallbackId,
        response: CallResponse,
    },
}

/// The call contexts, callbacks and undelivered messages of one ingress
/// call and everything it sets off.
#[derive(Debug, Default)]
pub(crate) struct CallQueue {
    contexts: Vec<CallContext>,
    /// `None` once the callback has run: each runs at most once.
    callbacks: Vec<Option<Callback>>,
    /// Callbacks that have not run yet.
    in_flight: usize,
    deliveries: VecDeque<Delivery>,
}

impl CallQueue {
    pub fn open(&mut self, origin: Origin, caller: Principal, deadline: u64) -> ContextId {
        self.contexts.push(CallContext {
            origin,
            caller,
            deadline,
            answered: false,
            outstanding: 0,
            instructions: 0,
        });
        ContextId(self.contexts.len() - 1)
    }

    pub fn context(&self, id: ContextId) -> &CallContext {
        &self.contexts[id.0]
    }

    pub fn context_mut(&mut self, id: ContextId) -> &mut CallContext {
        &mut self.contexts[id.0]
    }

    /// Registers the callback of `call`, made from `context` at time
    /// `now`, and queues its request.
    pub fn send(&mut self, context: ContextId, call: OutgoingCall, now: u64) -> CallbackId {
        let callback = CallbackId(self.callbacks.len());
        self.callbacks.push(Some(Callback {
            context,
            on_reply: call.on_reply,
            on_reject: call.on_reject,
            on_cleanup: call.on_cleanup,
        }));
        self.context_mut(context).outstanding += 1;
        self.in_flight += 1;
        let deadline = call.timeout_seconds.map_or(0, |seconds| {
            now.saturating_add(u64::from(seconds) * 1_000_000_000)
        });
        self.deliveries.push_back(Delivery::Request {
            callback,
            callee: call.callee,
            method: call.method,
            arg: call.arg,
            deadline,
        });
        callback
    }

    /// Queues the response to the call that registered `callback`.
    pub fn respond(&mut self, callback: CallbackId, response: CallResponse) {
        self.deliveries
            .push_back(Delivery::Response { callback, response });
    }

    /// The oldest undelivered message.
    pub fn next(&mut self) -> Option<Delivery> {
        self.deliveries.pop_front()
    }

    /// Hands out `id`'s callback for its response; its call context stops
    /// waiting for it. `None` if it already ran (a host bug).
    pub fn take_callback(&mut self, id: CallbackId) -> Option<Callback> {
        let callback = self.callbacks.get_mut(id.0)?.take()?;
        self.in_flight -= 1;
        let context = self.context_mut(callback.context);
        context.outstanding = context.outstanding.saturating_sub(1);
        Some(callback)
    }

    /// Calls made and not yet answered, across all contexts: what the IC's
    /// queue capacity limits.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, timeout_seconds: Option<u32>) -> OutgoingCall {
        OutgoingCall {
            callee: vec![1],
            method: method.into(),
            arg: vec![2],
            on_reply: Closure { fun: 1, env: 10 },
            on_reject: Closure { fun: 2, env: 20 },
            on_cleanup: None,
            timeout_seconds,
        }
    }

    #[test]
    fn messages_are_delivered_in_the_order_they_were_queued() {
        let mut queue = CallQueue::default();
        let root = queue.open(Origin::Ingress, Principal::anonymous(), 0);
        let first = queue.send(root, call("a", None), 0);
        queue.send(root, call("b", Some(3)), 5);
        queue.respond(first, CallResponse::Reply(vec![]));
        let methods: Vec<_> = std::iter::from_fn(|| queue.next())
            .map(|d| match d {
                Delivery::Request {
                    method, deadline, ..
                } => format!("{method}@{deadline}"),
                Delivery::Response { callback, .. } => format!("response {callback:?}"),
            })
            .collect();
        assert_eq!(methods, ["a@0", "b@3000000005", "response CallbackId(0)"]);
        assert_eq!(queue.context(root).outstanding, 2);
        assert_eq!(queue.in_flight(), 2);
    }

    #[test]
    fn a_callback_runs_once_and_releases_its_context() {
        let mut queue = CallQueue::default();
        let root = queue.open(Origin::Ingress, Principal::anonymous(), 0);
        let id = queue.send(root, call("a", None), 0);
        let callback = queue.take_callback(id).unwrap();
        assert_eq!(callback.context, root);
        assert_eq!(callback.on_reject, Closure { fun: 2, env: 20 });
        assert_eq!(queue.take_callback(id), None);
        assert_eq!(queue.context(root).outstanding, 0);
        assert_eq!(queue.in_flight(), 0);
    }
}
