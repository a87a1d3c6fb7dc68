import type { GenericFormatBase, GenericValue, RowRule } from '../format.js';
import { columnFault, show } from './reject.js';

/** Checks one typed row (values in the config's column order); throws a `RowReject` when it breaks a rule. */
export type RowCheck = (values: readonly GenericValue[]) => void;

/** Compiles the rules of a format into row checks, in the config's order (the first broken rule decides). */
export function compileRules(config: GenericFormatBase): RowCheck[] {
  const index = new Map(config.columns.map((c, i) => [c.name, i]));
  const at = (name: string) => index.get(name)!;
  return (config.rules ?? []).map((rule) => ruleCheck(rule, at));
}

/** Whether a value is NULL. */
export function isNull(value: GenericValue): value is null | undefined {
  return value === null || value === undefined;
}

/** The check of one rule; values are compared as text (booleans `t`/`f`, decimals in `.` notation). */
function ruleCheck(rule: RowRule, at: (name: string) => number): RowCheck {
  const { column } = rule;
  const i = at(column);
  switch (rule.kind) {
    case 'range': {
      const { min = -Infinity, max = Infinity } = rule;
      const bounds = `${rule.min ?? '…'} to ${rule.max ?? '…'}`;
      return (values) => {
        const value = values[i];
        if (isNull(value)) return;
        const n = Number(value);
        if (n < min || n > max) throw columnFault('out_of_range', column, `${value} is outside the range ${bounds}`);
      };
    }
    case 'allowed': {
      const allowed = new Set(rule.values);
      const expected = rule.values.join(', ');
      return (values) => {
        const value = values[i];
        if (!isNull(value) && !allowed.has(String(value))) {
          throw columnFault('bad_value', column, `${show(String(value))} is not one of ${expected}`);
        }
      };
    }
    case 'requiredWhen': {
      const when = whenCondition(rule.when, at);
      return (values) => {
        if (isNull(values[i]) && when.holds(values)) {
          throw columnFault('missing_value', column, `empty, but required when ${when.describe(values)}`);
        }
      };
    }
    case 'emptyUnless': {
      const when = whenCondition(rule.when, at);
      return (values) => {
        const value = values[i];
        if (!isNull(value) && !when.holds(values)) {
          throw columnFault(
            'unexpected_value',
            column,
            `${show(String(value))} given, but must be empty when ${when.describe(values)}`,
          );
        }
      };
    }
  }
}

/** A `when: { column, in }` condition: whether a row meets it, and how to describe the row's value in a message. */
function whenCondition(when: { column: string; in: string[] }, at: (name: string) => number) {
  const i = at(when.column);
  const values = new Set(when.in);
  return {
    holds: (row: readonly GenericValue[]) => !isNull(row[i]) && values.has(String(row[i])),
    describe: (row: readonly GenericValue[]) => `${when.column} is ${isNull(row[i]) ? 'empty' : show(String(row[i]))}`,
  };
}
