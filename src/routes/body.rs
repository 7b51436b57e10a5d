//! Request bodies, bounded: at most [`MAX_BODY_BYTES`], and all of it within [`BodyDeadline`]
//! of the request's head (which actix bounds itself), so a client that sends a byte a second
//! holds a connection for seconds, not forever.

use std::cell::Cell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use crate::error::AppError;

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole body must arrive within this after the head (app data; tests shorten it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadline(pub Duration);

impl Default for BodyDeadline {
    /// 64 KiB in 10 s is 6.4 KiB/s, which any real client manages.
    fn default() -> Self {
        Self(Duration::from_secs(10))
    }
}

/// The middleware: every request's body is read against the deadline.
pub async fn deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let BodyDeadline(within) = req.app_data::<BodyDeadline>().copied().unwrap_or_default();
    let has_body = declares_body(req.headers());
    let finished = Rc::new(Cell::new(false));
    let inner = req.take_payload();
    let timed = Deadline {
        inner,
        within,
        sleep: Box::pin(tokio::time::sleep(within)),
        expired: false,
        finished: finished.clone(),
    };
    req.set_payload(Payload::from(
        Box::pin(timed) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
    let mut res = next.call(req).await?;
    // A body nobody read to its end would be read and thrown away after the answer, with no
    // deadline at all: the connection ends with the answer instead.
    if has_body && !finished.get() {
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

/// True when the request says a body follows.
fn declares_body(headers: &actix_web::http::header::HeaderMap) -> bool {
    let length = headers
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    length.is_some_and(|n| n > 0)
        || headers.contains_key(actix_web::http::header::TRANSFER_ENCODING)
}

/// A body stream that fails with [`std::io::ErrorKind::TimedOut`] once its deadline passes.
struct Deadline {
    inner: Payload,
    within: Duration,
    /// Set when the body was read to its end.
    finished: Rc<Cell<bool>>,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = self.inner.poll_next_unpin(cx) {
            if item.is_none() {
                self.finished.set(true);
            }
            return Poll::Ready(item);
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.expired = true;
                let message = format!(
                    "the request body did not arrive within {:?}; send it whole, at once",
                    self.within
                );
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    message,
                )))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Reads a whole body: 413 past [`MAX_BODY_BYTES`] (before reading, when the declared length
/// says so), 408 past the deadline, 400 when the client broke off.
pub async fn read(
    declared: Option<usize>,
    mut payload: web::Payload,
    what: &str,
) -> Result<Bytes, AppError> {
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(AppError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(payload_error(what))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(AppError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The answer to a body that could not be read: 408 past the deadline, 400 when the client
/// broke off.
pub fn payload_error(what: &str) -> impl Fn(PayloadError) -> AppError + '_ {
    move |e| match e {
        PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            AppError::RequestTimeout(io.to_string())
        }
        PayloadError::Overflow => AppError::PayloadTooLarge(MAX_BODY_BYTES),
        other => AppError::BadRequest(format!("could not read {what}: {other}")),
    }
}

/// The `Content-Length` a request declares, if any.
pub fn declared_length(req: &actix_web::HttpRequest) -> Option<usize> {
    req.headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}
