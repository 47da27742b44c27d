// A small runnable image made from Debian's busybox-static, written once per test process as an
// OCI image layout: layer 1 the busybox binary, layer 2 applet symlinks and /etc files, layer 3
// /hello.txt. Timestamps are the epoch, so the digests depend only on the busybox binary.
import { readFile, mkdtemp } from "node:fs/promises";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, buildLayer, writeOciLayout, type Platform, type TestImage } from "./images.ts";

export const BUSYBOX = "/bin/busybox";
export const HELLO_TEXT = "hello from strata\n";
const APPLETS = [
  "sh",
  "echo",
  "cat",
  "ls",
  "true",
  "false",
  "env",
  "id",
  "mkdir",
  "rm",
  "uname",
  "wc",
  "test",
];

export interface BusyboxLayout {
  /** The OCI layout folder, for `oci:DIR:TAG` references. */
  readonly dir: string;
  readonly tag: string;
  readonly image: TestImage;
}

/** The host's platform in OCI terms, so the image runs here. */
export function hostPlatform(): Platform {
  const architecture = process.arch === "x64" ? "amd64" : process.arch;
  return { os: "linux", architecture };
}

export async function buildBusyboxImage(): Promise<TestImage> {
  const busybox = await readFile(BUSYBOX);
  const base = await buildLayer([
    { name: "bin/", type: "directory" },
    { name: "bin/busybox", type: "file", content: busybox, mode: 0o755 },
  ]);
  const applets = await buildLayer([
    ...["dev/", "etc/", "proc/", "root/", "sys/", "tmp/"].map((name) => ({
      name,
      type: "directory" as const,
      ...(name === "tmp/" ? { mode: 0o1777 } : {}),
    })),
    ...APPLETS.map((applet) => ({ name: `bin/${applet}`, type: "symlink" as const, linkname: "busybox" })),
    { name: "etc/passwd", type: "file", content: Buffer.from("root:x:0:0:root:/root:/bin/sh\n") },
    { name: "etc/group", type: "file", content: Buffer.from("root:x:0:\n") },
  ]);
  const hello = await buildLayer([{ name: "hello.txt", type: "file", content: Buffer.from(HELLO_TEXT) }]);
  return buildImage({
    layers: [base, applets, hello],
    platform: hostPlatform(),
    execution: {
      Env: ["PATH=/bin"],
      Cmd: ["/bin/sh", "-c", "echo hello from strata"],
      WorkingDir: "/",
    },
  });
}

let cached: Promise<BusyboxLayout> | undefined;

/** The busybox image as an OCI layout tagged "latest"; built once, removed when the process exits. */
export function busyboxLayout(): Promise<BusyboxLayout> {
  cached ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "strata-busybox-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const image = await buildBusyboxImage();
    const tag = "latest";
    await writeOciLayout(dir, [image], { tags: [tag] });
    return { dir, tag, image };
  })();
  return cached;
}
