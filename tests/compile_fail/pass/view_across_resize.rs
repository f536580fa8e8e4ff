// Twin of fail/view_across_resize.rs: the view is last used before the resize.
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let x = it.input(0)?;
    println!("{:?}", x.shape());
    it.resize_input(0, &[2, 8])?;
    Ok(())
}

fn main() {
    let _ = f;
}
