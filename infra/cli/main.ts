import { loadDotEnv } from '../../worker/env-file.js';
import { CLIENT_COMMANDS } from './client/args.js';
import { USAGE } from './client/usage.js';

/** Entry point of the `fabrica` command. */
async function main(argv: string[]): Promise<number> {
  // `.env` in the working directory (see .env.example) fills in what the environment does not set.
  loadDotEnv();
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev': {
      // Imported on demand, like every command: the launcher's dependencies would slow the REST client down.
      const { dev } = await import('./dev.js');
      return dev();
    }
    case 'tools': {
      const { ensureGoTool, GO_TOOLS } = await import('../services/tools.js');
      for (const tool of GO_TOOLS) console.log(await ensureGoTool(tool, (l) => console.log(l)));
      return 0;
    }
    case 'bundle-workflows': {
      const { bundleWorkflowsCommand } = await import('./bundle-workflows.js');
      return bundleWorkflowsCommand(rest);
    }
    case 'temporal': {
      const { temporalCommand } = await import('./temporal.js');
      return temporalCommand(rest);
    }
    case 'generate': {
      const { runGenerateCommand } = await import('../generator/machine-files.js');
      await runGenerateCommand(rest);
      return 0;
    }
    default: {
      if (command !== undefined && CLIENT_COMMANDS.includes(command)) {
        const { runClient } = await import('./client/run.js');
        return runClient(argv);
      }
      const help = command === undefined || command === 'help' || command === '--help' || command === '-h';
      if (!help) console.error(`fabrica: unknown command "${command}"\n`);
      console.error(USAGE);
      return help ? 0 : 2;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`fabrica: ${err.message}`);
    process.exit(1);
  },
);
