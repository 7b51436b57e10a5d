//! Prometheus metrics: per monitor up, status, response time, checks and certificate expiry;
//! background jobs' runs, durations and last success; plus process figures read at scrape
//! time. Kept in memory, updated by every check and every run reported.

use std::sync::atomic::AtomicU64;
use std::time::SystemTime;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::domain::check::Verdict;
use crate::domain::status::ComponentStatus;
use crate::events::{Event, Subscriber};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MonitorLabel {
    monitor: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    monitor: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    monitor: String,
    result: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;
type FloatCounter = Counter<f64, AtomicU64>;

pub struct Metrics {
    registry: Registry,
    up: Family<MonitorLabel, Gauge>,
    status: Family<StatusLabel, Gauge>,
    response_time: Family<MonitorLabel, FloatGauge>,
    checks: Family<ResultLabel, Counter>,
    certificate_expiry: Family<MonitorLabel, FloatGauge>,
    certificate_expiry_timestamp: Family<MonitorLabel, FloatGauge>,
    lateness: Histogram,
    job_duration: Family<MonitorLabel, FloatGauge>,
    job_last_success: Family<MonitorLabel, FloatGauge>,
    job_runs: Family<ResultLabel, Counter>,
    resident_memory: Gauge,
    /// A counter, as the Prometheus client libraries export it: `process_cpu_seconds_total`.
    /// Raised to the figure read at each scrape; the lock keeps two scrapes from both adding.
    cpu_seconds: std::sync::Mutex<FloatCounter>,
    open_fds: Gauge,
}

/// Every stored check counts (the change stream carries each one).
impl Subscriber for Metrics {
    fn notify(&self, events: &[Event]) {
        for event in events {
            match event {
                Event::CheckRecorded {
                    monitor,
                    verdict,
                    elapsed,
                    cert_expires_at,
                } => self.observe(monitor.as_str(), *verdict, *elapsed, *cert_expires_at),
                Event::JobRan {
                    monitor,
                    at,
                    succeeded,
                    duration,
                } => self.observe_run(monitor.as_str(), *at, *succeeded, *duration),
                _ => {}
            }
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn unix_seconds(at: SystemTime) -> f64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let up = Family::<MonitorLabel, Gauge>::default();
        let status = Family::<StatusLabel, Gauge>::default();
        let response_time = Family::<MonitorLabel, FloatGauge>::default();
        let checks = Family::<ResultLabel, Counter>::default();
        let certificate_expiry = Family::<MonitorLabel, FloatGauge>::default();
        registry.register(
            "signalfire_monitor_up",
            "1 when the monitor's last verdict is up or degraded",
            up.clone(),
        );
        registry.register(
            "signalfire_monitor_status",
            "1 for the component's current status",
            status.clone(),
        );
        registry.register(
            "signalfire_response_time_seconds",
            "Duration of the last check",
            response_time.clone(),
        );
        registry.register(
            "signalfire_checks",
            "Checks run since start, by result",
            checks.clone(),
        );
        registry.register(
            "signalfire_certificate_expiry_seconds",
            "Unix time at which the TLS certificate expires (the same as signalfire_certificate_expiry_timestamp_seconds, kept for existing dashboards)",
            certificate_expiry.clone(),
        );
        // A point in time is named `_timestamp_seconds` (Prometheus naming conventions).
        let certificate_expiry_timestamp = Family::<MonitorLabel, FloatGauge>::default();
        registry.register(
            "signalfire_certificate_expiry_timestamp_seconds",
            "Unix time at which the TLS certificate expires",
            certificate_expiry_timestamp.clone(),
        );
        // From 1 ms to 5 s: the scheduler's goal is a p99 under one second.
        let lateness = Histogram::new([
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ]);
        registry.register(
            "signalfire_schedule_lateness_seconds",
            "How late interval checks start against their schedule",
            lateness.clone(),
        );
        let job_duration = Family::<MonitorLabel, FloatGauge>::default();
        let job_last_success = Family::<MonitorLabel, FloatGauge>::default();
        let job_runs = Family::<ResultLabel, Counter>::default();
        registry.register(
            "signalfire_job_duration_seconds",
            "How long the last run of a background job took, from its /start ping to its end",
            job_duration.clone(),
        );
        registry.register(
            "signalfire_job_last_success_timestamp_seconds",
            "Unix time of the last successful run of a background job",
            job_last_success.clone(),
        );
        registry.register(
            "signalfire_job_runs",
            "Runs of background jobs reported since start, by result",
            job_runs.clone(),
        );
        let resident_memory = Gauge::default();
        let cpu_seconds = FloatCounter::default();
        let open_fds = Gauge::default();
        let start_time = FloatGauge::default();
        start_time.set(unix_seconds(SystemTime::now()));
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            resident_memory.clone(),
        );
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time spent in seconds",
            cpu_seconds.clone(),
        );
        registry.register(
            "process_open_fds",
            "Number of open file descriptors",
            open_fds.clone(),
        );
        registry.register(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch",
            start_time,
        );
        Self {
            registry,
            up,
            status,
            response_time,
            checks,
            certificate_expiry,
            lateness,
            job_duration,
            job_last_success,
            job_runs,
            resident_memory,
            cpu_seconds: std::sync::Mutex::new(cpu_seconds),
            open_fds,
            certificate_expiry_timestamp,
        }
    }

    /// Records one check of `monitor`.
    fn observe(
        &self,
        monitor: &str,
        verdict: Verdict,
        elapsed: std::time::Duration,
        cert_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) {
        let label = MonitorLabel {
            monitor: monitor.to_string(),
        };
        let result_word = match verdict {
            Verdict::Up => "up",
            Verdict::Degraded => "degraded",
            Verdict::Down => "down",
        };
        self.up
            .get_or_create(&label)
            .set(i64::from(verdict != Verdict::Down));
        self.response_time
            .get_or_create(&label)
            .set(elapsed.as_secs_f64());
        self.checks
            .get_or_create(&ResultLabel {
                monitor: monitor.to_string(),
                result: result_word.to_string(),
            })
            .inc();
        if let Some(expiry) = cert_expires_at {
            let at = expiry.timestamp() as f64;
            self.certificate_expiry.get_or_create(&label).set(at);
            self.certificate_expiry_timestamp
                .get_or_create(&label)
                .set(at);
        }
    }

    /// Records the end of a background job's run.
    fn observe_run(
        &self,
        monitor: &str,
        at: chrono::DateTime<chrono::Utc>,
        succeeded: bool,
        duration: Option<std::time::Duration>,
    ) {
        self.seed_job(monitor, succeeded.then_some(at), duration);
        self.job_runs
            .get_or_create(&ResultLabel {
                monitor: monitor.to_string(),
                result: if succeeded { "success" } else { "failure" }.to_string(),
            })
            .inc();
    }

    /// Sets a job's last success and last run time (at start-up, from what is stored).
    pub fn seed_job(
        &self,
        monitor: &str,
        success: Option<chrono::DateTime<chrono::Utc>>,
        duration: Option<std::time::Duration>,
    ) {
        let label = MonitorLabel {
            monitor: monitor.to_string(),
        };
        if let Some(at) = success {
            self.job_last_success
                .get_or_create(&label)
                .set(at.timestamp_millis() as f64 / 1000.0);
        }
        if let Some(duration) = duration {
            self.job_duration
                .get_or_create(&label)
                .set(duration.as_secs_f64());
        }
    }

    /// Records how late a scheduled check started.
    pub fn observe_lateness(&self, late: std::time::Duration) {
        self.lateness.observe(late.as_secs_f64());
    }

    /// Sets the component status of `monitor` (one series per status word, the current one 1);
    /// `None` (never checked: no data) leaves it without a status sample.
    pub fn set_status(&self, monitor: &str, current: Option<ComponentStatus>) {
        for status in ComponentStatus::ALL {
            let label = StatusLabel {
                monitor: monitor.to_string(),
                status: status.as_str().to_string(),
            };
            match current {
                Some(current) => {
                    self.status
                        .get_or_create(&label)
                        .set(i64::from(status == current));
                }
                None => {
                    self.status.remove(&label);
                }
            }
        }
    }

    /// The text exposition (OpenMetrics), with process figures read now.
    pub fn render(&self) -> String {
        let process = crate::metrics::process::read();
        if let Some(rss) = process.resident_bytes {
            self.resident_memory.set(rss as i64);
        }
        if let (Some(cpu), Ok(counter)) = (process.cpu_seconds, self.cpu_seconds.lock()) {
            // CPU time only grows; a counter only rises: add what was spent since the last read.
            let spent = cpu - counter.get();
            if spent > 0.0 {
                counter.inc_by(spent);
            }
        }
        if let Some(fds) = process.open_fds {
            self.open_fds.set(fds as i64);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

mod process {
    //! Process figures from /proc on Linux; elsewhere they are simply absent.

    /// Linux reports CPU time in clock ticks of 1/100 s on every mainstream architecture.
    const TICKS_PER_SECOND: f64 = 100.0;

    #[derive(Default)]
    pub struct Process {
        pub resident_bytes: Option<u64>,
        pub cpu_seconds: Option<f64>,
        pub open_fds: Option<usize>,
    }

    pub fn read() -> Process {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let resident_bytes = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024);
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which may contain spaces) start at ") ".
        let cpu_seconds = stat.rsplit_once(") ").and_then(|(_, rest)| {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / TICKS_PER_SECOND)
        });
        let open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count());
        Process {
            resident_bytes,
            cpu_seconds,
            open_fds,
        }
    }
}
