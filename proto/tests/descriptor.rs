//! The encoded descriptor set decodes, names every service and method of the API with
//! the right streaming shape, and documents every field, enum value, oneof, service and
//! method.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prost::Message;
use prost_types::{FileDescriptorProto, FileDescriptorSet, ServiceDescriptorProto};
use std::collections::BTreeSet;

fn descriptor_set() -> FileDescriptorSet {
    FileDescriptorSet::decode(riskgrid_proto::FILE_DESCRIPTOR_SET).expect("FILE_DESCRIPTOR_SET decodes")
}

fn service<'a>(set: &'a FileDescriptorSet, name: &str) -> (&'a FileDescriptorProto, &'a ServiceDescriptorProto) {
    set.file
        .iter()
        .flat_map(|f| f.service.iter().map(move |s| (f, s)))
        .find(|(_, s)| s.name() == name)
        .unwrap_or_else(|| panic!("service {name} is in the descriptor set"))
}

/// (method, input, output, client streaming, server streaming)
type MethodShape = (&'static str, &'static str, &'static str, bool, bool);

fn assert_methods(set: &FileDescriptorSet, name: &str, expected: &[MethodShape]) {
    let (file, svc) = service(set, name);
    assert_eq!(file.package(), riskgrid_proto::PACKAGE);
    let got: Vec<MethodShape> = svc
        .method
        .iter()
        .map(|m| {
            // Leak: a test-only convenience to compare against &'static str tuples.
            let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
            (leak(m.name()), leak(m.input_type()), leak(m.output_type()), m.client_streaming(), m.server_streaming())
        })
        .collect();
    assert_eq!(got, expected, "methods of {name}");
}

#[test]
fn files_and_package() {
    let set = descriptor_set();
    let names: BTreeSet<&str> = set.file.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "riskgrid/v1/capacity.proto",
            "riskgrid/v1/common.proto",
            "riskgrid/v1/jobs.proto",
            "riskgrid/v1/workers.proto"
        ])
    );
    for file in &set.file {
        assert_eq!(file.package(), "riskgrid.v1", "{}", file.name());
        assert_eq!(file.syntax(), "proto3", "{}", file.name());
        // Dependencies come before the files that import them.
        for dep in &file.dependency {
            assert!(set.file.iter().position(|f| f.name() == dep) < set.file.iter().position(|f| f.name == file.name));
        }
    }
}

#[test]
fn job_service_methods() {
    let set = descriptor_set();
    assert_eq!(riskgrid_proto::JOB_SERVICE, "riskgrid.v1.JobService");
    assert_methods(
        &set,
        "JobService",
        &[
            ("SubmitJob", ".riskgrid.v1.SubmitJobRequest", ".riskgrid.v1.SubmitJobResponse", false, false),
            ("WatchJob", ".riskgrid.v1.WatchJobRequest", ".riskgrid.v1.JobEvent", false, true),
            ("SubmitAndWatch", ".riskgrid.v1.SubmitAndWatchRequest", ".riskgrid.v1.JobEvent", false, true),
            ("GetJob", ".riskgrid.v1.GetJobRequest", ".riskgrid.v1.GetJobResponse", false, false),
            ("GetResult", ".riskgrid.v1.GetResultRequest", ".riskgrid.v1.GetResultResponse", false, false),
            ("CancelJob", ".riskgrid.v1.CancelJobRequest", ".riskgrid.v1.CancelJobResponse", false, false),
            ("ListJobs", ".riskgrid.v1.ListJobsRequest", ".riskgrid.v1.ListJobsResponse", false, false),
        ],
    );
}

#[test]
fn worker_service_methods() {
    let set = descriptor_set();
    assert_eq!(riskgrid_proto::WORKER_SERVICE, "riskgrid.v1.WorkerService");
    assert_methods(
        &set,
        "WorkerService",
        &[
            ("Register", ".riskgrid.v1.RegisterRequest", ".riskgrid.v1.RegisterResponse", false, false),
            ("LeaseTasks", ".riskgrid.v1.LeaseRequest", ".riskgrid.v1.LeaseResponse", false, false),
            ("GetJobSpec", ".riskgrid.v1.GetJobSpecRequest", ".riskgrid.v1.GetJobSpecResponse", false, false),
            ("ReportResults", ".riskgrid.v1.BlockResult", ".riskgrid.v1.ReportAck", true, false),
            ("Heartbeat", ".riskgrid.v1.HeartbeatRequest", ".riskgrid.v1.HeartbeatResponse", false, false),
            ("CompleteTask", ".riskgrid.v1.CompleteTaskRequest", ".riskgrid.v1.CompleteTaskResponse", false, false),
            ("Drain", ".riskgrid.v1.DrainRequest", ".riskgrid.v1.DrainResponse", false, false),
            ("Work", ".riskgrid.v1.WorkUp", ".riskgrid.v1.WorkDown", true, true),
        ],
    );
}

