//! The binary encodings of stored keys and values.
//!
//! A key starts with [`KEY_FORMAT`] and a tag byte naming the record kind, then
//! its fields in an order-preserving form: integers big-endian, dates as days
//! with the sign bit flipped, text with its zero bytes escaped and a two-byte
//! terminator. Byte order of keys is then the order of their fields, so a prefix
//! scan returns records chronologically.
//!
//! A value starts with [`VALUE_FORMAT`], then its fields in declaration order:
//! integers little-endian, lengths and counts as LEB128, `f64` as its IEEE bits
//! (so every value, NaN payloads included, round-trips exactly), text as length
//! and UTF-8 bytes, an option as a 0/1 byte and the value. Decoders check every
//! length against the bytes left, so arbitrary input yields an error, never a
//! panic or a huge allocation.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// The format byte that starts every key this build writes.
pub const KEY_FORMAT: u8 = 1;

/// The format byte that starts every value this build writes.
pub const VALUE_FORMAT: u8 = 1;

/// The reason stored bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end before the record does.
    #[error("the data ends at byte {at}, inside the record")]
    Truncated {
        /// The offset where more bytes were expected.
        at: usize,
    },
    /// The leading format byte is not one this build reads.
    #[error("format byte {found}, this headroom reads {supported}")]
    Format {
        /// The format byte found.
        found: u8,
        /// The format byte this build reads.
        supported: u8,
    },
    /// A field has a value outside its domain.
    #[error("invalid {what} at byte {at}")]
    Invalid {
        /// The field or encoding element.
        what: &'static str,
        /// The offset of the field.
        at: usize,
    },
    /// Bytes remain after the record.
    #[error("{extra} bytes follow the end of the record")]
    Trailing {
        /// The number of bytes left.
        extra: usize,
    },
}

/// A record with a value encoding.
pub(crate) trait Record: Sized {
    /// Appends the fields, without the format byte.
    fn encode_fields(&self, out: &mut Encoder);

    /// Reads the fields written by `encode_fields`.
    fn decode_fields(input: &mut Decoder<'_>) -> Result<Self, DecodeError>;
}

/// Encodes a record as a stored value: the format byte, then its fields.
pub(crate) fn encode_value<T: Record>(record: &T) -> Vec<u8> {
    let mut out = Encoder::new();
    out.u8(VALUE_FORMAT);
    record.encode_fields(&mut out);
    out.finish()
}

/// Decodes a stored value; fails on another format byte, bad fields or
/// trailing bytes.
pub(crate) fn decode_value<T: Record>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut input = Decoder::new(bytes);

    let format = input.u8()?;
    if format != VALUE_FORMAT {
        return Err(DecodeError::Format {
            found: format,
            supported: VALUE_FORMAT,
        });
    }

    let record = T::decode_fields(&mut input)?;
    input.finish()?;
    Ok(record)
}

/// Appends value fields to a buffer.
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new() -> Encoder {
        Encoder::default()
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    pub(crate) fn bool(&mut self, value: bool) {
        self.buf.push(u8::from(value));
    }

    /// LEB128: seven bits a byte, low bits first, high bit set on all but the last.
    pub(crate) fn varint(&mut self, mut value: u64) {
        loop {
            let low = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.buf.push(low);
                return;
            }
            self.buf.push(low | 0x80);
        }
    }

    pub(crate) fn len(&mut self, len: usize) {
        self.varint(len as u64);
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn f64(&mut self, value: f64) {
        self.buf.extend_from_slice(&value.to_bits().to_le_bytes());
    }

    pub(crate) fn str(&mut self, value: &str) {
        self.len(value.len());
        self.buf.extend_from_slice(value.as_bytes());
    }

    pub(crate) fn date(&mut self, value: NaiveDate) {
        self.buf
            .extend_from_slice(&value.num_days_from_ce().to_le_bytes());
    }

    pub(crate) fn datetime(&mut self, value: DateTime<Utc>) {
        self.buf.extend_from_slice(&value.timestamp().to_le_bytes());
        self.buf
            .extend_from_slice(&value.timestamp_subsec_nanos().to_le_bytes());
    }

    pub(crate) fn opt_str(&mut self, value: Option<&str>) {
        self.bool(value.is_some());
        if let Some(value) = value {
            self.str(value);
        }
    }

    pub(crate) fn opt_f64(&mut self, value: Option<f64>) {
        self.bool(value.is_some());
        if let Some(value) = value {
            self.f64(value);
        }
    }
}

