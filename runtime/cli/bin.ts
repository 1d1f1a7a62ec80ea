#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=1 --v8-pool-size=2 --expose-gc
// The interpreter line keeps a long-running node small on a 512 MB Pi: two malloc arenas
// instead of one per thread, a 1 MB young generation (murmur allocates little and keeps
// less), two V8 helper threads, and gc() for the agent's periodic collection. See README
// "Memory".
// cbor-x would load its native string extractor (cbor-extract), which costs about 5 MB of
// resident memory per process and buys nothing for datagrams of at most 1,200 bytes; many Pi
// images have no prebuilt binary for it anyway. The switch is read when cbor-x loads, so it is
// set before anything imports it.
process.env['CBOR_NATIVE_ACCELERATION_DISABLED'] ??= 'true';
const { main } = await import('./main.js');
const { processIo } = await import('./process-io.js');

const code = await main(process.argv.slice(2), processIo(process));
process.exitCode = code;
// A long-running command ends here with its sockets closed; nothing else should keep us up.
if (process.argv[2] === 'start') process.exit(code);
