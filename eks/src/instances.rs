//! EC2 facts the capacity planner needs: instance shapes (vCPU, memory) and spot prices.
//!
//! Spot prices from DescribeSpotPriceHistory are history records, several per
//! (instance type, zone); [`latest_prices`] keeps the newest of each. Against moto the
//! prices are placeholders (every record carries the same made-up price), so tests can
//! only check the call and the parsing; the simulator supplies realistic prices.

use crate::error::{Error, Result};
use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::DateTime;
use aws_sdk_ec2::types::{InstanceType, InstanceTypeInfo};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Shape of one instance type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceInfo {
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
}

/// One spot price record.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotPrice {
    pub instance_type: String,
    pub az: String,
    pub usd_per_hour: f64,
    pub timestamp: SystemTime,
}

/// Product description the spot price queries filter on: workers run Linux.
pub const LINUX_PRODUCT: &str = "Linux/UNIX";

/// EC2 read-only queries.
#[derive(Debug, Clone)]
pub struct Ec2Instances {
    client: Client,
}

impl Ec2Instances {
    pub fn new(sdk: &SdkConfig) -> Self {
        Self::from_client(Client::new(sdk))
    }

    pub fn from_client(client: Client) -> Self {
        Self { client }
    }

    /// vCPUs and memory of the named instance types (all pages), in EC2's order.
    /// An empty list asks nothing (EC2 would otherwise return every type).
    pub async fn describe_instance_types(&self, names: &[String]) -> Result<Vec<InstanceInfo>> {
        const OP: &str = "DescribeInstanceTypes";
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let types = names.iter().map(|n| InstanceType::from(n.as_str())).collect();
        let infos: Vec<InstanceTypeInfo> = self
            .client
            .describe_instance_types()
            .set_instance_types(Some(types))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| Error::from_sdk(OP, e))?;
        infos.iter().map(instance_info).collect()
    }

    /// Linux spot price records for `types` (all types when empty), optionally in one
    /// availability zone, from `since` on (EC2's default window when `None`: up to 90 days).
    pub async fn spot_price_history(
        &self,
        types: &[String],
        az: Option<&str>,
        since: Option<SystemTime>,
    ) -> Result<Vec<SpotPrice>> {
        const OP: &str = "DescribeSpotPriceHistory";
        let mut req = self.client.describe_spot_price_history().product_descriptions(LINUX_PRODUCT);
        if !types.is_empty() {
            req = req.set_instance_types(Some(types.iter().map(|n| InstanceType::from(n.as_str())).collect()));
        }
        if let Some(az) = az {
            req = req.availability_zone(az);
        }
        if let Some(since) = since {
            req = req.start_time(DateTime::from(since));
        }
        let records: Vec<aws_sdk_ec2::types::SpotPrice> =
            req.into_paginator().items().send().try_collect().await.map_err(|e| Error::from_sdk(OP, e))?;
        records.iter().map(spot_price).collect()
    }
}

/// Keeps the newest record per (instance type, zone), sorted by type then zone.
pub fn latest_prices(records: impl IntoIterator<Item = SpotPrice>) -> Vec<SpotPrice> {
    let mut newest: BTreeMap<(String, String), SpotPrice> = BTreeMap::new();
    for rec in records {
        let key = (rec.instance_type.clone(), rec.az.clone());
        match newest.get(&key) {
            Some(kept) if kept.timestamp >= rec.timestamp => {}
            _ => {
                newest.insert(key, rec);
            }
        }
    }
    newest.into_values().collect()
}

fn instance_info(info: &InstanceTypeInfo) -> Result<InstanceInfo> {
    const OP: &str = "DescribeInstanceTypes";
    let name = info.instance_type().ok_or_else(|| malformed(OP, "no instanceType"))?.as_str().to_owned();
    let vcpus = info.v_cpu_info().and_then(|v| v.default_v_cpus());
    let memory = info.memory_info().and_then(|m| m.size_in_mib());
    match (vcpus.map(u32::try_from), memory.map(u64::try_from)) {
        (Some(Ok(vcpus)), Some(Ok(memory_mib))) => Ok(InstanceInfo { name, vcpus, memory_mib }),
        _ => Err(malformed(OP, &format!("{name}: vCPUs {vcpus:?}, memory {memory:?} MiB"))),
    }
}