/// Reads value fields from a byte slice, checking every length.
#[derive(Debug)]
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Decoder<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Decoder<'a> {
        Decoder { bytes, at: 0 }
    }

    /// Fails when bytes remain.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::Trailing { extra }),
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    pub(crate) fn invalid(&self, what: &'static str) -> DecodeError {
        DecodeError::Invalid { what, at: self.at }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Truncated {
                at: self.bytes.len(),
            });
        }
        let slice = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.invalid("boolean byte")),
        }
    }

    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        let start = self.at;
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                break;
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Invalid {
            what: "variable-length integer",
            at: start,
        })
    }

    /// Reads a length or count, failing when it exceeds the bytes left: each
    /// counted element takes at least one byte.
    pub(crate) fn len(&mut self) -> Result<usize, DecodeError> {
        let len = self.varint()?;
        if len > self.remaining() as u64 {
            return Err(DecodeError::Truncated {
                at: self.bytes.len(),
            });
        }
        Ok(len as usize)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(u64::from_le_bytes(self.array()?)))
    }

    pub(crate) fn str(&mut self) -> Result<String, DecodeError> {
        let len = self.len()?;
        let start = self.at;
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::Invalid {
            what: "UTF-8 text",
            at: start,
        })
    }

    pub(crate) fn date(&mut self) -> Result<NaiveDate, DecodeError> {
        let start = self.at;
        let days = i32::from_le_bytes(self.array()?);
        NaiveDate::from_num_days_from_ce_opt(days).ok_or(DecodeError::Invalid {
            what: "date",
            at: start,
        })
    }

    pub(crate) fn datetime(&mut self) -> Result<DateTime<Utc>, DecodeError> {
        let start = self.at;
        let seconds = i64::from_le_bytes(self.array()?);
        let nanos = u32::from_le_bytes(self.array()?);
        DateTime::from_timestamp(seconds, nanos).ok_or(DecodeError::Invalid {
            what: "timestamp",
            at: start,
        })
    }

    pub(crate) fn opt_str(&mut self) -> Result<Option<String>, DecodeError> {
        match self.bool()? {
            true => self.str().map(Some),
            false => Ok(None),
        }
    }

    pub(crate) fn opt_f64(&mut self) -> Result<Option<f64>, DecodeError> {
        match self.bool()? {
            true => self.f64().map(Some),
            false => Ok(None),
        }
    }
}

/// Builds an order-preserving key.
#[derive(Debug)]
pub(crate) struct KeyBuilder {
    buf: Vec<u8>,
}

