//! `/api/v1/audio`: the offline `echo` round trip (speech → transcription gives the text
//! back), the shape of the audio, and bad input naming the field or part.

mod providers;

use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// POSTs `body` to `/audio/speech` as `user`.
pub(crate) async fn speak(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.post_as(user, "/api/v1/audio/speech", &body).send().await.unwrap()
}

/// POSTs `form` to `/audio/transcriptions` as `user`.
pub(crate) async fn transcribe(app: &TestApp, user: &TestUser, form: Form) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/v1/audio/transcriptions")
        .bearer_auth(&user.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A form with `bytes` as part `file` (named `name`, sent as `content_type`).
pub(crate) fn audio_form(bytes: Vec<u8>, name: &str, content_type: &str) -> Form {
    Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(content_type)
            .unwrap(),
    )
}

/// The WAV echo speaks for `text` (asserting the answer's headers and the WAV's header).
async fn echo_wav(app: &TestApp, user: &TestUser, body: Value) -> Vec<u8> {
    let res = speak(app, user, body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "audio/wav");
    assert_eq!(res.headers()["content-disposition"], "inline; filename=\"speech.wav\"");
    let length: usize = res.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let wav = res.bytes().await.unwrap().to_vec();
    assert_eq!(wav.len(), length);
    assert_eq!(&wav[0..4], b"RIFF");
    assert_eq!(
        u32::from_le_bytes(wav[4..8].try_into().unwrap()) as usize,
        wav.len() - 8
    );
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    let u16_at = |at: usize| u16::from_le_bytes(wav[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(wav[at..at + 4].try_into().unwrap());
    assert_eq!(
        (u16_at(20), u16_at(22), u32_at(24), u16_at(34)),
        (1, 1, 16_000, 16),
        "PCM, mono, 16 kHz, 16-bit"
    );
    assert_eq!(&wav[36..40], b"data");
    assert_eq!(u32_at(40) as usize, wav.len() - 44);
    assert!(wav[44..].chunks(2).any(|s| s != [0, 0]), "not silence");
    wav
}

#[tokio::test]
async fn echo_speech_is_a_wav_that_echo_transcription_turns_back_into_the_text() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let texts = [
        ("Hello from Agentry!".to_owned(), None, None),
        (
            "Grüße aus Köln — 你好，世界 🎧\nzweite Zeile".to_owned(),
            Some("soft"),
            Some("de"),
        ),
        ("é".repeat(4096), Some("tone"), None),
    ];
    for (text, voice, language) in texts {
        let mut body = json!({"text": text});
        if let Some(voice) = voice {
            body["voice"] = json!(voice);
        }
        let wav = echo_wav(&app, &ada, body).await;
        let mut form = audio_form(wav.clone(), "speech.wav", "audio/wav");
        if let Some(language) = language {
            form = form.text("language", language);
        }
        let res = transcribe(&app, &ada, form).await;
        assert_eq!(res.status(), 200);
        let heard: Value = res.json().await.unwrap();
        assert_eq!(heard["text"], text.as_str());
        assert_eq!(heard["language"], json!(language));
        let seconds = (wav.len() - 44) as f64 / 2.0 / 16_000.0;
        assert_eq!(heard["duration_s"].as_f64().unwrap(), seconds);
    }

    // An upload larger than BODY_LIMIT_BYTES is not held to it by an Idempotency-Key:
    // transcriptions take none (their bodies stream), so the key is ignored.
    let long = "ü".repeat(4096);
    let wav = echo_wav(&app, &ada, json!({"text": long})).await;
    assert!(wav.len() > 2 * 1024 * 1024);
    for _ in 0..2 {
        let res = app
            .request(reqwest::Method::POST, "/api/v1/audio/transcriptions")
            .bearer_auth(&ada.access_token)
            .header("idempotency-key", "transcribe-once")
            .multipart(audio_form(wav.clone(), "long.wav", "audio/wav"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("idempotent-replayed").is_none());
        assert_eq!(res.json::<Value>().await.unwrap()["text"], long.as_str());
    }

    // The same text in the same voice is the same audio; another voice is other audio
    // that says the same; `format: "wav"` and `provider: "echo"` may be given.
    let a = echo_wav(&app, &ada, json!({"text": "same"})).await;
    let b = echo_wav(&app, &ada, json!({"text": "same", "format": "wav", "provider": "echo"})).await;
    let soft = echo_wav(&app, &ada, json!({"text": "same", "voice": "soft"})).await;
    assert_eq!(a, b);
    assert_ne!(a, soft);
    // The client's Content-Type and file name do not matter: the bytes say it is a WAV.
    let res = transcribe(
        &app,
        &ada,
        audio_form(soft, "note.txt", "text/plain").text("provider", "echo"),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["text"], "same");
}

#[tokio::test]
async fn bad_speech_requests_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let cases = [
        (json!({"text": ""}), "text"),
        (json!({"text": "x".repeat(4097)}), "text"),
        (json!({"text": "ü".repeat(4097)}), "text"),
        (json!({}), "text"),
        (json!({"text": 42}), "text"),
        (json!({"text": "hi", "format": "flac"}), "format"),
        (json!({"text": "hi", "format": "mp3"}), "format"),
        (json!({"text": "hi", "format": "opus", "provider": "echo"}), "format"),
        (json!({"text": "hi", "voice": "alloy"}), "voice"),
        (json!({"text": "hi", "voice": ""}), "voice"),
        (json!({"text": "hi", "voice": "v".repeat(129)}), "voice"),
        (json!({"text": "hi", "provider": "whisper"}), "provider"),
        (json!({"text": "hi", "provider": "openai"}), "provider"),
        (json!({"text": "hi", "provider": "elevenlabs"}), "provider"),
        (json!({"text": "hi\u{0}"}), "text"),
        (json!({"text": "hi", "speed": 2}), "speed"),
    ];
    for (body, field) in cases {
        let problem = assert_problem(speak(&app, &ada, body.clone()).await, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}");
    }
    let problem = assert_problem(
        speak(&app, &ada, json!({"text": "hi", "provider": "openai"})).await,
        422,
    )
    .await;
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("configured: echo"),
        "{problem}"
    );
    let res = app
        .request(reqwest::Method::POST, "/api/v1/audio/speech")
        .bearer_auth(&ada.access_token)
        .body("text=hi")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let res = app
        .request(reqwest::Method::POST, "/api/v1/audio/speech")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
}

