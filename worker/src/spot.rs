//! Spot interruption notices from the EC2 instance metadata service (IMDS).
//!
//! EC2 gives a spot instance two minutes' notice: `GET
//! /latest/meta-data/spot/instance-action` turns from 404 into 200 with
//! `{"action": "terminate"|"stop"|"hibernate", "time": "..."}`. On EKS the
//! kubelet usually turns that into a pod SIGTERM, but not always in time (and
//! not at all without a node-termination handler), so the worker can poll it
//! itself and drain. The base URL is configurable so tests point it at a stub.
//! IMDSv2 is used when the endpoint hands out a session token; a plain GET
//! (IMDSv1, or a stub) otherwise.

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use std::time::Duration;

/// The real instance metadata endpoint.
pub const IMDS_BASE: &str = "http://169.254.169.254";
const ACTION_PATH: &str = "/latest/meta-data/spot/instance-action";
const TOKEN_PATH: &str = "/latest/api/token";

/// A notice that the instance is about to go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SpotNotice {
    pub action: String,
    #[serde(default)]
    pub time: String,
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

/// Polls `base` every `every` until a spot notice appears, then returns it.
/// Errors (no metadata service, timeouts) are logged once and polling goes on:
/// a worker off EC2 simply never gets a notice.
pub async fn wait_for_notice(base: &str, every: Duration) -> SpotNotice {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let base = base.trim_end_matches('/').to_owned();
    let mut warned = false;
    loop {
        match poll_once(&client, &base).await {
            Ok(Some(notice)) => return notice,
            Ok(None) => {}
            Err(e) if !warned => {
                tracing::warn!("spot notice endpoint {base}: {e} (will keep polling)");
                warned = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(every).await;
    }
}

async fn poll_once(client: &HttpClient, base: &str) -> Result<Option<SpotNotice>, String> {
    let token = imds_token(client, base).await;
    let mut request = hyper::Request::get(format!("{base}{ACTION_PATH}"));
    if let Some(t) = &token {
        request = request.header("X-aws-ec2-metadata-token", t.as_str());
    }
    let request = request.body(Empty::new()).map_err(|e| e.to_string())?;
    let (status, body) = send(client, request).await?;
    match status {
        200 => serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| format!("unreadable instance-action {:?}: {e}", String::from_utf8_lossy(&body))),
        404 => Ok(None),
        other => Err(format!("instance-action answered HTTP {other}")),
    }
}

/// An IMDSv2 session token, if the endpoint gives one.
async fn imds_token(client: &HttpClient, base: &str) -> Option<String> {
    let request = hyper::Request::put(format!("{base}{TOKEN_PATH}"))
        .header("X-aws-ec2-metadata-token-ttl-seconds", "60")
        .body(Empty::new())
        .ok()?;
    match send(client, request).await {
        Ok((200, body)) => String::from_utf8(body).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
        _ => None,
    }
}

async fn send(client: &HttpClient, request: hyper::Request<Empty<Bytes>>) -> Result<(u16, Vec<u8>), String> {
    let response = tokio::time::timeout(Duration::from_secs(1), client.request(request))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(1), response.into_body().collect())
        .await
        .map_err(|_| "timed out reading the body".to_owned())?
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body.to_vec()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A metadata stub answering 404 for the first `misses` action requests, then a notice.
    async fn stub(misses: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let n = s.read(&mut buf).await.unwrap();
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let (code, body) = if head.starts_with("PUT") {
                    (200, "tok".to_owned())
                } else if !head.contains("x-aws-ec2-metadata-token: tok") {
                    (401, String::new())
                } else if seen < misses {
                    seen += 1;
                    (404, String::new())
                } else {
                    (200, r#"{"action":"terminate","time":"2026-11-27T23:00:00Z"}"#.to_owned())
                };
                let reply =
                    format!("HTTP/1.1 {code} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
                s.write_all(reply.as_bytes()).await.unwrap();
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn notice_arrives_after_404s_using_an_imdsv2_token() {
        let base = stub(3).await;
        let notice = tokio::time::timeout(Duration::from_secs(10), wait_for_notice(&base, Duration::from_millis(10)))
            .await
            .expect("no notice within 10 s");
        assert_eq!(notice.action, "terminate");
        assert_eq!(notice.time, "2026-11-27T23:00:00Z");
    }

    #[tokio::test]
    async fn no_endpoint_means_no_notice() {
        let r = tokio::time::timeout(
            Duration::from_millis(300),
            wait_for_notice("http://127.0.0.1:9", Duration::from_millis(20)),
        )
        .await;
        assert!(r.is_err(), "a notice appeared from nowhere: {r:?}");
    }
}
