//! Hex and base64 helpers. Hex is lowercase everywhere in our JSON; base64 is the
//! standard alphabet with padding (RFC 4648 section 4), as C2SP formats use.

use base64::Engine;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Decodes exactly `N` bytes of lowercase hex; uppercase is refused so that one
/// value has one spelling (canonical bytes would otherwise differ).
///
/// Every record holds two such values (`prev`, the actor's key id), so this
/// is a table lookup per character with one check at the end rather than a
/// branch per character.
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    // A character that is not lowercase hex maps to 0xFF, whose high bits
    // survive the OR; a digit's value never has them.
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let (hi, lo) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0F);
    }
    (bad & 0xF0 == 0).then_some(out)
}

/// Each byte's value as a lowercase hex digit, 0xFF for any other byte.
static NIBBLE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Standard base64 with padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard padded base64 into exactly `N` bytes, refusing any other length.
pub fn unb64<const N: usize>(s: &str) -> Option<[u8; N]> {
    // Exactly N bytes are exactly this many padded characters.
    if s.len() != N.div_ceil(3) * 4 {
        return None;
    }
    if N > 93 {
        return unb64_vec(s)?.try_into().ok();
    }
    // On the stack (a signature per record is decoded on every replay and
    // verification): the decoder wants room for its estimate, N + 2 at most.
    let mut bytes = [0u8; 96];
    let n = base64::engine::general_purpose::STANDARD
        .decode_slice(s, &mut bytes)
        .ok()?;
    if n != N {
        return None;
    }
    // Re-encoding must give the same text: this refuses non-zero padding bits,
    // so a value has exactly one base64 spelling.
    let mut text = [0u8; 128];
    let m = base64::engine::general_purpose::STANDARD
        .encode_slice(&bytes[..n], &mut text)
        .ok()?;
    if &text[..m] != s.as_bytes() {
        return None;
    }
    bytes[..N].try_into().ok()
}

/// Decodes standard padded base64 of any length.
pub fn unb64_vec(s: &str) -> Option<Vec<u8>> {
    let v = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    if b64(&v) != s {
        return None;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_refusals() {
        let b = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&b), "0001abff");
        assert_eq!(unhex::<4>("0001abff"), Some(b));
        assert_eq!(unhex::<4>("0001ABFF"), None);
        assert_eq!(unhex::<4>("0001abf"), None);
        assert_eq!(unhex::<4>("0001abfg"), None);
    }

    /// Every byte in either place of a pair: taken exactly when it is a
    /// lowercase hex digit, with that digit's value.
    #[test]
    fn unhex_takes_exactly_lowercase_hex_digits() {
        for c in 0..=255u8 {
            let value = match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            };
            for (pair, want) in [
                ([c, b'7'], value.map(|v| [(v << 4) | 7])),
                ([b'7', c], value.map(|v| [0x70 | v])),
            ] {
                let text = String::from_utf8_lossy(&pair).into_owned();
                let got = if text.len() == 2 {
                    unhex::<1>(&text)
                } else {
                    None
                };
                assert_eq!(got, want, "{pair:?}");
            }
        }
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(unb64::<2>("AAE="), Some([0, 1]));
        assert_eq!(unb64::<2>("AAF="), None, "non-zero padding bits");
        assert_eq!(unb64::<2>("AAE"), None, "missing padding");
        assert_eq!(unb64::<3>("AAE="), None, "wrong length");
        assert_eq!(unb64::<1>("AAE="), None, "two bytes, not one");
        assert_eq!(unb64::<1>("AA=="), Some([0]));
        assert_eq!(unb64::<1>("AB=="), None, "non-zero padding bits");
        assert_eq!(unb64::<2>("AA\nE"), None, "a newline is not base64");
        // Every length up to a signature's, and one past the stack buffer.
        let bytes: Vec<u8> = (0..=200u8).map(|i| i.wrapping_mul(37)).collect();
        fn round<const N: usize>(b: &[u8]) {
            let want: [u8; N] = b[..N].try_into().unwrap();
            assert_eq!(unb64::<N>(&b64(&want)), Some(want), "{N} bytes");
            let mut text = b64(&want).into_bytes();
            text[0] = b'*';
            assert_eq!(unb64::<N>(std::str::from_utf8(&text).unwrap()), None);
        }
        round::<1>(&bytes);
        round::<31>(&bytes);
        round::<32>(&bytes);
        round::<33>(&bytes);
        round::<64>(&bytes);
        round::<93>(&bytes);
        round::<94>(&bytes);
        round::<150>(&bytes);
    }
}
