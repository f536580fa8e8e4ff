// Inside a custom op, no output view survives a resize of the node's outputs.
fn f(ctx: &mut tflite::custom_op::OpContext<'_>) -> tflite::custom_op::OpResult {
    let y = ctx.output(0)?;
    ctx.resize_output(0, &[4])?; // error: `ctx` is borrowed by `y`
    drop(y);
    Ok(())
}

fn main() {
    let _ = f;
}
