// tweetnacl, loaded with require. It is a CommonJS package: an `import` of it makes Node scan
// its source for exports (cjs-module-lexer), a loop that V8 then compiles with its optimizing
// compiler while the process starts. That scan is the only one on a node's start path, and
// it costs a running node about 1 MB of resident memory (BENCHMARKS.md "Memory soak").
// require gives the same module instance that an import elsewhere (tests, benchmarks) gets.

import { createRequire } from 'node:module';
import type naclModule from 'tweetnacl';

const nacl = createRequire(import.meta.url)('tweetnacl') as typeof naclModule;
export default nacl;
