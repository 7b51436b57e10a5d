//! `GET /admin/jobs`: each background job with what is expected of it, its last run, and its
//! recent pings — time, kind, duration, exit status, and what the job sent (the first 10 KiB
//! of its output), which only the owner ever sees.

use std::time::Duration;

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::super::Site;
use super::page;
use crate::db::pings::PingRow;
use crate::domain::duration::format_span;
use crate::views::components::job_expected;

/// One job as the owner sees it.
pub struct JobRow {
    pub id: String,
    pub name: String,
    /// What is expected: "heartbeat "30 2 * * *" (Europe/Berlin), grace 1h".
    pub expects: String,
    pub max_runtime: Duration,
    pub last_success: Option<DateTime<Utc>>,
    pub next_expected: Option<DateTime<Utc>>,
    /// Why it is not up, when it is not.
    pub reason: Option<String>,
    /// Newest first.
    pub pings: Vec<PingRow>,
}

pub struct JobsView {
    pub csrf: String,
    pub jobs: Vec<JobRow>,
    pub now: DateTime<Utc>,
}

fn ping_kind(p: &PingRow) -> String {
    match (p.kind.as_str(), p.exit_status) {
        ("success", Some(code)) | ("fail", Some(code)) => format!("{} (exit {code})", p.kind),
        (kind, _) => kind.to_string(),
    }
}

fn pings(site: &Site<'_>, job: &JobRow) -> Markup {
    html! {
        @if job.pings.is_empty() {
            p.empty-month { "No ping yet. The job pings " code { "/ping/{token}" } " after each run." }
        } @else {
            table.pings {
                caption.sr { "Recent pings of " (job.name) }
                thead {
                    tr {
                        th scope="col" { "Time" }
                        th scope="col" { "Ping" }
                        th scope="col" { "Duration" }
                        th scope="col" { "Output" }
                    }
                }
                tbody {
                    @for p in &job.pings {
                        tr.{ "ping--" (p.kind) } {
                            td { time datetime=(Site::iso(p.at)) { (site.local_time(p.at)) } }
                            td { (ping_kind(p)) }
                            td {
                                @match p.duration {
                                    Some(d) => { (format_span(d)) }
                                    None => { "—" }
                                }
                            }
                            td {
                                @match &p.body {
                                    Some(body) => {
                                        details {
                                            summary { (body.lines().next().unwrap_or_default().chars().take(80).collect::<String>()) }
                                            pre.ping__body { (body) }
                                        }
                                    }
                                    None => { "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn render(site: &Site<'_>, view: &JobsView) -> Markup {
    page(
        site,
        "Background jobs",
        &view.csrf,
        html! {
            @if view.jobs.is_empty() {
                p.empty-month { "No heartbeat monitor is configured." }
            }
            @for job in &view.jobs {
                section.job aria-labelledby={ "job-" (job.id) } {
                    h2 #{ "job-" (job.id) } { (job.name) }
                    p.job__expects { (job.expects) ", longest run " (format_span(job.max_runtime)) }
                    p.job__times {
                        @match job.last_success {
                            Some(at) => { "Last success " time datetime=(Site::iso(at)) { (site.local_moment(at, view.now)) } }
                            None => { "No success reported yet" }
                        }
                        @if let Some(next) = job.next_expected {
                            (job_expected(site, next, view.now))
                        }
                    }
                    @if let Some(reason) = &job.reason {
                        p.form-error { (reason) }
                    }
                    (pings(site, job))
                }
            }
        },
    )
}