impl KeyBuilder {
    /// Starts a key with the format byte and the record kind's tag.
    pub(crate) fn new(tag: u8) -> KeyBuilder {
        KeyBuilder {
            buf: vec![KEY_FORMAT, tag],
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn u8(mut self, value: u8) -> KeyBuilder {
        self.buf.push(value);
        self
    }

    pub(crate) fn u64(mut self, value: u64) -> KeyBuilder {
        self.buf.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Days since the common era with the sign bit flipped, big-endian, so
    /// earlier dates sort first.
    pub(crate) fn date(mut self, value: NaiveDate) -> KeyBuilder {
        let days = value.num_days_from_ce() as u32 ^ 0x8000_0000;
        self.buf.extend_from_slice(&days.to_be_bytes());
        self
    }

    /// Text with each zero byte written as `00 FF`, ended by `00 01`: keys with
    /// text fields then sort by the text's bytes and no text is a prefix of
    /// another's encoding.
    pub(crate) fn str(mut self, value: &str) -> KeyBuilder {
        for &byte in value.as_bytes() {
            self.buf.push(byte);
            if byte == 0 {
                self.buf.push(0xff);
            }
        }
        self.buf.extend_from_slice(&[0, 1]);
        self
    }
}

/// Reads the fields of a key written by [`KeyBuilder`].
#[derive(Debug)]
pub(crate) struct KeyReader<'a> {
    input: Decoder<'a>,
}

impl<'a> KeyReader<'a> {
    /// Checks the format byte and the tag.
    pub(crate) fn new(bytes: &'a [u8], tag: u8) -> Result<KeyReader<'a>, DecodeError> {
        let mut input = Decoder::new(bytes);

        let format = input.u8()?;
        if format != KEY_FORMAT {
            return Err(DecodeError::Format {
                found: format,
                supported: KEY_FORMAT,
            });
        }
        if input.u8()? != tag {
            return Err(DecodeError::Invalid {
                what: "key tag",
                at: 1,
            });
        }

        Ok(KeyReader { input })
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        self.input.finish()
    }

    #[cfg(test)]
    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.input.u8()
    }

    pub(crate) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.input.array()?))
    }

    pub(crate) fn date(&mut self) -> Result<NaiveDate, DecodeError> {
        let start = self.input.at;
        let days = (u32::from_be_bytes(self.input.array()?) ^ 0x8000_0000) as i32;
        NaiveDate::from_num_days_from_ce_opt(days).ok_or(DecodeError::Invalid {
            what: "date",
            at: start,
        })
    }

    pub(crate) fn str(&mut self) -> Result<String, DecodeError> {
        let start = self.input.at;
        let mut bytes = Vec::new();
        loop {
            let byte = self.input.u8()?;
            if byte != 0 {
                bytes.push(byte);
                continue;
            }
            match self.input.u8()? {
                0xff => bytes.push(0),
                1 => break,
                _ => return Err(self.input.invalid("text escape")),
            }
        }
        String::from_utf8(bytes).map_err(|_| DecodeError::Invalid {
            what: "UTF-8 text",
            at: start,
        })
    }
}

