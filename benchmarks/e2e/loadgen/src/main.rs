//! `loadgen`: the WebSocket load client of Gyrfalcon's end-to-end benchmarks.
//!
//! One workload per run, one JSON object on stdout, always with the client's
//! own CPU time (`client_cpu_s`, from `getrusage`) over the measured interval
//! so that reports can show the client is not the bottleneck. Workloads:
//!
//! * `seq`: one connection, one message in flight; round trips per second
//!   and the p50/p99 round-trip time.
//! * `pipe`: one connection, `--inflight` messages in flight; messages/s.
//! * `push`: `--conns` connections each ask for `--messages` messages
//!   (a TEXT `"<count> <size>"` request); delivered messages/s.
//! * `idle`: open `--conns` connections in steps of `--step`, printing a
//!   line after each step and waiting for a line on stdin (the driver reads
//!   the server's RSS), then close them.
//! * `accept`: `--threads` threads connect, handshake and close as fast as
//!   they can; connections per second.
//!
//! The payload of every message is `--size` bytes of ASCII sent as TEXT.

mod codec;
mod fanout;

use std::io::{self, BufRead, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use codec::{count_messages, Decoder, TEXT};

const READ_BUFFER: usize = 256 * 1024;

/// Command-line options shared by the workloads.
struct Options {
    addr: SocketAddr,
    path: String,
    size: usize,
    seconds: f64,
    warmup: f64,
    inflight: usize,
    conns: usize,
    messages: usize,
    step: usize,
    threads: usize,
    rounds: usize,
}

fn parse(args: &[String]) -> Result<(String, Options), String> {
    let workload = args
        .first()
        .ok_or("usage: loadgen WORKLOAD --addr HOST:PORT [...]")?;
    let mut options = Options {
        addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
        path: "/echo".into(),
        size: 32,
        seconds: 2.0,
        warmup: 0.5,
        inflight: 100,
        conns: 1000,
        messages: 100,
        step: 250,
        threads: 2,
        rounds: 50,
    };
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |_| format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--addr" => options.addr = value.parse().map_err(|_| format!("bad address {value}"))?,
            "--path" => options.path.clone_from(value),
            "--size" => options.size = value.parse().map_err(bad)?,
            "--inflight" => options.inflight = value.parse().map_err(bad)?,
            "--conns" => options.conns = value.parse().map_err(bad)?,
            "--messages" => options.messages = value.parse().map_err(bad)?,
            "--step" => options.step = value.parse().map_err(bad)?,
            "--threads" => options.threads = value.parse().map_err(bad)?,
            "--rounds" => options.rounds = value.parse().map_err(bad)?,
            "--seconds" => {
                options.seconds = value.parse().map_err(|_| format!("bad value {value}"))?;
            }
            "--warmup" => {
                options.warmup = value.parse().map_err(|_| format!("bad value {value}"))?;
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok((workload.clone(), options))
}

/// The process's user + system CPU time, in seconds.
#[allow(unsafe_code)]
fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a complete `rusage` into the pointer we pass,
    // which points to memory of the right size and alignment; on failure the
    // zeroed value stays, which reads as zero CPU time.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Raise the soft limit on open files to the hard limit.
#[allow(unsafe_code)]
fn raise_nofile() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: both calls read or write one `rlimit` that we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &raw const limit);
        }
    }
}

/// A small xorshift generator for mask keys (not cryptographic, not needed).
struct Masks(u32);

impl Masks {
    fn next(&mut self) -> [u8; 4] {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0.to_be_bytes()
    }
}

/// An open WebSocket connection driven with blocking reads.
struct Connection {
    stream: TcpStream,
    decoder: Decoder,
    /// The payload size every received message must have.
    size: u64,
    /// Bytes after the handshake response, not yet decoded.
    early: Vec<u8>,
}

impl Connection {
    fn open(options: &Options) -> io::Result<Self> {
        let mut stream = TcpStream::connect(options.addr)?;
        stream.set_nodelay(true)?;
        let host = options.addr.to_string();
        let early = codec::handshake(&mut stream, &host, &options.path)?;
        Ok(Self {
            stream,
            decoder: Decoder::default(),
            size: options.size as u64,
            early,
        })
    }

    /// Read until at least `want` more messages arrived; return how many did.
    fn read_messages(&mut self, want: u64, buffer: &mut [u8]) -> io::Result<u64> {
        let mut got = 0;
        if !self.early.is_empty() {
            let early = std::mem::take(&mut self.early);
            got += count_messages(&mut self.decoder, &early, self.size)?;
        }
        while got < want {
            let n = self.stream.read(buffer)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "server closed TCP",
                ));
            }
            got += count_messages(&mut self.decoder, &buffer[..n], self.size)?;
        }
        Ok(got)
    }

    fn close(mut self, masks: &mut Masks) {
        // Best effort: the measurement is over; the server may be gone.
        let _ = self.stream.write_all(&codec::close_frame(masks.next()));
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        let mut buffer = [0u8; 1024];
        let _ = self.stream.set_read_timeout(Some(Duration::from_secs(5)));
        while matches!(self.stream.read(&mut buffer), Ok(n) if n > 0) {}
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank] as f64 / 1000.0
}

