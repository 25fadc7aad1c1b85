//! The upload progress bar: shown only to a person watching a terminal, so
//! CI logs and pipes get the one-line summary and nothing else.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A bar on stderr when it is a terminal and `CI` is not set.
    Auto,
    /// Never draw (tests, library callers).
    Off,
}

impl Progress {
    pub(crate) fn bar(self, total_bytes: u64) -> ProgressBar {
        let show = self == Progress::Auto
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none();
        if !show {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "uploading {bar:30} {binary_bytes}/{binary_total_bytes} ({eta})",
        ) {
            bar.set_style(style);
        }
        bar
    }
}
