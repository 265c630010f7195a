//! FILE_DESCRIPTOR_SET works with tonic-reflection: the builder accepts it, and a
//! reflection server fed with it answers `grpcurl list`/`describe`-style queries over
//! loopback. A stub WorkerService on the same server checks that a client-streamed
//! BlockResult arrives bit-exact through the real transport.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prost::Message;
use riskgrid_proto::v1::worker_service_client::WorkerServiceClient;
use riskgrid_proto::v1::worker_service_server::{WorkerService, WorkerServiceServer};
use riskgrid_proto::v1::{
    BlockResult, CompleteTaskRequest, CompleteTaskResponse, DrainRequest, DrainResponse, GetJobSpecRequest,
    GetJobSpecResponse, HeartbeatRequest, HeartbeatResponse, LeaseRequest, LeaseResponse, Moments, RegisterRequest,
    RegisterResponse, ReportAck,
};
use std::net::SocketAddr;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic::{Request, Response, Status, Streaming};
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

#[test]
fn builder_accepts_the_descriptor_set() {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(riskgrid_proto::FILE_DESCRIPTOR_SET)
            .with_service_name(riskgrid_proto::JOB_SERVICE)
            .with_service_name(riskgrid_proto::WORKER_SERVICE)
    };
    builder().build_v1().expect("v1 reflection service builds");
    builder().build_v1alpha().expect("v1alpha reflection service builds");
}

/// A WorkerService whose ReportResults counts blocks whose bits match what the test sends.
#[derive(Debug)]
struct Stub;

fn expected_block(i: u64) -> BlockResult {
    BlockResult {
        task_id: format!("t-{i}"),
        job_id: "j".into(),
        trade: 0,
        block: i,
        moments: vec![Moments { n: 4096, sum: 0.1 + 0.2, m2: f64::from_bits(1) }],
        pnl: Vec::new(),
        attempt: 1,
    }
}

#[tonic::async_trait]
impl WorkerService for Stub {
    async fn register(&self, _: Request<RegisterRequest>) -> Result<Response<RegisterResponse>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn lease_tasks(&self, _: Request<LeaseRequest>) -> Result<Response<LeaseResponse>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn get_job_spec(&self, _: Request<GetJobSpecRequest>) -> Result<Response<GetJobSpecResponse>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn report_results(&self, request: Request<Streaming<BlockResult>>) -> Result<Response<ReportAck>, Status> {
        let mut stream = request.into_inner();
        let mut ack = ReportAck::default();
        while let Some(block) = stream.message().await? {
            if block.encode_to_vec() == expected_block(block.block).encode_to_vec() {
                ack.accepted += 1;
            } else {
                ack.rejected += 1;
            }
        }
        Ok(Response::new(ack))
    }
    async fn heartbeat(&self, _: Request<HeartbeatRequest>) -> Result<Response<HeartbeatResponse>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn complete_task(&self, _: Request<CompleteTaskRequest>) -> Result<Response<CompleteTaskResponse>, Status> {
        Err(Status::unimplemented("stub"))
    }
    async fn drain(&self, _: Request<DrainRequest>) -> Result<Response<DrainResponse>, Status> {
        Err(Status::unimplemented("stub"))
    }
    type WorkStream = tokio_stream::Empty<Result<riskgrid_proto::v1::WorkDown, Status>>;
    async fn work(
        &self,
        _: Request<Streaming<riskgrid_proto::v1::WorkUp>>,
    ) -> Result<Response<Self::WorkStream>, Status> {
        Err(Status::unimplemented("stub"))
    }
}

async fn serve() -> SocketAddr {
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(riskgrid_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .expect("reflection builds");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        Server::builder()
            .add_service(reflection)
            .add_service(WorkerServiceServer::new(Stub))
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
            .expect("server runs");
    });
    addr
}

async fn reflect(addr: SocketAddr, request: MessageRequest) -> MessageResponse {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("valid uri")
        .connect()
        .await
        .expect("connect");
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest { host: String::new(), message_request: Some(request) };
    let mut responses =
        client.server_reflection_info(tokio_stream::once(request)).await.expect("reflection call").into_inner();
    let response = responses.next().await.expect("one response").expect("ok response");
    response.message_response.expect("has a message")
}

#[tokio::test]
async fn reflection_lists_and_describes_the_services() {
    let addr = serve().await;

    let MessageResponse::ListServicesResponse(list) = reflect(addr, MessageRequest::ListServices(String::new())).await
    else {
        panic!("expected a ListServicesResponse");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"riskgrid.v1.JobService"), "{names:?}");
    assert!(names.contains(&"riskgrid.v1.WorkerService"), "{names:?}");

    for symbol in ["riskgrid.v1.WorkerService", "riskgrid.v1.WorkerService.ReportResults", "riskgrid.v1.Moments"] {
        let MessageResponse::FileDescriptorResponse(files) =
            reflect(addr, MessageRequest::FileContainingSymbol(symbol.into())).await
        else {
            panic!("expected a FileDescriptorResponse for {symbol}");
        };
        let first = prost_types::FileDescriptorProto::decode(files.file_descriptor_proto[0].as_slice())
            .expect("file descriptor decodes");
        let expected = if symbol == "riskgrid.v1.Moments" { "common.proto" } else { "workers.proto" };
        assert_eq!(first.name(), format!("riskgrid/v1/{expected}"), "{symbol}");
    }

    let MessageResponse::FileDescriptorResponse(files) =
        reflect(addr, MessageRequest::FileByFilename("riskgrid/v1/jobs.proto".into())).await
    else {
        panic!("expected a FileDescriptorResponse");
    };
    let jobs = prost_types::FileDescriptorProto::decode(files.file_descriptor_proto[0].as_slice()).expect("decodes");
    assert_eq!(jobs.service[0].name(), "JobService");
}

#[tokio::test]
async fn client_streamed_blocks_arrive_bit_exact() {
    let addr = serve().await;
    let mut client = WorkerServiceClient::connect(format!("http://{addr}")).await.expect("connect");
    let blocks: Vec<BlockResult> = (0..100).map(expected_block).collect();
    let ack = client.report_results(tokio_stream::iter(blocks)).await.expect("report").into_inner();
    assert_eq!((ack.accepted, ack.duplicates, ack.rejected), (100, 0, 0));
}
