// `strata vm run|ps|stop|rm|logs`: machines from disk versions. `run` reads the disk artifact's
// manifest from the registry every time — so a revoked or end-of-life version is refused with the
// gallery's reason even when its disk is cached — fetches the disk once into the local disk cache
// (by digest) and boots it in QEMU on a qcow2 overlay backed by that cached file: ten machines
// from one version share one base file.
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { serverUrl } from "../api-client.ts";
import { usageError } from "../errors.ts";
import { dataDir, parseImageLocation, registryClient } from "../images.ts";
import { checkRunPolicy } from "../run-policy.ts";
import type { CliIo } from "../io.ts";
import { printJson, printTable } from "../output.ts";
import { createProgress } from "../progress.ts";
import { cacheOption } from "../disk-publish.ts";

interface VmFlags {
  server?: string;
  insecure?: boolean;
  json?: boolean;
}

interface RunFlags extends VmFlags {
  name?: string;
  memory?: string;
  cpus?: string;
  detach?: boolean;
  console?: boolean;
}

const vmState = (io: CliIo) => join(dataDir(io.env), "vms");
const diskCache = (io: CliIo) => join(dataDir(io.env), "vm-disks");

function positive(flag: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw usageError(`Invalid ${flag} "${value}": expected a whole number from 1 to ${max}`);
  return n;
}

/** VmError of the caller's making (a name in use, no such machine) exits 2 with its message. */
function vmFailure(error: unknown): never {
  const e = error as { name?: string; code?: string; message?: string };
  if (e.name === "VmError" && (e.code === "USAGE" || e.code === "NOT_FOUND"))
    throw usageError(e.message ?? "");
  throw error;
}

export function registerVm(program: Command, io: CliIo): void {
  const vm = program.command("vm").description("VMs in QEMU from disk versions: run, ps, stop, rm, logs");

  vm.command("run <ref>")
    .description(
      "Boot a disk version (GALLERY/NAME:VERSION, a tag or a digest) in QEMU on a copy-on-write overlay of the cached disk",
    )
    .option("--name <name>", "the machine's name (default vm-<id>)")
    .option("--memory <MiB>", "guest memory in MiB", "1024")
    .option("--cpus <n>", "virtual CPUs", "2")
    .option("-d, --detach", "start in the background and print the machine's name")
    .option("--console", "attach this terminal to the serial console (the default without -d)")
    .option("--server <url>", "the registry a REF without one names (default $STRATA_SERVER)")
    .option("--insecure", "plain HTTP to registries that are not on loopback")
    .option("--json", "print JSON")
    .action(async (text: string, flags: RunFlags) => {
      if (flags.detach === true && flags.console === true) throw usageError("Give -d or --console, not both");
      const memoryMiB = positive("--memory", flags.memory, 1024, 1024 * 1024);
      const cpus = positive("--cpus", flags.cpus, 2, 256);
      const ref = parseImageLocation(text, "disk reference");
      if (ref.kind !== "name")
        throw usageError(
          `Invalid disk reference "${text}": expected [REGISTRY/]GALLERY/NAME[:VERSION|@DIGEST]`,
        );
      const registry = ref.reference.registry ?? new URL(serverUrl(flags.server, io.env)).host;
      const reference = ref.reference.digest ?? ref.reference.tag ?? "latest";
      await checkRunPolicy(
        io,
        registry,
        `${registry}/${ref.reference.repository}${reference.includes(":") ? "@" : ":"}${reference}`,
        {
          insecure: flags.insecure === true,
          ...(flags.server === undefined ? {} : { server: flags.server }),
        },
      );
      const { fetchDisk, pullDisk } = await import("../../disk/index.ts");
      const client = await registryClient(registry, io.env, flags.insecure === true);
      const progress = createProgress(io, flags.json === true || flags.detach !== true);
      // Always asked: the registry refuses a revoked or end-of-life version with its reason.
      const description = await fetchDisk(client, ref.reference.repository, reference);
      const cache = diskCache(io);
      await mkdir(cache, { recursive: true });
      const base = join(cache, `${description.digest.replace(":", "-")}.qcow2`);
      const cached = await stat(base).then(
        () => true,
        () => false,
      );
      if (!cached) {
        progress.line(`Fetching ${text} (${description.digest})`);
        await pullDisk(client, ref.reference.repository, description.digest, base, {
          progress: progress.bytes,
          ...cacheOption(io),
        });
        progress.done();
      }
      const { runVm } = await import("../../vm/index.ts");
      const info = await runVm({
        base: { path: base, format: "qcow2" },
        stateDir: vmState(io),
        ...(flags.name === undefined ? {} : { name: flags.name }),
        memoryMiB,
        cpus,
        boot: description.boot,
        detach: flags.detach === true,
        source: `${registry}/${ref.reference.repository}${reference.includes(":") ? "@" : ":"}${reference}`,
      }).catch(vmFailure);
      if (flags.json === true) printJson(io, info);
      else if (flags.detach === true) io.stdout.write(`${info.name}\n`);
    });

  vm.command("ps")
    .description("List machines: name, state, source, memory, CPUs")
    .option("-a, --all", "also stopped machines")
    .option("--json", "print JSON")
    .action(async (flags: { all?: boolean; json?: boolean }) => {
      const { listVms } = await import("../../vm/index.ts");
      const all = await listVms(vmState(io));
      const shown = flags.all === true ? all : all.filter((m) => m.running);
      if (flags.json === true) return printJson(io, shown);
      printTable(
        io,
        [
          ["NAME", (m) => m.name],
          ["STATE", (m) => (m.running ? "running" : "stopped")],
          ["SOURCE", (m) => m.source ?? m.base.path],
          ["MEMORY", (m) => `${m.memoryMiB} MiB`],
          ["CPUS", (m) => m.cpus],
          ["ACCEL", (m) => m.accel],
          ["CREATED", (m) => m.created],
        ],
        shown,
      );
    });

  vm.command("stop <names...>")
    .description("Power machines off (ACPI power button, then quit after --time)")
    .option("-t, --time <seconds>", "seconds to wait for the guest to power off", "30")
    .action(async (names: string[], flags: { time?: string }) => {
      const timeoutMs = positive("--time", flags.time, 30, 3600) * 1000;
      const { stopVm } = await import("../../vm/index.ts");
      for (const name of names) {
        const how = await stopVm(vmState(io), name, { timeoutMs }).catch(vmFailure);
        io.stdout.write(`${name} ${how}\n`);
      }
    });

  vm.command("rm <names...>")
    .description("Remove machines and their overlays (the cached disk stays)")
    .option("-f, --force", "stop a running machine first")
    .action(async (names: string[], flags: { force?: boolean }) => {
      const { removeVm } = await import("../../vm/index.ts");
      for (const name of names) {
        await removeVm(vmState(io), name, { force: flags.force === true }).catch(vmFailure);
        io.stdout.write(`${name}\n`);
      }
    });

  vm.command("logs <name>")
    .description("Print a machine's serial console")
    .action(async (name: string) => {
      const { vmLogs } = await import("../../vm/index.ts");
      io.stdout.write(await vmLogs(vmState(io), name).catch(vmFailure));
    });
}
