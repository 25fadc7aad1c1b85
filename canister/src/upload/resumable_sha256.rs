//! SHA-256 whose state can be stored between messages: `compute_evidence`
//! hashes a proposed batch over several calls, and an upgrade may come in
//! between, so the running state lives in stable memory. `sha2` does the
//! block compression; this keeps the state, the partial block and the
//! length, and pads at the end as FIPS 180-4 says.

use sha2::digest::generic_array::GenericArray;

const BLOCK: usize = 64;
const INITIAL_STATE: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumableSha256 {
    state: [u32; 8],
    /// Bytes of the block not yet compressed (fewer than 64).
    pending: Vec<u8>,
    /// Bytes hashed so far.
    length: u64,
}

impl Default for ResumableSha256 {
    fn default() -> Self {
        Self {
            state: INITIAL_STATE,
            pending: Vec::new(),
            length: 0,
        }
    }
}

impl ResumableSha256 {
    pub fn update(&mut self, mut data: &[u8]) {
        self.length += data.len() as u64;
        if !self.pending.is_empty() {
            let take = (BLOCK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < BLOCK {
                return;
            }
            let block = std::mem::take(&mut self.pending);
            self.compress(&block);
        }
        let mut blocks = data.chunks_exact(BLOCK);
        for block in &mut blocks {
            self.compress(block);
        }
        self.pending.extend_from_slice(blocks.remainder());
    }

    pub fn finalize(mut self) -> [u8; 32] {
        let bits = self.length.wrapping_mul(8);
        let mut tail = std::mem::take(&mut self.pending);
        tail.push(0x80);
        while tail.len() % BLOCK != BLOCK - 8 {
            tail.push(0);
        }
        tail.extend_from_slice(&bits.to_be_bytes());
        for block in tail.chunks_exact(BLOCK) {
            self.compress(block);
        }
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(self.state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }

    /// Appends the stored form: the state words and the length (little
    /// endian), then the pending bytes.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for word in self.state {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.length.to_le_bytes());
        out.extend_from_slice(&self.pending);
    }

    /// Reads what `write_to` wrote (all of `bytes`).
    pub fn read_from(bytes: &[u8]) -> Self {
        assert!(
            bytes.len() >= 40 && bytes.len() < 40 + BLOCK,
            "stored hasher state has a valid length"
        );
        let mut state = [0u32; 8];
        for (word, le) in state.iter_mut().zip(bytes[..32].chunks_exact(4)) {
            *word = u32::from_le_bytes(le.try_into().expect("4 bytes"));
        }
        Self {
            state,
            length: u64::from_le_bytes(bytes[32..40].try_into().expect("8 bytes")),
            pending: bytes[40..].to_vec(),
        }
    }

    fn compress(&mut self, block: &[u8]) {
        sha2::compress256(
            &mut self.state,
            std::slice::from_ref(GenericArray::from_slice(block)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn equals_sha256_for_every_length_and_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let expected: [u8; 32] = Sha256::digest(&data[..len]).into();
            for split in [0, 1, 55, 56, 63, 64, 65, 129] {
                let split = split.min(len);
                let mut hasher = ResumableSha256::default();
                hasher.update(&data[..split]);
                // Through a stored form, as between two calls.
                let mut stored = Vec::new();
                hasher.write_to(&mut stored);
                let mut hasher = ResumableSha256::read_from(&stored);
                hasher.update(&data[split..len]);
                assert_eq!(hasher.finalize(), expected, "len {len}, split {split}");
            }
        }
    }
}
