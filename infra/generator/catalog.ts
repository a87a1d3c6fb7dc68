import type { SignalEncoding } from '../../activities/flows/machine-signal/contract-v1.js';

/** Product families a machine can make; a machine makes the sizes of one family. */
export const SKU_FAMILIES: readonly (readonly string[])[] = [
  ['SKU-PAN-20', 'SKU-PAN-24', 'SKU-PAN-28'],
  ['SKU-POT-18', 'SKU-POT-22'],
  ['SKU-LID-20', 'SKU-LID-24', 'SKU-LID-28'],
  ['SKU-KET-15'],
  ['SKU-TRY-30', 'SKU-TRY-40'],
  ['SKU-COL-24'],
];

/** Operators (Portuguese names, most with accents, all within ISO-8859-1). */
export const OPERATORS: readonly string[] = [
  'João Silva',
  'Inês Conceição',
  'José Araújo',
  'Ana Luísa Gonçalves',
  'Antônio Peçanha',
  'Márcia Simões',
  'Sebastião Lopes',
  'Fábio Magalhães',
  'Cláudia Galvão',
  'Vinícius Camões',
  'Letícia Guimarães',
  'Pedro Costa',
  'Carla Mendes',
];

/** How a machine behaves: firmware (hence encoding and columns), products and its normal operating point. */
export interface MachineProfile {
  /** `M01`…`Mnn`. */
  id: string;
  /** 1-based position. */
  index: number;
  firmware: string;
  encoding: SignalEncoding;
  /** Writes the firmware 3.x `energy_wh` column. */
  energy: boolean;
  skus: readonly string[];
  cycleMs: number;
  tempC: number;
  vibrationMmS: number;
  /**
   * Days between maintenances: vibration, temperature, cycle time and scrap rate drift upward over the cycle, then
   * reset, which gives maintenance-prediction features something to find.
   */
  wearCycleDays: number;
  wearPhaseDays: number;
}

/**
 * The fleet: `M01`…`Mnn`. With `latin1`, the first machine (the first two from ten machines on) runs firmware 1.x and
 * writes ISO-8859-1; with `energy`, the last one (when there are at least two) runs 3.x and appends `energy_wh`; the
 * rest run 2.x.
 */
export function machineProfiles(count: number, options: { latin1: boolean; energy: boolean }): MachineProfile[] {
  const legacy = options.latin1 ? Math.max(1, Math.floor(count / 5)) : 0;
  return Array.from({ length: count }, (_, i) => {
    const index = i + 1;
    const energy = options.energy && count >= 2 && index === count;
    const v1 = index <= legacy;
    return {
      id: `M${String(index).padStart(2, '0')}`,
      index,
      firmware: v1 ? '1.9.4' : energy ? '3.1.0' : '2.4.1',
      encoding: v1 ? 'latin1' : 'utf8',
      energy,
      skus: SKU_FAMILIES[i % SKU_FAMILIES.length]!,
      cycleMs: 780 + ((index * 7) % 5) * 10,
      tempC: 68 + ((index * 3) % 5),
      vibrationMmS: 1.7 + ((index * 5) % 4) * 0.1,
      wearCycleDays: 14 + ((index * 4) % 11),
      wearPhaseDays: (index * 3) % 14,
    };
  });
}
