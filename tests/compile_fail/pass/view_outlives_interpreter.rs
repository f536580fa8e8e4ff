// Twin of fail/view_outlives_interpreter.rs: a copy of the data outlives the interpreter.
fn f(model: &tflite::Model) -> tflite::Result<()> {
    let view = {
        let it = tflite::Interpreter::new(model)?;
        it.output(0)?.data::<f32>()?.to_vec()
    };
    println!("{view:?}");
    Ok(())
}

fn main() {
    let _ = f;
}
