//! Speech through a fake OpenAI-compatible audio API and a fake ElevenLabs: the exact
//! requests that reach them (path, headers, JSON or multipart fields), our answers, the
//! choice of provider, and upstream failures as `502`/`504`.

use std::time::Duration;

use agentry_tests::{TestApp, assert_problem, field_names};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{audio_form, speak, transcribe};

/// Bytes that begin like an MP3 (an ID3 tag) and say where they came from.
const MP3: &[u8] = b"ID3\x04\0\0\0\0\0\0fake mp3 from upstream";
/// A tiny WAV: 4 samples of 16-bit mono at 8 kHz (0.5 ms).
fn tiny_wav() -> Vec<u8> {
    let mut wav =
        b"RIFF\x2c\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\x08\0\0\0".to_vec();
    wav.extend_from_slice(&[1, 0, 2, 0, 3, 0, 4, 0]);
    wav
}

/// One part of a recorded multipart body.
#[derive(Debug, PartialEq)]
struct FormPart {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// The parts of a recorded `multipart/form-data` request.
fn form_parts(request: &wiremock::Request) -> Vec<FormPart> {
    let content_type = request.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("multipart/form-data; boundary="),
        "{content_type}"
    );
    let boundary = format!("--{}", content_type.split("boundary=").nth(1).unwrap());
    let body = &request.body;
    let mut marks = Vec::new();
    let mut from = 0;
    while let Some(at) = body[from..]
        .windows(boundary.len())
        .position(|w| w == boundary.as_bytes())
    {
        marks.push(from + at);
        from += at + boundary.len();
    }
    marks
        .windows(2)
        .map(|pair| {
            let part = &body[pair[0] + boundary.len() + 2..pair[1] - 2];
            let split = part.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
            let head = std::str::from_utf8(&part[..split]).unwrap();
            let param = |key: &str| {
                head.split(';')
                    .map(str::trim)
                    .find_map(|p| p.strip_prefix(&format!("{key}=\"")))
                    .map(|v| v.split('"').next().unwrap().to_owned())
            };
            let content_type = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-type: ").map(str::to_owned));
            FormPart {
                name: param("name").unwrap(),
                filename: head
                    .split("filename=\"")
                    .nth(1)
                    .map(|v| v.split('"').next().unwrap().to_owned()),
                content_type,
                body: part[split + 4..].to_vec(),
            }
        })
        .collect()
}

/// A server whose `openai` speech is `server` (key `sk-test`), adjusted by `adjust`.
async fn openai_app(server: &MockServer, adjust: impl FnOnce(&mut api_server::Config)) -> TestApp {
    let uri = format!("{}/v1", server.uri());
    TestApp::spawn_with(|c| {
        c.openai_base_url = Some(uri);
        c.openai_api_key = Some("sk-test".into());
        adjust(c);
    })
    .await
}

/// A server whose `elevenlabs` speech is `server` (key `el-test`).
async fn elevenlabs_app(server: &MockServer, adjust: impl FnOnce(&mut api_server::Config)) -> TestApp {
    let uri = server.uri();
    TestApp::spawn_with(|c| {
        c.elevenlabs_base_url = Some(uri);
        c.elevenlabs_api_key = Some("el-test".into());
        adjust(c);
    })
    .await
}

#[tokio::test]
async fn openai_speech_sends_the_model_voice_and_format_and_streams_the_audio_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(MP3, "audio/mpeg"))
        .mount(&server)
        .await;
    let app = openai_app(&server, |c| c.speech_openai_tts_model = Some("tts-test".into())).await;
    let ada = app.register("ada").await;

    // openai is configured, so it is the default; mp3 is the default format.
    let res = speak(&app, &ada, json!({"text": "Hallo, Welt — 你好"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "audio/mpeg");
    assert_eq!(res.headers()["content-disposition"], "inline; filename=\"speech.mp3\"");
    assert_eq!(res.bytes().await.unwrap(), MP3);
    for (format, content_type) in [("wav", "audio/wav"), ("opus", "audio/ogg; codecs=opus")] {
        let res = speak(
            &app,
            &ada,
            json!({"text": "hi", "voice": "nova", "format": format, "provider": "openai"}),
        )
        .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], content_type);
    }
    // echo stays available by name.
    let res = speak(&app, &ada, json!({"text": "offline", "provider": "echo"})).await;
    assert_eq!(res.headers()["content-type"], "audio/wav");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.url.path(), "/v1/audio/speech");
        assert_eq!(request.headers["authorization"], "Bearer sk-test");
        assert_eq!(request.headers["content-type"], "application/json");
    }
    let bodies: Vec<Value> = requests.iter().map(|r| r.body_json().unwrap()).collect();
    assert_eq!(
        bodies[0],
        json!({"model": "tts-test", "input": "Hallo, Welt — 你好", "voice": "alloy", "response_format": "mp3"})
    );
    assert_eq!(
        bodies[1],
        json!({"model": "tts-test", "input": "hi", "voice": "nova", "response_format": "wav"})
    );
    assert_eq!(bodies[2]["response_format"], "opus");
}

