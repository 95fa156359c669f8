#!/usr/bin/env node
// The `rein` command: runs the compiled CLI (npm run build produces dist/).
require('../dist/src/cli.js');
