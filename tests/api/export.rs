//! The static export: every public file, with relative links that resolve inside the folder.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::helpers::{TestApp, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

/// Every relative href/src in an exported HTML file must name a file that exists.
fn assert_links_resolve(root: &Path, file: &Path) {
    let html = std::fs::read_to_string(file).expect("read page");
    let doc = scraper::Html::parse_document(&html);
    let selector = scraper::Selector::parse("[href], [src]").expect("selector");
    for element in doc.select(&selector) {
        let link = element
            .value()
            .attr("href")
            .or(element.value().attr("src"))
            .unwrap_or_default();
        assert!(
            !link.starts_with('/'),
            "{}: absolute path {link} breaks on a static host",
            file.display()
        );
        if link.starts_with("http") || link.starts_with('#') || link.starts_with("mailto:") {
            continue;
        }
        let path = link.split(['?', '#']).next().unwrap_or_default();
        let target = file.parent().expect("folder").join(path);
        assert!(
            target.exists(),
            "{}: link {link} -> {} is missing",
            file.display(),
            target.display()
        );
        assert!(
            target
                .canonicalize()
                .expect("path")
                .starts_with(root.canonicalize().expect("root"))
        );
    }
}

/// Stops `app` and runs `signalfire export` on its config and database, as an owner would
/// once the server is down; the output folder and what the command printed (exit 0 asserted).
pub async fn export_after_stop(app: TestApp) -> (tempfile::TempDir, String) {
    let (config_text, dir, _) = app.stop().await;
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config_text).expect("write config");
    let out = tempfile::tempdir().expect("out");
    let run = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["export", "--out"])
        .arg(out.path())
        .arg("--config")
        .arg(&config_path)
        .output()
        .expect("run export");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    (out, String::from_utf8_lossy(&run.stdout).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_whole_public_site_with_relative_links() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let id = app.open_incident(json!({"name": "Blog is slow", "body": "Looking.", "components": {"blog": "degraded_performance"}})).await;
    let (out, stdout) = export_after_stop(app).await;
    assert!(stdout.starts_with("wrote "));

    let root = out.path();
    for file in [
        "index.html",
        "history.html",
        "feed.rss",
        "feed.atom",
        "feed.json",
        "components/blog/feed.rss",
        "components/blog/feed.atom",
        "components/blog/feed.json",
        "widget.json",
        "embed.html",
        "api/v2/summary.json",
        "api/v2/status.json",
        "api/v2/components.json",
        "api/v2/incidents.json",
        "api/v2/incidents/unresolved.json",
        "api/v2/scheduled-maintenances.json",
        "api/v2/scheduled-maintenances/upcoming.json",
        "api/v2/scheduled-maintenances/active.json",
        "badge/blog.svg",
        "maintenance.ics",
        "components/blog/maintenance.ics",
        "assets/style.css",
        "assets/favicon.svg",
        &format!("incidents/{id}.html"),
    ] {
        assert!(root.join(file).is_file(), "{file} was not exported");
    }
    for page in [
        "index.html",
        "history.html",
        &format!("incidents/{id}.html"),
    ] {
        assert_links_resolve(root, &root.join(page));
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("api/v2/summary.json")).expect("json"),
    )
    .expect("parse");
    assert_eq!(summary["incidents"][0]["name"], "Blog is slow");
    let leftovers: Vec<_> = walk(root)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_publishes_the_static_site_after_every_change() {
    let publish = tempfile::tempdir().expect("publish dir");
    let extra = format!(
        "[publish]\ndir = \"{}\"\n\n{}",
        publish.path().display(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER)
    );
    let app = spawn_app(&extra).await;
    assert!(
        publish.path().join("index.html").is_file(),
        "published at start"
    );

    let id = app
        .open_incident(json!({"name": "Order pages down", "components": {"blog": "major_outage"}}))
        .await;
    let page = publish.path().join(format!("incidents/{id}.html"));
    assert!(page.is_file(), "the new incident is published");
    let index = std::fs::read_to_string(publish.path().join("index.html")).expect("index");
    assert!(index.contains("Order pages down"));

    assert_eq!(
        app.admin("DELETE", &format!("/api/admin/incidents/{id}"), None)
            .await
            .status(),
        204
    );
    app.settle().await;
    assert!(!page.exists(), "a deleted incident's page goes too");
}

