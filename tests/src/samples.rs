//! Files of every type uploads accept, made here (a real PNG and PDF, and the headers the
//! other formats start with), and a multipart body builder that can also cut a body short.

/// A 2×2 RGB PNG (red and blue columns).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a, 0x73, 0x00, 0x00, 0x00, 0x10, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0x00, 0x04, 0xff, 0x19, 0x20, 0x14, 0x00, 0x1b, 0xf2, 0x03, 0xfd,
    0xd6, 0x96, 0xf2, 0x2b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A one-page PDF whose text is [`PDF_TEXT`].
pub const PDF: &[u8] = include_bytes!("samples/report.pdf");

/// The text on [`PDF`]'s page.
pub const PDF_TEXT: &str = "Quarterly revenue grew 42 percent";

/// A JPEG: SOI and a JFIF APP0 segment, then filler and EOI.
pub fn jpeg() -> Vec<u8> {
    let mut bytes = vec![
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
        0x00, 0x00,
    ];
    bytes.extend(std::iter::repeat_n(0x11, 200));
    bytes.extend([0xff, 0xd9]);
    bytes
}

/// A WebP: the RIFF header of a lossy WebP and a `VP8 ` chunk.
pub fn webp() -> Vec<u8> {
    let body = [b"WEBPVP8 ".as_slice(), &10u32.to_le_bytes(), &[0u8; 10]].concat();
    [b"RIFF".as_slice(), &(body.len() as u32).to_le_bytes(), &body].concat()
}

/// A valid WAV: 8 kHz mono 16-bit PCM, `samples` samples of a square wave.
pub fn wav(samples: usize) -> Vec<u8> {
    let data: Vec<u8> = (0..samples)
        .flat_map(|i| (if (i / 20) % 2 == 0 { 8000i16 } else { -8000 }).to_le_bytes())
        .collect();
    let mut fmt = Vec::new();
    fmt.extend(1u16.to_le_bytes()); // PCM
    fmt.extend(1u16.to_le_bytes()); // mono
    fmt.extend(8000u32.to_le_bytes());
    fmt.extend(16000u32.to_le_bytes());
    fmt.extend(2u16.to_le_bytes());
    fmt.extend(16u16.to_le_bytes());
    let mut body = b"WAVEfmt ".to_vec();
    body.extend((fmt.len() as u32).to_le_bytes());
    body.extend(fmt);
    body.extend(b"data");
    body.extend((data.len() as u32).to_le_bytes());
    body.extend(data);
    [b"RIFF".as_slice(), &(body.len() as u32).to_le_bytes(), &body].concat()
}

/// An MP3: an ID3v2 tag header, then MPEG-1 layer III frame headers.
pub fn mp3() -> Vec<u8> {
    let mut bytes = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
    for _ in 0..4 {
        bytes.extend([0xff, 0xfb, 0x90, 0x64]);
        bytes.extend([0u8; 413]);
    }
    bytes
}

/// An Ogg (Vorbis) stream's first page header.
pub fn ogg() -> Vec<u8> {
    let mut bytes = b"OggS\x00\x02".to_vec();
    bytes.extend([0u8; 20]);
    bytes.extend(b"\x01\x1e\x01vorbis\x00\x00\x00\x00\x01\x44\xac\x00\x00");
    bytes.extend([0u8; 64]);
    bytes
}

/// A WebM: an EBML header whose DocType is `webm`, then a Segment.
pub fn webm() -> Vec<u8> {
    let mut bytes = vec![
        0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81, 0x01,
    ];
    bytes.extend([0x42, 0xf2, 0x81, 0x04, 0x42, 0xf3, 0x81, 0x08, 0x42, 0x82, 0x84]);
    bytes.extend(b"webm");
    bytes.extend([0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02]);
    bytes.extend([0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    bytes.extend([0u8; 300]);
    bytes
}

/// UTF-8 text.
pub fn text() -> Vec<u8> {
    "Meeting notes — naïve café, 2026.\nAction items: ship files.\n"
        .as_bytes()
        .to_vec()
}

/// One part of a multipart form.
pub struct Part {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl Part {
    /// A file part.
    pub fn file(name: &str, filename: &str, content_type: &str, body: &[u8]) -> Self {
        Self {
            name: name.into(),
            filename: Some(filename.into()),
            content_type: Some(content_type.into()),
            body: body.to_vec(),
        }
    }

    /// A text field.
    pub fn text(name: &str, value: &str) -> Self {
        Self {
            name: name.into(),
            filename: None,
            content_type: None,
            body: value.as_bytes().to_vec(),
        }
    }
}

/// The boundary of [`multipart`] bodies.
pub const BOUNDARY: &str = "agentry-test-boundary-7MA4YWxkTrZu0gW";

/// The `Content-Type` of [`multipart`] bodies.
pub fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

/// A `multipart/form-data` body of `parts`.
pub fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend(format!("--{BOUNDARY}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
        if let Some(filename) = &part.filename {
            disposition.push_str(&format!("; filename=\"{filename}\""));
        }
        body.extend(disposition.as_bytes());
        body.extend(b"\r\n");
        if let Some(content_type) = &part.content_type {
            body.extend(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend(b"\r\n");
        body.extend(&part.body);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}
