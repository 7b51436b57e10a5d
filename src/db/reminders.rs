//! The reminders table: which owner reminders were sent, and the facts about open incidents
//! the reminder rules (`domain::reminder`) judge.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::incidents::parse_status;
use super::{from_millis, to_millis};
use crate::domain::reminder::{Due, IncidentFacts, MonitorHealth, ReminderKind};
use crate::domain::status::Health;

/// Every open incident (not maintenance), with its latest update, its affected monitors still
/// configured, and the reminders already sent about it. Oldest first.
pub fn open_incidents(conn: &Connection) -> rusqlite::Result<Vec<IncidentFacts>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.id, i.status, i.started_at, u.id, u.created_at,
                (SELECT anchor FROM reminders r WHERE r.incident_id = i.id AND r.kind = ?1),
                EXISTS (SELECT 1 FROM reminders r WHERE r.incident_id = i.id AND r.kind = ?2)
         FROM incidents i
         LEFT JOIN incident_updates u ON u.id = (
             SELECT id FROM incident_updates WHERE incident_id = i.id
             ORDER BY created_at DESC, id DESC LIMIT 1)
         WHERE i.kind = 'incident' AND i.resolved_at IS NULL
         ORDER BY i.id",
    )?;
    let kinds = [
        ReminderKind::IncidentWithoutUpdate.as_str(),
        ReminderKind::RecoveredButOpen.as_str(),
    ];
    let mut incidents = stmt
        .query_map(kinds, |r| {
            let update: Option<i64> = r.get(3)?;
            let written: Option<i64> = r.get(4)?;
            Ok(IncidentFacts {
                id: r.get(0)?,
                status: parse_status(&r.get::<_, String>(1)?),
                started_at: from_millis(r.get(2)?),
                latest_update: update.zip(written.map(from_millis)),
                monitors: Vec::new(),
                silence_reminded: r.get(5)?,
                recovery_reminded: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut monitors = affected_monitors(conn)?;
    for incident in &mut incidents {
        incident.monitors = monitors.remove(&incident.id).unwrap_or_default();
    }
    Ok(incidents)
}

/// The health of the configured monitors each open incident affects, by incident.
fn affected_monitors(conn: &Connection) -> rusqlite::Result<HashMap<i64, Vec<MonitorHealth>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.incident_id, m.health, m.health_since
         FROM incident_components c
         JOIN incidents i ON i.id = c.incident_id
         JOIN monitors m ON m.id = c.monitor_id
         WHERE i.kind = 'incident' AND i.resolved_at IS NULL AND m.active = 1",
    )?;
    let mut out: HashMap<i64, Vec<MonitorHealth>> = HashMap::new();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            MonitorHealth {
                health: Health::parse(&r.get::<_, String>(1)?),
                since: r.get::<_, Option<i64>>(2)?.map(from_millis),
            },
        ))
    })?;
    for row in rows {
        let (incident, health) = row?;
        out.entry(incident).or_default().push(health);
    }
    Ok(out)
}

/// Remembers that a reminder was sent (replacing the incident's previous one of its kind).
pub fn record(conn: &Connection, due: &Due, now: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO reminders (incident_id, kind, anchor, sent_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (incident_id, kind) DO UPDATE SET anchor = excluded.anchor, sent_at = excluded.sent_at",
    )?
    .execute(params![
        due.incident,
        due.kind.as_str(),
        due.anchor,
        to_millis(now)
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::db::migrations::migrate;
    use crate::domain::incident::Status;

    fn at(ms: i64) -> DateTime<Utc> {
        from_millis(ms)
    }

    fn database() -> Connection {
        let mut conn = Connection::open_in_memory().expect("memory db");
        migrate(&mut conn).expect("migrated");
        conn.execute_batch(
            "INSERT INTO monitors (id, key, name, kind, target, position, active, created_at, updated_at,
                                   health, health_since) VALUES
                (1, 'blog', 'Blog', 'http', 'x', 0, 1, 0, 0, 'up', 500),
                (2, 'old', 'Old', 'http', 'x', 1, 0, 0, 0, 'down', 100);
             INSERT INTO incidents (id, kind, name, status, impact, created_at, updated_at, started_at, resolved_at) VALUES
                (1, 'incident', 'open', 'identified', 'minor', 0, 0, 100, NULL),
                (2, 'incident', 'closed', 'resolved', 'minor', 0, 0, 100, 300),
                (3, 'maintenance', 'work', 'in_progress', 'none', 0, 0, 100, NULL);
             INSERT INTO incident_updates (id, incident_id, status, body, body_html, created_at, display_at) VALUES
                (10, 1, 'investigating', '', '', 100, 100),
                (11, 1, 'identified', '', '', 400, 400);
             INSERT INTO incident_components (incident_id, monitor_id, status) VALUES
                (1, 1, 'partial_outage'), (1, 2, 'major_outage'), (3, 1, 'under_maintenance');",
        )
        .expect("rows");
        conn
    }

    #[test]
    fn open_incidents_carry_their_latest_update_and_configured_monitors_only() {
        let conn = database();
        let open = open_incidents(&conn).expect("facts");
        assert_eq!(
            open,
            vec![IncidentFacts {
                id: 1,
                status: Status::Identified,
                started_at: at(100),
                latest_update: Some((11, at(400))),
                monitors: vec![MonitorHealth {
                    health: Health::Up,
                    since: Some(at(500)),
                }],
                silence_reminded: None,
                recovery_reminded: false,
            }]
        );
    }

    #[test]
    fn a_recorded_reminder_is_remembered_and_replaced_by_the_next_of_its_kind() {
        let conn = database();
        let due = |kind, anchor| Due {
            incident: 1,
            kind,
            anchor,
            since: at(400),
        };
        record(
            &conn,
            &due(ReminderKind::IncidentWithoutUpdate, 10),
            at(900),
        )
        .expect("record");
        record(
            &conn,
            &due(ReminderKind::IncidentWithoutUpdate, 11),
            at(950),
        )
        .expect("again");
        record(&conn, &due(ReminderKind::RecoveredButOpen, 0), at(950)).expect("recovered");
        let open = open_incidents(&conn).expect("facts");
        assert_eq!(open[0].silence_reminded, Some(11));
        assert!(open[0].recovery_reminded);
        conn.execute("DELETE FROM incidents WHERE id = 1", [])
            .expect("delete");
        let left: i64 = conn
            .query_row("SELECT count(*) FROM reminders", [], |r| r.get(0))
            .expect("count");
        assert_eq!(left, 0, "they go with their incident");
    }
}
