import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { workingHourKeys } from '../generator/calendar.js';
import { generateLabInspections } from '../generator/lab-inspections.js';
import { generateMachineFiles, writeMachineHourFile } from '../generator/machine-files.js';

/** Demo fleet: what a newcomer's machine can process in seconds, with every defect of the contract visible. */
const FLEET = { seed: 2026, machines: 10, itemsPerFile: 2000 } as const;

interface DemoState {
  day: string;
  /** Working hours landed after the first day, in order. */
  extraHours: string[];
  /** The QA lab's files of the demo week were landed. */
  labLanded?: boolean;
}

/** The QA lab's demo: the working week up to the demo day, every defect of the lab contract in it. */
const LAB = { seed: 2026, machines: 10, samplesPerDay: 300 } as const;

/** The working day (Mon–Fri) `n` working days before `day`. */
function workingDaysBefore(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  for (let left = n; left > 0;) {
    d.setUTCDate(d.getUTCDate() - 1);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) left--;
  }
  return d.toISOString().slice(0, 10);
}

/** Copies the lab files (and their markers) of a generated folder into the landing area's `lab/`. */
function copyLab(from: string, landing: string): number {
  const to = path.join(landing, 'lab');
  mkdirSync(to, { recursive: true });
  let n = 0;
  for (const name of readdirSync(from)) {
    if (!/\.csv(\.done)?$/.test(name)) continue;
    cpSync(path.join(from, name), path.join(to, name));
    if (name.endsWith('.csv')) n++;
  }
  return n;
}

/** The last working day (Mon–Fri) strictly before `now`, in the plant's calendar. */
function previousWorkingDay(now: Date): string {
  const d = new Date(now.getTime() - 3 * 3_600_000);
  for (;;) {
    d.setUTCDate(d.getUTCDate() - 1);
    if (d.getUTCDay() !== 0 && d.getUTCDay() !== 6) return d.toISOString().slice(0, 10);
  }
}

function copyTxt(from: string, to: string): number {
  let n = 0;
  for (const name of readdirSync(from)) {
    if (name.endsWith('.txt') && statSync(path.join(from, name)).isFile()) {
      cpSync(path.join(from, name), path.join(to, name));
      n++;
    }
  }
  return n;
}

/**
 * The demo behind `npm start`: lands a generated working day (with every defect of the contract's table) in the
 * landing area, its late files a little later, then one more working hour for every machine every `hourSeconds`.
 * Progress is kept in `FABRICA_HOME/demo/state.json`, so a restart continues where it stopped.
 */
export class DemoLander {
  private timers: NodeJS.Timeout[] = [];
  private readonly dir: string;
  private readonly stateFile: string;

  constructor(
    private readonly landingDir: string,
    home: string,
    private readonly hourSeconds: number,
    private readonly say: (line: string) => void,
    /** The working day to land (`FABRICA_DEMO_DAY`); default: the last working day before now. */
    private readonly day?: string,
  ) {
    this.dir = path.join(home, 'demo');
    this.stateFile = path.join(this.dir, 'state.json');
  }

  /** Lands the first day (once) and schedules the next hours. */
  async start(): Promise<void> {
    mkdirSync(this.landingDir, { recursive: true });
    let state = this.load();
    if (!state) {
      const day = this.day ?? previousWorkingDay(new Date());
      const truth = await generateMachineFiles({
        outDir: path.join(this.dir, 'generated'),
        from: day,
        to: day,
        defects: 'all',
        ...FLEET,
      });
      const landed = copyTxt(path.join(this.dir, 'generated'), this.landingDir);
      this.say(
        `demo: landed ${landed} machine files for ${day} (${truth.totals.eventsLoaded} items expected; defects included)`,
      );
      this.timers.push(setTimeout(() => this.landLate(), 20_000));
      state = { day, extraHours: [] };
      this.save(state);
    }
    if (!state.labLanded) {
      await this.landLab(state.day);
      this.save({ ...state, labLanded: true });
    }
    if (this.hourSeconds > 0) this.timers.push(setInterval(() => void this.landNextHour(), this.hourSeconds * 1000));
  }

  /** Stops landing. */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  /**
   * Lands the QA lab's files of the five working days up to the demo day (enough for every defect of the contract),
   * then, with the late machine files, the lab's corrected re-send.
   */
  private async landLab(day: string): Promise<void> {
    const from = workingDaysBefore(day, 4);
    const out = path.join(this.dir, 'generated-lab');
    const truth = await generateLabInspections({ outDir: out, from, to: day, ...LAB });
    const landed = copyLab(path.join(out, 'lab'), this.landingDir);
    this.say(
      `demo: landed ${landed} QA lab files ${from}..${day} (${truth.totals.samplesLoaded} samples expected; defects included)`,
    );
    this.timers.push(
      setTimeout(() => {
        const resent = path.join(out, 'lab', 'resent');
        if (existsSync(resent))
          this.say(`demo: the QA lab re-sent ${copyLab(resent, this.landingDir)} corrected day(s)`);
      }, 25_000),
    );
  }

  private landLate(): void {
    const late = path.join(this.dir, 'generated', 'late');
    if (existsSync(late))
      this.say(
        `demo: ${copyTxt(late, this.landingDir)} late files delivered (their partitions are corrected downstream)`,
      );
  }

  private async landNextHour(): Promise<void> {
    const state = this.load()!;
    const last = state.extraHours.at(-1) ?? `${state.day}T17`;
    const next = nextWorkingHour(last);
    for (let m = 1; m <= FLEET.machines; m++) {
      const machine = `M${String(m).padStart(2, '0')}`;
      await writeMachineHourFile({ outDir: this.landingDir, machine, hourKey: next, defects: 'none', ...FLEET });
    }
    state.extraHours.push(next);
    this.save(state);
    this.say(`demo: landed hour ${next} for ${FLEET.machines} machines`);
  }

  private load(): DemoState | undefined {
    return existsSync(this.stateFile) ? (JSON.parse(readFileSync(this.stateFile, 'utf8')) as DemoState) : undefined;
  }

  private save(state: DemoState): void {
    writeFileSync(this.stateFile, JSON.stringify(state));
  }
}

/** The working hour after `hourKey` in the factory calendar. */
export function nextWorkingHour(hourKey: string): string {
  const date = hourKey.slice(0, 10);
  const sameDay = workingHourKeys(date, date).find((k) => k > hourKey);
  if (sameDay) return sameDay;
  const d = new Date(`${date}T00:00:00Z`);
  for (;;) {
    d.setUTCDate(d.getUTCDate() + 1);
    const day = d.toISOString().slice(0, 10);
    const keys = workingHourKeys(day, day);
    if (keys.length > 0) return keys[0]!;
  }
}
