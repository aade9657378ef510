//! Attachments on messages and runs (API.md v2, "Files, avatars and attachments"): the
//! files reach the model (images as images, text and PDF as their text; `echo` names them),
//! the stored user message lists them, foreign ids are refused naming `attachments[i]`
//! with nothing stored; and voice turns (`transcribe`, `speak`) end to end with the offline
//! speech: speech → upload → a transcribed turn → a spoken reply that transcribes back.

use agentry_tests::samples::{self, PNG};
use agentry_tests::{TestApp, TestUser, assert_problem, field_names};
use serde_json::{Value, json};

use super::{chat, events, messages};
use crate::agents::create_agent;
use crate::files::{FILES, upload_ok};

/// The first [`samples::PDF`] characters echo repeats: all of its text.
const PDF_NOTE: &str = "[file report.pdf: Quarterly revenue grew 42 percent]";

/// Uploads the three kinds a model reads: an image, a text file and a PDF.
async fn three_files(app: &TestApp, user: &TestUser) -> (Value, Value, Value) {
    let png = upload_ok(app, user, "cat.png", PNG, "attachment").await;
    let txt = upload_ok(app, user, "notes.txt", b"Buy milk.\nCall Bob.", "attachment").await;
    let pdf = upload_ok(app, user, "report.pdf", samples::PDF, "attachment").await;
    (png, txt, pdf)
}

