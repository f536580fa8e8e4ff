// Twin of fail/view_across_invoke.rs: the view is last used before the invoke.
fn f(mut it: tflite::Interpreter) -> tflite::Result<()> {
    let out = it.output(0)?.data::<f32>()?;
    println!("{out:?}");
    it.invoke()?;
    Ok(())
}

fn main() {
    let _ = f;
}
