//! Test harness: the real server on 127.0.0.1 port 0 with its own temp data dir, and fake
//! sites — real local HTTP servers whose behaviour a test can switch.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use signalfire::config::Config;
use signalfire::domain::clock::ManualClock;
use signalfire::monitoring::Monitor;
use signalfire::startup::{Application, Deadlines, Options, install_crypto_provider};
use signalfire::state::AppState;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The admin token every test app accepts.
/// Test servers wait this long for a request's head, as in production.
pub const TEST_HEAD_DEADLINE: Duration = Duration::from_secs(5);
/// and this long for its body (production: 10 s), so a test of a slow body is quick.
pub const TEST_BODY_DEADLINE: Duration = Duration::from_secs(1);

/// and this long for an answer to be read (production: 30 s).
pub const TEST_WRITE_DEADLINE: Duration = Duration::from_secs(2);

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The app's clock: it moves only when the test moves it.
    pub clock: Arc<ManualClock>,
    pub data_dir: Arc<TempDir>,
    config_text: String,
    env: Vec<(String, String)>,
    stop: CancellationToken,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The admin web password every test app accepts.
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

pub fn password_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| signalfire::auth::hash_password(ADMIN_PASSWORD).expect("hash"))
}

/// The config of a test app: `extra` is appended (monitors, page settings).
pub fn test_config(data_dir: &Path, extra: &str) -> String {
    test_config_server(data_dir, "", extra)
}

/// [`test_config`] with more `[server]` keys (`server`: whole lines).
pub fn test_config_server(data_dir: &Path, server: &str, extra: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n{server}\n[page]\ntitle = \"Test status\"\n\n\
         [admin]\nusername = \"owner\"\npassword_hash = \"{}\"\n\n{extra}",
        data_dir.display(),
        password_hash()
    )
}

pub fn parse_config(text: &str) -> Config {
    parse_config_env(text, &[])
}

/// [`parse_config`] with more environment variables than the admin token.
pub fn parse_config_env(text: &str, env: &[(&str, &str)]) -> Config {
    Config::parse(text, Path::new("test.toml"), &|key| {
        if key == "SIGNALFIRE_ADMIN_TOKEN" {
            return Some(ADMIN_TOKEN.to_string());
        }
        env.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    })
    .unwrap_or_else(|e| panic!("test config is invalid:\n{e}"))
}

/// Starts the real server with `extra` config on a fresh data dir.
pub async fn spawn_app(extra: &str) -> TestApp {
    spawn_app_env(extra, &[]).await
}

/// [`spawn_app`] with more `[server]` keys (whole lines).
#[allow(dead_code)] // used by tests/resilience
pub async fn spawn_app_server(server: &str, extra: &str) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let text = test_config_server(dir.path(), server, extra);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    start(text, dir, clock, Vec::new()).await
}

/// [`spawn_app`] with environment variables for the config (secrets, channel URLs).
pub async fn spawn_app_env(extra: &str, env: &[(&str, &str)]) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let text = test_config(dir.path(), extra);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let env = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    start(text, dir, clock, env).await
}

/// [`spawn_app`] with the page in time zone `zone` (an IANA name).
#[allow(dead_code)] // not every test binary uses it
pub async fn spawn_app_in_zone(zone: &str, extra: &str) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let text = in_zone(&test_config(dir.path(), extra), zone);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    start(text, dir, clock, Vec::new()).await
}

/// A test config with `timezone = zone` in its `[page]` section (in place of one set before).
fn in_zone(text: &str, zone: &str) -> String {
    let (head, rest) = text.split_once("[page]\n").expect("a [page] section");
    let rest = match rest.strip_prefix("timezone = ") {
        Some(set) => set.split_once('\n').map_or("", |(_, after)| after),
        None => rest,
    };
    format!("{head}[page]\ntimezone = \"{zone}\"\n{rest}")
}

