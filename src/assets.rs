//! Static assets embedded in the binary, served at `/assets/` and written by the export.

pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

pub const ALL: &[Asset] = &[
    Asset {
        name: "style.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/style.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../assets/favicon.svg"),
    },
];

/// A short hash of every asset, for cache-busting links (`style.css?v=…`): it changes exactly
/// when an asset does.
pub fn version() -> &'static str {
    use sha2::{Digest, Sha256};
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hash = Sha256::new();
        for asset in ALL {
            hash.update(asset.body);
        }
        hex::encode(&hash.finalize()[..6])
    })
}
