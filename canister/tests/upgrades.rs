//! What an upgrade finds in stable memory: our stores (current or older
//! layout) are opened, anything we cannot read is refused untouched.

mod support;

use asset_server::AssetServer;
use asset_server::error::AssetError;
use asset_server::server::Reopened;
use asset_server::store::layout::{self, Contents, LAYOUT_VERSION};
use asset_server::store::{AssetRecord, Counters, EncodingRecord};
use asset_testkit::GatewayRequest;
use ic_stable_structures::memory_manager::{MemoryId, MemoryManager};
use ic_stable_structures::{Memory, StableBTreeMap, StableCell, VectorMemory};
use support::{GATEWAY_HOST, Harness, sample_site, sha256};

fn bytes_of(memory: &VectorMemory) -> Vec<u8> {
    memory.borrow().clone()
}

#[test]
fn memory_of_another_canister_is_refused_and_left_as_it_was() {
    let memory = VectorMemory::default();
    memory.grow(3);
    let noise: Vec<u8> = (0..3 * 65_536u32).map(|i| (i * 31 % 251) as u8).collect();
    memory.write(0, &noise);

    let Err(error) = AssetServer::reopen(memory.clone()) else {
        panic!("unknown memory was opened")
    };
    assert!(
        matches!(error, AssetError::UnreadableStableMemory(_)),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("upgrade refused") && message.contains("Nothing was changed"));
    assert_eq!(bytes_of(&memory), noise);
}

#[test]
fn a_newer_layout_is_refused_and_left_as_it_was() {
    let mut h = Harness::new();
    h.upload(&sample_site(), 1_900_000);
    let manager = MemoryManager::init(h.memory.clone());
    manager
        .get(MemoryId::new(6))
        .write(8, &(LAYOUT_VERSION + 1).to_le_bytes());
    drop(manager);
    let before = bytes_of(&h.memory);

    let Err(error) = AssetServer::reopen(h.memory.clone()) else {
        panic!("a newer layout was opened")
    };
    assert_eq!(
        error,
        AssetError::NewerLayout {
            found: LAYOUT_VERSION + 1,
            supported: LAYOUT_VERSION
        }
    );
    assert!(error.to_string().contains("Nothing was changed"));
    assert_eq!(bytes_of(&h.memory), before);
}

/// Version 0 is what this canister wrote before its layout carried a
/// version: the same stores without the `LAYOUT` memory.
#[test]
fn stores_of_layout_version_0_are_migrated_and_keep_their_assets() {
    let memory = VectorMemory::default();
    let body = b"<h1>written by version 0</h1>".to_vec();
    {
        let manager = MemoryManager::init(memory.clone());
        let mut assets: StableBTreeMap<String, AssetRecord, _> =
            StableBTreeMap::init(manager.get(MemoryId::new(0)));
        let mut chunks: StableBTreeMap<u64, Vec<u8>, _> =
            StableBTreeMap::init(manager.get(MemoryId::new(1)));
        let _counters: StableCell<Counters, _> =
            StableCell::init(manager.get(MemoryId::new(5)), Counters::default());
        chunks.insert(0, body.clone());
        let mut record = AssetRecord::new("text/html".into());
        record.encodings.insert(
            "identity".into(),
            EncodingRecord {
                sha256: sha256(&body),
                length: body.len() as u64,
                modified: 1,
                chunks: vec![0],
                chunk_table: Vec::new(),
            },
        );
        assets.insert("/index.html".into(), record);
        // A body of two chunks, stored before chunks were hashed one by one.
        chunks.insert(1, b"first half, ".to_vec());
        chunks.insert(2, b"second half".to_vec());
        let mut record = AssetRecord::new("text/plain".into());
        record.encodings.insert(
            "identity".into(),
            EncodingRecord {
                sha256: sha256(b"first half, second half"),
                length: 23,
                modified: 1,
                chunks: vec![1, 2],
                chunk_table: Vec::new(),
            },
        );
        assets.insert("/two.txt".into(), record);
    }
    assert_eq!(layout::inspect(&memory), Contents::Ours { version: 0 });

    let mut h = Harness::new();
    let (server, reopened) = AssetServer::reopen(memory.clone()).expect("version 0 opens");
    assert_eq!(reopened, Reopened::Ours { version: 0 });
    h.server = server;
    h.memory = memory.clone();
    h.certified_data = h.server.certified_root();
    assert_eq!(h.get_verified("/").body, body);
    let request = GatewayRequest::get("/").with_header("host", GATEWAY_HOST);
    assert_eq!(h.get_verified_v2(&request).body, body);
    // Its chunks were never hashed one by one, so v2 cannot certify them
    // as 206 answers: a v2 request gets the v1 answer, which verifies.
    let request = GatewayRequest::get("/two.txt").with_header("host", GATEWAY_HOST);
    let answer = h.http_request_version(&request, Some(2));
    assert!(answer.streaming_strategy.is_some(), "served as under v1");
    assert_eq!(h.get_verified("/two.txt").body, b"first half, second half");
    assert_eq!(
        layout::inspect(&memory),
        Contents::Ours {
            version: LAYOUT_VERSION
        }
    );
}

#[test]
fn empty_memory_opens_as_an_empty_site() {
    let (server, reopened) = AssetServer::reopen(VectorMemory::default()).unwrap();
    assert_eq!(reopened, Reopened::Empty);
    assert!(server.list().is_empty());
}
