//! Issue #5 end to end: a real scheduler process serving mTLS with
//! certificates from `riskgrid certs init`, real worker and client processes,
//! and in-test gRPC clients holding good, missing, foreign, expired and
//! wrong-kind certificates. Then admission (Rego), quotas, the audit log and
//! `riskgrid audit verify`; and proptest fuzzing of what the scheduler parses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::grid::{assert_same_bits, job_file, json, local, riskgrid, temp_dir, wait_until};
use common::tls::{certs, tls_flags, tls_scheduler, tls_worker};
use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::job_service_client::JobServiceClient;
use riskgrid_proto::v1::worker_service_client::WorkerServiceClient;
use riskgrid_security::Identity;
use riskgrid_security::certs::{Ca, Validity};
use std::path::Path;
use std::time::Duration;
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

fn run_cli(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    riskgrid(&args, Duration::from_secs(60))
}

/// A TLS channel trusting `ca` and presenting `identity` (PEM cert, key), or no certificate.
async fn channel(url: &str, ca: &str, identity: Option<(String, String)>) -> Result<Channel, tonic::Status> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
    if let Some((cert, key)) = identity {
        tls = tls.identity(tonic::transport::Identity::from_pem(cert, key));
    }
    let url = url.replacen("http://", "https://", 1);
    let endpoint = Endpoint::from_shared(url).unwrap().tls_config(tls).unwrap().connect_timeout(Duration::from_secs(5));
    endpoint.connect().await.map_err(|e| tonic::Status::unavailable(format!("connect: {e:?}")))
}

fn read(certs: &Path, who: &str) -> (String, String) {
    (
        std::fs::read_to_string(certs.join(format!("{who}.pem"))).unwrap(),
        std::fs::read_to_string(certs.join(format!("{who}-key.pem"))).unwrap(),
    )
}

fn submit_request(paths: u64, tenant: &str) -> pb::SubmitJobRequest {
    let dir = temp_dir(&format!("req-{paths}-{tenant}"));
    let bytes = std::fs::read(job_file(&dir, "job.yaml", paths)).unwrap();
    pb::SubmitJobRequest {
        client_request_id: format!("r-{paths}-{tenant}"),
        spec: Some(pb::submit_job_request::Spec::JobYaml(bytes)),
        tenant: tenant.into(),
        ..Default::default()
    }
}

