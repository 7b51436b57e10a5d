//! The in-memory cache of rendered pages, keyed by their path in the static site.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::changes::Changes;
use crate::events::{Event, Subscriber};
use crate::views::model::Snapshot;

/// One rendered file, ready to serve, as it is and gzipped (compressed once per change, on
/// the renderer's thread, never per request).
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub gzip: Bytes,
    pub content_type: &'static str,
    /// Strong validator of `body`: a hash of it.
    pub etag: String,
    /// Strong validator of `gzip`: another representation, so another tag (RFC 9110 §8.8.3).
    pub gzip_etag: String,
    /// When the body last changed (not when it was last rendered).
    pub last_modified: DateTime<Utc>,
}

impl Rendered {
    /// Validators and the gzipped body for `file`. Slow for big files: call it off the executor.
    pub fn new(file: File, now: DateTime<Utc>) -> Self {
        let hash = hex::encode(&Sha256::digest(&file.body)[..12]);
        Self {
            gzip: gzip(&file.body),
            body: file.body,
            content_type: file.content_type,
            etag: format!("\"{hash}\""),
            gzip_etag: format!("\"{hash}-gzip\""),
            last_modified: now,
        }
    }
}

fn gzip(body: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    Bytes::from(encoder.finish().unwrap_or_default())
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
    /// The changes heard and rendered; a change also forgets the lazily rendered pages.
    pub changes: Changes,
}

impl Subscriber for PageCache {
    fn notify(&self, events: &[Event]) {
        if self.changes.take_note(events) {
            self.forget_lazy();
        }
    }
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

    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_snapshot(&self, snapshot: Snapshot) {
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(snapshot));
    }

    /// Forgets lazily rendered pages: they may show what just changed.
    fn forget_lazy(&self) {
        self.lazy.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// The current generation (changes heard); pass it back to [`PageCache::insert_lazy`].
    pub fn generation(&self) -> u64 {
        self.changes.heard()
    }

    /// Keeps a page rendered on request, unless something changed since `generation`.
    pub fn insert_lazy(&self, path: String, rendered: Arc<Rendered>, generation: u64) {
        let mut lazy = self.lazy.write().unwrap_or_else(|p| p.into_inner());
        if self.generation() == generation {
            lazy.insert(path, rendered);
        }
    }

    /// Replaces the whole set; unchanged files keep their ETag and Last-Modified. Compresses
    /// what changed: call it off the async executor.
    pub fn store(&self, files: Vec<File>, now: DateTime<Utc>) {
        let old = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let next: HashMap<String, Arc<Rendered>> = files
            .into_iter()
            .map(|file| {
                let rendered = match old.get(&file.path) {
                    Some(prev) if prev.body == file.body => prev.clone(),
                    _ => Arc::new(Rendered::new(file.clone(), now)),
                };
                (file.path, rendered)
            })
            .collect();
        *self.entries.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }
}
