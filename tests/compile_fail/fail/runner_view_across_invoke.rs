// A signature runner's view cannot be held across the runner's invoke.
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let mut run = it.signature_runner("serving_default")?;
    let y = run.output("y")?.data::<f32>()?;
    run.invoke()?; // error: `run` is borrowed by `y`
    println!("{y:?}");
    Ok(())
}

fn main() {
    let _ = f;
}
