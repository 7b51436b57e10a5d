//! The in-memory cache of rendered pages, keyed by their path in the static site.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::snapshot::Snapshot;

/// One rendered file, ready to serve.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub content_type: &'static str,
    /// Strong validator: a hash of the body.
    pub etag: String,
    /// When the body last changed (not when it was last rendered).
    pub last_modified: DateTime<Utc>,
}

/// A file produced by a render, before it gets its validators.
#[derive(Debug, Clone)]
pub struct File {
    pub path: String,
    pub content_type: &'static str,
    pub body: Bytes,
}

#[derive(Default)]
pub struct PageCache {
    /// The site rendered as a whole on every refresh.
    entries: RwLock<Arc<HashMap<String, Arc<Rendered>>>>,
    /// Pages rendered on first request (incidents, history), dropped on every change.
    lazy: RwLock<HashMap<String, Arc<Rendered>>>,
    /// The data of the last render (badges with custom labels read it).
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    /// One refresh at a time, so an older snapshot never replaces a newer one.
    refreshing: tokio::sync::Mutex<()>,
    /// Bumped on every change, so a page rendered from older data is not kept.
    generation: AtomicU64,
    dirty: Notify,
}

fn validators(body: &Bytes) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..12]))
}

impl PageCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The rendered file at `path` (as in the static export: `index.html`, `api/v2/status.json`).
    pub fn get(&self, path: &str) -> Option<Arc<Rendered>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = entries.get(path) {
            return Some(found.clone());
        }
        self.lazy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(path)
            .cloned()
    }

    /// Held for the whole of a refresh (load, render, store).
    pub async fn refresh_lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.refreshing.lock().await
    }

    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_snapshot(&self, snapshot: Snapshot) {
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(snapshot));
    }

    /// Asks the renderer to re-render soon and forgets lazily rendered pages.
    pub fn invalidate(&self) {
        self.forget_lazy();
        self.dirty.notify_one();
    }

    /// Forgets lazily rendered pages, for a caller that re-renders the site itself.
    pub fn forget_lazy(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.lazy.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The current generation; pass it back to [`PageCache::insert_lazy`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps a page rendered on request, unless something changed since `generation`.
    pub fn insert_lazy(&self, file: File, generation: u64, now: DateTime<Utc>) -> Arc<Rendered> {
        let rendered = Arc::new(Rendered {
            etag: validators(&file.body),
            body: file.body,
            content_type: file.content_type,
            last_modified: now,
        });
        let mut lazy = self.lazy.write().unwrap_or_else(|p| p.into_inner());
        if self.generation() == generation {
            lazy.insert(file.path, rendered.clone());
        }
        rendered
    }

    /// Resolves when someone called [`PageCache::invalidate`].
    pub async fn changed(&self) {
        self.dirty.notified().await;
    }

    /// Replaces the whole set; unchanged files keep their ETag and Last-Modified.
    pub fn store(&self, files: Vec<File>, now: DateTime<Utc>) {
        let old = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let next: HashMap<String, Arc<Rendered>> = files
            .into_iter()
            .map(|file| {
                let etag = validators(&file.body);
                let rendered = match old.get(&file.path) {
                    Some(prev) if prev.etag == etag => prev.clone(),
                    _ => Arc::new(Rendered {
                        body: file.body,
                        content_type: file.content_type,
                        etag,
                        last_modified: now,
                    }),
                };
                (file.path, rendered)
            })
            .collect();
        *self.entries.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }
}
