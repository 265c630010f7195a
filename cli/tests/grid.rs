//! The grid end to end: a real scheduler and real worker processes on
//! loopback, driven through the `riskgrid` binary and a gRPC client.
//! Every child is killed when its handle drops; every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use riskgrid_proto::v1 as pb;
use riskgrid_proto::v1::job_service_client::JobServiceClient;
use riskgrid_proto::v1::worker_service_client::WorkerServiceClient;
use std::time::{Duration, Instant};
use tokio_stream::wrappers::UnboundedReceiverStream;

mod common;
use common::grid::*;

#[test]
fn two_workers_give_the_bits_of_run() {
    let dir = temp_dir("bits");
    let file = job_file(&dir, "job.yaml", 1_000_000);
    let (_s, url) = scheduler(&["--task-seconds", "0.5", "--initial-throughput", "1e7"]);
    let _w1 = worker(&url, "w1");
    let _w2 = worker(&url, "w2");
    let out = riskgrid(
        &["submit", file.to_str().unwrap(), "--scheduler", &url, "--watch", "--json", "--quiet"],
        Duration::from_secs(30),
    );
    let grid = json(&out);
    assert_same_bits(&grid, &local(&file));
    assert_eq!(grid["pricing"]["paths"], 1_000_000);
    assert_eq!(grid["job"]["spec_sha256"], local(&file)["job"]["spec_sha256"]);
    // `result` gives the same again, and resubmitting with the same request id returns the same job.
    let id = grid["job"]["job_id"].as_str().unwrap();
    let again = json(&riskgrid(&["result", id, "--scheduler", &url, "--json"], Duration::from_secs(10)));
    assert_same_bits(&again, &grid);
    let args = ["submit", file.to_str().unwrap(), "--scheduler", &url, "--json", "--request-id", "r-1"];
    let first = json(&riskgrid(&args, Duration::from_secs(10)));
    let second = json(&riskgrid(&args, Duration::from_secs(10)));
    assert_eq!(first["job_id"], second["job_id"]);
    assert_eq!((first["created"].as_bool(), second["created"].as_bool()), (Some(true), Some(false)));
}

#[test]
fn killing_a_worker_mid_job_changes_no_bit() {
    let dir = temp_dir("kill-worker");
    let file = job_file(&dir, "job.yaml", 8_000_000);
    let (_s, url) = scheduler(&["--task-seconds", "0.5", "--initial-throughput", "2e7"]);
    let mut w1 = worker(&url, "doomed");
    let _w2 = worker(&url, "survivor");
    let id = submit(&url, &file);
    wait_until(Duration::from_secs(20), "some progress", || job_row(&url, &id)["percent"].as_f64().unwrap() > 5.0);
    assert_ne!(job_row(&url, &id)["state"], "succeeded", "the job should still be running when the worker dies");
    w1.kill9();
    let grid = result(&url, &id, Duration::from_secs(40));
    assert_same_bits(&grid, &local(&file));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_name_the_field_and_create_nothing() {
    let dir = temp_dir("bad");
    let (_s, url) = scheduler(&[]);
    let mut client = JobServiceClient::connect(url.clone()).await.unwrap();
    let good = std::fs::read_to_string(job_file(&dir, "good.yaml", 10_000)).unwrap();
    let cases: Vec<(&str, Option<pb::submit_job_request::Spec>, &str)> = vec![
        ("empty portfolio", Some(yaml(&cut_portfolio(&good))), "job_yaml: portfolio: "),
        (
            "unknown instrument",
            Some(yaml(&good.replace("type: european", "type: swaption"))),
            "job_yaml: portfolio[0].instrument: unknown instrument type `swaption`",
        ),
        (
            "paths 0",
            Some(yaml(&good.replace("paths: 10000", "paths: 0"))),
            "job_yaml: analysis.paths: number of paths must be at least 1",
        ),
        (
            "paths 10^15",
            Some(yaml(&good.replace("paths: 10000", "paths: 1000000000000000"))),
            "job_yaml: analysis.paths: 1000000000000000 paths exceeds the limit",
        ),
        (
            "malformed bytes",
            Some(pb::submit_job_request::Spec::JobYaml(vec![0xff, 0xfe, b's'])),
            "job_yaml: not valid UTF-8",
        ),
        ("malformed JSON", Some(pb::submit_job_request::Spec::JobJson(b"{\"seed\": ".to_vec())), "job_json: "),
        ("no spec", None, "spec: required"),
    ];
    for (what, spec, expected) in cases {
        let request = pb::SubmitJobRequest {
            client_request_id: format!("bad-{}", what.replace(' ', "-")),
            spec,
            ..Default::default()
        };
        let status = client.submit_job(request.clone()).await.expect_err(what);
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{what}: {status:?}");
        assert!(
            status.message().starts_with(expected),
            "{what}: {:?} should start with {expected:?}",
            status.message()
        );
        // SubmitAndWatch refuses it the same way, before any event.
        let watch = pb::SubmitAndWatchRequest { submit: Some(request), min_progress_interval_ms: 0 };
        let status = client.submit_and_watch(watch).await.expect_err(what);
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "SubmitAndWatch, {what}: {status:?}");
        assert!(status.message().starts_with(expected), "SubmitAndWatch, {what}: {:?}", status.message());
    }
    let empty = pb::SubmitAndWatchRequest { submit: None, min_progress_interval_ms: 0 };
    let status = client.submit_and_watch(empty).await.expect_err("no submit");
    assert!(status.message().starts_with("submit: required"), "{status:?}");
    let no_id = pb::SubmitJobRequest { spec: Some(yaml(&good)), ..Default::default() };
    let status = client.submit_job(no_id).await.expect_err("no request id");
    assert!(status.message().starts_with("client_request_id: "), "{status:?}");
    let priority = pb::SubmitJobRequest {
        client_request_id: "p".into(),
        spec: Some(yaml(&good)),
        priority: 1000,
        ..Default::default()
    };
    assert!(client.submit_job(priority).await.expect_err("priority").message().starts_with("priority: "));
    let lookup = client.get_job(pb::GetJobRequest { job_id: "job-99".into() }).await.expect_err("unknown job");
    assert_eq!(lookup.code(), tonic::Code::NotFound);
    // Nothing was created; the CLI reports the server's message and exits 2.
    let url2 = url.clone();
    let listed = tokio::task::spawn_blocking(move || jobs(&url2)).await.unwrap();
    assert!(listed.is_empty(), "{listed:?}");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, good.replace("paths: 10000", "paths: 0")).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        riskgrid(&["submit", bad.to_str().unwrap(), "--scheduler", &url], Duration::from_secs(10))
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("job_yaml: analysis.paths:"));
}

