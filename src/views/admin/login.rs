//! `GET /admin/login`

use maud::{Markup, html};

use super::super::{Site, layout};

pub fn render(
    site: &Site<'_>,
    csrf: &str,
    username: &str,
    error: Option<&str>,
    enabled: bool,
) -> Markup {
    layout::page(
        site,
        Some("Owner login"),
        html! {
            section.login {
                h1 { "Owner login" }
                @if !enabled {
                    p.form-error role="alert" {
                        "Web login is off: set admin.password_hash (from signalfire hash-password) or SIGNALFIRE_ADMIN_PASSWORD_HASH."
                    }
                }
                @if let Some(error) = error { p.form-error role="alert" { (error) } }
                form.form method="post" action="/admin/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="username" { "User name" }
                    input #username name="username" type="text" autocomplete="username" required value=(username);
                    label for="password" { "Password" }
                    input #password name="password" type="password" autocomplete="current-password" required;
                    div.buttons { button type="submit" { "Log in" } }
                }
            }
        },
    )
}
