// Where a benchmark run's CPU went, from Linux's /proc: the whole machine, Postgres, the Kafka broker, this
// process and any other processes the benchmark names (a service under load, a producing child). On a machine where the broker, Postgres, the producer and the consumer share a few cores, a run is
// CPU-bound and its throughput follows the CPU each event costs; these figures show it.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** CPU seconds of a run, by who spent them. */
export interface CpuUse {
  /** Busy time of every core together. */
  machine: number;
  /** Idle time of every core together. */
  idle: number;
  postgres: number;
  broker: number;
  /** This process. */
  self: number;
  /** Each named process; NaN for one whose /proc entry could not be read at both ends. */
  named: Record<string, number>;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/** Busy and idle ticks of all cores, or undefined where there is no /proc/stat. */
function machineTicks(): { busy: number; idle: number } | undefined {
  const line = read('/proc/stat')?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}

/** User and system ticks per process of the groups we account for. */
function processTicks(): Map<string, { group: 'postgres' | 'broker'; ticks: number }> {
  const found = new Map<string, { group: 'postgres' | 'broker'; ticks: number }>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    let group: 'postgres' | 'broker' | undefined;
    if (name.startsWith('postgres')) group = 'postgres';
    else if (name === 'java' && read(`/proc/${pid}/cmdline`)?.includes('kafka.Kafka')) group = 'broker';
    if (!group) continue;
    // Fields after the name: state is the first, utime and stime the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    found.set(pid, { group, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return found;
}

/** User and system ticks a process has used so far; undefined when its /proc entry cannot be read. */
function ticksOf(pid: number | undefined): number | undefined {
  const stat = pid === undefined ? undefined : read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Starts counting, the processes in `pids` too (by the names given); the returned function stops and tells
 * what was spent. Undefined off Linux.
 */
export function startCpuCount(pids: Record<string, number | undefined> = {}): (() => CpuUse) | undefined {
  const machine0 = machineTicks();
  if (!machine0) return undefined;
  const processes0 = processTicks();
  const named0 = Object.entries(pids).map(([name, pid]) => [name, pid, ticksOf(pid)] as const);
  const self0 = process.cpuUsage();
  return () => {
    const machine1 = machineTicks() ?? machine0;
    const groups = { postgres: 0, broker: 0 };
    // A process that started during the run counts from zero; one that ended is missed (none should).
    for (const [pid, now] of processTicks())
      groups[now.group] += now.ticks - (processes0.get(pid)?.ticks ?? 0);
    const self = process.cpuUsage(self0);
    const named = Object.fromEntries(
      named0.map(([name, pid, then]) => {
        const now = ticksOf(pid);
        return [name, now === undefined || then === undefined ? Number.NaN : (now - then) / TICKS_PER_SECOND];
      }),
    );
    return {
      machine: (machine1.busy - machine0.busy) / TICKS_PER_SECOND,
      idle: (machine1.idle - machine0.idle) / TICKS_PER_SECOND,
      postgres: groups.postgres / TICKS_PER_SECOND,
      broker: groups.broker / TICKS_PER_SECOND,
      self: (self.user + self.system) / 1e6,
      named,
    };
  };
}

/** A process's own CPU seconds since `since` (from `process.cpuUsage()`). */
export const cpuSecondsSince = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
