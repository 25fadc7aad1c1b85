//! Makes a module's whole mutable state reachable from the host.
//!
//! Rolling back a trapped message must restore every mutable global, but
//! wasmtime only exposes exported ones, and Rust canisters keep
//! `__stack_pointer` private. As the IC does when it instruments a module,
//! we append exports for every mutable global (and for the memory, if the
//! module keeps it private) before compiling. The function table gets an
//! export of the host's own too: inter-canister call callbacks are table
//! indices, and Rust canisters do not export their table. Only the export
//! section changes; every other byte is copied as is.

use wasmparser::{
    BinaryReader, ExportSectionReader, ExternalKind, GlobalSectionReader, ImportSectionReader,
    MemorySectionReader, TableSectionReader, TypeRef,
};

/// Prefix of the names the host adds; no canister method can collide with
/// it since canister exports start with `canister_`.
pub(crate) const GLOBAL_EXPORT_PREFIX: &str = "__wasm_host_global_";
pub(crate) const MEMORY_EXPORT: &str = "__wasm_host_memory";
/// Table 0, exported under this name even if the module exports it too
/// (an item may be exported twice), so the host never has to guess.
pub(crate) const TABLE_EXPORT: &str = "__wasm_host_table";

const SECTION_TABLE: u8 = 4;
const SECTION_MEMORY: u8 = 5;
const SECTION_IMPORT: u8 = 2;
const SECTION_GLOBAL: u8 = 6;
const SECTION_EXPORT: u8 = 7;
const SECTION_CUSTOM: u8 = 0;

struct Section<'a> {
    id: u8,
    /// The whole section, header included.
    raw: &'a [u8],
    /// The section's content and its offset in the module.
    body: &'a [u8],
    body_offset: usize,
}

