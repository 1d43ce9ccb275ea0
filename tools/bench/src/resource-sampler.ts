/**
 * CPU and memory of named process groups, from /proc (Linux): CPU from utime+stime ticks in
 * `/proc/<pid>/stat`, memory from `VmRSS` in `/proc/<pid>/status` (for a group of several processes, such as
 * Postgres with its backends, the sum of `Pss` from `smaps_rollup`, so shared buffers are not counted once per
 * backend). Also the machine's total busy CPU, so CPU used by processes outside the benchmark is visible.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ; 100 on every mainstream Linux build

export interface GroupUsage {
  /** Average over the phase, in % of one core. */
  cpuPercent: number;
  peakRssMb: number;
}

export interface PhaseUsage {
  seconds: number;
  groups: Record<string, GroupUsage>;
  /** Busy CPU of the whole machine (% of one core; 200 = both cores of a 2-core machine). */
  machineCpuPercent: number;
  /** Busy CPU not accounted for by the sampled groups or the benchmark process itself. */
  otherCpuPercent: number;
  loadAverage1m: number;
  /** CPU of child processes of the benchmark that exited during the phase (Kafka's producer perf tool). */
  exitedChildrenCpuPercent: number;
}

function readTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of the whole line)
  } catch {
    return 0;
  }
}

/** CPU ticks of this process's children that have exited and been waited for (cutime + cstime). */
function readExitedChildrenTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

function readRssKb(pid: number, proportional: boolean): number {
  try {
    const text = readFileSync(proportional ? `/proc/${pid}/smaps_rollup` : `/proc/${pid}/status`, 'utf8');
    return Number((proportional ? /^Pss:\s+(\d+)/m : /^VmRSS:\s+(\d+)/m).exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function machineTicks(): { busy: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = values.map(Number);
  return { busy: user + nice + system + irq + softirq + steal };
}

interface Mark {
  at: number;
  ticks: Map<number, number>;
  busy: number;
  exitedChildren: number;
  peaks: Map<string, number>;
}

export class ResourceSampler {
  private timer?: NodeJS.Timeout;
  private readonly marks = new Map<string, Mark>();
  private lastTicks = new Map<number, number>();

  constructor(private readonly groups: () => Record<string, number[]>, private readonly intervalMs = 1000) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private sample(): void {
    for (const [name, pids] of Object.entries(this.groups())) {
      const rss = pids.reduce((sum, pid) => sum + readRssKb(pid, pids.length > 1), 0) / 1024;
      for (const mark of this.marks.values()) mark.peaks.set(name, Math.max(mark.peaks.get(name) ?? 0, rss));
      for (const pid of pids) this.lastTicks.set(pid, readTicks(pid));
    }
  }

  begin(phase: string): void {
    const ticks = new Map<number, number>();
    for (const pids of Object.values(this.groups())) for (const pid of pids) ticks.set(pid, readTicks(pid));
    ticks.set(process.pid, readTicks(process.pid));
    this.marks.set(phase, { at: Date.now(), ticks, busy: machineTicks().busy, exitedChildren: readExitedChildrenTicks(), peaks: new Map() });
    this.sample();
  }

  end(phase: string, extraPids: number[] = []): PhaseUsage {
    this.sample();
    const mark = this.marks.get(phase);
    if (!mark) throw new Error(`no phase ${phase}`);
    this.marks.delete(phase);
    const seconds = (Date.now() - mark.at) / 1000;
    const percent = (ticks: number) => Math.round((ticks / TICKS_PER_SECOND / seconds) * 1000) / 10;
    const groups: Record<string, GroupUsage> = {};
    let accounted = 0;
    const delta = (pid: number) => {
      const now = readTicks(pid) || this.lastTicks.get(pid) || 0; // an exited process: its last sample
      return Math.max(0, now - (mark.ticks.get(pid) ?? 0));
    };
    for (const [name, pids] of Object.entries(this.groups())) {
      const ticks = pids.reduce((sum, pid) => sum + delta(pid), 0);
      accounted += ticks;
      groups[name] = { cpuPercent: percent(ticks), peakRssMb: Math.round(mark.peaks.get(name) ?? 0) };
    }
    for (const pid of [process.pid, ...extraPids]) accounted += delta(pid);
    const exitedChildren = readExitedChildrenTicks() - mark.exitedChildren;
    accounted += exitedChildren;
    const busy = machineTicks().busy - mark.busy;
    groups.bench = { cpuPercent: percent(delta(process.pid)), peakRssMb: Math.round(process.memoryUsage().rss / 1048576) };
    return {
      seconds: Math.round(seconds * 10) / 10, groups, machineCpuPercent: percent(busy),
      otherCpuPercent: Math.max(0, percent(busy - accounted)), loadAverage1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      exitedChildrenCpuPercent: percent(exitedChildren),
    };
  }
}