#[tokio::test]
async fn openai_transcription_sends_the_file_as_multipart_and_answers_text_language_and_duration() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/transcriptions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"task": "transcribe", "language": "english", "duration": 2.5, "text": "Hello there.", "segments": []}),
        ))
        .mount(&server)
        .await;
    let app = openai_app(&server, |_| {}).await;
    let ada = app.register("ada").await;

    let wav = tiny_wav();
    let res = transcribe(
        &app,
        &ada,
        audio_form(wav.clone(), "hello.wav", "application/octet-stream"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"text": "Hello there.", "language": "english", "duration_s": 2.5})
    );
    let res = transcribe(
        &app,
        &ada,
        audio_form(MP3.to_vec(), "../../etc/passwd", "audio/wav").text("language", "en"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["language"],
        "en",
        "the caller's language wins"
    );

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].url.path(), "/v1/audio/transcriptions");
    assert_eq!(requests[0].headers["authorization"], "Bearer sk-test");
    let file = |name: &str, content_type: &str, body: &[u8]| FormPart {
        name: "file".into(),
        filename: Some(name.into()),
        content_type: Some(content_type.into()),
        body: body.to_vec(),
    };
    let text = |name: &str, value: &str| FormPart {
        name: name.into(),
        filename: None,
        content_type: None,
        body: value.as_bytes().to_vec(),
    };
    assert_eq!(
        form_parts(&requests[0]),
        [
            text("model", "whisper-1"),
            text("response_format", "verbose_json"),
            file("hello.wav", "audio/wav", &wav)
        ]
    );
    assert_eq!(
        form_parts(&requests[1]),
        [
            text("model", "whisper-1"),
            text("response_format", "verbose_json"),
            text("language", "en"),
            file("audio.mp3", "audio/mpeg", MP3)
        ],
        "the type comes from the bytes, and an unsafe file name is replaced"
    );
}

#[tokio::test]
async fn elevenlabs_speech_and_transcription_send_what_its_api_documents() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/text-to-speech/voice%2Fwith%20space"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(b"OggS\0\x02opus".to_vec(), "audio/ogg"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(MP3, "audio/mpeg"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/speech-to-text"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "language_code": "deu", "language_probability": 0.98, "text": "Guten Tag.",
            "words": [{"text": "Guten", "start": 0.1, "end": 0.5, "type": "word"},
                      {"text": " ", "start": 0.5, "end": 0.55, "type": "spacing"},
                      {"text": "Tag.", "start": 0.55, "end": 1.25, "type": "word"}]
        })))
        .mount(&server)
        .await;
    let app = elevenlabs_app(&server, |_| {}).await;
    let ada = app.register("ada").await;

    let res = speak(&app, &ada, json!({"text": "Guten Tag"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "audio/mpeg");
    assert_eq!(res.bytes().await.unwrap(), MP3);
    let res = speak(
        &app,
        &ada,
        json!({"text": "hi", "voice": "voice/with space", "format": "opus"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "audio/ogg; codecs=opus");
    assert_eq!(res.bytes().await.unwrap(), &b"OggS\0\x02opus"[..]);
    let wav = tiny_wav();
    let res = transcribe(&app, &ada, audio_form(wav.clone(), "tag.wav", "audio/wav")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"text": "Guten Tag.", "language": "deu", "duration_s": 1.25})
    );
    let res = transcribe(
        &app,
        &ada,
        audio_form(wav.clone(), "tag.wav", "audio/wav").text("language", "de"),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap()["language"], "de");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4);
    for request in &requests {
        assert_eq!(request.headers["xi-api-key"], "el-test");
        assert!(request.headers.get("authorization").is_none());
    }
    assert_eq!(requests[0].url.path(), "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb");
    assert_eq!(requests[0].url.query(), Some("output_format=mp3_44100_128"));
    assert_eq!(
        requests[0].body_json::<Value>().unwrap(),
        json!({"text": "Guten Tag", "model_id": "eleven_multilingual_v2"})
    );
    assert_eq!(requests[1].url.query(), Some("output_format=opus_48000_64"));
    let names = |r: &wiremock::Request| form_parts(r).into_iter().map(|p| (p.name, p.body)).collect::<Vec<_>>();
    assert_eq!(requests[2].url.path(), "/v1/speech-to-text");
    assert_eq!(
        names(&requests[2]),
        [
            ("model_id".to_owned(), b"scribe_v2".to_vec()),
            ("file".to_owned(), wav.clone())
        ]
    );
    assert_eq!(form_parts(&requests[2])[1].filename.as_deref(), Some("tag.wav"));
    assert_eq!(
        names(&requests[3]),
        [
            ("model_id".to_owned(), b"scribe_v2".to_vec()),
            ("language_code".to_owned(), b"de".to_vec()),
            ("file".to_owned(), wav)
        ]
    );
}