async fn submit_as(url: &str, ca: &str, identity: Option<(String, String)>) -> Result<String, tonic::Status> {
    let ch = channel(url, ca, identity).await?;
    let r = JobServiceClient::new(ch).submit_job(submit_request(4096, "")).await?;
    Ok(r.into_inner().job_id)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn mtls_refuses_missing_foreign_expired_and_wrong_kind_certificates() {
    let dir = temp_dir("sec-mtls");
    let certs = certs(&dir, "alpha");
    let (_s, url) = tls_scheduler(&certs, &[]);
    let ca = std::fs::read_to_string(certs.join("ca.pem")).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let other = Ca::generate("another CA", Validity::days_from(now, 1)).unwrap();
    let foreign = other.issue(&Identity::Tenant("alpha".into()), Validity::days_from(now, 1), &[]).unwrap();
    let rt = rt();
    rt.block_on(async {
        // The tenant's own certificate works.
        assert!(submit_as(&url, &ca, Some(read(&certs, "tenant-alpha"))).await.is_ok());
        // No client certificate: UNAUTHENTICATED.
        let e = submit_as(&url, &ca, None).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{e:?}");
        // A certificate from another CA: refused in the TLS handshake.
        let e = submit_as(&url, &ca, Some((foreign.cert.clone(), foreign.key.clone()))).await.unwrap_err();
        assert!(
            matches!(e.code(), Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Unauthenticated),
            "{e:?}"
        );
        // A worker certificate on a client RPC: PERMISSION_DENIED.
        let e = submit_as(&url, &ca, Some(read(&certs, "worker-0"))).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        assert!(e.message().contains("spiffe://riskgrid/worker/worker-0"), "{e:?}");
        // A tenant certificate on a worker RPC: PERMISSION_DENIED.
        let ch = channel(&url, &ca, Some(read(&certs, "tenant-alpha"))).await.unwrap();
        let lease = pb::LeaseRequest { worker_id: "w1-1".into(), max_tasks: 1, ..Default::default() };
        let e = WorkerServiceClient::new(ch).lease_tasks(lease).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
        // Plain HTTP/2 to the TLS port fails.
        let plain = Endpoint::from_shared(url.clone()).unwrap().connect().await;
        let refused = match plain {
            Err(_) => true,
            Ok(ch) => JobServiceClient::new(ch).get_job(pb::GetJobRequest { job_id: "job-1".into() }).await.is_err(),
        };
        assert!(refused);
    });

    // An expired certificate from the CA the scheduler trusts: refused in the handshake. (The
    // CA of `certs init` is rebuilt in-test, as a second scheduler, to sign an expired leaf.)
    let ca2 = Ca::generate("test CA", Validity::days_from(now, 1)).unwrap();
    let d2 = dir.join("ca2");
    std::fs::create_dir_all(&d2).unwrap();
    let server =
        ca2.issue(&Identity::Scheduler("s".into()), Validity::days_from(now, 1), &["127.0.0.1".into()]).unwrap();
    std::fs::write(d2.join("ca.pem"), &ca2.pem().cert).unwrap();
    std::fs::write(d2.join("scheduler.pem"), &server.cert).unwrap();
    std::fs::write(d2.join("scheduler-key.pem"), &server.key).unwrap();
    let (_s2, url2) = tls_scheduler(&d2, &[]);
    let tenant = Identity::Tenant("alpha".into());
    let expired = ca2.issue(&tenant, Validity::expired_at(now), &[]).unwrap();
    let valid = ca2.issue(&tenant, Validity::days_from(now, 1), &[]).unwrap();
    rt.block_on(async {
        let ca2 = ca2.pem().cert.clone();
        assert!(submit_as(&url2, &ca2, Some((valid.cert, valid.key))).await.is_ok(), "the control works");
        let e = submit_as(&url2, &ca2, Some((expired.cert, expired.key))).await.unwrap_err();
        assert!(
            matches!(e.code(), Code::Unavailable | Code::Unknown | Code::Cancelled | Code::Unauthenticated),
            "{e:?}"
        );
    });

    // The CLI reports a refusal with the reason (exit 2).
    let file = job_file(&dir, "job.yaml", 4096);
    let mut args = vec!["submit".into(), file.to_str().unwrap().into(), "--scheduler".into(), url.clone()];
    args.extend(tls_flags(&certs, "worker-0"));
    let out = run_cli(&args);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not call"));
}

#[test]
fn a_tenant_sees_only_its_own_jobs() {
    let dir = temp_dir("sec-tenancy");
    let certs = certs(&dir, "alpha,beta");
    let (_s, url) = tls_scheduler(&certs, &[]);
    let ca = std::fs::read_to_string(certs.join("ca.pem")).unwrap();
    rt().block_on(async {
        let a = JobServiceClient::new(channel(&url, &ca, Some(read(&certs, "tenant-alpha"))).await.unwrap());
        let b = JobServiceClient::new(channel(&url, &ca, Some(read(&certs, "tenant-beta"))).await.unwrap());
        let (mut a, mut b) = (a, b);
        // No worker: the job stays queued.
        let job = a.submit_job(submit_request(4096, "")).await.unwrap().into_inner().job_id;
        let listed = a.list_jobs(pb::ListJobsRequest::default()).await.unwrap().into_inner().jobs;
        assert_eq!(listed.iter().map(|j| j.job_id.as_str()).collect::<Vec<_>>(), vec![job.as_str()]);
        assert_eq!(listed[0].tenant, "alpha", "the job belongs to the certificate's tenant");
        assert!(a.get_job(pb::GetJobRequest { job_id: job.clone() }).await.is_ok());

        let get = b.get_job(pb::GetJobRequest { job_id: job.clone() }).await.unwrap_err();
        assert_eq!(get.code(), Code::NotFound);
        assert_eq!(get.message(), format!("unknown job {job}"), "exactly like a job that does not exist");
        let watch = b.watch_job(pb::WatchJobRequest { job_id: job.clone(), ..Default::default() }).await.unwrap_err();
        assert_eq!(watch.code(), Code::NotFound);
        let cancel =
            b.cancel_job(pb::CancelJobRequest { job_id: job.clone(), ..Default::default() }).await.unwrap_err();
        assert_eq!(cancel.code(), Code::NotFound);
        let result = b.get_result(pb::GetResultRequest { job_id: job.clone() }).await.unwrap_err();
        assert_eq!(result.code(), Code::NotFound);
        assert!(b.list_jobs(pb::ListJobsRequest::default()).await.unwrap().into_inner().jobs.is_empty());
        // Declaring another tenant than the certificate's is refused.
        let e = b.list_jobs(pb::ListJobsRequest { tenant: "alpha".into(), ..Default::default() }).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        let e = b.submit_job(submit_request(4096, "alpha")).await.unwrap_err();
        assert_eq!(e.code(), Code::PermissionDenied);
        // The job is untouched; its owner can cancel it; an admin sees it.
        let ops = channel(&url, &ca, Some(read(&certs, "admin-ops"))).await.unwrap();
        assert!(JobServiceClient::new(ops).get_job(pb::GetJobRequest { job_id: job.clone() }).await.is_ok());
        let c = a.cancel_job(pb::CancelJobRequest { job_id: job, ..Default::default() }).await.unwrap().into_inner();
        assert!(c.cancelled);
    });
}

const CONFIG: &str = "tenants:
  alpha: {share: 2, max_queued_jobs: 5, max_paths_per_job: 50000, max_priority: 10}
  sandbox: {share: 1}
default_tenant: null
admission_policies: POLICIES
audit_log: audit.jsonl
";

#[test]
fn admission_quotas_a_tls_grid_result_and_the_audit_log() {
    let dir = temp_dir("sec-admission");
    let certs = certs(&dir, "alpha,sandbox,nobody");
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/policies/admission");
    let config = dir.join("scheduler.yaml");
    std::fs::write(&config, CONFIG.replace("POLICIES", policies.to_str().unwrap())).unwrap();
    let (mut s, url) = tls_scheduler(&certs, &["--config", config.to_str().unwrap()]);
    let _w = tls_worker(&url, &certs);
    let submit = |who: &str, file: &Path, extra: &[&str]| {
        let mut args = vec!["submit".into(), file.to_str().unwrap().into(), "--scheduler".into(), url.clone()];
        args.extend(tls_flags(&certs, who));
        args.extend(extra.iter().map(|s| s.to_string()));
        run_cli(&args)
    };

    // A policy denial: PERMISSION_DENIED with the policy's message.
    let job = job_file(&dir, "job.yaml", 20_000);
    let out = submit("tenant-sandbox", &job, &[]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("instruments: tenant sandbox may not price asian instruments"), "{err}");

    // A quota breach: RESOURCE_EXHAUSTED naming the quota.
    let big = job_file(&dir, "big.yaml", 60_000);
    let out = submit("tenant-alpha", &big, &[]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    // Refused for what it asks, like any bad input: exit 2 with the quota named.
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("quota") && err.contains("max_paths_per_job"), "{err}");
    let out = submit("tenant-alpha", &job, &["--priority", "11"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_priority"));
    // A tenant the configuration does not know is refused.
    let out = submit("tenant-nobody", &job, &[]);
    assert!(!out.status.success());

    // An admitted job, computed by a TLS worker: the same bits as `riskgrid run`.
    let out = submit("tenant-alpha", &job, &["--watch", "--json", "--quiet"]);
    let grid = json(&out);
    assert_same_bits(&grid, &local(&job));

    // The audit log: the decisions and the completion, chained; it verifies.
    let log = dir.join("audit.jsonl");
    wait_until(Duration::from_secs(10), "the completion record", || {
        std::fs::read_to_string(&log).unwrap_or_default().contains("job_completed")
    });
    let status = s.terminate(Duration::from_secs(10));
    assert!(status.success() || status.code().is_none() || status.code() == Some(0));
    let text = std::fs::read_to_string(&log).unwrap();
    let records: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<&str> = records.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds[..2], ["started", "policy_change"]);
    let denied: Vec<_> = records.iter().filter(|r| r["details"]["decision"] == "deny").collect();
    assert_eq!(denied.len(), 4, "policy, two quotas, unknown tenant: {kinds:?}");
    assert_eq!(denied[0]["details"]["denied_by"], "policy");
    assert_eq!(denied[0]["actor"], "spiffe://riskgrid/tenant/sandbox");
    let done = records.iter().find(|r| r["kind"] == "job_completed").unwrap();
    assert_eq!(done["details"]["state"], "succeeded");
    assert_eq!(done["details"]["spec_sha256"], grid["job"]["spec_sha256"]);
    assert_eq!(done["details"]["seed"], 7);
    assert_eq!(done["details"]["riskgrid_version"], env!("CARGO_PKG_VERSION"));
    assert!(done["details"]["git_commit"].as_str().is_some_and(|c| !c.is_empty()));
    let allowed = records.iter().find(|r| r["details"]["decision"] == "allow").unwrap();
    assert_eq!(allowed["details"]["spec_sha256"], done["details"]["spec_sha256"]);

    let ok = riskgrid(&["audit", "verify", log.to_str().unwrap()], Duration::from_secs(10));
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains(&format!("{} records", records.len())));
    // Flip one byte in line k: verification fails naming line k.
    for k in [1, 3, records.len()] {
        let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        let line = &mut lines[k - 1];
        let at = line.len() / 2;
        line[at] ^= 0x01;
        let tampered = dir.join(format!("tampered-{k}.jsonl"));
        let mut bytes = lines.join(&b'\n');
        bytes.push(b'\n');
        std::fs::write(&tampered, bytes).unwrap();
        let bad = riskgrid(&["audit", "verify", tampered.to_str().unwrap()], Duration::from_secs(10));
        let err = String::from_utf8_lossy(&bad.stderr).into_owned();
        assert_eq!(bad.status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("line {k}:")), "{err}");
    }
}

