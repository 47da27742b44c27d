// CPU time (user + system, all threads) a process has used so far, from /proc/<pid>/stat, so a
// scenario can report how much work each server did besides how fast it answered.
import { readFile } from "node:fs/promises";

const TICKS_PER_SECOND = 100; // USER_HZ, 100 on every Linux configuration Node runs on

export async function cpuMs(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}
