//! Admission control of heavy work (issue 12): every render, analysis, export and upload that
//! runs on a blocking thread goes through [`Admission::run`], which
//!
//! - bounds how many jobs of each [`Class`] run at once (sized from the core count), and how
//!   many bytes all of them may hold together (a memory budget; each job says what it expects
//!   to need). A request that cannot start at once (tiles: within a short wait) is answered
//!   503 with `Retry-After` instead of piling up behind the others;
//! - keeps a job refused for memory from starving: the budget it needed is held back for its
//!   retry (until a little after its `Retry-After`), and other jobs arriving meanwhile start
//!   only if they leave that much free, so a 10,000 px static map is drawn even while analyses
//!   keep coming (without this, a smaller budget drew none; BENCHMARKS.md section 13);
//! - gives each job a [`Cancel`]: set when the request's future is dropped (the client went
//!   away, or the router's timeout answered 503) or its deadline passes, and checked inside the
//!   long loops of the lower crates (permutations, drawing, export writers), so nothing goes on
//!   computing for nobody.
//!
//! Hand-written over tokio's semaphores: tower's `ConcurrencyLimitLayer` and `LoadShedLayer`
//! limit a whole route, not a class of work with a byte budget, and cannot cancel the blocking
//! work behind a request.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::metrics::{ClassLabels, Metrics};

/// One MiB: the unit of the memory semaphore (tokio counts permits in `u32`).
const MIB: u64 = 1024 * 1024;

/// Seconds a job refused for memory keeps its share reserved beyond its `Retry-After`: time for
/// a client that waits as told to come back.
const RESERVE_SLACK_SECS: u64 = 5;

/// Kinds of heavy work, each with its own bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// A raster or vector tile not in the cache.
    Tile,
    /// A static map (`/static/...`).
    Static,
    /// An analysis (`/stats/...`: Moran, clusters, compare, aggregate).
    Analysis,
    /// A GeoJSON or CSV export, or a page of OGC API items.
    Export,
    /// A dataset upload (detection, join, store).
    Upload,
    /// A batch point lookup (`POST /lookup`): up to 16 MiB of CSV or GeoJSON parsed, looked
    /// up and written back, a few times the body in memory.
    Lookup,
}

impl Class {
    /// Every class.
    pub const ALL: [Class; 6] = [
        Class::Tile,
        Class::Static,
        Class::Analysis,
        Class::Export,
        Class::Upload,
        Class::Lookup,
    ];

    /// Name in metrics and messages.
    pub fn label(self) -> &'static str {
        match self {
            Class::Tile => "tile",
            Class::Static => "static",
            Class::Analysis => "analysis",
            Class::Export => "export",
            Class::Upload => "upload",
            Class::Lookup => "lookup",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// About how long a job of the class takes: the `Retry-After` of a refusal, seconds.
    fn retry_after(self) -> u64 {
        match self {
            Class::Tile => 1,
            Class::Static | Class::Export | Class::Lookup => 5,
            Class::Analysis | Class::Upload => 10,
        }
    }

    /// What a client of this class can do instead of retrying at once.
    fn hint(self) -> &'static str {
        match self {
            Class::Tile => {
                "retry after the Retry-After delay; tiles already drawn are still served"
            }
            Class::Static => {
                "retry after the Retry-After delay; smaller maps (width, height, scale) need less memory"
            }
            Class::Analysis => {
                "retry after the Retry-After delay; fewer permutations finish sooner"
            }
            Class::Export => {
                "retry after the Retry-After delay; a bbox= or zoom= makes the export smaller"
            }
            Class::Upload => "retry the upload after the Retry-After delay",
            Class::Lookup => {
                "retry after the Retry-After delay; smaller batches of points need less memory"
            }
        }
    }
}

