import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** User and system CPU seconds a process has used so far, from /proc; undefined when it cannot be read. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the parenthesised name: state is the first field, utime and stime the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Starts counting the CPU of named processes; the returned function tells each one's seconds since. */
export function countProcesses(
  pids: Record<string, number | undefined>,
): () => Record<string, number | undefined> {
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  return () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, pid]) => {
        const now = cpuSeconds(pid);
        const then = start[name];
        return [name, now === undefined || then === undefined ? undefined : now - then];
      }),
    );
}
