#!/usr/bin/env node
// The `rein` command: runs the compiled CLI (npm run build produces dist/).
require('../dist/src/cli.js').main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => { process.stderr.write('rein: ' + (error && error.stack ? error.stack : String(error)) + '\n'); process.exitCode = 2; });
