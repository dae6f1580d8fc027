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
pub fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let b = s.as_bytes();
    if b.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Standard base64 with padding.
pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes standard padded base64 into exactly `N` bytes, refusing any other length.
pub fn unb64<const N: usize>(s: &str) -> Option<[u8; N]> {
    let v = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    // Re-encoding must give the same text: this refuses non-zero padding bits,
    // so a value has exactly one base64 spelling.
    if b64(&v) != s {
        return None;
    }
    v.try_into().ok()
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

    #[test]
    fn base64_is_strict() {
        assert_eq!(unb64::<2>("AAE="), Some([0, 1]));
        assert_eq!(unb64::<2>("AAF="), None, "non-zero padding bits");
        assert_eq!(unb64::<2>("AAE"), None, "missing padding");
        assert_eq!(unb64::<3>("AAE="), None, "wrong length");
    }
}
