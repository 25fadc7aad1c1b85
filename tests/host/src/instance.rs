//! A live canister (wasmtime store + instance) with snapshots, so that a
//! message that traps, runs out of instructions or is a query leaves no
//! trace.
//!
//! A snapshot copies the heap and every mutable global (the module was
//! rewritten to export them all, see `rewrite.rs`), saves the certified
//! data and timer, and opens the stable memory journal. Restoring writes
//! them back; if the heap grew during the message, the module is
//! instantiated afresh first, since wasm memories cannot shrink. Tables are
//! not snapshotted: compiled Rust never changes them at run time.

use wasmtime::{Instance, Store, Val};

use crate::call_queue::Closure;
use crate::context::{CanisterData, Entry, Message};
use crate::error::{CallError, HostTrap};
use crate::ic0::linker;
use crate::limits::INSTALL_INSTRUCTIONS;
use crate::module::{CompiledModule, engine};
use crate::rewrite::TABLE_EXPORT;

pub(crate) struct Canister {
    module: CompiledModule,
    store: Store<CanisterData>,
    instance: Instance,
}

pub(crate) struct Snapshot {
    heap: Vec<u8>,
    globals: Vec<(usize, Val)>,
    certified_data: Vec<u8>,
    global_timer: u64,
}

/// What running one exported function produced.
pub(crate) struct Run {
    pub result: wasmtime::Result<()>,
    pub message: Message,
    pub instructions: u64,
}

impl Canister {
    /// Links `module` against the system API and instantiates it with the
    /// given system state. Every import is checked up front so that the
    /// error names the first one the host does not provide.
    pub fn instantiate(module: &CompiledModule, data: CanisterData) -> Result<Self, CallError> {
        Self::try_instantiate(module, data).map_err(|failed| failed.0)
    }

    /// [`instantiate`](Self::instantiate), handing the system state back on
    /// failure so an upgrade can return stable memory to the old canister.
    pub fn try_instantiate(
        module: &CompiledModule,
        data: CanisterData,
    ) -> Result<Self, Box<(CallError, CanisterData)>> {
        let mut store = Store::new(engine(), data);
        // The heap limit (`heap_limit.rs`) reads the limits and the
        // current message from the store's data.
        store.limiter(|data| data as &mut dyn wasmtime::ResourceLimiter);
        let linker = linker();
        for import in module.module().imports() {
            if linker
                .get(&mut store, import.module(), import.name())
                .is_err()
            {
                let error = CallError::Link(format!(
                    "unsupported import {}.{}",
                    import.module(),
                    import.name()
                ));
                return Err(Box::new((error, store.into_data())));
            }
        }
        // A `start` function, if any, runs during instantiation.
        store
            .set_fuel(INSTALL_INSTRUCTIONS)
            .expect("fuel is enabled on the engine");
        let instance = match linker.instantiate(&mut store, module.module()) {
            Ok(instance) => instance,
            Err(e) => {
                let error = CallError::Link(format!("{e:#}"));
                return Err(Box::new((error, store.into_data())));
            }
        };
        let memory = module
            .memory_export()
            .and_then(|name| instance.get_memory(&mut store, name));
        store.data_mut().memory = memory;
        Ok(Canister {
            module: module.clone(),
            store,
            instance,
        })
    }

    pub fn module(&self) -> &CompiledModule {
        &self.module
    }

    pub fn data(&self) -> &CanisterData {
        self.store.data()
    }

    /// Bytes of wasm heap (the exported memory) and of stable memory.
    pub fn memory_bytes(&self) -> (u64, u64) {
        let data = self.store.data();
        let heap = data
            .memory
            .map_or(0, |memory| memory.data_size(&self.store) as u64);
        (heap, data.stable.pages() * crate::limits::PAGE_SIZE)
    }

    pub fn data_mut(&mut self) -> &mut CanisterData {
        self.store.data_mut()
    }

