//! Compiling canister modules: one shared engine, and each distinct wasm
//! compiled once per process however many hosts and tests use it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, ExternType, Module, Mutability};

use crate::error::HostError;
use crate::rewrite;

/// A compiled canister module. Cloning is cheap (an `Arc`), and compiling
/// the same bytes again returns the cached module.
#[derive(Clone)]
pub struct CompiledModule {
    inner: Arc<Inner>,
}

struct Inner {
    module: Module,
    hash: [u8; 32],
    compile_time: Duration,
    memory: Option<String>,
    mutable_globals: Vec<String>,
}

impl std::fmt::Debug for CompiledModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModule")
            .field("sha256", &hex(&self.inner.hash))
            .field("compile_time", &self.inner.compile_time)
            .finish()
    }
}

/// The engine every module and store shares; fuel metering is how the
/// host counts instructions.
pub(crate) fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut config = Config::new();
        config.consume_fuel(true);
        Engine::new(&config).expect("the host's fixed wasmtime configuration is valid")
    })
}

/// Compiles `wasm` (or returns the module compiled earlier from the same
/// bytes). Linking against the system API happens at install time.
pub fn compile(wasm: &[u8]) -> Result<CompiledModule, HostError> {
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], CompiledModule>>> = OnceLock::new();
    let hash: [u8; 32] = Sha256::digest(wasm).into();
    // Holding the lock while compiling makes concurrent tests wait for the
    // one compilation rather than each doing their own.
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(module) = cache.get(&hash) {
        return Ok(module.clone());
    }
    let started = Instant::now();
    let prepared = rewrite::export_state(wasm).map_err(HostError::InvalidWasm)?;
    let module =
        Module::new(engine(), &prepared).map_err(|e| HostError::InvalidWasm(format!("{e:#}")))?;
    let compile_time = started.elapsed();

    let mut memory = None;
    let mut mutable_globals = Vec::new();
    for export in module.exports() {
        match export.ty() {
            ExternType::Memory(_) if memory.is_none() => memory = Some(export.name().to_string()),
            ExternType::Global(g) if g.mutability() == Mutability::Var => {
                mutable_globals.push(export.name().to_string())
            }
            _ => {}
        }
    }
    let compiled = CompiledModule {
        inner: Arc::new(Inner {
            module,
            hash,
            compile_time,
            memory,
            mutable_globals,
        }),
    };
    cache.insert(hash, compiled.clone());
    Ok(compiled)
}

/// How a canister method is exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MethodKind {
    Update,
    Query,
    CompositeQuery,
}

impl CompiledModule {
    /// SHA-256 of the wasm as given to [`compile`].
    pub fn sha256(&self) -> [u8; 32] {
        self.inner.hash
    }

    /// How long wasmtime took to compile the module (the first time).
    pub fn compile_time(&self) -> Duration {
        self.inner.compile_time
    }

    pub(crate) fn module(&self) -> &Module {
        &self.inner.module
    }

    /// Name of the exported memory, if the module has one.
    pub(crate) fn memory_export(&self) -> Option<&str> {
        self.inner.memory.as_deref()
    }

    pub(crate) fn mutable_globals(&self) -> &[String] {
        &self.inner.mutable_globals
    }

    pub(crate) fn exports_function(&self, name: &str) -> bool {
        matches!(
            self.inner.module.get_export(name),
            Some(ExternType::Func(_))
        )
    }

    /// The export implementing `method`, and how it was exported.
    pub(crate) fn method(&self, method: &str) -> Option<(String, MethodKind)> {
        [
            ("canister_update", MethodKind::Update),
            ("canister_query", MethodKind::Query),
            ("canister_composite_query", MethodKind::CompositeQuery),
        ]
        .into_iter()
        .map(|(prefix, kind)| (format!("{prefix} {method}"), kind))
        .find(|(export, _)| self.exports_function(export))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
