//! The per-connection queues: complete inbound messages and pending output.
//!
//! [`InboundQueue`] stores every queued message and the message being
//! assembled in one buffer: payload bytes are appended as they arrive (never
//! reserved from a length the peer claims), a complete message becomes an
//! entry, and popping hands out a borrowed slice. Consumed bytes are
//! compacted away once they outweigh what is left, so each byte is moved at
//! most a constant number of times on average, and the buffer is released
//! when the queue drains (an idle connection holds no buffer).
//!
//! [`Outbound`] collects the bytes waiting for `data_to_send()`: frame heads
//! and small payloads are copied into one buffer, while large immutable
//! payloads can be kept by reference (`P`) and copied only once, when the
//! output is joined. The queues only count; the connection decides what the
//! water marks mean.

use std::collections::VecDeque;
use std::mem::MaybeUninit;

/// Buffers at most this large are kept for reuse when a queue drains.
const KEEP_CAPACITY: usize = 256;

/// Entry lists at most this long are kept for reuse when a queue drains.
const KEEP_ENTRIES: usize = 4;

/// The type of a complete message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A TEXT message (valid UTF-8).
    Text,
    /// A BINARY message.
    Binary,
}

/// The inbound message queue, with the message being assembled at its end.
#[derive(Debug, Default)]
pub struct InboundQueue {
    /// Queued messages, then the message in progress.
    data: Vec<u8>,
    /// Start of the oldest queued message in `data`.
    head: usize,
    /// Start of the message in progress, when one is.
    partial: Option<usize>,
    /// Queued messages: type and payload length.
    entries: VecDeque<(MessageKind, usize)>,
    /// Sum of the queued payload lengths.
    bytes: usize,
}

impl InboundQueue {
    /// Return the number of complete messages queued.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Return True when no complete message is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Return the payload bytes of the complete messages queued.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Start assembling a message (dropping any message in progress).
    pub fn begin(&mut self) {
        self.abort();
        self.partial = Some(self.data.len());
    }

    /// Return the bytes of the message in progress so far.
    #[must_use]
    pub fn partial(&self) -> &[u8] {
        match self.partial {
            Some(start) => self.data.get(start..).unwrap_or_default(),
            None => &[],
        }
    }

    /// Append payload bytes to the message in progress, unmasking them when
    /// `mask` gives the key and the key position of the first byte.
    ///
    /// Does nothing when no message is in progress.
    pub fn extend(&mut self, payload: &[u8], mask: Option<([u8; 4], usize)>) {
        if self.partial.is_none() {
            return;
        }
        match mask {
            Some((key, offset)) => {
                crate::mask::mask_extend(&mut self.data, payload, key, offset);
            }
            None => self.data.extend_from_slice(payload),
        }
    }

    /// Return the buffer that ends with the message in progress, to append to it.
    ///
    /// Bytes pushed onto it become part of the message in progress (the
    /// inflater writes there directly). `None` when no message is in progress.
    pub fn partial_buf(&mut self) -> Option<&mut Vec<u8>> {
        self.partial.is_some().then_some(&mut self.data)
    }

    /// Queue the message in progress as a complete message of `kind`.
    pub fn commit(&mut self, kind: MessageKind) {
        if let Some(start) = self.partial.take() {
            let len = self.data.len() - start;
            self.entries.push_back((kind, len));
            self.bytes += len;
        }
    }

    /// Drop the message in progress, if any.
    pub fn abort(&mut self) {
        if let Some(start) = self.partial.take() {
            self.data.truncate(start);
            self.compact();
        }
    }

    /// Pop the oldest message and hand its payload to `f`.
    ///
    /// Returns `None` when no complete message is queued.
    pub fn pop_with<T>(&mut self, f: impl FnOnce(MessageKind, &[u8]) -> T) -> Option<T> {
        let (kind, len) = self.entries.pop_front()?;
        let end = self.head + len;
        let result = f(kind, self.data.get(self.head..end).unwrap_or_default());
        self.head = end;
        self.bytes -= len;
        self.compact();
        Some(result)
    }

    /// Drop every queued message and the message in progress.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Move the unread bytes to the front once the consumed ones outweigh them,
    /// and release the buffer when it empties.
    fn compact(&mut self) {
        let remaining = self.data.len() - self.head;
        if self.head > 0 && self.head >= remaining {
            self.data.drain(..self.head);
            if let Some(start) = self.partial.as_mut() {
                *start -= self.head;
            }
            self.head = 0;
        }
        if self.data.is_empty() && self.data.capacity() > KEEP_CAPACITY {
            self.data = Vec::new();
        }
        if self.entries.is_empty() && self.entries.capacity() > KEEP_ENTRIES {
            self.entries = VecDeque::new();
        }
    }

    /// Return the heap bytes this queue holds.
    #[must_use]
    pub fn heap_size(&self) -> usize {
        self.data.capacity() + self.entries.capacity() * std::mem::size_of::<(MessageKind, usize)>()
    }
}

/// Pending output: one byte buffer plus payloads kept by reference.
#[derive(Debug)]
pub struct Outbound<P> {
    /// Bytes copied in, in order.
    buf: Vec<u8>,
    /// Payloads kept by reference: the position in `buf` they go before,
    /// the payload, and its length.
    external: VecDeque<(usize, P, usize)>,
    /// Sum of the external lengths.
    external_len: usize,
}

