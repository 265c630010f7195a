//! Instance types and their prices. A small built-in table of real EC2 types
//! so a policy can name `c5.4xlarge` and get sensible numbers; a policy may
//! override any entry or add its own (prices change, regions differ).
//!
//! On-demand prices are the public us-east-1 Linux list prices. Spot prices
//! move every few minutes; the built-in figures are typical recent levels
//! (roughly 55–65 % below on-demand) and are meant to be overridden.

use serde::{Deserialize, Serialize};

/// One instance type: what it gives and what it costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    pub name: String,
    pub vcpus: u32,
    pub memory_mib: u64,
    pub on_demand_usd_per_hour: f64,
    pub spot_usd_per_hour: f64,
}

/// (name, vCPUs, memory GiB, on-demand $/h, typical spot $/h).
const BUILT_IN: &[(&str, u32, u64, f64, f64)] = &[
    ("m5.2xlarge", 8, 32, 0.384, 0.15),
    ("c5.4xlarge", 16, 32, 0.68, 0.27),
    ("c5.9xlarge", 36, 72, 1.53, 0.60),
    ("c6i.4xlarge", 16, 32, 0.68, 0.28),
    ("c6i.8xlarge", 32, 64, 1.36, 0.55),
    ("c7i.8xlarge", 32, 64, 1.428, 0.58),
    ("m6i.4xlarge", 16, 64, 0.768, 0.31),
];

/// The built-in instance types.
pub fn built_in() -> Vec<InstanceType> {
    BUILT_IN
        .iter()
        .map(|&(name, vcpus, gib, od, spot)| InstanceType {
            name: name.to_owned(),
            vcpus,
            memory_mib: gib * 1024,
            on_demand_usd_per_hour: od,
            spot_usd_per_hour: spot,
        })
        .collect()
}

/// Looks `name` up: first in `overrides`, then in the built-in table.
pub fn lookup(overrides: &[InstanceType], name: &str) -> Option<InstanceType> {
    overrides.iter().find(|t| t.name == name).cloned().or_else(|| built_in().into_iter().find(|t| t.name == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_types_are_found_and_overrides_win() {
        let c5 = lookup(&[], "c5.4xlarge");
        assert_eq!(c5.as_ref().map(|t| t.vcpus), Some(16));
        assert_eq!(c5.map(|t| t.on_demand_usd_per_hour), Some(0.68));
        assert!(lookup(&[], "z9.huge").is_none());
        let cheap = InstanceType {
            name: "c5.4xlarge".into(),
            vcpus: 16,
            memory_mib: 32768,
            on_demand_usd_per_hour: 0.5,
            spot_usd_per_hour: 0.1,
        };
        assert_eq!(lookup(std::slice::from_ref(&cheap), "c5.4xlarge"), Some(cheap));
        for t in built_in() {
            assert!(t.spot_usd_per_hour < t.on_demand_usd_per_hour, "{}", t.name);
        }
    }
}
