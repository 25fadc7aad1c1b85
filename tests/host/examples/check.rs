//! Compiles a canister wasm and installs it in a fresh host, reporting the
//! compile time and whether every import links:
//! `cargo run -p wasm-host --example check -- path/to/canister.wasm [candid-init-arg-hex]`

use wasm_host::{Host, Principal, compile};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: check <canister.wasm> [init arg as hex]");
        std::process::exit(2);
    };
    let arg = args.next().map_or_else(
        || b"DIDL\x00\x00".to_vec(),
        |hex| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex argument"))
                .collect()
        },
    );
    let wasm = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let module = compile(&wasm).unwrap_or_else(|e| panic!("{e}"));
    println!(
        "compiled {} bytes in {:?}",
        wasm.len(),
        module.compile_time()
    );
    let mut host = Host::new();
    match host.install(&module, &arg, Principal::anonymous()) {
        Ok(outcome) => println!("installed; init used {} instructions", outcome.instructions),
        Err(e) => {
            println!("install failed: {e}");
            std::process::exit(1);
        }
    }
}