#[tokio::test]
async fn the_provider_is_the_named_one_else_the_configured_default_else_openai_before_elevenlabs() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(MP3, "audio/mpeg"))
        .mount(&server)
        .await;
    let both = |c: &mut api_server::Config| {
        c.elevenlabs_base_url = Some(server.uri());
        c.elevenlabs_api_key = Some("el-test".into());
    };
    let app = openai_app(&server, both).await;
    let ada = app.register("ada").await;
    for (body, expected) in [
        (json!({"text": "a"}), "/v1/audio/speech"),
        (
            json!({"text": "b", "provider": "elevenlabs"}),
            "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb",
        ),
        (json!({"text": "c", "provider": "openai"}), "/v1/audio/speech"),
    ] {
        assert_eq!(speak(&app, &ada, body).await.status(), 200);
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.last().unwrap().url.path(), expected);
    }
    drop(app);
    let app = openai_app(&server, |c| {
        both(c);
        c.speech_default_provider = Some("elevenlabs".into());
    })
    .await;
    let ada = app.register("ada").await;
    assert_eq!(speak(&app, &ada, json!({"text": "d"})).await.status(), 200);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.last().unwrap().url.path(),
        "/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb"
    );
    // echo is the default only of a server without remote providers; by name it always answers.
    assert_eq!(
        speak(&app, &ada, json!({"text": "e", "provider": "echo"}))
            .await
            .headers()["content-type"],
        "audio/wav"
    );
    let problem = assert_problem(
        speak(&app, &ada, json!({"text": "e", "voice": "alloy", "provider": "echo"})).await,
        422,
    )
    .await;
    assert_eq!(field_names(&problem), ["voice"]);
}

#[tokio::test]
async fn upstream_failures_are_502_and_slowness_504_without_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/speech"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"message": "Incorrect API key provided: sk-test", "type": "invalid_request_error"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/audio/transcriptions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(3))
                .set_body_json(json!({"text": "late"})),
        )
        .mount(&server)
        .await;
    let app = openai_app(&server, |c| c.speech_timeout_secs = 1).await;
    let ada = app.register("ada").await;

    let problem = assert_problem(speak(&app, &ada, json!({"text": "hi"})).await, 502).await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("openai") && detail.contains("401") && detail.contains("Incorrect API key"),
        "{detail}"
    );
    assert!(!detail.contains("sk-test"), "the key is blanked: {detail}");
    let started = std::time::Instant::now();
    let problem = assert_problem(
        transcribe(&app, &ada, audio_form(tiny_wav(), "a.wav", "audio/wav")).await,
        504,
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(3), "gave up at the timeout");
    assert!(problem["detail"].as_str().unwrap().contains("openai"), "{problem}");

    // An unreachable provider, and one that answers with more audio than allowed.
    let closed = MockServer::start().await;
    let closed_uri = closed.uri();
    drop(closed);
    let app = TestApp::spawn_with(|c| {
        c.elevenlabs_api_key = Some("k".into());
        c.elevenlabs_base_url = Some(closed_uri);
    })
    .await;
    let ada = app.register("ada").await;
    assert_problem(speak(&app, &ada, json!({"text": "hi"})).await, 502).await;

    let big = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![7_u8; 70 * 1024], "audio/mpeg"))
        .mount(&big)
        .await;
    let app = openai_app(&big, |c| c.speech_max_audio_bytes = 64 * 1024).await;
    let ada = app.register("ada").await;
    let problem = assert_problem(speak(&app, &ada, json!({"text": "hi"})).await, 502).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("more than 65536 bytes"),
        "{problem}"
    );
}
