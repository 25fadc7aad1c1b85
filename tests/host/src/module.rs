//! Compiling canister modules: one shared engine, and each distinct wasm
//! compiled once per process however many hosts and tests use it. A
//! module comes in the IC's canister module format: a wasm binary, or one
//! compressed with gzip.

use std::collections::HashMap;
use std::io::Read;
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

/// The bytes a gzipped canister module starts with (interface
/// specification, "Canister module format").
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// The most a gzipped module may decompress to: the IC's limit on a
/// canister module's size.
const MAX_DECOMPRESSED_BYTES: u64 = 100 * 1024 * 1024;

/// Compiles `wasm`, a wasm binary or a gzipped one, (or returns the module
/// compiled earlier from the same bytes). Linking against the system API
/// happens at install time. [`CompiledModule::sha256`] is the hash of
/// `wasm` as given, compressed or not, as the IC's `module_hash` is.
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
    let wasm = gunzip(wasm).map_err(HostError::InvalidWasm)?;
    let prepared = rewrite::export_state(&wasm).map_err(HostError::InvalidWasm)?;
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

/// The wasm binary of a canister module: `module` itself, or what it
/// decompresses to if it is gzipped.
fn gunzip(module: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    if !module.starts_with(&GZIP_MAGIC) {
        return Ok(module.into());
    }
    let mut wasm = Vec::new();
    flate2::read::GzDecoder::new(module)
        .take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut wasm)
        .map_err(|e| format!("the gzipped module does not decompress: {e}"))?;
    if wasm.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(format!(
            "the gzipped module decompresses to more than {MAX_DECOMPRESSED_BYTES} bytes"
        ));
    }
    Ok(wasm.into())
}

/// `wasm` with a custom section `name` holding `payload` appended: a
/// module that behaves exactly as `wasm` but is bigger, e.g. to make a
/// deploy tool switch to chunked installation. A custom section is id 0,
/// its LEB128 size, the name (LEB128 length, UTF-8) and the payload.
pub fn append_custom_section(wasm: &[u8], name: &str, payload: &[u8]) -> Vec<u8> {
    let mut name_field = Vec::new();
    leb128::write::unsigned(&mut name_field, name.len() as u64).expect("writing to a Vec");
    name_field.extend_from_slice(name.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0);
    leb128::write::unsigned(&mut out, (name_field.len() + payload.len()) as u64)
        .expect("writing to a Vec");
    out.extend_from_slice(&name_field);
    out.extend_from_slice(payload);
    out
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
