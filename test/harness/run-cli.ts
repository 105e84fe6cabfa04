// Runs the fedgate command from source (tests spawn it with `node --import tsx`), exactly as
// bin/fedgate.js runs the compiled one.
import { main } from '../../src/main.js';

process.exitCode = await main(process.argv.slice(2));
