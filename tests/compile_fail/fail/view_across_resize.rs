// No view survives a resize (it needs `&mut`).
fn f(it: &mut tflite::Interpreter) -> tflite::Result<()> {
    let x = it.input(0)?;
    it.resize_input(0, &[2, 8])?; // error: `it` is borrowed by `x`
    println!("{:?}", x.shape());
    Ok(())
}

fn main() {
    let _ = f;
}
