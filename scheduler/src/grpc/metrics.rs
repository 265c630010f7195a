//! Prometheus `/metrics` on its own port: the text exposition format (0.0.4)
//! of [`SchedulerStats`], served by a minimal HTTP/1.1 responder (one
//! request per connection, `Connection: close`). It is a scrape endpoint,
//! not a web server: `GET /metrics` answers 200, other paths 404, other
//! methods 405.
//!
//! Rates are left to Prometheus: e.g. tasks per second is
//! `rate(riskgrid_tasks_completed_total[1m])`. Counters restart from zero
//! when the scheduler restarts, which `rate()` handles.

use super::grid::Grid;
use crate::state::SchedulerStats;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every job state, so each series exists (at 0) from the first scrape.
const STATES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

/// The stats in Prometheus text format.
pub fn render(stats: &SchedulerStats) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let v = match *v {
                v if v.is_nan() => "NaN".to_owned(),
                v if v.is_infinite() => if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned(),
                v => v.to_string(),
            };
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let mut states: Vec<&str> = STATES.to_vec();
    states.extend(stats.jobs_by_state.keys().map(String::as_str).filter(|s| !STATES.contains(s)));
    let jobs: Vec<(String, f64)> = states
        .iter()
        .map(|s| (format!("{{state=\"{}\"}}", escape(s)), stats.jobs_by_state.get(*s).copied().unwrap_or(0) as f64))
        .collect();
    let one = |v: f64| [(String::new(), v)];
    metric("riskgrid_jobs", "gauge", "Jobs known to the scheduler, by state.", &jobs);
    metric(
        "riskgrid_queue_core_seconds",
        "gauge",
        "Estimated core-seconds of tasks not yet leased (unfinished jobs).",
        &one(stats.queued_core_seconds),
    );
    metric("riskgrid_leases", "gauge", "Tasks currently leased to workers.", &one(stats.leases as f64));
    metric("riskgrid_workers", "gauge", "Registered workers.", &one(stats.workers as f64));
    metric(
        "riskgrid_tasks_completed_total",
        "counter",
        "Tasks completed since the scheduler started (tasks/s: rate() of this).",
        &one(stats.tasks_completed as f64),
    );
    metric(
        "riskgrid_lease_expiries_total",
        "counter",
        "Leases that expired or were taken back from lost workers since the scheduler started.",
        &one(stats.lease_expiries as f64),
    );
    let tenant = |t: &crate::ids::TenantId| format!("{{tenant=\"{}\"}}", escape(&t.0));
    let per_tenant = |f: &dyn Fn(&crate::queue::TenantUsage) -> f64| -> Vec<(String, f64)> {
        stats.tenants.iter().map(|(t, u)| (tenant(t), f(u))).collect()
    };
    metric(
        "riskgrid_tenant_cores_in_use",
        "gauge",
        "Cores computing each tenant's tasks now (on each worker, its oldest leases up to its cores).",
        &per_tenant(&|u| f64::from(u.running)),
    );
    metric(
        "riskgrid_tenant_leases",
        "gauge",
        "Tasks leased to each tenant's jobs, prefetched ones included.",
        &per_tenant(&|u| f64::from(u.leases)),
    );
    metric(
        "riskgrid_tenant_core_seconds_total",
        "counter",
        "Estimated core-seconds of every task leased to each tenant (its fair-share consumption).",
        &per_tenant(&|u| u.core_seconds),
    );
    metric("riskgrid_tenant_jobs", "gauge", "Queued or running jobs of each tenant.", &per_tenant(&|u| u.jobs as f64));
    metric(
        "riskgrid_throughput_path_steps_per_core_second",
        "gauge",
        "The cost model's calibrated throughput.",
        &one(stats.throughput),
    );
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Answers scrapes on `listener` until the task is aborted.
pub async fn serve_metrics(listener: TcpListener, grid: Arc<Grid>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let grid = Arc::clone(&grid);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), answer(stream, &grid)).await;
        });
    }
}

async fn answer(mut stream: TcpStream, grid: &Grid) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => ("200 OK", render(&grid.lock().sched.stats())),
        ("GET", _) => ("404 Not Found", "not found: try /metrics\n".to_owned()),
        _ => ("405 Method Not Allowed", "only GET\n".to_owned()),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn exposition_text_has_every_series() {
        let mut stats = SchedulerStats {
            queued_core_seconds: 12.5,
            leases: 3,
            workers: 2,
            tasks_completed: 40,
            lease_expiries: 1,
            throughput: 2e7,
            ..SchedulerStats::default()
        };
        stats.jobs_by_state.insert("running".into(), 1);
        stats.jobs_by_state.insert("succeeded".into(), 4);
        let text = render(&stats);
        for line in [
            "# TYPE riskgrid_jobs gauge",
            "riskgrid_jobs{state=\"queued\"} 0",
            "riskgrid_jobs{state=\"running\"} 1",
            "riskgrid_jobs{state=\"succeeded\"} 4",
            "riskgrid_jobs{state=\"cancelled\"} 0",
            "riskgrid_queue_core_seconds 12.5",
            "riskgrid_leases 3",
            "riskgrid_workers 2",
            "# TYPE riskgrid_tasks_completed_total counter",
            "riskgrid_tasks_completed_total 40",
            "riskgrid_lease_expiries_total 1",
            "riskgrid_throughput_path_steps_per_core_second 20000000",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        // Every sample line is `name{labels} value` with a parseable value, every name has HELP and TYPE.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (name, value) = l.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{l}");
            let base = name.split('{').next().unwrap();
            assert!(text.contains(&format!("# HELP {base} ")) && text.contains(&format!("# TYPE {base} ")), "{l}");
        }
        stats.queued_core_seconds = f64::INFINITY;
        assert!(render(&stats).contains("riskgrid_queue_core_seconds +Inf\n"));
    }

    #[tokio::test]
    async fn answers_get_metrics_and_nothing_else() {
        let grid = Grid::new(super::super::open_scheduler(&super::super::ServeOptions::default()).unwrap(), 1000);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve_metrics(listener, grid));
        let get = |request: &'static str| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(request.as_bytes()).await.unwrap();
            let mut reply = String::new();
            s.read_to_string(&mut reply).await.unwrap();
            reply
        };
        let ok = get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("\r\n\r\n# HELP riskgrid_jobs "), "{ok}");
        assert!(ok.contains("riskgrid_workers 0\n"), "{ok}");
        assert!(get("GET / HTTP/1.1\r\n\r\n").await.starts_with("HTTP/1.1 404"));
        assert!(get("POST /metrics HTTP/1.1\r\n\r\n").await.starts_with("HTTP/1.1 405"));
        server.abort();
    }
}
