//! SHA-256 whose state can be stored between messages: `compute_evidence`
//! hashes a proposed batch over several calls, and an upgrade may come in
//! between, so the running state lives in stable memory. `sha2` does the
//! block compression; this keeps the state, the partial block and the
//! length, and pads at the end as FIPS 180-4 says.

use serde::{Deserialize, Serialize};
use sha2::digest::generic_array::GenericArray;

const BLOCK: usize = 64;
const INITIAL_STATE: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ResumableSha256 {
    state: [u32; 8],
    /// Bytes of the block not yet compressed (fewer than 64).
    #[serde(with = "serde_bytes")]
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
                let stored = serde_cbor::to_vec(&hasher).unwrap();
                let mut hasher: ResumableSha256 = serde_cbor::from_slice(&stored).unwrap();
                hasher.update(&data[split..len]);
                assert_eq!(hasher.finalize(), expected, "len {len}, split {split}");
            }
        }
    }
}
