#!/usr/bin/env node
import { main } from './main.js';

const io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l), env: process.env };
void Promise.resolve(main(process.argv.slice(2), io)).then((code) => {
  process.exitCode = code;
  // A long-running command ends here with its sockets closed; nothing else should keep us up.
  if (process.argv[2] === 'start') process.exit(code);
});