/// How much heavy work may run at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Tiles rendered at once (cheap: a few milliseconds and a few MiB each; bounded by this
    /// count alone, outside the memory budget).
    pub tile_jobs: usize,
    /// Static maps drawn at once (a 10,000 px square PNG, drawn in strips, holds about 80 MB
    /// while drawn and expects about 140 MB).
    pub static_jobs: usize,
    /// Analyses at once (Moran's permutations already use every core through rayon).
    pub analysis_jobs: usize,
    /// Exports at once.
    pub export_jobs: usize,
    /// Uploads processed at once.
    pub upload_jobs: usize,
    /// Batch lookups (`POST /lookup`) at once.
    pub lookup_jobs: usize,
    /// Bytes all running jobs may expect to hold together. A job expecting more than the whole
    /// budget still runs, alone (it takes the whole budget), and a job refused for memory has
    /// its share held back for its retry (later jobs cannot keep taking it), so no valid
    /// request is refused for good.
    pub memory_bytes: u64,
    /// How long a tile may wait for a slot before its 503 (tiles are short: a brief queue
    /// smooths bursts; static maps, analyses and exports never wait).
    pub tile_wait: Duration,
    /// How long an upload may wait for a slot: uploads are few and short, and two users
    /// uploading at once should both succeed, one after the other.
    pub upload_wait: Duration,
    /// Uncached tiles whose districts hold at most this many vertices are drawn on the async
    /// worker that took the request rather than handed to a blocking thread
    /// ([`maps::raster::is_quick`], [`Admission::run_here`]); 0 hands every tile off.
    pub inline_tile_vertices: usize,
}

impl Limits {
    /// Defaults for `cores` cores: a couple of tiles per core, half the cores for static maps
    /// and analyses (at least one each), and a 512 MiB memory budget: room for the largest
    /// static map (10,000 px square, about 140 MB expected) beside an analysis (160 MB) and
    /// a batch lookup or export, while the ~0.45 GB the loaded layers take, the 128 MB tile
    /// cache and the budget stay near 1.2 GB even at the worst (estimates run above what jobs
    /// hold; the abuse mix peaks far lower: BENCHMARKS.md section 13).
    pub fn for_cores(cores: usize) -> Limits {
        let cores = cores.max(1);
        let half = (cores / 2).max(1);
        Limits {
            tile_jobs: cores * 2,
            static_jobs: half,
            analysis_jobs: half,
            export_jobs: half,
            upload_jobs: 1,
            lookup_jobs: half,
            memory_bytes: 512 * MIB,
            tile_wait: Duration::from_millis(250),
            upload_wait: Duration::from_secs(10),
            inline_tile_vertices: maps::raster::QUICK_TILE_VERTICES,
        }
    }

    /// The limits for this machine's cores (`std::thread::available_parallelism`).
    pub fn for_this_machine() -> Limits {
        Limits::for_cores(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    }

    /// How long a job of `class` may wait for its slot and memory (`None`: refused at once).
    fn wait(&self, class: Class) -> Option<Duration> {
        match class {
            Class::Tile => Some(self.tile_wait),
            Class::Upload => Some(self.upload_wait),
            Class::Static | Class::Analysis | Class::Export | Class::Lookup => None,
        }
    }

    fn jobs(&self, class: Class) -> usize {
        match class {
            Class::Tile => self.tile_jobs,
            Class::Static => self.static_jobs,
            Class::Analysis => self.analysis_jobs,
            Class::Export => self.export_jobs,
            Class::Upload => self.upload_jobs,
            Class::Lookup => self.lookup_jobs,
        }
    }

    /// Jobs of every class at once: the blocking threads the runtime needs for them.
    pub fn total_jobs(&self) -> usize {
        Class::ALL.iter().map(|c| self.jobs(*c)).sum()
    }
}

/// Why a job was not started.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Its class, or the memory budget, is full: 503 with `Retry-After`.
    #[error("the server is busy: {running} {what} already running; try again in {retry_after} s")]
    Busy {
        /// The class refused.
        class: Class,
        /// What is full, for the message ("static map jobs", "MiB of the memory budget").
        what: String,
        /// How many (jobs or MiB) are taken.
        running: usize,
        /// Seconds to wait before retrying.
        retry_after: u64,
    },
    /// The blocking task panicked or was aborted (a bug; 500).
    #[error("a {class} job failed: {cause}", class = .class.label())]
    Failed {
        /// The class of the job.
        class: Class,
        /// What the runtime said.
        cause: String,
    },
}