fn yaml(text: &str) -> pb::submit_job_request::Spec {
    pb::submit_job_request::Spec::JobYaml(text.as_bytes().to_vec())
}

/// The job with `portfolio: []`.
fn cut_portfolio(good: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in good.lines() {
        if line.starts_with("portfolio:") {
            out.push_str("portfolio: []\n");
            skipping = true;
            continue;
        }
        if skipping && line.starts_with("  ") {
            continue;
        }
        skipping = false;
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn cancel_mid_job_frees_the_workers() {
    let dir = temp_dir("cancel");
    let big = job_file(&dir, "big.yaml", 400_000_000);
    let small = job_file(&dir, "small.yaml", 200_000);
    let (_s, url) = scheduler(&["--task-seconds", "0.5", "--initial-throughput", "2e7"]);
    let _w1 = worker(&url, "w1");
    let _w2 = worker(&url, "w2");
    let id = submit(&url, &big);
    wait_until(Duration::from_secs(20), "progress", || job_row(&url, &id)["percent"].as_f64().unwrap() > 0.0);
    let out = json(&riskgrid(&["cancel", &id, "--scheduler", &url, "--json"], Duration::from_secs(10)));
    assert_eq!(out["cancelled"], true);
    assert_eq!(out["state"], "cancelled");
    assert_eq!(job_row(&url, &id)["state"], "cancelled");
    // The workers dropped the cancelled tasks: a new job gets them at once.
    let started = Instant::now();
    let next = submit(&url, &small);
    let grid = result(&url, &next, Duration::from_secs(15));
    assert_same_bits(&grid, &local(&small));
    assert!(started.elapsed() < Duration::from_secs(10), "the new job waited {:?}", started.elapsed());
    // Cancelling again changes nothing.
    let again = json(&riskgrid(&["cancel", &id, "--scheduler", &url, "--json"], Duration::from_secs(10)));
    assert_eq!(again["cancelled"], false);
}

#[test]
fn killing_the_scheduler_mid_job_loses_nothing() {
    let dir = temp_dir("kill-scheduler");
    let big = job_file(&dir, "big.yaml", 8_000_000);
    let late = job_file(&dir, "late.yaml", 300_000);
    let db = dir.join("grid.db");
    let db = db.to_str().unwrap();
    let flags = ["--db", db, "--task-seconds", "0.5", "--initial-throughput", "2e7"];
    let (mut s, url) = scheduler(&flags);
    let _w1 = worker(&url, "w1");
    let _w2 = worker(&url, "w2");
    let id = submit(&url, &big);
    wait_until(Duration::from_secs(20), "some progress", || job_row(&url, &id)["percent"].as_f64().unwrap() > 10.0);
    let late_id = submit(&url, &late);
    assert_eq!(job_row(&url, &id)["state"], "running", "the job should still be running when the scheduler dies");
    s.kill9();
    // Same address, same database: the workers find it again and register anew.
    let addr = url.trim_start_matches("http://").to_owned();
    let (_s2, url2) = scheduler_on(&addr, &flags);
    assert_eq!(url2, url);
    let grid = result(&url, &id, Duration::from_secs(40));
    assert_same_bits(&grid, &local(&big));
    let grid = result(&url, &late_id, Duration::from_secs(20));
    assert_same_bits(&grid, &local(&late));
}

#[test]
fn sigterm_drains_a_busy_worker_which_exits_zero() {
    let dir = temp_dir("drain");
    let file = job_file(&dir, "job.yaml", 8_000_000);
    let (_s, url) = scheduler(&["--task-seconds", "0.5", "--initial-throughput", "2e7"]);
    let mut w1 = worker(&url, "spot");
    let _w2 = worker(&url, "steady");
    let id = submit(&url, &file);
    wait_until(Duration::from_secs(20), "some progress", || job_row(&url, &id)["percent"].as_f64().unwrap() > 5.0);
    let status = w1.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let grid = result(&url, &id, Duration::from_secs(40));
    assert_same_bits(&grid, &local(&file));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_serving() {
    let (_s, url) = scheduler(&[]);
    let channel = tonic::transport::Endpoint::from_shared(url).unwrap().connect().await.unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    for service in ["", riskgrid_proto::JOB_SERVICE, riskgrid_proto::WORKER_SERVICE] {
        let r =
            health.check(tonic_health::pb::HealthCheckRequest { service: service.into() }).await.unwrap().into_inner();
        assert_eq!(r.status(), tonic_health::pb::health_check_response::ServingStatus::Serving, "{service:?}");
    }
}

#[test]
fn listening_off_loopback_needs_the_insecure_flag() {
    let out = riskgrid(&["scheduler", "--listen", "0.0.0.0:0"], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--insecure-listen-anywhere"));
}

/// What `grpcurl -plaintext ADDR list` asks: the real scheduler's reflection
/// service names both riskgrid services.
#[tokio::test]
async fn reflection_lists_the_services_like_grpcurl() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let (_s, url) = scheduler(&[]);
    let channel = tonic::transport::Endpoint::from_shared(url).unwrap().connect().await.unwrap();
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client.server_reflection_info(tokio_stream::once(request)).await.unwrap().into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list, got {:?}", response.message_response);
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    for expected in ["riskgrid.v1.JobService", "riskgrid.v1.WorkerService", "grpc.health.v1.Health"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
}

/// Early stop through real processes: the grid stops at the same block as
/// `riskgrid run`, so the early-stopped result has the same bits.
#[test]
fn early_stop_ends_at_the_target_with_the_bits_of_run() {
    let dir = temp_dir("early-stop");
    let file = job_file(&dir, "job.yaml", 20_000_000);
    let text =
        std::fs::read_to_string(&file).unwrap().replace("greeks: [delta, vega, rho, theta]", "target_std_error: 0.02");
    std::fs::write(&file, text).unwrap();
    let (_s, url) = scheduler(&["--task-seconds", "0.5", "--initial-throughput", "1e7"]);
    let _w1 = worker(&url, "w1");
    let _w2 = worker(&url, "w2");
    let out = riskgrid(
        &["submit", file.to_str().unwrap(), "--scheduler", &url, "--watch", "--json", "--quiet"],
        Duration::from_secs(60),
    );
    let grid = json(&out);
    let paths = grid["pricing"]["paths"].as_u64().unwrap();
    assert!(paths < 20_000_000, "did not stop early ({paths} paths)");
    assert_eq!(grid["job"]["stopped_early"], true);
    for trade in grid["pricing"]["trades"].as_array().unwrap() {
        assert!(trade["std_error"].as_f64().unwrap() <= 0.02, "{trade}");
    }
    assert_same_bits(&grid, &local(&file));
}

/// WorkerService.Work at the protocol level: the scheduler keeps a worker
/// topped up to the hold it asked for (and no further), acknowledges a
/// completion by its seq, and refuses a bad first message naming the field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_stream_tops_a_worker_up_to_its_hold_and_acks_completions() {
    // One block per task (an uncalibrated cost model at 1 path/s).
    let (_s, url) = scheduler(&["--initial-throughput", "1"]);
    let (mut workers, worker_id) = register_probe(&url).await;

    // Bad first messages: nothing is served.
    for (first, code, field) in [
        (pb::WorkUp::default(), tonic::Code::InvalidArgument, "worker_id"),
        (pb::WorkUp { worker_id: "w1-1".into(), ..Default::default() }, tonic::Code::NotFound, "unknown worker"),
        (
            pb::WorkUp { worker_id: worker_id.clone(), hold: Some(20_000), ..Default::default() },
            tonic::Code::InvalidArgument,
            "hold",
        ),
    ] {
        let e = workers.work(tokio_stream::iter(vec![first])).await.unwrap_err();
        assert_eq!(e.code(), code, "{e:?}");
        assert!(e.message().contains(field), "{e:?}");
    }

    let (up, mut down) = open_work(&mut workers, &worker_id, 2).await;
    let mut jobs = JobServiceClient::connect(url.clone()).await.unwrap();
    let submit = pb::SubmitJobRequest {
        spec: Some(yaml(&one_call_job(512))),
        client_request_id: "probe-1".into(),
        ..Default::default()
    };
    jobs.submit_job(submit).await.unwrap();

    // Topped up to the hold of 2, and not beyond, though 8 tasks are queued.
    let mut held = Vec::new();
    while held.len() < 2 {
        held.extend(next_down(&mut down, 5_000).await.expect("tasks").tasks);
    }
    assert_eq!(held.len(), 2);
    assert!(next_down(&mut down, 500).await.is_none(), "more than the hold was sent");

    // One ends (failed, so it is retried): 1 held ≤ half the hold, so one more comes, with the ack.
    let failed = pb::TaskCompletion { task_id: held[0].task_id.clone(), error: "probe".into(), ..Default::default() };
    let complete = pb::CompleteTaskRequest { tasks: vec![failed], ..Default::default() };
    up.send(pb::WorkUp { complete: Some(complete), seq: 7, ..Default::default() }).unwrap();
    let (mut acks, mut tasks) = (Vec::new(), Vec::new());
    while acks.is_empty() || tasks.is_empty() {
        let m = next_down(&mut down, 5_000).await.expect("an ack and a task");
        acks.extend(m.acks);
        tasks.extend(m.tasks);
    }
    assert_eq!(acks.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![7]);
    assert!(acks[0].response.as_ref().unwrap().ignored_task_ids.is_empty(), "{acks:?}");
    assert_eq!(tasks.len(), 1);
}

/// A probe worker (one core) registered with the scheduler at `url`: a test drives its
/// Work stream by hand. Returns the client and the worker id.
async fn register_probe(url: &str) -> (WorkerServiceClient<tonic::transport::Channel>, String) {
    let mut workers = WorkerServiceClient::connect(url.to_owned()).await.unwrap();
    let register = pb::RegisterRequest {
        worker_name: "probe".into(),
        cores: 1,
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    };
    let worker_id = workers.register(register).await.unwrap().into_inner().worker_id;
    (workers, worker_id)
}

/// Opens the probe's Work stream asking to hold `hold` tasks: what it sends up, what comes down.
async fn open_work(
    workers: &mut WorkerServiceClient<tonic::transport::Channel>,
    worker_id: &str,
    hold: u32,
) -> (tokio::sync::mpsc::UnboundedSender<pb::WorkUp>, tonic::Streaming<pb::WorkDown>) {
    let (up, rx) = tokio::sync::mpsc::unbounded_channel();
    up.send(pb::WorkUp { worker_id: worker_id.to_owned(), hold: Some(hold), ..Default::default() }).unwrap();
    let down = workers.work(UnboundedReceiverStream::new(rx)).await.unwrap().into_inner();
    (up, down)
}

/// A one-call European job of `paths` paths in 64-path blocks.
fn one_call_job(paths: u64) -> String {
    format!(
        "seed: 1
market: {{rate: 0.03, underlyings: [{{id: A, spot: 100, dividend_yield: 0.01, vol: 0.2}}]}}
portfolio: [{{id: call, instrument: {{type: european, underlying: A, option: call, strike: 100, maturity: 1}}}}]
analysis: {{paths: {paths}, block_size: 64}}
"
    )
}

/// The next message of a Work stream within `within_ms`, or `None`.
async fn next_down(down: &mut tonic::Streaming<pb::WorkDown>, within_ms: u64) -> Option<pb::WorkDown> {
    let message = tokio::time::timeout(Duration::from_millis(within_ms), down.message()).await.ok()?;
    Some(message.unwrap().expect("the stream stays open"))
}

/// SubmitAndWatch holds the answer of a job expected to end within the settle window until
/// it ends (then the whole stream comes at once), and answers a long job at once. A probe
/// worker takes the tasks and never finishes them; cancelling ends the jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_and_watch_holds_a_quick_jobs_answer_until_it_ends_and_answers_a_long_one_at_once() {
    let (_s, url) = scheduler(&["--settle-ms", "60000"]);
    let (mut workers, worker_id) = register_probe(&url).await;
    // Kept open: the probe holds its task until the test cancels the job.
    let (_up, mut down) = open_work(&mut workers, &worker_id, 1).await;
    let jobs = JobServiceClient::connect(url.clone()).await.unwrap();
    let job = |paths: u64, id: &str| pb::SubmitAndWatchRequest {
        submit: Some(pb::SubmitJobRequest {
            spec: Some(yaml(&one_call_job(paths))),
            client_request_id: id.into(),
            ..Default::default()
        }),
        min_progress_interval_ms: 0,
    };

    // One block: expected to take microseconds. Its task reaches the probe, and the answer waits.
    let mut held = tokio::spawn({
        let mut jobs = jobs.clone();
        let request = job(64, "quick");
        async move { jobs.submit_and_watch(request).await }
    });
    let task = loop {
        if let Some(task) = next_down(&mut down, 5_000).await.expect("the quick job's task").tasks.pop() {
            break task;
        }
    };
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut held).await.is_err(),
        "SubmitAndWatch answered while its quick job was still running"
    );
    let cancel = pb::CancelJobRequest { job_id: task.job_id.clone(), reason: "test".into() };
    jobs.clone().cancel_job(cancel).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), held).await.expect("answered once the job ended");
    let events = all_events(answer.unwrap().unwrap().into_inner()).await;
    assert!(
        matches!(&events[0], pb::job_event::Event::Submitted(s) if s.job_id == task.job_id && s.created),
        "{events:?}"
    );
    assert_eq!(states(&events), vec![pb::JobState::Cancelled], "the whole history in one snapshot: {events:?}");

    // 10^10 paths: minutes of work. Answered at once, while the job waits or runs.
    let answer =
        tokio::time::timeout(Duration::from_secs(5), jobs.clone().submit_and_watch(job(10_000_000_000, "long")))
            .await
            .expect("a long job is answered at once");
    let mut stream = answer.unwrap().into_inner();
    let first = stream.message().await.unwrap().unwrap().event.unwrap();
    let pb::job_event::Event::Submitted(submitted) = first else { panic!("first event: {first:?}") };
    let next = stream.message().await.unwrap().unwrap().event.unwrap();
    let pb::job_event::Event::StateChange(change) = &next else { panic!("second event: {next:?}") };
    assert!(
        [pb::JobState::Queued, pb::JobState::Running].contains(&change.state()),
        "the long job had not ended: {next:?}"
    );
    let cancel = pb::CancelJobRequest { job_id: submitted.job_id, reason: "test".into() };
    jobs.clone().cancel_job(cancel).await.unwrap();
    assert_eq!(states(&all_events(stream).await).last(), Some(&pb::JobState::Cancelled));
}

/// Every event of a watch stream, to its end (bounded).
async fn all_events(mut stream: tonic::Streaming<pb::JobEvent>) -> Vec<pb::job_event::Event> {
    let mut events = Vec::new();
    while let Some(event) =
        tokio::time::timeout(Duration::from_secs(10), stream.message()).await.expect("the stream ends").unwrap()
    {
        events.extend(event.event);
    }
    events
}

/// The states a stream's state changes moved to, in order.
fn states(events: &[pb::job_event::Event]) -> Vec<pb::JobState> {
    events
        .iter()
        .filter_map(|e| match e {
            pb::job_event::Event::StateChange(c) => Some(c.state()),
            _ => None,
        })
        .collect()
}
