//! `Pool`: bounded, lazily filled, first come first served, no lock held while running, no
//! deadlock when an inference errors or panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;
use tflite::{Error, Interpreter, Model, Pool};

fn add_mul() -> Model {
    // y = x * 3 + 1.5, x: f32[1, 8]
    Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tflite-sys/tests/data/add_mul.tflite"
    ))
    .unwrap()
}

fn ready(m: &Model) -> tflite::Result<Interpreter> {
    let mut it = Interpreter::new(m)?;
    it.allocate_tensors()?;
    Ok(it)
}

fn infer(it: &mut Interpreter, x: f32) -> tflite::Result<f32> {
    it.input_mut(0)?.copy_from_slice(&[x; 8])?;
    it.invoke()?;
    Ok(it.output(0)?.data::<f32>()?[0])
}

#[test]
fn many_threads_share_a_bounded_pool() {
    let pool = Pool::new(&add_mul(), 3, ready);
    let inside = AtomicUsize::new(0);
    let most = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..12 {
            let (pool, inside, most) = (&pool, &inside, &most);
            s.spawn(move || {
                for k in 0..50 {
                    let x = (t * 100 + k) as f32;
                    let y = pool
                        .run(|it| {
                            let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(n, Ordering::SeqCst);
                            let y = infer(it, x);
                            inside.fetch_sub(1, Ordering::SeqCst);
                            y
                        })
                        .unwrap();
                    assert_eq!(y, x * 3.0 + 1.5);
                }
            });
        }
    });
    assert!(most.load(Ordering::SeqCst) <= 3);
    assert!(pool.created() <= 3, "{} interpreters made", pool.created());
    fn send_sync<T: Send + Sync>(_: &T) {}
    send_sync(&pool);
}

#[test]
fn no_lock_is_held_while_an_interpreter_runs() {
    // Two users must be inside at once: with a lock held across `run`, this would hang.
    let pool = Pool::new(&add_mul(), 2, ready);
    let both = Barrier::new(2);
    std::thread::scope(|s| {
        for t in 0..2 {
            let (pool, both) = (&pool, &both);
            s.spawn(move || {
                pool.run(|it| {
                    both.wait();
                    infer(it, t as f32)
                })
                .unwrap();
            });
        }
    });
    assert_eq!(pool.created(), 2);
}

#[test]
fn waiting_threads_are_served_in_arrival_order() {
    let pool = Pool::new(&add_mul(), 1, ready);
    let order = Mutex::new(Vec::new());
    let held = pool.get().unwrap();
    std::thread::scope(|s| {
        for t in 0..5 {
            let (pool, order) = (&pool, &order);
            s.spawn(move || {
                let _it = pool.get().unwrap();
                order.lock().unwrap().push(t);
            });
            // Let thread t queue up before the next one arrives.
            std::thread::sleep(Duration::from_millis(30));
        }
        drop(held);
    });
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn errors_and_panics_do_not_jam_the_pool() {
    let pool = Arc::new(Pool::new(&add_mul(), 1, ready));
    // An inference error: the interpreter goes back and serves the next caller.
    let e = pool
        .run(|it| it.input_mut(0)?.copy_from_slice(&[0f32; 3]))
        .unwrap_err();
    assert!(matches!(e, Error::LengthMismatch { .. }));
    assert_eq!(pool.run(|it| infer(it, 1.0)).unwrap(), 4.5);
    // A panic while holding one: that interpreter is dropped, a new one is made.
    let p = Arc::clone(&pool);
    let panicked = std::thread::spawn(move || {
        p.run(|_| -> tflite::Result<()> { panic!("user code panicked") })
    })
    .join();
    assert!(panicked.is_err());
    assert_eq!(pool.run(|it| infer(it, 2.0)).unwrap(), 7.5);
    assert_eq!(pool.created(), 2);
}

#[test]
fn a_failing_factory_is_an_error_and_frees_its_place() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let pool = Pool::new(&add_mul(), 1, move |m| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Err(Error::CustomOp("first build fails".into()))
        } else {
            ready(m)
        }
    });
    assert!(matches!(pool.get(), Err(Error::CustomOp(_))));
    assert_eq!(pool.run(|it| infer(it, 0.0)).unwrap(), 1.5);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