impl Refused {
    /// The `Retry-After` seconds of a busy refusal.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refused::Busy { retry_after, .. } => Some(*retry_after),
            Refused::Failed { .. } => None,
        }
    }

    /// What the client can do.
    pub fn hint(&self) -> &'static str {
        match self {
            Refused::Busy { class, .. } => class.hint(),
            Refused::Failed { .. } => "this is a bug in placemap; the server log has the cause",
        }
    }
}

/// Whether a job should stop: its request was dropped (client gone, or answered 503 by the
/// timeout) or its deadline passed. Cheap to check in loops (an atomic load and a clock read).
#[derive(Clone, Debug)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    deadline: Instant,
}

impl Cancel {
    /// A token that stops at `deadline`, or when [`Cancel::cancel`] is called.
    pub fn new(deadline: Instant) -> Cancel {
        Cancel {
            flag: Arc::new(AtomicBool::new(false)),
            deadline,
        }
    }

    /// Whether the job should stop now.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || Instant::now() >= self.deadline
    }

    /// Asks the job to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }
}

/// Cancels its token when dropped: held by the request's future, so a dropped request (client
/// gone, router timeout) stops its job.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Budget held back for a job refused for memory, so that jobs arriving after it cannot keep
/// taking what it needs (one reservation at a time, first come): until it expires, a job other
/// than its owner (the refused class and size: its retry) starts only if it leaves the held
/// MiB free. The owner starts as soon as the budget has room, which ends the reservation; an
/// owner refused again renews it; another job refused meanwhile waits its turn (it reserves
/// once this one ends). Jobs that wait for their slot (tiles, uploads) neither check nor make
/// reservations: tiles take no budget, uploads queue.
#[derive(Debug, Default)]
struct Reserved(Option<Reservation>);

/// Who holds budget back, how much, and until when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reservation {
    class: Class,
    mib: u32,
    until: Instant,
}

impl Reserved {
    /// The reservation in force at `now`.
    fn in_force(&self, now: Instant) -> Option<Reservation> {
        self.0.filter(|r| now < r.until)
    }

    /// Whether a job of `class` needing `mib` may take it from the `free` MiB at `now`.
    fn allows(&self, class: Class, mib: u32, free: u32, now: Instant) -> bool {
        match self.in_force(now) {
            Some(r) if (r.class, r.mib) != (class, mib) => {
                free.checked_sub(mib).is_some_and(|left| left >= r.mib)
            }
            _ => true,
        }
    }

    /// A job of `class` needing `mib` found too little free at `now`: hold `mib` back for it
    /// until `until`, unless another job's reservation is in force (its owner's is renewed).
    fn refused(&mut self, class: Class, mib: u32, now: Instant, until: Instant) {
        match self.in_force(now) {
            Some(r) if (r.class, r.mib) == (class, mib) => {
                self.0 = Some(Reservation {
                    until: r.until.max(until),
                    ..r
                });
            }
            Some(_) => {}
            None => self.0 = Some(Reservation { class, mib, until }),
        }
    }

    /// A job of `class` needing `mib` started at `now`: the reservation it owned ends, as does
    /// one expired.
    fn started(&mut self, class: Class, mib: u32, now: Instant) {
        if self
            .0
            .is_some_and(|r| (r.class, r.mib) == (class, mib) || now >= r.until)
        {
            self.0 = None;
        }
    }

    /// MiB held back at `now`.
    fn held(&self, now: Instant) -> u32 {
        self.in_force(now).map_or(0, |r| r.mib)
    }
}

/// One class's bound.
struct Gate {
    slots: Arc<Semaphore>,
    size: usize,
}

/// The admission controller, shared by every snapshot of the server state.
pub struct Admission {
    limits: Limits,
    gates: Vec<Gate>,
    memory: Arc<Semaphore>,
    memory_mib: u32,
    /// Budget held back for a job refused for memory (see [`Reserved`]).
    reserved: Mutex<Reserved>,
    metrics: Arc<Metrics>,
}

/// What a running job holds; dropping it (when the blocking work returns) frees its slot and
/// its share of the memory budget.
struct Permit {
    admission: Arc<Admission>,
    class: Class,
    _slot: OwnedSemaphorePermit,
    _memory: OwnedSemaphorePermit,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission
            .metrics
            .jobs_running
            .get_or_create(&ClassLabels {
                class: self.class.label().into(),
            })
            .dec();
    }
}

