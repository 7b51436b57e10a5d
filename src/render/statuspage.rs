//! The Atlassian Statuspage public API v2 shapes, so existing clients read us unchanged.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::db::incidents::IncidentRecord;
use crate::domain::status::ComponentStatus;
use crate::views::model::{ComponentView, Snapshot};

/// Statuspage writes times as RFC 3339 with milliseconds and `Z`.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Debug, Serialize)]
pub struct PageJson {
    pub id: String,
    pub name: String,
    pub url: String,
    pub time_zone: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize)]
pub struct StatusJson {
    pub indicator: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ComponentJson {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub position: usize,
    pub description: Option<String>,
    pub showcase: bool,
    pub start_date: Option<String>,
    pub group_id: Option<String>,
    pub page_id: String,
    pub group: bool,
    pub only_show_if_degraded: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
pub struct StatusDoc {
    pub page: PageJson,
    pub status: StatusJson,
}

#[derive(Debug, Serialize)]
pub struct ComponentsDoc {
    pub page: PageJson,
    pub components: Vec<ComponentJson>,
}

#[derive(Debug, Serialize)]
pub struct SummaryDoc {
    pub page: PageJson,
    pub status: StatusJson,
    pub components: Vec<ComponentJson>,
    pub incidents: Vec<IncidentJson>,
    pub scheduled_maintenances: Vec<IncidentJson>,
}

#[derive(Debug, Serialize)]
pub struct IncidentsDoc {
    pub page: PageJson,
    pub incidents: Vec<IncidentJson>,
}

#[derive(Debug, Serialize)]
pub struct MaintenancesDoc {
    pub page: PageJson,
    pub scheduled_maintenances: Vec<IncidentJson>,
}

#[derive(Debug, Serialize)]
pub struct IncidentComponentJson {
    pub id: String,
    pub name: String,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct AffectedJson {
    pub code: String,
    pub name: String,
    /// `null` when the component had no status before (never checked).
    pub old_status: Option<&'static str>,
    pub new_status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct UpdateJson {
    pub id: String,
    pub incident_id: String,
    pub status: &'static str,
    pub body: String,
    pub created_at: String,
    pub updated_at: String,
    pub display_at: String,
    pub affected_components: Option<Vec<AffectedJson>>,
    pub deliver_notifications: bool,
    pub custom_tweet: Option<String>,
    pub tweet_id: Option<String>,
}

/// An incident or scheduled maintenance in Statuspage's shape.
#[derive(Debug, Serialize)]
pub struct IncidentJson {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub impact: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: String,
    pub monitoring_at: Option<String>,
    pub resolved_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_until: Option<String>,
    pub shortlink: String,
    pub page_id: String,
    pub components: Vec<IncidentComponentJson>,
    pub incident_updates: Vec<UpdateJson>,
}

/// One incident in Statuspage's shape; `base` is the page's absolute URL.
pub fn incident_json(i: &IncidentRecord, base: &str, page_id: &str) -> IncidentJson {
    let id = i.id.to_string();
    IncidentJson {
        id: id.clone(),
        name: i.name.clone(),
        status: i.status.as_str(),
        impact: i.impact.as_str(),
        created_at: timestamp(i.created_at),
        updated_at: timestamp(i.updated_at),
        started_at: timestamp(i.started_at),
        monitoring_at: i.monitoring_at.map(timestamp),
        resolved_at: i.resolved_at.map(timestamp),
        scheduled_for: i.scheduled_for.map(timestamp),
        scheduled_until: i.scheduled_until.map(timestamp),
        shortlink: format!("{base}/incidents/{id}"),
        page_id: page_id.to_string(),
        components: i
            .components
            .iter()
            .map(|c| IncidentComponentJson {
                id: c.key.clone(),
                name: c.name.clone(),
                status: c.status.as_str(),
            })
            .collect(),
        incident_updates: i
            .updates
            .iter()
            .map(|u| UpdateJson {
                id: u.id.to_string(),
                incident_id: id.clone(),
                status: u.status.as_str(),
                body: u.body.clone(),
                created_at: timestamp(u.created_at),
                updated_at: timestamp(u.created_at),
                display_at: timestamp(u.display_at),
                affected_components: (!u.changes.is_empty()).then(|| {
                    u.changes
                        .iter()
                        .map(|c| AffectedJson {
                            code: c.key.clone(),
                            name: c.name.clone(),
                            old_status: c.old.map(ComponentStatus::as_str),
                            new_status: c.new.as_str(),
                        })
                        .collect()
                }),
                deliver_notifications: true,
                custom_tweet: None,
                tweet_id: None,
            })
            .collect(),
    }
}

/// Builds the API documents from one snapshot.
pub struct Api<'a> {
    config: &'a Config,
    snapshot: &'a Snapshot,
    page_id: String,
}

/// The id of a group pseudo-component: `group_` and a slug of its name. Monitor ids never hold
/// `_`, so a group id can never be a monitor's; `taken` keeps two groups whose names slug alike
/// apart (`group_web`, `group_web_2`).
pub fn group_id(name: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let base = format!("group_{}", slug.trim_matches('-'));
    let mut id = base.clone();
    let mut n = 1;
    while !taken.insert(id.clone()) {
        n += 1;
        id = format!("{base}_{n}");
    }
    id
}

/// A stable page id derived from the base URL (Statuspage ids are opaque strings).
pub fn page_id(config: &Config) -> String {
    let digest = Sha256::digest(config.server.base_url.as_str().as_bytes());
    hex::encode(&digest[..6])
}

impl<'a> Api<'a> {
    pub fn new(config: &'a Config, snapshot: &'a Snapshot) -> Self {
        Self {
            config,
            snapshot,
            page_id: page_id(config),
        }
    }

    pub fn page(&self) -> PageJson {
        PageJson {
            id: self.page_id.clone(),
            name: self.config.page.title.clone(),
            url: self.config.base_url(),
            time_zone: self.config.page.timezone.name().to_string(),
            updated_at: timestamp(self.snapshot.updated_at()),
        }
    }

    pub fn status_json(&self) -> StatusJson {
        let indicator = self.snapshot.indicator();
        StatusJson {
            indicator: indicator.as_str(),
            description: indicator.description(),
        }
    }

    /// `/widget.json`: what a banner on the owner's own site needs, and no more.
    pub fn widget(&self) -> serde_json::Value {
        let base = self.config.base_url();
        let link = |i: &IncidentRecord| format!("{base}/incidents/{}", i.id);
        let status = self.status_json();
        serde_json::json!({
            "page": {"name": self.config.page.title, "url": format!("{base}/")},
            "indicator": status.indicator,
            "description": self.snapshot.description(),
            "updated_at": timestamp(self.snapshot.updated_at()),
            "incidents": self.snapshot.open_incidents.iter().map(|i| serde_json::json!({
                "id": i.id.to_string(),
                "name": i.name,
                "status": i.status.as_str(),
                "impact": i.impact.as_str(),
                "updated_at": timestamp(i.updated_at),
                "url": link(i),
            })).collect::<Vec<_>>(),
            "maintenances": self.snapshot.planned_maintenances.iter().map(|m| serde_json::json!({
                "id": m.id.to_string(),
                "name": m.name,
                "status": m.status.as_str(),
                "scheduled_for": m.scheduled_for.map(timestamp),
                "scheduled_until": m.scheduled_until.map(timestamp),
                "url": link(m),
            })).collect::<Vec<_>>(),
        })
    }

    pub fn status(&self) -> StatusDoc {
        StatusDoc {
            page: self.page(),
            status: self.status_json(),
        }
    }

    pub fn components(&self) -> ComponentsDoc {
        ComponentsDoc {
            page: self.page(),
            components: self.component_list(),
        }
    }

    pub fn summary(&self) -> SummaryDoc {
        SummaryDoc {
            page: self.page(),
            status: self.status_json(),
            components: self.component_list(),
            incidents: self.incidents(&self.snapshot.open_incidents),
            scheduled_maintenances: self.incidents(&self.snapshot.planned_maintenances),
        }
    }

    fn incidents<'b>(
        &self,
        list: impl IntoIterator<Item = &'b IncidentRecord>,
    ) -> Vec<IncidentJson> {
        let base = self.page().url;
        list.into_iter()
            .map(|i| incident_json(i, &base, &self.page_id))
            .collect()
    }

    pub fn all_incidents(&self) -> IncidentsDoc {
        IncidentsDoc {
            page: self.page(),
            incidents: self.incidents(&self.snapshot.recent_incidents),
        }
    }

    pub fn unresolved_incidents(&self) -> IncidentsDoc {
        IncidentsDoc {
            page: self.page(),
            incidents: self.incidents(&self.snapshot.open_incidents),
        }
    }

    pub fn all_maintenances(&self) -> MaintenancesDoc {
        MaintenancesDoc {
            page: self.page(),
            scheduled_maintenances: self.incidents(&self.snapshot.recent_maintenances),
        }
    }

    pub fn upcoming_maintenances(&self) -> MaintenancesDoc {
        MaintenancesDoc {
            page: self.page(),
            scheduled_maintenances: self.incidents(self.snapshot.upcoming_maintenances()),
        }
    }

    pub fn active_maintenances(&self) -> MaintenancesDoc {
        MaintenancesDoc {
            page: self.page(),
            scheduled_maintenances: self.incidents(self.snapshot.active_maintenances()),
        }
    }

    /// Groups (with `group: true` and their children's ids) and components, in page order.
    fn component_list(&self) -> Vec<ComponentJson> {
        let mut out = Vec::new();
        let mut position = 0;
        let mut group_ids = std::collections::HashSet::new();
        for (group, members) in self.snapshot.groups() {
            match group {
                None => {
                    for c in members {
                        position += 1;
                        out.push(self.component(c, position, None));
                    }
                }
                Some(name) => {
                    position += 1;
                    let gid = group_id(name, &mut group_ids);
                    out.push(self.group(name, &gid, &members, position));
                    for (i, c) in members.into_iter().enumerate() {
                        out.push(self.component(c, i + 1, Some(gid.clone())));
                    }
                }
            }
        }
        out
    }

    fn component(
        &self,
        c: &ComponentView,
        position: usize,
        group_id: Option<String>,
    ) -> ComponentJson {
        let m = &c.monitor;
        let updated = m.state.since.map_or(m.updated_at, |s| s.max(m.updated_at));
        ComponentJson {
            id: m.key.clone(),
            name: m.name.clone(),
            status: c.status.as_str(),
            created_at: timestamp(m.created_at),
            updated_at: timestamp(updated),
            position,
            // Statuspage has no word for "not checked yet": the status stays a valid one and
            // the description says what it means.
            description: c.waiting.map(|w| w.sentence().to_string()),
            showcase: true,
            start_date: Some(m.created_at.date_naive().to_string()),
            group_id,
            page_id: self.page_id.clone(),
            group: false,
            only_show_if_degraded: false,
            components: None,
        }
    }

    fn group(
        &self,
        name: &str,
        id: &str,
        members: &[&ComponentView],
        position: usize,
    ) -> ComponentJson {
        let status = members
            .iter()
            .map(|c| c.status)
            .fold(ComponentStatus::Operational, ComponentStatus::worst);
        let created = members
            .iter()
            .map(|c| c.monitor.created_at)
            .min()
            .unwrap_or_default();
        let updated = members
            .iter()
            .map(|c| {
                c.monitor
                    .state
                    .since
                    .unwrap_or(c.monitor.updated_at)
                    .max(c.monitor.updated_at)
            })
            .max()
            .unwrap_or_default();
        ComponentJson {
            id: id.to_string(),
            name: name.to_string(),
            status: status.as_str(),
            created_at: timestamp(created),
            updated_at: timestamp(updated),
            position,
            description: None,
            showcase: false,
            start_date: None,
            group_id: None,
            page_id: self.page_id.clone(),
            group: true,
            only_show_if_degraded: false,
            components: Some(members.iter().map(|c| c.monitor.key.clone()).collect()),
        }
    }
}