impl<P> Default for Outbound<P> {
    fn default() -> Self {
        Self {
            buf: Vec::new(),
            external: VecDeque::new(),
            external_len: 0,
        }
    }
}

impl<P> Outbound<P> {
    /// Return the number of bytes pending.
    #[must_use]
    pub fn len(&self) -> usize {
        self.buf.len() + self.external_len
    }

    /// Return True when nothing is pending.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Return the copy buffer, to append bytes to.
    pub fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Queue a payload by reference; it is copied when the output is joined.
    pub fn push_external(&mut self, payload: P, len: usize) {
        self.external.push_back((self.buf.len(), payload, len));
        self.external_len += len;
    }

    /// Write everything pending into `dst` and clear the queue.
    ///
    /// `dst` should be [`len`](Self::len) bytes; `resolve` returns the bytes
    /// of a payload kept by reference. Returns how many bytes of `dst` were
    /// written (less than `dst.len()` only if a payload shrank, which
    /// immutable payloads cannot).
    pub fn drain_into<F>(&mut self, dst: &mut [MaybeUninit<u8>], mut resolve: F) -> usize
    where
        F: for<'a> FnMut(&'a P) -> &'a [u8],
    {
        let mut written = 0;
        let mut copied = 0;
        let mut put = |written: &mut usize, src: &[u8]| {
            let end = (*written + src.len()).min(dst.len());
            for (d, s) in dst[*written..end].iter_mut().zip(src) {
                d.write(*s);
            }
            *written = end;
        };
        for (at, payload, _) in &self.external {
            put(&mut written, self.buf.get(copied..*at).unwrap_or_default());
            copied = *at;
            put(&mut written, resolve(payload));
        }
        put(&mut written, self.buf.get(copied..).unwrap_or_default());
        self.clear();
        written
    }

    /// Return everything pending joined, and clear the queue.
    pub fn take_joined(&mut self) -> Vec<u8>
    where
        P: AsRef<[u8]>,
    {
        if self.external.is_empty() {
            return std::mem::take(&mut self.buf);
        }
        let mut out = Vec::with_capacity(self.len());
        let mut copied = 0;
        for (at, payload, _) in &self.external {
            out.extend_from_slice(self.buf.get(copied..*at).unwrap_or_default());
            copied = *at;
            out.extend_from_slice(payload.as_ref());
        }
        out.extend_from_slice(self.buf.get(copied..).unwrap_or_default());
        self.clear();
        out
    }

    /// Drop everything pending and release the buffers.
    pub fn clear(&mut self) {
        self.buf = Vec::new();
        self.external = VecDeque::new();
        self.external_len = 0;
    }

    /// Return the heap bytes this queue holds (payloads kept by reference excluded).
    #[must_use]
    pub fn heap_size(&self) -> usize {
        self.buf.capacity() + self.external.capacity() * std::mem::size_of::<(usize, P, usize)>()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_in_order_with_partial_at_the_end() {
        let mut q = InboundQueue::default();
        for i in 0..100u8 {
            q.begin();
            q.extend(&[i; 3], None);
            q.commit(if i % 2 == 0 {
                MessageKind::Text
            } else {
                MessageKind::Binary
            });
        }
        q.begin();
        q.extend(b"part", None);
        assert_eq!(q.len(), 100);
        assert_eq!(q.bytes(), 300);
        for i in 0..100u8 {
            let got = q.pop_with(|kind, data| (kind, data.to_vec())).unwrap();
            assert_eq!(got.1, vec![i; 3]);
            assert_eq!(q.partial(), b"part");
        }
        assert!(q.pop_with(|_, _| ()).is_none());
        q.extend(b"!", None);
        q.commit(MessageKind::Binary);
        assert_eq!(q.pop_with(|_, d| d.to_vec()).unwrap(), b"part!");
        assert_eq!(q.heap_size(), q.entries.capacity() * 16);
    }

    #[test]
    fn abort_drops_only_the_partial_message() {
        let mut q = InboundQueue::default();
        q.begin();
        q.extend(b"ab", Some(([1, 2, 3, 4], 0)));
        q.commit(MessageKind::Binary);
        q.begin();
        q.extend(b"xyz", None);
        q.abort();
        assert_eq!(
            q.pop_with(|_, d| d.to_vec()).unwrap(),
            vec![b'a' ^ 1, b'b' ^ 2]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn outbound_joins_in_order() {
        let mut out: Outbound<Vec<u8>> = Outbound::default();
        out.buf_mut().extend_from_slice(b"h1");
        out.push_external(b"PAYLOAD".to_vec(), 7);
        out.buf_mut().extend_from_slice(b"h2");
        out.push_external(b"P2".to_vec(), 2);
        assert_eq!(out.len(), 13);
        let mut dst = vec![MaybeUninit::new(0u8); out.len()];
        let mut copy: Outbound<Vec<u8>> = Outbound::default();
        copy.buf_mut().extend_from_slice(b"h1");
        copy.push_external(b"PAYLOAD".to_vec(), 7);
        copy.buf_mut().extend_from_slice(b"h2");
        copy.push_external(b"P2".to_vec(), 2);
        // The bytes written are checked through the binding (`data_to_send()`
        // in the Python suite); reading `MaybeUninit` here would need `unsafe`.
        assert_eq!(copy.drain_into(&mut dst, |p| p.as_slice()), 13);
        assert_eq!(out.take_joined(), b"h1PAYLOADh2P2");
        assert!(out.is_empty());
        assert!(copy.is_empty());
    }
}
