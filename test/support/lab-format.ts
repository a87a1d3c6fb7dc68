import type { DelimitedFormatConfig } from '../../activities/formats/format.js';

/** The header line of the lab's inspection files (the plant's second flow). */
export const LAB_HEADER =
  'amostra;sku;maquina;inspecionado_em;inspetor;peso_g;diametro_mm;revestimento_um;resultado;defeito';

/**
 * The lab inspection contract: Windows-1252, `;`-separated, decimal comma, local times of São Paulo. One row per
 * sample (`amostra`); a re-measured sample is listed again and the latest inspection wins. A rejected sample
 * (`REPROVADO`) names its defect, an approved one has none. Staged names follow the lab's ground truth
 * (`inspected_at`, `inspector`, `result`, `defect`); the others keep the file's names.
 */
export const LAB_FORMAT: DelimitedFormatConfig = {
  kind: 'delimited',
  delimiter: ';',
  header: true,
  encoding: 'windows-1252',
  decimal: ',',
  timeZone: 'America/Sao_Paulo',
  columns: [
    { name: 'amostra', type: 'text' },
    { name: 'sku', type: 'text' },
    { name: 'maquina', type: 'text' },
    { name: 'inspected_at', source: 'inspecionado_em', type: 'timestamp', pattern: 'dd/MM/yyyy HH:mm' },
    { name: 'inspector', source: 'inspetor', type: 'text' },
    { name: 'peso_g', type: 'decimal' },
    { name: 'diametro_mm', type: 'decimal' },
    { name: 'revestimento_um', type: 'decimal', nullable: true },
    { name: 'result', source: 'resultado', type: 'text' },
    { name: 'defect', source: 'defeito', type: 'text', nullable: true },
  ],
  rules: [
    { kind: 'allowed', column: 'result', values: ['APROVADO', 'REPROVADO'] },
    { kind: 'requiredWhen', column: 'defect', when: { column: 'result', in: ['REPROVADO'] } },
    { kind: 'emptyUnless', column: 'defect', when: { column: 'result', in: ['REPROVADO'] } },
  ],
  dedup: { key: ['amostra'], keep: 'latest', by: 'inspected_at' },
};
