// `strata gc`: removes blobs that no repository links and no manifest names, once older than a
// grace window (so pushes in progress are never harmed). Safe while servers run.
import type { Command } from "commander";
import type { CliIo } from "../io.ts";

export function registerGc(program: Command, io: CliIo): void {
  program
    .command("gc")
    .description("Remove unreferenced blobs older than a grace window from the blob pool")
    .option("--data <dir>", "data directory (default ./.strata)")
    .option("--config <file>", "YAML configuration file")
    .option("--database <url>", "metadata database: sqlite:PATH or postgres://…")
    .option("--grace <duration>", "keep blobs written more recently than this", "1h")
    .option("--dry-run", "list what would be removed without removing it")
    .option("--json", "print the report as JSON")
    .action(
      async (flags: {
        data?: string;
        config?: string;
        database?: string;
        grace: string;
        dryRun?: boolean;
        json?: boolean;
      }) => {
        const { collectGarbage, createFsBlobStore, createMetadataStore } =
          await import("../../store/index.ts");
        const { parseDuration } = await import("../../server/index.ts");
        const { configFromFlags } = await import("../config-flags.ts");
        const config = await configFromFlags(flags, io);
        const graceMs = parseDuration(flags.grace);
        if (graceMs === undefined) {
          throw new Error(`Invalid --grace "${flags.grace}": expected a duration such as 30m, 1h or 7d`);
        }
        const meta = await createMetadataStore(config.database);
        try {
          const report = await collectGarbage(createFsBlobStore({ root: config.data }), meta, {
            graceMs,
            dryRun: flags.dryRun === true,
          });
          if (flags.json === true) {
            io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
            return;
          }
          const verb = report.dryRun ? "would remove" : "removed";
          for (const blob of report.removed) io.stdout.write(`${verb} ${blob.digest} (${blob.size} bytes)\n`);
          io.stdout.write(
            `${report.scanned} blobs scanned, ${report.kept} referenced, ${report.young} within the grace window, ` +
              `${verb} ${report.removed.length} (${report.removedBytes} bytes)\n`,
          );
        } finally {
          await meta.close();
        }
      },
    );
}