/// Returns `wasm` with exports added for every mutable global not yet
/// exported, for a private memory and for table 0.
pub(crate) fn export_state(wasm: &[u8]) -> Result<Vec<u8>, String> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a wasm module (bad magic)".into());
    }
    let sections = split_sections(wasm)?;

    let mut imported_globals = 0u32;
    let mut imported_memories = 0u32;
    let mut tables = 0u32;
    let mut mutable = Vec::new();
    let mut defined_memories = 0u32;
    let mut exported_globals = Vec::new();
    let mut memory_exported = false;
    let mut export_count = 0u32;
    let mut export_entries: &[u8] = &[];

    for s in &sections {
        let reader = BinaryReader::new(s.body, s.body_offset);
        match s.id {
            SECTION_IMPORT => {
                for import in ImportSectionReader::new(reader)
                    .map_err(err)?
                    .into_imports()
                {
                    match import.map_err(err)?.ty {
                        TypeRef::Global(_) => imported_globals += 1,
                        TypeRef::Memory(_) => imported_memories += 1,
                        TypeRef::Table(_) => tables += 1,
                        _ => {}
                    }
                }
            }
            SECTION_GLOBAL => {
                for global in GlobalSectionReader::new(reader).map_err(err)? {
                    mutable.push(global.map_err(err)?.ty.mutable);
                }
            }
            SECTION_TABLE => {
                tables += TableSectionReader::new(reader).map_err(err)?.count();
            }
            SECTION_MEMORY => {
                defined_memories = MemorySectionReader::new(reader).map_err(err)?.count();
            }
            SECTION_EXPORT => {
                let exports = ExportSectionReader::new(reader).map_err(err)?;
                export_count = exports.count();
                // The entries follow the LEB128 count, which we rewrite.
                let count_len = leb_len(s.body)?;
                export_entries = &s.body[count_len..];
                for export in exports {
                    let export = export.map_err(err)?;
                    match export.kind {
                        ExternalKind::Global => exported_globals.push(export.index),
                        ExternalKind::Memory => memory_exported = true,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    let mut added = Vec::new();
    let mut added_count = 0u32;
    for (i, is_mutable) in mutable.iter().enumerate() {
        let index = imported_globals + i as u32;
        if *is_mutable && !exported_globals.contains(&index) {
            push_export(
                &mut added,
                &format!("{GLOBAL_EXPORT_PREFIX}{index}"),
                0x03,
                index,
            );
            added_count += 1;
        }
    }
    if !memory_exported && imported_memories == 0 && defined_memories > 0 {
        push_export(&mut added, MEMORY_EXPORT, 0x02, 0);
        added_count += 1;
    }
    if tables > 0 {
        push_export(&mut added, TABLE_EXPORT, 0x01, 0);
        added_count += 1;
    }
    if added_count == 0 {
        return Ok(wasm.to_vec());
    }

    let mut body = Vec::new();
    write_leb(&mut body, u64::from(export_count + added_count));
    body.extend_from_slice(export_entries);
    body.extend_from_slice(&added);
    let mut export_section = vec![SECTION_EXPORT];
    write_leb(&mut export_section, body.len() as u64);
    export_section.extend_from_slice(&body);

    let mut out = wasm[..8].to_vec();
    let mut written = false;
    for s in &sections {
        // Sections are ordered by id except custom ones (and data count,
        // 12, which sits before code); the export section goes after the
        // global section, i.e. before the first later known section.
        let after_export = s.id != SECTION_CUSTOM && s.id > SECTION_EXPORT;
        if s.id == SECTION_EXPORT || (!written && after_export) {
            if !written {
                out.extend_from_slice(&export_section);
                written = true;
            }
            if s.id == SECTION_EXPORT {
                continue;
            }
        }
        out.extend_from_slice(s.raw);
    }
    if !written {
        out.extend_from_slice(&export_section);
    }
    Ok(out)
}

fn err(e: wasmparser::BinaryReaderError) -> String {
    e.to_string()
}

fn split_sections(wasm: &[u8]) -> Result<Vec<Section<'_>>, String> {
    let mut sections = Vec::new();
    let mut pos = 8;
    while pos < wasm.len() {
        let start = pos;
        let id = wasm[pos];
        pos += 1;
        let (size, len) = read_leb(&wasm[pos..])?;
        pos += len;
        let end = usize::try_from(size)
            .ok()
            .and_then(|size| pos.checked_add(size))
            .filter(|end| *end <= wasm.len())
            .ok_or_else(|| format!("section {id} at offset {start} runs past the end"))?;
        sections.push(Section {
            id,
            raw: &wasm[start..end],
            body: &wasm[pos..end],
            body_offset: pos,
        });
        pos = end;
    }
    Ok(sections)
}

fn read_leb(bytes: &[u8]) -> Result<(u64, usize), String> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err("malformed LEB128 number".into())
}

fn leb_len(bytes: &[u8]) -> Result<usize, String> {
    read_leb(bytes).map(|(_, len)| len)
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn push_export(out: &mut Vec<u8>, name: &str, kind: u8, index: u32) {
    write_leb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
    out.push(kind);
    write_leb(out, u64::from(index));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exports(wasm: &[u8]) -> Vec<String> {
        let module = wasmtime::Module::new(crate::module::engine(), wasm).unwrap();
        module.exports().map(|e| e.name().to_string()).collect()
    }

    #[test]
    fn adds_an_export_section_where_there_was_none() {
        let wasm = wat::parse_str(
            r#"(module (memory 1) (global (mut i64) (i64.const 1))
                 (global i32 (i32.const 2)) (func) (start 0))"#,
        )
        .unwrap();
        let out = export_state(&wasm).unwrap();
        assert_eq!(
            exports(&out),
            [format!("{GLOBAL_EXPORT_PREFIX}0"), MEMORY_EXPORT.into()]
        );
    }

    #[test]
    fn keeps_existing_exports_and_counts_imported_globals() {
        let wasm = wat::parse_str(
            r#"(module (import "m" "g" (global i32))
                 (memory (export "memory") 1)
                 (global (export "sp") (mut i32) (i32.const 0))
                 (global (mut i32) (i32.const 0))
                 (func (export "canister_query f")))"#,
        )
        .unwrap();
        let out = export_state(&wasm).unwrap();
        assert_eq!(
            exports(&out),
            [
                "memory",
                "sp",
                "canister_query f",
                &format!("{GLOBAL_EXPORT_PREFIX}2")
            ]
        );
    }

    #[test]
    fn exports_table_zero_even_when_already_exported() {
        let wasm =
            wat::parse_str(r#"(module (table (export "t") 2 funcref) (table 5 funcref))"#).unwrap();
        let out = export_state(&wasm).unwrap();
        assert_eq!(exports(&out), ["t", TABLE_EXPORT]);
        let module = wasmtime::Module::new(crate::module::engine(), &out).unwrap();
        let mut store = wasmtime::Store::new(crate::module::engine(), ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[]).unwrap();
        let table = instance.get_table(&mut store, TABLE_EXPORT).unwrap();
        assert_eq!(table.size(&store), 2, "table 0, not table 1");
    }

    #[test]
    fn rejects_garbage() {
        assert!(export_state(b"not wasm").is_err());
        assert!(export_state(b"\0asm\x01\0\0\0\x07\xff").is_err());
    }
}
