//! A request body with a deadline: the whole body must arrive within a time limit counted
//! from the moment the request's head was read, however slowly it trickles in.
//!
//! When the deadline passes first, reading the body yields a [`BodyTimeout`] error (a
//! handler finds it as the source of the body error and answers 408); the connection is
//! not reused for another request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

/// The body did not arrive within its time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the request body did not arrive within {} seconds", .limit.as_secs())]
pub struct BodyTimeout {
    /// The time limit for the whole body.
    pub limit: Duration,
}

impl BodyTimeout {
    /// Whether `error` (a body error, as axum's extractors and `Body::frame` give it) was
    /// caused by the deadline.
    pub fn caused(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut current = Some(error);
        while let Some(e) = current {
            if e.is::<BodyTimeout>() {
                return true;
            }
            current = e.source();
        }
        false
    }
}

/// `incoming` as axum's body, limited to `limit` in all from now; a body that is already
/// complete (a GET) is passed through as it is.
pub(crate) fn with_deadline(incoming: Incoming, limit: Duration) -> Body {
    if http_body::Body::is_end_stream(&incoming) {
        return Body::new(incoming);
    }
    Body::new(Deadline {
        inner: incoming,
        sleep: Box::pin(tokio::time::sleep_until(Instant::now() + limit)),
        limit,
    })
}

struct Deadline {
    inner: Incoming,
    sleep: Pin<Box<Sleep>>,
    limit: Duration,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout { limit: this.limit })))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
