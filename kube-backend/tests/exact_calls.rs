//! The kube adapter's exact API calls, against a `tower_test` mock service (the
//! pattern of kube-rs's controller example): each test plays the API server,
//! asserts method, path, query and body of every request, and checks that no
//! further request follows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{NS, spec};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use riskgrid_capacity::{BackendError, CapacityAction, CapacityBackend, PodPhase};
use riskgrid_kube::{KubeBackend, PodSettings};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tower_test::mock::{Handle, SendResponse};

type ApiHandle = Handle<Request<Body>, Response<Body>>;

fn backend() -> (KubeBackend, ApiHandle) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(svc, NS);
    (KubeBackend::new(client, PodSettings::default()).unwrap(), handle)
}

fn query(req: &Request<Body>) -> BTreeMap<String, String> {
    let q = req.uri().query().unwrap_or("");
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.replace("%2F", "/").replace("%3D", "=").replace("%2C", ","))
        })
        .collect()
}

/// Waits for the next request and checks its method and path; returns its JSON body (Null if empty).
async fn expect(
    handle: &mut ApiHandle,
    method: Method,
    path: &str,
) -> (Request<()>, BTreeMap<String, String>, Value, SendResponse<Response<Body>>) {
    let (req, send) = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .expect("timed out waiting for a request")
        .expect("service dropped before the expected request");
    assert_eq!(req.method(), method, "method of {}", req.uri());
    assert_eq!(req.uri().path(), path);
    let q = query(&req);
    let (parts, body) = req.into_parts();
    let bytes = body.collect_bytes().await.unwrap();
    let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (Request::from_parts(parts, ()), q, json, send)
}

fn respond(send: SendResponse<Response<Body>>, code: u16, body: &Value) {
    let resp = Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    send.send_response(resp);
}

fn status(code: u16, reason: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": format!("{reason} from the test"), "reason": reason, "code": code})
}

/// After the scenario, the backend is dropped: the mock must see no further request.
async fn no_more_requests(backend: KubeBackend, mut handle: ApiHandle) {
    drop(backend);
    let next = tokio::time::timeout(Duration::from_secs(5), handle.next_request()).await.expect("mock not dropped");
    assert!(next.is_none(), "unexpected extra request: {:?}", next.map(|(r, _)| r.uri().clone()));
}

const PODS: &str = "/api/v1/namespaces/riskgrid-workers/pods";

fn assert_restricted_body(pod: &Value) {
    let ps = &pod["spec"];
    assert_eq!(ps["automountServiceAccountToken"], json!(false));
    assert_eq!(ps["enableServiceLinks"], json!(false));
    assert_eq!(ps["securityContext"]["runAsNonRoot"], json!(true));
    assert_eq!(ps["securityContext"]["runAsUser"], json!(10001));
    assert_eq!(ps["securityContext"]["seccompProfile"]["type"], json!("RuntimeDefault"));
    let c = &ps["containers"][0];
    let sc = &c["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], json!(false));
    assert_eq!(sc["privileged"], json!(false));
    assert_eq!(sc["readOnlyRootFilesystem"], json!(true));
    assert_eq!(sc["runAsNonRoot"], json!(true));
    assert_eq!(sc["runAsUser"], json!(10001));
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert!(sc["capabilities"].get("add").is_none());
    assert_eq!(sc["seccompProfile"]["type"], json!("RuntimeDefault"));
    assert_eq!(c["resources"]["requests"], c["resources"]["limits"]);
    assert_eq!(
        c["volumeMounts"],
        json!([{"name": "scratch", "mountPath": "/tmp"}, {"name": "tls", "mountPath": "/etc/riskgrid/tls", "readOnly": true}])
    );
    assert_eq!(ps["volumes"][1]["secret"], json!({"secretName": "riskgrid-worker-tls", "defaultMode": 0o440}));
    assert_eq!(ps["volumes"][0]["emptyDir"]["sizeLimit"], json!("256Mi"));
}

#[tokio::test]
async fn create_posts_one_restricted_pod() {
    let (backend, mut handle) = backend();
    let server = tokio::spawn(async move {
        let (_, q, body, send) = expect(&mut handle, Method::POST, PODS).await;
        assert!(q.is_empty(), "no query parameters: {q:?}");
        assert_eq!(body["metadata"]["name"], json!("w-1"));
        assert_eq!(body["metadata"]["namespace"], json!(NS));
        assert_eq!(body["metadata"]["labels"]["app.kubernetes.io/managed-by"], json!("riskgrid"));
        assert_eq!(body["metadata"]["labels"]["riskgrid.io/tenant"], json!("desk-a"));
        assert_eq!(body["metadata"]["labels"]["riskgrid.io/job"], json!("job-42"));
        assert_eq!(body["spec"]["nodeSelector"], json!({"riskgrid.io/nodegroup": "burst-a"}));
        assert_eq!(
            body["spec"]["tolerations"],
            json!([{"key": "riskgrid.io/burst", "operator": "Equal", "value": "desk-a", "effect": "NoSchedule"}])
        );
        assert_eq!(body["spec"]["terminationGracePeriodSeconds"], json!(125));
        assert_eq!(body["spec"]["restartPolicy"], json!("Never"));
        assert_restricted_body(&body);
        respond(send, 201, &body);
        handle
    });
    backend.apply(CapacityAction::CreatePod(spec("w-1", "burst-a", 4))).await.unwrap();
    no_more_requests(backend, server.await.unwrap()).await;
}

#[tokio::test]
async fn create_conflict_with_our_own_pod_is_success() {
    let (backend, mut handle) = backend();
    let server = tokio::spawn(async move {
        let (_, _, body, send) = expect(&mut handle, Method::POST, PODS).await;
        respond(send, 409, &status(409, "AlreadyExists"));
        let (_, _, get_body, send) = expect(&mut handle, Method::GET, &format!("{PODS}/w-1")).await;
        assert_eq!(get_body, Value::Null);
        respond(send, 200, &body);
        handle
    });
    backend.apply(CapacityAction::CreatePod(spec("w-1", "burst-a", 4))).await.unwrap();
    no_more_requests(backend, server.await.unwrap()).await;
}

#[tokio::test]
async fn create_conflict_with_a_foreign_pod_is_a_conflict() {
    let (backend, mut handle) = backend();
    let server = tokio::spawn(async move {
        let (_, _, _, send) = expect(&mut handle, Method::POST, PODS).await;
        respond(send, 409, &status(409, "AlreadyExists"));
        let (_, _, _, send) = expect(&mut handle, Method::GET, &format!("{PODS}/w-1")).await;
        let foreign = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w-1", "namespace": NS,
            "labels": {"app": "someone-else"}}, "spec": {"containers": []}});
        respond(send, 200, &foreign);
        handle
    });
    let err = backend.apply(CapacityAction::CreatePod(spec("w-1", "burst-a", 4))).await.unwrap_err();
    assert!(matches!(err, BackendError::Conflict(_)), "{err:?}");
    no_more_requests(backend, server.await.unwrap()).await;
}

