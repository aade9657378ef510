//! WAV in and out for echo: the 44-byte header of 16-bit mono PCM (written by hand, so the
//! samples can stream after it), and any PCM or float WAV read back as mono samples.

/// Bytes of a canonical PCM WAV header.
pub(crate) const HEADER_BYTES: usize = 44;

/// The header of `samples` 16-bit mono samples at `rate` Hz.
pub(crate) fn header(rate: u32, samples: u32) -> [u8; HEADER_BYTES] {
    let data = samples.saturating_mul(2);
    let mut out = [0_u8; HEADER_BYTES];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(b"RIFF");
    put(&data.saturating_add(36).to_le_bytes());
    put(b"WAVE");
    put(b"fmt ");
    put(&16_u32.to_le_bytes()); // size of the fmt chunk
    put(&1_u16.to_le_bytes()); // PCM
    put(&1_u16.to_le_bytes()); // mono
    put(&rate.to_le_bytes());
    put(&(rate * 2).to_le_bytes()); // bytes per second
    put(&2_u16.to_le_bytes()); // bytes per frame
    put(&16_u16.to_le_bytes()); // bits per sample
    put(b"data");
    put(&data.to_le_bytes());
    out
}

/// The samples of a WAV file, mixed down to mono in `-1.0..=1.0`, and its sample rate.
pub(crate) fn read_mono(bytes: &[u8]) -> Result<(Vec<f32>, u32), String> {
    let mut reader = hound::WavReader::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / f64::from(1_u32 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| e.to_string())?;
    let mono = interleaved
        .chunks(channels)
        .map(|frame| frame.iter().sum::<f32>() / frame.len() as f32)
        .collect();
    Ok((mono, spec.sample_rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_what_hound_reads() {
        let mut file = header(16_000, 3).to_vec();
        for sample in [0_i16, i16::MAX, i16::MIN] {
            file.extend_from_slice(&sample.to_le_bytes());
        }
        let reader = hound::WavReader::new(std::io::Cursor::new(&file)).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (1, 16_000, 16));
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        assert_eq!(reader.duration(), 3);
        let (samples, rate) = read_mono(&file).unwrap();
        assert_eq!(rate, 16_000);
        assert_eq!(samples[0], 0.0);
        assert!(
            (samples[1] - 1.0).abs() < 1e-3 && (samples[2] + 1.0).abs() < 1e-6,
            "{samples:?}"
        );
    }

    #[test]
    fn stereo_and_float_files_are_read_as_mono() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for sample in [0.5_f32, 0.25, -1.0, 0.0] {
            writer.write_sample(sample).unwrap();
        }
        writer.finalize().unwrap();
        let (samples, rate) = read_mono(cursor.get_ref()).unwrap();
        assert_eq!((samples, rate), (vec![0.375, -0.5], 48_000));
        assert!(read_mono(b"RIFF\x04\0\0\0WAVE").is_err());
    }
}
