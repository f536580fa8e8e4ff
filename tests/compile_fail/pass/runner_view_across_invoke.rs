// Twin of fail/runner_view_across_invoke.rs: the view is last used before the invoke.
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let mut run = it.signature_runner("serving_default")?;
    let y = run.output("y")?.data::<f32>()?;
    println!("{y:?}");
    run.invoke()?;
    Ok(())
}

fn main() {
    let _ = f;
}
