/**
 * Machine signal files, contract v1: one TXT file per machine-hour with a `#machine=…` header line, a pipe-separated
 * column line, data lines and a `#end;items=N;sha256=HEX` trailer. See `parseMachineSignalFile`.
 */
export { hasTrailer, parseFileName, parseTrailerLine } from './contract/header.js';
export { MachineSignalParser, parseMachineSignal, parseMachineSignalFile } from './contract/parser.js';
export { parseIsoTimestamp } from './contract/timestamp.js';
export {
  ENERGY_COLUMN,
  REQUIRED_COLUMNS,
  type ItemStatus,
  type MachineSignalEvent,
  type MachineSignalHeader,
  type MachineSignalRow,
  type MachineSignalSummary,
  type MachineSignalTrailer,
  type ParseMachineSignalOptions,
  type ParseSummary,
  type RejectReason,
  type RejectedLine,
  type RequiredColumn,
  type SignalEncoding,
} from './contract/types.js';
