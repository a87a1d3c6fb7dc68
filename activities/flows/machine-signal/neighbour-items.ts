import type pg from 'pg';

/** Rows held back at most before their item_seq values are looked up in the neighbouring hours (bounds memory). */
export const NEIGHBOUR_BATCH = 5_000;

/**
 * The items a machine's nearest published hours before and after a partition hold. The contract says
 * `(machine, item_seq)` identifies an item and item_seq increases per machine, so a line of this hour's file can only
 * repeat an item of another hour when its item_seq is at most the previous hour's largest or at least the next
 * hour's smallest: only those candidate rows are looked up, in batches.
 */
export class NeighbourItems {
  private constructor(
    private readonly db: pg.Pool,
    private readonly machine: string,
    private readonly hours: Date[],
    private readonly prevMax: number | undefined,
    private readonly nextMin: number | undefined,
  ) {}

  /** Reads the bounds from `factory.production_events` (two index probes on its primary key). */
  static async of(db: pg.Pool, machine: string, hourStart: string): Promise<NeighbourItems> {
    const res = await db.query<{ side: string; hour: Date; bound: string }>(
      `SELECT 'prev' AS side, partition_hour AS hour, max(item_seq)::text AS bound FROM factory.production_events
        WHERE machine_id = $1 AND partition_hour = (SELECT max(partition_hour) FROM factory.production_events
                                                      WHERE machine_id = $1 AND partition_hour < $2)
        GROUP BY partition_hour
       UNION ALL
       SELECT 'next', partition_hour, min(item_seq)::text FROM factory.production_events
        WHERE machine_id = $1 AND partition_hour = (SELECT min(partition_hour) FROM factory.production_events
                                                      WHERE machine_id = $1 AND partition_hour > $2)
        GROUP BY partition_hour`,
      [machine, hourStart],
    );
    const side = (s: string) => res.rows.find((r) => r.side === s);
    const [prev, next] = [side('prev'), side('next')];
    return new NeighbourItems(
      db,
      machine,
      res.rows.map((r) => r.hour),
      prev ? Number(prev.bound) : undefined,
      next ? Number(next.bound) : undefined,
    );
  }

  /** Whether an item_seq may be published in a neighbouring hour (look it up). */
  mayRepeat(itemSeq: number): boolean {
    return (
      (this.prevMax !== undefined && itemSeq <= this.prevMax) || (this.nextMin !== undefined && itemSeq >= this.nextMin)
    );
  }

  /** The item_seq values among `itemSeqs` that a neighbouring hour of the machine already publishes. */
  async published(itemSeqs: number[]): Promise<Set<number>> {
    if (itemSeqs.length === 0) return new Set();
    const res = await this.db.query<{ item_seq: string }>(
      `SELECT item_seq::text FROM factory.production_events
        WHERE machine_id = $1 AND partition_hour = ANY($2::timestamptz[]) AND item_seq = ANY($3::bigint[])`,
      [this.machine, this.hours, itemSeqs],
    );
    return new Set(res.rows.map((r) => Number(r.item_seq)));
  }
}
