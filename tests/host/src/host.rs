//! The host: one canister, its controllers, the clock, and the message
//! types (install, upgrade, update, query) with the IC's rules for each.
//! Updates that make calls are driven to their answer in `calls`.

mod calls;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use candid::Principal;

use crate::certify;
use crate::context::{CanisterData, Context, Entry, Message, Response};
use crate::error::{CallError, HostTrap};
use crate::instance::{Canister, Run};
use crate::limits::*;
use crate::module::{CompiledModule, MethodKind};

/// A successful reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub bytes: Vec<u8>,
    /// Instructions (wasmtime fuel) the call used: the sum of
    /// `message_instructions`.
    pub instructions: u64,
    /// Instructions of each message the call ran, in the order they ran:
    /// the method itself, then, for an update that made calls, every
    /// message those set off (callee methods, callbacks, cleanups). Each
    /// had a budget of its own.
    pub message_instructions: Vec<u64>,
}

impl Reply {
    /// The most any one message of the call used: what has to fit in a
    /// message's budget.
    pub fn max_message_instructions(&self) -> u64 {
        self.message_instructions.iter().copied().max().unwrap_or(0)
    }
}

/// A successful install or upgrade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Instructions used by `canister_init`, or by `canister_pre_upgrade`
    /// and `canister_post_upgrade` together.
    pub instructions: u64,
}

/// An IC with one canister, run in-process.
pub struct Host {
    canister_id: Principal,
    time: u64,
    controllers: Vec<Principal>,
    canister_version: u64,
    limits: InstructionLimits,
    memory_limits: MemoryLimits,
    canister: Option<Canister>,
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

/// How one message runs.
struct Plan<'a> {
    entry: Entry,
    context: Context,
    method: &'a str,
    arg: &'a [u8],
    caller: Principal,
    fuel: u64,
    reply_limit: usize,
    /// Whether successful changes are kept (updates, install, upgrade).
    persist: bool,
    call: CallFacts,
}

/// What a message of an update's call context sees of it (all zero or
/// empty elsewhere).
#[derive(Default)]
struct CallFacts {
    deadline: u64,
    reject: Option<(u32, String)>,
    answered_before: bool,
    context_instructions: u64,
    call_capacity: usize,
}

impl Host {
    /// The default canister id, `lxzze-o7777-77777-aaaaa-cai`.
    pub fn default_canister_id() -> Principal {
        Principal::from_text("lxzze-o7777-77777-aaaaa-cai").expect("a valid principal")
    }

    /// A host with the default canister id and the clock at the current
    /// system time.
    pub fn new() -> Self {
        Self::with_canister_id(Self::default_canister_id())
    }

