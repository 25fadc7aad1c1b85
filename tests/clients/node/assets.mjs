// DFINITY's JavaScript upload client, unmodified: an `AssetManager` from
// @dfinity/assets on an `HttpAgent` from @dfinity/agent, both with their
// defaults (the root key fetched from the replica, query signatures
// verified against the certified node keys). Run by
// tests/clients/tests/node_assets.rs:
//
//   node assets.mjs <replica url> <canister id> <seed hex> whoami
//   node assets.mjs <replica url> <canister id> <seed hex> sync <dir> [--one-by-one]
//   node assets.mjs <replica url> <canister id> <seed hex> check <dir> <key>...
//   node assets.mjs <replica url> <canister id> <seed hex> check-chunk-order <key>
//   node assets.mjs <replica url> <canister id> <seed hex> clear
//
// The identity is the Ed25519 key whose 32-byte secret is <seed hex>.
// `sync` uploads every new or changed file under <dir> (dot files skipped)
// and deletes every listed key not on disk: in one `batch()` commit, or
// with `--one-by-one` through `store` and `delete` per file; a file larger
// than a single `store` goes through `store`, which uploads it in chunks.
// @dfinity/assets has no config file: `.ic-assets.json5` rules (headers,
// max_age, aliasing, ignore) are not its business.
// The last line printed is `result <json>`.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HttpAgent } from '@dfinity/agent';
import { AssetManager } from '@dfinity/assets';
import { Ed25519KeyIdentity } from '@dfinity/identity';
import { sha256 } from '@noble/hashes/sha2';

// What a single `store` call takes; larger files are chunked.
const MAX_SINGLE_FILE_SIZE = 1_900_000;

const [url, canisterId, seedHex, command, ...args] = process.argv.slice(2);

const hex = bytes => Buffer.from(bytes).toString('hex');

// Every file under `dir` except dot files, as the asset key, the directory
// part of the key and the file name that `store` joins into that key.
function walk(dir, prefix = '') {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      files.push(...walk(path, `${prefix}/${name}`));
    } else {
      files.push({ key: `${prefix}/${name}`, dirKey: prefix, fileName: name, path });
    }
  }
  return files;
}

// Listed keys and the sha256 of their identity encoding.
async function listed(manager) {
  const assets = await manager.list();
  return new Map(
    assets.map(asset => {
      const identity = asset.encodings.find(e => e.content_encoding === 'identity');
      return [asset.key, identity?.sha256[0] ? hex(identity.sha256[0]) : null];
    }),
  );
}

async function sync(manager, dir, oneByOne) {
  const before = await listed(manager);
  const local = walk(dir).map(file => ({ ...file, sha256: sha256(readFileSync(file.path)) }));
  const onDisk = new Set(local.map(file => file.key));
  const upload = local.filter(file => before.get(file.key) !== hex(file.sha256));
  const remove = [...before.keys()].filter(key => !onDisk.has(key));
  const large = upload.filter(file => statSync(file.path).size > MAX_SINGLE_FILE_SIZE);
  const small = upload.filter(file => !large.includes(file));
  const where = file => ({ path: file.dirKey, fileName: file.fileName });

  // A batch's `CreateAsset` fails on an existing key, in DFINITY's asset
  // canister as in ours, so a batch deletes a changed file first; a single
  // `store` call replaces it.
  if (oneByOne) {
    await Promise.all(small.map(file => manager.store(file.path, where(file))));
    await Promise.all(remove.map(key => manager.delete(key)));
  } else {
    const batch = manager.batch();
    for (const file of small) {
      if (before.has(file.key)) batch.delete(file.key);
      await batch.store(file.path, where(file));
    }
    for (const key of remove) batch.delete(key);
    await batch.commit();
  }
  // A chunked file goes with its sha256: without one, the batch hashes the
  // chunks in the order its concurrent reads finish, not in file order,
  // and the canister refuses the wrong hash (`check-chunk-order` shows it).
  for (const file of large) {
    const config = { ...where(file), sha256: file.sha256 };
    if (before.has(file.key)) {
      const batch = manager.batch();
      batch.delete(file.key);
      await batch.store(file.path, config);
      await batch.commit();
    } else {
      await manager.store(file.path, config);
    }
  }

  // What the canister lists afterwards is exactly the directory.
  const after = await listed(manager);
  const wrong = local.filter(file => after.get(file.key) !== hex(file.sha256)).map(file => file.key);
  const extra = [...after.keys()].filter(key => !onDisk.has(key));
  if (wrong.length || extra.length) {
    throw new Error(
      `after the sync, list shows ${wrong.length} files missing or with another sha256 ` +
        `(${wrong.slice(0, 5).join(', ')}) and ${extra.length} extra keys (${extra.slice(0, 5).join(', ')})`,
    );
  }
  return {
    files: local.length,
    stored: small.length,
    chunked: large.map(file => file.key),
    deleted: remove,
    listed: after.size,
    mode: oneByOne ? 'store and delete, one call per file' : 'one batch commit',
  };
}