fn payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Sequential echo: one message in flight, timed one by one.
fn sequential(options: &Options) -> io::Result<String> {
    let mut masks = Masks(0x9E37_79B9);
    let mut connection = Connection::open(options)?;
    let frame = codec::encode(TEXT, &payload(options.size), masks.next());
    let mut buffer = vec![0u8; READ_BUFFER];
    let warmup_end = Instant::now() + Duration::from_secs_f64(options.warmup);
    while Instant::now() < warmup_end {
        connection.stream.write_all(&frame)?;
        connection.read_messages(1, &mut buffer)?;
    }
    let mut samples: Vec<u64> = Vec::with_capacity(1 << 16);
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(options.seconds);
    let mut now = start;
    while now < end {
        connection.stream.write_all(&frame)?;
        connection.read_messages(1, &mut buffer)?;
        let done = Instant::now();
        samples.push((done - now).as_nanos() as u64);
        now = done;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    connection.close(&mut masks);
    samples.sort_unstable();
    Ok(format!(
        "{{\"workload\": \"seq\", \"size\": {}, \"count\": {}, \"wall_s\": {wall:.6}, \
         \"rate\": {:.1}, \"p50_us\": {:.2}, \"p99_us\": {:.2}, \"client_cpu_s\": {cpu:.6}}}",
        options.size,
        samples.len(),
        samples.len() as f64 / wall,
        percentile(&samples, 50.0),
        percentile(&samples, 99.0),
    ))
}

/// Pipelined echo: keep `inflight` messages in flight for `seconds`.
fn pipelined(options: &Options) -> io::Result<String> {
    let mut masks = Masks(0x85EB_CA6B);
    let mut connection = Connection::open(options)?;
    let frame = codec::encode(TEXT, &payload(options.size), masks.next());
    let window = options.inflight.max(1);
    let burst: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * window)
        .collect();
    let mut buffer = vec![0u8; READ_BUFFER];
    connection.stream.write_all(&burst)?;
    let mut in_flight = window as u64;
    let run = |connection: &mut Connection,
               buffer: &mut [u8],
               in_flight: &mut u64,
               until: Instant|
     -> io::Result<u64> {
        let mut received = 0;
        while Instant::now() < until {
            let n = connection.read_messages(1, buffer)?;
            received += n;
            *in_flight -= n;
            let refill = (window as u64 - *in_flight) as usize;
            connection
                .stream
                .write_all(&burst[..refill * frame.len()])?;
            *in_flight += refill as u64;
        }
        Ok(received)
    };
    let warmup_end = Instant::now() + Duration::from_secs_f64(options.warmup);
    run(&mut connection, &mut buffer, &mut in_flight, warmup_end)?;
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let received = run(
        &mut connection,
        &mut buffer,
        &mut in_flight,
        start + Duration::from_secs_f64(options.seconds),
    )?;
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    connection.read_messages(in_flight, &mut buffer)?;
    connection.close(&mut masks);
    Ok(format!(
        "{{\"workload\": \"pipe\", \"size\": {}, \"inflight\": {window}, \"count\": {received}, \
         \"wall_s\": {wall:.6}, \"rate\": {:.1}, \"client_cpu_s\": {cpu:.6}}}",
        options.size,
        received as f64 / wall,
    ))
}

/// Open `count` connections with blocking handshakes.
fn open_many(options: &Options, count: usize) -> io::Result<Vec<Connection>> {
    (0..count).map(|_| Connection::open(options)).collect()
}

