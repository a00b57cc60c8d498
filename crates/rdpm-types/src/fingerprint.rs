//! Certificate fingerprints as the server prints them and clients pin
//! them: `sha256:` and the 64 lower case hex digits of the SHA-256 of the
//! certificate's DER bytes.

use sha2::{Digest as _, Sha256};

/// The fingerprint of a DER certificate.
pub fn certificate_fingerprint(cert_der: &[u8]) -> String {
    let digest = Sha256::digest(cert_der);
    let mut text = String::with_capacity(7 + 64);
    text.push_str("sha256:");
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Reads a fingerprint as people write it: `sha256:` (any case) then 64
/// hex digits, colons between bytes allowed; `None` when it is not one.
pub fn parse_certificate_fingerprint(text: &str) -> Option<String> {
    let (scheme, hex) = text.trim().split_once(':')?;
    if !scheme.eq_ignore_ascii_case("sha256") {
        return None;
    }
    let hex: String = hex
        .chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_in_the_forms_people_write() {
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let canonical = format!("sha256:{hex}");
        assert_eq!(certificate_fingerprint(b"abc"), canonical);
        assert_eq!(
            parse_certificate_fingerprint(&canonical.to_uppercase()),
            Some(canonical.clone())
        );
        let colons: Vec<String> = hex
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        assert_eq!(
            parse_certificate_fingerprint(&format!("SHA256:{}", colons.join(":"))),
            Some(canonical)
        );
        assert_eq!(parse_certificate_fingerprint("sha256:abc"), None);
        assert_eq!(parse_certificate_fingerprint(hex), None);
        assert_eq!(parse_certificate_fingerprint(&format!("md5:{hex}")), None);
    }
}
