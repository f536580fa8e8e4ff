// A writable view borrows its owner mutably: one at a time.
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let mut a = it.input_mut(0)?;
    let b = it.input_mut(1)?; // error: `it` is already borrowed mutably by `a`
    a.copy_from_slice(&[0f32])?;
    drop(b);
    Ok(())
}

fn main() {
    let _ = f;
}
