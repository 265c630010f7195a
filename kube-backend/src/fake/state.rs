//! The fake API server's store: objects as JSON, a global resourceVersion,
//! an event log watches resume from, and the open watches.

use super::selector::Selector;
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// Timestamp written into creationTimestamp / deletionTimestamp (the fake has no clock).
pub(crate) const TIMESTAMP: &str = "2025-01-01T00:00:00Z";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Pod,
    Node,
}

impl Kind {
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Node => "Node",
        }
    }

    pub(crate) fn namespaced(self) -> bool {
        matches!(self, Kind::Pod)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    pub kind: Kind,
    /// Empty for cluster-scoped objects.
    pub ns: String,
    pub name: String,
}

/// Which objects a list or watch sees.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub ns: Option<String>,
    pub labels: Selector,
    pub fields: Selector,
}

impl Filter {
    fn matches(&self, key: &Key, obj: &Value) -> bool {
        if self.ns.as_ref().is_some_and(|ns| *ns != key.ns) {
            return false;
        }
        let labels: BTreeMap<String, String> =
            obj.pointer("/metadata/labels").and_then(|l| serde_json::from_value(l.clone()).ok()).unwrap_or_default();
        let fields: BTreeMap<String, String> =
            [("metadata.name".to_owned(), key.name.clone()), ("metadata.namespace".to_owned(), key.ns.clone())]
                .into_iter()
                .collect();
        self.labels.matches(&labels) && self.fields.matches(&fields)
    }
}

#[derive(Debug)]
struct Watch {
    id: u64,
    kind: Kind,
    filter: Filter,
    tx: UnboundedSender<Bytes>,
}

#[derive(Debug)]
struct Logged {
    rv: u64,
    key: Key,
    kind: &'static str,
    obj: Value,
}

/// Why a watch could not start.
#[derive(Debug)]
pub(crate) enum WatchFrom {
    /// The requested resourceVersion was compacted away (the API's 410 Gone).
    Gone(u64),
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    rv: u64,
    /// Oldest resourceVersion a watch may resume from (raised by `compact`).
    floor: u64,
    objects: BTreeMap<Key, Value>,
    log: Vec<Logged>,
    watches: Vec<Watch>,
    next_watch: u64,
}

fn line(kind: &str, obj: &Value) -> Bytes {
    let mut s = json!({"type": kind, "object": obj}).to_string();
    s.push('\n');
    Bytes::from(s)
}

impl Store {
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    pub fn keys(&self, kind: Kind) -> Vec<Key> {
        self.objects.keys().filter(|k| k.kind == kind).cloned().collect()
    }

    pub fn list(&self, kind: Kind, filter: &Filter) -> Vec<Value> {
        self.objects.iter().filter(|(k, o)| k.kind == kind && filter.matches(k, o)).map(|(_, o)| o.clone()).collect()
    }

    /// Stores `obj` under `key` (ADDED if new, MODIFIED otherwise) at a new resourceVersion.
    pub fn put(&mut self, key: Key, mut obj: Value) -> Value {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let kind = if self.objects.contains_key(&key) { "MODIFIED" } else { "ADDED" };
        self.objects.insert(key.clone(), obj.clone());
        self.record(key, kind, obj.clone());
        obj
    }

    /// Removes the object (DELETED, at a new resourceVersion).
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let mut obj = self.objects.remove(key)?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.record(key.clone(), "DELETED", obj.clone());
        Some(obj)
    }

    fn record(&mut self, key: Key, kind: &'static str, obj: Value) {
        let bytes = line(kind, &obj);
        self.watches.retain(|w| {
            if w.kind != key.kind || !w.filter.matches(&key, &obj) {
                return true;
            }
            w.tx.send(bytes.clone()).is_ok()
        });
        self.log.push(Logged { rv: self.rv, key, kind, obj });
    }

    /// Forgets the event log: watches from an older resourceVersion get 410 Gone.
    pub fn compact(&mut self) {
        self.log.clear();
        self.floor = self.rv;
    }

    /// Opens a watch. `since` = None (or 0): synthetic ADDED events for everything
    /// current, then changes; `since` = rv: every logged change after rv, then changes.
    pub fn watch(
        &mut self,
        kind: Kind,
        filter: Filter,
        since: Option<u64>,
    ) -> Result<(u64, UnboundedReceiver<Bytes>), WatchFrom> {
        let (tx, rx) = unbounded_channel();
        match since {
            None | Some(0) => {
                for (k, o) in &self.objects {
                    if k.kind == kind && filter.matches(k, o) {
                        let _ = tx.send(line("ADDED", o));
                    }
                }
            }
            Some(rv) if rv < self.floor => return Err(WatchFrom::Gone(rv)),
            Some(rv) => {
                for e in self.log.iter().filter(|e| e.rv > rv && e.key.kind == kind && filter.matches(&e.key, &e.obj)) {
                    let _ = tx.send(line(e.kind, &e.obj));
                }
            }
        }
        self.next_watch += 1;
        let id = self.next_watch;
        self.watches.push(Watch { id, kind, filter, tx });
        Ok((id, rx))
    }

    /// Ends a watch (its stream closes; a client resumes from its last resourceVersion).
    pub fn close_watch(&mut self, id: u64) {
        self.watches.retain(|w| w.id != id);
    }

    /// Ends every open watch.
    pub fn close_all_watches(&mut self) {
        self.watches.clear();
    }

    pub fn open_watches(&self) -> usize {
        self.watches.iter().filter(|w| !w.tx.is_closed()).count()
    }
}
