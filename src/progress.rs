//! A plain text progress bar on stderr, drawn only when stderr is a terminal
//! and redrawn at most ten times a second, so that long runs (generating or
//! importing a million records) show they are alive without flooding a log.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn at most.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// Width of the bar in characters.
const BAR_WIDTH: u64 = 30;

/// A progress bar for `total` units of work.
pub struct Progress {
    label: String,
    total: u64,
    done: u64,
    enabled: bool,
    started: Instant,
    drawn_at: Option<Instant>,
}

impl Progress {
    /// A bar that draws itself only when stderr is a terminal.
    pub fn new(label: &str, total: u64) -> Progress {
        Progress::with_output(label, total, std::io::stderr().is_terminal())
    }

    /// A bar that draws itself when `enabled` (for tests and `--quiet`).
    pub fn with_output(label: &str, total: u64, enabled: bool) -> Progress {
        Progress {
            label: label.to_string(),
            total,
            done: 0,
            enabled,
            started: Instant::now(),
            drawn_at: None,
        }
    }

    /// Sets how much is done; redraws when enough time has passed.
    pub fn set(&mut self, done: u64) {
        self.done = done.min(self.total);
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .drawn_at
            .is_some_and(|t| now.duration_since(t) < REDRAW_EVERY)
        {
            return;
        }
        self.drawn_at = Some(now);
        self.draw(now);
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self) {
        if !self.enabled {
            return;
        }
        self.draw(Instant::now());
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err);
        self.enabled = false;
    }

    /// The bar's text, e.g. `generating [#######.......] 23% 230000/1000000 4 s`.
    pub fn line(&self, elapsed: Duration) -> String {
        let total = self.total.max(1);
        let filled = self.done.saturating_mul(BAR_WIDTH) / total;
        let percent = self.done.saturating_mul(100) / total;
        let bar: String = (0..BAR_WIDTH)
            .map(|i| if i < filled { '#' } else { '.' })
            .collect();
        format!(
            "{} [{bar}] {percent:>3}% {}/{} {} s",
            self.label,
            self.done,
            self.total,
            elapsed.as_secs()
        )
    }

    fn draw(&self, now: Instant) {
        let line = self.line(now.duration_since(self.started));
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}");
        let _ = err.flush();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        // A bar left mid-line would glue the next message to it.
        if self.enabled && self.drawn_at.is_some() {
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_shows_share_done() {
        let mut p = Progress::with_output("generating", 200, false);
        p.set(50);
        let l = p.line(Duration::from_secs(3));
        assert!(l.starts_with("generating [#######......."), "{l}");
        assert!(l.contains(" 25% 50/200 3 s"), "{l}");
        p.set(500);
        assert!(p.line(Duration::ZERO).contains("100% 200/200"));
    }
}
