import { registerDatasets } from '../../datasets/registry.js';
import { registerFormat } from '../../formats/registry.js';
import { registerTransform } from '../../transforms/registry.js';
import { MACHINE_SIGNAL_DATASETS } from './datasets.js';
import { machineSignalFormat } from './format.js';
import { inventoryMovements, machineQuarantine, machineYieldHourly } from './transforms.js';

/**
 * The machine-signal flow's code: its file format (contract v1), its datasets and its TypeScript transforms,
 * registered by id. The pipeline itself is declared in `workflows/pipelines/factory-machine-signals.pipeline.ts`.
 */
registerFormat(machineSignalFormat);
registerDatasets(MACHINE_SIGNAL_DATASETS);
for (const t of [inventoryMovements, machineYieldHourly, machineQuarantine]) registerTransform(t);
