import { dev } from './dev.js';

const USAGE = `usage: fabrica <command>
  dev                     bring up the local stack (Temporal, PostgreSQL, worker, API) and the demo
  generate machine-files  write machine signal files and their ground truth (see --help)
  tools                   build the cached Go tools (Temporal CLI, MinIO) if missing`;

/** Entry point of the `fabrica` command. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev':
      return dev();
    case 'tools': {
      const { ensureGoTool, MINIO, TEMPORAL_CLI } = await import('../services/tools.js');
      for (const tool of [TEMPORAL_CLI, MINIO]) console.log(await ensureGoTool(tool, (l) => console.log(l)));
      return 0;
    }
    case 'generate': {
      const { runGenerateCommand } = await import('../generator/machine-files.js');
      await runGenerateCommand(rest);
      return 0;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 64;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`fabrica: ${err.message}`);
    process.exit(1);
  },
);
