//! No false alarms: thresholds against flapping, heartbeats, and the connectivity guard.

use std::time::Duration;

use crate::helpers::{Behavior, FakeSite, TestApp, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

async fn incident_count(app: &TestApp) -> usize {
    app.settle().await;
    app.get_json("/api/v2/incidents.json").await["incidents"]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_one_check_in_three_opens_no_incident_over_sixty_checks() {
    let site = FakeSite::start(Behavior::FailEvery(3)).await;
    let app = spawn_app(&http_monitor(
        "gallery",
        &site.url(),
        &format!("{NEVER}failures_before_down = 3\n"),
    ))
    .await;
    let monitor = app.monitor();
    for _ in 0..60 {
        app.state.checker.run_check(&monitor).await.expect("check");
    }
    assert_eq!(site.hits.load(std::sync::atomic::Ordering::Relaxed), 60);
    assert_eq!(incident_count(&app).await, 0);
    assert_eq!(
        app.component_status("gallery").await.as_deref(),
        Some("operational")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_outage_is_down_after_exactly_failures_before_down_failures() {
    let site = FakeSite::start(Behavior::Status(503)).await;
    let app = spawn_app(&http_monitor(
        "gallery",
        &site.url(),
        &format!("{NEVER}failures_before_down = 3\n"),
    ))
    .await;
    let monitor = app.monitor();
    for n in 1..=2 {
        let change = app.state.checker.run_check(&monitor).await.expect("check");
        assert!(change.is_none(), "failure {n} changes nothing");
    }
    let change = app.state.checker.run_check(&monitor).await.expect("check");
    assert!(
        change.is_some_and(|c| c.to == signalfire::domain::status::Health::Down),
        "the third failure"
    );
    assert_eq!(incident_count(&app).await, 1);
    assert_eq!(
        app.component_status("gallery").await.as_deref(),
        Some("major_outage")
    );
}

fn heartbeat(id: &str, token: &str, grace: &str) -> String {
    format!(
        "[[monitor]]\nid = \"{id}\"\nkind = \"heartbeat\"\ntoken = \"{token}\"\ngrace = \"{grace}\"\ninterval = \"1s\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_in_time_are_up_late_or_failed_are_down() {
    let on_time = "comment-mail-token-0001";
    let late = "statistics-token-0000002";
    let app = spawn_app(
        &[
            heartbeat("comments", on_time, "1h"),
            heartbeat("stats", late, "2s"),
        ]
        .concat(),
    )
    .await;
    let ping = |token: &str, suffix: &str, post: bool| {
        let url = format!("{}/ping/{token}{suffix}", app.address);
        let request = if post {
            app.client.post(url)
        } else {
            app.client.get(url)
        };
        async move { request.send().await.expect("ping").status() }
    };
    assert_eq!(ping(on_time, "", false).await, 200);
    assert_eq!(ping(late, "", true).await, 200);
    assert_eq!(ping("not-a-token-at-all", "", false).await, 404);
    app.settle().await;
    assert_eq!(
        app.component_status("comments").await.as_deref(),
        Some("operational")
    );
    assert_eq!(
        app.component_status("stats").await.as_deref(),
        Some("operational")
    );

    app.tick(Duration::from_secs(3)).await;
    let went_down = app.component_status("stats").await.as_deref() == Some("major_outage");
    assert!(
        went_down,
        "a job that stops pinging is down after its grace"
    );
    let unresolved = app.get_json("/api/v2/incidents/unresolved.json").await;
    let body = unresolved["incidents"][0]["incident_updates"][0]["body"]
        .as_str()
        .expect("body")
        .to_string();
    assert!(
        body.contains("no ping for") && body.contains("grace 2s"),
        "{body}"
    );
    assert_eq!(
        app.component_status("comments").await.as_deref(),
        Some("operational")
    );

    assert_eq!(ping(on_time, "/fail", true).await, 200);
    app.settle().await;
    assert_eq!(
        app.component_status("comments").await.as_deref(),
        Some("major_outage")
    );
    let page = app.get("/").await.text().await.expect("page");
    assert!(
        page.contains("the job reported a failure"),
        "the page shows the reason"
    );

    assert_eq!(ping(late, "", false).await, 200);
    app.settle().await;
    assert_eq!(
        app.component_status("stats").await.as_deref(),
        Some("operational")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_guard_down_failures_open_no_incident_and_the_page_says_the_checker_is_offline() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let a = FakeSite::start(Behavior::Status(503)).await;
    let b = FakeSite::start(Behavior::Never).await;
    let fast = "interval = \"1s\"\ntimeout = \"500ms\"\nfailures_before_down = 1\n";
    let app = spawn_app(&format!(
        "[connectivity]\ncheck = \"tcp://127.0.0.1:{closed}\"\n\n{}{}",
        http_monitor("blog", &a.url(), fast),
        http_monitor("shop", &b.url(), fast)
    ))
    .await;
    app.tick(Duration::from_secs(1)).await;
    let page = app.get_html("/").await;
    let selector = scraper::Selector::parse(".notice--offline h2").expect("selector");
    let offline = page
        .select(&selector)
        .next()
        .is_some_and(|h| h.text().collect::<String>() == "The checker is offline");
    assert!(offline, "the page says the checker is offline");
    app.tick(Duration::from_secs(1)).await;
    app.tick(Duration::from_secs(1)).await;
    assert_eq!(
        incident_count(&app).await,
        0,
        "no incident while the checker is offline"
    );
    assert_eq!(
        app.component_status("blog").await.as_deref(),
        Some("operational")
    );
    assert!(
        a.hits.load(std::sync::atomic::Ordering::Relaxed) >= 2,
        "checks kept running"
    );
}

/// A cron monitor runs in its own `timezone`, as heartbeat schedules do (default the page's):
/// "0 0 9 * * *" in Asia/Tokyo (UTC+9, no summer time) is 00:00 UTC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_monitors_run_in_their_time_zone() {
    let tokyo = FakeSite::start(Behavior::Ok("ok".into())).await;
    let utc = FakeSite::start(Behavior::Ok("ok".into())).await;
    let cron = "cron = \"0 0 9 * * *\"\n";
    let app = spawn_app(&format!(
        "{}{}",
        http_monitor(
            "tokyo",
            &tokyo.url(),
            &format!("{cron}timezone = \"Asia/Tokyo\"")
        ),
        http_monitor("utc", &utc.url(), &format!("{cron}timezone = \"UTC\"")),
    ))
    .await;
    let hits = |site: &FakeSite| site.hits.load(std::sync::atomic::Ordering::Relaxed);
    let now = app.clock.now();
    let next = |hour: u32| {
        let today = now
            .date_naive()
            .and_hms_opt(hour, 0, 0)
            .expect("time")
            .and_utc();
        if today > now {
            today
        } else {
            today + chrono::Duration::days(1)
        }
    };
    // Both moments, in the order they come: 00:00 UTC is Tokyo's 09:00.
    let mut moments = [(next(0), "tokyo"), (next(9), "utc")];
    moments.sort();
    let mut expected = (0, 0);
    for (at, who) in moments {
        let by =
            (at - app.clock.now()).to_std().expect("ahead") + std::time::Duration::from_secs(1);
        app.tick(by).await;
        if who == "tokyo" {
            expected.0 += 1;
        } else {
            expected.1 += 1;
        }
        assert_eq!((hits(&tokyo), hits(&utc)), expected, "after {at}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lan_host_answering_while_the_guard_is_down_is_one_offline_episode_not_a_flap() {
    use crate::receivers::{Receiver, Reply};
    let closed = || {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let guard_port = closed();
    let hook = Receiver::start(Reply::Status(204)).await;
    // A host on the LAN still answers; the sites beyond the outage refuse.
    let lan = FakeSite::start(Behavior::Ok("printer".into())).await;
    let fast = "interval = \"1s\"\ntimeout = \"500ms\"\nfailures_before_down = 1\n";
    let app = spawn_app(&format!(
        "[connectivity]\ncheck = \"tcp://127.0.0.1:{guard_port}\"\n\n{}{}{}\
         [[notify]]\nid = \"owner-hook\"\nkind = \"webhook\"\nurl = \"{}\"\n",
        http_monitor("lan", &lan.url(), fast),
        http_monitor("web", &format!("http://127.0.0.1:{}/", closed()), fast),
        http_monitor("api", &format!("http://127.0.0.1:{}/", closed()), fast),
        hook.url("/hook")
    ))
    .await;
    for _ in 0..20 {
        app.tick(Duration::from_secs(1)).await;
    }
    app.deliver().await;
    let said = |hook: &Receiver| {
        let bodies: Vec<String> = hook
            .requests()
            .iter()
            .map(|r| String::from_utf8_lossy(&r.body).to_string())
            .collect();
        let count = |text: &str| bodies.iter().filter(|b| b.contains(text)).count();
        (
            count("\"status\":\"offline\""),
            count("\"status\":\"online\""),
        )
    };
    assert_eq!(
        said(&hook),
        (1, 0),
        "20 s of outage: one offline, no online"
    );
    assert_eq!(incident_count(&app).await, 0, "no incident while offline");

    // The guard answers again: once that holds, one "online", and failures count again.
    let _guard = tokio::net::TcpListener::bind(("127.0.0.1", guard_port))
        .await
        .expect("the guard answers again");
    for _ in 0..12 {
        app.tick(Duration::from_secs(1)).await;
    }
    app.deliver().await;
    assert_eq!(said(&hook), (1, 1), "one episode: one offline, one online");
    assert!(
        incident_count(&app).await > 0,
        "online: the refusing sites are down"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backward_clock_step_keeps_checks_on_schedule_and_a_failure_still_opens_an_incident() {
    let site = FakeSite::start(Behavior::Ok("fine".into())).await;
    let app = spawn_app(&http_monitor(
        "blog",
        &site.url(),
        "interval = \"10s\"\nfailures_before_down = 1\n",
    ))
    .await;
    let hits = || site.hits.load(std::sync::atomic::Ordering::Relaxed);
    app.tick(Duration::ZERO).await;
    assert_eq!(hits(), 1, "the first check runs at once");
    // NTP sets the clock back an hour: checks keep their 10 s, by the monotonic clock.
    app.clock.step_wall(chrono::Duration::hours(-1));
    for n in 2..=4 {
        assert_eq!(app.tick(Duration::from_secs(10)).await, 1, "check {n} ran");
        assert_eq!(hits(), n);
    }
    site.set(Behavior::Status(503));
    app.tick(Duration::from_secs(10)).await;
    assert_eq!(
        app.component_status("blog").await.as_deref(),
        Some("major_outage")
    );
    assert_eq!(
        incident_count(&app).await,
        1,
        "the failure after the step opened one"
    );

    // A forward step (the wall clock two hours ahead) fires no burst of missed checks: the
    // next runs 10 s later, once.
    app.clock.step_wall(chrono::Duration::hours(2));
    assert_eq!(app.tick(Duration::from_secs(1)).await, 0);
    assert_eq!(app.tick(Duration::from_secs(9)).await, 1);
}