/// How many messages the database holds in all.
async fn stored_messages(app: &TestApp) -> i64 {
    use sea_orm::ConnectionTrait;
    let row = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) FROM messages",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn attached_files_reach_the_model_and_are_listed_on_the_user_message() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (png, txt, pdf) = three_files(&app, &ada).await;
    let body = json!({"content": "look", "attachments": [png["id"], txt["id"], pdf["id"]]});
    let reply = chat(&app, &ada, body).await;
    assert_eq!(
        reply["content"],
        format!("echo: look [image cat.png (image/png)] [file notes.txt: Buy milk.\nCall Bob.] {PDF_NOTE}")
    );
    assert_eq!(reply["attachments"], json!([]), "the reply has no files");

    let conversation = reply["conversation_id"].as_str().unwrap();
    let listed = messages(&app, &ada, conversation).await;
    assert_eq!(listed[0]["role"], "user");
    assert_eq!(listed[0]["content"], "look");
    assert_eq!(
        listed[0]["attachments"],
        json!([png, txt, pdf]),
        "whole Files, in order"
    );
    assert_eq!(listed[1], reply);

    // The stream's `message.created` carries them too.
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let res = app
        .post_as(
            &ada,
            &path,
            &json!({"content": "again", "attachments": [pdf["id"]], "stream": true}),
        )
        .send()
        .await
        .unwrap();
    let events = events(res).await;
    assert_eq!(events[0].0, "message.created");
    assert_eq!(events[0].1["attachments"], json!([pdf]));
    assert_eq!(events.last().unwrap().1["content"], format!("echo: again {PDF_NOTE}"));

    // A deleted file drops out of the messages that listed it.
    let res = app
        .delete_as(&ada, &format!("{FILES}/{}", txt["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let listed = messages(&app, &ada, conversation).await;
    assert_eq!(listed[0]["attachments"], json!([png, pdf]));
}

#[tokio::test]
async fn a_run_reads_its_attachments_and_lists_their_ids() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let agent = create_agent(&app, &ada, json!({"name": "reader", "model": "echo-1"})).await;
    let (png, _, pdf) = three_files(&app, &ada).await;
    let path = format!("/api/v1/agents/{}/execute", agent["id"].as_str().unwrap());
    let body = json!({"input": "summarise", "attachments": [pdf["id"], png["id"]]});
    let res = app.post_as(&ada, &path, &body).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let started: Value = res.json().await.unwrap();
    assert_eq!(started["attachments"], json!([pdf["id"], png["id"]]));
    let id = started["id"].as_str().unwrap();
    let done = loop {
        let execution = app.get_ok(&ada, &format!("/api/v1/executions/{id}")).await;
        if execution["status"] == "completed" {
            break execution;
        }
        assert!(
            ["queued", "running"].contains(&execution["status"].as_str().unwrap()),
            "{execution}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        done["output"],
        format!("echo: summarise {PDF_NOTE} [image cat.png (image/png)]")
    );
}

#[tokio::test]
async fn foreign_unknown_or_too_many_attachments_are_422_naming_the_index_and_store_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let mine = upload_ok(&app, &ada, "cat.png", PNG, "attachment").await;
    let bobs = upload_ok(&app, &bob, "dog.png", PNG, "attachment").await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let cases = [
        (
            json!([mine["id"], bobs["id"]]),
            "attachments[1]",
            bobs["id"].as_str().unwrap().to_owned(),
        ),
        (json!([unknown]), "attachments[0]", unknown.clone()),
        (json!(vec![mine["id"].clone(); 17]), "attachments", String::new()),
    ];
    for (attachments, field, id) in cases {
        let body = json!({"content": "look", "attachments": attachments});
        let problem = assert_problem(
            app.post_as(&ada, "/api/v1/chat/messages", &body).send().await.unwrap(),
            422,
        )
        .await;
        assert_eq!(field_names(&problem), [field], "{problem}");
        assert!(
            problem["errors"][0]["message"].as_str().unwrap().contains(&id),
            "{problem}"
        );
    }
    let agent = create_agent(&app, &ada, json!({"name": "reader", "model": "echo-1"})).await;
    let path = format!("/api/v1/agents/{}/execute", agent["id"].as_str().unwrap());
    let body = json!({"input": "x", "attachments": [bobs["id"]]});
    let problem = assert_problem(app.post_as(&ada, &path, &body).send().await.unwrap(), 422).await;
    assert_eq!(field_names(&problem), ["attachments[0]"]);

    // Nothing stored: no conversation, no message, no run.
    let conversations = app.get_ok(&ada, "/api/v1/conversations").await;
    assert_eq!(conversations["total"], 0);
    assert_eq!(stored_messages(&app).await, 0);
    let runs = app.get_ok(&ada, "/api/v1/executions").await;
    assert_eq!(runs["items"], json!([]));
}

/// The WAV echo speaks for `text`, uploaded as `ada`'s file.
async fn spoken_file(app: &TestApp, user: &TestUser, text: &str) -> Value {
    let res = app
        .post_as(user, "/api/v1/audio/speech", &json!({"text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let wav = res.bytes().await.unwrap();
    upload_ok(app, user, "question.wav", &wav, "attachment").await
}

#[tokio::test]
async fn a_voice_turn_is_transcribed_and_its_reply_spoken_back() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let question = spoken_file(&app, &ada, "What time is it in Tōkyō?").await;
    let first = chat(&app, &ada, json!({"content": "hi"})).await;
    let conversation = first["conversation_id"].as_str().unwrap();
    let path = format!("/api/v1/conversations/{conversation}/messages");
    let body = json!({"transcribe": true, "speak": true, "attachments": [question["id"]]});
    let res = app.post_as(&ada, &path, &body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["content"], "echo: What time is it in Tōkyō?");

    // The user message is the transcript, with the audio attached.
    let listed = messages(&app, &ada, conversation).await;
    assert_eq!(listed[2]["content"], "What time is it in Tōkyō?");
    assert_eq!(listed[2]["attachments"], json!([question]));

    // The reply carries its spoken copy: an audio file of ada's, which transcribes back.
    let spoken = reply["attachments"].as_array().unwrap();
    assert_eq!(spoken.len(), 1, "{reply}");
    let audio = &spoken[0];
    assert_eq!(audio["content_type"], "audio/wav");
    assert_eq!(audio["owner_id"], ada.id.to_string());
    assert_eq!(
        audio["filename"],
        format!("reply-{}.wav", reply["execution_id"].as_str().unwrap())
    );
    assert_eq!(listed[3], reply);
    let back = app
        .post_as(&ada, "/api/v1/audio/transcriptions", &json!({"file_id": audio["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 200);
    let back: Value = back.json().await.unwrap();
    assert_eq!(back["text"], "echo: What time is it in Tōkyō?");
    // It is an ordinary file of ada's: listed and downloadable.
    let files = app.get_ok(&ada, FILES).await;
    assert!(files["items"].as_array().unwrap().contains(audio), "{files}");
}

#[tokio::test]
async fn bad_voice_turns_are_422_naming_the_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let question = spoken_file(&app, &ada, "hello").await;
    let noise = upload_ok(&app, &ada, "noise.wav", &samples::wav(8000), "attachment").await;
    let png = upload_ok(&app, &ada, "cat.png", PNG, "attachment").await;
    let cases = [
        (
            json!({"transcribe": true, "content": "hi", "attachments": [question["id"]]}),
            "content",
        ),
        (json!({"transcribe": true, "attachments": [png["id"]]}), "attachments"),
        (json!({"transcribe": true}), "attachments"),
        (
            json!({"transcribe": true, "attachments": [png["id"], noise["id"]]}),
            "attachments[1]",
        ),
        (json!({"attachments": [question["id"]]}), "content"),
        (json!({"content": "hi", "transcribe": "yes"}), "transcribe"),
        (json!({"content": "hi", "speak": 1}), "speak"),
        (
            json!({"content": "hi", "attachments": ["not-a-uuid"]}),
            "attachments[0]",
        ),
        (json!({"content": "hi", "attachments": "x"}), "attachments"),
        (
            json!({"content": "hi\u{0}", "transcribe": false, "attachments": [png["id"]]}),
            "content",
        ),
    ];
    for (body, field) in cases {
        let res = app.post_as(&ada, "/api/v1/chat/messages", &body).send().await.unwrap();
        let problem = assert_problem(res, 422).await;
        assert_eq!(field_names(&problem), [field], "{body}: {problem}");
    }
    let conversations = app.get_ok(&ada, "/api/v1/conversations").await;
    assert_eq!(conversations["total"], 0);
    assert_eq!(stored_messages(&app).await, 0);
}