    pub fn with_canister_id(canister_id: Principal) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Host {
            canister_id,
            time: now,
            controllers: Vec::new(),
            canister_version: 0,
            limits: InstructionLimits::default(),
            memory_limits: MemoryLimits::default(),
            canister: None,
        }
    }

    pub fn canister_id(&self) -> Principal {
        self.canister_id
    }

    /// The test subnet's root key (133 bytes of DER) that verifies the
    /// certificates canisters obtain.
    pub fn root_key_der(&self) -> Vec<u8> {
        certify::root_key_der()
    }

    /// Host time in nanoseconds since the epoch: what `ic0.time` returns
    /// and the certificate's `/time`. It only moves when told to.
    pub fn time(&self) -> u64 {
        self.time
    }

    pub fn set_time(&mut self, ns: u64) {
        self.time = ns;
    }

    pub fn advance_time(&mut self, by: Duration) {
        self.time = self.time.saturating_add(by.as_nanos() as u64);
    }

    /// Replaces the instruction budgets (the IC's by default).
    pub fn set_instruction_limits(&mut self, limits: InstructionLimits) {
        self.limits = limits;
    }

    pub fn instruction_limits(&self) -> InstructionLimits {
        self.limits
    }

    /// Replaces the memory limits (none by default), for the canister
    /// installed now and any installed or upgraded later. They apply from
    /// the next message on; memory already held is kept even if above
    /// them. See [`MemoryLimits`] for how each fails.
    pub fn set_memory_limits(&mut self, limits: MemoryLimits) {
        self.memory_limits = limits;
        if let Some(canister) = &mut self.canister {
            canister.data_mut().memory_limits = limits;
        }
    }

    pub fn memory_limits(&self) -> MemoryLimits {
        self.memory_limits
    }

    pub fn add_controller(&mut self, controller: Principal) {
        if !self.controllers.contains(&controller) {
            self.controllers.push(controller);
        }
    }

    /// Replaces the controllers (the management canister's
    /// `update_settings`).
    pub fn set_controllers(&mut self, controllers: Vec<Principal>) {
        self.controllers = controllers;
    }

    /// How many times the canister's code or state was changed, as the
    /// IC's `canister_version` counts.
    pub fn canister_version(&self) -> u64 {
        self.canister_version
    }

    pub fn controllers(&self) -> &[Principal] {
        &self.controllers
    }

    /// SHA-256 of the installed module, as the IC's `module_hash`
    /// reports it; `None` before install.
    pub fn module_hash(&self) -> Option<[u8; 32]> {
        self.canister.as_ref().map(|c| c.module().sha256())
    }

    /// Bytes of wasm heap and of stable memory the canister holds now.
    pub fn memory_bytes(&self) -> (u64, u64) {
        self.canister.as_ref().map_or((0, 0), |c| c.memory_bytes())
    }

    /// What the canister printed with `ic0.debug_print` since the last
    /// call, oldest first.
    pub fn take_debug_log(&mut self) -> Vec<String> {
        self.canister
            .as_mut()
            .map(|c| std::mem::take(&mut c.data_mut().debug_log))
            .unwrap_or_default()
    }

    /// The canister's committed certified data.
    pub fn certified_data(&self) -> Vec<u8> {
        self.canister
            .as_ref()
            .map(|c| c.data().certified_data.clone())
            .unwrap_or_default()
    }

    /// Installs `module`: instantiates it and runs `canister_init` (if
    /// exported) with `arg`. The installer becomes a controller. If
    /// `canister_init` fails, no canister is installed.
    pub fn install(
        &mut self,
        module: &CompiledModule,
        arg: &[u8],
        caller: Principal,
    ) -> Result<Outcome, CallError> {
        if self.canister.is_some() {
            return Err(CallError::AlreadyInstalled);
        }
        check_arg(arg)?;
        let data = CanisterData {
            memory_limits: self.memory_limits,
            ..CanisterData::default()
        };
        let mut canister = Canister::instantiate(module, data)?;
        // The installer is a controller already while canister_init runs,
        // and stays one only if the install succeeds.
        let new_controller = !self.controllers.contains(&caller);
        self.add_controller(caller);
        let mut instructions = 0;
        if module.exports_function("canister_init") {
            let plan = Plan::system(
                "canister_init",
                Context::Init,
                arg,
                caller,
                self.limits.install,
            );
            match self.execute(&mut canister, plan) {
                Ok(reply) => instructions = reply.instructions,
                Err(e) => {
                    if new_controller {
                        self.controllers.retain(|c| *c != caller);
                    }
                    return Err(e);
                }
            }
        }
        self.canister_version += 1;
        self.canister = Some(canister);
        Ok(Outcome { instructions })
    }

    /// Upgrades to `module` (the same or another): `canister_pre_upgrade`
    /// on the running instance, then a fresh instance that keeps only
    /// stable memory (and certified data), then `canister_post_upgrade`
    /// with `arg`. Both hooks share the install budget. If anything fails
    /// the old canister is left exactly as it was.
    pub fn upgrade(
        &mut self,
        module: &CompiledModule,
        arg: &[u8],
        caller: Principal,
    ) -> Result<Outcome, CallError> {
        check_arg(arg)?;
        if !self.controllers.contains(&caller) {
            return Err(CallError::NotAController { caller });
        }
        let mut old = self.canister.take().ok_or(CallError::NotInstalled)?;
        let snapshot = old.snapshot();
        let result = self.upgrade_from(&mut old, module, arg, caller);
        match result {
            Ok((mut new, outcome)) => {
                new.commit();
                self.canister_version += 1;
                self.canister = Some(new);
                Ok(outcome)
            }
            Err(e) => {
                old.restore(snapshot);
                self.canister = Some(old);
                Err(e)
            }
        }
    }

    /// The part of an upgrade that can fail; on failure stable memory is
    /// back in `old` (still to be rolled back by the caller).
    fn upgrade_from(
        &mut self,
        old: &mut Canister,
        module: &CompiledModule,
        arg: &[u8],
        caller: Principal,
    ) -> Result<(Canister, Outcome), CallError> {
        let mut used = 0;
        if old.module().exports_function("canister_pre_upgrade") {
            let plan = Plan::system(
                "canister_pre_upgrade",
                Context::PreUpgrade,
                &[],
                caller,
                self.limits.install,
            );
            used = self.run_in(old, plan)?.instructions;
        }
        let data = CanisterData {
            stable: std::mem::take(&mut old.data_mut().stable),
            certified_data: old.data().certified_data.clone(),
            memory_limits: self.memory_limits,
            ..CanisterData::default()
        };
        let mut new = match Canister::try_instantiate(module, data) {
            Ok(new) => new,
            Err(failed) => {
                let (e, data) = *failed;
                old.data_mut().stable = data.stable;
                return Err(e);
            }
        };
        if module.exports_function("canister_post_upgrade") {
            let plan = Plan::system(
                "canister_post_upgrade",
                Context::Init,
                arg,
                caller,
                self.limits.install - used,
            );
            match self.run_in(&mut new, plan) {
                Ok(reply) => used += reply.instructions,
                Err(CallError::OutOfInstructions { .. }) => {
                    old.data_mut().stable = std::mem::take(&mut new.data_mut().stable);
                    return Err(CallError::OutOfInstructions {
                        limit: self.limits.install,
                    });
                }
                Err(e) => {
                    old.data_mut().stable = std::mem::take(&mut new.data_mut().stable);
                    return Err(e);
                }
            }
        }
        Ok((new, Outcome { instructions: used }))
    }

    /// Runs an update method (or a query method in replicated mode, whose
    /// changes are discarded as on the IC). If the canister exports
    /// `canister_inspect_message`, it runs first and must accept.
    ///
    /// A reply, a reject and a missing reply all keep the update's changes;
    /// a trap, an exhausted budget or an oversized reply discard them.
    ///
    /// An update may call methods of its own canister (`ic0.call_perform`,
    /// an `await` in ic-cdk): as on the IC, its message ends there and is
    /// kept, each call runs as a message of its own (caller: the canister)
    /// and its callback as another, each with a fresh budget and undone
    /// alone if it traps. This returns once the update's call is answered
    /// and every message it set off has run; calls to other canisters are
    /// rejected as calls to a canister that does not exist.
    pub fn update(
        &mut self,
        method: &str,
        arg: &[u8],
        caller: Principal,
    ) -> Result<Reply, CallError> {
        check_arg(arg)?;
        let (export, kind) = self.lookup(method, "update")?;
        let context = match kind {
            MethodKind::Update => Context::Update,
            MethodKind::Query => Context::ReplicatedQuery,
            MethodKind::CompositeQuery => {
                return Err(CallError::WrongMethodKind {
                    method: method.into(),
                    reason: "composite queries cannot run as updates",
                });
            }
        };
        self.inspect(method, arg, caller)?;
        if context == Context::Update {
            return self.update_with_calls(export, method, arg, caller);
        }
        self.run(Plan {
            entry: Entry::Export(export),
            context,
            method,
            arg,
            caller,
            fuel: self.limits.query,
            reply_limit: MAX_UPDATE_REPLY,
            persist: false,
            call: CallFacts::default(),
        })
    }

    /// Runs a query method; nothing it changes persists. Update methods
    /// cannot be called as queries.
    pub fn query(
        &mut self,
        method: &str,
        arg: &[u8],
        caller: Principal,
    ) -> Result<Reply, CallError> {
        check_arg(arg)?;
        let (export, kind) = self.lookup(method, "query")?;
        let context = match kind {
            MethodKind::Query => Context::Query,
            MethodKind::CompositeQuery => Context::CompositeQuery,
            MethodKind::Update => {
                return Err(CallError::WrongMethodKind {
                    method: method.into(),
                    reason: "update methods cannot be called as queries",
                });
            }
        };
        self.run(Plan {
            entry: Entry::Export(export),
            context,
            method,
            arg,
            caller,
            fuel: self.limits.query,
            reply_limit: MAX_QUERY_REPLY,
            persist: false,
            call: CallFacts::default(),
        })
    }

    fn lookup(&self, method: &str, kind: &'static str) -> Result<(String, MethodKind), CallError> {
        let canister = self.canister.as_ref().ok_or(CallError::NotInstalled)?;
        canister
            .module()
            .method(method)
            .ok_or_else(|| CallError::NoSuchMethod {
                method: method.into(),
                kind,
            })
    }

    /// `canister_inspect_message`, as the IC runs it for ingress updates.
    fn inspect(&mut self, method: &str, arg: &[u8], caller: Principal) -> Result<(), CallError> {
        let canister = self.canister.as_ref().ok_or(CallError::NotInstalled)?;
        if !canister
            .module()
            .exports_function("canister_inspect_message")
        {
            return Ok(());
        }
        let plan = Plan {
            entry: Entry::Export("canister_inspect_message".into()),
            context: Context::InspectMessage,
            method,
            arg,
            caller,
            fuel: INSPECT_INSTRUCTIONS,
            reply_limit: 0,
            persist: false,
            call: CallFacts::default(),
        };
        let mut canister = self.canister.take().ok_or(CallError::NotInstalled)?;
        let result = self.execute_with(&mut canister, plan);
        self.canister = Some(canister);
        match result {
            Ok((_, true)) => Ok(()),
            Ok((_, false)) => Err(CallError::NotAccepted {
                method: method.into(),
            }),
            Err(e) => Err(e),
        }
    }

    fn run(&mut self, plan: Plan<'_>) -> Result<Reply, CallError> {
        let mut canister = self.canister.take().ok_or(CallError::NotInstalled)?;
        let result = self.execute(&mut canister, plan);
        self.canister = Some(canister);
        result
    }

    /// Runs `plan` on `canister` without snapshotting: the caller owns
    /// rollback (upgrades snapshot across both hooks).
    fn run_in(&mut self, canister: &mut Canister, plan: Plan<'_>) -> Result<Reply, CallError> {
        let fuel = plan.fuel;
        let run = canister.run(&plan.entry, self.message(&plan), fuel);
        outcome(run, plan.context, fuel).map(|(reply, _)| reply)
    }

    /// Runs `plan` with a snapshot, keeping its changes only if it
    /// succeeds and `plan.persist` says so.
    fn execute(&mut self, canister: &mut Canister, plan: Plan<'_>) -> Result<Reply, CallError> {
        self.execute_with(canister, plan).map(|(reply, _)| reply)
    }

    fn execute_with(
        &mut self,
        canister: &mut Canister,
        plan: Plan<'_>,
    ) -> Result<(Reply, bool), CallError> {
        let (fuel, context) = (plan.fuel, plan.context);
        outcome(self.execute_run(canister, plan), context, fuel)
    }

    /// Runs `plan` with a snapshot: its changes are kept if it ran to the
    /// end and `plan.persist` says so, and undone otherwise.
    fn execute_run(&mut self, canister: &mut Canister, plan: Plan<'_>) -> Run {
        let snapshot = canister.snapshot();
        let run = canister.run(&plan.entry, self.message(&plan), plan.fuel);
        if run.result.is_ok() && plan.persist {
            canister.commit();
        } else {
            canister.restore(snapshot);
        }
        run
    }

    fn message(&self, plan: &Plan<'_>) -> Message {
        let mut m = Message::new(
            plan.context,
            plan.method,
            plan.arg.to_vec(),
            plan.caller.as_slice().to_vec(),
        );
        m.canister_id = self.canister_id.as_slice().to_vec();
        m.controllers = self
            .controllers
            .iter()
            .map(|p| p.as_slice().to_vec())
            .collect();
        m.time = self.time;
        m.canister_version = self.canister_version;
        m.root_key = certify::root_key_der();
        m.fuel_limit = plan.fuel;
        m.reply_limit = plan.reply_limit;
        m.deadline = plan.call.deadline;
        m.reject = plan.call.reject.clone();
        m.answered_before = plan.call.answered_before;
        m.context_instructions = plan.call.context_instructions;
        m.call_capacity = plan.call.call_capacity;
        m
    }
}