#[test]
fn off_loopback_needs_tls_or_the_explicit_flag() {
    let out = riskgrid(&["scheduler", "--listen", "0.0.0.0:0"], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-cert"));
    // Half a TLS configuration is an error, not a silent plain-text server.
    let out = riskgrid(&["scheduler", "--listen", "127.0.0.1:0", "--tls-cert", "x.pem"], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
}

mod fuzz {
    //! Whatever the scheduler parses from the network or a job file must not
    //! panic: ≥ 100,000 cheap cases in total.
    use super::*;
    use proptest::prelude::*;
    use riskgrid_scheduler::grpc::{convert, jobs};

    const VALID: &str = "seed: 7
market: {rate: 0.03, underlyings: [{id: SPX, spot: 100, dividend_yield: 0.01, vol: 0.2}]}
portfolio:
  - {id: c1, instrument: {type: european, underlying: SPX, option: call, strike: 100, maturity: 1}}
analysis: {paths: 1000, block_size: 64, greeks: [delta]}
";

    proptest! {
        #![proptest_config(ProptestConfig { cases: 50_000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn ids_and_tenants(text in "\\PC{0,40}", n in any::<u64>(), t in any::<u32>()) {
            let _ = convert::parse_job_id("job_id", &text);
            let _ = convert::parse_task_id("task_id", &text);
            let _ = convert::parse_job_id("job_id", &format!("job-{text}"));
            let _ = convert::parse_task_id("task_id", &format!("job-{n}.t{t}{text}"));
            let _ = convert::tenant(&text);
            let _ = riskgrid_scheduler::grpc::auth::tenant_for(None, &text);
            let _ = riskgrid_scheduler::grpc::auth::access(&text);
            let _ = Identity::from_uri(&text);
        }

        #[test]
        fn block_results(trade in any::<u32>(), block in any::<u64>(), m in prop::collection::vec((any::<u64>(), any::<f64>(), any::<f64>()), 0..8)) {
            let b = pb::BlockResult {
                trade, block,
                moments: m.into_iter().map(|(n, sum, m2)| pb::Moments { n, sum, m2 }).collect(),
                ..Default::default()
            };
            let tb = convert::trade_block(&b);
            prop_assert_eq!(tb.moments.len(), b.moments.len());
            let _ = convert::block_result("t", "j", 0, &tb);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn job_files_as_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200), json in any::<bool>()) {
            use pb::submit_job_request::Spec;
            let spec = if json { Spec::JobJson(bytes) } else { Spec::JobYaml(bytes) };
            let _ = jobs::parse_spec(Some(spec));
        }

        #[test]
        fn mutated_job_files(at in any::<prop::sample::Index>(), insert in "\\PC{0,6}", cut in 0usize..8, json in any::<bool>()) {
            use pb::submit_job_request::Spec;
            let base = if json {
                serde_json::to_string(&riskcalc::spec::parse_yaml(VALID).unwrap()).unwrap()
            } else {
                VALID.to_owned()
            };
            let mut chars: Vec<char> = base.chars().collect();
            let i = at.index(chars.len());
            let end = (i + cut).min(chars.len());
            chars.splice(i..end, insert.chars());
            let text: String = chars.into_iter().collect();
            let bytes = text.into_bytes();
            let parsed = jobs::parse_spec(Some(if json { Spec::JobJson(bytes) } else { Spec::JobYaml(bytes) }));
            if let Ok(spec) = parsed {
                // A spec that parses is summarised for admission without panicking.
                let cost = riskgrid_scheduler::CostModel::new(1e8);
                let s = riskgrid_scheduler::grpc::admission::summarize(&spec, 0, None, &cost);
                prop_assert!(s.estimated_core_seconds >= 0.0);
            }
        }
    }
}
