// Twin of fail/interpreter_used_while_runner_alive.rs: the runner is dropped before the
// interpreter is used (it has a destructor, so it lives to the end of its scope otherwise).
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let mut run = it.signature_runner("serving_default")?;
    run.invoke()?;
    drop(run);
    it.invoke()?;
    Ok(())
}

fn main() {
    let _ = f;
}
