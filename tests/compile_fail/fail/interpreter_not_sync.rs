// An interpreter is not `Sync`: share the `Model`, not the interpreter.
fn shared<T: Sync>(_: &T) {}

fn f(it: tflite::Interpreter) {
    shared(&it); // error: `Interpreter` cannot be shared between threads
}

fn main() {
    let _ = f;
}
