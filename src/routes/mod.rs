//! The route table: one function, one small file per route group. Everything a request
//! touches is bounded here: the body size, and the work done on actix's workers (rendering and
//! Markdown go to the blocking pool).

pub(crate) mod admin;
mod admin_api;
mod api_v2;
mod assets;
mod badge;
pub mod body;
mod cached;
mod calendar;
pub mod client;
pub mod connections;
pub mod errors;
mod feeds;
pub mod headers;
mod health;
mod history;
mod incident;
mod json_body;
mod metrics;
mod not_found;
mod openapi;
mod ping;
mod robots;
mod status_page;
mod subscribe;
mod widget;

use actix_web::{Route, web};

use crate::error::AppError;

pub use body::MAX_BODY_BYTES;
pub use ping::PINGS_PER_MINUTE;

/// Runs `f` on the blocking pool: rendering, Markdown and parsing that includes them never
/// hold an actix worker.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("a blocking task failed")))
}

/// GET and HEAD for the same handler (HEAD answers without a body).
fn get_or_head<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(Route::new().guard(actix_web::guard::Head()).to(handler))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_or_head("/", status_page::get))
        .service(
            web::resource("/api/v2/{file:.*}")
                .route(web::get().to(api_v2::get))
                .route(Route::new().guard(actix_web::guard::Head()).to(api_v2::get)),
        )
        .service(get_or_head("/api/openapi.json", openapi::get))
        .service(get_or_head("/incidents/{id}", incident::get))
        .service(get_or_head("/history", history::get))
        .service(get_or_head("/healthz", health::get))
        .service(get_or_head("/robots.txt", robots::get))
        .service(get_or_head("/subscribe", subscribe::form).post(subscribe::sign_up))
        .service(
            get_or_head("/subscribe/confirm", subscribe::confirm_form).post(subscribe::confirm),
        )
        .service(get_or_head("/subscribe/manage", subscribe::manage_form).post(subscribe::manage))
        .service(
            get_or_head("/unsubscribe", subscribe::unsubscribe_form).post(subscribe::unsubscribe),
        )
        .service(get_or_head("/metrics", metrics::get))
        .service(get_or_head("/feed.rss", feeds::page_feed))
        .service(get_or_head("/feed.atom", feeds::page_feed))
        .service(get_or_head("/feed.json", feeds::page_feed))
        .service(get_or_head("/history.rss", feeds::page_feed))
        .service(get_or_head("/history.atom", feeds::page_feed))
        .service(get_or_head("/maintenance.ics", calendar::page))
        .service(get_or_head(
            "/components/{id}/{file}",
            feeds::component_feed,
        ))
        .service(get_or_head("/badge/{file}", badge::get))
        .service(get_or_head("/widget.json", widget::json))
        .service(get_or_head("/embed", widget::embed))
        .service(
            web::resource("/ping/{token}")
                .get(ping::get)
                .post(ping::post),
        )
        .service(
            web::resource("/ping/{token}/{signal}")
                .get(ping::get)
                .post(ping::post),
        )
        .service(web::resource("/api/admin/incidents").post(admin_api::create_incident))
        .service(web::resource("/api/admin/incidents/{id}/updates").post(admin_api::post_update))
        .service(
            web::resource("/api/admin/incidents/{id}")
                .patch(admin_api::patch_incident)
                .delete(admin_api::delete_incident),
        )
        .service(web::resource("/api/admin/maintenances").post(admin_api::create_maintenance))
        .service(
            web::resource("/api/admin/maintenances/{id}")
                .patch(admin_api::patch_maintenance)
                .delete(admin_api::cancel_maintenance),
        )
        .service(get_or_head(
            "/api/admin/subscribers",
            admin_api::notify::list_subscribers,
        ))
        .service(
            web::resource("/api/admin/subscribers/{id}")
                .delete(admin_api::notify::delete_subscriber),
        )
        .service(get_or_head(
            "/api/admin/deliveries",
            admin_api::notify::list_deliveries,
        ))
        .service(web::resource("/api/admin/deliveries/{id}/retry").post(admin_api::notify::retry))
        .service(web::resource("/api/admin/notify/{id}/test").post(admin_api::notify::test_channel))
        .service(get_or_head("/admin", admin::dashboard))
        .service(get_or_head("/admin/login", admin::login_form).post(admin::login))
        .service(web::resource("/admin/logout").post(admin::logout))
        .service(
            get_or_head("/admin/incidents/new", admin::new_incident_form)
                .post(admin::create_incident),
        )
        .service(
            get_or_head("/admin/incidents/{id}", admin::incident_detail)
                .post(admin::update_incident),
        )
        .service(
            get_or_head("/admin/incidents/{id}/delete", admin::delete_incident_form)
                .post(admin::delete_incident),
        )
        .service(
            get_or_head("/admin/maintenances/new", admin::new_maintenance_form)
                .post(admin::create_maintenance),
        )
        .service(
            get_or_head("/admin/maintenances/{id}", admin::edit_maintenance_form)
                .post(admin::save_maintenance),
        )
        .service(
            get_or_head(
                "/admin/maintenances/{id}/cancel",
                admin::cancel_maintenance_form,
            )
            .post(admin::cancel_maintenance),
        )
        .service(get_or_head(
            "/admin/notifications",
            admin::notifications::get,
        ))
        .service(get_or_head("/admin/jobs", admin::jobs::get))
        .service(web::resource("/admin/notifications/{id}/test").post(admin::notifications::test))
        .service(
            web::resource("/admin/notifications/deliveries/{id}/retry")
                .post(admin::notifications::retry),
        )
        .service(get_or_head("/assets/{name}", assets::get))
        .default_service(web::to(not_found::handle));
}
