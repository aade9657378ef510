//! The echo tone code: text as a sequence of dual-tone symbols, and back.
//!
//! Each symbol lasts 10 ms and sounds two sine tones at once, one from a low group and one
//! from a high group; every tone is a multiple of 100 Hz, so it makes a whole number of
//! cycles in a symbol and the tones are orthogonal over a symbol at any sample rate that is
//! a multiple of 100 Hz (a file resampled to 44.1 or 48 kHz still decodes). A frame is:
//!
//! ```text
//! sync A, sync B, length (4 bytes, big-endian), UTF-8 bytes, check (first 4 bytes of their SHA-256), tail
//! ```
//!
//! one byte per symbol: the high nibble picks the low tone (600 + 100·n Hz), the low nibble
//! the high tone (2400 + 100·n Hz). The sync symbols use tones outside both data sets, so a
//! decoder finds where the frame starts (even with leading silence trimmed) and refuses
//! audio that is not an echo frame; the check refuses a damaged one.

use sha2::{Digest, Sha256};

/// Symbols per second (each lasts 10 ms).
pub(crate) const SYMBOL_RATE: u32 = 100;
/// The lowest tone of the low group, in Hz.
const LOW_BASE_HZ: u32 = 600;
/// The lowest tone of the high group, in Hz.
const HIGH_BASE_HZ: u32 = 2400;
/// The spacing of tones, in Hz: one cycle per symbol.
const STEP_HZ: u32 = SYMBOL_RATE;
/// The two symbols that open a frame, and the first of which also closes it (low, high Hz).
const SYNC: [Symbol; 2] = [Symbol { low: 400, high: 2200 }, Symbol { low: 500, high: 2300 }];
/// Bytes of the check that ends a frame.
const CHECK_BYTES: usize = 4;
/// Bytes of the length that opens a frame.
const LENGTH_BYTES: usize = 4;
/// The longest text a frame may claim, in bytes.
const MAX_PAYLOAD: usize = 1 << 20;
/// The lowest sample rate the decoder reads: the highest tone (3900 Hz) stays below Nyquist.
pub(crate) const MIN_SAMPLE_RATE: u32 = 8_000;

/// One symbol: the frequencies of its two tones, in Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Symbol {
    /// The tone of the low group.
    pub low: u32,
    /// The tone of the high group.
    pub high: u32,
}

impl Symbol {
    fn of_byte(byte: u8) -> Self {
        Self {
            low: LOW_BASE_HZ + STEP_HZ * u32::from(byte >> 4),
            high: HIGH_BASE_HZ + STEP_HZ * u32::from(byte & 0x0F),
        }
    }
}

/// The symbols of a frame carrying `text`: sync, length, bytes, check, tail.
pub(crate) fn encode(text: &str) -> Vec<Symbol> {
    let bytes = text.as_bytes();
    let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes();
    let check = check_of(bytes);
    let mut symbols = Vec::with_capacity(bytes.len() + LENGTH_BYTES + CHECK_BYTES + 3);
    symbols.extend(SYNC);
    symbols.extend(length.iter().chain(bytes).chain(&check).copied().map(Symbol::of_byte));
    symbols.push(SYNC[0]);
    symbols
}

fn check_of(bytes: &[u8]) -> [u8; CHECK_BYTES] {
    let digest = Sha256::digest(bytes);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Why audio is not an echo frame.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum DecodeError {
    /// The sample rate cannot carry the tones, or is not a multiple of 100 Hz.
    #[error(
        "its sample rate ({0} Hz) is not one the echo tones can be read at (a multiple of 100 Hz, at least 8000 Hz)"
    )]
    SampleRate(u32),
    /// Nothing but silence.
    #[error("it is silent")]
    Silent,
    /// No frame start where the sound begins.
    #[error("it does not begin with the echo sync tones")]
    NoSync,
    /// A symbol that is not a data symbol where data belongs.
    #[error("it holds a tone that is not an echo data tone at {0:.2} s")]
    BadSymbol(f64),
    /// The frame ends before its length said it would.
    #[error("it ends before the text it announces")]
    Truncated,
    /// The check does not match the bytes.
    #[error("its check does not match: the audio was altered")]
    CheckMismatch,
    /// The bytes are not UTF-8.
    #[error("the text it carries is not UTF-8")]
    NotUtf8,
}

