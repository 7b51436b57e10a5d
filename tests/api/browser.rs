//! A tiny browser for the owner's web UI: keeps cookies, reads CSRF tokens from forms.

use std::collections::HashMap;

use scraper::{Html, Selector};

use crate::helpers::TestApp;

/// A tiny browser: keeps cookies, does not follow redirects.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let response = request
            .header("Cookie", self.cookie_header())
            .send()
            .await
            .expect("request");
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().expect("cookie");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().expect("location").to_string()),
            body: response.text().await.expect("body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.app.client.get(format!("{}{path}", self.app.address));
        self.send(request).await
    }

    pub async fn head(&mut self, path: &str) -> Page {
        let request = self.app.client.head(format!("{}{path}", self.app.address));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let request = self
            .app
            .client
            .post(format!("{}{path}", self.app.address))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    pub async fn login(&mut self, password: &str) -> Page {
        let form = self.get("/admin/login").await;
        let csrf = csrf(&form.body);
        self.post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("username", "owner"),
                ("password", password),
            ],
        )
        .await
    }
}

pub fn csrf(html: &str) -> String {
    let doc = Html::parse_document(html);
    let selector = Selector::parse("input[name=csrf]").expect("selector");
    doc.select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .expect("csrf field")
        .to_string()
}

pub fn texts(html: &str, css: &str) -> Vec<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(css).expect("selector");
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}
