//! Instruction counts per phase of a call, for the benchmark's breakdown.
//!
//! Built only with the `phases` feature (`scripts/bench.sh` builds a second
//! wasm with it); otherwise `mark` is empty and compiles away. The core
//! stays free of system calls: the API layer installs the counter.

#[cfg(feature = "phases")]
mod enabled {
    use std::cell::{Cell, RefCell};

    thread_local! {
        static COUNTER: Cell<Option<fn() -> u64>> = const { Cell::new(None) };
        static MARKS: RefCell<Vec<(&'static str, u64)>> = const { RefCell::new(Vec::new()) };
    }

    /// Starts a new breakdown, counted by `counter` (instructions so far).
    pub fn start(counter: fn() -> u64) {
        COUNTER.set(Some(counter));
        MARKS.with_borrow_mut(Vec::clear);
    }

    /// The phase `name` ended here.
    pub fn mark(name: &'static str) {
        if let Some(counter) = COUNTER.get() {
            let now = counter();
            MARKS.with_borrow_mut(|marks| marks.push((name, now)));
        }
    }

    /// `phases name=instructions-at-end ...`, cumulative, for the log.
    pub fn report() -> String {
        MARKS.with_borrow(|marks| {
            let mut line = String::from("phases");
            for (name, at) in marks {
                line.push_str(&format!(" {name}={at}"));
            }
            line
        })
    }
}

#[cfg(feature = "phases")]
pub use enabled::{mark, report, start};

/// The phase `name` ended here (nothing without the `phases` feature).
#[cfg(not(feature = "phases"))]
#[inline(always)]
pub fn mark(_name: &'static str) {}