/// The tone detector of one sample rate: Goertzel filters for every candidate tone.
struct Detector {
    rate: u32,
    len: usize,
    low: Vec<(u32, f64)>,
    high: Vec<(u32, f64)>,
}

impl Detector {
    fn new(rate: u32) -> Self {
        let coefficient = |hz: u32| {
            (
                hz,
                2.0 * (2.0 * std::f64::consts::PI * f64::from(hz) / f64::from(rate)).cos(),
            )
        };
        let group = |sync: [u32; 2], base: u32| {
            sync.into_iter()
                .chain((0..16).map(|n| base + STEP_HZ * n))
                .map(coefficient)
                .collect::<Vec<_>>()
        };
        Self {
            rate,
            len: (rate / SYMBOL_RATE) as usize,
            low: group([SYNC[0].low, SYNC[1].low], LOW_BASE_HZ),
            high: group([SYNC[0].high, SYNC[1].high], HIGH_BASE_HZ),
        }
    }

    /// The power of the tone with Goertzel `coefficient` over `window`.
    fn power(window: &[f32], coefficient: f64) -> f64 {
        let (mut s1, mut s2) = (0.0_f64, 0.0_f64);
        for &x in window {
            let s0 = f64::from(x) + coefficient * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        s1 * s1 + s2 * s2 - coefficient * s1 * s2
    }

    /// The strongest tone of `group` over `window`.
    fn strongest(window: &[f32], group: &[(u32, f64)]) -> u32 {
        let mut best = (0, f64::MIN);
        for &(hz, coefficient) in group {
            let power = Self::power(window, coefficient);
            if power > best.1 {
                best = (hz, power);
            }
        }
        best.0
    }

    fn symbol(&self, window: &[f32]) -> Symbol {
        Symbol {
            low: Self::strongest(window, &self.low),
            high: Self::strongest(window, &self.high),
        }
    }

    /// The power of `symbol`'s two tones over `window`.
    fn score(&self, window: &[f32], symbol: Symbol) -> f64 {
        let coefficient = |hz: u32| 2.0 * (2.0 * std::f64::consts::PI * f64::from(hz) / f64::from(self.rate)).cos();
        Self::power(window, coefficient(symbol.low)) + Self::power(window, coefficient(symbol.high))
    }
}

/// The text of the echo frame in `samples` (mono, any scale) at `rate` Hz.
pub(crate) fn decode(samples: &[f32], rate: u32) -> Result<String, DecodeError> {
    if rate < MIN_SAMPLE_RATE || !rate.is_multiple_of(SYMBOL_RATE) {
        return Err(DecodeError::SampleRate(rate));
    }
    let detector = Detector::new(rate);
    let n = detector.len;
    let peak = samples.iter().fold(0.0_f32, |peak, x| peak.max(x.abs()));
    if peak < 1e-4 {
        return Err(DecodeError::Silent);
    }
    let first = samples
        .iter()
        .position(|x| x.abs() > peak * 0.05)
        .ok_or(DecodeError::Silent)?;
    // The frame starts at most a few samples before the first loud one (it fades in):
    // the start is where the second sync symbol rings strongest.
    let start = (first.saturating_sub(n / 2)..=first)
        .filter(|s| s + 2 * n <= samples.len())
        .max_by(|a, b| {
            let score = |s: usize| detector.score(&samples[s + n..s + 2 * n], SYNC[1]);
            score(*a).total_cmp(&score(*b))
        })
        .ok_or(DecodeError::NoSync)?;
    let symbols = samples[start..].chunks_exact(n);
    let mut symbols = symbols.enumerate().map(|(i, window)| (i, detector.symbol(window)));
    for expected in SYNC {
        if symbols.next().map(|(_, s)| s) != Some(expected) {
            return Err(DecodeError::NoSync);
        }
    }
    let seconds = |i: usize| (start + i * n) as f64 / f64::from(rate);
    let mut next_byte = || -> Result<u8, DecodeError> {
        let (i, symbol) = symbols.next().ok_or(DecodeError::Truncated)?;
        let nibble = |hz: u32, base: u32| {
            (hz >= base && hz < base + 16 * STEP_HZ)
                .then(|| u8::try_from((hz - base) / STEP_HZ).ok())
                .flatten()
        };
        match (nibble(symbol.low, LOW_BASE_HZ), nibble(symbol.high, HIGH_BASE_HZ)) {
            (Some(high), Some(low)) => Ok(high << 4 | low),
            _ => Err(DecodeError::BadSymbol(seconds(i))),
        }
    };
    let mut length = [0_u8; LENGTH_BYTES];
    for byte in &mut length {
        *byte = next_byte()?;
    }
    let length = u32::from_be_bytes(length) as usize;
    let available = (samples.len() - start) / n;
    if length > MAX_PAYLOAD || 2 + LENGTH_BYTES + length + CHECK_BYTES > available {
        return Err(DecodeError::Truncated);
    }
    let bytes = (0..length).map(|_| next_byte()).collect::<Result<Vec<u8>, _>>()?;
    let mut check = [0_u8; CHECK_BYTES];
    for byte in &mut check {
        *byte = next_byte()?;
    }
    if check != check_of(&bytes) {
        return Err(DecodeError::CheckMismatch);
    }
    String::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain sine synthesis of `symbols` at `rate`, after `lead` samples of silence.
    fn render(symbols: &[Symbol], rate: u32, lead: usize) -> Vec<f32> {
        let n = (rate / SYMBOL_RATE) as usize;
        let mut out = vec![0.0; lead];
        for (i, s) in symbols.iter().enumerate() {
            for k in 0..n {
                let t = (i * n + k) as f64 / f64::from(rate);
                let tone = |hz: u32| (2.0 * std::f64::consts::PI * f64::from(hz) * t).sin();
                out.push((0.3 * (tone(s.low) + tone(s.high))) as f32);
            }
        }
        out
    }

    #[test]
    fn bytes_map_to_one_tone_per_group() {
        assert_eq!(Symbol::of_byte(0x00), Symbol { low: 600, high: 2400 });
        assert_eq!(Symbol::of_byte(0xFF), Symbol { low: 2100, high: 3900 });
        assert_eq!(Symbol::of_byte(0x4A), Symbol { low: 1000, high: 3400 });
    }

    #[test]
    fn frames_round_trip_at_any_rate_that_is_a_multiple_of_100_hz() {
        let text = "Grüße, 世界! 🎧";
        for rate in [8_000, 16_000, 44_100, 48_000] {
            for lead in [0, 7, 333] {
                let samples = render(&encode(text), rate, lead);
                assert_eq!(decode(&samples, rate).as_deref(), Ok(text), "{rate} Hz, lead {lead}");
            }
        }
    }

    #[test]
    fn other_audio_is_refused_with_the_reason() {
        let rate = 16_000;
        assert_eq!(decode(&vec![0.0; 4000], rate), Err(DecodeError::Silent));
        assert_eq!(decode(&[0.1; 10], 22_050), Err(DecodeError::SampleRate(22_050)));
        let hum: Vec<f32> = (0..16_000).map(|i| (i as f32 * 0.07).sin()).collect();
        assert_eq!(decode(&hum, rate), Err(DecodeError::NoSync));

        let mut symbols = encode("hello");
        let cut = render(&symbols[..symbols.len() - 4], rate, 0);
        assert_eq!(decode(&cut, rate), Err(DecodeError::Truncated));
        symbols[8] = Symbol::of_byte(b'j');
        assert_eq!(
            decode(&render(&symbols, rate, 0), rate),
            Err(DecodeError::CheckMismatch)
        );
        symbols[8] = SYNC[1];
        assert!(matches!(
            decode(&render(&symbols, rate, 0), rate),
            Err(DecodeError::BadSymbol(_))
        ));
    }
}