// `get` (and `get_chunk` for the rest) returns the file's bytes, its
// sha256 matches them, and `isCertified` finds that sha256 certified.
async function check(manager, dir, keys) {
  const problems = [];
  for (const key of keys) {
    const expected = readFileSync(join(dir, ...key.split('/')));
    const asset = await manager.get(key);
    const bytes = await asset.toUint8Array();
    if (Buffer.compare(Buffer.from(bytes), expected) !== 0) {
      problems.push(`${key}: get returned ${bytes.length} bytes, not the file's ${expected.length}`);
    }
    if (!(await asset.verifySha256())) problems.push(`${key}: verifySha256 is false`);
    if (!(await asset.isCertified())) problems.push(`${key}: isCertified is false`);
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return { checked: keys.length };
}

// A 4,000,000-byte file (three chunks) whose reads finish last chunk
// first, as concurrent file reads may: `store` it with the client's own
// sha256 and report what the canister says.
async function checkChunkOrder(manager, key) {
  const bytes = Uint8Array.from({ length: 4_000_000 }, (_, i) => (i * 31 + (i >> 11)) & 0xff);
  const chunks = Math.ceil(bytes.length / MAX_SINGLE_FILE_SIZE);
  const readable = {
    fileName: key.split('/').pop(),
    contentType: 'application/octet-stream',
    length: bytes.length,
    open: async () => {},
    close: async () => {},
    slice: (start, end) =>
      new Promise(resolve => {
        const index = start / MAX_SINGLE_FILE_SIZE;
        setTimeout(() => resolve(bytes.subarray(start, end)), 20 * (chunks - index));
      }),
  };
  const path = key.slice(0, key.lastIndexOf('/'));
  try {
    await manager.store(readable, { path });
    return { committed: true, sha256: hex(sha256(bytes)) };
  } catch (error) {
    return { committed: false, error: String(error?.message ?? error).split('\n  HTTP details:')[0] };
  }
}

async function main() {
  const identity = Ed25519KeyIdentity.generate(Uint8Array.from(Buffer.from(seedHex, 'hex')));
  const agent = await HttpAgent.create({ host: url, identity, shouldFetchRootKey: true });
  const manager = new AssetManager({ canisterId, agent });
  switch (command) {
    case 'whoami':
      return { principal: identity.getPrincipal().toText() };
    case 'sync':
      return sync(manager, args[0], args.includes('--one-by-one'));
    case 'check':
      return check(manager, args[0], args.slice(1));
    case 'check-chunk-order':
      return checkChunkOrder(manager, args[0]);
    case 'clear':
      await manager.clear();
      return { listed: (await manager.list()).length };
    default:
      throw new Error(`unknown command ${command}`);
  }
}

try {
  const result = await main();
  console.log(`result ${JSON.stringify(result)}`);
  process.exit(0);
} catch (error) {
  // The agent's messages end with the whole HTTP exchange: keep the reject.
  const message = String(error?.stack ?? error).split('\n  HTTP details:')[0];
  console.error(`${command} failed: ${message}`);
  process.exit(1);
}
