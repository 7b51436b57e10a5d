//! The state shared by handlers and background jobs. Explicit, never global, so two apps can
//! run in one process (the tests do).

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;
use crate::domain::monitor::MonitorSpec;
use crate::probe::Prober;
use crate::render::PageCache;

/// A configured monitor and its database row.
#[derive(Debug, Clone)]
pub struct MonitorHandle {
    pub spec: MonitorSpec,
    pub row_id: i64,
}

/// Everything a handler or job needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub prober: Prober,
    pub monitors: Arc<Vec<Arc<MonitorHandle>>>,
    pub cache: Arc<PageCache>,
}
