// The configuration loader: defaults, the file, environment over file, overrides over
// environment, and clear errors naming the key and where the bad value came from.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { hashPassword } from "../registry/index.ts";
import { loadConfig, type LoadConfigOptions } from "./config.ts";
import { envVariables } from "./config-env.ts";
import { CONFIG_SCHEMA, DEFAULT_DATA } from "./config-schema.ts";

let dir = "";
let hash = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "strata-config-"));
  hash = await hashPassword("secret", { logN: 10 });
});
after(() => rm(dir, { recursive: true, force: true }));

async function yamlFile(text: string, name = "strata.yaml"): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function loadError(options: LoadConfigOptions): Promise<string> {
  try {
    await loadConfig(options);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail("expected loadConfig to fail");
}

describe("loadConfig", () => {
  test("fills every default", async () => {
    const config = await loadConfig({ file: null });
    assert.deepEqual(config, {
      addr: "127.0.0.1:5000",
      data: "./.strata",
      database: "sqlite:.strata/strata.db",
      log: { level: "info" },
      uploads: { ttl: 24 * 3_600_000 },
      limits: { manifestMaxBytes: 4 * 1024 * 1024 },
      auth: {
        anonymous: "none",
        users: {},
        access: [],
        token: { ttl: 300_000, issuer: "strata", service: "strata" },
      },
      gallery: { webhooks: {}, delivery: { backoff: 2000, timeout: 10_000 }, sweep: 60_000, signing: {} },
      policies: [],
      policy: { timeout: 5000, keys: {} },
      site: { name: "local", cost: { storagePerGiBMonth: 0 } },
      sites: {},
      replication: { interval: 10000, backoff: 5000, maxBackoff: 600000, concurrency: 4 },
      usage: { enabled: true, flush: 1000 },
      shutdown: { grace: 30_000 },
      admission: { timeout: 5000, bodyMaxBytes: 4 * 1024 * 1024 },
      tls: { reload: 10_000, allowPlaintext: false },
    });
  });

  test("reads admission from a file and the environment", async () => {
    const file = await yamlFile(
      "admission:\n  addr: 0.0.0.0:8443\n  certificate: /etc/strata/webhook.crt\n  key: /etc/strata/webhook.key\n  timeout: 3s\n",
      "admission.yaml",
    );
    const config = await loadConfig({ file, env: { STRATA_ADMISSION_BODYMAXBYTES: "1MiB" } });
    assert.deepEqual(config.admission, {
      addr: "0.0.0.0:8443",
      certificate: "/etc/strata/webhook.crt",
      key: "/etc/strata/webhook.key",
      timeout: 3000,
      bodyMaxBytes: 1024 * 1024,
    });
  });

  test("reads tls from a file and the environment", async () => {
    const file = await yamlFile(
      "tls:\n  certificate: /etc/strata/tls.crt\n  key: /etc/strata/tls.key\n  reload: 1m\n",
    );
    const config = await loadConfig({
      file,
      env: { STRATA_TLS_CLIENTCA: "/etc/strata/clients.crt", STRATA_TLS_ALLOWPLAINTEXT: "false" },
    });
    assert.deepEqual(config.tls, {
      certificate: "/etc/strata/tls.crt",
      key: "/etc/strata/tls.key",
      clientCA: "/etc/strata/clients.crt",
      reload: 60_000,
      allowPlaintext: false,
    });
  });

  test("users on a non-loopback address need TLS or tls.allowPlaintext", async () => {
    const users = `auth:\n  users:\n    alice: { password: "${hash}" }\n`;
    const open = await yamlFile(`addr: 0.0.0.0:5000\n${users}`, "open.yaml");
    assert.equal(
      await loadError({ file: open }),
      `Invalid configuration "${open}": line 1: addr: "0.0.0.0:5000" is not a loopback address and auth.users ` +
        "is set, so passwords and tokens would cross the network in clear text: set tls.certificate " +
        "and tls.key, or tls.allowPlaintext: true to serve plain HTTP anyway (e.g. behind a proxy " +
        "that terminates TLS)",
    );
    assert.match(
      await loadError({ file: await yamlFile(users), overrides: { addr: ":5000" } }),
      /^Invalid configuration in overrides: addr: ":5000" is not a loopback address/,
      "the source that set the address is named",
    );
    const allowed = await loadConfig({ file: open, env: { STRATA_TLS_ALLOWPLAINTEXT: "true" } });
    assert.equal(allowed.tls.allowPlaintext, true);
    const withTls = await loadConfig({
      file: open,
      overrides: { tls: { certificate: "tls.crt", key: "tls.key" } },
    });
    assert.equal(withTls.tls.certificate, "tls.crt");
    for (const addr of ["127.0.0.1:5000", "127.1.2.3:5000", "localhost:5000", "[::1]:5000"]) {
      const config = await loadConfig({ file: await yamlFile(`addr: "${addr}"\n${users}`, "loop.yaml") });
      assert.equal(config.addr, addr, "loopback addresses need no TLS");
    }
    const noUsers = await loadConfig({ file: null, overrides: { addr: "0.0.0.0:5000" } });
    assert.equal(noUsers.addr, "0.0.0.0:5000", "without users there are no credentials to protect");
  });

  test("reads gallery webhooks from a file and the environment, and refuses bad ones", async () => {
    const file = await yamlFile(
      [
        "gallery:",
        "  webhooks:",
        '    ci: { url: "http://127.0.0.1:9/hook", secret: "s1", events: [version.revoked] }',
        "  delivery: { backoff: 250ms }",
      ].join("\n"),
    );
    const config = await loadConfig({
      file,
      env: { STRATA_GALLERY_WEBHOOKS: '{ops: {url: "https://ops.example/h", secret: "s2"}}' },
    });
    assert.deepEqual(config.gallery.webhooks, {
      ci: { url: "http://127.0.0.1:9/hook", secret: "s1", events: ["version.revoked"], galleries: [] },
      ops: { url: "https://ops.example/h", secret: "s2", events: [], galleries: [] },
    });
    assert.equal(config.gallery.delivery.backoff, 250);
    const bad = await yamlFile(
      'gallery:\n  webhooks:\n    x: { url: "ftp://h/", secret: "s", events: [nope] }\n',
    );
    const message = await loadError({ file: bad });
    assert.match(message, /gallery\.webhooks\.x\.url: expected an http:\/\/ or https:\/\/ URL/);
  });

  test("reads strata.yaml from cwd when no file is named, and nothing when it is absent", async () => {
    const cwd = await mkdtemp(join(dir, "cwd-"));
    assert.equal((await loadConfig({ cwd })).addr, "127.0.0.1:5000");
    await writeFile(join(cwd, "strata.yaml"), "addr: 127.0.0.1:6000\n");
    assert.equal((await loadConfig({ cwd })).addr, "127.0.0.1:6000");
    await writeFile(join(cwd, "strata.yaml"), "addr: nope\n");
    assert.match(await loadError({ cwd }), /^Invalid configuration "strata\.yaml": line 1: addr: /);
  });

  test("reads a file: durations, sizes, auth and a derived database", async () => {
    const file = await yamlFile(
      [
        'addr: "[::1]:5001"',
        "data: /srv/strata",
        "log: { level: debug }",
        "uploads: { ttl: 90m }",
        "limits: { manifestMaxBytes: 512KiB }",
        "shutdown: { grace: 5s }",
        "auth:",
        "  anonymous: read",
        "  users:",
        `    alice: { password: "${hash}" }`,
        "  access:",
        '    - repositories: ["team/*"]',
        '      users: ["alice", "*"]',
        "      actions: [pull, push]",
        "  token: { ttl: 10m, service: registry.example }",
      ].join("\n"),
    );
    const config = await loadConfig({ file });
    assert.equal(config.addr, "[::1]:5001");
    assert.equal(config.database, "sqlite:/srv/strata/strata.db");
    assert.equal(config.log.level, "debug");
    assert.deepEqual(config.uploads, { ttl: 90 * 60_000 });
    assert.equal(config.limits.manifestMaxBytes, 512 * 1024);
    assert.equal(config.shutdown.grace, 5000);
    assert.deepEqual(config.auth, {
      anonymous: "read",
      users: { alice: { password: hash } },
      access: [{ repositories: ["team/*"], users: ["alice", "*"], actions: ["pull", "push"] }],
      token: { ttl: 600_000, issuer: "strata", service: "registry.example" },
    });
  });

  test("an empty file or null sections mean defaults", async () => {
    const empty = await loadConfig({ file: await yamlFile("# nothing yet\n") });
    assert.equal(empty.log.level, "info");
    const nulls = await loadConfig({ file: await yamlFile("log:\nauth:\n  users:\n") });
    assert.deepEqual(nulls.auth.users, {});
  });

  test("the environment beats the file, overrides beat the environment", async () => {
    const file = await yamlFile(
      "addr: 127.0.0.1:1000\ndata: /from/file\nlog: { level: warn }\nuploads: { ttl: 1h }\n",
    );
    const env = {
      STRATA_ADDR: "127.0.0.1:2000",
      STRATA_LOG_LEVEL: "debug",
      STRATA_LIMITS_MANIFESTMAXBYTES: "1MiB",
      STRATA_AUTH_ANONYMOUS: "read",
      STRATA_SHUTDOWN_GRACE: "",
      PATH: "/usr/bin",
    };
    const fromEnv = await loadConfig({ file, env });
    assert.equal(fromEnv.addr, "127.0.0.1:2000");
    assert.equal(fromEnv.data, "/from/file");
    assert.equal(fromEnv.log.level, "debug");
    assert.equal(fromEnv.uploads.ttl, 3_600_000);
    assert.equal(fromEnv.limits.manifestMaxBytes, 1024 * 1024);
    assert.equal(fromEnv.auth.anonymous, "read");
    assert.equal(fromEnv.shutdown.grace, 30_000, "an empty variable is unset");

    const overridden = await loadConfig({
      file,
      env,
      overrides: {
        addr: "127.0.0.1:3000",
        log: { level: "error" },
        uploads: { ttl: 2000 },
        database: "postgres://db/strata",
      },
    });
    assert.equal(overridden.addr, "127.0.0.1:3000");
    assert.equal(overridden.log.level, "error");
    assert.equal(overridden.uploads.ttl, 2000, "a number is milliseconds in overrides");
    assert.equal(overridden.database, "postgres://db/strata");
    assert.equal(overridden.data, "/from/file");
  });

  test("the default database follows data from any layer", async () => {
    const config = await loadConfig({ file: null, env: { STRATA_DATA: "/env/data" } });
    assert.equal(config.database, "sqlite:/env/data/strata.db");
  });

  test("users and access rules come from YAML values in the environment", async () => {
    const config = await loadConfig({
      file: await yamlFile(`auth:\n  users:\n    alice: { password: "${hash}" }\n`),
      env: {
        STRATA_AUTH_USERS: `{bob: {password: "${hash}"}}`,
        STRATA_AUTH_ACCESS: '[{repositories: ["**"], users: ["bob"], actions: [pull]}]',
      },
    });
    assert.deepEqual(Object.keys(config.auth.users).sort(), ["alice", "bob"], "entries merge by user name");
    assert.deepEqual(config.auth.access, [{ repositories: ["**"], users: ["bob"], actions: ["pull"] }]);
  });

  test("STRATA_ variables that do not look like configuration are ignored", async () => {
    const config = await loadConfig({
      file: null,
      env: {
        STRATA_SERVER: "http://x",
        STRATA_TOKEN: "t",
        STRATA_ADDRESS: "x",
        strata_addr: "x",
        STRATA_DATA_DIR: "/var/lib/images",
        STRATA_CONFIG_DIR: "/etc/strata-cli",
      },
    });
    assert.equal(config.addr, "127.0.0.1:5000");
    assert.equal(config.data, DEFAULT_DATA);
  });
});

describe("loadConfig errors", () => {
  const cases: {
    name: string;
    yaml?: string;
    env?: Record<string, string>;
    overrides?: object;
    want: RegExp;
  }[] = [
    {
      name: "bad YAML names the file and the line",
      yaml: "addr: [\n  x: y\n",
      want: /^Invalid configuration ".*bad\.yaml": line 3, column 1: invalid YAML: /,
    },
    {
      name: "duplicate keys",
      yaml: "addr: a:1\naddr: b:2\n",
      want: /line 2, column 1: invalid YAML: Map keys must be unique/,
    },
    {
      name: "a list at the top level",
      yaml: "- addr\n",
      want: /: expected a mapping at the top level, got a list$/,
    },
    {
      name: "an unknown key",
      yaml: "log: { levle: debug }\n",
      want: /^Invalid configuration ".*bad\.yaml": line 1: log\.levle: unknown key; expected one of "level"$/,
    },
    {
      name: "an unknown section",
      yaml: "storage: {}\n",
      want: /storage: unknown key; expected one of "addr", "data"/,
    },
    {
      name: "a wrong type inside a user entry",
      yaml: "auth:\n  users:\n    alice: { password: 12 }\n",
      want: /^Invalid configuration ".*bad\.yaml": line 3: auth\.users\.alice\.password: expected a string, got a number$/,
    },
    {
      name: "a missing password",
      yaml: "auth:\n  users:\n    alice: {}\n",
      want: /auth\.users\.alice\.password: missing required key/,
    },
    {
      name: "a list where a mapping belongs",
      yaml: "auth:\n  users: [alice]\n",
      want: /auth\.users: expected a mapping, got a list/,
    },
    {
      name: "a bad enum",
      yaml: "log: { level: loud }\n",
      want: /log\.level: expected one of "fatal", .*"silent", got "loud"/,
    },
    {
      name: "a bad duration",
      yaml: "uploads: { ttl: 5 minutes }\n",
      want: /uploads\.ttl: expected a duration such as "90s", "5m", "24h" or "7d", got "5 minutes"/,
    },
    {
      name: "a duration without unit",
      yaml: "uploads: { ttl: 300 }\n",
      want: /uploads\.ttl: expected a duration .*, got 300/,
    },
    {
      name: "a too short duration",
      yaml: "uploads: { ttl: 10ms }\n",
      want: /uploads\.ttl: must be at least 1s, got "10ms"/,
    },
    {
      name: "a bad size",
      yaml: "limits: { manifestMaxBytes: 4 megs }\n",
      want: /limits\.manifestMaxBytes: expected a size such as "4MiB", "512KiB" or a number of bytes, got "4 megs"/,
    },
    {
      name: "a zero size",
      yaml: "limits: { manifestMaxBytes: 0 }\n",
      want: /limits\.manifestMaxBytes: must be at least 1 byte, got 0/,
    },
    {
      name: "a bad address",
      yaml: "addr: localhost\n",
      want: /addr: expected HOST:PORT or \[IPv6\]:PORT, got "localhost"/,
    },
    {
      name: "a bad database, not echoed",
      yaml: "database: mysql://root:hunter2@db\n",
      want: /^Invalid configuration ".*": line 1: database: expected "sqlite:PATH" or a "postgres:\/\/" URL$/,
    },
    {
      name: "a plaintext password, not echoed",
      yaml: "auth:\n  users:\n    alice: { password: hunter2 }\n",
      want: /^Invalid configuration ".*bad\.yaml": line 3: auth\.users\.alice\.password: expected a scrypt hash from `strata hash-password`, not a password$/,
    },
    {
      name: "a rule naming an unknown user",
      yaml: "auth:\n  access:\n    - { repositories: ['**'], users: [alcie], actions: [pull] }\n",
      want: /auth\.access\[0\]\.users\[0\]: unknown user "alcie"/,
    },
    {
      name: "a bad glob",
      yaml: "auth:\n  access:\n    - { repositories: ['Team/*'], users: ['*'], actions: [pull] }\n",
      want: /auth\.access\[0\]\.repositories\[0\]: use lowercase letters/,
    },
    {
      name: "a bad action",
      yaml: "auth:\n  access:\n    - { repositories: ['**'], users: ['*'], actions: [pull, write] }\n",
      want: /auth\.access\[0\]\.actions\[1\]: expected one of "pull", "push", "delete", got "write"/,
    },
    {
      name: "every problem is listed",
      yaml: "addr: 1\nlog: { level: 2 }\n",
      want: /line 1: addr: expected a string, got 1; line 2: log\.level: expected one of/,
    },
    {
      name: "an environment variable",
      env: { STRATA_UPLOADS_TTL: "soon" },
      want: /^Invalid configuration in environment: STRATA_UPLOADS_TTL: expected a duration .*, got "soon"$/,
    },
    {
      name: "a misspelt variable",
      env: { STRATA_LOG_LEVL: "debug" },
      want: /^Invalid configuration in environment: STRATA_LOG_LEVL: not a configuration variable; known: STRATA_LOG_LEVEL$/,
    },
    {
      name: "a section variable",
      env: { STRATA_AUTH_USERS_ALICE_PASSWORD: "x" },
      want: /STRATA_AUTH_USERS_ALICE_PASSWORD: not a configuration variable; set STRATA_AUTH_USERS to a YAML value instead/,
    },
    {
      name: "bad YAML in a variable",
      env: { STRATA_AUTH_USERS: "{alice: [" },
      want: /^Invalid configuration in environment: STRATA_AUTH_USERS: invalid YAML: /,
    },
    {
      name: "a wrong type in a variable's YAML",
      env: { STRATA_AUTH_USERS: "{alice: {password: 1}}" },
      want: /STRATA_AUTH_USERS \(auth\.users\.alice\.password\): expected a string, got a number/,
    },
    {
      name: "a cross-key problem from the environment",
      env: { STRATA_AUTH_ACCESS: "[{repositories: [a], users: [eve], actions: [pull]}]" },
      want: /^Invalid configuration in environment: STRATA_AUTH_ACCESS \(auth\.access\[0\]\.users\[0\]\): unknown user "eve"/,
    },
    {
      name: "admission webhooks without a certificate",
      yaml: "admission: { addr: 0.0.0.0:8443, key: w.key }\n",
      want: /^Invalid configuration ".*bad\.yaml": line 1: admission\.addr: set admission\.certificate too: Kubernetes calls admission webhooks over HTTPS only$/,
    },
    {
      name: "an admission certificate without an address",
      env: { STRATA_ADMISSION_CERTIFICATE: "w.crt", STRATA_ADMISSION_KEY: "w.key" },
      want: /^Invalid configuration in environment: STRATA_ADMISSION_CERTIFICATE: set admission\.addr too: the webhooks are served only on an address of their own; STRATA_ADMISSION_KEY: set admission\.addr too/,
    },
    {
      name: "an admission timeout over the API server's limit",
      yaml: "admission: { timeout: 45s }\n",
      want: /admission\.timeout: must be at most 30s, got "45s"/,
    },
    {
      name: "a certificate without its key",
      yaml: "tls: { certificate: tls.crt }\n",
      want: /^Invalid configuration ".*bad\.yaml": line 1: tls\.certificate: set tls\.key too: a certificate needs its private key$/,
    },
    {
      name: "a key without its certificate",
      yaml: "tls: { key: tls.key }\n",
      want: /tls\.key: set tls\.certificate too: a key alone serves nothing$/,
    },
    {
      name: "a client CA without TLS",
      env: { STRATA_TLS_CLIENTCA: "clients.crt" },
      want: /^Invalid configuration in environment: STRATA_TLS_CLIENTCA: needs tls\.certificate and tls\.key: client certificates are asked for only over TLS$/,
    },
    {
      name: "a bad boolean",
      env: { STRATA_TLS_ALLOWPLAINTEXT: "yes" },
      want: /^Invalid configuration in environment: STRATA_TLS_ALLOWPLAINTEXT: expected true or false, got "yes"$/,
    },
    {
      name: "an empty certificate path",
      yaml: 'tls: { certificate: "", key: k }\n',
      want: /tls\.certificate: expected a non-empty string, got ""/,
    },
    {
      name: "a too short reload interval",
      yaml: "tls: { reload: 10ms }\n",
      want: /tls\.reload: must be at least 100ms, got "10ms"/,
    },
    {
      name: "an override",
      overrides: { log: { level: "loud" } },
      want: /^Invalid configuration in overrides: log\.level: expected one of/,
    },
    {
      name: "an unknown override",
      overrides: { port: 5000 },
      want: /^Invalid configuration in overrides: port: unknown key/,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const file = c.yaml === undefined ? null : await yamlFile(c.yaml, "bad.yaml");
      const message = await loadError({
        file,
        ...(c.env === undefined ? {} : { env: c.env }),
        ...(c.overrides === undefined ? {} : { overrides: c.overrides as never }),
      });
      assert.match(message, c.want);
      assert.doesNotMatch(message, /hunter2/);
    });
  }

  test("a named file that does not exist", async () => {
    assert.equal(
      await loadError({ file: join(dir, "missing.yaml") }),
      `Cannot read configuration "${join(dir, "missing.yaml")}": file not found`,
    );
  });
});

