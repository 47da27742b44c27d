// Samples a server process's resident set size from /proc/<pid>/status every 50 ms, keeping the
// highest value seen since the last mark, so each scenario gets its own peak.
import { readFile } from "node:fs/promises";

export interface RssSampler {
  /** Starts a new window; returns the RSS (MiB) at this moment. */
  mark(): Promise<number>;
  /** Highest RSS (MiB) since the last mark, including one fresh sample. */
  peak(): Promise<number>;
  /** VmHWM: the process's peak RSS (MiB) since it started. */
  highWater(): Promise<number>;
  stop(): void;
}

async function readStatus(pid: number): Promise<{ rss: number; hwm: number }> {
  try {
    const text = await readFile(`/proc/${pid}/status`, "utf8");
    const field = (name: string): number => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text);
      return m?.[1] === undefined ? Number.NaN : Number(m[1]) / 1024;
    };
    return { rss: field("VmRSS"), hwm: field("VmHWM") };
  } catch {
    return { rss: Number.NaN, hwm: Number.NaN };
  }
}

export function sampleRss(pid: number, intervalMs = 50): RssSampler {
  let windowPeak = 0;
  const sample = async (): Promise<number> => {
    const { rss } = await readStatus(pid);
    if (rss > windowPeak) windowPeak = rss;
    return rss;
  };
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  return {
    async mark() {
      windowPeak = 0;
      return sample();
    },
    async peak() {
      await sample();
      return windowPeak;
    },
    async highWater() {
      return (await readStatus(pid)).hwm;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
