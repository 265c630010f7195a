//! HTTP routing of the fake API server: the core/v1 paths of pods and nodes,
//! list/watch/get/create/delete, and Status errors shaped like the real ones.

use super::State;
use super::body::FakeBody;
use super::selector::Selector;
use super::state::{Filter, Key, Kind, TIMESTAMP, WatchFrom};
use http::{Method, Response, StatusCode, Uri};
use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// A response, and the watch to close after a timeout, if one was opened.
pub(crate) struct Reply {
    pub response: Response<FakeBody>,
    pub watch: Option<(u64, Duration)>,
}

impl From<Response<FakeBody>> for Reply {
    fn from(response: Response<FakeBody>) -> Self {
        Self { response, watch: None }
    }
}

enum Target {
    Collection { kind: Kind, ns: Option<String> },
    Item { kind: Kind, ns: String, name: String },
}

fn route(path: &str) -> Option<Target> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let kind = |s: &str| match s {
        "pods" => Some(Kind::Pod),
        "nodes" => Some(Kind::Node),
        _ => None,
    };
    match segs.as_slice() {
        ["api", "v1", "namespaces", ns, res] => {
            let kind = kind(res).filter(|k| k.namespaced())?;
            Some(Target::Collection { kind, ns: Some((*ns).to_owned()) })
        }
        ["api", "v1", "namespaces", ns, res, name] => {
            let kind = kind(res).filter(|k| k.namespaced())?;
            Some(Target::Item { kind, ns: (*ns).to_owned(), name: (*name).to_owned() })
        }
        ["api", "v1", res] => Some(Target::Collection { kind: kind(res)?, ns: None }),
        ["api", "v1", res, name] => {
            let kind = kind(res).filter(|k| !k.namespaced())?;
            Some(Target::Item { kind, ns: String::new(), name: (*name).to_owned() })
        }
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(uri: &Uri) -> BTreeMap<String, String> {
    uri.query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn json_response(code: StatusCode, v: &Value) -> Response<FakeBody> {
    let mut r = Response::new(FakeBody::full(v.to_string()));
    *r.status_mut() = code;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

fn status_json(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

/// A Status error response, as the API server sends it.
pub(crate) fn status(code: u16, reason: &str, message: &str) -> Response<FakeBody> {
    let sc = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(sc, &status_json(code, reason, message))
}

fn resource(kind: Kind) -> &'static str {
    match kind {
        Kind::Pod => "pods",
        Kind::Node => "nodes",
    }
}

fn filter(ns: Option<String>, q: &BTreeMap<String, String>) -> Result<Filter, String> {
    let parse = |k: &str| Selector::parse(q.get(k).map_or("", String::as_str)).map_err(|e| format!("{k}: {e}"));
    Ok(Filter { ns, labels: parse("labelSelector")?, fields: parse("fieldSelector")? })
}

pub(crate) fn handle(state: &mut State, method: &Method, uri: &Uri, body: &[u8]) -> Reply {
    state.requests.push(format!("{method} {}", uri.path_and_query().map_or(uri.path(), |p| p.as_str())));
    if let Some(i) = state.failures.iter().position(|(m, _)| m == method) {
        let (_, code) = state.failures.remove(i);
        return status(code, "", "injected failure").into();
    }
    let q = query(uri);
    let Some(target) = route(uri.path()) else {
        return status(404, "NotFound", &format!("the server could not find the requested resource ({})", uri.path()))
            .into();
    };
    match (method.clone(), target) {
        (Method::GET, Target::Collection { kind, ns }) => {
            let f = match filter(ns, &q) {
                Ok(f) => f,
                Err(e) => return status(400, "BadRequest", &e).into(),
            };
            if matches!(q.get("watch").map(String::as_str), Some("true" | "1")) {
                watch(state, kind, f, &q)
            } else {
                list(state, kind, &f).into()
            }
        }
        (Method::POST, Target::Collection { kind, ns }) => create(state, kind, ns, body).into(),
        (Method::GET, Target::Item { kind, ns, name }) => {
            match state.store.get(&Key { kind, ns, name: name.clone() }) {
                Some(o) => json_response(StatusCode::OK, o).into(),
                None => not_found(kind, &name).into(),
            }
        }
        (Method::DELETE, Target::Item { kind, ns, name }) => delete(state, Key { kind, ns, name }, body).into(),
        (m, _) => status(405, "MethodNotAllowed", &format!("{m} is not supported by the fake")).into(),
    }
}

fn not_found(kind: Kind, name: &str) -> Response<FakeBody> {
    status(404, "NotFound", &format!("{} \"{name}\" not found", resource(kind)))
}

fn list(state: &State, kind: Kind, f: &Filter) -> Response<FakeBody> {
    let items = state.store.list(kind, f);
    let v = json!({"kind": format!("{}List", kind.kind()), "apiVersion": "v1",
                   "metadata": {"resourceVersion": state.store.resource_version().to_string()}, "items": items});
    json_response(StatusCode::OK, &v)
}

fn watch(state: &mut State, kind: Kind, f: Filter, q: &BTreeMap<String, String>) -> Reply {
    let since = match q.get("resourceVersion").map(String::as_str) {
        None | Some("") => None,
        Some(s) => match s.parse::<u64>() {
            Ok(rv) => Some(rv),
            Err(_) => return status(400, "BadRequest", &format!("resourceVersion: {s:?} is not a number")).into(),
        },
    };
    let timeout = q.get("timeoutSeconds").and_then(|s| s.parse::<u64>().ok()).map(Duration::from_secs);
    let timeout = match (timeout, state.max_watch) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut response = match state.store.watch(kind, f, since) {
        Ok((id, rx)) => {
            let mut r = Response::new(super::body::FakeBody::stream(rx));
            *r.status_mut() = StatusCode::OK;
            return Reply { response: with_json(r), watch: timeout.map(|t| (id, t)) };
        }
        Err(WatchFrom::Gone(rv)) => {
            // The real server answers 200 and sends one ERROR event with a 410 Status.
            let ev = json!({"type": "ERROR", "object": status_json(410, "Expired",
                &format!("too old resource version: {rv} ({})", state.store.resource_version()))});
            Response::new(FakeBody::full(format!("{ev}\n")))
        }
    };
    *response.status_mut() = StatusCode::OK;
    with_json(response).into()
}

fn with_json(mut r: Response<FakeBody>) -> Response<FakeBody> {
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.len() <= 63
                && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !p.starts_with('-')
                && !p.ends_with('-')
        })
}

fn create(state: &mut State, kind: Kind, ns: Option<String>, body: &[u8]) -> Response<FakeBody> {
    let mut obj: Value = match serde_json::from_slice(body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return status(400, "BadRequest", "the request body is not a JSON object"),
    };
    if obj.get("kind").and_then(Value::as_str).is_some_and(|k| k != kind.kind()) {
        return status(400, "BadRequest", &format!("kind must be {}", kind.kind()));
    }
    let ns = match (kind.namespaced(), ns) {
        (true, Some(ns)) => ns,
        (true, None) => return status(405, "MethodNotAllowed", "create needs a namespace"),
        (false, _) => String::new(),
    };
    if let Some(body_ns) = obj.pointer("/metadata/namespace").and_then(Value::as_str)
        && kind.namespaced()
        && body_ns != ns
    {
        return status(
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
        );
    }
    state.uid += 1;
    let name = match obj.pointer("/metadata/name").and_then(Value::as_str) {
        Some(n) => n.to_owned(),
        None => match obj.pointer("/metadata/generateName").and_then(Value::as_str) {
            Some(g) => format!("{g}{:05x}", state.uid),
            None => return status(422, "Invalid", "metadata.name: Required value"),
        },
    };
    if !valid_name(&name) {
        return status(
            422,
            "Invalid",
            &format!("metadata.name: Invalid value: {name:?}: a lowercase RFC 1123 subdomain"),
        );
    }
    if kind == Kind::Pod {
        let pod: Pod = match serde_json::from_value(obj.clone()) {
            Ok(p) => p,
            Err(e) => return status(400, "BadRequest", &format!("decoding Pod: {e}")),
        };
        if let Some(hook) = &state.admission
            && let Err(msg) = hook(&pod)
        {
            return status(403, "Forbidden", &format!("admission webhook \"fake\" denied the request: {msg}"));
        }
    }
    let key = Key { kind, ns: ns.clone(), name: name.clone() };
    if state.store.get(&key).is_some() {
        return status(409, "AlreadyExists", &format!("{} \"{name}\" already exists", resource(kind)));
    }
    obj["apiVersion"] = json!("v1");
    obj["kind"] = json!(kind.kind());
    let meta = &mut obj["metadata"];
    meta["name"] = json!(name);
    if kind.namespaced() {
        meta["namespace"] = json!(ns);
    }
    meta["uid"] = json!(format!("00000000-0000-0000-0000-{:012x}", state.uid));
    meta["creationTimestamp"] = json!(TIMESTAMP);
    meta["generation"] = json!(1);
    if kind == Kind::Pod && obj.pointer("/status/phase").is_none() {
        obj["status"] = json!({"phase": "Pending"});
    }
    let stored = state.store.put(key, obj);
    json_response(StatusCode::CREATED, &stored)
}

fn delete(state: &mut State, key: Key, body: &[u8]) -> Response<FakeBody> {
    let Some(existing) = state.store.get(&key).cloned() else {
        return not_found(key.kind, &key.name);
    };
    let grace_zero =
        serde_json::from_slice::<Value>(body).ok().and_then(|v| v.get("gracePeriodSeconds").and_then(Value::as_i64))
            == Some(0);
    if key.kind == Kind::Pod && state.graceful_delete && !grace_zero {
        if existing.pointer("/metadata/deletionTimestamp").is_some() {
            return json_response(StatusCode::OK, &existing);
        }
        let grace = existing.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(30);
        let mut obj = existing;
        obj["metadata"]["deletionTimestamp"] = json!(TIMESTAMP);
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
        let stored = state.store.put(key, obj);
        return json_response(StatusCode::OK, &stored);
    }
    match state.store.remove(&key) {
        Some(o) => json_response(StatusCode::OK, &o),
        None => not_found(key.kind, &key.name),
    }
}