describe("policies", () => {
  const policies = [
    "policy:",
    "  keys: { release: /etc/strata/release.pub }",
    "policies:",
    "  - name: production",
    "    mode: enforce",
    '    scope: { galleries: [prod], repositories: ["prod/**"] }',
    "    rules:",
    "      signedBy: [release]",
    "      maxAge: 30d",
    "      cel:",
    "        - name: source",
    "          expression: '\"org.opencontainers.image.source\" in image.labels'",
  ];
  test("reads policies and policy settings from the file and the environment", async () => {
    const config = await loadConfig({
      file: await yamlFile(policies.join("\n")),
      env: { STRATA_POLICY_TIMEOUT: "2s" },
    });
    assert.equal(config.policies.length, 1);
    assert.equal(config.policies[0]?.name, "production");
    assert.deepEqual(config.policies[0]?.rules.signedBy, ["release"]);
    assert.deepEqual(config.policy, { timeout: 2000, keys: { release: "/etc/strata/release.pub" } });
    const fromEnv = await loadConfig({
      file: null,
      env: { STRATA_POLICIES: "[{name: audit-all, rules: {sbom: true}}]" },
    });
    assert.deepEqual(fromEnv.policies, [{ name: "audit-all", rules: { sbom: true } }]);
  });

  const cases: [string, string[], RegExp][] = [
    [
      "an unknown rule",
      ["policies:", "  - name: p", "    rules:", "      sbom: true", "      signed: [release]"],
      /^Invalid configuration ".*policy\.yaml": line 5: policies\[0\]\.rules\.signed: unknown rule; expected one of "signedBy"/,
    ],
    [
      "a bad duration",
      policies.map((l) => l.replace("30d", "a month")),
      /: line 9: policies\[0\]\.rules\.maxAge: expected a duration such as "30d", "12h" or "2w", got "a month"$/,
    ],
    [
      "a bad mode",
      policies.map((l) => l.replace("enforce", "deny")),
      /: line 5: policies\[0\]\.mode: expected one of "audit", "warn", "enforce", got "deny"$/,
    ],
    [
      "a bad glob",
      policies.map((l) => l.replace("prod/**", "Prod/*")),
      /: line 6: policies\[0\]\.scope\.repositories\[0\]: use lowercase letters/,
    ],
    [
      "CEL that does not parse",
      policies.map((l) => l.replace('"org.opencontainers.image.source" in image.labels', "image.tag ==")),
      /: line 12: policies\[0\]\.rules\.cel\[0\]\.expression: policy "production" rule "source": expression "image\.tag ==" does not parse: /,
    ],
    [
      "CEL that does not type-check",
      policies.map((l) =>
        l.replace('"org.opencontainers.image.source" in image.labels', "image.ageDays > true"),
      ),
      /: line 12: policies\[0\]\.rules\.cel\[0\]\.expression: policy "production" rule "source": expression .* does not type-check: /,
    ],
    [
      "a key name that policy.keys lacks",
      policies.map((l) => l.replace("[release]", "[release, ops]")),
      /: line 8: policies\[0\]\.rules\.signedBy\[1\]: unknown key "ops": name a key of policy\.keys/,
    ],
    [
      "policies that are not a list",
      ["policies:", "  name: p"],
      /: line 2: policies: expected a list of policies, got a mapping$/,
    ],
  ];
  for (const [name, lines, want] of cases)
    test(`refuses ${name}, naming the file and the line`, async () => {
      const file = await yamlFile(lines.join("\n"), "policy.yaml");
      assert.match(await loadError({ file }), want);
    });

  test("a bad policy from the environment names the variable", async () => {
    assert.match(
      await loadError({ file: null, env: { STRATA_POLICIES: "[{name: p, rules: {maxAge: soon}}]" } }),
      /^Invalid configuration in environment: STRATA_POLICIES \(policies\[0\]\.rules\.maxAge\): expected a duration/,
    );
  });
});

