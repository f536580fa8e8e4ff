//! The server's routes through the router (no network): answers, and the status code of each
//! kind of bad request.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tflite_serve::{app, Config};
use tower::ServiceExt;

const DIGITS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../digits/digits_float32.tflite"
);

fn router(config: Config) -> axum::Router {
    app(&tflite::Model::from_file(DIGITS).unwrap(), &config).unwrap()
}

async fn call(
    r: &axum::Router,
    method: &str,
    path: &str,
    kind: &str,
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", kind)
        .body(Body::from(body))
        .unwrap();
    let resp = r.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    (
        status,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

/// Google's runtime's probabilities for the first held-out digit, and that image.
fn first_image() -> (Vec<f32>, Vec<f32>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../digits/");
    let read = |f: &str| -> Vec<f32> {
        npyz::NpyFile::new(&std::fs::read(format!("{dir}{f}")).unwrap()[..])
            .unwrap()
            .into_vec()
            .unwrap()
    };
    let images = read("test_images.npy");
    let want = read("reference_float32.npy");
    (images[..64].to_vec(), want[..10].to_vec())
}

#[tokio::test]
async fn json_and_npy_predictions_match_googles_runtime() {
    let r = router(Config::default());
    let (image, want) = first_image();
    // JSON, inputs by position.
    let (status, body) = call(
        &r,
        "POST",
        "/v1/predict",
        "application/json",
        json!({ "inputs": [image] }).to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    let got: Vec<f32> = v["outputs"][0]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(v["outputs"][0]["shape"], json!([1, 10]));
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
    }
    // JSON, inputs by name.
    let meta: Value =
        serde_json::from_slice(&call(&r, "GET", "/v1/model", "", vec![]).await.1).unwrap();
    let name = meta["inputs"][0]["name"].as_str().unwrap().to_string();
    let (status, _) = call(
        &r,
        "POST",
        "/v1/predict",
        "application/json",
        json!({ "inputs": { name: image } })
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // .npy in, .npy out.
    let mut npy = std::io::Cursor::new(Vec::new());
    {
        use npyz::WriterBuilder;
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&[1, 8, 8, 1])
            .writer(&mut npy)
            .begin_nd()
            .unwrap();
        w.extend(image.iter().copied()).unwrap();
        w.finish().unwrap();
    }
    let (status, body) = call(
        &r,
        "POST",
        "/v1/predict",
        "application/x-npy",
        npy.into_inner(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let out = npyz::NpyFile::new(&body[..]).unwrap();
    assert_eq!(out.shape(), [1, 10]);
    let got: Vec<f32> = out.into_vec().unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-5);
    }
}

#[tokio::test]
async fn bad_requests_get_the_right_status() {
    let r = router(Config {
        max_body: 4096,
        ..Config::default()
    });
    let post = |kind: &'static str, body: Vec<u8>| {
        let r = r.clone();
        async move { call(&r, "POST", "/v1/predict", kind, body).await.0 }
    };
    let zeros = |n: usize| json!({ "inputs": [vec![0.0; n]] }).to_string().into_bytes();
    assert_eq!(
        post("application/json", b"{not json".to_vec()).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post("application/json", b"{\"x\": 1}".to_vec()).await,
        StatusCode::BAD_REQUEST
    );
    // Wrong length, wrong count, wrong element type, unknown name.
    assert_eq!(
        post("application/json", zeros(63)).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(
            "application/json",
            json!({ "inputs": [] }).to_string().into_bytes()
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let mut strings = vec![json!(0.0); 64];
    strings[5] = json!("five");
    assert_eq!(
        post(
            "application/json",
            json!({ "inputs": [strings] }).to_string().into_bytes()
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(
            "application/json",
            json!({ "inputs": { "nope": [0.0] } })
                .to_string()
                .into_bytes()
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // .npy of the wrong dtype or shape, or not .npy at all.
    let npy = |shape: &[u64], int: bool| {
        use npyz::WriterBuilder;
        let mut c = std::io::Cursor::new(Vec::new());
        let n = shape.iter().product::<u64>() as usize;
        if int {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(shape)
                .writer(&mut c)
                .begin_nd()
                .unwrap();
            w.extend(vec![0i32; n]).unwrap();
            w.finish().unwrap();
        } else {
            let mut w = npyz::WriteOptions::new()
                .default_dtype()
                .shape(shape)
                .writer(&mut c)
                .begin_nd()
                .unwrap();
            w.extend(vec![0f32; n]).unwrap();
            w.finish().unwrap();
        }
        c.into_inner()
    };
    assert_eq!(
        post("application/x-npy", npy(&[1, 8, 8, 1], true)).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post("application/x-npy", npy(&[1, 64], false)).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post("application/x-npy", b"not npy".to_vec()).await,
        StatusCode::BAD_REQUEST
    );
    // Too big, wrong content type, wrong path or method.
    assert_eq!(
        post("application/json", zeros(4000)).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(
        post("text/plain", zeros(64)).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        call(&r, "POST", "/v2/predict", "application/json", zeros(64))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&r, "GET", "/v1/predict", "", vec![]).await.0,
        StatusCode::METHOD_NOT_ALLOWED
    );
    // And the server still answers.
    assert_eq!(post("application/json", zeros(64)).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_share_the_pool() {
    let r = router(Config {
        pool: 2,
        ..Config::default()
    });
    let (image, want) = first_image();
    let body = json!({ "inputs": [image] }).to_string();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (r, body) = (r.clone(), body.clone());
            tokio::spawn(async move {
                call(
                    &r,
                    "POST",
                    "/v1/predict",
                    "application/json",
                    body.into_bytes(),
                )
                .await
            })
        })
        .collect();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK);
        let v: Value = serde_json::from_slice(&body).unwrap();
        let first = v["outputs"][0]["data"][0].as_f64().unwrap() as f32;
        assert!((first - want[0]).abs() < 1e-5);
    }
}

#[tokio::test]
async fn an_inference_over_its_deadline_is_a_gateway_timeout() {
    // A 1 ns deadline on a batch of 256 (milliseconds of work): the watchdog cancels the invoke
    // while it runs (the invoke could win the race on a loaded machine: a few attempts).
    let encoder = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/compat/encoder_block.float32.tflite"
    );
    let r = app(
        &tflite::Model::from_file(encoder).unwrap(),
        &Config {
            timeout: std::time::Duration::from_nanos(1),
            ..Config::default()
        },
    )
    .unwrap();
    let body = json!({ "inputs": [vec![0.5; 8 * 16]] }).to_string();
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let (status, body) = call(
            &r,
            "POST",
            "/v1/predict",
            "application/json",
            body.clone().into_bytes(),
        )
        .await;
        if status == StatusCode::GATEWAY_TIMEOUT {
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert!(v["error"]
                .as_str()
                .unwrap()
                .contains("did not finish within"));
            return;
        }
        statuses.push(status);
    }
    panic!("no deadline hit in 10 attempts: {statuses:?}");
}
