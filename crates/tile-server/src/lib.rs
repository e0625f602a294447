//! The HTTP face of placemap (axum): config -> state -> routes.