/// A multipart body by hand: `parts` as (name, file name, bytes), then `tail` raw bytes.
fn raw_form(boundary: &str, parts: &[(&str, Option<&str>, &[u8])], close: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(filename) = filename {
            body.extend_from_slice(format!("; filename=\"{filename}\"\r\nContent-Type: audio/wav").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    if close {
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    }
    body
}

async fn post_raw(app: &TestApp, user: &TestUser, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/v1/audio/transcriptions")
        .bearer_auth(&user.access_token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_transcriptions_are_4xx_naming_the_part() {
    let app = TestApp::spawn_with(|c| c.speech_max_audio_bytes = 64 * 1024).await;
    let ada = app.register("ada").await;
    let wav = echo_wav(&app, &ada, json!({"text": "ok"})).await;
    let mut noise = wav[..44].to_vec();
    noise.extend((0..wav.len() - 44).map(|i| (i * 7919 % 251) as u8));
    let cases: Vec<(Form, &str)> = vec![
        (Form::new().text("language", "en"), "file"),
        (audio_form(Vec::new(), "empty.wav", "audio/wav"), "file"),
        (
            audio_form(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), "photo.wav", "audio/wav"),
            "file",
        ),
        (
            audio_form(b"#!/bin/sh\nrm -rf /\n".to_vec(), "song.mp3", "audio/mpeg"),
            "file",
        ),
        (audio_form(noise, "noise.wav", "audio/wav"), "file"),
        (audio_form(b"OggS\0\x02not echo".to_vec(), "a.ogg", "audio/ogg"), "file"),
        (
            audio_form(wav.clone(), "a.wav", "audio/wav").text("language", "en_US"),
            "language",
        ),
        (
            audio_form(wav.clone(), "a.wav", "audio/wav").text("language", "x".repeat(65)),
            "language",
        ),
        (
            audio_form(wav.clone(), "a.wav", "audio/wav").text("provider", "whisper"),
            "provider",
        ),
        (
            audio_form(wav.clone(), "a.wav", "audio/wav").text("provider", "openai"),
            "provider",
        ),
        (
            audio_form(wav.clone(), "a.wav", "audio/wav").text("model", "whisper-1"),
            "model",
        ),
        (
            audio_form(wav.clone(), "a.wav", "audio/wav").part("file", Part::bytes(wav.clone()).file_name("b.wav")),
            "file",
        ),
    ];
    for (i, (form, field)) in cases.into_iter().enumerate() {
        let problem = assert_problem(transcribe(&app, &ada, form).await, 422).await;
        assert_eq!(field_names(&problem), [field], "case {i}: {problem}");
    }

    // A body cut off inside the audio, or before any part, names `file`; inside `language`, `language`.
    let boundary = "XyZboundary";
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let whole = raw_form(boundary, &[("file", Some("a.wav"), &wav)], true);
    let res = post_raw(&app, &ada, &content_type, whole.clone()).await;
    assert_eq!(res.status(), 200, "the hand-made form is readable");
    let two = raw_form(
        boundary,
        &[("file", Some("a.wav"), &wav), ("language", None, b"en")],
        false,
    );
    let language_at = two.windows(15).position(|w| w == b"name=\"language\"").unwrap();
    let cut_inside_language = two[..language_at + 15 + 4 + 1].to_vec();
    for (body, field) in [
        (whole[..whole.len() / 2].to_vec(), "file"),
        (whole[..20].to_vec(), "file"),
        (Vec::new(), "file"),
        (cut_inside_language, "language"),
    ] {
        let problem = assert_problem(post_raw(&app, &ada, &content_type, body).await, 422).await;
        assert_eq!(field_names(&problem), [field], "{problem}");
    }

    // Over SPEECH_MAX_AUDIO_BYTES: 413, whether the length is declared or found while reading.
    let big = [wav.clone(), vec![0; 64 * 1024]].concat();
    assert_problem(
        transcribe(&app, &ada, audio_form(big.clone(), "big.wav", "audio/wav")).await,
        413,
    )
    .await;
    let form = raw_form(boundary, &[("file", Some("big.wav"), &big)], true);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = form.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    let res = app
        .request(reqwest::Method::POST, "/api/v1/audio/transcriptions")
        .bearer_auth(&ada.access_token)
        .header("content-type", &content_type)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_problem(res, 413).await;

    // Neither multipart nor JSON, or no login.
    let res = app
        .request(reqwest::Method::POST, "/api/v1/audio/transcriptions")
        .bearer_auth(&ada.access_token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_problem(res, 415).await;
    let res = app
        .request(reqwest::Method::POST, "/api/v1/audio/transcriptions")
        .multipart(audio_form(wav, "a.wav", "audio/wav"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401).await;
}

#[tokio::test]
async fn an_uploaded_audio_file_is_transcribed_by_its_id_and_only_for_its_owner() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let text = "Gespeichert und wieder gelesen — ok ✓";
    let wav = echo_wav(&app, &ada, json!({"text": text})).await;
    let file = crate::files::upload_ok(&app, &ada, "memo.wav", &wav, "attachment").await;
    assert_eq!(file["content_type"], "audio/wav");
    let by_id = |user: &TestUser, body: Value| app.post_as(user, "/api/v1/audio/transcriptions", &body).send();

    let res = by_id(
        &ada,
        json!({"file_id": file["id"], "language": "de", "provider": "echo"}),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let heard: Value = res.json().await.unwrap();
    assert_eq!(heard["text"], text);
    assert_eq!(heard["language"], "de");
    assert!(heard["duration_s"].as_f64().unwrap() > 0.0);

    let note = crate::files::upload_ok(&app, &ada, "note.txt", b"just text, no audio", "attachment").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let cases = [
        (&bob, json!({"file_id": file["id"]}), "file_id"),
        (&ada, json!({"file_id": unknown}), "file_id"),
        (&ada, json!({"file_id": note["id"]}), "file_id"),
        (&ada, json!({"file_id": "not-a-uuid"}), "file_id"),
        (&ada, json!({}), "file_id"),
        (&ada, json!({"file_id": file["id"], "language": "en_US"}), "language"),
        (&ada, json!({"file_id": file["id"], "provider": "openai"}), "provider"),
        (&ada, json!({"file_id": file["id"], "format": "wav"}), "format"),
    ];
    for (user, body, field) in cases {
        let problem = assert_problem(by_id(user, body.clone()).await.unwrap(), 422).await;
        assert_eq!(field_names(&problem), [field], "{body}");
        let id = body["file_id"].as_str().filter(|id| uuid::Uuid::parse_str(id).is_ok());
        if let Some(id) = id.filter(|_| field == "file_id") {
            assert!(
                problem["errors"][0]["message"].as_str().unwrap().contains(id),
                "names the id: {problem}"
            );
        }
    }

    // A stored file over SPEECH_MAX_AUDIO_BYTES is refused by its id too.
    let small = TestApp::spawn_with(|c| c.speech_max_audio_bytes = 1024).await;
    let ada = small.register("ada").await;
    let file = crate::files::upload_ok(&small, &ada, "memo.wav", &wav, "attachment").await;
    let res = small
        .post_as(&ada, "/api/v1/audio/transcriptions", &json!({"file_id": file["id"]}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(res, 422).await;
    assert_eq!(field_names(&problem), ["file_id"]);
    assert!(
        problem["detail"].as_str().unwrap().contains("larger than 1024 bytes"),
        "{problem}"
    );
}
