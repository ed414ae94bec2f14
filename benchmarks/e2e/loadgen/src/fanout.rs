//! Fan-out: one publish reaches every connection; how fast, and how soon.
//!
//! The server keeps every connection of `--path` subscribed to one topic and
//! answers a TEXT request `"<count> <size> <conns>"` (sent on the first
//! connection) by publishing `count` messages of `size` bytes to all of them
//! once `conns` connections are subscribed. Two phases:
//!
//! * latency: `--rounds` times, one message; the time from writing the
//!   request to the moment the last connection has the message (so it
//!   includes the request's trip to the server, about one loopback hop);
//! * burst: after a `{"phase": "burst"}` line on stdout, the driver answers
//!   with a line on stdin (it samples the server's CPU time then), and one
//!   request asks for `--messages` messages: every connection must get them
//!   all; the rate is the delivered messages over the wall time.

use std::io::{self, BufRead, Read, Write};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::codec::{self, count_messages, Decoder, TEXT};
use crate::{cpu_seconds, open_many, Connection, Masks, Options, READ_BUFFER};

struct Subscribers {
    poll: Poll,
    events: Events,
    streams: Vec<mio::net::TcpStream>,
    decoders: Vec<Decoder>,
    counts: Vec<u64>,
    /// How many connections have at least `target` messages.
    done: usize,
    target: u64,
    size: u64,
    buffer: Vec<u8>,
}

impl Subscribers {
    fn new(connections: Vec<Connection>, size: u64) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut streams = Vec::with_capacity(connections.len());
        let mut decoders = Vec::with_capacity(connections.len());
        let mut counts = Vec::with_capacity(connections.len());
        for (i, connection) in connections.into_iter().enumerate() {
            let Connection {
                stream,
                mut decoder,
                early,
                ..
            } = connection;
            counts.push(count_messages(&mut decoder, &early, size)?);
            stream.set_nonblocking(true)?;
            let mut stream = mio::net::TcpStream::from_std(stream);
            poll.registry()
                .register(&mut stream, Token(i), Interest::READABLE)?;
            streams.push(stream);
            decoders.push(decoder);
        }
        Ok(Self {
            poll,
            events: Events::with_capacity(4096),
            streams,
            decoders,
            counts,
            done: 0,
            target: 0,
            size,
            buffer: vec![0u8; READ_BUFFER],
        })
    }

    /// Ask for `count` messages; return when every connection has them.
    fn request(&mut self, count: u64, masks: &mut Masks) -> io::Result<()> {
        let conns = self.streams.len();
        let text = format!("{count} {} {conns}", self.size);
        let frame = codec::encode(TEXT, text.as_bytes(), masks.next());
        if self.streams[0].write(&frame)? != frame.len() {
            return Err(io::Error::other("short write of a fan-out request"));
        }
        self.target += count;
        self.done = self.counts.iter().filter(|&&c| c >= self.target).count();
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.done < conns {
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("fan-out: {} of {conns} connections complete", self.done),
                ));
            }
            self.poll
                .poll(&mut self.events, Some(Duration::from_secs(1)))?;
            for event in &self.events {
                let i = event.token().0;
                loop {
                    match self.streams[i].read(&mut self.buffer) {
                        Ok(0) => {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "server closed TCP",
                            ))
                        }
                        Ok(n) => {
                            let before = self.counts[i];
                            let got = count_messages(
                                &mut self.decoders[i],
                                &self.buffer[..n],
                                self.size,
                            )?;
                            self.counts[i] += got;
                            if before < self.target && self.counts[i] >= self.target {
                                self.done += 1;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The fan-out workload (see the module docs).
pub fn fanout(options: &Options) -> io::Result<String> {
    let mut masks = Masks(0x1656_67B1);
    let connections = open_many(options, options.conns)?;
    let mut subscribers = Subscribers::new(connections, options.size as u64)?;

    // Warm-up (and the server learns every connection): one message.
    subscribers.request(1, &mut masks)?;
    let mut latencies = Vec::with_capacity(options.rounds);
    for _ in 0..options.rounds {
        let start = Instant::now();
        subscribers.request(1, &mut masks)?;
        latencies.push(start.elapsed().as_secs_f64() * 1e6);
    }
    latencies.sort_by(f64::total_cmp);

    println!("{{\"phase\": \"burst\"}}");
    io::stdout().flush()?;
    let mut line = String::new();
    io::stdin().lock().read_line(&mut line)?;

    let cpu_start = cpu_seconds();
    let start = Instant::now();
    subscribers.request(options.messages as u64, &mut masks)?;
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let delivered = (options.messages * options.conns) as u64;
    for stream in &mut subscribers.streams {
        let _ = stream.write(&codec::close_frame(masks.next()));
    }
    Ok(format!(
        "{{\"workload\": \"fanout\", \"size\": {}, \"conns\": {}, \"messages\": {}, \
         \"rounds\": {}, \"count\": {delivered}, \"wall_s\": {wall:.6}, \"rate\": {:.1}, \
         \"p50_us\": {:.1}, \"p99_us\": {:.1}, \"client_cpu_s\": {cpu:.6}}}",
        options.size,
        options.conns,
        options.messages,
        options.rounds,
        delivered as f64 / wall,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
    ))
}
