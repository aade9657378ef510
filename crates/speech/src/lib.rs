//! Speech: text-to-speech (`POST /api/v1/audio/speech`) and speech-to-text
//! (`POST /api/v1/audio/transcriptions`) through one of three providers:
//!
//! - `echo`, offline and always available: a stand-in like the `echo` LLM. Its speech is a
//!   valid WAV of tones that encode the text (see [`echo`]), and its transcriber decodes
//!   exactly such audio back into the text, so a voice round trip works with no key;
//! - `openai`: any OpenAI-compatible audio API (`/audio/speech`, `/audio/transcriptions`);
//! - `elevenlabs`: ElevenLabs' text-to-speech and speech-to-text.
//!
//! [`SpeechService`] picks the provider and enforces the limits; (feature `http`) the routes.

pub mod audio;
pub mod config;
pub mod echo;
pub mod error;
mod providers;
pub mod schemas;
pub mod service;

#[cfg(feature = "http")]
pub mod router;

pub use audio::{AudioUpload, SpokenAudio};
pub use config::SpeechConfig;
pub use error::SpeechError;
pub use schemas::{AudioFormat, ProviderName, SpeechRequest, Transcription, TranscriptionOfFile};
pub use service::SpeechService;
