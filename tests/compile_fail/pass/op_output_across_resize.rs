// Twin of fail/op_output_across_resize.rs: the view is dropped before the resize.
fn f(ctx: &mut tflite::custom_op::OpContext<'_>) -> tflite::custom_op::OpResult {
    let y = ctx.output(0)?;
    drop(y);
    ctx.resize_output(0, &[4])?;
    Ok(())
}

fn main() {
    let _ = f;
}
