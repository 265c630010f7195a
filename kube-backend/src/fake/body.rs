//! Response bodies of the fake: a whole JSON document, or a watch stream of
//! JSON lines fed by a channel for as long as the watch is open.

use bytes::Bytes;
use http_body::Frame;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc::UnboundedReceiver;

/// The body type of [`super::FakeApi`]'s responses.
#[derive(Debug)]
pub struct FakeBody(Inner);

#[derive(Debug)]
enum Inner {
    Full(Option<Bytes>),
    Stream(UnboundedReceiver<Bytes>),
}

impl FakeBody {
    pub(crate) fn full(b: impl Into<Bytes>) -> Self {
        Self(Inner::Full(Some(b.into())))
    }

    pub(crate) fn stream(rx: UnboundedReceiver<Bytes>) -> Self {
        Self(Inner::Stream(rx))
    }
}

impl http_body::Body for FakeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().0 {
            Inner::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Inner::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }
}