impl Admission {
    /// A controller with these limits, counting into `metrics`.
    pub fn new(limits: Limits, metrics: Arc<Metrics>) -> Admission {
        let memory_mib = u32::try_from((limits.memory_bytes / MIB).max(1))
            .unwrap_or(u32::MAX)
            .min(u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
        let gates = Class::ALL
            .iter()
            .map(|c| {
                let size = limits.jobs(*c).max(1);
                Gate {
                    slots: Arc::new(Semaphore::new(size)),
                    size,
                }
            })
            .collect();
        Admission {
            gates,
            memory: Arc::new(Semaphore::new(memory_mib as usize)),
            memory_mib,
            reserved: Mutex::new(Reserved::default()),
            limits,
            metrics,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Jobs of `class` running now.
    pub fn running(&self, class: Class) -> usize {
        let g = &self.gates[class.index()];
        g.size - g.slots.available_permits()
    }

    /// MiB of the memory budget taken now.
    pub fn memory_taken_mib(&self) -> usize {
        self.memory_mib as usize - self.memory.available_permits()
    }

    /// MiB of the memory budget held back now for a job refused for memory, so that it finds
    /// room when it retries (0 when none).
    pub fn memory_reserved_mib(&self) -> usize {
        let r = self.reserved.lock().unwrap_or_else(PoisonError::into_inner);
        r.held(Instant::now()) as usize
    }

    /// MiB a job expecting `bytes` takes: at least 1, at most the whole budget.
    fn mib_for(&self, bytes: u64) -> u32 {
        u32::try_from(bytes.div_ceil(MIB))
            .unwrap_or(u32::MAX)
            .clamp(1, self.memory_mib)
    }

    fn refuse(&self, class: Class, what: String, running: usize) -> Refused {
        self.metrics
            .admission_rejected
            .get_or_create(&ClassLabels {
                class: class.label().into(),
            })
            .inc();
        tracing::debug!(class = class.label(), %what, running, "job refused");
        Refused::Busy {
            class,
            what,
            running,
            retry_after: class.retry_after(),
        }
    }

    /// A slot of `class` and `bytes` of the budget, at once (tiles and uploads: within their
    /// wait), or the refusal.
    async fn admit(self: &Arc<Self>, class: Class, bytes: u64) -> Result<Permit, Refused> {
        let gate = &self.gates[class.index()];
        // Tiles are bounded by their slots alone (a few MiB each): taking budget for them would
        // keep a job that needs the whole budget out for as long as tiles keep coming.
        let mib = if class == Class::Tile {
            0
        } else {
            self.mib_for(bytes)
        };
        let busy_slots = |a: &Admission| {
            a.refuse(
                class,
                format!("{} jobs of at most {}", class.label(), gate.size),
                a.running(class),
            )
        };
        let busy_memory = |a: &Admission, held: u32| {
            let what = if held > 0 {
                format!(
                    "MiB of the {} MiB memory budget taken, and {held} MiB held for a job \
                     refused before (this job needs {mib})",
                    a.memory_mib
                )
            } else {
                format!(
                    "MiB of the {} MiB memory budget taken (this job needs {mib})",
                    a.memory_mib
                )
            };
            a.refuse(class, what, a.memory_taken_mib())
        };
        let (slot, memory) = if let Some(wait) = self.limits.wait(class) {
            let both = async {
                let slot = Arc::clone(&gate.slots).acquire_owned().await;
                let memory = Arc::clone(&self.memory).acquire_many_owned(mib).await;
                (slot, memory)
            };
            match tokio::time::timeout(wait, both).await {
                Ok((Ok(s), Ok(m))) => (s, m),
                // The semaphores are never closed; a timeout is the only refusal.
                _ => return Err(busy_slots(self)),
            }
        } else {
            let slot = match Arc::clone(&gate.slots).try_acquire_owned() {
                Ok(s) => s,
                Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                    return Err(busy_slots(self));
                }
            };
            // Checking the reservation and taking the memory under one lock: two jobs cannot
            // both see the same free MiB (memory is only ever freed outside it).
            let now = Instant::now();
            let mut reserved = self.reserved.lock().unwrap_or_else(PoisonError::into_inner);
            let free = u32::try_from(self.memory.available_permits()).unwrap_or(u32::MAX);
            if !reserved.allows(class, mib, free, now) {
                let held = reserved.held(now);
                drop((reserved, slot));
                return Err(busy_memory(self, held));
            }
            match Arc::clone(&self.memory).try_acquire_many_owned(mib) {
                Ok(m) => {
                    reserved.started(class, mib, now);
                    (slot, m)
                }
                Err(_) => {
                    let until = now + Duration::from_secs(class.retry_after() + RESERVE_SLACK_SECS);
                    reserved.refused(class, mib, now, until);
                    drop((reserved, slot));
                    return Err(busy_memory(self, 0));
                }
            }
        };
        self.metrics
            .jobs_running
            .get_or_create(&ClassLabels {
                class: class.label().into(),
            })
            .inc();
        Ok(Permit {
            admission: Arc::clone(self),
            class,
            _slot: slot,
            _memory: memory,
        })
    }

    /// Runs `job` on a blocking thread once admitted as `class` expecting `bytes` of memory,
    /// with a [`Cancel`] that trips at `deadline` or when the returned future is dropped. The
    /// slot and memory are held until `job` returns (not merely until the request ends), so
    /// the bounds hold for the work actually running.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::{Duration, Instant};
    /// use tile_server::admission::{Admission, Class, Limits, Refused};
    /// let rt = tokio::runtime::Runtime::new()?;
    /// let a = Arc::new(Admission::new(Limits::for_cores(2), Arc::new(tile_server::metrics::Metrics::new())));
    /// let deadline = Instant::now() + Duration::from_secs(5);
    /// let out: Result<u32, Refused> = rt.block_on(a.run(Class::Analysis, 1 << 20, deadline, |_| Ok(42)));
    /// assert_eq!(out?, 42);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn run<T, E>(
        self: &Arc<Self>,
        class: Class,
        bytes: u64,
        deadline: Instant,
        job: impl FnOnce(&Cancel) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<Refused> + Send + 'static,
    {
        let permit = self.admit(class, bytes).await?;
        let cancel = Cancel::new(deadline);
        let on_drop = CancelOnDrop(cancel.clone());
        let metrics = Arc::clone(&self.metrics);
        let handle = tokio::task::spawn_blocking(move || {
            let out = job(&cancel);
            if cancel.is_cancelled() {
                metrics
                    .jobs_cancelled
                    .get_or_create(&ClassLabels {
                        class: class.label().into(),
                    })
                    .inc();
            }
            drop(permit);
            out
        });
        let out = handle.await;
        drop(on_drop);
        match out {
            Ok(out) => out,
            Err(e) => Err(Refused::Failed {
                class,
                cause: e.to_string(),
            }
            .into()),
        }
    }

    /// [`Admission::run`] for a job known to be short (about a millisecond at most: an uncached
    /// tile of a few thousand vertices), run on the calling async worker instead of a blocking
    /// thread. Handing a job to tokio's blocking pool and back costs two thread wake-ups, a
    /// sixth of such a tile's server time (BENCHMARKS.md section 15); meanwhile the worker's other
    /// requests wait for the job (about a millisecond at most). Admitted, counted and panic-safe as with
    /// `run`; its [`Cancel`] trips only at `deadline` (the job ends before a client going away
    /// could matter). Long or unknown-length jobs must use `run`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::{Duration, Instant};
    /// use tile_server::admission::{Admission, Class, Limits, Refused};
    /// let rt = tokio::runtime::Runtime::new()?;
    /// let a = Arc::new(Admission::new(Limits::for_cores(2), Arc::new(tile_server::metrics::Metrics::new())));
    /// let deadline = Instant::now() + Duration::from_secs(5);
    /// let out: Result<u32, Refused> = rt.block_on(a.run_here(Class::Tile, 1 << 20, deadline, |_| Ok(7)));
    /// assert_eq!(out?, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn run_here<T, E>(
        self: &Arc<Self>,
        class: Class,
        bytes: u64,
        deadline: Instant,
        job: impl FnOnce(&Cancel) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<Refused>,
    {
        let permit = self.admit(class, bytes).await?;
        let cancel = Cancel::new(deadline);
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&cancel)));
        drop(permit);
        match out {
            Ok(out) => out,
            Err(panic) => {
                let cause = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "the job panicked".to_string());
                Err(Refused::Failed { class, cause }.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(limits: Limits) -> Arc<Admission> {
        Arc::new(Admission::new(limits, Arc::new(Metrics::new())))
    }

    fn small() -> Limits {
        Limits {
            tile_jobs: 1,
            static_jobs: 1,
            analysis_jobs: 1,
            export_jobs: 1,
            upload_jobs: 1,
            lookup_jobs: 1,
            memory_bytes: 100 * MIB,
            tile_wait: Duration::from_millis(100),
            upload_wait: Duration::from_millis(100),
            inline_tile_vertices: 0,
        }
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    /// Starts a job of `class` that runs until `release` fires; returns once it runs.
    async fn hold(
        a: &Arc<Admission>,
        class: Class,
        bytes: u64,
    ) -> (
        tokio::task::JoinHandle<Result<(), Refused>>,
        std::sync::mpsc::Sender<()>,
    ) {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let a2 = Arc::clone(a);
        let h = tokio::spawn(async move {
            a2.run(class, bytes, later(), move |_| {
                let _ = rx.recv();
                Ok::<(), Refused>(())
            })
            .await
        });
        while a.running(class) == 0 {
            // Refused: fail rather than wait for ever.
            assert!(!h.is_finished(), "the {} job did not start", class.label());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (h, tx)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_class_refuses_at_once_and_frees_its_slot_when_the_job_ends() {
        let a = admission(small());
        let (first, release) = hold(&a, Class::Static, MIB).await;
        let start = Instant::now();
        let second = a
            .run(Class::Static, MIB, later(), |_| Ok::<(), Refused>(()))
            .await;
        assert!(
            start.elapsed() < Duration::from_millis(50),
            "did not refuse at once"
        );
        let Err(Refused::Busy {
            class, retry_after, ..
        }) = second
        else {
            panic!("second static job admitted: {second:?}");
        };
        assert_eq!((class, retry_after), (Class::Static, 5));
        // Another class is not affected.
        a.run(Class::Analysis, MIB, later(), |_| Ok::<(), Refused>(()))
            .await
            .expect("analysis runs");
        release.send(()).expect("job waits");
        first.await.expect("join").expect("first ran");
        assert_eq!(a.running(Class::Static), 0);
        a.run(Class::Static, MIB, later(), |_| Ok::<(), Refused>(()))
            .await
            .expect("the slot is free again");
        let text = a.metrics.encode(crate::metrics::Format::Prometheus, &[]);
        assert!(
            text.contains("placemap_admission_rejected_total{class=\"static\"} 1"),
            "{text}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_memory_budget_is_shared_and_a_job_bigger_than_it_runs_alone() {
        let mut limits = small();
        limits.static_jobs = 4;
        limits.analysis_jobs = 4;
        let a = admission(limits);
        // 60 of 100 MiB taken: a 40 MiB job of another class runs, a 50 MiB one is refused.
        let (first, release) = hold(&a, Class::Static, 60 * MIB).await;
        assert_eq!(a.memory_taken_mib(), 60);
        a.run(
            Class::Analysis,
            40 * MIB,
            later(),
            |_| Ok::<(), Refused>(()),
        )
        .await
        .expect("fits the budget");
        let big = a
            .run(
                Class::Analysis,
                50 * MIB,
                later(),
                |_| Ok::<(), Refused>(()),
            )
            .await;
        assert!(
            matches!(&big, Err(Refused::Busy { what, .. }) if what.contains("memory budget")),
            "{big:?}"
        );
        release.send(()).expect("job waits");
        first.await.expect("join").expect("first ran");
        // The refused job's retry runs (and ends the budget held back for it).
        a.run(
            Class::Analysis,
            50 * MIB,
            later(),
            |_| Ok::<(), Refused>(()),
        )
        .await
        .expect("the retry fits");
        // A job expecting more than the whole budget takes all of it, and runs alone.
        let (huge, release) = hold(&a, Class::Static, 10_000 * MIB).await;
        assert_eq!(a.memory_taken_mib(), 100);
        let small_one = a
            .run(Class::Static, MIB, later(), |_| Ok::<(), Refused>(()))
            .await;
        assert!(
            small_one.is_err(),
            "ran beside a job holding the whole budget"
        );
        release.send(()).expect("job waits");
        huge.await.expect("join").expect("huge ran");
        assert_eq!(a.memory_taken_mib(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_refused_for_memory_finds_its_room_when_it_retries() {
        let mut limits = small();
        limits.analysis_jobs = 4;
        limits.export_jobs = 4;
        let a = admission(limits);
        // An analysis holds 60 of 100 MiB: a 50 MiB static map is refused, and 50 MiB is held
        // back for its retry.
        let (analysis, release) = hold(&a, Class::Analysis, 60 * MIB).await;
        let big = a
            .run(Class::Static, 50 * MIB, later(), |_| Ok::<(), Refused>(()))
            .await;
        assert!(
            matches!(
                &big,
                Err(Refused::Busy {
                    class: Class::Static,
                    retry_after: 5,
                    ..
                })
            ),
            "{big:?}"
        );
        assert_eq!(a.memory_reserved_mib(), 50);
        // A 30 MiB export fits in the 40 MiB free, but would leave less than the 50 held back:
        // refused too (without the reservation it ran, and jobs like it kept the big one out
        // for good: BENCHMARKS.md section 13). Another analysis is refused the same way.
        for class in [Class::Export, Class::Analysis] {
            let small_job = a
                .run(class, 30 * MIB, later(), |_| Ok::<(), Refused>(()))
                .await;
            assert!(
                matches!(&small_job, Err(Refused::Busy { what, .. })
                    if what.contains("50 MiB held for a job refused before")),
                "{small_job:?}"
            );
        }
        // Tiles take no budget and still run.
        a.run(Class::Tile, MIB, later(), |_| Ok::<(), Refused>(()))
            .await
            .expect("tiles are outside the budget");
        // The analysis ends: the static map's retry finds its room, and ends the reservation.
        release.send(()).expect("job waits");
        analysis.await.expect("join").expect("analysis ran");
        let (big, release) = hold(&a, Class::Static, 50 * MIB).await;
        assert_eq!(a.memory_reserved_mib(), 0);
        // Smaller jobs run beside it again.
        a.run(Class::Export, 30 * MIB, later(), |_| Ok::<(), Refused>(()))
            .await
            .expect("fits beside the static map");
        release.send(()).expect("job waits");
        big.await.expect("join").expect("static map ran");
        assert_eq!(a.memory_taken_mib(), 0);
    }

    #[test]
    fn a_reservation_holds_back_budget_for_its_owner_until_it_starts_or_it_expires() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let (st, an) = (Class::Static, Class::Analysis);
        let mut r = Reserved::default();
        assert!(r.allows(an, 90, 90, t0));
        r.refused(st, 50, t0, t0 + 10 * s);
        assert_eq!(r.held(t0), 50);
        // Other jobs, smaller or larger, must leave 50 free.
        assert!(r.allows(an, 30, 80, t0));
        assert!(!r.allows(an, 30, 79, t0));
        assert!(!r.allows(Class::Export, 1, 40, t0));
        assert!(!r.allows(an, 70, 100, t0));
        assert!(
            !r.allows(st, 30, 40, t0),
            "another size of the class is another job"
        );
        // Its owner is not held back by it (the budget itself still bounds it).
        assert!(r.allows(st, 50, 50, t0));
        // Another refusal waits its turn; the owner's renews it.
        r.refused(an, 20, t0 + s, t0 + 11 * s);
        r.refused(an, 80, t0 + s, t0 + 11 * s);
        assert_eq!(r.in_force(t0 + s).map(|r| (r.class, r.mib)), Some((st, 50)));
        r.refused(st, 50, t0 + 2 * s, t0 + 12 * s);
        assert_eq!(r.in_force(t0 + 11 * s).map(|r| r.until), Some(t0 + 12 * s));
        // Another job starting leaves it; its owner starting ends it.
        r.started(an, 30, t0 + 3 * s);
        assert_eq!(r.held(t0 + 3 * s), 50);
        r.started(st, 50, t0 + 3 * s);
        assert_eq!(r.held(t0 + 3 * s), 0);
        assert!(r.allows(an, 30, 40, t0 + 3 * s));
        // Expired, it holds nothing back, and the next refusal reserves.
        r.refused(an, 60, t0, t0 + 5 * s);
        assert!(!r.allows(st, 30, 40, t0 + 4 * s));
        assert!(r.allows(st, 30, 40, t0 + 5 * s));
        assert_eq!(r.held(t0 + 5 * s), 0);
        r.refused(st, 20, t0 + 6 * s, t0 + 16 * s);
        assert_eq!(r.held(t0 + 6 * s), 20);
        r.started(an, 60, t0 + 20 * s);
        assert_eq!(
            r.0, None,
            "an expired reservation is dropped when a job starts"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tiles_and_uploads_wait_briefly_for_a_slot() {
        for class in [Class::Tile, Class::Upload] {
            let a = admission(small());
            let (first, release) = hold(&a, class, MIB).await;
            // Freed within the wait: the second tile runs.
            let r = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                release.send(())
            });
            a.run(class, MIB, later(), |_| Ok::<(), Refused>(()))
                .await
                .expect("admitted after a short wait");
            r.join().expect("thread").expect("sent");
            first.await.expect("join").expect("first ran");
            // Not freed within the wait: 503 after about the wait.
            let (first, release) = hold(&a, class, MIB).await;
            let start = Instant::now();
            let r = a.run(class, MIB, later(), |_| Ok::<(), Refused>(())).await;
            let waited = start.elapsed();
            assert!(matches!(r, Err(Refused::Busy { .. })), "{r:?}");
            assert!(waited >= Duration::from_millis(90), "{waited:?}");
            release.send(()).expect("job waits");
            first.await.expect("join").expect("first ran");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_request_or_a_past_deadline_cancels_its_job() {
        let a = admission(small());
        // The request future is dropped (as hyper does when the client goes, or the router's
        // timeout): the job sees its token trip and stops.
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let a2 = Arc::clone(&a);
        let request = tokio::spawn(async move {
            a2.run(Class::Analysis, MIB, later(), move |c| {
                let start = Instant::now();
                while !c.is_cancelled() {
                    if start.elapsed() > Duration::from_secs(20) {
                        return Err(Refused::Failed {
                            class: Class::Analysis,
                            cause: "never cancelled".into(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(1));
                }
                let _ = seen_tx.send(());
                Ok(())
            })
            .await
        });
        while a.running(Class::Analysis) == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        request.abort();
        tokio::task::spawn_blocking(move || seen_rx.recv_timeout(Duration::from_secs(5)))
            .await
            .expect("join")
            .expect("the job saw the cancel");
        for _ in 0..200 {
            if a.running(Class::Analysis) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(a.running(Class::Analysis), 0, "slot not freed");
        // A deadline in the past trips at once.
        let past = Instant::now();
        let r = a
            .run(Class::Analysis, MIB, past, |c| {
                Ok::<bool, Refused>(c.is_cancelled())
            })
            .await;
        assert!(matches!(r, Ok(true)), "{r:?}");
        let text = a.metrics.encode(crate::metrics::Format::Prometheus, &[]);
        assert!(
            text.contains("placemap_jobs_cancelled_total{class=\"analysis\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn defaults_follow_the_cores() {
        let two = Limits::for_cores(2);
        assert_eq!(
            (two.tile_jobs, two.static_jobs, two.analysis_jobs),
            (4, 1, 1)
        );
        let sixteen = Limits::for_cores(16);
        assert_eq!((sixteen.tile_jobs, sixteen.static_jobs), (32, 8));
        assert_eq!(Limits::for_cores(0).static_jobs, 1);
        // The budget does not grow with the cores: it bounds the process's memory.
        assert_eq!(two.memory_bytes, sixteen.memory_bytes);
    }
}
