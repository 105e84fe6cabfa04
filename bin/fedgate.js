#!/usr/bin/env node
// The `fedgate` command: runs the compiled CLI (npm run build writes dist/).
import { main } from '../dist/main.js';

process.exitCode = await main(process.argv.slice(2));
