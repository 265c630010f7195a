//! Specs shared by the integration tests.
#![allow(dead_code)]

use riskgrid_capacity::WorkerPodSpec;
use std::collections::BTreeMap;

pub const NS: &str = "riskgrid-workers";

pub fn spec(name: &str, nodegroup: &str, cores: u32) -> WorkerPodSpec {
    WorkerPodSpec {
        name: name.to_owned(),
        nodegroup: nodegroup.to_owned(),
        tenant: Some("desk-a".to_owned()),
        job: Some("job-42".to_owned()),
        cores,
        memory_mib: 2048,
        image: "registry.example/riskgrid@sha256:0123456789abcdef".to_owned(),
        scheduler_endpoint: "https://scheduler.riskgrid.svc:7878".to_owned(),
        drain_grace_seconds: 120,
        labels: BTreeMap::from([("team".to_owned(), "rates".to_owned())]),
    }
}
