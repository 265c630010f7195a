//! `riskgrid run --grid`: the job through an in-process scheduler and a local
//! worker on loopback — every code path of a cluster (gRPC, planner, leases,
//! streamed blocks, ordered merge) on one machine.

use super::client::{Connect, connect, follow};
use super::{block_on, status_failure};
use crate::exit::Failure;
use anyhow::Context;
use riskcalc::engine::PricingReport;
use riskcalc::kernel::Isa;
use riskcalc::risk::RiskReport;
use riskgrid_proto::v1 as pb;
use riskgrid_scheduler::grpc::{ServeOptions, convert, open_scheduler, serve_with_metrics};
use std::path::Path;
use std::time::Duration;

/// Prices `file` on an embedded grid of one scheduler and one worker of `threads` cores.
pub fn run(file: &Path, threads: usize, isa: Isa, quiet: bool) -> Result<(PricingReport, Option<RiskReport>), Failure> {
    let bytes =
        std::fs::read(file).map_err(|e| Failure::Input(format!("cannot read job file `{}`: {e}", file.display())))?;
    let historical_csv = super::client::historical_csv_for(file, &bytes)?;
    let spec = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        pb::submit_job_request::Spec::JobJson(bytes)
    } else {
        pb::submit_job_request::Spec::JobYaml(bytes)
    };
    block_on(2, async move {
        let options = ServeOptions::default();
        let scheduler = open_scheduler(&options).map_err(|e| anyhow::anyhow!("starting the scheduler: {e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding a loopback port")?;
        let url = format!("http://{}", listener.local_addr().context("reading the bound address")?);
        let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
        let (stop_worker, worker_stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            serve_with_metrics(listener, None, scheduler, &options, async {
                let _ = server_stopped.await;
            })
            .await
        });
        let config = riskgrid_worker::WorkerConfig {
            scheduler: url.clone(),
            threads,
            name: "embedded".into(),
            labels: Default::default(),
            grace: Duration::from_secs(5),
            isa,
            tls: None,
        };
        let worker = tokio::spawn(riskgrid_worker::run(config, async {
            let _ = worker_stopped.await;
        }));
        let outcome = async {
            let mut client = connect(&Connect { scheduler: url, tls: Default::default() }).await?;
            let request = pb::SubmitJobRequest {
                client_request_id: "embedded".into(),
                spec: Some(spec),
                historical_csv,
                priority: 0,
                tenant: String::new(),
                deadline_unix_ms: 0,
            };
            let job = client.submit_job(request).await.map_err(status_failure)?.into_inner().job_id;
            follow(&mut client, &job, quiet).await?;
            let result = client
                .get_result(pb::GetResultRequest { job_id: job })
                .await
                .map_err(status_failure)?
                .into_inner()
                .result
                .unwrap_or_default();
            Ok::<_, Failure>((
                convert::pricing_back(&result.pricing.unwrap_or_default()),
                result.risk.as_ref().map(convert::risk_back),
            ))
        }
        .await;
        let _ = stop_worker.send(());
        let _ = stop_server.send(());
        let _ = worker.await;
        let _ = server.await;
        outcome
    })
}
