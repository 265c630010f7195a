//! Spot drill (issue #4): a worker polling a stub instance metadata endpoint
//! gets its two-minute notice mid-job, drains and exits 0 on its own; the job
//! finishes on the other worker with the bits of `riskgrid run`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;
use common::grid::*;
use common::{BIN, Proc};

/// A minimal IMDS stand-in: `spot/instance-action` is 404 until `notice` is set.
struct MetadataStub {
    url: String,
    notice: Arc<AtomicBool>,
    polls: Arc<AtomicUsize>,
}

fn metadata_stub() -> MetadataStub {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let notice = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicUsize::new(0));
    let (n, p) = (Arc::clone(&notice), Arc::clone(&polls));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 2048];
            let len = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..len]);
            let (code, body) = if !head.contains("/spot/instance-action") {
                (404, String::new()) // no IMDSv2 token: the worker falls back to a plain GET
            } else {
                p.fetch_add(1, Ordering::SeqCst);
                if n.load(Ordering::SeqCst) {
                    (200, r#"{"action":"terminate","time":"2026-11-27T23:02:00Z"}"#.to_owned())
                } else {
                    (404, String::new())
                }
            };
            let reply =
                format!("HTTP/1.1 {code} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = s.write_all(reply.as_bytes());
        }
    });
    MetadataStub { url, notice, polls }
}

#[test]
fn a_spot_notice_drains_the_worker_and_changes_no_bit() {
    let dir = temp_dir("spot");
    let file = job_file(&dir, "job.yaml", 8_000_000);
    let (_s, url) = scheduler(&["--task-seconds", "0.5", "--initial-throughput", "2e7"]);
    let stub = metadata_stub();
    let args = [
        "worker",
        "--scheduler",
        &url,
        "--threads",
        "1",
        "--name",
        "spot",
        "--grace-secs",
        "5",
        "--spot-metadata-url",
        &stub.url,
        "--spot-poll-secs",
        "0.05",
    ];
    let mut spot = Proc(Command::new(BIN).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap());
    let _steady = worker(&url, "steady");
    let id = submit(&url, &file);
    wait_until(Duration::from_secs(20), "some progress", || job_row(&url, &id)["percent"].as_f64().unwrap() > 5.0);
    assert!(stub.polls.load(Ordering::SeqCst) > 0, "the worker never polled the metadata endpoint");
    assert_ne!(job_row(&url, &id)["state"], "succeeded", "the job should still be running at the notice");
    stub.notice.store(true, Ordering::SeqCst);
    // The worker leaves by itself (no signal), within its 5 s grace plus a poll.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = spot.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the worker ignored its spot notice");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let grid = result(&url, &id, Duration::from_secs(40));
    assert_same_bits(&grid, &local(&file));
}
