// Twin of fail/interpreter_not_sync.rs: an interpreter is `Send`, and its `Model` is `Sync`.
fn shared<T: Sync>(_: &T) {}
fn sent<T: Send>(_: &T) {}

fn f(it: tflite::Interpreter) {
    sent(&it);
    shared(it.model());
}

fn main() {
    let _ = f;
}
