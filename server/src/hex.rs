//! Lowercase hexadecimal of bytes: key ids, the HS256 key's id, the replay store's keys.

/// `bytes` as lowercase hex, two digits each.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
