import { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { startServer } from '../server.ts';
import { createLogger } from './logger.ts';
import { checkDataFolder, withStoreOption } from './store-options.ts';
import { printAdmin, printMembers } from './demo.ts';

export function serveCommand() {
  return withStoreOption(
    new Command('serve')
      .description('serve the web app, the JSON API (/api) and FHIR (/fhir); seeds the demo area on first start')
      .option('--port <n>', 'port to listen on (default $PORT or 3000)', (v) => parsePort(v))
      .option('--host <address>', 'address to listen on (default $HOST or 127.0.0.1: this machine only; 0.0.0.0 for every interface)', (v) => parseHost(v))
      .option('--no-demo', 'do not seed the demo area into an empty database'),
  ).action(async (flags: { port?: number; host?: string; data?: string; demo: boolean }) => {
    const started = Date.now();
    const config = loadConfig(process.env, { port: flags.port, host: flags.host, dataDir: flags.data });
    const creating = checkDataFolder(config, flags, 'create');
    const logger = createLogger({ level: config.logLevel, format: config.logFormat });
    if (creating) logger.info({ dataDir: creating }, `Creating the data folder ${creating}`);
    const server = await startServer({
      port: config.port,
      host: config.host,
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      statementTimeoutMs: config.statementTimeoutMs,
      seedDemo: flags.demo,
      demoPatients: config.demoPatients,
      adminPassword: config.adminPassword,
      demoMembers: true,
      demoPassword: config.demoPassword,
      mapTiles: config.mapTiles,
      loadShedding: config.loadShedding,
      rateLimitPerMinute: config.rateLimitPerMinute,
      exportDir: config.exportDir,
      tokenKeyFile: config.tokenKeyFile,
      breakGlassHours: config.breakGlassHours,
      trustProxy: config.trustProxy,
      idleSignOutMinutes: config.idleSignOutMinutes,
      oidc: config.oidc,
      logger,
    });
    if (server.seed.admin) printAdmin(server.seed.admin);
    if (server.seed.members) printMembers(server.seed.members);
    logger.info({ url: server.url, engine: server.db.engine, startMs: Date.now() - started }, `PCN Hub is ready on ${server.url}`);
    const shutdown = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
    process.once('SIGINT', () => void shutdown('SIGINT'));
  });
}

function parseHost(value: string): string {
  if (!value.trim()) throw new Error('--host must be an address to listen on, such as 127.0.0.1 or 0.0.0.0');
  return value.trim();
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be a port number, not '${value}'`);
  return port;
}
