//! The offline `echo` speech provider, a stand-in like the `echo` LLM: no model, no key.
//!
//! Its speech is a real WAV (16-bit mono PCM at 16 kHz) of dual tones that encode the
//! text's UTF-8 bytes ([`codec`]): it plays anywhere and sounds like a modem. Its
//! transcriber reads such a WAV back (also after resampling to another multiple of 100 Hz,
//! re-encoding as float, 24-bit or stereo, or trimming the leading silence) and gives the
//! exact text; any other audio is a `422` naming the file. Voices: `tone` (default) and
//! `soft` (the same tones, quieter).

mod codec;
mod wav;

use bytes::Bytes;
use futures_util::stream;

use crate::audio::{AudioKind, AudioUpload, SpokenAudio};
use crate::{AudioFormat, SpeechError, Transcription};

/// The voices of `echo`, the default first.
pub const ECHO_VOICES: [&str; 2] = ["tone", "soft"];
/// The sample rate echo speaks at.
pub const ECHO_SAMPLE_RATE: u32 = 16_000;
/// Silence before and after the tones, in symbols (50 ms).
const QUIET_SYMBOLS: usize = 5;
/// Symbols rendered per streamed chunk (one second of audio).
const SYMBOLS_PER_CHUNK: usize = 100;

/// The offline speech provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoSpeech;

impl EchoSpeech {
    /// The WAV of `text` in `voice` (`tone` when `None`); `format` must be `wav`.
    pub fn speak(&self, text: &str, voice: Option<&str>, format: AudioFormat) -> Result<SpokenAudio, SpeechError> {
        let gain = match voice.unwrap_or(ECHO_VOICES[0]) {
            "tone" => 0.35,
            "soft" => 0.12,
            other => {
                return Err(SpeechError::invalid(
                    "voice",
                    format!("`{other}` is not a voice of the echo provider: use `tone` or `soft`"),
                ));
            }
        };
        if format != AudioFormat::Wav {
            return Err(SpeechError::invalid(
                "format",
                format!(
                    "the echo provider writes only `wav`, not `{}`: ask for `wav` or use another provider",
                    format.as_str()
                ),
            ));
        }
        let synth = Synth::new(codec::encode(text), ECHO_SAMPLE_RATE, gain);
        let samples = synth.total_samples();
        let samples_u32 = u32::try_from(samples).map_err(|_| SpeechError::invalid("text", "is too long to speak"))?;
        let header = Bytes::copy_from_slice(&wav::header(ECHO_SAMPLE_RATE, samples_u32));
        let chunks = stream::unfold(
            synth,
            |mut synth| async move { synth.next_chunk().map(|c| (Ok(c), synth)) },
        );
        Ok(SpokenAudio {
            format: AudioFormat::Wav,
            length: Some((wav::HEADER_BYTES + samples * 2) as u64),
            body: Box::pin(futures_util::StreamExt::chain(
                stream::once(async { Ok(header) }),
                chunks,
            )),
        })
    }

    /// The text of an echo WAV; `language` is passed through (echo detects none).
    pub async fn transcribe(
        &self,
        audio: &AudioUpload,
        language: Option<String>,
    ) -> Result<Transcription, SpeechError> {
        let refuse = |why: String| {
            SpeechError::invalid(
                "file",
                format!("is not audio made by the echo speech provider ({why}); echo transcribes only its own speech"),
            )
        };
        if audio.kind != AudioKind::Wav {
            return Err(refuse(format!("it is {}, not WAV", audio.kind.content_type())));
        }
        let bytes = audio.bytes.clone();
        let decoded = tokio::task::spawn_blocking(move || {
            let (samples, rate) = wav::read_mono(&bytes).map_err(|e| format!("unreadable WAV: {e}"))?;
            let duration = samples.len() as f64 / f64::from(rate.max(1));
            codec::decode(&samples, rate)
                .map(|text| (text, duration))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| SpeechError::upstream("echo", format!("the decoder stopped: {e}")))?;
        let (text, duration) = decoded.map_err(refuse)?;
        Ok(Transcription {
            text,
            language,
            duration_s: Some((duration * 1000.0).round() / 1000.0),
        })
    }
}

/// Renders symbols as 16-bit PCM, a chunk at a time, with continuous phase per tone group
/// (no clicks between symbols), a fade-in on the first and a fade-out on the last symbol.
struct Synth {
    symbols: Vec<codec::Symbol>,
    rate: u32,
    gain: f64,
    /// Next position, in symbols, counting the leading silence.
    at: usize,
    phase_low: f64,
    phase_high: f64,
}

impl Synth {
    fn new(symbols: Vec<codec::Symbol>, rate: u32, gain: f64) -> Self {
        Self {
            symbols,
            rate,
            gain,
            at: 0,
            phase_low: 0.0,
            phase_high: 0.0,
        }
    }

    fn symbol_len(&self) -> usize {
        (self.rate / codec::SYMBOL_RATE) as usize
    }

    fn total_symbols(&self) -> usize {
        QUIET_SYMBOLS + self.symbols.len() + QUIET_SYMBOLS
    }

