// Twin of fail/two_writable_views.rs: the first view is last used before the second is taken.
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let mut a = it.input_mut(0)?;
    a.copy_from_slice(&[0f32])?;
    let b = it.input_mut(1)?;
    drop(b);
    Ok(())
}

fn main() {
    let _ = f;
}
