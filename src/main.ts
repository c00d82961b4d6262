import { runCli } from './cli/program.ts';

const code = await runCli(process.argv);
// `serve` keeps running until a signal; every other command ends here.
if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