fn spot_price(rec: &aws_sdk_ec2::types::SpotPrice) -> Result<SpotPrice> {
    const OP: &str = "DescribeSpotPriceHistory";
    let instance_type = rec.instance_type().ok_or_else(|| malformed(OP, "no instanceType"))?.as_str().to_owned();
    let az = rec.availability_zone().unwrap_or_default().to_owned();
    let text = rec.spot_price().ok_or_else(|| malformed(OP, &format!("{instance_type}: no spotPrice")))?;
    let usd_per_hour = text
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| malformed(OP, &format!("{instance_type}: spotPrice {text:?}")))?;
    let timestamp = rec
        .timestamp()
        .and_then(|t| SystemTime::try_from(*t).ok())
        .ok_or_else(|| malformed(OP, &format!("{instance_type}: no usable timestamp")))?;
    Ok(SpotPrice { instance_type, az, usd_per_hour, timestamp })
}

fn malformed(op: &'static str, what: &str) -> Error {
    Error::Malformed { op, what: what.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{MemoryInfo, VCpuInfo};
    use std::time::Duration;

    fn price(ty: &str, az: &str, usd: f64, secs: u64) -> SpotPrice {
        SpotPrice {
            instance_type: ty.into(),
            az: az.into(),
            usd_per_hour: usd,
            timestamp: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
        }
    }

    #[test]
    fn latest_prices_keeps_newest_per_type_and_zone() {
        let got = latest_prices([
            price("c5.4xlarge", "us-east-1a", 0.30, 100),
            price("c5.4xlarge", "us-east-1a", 0.25, 200),
            price("c5.4xlarge", "us-east-1a", 0.40, 150),
            price("c5.4xlarge", "us-east-1b", 0.35, 50),
            price("c5.2xlarge", "us-east-1a", 0.12, 10),
        ]);
        assert_eq!(
            got,
            vec![
                price("c5.2xlarge", "us-east-1a", 0.12, 10),
                price("c5.4xlarge", "us-east-1a", 0.25, 200),
                price("c5.4xlarge", "us-east-1b", 0.35, 50),
            ]
        );
    }

    #[test]
    fn spot_records_are_parsed_or_refused() {
        let rec = |p: &str| {
            aws_sdk_ec2::types::SpotPrice::builder()
                .instance_type(InstanceType::from("c5.4xlarge"))
                .availability_zone("us-east-1a")
                .spot_price(p)
                .timestamp(DateTime::from_secs(1_700_000_000))
                .build()
        };
        let ok = spot_price(&rec("0.2731")).expect("parses");
        assert_eq!(ok, price("c5.4xlarge", "us-east-1a", 0.2731, 1_700_000_000));
        for bad in ["", "abc", "-1", "NaN"] {
            assert!(matches!(spot_price(&rec(bad)), Err(Error::Malformed { .. })), "{bad:?}");
        }
    }

    #[test]
    fn instance_info_needs_vcpus_and_memory() {
        let full = InstanceTypeInfo::builder()
            .instance_type(InstanceType::from("c5.4xlarge"))
            .v_cpu_info(VCpuInfo::builder().default_v_cpus(16).build())
            .memory_info(MemoryInfo::builder().size_in_mib(32768).build())
            .build();
        let want = InstanceInfo { name: "c5.4xlarge".into(), vcpus: 16, memory_mib: 32768 };
        assert_eq!(instance_info(&full), Ok(want));
        let no_mem = InstanceTypeInfo::builder()
            .instance_type(InstanceType::from("c5.4xlarge"))
            .v_cpu_info(VCpuInfo::builder().default_v_cpus(16).build())
            .build();
        assert!(matches!(instance_info(&no_mem), Err(Error::Malformed { .. })));
    }
}