#[tokio::test]
async fn create_errors_are_mapped() {
    for (code, reason, want) in [
        (403, "Forbidden", "refused"),
        (422, "Invalid", "refused"),
        (500, "InternalError", "unavailable"),
        (429, "TooManyRequests", "unavailable"),
    ] {
        let (backend, mut handle) = backend();
        let server = tokio::spawn(async move {
            let (_, _, _, send) = expect(&mut handle, Method::POST, PODS).await;
            respond(send, code, &status(code, reason));
            handle
        });
        let err = backend.apply(CapacityAction::CreatePod(spec("w-1", "g", 1))).await.unwrap_err();
        assert!(err.to_string().starts_with(want), "{code}: {err}");
        assert!(err.to_string().contains("create pod w-1"), "{err}");
        no_more_requests(backend, server.await.unwrap()).await;
    }
}

#[tokio::test]
async fn invalid_specs_make_no_call() {
    let mut bad = vec![spec("W_1", "g", 1), spec("w-1", "", 1), spec("w-1", "g", 0), spec("-w", "g", 1)];
    let mut reserved = spec("w-1", "g", 1);
    reserved.labels.insert("riskgrid.io/tenant".into(), "other".into());
    bad.push(reserved);
    let mut tenant = spec("w-1", "g", 1);
    tenant.tenant = Some("Desk A".into());
    bad.push(tenant);
    for s in bad {
        let (backend, handle) = backend();
        let err = backend.apply(CapacityAction::CreatePod(s.clone())).await.unwrap_err();
        assert!(matches!(err, BackendError::Invalid(_)), "{s:?}: {err:?}");
        no_more_requests(backend, handle).await;
    }
    let (backend, handle) = backend();
    let err = backend.apply(CapacityAction::SetNodegroupSize { nodegroup: "g".into(), desired: 3 }).await.unwrap_err();
    assert!(matches!(err, BackendError::Invalid(ref m) if m.contains("eks")), "{err:?}");
    let err = backend.apply(CapacityAction::DeletePod { name: "../etc".into() }).await.unwrap_err();
    assert!(matches!(err, BackendError::Invalid(_)), "{err:?}");
    no_more_requests(backend, handle).await;
}