/// Formats bytes as lowercase hex, for messages about a record's key.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    pub(crate) fn arb_date() -> impl Strategy<Value = NaiveDate> {
        (NaiveDate::MIN.num_days_from_ce()..=NaiveDate::MAX.num_days_from_ce())
            .prop_map(|days| NaiveDate::from_num_days_from_ce_opt(days).unwrap())
    }

    pub(crate) fn arb_datetime() -> impl Strategy<Value = DateTime<Utc>> {
        (
            -8_000_000_000_000i64..8_000_000_000_000,
            0u32..1_000_000_000,
        )
            .prop_map(|(seconds, nanos)| DateTime::from_timestamp(seconds, nanos).unwrap())
    }

    #[test]
    fn varint_uses_seven_bits_a_byte() {
        let mut out = Encoder::new();
        out.varint(300);
        // 300 = 0b10_0101100: low seven bits 0x2c with the continuation bit, then 0x02.
        assert_eq!(out.finish(), vec![0xac, 0x02]);
    }

    #[test]
    fn key_text_escapes_zero_bytes() {
        let key = KeyBuilder::new(b'x').str("a\0b").finish();
        assert_eq!(key, vec![KEY_FORMAT, b'x', b'a', 0, 0xff, b'b', 0, 1]);
    }

    #[test]
    fn key_date_sorts_before_common_era() {
        let before = KeyBuilder::new(b'd')
            .date(NaiveDate::from_ymd_opt(-5, 1, 1).unwrap())
            .finish();
        let after = KeyBuilder::new(b'd')
            .date(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap())
            .finish();
        assert!(before < after);
    }

    #[test]
    fn decode_value_rejects_newer_format() {
        #[derive(Debug)]
        struct Empty;
        impl Record for Empty {
            fn encode_fields(&self, _: &mut Encoder) {}
            fn decode_fields(_: &mut Decoder<'_>) -> Result<Self, DecodeError> {
                Ok(Empty)
            }
        }
        let err = decode_value::<Empty>(&[VALUE_FORMAT + 1]).unwrap_err();
        assert_eq!(
            err,
            DecodeError::Format {
                found: VALUE_FORMAT + 1,
                supported: VALUE_FORMAT
            }
        );
    }

    proptest! {
        #[test]
        fn varint_round_trips(value in any::<u64>()) {
            let mut out = Encoder::new();
            out.varint(value);
            let bytes = out.finish();
            let mut input = Decoder::new(&bytes);
            prop_assert_eq!(input.varint().unwrap(), value);
            prop_assert_eq!(input.remaining(), 0);
        }

        #[test]
        fn value_fields_round_trip(
            flag in any::<bool>(),
            number in any::<u64>(),
            real in any::<f64>(),
            text in ".*",
            maybe in proptest::option::of(".*"),
            date in arb_date(),
            at in arb_datetime(),
        ) {
            let mut out = Encoder::new();
            out.bool(flag);
            out.u64(number);
            out.f64(real);
            out.str(&text);
            out.opt_str(maybe.as_deref());
            out.date(date);
            out.datetime(at);
            let bytes = out.finish();

            let mut input = Decoder::new(&bytes);
            prop_assert_eq!(input.bool().unwrap(), flag);
            prop_assert_eq!(input.u64().unwrap(), number);
            prop_assert_eq!(input.f64().unwrap().to_bits(), real.to_bits());
            prop_assert_eq!(input.str().unwrap(), text);
            prop_assert_eq!(input.opt_str().unwrap(), maybe);
            prop_assert_eq!(input.date().unwrap(), date);
            prop_assert_eq!(input.datetime().unwrap(), at);
            prop_assert!(input.finish().is_ok());
        }

        #[test]
        fn key_fields_round_trip(number in any::<u64>(), date in arb_date(), text in ".*", byte in any::<u8>()) {
            let key = KeyBuilder::new(b'k').u64(number).date(date).str(&text).u8(byte).finish();
            let mut reader = KeyReader::new(&key, b'k').unwrap();
            prop_assert_eq!(reader.u64().unwrap(), number);
            prop_assert_eq!(reader.date().unwrap(), date);
            prop_assert_eq!(reader.str().unwrap(), text);
            prop_assert_eq!(reader.u8().unwrap(), byte);
            prop_assert!(reader.finish().is_ok());
        }

        #[test]
        fn key_order_follows_date_then_text(
            a in (arb_date(), ".*"),
            b in (arb_date(), ".*"),
        ) {
            let key_a = KeyBuilder::new(b'k').date(a.0).str(&a.1).finish();
            let key_b = KeyBuilder::new(b'k').date(b.0).str(&b.1).finish();
            let fields_order = (a.0, a.1.as_bytes()).cmp(&(b.0, b.1.as_bytes()));
            prop_assert_eq!(key_a.cmp(&key_b), fields_order);
        }

        #[test]
        fn key_order_follows_numbers(a in any::<u64>(), b in any::<u64>()) {
            let key_a = KeyBuilder::new(b'k').u64(a).finish();
            let key_b = KeyBuilder::new(b'k').u64(b).finish();
            prop_assert_eq!(key_a.cmp(&key_b), a.cmp(&b));
        }

        #[test]
        fn decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut input = Decoder::new(&bytes);
            let _ = input.varint();
            let _ = input.str();
            let _ = input.opt_f64();
            let _ = input.date();
            let _ = input.datetime();
            let _ = input.len();
            let mut reader = KeyReader::new(&bytes, b'k');
            if let Ok(reader) = reader.as_mut() {
                let _ = reader.str();
                let _ = reader.date();
                let _ = reader.u64();
            }
        }
    }
}