impl<'a> Plan<'a> {
    fn system(export: &str, context: Context, arg: &'a [u8], caller: Principal, fuel: u64) -> Self {
        Plan {
            entry: Entry::Export(export.into()),
            context,
            method: "",
            arg,
            caller,
            fuel,
            reply_limit: 0,
            persist: true,
            call: CallFacts::default(),
        }
    }
}

fn check_arg(arg: &[u8]) -> Result<(), CallError> {
    if arg.len() > MAX_INGRESS_ARG {
        return Err(CallError::ArgumentTooLarge {
            size: arg.len(),
            limit: MAX_INGRESS_ARG,
        });
    }
    Ok(())
}

/// Turns a finished run into the call's result, and whether
/// `inspect_message` accepted.
fn outcome(run: Run, context: Context, fuel: u64) -> Result<(Reply, bool), CallError> {
    let instructions = run.instructions;
    if let Err(error) = run.result {
        return Err(classify(error, instructions, fuel));
    }
    let message = run.message;
    let accepted = message.accepted;
    match message.response {
        Some(Response::Reply) => Ok((
            Reply {
                bytes: message.reply,
                instructions,
                message_instructions: vec![instructions],
            },
            accepted,
        )),
        Some(Response::Reject(message)) => Err(CallError::Rejected {
            message,
            instructions,
        }),
        None if context.replies() => Err(CallError::NoReply { instructions }),
        None => Ok((
            Reply {
                bytes: Vec::new(),
                instructions,
                message_instructions: vec![instructions],
            },
            accepted,
        )),
    }
}

fn classify(error: wasmtime::Error, instructions: u64, fuel: u64) -> CallError {
    if let Some(trap) = error.downcast_ref::<HostTrap>() {
        return match trap {
            HostTrap::Explicit(message) | HostTrap::Contract(message) => CallError::Trapped {
                message: message.clone(),
                instructions,
            },
            // The IC reports it as a trap of the message, and so do we.
            HostTrap::WasmMemoryLimit { .. } => CallError::Trapped {
                message: trap.to_string(),
                instructions,
            },
            HostTrap::ReplyTooLarge { size, limit } => CallError::ReplyTooLarge {
                size: *size,
                limit: *limit,
                instructions,
            },
        };
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => CallError::OutOfInstructions { limit: fuel },
        Some(trap) => CallError::Trapped {
            message: format!("wasm trap: {trap}"),
            instructions,
        },
        None => CallError::Trapped {
            message: format!("{error:#}"),
            instructions,
        },
    }
}