/// Every file under `dir`, by path relative to it: its inode (a renamed-over file gets a new
/// one) and its bytes.
fn files_on_disk(dir: &Path) -> std::collections::BTreeMap<String, (u64, Vec<u8>)> {
    use std::os::unix::fs::MetadataExt;
    walk(dir)
        .into_iter()
        .map(|path| {
            let inode = std::fs::metadata(&path).expect("metadata").ino();
            let bytes = std::fs::read(&path).expect("read");
            let name = path
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .to_string();
            (name, (inode, bytes))
        })
        .collect()
}

/// [`TestApp::settle`] with room for a debug build to render 1,000 monitors' pages and feeds.
async fn settle_slowly(app: &TestApp) {
    tokio::time::timeout(std::time::Duration::from_secs(180), app.state.settled())
        .await
        .expect("the export shows every change within 180 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_monitor_changing_on_a_site_of_1000_rewrites_only_the_files_whose_bytes_changed() {
    let publish = tempfile::tempdir().expect("publish dir");
    let mut extra = format!("[publish]\ndir = \"{}\"\n\n", publish.path().display());
    for i in 0..1000 {
        extra.push_str(&http_monitor(
            &format!("m{i}"),
            "http://127.0.0.1:9/",
            NEVER,
        ));
    }
    let app = spawn_app(&extra).await;
    settle_slowly(&app).await;
    let before = files_on_disk(publish.path());

    let monitor = app.monitor();
    let at = app.clock.now();
    for _ in 0..3 {
        app.state
            .checker
            .apply(
                &monitor,
                signalfire::domain::check::CheckResult::down(
                    at,
                    std::time::Duration::from_millis(5),
                    "HTTP 503",
                ),
            )
            .await
            .expect("apply");
    }
    settle_slowly(&app).await;
    let after = files_on_disk(publish.path());

    let changed: Vec<&String> = after
        .iter()
        .filter(|(path, (_, bytes))| before.get(*path).is_none_or(|(_, old)| old != bytes))
        .map(|(path, _)| path)
        .collect();
    let rewritten: Vec<&String> = after
        .iter()
        .filter(|(path, (inode, _))| before.get(*path).is_none_or(|(old, _)| old != inode))
        .map(|(path, _)| path)
        .collect();
    assert!(
        !changed.is_empty() && changed.iter().any(|p| p.as_str() == "index.html"),
        "the page shows the change: {changed:?}"
    );
    assert!(
        changed.len() < 40,
        "{} of {} files changed: {changed:?}",
        changed.len(),
        after.len()
    );
    assert_eq!(
        rewritten.len(),
        changed.len(),
        "{} files rewritten, {} changed, of {}",
        rewritten.len(),
        changed.len(),
        after.len()
    );
    assert_eq!(rewritten, changed);
}

/// Files 0644 and folders 0755: the web server serving the copy runs as another user.
fn assert_world_readable(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    let mut dirs = vec![
        root.join("incidents"),
        root.join("api/v2"),
        root.join("badge"),
    ];
    dirs.retain(|d| d.is_dir());
    assert!(!dirs.is_empty(), "folders exported");
    for dir in dirs {
        assert_eq!(mode(&dir), 0o755, "{}", dir.display());
    }
    let files = walk(root);
    assert!(files.len() > 10);
    for file in files {
        assert_eq!(mode(&file), 0o644, "{}", file.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_files_are_readable_by_a_web_server_running_as_another_user() {
    let publish = tempfile::tempdir().expect("publish dir");
    let extra = format!(
        "[publish]\ndir = \"{}\"\n\n{}",
        publish.path().display(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER)
    );
    let app = spawn_app(&extra).await;
    app.open_incident(json!({"name": "Order pages down", "components": {"blog": "major_outage"}}))
        .await;
    app.settle().await;
    assert_world_readable(publish.path());

    // The command too, whatever the umask it runs under.
    let (config_text, dir, _) = app.stop().await;
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config_text).expect("write config");
    let out = tempfile::tempdir().expect("out");
    let run = Command::new("sh")
        .arg("-c")
        .arg("umask 077 && exec \"$0\" export --out \"$1\" --config \"$2\"")
        .arg(env!("CARGO_BIN_EXE_signalfire"))
        .arg(out.path().join("site"))
        .arg(&config_path)
        .output()
        .expect("run export");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_world_readable(&out.path().join("site"));
}
