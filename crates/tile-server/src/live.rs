//! The maps a request sees can change while the server runs (uploaded datasets, also from the
//! CLI in another process): the router's state holds the current [`AppState`] behind a lock,
//! and each request takes a snapshot (an `Arc`) through axum's `FromRef`, so handlers keep
//! reading `State<SharedState>` unchanged and one request never sees two versions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, Weak};
use std::time::Duration;

use axum::extract::FromRef;
use datasets::{DatasetStore, KnownLayer, Limits};
use maps::Loaded;

use crate::state::{AppState, SharedState};

/// Dataset storage and what uploads need.
pub struct Hub {
    /// Where datasets are stored (SQLite today; a shared database later).
    pub store: Arc<dyn DatasetStore>,
    /// The maps without any dataset (what every new snapshot starts from).
    pub base: Arc<Loaded>,
    /// Accepted bearer tokens (never logged).
    tokens: Vec<Vec<u8>>,
    /// Upload limits (body size, rows, columns, datasets).
    pub limits: Limits,
    /// Generation of the store the current snapshot was built from.
    applied: AtomicU64,
    refreshing: Mutex<()>,
    known: OnceLock<Vec<KnownLayer>>,
}

impl Hub {
    /// Codes of every base layer, built once.
    pub fn known_layers(&self) -> &[KnownLayer] {
        self.known
            .get_or_init(|| datasets::known_layers(&self.base))
    }

    /// Whether `header` (an `Authorization` value) carries an accepted token; compared in
    /// constant time for tokens of one length.
    pub fn authorised(&self, header: Option<&str>) -> bool {
        let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
            return false;
        };
        let given = given.trim().as_bytes();
        let mut ok = subtle::Choice::from(0u8);
        for t in &self.tokens {
            if t.len() == given.len() {
                ok |= subtle::ConstantTimeEq::ct_eq(t.as_slice(), given);
            }
        }
        bool::from(ok)
    }
}

/// The current snapshot and the dataset hub.
pub struct Live {
    current: RwLock<SharedState>,
    /// Dataset storage and tokens; `None` when datasets are off (read-only server).
    pub hub: Option<Hub>,
}

/// The router's state: cheap to clone; handlers extract [`SharedState`] snapshots from it.
#[derive(Clone)]
pub struct LiveState(pub Arc<Live>);

impl FromRef<LiveState> for SharedState {
    fn from_ref(live: &LiveState) -> SharedState {
        live.0.snapshot()
    }
}

impl Live {
    /// The state requests read now.
    pub fn snapshot(&self) -> SharedState {
        Arc::clone(
            &self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Rebuilds the snapshot if the store changed since the last build (cheap otherwise: one
    /// small query). Errors are logged; the old snapshot stays.
    pub fn refresh(&self) {
        let Some(hub) = &self.hub else { return };
        let _one = hub
            .refreshing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let generation = match hub.store.generation() {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "dataset store not readable");
                return;
            }
        };
        if generation == hub.applied.load(Ordering::Acquire) {
            return;
        }
        match Stored::read(hub.store.as_ref(), generation) {
            Ok(stored) => self.install(hub, stored),
            Err(e) => tracing::warn!(error = %e, "dataset versions not readable"),
        }
    }

    /// Joins `stored` to the base maps and makes the result the current snapshot.
    fn install(&self, hub: &Hub, stored: Stored) {
        let started = std::time::Instant::now();
        // Nothing stored: no code lists to build (the base's indicators are shared, so the
        // copy `apply_parsed` makes is cheap).
        let layers = if stored.versions.is_empty() {
            &[]
        } else {
            hub.known_layers()
        };
        let applied = datasets::apply_parsed(
            &hub.base,
            layers,
            &stored.versions,
            stored.generation,
            Some(hub.store.as_ref()),
        );
        let mut maps = applied.maps;
        maps.deleted_datasets = Arc::new(stored.deleted);
        if !applied.rejoined.is_empty() {
            // Stored for the next start, off the path of this one.
            let store = Arc::clone(&hub.store);
            let rejoined = applied.rejoined;
            let spawned = std::thread::Builder::new()
                .name("store joins".into())
                .spawn(move || datasets::store_joins(store.as_ref(), &rejoined));
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "joins not stored: made again at the next start");
            }
        }
        let next = Arc::new(self.snapshot().with_maps(Arc::new(maps)));
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = next;
        hub.applied.store(stored.generation, Ordering::Release);
        tracing::info!(
            generation = stored.generation,
            versions = stored.versions.len(),
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "datasets applied"
        );
    }
}

/// What the store holds at one generation, decoded (stored joins, else tables): read by
/// [`Stored::read`] at start-up while the layers load (see `serve::preload`).
pub struct Stored {
    /// The generation read before the versions (a write in between is applied at the next
    /// poll, never missed).
    pub generation: u64,
    /// Every version of every live dataset, decoded ([`datasets::parse_versions`]).
    pub versions: Vec<datasets::ParsedVersion>,
    /// Deleted ids, so their old links answer 410 Gone rather than 404.
    pub deleted: Vec<String>,
}

impl Stored {
    /// Reads and decodes every live version of `store`; `generation` must be read before.
    pub fn read(store: &dyn DatasetStore, generation: u64) -> datasets::Result<Stored> {
        let read = std::time::Instant::now();
        let versions = store.live_versions()?;
        let deleted: Vec<String> = store
            .list()?
            .into_iter()
            .filter(|d| d.deleted)
            .map(|d| d.meta.id)
            .collect();
        let read_ms = read.elapsed().as_secs_f64() * 1000.0;
        let versions = datasets::parse_versions(versions);
        tracing::debug!(
            read_ms,
            total_ms = read.elapsed().as_secs_f64() * 1000.0,
            versions = versions.len(),
            "dataset versions read and parsed"
        );
        Ok(Stored {
            generation,
            versions,
            deleted,
        })
    }
}

impl LiveState {
    /// Fixed maps, no datasets (tests, benches, `app`).
    pub fn fixed(state: SharedState) -> LiveState {
        LiveState(Arc::new(Live {
            current: RwLock::new(state),
            hub: None,
        }))
    }

    /// Maps plus the datasets of `store` (`stored`, when already read, else read now),
    /// applied before this returns, then watched every `poll` for writes by other processes
    /// (the thread ends when the server's state is dropped).
    pub fn with_datasets(
        state: AppState,
        store: Arc<dyn DatasetStore>,
        stored: Option<Stored>,
        tokens: Vec<String>,
        limits: Limits,
        poll: Duration,
    ) -> LiveState {
        let base = Arc::clone(&state.maps);
        let live = Arc::new(Live {
            current: RwLock::new(Arc::new(state)),
            hub: Some(Hub {
                store,
                base,
                tokens: tokens.into_iter().map(String::into_bytes).collect(),
                limits,
                applied: AtomicU64::new(u64::MAX),
                refreshing: Mutex::new(()),
                known: OnceLock::new(),
            }),
        });
        if let (Some(stored), Some(hub)) = (stored, &live.hub) {
            live.install(hub, stored);
        }
        // Catches up with any write since `stored` was read (or reads the store now).
        live.refresh();
        let weak: Weak<Live> = Arc::downgrade(&live);
        let _ = std::thread::Builder::new()
            .name("datasets-poll".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(poll);
                    let Some(live) = weak.upgrade() else { break };
                    live.refresh();
                }
            });
        LiveState(live)
    }
}
