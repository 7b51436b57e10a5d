//! Where links point: the same views serve the server (absolute paths) and the static
//! export (relative `.html` files).

/// Where links point: absolute paths on the server, relative `.html` files in an export.
#[derive(Debug, Clone)]
pub struct Links {
    /// Prefix to the site root: "/" on the server, "./" or "../" in an export.
    root: String,
    export: bool,
}

impl Links {
    pub fn server() -> Self {
        Self {
            root: "/".to_string(),
            export: false,
        }
    }

    /// Links for an exported file `depth` folders below the site root.
    pub fn export(depth: usize) -> Self {
        let root = if depth == 0 {
            "./".to_string()
        } else {
            "../".repeat(depth)
        };
        Self { root, export: true }
    }

    /// Links for an exported page served at any depth (the 404 page): from the host's root.
    pub fn export_rooted() -> Self {
        Self {
            root: "/".to_string(),
            export: true,
        }
    }

    pub fn home(&self) -> String {
        if self.export {
            format!("{}index.html", self.root)
        } else {
            self.root.clone()
        }
    }

    /// An incident's permalink; `#update-{id}` anchors point into its timeline.
    pub fn incident(&self, id: i64) -> String {
        if self.export {
            format!("{}incidents/{id}.html", self.root)
        } else {
            format!("{}incidents/{id}", self.root)
        }
    }

    /// A page of the incident history (page 1 is the newest).
    pub fn history(&self, page: u32) -> String {
        match (self.export, page) {
            (false, 1) => format!("{}history", self.root),
            (false, n) => format!("{}history?page={n}", self.root),
            (true, 1) => format!("{}history.html", self.root),
            (true, n) => format!("{}history-{n}.html", self.root),
        }
    }

    pub fn asset(&self, name: &str) -> String {
        format!("{}assets/{name}", self.root)
    }

    /// The maintenance calendar (iCalendar), the same file on the server and in an export.
    pub fn calendar(&self) -> String {
        self.file("maintenance.ics")
    }

    /// A machine-readable file that has the same path on the server and in an export.
    pub fn file(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }
}
