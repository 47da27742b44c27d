// Flags people type from habit (docker, podman) that Strata does not take: hidden options whose
// use ends the command, before it does anything, with a usage error saying what to use instead.
// Flags that Strata does take the docker way are ordinary options of their commands.
import { Option, type Command } from "commander";
import { usageError } from "./errors.ts";

export interface Habit {
  /** commander's flags, e.g. `-p, --publish <port>` or `--tail <n>`. */
  readonly flags: string;
  /** The message for its use; gets the value given (true for a flag without one). */
  readonly message: (value: unknown) => string;
}

/** Adds `habits` to `command` as hidden options refused with their message. */
export function refuseHabits(command: Command, habits: readonly Habit[]): Command {
  const options = habits.map((h) => ({ habit: h, option: new Option(h.flags).hideHelp() }));
  for (const { option } of options) command.addOption(option);
  command.hook("preAction", (self) => {
    const given = self.opts<Record<string, unknown>>();
    for (const { habit, option } of options) {
      const value = given[option.attributeName()];
      if (value !== undefined) throw usageError(habit.message(value));
    }
  });
  return command;
}

/** `strata run` flags for what a container here does not have: ports to map, restarts. */
export const RUN_HABITS: readonly Habit[] = [
  {
    flags: "-p, --publish <ports>",
    message: (v) =>
      `Cannot publish port "${String(v)}": a container has no network of its own to map ports from (none by default); with --network host it shares the host's network, so a port it listens on is already the host's`,
  },
  {
    flags: "-P, --publish-all",
    message: () =>
      "Cannot publish ports: a container has no network of its own to map ports from (none by default); with --network host it shares the host's network, so a port it listens on is already the host's",
  },
  {
    flags: "--restart <policy>",
    message: (v) =>
      `Cannot restart containers ("--restart ${String(v)}"): there is no daemon to restart them; run strata run under a service manager (a systemd unit with Restart=) instead`,
  },
];

/** `strata logs` flags that need what the logs do not record. */
export const LOGS_HABITS: readonly Habit[] = [
  {
    flags: "-t, --timestamps",
    message: () => "--timestamps is not supported: the logs record no times, only the output",
  },
  {
    flags: "--since <time>",
    message: () => "--since is not supported: the logs record no times (strata logs NAME prints all of it)",
  },
  {
    flags: "--until <time>",
    message: () => "--until is not supported: the logs record no times (strata logs NAME prints all of it)",
  },
];

/** `--filter` on `ps` and `images`: the listings print everything; scripts select. */
export const FILTER_HABITS: readonly Habit[] = [
  {
    flags: "-f, --filter <filter>",
    message: (v) =>
      `--filter is not supported ("${String(v)}"): every entry is listed; select with --format and grep, or --json and jq`,
  },
];
