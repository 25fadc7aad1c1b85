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
        static TOTALS: RefCell<Vec<(&'static str, u64)>> = const { RefCell::new(Vec::new()) };
    }

    /// Starts a breakdown counted by `counter` (instructions so far),
    /// unless one is under way (`report` ends it).
    pub fn start(counter: fn() -> u64) {
        if COUNTER.get().is_none() {
            COUNTER.set(Some(counter));
        }
    }

    /// Runs `f`, adding its instructions to the total of `name`.
    pub fn timed<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
        let Some(counter) = COUNTER.get() else {
            return f();
        };
        let before = counter();
        let value = f();
        let spent = counter() - before;
        TOTALS.with_borrow_mut(|totals| match totals.iter_mut().find(|(n, _)| *n == name) {
            Some((_, total)) => *total += spent,
            None => totals.push((name, spent)),
        });
        value
    }

    /// The phase `name` ended here.
    pub fn mark(name: &'static str) {
        if let Some(counter) = COUNTER.get() {
            let now = counter();
            MARKS.with_borrow_mut(|marks| marks.push((name, now)));
        }
    }

    /// `phases name=instructions-at-end ...` (cumulative), then
    /// `totals name=instructions ...` when anything was `timed`.
    /// Ends the breakdown.
    pub fn report() -> String {
        COUNTER.set(None);
        let marks = MARKS.take();
        let totals = TOTALS.take();
        let mut line = String::from("phases");
        {
            for (name, at) in marks {
                line.push_str(&format!(" {name}={at}"));
            }
        }
        {
            if !totals.is_empty() {
                line.push_str("\ntotals");
            }
            for (name, total) in totals {
                line.push_str(&format!(" {name}={total}"));
            }
        }
        line
    }
}

#[cfg(feature = "phases")]
pub use enabled::{mark, report, start, timed};

/// The phase `name` ended here (nothing without the `phases` feature).
#[cfg(not(feature = "phases"))]
#[inline(always)]
pub fn mark(_name: &'static str) {}

/// Runs `f` (its instructions are counted only with the `phases` feature).
#[cfg(not(feature = "phases"))]
#[inline(always)]
pub fn timed<T>(_name: &'static str, f: impl FnOnce() -> T) -> T {
    f()
}
