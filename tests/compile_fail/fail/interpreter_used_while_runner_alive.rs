// A signature runner borrows its interpreter mutably: the interpreter is unusable while the
// runner is alive.
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let mut run = it.signature_runner("serving_default")?;
    it.invoke()?; // error: `it` is mutably borrowed by `run`
    run.invoke()?;
    Ok(())
}

fn main() {
    let _ = f;
}
