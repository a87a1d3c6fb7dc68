import { ApplicationFailure } from '@temporalio/common';

/** Stable failure types of data faults: the `type` of the non-retryable `ApplicationFailure` they become. */
export type DataFaultType =
  | 'ContractBroken'
  | 'IncompleteFile'
  | 'DataQualityThresholdExceeded'
  | 'SourceMissing'
  | 'InvalidPartition'
  | 'PayloadInvalid'
  | 'SourceSchemaMismatch';

/** JSON-serializable facts about a data fault (file, columns, counts…), carried as the failure's details. */
export type DataFaultDetails = Readonly<Record<string, unknown>>;

/**
 * A fault in the data, not in the system: retrying cannot fix it, so it fails the partition once with a clear
 * message. Raised in-process by parsers and activities; crosses the activity boundary through
 * {@link toApplicationFailure}.
 */
export class DataFaultError extends Error {
  /**
   * @param type stable failure type, used for alert routing and `nonRetryableErrorTypes`
   * @param message human-readable message naming the file, line or column at fault
   * @param details JSON-serializable facts for the run history and alerts
   */
  constructor(
    readonly type: DataFaultType,
    message: string,
    readonly details: DataFaultDetails = {},
  ) {
    super(message);
    this.name = 'DataFaultError';
  }
}

/** The file breaks its contract: malformed header line, or a required column missing or renamed. */
export class ContractBrokenError extends DataFaultError {
  constructor(message: string, details: DataFaultDetails = {}) {
    super('ContractBroken', message, details);
    this.name = 'ContractBrokenError';
  }
}

/** The file is not complete: no valid trailer, or its item count or checksum does not match its content. */
export class IncompleteFileError extends DataFaultError {
  constructor(message: string, details: DataFaultDetails = {}) {
    super('IncompleteFile', message, details);
    this.name = 'IncompleteFileError';
  }
}

/** Too many rows of a partition were quarantined: the partition fails whole and loads nothing. */
export class DataQualityError extends DataFaultError {
  constructor(message: string, details: DataFaultDetails = {}) {
    super('DataQualityThresholdExceeded', message, details);
    this.name = 'DataQualityError';
  }
}

/** The partition's source data does not exist (a machine offline, a file never delivered). */
export class SourceMissingError extends DataFaultError {
  constructor(message: string, details: DataFaultDetails = {}) {
    super('SourceMissing', message, details);
    this.name = 'SourceMissingError';
  }
}

/** The partition key is not one of the pipeline's partitioning (malformed, impossible date, hour skipped by DST). */
export class InvalidPartitionError extends DataFaultError {
  constructor(message: string, details: DataFaultDetails = {}) {
    super('InvalidPartition', message, details);
    this.name = 'InvalidPartitionError';
  }
}

/** An external source sent data its spec does not allow: not JSON, a field missing or of the wrong type. */
export class PayloadInvalidError extends DataFaultError {
  constructor(message: string, details: DataFaultDetails = {}) {
    super('PayloadInvalid', message, details);
    this.name = 'PayloadInvalidError';
  }
}

/** An external source's table or columns no longer match its spec (renamed, dropped). */
export class SourceSchemaMismatchError extends DataFaultError {
  constructor(message: string, details: DataFaultDetails = {}) {
    super('SourceSchemaMismatch', message, details);
    this.name = 'SourceSchemaMismatchError';
  }
}

/**
 * Converts a data fault into the non-retryable `ApplicationFailure` an activity throws, keeping its message and type
 * and passing its details as the single failure detail. Anything else is returned unchanged, so
 * `catch (err) { throw toApplicationFailure(err); }` keeps system errors retryable.
 */
export function toApplicationFailure(err: DataFaultError): ApplicationFailure;
export function toApplicationFailure(err: unknown): unknown;
export function toApplicationFailure(err: unknown): unknown {
  // A COPY stream or column the export's decoder cannot read: the query or the data must change, retrying cannot help.
  if (err instanceof Error && err.name === 'CopyBinaryError' && !(err instanceof ApplicationFailure))
    return ApplicationFailure.nonRetryable(err.message, 'CopyBinaryError');
  if (!(err instanceof DataFaultError)) return err;
  return ApplicationFailure.nonRetryable(err.message, err.type, err.details);
}
