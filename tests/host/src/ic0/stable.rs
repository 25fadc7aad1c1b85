//! Stable memory, in its 64-bit and legacy 32-bit forms.

use wasmtime::Linker;

use super::{Ctx, Res, contract, message};
use crate::context::CanisterData;

pub(super) fn define(l: &mut Linker<CanisterData>) -> wasmtime::Result<()> {
    l.func_wrap("ic0", "stable64_size", |c: Ctx<'_>| -> Res<u64> {
        message(&c, "stable64_size")?;
        Ok(c.data().stable.pages())
    })?;
    l.func_wrap(
        "ic0",
        "stable64_grow",
        |mut c: Ctx<'_>, new_pages: u64| -> Res<u64> {
            message(&c, "stable64_grow")?;
            let max = c.data().memory_limits.max_stable_pages();
            Ok(c.data_mut().stable.grow(new_pages, max).unwrap_or(u64::MAX))
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable64_read",
        |mut c: Ctx<'_>, dst: u64, offset: u64, size: u64| -> Res<()> {
            read(&mut c, "stable64_read", dst, offset, size)
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable64_write",
        |mut c: Ctx<'_>, offset: u64, src: u64, size: u64| -> Res<()> {
            write(&mut c, "stable64_write", offset, src, size)
        },
    )?;
    l.func_wrap("ic0", "stable_size", |c: Ctx<'_>| -> Res<u32> {
        message(&c, "stable_size")?;
        match u32::try_from(c.data().stable.pages()) {
            Ok(pages) if pages <= 65_536 => Ok(pages),
            _ => contract("ic0.stable_size: stable memory exceeds 4 GiB".into()),
        }
    })?;
    l.func_wrap(
        "ic0",
        "stable_grow",
        |mut c: Ctx<'_>, new_pages: u32| -> Res<u32> {
            message(&c, "stable_grow")?;
            let max = c.data().memory_limits.max_stable_pages();
            let stable = &mut c.data_mut().stable;
            // The 32-bit API cannot address more than 4 GiB.
            if stable.pages() + u64::from(new_pages) > 65_536 {
                return Ok(u32::MAX);
            }
            Ok(stable
                .grow(u64::from(new_pages), max)
                .map_or(u32::MAX, |old| old as u32))
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable_read",
        |mut c: Ctx<'_>, dst: u32, offset: u32, size: u32| -> Res<()> {
            read(
                &mut c,
                "stable_read",
                dst.into(),
                offset.into(),
                size.into(),
            )
        },
    )?;
    l.func_wrap(
        "ic0",
        "stable_write",
        |mut c: Ctx<'_>, offset: u32, src: u32, size: u32| -> Res<()> {
            write(
                &mut c,
                "stable_write",
                offset.into(),
                src.into(),
                size.into(),
            )
        },
    )?;
    Ok(())
}

// Both directions copy straight between the heap and stable memory: asset
// canisters stream megabytes through here in every query.

fn read(c: &mut Ctx<'_>, api: &str, dst: u64, offset: u64, size: u64) -> Res<()> {
    message(c, api)?;
    let Some(memory) = c.data().memory else {
        return contract(format!("ic0.{api}: the module has no memory"));
    };
    let (heap, data) = memory.data_and_store_mut(&mut *c);
    let Some(source) = data.stable.read(offset, size) else {
        return outside_stable(api, offset, size, data.stable.pages());
    };
    match heap_range(heap.len(), dst, size) {
        Some(range) => {
            heap[range].copy_from_slice(source);
            Ok(())
        }
        None => out_of_heap(api, dst, size),
    }
}

fn write(c: &mut Ctx<'_>, api: &str, offset: u64, src: u64, size: u64) -> Res<()> {
    message(c, api)?;
    let Some(memory) = c.data().memory else {
        return contract(format!("ic0.{api}: the module has no memory"));
    };
    let (heap, data) = memory.data_and_store_mut(&mut *c);
    let Some(range) = heap_range(heap.len(), src, size) else {
        return out_of_heap(api, src, size);
    };
    if !data.stable.write(offset, &heap[range]) {
        return outside_stable(api, offset, size, data.stable.pages());
    }
    Ok(())
}

fn heap_range(len: usize, addr: u64, size: u64) -> Option<std::ops::Range<usize>> {
    let end = addr.checked_add(size)?;
    (end <= len as u64).then_some(addr as usize..end as usize)
}

fn out_of_heap<T>(api: &str, addr: u64, size: u64) -> Res<T> {
    contract(format!(
        "ic0.{api}: heap range [{addr}, {addr}+{size}) is out of bounds"
    ))
}

fn outside_stable<T>(api: &str, offset: u64, size: u64, pages: u64) -> Res<T> {
    contract(format!(
        "ic0.{api}: range [{offset}, {offset}+{size}) is outside stable memory of {pages} pages"
    ))
}
