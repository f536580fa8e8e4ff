// A tensor view borrows the interpreter; `invoke` takes `&mut self`: no view across an invoke.
fn f(mut it: tflite::Interpreter) -> tflite::Result<()> {
    let out = it.output(0)?.data::<f32>()?;
    it.invoke()?; // error: `it` is borrowed by `out`
    println!("{out:?}");
    Ok(())
}

fn main() {
    let _ = f;
}