async fn start(
    config_text: String,
    data_dir: Arc<TempDir>,
    clock: Arc<ManualClock>,
    env: Vec<(String, String)>,
) -> TestApp {
    install_crypto_provider();
    let options = Options {
        clock: clock.clone(),
        manual_schedule: true,
        deadlines: Deadlines {
            head: TEST_HEAD_DEADLINE,
            body: TEST_BODY_DEADLINE,
            write: TEST_WRITE_DEADLINE,
        },
        reuse: None,
        cron: None,
        signals: false,
    };
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = Application::build_with(parse_config_env(&config_text, &pairs), options)
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    let stop = app.stop_token();
    let task = tokio::spawn(app.run_until_stopped());
    // A request that gets no answer fails its test instead of hanging it.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    TestApp {
        address,
        client,
        state,
        clock,
        data_dir,
        config_text,
        env,
        stop,
        task: Some(task),
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// `GET path` with `If-None-Match: etag` (a client revalidating its copy).
    pub async fn get_if_none_match(&self, path: &str, etag: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("If-None-Match", etag)
            .send()
            .await
            .expect("request")
    }

    /// A call to the owner API with the admin token.
    pub async fn admin(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// Posts an update to an incident through the API.
    pub async fn post_update(&self, id: &str, status: &str, body: &str) -> reqwest::Response {
        let path = format!("/api/admin/incidents/{id}/updates");
        self.admin(
            "POST",
            &path,
            Some(serde_json::json!({"status": status, "body": body})),
        )
        .await
    }

    /// The first configured monitor.
    pub fn monitor(&self) -> Arc<Monitor> {
        self.state.roster.iter().next().expect("a monitor").clone()
    }

    /// Applies one result to the first monitor `times` times, then waits for the pages.
    pub async fn apply_times(&self, result: &signalfire::domain::check::CheckResult, times: usize) {
        let monitor = self.monitor();
        for _ in 0..times {
            self.state
                .checker
                .apply(&monitor, result.clone())
                .await
                .expect("apply");
        }
        self.settle().await;
    }

    /// Sends every notification due now by the app's clock, and waits until each attempt is
    /// recorded. Returns how many were attempted.
    pub async fn deliver(&self) -> usize {
        tokio::time::timeout(Duration::from_secs(30), self.state.notifier.deliver_due())
            .await
            .expect("deliveries end within their timeouts")
            .expect("deliveries run")
    }

    /// Renders the pages now (after writes that bypass the domain, such as seeded buckets).
    pub async fn render(&self) {
        self.state.renderer.refresh().await.expect("render");
    }

    /// Waits until every change written so far shows on the pages (and in the export).
    /// Fails (rather than hangs) when the renderer does not catch up within 10 s.
    pub async fn settle(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.state.settled())
            .await
            .expect("the pages show every change within 10 s");
    }

    /// Moves the clock by `by`, runs every check then due, and waits for the pages.
    pub async fn tick(&self, by: Duration) -> usize {
        self.clock.advance(by);
        let ran = self
            .state
            .scheduler
            .run_due()
            .await
            .expect("due checks run");
        self.settle().await;
        ran
    }

    /// Schedules "Order system upgrade" on `components` from `from` to `until` through the API
    /// and returns its id.
    pub async fn schedule_maintenance(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
        components: &[&str],
    ) -> String {
        let response = self
            .admin(
                "POST",
                "/api/admin/maintenances",
                Some(serde_json::json!({
                    "name": "Order system upgrade",
                    "body": "Orders are read-only.",
                    "scheduled_for": from.to_rfc3339(),
                    "scheduled_until": until.to_rfc3339(),
                    "components": components
                })),
            )
            .await;
        assert_eq!(response.status(), 201);
        let json: serde_json::Value = response.json().await.expect("json");
        json["id"].as_str().expect("id").to_string()
    }

    /// Opens an incident through the API and returns its id.
    pub async fn open_incident(&self, body: serde_json::Value) -> String {
        let response = self.admin("POST", "/api/admin/incidents", Some(body)).await;
        assert_eq!(response.status(), 201);
        let json: serde_json::Value = response.json().await.expect("json");
        json["id"].as_str().expect("id").to_string()
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json body")
    }

    pub async fn get_html(&self, path: &str) -> scraper::Html {
        let response = self.get(path).await;
        scraper::Html::parse_document(&response.text().await.expect("html body"))
    }

    /// Component statuses from components.json, by id.
    pub async fn component_status(&self, id: &str) -> Option<String> {
        let doc = self.get_json("/api/v2/components.json").await;
        doc["components"]
            .as_array()?
            .iter()
            .find(|c| c["id"] == id)
            .and_then(|c| c["status"].as_str().map(str::to_string))
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> (String, Arc<TempDir>, Arc<ManualClock>) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(Duration::from_secs(5), task).await;
            result
                .expect("stops within 5 s")
                .expect("task")
                .expect("clean stop");
        }
        (
            self.config_text.clone(),
            self.data_dir.clone(),
            self.clock.clone(),
        )
    }

    /// Stops and starts again like [`TestApp::restart`], with the page in time zone `zone`.
    #[allow(dead_code)] // not every test binary uses it
    pub async fn restart_in_zone(self, zone: &str) -> TestApp {
        let env = self.env.clone();
        let (text, dir, clock) = self.stop().await;
        start(in_zone(&text, zone), dir, clock, env).await
    }

    /// A reload with a new config: stops, then starts on the same data dir, environment and
    /// clock with `extra` in place of the config's monitors and page settings.
    #[allow(dead_code)] // used by some test binaries only
    pub async fn reload_with(self, extra: &str) -> TestApp {
        let env = self.env.clone();
        let (_, dir, clock) = self.stop().await;
        let text = test_config(dir.path(), extra);
        start(text, dir, clock, env).await
    }

    /// Stops and starts again on the same data dir, config, environment and clock.
    pub async fn restart(self) -> TestApp {
        let env = self.env.clone();
        let (text, dir, clock) = self.stop().await;
        start(text, dir, clock, env).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// What a fake site does with each request.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// 200 with this body.
    Ok(String),
    /// This status with a short body.
    Status(u16),
    /// Waits, then answers 200.
    Slow(Duration, String),
    /// Accepts and never answers.
    Never,
    /// Reads the request and closes the connection without a word.
    Close,
    /// Sends headers, then never the body.
    HeadersOnly,
    /// Sends headers, then one byte of the body a second.
    Trickle,
    /// Reads the request and resets the connection (TCP RST).
    Reset,
    /// Redirects to itself, forever.
    RedirectLoop,
    /// Answers 500 to every `n`th request and 200 to the others.
    FailEvery(usize),
}

