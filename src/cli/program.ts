import { Command, CommanderError } from 'commander';
import { auditCommand } from './audit.ts';
import { clientCommand } from './client.ts';
import { demoCommand } from './demo.ts';
import { exportCommand } from './export.ts';
import { importCommand } from './import.ts';
import { populationCommand } from './population.ts';
import { serveCommand } from './serve.ts';
import { tokenCommand } from './token.ts';
import { userCommand } from './user.ts';
import { VERSION } from '../version.ts';

export function buildProgram(): Command {
  const program = new Command('pcn').description('PCN Hub: the platform a Primary Care Network runs on').version(VERSION).showHelpAfterError('(add --help for usage)').exitOverride();
  for (const command of [serveCommand(), demoCommand(), importCommand(), exportCommand(), userCommand(), clientCommand(), tokenCommand(), auditCommand(), populationCommand()]) {
    program.addCommand(command.exitOverride());
  }
  return program;
}

/** Runs the CLI; returns the exit code. Failures print one line: `pcn: <what went wrong>`. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander has printed its own one-line message
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`pcn: ${message.split('\n')[0]}\n`);
    return 1;
  }
}