/// Push: every connection asks for `messages` messages at once.
fn push(options: &Options) -> io::Result<String> {
    use mio::{Events, Interest, Poll, Token};

    let mut masks = Masks(0xC2B2_AE35);
    let connections = open_many(options, options.conns)?;
    let request = format!("{} {}", options.messages, options.size);
    let want = options.messages as u64;
    let mut poll = Poll::new()?;
    let mut streams = Vec::with_capacity(connections.len());
    let mut decoders = Vec::with_capacity(connections.len());
    let mut counts = vec![0u64; connections.len()];
    let mut frames = Vec::with_capacity(connections.len());
    for (i, connection) in connections.into_iter().enumerate() {
        let Connection {
            stream,
            mut decoder,
            early,
            ..
        } = connection;
        counts[i] = count_messages(&mut decoder, &early, options.size as u64)?;
        stream.set_nonblocking(true)?;
        let mut stream = mio::net::TcpStream::from_std(stream);
        poll.registry()
            .register(&mut stream, Token(i), Interest::READABLE)?;
        streams.push(stream);
        decoders.push(decoder);
        frames.push(codec::encode(TEXT, request.as_bytes(), masks.next()));
    }
    let mut buffer = vec![0u8; READ_BUFFER];
    let mut events = Events::with_capacity(1024);
    let total = want * streams.len() as u64;
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    for (stream, frame) in streams.iter_mut().zip(&frames) {
        // A request is a few bytes into an empty socket buffer: it is written
        // whole, or the socket is broken.
        let written = stream.write(frame)?;
        if written != frame.len() {
            return Err(io::Error::other("short write of a push request"));
        }
    }
    let mut delivered = 0u64;
    let mut first_done: Option<f64> = None;
    let deadline = Duration::from_secs(120);
    while delivered < total {
        if start.elapsed() > deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("push: {delivered} of {total} messages after {deadline:?}"),
            ));
        }
        poll.poll(&mut events, Some(Duration::from_secs(1)))?;
        for event in &events {
            let i = event.token().0;
            loop {
                match streams[i].read(&mut buffer) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "server closed TCP",
                        ))
                    }
                    Ok(n) => {
                        let got =
                            count_messages(&mut decoders[i], &buffer[..n], options.size as u64)?;
                        counts[i] += got;
                        delivered += got;
                        if counts[i] == want && first_done.is_none() {
                            first_done = Some(start.elapsed().as_secs_f64());
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    for mut stream in streams {
        let _ = stream.write(&codec::close_frame(masks.next()));
    }
    Ok(format!(
        "{{\"workload\": \"push\", \"size\": {}, \"conns\": {}, \"messages\": {}, \
         \"count\": {delivered}, \"wall_s\": {wall:.6}, \"rate\": {:.1}, \
         \"first_done_s\": {:.6}, \"client_cpu_s\": {cpu:.6}}}",
        options.size,
        options.conns,
        options.messages,
        delivered as f64 / wall,
        first_done.unwrap_or(wall),
    ))
}

/// Idle: open connections in steps, pausing for the driver after each.
fn idle(options: &Options) -> io::Result<String> {
    let mut masks = Masks(0x27D4_EB2F);
    let mut connections = Vec::with_capacity(options.conns);
    let stdin = io::stdin();
    let mut line = String::new();
    let mut out = io::stdout().lock();
    let step = options.step.max(1);
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    while connections.len() < options.conns {
        let batch = step.min(options.conns - connections.len());
        connections.extend(open_many(options, batch)?);
        writeln!(out, "{{\"open\": {}}}", connections.len())?;
        out.flush()?;
        line.clear();
        stdin.lock().read_line(&mut line)?;
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    for connection in connections {
        let _ = connection.stream.set_nonblocking(true);
        let mut stream = &connection.stream;
        let _ = stream.write(&codec::close_frame(masks.next()));
    }
    Ok(format!(
        "{{\"workload\": \"idle\", \"conns\": {}, \"wall_s\": {wall:.6}, \"client_cpu_s\": {cpu:.6}}}",
        options.conns
    ))
}

/// Accept: connect, handshake and close, from several threads.
fn accept(options: &Options) -> io::Result<String> {
    let threads = options.threads.max(1);
    let seconds = options.seconds;
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(seconds);
    let results: Vec<io::Result<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || -> io::Result<u64> {
                    let mut masks = Masks(0x1656_67B1 ^ (t as u32 + 1));
                    let mut done = 0;
                    while Instant::now() < end {
                        let connection = Connection::open(options)?;
                        connection.close(&mut masks);
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("thread panicked")))
            })
            .collect()
    });
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let mut count = 0;
    for result in results {
        count += result?;
    }
    Ok(format!(
        "{{\"workload\": \"accept\", \"threads\": {threads}, \"count\": {count}, \
         \"wall_s\": {wall:.6}, \"rate\": {:.1}, \"client_cpu_s\": {cpu:.6}}}",
        count as f64 / wall
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (workload, options) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("loadgen: {message}");
            return ExitCode::from(2);
        }
    };
    raise_nofile();
    let result = match workload.as_str() {
        "seq" => sequential(&options),
        "pipe" => pipelined(&options),
        "push" => push(&options),
        "fanout" => fanout::fanout(&options),
        "idle" => idle(&options),
        "accept" => accept(&options),
        other => {
            eprintln!("loadgen: unknown workload {other}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loadgen {workload}: {error}");
            ExitCode::FAILURE
        }
    }
}
