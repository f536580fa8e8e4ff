//! [`Pool`]: interpreters over one model, shared by many threads (a server's request handlers).

use crate::error::Result;
use crate::ffi;
use crate::interpreter::Interpreter;
use crate::model::Model;
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::thread::Thread;

type Factory = dyn Fn(&Model) -> Result<Interpreter> + Send + Sync;

/// A bounded, lazily filled pool of interpreters over one [`Model`]; `Send + Sync`, so one pool
/// serves every thread (put it in an `Arc` or a `static`).
///
/// [`get`](Self::get) hands out an interpreter in a [`Pooled`] guard, waiting while all `max`
/// are in use; threads are served first come, first served. No lock is held while the
/// interpreter runs; the guard gives it back when dropped. An interpreter whose user panicked
/// is dropped rather than reused (its inputs may be half written), and a new one is made when
/// needed; an inference error leaves it in the pool (TFLite interpreters stay usable).
///
/// ```
/// # fn main() -> tflite::Result<()> {
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
/// let model = tflite::Model::from_file(path)?;
/// let pool = tflite::Pool::new(&model, 2, |m| {
///     let mut it = tflite::Interpreter::builder(m).num_threads(1).build()?;
///     it.allocate_tensors()?;
///     Ok(it)
/// });
/// std::thread::scope(|s| {
///     for k in 0..8 {
///         let pool = &pool;
///         s.spawn(move || {
///             let y = pool.run(|it| {
///                 it.input_mut(0)?.copy_from_slice(&[k as f32; 8])?;
///                 it.invoke()?;
///                 it.output(0)?.to_vec::<f32>()
///             });
///             assert_eq!(y.unwrap()[0], k as f32 * 3.0 + 1.5);
///         });
///     }
/// });
/// assert!(pool.created() <= 2);
/// # Ok(()) }
/// ```
pub struct Pool {
    model: Model,
    make: Box<Factory>,
    max: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    idle: Vec<Interpreter>,
    /// Interpreters in existence (idle, handed out, or being made).
    live: usize,
    /// The threads waiting, in arrival order (woken one at a time: no thundering herd).
    queue: VecDeque<(u64, Thread)>,
    next_ticket: u64,
    created: usize,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.lock();
        f.debug_struct("Pool")
            .field("model", &self.model)
            .field("max", &self.max)
            .field("live", &s.live)
            .field("idle", &s.idle.len())
            .finish()
    }
}

impl Pool {
    /// A pool of at most `max` (at least 1) interpreters over `model`, each made by `make` when
    /// first needed (typically: a builder with its options, then `allocate_tensors`).
    pub fn new(
        model: &Model,
        max: usize,
        make: impl Fn(&Model) -> Result<Interpreter> + Send + Sync + 'static,
    ) -> Pool {
        Pool {
            model: model.clone(),
            make: Box::new(make),
            max: max.max(1),
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        ffi::lock(&self.state)
    }

    /// An interpreter for the calling thread: an idle one, a new one while fewer than `max`
    /// exist, or else the next one given back (first come, first served). An error of the
    /// factory is returned (and the place it would have taken is free again).
    pub fn get(&self) -> Result<Pooled<'_>> {
        let mut s = self.lock();
        let ticket = s.next_ticket;
        s.next_ticket += 1;
        s.queue.push_back((ticket, std::thread::current()));
        loop {
            let first = s.queue.front().map(|w| w.0) == Some(ticket);
            if first && (!s.idle.is_empty() || s.live < self.max) {
                break;
            }
            drop(s);
            // Woken by `give_back` or by the waiter before us; a spurious wake-up re-checks.
            std::thread::park();
            s = self.lock();
        }
        s.queue.pop_front();
        let idle = s.idle.pop();
        if idle.is_none() {
            s.live += 1;
        }
        // The next in line may be servable too (more idle interpreters, or room to make one).
        self.wake_next(&s);
        drop(s);
        let it = match idle {
            Some(it) => it,
            None => match (self.make)(&self.model) {
                Ok(it) => {
                    self.lock().created += 1;
                    it
                }
                Err(e) => {
                    let mut s = self.lock();
                    s.live -= 1;
                    self.wake_next(&s);
                    return Err(e);
                }
            },
        };
        Ok(Pooled {
            pool: self,
            it: Some(it),
        })
    }

    /// Wakes the first waiting thread if it can be served.
    fn wake_next(&self, s: &State) {
        if let Some((_, thread)) = s.queue.front() {
            if !s.idle.is_empty() || s.live < self.max {
                thread.unpark();
            }
        }
    }

    /// Runs `f` with an interpreter of the pool (see [`get`](Self::get)).
    pub fn run<R>(&self, f: impl FnOnce(&mut Interpreter) -> Result<R>) -> Result<R> {
        let mut it = self.get()?;
        f(&mut it)
    }

    /// The model the pool runs.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The most interpreters the pool makes.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many interpreters the pool has made so far (more than `max` only if some were
    /// dropped after a panic and replaced).
    pub fn created(&self) -> usize {
        self.lock().created
    }

    fn give_back(&self, it: Interpreter) {
        let mut s = self.lock();
        let dropped = if std::thread::panicking() {
            s.live -= 1;
            Some(it)
        } else {
            s.idle.push(it);
            None
        };
        self.wake_next(&s);
        drop(s);
        drop(dropped);
    }
}

/// An interpreter checked out of a [`Pool`]; dereferences to [`Interpreter`] and goes back to
/// the pool when dropped.
pub struct Pooled<'p> {
    pool: &'p Pool,
    it: Option<Interpreter>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Interpreter;
    fn deref(&self) -> &Interpreter {
        self.it.as_ref().expect("present until drop")
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Interpreter {
        self.it.as_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(it) = self.it.take() {
            self.pool.give_back(it);
        }
    }
}

impl std::fmt::Debug for Pooled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pooled").field(&self.it).finish()
    }
}