    /// Runs `entry` as `message` with `fuel` instructions.
    pub fn run(&mut self, entry: &Entry, message: Message, fuel: u64) -> Run {
        self.store
            .set_fuel(fuel)
            .expect("fuel is enabled on the engine");
        self.store.data_mut().message = Some(message);
        let result = match entry {
            Entry::Export(export) => self
                .instance
                .get_typed_func::<(), ()>(&mut self.store, export)
                .and_then(|func| func.call(&mut self.store, ())),
            Entry::Callback(closure) => self.call_closure(*closure),
        };
        let store = &mut self.store;
        let remaining = store.get_fuel().expect("fuel is enabled on the engine");
        let message = store
            .data_mut()
            .message
            .take()
            .expect("the message stays in place while the canister runs");
        Run {
            result,
            message,
            instructions: fuel - remaining,
        }
    }

    /// Calls table function `closure.fun` with `closure.env`, as the IC
    /// calls callbacks; a missing or mistyped function traps the message.
    fn call_closure(&mut self, closure: Closure) -> wasmtime::Result<()> {
        let Closure { fun, env } = closure;
        let function = self
            .instance
            .get_table(&mut self.store, TABLE_EXPORT)
            .and_then(|table| table.get(&mut self.store, u64::from(fun)))
            .and_then(|element| element.as_func().flatten().copied());
        let Some(function) = function else {
            return Err(wasmtime::Error::new(HostTrap::Contract(format!(
                "callback: table entry {fun} is not a function"
            ))));
        };
        let typed = function.typed::<i32, ()>(&self.store).map_err(|e| {
            wasmtime::Error::new(HostTrap::Contract(format!(
                "callback: table entry {fun} is not a function (env: i32) -> (): {e}"
            )))
        })?;
        typed.call(&mut self.store, env as i32)
    }

    /// Records everything the next message could change.
    pub fn snapshot(&mut self) -> Snapshot {
        let heap = match self.store.data().memory {
            Some(memory) => memory.data(&self.store).to_vec(),
            None => Vec::new(),
        };
        let mut globals = Vec::new();
        for (i, name) in self.module.mutable_globals().iter().enumerate() {
            if let Some(global) = self.instance.get_global(&mut self.store, name) {
                let value = global.get(&mut self.store);
                // Reference-typed globals cannot be copied meaningfully; Rust
                // canisters have none.
                if matches!(value, Val::I32(_) | Val::I64(_) | Val::F32(_) | Val::F64(_)) {
                    globals.push((i, value));
                }
            }
        }
        let data = self.store.data_mut();
        data.stable.begin();
        Snapshot {
            heap,
            globals,
            certified_data: data.certified_data.clone(),
            global_timer: data.global_timer,
        }
    }

    /// Keeps what the message changed.
    pub fn commit(&mut self) {
        self.store.data_mut().stable.commit();
    }

    /// Puts the canister back exactly as it was at `snapshot`.
    pub fn restore(&mut self, snapshot: Snapshot) {
        let data = self.store.data_mut();
        data.stable.rollback();
        data.certified_data = snapshot.certified_data;
        data.global_timer = snapshot.global_timer;

        let grew = match self.store.data().memory {
            Some(memory) => memory.data_size(&self.store) != snapshot.heap.len(),
            None => false,
        };
        if grew {
            let data = std::mem::take(self.store.data_mut());
            let fresh = Canister::instantiate(&self.module, data)
                .expect("a module that instantiated before instantiates again");
            *self = fresh;
        }
        if let Some(memory) = self.store.data().memory {
            let have = memory.data_size(&self.store);
            let want = snapshot.heap.len();
            if have < want {
                let pages = ((want - have) as u64).div_ceil(crate::limits::PAGE_SIZE);
                memory
                    .grow(&mut self.store, pages)
                    .expect("the heap had this size before");
            }
            memory.data_mut(&mut self.store)[..want].copy_from_slice(&snapshot.heap);
        }
        for (i, value) in snapshot.globals {
            let name = &self.module.mutable_globals()[i];
            if let Some(global) = self.instance.get_global(&mut self.store, name) {
                global
                    .set(&mut self.store, value)
                    .expect("a global keeps its type");
            }
        }
    }
}
