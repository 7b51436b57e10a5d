//! Incidents and maintenances: their status words and which changes are possible.
//! Statuspage models scheduled maintenance as a kind of incident; so do we.

use super::status::{ComponentStatus, Health};

/// An incident (something broke) or a maintenance (planned work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Incident,
    Maintenance,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incident => "incident",
            Self::Maintenance => "maintenance",
        }
    }

    pub fn parse(text: &str) -> Self {
        if text == "maintenance" {
            Self::Maintenance
        } else {
            Self::Incident
        }
    }
}

/// Every status word an incident or maintenance update can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Postmortem,
    Scheduled,
    InProgress,
    Verifying,
    Completed,
}

impl Status {
    pub const INCIDENT: [Self; 5] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
        Self::Postmortem,
    ];
    pub const MAINTENANCE: [Self; 4] = [
        Self::Scheduled,
        Self::InProgress,
        Self::Verifying,
        Self::Completed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Postmortem => "postmortem",
            Self::Scheduled => "scheduled",
            Self::InProgress => "in_progress",
            Self::Verifying => "verifying",
            Self::Completed => "completed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Investigating => "Investigating",
            Self::Identified => "Identified",
            Self::Monitoring => "Monitoring",
            Self::Resolved => "Resolved",
            Self::Postmortem => "Postmortem",
            Self::Scheduled => "Scheduled",
            Self::InProgress => "In progress",
            Self::Verifying => "Verifying",
            Self::Completed => "Completed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::INCIDENT
            .into_iter()
            .chain(Self::MAINTENANCE)
            .find(|s| s.as_str() == text)
    }

    /// The words an incident or a maintenance accepts.
    pub fn words_for(kind: Kind) -> &'static [Self] {
        match kind {
            Kind::Incident => &Self::INCIDENT,
            Kind::Maintenance => &Self::MAINTENANCE,
        }
    }

    pub fn belongs_to(self, kind: Kind) -> bool {
        Self::words_for(kind).contains(&self)
    }

    /// Resolved, postmortem and completed: the incident is over.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Resolved | Self::Postmortem | Self::Completed)
    }
}

/// Why an update cannot be posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateRejected {
    /// The word belongs to the other kind (a bad request: names the field).
    WrongKind(String),
    /// A valid word that cannot follow the current status (unprocessable).
    Impossible(String),
}

/// Checks that `next` may follow `current` on an incident or maintenance of `kind`.
/// A closed incident only takes a postmortem; a completed maintenance takes nothing.
pub fn check_update(kind: Kind, current: Status, next: Status) -> Result<(), UpdateRejected> {
    if !next.belongs_to(kind) {
        let words: Vec<&str> = Status::words_for(kind).iter().map(|s| s.as_str()).collect();
        return Err(UpdateRejected::WrongKind(format!(
            "status: \"{}\" is not a {} status; use one of {}",
            next.as_str(),
            kind.as_str(),
            words.join(", ")
        )));
    }
    let allowed = match (kind, current) {
        (Kind::Incident, Status::Postmortem) => false,
        (Kind::Incident, Status::Resolved) => next == Status::Postmortem,
        (Kind::Incident, _) => next != Status::Postmortem,
        (Kind::Maintenance, Status::Completed) => false,
        (Kind::Maintenance, _) => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(UpdateRejected::Impossible(format!(
            "status: this {} is {}; it cannot become {}",
            kind.as_str(),
            current.as_str(),
            next.as_str()
        )))
    }
}

/// A component's status: what the checks say, made worse by open incidents, and
/// `under_maintenance` inside a maintenance window (where failing checks do not count).
pub fn component_status(
    health: Health,
    incident_statuses: &[ComponentStatus],
    in_maintenance: bool,
) -> ComponentStatus {
    let base = if in_maintenance {
        ComponentStatus::UnderMaintenance
    } else {
        health.component_status()
    };
    incident_statuses
        .iter()
        .copied()
        .fold(base, ComponentStatus::worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus as C;

    #[test]
    fn words_round_trip_and_belong_to_one_kind() {
        for s in Status::INCIDENT.into_iter().chain(Status::MAINTENANCE) {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert!(Status::Identified.belongs_to(Kind::Incident));
        assert!(!Status::Identified.belongs_to(Kind::Maintenance));
        assert_eq!(Status::parse("fixed"), None);
    }

    #[test]
    fn a_resolved_incident_only_takes_a_postmortem() {
        assert!(check_update(Kind::Incident, Status::Investigating, Status::Resolved).is_ok());
        assert!(check_update(Kind::Incident, Status::Resolved, Status::Postmortem).is_ok());
        assert!(matches!(
            check_update(Kind::Incident, Status::Resolved, Status::Investigating),
            Err(UpdateRejected::Impossible(_))
        ));
        assert!(matches!(
            check_update(Kind::Incident, Status::Investigating, Status::Postmortem),
            Err(UpdateRejected::Impossible(_))
        ));
    }

    #[test]
    fn maintenance_words_are_refused_on_incidents() {
        assert!(matches!(
            check_update(Kind::Incident, Status::Investigating, Status::Scheduled),
            Err(UpdateRejected::WrongKind(_))
        ));
        assert!(matches!(
            check_update(Kind::Maintenance, Status::Completed, Status::InProgress),
            Err(UpdateRejected::Impossible(_))
        ));
    }

    #[test]
    fn the_worse_status_wins_and_maintenance_hides_failing_checks() {
        assert_eq!(component_status(Health::Up, &[], false), C::Operational);
        assert_eq!(
            component_status(Health::Down, &[C::DegradedPerformance], false),
            C::MajorOutage
        );
        assert_eq!(
            component_status(Health::Up, &[C::PartialOutage], false),
            C::PartialOutage
        );
        assert_eq!(
            component_status(Health::Down, &[], true),
            C::UnderMaintenance
        );
        assert_eq!(
            component_status(Health::Down, &[C::MajorOutage], true),
            C::MajorOutage
        );
    }
}
