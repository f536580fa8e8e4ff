//! The user's program of `.ci/prebuilt`: classifies the 360 held-out digits with the float32
//! model and compares the probabilities with the ones Google's runtime wrote.
//! Usage: digits-app DIGITS_DIR   (examples/digits of this repository)

use tflite::{Interpreter, Model};

/// The data of a little-endian `.npy` file, its header skipped.
fn npy(path: &str) -> Vec<u8> {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let header = u16::from_le_bytes([b[8], b[9]]) as usize;
    b[10 + header..].to_vec()
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn main() -> tflite::Result<()> {
    let dir = std::env::args().nth(1).expect("usage: digits-app DIGITS_DIR");
    let images = f32s(&npy(&format!("{dir}/test_images.npy")));
    let want = f32s(&npy(&format!("{dir}/reference_float32.npy")));
    let labels: Vec<i64> = npy(&format!("{dir}/test_labels.npy"))
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let model = Model::from_file(format!("{dir}/digits_float32.tflite"))?;
    let mut it = Interpreter::builder(&model).build()?;
    assert!(it.has_delegate(), "XNNPACK was not applied");
    it.allocate_tensors()?;
    let (mut correct, mut worst) = (0, 0f32);
    for (k, image) in images.chunks_exact(64).enumerate() {
        it.input_mut(0)?.copy_from_slice(image)?;
        it.invoke()?;
        let p = it.output(0)?.data::<f32>()?;
        for (a, b) in p.iter().zip(&want[k * 10..k * 10 + 10]) {
            worst = worst.max((a - b).abs());
        }
        let best = (0..p.len()).max_by(|&i, &j| p[i].total_cmp(&p[j])).unwrap();
        correct += usize::from(best as i64 == labels[k]);
    }
    println!(
        "{correct}/{} digits right (Python: 355), max |diff| from Google's runtime {worst:e}",
        labels.len()
    );
    assert!(correct == 355 && worst <= 1e-5);
    Ok(())
}
