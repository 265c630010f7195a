//! Time as an injected dependency: milliseconds on a monotonic scale.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Milliseconds since an arbitrary origin (only differences matter).
pub type Millis = u64;

/// The scheduler's only source of time.
pub trait Clock {
    fn now(&self) -> Millis;
}

/// A clock moved by hand, for tests and simulations.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    pub fn new(start: Millis) -> Self {
        ManualClock { now: AtomicU64::new(start) }
    }

    pub fn set(&self, now: Millis) {
        self.now.store(now, Ordering::SeqCst);
    }

    pub fn advance(&self, by: Millis) {
        self.now.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

/// Real time: milliseconds since the clock was created.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    pub fn new() -> Self {
        MonotonicClock { origin: Instant::now() }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Millis {
        self.origin.elapsed().as_millis() as Millis
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Millis {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Millis {
        (**self).now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = Arc::new(ManualClock::new(5));
        let shared = Arc::clone(&clock);
        assert_eq!(shared.now(), 5);
        clock.advance(10);
        assert_eq!(shared.now(), 15);
        clock.set(100);
        assert_eq!(Clock::now(&&*shared), 100);
    }
}
