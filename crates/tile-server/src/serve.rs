//! Start-up (catalogue -> atlas -> state) and serving with graceful shutdown.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;

use districts::Atlas;
use districts::catalog::Catalog;

use crate::config::ServerConfig;
use crate::state::{AppState, SharedState};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Catalog(#[from] districts::catalog::CatalogError),
    #[error(transparent)]
    Atlas(#[from] districts::layer::AtlasError),
    #[error(transparent)]
    Derived(#[from] analysis::derived::DerivedConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// A version of the loaded data: changes when the catalogue or any file it names changes
/// (size or modification time), so ETags change with the data.
pub fn data_version(catalog: &Catalog) -> String {
    let mut h = std::hash::DefaultHasher::new();
    std::fs::read(&catalog.path)
        .unwrap_or_default()
        .hash(&mut h);
    for f in catalog.referenced_files() {
        let p = catalog.data_dir.join(&f);
        f.hash(&mut h);
        if let Ok(m) = std::fs::metadata(&p) {
            m.len().hash(&mut h);
            if let Ok(t) = m.modified() {
                t.hash(&mut h);
            }
        }
    }
    format!("{:016x}", h.finish())
}

/// Loads the catalogue and every layer it names, and builds the server state.
pub fn load_state(config: ServerConfig) -> Result<AppState, StartError> {
    let catalog = Catalog::load(&config.catalog, &config.data_dir)?;
    load_state_from(&catalog, config)
}

/// Builds the server state from a catalogue already loaded (from `config`'s catalogue file
/// and data directory), e.g. by a command that first read it to choose the layers.
pub fn load_state_from(catalog: &Catalog, config: ServerConfig) -> Result<AppState, StartError> {
    let mut atlas = Atlas::load(catalog, &config.layers)?;
    for layer in &atlas.layers {
        tracing::info!(layer = %layer.meta.id, districts = layer.districts.len(), indicators = layer.indicators.len(), notes = layer.load_notes.len(), "layer loaded");
    }
    // Aggregates and LISA clusters as indicators of their layers (routes::stats).
    let specs = analysis::derived::specs_from_catalog(catalog)?;
    let lookups = crate::routes::stats::load_lookups(catalog);
    crate::routes::stats::add_derived(&mut atlas, &specs, &lookups);
    let version = data_version(catalog);
    Ok(AppState::new(config, atlas, version, lookups))
}

/// Binds the configured address and serves until Ctrl-C / SIGTERM, then drains in-flight
/// requests. `on_listen` receives the bound address (useful with port 0).
pub async fn run(state: SharedState, on_listen: impl FnOnce(SocketAddr)) -> Result<(), StartError> {
    run_until(state, on_listen, shutdown_signal()).await
}

/// Like [`run`], but stops when `shutdown` completes (tests use a oneshot channel).
pub async fn run_until(
    state: SharedState,
    on_listen: impl FnOnce(SocketAddr),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let addr = state.config.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    on_listen(local);
    axum::serve(listener, crate::app(Arc::clone(&state)))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(StartError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
