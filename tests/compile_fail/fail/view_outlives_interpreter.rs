// A view's data cannot outlive its interpreter.
fn f(model: &tflite::Model) -> tflite::Result<()> {
    let view = {
        let it = tflite::Interpreter::new(model)?;
        it.output(0)?.data::<f32>()? // error: `it` does not live long enough
    };
    println!("{view:?}");
    Ok(())
}

fn main() {
    let _ = f;
}
