/**
 * The server's log: pretty lines for a person at a terminal, JSON lines for everything else (a pipe, a file,
 * a container's log collector). Either way the app logs through its redacting serializers (http/log-redaction.ts),
 * which run in pino before a line reaches the stream: pretty output holds no more patient data than JSON does.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat } from '../config.ts';

/** Pretty when LOG_FORMAT says so, or when it is `auto` and stdout is a terminal; JSON otherwise. */
export function prettyLogs(format: LogFormat, stdoutIsTTY: boolean | undefined): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTTY === true);
}

export interface LoggerOptions {
  level: string;
  format: LogFormat;
  /** Where lines go (default process.stdout); its isTTY decides `auto`. */
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function createLogger(options: LoggerOptions): Logger {
  const stdout = options.stdout ?? process.stdout;
  const settings = { level: options.level, redact: ['req.headers.authorization', 'password'] };
  if (!prettyLogs(options.format, stdout.isTTY)) return options.stdout ? pino(settings, stdout) : pino(settings);
  // sync: the last lines before process.exit (shutting down) are not lost.
  return pino(settings, pretty({ destination: stdout, sync: true, colorize: stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}