test("docs/configuration.md names every key and environment variable", async () => {
  const doc = await readFile(new URL("../../docs/configuration.md", import.meta.url), "utf8");
  for (const variable of envVariables(CONFIG_SCHEMA)) {
    assert.ok(doc.includes(`\`${variable.name}\``), `docs/configuration.md lacks ${variable.name}`);
    assert.ok(
      doc.includes(`\`${variable.path.join(".")}\``),
      `docs/configuration.md lacks ${variable.path.join(".")}`,
    );
  }
});

describe("sites and costs", () => {
  test("reads sites with their cost model and refuses bad numbers naming the key", async () => {
    const config = await loadConfig({
      file: null,
      overrides: {
        site: { name: "here", cost: { storagePerGiBMonth: "0.02" } },
        sites: {
          eu: {
            url: "http://127.0.0.1:5001",
            kind: "strata",
            cost: { storagePerGiBMonth: 0.023, egressPerGiB: 0.09 },
          },
        },
        replication: { concurrency: "8" },
      },
    });
    assert.equal(config.site.cost.storagePerGiBMonth, 0.02);
    assert.deepEqual(config.sites["eu"], {
      url: "http://127.0.0.1:5001",
      kind: "strata",
      cost: { storagePerGiBMonth: 0.023, egressPerGiB: 0.09 },
    });
    assert.equal(config.replication.concurrency, 8);
    await assert.rejects(
      loadConfig({
        file: null,
        overrides: { sites: { eu: { url: "http://x", cost: { egressPerGiB: "cheap" } } } },
      }),
      /sites\.eu\.cost\.egressPerGiB: expected a number, got "cheap"/,
    );
    await assert.rejects(
      loadConfig({ file: null, overrides: { replication: { concurrency: 1.5 } } }),
      /replication\.concurrency: expected a whole number/,
    );
    await assert.rejects(
      loadConfig({ file: null, overrides: { site: { cost: { storagePerGiBMonth: -1 } } } }),
      /site\.cost\.storagePerGiBMonth: must be at least 0/,
    );
  });
});