/// A real HTTP server on 127.0.0.1 whose behaviour can be switched while it runs.
#[derive(Clone)]
pub struct FakeSite {
    pub port: u16,
    behavior: Arc<Mutex<Behavior>>,
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeSite {
    pub async fn start(behavior: Behavior) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake site");
        let port = listener.local_addr().expect("addr").port();
        let site = Self {
            port,
            behavior: Arc::new(Mutex::new(behavior)),
            hits: Arc::default(),
        };
        let server = site.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let behavior = server.behavior.lock().expect("lock").clone();
                let hit = server
                    .hits
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                tokio::spawn(serve(stream, behavior, hit));
            }
        });
        site
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn set(&self, behavior: Behavior) {
        *self.behavior.lock().expect("lock") = behavior;
    }
}

async fn serve(mut stream: TcpStream, behavior: Behavior, hit: usize) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let respond = |status: u16, reason: &str, body: &str| {
        format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let reply = match behavior {
        Behavior::Ok(body) => respond(200, "OK", &body),
        Behavior::Status(code) => respond(code, reason(code), "error"),
        Behavior::Slow(delay, body) => {
            tokio::time::sleep(delay).await;
            respond(200, "OK", &body)
        }
        Behavior::Never => {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            return;
        }
        Behavior::Close => return,
        Behavior::Trickle => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n").await;
            for _ in 0..100 {
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            return;
        }
        Behavior::Reset => {
            let _ = stream.set_zero_linger();
            drop(stream);
            return;
        }
        Behavior::RedirectLoop => "HTTP/1.1 301 Moved Permanently\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
        Behavior::FailEvery(n) if hit.is_multiple_of(n) => respond(500, "Internal Server Error", "error"),
        Behavior::FailEvery(_) => respond(200, "OK", "fine"),
        Behavior::HeadersOnly => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")
                .await;
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            return;
        }
    };
    let _ = stream.write_all(reply.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn reason(code: u16) -> &'static str {
    match code {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        404 => "Not Found",
        _ => "Status",
    }
}

/// A `[[monitor]]` table for an http monitor.
pub fn http_monitor(id: &str, url: &str, extra: &str) -> String {
    format!("[[monitor]]\nid = \"{id}\"\nname = \"{id} site\"\nurl = \"{url}\"\n{extra}\n")
}

/// A raw connection to the test server from a loopback address of our choosing.
#[allow(dead_code)] // not every test binary uses it
pub async fn connect_from(source: [u8; 4], app: &TestApp) -> tokio::net::TcpStream {
    let port: u16 = app
        .address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    connect_to(port, source).await
}

/// A raw connection to the server process on `port` from a loopback address of our choosing.
#[allow(dead_code)] // not every test binary uses it
pub async fn connect_to(port: u16, source: [u8; 4]) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind((std::net::Ipv4Addr::from(source), 0).into())
        .expect("bind a loopback source");
    socket
        .connect(([127, 0, 0, 1], port).into())
        .await
        .expect("connect")
}

/// Keeps pipelining `GET /` on `stream` and never reads, until the server stops taking the
/// requests (a write does not become possible within 300 ms) or it drops us; samples the
/// process's connection buffers on the way and returns the largest sample.
#[allow(dead_code)] // not every test binary uses it
pub async fn pipeline_until_stuck(stream: tokio::net::TcpStream) -> (tokio::net::TcpStream, usize) {
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64);
    let mut peak = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < TEST_WRITE_DEADLINE / 2 {
        peak = peak.max(signalfire::routes::connections::buffered_bytes());
        match stream.try_write(&request) {
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        match tokio::time::timeout(Duration::from_millis(300), stream.writable()).await {
            Err(_) | Ok(Err(_)) => break,
            Ok(Ok(())) => {}
        }
    }
    (stream, peak)
}
