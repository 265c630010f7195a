//! TCP for gRPC peers: what h2 writes in one flush leaves in one `write`.
//!
//! On a connection with vectored writes, h2 sends a DATA payload of more than 256 bytes by
//! chaining it (no copy) into a `writev`, and must flush before it can buffer the next frame:
//! a final result and its gRPC trailers, or a batch of task messages, went out in one write per
//! frame, and the peer's loopback socket woke for each. [`WriteOnFlush`] keeps what h2 writes
//! and hands it to the socket in one `write` when h2 flushes (at the end of each turn of its
//! connection, so nothing is held back), and tells h2 its writes are not vectored, which makes
//! h2 copy payloads of up to 1,024 bytes into its own buffer instead of flushing around them.
//! The scheduler serves on it and [`WriteOnFlushConnector`] opens it for clients and workers.

use hyper_util::rt::TokioIo;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tonic::codegen::Service;
use tonic::codegen::http::Uri;
use tonic::transport::server::Connected;

/// Most bytes kept before they go to the socket without waiting for a flush.
const KEEP: usize = 64 * 1024;

/// `T`, with writes kept until flush (see the module docs).
#[derive(Debug)]
pub struct WriteOnFlush<T> {
    io: T,
    kept: Vec<u8>,
    /// How much of `kept` the socket has taken.
    sent: usize,
}

impl<T> WriteOnFlush<T> {
    pub fn new(io: T) -> Self {
        WriteOnFlush { io, kept: Vec::new(), sent: 0 }
    }

    pub fn get_ref(&self) -> &T {
        &self.io
    }
}

impl<T: AsyncWrite + Unpin> WriteOnFlush<T> {
    /// Writes out everything kept.
    fn poll_send_kept(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.kept.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.kept[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.kept.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteOnFlush<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteOnFlush<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.kept.len() + buf.len() > KEEP {
            ready!(this.poll_send_kept(cx))?;
            if buf.len() >= KEEP {
                return Pin::new(&mut this.io).poll_write(cx, buf);
            }
        }
        this.kept.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send_kept(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send_kept(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The server side keeps the connection's own info (peer address; with TLS, tonic adds the
/// peer's certificates around it), so `Request::remote_addr` and `peer_certs` still work.
impl<T: Connected> Connected for WriteOnFlush<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

/// Opens [`WriteOnFlush`] TCP connections (`TCP_NODELAY` on) to a URI's host and port, for
/// `tonic::transport::Endpoint::connect_with_connector{,_lazy}`, which still applies the
/// endpoint's TLS settings and connect timeout around it.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriteOnFlushConnector;

impl Service<Uri> for WriteOnFlushConnector {
    type Response = TokioIo<WriteOnFlush<TcpStream>>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{uri}: no host to connect to")))?;
            // An IPv6 literal comes bracketed ("[::1]").
            let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
            let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
            let stream = TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            Ok(TokioIo::new(WriteOnFlush::new(stream)))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A socket that records each write it is given, takes at most `max` bytes per write and,
    /// when `stall`, is not ready every other time (and wakes its caller at once).
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        max: usize,
        stall: bool,
        stalled: bool,
        flushes: usize,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            if self.stall && !self.stalled {
                self.stalled = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.stalled = false;
            let n = buf.len().min(self.max);
            self.writes.push(buf[..n].to_vec());
            Poll::Ready(Ok(n))
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn writes_reach_the_socket_together_at_the_flush() {
        let mut io = WriteOnFlush::new(Recorder { max: usize::MAX, ..Recorder::default() });
        io.write_all(b"HEADERS").await.unwrap();
        io.write_all(b"DATA").await.unwrap();
        io.write_all(b"TRAILERS").await.unwrap();
        assert!(io.get_ref().writes.is_empty(), "nothing is written before the flush");
        io.flush().await.unwrap();
        assert_eq!(io.get_ref().writes, vec![b"HEADERSDATATRAILERS".to_vec()]);
        assert_eq!(io.get_ref().flushes, 1);
        io.flush().await.unwrap();
        assert_eq!(io.get_ref().writes.len(), 1, "an empty flush writes nothing");
    }

    #[tokio::test]
    async fn more_than_it_keeps_goes_out_in_order_before_the_flush() {
        let mut io = WriteOnFlush::new(Recorder { max: usize::MAX, ..Recorder::default() });
        io.write_all(b"small").await.unwrap();
        let big = vec![7u8; KEEP];
        io.write_all(&big).await.unwrap();
        assert_eq!(io.get_ref().writes, vec![b"small".to_vec(), big.clone()], "kept bytes first, then the big write");
        io.write_all(b"tail").await.unwrap();
        io.shutdown().await.unwrap();
        assert_eq!(io.get_ref().writes.last().unwrap(), b"tail", "shutdown sends what is kept");
    }

    #[tokio::test]
    async fn a_slow_socket_gets_every_byte_in_order() {
        let mut io = WriteOnFlush::new(Recorder { max: 3, stall: true, ..Recorder::default() });
        let mut sent = Vec::new();
        for i in 0..200u32 {
            let chunk = vec![(i % 251) as u8; (i as usize * 97) % 1500];
            io.write_all(&chunk).await.unwrap();
            sent.extend_from_slice(&chunk);
            if i % 50 == 0 {
                io.flush().await.unwrap();
            }
        }
        io.flush().await.unwrap();
        assert_eq!(io.get_ref().writes.concat(), sent);
        assert!(io.get_ref().writes.iter().all(|w| w.len() <= 3));
    }

    #[tokio::test]
    async fn a_socket_that_takes_nothing_is_an_error() {
        let mut io = WriteOnFlush::new(Recorder { max: 0, ..Recorder::default() });
        io.write_all(b"x").await.unwrap();
        assert_eq!(io.flush().await.unwrap_err().kind(), io::ErrorKind::WriteZero);
    }

    #[tokio::test]
    async fn connects_to_a_uris_host_and_port_with_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = tokio::spawn(async move { listener.accept().await.unwrap().0 });
        let uri: Uri = format!("http://localhost:{port}").parse().unwrap();
        let io = WriteOnFlushConnector.call(uri).await.unwrap().into_inner();
        assert!(io.get_ref().nodelay().unwrap());
        assert!(!io.is_write_vectored());
        assert_eq!(accepting.await.unwrap().peer_addr().unwrap(), io.get_ref().local_addr().unwrap());
    }

    #[tokio::test]
    async fn a_uri_without_a_host_is_refused_with_a_message() {
        let err = WriteOnFlushConnector.call(Uri::from_static("/path-only")).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("no host"), "{err}");
    }

    #[tokio::test]
    async fn an_ipv6_literal_is_unbracketed() {
        let Ok(listener) = tokio::net::TcpListener::bind("[::1]:0").await else {
            return; // no IPv6 loopback on this machine
        };
        let port = listener.local_addr().unwrap().port();
        let uri: Uri = format!("http://[::1]:{port}").parse().unwrap();
        assert!(WriteOnFlushConnector.call(uri).await.is_ok());
    }
}