#[test]
fn capacity_service_methods() {
    let set = descriptor_set();
    assert_methods(
        &set,
        "CapacityService",
        &[
            ("GetCapacity", ".riskgrid.v1.GetCapacityRequest", ".riskgrid.v1.GetCapacityResponse", false, false),
            ("SetPolicy", ".riskgrid.v1.SetPolicyRequest", ".riskgrid.v1.SetPolicyResponse", false, false),
            ("PlanJob", ".riskgrid.v1.PlanJobRequest", ".riskgrid.v1.PlanJobResponse", false, false),
        ],
    );
}

#[test]
fn moments_and_pnl_travel_as_doubles() {
    use prost_types::field_descriptor_proto::{Label, Type};
    let set = descriptor_set();
    let message =
        |name: &str| set.file.iter().flat_map(|f| &f.message_type).find(|m| m.name() == name).expect("message exists");
    let moments = message("Moments");
    for (field, ty) in [("n", Type::Uint64), ("sum", Type::Double), ("m2", Type::Double)] {
        let f = moments.field.iter().find(|f| f.name() == field).expect("Moments field");
        assert_eq!(f.r#type(), ty, "Moments.{field}");
    }
    let block = message("BlockResult");
    let pnl = block.field.iter().find(|f| f.name() == "pnl").expect("BlockResult.pnl");
    assert_eq!((pnl.r#type(), pnl.label()), (Type::Double, Label::Repeated));
    let moments = block.field.iter().find(|f| f.name() == "moments").expect("BlockResult.moments");
    assert_eq!((moments.type_name(), moments.label()), (".riskgrid.v1.Moments", Label::Repeated));
}

/// Source-info paths (descriptor.proto field numbers) of everything that must carry a
/// leading comment: fields (4 … 2 j), oneofs (4 … 8 j), nested messages' fields too,
/// enums and their values (5 i, 5 i 2 j), services and methods (6 i, 6 i 2 j).
fn documented_items(file: &FileDescriptorProto) -> Vec<(Vec<i32>, String)> {
    fn message(path: Vec<i32>, m: &prost_types::DescriptorProto, out: &mut Vec<(Vec<i32>, String)>) {
        if m.options.as_ref().is_some_and(|o| o.map_entry()) {
            return;
        }
        for (j, f) in m.field.iter().enumerate() {
            out.push(([path.as_slice(), &[2, j as i32]].concat(), format!("{}.{}", m.name(), f.name())));
        }
        for (j, o) in m.oneof_decl.iter().enumerate() {
            // proto3 `optional` fields get a synthetic oneof with no source of its own.
            if m.field.iter().any(|f| f.oneof_index == Some(j as i32) && f.proto3_optional()) {
                continue;
            }
            out.push(([path.as_slice(), &[8, j as i32]].concat(), format!("{}.{} (oneof)", m.name(), o.name())));
        }
        for (k, nested) in m.nested_type.iter().enumerate() {
            message([path.as_slice(), &[3, k as i32]].concat(), nested, out);
        }
    }
    let mut out = Vec::new();
    for (i, m) in file.message_type.iter().enumerate() {
        message(vec![4, i as i32], m, &mut out);
    }
    for (i, e) in file.enum_type.iter().enumerate() {
        out.push((vec![5, i as i32], e.name().to_owned()));
        for (j, v) in e.value.iter().enumerate() {
            out.push((vec![5, i as i32, 2, j as i32], format!("{}.{}", e.name(), v.name())));
        }
    }
    for (i, s) in file.service.iter().enumerate() {
        out.push((vec![6, i as i32], s.name().to_owned()));
        for (j, m) in s.method.iter().enumerate() {
            out.push((vec![6, i as i32, 2, j as i32], format!("{}.{}", s.name(), m.name())));
        }
    }
    out
}

#[test]
fn every_field_method_and_enum_value_is_documented() {
    let set = descriptor_set();
    let mut undocumented = Vec::new();
    let mut checked = 0;
    for file in &set.file {
        let info = file.source_code_info.as_ref().expect("descriptor set keeps source info (comments)");
        for (path, what) in documented_items(file) {
            checked += 1;
            let documented = info
                .location
                .iter()
                .any(|l| l.path == path && l.leading_comments.as_deref().is_some_and(|c| !c.trim().is_empty()));
            if !documented {
                undocumented.push(format!("{}: {what}", file.name()));
            }
        }
    }
    assert!(checked > 150, "only {checked} items checked");
    assert!(undocumented.is_empty(), "undocumented:\n{}", undocumented.join("\n"));
}