    fn total_samples(&self) -> usize {
        self.total_symbols() * self.symbol_len()
    }

    /// The next chunk of PCM bytes, or `None` at the end.
    fn next_chunk(&mut self) -> Option<Bytes> {
        let end = (self.at + SYMBOLS_PER_CHUNK).min(self.total_symbols());
        if self.at >= end {
            return None;
        }
        let n = self.symbol_len();
        let mut out = Vec::with_capacity((end - self.at) * n * 2);
        let step = std::f64::consts::TAU / f64::from(self.rate);
        for position in self.at..end {
            let Some(index) = position.checked_sub(QUIET_SYMBOLS).filter(|i| *i < self.symbols.len()) else {
                out.resize(out.len() + n * 2, 0);
                continue;
            };
            let symbol = self.symbols[index];
            let last = self.symbols.len() - 1;
            for k in 0..n {
                let progress = k as f64 / n as f64;
                let envelope = match index {
                    0 => (progress * 4.0).min(1.0),
                    i if i == last => 1.0 - progress,
                    _ => 1.0,
                };
                let value = self.gain * envelope * (self.phase_low.sin() + self.phase_high.sin());
                self.phase_low = (self.phase_low + step * f64::from(symbol.low)) % std::f64::consts::TAU;
                self.phase_high = (self.phase_high + step * f64::from(symbol.high)) % std::f64::consts::TAU;
                let sample = (value * f64::from(i16::MAX))
                    .round()
                    .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
                out.extend_from_slice(&sample.to_le_bytes());
            }
        }
        self.at = end;
        Some(Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    async fn spoken(text: &str, voice: Option<&str>) -> Vec<u8> {
        let audio = EchoSpeech.speak(text, voice, AudioFormat::Wav).unwrap();
        let length = audio.length.unwrap();
        let bytes: Vec<u8> = audio.body.map(|c| c.unwrap().to_vec()).concat().await;
        assert_eq!(bytes.len() as u64, length, "the announced length is exact");
        bytes
    }

    async fn heard(bytes: Vec<u8>) -> Result<Transcription, SpeechError> {
        let upload = AudioUpload::new("file", Bytes::from(bytes), None)?;
        EchoSpeech.transcribe(&upload, None).await
    }

    #[tokio::test]
    async fn speech_is_a_wav_that_transcribes_back_to_the_text() {
        for (text, voice) in [("Hello, world.", None), ("Grüße aus Köln — 你好 🎙️", Some("soft"))] {
            let wav = spoken(text, voice).await;
            let reader = hound::WavReader::new(std::io::Cursor::new(&wav)).unwrap();
            assert_eq!(reader.spec().sample_rate, ECHO_SAMPLE_RATE);
            let heard = heard(wav).await.unwrap();
            assert_eq!(heard.text, text);
            let symbols = 2 * QUIET_SYMBOLS + text.len() + 4 + 4 + 3;
            assert_eq!(heard.duration_s, Some(symbols as f64 / 100.0));
        }
    }

    #[tokio::test]
    async fn speech_survives_resampling_bit_depth_stereo_and_trimmed_silence() {
        let text = "round trip ✓";
        let wav = spoken(text, None).await;
        let (mono, _) = wav::read_mono(&wav).unwrap();
        // 48 kHz stereo float by plain linear interpolation, the leading silence cut.
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        let start = QUIET_SYMBOLS * 160;
        for i in start * 3..mono.len() * 3 - 3 {
            let (j, frac) = (i / 3, (i % 3) as f32 / 3.0);
            let value = 0.8 * (mono[j] * (1.0 - frac) + mono[j + 1] * frac);
            writer.write_sample(value).unwrap();
            writer.write_sample(value).unwrap();
        }
        writer.finalize().unwrap();
        assert_eq!(heard(cursor.into_inner()).await.unwrap().text, text);
    }

    #[tokio::test]
    async fn echo_refuses_other_voices_formats_and_audio() {
        let err = EchoSpeech.speak("hi", Some("alloy"), AudioFormat::Wav).unwrap_err();
        assert!(
            matches!(err, SpeechError::Invalid(ref e) if e[0].field == "voice"),
            "{err:?}"
        );
        let err = EchoSpeech.speak("hi", None, AudioFormat::Mp3).unwrap_err();
        assert!(
            matches!(err, SpeechError::Invalid(ref e) if e[0].field == "format"),
            "{err:?}"
        );
        let mut noise = wav::header(16_000, 1600).to_vec();
        noise.extend((0..3200).map(|i| (i * 7919 % 251) as u8));
        let err = heard(noise).await.unwrap_err();
        assert!(
            matches!(err, SpeechError::Invalid(ref e) if e[0].field == "file"),
            "{err:?}"
        );
        let err = heard(b"OggS\0\x02 not a wav".to_vec()).await.unwrap_err();
        assert!(
            matches!(err, SpeechError::Invalid(ref e) if e[0].message.contains("not WAV")),
            "{err:?}"
        );
    }
}