#[tokio::test]
async fn delete_issues_one_delete_and_404_is_success() {
    for (code, ok) in [(200, true), (404, true), (500, false), (403, false)] {
        let (backend, mut handle) = backend();
        let server = tokio::spawn(async move {
            let (_, q, body, send) = expect(&mut handle, Method::DELETE, &format!("{PODS}/w-7")).await;
            assert!(q.is_empty(), "{q:?}");
            // Default options: no gracePeriodSeconds override, so the pod's own grace applies.
            assert!(body.get("gracePeriodSeconds").is_none(), "{body}");
            let reply = if code == 200 {
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w-7", "namespace": NS,
                       "deletionTimestamp": "2025-01-01T00:00:00Z"}})
            } else {
                status(code, "x")
            };
            respond(send, code, &reply);
            handle
        });
        let result = backend.apply(CapacityAction::DeletePod { name: "w-7".into() }).await;
        assert_eq!(result.is_ok(), ok, "{code}: {result:?}");
        no_more_requests(backend, server.await.unwrap()).await;
    }
}

fn pod_json(name: &str, group: &str, phase: &str, ready: bool, deleting: bool) -> Value {
    let mut meta = json!({"name": name, "namespace": NS,
        "labels": {"app.kubernetes.io/managed-by": "riskgrid", "riskgrid.io/nodegroup": group,
                   "riskgrid.io/tenant": "desk-a"}});
    if deleting {
        meta["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
    }
    json!({"metadata": meta,
           "spec": {"containers": [{"name": "worker", "resources": {"limits": {"cpu": "3500m"}}}]},
           "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
}

fn node_json(name: &str, labels: Value, ready: bool, cordoned: bool) -> Value {
    json!({"metadata": {"name": name, "labels": labels}, "spec": {"unschedulable": cordoned},
           "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
}

#[tokio::test]
async fn observe_lists_our_pods_and_all_nodes() {
    let (backend, mut handle) = backend();
    let server = tokio::spawn(async move {
        let (_, q, _, send) = expect(&mut handle, Method::GET, PODS).await;
        assert_eq!(q.get("labelSelector").map(String::as_str), Some("app.kubernetes.io/managed-by=riskgrid"));
        assert!(!q.contains_key("watch"));
        let pods = json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "10"}, "items": [
            pod_json("w-2", "g", "Running", true, false),
            pod_json("w-1", "g", "Running", false, false),
            pod_json("w-3", "g", "Pending", false, false),
            pod_json("w-4", "g", "Running", true, true),
            pod_json("w-5", "h", "Failed", false, false),
        ]});
        respond(send, 200, &pods);
        let (_, q, _, send) = expect(&mut handle, Method::GET, "/api/v1/nodes").await;
        assert!(!q.contains_key("labelSelector"), "{q:?}");
        let nodes = json!({"apiVersion": "v1", "kind": "NodeList", "metadata": {"resourceVersion": "10"}, "items": [
            node_json("n1", json!({"riskgrid.io/nodegroup": "g", "node.kubernetes.io/instance-type": "c5.4xlarge"}), true, false),
            node_json("n2", json!({"eks.amazonaws.com/nodegroup": "g"}), false, false),
            node_json("n3", json!({"riskgrid.io/nodegroup": "g"}), true, true),
            node_json("n4", json!({"eks.amazonaws.com/nodegroup": "h"}), true, false),
            node_json("n5", json!({"other": "x"}), true, false),
        ]});
        respond(send, 200, &nodes);
        handle
    });
    let seen = backend.observe().await.unwrap();
    let phases: Vec<(&str, PodPhase, u32)> = seen.pods.iter().map(|p| (p.name.as_str(), p.phase, p.cores)).collect();
    assert_eq!(
        phases,
        vec![
            ("w-1", PodPhase::Pending, 4),
            ("w-2", PodPhase::Ready, 4),
            ("w-3", PodPhase::Pending, 4),
            ("w-4", PodPhase::Terminating, 4),
            ("w-5", PodPhase::Failed, 4),
        ]
    );
    assert_eq!(seen.pods[0].tenant.as_deref(), Some("desk-a"));
    let groups: Vec<(&str, u32, u32, &str)> =
        seen.nodegroups.iter().map(|g| (g.name.as_str(), g.desired, g.ready_nodes, g.instance_type.as_str())).collect();
    assert_eq!(groups, vec![("g", 3, 1, "c5.4xlarge"), ("h", 1, 1, "")]);
    no_more_requests(backend, server.await.unwrap()).await;
}

#[tokio::test]
async fn observe_fails_cleanly_when_the_api_is_down() {
    let (backend, mut handle) = backend();
    let server = tokio::spawn(async move {
        let (_, _, _, send) = expect(&mut handle, Method::GET, PODS).await;
        respond(send, 503, &status(503, "ServiceUnavailable"));
        handle
    });
    let err = backend.observe().await.unwrap_err();
    assert!(matches!(err, BackendError::Unavailable(ref m) if m.contains("list pods")), "{err:?}");
    no_more_requests(backend, server.await.unwrap()).await;
}
