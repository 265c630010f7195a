//! The event queue: a min-heap keyed by (time, sequence number), so events at
//! the same millisecond fire in the order they were scheduled and a run is a
//! pure function of the scenario and seed.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Something that happens at a point in simulated time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Job `i` of the workload is submitted.
    Arrive(u32),
    /// The capacity controller runs.
    Reconcile,
    NodeReady(u32),
    PodReady(u32),
    /// A task leased to pod `pod` under lease `lease` finishes.
    TaskDone {
        pod: u32,
        lease: u64,
    },
    /// A spot interruption notice for a node.
    Notice(u32),
    /// An interrupted node is reclaimed.
    NodeGone(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    at_ms: u64,
    seq: u64,
    event: Event,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at_ms, self.seq).cmp(&(other.at_ms, other.seq))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Default)]
pub struct Events {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    popped: u64,
}

impl Events {
    pub fn push(&mut self, at_ms: u64, event: Event) {
        self.seq += 1;
        self.heap.push(Reverse(Entry { at_ms, seq: self.seq, event }));
    }

    pub fn pop(&mut self) -> Option<(u64, Event)> {
        let Reverse(e) = self.heap.pop()?;
        self.popped += 1;
        Some((e.at_ms, e.event))
    }

    /// Events handled so far.
    pub fn handled(&self) -> u64 {
        self.popped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_first_then_in_scheduling_order() {
        let mut q = Events::default();
        q.push(5, Event::NodeReady(1));
        q.push(3, Event::NodeReady(2));
        q.push(5, Event::NodeReady(3));
        q.push(3, Event::NodeReady(4));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            [(3, Event::NodeReady(2)), (3, Event::NodeReady(4)), (5, Event::NodeReady(1)), (5, Event::NodeReady(3))]
        );
    }
}
