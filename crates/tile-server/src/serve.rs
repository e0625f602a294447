//! Start-up (catalogue -> atlas -> state) and serving with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use districts::catalog::Catalog;
use maps::{LoadOptions, Loaded};

use crate::config::ServerConfig;
use crate::state::{AppState, SharedState};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The catalogue, a layer or a derived indicator could not be loaded.
    #[error(transparent)]
    Load(Box<maps::LoadError>),
    /// The address could not be bound (in use, not ours).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// Loads the catalogue and every layer it names, and builds the server state.
pub fn load_state(config: ServerConfig) -> Result<AppState, StartError> {
    let catalog = Catalog::load(&config.catalog, &config.data_dir)
        .map_err(|e| StartError::Load(Box::new(e.into())))?;
    load_state_from(&catalog, config)
}

/// Builds the server state from a catalogue already loaded (from `config`'s catalogue file
/// and data directory).
pub fn load_state_from(catalog: &Catalog, config: ServerConfig) -> Result<AppState, StartError> {
    let opts = LoadOptions {
        layers: config.layers.clone(),
        max_zoom: config.max_zoom,
        // Tiles are served from the first request on: every layer's geometry is built while
        // the derived indicators are computed, and finished in the background (a tile request
        // that comes first waits for its layer's).
        bands: maps::loaded::BandsWhen::InBackground,
        only_indicators: None,
        // Lookups are served: the index is always built.
        lookup_index: maps::loaded::LookupIndex::Built,
    };
    let loaded = Loaded::load(catalog, &opts).map_err(|e| StartError::Load(Box::new(e)))?;
    Ok(AppState::new(config, loaded))
}

/// Where uploaded datasets live and who may write them.
#[derive(Clone, Debug)]
pub struct DatasetsConfig {
    /// State directory holding `placemap.sqlite`.
    pub state_dir: std::path::PathBuf,
    /// Accepted bearer tokens.
    pub tokens: Vec<String>,
    /// Upload limits.
    pub limits: datasets::Limits,
    /// How often to look for datasets written by another process.
    pub poll: std::time::Duration,
}

/// Why the dataset store could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("datasets: {0}")]
pub struct StoreError(#[from] pub datasets::DatasetError);

/// The dataset store opened and checked, with its versions read and parsed: what start-up
/// does while the layers load ([`preload`] needs no layer), leaving only the join for after.
pub struct Preloaded {
    store: datasets::SqliteStore,
    stored: crate::live::Stored,
}

/// Opens the store in `state_dir` (integrity check included) and reads and parses every live
/// version. Runs on its own thread during [`load_state`], so 100 stored datasets add little
/// more than their join to start-up (BENCHMARKS.md, section 11).
pub fn preload(state_dir: &std::path::Path) -> Result<Preloaded, StoreError> {
    use datasets::DatasetStore;
    let opened = std::time::Instant::now();
    let store = datasets::SqliteStore::open(state_dir)?;
    tracing::info!(
        path = %store.path().display(),
        ms = opened.elapsed().as_secs_f64() * 1000.0,
        "dataset store opened"
    );
    let generation = store.generation()?;
    let stored = crate::live::Stored::read(&store, generation)?;
    Ok(Preloaded { store, stored })
}

/// The state plus datasets from the store in `cfg` (applied now and watched).
pub fn live_state(
    state: AppState,
    cfg: DatasetsConfig,
) -> Result<crate::live::LiveState, StoreError> {
    let pre = preload(&cfg.state_dir)?;
    Ok(live_state_preloaded(state, pre, cfg))
}

/// [`live_state`] from a store already opened and read by [`preload`].
pub fn live_state_preloaded(
    state: AppState,
    pre: Preloaded,
    cfg: DatasetsConfig,
) -> crate::live::LiveState {
    crate::live::LiveState::with_datasets(
        state,
        Arc::new(pre.store),
        Some(pre.stored),
        cfg.tokens,
        cfg.limits,
        cfg.poll,
    )
}

/// Like [`run`], over live state (datasets enabled).
pub async fn run_live(
    live: crate::live::LiveState,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<(), StartError> {
    let addr = live.0.snapshot().config.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    on_listen(local);
    let config = live.0.snapshot().config.clone();
    serve_router(listener, crate::app_live(live), &config, shutdown_signal()).await;
    Ok(())
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
    serve_router(
        listener,
        crate::app(Arc::clone(&state)),
        &state.config,
        shutdown,
    )
    .await;
    Ok(())
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open connections finish.
///
/// Written over hyper's HTTP/1 connection builder rather than `axum::serve`, which (axum 0.8)
/// sets no header read timeout and no cap on connections: a client sending one header byte a
/// second held a connection for as long as it liked. Here every connection holds one of
/// `max_connections` permits (further clients wait in the listen queue), and hyper closes a
/// connection whose request header is not complete within `header_timeout`. Slow bodies are
/// cut by the router's request timeout.
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    config: &ServerConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let permits = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let header_timeout = config.header_timeout;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(p) => p,
                // The semaphore is never closed.
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // What `into_make_service_with_connect_info::<Peer>()` records, for the public URL.
        let peer = crate::base_url::Peer {
            remote,
            local: stream.local_addr().unwrap_or(remote),
        };
        let service =
            hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
                app.clone(),
                move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                },
            ));
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                res = conn.as_mut() => {
                    if let Err(e) = res {
                        tracing::debug!(error = %e, "connection closed");
                    }
                }
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections so the set does not grow.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(());
    while connections.join_next().await.is_some() {}
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
